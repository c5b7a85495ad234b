/* SPDX-License-Identifier: MIT */
/* ECAM virtio-pci accessors: configuration space at the function's ECAM
 * address, memory BARs at their (translated) addresses; one volatile
 * access of the requested width, little-endian on the bus, with the I/O
 * barriers of port.h. */
#include <stdbool.h>
#include <stdint.h>

#include <virtio/errors.h>
#include <virtio/le.h>
#include <virtio/pci.h>
#include <virtio/pci_ecam.h>
#include <virtio/port.h>

static bool width_ok(uint64_t off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off % size == 0;
}

static uint32_t load(uintptr_t a, unsigned size)
{
	uint32_t v;
	if (size == 1)
		v = *(volatile uint8_t *)a;
	else if (size == 2)
		v = vio_le16_raw_to_cpu(*(volatile uint16_t *)a);
	else
		v = vio_le32_raw_to_cpu(*(volatile uint32_t *)a);
	VIO_IO_RMB();
	return v;
}

static void store(uintptr_t a, unsigned size, uint32_t v)
{
	VIO_IO_WMB();
	if (size == 1)
		*(volatile uint8_t *)a = (uint8_t)v;
	else if (size == 2)
		*(volatile uint16_t *)a = vio_le16_make((uint16_t)v).raw;
	else
		*(volatile uint32_t *)a = vio_le32_make(v).raw;
}

int vio_pci_ecam_fn_init(struct vio_pci_ecam_fn *f, uintptr_t ecam_base, unsigned bus, unsigned dev,
			 unsigned fn)
{
	if (f == NULL || bus > 255u || dev > 31u || fn > 7u)
		return -VIO_EINVAL;
	uintptr_t off = VIO_PCI_ECAM_OFFSET(bus, dev, fn);
	if (ecam_base > UINTPTR_MAX - off ||
	    ecam_base + off > UINTPTR_MAX - (VIO_PCI_ECAM_FN_SIZE - 1u))
		return -VIO_EINVAL;
	f->cfg = ecam_base + off;
	f->bus_to_cpu = 0;
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		f->bars.bar[i] = (struct vio_pci_bar){0};
	return 0;
}

static int cfg_read(void *ctx, uint32_t off, unsigned size, uint32_t *val)
{
	const struct vio_pci_ecam_fn *f = ctx;
	if (f == NULL || val == NULL || off >= VIO_PCI_ECAM_FN_SIZE || !width_ok(off, size))
		return -VIO_EINVAL;
	*val = load(f->cfg + off, size);
	return 0;
}

static int cfg_write(void *ctx, uint32_t off, unsigned size, uint32_t val)
{
	const struct vio_pci_ecam_fn *f = ctx;
	if (f == NULL || off >= VIO_PCI_ECAM_FN_SIZE || !width_ok(off, size))
		return -VIO_EINVAL;
	store(f->cfg + off, size, val);
	return 0;
}

static bool bar_usable(const struct vio_pci_bar *b)
{
	return (b->kind == VIO_PCI_BAR_MEM32 || b->kind == VIO_PCI_BAR_MEM64) && b->size != 0;
}

/* The CPU address of @size bytes at @off in BAR @bar, if the whole access
 * lies inside the BAR and the address fits a pointer. */
static int bar_addr(const struct vio_pci_ecam_fn *f, unsigned bar, uint64_t off, unsigned size,
		    uintptr_t *a)
{
	if (f == NULL || bar >= VIO_PCI_NUM_BARS || !width_ok(off, size))
		return -VIO_EINVAL;
	const struct vio_pci_bar *b = &f->bars.bar[bar];
	if (!bar_usable(b) || off >= b->size || size > b->size - off)
		return -VIO_EINVAL;
	uint64_t cpu = b->addr + f->bus_to_cpu + off;
	if (cpu > (uint64_t)UINTPTR_MAX - (size - 1u))
		return -VIO_EINVAL;
	*a = (uintptr_t)cpu;
	return 0;
}

static int bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t *val)
{
	uintptr_t a;
	int rc = bar_addr(ctx, bar, off, size, &a);
	if (rc == 0 && val == NULL)
		rc = -VIO_EINVAL;
	if (rc == 0)
		*val = load(a, size);
	return rc;
}

static int bar_write(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t val)
{
	uintptr_t a;
	int rc = bar_addr(ctx, bar, off, size, &a);
	if (rc == 0)
		store(a, size, val);
	return rc;
}

uint16_t vio_pci_ecam_vendor_id(const struct vio_pci_ecam_fn *f)
{
	return (uint16_t)load(f->cfg + VIO_PCI_CFG_VENDOR_ID, 2);
}

void vio_pci_ecam_front_config(const struct vio_pci_ecam_fn *f, uint16_t queue_slots,
			       struct vio_pci_front_config *cfg)
{
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		cfg->bar_size[i] = bar_usable(&f->bars.bar[i]) ? f->bars.bar[i].size : 0;
	cfg->queue_slots = queue_slots;
}

const struct vio_pci_bus vio_pci_ecam_bus = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_read = bar_read,
	.bar_write = bar_write,
	.delay = NULL,
};
