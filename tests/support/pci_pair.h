/* SPDX-License-Identifier: MIT */
/* Test support: the virtio-pci twin of mmio_pair.h. A device core made
 * from an adapter's description, the virtio-pci register model in front of
 * it, and a driver core speaking to it through the virtio-pci front whose
 * configuration-space and BAR accessors call the model (as a VMM's trap
 * handlers do), in a fake guest memory (guest_mem.h). The BARs are sized
 * and placed by vio_pci_front_assign_bars(), as a bare-metal guest without
 * firmware does. Interrupts: the INTx# level and every MSI-X message are
 * recorded. Single-threaded. A pair holds pointers into itself: do not move
 * it after pci_pair_init(). */
#ifndef VIO_TEST_PCI_PAIR_H
#define VIO_TEST_PCI_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "guest_mem.h"

#define PCI_PAIR_MAXQ 4
#define PCI_PAIR_MAXVEC 8
/* Where the pair's MSI-X messages go: address base + vector, data = 0x40 + vector. */
#define PCI_PAIR_MSI_ADDR 0xfee00000u
#define PCI_PAIR_MSI_DATA 0x40u
/* The memory window vio_pci_front_assign_bars() places the BAR in. */
#define PCI_PAIR_WINDOW 0x40000000u

struct pci_pair {
	struct guest_mem gm;
	/* Device side. */
	struct vio_device *dev;
	void *dev_mem;
	struct vio_pci_dev *pci;
	void *pci_mem;
	bool line;	  /* the INTx# level */
	unsigned raises;  /* 0 -> 1 edges */
	unsigned refused; /* accesses the model refused; the last one: */
	uint64_t refused_off;
	unsigned refused_size;
	int refused_rc;
	unsigned msix_fired[PCI_PAIR_MAXVEC]; /* messages per vector */
	unsigned msix_total[PCI_PAIR_MAXVEC]; /* never consumed */
	unsigned msix_bad;		      /* messages with an unexpected address/data */
	/* Driver callbacks seen. */
	unsigned config_changed;
	unsigned needs_reset;
	unsigned queue_ints[PCI_PAIR_MAXQ];
	/* Driver side. */
	struct vio_pci_bars bars;
	struct vio_pci_front *front;
	void *front_mem;
	struct vio_drv *drv;
	void *drv_mem;
	void *vq_mem[PCI_PAIR_MAXQ];
};

/* Device core from @info (its memory fields are set here: the fake guest
 * memory), then the PCI model with @nvec MSI-X vectors (0: none). */
void pci_pair_init(struct pci_pair *p, struct vio_device_info *info, uint16_t nvec);
/* The same with the model's configuration @cfg (its callbacks are the pair's). */
void pci_pair_init_with(struct pci_pair *p, struct vio_device_info *info,
			const struct vio_pci_dev_config *cfg);
/* Wire @pc's interrupt callbacks to the pair (for a second model, e.g. a
 * restore target). */
void pci_pair_model_config(struct pci_pair *p, struct vio_pci_dev_config *pc);
void pci_pair_fini(struct pci_pair *p);
/* Assign the BARs, probe through the front and create a driver core with
 * @nq slots for @device_id wanting @features (RING_PACKED added when
 * @packed). With @vectors: MSI-X table entries 0 .. nvec-1 programmed and
 * MSI-X enabled, the configuration vector 0 and queue q's vector q + 1
 * (pci_pair_queue_config()). */
void pci_pair_driver(struct pci_pair *p, uint16_t nq, uint32_t device_id,
		     const struct vio_features *features, bool packed, bool vectors);
/* Queue memory of @size entries for slot @q (ring in guest memory). */
void pci_pair_queue_config(struct pci_pair *p, uint16_t q, uint16_t size,
			   struct vio_drv_queue_config *qc);
/* Zeroed guest memory the device can reach. */
void *pci_pair_alloc(struct pci_pair *p, size_t len);
/* Deliver what is pending, as an interrupt controller would: every
 * recorded MSI-X message (vector 0: vio_drv_config_interrupt(), vector
 * q + 1: vio_drv_queue_interrupt(q)), then, if INTx# is up,
 * vio_drv_interrupt(). Returns the first error, else 0. */
int pci_pair_interrupt(struct pci_pair *p);
/* The device status as the device core holds it. */
uint8_t pci_pair_status(struct pci_pair *p);
/* The bus accessors (context: the pair). */
extern const struct vio_pci_bus pci_pair_bus;

#endif
