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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmio_dev_vmm_wiring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
