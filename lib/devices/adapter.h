/* SPDX-License-Identifier: MIT */
/* What the device adapters (blk_device.c, rng_device.c) share: which queues
 * are live, pausing, and handing work to the embedder's runner (or serving
 * inline without one). Internal to lib/devices. */
#ifndef VIO_DEVICES_ADAPTER_H
#define VIO_DEVICES_ADAPTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <virtio/device.h>
#include <virtio/device_runner.h>

/* One queue as an adapter sees it. */
struct vio__adq {
	/* Read by the queue thread at the start of every process call
	 * (acquire), written by the control thread (release): everything the
	 * control thread set up before making a queue live is visible to the
	 * queue thread that sees it live. */
	atomic_bool live;
	bool inited; /* the model's queue state is set up (control thread) */
};

struct vio__adapter {
	const struct vio_device_runner *runner;
	void *runner_ctx;
	int (*process)(void *self, uint16_t q); /* for inline serving */
	void *self;
	struct vio_device *dev; /* learnt at the first callback */
	struct vio__adq *q;
	uint16_t nq;
	bool paused;
};

void vio__adapter_init(struct vio__adapter *a, struct vio__adq *q, uint16_t nq,
		       const struct vio_device_runner *runner, void *runner_ctx,
		       int (*process)(void *self, uint16_t q), void *self);
/* Queue @q may be served: make it live (unless paused) and kick it. */
void vio__adapter_start(struct vio__adapter *a, uint16_t q);
/* Queue @q must not be served: clear live, then the runner's stop. */
void vio__adapter_stop(struct vio__adapter *a, uint16_t q);
/* A driver notification for @q: kick it if live. */
void vio__adapter_kick(struct vio__adapter *a, uint16_t q);
void vio__adapter_pause(struct vio__adapter *a);
void vio__adapter_resume(struct vio__adapter *a);
/* True if queue @q is live; acquire (queue threads). */
bool vio__adapter_live(const struct vio__adapter *a, uint16_t q);

#endif
