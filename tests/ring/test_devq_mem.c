/* SPDX-License-Identifier: MIT */
/* The device queue's memory contracts (ring core 0.2), both ring formats.
 *
 * Guest memory is a fake with exact bounds: the rings (registered by
 * raw_ring_alloc), three ADJACENT data regions R0 R1 R2 whose host buffers
 * are separate allocations, a gap nobody owns, a fourth region R3 after the
 * gap, a read-only region and a region for indirect tables. The device
 * reaches it through a region table, the instrumented map callback of
 * mem_probe.h, or both (enum mode). Checked: buffers across regions become
 * segments with the right host pointers and guest addresses; gaps and wrong
 * access are refused; the table is searched before the callback; a live
 * table swap; transient refusals (-VIO_EMAP_AGAIN) take nothing and leak
 * nothing; the write log covers exactly what the device wrote; the release
 * hook runs exactly once per mapping, before the used entry is published. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "guest_mem.h"
#include "loop.h"
#include "mem_probe.h"
#include "raw_ring.h"

#define QSIZE 16
#define NSEGS 32
#define RLEN 1024u
#define DATA 0x40000000ull /* R0 R1 R2 back to back, a gap, then R3 */
#define R3_ADDR (DATA + 4u * RLEN)
#define GAP_ADDR (DATA + 3u * RLEN)
#define RO_ADDR 0x48000000ull
#define RO_LEN 256u
#define TBL_ADDR 0x49000000ull
#define TBL_LEN 1024u
#define NRING 3 /* gm regions 0..2 are the ring parts */

#define F_NEXT VIO_DESC_F_NEXT
#define F_WRITE VIO_DESC_F_WRITE
#define F_INDIRECT VIO_DESC_F_INDIRECT

enum mode {
	M_TABLE, /* region table only, no map callback */
	M_MAP,	 /* map callback only */
	M_BOTH	 /* both; the table covers everything */
};

static const char *const mode_name[] = {"table", "map", "table+map"};

struct fx {
	enum vio_ring_format fmt;
	struct guest_mem gm;
	struct raw_ring r;
	struct mem_probe mp;
	struct vio_devq_config cfg;
	struct vio_devq *q;
	void *qmem;
	size_t qmem_size;
	unsigned char *h[4]; /* hosts of R0..R3 */
	unsigned char *ro;
	unsigned char *tbl;
	void *extra[16];
	unsigned n_extra;
	struct vio_mem_region table[GM_MAX_REGIONS];
	uint32_t ntable;
	uint16_t cursor;
	uint16_t next_id; /* packed ids, handed out round robin */
	struct vio_chain chain;
	struct vio_chain_seg segs[NSEGS];
	const struct vio_mem_ops *ops; /* M_MAP: these instead of mp_ops */
	/* Release-before-publication probe. */
	uint32_t pub_before;
	unsigned published_early;
};

static bool is_split(const struct fx *f)
{
	return f->fmt == VIO_RING_SPLIT;
}

static void *xalloc(struct fx *f, size_t len)
{
	assert_true(f->n_extra < 16);
	void *p = calloc(1, len);
	assert_non_null(p);
	f->extra[f->n_extra++] = p;
	return p;
}

static struct vio_features feats(const struct fx *f, bool event_idx, bool in_order)
{
	struct vio_features ft = loop_features(f->fmt, event_idx, true);
	if (in_order)
		vio_features_set(&ft, VIO_F_IN_ORDER);
	return ft;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	gm_init(&f->gm);
	raw_ring_alloc(&f->r, &f->gm, f->fmt, QSIZE);
	for (unsigned i = 0; i < 4; i++) {
		f->h[i] = xalloc(f, RLEN);
		gm_add(&f->gm, i < 3 ? DATA + i * RLEN : R3_ADDR, f->h[i], RLEN, VIO_MAP_RW);
	}
	f->ro = xalloc(f, RO_LEN);
	gm_add(&f->gm, RO_ADDR, f->ro, RO_LEN, VIO_MAP_READ);
	f->tbl = xalloc(f, TBL_LEN);
	gm_add(&f->gm, TBL_ADDR, f->tbl, TBL_LEN, VIO_MAP_RW);
	mp_init(&f->mp, &f->gm);
	f->mp.nring = NRING;
	f->ntable = mp_table(&f->mp, f->table, GM_MAX_REGIONS);
	f->qmem_size = vio_devq_mem_size(f->fmt, QSIZE);
	f->qmem = aligned_alloc(8, (f->qmem_size + 7u) & ~(size_t)7u);
	assert_non_null(f->qmem);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->q != NULL)
		vio_devq_fini(f->q);
	/* Every mapping was released at most once, and logging stayed inside
	 * guest memory. */
	assert_int_equal(f->mp.bad_releases, 0);
	assert_int_equal(f->mp.log_outside, 0);
	mp_fini(&f->mp);
	for (unsigned i = 0; i < f->n_extra; i++)
		free(f->extra[i]);
	gm_free(&f->gm);
	free(f->qmem);
	free(f);
	return 0;
}

/* (Re)create the queue over the whole table and/or the callback. */
static int start_feat(struct fx *f, enum mode m, struct vio_features ft)
{
	if (f->q != NULL)
		vio_devq_fini(f->q);
	f->q = NULL;
	memset(&f->cfg, 0, sizeof(f->cfg));
	raw_ring_devq_config(&f->r, &f->cfg);
	f->cfg.features = ft;
	f->cfg.mem_ops = m == M_TABLE ? &mp_ops_nomap : &mp_ops;
	if (m == M_MAP && f->ops != NULL)
		f->cfg.mem_ops = f->ops;
	f->cfg.mem_ctx = &f->mp;
	if (m != M_MAP) {
		f->cfg.regions = f->table;
		f->cfg.nregions = f->ntable;
	}
	return vio_devq_init(&f->q, f->qmem, f->qmem_size, &f->cfg);
}

static void start(struct fx *f, enum mode m)
{
	assert_err(start_feat(f, m, feats(f, false, false)), 0);
}

/* Back to a clean ring (device and mock driver). */
static void clean(struct fx *f)
{
	vio_devq_reset(f->q);
	raw_ring_clear(&f->r);
	f->cursor = 0;
}

static struct raw_desc D(uint64_t addr, uint32_t len, uint16_t flags) {
	return (struct raw_desc){addr, len, flags, 0};
}

/* Make a chain available; NEXT flags are added between descriptors. */
static uint16_t
avail(struct fx *f, const struct raw_desc *d, unsigned n)
{
	return raw_chain_add_linked(&f->r, &f->cursor, &f->next_id, d, n);
}

static int pop(struct fx *f)
{
	memset(f->segs, 0, sizeof(f->segs));
	memset(&f->chain, 0xee, sizeof(f->chain));
	return vio_devq_pop(f->q, &f->chain, f->segs, NSEGS);
}

static void seg_is(const struct fx *f, unsigned i, const void *host, uint64_t addr, uint32_t len,
		   bool write)
{
	const struct vio_chain_seg *s = &f->segs[i];
	if (s->ptr != host || s->addr != addr || s->len != len || s->write != write)
		fail_msg("seg %u = {%p, 0x%" PRIx64 ", %u, %d}, expected {%p, 0x%" PRIx64
			 ", %u, %d}",
			 i, s->ptr, s->addr, s->len, s->write, host, addr, len, write);
}

/* Host address of guest byte @addr in the data regions. */
static unsigned char *H(const struct fx *f, uint64_t addr)
{
	if (addr >= R3_ADDR)
		return f->h[3] + (addr - R3_ADDR);
	return f->h[(addr - DATA) / RLEN] + (addr - DATA) % RLEN;
}

/* Used position the next push writes (split free-running idx, packed slot). */
static uint16_t used_pos(const struct fx *f)
{
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	return st.used_idx;
}

/* The driver-visible length of the used entry at @pos. */
static uint32_t used_len_at(const struct fx *f, uint16_t pos)
{
	if (is_split(f)) {
		const struct vio_split_used_elem *e = vio_split_used_ring(f->r.device);
		return vio_le32_get(e[pos % QSIZE].len);
	}
	struct raw_desc u;
	raw_desc_get(f->r.desc, pos, VIO_RING_PACKED, &u);
	return u.len;
}

static void expect_broken(struct fx *f, int err)
{
	assert_true(vio_devq_is_broken(f->q));
	assert_err(vio_devq_broken_reason(f->q), err);
	assert_err(pop(f), -VIO_EBROKEN);
}

/* ---- 1. Buffers across regions --------------------------------------------- */

static void check_two_regions(struct fx *f, enum mode m)
{
	start(f, m);
	clean(f);
	for (unsigned i = 0; i < 48; i++)
		*H(f, DATA + 1000 + i) = (unsigned char)(0x30 + i);
	/* Readable R0 → R1; writable R1 → R2. */
	struct raw_desc d[2] = {D(DATA + 1000, 48, 0), D(DATA + 2040, 16, F_WRITE)};
	uint16_t id = avail(f, d, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.nseg, 4);
	assert_int_equal(f->chain.nout, 2);
	assert_int_equal(f->chain.out_bytes, 48);
	assert_int_equal(f->chain.in_bytes, 16);
	seg_is(f, 0, f->h[0] + 1000, DATA + 1000, 24, false);
	seg_is(f, 1, f->h[1], DATA + 1024, 24, false);
	seg_is(f, 2, f->h[1] + 1016, DATA + 2040, 8, true);
	seg_is(f, 3, f->h[2], DATA + 2048, 8, true);
	unsigned char buf[64];
	assert_int_equal(vio_chain_read(&f->chain, 0, buf, sizeof(buf)), 48);
	for (unsigned i = 0; i < 48; i++)
		assert_int_equal(buf[i], 0x30 + i);
	for (unsigned i = 0; i < 16; i++)
		buf[i] = (unsigned char)(0xa0 + i);
	assert_int_equal(vio_chain_write(&f->chain, 0, buf, 16), 16);
	uint16_t pos = used_pos(f);
	assert_err(vio_devq_push(f->q, &f->chain, 16), 0);
	assert_int_equal(used_len_at(f, pos), 16);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(*H(f, DATA + 2040 + i), 0xa0 + i);
	assert_false(vio_devq_is_broken(f->q));
}

static void test_mem_desc_across_two_regions(void **state)
{
	for (enum mode m = M_TABLE; m <= M_BOTH; m++)
		check_two_regions(*state, m);
}

static void test_mem_desc_across_three_regions(void **state)
{
	struct fx *f = *state;
	for (enum mode m = M_TABLE; m <= M_BOTH; m++) {
		start(f, m);
		clean(f);
		struct raw_desc d = D(DATA + 1000, 1100, F_WRITE);
		avail(f, &d, 1);
		assert_err(pop(f), 0);
		assert_int_equal(f->chain.nseg, 3);
		assert_int_equal(f->chain.nout, 0);
		assert_int_equal(f->chain.in_bytes, 1100);
		seg_is(f, 0, f->h[0] + 1000, DATA + 1000, 24, true);
		seg_is(f, 1, f->h[1], DATA + 1024, 1024, true);
		seg_is(f, 2, f->h[2], DATA + 2048, 52, true);
		unsigned char src[1100], back[1100];
		loop_pattern_fill(src, sizeof(src), 7 + m);
		assert_int_equal(vio_chain_write(&f->chain, 0, src, sizeof(src)), 1100);
		for (unsigned i = 0; i < 1100; i++)
			back[i] = *H(f, DATA + 1000 + i);
		assert_memory_equal(src, back, sizeof(src));
		assert_err(vio_devq_push(f->q, &f->chain, 1100), 0);
	}
}

static void test_mem_desc_across_gap_refused(void **state)
{
	struct fx *f = *state;
	for (enum mode m = M_TABLE; m <= M_BOTH; m++) {
		f->mp.release = true;
		start(f, m);
		clean(f);
		unsigned live = f->mp.live;
		/* A good descriptor, then R2's last 10 bytes and on into the gap. */
		struct raw_desc d[2] = {D(DATA + 8, 8, 0), D(GAP_ADDR - 10, 20, F_WRITE)};
		avail(f, d, 2);
		assert_err(pop(f), -VIO_EMAP);
		expect_broken(f, -VIO_EMAP);
		assert_int_equal(f->mp.live, live); /* what was mapped was released */
		/* Wholly in the gap too. */
		clean(f);
		struct raw_desc g = D(GAP_ADDR + 100, 4, 0);
		avail(f, &g, 1);
		assert_err(pop(f), -VIO_EMAP);
		expect_broken(f, -VIO_EMAP);
		/* Reset recovers. */
		clean(f);
		struct raw_desc ok = D(GAP_ADDR - 10, 10, F_WRITE);
		avail(f, &ok, 1);
		assert_err(pop(f), 0);
		assert_err(vio_devq_push(f->q, &f->chain, 10), 0);
		f->mp.release = false;
	}
}

static void test_mem_wrong_access_refused(void **state)
{
	struct fx *f = *state;
	for (enum mode m = M_TABLE; m <= M_BOTH; m++) {
		start(f, m);
		clean(f);
		struct raw_desc r = D(RO_ADDR + 16, 32, 0);
		avail(f, &r, 1);
		assert_err(pop(f), 0); /* reading a read-only region is fine */
		seg_is(f, 0, f->ro + 16, RO_ADDR + 16, 32, false);
		assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
		struct raw_desc w = D(RO_ADDR + 16, 32, F_WRITE);
		avail(f, &w, 1);
		assert_err(pop(f), -VIO_EMAP);
		expect_broken(f, -VIO_EMAP);
		/* A writable descriptor in the read-only region after a good one. */
		clean(f);
		struct raw_desc w2[2] = {D(DATA, 4, 0), D(RO_ADDR + RO_LEN - 4, 4, F_WRITE)};
		avail(f, w2, 2);
		assert_err(pop(f), -VIO_EMAP);
		expect_broken(f, -VIO_EMAP);
	}
}

static void test_mem_map_partial_grants(void **state)
{
	struct fx *f = *state;
	f->mp.release = true;
	start(f, M_MAP);
	clean(f);
	f->mp.grant_max = 100;
	unsigned calls = f->mp.map_calls;
	struct raw_desc d[2] = {D(DATA + 10, 300, 0), D(DATA + 1000, 100, F_WRITE)};
	avail(f, d, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 5);
	assert_int_equal(f->chain.nout, 3);
	assert_true(f->chain.flags & VIO_CHAIN_MAPPED);
	seg_is(f, 0, f->h[0] + 10, DATA + 10, 100, false);
	seg_is(f, 1, f->h[0] + 110, DATA + 110, 100, false);
	seg_is(f, 2, f->h[0] + 210, DATA + 210, 100, false);
	seg_is(f, 3, f->h[0] + 1000, DATA + 1000, 24, true); /* region end first */
	seg_is(f, 4, f->h[1], DATA + 1024, 76, true);
	assert_int_equal(f->mp.map_calls - calls, 5);
	assert_int_equal(f->mp.live, NRING + 5);
	assert_err(vio_devq_push(f->q, &f->chain, 50), 0);
	assert_int_equal(f->mp.live, NRING);

	/* A grant of one byte at a time still works (one segment per byte). */
	f->mp.grant_max = 1;
	struct raw_desc one = D(DATA + 1020, 8, F_WRITE);
	avail(f, &one, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 8);
	for (unsigned i = 0; i < 8; i++)
		seg_is(f, i, H(f, DATA + 1020 + i), DATA + 1020 + i, 1, true);
	assert_err(vio_devq_push(f->q, &f->chain, 8), 0);
	assert_int_equal(f->mp.live, NRING);

	/* Ring parts need one contiguous mapping: a partial grant is refused,
	 * and what was mapped is given back. */
	vio_devq_fini(f->q);
	f->q = NULL;
	assert_int_equal(f->mp.live, 0);
	f->mp.grant_max = 64;
	assert_err(start_feat(f, M_MAP, feats(f, false, false)), -VIO_ERING_MAP);
	assert_int_equal(f->mp.live, 0);
}

/* ---- 2. Table first, callback for the rest; live table swap ---------------- */

static void test_mem_table_covering_all_never_maps(void **state)
{
	struct fx *f = *state;
	start(f, M_BOTH);
	clean(f);
	struct raw_desc d[3] = {D(DATA + 1000, 1100, 0), D(R3_ADDR, 64, F_WRITE),
				D(DATA + 10, 10, F_WRITE)};
	for (unsigned k = 0; k < 3; k++) {
		avail(f, d, 3);
		assert_err(pop(f), 0);
		assert_int_equal(f->chain.nseg, 5);
		assert_err(vio_devq_push(f->q, &f->chain, 20), 0);
	}
	(void)vio_devq_enable_notify(f->q);
	(void)vio_devq_needs_notify(f->q);
	assert_int_equal(f->mp.map_calls, 0);
}

static void test_mem_table_misses_go_to_callback(void **state)
{
	struct fx *f = *state;
	/* The table covers the rings and R0 only (region order as in gm). */
	f->ntable = NRING + 1;
	start(f, M_BOTH);
	clean(f);
	assert_int_equal(f->mp.map_calls, 0); /* rings from the table */
	struct raw_desc in_r0 = D(DATA + 8, 64, 0);
	avail(f, &in_r0, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->mp.map_calls, 0);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	/* R0 → R1: the table grants the R0 part, the callback the rest. */
	struct raw_desc across = D(DATA + 1000, 48, F_WRITE);
	avail(f, &across, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->mp.map_calls, 1);
	seg_is(f, 0, f->h[0] + 1000, DATA + 1000, 24, true);
	seg_is(f, 1, f->h[1], DATA + 1024, 24, true);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	/* R3 and the indirect table region only through the callback. */
	struct raw_desc r3 = D(R3_ADDR + 4, 4, F_WRITE);
	avail(f, &r3, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->mp.map_calls, 2);
	seg_is(f, 0, f->h[3] + 4, R3_ADDR + 4, 4, true);
	assert_err(vio_devq_push(f->q, &f->chain, 4), 0);
}

/* Every region of the table is found, whatever matched last (a table of
 * one region per data area, searched in every order). */
static void test_mem_table_every_region_found(void **state)
{
	struct fx *f = *state;
	start(f, M_TABLE);
	clean(f);
	static const uint64_t where[] = {TBL_ADDR, RO_ADDR,	R3_ADDR,      DATA + 2 * RLEN,
					 DATA,	   DATA + RLEN, TBL_ADDR + 8, DATA + 5};
	for (unsigned k = 0; k < sizeof(where) / sizeof(where[0]); k++) {
		struct raw_desc d = D(where[k], 8, 0);
		avail(f, &d, 1);
		assert_err(pop(f), 0);
		assert_int_equal(f->chain.nseg, 1);
		assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	}
}

static void test_mem_set_table_live(void **state)
{
	struct fx *f = *state;
	start(f, M_TABLE);
	clean(f);
	struct raw_desc a = D(DATA + 100, 16, F_WRITE), b = D(DATA + 200, 16, F_WRITE);
	uint16_t ida = avail(f, &a, 1);
	uint16_t idb = avail(f, &b, 1);
	struct vio_chain ca, cb;
	struct vio_chain_seg sa[4], sb[4];
	assert_err(vio_devq_pop(f->q, &ca, sa, 4), 0);
	assert_err(vio_devq_pop(f->q, &cb, sb, 4), 0);
	assert_int_equal(ca.id, ida);
	assert_int_equal(cb.id, idb);
	assert_err(vio_devq_push(f->q, &ca, 3), 0);
	struct vio_ring_state before;
	vio_devq_get_state(f->q, &before);

	/* The new table: the rings at new host copies (memory re-mapped), R0
	 * cut in two halves, the rest as before. */
	struct vio_mem_region nt[GM_MAX_REGIONS];
	uint32_t n = 0;
	void *copy[NRING];
	size_t plen[NRING] = {raw_ring_desc_bytes(&f->r), raw_ring_driver_bytes(&f->r),
			      raw_ring_device_bytes(&f->r)};
	void *orig[NRING] = {f->r.desc, f->r.driver, f->r.device};
	for (unsigned i = 0; i < NRING; i++) {
		copy[i] = xalloc(f, plen[i] + 16);
		assert_int_equal((uintptr_t)copy[i] % 16, 0);
		memcpy(copy[i], orig[i], plen[i]);
		nt[n++] = (struct vio_mem_region){f->gm.r[i].addr, plen[i], copy[i], VIO_MAP_RW};
	}
	nt[n++] = (struct vio_mem_region){DATA, 512, f->h[0], VIO_MAP_RW};
	nt[n++] = (struct vio_mem_region){DATA + 512, 512, f->h[0] + 512, VIO_MAP_RW};
	for (uint32_t i = NRING + 1; i < f->ntable; i++)
		nt[n++] = f->table[i];
	unsigned char *snap[NRING];
	for (unsigned i = 0; i < NRING; i++) {
		snap[i] = xalloc(f, plen[i]);
		memcpy(snap[i], orig[i], plen[i]);
	}
	assert_err(vio_devq_set_mem_table(f->q, nt, n), 0);
	/* The driver now sees its rings at the copies. */
	f->r.desc = copy[0];
	f->r.driver = copy[1];
	f->r.device = copy[2];

	struct vio_ring_state after;
	vio_devq_get_state(f->q, &after);
	assert_memory_equal(&before, &after, sizeof(before)); /* position kept */
	assert_int_equal(after.inflight, 1);
	/* The old chain still pushes; its used entry lands in the new copy. */
	uint16_t pos = used_pos(f);
	assert_err(vio_devq_push(f->q, &cb, 5), 0);
	assert_int_equal(used_len_at(f, pos), 5);
	/* A chain across the new cut: two segments now. */
	struct raw_desc c = D(DATA + 500, 24, F_WRITE);
	avail(f, &c, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 2);
	seg_is(f, 0, f->h[0] + 500, DATA + 500, 12, true);
	seg_is(f, 1, f->h[0] + 512, DATA + 512, 12, true);
	assert_err(vio_devq_push(f->q, &f->chain, 24), 0);
	assert_err(pop(f), -VIO_EAGAIN);
	/* The old ring memory was not touched after the swap. */
	for (unsigned i = 0; i < NRING; i++)
		assert_memory_equal(snap[i], orig[i], plen[i]);
	assert_false(vio_devq_is_broken(f->q));
	/* Restore the driver's view for teardown's sake. */
	f->r.desc = orig[0];
	f->r.driver = orig[1];
	f->r.device = orig[2];
}

static void test_mem_set_table_refused_keeps_old(void **state)
{
	struct fx *f = *state;
	start(f, M_TABLE);
	clean(f);
	/* Without the device ring part (gm region 2). */
	struct vio_mem_region nt[GM_MAX_REGIONS];
	uint32_t n = 0;
	for (uint32_t i = 0; i < f->ntable; i++)
		if (i != 2)
			nt[n++] = f->table[i];
	assert_err(vio_devq_set_mem_table(f->q, nt, n), -VIO_ERING_MAP);
	/* No table and no map callback; a region that wraps 2^64. */
	assert_err(vio_devq_set_mem_table(f->q, f->table, 0), -VIO_EINVAL);
	memcpy(nt, f->table, f->ntable * sizeof(nt[0]));
	nt[f->ntable] = (struct vio_mem_region){0xfffffffffffff000ull, 0x2000, f->h[3], VIO_MAP_RW};
	assert_err(vio_devq_set_mem_table(f->q, nt, f->ntable + 1), -VIO_EINVAL);
	assert_err(vio_devq_set_mem_table(f->q, NULL, 2), -VIO_EINVAL);
	/* A region ending exactly at 2^64 does not wrap. */
	nt[f->ntable] = (struct vio_mem_region){0xfffffffffffff000ull, 0x1000, f->h[3], VIO_MAP_RW};
	assert_err(vio_devq_set_mem_table(f->q, nt, f->ntable + 1), 0);
	assert_err(vio_devq_set_mem_table(f->q, f->table, f->ntable), 0);
	/* The old table is in effect: the queue works. */
	assert_false(vio_devq_is_broken(f->q));
	struct raw_desc d = D(DATA + 1000, 48, F_WRITE);
	avail(f, &d, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 2);
	assert_err(vio_devq_push(f->q, &f->chain, 48), 0);
	/* And a table refused for alignment (desc part at an odd host address). */
	memcpy(nt, f->table, f->ntable * sizeof(nt[0]));
	nt[0].host = (unsigned char *)nt[0].host + 8; /* never dereferenced */
	assert_err(vio_devq_set_mem_table(f->q, nt, f->ntable), -VIO_ERING_ALIGN);
	avail(f, &d, 1);
	assert_err(pop(f), 0);
	seg_is(f, 0, f->h[0] + 1000, DATA + 1000, 24, true);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
}

/* ---- 3. Transient refusal ---------------------------------------------------- */

/* Pop with the callback refusing (-VIO_EMAP_AGAIN) at call @skip from now:
 * nothing taken, nothing broken, nothing left mapped, nothing written; then
 * the same chain pops whole. Returns the number of map calls a full pop of
 * the chain makes (from the successful pop). */
static unsigned pop_again_at(struct fx *f, unsigned skip)
{
	unsigned live = f->mp.live;
	mp_snap(&f->mp);
	f->mp.again_skip = skip;
	f->mp.again = 1;
	assert_err(pop(f), -VIO_EMAP_AGAIN);
	assert_false(vio_devq_is_broken(f->q));
	assert_int_equal(f->mp.live, live);
	assert_int_equal(f->mp.again, 0);
	uint64_t a;
	assert_false(mp_changed_unlogged(&f->mp, &a));
	assert_true(vio_devq_has_avail(f->q));
	unsigned calls = f->mp.map_calls;
	assert_err(pop(f), 0);
	return f->mp.map_calls - calls;
}

static void test_mem_map_again_takes_nothing(void **state)
{
	struct fx *f = *state;
	f->mp.release = true;
	start(f, M_MAP);
	clean(f);
	/* Readable R0 → R1, readable R3, writable R1 → R2: 5 map calls. */
	struct raw_desc d[3] = {D(DATA + 1000, 48, 0), D(R3_ADDR, 32, 0),
				D(DATA + 2040, 16, F_WRITE)};
	for (unsigned skip = 0; skip < 5; skip++) {
		uint16_t slot = f->r.avail_idx;
		uint16_t id = avail(f, d, 3);
		uint16_t head = is_split(f) ? id : slot;
		assert_int_equal(pop_again_at(f, skip), 5);
		assert_int_equal(f->chain.id, id);
		assert_int_equal(f->chain.head, head);
		assert_int_equal(f->chain.nseg, 5);
		seg_is(f, 0, f->h[0] + 1000, DATA + 1000, 24, false);
		seg_is(f, 1, f->h[1], DATA + 1024, 24, false);
		seg_is(f, 2, f->h[3], R3_ADDR, 32, false);
		seg_is(f, 3, f->h[1] + 1016, DATA + 2040, 8, true);
		seg_is(f, 4, f->h[2], DATA + 2048, 8, true);
		assert_int_equal(f->mp.live, NRING + 5);
		assert_err(vio_devq_push(f->q, &f->chain, 16), 0);
		assert_int_equal(f->mp.live, NRING);
	}
	/* Several refusals in a row: each pop refuses, then it works. */
	avail(f, d, 3);
	f->mp.again = 3;
	for (unsigned k = 0; k < 3; k++)
		assert_err(pop(f), -VIO_EMAP_AGAIN);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	assert_err(pop(f), -VIO_EAGAIN);
	assert_int_equal(f->mp.live, NRING);
}

static void test_mem_map_again_indirect(void **state)
{
	struct fx *f = *state;
	f->mp.release = true;
	f->mp.bounce = true; /* the table is read from a private copy */
	start(f, M_MAP);
	clean(f);
	struct raw_desc t[3] = {
		D(DATA + 16, 16, is_split(f) ? F_NEXT : 0),
		D(DATA + 1016, 16, (uint16_t)(F_WRITE | (is_split(f) ? F_NEXT : 0))),
		D(R3_ADDR + 8, 8, F_WRITE)};
	raw_table_put(f->fmt, f->tbl, t, 3);
	/* Table, then 1 + 2 + 1 buffer mappings. */
	for (unsigned skip = 0; skip < 5; skip++) {
		struct raw_desc d = D(TBL_ADDR, 48, F_INDIRECT);
		uint16_t id = avail(f, &d, 1);
		assert_int_equal(pop_again_at(f, skip), 5);
		assert_int_equal(f->chain.id, id);
		assert_int_equal(f->chain.nseg, 4);
		assert_int_equal(f->chain.nout, 1);
		assert_int_equal(f->chain.in_bytes, 24);
		assert_int_equal(f->segs[1].addr, DATA + 1016);
		assert_int_equal(f->segs[2].addr, DATA + 1024);
		/* The table's own mapping was released once it was read. */
		assert_int_equal(f->mp.live, NRING + 4);
		assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
		assert_int_equal(f->mp.live, NRING);
	}
}

static void test_mem_map_again_at_init_and_set_table(void **state)
{
	struct fx *f = *state;
	f->mp.release = true;
	for (unsigned skip = 0; skip < 3; skip++) {
		f->mp.again_skip = skip;
		f->mp.again = 1;
		assert_err(start_feat(f, M_MAP, feats(f, false, false)), -VIO_EMAP_AGAIN);
		assert_int_equal(f->mp.live, 0);
	}
	start(f, M_MAP);
	assert_int_equal(f->mp.live, NRING);
	clean(f);
	struct raw_desc d = D(DATA + 8, 8, F_WRITE);
	avail(f, &d, 1);
	assert_err(pop(f), 0);
	/* Re-mapping the rings through the callback is refused for now: the
	 * old mappings stay and the queue works on. */
	for (unsigned skip = 0; skip < 3; skip++) {
		f->mp.again_skip = skip;
		f->mp.again = 1;
		assert_err(vio_devq_set_mem_table(f->q, NULL, 0), -VIO_EMAP_AGAIN);
		assert_int_equal(f->mp.live, NRING + 1);
	}
	assert_err(vio_devq_set_mem_table(f->q, NULL, 0), 0);
	assert_int_equal(f->mp.live, NRING + 1);
	assert_err(vio_devq_push(f->q, &f->chain, 8), 0);
	assert_int_equal(f->mp.live, NRING);
	assert_false(vio_devq_is_broken(f->q));
}

/* ---- 4. Write log ------------------------------------------------------------- */

struct range {
	uint64_t addr;
	uint64_t len;
};

/* The logged set is exactly @r (disjoint ranges), and every byte that
 * changed since mp_snap() was logged. */
static void log_is(const struct fx *f, const struct range *r, unsigned n)
{
	size_t total = 0;
	for (unsigned i = 0; i < n; i++) {
		total += r[i].len;
		if (!mp_logged(&f->mp, r[i].addr, r[i].len))
			fail_msg("range 0x%" PRIx64 "+%" PRIu64 " not logged", r[i].addr, r[i].len);
	}
	if (mp_logged_bytes(&f->mp) != total)
		fail_msg("%zu bytes logged, expected %zu", mp_logged_bytes(&f->mp), total);
	uint64_t a;
	if (mp_changed_unlogged(&f->mp, &a))
		fail_msg("guest byte 0x%" PRIx64 " changed but was not logged", a);
}

/* The used-ring bytes a push of @n entries at @pos writes (split: the
 * entries and the index; packed: len/id/flags of the used descriptors,
 * @slots[k] the slot of each). */
static unsigned used_ranges(const struct fx *f, uint16_t pos, unsigned n, const uint16_t *slots,
			    struct range *r)
{
	if (is_split(f)) {
		for (unsigned k = 0; k < n; k++)
			r[k] = (struct range){f->r.device_addr + 4 + 8 * ((pos + k) % QSIZE), 8};
		r[n] = (struct range){f->r.device_addr + 2, 2};
		return n + 1;
	}
	for (unsigned k = 0; k < n; k++)
		r[k] = (struct range){f->r.desc_addr + 16u * (slots ? slots[k] : pos) + 8, 8};
	return n;
}

static void test_mem_log_push_exact(void **state)
{
	struct fx *f = *state;
	static const uint32_t written[] = {0, 1, 24, 25, 30, 48, 87, 88};
	for (enum mode m = M_TABLE; m <= M_MAP; m++) {
		start(f, m);
		clean(f);
		for (unsigned w = 0; w < sizeof(written) / sizeof(written[0]); w++) {
			/* Readable 32; writable 48 (R0 → R1) and 40 (R1 → R2). */
			struct raw_desc d[3] = {D(DATA, 32, 0), D(DATA + 1000, 48, F_WRITE),
						D(DATA + 2024, 40, F_WRITE)};
			avail(f, d, 3);
			assert_err(pop(f), 0);
			assert_int_equal(f->chain.in_bytes, 88);
			mp_snap(&f->mp);
			unsigned char buf[88];
			loop_pattern_fill(buf, sizeof(buf), w + 100u * m);
			assert_int_equal(vio_chain_write(&f->chain, 0, buf, written[w]),
					 written[w]);
			uint16_t pos = used_pos(f);
			assert_err(vio_devq_push(f->q, &f->chain, written[w]), 0);
			struct range r[8];
			unsigned n = used_ranges(f, pos, 1, NULL, r);
			uint32_t a = written[w] < 48 ? written[w] : 48;
			if (a != 0)
				r[n++] = (struct range){DATA + 1000, a};
			if (written[w] > 48)
				r[n++] = (struct range){DATA + 2024, written[w] - 48};
			log_is(f, r, n);
		}
	}
}

static void test_mem_log_notify_writes(void **state)
{
	struct fx *f = *state;
	for (int ei = 0; ei < 2; ei++) {
		assert_err(start_feat(f, M_TABLE, feats(f, ei, false)), 0);
		clean(f);
		struct range r;
		if (!is_split(f))
			r = (struct range){f->r.device_addr, 4};
		else if (ei)
			r = (struct range){f->r.device_addr + 4 + 8 * QSIZE, 2};
		else
			r = (struct range){f->r.device_addr, 2};
		mp_snap(&f->mp);
		vio_devq_disable_notify(f->q);
		log_is(f, &r, 1);
		mp_snap(&f->mp);
		assert_true(vio_devq_enable_notify(f->q));
		log_is(f, &r, 1);
		/* After taking a chain the event moves: still logged. */
		struct raw_desc d = D(DATA, 8, F_WRITE);
		avail(f, &d, 1);
		assert_err(pop(f), 0);
		mp_snap(&f->mp);
		assert_true(vio_devq_enable_notify(f->q));
		log_is(f, &r, 1);
		mp_snap(&f->mp);
		vio_devq_disable_notify(f->q);
		log_is(f, &r, 1);
		assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
		/* needs_notify writes nothing. */
		mp_snap(&f->mp);
		(void)vio_devq_needs_notify(f->q);
		log_is(f, NULL, 0);
	}
}

static void test_mem_log_batch_and_in_order(void **state)
{
	struct fx *f = *state;
	assert_err(start_feat(f, M_TABLE, feats(f, false, true)), 0);
	clean(f);
	for (int in_order = 0; in_order < 2; in_order++) {
		struct vio_chain c[3];
		struct vio_chain_seg s[3][4];
		uint16_t slot[3];
		struct raw_desc d[3][2] = {
			{D(DATA + 100, 8, 0), D(DATA + 1010, 20, F_WRITE)},
			{D(DATA + 200, 8, 0), D(DATA + 2040, 16, F_WRITE)},
			{D(DATA + 300, 8, 0), D(R3_ADDR + 8, 30, F_WRITE)},
		};
		for (unsigned k = 0; k < 3; k++) {
			slot[k] = f->r.avail_idx;
			avail(f, d[k], 2);
			assert_err(vio_devq_pop(f->q, &c[k], s[k], 4), 0);
		}
		mp_snap(&f->mp);
		unsigned char junk[32];
		memset(junk, 0x5a + in_order, sizeof(junk));
		for (unsigned k = 0; k < 3; k++)
			vio_chain_write(&c[k], 0, junk, sizeof(junk));
		struct vio_used u[3] = {{&c[0], 20}, {&c[1], 3}, {&c[2], 11}};
		uint16_t pos = used_pos(f);
		struct range r[16];
		unsigned n;
		if (in_order) {
			assert_err(vio_devq_push_in_order(f->q, u, 3), 0);
			n = used_ranges(f, pos, 1, NULL, r);
			/* Earlier chains count as wholly written. */
			r[n++] = (struct range){DATA + 1010, 20};
			r[n++] = (struct range){DATA + 2040, 16};
			r[n++] = (struct range){R3_ADDR + 8, 11};
		} else {
			assert_err(vio_devq_push_batch(f->q, u, 3), 0);
			n = used_ranges(f, pos, 3, slot, r);
			r[n++] = (struct range){DATA + 1010, 14}; /* R0 part */
			r[n++] = (struct range){DATA + 1024, 6};
			r[n++] = (struct range){DATA + 2040, 3};
			r[n++] = (struct range){R3_ADDR + 8, 11};
		}
		/* The bytes the model wrote beyond `written` changed but are
		 * not the push's to log: report them as the model should. */
		size_t exact = 0;
		for (unsigned i = 0; i < n; i++) {
			exact += r[i].len;
			assert_true(mp_logged(&f->mp, r[i].addr, r[i].len));
		}
		assert_int_equal(mp_logged_bytes(&f->mp), exact);
		vio_devq_log_write(f->q, DATA + 1010, 20);
		vio_devq_log_write(f->q, DATA + 2040, 16);
		vio_devq_log_write(f->q, R3_ADDR + 8, 30);
		vio_devq_log_write(f->q, R3_ADDR, 0); /* nothing */
		uint64_t a;
		if (mp_changed_unlogged(&f->mp, &a))
			fail_msg("byte 0x%" PRIx64 " changed, not logged", a);
		assert_int_equal(mp_logged_in(&f->mp, R3_ADDR, RLEN), 30);
	}
}

/* Random chains, writes and completions; after every step each byte of
 * guest memory that changed was logged. */
static void test_mem_log_random_changed_implies_logged(void **state)
{
	struct fx *f = *state;
	uint64_t seed = loop_seed_from_env(0x6c6f67u + f->fmt, NULL);
	struct loop_rng rng;
	loop_rng_seed(&rng, seed);
	for (enum mode m = M_TABLE; m <= M_BOTH; m++) {
		f->mp.bounce = m == M_MAP;
		assert_err(start_feat(f, m, feats(f, loop_rng_chance(&rng, 50), false)), 0);
		clean(f);
		struct vio_chain c[4];
		struct vio_chain_seg s[4][NSEGS];
		bool held[4] = {false};
		for (unsigned step = 0; step < 300; step++) {
			mp_snap(&f->mp);
			unsigned k = loop_rng_below(&rng, 4);
			unsigned op = loop_rng_below(&rng, 4);
			if (!held[k] && op < 2) {
				/* Each chain slot k owns its own guest bytes (R0..R2
				 * slices that cross region ends, or a slice of R3),
				 * descriptors back to back with small gaps: bounce
				 * copies never overlap. */
				struct raw_desc d[3];
				unsigned n = loop_rng_range(&rng, 1, 3);
				bool r3 = loop_rng_chance(&rng, 20);
				uint64_t at = r3 ? R3_ADDR + 256u * k : DATA + 768u * k;
				for (unsigned i = 0; i < n; i++) {
					uint32_t len = loop_rng_range(&rng, 0, r3 ? 60 : 200);
					bool w = i > 0 && ((d[i - 1].flags & F_WRITE) ||
							   loop_rng_chance(&rng, 70));
					d[i] = D(at, len, w ? F_WRITE : 0);
					at += len + loop_rng_below(&rng, 17);
				}
				/* Packed ids and split table slots must be free:
				 * slot k owns id k and table slots 4k.. 4k+2. */
				f->next_id = (uint16_t)k;
				f->cursor = (uint16_t)(4 * k);
				avail(f, d, n);
				mp_snap(&f->mp); /* the driver's writes are not the device's */
				assert_err(vio_devq_pop(f->q, &c[k], s[k], NSEGS), 0);
				held[k] = true;
			} else if (held[k] && op == 2) {
				mp_snap(&f->mp);
				unsigned char buf[600];
				loop_pattern_fill(buf, sizeof(buf), loop_rng_next(&rng));
				uint32_t w =
					c[k].in_bytes ? loop_rng_below(&rng, c[k].in_bytes + 1) : 0;
				assert_int_equal(vio_chain_write(&c[k], 0, buf, w), w);
				assert_err(vio_devq_push(f->q, &c[k], w), 0);
				held[k] = false;
			} else if (op == 3) {
				mp_snap(&f->mp);
				if (loop_rng_chance(&rng, 50))
					(void)vio_devq_enable_notify(f->q);
				else
					vio_devq_disable_notify(f->q);
			}
			uint64_t a;
			if (mp_changed_unlogged(&f->mp, &a))
				fail_msg("seed 0x%" PRIx64 " (%s, step %u): byte 0x%" PRIx64
					 " changed, not logged",
					 seed, mode_name[m], step, a);
		}
		for (unsigned k = 0; k < 4; k++)
			if (held[k])
				assert_err(vio_devq_drop(f->q, &c[k]), 0);
		assert_int_equal(f->mp.live, 0);
	}
	f->mp.bounce = false;
}

/* ---- 5. Release hook: device-side bounce buffers ---------------------------- */

/* The published used position: split used->idx, packed flags of the slot
 * the next used descriptor goes to. */
static uint32_t published(const struct fx *f)
{
	if (is_split(f))
		return raw_split_used_idx_get(&f->r);
	return raw_packed_flags_get(&f->r, used_pos(f));
}

static void on_release(void *arg, const struct mp_map *m)
{
	struct fx *f = arg;
	if ((m->dir & VIO_MAP_WRITE) && m->bounce && published(f) != f->pub_before)
		f->published_early++;
}

static void start_bounce(struct fx *f)
{
	f->mp.release = true;
	f->mp.bounce = true;
	f->mp.on_release = on_release;
	f->mp.on_release_arg = f;
	start(f, M_MAP);
	clean(f);
	assert_int_equal(f->mp.live, NRING);
}

static void test_mem_bounce_round_trip(void **state)
{
	struct fx *f = *state;
	start_bounce(f);
	for (unsigned i = 0; i < 36; i++) /* R0 → R1 */
		*H(f, DATA + 1000 + i) = (unsigned char)"0123456789abcdefghijklmnopqrstuvwxyz"[i];
	struct raw_desc d[2] = {D(DATA + 1000, 36, 0), D(DATA + 2040, 16, F_WRITE)};
	avail(f, d, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 4);
	assert_true(f->chain.flags & VIO_CHAIN_MAPPED);
	for (unsigned i = 0; i < 4; i++) {
		assert_true(f->segs[i].release);
		assert_ptr_not_equal(f->segs[i].ptr, H(f, f->segs[i].addr)); /* a copy */
	}
	char buf[40] = {0};
	assert_int_equal(vio_chain_read(&f->chain, 0, buf, 40), 36);
	assert_memory_equal(buf, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
	assert_int_equal(vio_chain_write(&f->chain, 0, "ABCDEFGHIJKLMNOP", 16), 16);
	assert_int_not_equal(*H(f, DATA + 2040), 'A'); /* not yet in the guest */
	f->pub_before = published(f);
	unsigned rel = f->mp.releases;
	uint16_t pos = used_pos(f);
	assert_err(vio_devq_push(f->q, &f->chain, 16), 0);
	assert_int_equal(f->mp.releases - rel, 4);
	assert_int_equal(f->mp.live, NRING);
	assert_int_equal(f->published_early, 0); /* released before publication */
	assert_int_not_equal(published(f), f->pub_before);
	assert_int_equal(used_len_at(f, pos), 16);
	assert_memory_equal(H(f, DATA + 2040), "ABCDEFGH", 8);
	assert_memory_equal(H(f, DATA + 2048), "IJKLMNOP", 8);

	/* Batch and in-order pushes release before publishing too. */
	for (int in_order = 0; in_order < 2; in_order++) {
		if (in_order) {
			f->mp.on_release = NULL;
			assert_err(start_feat(f, M_MAP, feats(f, false, true)), 0);
			f->mp.on_release = on_release;
			clean(f);
		}
		struct vio_chain c[2];
		struct vio_chain_seg s[2][4];
		for (unsigned k = 0; k < 2; k++) {
			struct raw_desc w = D(DATA + 100 + 64 * k, 8, F_WRITE);
			avail(f, &w, 1);
			assert_err(vio_devq_pop(f->q, &c[k], s[k], 4), 0);
			assert_int_equal(vio_chain_write(&c[k], 0, "xxxxyyyy", 8), 8);
		}
		struct vio_used u[2] = {{&c[0], 8}, {&c[1], 8}};
		f->pub_before = published(f);
		if (in_order)
			assert_err(vio_devq_push_in_order(f->q, u, 2), 0);
		else
			assert_err(vio_devq_push_batch(f->q, u, 2), 0);
		assert_int_equal(f->published_early, 0);
		assert_int_equal(f->mp.live, NRING);
		assert_memory_equal(H(f, DATA + 164), "xxxxyyyy", 8);
	}
}

static void test_mem_bounce_release_at_drop(void **state)
{
	struct fx *f = *state;
	start_bounce(f);
	struct raw_desc d[2] = {D(DATA + 8, 8, 0), D(DATA + 1020, 8, F_WRITE)};
	avail(f, d, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->mp.live, NRING + 3);
	vio_chain_write(&f->chain, 0, "zzzzzzzz", 8);
	assert_err(vio_devq_drop(f->q, &f->chain), 0);
	assert_int_equal(f->mp.live, NRING);
	assert_err(vio_devq_drop(f->q, &f->chain), -VIO_EINVAL);
	assert_err(vio_devq_push(f->q, &f->chain, 0), -VIO_EINVAL);
	assert_int_equal(f->mp.live, NRING);
	/* Drop works on a broken queue too. */
	avail(f, d, 2);
	assert_err(pop(f), 0);
	vio_devq_fail(f->q, -VIO_EREQUEST);
	assert_err(vio_devq_drop(f->q, &f->chain), 0);
	assert_int_equal(f->mp.live, NRING);
}

static void test_mem_bounce_release_on_failed_pop(void **state)
{
	struct fx *f = *state;
	start_bounce(f);
	/* Mapped R0 → R1 and R3, then a descriptor in the gap. */
	struct raw_desc d[3] = {D(DATA + 1000, 48, 0), D(R3_ADDR, 8, F_WRITE),
				D(GAP_ADDR, 8, F_WRITE)};
	avail(f, d, 3);
	assert_err(pop(f), -VIO_EMAP);
	assert_int_equal(f->mp.live, NRING);
	clean(f);
	/* Readable after writable: refused after the writable one was mapped. */
	struct raw_desc o[2] = {D(DATA + 8, 8, F_WRITE), D(DATA + 16, 8, 0)};
	avail(f, o, 2);
	assert_err(pop(f), -VIO_EDESC_ORDER);
	assert_int_equal(f->mp.live, NRING);
	clean(f);
	/* An indirect table whose second entry is hostile. */
	struct raw_desc t[2] = {D(DATA + 8, 8, is_split(f) ? F_NEXT : 0), D(GAP_ADDR, 8, F_WRITE)};
	raw_table_put(f->fmt, f->tbl, t, 2);
	struct raw_desc ind = D(TBL_ADDR, 32, F_INDIRECT);
	avail(f, &ind, 1);
	assert_err(pop(f), -VIO_EMAP);
	assert_int_equal(f->mp.live, NRING);
	clean(f);
	/* A chain too long for the array: refused, not broken, released. */
	struct raw_desc l[3] = {D(DATA + 8, 8, 0), D(DATA + 16, 8, 0), D(DATA + 24, 8, 0)};
	avail(f, l, 3);
	assert_err(vio_devq_pop(f->q, &f->chain, f->segs, 2), -VIO_ENOSPC);
	assert_int_equal(f->mp.live, NRING);
	assert_false(vio_devq_is_broken(f->q));
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	assert_int_equal(f->mp.live, NRING);
}

static void test_mem_bounce_indirect_table_released(void **state)
{
	struct fx *f = *state;
	start_bounce(f);
	struct raw_desc t[2] = {D(DATA + 8, 8, is_split(f) ? F_NEXT : 0),
				D(DATA + 1020, 8, F_WRITE)};
	raw_table_put(f->fmt, f->tbl, t, 2);
	struct raw_desc ind = D(TBL_ADDR, 32, F_INDIRECT);
	avail(f, &ind, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 3);
	bool seen = false;
	for (unsigned i = 0; i < f->mp.nmaps; i++) {
		if (f->mp.maps[i].addr == TBL_ADDR) {
			seen = true;
			assert_false(f->mp.maps[i].live);
		}
	}
	assert_true(seen);
	assert_int_equal(f->mp.live, NRING + 3);
	assert_err(vio_devq_push(f->q, &f->chain, 8), 0);
	assert_int_equal(f->mp.live, NRING);
}

/* An indirect table the callback grants in pieces: read across them (an
 * entry may straddle two), each piece released once after reading. More
 * pieces than the library follows: refused, and every piece released. */
static void test_mem_indirect_table_in_pieces(void **state)
{
	struct fx *f = *state;
	static const uint64_t caps[] = {16, 24, 40, 8};
	for (unsigned c = 0; c < 4; c++) {
		start_bounce(f);
		struct raw_desc t[3] = {D(DATA + 8, 8, is_split(f) ? F_NEXT : 0),
					D(DATA + 16, 8, is_split(f) ? F_NEXT : 0),
					D(DATA + 1020, 8, F_WRITE)};
		raw_table_put(f->fmt, f->tbl, t, 3);
		f->mp.grant_max = caps[c];
		struct raw_desc ind = D(TBL_ADDR, 48, F_INDIRECT);
		uint16_t id = avail(f, &ind, 1);
		if (caps[c] == 8) { /* six pieces */
			assert_err(pop(f), -VIO_EINDIRECT_MAP);
			expect_broken(f, -VIO_EINDIRECT_MAP);
			assert_int_equal(f->mp.bad_releases, 0);
			assert_int_equal(f->mp.live, NRING);
			f->mp.grant_max = 0;
			continue;
		}
		assert_err(pop(f), 0);
		assert_int_equal(f->chain.id, id);
		/* The last buffer runs from R0 into R1: two segments. */
		assert_int_equal(f->chain.nseg, 4);
		assert_int_equal(f->chain.nout, 2);
		assert_int_equal(f->segs[0].addr, DATA + 8);
		assert_int_equal(f->segs[1].addr, DATA + 16);
		assert_int_equal(f->segs[2].addr, DATA + 1020);
		assert_int_equal(f->segs[3].addr, DATA + 1024);
		/* Only the buffers' mappings are live: the table's are released. */
		assert_int_equal(f->mp.live, NRING + 4);
		assert_err(vio_devq_push(f->q, &f->chain, 8), 0);
		assert_int_equal(f->mp.live, NRING);
		assert_int_equal(f->mp.bad_releases, 0);
		f->mp.grant_max = 0;
	}
}

/* A nested INDIRECT inside a table the callback mapped (with release): the
 * peer error must still release the table being walked (the check for the
 * nested table once clobbered the record of the outer one). */
static void test_mem_nested_indirect_releases_table(void **state)
{
	struct fx *f = *state;
	start_bounce(f);
	struct raw_desc t[2] = {D(DATA + 8, 8, is_split(f) ? F_NEXT : 0),
				D(TBL_ADDR + 512, 16, F_INDIRECT)};
	raw_table_put(f->fmt, f->tbl, t, 2);
	struct raw_desc ind = D(TBL_ADDR, 32, F_INDIRECT);
	avail(f, &ind, 1);
	assert_err(pop(f), -VIO_EINDIRECT_NESTED);
	expect_broken(f, -VIO_EINDIRECT_NESTED);
	assert_int_equal(f->mp.bad_releases, 0);
	assert_int_equal(f->mp.live, NRING);
}

/* A table that runs from one region of the table into the adjacent one. */
static void test_mem_indirect_table_across_regions(void **state)
{
	struct fx *f = *state;
	for (enum mode m = M_TABLE; m <= M_BOTH; m++) {
		start(f, m);
		clean(f);
		struct raw_desc t[3] = {
			D(DATA + 2100, 8, is_split(f) ? F_NEXT : 0),
			D(R3_ADDR + 8, 16, (uint16_t)(F_WRITE | (is_split(f) ? F_NEXT : 0))),
			D(DATA + 2200, 4, F_WRITE)};
		unsigned char img[48];
		raw_table_put(f->fmt, img, t, 3);
		/* 24 bytes at the end of R0, 24 at the start of R1. */
		uint64_t at = DATA + RLEN - 24;
		for (unsigned i = 0; i < sizeof(img); i++)
			*H(f, at + i) = img[i];
		struct raw_desc ind = D(at, 48, F_INDIRECT);
		uint16_t id = avail(f, &ind, 1);
		assert_err(pop(f), 0);
		assert_int_equal(f->chain.id, id);
		assert_int_equal(f->chain.nseg, 3);
		seg_is(f, 0, H(f, DATA + 2100), DATA + 2100, 8, false);
		seg_is(f, 1, H(f, R3_ADDR + 8), R3_ADDR + 8, 16, true);
		seg_is(f, 2, H(f, DATA + 2200), DATA + 2200, 4, true);
		assert_err(vio_devq_push(f->q, &f->chain, 20), 0);
		/* Across the gap: refused. */
		clean(f);
		struct raw_desc gap = D(GAP_ADDR - 16, 32, F_INDIRECT);
		avail(f, &gap, 1);
		assert_err(pop(f), -VIO_EINDIRECT_MAP);
		expect_broken(f, -VIO_EINDIRECT_MAP);
	}
}

static void test_mem_ring_parts_released(void **state)
{
	struct fx *f = *state;
	f->mp.release = true;
	start(f, M_MAP);
	assert_int_equal(f->mp.live, NRING);
	unsigned rel = f->mp.releases;
	/* A table that covers the rings: the callback's ring mappings go. */
	assert_err(vio_devq_set_mem_table(f->q, f->table, f->ntable), 0);
	assert_int_equal(f->mp.live, 0);
	assert_int_equal(f->mp.releases - rel, NRING);
	/* Back to the callback: mapped again, then released at fini. */
	assert_err(vio_devq_set_mem_table(f->q, NULL, 0), 0);
	assert_int_equal(f->mp.live, NRING);
	assert_err(vio_devq_set_mem_table(f->q, NULL, 0), 0); /* re-map: old released */
	assert_int_equal(f->mp.live, NRING);
	vio_devq_fini(f->q);
	f->q = NULL;
	assert_int_equal(f->mp.live, 0);
	assert_int_equal(f->mp.bad_releases, 0);
}

/* ---- 6. Odd callbacks ------------------------------------------------------ */

/* A map callback that grants as the probe does, then spoils the grant as
 * `spoil` says: no host address, or no bytes (both against its contract).
 * A grant with release set is tracked by the probe as spoiled, so that its
 * release is matched. */
static enum {
	SPOIL_NONE,
	SPOIL_HOST,
	SPOIL_LEN
} spoil;

static int spoiling_map(void *ctx, uint64_t addr, uint64_t len, enum vio_map_dir dir,
			struct vio_mapping *m)
{
	int rc = mp_ops.map(ctx, addr, len, dir, m);
	if (rc == 0 && spoil == SPOIL_HOST)
		m->host = NULL;
	if (rc == 0 && spoil == SPOIL_LEN)
		m->len = 0;
	struct mem_probe *p = ctx;
	if (rc == 0 && spoil != SPOIL_NONE && m->release) {
		p->maps[p->nmaps - 1].host = m->host;
		p->maps[p->nmaps - 1].len = m->len;
	}
	return rc;
}

/* A spoiled grant is a refusal: the pop fails with -VIO_EMAP and breaks
 * the queue, no segment points anywhere; one that asked for release is
 * given back, once, as it came; after a reset the same buffer maps. */
static void test_mem_map_bogus_grant_refused(void **state)
{
	struct fx *f = *state;
	static struct vio_mem_ops ops;
	ops = (struct vio_mem_ops){spoiling_map, mp_ops.release, mp_ops.log_write};
	f->ops = &ops;
	for (int k = SPOIL_HOST; k <= 2 * SPOIL_LEN; k++) {
		f->mp.release = k > SPOIL_LEN;
		spoil = SPOIL_NONE;
		start(f, M_MAP);
		clean(f);
		struct raw_desc d = D(DATA + 8, 8, F_WRITE);
		avail(f, &d, 1);
		spoil = k > SPOIL_LEN ? k - SPOIL_LEN : k;
		unsigned grants = f->mp.grants, live = f->mp.live;
		assert_err(pop(f), -VIO_EMAP);
		assert_int_equal(f->mp.grants, grants + 1);
		assert_int_equal(f->mp.live, live);
		assert_null(f->segs[0].ptr);
		expect_broken(f, -VIO_EMAP);
		spoil = SPOIL_NONE;
		clean(f);
		avail(f, &d, 1);
		assert_err(pop(f), 0);
		seg_is(f, 0, f->h[0] + 8, DATA + 8, 8, true);
		assert_err(vio_devq_push(f->q, &f->chain, 8), 0);
		assert_false(vio_devq_is_broken(f->q));
	}
	f->mp.release = false;
}

/* Grants that ask for release while the ops have no release callback: used
 * as they are, and the chain has nothing to give back (not MAPPED). */
static void test_mem_map_release_without_callback(void **state)
{
	struct fx *f = *state;
	static struct vio_mem_ops ops;
	ops = (struct vio_mem_ops){mp_ops.map, NULL, mp_ops.log_write};
	f->ops = &ops;
	f->mp.release = true;
	start(f, M_MAP);
	clean(f);
	struct raw_desc d[2] = {D(DATA + 1000, 48, 0), D(R3_ADDR, 8, F_WRITE)};
	avail(f, d, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 3);
	seg_is(f, 0, f->h[0] + 1000, DATA + 1000, 24, false);
	seg_is(f, 1, f->h[1], DATA + 1024, 24, false);
	seg_is(f, 2, f->h[3], R3_ADDR, 8, true);
	for (unsigned i = 0; i < 3; i++)
		assert_false(f->segs[i].release);
	assert_int_equal(f->chain.flags & VIO_CHAIN_MAPPED, 0);
	uint16_t pos = used_pos(f);
	assert_err(vio_devq_push(f->q, &f->chain, 8), 0);
	assert_int_equal(used_len_at(f, pos), 8);
	assert_int_equal(f->mp.releases, 0);
	f->mp.release = false;
}

static int refuse_chain(void *ctx, const struct vio_chain *chain)
{
	(void)ctx;
	(void)chain;
	return -VIO_EREQUEST;
}

/* A journal that cannot record a chain whose buffers the callback mapped
 * (with release): the pop fails with the journal's code and breaks the
 * queue, and every mapping of that chain is given back once. */
static void test_mem_journal_refusal_releases(void **state)
{
	struct fx *f = *state;
	static const struct vio_devq_journal j = {.pop = refuse_chain};
	f->mp.release = true;
	start(f, M_MAP);
	clean(f);
	assert_err(vio_devq_set_journal(f->q, &j, NULL), 0);
	unsigned live = f->mp.live, grants = f->mp.grants;
	struct raw_desc d[2] = {D(DATA + 1000, 48, 0), D(R3_ADDR, 8, F_WRITE)};
	avail(f, d, 2);
	assert_err(pop(f), -VIO_EREQUEST);
	assert_int_equal(f->mp.grants - grants, 3);
	assert_int_equal(f->mp.live, live);
	expect_broken(f, -VIO_EREQUEST);
	/* A reset recovers; the journal can then be cleared. */
	clean(f);
	assert_err(vio_devq_set_journal(f->q, NULL, NULL), 0);
	assert_int_equal(f->mp.live, live);
	f->mp.release = false;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_mem_desc_across_two_regions),
		BOTH(test_mem_desc_across_three_regions),
		BOTH(test_mem_desc_across_gap_refused),
		BOTH(test_mem_wrong_access_refused),
		BOTH(test_mem_map_partial_grants),
		BOTH(test_mem_table_covering_all_never_maps),
		BOTH(test_mem_table_misses_go_to_callback),
		BOTH(test_mem_table_every_region_found),
		BOTH(test_mem_set_table_live),
		BOTH(test_mem_set_table_refused_keeps_old),
		BOTH(test_mem_map_again_takes_nothing),
		BOTH(test_mem_map_again_indirect),
		BOTH(test_mem_map_again_at_init_and_set_table),
		BOTH(test_mem_log_push_exact),
		BOTH(test_mem_log_notify_writes),
		BOTH(test_mem_log_batch_and_in_order),
		BOTH(test_mem_log_random_changed_implies_logged),
		BOTH(test_mem_bounce_round_trip),
		BOTH(test_mem_bounce_release_at_drop),
		BOTH(test_mem_bounce_release_on_failed_pop),
		BOTH(test_mem_bounce_indirect_table_released),
		BOTH(test_mem_indirect_table_in_pieces),
		BOTH(test_mem_indirect_table_across_regions),
		BOTH(test_mem_nested_indirect_releases_table),
		BOTH(test_mem_ring_parts_released),
		BOTH(test_mem_map_bogus_grant_refused),
		BOTH(test_mem_map_release_without_callback),
		BOTH(test_mem_journal_refusal_releases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
