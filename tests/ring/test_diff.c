/* SPDX-License-Identifier: MIT */
/* Differential test: one seeded random operation script runs in lockstep on
 * a split queue, a packed queue of the same size and features, and a plain
 * reference model (a FIFO of available buffers, the device's held set, a
 * FIFO of completions). What the API promises independently of the format
 * must agree after every operation: add results (0 / ENOSPC) and free
 * counts, which buffer each pop yields and the segments and bytes it shows,
 * which buffer each get returns with which length and bytes, has_used /
 * has_avail, enable_intr / enable_notify results.
 *
 * Notification decisions legitimately differ between formats (split counts
 * entries modulo 2^16, packed counts slots modulo two laps; initial modes
 * differ; "delayed" is only "about 3/4"), so for kick_prepare and
 * needs_notify the model gives each format a verdict: must notify, must
 * not, or either; with enable_intr_delayed, a notification must come by the
 * time every buffer outstanding at that call has completed.
 *
 * The sequences of (token, length, bytes) results are also hashed per run
 * and compared at the end. VIO_TEST_SEED selects the seed. */
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

#define DF_MAX_SEGS 6
#define DF_SEG_MAX 24
#define DF_SEG_STRIDE (DF_SEG_MAX + 8)
#define DF_SLICE (DF_MAX_SEGS * DF_SEG_STRIDE)
#define DF_CANARY 0x3c
#define DF_DEFAULT_SEED 0xd1ffu
#define DF_NIMPL 2 /* 0 split, 1 packed */

enum {
	MUSTNOT = 0,
	MUST = 1,
	EITHER = 2
};
enum dev_mode {
	DEV_INIT,
	DEV_ENABLED,
	DEV_DISABLED
};
enum drv_mode {
	DRV_INIT,
	DRV_ENABLED,
	DRV_DELAYED,
	DRV_DISABLED
};
enum rq_state {
	RQ_FREE,
	RQ_AVAIL,
	RQ_HELD,
	RQ_USED
};

/* The script's view of one request: the same in every implementation. */
struct req {
	enum rq_state state;
	unsigned out, in, total;
	uint32_t len[DF_MAX_SEGS];
	unsigned off[DF_MAX_SEGS];
	uint64_t data_seed, resp_seed;
	uint16_t ndesc;
	uint32_t out_bytes, in_bytes, written;
	bool armed; /* outstanding when enable_intr_delayed armed */
};

struct impl {
	const char *name;
	struct loop l;
	struct vio_chain chain[64];
	struct vio_chain_seg segs[64][DF_MAX_SEGS];
	uint64_t digest;
	/* Delayed-interrupt obligation. */
	bool armed, notified;
};

struct df {
	uint64_t seed;
	char what[160];
	struct loop_rng rng;
	uint16_t size;
	bool ei, indirect;
	uint16_t ind_max, ind_min;
	struct impl im[DF_NIMPL];
	struct req rq[64];
	unsigned free_rq[64], nfree_rq;
	unsigned avail[64], avail_head, navail; /* FIFO */
	unsigned held[64], nheld;
	unsigned used[64], used_head, nused; /* FIFO */
	unsigned num_free;
	uint64_t digest;

	/* Counters (free-running, never wrap in a test). */
	uint64_t A, Ak, Pp, P, Ps, G;
	uint64_t *cum_a; /* slots before the k-th add (packed positions) */
	uint64_t *cum_u; /* slots before the k-th push */
	uint64_t cap;
	bool nn_called;
	enum dev_mode dev;
	uint64_t dev_ev;
	enum drv_mode drv;
	uint64_t drv_ev, g_dis;
	unsigned arm_left;
	unsigned long ops;
	unsigned long kick_t[DF_NIMPL], intr_t[DF_NIMPL];
	unsigned long verdicts[3];
	unsigned w[12];
};

static struct df *g_df;

static void df_context(const struct df *d)
{
	print_error("diff: seed 0x%" PRIx64 " (VIO_TEST_SEED=0x%" PRIx64 "), %s, op %lu\n", d->seed,
		    d->seed, d->what, d->ops);
}

#define DF_CHECK(d, cond, ...)                                                                     \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			df_context(d);                                                             \
			print_error(__VA_ARGS__);                                                  \
			print_error("\n");                                                         \
			fail_msg("check failed: %s", #cond);                                       \
		}                                                                                  \
	} while (0)

static uint64_t hash_mix(uint64_t h, uint64_t v)
{
	return loop_mix(h ^ v, 0x9e37u);
}

static uint64_t hash_bytes(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void df_free(struct df *d)
{
	if (d == NULL)
		return;
	for (unsigned f = 0; f < DF_NIMPL; f++)
		if (d->im[f].l.vq != NULL)
			loop_fini(&d->im[f].l);
	free(d->cum_a);
	free(d->cum_u);
	free(d);
}

static unsigned char *seg_ptr(struct impl *im, unsigned i, const struct req *r, unsigned s)
{
	return im->l.data + (size_t)i * DF_SLICE + s * DF_SEG_STRIDE + r->off[s];
}

static void grow(struct df *d)
{
	if (d->A + 2 < d->cap && d->P + 2 < d->cap)
		return;
	d->cap = d->cap ? d->cap * 2 : 4096;
	d->cum_a = realloc(d->cum_a, d->cap * sizeof(uint64_t));
	d->cum_u = realloc(d->cum_u, d->cap * sizeof(uint64_t));
	assert_non_null(d->cum_a);
	assert_non_null(d->cum_u);
}

/* --- verdicts ------------------------------------------------------------ */

/* Packed: is the position ev (in slots) in [old, new), positions modulo two
 * laps (a 15-bit offset plus a wrap bit names a position of period 2·size)? */
static bool packed_crossed(const struct df *d, uint64_t ev, uint64_t old, uint64_t new_pos)
{
	uint64_t period = 2u * d->size;
	uint64_t dist = (ev % period + period - old % period) % period;
	return dist < new_pos - old;
}

static int kick_verdict(const struct df *d, unsigned f)
{
	if (d->A == d->Ak)
		return MUSTNOT;
	bool packed = f == 1;
	uint64_t slots = d->cum_a[d->A] - d->cum_a[d->Ak];
	bool many = packed ? slots >= d->size : d->A - d->Ak >= 0xffff;
	if (!d->ei) {
		if (d->dev != DEV_DISABLED)
			return MUST;
		return many ? EITHER : MUSTNOT;
	}
	if (packed) {
		if (d->dev == DEV_INIT)
			return MUST; /* ENABLE until the device first asks for DESC */
		if (many)
			return EITHER;
		if (d->dev == DEV_DISABLED)
			return MUSTNOT;
		return packed_crossed(d, d->cum_a[d->dev_ev], d->cum_a[d->Ak], d->cum_a[d->A])
			       ? MUST
			       : MUSTNOT;
	}
	if (many)
		return EITHER;
	uint64_t ev = d->dev == DEV_INIT ? 0 : d->dev_ev;
	bool c = vio_need_event((uint16_t)ev, (uint16_t)d->A, (uint16_t)d->Ak);
	if (!c)
		return MUSTNOT;
	return d->dev == DEV_DISABLED ? EITHER : MUST; /* a stale avail_event is a hint */
}

static int intr_verdict(const struct df *d, unsigned f)
{
	if (d->P == d->Ps)
		return MUSTNOT;
	if (!d->nn_called)
		return EITHER; /* no reference position yet */
	bool packed = f == 1;
	if (!d->ei)
		return d->drv == DRV_DISABLED ? MUSTNOT : MUST;
	if (d->drv == DRV_DELAYED)
		return EITHER; /* the obligation covers it */
	if (packed) {
		if (d->drv == DRV_INIT)
			return MUST;
		if (d->drv == DRV_DISABLED)
			return MUSTNOT;
		if (d->cum_u[d->P] - d->cum_u[d->Ps] >= d->size)
			return EITHER;
		return packed_crossed(d, d->cum_u[d->drv_ev], d->cum_u[d->Ps], d->cum_u[d->P])
			       ? MUST
			       : MUSTNOT;
	}
	if (d->drv == DRV_DISABLED) {
		/* used_event half the index space ahead of the reaped position. */
		bool c = vio_need_event((uint16_t)(d->g_dis + 0x8000u), (uint16_t)d->P,
					(uint16_t)d->Ps);
		return c ? EITHER : MUSTNOT;
	}
	return vio_need_event((uint16_t)d->drv_ev, (uint16_t)d->P, (uint16_t)d->Ps) ? MUST
										    : MUSTNOT;
}

static void check_verdict(struct df *d, const char *what, unsigned f, int verdict, bool got)
{
	d->verdicts[verdict]++;
	if (verdict == EITHER)
		return;
	DF_CHECK(d, got == (verdict == MUST),
		 "%s: %s returned %d, the model says it must %s (A %" PRIu64 " Ak %" PRIu64
		 " popped %" PRIu64 " P %" PRIu64 " Ps %" PRIu64 " G %" PRIu64 " dev %d ev %" PRIu64
		 " drv %d ev %" PRIu64 ")",
		 d->im[f].name, what, got, verdict == MUST ? "notify" : "not notify", d->A, d->Ak,
		 d->Pp, d->P, d->Ps, d->G, d->dev, d->dev_ev, d->drv, d->drv_ev);
}

/* --- operations ----------------------------------------------------------- */

static void check_state(struct df *d)
{
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct impl *im = &d->im[f];
		DF_CHECK(d, vio_vq_num_free(im->l.vq) == d->num_free, "%s: num_free %u, model %u",
			 im->name, vio_vq_num_free(im->l.vq), d->num_free);
		DF_CHECK(d, vio_vq_has_used(im->l.vq) == (d->nused > 0),
			 "%s: has_used %d, model %u", im->name, vio_vq_has_used(im->l.vq),
			 d->nused);
		DF_CHECK(d, vio_devq_has_avail(im->l.dq) == (d->navail > 0),
			 "%s: has_avail %d, model %u", im->name, vio_devq_has_avail(im->l.dq),
			 d->navail);
		DF_CHECK(d, !vio_vq_is_broken(im->l.vq) && !vio_devq_is_broken(im->l.dq),
			 "%s: broken", im->name);
	}
}

static void op_add(struct df *d)
{
	if (d->nfree_rq == 0)
		return;
	unsigned i = d->free_rq[d->nfree_rq - 1];
	struct req *r = &d->rq[i];
	unsigned maxseg = d->size < DF_MAX_SEGS ? d->size : DF_MAX_SEGS;
	r->total = loop_rng_chance(&d->rng, 60) ? loop_rng_range(&d->rng, 1, 2)
						: loop_rng_range(&d->rng, 1, maxseg);
	r->out = loop_rng_below(&d->rng, r->total + 1);
	r->in = r->total - r->out;
	r->data_seed = loop_rng_next(&d->rng);
	r->out_bytes = r->in_bytes = 0;
	for (unsigned s = 0; s < r->total; s++) {
		r->len[s] =
			loop_rng_chance(&d->rng, 10) ? 0 : loop_rng_range(&d->rng, 1, DF_SEG_MAX);
		r->off[s] = loop_rng_below(&d->rng, 8);
		if (s < r->out)
			r->out_bytes += r->len[s];
		else
			r->in_bytes += r->len[s];
	}
	bool ind = d->indirect && r->total <= d->ind_max &&
		   (r->total >= (d->ind_min ? d->ind_min : 2u) || r->total > d->num_free);
	uint16_t ndesc = (uint16_t)(ind ? 1 : r->total);
	int want = ndesc > d->num_free ? -VIO_ENOSPC : 0;

	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct impl *im = &d->im[f];
		struct vio_sg sg[DF_MAX_SEGS];
		for (unsigned s = 0; s < r->total; s++) {
			unsigned char *p = seg_ptr(im, i, r, s);
			sg[s].addr = p;
			sg[s].len = r->len[s];
			if (s < r->out)
				loop_pattern_fill(p, r->len[s], loop_mix(r->data_seed, s));
			else
				memset(p, DF_CANARY, r->len[s]);
		}
		int rc = vio_vq_add(im->l.vq, sg, r->out, r->in, &d->rq[i]);
		DF_CHECK(d, rc == want,
			 "%s: add of %u segs (ndesc %u, %u free) returned %s, model %s", im->name,
			 r->total, ndesc, d->num_free, vio_err_name(rc), vio_err_name(want));
	}
	d->ops++;
	if (want != 0)
		return;
	r->ndesc = ndesc;
	r->state = RQ_AVAIL;
	r->armed = false;
	d->nfree_rq--;
	d->num_free -= ndesc;
	d->avail[(d->avail_head + d->navail++) % 64] = i;
	grow(d);
	d->cum_a[d->A + 1] = d->cum_a[d->A] + ndesc;
	d->A++;
}

static void op_kick(struct df *d)
{
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		int v = kick_verdict(d, f);
		bool k = vio_vq_kick_prepare(d->im[f].l.vq);
		d->kick_t[f] += k;
		check_verdict(d, "kick_prepare", f, v, k);
	}
	d->Ak = d->A;
	d->ops++;
}

static void op_pop(struct df *d)
{
	struct vio_chain c;
	struct vio_chain_seg segs[DF_MAX_SEGS];
	d->ops++;
	if (d->navail == 0) {
		for (unsigned f = 0; f < DF_NIMPL; f++) {
			int rc = vio_devq_pop(d->im[f].l.dq, &c, segs, DF_MAX_SEGS);
			DF_CHECK(d, rc == -VIO_EAGAIN, "%s: pop with nothing available: %s",
				 d->im[f].name, vio_err_name(rc));
		}
		return;
	}
	unsigned i = d->avail[d->avail_head];
	struct req *r = &d->rq[i];
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct impl *im = &d->im[f];
		int rc = vio_devq_pop(im->l.dq, &c, segs, DF_MAX_SEGS);
		DF_CHECK(d, rc == 0, "%s: pop: %s", im->name, vio_err_name(rc));
		DF_CHECK(d,
			 c.nseg == r->total && c.nout == r->out && c.ndesc == r->ndesc &&
				 c.out_bytes == r->out_bytes && c.in_bytes == r->in_bytes,
			 "%s: popped chain %u segs %u out %u desc %u/%u bytes; model request %u: "
			 "%u segs %u out %u desc %u/%u bytes",
			 im->name, c.nseg, c.nout, c.ndesc, c.out_bytes, c.in_bytes, i, r->total,
			 r->out, r->ndesc, r->out_bytes, r->in_bytes);
		uint64_t h = hash_mix(im->digest, 0x90b0000u + i);
		for (unsigned s = 0; s < r->total; s++) {
			DF_CHECK(d, segs[s].len == r->len[s] && segs[s].write == (s >= r->out),
				 "%s: request %u seg %u: len %u write %d", im->name, i, s,
				 segs[s].len, segs[s].write);
			DF_CHECK(d, segs[s].ptr == (r->len[s] ? seg_ptr(im, i, r, s) : NULL),
				 "%s: request %u seg %u mapped elsewhere", im->name, i, s);
			if (s < r->out) {
				size_t bad = loop_pattern_check(segs[s].ptr, segs[s].len,
								loop_mix(r->data_seed, s));
				DF_CHECK(d, bad == segs[s].len, "%s: request %u seg %u byte %zu",
					 im->name, i, s, bad);
				h = hash_bytes(h, segs[s].ptr, segs[s].len);
			}
		}
		im->digest = h;
		im->chain[i] = c;
		memcpy(im->segs[i], segs, sizeof(segs));
	}
	/* The model's record of the same pop. */
	uint64_t h = hash_mix(d->digest, 0x90b0000u + i);
	for (unsigned s = 0; s < r->out; s++) {
		unsigned char buf[DF_SEG_MAX];
		loop_pattern_fill(buf, r->len[s], loop_mix(r->data_seed, s));
		h = hash_bytes(h, buf, r->len[s]);
	}
	d->digest = h;
	d->avail_head = (d->avail_head + 1) % 64;
	d->navail--;
	r->state = RQ_HELD;
	d->held[d->nheld++] = i;
	d->Pp++;
}

static void complete_one(struct df *d, unsigned i)
{
	struct req *r = &d->rq[i];
	unsigned pick = loop_rng_below(&d->rng, 100);
	r->written = pick < 30	 ? r->in_bytes
		     : pick < 50 ? 0
				 : loop_rng_below(&d->rng, r->in_bytes + 1);
	r->resp_seed = loop_rng_next(&d->rng);
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct impl *im = &d->im[f];
		uint32_t left = r->written;
		for (unsigned s = r->out; s < r->total && left > 0; s++) {
			uint32_t n = left < r->len[s] ? left : r->len[s];
			loop_pattern_fill(im->segs[i][s].ptr, n, loop_mix(r->resp_seed, s));
			left -= n;
		}
	}
	r->state = RQ_USED;
	d->used[(d->used_head + d->nused++) % 64] = i;
	if (r->armed) {
		r->armed = false;
		d->arm_left--;
	}
	grow(d);
	d->cum_u[d->P + 1] = d->cum_u[d->P] + r->ndesc;
	d->P++;
}

static unsigned take_held(struct df *d)
{
	unsigned k = loop_rng_below(&d->rng, d->nheld);
	unsigned i = d->held[k];
	d->held[k] = d->held[--d->nheld];
	return i;
}

static void op_push(struct df *d)
{
	if (d->nheld == 0)
		return;
	unsigned n = d->nheld == 1 || loop_rng_chance(&d->rng, 50)
			     ? 1
			     : loop_rng_range(&d->rng, 2, d->nheld < 6 ? d->nheld : 6);
	unsigned ids[6];
	for (unsigned k = 0; k < n; k++) {
		ids[k] = take_held(d);
		complete_one(d, ids[k]);
	}
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct impl *im = &d->im[f];
		int rc;
		if (n == 1) {
			rc = vio_devq_push(im->l.dq, &im->chain[ids[0]], d->rq[ids[0]].written);
		} else {
			struct vio_used u[6];
			for (unsigned k = 0; k < n; k++) {
				u[k].chain = &im->chain[ids[k]];
				u[k].len = d->rq[ids[k]].written;
			}
			rc = vio_devq_push_batch(im->l.dq, u, n);
		}
		DF_CHECK(d, rc == 0, "%s: push of %u: %s", im->name, n, vio_err_name(rc));
	}
	d->ops++;
}

static void op_get(struct df *d)
{
	d->ops++;
	if (d->nused == 0) {
		for (unsigned f = 0; f < DF_NIMPL; f++) {
			void *tok;
			uint32_t len;
			int rc = vio_vq_get(d->im[f].l.vq, &tok, &len);
			DF_CHECK(d, rc == -VIO_EAGAIN, "%s: get with nothing completed: %s",
				 d->im[f].name, vio_err_name(rc));
		}
		return;
	}
	unsigned i = d->used[d->used_head];
	struct req *r = &d->rq[i];
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct impl *im = &d->im[f];
		void *tok = NULL;
		uint32_t len = 0;
		int rc = vio_vq_get(im->l.vq, &tok, &len);
		DF_CHECK(d, rc == 0, "%s: get: %s", im->name, vio_err_name(rc));
		long ti = tok ? (long)((struct req *)tok - d->rq) : -1;
		DF_CHECK(d, ti == (long)i && len == r->written,
			 "%s: get returned (request %ld, len %u), model (request %u, len %u)",
			 im->name, ti, len, i, r->written);
		uint64_t h = hash_mix(im->digest, ((uint64_t)i << 32) | len);
		uint32_t left = len;
		for (unsigned s = r->out; s < r->total; s++) {
			const unsigned char *p = seg_ptr(im, i, r, s);
			uint32_t w = left < r->len[s] ? left : r->len[s];
			size_t bad = loop_pattern_check(p, w, loop_mix(r->resp_seed, s));
			DF_CHECK(d, bad == w, "%s: request %u seg %u: written byte %zu differs",
				 im->name, i, s, bad);
			for (uint32_t b = w; b < r->len[s]; b++)
				DF_CHECK(d, p[b] == DF_CANARY,
					 "%s: request %u seg %u byte %u changed", im->name, i, s,
					 b);
			h = hash_bytes(h, p, w);
			left -= w;
		}
		im->digest = h;
	}
	uint64_t h = hash_mix(d->digest, ((uint64_t)i << 32) | r->written);
	uint32_t left = r->written;
	for (unsigned s = r->out; s < r->total; s++) {
		unsigned char buf[DF_SEG_MAX];
		uint32_t w = left < r->len[s] ? left : r->len[s];
		loop_pattern_fill(buf, w, loop_mix(r->resp_seed, s));
		h = hash_bytes(h, buf, w);
		left -= w;
	}
	d->digest = h;
	d->used_head = (d->used_head + 1) % 64;
	d->nused--;
	d->num_free += r->ndesc;
	r->state = RQ_FREE;
	d->free_rq[d->nfree_rq++] = i;
	d->G++;
	/* Reaping re-arms the event at the next completion unless disabled. */
	if (d->drv != DRV_DISABLED) {
		d->drv_ev = d->G;
		if (d->drv == DRV_DELAYED)
			d->drv = DRV_ENABLED;
	}
	for (unsigned f = 0; f < DF_NIMPL; f++)
		d->im[f].armed = false;
}

static void op_needs_notify(struct df *d)
{
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct impl *im = &d->im[f];
		int v = intr_verdict(d, f);
		bool n = vio_devq_needs_notify(im->l.dq);
		d->intr_t[f] += n;
		check_verdict(d, "needs_notify", f, v, n);
		if (n)
			im->notified = true;
		DF_CHECK(d, !(im->armed && d->arm_left == 0 && !im->notified),
			 "%s: enable_intr_delayed returned true, every buffer outstanding then "
			 "has completed, and no notification came: lost wakeup",
			 im->name);
		if (im->armed && d->arm_left == 0)
			im->armed = false;
	}
	d->Ps = d->P;
	d->nn_called = true;
	d->ops++;
}

static void op_intr(struct df *d)
{
	unsigned what = loop_rng_below(&d->rng, 3);
	d->ops++;
	if (what == 0) {
		for (unsigned f = 0; f < DF_NIMPL; f++) {
			vio_vq_disable_intr(d->im[f].l.vq);
			d->im[f].armed = false;
		}
		if (d->drv != DRV_DISABLED)
			d->g_dis = d->G;
		d->drv = DRV_DISABLED;
		return;
	}
	if (what == 1 || !d->ei) {
		for (unsigned f = 0; f < DF_NIMPL; f++) {
			bool ok = what == 1 ? vio_vq_enable_intr(d->im[f].l.vq)
					    : vio_vq_enable_intr_delayed(d->im[f].l.vq);
			DF_CHECK(d, ok == (d->P == d->G),
				 "%s: enable_intr%s %d with %" PRIu64 " completions pending",
				 d->im[f].name, what == 1 ? "" : "_delayed", ok, d->P - d->G);
			d->im[f].armed = false;
		}
		d->drv = DRV_ENABLED;
		d->drv_ev = d->G;
		return;
	}
	/* Delayed with EVENT_IDX: arm the obligation on every outstanding
	 * buffer not yet completed. */
	d->arm_left = 0;
	for (unsigned i = 0; i < d->size; i++) {
		d->rq[i].armed = d->rq[i].state == RQ_AVAIL || d->rq[i].state == RQ_HELD;
		d->arm_left += d->rq[i].armed;
	}
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct impl *im = &d->im[f];
		bool ok = vio_vq_enable_intr_delayed(im->l.vq);
		if (!ok)
			DF_CHECK(d, d->P > d->G,
				 "%s: enable_intr_delayed false with nothing pending", im->name);
		if (ok && d->P > d->G)
			DF_CHECK(d, d->arm_left > 0,
				 "%s: enable_intr_delayed true with every outstanding buffer "
				 "already completed (%" PRIu64 " pending): lost wakeup",
				 im->name, d->P - d->G);
		im->armed = ok && d->arm_left > 0;
		im->notified = false;
	}
	d->drv = DRV_DELAYED;
}

static void op_notify_toggle(struct df *d)
{
	d->ops++;
	if (loop_rng_chance(&d->rng, 40)) {
		for (unsigned f = 0; f < DF_NIMPL; f++)
			vio_devq_disable_notify(d->im[f].l.dq);
		d->dev = DEV_DISABLED;
		return;
	}
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		bool ok = vio_devq_enable_notify(d->im[f].l.dq);
		DF_CHECK(d, ok == (d->navail == 0), "%s: enable_notify %d with %u available",
			 d->im[f].name, ok, d->navail);
	}
	d->dev = DEV_ENABLED;
	d->dev_ev = d->Pp;
}

enum {
	W_ADD,
	W_KICK,
	W_POP,
	W_PUSH,
	W_GET,
	W_NN,
	W_INTR,
	W_NOTIFY,
	W_COUNT
};

static void new_phase(struct df *d)
{
	d->w[W_ADD] = loop_rng_range(&d->rng, 5, 40);
	d->w[W_KICK] = loop_rng_range(&d->rng, 1, 20);
	d->w[W_POP] = loop_rng_range(&d->rng, 5, 40);
	d->w[W_PUSH] = loop_rng_range(&d->rng, 5, 40);
	d->w[W_GET] = loop_rng_range(&d->rng, 5, 40);
	d->w[W_NN] = loop_rng_range(&d->rng, 1, 20);
	d->w[W_INTR] = loop_rng_range(&d->rng, 0, 8);
	d->w[W_NOTIFY] = loop_rng_range(&d->rng, 0, 8);
}

static void run(uint16_t size, bool ei, bool ind, uint64_t seed, unsigned long min_adds)
{
	struct df *d = calloc(1, sizeof(*d));
	assert_non_null(d);
	g_df = d;
	d->seed = seed;
	loop_rng_seed(&d->rng, seed);
	d->size = size;
	d->ei = ei;
	d->indirect = ind;
	d->ind_max = (uint16_t)(size < 4 ? size : 4);
	d->ind_min = 0;
	d->num_free = size;
	for (unsigned i = 0; i < size; i++)
		d->free_rq[i] = size - 1 - i;
	d->nfree_rq = size;
	grow(d);
	d->cum_a[0] = d->cum_u[0] = 0;
	d->dev = DEV_INIT;
	d->drv = DRV_INIT;
	snprintf(d->what, sizeof(d->what), "size %u event_idx %d indirect %d", size, ei, ind);
	for (unsigned f = 0; f < DF_NIMPL; f++) {
		struct loop_cfg c = {0};
		c.format = f == 0 ? VIO_RING_SPLIT : VIO_RING_PACKED;
		c.size = size;
		c.features = loop_features(c.format, ei, ind);
		c.indirect_max = d->ind_max;
		c.indirect_min = d->ind_min;
		c.data_bytes = (size_t)size * DF_SLICE;
		d->im[f].name = f == 0 ? "split" : "packed";
		int rc = loop_init(&d->im[f].l, &c);
		DF_CHECK(d, rc == 0, "loop_init: %s", vio_err_name(rc));
	}

	while (d->A < min_adds) {
		if ((d->ops & 1023u) == 0)
			new_phase(d);
		unsigned sum = 0;
		for (unsigned a = 0; a < W_COUNT; a++)
			sum += d->w[a];
		unsigned x = loop_rng_below(&d->rng, sum), a = 0;
		while (x >= d->w[a])
			x -= d->w[a++];
		switch (a) {
		case W_ADD:
			op_add(d);
			break;
		case W_KICK:
			op_kick(d);
			break;
		case W_POP:
			op_pop(d);
			break;
		case W_PUSH:
			op_push(d);
			break;
		case W_GET:
			op_get(d);
			break;
		case W_NN:
			op_needs_notify(d);
			break;
		case W_INTR:
			op_intr(d);
			break;
		default:
			op_notify_toggle(d);
			break;
		}
		check_state(d);
	}
	/* Drain. */
	op_kick(d);
	while (d->navail > 0)
		op_pop(d);
	while (d->nheld > 0)
		op_push(d);
	op_needs_notify(d);
	while (d->nused > 0)
		op_get(d);
	check_state(d);
	DF_CHECK(d, d->num_free == size && d->nfree_rq == size, "not back to empty");
	for (unsigned f = 0; f < DF_NIMPL; f++)
		DF_CHECK(d, d->im[f].digest == d->digest,
			 "%s: result sequence digest 0x%016" PRIx64 ", model 0x%016" PRIx64,
			 d->im[f].name, d->im[f].digest, d->digest);
	/* The script exercised both notification outcomes. */
	DF_CHECK(d, d->verdicts[MUST] > 100 && d->verdicts[MUSTNOT] > 100, "verdicts %lu/%lu/%lu",
		 d->verdicts[MUSTNOT], d->verdicts[MUST], d->verdicts[EITHER]);
	if (getenv("VIO_TEST_VERBOSE") != NULL)
		printf("  seed 0x%" PRIx64 " %s: %lu ops, %" PRIu64 " buffers; verdicts must-not "
		       "%lu must %lu either %lu; kicks split %lu packed %lu; interrupts split %lu "
		       "packed %lu\n",
		       seed, d->what, d->ops, d->A, d->verdicts[MUSTNOT], d->verdicts[MUST],
		       d->verdicts[EITHER], d->kick_t[0], d->kick_t[1], d->intr_t[0], d->intr_t[1]);
	df_free(d);
	g_df = NULL;
}

struct df_param {
	uint16_t size;
	bool ei, ind;
};

static void test_diff_config(void **state)
{
	const struct df_param *p = *state;
	bool from_env;
	uint64_t seed = loop_seed_from_env(DF_DEFAULT_SEED, &from_env);
	/* Enough buffers to wrap the split 16-bit indices. */
	run(p->size, p->ei, p->ind, seed, 70000);
	if (from_env)
		return;
	for (unsigned k = 1; k <= 2; k++)
		run(p->size, p->ei, p->ind, loop_mix(DF_DEFAULT_SEED, k), 20000);
}

static int teardown(void **state)
{
	(void)state;
	df_free(g_df);
	g_df = NULL;
	return 0;
}

#define DF_CASE(sz, ei, ind)                                                                       \
	{                                                                                          \
		"test_diff_size" #sz "_event_idx" #ei "_indirect" #ind, test_diff_config, NULL,    \
			teardown, &(struct df_param){sz, ei, ind},                                 \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		DF_CASE(8, 0, 0),  DF_CASE(8, 0, 1),  DF_CASE(8, 1, 0),	 DF_CASE(8, 1, 1),
		DF_CASE(64, 0, 0), DF_CASE(64, 0, 1), DF_CASE(64, 1, 0), DF_CASE(64, 1, 1),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
