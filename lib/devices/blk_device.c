/* SPDX-License-Identifier: MIT */
/* virtio-blk device adapter: the blk model (blk_dev.c) behind the device
 * core's ops (device.h). Layout of the caller's memory, each part 8-aligned:
 *   struct vio_blk_device | nq x struct vio__adq | nq x struct vio_blk_queue |
 *   nq x uint16_t (queue maxima) | nq x requests x struct vio_blk_req |
 *   nq x requests x segs_per_req x struct vio_chain_seg */
#include <virtio/blk_device.h>
#include <virtio/errors.h>
#include <virtio/port.h>
#include <virtio/queue.h>
#include <virtio/spec.h>

#include "adapter.h"

struct vio_blk_device {
	struct vio__adapter a;
	struct vio_blk_dev model;
	struct vio_blk_dev_desc desc;
	struct vio_blk_config config;
	struct vio_features offer;
	const struct vio_blk_backend_ops *backend;
	void *backend_ctx;
	struct vio_blk_queue *bq;
	uint16_t *qmax;
	struct vio_blk_req *reqs;
	struct vio_chain_seg *segs;
	uint16_t nq;
	uint16_t requests;
	uint16_t segs_per_req;
};

_Static_assert(sizeof(struct vio_blk_device) + 40u <= VIO__BLK_DEVICE_FIXED_BYTES,
	       "VIO__BLK_DEVICE_FIXED_BYTES too small");
_Static_assert(sizeof(struct vio__adq) + sizeof(struct vio_blk_queue) + sizeof(uint16_t) + 24u <=
		       VIO__BLK_DEVICE_PER_QUEUE_BYTES,
	       "VIO__BLK_DEVICE_PER_QUEUE_BYTES too small");

#define ALIGN8(n) (((size_t)(n) + 7u) & ~(size_t)7u)

struct geom {
	uint16_t nq, qmax, requests, segs;
};

struct offs {
	size_t adq, bq, qmax, reqs, segs, total;
};

static bool runner_ok(const struct vio_device_runner *r)
{
	return r == NULL || (r->kick != NULL && r->stop != NULL);
}

static int geometry(const struct vio_blk_device_config *cfg, struct geom *g)
{
	if (cfg == NULL || cfg->backend == NULL || cfg->backend->submit == NULL ||
	    !runner_ok(cfg->runner) || vio_blk_dev_desc_check(&cfg->desc) != 0)
		return -VIO_EINVAL;
	g->nq = cfg->desc.num_queues != 0 ? cfg->desc.num_queues : 1;
	if (g->nq > VIO_DEVICE_MAX_QUEUES)
		return -VIO_EINVAL;
	g->qmax = cfg->queue_max != 0 ? cfg->queue_max : (uint16_t)VIO_BLK_DEVICE_DEFAULT_QUEUE_MAX;
	if (g->qmax > 32768u || (g->qmax & (g->qmax - 1u)) != 0)
		return -VIO_EINVAL; /* split queues need a power of two (§2.7) */
	g->requests = cfg->requests != 0 ? cfg->requests : g->qmax;
	if (cfg->segs_per_req != 0)
		g->segs = cfg->segs_per_req;
	else if (cfg->desc.seg_max != 0 && cfg->desc.seg_max <= 65533u)
		g->segs = VIO_BLK_DEV_SEGS(cfg->desc.seg_max);
	else
		g->segs = (uint16_t)VIO_BLK_DEVICE_DEFAULT_SEGS;
	if (g->segs < 3)
		return -VIO_EINVAL;
	return 0;
}

static void layout(const struct geom *g, struct offs *o)
{
	size_t at = ALIGN8(sizeof(struct vio_blk_device));
	o->adq = at;
	at += ALIGN8((size_t)g->nq * sizeof(struct vio__adq));
	o->bq = at;
	at += ALIGN8((size_t)g->nq * sizeof(struct vio_blk_queue));
	o->qmax = at;
	at += ALIGN8((size_t)g->nq * sizeof(uint16_t));
	o->reqs = at;
	at += ALIGN8((size_t)g->nq * g->requests * sizeof(struct vio_blk_req));
	o->segs = at;
	at += (size_t)g->nq * g->requests * g->segs * sizeof(struct vio_chain_seg);
	o->total = at;
}

size_t vio_blk_device_mem_size(const struct vio_blk_device_config *cfg)
{
	struct geom g;
	struct offs o;
	if (geometry(cfg, &g) != 0)
		return 0;
	layout(&g, &o);
	return o.total;
}

static int process_cb(void *self, uint16_t q)
{
	return vio_blk_device_process((struct vio_blk_device *)self, q);
}

static const struct vio_device_ops blk_ops;

int vio_blk_device_init(struct vio_blk_device **bdp, void *mem, size_t mem_size,
			const struct vio_blk_device_config *cfg)
{
	struct geom g;
	struct offs o;
	if (bdp == NULL || mem == NULL || ((uintptr_t)mem & (VIO_BLK_DEVICE_MEM_ALIGN - 1u)) != 0 ||
	    geometry(cfg, &g) != 0)
		return -VIO_EINVAL;
	layout(&g, &o);
	if (mem_size < o.total)
		return -VIO_EINVAL;
	unsigned char *base = (unsigned char *)mem;
	struct vio_blk_device *bd = (struct vio_blk_device *)mem;
	VIO_MEMSET(bd, 0, sizeof(*bd));
	bd->desc = cfg->desc;
	bd->desc.num_queues = g.nq;
	bd->backend = cfg->backend;
	bd->backend_ctx = cfg->backend_ctx;
	bd->bq = (struct vio_blk_queue *)(void *)(base + o.bq);
	bd->qmax = (uint16_t *)(void *)(base + o.qmax);
	bd->reqs = (struct vio_blk_req *)(void *)(base + o.reqs);
	bd->segs = (struct vio_chain_seg *)(void *)(base + o.segs);
	bd->nq = g.nq;
	bd->requests = g.requests;
	bd->segs_per_req = g.segs;
	for (uint16_t i = 0; i < g.nq; i++) {
		bd->qmax[i] = g.qmax;
		VIO_MEMSET(&bd->bq[i], 0, sizeof(bd->bq[i]));
	}

	int rc = vio_blk_dev_init(&bd->model, &bd->desc, bd->backend, bd->backend_ctx);
	if (rc == 0)
		rc = vio_blk_dev_features(&bd->desc, &bd->offer);
	if (rc == 0)
		rc = vio_blk_dev_fill_config(&bd->desc, &bd->config);
	if (rc != 0)
		return rc;
	struct vio_features ring;
	if (cfg->ring_features != NULL) {
		ring = *cfg->ring_features;
	} else {
		vio_ring_features(&ring);
		/* The model pushes in the backend's completion order. */
		vio_features_clear(&ring, VIO_F_IN_ORDER);
	}
	for (unsigned bit = 0; bit < 24; bit++)
		vio_features_clear(&ring, bit); /* the device-type bits are the model's */
	bd->offer = vio_features_or(&bd->offer, &ring);

	vio__adapter_init(&bd->a, (struct vio__adq *)(void *)(base + o.adq), g.nq, cfg->runner,
			  cfg->runner_ctx, process_cb, bd);
	*bdp = bd;
	return 0;
}

void vio_blk_device_info(struct vio_blk_device *bd, struct vio_device_info *info)
{
	info->device_id = VIO_ID_BLOCK;
	info->num_queues = bd->nq;
	info->queue_max = bd->qmax;
	info->features = bd->offer;
	info->config = &bd->config;
	info->config_size = (uint32_t)sizeof(bd->config);
	info->ops = &blk_ops;
	info->ctx = bd;
	/* A chain longer than the segment array is answered with IOERR
	 * instead of failing the queue (blk_dev.h). */
	info->take_long_chains = true;
	/* Pops through vio_device_queue_pop(): serves re-submitted chains. */
	info->takes_resubmitted = true;
}

/* ---- Queue threads ---------------------------------------------------------- */

int vio_blk_device_process(struct vio_blk_device *bd, uint16_t q)
{
	if (q >= bd->nq)
		return -VIO_EINVAL;
	if (!vio__adapter_live(&bd->a, q))
		return 0; /* a kick that arrived after a stop */
	struct vio_device *dev = bd->a.dev;
	struct vio_blk_queue *bq = &bd->bq[q];
	struct vio_devq *dq = vio_device_queue(dev, q);
	int taken = 0;
	for (;;) {
		/* No kicks while we are looking anyway (a hint). */
		vio_devq_disable_notify(dq);
		int rc = vio_blk_queue_process(bq);
		(void)vio_device_queue_notify_used(dev, q);
		if (rc < 0) {
			if (rc != -VIO_EMAP_AGAIN)
				(void)vio_device_queue_error(dev, q, rc);
			return rc;
		}
		taken += rc;
		/* Re-arm, then look again: a buffer made available between the
		 * last pop and the re-arm did not kick (§2.7.10 "enable,
		 * re-check"). */
		if (vio_devq_enable_notify(dq) && !vio_device_queue_resubmitting(dev, q))
			return taken;
		/* Every slot in flight (a backend that completes later): the
		 * rest waits for the call after its completions. */
		if (rc == 0 && vio_blk_queue_inflight(bq) >= bd->requests)
			return taken;
	}
}

/* ---- Control thread: the device core's ops ----------------------------------- */

static void queue_down(struct vio_blk_device *bd, uint16_t q)
{
	vio__adapter_stop(&bd->a, q);
	if (bd->a.q[q].inited) {
		vio_blk_queue_reset(&bd->bq[q]);
		bd->a.q[q].inited = false;
	}
}

/* The chains of queue q: re-submitted ones first (vio_device_queue_pop()). */
static int pop_cb(void *ctx, struct vio_blk_queue *bq, struct vio_chain *chain,
		  struct vio_chain_seg *segs, uint16_t max_segs)
{
	struct vio_blk_device *bd = ctx;
	return vio_device_queue_pop(bd->a.dev, (uint32_t)(bq - bd->bq), chain, segs, max_segs);
}

static int queue_up(struct vio_blk_device *bd, struct vio_device *dev, uint16_t q)
{
	struct vio_devq *dq = vio_device_queue(dev, q);
	if (dq == NULL)
		return 0; /* not enabled by the driver: nothing to serve */
	size_t first = (size_t)q * bd->requests;
	int rc = vio_blk_queue_init(&bd->bq[q], &bd->model, dq, bd->reqs + first, bd->requests,
				    bd->segs + first * bd->segs_per_req, bd->segs_per_req);
	if (rc != 0)
		return rc;
	vio_blk_queue_set_pop(&bd->bq[q], pop_cb, bd);
	bd->a.q[q].inited = true;
	vio__adapter_start(&bd->a, q);
	return 0;
}

static int blk_validate(void *ctx, struct vio_device *dev, const struct vio_features *f)
{
	struct vio_blk_device *bd = ctx;
	(void)dev;
	return vio_blk_dev_set_features(&bd->model, f, &bd->config);
}

static void blk_config_write(void *ctx, struct vio_device *dev, uint32_t offset, const void *data,
			     uint32_t len)
{
	struct vio_blk_device *bd = ctx;
	(void)dev;
	/* The backend may read the cache mode on a queue thread: change it
	 * with every queue paused. */
	bool was_paused = bd->a.paused;
	vio__adapter_pause(&bd->a);
	(void)vio_blk_dev_config_write(&bd->model, &bd->config, offset, data, len);
	if (!was_paused)
		vio__adapter_resume(&bd->a);
}

static int blk_activate(void *ctx, struct vio_device *dev)
{
	struct vio_blk_device *bd = ctx;
	/* No queue is live here (activate follows reset, FEATURES_OK, a
	 * suspend or a restore): queue threads read dev only once a queue
	 * went live after this store. */
	bd->a.dev = dev;
	/* The model learns the negotiated features here too: after a
	 * vio_device_restore() no FEATURES_OK was seen. Keep the cache mode
	 * the configuration space holds (the driver may have written it). */
	struct vio_features f;
	vio_device_features(dev, &f);
	uint8_t wb = bd->config.writeback;
	int rc = vio_blk_dev_set_features(&bd->model, &f, NULL);
	if (rc != 0)
		return rc;
	if (vio_features_test(&f, VIO_BLK_F_CONFIG_WCE))
		(void)vio_blk_dev_config_write(&bd->model, &bd->config, VIO_BLK_CFG_WRITEBACK, &wb,
					       1);
	for (uint16_t q = 0; q < bd->nq; q++) {
		rc = queue_up(bd, dev, q);
		if (rc != 0) {
			for (uint16_t i = 0; i < q; i++)
				queue_down(bd, i);
			return rc;
		}
	}
	return 0;
}

static void blk_deactivate(void *ctx, struct vio_device *dev)
{
	struct vio_blk_device *bd = ctx;
	(void)dev;
	for (uint16_t q = 0; q < bd->nq; q++)
		queue_down(bd, q);
}

static void blk_reset(void *ctx, struct vio_device *dev)
{
	struct vio_blk_device *bd = ctx;
	(void)dev;
	/* Back to the description: negotiated features empty, cache mode and
	 * configuration as at init. */
	(void)vio_blk_dev_init(&bd->model, &bd->desc, bd->backend, bd->backend_ctx);
	(void)vio_blk_dev_fill_config(&bd->desc, &bd->config);
}

static void blk_queue_notify(void *ctx, struct vio_device *dev, uint16_t q, uint32_t data)
{
	struct vio_blk_device *bd = ctx;
	(void)dev;
	(void)data; /* the position is a hint; the ring says what is there */
	vio__adapter_kick(&bd->a, q);
}

static int blk_queue_enable(void *ctx, struct vio_device *dev, uint16_t q)
{
	struct vio_blk_device *bd = ctx;
	return q < bd->nq ? queue_up(bd, dev, q) : -VIO_EINVAL;
}

static void blk_queue_stop(void *ctx, struct vio_device *dev, uint16_t q)
{
	struct vio_blk_device *bd = ctx;
	(void)dev;
	if (q < bd->nq)
		queue_down(bd, q);
}

static const struct vio_device_ops blk_ops = {
	.config_write = blk_config_write,
	.validate_features = blk_validate,
	.activate = blk_activate,
	.deactivate = blk_deactivate,
	.suspend = NULL, /* the core deactivates; DRIVER_OK activates again */
	.reset = blk_reset,
	.queue_notify = blk_queue_notify,
	.queue_enable = blk_queue_enable,
	.queue_stop = blk_queue_stop,
};

/* ---- Control functions -------------------------------------------------------- */

void vio_blk_device_pause(struct vio_blk_device *bd)
{
	vio__adapter_pause(&bd->a);
}

void vio_blk_device_resume(struct vio_blk_device *bd)
{
	vio__adapter_resume(&bd->a);
}

int vio_blk_device_set_capacity(struct vio_blk_device *bd, struct vio_device *dev,
				uint64_t capacity)
{
	if (capacity > VIO_BLK_MAX_CAPACITY)
		return -VIO_EINVAL;
	bool was_paused = bd->a.paused;
	vio__adapter_pause(&bd->a);
	int rc = vio_blk_dev_set_capacity(&bd->model, capacity, &bd->config);
	if (rc == 0)
		bd->desc.capacity = capacity; /* a reset keeps the new size */
	if (!was_paused)
		vio__adapter_resume(&bd->a);
	if (rc == 0)
		vio_device_config_changed(dev);
	return rc;
}

struct vio_blk_dev *vio_blk_device_model(struct vio_blk_device *bd)
{
	return &bd->model;
}

bool vio_blk_device_queue_live(const struct vio_blk_device *bd, uint16_t q)
{
	return vio__adapter_live(&bd->a, q);
}
