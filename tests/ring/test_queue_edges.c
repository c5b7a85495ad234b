/* SPDX-License-Identifier: MIT */
/* Edges of the queue API not reached by the traffic tests: a device model
 * that pushes what it never popped, a driver that adds 65535 buffers
 * between two kick decisions, and a peer that writes an event offset
 * beyond the ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "loop.h"
#include "raw_ring.h"

static void setup(struct loop *l, enum vio_ring_format fmt, uint16_t size, bool event_idx)
{
	struct loop_cfg cfg = {0};
	cfg.format = fmt;
	cfg.size = size;
	cfg.features = loop_features(fmt, event_idx, false);
	cfg.data_bytes = 4096;
	assert_int_equal(loop_init(l, &cfg), 0);
}

static int add_one(struct loop *l, uintptr_t token)
{
	struct vio_sg sg = {l->data, 64};
	return vio_vq_add(l->vq, &sg, 0, 1, (void *)token);
}

/* Completions naming no slot of the queue are refused, nothing is
 * published and the queue is not broken (the caller is trusted code). */
static void test_devq_push_rejects_bad_entries(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		enum vio_ring_format fmt = f ? VIO_RING_PACKED : VIO_RING_SPLIT;
		struct loop l;
		setup(&l, fmt, 8, true);
		struct vio_ring_state before, after;
		vio_devq_get_state(l.dq, &before);

		struct vio_chain ch = {.id = 8, .ndesc = 1};
		assert_int_equal(vio_devq_push(l.dq, &ch, 0), -VIO_EINVAL);
		ch.id = 0; /* in range, never popped */
		assert_int_equal(vio_devq_push(l.dq, &ch, 0), -VIO_EINVAL);
		struct vio_used many[9];
		for (unsigned i = 0; i < 9; i++)
			many[i] = (struct vio_used){&ch, 0};
		assert_int_equal(vio_devq_push_batch(l.dq, many, 9), -VIO_EINVAL);
		assert_int_equal(vio_devq_push_batch(l.dq, many, 1), -VIO_EINVAL);
		struct vio_used none = {NULL, 0};
		assert_int_equal(vio_devq_push_batch(l.dq, &none, 1), -VIO_EINVAL);
		vio_devq_get_state(l.dq, &after);
		assert_int_equal(after.used_idx, before.used_idx);
		assert_int_equal(after.used_wrap, before.used_wrap);
		assert_false(vio_devq_is_broken(l.dq));
		assert_false(vio_devq_needs_notify(l.dq)); /* nothing was pushed */
		loop_fini(&l);
	}
}

/* vio_vq_fail(): the driver's own reason latches like a ring error; the
 * first reason wins; reset clears it; odd reasons record ECOMPLETION. */
static void test_vq_fail_latches_reason(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		enum vio_ring_format fmt = f ? VIO_RING_PACKED : VIO_RING_SPLIT;
		struct loop l;
		setup(&l, fmt, 8, true);
		void *tok;
		uint32_t len;
		assert_int_equal(add_one(&l, 1), 0);
		assert_int_equal(vio_vq_fail(l.vq, -VIO_ECOMPLETION), -VIO_ECOMPLETION);
		assert_true(vio_vq_is_broken(l.vq));
		assert_int_equal(vio_vq_broken_reason(l.vq), -VIO_ECOMPLETION);
		assert_int_equal(add_one(&l, 2), -VIO_EBROKEN);
		assert_int_equal(vio_vq_get(l.vq, &tok, &len), -VIO_EBROKEN);
		assert_false(vio_vq_kick_prepare(l.vq));
		assert_false(vio_vq_has_used(l.vq));
		/* The first reason wins. */
		assert_int_equal(vio_vq_fail(l.vq, -VIO_EUSED_LEN), -VIO_ECOMPLETION);
		vio_vq_reset(l.vq);
		assert_false(vio_vq_is_broken(l.vq));
		assert_int_equal(add_one(&l, 3), 0);
		static const int odd[] = {0, 1, VIO_EUSED_ID, 12345};
		for (unsigned i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
			assert_int_equal(vio_vq_fail(l.vq, odd[i]), -VIO_ECOMPLETION);
			vio_vq_reset(l.vq);
		}
		/* Another negative code is kept as given. */
		assert_int_equal(vio_vq_fail(l.vq, -VIO_EUSED_LEN), -VIO_EUSED_LEN);
		loop_fini(&l);
	}
}

/* With EVENT_IDX, 16-bit arithmetic cannot span 65535 or more additions:
 * kick_prepare then kicks whatever avail_event says. */
static void test_vq_kick_after_65535_adds(void **state)
{
	(void)state;
	struct loop l;
	setup(&l, VIO_RING_SPLIT, 4, true);
	void *tok;
	uint32_t len;
	for (unsigned i = 0; i < 65535; i++) {
		assert_int_equal(add_one(&l, 1 + i), 0);
		struct vio_chain ch;
		struct vio_chain_seg seg;
		assert_int_equal(vio_devq_pop(l.dq, &ch, &seg, 1), 0);
		assert_int_equal(vio_devq_push(l.dq, &ch, 0), 0);
		assert_int_equal(vio_vq_get(l.vq, &tok, &len), 0);
	}
	/* An avail_event equal to the new index: need_event() over the
	 * 16-bit window [0, 65535) says "no", though the device may have
	 * wanted any of those entries. The escape kicks. */
	struct raw_ring r;
	raw_ring_attach(&r, VIO_RING_SPLIT, 4, l.desc, l.driver_area, l.device_area);
	raw_split_avail_event_set(&r, 65535);
	assert_false(vio_need_event(65535, 65535, 0));
	assert_true(vio_vq_kick_prepare(l.vq));
	assert_false(vio_vq_kick_prepare(l.vq)); /* nothing new */
	loop_fini(&l);
}

/* A packed peer writing an event offset beyond the ring gets a
 * notification rather than a lost one (§2.8.10 offsets are < size). */
static void test_packed_event_offset_beyond_ring_notifies(void **state)
{
	(void)state;
	struct loop l;
	setup(&l, VIO_RING_PACKED, 8, true);
	struct raw_ring r;
	raw_ring_attach(&r, VIO_RING_PACKED, 8, l.desc, l.driver_area, l.device_area);

	/* Device side asks for a kick at offset 100 of an 8-entry ring. */
	raw_packed_event_set(l.device_area, (uint16_t)(100u | 0x8000u), VIO_RING_EVENT_FLAGS_DESC);
	assert_int_equal(add_one(&l, 1), 0);
	assert_true(vio_vq_kick_prepare(l.vq));

	/* Driver side asks for an interrupt at offset 9, beyond the ring. */
	struct vio_chain ch;
	struct vio_chain_seg seg;
	assert_int_equal(vio_devq_pop(l.dq, &ch, &seg, 1), 0);
	assert_int_equal(vio_devq_push(l.dq, &ch, 0), 0);
	assert_true(vio_devq_needs_notify(l.dq)); /* first decision: no history */
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(l.vq, &tok, &len), 0);
	assert_int_equal(add_one(&l, 2), 0);
	assert_int_equal(vio_devq_pop(l.dq, &ch, &seg, 1), 0);
	assert_int_equal(vio_devq_push(l.dq, &ch, 0), 0);
	raw_packed_event_set(l.driver_area, 9, VIO_RING_EVENT_FLAGS_DESC);
	assert_true(vio_devq_needs_notify(l.dq));
	loop_fini(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devq_push_rejects_bad_entries),
		cmocka_unit_test(test_vq_fail_latches_reason),
		cmocka_unit_test(test_vq_kick_after_65535_adds),
		cmocka_unit_test(test_packed_event_offset_beyond_ring_notifies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
