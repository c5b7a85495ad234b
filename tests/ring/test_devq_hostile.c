/* SPDX-License-Identifier: MIT */
/* A hostile driver against the device half (vio_devq), both ring formats.
 *
 * Rings are written by hand (raw_ring) in a fake guest memory whose map
 * callback refuses anything outside the registered regions. Each violation
 * must give its exact error code, latch the queue broken with that reason,
 * make every later call return -VIO_EBROKEN, leave guest memory untouched,
 * and be cleared by vio_devq_reset(). Valid-but-unusual chains must pop. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "guest_mem.h"
#include "raw_ring.h"

#define QSIZE 8
#define NSEGS (2 * QSIZE)
#define DATA_LEN 4096
#define TBL_LEN 2048
#define RO_LEN 256
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Device addresses nobody registered, and ones the tests register by hand. */
#define UNMAPPED_ADDR 0x50000000ull
#define RO_ADDR 0x70000000ull
#define ODD_BASE 0x71000000ull
#define BIG_ADDR 0x100000000000ull
#define TOP_ADDR 0xfffffffffffff000ull

#define F_NEXT VIO_DESC_F_NEXT
#define F_WRITE VIO_DESC_F_WRITE
#define F_INDIRECT VIO_DESC_F_INDIRECT

struct fx {
	enum vio_ring_format fmt;
	struct guest_mem gm;
	struct raw_ring r;
	struct vio_devq_config cfg;
	struct vio_devq *q;
	void *qmem;
	size_t qmem_size;
	unsigned char *data; /* RW buffers */
	uint64_t data_addr;
	unsigned char *tbl; /* indirect tables */
	uint64_t tbl_addr;
	unsigned char *ro; /* a region the device may only read */
	void *extra[16];   /* host memory registered by hand, freed at teardown */
	unsigned n_extra;
	void *big; /* PROT_NONE reservation for length tests */
	size_t big_len;
	uint16_t cursor; /* split: next descriptor slot the mock driver fills */
	struct vio_chain chain;
	struct vio_chain_seg segs[NSEGS];
	unsigned char *snap[GM_MAX_REGIONS];
};

static bool is_split(const struct fx *f)
{
	return f->fmt == VIO_RING_SPLIT;
}

static uint64_t B(unsigned i)
{
	return 0x100u + 64u * i; /* offset of data buffer i in the data region */
}

static struct vio_features default_features(void)
{
	struct vio_features feat = vio_features_none();
	vio_features_set(&feat, VIO_F_VERSION_1);
	vio_features_set(&feat, VIO_F_INDIRECT_DESC);
	return feat;
}

static int init_queue(struct fx *f, struct vio_features feat)
{
	memset(&f->cfg, 0, sizeof(f->cfg));
	raw_ring_devq_config(&f->r, &f->cfg);
	f->cfg.features = feat;
	f->cfg.mem_ops = &gm_dev_ops;
	f->cfg.mem_ctx = &f->gm;
	f->q = NULL;
	return vio_devq_init(&f->q, f->qmem, f->qmem_size, &f->cfg);
}

static void *extra_alloc(struct fx *f, size_t len)
{
	void *p = NULL;
	assert_true(f->n_extra < ARRAY_SIZE(f->extra));
	assert_int_equal(posix_memalign(&p, 16, len), 0);
	memset(p, 0, len);
	f->extra[f->n_extra++] = p;
	return p;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	gm_init(&f->gm);
	raw_ring_alloc(&f->r, &f->gm, f->fmt, QSIZE);
	f->data = gm_alloc(&f->gm, DATA_LEN, 16, &f->data_addr);
	f->tbl = gm_alloc(&f->gm, TBL_LEN, 16, &f->tbl_addr);
	f->ro = extra_alloc(f, RO_LEN);
	gm_add(&f->gm, RO_ADDR, f->ro, RO_LEN, VIO_MAP_READ);
	f->qmem_size = vio_devq_mem_size(f->fmt, QSIZE);
	assert_true(f->qmem_size >= sizeof(void *));
	f->qmem = malloc(f->qmem_size + 64);
	assert_non_null(f->qmem);
	assert_err(init_queue(f, default_features()), 0);
	assert_int_equal(f->gm.map_calls, 3); /* one per ring part */
	assert_int_equal(f->gm.map_refusals, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	for (unsigned i = 0; i < GM_MAX_REGIONS; i++)
		free(f->snap[i]);
	for (unsigned i = 0; i < f->n_extra; i++)
		free(f->extra[i]);
	if (f->big != NULL)
		munmap(f->big, f->big_len);
	gm_free(&f->gm);
	free(f->qmem);
	free(f);
	return 0;
}

/* ---- Guest memory checks --------------------------------------------------- */

/* Copy every (small) region, to prove a call wrote nothing to guest memory. */
static void snap_take(struct fx *f)
{
	for (unsigned i = 0; i < f->gm.n; i++) {
		free(f->snap[i]);
		f->snap[i] = NULL;
		const struct gm_region *g = &f->gm.r[i];
		if (g->len > (1u << 20))
			continue;
		f->snap[i] = malloc(g->len ? g->len : 1);
		assert_non_null(f->snap[i]);
		memcpy(f->snap[i], g->host, g->len);
	}
}

static void snap_check(struct fx *f)
{
	for (unsigned i = 0; i < f->gm.n; i++) {
		const struct gm_region *g = &f->gm.r[i];
		if (f->snap[i] != NULL && memcmp(f->snap[i], g->host, g->len) != 0)
			fail_msg("guest region %u (addr 0x%llx) was modified", i,
				 (unsigned long long)g->addr);
	}
}

/* A mapped segment must lie wholly inside one region that allows its access. */
static void check_seg(const struct fx *f, const struct vio_chain_seg *s)
{
	if (s->ptr == NULL)
		return;
	const unsigned char *p = s->ptr;
	unsigned need = s->write ? VIO_MAP_WRITE : VIO_MAP_READ;
	for (unsigned i = 0; i < f->gm.n; i++) {
		const struct gm_region *g = &f->gm.r[i];
		if (p >= g->host && (size_t)(p - g->host) <= g->len &&
		    s->len <= g->len - (size_t)(p - g->host) && (g->dirs & need) == need)
			return;
	}
	fail_msg("segment %p+%u (%s) lies outside every granted region", s->ptr, s->len,
		 s->write ? "write" : "read");
}

/* Pop into a cleared array; guest memory must be unchanged and every
 * segment written (even by a failing pop) inside a granted region. */
static int pop_n(struct fx *f, uint16_t max)
{
	memset(f->segs, 0, sizeof(f->segs));
	memset(&f->chain, 0xee, sizeof(f->chain));
	snap_take(f);
	int rc = vio_devq_pop(f->q, &f->chain, f->segs, max);
	snap_check(f);
	for (unsigned i = 0; i < NSEGS; i++)
		check_seg(f, &f->segs[i]);
	if (rc == 0) {
		assert_true(f->chain.nseg <= max);
		assert_true(f->chain.nout <= f->chain.nseg);
		uint64_t out = 0, in = 0;
		for (unsigned i = 0; i < f->chain.nseg; i++) {
			const struct vio_chain_seg *s = &f->segs[i];
			assert_int_equal(s->write, i >= f->chain.nout);
			assert_int_equal(s->ptr == NULL, s->len == 0);
			if (s->write)
				in += s->len;
			else
				out += s->len;
		}
		assert_true(out == f->chain.out_bytes);
		assert_true(in == f->chain.in_bytes);
	}
	return rc;
}

static int pop(struct fx *f)
{
	return pop_n(f, NSEGS);
}

/* ---- Mock driver ----------------------------------------------------------- */

/* Back to a clean slate: ring zeroed, device and mock positions at 0. */
static void reset_all(struct fx *f)
{
	vio_devq_reset(f->q);
	raw_ring_clear(&f->r);
	f->cursor = 0;
}

/* Make @n descriptors available as one chain. Split: written at consecutive
 * table slots, `next` pointing to the following slot (NEXT only where the
 * caller set it); the chain id is the head. Packed: consecutive ring slots,
 * every descriptor carrying @id. Returns the id the device should report. */
static uint16_t avail_chain(struct fx *f, const struct raw_desc *d, unsigned n, uint16_t id)
{
	if (is_split(f)) {
		uint16_t head = f->cursor;
		for (unsigned k = 0; k < n; k++) {
			uint16_t slot = (uint16_t)((head + k) % QSIZE);
			raw_split_put(f->r.desc, slot, d[k].addr, d[k].len, d[k].flags,
				      (uint16_t)((slot + 1) % QSIZE));
		}
		f->cursor = (uint16_t)((head + n) % QSIZE);
		raw_split_avail_add(&f->r, head);
		return head;
	}
	struct raw_desc x[QSIZE];
	assert_true(n <= QSIZE);
	for (unsigned k = 0; k < n; k++) {
		x[k] = d[k];
		x[k].next_or_id = id;
	}
	raw_packed_avail_add(&f->r, x, n);
	return id;
}

/* Write an indirect table of @n entries at @table (split: `next` = k + 1). */
static void put_table(const struct fx *f, void *table, const struct raw_desc *d, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		if (is_split(f))
			raw_split_put(table, k, d[k].addr, d[k].len, d[k].flags, (uint16_t)(k + 1));
		else
			raw_packed_put(table, k, d[k].addr, d[k].len, 0, d[k].flags);
	}
}

/* One descriptor pointing to an indirect table. */
static uint16_t avail_indirect(struct fx *f, uint64_t taddr, uint32_t tlen, uint16_t extra_flags,
			       uint16_t id)
{
	struct raw_desc d = {taddr, tlen, (uint16_t)(F_INDIRECT | extra_flags), 0};
	return avail_chain(f, &d, 1, id);
}

/* In split, flags inside a table need NEXT to continue; in packed they
 * must not carry it. */
static uint16_t tnext(const struct fx *f)
{
	return is_split(f) ? F_NEXT : 0;
}

/* ---- The broken-state contract ------------------------------------------- */

/* A good chain pops and completes: the queue works. Leaves a clean slate. */
static void check_works(struct fx *f)
{
	reset_all(f);
	struct raw_desc d[2] = {{f->data_addr + B(0), 16, F_NEXT, 0},
				{f->data_addr + B(1), 32, F_WRITE, 0}};
	uint16_t id = avail_chain(f, d, 2, 1);
	assert_true(vio_devq_has_avail(f->q));
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.nseg, 2);
	assert_int_equal(f->chain.nout, 1);
	assert_ptr_equal(f->segs[0].ptr, f->data + B(0));
	assert_ptr_equal(f->segs[1].ptr, f->data + B(1));
	assert_err(vio_devq_push(f->q, &f->chain, 7), 0);
	if (is_split(f)) {
		assert_int_equal(raw_split_used_idx_get(&f->r), 1);
		const struct vio_split_used_elem *e = vio_split_used_ring(f->r.device);
		assert_int_equal(vio_le32_get(e[0].id), id);
		assert_int_equal(vio_le32_get(e[0].len), 7);
	} else {
		struct raw_desc u;
		raw_desc_get(f->r.desc, 0, VIO_RING_PACKED, &u);
		assert_int_equal(u.flags, VIO_DESC_F_AVAIL | VIO_DESC_F_USED | F_WRITE);
		assert_int_equal(u.next_or_id, id);
		assert_int_equal(u.len, 7);
	}
	assert_err(pop(f), -VIO_EAGAIN);
	assert_false(vio_devq_is_broken(f->q));
	reset_all(f);
}

static void expect_broken(struct fx *f, int err)
{
	assert_true(vio_err_is_peer(err));
	assert_true(vio_devq_is_broken(f->q));
	assert_err(vio_devq_broken_reason(f->q), err);

	/* Every later call is refused and writes nothing. */
	for (int k = 0; k < 2; k++)
		assert_err(pop(f), -VIO_EBROKEN);
	snap_take(f);
	struct vio_chain c = {0, 1, 1, 1, 16, 0, 0, 0, 0, NULL};
	assert_err(vio_devq_push(f->q, &c, 0), -VIO_EBROKEN);
	struct vio_used u[2] = {{&c, 0}, {&c, 4}};
	assert_err(vio_devq_push_batch(f->q, u, 2), -VIO_EBROKEN);
	assert_false(vio_devq_has_avail(f->q));
	assert_false(vio_devq_needs_notify(f->q));
	snap_check(f);
	assert_true(vio_devq_is_broken(f->q));
	assert_err(vio_devq_broken_reason(f->q), err);

	/* Reset clears the state; the queue then works again. */
	vio_devq_reset(f->q);
	assert_false(vio_devq_is_broken(f->q));
	assert_int_equal(vio_devq_broken_reason(f->q), 0);
	check_works(f);
}

/* Pop must fail with @err; then the whole contract above. */
static void expect_pop_breaks(struct fx *f, int err)
{
	assert_err(pop(f), err);
	expect_broken(f, err);
}

/* ---- Descriptor indices ----------------------------------------------------- */

static void test_devq_split_head_out_of_range(void **state)
{
	struct fx *f = *state;
	static const uint16_t heads[] = {QSIZE, QSIZE + 1, 0x7fff, 0x8000, 0xffff};
	for (size_t i = 0; i < ARRAY_SIZE(heads); i++) {
		unsigned calls = f->gm.map_calls;
		raw_split_avail_add(&f->r, heads[i]);
		assert_err(pop(f), -VIO_EDESC_HEAD);
		assert_int_equal(f->gm.map_calls, calls); /* nothing was mapped */
		expect_broken(f, -VIO_EDESC_HEAD);
	}
	/* Head size-1 is valid. */
	raw_split_put(f->r.desc, QSIZE - 1, f->data_addr, 8, 0, 0);
	raw_split_avail_add(&f->r, QSIZE - 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, QSIZE - 1);
}

static void test_devq_split_next_out_of_range(void **state)
{
	struct fx *f = *state;
	static const uint16_t nexts[] = {QSIZE, QSIZE + 1, 0x8000, 0xffff};
	for (size_t i = 0; i < ARRAY_SIZE(nexts); i++) {
		raw_split_put(f->r.desc, 2, f->data_addr + B(0), 16, F_NEXT, nexts[i]);
		raw_split_avail_add(&f->r, 2);
		expect_pop_breaks(f, -VIO_EDESC_NEXT);
	}
	/* next = size-1 is in range. */
	raw_split_put(f->r.desc, 0, f->data_addr + B(0), 16, F_NEXT, QSIZE - 1);
	raw_split_put(f->r.desc, QSIZE - 1, f->data_addr + B(1), 16, 0, 0);
	raw_split_avail_add(&f->r, 0);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 2);
}

static void test_devq_split_indirect_next_out_of_range(void **state)
{
	struct fx *f = *state;
	/* A 2-entry table whose first entry points to entry 2: within the
	 * queue size, but beyond the table. */
	raw_split_put(f->tbl, 0, f->data_addr + B(0), 16, F_NEXT, 2);
	raw_split_put(f->tbl, 1, f->data_addr + B(1), 16, 0, 0);
	avail_indirect(f, f->tbl_addr, 32, 0, 0);
	expect_pop_breaks(f, -VIO_EDESC_NEXT);

	raw_split_put(f->tbl, 0, f->data_addr + B(0), 16, F_NEXT, 0xffff);
	avail_indirect(f, f->tbl_addr, 32, 0, 0);
	expect_pop_breaks(f, -VIO_EDESC_NEXT);
}

/* ---- Loops and over-long chains ---------------------------------------- */

static void test_devq_split_loop(void **state)
{
	struct fx *f = *state;
	/* a -> b -> a */
	raw_split_put(f->r.desc, 0, f->data_addr + B(0), 16, F_NEXT, 1);
	raw_split_put(f->r.desc, 1, f->data_addr + B(1), 16, F_NEXT, 0);
	raw_split_avail_add(&f->r, 0);
	expect_pop_breaks(f, -VIO_EDESC_LOOP);

	/* self-loop */
	raw_split_put(f->r.desc, 3, f->data_addr + B(3), 16, F_NEXT, 3);
	raw_split_avail_add(&f->r, 3);
	expect_pop_breaks(f, -VIO_EDESC_LOOP);

	/* self-loop of empty, writable descriptors: nothing is mapped */
	unsigned calls = f->gm.map_calls;
	raw_split_put(f->r.desc, 5, f->data_addr, 0, F_NEXT | F_WRITE, 5);
	raw_split_avail_add(&f->r, 5);
	assert_err(pop(f), -VIO_EDESC_LOOP);
	assert_int_equal(f->gm.map_calls, calls);
	expect_broken(f, -VIO_EDESC_LOOP);

	/* a longer cycle entered through a tail: 0 -> 1 -> 2 -> 3 -> 1 */
	for (uint16_t i = 0; i < 4; i++)
		raw_split_put(f->r.desc, i, f->data_addr + B(i), 4, F_NEXT,
			      (uint16_t)(i == 3 ? 1 : i + 1));
	raw_split_avail_add(&f->r, 0);
	expect_pop_breaks(f, -VIO_EDESC_LOOP);
}

static void test_devq_split_indirect_loop(void **state)
{
	struct fx *f = *state;
	/* 0 -> 1 -> 2 -> 1 inside the table */
	raw_split_put(f->tbl, 0, f->data_addr + B(0), 16, F_NEXT, 1);
	raw_split_put(f->tbl, 1, f->data_addr + B(1), 16, F_NEXT, 2);
	raw_split_put(f->tbl, 2, f->data_addr + B(2), 16, F_NEXT, 1);
	avail_indirect(f, f->tbl_addr, 48, 0, 0);
	expect_pop_breaks(f, -VIO_EDESC_LOOP);

	/* a one-entry table pointing to itself */
	raw_split_put(f->tbl, 0, f->data_addr + B(0), 16, F_NEXT, 0);
	avail_indirect(f, f->tbl_addr, 16, 0, 0);
	expect_pop_breaks(f, -VIO_EDESC_LOOP);
}

/* Direct descriptors followed by a full table: more segments than the
 * queue size, without any loop (§2.7.5.3.1: no chain longer than the
 * queue size). */
static void test_devq_split_direct_plus_indirect_too_long(void **state)
{
	struct fx *f = *state;
	for (unsigned k = 0; k < QSIZE; k++)
		raw_split_put(f->tbl, k, f->data_addr + B(k), 4, k + 1 < QSIZE ? F_NEXT : 0,
			      (uint16_t)(k + 1));
	struct raw_desc d[3] = {{f->data_addr + B(10), 4, F_NEXT, 0},
				{f->data_addr + B(11), 4, F_NEXT, 0},
				{f->tbl_addr, 16 * QSIZE, F_INDIRECT, 0}};
	avail_chain(f, d, 3, 0);
	expect_pop_breaks(f, -VIO_EDESC_LOOP);

	/* One direct descriptor fewer... still too long: 1 + 8 > 8. */
	struct raw_desc e[2] = {{f->data_addr + B(10), 4, F_NEXT, 0},
				{f->tbl_addr, 16 * QSIZE, F_INDIRECT, 0}};
	avail_chain(f, e, 2, 0);
	expect_pop_breaks(f, -VIO_EDESC_LOOP);

	/* ...but 1 direct + a 7-entry table is exactly the queue size. */
	raw_split_put(f->tbl, QSIZE - 2, f->data_addr + B(6), 4, 0, 0);
	e[1].len = 16 * (QSIZE - 1);
	avail_chain(f, e, 2, 0);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, QSIZE);
}

static void test_devq_packed_ring_full_of_next(void **state)
{
	struct fx *f = *state;
	struct raw_desc d[QSIZE];
	for (unsigned k = 0; k < QSIZE; k++)
		d[k] = (struct raw_desc){f->data_addr + B(k), 8, F_NEXT, 0};
	avail_chain(f, d, QSIZE, 0);
	expect_pop_breaks(f, -VIO_EDESC_LOOP);

	/* Empty descriptors: the bound is the ring, not the mapping. */
	for (unsigned k = 0; k < QSIZE; k++)
		d[k] = (struct raw_desc){0, 0, F_NEXT | F_WRITE, 0};
	unsigned calls = f->gm.map_calls;
	avail_chain(f, d, QSIZE, 0);
	assert_err(pop(f), -VIO_EDESC_LOOP);
	assert_int_equal(f->gm.map_calls, calls);
	expect_broken(f, -VIO_EDESC_LOOP);

	/* The same ring with the last NEXT cleared is a valid full chain. */
	for (unsigned k = 0; k < QSIZE; k++)
		d[k] = (struct raw_desc){f->data_addr + B(k), 8, k + 1 < QSIZE ? F_NEXT : 0, 0};
	avail_chain(f, d, QSIZE, 3);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, 3);
	assert_int_equal(f->chain.ndesc, QSIZE);
	assert_int_equal(f->chain.nseg, QSIZE);
}

/* ---- Indirect tables --------------------------------------------------- */

static void fill_table(const struct fx *f, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		raw_desc_put(f->tbl, k, f->fmt,
			     &(struct raw_desc){f->data_addr + B(k), 4,
						(uint16_t)(k + 1 < n ? tnext(f) : 0),
						(uint16_t)(k + 1)});
}

static void test_devq_indirect_table_too_long(void **state)
{
	struct fx *f = *state;
	static const uint32_t lens[] = {QSIZE + 1, 2 * QSIZE, 0x0fffffffu};
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		fill_table(f, QSIZE + 1);
		unsigned calls = f->gm.map_calls;
		avail_indirect(f, f->tbl_addr, 16 * lens[i], 0, 2);
		assert_err(pop(f), -VIO_EINDIRECT_LONG);
		assert_int_equal(f->gm.map_calls, calls); /* the table was not mapped */
		expect_broken(f, -VIO_EINDIRECT_LONG);
	}
}

static void test_devq_indirect_empty(void **state)
{
	struct fx *f = *state;
	unsigned calls = f->gm.map_calls;
	avail_indirect(f, f->tbl_addr, 0, 0, 0);
	assert_err(pop(f), -VIO_EINDIRECT_EMPTY);
	assert_int_equal(f->gm.map_calls, calls);
	expect_broken(f, -VIO_EINDIRECT_EMPTY);
}

static void test_devq_indirect_size_not_multiple(void **state)
{
	struct fx *f = *state;
	static const uint32_t lens[] = {1, 8, 15, 17, 24, 16 * QSIZE - 1, 16 * QSIZE + 8};
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		fill_table(f, QSIZE + 1);
		unsigned calls = f->gm.map_calls;
		avail_indirect(f, f->tbl_addr, lens[i], 0, 1);
		assert_err(pop(f), -VIO_EINDIRECT_SIZE);
		assert_int_equal(f->gm.map_calls, calls);
		expect_broken(f, -VIO_EINDIRECT_SIZE);
	}
}

static void test_devq_indirect_unmappable(void **state)
{
	struct fx *f = *state;
	/* Nothing registered there. */
	unsigned calls = f->gm.map_calls, refused = f->gm.map_refusals;
	avail_indirect(f, UNMAPPED_ADDR, 32, 0, 0);
	assert_err(pop(f), -VIO_EINDIRECT_MAP);
	assert_int_equal(f->gm.map_calls, calls + 1);
	assert_int_equal(f->gm.map_refusals, refused + 1);
	expect_broken(f, -VIO_EINDIRECT_MAP);

	/* Starts inside the table region, ends 16 bytes past it. */
	avail_indirect(f, f->tbl_addr + TBL_LEN - 16, 32, 0, 0);
	expect_pop_breaks(f, -VIO_EINDIRECT_MAP);

	/* Wraps around 2^64: refused before the callback is asked. */
	calls = f->gm.map_calls;
	avail_indirect(f, 0xfffffffffffffff0ull, 32, 0, 0);
	assert_err(pop(f), -VIO_EINDIRECT_MAP);
	assert_int_equal(f->gm.map_calls, calls);
	expect_broken(f, -VIO_EINDIRECT_MAP);
}

static void test_devq_indirect_without_feature(void **state)
{
	struct fx *f = *state;
	struct vio_features feat = default_features();
	vio_features_clear(&feat, VIO_F_INDIRECT_DESC);
	raw_ring_clear(&f->r);
	assert_err(init_queue(f, feat), 0);

	fill_table(f, 2);
	unsigned calls = f->gm.map_calls;
	avail_indirect(f, f->tbl_addr, 32, 0, 0);
	assert_err(pop(f), -VIO_EINDIRECT_FEATURE);
	assert_int_equal(f->gm.map_calls, calls);
	expect_broken(f, -VIO_EINDIRECT_FEATURE);

	/* Split: also after direct descriptors. */
	if (is_split(f)) {
		struct raw_desc d[2] = {{f->data_addr + B(9), 4, F_NEXT, 0},
					{f->tbl_addr, 32, F_INDIRECT, 0}};
		avail_chain(f, d, 2, 0);
		expect_pop_breaks(f, -VIO_EINDIRECT_FEATURE);
	}
}

static void test_devq_indirect_nested(void **state)
{
	struct fx *f = *state;
	/* Entry 0 of the table points to another table. */
	unsigned char *inner = f->tbl + 1024;
	raw_desc_put(inner, 0, f->fmt, &(struct raw_desc){f->data_addr + B(0), 4, 0, 0});
	raw_desc_put(f->tbl, 0, f->fmt, &(struct raw_desc){f->tbl_addr + 1024, 16, F_INDIRECT, 0});
	avail_indirect(f, f->tbl_addr, 16, 0, 0);
	expect_pop_breaks(f, -VIO_EINDIRECT_NESTED);

	/* The second entry is the nested one. */
	raw_desc_put(f->tbl, 0, f->fmt, &(struct raw_desc){f->data_addr + B(0), 4, tnext(f), 1});
	raw_desc_put(f->tbl, 1, f->fmt, &(struct raw_desc){f->tbl_addr + 1024, 16, F_INDIRECT, 0});
	avail_indirect(f, f->tbl_addr, 32, 0, 0);
	expect_pop_breaks(f, -VIO_EINDIRECT_NESTED);
}

static void test_devq_indirect_with_next(void **state)
{
	struct fx *f = *state;
	fill_table(f, 2);
	/* INDIRECT | NEXT in the head, followed by a plausible descriptor. */
	struct raw_desc d[2] = {{f->tbl_addr, 32, F_INDIRECT | F_NEXT, 0},
				{f->data_addr + B(9), 4, 0, 0}};
	unsigned calls = f->gm.map_calls;
	avail_chain(f, d, 2, 0);
	assert_err(pop(f), -VIO_EINDIRECT_NEXT);
	assert_int_equal(f->gm.map_calls, calls);
	expect_broken(f, -VIO_EINDIRECT_NEXT);

	if (is_split(f)) {
		/* After a direct descriptor. */
		struct raw_desc e[3] = {{f->data_addr + B(8), 4, F_NEXT, 0},
					{f->tbl_addr, 32, F_INDIRECT | F_NEXT, 0},
					{f->data_addr + B(9), 4, 0, 0}};
		avail_chain(f, e, 3, 0);
		expect_pop_breaks(f, -VIO_EINDIRECT_NEXT);
	}
}

/* Packed §2.8.6.1: no INDIRECT descriptor in a NEXT-linked list. */
static void test_devq_packed_indirect_after_next(void **state)
{
	struct fx *f = *state;
	fill_table(f, 2);
	struct raw_desc d[2] = {{f->data_addr + B(8), 4, F_NEXT, 0},
				{f->tbl_addr, 32, F_INDIRECT, 0}};
	avail_chain(f, d, 2, 0);
	expect_pop_breaks(f, -VIO_EINDIRECT_NEXT);

	/* Also in the middle of a longer list. */
	struct raw_desc e[3] = {{f->data_addr + B(8), 4, F_NEXT, 0},
				{f->tbl_addr, 32, F_INDIRECT | F_NEXT, 0},
				{f->data_addr + B(9), 4, 0, 0}};
	avail_chain(f, e, 3, 0);
	expect_pop_breaks(f, -VIO_EINDIRECT_NEXT);
}

/* ---- Descriptor order and lengths ------------------------------------- */

static void test_devq_readable_after_writable(void **state)
{
	struct fx *f = *state;
	struct raw_desc d[2] = {{f->data_addr + B(0), 16, F_WRITE | F_NEXT, 0},
				{f->data_addr + B(1), 16, 0, 0}};
	avail_chain(f, d, 2, 0);
	expect_pop_breaks(f, -VIO_EDESC_ORDER);

	struct raw_desc e[3] = {{f->data_addr + B(0), 16, F_NEXT, 0},
				{f->data_addr + B(1), 16, F_WRITE | F_NEXT, 0},
				{f->data_addr + B(2), 0, 0, 0}};
	avail_chain(f, e, 3, 0);
	expect_pop_breaks(f, -VIO_EDESC_ORDER);
}

static void test_devq_readable_after_writable_indirect(void **state)
{
	struct fx *f = *state;
	struct raw_desc t[2] = {{f->data_addr + B(0), 16, (uint16_t)(F_WRITE | tnext(f)), 0},
				{f->data_addr + B(1), 16, 0, 0}};
	put_table(f, f->tbl, t, 2);
	avail_indirect(f, f->tbl_addr, 32, 0, 0);
	expect_pop_breaks(f, -VIO_EDESC_ORDER);

	if (is_split(f)) {
		/* Writable direct descriptor, then a table starting readable. */
		struct raw_desc r[1] = {{f->data_addr + B(1), 16, 0, 0}};
		put_table(f, f->tbl, r, 1);
		struct raw_desc d[2] = {{f->data_addr + B(0), 16, F_WRITE | F_NEXT, 0},
					{f->tbl_addr, 16, F_INDIRECT, 0}};
		avail_chain(f, d, 2, 0);
		expect_pop_breaks(f, -VIO_EDESC_ORDER);
	}
}

/* Reserve 2 GiB of inaccessible address space as one region: the library
 * maps but never dereferences buffers, so a fault would be a bug. */
static bool big_region(struct fx *f)
{
	if (SIZE_MAX <= 0xffffffffu)
		return false;
	f->big_len = (size_t)0x80000000u;
	f->big = mmap(NULL, f->big_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
		      0);
	if (f->big == MAP_FAILED) {
		f->big = NULL;
		return false;
	}
	gm_add(&f->gm, BIG_ADDR, f->big, f->big_len, VIO_MAP_RW);
	return true;
}

static void test_devq_len_overflow(void **state)
{
	struct fx *f = *state;
	if (!big_region(f))
		skip();

	/* 2^31 + 2^31 = 2^32 > 2^32 - 1. The second segment is refused before
	 * it is mapped (its address is not even registered). */
	static const uint16_t wflags[][2] = {{0, 0}, {0, F_WRITE}, {F_WRITE, F_WRITE}};
	for (size_t i = 0; i < ARRAY_SIZE(wflags); i++) {
		struct raw_desc d[2] = {
			{BIG_ADDR, 0x80000000u, (uint16_t)(wflags[i][0] | F_NEXT), 0},
			{UNMAPPED_ADDR, 0x80000000u, wflags[i][1], 0}};
		unsigned calls = f->gm.map_calls, refused = f->gm.map_refusals;
		avail_chain(f, d, 2, 0);
		assert_err(pop(f), -VIO_ELEN_OVERFLOW);
		assert_int_equal(f->gm.map_calls, calls + 1);
		assert_int_equal(f->gm.map_refusals, refused);
		expect_broken(f, -VIO_ELEN_OVERFLOW);
	}

	/* Three segments, overflowing only at the third. */
	struct raw_desc e[3] = {{BIG_ADDR, 0x7fffffffu, F_NEXT, 0},
				{BIG_ADDR, 0x7fffffffu, F_NEXT | F_WRITE, 0},
				{UNMAPPED_ADDR, 2, F_WRITE, 0}};
	avail_chain(f, e, 3, 0);
	expect_pop_breaks(f, -VIO_ELEN_OVERFLOW);

	/* The same inside an indirect table. */
	struct raw_desc t[2] = {{BIG_ADDR, 0x80000000u, tnext(f), 0},
				{UNMAPPED_ADDR, 0x80000000u, F_WRITE, 0}};
	put_table(f, f->tbl, t, 2);
	avail_indirect(f, f->tbl_addr, 32, 0, 0);
	expect_pop_breaks(f, -VIO_ELEN_OVERFLOW);

	/* Exactly 2^32 - 1 bytes is a valid chain. */
	struct raw_desc g[2] = {{BIG_ADDR, 0x80000000u, F_NEXT, 0},
				{BIG_ADDR, 0x7fffffffu, F_WRITE, 0}};
	uint16_t id = avail_chain(f, g, 2, 4);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.out_bytes, 0x80000000u);
	assert_int_equal(f->chain.in_bytes, 0x7fffffffu);
	assert_ptr_equal(f->segs[0].ptr, f->big);
	assert_ptr_equal(f->segs[1].ptr, f->big);
}

/* ---- Available index ------------------------------------------------------- */

static void test_devq_split_avail_jump(void **state)
{
	struct fx *f = *state;
	static const uint16_t idxs[] = {QSIZE + 1, 2 * QSIZE, 0x8000, 0xffff};
	for (size_t i = 0; i < ARRAY_SIZE(idxs); i++) {
		raw_split_avail_publish(&f->r, idxs[i]);
		unsigned calls = f->gm.map_calls;
		assert_err(pop(f), -VIO_EAVAIL_JUMP);
		assert_int_equal(f->gm.map_calls, calls);
		expect_broken(f, -VIO_EAVAIL_JUMP);
	}

	/* Relative to the position already consumed. */
	struct raw_desc d = {f->data_addr + B(0), 4, 0, 0};
	avail_chain(f, &d, 1, 0);
	avail_chain(f, &d, 1, 0);
	assert_err(pop(f), 0);
	assert_err(pop(f), 0);
	raw_split_avail_publish(&f->r, 2 + QSIZE + 1);
	expect_pop_breaks(f, -VIO_EAVAIL_JUMP);

	/* Exactly `size` entries published at once is legal. */
	for (uint16_t k = 0; k < QSIZE; k++) {
		raw_split_put(f->r.desc, k, f->data_addr + B(k), 4, 0, 0);
		raw_split_avail_entry_set(&f->r, k, (uint16_t)(QSIZE - 1 - k));
	}
	raw_split_avail_publish(&f->r, QSIZE);
	for (unsigned k = 0; k < QSIZE; k++) {
		assert_err(pop(f), 0);
		assert_int_equal(f->chain.id, QSIZE - 1 - k);
		assert_ptr_equal(f->segs[0].ptr, f->data + B(QSIZE - 1 - k));
	}
	assert_err(pop(f), -VIO_EAGAIN);
	assert_false(vio_devq_is_broken(f->q));
}

/* ---- Buffer mapping ---------------------------------------------------------- */

static void test_devq_buffer_unmappable(void **state)
{
	struct fx *f = *state;
	/* Address nobody registered, after a good segment. */
	struct raw_desc a[2] = {{f->data_addr + B(0), 16, F_NEXT, 0}, {UNMAPPED_ADDR, 16, 0, 0}};
	unsigned refused = f->gm.map_refusals;
	avail_chain(f, a, 2, 0);
	assert_err(pop(f), -VIO_EMAP);
	assert_int_equal(f->gm.map_refusals, refused + 1);
	expect_broken(f, -VIO_EMAP);

	/* One byte past the end of a region. */
	struct raw_desc b = {f->data_addr + DATA_LEN - 16, 17, 0, 0};
	avail_chain(f, &b, 1, 0);
	expect_pop_breaks(f, -VIO_EMAP);

	/* Device-writable buffer in memory the device may only read. */
	struct raw_desc c = {RO_ADDR, 16, F_WRITE, 0};
	avail_chain(f, &c, 1, 0);
	expect_pop_breaks(f, -VIO_EMAP);

	/* Inside an indirect table. */
	struct raw_desc t[2] = {{f->data_addr + B(0), 16, tnext(f), 0}, {UNMAPPED_ADDR, 8, 0, 0}};
	put_table(f, f->tbl, t, 2);
	avail_indirect(f, f->tbl_addr, 32, 0, 0);
	expect_pop_breaks(f, -VIO_EMAP);

	/* A readable buffer in the read-only region is fine. */
	struct raw_desc ok = {RO_ADDR + 16, RO_LEN - 16, 0, 0};
	avail_chain(f, &ok, 1, 0);
	assert_err(pop(f), 0);
	assert_ptr_equal(f->segs[0].ptr, f->ro + 16);
}

static void test_devq_buffer_wraps_address_space(void **state)
{
	struct fx *f = *state;
	static const struct {
		uint64_t addr;
		uint32_t len;
	} wraps[] = {
		{0xfffffffffffff000ull, 0x2000},
		{0xffffffffffffffffull, 2},
		{0xfffffffffffffff0ull, 0xffffffffu},
		{0x8000000000000000ull | 0x7fffffffffffff00ull, 0x200},
	};
	for (size_t i = 0; i < ARRAY_SIZE(wraps); i++) {
		for (int write = 0; write < 2; write++) {
			struct raw_desc d = {wraps[i].addr, wraps[i].len,
					     (uint16_t)(write ? F_WRITE : 0), 0};
			unsigned calls = f->gm.map_calls;
			avail_chain(f, &d, 1, 0);
			assert_err(pop(f), -VIO_EMAP);
			assert_int_equal(f->gm.map_calls, calls); /* never reached the callback */
			expect_broken(f, -VIO_EMAP);
		}
	}
	/* Inside an indirect table. */
	struct raw_desc t = {0xffffffffffffff00ull, 0x101, F_WRITE, 0};
	put_table(f, f->tbl, &t, 1);
	avail_indirect(f, f->tbl_addr, 16, 0, 0);
	unsigned calls = f->gm.map_calls;
	assert_err(pop(f), -VIO_EMAP);
	assert_int_equal(f->gm.map_calls, calls + 1); /* the table only */
	expect_broken(f, -VIO_EMAP);
}

/* A buffer ending exactly at 2^64 - 1 does not wrap. */
static void test_devq_buffer_at_top_of_address_space_ok(void **state)
{
	struct fx *f = *state;
	unsigned char *top = extra_alloc(f, 0x1000);
	gm_add(&f->gm, TOP_ADDR, top, 0x1000, VIO_MAP_RW);

	struct raw_desc d[2] = {{TOP_ADDR, 0x1000, F_NEXT, 0},
				{0xffffffffffffffffull, 1, F_WRITE, 0}};
	avail_chain(f, d, 2, 0);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.nseg, 2);
	assert_ptr_equal(f->segs[0].ptr, top);
	assert_ptr_equal(f->segs[1].ptr, top + 0xfff);
	assert_int_equal(f->chain.in_bytes, 1);
}

/* ---- Packed buffer ids ------------------------------------------------------- */

static void test_devq_packed_id_out_of_range(void **state)
{
	struct fx *f = *state;
	static const uint16_t ids[] = {QSIZE, QSIZE + 1, 0x7fff, 0xffff};
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		struct raw_desc d[2] = {{f->data_addr + B(0), 16, F_NEXT, 0},
					{f->data_addr + B(1), 16, F_WRITE, 0}};
		avail_chain(f, d, 2, ids[i]);
		expect_pop_breaks(f, -VIO_EDESC_ID);
	}
	/* A single descriptor (the pop fast path), readable or writable. */
	for (size_t i = 0; i < ARRAY_SIZE(ids); i++) {
		struct raw_desc d = {f->data_addr + B(0), 16, (uint16_t)(i & 1 ? F_WRITE : 0), 0};
		unsigned calls = f->gm.map_calls;
		avail_chain(f, &d, 1, ids[i]);
		assert_err(pop(f), -VIO_EDESC_ID);
		assert_int_equal(f->gm.map_calls, calls); /* refused before mapping */
		expect_broken(f, -VIO_EDESC_ID);
	}
	/* Only the last descriptor's id counts (§2.8.7): a bad id elsewhere is fine. */
	struct raw_desc d[2] = {{f->data_addr + B(0), 16, F_NEXT, 0xffff},
				{f->data_addr + B(1), 16, F_WRITE, QSIZE - 1}};
	raw_packed_avail_add(&f->r, d, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, QSIZE - 1);

	/* Indirect: the id is in the descriptor that points to the table. */
	fill_table(f, 2);
	avail_indirect(f, f->tbl_addr, 32, 0, QSIZE);
	expect_pop_breaks(f, -VIO_EDESC_ID);
}

static void test_devq_packed_id_in_flight(void **state)
{
	struct fx *f = *state;
	struct raw_desc d = {f->data_addr + B(0), 16, 0, 0};

	/* Reusing an id after it was pushed back is fine. */
	avail_chain(f, &d, 1, 3);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, 3);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	avail_chain(f, &d, 1, 3);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, 3);

	/* Id 3 is held by the device: the driver offers it again. */
	avail_chain(f, &d, 1, 3);
	expect_pop_breaks(f, -VIO_EDESC_INFLIGHT);

	/* A multi-descriptor list (the general path) too. */
	struct raw_desc two[2] = {{f->data_addr + B(1), 16, F_NEXT, 0},
				  {f->data_addr + B(2), 16, F_WRITE, 0}};
	avail_chain(f, two, 2, 4);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, 4);
	avail_chain(f, two, 2, 4);
	expect_pop_breaks(f, -VIO_EDESC_INFLIGHT);
	avail_chain(f, &d, 1, 4);
	assert_err(pop(f), 0);
	avail_chain(f, two, 2, 4); /* held by a single-descriptor chain */
	expect_pop_breaks(f, -VIO_EDESC_INFLIGHT);

	/* Through an indirect descriptor too. */
	avail_chain(f, &d, 1, 5);
	assert_err(pop(f), 0);
	fill_table(f, 2);
	avail_indirect(f, f->tbl_addr, 32, 0, 5);
	expect_pop_breaks(f, -VIO_EDESC_INFLIGHT);
}

/* ---- Valid but unusual ---------------------------------------------------- */

/* §2.7.5.3: direct descriptors followed by one indirect descriptor. */
static void test_devq_split_direct_then_indirect_ok(void **state)
{
	struct fx *f = *state;
	raw_split_put(f->tbl, 0, f->data_addr + B(2), 4, F_NEXT, 1);
	raw_split_put(f->tbl, 1, f->data_addr + B(3), 5, F_WRITE | F_NEXT, 2);
	raw_split_put(f->tbl, 2, f->data_addr + B(4), 6, F_WRITE, 0);
	struct raw_desc d[3] = {{f->data_addr + B(0), 16, F_NEXT, 0},
				{f->data_addr + B(1), 8, F_NEXT, 0},
				{f->tbl_addr, 48, F_INDIRECT, 0}};
	uint16_t head = avail_chain(f, d, 3, 0);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, head);
	assert_int_equal(f->chain.ndesc, 3);
	assert_int_equal(f->chain.nseg, 5);
	assert_int_equal(f->chain.nout, 3);
	assert_int_equal(f->chain.out_bytes, 16 + 8 + 4);
	assert_int_equal(f->chain.in_bytes, 5 + 6);
	static const unsigned bufs[] = {0, 1, 2, 3, 4};
	static const uint32_t lens[] = {16, 8, 4, 5, 6};
	for (unsigned i = 0; i < 5; i++) {
		assert_ptr_equal(f->segs[i].ptr, f->data + B(bufs[i]));
		assert_int_equal(f->segs[i].len, lens[i]);
	}
	assert_err(vio_devq_push(f->q, &f->chain, 11), 0);
	assert_int_equal(raw_split_used_idx_get(&f->r), 1);
	const struct vio_split_used_elem *e = vio_split_used_ring(f->r.device);
	assert_int_equal(vio_le32_get(e[0].id), head);
	assert_int_equal(vio_le32_get(e[0].len), 11);
}

static void test_devq_zero_length_descriptors_ok(void **state)
{
	struct fx *f = *state;
	/* Empty segments are never mapped, whatever their address. */
	struct raw_desc d[4] = {{f->data_addr + B(0), 0, F_NEXT, 0},
				{UNMAPPED_ADDR, 0, F_NEXT, 0},
				{f->data_addr + B(1), 4, F_WRITE | F_NEXT, 0},
				{0xffffffffffffffffull, 0, F_WRITE, 0}};
	unsigned calls = f->gm.map_calls;
	uint16_t id = avail_chain(f, d, 4, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->gm.map_calls, calls + 1);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.nseg, 4);
	assert_int_equal(f->chain.nout, 2);
	assert_int_equal(f->chain.out_bytes, 0);
	assert_int_equal(f->chain.in_bytes, 4);
	assert_null(f->segs[0].ptr);
	assert_null(f->segs[1].ptr);
	assert_ptr_equal(f->segs[2].ptr, f->data + B(1));
	assert_null(f->segs[3].ptr);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);

	/* The same inside an indirect table; a wholly empty buffer too. */
	struct raw_desc t[2] = {{UNMAPPED_ADDR, 0, tnext(f), 0}, {0, 0, F_WRITE, 0}};
	put_table(f, f->tbl, t, 2);
	calls = f->gm.map_calls;
	id = avail_indirect(f, f->tbl_addr, 32, 0, 6);
	assert_err(pop(f), 0);
	assert_int_equal(f->gm.map_calls, calls + 1); /* the table only */
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.nseg, 2);
	assert_int_equal(f->chain.nout, 1);
	assert_null(f->segs[0].ptr);
	assert_null(f->segs[1].ptr);
}

/* §2.7.5.3.2 / §2.8.6: WRITE on the descriptor that points to a table is ignored. */
static void test_devq_indirect_write_flag_ignored_ok(void **state)
{
	struct fx *f = *state;
	struct raw_desc t[2] = {{f->data_addr + B(0), 16, tnext(f), 0},
				{f->data_addr + B(1), 24, F_WRITE, 0}};
	put_table(f, f->tbl, t, 2);
	uint16_t id = avail_indirect(f, f->tbl_addr, 32, F_WRITE, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.ndesc, 1);
	assert_int_equal(f->chain.nseg, 2);
	assert_int_equal(f->chain.nout, 1);
	assert_false(f->segs[0].write);
	assert_true(f->segs[1].write);
	assert_int_equal(f->chain.out_bytes, 16);
	assert_int_equal(f->chain.in_bytes, 24);
}

/* Tables at host pointers and addresses with every misalignment. */
static void test_devq_indirect_unaligned_table_ok(void **state)
{
	struct fx *f = *state;
	static const unsigned offs[] = {1, 2, 3, 4, 7, 8, 12};
	for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
		unsigned char *buf = extra_alloc(f, 128);
		uint64_t addr = ODD_BASE + 0x1000 * i + offs[i];
		gm_add(&f->gm, addr, buf + offs[i], 64, VIO_MAP_READ);
		struct raw_desc t[3] = {
			{f->data_addr + B(i), 16 + (uint32_t)i, tnext(f), 0},
			{f->data_addr + B(10), 100, (uint16_t)(F_WRITE | tnext(f)), 0},
			{f->data_addr + B(40), 7, F_WRITE, 0},
		};
		put_table(f, buf + offs[i], t, 3);
		uint16_t id = avail_indirect(f, addr, 48, 0, (uint16_t)i);
		assert_err(pop(f), 0);
		assert_int_equal(f->chain.id, id);
		assert_int_equal(f->chain.nseg, 3);
		assert_int_equal(f->chain.nout, 1);
		assert_ptr_equal(f->segs[0].ptr, f->data + B(i));
		assert_int_equal(f->segs[0].len, 16 + i);
		assert_ptr_equal(f->segs[1].ptr, f->data + B(10));
		assert_int_equal(f->segs[1].len, 100);
		assert_ptr_equal(f->segs[2].ptr, f->data + B(40));
		assert_int_equal(f->segs[2].len, 7);
		assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	}
}

static void test_devq_chain_of_queue_size_ok(void **state)
{
	struct fx *f = *state;
	/* Direct: every descriptor of the table / ring. */
	struct raw_desc d[QSIZE];
	for (unsigned k = 0; k < QSIZE; k++)
		d[k] = (struct raw_desc){
			f->data_addr + B(k), k + 1,
			(uint16_t)((k >= QSIZE / 2 ? F_WRITE : 0) | (k + 1 < QSIZE ? F_NEXT : 0)),
			0};
	uint16_t id = avail_chain(f, d, QSIZE, 7);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.ndesc, QSIZE);
	assert_int_equal(f->chain.nseg, QSIZE);
	assert_int_equal(f->chain.nout, QSIZE / 2);
	for (unsigned k = 0; k < QSIZE; k++) {
		assert_ptr_equal(f->segs[k].ptr, f->data + B(k));
		assert_int_equal(f->segs[k].len, k + 1);
	}
	/* max_segs == size suffices. */
	assert_err(vio_devq_push(f->q, &f->chain, 3), 0);
	id = avail_chain(f, d, QSIZE, 6);
	assert_err(pop_n(f, QSIZE), 0);
	assert_int_equal(f->chain.nseg, QSIZE);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);

	/* Indirect: a table of exactly `size` entries. */
	fill_table(f, QSIZE);
	id = avail_indirect(f, f->tbl_addr, 16 * QSIZE, 0, 0);
	assert_err(pop_n(f, QSIZE), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.ndesc, 1);
	assert_int_equal(f->chain.nseg, QSIZE);
	assert_int_equal(f->chain.out_bytes, 4 * QSIZE);
	assert_false(vio_devq_is_broken(f->q));
}

/* Packed §2.8.6: inside a table only WRITE counts; other flags and the
 * buffer id are reserved and ignored. */
static void test_devq_packed_indirect_ignores_reserved_flags(void **state)
{
	struct fx *f = *state;
	raw_packed_put(f->tbl, 0, f->data_addr + B(0), 8, 0xffff,
		       F_NEXT | VIO_DESC_F_AVAIL | VIO_DESC_F_USED);
	raw_packed_put(f->tbl, 1, f->data_addr + B(1), 8, 0x1234, F_NEXT | F_WRITE);
	raw_packed_put(f->tbl, 2, f->data_addr + B(2), 8, QSIZE, F_WRITE | 0x7000);
	avail_indirect(f, f->tbl_addr, 48, 0, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain.id, 2);
	assert_int_equal(f->chain.nseg, 3);
	assert_int_equal(f->chain.nout, 1);
}

/* ---- Queue set-up ----------------------------------------------------------- */

static void test_devq_init_invalid(void **state)
{
	struct fx *f = *state;
	struct vio_devq *q = NULL;
	struct vio_devq_config c = f->cfg;
	unsigned calls = f->gm.map_calls;

	assert_err(vio_devq_init(NULL, f->qmem, f->qmem_size, &c), -VIO_EINVAL);
	assert_err(vio_devq_init(&q, NULL, f->qmem_size, &c), -VIO_EINVAL);
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, NULL), -VIO_EINVAL);
	c.mem_ops = NULL;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_EINVAL);
	static const struct vio_mem_ops no_map = {NULL, NULL, NULL};
	c.mem_ops = &no_map;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_EINVAL);
	c = f->cfg;

	/* Too little or misaligned bookkeeping memory. */
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size - 1, &c), -VIO_EINVAL);
	assert_err(vio_devq_init(&q, f->qmem, 0, &c), -VIO_EINVAL);
	for (unsigned off = 1; off < VIO_DEVQ_MEM_ALIGN; off++)
		assert_err(vio_devq_init(&q, (char *)f->qmem + off, f->qmem_size, &c), -VIO_EINVAL);

	/* Sizes. */
	static const uint16_t bad_any[] = {0, 32769, 40000, 65535};
	for (size_t i = 0; i < ARRAY_SIZE(bad_any); i++) {
		c.size = bad_any[i];
		assert_int_equal(vio_devq_mem_size(f->fmt, bad_any[i]), 0);
		assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_EINVAL);
	}
	static const uint16_t not_pow2[] = {3, 6, 7, 12, 100, 32767};
	for (size_t i = 0; i < ARRAY_SIZE(not_pow2); i++) {
		assert_int_equal(vio_devq_mem_size(VIO_RING_SPLIT, not_pow2[i]), 0);
		assert_true(vio_devq_mem_size(VIO_RING_PACKED, not_pow2[i]) > 0);
		if (is_split(f)) {
			c.size = not_pow2[i];
			assert_err(vio_devq_init(&q, f->qmem, f->qmem_size + 64, &c), -VIO_EINVAL);
		}
	}
	assert_true(vio_devq_mem_size(f->fmt, 32768) > 0);
	assert_true(vio_devq_mem_size(f->fmt, 1) > 0);

	/* Region tables: one that wraps 2^64, or a count without a table. */
	struct vio_mem_region wraps = {0xfffffffffffff000ull, 0x2000, f->qmem, VIO_MAP_RW};
	c = f->cfg;
	c.regions = &wraps;
	c.nregions = 1;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_EINVAL);
	c.regions = NULL;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_EINVAL);

	/* Unknown format. */
	c = f->cfg;
	c.format = (enum vio_ring_format)2;
	assert_int_equal(vio_devq_mem_size(c.format, QSIZE), 0);
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_EINVAL);

	assert_int_equal(f->gm.map_calls, calls); /* no callback on argument errors */
	assert_null(q);

	if (!is_split(f)) {
		/* Packed: any size up to 32768, e.g. 6. */
		struct raw_ring r6;
		raw_ring_alloc(&r6, &f->gm, VIO_RING_PACKED, 6);
		c = f->cfg;
		raw_ring_devq_config(&r6, &c);
		size_t need = vio_devq_mem_size(VIO_RING_PACKED, 6);
		void *m = extra_alloc(f, need);
		assert_err(vio_devq_init(&q, m, need, &c), 0);
		assert_int_equal(vio_devq_size(q), 6);
	}

	/* An empty region is no region, wherever it claims to start: the
	 * rings map through the callback. */
	struct vio_mem_region empty = {0xfffffffffffff000ull, 0, f->qmem, VIO_MAP_RW};
	c = f->cfg;
	c.regions = &empty;
	c.nregions = 1;
	void *m = extra_alloc(f, f->qmem_size);
	calls = f->gm.map_calls;
	assert_err(vio_devq_init(&q, m, f->qmem_size, &c), 0);
	assert_true(f->gm.map_calls > calls);
	vio_devq_fini(q);
}

static void test_devq_init_ring_misaligned(void **state)
{
	struct fx *f = *state;
	struct vio_devq *q = NULL;
	unsigned calls = f->gm.map_calls;
	/* Misaligned addresses: refused before anything is mapped. */
	static const uint64_t desc_offs[] = {1, 2, 4, 8};
	for (size_t i = 0; i < ARRAY_SIZE(desc_offs); i++) {
		struct vio_devq_config c = f->cfg;
		c.desc_addr += desc_offs[i];
		assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_ALIGN);
	}
	struct vio_devq_config c = f->cfg;
	c.driver_addr += is_split(f) ? 1 : 2;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_ALIGN);
	c = f->cfg;
	c.device_addr += 2;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_ALIGN);
	c = f->cfg;
	c.device_addr += 1;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_ALIGN);
	assert_int_equal(f->gm.map_calls, calls);
	if (is_split(f)) {
		/* The available ring needs only 2-byte alignment. */
		unsigned char *a = extra_alloc(f, 64);
		gm_add(&f->gm, 0x62000002ull, a + 2, vio_split_avail_size(QSIZE), VIO_MAP_RW);
		c = f->cfg;
		c.driver_addr = 0x62000002ull;
		assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), 0);
	}

	/* Aligned addresses whose host mappings are not. */
	unsigned char *h = extra_alloc(f, 16 * QSIZE + 64);
	gm_add(&f->gm, 0x60000000ull, h + 8, 16 * QSIZE, VIO_MAP_RW);
	c = f->cfg;
	c.desc_addr = 0x60000000ull;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_ALIGN);

	unsigned char *u = extra_alloc(f, 16 * QSIZE + 64);
	gm_add(&f->gm, 0x61000000ull, u + 2, raw_ring_device_bytes(&f->r), VIO_MAP_RW);
	c = f->cfg;
	c.device_addr = 0x61000000ull;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_ALIGN);

	/* The driver area one byte off in the host (split: the available ring
	 * needs 2, packed: the event structure needs 4). */
	size_t drv_len = is_split(f) ? vio_split_avail_size(QSIZE) : 4;
	unsigned char *a = extra_alloc(f, drv_len + 64);
	gm_add(&f->gm, 0x63000000ull, a + 1, drv_len, VIO_MAP_RW);
	c = f->cfg;
	c.driver_addr = 0x63000000ull;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_ALIGN);
}

static void test_devq_init_ring_unmappable(void **state)
{
	struct fx *f = *state;
	struct vio_devq *q = NULL;
	struct vio_devq_config c;

	c = f->cfg;
	c.desc_addr = UNMAPPED_ADDR;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_MAP);
	c = f->cfg;
	c.driver_addr = UNMAPPED_ADDR;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_MAP);
	c = f->cfg;
	c.device_addr = UNMAPPED_ADDR;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_MAP);
	/* A part that would run past 2^64: refused before the callback is
	 * asked. */
	unsigned asked = f->gm.map_calls;
	c = f->cfg;
	c.desc_addr = 0xffffffffffffffc0ull;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_MAP);
	assert_int_equal(f->gm.map_calls, asked);

	/* The parts are sized by the queue size: a bigger queue does not fit. */
	c = f->cfg;
	c.size = 2 * QSIZE;
	assert_err(vio_devq_init(&q, f->qmem, vio_devq_mem_size(f->fmt, 2 * QSIZE), &c),
		   -VIO_ERING_MAP);

	/* A part the device must write, in read-only memory. */
	unsigned char *ro = extra_alloc(f, 16 * QSIZE);
	gm_add(&f->gm, 0x63000000ull, ro, 16 * QSIZE, VIO_MAP_READ);
	c = f->cfg;
	c.device_addr = 0x63000000ull;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_MAP);
	if (!is_split(f)) {
		/* Packed: the device writes used descriptors into the ring. */
		c = f->cfg;
		c.desc_addr = 0x63000000ull;
		assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), -VIO_ERING_MAP);
	} else {
		/* Split: the descriptor table only needs to be readable. */
		c = f->cfg;
		c.desc_addr = 0x63000000ull;
		assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &c), 0);
	}

	f->gm.refuse_all = 1;
	assert_err(vio_devq_init(&q, f->qmem, f->qmem_size, &f->cfg), -VIO_ERING_MAP);
	f->gm.refuse_all = 0;

	/* A fresh init works and maps exactly three parts. */
	unsigned calls = f->gm.map_calls;
	assert_err(init_queue(f, default_features()), 0);
	assert_int_equal(f->gm.map_calls, calls + 3);
	check_works(f);
}

/* ---- Caller's segment array too small ------------------------------------- */

static void test_devq_pop_enospc_not_consumed(void **state)
{
	struct fx *f = *state;
	struct raw_desc d[3] = {{f->data_addr + B(0), 8, F_NEXT, 0},
				{f->data_addr + B(1), 8, F_NEXT, 0},
				{f->data_addr + B(2), 8, F_WRITE, 0}};
	uint16_t id = avail_chain(f, d, 3, 5);
	for (uint16_t max = 0; max < 3; max++) {
		assert_err(pop_n(f, max), -VIO_ENOSPC);
		assert_false(vio_devq_is_broken(f->q));
		assert_int_equal(vio_devq_broken_reason(f->q), 0);
		assert_true(vio_devq_has_avail(f->q));
	}
	assert_err(pop_n(f, 3), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.nseg, 3);
	assert_int_equal(f->chain.ndesc, 3);
	struct vio_chain first = f->chain;
	assert_err(pop(f), -VIO_EAGAIN);

	/* An indirect chain of four segments. */
	fill_table(f, 4);
	id = avail_indirect(f, f->tbl_addr, 64, 0, 2);
	assert_err(pop_n(f, 3), -VIO_ENOSPC);
	assert_false(vio_devq_is_broken(f->q));
	assert_err(pop_n(f, 4), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.nseg, 4);
	assert_int_equal(f->chain.ndesc, 1);
	struct vio_chain second = f->chain;
	assert_err(pop(f), -VIO_EAGAIN);

	/* A single descriptor (the pop fast path) with no room at all. */
	struct raw_desc one = {f->data_addr + B(7), 8, F_WRITE, 0};
	uint16_t id1 = avail_chain(f, &one, 1, 7);
	assert_err(pop_n(f, 0), -VIO_ENOSPC);
	assert_false(vio_devq_is_broken(f->q));
	assert_true(vio_devq_has_avail(f->q));
	assert_err(pop_n(f, 1), 0);
	assert_int_equal(f->chain.id, id1);
	assert_int_equal(f->chain.in_bytes, 8);
	assert_err(vio_devq_push(f->q, &f->chain, 8), 0);

	/* Both chains complete normally. */
	struct vio_used u[2] = {{&first, 8}, {&second, 0}};
	assert_err(vio_devq_push_batch(f->q, u, 2), 0);
}

static void test_devq_empty_ring_eagain(void **state)
{
	struct fx *f = *state;
	for (int k = 0; k < 3; k++)
		assert_err(pop(f), -VIO_EAGAIN);
	assert_false(vio_devq_is_broken(f->q));
	assert_false(vio_devq_has_avail(f->q));
	check_works(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_devq_empty_ring_eagain),
		SPLIT(test_devq_split_head_out_of_range),
		SPLIT(test_devq_split_next_out_of_range),
		SPLIT(test_devq_split_indirect_next_out_of_range),
		SPLIT(test_devq_split_loop),
		SPLIT(test_devq_split_indirect_loop),
		SPLIT(test_devq_split_direct_plus_indirect_too_long),
		PACKED(test_devq_packed_ring_full_of_next),
		BOTH(test_devq_indirect_table_too_long),
		BOTH(test_devq_indirect_empty),
		BOTH(test_devq_indirect_size_not_multiple),
		BOTH(test_devq_indirect_unmappable),
		BOTH(test_devq_indirect_without_feature),
		BOTH(test_devq_indirect_nested),
		BOTH(test_devq_indirect_with_next),
		PACKED(test_devq_packed_indirect_after_next),
		BOTH(test_devq_readable_after_writable),
		BOTH(test_devq_readable_after_writable_indirect),
		BOTH(test_devq_len_overflow),
		SPLIT(test_devq_split_avail_jump),
		BOTH(test_devq_buffer_unmappable),
		BOTH(test_devq_buffer_wraps_address_space),
		BOTH(test_devq_buffer_at_top_of_address_space_ok),
		PACKED(test_devq_packed_id_out_of_range),
		PACKED(test_devq_packed_id_in_flight),
		SPLIT(test_devq_split_direct_then_indirect_ok),
		BOTH(test_devq_zero_length_descriptors_ok),
		BOTH(test_devq_indirect_write_flag_ignored_ok),
		BOTH(test_devq_indirect_unaligned_table_ok),
		BOTH(test_devq_chain_of_queue_size_ok),
		PACKED(test_devq_packed_indirect_ignores_reserved_flags),
		BOTH(test_devq_init_invalid),
		BOTH(test_devq_init_ring_misaligned),
		BOTH(test_devq_init_ring_unmappable),
		BOTH(test_devq_pop_enospc_not_consumed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
