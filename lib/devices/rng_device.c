/* SPDX-License-Identifier: MIT */
/* virtio-rng device adapter: the entropy model (rng.c) behind the device
 * core's ops (device.h). */
#include <virtio/errors.h>
#include <virtio/port.h>
#include <virtio/queue.h>
#include <virtio/rng_device.h>
#include <virtio/spec.h>

#include "adapter.h"

struct vio_rng_device {
	struct vio__adapter a;
	struct vio__adq adq;
	struct vio_rng_dev model;
	const struct vio_rng_dev_ops *source;
	void *source_ctx;
	struct vio_features offer;
	uint16_t qmax;
	struct vio_chain_seg segs[VIO_RNG_DEVICE_SEGS];
};

_Static_assert(sizeof(struct vio_rng_device) <= VIO_RNG_DEVICE_MEM_SIZE,
	       "VIO_RNG_DEVICE_MEM_SIZE too small");

static const struct vio_device_ops rng_ops;

static int process_cb(void *self, uint16_t q)
{
	return vio_rng_device_process((struct vio_rng_device *)self, q);
}

int vio_rng_device_init(struct vio_rng_device **rdp, void *mem, size_t mem_size,
			const struct vio_rng_device_config *cfg)
{
	if (rdp == NULL || mem == NULL || ((uintptr_t)mem & (VIO_RNG_DEVICE_MEM_ALIGN - 1u)) != 0 ||
	    mem_size < sizeof(struct vio_rng_device) || cfg == NULL || cfg->source == NULL ||
	    cfg->source->fill == NULL)
		return -VIO_EINVAL;
	if (cfg->runner != NULL && (cfg->runner->kick == NULL || cfg->runner->stop == NULL))
		return -VIO_EINVAL;
	uint16_t qmax =
		cfg->queue_max != 0 ? cfg->queue_max : (uint16_t)VIO_RNG_DEVICE_DEFAULT_QUEUE_MAX;
	if (qmax > 32768u || (qmax & (qmax - 1u)) != 0)
		return -VIO_EINVAL;
	struct vio_rng_device *rd = (struct vio_rng_device *)mem;
	VIO_MEMSET(rd, 0, sizeof(*rd));
	rd->source = cfg->source;
	rd->source_ctx = cfg->source_ctx;
	rd->qmax = qmax;
	if (cfg->ring_features != NULL)
		rd->offer = *cfg->ring_features;
	else
		vio_ring_features(&rd->offer);
	for (unsigned bit = 0; bit < 24; bit++)
		vio_features_clear(&rd->offer, bit); /* virtio-rng has no device-type bits */
	vio__adapter_init(&rd->a, &rd->adq, VIO_RNG_NUM_QUEUES, cfg->runner, cfg->runner_ctx,
			  process_cb, rd);
	*rdp = rd;
	return 0;
}

void vio_rng_device_info(struct vio_rng_device *rd, struct vio_device_info *info)
{
	info->device_id = VIO_ID_RNG;
	info->num_queues = VIO_RNG_NUM_QUEUES;
	info->queue_max = &rd->qmax;
	info->features = rd->offer;
	info->config = NULL;
	info->config_size = 0;
	info->ops = &rng_ops;
	info->ctx = rd;
	info->take_long_chains = true; /* fill what the segments reach */
}

int vio_rng_device_process(struct vio_rng_device *rd, uint16_t q)
{
	if (q != VIO_RNG_REQUESTQ)
		return -VIO_EINVAL;
	if (!vio__adapter_live(&rd->a, q))
		return 0;
	struct vio_device *dev = rd->a.dev;
	struct vio_devq *dq = vio_device_queue(dev, q);
	int done = 0;
	for (;;) {
		vio_devq_disable_notify(dq);
		int rc = vio_rng_dev_process(&rd->model);
		(void)vio_device_queue_notify_used(dev, q);
		if (rc < 0) {
			if (rc != -VIO_EMAP_AGAIN)
				(void)vio_device_queue_error(dev, q, rc);
			return rc;
		}
		done += rc;
		if (vio_devq_enable_notify(dq))
			return done;
		if (vio_rng_dev_waiting(&rd->model))
			return done; /* the source ran dry: the embedder calls again */
	}
}

bool vio_rng_device_waiting(const struct vio_rng_device *rd)
{
	return vio__adapter_live(&rd->a, VIO_RNG_REQUESTQ) && vio_rng_dev_waiting(&rd->model);
}

static void queue_down(struct vio_rng_device *rd)
{
	vio__adapter_stop(&rd->a, VIO_RNG_REQUESTQ);
	if (rd->adq.inited) {
		vio_rng_dev_reset(&rd->model);
		rd->adq.inited = false;
	}
}

static int queue_up(struct vio_rng_device *rd, struct vio_device *dev)
{
	struct vio_devq *dq = vio_device_queue(dev, VIO_RNG_REQUESTQ);
	if (dq == NULL)
		return 0;
	int rc = vio_rng_dev_init(&rd->model, dq, rd->source, rd->source_ctx, rd->segs,
				  (uint16_t)VIO_RNG_DEVICE_SEGS);
	if (rc != 0)
		return rc;
	rd->adq.inited = true;
	vio__adapter_start(&rd->a, VIO_RNG_REQUESTQ);
	return 0;
}

static int rng_activate(void *ctx, struct vio_device *dev)
{
	struct vio_rng_device *rd = ctx;
	rd->a.dev = dev; /* no queue is live here: see blk_device.c */
	return queue_up(rd, dev);
}

static void rng_deactivate(void *ctx, struct vio_device *dev)
{
	(void)dev;
	queue_down((struct vio_rng_device *)ctx);
}

static void rng_queue_notify(void *ctx, struct vio_device *dev, uint16_t q, uint32_t data)
{
	struct vio_rng_device *rd = ctx;
	(void)dev;
	(void)data;
	vio__adapter_kick(&rd->a, q);
}

static int rng_queue_enable(void *ctx, struct vio_device *dev, uint16_t q)
{
	return q == VIO_RNG_REQUESTQ ? queue_up((struct vio_rng_device *)ctx, dev) : -VIO_EINVAL;
}

static void rng_queue_stop(void *ctx, struct vio_device *dev, uint16_t q)
{
	(void)dev;
	if (q == VIO_RNG_REQUESTQ)
		queue_down((struct vio_rng_device *)ctx);
}

static const struct vio_device_ops rng_ops = {
	.activate = rng_activate,
	.deactivate = rng_deactivate,
	.queue_notify = rng_queue_notify,
	.queue_enable = rng_queue_enable,
	.queue_stop = rng_queue_stop,
};

void vio_rng_device_pause(struct vio_rng_device *rd)
{
	vio__adapter_pause(&rd->a);
}

void vio_rng_device_resume(struct vio_rng_device *rd)
{
	vio__adapter_resume(&rd->a);
}
