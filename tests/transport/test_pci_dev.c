/* SPDX-License-Identifier: MIT */
/* virtio-pci register model (pci_dev.h): how a VMM wires a virtio-blk device
 * into its PCI trap handlers, and conformance with virtio 1.4 §4.1 (and the
 * PCI rules it relies on: BAR sizing, the capability list, MSI-X). */
#define _POSIX_C_SOURCE 200112L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <virtio/virtio.h>

#include "guest_mem.h"

/* ==== A VMM author's view ====================================================
 *
 * A virtio-blk disk of 64 KiB in host memory, exposed as a PCI function.
 * Guest RAM is one region at GPA 0x40000000. The VMM owns the PCI topology:
 * it routes configuration accesses for the function (from its ECAM window
 * or ports 0xcf8/0xcfc) to vmm_cfg() and memory accesses that hit the BAR
 * (while Memory Space is enabled) to vmm_mmio(); MSI-X messages come back
 * through vmm_msi(), which would call KVM_SIGNAL_MSI or write an irqfd.
 * The device serves each kick inline, on the vCPU thread. */

#define RAM_GPA 0x40000000ull
#define RAM_SIZE (1024u * 1024u)
#define DISK_BYTES (64u * 1024u)
#define BAR_GPA 0x800000000ull /* where the guest's firmware puts the BAR */
#define BLK_SEGS VIO_BLK_DEV_SEGS(32)

struct vmm {
	unsigned char *ram;
	struct vio_mem_region table[1];
	/* The device: blk model + in-memory disk, device core, PCI model. */
	unsigned char disk[DISK_BYTES];
	struct vio_blk_mem_backend backend;
	struct vio_blk_dev blk;
	struct vio_blk_config config;
	struct vio_blk_queue bq;
	struct vio_blk_req reqs[32];
	struct vio_chain_seg segs[32 * BLK_SEGS];
	struct vio_device *dev;
	void *dev_mem;
	struct vio_pci_dev *pci;
	_Alignas(VIO_PCI_DEV_MEM_ALIGN) unsigned char pci_mem[VIO_PCI_DEV_MEM_SIZE(2)];
	/* What the interrupt controller saw. */
	unsigned msis;
	uint16_t msi_vector;
	uint64_t msi_addr;
	uint32_t msi_data;
};

/* The device model glue: the device core's events to the blk model. */
static int blk_validate(void *ctx, struct vio_device *dev, const struct vio_features *f)
{
	struct vmm *vmm = ctx;
	(void)dev;
	return vio_blk_dev_set_features(&vmm->blk, f, &vmm->config);
}

static int blk_activate(void *ctx, struct vio_device *dev)
{
	struct vmm *vmm = ctx;
	return vio_blk_queue_init(&vmm->bq, &vmm->blk, vio_device_queue(dev, 0), vmm->reqs, 32,
				  vmm->segs, BLK_SEGS);
}

static void blk_deactivate(void *ctx, struct vio_device *dev)
{
	struct vmm *vmm = ctx;
	(void)dev;
	vio_blk_queue_reset(&vmm->bq); /* the in-memory backend holds nothing */
}

static void blk_notify(void *ctx, struct vio_device *dev, uint16_t q, uint32_t data)
{
	struct vmm *vmm = ctx;
	(void)data;
	/* Serve until the ring is empty with notifications re-enabled (with
	 * EVENT_IDX that publishes avail_event for the next kick). */
	struct vio_devq *dq = vio_device_queue(dev, q);
	int rc;
	do
		rc = vio_blk_queue_process(&vmm->bq);
	while (rc >= 0 && !vio_devq_enable_notify(dq));
	if (rc < 0 && rc != -VIO_EMAP_AGAIN)
		vio_device_set_needs_reset(dev);
	(void)vio_device_queue_notify_used(dev, q); /* an MSI-X message if wanted */
}

static const struct vio_device_ops blk_ops = {.validate_features = blk_validate,
					      .activate = blk_activate,
					      .deactivate = blk_deactivate,
					      .queue_notify = blk_notify};

static void vmm_msi(void *ctx, uint16_t vector, uint64_t addr, uint32_t data)
{
	struct vmm *vmm = ctx;
	vmm->msis++;
	vmm->msi_vector = vector;
	vmm->msi_addr = addr;
	vmm->msi_data = data;
}

static void vmm_create(struct vmm *vmm)
{
	vmm->table[0] = (struct vio_mem_region){RAM_GPA, RAM_SIZE, vmm->ram, VIO_MAP_RW};
	struct vio_blk_dev_desc d = {0};
	d.capacity = DISK_BYTES / 512;
	d.seg_max = 32;
	d.flush = true;
	memcpy(d.id, "pci-disk-0", 10);
	vio_blk_mem_backend_init(&vmm->backend, vmm->disk, DISK_BYTES);
	assert_int_equal(vio_blk_dev_init(&vmm->blk, &d, &vio_blk_mem_backend_ops, &vmm->backend),
			 0);
	assert_int_equal(vio_blk_dev_fill_config(&d, &vmm->config), 0);

	static const uint16_t qmax[1] = {128};
	struct vio_device_info info = {0};
	info.device_id = VIO_ID_BLOCK;
	info.num_queues = 1;
	info.queue_max = qmax;
	assert_int_equal(vio_blk_dev_features(&d, &info.features), 0);
	vio_features_set(&info.features, VIO_F_INDIRECT_DESC);
	vio_features_set(&info.features, VIO_F_EVENT_IDX);
	info.config = &vmm->config;
	info.config_size = sizeof(vmm->config);
	info.ops = &blk_ops;
	info.ctx = vmm;
	info.regions = vmm->table;
	info.nregions = 1;
	info.take_long_chains = true; /* what the blk model asks for */
	size_t need = vio_device_mem_size(&info);
	assert_int_equal(posix_memalign(&vmm->dev_mem, VIO_DEVICE_MEM_ALIGN, need), 0);
	assert_int_equal(vio_device_init(&vmm->dev, vmm->dev_mem, need, &info), 0);

	/* Two MSI-X vectors: configuration changes and the request queue. */
	struct vio_pci_dev_config pc = {0};
	pc.msix_vectors = 2;
	pc.msix = vmm_msi;
	pc.irq_ctx = vmm;
	assert_int_equal(vio_pci_dev_mem_size(&pc), sizeof(vmm->pci_mem));
	assert_int_equal(
		vio_pci_dev_init(&vmm->pci, vmm->pci_mem, sizeof(vmm->pci_mem), vmm->dev, &pc), 0);
}

/* The PCI host bridge: configuration accesses for this function. */
static int vmm_cfg(struct vmm *vmm, uint32_t off, bool is_write, void *data, unsigned len)
{
	if (is_write)
		return vio_pci_dev_cfg_write_bytes(vmm->pci, off, data, len);
	return vio_pci_dev_cfg_read_bytes(vmm->pci, off, data, len);
}

/* The vCPU's MMIO exit: the BAR decodes while Memory Space is enabled. A bad
 * access reads zeros; the error is only worth a log line. */
static int vmm_mmio(struct vmm *vmm, uint64_t gpa, bool is_write, void *data, unsigned len)
{
	struct vio_pci_dev_layout l;
	vio_pci_dev_get_layout(vmm->pci, &l);
	uint64_t base = vio_pci_dev_bar_address(vmm->pci);
	if (!(vio_pci_dev_command(vmm->pci) & VIO_PCI_COMMAND_MEMORY) || gpa < base ||
	    gpa - base >= l.bar_size)
		return -1; /* not ours */
	if (is_write)
		return vio_pci_dev_bar_write_bytes(vmm->pci, l.bar, gpa - base, data, len);
	return vio_pci_dev_bar_read_bytes(vmm->pci, l.bar, gpa - base, data, len);
}

/* ---- The guest side of the example: firmware + a virtio-pci driver ------- */

static uint32_t g_cfg_rd(struct vmm *vmm, uint32_t off, unsigned len)
{
	unsigned char b[4] = {0};
	assert_int_equal(vmm_cfg(vmm, off, false, b, len), 0);
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void g_cfg_wr(struct vmm *vmm, uint32_t off, uint32_t v, unsigned len)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};
	assert_int_equal(vmm_cfg(vmm, off, true, b, len), 0);
}

static uint64_t g_rd(struct vmm *vmm, uint64_t gpa, unsigned len)
{
	unsigned char b[8] = {0};
	assert_int_equal(vmm_mmio(vmm, gpa, false, b, len), 0);
	uint64_t v = 0;
	for (unsigned i = 0; i < len; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void g_wr(struct vmm *vmm, uint64_t gpa, uint64_t v, unsigned len)
{
	unsigned char b[8];
	for (unsigned i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	assert_int_equal(vmm_mmio(vmm, gpa, true, b, len), 0);
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

static void test_pci_dev_vmm_blk_wiring(void **state)
{
	(void)state;
	static struct vmm vmm;
	memset(&vmm, 0, sizeof(vmm));
	vmm.ram = calloc(1, RAM_SIZE);
	assert_non_null(vmm.ram);
	vmm_create(&vmm);

	/* Firmware: identify, size the 64-bit BAR, place it, enable decoding. */
	assert_int_equal(g_cfg_rd(&vmm, VIO_PCI_CFG_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(g_cfg_rd(&vmm, VIO_PCI_CFG_DEVICE_ID, 2), 0x1042);
	assert_int_equal(g_cfg_rd(&vmm, VIO_PCI_CFG_REVISION, 4) >> 8, 0x018000); /* storage */
	uint32_t bar_lo = g_cfg_rd(&vmm, VIO_PCI_CFG_BAR0, 4);
	assert_int_equal(bar_lo & 7u, VIO_PCI_BAR_MEM_TYPE_64);
	g_cfg_wr(&vmm, VIO_PCI_CFG_BAR0, 0xffffffffu, 4);
	g_cfg_wr(&vmm, VIO_PCI_CFG_BAR0 + 4, 0xffffffffu, 4);
	uint64_t mask = (uint64_t)g_cfg_rd(&vmm, VIO_PCI_CFG_BAR0 + 4, 4) << 32 |
			(g_cfg_rd(&vmm, VIO_PCI_CFG_BAR0, 4) & ~0xfu);
	uint64_t bar_size = ~mask + 1;
	assert_true(bar_size >= 0x4000 && (bar_size & (bar_size - 1)) == 0);
	g_cfg_wr(&vmm, VIO_PCI_CFG_BAR0, (uint32_t)BAR_GPA, 4);
	g_cfg_wr(&vmm, VIO_PCI_CFG_BAR0 + 4, (uint32_t)(BAR_GPA >> 32), 4);
	g_cfg_wr(&vmm, VIO_PCI_CFG_COMMAND, VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_MASTER, 2);

	/* Driver: walk the capabilities (§4.1.4) for the structures. */
	uint64_t common = 0, notify = 0, device = 0;
	uint32_t mult = 0, msix_cap = 0;
	unsigned hops = 0;
	for (uint32_t at = g_cfg_rd(&vmm, VIO_PCI_CFG_CAP_PTR, 1); at != 0 && hops < 48; hops++) {
		uint32_t id = g_cfg_rd(&vmm, at, 1);
		if (id == VIO_PCI_CAP_ID_MSIX)
			msix_cap = at;
		if (id == VIO_PCI_CAP_ID_VNDR) {
			uint32_t type = g_cfg_rd(&vmm, at + 3, 1);
			uint64_t where = BAR_GPA + g_cfg_rd(&vmm, at + VIO_PCI_CAP_OFF_OFFSET, 4);
			assert_int_equal(g_cfg_rd(&vmm, at + VIO_PCI_CAP_OFF_BAR, 1), 0);
			if (type == VIO_PCI_CAP_COMMON_CFG && common == 0)
				common = where;
			if (type == VIO_PCI_CAP_NOTIFY_CFG && notify == 0) {
				notify = where;
				mult = g_cfg_rd(&vmm, at + VIO_PCI_NOTIFY_CAP_MULT, 4);
			}
			if (type == VIO_PCI_CAP_DEVICE_CFG && device == 0)
				device = where;
		}
		at = g_cfg_rd(&vmm, at + 1, 1);
	}
	assert_true(common != 0 && notify != 0 && device != 0 && msix_cap != 0);

	/* MSI-X: entry 0 for configuration changes, entry 1 for the queue. */
	uint32_t tbl = g_cfg_rd(&vmm, msix_cap + VIO_PCI_MSIX_TABLE, 4);
	assert_int_equal(tbl & VIO_PCI_MSIX_BIR_MASK, 0);
	uint64_t table = BAR_GPA + (tbl & ~VIO_PCI_MSIX_BIR_MASK);
	assert_int_equal(
		g_cfg_rd(&vmm, msix_cap + VIO_PCI_MSIX_FLAGS, 2) & VIO_PCI_MSIX_FLAGS_QSIZE, 1);
	for (unsigned v = 0; v < 2; v++) {
		uint64_t e = table + 16u * v;
		g_wr(&vmm, e + VIO_PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000u, 4);
		g_wr(&vmm, e + VIO_PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4);
		g_wr(&vmm, e + VIO_PCI_MSIX_ENTRY_DATA, 0x40u + v, 4);
		g_wr(&vmm, e + VIO_PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4); /* unmask */
	}
	g_cfg_wr(&vmm, msix_cap + VIO_PCI_MSIX_FLAGS, VIO_PCI_MSIX_FLAGS_ENABLE, 2);

	/* §3.1.1 over the common configuration. */
	g_wr(&vmm, common + VIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(g_rd(&vmm, common + VIO_PCI_COMMON_STATUS, 1), 0);
	g_wr(&vmm, common + VIO_PCI_COMMON_STATUS, VIO_STATUS_ACKNOWLEDGE, 1);
	g_wr(&vmm, common + VIO_PCI_COMMON_STATUS, VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER, 1);
	struct vio_features offer = vio_features_none(), want;
	for (uint32_t sel = 0; sel < 2; sel++) {
		g_wr(&vmm, common + VIO_PCI_COMMON_DFSELECT, sel, 4);
		vio_features_set_word32(&offer, sel,
					(uint32_t)g_rd(&vmm, common + VIO_PCI_COMMON_DF, 4));
	}
	vio_blk_drv_features(&want);
	vio_features_set(&want, VIO_F_VERSION_1);
	vio_features_set(&want, VIO_F_EVENT_IDX);
	want = vio_features_and(&want, &offer);
	for (uint32_t sel = 0; sel < 2; sel++) {
		g_wr(&vmm, common + VIO_PCI_COMMON_GFSELECT, sel, 4);
		g_wr(&vmm, common + VIO_PCI_COMMON_GF, vio_features_word32(&want, sel), 4);
	}
	g_wr(&vmm, common + VIO_PCI_COMMON_STATUS, 1 | 2 | 8, 1);
	assert_int_equal(g_rd(&vmm, common + VIO_PCI_COMMON_STATUS, 1), 1 | 2 | 8);
	g_wr(&vmm, common + VIO_PCI_COMMON_MSIX, 0, 2);
	assert_int_equal(g_rd(&vmm, common + VIO_PCI_COMMON_MSIX, 2), 0);

	/* Device configuration, 32 bits at a time, under a stable generation. */
	unsigned char raw[VIO_BLK_CONFIG_SIZE];
	uint32_t gen;
	do {
		gen = (uint32_t)g_rd(&vmm, common + VIO_PCI_COMMON_CFGGENERATION, 1);
		for (uint32_t i = 0; i < sizeof(raw); i += 4) {
			uint32_t w = (uint32_t)g_rd(&vmm, device + i, 4);
			memcpy(raw + i,
			       (unsigned char[4]){(unsigned char)w, (unsigned char)(w >> 8),
						  (unsigned char)(w >> 16),
						  (unsigned char)(w >> 24)},
			       4);
		}
	} while (gen != g_rd(&vmm, common + VIO_PCI_COMMON_CFGGENERATION, 1));
	struct vio_blk_info binfo;
	assert_int_equal(vio_blk_config_parse(raw, sizeof(raw), &want, &binfo), 0);
	assert_int_equal(binfo.capacity, DISK_BYTES / 512);

	/* Queue 0: a split ring of 16 in guest RAM, vector 1. */
	g_wr(&vmm, common + VIO_PCI_COMMON_Q_SELECT, 0, 2);
	assert_int_equal(g_rd(&vmm, common + VIO_PCI_COMMON_Q_SIZE, 2), 128);
	g_wr(&vmm, common + VIO_PCI_COMMON_Q_SIZE, 16, 2);
	struct vio_vq_config vc = {0};
	vc.format = VIO_RING_SPLIT;
	vc.size = 16;
	vc.features = want;
	vc.desc = vmm.ram;
	vc.driver_area = vmm.ram + 4096;
	vc.device_area = vmm.ram + 8192;
	vc.dma_ops = &g_dma;
	vc.dma_ctx = &vmm;
	static _Alignas(VIO_VQ_MEM_ALIGN) unsigned char vqmem[VIO_VQ_MEM_SIZE(16)];
	struct vio_vq *vq;
	assert_int_equal(vio_vq_init(&vq, vqmem, sizeof(vqmem), &vc), 0);
	uint64_t a[3];
	assert_int_equal(vio_vq_ring_addrs(vq, &a[0], &a[1], &a[2]), 0);
	for (unsigned i = 0; i < 3; i++) {
		g_wr(&vmm, common + VIO_PCI_COMMON_Q_DESCLO + 8 * i, (uint32_t)a[i], 4);
		g_wr(&vmm, common + VIO_PCI_COMMON_Q_DESCHI + 8 * i, (uint32_t)(a[i] >> 32), 4);
	}
	g_wr(&vmm, common + VIO_PCI_COMMON_Q_MSIX, 1, 2);
	assert_int_equal(g_rd(&vmm, common + VIO_PCI_COMMON_Q_MSIX, 2), 1);
	uint64_t kick = notify + g_rd(&vmm, common + VIO_PCI_COMMON_Q_NOFF, 2) * mult;
	g_wr(&vmm, common + VIO_PCI_COMMON_Q_ENABLE, 1, 2);
	g_wr(&vmm, common + VIO_PCI_COMMON_STATUS, 1 | 2 | 8 | 4, 1);
	assert_int_equal(g_rd(&vmm, common + VIO_PCI_COMMON_STATUS, 1), 1 | 2 | 8 | 4);

	/* Write sector 3, then read it back. Requests live in guest RAM. */
	struct vio_blk_drv drv;
	assert_int_equal(vio_blk_drv_init(&drv, vq, &binfo), 0);
	struct vio_blk_drv_req *req = (void *)(vmm.ram + 16384);
	unsigned char *wbuf = vmm.ram + 20480, *rbuf = vmm.ram + 24576;
	for (unsigned i = 0; i < 1024; i++)
		wbuf[i] = (unsigned char)(i * 13u + 7u);
	assert_int_equal(vio_blk_drv_write(&drv, req, 3, wbuf, 1024), 0);
	if (vio_vq_kick_prepare(vq))
		g_wr(&vmm, kick, 0, 2); /* the 16-bit queue index (§4.1.5.2) */
	assert_int_equal(vmm.msis, 1);
	assert_int_equal(vmm.msi_vector, 1);
	assert_int_equal(vmm.msi_addr, 0xfee00000u);
	assert_int_equal(vmm.msi_data, 0x41);
	struct vio_blk_drv_req *done;
	assert_int_equal(vio_blk_drv_get(&drv, &done), 0);
	assert_ptr_equal(done, req);
	assert_int_equal(done->status, VIO_BLK_S_OK);
	assert_memory_equal(vmm.disk + 3 * 512, wbuf, 1024);

	assert_int_equal(vio_blk_drv_read(&drv, req, 3, rbuf, 1024), 0);
	if (vio_vq_kick_prepare(vq))
		g_wr(&vmm, kick, 0, 2);
	assert_int_equal(vio_blk_drv_get(&drv, &done), 0);
	assert_int_equal(done->status, VIO_BLK_S_OK);
	assert_memory_equal(rbuf, wbuf, 1024);
	assert_int_equal(vmm.msis, 2);

	/* The VMM grows the disk: a configuration change on vector 0. */
	uint64_t cap = DISK_BYTES / 512 / 2;
	assert_int_equal(vio_blk_dev_set_capacity(&vmm.blk, cap, &vmm.config), 0);
	vio_device_config_changed(vmm.dev);
	assert_int_equal(vmm.msis, 3);
	assert_int_equal(vmm.msi_vector, 0);
	assert_int_not_equal(g_rd(&vmm, common + VIO_PCI_COMMON_CFGGENERATION, 1), gen);
	assert_int_equal(g_rd(&vmm, device, 4), cap);

	/* Guest shutdown: reset; the VMM frees what it allocated. */
	g_wr(&vmm, common + VIO_PCI_COMMON_STATUS, 0, 1);
	assert_int_equal(g_rd(&vmm, common + VIO_PCI_COMMON_STATUS, 1), 0);
	free(vmm.dev_mem);
	free(vmm.ram);
}

/* ==== Conformance rig ========================================================
 *
 * A device core with a tiny model behind the PCI model: RNG type, up to 4
 * queues, a 16-byte configuration space (bytes 8..11 writable), serving
 * each notified queue inline by filling writable bytes with 0x40 + k. The
 * driver side speaks only through configuration and BAR accesses. */

#define PR_MAXQ 4
#define PR_CFG 16
#define PR_FILL 0x40

struct prig {
	struct guest_mem gm;
	struct vio_device_info info;
	uint16_t qmax[PR_MAXQ];
	unsigned char config[PR_CFG];
	struct vio_device *dev;
	void *dev_mem;
	struct vio_pci_dev *pci;
	void *pci_mem;
	size_t pci_mem_size;
	struct vio_pci_dev_config pc;
	struct vio_pci_dev_layout l;
	/* Model. */
	unsigned notifies, activates, deactivates, resets, queue_stops, config_writes, served;
	uint16_t last_q;
	uint32_t last_data;
	/* Interrupts. */
	bool line;
	unsigned line_raises, line_calls;
	/* Threaded tests: callbacks from two threads count atomically only. */
	bool racy;
	atomic_uint amsi;
	atomic_bool aline;
	unsigned nmsi;
	uint16_t msi_vec[64];
	uint64_t msi_addr[64];
	uint32_t msi_data[64];
	/* Driver. */
	struct vio_features negotiated;
	struct vio_vq *vq[PR_MAXQ];
	void *vq_mem[PR_MAXQ];
	unsigned char *data;
	uint64_t data_addr;
	size_t data_used;
};

static void pm_config_write(void *ctx, struct vio_device *dev, uint32_t off, const void *data,
			    uint32_t len)
{
	struct prig *r = ctx;
	(void)dev;
	r->config_writes++;
	for (uint32_t i = 0; i < len; i++)
		if (off + i >= 8 && off + i < 12)
			r->config[off + i] = ((const unsigned char *)data)[i];
}

static int pm_activate(void *ctx, struct vio_device *dev)
{
	struct prig *r = ctx;
	(void)dev;
	r->activates++;
	return 0;
}

static void pm_deactivate(void *ctx, struct vio_device *dev)
{
	struct prig *r = ctx;
	(void)dev;
	r->deactivates++;
}

static void pm_reset(void *ctx, struct vio_device *dev)
{
	struct prig *r = ctx;
	(void)dev;
	r->resets++;
}

static void pm_notify(void *ctx, struct vio_device *dev, uint16_t q, uint32_t data)
{
	struct prig *r = ctx;
	r->notifies++;
	r->last_q = q;
	r->last_data = data;
	struct vio_devq *dq = vio_device_queue(dev, q);
	struct vio_chain c;
	struct vio_chain_seg segs[4];
	for (;;) {
		int rc = dq != NULL ? vio_devq_pop(dq, &c, segs, 4) : -VIO_EBROKEN;
		if (rc == -VIO_EAGAIN && !vio_devq_enable_notify(dq))
			continue;
		if (rc < 0)
			break;
		uint32_t k = 0;
		for (uint16_t i = 0; i < c.nseg; i++)
			if (c.segs[i].write)
				for (uint32_t j = 0; j < c.segs[i].len; j++, k++)
					((unsigned char *)c.segs[i].ptr)[j] =
						(unsigned char)(PR_FILL + k);
		if (vio_device_queue_push(dev, q, &c, c.in_bytes) == 0)
			r->served++;
	}
}

static void pm_queue_stop(void *ctx, struct vio_device *dev, uint16_t q)
{
	struct prig *r = ctx;
	(void)dev;
	(void)q;
	r->queue_stops++;
}

static const struct vio_device_ops pm_ops = {.config_write = pm_config_write,
					     .activate = pm_activate,
					     .deactivate = pm_deactivate,
					     .reset = pm_reset,
					     .queue_notify = pm_notify,
					     .queue_stop = pm_queue_stop};

static void pr_set_irq(void *ctx, bool level)
{
	struct prig *r = ctx;
	if (r->racy) {
		atomic_store(&r->aline, level);
		return;
	}
	r->line_calls++;
	if (level && !r->line)
		r->line_raises++;
	r->line = level;
}

static void pr_msi(void *ctx, uint16_t vector, uint64_t addr, uint32_t data)
{
	struct prig *r = ctx;
	if (r->racy) {
		atomic_fetch_add(&r->amsi, 1u);
		return;
	}
	if (r->nmsi < 64) {
		r->msi_vec[r->nmsi] = vector;
		r->msi_addr[r->nmsi] = addr;
		r->msi_data[r->nmsi] = data;
	}
	r->nmsi++;
}

/* A rig with @nq queues of @qmax, offering @features, presented as @pc (NULL:
 * 4 MSI-X vectors, everything else default). */
static void pr_init_mem(struct prig *r, uint16_t nq, uint16_t qmax,
			const struct vio_features *features, const struct vio_pci_dev_config *pc,
			struct guest_mem *shared)
{
	memset(r, 0, sizeof(*r));
	atomic_init(&r->amsi, 0u);
	atomic_init(&r->aline, false);
	gm_init(&r->gm);
	r->data = gm_alloc(&r->gm, 65536, 64, &r->data_addr);
	for (unsigned i = 0; i < PR_CFG; i++)
		r->config[i] = (unsigned char)(0xa0 + i);
	for (unsigned i = 0; i < nq; i++)
		r->qmax[i] = qmax;
	r->info.device_id = VIO_ID_RNG;
	r->info.num_queues = nq;
	r->info.queue_max = r->qmax;
	r->info.features = *features;
	r->info.config = r->config;
	r->info.config_size = PR_CFG;
	r->info.ops = &pm_ops;
	r->info.ctx = r;
	r->info.mem_ops = &gm_dev_ops;
	r->info.mem_ctx = shared != NULL ? shared : &r->gm; /* migration: the same guest */
	size_t need = vio_device_mem_size(&r->info);
	assert_int_equal(posix_memalign(&r->dev_mem, VIO_DEVICE_MEM_ALIGN, need), 0);
	assert_int_equal(vio_device_init(&r->dev, r->dev_mem, need, &r->info), 0);

	if (pc != NULL) {
		r->pc = *pc;
	} else {
		r->pc.msix_vectors = 4;
	}
	r->pc.set_irq = pr_set_irq;
	r->pc.msix = pr_msi;
	r->pc.irq_ctx = r;
	r->pci_mem_size = vio_pci_dev_mem_size(&r->pc);
	assert_true(r->pci_mem_size > 0);
	assert_int_equal(r->pci_mem_size, VIO_PCI_DEV_MEM_SIZE(r->pc.msix_vectors));
	assert_int_equal(posix_memalign(&r->pci_mem, VIO_PCI_DEV_MEM_ALIGN, r->pci_mem_size), 0);
	assert_int_equal(vio_pci_dev_init(&r->pci, r->pci_mem, r->pci_mem_size, r->dev, &r->pc), 0);
	vio_pci_dev_get_layout(r->pci, &r->l);
}

static void pr_init(struct prig *r, uint16_t nq, uint16_t qmax, const struct vio_features *features,
		    const struct vio_pci_dev_config *pc)
{
	pr_init_mem(r, nq, qmax, features, pc, NULL);
}

static void pr_fini(struct prig *r)
{
	vio_device_reset(r->dev);
	for (unsigned i = 0; i < PR_MAXQ; i++)
		free(r->vq_mem[i]);
	free(r->pci_mem);
	free(r->dev_mem);
	gm_free(&r->gm);
}

/* Configuration space. */
static uint32_t cr(struct prig *r, uint32_t off, unsigned size)
{
	uint32_t v = 0xdeadbeef;
	int rc = vio_pci_dev_cfg_read(r->pci, off, size, &v);
	if (rc != 0)
		fail_msg("config read 0x%02x/%u: %s", (unsigned)off, size, vio_err_name(rc));
	return v;
}

static int cw(struct prig *r, uint32_t off, uint32_t v, unsigned size)
{
	return vio_pci_dev_cfg_write(r->pci, off, v, size);
}

/* The BAR (offsets from its base). */
static int brr(struct prig *r, uint64_t off, unsigned size, uint64_t *v)
{
	return vio_pci_dev_bar_read(r->pci, r->l.bar, off, size, v);
}

static uint64_t br(struct prig *r, uint64_t off, unsigned size)
{
	uint64_t v = 0xdeadbeef;
	int rc = brr(r, off, size, &v);
	if (rc != 0)
		fail_msg("BAR read 0x%llx/%u: %s", (unsigned long long)off, size, vio_err_name(rc));
	return v;
}

static int bw(struct prig *r, uint64_t off, uint64_t v, unsigned size)
{
	return vio_pci_dev_bar_write(r->pci, r->l.bar, off, v, size);
}

/* Common configuration fields with their own widths. */
#define C8(r, f) ((uint8_t)br((r), VIO_PCI_COMMON_##f, 1))
#define C16(r, f) ((uint16_t)br((r), VIO_PCI_COMMON_##f, 2))
#define C32(r, f) ((uint32_t)br((r), VIO_PCI_COMMON_##f, 4))
#define W8(r, f, v) bw((r), VIO_PCI_COMMON_##f, (v), 1)
#define W16(r, f, v) bw((r), VIO_PCI_COMMON_##f, (v), 2)
#define W32(r, f, v) bw((r), VIO_PCI_COMMON_##f, (v), 4)

static struct vio_features pr_offer(struct prig *r)
{
	struct vio_features f = vio_features_none();
	for (uint32_t sel = 0; sel < 4; sel++) {
		assert_int_equal(W32(r, DFSELECT, sel), 0);
		vio_features_set_word32(&f, sel, C32(r, DF));
	}
	return f;
}

/* Reset, ACKNOWLEDGE, DRIVER, @want, FEATURES_OK; the status read back. */
static uint8_t pr_negotiate(struct prig *r, const struct vio_features *want)
{
	assert_int_equal(W8(r, STATUS, 0), 0);
	assert_int_equal(C8(r, STATUS), 0);
	assert_int_equal(W8(r, STATUS, VIO_STATUS_ACKNOWLEDGE), 0);
	assert_int_equal(W8(r, STATUS, VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER), 0);
	for (uint32_t sel = 0; sel < 4; sel++) {
		assert_int_equal(W32(r, GFSELECT, sel), 0);
		assert_int_equal(W32(r, GF, vio_features_word32(want, sel)), 0);
	}
	(void)W8(r, STATUS, VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER | VIO_STATUS_FEATURES_OK);
	uint8_t st = C8(r, STATUS);
	r->negotiated = (st & VIO_STATUS_FEATURES_OK) ? *want : vio_features_none();
	return st;
}

static void *xalloc(size_t len)
{
	void *p = NULL;
	assert_int_equal(posix_memalign(&p, 64, len ? len : 1), 0);
	memset(p, 0, len);
	return p;
}

/* Driver queue @q of @size in guest memory, programmed through the common
 * configuration, then queue_enable = 1; the last write's result. */
static int pr_queue_setup(struct prig *r, uint16_t q, uint16_t size)
{
	bool packed = vio_features_test(&r->negotiated, VIO_F_RING_PACKED);
	size_t dsz = packed ? vio_packed_desc_size(size) : vio_split_desc_size(size);
	size_t asz = packed ? vio_packed_event_size() : vio_split_avail_size(size);
	size_t usz = packed ? vio_packed_event_size() : vio_split_used_size(size);
	uint64_t addr[3];
	void *host[3];
	host[0] = gm_alloc(&r->gm, dsz, 16, &addr[0]);
	host[1] = gm_alloc(&r->gm, asz, 4, &addr[1]);
	host[2] = gm_alloc(&r->gm, usz, 4, &addr[2]);
	struct vio_vq_config vc = {0};
	vc.format = packed ? VIO_RING_PACKED : VIO_RING_SPLIT;
	vc.size = size;
	vc.index = q;
	vc.features = r->negotiated;
	vc.desc = host[0];
	vc.driver_area = host[1];
	vc.device_area = host[2];
	vc.dma_ops = &gm_drv_ops;
	vc.dma_ctx = &r->gm;
	size_t msz = vio_vq_mem_size(&vc);
	free(r->vq_mem[q]);
	r->vq_mem[q] = xalloc(msz);
	assert_int_equal(vio_vq_init(&r->vq[q], r->vq_mem[q], msz, &vc), 0);

	assert_int_equal(W16(r, Q_SELECT, q), 0);
	assert_int_equal(C16(r, Q_ENABLE), 0);
	assert_true(C16(r, Q_SIZE) >= size);
	assert_int_equal(W16(r, Q_SIZE, size), 0);
	for (unsigned a = 0; a < 3; a++) {
		assert_int_equal(bw(r, VIO_PCI_COMMON_Q_DESCLO + 8 * a, (uint32_t)addr[a], 4), 0);
		assert_int_equal(bw(r, VIO_PCI_COMMON_Q_DESCHI + 8 * a, addr[a] >> 32, 4), 0);
	}
	return W16(r, Q_ENABLE, 1);
}

static uint8_t pr_bringup(struct prig *r, const struct vio_features *want, uint16_t size)
{
	uint8_t st = pr_negotiate(r, want);
	if (!(st & VIO_STATUS_FEATURES_OK))
		return st;
	for (uint16_t q = 0; q < r->info.num_queues; q++)
		assert_int_equal(pr_queue_setup(r, q, size), 0);
	assert_int_equal(W8(r, STATUS, 1 | 2 | 8 | 4), 0);
	return C8(r, STATUS);
}

/* One writable buffer of @in bytes on queue @q, kicked at its notify
 * address (notification data when negotiated). */
static int pr_submit(struct prig *r, uint16_t q, uint32_t in)
{
	unsigned char *b = r->data + r->data_used;
	r->data_used += in;
	assert_true(r->data_used <= 65536);
	struct vio_sg sg = {b, in};
	int rc = vio_vq_add(r->vq[q], &sg, 0, 1, b);
	if (rc != 0)
		return rc;
	if (!vio_vq_kick_prepare(r->vq[q]))
		return 0;
	uint32_t at = vio_pci_dev_notify_offset(r->pci, q);
	if (vio_features_test(&r->negotiated, VIO_F_NOTIFICATION_DATA))
		return bw(r, at, vio_vq_notify_data(r->vq[q]), 4);
	return bw(r, at, q, 2);
}

static struct vio_features feats(const unsigned *bits, unsigned n)
{
	struct vio_features f = vio_features_none();
	for (unsigned i = 0; i < n; i++)
		vio_features_set(&f, bits[i]);
	return f;
}

static struct vio_features v1(void)
{
	static const unsigned b[] = {VIO_F_VERSION_1};
	return feats(b, 1);
}

/* Program MSI-X entry @v (address 0xfee00000 + v·16, data 0x100 + v) and
 * unmask it when @unmask. */
static void pr_msix_entry(struct prig *r, uint16_t v, bool unmask)
{
	uint64_t e = r->l.msix_table_offset + 16u * v;
	assert_int_equal(bw(r, e + VIO_PCI_MSIX_ENTRY_LOWER_ADDR, 0xfee00000u + 16u * v, 4), 0);
	assert_int_equal(bw(r, e + VIO_PCI_MSIX_ENTRY_UPPER_ADDR, 0, 4), 0);
	assert_int_equal(bw(r, e + VIO_PCI_MSIX_ENTRY_DATA, 0x100u + v, 4), 0);
	assert_int_equal(bw(r, e + VIO_PCI_MSIX_ENTRY_VECTOR_CTRL, unmask ? 0 : 1, 4), 0);
}

static void pr_msix_ctrl(struct prig *r, uint16_t bits)
{
	assert_int_equal(cw(r, 0x98 + VIO_PCI_MSIX_FLAGS, bits, 2), 0);
}

/* ==== Configuration header ================================================== */

static void test_pci_dev_init_rejects(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, NULL);
	struct vio_pci_dev *p;
	_Alignas(8) static unsigned char mem[VIO_PCI_DEV_MEM_SIZE(VIO_PCI_MSIX_MAX_VECTORS) + 8];
	struct vio_pci_dev_config c = {0};
	assert_int_equal(vio_pci_dev_init(NULL, mem, sizeof(mem), r.dev, &c), -VIO_EINVAL);
	assert_int_equal(vio_pci_dev_init(&p, NULL, sizeof(mem), r.dev, &c), -VIO_EINVAL);
	assert_int_equal(vio_pci_dev_init(&p, mem, sizeof(mem), NULL, &c), -VIO_EINVAL);
	assert_int_equal(vio_pci_dev_init(&p, mem, sizeof(mem), r.dev, NULL), -VIO_EINVAL);
	assert_int_equal(vio_pci_dev_init(&p, mem + 4, sizeof(mem) - 4, r.dev, &c), -VIO_EINVAL);
	assert_int_equal(vio_pci_dev_init(&p, mem, VIO_PCI_DEV_MEM_SIZE(0) - 1, r.dev, &c),
			 -VIO_EINVAL);
	static const uint8_t bad_bars[] = {1, 3, 5, 6, 255};
	for (unsigned i = 0; i < sizeof(bad_bars); i++) {
		c.bar = bad_bars[i];
		assert_int_equal(vio_pci_dev_init(&p, mem, sizeof(mem), r.dev, &c), -VIO_EINVAL);
	}
	c.bar = 0;
	c.interrupt_pin = 5;
	assert_int_equal(vio_pci_dev_init(&p, mem, sizeof(mem), r.dev, &c), -VIO_EINVAL);
	c.interrupt_pin = 0;
	c.msix_vectors = VIO_PCI_MSIX_MAX_VECTORS + 1;
	assert_int_equal(vio_pci_dev_mem_size(&c), 0);
	assert_int_equal(vio_pci_dev_init(&p, mem, sizeof(mem), r.dev, &c), -VIO_EINVAL);
	c.msix_vectors = 4;
	assert_int_equal(vio_pci_dev_init(&p, mem, VIO_PCI_DEV_MEM_SIZE(4) - 1, r.dev, &c),
			 -VIO_EINVAL);
	c.msix_vectors = VIO_PCI_MSIX_MAX_VECTORS;
	assert_int_equal(vio_pci_dev_init(&p, mem, sizeof(mem), r.dev, &c), 0);
	assert_int_equal(vio_pci_dev_mem_size(NULL), 0);
	pr_fini(&r);

	/* A device type beyond the modern ID range (0x1040 + 0x3f). */
	struct vio_device_info info = {0};
	info.device_id = 0x40;
	_Alignas(8) static unsigned char dmem[VIO_DEVICE_MEM_SIZE(0, 1)];
	struct vio_device *dev;
	assert_int_equal(vio_device_init(&dev, dmem, sizeof(dmem), &info), 0);
	c.msix_vectors = 0;
	assert_int_equal(vio_pci_dev_init(&p, mem, sizeof(mem), dev, &c), -VIO_EINVAL);
	info.device_id = 0x3f;
	assert_int_equal(vio_device_init(&dev, dmem, sizeof(dmem), &info), 0);
	assert_int_equal(vio_pci_dev_init(&p, mem, sizeof(mem), dev, &c), 0);
	uint32_t v;
	assert_int_equal(vio_pci_dev_cfg_read(p, VIO_PCI_CFG_DEVICE_ID, 2, &v), 0);
	assert_int_equal(v, 0x107f);
}

static void test_pci_dev_cfg_header_identity(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 2, 8, &(struct vio_features){{0}}, NULL);
	/* §4.1.2: vendor 0x1af4, device 0x1040 + 4, revision ≥ 1, subsystem
	 * ID ≥ 0x40. */
	assert_int_equal(cr(&r, VIO_PCI_CFG_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cr(&r, VIO_PCI_CFG_DEVICE_ID, 2), 0x1044);
	assert_int_equal(cr(&r, 0, 4), 0x10441af4u);
	assert_int_equal(cr(&r, VIO_PCI_CFG_REVISION, 1), 1);
	assert_int_equal(cr(&r, VIO_PCI_CFG_CLASS_BASE, 1), 0xff);
	assert_int_equal(cr(&r, VIO_PCI_CFG_CLASS_SUB, 1), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_CLASS_PROG, 1), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_HEADER_TYPE, 1), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_SUBSYS_VENDOR_ID, 2), 0x1af4);
	assert_int_equal(cr(&r, VIO_PCI_CFG_SUBSYS_ID, 2), 0x44);
	assert_int_equal(cr(&r, VIO_PCI_CFG_STATUS, 2), VIO_PCI_STATUS_CAP_LIST);
	assert_int_equal(cr(&r, VIO_PCI_CFG_COMMAND, 2), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_CAP_PTR, 1), 0x40);
	assert_int_equal(cr(&r, VIO_PCI_CFG_INTERRUPT_PIN, 1), 1);
	assert_int_equal(cr(&r, VIO_PCI_CFG_ROM_ADDRESS, 4), 0);
	/* Byte enables: any 1, 2 or 4 bytes inside one dword read consistently. */
	for (uint32_t off = 0; off < 256; off += 4) {
		if (off == 0x84 + VIO_PCI_CFG_CAP_DATA)
			continue; /* the PCI configuration access window: see below */
		uint32_t d = cr(&r, off, 4);
		for (unsigned i = 0; i < 4; i++)
			assert_int_equal(cr(&r, off + i, 1), (d >> (8 * i)) & 0xff);
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(cr(&r, off + i, 2), (d >> (8 * i)) & 0xffff);
	}
	/* Undefined accesses: 0 and VIO_EREG, never a fault. */
	uint32_t v = 1;
	assert_int_equal(vio_pci_dev_cfg_read(r.pci, 256, 4, &v), -VIO_EREG);
	assert_int_equal(v, 0);
	assert_int_equal(vio_pci_dev_cfg_read(r.pci, 0xfff, 1, &v), -VIO_EREG);
	assert_int_equal(vio_pci_dev_cfg_read(r.pci, 0xffffffffu, 1, &v), -VIO_EREG);
	assert_int_equal(vio_pci_dev_cfg_read(r.pci, 2, 4, &v), -VIO_EREG); /* crosses a dword */
	assert_int_equal(vio_pci_dev_cfg_read(r.pci, 3, 2, &v), -VIO_EREG);
	assert_int_equal(vio_pci_dev_cfg_read(r.pci, 0, 3, &v), -VIO_EREG);
	assert_int_equal(vio_pci_dev_cfg_read(r.pci, 0, 0, &v), -VIO_EREG);
	assert_int_equal(vio_pci_dev_cfg_read(r.pci, 0, 8, &v), -VIO_EREG);
	unsigned char b[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	assert_int_equal(vio_pci_dev_cfg_read_bytes(r.pci, 0, b, 8), -VIO_EREG);
	assert_int_equal(b[0], 1); /* nothing written for a size above 4 */
	assert_int_equal(vio_pci_dev_cfg_read_bytes(r.pci, 256, b, 2), -VIO_EREG);
	assert_int_equal(b[0] | b[1], 0);
	assert_int_equal(vio_pci_dev_cfg_write_bytes(r.pci, 4, b, 0), -VIO_EREG);
	assert_int_equal(vio_pci_dev_cfg_write_bytes(r.pci, 4, b, 5), -VIO_EREG);
	/* Read-only registers ignore writes. */
	assert_int_equal(cw(&r, VIO_PCI_CFG_VENDOR_ID, 0x12345678, 4), -VIO_EREG);
	assert_int_equal(cw(&r, VIO_PCI_CFG_REVISION, 0x12345678, 4), -VIO_EREG);
	assert_int_equal(cw(&r, VIO_PCI_CFG_CAP_PTR, 0x80, 1), -VIO_EREG);
	assert_int_equal(cw(&r, VIO_PCI_CFG_INTERRUPT_PIN, 3, 1), -VIO_EREG);
	assert_int_equal(cw(&r, 0x40, 0xffffffffu, 4), -VIO_EREG); /* a virtio cap */
	assert_int_equal(cw(&r, 0x48, 0xffffffffu, 4), -VIO_EREG);
	assert_int_equal(cw(&r, 0xf0, 1, 4), -VIO_EREG);
	assert_int_equal(cw(&r, 256, 1, 4), -VIO_EREG);
	assert_int_equal(cr(&r, 0, 4), 0x10441af4u);
	assert_int_equal(cr(&r, 0x48, 4), VIO_PCI_DEV_COMMON_OFFSET);
	/* Writable: command (its defined bits), cache line, interrupt line. */
	assert_int_equal(cw(&r, VIO_PCI_CFG_COMMAND, 0xffff, 2), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_COMMAND, 2), 0x0546);
	assert_int_equal(vio_pci_dev_command(r.pci), 0x0546);
	assert_int_equal(cw(&r, VIO_PCI_CFG_STATUS, 0xffff, 2), 0); /* RW1C: nothing to clear */
	assert_int_equal(cr(&r, VIO_PCI_CFG_STATUS, 2), VIO_PCI_STATUS_CAP_LIST);
	assert_int_equal(cw(&r, VIO_PCI_CFG_COMMAND, 0, 4), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_COMMAND, 2), 0);
	assert_int_equal(cw(&r, VIO_PCI_CFG_CACHE_LINE_SIZE, 0x10, 1), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_CACHE_LINE_SIZE, 4), 0x10);
	assert_int_equal(cw(&r, VIO_PCI_CFG_HEADER_TYPE, 0x80, 1), -VIO_EREG);
	assert_int_equal(cw(&r, VIO_PCI_CFG_INTERRUPT_LINE, 0x0b, 1), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_INTERRUPT_LINE, 2), 0x010b);
	assert_int_equal(cw(&r, VIO_PCI_CFG_INTERRUPT_LINE, 0xffffffffu, 4), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_INTERRUPT_LINE, 4), 0x01ff);
	pr_fini(&r);

	/* Configured identity, class codes by type. */
	struct vio_pci_dev_config c = {0};
	c.subsys_vendor_id = 0x1234;
	c.subsys_id = 0x5678;
	c.class_code = 0x0c0330;
	c.revision = 7;
	c.no_intx = true;
	c.interrupt_pin = 2;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, &c);
	assert_int_equal(cr(&r, VIO_PCI_CFG_SUBSYS_VENDOR_ID, 4), 0x56781234u);
	assert_int_equal(cr(&r, VIO_PCI_CFG_REVISION, 4), 0x0c033007u);
	assert_int_equal(cr(&r, VIO_PCI_CFG_INTERRUPT_PIN, 1), 0);
	pr_fini(&r);
	c = (struct vio_pci_dev_config){0};
	c.interrupt_pin = 3;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, &c);
	assert_int_equal(cr(&r, VIO_PCI_CFG_INTERRUPT_PIN, 1), 3);
	pr_fini(&r);

	static const struct {
		uint32_t type, class_code;
	} classes[] = {{VIO_ID_BLOCK, 0x018000},   {VIO_ID_NET, 0x020000},
		       {VIO_ID_CONSOLE, 0x078000}, {VIO_ID_SCSI, 0x010000},
		       {VIO_ID_GPU, 0xff0000},	   {VIO_ID_RNG, 0xff0000},
		       {VIO_ID_BALLOON, 0xff0000}};
	for (unsigned i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		struct vio_device_info info = {0};
		info.device_id = classes[i].type;
		_Alignas(8) static unsigned char dmem[VIO_DEVICE_MEM_SIZE(0, 1)];
		_Alignas(8) static unsigned char pmem[VIO_PCI_DEV_MEM_SIZE(0)];
		struct vio_device *dev;
		struct vio_pci_dev *p;
		assert_int_equal(vio_device_init(&dev, dmem, sizeof(dmem), &info), 0);
		c = (struct vio_pci_dev_config){0};
		assert_int_equal(vio_pci_dev_init(&p, pmem, sizeof(pmem), dev, &c), 0);
		uint32_t x;
		assert_int_equal(vio_pci_dev_cfg_read(p, VIO_PCI_CFG_REVISION, 4, &x), 0);
		assert_int_equal(x >> 8, classes[i].class_code);
		assert_int_equal(vio_pci_dev_cfg_read(p, VIO_PCI_CFG_DEVICE_ID, 2, &x), 0);
		assert_int_equal(x, 0x1040 + classes[i].type);
	}
}

/* BAR sizing (PCI 3.0 §6.2.5.1) for a BAR at @bar. */
static void check_bar(uint8_t bar, bool prefetch, uint16_t nvec)
{
	struct prig r;
	struct vio_pci_dev_config c = {0};
	c.bar = bar;
	c.prefetchable = prefetch;
	c.msix_vectors = nvec;
	pr_init(&r, 3, 8, &(struct vio_features){{0}}, &c);
	assert_int_equal(r.l.bar, bar);
	uint64_t size = r.l.bar_size;
	assert_true(size >= 0x4000 && (size & (size - 1)) == 0);
	uint32_t lo = VIO_PCI_CFG_BAR0 + 4u * bar;
	uint32_t flags = VIO_PCI_BAR_MEM_TYPE_64 | (prefetch ? VIO_PCI_BAR_MEM_PREFETCH : 0);
	assert_int_equal(cr(&r, lo, 4), flags);
	assert_int_equal(cr(&r, lo + 4, 4), 0);
	assert_int_equal(cw(&r, lo, 0xffffffffu, 4), 0);
	assert_int_equal(cw(&r, lo + 4, 0xffffffffu, 4), 0);
	assert_int_equal(cr(&r, lo, 4), ((uint32_t) ~(size - 1) & ~0xfu) | flags);
	assert_int_equal(cr(&r, lo + 4, 4), 0xffffffffu);
	uint64_t mask = (uint64_t)cr(&r, lo + 4, 4) << 32 | (cr(&r, lo, 4) & ~0xfu);
	assert_int_equal(~mask + 1, size);
	/* Program it; the low bits below the size read 0. */
	assert_int_equal(cw(&r, lo, 0xc0001234u, 4), 0);
	assert_int_equal(cw(&r, lo + 4, 0x12, 4), 0);
	assert_int_equal(vio_pci_dev_bar_address(r.pci),
			 (0x12ull << 32 | 0xc0001234u) & ~(uint64_t)(size - 1));
	assert_int_equal(cr(&r, lo, 4), (0xc0001234u & (uint32_t) ~(size - 1)) | flags);
	/* A byte write updates that byte only. */
	assert_int_equal(cw(&r, lo + 7, 0xab, 1), 0);
	assert_int_equal(cr(&r, lo + 4, 4), 0xab000012u);
	/* Other BARs are hardwired to 0, also after sizing. */
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++) {
		if (i == bar || i == bar + 1u)
			continue;
		assert_int_equal(cw(&r, VIO_PCI_CFG_BAR0 + 4u * i, 0xffffffffu, 4), 0);
		assert_int_equal(cr(&r, VIO_PCI_CFG_BAR0 + 4u * i, 4), 0);
	}
	assert_int_equal(cw(&r, VIO_PCI_CFG_ROM_ADDRESS, 0xfffff800u, 4), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_ROM_ADDRESS, 4), 0);
	/* Another BAR index reaches nothing. */
	uint64_t v = 1;
	assert_int_equal(vio_pci_dev_bar_read(r.pci, bar + 1u, 0, 1, &v), -VIO_EREG);
	assert_int_equal(v, 0);
	assert_int_equal(vio_pci_dev_bar_write(r.pci, bar + 1u, VIO_PCI_COMMON_STATUS, 1, 1),
			 -VIO_EREG);
	assert_int_equal(C8(&r, STATUS), 0);
	/* The BAR holds every structure. */
	assert_true(r.l.device_offset + r.l.device_length <= size);
	assert_true(r.l.notify_offset + r.l.notify_length <= size);
	if (nvec) {
		assert_true(r.l.msix_pba_offset + (nvec + 63u) / 64u * 8u <= size);
		assert_true(r.l.msix_table_offset + 16u * nvec <= r.l.msix_pba_offset);
	}
	/* Beyond the BAR: refused. */
	assert_int_equal(brr(&r, size, 1, &v), -VIO_EREG);
	assert_int_equal(brr(&r, ~(uint64_t)0, 8, &v), -VIO_EREG);
	assert_int_equal(bw(&r, ~(uint64_t)0 - 2, 1, 4), -VIO_EREG);
	pr_fini(&r);
}

static void test_pci_dev_bar_sizing(void **state)
{
	(void)state;
	check_bar(0, false, 4);
	check_bar(2, true, 0);
	check_bar(4, false, VIO_PCI_MSIX_MAX_VECTORS);
}

/* ==== Capabilities ============================================================ */

struct found {
	uint32_t at[10];    /* by cfg_type; MSI-X at index 0 */
	unsigned count[10]; /* how many of each */
};

static void walk(struct prig *r, struct found *f)
{
	memset(f, 0, sizeof(*f));
	uint32_t at = cr(r, VIO_PCI_CFG_CAP_PTR, 1);
	unsigned hops = 0;
	while (at != 0) {
		assert_true(++hops <= 48); /* no loop */
		assert_true(at >= 0x40 && at <= 0xfc && at % 4 == 0);
		uint32_t id = cr(r, at, 1);
		if (id == VIO_PCI_CAP_ID_MSIX) {
			f->at[0] = at;
			f->count[0]++;
		} else {
			assert_int_equal(id, VIO_PCI_CAP_ID_VNDR);
			uint32_t type = cr(r, at + VIO_PCI_CAP_OFF_CFG_TYPE, 1);
			assert_true(type >= 1 && type <= 5);
			f->at[type] = at;
			f->count[type]++;
		}
		at = cr(r, at + 1, 1);
	}
}

static void check_caps(struct prig *r)
{
	struct found f;
	walk(r, &f);
	for (unsigned t = VIO_PCI_CAP_COMMON_CFG; t <= VIO_PCI_CAP_PCI_CFG; t++) {
		if (t == VIO_PCI_CAP_DEVICE_CFG && r->info.config_size == 0) {
			assert_int_equal(f.count[t], 0);
			continue;
		}
		assert_int_equal(f.count[t], 1);
		uint32_t at = f.at[t];
		uint32_t len = cr(r, at + 2, 1);
		uint32_t bar = cr(r, at + VIO_PCI_CAP_OFF_BAR, 1);
		uint32_t off = cr(r, at + VIO_PCI_CAP_OFF_OFFSET, 4);
		uint32_t length = cr(r, at + VIO_PCI_CAP_OFF_LENGTH, 4);
		assert_true(at + len <= 256);
		if (t == VIO_PCI_CAP_PCI_CFG) {
			assert_int_equal(len, sizeof(struct vio_pci_cfg_cap));
			continue; /* its bar/offset/length are the driver's */
		}
		assert_int_equal(bar, r->l.bar);
		assert_true((uint64_t)off + length <= r->l.bar_size);
		switch (t) {
		case VIO_PCI_CAP_COMMON_CFG:
			assert_int_equal(len, 16);
			assert_int_equal(off % 4, 0);
			assert_true(length >= VIO_PCI_COMMON_SIZE);
			break;
		case VIO_PCI_CAP_NOTIFY_CFG: {
			assert_int_equal(len, sizeof(struct vio_pci_notify_cap));
			uint32_t mult = cr(r, at + VIO_PCI_NOTIFY_CAP_MULT, 4);
			/* §4.1.4.4.1 with NOTIFICATION_DATA: 4-aligned offset, a
			 * multiplier that is a power of 2 and a multiple of 4,
			 * room for every queue's 32-bit notification. */
			assert_int_equal(off % 4, 0);
			assert_true(mult % 4 == 0 && (mult & (mult - 1)) == 0);
			assert_true(length >= 4);
			for (uint16_t q = 0; q < r->info.num_queues; q++) {
				assert_int_equal(W16(r, Q_SELECT, q), 0);
				uint32_t noff = C16(r, Q_NOFF);
				assert_true(length >= noff * mult + 4);
				assert_int_equal(off + noff * mult,
						 vio_pci_dev_notify_offset(r->pci, q));
			}
			break;
		}
		case VIO_PCI_CAP_ISR_CFG:
			assert_int_equal(len, 16);
			assert_true(length >= 1);
			break;
		default: /* device */
			assert_int_equal(len, 16);
			assert_int_equal(off % 4, 0);
			assert_int_equal(length, r->info.config_size);
			break;
		}
	}
	if (r->pc.msix_vectors == 0) {
		assert_int_equal(f.count[0], 0);
		return;
	}
	assert_int_equal(f.count[0], 1);
	uint32_t m = f.at[0];
	uint32_t ctl = cr(r, m + VIO_PCI_MSIX_FLAGS, 2);
	assert_int_equal((ctl & VIO_PCI_MSIX_FLAGS_QSIZE) + 1u, r->pc.msix_vectors);
	assert_int_equal(ctl & (VIO_PCI_MSIX_FLAGS_ENABLE | VIO_PCI_MSIX_FLAGS_MASKALL), 0);
	uint32_t t = cr(r, m + VIO_PCI_MSIX_TABLE, 4), pba = cr(r, m + VIO_PCI_MSIX_PBA, 4);
	assert_int_equal(t & VIO_PCI_MSIX_BIR_MASK, r->l.bar);
	assert_int_equal(pba & VIO_PCI_MSIX_BIR_MASK, r->l.bar);
	assert_int_equal(t & ~VIO_PCI_MSIX_BIR_MASK, r->l.msix_table_offset);
	assert_int_equal(pba & ~VIO_PCI_MSIX_BIR_MASK, r->l.msix_pba_offset);
	assert_true((t & ~7u) + 16u * r->pc.msix_vectors <= r->l.bar_size);
	assert_true((pba & ~7u) + (r->pc.msix_vectors + 63u) / 64u * 8u <= r->l.bar_size);
}

static void test_pci_dev_cap_walk(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 3, 8, &(struct vio_features){{0}}, NULL);
	check_caps(&r);
	pr_fini(&r);

	struct vio_pci_dev_config c = {0};
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, &c); /* no MSI-X */
	check_caps(&r);
	pr_fini(&r);

	/* No configuration space: no DEVICE_CFG capability. */
	struct vio_device_info info = {0};
	info.device_id = VIO_ID_RNG;
	_Alignas(8) static unsigned char dmem[VIO_DEVICE_MEM_SIZE(0, 1)];
	_Alignas(8) static unsigned char pmem[VIO_PCI_DEV_MEM_SIZE(2)];
	struct vio_device *dev;
	struct vio_pci_dev *p;
	assert_int_equal(vio_device_init(&dev, dmem, sizeof(dmem), &info), 0);
	c.msix_vectors = 2;
	assert_int_equal(vio_pci_dev_init(&p, pmem, sizeof(pmem), dev, &c), 0);
	memset(&r, 0, sizeof(r));
	r.pci = p;
	r.dev = dev;
	r.info = info;
	r.pc = c;
	vio_pci_dev_get_layout(p, &r.l);
	assert_int_equal(r.l.device_length, 0);
	assert_int_equal(r.l.notify_length, 4); /* at least one notification's room */
	check_caps(&r);
	/* The bytes where the device capability would be read 0. */
	for (uint32_t off = 0x74; off < 0x84; off += 4)
		assert_int_equal(cr(&r, off, 4), 0);
	/* The MSI-X table takes the device configuration's page. */
	assert_int_equal(r.l.msix_table_offset, VIO_PCI_DEV_DEVICE_OFFSET);
}

/* ==== Common configuration ==================================================== */

static void test_pci_dev_common_fields(void **state)
{
	(void)state;
	struct prig r;
	static const unsigned fb[] = {VIO_F_RING_RESET, 3};
	struct vio_features f = feats(fb, 2);
	pr_init(&r, 2, 64, &f, NULL);
	assert_int_equal(C16(&r, NUMQ), 2);
	assert_int_equal(C32(&r, DFSELECT), 0);
	assert_int_equal(C32(&r, DF), 1u << 3);
	assert_int_equal(W32(&r, DFSELECT, 1), 0);
	assert_int_equal(C32(&r, DFSELECT), 1);
	/* NOTIFICATION_DATA is the transport's, but the model does not offer it. */
	assert_int_equal(C32(&r, DF),
			 (1u << (VIO_F_VERSION_1 - 32)) | (1u << (VIO_F_RING_RESET - 32)));
	assert_int_equal(W32(&r, DFSELECT, 7), 0);
	assert_int_equal(C32(&r, DF), 0); /* §4.1.4.3.1: 0 beyond the offer */
	assert_int_equal(W32(&r, DFSELECT, 0xffffffffu), 0);
	assert_int_equal(C32(&r, DF), 0);
	assert_int_equal(W32(&r, GFSELECT, 1), 0);
	assert_int_equal(W32(&r, GF, 0x80000001u), 0);
	assert_int_equal(C32(&r, GF), 0x80000001u); /* presented as written */
	assert_int_equal(C32(&r, GFSELECT), 1);
	assert_int_equal(C16(&r, MSIX), VIO_PCI_MSI_NO_VECTOR);
	assert_int_equal(C8(&r, STATUS), 0);

	/* Per queue: reset values, the selected queue's fields. */
	for (uint16_t q = 0; q < 2; q++) {
		assert_int_equal(W16(&r, Q_SELECT, q), 0);
		assert_int_equal(C16(&r, Q_SELECT), q);
		assert_int_equal(C16(&r, Q_SIZE), 64);
		assert_int_equal(C16(&r, Q_MSIX), VIO_PCI_MSI_NO_VECTOR);
		assert_int_equal(C16(&r, Q_ENABLE), 0);
		assert_int_equal(C16(&r, Q_NOFF), q);
		assert_int_equal(C32(&r, Q_DESCLO) | C32(&r, Q_DESCHI) | C32(&r, Q_AVAILLO) |
					 C32(&r, Q_AVAILHI) | C32(&r, Q_USEDLO) | C32(&r, Q_USEDHI),
				 0);
		assert_int_equal(C16(&r, Q_NDATA), 0);
		assert_int_equal(C16(&r, Q_RESET), 0);
		assert_int_equal(C16(&r, ADM_Q_IDX), 0);
		assert_int_equal(C16(&r, ADM_Q_NUM), 0);
	}
	/* 64-bit fields as two independent halves (§4.1.3.1). */
	assert_int_equal(W16(&r, Q_SELECT, 1), 0);
	static const uint32_t lo[3] = {VIO_PCI_COMMON_Q_DESCLO, VIO_PCI_COMMON_Q_AVAILLO,
				       VIO_PCI_COMMON_Q_USEDLO};
	for (unsigned a = 0; a < 3; a++) {
		assert_int_equal(bw(&r, lo[a], 0x11110000u + a, 4), 0);
		assert_int_equal(bw(&r, lo[a] + 4, 0x2222u + a, 4), 0);
		assert_int_equal(br(&r, lo[a], 4), 0x11110000u + a);
		assert_int_equal(br(&r, lo[a] + 4, 4), 0x2222u + a);
		assert_int_equal(bw(&r, lo[a] + 4, 0x3333u, 4), 0);
		assert_int_equal(br(&r, lo[a], 4), 0x11110000u + a);
		assert_int_equal(vio_device_queue_addr(r.dev, 1, (enum vio_device_area)a),
				 0x333311110000ull + a);
	}
	assert_int_equal(W16(&r, Q_SIZE, 32), 0);
	assert_int_equal(C16(&r, Q_SIZE), 32);
	assert_int_equal(W16(&r, Q_SIZE, 100), -VIO_EQUEUE_SIZE); /* above the maximum */
	assert_int_equal(C16(&r, Q_SIZE), 0);			  /* unusable: reads 0 */
	assert_int_equal(W16(&r, Q_SIZE, 24), 0);		  /* not a power of 2 */
	assert_int_equal(C16(&r, Q_SIZE), 0);
	assert_int_equal(W16(&r, Q_SIZE, 16), 0);
	assert_int_equal(C16(&r, Q_SIZE), 16);
	assert_int_equal(W16(&r, Q_SELECT, 0), 0);
	assert_int_equal(C16(&r, Q_SIZE), 64); /* queue 0 untouched */
	assert_int_equal(C32(&r, Q_DESCLO), 0);

	/* Wrong widths and places: VIO_EREG, 0, nothing changed. */
	uint64_t v;
	static const struct {
		uint32_t off;
		unsigned size;
	} bad[] = {{VIO_PCI_COMMON_STATUS, 2},	     {VIO_PCI_COMMON_STATUS, 4},
		   {VIO_PCI_COMMON_Q_SELECT, 1},     {VIO_PCI_COMMON_Q_SELECT, 4},
		   {VIO_PCI_COMMON_DFSELECT, 2},     {VIO_PCI_COMMON_DF, 8},
		   {VIO_PCI_COMMON_Q_DESCLO, 8},     {VIO_PCI_COMMON_Q_DESCLO + 2, 2},
		   {VIO_PCI_COMMON_DFSELECT + 1, 1}, {VIO_PCI_COMMON_SIZE, 4},
		   {VIO_PCI_COMMON_ADM_Q_NUM, 4},    {0x100, 4},
		   {VIO_PCI_COMMON_MSIX, 0},	     {VIO_PCI_COMMON_MSIX, 9}};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 1;
		assert_int_equal(brr(&r, bad[i].off, bad[i].size, &v), -VIO_EREG);
		assert_int_equal(v, 0);
		assert_int_equal(bw(&r, bad[i].off, 0x5, bad[i].size), -VIO_EREG);
	}
	assert_int_equal(C8(&r, STATUS), 0);
	assert_int_equal(C16(&r, Q_SELECT), 0);
	assert_int_equal(C32(&r, DFSELECT), 0xffffffffu);
	/* Read-only fields refuse writes (§4.1.4.3.2). */
	assert_int_equal(W32(&r, DF, 0xffffffffu), -VIO_EREG);
	assert_int_equal(W16(&r, NUMQ, 9), -VIO_EREG);
	assert_int_equal(W8(&r, CFGGENERATION, 9), -VIO_EREG);
	assert_int_equal(W16(&r, Q_NOFF, 9), -VIO_EREG);
	assert_int_equal(W16(&r, Q_NDATA, 9), -VIO_EREG);
	assert_int_equal(W16(&r, ADM_Q_IDX, 9), -VIO_EREG);
	assert_int_equal(W16(&r, ADM_Q_NUM, 9), -VIO_EREG);
	assert_int_equal(C16(&r, NUMQ), 2);
	assert_int_equal(C16(&r, Q_NOFF), 0);
	/* queue_enable: 0 (the driver MUST NOT) and other values refused. */
	assert_int_equal(W16(&r, Q_ENABLE, 0), -VIO_EREG);
	assert_int_equal(W16(&r, Q_ENABLE, 2), -VIO_EREG);
	assert_int_equal(W16(&r, Q_ENABLE, 1), -VIO_EQUEUE_STATE); /* before FEATURES_OK */
	assert_int_equal(C16(&r, Q_ENABLE), 0);
	/* The bytes API: a size above 8 writes nothing. */
	unsigned char b[16];
	memset(b, 7, sizeof(b));
	assert_int_equal(vio_pci_dev_bar_read_bytes(r.pci, r.l.bar, 0, b, 9), -VIO_EREG);
	assert_int_equal(b[0], 7);
	assert_int_equal(vio_pci_dev_bar_write_bytes(r.pci, r.l.bar, 0, b, 0), -VIO_EREG);
	assert_int_equal(vio_pci_dev_bar_write_bytes(r.pci, r.l.bar, 0, b, 9), -VIO_EREG);
	assert_int_equal(vio_pci_dev_bar_read_bytes(r.pci, r.l.bar, VIO_PCI_COMMON_NUMQ, b, 2), 0);
	assert_int_equal(b[0] | b[1] << 8, 2);
	pr_fini(&r);
}

static void test_pci_dev_out_of_range_queue(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 2, 64, &(struct vio_features){{0}}, NULL);
	assert_int_equal(pr_negotiate(&r, &(struct vio_features){{0}}) & VIO_STATUS_FEATURES_OK, 0);
	struct vio_features w = v1();
	assert_int_equal(pr_negotiate(&r, &w) & VIO_STATUS_FEATURES_OK, VIO_STATUS_FEATURES_OK);
	static const uint16_t qs[] = {2, 3, 1000, 0xffff};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(W16(&r, Q_SELECT, qs[i]), 0);
		assert_int_equal(C16(&r, Q_SELECT), qs[i]);
		/* §4.1.4.3.1: an unavailable queue presents size 0. */
		assert_int_equal(C16(&r, Q_SIZE), 0);
		assert_int_equal(C16(&r, Q_ENABLE), 0);
		assert_int_equal(C16(&r, Q_MSIX), VIO_PCI_MSI_NO_VECTOR);
		assert_int_equal(C16(&r, Q_NOFF), 0);
		assert_int_equal(C32(&r, Q_DESCLO), 0);
		assert_int_equal(W16(&r, Q_SIZE, 8), -VIO_EQUEUE_STATE);
		assert_int_equal(W32(&r, Q_DESCLO, 0x1000), -VIO_EQUEUE_STATE);
		assert_int_equal(W16(&r, Q_MSIX, 1), -VIO_EQUEUE_STATE);
		assert_int_equal(W16(&r, Q_ENABLE, 1), -VIO_EQUEUE_STATE);
		assert_int_equal(W16(&r, Q_RESET, 1), -VIO_EQUEUE_STATE);
		assert_int_equal(C16(&r, Q_SIZE), 0);
		assert_int_equal(C32(&r, Q_DESCLO), 0);
	}
	/* A ring outside granted memory: enable fails, DEVICE_NEEDS_RESET. */
	assert_int_equal(W16(&r, Q_SELECT, 0), 0);
	assert_int_equal(W16(&r, Q_SIZE, 8), 0);
	assert_int_equal(W32(&r, Q_DESCLO, 0x10), 0); /* no region there */
	assert_true(W16(&r, Q_ENABLE, 1) < 0);
	assert_int_equal(C16(&r, Q_ENABLE), 0);
	assert_true(C8(&r, STATUS) & VIO_STATUS_DEVICE_NEEDS_RESET);
	pr_fini(&r);
}

static void test_pci_dev_feature_windows(void **state)
{
	(void)state;
	struct prig r;
	static const unsigned fb[] = {VIO_F_EVENT_IDX,	       VIO_F_RING_PACKED, VIO_F_SR_IOV,
				      VIO_F_NOTIF_CONFIG_DATA, VIO_F_ADMIN_VQ,	  5};
	struct vio_features f = feats(fb, 6);
	pr_init(&r, 1, 8, &f, NULL);
	struct vio_features offer = pr_offer(&r);
	assert_true(vio_features_test(&offer, VIO_F_VERSION_1));
	assert_true(vio_features_test(&offer, VIO_F_EVENT_IDX));
	assert_true(vio_features_test(&offer, VIO_F_RING_PACKED));
	assert_true(vio_features_test(&offer, 5));
	/* The transport implements NOTIFICATION_DATA and RING_RESET only. */
	assert_false(vio_features_test(&offer, VIO_F_SR_IOV));
	assert_false(vio_features_test(&offer, VIO_F_NOTIF_CONFIG_DATA));
	assert_false(vio_features_test(&offer, VIO_F_ADMIN_VQ));
	assert_false(vio_features_test(&offer, VIO_F_NOTIFICATION_DATA)); /* not offered by model */

	/* An unoffered bit: FEATURES_OK reads back clear (§3.1.1 step 6). */
	struct vio_features bad = offer;
	vio_features_set(&bad, 6);
	assert_int_equal(pr_negotiate(&r, &bad), VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER);
	/* Without VERSION_1 too. */
	struct vio_features nov1 = offer;
	vio_features_clear(&nov1, VIO_F_VERSION_1);
	assert_int_equal(pr_negotiate(&r, &nov1), VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER);
	/* A bit beyond 127. */
	assert_int_equal(pr_negotiate(&r, &offer) & VIO_STATUS_FEATURES_OK, VIO_STATUS_FEATURES_OK);
	(void)W8(&r, STATUS, 0);
	(void)W8(&r, STATUS, 1);
	(void)W8(&r, STATUS, 3);
	assert_int_equal(W32(&r, GFSELECT, 9), 0);
	assert_int_equal(W32(&r, GF, 1), 0);
	assert_int_equal(C32(&r, GF), 0);
	assert_int_equal(W8(&r, STATUS, 11), -VIO_EFEATURES);
	assert_int_equal(C8(&r, STATUS), 3);

	/* Negotiated ⊆ offered, and frozen after FEATURES_OK. */
	struct vio_features w = v1();
	vio_features_set(&w, VIO_F_RING_PACKED);
	assert_int_equal(pr_negotiate(&r, &w), 1 | 2 | 8);
	assert_int_equal(W32(&r, GFSELECT, 0), 0);
	assert_int_equal(W32(&r, GF, 1u << 5), -VIO_EDEVICE_STATE);
	assert_int_equal(C32(&r, GF), 0);
	struct vio_features neg;
	vio_device_features(r.dev, &neg);
	assert_true(vio_features_equal(&neg, &w));
	pr_fini(&r);
}

/* ==== Status machine and reset ================================================ */

static void test_pci_dev_status_machine(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, NULL);
	/* Skipping a step, clearing a bit, undefined bits: refused, unchanged. */
	assert_int_equal(W8(&r, STATUS, VIO_STATUS_DRIVER), -VIO_ESTATUS);
	assert_int_equal(W8(&r, STATUS, VIO_STATUS_DRIVER_OK | 1), -VIO_ESTATUS);
	assert_int_equal(W8(&r, STATUS, 32 | 1), -VIO_ESTATUS);
	assert_int_equal(C8(&r, STATUS), 0);
	assert_int_equal(W8(&r, STATUS, 1), 0);
	assert_int_equal(W8(&r, STATUS, 2 | 1), 0);
	assert_int_equal(W8(&r, STATUS, 1), -VIO_ESTATUS); /* clears DRIVER */
	/* DRIVER_OK never without FEATURES_OK. */
	assert_int_equal(W8(&r, STATUS, 1 | 2 | 4), -VIO_ESTATUS);
	assert_int_equal(C8(&r, STATUS), 3);
	struct vio_features w = v1();
	for (uint32_t sel = 0; sel < 2; sel++) {
		assert_int_equal(W32(&r, GFSELECT, sel), 0);
		assert_int_equal(W32(&r, GF, vio_features_word32(&w, sel)), 0);
	}
	assert_int_equal(W8(&r, STATUS, 1 | 2 | 8 | 4), 0); /* two steps in one write */
	assert_int_equal(C8(&r, STATUS), 1 | 2 | 8 | 4);
	assert_int_equal(r.activates, 1);
	/* FAILED, then only 0 is taken. */
	assert_int_equal(W8(&r, STATUS, 1 | 2 | 8 | 4 | 128), 0);
	assert_int_equal(r.deactivates, 1);
	assert_int_equal(W8(&r, STATUS, 1 | 2 | 8 | 4 | 128), -VIO_EDEVICE_STATE);
	assert_int_equal(W8(&r, STATUS, 0), 0);
	assert_int_equal(C8(&r, STATUS), 0);
	/* Through the bytes API too. */
	unsigned char one = 1;
	assert_int_equal(vio_pci_dev_bar_write_bytes(r.pci, 0, VIO_PCI_COMMON_STATUS, &one, 1), 0);
	assert_int_equal(C8(&r, STATUS), 1);
	pr_fini(&r);
}

/* Bring the rig into state @s (0..7), with queue 0 configured. */
static void enter_state(struct prig *r, unsigned s)
{
	struct vio_features w = v1();
	vio_features_set(&w, VIO_F_RING_RESET);
	assert_int_equal(W8(r, STATUS, 0), 0);
	switch (s) {
	case 0: /* after a reset, with queue fields and vectors written */
		assert_int_equal(W16(r, Q_SELECT, 1), 0);
		assert_int_equal(W16(r, Q_SIZE, 4), 0);
		assert_int_equal(W32(r, Q_DESCLO, 0x1000), 0);
		assert_int_equal(W16(r, Q_MSIX, 1), 0);
		assert_int_equal(W16(r, MSIX, 0), 0);
		break;
	case 1:
		assert_int_equal(W8(r, STATUS, 1), 0);
		break;
	case 2:
		assert_int_equal(W8(r, STATUS, 1), 0);
		assert_int_equal(W8(r, STATUS, 3), 0);
		break;
	case 3:
		assert_int_equal(pr_negotiate(r, &w), 1 | 2 | 8);
		break;
	case 4:
		assert_int_equal(pr_negotiate(r, &w), 1 | 2 | 8);
		assert_int_equal(pr_queue_setup(r, 0, 8), 0);
		assert_int_equal(W16(r, Q_MSIX, 2), 0);
		break;
	case 5:
		assert_int_equal(pr_bringup(r, &w, 8), 1 | 2 | 4 | 8);
		assert_int_equal(W16(r, MSIX, 3), 0);
		assert_int_equal(pr_submit(r, 0, 16), 0);
		break;
	case 6:
		assert_int_equal(pr_bringup(r, &w, 8), 1 | 2 | 4 | 8);
		assert_int_equal(W8(r, STATUS, 1 | 2 | 4 | 8 | 128), 0);
		break;
	default:
		assert_int_equal(pr_bringup(r, &w, 8), 1 | 2 | 4 | 8);
		vio_device_set_needs_reset(r->dev);
		assert_true(C8(r, STATUS) & VIO_STATUS_DEVICE_NEEDS_RESET);
		break;
	}
	assert_int_equal(W32(r, DFSELECT, 1), 0);
	assert_int_equal(W32(r, GFSELECT, 1), 0);
	assert_int_equal(W16(r, Q_SELECT, 1), 0);
}

static void test_pci_dev_reset_from_every_state(void **state)
{
	(void)state;
	struct prig r;
	static const unsigned fb[] = {VIO_F_RING_RESET};
	struct vio_features f = feats(fb, 1);
	pr_init(&r, 2, 16, &f, NULL); /* INTx: MSI-X stays disabled */
	for (unsigned s = 0; s < 8; s++) {
		enter_state(&r, s);
		unsigned resets = r.resets;
		assert_int_equal(W8(&r, STATUS, 0), 0);
		/* §4.1.4.3.1: 0 once reset; queue fields back to defaults. */
		assert_int_equal(C8(&r, STATUS), 0);
		assert_int_equal(r.resets, resets + 1);
		assert_int_equal(C32(&r, DFSELECT), 0);
		assert_int_equal(C32(&r, GFSELECT), 0);
		assert_int_equal(C16(&r, Q_SELECT), 0);
		assert_int_equal(C16(&r, MSIX), VIO_PCI_MSI_NO_VECTOR);
		assert_int_equal(vio_pci_dev_isr(r.pci), 0);
		assert_false(r.line);
		for (uint16_t q = 0; q < 2; q++) {
			assert_int_equal(W16(&r, Q_SELECT, q), 0);
			assert_int_equal(C16(&r, Q_SIZE), 16);
			assert_int_equal(C16(&r, Q_ENABLE), 0);
			assert_int_equal(C16(&r, Q_MSIX), VIO_PCI_MSI_NO_VECTOR);
			assert_int_equal(C16(&r, Q_RESET), 0);
			assert_int_equal(C32(&r, Q_DESCLO) | C32(&r, Q_AVAILLO) | C32(&r, Q_USEDLO),
					 0);
			assert_null(vio_device_queue(r.dev, q));
		}
		struct vio_features drv;
		vio_device_driver_features(r.dev, &drv);
		assert_true(vio_features_equal(&drv, &(struct vio_features){{0}}));
		assert_int_equal(W32(&r, GFSELECT, 1), 0);
		assert_int_equal(C32(&r, GF), 0);
	}
	pr_fini(&r);
}

/* ==== Configuration space and generation ====================================== */

static void test_pci_dev_device_config(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, NULL);
	uint64_t base = VIO_PCI_DEV_DEVICE_OFFSET;
	assert_int_equal(br(&r, base, 1), 0xa0);
	assert_int_equal(br(&r, base + 2, 2), 0xa3a2);
	assert_int_equal(br(&r, base + 4, 4), 0xa7a6a5a4u);
	assert_int_equal(br(&r, base + 8, 8), 0xafaeadacabaaa9a8ull);
	uint64_t v = 1;
	assert_int_equal(brr(&r, base + 1, 2, &v), -VIO_EREG); /* unaligned */
	assert_int_equal(v, 0);
	assert_int_equal(brr(&r, base + 4, 8, &v), -VIO_EREG);
	assert_int_equal(brr(&r, base + 16, 1, &v), -VIO_EREG); /* past the end */
	assert_int_equal(brr(&r, base + 15, 2, &v), -VIO_EREG);
	assert_int_equal(brr(&r, base, 3, &v), -VIO_EREG);
	assert_int_equal(bw(&r, base + 8, 0x01020304u, 4), 0);
	assert_int_equal(r.config_writes, 1);
	assert_int_equal(br(&r, base + 8, 4), 0x01020304u);
	assert_int_equal(bw(&r, base, 0x55, 1), 0); /* read-only byte: the model ignores it */
	assert_int_equal(br(&r, base, 1), 0xa0);
	assert_int_equal(bw(&r, base + 16, 1, 1), -VIO_EREG);
	assert_int_equal(r.config_writes, 2);
	pr_fini(&r);
}

static void test_pci_dev_config_generation(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, NULL);
	uint8_t g0 = C8(&r, CFGGENERATION);
	assert_int_equal(C8(&r, CFGGENERATION), g0); /* nothing changed */
	unsigned char x = 0x11;
	assert_int_equal(vio_device_config_update(r.dev, 0, &x, 1), 0);
	uint8_t g1 = C8(&r, CFGGENERATION);
	assert_int_not_equal(g1, g0);
	assert_int_equal(C8(&r, CFGGENERATION), g1);
	assert_int_equal(br(&r, VIO_PCI_DEV_DEVICE_OFFSET, 1), 0x11);
	/* §4.1.4.3.1: 256 changes between two reads must not wrap back. */
	for (unsigned i = 0; i < 256; i++)
		assert_int_equal(vio_device_config_update(r.dev, 1, &x, 1), 0);
	uint8_t g2 = C8(&r, CFGGENERATION);
	assert_int_not_equal(g2, g1);
	/* Every change between reads shows. */
	for (unsigned i = 0; i < 300; i++) {
		uint8_t before = C8(&r, CFGGENERATION);
		assert_int_equal(vio_device_config_update(r.dev, 2, &x, 1), 0);
		assert_int_not_equal(C8(&r, CFGGENERATION), before);
	}
	/* The device's writes through the driver do not move it. */
	uint8_t g3 = C8(&r, CFGGENERATION);
	assert_int_equal(bw(&r, VIO_PCI_DEV_DEVICE_OFFSET + 8, 1, 1), 0);
	assert_int_equal(C8(&r, CFGGENERATION), g3);
	pr_fini(&r);
}

/* ==== Interrupts ================================================================ */

static void test_pci_dev_isr_read_to_clear(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, NULL);
	struct vio_features w = v1();
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	assert_int_equal(br(&r, VIO_PCI_DEV_ISR_OFFSET, 1), 0);
	assert_false(r.line);

	/* Used buffer: ISR bit 0, INTx# up, Interrupt Status in the header. */
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(r.served, 1);
	assert_int_equal(vio_pci_dev_isr(r.pci), VIO_PCI_ISR_QUEUE);
	assert_true(r.line);
	assert_true(vio_pci_dev_irq_level(r.pci));
	assert_int_equal(r.line_raises, 1);
	assert_true(cr(&r, VIO_PCI_CFG_STATUS, 2) & VIO_PCI_STATUS_INTERRUPT);
	assert_int_equal(r.nmsi, 0);
	/* Writes to the ISR are refused and change nothing. */
	assert_int_equal(bw(&r, VIO_PCI_DEV_ISR_OFFSET, 0, 1), -VIO_EREG);
	assert_int_equal(vio_pci_dev_isr(r.pci), VIO_PCI_ISR_QUEUE);
	/* §4.1.4.5: a read returns the bits, clears them, lowers the line. */
	assert_int_equal(br(&r, VIO_PCI_DEV_ISR_OFFSET, 1), VIO_PCI_ISR_QUEUE);
	assert_int_equal(vio_pci_dev_isr(r.pci), 0);
	assert_false(r.line);
	assert_false(cr(&r, VIO_PCI_CFG_STATUS, 2) & VIO_PCI_STATUS_INTERRUPT);
	assert_int_equal(br(&r, VIO_PCI_DEV_ISR_OFFSET, 1), 0);

	/* Configuration change: bit 1; both bits in one read; 32-bit read. */
	unsigned char x = 1;
	assert_int_equal(vio_device_config_update(r.dev, 0, &x, 1), 0);
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_true(r.line);
	assert_int_equal(br(&r, VIO_PCI_DEV_ISR_OFFSET, 4), 3);
	assert_false(r.line);
	uint64_t v = 1;
	assert_int_equal(brr(&r, VIO_PCI_DEV_ISR_OFFSET, 8, &v), -VIO_EREG);
	assert_int_equal(v, 0);
	assert_int_equal(brr(&r, VIO_PCI_DEV_ISR_OFFSET + 1, 1, &v), -VIO_EREG);

	/* Interrupt Disable keeps INTx# low while the ISR is set, and the line
	 * comes back when it is cleared. */
	assert_int_equal(cw(&r, VIO_PCI_CFG_COMMAND, VIO_PCI_COMMAND_INTX_DISABLE, 2), 0);
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(vio_pci_dev_isr(r.pci), VIO_PCI_ISR_QUEUE);
	assert_false(r.line);
	assert_true(cr(&r, VIO_PCI_CFG_STATUS, 2) & VIO_PCI_STATUS_INTERRUPT);
	assert_int_equal(cw(&r, VIO_PCI_CFG_COMMAND, 0, 2), 0);
	assert_true(r.line);
	assert_int_equal(br(&r, VIO_PCI_DEV_ISR_OFFSET, 2), 1);
	assert_false(r.line);
	pr_fini(&r);

	/* No INTx# pin: ISR bits only, the callback never called. */
	struct vio_pci_dev_config c = {0};
	c.no_intx = true;
	c.msix_vectors = 1;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, &c);
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(vio_pci_dev_isr(r.pci), 1);
	pr_msix_ctrl(&r, VIO_PCI_MSIX_FLAGS_ENABLE);
	pr_msix_ctrl(&r, 0);
	assert_int_equal(cw(&r, VIO_PCI_CFG_COMMAND, VIO_PCI_COMMAND_INTX_DISABLE, 2), 0);
	assert_int_equal(br(&r, VIO_PCI_DEV_ISR_OFFSET, 1), 1);
	vio_pci_dev_reset(r.pci);
	assert_int_equal(r.line_calls, 0);
	assert_false(vio_pci_dev_irq_level(r.pci));
	pr_fini(&r);
}

static void test_pci_dev_msix_vectors(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 2, 8, &(struct vio_features){{0}}, NULL); /* 4 vectors */
	/* §4.1.5.1.2: in range stored, beyond the table NO_VECTOR. */
	assert_int_equal(W16(&r, MSIX, 3), 0);
	assert_int_equal(C16(&r, MSIX), 3);
	assert_int_equal(W16(&r, MSIX, 4), -VIO_EVECTOR);
	assert_int_equal(C16(&r, MSIX), VIO_PCI_MSI_NO_VECTOR);
	assert_int_equal(W16(&r, MSIX, 0x7ff), -VIO_EVECTOR);
	assert_int_equal(C16(&r, MSIX), VIO_PCI_MSI_NO_VECTOR);
	assert_int_equal(W16(&r, MSIX, 0), 0);
	assert_int_equal(W16(&r, MSIX, VIO_PCI_MSI_NO_VECTOR), 0);
	assert_int_equal(C16(&r, MSIX), VIO_PCI_MSI_NO_VECTOR);
	for (uint16_t q = 0; q < 2; q++) {
		assert_int_equal(W16(&r, Q_SELECT, q), 0);
		assert_int_equal(W16(&r, Q_MSIX, q + 1u), 0);
		assert_int_equal(C16(&r, Q_MSIX), q + 1u);
	}
	assert_int_equal(W16(&r, Q_MSIX, 9), -VIO_EVECTOR);
	assert_int_equal(C16(&r, Q_MSIX), VIO_PCI_MSI_NO_VECTOR);
	assert_int_equal(W16(&r, Q_SELECT, 0), 0);
	assert_int_equal(C16(&r, Q_MSIX), 1); /* other queue untouched */
	pr_fini(&r);

	/* Without an MSI-X capability every mapping fails. */
	struct vio_pci_dev_config c = {0};
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, &c);
	assert_int_equal(W16(&r, MSIX, 0), -VIO_EVECTOR);
	assert_int_equal(C16(&r, MSIX), VIO_PCI_MSI_NO_VECTOR);
	assert_int_equal(W16(&r, Q_MSIX, 0), -VIO_EVECTOR);
	assert_int_equal(C16(&r, Q_MSIX), VIO_PCI_MSI_NO_VECTOR);
	assert_false(vio_pci_dev_msix_enabled(r.pci));
	assert_false(vio_pci_dev_msix_pending(r.pci, 0));
	assert_int_equal(cw(&r, 0x98, 0x80000000u, 4), -VIO_EREG); /* no capability there */
	uint64_t v;
	assert_int_equal(brr(&r, r.l.bar_size - 8, 4, &v), -VIO_EREG);
	pr_fini(&r);
}

static void test_pci_dev_msix_masking(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 2, 8, &(struct vio_features){{0}}, NULL); /* 4 vectors */
	uint64_t t = r.l.msix_table_offset, pba = r.l.msix_pba_offset;
	/* PCI 3.0 §6.8.2.9: entries masked at reset. */
	for (uint16_t v = 0; v < 4; v++) {
		assert_int_equal(br(&r, t + 16u * v + VIO_PCI_MSIX_ENTRY_VECTOR_CTRL, 4), 1);
		assert_int_equal(br(&r, t + 16u * v, 8), 0);
	}
	assert_int_equal(br(&r, pba, 8), 0);
	for (uint16_t v = 0; v < 4; v++)
		pr_msix_entry(&r, v, v != 2); /* vector 2 stays masked */
	/* Fields: address bits 1:0 read 0, reserved control bits read 0; QWORD
	 * accesses. */
	assert_int_equal(bw(&r, t + 16 * 3, 0xfee00007u, 4), 0);
	assert_int_equal(br(&r, t + 16 * 3, 4), 0xfee00004u);
	assert_int_equal(bw(&r, t + 16 * 3 + 8, 0xfffffffe00000103ull, 8), 0);
	assert_int_equal(br(&r, t + 16 * 3 + 12, 4), 0);
	assert_int_equal(br(&r, t + 16 * 3 + 8, 8), 0x103);
	assert_int_equal(bw(&r, t + 16 * 3, 0x00000001fee00030ull, 8), 0);
	assert_int_equal(br(&r, t + 16 * 3 + 4, 4), 1);
	/* Wrong widths, the PBA's read-only bits. */
	uint64_t v = 1;
	assert_int_equal(brr(&r, t + 2, 2, &v), -VIO_EREG);
	assert_int_equal(v, 0);
	assert_int_equal(brr(&r, t + 4, 8, &v), -VIO_EREG);
	assert_int_equal(bw(&r, t, 1, 1), -VIO_EREG);
	assert_int_equal(bw(&r, pba, 0xf, 8), -VIO_EREG);
	assert_int_equal(brr(&r, t + 16 * 4, 4, &v), -VIO_EREG); /* past the table */
	assert_int_equal(brr(&r, pba + 8, 4, &v), -VIO_EREG);	 /* past the PBA */

	struct vio_features w = v1();
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	assert_int_equal(W16(&r, MSIX, 0), 0);
	assert_int_equal(W16(&r, Q_SELECT, 0), 0);
	assert_int_equal(W16(&r, Q_MSIX, 1), 0);
	assert_int_equal(W16(&r, Q_SELECT, 1), 0);
	assert_int_equal(W16(&r, Q_MSIX, 2), 0);

	/* MSI-X still disabled: INTx# and the ISR. */
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(r.nmsi, 0);
	assert_true(r.line);
	/* Enabling MSI-X takes INTx# down (the ISR keeps its bit). */
	pr_msix_ctrl(&r, VIO_PCI_MSIX_FLAGS_ENABLE);
	assert_true(vio_pci_dev_msix_enabled(&*r.pci));
	assert_false(r.line);
	assert_false(cr(&r, VIO_PCI_CFG_STATUS, 2) & VIO_PCI_STATUS_INTERRUPT);
	assert_int_equal(br(&r, VIO_PCI_DEV_ISR_OFFSET, 1), 1);

	/* Queue 0 → vector 1: one message with its address and data. */
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(r.nmsi, 1);
	assert_int_equal(r.msi_vec[0], 1);
	assert_int_equal(r.msi_addr[0], 0xfee00010u);
	assert_int_equal(r.msi_data[0], 0x101);
	assert_int_equal(vio_pci_dev_isr(r.pci), 0); /* no ISR bit for queues */
	assert_false(r.line);

	/* Queue 1 → vector 2, masked: Pending, no message (PCI 3.0 §6.8.3.4). */
	assert_int_equal(pr_submit(&r, 1, 8), 0);
	assert_int_equal(r.nmsi, 1);
	assert_true(vio_pci_dev_msix_pending(r.pci, 2));
	assert_int_equal(br(&r, pba, 8), 1u << 2);
	assert_int_equal(br(&r, pba, 4), 1u << 2);
	assert_int_equal(pr_submit(&r, 1, 8), 0); /* coalesces */
	/* Unmask: delivered once, Pending clear. */
	assert_int_equal(bw(&r, t + 16 * 2 + VIO_PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4), 0);
	assert_int_equal(r.nmsi, 2);
	assert_int_equal(r.msi_vec[1], 2);
	assert_int_equal(r.msi_data[1], 0x102);
	assert_false(vio_pci_dev_msix_pending(r.pci, 2));
	assert_int_equal(bw(&r, t + 16 * 2 + VIO_PCI_MSIX_ENTRY_VECTOR_CTRL, 0, 4), 0);
	assert_int_equal(r.nmsi, 2);

	/* Function Mask: everything pends, clearing it delivers each once. */
	pr_msix_ctrl(&r, VIO_PCI_MSIX_FLAGS_ENABLE | VIO_PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(cr(&r, 0x98 + VIO_PCI_MSIX_FLAGS, 2), 0xc003);
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(pr_submit(&r, 1, 8), 0);
	unsigned char x = 2;
	assert_int_equal(vio_device_config_update(r.dev, 0, &x, 1), 0);
	assert_int_equal(r.nmsi, 2);
	assert_int_equal(br(&r, pba, 8), 0x7);
	pr_msix_ctrl(&r, VIO_PCI_MSIX_FLAGS_ENABLE);
	assert_int_equal(r.nmsi, 5);
	assert_int_equal(r.msi_vec[2] + r.msi_vec[3] + r.msi_vec[4], 0 + 1 + 2);
	assert_int_equal(br(&r, pba, 8), 0);
	/* Byte-wise Message Control writes (upper byte only). */
	assert_int_equal(cw(&r, 0x98 + 3, 0xc0, 1), 0);
	assert_int_equal(cr(&r, 0x98 + VIO_PCI_MSIX_FLAGS, 2), 0xc003);
	assert_int_equal(cw(&r, 0x98 + 3, 0x80, 1), 0);
	assert_int_equal(cw(&r, 0x98, 0x11, 1), -VIO_EREG); /* the header byte */

	/* NO_VECTOR: nothing at all (§4.1.5.3.1). */
	assert_int_equal(W16(&r, Q_SELECT, 0), 0);
	assert_int_equal(W16(&r, Q_MSIX, VIO_PCI_MSI_NO_VECTOR), 0);
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(r.nmsi, 5);
	assert_int_equal(br(&r, pba, 8), 0);
	assert_false(r.line);
	/* Config change with MSI-X: the ISR config bit is set, a message goes
	 * to the config vector (§4.1.4.5.1, §4.1.5.4). */
	(void)br(&r, VIO_PCI_DEV_ISR_OFFSET, 1);
	assert_int_equal(vio_device_config_update(r.dev, 0, &x, 1), 0);
	assert_int_equal(r.nmsi, 6);
	assert_int_equal(r.msi_vec[5], 0);
	assert_int_equal(vio_pci_dev_isr(r.pci), VIO_PCI_ISR_CONFIG);
	assert_false(r.line);

	/* Disabling MSI-X: back to INTx#; pending bits stay for the next enable. */
	assert_int_equal(bw(&r, t + VIO_PCI_MSIX_ENTRY_VECTOR_CTRL, 1, 4), 0);
	assert_int_equal(vio_device_config_update(r.dev, 0, &x, 1), 0);
	assert_true(vio_pci_dev_msix_pending(r.pci, 0));
	pr_msix_ctrl(&r, 0);
	assert_true(r.line); /* the ISR config bit */
	assert_int_equal(br(&r, VIO_PCI_DEV_ISR_OFFSET, 1), VIO_PCI_ISR_CONFIG);
	assert_int_equal(W16(&r, Q_MSIX, 1), 0);
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(r.nmsi, 6);
	assert_int_equal(vio_pci_dev_isr(r.pci), VIO_PCI_ISR_QUEUE);
	assert_true(vio_pci_dev_msix_pending(r.pci, 0));
	/* Reset forgets pending messages and unmaps the vectors. */
	assert_int_equal(W8(&r, STATUS, 0), 0);
	assert_false(vio_pci_dev_msix_pending(r.pci, 0));
	assert_int_equal(C16(&r, MSIX), VIO_PCI_MSI_NO_VECTOR);
	pr_fini(&r);
}

/* ==== Queue reset and notifications ============================================ */

static void test_pci_dev_queue_reset(void **state)
{
	(void)state;
	struct prig r;
	static const unsigned fb[] = {VIO_F_RING_RESET};
	struct vio_features f = feats(fb, 1);
	pr_init(&r, 2, 16, &f, NULL);
	struct vio_features w = v1();
	vio_features_set(&w, VIO_F_RING_RESET);
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	assert_int_equal(W16(&r, Q_SELECT, 1), 0);
	assert_int_equal(W16(&r, Q_MSIX, 3), 0);
	assert_int_equal(pr_submit(&r, 1, 8), 0);
	assert_int_equal(r.served, 1);
	assert_int_equal(C16(&r, Q_RESET), 0);
	assert_int_equal(W16(&r, Q_RESET, 2), -VIO_EREG);
	assert_int_equal(W16(&r, Q_RESET, 0), 0);
	assert_int_equal(C16(&r, Q_ENABLE), 1);
	/* §4.1.4.3.1: reset completes; queue_reset and queue_enable read 0,
	 * the queue's fields are back to their defaults. */
	assert_int_equal(W16(&r, Q_RESET, 1), 0);
	assert_int_equal(r.queue_stops, 1);
	assert_int_equal(C16(&r, Q_RESET), 0);
	assert_int_equal(C16(&r, Q_ENABLE), 0);
	assert_int_equal(C16(&r, Q_SIZE), 16);
	assert_int_equal(C16(&r, Q_MSIX), VIO_PCI_MSI_NO_VECTOR);
	assert_int_equal(C32(&r, Q_DESCLO), 0);
	assert_null(vio_device_queue(r.dev, 1));
	assert_int_equal(C8(&r, STATUS), 15); /* the device stays live */
	/* A notification for the reset queue is dropped. */
	assert_int_equal(bw(&r, vio_pci_dev_notify_offset(r.pci, 1), 1, 2), -VIO_EQUEUE_STATE);
	/* Queue 0 still works; queue 1 can be re-enabled and used. */
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(r.served, 2);
	assert_int_equal(pr_queue_setup(&r, 1, 4), 0);
	assert_int_equal(C16(&r, Q_ENABLE), 1);
	assert_int_equal(C16(&r, Q_RESET), 0);
	assert_int_equal(pr_submit(&r, 1, 8), 0);
	assert_int_equal(r.served, 3);
	pr_fini(&r);

	/* Without RING_RESET negotiated: refused, nothing happens. */
	pr_init(&r, 1, 16, &f, NULL);
	w = v1();
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	assert_int_equal(W16(&r, Q_RESET, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(C16(&r, Q_ENABLE), 1);
	assert_int_equal(r.queue_stops, 0);
	pr_fini(&r);
}

static void test_pci_dev_notify(void **state)
{
	(void)state;
	struct prig r;
	static const unsigned fb[] = {VIO_F_NOTIFICATION_DATA, VIO_F_RING_PACKED};
	struct vio_features f = feats(fb, 2);
	pr_init(&r, 3, 16, &f, NULL);
	struct vio_features w = v1();
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	uint32_t n2 = vio_pci_dev_notify_offset(r.pci, 2);
	assert_int_equal(n2, VIO_PCI_DEV_NOTIFY_OFFSET + 8);
	assert_int_equal(vio_pci_dev_notify_offset(r.pci, 3), 0);
	/* §4.1.5.2 without NOTIFICATION_DATA: the 16-bit index at the queue's
	 * address; the value goes to the model as the index. */
	assert_int_equal(bw(&r, n2, 2, 2), 0);
	assert_int_equal(r.notifies, 1);
	assert_int_equal(r.last_q, 2);
	assert_int_equal(r.last_data, 2);
	assert_int_equal(bw(&r, n2, 2, 4), 0); /* 32 bits of the same value */
	assert_int_equal(r.notifies, 2);
	/* Wrong value, width or address: refused, not delivered. */
	assert_int_equal(bw(&r, n2, 1, 2), -VIO_EREG);
	assert_int_equal(bw(&r, n2, 2, 1), -VIO_EREG);
	assert_int_equal(bw(&r, n2, 2, 8), -VIO_EREG);
	assert_int_equal(bw(&r, n2 + 2, 2, 2), -VIO_EREG);
	assert_int_equal(bw(&r, n2 + 4, 3, 2), -VIO_EREG); /* beyond the last queue */
	assert_int_equal(bw(&r, n2 - 4, 2, 2), -VIO_EREG); /* queue 1's address, index 2 */
	uint64_t v = 1;
	assert_int_equal(brr(&r, n2, 2, &v), -VIO_EREG); /* write-only */
	assert_int_equal(v, 0);
	assert_int_equal(r.notifies, 2);
	/* Data round trip: a buffer served through a kick at queue 1's address. */
	assert_int_equal(pr_submit(&r, 1, 8), 0);
	assert_int_equal(r.served, 1);
	assert_int_equal(r.last_q, 1);
	/* Before DRIVER_OK: dropped. */
	assert_int_equal(W8(&r, STATUS, 0), 0);
	assert_int_equal(bw(&r, n2, 2, 2), -VIO_EQUEUE_STATE);
	assert_int_equal(r.notifies, 3);

	/* With NOTIFICATION_DATA (packed ring): a 32-bit value whose vq_index
	 * is the queue; the whole value reaches the model. */
	w = v1();
	vio_features_set(&w, VIO_F_NOTIFICATION_DATA);
	vio_features_set(&w, VIO_F_RING_PACKED);
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	uint32_t nd = vio_notify_data_make(2, 5, true);
	assert_int_equal(bw(&r, n2, nd, 4), 0);
	assert_int_equal(r.last_q, 2);
	assert_int_equal(r.last_data, nd);
	unsigned before = r.notifies;
	assert_int_equal(bw(&r, n2, 2, 2), -VIO_EREG); /* 16 bits carry no position */
	assert_int_equal(bw(&r, n2, vio_notify_data_make(1, 5, true), 4), -VIO_EREG);
	assert_int_equal(r.notifies, before);
	assert_int_equal(pr_submit(&r, 0, 8), 0);
	assert_int_equal(r.last_q, 0);
	assert_int_equal(r.last_data, vio_vq_notify_data(r.vq[0]));
	assert_int_equal(r.served, 2);
	pr_fini(&r);
}

static void test_pci_dev_traffic_both_formats(void **state)
{
	(void)state;
	for (unsigned packed = 0; packed < 2; packed++) {
		struct prig r;
		static const unsigned fb[] = {VIO_F_RING_PACKED, VIO_F_EVENT_IDX,
					      VIO_F_NOTIFICATION_DATA};
		struct vio_features f = feats(fb, 3);
		pr_init(&r, 2, 32, &f, NULL);
		struct vio_features w = v1();
		vio_features_set(&w, VIO_F_EVENT_IDX);
		if (packed)
			vio_features_set(&w, VIO_F_RING_PACKED);
		for (uint16_t v = 0; v < 3; v++)
			pr_msix_entry(&r, v, true);
		pr_msix_ctrl(&r, VIO_PCI_MSIX_FLAGS_ENABLE);
		assert_int_equal(pr_bringup(&r, &w, 16), 15);
		for (uint16_t q = 0; q < 2; q++) {
			assert_int_equal(W16(&r, Q_SELECT, q), 0);
			assert_int_equal(W16(&r, Q_MSIX, q + 1u), 0);
		}
		for (unsigned i = 0; i < 40; i++) {
			uint16_t q = (uint16_t)(i % 2);
			unsigned msis = r.nmsi;
			assert_int_equal(pr_submit(&r, q, 16 + i), 0);
			void *tok;
			uint32_t len;
			assert_int_equal(vio_vq_get(r.vq[q], &tok, &len), 0);
			assert_int_equal(len, 16 + i);
			for (uint32_t k = 0; k < len; k++)
				assert_int_equal(((unsigned char *)tok)[k], (PR_FILL + k) & 0xff);
			/* EVENT_IDX: the driver's used_event asks for each one. */
			assert_int_equal(r.nmsi, msis + 1);
			assert_int_equal(r.msi_vec[(r.nmsi - 1) % 64], q + 1u);
			r.data_used = 0;
		}
		assert_int_equal(r.served, 40);
		assert_int_equal(vio_pci_dev_isr(r.pci), 0);
		pr_fini(&r);
	}
}

/* ==== PCI configuration access (§4.1.4.9) ====================================== */

static int win_set(struct prig *r, uint8_t bar, uint32_t off, uint32_t len)
{
	int rc = cw(r, 0x84 + VIO_PCI_CAP_OFF_BAR, bar, 1);
	rc |= cw(r, 0x84 + VIO_PCI_CAP_OFF_OFFSET, off, 4);
	rc |= cw(r, 0x84 + VIO_PCI_CAP_OFF_LENGTH, len, 4);
	return rc;
}

static void test_pci_dev_pci_cfg_access(void **state)
{
	(void)state;
	struct prig r;
	struct vio_pci_dev_config c = {0};
	c.bar = 2;
	c.msix_vectors = 2;
	pr_init(&r, 2, 8, &(struct vio_features){{0}}, &c);
	struct found fd;
	walk(&r, &fd);
	assert_int_equal(fd.at[VIO_PCI_CAP_PCI_CFG], 0x84);
	uint32_t data = 0x84 + VIO_PCI_CFG_CAP_DATA;
	/* The fields are read-write. */
	assert_int_equal(win_set(&r, 2, VIO_PCI_COMMON_NUMQ, 2), 0);
	assert_int_equal(cr(&r, 0x84 + VIO_PCI_CAP_OFF_BAR, 1), 2);
	assert_int_equal(cr(&r, 0x84 + VIO_PCI_CAP_OFF_OFFSET, 4), VIO_PCI_COMMON_NUMQ);
	assert_int_equal(cr(&r, 0x84 + VIO_PCI_CAP_OFF_LENGTH, 4), 2);
	assert_int_equal(cr(&r, 0x84, 4) & 0xff00ffffu,
			 VIO_PCI_CAP_ID_VNDR | 0x98u << 8 | (uint32_t)VIO_PCI_CAP_PCI_CFG << 24);
	/* Reads go through the model: num_queues. */
	assert_int_equal(cr(&r, data, 4) & 0xffff, 2);
	assert_int_equal(cr(&r, data, 2), 2);
	/* Writes too: device_status. */
	assert_int_equal(win_set(&r, 2, VIO_PCI_COMMON_STATUS, 1), 0);
	assert_int_equal(cw(&r, data, VIO_STATUS_ACKNOWLEDGE, 1), 0);
	assert_int_equal(C8(&r, STATUS), VIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(cr(&r, data, 1), VIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(cw(&r, data, 0x3, 4), 0); /* first cap.length bytes */
	assert_int_equal(C8(&r, STATUS), 3);
	/* A refused BAR access reports the model's code. */
	assert_int_equal(cw(&r, data, 0x1, 1), -VIO_ESTATUS);
	assert_int_equal(C8(&r, STATUS), 3);
	/* 32 bits: device_feature_select round trip. */
	assert_int_equal(win_set(&r, 2, VIO_PCI_COMMON_DFSELECT, 4), 0);
	assert_int_equal(cw(&r, data, 1, 4), 0);
	assert_int_equal(C32(&r, DFSELECT), 1);
	assert_int_equal(win_set(&r, 2, VIO_PCI_COMMON_DF, 4), 0);
	assert_int_equal(cr(&r, data, 4), 1u << (VIO_F_VERSION_1 - 32));
	/* The device configuration and the MSI-X table. */
	assert_int_equal(win_set(&r, 2, VIO_PCI_DEV_DEVICE_OFFSET + 4, 4), 0);
	assert_int_equal(cr(&r, data, 4), 0xa7a6a5a4u);
	assert_int_equal(win_set(&r, 2, r.l.msix_table_offset + 8, 4), 0);
	assert_int_equal(cw(&r, data, 0x4321, 4), 0);
	assert_int_equal(br(&r, r.l.msix_table_offset + 8, 4), 0x4321);
	/* The ISR read through the window clears it. */
	struct vio_features w = v1();
	assert_int_equal(pr_bringup(&r, &w, 4), 15);
	assert_int_equal(pr_submit(&r, 0, 4), 0);
	assert_true(r.line);
	assert_int_equal(win_set(&r, 2, VIO_PCI_DEV_ISR_OFFSET, 1), 0);
	assert_int_equal(cr(&r, data, 1), 1);
	assert_false(r.line);
	assert_int_equal(cr(&r, data, 1), 0);
	/* A notification through the window. */
	unsigned n = r.notifies;
	assert_int_equal(win_set(&r, 2, vio_pci_dev_notify_offset(r.pci, 1), 2), 0);
	assert_int_equal(cw(&r, data, 1, 2), 0);
	assert_int_equal(r.notifies, n + 1);
	assert_int_equal(r.last_q, 1);

	/* Invalid windows: 0 and VIO_EREG, nothing touched. */
	uint32_t v = 1;
	static const struct {
		uint8_t bar;
		uint32_t off, len;
	} bad[] = {{2, VIO_PCI_COMMON_STATUS, 3},
		   {2, VIO_PCI_COMMON_STATUS, 0},
		   {2, VIO_PCI_COMMON_NUMQ + 1, 2},
		   {2, VIO_PCI_COMMON_DF + 2, 4},
		   {0, VIO_PCI_COMMON_STATUS, 1},
		   {3, VIO_PCI_COMMON_STATUS, 1},
		   {2, 0x80000000u, 4},
		   {2, 0xfffffffcu, 4},
		   {2, VIO_PCI_COMMON_STATUS, 8},
		   {0xff, 0, 1}};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(win_set(&r, bad[i].bar, bad[i].off, bad[i].len), 0);
		v = 1;
		assert_int_equal(vio_pci_dev_cfg_read(r.pci, data, 4, &v), -VIO_EREG);
		assert_int_equal(v, 0);
		assert_int_equal(cw(&r, data, 0, 4), -VIO_EREG);
	}
	assert_int_equal(C8(&r, STATUS), 15);
	pr_fini(&r);
}

/* ==== Save / restore and function reset ======================================== */

static void test_pci_dev_save_restore(void **state)
{
	(void)state;
	struct prig a, b;
	static const unsigned fb[] = {VIO_F_RING_PACKED, VIO_F_EVENT_IDX};
	struct vio_features f = feats(fb, 2);
	pr_init(&a, 2, 16, &f, NULL);
	pr_init_mem(&b, 2, 16, &f, NULL, &a.gm);
	/* PCI state: BAR, command, interrupt line, MSI-X programmed. */
	assert_int_equal(cw(&a, VIO_PCI_CFG_BAR0, 0xfebf0000u & (uint32_t) ~(a.l.bar_size - 1), 4),
			 0);
	assert_int_equal(cw(&a, VIO_PCI_CFG_BAR0 + 4, 0x1, 4), 0);
	assert_int_equal(cw(&a, VIO_PCI_CFG_COMMAND, 0x0406, 2), 0);
	assert_int_equal(cw(&a, VIO_PCI_CFG_INTERRUPT_LINE, 10, 1), 0);
	for (uint16_t v = 0; v < 4; v++)
		pr_msix_entry(&a, v, v != 1);
	pr_msix_ctrl(&a, VIO_PCI_MSIX_FLAGS_ENABLE);
	struct vio_features w = v1();
	vio_features_set(&w, VIO_F_RING_PACKED);
	assert_int_equal(pr_bringup(&a, &w, 8), 15);
	assert_int_equal(W16(&a, MSIX, 3), 0);
	assert_int_equal(W16(&a, Q_SELECT, 0), 0);
	assert_int_equal(W16(&a, Q_MSIX, 1), 0); /* masked vector */
	assert_int_equal(pr_submit(&a, 0, 8), 0);
	assert_true(vio_pci_dev_msix_pending(a.pci, 1));
	assert_int_equal(win_set(&a, 0, VIO_PCI_COMMON_NUMQ, 2), 0);
	assert_int_equal(W16(&a, Q_SELECT, 1), 0);
	uint8_t gen = C8(&a, CFGGENERATION);

	size_t n = vio_pci_dev_state_size(a.pci);
	assert_true(n > vio_device_state_size(a.dev));
	unsigned char *blob = malloc(n), *blob2 = malloc(n);
	assert_int_equal(vio_pci_dev_save(a.pci, blob, n - 1), -VIO_ENOSPC);
	assert_int_equal(vio_pci_dev_save(a.pci, NULL, n), -VIO_ENOSPC);
	assert_int_equal(vio_pci_dev_save(a.pci, blob, n), 0);

	assert_int_equal(vio_pci_dev_restore(b.pci, blob, n), 0);
	assert_int_equal(vio_pci_dev_save(b.pci, blob2, n), 0);
	assert_memory_equal(blob, blob2, n);
	/* Everything the guest sees is the same. */
	for (uint32_t off = 0; off < 256; off += 4)
		if (off != 0x84 + VIO_PCI_CFG_CAP_DATA)
			assert_int_equal(cr(&a, off, 4), cr(&b, off, 4));
	assert_int_equal(vio_pci_dev_bar_address(b.pci), 0x1febf0000ull & ~(a.l.bar_size - 1));
	assert_int_equal(vio_pci_dev_command(b.pci), 0x0406);
	assert_int_equal(C8(&b, STATUS), 15);
	assert_int_equal(C16(&b, Q_SELECT), 1);
	assert_int_equal(C16(&b, MSIX), 3);
	assert_int_equal(C8(&b, CFGGENERATION), gen);
	for (uint64_t off = a.l.msix_table_offset; off < a.l.msix_table_offset + 64; off += 4)
		assert_int_equal(br(&a, off, 4), br(&b, off, 4));
	assert_true(vio_pci_dev_msix_pending(b.pci, 1));
	assert_int_equal(cr(&b, 0x84 + VIO_PCI_CFG_CAP_DATA, 2), 2);
	/* The restored device works: unmasking delivers the pending message on
	 * the new side; the driver's queue continues there. */
	assert_int_equal(bw(&b, b.l.msix_table_offset + 16 + 12, 0, 4), 0);
	assert_int_equal(b.nmsi, 1);
	assert_int_equal(b.msi_vec[0], 1);
	assert_int_equal(b.msi_data[0], 0x101);
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(a.vq[0], &tok, &len), 0); /* served before the save */

	/* Malformed blobs: refused, the target left reset. */
	memcpy(blob2, blob, n);
	blob2[0] ^= 1;
	assert_int_equal(vio_pci_dev_restore(b.pci, blob2, n), -VIO_ESTATE_BLOB);
	assert_int_equal(C8(&b, STATUS), 0);
	assert_int_equal(vio_pci_dev_command(b.pci), 0);
	assert_false(vio_pci_dev_msix_enabled(b.pci));
	assert_int_equal(vio_pci_dev_restore(b.pci, blob, 10), -VIO_ESTATE_BLOB);
	assert_int_equal(vio_pci_dev_restore(b.pci, NULL, n), -VIO_ESTATE_BLOB);
	static const struct {
		size_t at;
		unsigned char x;
	} flips[] = {{8, 1},   /* vector count */
		     {10, 2},  /* BAR index */
		     {27, 4},  /* ISR bit 2 */
		     {13, 8},  /* command bit 11 */
		     {16, 1},  /* BAR address below its size */
		     {25, 1},  /* MSI-X control bit 8 */
		     {56, 1},  /* table: address bit 0 */
		     {68, 2}}; /* table: control bit 1 */
	for (unsigned i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(blob2, blob, n);
		blob2[flips[i].at] ^= flips[i].x;
		assert_int_equal(vio_pci_dev_restore(b.pci, blob2, n), -VIO_ESTATE_BLOB);
		assert_int_equal(C8(&b, STATUS), 0);
	}
	/* A pending bit beyond the table (4 vectors). */
	memcpy(blob2, blob, n);
	blob2[56 + 64] |= 0x10;
	assert_int_equal(vio_pci_dev_restore(b.pci, blob2, n), -VIO_ESTATE_BLOB);
	/* A device state whose config vector is beyond the table. */
	memcpy(blob2, blob, n);
	size_t core = 56 + 64 + 8;
	blob2[core + 28] = 9;
	blob2[core + 29] = 0;
	assert_int_equal(vio_pci_dev_restore(b.pci, blob2, n), -VIO_ESTATE_BLOB);
	assert_int_equal(C8(&b, STATUS), 0);
	/* And the good one still restores. */
	assert_int_equal(vio_pci_dev_restore(b.pci, blob, n), 0);
	assert_int_equal(C8(&b, STATUS), 15);
	free(blob);
	free(blob2);
	pr_fini(&a);
	pr_fini(&b);
}

static void test_pci_dev_function_reset(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, NULL);
	assert_int_equal(cw(&r, VIO_PCI_CFG_BAR0, 0xffffffffu, 4), 0);
	assert_int_equal(cw(&r, VIO_PCI_CFG_COMMAND, 0x6, 2), 0);
	assert_int_equal(cw(&r, VIO_PCI_CFG_INTERRUPT_LINE, 5, 1), 0);
	pr_msix_entry(&r, 0, true);
	pr_msix_ctrl(&r, VIO_PCI_MSIX_FLAGS_ENABLE | VIO_PCI_MSIX_FLAGS_MASKALL);
	assert_int_equal(win_set(&r, 0, 4, 4), 0);
	struct vio_features w = v1();
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	assert_int_equal(W16(&r, MSIX, 0), 0);
	unsigned char x = 1;
	assert_int_equal(vio_device_config_update(r.dev, 0, &x, 1), 0);
	assert_true(vio_pci_dev_msix_pending(r.pci, 0));

	vio_pci_dev_reset(r.pci);
	assert_int_equal(C8(&r, STATUS), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_BAR0, 4), VIO_PCI_BAR_MEM_TYPE_64);
	assert_int_equal(vio_pci_dev_bar_address(r.pci), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_COMMAND, 2), 0);
	assert_int_equal(cr(&r, VIO_PCI_CFG_INTERRUPT_LINE, 1), 0);
	assert_int_equal(cr(&r, 0x98 + VIO_PCI_MSIX_FLAGS, 2), 3);
	assert_int_equal(br(&r, r.l.msix_table_offset, 8), 0);
	assert_int_equal(br(&r, r.l.msix_table_offset + 12, 4), 1);
	assert_false(vio_pci_dev_msix_pending(r.pci, 0));
	assert_int_equal(cr(&r, 0x84 + VIO_PCI_CAP_OFF_OFFSET, 4), 0);
	assert_int_equal(vio_pci_dev_isr(r.pci), 0);
	assert_false(r.line);
	assert_int_equal(r.nmsi, 0);
	pr_fini(&r);
}

/* ==== Threads: a queue thread's interrupts against the control thread ========= */

#define RACE_ROUNDS 20000

static void *race_fire(void *arg)
{
	struct prig *r = arg;
	for (unsigned i = 0; i < RACE_ROUNDS; i++)
		vio_device_queue_interrupt(r->dev, 0);
	return NULL;
}

static void test_pci_dev_interrupt_races(void **state)
{
	(void)state;
	struct prig r;
	pr_init(&r, 1, 8, &(struct vio_features){{0}}, NULL);
	struct vio_features w = v1();
	assert_int_equal(pr_bringup(&r, &w, 8), 15);
	assert_int_equal(W16(&r, Q_SELECT, 0), 0);
	assert_int_equal(W16(&r, Q_MSIX, 1), 0);
	pr_msix_entry(&r, 1, true);
	pr_msix_ctrl(&r, VIO_PCI_MSIX_FLAGS_ENABLE);
	r.racy = true;

	/* MSI-X: the control thread masks and unmasks the vector while the
	 * queue thread fires it. No firing is lost: once unmasked for good,
	 * nothing is pending; at most one message per firing. */
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, race_fire, &r), 0);
	uint64_t ctrl = r.l.msix_table_offset + 16 + VIO_PCI_MSIX_ENTRY_VECTOR_CTRL;
	for (unsigned i = 0; i < RACE_ROUNDS; i++)
		assert_int_equal(bw(&r, ctrl, i & 1u, 4), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(bw(&r, ctrl, 0, 4), 0);
	unsigned sent = atomic_load(&r.amsi);
	assert_false(vio_pci_dev_msix_pending(r.pci, 1));
	assert_true(sent >= 1 && sent <= RACE_ROUNDS);

	/* INTx#: the control thread reads (clears) the ISR while the queue
	 * thread raises it; the line ends matching the ISR. */
	pr_msix_ctrl(&r, 0);
	assert_int_equal(pthread_create(&t, NULL, race_fire, &r), 0);
	for (unsigned i = 0; i < RACE_ROUNDS; i++)
		(void)br(&r, VIO_PCI_DEV_ISR_OFFSET, 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(atomic_load(&r.aline), vio_pci_dev_isr(r.pci) != 0);
	(void)br(&r, VIO_PCI_DEV_ISR_OFFSET, 1);
	assert_false(atomic_load(&r.aline));
	assert_false(vio_pci_dev_irq_level(r.pci));
	pr_fini(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_dev_vmm_blk_wiring),
		cmocka_unit_test(test_pci_dev_init_rejects),
		cmocka_unit_test(test_pci_dev_cfg_header_identity),
		cmocka_unit_test(test_pci_dev_bar_sizing),
		cmocka_unit_test(test_pci_dev_cap_walk),
		cmocka_unit_test(test_pci_dev_common_fields),
		cmocka_unit_test(test_pci_dev_out_of_range_queue),
		cmocka_unit_test(test_pci_dev_feature_windows),
		cmocka_unit_test(test_pci_dev_status_machine),
		cmocka_unit_test(test_pci_dev_reset_from_every_state),
		cmocka_unit_test(test_pci_dev_device_config),
		cmocka_unit_test(test_pci_dev_config_generation),
		cmocka_unit_test(test_pci_dev_isr_read_to_clear),
		cmocka_unit_test(test_pci_dev_msix_vectors),
		cmocka_unit_test(test_pci_dev_msix_masking),
		cmocka_unit_test(test_pci_dev_queue_reset),
		cmocka_unit_test(test_pci_dev_notify),
		cmocka_unit_test(test_pci_dev_traffic_both_formats),
		cmocka_unit_test(test_pci_dev_pci_cfg_access),
		cmocka_unit_test(test_pci_dev_save_restore),
		cmocka_unit_test(test_pci_dev_function_reset),
		cmocka_unit_test(test_pci_dev_interrupt_races),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
