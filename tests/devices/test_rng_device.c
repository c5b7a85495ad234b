/* SPDX-License-Identifier: MIT */
/* virtio-rng device adapter (rng_device.h) and driver bring-up
 * (rng_driver.h) end to end over the virtio-mmio register model and front:
 * split and packed, inline and through a runner, a source that runs dry, a
 * hostile driver (a device-readable buffer: DEVICE_NEEDS_RESET), and a
 * queue reset (RING_RESET) that stops and restarts the queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "mmio_pair.h"

static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};

/* Byte k of the stream is k * 29 + 3; at most @budget bytes. */
struct src {
	uint64_t pos, budget;
};

static size_t src_fill(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	unsigned char *p = buf;
	size_t n = len < s->budget ? len : (size_t)s->budget;
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)((s->pos + i) * 29u + 3u);
	s->pos += n;
	s->budget -= n;
	return n;
}

static const struct vio_rng_dev_ops src_ops = {src_fill};

struct rec {
	unsigned kicks, stops;
	uint32_t kicked;
};
static void rec_kick(void *ctx, uint16_t q)
{
	struct rec *r = ctx;
	r->kicks++;
	r->kicked |= 1u << q;
}
static void rec_stop(void *ctx, uint16_t q)
{
	(void)q;
	((struct rec *)ctx)->stops++;
}
static const struct vio_device_runner rec_ops = {rec_kick, rec_stop};

struct t {
	struct mmio_pair p;
	struct src src;
	struct rec rec;
	_Alignas(VIO_RNG_DEVICE_MEM_ALIGN) unsigned char mem[VIO_RNG_DEVICE_MEM_SIZE];
	struct vio_rng_device *rd;
	struct vio_rng_drv drv;
};

static struct t *make(bool runner, uint64_t budget, enum vio_ring_format fmt)
{
	struct t *t = calloc(1, sizeof(*t));
	t->src.budget = budget;
	struct vio_rng_device_config c = {0};
	c.source = &src_ops;
	c.source_ctx = &t->src;
	c.queue_max = 8;
	if (runner) {
		c.runner = &rec_ops;
		c.runner_ctx = &t->rec;
	}
	assert_int_equal(vio_rng_device_init(&t->rd, t->mem, sizeof(t->mem), &c), 0);
	struct vio_device_info info = {0};
	vio_rng_device_info(t->rd, &info);
	assert_int_equal(info.device_id, VIO_ID_RNG);
	assert_int_equal(info.num_queues, 1);
	assert_int_equal(info.config_size, 0);
	assert_true(vio_features_test(&info.features, VIO_F_IN_ORDER));
	pair_init(&t->p, &info);
	pair_driver(&t->p, 1, VIO_ID_RNG, NULL, fmt == VIO_RING_PACKED);
	struct vio_drv_queue_config qc;
	pair_queue_config(&t->p, 0, 8, &qc);
	assert_int_equal(vio_rng_driver_start(t->p.drv, &qc, &t->drv), 0);
	assert_int_equal(vio_drv_ring_format(t->p.drv), fmt);
	return t;
}

static void done(struct t *t)
{
	pair_fini(&t->p);
	free(t);
}

static void test_rng_device_init_checks(void **state)
{
	(void)state;
	static _Alignas(8) unsigned char mem[VIO_RNG_DEVICE_MEM_SIZE];
	struct src s = {0, 100};
	struct vio_rng_device *rd;
	struct vio_rng_device_config c = {0};
	c.source = &src_ops;
	c.source_ctx = &s;
	assert_int_equal(vio_rng_device_init(&rd, mem, sizeof(mem), &c), 0);
	assert_int_equal(vio_rng_device_init(&rd, mem, sizeof(mem) - 200, &c), -VIO_EINVAL);
	assert_int_equal(vio_rng_device_init(&rd, mem + 1, sizeof(mem) - 1, &c), -VIO_EINVAL);
	c.queue_max = 12;
	assert_int_equal(vio_rng_device_init(&rd, mem, sizeof(mem), &c), -VIO_EINVAL);
	c.queue_max = 0;
	static const struct vio_rng_dev_ops none = {NULL};
	c.source = &none;
	assert_int_equal(vio_rng_device_init(&rd, mem, sizeof(mem), &c), -VIO_EINVAL);
}

static void test_rng_device_roundtrip(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++)
		for (int runner = 0; runner < 2; runner++) {
			struct t *t = make(runner != 0, 1u << 20, fmts[f]);
			assert_true(vio_drv_has_feature(t->p.drv, VIO_F_IN_ORDER));
			unsigned char *buf = pair_alloc(&t->p, 4 * 64);
			for (unsigned i = 0; i < 4; i++)
				assert_int_equal(
					vio_rng_drv_submit(&t->drv, buf + i * 64, 64, buf + i * 64),
					0);
			assert_int_equal(vio_drv_kick(t->p.drv, 0), 0);
			if (runner) {
				assert_int_equal(t->rec.kicked, 1u);
				assert_int_equal(vio_rng_device_process(t->rd, 0), 4);
			}
			assert_int_equal(pair_interrupt(&t->p), 0);
			for (unsigned i = 0; i < 4; i++) {
				void *tok;
				uint32_t len;
				assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
				assert_ptr_equal(tok, buf + i * 64);
				assert_int_equal(len, 64);
			}
			for (unsigned k = 0; k < 256; k++)
				assert_int_equal(buf[k], (unsigned char)(k * 29u + 3u));
			assert_int_equal(t->p.refused, 0);
			done(t);
		}
}

static void test_rng_device_source_runs_dry(void **state)
{
	(void)state;
	struct t *t = make(true, 10, VIO_RING_SPLIT);
	unsigned char *buf = pair_alloc(&t->p, 64);
	assert_int_equal(vio_rng_drv_submit(&t->drv, buf, 32, buf), 0);
	assert_int_equal(vio_rng_drv_submit(&t->drv, buf + 32, 32, buf + 32), 0);
	assert_int_equal(vio_drv_kick(t->p.drv, 0), 0);
	/* 10 bytes for the first buffer; the second waits for entropy. */
	assert_int_equal(vio_rng_device_process(t->rd, 0), 1);
	assert_true(vio_rng_device_waiting(t->rd));
	assert_int_equal(pair_interrupt(&t->p), 0);
	void *tok;
	uint32_t len;
	assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
	assert_int_equal(len, 10);
	assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), -VIO_EAGAIN);
	t->src.budget = 100;
	assert_true(vio_vq_enable_intr(vio_drv_vq(t->p.drv, 0)));
	assert_int_equal(vio_rng_device_process(t->rd, 0), 1);
	assert_false(vio_rng_device_waiting(t->rd));
	assert_int_equal(pair_interrupt(&t->p), 0);
	assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
	assert_ptr_equal(tok, buf + 32);
	assert_int_equal(len, 32);
	done(t);
}

static void test_rng_device_readable_buffer_needs_reset(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = make(false, 1000, fmts[f]);
		unsigned char *buf = pair_alloc(&t->p, 16);
		struct vio_sg sg[2] = {{buf, 8}, {buf + 8, 8}};
		/* §5.4.6.1: the driver MUST NOT offer device-readable buffers. */
		assert_int_equal(vio_vq_add(vio_drv_vq(t->p.drv, 0), sg, 1, 1, buf), 0);
		/* Served inline, inside the notification. */
		assert_int_equal(vio_drv_notify(t->p.drv, 0), 0);
		assert_true((pair_status(&t->p) & VIO_STATUS_DEVICE_NEEDS_RESET) != 0);
		assert_int_equal(pair_interrupt(&t->p), -VIO_ENEEDS_RESET);
		assert_int_equal(vio_rng_device_process(t->rd, 0), -VIO_EBROKEN);
		assert_int_equal(vio_rng_device_process(t->rd, 1), -VIO_EINVAL);
		done(t);
	}
}

static void test_rng_device_queue_reset_stops_and_restarts(void **state)
{
	(void)state;
	struct t *t = make(true, 1u << 20, VIO_RING_PACKED);
	assert_true(vio_drv_has_feature(t->p.drv, VIO_F_RING_RESET));
	unsigned char *buf = pair_alloc(&t->p, 32);
	assert_int_equal(vio_rng_drv_submit(&t->drv, buf, 32, buf), 0);
	unsigned stops = t->rec.stops;
	assert_int_equal(vio_drv_queue_reset(t->p.drv, 0), 0);
	assert_int_equal(t->rec.stops, stops + 1);
	assert_int_equal(vio_rng_device_process(t->rd, 0), 0); /* stopped: nothing served */
	void *tok;
	assert_int_equal(vio_vq_detach_unused(vio_drv_vq(t->p.drv, 0), &tok), 0);
	assert_ptr_equal(tok, buf);
	t->rec.kicked = 0;
	assert_int_equal(vio_drv_queue_reenable(t->p.drv, 0), 0);
	assert_int_equal(t->rec.kicked, 1u); /* live again */
	assert_int_equal(vio_rng_drv_submit(&t->drv, buf, 32, buf), 0);
	assert_int_equal(vio_drv_kick(t->p.drv, 0), 0);
	assert_int_equal(vio_rng_device_process(t->rd, 0), 1);
	assert_int_equal(pair_interrupt(&t->p), 0);
	uint32_t len;
	assert_int_equal(vio_rng_drv_get(&t->drv, &tok, &len), 0);
	assert_int_equal(len, 32);
	/* Pause/resume around a save. */
	vio_rng_device_pause(t->rd);
	assert_int_equal(vio_rng_device_process(t->rd, 0), 0);
	t->rec.kicked = 0;
	vio_rng_device_resume(t->rd);
	assert_int_equal(t->rec.kicked, 1u);
	done(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rng_device_init_checks),
		cmocka_unit_test(test_rng_device_roundtrip),
		cmocka_unit_test(test_rng_device_source_runs_dry),
		cmocka_unit_test(test_rng_device_readable_buffer_needs_reset),
		cmocka_unit_test(test_rng_device_queue_reset_stops_and_restarts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
