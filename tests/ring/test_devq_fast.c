/* SPDX-License-Identifier: MIT */
/* The device half's fast paths (lib/ring/devq_hot.h and the batch entry
 * points) against hostile or unusual input: each case either completes on a
 * fast path with the result the general code gives, or must be handed over
 * so that the general code reports it. Every case would fail if the fast
 * path dropped the check named in its comment. The device gets the fake
 * guest memory as a region table, plus a read-only region, so the fast
 * paths run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "guest_mem.h"
#include "raw_ring.h"

#define QSIZE 8
#define NSEGS 4
#define DATA_LEN 4096
#define RO_ADDR 0x40000000ull
#define RO_LEN 4096

/* The packed fixture with EVENT_IDX negotiated (setup() tells it by the
 * state pointer). */
static enum vio_ring_format fmt_packed_ei = VIO_RING_PACKED;
/* The fixtures with VIO_F_INDIRECT_DESC negotiated. */
static enum vio_ring_format fmt_split_ind = VIO_RING_SPLIT;
static enum vio_ring_format fmt_packed_ind = VIO_RING_PACKED;
#define ITAB_ENTRIES (2 * QSIZE)

struct fx {
	enum vio_ring_format fmt;
	struct guest_mem gm;
	struct raw_ring r;
	struct vio_mem_region table[GM_MAX_REGIONS + 1];
	struct vio_devq *q;
	void *qmem;
	unsigned char *data;
	uint64_t data_addr;
	unsigned char ro[RO_LEN];
	uint16_t cursor;     /* split: next descriptor slot the mock driver fills */
	bool event_idx;	     /* VIO_F_EVENT_IDX negotiated */
	bool indirect;	     /* VIO_F_INDIRECT_DESC negotiated */
	unsigned char *itab; /* indirect tables, a region of their own */
	uint64_t itab_addr;
	struct vio_chain chain[QSIZE];
	struct vio_chain_seg segs[QSIZE * NSEGS];
};

static bool is_split(const struct fx *f)
{
	return f->fmt == VIO_RING_SPLIT;
}

/* Offer one chain of @n descriptors (NEXT added between them, linked
 * k -> k+1 on split; packed puts @id in every descriptor). */
static void offer(struct fx *f, const uint64_t *addr, const uint32_t *len, const uint16_t *flags,
		  unsigned n, uint16_t id)
{
	if (is_split(f)) {
		uint16_t head = (uint16_t)(f->cursor % QSIZE);
		for (unsigned k = 0; k < n; k++) {
			uint16_t slot = (uint16_t)((head + k) % QSIZE);
			uint16_t fl = (uint16_t)(flags[k] | (k + 1 < n ? VIO_DESC_F_NEXT : 0));
			raw_split_put(f->r.desc, slot, addr[k], len[k], fl,
				      (uint16_t)((slot + 1u) % QSIZE));
		}
		f->cursor = (uint16_t)(f->cursor + n);
		raw_split_avail_add(&f->r, head);
		return;
	}
	struct raw_desc d[QSIZE];
	for (unsigned k = 0; k < n; k++)
		d[k] = (struct raw_desc){addr[k], len[k],
					 (uint16_t)(flags[k] | (k + 1 < n ? VIO_DESC_F_NEXT : 0)),
					 id};
	raw_packed_avail_add(&f->r, d, n);
}

static void offer1(struct fx *f, uint64_t addr, uint32_t len, uint16_t flags, uint16_t id)
{
	offer(f, &addr, &len, &flags, 1, id);
}

static int pop(struct fx *f)
{
	return vio_devq_pop(f->q, &f->chain[0], f->segs, NSEGS);
}

static void broken_with(struct fx *f, int err)
{
	assert_true(vio_devq_is_broken(f->q));
	assert_err(vio_devq_broken_reason(f->q), err);
	assert_err(pop(f), -VIO_EBROKEN);
}

/* The driver sees the used entries published so far. */
static uint16_t published(struct fx *f)
{
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	return st.used_idx;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	f->event_idx = *state == &fmt_packed_ei;
	f->indirect = *state == &fmt_split_ind || *state == &fmt_packed_ind;
	gm_init(&f->gm);
	raw_ring_alloc(&f->r, &f->gm, f->fmt, QSIZE);
	f->data = gm_alloc(&f->gm, DATA_LEN, 16, &f->data_addr);
	f->itab = gm_alloc(&f->gm, ITAB_ENTRIES * 16 + 8, 16, &f->itab_addr);
	for (unsigned i = 0; i < f->gm.n; i++)
		f->table[i] = (struct vio_mem_region){f->gm.r[i].addr, f->gm.r[i].len,
						      f->gm.r[i].host, f->gm.r[i].dirs};
	/* A region the device may only read. */
	f->table[f->gm.n] = (struct vio_mem_region){RO_ADDR, RO_LEN, f->ro, VIO_MAP_READ};
	struct vio_devq_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	raw_ring_devq_config(&f->r, &cfg);
	cfg.features = vio_features_none();
	vio_features_set(&cfg.features, VIO_F_VERSION_1);
	if (!is_split(f))
		vio_features_set(&cfg.features, VIO_F_RING_PACKED);
	if (f->event_idx)
		vio_features_set(&cfg.features, VIO_F_EVENT_IDX);
	if (f->indirect)
		vio_features_set(&cfg.features, VIO_F_INDIRECT_DESC);
	cfg.regions = f->table;
	cfg.nregions = f->gm.n + 1;
	size_t n = vio_devq_mem_size(f->fmt, QSIZE);
	assert_int_equal(posix_memalign(&f->qmem, VIO_DEVQ_MEM_ALIGN, n), 0);
	assert_err(vio_devq_init(&f->q, f->qmem, n, &cfg), 0);
	/* One buffer through the queue, so that the region the fast paths
	 * look in first is the data region. */
	offer1(f, f->data_addr, 64, VIO_DESC_F_WRITE, 0);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vio_devq_fini(f->q);
	gm_free(&f->gm);
	free(f->qmem);
	free(f);
	return 0;
}

/* Make the read-only region the one the fast paths look in first: a
 * readable buffer there pops (through the general translation). */
static void hint_read_only(struct fx *f)
{
	offer1(f, RO_ADDR + 16, 16, 0, 1);
	assert_err(pop(f), 0);
	assert_ptr_equal(f->segs[0].ptr, f->ro + 16);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
}

/* A writable buffer in a read-only region, with that region first in line:
 * the fast path's per-direction room (0 for writes) must refuse it. */
static void test_write_into_read_only_hint(void **state)
{
	struct fx *f = *state;
	hint_read_only(f);
	offer1(f, RO_ADDR + 64, 16, VIO_DESC_F_WRITE, 2);
	assert_err(pop(f), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

/* The same inside a list of several descriptors. */
static void test_chain_write_into_read_only_hint(void **state)
{
	struct fx *f = *state;
	hint_read_only(f);
	uint64_t a[2] = {RO_ADDR, RO_ADDR + 64};
	uint32_t l[2] = {16, 16};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, 2);
	assert_err(pop(f), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

/* An empty buffer: the general code gives it a segment without a pointer
 * (the fast path would give it one inside the region). */
static void test_empty_buffer(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr + 128, 0, VIO_DESC_F_WRITE, 1);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].nseg, 1);
	assert_null(f->segs[0].ptr);
	assert_int_equal(f->segs[0].len, 0);
	assert_int_equal(f->chain[0].in_bytes, 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
}

/* A buffer ending exactly at the region's end pops on the fast path; one
 * byte more runs past it (into no region). */
static void test_region_end(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr + DATA_LEN - 32, 32, VIO_DESC_F_WRITE, 1);
	assert_err(pop(f), 0);
	assert_ptr_equal(f->segs[0].ptr, f->data + DATA_LEN - 32);
	assert_int_equal(f->chain[0].in_bytes, 32);
	assert_int_equal(f->chain[0].nout, 0);
	assert_int_equal(f->chain[0].ndesc, 1);
	assert_int_equal(f->chain[0].flags, 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 32), 0);
	/* The fake memory leaves a gap nobody owns after each region. */
	offer1(f, f->data_addr + DATA_LEN - 32, 33, 0, 2);
	assert_err(pop(f), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

/* One descriptor that starts before the region and ends inside it (its
 * offset wraps: the last byte's sum carries), or runs one byte past the
 * region's end, in either direction: no region holds it. */
static void single_outside(struct fx *f, uint64_t addr, uint32_t len, uint16_t flags)
{
	offer1(f, addr, len, flags, 1);
	assert_err(pop(f), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

static void test_single_before_region_read(void **state)
{
	struct fx *f = *state;
	single_outside(f, f->data_addr - 4, 8, 0);
}

static void test_single_before_region_write(void **state)
{
	struct fx *f = *state;
	single_outside(f, f->data_addr - 4, 8, VIO_DESC_F_WRITE);
}

static void test_single_past_region_end_read(void **state)
{
	struct fx *f = *state;
	single_outside(f, f->data_addr + DATA_LEN - 8, 9, 0);
}

static void test_single_past_region_end_write(void **state)
{
	struct fx *f = *state;
	single_outside(f, f->data_addr + DATA_LEN - 8, 9, VIO_DESC_F_WRITE);
}

/* An empty buffer at the region's first byte (offset 0: its last byte
 * would be at 2^64 - 1, not below any room), in either direction: the
 * general code's segment without a pointer. */
static void test_single_empty_at_region_start(void **state)
{
	struct fx *f = *state;
	for (uint16_t k = 0; k < 2; k++) {
		uint16_t flags = k != 0 ? VIO_DESC_F_WRITE : 0;
		offer1(f, f->data_addr, 0, flags, (uint16_t)(1 + k));
		assert_err(pop(f), 0);
		assert_null(f->segs[0].ptr);
		assert_int_equal(f->segs[0].len, 0);
		assert_int_equal(f->segs[0].write, k != 0);
		assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	}
}

/* A readable buffer in a write-only region, with that region first in
 * line: the fast path's per-direction room (0 for reads) must refuse it. */
static void test_read_from_write_only_hint(void **state)
{
	struct fx *f = *state;
	const uint64_t wo = RO_ADDR + 0x100000u;
	struct vio_mem_region t[GM_MAX_REGIONS + 2];
	memcpy(t, f->table, sizeof(f->table));
	uint32_t n = f->gm.n + 1;
	t[n] = (struct vio_mem_region){wo, RO_LEN, f->ro, VIO_MAP_WRITE};
	assert_err(vio_devq_set_mem_table(f->q, t, n + 1), 0);
	offer1(f, wo + 16, 16, VIO_DESC_F_WRITE, 1);
	assert_err(pop(f), 0);
	assert_ptr_equal(f->segs[0].ptr, f->ro + 16);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer1(f, wo + 64, 16, 0, 2);
	assert_err(pop(f), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

/* Split: a one-descriptor head offered again while in flight, in either
 * direction, is refused (the leaf checks it once the buffer is found in
 * the region). */
static void split_single_head_in_flight(struct fx *f, uint16_t flags)
{
	offer1(f, f->data_addr + 64, 8, flags, 1);
	uint16_t head = (uint16_t)((f->cursor - 1u) % QSIZE);
	assert_err(pop(f), 0);
	raw_split_avail_add(&f->r, head);
	assert_err(vio_devq_pop(f->q, &f->chain[1], f->segs + NSEGS, NSEGS), -VIO_EDESC_INFLIGHT);
	broken_with(f, -VIO_EDESC_INFLIGHT);
}

static void test_split_single_head_in_flight_read(void **state)
{
	split_single_head_in_flight(*state, 0);
}

static void test_split_single_head_in_flight_write(void **state)
{
	split_single_head_in_flight(*state, VIO_DESC_F_WRITE);
}

/* A readable one-descriptor buffer: out_bytes, nout and the segment's
 * direction from the composed stores. */
static void test_single_readable_record(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr + 100, 7, 0, 3);
	memset(&f->chain[0], 0xa5, sizeof(f->chain[0]));
	memset(f->segs, 0xa5, sizeof(f->segs[0]));
	assert_err(pop(f), 0);
	struct vio_chain *c = &f->chain[0];
	assert_int_equal(c->id, is_split(f) ? 1 : 3);
	assert_int_equal(c->ndesc, 1);
	assert_int_equal(c->nseg, 1);
	assert_int_equal(c->nout, 1);
	assert_int_equal(c->out_bytes, 7);
	assert_int_equal(c->in_bytes, 0);
	assert_int_equal(c->flags, 0);
	assert_ptr_equal(c->segs, f->segs);
	assert_ptr_equal(f->segs[0].ptr, f->data + 100);
	assert_int_equal(f->segs[0].addr, f->data_addr + 100);
	assert_int_equal(f->segs[0].len, 7);
	assert_false(f->segs[0].write);
	assert_false(f->segs[0].release);
	/* Nothing written: a readable chain takes 0 and only 0. */
	assert_err(vio_devq_push(f->q, c, 1), -VIO_EINVAL);
	assert_err(vio_devq_push(f->q, c, 0), 0);
}

/* A chain the embedder altered: the push fast path's one compare covers
 * the generation and the MAPPED flag; id and in-flight are checked apart. */
static void test_push_altered_chain(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 16, VIO_DESC_F_WRITE, 1);
	assert_err(pop(f), 0);
	struct vio_chain c = f->chain[0];
	c.gen++;
	assert_err(vio_devq_push(f->q, &c, 0), -VIO_EINVAL);
	c = f->chain[0];
	c.id = QSIZE;
	assert_err(vio_devq_push(f->q, &c, 0), -VIO_EINVAL);
	c = f->chain[0];
	c.id = (uint16_t)((c.id + 1u) % QSIZE); /* a chain not in flight */
	assert_err(vio_devq_push(f->q, &c, 0), -VIO_EINVAL);
	c = f->chain[0];
	c.in_bytes = 0;
	assert_err(vio_devq_push(f->q, &c, 1), -VIO_EINVAL);
	assert_int_equal(published(f), 1);
	/* MAPPED (which this chain does not hold): the general push takes it,
	 * with nothing to release. */
	c = f->chain[0];
	c.flags |= VIO_CHAIN_MAPPED;
	assert_err(vio_devq_push(f->q, &c, 16), 0);
	assert_int_equal(published(f), 2);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), -VIO_EINVAL);
}

/* ---- Batches -------------------------------------------------------------- */

static int pop_batch(struct fx *f, unsigned n)
{
	return vio_devq_pop_batch(f->q, f->chain, f->segs, NSEGS, n);
}

/* Shapes mixed in one batch; each chain's segments in its own part. */
static void test_pop_batch_mixed(void **state)
{
	struct fx *f = *state;
	assert_err(pop_batch(f, 4), -VIO_EAGAIN);
	assert_err(pop_batch(f, 0), 0);
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 1024};
	uint32_t l[3] = {16, 512, 1};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	offer1(f, f->data_addr + 200, 8, VIO_DESC_F_WRITE, 1);
	offer(f, a, l, fl, 3, 2);
	offer1(f, f->data_addr + 300, 9, 0, 3);
	offer1(f, f->data_addr + 400, 10, VIO_DESC_F_WRITE, 4);
	assert_err(pop_batch(f, 3), 3);
	assert_int_equal(f->chain[0].in_bytes, 8);
	assert_ptr_equal(f->chain[0].segs, &f->segs[0]);
	assert_int_equal(f->chain[1].nseg, 3);
	assert_int_equal(f->chain[1].in_bytes, 513);
	assert_ptr_equal(f->chain[1].segs, &f->segs[NSEGS]);
	assert_ptr_equal(f->segs[NSEGS + 2].ptr, f->data + 1024);
	assert_int_equal(f->chain[2].out_bytes, 9);
	assert_ptr_equal(f->chain[2].segs, &f->segs[2 * NSEGS]);
	assert_ptr_equal(f->segs[2 * NSEGS].ptr, f->data + 300);
	struct vio_used u[3] = {{&f->chain[0], 8}, {&f->chain[1], 513}, {&f->chain[2], 0}};
	assert_err(vio_devq_push_batch(f->q, u, 3), 0);
	/* The fourth, and then nothing. */
	assert_err(pop_batch(f, 4), 1);
	assert_int_equal(f->chain[0].in_bytes, 10);
	assert_err(vio_devq_push(f->q, &f->chain[0], 10), 0);
	assert_err(pop_batch(f, 4), -VIO_EAGAIN);
}

/* A hostile entry after good ones: the batch returns the good ones; the
 * entry broke the queue (its reason says why). */
static void test_pop_batch_stops_at_hostile(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 1);
	offer1(f, f->data_addr + 8, 8, VIO_DESC_F_WRITE, 2);
	offer1(f, 0x50000000ull, 8, VIO_DESC_F_WRITE, 3);
	offer1(f, f->data_addr + 16, 8, VIO_DESC_F_WRITE, 4);
	assert_err(pop_batch(f, 4), 2);
	broken_with(f, -VIO_EMAP);
	assert_err(pop_batch(f, 4), -VIO_EBROKEN);
}

/* A run across the ring's end (packed: the run stops at slot QSIZE - 1 and
 * a new one starts at slot 0 with the other mark): the chains on both sides
 * carry their own slot, and a hostile entry after the wrap stops the batch
 * there and breaks the queue. */
static void test_pop_batch_across_the_end(void **state)
{
	struct fx *f = *state;
	for (unsigned k = 0; k + 2 < QSIZE; k++) {
		offer1(f, f->data_addr + 8u * k, 8, VIO_DESC_F_WRITE, (uint16_t)k);
		assert_err(pop_batch(f, 1), 1);
		assert_err(vio_devq_push(f->q, &f->chain[0], 8), 0);
	}
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	const unsigned at = st.avail_idx; /* a slot or two before the end */
	const bool wrap = st.avail_wrap;
	assert_true(is_split(f) || (at + 4u > QSIZE && at < QSIZE));
	/* Two or so before the end, the rest after the wrap. */
	for (unsigned k = 0; k < 4; k++)
		offer1(f, f->data_addr + 16u * k, 16, VIO_DESC_F_WRITE, (uint16_t)(k + 1));
	offer1(f, 0x50000000ull, 8, VIO_DESC_F_WRITE, 5);
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 6);
	assert_err(pop_batch(f, 6), 4);
	for (unsigned k = 0; k < 4; k++) {
		assert_int_equal(f->chain[k].in_bytes, 16);
		assert_ptr_equal(f->chain[k].segs, &f->segs[k * NSEGS]);
		assert_ptr_equal(f->segs[k * NSEGS].ptr, f->data + 16u * k);
		if (!is_split(f)) {
			assert_int_equal(f->chain[k].id, k + 1);
			assert_int_equal(f->chain[k].head, (at + k) % QSIZE);
		}
	}
	vio_devq_get_state(f->q, &st);
	assert_int_equal(st.inflight, 4);
	if (!is_split(f)) {
		assert_int_equal(st.avail_idx, (at + 4u) % QSIZE);
		assert_true(st.avail_wrap == !wrap);
	}
	broken_with(f, -VIO_EMAP);
	assert_err(pop_batch(f, 4), -VIO_EBROKEN);
}

/* Split: an avail entry naming a head in flight (taken earlier in the same
 * run) stops the run; the general pop breaks the queue for it. */
static void test_split_pop_batch_head_in_flight(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 0);
	uint16_t head = (uint16_t)((f->cursor - 1u) % QSIZE);
	offer1(f, f->data_addr + 8, 8, VIO_DESC_F_WRITE, 0);
	raw_split_avail_add(&f->r, head); /* the first head again */
	assert_err(pop_batch(f, 4), 2);
	broken_with(f, -VIO_EDESC_INFLIGHT);
}

/* Split: an avail entry naming a head beyond the queue stops the run. */
static void test_split_pop_batch_head_out_of_range(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 0);
	offer1(f, f->data_addr + 8, 8, VIO_DESC_F_WRITE, 0);
	raw_split_avail_add(&f->r, QSIZE);
	assert_err(pop_batch(f, 4), 2);
	broken_with(f, -VIO_EDESC_HEAD);
}

/* A run (split: after the batch's first pop; packed: from its first entry)
 * takes a buffer that ends exactly at the region's end and stops at one that
 * runs a byte past it (into no region): the general pop breaks the queue
 * for that one, and the batch returns what came before. */
static void test_pop_batch_region_end(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 1);
	offer1(f, f->data_addr + DATA_LEN - 32, 32, VIO_DESC_F_WRITE, 2);
	offer1(f, f->data_addr + DATA_LEN - 32, 33, 0, 3);
	offer1(f, f->data_addr + 64, 8, VIO_DESC_F_WRITE, 4);
	assert_err(pop_batch(f, 4), 2);
	assert_ptr_equal(f->segs[0].ptr, f->data);
	assert_ptr_equal(f->chain[1].segs, &f->segs[NSEGS]);
	assert_ptr_equal(f->segs[NSEGS].ptr, f->data + DATA_LEN - 32);
	assert_int_equal(f->segs[NSEGS].len, 32);
	assert_int_equal(f->chain[1].in_bytes, 32);
	assert_int_equal(f->chain[1].nseg, 1);
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	assert_int_equal(st.inflight, 2);
	broken_with(f, -VIO_EMAP);
}

/* Packed: a run stops at a buffer id in flight (taken earlier in the same
 * run) or out of range; the general pop breaks the queue for it. */
static void test_packed_pop_batch_id_in_flight(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 3);
	offer1(f, f->data_addr + 8, 8, VIO_DESC_F_WRITE, 3);
	offer1(f, f->data_addr + 16, 8, VIO_DESC_F_WRITE, 4);
	assert_err(pop_batch(f, 4), 1);
	assert_int_equal(f->chain[0].id, 3);
	assert_ptr_equal(f->segs[0].ptr, f->data);
	broken_with(f, -VIO_EDESC_INFLIGHT);
	/* The chain taken before the bad entry is still the caller's. */
	assert_err(vio_devq_drop(f->q, &f->chain[0]), 0);
}

static void test_packed_pop_batch_id_out_of_range(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 1);
	offer1(f, f->data_addr + 8, 8, VIO_DESC_F_WRITE, 2);
	offer1(f, f->data_addr + 16, 8, VIO_DESC_F_WRITE, QSIZE);
	offer1(f, f->data_addr + 24, 8, VIO_DESC_F_WRITE, 5);
	assert_err(pop_batch(f, 4), 2);
	assert_int_equal(f->chain[0].id, 1);
	assert_int_equal(f->chain[1].id, 2);
	assert_ptr_equal(f->segs[NSEGS].ptr, f->data + 8);
	broken_with(f, -VIO_EDESC_ID);
}

/* A queue broken by the model stays off the fast paths when a journal is
 * set and cleared (each recomputes them): a good entry waiting at the
 * front is not taken, singly or in a batch. */
static void test_broken_then_journal_change(void **state)
{
	struct fx *f = *state;
	static const struct vio_devq_journal none;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 1);
	assert_err(vio_devq_fail(f->q, -VIO_EREQUEST), -VIO_EREQUEST);
	assert_err(vio_devq_set_journal(f->q, &none, NULL), 0);
	broken_with(f, -VIO_EREQUEST);
	assert_err(pop_batch(f, 2), -VIO_EBROKEN);
	assert_err(vio_devq_set_journal(f->q, NULL, NULL), 0);
	broken_with(f, -VIO_EREQUEST);
	assert_err(pop_batch(f, 2), -VIO_EBROKEN);
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	assert_int_equal(st.inflight, 0);
}

/* vio_devq_drop() of a chain popped before a reset: 0, nothing published,
 * and it cannot be pushed. A record that was never filled (generation 0) or
 * has no segments is not a stale chain: -VIO_EINVAL. */
static void test_drop_stale_chain(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 1);
	assert_err(pop(f), 0);
	struct vio_chain stale = f->chain[0];
	assert_non_null(stale.segs);
	vio_devq_reset(f->q);
	uint16_t pub = published(f);
	assert_err(vio_devq_drop(f->q, &stale), 0);
	assert_err(vio_devq_push(f->q, &stale, 0), -VIO_EINVAL);
	struct vio_chain never;
	memset(&never, 0, sizeof(never));
	never.segs = f->segs;
	never.nseg = 1;
	assert_err(vio_devq_drop(f->q, &never), -VIO_EINVAL);
	stale.segs = NULL;
	assert_err(vio_devq_drop(f->q, &stale), -VIO_EINVAL);
	assert_err(vio_devq_drop(f->q, NULL), -VIO_EINVAL);
	assert_int_equal(published(f), pub);
	assert_false(vio_devq_is_broken(f->q));
}

/* No room for segments: -VIO_ENOSPC, as vio_devq_pop() with 0. */
static void test_pop_batch_no_room(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 8, VIO_DESC_F_WRITE, 1);
	assert_err(vio_devq_pop_batch(f->q, f->chain, f->segs, 0, 2), -VIO_ENOSPC);
	assert_err(vio_devq_pop_batch(f->q, f->chain, NULL, 0, 2), -VIO_ENOSPC);
	assert_false(vio_devq_is_broken(f->q));
	assert_err(pop_batch(f, 2), 1);
}

static void pop_three(struct fx *f)
{
	for (unsigned k = 0; k < 3; k++)
		offer1(f, f->data_addr + 64u * k, 16, VIO_DESC_F_WRITE, (uint16_t)(k + 1));
	assert_err(pop_batch(f, 3), 3);
}

/* A batch the fast path must refuse changes nothing: the chains stay in
 * flight and pushable, nothing is published. */
static void test_push_batch_refused(void **state)
{
	struct fx *f = *state;
	pop_three(f);
	uint16_t before = published(f);
	struct vio_used dup[3] = {{&f->chain[0], 1}, {&f->chain[1], 1}, {&f->chain[0], 1}};
	assert_err(vio_devq_push_batch(f->q, dup, 3), -VIO_EINVAL);
	struct vio_used big[3] = {{&f->chain[0], 1}, {&f->chain[1], 17}, {&f->chain[2], 1}};
	assert_err(vio_devq_push_batch(f->q, big, 3), -VIO_EINVAL);
	struct vio_chain stale = f->chain[2];
	stale.gen--;
	struct vio_used old[3] = {{&f->chain[0], 1}, {&f->chain[1], 1}, {&stale, 1}};
	assert_err(vio_devq_push_batch(f->q, old, 3), -VIO_EINVAL);
	struct vio_used null[2] = {{&f->chain[0], 1}, {NULL, 1}};
	assert_err(vio_devq_push_batch(f->q, null, 2), -VIO_EINVAL);
	assert_err(vio_devq_push_batch(f->q, NULL, 2), -VIO_EINVAL);
	assert_err(vio_devq_push_batch(f->q, dup, QSIZE + 1), -VIO_EINVAL);
	assert_int_equal(published(f), before);
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	assert_int_equal(st.inflight, 3);
	/* All three still go back, once. */
	struct vio_used ok[3] = {{&f->chain[2], 3}, {&f->chain[0], 1}, {&f->chain[1], 16}};
	assert_err(vio_devq_push_batch(f->q, ok, 3), 0);
	assert_int_equal(published(f), (uint16_t)(before + 3));
	vio_devq_get_state(f->q, &st);
	assert_int_equal(st.inflight, 0);
	assert_err(vio_devq_push_batch(f->q, ok, 1), -VIO_EINVAL);
}

/* The used entries of a fast batch, as the driver reads them. */
static void test_push_batch_entries(void **state)
{
	struct fx *f = *state;
	pop_three(f);
	uint16_t ids[3] = {f->chain[0].id, f->chain[1].id, f->chain[2].id};
	struct vio_used u[3] = {{&f->chain[1], 5}, {&f->chain[2], 0}, {&f->chain[0], 16}};
	assert_err(vio_devq_push_batch(f->q, u, 3), 0);
	assert_true(vio_devq_needs_notify(f->q));
	if (is_split(f)) {
		assert_int_equal(raw_split_used_idx_get(&f->r), 4);
		return;
	}
	/* Packed: the driver's mock reads three used descriptors. */
	uint16_t want_id[3] = {ids[1], ids[2], ids[0]};
	uint32_t want_len[3] = {5, 0, 16};
	for (unsigned k = 0; k < 3; k++) {
		uint16_t flags;
		assert_err(vio_devq_read_slot_flags(f->q, (uint16_t)(1 + k), &flags), 0);
		assert_int_equal(flags & (VIO_DESC_F_AVAIL | VIO_DESC_F_USED),
				 VIO_DESC_F_AVAIL | VIO_DESC_F_USED);
		assert_int_equal((flags & VIO_DESC_F_WRITE) != 0, want_len[k] != 0);
		const unsigned char *d = (const unsigned char *)f->r.desc + 16u * (1 + k);
		assert_int_equal(d[12] | d[13] << 8, want_id[k]);
		assert_int_equal(d[8] | d[9] << 8, want_len[k]);
	}
}

/* A broken queue refuses batches. */
static void test_push_batch_broken(void **state)
{
	struct fx *f = *state;
	pop_three(f);
	vio_devq_fail(f->q, -VIO_EREQUEST);
	struct vio_used u[1] = {{&f->chain[0], 1}};
	assert_err(vio_devq_push_batch(f->q, u, 1), -VIO_EBROKEN);
	assert_err(vio_devq_push(f->q, &f->chain[0], 1), -VIO_EBROKEN);
	assert_err(pop_batch(f, 2), -VIO_EBROKEN);
}

/* Going round the ring several times in batches keeps the positions (and
 * packed's wrap counters, whose marks flip at the end) right. */
static void test_batches_round_the_ring(void **state)
{
	struct fx *f = *state;
	for (unsigned round = 0; round < 5; round++) {
		for (unsigned k = 0; k < 3; k++)
			offer1(f, f->data_addr + 64u * k, 16, VIO_DESC_F_WRITE, (uint16_t)k);
		assert_err(pop_batch(f, 3), 3);
		struct vio_used u[3] = {{&f->chain[0], 1}, {&f->chain[1], 2}, {&f->chain[2], 3}};
		assert_err(vio_devq_push_batch(f->q, u, 3), 0);
	}
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	assert_int_equal(st.inflight, 0);
	if (is_split(f)) {
		assert_int_equal(st.used_idx, 16);
	} else {
		/* 1 + 15 slots from slot 0 with wrap 1: slot 0, wrap 1 again. */
		assert_int_equal(st.used_idx, 0);
		assert_true(st.used_wrap);
		assert_int_equal(st.avail_idx, 0);
		assert_true(st.avail_wrap);
	}
	assert_err(pop_batch(f, 1), -VIO_EAGAIN);
}

/* One buffer popped and pushed (4 bytes written) after a decision, so
 * that the next vio_devq_needs_notify() judges that one slot. */
static void push_after_decision(struct fx *f)
{
	(void)vio_devq_needs_notify(f->q);
	offer1(f, f->data_addr, 16, VIO_DESC_F_WRITE, 0);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 4), 0);
}

/* The packed off_wrap naming the slot @delta (-QSIZE..QSIZE) slots from
 * the device's next used position: 0 is not used yet, -1 was just used. */
static uint16_t used_off_wrap(struct fx *f, int delta)
{
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	int pos = st.used_idx + delta;
	bool wrap = st.used_wrap;
	if (pos < 0 || pos >= QSIZE) {
		pos += pos < 0 ? QSIZE : -QSIZE;
		wrap = !wrap;
	}
	return (uint16_t)((unsigned)pos | (wrap ? 0x8000u : 0u));
}

/* Packed interrupt suppression (§2.8.10) as the fast needs_notify decides
 * it, for every driver flags value (with and without the unused bits set),
 * with EVENT_IDX (fixture packed_ei) and without: DISABLE never notifies;
 * ENABLE, the reserved value and DESC without the feature always do; DESC
 * with it only once the named descriptor was used. Each named slot is one
 * the 16-bit rule answers "no" for unless it was just used, so dropping the
 * mode test (or taking DESC without the feature) fails. DESC naming an
 * offset past the ring notifies. */
static void test_packed_notify_flags(void **state)
{
	struct fx *f = *state;
	for (unsigned round = 0; round < 2u * QSIZE + 3u; round++) {
		for (uint16_t v = 0; v < 4; v++) {
			uint16_t fl = (uint16_t)(v | ((round & 1u) != 0 ? 0xfffcu : 0u));
			bool off = v == VIO_RING_EVENT_FLAGS_DISABLE;
			bool desc = v == VIO_RING_EVENT_FLAGS_DESC && f->event_idx;
			for (int delta = -1; delta <= 1; delta++) {
				push_after_decision(f);
				raw_packed_event_set(f->r.driver, used_off_wrap(f, delta), fl);
				bool want = !off && (!desc || delta == -1);
				if (vio_devq_needs_notify(f->q) != want)
					fail_msg("round %u flags 0x%04x event %+d: notified %d",
						 round, fl, delta, !want);
				/* Nothing pushed since: never. */
				if (vio_devq_needs_notify(f->q))
					fail_msg("round %u flags 0x%04x event %+d: notified again",
						 round, fl, delta);
			}
		}
		/* DESC naming an offset past the ring (either wrap bit), the
		 * slot after it just used: nonsense, so notify. */
		static const uint16_t beyond[] = {QSIZE, QSIZE + 1, 0x7fff};
		for (unsigned k = 0; k < 2u * (sizeof(beyond) / sizeof(beyond[0])); k++) {
			push_after_decision(f);
			uint16_t ow = (uint16_t)(beyond[k / 2] | ((k & 1u) != 0 ? 0x8000u : 0u));
			raw_packed_event_set(f->r.driver, ow, VIO_RING_EVENT_FLAGS_DESC);
			if (!vio_devq_needs_notify(f->q))
				fail_msg("round %u off_wrap 0x%04x: no notification", round, ow);
			/* Nonsense, but nothing pushed since: no notification. */
			if (vio_devq_needs_notify(f->q))
				fail_msg("round %u off_wrap 0x%04x: notified again", round, ow);
		}
		if (round == QSIZE) {
			/* A restore recomputes the mode from the features. */
			struct vio_ring_state st;
			vio_devq_get_state(f->q, &st);
			assert_err(vio_devq_set_state(f->q, &st), 0);
		}
	}
}

/* A lap of slots between two decisions notifies, whatever slot DESC names
 * (16-bit arithmetic over a lap would say "no" for the slot about to be
 * used, which the device also used a lap ago). */
static void test_packed_notify_after_a_lap(void **state)
{
	struct fx *f = *state;
	for (unsigned laps = 1; laps <= 3; laps++) {
		(void)vio_devq_needs_notify(f->q);
		for (unsigned k = 0; k < laps * QSIZE; k++) {
			offer1(f, f->data_addr, 16, VIO_DESC_F_WRITE, 0);
			assert_err(pop(f), 0);
			assert_err(vio_devq_push(f->q, &f->chain[0], 4), 0);
		}
		raw_packed_event_set(f->r.driver, used_off_wrap(f, 0), VIO_RING_EVENT_FLAGS_DESC);
		assert_true(vio_devq_needs_notify(f->q));
		assert_false(vio_devq_needs_notify(f->q)); /* nothing since */
	}
	/* One slot less than a lap, the event a slot ahead: no. */
	(void)vio_devq_needs_notify(f->q);
	for (unsigned k = 0; k + 1 < QSIZE; k++) {
		offer1(f, f->data_addr, 16, VIO_DESC_F_WRITE, 0);
		assert_err(pop(f), 0);
		assert_err(vio_devq_push(f->q, &f->chain[0], 4), 0);
	}
	raw_packed_event_set(f->r.driver, used_off_wrap(f, 0), VIO_RING_EVENT_FLAGS_DESC);
	assert_int_equal(vio_devq_needs_notify(f->q), !f->event_idx);
}

/* Packed single pushes over three laps (both wrap counters): each used
 * descriptor carries the id, the length, the wrap pair of its lap, and
 * WRITE exactly when bytes were written (§2.8.4). */
static void test_packed_push_used_flags(void **state)
{
	struct fx *f = *state;
	for (unsigned k = 0; k < 3u * QSIZE; k++) {
		struct vio_ring_state st;
		vio_devq_get_state(f->q, &st);
		uint16_t id = (uint16_t)(k % QSIZE);
		uint32_t len = (k % 3u) == 0 ? 0u : (uint32_t)k;
		offer1(f, f->data_addr, 64, VIO_DESC_F_WRITE, id);
		assert_err(pop(f), 0);
		assert_err(vio_devq_push(f->q, &f->chain[0], len), 0);
		uint16_t flags;
		assert_err(vio_devq_read_slot_flags(f->q, st.used_idx, &flags), 0);
		uint16_t pair = st.used_wrap ? (VIO_DESC_F_AVAIL | VIO_DESC_F_USED) : 0;
		assert_int_equal(flags, pair | (len != 0 ? VIO_DESC_F_WRITE : 0));
		const unsigned char *d = (const unsigned char *)f->r.desc + 16u * st.used_idx;
		assert_int_equal(d[12] | d[13] << 8, id);
		assert_int_equal(d[8] | d[9] << 8 | d[10] << 16 | (uint32_t)d[11] << 24, len);
	}
}

/* ---- Lists of direct descriptors (the popn chain walks) ------------------ */

/* A readable header and two writable buffers: the record the walk
 * composes (counts, totals, directions, pointers). */
static void test_chain_record(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr + 16, f->data_addr + 512, f->data_addr + 1024};
	uint32_t l[3] = {16, 100, 200};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 3, 5);
	memset(&f->chain[0], 0xa5, sizeof(f->chain[0]));
	memset(f->segs, 0xa5, sizeof(f->segs));
	assert_err(pop(f), 0);
	struct vio_chain *c = &f->chain[0];
	assert_int_equal(c->id, is_split(f) ? 1 : 5);
	assert_int_equal(c->ndesc, 3);
	assert_int_equal(c->nseg, 3);
	assert_int_equal(c->nout, 1);
	assert_int_equal(c->out_bytes, 16);
	assert_int_equal(c->in_bytes, 300);
	assert_int_equal(c->flags, 0);
	assert_ptr_equal(c->segs, f->segs);
	for (unsigned k = 0; k < 3; k++) {
		assert_ptr_equal(f->segs[k].ptr, f->data + (a[k] - f->data_addr));
		assert_int_equal(f->segs[k].addr, a[k]);
		assert_int_equal(f->segs[k].len, l[k]);
		assert_int_equal(f->segs[k].write, k != 0);
		assert_false(f->segs[k].release);
	}
	assert_err(vio_devq_push(f->q, c, 301), -VIO_EINVAL);
	assert_err(vio_devq_push(f->q, c, 300), 0);
}

/* Readable descriptors only: every segment counts in nout. */
static void test_chain_all_readable(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint32_t l[3] = {8, 9, 10};
	uint16_t fl[3] = {0, 0, 0};
	offer(f, a, l, fl, 3, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].nseg, 3);
	assert_int_equal(f->chain[0].nout, 3);
	assert_int_equal(f->chain[0].out_bytes, 27);
	assert_int_equal(f->chain[0].in_bytes, 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
}

/* §2.7.4.2: a readable descriptor after a writable one. */
static void test_chain_read_after_write(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint32_t l[3] = {8, 8, 8};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, 0};
	offer(f, a, l, fl, 3, 2);
	assert_err(pop(f), -VIO_EDESC_ORDER);
	broken_with(f, -VIO_EDESC_ORDER);
}

/* An empty buffer inside a list, readable or writable: the general code
 * gives it a segment without a pointer. */
static void chain_empty_at(struct fx *f, unsigned at)
{
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint32_t l[3] = {8, 8, 8};
	uint16_t fl[3] = {0, 0, VIO_DESC_F_WRITE};
	l[at] = 0;
	offer(f, a, l, fl, 3, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].nseg, 3);
	assert_null(f->segs[at].ptr);
	assert_int_equal(f->segs[at].len, 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
}

static void test_chain_empty_buffer(void **state)
{
	struct fx *f = *state;
	chain_empty_at(f, 1);
	chain_empty_at(f, 2);
}

/* A buffer that starts before the region or runs one byte past its end,
 * in either direction and at any position: no region holds it. */
static void chain_outside(struct fx *f, unsigned at, uint64_t addr, uint32_t len)
{
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint32_t l[3] = {8, 8, 8};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	a[at] = addr;
	l[at] = len;
	offer(f, a, l, fl, 3, 2);
	assert_err(pop(f), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

static void test_chain_past_region_end_read(void **state)
{
	struct fx *f = *state;
	chain_outside(f, 0, f->data_addr + DATA_LEN - 8, 9);
}

static void test_chain_past_region_end_write(void **state)
{
	struct fx *f = *state;
	chain_outside(f, 2, f->data_addr + DATA_LEN - 8, 9);
}

static void test_chain_before_region(void **state)
{
	struct fx *f = *state;
	chain_outside(f, 1, f->data_addr - 4, 8);
}

/* Ending exactly at the region's end is fine, in both directions. */
static void test_chain_at_region_end(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr + DATA_LEN - 8, f->data_addr + DATA_LEN - 4};
	uint32_t l[2] = {4, 4};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, 2);
	assert_err(pop(f), 0);
	assert_ptr_equal(f->segs[1].ptr, f->data + DATA_LEN - 4);
	assert_err(vio_devq_push(f->q, &f->chain[0], 4), 0);
}

/* More segments than the array: -VIO_ENOSPC, nothing taken, and nothing
 * written past the array. */
static void test_chain_longer_than_array(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint32_t l[3] = {8, 8, 8};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 3, 2);
	memset(f->segs, 0x5a, sizeof(f->segs));
	assert_err(vio_devq_pop(f->q, &f->chain[0], f->segs, 2), -VIO_ENOSPC);
	unsigned char canary[sizeof(f->segs[2])];
	memset(canary, 0x5a, sizeof(canary));
	assert_memory_equal(&f->segs[2], canary, sizeof(canary));
	assert_false(vio_devq_is_broken(f->q));
	/* (Readable only: the array limit in the first loop.) */
	assert_err(vio_devq_pop(f->q, &f->chain[0], f->segs, 3), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	uint16_t fr[3] = {0, 0, 0};
	offer(f, a, l, fr, 3, 3);
	memset(f->segs, 0x5a, sizeof(f->segs));
	assert_err(vio_devq_pop(f->q, &f->chain[0], f->segs, 2), -VIO_ENOSPC);
	assert_memory_equal(&f->segs[2], canary, sizeof(canary));
}

/* The lengths sum past 2^32 (§2.7.5.1) inside a region big enough to hold
 * them (never touched: a pop only computes pointers). */
static void test_chain_length_overflow(void **state)
{
	struct fx *f = *state;
	const uint64_t big = 0x100000000000ull;
	struct vio_mem_region t[GM_MAX_REGIONS + 2];
	memcpy(t, f->table, sizeof(f->table));
	uint32_t n = f->gm.n + 1;
	t[n] = (struct vio_mem_region){big, 1ull << 34, f->ro, VIO_MAP_READ | VIO_MAP_WRITE};
	assert_err(vio_devq_set_mem_table(f->q, t, n + 1), 0);
	/* One buffer there first, so the walk looks in that region. */
	offer1(f, big, 16, 0, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	uint64_t a[3] = {big, big + 0x80000000ull, big + 0x100000000ull};
	uint32_t l[3] = {0x80000000u, 0x7fffffffu, 1};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 3, 2);
	assert_err(pop(f), -VIO_ELEN_OVERFLOW);
	broken_with(f, -VIO_ELEN_OVERFLOW);
}

/* One byte below 2^32 in all is fine. */
static void test_chain_length_limit(void **state)
{
	struct fx *f = *state;
	const uint64_t big = 0x100000000000ull;
	struct vio_mem_region t[GM_MAX_REGIONS + 2];
	memcpy(t, f->table, sizeof(f->table));
	uint32_t n = f->gm.n + 1;
	t[n] = (struct vio_mem_region){big, 1ull << 34, f->ro, VIO_MAP_READ | VIO_MAP_WRITE};
	assert_err(vio_devq_set_mem_table(f->q, t, n + 1), 0);
	offer1(f, big, 16, 0, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	uint64_t a[3] = {big, big + 0x80000000ull, big + 0x100000000ull};
	uint32_t l[3] = {0x80000000u, 0x7fffffffu, 0};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	l[2] = 0;
	offer(f, a, l, fl, 2, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].out_bytes, 0x80000000u);
	assert_int_equal(f->chain[0].in_bytes, 0x7fffffffu);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
}

/* An indirect table after direct descriptors (split: §2.7.5.3.2 allows
 * it; this queue did not negotiate the feature): the general code must see it, in
 * either loop of the walk (WRITE set on it, which it ignores). */
static void chain_then_indirect(struct fx *f, uint16_t before)
{
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 16};
	uint16_t fl[2] = {before, VIO_DESC_F_INDIRECT | before};
	offer(f, a, l, fl, 2, 2);
	/* (Packed allows an indirect descriptor only alone, §2.8.7.) */
	int err = is_split(f) ? -VIO_EINDIRECT_FEATURE : -VIO_EINDIRECT_NEXT;
	assert_err(pop(f), err);
	broken_with(f, err);
}

static void test_chain_indirect_after_readable(void **state)
{
	chain_then_indirect(*state, 0);
}

static void test_chain_indirect_after_writable(void **state)
{
	chain_then_indirect(*state, VIO_DESC_F_WRITE);
}

/* Split: a next index out of range, after a readable or a writable
 * descriptor. */
static void split_next_out_of_range(struct fx *f, uint16_t dir)
{
	uint16_t head = (uint16_t)(f->cursor % QSIZE), second = (uint16_t)((head + 1u) % QSIZE);
	raw_split_put(f->r.desc, head, f->data_addr, 8, VIO_DESC_F_NEXT, second);
	raw_split_put(f->r.desc, second, f->data_addr + 64, 8, (uint16_t)(dir | VIO_DESC_F_NEXT),
		      QSIZE);
	f->cursor = (uint16_t)(f->cursor + 2u);
	raw_split_avail_add(&f->r, head);
	assert_err(pop(f), -VIO_EDESC_NEXT);
	broken_with(f, -VIO_EDESC_NEXT);
}

static void test_split_chain_next_out_of_range_read(void **state)
{
	split_next_out_of_range(*state, 0);
}

static void test_split_chain_next_out_of_range_write(void **state)
{
	split_next_out_of_range(*state, VIO_DESC_F_WRITE);
}

/* Split: a loop, walked with an array longer than the queue. */
static void test_split_chain_loop(void **state)
{
	struct fx *f = *state;
	uint16_t head = (uint16_t)(f->cursor % QSIZE), second = (uint16_t)((head + 1u) % QSIZE);
	raw_split_put(f->r.desc, head, f->data_addr, 8, VIO_DESC_F_NEXT, second);
	raw_split_put(f->r.desc, second, f->data_addr + 64, 8, VIO_DESC_F_WRITE | VIO_DESC_F_NEXT,
		      second);
	f->cursor = (uint16_t)(f->cursor + 2u);
	raw_split_avail_add(&f->r, head);
	struct vio_chain_seg many[3 * QSIZE];
	assert_err(vio_devq_pop(f->q, &f->chain[0], many, 3 * QSIZE), -VIO_EDESC_LOOP);
	broken_with(f, -VIO_EDESC_LOOP);
}

/* Split: the walk's head is not re-read as something else: a head
 * already in flight is refused before any walk. */
static void test_split_chain_head_in_flight(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 8};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, 2);
	uint16_t head = (uint16_t)((f->cursor - 2u) % QSIZE);
	assert_err(pop(f), 0);
	raw_split_avail_add(&f->r, head);
	assert_err(vio_devq_pop(f->q, &f->chain[1], f->segs + NSEGS, NSEGS), -VIO_EDESC_INFLIGHT);
	broken_with(f, -VIO_EDESC_INFLIGHT);
}

/* A region that ends at 2^64 (its hint_end wraps to 0): buffers up to its
 * last byte pop on the fast paths, one past it does not. */
static void test_region_at_top(void **state)
{
	struct fx *f = *state;
	const uint64_t top = 0ull - RO_LEN;
	struct vio_mem_region t[GM_MAX_REGIONS + 2];
	memcpy(t, f->table, sizeof(f->table));
	uint32_t n = f->gm.n + 1;
	t[n] = (struct vio_mem_region){top, RO_LEN, f->ro, VIO_MAP_READ | VIO_MAP_WRITE};
	assert_err(vio_devq_set_mem_table(f->q, t, n + 1), 0);
	offer1(f, top, 16, 0, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer1(f, 0ull - 16u, 16, VIO_DESC_F_WRITE, 2);
	assert_err(pop(f), 0);
	assert_ptr_equal(f->segs[0].ptr, f->ro + RO_LEN - 16);
	assert_err(vio_devq_push(f->q, &f->chain[0], 16), 0);
	uint64_t a[3] = {top, 0ull - 32u, 0ull - 8u};
	uint32_t l[3] = {16, 24, 8};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 3, 3);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].in_bytes, 32);
	assert_ptr_equal(f->segs[2].ptr, f->ro + RO_LEN - 8);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	/* A length that runs past 2^64 wraps to the bottom: nobody's. */
	a[2] = 0ull - 8u;
	l[2] = 9;
	offer(f, a, l, fl, 3, 4);
	assert_int_equal(pop(f) < 0, true);
	assert_true(vio_devq_is_broken(f->q));
}

/* Packed: the buffer id the last descriptor of a list carries (§2.8.7)
 * is checked: below size, not in flight. */
static void test_packed_chain_id_out_of_range(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 8};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, QSIZE);
	assert_err(pop(f), -VIO_EDESC_ID);
	broken_with(f, -VIO_EDESC_ID);
}

static void test_packed_chain_id_in_flight(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 8};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, 3);
	assert_err(pop(f), 0);
	offer(f, a, l, fl, 2, 3);
	assert_err(vio_devq_pop(f->q, &f->chain[1], f->segs + NSEGS, NSEGS), -VIO_EDESC_INFLIGHT);
	broken_with(f, -VIO_EDESC_INFLIGHT);
}

/* Packed: lists that run over the end of the ring into its start, for
 * several laps: the slot and the wrap counter after each. */
static void test_packed_chain_wraps(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint32_t l[3] = {8, 16, 32};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	for (unsigned k = 0; k < 3 * QSIZE; k++) {
		offer(f, a, l, fl, 3, (uint16_t)(k % QSIZE));
		struct vio_ring_state before, after;
		vio_devq_get_state(f->q, &before);
		assert_err(pop(f), 0);
		vio_devq_get_state(f->q, &after);
		assert_int_equal(f->chain[0].id, k % QSIZE);
		assert_int_equal(f->chain[0].ndesc, 3);
		assert_int_equal(f->chain[0].head, before.avail_idx);
		assert_int_equal(f->chain[0].in_bytes, 48);
		assert_int_equal(after.avail_idx, (before.avail_idx + 3u) % QSIZE);
		assert_int_equal(after.avail_wrap, before.avail_idx + 3u >= QSIZE
							   ? !before.avail_wrap
							   : before.avail_wrap);
		assert_err(vio_devq_push(f->q, &f->chain[0], 48), 0);
	}
}

/* ---- Indirect tables (the table walks) ------------------------------------ */

/* Write a table of @n entries at byte @at of the table region (entry k
 * linked to k + 1 on split, NEXT added between them) and offer the one
 * descriptor that points to it, with @hflags besides INDIRECT. */
static void offer_table_at(struct fx *f, size_t at, const uint64_t *addr, const uint32_t *len,
			   const uint16_t *flags, unsigned n, uint16_t id, uint16_t hflags,
			   uint32_t tlen)
{
	unsigned char *t = f->itab + at;
	enum vio_ring_format tf = is_split(f) ? VIO_RING_SPLIT : VIO_RING_PACKED;
	for (unsigned k = 0; k < n; k++) {
		uint16_t fl =
			(uint16_t)(flags[k] | (k + 1 < n && is_split(f) ? VIO_DESC_F_NEXT : 0));
		struct raw_desc d = {addr[k], len[k], fl, is_split(f) ? (uint16_t)(k + 1) : 0};
		/* raw_desc_put() wants an aligned table: build it aside. */
		unsigned char e[16 * ITAB_ENTRIES];
		raw_desc_put(e, 0, tf, &d);
		memcpy(t + 16u * k, e, 16);
	}
	uint64_t a = f->itab_addr + at;
	uint32_t l = tlen;
	uint16_t fl = (uint16_t)(VIO_DESC_F_INDIRECT | hflags);
	offer(f, &a, &l, &fl, 1, id);
}

static void offer_table(struct fx *f, const uint64_t *addr, const uint32_t *len,
			const uint16_t *flags, unsigned n, uint16_t id)
{
	offer_table_at(f, 0, addr, len, flags, n, id, 0, 16u * n);
}

/* The table's first pop goes through the general code, which makes the
 * table region the one the fast path looks in; then the record. */
static void test_table_record(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr + 16, f->data_addr + 512, f->data_addr + 1024};
	uint32_t l[3] = {16, 100, 200};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	for (unsigned k = 0; k < 3; k++) {
		offer_table(f, a, l, fl, 3, 5);
		memset(&f->chain[0], 0xa5, sizeof(f->chain[0]));
		memset(f->segs, 0xa5, sizeof(f->segs));
		assert_err(pop(f), 0);
		struct vio_chain *c = &f->chain[0];
		assert_int_equal(c->ndesc, 1);
		assert_int_equal(c->nseg, 3);
		assert_int_equal(c->nout, 1);
		assert_int_equal(c->out_bytes, 16);
		assert_int_equal(c->in_bytes, 300);
		assert_int_equal(c->flags, 0);
		assert_ptr_equal(c->segs, f->segs);
		for (unsigned j = 0; j < 3; j++) {
			assert_ptr_equal(f->segs[j].ptr, f->data + (a[j] - f->data_addr));
			assert_int_equal(f->segs[j].len, l[j]);
			assert_int_equal(f->segs[j].write, j != 0);
			assert_false(f->segs[j].release);
		}
		assert_err(vio_devq_push(f->q, c, 300), 0);
	}
	/* WRITE on the descriptor of a table is ignored (§2.7.5.3.2). */
	offer_table_at(f, 0, a, l, fl, 3, 6, VIO_DESC_F_WRITE, 48);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].nout, 1);
	assert_int_equal(f->chain[0].in_bytes, 300);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
}

/* Pop a good table once (the fast path then looks in the table region),
 * then offer @tlen bytes at @at holding entries @a/@l/@fl: the pop must
 * fail with @err. */
static void table_fails(struct fx *f, size_t at, const uint64_t *a, const uint32_t *l,
			const uint16_t *fl, unsigned n, uint32_t tlen, int err)
{
	uint64_t ga[1] = {f->data_addr};
	uint32_t gl[1] = {8};
	uint16_t gf[1] = {VIO_DESC_F_WRITE};
	offer_table(f, ga, gl, gf, 1, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer_table_at(f, at, a, l, fl, n, 2, 0, tlen);
	assert_err(pop(f), err);
	broken_with(f, err);
}

static const uint32_t tl3[3] = {8, 8, 8};

static void test_table_read_after_write(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, 0};
	table_fails(f, 0, a, tl3, fl, 3, 48, -VIO_EDESC_ORDER);
}

/* (The nested table's address is in the buffers' region: a walk that took
 * it for a buffer would find it there.) */
static void test_table_nested(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 256};
	uint16_t fl[2] = {0, VIO_DESC_F_INDIRECT};
	table_fails(f, 0, a, tl3, fl, 2, 32, -VIO_EINDIRECT_NESTED);
}

static void test_table_nested_first(void **state)
{
	struct fx *f = *state;
	uint64_t a[1] = {f->data_addr + 256};
	uint16_t fl[1] = {VIO_DESC_F_INDIRECT};
	table_fails(f, 0, a, tl3, fl, 1, 16, -VIO_EINDIRECT_NESTED);
}

static void test_table_nested_after_write(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 256};
	uint16_t fl[2] = {VIO_DESC_F_WRITE, VIO_DESC_F_INDIRECT | VIO_DESC_F_WRITE};
	table_fails(f, 0, a, tl3, fl, 2, 32, -VIO_EINDIRECT_NESTED);
}

/* (Good entries fill the whole table region: a walk that took the empty
 * table would run off its end.) */
static void test_table_empty(void **state)
{
	struct fx *f = *state;
	uint64_t a[ITAB_ENTRIES];
	uint32_t l[ITAB_ENTRIES];
	uint16_t fl[ITAB_ENTRIES];
	for (unsigned k = 0; k < ITAB_ENTRIES; k++) {
		a[k] = f->data_addr + 8u * k;
		l[k] = 8;
		fl[k] = VIO_DESC_F_WRITE;
	}
	offer_table(f, a, l, fl, 1, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer_table_at(f, 0, a, l, fl, ITAB_ENTRIES, 2, 0, 0);
	if (is_split(f)) {
		/* Split: entry 0 alone a whole chain. */
		struct raw_desc d;
		raw_desc_get(f->itab, 0, VIO_RING_SPLIT, &d);
		d.flags &= (uint16_t)~VIO_DESC_F_NEXT;
		raw_desc_put(f->itab, 0, VIO_RING_SPLIT, &d);
	}
	/* An array of exactly one segment. */
	struct vio_chain_seg *one = malloc(sizeof(*one));
	assert_non_null(one);
	assert_err(vio_devq_pop(f->q, &f->chain[0], one, 1), -VIO_EINDIRECT_EMPTY);
	free(one);
	broken_with(f, -VIO_EINDIRECT_EMPTY);
}

static void test_table_odd_size(void **state)
{
	struct fx *f = *state;
	uint64_t a[1] = {f->data_addr};
	uint16_t fl[1] = {0};
	table_fails(f, 0, a, tl3, fl, 1, 24, -VIO_EINDIRECT_SIZE);
}

static void test_table_too_long(void **state)
{
	struct fx *f = *state;
	uint64_t a[1] = {f->data_addr};
	uint16_t fl[1] = {0};
	table_fails(f, 0, a, tl3, fl, 1, 16u * (QSIZE + 1), -VIO_EINDIRECT_LONG);
}

/* The same with good entries all through and an array for all of them. */
static void test_table_too_long_big_array(void **state)
{
	struct fx *f = *state;
	uint64_t a[QSIZE + 1];
	uint32_t l[QSIZE + 1];
	uint16_t fl[QSIZE + 1];
	for (unsigned k = 0; k <= QSIZE; k++) {
		a[k] = f->data_addr + 64u * k;
		l[k] = 8;
		fl[k] = 0;
	}
	offer_table(f, a, l, fl, 1, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer_table(f, a, l, fl, QSIZE + 1, 2);
	struct vio_chain_seg many[3 * QSIZE];
	assert_err(vio_devq_pop(f->q, &f->chain[0], many, 3 * QSIZE), -VIO_EINDIRECT_LONG);
	broken_with(f, -VIO_EINDIRECT_LONG);
}

/* The table runs 8 bytes past its region's end (into no region). */
static void test_table_past_region(void **state)
{
	struct fx *f = *state;
	uint64_t a[1] = {f->data_addr};
	uint16_t fl[1] = {0};
	table_fails(f, ITAB_ENTRIES * 16, a, tl3, fl, 1, 16, -VIO_EINDIRECT_MAP);
}

/* A buffer outside any region, an empty one, and the array limit. */
static void test_table_buffer_outside(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + DATA_LEN - 4};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	table_fails(f, 0, a, tl3, fl, 2, 32, -VIO_EMAP);
}

static void test_table_empty_buffer(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 0};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer_table(f, a, l, fl, 2, 1);
	assert_err(pop(f), 0);
	offer_table_at(f, 64, a, l, fl, 2, 2, 0, 32);
	assert_err(vio_devq_pop(f->q, &f->chain[1], f->segs + NSEGS, NSEGS), 0);
	assert_null(f->segs[NSEGS + 1].ptr);
	assert_int_equal(f->segs[NSEGS + 1].len, 0);
}

static void test_table_longer_than_array(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	uint64_t ga[1] = {f->data_addr};
	uint32_t gl[1] = {8};
	offer_table(f, ga, gl, fl, 1, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer_table(f, a, tl3, fl, 3, 2);
	memset(f->segs, 0x5a, sizeof(f->segs));
	assert_err(vio_devq_pop(f->q, &f->chain[0], f->segs, 2), -VIO_ENOSPC);
	unsigned char canary[sizeof(f->segs[2])];
	memset(canary, 0x5a, sizeof(canary));
	assert_memory_equal(&f->segs[2], canary, sizeof(canary));
	assert_false(vio_devq_is_broken(f->q));
}

/* The table at an address the descriptor type is not aligned to: the
 * general code reads it byte by byte. */
static void test_table_unaligned(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 24};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer_table(f, a, l, fl, 2, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer_table_at(f, 4, a, l, fl, 2, 2, 0, 32);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].in_bytes, 24);
	assert_ptr_equal(f->segs[1].ptr, f->data + 64);
}

/* Split: next beyond the table (not the queue), from a readable or a
 * writable entry; what lies behind the table is a good buffer. */
static void split_table_next_out_of_range(struct fx *f, unsigned from)
{
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	uint64_t ga[1] = {f->data_addr};
	uint32_t gl[1] = {8};
	offer_table(f, ga, gl, fl, 1, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	/* Two entries; entry @from names entry 2: in the queue, not the table. */
	offer_table_at(f, 0, a, tl3, fl, 2, 2, 0, 32);
	struct raw_desc d, behind = {f->data_addr + 128, 8, VIO_DESC_F_WRITE, 0};
	raw_desc_put(f->itab, 2, VIO_RING_SPLIT, &behind);
	raw_desc_get(f->itab, from, VIO_RING_SPLIT, &d);
	d.flags |= VIO_DESC_F_NEXT;
	d.next_or_id = 2;
	raw_desc_put(f->itab, from, VIO_RING_SPLIT, &d);
	assert_err(pop(f), -VIO_EDESC_NEXT);
	broken_with(f, -VIO_EDESC_NEXT);
}

static void test_split_table_next_out_of_range(void **state)
{
	split_table_next_out_of_range(*state, 1);
}

static void test_split_table_next_out_of_range_read(void **state)
{
	split_table_next_out_of_range(*state, 0);
}

static void test_split_table_loop(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	uint64_t ga[1] = {f->data_addr};
	uint32_t gl[1] = {8};
	offer_table(f, ga, gl, fl, 1, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer_table_at(f, 0, a, tl3, fl, 2, 2, 0, 32);
	struct raw_desc d;
	raw_desc_get(f->itab, 1, VIO_RING_SPLIT, &d);
	d.flags |= VIO_DESC_F_NEXT;
	d.next_or_id = 1;
	raw_desc_put(f->itab, 1, VIO_RING_SPLIT, &d);
	struct vio_chain_seg many[3 * QSIZE];
	assert_err(vio_devq_pop(f->q, &f->chain[0], many, 3 * QSIZE), -VIO_EDESC_LOOP);
	broken_with(f, -VIO_EDESC_LOOP);
}

/* Without the feature a table is refused, even where the walk could read
 * it: in the first region (the descriptor ring's, where the table walk
 * looks first), an unused slot holding a good buffer. */
static void test_table_without_feature(void **state)
{
	struct fx *f = *state;
	uint16_t head = (uint16_t)(f->cursor % QSIZE), spare = (uint16_t)((head + 1u) % QSIZE);
	raw_split_put(f->r.desc, spare, f->data_addr, 8, 0, 0);
	raw_split_put(f->r.desc, head, f->r.desc_addr + 16u * spare, 16, VIO_DESC_F_INDIRECT, 0);
	f->cursor = (uint16_t)(f->cursor + 2u);
	raw_split_avail_add(&f->r, head);
	assert_err(pop(f), -VIO_EINDIRECT_FEATURE);
	broken_with(f, -VIO_EINDIRECT_FEATURE);
}

/* A table in a region the device may not read, first in the table walk's
 * line (a new table makes the first region the one it looks in). */
static void test_table_in_write_only_region(void **state)
{
	struct fx *f = *state;
	struct vio_mem_region t[GM_MAX_REGIONS + 2];
	/* Other host memory behind the same addresses, holding another
	 * table: a walk that read there would give another chain. */
	t[0] = (struct vio_mem_region){f->itab_addr, 16u * ITAB_ENTRIES, f->ro, VIO_MAP_WRITE};
	memcpy(&t[1], f->table, sizeof(f->table));
	struct raw_desc other = {f->itab_addr + 128, 8, VIO_DESC_F_WRITE, 0};
	raw_desc_put(f->ro, 0, is_split(f) ? VIO_RING_SPLIT : VIO_RING_PACKED, &other);
	assert_err(vio_devq_set_mem_table(f->q, t, f->gm.n + 2), 0);
	uint64_t a[1] = {f->data_addr};
	uint32_t l[1] = {8};
	uint16_t fl[1] = {VIO_DESC_F_WRITE};
	offer_table(f, a, l, fl, 1, 1);
	/* The general code finds the table in the readable region behind. */
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].in_bytes, 8);
	assert_int_equal(f->segs[0].addr, f->data_addr);
}

/* No array at all (max_segs 0, segs NULL): a list is refused with
 * -VIO_ENOSPC and not taken, and nothing is written. */
static void test_chain_no_array(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 8};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, 2);
	assert_err(vio_devq_pop(f->q, &f->chain[0], NULL, 0), -VIO_ENOSPC);
	assert_false(vio_devq_is_broken(f->q));
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].nseg, 2);
	assert_err(vio_devq_push(f->q, &f->chain[0], 8), 0);
}

/* Packed: without the feature, a table in the first region (the ring's,
 * where the table walk looks first), a slot not offered holding a good
 * buffer. */
static void test_packed_table_without_feature(void **state)
{
	struct fx *f = *state;
	uint16_t spare = (uint16_t)((f->r.avail_idx + 1u) % QSIZE);
	raw_packed_put(f->r.desc, spare, f->data_addr, 8, 0, 0);
	uint64_t a = f->r.desc_addr + 16u * spare;
	uint32_t l = 16;
	uint16_t fl = VIO_DESC_F_INDIRECT;
	offer(f, &a, &l, &fl, 1, 1);
	assert_err(pop(f), -VIO_EINDIRECT_FEATURE);
	broken_with(f, -VIO_EINDIRECT_FEATURE);
}

/* Packed: the table's buffer id (on the ring descriptor) is checked. */
static void packed_table_bad_id(struct fx *f, bool in_flight)
{
	uint64_t a[1] = {f->data_addr};
	uint32_t l[1] = {8};
	uint16_t fl[1] = {VIO_DESC_F_WRITE};
	offer_table(f, a, l, fl, 1, 1);
	assert_err(pop(f), 0);
	if (!in_flight)
		assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer_table_at(f, 64, a, l, fl, 1, in_flight ? 1 : QSIZE, 0, 16);
	int err = in_flight ? -VIO_EDESC_INFLIGHT : -VIO_EDESC_ID;
	assert_err(vio_devq_pop(f->q, &f->chain[1], f->segs + NSEGS, NSEGS), err);
	broken_with(f, err);
}

static void test_packed_table_id_out_of_range(void **state)
{
	packed_table_bad_id(*state, false);
}

static void test_packed_table_id_in_flight(void **state)
{
	packed_table_bad_id(*state, true);
}

/* Packed: tables round the ring for several laps (one slot each). */
static void test_packed_table_laps(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 24};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	for (unsigned k = 0; k < 3 * QSIZE; k++) {
		offer_table_at(f, 32u * (k % 4u), a, l, fl, 2, (uint16_t)(k % QSIZE), 0, 32);
		struct vio_ring_state before, after;
		vio_devq_get_state(f->q, &before);
		assert_err(pop(f), 0);
		vio_devq_get_state(f->q, &after);
		assert_int_equal(f->chain[0].id, k % QSIZE);
		assert_int_equal(f->chain[0].ndesc, 1);
		assert_int_equal(f->chain[0].head, before.avail_idx);
		assert_int_equal(after.avail_idx, (before.avail_idx + 1u) % QSIZE);
		assert_int_equal(after.avail_wrap, before.avail_idx + 1u == QSIZE
							   ? !before.avail_wrap
							   : before.avail_wrap);
		assert_err(vio_devq_push(f->q, &f->chain[0], 24), 0);
	}
}

/* A table whose lengths sum past 2^32 (§2.7.5.1), inside a region big
 * enough to hold them (never touched). */
static void test_table_length_overflow(void **state)
{
	struct fx *f = *state;
	const uint64_t big = 0x100000000000ull;
	struct vio_mem_region t[GM_MAX_REGIONS + 2];
	memcpy(t, f->table, sizeof(f->table));
	uint32_t n = f->gm.n + 1;
	t[n] = (struct vio_mem_region){big, 1ull << 34, f->ro, VIO_MAP_READ | VIO_MAP_WRITE};
	assert_err(vio_devq_set_mem_table(f->q, t, n + 1), 0);
	/* Buffers there, and a first table, so both walks look in the right
	 * places. */
	offer1(f, big, 16, 0, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	uint64_t a[3] = {big, big + 0x80000000ull, big + 0x100000000ull};
	uint32_t l[3] = {0x80000000u, 0x7fffffffu, 1};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	offer_table(f, a, l, fl, 2, 2);
	assert_err(pop(f), 0);
	assert_int_equal(f->chain[0].in_bytes, 0x7fffffffu);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	offer_table_at(f, 64, a, l, fl, 3, 3, 0, 48);
	assert_err(pop(f), -VIO_ELEN_OVERFLOW);
	broken_with(f, -VIO_ELEN_OVERFLOW);
}

/* A batch of tables (packed: the batch's leaf hands each over to the
 * table walk), then one that fails: the batch stops before it. */
static void test_table_pop_batch(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {8, 24};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer_table(f, a, l, fl, 2, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain[0], 0), 0);
	for (unsigned k = 0; k < 3; k++)
		offer_table_at(f, 32u * k, a, l, fl, 2, (uint16_t)(2 + k), 0, 32);
	assert_int_equal(vio_devq_pop_batch(f->q, f->chain, f->segs, NSEGS, 3), 3);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(f->chain[k].ndesc, 1);
		assert_int_equal(f->chain[k].nseg, 2);
		assert_int_equal(f->chain[k].in_bytes, 24);
		assert_ptr_equal(f->chain[k].segs, f->segs + k * NSEGS);
		assert_ptr_equal(f->segs[k * NSEGS + 1].ptr, f->data + 64);
	}
	uint16_t bad[2] = {VIO_DESC_F_WRITE, 0};
	offer_table_at(f, 128, a, l, bad, 2, 6, 0, 32);
	assert_err(vio_devq_pop_batch(f->q, &f->chain[3], f->segs + 3 * NSEGS, NSEGS, 2),
		   -VIO_EDESC_ORDER);
	for (unsigned k = 0; k < 3; k++)
		assert_err(vio_devq_push(f->q, &f->chain[k], 0), -VIO_EBROKEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_write_into_read_only_hint),
		BOTH(test_chain_write_into_read_only_hint),
		BOTH(test_empty_buffer),
		BOTH(test_region_end),
		BOTH(test_single_readable_record),
		BOTH(test_single_before_region_read),
		BOTH(test_single_before_region_write),
		BOTH(test_single_past_region_end_read),
		BOTH(test_single_past_region_end_write),
		BOTH(test_single_empty_at_region_start),
		BOTH(test_read_from_write_only_hint),
		SPLIT(test_split_single_head_in_flight_read),
		SPLIT(test_split_single_head_in_flight_write),
		BOTH(test_push_altered_chain),
		BOTH(test_chain_record),
		BOTH(test_chain_no_array),
		BOTH(test_region_at_top),
		BOTH(test_chain_all_readable),
		BOTH(test_chain_read_after_write),
		BOTH(test_chain_empty_buffer),
		BOTH(test_chain_past_region_end_read),
		BOTH(test_chain_past_region_end_write),
		BOTH(test_chain_before_region),
		BOTH(test_chain_at_region_end),
		BOTH(test_chain_longer_than_array),
		BOTH(test_chain_length_overflow),
		BOTH(test_chain_length_limit),
		BOTH(test_chain_indirect_after_readable),
		BOTH(test_chain_indirect_after_writable),
		SPLIT(test_split_chain_next_out_of_range_read),
		SPLIT(test_split_chain_next_out_of_range_write),
		SPLIT(test_split_chain_loop),
		SPLIT(test_split_chain_head_in_flight),
		TEST_F(test_table_record, split_ind),
		TEST_F(test_table_record, packed_ind),
		TEST_F(test_table_read_after_write, split_ind),
		TEST_F(test_table_read_after_write, packed_ind),
		TEST_F(test_table_nested, split_ind),
		TEST_F(test_table_nested, packed_ind),
		TEST_F(test_table_nested_first, split_ind),
		TEST_F(test_table_nested_first, packed_ind),
		TEST_F(test_table_nested_after_write, split_ind),
		TEST_F(test_table_nested_after_write, packed_ind),
		TEST_F(test_table_empty, split_ind),
		TEST_F(test_table_empty, packed_ind),
		TEST_F(test_table_odd_size, split_ind),
		TEST_F(test_table_odd_size, packed_ind),
		TEST_F(test_table_too_long, split_ind),
		TEST_F(test_table_too_long, packed_ind),
		TEST_F(test_table_too_long_big_array, split_ind),
		TEST_F(test_table_length_overflow, split_ind),
		TEST_F(test_table_pop_batch, split_ind),
		TEST_F(test_table_pop_batch, packed_ind),
		TEST_F(test_table_length_overflow, packed_ind),
		TEST_F(test_table_too_long_big_array, packed_ind),
		TEST_F(test_table_past_region, split_ind),
		TEST_F(test_table_past_region, packed_ind),
		TEST_F(test_table_buffer_outside, split_ind),
		TEST_F(test_table_buffer_outside, packed_ind),
		TEST_F(test_table_empty_buffer, split_ind),
		TEST_F(test_table_empty_buffer, packed_ind),
		TEST_F(test_table_longer_than_array, split_ind),
		TEST_F(test_table_longer_than_array, packed_ind),
		TEST_F(test_table_unaligned, split_ind),
		TEST_F(test_table_unaligned, packed_ind),
		TEST_F(test_split_table_next_out_of_range, split_ind),
		TEST_F(test_split_table_next_out_of_range_read, split_ind),
		TEST_F(test_split_table_loop, split_ind),
		SPLIT(test_table_without_feature),
		PACKED(test_packed_table_without_feature),
		TEST_F(test_packed_table_id_out_of_range, packed_ind),
		TEST_F(test_packed_table_id_in_flight, packed_ind),
		TEST_F(test_packed_table_laps, packed_ind),
		TEST_F(test_table_in_write_only_region, split_ind),
		TEST_F(test_table_in_write_only_region, packed_ind),
		PACKED(test_packed_chain_id_out_of_range),
		PACKED(test_packed_chain_id_in_flight),
		PACKED(test_packed_chain_wraps),
		BOTH(test_pop_batch_mixed),
		BOTH(test_pop_batch_stops_at_hostile),
		BOTH(test_pop_batch_across_the_end),
		SPLIT(test_split_pop_batch_head_in_flight),
		SPLIT(test_split_pop_batch_head_out_of_range),
		BOTH(test_pop_batch_region_end),
		PACKED(test_packed_pop_batch_id_in_flight),
		PACKED(test_packed_pop_batch_id_out_of_range),
		BOTH(test_broken_then_journal_change),
		BOTH(test_drop_stale_chain),
		BOTH(test_pop_batch_no_room),
		BOTH(test_push_batch_refused),
		BOTH(test_push_batch_entries),
		BOTH(test_push_batch_broken),
		BOTH(test_batches_round_the_ring),
		PACKED(test_packed_push_used_flags),
		PACKED(test_packed_notify_flags),
		TEST_F(test_packed_notify_flags, packed_ei),
		PACKED(test_packed_notify_after_a_lap),
		TEST_F(test_packed_notify_after_a_lap, packed_ei),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
