/* SPDX-License-Identifier: MIT */
/* The driver half's address conversion (dma.h) with a bounce-buffer driver,
 * the path a confidential guest takes.
 *
 * to_device copies device-readable ranges (segments, indirect tables) into a
 * bounce pool that the device may reach and hands out the bounce address;
 * device-writable segments get a bounce slot filled with junk. release copies
 * writable ranges back and frees the slot. The driver's own buffers are
 * plain heap memory the device cannot map, so any range that was not bounced
 * would fail the device side.
 *
 * Checked, for split and packed, direct chains and indirect tables: data
 * round-trips through a real device half (tests/support/loop); every
 * conversion is released exactly once with its original (ptr, len, dir,
 * addr), on get, on detach_unused after a reset, and when to_device fails at
 * the k-th conversion of an add (every k); callback errors are mapped
 * (-VIO_EDMA for peer codes and foreign values); the ring-part conversions
 * belong to vio_vq_ring_addrs() / vio_vq_ring_addrs_release(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "loop.h"

#define QSIZE 16
#define IMAX 8
#define NBOUNCE 96
#define BSLOT 256    /* bytes per bounce slot: ≥ the largest segment and table */
#define MAXCONV 4096 /* conversions remembered per phase */
#define MAXSEG 6     /* segments per request */
#define SEGMAX 200   /* bytes per segment */
#define JUNK 0xee    /* what a fresh writable bounce slot holds */

struct conv {
	const void *ptr;
	size_t len;
	enum vio_dma_dir dir;
	uint64_t addr;
	int slot; /* bounce slot, -1 for a ring part */
	unsigned releases;
};

struct bounce {
	struct loop *l;
	unsigned char *pool;
	uint64_t pool_addr;
	bool busy[NBOUNCE];
	struct conv conv[MAXCONV];
	unsigned nconv;
	unsigned calls;	  /* to_device calls */
	unsigned fail_at; /* 0: never; else fail call number fail_at */
	int fail_err;
	unsigned bad_release; /* releases that match no live conversion */
};

static bool is_ring_part(const struct bounce *b, const void *ptr)
{
	return ptr == b->l->desc || ptr == b->l->driver_area || ptr == b->l->device_area;
}

static int bounce_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			    uint64_t *addr)
{
	struct bounce *b = ctx;
	b->calls++;
	if (b->fail_at != 0 && b->calls == b->fail_at)
		return b->fail_err;
	if (b->nconv >= MAXCONV)
		return -VIO_EINVAL;
	struct conv *c = &b->conv[b->nconv];
	if (is_ring_part(b, ptr)) {
		/* The rings are shared memory: converted, never bounced. */
		*addr = gm_addr_of(&b->l->gm, ptr);
		*c = (struct conv){ptr, len, dir, *addr, -1, 0};
		b->nconv++;
		return 0;
	}
	if (len > BSLOT)
		return -VIO_EINVAL;
	int s = 0;
	while (s < NBOUNCE && b->busy[s])
		s++;
	if (s == NBOUNCE)
		return -VIO_ENOSPC; /* the pool is full: a library code, passed through */
	b->busy[s] = true;
	unsigned char *bb = b->pool + (size_t)s * BSLOT;
	if (dir & VIO_DMA_TO_DEVICE)
		memcpy(bb, ptr, len);
	else
		memset(bb, JUNK, len);
	*addr = b->pool_addr + (uint64_t)s * BSLOT;
	*c = (struct conv){ptr, len, dir, *addr, s, 0};
	b->nconv++;
	return 0;
}

static void bounce_release(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			   uint64_t addr)
{
	struct bounce *b = ctx;
	for (unsigned i = b->nconv; i-- > 0;) {
		struct conv *c = &b->conv[i];
		if (c->addr != addr || c->releases != 0)
			continue;
		if (c->ptr != ptr || c->len != len || c->dir != dir)
			break; /* same address, other arguments: wrong */
		c->releases++;
		if (c->slot >= 0) {
			/* The driver gave this range as device-writable: its
			 * memory is writable although the API passes it const. */
			if (dir & VIO_DMA_FROM_DEVICE)
				memcpy((void *)(uintptr_t)ptr, b->pool + (size_t)c->slot * BSLOT,
				       len);
			b->busy[c->slot] = false;
		}
		return;
	}
	b->bad_release++;
}

static const struct vio_dma_ops bounce_ops = {bounce_to_device, bounce_release};

/* Every conversion since the last call was released exactly once; start a
 * new phase. */
static void assert_all_released(struct bounce *b)
{
	assert_int_equal(b->bad_release, 0);
	for (unsigned i = 0; i < b->nconv; i++)
		if (b->conv[i].releases != 1)
			fail_msg("conversion %u (len %zu, dir %d) released %u times", i,
				 b->conv[i].len, (int)b->conv[i].dir, b->conv[i].releases);
	for (unsigned s = 0; s < NBOUNCE; s++)
		assert_false(b->busy[s]);
	b->nconv = 0;
}

static unsigned live_convs(const struct bounce *b)
{
	unsigned n = 0;
	for (unsigned i = 0; i < b->nconv; i++)
		n += b->conv[i].releases == 0;
	return n;
}

/* ---- Fixture: a loop whose driver queue uses the bounce ops ---------------------- */

struct fx {
	enum vio_ring_format fmt;
	struct loop l;
	struct bounce b;
	void *vqmem;
	struct vio_vq *vq;
	struct vio_vq_config vc;
	/* Requests: the driver's buffers live on the heap, out of the device's reach. */
	unsigned char *buf[QSIZE * 2][MAXSEG];
	uint32_t len[QSIZE * 2][MAXSEG];
	unsigned out[QSIZE * 2], in[QSIZE * 2];
	bool live[QSIZE * 2];
};

enum shape {
	DIRECT,
	INDIRECT,
	DIRECT_IN_ORDER
};

/* (Re)build the loop with @shape and a driver queue over the bounce ops. */
static void fx_open(struct fx *f, enum shape shape)
{
	struct loop_cfg lc;
	memset(&lc, 0, sizeof(lc));
	lc.format = f->fmt;
	lc.size = QSIZE;
	lc.features = loop_features(f->fmt, true, shape == INDIRECT);
	if (shape == DIRECT_IN_ORDER)
		vio_features_set(&lc.features, VIO_F_IN_ORDER);
	lc.indirect_max = IMAX;
	lc.indirect_min = 2;
	assert_int_equal(loop_init(&f->l, &lc), 0);

	memset(&f->b, 0, sizeof(f->b));
	f->b.l = &f->l;
	f->b.pool = gm_alloc(&f->l.gm, (size_t)NBOUNCE * BSLOT, 64, &f->b.pool_addr);

	loop_vq_config(&f->l, &f->vc);
	f->vc.dma_ops = &bounce_ops;
	f->vc.dma_ctx = &f->b;
	size_t need = vio_vq_mem_size(&f->vc);
	/* The release records cost memory, exactly as the macros say. */
	size_t imax = shape == INDIRECT ? IMAX : 0;
	assert_int_equal(need, VIO_VQ_MEM_SIZE_DMA(QSIZE, imax));
	assert_true(need > VIO_VQ_MEM_SIZE(QSIZE));
	f->vqmem = aligned_alloc(VIO_VQ_MEM_ALIGN, (need + 7) & ~(size_t)7);
	assert_non_null(f->vqmem);
	assert_err(vio_vq_init(&f->vq, f->vqmem, need - 1, &f->vc), -VIO_EINVAL);
	assert_err(vio_vq_init(&f->vq, f->vqmem, need, &f->vc), 0);
	assert_int_equal(f->b.calls, 0); /* init converts nothing */
	memset(f->live, 0, sizeof(f->live));
}

static void fx_close(struct fx *f)
{
	for (unsigned t = 0; t < QSIZE * 2; t++)
		for (unsigned s = 0; s < MAXSEG; s++) {
			free(f->buf[t][s]);
			f->buf[t][s] = NULL;
		}
	free(f->vqmem);
	f->vqmem = NULL;
	loop_fini(&f->l);
}

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
	free(*state);
	return 0;
}

static uint64_t seg_seed(unsigned t, unsigned s, bool dev)
{
	return loop_mix(t * 16u + s, dev ? 0xde5u : 0xd21u);
}

/* Make request @t: @out readable segments with a pattern, @in writable ones
 * zeroed. Returns vio_vq_add()'s result. */
static int add_req(struct fx *f, unsigned t, unsigned out, unsigned in, uint32_t seglen)
{
	struct vio_sg sg[MAXSEG];
	f->out[t] = out;
	f->in[t] = in;
	for (unsigned s = 0; s < out + in; s++) {
		uint32_t len = seglen != 0 ? seglen : 1u + (t * 7u + s * 13u) % SEGMAX;
		free(f->buf[t][s]);
		f->buf[t][s] = malloc(len);
		assert_non_null(f->buf[t][s]);
		if (s < out)
			loop_pattern_fill(f->buf[t][s], len, seg_seed(t, s, false));
		else
			memset(f->buf[t][s], 0, len);
		f->len[t][s] = len;
		sg[s].addr = f->buf[t][s];
		sg[s].len = len;
	}
	int rc = vio_vq_add(f->vq, sg, out, in, &f->live[t]);
	if (rc == 0)
		f->live[t] = true;
	return rc;
}

static bool in_pool(const struct fx *f, const void *p)
{
	const unsigned char *c = p;
	return c >= f->b.pool && c < f->b.pool + (size_t)NBOUNCE * BSLOT;
}

/* The device pops everything available, checks the readable bytes (it sees
 * only bounce memory), fills the writable ones and pushes them back. */
static unsigned device_serve(struct fx *f)
{
	unsigned n = 0;
	for (;;) {
		struct vio_chain ch;
		struct vio_chain_seg seg[MAXSEG];
		int rc = vio_devq_pop(f->l.dq, &ch, seg, MAXSEG);
		if (rc == -VIO_EAGAIN)
			break;
		assert_err(rc, 0);
		/* Find the request by its first segment's bytes: the device
		 * does not know tokens. Requests are identified by content. */
		int t = -1;
		for (unsigned k = 0; k < QSIZE * 2 && t < 0; k++) {
			if (!f->live[k] || f->out[k] + f->in[k] != ch.nseg || f->out[k] != ch.nout)
				continue;
			bool same = true;
			for (unsigned s = 0; s < ch.nout && same; s++)
				same = seg[s].len == f->len[k][s] &&
				       loop_pattern_check(seg[s].ptr, seg[s].len,
							  seg_seed(k, s, false)) == seg[s].len;
			for (unsigned s = ch.nout; s < ch.nseg && same; s++)
				same = seg[s].len == f->len[k][s];
			if (same)
				t = (int)k;
		}
		if (t < 0)
			fail_msg("the device popped a chain matching no request's bounced data");
		uint32_t written = 0;
		for (unsigned s = 0; s < ch.nseg; s++) {
			assert_true(in_pool(f, seg[s].ptr)); /* only bounce memory */
			if (s >= ch.nout) {
				/* A fresh writable bounce slot holds junk, not the
				 * driver's zeroes: nothing was copied in. */
				assert_int_equal(((unsigned char *)seg[s].ptr)[0], JUNK);
				loop_pattern_fill(seg[s].ptr, seg[s].len,
						  seg_seed((unsigned)t, s, true));
				written += seg[s].len;
			}
		}
		assert_err(vio_devq_push(f->l.dq, &ch, written), 0);
		n++;
	}
	return n;
}

/* The driver reaps everything and checks that the device's bytes came back. */
static unsigned driver_reap(struct fx *f)
{
	unsigned n = 0;
	void *tok;
	uint32_t len;
	int rc;
	while ((rc = vio_vq_get(f->vq, &tok, &len)) == 0) {
		unsigned t = (unsigned)((bool *)tok - f->live);
		assert_true(t < QSIZE * 2 && f->live[t]);
		uint32_t want = 0;
		for (unsigned s = f->out[t]; s < f->out[t] + f->in[t]; s++) {
			want += f->len[t][s];
			assert_int_equal(loop_pattern_check(f->buf[t][s], f->len[t][s],
							    seg_seed(t, s, true)),
					 f->len[t][s]);
		}
		assert_int_equal(len, want);
		f->live[t] = false;
		n++;
	}
	assert_err(rc, -VIO_EAGAIN);
	return n;
}

/* ---- Tests ------------------------------------------------------------------------- */

/* Data round-trips through bounce buffers; every conversion is released
 * exactly once, at reap. */
static void test_dma_bounce_roundtrip(void **state)
{
	struct fx *f = *state;
	static const enum shape shapes[] = {DIRECT, INDIRECT, DIRECT_IN_ORDER};
	for (size_t sh = 0; sh < sizeof(shapes) / sizeof(shapes[0]); sh++) {
		fx_open(f, shapes[sh]);
		unsigned next = 0;
		for (unsigned round = 0; round < 40; round++) {
			unsigned batch = 1 + round % 4;
			for (unsigned k = 0; k < batch; k++) {
				unsigned out = 1 + (round + k) % 3, in = (round * 3 + k) % 4;
				unsigned t = next++ % (QSIZE * 2);
				if (f->live[t])
					continue;
				assert_err(add_req(f, t, out, in, 0), 0);
			}
			(void)vio_vq_kick_prepare(f->vq);
			unsigned live = live_convs(&f->b);
			assert_true(live > 0);
			unsigned served = device_serve(f);
			/* Nothing is released before the driver reaps. */
			assert_int_equal(live_convs(&f->b), live);
			assert_int_equal(driver_reap(f), served);
			assert_int_equal(live_convs(&f->b), 0);
			assert_all_released(&f->b);
		}
		assert_false(vio_vq_is_broken(f->vq));
		fx_close(f);
	}
}

/* to_device fails at the k-th conversion of an add, for every k: the add
 * fails with that error and every conversion it made is released. A full
 * bounce pool (-VIO_ENOSPC) is passed through. */
static void test_dma_add_failure_releases(void **state)
{
	struct fx *f = *state;
	static const struct {
		enum shape shape;
		unsigned out, in, calls;
	} cases[] = {
		{DIRECT, 1, 0, 1},   {DIRECT, 1, 2, 3},
		{DIRECT, 3, 3, 6},   {INDIRECT, 1, 2, 4}, /* 3 entries + the table */
		{INDIRECT, 3, 3, 7},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		fx_open(f, cases[c].shape);
		for (unsigned k = 1; k <= cases[c].calls; k++) {
			unsigned nfree = vio_vq_num_free(f->vq);
			f->b.calls = 0;
			f->b.fail_at = k;
			f->b.fail_err = -VIO_ENOSPC;
			assert_err(add_req(f, 0, cases[c].out, cases[c].in, 0), -VIO_ENOSPC);
			assert_int_equal(f->b.calls, k);
			assert_int_equal(f->b.nconv, k - 1);
			assert_int_equal(live_convs(&f->b), 0);
			assert_all_released(&f->b);
			assert_int_equal(vio_vq_num_free(f->vq), nfree);
			assert_false(vio_vq_is_broken(f->vq));
			f->b.fail_at = 0;
			/* Nothing was published; the same request then works. */
			assert_int_equal(device_serve(f), 0);
			assert_err(add_req(f, 0, cases[c].out, cases[c].in, 0), 0);
			assert_int_equal(f->b.calls, cases[c].calls + k);
			assert_int_equal(device_serve(f), 1);
			assert_int_equal(driver_reap(f), 1);
			assert_all_released(&f->b);
		}
		/* Requests until -VIO_ENOSPC: the ring runs out (direct) or the
		 * bounce pool does, part way through an add (indirect tables). */
		unsigned t = 0;
		int rc;
		while ((rc = add_req(f, t, 3, 3, 0)) == 0)
			t++;
		assert_err(rc, -VIO_ENOSPC);
		assert_true(t > 0);
		assert_int_equal(device_serve(f), t);
		assert_int_equal(driver_reap(f), t);
		assert_all_released(&f->b);
		fx_close(f);
	}
}

/* Buffers outstanding at a reset are taken back with detach_unused, which
 * releases each conversion once; the ring-part conversions are the
 * caller's. */
static void test_dma_detach_after_reset(void **state)
{
	struct fx *f = *state;
	static const enum shape shapes[] = {DIRECT, INDIRECT};
	for (size_t sh = 0; sh < 2; sh++) {
		fx_open(f, shapes[sh]);
		for (unsigned t = 0; t < 6; t++)
			assert_err(add_req(f, t, 1 + t % 2, t % 3, 0), 0);
		/* The device takes two chains and completes none. */
		struct vio_chain ch;
		struct vio_chain_seg seg[MAXSEG];
		assert_err(vio_devq_pop(f->l.dq, &ch, seg, MAXSEG), 0);
		assert_err(vio_devq_pop(f->l.dq, &ch, seg, MAXSEG), 0);
		vio_devq_reset(f->l.dq);
		unsigned live = live_convs(&f->b);
		assert_true(live > 0);

		unsigned n = 0;
		void *tok;
		while (vio_vq_detach_unused(f->vq, &tok) == 0) {
			unsigned t = (unsigned)((bool *)tok - f->live);
			assert_true(t < 6 && f->live[t]);
			f->live[t] = false;
			n++;
		}
		assert_int_equal(n, 6);
		assert_all_released(&f->b);
		vio_vq_reset(f->vq);
		assert_int_equal(f->b.nconv, 0); /* reset converts and releases nothing */

		/* The queue works again. */
		assert_err(add_req(f, 0, 2, 2, 0), 0);
		assert_int_equal(device_serve(f), 1);
		assert_int_equal(driver_reap(f), 1);
		assert_all_released(&f->b);
		fx_close(f);
	}
}

/* A callback error never looks like a hostile device: peer codes and values
 * that are not library codes become -VIO_EDMA; library codes pass. */
static void test_dma_error_mapping(void **state)
{
	struct fx *f = *state;
	static const struct {
		int err, want;
	} cases[] = {
		{-VIO_ENOSPC, -VIO_ENOSPC},
		{-VIO_EAGAIN, -VIO_EAGAIN},
		{-VIO_EINVAL, -VIO_EINVAL},
		{-VIO_EMAP_AGAIN, -VIO_EMAP_AGAIN},
		{-VIO_EDMA, -VIO_EDMA},
		{-VIO_EUSED_ID, -VIO_EDMA},
		{-VIO_EDESC_LOOP, -VIO_EDMA},
		{-VIO_EMAP, -VIO_EDMA},
		{-1000, -VIO_EDMA},
		{-9, -VIO_EDMA}, /* unused value between codes */
		{1, -VIO_EDMA},
		{42, -VIO_EDMA},
	};
	fx_open(f, INDIRECT);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		/* k = 1: a one-segment add (direct); k = 2: the second entry of
		 * a three-segment indirect table. */
		for (unsigned k = 1; k <= 2; k++) {
			f->b.calls = 0;
			f->b.fail_at = k;
			f->b.fail_err = cases[c].err;
			unsigned out = k == 1 ? 1 : 2, in = k == 1 ? 0 : 1;
			assert_err(add_req(f, 0, out, in, 0), cases[c].want);
			assert_false(vio_err_is_peer(cases[c].want));
			assert_false(vio_vq_is_broken(f->vq));
			assert_int_equal(vio_vq_broken_reason(f->vq), 0);
			assert_all_released(&f->b);
		}
		/* vio_vq_ring_addrs(): the same mapping, and the parts converted
		 * before the failure are released. */
		for (unsigned k = 1; k <= 3; k++) {
			uint64_t a[3] = {0, 0, 0};
			f->b.calls = 0;
			f->b.fail_at = k;
			f->b.fail_err = cases[c].err;
			assert_err(vio_vq_ring_addrs(f->vq, &a[0], &a[1], &a[2]), cases[c].want);
			assert_int_equal(f->b.nconv, k - 1);
			assert_all_released(&f->b);
		}
	}
	f->b.fail_at = 0;
	assert_err(add_req(f, 0, 1, 1, 0), 0);
	assert_int_equal(device_serve(f), 1);
	assert_int_equal(driver_reap(f), 1);
	assert_all_released(&f->b);
	fx_close(f);
}

/* The ring parts: converted with their directions by vio_vq_ring_addrs(),
 * never released by the data path, released once by
 * vio_vq_ring_addrs_release(). */
static void test_dma_ring_addrs(void **state)
{
	struct fx *f = *state;
	fx_open(f, DIRECT);
	bool split = f->fmt == VIO_RING_SPLIT;
	uint64_t a[3];
	assert_err(vio_vq_ring_addrs(f->vq, &a[0], &a[1], &a[2]), 0);
	assert_int_equal(a[0], f->l.desc_addr);
	assert_int_equal(a[1], f->l.driver_addr);
	assert_int_equal(a[2], f->l.device_addr);
	assert_int_equal(f->b.nconv, 3);
	const struct conv *c = f->b.conv;
	assert_ptr_equal(c[0].ptr, f->l.desc);
	assert_int_equal(c[0].len,
			 split ? VIO_SPLIT_DESC_SIZE(QSIZE) : VIO_PACKED_DESC_SIZE(QSIZE));
	assert_int_equal(c[0].dir, split ? VIO_DMA_TO_DEVICE : VIO_DMA_BIDIRECTIONAL);
	assert_ptr_equal(c[1].ptr, f->l.driver_area);
	assert_int_equal(c[1].len, split ? VIO_SPLIT_AVAIL_SIZE(QSIZE) : VIO_PACKED_EVENT_SIZE);
	assert_int_equal(c[1].dir, VIO_DMA_TO_DEVICE);
	assert_ptr_equal(c[2].ptr, f->l.device_area);
	assert_int_equal(c[2].len, split ? VIO_SPLIT_USED_SIZE(QSIZE) : VIO_PACKED_EVENT_SIZE);
	assert_int_equal(c[2].dir, VIO_DMA_BIDIRECTIONAL);

	/* Traffic, a reset and detach leave the ring conversions alone. */
	for (unsigned t = 0; t < 4; t++)
		assert_err(add_req(f, t, 1, 1, 0), 0);
	assert_int_equal(device_serve(f), 4);
	assert_int_equal(driver_reap(f), 4);
	assert_err(add_req(f, 0, 1, 1, 0), 0);
	void *tok;
	assert_err(vio_vq_detach_unused(f->vq, &tok), 0);
	vio_vq_reset(f->vq);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(f->b.conv[i].releases, 0);

	vio_vq_ring_addrs_release(f->vq, a[0], a[1], a[2]);
	assert_all_released(&f->b);
	fx_close(f);
}

/* Without a release hook nothing is recorded and the memory is the plain
 * size; with identity conversion and a release hook, release still runs. */
static void test_dma_mem_size(void **state)
{
	struct fx *f = *state;
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	c.format = f->fmt;
	c.size = QSIZE;
	assert_int_equal(vio_vq_mem_size(&c), VIO_VQ_MEM_SIZE(QSIZE));
	static const struct vio_dma_ops to_only = {bounce_to_device, NULL};
	c.dma_ops = &to_only;
	assert_int_equal(vio_vq_mem_size(&c), VIO_VQ_MEM_SIZE(QSIZE));
	c.dma_ops = &bounce_ops;
	assert_int_equal(vio_vq_mem_size(&c), VIO_VQ_MEM_SIZE_DMA(QSIZE, 0));
	/* indirect_max counts only with the feature and a pool. */
	c.indirect_max = IMAX;
	assert_int_equal(vio_vq_mem_size(&c), VIO_VQ_MEM_SIZE_DMA(QSIZE, 0));
	vio_features_set(&c.features, VIO_F_INDIRECT_DESC);
	c.indirect_pool = &c; /* any non-NULL pointer: only sized here */
	assert_int_equal(vio_vq_mem_size(&c), VIO_VQ_MEM_SIZE_DMA(QSIZE, IMAX));
	assert_int_equal(vio_vq_mem_size(NULL), 0);
	c.size = 0;
	assert_int_equal(vio_vq_mem_size(&c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_dma_bounce_roundtrip),   BOTH(test_dma_add_failure_releases),
		BOTH(test_dma_detach_after_reset), BOTH(test_dma_error_mapping),
		BOTH(test_dma_ring_addrs),	   BOTH(test_dma_mem_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
