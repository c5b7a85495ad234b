/* SPDX-License-Identifier: MIT */
/* vhost-user in-flight tracking (vhost_user_inflight.h), both ring formats,
 * over the real driver half (loop): region sizes and set-up; a device queue
 * journaling into its part that "crashes" (its memory is abandoned, guest
 * memory and the region are kept) at every boundary between journal steps
 * and ring publication, a new queue attached to the same part and memory
 * re-submitting exactly the chains left in flight, in pop order, and the
 * driver receiving every completion exactly once with the right length; a
 * seeded randomized version with several crashes; hostile parts. Crashes
 * are injected white-box: the test wraps the queue's journal (devq_impl.h)
 * and longjmps out of a callback, as if the process died there. */
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
#include "loop.h"
#include "ring/devq_impl.h"

#define QSIZE 16
#define NTOK 256 /* buffers over a whole test */
#define SLOT 256 /* data bytes per buffer */
#define WLEN 64	 /* writable bytes per buffer */
#define MAXSEGS 4
#define ORIG_LEN(k) ((uint32_t)(1u + (k) % 31u))   /* lengths pushed before a crash */
#define RESUB_LEN(k) ((uint32_t)(33u + (k) % 31u)) /* ... after */

/* Boundaries where a crash can be injected, around each journal call. */
enum point {
	P_DESC_BEFORE,
	P_DESC_AFTER,
	P_POP_BEFORE,
	P_POP_AFTER,
	P_BEGIN_BEFORE,
	P_BEGIN_AFTER,
	P_END_BEFORE,
	P_END_AFTER,
};

struct held {
	struct vio_chain c;
	struct vio_chain_seg s[MAXSEGS];
	unsigned k;
};

struct fx {
	enum vio_ring_format fmt;
	/* The randomized test's current seed: the teardown prints it when a
	 * round did not finish (any failed assertion). */
	bool round_active;
	uint64_t round_seed;
	bool indirect; /* kept by env_init: chosen before it */
	bool in_order;
	struct loop l;
	unsigned char *region;
	uint64_t region_len;
	void *part;
	uint64_t part_len;
	void *iqmem;
	size_t iqmem_size;
	struct vio_vhost_user_inflight_queue *iq;
	struct vio_vhost_user_inflight_info info;

	/* Driver view. */
	int tok[NTOK];
	unsigned ntok;	    /* buffers added so far */
	unsigned got[NTOK]; /* completions the driver took */
	uint32_t got_len[NTOK];
	/* Device view, as the ring saw it. */
	bool committed[NTOK]; /* the journal recorded its pop */
	bool published[NTOK]; /* its completion was published */
	uint32_t pub_len[NTOK];
	uint64_t pop_seq[NTOK]; /* order of the recorded pops */
	uint64_t seq;
	struct held h[QSIZE + 1];
	unsigned nheld;

	/* Crash injection. */
	struct vio_devq_journal wrap;
	const struct vio_devq_journal *orig;
	void *orig_ctx;
	unsigned events, crash_at; /* crash at event number crash_at (0: never) */
	enum point crashed_at;
	jmp_buf jb;
};

static unsigned key_of(const struct fx *f, const struct vio_chain *c)
{
	const unsigned char *p = c->segs[c->nseg - 1u].ptr;
	return (unsigned)((size_t)(p - f->l.data) / SLOT);
}

/* ---- Crash-injecting journal wrapper ---------------------------------------- */

static void boundary(struct fx *f, enum point p)
{
	f->events++;
	if (f->crash_at != 0 && f->events == f->crash_at) {
		f->crashed_at = p;
		longjmp(f->jb, 1);
	}
}

static void w_desc(void *ctx, uint16_t k, const struct vio_devq_journal_desc *d)
{
	struct fx *f = ctx;
	boundary(f, P_DESC_BEFORE);
	f->orig->pop_desc(f->orig_ctx, k, d);
	boundary(f, P_DESC_AFTER);
}

static int w_pop(void *ctx, const struct vio_chain *c)
{
	struct fx *f = ctx;
	boundary(f, P_POP_BEFORE);
	int rc = f->orig->pop(f->orig_ctx, c);
	if (rc == 0) {
		unsigned k = key_of(f, c);
		f->committed[k] = true;
		f->pop_seq[k] = f->seq++;
	}
	boundary(f, P_POP_AFTER);
	return rc;
}

static void w_begin(void *ctx, const struct vio_used *u, unsigned n,
		    const struct vio_ring_state *after)
{
	struct fx *f = ctx;
	boundary(f, P_BEGIN_BEFORE);
	f->orig->push_begin(f->orig_ctx, u, n, after);
	boundary(f, P_BEGIN_AFTER);
}

static void w_end(void *ctx, const struct vio_used *u, unsigned n,
		  const struct vio_ring_state *after)
{
	struct fx *f = ctx;
	/* The batch is published when push_end is called. */
	for (unsigned i = 0; i < n; i++) {
		unsigned k = key_of(f, u[i].chain);
		assert_false(f->published[k]);
		f->published[k] = true;
		/* In order: earlier chains count as wholly written. */
		f->pub_len[k] = f->in_order && i + 1 < n ? u[i].chain->in_bytes : u[i].len;
	}
	boundary(f, P_END_BEFORE);
	f->orig->push_end(f->orig_ctx, u, n, after);
	boundary(f, P_END_AFTER);
}

static void w_reset(void *ctx)
{
	struct fx *f = ctx;
	f->orig->reset(f->orig_ctx);
}

/* Put the wrapper between the queue and the module's journal. */
static void wrap_journal(struct fx *f)
{
	struct vio_devq *q = f->l.dq;
	assert_non_null(q->journal);
	f->orig = q->journal;
	f->orig_ctx = q->journal_ctx;
	f->wrap = (struct vio_devq_journal){f->orig->pop_desc ? w_desc : NULL, w_pop, w_begin,
					    w_end, w_reset};
	q->journal = &f->wrap;
	q->journal_ctx = f;
}

/* ---- Fixture ------------------------------------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	*state = f;
	return 0;
}

static void env_fini(struct fx *f)
{
	loop_fini(&f->l);
	free(f->region);
	free(f->iqmem);
	f->region = NULL;
	f->iqmem = NULL;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->round_active)
		print_error("failed with seed 0x%" PRIx64
			    " (rerun that round: VIO_TEST_SEED=0x%" PRIx64 ")\n",
			    f->round_seed, f->round_seed);
	env_fini(f);
	free(f);
	return 0;
}

static void *alloc64(size_t n)
{
	void *p = aligned_alloc(64, (n + 63u) & ~(size_t)63u);
	assert_non_null(p);
	return p;
}

/* Attach the module to the current device queue (after a "restart"). */
static int attach(struct fx *f)
{
	return vio_vhost_user_inflight_attach(&f->iq, f->iqmem, f->iqmem_size, f->part, f->part_len,
					      f->l.dq, NULL, &f->info);
}

/* A loop, a region of 2 queues initialised as GET_INFLIGHT_FD would, queue
 * 1's part attached to the device queue. */
static void env_init(struct fx *f, bool in_order)
{
	enum vio_ring_format fmt = f->fmt;
	memset((char *)f + offsetof(struct fx, in_order), 0,
	       sizeof(*f) - offsetof(struct fx, in_order));
	f->in_order = in_order;
	struct loop_cfg lc = {fmt, QSIZE, 0,	 loop_features(fmt, false, f->indirect),
			      0,   0,	  false, NTOK * SLOT};
	if (in_order)
		vio_features_set(&lc.features, VIO_F_IN_ORDER);
	assert_err(loop_init(&f->l, &lc), 0);
	f->region_len = vio_vhost_user_inflight_size(fmt, 2, QSIZE);
	f->region = alloc64((size_t)f->region_len);
	memset(f->region, 0xee, (size_t)f->region_len);
	assert_err(vio_vhost_user_inflight_init(f->region, f->region_len, fmt, 2, QSIZE), 0);
	f->part = vio_vhost_user_inflight_queue_region(f->region, f->region_len, fmt, QSIZE, 1,
						       &f->part_len);
	assert_non_null(f->part);
	f->iqmem_size = vio_vhost_user_inflight_mem_size(fmt, QSIZE);
	f->iqmem = alloc64(f->iqmem_size);
	assert_err(attach(f), 0);
	assert_true(f->info.fresh);
	assert_int_equal(f->info.resubmit, 0);
	wrap_journal(f);
}

/* ---- Driver and device actions ------------------------------------------------- */

/* The driver adds a buffer: @nout readable segments of 16 bytes, one
 * writable of WLEN. False if the ring is full. */
static bool drv_add(struct fx *f, unsigned nout)
{
	assert_true(f->ntok < NTOK);
	unsigned k = f->ntok;
	struct vio_sg sg[MAXSEGS];
	for (unsigned i = 0; i < nout; i++)
		sg[i] = (struct vio_sg){f->l.data + SLOT * k + 32 * i, 16};
	sg[nout] = (struct vio_sg){f->l.data + SLOT * k + 128, WLEN};
	int rc = vio_vq_add(f->l.vq, sg, nout, 1, &f->tok[k]);
	if (rc == -VIO_ENOSPC)
		return false;
	assert_err(rc, 0);
	f->ntok++;
	return true;
}

static void drv_drain(struct fx *f)
{
	void *tok;
	uint32_t len;
	int rc;
	while ((rc = vio_vq_get(f->l.vq, &tok, &len)) == 0) {
		unsigned k = (unsigned)((int *)tok - f->tok);
		assert_true(k < f->ntok);
		f->got[k]++;
		f->got_len[k] = len;
	}
	assert_err(rc, -VIO_EAGAIN);
	assert_false(vio_vq_is_broken(f->l.vq));
}

/* The device pops one chain; false if none. */
static bool dev_pop(struct fx *f)
{
	assert_true(f->nheld <= QSIZE);
	struct held *h = &f->h[f->nheld];
	int rc = vio_devq_pop(f->l.dq, &h->c, h->s, MAXSEGS);
	if (rc == -VIO_EAGAIN)
		return false;
	assert_err(rc, 0);
	h->k = key_of(f, &h->c);
	f->nheld++;
	return true;
}

static void take_held(struct fx *f, unsigned i)
{
	f->h[i] = f->h[--f->nheld];
	f->h[i].c.segs = f->h[i].s; /* the chain names its own segment array */
}

/* Complete held chains idx[0..n) with their ORIG/RESUB length: one push
 * (n == 1), a batch, or (in order) one in-order batch. */
static void dev_push(struct fx *f, const unsigned *idx, unsigned n, bool resub)
{
	struct vio_used u[QSIZE];
	memset(u, 0, sizeof(u)); /* gcc -O2: "may be used uninitialized" */
	for (unsigned i = 0; i < n; i++) {
		const struct held *h = &f->h[idx[i]];
		u[i] = (struct vio_used){&h->c, resub ? RESUB_LEN(h->k) : ORIG_LEN(h->k)};
	}
	if (f->in_order)
		assert_err(vio_devq_push_in_order(f->l.dq, u, n), 0);
	else if (n == 1)
		assert_err(vio_devq_push(f->l.dq, u[0].chain, u[0].len), 0);
	else
		assert_err(vio_devq_push_batch(f->l.dq, u, n), 0);
	/* Remove highest index first so the others stay valid. */
	unsigned sorted[QSIZE];
	memcpy(sorted, idx, n * sizeof(*idx));
	for (unsigned i = 0; i < n; i++)
		for (unsigned j = i + 1; j < n; j++)
			if (sorted[j] > sorted[i]) {
				unsigned t = sorted[i];
				sorted[i] = sorted[j];
				sorted[j] = t;
			}
	for (unsigned i = 0; i < n; i++)
		take_held(f, sorted[i]);
}

/* Held indices of the first @n chains in pop order (in-order batches). */
static unsigned oldest(const struct fx *f, unsigned *idx, unsigned n)
{
	unsigned m = 0;
	bool used[QSIZE] = {false};
	for (; m < n && m < f->nheld; m++) {
		unsigned best = QSIZE;
		for (unsigned i = 0; i < f->nheld; i++)
			if (!used[i] &&
			    (best == QSIZE || f->pop_seq[f->h[i].k] < f->pop_seq[f->h[best].k]))
				best = i;
		used[best] = true;
		idx[m] = best;
	}
	return m;
}

/* ---- Crash and recovery --------------------------------------------------------- */

/* The process died: its queue memory is gone (reinit gives new memory).
 * The new one attaches, re-submits, and completes everything; the driver
 * must then have every buffer exactly once with the length of the push
 * that was published. @why names the case in failure messages. */
static void recover_and_check(struct fx *f, const char *why)
{
	f->nheld = 0;
	f->crash_at = 0;
	assert_err(loop_devq_reinit(&f->l), 0);
	int rc = attach(f);
	if (rc != 0)
		fail_msg("%s: attach = %s", why, vio_err_name(rc));
	/* Exactly the recorded, unpublished chains, in pop order. */
	unsigned want = 0;
	for (unsigned k = 0; k < f->ntok; k++)
		want += f->committed[k] && !f->published[k];
	if (f->info.resubmit != want)
		fail_msg("%s: %u to re-submit, expected %u", why, f->info.resubmit, want);
	wrap_journal(f);
	uint64_t last_seq = 0;
	bool first = true;
	for (;;) {
		struct held *h = &f->h[f->nheld];
		rc = vio_vhost_user_inflight_resubmit(f->iq, f->l.dq, &h->c, h->s, MAXSEGS);
		if (rc == -VIO_EAGAIN)
			break;
		if (rc != 0)
			fail_msg("%s: resubmit = %s", why, vio_err_name(rc));
		h->k = key_of(f, &h->c);
		if (!f->committed[h->k] || f->published[h->k])
			fail_msg("%s: re-submitted buffer %u (committed %d published %d)", why,
				 h->k, f->committed[h->k], f->published[h->k]);
		if (!first && f->pop_seq[h->k] <= last_seq)
			fail_msg("%s: re-submitted out of pop order", why);
		assert_int_equal(h->c.in_bytes, WLEN);
		last_seq = f->pop_seq[h->k];
		first = false;
		f->nheld++;
	}
	assert_int_equal(f->nheld, want);
	/* The rest is taken from the ring as usual. */
	while (dev_pop(f)) {
		struct held *h = &f->h[f->nheld - 1u];
		if (f->published[h->k])
			fail_msg("%s: buffer %u popped again after its completion", why, h->k);
	}
	/* Complete all, most in one batch. */
	unsigned idx[QSIZE];
	while (f->nheld != 0) {
		unsigned n = f->in_order ? oldest(f, idx, 3) : 0;
		if (!f->in_order) {
			n = f->nheld < 3 ? f->nheld : 3;
			for (unsigned i = 0; i < n; i++)
				idx[i] = i;
		}
		dev_push(f, idx, n, true);
	}
	drv_drain(f);
	for (unsigned k = 0; k < f->ntok; k++) {
		if (f->got[k] != 1)
			fail_msg("%s: buffer %u completed %u times", why, k, f->got[k]);
		if (f->got_len[k] != f->pub_len[k])
			fail_msg("%s: buffer %u length %u, expected %u", why, k, f->got_len[k],
				 f->pub_len[k]);
	}
	assert_false(vio_devq_is_broken(f->l.dq));
}

/* ---- Sizes and set-up -------------------------------------------------------------- */

static uint64_t up64(uint64_t v)
{
	return (v + 63u) / 64u * 64u;
}

static void test_inflight_sizes_match_peers(void **state)
{
	(void)state;
	for (uint32_t n = 1; n <= 32768; n++) {
		uint64_t s = vio_vhost_user_inflight_queue_size(VIO_RING_SPLIT, (uint16_t)n);
		uint64_t p = vio_vhost_user_inflight_queue_size(VIO_RING_PACKED, (uint16_t)n);
		/* libvhost-user (split) and DPDK (both). */
		assert_true(s == up64(16u * n + 2u));
		assert_true(s == up64(16u * n + 8u + 2u * 4u));
		assert_true(p == up64(32u * n + 8u + 2u * 6u + 9u));
		assert_true(s >= 16u + 16u * n && p >= 32u + 32u * n);
		assert_true(s % 64u == 0 && p % 64u == 0);
	}
	assert_true(vio_vhost_user_inflight_queue_size(VIO_RING_SPLIT, 128) == 2112);
	assert_true(vio_vhost_user_inflight_queue_size(VIO_RING_PACKED, 256) == 8256);
	assert_true(vio_vhost_user_inflight_queue_size(VIO_RING_SPLIT, 0) == 0);
	assert_true(vio_vhost_user_inflight_size(VIO_RING_SPLIT, 4, 128) == 4 * 2112);
	assert_true(vio_vhost_user_inflight_size(VIO_RING_PACKED, 0, 128) == 0);
	assert_true(vio_vhost_user_inflight_size(VIO_RING_SPLIT, 1, 0) == 0);
	assert_true(vio_vhost_user_inflight_mem_size(VIO_RING_SPLIT, 0) == 0);
	assert_true(vio_vhost_user_inflight_mem_size(VIO_RING_PACKED, 8) != 0);
}

static void test_inflight_init_check_and_parts(void **state)
{
	struct fx *f = *state;
	uint64_t per = vio_vhost_user_inflight_queue_size(f->fmt, QSIZE);
	uint64_t len = vio_vhost_user_inflight_size(f->fmt, 3, QSIZE);
	unsigned char *r = alloc64((size_t)len + 64);
	memset(r, 0xee, (size_t)len + 64);
	assert_err(vio_vhost_user_inflight_init(r, len - 1, f->fmt, 3, QSIZE), -VIO_EINVAL);
	assert_err(vio_vhost_user_inflight_init(r + 4, len, f->fmt, 3, QSIZE), -VIO_EINVAL);
	assert_err(vio_vhost_user_inflight_init(NULL, len, f->fmt, 3, QSIZE), -VIO_EINVAL);
	assert_err(vio_vhost_user_inflight_init(r, len, f->fmt, 0, QSIZE), -VIO_EINVAL);
	assert_err(vio_vhost_user_inflight_init(r, len, f->fmt, 3, QSIZE), 0);
	for (unsigned q = 0; q < 3; q++) {
		uint64_t pl = 0;
		unsigned char *p = vio_vhost_user_inflight_queue_region(r, len, f->fmt, QSIZE,
									(uint16_t)q, &pl);
		assert_ptr_equal(p, r + per * q);
		assert_true(pl == per);
		if (f->fmt == VIO_RING_SPLIT) {
			const struct vio_vhost_user_inflight_split *h = (const void *)p;
			assert_int_equal(h->version, 0);
			assert_int_equal(h->desc_num, QSIZE);
			const struct vio_vhost_user_inflight_split_desc *d = (const void *)(h + 1);
			for (unsigned i = 0; i < QSIZE; i++)
				assert_int_equal(d[i].inflight, 0);
		} else {
			const struct vio_vhost_user_inflight_packed *h = (const void *)p;
			assert_int_equal(h->version, 0);
			assert_int_equal(h->desc_num, QSIZE);
			assert_int_equal(h->free_head, 0);
			assert_int_equal(h->used_wrap_counter, 1);
			assert_int_equal(h->old_used_wrap_counter, 1);
			const struct vio_vhost_user_inflight_packed_desc *d = (const void *)(h + 1);
			for (unsigned i = 0; i < QSIZE; i++)
				assert_int_equal(d[i].next, i + 1);
		}
	}
	/* Past the parts: untouched. */
	assert_int_equal(r[len], 0xee);
	assert_null(vio_vhost_user_inflight_queue_region(r, len, f->fmt, QSIZE, 3, NULL));
	assert_null(vio_vhost_user_inflight_queue_region(r, len - 1, f->fmt, QSIZE, 2, NULL));
	assert_null(vio_vhost_user_inflight_queue_region(r, len, f->fmt, 0, 0, NULL));

	struct vio_vhost_user_inflight m = {len, 0, 3, QSIZE};
	assert_err(vio_vhost_user_inflight_check(&m, f->fmt, 3), 0);
	assert_err(vio_vhost_user_inflight_check(&m, f->fmt, 2), -VIO_EINFLIGHT_HEADER);
	m.mmap_size = len - 1;
	assert_err(vio_vhost_user_inflight_check(&m, f->fmt, 3), -VIO_EINFLIGHT_HEADER);
	m = (struct vio_vhost_user_inflight){len, 0, 0, QSIZE};
	assert_err(vio_vhost_user_inflight_check(&m, f->fmt, 3), -VIO_EINFLIGHT_HEADER);
	m = (struct vio_vhost_user_inflight){UINT64_MAX, 0, 1, 0};
	assert_err(vio_vhost_user_inflight_check(&m, f->fmt, 3), -VIO_EINFLIGHT_HEADER);
	assert_err(vio_vhost_user_inflight_check(NULL, f->fmt, 3), -VIO_EINFLIGHT_HEADER);
	free(r);
}

static void test_inflight_attach_misuse(void **state)
{
	struct fx *f = *state;
	env_init(f, false);
	struct vio_vhost_user_inflight_queue *iq;
	/* Already journaled by env_init: chains in flight make attach refuse. */
	assert_true(drv_add(f, 0));
	assert_true(dev_pop(f));
	assert_err(vio_vhost_user_inflight_attach(&iq, f->iqmem, f->iqmem_size, f->part,
						  f->part_len, f->l.dq, NULL, NULL),
		   -VIO_EINVAL);
	assert_err(vio_vhost_user_inflight_detach(f->iq, f->l.dq), -VIO_EINVAL);
	assert_err(vio_devq_drop(f->l.dq, &f->h[0].c), 0);
	assert_err(loop_devq_reinit(&f->l), 0);
	assert_err(vio_vhost_user_inflight_attach(&iq, f->iqmem, f->iqmem_size - 1, f->part,
						  f->part_len, f->l.dq, NULL, NULL),
		   -VIO_EINVAL);
	assert_err(vio_vhost_user_inflight_attach(&iq, (char *)f->iqmem + 4, f->iqmem_size, f->part,
						  f->part_len, f->l.dq, NULL, NULL),
		   -VIO_EINVAL);
	assert_err(vio_vhost_user_inflight_attach(&iq, f->iqmem, f->iqmem_size, f->part,
						  f->part_len / 2, f->l.dq, NULL, NULL),
		   -VIO_EINFLIGHT_HEADER);
	assert_err(vio_vhost_user_inflight_attach(NULL, f->iqmem, f->iqmem_size, f->part,
						  f->part_len, f->l.dq, NULL, NULL),
		   -VIO_EINVAL);
	/* The dropped chain was recorded: it comes back. */
	assert_err(attach(f), 0);
	assert_int_equal(f->info.resubmit, 1);
	struct held *h = &f->h[0];
	assert_err(vio_vhost_user_inflight_resubmit(f->iq, f->l.dq, &h->c, h->s, MAXSEGS), 0);
	assert_err(vio_vhost_user_inflight_resubmit(f->iq, f->l.dq, &h->c, h->s, MAXSEGS),
		   -VIO_EAGAIN);
	assert_err(vio_devq_push(f->l.dq, &h->c, 5), 0);
	assert_err(vio_vhost_user_inflight_detach(f->iq, f->l.dq), 0);
	assert_null(f->l.dq->journal);
}

/* ---- The crash scenario, at every boundary ---------------------------------------- */

/* A fixed scenario; a crash anywhere in it longjmps to the caller's
 * setjmp. Returns normally if it ran to its end. */
static void scenario(struct fx *f)
{
	unsigned idx[QSIZE];
	for (unsigned k = 0; k < 6; k++)
		assert_true(drv_add(f, k % 3));
	for (unsigned k = 0; k < 4; k++)
		assert_true(dev_pop(f));
	if (f->in_order) {
		dev_push(f, idx, oldest(f, idx, 1), false);
		drv_drain(f);
		dev_push(f, idx, oldest(f, idx, 2), false);
	} else {
		idx[0] = 2;
		dev_push(f, idx, 1, false); /* out of order */
		drv_drain(f);
		idx[0] = 2;
		idx[1] = 0;
		dev_push(f, idx, 2, false);
	}
	assert_true(drv_add(f, 2));
	while (dev_pop(f))
		;
	unsigned n = f->in_order ? oldest(f, idx, 2) : 2;
	if (!f->in_order) {
		idx[0] = 3;
		idx[1] = 1;
	}
	dev_push(f, idx, n, false);
}

static void crash_everywhere(struct fx *f, bool in_order)
{
	/* Count the boundaries of a run without a crash. */
	env_init(f, in_order);
	if (setjmp(f->jb) != 0)
		fail_msg("crashed without being asked to");
	scenario(f);
	unsigned total = f->events;
	assert_true(total > 10);
	recover_and_check(f, "no crash");
	env_fini(f);
	/* volatile: live across the longjmp of a simulated crash. */
	volatile unsigned seen_points = 0;
	for (volatile unsigned at = 1; at <= total; at++) {
		env_init(f, in_order);
		f->crash_at = at;
		if (setjmp(f->jb) == 0) {
			scenario(f);
			fail_msg("no crash at boundary %u of %u", at, total);
		}
		seen_points |= 1u << f->crashed_at;
		/* The driver goes on meanwhile: it takes what was published
		 * and offers one more buffer. */
		drv_drain(f);
		assert_true(drv_add(f, 1));
		char why[64];
		snprintf(why, sizeof(why), "crash at boundary %u (point %d)", at, f->crashed_at);
		recover_and_check(f, why);
		env_fini(f);
	}
	unsigned want = (1u << P_POP_BEFORE) | (1u << P_POP_AFTER) | (1u << P_BEGIN_BEFORE) |
			(1u << P_BEGIN_AFTER) | (1u << P_END_BEFORE) | (1u << P_END_AFTER);
	if (f->fmt == VIO_RING_PACKED)
		want |= (1u << P_DESC_BEFORE) | (1u << P_DESC_AFTER);
	assert_int_equal(seen_points & want, want);
	env_init(f, false); /* for the teardown */
}

static void test_inflight_crash_every_boundary(void **state)
{
	crash_everywhere(*state, false);
}

static void test_inflight_crash_every_boundary_in_order(void **state)
{
	crash_everywhere(*state, true);
}

/* Crashes inside a journal step, between two of its stores: the states a
 * crash there leaves, made by hand from the state at the step's start. */
static void test_inflight_crash_inside_steps(void **state)
{
	struct fx *f = *state;
	for (volatile unsigned variant = 0; variant < 3; variant++) {
		/* Crash at the first push_end: the batch (one chain) is
		 * published, push_end has not run. */
		for (volatile unsigned probe = 1;; probe++) {
			env_init(f, false);
			f->crash_at = probe;
			if (setjmp(f->jb) == 0)
				scenario(f);
			if (f->crashed_at == P_END_BEFORE)
				break;
			env_fini(f);
			assert_true(probe < 1000);
		}
		/* Then part of push_end, by hand: variant 0 none of it, 1 the
		 * in-flight mark cleared, 2 (split) all of it / (packed) all
		 * but old_used_idx, the commit point. */
		if (f->fmt == VIO_RING_SPLIT) {
			struct vio_vhost_user_inflight_split *h = f->part;
			struct vio_vhost_user_inflight_split_desc *d = (void *)(h + 1);
			if (variant >= 1)
				d[h->last_batch_head].inflight = 0;
			if (variant == 2)
				h->used_idx = (uint16_t)(h->used_idx + 1u);
		} else {
			struct vio_vhost_user_inflight_packed *h = f->part;
			struct vio_vhost_user_inflight_packed_desc *d = (void *)(h + 1);
			if (variant >= 1)
				d[h->free_head].inflight = 0; /* the batch's head */
			if (variant == 2) {
				h->old_free_head = h->free_head;
				h->old_used_wrap_counter = h->used_wrap_counter;
			}
		}
		drv_drain(f);
		char why[64];
		snprintf(why, sizeof(why), "inside push_end, variant %u", variant);
		recover_and_check(f, why);
		assert_int_equal(f->info.fixed_up, f->fmt == VIO_RING_PACKED || variant != 2);
		env_fini(f);
	}
	env_init(f, false);
}

/* ---- Seeded randomized crashes ---------------------------------------------------- */

static void random_ops(struct fx *f, struct loop_rng *r, unsigned steps)
{
	unsigned idx[QSIZE];
	for (unsigned s = 0; s < steps; s++) {
		unsigned op = loop_rng_below(r, 10);
		if (op < 3 && f->ntok < NTOK - 8) {
			(void)drv_add(f, loop_rng_below(r, 3));
		} else if (op < 6) {
			(void)dev_pop(f);
		} else if (op < 9 && f->nheld != 0) {
			unsigned n = 1 + loop_rng_below(r, f->nheld < 4 ? f->nheld : 4);
			if (f->in_order) {
				n = oldest(f, idx, n);
			} else {
				/* n distinct held chains, random. */
				bool pick[QSIZE] = {false};
				for (unsigned i = 0; i < n; i++) {
					unsigned j = loop_rng_below(r, f->nheld);
					while (pick[j])
						j = (j + 1) % f->nheld;
					pick[j] = true;
					idx[i] = j;
				}
			}
			dev_push(f, idx, n, false);
		} else {
			drv_drain(f);
		}
	}
}

static void test_inflight_random_crashes(void **state)
{
	struct fx *f = *state;
	bool from_env = false;
	uint64_t seed0 = loop_seed_from_env(0x1f1e5eedu, &from_env);
	unsigned rounds = (unsigned)loop_env_count("VIO_TEST_ROUNDS", 150);
	for (unsigned round = 0; round < rounds; round++) {
		/* VIO_TEST_SEED names one round's seed (the one a failure prints). */
		volatile uint64_t seed =
			from_env ? seed0
				 : loop_mix(seed0, round * 2u + (f->fmt == VIO_RING_PACKED));
		if (from_env && round > 0)
			break;
		struct loop_rng r;
		loop_rng_seed(&r, seed);
		f->round_active = true;
		f->round_seed = seed;
		bool in_order = loop_rng_chance(&r, 25);
		f->indirect = loop_rng_chance(&r, 40);
		env_init(f, in_order);
		/* Several lives: each crashes somewhere, the next recovers. */
		unsigned lives = 1 + loop_rng_below(&r, 3);
		for (volatile unsigned life = 0; life < lives; life++) {
			f->crash_at = f->events + 1 + loop_rng_below(&r, 60);
			if (setjmp(f->jb) == 0)
				random_ops(f, &r, 80);
			f->crash_at = 0;
			drv_drain(f);
			if (f->ntok < NTOK - 8)
				(void)drv_add(f, 0);
			/* Recover (checks every completion so far) and go on. */
			char why[96];
			snprintf(why, sizeof(why), "seed 0x%" PRIx64 " (round %u, life %u)", seed,
				 round, life);
			recover_and_check(f, why);
			if (f->ntok >= NTOK - 16)
				break;
		}
		env_fini(f);
	}
	f->indirect = false;
	f->round_active = false;
	env_init(f, false);
}

/* ---- Hostile parts ----------------------------------------------------------------- */

/* A part with chains in flight: 6 buffers popped, 2 completed. */
static void prepare_inflight(struct fx *f)
{
	env_init(f, false);
	for (unsigned k = 0; k < 6; k++)
		assert_true(drv_add(f, k % 3));
	while (dev_pop(f))
		;
	unsigned idx[2] = {4, 1};
	dev_push(f, idx, 2, false);
}

typedef void (*corrupt_fn)(struct fx *f, void *part);

/* Corrupt a copy of the crashed part; attach must fail with @want, leave
 * the part as it was and the queue without a journal. */
static void expect_refused(struct fx *f, const unsigned char *good, corrupt_fn fn, int want,
			   const char *what)
{
	memcpy(f->part, good, (size_t)f->part_len);
	fn(f, f->part);
	unsigned char *copy = malloc((size_t)f->part_len);
	assert_non_null(copy);
	memcpy(copy, f->part, (size_t)f->part_len);
	assert_err(loop_devq_reinit(&f->l), 0);
	int rc = attach(f);
	if (rc != want)
		fail_msg("%s: attach = %s, expected %s", what, vio_err_name(rc),
			 vio_err_name(want));
	if (memcmp(copy, f->part, (size_t)f->part_len) != 0)
		fail_msg("%s: the part was written", what);
	assert_null(f->l.dq->journal);
	free(copy);
}

#define SPL(p) ((struct vio_vhost_user_inflight_split *)(p))
#define SPD(p) ((struct vio_vhost_user_inflight_split_desc *)(void *)(SPL(p) + 1))
#define PKH(p) ((struct vio_vhost_user_inflight_packed *)(p))
#define PKD(p) ((struct vio_vhost_user_inflight_packed_desc *)(void *)(PKH(p) + 1))

/* The in-flight heads (entries marked in flight), for the corruptions. */
static unsigned heads(const struct fx *f, const void *part, uint16_t *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < QSIZE; i++) {
		uint8_t fl =
			f->fmt == VIO_RING_SPLIT ? SPD(part)[i].inflight : PKD(part)[i].inflight;
		if (fl)
			out[n++] = (uint16_t)i;
	}
	return n;
}

static void c_version(struct fx *f, void *p)
{
	if (f->fmt == VIO_RING_SPLIT)
		SPL(p)->version = 2;
	else
		PKH(p)->version = 7;
}

static void c_desc_num(struct fx *f, void *p)
{
	if (f->fmt == VIO_RING_SPLIT)
		SPL(p)->desc_num = QSIZE / 2;
	else
		PKH(p)->desc_num = QSIZE + 1;
}

static void c_mark(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	assert_true(heads(f, p, h) > 0);
	if (f->fmt == VIO_RING_SPLIT)
		SPD(p)[h[0]].inflight = 2;
	else
		PKD(p)[h[0]].inflight = 0x80;
}

static void c_same_counter(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	assert_true(heads(f, p, h) >= 2);
	if (f->fmt == VIO_RING_SPLIT)
		SPD(p)[h[1]].counter = SPD(p)[h[0]].counter;
	else
		PKD(p)[h[1]].counter = PKD(p)[h[0]].counter;
}

/* Split only. */
static void c_batch_too_big(struct fx *f, void *p)
{
	(void)f;
	SPL(p)->used_idx = (uint16_t)(SPL(p)->used_idx - QSIZE - 1u);
}

static void c_batch_loop(struct fx *f, void *p)
{
	(void)f;
	SPL(p)->used_idx = (uint16_t)(SPL(p)->used_idx - 3u);
	SPD(p)[SPL(p)->last_batch_head].next = SPL(p)->last_batch_head;
}

static void c_batch_range(struct fx *f, void *p)
{
	(void)f;
	SPL(p)->used_idx = (uint16_t)(SPL(p)->used_idx - 2u);
	SPL(p)->last_batch_head = QSIZE;
}

/* Packed only. */
static void c_free_head(struct fx *f, void *p)
{
	(void)f;
	PKH(p)->old_free_head = QSIZE + 1;
}

static void c_used_idx(struct fx *f, void *p)
{
	(void)f;
	PKH(p)->old_used_idx = QSIZE;
	PKH(p)->used_idx = QSIZE;
}

static void c_wrap(struct fx *f, void *p)
{
	(void)f;
	PKH(p)->old_used_wrap_counter = 2;
}

static void c_free_loop(struct fx *f, void *p)
{
	(void)f;
	uint16_t i = PKH(p)->free_head;
	PKD(p)[PKD(p)[i].next].next = i;
}

static void c_num_zero(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	heads(f, p, h);
	PKD(p)[h[0]].num = 0;
}

static void c_num_huge(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	heads(f, p, h);
	PKD(p)[h[0]].num = 0xffff;
}

static void c_last_wrong(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	heads(f, p, h);
	PKD(p)[h[0]].last = (uint16_t)((PKD(p)[h[0]].last + 1u) % QSIZE);
}

static void c_last_range(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	heads(f, p, h);
	PKD(p)[h[0]].last = 0xfff0;
}

static void c_chain_into_free(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	unsigned n = heads(f, p, h);
	for (unsigned i = 0; i < n; i++)
		if (PKD(p)[h[i]].num > 1) {
			PKD(p)[h[i]].last = PKH(p)->free_head;
			PKD(p)[h[i]].num = 2;
			PKD(p)[h[i]].next = PKH(p)->free_head;
			return;
		}
	fail_msg("no chain of several descriptors");
}

static void c_chains_share(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	unsigned n = heads(f, p, h);
	assert_true(n >= 2);
	PKD(p)[h[1]].num = 2;
	PKD(p)[h[1]].next = h[0];
	PKD(p)[h[1]].last = h[0];
}

static void c_dup_id(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	unsigned n = heads(f, p, h);
	assert_true(n >= 2);
	PKD(p)[PKD(p)[h[1]].last].id = PKD(p)[PKD(p)[h[0]].last].id;
}

static void c_id_range(struct fx *f, void *p)
{
	uint16_t h[QSIZE];
	heads(f, p, h);
	PKD(p)[PKD(p)[h[0]].last].id = QSIZE;
}

static void test_inflight_hostile_parts(void **state)
{
	struct fx *f = *state;
	prepare_inflight(f);
	unsigned char *good = malloc((size_t)f->part_len);
	assert_non_null(good);
	memcpy(good, f->part, (size_t)f->part_len);
	expect_refused(f, good, c_version, -VIO_EINFLIGHT_HEADER, "version");
	expect_refused(f, good, c_desc_num, -VIO_EINFLIGHT_HEADER, "desc_num");
	expect_refused(f, good, c_mark, -VIO_EINFLIGHT_LINK, "inflight mark");
	expect_refused(f, good, c_same_counter, -VIO_EINFLIGHT_ORDER, "counters");
	if (f->fmt == VIO_RING_SPLIT) {
		expect_refused(f, good, c_batch_too_big, -VIO_EINFLIGHT_LINK, "batch size");
		expect_refused(f, good, c_batch_loop, -VIO_EINFLIGHT_LINK, "batch loop");
		expect_refused(f, good, c_batch_range, -VIO_EINFLIGHT_LINK, "batch range");
	} else {
		expect_refused(f, good, c_free_head, -VIO_EINFLIGHT_HEADER, "free_head");
		expect_refused(f, good, c_used_idx, -VIO_EINFLIGHT_HEADER, "used_idx");
		expect_refused(f, good, c_wrap, -VIO_EINFLIGHT_HEADER, "wrap");
		expect_refused(f, good, c_free_loop, -VIO_EINFLIGHT_LINK, "free loop");
		expect_refused(f, good, c_num_zero, -VIO_EINFLIGHT_LINK, "num 0");
		expect_refused(f, good, c_num_huge, -VIO_EINFLIGHT_LINK, "num huge");
		expect_refused(f, good, c_last_wrong, -VIO_EINFLIGHT_LINK, "last");
		expect_refused(f, good, c_last_range, -VIO_EINFLIGHT_LINK, "last range");
		expect_refused(f, good, c_chain_into_free, -VIO_EINFLIGHT_LINK, "chain in free");
		expect_refused(f, good, c_chains_share, -VIO_EINFLIGHT_LINK, "chains share");
		expect_refused(f, good, c_dup_id, -VIO_EINFLIGHT_LINK, "duplicate id");
		expect_refused(f, good, c_id_range, -VIO_EINFLIGHT_LINK, "id range");
	}
	/* Every byte garbage: refused or accepted, never more (ASan, the
	 * fuzzer does the rest). */
	memset(f->part, 0xff, (size_t)f->part_len);
	assert_err(loop_devq_reinit(&f->l), 0);
	assert_true(attach(f) < 0);
	/* The good part still recovers. */
	memcpy(f->part, good, (size_t)f->part_len);
	recover_and_check(f, "after the hostile ones");
	free(good);
}

/* A part given up on (version 0, as another back end's fresh region) is
 * taken as having nothing in flight: the position comes from the ring
 * (split) or SET_VRING_BASE (packed), and chains taken before are taken
 * again from the ring. */
static void test_inflight_fresh_part_uses_base(void **state)
{
	struct fx *f = *state;
	env_init(f, false);
	for (unsigned k = 0; k < 5; k++)
		assert_true(drv_add(f, 0));
	for (unsigned k = 0; k < 5; k++)
		assert_true(dev_pop(f));
	unsigned idx[2] = {0, 1};
	dev_push(f, idx, 2, false);
	struct vio_ring_state st;
	vio_devq_get_state(f->l.dq, &st);
	/* The front end lost the region and made a new one. */
	assert_err(vio_vhost_user_inflight_init(f->region, f->region_len, f->fmt, 2, QSIZE), 0);
	assert_err(loop_devq_reinit(&f->l), 0);
	assert_err(vio_vhost_user_inflight_attach(&f->iq, f->iqmem, f->iqmem_size, f->part,
						  f->part_len, f->l.dq, &st, &f->info),
		   0);
	assert_true(f->info.fresh);
	assert_int_equal(f->info.resubmit, 0);
	assert_int_equal(f->info.pos.used_idx, st.used_idx);
	assert_int_equal(f->info.pos.avail_idx, st.used_idx);
	wrap_journal(f);
	f->nheld = 0;
	/* The three in flight come again from the ring. */
	unsigned n = 0;
	while (dev_pop(f))
		n++;
	assert_int_equal(n, 3);
	for (unsigned i = 0; i < 3; i++)
		assert_false(f->published[f->h[i].k]);
	unsigned all[3] = {0, 1, 2};
	dev_push(f, all, 3, true);
	drv_drain(f);
	for (unsigned k = 0; k < 5; k++)
		assert_int_equal(f->got[k], 1);
}

/* vio_devq_reset() resets the part: nothing in flight, position zero. */
static void test_inflight_reset_clears_part(void **state)
{
	struct fx *f = *state;
	env_init(f, false);
	for (unsigned k = 0; k < 3; k++)
		assert_true(drv_add(f, 1));
	while (dev_pop(f))
		;
	vio_devq_reset(f->l.dq);
	uint16_t h[QSIZE];
	assert_int_equal(heads(f, f->part, h), 0);
	if (f->fmt == VIO_RING_SPLIT) {
		assert_int_equal(SPL(f->part)->version, 1);
		assert_int_equal(SPL(f->part)->used_idx, 0);
	} else {
		assert_int_equal(PKH(f->part)->version, 1);
		assert_int_equal(PKH(f->part)->old_used_idx, 0);
		assert_int_equal(PKH(f->part)->free_head, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inflight_sizes_match_peers),
		BOTH(test_inflight_init_check_and_parts),
		BOTH(test_inflight_attach_misuse),
		BOTH(test_inflight_crash_every_boundary),
		BOTH(test_inflight_crash_every_boundary_in_order),
		BOTH(test_inflight_crash_inside_steps),
		BOTH(test_inflight_random_crashes),
		BOTH(test_inflight_hostile_parts),
		BOTH(test_inflight_fresh_part_uses_base),
		BOTH(test_inflight_reset_clears_part),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
