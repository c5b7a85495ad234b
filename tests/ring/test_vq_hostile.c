/* SPDX-License-Identifier: MIT */
/* A hostile device against the driver half (vio_vq), both ring formats.
 *
 * The driver publishes chains through the library; a mock device (raw_ring)
 * reads them and writes used entries by hand, bogus ones included. Each
 * violation must give its exact error code, latch the queue broken, make
 * later calls return -VIO_EBROKEN, still let vio_vq_detach_unused() return
 * every outstanding token, and be cleared by vio_vq_reset(). Also the
 * driver-side argument errors and callback failures. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "guest_mem.h"
#include "raw_ring.h"

#define QSIZE 8
#define IMAX 4 /* descriptors per indirect table */
#define IMIN 3 /* chains of 3..IMAX segments go indirect */
#define NTOK 64
#define DATA_LEN 4096
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* to_device through guest_mem, counting calls, optionally failing call n. */
struct drv_ctx {
	struct guest_mem *gm;
	unsigned calls;
	unsigned fail_at; /* 0: never */
	int err;
};

static int counting_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			      uint64_t *addr)
{
	struct drv_ctx *c = ctx;
	c->calls++;
	if (c->fail_at != 0 && c->calls == c->fail_at)
		return c->err;
	return gm_drv_ops.to_device(c->gm, ptr, len, dir, addr);
}

static const struct vio_dma_ops counting_ops = {counting_to_device, NULL};

/* vio_vq_mem_size() of a queue with no release hook. */
static size_t mem_size(enum vio_ring_format fmt, uint16_t size)
{
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	c.format = fmt;
	c.size = size;
	return vio_vq_mem_size(&c);
}

struct fx {
	enum vio_ring_format fmt;
	struct guest_mem gm;
	struct raw_ring r; /* the mock device's view of the vq's ring */
	struct vio_vq_config cfg;
	struct vio_vq *vq;
	void *vqmem;
	size_t vqmem_size;
	unsigned char *data;
	uint64_t data_addr;
	void *pool;
	uint64_t pool_addr;
	struct drv_ctx dctx;
	int tok[NTOK];	 /* tokens are &tok[i] */
	bool live[NTOK]; /* token i is outstanding */
	unsigned next_buf;
};

static bool is_split(const struct fx *f)
{
	return f->fmt == VIO_RING_SPLIT;
}

static struct vio_features default_features(void)
{
	struct vio_features feat = vio_features_none();
	vio_features_set(&feat, VIO_F_VERSION_1);
	vio_features_set(&feat, VIO_F_INDIRECT_DESC);
	return feat;
}

static void base_config(struct fx *f, struct vio_vq_config *c)
{
	memset(c, 0, sizeof(*c));
	raw_ring_vq_config(&f->r, c);
	c->index = 3;
	c->features = default_features();
	c->indirect_pool = f->pool;
	c->indirect_max = IMAX;
	c->indirect_min = IMIN;
	if (f->fmt == VIO_RING_PACKED)
		vio_features_set(&c->features, VIO_F_RING_PACKED);
	c->dma_ops = &counting_ops;
	c->dma_ctx = &f->dctx;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	gm_init(&f->gm);
	raw_ring_alloc(&f->r, &f->gm, f->fmt, QSIZE);
	f->data = gm_alloc(&f->gm, DATA_LEN, 16, &f->data_addr);
	f->pool = gm_alloc(&f->gm, (size_t)QSIZE * IMAX * 16, 16, &f->pool_addr);
	f->dctx.gm = &f->gm;
	f->vqmem_size = mem_size(f->fmt, QSIZE);
	assert_true(f->vqmem_size > 0);
	f->vqmem = malloc(f->vqmem_size + 64);
	assert_non_null(f->vqmem);
	base_config(f, &f->cfg);
	assert_err(vio_vq_init(&f->vq, f->vqmem, f->vqmem_size, &f->cfg), 0);
	assert_int_equal(f->dctx.calls, 0); /* init calls no callback */
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	gm_free(&f->gm);
	free(f->vqmem);
	free(f);
	return 0;
}

/* ---- Driver side with a token ledger ---------------------------------------- */

static unsigned tok_index(const struct fx *f, const void *t)
{
	const int *p = t;
	assert_true(p >= f->tok && p < f->tok + NTOK);
	return (unsigned)(p - f->tok);
}

/* Add @out readable then @in writable segments of @seglen bytes each. */
static int add(struct fx *f, unsigned out, unsigned in, uint32_t seglen, unsigned *tok)
{
	struct vio_sg sg[QSIZE + 4];
	assert_true(out + in <= ARRAY_SIZE(sg));
	for (unsigned k = 0; k < out + in; k++) {
		sg[k].addr = f->data + 64 * (f->next_buf++ % 60);
		sg[k].len = seglen;
	}
	unsigned t = 0;
	while (f->live[t])
		t++;
	assert_true(t < NTOK);
	int rc = vio_vq_add(f->vq, sg, out, in, &f->tok[t]);
	if (rc == 0)
		f->live[t] = true;
	if (tok != NULL)
		*tok = t;
	return rc;
}

static int get(struct fx *f, unsigned *tok, uint32_t *len)
{
	void *t = NULL;
	uint32_t l = 0xdeadbeef;
	int rc = vio_vq_get(f->vq, &t, &l);
	if (rc == 0) {
		unsigned i = tok_index(f, t);
		assert_true(f->live[i]);
		f->live[i] = false;
		if (tok != NULL)
			*tok = i;
		if (len != NULL)
			*len = l;
	}
	return rc;
}

static unsigned live_count(const struct fx *f)
{
	unsigned n = 0;
	for (unsigned i = 0; i < NTOK; i++)
		n += f->live[i];
	return n;
}

/* ---- Mock device ------------------------------------------------------------ */

struct pend {
	uint16_t id;
	uint16_t ndesc;
};

static int dev_next(struct fx *f, struct pend *p)
{
	p->ndesc = 1;
	if (is_split(f))
		return raw_split_avail_next(&f->r, &p->id);
	return raw_packed_avail_next(&f->r, &p->id, &p->ndesc);
}

static struct pend dev_take(struct fx *f)
{
	struct pend p;
	assert_int_equal(dev_next(f, &p), 0);
	return p;
}

/* A used entry exactly as told (packed: WRITE iff @len is non-zero). */
static void dev_used(struct fx *f, uint32_t id, uint32_t len, uint16_t ndesc)
{
	if (is_split(f))
		raw_split_used_add(&f->r, id, len);
	else
		raw_packed_used_add(&f->r, (uint16_t)id, len, len != 0 ? VIO_DESC_F_WRITE : 0,
				    ndesc);
}

/* ---- The broken-state contract -------------------------------------------------- */

/* One chain goes round the ring. */
static void check_works(struct fx *f)
{
	unsigned t, t2;
	uint32_t len;
	assert_err(add(f, 1, 1, 32, &t), 0);
	struct pend p = dev_take(f);
	struct pend none;
	assert_int_equal(dev_next(f, &none), -1);
	dev_used(f, p.id, 20, p.ndesc);
	assert_true(vio_vq_has_used(f->vq));
	assert_err(get(f, &t2, &len), 0);
	assert_int_equal(t2, t);
	assert_int_equal(len, 20);
	assert_err(get(f, NULL, NULL), -VIO_EAGAIN);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
	assert_false(vio_vq_is_broken(f->vq));
}

/* Detach everything outstanding: each live token exactly once. */
static void detach_all(struct fx *f)
{
	unsigned expect = live_count(f);
	for (unsigned n = 0; n < expect; n++) {
		void *t = NULL;
		assert_err(vio_vq_detach_unused(f->vq, &t), 0);
		unsigned i = tok_index(f, t);
		assert_true(f->live[i]);
		f->live[i] = false;
	}
	void *t = NULL;
	assert_err(vio_vq_detach_unused(f->vq, &t), -VIO_EAGAIN);
	assert_err(vio_vq_detach_unused(f->vq, &t), -VIO_EAGAIN);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
}

/* Reset the queue and the mock device; the queue works again. */
static void reset_all(struct fx *f)
{
	vio_vq_reset(f->vq);
	raw_ring_rewind(&f->r);
	memset(f->live, 0, sizeof(f->live));
	assert_false(vio_vq_is_broken(f->vq));
	assert_int_equal(vio_vq_broken_reason(f->vq), 0);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
	/* The rings are zeroed. */
	if (is_split(f)) {
		assert_int_equal(raw_split_avail_idx_get(&f->r), 0);
		assert_int_equal(raw_split_used_idx_get(&f->r), 0);
	} else {
		for (uint16_t s = 0; s < QSIZE; s++)
			assert_int_equal(raw_packed_flags_get(&f->r, s), 0);
	}
}

static void expect_broken(struct fx *f, int err)
{
	assert_true(vio_err_is_peer(err));
	assert_true(vio_vq_is_broken(f->vq));
	/* The reason is the error that broke the queue, and it stays. */
	assert_err(vio_vq_broken_reason(f->vq), err);
	unsigned nfree = vio_vq_num_free(f->vq);

	struct vio_sg sg = {f->data, 8};
	for (int k = 0; k < 2; k++) {
		assert_err(vio_vq_add(f->vq, &sg, 1, 0, &f->tok[NTOK - 1]), -VIO_EBROKEN);
		assert_err(get(f, NULL, NULL), -VIO_EBROKEN);
		assert_false(vio_vq_has_used(f->vq));
		assert_false(vio_vq_kick_prepare(f->vq));
	}
	assert_int_equal(vio_vq_num_free(f->vq), nfree);
	assert_true(vio_vq_is_broken(f->vq));

	assert_err(vio_vq_broken_reason(f->vq), err);

	/* Outstanding buffers can still be taken back. */
	detach_all(f);
	assert_true(vio_vq_is_broken(f->vq));
	assert_err(vio_vq_broken_reason(f->vq), err);

	reset_all(f);
	check_works(f);
	reset_all(f);
}

static void expect_get_breaks(struct fx *f, int err)
{
	assert_err(get(f, NULL, NULL), err);
	expect_broken(f, err);
}

/* ---- Used ids --------------------------------------------------------------------- */

static void test_vq_used_id_out_of_range(void **state)
{
	struct fx *f = *state;
	static const uint32_t split_ids[] = {QSIZE,	  QSIZE + 1,   0xffff,	   0x10000,
					     0x10000 | 1, 0x80000000u, 0xffffffffu};
	static const uint32_t packed_ids[] = {QSIZE, QSIZE + 1, 0x7fff, 0x8000, 0xffff};
	const uint32_t *ids = is_split(f) ? split_ids : packed_ids;
	size_t n = is_split(f) ? ARRAY_SIZE(split_ids) : ARRAY_SIZE(packed_ids);
	for (size_t i = 0; i < n; i++) {
		assert_err(add(f, 1, 1, 16, NULL), 0);
		assert_err(add(f, 1, 0, 16, NULL), 0);
		struct pend p = dev_take(f);
		dev_used(f, ids[i], 0, p.ndesc);
		expect_get_breaks(f, -VIO_EUSED_ID);
	}
}

/* Split: a used id that names a descriptor inside a chain, not its head. */
static void test_vq_split_used_midchain(void **state)
{
	struct fx *f = *state;
	for (unsigned which = 0; which < 3; which++) {
		/* A: 2 descriptors; B: 6 direct descriptors (more than IMAX). */
		assert_err(add(f, 1, 1, 16, NULL), 0);
		assert_err(add(f, 3, 3, 16, NULL), 0);
		assert_int_equal(vio_vq_num_free(f->vq), 0);
		struct pend a = dev_take(f), b = dev_take(f);
		/* Follow the chains in the table to find non-head descriptors. */
		struct raw_desc d;
		raw_desc_get(f->r.desc, a.id, VIO_RING_SPLIT, &d);
		assert_true(d.flags & VIO_DESC_F_NEXT);
		uint16_t a_second = d.next_or_id;
		uint16_t b_last = b.id;
		for (int k = 0; k < 5; k++) {
			raw_desc_get(f->r.desc, b_last, VIO_RING_SPLIT, &d);
			assert_true(d.flags & VIO_DESC_F_NEXT);
			b_last = d.next_or_id;
		}
		raw_desc_get(f->r.desc, b_last, VIO_RING_SPLIT, &d);
		assert_false(d.flags & VIO_DESC_F_NEXT);
		uint16_t bad = which == 0 ? a_second : b_last;
		if (which == 2) {
			/* Complete A properly first; then name B's second descriptor. */
			dev_used(f, a.id, 0, 1);
			assert_err(get(f, NULL, NULL), 0);
			raw_desc_get(f->r.desc, b.id, VIO_RING_SPLIT, &d);
			bad = d.next_or_id;
		}
		dev_used(f, bad, 0, 1);
		expect_get_breaks(f, -VIO_EUSED_MIDCHAIN);
	}
}

static void test_vq_used_id_never_added(void **state)
{
	struct fx *f = *state;
	assert_err(add(f, 1, 1, 16, NULL), 0); /* split: descriptors 0, 1; packed: id 0 */
	struct pend p = dev_take(f);
	assert_int_equal(p.id, 0);
	dev_used(f, QSIZE - 1, 0, 1);
	expect_get_breaks(f, -VIO_EUSED_STALE);

	/* On a queue with nothing outstanding (split: the used index itself is
	 * already a jump; packed: the id is stale). */
	dev_used(f, 0, 0, 1);
	expect_get_breaks(f, is_split(f) ? -VIO_EUSED_JUMP : -VIO_EUSED_STALE);
}

static void test_vq_used_completed_twice(void **state)
{
	struct fx *f = *state;
	/* Twice in separate rounds. */
	unsigned ta;
	assert_err(add(f, 1, 1, 16, &ta), 0);
	assert_err(add(f, 1, 1, 16, NULL), 0);
	struct pend a = dev_take(f);
	(void)dev_take(f);
	dev_used(f, a.id, 4, a.ndesc);
	unsigned t;
	assert_err(get(f, &t, NULL), 0);
	assert_int_equal(t, ta);
	dev_used(f, a.id, 4, a.ndesc);
	expect_get_breaks(f, -VIO_EUSED_STALE);

	/* Twice in one batch. */
	assert_err(add(f, 1, 1, 16, &ta), 0);
	assert_err(add(f, 1, 1, 16, NULL), 0);
	a = dev_take(f);
	(void)dev_take(f);
	dev_used(f, a.id, 4, a.ndesc);
	dev_used(f, a.id, 4, a.ndesc);
	assert_err(get(f, &t, NULL), 0);
	assert_int_equal(t, ta);
	expect_get_breaks(f, -VIO_EUSED_STALE);

	/* A detached buffer is not outstanding either. */
	assert_err(add(f, 1, 1, 16, NULL), 0);
	a = dev_take(f);
	detach_all(f);
	dev_used(f, a.id, 0, a.ndesc);
	expect_get_breaks(f, is_split(f) ? -VIO_EUSED_JUMP : -VIO_EUSED_STALE);
}

/* ---- Used lengths ------------------------------------------------------------------ */

static void test_vq_used_len_too_long(void **state)
{
	struct fx *f = *state;
	/* out 1 + in 1 (direct) and out 1 + in 2 (indirect): 100 writable bytes. */
	struct {
		unsigned out, in;
		uint32_t seglen;
	} shapes[] = {{1, 1, 100}, {1, 2, 50}, {2, 4, 25}};
	static const uint32_t bad[] = {101, 1000, 0x80000000u, 0xffffffffu};
	for (size_t s = 0; s < ARRAY_SIZE(shapes); s++) {
		uint32_t in_bytes = shapes[s].in * shapes[s].seglen;
		assert_int_equal(in_bytes, 100);
		/* The exact amount is fine. */
		unsigned t, t2;
		uint32_t len;
		assert_err(add(f, shapes[s].out, shapes[s].in, shapes[s].seglen, &t), 0);
		struct pend p = dev_take(f);
		dev_used(f, p.id, in_bytes, p.ndesc);
		assert_err(get(f, &t2, &len), 0);
		assert_int_equal(t2, t);
		assert_int_equal(len, 100);
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			assert_err(add(f, shapes[s].out, shapes[s].in, shapes[s].seglen, NULL), 0);
			p = dev_take(f);
			dev_used(f, p.id, bad[i], p.ndesc);
			expect_get_breaks(f, -VIO_EUSED_LEN);
		}
	}
}

/* Split: a read-only chain offers no writable bytes at all. */
static void test_vq_split_used_len_readonly_chain(void **state)
{
	struct fx *f = *state;
	uint32_t len;
	assert_err(add(f, 2, 0, 64, NULL), 0);
	struct pend p = dev_take(f);
	dev_used(f, p.id, 0, 1);
	assert_err(get(f, NULL, &len), 0);
	assert_int_equal(len, 0);

	assert_err(add(f, 2, 0, 64, NULL), 0);
	p = dev_take(f);
	dev_used(f, p.id, 1, 1);
	expect_get_breaks(f, -VIO_EUSED_LEN);
}

/* Packed §2.8.4: the length counts only with WRITE in the used descriptor. */
static void test_vq_packed_used_len_readonly_chain(void **state)
{
	struct fx *f = *state;
	uint32_t len;
	unsigned t, t2;

	/* WRITE clear: any length is reported as 0, not an error. */
	assert_err(add(f, 2, 0, 64, &t), 0);
	struct pend p = dev_take(f);
	raw_packed_used_add(&f->r, p.id, 12345, 0, p.ndesc);
	assert_err(get(f, &t2, &len), 0);
	assert_int_equal(t2, t);
	assert_int_equal(len, 0);

	/* A writable chain takes the length with WRITE clear, as QEMU writes
	 * it (QEMU never sets WRITE in a used descriptor; Linux reads the
	 * length regardless), still bounded by the writable bytes. */
	assert_err(add(f, 1, 1, 64, &t), 0);
	p = dev_take(f);
	raw_packed_used_add(&f->r, p.id, 40, 0, p.ndesc);
	assert_err(get(f, &t2, &len), 0);
	assert_int_equal(t2, t);
	assert_int_equal(len, 40);

	assert_err(add(f, 1, 1, 64, NULL), 0);
	p = dev_take(f);
	raw_packed_used_add(&f->r, p.id, 65, 0, p.ndesc);
	expect_get_breaks(f, -VIO_EUSED_LEN);

	/* WRITE set with a length on a read-only chain: a lie. */
	assert_err(add(f, 2, 0, 64, NULL), 0);
	p = dev_take(f);
	raw_packed_used_add(&f->r, p.id, 1, VIO_DESC_F_WRITE, p.ndesc);
	expect_get_breaks(f, -VIO_EUSED_LEN);

	/* WRITE set with length 0 is fine. */
	assert_err(add(f, 2, 0, 64, NULL), 0);
	p = dev_take(f);
	raw_packed_used_add(&f->r, p.id, 0, VIO_DESC_F_WRITE, p.ndesc);
	assert_err(get(f, NULL, &len), 0);
	assert_int_equal(len, 0);
}

/* ---- Used index / used flags ---------------------------------------------------- */

static void test_vq_split_used_idx_jump(void **state)
{
	struct fx *f = *state;
	static const uint16_t jumps[] = {3, 4, QSIZE, 0x8000, 0xffff};
	for (size_t i = 0; i < ARRAY_SIZE(jumps); i++) {
		assert_err(add(f, 1, 0, 8, NULL), 0);
		assert_err(add(f, 1, 0, 8, NULL), 0);
		struct pend a = dev_take(f), b = dev_take(f);
		raw_split_used_elem_set(&f->r, 0, a.id, 0);
		raw_split_used_elem_set(&f->r, 1, b.id, 0);
		raw_split_used_publish(&f->r, jumps[i]); /* 2 outstanding */
		expect_get_breaks(f, -VIO_EUSED_JUMP);
	}

	/* Relative to what was already reaped: 1 outstanding, idx + 2. */
	assert_err(add(f, 1, 0, 8, NULL), 0);
	assert_err(add(f, 1, 0, 8, NULL), 0);
	struct pend a = dev_take(f), b = dev_take(f);
	dev_used(f, a.id, 0, 1);
	assert_err(get(f, NULL, NULL), 0);
	raw_split_used_elem_set(&f->r, 1, b.id, 0);
	raw_split_used_publish(&f->r, 3);
	expect_get_breaks(f, -VIO_EUSED_JUMP);

	/* Exactly the outstanding count is fine. */
	assert_err(add(f, 1, 0, 8, NULL), 0);
	assert_err(add(f, 1, 0, 8, NULL), 0);
	a = dev_take(f);
	b = dev_take(f);
	raw_split_used_elem_set(&f->r, 0, b.id, 0);
	raw_split_used_elem_set(&f->r, 1, a.id, 0);
	raw_split_used_publish(&f->r, 2);
	assert_err(get(f, NULL, NULL), 0);
	assert_err(get(f, NULL, NULL), 0);
	assert_err(get(f, NULL, NULL), -VIO_EAGAIN);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
}

/* Packed: a descriptor is used only when AVAIL and USED both equal the
 * driver's used wrap counter (§2.8.1). */
static void test_vq_packed_half_used_flags(void **state)
{
	struct fx *f = *state;
	for (int lap = 0; lap < 2; lap++) {
		bool wrap = lap == 0;
		unsigned t, t2;
		uint32_t len;
		assert_err(add(f, 1, 1, 16, &t), 0);
		struct pend p = dev_take(f);
		uint16_t slot = f->r.used_idx;
		assert_int_equal(f->r.used_wrap, wrap);
		struct vio_packed_desc *d = &((struct vio_packed_desc *)f->r.desc)[slot];
		d->id = vio_le16_make(p.id);
		d->len = vio_le32_make(8);
		const uint16_t halves[] = {
			VIO_DESC_F_AVAIL | VIO_DESC_F_WRITE,
			VIO_DESC_F_USED | VIO_DESC_F_WRITE,
			(uint16_t)((wrap ? 0 : VIO_DESC_F_AVAIL | VIO_DESC_F_USED) |
				   VIO_DESC_F_WRITE),
		};
		for (size_t h = 0; h < ARRAY_SIZE(halves); h++) {
			raw_packed_flags_set(&f->r, slot, halves[h]);
			assert_false(vio_vq_has_used(f->vq));
			assert_err(get(f, NULL, NULL), -VIO_EAGAIN);
			assert_false(vio_vq_is_broken(f->vq));
		}
		dev_used(f, p.id, 8, p.ndesc);
		assert_true(vio_vq_has_used(f->vq));
		assert_err(get(f, &t2, &len), 0);
		assert_int_equal(t2, t);
		assert_int_equal(len, 8);
		/* Move to the second lap. */
		while (lap == 0 && f->r.used_wrap) {
			assert_err(add(f, 1, 0, 8, NULL), 0);
			p = dev_take(f);
			dev_used(f, p.id, 0, p.ndesc);
			assert_err(get(f, NULL, NULL), 0);
		}
	}
}

/* ---- The shadow, not the ring ----------------------------------------------------- */

static void test_vq_device_rewrites_descriptors(void **state)
{
	struct fx *f = *state;
	for (int round = 0; round < 3; round++) {
		unsigned ta, tb, tc;
		/* A: 2 direct; B: 3 indirect; C: 5 direct = 8 descriptors. */
		assert_err(add(f, 1, 1, 8, &ta), 0);
		assert_err(add(f, 1, 2, 8, &tb), 0);
		assert_err(add(f, 2, 3, 8, &tc), 0);
		assert_int_equal(vio_vq_num_free(f->vq), 0);
		struct pend a = dev_take(f), b = dev_take(f), c = dev_take(f);
		if (!is_split(f)) {
			assert_int_equal(a.ndesc, 2);
			assert_int_equal(b.ndesc, 1);
			assert_int_equal(c.ndesc, 5);
		}
		/* The device scribbles over every descriptor and indirect table. */
		unsigned char *dt = f->r.desc;
		for (size_t i = 0; i < raw_ring_desc_bytes(&f->r); i++)
			dt[i] = (unsigned char)(0x5a ^ (i * 37) ^ (unsigned)round);
		memset(f->pool, 0xff, (size_t)QSIZE * IMAX * 16);
		if (!is_split(f)) /* keep the slots the driver will look at unused */
			for (uint16_t s = 0; s < QSIZE; s++)
				raw_packed_flags_set(&f->r, s,
						     raw_packed_avail_bits(f->r.used_wrap));
		/* Complete out of order. */
		dev_used(f, c.id, 0, c.ndesc);
		dev_used(f, a.id, 8, a.ndesc);
		dev_used(f, b.id, 16, b.ndesc);
		unsigned t;
		uint32_t len;
		assert_err(get(f, &t, &len), 0);
		assert_int_equal(t, tc);
		assert_int_equal(len, 0);
		assert_int_equal(vio_vq_num_free(f->vq), 5);
		assert_err(get(f, &t, &len), 0);
		assert_int_equal(t, ta);
		assert_int_equal(len, 8);
		assert_int_equal(vio_vq_num_free(f->vq), 7);
		assert_err(get(f, &t, &len), 0);
		assert_int_equal(t, tb);
		assert_int_equal(len, 16);
		assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
		assert_err(get(f, NULL, NULL), -VIO_EAGAIN);

		/* Every descriptor is free again: one chain may use them all. */
		assert_err(add(f, 4, 4, 8, &ta), 0);
		assert_int_equal(vio_vq_num_free(f->vq), 0);
		a = dev_take(f);
		if (is_split(f)) {
			/* The published chain visits 8 distinct descriptors. */
			unsigned seen = 0;
			uint16_t i = a.id;
			for (int k = 0; k < QSIZE; k++) {
				struct raw_desc d;
				assert_true(i < QSIZE && !(seen & (1u << i)));
				seen |= 1u << i;
				raw_desc_get(f->r.desc, i, VIO_RING_SPLIT, &d);
				assert_int_equal(d.flags & VIO_DESC_F_NEXT ? 1 : 0, k + 1 < QSIZE);
				assert_int_equal(d.flags & VIO_DESC_F_WRITE ? 1 : 0, k >= 4);
				assert_true(d.addr >= f->data_addr &&
					    d.addr < f->data_addr + DATA_LEN);
				i = d.next_or_id;
			}
		} else {
			assert_int_equal(a.ndesc, QSIZE);
		}
		dev_used(f, a.id, 32, a.ndesc);
		assert_err(get(f, &t, &len), 0);
		assert_int_equal(t, ta);
		assert_int_equal(len, 32);
		assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
	}
}

/* ---- Driver-side API errors ------------------------------------------------------- */

/* What the device can see of the driver's publications. */
struct pub {
	uint16_t avail_idx;
	uint16_t ring[QSIZE];
	uint16_t flags[QSIZE];
};

static void pub_take(const struct fx *f, struct pub *p)
{
	memset(p, 0, sizeof(*p));
	for (uint16_t s = 0; s < QSIZE; s++) {
		if (is_split(f))
			p->ring[s] = raw_split_avail_entry_get(&f->r, s);
		else
			p->flags[s] = raw_packed_flags_get(&f->r, s);
	}
	if (is_split(f))
		p->avail_idx = raw_split_avail_idx_get(&f->r);
}

static void pub_check(const struct fx *f, const struct pub *before)
{
	struct pub now;
	pub_take(f, &now);
	if (is_split(f)) {
		assert_int_equal(now.avail_idx, before->avail_idx);
		for (uint16_t s = 0; s < QSIZE; s++)
			assert_int_equal(now.ring[s], before->ring[s]);
		return;
	}
	/* Packed: a free slot may be rewritten, but must not become available
	 * under either wrap counter (AVAIL != USED, §2.8.1). */
	for (uint16_t s = 0; s < QSIZE; s++) {
		uint16_t fl = now.flags[s];
		bool avail = ((fl & VIO_DESC_F_AVAIL) != 0) != ((fl & VIO_DESC_F_USED) != 0);
		if (fl != before->flags[s] && avail)
			fail_msg("packed slot %u flags 0x%04x -> 0x%04x: made available without a "
				 "publish",
				 s, before->flags[s], fl);
	}
}

static void test_vq_add_invalid_args(void **state)
{
	struct fx *f = *state;
	struct vio_sg sg[2] = {{f->data, 8}, {f->data + 64, 8}};
	struct pub before;
	pub_take(f, &before);
	unsigned calls = f->dctx.calls;

	assert_err(vio_vq_add(f->vq, sg, 0, 0, &f->tok[0]), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, sg, 1, 1, NULL), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, NULL, 1, 0, &f->tok[0]), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, sg, UINT_MAX, 1, &f->tok[0]), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, sg, 1, UINT_MAX, &f->tok[0]), -VIO_EINVAL);

	assert_int_equal(f->dctx.calls, calls);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
	assert_false(vio_vq_is_broken(f->vq));
	pub_check(f, &before);
	struct pend p;
	assert_int_equal(dev_next(f, &p), -1);
	check_works(f);
}

static void test_vq_add_no_space(void **state)
{
	struct fx *f = *state;
	/* A chain longer than the ring (and than an indirect table). */
	assert_err(add(f, 5, 4, 8, NULL), -VIO_ENOSPC);
	assert_false(vio_vq_is_broken(f->vq));
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);

	/* Fill the ring with 2-descriptor chains. */
	for (int k = 0; k < QSIZE / 2; k++)
		assert_err(add(f, 1, 1, 8, NULL), 0);
	assert_int_equal(vio_vq_num_free(f->vq), 0);
	struct pub before;
	pub_take(f, &before);
	unsigned calls = f->dctx.calls;
	assert_err(add(f, 1, 0, 8, NULL), -VIO_ENOSPC);
	assert_err(add(f, 1, 1, 8, NULL), -VIO_ENOSPC);
	assert_err(add(f, 2, 1, 8, NULL), -VIO_ENOSPC);
	assert_int_equal(f->dctx.calls, calls);
	pub_check(f, &before);
	assert_false(vio_vq_is_broken(f->vq));
	assert_int_equal(vio_vq_num_free(f->vq), 0);

	/* One chain back: 2 free slots. A 5-segment direct chain does not fit;
	 * a 2-segment one does. */
	struct pend p = dev_take(f);
	dev_used(f, p.id, 0, p.ndesc);
	assert_err(get(f, NULL, NULL), 0);
	assert_int_equal(vio_vq_num_free(f->vq), 2);
	assert_err(add(f, 3, 2, 8, NULL), -VIO_ENOSPC);
	assert_int_equal(vio_vq_num_free(f->vq), 2);
	/* With one slot left, a 2-segment chain goes indirect instead. */
	assert_err(add(f, 1, 0, 8, NULL), 0);
	assert_int_equal(vio_vq_num_free(f->vq), 1);
	assert_err(add(f, 1, 1, 8, NULL), 0);
	assert_int_equal(vio_vq_num_free(f->vq), 0);
	assert_false(vio_vq_is_broken(f->vq));
	detach_all(f);
}

/* More segments than a 16-bit count: must not be truncated. */
static void test_vq_add_too_many_segments(void **state)
{
	struct fx *f = *state;
	static const unsigned totals[] = {65536 + 1, 65536 + 2, 65536 + QSIZE};
	unsigned max = 65536 + QSIZE;
	struct vio_sg *sg = calloc(max, sizeof(*sg));
	assert_non_null(sg);
	for (unsigned k = 0; k < max; k++) {
		sg[k].addr = f->data;
		sg[k].len = 1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(totals); i++) {
		struct pub before;
		pub_take(f, &before);
		int rc = vio_vq_add(f->vq, sg, totals[i] - 1, 1, &f->tok[0]);
		if (rc != -VIO_ENOSPC) {
			free(sg);
			fail_msg("add of %u segments to a %u-entry ring = %d (%s), expected "
				 "-VIO_ENOSPC; num_free now %u",
				 totals[i], QSIZE, rc, vio_err_name(rc), vio_vq_num_free(f->vq));
		}
		assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
		pub_check(f, &before);
	}
	free(sg);
	assert_false(vio_vq_is_broken(f->vq));
	check_works(f);
}

static void test_vq_add_len_too_big(void **state)
{
	struct fx *f = *state;
	/* Refused, nothing published, the queue intact (addresses may have been
	 * converted before the sum overflowed: the one-pass split add does). */
	struct vio_sg sg[3] = {{f->data, 0x80000000u}, {f->data, 0x80000000u}, {f->data, 1}};
	struct pub before;
	pub_take(f, &before);
	assert_err(vio_vq_add(f->vq, sg, 2, 0, &f->tok[0]), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, sg, 1, 1, &f->tok[0]), -VIO_EINVAL);
	assert_err(vio_vq_add(f->vq, sg, 0, 2, &f->tok[0]), -VIO_EINVAL);
	sg[0].len = 0xffffffffu;
	sg[1].len = 0;
	assert_err(vio_vq_add(f->vq, sg, 1, 2, &f->tok[0]), -VIO_EINVAL); /* 2^32 exactly */
	/* Also when the chain would go indirect (3 segments). */
	sg[0].len = sg[1].len = 0x7fffffffu;
	sg[2].len = 2;
	assert_err(vio_vq_add(f->vq, sg, 1, 2, &f->tok[0]), -VIO_EINVAL);
	/* And for a long direct chain (5 segments, more than IMAX). */
	struct vio_sg five[5] = {
		{f->data, 1}, {f->data, 1}, {f->data, 0xffffffffu}, {f->data, 1}, {f->data, 1}};
	assert_err(vio_vq_add(f->vq, five, 2, 3, &f->tok[0]), -VIO_EINVAL);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
	assert_false(vio_vq_is_broken(f->vq));
	pub_check(f, &before);
	struct pend none;
	assert_int_equal(dev_next(f, &none), -1);
	if (is_split(f)) {
		/* Descriptor 1 was marked mid-chain by the failed 5-segment add and
		 * must be unmarked again: naming it is stale, not mid-chain. */
		assert_err(add(f, 1, 0, 8, NULL), 0);
		struct pend a = dev_take(f);
		assert_int_equal(a.id, 0);
		dev_used(f, 1, 0, 1);
		expect_get_breaks(f, -VIO_EUSED_STALE);
	}
	/* The descriptors are all free: a full-size chain fits and completes. */
	unsigned t, t2;
	assert_err(add(f, 4, 4, 8, &t), 0);
	struct pend p = dev_take(f);
	dev_used(f, p.id, 32, p.ndesc);
	assert_err(get(f, &t2, NULL), 0);
	assert_int_equal(t2, t);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE);

	/* 2^32 - 1 is accepted. With identity addresses nothing is converted
	 * (and the library never touches buffer contents). */
	struct vio_vq_config c = f->cfg;
	c.dma_ops = NULL;
	assert_err(vio_vq_init(&f->vq, f->vqmem, f->vqmem_size, &c), 0);
	raw_ring_rewind(&f->r);
	sg[0].len = 0x80000000u;
	sg[1].len = 0x7fffffffu;
	assert_err(vio_vq_add(f->vq, sg, 1, 1, &f->tok[1]), 0);
	p = dev_take(f);
	dev_used(f, p.id, 0x7fffffffu, p.ndesc);
	void *tk;
	uint32_t len;
	assert_err(vio_vq_get(f->vq, &tk, &len), 0);
	assert_ptr_equal(tk, &f->tok[1]);
	assert_int_equal(len, 0x7fffffffu);
	/* One more writable byte than offered. */
	assert_err(vio_vq_add(f->vq, sg, 1, 1, &f->tok[1]), 0);
	p = dev_take(f);
	dev_used(f, p.id, 0x80000000u, p.ndesc);
	assert_err(vio_vq_get(f->vq, &tk, &len), -VIO_EUSED_LEN);
}

/* A failing to_device callback: its error, and nothing published. */
static void test_vq_add_to_device_failure(void **state)
{
	struct fx *f = *state;
	static const struct {
		unsigned out, in, calls; /* calls: to_device calls for the chain */
	} shapes[] = {
		{1, 0, 1}, /* direct, 1 descriptor */
		{1, 1, 2}, /* direct, 2 descriptors */
		{2, 3, 5}, /* direct, 5 descriptors (more than IMAX) */
		{1, 2, 4}, /* indirect: 3 segments + the table */
		{2, 2, 5}, /* indirect: 4 segments + the table */
	};
	for (size_t s = 0; s < ARRAY_SIZE(shapes); s++) {
		for (unsigned fail = 1; fail <= shapes[s].calls; fail++) {
			struct pub before;
			pub_take(f, &before);
			unsigned nfree = vio_vq_num_free(f->vq);
			f->dctx.calls = 0;
			f->dctx.fail_at = fail;
			f->dctx.err = -VIO_ERING_MAP;
			assert_err(add(f, shapes[s].out, shapes[s].in, 8, NULL), -VIO_ERING_MAP);
			assert_int_equal(f->dctx.calls, fail); /* stopped at the failure */
			f->dctx.fail_at = 0;
			assert_false(vio_vq_is_broken(f->vq));
			assert_int_equal(vio_vq_num_free(f->vq), nfree);
			pub_check(f, &before);
			struct pend p;
			assert_int_equal(dev_next(f, &p), -1);

			/* The next add publishes exactly one chain, no leftovers. */
			unsigned t, t2;
			assert_err(add(f, 1, 0, 8, &t), 0);
			p = dev_take(f);
			assert_int_equal(p.ndesc, 1);
			struct pend extra;
			if (dev_next(f, &extra) == 0)
				fail_msg("shape %zu, failure at call %u: the device sees a second "
					 "chain (id %u, %u descriptors) that was never published",
					 s, fail, extra.id, extra.ndesc);
			dev_used(f, p.id, 0, p.ndesc);
			assert_err(get(f, &t2, NULL), 0);
			assert_int_equal(t2, t);
			assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
		}
		/* The same shape succeeds without a failure. */
		f->dctx.calls = 0;
		assert_err(add(f, shapes[s].out, shapes[s].in, 8, NULL), 0);
		assert_int_equal(f->dctx.calls, shapes[s].calls);
		struct pend p = dev_take(f);
		dev_used(f, p.id, 0, p.ndesc);
		assert_err(get(f, NULL, NULL), 0);
	}
	/* A peer-class error code from the callback does not break the queue,
	 * and is reported as -VIO_EDMA, not as a device fault (errors.h). */
	f->dctx.calls = 0;
	f->dctx.fail_at = 1;
	f->dctx.err = -VIO_EMAP;
	assert_err(add(f, 1, 1, 8, NULL), -VIO_EDMA);
	f->dctx.fail_at = 0;
	assert_false(vio_vq_is_broken(f->vq));
	check_works(f);
}

/* ---- Set-up errors ---------------------------------------------------------------- */

static void test_vq_init_invalid(void **state)
{
	struct fx *f = *state;
	struct vio_vq *vq = NULL;
	struct vio_vq_config c = f->cfg;
	unsigned char *m = f->vqmem;
	size_t ms = f->vqmem_size;

	assert_err(vio_vq_init(NULL, m, ms, &c), -VIO_EINVAL);
	assert_err(vio_vq_init(&vq, NULL, ms, &c), -VIO_EINVAL);
	assert_err(vio_vq_init(&vq, m, ms, NULL), -VIO_EINVAL);
	assert_err(vio_vq_init(&vq, m, ms - 1, &c), -VIO_EINVAL);
	assert_err(vio_vq_init(&vq, m, 0, &c), -VIO_EINVAL);
	for (unsigned off = 1; off < VIO_VQ_MEM_ALIGN; off++)
		assert_err(vio_vq_init(&vq, m + off, ms, &c), -VIO_EINVAL);

	static const uint16_t bad_any[] = {0, 32769, 40000, 65535};
	for (size_t i = 0; i < ARRAY_SIZE(bad_any); i++) {
		assert_int_equal(mem_size(f->fmt, bad_any[i]), 0);
		c = f->cfg;
		c.size = bad_any[i];
		assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);
	}
	static const uint16_t not_pow2[] = {3, 6, 7, 12, 100, 32767};
	for (size_t i = 0; i < ARRAY_SIZE(not_pow2); i++) {
		assert_int_equal(mem_size(VIO_RING_SPLIT, not_pow2[i]), 0);
		assert_true(mem_size(VIO_RING_PACKED, not_pow2[i]) > 0);
	}
	if (is_split(f)) {
		c = f->cfg;
		c.size = 6;
		assert_err(vio_vq_init(&vq, m, ms + 64, &c), -VIO_EINVAL);
	}
	assert_true(mem_size(f->fmt, 32768) > 0);
	c = f->cfg;
	c.format = (enum vio_ring_format)2;
	assert_int_equal(vio_vq_mem_size(&c), 0);
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);

	/* §2.8: the format must agree with VIRTIO_F_RING_PACKED: packed
	 * without the bit, or split with it, is refused. */
	c = f->cfg;
	if (is_split(f))
		vio_features_set(&c.features, VIO_F_RING_PACKED);
	else
		vio_features_clear(&c.features, VIO_F_RING_PACKED);
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);

	/* Ring parts: missing or misaligned. */
	unsigned char *d = f->r.desc, *dr = f->r.driver, *de = f->r.device;
	c = f->cfg;
	c.desc = NULL;
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);
	c = f->cfg;
	c.driver_area = NULL;
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);
	c = f->cfg;
	c.device_area = NULL;
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);
	static const unsigned desc_offs[] = {1, 2, 4, 8};
	for (size_t i = 0; i < ARRAY_SIZE(desc_offs); i++) {
		c = f->cfg;
		c.desc = d + desc_offs[i];
		assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);
	}
	c = f->cfg;
	c.driver_area = dr + (is_split(f) ? 1 : 2);
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);
	c = f->cfg;
	c.device_area = de + 2;
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);

	/* Indirect pool: misaligned or tables longer than the queue. */
	c = f->cfg;
	c.indirect_pool = (unsigned char *)f->pool + 8;
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);
	c = f->cfg;
	c.indirect_max = QSIZE + 1;
	assert_err(vio_vq_init(&vq, m, ms, &c), -VIO_EINVAL);
	assert_null(vq);
	assert_int_equal(f->dctx.calls, 0);

	/* Without the feature the pool is not used, so not checked. */
	c = f->cfg;
	vio_features_clear(&c.features, VIO_F_INDIRECT_DESC);
	c.indirect_pool = (unsigned char *)f->pool + 8;
	c.indirect_max = QSIZE + 1;
	assert_err(vio_vq_init(&vq, m, ms, &c), 0);
	assert_ptr_equal(vq, f->vq);
	/* ...and a 3-segment chain goes direct. */
	assert_err(add(f, 1, 2, 8, NULL), 0);
	assert_int_equal(vio_vq_num_free(f->vq), QSIZE - 3);
	detach_all(f);

	/* Packed accepts any size, e.g. 6. */
	if (!is_split(f)) {
		struct raw_ring r6;
		raw_ring_alloc(&r6, &f->gm, VIO_RING_PACKED, 6);
		c = f->cfg;
		raw_ring_vq_config(&r6, &c);
		c.indirect_pool = NULL;
		size_t need = vio_vq_mem_size(&c);
		void *m6 = NULL;
		assert_int_equal(posix_memalign(&m6, 16, need), 0);
		assert_err(vio_vq_init(&vq, m6, need, &c), 0);
		assert_int_equal(vio_vq_size(vq), 6);
		assert_int_equal(vio_vq_num_free(vq), 6);
		free(m6);
	}
}

/* ---- IN_ORDER: one used entry for a batch (§2.7.9, §2.8.9) ----------------------- */

/* The device completes @n buffers (popped in order) with one used entry
 * naming the last one; the used position moves by the whole batch. */
static void dev_used_batch(struct fx *f, const struct pend *p, unsigned n, uint32_t len,
			   uint16_t idx_step)
{
	if (is_split(f)) {
		raw_split_used_elem_set(&f->r, f->r.used_idx, p[n - 1].id, len);
		raw_split_used_publish(&f->r, (uint16_t)(f->r.used_idx + idx_step));
		return;
	}
	unsigned slots = 0;
	for (unsigned k = 0; k < n; k++)
		slots += p[k].ndesc;
	raw_packed_used_add(&f->r, p[n - 1].id, len, len != 0 ? VIO_DESC_F_WRITE : 0,
			    (uint16_t)slots);
}

static void test_vq_in_order_hostile_batches(void **state)
{
	struct fx *f = *state;
	struct vio_vq_config c = f->cfg;
	vio_features_set(&c.features, VIO_F_IN_ORDER);
	assert_err(vio_vq_init(&f->vq, f->vqmem, f->vqmem_size, &c), 0);
	raw_ring_rewind(&f->r);

	for (int round = 0; round < 3; round++) {
		/* A valid batch: earlier buffers count as fully written. */
		unsigned t[3], got;
		uint32_t len;
		struct pend p[3];
		assert_err(add(f, 1, 1, 10, &t[0]), 0); /* direct */
		assert_err(add(f, 1, 2, 10, &t[1]), 0); /* indirect, 20 writable */
		assert_err(add(f, 0, 1, 10, &t[2]), 0);
		for (int k = 0; k < 3; k++)
			p[k] = dev_take(f);
		dev_used_batch(f, p, 3, 4, 3);
		static const uint32_t want_len[3] = {10, 20, 4};
		for (int k = 0; k < 3; k++) {
			assert_err(get(f, &got, &len), 0);
			assert_int_equal(got, t[k]);
			assert_int_equal(len, want_len[k]);
		}
		assert_err(get(f, NULL, NULL), -VIO_EAGAIN);
		assert_int_equal(vio_vq_num_free(f->vq), QSIZE);
	}

	/* A batch naming a buffer that is not outstanding. */
	struct pend p[3];
	assert_err(add(f, 1, 1, 10, NULL), 0);
	p[0] = dev_take(f);
	p[1] = p[0];
	p[1].id = (uint16_t)(p[0].id + 4);
	dev_used_batch(f, p, 2, 0, 2);
	expect_get_breaks(f, is_split(f) ? -VIO_EUSED_JUMP : -VIO_EUSED_STALE);
	assert_err(add(f, 1, 1, 10, NULL), 0);
	assert_err(add(f, 1, 1, 10, NULL), 0);
	p[0] = dev_take(f);
	p[1] = dev_take(f);
	p[1].id = (uint16_t)(p[1].id + 4); /* free in both formats */
	dev_used_batch(f, p, 2, 0, 2);
	expect_get_breaks(f, -VIO_EUSED_STALE);

	/* The last buffer's length above what it offered. */
	assert_err(add(f, 1, 1, 10, NULL), 0);
	assert_err(add(f, 1, 1, 10, NULL), 0);
	p[0] = dev_take(f);
	p[1] = dev_take(f);
	dev_used_batch(f, p, 2, 11, 2);
	expect_get_breaks(f, -VIO_EUSED_LEN);

	/* An id beyond the queue. */
	assert_err(add(f, 1, 1, 10, NULL), 0);
	p[0] = dev_take(f);
	p[0].id = QSIZE;
	dev_used_batch(f, p, 1, 0, 1);
	expect_get_breaks(f, -VIO_EUSED_ID);

	if (is_split(f)) {
		/* The used index moves by less than the batch the entry names. */
		for (int k = 0; k < 3; k++) {
			assert_err(add(f, 1, 1, 10, NULL), 0);
			p[k] = dev_take(f);
		}
		dev_used_batch(f, p, 3, 0, 2);
		expect_get_breaks(f, -VIO_EUSED_JUMP);

		/* A batch entry naming a descriptor inside a chain. */
		assert_err(add(f, 1, 1, 10, NULL), 0);
		assert_err(add(f, 1, 1, 10, NULL), 0);
		p[0] = dev_take(f);
		p[1] = dev_take(f);
		struct raw_desc d;
		raw_desc_get(f->r.desc, p[1].id, VIO_RING_SPLIT, &d);
		p[1].id = d.next_or_id;
		dev_used_batch(f, p, 2, 0, 2);
		expect_get_breaks(f, -VIO_EUSED_MIDCHAIN);
	}

	/* Detaching in the middle of a batch returns every buffer not reaped. */
	for (int k = 0; k < 3; k++) {
		assert_err(add(f, 1, 1, 10, NULL), 0);
		p[k] = dev_take(f);
	}
	dev_used_batch(f, p, 2, 0, 2);
	assert_err(get(f, NULL, NULL), 0);
	assert_int_equal(live_count(f), 2);
	detach_all(f);
	reset_all(f);
	check_works(f);
}

/* ---- Detaching ----------------------------------------------------------------------- */

static void test_vq_detach_unused_all_tokens(void **state)
{
	struct fx *f = *state;
	void *t;
	assert_err(vio_vq_detach_unused(f->vq, &t), -VIO_EAGAIN);

	for (int round = 0; round < 3; round++) {
		unsigned ta, tb, tc, td, te, tf;
		assert_err(add(f, 1, 1, 8, &ta), 0); /* 2 direct */
		assert_err(add(f, 1, 2, 8, &tb), 0); /* indirect */
		assert_err(add(f, 1, 0, 8, &tc), 0); /* 1 */
		assert_err(add(f, 2, 2, 8, &td), 0); /* indirect */
		assert_err(add(f, 0, 2, 8, &te), 0); /* 2 direct */
		assert_err(add(f, 0, 1, 8, &tf), 0); /* 1 */
		assert_int_equal(vio_vq_num_free(f->vq), 0);
		struct pend p[6];
		for (int k = 0; k < 6; k++)
			p[k] = dev_take(f);
		/* B and E complete; A, C, D, F are detached. */
		dev_used(f, p[1].id, 0, p[1].ndesc);
		dev_used(f, p[4].id, 0, p[4].ndesc);
		unsigned got;
		assert_err(get(f, &got, NULL), 0);
		assert_int_equal(got, tb);
		assert_err(get(f, &got, NULL), 0);
		assert_int_equal(got, te);
		assert_int_equal(live_count(f), 4);
		assert_true(f->live[ta] && f->live[tc] && f->live[td] && f->live[tf]);
		detach_all(f);
		assert_int_equal(live_count(f), 0);
		reset_all(f);
		check_works(f);
		reset_all(f);
	}
}

/* Split: a chain whose middle descriptors sit below its head in the table
 * (the free list wrapped) must come back once, by its token only. */
static void test_vq_split_detach_chain_below_head(void **state)
{
	struct fx *f = *state;
	struct vio_vq_config c = f->cfg;
	vio_features_clear(&c.features, VIO_F_INDIRECT_DESC); /* 3 segments go direct */
	assert_err(vio_vq_init(&f->vq, f->vqmem, f->vqmem_size, &c), 0);
	raw_ring_rewind(&f->r);

	struct pend p[4];
	unsigned tok[4];
	for (int k = 0; k < 4; k++) {
		assert_err(add(f, 1, 1, 8, &tok[k]), 0);
		p[k] = dev_take(f);
	}
	/* Complete the 2nd then the 4th: the free list becomes 6, 7, 2, 3. */
	dev_used(f, p[1].id, 0, 1);
	dev_used(f, p[3].id, 0, 1);
	assert_err(get(f, NULL, NULL), 0);
	assert_err(get(f, NULL, NULL), 0);
	unsigned te;
	assert_err(add(f, 1, 2, 8, &te), 0);
	struct pend e = dev_take(f);
	struct raw_desc d;
	uint16_t i = e.id;
	uint16_t lowest = i;
	for (int k = 0; k < 2; k++) {
		raw_desc_get(f->r.desc, i, VIO_RING_SPLIT, &d);
		i = d.next_or_id;
		if (i < lowest)
			lowest = i;
	}
	assert_true(lowest < e.id); /* the shape this test is about */

	assert_int_equal(live_count(f), 3);
	assert_true(f->live[tok[0]] && f->live[tok[2]] && f->live[te]);
	detach_all(f);
	reset_all(f);
	check_works(f);
}

static void test_vq_detach_unused_on_broken(void **state)
{
	struct fx *f = *state;
	assert_err(add(f, 1, 1, 8, NULL), 0);
	assert_err(add(f, 1, 2, 8, NULL), 0);
	assert_err(add(f, 2, 3, 8, NULL), 0);
	assert_int_equal(vio_vq_num_free(f->vq), 0);
	struct pend p = dev_take(f);
	dev_used(f, p.id, 1u << 20, p.ndesc);
	assert_err(get(f, NULL, NULL), -VIO_EUSED_LEN);
	assert_true(vio_vq_is_broken(f->vq));
	/* All three tokens come back exactly once, then EAGAIN. */
	assert_int_equal(live_count(f), 3);
	detach_all(f);
	assert_true(vio_vq_is_broken(f->vq));
	reset_all(f);
	check_works(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_vq_used_id_out_of_range),
		SPLIT(test_vq_split_used_midchain),
		BOTH(test_vq_used_id_never_added),
		BOTH(test_vq_used_completed_twice),
		BOTH(test_vq_used_len_too_long),
		SPLIT(test_vq_split_used_len_readonly_chain),
		PACKED(test_vq_packed_used_len_readonly_chain),
		SPLIT(test_vq_split_used_idx_jump),
		PACKED(test_vq_packed_half_used_flags),
		BOTH(test_vq_device_rewrites_descriptors),
		BOTH(test_vq_add_invalid_args),
		BOTH(test_vq_add_no_space),
		BOTH(test_vq_add_too_many_segments),
		BOTH(test_vq_add_len_too_big),
		BOTH(test_vq_add_to_device_failure),
		BOTH(test_vq_init_invalid),
		BOTH(test_vq_in_order_hostile_batches),
		BOTH(test_vq_detach_unused_all_tokens),
		SPLIT(test_vq_split_detach_chain_below_head),
		BOTH(test_vq_detach_unused_on_broken),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
