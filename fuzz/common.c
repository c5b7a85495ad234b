/* SPDX-License-Identifier: MIT */
/*
 * Shared harness helpers: input reader, guarded guest memory (every region
 * in its own exact-size heap block, so AddressSanitizer reports the first
 * byte past a granted range), and the invariant checks on popped chains.
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void fz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", what, file, line);
	fflush(stderr);
	abort();
}

bool fz_trace(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("FZ_TRACE") != NULL;
	return on != 0;
}

/* ------------------------------------------------------------------------ */
/* Input reader                                                              */
/* ------------------------------------------------------------------------ */

void fz_in_init(struct fz_in *in, const uint8_t *p, size_t n)
{
	in->p = p;
	in->n = n;
	in->off = 0;
}

bool fz_in_done(const struct fz_in *in)
{
	return in->off >= in->n;
}

uint8_t fz_u8(struct fz_in *in)
{
	if (in->off >= in->n)
		return 0;
	return in->p[in->off++];
}

uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);
	return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);
	return lo | (uint32_t)fz_u16(in) << 16;
}

uint64_t fz_u64(struct fz_in *in)
{
	uint64_t lo = fz_u32(in);
	return lo | (uint64_t)fz_u32(in) << 32;
}

void fz_bytes(struct fz_in *in, void *dst, size_t len)
{
	size_t avail = in->off < in->n ? in->n - in->off : 0;
	size_t k = len < avail ? len : avail;
	if (k != 0)
		memcpy(dst, in->p + in->off, k);
	if (k < len)
		memset((unsigned char *)dst + k, 0, len - k);
	in->off += k;
}

/* ------------------------------------------------------------------------ */
/* Guarded guest memory                                                      */
/* ------------------------------------------------------------------------ */

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

static void *fz_map(void *ctx, uint64_t addr, size_t len, enum vio_map_dir dir)
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
		return NULL;
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
	return p;
}

static int fz_to_device(void *ctx, const void *ptr, size_t len, uint64_t *addr)
{
	struct fz_mem *m = ctx;
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

const struct vio_dev_mem_ops fz_dev_ops = {fz_map};
const struct vio_drv_mem_ops fz_drv_ops = {fz_to_device};

/* ------------------------------------------------------------------------ */
/* Device-half invariants                                                    */
/* ------------------------------------------------------------------------ */

void fz_check_chain(struct fz_mem *m, const struct vio_chain *c, const struct vio_seg *segs,
		    uint16_t max_segs, uint16_t qsize)
{
	FZ_CHECK(c->nseg <= max_segs);
	FZ_CHECK(c->nseg <= qsize);
	FZ_CHECK(c->nout <= c->nseg);
	FZ_CHECK(c->ndesc >= 1 && c->ndesc <= qsize);
	FZ_CHECK(c->id < qsize);

	uint64_t out = 0, in = 0;
	unsigned g = 0;
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct vio_seg *s = &segs[i];
		FZ_CHECK(s->write == (i >= c->nout));
		if (s->write)
			in += s->len;
		else
			out += s->len;
		if (s->len == 0) {
			FZ_CHECK(s->ptr == NULL);
			continue;
		}
		FZ_CHECK(s->ptr != NULL);
		unsigned want = s->write ? VIO_MAP_WRITE : VIO_MAP_READ;
		if (!m->grants_overflow) {
			/* Segments are mapped in order; an indirect table's grant
			 * may sit between them. */
			while (g < m->ngrants &&
			       !(m->grants[g].ptr == s->ptr && m->grants[g].len == s->len &&
				 m->grants[g].dir == want))
				g++;
			FZ_CHECK(g < m->ngrants);
			const struct fz_region *r = &m->r[m->grants[g].region];
			FZ_CHECK(r->host != NULL && (r->dirs & want) != 0);
			FZ_CHECK((const unsigned char *)s->ptr >= r->host &&
				 (const unsigned char *)s->ptr + s->len <= r->host + r->len);
			g++;
		}
		/* Touch both ends: ASan checks them against the allocation. A
		 * writable byte is written back unchanged (no shadow update). */
		volatile unsigned char *p = s->ptr;
		unsigned char a = p[0], b = p[s->len - 1];
		if (s->write) {
			p[0] = a;
			p[s->len - 1] = b;
		}
	}
	FZ_CHECK(out == c->out_bytes);
	FZ_CHECK(in == c->in_bytes);
	FZ_CHECK(out + in <= UINT32_MAX);
}

bool fz_pop_rc_ok(int rc)
{
	if (rc == 0 || rc == -VIO_EAGAIN || rc == -VIO_ENOSPC || rc == -VIO_EBROKEN)
		return true;
	return rc <= -VIO_EDESC_HEAD && rc >= -VIO_EDESC_INFLIGHT;
}

bool fz_get_rc_ok(int rc)
{
	if (rc == 0 || rc == -VIO_EAGAIN || rc == -VIO_EBROKEN)
		return true;
	return rc <= -VIO_EUSED_ID && rc >= -VIO_EUSED_JUMP;
}

void fz_packed_advance(uint16_t *slot, bool *wrap, unsigned n, uint16_t size)
{
	uint32_t s = (uint32_t)*slot + n;
	while (s >= size) {
		s -= size;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

/* ------------------------------------------------------------------------ */
/* Device-half harness engine                                                */
/* ------------------------------------------------------------------------ */

unsigned char *fz_devq_host(struct fz_devq *d, uint64_t addr, size_t len)
{
	return fz_mem_host(d->m, addr, len);
}

bool fz_devq_poke(struct fz_devq *d, uint64_t addr, const void *src, size_t len)
{
	d->avail_hint = -1;
	return fz_mem_poke(d->m, addr, src, len);
}

uint64_t fz_devq_pick_addr(struct fz_devq *d, uint8_t region, uint16_t off)
{
	const struct fz_region *r = &d->m->r[region % d->m->n];
	return r->addr + (off % (r->len + 17u)); /* now and then a little past the end */
}

static void devq_state(const struct fz_devq *d, struct vio_ring_state *st)
{
	vio_devq_get_state(d->q, st);
}

static bool state_eq(const struct vio_ring_state *a, const struct vio_ring_state *b)
{
	return a->avail_idx == b->avail_idx && a->used_idx == b->used_idx &&
	       a->avail_wrap == b->avail_wrap && a->used_wrap == b->used_wrap;
}

/* Record a return code: peer errors latch the queue (and only a healthy
 * queue can report one). */
static void devq_latch(struct fz_devq *d, int rc)
{
	if (rc < 0 && vio_err_is_peer(rc)) {
		FZ_CHECK(d->reason == 0);
		d->reason = rc;
	}
}

static void devq_check_broken(const struct fz_devq *d)
{
	FZ_CHECK(vio_devq_is_broken(d->q) == (d->reason != 0));
	FZ_CHECK(vio_devq_broken_reason(d->q) == d->reason);
	FZ_CHECK(vio_devq_size(d->q) == d->size);
}

static void devq_after_reset(struct fz_devq *d)
{
	d->reason = 0;
	d->nheld = 0;
	d->avail_hint = -1;
}

static void devq_check_reset_state(const struct fz_devq *d)
{
	struct vio_ring_state st;
	devq_state(d, &st);
	bool packed = d->f->format == VIO_RING_PACKED;
	FZ_CHECK(st.avail_idx == 0 && st.used_idx == 0);
	FZ_CHECK(st.avail_wrap == packed && st.used_wrap == packed);
}

/* Keeps pop order (in-order batches take the oldest chains). */
static void devq_remove_held(struct fz_devq *d, unsigned i)
{
	memmove(&d->held[i], &d->held[i + 1], (d->nheld - i - 1) * sizeof(d->held[0]));
	d->nheld--;
}

static void devq_pop(struct fz_devq *d, struct fz_in *in)
{
	uint8_t sel = fz_u8(in);
	uint16_t max = (sel & 0x80) ? (uint16_t)(sel & 0x7f) : d->size;
	/* Exactly max entries: a write past them is an ASan report. */
	struct vio_seg *segs = malloc(max != 0 ? max * sizeof(*segs) : 1);
	FZ_CHECK(segs != NULL);
	struct vio_chain c;
	struct vio_ring_state before, after;
	devq_state(d, &before);
	unsigned long calls = d->m->map_calls;

	fz_mem_grants_begin(d->m);
	int rc = vio_devq_pop(d->q, &c, segs, max);
	fz_mem_grants_end(d->m);
	devq_state(d, &after);
	if (fz_trace())
		fprintf(stderr, "  pop max %u -> rc %d nseg %u ndesc %u id %u\n", max, rc,
			rc == 0 ? c.nseg : 0, rc == 0 ? c.ndesc : 0, rc == 0 ? c.id : 0);

	FZ_CHECK(fz_pop_rc_ok(rc));
	if (d->reason != 0)
		FZ_CHECK(rc == -VIO_EBROKEN);
	else
		FZ_CHECK(rc != -VIO_EBROKEN);
	if (d->reason == 0 && d->avail_hint >= 0)
		FZ_CHECK((rc == -VIO_EAGAIN) == (d->avail_hint == 0));
	if (rc == -VIO_EAGAIN || rc == -VIO_EBROKEN)
		FZ_CHECK(d->m->map_calls == calls);
	/* devq.h: "the queue size always suffices". */
	if (rc == -VIO_ENOSPC)
		FZ_CHECK(max < d->size);

	if (rc == 0) {
		fz_check_chain(d->m, &c, segs, max, d->size);
		if (d->f->format == VIO_RING_SPLIT) {
			FZ_CHECK(after.avail_idx == (uint16_t)(before.avail_idx + 1u));
		} else {
			uint16_t slot = before.avail_idx;
			bool wrap = before.avail_wrap;
			fz_packed_advance(&slot, &wrap, c.ndesc, d->size);
			FZ_CHECK(after.avail_idx == slot && after.avail_wrap == wrap);
			/* A packed buffer id is never handed out twice at once. */
			for (unsigned i = 0; i < d->nheld; i++)
				FZ_CHECK(d->held[i].id != c.id);
		}
		FZ_CHECK(after.used_idx == before.used_idx && after.used_wrap == before.used_wrap);
		if (d->nheld < FZ_MAX_ACTIONS)
			d->held[d->nheld++] = c;
	} else {
		/* Nothing consumed on any failure. */
		FZ_CHECK(state_eq(&before, &after));
		devq_latch(d, rc);
	}
	free(segs);
	d->avail_hint = -1;
}

static uint32_t written_len(struct fz_in *in, uint8_t mode, uint32_t in_bytes)
{
	switch (mode & 3) {
	case 0:
		return 0;
	case 1:
		return in_bytes;
	case 2:
		return in_bytes / 2;
	default:
		return fz_u32(in);
	}
}

static void check_used_advance(const struct fz_devq *d, const struct vio_ring_state *before,
			       unsigned n, unsigned slots)
{
	struct vio_ring_state after;
	devq_state(d, &after);
	FZ_CHECK(after.avail_idx == before->avail_idx && after.avail_wrap == before->avail_wrap);
	if (d->f->format == VIO_RING_SPLIT) {
		FZ_CHECK(after.used_idx == (uint16_t)(before->used_idx + n));
	} else {
		uint16_t slot = before->used_idx;
		bool wrap = before->used_wrap;
		fz_packed_advance(&slot, &wrap, slots, d->size);
		FZ_CHECK(after.used_idx == slot && after.used_wrap == wrap);
	}
}

static void devq_push(struct fz_devq *d, struct fz_in *in)
{
	uint8_t which = fz_u8(in), mode = fz_u8(in);
	struct vio_ring_state before;
	devq_state(d, &before);

	if (mode & 0x80) {
		/* A chain that was never popped: only the slot check applies. */
		struct vio_chain c = {0};
		c.id = fz_u16(in);
		c.ndesc = fz_u16(in);
		uint32_t w = fz_u32(in);
		int rc = vio_devq_push(d->q, &c, w);
		bool bad = c.id >= d->size;
		if (d->f->format == VIO_RING_PACKED)
			bad = bad || c.ndesc == 0 || c.ndesc > d->size;
		if (d->reason != 0)
			FZ_CHECK(rc == -VIO_EBROKEN);
		else
			FZ_CHECK(rc == (bad ? -VIO_EINVAL : 0));
		if (rc == 0) {
			check_used_advance(d, &before, 1, c.ndesc);
			for (unsigned i = 0; i < d->nheld; i++)
				if (d->held[i].id == c.id) {
					devq_remove_held(d, i);
					break;
				}
		}
		return;
	}
	if (d->nheld == 0)
		return;
	unsigned i = which % d->nheld;
	struct vio_chain c = d->held[i];
	uint32_t w = written_len(in, mode, c.in_bytes);
	int rc = vio_devq_push(d->q, &c, w);
	if (d->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		return;
	}
	FZ_CHECK(rc == 0);
	check_used_advance(d, &before, 1, c.ndesc);
	devq_remove_held(d, i);
}

static void devq_push_batch(struct fz_devq *d, struct fz_in *in)
{
	unsigned n = 1u + fz_u8(in) % 8u;
	uint8_t mode = fz_u8(in);
	bool in_order = (mode & 0x40) != 0;
	struct vio_used used[8];
	unsigned pick[8];
	bool taken[FZ_MAX_ACTIONS] = {false};
	unsigned k = 0, slots = 0;
	struct vio_ring_state before;
	devq_state(d, &before);

	for (unsigned j = 0; j < n; j++) {
		uint8_t which = fz_u8(in);
		if (k >= d->nheld)
			continue;
		unsigned i = 0;
		if (in_order) {
			i = k; /* the oldest chains, in pop order */
		} else {
			/* The (which % free)-th chain not taken yet. */
			unsigned want = which % (d->nheld - k);
			for (;; i++) {
				if (taken[i])
					continue;
				if (want-- == 0)
					break;
			}
		}
		taken[i] = true;
		pick[k] = i;
		used[k].id = d->held[i].id;
		used[k].ndesc = d->held[i].ndesc;
		used[k].len = written_len(in, mode, d->held[i].in_bytes);
		slots += used[k].ndesc;
		k++;
	}
	int rc = in_order ? vio_devq_push_in_order(d->q, used, k)
			  : vio_devq_push_batch(d->q, used, k);
	bool can = !in_order || (d->feat & FZ_FEAT_IN_ORDER);
	if (!can) {
		FZ_CHECK(rc == -VIO_EINVAL);
		return;
	}
	if (d->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		return;
	}
	/* A hostile driver can make the device hold more chains than the ring
	 * has entries (split: the same head twice; packed: ids covering more
	 * than a lap); such a batch does not fit in one go. */
	bool fits = d->f->format == VIO_RING_SPLIT ? k <= d->size : slots <= d->size;
	if (in_order && k == 0)
		fits = false;
	FZ_CHECK(rc == (fits ? 0 : -VIO_EINVAL));
	if (rc != 0)
		return;
	check_used_advance(d, &before, k, slots);
	/* Remove the picked ones, highest index first. */
	for (unsigned a = 0; a < k; a++)
		for (unsigned b = a + 1; b < k; b++)
			if (pick[b] > pick[a]) {
				unsigned t = pick[a];
				pick[a] = pick[b];
				pick[b] = t;
			}
	for (unsigned a = 0; a < k; a++)
		devq_remove_held(d, pick[a]);
}

static void devq_set_state(struct fz_devq *d, struct fz_in *in)
{
	struct vio_ring_state st, before, after;
	st.avail_idx = fz_u16(in);
	st.used_idx = fz_u16(in);
	uint8_t w = fz_u8(in);
	st.avail_wrap = (w & 1) != 0;
	st.used_wrap = (w & 2) != 0;
	devq_state(d, &before);
	int rc = vio_devq_set_state(d->q, &st);
	devq_state(d, &after);
	bool packed = d->f->format == VIO_RING_PACKED;
	if (packed && (st.avail_idx >= d->size || st.used_idx >= d->size)) {
		FZ_CHECK(rc == -VIO_EINVAL);
		FZ_CHECK(state_eq(&before, &after));
		return;
	}
	FZ_CHECK(rc == 0);
	FZ_CHECK(after.avail_idx == st.avail_idx && after.used_idx == st.used_idx);
	if (packed)
		FZ_CHECK(after.avail_wrap == st.avail_wrap && after.used_wrap == st.used_wrap);
	devq_after_reset(d);
}

static void devq_drv_write(struct fz_devq *d, struct fz_in *in)
{
	unsigned ri = fz_u8(in) % d->m->n;
	uint16_t off = fz_u16(in);
	unsigned k = 1u + fz_u8(in) % 16u;
	unsigned char buf[16];
	fz_bytes(in, buf, k);
	struct fz_region *r = &d->m->r[ri];
	/* Before the harness writes a region, nothing the library must not
	 * write may have changed in it. */
	fz_mem_check_unchanged(d->m, d->wr, d->nwr, ri);
	size_t o = off % r->len;
	if (k > r->len - o)
		k = (unsigned)(r->len - o);
	fz_devq_poke(d, r->addr + o, buf, k);
}

static int devq_init(struct fz_devq *d)
{
	fz_mem_grants_begin(d->m);
	int rc = vio_devq_init(&d->q, d->qmem, d->qmem_size, &d->cfg);
	fz_mem_grants_end(d->m);
	return rc;
}

int fz_devq_run(const struct fz_devq_fmt *f, const uint8_t *data, size_t size)
{
	static struct fz_mem mem;
	static struct fz_devq dq;
	struct fz_devq *d = &dq;
	struct fz_in in;

	fz_in_init(&in, data, size);
	fz_mem_init(&mem);
	d->f = f;
	d->m = &mem;
	d->feat = fz_u8(&in);
	d->size = f->size_from(fz_u16(&in));
	d->nextra = fz_u8(&in) % (FZ_DEVQ_MAX_EXTRA + 1u);
	d->reason = 0;
	d->avail_hint = -1;
	d->nheld = 0;

	uint64_t addr[3];
	for (unsigned i = 0; i < 3; i++)
		addr[i] = FZ_REGION_BASE(i);
	if (d->feat & FZ_DEVQ_RAW_ADDRS)
		for (unsigned i = 0; i < 3; i++)
			addr[i] = fz_u64(&in);

	size_t rlen[3];
	f->ring_sizes(d->size, rlen);
	unsigned ring_dirs = (d->feat & FZ_DEVQ_RINGS_RO) ? VIO_MAP_READ : VIO_MAP_RW;
	for (unsigned i = 0; i < 3; i++)
		fz_mem_add_slot(&mem, 0, rlen[i], ring_dirs, true);
	uint8_t rflags[FZ_DEVQ_MAX_EXTRA];
	for (unsigned k = 0; k < d->nextra; k++) {
		rflags[k] = fz_u8(&in);
		size_t len = 1u + fz_u16(&in) % FZ_DEVQ_MAX_REGION;
		size_t off = fz_u16(&in);
		unsigned dirs = rflags[k] & FZ_RF_DIRS;
		fz_mem_add_slot(&mem, off, len, dirs != 0 ? dirs : VIO_MAP_RW, true);
	}
	for (unsigned i = 0; i < 3; i++)
		fz_mem_fill(&mem, i, &in);
	for (unsigned k = 0; k < d->nextra; k++)
		if (!(rflags[k] & FZ_RF_ZERO))
			fz_mem_fill(&mem, 3 + k, &in);

	memset(&d->cfg, 0, sizeof(d->cfg));
	d->cfg.format = f->format;
	d->cfg.size = d->size;
	d->cfg.index = 3;
	if (d->feat & FZ_FEAT_INDIRECT)
		vio_features_set(&d->cfg.features, VIO_F_INDIRECT_DESC);
	if (d->feat & FZ_FEAT_EVENT_IDX)
		vio_features_set(&d->cfg.features, VIO_F_EVENT_IDX);
	if (d->feat & FZ_FEAT_IN_ORDER)
		vio_features_set(&d->cfg.features, VIO_F_IN_ORDER);
	if (f->format == VIO_RING_PACKED)
		vio_features_set(&d->cfg.features, VIO_F_RING_PACKED);
	d->cfg.desc_addr = addr[0];
	d->cfg.driver_addr = addr[1];
	d->cfg.device_addr = addr[2];
	d->cfg.mem_ops = &fz_dev_ops;
	d->cfg.mem_ctx = &mem;
	d->qmem_size = vio_devq_mem_size(f->format, d->size);
	FZ_CHECK(d->qmem_size != 0);
	d->qmem = malloc(d->qmem_size);
	FZ_CHECK(d->qmem != NULL);
	d->nwr = f->writable(d, d->wr);

	int rc = devq_init(d);
	if (rc != 0) {
		/* Only the rings' placement can be wrong here. */
		FZ_CHECK(rc == -VIO_ERING_MAP || rc == -VIO_ERING_ALIGN);
		FZ_CHECK((d->feat & (FZ_DEVQ_RAW_ADDRS | FZ_DEVQ_RINGS_RO)) != 0);
		fz_mem_check_unchanged(&mem, NULL, 0, ~0u);
		goto out;
	}
	devq_check_reset_state(d);

	for (unsigned n = 0; n < FZ_MAX_ACTIONS && !fz_in_done(&in); n++) {
		uint8_t op = fz_u8(&in) % FZ_DQ_NOPS;
		if (fz_trace())
			fprintf(stderr, "devq op %u: %u  (held %u reason %d)\n", n, op, d->nheld,
				d->reason);
		/* has_avail's answer is checked against a pop right after it. */
		if (op != FZ_DQ_POP && op != FZ_DQ_POP2)
			d->avail_hint = -1;
		switch (op) {
		case FZ_DQ_POP:
		case FZ_DQ_POP2:
			devq_pop(d, &in);
			break;
		case FZ_DQ_PUSH:
			devq_push(d, &in);
			break;
		case FZ_DQ_PUSH_BATCH:
			devq_push_batch(d, &in);
			break;
		case FZ_DQ_NEEDS_NOTIFY: {
			bool suppressed = f->intr_suppressed(d);
			bool r = vio_devq_needs_notify(d->q);
			if (d->reason != 0 || suppressed)
				FZ_CHECK(!r);
			break;
		}
		case FZ_DQ_ENABLE_NOTIFY: {
			bool r = vio_devq_enable_notify(d->q);
			f->check_notify_area(d, true);
			if (d->reason == 0) {
				/* true iff nothing is available (as has_avail says). */
				bool has = vio_devq_has_avail(d->q);
				FZ_CHECK(r == !has);
			}
			break;
		}
		case FZ_DQ_DISABLE_NOTIFY:
			vio_devq_disable_notify(d->q);
			f->check_notify_area(d, false);
			break;
		case FZ_DQ_HAS_AVAIL: {
			bool r = vio_devq_has_avail(d->q);
			if (d->reason != 0)
				FZ_CHECK(!r);
			d->avail_hint = r;
			break;
		}
		case FZ_DQ_SAVE_RESTORE: {
			struct vio_ring_state st, st2;
			devq_state(d, &st);
			FZ_CHECK(vio_devq_set_state(d->q, &st) == 0);
			devq_state(d, &st2);
			FZ_CHECK(state_eq(&st, &st2));
			devq_after_reset(d);
			break;
		}
		case FZ_DQ_SET_STATE:
			devq_set_state(d, &in);
			break;
		case FZ_DQ_RESET:
			vio_devq_reset(d->q);
			devq_after_reset(d);
			devq_check_reset_state(d);
			break;
		case FZ_DQ_DRV_WRITE:
			devq_drv_write(d, &in);
			break;
		case FZ_DQ_DRV_PUBLISH:
			f->publish(d, &in);
			d->avail_hint = -1;
			break;
		case FZ_DQ_DRV_DESC:
			f->desc(d, &in);
			d->avail_hint = -1;
			break;
		case FZ_DQ_REINIT:
			/* The same configuration maps the same rings again. */
			FZ_CHECK(devq_init(d) == 0);
			devq_after_reset(d);
			devq_check_reset_state(d);
			break;
		case FZ_DQ_DRV_EVENT:
			f->event(d, &in);
			break;
		default:
			break;
		}
		devq_check_broken(d);
		FZ_CHECK(!mem.map_allowed);
	}
	/* The device half never wrote driver memory it does not own. */
	fz_mem_check_unchanged(&mem, d->wr, d->nwr, ~0u);
out:
	free(d->qmem);
	fz_mem_free(&mem);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Driver-half harness engine                                                */
/* ------------------------------------------------------------------------ */

uint16_t fz_rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t fz_rd32(const unsigned char *p)
{
	return (uint32_t)fz_rd16(p) | (uint32_t)fz_rd16(p + 2) << 16;
}

uint64_t fz_rd64(const unsigned char *p)
{
	return (uint64_t)fz_rd32(p) | (uint64_t)fz_rd32(p + 4) << 32;
}

void fz_wr16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

void fz_wr32(unsigned char *p, uint32_t v)
{
	fz_wr16(p, (uint16_t)v);
	fz_wr16(p + 2, (uint16_t)(v >> 16));
}

unsigned char *fz_vq_part(struct fz_vq *v, unsigned ri)
{
	return v->m->r[ri].host;
}

void fz_vq_poke(struct fz_vq *v, unsigned ri, size_t off, const void *src, size_t len)
{
	const struct fz_region *r = &v->m->r[ri];
	FZ_CHECK(off <= r->len && len <= r->len - off);
	fz_mem_poke(v->m, r->addr + off, src, len);
}

uint64_t fz_vq_dev_addr(struct fz_vq *v, const void *p)
{
	if (v->identity)
		return (uint64_t)(uintptr_t)p;
	const struct fz_region *r = fz_mem_find_host(v->m, p);
	FZ_CHECK(r != NULL);
	return r->addr + (uint64_t)((const unsigned char *)p - r->host);
}

static void *tok_ptr(unsigned t)
{
	return (void *)(uintptr_t)(t + 1u);
}

static bool tok_outstanding(const struct fz_tok *k)
{
	return k->state == FZ_TOK_OUT || k->state == FZ_TOK_DONE;
}

/* A token the driver handed back: it must be one of ours, outstanding. */
static unsigned vq_take_token(struct fz_vq *v, void *token, uint8_t new_state)
{
	uintptr_t u = (uintptr_t)token;
	FZ_CHECK(u >= 1 && u <= v->ntok);
	unsigned t = (unsigned)(u - 1u);
	struct fz_tok *k = &v->tok[t];
	/* Each token comes back at most once, and only while outstanding. */
	FZ_CHECK(tok_outstanding(k));
	k->state = new_state;
	v->free_model = (uint16_t)(v->free_model + k->ndesc);
	FZ_CHECK(v->free_model <= v->size);
	if (v->f->format == VIO_RING_SPLIT) {
		for (unsigned i = 0; i < v->size; i++)
			if (v->owner[i] == (int16_t)t)
				v->owner[i] = -1;
	}
	return t;
}

static void vq_latch(struct fz_vq *v, int rc)
{
	if (rc < 0 && vio_err_is_peer(rc)) {
		FZ_CHECK(v->reason == 0);
		/* An honest device never provokes a peer error. */
		FZ_CHECK(!v->honest);
		v->reason = rc;
	}
}

static unsigned fq_visible(const struct fz_vq *v)
{
	return v->fq_tail - v->fq_head - v->fq_pend;
}

static void vq_device_reset(struct fz_vq *v)
{
	v->adds = v->gets = 0;
	v->drv_slot = v->drv_last = 0;
	v->drv_wrap = v->drv_last_wrap = true;
	v->dev_idx = 0;
	v->dev_slot = 0;
	v->dev_wrap = true;
	v->fq_head = v->fq_tail = v->fq_pend = 0;
	v->honest = true;
	v->quiesced = false;
	v->added_since = false;
	v->reason = 0;
	v->free_model = v->size;
	for (unsigned i = 0; i < 256; i++)
		v->owner[i] = -1;
}

static void vq_get(struct fz_vq *v)
{
	void *token = NULL;
	uint32_t len = 0;
	int rc = vio_vq_get(v->vq, &token, &len);
	if (fz_trace())
		fprintf(stderr, "  get rc %d token %lu len %u\n", rc,
			(unsigned long)(uintptr_t)token, len);
	FZ_CHECK(fz_get_rc_ok(rc));
	if (v->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		return;
	}
	FZ_CHECK(rc != -VIO_EBROKEN);
	if (rc == 0) {
		unsigned t = vq_take_token(v, token, FZ_TOK_RET);
		const struct fz_tok *k = &v->tok[t];
		/* Never more than the buffer offered as writable. */
		FZ_CHECK(len <= k->in_bytes);
		if (v->honest) {
			FZ_CHECK(fq_visible(v) > 0);
			unsigned at = v->fq_head++ % FZ_VQ_FIFO;
			FZ_CHECK(v->fq_tok[at] == t);
			FZ_CHECK(v->fq_len[at] == len);
		}
		v->gets++;
		fz_packed_advance(&v->drv_last, &v->drv_last_wrap, k->ndesc, v->size);
	} else {
		if (v->honest && rc == -VIO_EAGAIN)
			FZ_CHECK(fq_visible(v) == 0);
		vq_latch(v, rc);
	}
}

/* Detach until the queue says there is nothing left; then everything the
 * driver had outstanding came back exactly once. */
static void vq_detach_all(struct fz_vq *v)
{
	unsigned n = 0;
	for (;;) {
		void *token = NULL;
		int rc = vio_vq_detach_unused(v->vq, &token);
		if (rc == -VIO_EAGAIN)
			break;
		FZ_CHECK(rc == 0);
		vq_take_token(v, token, FZ_TOK_DET);
		FZ_CHECK(++n <= v->size);
	}
	for (unsigned t = 0; t < v->ntok; t++)
		FZ_CHECK(!tok_outstanding(&v->tok[t]));
	FZ_CHECK(vio_vq_num_free(v->vq) == v->size);
	FZ_CHECK(v->free_model == v->size);
	v->quiesced = true;
}

static void vq_reset(struct fz_vq *v, bool detach)
{
	if (detach) {
		vq_detach_all(v);
	} else {
		for (unsigned t = 0; t < v->ntok; t++)
			if (tok_outstanding(&v->tok[t]))
				v->tok[t].state = FZ_TOK_FORGOT;
	}
	vio_vq_reset(v->vq);
	/* Rings zeroed by the reset. */
	unsigned parts[3] = {v->r_desc, v->r_drv, v->r_dev};
	for (unsigned i = 0; i < 3; i++) {
		const struct fz_region *r = &v->m->r[parts[i]];
		for (size_t j = 0; j < r->len; j++)
			FZ_CHECK(r->host[j] == 0);
		fz_mem_resync(v->m, parts[i]);
	}
	vq_device_reset(v);
	FZ_CHECK(vio_vq_num_free(v->vq) == v->size);
	FZ_CHECK(!vio_vq_is_broken(v->vq));
}

static uint32_t seg_len(struct fz_in *in, uint8_t lmode)
{
	switch (lmode & 3u) {
	case 0:
		return fz_u8(in);
	case 1:
		return fz_u16(in);
	case 2:
		return 0;
	default:
		return fz_u32(in);
	}
}

static void vq_add(struct fz_vq *v, struct fz_in *in)
{
	static struct vio_sg sg[FZ_VQ_MAX_SEGS];
	uint8_t bo = fz_u8(in), bi = fz_u8(in), lmode = fz_u8(in);
	unsigned out = bo % 5u, inn = bi % 5u;
	if (lmode & 0x80) {
		out = bo % (v->size + 3u);
		inn = bi % (v->size + 3u);
	}
	unsigned total = out + inn;
	unsigned char *data = fz_vq_part(v, v->r_data);
	uint64_t sum = 0, in_sum = 0;
	for (unsigned i = 0; i < total; i++) {
		sg[i].len = seg_len(in, lmode);
		sg[i].addr = data + (v->ntok * 53u + i * 29u) % FZ_VQ_DATA_LEN;
		sum += sg[i].len;
		if (i >= out)
			in_sum += sg[i].len;
	}
	if (v->quiesced || v->ntok >= FZ_MAX_ACTIONS)
		return;

	unsigned t = v->ntok;
	unsigned num_free = vio_vq_num_free(v->vq);
	FZ_CHECK(num_free == v->free_model);
	bool use_ind = v->ind_max != 0 && (v->feat & FZ_FEAT_INDIRECT);
	unsigned ind_min = v->ind_min != 0 ? v->ind_min : 2;
	bool ind = use_ind && total <= v->ind_max && (total >= ind_min || total > num_free);
	unsigned ndesc = ind ? 1 : total;
	bool overflow = sum > UINT32_MAX;
	uint32_t mark = v->f->publish_mark(v);
	unsigned long failed = v->m->to_device_failed;

	int rc = vio_vq_add(v->vq, sg, out, inn, tok_ptr(t));
	bool injected = v->m->to_device_failed != failed;
	if (fz_trace())
		fprintf(stderr, "  add %u+%u segs -> token %u rc %d (indirect %d)\n", out, inn,
			t + 1, rc, ind);

	if (v->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
	} else if (total == 0) {
		FZ_CHECK(rc == -VIO_EINVAL);
	} else if (ndesc > num_free) {
		FZ_CHECK(rc == -VIO_ENOSPC);
	} else if (injected && overflow) {
		FZ_CHECK(rc == FZ_INJECTED_ERR || rc == -VIO_EINVAL);
	} else if (injected) {
		FZ_CHECK(rc == FZ_INJECTED_ERR);
	} else {
		FZ_CHECK(rc == (overflow ? -VIO_EINVAL : 0));
	}
	if (rc != 0) {
		/* Nothing published, nothing consumed. */
		FZ_CHECK(vio_vq_num_free(v->vq) == num_free);
		FZ_CHECK(v->f->publish_mark(v) == mark);
		return;
	}
	v->ntok++;
	struct fz_tok *k = &v->tok[t];
	k->state = FZ_TOK_OUT;
	k->ndesc = (uint16_t)ndesc;
	k->in_bytes = (uint32_t)in_sum;
	v->f->learn_add(v, t, sg, out, total, ind);
	/* The id is not held by another outstanding buffer. */
	for (unsigned o = 0; o < t; o++)
		if (tok_outstanding(&v->tok[o]))
			FZ_CHECK(v->tok[o].id != k->id);
	v->free_model = (uint16_t)(v->free_model - ndesc);
	v->added_since = true;
	v->adds++;
}

/* The oldest outstanding buffer not completed yet, or -1. */
static int oldest_out(const struct fz_vq *v)
{
	for (unsigned t = 0; t < v->ntok; t++)
		if (v->tok[t].state == FZ_TOK_OUT)
			return (int)t;
	return -1;
}

static void vq_complete(struct fz_vq *v, struct fz_in *in)
{
	uint8_t which = fz_u8(in), mode = fz_u8(in);
	uint16_t raw_id = (mode & FZ_CM_RAW_ID) ? fz_u16(in) : 0;
	unsigned cnt = (mode & FZ_CM_BATCH) ? 1u + fz_u8(in) % 8u : 1u;
	uint32_t raw_len = (mode & FZ_CM_LEN_MASK) == FZ_CM_LEN_MASK ? fz_u32(in) : 0;
	bool in_order = (v->feat & FZ_FEAT_IN_ORDER) != 0;
	if (v->quiesced)
		return;
	if (!in_order)
		cnt = 1; /* one used entry per buffer */

	unsigned batch[8], nb = 0;
	bool fair = true;
	if (in_order && !(mode & FZ_CM_ANY)) {
		/* In order: the oldest buffers not completed yet. */
		for (unsigned t = 0; t < v->ntok && nb < cnt; t++)
			if (v->tok[t].state == FZ_TOK_OUT)
				batch[nb++] = t;
	} else {
		unsigned n = 0;
		for (unsigned t = 0; t < v->ntok; t++)
			if (v->tok[t].state == FZ_TOK_OUT ||
			    ((mode & FZ_CM_ANY) && v->tok[t].state == FZ_TOK_DONE))
				n++;
		if (n != 0) {
			unsigned want = which % n;
			for (unsigned t = 0; t < v->ntok; t++)
				if (v->tok[t].state == FZ_TOK_OUT ||
				    ((mode & FZ_CM_ANY) && v->tok[t].state == FZ_TOK_DONE)) {
					if (want-- == 0) {
						batch[nb++] = t;
						break;
					}
				}
		}
		/* With n != 0 the scan picked exactly one (want < n); testing nb
		 * rather than n lets the compiler see that batch[0] is set. */
		if (nb != 0) {
			if (v->tok[batch[0]].state != FZ_TOK_OUT)
				fair = false;
			if (in_order && (int)batch[0] != oldest_out(v))
				fair = false;
		}
	}
	if (nb == 0 && !(mode & FZ_CM_RAW_ID))
		return;
	const struct fz_tok *last = nb != 0 ? &v->tok[batch[nb - 1]] : NULL;
	uint16_t id = (mode & FZ_CM_RAW_ID) ? raw_id : last->id;
	uint32_t in_bytes = last != NULL ? last->in_bytes : 0;
	uint32_t len;
	switch (mode & FZ_CM_LEN_MASK) {
	case 0:
		len = in_bytes;
		break;
	case 2:
		len = 0;
		break;
	case 4:
		len = in_bytes / 2;
		break;
	default:
		len = raw_len;
		break;
	}
	unsigned ndesc = 0;
	for (unsigned i = 0; i < nb; i++)
		ndesc += v->tok[batch[i]].ndesc;
	if (nb == 0)
		ndesc = 1;
	if ((mode & (FZ_CM_RAW_ID | FZ_CM_BAD_WRAP)) || nb == 0 || len > in_bytes)
		fair = false;

	bool visible = v->f->write_used(v, id, len, mode, nb != 0 ? nb : 1, ndesc);
	if (fz_trace())
		fprintf(stderr, "  complete id %u len %u mode 0x%x nbuf %u ndesc %u fair %d\n", id,
			len, mode, nb, ndesc, fair);
	if (!fair) {
		v->honest = false;
		return;
	}
	for (unsigned i = 0; i < nb; i++) {
		struct fz_tok *k = &v->tok[batch[i]];
		unsigned at = v->fq_tail++ % FZ_VQ_FIFO;
		FZ_CHECK(v->fq_tail - v->fq_head <= FZ_VQ_FIFO);
		k->state = FZ_TOK_DONE;
		v->fq_tok[at] = batch[i];
		/* §2.7.9 / §2.8.9: earlier buffers of a batch count as fully used. */
		v->fq_len[at] = i + 1 < nb ? k->in_bytes : v->f->expect_len(len, mode);
	}
	if (visible)
		v->fq_pend = 0;
	else
		v->fq_pend += nb;
}

static void vq_raw(struct fz_vq *v, struct fz_in *in)
{
	unsigned tgt = fz_u8(in) % 4u;
	uint16_t off = fz_u16(in);
	unsigned k = 1u + fz_u8(in) % 16u;
	unsigned char buf[16];
	fz_bytes(in, buf, k);
	unsigned parts[4] = {v->r_dev, v->r_desc, v->r_drv, v->r_pool};
	if (v->quiesced || parts[tgt] == ~0u)
		return;
	const struct fz_region *r = &v->m->r[parts[tgt]];
	size_t o = off % r->len;
	if (k > r->len - o)
		k = (unsigned)(r->len - o);
	fz_vq_poke(v, parts[tgt], o, buf, k);
	if (v->f->raw_is_hostile(tgt))
		v->honest = false;
}

int fz_vq_run(const struct fz_vq_fmt *f, const uint8_t *data, size_t size)
{
	static struct fz_mem mem;
	static struct fz_vq vq;
	struct fz_vq *v = &vq;
	struct fz_in in;

	fz_in_init(&in, data, size);
	fz_mem_init(&mem);
	v->f = f;
	v->m = &mem;
	v->feat = fz_u8(&in);
	v->size = f->size_from(fz_u16(&in));
	uint8_t imax = fz_u8(&in), imin = fz_u8(&in), fail = fz_u8(&in);
	uint16_t index = fz_u16(&in);
	v->identity = (v->feat & FZ_VQ_IDENTITY) != 0;
	v->ntok = 0;
	vq_device_reset(v);

	size_t rlen[3];
	f->ring_sizes(v->size, rlen);
	v->r_desc = fz_mem_add_slot(&mem, 0, rlen[0], VIO_MAP_RW, true);
	v->r_drv = fz_mem_add_slot(&mem, 0, rlen[1], VIO_MAP_RW, true);
	v->r_dev = fz_mem_add_slot(&mem, 0, rlen[2], VIO_MAP_RW, true);
	v->r_data = fz_mem_add_slot(&mem, 0, FZ_VQ_DATA_LEN, VIO_MAP_RW, true);
	mem.r[v->r_data].any_len = true; /* the driver never touches buffers */
	for (size_t i = 0; i < FZ_VQ_DATA_LEN; i++)
		mem.r[v->r_data].host[i] = mem.r[v->r_data].shadow[i] = (unsigned char)(i * 7u);
	v->ind_max = 0;
	v->ind_min = imin % 5u;
	v->r_pool = ~0u;
	if (v->feat & FZ_VQ_POOL) {
		unsigned cap = v->size < 16 ? v->size : 16;
		v->ind_max = (uint16_t)(1u + imax % cap);
		size_t stride = (size_t)v->ind_max * 16u;
		v->r_pool = fz_mem_add_slot(&mem, 0, stride * v->size, VIO_MAP_RW, false);
		mem.r[v->r_pool].table_stride = stride;
	}

	memset(&v->cfg, 0, sizeof(v->cfg));
	v->cfg.format = f->format;
	v->cfg.size = v->size;
	v->cfg.index = index;
	if (v->feat & FZ_FEAT_INDIRECT)
		vio_features_set(&v->cfg.features, VIO_F_INDIRECT_DESC);
	if (v->feat & FZ_FEAT_EVENT_IDX)
		vio_features_set(&v->cfg.features, VIO_F_EVENT_IDX);
	if (v->feat & FZ_FEAT_IN_ORDER)
		vio_features_set(&v->cfg.features, VIO_F_IN_ORDER);
	if (v->feat & FZ_VQ_NOTIF_DATA)
		vio_features_set(&v->cfg.features, VIO_F_NOTIFICATION_DATA);
	if (f->format == VIO_RING_PACKED)
		vio_features_set(&v->cfg.features, VIO_F_RING_PACKED);
	v->cfg.desc = mem.r[v->r_desc].host;
	v->cfg.driver_area = mem.r[v->r_drv].host;
	v->cfg.device_area = mem.r[v->r_dev].host;
	v->cfg.indirect_pool = v->r_pool != ~0u ? mem.r[v->r_pool].host : NULL;
	v->cfg.indirect_max = v->ind_max;
	v->cfg.indirect_min = v->ind_min;
	v->cfg.mem_ops = v->identity ? NULL : &fz_drv_ops;
	v->cfg.mem_ctx = &mem;
	v->vqmem_size = vio_vq_mem_size(f->format, v->size);
	FZ_CHECK(v->vqmem_size != 0);
	v->vqmem = malloc(v->vqmem_size);
	FZ_CHECK(v->vqmem != NULL);
	FZ_CHECK(vio_vq_init(&v->vq, v->vqmem, v->vqmem_size, &v->cfg) == 0);
	FZ_CHECK(vio_vq_size(v->vq) == v->size);
	FZ_CHECK(vio_vq_num_free(v->vq) == v->size);

	uint64_t a[3];
	FZ_CHECK(vio_vq_ring_addrs(v->vq, &a[0], &a[1], &a[2]) == 0);
	FZ_CHECK(a[0] == fz_vq_dev_addr(v, v->cfg.desc));
	FZ_CHECK(a[1] == fz_vq_dev_addr(v, v->cfg.driver_area));
	FZ_CHECK(a[2] == fz_vq_dev_addr(v, v->cfg.device_area));
	mem.fail_every = fail != 0 ? fail + 1u : 0;

	for (unsigned n = 0; n < FZ_MAX_ACTIONS && !fz_in_done(&in); n++) {
		uint8_t op = fz_u8(&in) % FZ_VQ_NOPS;
		if (fz_trace())
			fprintf(stderr, "vq op %u: %u  (ntok %u free %u honest %d reason %d)\n", n,
				op, v->ntok, v->free_model, v->honest, v->reason);
		switch (op) {
		case FZ_VQ_ADD:
		case FZ_VQ_ADD2:
			vq_add(v, &in);
			break;
		case FZ_VQ_GET:
			if (!v->quiesced)
				vq_get(v);
			break;
		case FZ_VQ_GET_ALL:
			for (unsigned k = 0; k <= v->size + 1u && !v->quiesced; k++) {
				unsigned before = v->gets;
				vq_get(v);
				if (v->gets == before)
					break;
			}
			break;
		case FZ_VQ_DEV_COMPLETE:
			vq_complete(v, &in);
			break;
		case FZ_VQ_DEV_PUBLISH:
			if (v->quiesced) {
				fz_u8(&in);
				fz_u16(&in);
			} else {
				f->publish(v, &in);
			}
			break;
		case FZ_VQ_DEV_RAW:
			vq_raw(v, &in);
			break;
		case FZ_VQ_KICK: {
			int expect = f->kick_expect(v);
			bool r = vio_vq_kick_prepare(v->vq);
			if (v->reason != 0) {
				FZ_CHECK(!r);
			} else {
				if (expect >= 0)
					FZ_CHECK(r == (expect != 0));
				v->added_since = false;
			}
			f->check_notify_data(v, vio_vq_notify_data(v->vq));
			break;
		}
		case FZ_VQ_DISABLE_INTR:
			vio_vq_disable_intr(v->vq);
			break;
		case FZ_VQ_ENABLE_INTR: {
			bool r = vio_vq_enable_intr(v->vq);
			f->check_intr_area(v);
			if (v->reason == 0) {
				/* "true if nothing is pending" */
				if (r)
					FZ_CHECK(!vio_vq_has_used(v->vq));
				if (v->honest && !v->quiesced)
					FZ_CHECK(r == (fq_visible(v) == 0));
			}
			break;
		}
		case FZ_VQ_ENABLE_INTR_DELAYED:
			vio_vq_enable_intr_delayed(v->vq);
			break;
		case FZ_VQ_HAS_USED: {
			bool r = vio_vq_has_used(v->vq);
			if (v->reason != 0)
				FZ_CHECK(!r);
			else if (v->honest && !v->quiesced)
				FZ_CHECK(r == (fq_visible(v) != 0));
			break;
		}
		case FZ_VQ_DETACH_ONE: {
			void *token = NULL;
			int rc = vio_vq_detach_unused(v->vq, &token);
			bool any = false;
			for (unsigned t = 0; t < v->ntok; t++)
				any = any || tok_outstanding(&v->tok[t]);
			FZ_CHECK(rc == (any ? 0 : -VIO_EAGAIN));
			if (rc == 0)
				vq_take_token(v, token, FZ_TOK_DET);
			/* The device must be quiet from here until a reset. */
			v->quiesced = true;
			break;
		}
		case FZ_VQ_DETACH_ALL:
			vq_detach_all(v);
			break;
		case FZ_VQ_RESET:
			vq_reset(v, (fz_u8(&in) & 1u) != 0);
			break;
		case FZ_VQ_DEV_EVENT:
			f->event(v, &in);
			break;
		default:
			break;
		}
		FZ_CHECK(vio_vq_is_broken(v->vq) == (v->reason != 0));
		FZ_CHECK(vio_vq_num_free(v->vq) == v->free_model);
		if (v->reason != 0) {
			FZ_CHECK(!vio_vq_has_used(v->vq));
		}
		/* The driver never writes the device area. */
		fz_mem_check_unchanged(&mem, NULL, 0, v->r_dev);
		if (op != FZ_VQ_ADD && op != FZ_VQ_ADD2 && op != FZ_VQ_RESET)
			fz_mem_check_unchanged(&mem, NULL, 0, v->r_desc);
		else
			fz_mem_resync(&mem, v->r_desc);
	}
	vq_detach_all(v);
	for (unsigned t = 0; t < v->ntok; t++)
		FZ_CHECK(v->tok[t].state == FZ_TOK_RET || v->tok[t].state == FZ_TOK_DET ||
			 v->tok[t].state == FZ_TOK_FORGOT);
	fz_mem_check_unchanged(&mem, NULL, 0, v->r_data);
	free(v->vqmem);
	fz_mem_free(&mem);
	return 0;
}

uint16_t fz_split_size(uint16_t sel)
{
	return (uint16_t)(1u << (sel % 9u)); /* 1 .. 256 */
}

uint16_t fz_packed_size(uint16_t sel)
{
	return (uint16_t)(1u + sel % 256u); /* 1 .. 256, any */
}

void fz_split_ring_sizes(uint16_t size, size_t len[3])
{
	len[0] = vio_split_desc_size(size);
	len[1] = vio_split_avail_size(size);
	len[2] = vio_split_used_size(size);
}

void fz_packed_ring_sizes(uint16_t size, size_t len[3])
{
	len[0] = vio_packed_desc_size(size);
	len[1] = vio_packed_event_size();
	len[2] = vio_packed_event_size();
}
