/* SPDX-License-Identifier: MIT */
/* virtio-mmio register model, version 2 (virtio 1.4 §4.2.2), over the
 * device core. Legacy (version 1, §4.2.4) is not implemented. */
#include <stdatomic.h>

#include <virtio/device.h>
#include <virtio/errors.h>
#include <virtio/features.h>
#include <virtio/mmio.h>
#include <virtio/mmio_dev.h>
#include <virtio/port.h>
#include <virtio/queue.h>

struct vio_mmio_dev {
	struct vio_device *dev;
	void (*set_irq)(void *ctx, bool level);
	void *irq_ctx;
	const struct vio_mmio_shm *shm;
	uint32_t nshm;
	uint32_t vendor_id;
	uint32_t dev_features_sel;
	uint32_t drv_features_sel;
	uint32_t queue_sel;
	uint32_t shm_sel;
	atomic_uint int_status; /* VIO_MMIO_INT_* */
};

_Static_assert(sizeof(struct vio_mmio_dev) <= VIO_MMIO_DEV_MEM_SIZE,
	       "VIO_MMIO_DEV_MEM_SIZE (mmio_dev.h) is too small");

#define INT_BITS (VIO_MMIO_INT_VRING | VIO_MMIO_INT_CONFIG)

/* ---- Interrupt status and the line ---------------------------------------- */

/* Make the line follow InterruptStatus. Called after a change that may have
 * moved it between 0 and non-0; re-reads after each call so that of two
 * racing callers the last one leaves the line right. */
static void sync_level(struct vio_mmio_dev *m)
{
	if (m->set_irq == NULL)
		return;
	bool level = atomic_load_explicit(&m->int_status, memory_order_acquire) != 0;
	for (;;) {
		m->set_irq(m->irq_ctx, level);
		bool now = atomic_load_explicit(&m->int_status, memory_order_acquire) != 0;
		if (now == level)
			return;
		level = now;
	}
}

static void raise_bits(struct vio_mmio_dev *m, unsigned bits)
{
	unsigned old = atomic_fetch_or_explicit(&m->int_status, bits, memory_order_acq_rel);
	if (old == 0)
		sync_level(m);
}

static void ack_bits(struct vio_mmio_dev *m, unsigned bits)
{
	unsigned old = atomic_fetch_and_explicit(&m->int_status, ~bits, memory_order_acq_rel);
	if (old != 0 && (old & ~bits) == 0)
		sync_level(m);
}

static void t_interrupt(void *ctx, enum vio_device_irq kind, uint16_t queue)
{
	(void)queue; /* one VRING bit for every queue (§4.2.3.3) */
	raise_bits(ctx, kind == VIO_DEVICE_IRQ_CONFIG ? VIO_MMIO_INT_CONFIG : VIO_MMIO_INT_VRING);
}

static void t_reset(void *ctx)
{
	struct vio_mmio_dev *m = ctx;
	/* §4.2.2.1: on reset, InterruptStatus is cleared (QueueReady too: the
	 * core did). The selectors go back to 0 as well. */
	m->dev_features_sel = m->drv_features_sel = m->queue_sel = m->shm_sel = 0;
	ack_bits(m, INT_BITS);
}

static const struct vio_device_transport transport = {t_interrupt, t_reset};

int vio_mmio_dev_init(struct vio_mmio_dev **mp, void *mem, size_t mem_size, struct vio_device *dev,
		      const struct vio_mmio_dev_config *cfg)
{
	if (mp == NULL || mem == NULL || dev == NULL || cfg == NULL ||
	    mem_size < VIO_MMIO_DEV_MEM_SIZE || ((uintptr_t)mem % VIO_MMIO_DEV_MEM_ALIGN) != 0 ||
	    (cfg->shm == NULL && cfg->nshm != 0))
		return -VIO_EINVAL;
	struct vio_mmio_dev *m = mem;
	VIO_MEMSET(m, 0, sizeof(*m));
	m->dev = dev;
	m->set_irq = cfg->set_irq;
	m->irq_ctx = cfg->irq_ctx;
	m->shm = cfg->shm;
	m->nshm = cfg->nshm;
	m->vendor_id = cfg->vendor_id;
	atomic_init(&m->int_status, 0u);
	struct vio_features t = vio_features_none();
	vio_features_set(&t, VIO_F_NOTIFICATION_DATA);
	vio_features_set(&t, VIO_F_RING_RESET);
	vio_device_set_transport(dev, &transport, m, &t);
	*mp = m;
	return 0;
}

struct vio_device *vio_mmio_dev_device(const struct vio_mmio_dev *m)
{
	return m->dev;
}

uint64_t vio_mmio_dev_window_size(const struct vio_mmio_dev *m)
{
	return VIO_MMIO_CONFIG + (uint64_t)vio_device_config_size(m->dev);
}

uint32_t vio_mmio_dev_interrupt_status(const struct vio_mmio_dev *m)
{
	return atomic_load_explicit(&((struct vio_mmio_dev *)m)->int_status, memory_order_acquire);
}

bool vio_mmio_dev_irq_level(const struct vio_mmio_dev *m)
{
	return vio_mmio_dev_interrupt_status(m) != 0;
}

/* ---- Registers ------------------------------------------------------------- */

static const struct vio_mmio_shm *find_shm(const struct vio_mmio_dev *m)
{
	for (uint32_t i = 0; i < m->nshm; i++)
		if (m->shm[i].id == m->shm_sel)
			return &m->shm[i];
	return NULL;
}

/* A read of a 32-bit control register; -VIO_EREG for undefined or
 * write-only offsets. */
static int reg_read(struct vio_mmio_dev *m, uint32_t off, uint32_t *v)
{
	struct vio_device *dev = m->dev;
	const struct vio_mmio_shm *shm;
	switch (off) {
	case VIO_MMIO_MAGIC_VALUE:
		*v = VIO_MMIO_MAGIC;
		return 0;
	case VIO_MMIO_VERSION:
		*v = VIO_MMIO_VERSION_MODERN;
		return 0;
	case VIO_MMIO_DEVICE_ID:
		*v = vio_device_id(dev);
		return 0;
	case VIO_MMIO_VENDOR_ID:
		*v = m->vendor_id;
		return 0;
	case VIO_MMIO_DEVICE_FEATURES:
		*v = vio_device_offered_word(dev, m->dev_features_sel);
		return 0;
	case VIO_MMIO_QUEUE_NUM_MAX:
		*v = vio_device_queue_max(dev, m->queue_sel);
		return 0;
	case VIO_MMIO_QUEUE_READY:
		*v = vio_device_queue_ready(dev, m->queue_sel) ? 1u : 0u;
		return 0;
	case VIO_MMIO_INTERRUPT_STATUS:
		*v = vio_mmio_dev_interrupt_status(m);
		return 0;
	case VIO_MMIO_STATUS:
		*v = vio_device_status(dev);
		return 0;
	case VIO_MMIO_SHM_LEN_LOW:
	case VIO_MMIO_SHM_LEN_HIGH:
	case VIO_MMIO_SHM_BASE_LOW:
	case VIO_MMIO_SHM_BASE_HIGH: {
		/* A region that does not exist reads as length and base -1. */
		shm = find_shm(m);
		uint64_t x = ~(uint64_t)0;
		if (shm != NULL)
			x = off < VIO_MMIO_SHM_BASE_LOW ? shm->len : shm->base;
		*v = (off & 4u) != 0 ? (uint32_t)(x >> 32) : (uint32_t)x;
		return 0;
	}
	case VIO_MMIO_QUEUE_RESET:
		/* The reset completes inside the write: never seen in progress. */
		*v = 0;
		return 0;
	case VIO_MMIO_CONFIG_GENERATION:
		*v = vio_device_config_generation(dev);
		return 0;
	default:
		/* Write-only registers, legacy-only registers, holes. */
		*v = 0;
		return -VIO_EREG;
	}
}

static int area_write(struct vio_mmio_dev *m, uint32_t off, uint32_t value)
{
	static const enum vio_device_area areas[3] = {VIO_DEVICE_AREA_DESC, VIO_DEVICE_AREA_DRIVER,
						      VIO_DEVICE_AREA_DEVICE};
	unsigned i = (off - VIO_MMIO_QUEUE_DESC_LOW) / 0x10u;
	return vio_device_queue_set_addr32(m->dev, m->queue_sel, areas[i], (off & 4u) != 0, value);
}

static int notify(struct vio_mmio_dev *m, uint32_t value)
{
	/* §4.2.3.2: the queue index, or with NOTIFICATION_DATA the index in
	 * bits 0–15 and the position above it. */
	uint32_t q = value;
	if (vio_device_has_feature(m->dev, VIO_F_NOTIFICATION_DATA))
		q = vio_notify_data_vq(value);
	return vio_device_queue_notify(m->dev, q, value);
}

static int reg_write(struct vio_mmio_dev *m, uint32_t off, uint32_t value)
{
	struct vio_device *dev = m->dev;
	switch (off) {
	case VIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_features_sel = value;
		return 0;
	case VIO_MMIO_DRIVER_FEATURES:
		return vio_device_set_driver_word(dev, m->drv_features_sel, value);
	case VIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_features_sel = value;
		return 0;
	case VIO_MMIO_QUEUE_SEL:
		m->queue_sel = value;
		return 0;
	case VIO_MMIO_QUEUE_NUM:
		return vio_device_queue_set_size(dev, m->queue_sel, value);
	case VIO_MMIO_QUEUE_READY:
		if (value > 1)
			return -VIO_EREG;
		return vio_device_queue_set_ready(dev, m->queue_sel, value != 0);
	case VIO_MMIO_QUEUE_NOTIFY:
		return notify(m, value);
	case VIO_MMIO_INTERRUPT_ACK:
		/* Undefined bits are ignored (the driver MUST NOT set them). */
		ack_bits(m, value & INT_BITS);
		return 0;
	case VIO_MMIO_STATUS:
		if (value > 0xffu)
			return -VIO_ESTATUS;
		return vio_device_set_status(dev, (uint8_t)value);
	case VIO_MMIO_QUEUE_DESC_LOW:
	case VIO_MMIO_QUEUE_DESC_HIGH:
	case VIO_MMIO_QUEUE_DRIVER_LOW:
	case VIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIO_MMIO_QUEUE_DEVICE_LOW:
	case VIO_MMIO_QUEUE_DEVICE_HIGH:
		return area_write(m, off, value);
	case VIO_MMIO_SHM_SEL:
		m->shm_sel = value;
		return 0;
	case VIO_MMIO_QUEUE_RESET:
		/* Writing 1 resets the queue (RING_RESET negotiated); 0 does
		 * nothing. */
		if (value == 0)
			return 0;
		if (value != 1)
			return -VIO_EREG;
		return vio_device_queue_reset(dev, m->queue_sel);
	default:
		/* Read-only registers, legacy-only registers, holes. */
		return -VIO_EREG;
	}
}

static bool config_width(unsigned size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

int vio_mmio_dev_read(struct vio_mmio_dev *m, uint64_t offset, unsigned size, uint64_t *value)
{
	*value = 0;
	if (offset >= VIO_MMIO_CONFIG) {
		if (!config_width(size) || offset - VIO_MMIO_CONFIG > UINT32_MAX)
			return -VIO_EREG;
		unsigned char b[8];
		int rc = vio_device_config_read(m->dev, (uint32_t)(offset - VIO_MMIO_CONFIG), b,
						size);
		if (rc < 0)
			return rc;
		uint64_t v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)b[i] << (8 * i);
		*value = v;
		return 0;
	}
	if (size != 4 || (offset & 3u) != 0)
		return -VIO_EREG;
	uint32_t v;
	int rc = reg_read(m, (uint32_t)offset, &v);
	*value = v;
	return rc;
}

int vio_mmio_dev_write(struct vio_mmio_dev *m, uint64_t offset, uint64_t value, unsigned size)
{
	if (offset >= VIO_MMIO_CONFIG) {
		if (!config_width(size) || offset - VIO_MMIO_CONFIG > UINT32_MAX)
			return -VIO_EREG;
		unsigned char b[8];
		for (unsigned i = 0; i < size; i++)
			b[i] = (unsigned char)(value >> (8 * i));
		return vio_device_config_write(m->dev, (uint32_t)(offset - VIO_MMIO_CONFIG), b,
					       size);
	}
	if (size != 4 || (offset & 3u) != 0)
		return -VIO_EREG;
	return reg_write(m, (uint32_t)offset, (uint32_t)value);
}

int vio_mmio_dev_read_bytes(struct vio_mmio_dev *m, uint64_t offset, void *data, unsigned size)
{
	if (size > 8)
		return -VIO_EREG;
	uint64_t v;
	int rc = vio_mmio_dev_read(m, offset, size, &v);
	unsigned char *b = data;
	for (unsigned i = 0; i < size; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return rc;
}

int vio_mmio_dev_write_bytes(struct vio_mmio_dev *m, uint64_t offset, const void *data,
			     unsigned size)
{
	if (size == 0 || size > 8)
		return -VIO_EREG;
	const unsigned char *b = data;
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return vio_mmio_dev_write(m, offset, v, size);
}

/* ---- Save / restore -------------------------------------------------------- */

/* "VIOM", version 1, DeviceFeaturesSel, DriverFeaturesSel, QueueSel, SHMSel,
 * InterruptStatus (32 bits each, little-endian), then the device core. */
#define MMIO_STATE_MAGIC 0x4d4f4956u
#define MMIO_STATE_HDR 28u

static void put32(unsigned char *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t vio_mmio_dev_state_size(const struct vio_mmio_dev *m)
{
	return MMIO_STATE_HDR + vio_device_state_size(m->dev);
}

int vio_mmio_dev_save(const struct vio_mmio_dev *m, void *buf, size_t len)
{
	if (buf == NULL || len < vio_mmio_dev_state_size(m))
		return -VIO_ENOSPC;
	unsigned char *p = buf;
	put32(p, MMIO_STATE_MAGIC);
	put32(p + 4, 1);
	put32(p + 8, m->dev_features_sel);
	put32(p + 12, m->drv_features_sel);
	put32(p + 16, m->queue_sel);
	put32(p + 20, m->shm_sel);
	put32(p + 24, vio_mmio_dev_interrupt_status(m));
	return vio_device_save(m->dev, p + MMIO_STATE_HDR, len - MMIO_STATE_HDR);
}

int vio_mmio_dev_restore(struct vio_mmio_dev *m, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	int rc = -VIO_ESTATE_BLOB;
	if (p != NULL && len >= MMIO_STATE_HDR && get32(p) == MMIO_STATE_MAGIC &&
	    get32(p + 4) == 1 && (get32(p + 24) & ~(uint32_t)INT_BITS) == 0) {
		/* Registers first: activating a restored live device may raise
		 * an interrupt, which must add to the saved status. */
		m->dev_features_sel = get32(p + 8);
		m->drv_features_sel = get32(p + 12);
		m->queue_sel = get32(p + 16);
		m->shm_sel = get32(p + 20);
		atomic_store_explicit(&m->int_status, get32(p + 24), memory_order_release);
		rc = vio_device_restore(m->dev, p + MMIO_STATE_HDR, len - MMIO_STATE_HDR);
	} else {
		(void)vio_device_restore(m->dev, NULL, 0); /* leaves the device reset */
	}
	if (rc < 0) {
		m->dev_features_sel = m->drv_features_sel = m->queue_sel = m->shm_sel = 0;
		atomic_store_explicit(&m->int_status, 0u, memory_order_release);
	}
	if (m->set_irq != NULL)
		sync_level(m);
	return rc;
}
