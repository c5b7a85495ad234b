/* SPDX-License-Identifier: MIT */
/* Device core internals shared by lib/core/device*.c. */
#ifndef VIO_DEVICE_IMPL_H
#define VIO_DEVICE_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/device.h>
#include <virtio/errors.h>
#include <virtio/port.h>
#include <virtio/spec.h>

/* One queue's configuration as the driver set it, and its device queue. */
struct vio__devq_slot {
	uint64_t addr[3];    /* enum vio_device_area */
	struct vio_devq *dq; /* non-NULL while enabled */
	unsigned char *mem;  /* bookkeeping memory for dq */
	size_t mem_size;
	uint32_t size; /* as written by the driver (maybe invalid) */
	uint16_t max;
	uint16_t notify_off;
	atomic_uint_least16_t vector; /* read by transports from any thread */
	bool ready;
	bool resubmit; /* hooks->resubmit has chains (queue thread once enabled) */
};

struct vio_device {
	const struct vio_device_ops *ops;
	void *ctx;
	const struct vio_device_transport *tops;
	void *tctx;
	const struct vio_device_queue_hooks *qhooks;
	void *qhctx;

	void *config;
	uint32_t config_size;
	uint32_t device_id;
	uint16_t num_queues;
	bool take_long_chains;

	const struct vio_mem_region *regions;
	uint32_t nregions;
	const struct vio_mem_ops *mem_ops;
	void *mem_ctx;

	struct vio_features model_features; /* as given at init */
	struct vio_features transport_bits; /* what the transport implements */
	struct vio_features offered;
	struct vio_features driver; /* as written by the driver */
	bool driver_extra;	    /* a non-zero window beyond bit 127 was written */

	/* VIO_STATUS_* as the driver reads it. The control thread changes it
	 * with CAS; any thread may OR in DEVICE_NEEDS_RESET. */
	atomic_uint status;
	atomic_bool config_pending; /* a config notification held back by SUSPEND */
	atomic_uint_least16_t config_vector;
	bool active; /* activate returned 0 and no deactivate since (control thread) */
	uint32_t generation;

	struct vio__devq_slot *q;
};

/* Status bits the driver may write. */
#define VIO__STATUS_DRIVER_BITS                                                                    \
	(VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER | VIO_STATUS_FEATURES_OK |                     \
	 VIO_STATUS_DRIVER_OK | VIO_STATUS_SUSPEND | VIO_STATUS_FAILED)

static inline unsigned vio__dev_status(const struct vio_device *dev)
{
	return atomic_load_explicit(&((struct vio_device *)dev)->status, memory_order_acquire);
}

/* Replace the bits in @mask with @bits, keeping whatever else (notably a
 * concurrent DEVICE_NEEDS_RESET) is there. */
static inline void vio__dev_status_update(struct vio_device *dev, unsigned mask, unsigned bits)
{
	unsigned old = atomic_load_explicit(&dev->status, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&dev->status, &old, (old & ~mask) | bits,
						      memory_order_acq_rel, memory_order_relaxed))
		;
}

/* Live: DRIVER_OK without FAILED (SUSPEND clears DRIVER_OK). */
static inline bool vio__status_live(unsigned st)
{
	return (st & VIO_STATUS_DRIVER_OK) != 0 && (st & VIO_STATUS_FAILED) == 0;
}

static inline struct vio__devq_slot *vio__dev_slot(const struct vio_device *dev, uint32_t q)
{
	return q < dev->num_queues ? &dev->q[q] : NULL;
}

/* device.c */
void vio__device_compute_offer(struct vio_device *dev);
/* device_queue.c: return every queue to its reset configuration, releasing
 * device queues (the model is already stopped). */
void vio__device_queues_reset(struct vio_device *dev);
void vio__device_slot_reset(struct vio__devq_slot *s);
/* Create slot @q's device queue from its configuration and the negotiated
 * features; 0 or the error (no side effects on error). */
int vio__device_queue_create(struct vio_device *dev, uint32_t q);
/* device_status.c: deactivate the model if active. */
void vio__device_deactivate(struct vio_device *dev);
/* device_config.c: send a configuration change notification if DRIVER_OK
 * is set (held back while suspended). */
void vio__device_config_irq(struct vio_device *dev);

#endif
