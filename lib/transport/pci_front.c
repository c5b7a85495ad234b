/* SPDX-License-Identifier: MIT */
/* virtio-pci modern front: the driver core's transport ops over PCI
 * configuration-space and BAR accessors (virtio 1.4 §4.1). The probe finds
 * the virtio structures; every BAR access afterwards stays inside one of
 * them, and every structure was checked to lie inside the BAR size the
 * embedder granted. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/driver.h>
#include <virtio/errors.h>
#include <virtio/features.h>
#include <virtio/pci.h>
#include <virtio/pci_front.h>
#include <virtio/spec.h>

/* A virtio structure in a BAR. */
struct region {
	uint64_t off;
	uint32_t len;
	uint8_t bar;
};

/* Per queue: its notification address (BAR offset, computed and checked
 * at queue setup) and what to write there. */
struct pf_queue {
	uint64_t notify;
	uint16_t ncd;  /* queue_notif_config_data */
	uint8_t width; /* 2 or 4 bytes */
	uint8_t valid; /* programmed since the last reset */
};

struct vio_pci_front {
	const struct vio_pci_bus *bus;
	void *ctx;
	uint64_t bar_size[VIO_PCI_NUM_BARS];
	struct region common, notify, isr, device;
	uint32_t notify_mult;
	uint32_t ids; /* configuration dword 0 (vendor, device) at the probe */
	uint32_t device_type;
	uint32_t drv_feat1; /* driver features 32..63 as last written */
	uint32_t msix_table_off, msix_pba_off;
	uint16_t nslots;
	uint16_t msix_cap, msix_size;
	uint8_t msix_table_bar, msix_pba_bar;
	bool has_device, has_msix;
	struct pf_queue q[];
};

_Static_assert(sizeof(struct vio_pci_front) <= VIO__PCI_FRONT_FIXED_BYTES,
	       "VIO__PCI_FRONT_FIXED_BYTES too small");
_Static_assert(sizeof(struct pf_queue) <= VIO__PCI_FRONT_PER_QUEUE_BYTES,
	       "VIO__PCI_FRONT_PER_QUEUE_BYTES too small");
_Static_assert(_Alignof(struct vio_pci_front) <= VIO_PCI_FRONT_MEM_ALIGN,
	       "VIO_PCI_FRONT_MEM_ALIGN too small");

#define NOTIF_DATA_BIT (1u << (VIO_F_NOTIFICATION_DATA - 32))
#define NOTIF_CONFIG_DATA_BIT (1u << (VIO_F_NOTIF_CONFIG_DATA - 32))
/* Common configuration fields past the virtio 1.0 layout. */
#define COMMON_NDATA_END (VIO_PCI_COMMON_Q_NDATA + 2u)
#define COMMON_RESET_END (VIO_PCI_COMMON_Q_RESET + 2u)

static uint32_t width_mask(unsigned size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8u * size)) - 1u;
}

/* ---- configuration space ---------------------------------------------------------------- */

static int cfg_rd(const struct vio_pci_bus *bus, void *ctx, uint32_t off, unsigned size,
		  uint32_t *v)
{
	*v = 0;
	int rc = bus->cfg_read(ctx, off, size, v);
	*v &= width_mask(size);
	return rc;
}

static int cfg_wr(const struct vio_pci_bus *bus, void *ctx, uint32_t off, unsigned size, uint32_t v)
{
	return bus->cfg_write(ctx, off, size, v & width_mask(size));
}

/* ---- BARs ----------------------------------------------------------------------------------- */

/* @off + @size lies inside @r: the callers check it or use fixed fields
 * the probe verified the region holds. */
static int r_rd(const struct vio_pci_front *f, const struct region *r, uint32_t off, unsigned size,
		uint32_t *v)
{
	*v = 0;
	int rc = f->bus->bar_read(f->ctx, r->bar, r->off + off, size, v);
	*v &= width_mask(size);
	return rc;
}

static int r_wr(const struct vio_pci_front *f, const struct region *r, uint32_t off, unsigned size,
		uint32_t v)
{
	return f->bus->bar_write(f->ctx, r->bar, r->off + off, size, v & width_mask(size));
}

static int c_rd(const struct vio_pci_front *f, uint32_t off, unsigned size, uint32_t *v)
{
	return r_rd(f, &f->common, off, size, v);
}

static int c_wr(const struct vio_pci_front *f, uint32_t off, unsigned size, uint32_t v)
{
	return r_wr(f, &f->common, off, size, v);
}

/* ---- BAR sizing and assignment ---------------------------------------------------------------- */

static uint64_t lowest_bit(uint64_t mask)
{
	return mask & (~mask + 1u);
}

static bool bus_ok(const struct vio_pci_bus *bus)
{
	return bus != NULL && bus->cfg_read != NULL && bus->cfg_write != NULL &&
	       bus->bar_read != NULL && bus->bar_write != NULL;
}

static uint32_t bar_reg(unsigned i)
{
	return VIO_PCI_CFG_BAR0 + 4u * i;
}

/* Size one BAR slot (decoding is off): all-ones, read the mask, restore. */
static int probe_slot(const struct vio_pci_bus *bus, void *ctx, unsigned i, uint32_t *orig,
		      uint32_t *mask)
{
	int rc = cfg_rd(bus, ctx, bar_reg(i), 4, orig);
	if (rc == 0)
		rc = cfg_wr(bus, ctx, bar_reg(i), 4, 0xffffffffu);
	if (rc == 0)
		rc = cfg_rd(bus, ctx, bar_reg(i), 4, mask);
	if (rc == 0)
		rc = cfg_wr(bus, ctx, bar_reg(i), 4, *orig);
	return rc;
}

static int size_bars(const struct vio_pci_bus *bus, void *ctx, struct vio_pci_bars *out)
{
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		out->bar[i] = (struct vio_pci_bar){0};
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++) {
		struct vio_pci_bar *b = &out->bar[i];
		uint32_t orig, mask;
		int rc = probe_slot(bus, ctx, i, &orig, &mask);
		if (rc < 0)
			return rc;
		if ((orig & VIO_PCI_BAR_SPACE_IO) != 0) {
			uint32_t m = mask & VIO_PCI_BAR_IO_MASK;
			if (m == 0)
				continue;
			if ((m & 0xffff0000u) == 0)
				m |= 0xffff0000u; /* a 16-bit I/O decoder */
			b->kind = VIO_PCI_BAR_IO;
			b->size = lowest_bit(m);
			b->addr = orig & VIO_PCI_BAR_IO_MASK;
			continue;
		}
		bool is64 = (orig & VIO_PCI_BAR_MEM_TYPE_MASK) == VIO_PCI_BAR_MEM_TYPE_64;
		uint64_t m = mask & VIO_PCI_BAR_MEM_MASK;
		uint64_t addr = orig & VIO_PCI_BAR_MEM_MASK;
		if (is64) {
			if (i + 1 == VIO_PCI_NUM_BARS)
				continue; /* no slot for the upper half: unusable */
			uint32_t orig_hi, mask_hi;
			rc = probe_slot(bus, ctx, i + 1, &orig_hi, &mask_hi);
			if (rc < 0)
				return rc;
			m |= (uint64_t)mask_hi << 32;
			addr |= (uint64_t)orig_hi << 32;
		}
		if (m != 0) {
			b->kind = is64 ? VIO_PCI_BAR_MEM64 : VIO_PCI_BAR_MEM32;
			b->size = lowest_bit(m);
			b->addr = addr;
			b->prefetchable = (orig & VIO_PCI_BAR_MEM_PREFETCH) != 0;
		}
		if (is64)
			i++; /* the upper half is not a BAR of its own */
	}
	return 0;
}

/* Disable decoding, size, and leave decoding off; *cmd receives the
 * command register as found. */
static int size_quiet(const struct vio_pci_bus *bus, void *ctx, struct vio_pci_bars *out,
		      uint32_t *cmd)
{
	int rc = cfg_rd(bus, ctx, VIO_PCI_CFG_COMMAND, 2, cmd);
	if (rc == 0)
		rc = cfg_wr(bus, ctx, VIO_PCI_CFG_COMMAND, 2,
			    *cmd & ~(uint32_t)(VIO_PCI_COMMAND_IO | VIO_PCI_COMMAND_MEMORY));
	if (rc == 0)
		rc = size_bars(bus, ctx, out);
	return rc;
}

int vio_pci_front_size_bars(const struct vio_pci_bus *bus, void *ctx, struct vio_pci_bars *out)
{
	if (!bus_ok(bus) || out == NULL)
		return -VIO_EINVAL;
	uint32_t cmd = 0;
	int rc = size_quiet(bus, ctx, out, &cmd);
	int rc2 = cfg_wr(bus, ctx, VIO_PCI_CFG_COMMAND, 2, cmd);
	return rc < 0 ? rc : rc2;
}

/* Place a BAR of @size (a power of two) at the next naturally aligned
 * address in [*cur, end); false if it does not fit. */
static bool place(uint64_t *cur, uint64_t end, uint64_t size, uint64_t limit, uint64_t *at)
{
	uint64_t align = size < 16u ? 16u : size;
	uint64_t a = (*cur + (align - 1u)) & ~(align - 1u);
	if (a < *cur || a > end || size > end - a || a > limit || size > limit - a)
		return false;
	*at = a;
	*cur = a + size;
	return true;
}

int vio_pci_front_assign_bars(const struct vio_pci_bus *bus, void *ctx, struct vio_pci_window *win,
			      struct vio_pci_bars *out)
{
	if (!bus_ok(bus) || win == NULL || out == NULL)
		return -VIO_EINVAL;
	if (win->mem_size > UINT64_MAX - win->mem_base || win->io_size > UINT64_MAX - win->io_base)
		return -VIO_EINVAL;
	uint32_t cmd = 0;
	int rc = size_quiet(bus, ctx, out, &cmd);
	if (rc < 0)
		return rc;

	/* Memory BARs, largest first: each then starts naturally aligned
	 * right after the previous one. */
	uint64_t cur = win->mem_base, end = win->mem_base + win->mem_size;
	bool any_mem = false, any_io = false;
	for (;;) {
		struct vio_pci_bar *best = NULL;
		for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++) {
			struct vio_pci_bar *b = &out->bar[i];
			if ((b->kind == VIO_PCI_BAR_MEM32 || b->kind == VIO_PCI_BAR_MEM64) &&
			    !b->assigned && (best == NULL || b->size > best->size))
				best = b;
		}
		if (best == NULL)
			break;
		uint64_t limit = best->kind == VIO_PCI_BAR_MEM32 ? 0x100000000ull : UINT64_MAX;
		if (!place(&cur, end, best->size, limit, &best->addr))
			return -VIO_ENOSPC;
		best->assigned = true;
		any_mem = true;
	}
	uint64_t io = win->io_base, io_end = win->io_base + win->io_size;
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS && win->io_size != 0; i++) {
		struct vio_pci_bar *b = &out->bar[i];
		if (b->kind == VIO_PCI_BAR_IO &&
		    place(&io, io_end, b->size, 0x100000000ull, &b->addr)) {
			b->assigned = true;
			any_io = true;
		}
	}

	for (unsigned i = 0; i < VIO_PCI_NUM_BARS && rc == 0; i++) {
		const struct vio_pci_bar *b = &out->bar[i];
		if (!b->assigned)
			continue;
		rc = cfg_wr(bus, ctx, bar_reg(i), 4, (uint32_t)b->addr);
		if (rc == 0 && b->kind == VIO_PCI_BAR_MEM64)
			rc = cfg_wr(bus, ctx, bar_reg(i + 1), 4, (uint32_t)(b->addr >> 32));
	}
	if (rc < 0)
		return rc;
	cmd &= ~(uint32_t)(VIO_PCI_COMMAND_IO | VIO_PCI_COMMAND_MEMORY);
	cmd |= VIO_PCI_COMMAND_MASTER;
	if (any_mem)
		cmd |= VIO_PCI_COMMAND_MEMORY;
	if (any_io)
		cmd |= VIO_PCI_COMMAND_IO;
	rc = cfg_wr(bus, ctx, VIO_PCI_CFG_COMMAND, 2, cmd);
	if (rc < 0)
		return rc;
	/* The cursor: what is left of each window starts right after the last
	 * BAR placed in it (the next function's BARs align themselves). */
	win->mem_base = cur;
	win->mem_size = end - cur;
	win->io_base = io;
	win->io_size = io_end - io;
	return 0;
}

/* ---- probe ------------------------------------------------------------------------------------- */

size_t vio_pci_front_mem_size(uint16_t queue_slots)
{
	return queue_slots == 0 ? 0 : VIO_PCI_FRONT_MEM_SIZE(queue_slots);
}

/* The first usable capability of each structure type, or why the ones seen
 * were not usable. */
struct cand {
	struct region r;
	uint32_t mult;
	int why;
	bool seen, found;
};

#define NTYPES (VIO_PCI_CAP_DEVICE_CFG + 1u)

/* §4.1.4: read a virtio structure capability at @ptr (its first dword
 * already read: @len, @type) and keep it if nothing of its type was kept
 * and the driver can use it. */
static int vendor_cap(struct vio_pci_front *f, uint32_t ptr, uint32_t len, uint32_t type,
		      struct cand *c)
{
	if (type < VIO_PCI_CAP_COMMON_CFG || type > VIO_PCI_CAP_DEVICE_CFG)
		return 0; /* PCI_CFG, shared memory, vendor data, reserved: unused here */
	struct cand *k = &c[type];
	k->seen = true;
	if (k->found)
		return 0;
	uint32_t need = type == VIO_PCI_CAP_NOTIFY_CFG ? (uint32_t)sizeof(struct vio_pci_notify_cap)
						       : (uint32_t)sizeof(struct vio_pci_cap);
	int why = 0;
	if (len < need || ptr + need > VIO_PCI_CFG_SPACE_SIZE) {
		if (k->why == 0)
			k->why = -VIO_EPCI_CAP;
		return 0;
	}
	uint32_t d1, off, length, mult = 0;
	int rc = cfg_rd(f->bus, f->ctx, ptr + 4, 4, &d1);
	if (rc == 0)
		rc = cfg_rd(f->bus, f->ctx, ptr + 8, 4, &off);
	if (rc == 0)
		rc = cfg_rd(f->bus, f->ctx, ptr + 12, 4, &length);
	if (rc == 0 && type == VIO_PCI_CAP_NOTIFY_CFG)
		rc = cfg_rd(f->bus, f->ctx, ptr + VIO_PCI_NOTIFY_CAP_MULT, 4, &mult);
	if (rc < 0)
		return rc;
	uint32_t bar = d1 & 0xffu;
	uint32_t min_len = 1, align = 1;
	switch (type) {
	case VIO_PCI_CAP_COMMON_CFG:
		min_len = VIO_PCI_FRONT_COMMON_MIN;
		align = 4; /* §4.1.4.3.1 */
		break;
	case VIO_PCI_CAP_NOTIFY_CFG:
		min_len = 2; /* §4.1.4.4.1; the per-queue address is checked at setup */
		align = 2;
		break;
	case VIO_PCI_CAP_DEVICE_CFG:
		min_len = 0;
		align = 4; /* §4.1.4.6.1 */
		break;
	default: /* ISR: one byte, any alignment (§4.1.4.5) */
		break;
	}
	/* §4.1.4.1: a reserved BAR value means "ignore this capability". */
	if (bar >= VIO_PCI_NUM_BARS || f->bar_size[bar] == 0 ||
	    (uint64_t)off + length > f->bar_size[bar] || length < min_len || off % align != 0)
		why = -VIO_EPCI_REGION;
	if (why != 0) {
		if (k->why == 0)
			k->why = why;
		return 0;
	}
	k->found = true;
	k->r.bar = (uint8_t)bar;
	k->r.off = off;
	k->r.len = length;
	k->mult = mult;
	return 0;
}

static int msix_cap(struct vio_pci_front *f, uint32_t ptr, uint32_t d0)
{
	if (f->has_msix)
		return 0;
	if (ptr + VIO_PCI_MSIX_CAP_SIZE > VIO_PCI_CFG_SPACE_SIZE)
		return -VIO_EPCI_CAP;
	uint32_t table, pba;
	int rc = cfg_rd(f->bus, f->ctx, ptr + VIO_PCI_MSIX_TABLE, 4, &table);
	if (rc == 0)
		rc = cfg_rd(f->bus, f->ctx, ptr + VIO_PCI_MSIX_PBA, 4, &pba);
	if (rc < 0)
		return rc;
	f->has_msix = true;
	f->msix_cap = (uint16_t)ptr;
	f->msix_size = (uint16_t)(((d0 >> 16) & VIO_PCI_MSIX_FLAGS_QSIZE) + 1u);
	f->msix_table_bar = (uint8_t)(table & VIO_PCI_MSIX_BIR_MASK);
	f->msix_table_off = table & ~(uint32_t)VIO_PCI_MSIX_BIR_MASK;
	f->msix_pba_bar = (uint8_t)(pba & VIO_PCI_MSIX_BIR_MASK);
	f->msix_pba_off = pba & ~(uint32_t)VIO_PCI_MSIX_BIR_MASK;
	return 0;
}

/* Walk the capability list: at most one visit per 4-byte slot of
 * 0x40..0xff (48 slots), so a loop is caught and the walk is bounded. */
static int walk(struct vio_pci_front *f, struct cand *c, bool *any_virtio)
{
	uint32_t ptr;
	int rc = cfg_rd(f->bus, f->ctx, VIO_PCI_CFG_CAP_PTR, 1, &ptr);
	if (rc < 0)
		return rc;
	uint64_t visited = 0;
	while (ptr != 0) {
		if (ptr < VIO_PCI_CAP_PTR_MIN || ptr % 4 != 0 || ptr + 4 > VIO_PCI_CFG_SPACE_SIZE)
			return -VIO_EPCI_CAP;
		uint64_t bit = 1ull << (ptr / 4);
		if ((visited & bit) != 0)
			return -VIO_EPCI_CAP; /* a loop */
		visited |= bit;
		uint32_t d0;
		rc = cfg_rd(f->bus, f->ctx, ptr, 4, &d0);
		if (rc < 0)
			return rc;
		uint32_t id = d0 & 0xffu;
		if (id == VIO_PCI_CAP_ID_VNDR) {
			uint32_t type = d0 >> 24;
			if (type >= VIO_PCI_CAP_COMMON_CFG && type <= VIO_PCI_CAP_DEVICE_CFG)
				*any_virtio = true;
			rc = vendor_cap(f, ptr, (d0 >> 16) & 0xffu, type, c);
		} else if (id == VIO_PCI_CAP_ID_MSIX) {
			rc = msix_cap(f, ptr, d0);
		}
		if (rc < 0)
			return rc;
		ptr = (d0 >> 8) & 0xffu;
	}
	return 0;
}

/* §3.1.1: a driver that gives up on a device sets FAILED. */
static void give_up(const struct vio_pci_front *f)
{
	uint32_t st;
	if (c_rd(f, VIO_PCI_COMMON_STATUS, 1, &st) == 0)
		(void)c_wr(f, VIO_PCI_COMMON_STATUS, 1, st | VIO_STATUS_FAILED);
}

static int identify(struct vio_pci_front *f)
{
	uint32_t d0, v;
	int rc = cfg_rd(f->bus, f->ctx, VIO_PCI_CFG_VENDOR_ID, 4, &d0);
	if (rc < 0)
		return rc;
	uint32_t vendor = d0 & 0xffffu, dev = d0 >> 16;
	if (vendor == 0xffffu)
		return -VIO_ENODEV; /* no function answers here */
	if (vendor != VIO_PCI_VENDOR_ID || dev < VIO_PCI_DEVICE_ID_TRANS_FIRST ||
	    dev > VIO_PCI_DEVICE_ID_LAST)
		return -VIO_ENOT_VIRTIO;
	f->ids = d0;
	rc = cfg_rd(f->bus, f->ctx, VIO_PCI_CFG_HEADER_TYPE, 1, &v);
	if (rc < 0)
		return rc;
	if ((v & 0x7fu) != 0)
		return -VIO_ENOT_VIRTIO;
	if (dev >= VIO_PCI_DEVICE_ID_BASE) {
		f->device_type = dev - VIO_PCI_DEVICE_ID_BASE;
	} else {
		/* §4.1.2.3: a transitional device's subsystem device ID is its
		 * virtio device ID. */
		rc = cfg_rd(f->bus, f->ctx, VIO_PCI_CFG_SUBSYS_ID, 2, &v);
		if (rc < 0)
			return rc;
		f->device_type = v;
	}
	if (f->device_type == 0)
		return -VIO_ENODEV;
	rc = cfg_rd(f->bus, f->ctx, VIO_PCI_CFG_STATUS, 2, &v);
	if (rc < 0)
		return rc;
	/* §4.1.5.1.1.1: without the virtio capabilities it is a legacy device. */
	if ((v & VIO_PCI_STATUS_CAP_LIST) == 0)
		return -VIO_ELEGACY;
	return 0;
}

int vio_pci_front_probe(struct vio_pci_front **fp, void *mem, size_t mem_size,
			const struct vio_pci_bus *bus, void *bus_ctx,
			const struct vio_pci_front_config *cfg)
{
	if (fp == NULL || mem == NULL || !bus_ok(bus) || cfg == NULL || cfg->queue_slots == 0 ||
	    mem_size < vio_pci_front_mem_size(cfg->queue_slots) ||
	    ((uintptr_t)mem % VIO_PCI_FRONT_MEM_ALIGN) != 0)
		return -VIO_EINVAL;
	struct vio_pci_front *f = mem;
	*f = (struct vio_pci_front){0};
	f->bus = bus;
	f->ctx = bus_ctx;
	f->nslots = cfg->queue_slots;
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		f->bar_size[i] = cfg->bar_size[i];
	for (uint16_t i = 0; i < f->nslots; i++)
		f->q[i] = (struct pf_queue){0};

	int rc = identify(f);
	if (rc < 0)
		return rc;
	struct cand c[NTYPES] = {0};
	bool any_virtio = false;
	rc = walk(f, c, &any_virtio);
	if (rc == 0 && !any_virtio)
		return -VIO_ELEGACY;
	for (unsigned t = VIO_PCI_CAP_COMMON_CFG; t <= VIO_PCI_CAP_ISR_CFG && rc == 0; t++)
		if (!c[t].found)
			rc = c[t].seen ? c[t].why : -VIO_EPCI_MISSING;
	if (c[VIO_PCI_CAP_COMMON_CFG].found)
		f->common = c[VIO_PCI_CAP_COMMON_CFG].r;
	if (rc < 0) {
		if (c[VIO_PCI_CAP_COMMON_CFG].found)
			give_up(f);
		return rc;
	}
	f->notify = c[VIO_PCI_CAP_NOTIFY_CFG].r;
	f->notify_mult = c[VIO_PCI_CAP_NOTIFY_CFG].mult;
	f->isr = c[VIO_PCI_CAP_ISR_CFG].r;
	f->has_device = c[VIO_PCI_CAP_DEVICE_CFG].found;
	if (f->has_device)
		f->device = c[VIO_PCI_CAP_DEVICE_CFG].r;
	*fp = f;
	return 0;
}

uint32_t vio_pci_front_device_id(const struct vio_pci_front *f)
{
	return f->device_type;
}

uint16_t vio_pci_front_pci_device_id(const struct vio_pci_front *f)
{
	return (uint16_t)(f->ids >> 16);
}

uint32_t vio_pci_front_config_size(const struct vio_pci_front *f)
{
	return f->has_device ? f->device.len : 0;
}

int vio_pci_front_region(const struct vio_pci_front *f, unsigned cfg_type, struct vio_pci_region *r)
{
	const struct region *s;
	switch (cfg_type) {
	case VIO_PCI_CAP_COMMON_CFG:
		s = &f->common;
		break;
	case VIO_PCI_CAP_NOTIFY_CFG:
		s = &f->notify;
		break;
	case VIO_PCI_CAP_ISR_CFG:
		s = &f->isr;
		break;
	case VIO_PCI_CAP_DEVICE_CFG:
		if (!f->has_device)
			return -VIO_EINVAL;
		s = &f->device;
		break;
	default:
		return -VIO_EINVAL;
	}
	r->bar = s->bar;
	r->offset = s->off;
	r->length = s->len;
	return 0;
}

int vio_pci_front_msix(const struct vio_pci_front *f, struct vio_pci_msix_info *info)
{
	if (!f->has_msix)
		return -VIO_ENODEV;
	info->cap = f->msix_cap;
	info->table_size = f->msix_size;
	info->table_bar = f->msix_table_bar;
	info->table_off = f->msix_table_off;
	info->pba_bar = f->msix_pba_bar;
	info->pba_off = f->msix_pba_off;
	return 0;
}

int vio_pci_front_msix_set_entry(struct vio_pci_front *f, uint16_t entry, uint64_t addr,
				 uint32_t data, bool masked)
{
	if (!f->has_msix)
		return -VIO_ENODEV;
	if (entry >= f->msix_size)
		return -VIO_EINVAL;
	uint64_t off = (uint64_t)f->msix_table_off + (uint64_t)entry * VIO_PCI_MSIX_ENTRY_SIZE;
	if (f->msix_table_bar >= VIO_PCI_NUM_BARS ||
	    off + VIO_PCI_MSIX_ENTRY_SIZE > f->bar_size[f->msix_table_bar])
		return -VIO_EPCI_REGION;
	struct region t = {off, VIO_PCI_MSIX_ENTRY_SIZE, f->msix_table_bar};
	/* Mask the entry while its address and data change. */
	int rc = r_wr(f, &t, VIO_PCI_MSIX_ENTRY_VECTOR_CTRL, 4, VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT);
	if (rc == 0)
		rc = r_wr(f, &t, VIO_PCI_MSIX_ENTRY_LOWER_ADDR, 4, (uint32_t)addr);
	if (rc == 0)
		rc = r_wr(f, &t, VIO_PCI_MSIX_ENTRY_UPPER_ADDR, 4, (uint32_t)(addr >> 32));
	if (rc == 0)
		rc = r_wr(f, &t, VIO_PCI_MSIX_ENTRY_DATA, 4, data);
	if (rc == 0 && !masked)
		rc = r_wr(f, &t, VIO_PCI_MSIX_ENTRY_VECTOR_CTRL, 4, 0);
	return rc;
}

int vio_pci_front_msix_enable(struct vio_pci_front *f, bool enable)
{
	if (!f->has_msix)
		return -VIO_ENODEV;
	uint32_t at = f->msix_cap + VIO_PCI_MSIX_FLAGS, v;
	int rc = cfg_rd(f->bus, f->ctx, at, 2, &v);
	if (rc < 0)
		return rc;
	v &= ~(uint32_t)(VIO_PCI_MSIX_FLAGS_MASKALL | VIO_PCI_MSIX_FLAGS_ENABLE);
	if (enable)
		v |= VIO_PCI_MSIX_FLAGS_ENABLE;
	return cfg_wr(f->bus, f->ctx, at, 2, v);
}

void vio_pci_front_drv_config(struct vio_pci_front *f, struct vio_drv_config *cfg)
{
	cfg->ops = &vio_pci_front_ops;
	cfg->ops_ctx = f;
}

/* ---- the transport ops --------------------------------------------------------------------- */

static void forget_queues(struct vio_pci_front *f)
{
	for (uint16_t i = 0; i < f->nslots; i++)
		f->q[i].valid = 0;
}

static int get_status(void *ctx, uint8_t *status)
{
	uint32_t v;
	int rc = c_rd(ctx, VIO_PCI_COMMON_STATUS, 1, &v);
	*status = (uint8_t)v;
	return rc;
}

static int set_status(void *ctx, uint8_t status)
{
	struct vio_pci_front *f = ctx;
	if (status == 0) {
		/* A reset forgets every queue and the accepted features. */
		forget_queues(f);
		f->drv_feat1 = 0;
	}
	return c_wr(f, VIO_PCI_COMMON_STATUS, 1, status);
}

static int get_device_features(void *ctx, uint32_t window, uint32_t *bits)
{
	int rc = c_wr(ctx, VIO_PCI_COMMON_DFSELECT, 4, window);
	if (rc == 0)
		rc = c_rd(ctx, VIO_PCI_COMMON_DF, 4, bits);
	return rc;
}

static int set_driver_features(void *ctx, uint32_t window, uint32_t bits)
{
	struct vio_pci_front *f = ctx;
	if (window == 1)
		f->drv_feat1 = bits; /* NOTIFICATION_DATA, NOTIF_CONFIG_DATA */
	int rc = c_wr(f, VIO_PCI_COMMON_GFSELECT, 4, window);
	if (rc == 0)
		rc = c_wr(f, VIO_PCI_COMMON_GF, 4, bits);
	return rc;
}

/* A device configuration access at @offset of @width: inside the
 * structure, naturally aligned (at most 4, §4.1.3.1). */
static int config_access(const struct vio_pci_front *f, uint32_t offset, unsigned width)
{
	uint32_t size = f->has_device ? f->device.len : 0;
	if (width != 1 && width != 2 && width != 4 && width != 8)
		return -VIO_EINVAL;
	if (offset > size || width > size - offset)
		return -VIO_EINVAL;
	if (offset % (width < 4 ? width : 4u) != 0)
		return -VIO_EINVAL;
	return 0;
}

static int config_read(void *ctx, uint32_t offset, unsigned width, uint64_t *value)
{
	const struct vio_pci_front *f = ctx;
	int rc = config_access(f, offset, width);
	if (rc < 0)
		return rc;
	uint32_t lo, hi = 0;
	rc = r_rd(f, &f->device, offset, width < 4 ? width : 4u, &lo);
	if (rc == 0 && width == 8) /* two 32-bit halves, low first (§4.1.3) */
		rc = r_rd(f, &f->device, offset + 4, 4, &hi);
	*value = (uint64_t)lo | ((uint64_t)hi << 32);
	return rc;
}

static int config_write(void *ctx, uint32_t offset, unsigned width, uint64_t value)
{
	const struct vio_pci_front *f = ctx;
	int rc = config_access(f, offset, width);
	if (rc < 0)
		return rc;
	rc = r_wr(f, &f->device, offset, width < 4 ? width : 4u, (uint32_t)value);
	if (rc == 0 && width == 8)
		rc = r_wr(f, &f->device, offset + 4, 4, (uint32_t)(value >> 32));
	return rc;
}

static int config_generation(void *ctx, uint32_t *generation)
{
	return c_rd(ctx, VIO_PCI_COMMON_CFGGENERATION, 1, generation);
}

/* The IDs read by the probe must not change. */
static int device_id(void *ctx, uint32_t *id)
{
	const struct vio_pci_front *f = ctx;
	uint32_t d0;
	int rc = cfg_rd(f->bus, f->ctx, VIO_PCI_CFG_VENDOR_ID, 4, &d0);
	if (rc < 0)
		return rc;
	if (d0 != f->ids)
		return -VIO_EDEVICE;
	*id = f->device_type;
	return 0;
}

static int num_queues(void *ctx, uint16_t *num)
{
	uint32_t v;
	int rc = c_rd(ctx, VIO_PCI_COMMON_NUMQ, 2, &v);
	*num = (uint16_t)v;
	return rc;
}

static int select_queue(const struct vio_pci_front *f, uint16_t index)
{
	if (index >= f->nslots)
		return -VIO_EINVAL;
	return c_wr(f, VIO_PCI_COMMON_Q_SELECT, 2, index);
}

static int queue_max(void *ctx, uint16_t index, uint32_t *max)
{
	const struct vio_pci_front *f = ctx;
	*max = 0;
	if (index >= f->nslots)
		return -VIO_EINVAL;
	/* A queue at or past num_queues does not exist: not selected at all. */
	uint32_t nq;
	int rc = c_rd(f, VIO_PCI_COMMON_NUMQ, 2, &nq);
	if (rc < 0 || index >= nq)
		return rc;
	rc = select_queue(f, index);
	if (rc == 0)
		rc = c_rd(f, VIO_PCI_COMMON_Q_SIZE, 2, max);
	return rc;
}

static int write64(const struct vio_pci_front *f, uint32_t off, uint64_t v)
{
	int rc = c_wr(f, off, 4, (uint32_t)v);
	if (rc == 0)
		rc = c_wr(f, off + 4, 4, (uint32_t)(v >> 32));
	return rc;
}

/* §4.1.4.4: the queue's notification address is
 * cap.offset + queue_notify_off × notify_off_multiplier; it must leave room
 * for the notification (2 bytes, 4 with NOTIFICATION_DATA) inside the
 * structure, and be aligned for it. */
static int notify_addr(struct vio_pci_front *f, uint16_t index)
{
	struct pf_queue *q = &f->q[index];
	uint32_t noff;
	int rc = c_rd(f, VIO_PCI_COMMON_Q_NOFF, 2, &noff);
	if (rc < 0)
		return rc;
	unsigned width = (f->drv_feat1 & NOTIF_DATA_BIT) != 0 ? 4u : 2u;
	uint64_t rel = (uint64_t)noff * f->notify_mult; /* < 2^48 */
	if (rel > f->notify.len || width > f->notify.len - rel)
		return -VIO_EDEVICE;
	uint64_t at = f->notify.off + rel;
	if (at % width != 0)
		return -VIO_EDEVICE;
	q->ncd = 0;
	if ((f->drv_feat1 & NOTIF_CONFIG_DATA_BIT) != 0) {
		/* The field exists only in a common configuration that long. */
		if (f->common.len < COMMON_NDATA_END)
			return -VIO_EDEVICE;
		uint32_t v;
		rc = c_rd(f, VIO_PCI_COMMON_Q_NDATA, 2, &v);
		if (rc < 0)
			return rc;
		q->ncd = (uint16_t)v;
	}
	q->notify = at;
	q->width = (uint8_t)width;
	q->valid = 1;
	return 0;
}

static int queue_setup(void *ctx, uint16_t index, uint16_t size, uint64_t desc, uint64_t driver,
		       uint64_t device)
{
	struct vio_pci_front *f = ctx;
	int rc = select_queue(f, index);
	if (rc < 0)
		return rc;
	f->q[index].valid = 0;
	/* §4.1.4.3: queue_enable reads 0 after a reset or a queue reset; a
	 * queue still enabled must not be reprogrammed. */
	uint32_t en;
	rc = c_rd(f, VIO_PCI_COMMON_Q_ENABLE, 2, &en);
	if (rc < 0)
		return rc;
	if (en != 0)
		return -VIO_EDEVICE;
	rc = c_wr(f, VIO_PCI_COMMON_Q_SIZE, 2, size);
	if (rc == 0)
		rc = write64(f, VIO_PCI_COMMON_Q_DESCLO, desc);
	if (rc == 0)
		rc = write64(f, VIO_PCI_COMMON_Q_AVAILLO, driver);
	if (rc == 0)
		rc = write64(f, VIO_PCI_COMMON_Q_USEDLO, device);
	if (rc == 0)
		rc = notify_addr(f, index);
	return rc;
}

static int queue_enable(void *ctx, uint16_t index)
{
	int rc = select_queue(ctx, index);
	if (rc == 0)
		rc = c_wr(ctx, VIO_PCI_COMMON_Q_ENABLE, 2, 1);
	return rc;
}

static int queue_reset(void *ctx, uint16_t index)
{
	struct vio_pci_front *f = ctx;
	if (f->common.len < COMMON_RESET_END)
		return -VIO_EDEVICE; /* offered RING_RESET without the field */
	int rc = select_queue(f, index);
	if (rc < 0)
		return rc;
	f->q[index].valid = 0;
	return c_wr(f, VIO_PCI_COMMON_Q_RESET, 2, 1);
}

static int queue_reset_done(void *ctx, uint16_t index, bool *done)
{
	const struct vio_pci_front *f = ctx;
	*done = false;
	if (f->common.len < COMMON_RESET_END)
		return -VIO_EDEVICE;
	int rc = select_queue(f, index);
	uint32_t v = 0;
	if (rc == 0)
		rc = c_rd(f, VIO_PCI_COMMON_Q_RESET, 2, &v);
	if (rc < 0 || v != 0)
		return rc; /* §4.1.4.3.2: 1 while the reset runs */
	/* Then both queue_reset and queue_enable read 0. */
	rc = c_rd(f, VIO_PCI_COMMON_Q_ENABLE, 2, &v);
	if (rc < 0)
		return rc;
	if (v != 0)
		return -VIO_EDEVICE;
	*done = true;
	return 0;
}

/* §4.1.5.2: 16 bits (the queue index, or queue_notif_config_data with
 * NOTIF_CONFIG_DATA), or with NOTIFICATION_DATA 32 bits whose low half is
 * that value. Reads only what queue setup fixed. */
static int notify(void *ctx, uint16_t index, uint32_t value)
{
	const struct vio_pci_front *f = ctx;
	if (index >= f->nslots || !f->q[index].valid)
		return -VIO_EINVAL;
	const struct pf_queue *q = &f->q[index];
	if ((f->drv_feat1 & NOTIF_CONFIG_DATA_BIT) != 0)
		value = (value & 0xffff0000u) | q->ncd;
	return f->bus->bar_write(f->ctx, f->notify.bar, q->notify, q->width,
				 value & width_mask(q->width));
}

static int interrupt_status(void *ctx, uint32_t *bits)
{
	const struct vio_pci_front *f = ctx;
	/* Reading the ISR clears it (§4.1.4.5): no acknowledgement. */
	return r_rd(f, &f->isr, 0, 1, bits);
}

/* §4.1.5.1.2.2: never map an event to a vector outside the MSI-X table. */
static bool vector_ok(const struct vio_pci_front *f, uint16_t vector)
{
	return vector == VIO_PCI_MSI_NO_VECTOR || (f->has_msix && vector < f->msix_size);
}

static int set_config_vector(void *ctx, uint16_t vector, uint16_t *readback)
{
	const struct vio_pci_front *f = ctx;
	*readback = VIO_PCI_MSI_NO_VECTOR;
	if (!vector_ok(f, vector))
		return -VIO_ENOSPC;
	uint32_t v;
	int rc = c_wr(f, VIO_PCI_COMMON_MSIX, 2, vector);
	if (rc == 0)
		rc = c_rd(f, VIO_PCI_COMMON_MSIX, 2, &v);
	if (rc == 0)
		*readback = (uint16_t)v;
	return rc;
}

static int set_queue_vector(void *ctx, uint16_t index, uint16_t vector, uint16_t *readback)
{
	const struct vio_pci_front *f = ctx;
	*readback = VIO_PCI_MSI_NO_VECTOR;
	if (!vector_ok(f, vector))
		return -VIO_ENOSPC;
	uint32_t v;
	int rc = select_queue(f, index);
	if (rc == 0)
		rc = c_wr(f, VIO_PCI_COMMON_Q_MSIX, 2, vector);
	if (rc == 0)
		rc = c_rd(f, VIO_PCI_COMMON_Q_MSIX, 2, &v);
	if (rc == 0)
		*readback = (uint16_t)v;
	return rc;
}

static void delay(void *ctx, uint32_t us)
{
	const struct vio_pci_front *f = ctx;
	if (f->bus->delay != NULL)
		f->bus->delay(f->ctx, us);
}

const struct vio_drv_transport_ops vio_pci_front_ops = {
	.get_status = get_status,
	.set_status = set_status,
	.get_device_features = get_device_features,
	.set_driver_features = set_driver_features,
	.config_read = config_read,
	.config_write = config_write,
	.config_generation = config_generation,
	.device_id = device_id,
	.num_queues = num_queues,
	.queue_max = queue_max,
	.queue_setup = queue_setup,
	.queue_enable = queue_enable,
	.queue_reset = queue_reset,
	.queue_reset_done = queue_reset_done,
	.notify = notify,
	.interrupt_status = interrupt_status,
	.interrupt_ack = NULL,
	.set_config_vector = set_config_vector,
	.set_queue_vector = set_queue_vector,
	.delay = delay,
};
