/* SPDX-License-Identifier: MIT */
/* vio_ring_features(): exactly the bits the ring layer implements, and a
 * queue pair negotiating all of them (each format) carries traffic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "loop.h"

static int setup(void **state)
{
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return 0;
}

static void test_ring_features_exact_set(void **state)
{
	(void)state;
	struct vio_features f;
	memset(&f, 0xa5, sizeof(f)); /* every bit is written */
	vio_ring_features(&f);
	static const unsigned listed[] = {VIO_F_INDIRECT_DESC,	   VIO_F_EVENT_IDX,
					  VIO_F_RING_PACKED,	   VIO_F_IN_ORDER,
					  VIO_F_NOTIFICATION_DATA, VIO_F_RING_RESET};
	struct vio_features want = vio_features_none();
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		vio_features_set(&want, listed[i]);
	assert_true(vio_features_equal(&f, &want));
	/* Platform and transport bits are the embedder's. */
	assert_false(vio_features_test(&f, VIO_F_ACCESS_PLATFORM));
	assert_false(vio_features_test(&f, VIO_F_ORDER_PLATFORM));
	assert_false(vio_features_test(&f, VIO_F_VERSION_1));
	assert_false(vio_features_test(&f, VIO_F_NOTIF_CONFIG_DATA));
}

/* Both halves accept every ring feature at once (packed without
 * RING_PACKED, split with it, are refused: the format decides that bit). */
static void test_ring_features_all_negotiated(void **state)
{
	enum vio_ring_format fmt = *(enum vio_ring_format *)*state;
	struct vio_features ring;
	vio_ring_features(&ring);
	struct loop_cfg lc;
	memset(&lc, 0, sizeof(lc));
	lc.format = fmt;
	lc.size = 8;
	lc.features = ring;
	vio_features_set(&lc.features, VIO_F_VERSION_1);
	if (fmt == VIO_RING_SPLIT)
		vio_features_clear(&lc.features, VIO_F_RING_PACKED);
	lc.data_bytes = 4096;
	struct loop l;
	assert_err(loop_init(&l, &lc), 0);
	for (unsigned k = 0; k < 20; k++) {
		struct vio_sg sg[3] = {{l.data, 16}, {l.data + 64, 32}, {l.data + 128, 8}};
		assert_err(vio_vq_add(l.vq, sg, 1 + k % 2, 1, &l), 0);
		uint32_t nd = vio_vq_notify_data(l.vq);
		assert_int_equal(vio_notify_data_vq(nd), lc.index);
		struct vio_chain ch;
		struct vio_chain_seg seg[3];
		assert_err(vio_devq_pop(l.dq, &ch, seg, 3), 0);
		assert_err(vio_devq_push(l.dq, &ch, 4), 0);
		void *tok;
		uint32_t len;
		assert_err(vio_vq_get(l.vq, &tok, &len), 0);
		assert_ptr_equal(tok, &l);
		assert_int_equal(len, 4);
	}
	loop_fini(&l);

	/* The format must match the RING_PACKED bit. */
	if (fmt == VIO_RING_SPLIT)
		vio_features_set(&lc.features, VIO_F_RING_PACKED);
	else
		vio_features_clear(&lc.features, VIO_F_RING_PACKED);
	assert_err(loop_init(&l, &lc), -VIO_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		SPLIT(test_ring_features_exact_set),
		BOTH(test_ring_features_all_negotiated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
