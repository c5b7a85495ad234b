/* SPDX-License-Identifier: MIT */
/* Seeded randomized round trip through both halves of one queue.
 *
 * For every format x EVENT_IDX x INDIRECT_DESC x a few queue sizes, a driver
 * and a device agent take turns at random: add (random chain shapes, lengths
 * including 0, random data), kick_prepare, pop (sometimes with a too-small
 * segment array), push (single and vio_devq_push_batch, completions in
 * random order), needs_notify, get, interrupt/notification enable and
 * disable. Each agent may "sleep" only when the library says it is safe
 * (enable_intr / enable_notify returned true) and is woken only by a
 * kick_prepare / needs_notify that returned true: both asleep at once is a
 * lost wakeup.
 *
 * Checked exactly: every token comes back once, in push order, with the
 * length the device reported; the device sees the driver's segments (same
 * host memory, lengths, directions, order, totals, descriptor count) and
 * their bytes; every byte the device writes arrives, nothing else changes;
 * free counts move by the chain's descriptor count; kick_prepare and
 * needs_notify are false with nothing new since their last call.
 *
 * VIO_TEST_SEED selects the seed (then only that one runs); the seed and
 * configuration are printed on any failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"

#define RT_MAX_SEGS 8
#define RT_SEG_MAX 40
#define RT_SEG_STRIDE (RT_SEG_MAX + 16)
#define RT_SLICE (RT_MAX_SEGS * RT_SEG_STRIDE)
#define RT_CANARY 0xee
#define RT_DEFAULT_SEED 0x5eed0001u
#define RT_MIN_OPS 100000ul
/* Split: enough adds to wrap the 16-bit indices several times. */
#define RT_SPLIT_MIN_ADDS (4ul * 65536ul + 1000ul)
#define RT_EXTRA_SEEDS 2

enum rq_state {
	RQ_FREE,
	RQ_AVAIL,
	RQ_HELD,
	RQ_USED
};

struct rq {
	enum rq_state state;
	unsigned out, in, total;
	struct vio_sg sg[RT_MAX_SEGS];
	uint64_t data_seed, resp_seed;
	uint16_t ndesc;
	uint32_t out_bytes, in_bytes, written;
	struct vio_chain chain;
	struct vio_chain_seg segs[RT_MAX_SEGS];
};

struct fifo {
	unsigned *v;
	unsigned cap, head, n;
};

struct rt_param {
	enum vio_ring_format format;
	uint16_t size;
	bool event_idx, indirect;
};

struct rt {
	struct loop l;
	struct loop_cfg cfg;
	struct loop_rng rng;
	uint64_t seed;
	char what[160];
	uint16_t size;
	bool indirect;
	uint16_t ind_max, ind_min;

	struct rq *rq;
	unsigned *free_rq;
	unsigned nfree_rq;
	struct fifo avail, used;
	unsigned *held;
	unsigned nheld;
	int *id_owner; /* chain id -> request, -1 if none */

	/* The agents. */
	bool drv_asleep, dev_asleep, drv_delayed;
	bool unkicked;	 /* added since the last kick_prepare */
	bool unnotified; /* pushed since the last needs_notify */
	bool nn_called;	 /* needs_notify called since init */
	bool kick_due;	 /* device asleep and a buffer added since */
	bool intr_due;	 /* driver asleep (not delayed) and a push since */
	unsigned w[10];	 /* action weights of the current phase */

	unsigned long ops, adds, pops, pushes, batches, gets, kicks, intrs;
	unsigned long add_enospc, pop_enospc, drv_sleeps, dev_sleeps, ring_full;
};

static struct rt *g_rt;

static void rt_context(const struct rt *t)
{
	print_error("roundtrip: seed 0x%" PRIx64 " (VIO_TEST_SEED=0x%" PRIx64 "), %s, op %lu\n",
		    t->seed, t->seed, t->what, t->ops);
}

#define RT_CHECK(t, cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			rt_context(t);                                                             \
			print_error(__VA_ARGS__);                                                  \
			print_error("\n");                                                         \
			fail_msg("check failed: %s", #cond);                                       \
		}                                                                                  \
	} while (0)

static void fifo_init(struct fifo *f, unsigned cap)
{
	f->v = calloc(cap, sizeof(*f->v));
	f->cap = cap;
	f->head = 0;
	f->n = 0;
}

static void fifo_push(struct fifo *f, unsigned x)
{
	f->v[(f->head + f->n) % f->cap] = x;
	f->n++;
}

static unsigned fifo_front(const struct fifo *f)
{
	return f->v[f->head];
}

static void fifo_pop(struct fifo *f)
{
	f->head = (f->head + 1) % f->cap;
	f->n--;
}

static void rt_free(struct rt *t)
{
	if (t == NULL)
		return;
	if (t->l.vq != NULL)
		loop_fini(&t->l);
	free(t->rq);
	free(t->free_rq);
	free(t->avail.v);
	free(t->used.v);
	free(t->held);
	free(t->id_owner);
	free(t);
}

static struct rt *rt_new(const struct rt_param *p, uint64_t seed)
{
	struct rt *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	g_rt = t;
	t->seed = seed;
	loop_rng_seed(&t->rng, seed);
	t->size = p->size;
	t->indirect = p->indirect;
	t->ind_max = (uint16_t)(p->size < 6 ? p->size : 6);
	t->ind_min = p->size >= 16 ? 3 : 0;

	memset(&t->cfg, 0, sizeof(t->cfg));
	t->cfg.format = p->format;
	t->cfg.size = p->size;
	t->cfg.index = 3;
	t->cfg.features = loop_features(p->format, p->event_idx, p->indirect);
	t->cfg.indirect_max = t->ind_max;
	t->cfg.indirect_min = t->ind_min;
	t->cfg.data_bytes = (size_t)p->size * RT_SLICE;
	loop_describe(&t->cfg, t->what, sizeof(t->what));
	int rc = loop_init(&t->l, &t->cfg);
	RT_CHECK(t, rc == 0, "loop_init: %s", vio_err_name(rc));

	unsigned n = p->size;
	t->rq = calloc(n, sizeof(*t->rq));
	t->free_rq = calloc(n, sizeof(*t->free_rq));
	t->held = calloc(n, sizeof(*t->held));
	t->id_owner = calloc(n, sizeof(*t->id_owner));
	fifo_init(&t->avail, n);
	fifo_init(&t->used, n);
	for (unsigned i = 0; i < n; i++) {
		t->free_rq[i] = n - 1 - i;
		t->id_owner[i] = -1;
	}
	t->nfree_rq = n;
	return t;
}

static unsigned char *rq_slice(struct rt *t, unsigned i)
{
	return t->l.data + (size_t)i * RT_SLICE;
}

/* --- driver agent --------------------------------------------------------- */

static void drv_add(struct rt *t)
{
	if (t->nfree_rq == 0) {
		t->ring_full++; /* every request outstanding */
		return;
	}
	unsigned i = t->free_rq[t->nfree_rq - 1];
	struct rq *r = &t->rq[i];
	unsigned maxseg = t->size < RT_MAX_SEGS ? t->size : RT_MAX_SEGS;
	unsigned total = loop_rng_chance(&t->rng, 50) ? loop_rng_range(&t->rng, 1, 2)
						      : loop_rng_range(&t->rng, 1, maxseg);
	if (total > maxseg)
		total = maxseg;
	r->total = total;
	r->out = loop_rng_below(&t->rng, total + 1);
	r->in = total - r->out;
	r->data_seed = loop_rng_next(&t->rng);
	r->out_bytes = 0;
	r->in_bytes = 0;
	unsigned char *base = rq_slice(t, i);
	for (unsigned s = 0; s < total; s++) {
		uint32_t len =
			loop_rng_chance(&t->rng, 10) ? 0 : loop_rng_range(&t->rng, 1, RT_SEG_MAX);
		unsigned char *p = base + s * RT_SEG_STRIDE + loop_rng_below(&t->rng, 16);
		r->sg[s].addr = p;
		r->sg[s].len = len;
		if (s < r->out) {
			loop_pattern_fill(p, len, loop_mix(r->data_seed, s));
			r->out_bytes += len;
		} else {
			memset(p, RT_CANARY, len);
			r->in_bytes += len;
		}
	}

	unsigned nf = vio_vq_num_free(t->l.vq);
	bool ind = t->indirect && total <= t->ind_max &&
		   (total >= (t->ind_min ? t->ind_min : 2u) || total > nf);
	uint16_t ndesc = (uint16_t)(ind ? 1 : total);
	int rc = vio_vq_add(t->l.vq, r->sg, r->out, r->in, r);
	t->ops++;
	if (ndesc > nf) {
		RT_CHECK(t, rc == -VIO_ENOSPC, "add of %u segs (ndesc %u) with %u free: %s", total,
			 ndesc, nf, vio_err_name(rc));
		RT_CHECK(t, vio_vq_num_free(t->l.vq) == nf, "failed add changed num_free");
		t->add_enospc++;
		t->ring_full++;
		return;
	}
	RT_CHECK(t, rc == 0, "add of %u segs (%u out, ndesc %u) with %u free: %s", total, r->out,
		 ndesc, nf, vio_err_name(rc));
	RT_CHECK(t, vio_vq_num_free(t->l.vq) == nf - ndesc, "num_free %u after add, want %u",
		 vio_vq_num_free(t->l.vq), nf - ndesc);
	r->ndesc = ndesc;
	r->state = RQ_AVAIL;
	t->nfree_rq--;
	fifo_push(&t->avail, i);
	t->adds++;
	t->unkicked = true;
	if (t->dev_asleep)
		t->kick_due = true;
}

static void dev_wake(struct rt *t)
{
	t->dev_asleep = false;
	if (loop_rng_chance(&t->rng, 50))
		vio_devq_disable_notify(t->l.dq);
}

static void drv_wake(struct rt *t)
{
	t->drv_asleep = false;
	if (loop_rng_chance(&t->rng, 50))
		vio_vq_disable_intr(t->l.vq);
}

static void drv_kick(struct rt *t)
{
	bool k = vio_vq_kick_prepare(t->l.vq);
	t->ops++;
	if (!t->unkicked)
		RT_CHECK(t, !k, "kick_prepare true with nothing added since its last call");
	if (t->kick_due)
		RT_CHECK(t, k,
			 "lost kick: the device slept (enable_notify true), a buffer was "
			 "added, kick_prepare false");
	t->unkicked = false;
	t->kick_due = false;
	if (k) {
		t->kicks++;
		if (t->dev_asleep)
			dev_wake(t);
	}
}

static void check_response(struct rt *t, unsigned i, const struct rq *r)
{
	uint32_t left = r->written;
	for (unsigned s = r->out; s < r->total; s++) {
		const unsigned char *p = r->sg[s].addr;
		uint32_t len = r->sg[s].len;
		uint32_t w = left < len ? left : len;
		size_t bad = loop_pattern_check(p, w, loop_mix(r->resp_seed, s));
		RT_CHECK(t, bad == w, "request %u seg %u: byte %zu of %u written differs", i, s,
			 bad, w);
		for (uint32_t b = w; b < len; b++)
			RT_CHECK(t, p[b] == RT_CANARY,
				 "request %u seg %u: byte %u beyond written changed", i, s, b);
		left -= w;
	}
}

static void drv_get(struct rt *t)
{
	void *tok = NULL;
	uint32_t len = 0xdeadbeef;
	unsigned nf = vio_vq_num_free(t->l.vq);
	int rc = vio_vq_get(t->l.vq, &tok, &len);
	t->ops++;
	if (t->used.n == 0) {
		RT_CHECK(t, rc == -VIO_EAGAIN, "get with nothing pushed: %s", vio_err_name(rc));
		RT_CHECK(t, !vio_vq_has_used(t->l.vq), "has_used with nothing pushed");
		return;
	}
	unsigned i = fifo_front(&t->used);
	struct rq *r = &t->rq[i];
	RT_CHECK(t, rc == 0, "get with %u pushed: %s", t->used.n, vio_err_name(rc));
	RT_CHECK(t, tok == r, "get returned token %p (request %ld), want request %u (push order)",
		 tok, tok ? (long)((struct rq *)tok - t->rq) : -1L, i);
	RT_CHECK(t, len == r->written, "request %u: len %u, device wrote %u", i, len, r->written);
	RT_CHECK(t, vio_vq_num_free(t->l.vq) == nf + r->ndesc, "num_free %u after get, want %u",
		 vio_vq_num_free(t->l.vq), nf + r->ndesc);
	check_response(t, i, r);
	fifo_pop(&t->used);
	t->id_owner[r->chain.id] = -1;
	r->state = RQ_FREE;
	t->free_rq[t->nfree_rq++] = i;
	t->gets++;
}

static void drv_toggle_intr(struct rt *t)
{
	t->ops++;
	if (loop_rng_chance(&t->rng, 50)) {
		vio_vq_disable_intr(t->l.vq);
		return;
	}
	bool ok = vio_vq_enable_intr(t->l.vq);
	RT_CHECK(t, ok == (t->used.n == 0), "enable_intr %d with %u completions pending", ok,
		 t->used.n);
}

static void drv_try_sleep(struct rt *t)
{
	unsigned outstanding = t->size - t->nfree_rq;
	if (outstanding == 0 || t->unkicked)
		return;
	bool delayed = loop_rng_chance(&t->rng, 30);
	bool ok = delayed ? vio_vq_enable_intr_delayed(t->l.vq) : vio_vq_enable_intr(t->l.vq);
	t->ops++;
	if (!delayed)
		RT_CHECK(t, ok == (t->used.n == 0), "enable_intr %d with %u completions pending",
			 ok, t->used.n);
	else if (!ok)
		RT_CHECK(t, t->used.n > 0, "enable_intr_delayed false with nothing pending");
	if (ok) {
		t->drv_asleep = true;
		t->drv_delayed = delayed;
		t->intr_due = false;
		t->drv_sleeps++;
	}
}

/* --- device agent --------------------------------------------------------- */

static void dev_pop(struct rt *t)
{
	struct vio_chain c;
	struct vio_chain_seg segs[RT_MAX_SEGS];
	if (t->avail.n == 0) {
		int rc = vio_devq_pop(t->l.dq, &c, segs, RT_MAX_SEGS);
		t->ops++;
		RT_CHECK(t, rc == -VIO_EAGAIN, "pop with nothing available: %s", vio_err_name(rc));
		RT_CHECK(t, !vio_devq_has_avail(t->l.dq), "has_avail with nothing available");
		return;
	}
	unsigned i = fifo_front(&t->avail);
	struct rq *r = &t->rq[i];
	RT_CHECK(t, vio_devq_has_avail(t->l.dq), "has_avail false with %u available", t->avail.n);
	if (r->total > 1 && loop_rng_chance(&t->rng, 5)) {
		uint16_t small = (uint16_t)loop_rng_below(&t->rng, r->total);
		int rc = vio_devq_pop(t->l.dq, &c, segs, small);
		t->ops++;
		RT_CHECK(t, rc == -VIO_ENOSPC, "pop of %u segs into %u: %s", r->total, small,
			 vio_err_name(rc));
		RT_CHECK(t, !vio_devq_is_broken(t->l.dq), "ENOSPC broke the queue");
		t->pop_enospc++;
	}
	memset(&c, 0xa5, sizeof(c));
	int rc = vio_devq_pop(t->l.dq, &c, segs, RT_MAX_SEGS);
	t->ops++;
	RT_CHECK(t, rc == 0, "pop of request %u: %s", i, vio_err_name(rc));
	RT_CHECK(t, c.nseg == r->total && c.nout == r->out,
		 "request %u: device sees %u segs (%u out), driver gave %u (%u out)", i, c.nseg,
		 c.nout, r->total, r->out);
	RT_CHECK(t, c.out_bytes == r->out_bytes && c.in_bytes == r->in_bytes,
		 "request %u: device byte totals %u/%u, driver %u/%u", i, c.out_bytes, c.in_bytes,
		 r->out_bytes, r->in_bytes);
	RT_CHECK(t, c.ndesc == r->ndesc, "request %u: ndesc %u, want %u", i, c.ndesc, r->ndesc);
	RT_CHECK(t, c.id < t->size, "chain id %u beyond size", c.id);
	RT_CHECK(t, t->id_owner[c.id] == -1, "chain id %u already held by request %d", c.id,
		 t->id_owner[c.id]);
	for (unsigned s = 0; s < r->total; s++) {
		const struct vio_chain_seg *g = &segs[s];
		RT_CHECK(t, g->len == r->sg[s].len, "request %u seg %u: len %u, want %u", i, s,
			 g->len, r->sg[s].len);
		RT_CHECK(t, g->write == (s >= r->out), "request %u seg %u: write %d", i, s,
			 g->write);
		RT_CHECK(t, g->ptr == (g->len ? r->sg[s].addr : NULL),
			 "request %u seg %u: ptr %p, driver's %p", i, s, g->ptr, r->sg[s].addr);
		if (s < r->out) {
			size_t bad = loop_pattern_check(g->ptr, g->len, loop_mix(r->data_seed, s));
			RT_CHECK(t, bad == g->len, "request %u seg %u: readable byte %zu differs",
				 i, s, bad);
		}
	}
	r->chain = c;
	memcpy(r->segs, segs, sizeof(segs));
	r->state = RQ_HELD;
	t->id_owner[c.id] = (int)i;
	fifo_pop(&t->avail);
	t->held[t->nheld++] = i;
	t->pops++;
}

static unsigned take_held(struct rt *t)
{
	unsigned k = loop_rng_below(&t->rng, t->nheld);
	unsigned i = t->held[k];
	t->held[k] = t->held[--t->nheld];
	return i;
}

static void dev_complete(struct rt *t, unsigned i)
{
	struct rq *r = &t->rq[i];
	uint32_t in = r->chain.in_bytes;
	uint32_t w;
	unsigned pick = loop_rng_below(&t->rng, 100);
	if (pick < 25)
		w = in;
	else if (pick < 45)
		w = 0;
	else
		w = loop_rng_below(&t->rng, in + 1);
	r->resp_seed = loop_rng_next(&t->rng);
	uint32_t left = w;
	for (unsigned s = r->chain.nout; s < r->chain.nseg && left > 0; s++) {
		uint32_t n = left < r->segs[s].len ? left : r->segs[s].len;
		loop_pattern_fill(r->segs[s].ptr, n, loop_mix(r->resp_seed, s));
		left -= n;
	}
	r->written = w;
	r->state = RQ_USED;
	fifo_push(&t->used, i);
	t->pushes++;
}

static void dev_push(struct rt *t)
{
	if (t->nheld == 0)
		return;
	if (t->nheld == 1 || loop_rng_chance(&t->rng, 50)) {
		unsigned i = take_held(t);
		dev_complete(t, i);
		int rc = vio_devq_push(t->l.dq, &t->rq[i].chain, t->rq[i].written);
		t->ops++;
		RT_CHECK(t, rc == 0, "push: %s", vio_err_name(rc));
	} else {
		struct vio_used u[RT_MAX_SEGS];
		unsigned n =
			loop_rng_range(&t->rng, 2, t->nheld < RT_MAX_SEGS ? t->nheld : RT_MAX_SEGS);
		for (unsigned k = 0; k < n; k++) {
			unsigned i = take_held(t);
			dev_complete(t, i);
			u[k].chain = &t->rq[i].chain;
			u[k].len = t->rq[i].written;
		}
		int rc = vio_devq_push_batch(t->l.dq, u, n);
		t->ops++;
		t->batches++;
		RT_CHECK(t, rc == 0, "push_batch of %u: %s", n, vio_err_name(rc));
	}
	RT_CHECK(t, vio_vq_has_used(t->l.vq), "has_used false after a push");
	t->unnotified = true;
	if (t->drv_asleep && !t->drv_delayed)
		t->intr_due = true;
}

static void dev_notify(struct rt *t)
{
	bool n = vio_devq_needs_notify(t->l.dq);
	t->ops++;
	if (!t->unnotified)
		RT_CHECK(t, !n, "needs_notify true with nothing pushed since its last call");
	if (t->intr_due)
		RT_CHECK(t, n,
			 "lost interrupt: the driver slept (enable_intr true), a buffer was "
			 "pushed, needs_notify false");
	t->unnotified = false;
	t->intr_due = false;
	t->nn_called = true;
	if (n) {
		t->intrs++;
		if (t->drv_asleep)
			drv_wake(t);
	}
}

static void dev_toggle_notify(struct rt *t)
{
	t->ops++;
	if (loop_rng_chance(&t->rng, 50)) {
		vio_devq_disable_notify(t->l.dq);
		return;
	}
	bool ok = vio_devq_enable_notify(t->l.dq);
	RT_CHECK(t, ok == (t->avail.n == 0), "enable_notify %d with %u available", ok, t->avail.n);
}

static void dev_try_sleep(struct rt *t)
{
	if (t->nheld != 0 || t->unnotified)
		return;
	bool ok = vio_devq_enable_notify(t->l.dq);
	t->ops++;
	RT_CHECK(t, ok == (t->avail.n == 0), "enable_notify %d with %u available", ok, t->avail.n);
	if (ok) {
		t->dev_asleep = true;
		t->kick_due = false;
		t->dev_sleeps++;
	}
}

/* --- the run -------------------------------------------------------------- */

enum {
	W_ADD,
	W_KICK,
	W_GET,
	W_INTR,
	W_DSLEEP,
	W_POP,
	W_PUSH,
	W_NOTIFY,
	W_NOTIFY_T,
	W_VSLEEP
};

static void new_phase(struct rt *t)
{
	t->w[W_ADD] = loop_rng_range(&t->rng, 1, 40);
	t->w[W_KICK] = loop_rng_range(&t->rng, 1, 15);
	t->w[W_GET] = loop_rng_range(&t->rng, 1, 40);
	t->w[W_INTR] = loop_rng_range(&t->rng, 0, 4);
	t->w[W_DSLEEP] = loop_rng_range(&t->rng, 0, 6);
	t->w[W_POP] = loop_rng_range(&t->rng, 1, 40);
	t->w[W_PUSH] = loop_rng_range(&t->rng, 1, 40);
	t->w[W_NOTIFY] = loop_rng_range(&t->rng, 1, 15);
	t->w[W_NOTIFY_T] = loop_rng_range(&t->rng, 0, 4);
	t->w[W_VSLEEP] = loop_rng_range(&t->rng, 0, 6);
}

static void step(struct rt *t)
{
	unsigned lo = t->drv_asleep ? W_POP : W_ADD;
	unsigned hi = t->dev_asleep ? W_POP : W_VSLEEP + 1;
	unsigned sum = 0;
	for (unsigned a = lo; a < hi; a++)
		sum += t->w[a];
	if (sum == 0)
		return;
	unsigned x = loop_rng_below(&t->rng, sum), a = lo;
	while (x >= t->w[a])
		x -= t->w[a++];
	switch (a) {
	case W_ADD:
		drv_add(t);
		break;
	case W_KICK:
		drv_kick(t);
		break;
	case W_GET:
		drv_get(t);
		break;
	case W_INTR:
		drv_toggle_intr(t);
		break;
	case W_DSLEEP:
		drv_try_sleep(t);
		break;
	case W_POP:
		dev_pop(t);
		break;
	case W_PUSH:
		dev_push(t);
		break;
	case W_NOTIFY:
		dev_notify(t);
		break;
	case W_NOTIFY_T:
		dev_toggle_notify(t);
		break;
	default:
		dev_try_sleep(t);
		break;
	}
	RT_CHECK(t, !(t->drv_asleep && t->dev_asleep),
		 "lost wakeup: driver and device both asleep (%u available, %u held, %u pushed, "
		 "driver %s)",
		 t->avail.n, t->nheld, t->used.n, t->drv_delayed ? "delayed" : "not delayed");
}

/* Wake both, complete everything, and check the queue is back to empty. */
static void drain(struct rt *t)
{
	t->drv_asleep = false;
	t->dev_asleep = false;
	t->kick_due = false;
	t->intr_due = false;
	drv_kick(t);
	while (t->avail.n > 0)
		dev_pop(t);
	while (t->nheld > 0)
		dev_push(t);
	dev_notify(t);
	while (t->used.n > 0)
		drv_get(t);
	drv_get(t); /* EAGAIN */
	dev_pop(t); /* EAGAIN */
	RT_CHECK(t, t->nfree_rq == t->size, "requests lost");
	RT_CHECK(t, vio_vq_num_free(t->l.vq) == t->size, "num_free %u at the end, want %u",
		 vio_vq_num_free(t->l.vq), t->size);
	RT_CHECK(t, !vio_vq_is_broken(t->l.vq) && !vio_devq_is_broken(t->l.dq), "queue broken");
	for (unsigned i = 0; i < t->size; i++)
		RT_CHECK(t, t->rq[i].state == RQ_FREE, "request %u not back", i);
}

static void run(const struct rt_param *p, uint64_t seed, unsigned long min_ops,
		unsigned long min_adds)
{
	struct rt *t = rt_new(p, seed);
	while (t->ops < min_ops || t->adds < min_adds) {
		if ((t->ops & 511u) == 0 || t->w[W_ADD] == 0)
			new_phase(t);
		step(t);
	}
	drain(t);
	if (getenv("VIO_TEST_VERBOSE") != NULL)
		printf("  seed 0x%" PRIx64 " %s: %lu ops, %lu adds (%lu ENOSPC), %lu pops (%lu "
		       "ENOSPC), %lu pushes (%lu batches), %lu gets, %lu kicks, %lu interrupts, "
		       "%lu/%lu sleeps\n",
		       seed, t->what, t->ops, t->adds, t->add_enospc, t->pops, t->pop_enospc,
		       t->pushes, t->batches, t->gets, t->kicks, t->intrs, t->drv_sleeps,
		       t->dev_sleeps);
	/* Sanity: the run exercised what it should. */
	RT_CHECK(t, t->gets == t->adds && t->pops == t->adds, "counts disagree");
	RT_CHECK(t, t->ring_full > 0, "never filled the ring");
	RT_CHECK(t, t->drv_sleeps > 0 && t->dev_sleeps > 0, "an agent never slept");
	rt_free(t);
	g_rt = NULL;
}

static void test_roundtrip_config(void **state)
{
	const struct rt_param *p = *state;
	bool from_env;
	uint64_t seed = loop_seed_from_env(RT_DEFAULT_SEED, &from_env);
	unsigned long split_adds = p->format == VIO_RING_SPLIT ? RT_SPLIT_MIN_ADDS : 0;

	/* Packed: also at least as many adds as the split runs, so both wrap
	 * counters flip many times at every size. */
	run(p, seed, RT_MIN_OPS, split_adds ? split_adds : 2ul * RT_MIN_OPS);
	if (from_env)
		return;
	for (unsigned k = 1; k <= RT_EXTRA_SEEDS; k++)
		run(p, loop_mix(RT_DEFAULT_SEED, k), RT_MIN_OPS, 0);
}

static int teardown(void **state)
{
	(void)state;
	rt_free(g_rt);
	g_rt = NULL;
	return 0;
}

#define RT_CASE(name, fmt, sz, ei, ind)                                                            \
	{                                                                                          \
		"test_roundtrip_" #name "_size" #sz "_event_idx" #ei "_indirect" #ind,             \
			test_roundtrip_config, NULL, teardown,                                     \
			&(struct rt_param){fmt, sz, ei, ind},                                      \
	}

#define RT_FOUR(name, fmt, sz)                                                                     \
	RT_CASE(name, fmt, sz, 0, 0), RT_CASE(name, fmt, sz, 0, 1), RT_CASE(name, fmt, sz, 1, 0),  \
		RT_CASE(name, fmt, sz, 1, 1)

int main(void)
{
	const struct CMUnitTest tests[] = {
		RT_FOUR(split, VIO_RING_SPLIT, 4),     RT_FOUR(split, VIO_RING_SPLIT, 16),
		RT_FOUR(split, VIO_RING_SPLIT, 256),   RT_FOUR(packed, VIO_RING_PACKED, 4),
		RT_FOUR(packed, VIO_RING_PACKED, 10),  RT_FOUR(packed, VIO_RING_PACKED, 16),
		RT_FOUR(packed, VIO_RING_PACKED, 256),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
