/* SPDX-License-Identifier: MIT */
/* Queue reset on both halves and ring state save/restore.
 *
 * - vio_devq_reset with buffers outstanding: the reset state; the driver's
 *   vio_vq_detach_unused returns every outstanding token exactly once;
 *   vio_vq_reset zeroes the rings; traffic works again afterwards, with the
 *   device reset or re-initialised.
 * - Broken queues (both halves) recover through reset.
 * - vio_devq_get_state / vio_devq_set_state mid-traffic: save, re-init a new
 *   device queue on the same rings, restore, continue; directly and through
 *   the vhost-user VRING_BASE encoding (packed: every wrap counter pair).
 * - set_state rejects packed slots >= size and then changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"

#define NTOK 64

enum tstate {
	T_FREE,
	T_AVAIL,
	T_HELD,
	T_USED
};

/* Traffic over one loop: tokens, the device's held chains, and the device
 * position the test expects (split: counts; packed: slot and wrap). */
struct tr {
	struct loop l;
	struct loop_rng rng;
	enum tstate st[NTOK];
	unsigned nseg[NTOK];
	uint32_t written[NTOK];
	struct vio_chain chain[NTOK];
	struct vio_chain_seg segs[NTOK][4];    /* each held chain's segments */
	struct vio_packed_desc saved[NTOK][4]; /* packed: its descriptors as popped */
	unsigned order[NTOK];		       /* avail FIFO of token indices */
	unsigned oh, on;
	unsigned held[NTOK], nheld;
	unsigned used[NTOK], uh, un; /* push FIFO */
	uint16_t exp_avail, exp_used;
	bool exp_avail_wrap, exp_used_wrap;
	unsigned long completed;
};

static struct tr *g_tr;

static int teardown(void **state)
{
	(void)state;
	if (g_tr != NULL) {
		loop_fini(&g_tr->l);
		free(g_tr);
		g_tr = NULL;
	}
	return 0;
}

static struct tr *tr_new(enum vio_ring_format fmt, uint16_t size, bool ei, bool ind)
{
	struct tr *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	assert_true(size <= NTOK);
	g_tr = t;
	struct loop_cfg c = {0};
	c.format = fmt;
	c.size = size;
	c.features = loop_features(fmt, ei, ind);
	c.indirect_max = size < 4 ? size : 4;
	c.data_bytes = 8192;
	assert_int_equal(loop_init(&t->l, &c), 0);
	loop_rng_seed(&t->rng, 0x7e5e7u + size);
	t->exp_avail_wrap = t->exp_used_wrap = fmt == VIO_RING_PACKED;
	return t;
}

static bool tr_packed(const struct tr *t)
{
	return t->l.cfg.format == VIO_RING_PACKED;
}

static void tr_advance(const struct tr *t, uint16_t *pos, bool *wrap, unsigned n)
{
	if (!tr_packed(t)) {
		*pos = (uint16_t)(*pos + 1u);
		return;
	}
	unsigned s = *pos + n;
	if (s >= t->l.cfg.size) {
		s -= t->l.cfg.size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)s;
}

/* Add token k with n segments (first readable, rest writable); false if the
 * ring is full. */
static bool tr_add(struct tr *t, unsigned k, unsigned n)
{
	struct vio_sg sg[4];
	for (unsigned i = 0; i < n; i++) {
		sg[i].addr = t->l.data + 128 * k + 32 * i;
		sg[i].len = 16;
	}
	int rc = vio_vq_add(t->l.vq, sg, 1, n - 1, &t->st[k]);
	if (rc == -VIO_ENOSPC)
		return false;
	assert_int_equal(rc, 0);
	t->st[k] = T_AVAIL;
	t->nseg[k] = n;
	t->order[(t->oh + t->on++) % NTOK] = k;
	return true;
}

static unsigned tok_index(const struct tr *t, void *tok)
{
	assert_true((enum tstate *)tok >= t->st && (enum tstate *)tok < t->st + NTOK);
	return (unsigned)((enum tstate *)tok - t->st);
}

static void tr_pop(struct tr *t)
{
	struct vio_chain c;
	assert_true(t->on > 0);
	unsigned k = t->order[t->oh];
	struct vio_chain_seg *segs = t->segs[k];
	assert_int_equal(vio_devq_pop(t->l.dq, &c, segs, 4), 0);
	assert_int_equal(c.nseg, t->nseg[k]);
	/* Identify the token by its first (readable) segment. */
	assert_ptr_equal(segs[0].ptr, t->l.data + 128 * k);
	if (t->l.cfg.format == VIO_RING_PACKED) {
		/* What a back end keeps to hand a chain in flight over (the
		 * ring slots are overwritten by used descriptors later). */
		const struct vio_packed_desc *ring = t->l.desc;
		for (unsigned i = 0; i < c.ndesc; i++)
			t->saved[k][i] = ring[(c.head + i) % t->l.cfg.size];
	}
	t->oh = (t->oh + 1) % NTOK;
	t->on--;
	t->st[k] = T_HELD;
	t->chain[k] = c;
	t->held[t->nheld++] = k;
	tr_advance(t, &t->exp_avail, &t->exp_avail_wrap, c.ndesc);
}

static void tr_push(struct tr *t)
{
	assert_true(t->nheld > 0);
	unsigned j = loop_rng_below(&t->rng, t->nheld);
	unsigned k = t->held[j];
	t->held[j] = t->held[--t->nheld];
	t->written[k] = loop_rng_below(&t->rng, 16u * (t->nseg[k] - 1) + 1);
	assert_int_equal(vio_devq_push(t->l.dq, &t->chain[k], t->written[k]), 0);
	t->st[k] = T_USED;
	t->used[(t->uh + t->un++) % NTOK] = k;
	tr_advance(t, &t->exp_used, &t->exp_used_wrap, t->chain[k].ndesc);
}

static void tr_get(struct tr *t)
{
	void *tok;
	uint32_t len;
	assert_true(t->un > 0);
	unsigned want = t->used[t->uh];
	assert_int_equal(vio_vq_get(t->l.vq, &tok, &len), 0);
	unsigned k = tok_index(t, tok);
	assert_int_equal(k, want);
	assert_int_equal(len, t->written[k]);
	assert_int_equal(t->st[k], T_USED);
	t->uh = (t->uh + 1) % NTOK;
	t->un--;
	t->st[k] = T_FREE;
	t->completed++;
}

/* One random step of traffic. */
static void tr_step(struct tr *t)
{
	unsigned x = loop_rng_below(&t->rng, 4);
	if (x == 0) {
		unsigned k = loop_rng_below(&t->rng, t->l.cfg.size);
		if (t->st[k] == T_FREE) {
			unsigned n = loop_rng_range(&t->rng, 1, 3);
			(void)tr_add(t, k, n);
		}
	} else if (x == 1 && t->on > 0) {
		tr_pop(t);
	} else if (x == 2 && t->nheld > 0) {
		tr_push(t);
	} else if (x == 3 && t->un > 0) {
		tr_get(t);
	}
}

/* Complete everything outstanding. */
static void tr_drain(struct tr *t)
{
	while (t->on > 0)
		tr_pop(t);
	while (t->nheld > 0)
		tr_push(t);
	while (t->un > 0)
		tr_get(t);
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(t->l.vq, &tok, &len), -VIO_EAGAIN);
	assert_int_equal(vio_vq_num_free(t->l.vq), t->l.cfg.size);
	for (unsigned k = 0; k < t->l.cfg.size; k++)
		assert_int_equal(t->st[k], T_FREE);
}

/* Fill the ring with tokens in random states, as a reset would find it. */
static void tr_make_outstanding(struct tr *t)
{
	for (int i = 0; i < 300; i++)
		tr_step(t);
	for (unsigned k = 0; k < t->l.cfg.size; k++)
		if (t->st[k] == T_FREE && !tr_add(t, k, 1 + k % 3))
			break;
	while (t->on > t->l.cfg.size / 3)
		tr_pop(t);
	while (t->nheld > 1)
		tr_push(t);
	while (t->un > 1)
		tr_get(t);
}

static void check_state_eq(const struct vio_ring_state *a, const struct vio_ring_state *b)
{
	assert_int_equal(a->avail_idx, b->avail_idx);
	assert_int_equal(a->used_idx, b->used_idx);
	assert_int_equal(a->avail_wrap, b->avail_wrap);
	assert_int_equal(a->used_wrap, b->used_wrap);
}

static void check_expected_state(const struct tr *t)
{
	struct vio_ring_state st,
		want = {t->exp_avail, t->exp_used, t->exp_avail_wrap, t->exp_used_wrap, 0};
	vio_devq_get_state(t->l.dq, &st);
	check_state_eq(&st, &want);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void check_rings_zero(const struct tr *t)
{
	uint16_t n = t->l.cfg.size;
	bool split = !tr_packed(t);
	assert_true(all_zero(t->l.desc, split ? vio_split_desc_size(n) : vio_packed_desc_size(n)));
	assert_true(all_zero(t->l.driver_area,
			     split ? vio_split_avail_size(n) : vio_packed_event_size()));
	assert_true(all_zero(t->l.device_area,
			     split ? vio_split_used_size(n) : vio_packed_event_size()));
}

/* Both halves reset with buffers outstanding, then traffic again. */
static void reset_both(enum vio_ring_format fmt, uint16_t size, bool ind, bool reinit)
{
	struct tr *t = tr_new(fmt, size, true, ind);
	for (int round = 0; round < 4; round++) {
		tr_make_outstanding(t);
		unsigned outstanding = 0;
		for (unsigned k = 0; k < size; k++)
			outstanding += t->st[k] != T_FREE;
		assert_true(outstanding > 0);

		/* Device side first: it stops touching the ring. */
		struct vio_ring_state st,
			zero = {0, 0, fmt == VIO_RING_PACKED, fmt == VIO_RING_PACKED, 0};
		if (reinit) {
			assert_int_equal(loop_devq_reinit(&t->l), 0);
		} else {
			vio_devq_reset(t->l.dq);
		}
		vio_devq_get_state(t->l.dq, &st);
		check_state_eq(&st, &zero);
		assert_false(vio_devq_is_broken(t->l.dq));

		/* Driver: every outstanding token back exactly once. */
		unsigned seen[NTOK] = {0}, n = 0;
		void *tok;
		int rc;
		while ((rc = vio_vq_detach_unused(t->l.vq, &tok)) == 0) {
			unsigned k = tok_index(t, tok);
			assert_int_not_equal(t->st[k], T_FREE);
			assert_int_equal(seen[k], 0);
			seen[k]++;
			n++;
			assert_true(n <= outstanding);
		}
		assert_int_equal(rc, -VIO_EAGAIN);
		assert_int_equal(n, outstanding);
		assert_int_equal(vio_vq_detach_unused(t->l.vq, &tok), -VIO_EAGAIN);
		assert_int_equal(vio_vq_num_free(t->l.vq), size);

		vio_vq_reset(t->l.vq);
		check_rings_zero(t);
		assert_int_equal(vio_vq_num_free(t->l.vq), size);
		assert_false(vio_vq_has_used(t->l.vq));
		assert_false(vio_vq_is_broken(t->l.vq));
		assert_false(vio_devq_has_avail(t->l.dq));
		uint32_t len;
		assert_int_equal(vio_vq_get(t->l.vq, &tok, &len), -VIO_EAGAIN);
		assert_int_equal(vio_vq_notify_data(t->l.vq),
				 vio_notify_data_make(0, 0, fmt == VIO_RING_PACKED));

		/* Fresh state on both sides. */
		memset(t->st, 0, sizeof(t->st));
		t->oh = t->on = t->nheld = t->uh = t->un = 0;
		t->exp_avail = t->exp_used = 0;
		t->exp_avail_wrap = t->exp_used_wrap = fmt == VIO_RING_PACKED;

		/* Traffic works again, from the start of the ring. */
		assert_true(vio_devq_enable_notify(t->l.dq));
		assert_true(tr_add(t, 0, 2));
		assert_true(vio_vq_kick_prepare(t->l.vq));
		tr_pop(t);
		assert_int_equal(t->chain[0].ndesc, ind ? 1 : 2);
		tr_push(t);
		assert_true(vio_devq_needs_notify(t->l.dq));
		tr_get(t);
		unsigned long before = t->completed;
		for (int i = 0; i < 40 * size; i++)
			tr_step(t);
		tr_drain(t);
		check_expected_state(t);
		assert_true(t->completed - before >= 3u * size);
	}
	teardown(NULL);
}

static void test_reset_outstanding_split(void **state)
{
	(void)state;
	reset_both(VIO_RING_SPLIT, 8, false, false);
	reset_both(VIO_RING_SPLIT, 8, true, false);
	reset_both(VIO_RING_SPLIT, 16, false, true);
	reset_both(VIO_RING_SPLIT, 16, true, true);
}

static void test_reset_outstanding_packed(void **state)
{
	(void)state;
	reset_both(VIO_RING_PACKED, 8, false, false);
	reset_both(VIO_RING_PACKED, 7, true, false);
	reset_both(VIO_RING_PACKED, 10, false, true);
	reset_both(VIO_RING_PACKED, 16, true, true);
}

/* A queue broken by its peer returns EBROKEN until reset, and works after. */
static void broken_recovers(enum vio_ring_format fmt)
{
	struct tr *t = tr_new(fmt, 8, false, false);
	bool packed = fmt == VIO_RING_PACKED;
	for (int i = 0; i < 50; i++)
		tr_step(t);
	tr_drain(t);

	/* Device broken by a hostile driver. */
	if (packed) {
		/* An available descriptor naming buffer id 99 (>= size). */
		struct vio_packed_desc *d = (struct vio_packed_desc *)t->l.desc + t->exp_avail;
		d->addr = vio_le64_make(t->l.data_addr);
		d->len = vio_le32_make(8);
		d->id = vio_le16_make(99);
		d->flags = vio_le16_make(t->exp_avail_wrap ? VIO_DESC_F_AVAIL : VIO_DESC_F_USED);
	} else {
		/* avail->idx jumps by more than the queue size. */
		struct vio_split_avail *a = t->l.driver_area;
		a->idx = vio_le16_make((uint16_t)(vio_le16_get(a->idx) + 9u));
	}
	struct vio_chain c;
	struct vio_chain_seg segs[4];
	int rc = vio_devq_pop(t->l.dq, &c, segs, 4);
	assert_true(vio_err_is_peer(rc));
	assert_true(vio_devq_is_broken(t->l.dq));
	assert_int_equal(vio_devq_broken_reason(t->l.dq), rc);
	assert_int_equal(vio_devq_pop(t->l.dq, &c, segs, 4), -VIO_EBROKEN);
	vio_devq_reset(t->l.dq);
	assert_false(vio_devq_is_broken(t->l.dq));
	assert_int_equal(vio_devq_broken_reason(t->l.dq), 0);

	/* Driver broken by a hostile device, with buffers outstanding. */
	vio_vq_reset(t->l.vq);
	memset(t->st, 0, sizeof(t->st));
	t->oh = t->on = t->nheld = t->uh = t->un = 0;
	t->exp_avail = t->exp_used = 0;
	t->exp_avail_wrap = t->exp_used_wrap = packed;
	for (unsigned k = 0; k < 3; k++)
		assert_true(tr_add(t, k, 1));
	if (packed) {
		struct vio_packed_desc *d = t->l.desc;
		d->id = vio_le16_make(200);
		d->flags = vio_le16_make(VIO_DESC_F_AVAIL | VIO_DESC_F_USED); /* used, wrap 1 */
	} else {
		struct vio_split_used *u = t->l.device_area;
		u->idx = vio_le16_make(5); /* 5 completions of 3 outstanding */
	}
	void *tok;
	uint32_t len;
	rc = vio_vq_get(t->l.vq, &tok, &len);
	assert_true(vio_err_is_peer(rc));
	assert_true(vio_vq_is_broken(t->l.vq));
	assert_int_equal(vio_vq_get(t->l.vq, &tok, &len), -VIO_EBROKEN);
	struct vio_sg sg = {t->l.data, 8};
	assert_int_equal(vio_vq_add(t->l.vq, &sg, 1, 0, &t->st[5]), -VIO_EBROKEN);
	assert_false(vio_vq_kick_prepare(t->l.vq));
	assert_false(vio_vq_has_used(t->l.vq));
	/* detach_unused works on a broken queue. */
	unsigned n = 0, seen = 0;
	while (vio_vq_detach_unused(t->l.vq, &tok) == 0) {
		unsigned k = tok_index(t, tok);
		assert_true(k < 3 && (seen & (1u << k)) == 0);
		seen |= 1u << k;
		n++;
	}
	assert_int_equal(n, 3);
	vio_vq_reset(t->l.vq);
	vio_devq_reset(t->l.dq);
	assert_false(vio_vq_is_broken(t->l.vq));
	memset(t->st, 0, sizeof(t->st));
	t->oh = t->on = t->nheld = t->uh = t->un = 0;
	t->exp_avail = t->exp_used = 0;
	t->exp_avail_wrap = t->exp_used_wrap = packed;
	for (int i = 0; i < 400; i++)
		tr_step(t);
	tr_drain(t);
	check_expected_state(t);
	teardown(NULL);
}

static void test_reset_broken_recovers(void **state)
{
	(void)state;
	broken_recovers(VIO_RING_SPLIT);
	broken_recovers(VIO_RING_PACKED);
}

/* detach_unused finds a single outstanding buffer wherever its descriptor
 * (split) or buffer id (packed) lies, and with several outstanding returns
 * each once. */
static void detach_every_position(enum vio_ring_format fmt, uint16_t size)
{
	struct tr *t = tr_new(fmt, size, false, false);
	for (unsigned keep = 0; keep < size; keep++) {
		for (unsigned nkeep = 1; nkeep <= 3 && keep + nkeep <= size; nkeep++) {
			/* A fresh ring: buffer k takes descriptor / id k. */
			for (unsigned k = 0; k < size; k++)
				assert_true(tr_add(t, k, 1));
			while (t->on > 0)
				tr_pop(t);
			for (unsigned k = 0; k < size; k++) {
				assert_int_equal(t->chain[k].id, k);
				if (k >= keep && k < keep + nkeep)
					continue;
				assert_int_equal(vio_devq_push(t->l.dq, &t->chain[k], 0), 0);
			}
			unsigned got = 0;
			void *tok;
			uint32_t len;
			while (vio_vq_get(t->l.vq, &tok, &len) == 0)
				got++;
			assert_int_equal(got, size - nkeep);

			vio_devq_reset(t->l.dq);
			unsigned seen = 0;
			while (vio_vq_detach_unused(t->l.vq, &tok) == 0) {
				unsigned k = tok_index(t, tok);
				assert_true(k >= keep && k < keep + nkeep);
				assert_int_equal(seen & (1u << (k - keep)), 0);
				seen |= 1u << (k - keep);
			}
			assert_int_equal(seen, (1u << nkeep) - 1);
			assert_int_equal(vio_vq_num_free(t->l.vq), size);
			vio_vq_reset(t->l.vq);
			memset(t->st, 0, sizeof(t->st));
			t->oh = t->on = t->nheld = t->uh = t->un = 0;
		}
	}
	teardown(NULL);
}

static void test_reset_detach_every_position(void **state)
{
	(void)state;
	detach_every_position(VIO_RING_SPLIT, 8);
	detach_every_position(VIO_RING_SPLIT, 32);
	detach_every_position(VIO_RING_PACKED, 7);
	detach_every_position(VIO_RING_PACKED, 32);
}

/* Save the device position mid-traffic, put a new device queue on the same
 * rings, restore, continue. */
static void migrate(enum vio_ring_format fmt, uint16_t size, bool ind, unsigned long prefix)
{
	struct tr *t = tr_new(fmt, size, true, ind);
	bool packed = fmt == VIO_RING_PACKED;
	unsigned combos = 0, direct = 0, vhost = 0, split_inflight = 0;

	/* Split: start near the 16-bit wrap, so restores happen across it. */
	for (unsigned long i = 0; i < prefix; i++) {
		assert_true(tr_add(t, 0, 1));
		tr_pop(t);
		tr_push(t);
		tr_get(t);
	}
	unsigned long done0 = t->completed;
	for (int round = 0; round < 2000; round++) {
		unsigned steps = loop_rng_range(&t->rng, 1, 16);
		for (unsigned i = 0; i < steps; i++)
			tr_step(t);
		check_expected_state(t);

		struct vio_ring_state st, st2;
		vio_devq_get_state(t->l.dq, &st);
		/* Split through vhost-user too with chains in flight: VRING_BASE
		 * carries only the avail index, and set_state takes the used
		 * index from the used ring. */
		bool use_vhost = loop_rng_chance(&t->rng, 50);
		if (use_vhost) {
			uint32_t num;
			assert_int_equal(vio_vhost_user_vring_base_encode(&st, fmt, size, &num), 0);
			assert_int_equal(vio_vhost_user_vring_base_decode(
						 num, fmt, size, VIO_VHOST_USER_BASE_BOTH, &st2),
					 0);
			/* The in-flight count travels beside VRING_BASE (vhost-user's
			 * inflight region), not in it. */
			st2.inflight = st.inflight;
			if (packed) {
				check_state_eq(&st2, &st);
				combos |= 1u << (st.avail_wrap * 2 + st.used_wrap);
			} else {
				assert_int_equal(num, st.avail_idx);
				assert_int_equal(st2.avail_idx, st.avail_idx);
				split_inflight += t->nheld != 0;
			}
			vhost++;
		} else {
			st2 = st;
			direct++;
		}
		assert_int_equal(loop_devq_reinit(&t->l), 0);
		assert_int_equal(vio_devq_set_state(t->l.dq, &st2), 0);
		check_expected_state(t);
		assert_false(vio_devq_is_broken(t->l.dq));
		/* Chains the old queue popped are taken again by the new one and
		 * pushed through it. */
		for (unsigned j = 0; j < t->nheld; j++) {
			unsigned k = t->held[j];
			struct vio_chain c;
			int rc =
				packed ? vio_devq_repop_packed(t->l.dq, t->saved[k],
							       t->chain[k].ndesc, &c, t->segs[k], 4)
				       : vio_devq_repop(t->l.dq, t->chain[k].head, &c, t->segs[k],
							4);
			assert_int_equal(rc, 0);
			assert_int_equal(c.id, t->chain[k].id);
			assert_int_equal(c.nseg, t->nseg[k]);
			assert_ptr_equal(c.segs[0].ptr, t->l.data + 128 * k);
			t->chain[k] = c;
		}
	}
	tr_drain(t);
	check_expected_state(t);
	assert_true(direct > 100 && vhost > 100);
	if (packed)
		assert_int_equal(combos, 0xf); /* every (avail_wrap, used_wrap) pair */
	else
		assert_true(split_inflight > 50); /* vhost restores with chains in flight */
	assert_true(t->completed - done0 > 1000);
	teardown(NULL);
}

static void test_reset_state_roundtrip_split(void **state)
{
	(void)state;
	migrate(VIO_RING_SPLIT, 8, false, 65536 - 1500);
	migrate(VIO_RING_SPLIT, 16, true, 0);
}

static void test_reset_state_roundtrip_packed(void **state)
{
	(void)state;
	migrate(VIO_RING_PACKED, 5, false, 0);
	migrate(VIO_RING_PACKED, 8, true, 0);
	migrate(VIO_RING_PACKED, 16, false, 0);
}

static void test_reset_set_state_rejects_packed_slot(void **state)
{
	(void)state;
	struct tr *t = tr_new(VIO_RING_PACKED, 10, false, false);
	for (int i = 0; i < 97; i++)
		tr_step(t);
	struct vio_ring_state before, after;
	vio_devq_get_state(t->l.dq, &before);

	const struct vio_ring_state bad[] = {
		{10, 0, true, true, 0},	    {0, 10, true, true, 0},
		{11, 3, false, false, 0},   {3, 0x7fff, true, false, 0},
		{0xffff, 0, true, true, 0}, {0x8001, 0x8001, false, true, 0},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(vio_devq_set_state(t->l.dq, &bad[i]), -VIO_EINVAL);
		vio_devq_get_state(t->l.dq, &after);
		check_state_eq(&after, &before);
	}
	/* Traffic is unaffected by the refused calls. */
	for (int i = 0; i < 300; i++)
		tr_step(t);
	tr_drain(t);
	check_expected_state(t);

	/* The largest slot is fine. */
	struct vio_ring_state edge = {9, 9, false, true, 0};
	assert_int_equal(vio_devq_set_state(t->l.dq, &edge), 0);
	vio_devq_get_state(t->l.dq, &after);
	check_state_eq(&after, &edge);
	teardown(NULL);

	/* Split takes any 16-bit index; the used index comes from the used
	 * ring (here: as the previous owner left it, 5 chains in flight). */
	t = tr_new(VIO_RING_SPLIT, 8, false, false);
	struct vio_ring_state any = {0xffff, 0xfffa, false, false, 5};
	struct vio_split_used *u = t->l.device_area;
	u->idx = vio_le16_make(0xfffa);
	assert_int_equal(vio_devq_set_state(t->l.dq, &any), 0);
	vio_devq_get_state(t->l.dq, &after);
	check_state_eq(&after, &any);
	assert_int_equal(after.inflight, 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_reset_outstanding_split, teardown),
		cmocka_unit_test_teardown(test_reset_outstanding_packed, teardown),
		cmocka_unit_test_teardown(test_reset_broken_recovers, teardown),
		cmocka_unit_test_teardown(test_reset_detach_every_position, teardown),
		cmocka_unit_test_teardown(test_reset_state_roundtrip_split, teardown),
		cmocka_unit_test_teardown(test_reset_state_roundtrip_packed, teardown),
		cmocka_unit_test_teardown(test_reset_set_state_rejects_packed_slot, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
