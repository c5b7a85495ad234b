/* SPDX-License-Identifier: MIT */
/*
 * Guarded guest memory: every region in its own exact-size heap block, so
 * AddressSanitizer reports the first byte past a granted range; the map and
 * to_device callbacks check and log what the library asks for.
 */
#define _POSIX_C_SOURCE 200809L

#include "guarded_mem.h"

#include "input_format.h"
#include "invariants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fz_mem_init(struct fz_mem *m)
{
	m->n = 0;
	m->map_allowed = false;
	m->ngrants = 0;
	m->grants_overflow = false;
	m->map_calls = 0;
	m->track = false;
	m->map_flags = 0;
	m->rng = 1;
	m->no_again = false;
	m->ring_phase = false;
	m->marks = false;
	m->agains = 0;
	m->nmaps = 0;
	m->live = 0;
	m->releases = 0;
	m->to_device_calls = 0;
	m->nconvs = 0;
	m->conv_live = 0;
	m->conv_released = 0;
	m->conv_tag = 0;
	m->fail_every = 0;
	m->to_device_failed = 0;
}

void fz_mem_free(struct fz_mem *m)
{
	for (unsigned i = 0; i < m->n; i++)
		fz_mem_remove(m, i);
	m->n = 0;
	/* Bounce copies still live (only after a failed check). */
	for (unsigned i = 0; i < m->nmaps; i++) {
		if (m->maps[i].live && m->maps[i].orig != NULL) {
			free(m->maps[i].host);
			free(m->maps[i].orig);
		}
	}
	m->nmaps = 0;
	m->live = 0;
}

static void *alloc_exact(size_t len)
{
	void *p = NULL;
	/* 16-byte aligned (ring parts need it) but exactly @len bytes long. */
	if (posix_memalign(&p, 16, len) != 0)
		abort();
	return p;
}

unsigned fz_mem_add(struct fz_mem *m, uint64_t addr, size_t len, unsigned dirs, bool shadow)
{
	unsigned i;
	for (i = 0; i < m->n; i++)
		if (m->r[i].host == NULL)
			break;
	if (i == m->n) {
		FZ_CHECK(m->n < FZ_MAX_REGIONS);
		m->n++;
	}
	FZ_CHECK(len >= 1);
	struct fz_region *r = &m->r[i];
	r->addr = addr;
	r->len = len;
	r->host = alloc_exact(len);
	memset(r->host, 0, len);
	r->shadow = NULL;
	if (shadow) {
		r->shadow = malloc(len);
		FZ_CHECK(r->shadow != NULL);
		memset(r->shadow, 0, len);
	}
	r->dirs = dirs;
	r->table_stride = 0;
	r->any_len = false;
	r->ring = false;
	r->logged = NULL;
	r->devw = NULL;
	if (shadow && m->track) {
		r->logged = calloc(1, len);
		r->devw = calloc(1, len);
		FZ_CHECK(r->logged != NULL && r->devw != NULL);
	}
	return i;
}

unsigned fz_mem_add_slot(struct fz_mem *m, size_t off, size_t len, unsigned dirs, bool shadow)
{
	unsigned i;
	for (i = 0; i < m->n; i++)
		if (m->r[i].host == NULL)
			break;
	FZ_CHECK(off < FZ_REGION_MAX_OFF);
	unsigned got = fz_mem_add(m, FZ_REGION_BASE(i) + off, len, dirs, shadow);
	FZ_CHECK(got == i);
	return got;
}

void fz_mem_remove(struct fz_mem *m, unsigned idx)
{
	struct fz_region *r = &m->r[idx];
	free(r->host);
	free(r->shadow);
	free(r->logged);
	free(r->devw);
	r->host = NULL;
	r->shadow = NULL;
	r->logged = NULL;
	r->devw = NULL;
	r->len = 0;
	while (m->n > 0 && m->r[m->n - 1].host == NULL)
		m->n--;
}

void fz_mem_fill(struct fz_mem *m, unsigned idx, struct fz_in *in)
{
	struct fz_region *r = &m->r[idx];
	fz_bytes(in, r->host, r->len);
	if (r->shadow != NULL)
		memcpy(r->shadow, r->host, r->len);
}

static bool contains(const struct fz_region *r, uint64_t addr, size_t len)
{
	return r->host != NULL && addr >= r->addr && len <= r->len &&
	       addr - r->addr <= r->len - len;
}

struct fz_region *fz_mem_find(struct fz_mem *m, uint64_t addr, size_t len)
{
	uint64_t w = addr >> FZ_REGION_SHIFT;
	if (w >= 1 && w - 1 < m->n && contains(&m->r[w - 1], addr, len))
		return &m->r[w - 1];
	for (unsigned i = 0; i < m->n; i++)
		if (contains(&m->r[i], addr, len))
			return &m->r[i];
	return NULL;
}

struct fz_region *fz_mem_find_host(struct fz_mem *m, const void *p)
{
	const unsigned char *h = p;
	for (unsigned i = 0; i < m->n; i++) {
		struct fz_region *r = &m->r[i];
		if (r->host != NULL && h >= r->host && h < r->host + r->len)
			return r;
	}
	return NULL;
}

unsigned char *fz_mem_host(struct fz_mem *m, uint64_t addr, size_t len)
{
	struct fz_region *r = fz_mem_find(m, addr, len);
	return r != NULL ? r->host + (addr - r->addr) : NULL;
}

bool fz_mem_poke(struct fz_mem *m, uint64_t addr, const void *src, size_t len)
{
	struct fz_region *r = fz_mem_find(m, addr, len);
	if (r == NULL)
		return false;
	size_t off = (size_t)(addr - r->addr);
	memcpy(r->host + off, src, len);
	if (r->shadow != NULL)
		memcpy(r->shadow + off, src, len);
	return true;
}

void fz_mem_poke_host(struct fz_mem *m, unsigned char *p, unsigned char v)
{
	*p = v;
	struct fz_region *r = fz_mem_find_host(m, p);
	FZ_CHECK(r != NULL);
	if (r->shadow != NULL)
		r->shadow[p - r->host] = v;
}

void fz_mem_resync(struct fz_mem *m, unsigned idx)
{
	struct fz_region *r = &m->r[idx];
	if (r->shadow != NULL)
		memcpy(r->shadow, r->host, r->len);
}

static void check_region(const struct fz_region *r, const struct fz_range *excl, unsigned nexcl)
{
	size_t pos = 0;
	while (pos < r->len) {
		uint64_t a = r->addr + pos;
		uint64_t next = r->addr + r->len; /* end of the piece to compare */
		bool skip = false;
		for (unsigned k = 0; k < nexcl; k++) {
			uint64_t s = excl[k].addr, e = excl[k].addr + excl[k].len;
			if (excl[k].len == 0 || e < s)
				continue;
			if (a >= s && a < e) {
				skip = true;
				next = e;
				break;
			}
			if (s > a && s < next)
				next = s;
		}
		size_t end = next - r->addr < r->len ? (size_t)(next - r->addr) : r->len;
		if (!skip && memcmp(r->host + pos, r->shadow + pos, end - pos) != 0) {
			size_t i = pos;
			while (r->host[i] == r->shadow[i])
				i++;
			fprintf(stderr, "byte at device address 0x%llx changed: 0x%02x -> 0x%02x\n",
				(unsigned long long)(r->addr + i), r->shadow[i], r->host[i]);
			fz_fail("the library wrote driver memory outside the areas it owns",
				__FILE__, __LINE__);
		}
		pos = end;
	}
}

void fz_mem_check_unchanged(const struct fz_mem *m, const struct fz_range *excl, unsigned nexcl,
			    unsigned only)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct fz_region *r = &m->r[i];
		if (r->host == NULL || r->shadow == NULL || (only != ~0u && only != i))
			continue;
		check_region(r, excl, nexcl);
	}
}

void fz_mem_grants_begin(struct fz_mem *m)
{
	m->map_allowed = true;
	m->ngrants = 0;
	m->grants_overflow = false;
}

void fz_mem_grants_end(struct fz_mem *m)
{
	m->map_allowed = false;
}

uint32_t fz_mem_rand(struct fz_mem *m)
{
	uint32_t x = m->rng != 0 ? m->rng : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return m->rng = x;
}

/* Room for one more tracked mapping: forget released ones when full. */
static bool maps_room(struct fz_mem *m)
{
	if (m->nmaps < FZ_MAX_MAPS)
		return true;
	unsigned k = 0;
	for (unsigned i = 0; i < m->nmaps; i++)
		if (m->maps[i].live)
			m->maps[k++] = m->maps[i];
	m->nmaps = k;
	return m->nmaps < FZ_MAX_MAPS;
}

static int fz_map(void *ctx, uint64_t addr, uint64_t len, enum vio_map_dir dir,
		  struct vio_mapping *mp)
{
	struct fz_mem *m = ctx;

	/* The library maps only at init, set_mem_table and while popping
	 * (mem.h, devq.h). */
	FZ_CHECK(m->map_allowed);
	/* mem.h: len ≥ 1 and [addr, addr + len) does not wrap. */
	FZ_CHECK(len >= 1);
	FZ_CHECK(addr + (len - 1) >= addr);
	FZ_CHECK(dir == VIO_MAP_READ || dir == VIO_MAP_WRITE || dir == VIO_MAP_RW);
	m->map_calls++;

	if ((m->map_flags & FZ_MM_AGAIN) && !m->no_again && fz_mem_rand(m) % 4u == 0) {
		m->agains++;
		return -VIO_EMAP_AGAIN;
	}
	/* The region holding the first byte grants up to its end; the
	 * library asks again for the rest (an adjacent region, or nothing). */
	struct fz_region *r = fz_mem_find(m, addr, 1);
	if (r == NULL || ((unsigned)dir & ~r->dirs) != 0)
		return -VIO_EMAP;
	uint64_t room = r->len - (addr - r->addr);
	uint64_t n = len < room ? len : room;
	bool ring = r->ring || m->ring_phase;
	if ((m->map_flags & FZ_MM_PARTIAL) && !ring && n > 1 && (fz_mem_rand(m) & 1u))
		n = 1u + fz_mem_rand(m) % n;
	unsigned char *real = r->host + (addr - r->addr);
	FZ_CHECK(real >= r->host && real + n <= r->host + r->len);
	bool release = (m->map_flags & (FZ_MM_RELEASE | FZ_MM_BOUNCE)) != 0 &&
		       (fz_mem_rand(m) % 4u) != 0 && maps_room(m);
	bool bounce = release && (m->map_flags & FZ_MM_BOUNCE) && !ring;
	unsigned char *host = real;
	if (bounce) {
		/* A private copy of exactly n bytes: ASan sees any access past
		 * it, and any use after its release. */
		host = alloc_exact((size_t)n);
		memcpy(host, real, (size_t)n);
	}
	if (release) {
		struct fz_map *k = &m->maps[m->nmaps++];
		k->host = host;
		k->real = real;
		k->orig = NULL;
		if (bounce) {
			k->orig = malloc((size_t)n);
			FZ_CHECK(k->orig != NULL);
			memcpy(k->orig, real, (size_t)n);
		}
		k->addr = addr;
		k->len = n;
		k->dir = (unsigned)dir;
		k->live = true;
		m->live++;
	}
	if (m->ngrants < FZ_MAX_GRANTS) {
		struct fz_grant *g = &m->grants[m->ngrants++];
		g->ptr = host;
		g->len = (size_t)n;
		g->addr = addr;
		g->dir = (unsigned)dir;
		g->region = (unsigned)(r - m->r);
		g->release = release;
	} else {
		m->grants_overflow = true;
	}
	mp->host = host;
	mp->len = n;
	mp->release = release;
	return 0;
}

struct fz_map *fz_mem_find_map(struct fz_mem *m, const void *host, uint64_t addr, uint64_t len,
			       unsigned dir)
{
	for (unsigned i = m->nmaps; i-- > 0;) {
		struct fz_map *k = &m->maps[i];
		if (k->live && k->host == host && k->addr == addr && k->len == len && k->dir == dir)
			return k;
	}
	return NULL;
}

static void fz_release(void *ctx, void *host, uint64_t addr, uint64_t len, enum vio_map_dir dir)
{
	struct fz_mem *m = ctx;
	/* mem.h: exactly once per mapping, with its host, address, length
	 * and direction. */
	struct fz_map *k = fz_mem_find_map(m, host, addr, len, (unsigned)dir);
	if (k == NULL) {
		fprintf(stderr, "release(%p, 0x%llx, %llu, %u)\n", host, (unsigned long long)addr,
			(unsigned long long)len, (unsigned)dir);
		fz_fail("release of a mapping that is not live (unknown, released twice, or "
			"wrong arguments)",
			__FILE__, __LINE__);
	}
	k->live = false;
	m->live--;
	m->releases++;
	if (k->orig != NULL) {
		/* Copy back what the device wrote into the bounce copy. */
		if (k->dir & VIO_MAP_WRITE)
			for (uint64_t i = 0; i < k->len; i++)
				if (k->host[i] != k->orig[i])
					k->real[i] = k->host[i];
		free(k->host);
		free(k->orig);
		k->orig = NULL;
	}
}

static void fz_log(void *ctx, uint64_t addr, uint64_t len)
{
	struct fz_mem *m = ctx;
	FZ_CHECK(len >= 1);
	FZ_CHECK(addr + (len - 1) >= addr);
	/* Logged ranges lie in guest memory the device may write (adjacent
	 * regions in a row). */
	while (len != 0) {
		struct fz_region *r = fz_mem_find(m, addr, 1);
		if (r == NULL || !(r->dirs & VIO_MAP_WRITE)) {
			fprintf(stderr, "log_write at 0x%llx\n", (unsigned long long)addr);
			fz_fail("log_write outside writable guest memory", __FILE__, __LINE__);
		}
		uint64_t off = addr - r->addr, n = r->len - off;
		if (n > len)
			n = len;
		if (r->logged != NULL)
			memset(r->logged + off, 1, (size_t)n);
		m->marks = true;
		addr += n;
		len -= n;
	}
}

void fz_mem_mark_devw(struct fz_mem *m, uint64_t addr, uint64_t len)
{
	while (len != 0) {
		struct fz_region *r = fz_mem_find(m, addr, 1);
		FZ_CHECK(r != NULL);
		uint64_t off = addr - r->addr, n = r->len - off;
		if (n > len)
			n = len;
		if (r->devw != NULL)
			memset(r->devw + off, 1, (size_t)n);
		m->marks = true;
		addr += n;
		len -= n;
	}
}

static bool in_ranges(uint64_t a, const struct fz_range *excl, unsigned nexcl)
{
	for (unsigned k = 0; k < nexcl; k++)
		if (a - excl[k].addr < excl[k].len)
			return true;
	return false;
}

void fz_mem_check_dev_writes(struct fz_mem *m, const struct fz_range *excl, unsigned nexcl,
			     bool logging)
{
	for (unsigned i = 0; i < m->n; i++) {
		struct fz_region *r = &m->r[i];
		if (r->host == NULL || r->shadow == NULL)
			continue;
		size_t pos = 0;
		while (pos < r->len) {
			size_t n = r->len - pos < 256 ? r->len - pos : 256;
			if (memcmp(r->host + pos, r->shadow + pos, n) == 0) {
				pos += n;
				continue;
			}
			for (size_t b = pos; b < pos + n; b++) {
				if (r->host[b] == r->shadow[b])
					continue;
				uint64_t a = r->addr + b;
				bool own = in_ranges(a, excl, nexcl) ||
					   (r->devw != NULL && r->devw[b]);
				bool logged = !logging || (r->logged != NULL && r->logged[b]);
				if (!own || !logged)
					fprintf(stderr,
						"byte at device address 0x%llx changed: 0x%02x -> "
						"0x%02x\n",
						(unsigned long long)a, r->shadow[b], r->host[b]);
				if (!own)
					fz_fail("the library wrote driver memory outside the "
						"areas it owns",
						__FILE__, __LINE__);
				if (!logged)
					fz_fail("the device changed guest memory without "
						"log_write",
						__FILE__, __LINE__);
				r->shadow[b] = r->host[b];
			}
			pos += n;
		}
	}
	/* Marks are consumed once nothing can still change guest memory
	 * later: a bounce copy written (and logged) now is copied back at its
	 * release, and overlapping buffers may take it more than once. */
	bool bounces = false;
	for (unsigned i = 0; i < m->nmaps && !bounces; i++)
		bounces = m->maps[i].live && m->maps[i].orig != NULL;
	if (m->marks && !bounces) {
		for (unsigned i = 0; i < m->n; i++) {
			struct fz_region *r = &m->r[i];
			if (r->host == NULL || r->logged == NULL)
				continue;
			memset(r->logged, 0, r->len);
			memset(r->devw, 0, r->len);
		}
		m->marks = false;
	}
}

static int fz_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			uint64_t *addr)
{
	struct fz_mem *m = ctx;
	(void)dir;
	m->to_device_calls++;
	if (m->fail_every != 0 && m->to_device_calls % m->fail_every == 0) {
		m->to_device_failed++;
		return FZ_INJECTED_ERR;
	}
	struct fz_region *r = fz_mem_find_host(m, ptr);
	/* The driver names only memory the harness gave it. */
	FZ_CHECK(r != NULL);
	size_t off = (size_t)((const unsigned char *)ptr - r->host);
	if (!r->any_len)
		FZ_CHECK(len <= r->len - off);
	if (r->table_stride != 0) {
		/* An indirect table: the start of one table, no longer than it. */
		FZ_CHECK(off % r->table_stride == 0);
		FZ_CHECK(len <= r->table_stride);
	}
	*addr = r->addr + off;
	return 0;
}

/* Driver side with a release hook: every conversion is recorded and must be
 * released exactly once with its original arguments (dma.h). */
static int fz_to_device_rel(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			    uint64_t *addr)
{
	struct fz_mem *m = ctx;
	int rc = fz_to_device(ctx, ptr, len, dir, addr);
	if (rc != 0)
		return rc;
	FZ_CHECK(dir == VIO_DMA_TO_DEVICE || dir == VIO_DMA_FROM_DEVICE ||
		 dir == VIO_DMA_BIDIRECTIONAL);
	if (m->nconvs == FZ_MAX_CONVS) {
		unsigned k = 0;
		for (unsigned i = 0; i < m->nconvs; i++)
			if (m->convs[i].live)
				m->convs[k++] = m->convs[i];
		m->nconvs = k;
		FZ_CHECK(m->nconvs < FZ_MAX_CONVS);
	}
	struct fz_conv *c = &m->convs[m->nconvs++];
	c->ptr = ptr;
	c->len = len;
	c->dir = (unsigned)dir;
	c->addr = *addr;
	c->tag = m->conv_tag;
	c->live = true;
	m->conv_live++;
	return 0;
}

static void fz_dma_release(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			   uint64_t addr)
{
	struct fz_mem *m = ctx;
	for (unsigned i = m->nconvs; i-- > 0;) {
		struct fz_conv *c = &m->convs[i];
		if (c->live && c->ptr == ptr && c->len == len && c->dir == (unsigned)dir &&
		    c->addr == addr) {
			c->live = false;
			m->conv_live--;
			m->conv_released++;
			return;
		}
	}
	fprintf(stderr, "dma release(%p, %zu, %u, 0x%llx)\n", ptr, len, (unsigned)dir,
		(unsigned long long)addr);
	fz_fail("release of a conversion that is not live (unknown, released twice, or wrong "
		"arguments)",
		__FILE__, __LINE__);
}

unsigned fz_mem_conv_live(const struct fz_mem *m, unsigned tag)
{
	unsigned n = 0;
	for (unsigned i = 0; i < m->nconvs; i++)
		n += m->convs[i].live && m->convs[i].tag == tag;
	return n;
}

void fz_mem_conv_forget(struct fz_mem *m, unsigned tag)
{
	for (unsigned i = 0; i < m->nconvs; i++) {
		if (m->convs[i].live && m->convs[i].tag == tag) {
			m->convs[i].live = false;
			m->conv_live--;
		}
	}
}

const struct vio_mem_ops fz_dev_ops = {fz_map, fz_release, fz_log};
const struct vio_mem_ops fz_dev_ops_nomap = {NULL, fz_release, fz_log};
const struct vio_mem_ops fz_dev_ops_nolog = {fz_map, fz_release, NULL};
const struct vio_dma_ops fz_drv_ops = {fz_to_device, NULL};
const struct vio_dma_ops fz_drv_ops_rel = {fz_to_device_rel, fz_dma_release};
