/* SPDX-License-Identifier: MIT */
/* virtio-pci modern register model (virtio 1.4 §4.1) over the device core:
 * init, the BAR's layout and its virtio structures (common configuration
 * §4.1.4.3, notifications §4.1.4.4, ISR §4.1.4.5, device configuration
 * §4.1.4.6), and the interrupt path from the core. Configuration space is
 * in pci_dev_cfg.c, MSI-X in pci_dev_msix.c, reset and save/restore in
 * pci_dev_state.c. */
#include "transport/pci_dev_impl.h"

#include <virtio/features.h>
#include <virtio/queue.h>
#include <virtio/spec.h>

_Static_assert(sizeof(struct vio_pci_dev) <= VIO__PCI_DEV_FIXED_BYTES,
	       "VIO__PCI_DEV_FIXED_BYTES (pci_dev.h) is too small");
_Static_assert(sizeof(struct vio__msix_entry) == 16, "an MSI-X entry is 16 bytes of memory");
_Static_assert(sizeof(atomic_uint) == 4, "pending bits are kept in 32-bit words");
_Static_assert(VIO__PCI_DEV_FIXED_BYTES % 8 == 0, "the table follows the struct");

#define PAGE 0x1000u
#define MAX_BAR_SIZE 0x80000000ull

static uint64_t page_round(uint64_t n)
{
	return (n + PAGE - 1) & ~(uint64_t)(PAGE - 1);
}

/* ---- Interrupts --------------------------------------------------------------- */

/* INTx# is asserted while the ISR is not 0, MSI-X is off and the command
 * register's Interrupt Disable is clear (§4.1.4.5.1; PCI 3.0 §6.2.2). */
static bool intx_wanted(const struct vio_pci_dev *p)
{
	struct vio_pci_dev *q = (struct vio_pci_dev *)p;
	if (p->intx_pin == 0)
		return false;
	if (atomic_load(&q->isr) == 0 || vio__pci_msix_on(p))
		return false;
	return (atomic_load_explicit(&q->command, memory_order_relaxed) &
		VIO_PCI_COMMAND_INTX_DISABLE) == 0;
}

/* Make the line follow the state; re-reads after each call so that of two
 * racing callers the last one leaves the line right (as mmio_dev.c). */
void vio__pci_sync_intx(struct vio_pci_dev *p)
{
	if (p->intx_pin == 0)
		return; /* no INTx#: the callback is never called */
	bool level = intx_wanted(p);
	for (;;) {
		atomic_store(&p->level, level);
		if (p->set_irq != NULL)
			p->set_irq(p->irq_ctx, level);
		bool now = intx_wanted(p);
		if (now == level)
			return;
		level = now;
	}
}

static void isr_raise(struct vio_pci_dev *p, unsigned bits)
{
	unsigned old = atomic_fetch_or(&p->isr, bits);
	if (old == 0)
		vio__pci_sync_intx(p);
}

static void t_interrupt(void *ctx, enum vio_device_irq kind, uint16_t queue)
{
	struct vio_pci_dev *p = ctx;
	/* §4.1.4.5.1: the configuration bit is set before every configuration
	 * change notification, whichever way it is sent. */
	if (kind == VIO_DEVICE_IRQ_CONFIG)
		isr_raise(p, VIO_PCI_ISR_CONFIG);
	if (vio__pci_msix_on(p)) {
		/* §4.1.5.3, §4.1.5.4: NO_VECTOR sends nothing. Stored vectors are
		 * inside the table (checked at the write and at restore). */
		uint16_t v = kind == VIO_DEVICE_IRQ_CONFIG ? vio_device_config_vector(p->dev)
							   : vio_device_queue_vector(p->dev, queue);
		if (v != VIO_DEVICE_NO_VECTOR && v < p->nvec)
			vio__pci_msix_fire(p, v);
		return;
	}
	if (kind == VIO_DEVICE_IRQ_QUEUE)
		isr_raise(p, VIO_PCI_ISR_QUEUE);
}

void vio__pci_virtio_regs_reset(struct vio_pci_dev *p)
{
	p->dfselect = p->gfselect = 0;
	p->qselect = 0;
	/* Messages from before the reset are stale: forget pending ones (the
	 * core has unmapped every vector). */
	vio__pci_msix_clear_pending(p);
	if (atomic_exchange(&p->isr, 0u) != 0)
		vio__pci_sync_intx(p);
}

static void t_reset(void *ctx)
{
	vio__pci_virtio_regs_reset(ctx);
}

static const struct vio_device_transport transport = {t_interrupt, t_reset};

/* ---- Init and layout ------------------------------------------------------------ */

static uint32_t default_class(uint32_t device_id)
{
	switch (device_id) {
	case VIO_ID_BLOCK:
		return 0x018000u; /* mass storage, other */
	case VIO_ID_NET:
		return 0x020000u; /* network, Ethernet */
	case VIO_ID_CONSOLE:
		return 0x078000u; /* simple communication, other */
	case VIO_ID_SCSI:
		return 0x010000u; /* mass storage, SCSI */
	default:
		return 0xff0000u; /* device does not fit any class */
	}
}

size_t vio_pci_dev_mem_size(const struct vio_pci_dev_config *cfg)
{
	if (cfg == NULL || cfg->msix_vectors > VIO_PCI_MSIX_MAX_VECTORS)
		return 0;
	return VIO_PCI_DEV_MEM_SIZE(cfg->msix_vectors);
}

int vio_pci_dev_init(struct vio_pci_dev **pp, void *mem, size_t mem_size, struct vio_device *dev,
		     const struct vio_pci_dev_config *cfg)
{
	size_t need = vio_pci_dev_mem_size(cfg);
	if (pp == NULL || mem == NULL || dev == NULL || need == 0 || mem_size < need ||
	    ((uintptr_t)mem % VIO_PCI_DEV_MEM_ALIGN) != 0)
		return -VIO_EINVAL;
	uint32_t type = vio_device_id(dev);
	if (type > VIO_PCI_DEVICE_ID_LAST - VIO_PCI_DEVICE_ID_BASE || cfg->bar > 4 ||
	    (cfg->bar & 1u) != 0 || cfg->interrupt_pin > 4)
		return -VIO_EINVAL;

	/* The BAR: fixed pages for the common configuration, ISR and
	 * notifications, then the device configuration, the MSI-X table and
	 * the PBA, each rounded to whole pages. */
	uint16_t nq = vio_device_num_queues(dev);
	uint64_t end = VIO_PCI_DEV_DEVICE_OFFSET + page_round(vio_device_config_size(dev));
	uint64_t table_off = 0, pba_off = 0;
	if (cfg->msix_vectors > 0) {
		table_off = end;
		end += page_round((uint64_t)cfg->msix_vectors * VIO_PCI_MSIX_ENTRY_SIZE);
		pba_off = end;
		end += page_round(((uint64_t)cfg->msix_vectors + 63u) / 64u * 8u);
	}
	uint64_t size = 0x4000u;
	while (size < end && size <= MAX_BAR_SIZE)
		size <<= 1;
	if (size > MAX_BAR_SIZE)
		return -VIO_EINVAL;

	struct vio_pci_dev *p = mem;
	VIO_MEMSET(p, 0, need);
	p->dev = dev;
	p->set_irq = cfg->set_irq;
	p->msix = cfg->msix;
	p->irq_ctx = cfg->irq_ctx;
	unsigned char *base = mem;
	p->table = (struct vio__msix_entry *)(void *)(base + VIO__PCI_DEV_FIXED_BYTES);
	p->pba = (atomic_uint *)(void *)(base + VIO__PCI_DEV_FIXED_BYTES +
					 (size_t)cfg->msix_vectors * 16u);
	p->bar_size = size;
	p->class_code = (cfg->class_code != 0 ? cfg->class_code : default_class(type)) & 0xffffffu;
	p->device_len = vio_device_config_size(dev);
	p->notify_len = (nq > 0 ? nq : 1u) * VIO_PCI_DEV_NOTIFY_MULT;
	p->table_off = (uint32_t)table_off;
	p->pba_off = (uint32_t)pba_off;
	p->device_id = (uint16_t)(VIO_PCI_DEVICE_ID_BASE + type);
	p->subsys_vendor = cfg->subsys_vendor_id != 0 ? cfg->subsys_vendor_id : VIO_PCI_VENDOR_ID;
	p->subsys_id = cfg->subsys_id != 0 ? cfg->subsys_id : (uint16_t)(0x40u + type);
	p->nvec = cfg->msix_vectors;
	p->revision = cfg->revision != 0 ? cfg->revision : VIO_PCI_REVISION_MODERN;
	p->bar = cfg->bar;
	p->prefetch = cfg->prefetchable;
	p->intx_pin = cfg->no_intx ? 0 : (cfg->interrupt_pin != 0 ? cfg->interrupt_pin : 1);
	p->gen_seen = vio_device_config_generation(dev);
	p->gen8 = (uint8_t)p->gen_seen;
	atomic_init(&p->isr, 0u);
	atomic_init(&p->msix_ctrl, 0u);
	atomic_init(&p->level, false);
	atomic_init(&p->command, 0u);
	for (uint16_t v = 0; v < p->nvec; v++) {
		atomic_init(&p->table[v].addr_lo, 0u);
		atomic_init(&p->table[v].addr_hi, 0u);
		atomic_init(&p->table[v].data, 0u);
		atomic_init(&p->table[v].ctrl, VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT);
	}
	for (size_t w = 0; w < ((size_t)p->nvec + 63u) / 64u * 2u; w++)
		atomic_init(&p->pba[w], 0u);
	/* queue_notify_off is the queue index (the core's default), which the
	 * notify decoding below relies on. */
	for (uint16_t q = 0; q < nq; q++)
		(void)vio_device_queue_set_notify_off(dev, q, q);

	struct vio_features t = vio_features_none();
	vio_features_set(&t, VIO_F_NOTIFICATION_DATA);
	vio_features_set(&t, VIO_F_RING_RESET);
	vio_device_set_transport(dev, &transport, p, &t);
	*pp = p;
	return 0;
}

struct vio_device *vio_pci_dev_device(const struct vio_pci_dev *p)
{
	return p->dev;
}

void vio_pci_dev_get_layout(const struct vio_pci_dev *p, struct vio_pci_dev_layout *out)
{
	VIO_MEMSET(out, 0, sizeof(*out));
	out->bar = p->bar;
	out->bar_size = p->bar_size;
	out->common_offset = VIO_PCI_DEV_COMMON_OFFSET;
	out->isr_offset = VIO_PCI_DEV_ISR_OFFSET;
	out->notify_offset = VIO_PCI_DEV_NOTIFY_OFFSET;
	out->notify_length = p->notify_len;
	out->notify_mult = VIO_PCI_DEV_NOTIFY_MULT;
	out->device_offset = VIO_PCI_DEV_DEVICE_OFFSET;
	out->device_length = p->device_len;
	out->msix_table_offset = p->table_off;
	out->msix_pba_offset = p->pba_off;
	out->msix_vectors = p->nvec;
}

uint32_t vio_pci_dev_notify_offset(const struct vio_pci_dev *p, uint16_t q)
{
	if (q >= vio_device_num_queues(p->dev))
		return 0;
	return VIO_PCI_DEV_NOTIFY_OFFSET +
	       (uint32_t)vio_device_queue_notify_off(p->dev, q) * VIO_PCI_DEV_NOTIFY_MULT;
}

uint8_t vio_pci_dev_isr(const struct vio_pci_dev *p)
{
	return (uint8_t)atomic_load(&((struct vio_pci_dev *)p)->isr);
}

bool vio_pci_dev_irq_level(const struct vio_pci_dev *p)
{
	return atomic_load(&((struct vio_pci_dev *)p)->level);
}

/* ---- Common configuration (§4.1.4.3) -------------------------------------------- */

/* The width of the field at @off (a 64-bit field counts as two 32-bit
 * ones, §4.1.3.1), or 0 if no field starts there. */
static unsigned common_width(uint32_t off)
{
	switch (off) {
	case VIO_PCI_COMMON_STATUS:
	case VIO_PCI_COMMON_CFGGENERATION:
		return 1;
	case VIO_PCI_COMMON_MSIX:
	case VIO_PCI_COMMON_NUMQ:
	case VIO_PCI_COMMON_Q_SELECT:
	case VIO_PCI_COMMON_Q_SIZE:
	case VIO_PCI_COMMON_Q_MSIX:
	case VIO_PCI_COMMON_Q_ENABLE:
	case VIO_PCI_COMMON_Q_NOFF:
	case VIO_PCI_COMMON_Q_NDATA:
	case VIO_PCI_COMMON_Q_RESET:
	case VIO_PCI_COMMON_ADM_Q_IDX:
	case VIO_PCI_COMMON_ADM_Q_NUM:
		return 2;
	case VIO_PCI_COMMON_DFSELECT:
	case VIO_PCI_COMMON_DF:
	case VIO_PCI_COMMON_GFSELECT:
	case VIO_PCI_COMMON_GF:
	case VIO_PCI_COMMON_Q_DESCLO:
	case VIO_PCI_COMMON_Q_DESCHI:
	case VIO_PCI_COMMON_Q_AVAILLO:
	case VIO_PCI_COMMON_Q_AVAILHI:
	case VIO_PCI_COMMON_Q_USEDLO:
	case VIO_PCI_COMMON_Q_USEDHI:
		return 4;
	default:
		return 0;
	}
}

/* queue_size as presented: the stored size, unless the driver wrote one
 * the queue cannot use (0, above the maximum, or without RING_PACKED not a
 * power of two, §4.1.4.3.1: the device MUST present 0 or a power of 2),
 * which reads 0. The maximum itself (the reset value) is always shown. */
static uint32_t queue_size_read(const struct vio_pci_dev *p, uint32_t q)
{
	uint32_t s = vio_device_queue_size(p->dev, q);
	uint32_t max = vio_device_queue_max(p->dev, q);
	if (s == max)
		return s;
	if (s == 0 || s > max)
		return 0;
	if (!vio_device_has_feature(p->dev, VIO_F_RING_PACKED) && (s & (s - 1u)) != 0)
		return 0;
	return s;
}

static enum vio_device_area area_of(uint32_t off)
{
	if (off < VIO_PCI_COMMON_Q_AVAILLO)
		return VIO_DEVICE_AREA_DESC;
	if (off < VIO_PCI_COMMON_Q_USEDLO)
		return VIO_DEVICE_AREA_DRIVER;
	return VIO_DEVICE_AREA_DEVICE;
}

static uint32_t common_read(struct vio_pci_dev *p, uint32_t off)
{
	struct vio_device *dev = p->dev;
	uint32_t q = p->qselect;
	switch (off) {
	case VIO_PCI_COMMON_DFSELECT:
		return p->dfselect;
	case VIO_PCI_COMMON_DF:
		return vio_device_offered_word(dev, p->dfselect);
	case VIO_PCI_COMMON_GFSELECT:
		return p->gfselect;
	case VIO_PCI_COMMON_GF:
		/* §4.1.4.3.1: the device MAY present invalid bits the driver
		 * wrote; the core keeps them for the FEATURES_OK check. */
		return vio_device_driver_word(dev, p->gfselect);
	case VIO_PCI_COMMON_MSIX:
		return vio_device_config_vector(dev);
	case VIO_PCI_COMMON_NUMQ:
		return vio_device_num_queues(dev);
	case VIO_PCI_COMMON_STATUS:
		return vio_device_status(dev);
	case VIO_PCI_COMMON_CFGGENERATION: {
		uint32_t g = vio_device_config_generation(dev);
		if (g != p->gen_seen) {
			p->gen_seen = g;
			p->gen8++;
		}
		return p->gen8;
	}
	case VIO_PCI_COMMON_Q_SELECT:
		return q;
	case VIO_PCI_COMMON_Q_SIZE:
		return queue_size_read(p, q);
	case VIO_PCI_COMMON_Q_MSIX:
		return vio_device_queue_vector(dev, q);
	case VIO_PCI_COMMON_Q_ENABLE:
		return vio_device_queue_ready(dev, q) ? 1u : 0u;
	case VIO_PCI_COMMON_Q_NOFF:
		return vio_device_queue_notify_off(dev, q);
	case VIO_PCI_COMMON_Q_DESCLO:
	case VIO_PCI_COMMON_Q_DESCHI:
	case VIO_PCI_COMMON_Q_AVAILLO:
	case VIO_PCI_COMMON_Q_AVAILHI:
	case VIO_PCI_COMMON_Q_USEDLO:
	case VIO_PCI_COMMON_Q_USEDHI: {
		uint64_t a = vio_device_queue_addr(dev, q, area_of(off));
		return (off & 4u) != 0 ? (uint32_t)(a >> 32) : (uint32_t)a;
	}
	default:
		/* queue_notif_config_data, admin_queue_index/num (features never
		 * offered) and queue_reset (a reset completes inside the write,
		 * §4.1.4.3.1: 0 once complete). */
		return 0;
	}
}

/* A vector the driver maps: kept if inside the table, else NO_VECTOR
 * (§4.1.5.1.2: a failed mapping reads back NO_VECTOR). */
static uint16_t vector_check(const struct vio_pci_dev *p, uint32_t v, int *rc)
{
	if (v == VIO_DEVICE_NO_VECTOR || v < p->nvec)
		return (uint16_t)v;
	*rc = -VIO_EVECTOR;
	return VIO_DEVICE_NO_VECTOR;
}

static int common_write(struct vio_pci_dev *p, uint32_t off, uint32_t v)
{
	struct vio_device *dev = p->dev;
	uint32_t q = p->qselect;
	int rc = 0;
	switch (off) {
	case VIO_PCI_COMMON_DFSELECT:
		p->dfselect = v;
		return 0;
	case VIO_PCI_COMMON_GFSELECT:
		p->gfselect = v;
		return 0;
	case VIO_PCI_COMMON_GF:
		return vio_device_set_driver_word(dev, p->gfselect, v);
	case VIO_PCI_COMMON_MSIX: {
		uint16_t vec = vector_check(p, v, &rc);
		vio_device_set_config_vector(dev, vec);
		return rc;
	}
	case VIO_PCI_COMMON_STATUS:
		return vio_device_set_status(dev, (uint8_t)v);
	case VIO_PCI_COMMON_Q_SELECT:
		p->qselect = (uint16_t)v;
		return 0;
	case VIO_PCI_COMMON_Q_SIZE:
		return vio_device_queue_set_size(dev, q, v);
	case VIO_PCI_COMMON_Q_MSIX: {
		uint16_t vec = vector_check(p, v, &rc);
		int r = vio_device_queue_set_vector(dev, q, vec);
		return r < 0 ? r : rc;
	}
	case VIO_PCI_COMMON_Q_ENABLE:
		/* §4.1.4.3.2: the driver MUST NOT write 0 (there is no
		 * disable over PCI; queue_reset is the way back). */
		if (v != 1)
			return -VIO_EREG;
		return vio_device_queue_set_ready(dev, q, true);
	case VIO_PCI_COMMON_Q_DESCLO:
	case VIO_PCI_COMMON_Q_DESCHI:
	case VIO_PCI_COMMON_Q_AVAILLO:
	case VIO_PCI_COMMON_Q_AVAILHI:
	case VIO_PCI_COMMON_Q_USEDLO:
	case VIO_PCI_COMMON_Q_USEDHI:
		return vio_device_queue_set_addr32(dev, q, area_of(off), (off & 4u) != 0, v);
	case VIO_PCI_COMMON_Q_RESET:
		/* §4.1.4.3.1: 1 resets the queue (RING_RESET negotiated; the
		 * core refuses it otherwise); 0 does nothing. */
		if (v == 0)
			return 0;
		if (v != 1)
			return -VIO_EREG;
		return vio_device_queue_reset(dev, q);
	default:
		/* device_feature, num_queues, config_generation,
		 * queue_notify_off, queue_notif_config_data, admin_queue_*:
		 * read-only (§4.1.4.3.2: the driver MUST NOT write them). */
		return -VIO_EREG;
	}
}

/* ---- Notifications (§4.1.4.4, §4.1.5.2) ------------------------------------------ */

static int notify_write(struct vio_pci_dev *p, uint32_t rel, uint32_t v, unsigned size)
{
	/* The address names the queue: notify_off_multiplier is 4 and each
	 * queue's queue_notify_off its index. */
	uint32_t q = rel / VIO_PCI_DEV_NOTIFY_MULT;
	if (rel % VIO_PCI_DEV_NOTIFY_MULT != 0 || q >= vio_device_num_queues(p->dev) ||
	    vio_device_queue_notify_off(p->dev, q) != q)
		return -VIO_EREG;
	if (vio_device_has_feature(p->dev, VIO_F_NOTIFICATION_DATA)) {
		/* §4.1.5.2: a 32-bit notification with vq_index in bits 0–15. */
		if (size != 4 || vio_notify_data_vq(v) != q)
			return -VIO_EREG;
		return vio_device_queue_notify(p->dev, q, v);
	}
	/* §4.1.5.2: the 16-bit queue index (a 32-bit write of it is taken
	 * too). */
	if ((size != 2 && size != 4) || v != q)
		return -VIO_EREG;
	return vio_device_queue_notify(p->dev, q, q);
}

/* ---- The BAR --------------------------------------------------------------------- */

enum region {
	R_NONE,
	R_COMMON,
	R_ISR,
	R_NOTIFY,
	R_DEVICE,
	R_MSIX
};

/* Which structure [off, off + size) falls in, with @rel its offset there;
 * R_NONE if it is not wholly inside one. */
static enum region locate(const struct vio_pci_dev *p, uint64_t off, unsigned size, uint32_t *rel)
{
	if (off >= p->bar_size || size == 0 || size > 8)
		return R_NONE;
	uint64_t end = off + size; /* no overflow: bar_size <= 2 GiB */
	if (end <= VIO_PCI_COMMON_SIZE) {
		*rel = (uint32_t)off;
		return R_COMMON;
	}
	if (off == VIO_PCI_DEV_ISR_OFFSET) {
		*rel = 0;
		return R_ISR;
	}
	if (off >= VIO_PCI_DEV_NOTIFY_OFFSET && end <= VIO_PCI_DEV_NOTIFY_OFFSET + p->notify_len) {
		*rel = (uint32_t)(off - VIO_PCI_DEV_NOTIFY_OFFSET);
		return R_NOTIFY;
	}
	if (off >= VIO_PCI_DEV_DEVICE_OFFSET &&
	    end <= (uint64_t)VIO_PCI_DEV_DEVICE_OFFSET + p->device_len) {
		*rel = (uint32_t)(off - VIO_PCI_DEV_DEVICE_OFFSET);
		return R_DEVICE;
	}
	if (p->nvec > 0 && off >= p->table_off) {
		*rel = 0;
		return R_MSIX;
	}
	return R_NONE;
}

/* Device configuration: 1, 2, 4 or 8 bytes aligned to the width
 * (§4.1.3.1; the core checks the range). */
static bool device_width(uint32_t rel, unsigned size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) && rel % size == 0;
}

int vio_pci_dev_bar_read(struct vio_pci_dev *p, unsigned bar, uint64_t offset, unsigned size,
			 uint64_t *value)
{
	*value = 0;
	uint32_t rel = 0;
	enum region r = bar == p->bar ? locate(p, offset, size, &rel) : R_NONE;
	switch (r) {
	case R_COMMON:
		if (common_width(rel) != size)
			return -VIO_EREG;
		*value = common_read(p, rel);
		return 0;
	case R_ISR: {
		/* §4.1.4.5: reading clears the ISR and lowers INTx#. */
		if (size != 1 && size != 2 && size != 4)
			return -VIO_EREG;
		unsigned old = atomic_exchange(&p->isr, 0u);
		if (old != 0)
			vio__pci_sync_intx(p);
		*value = old;
		return 0;
	}
	case R_DEVICE: {
		if (!device_width(rel, size))
			return -VIO_EREG;
		unsigned char b[8];
		int rc = vio_device_config_read(p->dev, rel, b, size);
		if (rc < 0)
			return rc;
		uint64_t v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)b[i] << (8 * i);
		*value = v;
		return 0;
	}
	case R_MSIX:
		return vio__pci_msix_read(p, offset, size, value);
	default:
		/* Notify addresses are write-only; holes. */
		return -VIO_EREG;
	}
}

int vio_pci_dev_bar_write(struct vio_pci_dev *p, unsigned bar, uint64_t offset, uint64_t value,
			  unsigned size)
{
	uint32_t rel = 0;
	enum region r = bar == p->bar ? locate(p, offset, size, &rel) : R_NONE;
	if (size < 8)
		value &= ((uint64_t)1 << (8 * size)) - 1u;
	switch (r) {
	case R_COMMON:
		if (common_width(rel) != size)
			return -VIO_EREG;
		return common_write(p, rel, (uint32_t)value);
	case R_NOTIFY:
		return notify_write(p, rel, (uint32_t)value, size);
	case R_DEVICE: {
		if (!device_width(rel, size))
			return -VIO_EREG;
		unsigned char b[8];
		for (unsigned i = 0; i < size; i++)
			b[i] = (unsigned char)(value >> (8 * i));
		return vio_device_config_write(p->dev, rel, b, size);
	}
	case R_MSIX:
		return vio__pci_msix_write(p, offset, value, size);
	default:
		/* The ISR is read-only; holes. */
		return -VIO_EREG;
	}
}

int vio_pci_dev_bar_read_bytes(struct vio_pci_dev *p, unsigned bar, uint64_t offset, void *data,
			       unsigned size)
{
	if (size > 8)
		return -VIO_EREG;
	uint64_t v;
	int rc = vio_pci_dev_bar_read(p, bar, offset, size, &v);
	unsigned char *b = data;
	for (unsigned i = 0; i < size; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return rc;
}

int vio_pci_dev_bar_write_bytes(struct vio_pci_dev *p, unsigned bar, uint64_t offset,
				const void *data, unsigned size)
{
	if (size == 0 || size > 8)
		return -VIO_EREG;
	const unsigned char *b = data;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return vio_pci_dev_bar_write(p, bar, offset, v, size);
}
