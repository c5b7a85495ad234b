/* SPDX-License-Identifier: MIT */
/* Device core: whole-device state save and restore (migration).
 *
 * Layout, every field little-endian:
 *   header (48 bytes)
 *     0 magic "VIOD"   4 version (1)   8 device id   12 queues (16 bits)
 *    14 flags (16 bits: CFG_PENDING, DRIVER_EXTRA, ACTIVE)
 *    16 config size   20 status   24 generation   28 config vector (16 bits)
 *    30 reserved (16 bits, 0)   32 driver features, four 32-bit windows
 *   the configuration bytes (config size)
 *   per queue (48 bytes)
 *     0 size (32 bits)   4 max   6 vector   8 notify_off (16 bits each)
 *    10 ready  11 avail_wrap  12 used_wrap  13 reserved (bytes)
 *    14 avail_idx  16 used_idx  18 inflight (16 bits each)
 *    20 broken: the positive error code that broke the queue, or 0 (32)
 *    24 desc  32 driver  40 device (64 bits each)
 */
#include "core/device_impl.h"

#define STATE_MAGIC 0x444f4956u /* "VIOD" */
#define STATE_VERSION 1u
#define HDR_BYTES 48u
#define QUEUE_BYTES 48u

#define FLAG_CFG_PENDING 1u
#define FLAG_DRIVER_EXTRA 2u
#define FLAG_ACTIVE 4u

static void put(unsigned char *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

size_t vio_device_state_size(const struct vio_device *dev)
{
	return HDR_BYTES + (size_t)dev->config_size + (size_t)QUEUE_BYTES * dev->num_queues;
}

int vio_device_save(const struct vio_device *dev, void *buf, size_t len)
{
	size_t need = vio_device_state_size(dev);
	if (buf == NULL || len < need)
		return -VIO_ENOSPC;
	unsigned char *p = buf;
	VIO_MEMSET(p, 0, need);
	unsigned flags = 0;
	if (atomic_load_explicit(&((struct vio_device *)dev)->config_pending, memory_order_acquire))
		flags |= FLAG_CFG_PENDING;
	if (dev->driver_extra)
		flags |= FLAG_DRIVER_EXTRA;
	if (dev->active)
		flags |= FLAG_ACTIVE;
	put(p + 0, STATE_MAGIC, 4);
	put(p + 4, STATE_VERSION, 4);
	put(p + 8, dev->device_id, 4);
	put(p + 12, dev->num_queues, 2);
	put(p + 14, flags, 2);
	put(p + 16, dev->config_size, 4);
	put(p + 20, vio__dev_status(dev), 4);
	put(p + 24, dev->generation, 4);
	put(p + 28, vio_device_config_vector(dev), 2);
	for (uint32_t w = 0; w < 4; w++)
		put(p + 32 + 4 * w, vio_features_word32(&dev->driver, w), 4);
	p += HDR_BYTES;
	if (dev->config_size > 0)
		VIO_MEMCPY(p, dev->config, dev->config_size);
	p += dev->config_size;
	for (uint16_t i = 0; i < dev->num_queues; i++, p += QUEUE_BYTES) {
		const struct vio__devq_slot *s = &dev->q[i];
		struct vio_ring_state rs = {0};
		if (s->dq != NULL)
			vio_devq_get_state(s->dq, &rs);
		put(p + 0, s->size, 4);
		put(p + 4, s->max, 2);
		put(p + 6, vio_device_queue_vector(dev, i), 2);
		put(p + 8, s->notify_off, 2);
		p[10] = s->ready ? 1 : 0;
		p[11] = rs.avail_wrap ? 1 : 0;
		p[12] = rs.used_wrap ? 1 : 0;
		put(p + 14, rs.avail_idx, 2);
		put(p + 16, rs.used_idx, 2);
		put(p + 18, rs.inflight, 2);
		if (s->dq != NULL && vio_devq_is_broken(s->dq))
			put(p + 20, (uint32_t)-vio_devq_broken_reason(s->dq), 4);
		for (unsigned a = 0; a < 3; a++)
			put(p + 24 + 8 * a, s->addr[a], 8);
	}
	return 0;
}

/* A status the state machine can reach: known bits, the steps in order,
 * SUSPEND only in place of DRIVER_OK after FEATURES_OK. */
static bool status_reachable(unsigned st)
{
	if ((st & ~0xffu) != 0 || (st & 32u) != 0)
		return false;
	if ((st & VIO_STATUS_DRIVER) != 0 && (st & VIO_STATUS_ACKNOWLEDGE) == 0)
		return false;
	if ((st & VIO_STATUS_FEATURES_OK) != 0 && (st & VIO_STATUS_DRIVER) == 0)
		return false;
	if ((st & VIO_STATUS_DRIVER_OK) != 0 && (st & VIO_STATUS_FEATURES_OK) == 0)
		return false;
	if ((st & VIO_STATUS_SUSPEND) != 0 &&
	    ((st & VIO_STATUS_DRIVER_OK) != 0 || (st & VIO_STATUS_FEATURES_OK) == 0))
		return false;
	return true;
}

static int check_blob(const struct vio_device *dev, const unsigned char *p, size_t len)
{
	if (p == NULL || len != vio_device_state_size(dev) || get(p, 4) != STATE_MAGIC ||
	    get(p + 4, 4) != STATE_VERSION || get(p + 8, 4) != dev->device_id ||
	    get(p + 12, 2) != dev->num_queues || get(p + 16, 4) != dev->config_size ||
	    get(p + 30, 2) != 0)
		return -VIO_ESTATE_BLOB;
	unsigned flags = (unsigned)get(p + 14, 2);
	unsigned st = (unsigned)get(p + 20, 4);
	if ((flags & ~(FLAG_CFG_PENDING | FLAG_DRIVER_EXTRA | FLAG_ACTIVE)) != 0 ||
	    !status_reachable(st))
		return -VIO_ESTATE_BLOB;
	struct vio_features f = vio_features_none();
	for (uint32_t w = 0; w < 4; w++)
		vio_features_set_word32(&f, w, (uint32_t)get(p + 32 + 4 * w, 4));
	bool fok = (st & VIO_STATUS_FEATURES_OK) != 0;
	if (fok && ((flags & FLAG_DRIVER_EXTRA) != 0 || !vio_features_subset(&f, &dev->offered) ||
		    !vio_features_test(&f, VIO_F_VERSION_1)))
		return -VIO_ESTATE_BLOB;
	if ((st & VIO_STATUS_SUSPEND) != 0 && !vio_features_test(&f, VIO_F_SUSPEND))
		return -VIO_ESTATE_BLOB;
	if ((flags & FLAG_ACTIVE) != 0 && !vio__status_live(st))
		return -VIO_ESTATE_BLOB;
	const unsigned char *qp = p + HDR_BYTES + dev->config_size;
	for (uint16_t i = 0; i < dev->num_queues; i++, qp += QUEUE_BYTES) {
		if (get(qp + 4, 2) != dev->q[i].max || qp[10] > 1 || qp[11] > 1 || qp[12] > 1 ||
		    qp[13] != 0 || get(qp + 20, 4) > 255u || (qp[10] == 0 && get(qp + 20, 4) != 0))
			return -VIO_ESTATE_BLOB;
		/* A queue is enabled only after FEATURES_OK, and not after FAILED
		 * or DEVICE_NEEDS_RESET (an enable refused then). */
		if (qp[10] != 0 && !fok)
			return -VIO_ESTATE_BLOB;
		/* No more chains in flight than the queue holds (the split ring
		 * recomputes it from guest memory, but a blob that says so is
		 * damaged). */
		if (get(qp + 18, 2) > get(qp, 4))
			return -VIO_ESTATE_BLOB;
	}
	return 0;
}

/* Back to the reset state without the model's reset callback. */
static void core_reset(struct vio_device *dev)
{
	vio__device_deactivate(dev);
	vio__device_queues_reset(dev);
	dev->driver = vio_features_none();
	dev->driver_extra = false;
	atomic_store_explicit(&dev->config_pending, false, memory_order_relaxed);
	atomic_store_explicit(&dev->config_vector, VIO_DEVICE_NO_VECTOR, memory_order_relaxed);
	atomic_store_explicit(&dev->status, 0u, memory_order_release);
}

int vio_device_restore(struct vio_device *dev, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	core_reset(dev);
	int rc = check_blob(dev, p, len);
	if (rc < 0)
		return rc;

	unsigned flags = (unsigned)get(p + 14, 2);
	for (uint32_t w = 0; w < 4; w++)
		vio_features_set_word32(&dev->driver, w, (uint32_t)get(p + 32 + 4 * w, 4));
	dev->driver_extra = (flags & FLAG_DRIVER_EXTRA) != 0;
	dev->generation = (uint32_t)get(p + 24, 4);
	atomic_store_explicit(&dev->config_vector, (uint_least16_t)get(p + 28, 2),
			      memory_order_relaxed);
	atomic_store_explicit(&dev->config_pending, (flags & FLAG_CFG_PENDING) != 0,
			      memory_order_relaxed);
	if (dev->config_size > 0)
		VIO_MEMCPY(dev->config, p + HDR_BYTES, dev->config_size);
	atomic_store_explicit(&dev->status, (unsigned)get(p + 20, 4), memory_order_release);

	const unsigned char *qp = p + HDR_BYTES + dev->config_size;
	for (uint16_t i = 0; i < dev->num_queues; i++, qp += QUEUE_BYTES) {
		struct vio__devq_slot *s = &dev->q[i];
		s->size = (uint32_t)get(qp, 4);
		atomic_store_explicit(&s->vector, (uint_least16_t)get(qp + 6, 2),
				      memory_order_relaxed);
		s->notify_off = (uint16_t)get(qp + 8, 2);
		for (unsigned a = 0; a < 3; a++)
			s->addr[a] = get(qp + 24 + 8 * a, 8);
		if (qp[10] == 0)
			continue;
		rc = vio__device_queue_create(dev, i);
		if (rc == 0) {
			struct vio_ring_state rs = {0};
			rs.avail_wrap = qp[11] != 0;
			rs.used_wrap = qp[12] != 0;
			rs.avail_idx = (uint16_t)get(qp + 14, 2);
			rs.used_idx = (uint16_t)get(qp + 16, 2);
			rs.inflight = (uint16_t)get(qp + 18, 2);
			rc = vio_devq_set_state(s->dq, &rs);
			/* A queue broken at save time stays broken (the status
			 * still says DEVICE_NEEDS_RESET). */
			uint32_t broken = (uint32_t)get(qp + 20, 4);
			if (rc == 0 && broken != 0)
				(void)vio_devq_fail(s->dq, -(int)broken);
		}
		if (rc < 0) {
			core_reset(dev);
			return rc == -VIO_EINVAL ? -VIO_ESTATE_BLOB : rc;
		}
	}

	if ((flags & FLAG_ACTIVE) != 0) {
		rc = 0;
		if (dev->ops != NULL && dev->ops->activate != NULL)
			rc = dev->ops->activate(dev->ctx, dev);
		if (rc < 0)
			vio_device_set_needs_reset(dev);
		else
			dev->active = true;
	}
	return 0;
}
