/* SPDX-License-Identifier: MIT */
/* virtio-pci front: the probe (§4.1.2 IDs, §4.1.4 capabilities), the
 * bounded capability walk and structure checks against a lying
 * configuration space, BAR sizing and assignment, the transport ops under
 * the driver core against a lying device (queue sizes, num_queues, notify
 * offsets, features, status, vectors, queue reset), round trips with a real
 * driver queue against the ring's device half (split and packed, with and
 * without notification data), and the bare-metal author's program. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "fake_pci.h"
#include "guest_mem.h"

#define NSLOTS 4
#define QSIZE 64

struct pfx {
	struct fake_pci p;
	_Alignas(8) unsigned char front_mem[VIO_PCI_FRONT_MEM_SIZE(NSLOTS)];
	struct vio_pci_front *front;
	_Alignas(8) unsigned char drv_mem[VIO_DRV_MEM_SIZE(NSLOTS)];
	struct vio_drv *drv;
	struct vio_drv_config cfg;
	struct vio_pci_front_config fcfg;
	struct {
		_Alignas(16) unsigned char ring[VIO_DRV_RING_SIZE(QSIZE)];
		_Alignas(8) unsigned char vq[VIO_VQ_MEM_SIZE(QSIZE)];
	} qm[NSLOTS];
};

static int setup(void **state)
{
	struct pfx *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -1;
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	x->cfg.num_queues = NSLOTS;
	x->cfg.reset_polls = 50;
	x->cfg.config_retries = 8;
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static int probe(struct pfx *x)
{
	fake_pci_front_config(&x->p, NSLOTS, &x->fcfg);
	return vio_pci_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &fake_pci_bus,
				   &x->p, &x->fcfg);
}

static int start(struct pfx *x)
{
	int rc = probe(x);
	if (rc < 0)
		return rc;
	vio_pci_front_drv_config(x->front, &x->cfg);
	return vio_drv_init(&x->drv, x->drv_mem, sizeof(x->drv_mem), &x->cfg);
}

static int negotiate(struct pfx *x)
{
	int rc = start(x);
	return rc < 0 ? rc : vio_drv_negotiate(x->drv);
}

static void qconfig(struct pfx *x, unsigned i, struct vio_drv_queue_config *qc)
{
	memset(qc, 0, sizeof(*qc));
	qc->size = QSIZE;
	qc->ring = x->qm[i].ring;
	qc->vq_mem = x->qm[i].vq;
	qc->vq_mem_size = sizeof(x->qm[i].vq);
	qc->vector = (uint16_t)(i + 1);
}

static int setup_queue(struct pfx *x, unsigned i)
{
	struct vio_drv_queue_config qc;
	qconfig(x, i, &qc);
	return vio_drv_queue_setup(x->drv, (uint16_t)i, &qc, NULL);
}

static int live(struct pfx *x)
{
	int rc = negotiate(x);
	if (rc == 0)
		rc = setup_queue(x, 0);
	if (rc == 0)
		rc = vio_drv_ready(x->drv);
	return rc;
}

static bool failed_written(const struct pfx *x)
{
	return x->p.nstatus > 0 && (x->p.status_log[x->p.nstatus - 1] & VIO_STATUS_FAILED) != 0 &&
	       (x->p.status & VIO_STATUS_FAILED) != 0;
}

static void put8(struct fake_pci *p, uint32_t off, uint32_t v)
{
	p->cfg[off] = (uint8_t)v;
}

static void put32(struct fake_pci *p, uint32_t off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p->cfg[off + i] = (uint8_t)(v >> (8 * i));
}

/* A probe that failed: nothing touched but configuration space (reads) and,
 * if @failed, the status byte; the walk stayed in budget. */
static void assert_probe_quiet(const struct pfx *x, bool failed)
{
	assert_int_equal(fake_pci_violations(&x->p), 0);
	assert_int_equal(x->p.cfg_writes, 0);
	assert_true(x->p.cfg_reads <= VIO_PCI_FRONT_PROBE_MAX_CFG_READS);
	if (failed) {
		assert_int_equal(x->p.bar_reads, 1);
		assert_int_equal(x->p.bar_writes, 1);
		assert_true(failed_written(x));
	} else {
		assert_int_equal(x->p.bar_reads + x->p.bar_writes, 0);
	}
}

/* ---- probe ---------------------------------------------------------------------------------- */

static void test_probe_identifies(void **state)
{
	struct pfx *x = *state;
	assert_int_equal(probe(x), 0);
	assert_int_equal(vio_pci_front_device_id(x->front), VIO_ID_RNG);
	assert_int_equal(vio_pci_front_pci_device_id(x->front), 0x1044);
	assert_int_equal(vio_pci_front_config_size(x->front), FP_CONFIG_MAX);
	struct vio_pci_region r;
	assert_int_equal(vio_pci_front_region(x->front, VIO_PCI_CAP_NOTIFY_CFG, &r), 0);
	assert_int_equal(r.bar, 4);
	assert_int_equal(r.offset, 0x3000);
	assert_int_equal(r.length, 0x1000);
	assert_int_equal(vio_pci_front_region(x->front, VIO_PCI_CAP_PCI_CFG, &r), -VIO_EINVAL);
	struct vio_pci_msix_info mi;
	assert_int_equal(vio_pci_front_msix(x->front, &mi), 0);
	assert_int_equal(mi.table_size, 3);
	assert_int_equal(mi.table_bar, 1);
	assert_int_equal(mi.pba_off, 0x800);
	assert_int_equal(mi.cap, FP_CAP_MSIX);
	/* Configuration reads only: no BAR access, no write. */
	assert_probe_quiet(x, false);
}

static void test_probe_not_virtio(void **state)
{
	struct pfx *x = *state;
	static const struct {
		uint32_t ids;
		int rc;
	} cases[] = {
		{0xffffffffu, -VIO_ENODEV},	 /* no function */
		{0x10418086u, -VIO_ENOT_VIRTIO}, /* another vendor */
		{0x10801af4u, -VIO_ENOT_VIRTIO}, /* past the virtio range */
		{0x0fff1af4u, -VIO_ENOT_VIRTIO},
		{0x10401af4u, -VIO_ENODEV}, /* virtio device ID 0 */
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
		put32(&x->p, 0, cases[i].ids);
		assert_int_equal(probe(x), cases[i].rc);
		assert_probe_quiet(x, false);
	}
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put8(&x->p, VIO_PCI_CFG_HEADER_TYPE, 1); /* a bridge */
	assert_int_equal(probe(x), -VIO_ENOT_VIRTIO);
	assert_false(vio_err_is_peer(-VIO_ENOT_VIRTIO));
}

static void test_probe_legacy(void **state)
{
	struct pfx *x = *state;
	/* No capability list at all. */
	put8(&x->p, VIO_PCI_CFG_STATUS, 0);
	assert_int_equal(probe(x), -VIO_ELEGACY);
	assert_probe_quiet(x, false);
	/* A transitional ID without the virtio capabilities (MSI-X only). */
	fake_pci_init(&x->p, VIO_ID_BLOCK, 1, 8);
	put32(&x->p, 0, 0x10011af4u);
	put8(&x->p, VIO_PCI_CFG_CAP_PTR, FP_CAP_MSIX);
	assert_int_equal(probe(x), -VIO_ELEGACY);
	assert_probe_quiet(x, false);
}

static void test_probe_transitional_with_caps(void **state)
{
	struct pfx *x = *state;
	fake_pci_init(&x->p, VIO_ID_BLOCK, 1, 8);
	put32(&x->p, 0, 0x10011af4u);
	put8(&x->p, VIO_PCI_CFG_SUBSYS_ID, VIO_ID_BLOCK); /* §4.1.2.3 */
	put8(&x->p, VIO_PCI_CFG_SUBSYS_ID + 1, 0);
	assert_int_equal(probe(x), 0);
	assert_int_equal(vio_pci_front_device_id(x->front), VIO_ID_BLOCK);
	assert_int_equal(vio_pci_front_pci_device_id(x->front), 0x1001);
}

static void test_probe_bad_args(void **state)
{
	struct pfx *x = *state;
	fake_pci_front_config(&x->p, NSLOTS, &x->fcfg);
	assert_int_equal(vio_pci_front_probe(&x->front, x->front_mem, VIO_PCI_FRONT_MEM_SIZE(3),
					     &fake_pci_bus, &x->p, &x->fcfg),
			 -VIO_EINVAL);
	assert_int_equal(vio_pci_front_probe(&x->front, x->front_mem + 4, sizeof(x->front_mem) - 4,
					     &fake_pci_bus, &x->p, &x->fcfg),
			 -VIO_EINVAL);
	struct vio_pci_bus nobar = fake_pci_bus;
	nobar.bar_write = NULL;
	assert_int_equal(vio_pci_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &nobar,
					     &x->p, &x->fcfg),
			 -VIO_EINVAL);
	x->fcfg.queue_slots = 0;
	assert_int_equal(vio_pci_front_probe(&x->front, x->front_mem, sizeof(x->front_mem),
					     &fake_pci_bus, &x->p, &x->fcfg),
			 -VIO_EINVAL);
	assert_int_equal(vio_pci_front_mem_size(0), 0);
	assert_int_equal(vio_pci_front_mem_size(2), VIO_PCI_FRONT_MEM_SIZE(2));
	assert_int_equal(x->p.cfg_reads, 0);
}

/* ---- the capability list lies --------------------------------------------------------------- */

static void test_probe_cap_loop(void **state)
{
	struct pfx *x = *state;
	/* notify -> common: the list loops after the common configuration. */
	put8(&x->p, FP_CAP_NOTIFY + 1, FP_CAP_COMMON);
	assert_int_equal(probe(x), -VIO_EPCI_CAP);
	assert_true(vio_err_is_peer(-VIO_EPCI_CAP));
	assert_probe_quiet(x, true);
	/* A capability pointing at itself. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put8(&x->p, FP_CAP_COMMON + 1, FP_CAP_COMMON);
	assert_int_equal(probe(x), -VIO_EPCI_CAP);
	assert_probe_quiet(x, true);
}

static void test_probe_cap_pointer_out_of_range(void **state)
{
	struct pfx *x = *state;
	static const uint8_t bad[] = {0x30, 0x3c, 0x04, 0x42, 0x71, 0xfe};
	for (unsigned i = 0; i < sizeof(bad); i++) {
		/* As the first pointer: nothing usable was found yet. */
		fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
		put8(&x->p, VIO_PCI_CFG_CAP_PTR, bad[i]);
		assert_int_equal(probe(x), -VIO_EPCI_CAP);
		assert_probe_quiet(x, false);
		/* As a later one: the common configuration was usable. */
		fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
		put8(&x->p, FP_CAP_ISR + 1, bad[i]);
		assert_int_equal(probe(x), -VIO_EPCI_CAP);
		assert_probe_quiet(x, true);
	}
}

static void test_probe_cap_past_config_space(void **state)
{
	struct pfx *x = *state;
	/* The only common configuration capability starts at 0xfc: its 16
	 * bytes would end past the 256 of configuration space. */
	put8(&x->p, VIO_PCI_CFG_CAP_PTR, 0xfc);
	put32(&x->p, 0xfc, VIO_PCI_CAP_ID_VNDR | FP_CAP_ISR << 8 | 16u << 16 | 1u << 24);
	assert_int_equal(probe(x), -VIO_EPCI_CAP);
	assert_probe_quiet(x, false);
	/* A notify capability too short for its multiplier. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put8(&x->p, FP_CAP_NOTIFY + 2, 16);
	assert_int_equal(probe(x), -VIO_EPCI_CAP);
	assert_probe_quiet(x, true);
}

static void test_probe_walk_is_bounded(void **state)
{
	struct pfx *x = *state;
	/* Every one of the 48 slots holds an unusable notify capability,
	 * chained in order: the most reads a walk can make. */
	for (uint32_t s = 0x40; s < 0x100; s += 4) {
		uint32_t next = s + 4 < 0x100 ? s + 4 : 0;
		put32(&x->p, s, VIO_PCI_CAP_ID_VNDR | next << 8 | 20u << 16 | 2u << 24);
	}
	put8(&x->p, VIO_PCI_CFG_CAP_PTR, 0x40);
	assert_int_equal(probe(x), -VIO_EPCI_MISSING);
	assert_probe_quiet(x, false);
	assert_true(x->p.cfg_reads > 48 * 4);
	/* The same chain closed into a loop at its end. */
	put8(&x->p, 0xfd, 0x40);
	x->p.cfg_reads = 0;
	assert_int_equal(probe(x), -VIO_EPCI_CAP);
	assert_probe_quiet(x, false);
}

/* ---- the structures lie ------------------------------------------------------------------- */

static void test_probe_reserved_or_absent_bar(void **state)
{
	struct pfx *x = *state;
	put8(&x->p, FP_CAP_COMMON + 4, 6);
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	assert_true(vio_err_is_peer(-VIO_EPCI_REGION));
	assert_probe_quiet(x, false);
	/* The embedder did not grant BAR 4: nothing in it is used. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	x->p.granted[4] = 0;
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	assert_probe_quiet(x, false);
}

static void test_probe_uses_first_usable(void **state)
{
	struct pfx *x = *state;
	/* A second common configuration capability after MSI-X; the first
	 * names a reserved BAR and is skipped (§4.1.4.1). */
	for (unsigned i = 0; i < 16; i++)
		x->p.cfg[0xa4 + i] = x->p.cfg[FP_CAP_COMMON + i];
	put8(&x->p, 0xa5, 0);
	put8(&x->p, FP_CAP_MSIX + 1, 0xa4);
	put8(&x->p, FP_CAP_COMMON + 4, 0xff);
	assert_int_equal(live(x), 0);
	assert_int_equal(fake_pci_violations(&x->p), 0);
}

static void test_probe_structure_outside_bar(void **state)
{
	struct pfx *x = *state;
	/* Common: runs past the end of the 16 KiB BAR. */
	put32(&x->p, FP_CAP_COMMON + 8, 0x3800);
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	assert_probe_quiet(x, false);
	/* Common: offset + length overflows 32 bits. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put32(&x->p, FP_CAP_COMMON + 8, 0xfffff000u);
	put32(&x->p, FP_CAP_COMMON + 12, 0x2000);
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	assert_probe_quiet(x, false);
	/* Notify: inside the BAR, but past what the embedder granted. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	x->p.granted[4] = 0x3800;
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	assert_probe_quiet(x, true);
	/* ISR of length 0. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put32(&x->p, FP_CAP_ISR + 12, 0);
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	assert_probe_quiet(x, true);
}

static void test_probe_structure_too_short_or_misaligned(void **state)
{
	struct pfx *x = *state;
	put32(&x->p, FP_CAP_COMMON + 12, VIO_PCI_FRONT_COMMON_MIN - 1);
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put32(&x->p, FP_CAP_COMMON + 8, 2);
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put32(&x->p, FP_CAP_NOTIFY + 8, 0x3001);
	assert_int_equal(probe(x), -VIO_EPCI_REGION);
	assert_probe_quiet(x, true);
	/* The device configuration is optional: a bad one is ignored. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put32(&x->p, FP_CAP_DEVICE + 8, 0x2002);
	assert_int_equal(probe(x), 0);
	assert_int_equal(vio_pci_front_config_size(x->front), 0);
}

static void test_probe_missing_structure(void **state)
{
	struct pfx *x = *state;
	/* No ISR: common -> device. */
	put8(&x->p, FP_CAP_COMMON + 1, FP_CAP_DEVICE);
	assert_int_equal(probe(x), -VIO_EPCI_MISSING);
	assert_probe_quiet(x, true);
	/* No common configuration: FAILED cannot be written anywhere. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put8(&x->p, VIO_PCI_CFG_CAP_PTR, FP_CAP_ISR);
	assert_int_equal(probe(x), -VIO_EPCI_MISSING);
	assert_probe_quiet(x, false);
	/* Common present but unusable, no other: its reason. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	put8(&x->p, FP_CAP_NOTIFY + 3, 7); /* reserved type: ignored */
	assert_int_equal(probe(x), -VIO_EPCI_MISSING);
}

/* ---- the transport ops under the driver core ---------------------------------------------------- */

static void test_full_bring_up_is_disciplined(void **state)
{
	struct pfx *x = *state;
	assert_int_equal(live(x), 0);
	assert_int_equal(setup_queue(x, 1), -VIO_EINVAL); /* only before DRIVER_OK */
	uint16_t nq;
	assert_int_equal(vio_drv_num_queues(x->drv, &nq), 0);
	assert_int_equal(nq, 2);
	fake_pci_raise(&x->p, VIO_PCI_ISR_QUEUE | VIO_PCI_ISR_CONFIG);
	uint32_t causes;
	assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
	assert_int_equal(causes, VIO_DRV_INT_VRING | VIO_DRV_INT_CONFIG);
	assert_int_equal(x->p.isr_val, 0); /* read-to-clear */
	assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
	assert_int_equal(causes, 0);
	assert_int_equal(vio_drv_kick(x->drv, 0), 0);
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), 0);
	assert_int_equal(vio_drv_queue_reenable(x->drv, 0), 0);
	assert_int_equal(vio_drv_freeze(x->drv), 0);
	assert_int_equal(vio_drv_restore(x->drv), 0);
	assert_int_equal(vio_drv_notify(x->drv, 0), 0);
	assert_int_equal(x->p.q[0].size, 64);
	assert_int_not_equal(x->p.q[0].desc, 0);
	assert_int_equal(x->p.q[0].enable, 1);
	assert_int_equal(vio_drv_reset(x->drv), 0);
	assert_int_equal(fake_pci_violations(&x->p), 0);
	assert_int_equal(x->p.sel_past_numq, 0);
	assert_true(x->p.nnotify >= 1);
}

static void test_config_window(void **state)
{
	struct pfx *x = *state;
	put32(&x->p, FP_CAP_DEVICE + 12, 8);
	assert_int_equal(negotiate(x), 0);
	assert_int_equal(vio_pci_front_config_size(x->front), 8);
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 8, &v), 0);
	assert_int_equal(v, 0x2d2c2f2e29282b2aull ^ 0x7070707070707070ull);
	assert_int_equal(vio_drv_config_read(x->drv, 6, 2, &v), 0);
	assert_int_equal(v, 0x5d5c);
	assert_int_equal(vio_drv_config_read(x->drv, 8, 1, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, 4, 8, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_write(x->drv, 6, 4, 0), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_write(x->drv, 4, 2, 0xbeef), 0);
	assert_int_equal(x->p.config[4], 0xef);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FEATURES_OK);
	assert_int_equal(fake_pci_violations(&x->p), 0);
}

static void test_hostile_num_queues_zero(void **state)
{
	struct pfx *x = *state;
	x->p.num_queues = 0;
	assert_int_equal(negotiate(x), 0);
	uint16_t max;
	assert_int_equal(vio_drv_queue_max(x->drv, 0, &max), -VIO_ENODEV);
	assert_int_equal(setup_queue(x, 0), -VIO_ENODEV);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
	assert_true(failed_written(x));
	assert_int_equal(x->p.sel_past_numq, 0); /* never selected */
	assert_int_equal(fake_pci_violations(&x->p), 0);
}

static void test_hostile_queue_max(void **state)
{
	struct pfx *x = *state;
	static const uint16_t lies[] = {0, 40000, 65535, 48};
	static const int want[] = {-VIO_ENODEV, -VIO_EDEVICE, -VIO_EDEVICE, -VIO_EDEVICE};
	for (unsigned i = 0; i < 4; i++) {
		fake_pci_init(&x->p, VIO_ID_RNG, 1, lies[i]);
		assert_int_equal(negotiate(x), 0);
		assert_int_equal(setup_queue(x, 0), want[i]);
		assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
		assert_true(failed_written(x));
		assert_int_equal(x->p.q[0].enable, 0);
		assert_int_equal(fake_pci_violations(&x->p), 0);
	}
}

static void test_hostile_notify_offset(void **state)
{
	struct pfx *x = *state;
	static const struct {
		uint16_t noff;
		uint32_t mult;
		bool nd;
	} lies[] = {
		{0x400, 4, false},	 /* exactly at the end of the 4 KiB region */
		{0x7ff, 2, true},	 /* the last 2 bytes cannot take 32 bits */
		{1, 0xffffffffu, false}, /* 32-bit multiplier, far outside */
		{0xffff, 0xffffffffu, false},
		{1, 3, false}, /* misaligned for 16 bits */
		{1, 2, true},  /* misaligned for 32 bits */
	};
	for (unsigned i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		fake_pci_init(&x->p, VIO_ID_RNG, 1, 64);
		x->p.q[0].notify_off = lies[i].noff;
		x->p.notify_mult = lies[i].mult;
		fake_pci_build_caps(&x->p);
		if (!lies[i].nd)
			vio_features_clear(&x->p.offered, VIO_F_NOTIFICATION_DATA);
		assert_int_equal(negotiate(x), 0);
		assert_int_equal(setup_queue(x, 0), -VIO_EDEVICE);
		assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
		assert_true(failed_written(x));
		assert_int_equal(vio_drv_notify(x->drv, 0), -VIO_EINVAL);
		assert_int_equal(x->p.nnotify, 0);
		assert_int_equal(fake_pci_violations(&x->p), 0);
	}
	/* The last 2 bytes of the region are still a valid 16-bit address. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 64);
	vio_features_clear(&x->p.offered, VIO_F_NOTIFICATION_DATA);
	x->p.q[0].notify_off = 0x7ff;
	x->p.notify_mult = 2;
	fake_pci_build_caps(&x->p);
	assert_int_equal(live(x), 0);
	assert_int_equal(vio_drv_notify(x->drv, 0), 0);
	assert_int_equal(x->p.notify_log[0].off, 0xffe);
	assert_int_equal(x->p.notify_log[0].width, 2);
	assert_int_equal(fake_pci_violations(&x->p), 0);
}

static void test_hostile_features_change(void **state)
{
	struct pfx *x = *state;
	x->p.features_flip_after_ok = 1u << VIO_F_EVENT_IDX;
	assert_int_equal(negotiate(x), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_FEATURES_OK);
	assert_true(failed_written(x));
}

static void test_hostile_status_never_resets(void **state)
{
	struct pfx *x = *state;
	x->p.status = VIO_STATUS_ACKNOWLEDGE;
	x->p.status_stuck = true;
	assert_int_equal(negotiate(x), -VIO_ETIMEOUT);
	assert_true(failed_written(x));
	assert_int_equal(x->p.status_reads, 50); /* the bounded wait */
	assert_int_equal(x->p.delays, 49);
	/* A slow but honest reset passes. */
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	x->p.reset_busy = 10;
	assert_int_equal(negotiate(x), 0);
}

static void test_hostile_ids_change(void **state)
{
	struct pfx *x = *state;
	assert_int_equal(start(x), 0);
	put32(&x->p, 0, 0x10421af4u); /* now a block device */
	assert_int_equal(vio_drv_negotiate(x->drv), -VIO_EDEVICE);
	assert_true(failed_written(x));
}

static void test_hostile_generation_spins(void **state)
{
	struct pfx *x = *state;
	assert_int_equal(negotiate(x), 0);
	x->p.generation_spins = true;
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 4, &v), -VIO_EGENERATION);
	assert_true(failed_written(x));
}

static void test_vectors(void **state)
{
	struct pfx *x = *state;
	x->cfg.use_vectors = true;
	x->cfg.config_vector = 0;
	assert_int_equal(live(x), 0);
	assert_int_equal(x->p.config_vector, 0);
	assert_int_equal(x->p.q[0].vector, 1);
	assert_int_equal(fake_pci_violations(&x->p), 0);
	/* Per-vector interrupt entry points. */
	vio_drv_queue_interrupt(x->drv, 0);
	assert_int_equal(vio_drv_config_interrupt(x->drv), 0);

	/* The device refuses the mapping: NO_VECTOR reads back. */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	x->p.refuse_vectors = true;
	assert_int_equal(negotiate(x), 0);
	assert_int_equal(setup_queue(x, 0), -VIO_ENOSPC);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
	assert_true(failed_written(x));

	/* A vector past the MSI-X table (3 entries) is never written. */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	assert_int_equal(negotiate(x), 0);
	struct vio_drv_queue_config qc;
	qconfig(x, 0, &qc);
	qc.vector = 3;
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), -VIO_ENOSPC);
	assert_int_equal(x->p.q[0].vector, VIO_PCI_MSI_NO_VECTOR);
	assert_true(failed_written(x));

	/* The configuration vector is refused at DRIVER_OK. */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	x->cfg.config_vector = 9;
	assert_int_equal(negotiate(x), 0);
	assert_int_equal(setup_queue(x, 0), 0);
	assert_int_equal(vio_drv_ready(x->drv), -VIO_ENOSPC);
	assert_true(failed_written(x));

	/* Without MSI-X only NO_VECTOR is accepted. */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	put8(&x->p, FP_CAP_PCICFG + 1, 0);
	x->cfg.config_vector = VIO_DRV_NO_VECTOR;
	assert_int_equal(negotiate(x), 0);
	struct vio_pci_msix_info mi;
	assert_int_equal(vio_pci_front_msix(x->front, &mi), -VIO_ENODEV);
	qconfig(x, 0, &qc);
	qc.vector = VIO_DRV_NO_VECTOR;
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, NULL), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(fake_pci_violations(&x->p), 0);
}

static void test_queue_reset_hostile(void **state)
{
	struct pfx *x = *state;
	x->p.queue_reset_stuck = true;
	assert_int_equal(live(x), 0);
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), -VIO_ETIMEOUT);
	assert_true(failed_written(x));
	/* queue_enable stays 1: the queue cannot be reprogrammed. */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	x->p.queue_enable_stuck = true;
	assert_int_equal(negotiate(x), 0);
	assert_int_equal(setup_queue(x, 0), -VIO_EDEVICE);
	assert_true(failed_written(x));
	/* RING_RESET offered, but the common configuration ends before
	 * queue_reset (a virtio 1.0 layout). */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	put32(&x->p, FP_CAP_COMMON + 12, VIO_PCI_FRONT_COMMON_MIN);
	assert_int_equal(live(x), 0);
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), -VIO_EDEVICE);
	assert_true(failed_written(x));
	assert_int_equal(fake_pci_violations(&x->p), 0);
}

static void test_notify_values(void **state)
{
	struct pfx *x = *state;
	/* Plain: 16 bits, the queue index, at notify_off × multiplier. */
	vio_features_clear(&x->p.offered, VIO_F_NOTIFICATION_DATA);
	assert_int_equal(negotiate(x), 0);
	assert_int_equal(setup_queue(x, 1), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(vio_drv_notify(x->drv, 1), 0);
	assert_int_equal(x->p.notify_log[0].off, 4);
	assert_int_equal(x->p.notify_log[0].width, 2);
	assert_int_equal(x->p.notify_log[0].value, 1);
	assert_int_equal(vio_drv_notify(x->drv, 0), -VIO_EINVAL); /* not set up */

	/* NOTIFICATION_DATA: 32 bits, index in the low half. */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	assert_int_equal(negotiate(x), 0);
	assert_int_equal(setup_queue(x, 1), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(vio_drv_notify(x->drv, 1), 0);
	assert_int_equal(x->p.notify_log[0].width, 4);
	assert_int_equal(vio_notify_data_vq(x->p.notify_log[0].value), 1);

	/* NOTIF_CONFIG_DATA replaces the index (16 and 32 bits). */
	for (int nd = 0; nd < 2; nd++) {
		fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
		vio_features_set(&x->p.offered, VIO_F_NOTIF_CONFIG_DATA);
		if (!nd)
			vio_features_clear(&x->p.offered, VIO_F_NOTIFICATION_DATA);
		vio_features_set(&x->cfg.features, VIO_F_NOTIF_CONFIG_DATA);
		assert_int_equal(negotiate(x), 0);
		assert_true(vio_drv_has_feature(x->drv, VIO_F_NOTIF_CONFIG_DATA));
		assert_int_equal(setup_queue(x, 1), 0);
		assert_int_equal(vio_drv_ready(x->drv), 0);
		assert_int_equal(vio_drv_notify(x->drv, 1), 0);
		assert_int_equal(x->p.notify_log[0].width, nd ? 4 : 2);
		assert_int_equal(x->p.notify_log[0].value & 0xffff, 0x7701);
		assert_int_equal(fake_pci_violations(&x->p), 0);
	}
	/* ... and needs the field in the common configuration. */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	vio_features_set(&x->p.offered, VIO_F_NOTIF_CONFIG_DATA);
	put32(&x->p, FP_CAP_COMMON + 12, VIO_PCI_FRONT_COMMON_MIN);
	assert_int_equal(negotiate(x), 0);
	assert_int_equal(setup_queue(x, 0), -VIO_EDEVICE);
	assert_int_equal(fake_pci_violations(&x->p), 0);
}

static void test_msix_helpers(void **state)
{
	struct pfx *x = *state;
	assert_int_equal(probe(x), 0);
	assert_int_equal(vio_pci_front_msix_set_entry(x->front, 2, 0x8080000040ull, 0x33, false),
			 0);
	assert_int_equal(x->p.msix_entries[2][0], 0x80000040u);
	assert_int_equal(x->p.msix_entries[2][1], 0x80);
	assert_int_equal(x->p.msix_entries[2][2], 0x33);
	assert_int_equal(x->p.msix_entries[2][3], 0);
	assert_int_equal(vio_pci_front_msix_set_entry(x->front, 1, 0x1000, 7, true), 0);
	assert_int_equal(x->p.msix_entries[1][3], VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT);
	assert_int_equal(vio_pci_front_msix_set_entry(x->front, 3, 0x1000, 7, false), -VIO_EINVAL);
	assert_int_equal(vio_pci_front_msix_enable(x->front, true), 0);
	assert_int_equal(x->p.cfg[FP_CAP_MSIX + 3] & 0xc0, 0x80);
	assert_int_equal(vio_pci_front_msix_enable(x->front, false), 0);
	assert_int_equal(x->p.cfg[FP_CAP_MSIX + 3] & 0xc0, 0);
	assert_int_equal(x->p.cfg[FP_CAP_MSIX + 2], 2); /* table size kept */
	assert_int_equal(fake_pci_violations(&x->p), 0);
	/* A table the device places past its BAR is never written. */
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 128);
	put32(&x->p, FP_CAP_MSIX + 4, 0xff8u | 1u);
	assert_int_equal(probe(x), 0);
	assert_int_equal(vio_pci_front_msix_set_entry(x->front, 1, 0, 0, false), -VIO_EPCI_REGION);
	assert_int_equal(x->p.bar_writes, 0);
}

/* ---- BAR sizing and assignment ----------------------------------------------------------------- */

static void test_size_bars(void **state)
{
	struct pfx *x = *state;
	x->p.bar[0] = (struct fp_bar){0x40, VIO_PCI_BAR_IO, false, 0xc040};
	struct vio_pci_bars b;
	assert_int_equal(vio_pci_front_size_bars(&fake_pci_bus, &x->p, &b), 0);
	assert_int_equal(b.bar[0].kind, VIO_PCI_BAR_IO);
	assert_int_equal(b.bar[0].size, 0x40);
	assert_int_equal(b.bar[0].addr, 0xc040);
	assert_int_equal(b.bar[1].kind, VIO_PCI_BAR_MEM32);
	assert_int_equal(b.bar[1].size, 0x1000);
	assert_int_equal(b.bar[1].addr, 0x10040000u);
	assert_int_equal(b.bar[2].kind, VIO_PCI_BAR_NONE);
	assert_int_equal(b.bar[4].kind, VIO_PCI_BAR_MEM64);
	assert_true(b.bar[4].prefetchable);
	assert_int_equal(b.bar[4].size, 0x4000);
	assert_int_equal(b.bar[4].addr, 0x8000000000ull);
	assert_int_equal(b.bar[5].kind, VIO_PCI_BAR_NONE);
	/* Restored: addresses and the command register as found. */
	assert_int_equal(x->p.bar[4].addr, 0x8000000000ull);
	assert_int_equal(x->p.bar[1].addr, 0x10040000u);
	assert_int_equal(x->p.cfg[VIO_PCI_CFG_COMMAND],
			 VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_MASTER);
	assert_int_equal(fake_pci_violations(&x->p), 0);
	/* A 64-bit BAR in slot 5 has no upper half: unusable. */
	x->p.bar[4] = (struct fp_bar){0};
	x->p.bar[5] = (struct fp_bar){0x1000, VIO_PCI_BAR_MEM64, false, 0};
	assert_int_equal(vio_pci_front_size_bars(&fake_pci_bus, &x->p, &b), 0);
	assert_int_equal(b.bar[5].kind, VIO_PCI_BAR_NONE);
}

static void test_assign_bars(void **state)
{
	struct pfx *x = *state;
	fake_pci_unassign(&x->p);
	x->p.bar[0] = (struct fp_bar){0x40, VIO_PCI_BAR_IO, false, 0};
	struct vio_pci_window w = {.mem_base = 0x10000000u, .mem_size = 0x100000};
	struct vio_pci_bars b;
	assert_int_equal(vio_pci_front_assign_bars(&fake_pci_bus, &x->p, &w, &b), 0);
	/* Largest first, naturally aligned; the I/O BAR has no window. */
	assert_int_equal(x->p.bar[4].addr, 0x10000000u);
	assert_int_equal(x->p.bar[1].addr, 0x10004000u);
	assert_true(b.bar[4].assigned && b.bar[1].assigned);
	assert_false(b.bar[0].assigned);
	assert_int_equal(b.bar[1].addr, 0x10004000u);
	assert_int_equal(x->p.cfg[VIO_PCI_CFG_COMMAND],
			 VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_MASTER);
	/* The window is a cursor: it now starts after BAR1; no I/O window. */
	assert_int_equal(w.mem_base, 0x10005000u);
	assert_int_equal(w.mem_size, 0x100000u - 0x5000u);
	assert_int_equal(w.io_base, 0);
	assert_int_equal(w.io_size, 0);
	/* With an I/O window it is placed and I/O decoding enabled. */
	w = (struct vio_pci_window){
		.mem_base = 0x10000000u, .mem_size = 0x100000, .io_base = 0x1000, .io_size = 0x100};
	assert_int_equal(vio_pci_front_assign_bars(&fake_pci_bus, &x->p, &w, &b), 0);
	assert_int_equal(x->p.bar[0].addr, 0x1000);
	assert_int_equal(x->p.cfg[VIO_PCI_CFG_COMMAND],
			 VIO_PCI_COMMAND_IO | VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_MASTER);
	assert_int_equal(w.io_base, 0x1040);
	assert_int_equal(w.io_size, 0xc0);
	/* A window too small: nothing enabled, the cursor does not move. */
	w = (struct vio_pci_window){.mem_base = 0x10000000u, .mem_size = 0x4800};
	assert_int_equal(vio_pci_front_assign_bars(&fake_pci_bus, &x->p, &w, &b), -VIO_ENOSPC);
	assert_int_equal(
		x->p.cfg[VIO_PCI_CFG_COMMAND] & (VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_IO), 0);
	assert_int_equal(w.mem_base, 0x10000000u);
	assert_int_equal(w.mem_size, 0x4800);
	/* A window above 4 GiB takes the 64-bit BAR but not the 32-bit one. */
	w.mem_base = 0x8000000000ull;
	w.mem_size = 0x100000;
	assert_int_equal(vio_pci_front_assign_bars(&fake_pci_bus, &x->p, &w, &b), -VIO_ENOSPC);
	/* Window arithmetic that would wrap is refused. */
	w.mem_base = UINT64_MAX - 10;
	assert_int_equal(vio_pci_front_assign_bars(&fake_pci_bus, &x->p, &w, &b), -VIO_EINVAL);
	assert_int_equal(fake_pci_violations(&x->p), 0);
}

/* Two functions share one window: the second call starts where the first
 * stopped, and its BARs are still naturally aligned (the 16 KiB BAR4 skips
 * from 0x10005000 to 0x10008000). Without the cursor they would overlap. */
static void test_assign_bars_shared_window(void **state)
{
	struct pfx *x = *state;
	struct fake_pci *other = calloc(1, sizeof(*other));
	assert_non_null(other);
	fake_pci_init(other, VIO_ID_BLOCK, 1, 8);
	fake_pci_unassign(&x->p);
	fake_pci_unassign(other);
	struct vio_pci_window w = {.mem_base = 0x10000000u, .mem_size = 0xe000u};
	struct vio_pci_bars a, b;
	assert_int_equal(vio_pci_front_assign_bars(&fake_pci_bus, &x->p, &w, &a), 0);
	assert_int_equal(vio_pci_front_assign_bars(&fake_pci_bus, other, &w, &b), 0);
	assert_int_equal(a.bar[4].addr, 0x10000000u);
	assert_int_equal(a.bar[1].addr, 0x10004000u);
	assert_int_equal(b.bar[4].addr, 0x10008000u);
	assert_int_equal(b.bar[1].addr, 0x1000c000u);
	assert_int_equal(other->bar[4].addr, 0x10008000u);
	assert_int_equal(other->bar[1].addr, 0x1000c000u);
	assert_int_equal(w.mem_base, 0x1000d000u);
	assert_int_equal(w.mem_size, 0x1000u);
	/* No two BARs overlap, each is aligned to its size. */
	const struct vio_pci_bar *all[] = {&a.bar[1], &a.bar[4], &b.bar[1], &b.bar[4]};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(all[i]->addr % all[i]->size, 0);
		for (unsigned j = i + 1; j < 4; j++)
			assert_true(all[i]->addr + all[i]->size <= all[j]->addr ||
				    all[j]->addr + all[j]->size <= all[i]->addr);
	}
	/* A third function no longer fits: refused, the cursor stays. */
	fake_pci_unassign(other);
	assert_int_equal(vio_pci_front_assign_bars(&fake_pci_bus, other, &w, &b), -VIO_ENOSPC);
	assert_int_equal(w.mem_base, 0x1000d000u);
	assert_int_equal(w.mem_size, 0x1000u);
	assert_int_equal(fake_pci_violations(&x->p), 0);
	assert_int_equal(fake_pci_violations(other), 0);
	free(other);
}

/* ---- round trip: driver core + front + vio_vq against a vio_devq device ---------------------- */

struct dev {
	struct guest_mem gm;
	struct vio_devq *dq[FP_MAX_QUEUES];
	void *dq_mem[FP_MAX_QUEUES];
	unsigned served, notifies;
	uint32_t last_value;
	unsigned last_width;
	int err;
};

static void dev_on_enable(struct fake_pci *p, unsigned qi)
{
	struct dev *d = p->user;
	struct vio_devq_config c = {0};
	bool packed = vio_features_test(&p->accepted, VIO_F_RING_PACKED);
	c.format = packed ? VIO_RING_PACKED : VIO_RING_SPLIT;
	c.size = p->q[qi].size;
	c.index = (uint16_t)qi;
	c.features = p->accepted;
	c.desc_addr = p->q[qi].desc;
	c.driver_addr = p->q[qi].driver;
	c.device_addr = p->q[qi].device;
	c.mem_ops = &gm_dev_ops;
	c.mem_ctx = &d->gm;
	size_t sz = vio_devq_mem_size(c.format, c.size);
	free(d->dq_mem[qi]);
	d->dq_mem[qi] = aligned_alloc(8, (sz + 7) & ~(size_t)7);
	d->err = vio_devq_init(&d->dq[qi], d->dq_mem[qi], sz, &c);
}

/* On a notify: find the queue by its notification address, answer every
 * request with the complement of its bytes (or fill an entropy buffer),
 * raise the queue interrupt bit. */
static void dev_on_notify(struct fake_pci *p, const struct fp_notify *n)
{
	struct dev *d = p->user;
	d->notifies++;
	d->last_value = n->value;
	d->last_width = n->width;
	unsigned qi = p->notify_mult ? (unsigned)(n->off / p->notify_mult) : 0;
	if (qi >= FP_MAX_QUEUES || d->dq[qi] == NULL || d->err != 0)
		return;
	struct vio_devq *dq = d->dq[qi];
	struct vio_chain_seg segs[8];
	struct vio_chain ch;
	int rc;
again:
	while ((rc = vio_devq_pop(dq, &ch, segs, 8)) == 0) {
		unsigned char in[64], out[64];
		size_t len = vio_chain_read(&ch, 0, in, ch.out_bytes < 64 ? ch.out_bytes : 64);
		for (size_t i = 0; i < len; i++)
			out[i] = (unsigned char)~in[i];
		if (ch.out_bytes == 0) {
			len = ch.in_bytes < 64 ? ch.in_bytes : 64;
			for (size_t i = 0; i < len; i++)
				out[i] = (unsigned char)(i * 13 + 1);
		}
		size_t w = vio_chain_write(&ch, 0, out, len < ch.in_bytes ? len : ch.in_bytes);
		if ((rc = vio_devq_push(dq, &ch, (uint32_t)w)) != 0)
			break;
		d->served++;
	}
	if (rc != -VIO_EAGAIN) {
		d->err = rc;
		return;
	}
	if (!vio_devq_enable_notify(dq))
		goto again;
	if (vio_devq_needs_notify(dq))
		fake_pci_raise(p, VIO_PCI_ISR_QUEUE);
}

static void dev_free(struct dev *d)
{
	for (unsigned i = 0; i < FP_MAX_QUEUES; i++)
		free(d->dq_mem[i]);
	gm_free(&d->gm);
}

struct reaper {
	unsigned got, bad;
	unsigned char (*resp)[32];
};

static void reap(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq)
{
	(void)drv;
	(void)index;
	struct reaper *r = ctx;
	void *tok;
	uint32_t len;
	while (vio_vq_get(vq, &tok, &len) == 0) {
		unsigned i = (unsigned)(uintptr_t)tok - 1;
		if (len != 32)
			r->bad++;
		for (unsigned k = 0; k < 32; k++)
			if (r->resp[i][k] != (unsigned char)~(unsigned char)(i * 7 + k))
				r->bad++;
		r->got++;
	}
}

static void round_trip(enum vio_ring_format format, bool notification_data, uint16_t qi)
{
	struct pfx *x = calloc(1, sizeof(*x));
	struct dev *d = calloc(1, sizeof(*d));
	assert_non_null(x);
	assert_non_null(d);
	fake_pci_init(&x->p, VIO_ID_RNG, 2, 256);
	x->cfg.num_queues = NSLOTS;
	x->cfg.reset_polls = 50;
	gm_init(&d->gm);
	x->p.user = d;
	x->p.on_enable = dev_on_enable;
	x->p.on_notify = dev_on_notify;
	if (!notification_data)
		vio_features_clear(&x->p.offered, VIO_F_NOTIFICATION_DATA);
	if (format == VIO_RING_PACKED)
		vio_features_set(&x->cfg.features, VIO_F_RING_PACKED);
	struct reaper r = {0};
	struct vio_drv_callbacks cb = {.queue_interrupt = reap};
	x->cfg.cb = &cb;
	x->cfg.cb_ctx = &r;
	x->cfg.dma_ops = &gm_drv_ops;
	x->cfg.dma_ctx = &d->gm;

	assert_int_equal(negotiate(x), 0);
	assert_int_equal(vio_drv_ring_format(x->drv), format);
	const uint16_t qsize = 16;
	uint64_t ignored;
	void *ring = gm_alloc(&d->gm, VIO_DRV_RING_SIZE(qsize), 16, &ignored);
	unsigned char(*req)[32] = gm_alloc(&d->gm, 40 * 32, 16, &ignored);
	r.resp = gm_alloc(&d->gm, 40 * 32, 16, &ignored);
	void *vq_mem = aligned_alloc(8, VIO_VQ_MEM_SIZE(qsize));
	struct vio_drv_queue_config qc = {0};
	qc.size = qsize;
	qc.ring = ring;
	qc.vq_mem = vq_mem;
	qc.vq_mem_size = VIO_VQ_MEM_SIZE(qsize);
	struct vio_vq *vq;
	assert_int_equal(vio_drv_queue_setup(x->drv, qi, &qc, &vq), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(d->err, 0);
	assert_non_null(d->dq[qi]);

	for (unsigned b = 0; b < 8; b++) {
		for (unsigned i = b * 5; i < b * 5 + 5; i++) {
			for (unsigned k = 0; k < 32; k++)
				req[i][k] = (unsigned char)(i * 7 + k);
			memset(r.resp[i], 0, 32);
			struct vio_sg sg[2] = {{req[i], 32}, {r.resp[i], 32}};
			assert_int_equal(vio_vq_add(vq, sg, 1, 1, (void *)(uintptr_t)(i + 1)), 0);
		}
		assert_int_equal(vio_drv_kick(x->drv, qi), 0);
		uint32_t causes;
		assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
		assert_int_equal(causes, VIO_DRV_INT_VRING);
		assert_int_equal(r.got, b * 5 + 5);
	}
	assert_int_equal(d->err, 0);
	assert_int_equal(d->served, 40);
	assert_int_equal(r.bad, 0);
	if (notification_data) {
		assert_int_equal(d->last_width, 4);
		assert_int_equal(vio_notify_data_vq(d->last_value), qi);
	} else {
		assert_int_equal(d->last_width, 2);
		assert_int_equal(d->last_value, qi);
	}
	assert_int_equal(fake_pci_violations(&x->p), 0);
	assert_int_equal(x->p.sel_past_numq, 0);

	assert_int_equal(vio_drv_reset(x->drv), 0);
	void *tok;
	assert_int_equal(vio_vq_detach_unused(vq, &tok), -VIO_EAGAIN);
	free(vq_mem);
	dev_free(d);
	free(d);
	free(x);
}

static void test_round_trip_split(void **state)
{
	(void)state;
	round_trip(VIO_RING_SPLIT, false, 0);
	round_trip(VIO_RING_SPLIT, true, 1);
}

static void test_round_trip_packed(void **state)
{
	(void)state;
	round_trip(VIO_RING_PACKED, false, 1);
	round_trip(VIO_RING_PACKED, true, 0);
}

/* ---- accessor errors --------------------------------------------------------------------------- */

/* A bus that fails the n-th configuration or BAR access (ECAM not mapped,
 * a bus error the embedder caught): the error reaches the caller as is. */
static unsigned fail_cfg_at, fail_bar_at, nth_cfg, nth_bar;

static int flaky_cfg_read(void *ctx, uint32_t off, unsigned size, uint32_t *val)
{
	if (++nth_cfg == fail_cfg_at)
		return -VIO_EMAP_AGAIN;
	return fake_pci_bus.cfg_read(ctx, off, size, val);
}

static int flaky_bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t *val)
{
	if (++nth_bar == fail_bar_at)
		return -VIO_EMAP_AGAIN;
	return fake_pci_bus.bar_read(ctx, bar, off, size, val);
}

static void test_accessor_errors_pass_through(void **state)
{
	struct pfx *x = *state;
	struct vio_pci_bus flaky = fake_pci_bus;
	flaky.cfg_read = flaky_cfg_read;
	flaky.bar_read = flaky_bar_read;
	fake_pci_front_config(&x->p, NSLOTS, &x->fcfg);
	/* Every configuration read of the probe, in turn. */
	unsigned reads = 0;
	for (fail_cfg_at = 1;; fail_cfg_at++) {
		fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
		nth_cfg = nth_bar = 0;
		fail_bar_at = 0;
		int rc = vio_pci_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &flaky,
					     &x->p, &x->fcfg);
		if (rc == 0) {
			reads = fail_cfg_at - 1;
			break;
		}
		assert_int_equal(rc, -VIO_EMAP_AGAIN);
		assert_int_equal(fake_pci_violations(&x->p), 0);
	}
	assert_true(reads > 10);
	assert_int_equal(reads, x->p.cfg_reads);
	/* A BAR read failing during negotiation fails the driver with it. */
	fail_cfg_at = 0;
	fake_pci_init(&x->p, VIO_ID_RNG, 1, 8);
	nth_cfg = nth_bar = 0;
	fail_bar_at = 3;
	assert_int_equal(vio_pci_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &flaky,
					     &x->p, &x->fcfg),
			 0);
	vio_pci_front_drv_config(x->front, &x->cfg);
	assert_int_equal(vio_drv_init(&x->drv, x->drv_mem, sizeof(x->drv_mem), &x->cfg), 0);
	assert_int_equal(vio_drv_negotiate(x->drv), -VIO_EMAP_AGAIN);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
	/* BAR sizing: a failing configuration read is reported. */
	struct vio_pci_bars b;
	nth_cfg = 0;
	fail_cfg_at = 4;
	assert_int_equal(vio_pci_front_size_bars(&flaky, &x->p, &b), -VIO_EMAP_AGAIN);
	fail_cfg_at = 0;
}

/* ---- the bare-metal author's program ---------------------------------------------------------- */

/* A guest without an OS on a machine whose firmware left the BARs
 * unassigned (QEMU's virt machine booted with -kernel): configuration
 * space through ECAM, BARs placed in the PCI memory window, one entropy
 * queue, one request, one INTx interrupt. Here ECAM and the BAR window
 * reach the fake; on hardware they are volatile loads and stores. */
static struct fake_pci bm_fn;
static struct dev bm_dev;
static struct vio_pci_bars bm_bars;
static unsigned bm_got;

static int bm_cfg_read(void *ctx, uint32_t off, unsigned size, uint32_t *val)
{
	/* ECAM: *(volatile uint32_t *)(ecam_base + (bdf << 12) + off) */
	return fake_pci_bus.cfg_read(ctx, off, size, val);
}

static int bm_cfg_write(void *ctx, uint32_t off, unsigned size, uint32_t val)
{
	return fake_pci_bus.cfg_write(ctx, off, size, val);
}

static int bm_bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t *val)
{
	/* A volatile load at the address the BAR was given. */
	*val = fake_pci_mem_read(ctx, bm_bars.bar[bar].addr + off, size);
	return 0;
}

static int bm_bar_write(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t val)
{
	fake_pci_mem_write(ctx, bm_bars.bar[bar].addr + off, size, val);
	return 0;
}

static void bm_used(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq)
{
	(void)ctx;
	(void)drv;
	(void)index;
	void *tok;
	uint32_t len;
	while (vio_vq_get(vq, &tok, &len) == 0)
		bm_got += len;
}

static void test_bare_metal_program(void **state)
{
	(void)state;
	fake_pci_init(&bm_fn, VIO_ID_RNG, 1, 8);
	fake_pci_unassign(&bm_fn);
	memset(&bm_dev, 0, sizeof(bm_dev));
	gm_init(&bm_dev.gm);
	bm_fn.user = &bm_dev;
	bm_fn.on_enable = dev_on_enable;
	bm_fn.on_notify = dev_on_notify;
	struct fake_pci *ecam_fn = &bm_fn; /* what the author's bus scan found */

	/* --- the driver author's code starts here --- */
	static const struct vio_pci_bus bus = {.cfg_read = bm_cfg_read,
					       .cfg_write = bm_cfg_write,
					       .bar_read = bm_bar_read,
					       .bar_write = bm_bar_write};
	static _Alignas(8) unsigned char front_mem[VIO_PCI_FRONT_MEM_SIZE(1)];
	static _Alignas(8) unsigned char drv_mem[VIO_DRV_MEM_SIZE(1)];
	static _Alignas(8) unsigned char vq_mem[VIO_VQ_MEM_SIZE(8)];
	static const struct vio_drv_callbacks cb = {.queue_interrupt = bm_used};
	/* QEMU virt (arm64): the 32-bit PCI memory window. */
	struct vio_pci_window win = {.mem_base = 0x10000000u, .mem_size = 0x2eff0000u};
	struct vio_pci_front *front;
	struct vio_drv *drv;
	struct vio_vq *vq;

	assert_int_equal(vio_pci_front_assign_bars(&bus, ecam_fn, &win, &bm_bars), 0);
	struct vio_pci_front_config fc = {.queue_slots = 1};
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		fc.bar_size[i] = bm_bars.bar[i].assigned ? bm_bars.bar[i].size : 0;
	int rc = vio_pci_front_probe(&front, front_mem, sizeof(front_mem), &bus, ecam_fn, &fc);
	assert_int_equal(rc, 0); /* -VIO_ENODEV / -VIO_ENOT_VIRTIO: not ours, next slot */

	struct vio_drv_config cfg = {0};
	vio_pci_front_drv_config(front, &cfg);
	cfg.num_queues = 1;
	cfg.device_id = VIO_ID_RNG;
	cfg.cb = &cb;
	cfg.dma_ops = &gm_drv_ops; /* bare metal: NULL (identity) */
	cfg.dma_ctx = &bm_dev.gm;
	assert_int_equal(vio_drv_init(&drv, drv_mem, sizeof(drv_mem), &cfg), 0);
	assert_int_equal(vio_drv_negotiate(drv), 0);

	uint64_t ignored;
	void *ring = gm_alloc(&bm_dev.gm, VIO_DRV_RING_SIZE(8), 16, &ignored);
	unsigned char *entropy = gm_alloc(&bm_dev.gm, 32, 16, &ignored);
	struct vio_drv_queue_config qc = {
		.size = 8, .ring = ring, .vq_mem = vq_mem, .vq_mem_size = sizeof(vq_mem)};
	assert_int_equal(vio_drv_queue_setup(drv, 0, &qc, &vq), 0);
	assert_int_equal(vio_drv_ready(drv), 0);

	struct vio_sg sg = {entropy, 32};
	assert_int_equal(vio_vq_add(vq, &sg, 0, 1, entropy), 0);
	assert_int_equal(vio_drv_kick(drv, 0), 0);
	/* ... INTx fires (the GIC line QEMU's virt routes the slot to); the handler: */
	uint32_t causes;
	assert_int_equal(vio_drv_interrupt(drv, &causes), 0);
	/* --- end of the author's code --- */

	assert_int_equal(causes, VIO_DRV_INT_VRING);
	assert_int_equal(bm_dev.err, 0);
	assert_int_equal(bm_got, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(entropy[i], (unsigned char)(i * 13 + 1));
	assert_int_equal(bm_dev.served, 1);
	assert_int_equal(bm_fn.bar[4].addr, 0x10000000u);
	assert_int_equal(fake_pci_violations(&bm_fn), 0); /* decoding was on for every access */
	dev_free(&bm_dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_probe_identifies),
		T(test_probe_not_virtio),
		T(test_probe_legacy),
		T(test_probe_transitional_with_caps),
		T(test_probe_bad_args),
		T(test_probe_cap_loop),
		T(test_probe_cap_pointer_out_of_range),
		T(test_probe_cap_past_config_space),
		T(test_probe_walk_is_bounded),
		T(test_probe_reserved_or_absent_bar),
		T(test_probe_uses_first_usable),
		T(test_probe_structure_outside_bar),
		T(test_probe_structure_too_short_or_misaligned),
		T(test_probe_missing_structure),
		T(test_full_bring_up_is_disciplined),
		T(test_config_window),
		T(test_hostile_num_queues_zero),
		T(test_hostile_queue_max),
		T(test_hostile_notify_offset),
		T(test_hostile_features_change),
		T(test_hostile_status_never_resets),
		T(test_hostile_ids_change),
		T(test_hostile_generation_spins),
		T(test_vectors),
		T(test_queue_reset_hostile),
		T(test_notify_values),
		T(test_msix_helpers),
		T(test_size_bars),
		T(test_assign_bars),
		T(test_assign_bars_shared_window),
		T(test_accessor_errors_pass_through),
		cmocka_unit_test(test_round_trip_split),
		cmocka_unit_test(test_round_trip_packed),
		cmocka_unit_test(test_bare_metal_program),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
