/* SPDX-License-Identifier: MIT */
/* The driver queue's fast paths (lib/ring/vq_hot.h) and vio_vq_get_batch()
 * against a mock device that writes the rings by hand (raw_ring).
 *
 * A queue without DMA hooks or IN_ORDER takes the fast paths; each case
 * checks that they give what the general code gives: the same buffers in
 * the same order, the same error codes for hostile used entries (also in
 * the middle of a batch), the same argument checks on add, and the
 * notification decisions the counters behind them must still make. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "guest_mem.h"
#include "raw_ring.h"

#define QSIZE 16
#define NBUF 48

struct fx {
	enum vio_ring_format fmt;
	struct guest_mem gm;
	struct raw_ring r;
	struct vio_vq_config cfg;
	struct vio_vq *vq;
	void *mem;
	void *pool;
	unsigned char buf[NBUF][64];
	unsigned releases; /* release hook calls (the slow-path configuration) */
};

static bool is_split(const struct fx *f)
{
	return f->fmt == VIO_RING_SPLIT;
}

/* (Re)create the queue with @feat added to VERSION_1 (and RING_PACKED). */
static void fx_init(struct fx *f, const unsigned *feat, unsigned nfeat,
		    const struct vio_dma_ops *ops)
{
	free(f->mem);
	f->mem = NULL;
	raw_ring_rewind(&f->r);
	memset(&f->cfg, 0, sizeof(f->cfg));
	raw_ring_vq_config(&f->r, &f->cfg);
	f->cfg.features = vio_features_none();
	vio_features_set(&f->cfg.features, VIO_F_VERSION_1);
	if (f->fmt == VIO_RING_PACKED)
		vio_features_set(&f->cfg.features, VIO_F_RING_PACKED);
	for (unsigned i = 0; i < nfeat; i++)
		vio_features_set(&f->cfg.features, feat[i]);
	f->cfg.dma_ops = ops;
	f->cfg.dma_ctx = f;
	size_t n = vio_vq_mem_size(&f->cfg);
	assert_int_equal(posix_memalign(&f->mem, VIO_VQ_MEM_ALIGN, n), 0);
	assert_err(vio_vq_init(&f->vq, f->mem, n, &f->cfg), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	gm_init(&f->gm);
	raw_ring_alloc(&f->r, &f->gm, f->fmt, QSIZE);
	fx_init(f, NULL, 0, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	gm_free(&f->gm);
	free(f->mem);
	free(f->pool);
	free(f);
	return 0;
}

/* Buffer @k as a chain of @n writable 16-byte pieces (token &buf[k]). */
static int add(struct fx *f, unsigned k, unsigned n)
{
	struct vio_sg sg[4];
	for (unsigned i = 0; i < n; i++)
		sg[i] = (struct vio_sg){f->buf[k] + 16 * i, 16};
	return vio_vq_add(f->vq, sg, 0, n, f->buf[k]);
}

/* Mock device: take the next available buffer; its id and slot count. */
static uint16_t dev_take(struct fx *f, uint16_t *ndesc)
{
	uint16_t id = 0, n = 1;
	if (is_split(f))
		assert_int_equal(raw_split_avail_next(&f->r, &id), 0);
	else
		assert_int_equal(raw_packed_avail_next(&f->r, &id, &n), 0);
	*ndesc = n;
	return id;
}

/* Mock device: complete (@id, @ndesc slots) with @len written. */
static void dev_used(struct fx *f, uint16_t id, uint16_t ndesc, uint32_t len)
{
	if (is_split(f))
		raw_split_used_add(&f->r, id, len);
	else
		raw_packed_used_add(&f->r, id, len, VIO_DESC_F_WRITE, ndesc);
}

/* The driver's request for the next completion: split used_event, packed
 * driver event off_wrap. */
static uint16_t drv_event(const struct fx *f)
{
	if (is_split(f))
		return raw_split_used_event_get(&f->r);
	uint16_t ow, fl;
	raw_packed_event_get(f->r.driver, &ow, &fl);
	return ow;
}

/* What drv_event() must be once every completion so far is reaped: the
 * device's used position. */
static uint16_t used_pos(const struct fx *f)
{
	if (is_split(f))
		return f->r.used_idx;
	return (uint16_t)(f->r.used_idx | ((unsigned)f->r.used_wrap << VIO_RING_EVENT_WRAP_SHIFT));
}

/* ---- vio_vq_get_batch ---------------------------------------------------- */

/* Buffers of 1..3 descriptors completed out of order with varied lengths
 * come back from batches of varied sizes in completion order, with their
 * lengths, the same as single gets; the ring laps many times. */
static void test_batch_order_and_lengths(void **state)
{
	struct fx *f = *state;
	const unsigned ev[] = {VIO_F_EVENT_IDX};
	fx_init(f, ev, 1, NULL);
	assert_true(vio_vq_enable_intr(f->vq));
	unsigned seed = 12345;
	for (unsigned round = 0; round < 200; round++) {
		uint16_t ids[QSIZE], nd[QSIZE];
		unsigned nb = 0, slots = 0;
		/* Fill: buffers of 1..3 descriptors while they fit. */
		for (;;) {
			seed = seed * 1103515245u + 12345u;
			unsigned n = 1 + (seed >> 16) % 3;
			if (slots + n > QSIZE)
				break;
			assert_err(add(f, nb, n), 0);
			ids[nb] = dev_take(f, &nd[nb]);
			slots += n;
			nb++;
		}
		/* Complete in a shuffled order, length = 7 * position. */
		unsigned order[QSIZE];
		for (unsigned i = 0; i < nb; i++)
			order[i] = i;
		for (unsigned i = nb; i > 1; i--) {
			seed = seed * 1103515245u + 12345u;
			unsigned j = (seed >> 16) % i, t = order[i - 1];
			order[i - 1] = order[j];
			order[j] = t;
		}
		for (unsigned i = 0; i < nb; i++)
			dev_used(f, ids[order[i]], nd[order[i]], 7u * i % (16u * nd[order[i]] + 1));
		/* Reap in batches of 1..5. */
		unsigned got = 0;
		while (got < nb) {
			void *tok[8];
			uint32_t len[8];
			seed = seed * 1103515245u + 12345u;
			unsigned max = 1 + (seed >> 16) % 5;
			int rc = vio_vq_get_batch(f->vq, tok, len, max);
			unsigned want = nb - got < max ? nb - got : max;
			assert_int_equal(rc, (int)want);
			for (unsigned i = 0; i < want; i++, got++) {
				unsigned b = order[got];
				assert_ptr_equal(tok[i], f->buf[b]);
				assert_int_equal(len[i], 7u * got % (16u * nd[b] + 1));
			}
			/* The request for the next completion, as single gets
			 * leave it. */
			if (got == nb)
				assert_int_equal(drv_event(f), used_pos(f));
		}
		void *t;
		uint32_t l;
		assert_err(vio_vq_get_batch(f->vq, &t, &l, 4), -VIO_EAGAIN);
		assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
	}
	assert_false(vio_vq_is_broken(f->vq));
}

/* The arguments and states a batch reports as single gets do. */
static void test_batch_edges(void **state)
{
	struct fx *f = *state;
	void *tok[4];
	uint32_t len[4];
	/* An empty batch is a no-op. */
	assert_err(vio_vq_get_batch(f->vq, tok, len, 0), 0);
	assert_err(vio_vq_get_batch(f->vq, NULL, NULL, 0), 0);
	assert_err(vio_vq_get_batch(f->vq, tok, len, 4), -VIO_EAGAIN);
	assert_err(add(f, 0, 1), 0);
	uint16_t n, id = dev_take(f, &n);
	dev_used(f, id, n, 5);
	assert_int_equal(vio_vq_get_batch(f->vq, tok, len, 4), 1);
	assert_ptr_equal(tok[0], f->buf[0]);
	assert_int_equal(len[0], 5);
	assert_int_equal(vio_vq_fail(f->vq, -VIO_ECOMPLETION), -VIO_ECOMPLETION);
	assert_err(vio_vq_get_batch(f->vq, tok, len, 4), -VIO_EBROKEN);
}

enum bad {
	BAD_ID,	      /* an id beyond the queue */
	BAD_LEN,      /* a length above the writable bytes */
	BAD_TWICE,    /* a buffer completed again */
	BAD_MIDCHAIN, /* split: a slot inside a chain */
};

/* Three good completions, then @bad, then a good one: a batch returns the
 * three, the queue is broken with the error, and the next call returns
 * -VIO_EBROKEN; the bad entry first: the batch returns the error itself.
 * The outstanding tokens all come back through detach_unused. */
static void batch_bad(struct fx *f, enum bad bad, int err, unsigned before)
{
	fx_init(f, NULL, 0, NULL);
	uint16_t ids[6], nd[6];
	for (unsigned k = 0; k < 6; k++) {
		assert_err(add(f, k, k == 5 ? 2 : 1), 0);
		ids[k] = dev_take(f, &nd[k]);
	}
	unsigned k = 0;
	for (; k < before; k++)
		dev_used(f, ids[k], nd[k], 1);
	switch (bad) {
	case BAD_ID:
		dev_used(f, QSIZE + 3, 1, 0);
		break;
	case BAD_LEN:
		dev_used(f, ids[k], nd[k], 17);
		break;
	case BAD_TWICE:
		dev_used(f, before != 0 ? ids[0] : ids[4], 1, 0);
		if (before == 0) { /* id 4 is outstanding: complete it, then again */
			void *t;
			uint32_t l;
			assert_int_equal(vio_vq_get_batch(f->vq, &t, &l, 1), 1);
			dev_used(f, ids[4], 1, 0);
		}
		break;
	case BAD_MIDCHAIN:
		dev_used(f, (uint16_t)(ids[5] + 1), 1, 0);
		break;
	}
	dev_used(f, ids[k + 1], nd[k + 1], 1);

	void *tok[8];
	uint32_t len[8];
	int rc = vio_vq_get_batch(f->vq, tok, len, 8);
	if (before == 0) {
		assert_err(rc, err);
	} else {
		assert_int_equal(rc, (int)before);
		for (unsigned i = 0; i < before; i++) {
			assert_ptr_equal(tok[i], f->buf[i]);
			assert_int_equal(len[i], 1);
		}
	}
	assert_true(vio_vq_is_broken(f->vq));
	assert_err(vio_vq_broken_reason(f->vq), err);
	assert_err(vio_vq_get_batch(f->vq, tok, len, 8), -VIO_EBROKEN);
	void *t;
	uint32_t l;
	assert_err(vio_vq_get(f->vq, &t, &l), -VIO_EBROKEN);
	unsigned detached = 0;
	while (vio_vq_detach_unused(f->vq, &t) == 0)
		detached++;
	assert_int_equal(detached, 6 - before - (bad == BAD_TWICE && before == 0));
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
}

static void test_batch_hostile_id(void **state)
{
	struct fx *f = *state;
	batch_bad(f, BAD_ID, -VIO_EUSED_ID, 3);
	batch_bad(f, BAD_ID, -VIO_EUSED_ID, 0);
}

static void test_batch_hostile_len(void **state)
{
	struct fx *f = *state;
	batch_bad(f, BAD_LEN, -VIO_EUSED_LEN, 3);
	batch_bad(f, BAD_LEN, -VIO_EUSED_LEN, 0);
}

static void test_batch_hostile_twice(void **state)
{
	struct fx *f = *state;
	batch_bad(f, BAD_TWICE, -VIO_EUSED_STALE, 3);
	batch_bad(f, BAD_TWICE, -VIO_EUSED_STALE, 0);
}

static void test_batch_hostile_midchain(void **state)
{
	struct fx *f = *state;
	batch_bad(f, BAD_MIDCHAIN, -VIO_EUSED_MIDCHAIN, 3);
	batch_bad(f, BAD_MIDCHAIN, -VIO_EUSED_MIDCHAIN, 0);
}

/* Split: a chain of @n descriptors (head 0, slots 1..n-1 on a fresh queue)
 * reaped by a fast get (@batch: get_batch) gives its slots back unmarked:
 * the device naming slot @j afterwards sends a stale id, not one inside a
 * chain. A one-descriptor buffer stays outstanding, so the entry passes
 * the used-index check. */
static void chain_unmarked(struct fx *f, unsigned n, unsigned j, bool batch)
{
	fx_init(f, NULL, 0, NULL);
	uint16_t nd;
	assert_err(add(f, 0, n), 0);
	assert_err(add(f, 1, 1), 0);
	uint16_t head = dev_take(f, &nd);
	assert_int_equal(head, 0);
	(void)dev_take(f, &nd);
	dev_used(f, head, 1, 16);
	void *t;
	uint32_t l;
	if (batch)
		assert_int_equal(vio_vq_get_batch(f->vq, &t, &l, 4), 1);
	else
		assert_err(vio_vq_get(f->vq, &t, &l), 0);
	assert_ptr_equal(t, f->buf[0]);
	assert_int_equal(l, 16);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE - 1);
	dev_used(f, (uint16_t)j, 1, 0);
	if (batch)
		assert_err(vio_vq_get_batch(f->vq, &t, &l, 4), -VIO_EUSED_STALE);
	else
		assert_err(vio_vq_get(f->vq, &t, &l), -VIO_EUSED_STALE);
}

static void test_get_chain_unmarked(void **state)
{
	struct fx *f = *state;
	for (unsigned n = 2; n <= 4; n++)
		for (unsigned j = 1; j < n; j++) {
			chain_unmarked(f, n, j, false);
			chain_unmarked(f, n, j, true);
		}
}

/* Split: no slot is marked inside a chain; a used id that names a slot
 * without a head is told apart by the outstanding chains' own links,
 * exactly: (a) slot @j of a chain of @n at slots 0..n-1 is inside it
 * (MIDCHAIN), (b) the free slot its tail links to is not (STALE), (c) nor
 * is a slot a failed add (lengths summing to 2^32) wrote, (d) nor one of a
 * chain already reclaimed while another chain is outstanding. */
static void midchain_exact(struct fx *f, unsigned n, unsigned j, unsigned what, bool batch)
{
	fx_init(f, NULL, 0, NULL);
	void *t;
	uint32_t l;
	uint16_t nd, bad = (uint16_t)j;
	int want = -VIO_EUSED_STALE;
	assert_err(add(f, 0, n), 0); /* slots 0..n-1 */
	uint16_t head = dev_take(f, &nd);
	assert_int_equal(head, 0);
	if (what == 0) {
		want = -VIO_EUSED_MIDCHAIN;
	} else if (what == 1) {
		bad = (uint16_t)n; /* the tail's link: the first free slot */
	} else if (what == 2) {
		struct vio_sg sg[3] = {{f->buf[1], 0xffffffffu}, {f->buf[1], 1}, {f->buf[1], 1}};
		assert_err(vio_vq_add(f->vq, sg, 1, 2, f->buf[1]), -VIO_EINVAL);
		bad = (uint16_t)(n + 1u); /* written by the failed add, free */
	} else {
		/* Another chain (slots n..2n-1), then the first one back. */
		assert_err(add(f, 1, n), 0);
		(void)dev_take(f, &nd);
		dev_used(f, head, 1, 16);
		if (batch)
			assert_int_equal(vio_vq_get_batch(f->vq, &t, &l, 4), 1);
		else
			assert_err(vio_vq_get(f->vq, &t, &l), 0);
		assert_ptr_equal(t, f->buf[0]);
		/* Inside the second chain, or inside the reclaimed one. */
		if (j % 2 == 0) {
			bad = (uint16_t)(n + j);
			want = -VIO_EUSED_MIDCHAIN;
		}
	}
	dev_used(f, bad, 1, 0);
	if (batch)
		assert_err(vio_vq_get_batch(f->vq, &t, &l, 4), want);
	else
		assert_err(vio_vq_get(f->vq, &t, &l), want);
}

static void test_get_midchain_exact(void **state)
{
	struct fx *f = *state;
	for (unsigned n = 2; n <= 4; n++)
		for (unsigned j = 1; j < n; j++)
			for (unsigned what = 0; what < 4; what++) {
				midchain_exact(f, n, j, what, false);
				midchain_exact(f, n, j, what, true);
			}
}

/* Split: the used index ahead of the outstanding buffers. */
static void test_batch_hostile_jump(void **state)
{
	struct fx *f = *state;
	for (unsigned k = 0; k < 3; k++)
		assert_err(add(f, k, 1), 0);
	raw_split_used_elem_set(&f->r, 0, 0, 0);
	raw_split_used_publish(&f->r, 4);
	void *tok[8];
	uint32_t len[8];
	assert_err(vio_vq_get_batch(f->vq, tok, len, 8), -VIO_EUSED_JUMP);
	assert_err(vio_vq_broken_reason(f->vq), -VIO_EUSED_JUMP);
	assert_err(vio_vq_get_batch(f->vq, tok, len, 8), -VIO_EBROKEN);
}

/* A batch on a queue without the fast loop (a release hook) returns the
 * same and releases every conversion of what it returns. */
static void counting_release(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			     uint64_t addr)
{
	(void)ptr;
	(void)len;
	(void)dir;
	(void)addr;
	((struct fx *)ctx)->releases++;
}

static const struct vio_dma_ops release_ops = {NULL, counting_release};

static void test_batch_slow_configuration(void **state)
{
	struct fx *f = *state;
	fx_init(f, NULL, 0, &release_ops);
	uint16_t ids[4], nd[4];
	for (unsigned k = 0; k < 4; k++) {
		assert_err(add(f, k, 2), 0);
		ids[k] = dev_take(f, &nd[k]);
	}
	for (unsigned k = 0; k < 4; k++)
		dev_used(f, ids[3 - k], nd[3 - k], k);
	void *tok[8];
	uint32_t len[8];
	assert_int_equal(vio_vq_get_batch(f->vq, tok, len, 8), 4);
	for (unsigned k = 0; k < 4; k++) {
		assert_ptr_equal(tok[k], f->buf[3 - k]);
		assert_int_equal(len[k], k);
	}
	assert_int_equal(f->releases, 8);
	assert_err(vio_vq_get_batch(f->vq, tok, len, 8), -VIO_EAGAIN);
}

/* With interrupts disabled the batch writes no event; enabled again, the
 * event follows the batch. And the lost-wakeup rule: a completion that
 * arrives after a batch found nothing is seen by the next call. */
static void test_batch_event_writes(void **state)
{
	struct fx *f = *state;
	const unsigned ev[] = {VIO_F_EVENT_IDX};
	fx_init(f, ev, 1, NULL);
	assert_true(vio_vq_enable_intr(f->vq));
	vio_vq_disable_intr(f->vq);
	uint16_t before = drv_event(f);
	uint16_t ids[3], nd[3];
	for (unsigned k = 0; k < 3; k++) {
		assert_err(add(f, k, 1), 0);
		ids[k] = dev_take(f, &nd[k]);
		dev_used(f, ids[k], nd[k], 0);
	}
	void *tok[4];
	uint32_t len[4];
	assert_int_equal(vio_vq_get_batch(f->vq, tok, len, 4), 3);
	assert_int_equal(drv_event(f), before); /* not asked: not written */
	assert_true(vio_vq_enable_intr(f->vq));
	for (unsigned k = 0; k < 3; k++) {
		assert_err(add(f, k, 1), 0);
		ids[k] = dev_take(f, &nd[k]);
	}
	dev_used(f, ids[0], nd[0], 0);
	assert_int_equal(vio_vq_get_batch(f->vq, tok, len, 4), 1);
	assert_int_equal(drv_event(f), used_pos(f));
	dev_used(f, ids[1], nd[1], 0);
	dev_used(f, ids[2], nd[2], 0);
	assert_int_equal(vio_vq_get_batch(f->vq, tok, len, 4), 2);
	assert_int_equal(drv_event(f), used_pos(f));
}

/* ---- add ----------------------------------------------------------------- */

/* The one-segment fast path's checks: counts that sum to 1 only by
 * wrapping, no token, no segments, no free slot. Nothing is published. */
static void test_add_single_checks(void **state)
{
	struct fx *f = *state;
	struct vio_sg sg[2] = {{f->buf[0], 16}, {f->buf[1], 16}};
	assert_err(vio_vq_add(f->vq, sg, UINT_MAX, 2, f->buf[0]), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, sg, 2, UINT_MAX, f->buf[0]), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, sg, 0, 1, NULL), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, NULL, 1, 0, f->buf[0]), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, sg, 0, 0, f->buf[0]), -VIO_EINVAL);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
	assert_false(vio_vq_kick_prepare(f->vq)); /* nothing published */
	for (unsigned k = 0; k < QSIZE; k++)
		assert_err(vio_vq_add(f->vq, sg, k % 2, 1 - k % 2, f->buf[k]), 0);
	assert_err(vio_vq_add(f->vq, sg, 0, 1, f->buf[0]), -VIO_ENOSPC);
	assert_err(vio_vq_add(f->vq, sg, 1, 0, f->buf[0]), -VIO_ENOSPC);
	/* What went in: readable and writable alternately, lengths bound. */
	for (unsigned k = 0; k < QSIZE; k++) {
		uint16_t n, id = dev_take(f, &n);
		dev_used(f, id, n, k % 2 ? 0 : 16);
	}
	for (unsigned k = 0; k < QSIZE; k++) {
		void *t;
		uint32_t l;
		assert_err(vio_vq_get(f->vq, &t, &l), 0);
		assert_ptr_equal(t, f->buf[k]);
		assert_int_equal(l, k % 2 ? 0 : 16);
	}
}

/* The device gets a readable one-segment buffer as readable and a
 * writable one as writable, both without NEXT (the next field of such a
 * descriptor is left as it was: the device ignores it). */
static void test_add_single_descriptor(void **state)
{
	struct fx *f = *state;
	for (unsigned k = 0; k < 2 * QSIZE + 3; k++) {
		struct vio_sg sg = {f->buf[k % NBUF], 24};
		unsigned in = k % 2;
		assert_err(vio_vq_add(f->vq, &sg, 1 - in, in, f->buf[k % NBUF]), 0);
		uint16_t slot, n;
		if (is_split(f))
			slot = raw_split_avail_entry_get(&f->r, (uint16_t)(f->r.dev_avail));
		else
			slot = f->r.dev_avail;
		struct raw_desc d;
		raw_desc_get(f->r.desc, slot, f->fmt, &d);
		assert_int_equal(d.addr, (uint64_t)(uintptr_t)f->buf[k % NBUF]);
		assert_int_equal(d.len, 24);
		assert_int_equal(d.flags &
					 (VIO_DESC_F_NEXT | VIO_DESC_F_WRITE | VIO_DESC_F_INDIRECT),
				 in ? VIO_DESC_F_WRITE : 0);
		uint16_t id = dev_take(f, &n);
		assert_int_equal(n, 1);
		dev_used(f, id, n, in ? 24 : 0);
		void *t;
		uint32_t l;
		assert_err(vio_vq_get(f->vq, &t, &l), 0);
		assert_int_equal(l, in ? 24 : 0);
	}
}

/* The fixture again with VIO_F_INDIRECT_DESC, tables for chains of
 * @min..@max segments (@max 0: none) and the DMA ops @ops. */
static void fx_init_indirect(struct fx *f, unsigned min, unsigned max,
			     const struct vio_dma_ops *ops)
{
	const unsigned ind[] = {VIO_F_INDIRECT_DESC};
	fx_init(f, ind, 1, ops);
	free(f->pool);
	f->pool = aligned_alloc(16, VIO_VQ_INDIRECT_POOL_SIZE(QSIZE, max > 4 ? max : 4));
	assert_non_null(f->pool);
	free(f->mem);
	f->cfg.indirect_pool = f->pool;
	f->cfg.indirect_max = (uint16_t)max;
	f->cfg.indirect_min = (uint16_t)min;
	size_t n = vio_vq_mem_size(&f->cfg);
	assert_int_equal(posix_memalign(&f->mem, VIO_VQ_MEM_ALIGN, n), 0);
	assert_err(vio_vq_init(&f->vq, f->mem, n, &f->cfg), 0);
}

/* The argument checks on the way to the indirect fast paths (every chain
 * wants a table: indirect_min 1, or 3 for chains of three): counts that
 * wrap (their sum 1), no token, no segments, no slot free. Nothing is
 * published by a refused add. */
static void test_add_table_checks(void **state)
{
	struct fx *f = *state;
	for (unsigned min = 1; min <= 3; min += 2) {
		fx_init_indirect(f, min, 3, NULL);
		struct vio_sg sg[3] = {{f->buf[0], 16}, {f->buf[1], 16}, {f->buf[2], 16}};
		assert_err(vio_vq_add(f->vq, sg, UINT_MAX, 2, f->buf[0]), -VIO_EINVAL);
		assert_err(vio_vq_add(f->vq, sg, 2, UINT_MAX, f->buf[0]), -VIO_EINVAL);
		assert_err(vio_vq_add(f->vq, sg, 1, 2, NULL), -VIO_EINVAL);
		assert_err(vio_vq_add(f->vq, NULL, 1, 2, f->buf[0]), -VIO_EINVAL);
		assert_err(vio_vq_add(f->vq, sg, 0, 3, NULL), -VIO_EINVAL);
		assert_err(vio_vq_add(f->vq, NULL, 3, 0, f->buf[0]), -VIO_EINVAL);
		assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
		assert_false(vio_vq_kick_prepare(f->vq)); /* nothing published */
		for (unsigned k = 0; k < QSIZE; k++)
			assert_err(vio_vq_add(f->vq, sg, 1, 2, f->buf[k]), 0);
		assert_err(vio_vq_add(f->vq, sg, 1, 2, f->buf[0]), -VIO_ENOSPC);
		for (unsigned k = 0; k < QSIZE; k++) {
			uint16_t n, id = dev_take(f, &n);
			assert_int_equal(n, 1);
			dev_used(f, id, n, 17);
		}
		for (unsigned k = 0; k < QSIZE; k++) {
			void *t;
			uint32_t l;
			assert_err(vio_vq_get(f->vq, &t, &l), 0);
			assert_ptr_equal(t, f->buf[k]);
			assert_int_equal(l, 17);
		}
	}
}

/* indirect_min 1: even one segment goes into an indirect table, so the
 * one-segment fast path must not take it. */
static void test_add_single_indirect_min_1(void **state)
{
	struct fx *f = *state;
	const unsigned ind[] = {VIO_F_INDIRECT_DESC};
	f->pool = aligned_alloc(16, VIO_VQ_INDIRECT_POOL_SIZE(QSIZE, 2));
	assert_non_null(f->pool);
	free(f->mem);
	f->mem = NULL;
	raw_ring_rewind(&f->r);
	memset(&f->cfg, 0, sizeof(f->cfg));
	raw_ring_vq_config(&f->r, &f->cfg);
	f->cfg.features = vio_features_none();
	vio_features_set(&f->cfg.features, VIO_F_VERSION_1);
	vio_features_set(&f->cfg.features, ind[0]);
	if (!is_split(f))
		vio_features_set(&f->cfg.features, VIO_F_RING_PACKED);
	f->cfg.indirect_pool = f->pool;
	f->cfg.indirect_max = 2;
	f->cfg.indirect_min = 1;
	size_t n = vio_vq_mem_size(&f->cfg);
	assert_int_equal(posix_memalign(&f->mem, VIO_VQ_MEM_ALIGN, n), 0);
	assert_err(vio_vq_init(&f->vq, f->mem, n, &f->cfg), 0);
	struct vio_sg sg = {f->buf[0], 16};
	assert_err(vio_vq_add(f->vq, &sg, 0, 1, f->buf[0]), 0);
	uint16_t slot = is_split(f) ? raw_split_avail_entry_get(&f->r, 0) : 0;
	struct raw_desc d;
	raw_desc_get(f->r.desc, slot, f->fmt, &d);
	assert_true((d.flags & VIO_DESC_F_INDIRECT) != 0);
	assert_int_equal(d.len, 16);
}

static unsigned dev_visible(struct fx *f);

/* An indirect table whose lengths sum to 2^32: refused with -VIO_EINVAL,
 * nothing published, and with a release hook every segment converted for
 * the table is released (once each); the next add works. */
static void test_add_indirect_length_overflow_releases(void **state)
{
	struct fx *f = *state;
	for (int hook = 0; hook < 2; hook++) {
		fx_init_indirect(f, 2, 4, hook ? &release_ops : NULL);
		f->releases = 0;
		struct vio_sg sg[3] = {
			{f->buf[0], 0x80000000u}, {f->buf[1], 0x7fffffffu}, {f->buf[2], 1}};
		assert_err(vio_vq_add(f->vq, sg, 1, 2, f->buf[0]), -VIO_EINVAL);
		assert_int_equal(f->releases, hook ? 3 : 0);
		assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
		assert_int_equal(dev_visible(f), 0);
		assert_false(vio_vq_is_broken(f->vq));
		sg[0].len = 16;
		assert_err(vio_vq_add(f->vq, sg, 1, 2, f->buf[0]), 0);
		assert_int_equal(dev_visible(f), 1);
		uint16_t nd, id = dev_take(f, &nd);
		struct raw_desc d;
		raw_desc_get(f->r.desc, is_split(f) ? id : 0, f->fmt, &d);
		assert_true((d.flags & VIO_DESC_F_INDIRECT) != 0);
		assert_int_equal(d.len, 3 * 16);
	}
}

/* indirect_max 0 with the feature and a pool: no tables, the chain goes
 * into the ring. */
static void test_add_indirect_max_0(void **state)
{
	struct fx *f = *state;
	fx_init_indirect(f, 2, 0, NULL);
	assert_err(add(f, 0, 3), 0);
	uint16_t nd, id = dev_take(f, &nd);
	struct raw_desc d;
	raw_desc_get(f->r.desc, is_split(f) ? id : 0, f->fmt, &d);
	assert_int_equal(d.flags & VIO_DESC_F_INDIRECT, 0);
	assert_int_equal(d.len, 16);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE - 3);
}

/* ---- vio_vq_add_batch ---------------------------------------------------- */

/* How many buffers the device can see (split: the available index; packed:
 * available heads from its position on), taking none. */
static unsigned dev_visible(struct fx *f)
{
	if (is_split(f))
		return (uint16_t)(raw_split_avail_idx_get(&f->r) - f->r.dev_avail);
	struct raw_ring save = f->r;
	unsigned n = 0;
	uint16_t id, nd;
	while (n < QSIZE && raw_packed_avail_next(&f->r, &id, &nd) == 0)
		n++;
	f->r = save;
	return n;
}

/* One-segment buffers in batches: what the device sees and gets back is
 * what single adds give, around the ring many times. */
static void test_add_batch_single_segments(void **state)
{
	struct fx *f = *state;
	struct vio_sg sg[QSIZE];
	void *tok[QSIZE];
	for (unsigned round = 0; round < 40; round++) {
		unsigned n = 1 + round % QSIZE, in = round % 2;
		for (unsigned k = 0; k < n; k++) {
			sg[k] = (struct vio_sg){f->buf[k], 8 + k};
			tok[k] = f->buf[k];
		}
		assert_int_equal(vio_vq_add_batch(f->vq, sg, 1 - in, in, tok, n), (int)n);
		assert_int_equal(dev_visible(f), n);
		assert_int_equal(vio_vq_num_free(f->vq), QSIZE - n);
		assert_true(vio_vq_kick_prepare(f->vq));
		for (unsigned k = 0; k < n; k++) {
			uint16_t slot = is_split(f)
						? raw_split_avail_entry_get(&f->r, f->r.dev_avail)
						: f->r.dev_avail;
			struct raw_desc d;
			raw_desc_get(f->r.desc, slot, f->fmt, &d);
			assert_int_equal(d.addr, (uint64_t)(uintptr_t)f->buf[k]);
			assert_int_equal(d.len, 8 + k);
			assert_int_equal(d.flags & (VIO_DESC_F_NEXT | VIO_DESC_F_WRITE |
						    VIO_DESC_F_INDIRECT),
					 in ? VIO_DESC_F_WRITE : 0);
			uint16_t nd, id = dev_take(f, &nd);
			dev_used(f, id, nd, in ? 8 + k : 0);
		}
		void *t[QSIZE];
		uint32_t l[QSIZE];
		assert_int_equal(vio_vq_get_batch(f->vq, t, l, QSIZE), (int)n);
		for (unsigned k = 0; k < n; k++) {
			assert_ptr_equal(t[k], f->buf[k]);
			assert_int_equal(l[k], in ? 8 + k : 0);
		}
	}
}

/* A NULL token after the ring's end (packed: in the second run of the
 * batch, with the other lap's flags) stops the batch there: the next batch
 * goes on from that position and every buffer comes back once, in order. */
static void test_add_batch_stops_after_the_end(void **state)
{
	struct fx *f = *state;
	struct vio_sg sg[QSIZE];
	void *tok[QSIZE];
	void *t[QSIZE];
	uint32_t l[QSIZE];
	for (unsigned k = 0; k < QSIZE; k++) {
		sg[k] = (struct vio_sg){f->buf[k], 16};
		tok[k] = f->buf[k];
	}
	assert_int_equal(vio_vq_add_batch(f->vq, sg, 0, 1, tok, QSIZE - 2), QSIZE - 2);
	assert_true(vio_vq_kick_prepare(f->vq));
	for (unsigned k = 0; k < QSIZE - 2; k++) {
		uint16_t nd, id = dev_take(f, &nd);
		dev_used(f, id, nd, 16);
	}
	assert_int_equal(vio_vq_get_batch(f->vq, t, l, QSIZE), QSIZE - 2);
	/* Two before the end, one after, then the NULL. */
	tok[3] = NULL;
	assert_int_equal(vio_vq_add_batch(f->vq, sg, 0, 1, tok, 5), 3);
	assert_int_equal(dev_visible(f), 3);
	tok[3] = f->buf[3];
	assert_int_equal(vio_vq_add_batch(f->vq, sg + 3, 0, 1, tok + 3, 2), 2);
	assert_int_equal(dev_visible(f), 5);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE - 5);
	assert_true(vio_vq_kick_prepare(f->vq));
	for (unsigned k = 0; k < 5; k++) {
		uint16_t slot = is_split(f) ? raw_split_avail_entry_get(&f->r, f->r.dev_avail)
					    : f->r.dev_avail;
		struct raw_desc d;
		raw_desc_get(f->r.desc, slot, f->fmt, &d);
		assert_int_equal(d.addr, (uint64_t)(uintptr_t)f->buf[k]);
		uint16_t nd, id = dev_take(f, &nd);
		dev_used(f, id, nd, 16);
	}
	assert_int_equal(vio_vq_get_batch(f->vq, t, l, QSIZE), 5);
	for (unsigned k = 0; k < 5; k++) {
		assert_ptr_equal(t[k], f->buf[k]);
		assert_int_equal(l[k], 16);
	}
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
}

/* Where a batch stops: a NULL token in the middle or a full ring returns
 * the count before it, with nothing of the rest published; the same at
 * the first buffer returns vio_vq_add()'s error. */
static void test_add_batch_stops(void **state)
{
	struct fx *f = *state;
	struct vio_sg sg[QSIZE + 4];
	void *tok[QSIZE + 4];
	for (unsigned k = 0; k < QSIZE + 4; k++) {
		sg[k] = (struct vio_sg){f->buf[k], 16};
		tok[k] = f->buf[k];
	}
	/* An empty batch is a no-op. */
	assert_err(vio_vq_add_batch(f->vq, sg, 0, 1, tok, 0), 0);
	assert_err(vio_vq_add_batch(f->vq, NULL, 0, 0, NULL, 0), 0);
	assert_err(vio_vq_add_batch(f->vq, sg, 0, 1, NULL, 4), -VIO_EINVAL);
	assert_err(vio_vq_add_batch(f->vq, NULL, 0, 1, tok, 4), -VIO_EINVAL);
	assert_err(vio_vq_add_batch(f->vq, sg, UINT_MAX, 2, tok, 4), -VIO_EINVAL);
	tok[3] = NULL;
	assert_int_equal(vio_vq_add_batch(f->vq, sg, 0, 1, tok, 6), 3);
	assert_int_equal(dev_visible(f), 3);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE - 3);
	assert_err(vio_vq_add_batch(f->vq, sg + 3, 0, 1, tok + 3, 3), -VIO_EINVAL);
	tok[3] = f->buf[3];
	assert_int_equal(vio_vq_add_batch(f->vq, sg + 3, 0, 1, tok + 3, QSIZE), QSIZE - 3);
	assert_int_equal(dev_visible(f), QSIZE);
	assert_int_equal(vio_vq_num_free(f->vq), 0);
	assert_err(vio_vq_add_batch(f->vq, sg, 0, 1, tok, 2), -VIO_ENOSPC);
	assert_true(vio_vq_kick_prepare(f->vq));
	/* Every buffer comes back once, in order. */
	for (unsigned k = 0; k < QSIZE; k++) {
		uint16_t nd, id = dev_take(f, &nd);
		dev_used(f, id, nd, 16);
	}
	void *t[QSIZE];
	uint32_t l[QSIZE];
	assert_int_equal(vio_vq_get_batch(f->vq, t, l, QSIZE), QSIZE);
	for (unsigned k = 0; k < QSIZE; k++)
		assert_ptr_equal(t[k], f->buf[k]);
	assert_int_equal(vio_vq_fail(f->vq, -VIO_ECOMPLETION), -VIO_ECOMPLETION);
	assert_err(vio_vq_add_batch(f->vq, sg, 0, 1, tok, 2), -VIO_EBROKEN);
}

/* Chains of three (the loop over vio_vq_add()), and one-segment buffers on
 * a queue with a release hook (no fast loop): the same results. */
static void test_add_batch_general(void **state)
{
	struct fx *f = *state;
	for (int cfg = 0; cfg < 2; cfg++) {
		fx_init(f, NULL, 0, cfg ? &release_ops : NULL);
		unsigned per = cfg ? 1 : 3, n = QSIZE / per;
		/* n + 1 buffers offered: the last one does not fit. */
		struct vio_sg sg[3 * (QSIZE + 1)];
		void *tok[QSIZE + 1];
		for (unsigned k = 0; k <= n; k++) {
			tok[k] = f->buf[k];
			for (unsigned j = 0; j < per; j++)
				sg[k * per + j] = (struct vio_sg){f->buf[k] + 16 * j, 16};
		}
		assert_int_equal(vio_vq_add_batch(f->vq, sg, 1, per - 1, tok, n + 1), (int)n);
		assert_int_equal(dev_visible(f), n);
		for (unsigned k = 0; k < n; k++) {
			uint16_t nd, id = dev_take(f, &nd);
			assert_int_equal(nd, is_split(f) ? 1 : per);
			dev_used(f, id, nd, 16u * (per - 1));
		}
		void *t[QSIZE];
		uint32_t l[QSIZE];
		assert_int_equal(vio_vq_get_batch(f->vq, t, l, QSIZE), (int)n);
		for (unsigned k = 0; k < n; k++) {
			assert_ptr_equal(t[k], f->buf[k]);
			assert_int_equal(l[k], 16u * (per - 1));
		}
	}
	assert_int_equal(f->releases, QSIZE);
}

/* Chains of 1..6 device-readable segments and nothing writable (the fast
 * adds of one, of two or three, and of more): split lists them readable,
 * NEXT on all but the last; the driver expects no bytes written, so a used
 * length of 1 is refused and 0 is taken. */
static void test_add_readable_only(void **state)
{
	struct fx *f = *state;
	for (unsigned n = 1; n <= 6; n++) {
		for (uint32_t written = 0; written < 2; written++) {
			fx_init(f, NULL, 0, NULL);
			struct vio_sg sg[6];
			for (unsigned i = 0; i < n; i++)
				sg[i] = (struct vio_sg){f->buf[i], 8 + i};
			assert_err(vio_vq_add(f->vq, sg, n, 0, f->buf[0]), 0);
			uint16_t nd, id = dev_take(f, &nd);
			if (is_split(f)) {
				uint16_t at = id;
				for (unsigned i = 0; i < n; i++) {
					struct raw_desc d;
					raw_desc_get(f->r.desc, at, f->fmt, &d);
					assert_int_equal(d.len, 8 + i);
					assert_int_equal(d.flags, i + 1 < n ? VIO_DESC_F_NEXT : 0);
					at = d.next_or_id;
				}
			} else {
				assert_int_equal(nd, n);
			}
			dev_used(f, id, nd, written);
			void *tok;
			uint32_t len;
			if (written == 0) {
				assert_err(vio_vq_get(f->vq, &tok, &len), 0);
				assert_ptr_equal(tok, f->buf[0]);
				assert_int_equal(len, 0);
				assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
			} else {
				assert_err(vio_vq_get(f->vq, &tok, &len), -VIO_EUSED_LEN);
				assert_true(vio_vq_is_broken(f->vq));
			}
		}
	}
}

/* Packed §2.8.4: a used length without WRITE is reserved for a buffer with
 * no writable bytes, and taken (bounded) for one with some, as QEMU writes
 * it. The fast get and the batch take only a length up to the writable
 * bytes and hand the rest to the general code, which must tell the two
 * apart: single gets and one batch give what the rule says. */
static void test_packed_used_len_without_write(void **state)
{
	struct fx *f = *state;
	for (int batch = 0; batch < 2; batch++) {
		fx_init(f, NULL, 0, NULL);
		struct vio_sg rd = {f->buf[0], 8};
		uint16_t id[3], nd[3];
		assert_err(vio_vq_add(f->vq, &rd, 1, 0, f->buf[0]), 0); /* readable */
		id[0] = dev_take(f, &nd[0]);
		assert_err(add(f, 1, 4), 0); /* 64 writable bytes */
		id[1] = dev_take(f, &nd[1]);
		assert_err(vio_vq_add(f->vq, &rd, 1, 0, f->buf[2]), 0);
		id[2] = dev_take(f, &nd[2]);
		raw_packed_used_add(&f->r, id[0], 777, 0, nd[0]); /* ignored */
		raw_packed_used_add(&f->r, id[1], 64, 0, nd[1]);  /* taken */
		raw_packed_used_add(&f->r, id[2], 0, VIO_DESC_F_WRITE, nd[2]);
		void *tok[3];
		uint32_t len[3];
		if (batch) {
			assert_int_equal(vio_vq_get_batch(f->vq, tok, len, 3), 3);
		} else {
			for (unsigned k = 0; k < 3; k++)
				assert_err(vio_vq_get(f->vq, &tok[k], &len[k]), 0);
		}
		for (unsigned k = 0; k < 3; k++)
			assert_ptr_equal(tok[k], f->buf[k]);
		assert_int_equal(len[0], 0);
		assert_int_equal(len[1], 64);
		assert_int_equal(len[2], 0);

		/* Above the writable bytes without WRITE; a length with WRITE on
		 * a readable buffer: both hostile. */
		for (int lie = 0; lie < 2; lie++) {
			fx_init(f, NULL, 0, NULL);
			if (lie)
				assert_err(vio_vq_add(f->vq, &rd, 1, 0, f->buf[0]), 0);
			else
				assert_err(add(f, 0, 4), 0);
			id[0] = dev_take(f, &nd[0]);
			raw_packed_used_add(&f->r, id[0], lie ? 1 : 65, lie ? VIO_DESC_F_WRITE : 0,
					    nd[0]);
			int rc = batch ? vio_vq_get_batch(f->vq, tok, len, 3)
				       : vio_vq_get(f->vq, &tok[0], &len[0]);
			assert_err(rc, -VIO_EUSED_LEN);
			assert_true(vio_vq_is_broken(f->vq));
		}
	}
}

/* ---- fast and general add write the same rings ------------------------- */

/* A queue over its own rings and indirect pool. */
struct side {
	struct raw_ring r;
	void *pool;
	void *mem;
	struct vio_vq *vq;
};

#define DIFF_IMAX 4

static int identity_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			      uint64_t *addr)
{
	(void)ctx;
	(void)len;
	(void)dir;
	*addr = (uint64_t)(uintptr_t)ptr;
	return 0;
}

static const struct vio_dma_ops identity_ops = {identity_to_device, NULL};

static void side_init(struct fx *f, struct side *sd, const struct vio_dma_ops *ops, bool indirect,
		      uint16_t imin)
{
	raw_ring_alloc(&sd->r, &f->gm, f->fmt, QSIZE);
	sd->pool = aligned_alloc(16, VIO_VQ_INDIRECT_POOL_SIZE(QSIZE, DIFF_IMAX));
	assert_non_null(sd->pool);
	memset(sd->pool, 0, VIO_VQ_INDIRECT_POOL_SIZE(QSIZE, DIFF_IMAX));
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	raw_ring_vq_config(&sd->r, &c);
	c.features = vio_features_none();
	vio_features_set(&c.features, VIO_F_VERSION_1);
	vio_features_set(&c.features, VIO_F_EVENT_IDX);
	if (!is_split(f))
		vio_features_set(&c.features, VIO_F_RING_PACKED);
	if (indirect) {
		vio_features_set(&c.features, VIO_F_INDIRECT_DESC);
		c.indirect_pool = sd->pool;
		c.indirect_max = DIFF_IMAX;
		c.indirect_min = imin;
	}
	c.dma_ops = ops;
	size_t n = vio_vq_mem_size(&c);
	assert_int_equal(posix_memalign(&sd->mem, VIO_VQ_MEM_ALIGN, n), 0);
	assert_err(vio_vq_init(&sd->vq, sd->mem, n, &c), 0);
}

/* An address inside @sd's indirect pool as an offset into it (with a tag
 * bit); any other address as it is. */
static uint64_t pool_rel(const struct side *sd, uint64_t addr)
{
	uint64_t base = (uint64_t)(uintptr_t)sd->pool;
	if (addr - base < VIO_VQ_INDIRECT_POOL_SIZE(QSIZE, DIFF_IMAX))
		return (addr - base) | (1ull << 63);
	return addr;
}

/* The two rings (and pools) hold the same bytes; a descriptor that points
 * into an indirect pool is compared by its offset there (the device may
 * have overwritten its flags with a used descriptor's). */
static void same_rings(struct fx *f, struct side *a, struct side *b)
{
	for (unsigned i = 0; i < QSIZE; i++) {
		struct raw_desc x, y;
		raw_desc_get(a->r.desc, i, f->fmt, &x);
		raw_desc_get(b->r.desc, i, f->fmt, &y);
		x.addr = pool_rel(a, x.addr);
		y.addr = pool_rel(b, y.addr);
		if (memcmp(&x, &y, sizeof(x)) != 0)
			fail_msg("descriptor %u: %llx/%u/%x/%u vs %llx/%u/%x/%u", i,
				 (unsigned long long)x.addr, x.len, x.flags, x.next_or_id,
				 (unsigned long long)y.addr, y.len, y.flags, y.next_or_id);
	}
	assert_memory_equal(a->pool, b->pool, VIO_VQ_INDIRECT_POOL_SIZE(QSIZE, DIFF_IMAX));
	assert_memory_equal(a->r.driver, b->r.driver, raw_ring_driver_bytes(&a->r));
}

/* The same random adds (1..DIFF_IMAX segments with indirect tables from 3
 * or from 2 on; 1..DIFF_DMAX direct ones without; any split of readable and
 * writable, lengths up to 2^32 - 1 so that some sums overflow, now and then
 * no token or no segment array) on a queue that takes the fast paths and
 * one that does not (an identity to_device hook): the same return codes,
 * the same ring and table bytes, the same completions back. */
#define DIFF_DMAX 6

static void fast_matches_general(struct fx *f, bool indirect, uint16_t imin)
{
	struct side fast, gen;
	side_init(f, &fast, NULL, indirect, imin);
	side_init(f, &gen, &identity_ops, indirect, imin);
	struct side *sides[2] = {&fast, &gen};
	unsigned seed = 99;
	unsigned added = 0;
	for (unsigned it = 0; it < 3000; it++) {
		seed = seed * 1103515245u + 12345u;
		unsigned total = 1 + (seed >> 8) % (indirect ? DIFF_IMAX : DIFF_DMAX),
			 out = (seed >> 12) % (total + 1);
		struct vio_sg sg[DIFF_DMAX];
		for (unsigned i = 0; i < total; i++) {
			seed = seed * 1103515245u + 12345u;
			uint32_t len = (seed >> 20) % 3 == 0 ? 0xffffffffu - (seed & 0xff)
							     : (seed >> 16) % 64;
			sg[i] = (struct vio_sg){f->buf[(it + i) % NBUF], len};
		}
		void *tok = it % 97 == 5 ? NULL : f->buf[it % NBUF];
		const struct vio_sg *sgs = it % 89 == 7 ? NULL : sg;
		int rc0 = vio_vq_add(fast.vq, sgs, out, total - out, tok);
		int rc1 = vio_vq_add(gen.vq, sgs, out, total - out, tok);
		if (tok == NULL || sgs == NULL)
			assert_err(rc0, -VIO_EINVAL);
		assert_err(rc0, rc1);
		assert_int_equal(vio_vq_num_free(fast.vq), vio_vq_num_free(gen.vq));
		same_rings(f, &fast, &gen);
		if (rc0 == 0)
			added++;
		/* Now and then the device completes what it has, in order. */
		seed = seed * 1103515245u + 12345u;
		if (rc0 == -VIO_ENOSPC || (seed >> 16) % 4 == 0) {
			for (int sdi = 0; sdi < 2; sdi++) {
				struct side *sd = sides[sdi];
				for (;;) {
					uint16_t id, n = 1;
					int got = is_split(f)
							  ? raw_split_avail_next(&sd->r, &id)
							  : raw_packed_avail_next(&sd->r, &id, &n);
					if (got != 0)
						break;
					if (is_split(f))
						raw_split_used_add(&sd->r, id, 0);
					else
						raw_packed_used_add(&sd->r, id, 0, VIO_DESC_F_WRITE,
								    n);
				}
			}
			void *t0[QSIZE], *t1[QSIZE];
			uint32_t l0[QSIZE], l1[QSIZE];
			int g0 = vio_vq_get_batch(fast.vq, t0, l0, QSIZE);
			int g1 = vio_vq_get_batch(gen.vq, t1, l1, QSIZE);
			assert_int_equal(g0, g1);
			for (int i = 0; i < g0; i++) {
				assert_ptr_equal(t0[i], t1[i]);
				assert_int_equal(l0[i], l1[i]);
			}
			assert_int_equal(vio_vq_num_free(fast.vq), vio_vq_num_free(gen.vq));
			assert_int_equal(vio_vq_kick_prepare(fast.vq), vio_vq_kick_prepare(gen.vq));
		}
	}
	assert_true(added > 1000);
	free(fast.pool);
	free(fast.mem);
	free(gen.pool);
	free(gen.mem);
}

static void test_add_fast_matches_general(void **state)
{
	fast_matches_general(*state, true, 3);
	fast_matches_general(*state, true, 2);
	fast_matches_general(*state, false, 0);
}

/* ---- kick_prepare -------------------------------------------------------- */

/* More than 0xffff buffers without a kick_prepare: the 16-bit indices can
 * no longer tell, so it must notify although the device's event (split
 * avail_event, packed off_wrap) lies outside the last 16-bit span, and
 * even with the index back where it was (65536 adds). Without EVENT_IDX
 * the same with the flags clear. */
static void kick_after(struct fx *f, unsigned adds, bool event_idx)
{
	const unsigned ev[] = {VIO_F_EVENT_IDX};
	fx_init(f, ev, event_idx ? 1 : 0, NULL);
	for (unsigned i = 0; i < adds; i++) {
		assert_err(add(f, 0, 1), 0);
		uint16_t n, id = dev_take(f, &n);
		dev_used(f, id, n, 0);
		void *t;
		uint32_t l;
		assert_err(vio_vq_get(f->vq, &t, &l), 0);
		if (i == 0 && event_idx) {
			/* The event where the span ends: the 16-bit rule says
			 * no for a span of 0xffff, and for 0x10000 too. */
			if (is_split(f))
				raw_split_avail_event_set(&f->r, (uint16_t)adds);
			else
				raw_packed_event_set(f->r.device, 3, VIO_RING_EVENT_FLAGS_DESC);
		}
	}
	assert_true(vio_vq_kick_prepare(f->vq));
	assert_false(vio_vq_kick_prepare(f->vq)); /* nothing new */
}

static void test_kick_after_many_adds(void **state)
{
	struct fx *f = *state;
	kick_after(f, 0x10000u, true);
	kick_after(f, 0xffffu, true);
	kick_after(f, 0x10000u, false);
}

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		BOTH(test_batch_order_and_lengths),
		BOTH(test_batch_edges),
		BOTH(test_batch_hostile_id),
		BOTH(test_batch_hostile_len),
		BOTH(test_batch_hostile_twice),
		SPLIT(test_batch_hostile_midchain),
		SPLIT(test_batch_hostile_jump),
		SPLIT(test_get_chain_unmarked),
		SPLIT(test_get_midchain_exact),
		BOTH(test_batch_slow_configuration),
		BOTH(test_batch_event_writes),
		BOTH(test_add_single_checks),
		BOTH(test_add_readable_only),
		PACKED(test_packed_used_len_without_write),
		BOTH(test_add_indirect_length_overflow_releases),
		BOTH(test_add_indirect_max_0),
		BOTH(test_add_single_descriptor),
		BOTH(test_add_single_indirect_min_1),
		BOTH(test_add_table_checks),
		BOTH(test_add_batch_single_segments),
		BOTH(test_add_batch_stops),
		BOTH(test_add_batch_stops_after_the_end),
		BOTH(test_add_batch_general),
		BOTH(test_add_fast_matches_general),
		BOTH(test_kick_after_many_adds),
	};
	/* clang-format on */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
