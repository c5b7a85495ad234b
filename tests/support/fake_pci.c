/* SPDX-License-Identifier: MIT */
#include "fake_pci.h"

#include <string.h>

static void put8(struct fake_pci *p, uint32_t off, uint32_t v)
{
	p->cfg[off] = (uint8_t)v;
}

static void put16(struct fake_pci *p, uint32_t off, uint32_t v)
{
	put8(p, off, v);
	put8(p, off + 1, v >> 8);
}

static void put32(struct fake_pci *p, uint32_t off, uint32_t v)
{
	put16(p, off, v);
	put16(p, off + 2, v >> 16);
}

static void vendor_cap(struct fake_pci *p, uint32_t at, uint32_t next, uint32_t len, uint32_t type,
		       const struct fp_struct *s)
{
	put8(p, at, VIO_PCI_CAP_ID_VNDR);
	put8(p, at + 1, next);
	put8(p, at + 2, len);
	put8(p, at + 3, type);
	put8(p, at + 4, s->bar);
	put8(p, at + 5, 0);
	put16(p, at + 6, 0);
	put32(p, at + 8, (uint32_t)s->off);
	put32(p, at + 12, s->len);
}

void fake_pci_build_caps(struct fake_pci *p)
{
	put16(p, VIO_PCI_CFG_STATUS, VIO_PCI_STATUS_CAP_LIST);
	put8(p, VIO_PCI_CFG_CAP_PTR, FP_CAP_COMMON);
	vendor_cap(p, FP_CAP_COMMON, FP_CAP_ISR, 16, VIO_PCI_CAP_COMMON_CFG, &p->common);
	vendor_cap(p, FP_CAP_ISR, FP_CAP_DEVICE, 16, VIO_PCI_CAP_ISR_CFG, &p->isr);
	vendor_cap(p, FP_CAP_DEVICE, FP_CAP_NOTIFY, 16, VIO_PCI_CAP_DEVICE_CFG, &p->device);
	vendor_cap(p, FP_CAP_NOTIFY, FP_CAP_PCICFG, 20, VIO_PCI_CAP_NOTIFY_CFG, &p->notify);
	put32(p, FP_CAP_NOTIFY + VIO_PCI_NOTIFY_CAP_MULT, p->notify_mult);
	struct fp_struct none = {0, 0, 0};
	vendor_cap(p, FP_CAP_PCICFG, p->msix_vectors ? FP_CAP_MSIX : 0, 20, VIO_PCI_CAP_PCI_CFG,
		   &none);
	put32(p, FP_CAP_PCICFG + 16, 0);
	if (p->msix_vectors != 0) {
		put8(p, FP_CAP_MSIX, VIO_PCI_CAP_ID_MSIX);
		put8(p, FP_CAP_MSIX + 1, 0);
		put16(p, FP_CAP_MSIX + 2,
		      (uint32_t)(p->msix_vectors - 1u) & VIO_PCI_MSIX_FLAGS_QSIZE);
		put32(p, FP_CAP_MSIX + 4, (uint32_t)p->msix_table.off | p->msix_table.bar);
		put32(p, FP_CAP_MSIX + 8, (uint32_t)p->msix_pba.off | p->msix_pba.bar);
	}
}

static void device_reset(struct fake_pci *p)
{
	p->status = 0;
	p->isr_val = 0;
	p->accepted = vio_features_none();
	p->config_vector = VIO_PCI_MSI_NO_VECTOR;
	for (unsigned i = 0; i < FP_MAX_QUEUES; i++) {
		struct fp_queue *q = &p->q[i];
		q->size = q->max;
		q->vector = VIO_PCI_MSI_NO_VECTOR;
		q->enable = 0;
		q->reset = 0;
		q->desc = q->driver = q->device = 0;
	}
	if (p->on_reset != NULL)
		p->on_reset(p);
}

void fake_pci_init(struct fake_pci *p, uint32_t id, unsigned nq, uint16_t qmax)
{
	memset(p, 0, sizeof(*p));
	put16(p, VIO_PCI_CFG_VENDOR_ID, VIO_PCI_VENDOR_ID);
	put16(p, VIO_PCI_CFG_DEVICE_ID, VIO_PCI_DEVICE_ID_BASE + id);
	put8(p, VIO_PCI_CFG_REVISION, VIO_PCI_REVISION_MODERN);
	put8(p, VIO_PCI_CFG_CLASS_BASE, 0xff);
	put16(p, VIO_PCI_CFG_SUBSYS_VENDOR_ID, VIO_PCI_VENDOR_ID);
	put16(p, VIO_PCI_CFG_SUBSYS_ID, 0x40 + id);
	put8(p, VIO_PCI_CFG_INTERRUPT_PIN, 1);
	p->bar[1] = (struct fp_bar){0x1000, VIO_PCI_BAR_MEM32, false, 0x10040000u};
	p->bar[4] = (struct fp_bar){0x4000, VIO_PCI_BAR_MEM64, true, 0x8000000000ull};
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		p->granted[i] = p->bar[i].size;
	put16(p, VIO_PCI_CFG_COMMAND, VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_MASTER);
	p->common = (struct fp_struct){4, 0x0000, 0x1000};
	p->isr = (struct fp_struct){4, 0x1000, 0x1000};
	p->device = (struct fp_struct){4, 0x2000, FP_CONFIG_MAX};
	p->notify = (struct fp_struct){4, 0x3000, 0x1000};
	p->notify_mult = 4;
	p->msix_table = (struct fp_struct){1, 0x000, FP_MSIX_MAX * 16};
	p->msix_pba = (struct fp_struct){1, 0x800, 8};
	p->msix_vectors = (uint16_t)(nq + 1 < FP_MSIX_MAX ? nq + 1 : FP_MSIX_MAX);
	fake_pci_build_caps(p);
	vio_ring_features(&p->offered);
	vio_features_set(&p->offered, VIO_F_VERSION_1);
	p->num_queues = (uint16_t)(nq < FP_MAX_QUEUES ? nq : FP_MAX_QUEUES);
	for (unsigned i = 0; i < FP_MAX_QUEUES; i++) {
		p->q[i].max = i < nq ? qmax : 0;
		p->q[i].notify_off = (uint16_t)i;
		p->q[i].ncd = (uint16_t)(0x7700 + i);
	}
	for (unsigned i = 0; i < FP_CONFIG_MAX; i++)
		p->config[i] = (uint8_t)(i ^ 0x5a);
	device_reset(p);
}

void fake_pci_unassign(struct fake_pci *p)
{
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		p->bar[i].addr = 0;
	put16(p, VIO_PCI_CFG_COMMAND, 0);
}

void fake_pci_front_config(const struct fake_pci *p, uint16_t slots,
			   struct vio_pci_front_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		cfg->bar_size[i] = p->granted[i];
	cfg->queue_slots = slots;
}

void fake_pci_raise(struct fake_pci *p, uint8_t bits)
{
	p->isr_val |= bits;
}

void fake_pci_config_set(struct fake_pci *p, uint32_t off, uint8_t val)
{
	if (off < FP_CONFIG_MAX)
		p->config[off] = val;
	p->generation++;
	p->isr_val |= VIO_PCI_ISR_CONFIG;
}

unsigned fake_pci_violations(const struct fake_pci *p)
{
	return p->cfg_bad + p->cfg_ro_writes + p->bar_bad + p->bar_outside + p->bar_stray +
	       p->field_width + p->ro_writes + p->notify_reads + p->enable_zero + p->decode_off;
}

/* ---- configuration space -------------------------------------------------------------------- */

/* Which BAR slot @i is the upper half of a 64-bit BAR. */
static bool upper_half(const struct fake_pci *p, unsigned i)
{
	return i > 0 && p->bar[i - 1].kind == VIO_PCI_BAR_MEM64;
}

static uint32_t bar_reg_read(const struct fake_pci *p, unsigned i)
{
	if (upper_half(p, i)) {
		const struct fp_bar *b = &p->bar[i - 1];
		return (uint32_t)((b->addr & ~(b->size - 1)) >> 32);
	}
	const struct fp_bar *b = &p->bar[i];
	uint32_t lo = (uint32_t)(b->addr & ~(b->size - 1));
	switch (b->kind) {
	case VIO_PCI_BAR_MEM32:
		return (lo & VIO_PCI_BAR_MEM_MASK) | (b->prefetch ? VIO_PCI_BAR_MEM_PREFETCH : 0);
	case VIO_PCI_BAR_MEM64:
		return (lo & VIO_PCI_BAR_MEM_MASK) | VIO_PCI_BAR_MEM_TYPE_64 |
		       (b->prefetch ? VIO_PCI_BAR_MEM_PREFETCH : 0);
	case VIO_PCI_BAR_IO:
		return (lo & VIO_PCI_BAR_IO_MASK) | VIO_PCI_BAR_SPACE_IO;
	default:
		return 0;
	}
}

static void bar_reg_write(struct fake_pci *p, unsigned i, uint32_t v)
{
	if (upper_half(p, i)) {
		struct fp_bar *b = &p->bar[i - 1];
		b->addr = ((b->addr & 0xffffffffu) | ((uint64_t)v << 32)) & ~(b->size - 1);
		return;
	}
	struct fp_bar *b = &p->bar[i];
	if (b->kind == VIO_PCI_BAR_NONE)
		return;
	uint64_t hi = b->kind == VIO_PCI_BAR_MEM64 ? (b->addr >> 32) << 32 : 0;
	b->addr = (hi | (v & ~0xfu)) & ~(b->size - 1);
}

static bool cfg_check(struct fake_pci *p, uint32_t off, unsigned size)
{
	if ((size != 1 && size != 2 && size != 4) || off + size > 256 || off % size != 0) {
		p->cfg_bad++;
		return false;
	}
	return true;
}

static int fp_cfg_read(void *ctx, uint32_t off, unsigned size, uint32_t *val)
{
	struct fake_pci *p = ctx;
	p->cfg_reads++;
	*val = 0xffffffffu;
	if (!cfg_check(p, off, size))
		return 0;
	uint32_t v = 0;
	for (unsigned k = 0; k < size; k++) {
		uint32_t at = off + k, byte;
		if (at >= VIO_PCI_CFG_BAR0 && at < VIO_PCI_CFG_BAR0 + 24)
			byte = bar_reg_read(p, (at - VIO_PCI_CFG_BAR0) / 4) >> (8 * (at % 4));
		else
			byte = p->cfg[at];
		v |= (byte & 0xffu) << (8 * k);
	}
	if (p->cfg_read_hook != NULL)
		(void)p->cfg_read_hook(p, off, size, &v);
	*val = v;
	return 0;
}

static int fp_cfg_write(void *ctx, uint32_t off, unsigned size, uint32_t val)
{
	struct fake_pci *p = ctx;
	p->cfg_writes++;
	if (!cfg_check(p, off, size))
		return 0;
	if (off == VIO_PCI_CFG_COMMAND && size == 2) {
		put16(p, off, val);
	} else if (off >= VIO_PCI_CFG_BAR0 && off < VIO_PCI_CFG_BAR0 + 24 && size == 4) {
		bar_reg_write(p, (off - VIO_PCI_CFG_BAR0) / 4, val);
	} else if (p->msix_vectors != 0 && off == FP_CAP_MSIX + VIO_PCI_MSIX_FLAGS && size == 2) {
		uint32_t keep = (uint32_t)p->cfg[off] | (uint32_t)p->cfg[off + 1] << 8;
		keep &= VIO_PCI_MSIX_FLAGS_QSIZE;
		put16(p, off,
		      keep | (val & (VIO_PCI_MSIX_FLAGS_ENABLE | VIO_PCI_MSIX_FLAGS_MASKALL)));
	} else {
		p->cfg_ro_writes++;
	}
	return 0;
}

/* ---- common configuration ------------------------------------------------------------------- */

static unsigned field_width(uint32_t off)
{
	if (off < 16)
		return off % 4 == 0 ? 4 : 0;
	if (off < 20)
		return off % 2 == 0 ? 2 : 0;
	if (off < 22)
		return 1;
	if (off < 32)
		return off % 2 == 0 ? 2 : 0;
	if (off < 56)
		return off % 4 == 0 ? 4 : 0;
	if (off < 64)
		return off % 2 == 0 ? 2 : 0;
	return 0;
}

static struct fp_queue *selq(struct fake_pci *p)
{
	return p->queue_sel < FP_MAX_QUEUES && p->queue_sel < p->num_queues ? &p->q[p->queue_sel]
									    : NULL;
}

static uint32_t common_read(struct fake_pci *p, uint32_t off)
{
	struct fp_queue *q = selq(p);
	switch (off) {
	case VIO_PCI_COMMON_DFSELECT:
		return p->dfsel;
	case VIO_PCI_COMMON_DF: {
		uint32_t v = vio_features_word32(&p->offered, p->dfsel);
		if (p->dfsel == 0 && (p->status & VIO_STATUS_FEATURES_OK) != 0)
			v ^= p->features_flip_after_ok;
		return v;
	}
	case VIO_PCI_COMMON_GFSELECT:
		return p->gfsel;
	case VIO_PCI_COMMON_GF:
		return vio_features_word32(&p->accepted, p->gfsel);
	case VIO_PCI_COMMON_MSIX:
		return p->config_vector;
	case VIO_PCI_COMMON_NUMQ:
		return p->num_queues;
	case VIO_PCI_COMMON_STATUS: {
		p->status_reads++;
		if (p->reset_busy > 0) {
			p->reset_busy--;
			return VIO_STATUS_ACKNOWLEDGE;
		}
		return p->status;
	}
	case VIO_PCI_COMMON_CFGGENERATION:
		if (p->generation_spins)
			p->generation++;
		return p->generation;
	case VIO_PCI_COMMON_Q_SELECT:
		return p->queue_sel;
	case VIO_PCI_COMMON_Q_SIZE:
		return q ? q->size : 0;
	case VIO_PCI_COMMON_Q_MSIX:
		return q ? q->vector : VIO_PCI_MSI_NO_VECTOR;
	case VIO_PCI_COMMON_Q_ENABLE:
		return p->queue_enable_stuck ? 1u : (q ? q->enable : 0u);
	case VIO_PCI_COMMON_Q_NOFF:
		return q ? q->notify_off : 0;
	case VIO_PCI_COMMON_Q_DESCLO:
		return q ? (uint32_t)q->desc : 0;
	case VIO_PCI_COMMON_Q_DESCHI:
		return q ? (uint32_t)(q->desc >> 32) : 0;
	case VIO_PCI_COMMON_Q_AVAILLO:
		return q ? (uint32_t)q->driver : 0;
	case VIO_PCI_COMMON_Q_AVAILHI:
		return q ? (uint32_t)(q->driver >> 32) : 0;
	case VIO_PCI_COMMON_Q_USEDLO:
		return q ? (uint32_t)q->device : 0;
	case VIO_PCI_COMMON_Q_USEDHI:
		return q ? (uint32_t)(q->device >> 32) : 0;
	case VIO_PCI_COMMON_Q_NDATA:
		return q ? q->ncd : 0;
	case VIO_PCI_COMMON_Q_RESET:
		if (q == NULL)
			return 0;
		if (q->reset_busy > 0) {
			q->reset_busy--;
			return 1;
		}
		return q->reset;
	default:
		return 0;
	}
}

static void status_write(struct fake_pci *p, uint32_t v)
{
	if (p->nstatus < FP_LOG_MAX)
		p->status_log[p->nstatus++] = (uint8_t)v;
	if (v == 0) {
		if (!p->status_stuck)
			device_reset(p);
		return;
	}
	if ((v & VIO_STATUS_FEATURES_OK) != 0 && (p->status & VIO_STATUS_FEATURES_OK) == 0 &&
	    (p->reject_features_ok || !vio_features_subset(&p->accepted, &p->offered)))
		v &= ~(uint32_t)VIO_STATUS_FEATURES_OK;
	p->status = (uint8_t)v;
}

static void set64(uint64_t *f, bool hi, uint32_t v)
{
	if (hi)
		*f = (*f & 0xffffffffu) | ((uint64_t)v << 32);
	else
		*f = (*f & ~(uint64_t)0xffffffffu) | v;
}

static void common_write(struct fake_pci *p, uint32_t off, uint32_t v)
{
	struct fp_queue *q = selq(p);
	switch (off) {
	case VIO_PCI_COMMON_DFSELECT:
		p->dfsel = v;
		break;
	case VIO_PCI_COMMON_GFSELECT:
		p->gfsel = v;
		break;
	case VIO_PCI_COMMON_GF:
		(void)vio_features_set_word32(&p->accepted, p->gfsel, v);
		break;
	case VIO_PCI_COMMON_MSIX:
		p->config_vector = p->refuse_vectors ? VIO_PCI_MSI_NO_VECTOR : (uint16_t)v;
		break;
	case VIO_PCI_COMMON_STATUS:
		status_write(p, v);
		break;
	case VIO_PCI_COMMON_Q_SELECT:
		p->queue_sel = (uint16_t)v;
		if (v >= p->num_queues)
			p->sel_past_numq++;
		break;
	case VIO_PCI_COMMON_Q_SIZE:
		if (q)
			q->size = (uint16_t)v;
		break;
	case VIO_PCI_COMMON_Q_MSIX:
		if (q)
			q->vector = p->refuse_vectors ? VIO_PCI_MSI_NO_VECTOR : (uint16_t)v;
		break;
	case VIO_PCI_COMMON_Q_ENABLE:
		if (v == 0)
			p->enable_zero++;
		if (q && v == 1) {
			q->enable = 1;
			if (p->on_enable != NULL)
				p->on_enable(p, p->queue_sel);
		}
		break;
	case VIO_PCI_COMMON_Q_DESCLO:
	case VIO_PCI_COMMON_Q_DESCHI:
		if (q)
			set64(&q->desc, off == VIO_PCI_COMMON_Q_DESCHI, v);
		break;
	case VIO_PCI_COMMON_Q_AVAILLO:
	case VIO_PCI_COMMON_Q_AVAILHI:
		if (q)
			set64(&q->driver, off == VIO_PCI_COMMON_Q_AVAILHI, v);
		break;
	case VIO_PCI_COMMON_Q_USEDLO:
	case VIO_PCI_COMMON_Q_USEDHI:
		if (q)
			set64(&q->device, off == VIO_PCI_COMMON_Q_USEDHI, v);
		break;
	case VIO_PCI_COMMON_Q_RESET:
		if (q && v == 1) {
			q->reset = 1;
			if (!p->queue_reset_stuck) {
				q->reset = 0;
				q->enable = 0;
				q->size = q->max;
				if (p->on_queue_reset != NULL)
					p->on_queue_reset(p, p->queue_sel);
			}
		}
		break;
	default: /* read-only fields */
		p->ro_writes++;
		break;
	}
}

/* ---- BARs ------------------------------------------------------------------------------------ */

static bool inside(const struct fp_struct *s, unsigned bar, uint64_t off, unsigned size)
{
	return s->len != 0 && bar == s->bar && off >= s->off && off + size <= s->off + s->len;
}

static bool bar_check(struct fake_pci *p, unsigned bar, uint64_t off, unsigned size)
{
	if (bar >= VIO_PCI_NUM_BARS || (size != 1 && size != 2 && size != 4) || off % size != 0) {
		p->bar_bad++;
		return false;
	}
	if (off + size > p->granted[bar] || off + size > p->bar[bar].size) {
		p->bar_outside++;
		return false;
	}
	return true;
}

static bool common_field(struct fake_pci *p, uint64_t rel, unsigned size)
{
	if (field_width((uint32_t)rel) != size) {
		p->field_width++;
		return false;
	}
	return true;
}

static int fp_bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t *val)
{
	struct fake_pci *p = ctx;
	p->bar_reads++;
	*val = 0xffffffffu;
	if (!bar_check(p, bar, off, size))
		return 0;
	uint32_t v = 0;
	if (inside(&p->common, bar, off, size)) {
		uint64_t rel = off - p->common.off;
		if (rel >= 64)
			v = 0;
		else if (common_field(p, rel, size))
			v = common_read(p, (uint32_t)rel);
	} else if (inside(&p->isr, bar, off, size)) {
		v = p->isr_val;
		p->isr_val = 0; /* read-to-clear, §4.1.4.5 */
	} else if (inside(&p->device, bar, off, size)) {
		uint64_t rel = off - p->device.off;
		for (unsigned k = 0; k < size; k++)
			v |= (uint32_t)(rel + k < FP_CONFIG_MAX ? p->config[rel + k] : 0)
			     << (8 * k);
	} else if (inside(&p->notify, bar, off, size)) {
		p->notify_reads++;
	} else if (inside(&p->msix_table, bar, off, size) && size == 4) {
		uint64_t rel = off - p->msix_table.off;
		v = p->msix_entries[rel / 16][(rel % 16) / 4];
	} else if (inside(&p->msix_pba, bar, off, size)) {
		v = 0;
	} else {
		p->bar_stray++;
	}
	if (p->bar_read_hook != NULL)
		(void)p->bar_read_hook(p, bar, off, size, &v);
	*val = v;
	return 0;
}

static int fp_bar_write(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t val)
{
	struct fake_pci *p = ctx;
	p->bar_writes++;
	if (!bar_check(p, bar, off, size))
		return 0;
	if (inside(&p->common, bar, off, size)) {
		uint64_t rel = off - p->common.off;
		if (rel >= 64)
			p->ro_writes++;
		else if (common_field(p, rel, size))
			common_write(p, (uint32_t)rel, val);
	} else if (inside(&p->isr, bar, off, size)) {
		p->ro_writes++;
	} else if (inside(&p->device, bar, off, size)) {
		uint64_t rel = off - p->device.off;
		for (unsigned k = 0; k < size; k++)
			if (rel + k < FP_CONFIG_MAX)
				p->config[rel + k] = (uint8_t)(val >> (8 * k));
	} else if (inside(&p->notify, bar, off, size)) {
		struct fp_notify n = {off - p->notify.off, size, val};
		if (p->nnotify < FP_LOG_MAX)
			p->notify_log[p->nnotify++] = n;
		if (p->on_notify != NULL)
			p->on_notify(p, &n);
	} else if (inside(&p->msix_table, bar, off, size) && size == 4) {
		uint64_t rel = off - p->msix_table.off;
		p->msix_entries[rel / 16][(rel % 16) / 4] = val;
	} else {
		p->bar_stray++;
	}
	return 0;
}

static void fp_delay(void *ctx, uint32_t us)
{
	(void)us;
	((struct fake_pci *)ctx)->delays++;
}

const struct vio_pci_bus fake_pci_bus = {
	.cfg_read = fp_cfg_read,
	.cfg_write = fp_cfg_write,
	.bar_read = fp_bar_read,
	.bar_write = fp_bar_write,
	.delay = fp_delay,
};

/* ---- physical addresses ------------------------------------------------------------------------ */

static int decode(struct fake_pci *p, uint64_t addr, unsigned size, uint64_t *off)
{
	uint32_t cmd = (uint32_t)p->cfg[VIO_PCI_CFG_COMMAND] |
		       (uint32_t)p->cfg[VIO_PCI_CFG_COMMAND + 1] << 8;
	if ((cmd & VIO_PCI_COMMAND_MEMORY) != 0)
		for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++) {
			const struct fp_bar *b = &p->bar[i];
			if ((b->kind == VIO_PCI_BAR_MEM32 || b->kind == VIO_PCI_BAR_MEM64) &&
			    addr >= b->addr && addr - b->addr + size <= b->size) {
				*off = addr - b->addr;
				return (int)i;
			}
		}
	p->decode_off++;
	return -1;
}

uint32_t fake_pci_mem_read(struct fake_pci *p, uint64_t addr, unsigned size)
{
	uint64_t off;
	int bar = decode(p, addr, size, &off);
	uint32_t v = 0xffffffffu;
	if (bar >= 0)
		(void)fp_bar_read(p, (unsigned)bar, off, size, &v);
	return v;
}

void fake_pci_mem_write(struct fake_pci *p, uint64_t addr, unsigned size, uint32_t val)
{
	uint64_t off;
	int bar = decode(p, addr, size, &off);
	if (bar >= 0)
		(void)fp_bar_write(p, (unsigned)bar, off, size, val);
}
