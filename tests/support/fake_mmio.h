/* SPDX-License-Identifier: MIT */
/* Test support: a scriptable fake virtio-mmio device (version 2 register
 * file) for the driver-side front, which can lie.
 *
 * It behaves like a plain modern device by default: identity registers,
 * feature windows, a status register that resets on 0 and refuses
 * FEATURES_OK for bits it did not offer, queues with a maximum size,
 * addresses and QueueReady, QueueReset, InterruptStatus/ACK, a config space
 * with a generation counter. Switches make it lie (status never returning to
 * 0, FEATURES_OK not sticking, features changing after FEATURES_OK, an ID
 * that changes, a generation that never settles, a QueueReset that never
 * completes…), and a read hook can replace any value read.
 *
 * Every access is checked and counted: outside the window, misaligned, of
 * the wrong width for the register, a read of a write-only register or a
 * write of a read-only one, any access after a DeviceID 0 probe. Tests
 * assert these counters stay 0 (fake_mmio_violations()).
 *
 * Hooks let a test act as the device: on QueueReady = 1, on a notify, on a
 * reset. */
#ifndef VIO_TEST_FAKE_MMIO_H
#define VIO_TEST_FAKE_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include <virtio/virtio.h>

#define FM_MAX_QUEUES 8
#define FM_CONFIG_MAX 256
#define FM_LOG_MAX 64

struct fake_mmio;

struct fm_queue {
	uint32_t max; /* QueueNumMax */
	uint32_t num; /* QueueNum written */
	uint32_t ready;
	uint32_t reset; /* QueueReset reads */
	uint64_t desc, driver, device;
	unsigned reset_busy; /* QueueReset reads 1 this many more times */
};

struct fake_mmio {
	/* Identity. */
	uint32_t magic, version, device_id, vendor_id;
	uint32_t window; /* bytes of the register window (0x100 + config) */
	/* Features offered; what the driver wrote. */
	struct vio_features offered;
	struct vio_features accepted;
	uint32_t dev_sel, drv_sel, queue_sel, shm_sel;
	uint32_t status;
	uint32_t isr;
	uint32_t generation;
	uint8_t config[FM_CONFIG_MAX];
	struct fm_queue q[FM_MAX_QUEUES];

	/* ---- lies ---- */
	bool status_stuck;	 /* writing 0 does not reset */
	unsigned reset_busy;	 /* after a reset, status reads 0x80 this many times */
	bool reject_features_ok; /* FEATURES_OK never reads back */
	/* After FEATURES_OK, DeviceFeatures window 0 reads XOR this. */
	uint32_t features_flip_after_ok;
	/* DeviceID reads return this value from the n-th DeviceID read on
	 * (0: never). */
	unsigned id_change_at;
	uint32_t id_changed_to;
	bool generation_spins;	   /* every generation read returns a new value */
	unsigned generation_flips; /* the next n generation reads each change it */
	bool queue_reset_stuck;	   /* QueueReset keeps reading 1 */
	bool queue_ready_stuck;	   /* QueueReady reads 1 even after reset */
	uint32_t status_or;	   /* ORed into every Status read */
	uint32_t status_and;	   /* ANDed into every Status read (0: no mask) */
	bool status_and_after_ok;  /* apply status_and only once DRIVER_OK was written */
	bool honour_suspend;	   /* SUSPEND: clears DRIVER_OK; DRIVER_OK clears SUSPEND */
	/* QEMU's virtio-mmio (since 4.2): a non-zero DeviceFeaturesSel or
	 * DriverFeaturesSel selects window 1, so windows 2 and 3 alias it. */
	bool features_sel_clamp;
	/* Replace any 32-bit read: return true and set *val to lie. */
	bool (*read_hook)(struct fake_mmio *m, uint32_t off, uint32_t *val);

	/* ---- device hooks ---- */
	void (*on_ready)(struct fake_mmio *m, unsigned q);
	void (*on_notify)(struct fake_mmio *m, uint32_t value);
	void (*on_reset)(struct fake_mmio *m);
	void (*on_queue_reset)(struct fake_mmio *m, unsigned q);
	void *user;

	/* ---- counters ---- */
	unsigned reads, writes;
	unsigned out_of_window, misaligned, bad_width, wo_reads, ro_writes, undefined;
	unsigned after_placeholder; /* accesses after DeviceID read 0 */
	bool saw_zero_id;
	unsigned status_reads, id_reads, gen_reads, delays;
	uint32_t status_log[FM_LOG_MAX]; /* status values written */
	unsigned nstatus;
	uint32_t notify_log[FM_LOG_MAX];
	unsigned nnotify;
	uint32_t ack_log[FM_LOG_MAX];
	unsigned nack;
	unsigned config_reads[9]; /* by width */
	/* Feature windows touched: bit w set when DeviceFeatures was read with
	 * DeviceFeaturesSel w, or DriverFeatures written with DriverFeaturesSel
	 * w (w < 32; the select as written, before any clamp). */
	uint32_t dev_windows_read, drv_windows_written;
};

/* A modern device of type @id with VERSION_1 and the ring features offered,
 * @nq queues of maximum @qmax, a 256-byte config space filled with a
 * pattern (byte i = i ^ 0x5a). */
void fake_mmio_init(struct fake_mmio *m, uint32_t id, unsigned nq, uint32_t qmax);
/* Raise interrupt causes (InterruptStatus |= bits). */
void fake_mmio_raise(struct fake_mmio *m, uint32_t bits);
/* Change the config space at run time (generation + config interrupt). */
void fake_mmio_config_set(struct fake_mmio *m, uint32_t off, uint8_t val);
/* Sum of the protocol-violation counters (0 for a well-behaved driver). */
unsigned fake_mmio_violations(const struct fake_mmio *m);

extern const struct vio_mmio_bus fake_mmio_bus; /* ctx: struct fake_mmio * */

#endif
