/* SPDX-License-Identifier: MIT */
/* virtio-pci register model: the MSI-X table and Pending Bit Array (PCI
 * Local Bus spec 3.0 §6.8.2, §6.8.3.4), per-vector and function masking,
 * and sending a vector. */
#include "transport/pci_dev_impl.h"

#define CTRL_BITS (VIO_PCI_MSIX_FLAGS_ENABLE | VIO_PCI_MSIX_FLAGS_MASKALL)

static size_t pba_words(const struct vio_pci_dev *p)
{
	return ((size_t)p->nvec + 63u) / 64u * 2u;
}

static uint32_t pba_bytes(const struct vio_pci_dev *p)
{
	return (uint32_t)pba_words(p) * 4u;
}

bool vio__pci_msix_on(const struct vio_pci_dev *p)
{
	return (atomic_load(&((struct vio_pci_dev *)p)->msix_ctrl) & VIO_PCI_MSIX_FLAGS_ENABLE) !=
	       0;
}

/* A vector is masked while MSI-X is off, the Function Mask is set or its
 * entry's Mask bit is set. */
static bool masked(struct vio_pci_dev *p, uint16_t v)
{
	unsigned c = atomic_load(&p->msix_ctrl);
	if ((c & VIO_PCI_MSIX_FLAGS_ENABLE) == 0 || (c & VIO_PCI_MSIX_FLAGS_MASKALL) != 0)
		return true;
	return (atomic_load(&p->table[v].ctrl) & VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT) != 0;
}

static void deliver(struct vio_pci_dev *p, uint16_t v)
{
	if (p->msix == NULL)
		return;
	struct vio__msix_entry *e = &p->table[v];
	uint64_t addr = (uint64_t)atomic_load_explicit(&e->addr_hi, memory_order_relaxed) << 32 |
			atomic_load_explicit(&e->addr_lo, memory_order_relaxed);
	p->msix(p->irq_ctx, v, addr, atomic_load_explicit(&e->data, memory_order_relaxed));
}

/*
 * Sending races with unmasking (a queue thread fires while the control
 * thread clears a mask). Both sides use sequentially consistent atomics and
 * the Pending bit as a token: the sender sets Pending when it sees the
 * vector masked, then looks again; the unmasker clears the mask, then
 * takes Pending. Whoever clears a set Pending bit sends the message, so a
 * firing is neither lost nor sent twice.
 */
void vio__pci_msix_fire(struct vio_pci_dev *p, uint16_t v)
{
	atomic_uint *w = &p->pba[v / 32u];
	unsigned bit = 1u << (v % 32u);
	if (masked(p, v)) {
		atomic_fetch_or(w, bit);
		if (masked(p, v))
			return;
		if ((atomic_fetch_and(w, ~bit) & bit) == 0)
			return; /* the unmasker took it */
	}
	deliver(p, v);
}

/* After a mask was cleared: send @v if it is pending and now unmasked. */
static void release(struct vio_pci_dev *p, uint16_t v)
{
	if (masked(p, v))
		return;
	atomic_uint *w = &p->pba[v / 32u];
	unsigned bit = 1u << (v % 32u);
	if ((atomic_fetch_and(w, ~bit) & bit) != 0)
		deliver(p, v);
}

void vio__pci_msix_set_ctrl(struct vio_pci_dev *p, unsigned ctrl)
{
	unsigned old = atomic_exchange(&p->msix_ctrl, ctrl & CTRL_BITS);
	if (old == (ctrl & CTRL_BITS))
		return;
	/* Enabling or disabling MSI-X moves the interrupts between INTx# and
	 * messages (PCI 3.0 §6.8.2.3: INTx# is not used while enabled). */
	if ((old ^ ctrl) & VIO_PCI_MSIX_FLAGS_ENABLE)
		vio__pci_sync_intx(p);
	if ((ctrl & CTRL_BITS) == VIO_PCI_MSIX_FLAGS_ENABLE)
		for (uint16_t v = 0; v < p->nvec; v++)
			release(p, v);
}

void vio__pci_msix_clear_pending(struct vio_pci_dev *p)
{
	for (size_t i = 0; i < pba_words(p); i++)
		atomic_store(&p->pba[i], 0u);
}

void vio__pci_msix_reset(struct vio_pci_dev *p)
{
	atomic_store(&p->msix_ctrl, 0u);
	for (uint16_t v = 0; v < p->nvec; v++) {
		/* PCI 3.0 §6.8.2.9: the Mask bit is set at reset. */
		atomic_store(&p->table[v].ctrl, VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT);
		atomic_store(&p->table[v].addr_lo, 0u);
		atomic_store(&p->table[v].addr_hi, 0u);
		atomic_store(&p->table[v].data, 0u);
	}
	vio__pci_msix_clear_pending(p);
}

/* Table entry dword @field of vector @v. */
static uint32_t entry_read(struct vio_pci_dev *p, uint16_t v, uint32_t field)
{
	struct vio__msix_entry *e = &p->table[v];
	switch (field) {
	case VIO_PCI_MSIX_ENTRY_LOWER_ADDR:
		return atomic_load(&e->addr_lo);
	case VIO_PCI_MSIX_ENTRY_UPPER_ADDR:
		return atomic_load(&e->addr_hi);
	case VIO_PCI_MSIX_ENTRY_DATA:
		return atomic_load(&e->data);
	default:
		return atomic_load(&e->ctrl);
	}
}

static void entry_write(struct vio_pci_dev *p, uint16_t v, uint32_t field, uint32_t x)
{
	struct vio__msix_entry *e = &p->table[v];
	switch (field) {
	case VIO_PCI_MSIX_ENTRY_LOWER_ADDR:
		/* PCI 3.0 §6.8.2.6: bits 1:0 are 0 (DWORD-aligned address). */
		atomic_store(&e->addr_lo, x & ~3u);
		break;
	case VIO_PCI_MSIX_ENTRY_UPPER_ADDR:
		atomic_store(&e->addr_hi, x);
		break;
	case VIO_PCI_MSIX_ENTRY_DATA:
		atomic_store(&e->data, x);
		break;
	default:
		/* §6.8.2.9: only the Mask bit is defined; the rest reads 0. */
		atomic_store(&e->ctrl, x & VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT);
		if ((x & VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT) == 0)
			release(p, v);
		break;
	}
}

/* PCI 3.0 §6.8.2: table and PBA take aligned DWORD and QWORD accesses. */
static bool msix_width(uint64_t off, unsigned size)
{
	return (size == 4 || size == 8) && off % size == 0;
}

int vio__pci_msix_read(struct vio_pci_dev *p, uint64_t off, unsigned size, uint64_t *v)
{
	*v = 0;
	if (!msix_width(off, size))
		return -VIO_EREG;
	uint64_t tend = (uint64_t)p->table_off + (uint64_t)p->nvec * VIO_PCI_MSIX_ENTRY_SIZE;
	if (off >= p->table_off && off + size <= tend) {
		uint64_t rel = off - p->table_off;
		uint16_t vec = (uint16_t)(rel / VIO_PCI_MSIX_ENTRY_SIZE);
		uint32_t field = (uint32_t)(rel % VIO_PCI_MSIX_ENTRY_SIZE);
		uint64_t x = entry_read(p, vec, field);
		if (size == 8)
			x |= (uint64_t)entry_read(p, vec, field + 4u) << 32;
		*v = x;
		return 0;
	}
	if (off >= p->pba_off && off + size <= (uint64_t)p->pba_off + pba_bytes(p)) {
		size_t w = (size_t)(off - p->pba_off) / 4u;
		uint64_t x = atomic_load(&p->pba[w]);
		if (size == 8)
			x |= (uint64_t)atomic_load(&p->pba[w + 1]) << 32;
		*v = x;
		return 0;
	}
	return -VIO_EREG;
}

int vio__pci_msix_write(struct vio_pci_dev *p, uint64_t off, uint64_t v, unsigned size)
{
	if (!msix_width(off, size))
		return -VIO_EREG;
	uint64_t tend = (uint64_t)p->table_off + (uint64_t)p->nvec * VIO_PCI_MSIX_ENTRY_SIZE;
	if (off >= p->table_off && off + size <= tend) {
		uint64_t rel = off - p->table_off;
		uint16_t vec = (uint16_t)(rel / VIO_PCI_MSIX_ENTRY_SIZE);
		uint32_t field = (uint32_t)(rel % VIO_PCI_MSIX_ENTRY_SIZE);
		/* A QWORD write stores its low DWORD first, so a new address
		 * and data land before an unmask in the same entry. */
		entry_write(p, vec, field, (uint32_t)v);
		if (size == 8)
			entry_write(p, vec, field + 4u, (uint32_t)(v >> 32));
		return 0;
	}
	/* The PBA is read-only (§6.8.2.10: software should never write it);
	 * holes. */
	return -VIO_EREG;
}

bool vio_pci_dev_msix_enabled(const struct vio_pci_dev *p)
{
	return vio__pci_msix_on(p);
}

bool vio_pci_dev_msix_pending(const struct vio_pci_dev *p, uint16_t vector)
{
	if (vector >= p->nvec)
		return false;
	return (atomic_load(&((struct vio_pci_dev *)p)->pba[vector / 32u]) &
		(1u << (vector % 32u))) != 0;
}
