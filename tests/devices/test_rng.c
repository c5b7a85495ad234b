/* SPDX-License-Identifier: MIT */
/* virtio-rng: the device model and the driver helper end to end through
 * both ring halves (split and packed), a source that runs dry, partial
 * fills, long chains, a hostile driver (readable buffers) and a hostile
 * device (empty answers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "dev_env.h"

#define QSIZE 16

static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};

/* A deterministic source: byte k of the stream is (k * 13 + 5); it hands
 * out at most @budget bytes, then nothing. */
struct src {
	uint64_t pos;
	uint64_t budget;
	unsigned calls;
	size_t overclaim; /* returned on top of what was written (hostile callback) */
};

static size_t src_fill(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	unsigned char *p = buf;
	size_t n = len < s->budget ? len : (size_t)s->budget;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((s->pos + i) * 13u + 5u);
	s->pos += n;
	s->budget -= n;
	s->calls++;
	return n + s->overclaim;
}

static const struct vio_rng_dev_ops src_ops = {src_fill};

static bool stream_ok(const unsigned char *p, size_t n, uint64_t from)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)((from + i) * 13u + 5u))
			return false;
	return true;
}

struct t {
	struct dev_env e;
	struct src src;
	struct vio_rng_dev dev;
	struct vio_rng_drv drv;
	struct vio_chain_seg segs[4];
};

static struct t *mk(enum vio_ring_format fmt, uint64_t budget)
{
	struct t *t = calloc(1, sizeof(*t));
	dev_env_init(&t->e, fmt, QSIZE, false, 64 * 1024);
	t->src.budget = budget;
	assert_int_equal(vio_rng_dev_init(&t->dev, t->e.l.dq, &src_ops, &t->src, t->segs, 4), 0);
	assert_int_equal(vio_rng_drv_init(&t->drv, t->e.l.vq), 0);
	return t;
}

static void rm(struct t *t)
{
	dev_env_fini(&t->e);
	free(t);
}

static void test_rng_roundtrip(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = mk(fmts[f], UINT64_MAX);
		unsigned char *b[3];
		uint32_t sizes[3] = {1, 64, 4000};
		for (int i = 0; i < 3; i++) {
			b[i] = dev_env_alloc(&t->e, sizes[i]);
			assert_int_equal(vio_rng_drv_submit(&t->drv, b[i], sizes[i], b[i]), 0);
		}
		assert_int_equal(vio_rng_dev_process(&t->dev), 3);
		uint64_t from = 0;
		for (int i = 0; i < 3; i++) {
			void *tok;
			uint32_t len;
			assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
			assert_ptr_equal(tok, b[i]);
			assert_int_equal(len, sizes[i]);
			assert_true(stream_ok(b[i], len, from));
			from += len;
		}
		void *tok;
		uint32_t len;
		assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), -VIO_EAGAIN);
		rm(t);
	}
}

/* The source runs dry: the chain waits (never returned empty) and is
 * completed by a later call; a partial fill returns what there was. */
static void test_rng_source_dry_and_partial(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = mk(fmts[f], 10);
		unsigned char *b1 = dev_env_alloc(&t->e, 32), *b2 = dev_env_alloc(&t->e, 32);
		assert_int_equal(vio_rng_drv_submit(&t->drv, b1, 32, b1), 0);
		assert_int_equal(vio_rng_drv_submit(&t->drv, b2, 32, b2), 0);
		assert_int_equal(vio_rng_dev_process(&t->dev), 1);
		assert_true(vio_rng_dev_waiting(&t->dev));
		void *tok;
		uint32_t len;
		assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
		assert_ptr_equal(tok, b1);
		assert_int_equal(len, 10);
		assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), -VIO_EAGAIN);
		assert_int_equal(vio_rng_dev_process(&t->dev), 0); /* still dry */
		t->src.budget = 100;
		assert_int_equal(vio_rng_dev_process(&t->dev), 1);
		assert_false(vio_rng_dev_waiting(&t->dev));
		assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
		assert_ptr_equal(tok, b2);
		assert_int_equal(len, 32);
		assert_true(stream_ok(b2, 32, 10));
		rm(t);
	}
}

/* Several writable segments, and more than the model's array holds. */
static void test_rng_multi_segment_and_long_chain(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = mk(fmts[f], UINT64_MAX);
		unsigned char *b = dev_env_alloc(&t->e, 600);
		struct vio_sg sg[6];
		for (int i = 0; i < 6; i++)
			sg[i] = (struct vio_sg){b + i * 100, 100};
		assert_int_equal(vio_vq_add(t->e.l.vq, sg, 0, 3, b), 0);
		assert_int_equal(vio_rng_dev_process(&t->dev), 1);
		void *tok;
		uint32_t len;
		assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
		assert_int_equal(len, 300);
		assert_true(stream_ok(b, 300, 0));
		/* Six segments, an array of four: the first three are filled
		 * (a prefix), the rest untouched. */
		memset(b, 0, 600);
		assert_int_equal(vio_vq_add(t->e.l.vq, sg, 0, 6, b), 0);
		assert_int_equal(vio_rng_dev_process(&t->dev), 1);
		assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
		assert_int_equal(len, 300);
		assert_true(stream_ok(b, 300, 300));
		for (int i = 300; i < 600; i++)
			assert_int_equal(b[i], 0);
		rm(t);
	}
}

/* A callback that claims more than it wrote is clamped to the segment. */
static void test_rng_fill_overclaim_clamped(void **state)
{
	(void)state;
	struct t *t = mk(VIO_RING_SPLIT, UINT64_MAX);
	t->src.overclaim = 1000;
	unsigned char *b = dev_env_alloc(&t->e, 16);
	assert_int_equal(vio_rng_drv_submit(&t->drv, b, 16, b), 0);
	assert_int_equal(vio_rng_dev_process(&t->dev), 1);
	void *tok;
	uint32_t len;
	assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
	assert_int_equal(len, 16);
	rm(t);
}

/* §5.4.6.1: a device-readable buffer breaks the queue. */
static void test_rng_readable_buffer_fails_queue(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		for (int shape = 0; shape < 2; shape++) {
			struct t *t = mk(fmts[f], UINT64_MAX);
			unsigned char *b = dev_env_alloc(&t->e, 64);
			struct vio_sg sg[2] = {{b, 32}, {b + 32, 32}};
			/* shape 0: readable only; 1: readable then writable. */
			assert_int_equal(vio_vq_add(t->e.l.vq, sg, 1, shape ? 1u : 0u, b), 0);
			assert_int_equal(vio_rng_dev_process(&t->dev), -VIO_ERNG_READABLE);
			assert_true(vio_err_is_peer(-VIO_ERNG_READABLE));
			assert_true(vio_devq_is_broken(t->e.l.dq));
			assert_int_equal(t->src.calls, 0);
			for (int i = 32; i < 64; i++)
				assert_int_equal(b[i], 0);
			rm(t);
		}
	}
}

/* A writable part of zero bytes cannot hold a byte: given back with 0. */
static void test_rng_empty_writable(void **state)
{
	(void)state;
	struct t *t = mk(VIO_RING_PACKED, UINT64_MAX);
	unsigned char *b = dev_env_alloc(&t->e, 1);
	struct vio_sg sg = {b, 0};
	assert_int_equal(vio_vq_add(t->e.l.vq, &sg, 0, 1, b), 0);
	assert_int_equal(vio_rng_dev_process(&t->dev), 1);
	void *tok;
	uint32_t len = 99;
	/* The helper treats 0 bytes as a device fault (its own submissions
	 * are never empty). */
	assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), -VIO_ERNG_EMPTY);
	assert_int_equal(len, 0);
	rm(t);
}

/* A hostile device answers with 0 bytes. */
static void test_rng_drv_empty_answer(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = mk(fmts[f], UINT64_MAX);
		unsigned char *b = dev_env_alloc(&t->e, 32);
		assert_int_equal(vio_rng_drv_submit(&t->drv, b, 32, b), 0);
		struct vio_chain c;
		struct vio_chain_seg segs[2];
		assert_int_equal(vio_devq_pop(t->e.l.dq, &c, segs, 2), 0);
		assert_int_equal(vio_devq_push(t->e.l.dq, &c, 0), 0);
		void *tok = NULL;
		uint32_t len;
		assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), -VIO_ERNG_EMPTY);
		assert_ptr_equal(tok, b);
		assert_true(vio_err_is_peer(-VIO_ERNG_EMPTY));
		assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), -VIO_EBROKEN);
		assert_int_equal(vio_rng_drv_submit(&t->drv, b, 32, b), -VIO_EBROKEN);
		rm(t);
	}
}

static void test_rng_args(void **state)
{
	(void)state;
	struct t *t = mk(VIO_RING_SPLIT, UINT64_MAX);
	unsigned char *b = dev_env_alloc(&t->e, 8);
	assert_int_equal(vio_rng_drv_submit(&t->drv, b, 0, b), -VIO_EINVAL);
	assert_int_equal(vio_rng_drv_submit(&t->drv, b, 8, NULL), -VIO_EINVAL);
	struct vio_rng_dev d;
	struct vio_rng_dev_ops none = {NULL};
	assert_int_equal(vio_rng_dev_init(&d, t->e.l.dq, &none, NULL, t->segs, 4), -VIO_EINVAL);
	assert_int_equal(vio_rng_dev_init(&d, t->e.l.dq, &src_ops, NULL, t->segs, 1), -VIO_EINVAL);
	/* Reset drops a waiting chain. */
	t->src.budget = 0;
	assert_int_equal(vio_rng_drv_submit(&t->drv, b, 8, b), 0);
	assert_int_equal(vio_rng_dev_process(&t->dev), 0);
	assert_true(vio_rng_dev_waiting(&t->dev));
	vio_rng_dev_reset(&t->dev);
	assert_false(vio_rng_dev_waiting(&t->dev));
	rm(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_roundtrip),
		cmocka_unit_test(test_rng_source_dry_and_partial),
		cmocka_unit_test(test_rng_multi_segment_and_long_chain),
		cmocka_unit_test(test_rng_fill_overclaim_clamped),
		cmocka_unit_test(test_rng_readable_buffer_fails_queue),
		cmocka_unit_test(test_rng_empty_writable),
		cmocka_unit_test(test_rng_drv_empty_answer),
		cmocka_unit_test(test_rng_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
