/* SPDX-License-Identifier: MIT */
#include "fake_mmio.h"

#include <string.h>

void fake_mmio_init(struct fake_mmio *m, uint32_t id, unsigned nq, uint32_t qmax)
{
	memset(m, 0, sizeof(*m));
	m->magic = VIO_MMIO_MAGIC;
	m->version = VIO_MMIO_VERSION_MODERN;
	m->device_id = id;
	m->vendor_id = 0x554d4551; /* "QEMU" */
	m->window = 0x100 + FM_CONFIG_MAX;
	vio_ring_features(&m->offered);
	vio_features_set(&m->offered, VIO_F_VERSION_1);
	for (unsigned i = 0; i < nq && i < FM_MAX_QUEUES; i++)
		m->q[i].max = qmax;
	for (unsigned i = 0; i < FM_CONFIG_MAX; i++)
		m->config[i] = (uint8_t)(i ^ 0x5a);
}

void fake_mmio_raise(struct fake_mmio *m, uint32_t bits)
{
	m->isr |= bits;
}

void fake_mmio_config_set(struct fake_mmio *m, uint32_t off, uint8_t val)
{
	if (off < FM_CONFIG_MAX)
		m->config[off] = val;
	m->generation++;
	m->isr |= VIO_MMIO_INT_CONFIG;
}

unsigned fake_mmio_violations(const struct fake_mmio *m)
{
	return m->out_of_window + m->misaligned + m->bad_width + m->wo_reads + m->ro_writes +
	       m->undefined + m->after_placeholder;
}

enum dir {
	R = 1,
	W = 2,
	RW = 3,
	UNDEF = 0
};

static enum dir reg_dir(uint32_t off)
{
	switch (off) {
	case VIO_MMIO_MAGIC_VALUE:
	case VIO_MMIO_VERSION:
	case VIO_MMIO_DEVICE_ID:
	case VIO_MMIO_VENDOR_ID:
	case VIO_MMIO_DEVICE_FEATURES:
	case VIO_MMIO_QUEUE_NUM_MAX:
	case VIO_MMIO_INTERRUPT_STATUS:
	case VIO_MMIO_SHM_LEN_LOW:
	case VIO_MMIO_SHM_LEN_HIGH:
	case VIO_MMIO_SHM_BASE_LOW:
	case VIO_MMIO_SHM_BASE_HIGH:
	case VIO_MMIO_CONFIG_GENERATION:
		return R;
	case VIO_MMIO_DEVICE_FEATURES_SEL:
	case VIO_MMIO_DRIVER_FEATURES:
	case VIO_MMIO_DRIVER_FEATURES_SEL:
	case VIO_MMIO_QUEUE_SEL:
	case VIO_MMIO_QUEUE_NUM:
	case VIO_MMIO_QUEUE_NOTIFY:
	case VIO_MMIO_INTERRUPT_ACK:
	case VIO_MMIO_QUEUE_DESC_LOW:
	case VIO_MMIO_QUEUE_DESC_HIGH:
	case VIO_MMIO_QUEUE_DRIVER_LOW:
	case VIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIO_MMIO_QUEUE_DEVICE_LOW:
	case VIO_MMIO_QUEUE_DEVICE_HIGH:
	case VIO_MMIO_SHM_SEL:
		return W;
	case VIO_MMIO_QUEUE_READY:
	case VIO_MMIO_STATUS:
	case VIO_MMIO_QUEUE_RESET:
		return RW;
	default:
		return UNDEF;
	}
}

/* Count what the access does wrong; true if it may proceed. */
static bool check(struct fake_mmio *m, uint32_t off, unsigned width, bool write)
{
	if (m->saw_zero_id)
		m->after_placeholder++;
	if ((uint64_t)off + width > m->window) {
		m->out_of_window++;
		return false;
	}
	if (off % width != 0) {
		m->misaligned++;
		return false;
	}
	if (off >= VIO_MMIO_CONFIG)
		return true; /* any width 1/2/4, aligned */
	if (width != 4) {
		m->bad_width++;
		return false;
	}
	enum dir d = reg_dir(off);
	if (d == UNDEF) {
		m->undefined++;
		return false;
	}
	if (write && (d & W) == 0) {
		m->ro_writes++;
		return false;
	}
	if (!write && (d & R) == 0) {
		m->wo_reads++;
		return false;
	}
	return true;
}

static struct fm_queue *selq(struct fake_mmio *m)
{
	return m->queue_sel < FM_MAX_QUEUES ? &m->q[m->queue_sel] : NULL;
}

static void device_reset(struct fake_mmio *m)
{
	m->status = 0;
	m->isr = 0;
	m->accepted = vio_features_none();
	for (unsigned i = 0; i < FM_MAX_QUEUES; i++) {
		m->q[i].ready = 0;
		m->q[i].reset = 0;
		m->q[i].num = 0;
	}
	if (m->on_reset != NULL)
		m->on_reset(m);
}

static uint32_t config_get(const struct fake_mmio *m, uint32_t off, unsigned width)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		uint32_t c = off - VIO_MMIO_CONFIG + i;
		v |= (uint32_t)(c < FM_CONFIG_MAX ? m->config[c] : 0) << (8 * i);
	}
	return v;
}

static void config_put(struct fake_mmio *m, uint32_t off, unsigned width, uint32_t v)
{
	for (unsigned i = 0; i < width; i++) {
		uint32_t c = off - VIO_MMIO_CONFIG + i;
		if (c < FM_CONFIG_MAX)
			m->config[c] = (uint8_t)(v >> (8 * i));
	}
}

static uint32_t reg_read(struct fake_mmio *m, uint32_t off)
{
	struct fm_queue *q = selq(m);
	switch (off) {
	case VIO_MMIO_MAGIC_VALUE:
		return m->magic;
	case VIO_MMIO_VERSION:
		return m->version;
	case VIO_MMIO_DEVICE_ID: {
		m->id_reads++;
		uint32_t id = m->device_id;
		if (m->id_change_at != 0 && m->id_reads >= m->id_change_at)
			id = m->id_changed_to;
		return id;
	}
	case VIO_MMIO_VENDOR_ID:
		return m->vendor_id;
	case VIO_MMIO_DEVICE_FEATURES: {
		if (m->dev_sel < 32)
			m->dev_windows_read |= 1u << m->dev_sel;
		uint32_t sel = m->features_sel_clamp && m->dev_sel != 0 ? 1 : m->dev_sel;
		uint32_t v = vio_features_word32(&m->offered, sel);
		if (m->dev_sel == 0 && (m->status & VIO_STATUS_FEATURES_OK) != 0)
			v ^= m->features_flip_after_ok;
		return v;
	}
	case VIO_MMIO_QUEUE_NUM_MAX:
		return q ? q->max : 0;
	case VIO_MMIO_QUEUE_READY:
		return m->queue_ready_stuck ? 1 : (q ? q->ready : 0);
	case VIO_MMIO_INTERRUPT_STATUS:
		return m->isr;
	case VIO_MMIO_STATUS: {
		m->status_reads++;
		uint32_t v = m->status;
		if (m->reset_busy > 0) {
			m->reset_busy--;
			v = VIO_STATUS_ACKNOWLEDGE;
		}
		v |= m->status_or;
		if (m->status_and != 0 &&
		    (!m->status_and_after_ok || (m->status & VIO_STATUS_DRIVER_OK) != 0))
			v &= m->status_and;
		return v;
	}
	case VIO_MMIO_QUEUE_RESET:
		if (q == NULL)
			return 0;
		if (q->reset_busy > 0) {
			q->reset_busy--;
			return 1;
		}
		return q->reset;
	case VIO_MMIO_SHM_LEN_LOW:
	case VIO_MMIO_SHM_LEN_HIGH:
	case VIO_MMIO_SHM_BASE_LOW:
	case VIO_MMIO_SHM_BASE_HIGH:
		return 0xffffffffu;
	case VIO_MMIO_CONFIG_GENERATION:
		m->gen_reads++;
		if (m->generation_spins)
			m->generation++;
		else if (m->generation_flips > 0) {
			m->generation_flips--;
			m->generation++;
		}
		return m->generation;
	default:
		return 0;
	}
}

static void status_write(struct fake_mmio *m, uint32_t v)
{
	if (m->nstatus < FM_LOG_MAX)
		m->status_log[m->nstatus++] = v;
	if (v == 0) {
		if (!m->status_stuck)
			device_reset(m);
		return;
	}
	uint32_t old = m->status;
	if ((v & VIO_STATUS_FEATURES_OK) != 0 && (old & VIO_STATUS_FEATURES_OK) == 0 &&
	    (m->reject_features_ok || !vio_features_subset(&m->accepted, &m->offered)))
		v &= ~(uint32_t)VIO_STATUS_FEATURES_OK;
	if (m->honour_suspend) {
		if ((v & VIO_STATUS_SUSPEND) != 0 && (old & VIO_STATUS_SUSPEND) == 0)
			v &= ~(uint32_t)VIO_STATUS_DRIVER_OK; /* suspended */
		else if ((old & VIO_STATUS_SUSPEND) != 0 && (v & VIO_STATUS_DRIVER_OK) != 0)
			v &= ~(uint32_t)VIO_STATUS_SUSPEND; /* resumed */
	}
	m->status = v;
}

static void reg_write(struct fake_mmio *m, uint32_t off, uint32_t v)
{
	struct fm_queue *q = selq(m);
	switch (off) {
	case VIO_MMIO_DEVICE_FEATURES_SEL:
		m->dev_sel = v;
		break;
	case VIO_MMIO_DRIVER_FEATURES:
		if (m->drv_sel < 32)
			m->drv_windows_written |= 1u << m->drv_sel;
		vio_features_set_word32(
			&m->accepted, m->features_sel_clamp && m->drv_sel != 0 ? 1 : m->drv_sel, v);
		break;
	case VIO_MMIO_DRIVER_FEATURES_SEL:
		m->drv_sel = v;
		break;
	case VIO_MMIO_QUEUE_SEL:
		m->queue_sel = v;
		break;
	case VIO_MMIO_QUEUE_NUM:
		if (q)
			q->num = v;
		break;
	case VIO_MMIO_QUEUE_READY:
		if (q) {
			q->ready = v;
			if (v == 1 && m->on_ready != NULL)
				m->on_ready(m, m->queue_sel);
		}
		break;
	case VIO_MMIO_QUEUE_NOTIFY:
		if (m->nnotify < FM_LOG_MAX)
			m->notify_log[m->nnotify++] = v;
		if (m->on_notify != NULL)
			m->on_notify(m, v);
		break;
	case VIO_MMIO_INTERRUPT_ACK:
		if (m->nack < FM_LOG_MAX)
			m->ack_log[m->nack++] = v;
		m->isr &= ~v;
		break;
	case VIO_MMIO_STATUS:
		status_write(m, v);
		break;
	case VIO_MMIO_QUEUE_DESC_LOW:
		if (q)
			q->desc = (q->desc & ~0xffffffffull) | v;
		break;
	case VIO_MMIO_QUEUE_DESC_HIGH:
		if (q)
			q->desc = (q->desc & 0xffffffffull) | ((uint64_t)v << 32);
		break;
	case VIO_MMIO_QUEUE_DRIVER_LOW:
		if (q)
			q->driver = (q->driver & ~0xffffffffull) | v;
		break;
	case VIO_MMIO_QUEUE_DRIVER_HIGH:
		if (q)
			q->driver = (q->driver & 0xffffffffull) | ((uint64_t)v << 32);
		break;
	case VIO_MMIO_QUEUE_DEVICE_LOW:
		if (q)
			q->device = (q->device & ~0xffffffffull) | v;
		break;
	case VIO_MMIO_QUEUE_DEVICE_HIGH:
		if (q)
			q->device = (q->device & 0xffffffffull) | ((uint64_t)v << 32);
		break;
	case VIO_MMIO_QUEUE_RESET:
		if (q && v == 1) {
			q->reset = 1;
			if (!m->queue_reset_stuck) {
				q->ready = 0;
				q->reset = 0;
				if (m->on_queue_reset != NULL)
					m->on_queue_reset(m, m->queue_sel);
			}
		}
		break;
	default:
		break;
	}
}

static uint32_t fm_read32(void *ctx, uint32_t off)
{
	struct fake_mmio *m = ctx;
	m->reads++;
	if (!check(m, off, 4, false))
		return 0xdeadbeef;
	uint32_t v = off >= VIO_MMIO_CONFIG ? config_get(m, off, 4) : reg_read(m, off);
	if (off >= VIO_MMIO_CONFIG)
		m->config_reads[4]++;
	if (m->read_hook != NULL)
		(void)m->read_hook(m, off, &v);
	if (off == VIO_MMIO_DEVICE_ID && v == 0)
		m->saw_zero_id = true;
	return v;
}

static void fm_write32(void *ctx, uint32_t off, uint32_t v)
{
	struct fake_mmio *m = ctx;
	m->writes++;
	if (!check(m, off, 4, true))
		return;
	if (off >= VIO_MMIO_CONFIG)
		config_put(m, off, 4, v);
	else
		reg_write(m, off, v);
}

static uint8_t fm_read8(void *ctx, uint32_t off)
{
	struct fake_mmio *m = ctx;
	m->reads++;
	if (!check(m, off, 1, false))
		return 0xde;
	if (off < VIO_MMIO_CONFIG) {
		m->bad_width++;
		return 0xde;
	}
	m->config_reads[1]++;
	return (uint8_t)config_get(m, off, 1);
}

static void fm_write8(void *ctx, uint32_t off, uint8_t v)
{
	struct fake_mmio *m = ctx;
	m->writes++;
	if (!check(m, off, 1, true))
		return;
	if (off < VIO_MMIO_CONFIG) {
		m->bad_width++;
		return;
	}
	config_put(m, off, 1, v);
}

static uint16_t fm_read16(void *ctx, uint32_t off)
{
	struct fake_mmio *m = ctx;
	m->reads++;
	if (!check(m, off, 2, false))
		return 0xdead;
	if (off < VIO_MMIO_CONFIG) {
		m->bad_width++;
		return 0xdead;
	}
	m->config_reads[2]++;
	return (uint16_t)config_get(m, off, 2);
}

static void fm_write16(void *ctx, uint32_t off, uint16_t v)
{
	struct fake_mmio *m = ctx;
	m->writes++;
	if (!check(m, off, 2, true))
		return;
	if (off < VIO_MMIO_CONFIG) {
		m->bad_width++;
		return;
	}
	config_put(m, off, 2, v);
}

static void fm_delay(void *ctx, uint32_t us)
{
	(void)us;
	((struct fake_mmio *)ctx)->delays++;
}

const struct vio_mmio_bus fake_mmio_bus = {
	.read32 = fm_read32,
	.write32 = fm_write32,
	.read8 = fm_read8,
	.write8 = fm_write8,
	.read16 = fm_read16,
	.write16 = fm_write16,
	.delay = fm_delay,
};
