/* SPDX-License-Identifier: MIT */
/* Driver core: the §3.1.1 sequence, negotiation, the validate hook,
 * configuration reads, interrupts, queue reset, freeze/restore, suspend,
 * and every lie of a hostile device (through the virtio-mmio front over a
 * fake register file, tests/support/fake_mmio.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "drv_fixture.h"
#include "raw_ring.h"

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -1;
	fx_init(x, VIO_ID_BLOCK, 2, 256);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static struct vio_features feats(unsigned n, const unsigned *bits)
{
	struct vio_features f = vio_features_none();
	for (unsigned i = 0; i < n; i++)
		vio_features_set(&f, bits[i]);
	return f;
}

/* ---- the happy sequence ---------------------------------------------------------------- */

static void test_negotiate_status_sequence(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
	/* §3.1.1: reset, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK, never clearing a bit. */
	const uint32_t want[] = {0, 1, 3, 11, 15};
	assert_int_equal(x->m.nstatus, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(x->m.status_log[i], want[i]);
	assert_int_equal(fake_mmio_violations(&x->m), 0);
	assert_int_equal(vio_drv_device_id(x->drv), VIO_ID_BLOCK);
	assert_int_equal(vio_drv_error(x->drv), 0);
}

static void test_negotiate_accepts_offered_and_supported(void **state)
{
	struct fx *x = *state;
	unsigned dev_bits[] = {1, 9, 65}; /* device-specific: offered */
	struct vio_features extra = feats(3, dev_bits);
	x->m.offered = vio_features_or(&x->m.offered, &extra);
	vio_features_set(&x->m.offered, 5); /* offered, not supported by the driver */
	unsigned drv_bits[] = {1, 65, 7};   /* 7: supported, not offered */
	x->cfg.features = feats(3, drv_bits);
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_features got = vio_drv_features(x->drv);
	assert_true(vio_features_test(&got, 1));
	assert_true(vio_features_test(&got, 65));
	assert_false(vio_features_test(&got, 5));
	assert_false(vio_features_test(&got, 7));
	assert_false(vio_features_test(&got, 9));
	assert_true(vio_features_test(&got, VIO_F_VERSION_1));
	assert_true(vio_features_test(&got, VIO_F_EVENT_IDX));
	assert_true(vio_features_test(&got, VIO_F_RING_RESET));
	/* The device saw exactly that set, all 128 bits. */
	assert_true(vio_features_equal(&got, &x->m.accepted));
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FEATURES_OK);
}

static void test_negotiate_packed_only_when_asked(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	assert_false(vio_drv_has_feature(x->drv, VIO_F_RING_PACKED));
	assert_int_equal(vio_drv_ring_format(x->drv), VIO_RING_SPLIT);

	fx_init(x, VIO_ID_BLOCK, 2, 256);
	vio_features_set(&x->cfg.features, VIO_F_RING_PACKED);
	assert_int_equal(fx_negotiate(x), 0);
	assert_true(vio_drv_has_feature(x->drv, VIO_F_RING_PACKED));
	assert_int_equal(vio_drv_ring_format(x->drv), VIO_RING_PACKED);
}

static bool window4_noise(struct fake_mmio *m, uint32_t off, uint32_t *val)
{
	if (off == VIO_MMIO_DEVICE_FEATURES && m->dev_sel == 4) {
		*val = 0x80000000u;
		return true;
	}
	return false;
}

/* QEMU's virtio-mmio device (4.2 and later, met by the bare-metal interop
 * test) treats any non-zero feature select as window 1: the driver's zero
 * windows 2 and 3 must not land on top of window 1 (VERSION_1, RING_PACKED),
 * or the device runs another ring format than the driver. */
static void test_negotiate_feature_windows_aliased(void **state)
{
	struct fx *x = *state;
	x->m.features_sel_clamp = true;
	vio_features_set(&x->m.offered, VIO_F_RING_PACKED);
	vio_features_set(&x->cfg.features, VIO_F_RING_PACKED);
	assert_int_equal(fx_negotiate(x), 0);
	assert_true(vio_drv_has_feature(x->drv, VIO_F_RING_PACKED));
	/* What the device holds for bits 0..63 is what the driver negotiated. */
	struct vio_features got = vio_drv_features(x->drv);
	assert_int_equal(x->m.accepted.w[0], got.w[0]);
	assert_true(vio_features_test(&x->m.accepted, VIO_F_VERSION_1));
	assert_true(vio_features_test(&x->m.accepted, VIO_F_RING_PACKED));
	/* The driver has no bit above 63: windows 2 and 3 are neither read
	 * nor written, so the alias does not show as offered bits 64..127. */
	assert_int_equal(x->m.dev_windows_read, 0x3u);
	assert_int_equal(x->m.drv_windows_written, 0x3u);
	struct vio_features offered = vio_drv_device_features(x->drv);
	assert_int_equal(offered.w[1], 0);
	assert_int_equal(offered.w[0], x->m.offered.w[0]);
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

/* A driver that does support a bit above 63, on the aliasing device: window
 * 4 (reserved bits 128..159) reads as window 1, so windows 2 and 3 count as
 * offering nothing: bit 65 (window 1's bit 33 seen again) is not taken, and
 * windows 2-3 are not written (they would land on window 1). */
static void test_negotiate_feature_windows_alias_detected(void **state)
{
	struct fx *x = *state;
	x->m.features_sel_clamp = true;
	vio_features_set(&x->m.offered, VIO_F_ACCESS_PLATFORM); /* bit 33: aliased to 65 */
	vio_features_set(&x->cfg.features, 65);
	vio_features_set(&x->cfg.features, VIO_F_ACCESS_PLATFORM);
	assert_int_equal(fx_negotiate(x), 0);
	assert_false(vio_drv_has_feature(x->drv, 65));
	assert_true(vio_drv_has_feature(x->drv, VIO_F_ACCESS_PLATFORM));
	struct vio_features offered = vio_drv_device_features(x->drv);
	assert_int_equal(offered.w[1], 0);
	/* Read: 0, 1, 2 (the driver's bit 65; nothing of it in window 3) and
	 * the probe of 4 (the re-check after FEATURES_OK reads 0 and 1 only);
	 * written: 1 and 0. */
	assert_int_equal(x->m.dev_windows_read, 0x17u);
	assert_int_equal(x->m.drv_windows_written, 0x3u);
	struct vio_features got = vio_drv_features(x->drv);
	assert_true(vio_features_equal(&got, &x->m.accepted));
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

/* The same driver on a device that decodes every window: bits 64..127 are
 * read, negotiated and written; window 4 reads 0, so no alias. */
static void test_negotiate_feature_windows_high_bits(void **state)
{
	struct fx *x = *state;
	vio_features_set(&x->m.offered, VIO_F_ACCESS_PLATFORM);
	vio_features_set(&x->m.offered, 65);
	vio_features_set(&x->m.offered, 100); /* offered, not supported */
	vio_features_set(&x->cfg.features, 65);
	vio_features_set(&x->cfg.features, VIO_F_ACCESS_PLATFORM);
	assert_int_equal(fx_negotiate(x), 0);
	assert_true(vio_drv_has_feature(x->drv, 65));
	assert_false(vio_drv_has_feature(x->drv, 100));
	struct vio_features offered = vio_drv_device_features(x->drv);
	assert_true(vio_features_test(&offered, 65));
	/* Window 3 holds none of the driver's bits: only 0..2 (and the probe
	 * of 4) are read, 0..2 written. */
	assert_false(vio_features_test(&offered, 100));
	assert_int_equal(x->m.dev_windows_read, 0x17u);
	assert_int_equal(x->m.drv_windows_written, 0x7u);
	struct vio_features got = vio_drv_features(x->drv);
	assert_true(vio_features_equal(&got, &x->m.accepted));
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

/* A device whose reserved window 4 is non-zero but not a copy of window 1
 * (a future device, or noise) is not taken for an alias: windows 2-3 stay. */
static void test_negotiate_feature_windows_reserved_not_alias(void **state)
{
	struct fx *x = *state;
	x->m.features_sel_clamp = false;
	vio_features_set(&x->m.offered, 65);
	vio_features_set(&x->cfg.features, 65);
	x->m.read_hook = window4_noise;
	assert_int_equal(fx_negotiate(x), 0);
	assert_true(vio_drv_has_feature(x->drv, 65));
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

static void test_negotiate_refuses_no_version_1(void **state)
{
	struct fx *x = *state;
	vio_features_clear(&x->m.offered, VIO_F_VERSION_1);
	assert_int_equal(fx_negotiate(x), -VIO_ENEGOTIATE);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_FEATURES);
	assert_true(fx_failed_written(x));
	/* FEATURES_OK was never written. */
	for (unsigned i = 0; i < x->m.nstatus; i++)
		assert_int_equal(x->m.status_log[i] & VIO_STATUS_FEATURES_OK, 0);
	/* Latched: later calls repeat the error. */
	assert_int_equal(vio_drv_ready(x->drv), -VIO_ENEGOTIATE);
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 4, &v), -VIO_ENEGOTIATE);
}

static void test_negotiate_required_missing(void **state)
{
	struct fx *x = *state;
	unsigned bits[] = {9};
	x->cfg.features = feats(1, bits);
	x->cfg.required = feats(1, bits);
	assert_int_equal(fx_negotiate(x), -VIO_ENEGOTIATE);
	assert_true(fx_failed_written(x));
	assert_int_equal(x->validate_calls, 0);
}

static void test_negotiate_wrong_device_type(void **state)
{
	struct fx *x = *state;
	x->cfg.device_id = VIO_ID_NET;
	assert_int_equal(fx_negotiate(x), -VIO_ENODEV);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_IDENTIFY);
	/* Not ours: the device is left reset, no ACKNOWLEDGE, no FAILED. */
	assert_int_equal(x->m.nstatus, 1);
	assert_int_equal(x->m.status_log[0], 0);
}

static void test_negotiate_twice_refused(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	assert_int_equal(vio_drv_negotiate(x->drv), -VIO_EINVAL);
}

/* ---- the validate hook ------------------------------------------------------------------- */

static void test_validate_drops_feature(void **state)
{
	struct fx *x = *state;
	vio_features_set(&x->validate_clear, VIO_F_EVENT_IDX);
	x->validate_reads_config = true;
	assert_int_equal(fx_negotiate(x), 0);
	assert_int_equal(x->validate_calls, 1);
	assert_false(vio_drv_has_feature(x->drv, VIO_F_EVENT_IDX));
	assert_false(vio_features_test(&x->m.accepted, VIO_F_EVENT_IDX));
	/* The hook could read the configuration before FEATURES_OK. */
	assert_int_equal(x->validate_config_rc, 0);
	assert_int_equal(x->validate_config_value, 0x59585b5a);
}

static void test_validate_cannot_add(void **state)
{
	struct fx *x = *state;
	vio_features_set(&x->validate_set, 3); /* not offered */
	assert_int_equal(fx_negotiate(x), -VIO_ENEGOTIATE);
	assert_true(fx_failed_written(x));
}

static void test_validate_cannot_drop_version_1(void **state)
{
	struct fx *x = *state;
	vio_features_set(&x->validate_clear, VIO_F_VERSION_1);
	assert_int_equal(fx_negotiate(x), -VIO_ENEGOTIATE);
}

static void test_validate_refuses_device(void **state)
{
	struct fx *x = *state;
	x->validate_rc = -VIO_EINVAL;
	assert_int_equal(fx_negotiate(x), -VIO_EINVAL);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_FEATURES);
	assert_true(fx_failed_written(x));
}

/* ---- hostile device: negotiation --------------------------------------------------------- */

static void test_hostile_reset_never_completes(void **state)
{
	struct fx *x = *state;
	x->m.status_stuck = true;
	x->m.status = VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER; /* left by someone */
	assert_int_equal(fx_negotiate(x), -VIO_ETIMEOUT);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_RESET);
	/* Bounded: exactly reset_polls reads, a delay between two. */
	assert_int_equal(x->m.status_reads, x->cfg.reset_polls);
	assert_int_equal(x->m.delays, x->cfg.reset_polls - 1);
	assert_true(fx_failed_written(x));
}

static void test_slow_reset_completes(void **state)
{
	struct fx *x = *state;
	x->m.reset_busy = 7;
	assert_int_equal(fx_negotiate(x), 0);
	assert_int_equal(x->m.delays, 7);
}

static void test_hostile_features_ok_refused(void **state)
{
	struct fx *x = *state;
	x->m.reject_features_ok = true;
	assert_int_equal(fx_negotiate(x), -VIO_ENEGOTIATE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_FEATURES_OK);
	assert_true(fx_failed_written(x));
}

static void test_hostile_features_change_after_ok(void **state)
{
	struct fx *x = *state;
	x->m.features_flip_after_ok = 1u << VIO_F_EVENT_IDX;
	assert_int_equal(fx_negotiate(x), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_FEATURES_OK);
	assert_true(fx_failed_written(x));
}

static bool lie_features_before_ready(struct fake_mmio *m, uint32_t off, uint32_t *val)
{
	/* Bit 1 appears once DRIVER_OK is about to be written (queue set up). */
	if (off == VIO_MMIO_DEVICE_FEATURES && m->dev_sel == 0 && m->q[0].ready == 1) {
		*val |= 2;
		return true;
	}
	return false;
}

static void test_hostile_features_change_before_driver_ok(void **state)
{
	struct fx *x = *state;
	x->m.read_hook = lie_features_before_ready;
	assert_int_equal(fx_live(x), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_DRIVER_OK);
	assert_true(fx_failed_written(x));
	assert_int_equal(x->m.status & VIO_STATUS_DRIVER_OK, 0);
}

static void test_hostile_device_id_changes(void **state)
{
	struct fx *x = *state;
	x->m.id_change_at = 3; /* probe, front re-read at negotiation, then changes */
	x->m.id_changed_to = VIO_ID_NET;
	assert_int_equal(fx_negotiate(x), -VIO_EDEVICE);
	assert_true(fx_failed_written(x));
}

static void test_hostile_status_loses_bits(void **state)
{
	struct fx *x = *state;
	x->m.status_and = ~(uint32_t)VIO_STATUS_DRIVER; /* DRIVER never reads back */
	assert_int_equal(fx_negotiate(x), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_FEATURES_OK);
}

static void test_hostile_needs_reset_at_driver_ok(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 0, FX_QSIZE, &qc);
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), 0);
	x->m.status_or = VIO_STATUS_DEVICE_NEEDS_RESET;
	assert_int_equal(vio_drv_ready(x->drv), -VIO_ENEEDS_RESET);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
	assert_true(fx_failed_written(x));
}

/* ---- queues ------------------------------------------------------------------------------- */

static void test_queue_setup_programs_device(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 1, FX_QSIZE, &qc);
	struct vio_vq *vq = NULL;
	assert_int_equal(vio_drv_queue_setup(x->drv, 1, &qc, &vq), 0);
	assert_non_null(vq);
	assert_ptr_equal(vio_drv_vq(x->drv, 1), vq);
	assert_null(vio_drv_vq(x->drv, 0));
	assert_int_equal(x->m.q[1].num, FX_QSIZE);
	assert_int_equal(x->m.q[1].ready, 1);
	/* Identity conversion: the block's layout, desc | avail | used (4-aligned). */
	uintptr_t base = (uintptr_t)x->qm[1].ring;
	assert_int_equal(x->m.q[1].desc, base);
	assert_int_equal(x->m.q[1].driver, base + 16 * FX_QSIZE);
	assert_int_equal(x->m.q[1].device,
			 base + vio_align_up(16 * FX_QSIZE + vio_split_avail_size(FX_QSIZE), 4));
	/* Twice is refused, and nothing changes. */
	assert_int_equal(vio_drv_queue_setup(x->drv, 1, &qc, NULL), -VIO_EINVAL);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FEATURES_OK);
}

static void test_queue_size_clamped_to_max(void **state)
{
	struct fx *x = *state;
	x->m.q[0].max = 16;
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 0, FX_QSIZE, &qc);
	struct vio_vq *vq;
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, &vq), 0);
	assert_int_equal(vio_vq_size(vq), 16);
	assert_int_equal(x->m.q[0].num, 16);
}

static void test_queue_bad_args_not_latched(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 0, 48, &qc); /* not a power of two: split refuses */
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), -VIO_EINVAL);
	fx_queue_config(x, 0, FX_QSIZE, &qc);
	qc.vq_mem_size = 16;
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), -VIO_EINVAL);
	assert_int_equal(vio_drv_queue_setup(x->drv, FX_QUEUES, &qc, NULL), -VIO_EINVAL);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FEATURES_OK);
}

static void test_hostile_queue_max_zero(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	uint16_t max;
	/* Queue 2 does not exist: an answer, not a failure. */
	assert_int_equal(vio_drv_queue_max(x->drv, 2, &max), -VIO_ENODEV);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FEATURES_OK);
	/* Setting it up fails the device. */
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 2, FX_QSIZE, &qc);
	assert_int_equal(vio_drv_queue_setup(x->drv, 2, &qc, NULL), -VIO_ENODEV);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_QUEUE);
	assert_true(fx_failed_written(x));
}

static void test_hostile_queue_max_too_big(void **state)
{
	const uint32_t lies[] = {32769, 65536, 0xffffffffu};
	for (unsigned i = 0; i < 3; i++) {
		struct fx *x = *state;
		fx_init(x, VIO_ID_BLOCK, 2, lies[i]);
		assert_int_equal(fx_negotiate(x), 0);
		uint16_t max;
		assert_int_equal(vio_drv_queue_max(x->drv, 0, &max), -VIO_EDEVICE);
		assert_true(fx_failed_written(x));
	}
}

static void test_hostile_queue_max_not_pow2_split(void **state)
{
	struct fx *x = *state;
	fx_init(x, VIO_ID_BLOCK, 2, 100);
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 0, FX_QSIZE, &qc);
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), -VIO_EDEVICE);
	assert_true(fx_failed_written(x));

	/* Packed rings take any size: min(64, 100). */
	fx_init(x, VIO_ID_BLOCK, 2, 100);
	vio_features_set(&x->cfg.features, VIO_F_RING_PACKED);
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_vq *vq;
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, &vq), 0);
	assert_int_equal(vio_vq_size(vq), FX_QSIZE);
}

static void test_hostile_queue_already_ready(void **state)
{
	struct fx *x = *state;
	x->m.queue_ready_stuck = true;
	assert_int_equal(fx_live(x), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_QUEUE);
	assert_true(fx_failed_written(x));
}

/* ---- configuration space ------------------------------------------------------------------ */

static void test_config_read_widths(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 3, 1, &v), 0);
	assert_int_equal(v, 3 ^ 0x5a);
	assert_int_equal(vio_drv_config_read(x->drv, 2, 2, &v), 0);
	assert_int_equal(v, 0x5958);
	assert_int_equal(vio_drv_config_read(x->drv, 8, 8, &v), 0);
	assert_int_equal(v, 0x5554575651505352ull);
	assert_int_equal(x->m.config_reads[1], 1);
	assert_int_equal(x->m.config_reads[2], 1);
	assert_int_equal(x->m.config_reads[4], 2);
	/* Misaligned, bad width, past the window: refused, no access, not latched. */
	unsigned before = x->m.reads;
	assert_int_equal(vio_drv_config_read(x->drv, 1, 2, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, 2, 4, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, 0, 3, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, FM_CONFIG_MAX, 1, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, FM_CONFIG_MAX - 4, 8, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, 0xfffffffcu, 4, &v), -VIO_EINVAL);
	assert_true(x->m.reads - before <= 2 * 6); /* at most the generation reads */
	assert_int_equal(fake_mmio_violations(&x->m), 0);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FEATURES_OK);
}

static void test_config_read_fields_and_bytes(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_drv_config_field f[2] = {{0, 4, 0}, {4, 2, 0}};
	assert_int_equal(vio_drv_config_read_fields(x->drv, f, 2), 0);
	assert_int_equal(f[0].value, 0x59585b5a);
	assert_int_equal(f[1].value, 0x5f5e);
	unsigned char b[6];
	assert_int_equal(vio_drv_config_read_bytes(x->drv, 10, b, sizeof(b)), 0);
	for (unsigned i = 0; i < sizeof(b); i++)
		assert_int_equal(b[i], (10 + i) ^ 0x5a);
	assert_int_equal(x->m.config_reads[1], 6);
}

static void test_config_generation_settles(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	x->m.generation_flips = 3;
	unsigned before = x->m.gen_reads;
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 4, &v), 0);
	/* Attempt 1 saw two changes, attempt 2 one before it started: it settled. */
	assert_int_equal(x->m.gen_reads - before, 4);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FEATURES_OK);
}

static void test_hostile_generation_never_settles(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_negotiate(x), 0);
	x->m.generation_spins = true;
	unsigned before = x->m.gen_reads;
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 4, &v), -VIO_EGENERATION);
	assert_int_equal(x->m.gen_reads - before, 2 * x->cfg.config_retries);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_CONFIG);
	assert_true(fx_failed_written(x));
}

static void test_config_write_rules(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_start(x), 0);
	/* Before FEATURES_OK: no writes (§3.1.1 step 4), no reads outside negotiation. */
	assert_int_equal(vio_drv_config_write(x->drv, 0, 1, 7), -VIO_EINVAL);
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 1, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	assert_int_equal(vio_drv_config_write(x->drv, 0, 1, 7), 0);
	assert_int_equal(vio_drv_config_write(x->drv, 4, 2, 0x1234), 0);
	assert_int_equal(vio_drv_config_write(x->drv, 8, 8, 0x1122334455667788ull), 0);
	assert_int_equal(vio_drv_config_write(x->drv, 0, 1, 0x100), -VIO_EINVAL);
	assert_int_equal(x->m.config[0], 7);
	assert_int_equal(x->m.config[4], 0x34);
	assert_int_equal(x->m.config[5], 0x12);
	assert_int_equal(x->m.config[8], 0x88);
	assert_int_equal(x->m.config[15], 0x11);
}

/* ---- interrupts ------------------------------------------------------------------------------ */

static void test_interrupt_dispatch(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	uint32_t causes;
	assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
	assert_int_equal(causes, 0);
	assert_int_equal(x->m.nack, 0); /* nothing to acknowledge */

	fake_mmio_raise(&x->m, VIO_MMIO_INT_VRING | 0x40); /* plus an undefined bit */
	assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
	assert_int_equal(causes, VIO_DRV_INT_VRING);
	assert_int_equal(x->queue_irq[0], 1);
	assert_int_equal(x->queue_irq[1], 0); /* not set up */
	assert_int_equal(x->m.nack, 1);
	assert_int_equal(x->m.ack_log[0], VIO_MMIO_INT_VRING); /* undefined bit not acked */
	assert_int_equal(x->config_changed_calls, 0);

	fake_mmio_config_set(&x->m, 0, 0x42);
	assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
	assert_int_equal(causes, VIO_DRV_INT_CONFIG);
	assert_int_equal(x->config_changed_calls, 1);
	assert_int_equal(x->queue_irq[0], 1);
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 1, &v), 0);
	assert_int_equal(v, 0x42);
}

static void test_interrupt_needs_reset_reported_once(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	x->m.status_or = VIO_STATUS_DEVICE_NEEDS_RESET;
	for (int i = 0; i < 3; i++) {
		fake_mmio_raise(&x->m, VIO_MMIO_INT_CONFIG);
		assert_int_equal(vio_drv_interrupt(x->drv, NULL), -VIO_ENEEDS_RESET);
	}
	assert_int_equal(x->needs_reset_calls, 1);
	assert_int_equal(x->config_changed_calls, 0);
	assert_int_equal(vio_drv_check_status(x->drv), -VIO_ENEEDS_RESET);
	/* Not latched failed: the driver decides (reset, then start again). */
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
	x->m.status_or = 0;
	assert_int_equal(vio_drv_reset(x->drv), 0);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_IDLE);
	assert_null(vio_drv_vq(x->drv, 0));
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
}

static void test_hostile_status_lost_while_live(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	x->m.status = 0; /* the device reset itself behind the driver's back */
	fake_mmio_raise(&x->m, VIO_MMIO_INT_CONFIG);
	assert_int_equal(vio_drv_interrupt(x->drv, NULL), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_RUNNING);
	assert_true(fx_failed_written(x));
	assert_int_equal(x->config_changed_calls, 0);
}

/* ---- notifications --------------------------------------------------------------------------- */

static void test_notify_value(void **state)
{
	struct fx *x = *state;
	/* Without NOTIFICATION_DATA: the queue index. */
	vio_features_clear(&x->m.offered, VIO_F_NOTIFICATION_DATA);
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 1, FX_QSIZE, &qc);
	assert_int_equal(vio_drv_queue_setup(x->drv, 1, &qc, NULL), 0);
	assert_int_equal(vio_drv_notify(x->drv, 1), -VIO_EINVAL); /* before DRIVER_OK */
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(vio_drv_notify(x->drv, 1), 0);
	assert_int_equal(x->m.notify_log[x->m.nnotify - 1], 1);
	assert_int_equal(vio_drv_notify(x->drv, 0), -VIO_EINVAL); /* not set up */

	/* With it: the §2.9 value of the next available position. */
	fx_init(x, VIO_ID_BLOCK, 2, 256);
	assert_int_equal(fx_negotiate(x), 0);
	assert_true(vio_drv_has_feature(x->drv, VIO_F_NOTIFICATION_DATA));
	struct vio_vq *vq;
	fx_queue_config(x, 1, FX_QSIZE, &qc);
	assert_int_equal(vio_drv_queue_setup(x->drv, 1, &qc, &vq), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	static char buf[8];
	struct vio_sg sg = {buf, sizeof(buf)};
	assert_int_equal(vio_vq_add(vq, &sg, 1, 0, buf), 0);
	assert_int_equal(vio_drv_kick(x->drv, 1), 0);
	assert_int_equal(x->m.nnotify, 1);
	assert_int_equal(x->m.notify_log[0], vio_notify_data_make(1, 1, false));
}

/* ---- vio_drv_poll_used() ------------------------------------------------------------------- */

/* The relax callback of the poll tests: counts its calls, completes the
 * one outstanding buffer (as the device) at call @complete_at, and says
 * stop at call @stop_at (0: never). */
struct relax_rec {
	struct raw_ring dev;
	unsigned calls, complete_at, stop_at;
	uint16_t head;
};

static bool relax_rec(void *ctx)
{
	struct relax_rec *r = ctx;
	r->calls++;
	if (r->calls == r->complete_at)
		raw_split_used_add(&r->dev, r->head, 4);
	return r->stop_at == 0 || r->calls < r->stop_at;
}

/* Live device with queue 0 (split) and one 8-byte buffer outstanding; the
 * mock device half attached to the ring the driver programmed. */
static struct vio_vq *poll_setup(struct fx *x, struct relax_rec *r, char *buf)
{
	assert_int_equal(fx_live(x), 0);
	struct vio_vq *vq = vio_drv_vq(x->drv, 0);
	assert_non_null(vq);
	struct vio_sg sg = {buf, 8};
	assert_int_equal(vio_vq_add(vq, &sg, 0, 1, buf), 0);
	assert_int_equal(vio_drv_kick(x->drv, 0), 0);
	memset(r, 0, sizeof(*r));
	const struct fm_queue *q = &x->m.q[0];
	raw_ring_attach(&r->dev, VIO_RING_SPLIT, (uint16_t)q->num, (void *)(uintptr_t)q->desc,
			(void *)(uintptr_t)q->driver, (void *)(uintptr_t)q->device);
	assert_int_equal(raw_split_avail_next(&r->dev, &r->head), 0);
	return vq;
}

static void test_poll_used_completes(void **state)
{
	struct fx *x = *state;
	static char buf[8];
	struct relax_rec r;
	struct vio_vq *vq = poll_setup(x, &r, buf);
	r.complete_at = 5;
	unsigned status_reads = x->m.status_reads;
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 100, relax_rec, &r), 0);
	assert_int_equal(r.calls, 5);
	assert_int_equal(x->m.status_reads, status_reads); /* no status read on success */
	/* It reaps nothing: the completion is still there for the caller. */
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(vq, &tok, &len), 0);
	assert_ptr_equal(tok, buf);
	assert_int_equal(len, 4);
	/* Already waiting: 0 at once, no relax. */
	assert_int_equal(vio_vq_add(vq, &(struct vio_sg){buf, 8}, 0, 1, buf), 0);
	assert_int_equal(raw_split_avail_next(&r.dev, &r.head), 0);
	raw_split_used_add(&r.dev, r.head, 8);
	r.calls = 0;
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 100, relax_rec, &r), 0);
	assert_int_equal(r.calls, 0);
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

static void test_poll_used_times_out(void **state)
{
	struct fx *x = *state;
	static char buf[8];
	struct relax_rec r;
	(void)poll_setup(x, &r, buf);
	/* max_polls checks, relax between two: max_polls - 1 calls; then one
	 * status read, which finds the device fine. */
	unsigned status_reads = x->m.status_reads;
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 10, relax_rec, &r), -VIO_ETIMEOUT);
	assert_int_equal(r.calls, 9);
	assert_int_equal(x->m.status_reads, status_reads + 1);
	/* 0 and 1 polls: one check, no relax. */
	r.calls = 0;
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 0, relax_rec, &r), -VIO_ETIMEOUT);
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 1, relax_rec, &r), -VIO_ETIMEOUT);
	assert_int_equal(r.calls, 0);
	/* The relax callback's deadline ends the wait early. */
	r.stop_at = 3;
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 1000, relax_rec, &r), -VIO_ETIMEOUT);
	assert_int_equal(r.calls, 3);
	/* Without relax: back to back, bounded by the count alone. */
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 50, NULL, NULL), -VIO_ETIMEOUT);
	/* A timeout is not latched: the driver is still live. */
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

static void test_poll_used_device_needs_reset(void **state)
{
	struct fx *x = *state;
	static char buf[8];
	struct relax_rec r;
	(void)poll_setup(x, &r, buf);
	x->m.status_or = VIO_STATUS_DEVICE_NEEDS_RESET;
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 4, relax_rec, &r), -VIO_ENEEDS_RESET);
	/* Lost status bits: FAILED written and latched. */
	x->m.status_or = 0;
	x->m.status_and = VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER;
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 4, relax_rec, &r), -VIO_EDEVICE);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
	assert_true(fx_failed_written(x));
	/* A failed driver returns its latched error at once. */
	r.calls = 0;
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 4, relax_rec, &r), -VIO_EDEVICE);
	assert_int_equal(r.calls, 0);
}

static void test_poll_used_broken_queue(void **state)
{
	struct fx *x = *state;
	static char buf[8];
	struct relax_rec r;
	struct vio_vq *vq = poll_setup(x, &r, buf);
	/* The device completes an id that is not outstanding: the caller's get
	 * breaks the queue; the next wait reports why, without polling. */
	raw_split_used_add(&r.dev, (uint16_t)(r.head + 1u), 4);
	void *tok;
	uint32_t len;
	int why = vio_vq_get(vq, &tok, &len);
	assert_true(why < 0 && vio_err_is_peer(why));
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 4, relax_rec, &r), why);
	assert_int_equal(r.calls, 0);
}

static void test_poll_used_bad_args(void **state)
{
	struct fx *x = *state;
	assert_int_equal(vio_drv_poll_used(NULL, 0, 4, NULL, NULL), -VIO_EINVAL);
	/* Not live yet: negotiated only. */
	assert_int_equal(fx_negotiate(x), 0);
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 4, NULL, NULL), -VIO_EINVAL);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 0, FX_QSIZE, &qc);
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	/* Live, but queue 1 was never set up, and 9 is past the slots. */
	assert_int_equal(vio_drv_poll_used(x->drv, 1, 4, NULL, NULL), -VIO_EINVAL);
	assert_int_equal(vio_drv_poll_used(x->drv, 9, 4, NULL, NULL), -VIO_EINVAL);
	assert_int_equal(vio_drv_poll_used(x->drv, 0, 4, NULL, NULL), -VIO_ETIMEOUT);
}

/* ---- queue reset, freeze/restore, suspend -------------------------------------------------- */

static void test_queue_reset_and_reenable(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	struct vio_vq *vq = vio_drv_vq(x->drv, 0);
	x->m.q[0].reset_busy = 3;
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), 0);
	assert_int_equal(x->m.q[0].ready, 0);
	assert_int_equal(vio_drv_notify(x->drv, 0), -VIO_EINVAL); /* not live */
	assert_int_equal(vio_drv_queue_reenable(x->drv, 0), 0);
	assert_int_equal(x->m.q[0].ready, 1);
	assert_ptr_equal(vio_drv_vq(x->drv, 0), vq);
	/* Or with new memory and size. */
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 3, 32, &qc);
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, &vq), 0);
	assert_int_equal(x->m.q[0].num, 32);
	assert_int_equal(x->m.q[0].desc, (uintptr_t)x->qm[3].ring);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

static void test_hostile_queue_reset_stuck(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	x->m.queue_reset_stuck = true;
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), -VIO_ETIMEOUT);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_QUEUE);
	assert_true(fx_failed_written(x));
}

static void test_queue_reset_needs_feature(void **state)
{
	struct fx *x = *state;
	vio_features_clear(&x->m.offered, VIO_F_RING_RESET);
	assert_int_equal(fx_live(x), 0);
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), -VIO_EINVAL);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
}

static void test_freeze_restore(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	struct vio_features before = vio_drv_features(x->drv);
	uint64_t desc = x->m.q[0].desc;
	assert_int_equal(vio_drv_freeze(x->drv), 0);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FROZEN);
	assert_int_equal(x->m.status, 0);
	assert_int_equal(x->m.q[0].ready, 0);
	assert_int_equal(vio_drv_restore(x->drv), 0);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
	struct vio_features after = vio_drv_features(x->drv);
	assert_true(vio_features_equal(&before, &after));
	assert_true(vio_features_equal(&before, &x->m.accepted));
	assert_int_equal(x->m.q[0].ready, 1);
	assert_int_equal(x->m.q[0].desc, desc);
	assert_int_equal(x->m.status, 15);
	assert_int_equal(x->validate_calls, 1); /* not run again */
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

static void test_hostile_restore_feature_gone(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	assert_int_equal(vio_drv_freeze(x->drv), 0);
	vio_features_clear(&x->m.offered, VIO_F_EVENT_IDX);
	assert_int_equal(vio_drv_restore(x->drv), -VIO_ENEGOTIATE);
	assert_true(fx_failed_written(x));
}

static void test_hostile_restore_queue_shrank(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	assert_int_equal(vio_drv_freeze(x->drv), 0);
	x->m.q[0].max = 16;
	assert_int_equal(vio_drv_restore(x->drv), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_QUEUE);
}

static void test_suspend_resume(void **state)
{
	struct fx *x = *state;
	vio_features_set(&x->m.offered, VIO_F_SUSPEND);
	x->m.honour_suspend = true;
	assert_int_equal(fx_live(x), 0);
	/* Not asked for: not negotiated. */
	assert_int_equal(vio_drv_suspend(x->drv), -VIO_EINVAL);

	fx_init(x, VIO_ID_BLOCK, 2, 256);
	vio_features_set(&x->m.offered, VIO_F_SUSPEND);
	vio_features_set(&x->cfg.features, VIO_F_SUSPEND);
	x->m.honour_suspend = true;
	assert_int_equal(fx_live(x), 0);
	assert_int_equal(vio_drv_suspend(x->drv), 0);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_SUSPENDED);
	assert_int_equal(x->m.status & (VIO_STATUS_SUSPEND | VIO_STATUS_DRIVER_OK),
			 VIO_STATUS_SUSPEND);
	assert_int_equal(vio_drv_check_status(x->drv), 0);
	assert_int_equal(vio_drv_config_write(x->drv, 0, 1, 1), -VIO_EINVAL);
	assert_int_equal(vio_drv_resume(x->drv), 0);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
	assert_int_equal(x->m.status & (VIO_STATUS_SUSPEND | VIO_STATUS_DRIVER_OK),
			 VIO_STATUS_DRIVER_OK);
	assert_int_equal(vio_drv_check_status(x->drv), 0);
}

static void test_hostile_suspend_never_completes(void **state)
{
	struct fx *x = *state;
	vio_features_set(&x->m.offered, VIO_F_SUSPEND);
	vio_features_set(&x->cfg.features, VIO_F_SUSPEND);
	assert_int_equal(fx_live(x), 0); /* honour_suspend off: DRIVER_OK stays */
	assert_int_equal(vio_drv_suspend(x->drv), -VIO_ETIMEOUT);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_SUSPEND);
	assert_int_equal(x->m.delays, x->cfg.reset_polls - 1);
}

/* ---- creation and the latch ------------------------------------------------------------------- */

static void test_init_rejects_bad_config(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_start(x), 0);
	struct vio_drv *d;
	struct vio_drv_config c = x->cfg;
	assert_int_equal(vio_drv_init(&d, x->drv_mem, VIO_DRV_MEM_SIZE(FX_QUEUES) - 1, &c),
			 -VIO_EINVAL);
	assert_int_equal(vio_drv_init(&d, x->drv_mem + 1, sizeof(x->drv_mem) - 8, &c), -VIO_EINVAL);
	c.num_queues = 0;
	assert_int_equal(vio_drv_init(&d, x->drv_mem, sizeof(x->drv_mem), &c), -VIO_EINVAL);
	c = x->cfg;
	c.use_vectors = true; /* the mmio front has none */
	assert_int_equal(vio_drv_init(&d, x->drv_mem, sizeof(x->drv_mem), &c), -VIO_EINVAL);
	c = x->cfg;
	c.ops = NULL;
	assert_int_equal(vio_drv_init(&d, x->drv_mem, sizeof(x->drv_mem), &c), -VIO_EINVAL);
	assert_int_equal(vio_drv_mem_size(0), 0);
	assert_int_equal(vio_drv_mem_size(3), VIO_DRV_MEM_SIZE(3));
}

static void test_fail_latches_until_reset(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	assert_int_equal(vio_drv_fail(x->drv, -VIO_EINVAL), -VIO_EINVAL);
	assert_true(fx_failed_written(x));
	assert_int_equal(vio_drv_check_status(x->drv), -VIO_EINVAL);
	assert_int_equal(vio_drv_freeze(x->drv), -VIO_EINVAL);
	assert_int_equal(vio_drv_reset(x->drv), 0);
	assert_int_equal(vio_drv_error(x->drv), 0);
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
}

/* ---- PCI-shaped optional ops: vectors, num_queues, read-to-clear ISR -------------------- */

/* The mmio front's ops with the optional members a PCI front has; their
 * state is global (the ops context is the front). */
static struct {
	uint16_t config_vector, queue_vector[FX_QUEUES];
	bool refuse_queue_vectors;
	unsigned sets;
} pci;

static int pci_set_config_vector(void *ctx, uint16_t vector, uint16_t *readback)
{
	(void)ctx;
	pci.config_vector = vector;
	*readback = vector;
	pci.sets++;
	return 0;
}

static int pci_set_queue_vector(void *ctx, uint16_t index, uint16_t vector, uint16_t *readback)
{
	(void)ctx;
	if (index < FX_QUEUES)
		pci.queue_vector[index] = vector;
	/* §4.1.5.1.2: a device out of vectors reads back NO_VECTOR. */
	*readback = pci.refuse_queue_vectors ? VIO_DRV_NO_VECTOR : vector;
	pci.sets++;
	return 0;
}

static int pci_num_queues(void *ctx, uint16_t *num)
{
	(void)ctx;
	*num = 3;
	return 0;
}

static struct vio_drv_transport_ops pci_ops;

static int start_pci_shaped(struct fx *x)
{
	memset(&pci, 0, sizeof(pci));
	pci_ops = vio_mmio_front_ops;
	pci_ops.set_config_vector = pci_set_config_vector;
	pci_ops.set_queue_vector = pci_set_queue_vector;
	pci_ops.num_queues = pci_num_queues;
	pci_ops.interrupt_ack = NULL; /* reading the ISR clears it */
	int rc = vio_mmio_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &fake_mmio_bus,
				      &x->m, x->m.window);
	if (rc < 0)
		return rc;
	x->cfg.ops = &pci_ops;
	x->cfg.ops_ctx = x->front;
	x->cfg.use_vectors = true;
	x->cfg.config_vector = 0;
	return vio_drv_init(&x->drv, x->drv_mem, sizeof(x->drv_mem), &x->cfg);
}

static void test_vectors_assigned(void **state)
{
	struct fx *x = *state;
	assert_int_equal(start_pci_shaped(x), 0);
	uint16_t n = 0;
	assert_int_equal(vio_drv_num_queues(x->drv, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 1, FX_QSIZE, &qc);
	qc.vector = 5;
	assert_int_equal(vio_drv_queue_setup(x->drv, 1, &qc, NULL), 0);
	assert_int_equal(pci.queue_vector[1], 5);
	x->cfg.config_vector = 9; /* copied at init: no effect now */
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(pci.config_vector, 0);
	assert_int_equal(pci.sets, 2);
	/* Per-vector entry points. */
	vio_drv_queue_interrupt(x->drv, 1);
	vio_drv_queue_interrupt(x->drv, 0); /* not set up: ignored */
	assert_int_equal(x->queue_irq[1], 1);
	assert_int_equal(x->queue_irq[0], 0);
	assert_int_equal(vio_drv_config_interrupt(x->drv), 0);
	assert_int_equal(x->config_changed_calls, 1);
	/* Without an ack op nothing is acknowledged. */
	fake_mmio_raise(&x->m, VIO_MMIO_INT_VRING);
	assert_int_equal(vio_drv_interrupt(x->drv, NULL), 0);
	assert_int_equal(x->m.nack, 0);
	assert_int_equal(x->queue_irq[1], 2);
}

static void test_vector_refused(void **state)
{
	struct fx *x = *state;
	assert_int_equal(start_pci_shaped(x), 0);
	pci.refuse_queue_vectors = true;
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 0, FX_QSIZE, &qc);
	qc.vector = 1;
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), -VIO_ENOSPC);
	assert_true(fx_failed_written(x));
	assert_int_equal(x->m.q[0].ready, 0); /* never enabled */
}

static void test_num_queues_absent_on_mmio(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_start(x), 0);
	uint16_t n;
	assert_int_equal(vio_drv_num_queues(x->drv, &n), -VIO_EINVAL);
}

/* ---- ring-address conversions: made at setup, released when the device is done --------- */

static struct {
	unsigned to_device, released;
} conv;

static int count_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			   uint64_t *addr)
{
	(void)ctx;
	(void)len;
	(void)dir;
	conv.to_device++;
	*addr = (uint64_t)(uintptr_t)ptr;
	return 0;
}

static void count_release(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			  uint64_t addr)
{
	(void)ctx;
	(void)len;
	(void)dir;
	assert_int_equal(addr, (uint64_t)(uintptr_t)ptr);
	conv.released++;
}

static const struct vio_dma_ops counting_dma = {count_to_device, count_release};

static void test_ring_conversions_released(void **state)
{
	struct fx *x = *state;
	memset(&conv, 0, sizeof(conv));
	x->cfg.dma_ops = &counting_dma;
	assert_int_equal(fx_negotiate(x), 0);
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 0, FX_QSIZE, &qc);
	qc.vq_mem_size = VIO_VQ_MEM_SIZE_DMA(FX_QSIZE, 0);
	static _Alignas(8) unsigned char vqmem[VIO_VQ_MEM_SIZE_DMA(FX_QSIZE, 0)];
	qc.vq_mem = vqmem;
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(conv.to_device, 3);
	assert_int_equal(conv.released, 0);
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), 0);
	assert_int_equal(conv.released, 3);
	assert_int_equal(vio_drv_queue_reenable(x->drv, 0), 0);
	assert_int_equal(conv.to_device, 6);
	assert_int_equal(vio_drv_freeze(x->drv), 0);
	assert_int_equal(conv.released, 6);
	assert_int_equal(vio_drv_restore(x->drv), 0);
	assert_int_equal(conv.to_device, 9);
	assert_int_equal(vio_drv_reset(x->drv), 0);
	assert_int_equal(conv.released, 9);
	/* A reset that times out keeps them: the device may still use the ring. */
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), 0);
	x->m.status_stuck = true;
	assert_int_equal(vio_drv_reset(x->drv), -VIO_ETIMEOUT);
	assert_int_equal(conv.released, 9);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_negotiate_status_sequence),
		T(test_negotiate_accepts_offered_and_supported),
		T(test_negotiate_packed_only_when_asked),
		T(test_negotiate_feature_windows_aliased),
		T(test_poll_used_completes),
		T(test_poll_used_times_out),
		T(test_poll_used_device_needs_reset),
		T(test_poll_used_broken_queue),
		T(test_poll_used_bad_args),
		T(test_negotiate_feature_windows_alias_detected),
		T(test_negotiate_feature_windows_high_bits),
		T(test_negotiate_feature_windows_reserved_not_alias),
		T(test_negotiate_refuses_no_version_1),
		T(test_negotiate_required_missing),
		T(test_negotiate_wrong_device_type),
		T(test_negotiate_twice_refused),
		T(test_validate_drops_feature),
		T(test_validate_cannot_add),
		T(test_validate_cannot_drop_version_1),
		T(test_validate_refuses_device),
		T(test_hostile_reset_never_completes),
		T(test_slow_reset_completes),
		T(test_hostile_features_ok_refused),
		T(test_hostile_features_change_after_ok),
		T(test_hostile_features_change_before_driver_ok),
		T(test_hostile_device_id_changes),
		T(test_hostile_status_loses_bits),
		T(test_hostile_needs_reset_at_driver_ok),
		T(test_queue_setup_programs_device),
		T(test_queue_size_clamped_to_max),
		T(test_queue_bad_args_not_latched),
		T(test_hostile_queue_max_zero),
		T(test_hostile_queue_max_too_big),
		T(test_hostile_queue_max_not_pow2_split),
		T(test_hostile_queue_already_ready),
		T(test_config_read_widths),
		T(test_config_read_fields_and_bytes),
		T(test_config_generation_settles),
		T(test_hostile_generation_never_settles),
		T(test_config_write_rules),
		T(test_interrupt_dispatch),
		T(test_interrupt_needs_reset_reported_once),
		T(test_hostile_status_lost_while_live),
		T(test_notify_value),
		T(test_queue_reset_and_reenable),
		T(test_hostile_queue_reset_stuck),
		T(test_queue_reset_needs_feature),
		T(test_freeze_restore),
		T(test_hostile_restore_feature_gone),
		T(test_hostile_restore_queue_shrank),
		T(test_suspend_resume),
		T(test_hostile_suspend_never_completes),
		T(test_init_rejects_bad_config),
		T(test_fail_latches_until_reset),
		T(test_vectors_assigned),
		T(test_vector_refused),
		T(test_num_queues_absent_on_mmio),
		T(test_ring_conversions_released),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
