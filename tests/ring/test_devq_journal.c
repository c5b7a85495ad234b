/* SPDX-License-Identifier: MIT */
/* The device queue's in-flight journal (vio_devq_set_journal()), both ring
 * formats, over the real driver half (loop): which callbacks come, in which
 * order, with which arguments; that a batch is invisible to the driver in
 * push_begin and visible in push_end; that a journal refusing a chain fails
 * the pop; that the fast paths do not bypass it; that repop and init do not
 * report, reset does; and that without a journal nothing is called. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "loop.h"

#define QSIZE 8
#define MAXEV 64

enum ev_kind {
	EV_DESC,
	EV_POP,
	EV_BEGIN,
	EV_END,
	EV_RESET
};

struct ev {
	enum ev_kind kind;
	uint16_t k;			/* EV_DESC: index in the chain */
	struct vio_devq_journal_desc d; /* EV_DESC */
	uint16_t id, ndesc;		/* EV_POP: chain id and ring descriptors */
	unsigned n;			/* EV_BEGIN / EV_END: batch size */
	uint16_t ids[QSIZE];
	uint32_t lens[QSIZE];
	struct vio_ring_state after;
	int got_before; /* EV_BEGIN/END: completions the driver could take then */
};

struct fx {
	enum vio_ring_format fmt;
	struct loop l;
	struct ev ev[MAXEV];
	unsigned nev;
	int pop_rc;   /* what the pop callback returns */
	bool consume; /* begin/end: let the driver take what is published */
	int tok[QSIZE];
	unsigned taken;
	uint32_t taken_len[QSIZE * 4];
};

static struct ev *add_ev(struct fx *f, enum ev_kind k)
{
	assert_true(f->nev < MAXEV);
	struct ev *e = &f->ev[f->nev++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	return e;
}

/* Completions the driver can take now (taken: they are recorded). */
static int drain(struct fx *f)
{
	void *tok;
	uint32_t len;
	int n = 0;
	while (vio_vq_get(f->l.vq, &tok, &len) == 0) {
		assert_true(f->taken < QSIZE * 4);
		f->taken_len[f->taken++] = len;
		n++;
	}
	return n;
}

static void j_desc(void *ctx, uint16_t k, const struct vio_devq_journal_desc *d)
{
	struct fx *f = ctx;
	struct ev *e = add_ev(f, EV_DESC);
	e->k = k;
	e->d = *d;
}

static int j_pop(void *ctx, const struct vio_chain *c)
{
	struct fx *f = ctx;
	struct ev *e = add_ev(f, EV_POP);
	e->id = c->id;
	e->ndesc = c->ndesc;
	return f->pop_rc;
}

static void batch(struct fx *f, enum ev_kind k, const struct vio_used *u, unsigned n,
		  const struct vio_ring_state *after)
{
	struct ev *e = add_ev(f, k);
	e->n = n;
	for (unsigned i = 0; i < n && i < QSIZE; i++) {
		e->ids[i] = u[i].chain->id;
		e->lens[i] = u[i].len;
	}
	e->after = *after;
	e->got_before = f->consume ? drain(f) : -1;
}

static void j_begin(void *ctx, const struct vio_used *u, unsigned n,
		    const struct vio_ring_state *after)
{
	batch(ctx, EV_BEGIN, u, n, after);
}

static void j_end(void *ctx, const struct vio_used *u, unsigned n,
		  const struct vio_ring_state *after)
{
	batch(ctx, EV_END, u, n, after);
}

static void j_reset(void *ctx)
{
	add_ev(ctx, EV_RESET);
}

static const struct vio_devq_journal journal = {j_desc, j_pop, j_begin, j_end, j_reset};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	loop_fini(&f->l);
	free(f);
	return 0;
}

static void start(struct fx *f, bool in_order)
{
	struct loop_cfg lc = {f->fmt, QSIZE, 0,	    loop_features(f->fmt, false, false),
			      0,      0,     false, 8192};
	if (in_order)
		vio_features_set(&lc.features, VIO_F_IN_ORDER);
	assert_err(loop_init(&f->l, &lc), 0);
}

/* The driver adds buffer k: @nout readable segments of 16 bytes, one
 * writable of 64. */
static void add(struct fx *f, unsigned k, unsigned nout)
{
	struct vio_sg sg[4];
	assert_true(nout < 4);
	for (unsigned i = 0; i < nout; i++)
		sg[i] = (struct vio_sg){f->l.data + 512 * k + 32 * i, 16};
	sg[nout] = (struct vio_sg){f->l.data + 512 * k + 256, 64};
	assert_err(vio_vq_add(f->l.vq, sg, nout, 1, &f->tok[k]), 0);
}

static void test_journal_unset_calls_nothing(void **state)
{
	struct fx *f = *state;
	start(f, false);
	struct vio_chain c;
	struct vio_chain_seg s[4];
	add(f, 0, 1);
	assert_err(vio_devq_pop(f->l.dq, &c, s, 4), 0);
	assert_err(vio_devq_push(f->l.dq, &c, 5), 0);
	vio_devq_reset(f->l.dq);
	assert_int_equal(f->nev, 0);
	/* Set and removed again: nothing either. */
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	assert_err(vio_devq_set_journal(f->l.dq, NULL, NULL), 0);
	loop_fini(&f->l);
	start(f, false);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	assert_err(vio_devq_set_journal(f->l.dq, NULL, f), 0);
	add(f, 1, 0);
	assert_err(vio_devq_pop(f->l.dq, &c, s, 4), 0);
	assert_err(vio_devq_push(f->l.dq, &c, 5), 0);
	assert_int_equal(f->nev, 0);
}

/* One-descriptor chains are what the fast paths take: with a journal set
 * every pop is still reported, and every push bracketed. */
static void test_journal_single_pop_push(void **state)
{
	struct fx *f = *state;
	start(f, false);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	f->consume = true;
	struct vio_chain c[3];
	struct vio_chain_seg s[3][4];
	for (unsigned k = 0; k < 3; k++)
		add(f, k, 0);
	for (unsigned k = 0; k < 3; k++)
		assert_err(vio_devq_pop(f->l.dq, &c[k], s[k], 4), 0);
	unsigned per = f->fmt == VIO_RING_PACKED ? 2 : 1;
	assert_int_equal(f->nev, 3 * per);
	for (unsigned k = 0; k < 3; k++) {
		const struct ev *p = &f->ev[k * per + per - 1];
		assert_int_equal(p->kind, EV_POP);
		assert_int_equal(p->id, c[k].id);
		assert_int_equal(p->ndesc, 1);
		if (per == 2) {
			const struct ev *d = &f->ev[k * per];
			assert_int_equal(d->kind, EV_DESC);
			assert_int_equal(d->k, 0);
			assert_int_equal(d->d.id, c[k].id);
			assert_int_equal(d->d.len, 64);
			assert_true(d->d.flags & VIO_DESC_F_WRITE);
			assert_true(d->d.addr == s[k][0].addr);
		}
	}
	f->nev = 0;
	/* Out of order: 2, 0, 1. */
	static const unsigned order[3] = {2, 0, 1};
	struct vio_ring_state st;
	for (unsigned i = 0; i < 3; i++) {
		unsigned k = order[i];
		vio_devq_get_state(f->l.dq, &st);
		assert_err(vio_devq_push(f->l.dq, &c[k], 10 + k), 0);
		assert_int_equal(f->nev, 2 * (i + 1));
		const struct ev *b = &f->ev[2 * i], *e = &f->ev[2 * i + 1];
		assert_int_equal(b->kind, EV_BEGIN);
		assert_int_equal(e->kind, EV_END);
		assert_int_equal(b->n, 1);
		assert_int_equal(b->ids[0], c[k].id);
		assert_int_equal(b->lens[0], 10 + k);
		/* Invisible to the driver in begin, visible in end. */
		assert_int_equal(b->got_before, 0);
		assert_int_equal(e->got_before, 1);
		assert_int_equal(f->taken_len[f->taken - 1], 10 + k);
		/* The position after the batch, the same in both. */
		uint16_t u = st.used_idx;
		bool w = st.used_wrap;
		if (f->fmt == VIO_RING_SPLIT) {
			u = (uint16_t)(u + 1);
		} else if (++u == QSIZE) {
			u = 0;
			w = !w;
		}
		assert_int_equal(b->after.used_idx, u);
		assert_int_equal(b->after.used_wrap, w);
		assert_int_equal(e->after.used_idx, u);
		vio_devq_get_state(f->l.dq, &st);
		assert_int_equal(st.used_idx, u);
		assert_int_equal(st.used_wrap, w);
		assert_int_equal(b->after.inflight, 2 - i);
	}
}

/* Packed: every descriptor of a chain is reported, in ring order, with the
 * id on the last; a chain across the end of the ring too. */
static void test_journal_packed_descs(void **state)
{
	struct fx *f = *state;
	if (f->fmt != VIO_RING_PACKED)
		skip();
	start(f, false);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	struct vio_chain c;
	struct vio_chain_seg s[4];
	for (unsigned round = 0; round < 4; round++) {
		add(f, round, 2);
		f->nev = 0;
		assert_err(vio_devq_pop(f->l.dq, &c, s, 4), 0);
		assert_int_equal(f->nev, 4);
		for (unsigned i = 0; i < 3; i++) {
			assert_int_equal(f->ev[i].kind, EV_DESC);
			assert_int_equal(f->ev[i].k, i);
			assert_true(f->ev[i].d.addr == s[i].addr);
			assert_int_equal(f->ev[i].d.len, s[i].len);
			assert_int_equal((f->ev[i].d.flags & VIO_DESC_F_NEXT) != 0, i < 2);
			assert_int_equal((f->ev[i].d.flags & VIO_DESC_F_WRITE) != 0, i == 2);
		}
		assert_int_equal(f->ev[2].d.id, c.id);
		assert_int_equal(f->ev[3].kind, EV_POP);
		assert_int_equal(f->ev[3].ndesc, 3);
		assert_err(vio_devq_push(f->l.dq, &c, 1), 0);
		void *tok;
		uint32_t len;
		assert_err(vio_vq_get(f->l.vq, &tok, &len), 0);
	}
}

/* A pop that cannot finish (array too small) reports descriptors but no
 * pop; the retry starts again at k = 0. */
static void test_journal_retry_restarts(void **state)
{
	struct fx *f = *state;
	start(f, false);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	add(f, 0, 2);
	struct vio_chain c;
	struct vio_chain_seg s[4];
	assert_err(vio_devq_pop(f->l.dq, &c, s, 2), -VIO_ENOSPC);
	for (unsigned i = 0; i < f->nev; i++)
		assert_int_equal(f->ev[i].kind, EV_DESC);
	f->nev = 0;
	assert_err(vio_devq_pop(f->l.dq, &c, s, 4), 0);
	if (f->fmt == VIO_RING_PACKED) {
		assert_int_equal(f->nev, 4);
		assert_int_equal(f->ev[0].k, 0);
	} else {
		assert_int_equal(f->nev, 1);
	}
	assert_int_equal(f->ev[f->nev - 1].kind, EV_POP);
}

static void test_journal_batch_and_in_order(void **state)
{
	struct fx *f = *state;
	for (int in_order = 0; in_order < 2; in_order++) {
		start(f, in_order);
		assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
		f->consume = true;
		f->taken = 0;
		struct vio_chain c[4];
		struct vio_chain_seg s[4][4];
		for (unsigned k = 0; k < 4; k++)
			add(f, k, k % 3);
		for (unsigned k = 0; k < 4; k++)
			assert_err(vio_devq_pop(f->l.dq, &c[k], s[k], 4), 0);
		f->nev = 0;
		struct vio_ring_state st;
		vio_devq_get_state(f->l.dq, &st);
		struct vio_used u[4];
		for (unsigned k = 0; k < 4; k++)
			u[k] = (struct vio_used){&c[in_order ? k : 3 - k], 64};
		if (in_order)
			assert_err(vio_devq_push_in_order(f->l.dq, u, 4), 0);
		else
			assert_err(vio_devq_push_batch(f->l.dq, u, 4), 0);
		assert_int_equal(f->nev, 2);
		const struct ev *b = &f->ev[0], *e = &f->ev[1];
		assert_int_equal(b->kind, EV_BEGIN);
		assert_int_equal(e->kind, EV_END);
		assert_int_equal(b->n, 4);
		for (unsigned k = 0; k < 4; k++)
			assert_int_equal(b->ids[k], u[k].chain->id);
		assert_int_equal(b->got_before, 0);
		assert_int_equal(e->got_before, 4);
		uint16_t want = st.used_idx;
		bool w = st.used_wrap;
		if (f->fmt == VIO_RING_SPLIT) {
			want = (uint16_t)(want + 4);
		} else {
			unsigned slots = 0;
			for (unsigned k = 0; k < 4; k++)
				slots += c[k].ndesc;
			want = (uint16_t)(want + slots);
			if (want >= QSIZE) {
				want = (uint16_t)(want - QSIZE);
				w = !w;
			}
		}
		assert_int_equal(b->after.used_idx, want);
		assert_int_equal(b->after.used_wrap, w);
		assert_int_equal(b->after.inflight, 0);
		vio_devq_get_state(f->l.dq, &st);
		assert_int_equal(st.used_idx, want);
		loop_fini(&f->l);
		memset(&f->l, 0, sizeof(f->l));
	}
	start(f, false); /* for the teardown */
}

static void test_journal_pop_refused_breaks(void **state)
{
	struct fx *f = *state;
	start(f, false);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	add(f, 0, 1);
	f->pop_rc = -VIO_EDESC_INFLIGHT;
	struct vio_chain c;
	struct vio_chain_seg s[4];
	assert_err(vio_devq_pop(f->l.dq, &c, s, 4), -VIO_EDESC_INFLIGHT);
	assert_true(vio_devq_is_broken(f->l.dq));
	assert_err(vio_devq_broken_reason(f->l.dq), -VIO_EDESC_INFLIGHT);
	assert_err(vio_devq_pop(f->l.dq, &c, s, 4), -VIO_EBROKEN);
	/* A positive return is not a code: recorded as -VIO_EREQUEST. */
	vio_devq_reset(f->l.dq);
	loop_fini(&f->l);
	start(f, false);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	add(f, 0, 1);
	f->pop_rc = 1;
	assert_err(vio_devq_pop(f->l.dq, &c, s, 4), -VIO_EREQUEST);
}

static void test_journal_set_refused_in_flight(void **state)
{
	struct fx *f = *state;
	start(f, false);
	add(f, 0, 0);
	struct vio_chain c;
	struct vio_chain_seg s[4];
	assert_err(vio_devq_pop(f->l.dq, &c, s, 4), 0);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), -VIO_EINVAL);
	/* Dropped is still in flight. */
	assert_err(vio_devq_drop(f->l.dq, &c), 0);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), -VIO_EINVAL);
	/* Restored chains waiting for repop count too. */
	struct vio_ring_state st;
	vio_devq_get_state(f->l.dq, &st);
	assert_err(loop_devq_reinit(&f->l), 0);
	assert_err(vio_devq_set_state(f->l.dq, &st), 0);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), -VIO_EINVAL);
	/* After a reset: accepted. */
	vio_devq_reset(f->l.dq);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	assert_int_equal(f->nev, 0);
}

/* Init reports nothing, reset does; repop is not reported. */
static void test_journal_reset_and_repop(void **state)
{
	struct fx *f = *state;
	start(f, false);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	vio_devq_reset(f->l.dq);
	assert_int_equal(f->nev, 1);
	assert_int_equal(f->ev[0].kind, EV_RESET);
	f->nev = 0;
	add(f, 0, 1);
	struct vio_chain c, c2;
	struct vio_chain_seg s[4], s2[4];
	struct vio_packed_desc saved[4];
	assert_err(vio_devq_pop(f->l.dq, &c, s, 4), 0);
	if (f->fmt == VIO_RING_PACKED) {
		const struct vio_packed_desc *ring = f->l.desc;
		for (unsigned i = 0; i < c.ndesc; i++)
			saved[i] = ring[(c.head + i) % QSIZE];
	}
	struct vio_ring_state st;
	vio_devq_get_state(f->l.dq, &st);
	assert_err(vio_devq_drop(f->l.dq, &c), 0);
	assert_err(loop_devq_reinit(&f->l), 0);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	f->nev = 0;
	assert_err(vio_devq_set_state(f->l.dq, &st), 0);
	if (f->fmt == VIO_RING_SPLIT)
		assert_err(vio_devq_repop(f->l.dq, c.head, &c2, s2, 4), 0);
	else
		assert_err(vio_devq_repop_packed(f->l.dq, saved, c.ndesc, &c2, s2, 4), 0);
	assert_int_equal(f->nev, 0);
	/* Its completion is journaled as any other. */
	assert_err(vio_devq_push(f->l.dq, &c2, 3), 0);
	assert_int_equal(f->nev, 2);
	assert_int_equal(f->ev[0].kind, EV_BEGIN);
	assert_int_equal(f->ev[0].ids[0], c.id);
}

/* The read-back helpers see what was published, and refuse misuse. */
static void test_journal_read_back(void **state)
{
	struct fx *f = *state;
	start(f, false);
	struct vio_chain c;
	struct vio_chain_seg s[4];
	uint16_t v = 0;
	for (unsigned k = 0; k < 3; k++) {
		add(f, k, 1);
		assert_err(vio_devq_pop(f->l.dq, &c, s, 4), 0);
		struct vio_ring_state before;
		vio_devq_get_state(f->l.dq, &before);
		if (f->fmt == VIO_RING_PACKED) {
			/* Not used yet: the driver's available flags. */
			assert_err(vio_devq_read_slot_flags(f->l.dq, before.used_idx, &v), 0);
			assert_int_equal((v & VIO_DESC_F_AVAIL) != 0, before.used_wrap);
			assert_int_equal((v & VIO_DESC_F_USED) != 0, !before.used_wrap);
		}
		assert_err(vio_devq_push(f->l.dq, &c, 4), 0);
		if (f->fmt == VIO_RING_SPLIT) {
			assert_err(vio_devq_read_used_idx(f->l.dq, &v), 0);
			assert_int_equal(v, k + 1);
			assert_err(vio_devq_read_slot_flags(f->l.dq, 0, &v), -VIO_EINVAL);
			assert_err(vio_devq_read_used_idx(f->l.dq, NULL), -VIO_EINVAL);
		} else {
			assert_err(vio_devq_read_slot_flags(f->l.dq, before.used_idx, NULL),
				   -VIO_EINVAL);
			assert_err(vio_devq_read_slot_flags(f->l.dq, before.used_idx, &v), 0);
			assert_int_equal((v & VIO_DESC_F_AVAIL) != 0, before.used_wrap);
			assert_int_equal((v & VIO_DESC_F_USED) != 0, before.used_wrap);
			assert_err(vio_devq_read_slot_flags(f->l.dq, QSIZE, &v), -VIO_EINVAL);
			assert_err(vio_devq_read_used_idx(f->l.dq, &v), -VIO_EINVAL);
		}
	}
}

/* A journal without push_begin or without push_end: every push form still
 * publishes, in order, and the callback that is there comes once per call
 * (push_chains: one batch of two). */
static void test_journal_half_push_callbacks(void **state)
{
	struct fx *f = *state;
	static const struct vio_devq_journal only_end = {NULL, j_pop, NULL, j_end, NULL};
	static const struct vio_devq_journal only_begin = {NULL, j_pop, j_begin, NULL, NULL};
	const struct vio_devq_journal *js[2] = {&only_end, &only_begin};
	start(f, false);
	for (unsigned w = 0; w < 2; w++) {
		assert_err(vio_devq_set_journal(f->l.dq, js[w], f), 0);
		f->nev = 0;
		struct vio_chain c[4];
		struct vio_chain_seg s[4][4];
		for (unsigned k = 0; k < 4; k++)
			add(f, k, 1);
		assert_err(vio_devq_pop_batch(f->l.dq, c, &s[0][0], 4, 4), 4);
		assert_int_equal(f->nev, 4);
		for (unsigned k = 0; k < 4; k++)
			assert_int_equal(f->ev[k].kind, EV_POP);
		f->nev = 0;
		assert_err(vio_devq_push(f->l.dq, &c[0], 1), 0);
		struct vio_used u = {&c[1], 2};
		assert_err(vio_devq_push_batch(f->l.dq, &u, 1), 0);
		uint32_t lens[2] = {3, 4};
		assert_err(vio_devq_push_chains(f->l.dq, &c[2], lens, 2), 0);
		assert_int_equal(f->nev, 3);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(f->ev[i].kind, w == 0 ? EV_END : EV_BEGIN);
		assert_int_equal(f->ev[2].n, 2);
		assert_int_equal(f->ev[2].lens[1], 4);
		unsigned before = f->taken;
		assert_int_equal(drain(f), 4);
		for (unsigned k = 0; k < 4; k++)
			assert_int_equal(f->taken_len[before + k], k + 1);
		assert_err(vio_devq_set_journal(f->l.dq, NULL, NULL), 0);
	}
	assert_false(vio_devq_is_broken(f->l.dq));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_journal_unset_calls_nothing),
		BOTH(test_journal_single_pop_push),
		PACKED(test_journal_packed_descs),
		BOTH(test_journal_retry_restarts),
		BOTH(test_journal_batch_and_in_order),
		BOTH(test_journal_pop_refused_breaks),
		BOTH(test_journal_set_refused_in_flight),
		BOTH(test_journal_reset_and_repop),
		BOTH(test_journal_read_back),
		BOTH(test_journal_half_push_callbacks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
