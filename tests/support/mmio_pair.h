/* SPDX-License-Identifier: MIT */
/* Test support for the device adapters (blk_device.h, rng_device.h) and the
 * driver bring-up helpers (blk_driver.h, rng_driver.h): a device core made
 * from an adapter's description, a virtio-mmio register model in front of
 * it, and a driver core speaking to it through the virtio-mmio front whose
 * accessors call the model (as a VMM's trap handler does), in a fake guest
 * memory (guest_mem.h). Single-threaded: queues are served inline (no
 * runner) or by the test calling the adapter's process function.
 *
 * Every access to the configuration space is logged with its width, and a
 * test can make configuration reads lie. A pair holds pointers into itself:
 * do not move it after pair_init(). */
#ifndef VIO_TEST_MMIO_PAIR_H
#define VIO_TEST_MMIO_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "guest_mem.h"

#define PAIR_MAXQ 4
#define PAIR_CFG_LOG 64

struct pair_cfg_access {
	uint32_t off; /* from the start of the configuration space */
	unsigned size;
};

struct mmio_pair {
	struct guest_mem gm;
	/* Device side. */
	struct vio_device *dev;
	void *dev_mem;
	struct vio_mmio_dev *mmio;
	_Alignas(8) unsigned char mmio_mem[VIO_MMIO_DEV_MEM_SIZE];
	bool line;	 /* the interrupt level */
	unsigned raises; /* 0 -> 1 edges */
	unsigned refused;
	/* Configuration space accesses, in order (the first PAIR_CFG_LOG). */
	struct pair_cfg_access cfg_log[PAIR_CFG_LOG];
	unsigned ncfg;
	/* When set: called for configuration reads; may replace *v. */
	void (*cfg_lie)(void *ctx, uint32_t off, unsigned size, uint64_t *v);
	void *cfg_lie_ctx;
	/* Driver side. */
	struct vio_mmio_front *front;
	_Alignas(8) unsigned char front_mem[VIO_MMIO_FRONT_MEM_SIZE];
	struct vio_drv *drv;
	void *drv_mem;
	void *vq_mem[PAIR_MAXQ];
};

/* Device core from @info (its memory fields are set here: the fake guest
 * memory), then the register model. Fails the test on error. */
void pair_init(struct mmio_pair *p, struct vio_device_info *info);
void pair_fini(struct mmio_pair *p);
/* Probe through the front and create a driver core with @nq slots for
 * @device_id wanting @features (RING_PACKED added when @packed). */
void pair_driver(struct mmio_pair *p, uint16_t nq, uint32_t device_id,
		 const struct vio_features *features, bool packed);
/* Queue memory of @size entries for slot @q (ring in guest memory). */
void pair_queue_config(struct mmio_pair *p, uint16_t q, uint16_t size,
		       struct vio_drv_queue_config *qc);
/* Zeroed guest memory the device can reach. */
void *pair_alloc(struct mmio_pair *p, size_t len);
/* If the line is up: the driver core's interrupt handler (returns its
 * result); else 0. */
int pair_interrupt(struct mmio_pair *p);
/* The device status as the device core holds it. */
uint8_t pair_status(struct mmio_pair *p);

#endif
