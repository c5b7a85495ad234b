/* SPDX-License-Identifier: MIT */
/* Device core: per-queue configuration, enable/disable, queue reset
 * (virtio 1.4 §2.6.1), driver notifications and the queue threads'
 * helpers (push, used buffer notifications, broken queues). */
#include "core/device_impl.h"

void vio__device_slot_reset(struct vio__devq_slot *s)
{
	s->dq = NULL;
	s->ready = false;
	s->resubmit = false;
	s->size = s->max;
	s->addr[0] = s->addr[1] = s->addr[2] = 0;
	atomic_store_explicit(&s->vector, VIO_DEVICE_NO_VECTOR, memory_order_relaxed);
}

/* Release slot @s's device queue (the model no longer uses it). */
static void slot_release(struct vio_device *dev, struct vio__devq_slot *s)
{
	if (s->dq != NULL) {
		const struct vio_device_queue_hooks *h = dev->qhooks;
		if (h != NULL && h->stop != NULL)
			h->stop(dev->qhctx, dev, (uint16_t)(s - dev->q), s->dq);
		vio_devq_fini(s->dq);
	}
	s->dq = NULL;
	s->ready = false;
	s->resubmit = false;
}

void vio__device_queues_reset(struct vio_device *dev)
{
	for (uint16_t i = 0; i < dev->num_queues; i++) {
		slot_release(dev, &dev->q[i]);
		vio__device_slot_reset(&dev->q[i]);
	}
}

uint16_t vio_device_queue_max(const struct vio_device *dev, uint32_t q)
{
	const struct vio__devq_slot *s = vio__dev_slot(dev, q);
	return s != NULL ? s->max : 0;
}

uint32_t vio_device_queue_size(const struct vio_device *dev, uint32_t q)
{
	const struct vio__devq_slot *s = vio__dev_slot(dev, q);
	return s != NULL ? s->size : 0;
}

int vio_device_queue_set_size(struct vio_device *dev, uint32_t q, uint32_t size)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	/* §4.2.2.2 (MMIO): not while the queue is ready; PCI likewise expects
	 * the queue configured before queue_enable. */
	if (s == NULL || s->ready)
		return -VIO_EQUEUE_STATE;
	s->size = size;
	return size == 0 || size > s->max ? -VIO_EQUEUE_SIZE : 0;
}

int vio_device_queue_set_addr32(struct vio_device *dev, uint32_t q, enum vio_device_area area,
				bool high, uint32_t value)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if ((unsigned)area > VIO_DEVICE_AREA_DEVICE)
		return -VIO_EINVAL;
	if (s == NULL || s->ready)
		return -VIO_EQUEUE_STATE;
	uint64_t a = s->addr[area];
	if (high)
		a = (a & 0xffffffffu) | ((uint64_t)value << 32);
	else
		a = (a & ~(uint64_t)0xffffffffu) | value;
	s->addr[area] = a;
	return 0;
}

uint64_t vio_device_queue_addr(const struct vio_device *dev, uint32_t q, enum vio_device_area area)
{
	const struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if (s == NULL || (unsigned)area > VIO_DEVICE_AREA_DEVICE)
		return 0;
	return s->addr[area];
}

bool vio_device_queue_ready(const struct vio_device *dev, uint32_t q)
{
	const struct vio__devq_slot *s = vio__dev_slot(dev, q);
	return s != NULL && s->ready;
}

int vio__device_queue_create(struct vio_device *dev, uint32_t q)
{
	struct vio__devq_slot *s = &dev->q[q];
	struct vio_devq_config c = {0};
	c.features = dev->driver;
	c.format = vio_features_test(&c.features, VIO_F_RING_PACKED) ? VIO_RING_PACKED
								     : VIO_RING_SPLIT;
	/* §2.7 / §2.8: split sizes are powers of two, packed any 1 .. 32768;
	 * never above what the device offered. */
	if (s->size == 0 || s->size > s->max || vio_devq_mem_size(c.format, (uint16_t)s->size) == 0)
		return -VIO_EQUEUE_SIZE;
	c.size = (uint16_t)s->size;
	c.index = (uint16_t)q;
	c.desc_addr = s->addr[VIO_DEVICE_AREA_DESC];
	c.driver_addr = s->addr[VIO_DEVICE_AREA_DRIVER];
	c.device_addr = s->addr[VIO_DEVICE_AREA_DEVICE];
	c.regions = dev->regions;
	c.nregions = dev->nregions;
	c.mem_ops = dev->mem_ops;
	c.mem_ctx = dev->mem_ctx;
	c.take_long_chains = dev->take_long_chains;
	struct vio_devq *dq;
	int rc = vio_devq_init(&dq, s->mem, s->mem_size, &c);
	if (rc < 0)
		return rc;
	s->dq = dq;
	s->ready = true;
	return 0;
}

/* Enable slot @q; with @st, its ring starts at that position instead of the
 * reset one (before the model sees the queue). */
static int queue_enable(struct vio_device *dev, uint32_t q, const struct vio_ring_state *pos)
{
	struct vio__devq_slot *s = &dev->q[q];
	if (s->ready)
		return pos != NULL ? -VIO_EQUEUE_STATE : 0;
	unsigned st = vio__dev_status(dev);
	/* The ring format is known only once the features are. */
	if ((st & VIO_STATUS_FEATURES_OK) == 0 ||
	    (st & (VIO_STATUS_FAILED | VIO_STATUS_DEVICE_NEEDS_RESET)) != 0)
		return -VIO_EQUEUE_STATE;
	int rc = vio__device_queue_create(dev, q);
	if (rc < 0) {
		/* The driver's queue configuration is unusable (bad size, rings
		 * outside granted memory, misaligned) or the memory is not
		 * mappable now. Transports give the driver no way to see a
		 * refused enable but the status: say it needs a reset. */
		vio_device_set_needs_reset(dev);
		return rc;
	}
	const struct vio_device_queue_hooks *h = dev->qhooks;
	if (h != NULL && h->start != NULL)
		rc = h->start(dev->qhctx, dev, (uint16_t)q, s->dq, pos);
	else if (pos != NULL)
		rc = vio_devq_set_state(s->dq, pos);
	if (rc < 0) {
		/* The position does not fit the ring in guest memory (or the
		 * transport's record of it is unusable): as unusable as a bad
		 * address. */
		slot_release(dev, s);
		vio_device_set_needs_reset(dev);
		return rc;
	}
	s->resubmit = h != NULL && rc > 0 && h->resubmit != NULL;
	if (dev->active && dev->ops != NULL && dev->ops->queue_enable != NULL) {
		rc = dev->ops->queue_enable(dev->ctx, dev, (uint16_t)q);
		if (rc < 0) {
			vio_device_set_needs_reset(dev);
			return rc;
		}
	}
	return 0;
}

/* Stop the model on a live queue, then release its device queue. */
static void queue_stop(struct vio_device *dev, uint32_t q)
{
	struct vio__devq_slot *s = &dev->q[q];
	if (s->ready && dev->active && dev->ops != NULL && dev->ops->queue_stop != NULL)
		dev->ops->queue_stop(dev->ctx, dev, (uint16_t)q);
	slot_release(dev, s);
}

int vio_device_queue_set_ready(struct vio_device *dev, uint32_t q, bool ready)
{
	if (vio__dev_slot(dev, q) == NULL)
		return -VIO_EQUEUE_STATE;
	if (ready)
		return queue_enable(dev, q, NULL);
	queue_stop(dev, q);
	return 0;
}

int vio_device_queue_enable_at(struct vio_device *dev, uint32_t q, const struct vio_ring_state *st)
{
	if (vio__dev_slot(dev, q) == NULL || st == NULL)
		return -VIO_EQUEUE_STATE;
	return queue_enable(dev, q, st);
}

int vio_device_queue_get_state(const struct vio_device *dev, uint32_t q, struct vio_ring_state *st)
{
	const struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if (s == NULL || s->dq == NULL)
		return -VIO_EQUEUE_STATE;
	vio_devq_get_state(s->dq, st);
	return 0;
}

int vio_device_queue_reset(struct vio_device *dev, uint32_t q)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if (s == NULL || !vio_device_has_feature(dev, VIO_F_RING_RESET))
		return -VIO_EQUEUE_STATE;
	/* §2.6.1.1: no more requests or notifications for the queue, and its
	 * state back to the default, available and used state included. */
	queue_stop(dev, q);
	vio__device_slot_reset(s);
	return 0;
}

uint16_t vio_device_queue_vector(const struct vio_device *dev, uint32_t q)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if (s == NULL)
		return VIO_DEVICE_NO_VECTOR;
	return (uint16_t)atomic_load_explicit(&s->vector, memory_order_relaxed);
}

int vio_device_queue_set_vector(struct vio_device *dev, uint32_t q, uint16_t vector)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if (s == NULL)
		return -VIO_EQUEUE_STATE;
	atomic_store_explicit(&s->vector, vector, memory_order_relaxed);
	return 0;
}

uint16_t vio_device_queue_notify_off(const struct vio_device *dev, uint32_t q)
{
	const struct vio__devq_slot *s = vio__dev_slot(dev, q);
	return s != NULL ? s->notify_off : 0;
}

int vio_device_queue_set_notify_off(struct vio_device *dev, uint32_t q, uint16_t off)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if (s == NULL)
		return -VIO_EQUEUE_STATE;
	s->notify_off = off;
	return 0;
}

int vio_device_queue_notify(struct vio_device *dev, uint32_t q, uint32_t data)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	/* §3.1.1: no available buffer notifications before DRIVER_OK; §3.4:
	 * none while suspended (DRIVER_OK is then clear). */
	if (s == NULL || !s->ready || !dev->active || !vio__status_live(vio__dev_status(dev)))
		return -VIO_EQUEUE_STATE;
	if (dev->ops != NULL && dev->ops->queue_notify != NULL)
		dev->ops->queue_notify(dev->ctx, dev, (uint16_t)q, data);
	return 0;
}

int vio_device_set_mem_table(struct vio_device *dev, const struct vio_mem_region *regions,
			     uint32_t n)
{
	for (uint16_t i = 0; i < dev->num_queues; i++) {
		struct vio__devq_slot *s = &dev->q[i];
		if (s->dq == NULL)
			continue;
		int rc = vio_devq_set_mem_table(s->dq, regions, n);
		if (rc < 0)
			return rc;
	}
	dev->regions = regions;
	dev->nregions = n;
	return 0;
}

/* ---- Queue threads ---------------------------------------------------------- */

struct vio_devq *vio_device_queue(struct vio_device *dev, uint32_t q)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	return s != NULL ? s->dq : NULL;
}

int vio_device_queue_pop(struct vio_device *dev, uint32_t q, struct vio_chain *chain,
			 struct vio_chain_seg *segs, uint16_t max_segs)
{
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if (s == NULL || s->dq == NULL)
		return -VIO_EQUEUE_STATE;
	if (s->resubmit) {
		const struct vio_device_queue_hooks *h = dev->qhooks;
		int rc = h != NULL && h->resubmit != NULL
				 ? h->resubmit(dev->qhctx, dev, (uint16_t)q, s->dq, chain, segs,
					       max_segs)
				 : -VIO_EAGAIN;
		if (rc != -VIO_EAGAIN)
			return rc;
		s->resubmit = false;
	}
	return vio_devq_pop(s->dq, chain, segs, max_segs);
}

bool vio_device_queue_resubmitting(const struct vio_device *dev, uint32_t q)
{
	const struct vio__devq_slot *s = vio__dev_slot(dev, q);
	return s != NULL && s->resubmit;
}

void vio_device_queue_interrupt(struct vio_device *dev, uint32_t q)
{
	/* §2.1.2: no used buffer notifications before DRIVER_OK; §3.4.2: none
	 * while suspended (DRIVER_OK clear). */
	if (q >= dev->num_queues || !vio__status_live(vio__dev_status(dev)))
		return;
	if (dev->tops != NULL && dev->tops->interrupt != NULL)
		dev->tops->interrupt(dev->tctx, VIO_DEVICE_IRQ_QUEUE, (uint16_t)q);
}

bool vio_device_queue_notify_used(struct vio_device *dev, uint32_t q)
{
	struct vio_devq *dq = vio_device_queue(dev, q);
	if (dq == NULL || !vio_devq_needs_notify(dq))
		return false;
	vio_device_queue_interrupt(dev, q);
	return true;
}

int vio_device_queue_push(struct vio_device *dev, uint32_t q, const struct vio_chain *chain,
			  uint32_t written)
{
	struct vio_devq *dq = vio_device_queue(dev, q);
	if (dq == NULL)
		return -VIO_EQUEUE_STATE;
	int rc = vio_devq_push(dq, chain, written);
	if (rc < 0)
		return vio_device_queue_error(dev, q, rc);
	(void)vio_device_queue_notify_used(dev, q);
	return 0;
}

int vio_device_queue_pop_batch(struct vio_device *dev, uint32_t q, struct vio_chain *chains,
			       struct vio_chain_seg *segs, uint16_t max_segs, unsigned n)
{
	if (n == 0)
		return 0; /* an empty batch is a no-op */
	struct vio__devq_slot *s = vio__dev_slot(dev, q);
	if (s == NULL || s->dq == NULL)
		return -VIO_EQUEUE_STATE;
	unsigned k = 0;
	/* Re-submitted chains one at a time, through the hook; the ring's in
	 * one batch. (No arithmetic on the array when it may be NULL.) */
	while (k < n && s->resubmit) {
		struct vio_chain_seg *sg = max_segs != 0 ? segs + (size_t)k * max_segs : segs;
		int rc = vio_device_queue_pop(dev, q, &chains[k], sg, max_segs);
		if (rc != 0)
			return k != 0 ? (int)k : rc;
		k++;
	}
	if (k == n)
		return (int)k;
	struct vio_chain_seg *sg = max_segs != 0 ? segs + (size_t)k * max_segs : segs;
	int rc = vio_devq_pop_batch(s->dq, &chains[k], sg, max_segs, n - k);
	if (rc < 0)
		return k != 0 ? (int)k : rc;
	return (int)k + rc;
}

int vio_device_queue_push_chains(struct vio_device *dev, uint32_t q, const struct vio_chain *chains,
				 const uint32_t *lens, unsigned n)
{
	if (n == 0)
		return 0; /* an empty batch is a no-op */
	struct vio_devq *dq = vio_device_queue(dev, q);
	if (dq == NULL)
		return -VIO_EQUEUE_STATE;
	int rc = vio_devq_push_chains(dq, chains, lens, n);
	if (rc < 0)
		return vio_device_queue_error(dev, q, rc);
	(void)vio_device_queue_notify_used(dev, q);
	return 0;
}

int vio_device_queue_error(struct vio_device *dev, uint32_t q, int err)
{
	(void)q;
	if (err < 0 && (vio_err_is_peer(err) || err == -VIO_EBROKEN))
		vio_device_set_needs_reset(dev);
	return err;
}
