/* SPDX-License-Identifier: MIT */
/*
 * Guarded guest memory: every region in its own exact-size heap block, so
 * AddressSanitizer reports the first byte past a granted range; the map and
 * to_device callbacks check and log what the library asks for.
 */
#define _POSIX_C_SOURCE 200809L

#include "guarded_mem.h"

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
	m->to_device_calls = 0;
	m->fail_every = 0;
	m->to_device_failed = 0;
}

void fz_mem_free(struct fz_mem *m)
{
	for (unsigned i = 0; i < m->n; i++)
		fz_mem_remove(m, i);
	m->n = 0;
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
	r->host = NULL;
	r->shadow = NULL;
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

static int fz_map(void *ctx, uint64_t addr, uint64_t len, enum vio_map_dir dir,
		  struct vio_mapping *mp)
{
	struct fz_mem *m = ctx;

	/* The library maps only at init and while popping (mem.h, devq.h). */
	FZ_CHECK(m->map_allowed);
	/* mem.h: len ≥ 1 and [addr, addr + len) does not wrap. */
	FZ_CHECK(len >= 1);
	FZ_CHECK(addr + (len - 1) >= addr);
	FZ_CHECK(dir == VIO_MAP_READ || dir == VIO_MAP_WRITE || dir == VIO_MAP_RW);
	m->map_calls++;

	struct fz_region *r = fz_mem_find(m, addr, len);
	if (r == NULL || ((unsigned)dir & ~r->dirs) != 0)
		return -VIO_EMAP;
	unsigned char *p = r->host + (addr - r->addr);
	FZ_CHECK(p >= r->host && p + len <= r->host + r->len);
	if (m->ngrants < FZ_MAX_GRANTS) {
		struct fz_grant *g = &m->grants[m->ngrants++];
		g->ptr = p;
		g->len = len;
		g->dir = (unsigned)dir;
		g->region = (unsigned)(r - m->r);
	} else {
		m->grants_overflow = true;
	}
	mp->host = p;
	mp->len = len;
	mp->release = false;
	return 0;
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

const struct vio_mem_ops fz_dev_ops = {fz_map, NULL, NULL};
const struct vio_dma_ops fz_drv_ops = {fz_to_device, NULL};
