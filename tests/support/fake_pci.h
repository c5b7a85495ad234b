/* SPDX-License-Identifier: MIT */
/* Test support: a scriptable fake virtio-pci (modern) function for the
 * driver-side front, which can lie.
 *
 * Configuration space is 256 plain bytes (header, capability list built by
 * fake_pci_build_caps() from the structure locations below, which a test may
 * then scribble on), with live BAR registers (sizing by all-ones), the
 * command register and the MSI-X Message Control. The BARs hold the virtio
 * structures: a common configuration with the §4.1.4.3 semantics (feature
 * windows, status with reset, queues with size/vector/enable/notify_off/
 * addresses/reset), the notify region (writes logged and handed to a
 * hook), the read-to-clear ISR, the device configuration bytes and the
 * MSI-X table.
 *
 * Every access is checked and counted: configuration space past 256 bytes,
 * misaligned or of a bad size, writes to anything but the command register,
 * the BARs and MSI-X Message Control; BAR accesses past the size granted to
 * the front, misaligned, outside every structure, of the wrong width for a
 * common-configuration field, writes to read-only fields, reads of the
 * notify region. fake_pci_violations() sums them; tests assert 0.
 *
 * Default layout (as QEMU's virtio-pci): BAR1 32-bit memory 4 KiB with the
 * MSI-X table at 0 and the PBA at 0x800; BAR4 64-bit prefetchable memory
 * 16 KiB with common 0x0000 (0x1000), ISR 0x1000 (0x1000), device config
 * 0x2000 (FP_CONFIG_MAX), notify 0x3000 (0x1000, multiplier 4, queue i at
 * notify_off i). Capabilities at 0x40 common, 0x50 ISR, 0x60 device, 0x70
 * notify, 0x84 PCI cfg, 0x98 MSI-X. */
#ifndef VIO_TEST_FAKE_PCI_H
#define VIO_TEST_FAKE_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include <virtio/virtio.h>

#define FP_MAX_QUEUES 8
#define FP_CONFIG_MAX 256
#define FP_LOG_MAX 64
#define FP_MSIX_MAX 16

#define FP_CAP_COMMON 0x40u
#define FP_CAP_ISR 0x50u
#define FP_CAP_DEVICE 0x60u
#define FP_CAP_NOTIFY 0x70u
#define FP_CAP_PCICFG 0x84u
#define FP_CAP_MSIX 0x98u

struct fp_struct {
	unsigned bar;
	uint64_t off;
	uint32_t len;
};

struct fp_bar {
	uint64_t size; /* 0: not implemented */
	enum vio_pci_bar_kind kind;
	bool prefetch;
	uint64_t addr; /* as programmed */
};

struct fp_queue {
	uint16_t max;
	uint16_t size;
	uint16_t vector;
	uint16_t enable;
	uint16_t reset;
	uint16_t notify_off;
	uint16_t ncd; /* queue_notif_config_data */
	uint64_t desc, driver, device;
	unsigned reset_busy; /* queue_reset reads 1 this many more times */
};

struct fp_notify {
	uint64_t off; /* from the notify structure's start */
	unsigned width;
	uint32_t value;
};

struct fake_pci {
	uint8_t cfg[256];
	struct fp_bar bar[VIO_PCI_NUM_BARS];
	uint64_t granted[VIO_PCI_NUM_BARS]; /* BAR bytes the front may reach */
	struct fp_struct common, notify, isr, device, msix_table, msix_pba;
	uint32_t notify_mult;
	uint16_t msix_vectors; /* MSI-X Table Size (0: no MSI-X capability) */

	/* Device state. */
	struct vio_features offered, accepted;
	uint32_t dfsel, gfsel;
	uint8_t status;
	uint8_t isr_val;
	uint8_t generation;
	uint16_t config_vector;
	uint16_t num_queues;
	uint16_t queue_sel;
	struct fp_queue q[FP_MAX_QUEUES];
	uint8_t config[FP_CONFIG_MAX];
	uint32_t msix_entries[FP_MSIX_MAX][4];

	/* ---- lies ---- */
	bool status_stuck;	 /* writing 0 does not reset */
	unsigned reset_busy;	 /* after a reset, status reads ACKNOWLEDGE this many times */
	bool reject_features_ok; /* FEATURES_OK never reads back */
	uint32_t features_flip_after_ok; /* device_feature window 0 XOR this after FEATURES_OK */
	bool generation_spins;		 /* every generation read returns a new value */
	bool queue_reset_stuck;		 /* queue_reset keeps reading 1 */
	bool queue_enable_stuck;	 /* queue_enable reads 1 even after a reset */
	bool refuse_vectors;		 /* vector writes read back NO_VECTOR */
	/* Replace a read: return true and set *val to lie. */
	bool (*cfg_read_hook)(struct fake_pci *p, uint32_t off, unsigned size, uint32_t *val);
	bool (*bar_read_hook)(struct fake_pci *p, unsigned bar, uint64_t off, unsigned size,
			      uint32_t *val);

	/* ---- device hooks ---- */
	void (*on_enable)(struct fake_pci *p, unsigned q);
	void (*on_notify)(struct fake_pci *p, const struct fp_notify *n);
	void (*on_reset)(struct fake_pci *p);
	void (*on_queue_reset)(struct fake_pci *p, unsigned q);
	void *user;

	/* ---- counters ---- */
	unsigned cfg_reads, cfg_writes, bar_reads, bar_writes, delays;
	unsigned cfg_bad;	/* past 256, misaligned or bad size */
	unsigned cfg_ro_writes; /* writes outside command / BARs / MSI-X control */
	unsigned bar_bad;	/* bad BAR index or size, misaligned */
	unsigned bar_outside;	/* past the granted size */
	unsigned bar_stray;	/* in no structure (or across one's end) */
	unsigned field_width;	/* common field with the wrong width or offset */
	unsigned ro_writes;	/* read-only common field, ISR written */
	unsigned notify_reads;
	unsigned enable_zero;	/* queue_enable written 0 (§4.1.4.3.2 forbids) */
	unsigned sel_past_numq; /* queue_select written at or past num_queues */
	unsigned decode_off;	/* fake_pci_mem_* with memory decoding disabled or no BAR */
	unsigned status_reads;
	uint8_t status_log[FP_LOG_MAX]; /* status values written */
	unsigned nstatus;
	struct fp_notify notify_log[FP_LOG_MAX];
	unsigned nnotify;
};

/* A modern device of type @id (PCI device ID 0x1040 + id), VERSION_1 and the
 * ring features offered, @nq queues of maximum @qmax, MSI-X with nq + 1
 * vectors, the default layout with addresses already assigned to the BARs
 * and decoding on, configuration bytes i ^ 0x5a. */
void fake_pci_init(struct fake_pci *p, uint32_t id, unsigned nq, uint16_t qmax);
/* Write the header's capability pointer and the capabilities from the
 * structure locations, notify_mult and msix_vectors. */
void fake_pci_build_caps(struct fake_pci *p);
/* Clear every BAR address and the command register (no firmware ran). */
void fake_pci_unassign(struct fake_pci *p);
/* The front's probe configuration: the granted sizes, @slots queue slots. */
void fake_pci_front_config(const struct fake_pci *p, uint16_t slots,
			   struct vio_pci_front_config *cfg);
/* Raise ISR bits. */
void fake_pci_raise(struct fake_pci *p, uint8_t bits);
/* Change a configuration byte at run time (generation + config interrupt). */
void fake_pci_config_set(struct fake_pci *p, uint32_t off, uint8_t val);
/* Sum of the violation counters. */
unsigned fake_pci_violations(const struct fake_pci *p);
/* A physical memory access as a CPU would make it: decoded by the BAR
 * addresses while the command register enables memory decoding. */
uint32_t fake_pci_mem_read(struct fake_pci *p, uint64_t addr, unsigned size);
void fake_pci_mem_write(struct fake_pci *p, uint64_t addr, unsigned size, uint32_t val);

extern const struct vio_pci_bus fake_pci_bus; /* ctx: struct fake_pci * */

#endif
