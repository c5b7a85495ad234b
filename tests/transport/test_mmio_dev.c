/* SPDX-License-Identifier: MIT */
/* virtio-mmio register model (mmio_dev.h): how a VMM wires a device into its
 * trap handler, and register-level conformance with virtio 1.4 §4.2.2. */
#define _POSIX_C_SOURCE 200112L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <virtio/virtio.h>

#include "dev_rig.h"

/* ==== A VMM author's view ====================================================
 *
 * Guest RAM is one region at GPA 0x80000000. The device is an entropy source
 * with one queue, at MMIO base 0x0a000000. The VMM's vCPU loop calls
 * vmm_trap() for every access in the device's window; the device answers the
 * notification inline (the VMM could as well wake a worker thread). */

#define RAM_GPA 0x80000000ull
#define RAM_SIZE (256u * 1024u)
#define MMIO_BASE 0x0a000000ull

struct vmm {
	unsigned char *ram;		/* the guest's RAM as the VMM maps it */
	struct vio_mem_region table[1]; /* its memory map, given to the device */
	struct vio_device *dev;		/* the device core */
	struct vio_mmio_dev *mmio;	/* its register model */
	int irq_level;			/* the interrupt line (a GIC SPI, an irqfd…) */
	unsigned irq_edges;
	unsigned char entropy_counter;
};

/* The device model: fill each writable buffer with "entropy". */
static void rng_notify(void *ctx, struct vio_device *dev, uint16_t q, uint32_t data)
{
	struct vmm *vmm = ctx;
	(void)data;
	struct vio_devq *dq = vio_device_queue(dev, q);
	struct vio_chain c;
	struct vio_chain_seg segs[4];
	int rc;
	while ((rc = vio_devq_pop(dq, &c, segs, 4)) == 0) {
		unsigned char buf[256];
		uint32_t n = c.in_bytes < sizeof(buf) ? c.in_bytes : (uint32_t)sizeof(buf);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = (unsigned char)(vmm->entropy_counter++ * 7u + 1u);
		n = (uint32_t)vio_chain_write(&c, 0, buf, n);
		/* Push and, if the driver wants it, raise the queue's interrupt. */
		(void)vio_device_queue_push(dev, q, &c, n);
	}
	/* A driver that broke the ring: DEVICE_NEEDS_RESET + config interrupt. */
	if (rc != -VIO_EAGAIN)
		vio_device_queue_error(dev, q, rc);
}

static const struct vio_device_ops rng_ops = {.queue_notify = rng_notify};

static void vmm_set_irq(void *ctx, bool level)
{
	struct vmm *vmm = ctx;
	if (level && !vmm->irq_level)
		vmm->irq_edges++;
	vmm->irq_level = level;
}

/* What the vCPU loop calls for a trapped access (KVM_EXIT_MMIO gives the
 * address, the bytes and the width). Never fails the vCPU: a bad access reads
 * as zeros and the error is only worth a log line. */
static int vmm_trap(struct vmm *vmm, uint64_t gpa, bool is_write, unsigned char *data, unsigned len)
{
	uint64_t off = gpa - MMIO_BASE;
	if (is_write)
		return vio_mmio_dev_write_bytes(vmm->mmio, off, data, len);
	return vio_mmio_dev_read_bytes(vmm->mmio, off, data, len);
}

static void vmm_create(struct vmm *vmm, void **devmem)
{
	vmm->table[0] = (struct vio_mem_region){RAM_GPA, RAM_SIZE, vmm->ram, VIO_MAP_RW};
	static const uint16_t qmax[1] = {64};
	struct vio_device_info info = {0};
	info.device_id = VIO_ID_RNG;
	info.num_queues = 1;
	info.queue_max = qmax;
	vio_features_set(&info.features, VIO_F_EVENT_IDX);
	vio_features_set(&info.features, VIO_F_RING_PACKED);
	info.ops = &rng_ops;
	info.ctx = vmm;
	info.regions = vmm->table;
	info.nregions = 1;
	size_t need = vio_device_mem_size(&info);
	assert_true(need > 0 && need <= VIO_DEVICE_MEM_SIZE(1, 64));
	assert_int_equal(posix_memalign(devmem, VIO_DEVICE_MEM_ALIGN, need), 0);
	assert_int_equal(vio_device_init(&vmm->dev, *devmem, need, &info), 0);

	static _Alignas(VIO_MMIO_DEV_MEM_ALIGN) unsigned char mmiomem[VIO_MMIO_DEV_MEM_SIZE];
	struct vio_mmio_dev_config mc = {0};
	mc.vendor_id = 0x554d4551; /* "QEMU" */
	mc.set_irq = vmm_set_irq;
	mc.irq_ctx = vmm;
	assert_int_equal(vio_mmio_dev_init(&vmm->mmio, mmiomem, sizeof(mmiomem), vmm->dev, &mc), 0);
	/* The window for the device tree: registers + 0 bytes of config. */
	assert_int_equal(vio_mmio_dev_window_size(vmm->mmio), 0x100);
}

/* ---- The guest side of the example: a driver doing 32-bit MMIO ----------- */

static uint32_t g_rd(struct vmm *vmm, uint32_t reg)
{
	unsigned char b[4];
	assert_int_equal(vmm_trap(vmm, MMIO_BASE + reg, false, b, 4), 0);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void g_wr(struct vmm *vmm, uint32_t reg, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	assert_int_equal(vmm_trap(vmm, MMIO_BASE + reg, true, b, 4), 0);
}

static int g_to_gpa(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir, uint64_t *addr)
{
	struct vmm *vmm = ctx;
	(void)dir;
	(void)len;
	*addr = RAM_GPA + (uint64_t)((const unsigned char *)ptr - vmm->ram);
	return 0;
}

static const struct vio_dma_ops g_dma = {g_to_gpa, NULL};

static void test_mmio_dev_vmm_wiring(void **state)
{
	(void)state;
	static struct vmm vmm;
	memset(&vmm, 0, sizeof(vmm));
	vmm.ram = calloc(1, RAM_SIZE);
	void *devmem = NULL;
	vmm_create(&vmm, &devmem);

	/* Guest: probe, reset, ACKNOWLEDGE, DRIVER. */
	assert_int_equal(g_rd(&vmm, VIO_MMIO_MAGIC_VALUE), VIO_MMIO_MAGIC);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_VERSION), 2);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_DEVICE_ID), VIO_ID_RNG);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_VENDOR_ID), 0x554d4551);
	g_wr(&vmm, VIO_MMIO_STATUS, 0);
	g_wr(&vmm, VIO_MMIO_STATUS, VIO_STATUS_ACKNOWLEDGE);
	g_wr(&vmm, VIO_MMIO_STATUS, VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER);
	/* Features: take what is offered of VERSION_1, EVENT_IDX, RING_PACKED. */
	struct vio_features f = vio_features_none();
	for (uint32_t sel = 0; sel < 2; sel++) {
		g_wr(&vmm, VIO_MMIO_DEVICE_FEATURES_SEL, sel);
		vio_features_set_word32(&f, sel, g_rd(&vmm, VIO_MMIO_DEVICE_FEATURES));
	}
	assert_true(vio_features_test(&f, VIO_F_VERSION_1));
	assert_true(vio_features_test(&f, VIO_F_RING_PACKED));
	for (uint32_t sel = 0; sel < 2; sel++) {
		g_wr(&vmm, VIO_MMIO_DRIVER_FEATURES_SEL, sel);
		g_wr(&vmm, VIO_MMIO_DRIVER_FEATURES, vio_features_word32(&f, sel));
	}
	g_wr(&vmm, VIO_MMIO_STATUS, 1 | 2 | 8);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_STATUS), 1 | 2 | 8);

	/* Queue 0: a packed ring of 16 in guest RAM. */
	struct vio_vq_config vc = {0};
	vc.format = VIO_RING_PACKED;
	vc.size = 16;
	vc.features = f;
	vc.desc = vmm.ram;
	vc.driver_area = vmm.ram + 4096;
	vc.device_area = vmm.ram + 4096 + 64;
	vc.dma_ops = &g_dma;
	vc.dma_ctx = &vmm;
	static _Alignas(VIO_VQ_MEM_ALIGN) unsigned char vqmem[VIO_VQ_MEM_SIZE(16)];
	struct vio_vq *vq;
	assert_int_equal(vio_vq_init(&vq, vqmem, sizeof(vqmem), &vc), 0);
	uint64_t a[3];
	assert_int_equal(vio_vq_ring_addrs(vq, &a[0], &a[1], &a[2]), 0);
	g_wr(&vmm, VIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_QUEUE_NUM_MAX), 64);
	g_wr(&vmm, VIO_MMIO_QUEUE_NUM, 16);
	for (unsigned i = 0; i < 3; i++) {
		g_wr(&vmm, VIO_MMIO_QUEUE_DESC_LOW + 0x10 * i, (uint32_t)a[i]);
		g_wr(&vmm, VIO_MMIO_QUEUE_DESC_HIGH + 0x10 * i, (uint32_t)(a[i] >> 32));
	}
	g_wr(&vmm, VIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_QUEUE_READY), 1);
	g_wr(&vmm, VIO_MMIO_STATUS, 1 | 2 | 8 | 4);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_STATUS), 1 | 2 | 8 | 4);

	/* Ask for 32 bytes of entropy and kick. */
	unsigned char *buf = vmm.ram + 8192;
	struct vio_sg sg = {buf, 32};
	assert_int_equal(vio_vq_add(vq, &sg, 0, 1, buf), 0);
	assert_int_equal(vmm.irq_level, 0);
	if (vio_vq_kick_prepare(vq))
		g_wr(&vmm, VIO_MMIO_QUEUE_NOTIFY, 0);

	/* The interrupt line rose; the guest's handler reads and ACKs. */
	assert_int_equal(vmm.irq_level, 1);
	uint32_t isr = g_rd(&vmm, VIO_MMIO_INTERRUPT_STATUS);
	assert_int_equal(isr, VIO_MMIO_INT_VRING);
	g_wr(&vmm, VIO_MMIO_INTERRUPT_ACK, isr);
	assert_int_equal(vmm.irq_level, 0);
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(vq, &tok, &len), 0);
	assert_ptr_equal(tok, buf);
	assert_int_equal(len, 32);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], 8);

	/* The VMM removes the device: a reset from the guest side. */
	g_wr(&vmm, VIO_MMIO_STATUS, 0);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_STATUS), 0);
	assert_int_equal(g_rd(&vmm, VIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(vmm.irq_edges, 1);
	free(devmem);
	free(vmm.ram);
}

/* ==== Register conformance (virtio 1.4 §4.2.2), through a rig ============== */

#define ST_A VIO_STATUS_ACKNOWLEDGE
#define ST_AD (ST_A | VIO_STATUS_DRIVER)
#define ST_ADF (ST_AD | VIO_STATUS_FEATURES_OK)
#define ST_LIVE (ST_ADF | VIO_STATUS_DRIVER_OK)

static struct vio_features feats(unsigned n, const unsigned *bits)
{
	struct vio_features f = vio_features_none();
	for (unsigned i = 0; i < n; i++)
		vio_features_set(&f, bits[i]);
	return f;
}

static struct vio_features base_features(bool packed)
{
	struct vio_features f = vio_features_none();
	vio_features_set(&f, VIO_F_VERSION_1);
	vio_features_set(&f, VIO_F_EVENT_IDX);
	vio_features_set(&f, VIO_F_NOTIFICATION_DATA);
	vio_features_set(&f, VIO_F_RING_RESET);
	vio_features_set(&f, VIO_F_SUSPEND);
	if (packed)
		vio_features_set(&f, VIO_F_RING_PACKED);
	return f;
}

static struct rig *new_rig(uint16_t nq, uint16_t qmax)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct vio_features f = base_features(true);
	vio_features_set(&f, 70); /* a device-type bit past 63 */
	vio_features_set(&f, 3);
	rig_init(r, nq, qmax, &f);
	return r;
}

static void free_rig(struct rig *r)
{
	rig_fini(r);
	free(r);
}

static void test_mmio_dev_identity_registers(void **state)
{
	(void)state;
	struct rig *r = new_rig(2, 8);
	assert_int_equal(rig_r32(r, VIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rig_r32(r, VIO_MMIO_VERSION), 2);
	assert_int_equal(rig_r32(r, VIO_MMIO_DEVICE_ID), RIG_DEVICE_ID);
	assert_int_equal(rig_r32(r, VIO_MMIO_VENDOR_ID), RIG_VENDOR);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_CONFIG_GENERATION), 0);
	assert_int_equal(vio_mmio_dev_window_size(r->mmio), 0x100 + RIG_CONFIG_SIZE);
	assert_ptr_equal(vio_mmio_dev_device(r->mmio), r->dev);
	free_rig(r);
}

static bool is_readable(uint32_t off)
{
	static const uint32_t rd[] = {0x000, 0x004, 0x008, 0x00c, 0x010, 0x034, 0x044, 0x060,
				      0x070, 0x0b0, 0x0b4, 0x0b8, 0x0bc, 0x0c0, 0x0fc};
	for (unsigned i = 0; i < sizeof(rd) / sizeof(rd[0]); i++)
		if (rd[i] == off)
			return true;
	return false;
}

static bool is_writable(uint32_t off)
{
	static const uint32_t wr[] = {0x014, 0x020, 0x024, 0x030, 0x038, 0x044, 0x050, 0x064, 0x070,
				      0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4, 0x0ac, 0x0c0};
	for (unsigned i = 0; i < sizeof(wr) / sizeof(wr[0]); i++)
		if (wr[i] == off)
			return true;
	return false;
}

/* Every 32-bit offset below 0x100: defined reads give 0, the rest give
 * EREG and 0; widths other than 4 and unaligned accesses are refused. */
static void test_mmio_dev_register_directions_and_widths(void **state)
{
	(void)state;
	struct rig *r = new_rig(1, 8);
	struct vio_features want = base_features(true);
	assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
	for (uint32_t off = 0; off < 0x100; off += 4) {
		uint64_t v = 0xdead;
		int rc = rig_rd(r, off, 4, &v);
		if (is_readable(off)) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -VIO_EREG);
			assert_int_equal(v, 0);
		}
		for (unsigned size = 1; size <= 8; size++) {
			if (size == 4)
				continue;
			v = 0xdead;
			assert_int_equal(rig_rd(r, off, size, &v), -VIO_EREG);
			assert_int_equal(v, 0);
			assert_int_equal(rig_wr(r, off, 0, size), -VIO_EREG);
		}
		for (uint32_t mis = 1; mis < 4; mis++) {
			assert_int_equal(rig_rd(r, off + mis, 4, &v), -VIO_EREG);
			assert_int_equal(rig_wr(r, off + mis, 0, 4), -VIO_EREG);
		}
		/* Writes to read-only or undefined offsets are refused and change
		 * nothing we can see. */
		if (!is_writable(off))
			assert_int_equal(rig_w32(r, off, 0xffffffffu), -VIO_EREG);
	}
	assert_int_equal(rig_r32(r, VIO_MMIO_MAGIC_VALUE), VIO_MMIO_MAGIC);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_LIVE);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_NUM_MAX), 8);
	assert_int_equal(rig_r32(r, VIO_MMIO_CONFIG_GENERATION), 0);
	/* A byte-wide write to Status does not reset the device. */
	assert_int_equal(rig_wr(r, VIO_MMIO_STATUS, 0, 1), -VIO_EREG);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_LIVE);
	/* _bytes with more than 8 bytes. */
	unsigned char big[16];
	assert_int_equal(vio_mmio_dev_read_bytes(r->mmio, 0, big, 16), -VIO_EREG);
	assert_int_equal(vio_mmio_dev_write_bytes(r->mmio, 0, big, 16), -VIO_EREG);
	assert_int_equal(vio_mmio_dev_write_bytes(r->mmio, 0x70, big, 0), -VIO_EREG);
	free_rig(r);
}

static void test_mmio_dev_feature_windows(void **state)
{
	(void)state;
	struct rig r;
	/* The model also asks for bits no transport path implements here. */
	const unsigned bits[] = {0,
				 23,
				 VIO_F_INDIRECT_DESC,
				 VIO_F_EVENT_IDX,
				 VIO_F_UNUSED_30,
				 VIO_F_ACCESS_PLATFORM,
				 VIO_F_RING_PACKED,
				 VIO_F_IN_ORDER,
				 VIO_F_SR_IOV,
				 VIO_F_NOTIFICATION_DATA,
				 VIO_F_NOTIF_CONFIG_DATA,
				 VIO_F_RING_RESET,
				 VIO_F_ADMIN_VQ,
				 42,
				 VIO_F_SUSPEND,
				 45,
				 50,
				 64,
				 127};
	struct vio_features f = feats(sizeof(bits) / sizeof(bits[0]), bits);
	rig_init(&r, 1, 8, &f);
	struct vio_features offer = rig_read_offer(&r);
	const unsigned kept[] = {0,
				 23,
				 VIO_F_INDIRECT_DESC,
				 VIO_F_EVENT_IDX,
				 VIO_F_VERSION_1,
				 VIO_F_ACCESS_PLATFORM,
				 VIO_F_RING_PACKED,
				 VIO_F_IN_ORDER,
				 VIO_F_NOTIFICATION_DATA,
				 VIO_F_RING_RESET,
				 42,
				 VIO_F_SUSPEND,
				 50,
				 64,
				 127};
	struct vio_features expect = feats(sizeof(kept) / sizeof(kept[0]), kept);
	assert_true(vio_features_equal(&offer, &expect));
	/* Windows past bit 127 read 0, whatever the selector. */
	const uint32_t sels[] = {4, 5, 0x80000000u, 0xffffffffu};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(rig_w32(&r, VIO_MMIO_DEVICE_FEATURES_SEL, sels[i]), 0);
		assert_int_equal(rig_r32(&r, VIO_MMIO_DEVICE_FEATURES), 0);
	}
	rig_fini(&r);
}

static void test_mmio_dev_features_negotiation(void **state)
{
	(void)state;
	struct rig *r = new_rig(1, 8);
	struct vio_features want = base_features(false);
	/* An unoffered bit: FEATURES_OK reads back clear. */
	struct vio_features bad = want;
	vio_features_set(&bad, 5);
	assert_int_equal(rig_negotiate(r, &bad), ST_AD);
	/* No VERSION_1: refused (no legacy interface). */
	bad = want;
	vio_features_clear(&bad, VIO_F_VERSION_1);
	assert_int_equal(rig_negotiate(r, &bad), ST_AD);
	/* A bit beyond 127 (window 4). */
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, 0), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_AD), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_DRIVER_FEATURES_SEL, 1), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_DRIVER_FEATURES, 1), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_DRIVER_FEATURES_SEL, 4), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_DRIVER_FEATURES, 2), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_ADF), -VIO_EFEATURES);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_AD);
	/* The model's veto. */
	r->model.veto_rc = -1;
	assert_int_equal(rig_negotiate(r, &want), ST_AD);
	assert_true(vio_features_equal(&r->model.last_validated, &want));
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_ADF | VIO_STATUS_DRIVER_OK),
			 -VIO_EFEATURES_VETO);
	r->model.veto_rc = 0;
	/* Accepted: frozen afterwards. */
	assert_int_equal(rig_negotiate(r, &want), ST_ADF);
	assert_int_equal(rig_w32(r, VIO_MMIO_DRIVER_FEATURES_SEL, 0), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_DRIVER_FEATURES, 0xffffffffu), -VIO_EDEVICE_STATE);
	struct vio_features got;
	vio_device_features(r->dev, &got);
	assert_true(vio_features_equal(&got, &want));
	free_rig(r);
}

struct status_case {
	uint8_t from; /* reached by valid writes */
	uint8_t write;
	int rc;
	uint8_t after;
};

/* Bring the device to @st by valid writes (queues enabled before DRIVER_OK). */
static void reach(struct rig *r, uint8_t st)
{
	struct vio_features want = base_features(false);
	if (st == 0) {
		assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, 0), 0);
		return;
	}
	if (st & VIO_STATUS_DRIVER_OK) {
		assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
		return;
	}
	if (st & VIO_STATUS_FEATURES_OK) {
		assert_int_equal(rig_negotiate(r, &want), ST_ADF);
		return;
	}
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, 0), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_A), 0);
	if (st & VIO_STATUS_DRIVER)
		assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_AD), 0);
}

static void test_mmio_dev_status_machine(void **state)
{
	(void)state;
	const struct status_case cases[] = {
		/* skipping a step */
		{0, VIO_STATUS_DRIVER, -VIO_ESTATUS, 0},
		{0, VIO_STATUS_FEATURES_OK, -VIO_ESTATUS, 0},
		{0, VIO_STATUS_DRIVER_OK, -VIO_ESTATUS, 0},
		{ST_A, ST_A | VIO_STATUS_FEATURES_OK, -VIO_ESTATUS, ST_A},
		{ST_AD, ST_AD | VIO_STATUS_DRIVER_OK, -VIO_ESTATUS, ST_AD},
		/* clearing a bit */
		{ST_AD, ST_A, -VIO_ESTATUS, ST_AD},
		{ST_AD, VIO_STATUS_DRIVER, -VIO_ESTATUS, ST_AD},
		{ST_ADF, ST_AD, -VIO_ESTATUS, ST_ADF},
		{ST_LIVE, ST_ADF, -VIO_ESTATUS, ST_LIVE},
		/* undefined bit 5 */
		{ST_A, ST_A | 32, -VIO_ESTATUS, ST_A},
		/* several steps at once, in order */
		{0, ST_AD, 0, ST_AD},
		/* rewriting the same value */
		{ST_ADF, ST_ADF, 0, ST_ADF},
		/* DEVICE_NEEDS_RESET written by the driver is ignored */
		{ST_A, ST_AD | VIO_STATUS_DEVICE_NEEDS_RESET, 0, ST_AD},
		/* FAILED at any time, alone */
		{0, VIO_STATUS_FAILED, 0, VIO_STATUS_FAILED},
		{ST_AD, ST_AD | VIO_STATUS_FAILED, 0, ST_AD | VIO_STATUS_FAILED},
		{ST_LIVE, ST_LIVE | VIO_STATUS_FAILED, 0, ST_LIVE | VIO_STATUS_FAILED},
		/* SUSPEND before DRIVER_OK is ignored (§3.4.2) */
		{ST_ADF, ST_ADF | VIO_STATUS_SUSPEND, 0, ST_ADF},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rig *r = new_rig(1, 8);
		reach(r, cases[i].from);
		assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), cases[i].from);
		int rc = rig_w32(r, VIO_MMIO_STATUS, cases[i].write);
		if (rc != cases[i].rc || rig_r32(r, VIO_MMIO_STATUS) != cases[i].after)
			fail_msg("case %u: 0x%02x <- 0x%02x: %s, status 0x%02x", i, cases[i].from,
				 cases[i].write, vio_err_name(rc), rig_r32(r, VIO_MMIO_STATUS));
		free_rig(r);
	}
	/* After FAILED, only 0 is taken; a live model was deactivated. */
	struct rig *r = new_rig(1, 8);
	reach(r, ST_LIVE);
	assert_int_equal(r->model.activates, 1);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE | VIO_STATUS_FAILED), 0);
	assert_int_equal(r->model.deactivates, 1);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE | VIO_STATUS_FAILED),
			 -VIO_EDEVICE_STATE);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 0), -VIO_EQUEUE_STATE);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, 0), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), 0);
	/* Status values wider than 8 bits are refused. */
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, 0x101), -VIO_ESTATUS);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), 0);
	free_rig(r);
}

static void test_mmio_dev_reset_from_every_state(void **state)
{
	(void)state;
	const uint8_t states[] = {0, ST_A, ST_AD, ST_ADF, ST_LIVE};
	for (unsigned i = 0; i < sizeof(states) / sizeof(states[0]) * 4; i++) {
		struct rig *r = new_rig(2, 8);
		reach(r, states[i % 5]);
		unsigned variant = i / 5;
		if (variant == 1)
			(void)rig_w32(r, VIO_MMIO_STATUS, states[i % 5] | VIO_STATUS_FAILED);
		if (variant == 2)
			vio_device_set_needs_reset(r->dev);
		if (variant == 3 && states[i % 5] == ST_LIVE)
			assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE | VIO_STATUS_SUSPEND),
					 0);
		if (states[i % 5] == ST_LIVE) {
			assert_int_equal(rig_submit(r, 0, 4, 8, r), 0);
			vio_device_config_changed(r->dev);
		}
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, 1), 0);
		unsigned resets = r->model.resets;
		assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, 0), 0);
		assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), 0);
		assert_int_equal(r->model.resets, resets + 1);
		assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), 0);
		assert_false(r->line);
		for (uint32_t q = 0; q < 2; q++) {
			assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, q), 0);
			assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 0);
			assert_null(vio_device_queue(r->dev, q));
			assert_int_equal(vio_device_queue_size(r->dev, q), 8);
			assert_int_equal(vio_device_queue_addr(r->dev, q, VIO_DEVICE_AREA_DESC), 0);
		}
		struct vio_features drv;
		vio_device_driver_features(r->dev, &drv);
		assert_true(vio_features_equal(&drv, &(struct vio_features){{0}}));
		/* The model was stopped if it was running. */
		/* The model was stopped (deactivated, or suspended) if it ran. */
		assert_int_equal(r->model.activates, r->model.deactivates + r->model.suspends);
		/* And the device can be brought up again. */
		struct vio_features want = base_features(false);
		r->data_used = 0;
		assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
		free_rig(r);
	}
}

static void test_mmio_dev_queue_registers(void **state)
{
	(void)state;
	struct rig *r = new_rig(2, 16);
	struct vio_features want = base_features(false);
	/* Enabling before FEATURES_OK is refused. */
	reach(r, ST_AD);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, 0), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 0);
	/* A selector past the last queue: maximum 0, ready 0, writes refused. */
	assert_int_equal(rig_negotiate(r, &want), ST_ADF);
	const uint32_t sels[] = {2, 0xffff, 0x10000, 0xffffffffu};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, sels[i]), 0);
		assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_NUM_MAX), 0);
		assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 0);
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, 8), -VIO_EQUEUE_STATE);
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_DESC_LOW, 0x1000), -VIO_EQUEUE_STATE);
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 1), -VIO_EQUEUE_STATE);
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_RESET, 1), -VIO_EQUEUE_STATE);
	}
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, 1), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_NUM_MAX), 16);
	/* Sizes: 0 and above the maximum are flagged when written. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, 0), -VIO_EQUEUE_SIZE);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, 17), -VIO_EQUEUE_SIZE);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, 0x10008), -VIO_EQUEUE_SIZE);
	assert_int_equal(vio_device_queue_size(r->dev, 1), 0x10008);
	/* ... and enabling with one fails, with DEVICE_NEEDS_RESET. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 1), -VIO_EQUEUE_SIZE);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_ADF | VIO_STATUS_DEVICE_NEEDS_RESET);
	/* Split needs a power of two: 12 is refused at enable. */
	assert_int_equal(rig_negotiate(r, &want), ST_ADF);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, 0), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, 12), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 1), -VIO_EQUEUE_SIZE);
	assert_true(rig_r32(r, VIO_MMIO_STATUS) & VIO_STATUS_DEVICE_NEEDS_RESET);
	/* With NEEDS_RESET set, no queue is enabled and DRIVER_OK is refused. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, 8), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE), -VIO_EDEVICE_STATE);
	/* Packed accepts 12. */
	struct vio_features pk = base_features(true);
	assert_int_equal(rig_negotiate(r, &pk), ST_ADF);
	assert_int_equal(rig_queue_setup(r, 0, 12), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 1);
	assert_int_equal(vio_devq_size(vio_device_queue(r->dev, 0)), 12);
	/* While ready: size and addresses are refused and kept. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, 4), -VIO_EQUEUE_STATE);
	const uint32_t areg[] = {0x080, 0x084, 0x090, 0x094, 0x0a0, 0x0a4};
	for (unsigned i = 0; i < 6; i++)
		assert_int_equal(rig_w32(r, areg[i], 0x12345678), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_device_queue_size(r->dev, 0), 12);
	assert_int_equal(vio_device_queue_addr(r->dev, 0, VIO_DEVICE_AREA_DESC),
			 r->ring_addr[0][0]);
	assert_int_equal(vio_device_queue_addr(r->dev, 0, VIO_DEVICE_AREA_DRIVER),
			 r->ring_addr[0][1]);
	assert_int_equal(vio_device_queue_addr(r->dev, 0, VIO_DEVICE_AREA_DEVICE),
			 r->ring_addr[0][2]);
	/* QueueReady takes 0 or 1 only. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 2), -VIO_EREG);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 1);
	/* Writing 0 disables; the configuration stays; enabling again works. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 0), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 0);
	assert_null(vio_device_queue(r->dev, 0));
	assert_int_equal(vio_device_queue_size(r->dev, 0), 12);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 0), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 1), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 1);
	free_rig(r);
}

static void test_mmio_dev_queue_outside_memory(void **state)
{
	(void)state;
	struct rig *r = new_rig(1, 8);
	struct vio_features want = base_features(false);
	assert_int_equal(rig_negotiate(r, &want), ST_ADF);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, 0), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, 8), 0);
	/* Descriptor table at an address nobody granted. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_DESC_LOW, 0x1000), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_DRIVER_LOW, 0x2000), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_DEVICE_LOW, 0x3000), 0);
	int rc = rig_w32(r, VIO_MMIO_QUEUE_READY, 1);
	assert_true(rc == -VIO_ERING_MAP || rc == -VIO_EMAP);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 0);
	assert_true(rig_r32(r, VIO_MMIO_STATUS) & VIO_STATUS_DEVICE_NEEDS_RESET);
	/* Misaligned (descriptor table at +2). */
	assert_int_equal(rig_negotiate(r, &want), ST_ADF);
	assert_int_equal(rig_queue_setup(r, 0, 8), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 0), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_DESC_LOW, (uint32_t)r->ring_addr[0][0] + 2), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_READY, 1), -VIO_ERING_ALIGN);
	assert_true(rig_r32(r, VIO_MMIO_STATUS) & VIO_STATUS_DEVICE_NEEDS_RESET);
	free_rig(r);
}

static void test_mmio_dev_interrupt_status_and_ack(void **state)
{
	(void)state;
	struct rig *r = new_rig(2, 8);
	struct vio_features want = base_features(false);
	/* Configuration changes before DRIVER_OK change the generation only. */
	vio_device_config_changed(r->dev);
	assert_int_equal(rig_r32(r, VIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), 0);
	assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
	assert_false(r->line);
	/* A used buffer: bit 0, line up. */
	assert_int_equal(rig_submit(r, 1, 4, 16, r), 0);
	assert_int_equal(r->model.served, 1);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), VIO_MMIO_INT_VRING);
	assert_true(r->line);
	/* A config change adds bit 1; the line stays up (one raise). */
	unsigned char cap[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	assert_int_equal(vio_device_config_update(r->dev, 0, cap, 8), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_CONFIG_GENERATION), 2);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), 3);
	assert_int_equal(r->line_raises, 1);
	/* ACK of one bit (and undefined bits, ignored) keeps the other. */
	assert_int_equal(rig_w32(r, VIO_MMIO_INTERRUPT_ACK, VIO_MMIO_INT_VRING | 0xfffffff0u), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), VIO_MMIO_INT_CONFIG);
	assert_true(r->line);
	assert_int_equal(rig_w32(r, VIO_MMIO_INTERRUPT_ACK, VIO_MMIO_INT_CONFIG), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), 0);
	assert_false(r->line);
	assert_true(vio_mmio_dev_irq_level(r->mmio) == r->line);
	/* The driver asked for no interrupts: EVENT_IDX with used_event far
	 * ahead suppresses them. */
	void *tok;
	uint32_t len;
	assert_int_equal(rig_collect(r, 1, &tok, &len), 0);
	assert_int_equal(len, 16);
	vio_vq_disable_intr(r->vq[1]);
	assert_int_equal(rig_submit(r, 1, 4, 4, r), 0);
	assert_int_equal(r->model.served, 2);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), 0);
	/* vio_device_queue_interrupt() sends one anyway. */
	vio_device_queue_interrupt(r->dev, 1);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), VIO_MMIO_INT_VRING);
	free_rig(r);
}

static void test_mmio_dev_config_space(void **state)
{
	(void)state;
	struct rig *r = new_rig(1, 8);
	uint64_t v;
	/* Little-endian at every width 1, 2, 4, 8 and any alignment. */
	assert_int_equal(rig_rd(r, 0x100, 8, &v), 0);
	assert_int_equal(v, 0x1122334455667788ull);
	assert_int_equal(rig_rd(r, 0x100, 4, &v), 0);
	assert_int_equal(v, 0x55667788u);
	assert_int_equal(rig_rd(r, 0x104, 2, &v), 0);
	assert_int_equal(v, 0x3344u);
	assert_int_equal(rig_rd(r, 0x107, 1, &v), 0);
	assert_int_equal(v, 0x11u);
	assert_int_equal(rig_rd(r, 0x103, 2, &v), 0);
	assert_int_equal(v, 0x4455u);
	assert_int_equal(rig_rd(r, 0x108, 8, &v), 0);
	assert_int_equal(v, 0xeeeeeeee00000000ull);
	/* Past the end, or odd widths: refused, zeros. */
	assert_int_equal(rig_rd(r, 0x10c, 8, &v), -VIO_EREG);
	assert_int_equal(v, 0);
	assert_int_equal(rig_rd(r, 0x10f, 2, &v), -VIO_EREG);
	assert_int_equal(rig_rd(r, 0x110, 1, &v), -VIO_EREG);
	assert_int_equal(rig_rd(r, 0x100, 3, &v), -VIO_EREG);
	assert_int_equal(rig_rd(r, 0x100, 0, &v), -VIO_EREG);
	assert_int_equal(vio_mmio_dev_read(r->mmio, 0xffffffffull + 0x200, 4, &v), -VIO_EREG);
	assert_int_equal(vio_mmio_dev_write(r->mmio, ~0ull, 0, 1), -VIO_EREG);
	assert_int_equal(rig_wr(r, 0x10e, 0xffffffff, 4), -VIO_EREG);
	assert_int_equal(rig_wr(r, 0x100, 0, 5), -VIO_EREG);
	assert_int_equal(r->model.config_writes, 0);
	/* Writes reach the model, which keeps bytes 8..11 only. */
	assert_int_equal(rig_wr(r, 0x108, 0xa1b2c3d4u, 4), 0);
	assert_int_equal(rig_wr(r, 0x100, 0, 8), 0);
	assert_int_equal(r->model.config_writes, 2);
	assert_int_equal(rig_rd(r, 0x108, 4, &v), 0);
	assert_int_equal(v, 0xa1b2c3d4u);
	assert_int_equal(rig_rd(r, 0x100, 8, &v), 0);
	assert_int_equal(v, 0x1122334455667788ull);
	/* The driver's writes do not move the generation; device updates do. */
	assert_int_equal(rig_r32(r, VIO_MMIO_CONFIG_GENERATION), 0);
	unsigned char b = 0x99;
	assert_int_equal(vio_device_config_update(r->dev, 15, &b, 1), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_CONFIG_GENERATION), 1);
	assert_int_equal(rig_rd(r, 0x10f, 1, &v), 0);
	assert_int_equal(v, 0x99);
	assert_int_equal(vio_device_config_update(r->dev, 15, &b, 2), -VIO_EINVAL);
	assert_int_equal(rig_r32(r, VIO_MMIO_CONFIG_GENERATION), 1);
	free_rig(r);
}

static void test_mmio_dev_queue_reset(void **state)
{
	(void)state;
	for (int packed = 0; packed < 2; packed++) {
		struct rig *r = new_rig(2, 16);
		struct vio_features want = base_features(packed);
		assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
		assert_int_equal(rig_submit(r, 0, 4, 8, r), 0);
		assert_int_equal(r->model.served, 1);
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, 0), 0);
		assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_RESET), 0);
		assert_int_equal(vio_device_queue_set_vector(r->dev, 0, 3), 0);
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_RESET, 1), 0);
		assert_int_equal(r->model.queue_stops, 1);
		assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_RESET), 0);
		assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 0);
		assert_null(vio_device_queue(r->dev, 0));
		assert_int_equal(vio_device_queue_size(r->dev, 0), 16);
		assert_int_equal(vio_device_queue_addr(r->dev, 0, VIO_DEVICE_AREA_DEVICE), 0);
		assert_int_equal(vio_device_queue_vector(r->dev, 0), VIO_DEVICE_NO_VECTOR);
		/* Notifications for the reset queue are dropped; the other queue
		 * and the device stay live. */
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 0), -VIO_EQUEUE_STATE);
		assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_LIVE);
		assert_int_equal(rig_submit(r, 1, 4, 8, r), 0);
		assert_int_equal(r->model.served, 2);
		/* Re-enable with new rings and another size (§2.6.1.2). */
		assert_int_equal(rig_queue_setup(r, 0, 4), 0);
		assert_int_equal(r->model.queue_enables, 1);
		assert_int_equal(rig_submit(r, 0, 2, 2, r), 0);
		assert_int_equal(r->model.served, 3);
		void *tok;
		uint32_t len;
		assert_int_equal(rig_collect(r, 0, &tok, &len), 0);
		assert_int_equal(len, 2);
		/* A failing queue_enable: DEVICE_NEEDS_RESET. */
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_RESET, 1), 0);
		r->model.queue_enable_rc = -1;
		assert_int_equal(rig_queue_setup(r, 0, 4), -1);
		assert_true(rig_r32(r, VIO_MMIO_STATUS) & VIO_STATUS_DEVICE_NEEDS_RESET);
		free_rig(r);
	}
	/* Without VIRTIO_F_RING_RESET the register is refused. */
	struct rig *r = new_rig(1, 8);
	struct vio_features want = base_features(false);
	vio_features_clear(&want, VIO_F_RING_RESET);
	assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_RESET, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_RESET, 7), -VIO_EREG);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_RESET, 0), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 1);
	free_rig(r);
}

static void test_mmio_dev_notification_data(void **state)
{
	(void)state;
	for (int packed = 0; packed < 2; packed++) {
		struct rig *r = new_rig(2, 8);
		struct vio_features want = base_features(packed);
		/* The model does not pop here, so no avail_event moves: without
		 * EVENT_IDX every add is kicked. */
		vio_features_clear(&want, VIO_F_EVENT_IDX);
		assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
		r->model.serve_on_notify = false;
		for (unsigned k = 1; k <= 3; k++) {
			assert_int_equal(rig_submit(r, 1, 4, 4, r), 0);
			assert_int_equal(r->model.notifies, k);
			assert_int_equal(r->model.last_notify_q, 1);
			uint32_t d = r->model.last_notify_data;
			assert_int_equal(vio_notify_data_vq(d), 1);
			if (packed) {
				/* Each chain (two descriptors) moves two slots. */
				assert_int_equal(vio_notify_data_off(d), 2 * k);
				assert_true(vio_notify_data_wrap(d)); /* starts at 1 */
			} else {
				assert_int_equal(vio_notify_data_split_idx(d), k);
			}
		}
		/* A value naming a queue that does not exist is dropped. */
		assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, vio_notify_data_make(9, 1, 0)),
				 -VIO_EQUEUE_STATE);
		assert_int_equal(r->model.notifies, 3);
		free_rig(r);
	}
	/* Without the feature the value is the index. */
	struct rig *r = new_rig(2, 8);
	struct vio_features want = base_features(false);
	vio_features_clear(&want, VIO_F_NOTIFICATION_DATA);
	/* Before DRIVER_OK notifications are dropped (§3.1.1). */
	assert_int_equal(rig_negotiate(r, &want), ST_ADF);
	assert_int_equal(rig_queue_setup(r, 1, 8), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(r->model.notifies, 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 1), 0);
	assert_int_equal(r->model.last_notify_data, 1);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 0x10001), -VIO_EQUEUE_STATE);
	/* Queue 0 was never enabled. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 0), -VIO_EQUEUE_STATE);
	assert_int_equal(r->model.notifies, 1);
	free_rig(r);
}

static void test_mmio_dev_shm_regions(void **state)
{
	(void)state;
	struct rig *r = new_rig(1, 8);
	/* No regions: every id reads as length and base ~0. */
	assert_int_equal(rig_w32(r, VIO_MMIO_SHM_SEL, 0), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_LEN_LOW), 0xffffffffu);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_LEN_HIGH), 0xffffffffu);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_BASE_LOW), 0xffffffffu);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_BASE_HIGH), 0xffffffffu);
	/* A model with two regions (re-init the register model). */
	static const struct vio_mmio_shm shm[2] = {{0x100000000ull, 0x2000, 3},
						   {0x4000, 0x123456789ull, 0}};
	struct vio_mmio_dev_config mc = {0};
	mc.shm = shm;
	mc.nshm = 2;
	assert_int_equal(vio_mmio_dev_init(&r->mmio, r->mmio_mem, sizeof(r->mmio_mem), r->dev, &mc),
			 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_SHM_SEL, 3), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_LEN_LOW), 0x2000);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_LEN_HIGH), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_BASE_LOW), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_BASE_HIGH), 1);
	assert_int_equal(rig_w32(r, VIO_MMIO_SHM_SEL, 0), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_LEN_LOW), 0x23456789u);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_LEN_HIGH), 1);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_BASE_LOW), 0x4000);
	assert_int_equal(rig_w32(r, VIO_MMIO_SHM_SEL, 1), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_SHM_BASE_LOW), 0xffffffffu);
	/* NULL table with a count is refused. */
	mc.shm = NULL;
	assert_int_equal(vio_mmio_dev_init(&r->mmio, r->mmio_mem, sizeof(r->mmio_mem), r->dev, &mc),
			 -VIO_EINVAL);
	mc.nshm = 0;
	assert_int_equal(vio_mmio_dev_init(&r->mmio, r->mmio_mem, sizeof(r->mmio_mem), r->dev, &mc),
			 0);
	free_rig(r);
}

/* A driver that breaks its ring: the model's pop fails with a peer error and
 * the device asks for a reset with a configuration change interrupt. */
static void test_mmio_dev_needs_reset_on_hostile_ring(void **state)
{
	(void)state;
	struct rig *r = new_rig(1, 8);
	struct vio_features want = base_features(false);
	vio_features_clear(&want, VIO_F_EVENT_IDX);
	assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
	/* Split: move the available index 100 entries ahead. */
	unsigned char *avail = r->ring_host[0][1];
	avail[2] = 100;
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 0), 0);
	assert_int_equal(r->model.last_pop_rc, -VIO_EAVAIL_JUMP);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_LIVE | VIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), VIO_MMIO_INT_CONFIG);
	assert_true(r->line);
	/* A second error does not raise another interrupt. */
	assert_int_equal(rig_w32(r, VIO_MMIO_INTERRUPT_ACK, 3), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 0), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), 0);
	/* Reset recovers. */
	r->data_used = 0;
	assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
	assert_int_equal(rig_submit(r, 0, 1, 1, r), 0);
	assert_int_equal(r->model.served, 1);
	free_rig(r);
}

static void test_mmio_dev_activate_failure(void **state)
{
	(void)state;
	struct rig *r = new_rig(1, 8);
	struct vio_features want = base_features(false);
	r->model.activate_rc = -1;
	assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE | VIO_STATUS_DEVICE_NEEDS_RESET);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), VIO_MMIO_INT_CONFIG);
	/* The model never became active: notifications are not delivered. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 0), -VIO_EQUEUE_STATE);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, 0), 0);
	assert_int_equal(r->model.deactivates, 0);
	free_rig(r);
}

static void test_mmio_dev_suspend_resume(void **state)
{
	(void)state;
	struct rig *r = new_rig(1, 8);
	struct vio_features want = base_features(false);
	assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE | VIO_STATUS_SUSPEND), 0);
	assert_int_equal(r->model.suspends, 1);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_ADF | VIO_STATUS_SUSPEND);
	assert_false(vio_device_is_live(r->dev));
	/* Suspended: no notifications delivered, config writes ignored, config
	 * changes held back. */
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, 0), -VIO_EQUEUE_STATE);
	assert_int_equal(rig_wr(r, 0x108, 5, 1), -VIO_EDEVICE_STATE);
	assert_int_equal(r->model.config_writes, 0);
	vio_device_config_changed(r->dev);
	vio_device_queue_interrupt(r->dev, 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), 0);
	/* Rewriting the suspended status changes nothing. */
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_ADF | VIO_STATUS_SUSPEND), 0);
	assert_int_equal(r->model.activates, 1);
	/* Clearing SUSPEND without DRIVER_OK is clearing a bit. */
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_ADF), -VIO_ESTATUS);
	/* Resume: DRIVER_OK again (SUSPEND may be left set in the value). */
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE | VIO_STATUS_SUSPEND), 0);
	assert_int_equal(r->model.activates, 2);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_LIVE);
	/* The held-back configuration interrupt arrives now. */
	assert_int_equal(rig_r32(r, VIO_MMIO_INTERRUPT_STATUS), VIO_MMIO_INT_CONFIG);
	assert_int_equal(rig_submit(r, 0, 2, 2, r), 0);
	assert_int_equal(r->model.served, 1);
	/* A model that cannot suspend: DEVICE_NEEDS_RESET, still live. */
	r->model.suspend_rc = -1;
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE | VIO_STATUS_SUSPEND), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_LIVE | VIO_STATUS_DEVICE_NEEDS_RESET);
	/* Without the feature, the SUSPEND bit is ignored. */
	vio_features_clear(&want, VIO_F_SUSPEND);
	r->data_used = 0;
	assert_int_equal(rig_bringup(r, &want, 8), ST_LIVE);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, ST_LIVE | VIO_STATUS_SUSPEND), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), ST_LIVE);
	free_rig(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmio_dev_vmm_wiring),
		cmocka_unit_test(test_mmio_dev_identity_registers),
		cmocka_unit_test(test_mmio_dev_register_directions_and_widths),
		cmocka_unit_test(test_mmio_dev_feature_windows),
		cmocka_unit_test(test_mmio_dev_features_negotiation),
		cmocka_unit_test(test_mmio_dev_status_machine),
		cmocka_unit_test(test_mmio_dev_reset_from_every_state),
		cmocka_unit_test(test_mmio_dev_queue_registers),
		cmocka_unit_test(test_mmio_dev_queue_outside_memory),
		cmocka_unit_test(test_mmio_dev_interrupt_status_and_ack),
		cmocka_unit_test(test_mmio_dev_config_space),
		cmocka_unit_test(test_mmio_dev_queue_reset),
		cmocka_unit_test(test_mmio_dev_notification_data),
		cmocka_unit_test(test_mmio_dev_shm_regions),
		cmocka_unit_test(test_mmio_dev_needs_reset_on_hostile_ring),
		cmocka_unit_test(test_mmio_dev_activate_failure),
		cmocka_unit_test(test_mmio_dev_suspend_resume),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
