/* SPDX-License-Identifier: MIT */
/* Test support: a driver core over the virtio-mmio front over a fake
 * register file (fake_mmio.h), with queue memory for a few queues. */
#ifndef VIO_TEST_DRV_FIXTURE_H
#define VIO_TEST_DRV_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "fake_mmio.h"

#define FX_QUEUES 4
#define FX_QSIZE 64

struct fx_queue_mem {
	_Alignas(16) unsigned char ring[VIO_DRV_RING_SIZE(FX_QSIZE)];
	_Alignas(8) unsigned char vq[VIO_VQ_MEM_SIZE(FX_QSIZE)];
};

struct fx {
	struct fake_mmio m;
	_Alignas(8) unsigned char front_mem[VIO_MMIO_FRONT_MEM_SIZE];
	struct vio_mmio_front *front;
	_Alignas(8) unsigned char drv_mem[VIO_DRV_MEM_SIZE(FX_QUEUES)];
	struct vio_drv *drv;
	struct vio_drv_config cfg;
	struct vio_drv_callbacks cb;
	struct fx_queue_mem qm[FX_QUEUES];
	/* Callback records. */
	unsigned validate_calls, config_changed_calls, needs_reset_calls;
	unsigned queue_irq[FX_QUEUES];
	int validate_rc;
	struct vio_features validate_clear; /* bits the hook clears */
	struct vio_features validate_set;   /* bits the hook adds (a bad hook) */
	bool validate_reads_config;
	int validate_config_rc;
	uint64_t validate_config_value;
};

/* Fake device of type @id with @nq queues of maximum @qmax; the driver
 * config asks for @features (added to none) and FX_QUEUES slots; callbacks
 * recorded in x. Does not probe. */
void fx_init(struct fx *x, uint32_t id, unsigned nq, uint32_t qmax);
/* Probe the front and create the driver: returns the first error. */
int fx_start(struct fx *x);
/* fx_start() + vio_drv_negotiate(). */
int fx_negotiate(struct fx *x);
/* A queue config over x->qm[i] with size @size. */
void fx_queue_config(struct fx *x, unsigned i, uint16_t size, struct vio_drv_queue_config *qc);
/* Negotiate, set up queue 0 (size FX_QSIZE) and DRIVER_OK. */
int fx_live(struct fx *x);
/* True if the last status written had FAILED and the device saw it. */
bool fx_failed_written(const struct fx *x);

#endif
