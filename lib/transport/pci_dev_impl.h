/* SPDX-License-Identifier: MIT */
/* virtio-pci register model internals shared by lib/transport/pci_dev*.c. */
#ifndef VIO_PCI_DEV_IMPL_H
#define VIO_PCI_DEV_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/device.h>
#include <virtio/errors.h>
#include <virtio/pci.h>
#include <virtio/pci_dev.h>
#include <virtio/port.h>

/* One MSI-X table entry. Written by the control thread, read by whichever
 * thread sends the message: atomics, so a message never reads a torn
 * word (the driver masks an entry before reprogramming it, PCI 3.0
 * §6.8.3.5, so a consistent address/data pair is its business). */
struct vio__msix_entry {
	atomic_uint addr_lo;
	atomic_uint addr_hi;
	atomic_uint data;
	atomic_uint ctrl; /* VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT */
};

struct vio_pci_dev {
	struct vio_device *dev;
	void (*set_irq)(void *ctx, bool level);
	void (*msix)(void *ctx, uint16_t vector, uint64_t addr, uint32_t data);
	void *irq_ctx;
	struct vio__msix_entry *table; /* nvec entries, after the struct */
	atomic_uint *pba;	       /* 2 words per 64 vectors, after the table */

	uint64_t bar_size;
	uint64_t bar_addr; /* programmed address bits (size-aligned) */
	uint32_t class_code;
	uint32_t device_len; /* configuration size */
	uint32_t notify_len;
	uint32_t table_off, pba_off; /* 0 without MSI-X */

	/* Common configuration selectors. */
	uint32_t dfselect, gfselect;
	uint16_t qselect;

	/* The PCI configuration access capability's read-write fields. */
	uint32_t cfgcap_offset, cfgcap_length;
	uint8_t cfgcap_bar;
	uint8_t cfgcap_data[4];

	uint16_t device_id, subsys_vendor, subsys_id;
	uint16_t nvec;
	uint8_t revision, bar, intx_pin, int_line, cache_line;
	bool prefetch;

	/* config_generation: an 8-bit value that moves once whenever the core's
	 * generation moved since the driver last read it (§4.1.4.3.1's
	 * suggestion: a plain 8-bit copy could wrap back to the value the
	 * driver saw). */
	uint8_t gen8;
	uint32_t gen_seen;

	atomic_uint isr;       /* VIO_PCI_ISR_* */
	atomic_uint msix_ctrl; /* VIO_PCI_MSIX_FLAGS_ENABLE | _MASKALL */
	atomic_bool level;     /* INTx# as last computed */
	atomic_uint command;   /* read by queue threads (Interrupt Disable) */
};

/* Configuration space layout (pci_dev.h). */
#define VIO__PCI_CAP_COMMON 0x40u
#define VIO__PCI_CAP_NOTIFY 0x50u
#define VIO__PCI_CAP_ISR 0x64u
#define VIO__PCI_CAP_DEVICE 0x74u
#define VIO__PCI_CAP_PCICFG 0x84u
#define VIO__PCI_CAP_MSIX 0x98u

/* pci_dev.c */
void vio__pci_sync_intx(struct vio_pci_dev *p);
void vio__pci_virtio_regs_reset(struct vio_pci_dev *p);

/* pci_dev_msix.c */
bool vio__pci_msix_on(const struct vio_pci_dev *p);
void vio__pci_msix_fire(struct vio_pci_dev *p, uint16_t vector);
/* Message Control written: new ENABLE/MASKALL bits; delivers what the
 * change unmasks. */
void vio__pci_msix_set_ctrl(struct vio_pci_dev *p, unsigned ctrl);
int vio__pci_msix_read(struct vio_pci_dev *p, uint64_t off, unsigned size, uint64_t *v);
int vio__pci_msix_write(struct vio_pci_dev *p, uint64_t off, uint64_t v, unsigned size);
/* Power-on MSI-X state: disabled, every entry masked and zero, nothing
 * pending. */
void vio__pci_msix_reset(struct vio_pci_dev *p);
void vio__pci_msix_clear_pending(struct vio_pci_dev *p);

/* pci_dev_cfg.c */
void vio__pci_cfg_reset(struct vio_pci_dev *p);

#endif
