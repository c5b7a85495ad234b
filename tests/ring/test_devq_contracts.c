/* SPDX-License-Identifier: MIT */
/* The device queue's safety and state contracts (ring core 0.2), both ring
 * formats: long chains (ENOSPC or truncated), push misuse refused without
 * harm, vio_devq_fail(), the first notification decision with EVENT_IDX,
 * restore with chains in flight (repop), the copy helpers, and a split head
 * that is already in flight. A raw mock driver (raw_ring) writes the rings
 * for most cases; the restore cases drive the real driver half (loop). */
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

#define QSIZE 8
#define NSEGS 16
#define DATA_LEN 4096
#define NRING 3

#define F_NEXT VIO_DESC_F_NEXT
#define F_WRITE VIO_DESC_F_WRITE
#define F_INDIRECT VIO_DESC_F_INDIRECT

struct fx {
	enum vio_ring_format fmt;
	struct guest_mem gm;
	struct raw_ring r;
	struct mem_probe mp;
	struct vio_devq_config cfg;
	struct vio_devq *q;
	void *qmem;
	size_t qmem_size;
	unsigned char *data;
	uint64_t data_addr;
	struct vio_mem_region table[GM_MAX_REGIONS];
	uint32_t ntable;
	uint16_t cursor;
	uint16_t next_id;
	struct vio_chain chain;
	struct vio_chain_seg segs[NSEGS];
};

static bool is_split(const struct fx *f)
{
	return f->fmt == VIO_RING_SPLIT;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	gm_init(&f->gm);
	raw_ring_alloc(&f->r, &f->gm, f->fmt, QSIZE);
	f->data = gm_alloc(&f->gm, DATA_LEN, 16, &f->data_addr);
	mp_init(&f->mp, &f->gm);
	f->mp.nring = NRING;
	f->mp.release = true; /* every callback mapping is counted until released */
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
	assert_int_equal(f->mp.bad_releases, 0);
	mp_fini(&f->mp);
	gm_free(&f->gm);
	free(f->qmem);
	free(f);
	return 0;
}

/* A queue over the map callback (@table false) or the region table. */
static void start_opts(struct fx *f, bool event_idx, bool take_long, bool table)
{
	if (f->q != NULL)
		vio_devq_fini(f->q);
	f->q = NULL;
	memset(&f->cfg, 0, sizeof(f->cfg));
	raw_ring_devq_config(&f->r, &f->cfg);
	f->cfg.features = loop_features(f->fmt, event_idx, true);
	f->cfg.mem_ops = &mp_ops;
	f->cfg.mem_ctx = &f->mp;
	f->cfg.take_long_chains = take_long;
	if (table) {
		f->cfg.regions = f->table;
		f->cfg.nregions = f->ntable;
	}
	assert_err(vio_devq_init(&f->q, f->qmem, f->qmem_size, &f->cfg), 0);
	raw_ring_clear(&f->r);
	f->cursor = 0;
	f->next_id = 0;
}

static void start(struct fx *f)
{
	start_opts(f, false, false, false);
}

static struct raw_desc D(uint64_t addr, uint32_t len, uint16_t flags) {
	return (struct raw_desc){addr, len, flags, 0};
}

static uint16_t
avail(struct fx *f, const struct raw_desc *d, unsigned n)
{
	return raw_chain_add_linked(&f->r, &f->cursor, &f->next_id, d, n);
}

static int pop_n(struct fx *f, uint16_t max)
{
	memset(f->segs, 0, sizeof(f->segs));
	memset(&f->chain, 0xee, sizeof(f->chain));
	return vio_devq_pop(f->q, &f->chain, f->segs, max);
}

static int pop(struct fx *f)
{
	return pop_n(f, NSEGS);
}

static uint64_t A(const struct fx *f, unsigned off)
{
	return f->data_addr + off;
}

/* The driver-visible used position: split used->idx; packed flags of the
 * slot the next used descriptor goes to. */
static uint32_t published(const struct fx *f)
{
	struct vio_ring_state st;
	vio_devq_get_state(f->q, &st);
	if (is_split(f))
		return raw_split_used_idx_get(&f->r) | (uint32_t)st.used_idx << 16;
	return raw_packed_flags_get(&f->r, st.used_idx) | (uint32_t)st.used_idx << 16;
}

/* ---- 6. Long chains --------------------------------------------------------- */

/* Three readable descriptors of 8 bytes, two writable of 16. */
static uint16_t avail_long(struct fx *f)
{
	struct raw_desc d[5] = {D(A(f, 0), 8, 0), D(A(f, 64), 8, 0), D(A(f, 128), 8, 0),
				D(A(f, 256), 16, F_WRITE), D(A(f, 512), 16, F_WRITE)};
	return avail(f, d, 5);
}

static void test_long_chain_refused_without_take_long(void **state)
{
	struct fx *f = *state;
	start(f);
	uint16_t id = avail_long(f);
	for (uint16_t max = 0; max < 5; max++) {
		mp_snap(&f->mp);
		assert_err(pop_n(f, max), -VIO_ENOSPC);
		assert_false(vio_devq_is_broken(f->q));
		assert_true(vio_devq_has_avail(f->q));
		assert_int_equal(f->mp.live, NRING); /* nothing stays mapped */
		uint64_t a;
		assert_false(mp_changed_unlogged(&f->mp, &a)); /* nothing written */
		struct vio_ring_state st;
		vio_devq_get_state(f->q, &st);
		assert_int_equal(st.avail_idx, 0);
		assert_int_equal(st.inflight, 0);
	}
	assert_err(pop_n(f, 5), 0);
	assert_int_equal(f->chain.id, id);
	assert_int_equal(f->chain.nseg, 5);
	assert_int_equal(f->chain.flags & VIO_CHAIN_TRUNCATED, 0);
	assert_err(vio_devq_push(f->q, &f->chain, 32), 0);
	assert_int_equal(f->mp.live, NRING);
}

static void test_long_chain_taken_truncated(void **state)
{
	struct fx *f = *state;
	for (int table = 0; table < 2; table++) {
		start_opts(f, false, true, table);
		unsigned base = f->mp.live;
		for (uint16_t max = 1; max <= 5; max++) {
			uint16_t id = avail_long(f);
			assert_err(pop_n(f, max), 0);
			assert_int_equal(f->chain.id, id);
			assert_int_equal(f->chain.out_bytes, 24); /* whole-chain totals */
			assert_int_equal(f->chain.in_bytes, 32);
			assert_int_equal(f->chain.nseg, max);
			bool trunc = max < 5;
			assert_int_equal((f->chain.flags & VIO_CHAIN_TRUNCATED) != 0, trunc);
			/* The first max - 1 segments, then the chain's last one. */
			static const unsigned off[5] = {0, 64, 128, 256, 512};
			for (unsigned i = 0; i + 1 < max; i++) {
				assert_int_equal(f->segs[i].addr, A(f, off[i]));
				assert_ptr_equal(f->segs[i].ptr, f->data + off[i]);
			}
			const struct vio_chain_seg *last = &f->segs[max - 1];
			assert_int_equal(last->addr, A(f, 512));
			assert_int_equal(last->len, 16);
			assert_true(last->write);
			unsigned nout = max - 1 < 3 ? max - 1u : 3u;
			assert_int_equal(f->chain.nout, nout);
			/* Only the segments in the array stay mapped. */
			assert_int_equal(f->mp.live, base + (table ? 0u : max));
			/* An error status in the last byte of the last segment. */
			((unsigned char *)last->ptr)[15] = 0xe5;
			assert_err(vio_devq_push(f->q, &f->chain, f->chain.in_bytes), 0);
			assert_int_equal(f->mp.live, base);
			assert_int_equal(f->data[512 + 15], 0xe5);
			assert_false(vio_devq_is_broken(f->q));
		}
	}
}

/* The same through the real driver: it gets the status byte. */
static void test_long_chain_status_reaches_driver(void **state)
{
	enum vio_ring_format fmt = ((struct fx *)*state)->fmt;
	struct loop l;
	struct loop_cfg lc = {fmt, QSIZE, 0, loop_features(fmt, false, false), 0, 0, false, 4096};
	assert_err(loop_init(&l, &lc), 0);
	struct vio_devq_config dc;
	loop_devq_config(&l, &dc);
	dc.take_long_chains = true;
	assert_err(vio_devq_init(&l.dq, l.dq_mem, l.dq_mem_size, &dc), 0);
	struct vio_sg sg[5] = {{l.data, 8},
			       {l.data + 64, 8},
			       {l.data + 128, 8},
			       {l.data + 256, 16},
			       {l.data + 512, 16}};
	int token = 1;
	assert_err(vio_vq_add(l.vq, sg, 3, 2, &token), 0);
	struct vio_chain c;
	struct vio_chain_seg s[2];
	assert_err(vio_devq_pop(l.dq, &c, s, 2), 0);
	assert_true(c.flags & VIO_CHAIN_TRUNCATED);
	assert_int_equal(c.nseg, 2);
	assert_int_equal(c.in_bytes, 32);
	assert_ptr_equal(s[0].ptr, l.data);
	assert_ptr_equal(s[1].ptr, l.data + 512);
	/* Through the helper: the array's writable part is the last segment. */
	unsigned char st = 0x7f;
	assert_int_equal(vio_chain_write(&c, 15, &st, 1), 1);
	assert_err(vio_devq_push(l.dq, &c, c.in_bytes), 0);
	void *tok = NULL;
	uint32_t len = 0;
	assert_err(vio_vq_get(l.vq, &tok, &len), 0);
	assert_ptr_equal(tok, &token);
	assert_int_equal(len, 32);
	assert_int_equal(l.data[512 + 15], 0x7f);
	assert_false(vio_vq_is_broken(l.vq));
	loop_fini(&l);
}

/* ---- 7. Push misuse ----------------------------------------------------------- */

/* @rc from a push that must be refused: nothing published, not broken. */
static void refused(struct fx *f, int rc, uint32_t pub, unsigned live)
{
	assert_err(rc, -VIO_EINVAL);
	assert_false(vio_devq_is_broken(f->q));
	assert_int_equal(published(f), pub);
	assert_int_equal(f->mp.live, live);
}

static void pop_one(struct fx *f, struct vio_chain *c, struct vio_chain_seg *s, uint32_t wlen)
{
	struct raw_desc d[2] = {D(A(f, 64u * f->next_id), 8, 0),
				D(A(f, 1024u + 64u * f->next_id), wlen, F_WRITE)};
	avail(f, d, 2);
	assert_err(vio_devq_pop(f->q, c, s, 4), 0);
}

static void test_push_misuse_refused(void **state)
{
	struct fx *f = *state;
	start(f);
	struct vio_chain c[4];
	struct vio_chain_seg s[4][4];
	for (unsigned k = 0; k < 2; k++)
		pop_one(f, &c[k], s[k], 32);
	uint32_t pub = published(f);
	unsigned live = f->mp.live;

	/* written above in_bytes */
	refused(f, vio_devq_push(f->q, &c[0], 33), pub, live);
	refused(f, vio_devq_push(f->q, &c[0], UINT32_MAX), pub, live);
	/* a never-popped record: zeroed, garbage, and a forged id */
	struct vio_chain z;
	memset(&z, 0, sizeof(z));
	refused(f, vio_devq_push(f->q, &z, 0), pub, live);
	memset(&z, 0xee, sizeof(z));
	refused(f, vio_devq_push(f->q, &z, 0), pub, live);
	z = c[0];
	z.id = 5;
	refused(f, vio_devq_push(f->q, &z, 0), pub, live);
	refused(f, vio_devq_push(f->q, NULL, 0), pub, live);
	/* the same chain twice in one batch (and as two copies of the record) */
	struct vio_used u[3] = {{&c[0], 1}, {&c[1], 2}, {&c[0], 3}};
	refused(f, vio_devq_push_batch(f->q, u, 3), pub, live);
	z = c[1];
	struct vio_used u2[2] = {{&c[1], 1}, {&z, 1}};
	refused(f, vio_devq_push_batch(f->q, u2, 2), pub, live);
	struct vio_used u3[2] = {{&c[0], 1}, {&c[1], 33}};
	refused(f, vio_devq_push_batch(f->q, u3, 2), pub, live);
	/* A valid push still works; then pushing it again is refused. */
	assert_err(vio_devq_push(f->q, &c[0], 32), 0);
	pub = published(f);
	live = f->mp.live;
	refused(f, vio_devq_push(f->q, &c[0], 0), pub, live);
	struct vio_used u4[1] = {{&c[0], 0}};
	refused(f, vio_devq_push_batch(f->q, u4, 1), pub, live);
	/* A dropped chain. */
	assert_err(vio_devq_drop(f->q, &c[1]), 0);
	live = f->mp.live;
	refused(f, vio_devq_push(f->q, &c[1], 0), pub, live);
	refused(f, vio_devq_drop(f->q, &c[1]), pub, live);
	/* And the queue still works. */
	pop_one(f, &c[2], s[2], 16);
	assert_err(vio_devq_push(f->q, &c[2], 16), 0);
	assert_false(vio_devq_is_broken(f->q));
}

static void test_push_stale_chain_refused(void **state)
{
	struct fx *f = *state;
	for (int how = 0; how < 2; how++) {
		start(f);
		struct vio_chain old, fresh;
		struct vio_chain_seg so[4], sf[4];
		pop_one(f, &old, so, 32);
		/* Release the stale chain's mappings before forgetting it. */
		struct vio_chain keep = old;
		if (how == 0) {
			vio_devq_reset(f->q);
			raw_ring_clear(&f->r);
			f->cursor = 0;
			f->next_id = 0;
		} else {
			struct vio_ring_state st;
			vio_devq_get_state(f->q, &st);
			st.inflight = 0;
			if (is_split(f)) {
				/* No chain in flight as far as guest memory says. */
				raw_split_used_publish(&f->r, st.avail_idx);
			}
			assert_err(vio_devq_set_state(f->q, &st), 0);
		}
		/* A new chain with the same id is in flight now: the old
		 * record is still refused (generation). */
		pop_one(f, &fresh, sf, 32);
		if (how == 0)
			assert_int_equal(fresh.id, old.id);
		uint32_t pub = published(f);
		refused(f, vio_devq_push(f->q, &keep, 4), pub, f->mp.live);
		struct vio_used u[1] = {{&keep, 0}};
		refused(f, vio_devq_push_batch(f->q, u, 1), pub, f->mp.live);
		assert_err(vio_devq_push(f->q, &fresh, 4), 0);
		/* The stale chain still holds its mappings; dropping it releases
		 * them (and nothing of the new generation). */
		assert_int_equal(f->mp.live, NRING + 2);
		pub = published(f);
		assert_err(vio_devq_drop(f->q, &keep), 0);
		assert_int_equal(published(f), pub);
		assert_false(vio_devq_is_broken(f->q));
		assert_int_equal(f->mp.live, NRING);
		vio_devq_fini(f->q);
		f->q = NULL;
		assert_int_equal(f->mp.live, 0);
	}
}

/* ---- 8. vio_devq_fail ------------------------------------------------------- */

static void test_fail_latches_reason(void **state)
{
	struct fx *f = *state;
	start(f);
	struct vio_chain c;
	struct vio_chain_seg s[4];
	pop_one(f, &c, s, 8);
	assert_err(vio_devq_fail(f->q, -VIO_EREQUEST), -VIO_EREQUEST);
	assert_true(vio_devq_is_broken(f->q));
	assert_err(vio_devq_broken_reason(f->q), -VIO_EREQUEST);
	assert_err(vio_devq_push(f->q, &c, 0), -VIO_EBROKEN);
	assert_err(pop(f), -VIO_EBROKEN);
	assert_false(vio_devq_needs_notify(f->q));
	assert_false(vio_devq_has_avail(f->q));
	/* The first reason wins. */
	assert_err(vio_devq_fail(f->q, -VIO_EDESC_LOOP), -VIO_EREQUEST);
	assert_err(vio_devq_broken_reason(f->q), -VIO_EREQUEST);
	assert_err(vio_devq_drop(f->q, &c), 0);
	/* Reset clears it. */
	vio_devq_reset(f->q);
	assert_false(vio_devq_is_broken(f->q));
	assert_err(vio_devq_broken_reason(f->q), 0);
	/* Positive and zero reasons record -VIO_EREQUEST. */
	static const int odd[] = {0, 1, VIO_EDESC_LOOP, 12345};
	for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_err(vio_devq_fail(f->q, odd[i]), -VIO_EREQUEST);
		assert_err(vio_devq_broken_reason(f->q), -VIO_EREQUEST);
		vio_devq_reset(f->q);
	}
	/* A model reason other than EREQUEST is kept as given. */
	assert_err(vio_devq_fail(f->q, -VIO_ELEN_OVERFLOW), -VIO_ELEN_OVERFLOW);
	vio_devq_reset(f->q);
	/* A peer error first: fail() reports it. */
	raw_ring_clear(&f->r);
	f->cursor = 0;
	if (is_split(f)) {
		raw_split_avail_add(&f->r, 200); /* head beyond the queue */
		assert_err(pop(f), -VIO_EDESC_HEAD);
		assert_err(vio_devq_fail(f->q, -VIO_EREQUEST), -VIO_EDESC_HEAD);
	} else {
		struct raw_desc d = {A(f, 0), 8, 0, 200}; /* id beyond the queue */
		raw_packed_avail_add(&f->r, &d, 1);
		assert_err(pop(f), -VIO_EDESC_ID);
		assert_err(vio_devq_fail(f->q, -VIO_EREQUEST), -VIO_EDESC_ID);
	}
}

/* ---- 9. First notification decision with EVENT_IDX ------------------------ */

/* Ask for an event at used position @pos (split: used_event; packed: DESC
 * mode at slot @pos with wrap @wrap). */
static void want_event_at(struct fx *f, uint16_t pos, bool wrap)
{
	if (is_split(f))
		raw_split_used_event_set(&f->r, pos);
	else
		raw_packed_event_set(
			f->r.driver,
			(uint16_t)(pos | (wrap ? 1u << VIO_RING_EVENT_WRAP_SHIFT : 0u)),
			VIO_RING_EVENT_FLAGS_DESC);
}

/* Push one single-descriptor chain and decide. */
static bool push_one_and_decide(struct fx *f)
{
	struct raw_desc d = D(A(f, 0), 8, F_WRITE);
	avail(f, &d, 1);
	assert_err(pop(f), 0);
	assert_err(vio_devq_push(f->q, &f->chain, 8), 0);
	return vio_devq_needs_notify(f->q);
}

static void test_notify_first_decision_exact(void **state)
{
	struct fx *f = *state;
	for (int when = 0; when < 3; when++) {
		for (int reached = 0; reached < 2; reached++) {
			start_opts(f, true, false, false);
			uint16_t base = 0;
			bool wrap = true;
			if (when == 1) {
				/* Some traffic, then a reset. */
				want_event_at(f, 0, true);
				assert_true(push_one_and_decide(f));
				vio_devq_reset(f->q);
				raw_ring_clear(&f->r);
				f->cursor = 0;
				f->next_id = 0;
			} else if (when == 2) {
				/* Restore a position (nothing in flight). */
				struct vio_ring_state st = {5, 5, false, false, 0};
				if (is_split(f)) {
					st.avail_idx = st.used_idx = 1000;
					raw_split_used_publish(&f->r, 1000);
					raw_split_avail_publish(&f->r, 1000);
				} else {
					f->r.avail_idx = 5;
					f->r.avail_wrap = false;
				}
				assert_err(vio_devq_set_state(f->q, &st), 0);
				base = st.used_idx;
				wrap = false;
			}
			/* The first push moves the used position by one: an event
			 * at base is reached, one at base + 3 is not. */
			uint16_t ev = reached ? base : (uint16_t)(base + 1u);
			if (!is_split(f))
				ev = (uint16_t)(ev % QSIZE);
			want_event_at(f, ev, wrap);
			bool got = push_one_and_decide(f);
			if (got != (bool)reached)
				fail_msg("%s, event at %u: needs_notify = %d",
					 when == 0   ? "after init"
					 : when == 1 ? "after reset"
						     : "after set_state",
					 ev, got);
			/* Nothing pushed since: no notification. */
			assert_false(vio_devq_needs_notify(f->q));
		}
	}
}

/* ---- 10. Restore with chains in flight --------------------------------------- */

struct restore {
	struct loop l;
	int tok[3];
	struct vio_chain c[3];
	struct vio_chain_seg s[3][4];
	struct vio_packed_desc saved[3][4]; /* packed: descriptors as popped */
	uint16_t nsaved[3];
};

/* A loop; the driver adds 3 buffers (16 out, 32 in), the device pops all
 * 3 and pushes the 2nd with 7 bytes; the device queue is then replaced and
 * the state restored on it. */
static void restore_prepare(struct restore *x, enum vio_ring_format fmt, bool indirect)
{
	memset(x, 0, sizeof(*x));
	struct loop_cfg lc = {fmt, QSIZE, 0,	 loop_features(fmt, false, indirect),
			      0,   QSIZE, false, 4096};
	assert_err(loop_init(&x->l, &lc), 0);
	for (unsigned k = 0; k < 3; k++) {
		struct vio_sg sg[2] = {{x->l.data + 256 * k, 16}, {x->l.data + 256 * k + 64, 32}};
		assert_err(vio_vq_add(x->l.vq, sg, 1, 1, &x->tok[k]), 0);
	}
	for (unsigned k = 0; k < 3; k++) {
		assert_err(vio_devq_pop(x->l.dq, &x->c[k], x->s[k], 4), 0);
		if (fmt == VIO_RING_PACKED) {
			const struct vio_packed_desc *ring = x->l.desc;
			x->nsaved[k] = x->c[k].ndesc;
			for (unsigned i = 0; i < x->c[k].ndesc; i++)
				x->saved[k][i] = ring[(x->c[k].head + i) % QSIZE];
		}
	}
	assert_err(vio_devq_push(x->l.dq, &x->c[1], 7), 0);
}

static void restore_state(struct restore *x, struct vio_ring_state *st)
{
	vio_devq_get_state(x->l.dq, st);
	assert_int_equal(st->inflight, 2);
	for (unsigned k = 0; k < 3; k += 2)
		assert_err(vio_devq_drop(x->l.dq, &x->c[k]), 0);
	assert_err(loop_devq_reinit(&x->l), 0);
	assert_err(vio_devq_set_state(x->l.dq, st), 0);
}

static int repop(struct restore *x, unsigned k, struct vio_chain *c, struct vio_chain_seg *s)
{
	if (x->l.cfg.format == VIO_RING_SPLIT)
		return vio_devq_repop(x->l.dq, x->c[k].head, c, s, 4);
	return vio_devq_repop_packed(x->l.dq, x->saved[k], x->nsaved[k], c, s, 4);
}

static void test_restore_inflight_driver_gets_all(void **state)
{
	enum vio_ring_format fmt = ((struct fx *)*state)->fmt;
	for (int indirect = 0; indirect < 2; indirect++) {
		struct restore x;
		restore_prepare(&x, fmt, indirect);
		struct vio_ring_state st;
		restore_state(&x, &st);
		struct vio_chain c[2];
		struct vio_chain_seg s[2][4];
		for (unsigned j = 0; j < 2; j++) {
			unsigned k = j * 2;
			assert_err(repop(&x, k, &c[j], s[j]), 0);
			assert_int_equal(c[j].id, x.c[k].id);
			assert_int_equal(c[j].nseg, 2);
			assert_ptr_equal(s[j][0].ptr, x.l.data + 256 * k);
			assert_ptr_equal(s[j][1].ptr, x.l.data + 256 * k + 64);
			assert_int_equal(c[j].in_bytes, 32);
		}
		/* More than were in flight. */
		struct vio_chain extra;
		struct vio_chain_seg es[4];
		assert_err(repop(&x, 0, &extra, es), -VIO_EINVAL);
		assert_false(vio_devq_is_broken(x.l.dq));
		struct vio_ring_state now;
		vio_devq_get_state(x.l.dq, &now);
		assert_int_equal(now.inflight, 2);
		assert_err(vio_devq_push(x.l.dq, &c[1], 13), 0);
		assert_err(vio_devq_push(x.l.dq, &c[0], 11), 0);
		uint32_t want[3] = {11, 7, 13};
		unsigned got = 0;
		void *tok;
		uint32_t len;
		int rc;
		while ((rc = vio_vq_get(x.l.vq, &tok, &len)) == 0) {
			unsigned k = (unsigned)((int *)tok - x.tok);
			assert_true(k < 3);
			assert_int_equal(len, want[k]);
			want[k] = UINT32_MAX;
			got++;
		}
		assert_err(rc, -VIO_EAGAIN);
		assert_int_equal(got, 3);
		assert_false(vio_vq_is_broken(x.l.vq));
		/* The queue goes on: a new buffer round-trips. */
		struct vio_sg sg = {x.l.data + 2048, 8};
		assert_err(vio_vq_add(x.l.vq, &sg, 0, 1, &x.tok[0]), 0);
		assert_err(vio_devq_pop(x.l.dq, &extra, es, 4), 0);
		assert_err(vio_devq_push(x.l.dq, &extra, 8), 0);
		assert_err(vio_vq_get(x.l.vq, &tok, &len), 0);
		assert_int_equal(len, 8);
		loop_fini(&x.l);
	}
}

static void test_restore_repop_misuse(void **state)
{
	enum vio_ring_format fmt = ((struct fx *)*state)->fmt;
	bool split = fmt == VIO_RING_SPLIT;
	struct restore x;
	restore_prepare(&x, fmt, true);
	struct vio_chain c;
	struct vio_chain_seg s[4];
	/* Without set_state (on the live queue, and on a fresh one). */
	assert_err(repop(&x, 0, &c, s), -VIO_EINVAL);
	struct vio_ring_state st;
	vio_devq_get_state(x.l.dq, &st);
	for (unsigned k = 0; k < 3; k += 2)
		assert_err(vio_devq_drop(x.l.dq, &x.c[k]), 0);
	assert_err(loop_devq_reinit(&x.l), 0);
	assert_err(repop(&x, 0, &c, s), -VIO_EINVAL);
	/* Wrong format. */
	if (split)
		assert_err(vio_devq_repop_packed(x.l.dq, x.saved[0], 1, &c, s, 4), -VIO_EINVAL);
	else
		assert_err(vio_devq_repop(x.l.dq, 0, &c, s, 4), -VIO_EINVAL);
	if (!split) {
		/* Packed: more in flight than the queue holds is refused, and
		 * leaves nothing to repop. */
		struct vio_ring_state bad = st;
		bad.inflight = QSIZE + 1;
		assert_err(vio_devq_set_state(x.l.dq, &bad), -VIO_EINVAL);
		assert_err(repop(&x, 0, &c, s), -VIO_EINVAL);
	}
	assert_err(vio_devq_set_state(x.l.dq, &st), 0);
	if (split) {
		assert_err(vio_devq_repop(x.l.dq, QSIZE, &c, s, 4), -VIO_EINVAL);
		assert_err(vio_devq_repop(x.l.dq, x.c[0].head, &c, s, 0), -VIO_EINVAL);
	} else {
		/* A copy whose NEXT flags do not end at ndesc: cut one short
		 * (the last given still has NEXT), or one too long (the list
		 * ends before ndesc). */
		uint16_t n = x.nsaved[0];
		assert_int_equal(n, 2);
		struct vio_packed_desc more[3] = {x.saved[0][0], x.saved[0][1], x.saved[0][1]};
		assert_err(vio_devq_repop_packed(x.l.dq, more, 1, &c, s, 4), -VIO_EINVAL);
		assert_err(vio_devq_repop_packed(x.l.dq, more, 3, &c, s, 4), -VIO_EINVAL);
		assert_err(vio_devq_repop_packed(x.l.dq, x.saved[0], 0, &c, s, 4), -VIO_EINVAL);
		assert_err(vio_devq_repop_packed(x.l.dq, x.saved[0], n, &c, s, 0), -VIO_EINVAL);
		assert_err(vio_devq_repop_packed(x.l.dq, NULL, 1, &c, s, 4), -VIO_EINVAL);
		assert_err(vio_devq_repop_packed(x.l.dq, x.saved[0], QSIZE + 1, &c, s, 4),
			   -VIO_EINVAL);
	}
	assert_false(vio_devq_is_broken(x.l.dq));
	/* One good repop; the same head again is refused. */
	assert_err(repop(&x, 0, &c, s), 0);
	struct vio_chain c2;
	struct vio_chain_seg s2[4];
	/* Both formats: a chain re-submitted twice is the embedder's mistake. */
	assert_err(repop(&x, 0, &c2, s2), -VIO_EINVAL);
	assert_false(vio_devq_is_broken(x.l.dq));
	/* A broken queue takes back nothing, not even a chain still owed. */
	assert_err(vio_devq_fail(x.l.dq, -VIO_EREQUEST), -VIO_EREQUEST);
	assert_err(repop(&x, 2, &c2, s2), -VIO_EBROKEN);
	loop_fini(&x.l);
}

static void test_restore_repop_packed_hostile_copy(void **state)
{
	struct fx *f = *state;
	if (is_split(f))
		skip();
	for (int kind = 0; kind < 3; kind++) {
		struct restore x;
		restore_prepare(&x, VIO_RING_PACKED, true);
		struct vio_ring_state st;
		restore_state(&x, &st);
		struct vio_packed_desc d[1];
		int want;
		if (kind == 0) {
			raw_packed_put(d, 0, x.l.data_addr, 16, QSIZE, 0); /* id beyond the queue */
			want = -VIO_EDESC_ID;
		} else {
			/* An indirect table (in the data arena) holding an
			 * INDIRECT entry, or running outside granted memory. */
			unsigned char *tbl = x.l.data + 3072;
			raw_packed_put(tbl, 0, x.l.data_addr + 3072, 16, 0, F_INDIRECT);
			uint64_t taddr = kind == 1 ? x.l.data_addr + 3072 : 0x7000000000ull;
			raw_packed_put(d, 0, taddr, 16, x.c[0].id, F_INDIRECT);
			want = kind == 1 ? -VIO_EINDIRECT_NESTED : -VIO_EINDIRECT_MAP;
		}
		struct vio_chain c;
		struct vio_chain_seg s[4];
		assert_err(vio_devq_repop_packed(x.l.dq, d, 1, &c, s, 4), want);
		assert_true(vio_devq_is_broken(x.l.dq));
		assert_err(vio_devq_broken_reason(x.l.dq), want);
		loop_fini(&x.l);
	}
}

static void test_restore_split_used_idx_too_far(void **state)
{
	struct fx *f = *state;
	if (!is_split(f))
		skip();
	struct restore x;
	restore_prepare(&x, VIO_RING_SPLIT, false);
	struct vio_ring_state st;
	vio_devq_get_state(x.l.dq, &st);
	for (unsigned k = 0; k < 3; k += 2)
		assert_err(vio_devq_drop(x.l.dq, &x.c[k]), 0);
	assert_err(loop_devq_reinit(&x.l), 0);
	struct vio_split_used *u = x.l.device_area;
	uint16_t good = vio_le16_get(u->idx);
	/* More than the queue size behind avail_idx, or ahead of it. */
	static const int16_t delta[] = {-(QSIZE + 1), -1000, 1, 200};
	for (unsigned i = 0; i < sizeof(delta) / sizeof(delta[0]); i++) {
		u->idx = vio_le16_make((uint16_t)(st.avail_idx + delta[i]));
		assert_err(vio_devq_set_state(x.l.dq, &st), -VIO_EINVAL);
	}
	/* Exactly the queue size behind is fine (all in flight). */
	u->idx = vio_le16_make((uint16_t)(st.avail_idx - QSIZE));
	assert_err(vio_devq_set_state(x.l.dq, &st), 0);
	struct vio_ring_state now;
	vio_devq_get_state(x.l.dq, &now);
	assert_int_equal(now.inflight, QSIZE);
	u->idx = vio_le16_make(good);
	assert_err(vio_devq_set_state(x.l.dq, &st), 0);
	vio_devq_get_state(x.l.dq, &now);
	assert_int_equal(now.inflight, 2);
	assert_int_equal(now.used_idx, good);
	loop_fini(&x.l);
}

/* ---- 11. Copy helpers ------------------------------------------------------- */

/* A chain by hand: readable segments of 0, 1, 5, 0, 3 bytes; writable of
 * 2, 0, 7, 1. */
struct handmade {
	unsigned char mem[64];
	struct vio_chain_seg s[9];
	struct vio_chain c;
};

static void handmade_init(struct handmade *h)
{
	static const uint32_t len[9] = {0, 1, 5, 0, 3, 2, 0, 7, 1};
	unsigned at = 0;
	memset(h, 0, sizeof(*h));
	for (unsigned i = 0; i < 64; i++)
		h->mem[i] = (unsigned char)(i + 1);
	for (unsigned i = 0; i < 9; i++) {
		h->s[i].ptr = len[i] ? h->mem + at : NULL;
		h->s[i].addr = 0x1000 + at;
		h->s[i].len = len[i];
		h->s[i].write = i >= 5;
		at += len[i] + 2; /* a gap between segments in host memory */
		if (i < 5)
			h->c.out_bytes += len[i];
		else
			h->c.in_bytes += len[i];
	}
	h->c.nseg = 9;
	h->c.nout = 5;
	h->c.segs = h->s;
}

/* The flat bytes of one part. */
static size_t flat(const struct handmade *h, bool write, unsigned char *out)
{
	size_t n = 0;
	for (unsigned i = write ? 5 : 0; i < (write ? 9u : 5u); i++) {
		if (h->s[i].len)
			memcpy(out + n, h->s[i].ptr, h->s[i].len);
		n += h->s[i].len;
	}
	return n;
}

static void test_chain_copy_helpers(void **state)
{
	(void)state;
	struct handmade h;
	handmade_init(&h);
	unsigned char ref[32], buf[32];
	size_t total = flat(&h, false, ref);
	assert_int_equal(total, 9);
	for (size_t off = 0; off <= total + 2; off++) {
		for (size_t len = 0; len <= total + 2; len++) {
			memset(buf, 0, sizeof(buf));
			size_t want = off >= total ? 0 : (len < total - off ? len : total - off);
			assert_int_equal(vio_chain_read(&h.c, off, buf, len), want);
			assert_memory_equal(buf, ref + (off < total ? off : 0), want);
			/* The same through a cursor: skip, then read in pieces. */
			struct vio_chain_cursor cur;
			vio_chain_cursor_init(&cur, &h.c, false);
			assert_int_equal(vio_chain_cursor_left(&cur), total);
			size_t sk = vio_chain_cursor_skip(&cur, off);
			assert_int_equal(sk, off < total ? off : total);
			assert_int_equal(vio_chain_cursor_left(&cur), total - sk);
			size_t got = 0;
			while (got < len) {
				size_t n = vio_chain_cursor_read(&cur, buf + got,
								 len - got < 2 ? len - got : 2);
				if (n == 0)
					break;
				got += n;
			}
			assert_int_equal(got, want);
			assert_int_equal(cur.pos, sk + got);
			assert_int_equal(vio_chain_cursor_left(&cur), total - sk - got);
			assert_memory_equal(buf, ref + sk, got);
		}
	}
	/* Writes land in the writable part only, at the right bytes. */
	size_t wtotal = h.c.in_bytes;
	assert_int_equal(wtotal, 10);
	for (size_t off = 0; off <= wtotal + 1; off++) {
		for (size_t len = 0; len <= wtotal + 1; len++) {
			handmade_init(&h);
			unsigned char before_r[32], before_w[32], after[32], src[32];
			flat(&h, false, before_r);
			flat(&h, true, before_w);
			unsigned char mem0[64];
			memcpy(mem0, h.mem, sizeof(mem0));
			for (unsigned i = 0; i < 32; i++)
				src[i] = (unsigned char)(0xc0 + i);
			size_t want = off >= wtotal ? 0 : (len < wtotal - off ? len : wtotal - off);
			assert_int_equal(vio_chain_write(&h.c, off, src, len), want);
			flat(&h, false, after);
			assert_memory_equal(after, before_r, total);
			flat(&h, true, after);
			for (size_t i = 0; i < wtotal; i++) {
				unsigned char exp =
					i >= off && i - off < want ? src[i - off] : before_w[i];
				assert_int_equal(after[i], exp);
			}
			/* Nothing outside the segments (the gaps) changed. */
			size_t changed = 0;
			for (unsigned i = 0; i < 64; i++)
				changed += h.mem[i] != mem0[i];
			assert_true(changed <= want);
		}
	}
	/* A write cursor over the writable part; reads through it find the
	 * readable part untouched. */
	handmade_init(&h);
	struct vio_chain_cursor wc;
	vio_chain_cursor_init(&wc, &h.c, true);
	assert_int_equal(vio_chain_cursor_left(&wc), 10);
	assert_int_equal(vio_chain_cursor_write(&wc, "ab", 2), 2);
	assert_int_equal(vio_chain_cursor_skip(&wc, 3), 3);
	assert_int_equal(vio_chain_cursor_left(&wc), 5);
	assert_int_equal(vio_chain_cursor_write(&wc, "cdefghij", 8), 5);
	assert_int_equal(vio_chain_cursor_left(&wc), 0);
	assert_int_equal(vio_chain_cursor_write(&wc, "x", 1), 0);
	assert_int_equal(vio_chain_cursor_skip(&wc, 1), 0);
	unsigned char w[10];
	flat(&h, true, w);
	assert_memory_equal(w, "ab", 2);
	assert_memory_equal(w + 5, "cdefg", 5);
	/* No writable part, no readable part. */
	struct vio_chain_seg one = {h.mem, 0x1000, 4, false, false};
	struct vio_chain ro;
	memset(&ro, 0, sizeof(ro));
	ro.nseg = 1;
	ro.nout = 1;
	ro.out_bytes = 4;
	ro.segs = &one;
	assert_int_equal(vio_chain_write(&ro, 0, "zz", 2), 0);
	one.write = true;
	ro.nout = 0;
	ro.out_bytes = 0;
	ro.in_bytes = 4;
	assert_int_equal(vio_chain_read(&ro, 0, buf, 2), 0);
	struct vio_chain empty;
	memset(&empty, 0, sizeof(empty));
	empty.segs = &one;
	assert_int_equal(vio_chain_read(&empty, 0, buf, 2), 0);
	assert_int_equal(vio_chain_write(&empty, 0, "zz", 2), 0);
}

/* The helpers on a popped chain whose header is cut across descriptors
 * and regions (§2.6.4: no framing may be assumed). */
static void test_chain_helpers_on_popped_chain(void **state)
{
	struct fx *f = *state;
	start(f);
	for (unsigned i = 0; i < 16; i++)
		f->data[100 + 7 * i] = (unsigned char)i; /* scattered 1-byte pieces */
	struct raw_desc d[6];
	for (unsigned i = 0; i < 4; i++)
		d[i] = D(A(f, 100 + 7 * i), 1, 0);
	d[4] = D(A(f, 100 + 28), 0, 0);
	d[5] = D(A(f, 2000), 9, F_WRITE);
	avail(f, d, 6);
	assert_err(pop(f), 0);
	unsigned char hdr[8];
	assert_int_equal(vio_chain_read(&f->chain, 0, hdr, 8), 4);
	assert_memory_equal(hdr, "\x00\x01\x02\x03", 4);
	assert_int_equal(vio_chain_read(&f->chain, 3, hdr, 1), 1);
	assert_int_equal(hdr[0], 3);
	assert_int_equal(vio_chain_write(&f->chain, 8, "S", 1), 1);
	assert_int_equal(f->data[2008], 'S');
	assert_err(vio_devq_push(f->q, &f->chain, 9), 0);
}

/* ---- 12. Split: a head already in flight ------------------------------------ */

static void test_split_head_inflight_refused(void **state)
{
	struct fx *f = *state;
	if (!is_split(f))
		skip();
	/* Single descriptor (table fast path and callback path), and a chain. */
	for (int shape = 0; shape < 3; shape++) {
		start_opts(f, false, false, shape == 1);
		struct raw_desc d[2] = {D(A(f, 0), 8, 0), D(A(f, 64), 8, F_WRITE)};
		uint16_t head = avail(f, d, shape == 2 ? 2 : 1);
		assert_err(pop(f), 0);
		unsigned live = f->mp.live;
		raw_split_avail_add(&f->r, head); /* the driver makes it available again */
		assert_err(pop(f), -VIO_EDESC_INFLIGHT);
		assert_true(vio_devq_is_broken(f->q));
		assert_err(vio_devq_broken_reason(f->q), -VIO_EDESC_INFLIGHT);
		assert_int_equal(f->mp.live, live); /* the second walk's mappings released */
		assert_err(pop(f), -VIO_EBROKEN);
		vio_devq_reset(f->q);
		assert_false(vio_devq_is_broken(f->q));
	}
}

static void test_packed_id_inflight_refused(void **state)
{
	struct fx *f = *state;
	if (is_split(f))
		skip();
	for (int shape = 0; shape < 3; shape++) {
		start_opts(f, false, false, shape == 1);
		struct raw_desc d[2] = {D(A(f, 0), 8, 0), D(A(f, 64), 8, F_WRITE)};
		avail(f, d, shape == 2 ? 2 : 1);
		assert_err(pop(f), 0);
		unsigned live = f->mp.live;
		f->next_id = 0; /* the same id again */
		avail(f, d, shape == 2 ? 2 : 1);
		assert_err(pop(f), -VIO_EDESC_INFLIGHT);
		assert_true(vio_devq_is_broken(f->q));
		assert_int_equal(f->mp.live, live);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_long_chain_refused_without_take_long),
		BOTH(test_long_chain_taken_truncated),
		BOTH(test_long_chain_status_reaches_driver),
		BOTH(test_push_misuse_refused),
		BOTH(test_push_stale_chain_refused),
		BOTH(test_fail_latches_reason),
		BOTH(test_notify_first_decision_exact),
		BOTH(test_restore_inflight_driver_gets_all),
		BOTH(test_restore_repop_misuse),
		BOTH(test_restore_repop_packed_hostile_copy),
		BOTH(test_restore_split_used_idx_too_far),
		BOTH(test_chain_copy_helpers),
		BOTH(test_chain_helpers_on_popped_chain),
		BOTH(test_split_head_inflight_refused),
		BOTH(test_packed_id_inflight_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
