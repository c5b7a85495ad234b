/* SPDX-License-Identifier: MIT */
/* Device core: memory layout, init, the transport hook-up, the feature offer
 * and the identity getters. */
#include "core/device_impl.h"

_Static_assert(sizeof(struct vio_device) <= VIO__DEVICE_FIXED_BYTES,
	       "VIO__DEVICE_FIXED_BYTES (device.h) is too small for struct vio_device");
_Static_assert(sizeof(struct vio__devq_slot) <= VIO__DEVICE_PER_QUEUE_BYTES,
	       "VIO__DEVICE_PER_QUEUE_BYTES (device.h) is too small for a queue slot");
_Static_assert(VIO_DEVICE_MEM_ALIGN >= VIO_DEVQ_MEM_ALIGN, "device memory holds devq memory");

static size_t round8(size_t n)
{
	return (n + 7u) & ~(size_t)7u;
}

static bool info_valid(const struct vio_device_info *info)
{
	if (info == NULL || info->num_queues > VIO_DEVICE_MAX_QUEUES)
		return false;
	if (info->num_queues > 0 && info->queue_max == NULL)
		return false;
	if (info->config == NULL && info->config_size != 0)
		return false;
	for (unsigned i = 0; i < info->num_queues; i++)
		if (info->queue_max[i] == 0 || info->queue_max[i] > 32768u)
			return false;
	return true;
}

/* The queue slot array sits right after struct vio_device (rounded to 8),
 * then each queue's device-queue memory. */
static size_t slots_offset(void)
{
	return round8(sizeof(struct vio_device));
}

size_t vio_device_mem_size(const struct vio_device_info *info)
{
	if (!info_valid(info))
		return 0;
	size_t n = slots_offset() + round8(sizeof(struct vio__devq_slot) * info->num_queues);
	for (unsigned i = 0; i < info->num_queues; i++)
		n += round8(VIO_DEVQ_MEM_SIZE(info->queue_max[i]));
	return n;
}

int vio_device_init(struct vio_device **devp, void *mem, size_t mem_size,
		    const struct vio_device_info *info)
{
	if (devp == NULL || mem == NULL || ((uintptr_t)mem % VIO_DEVICE_MEM_ALIGN) != 0)
		return -VIO_EINVAL;
	size_t need = vio_device_mem_size(info);
	if (need == 0 || mem_size < need)
		return -VIO_EINVAL;

	unsigned char *base = mem;
	VIO_MEMSET(base, 0, need);
	struct vio_device *dev = (struct vio_device *)(void *)base;
	dev->ops = info->ops;
	dev->ctx = info->ctx;
	dev->config = info->config;
	dev->config_size = info->config_size;
	dev->device_id = info->device_id;
	dev->num_queues = info->num_queues;
	dev->take_long_chains = info->take_long_chains;
	dev->regions = info->regions;
	dev->nregions = info->nregions;
	dev->mem_ops = info->mem_ops;
	dev->mem_ctx = info->mem_ctx;
	dev->model_features = info->features;
	atomic_init(&dev->status, 0u);
	atomic_init(&dev->config_pending, false);
	atomic_init(&dev->config_vector, VIO_DEVICE_NO_VECTOR);

	dev->q = (struct vio__devq_slot *)(void *)(base + slots_offset());
	unsigned char *qmem =
		base + slots_offset() + round8(sizeof(struct vio__devq_slot) * info->num_queues);
	for (uint16_t i = 0; i < info->num_queues; i++) {
		struct vio__devq_slot *s = &dev->q[i];
		s->max = info->queue_max[i];
		s->notify_off = i;
		s->mem = qmem;
		s->mem_size = round8(VIO_DEVQ_MEM_SIZE(s->max));
		qmem += s->mem_size;
		atomic_init(&s->vector, VIO_DEVICE_NO_VECTOR);
		vio__device_slot_reset(s);
	}
	vio__device_compute_offer(dev);
	*devp = dev;
	return 0;
}

/* Bits in the ranges the spec reserves for the transport and negotiation
 * (24–40, 43) and for the future (44–49), virtio 1.4 §2.2. 41 (ADMIN_VQ)
 * is listed as reserved in §6 although the allocation text makes it
 * device-specific: it is treated as a transport bit here. */
static bool transport_range(unsigned bit)
{
	return (bit >= 24 && bit <= 41) || (bit >= 43 && bit <= 49);
}

void vio__device_compute_offer(struct vio_device *dev)
{
	/* What the core itself implements among the transport bits: the ring's
	 * (but those the transport must carry), VERSION_1, the platform bits
	 * (the embedder's decision: kept if the model offers them) and
	 * SUSPEND. */
	struct vio_features core;
	vio_ring_features(&core);
	vio_features_clear(&core, VIO_F_NOTIFICATION_DATA);
	vio_features_clear(&core, VIO_F_RING_RESET);
	vio_features_set(&core, VIO_F_VERSION_1);
	vio_features_set(&core, VIO_F_ACCESS_PLATFORM);
	vio_features_set(&core, VIO_F_ORDER_PLATFORM);
	vio_features_set(&core, VIO_F_SUSPEND);
	static const unsigned from_transport[] = {VIO_F_NOTIFICATION_DATA, VIO_F_NOTIF_CONFIG_DATA,
						  VIO_F_RING_RESET, VIO_F_SR_IOV, VIO_F_ADMIN_VQ};
	for (unsigned i = 0; i < sizeof(from_transport) / sizeof(from_transport[0]); i++)
		if (vio_features_test(&dev->transport_bits, from_transport[i]))
			vio_features_set(&core, from_transport[i]);

	struct vio_features f = dev->model_features;
	for (unsigned bit = 24; bit < 50; bit++)
		if (transport_range(bit) && !vio_features_test(&core, bit))
			vio_features_clear(&f, bit);
	/* §6: a device MUST offer VERSION_1 (legacy is not supported). */
	vio_features_set(&f, VIO_F_VERSION_1);
	dev->offered = f;
}

void vio_device_set_transport(struct vio_device *dev, const struct vio_device_transport *t,
			      void *ctx, const struct vio_features *supported)
{
	dev->tops = t;
	dev->tctx = ctx;
	dev->transport_bits = supported != NULL ? *supported : vio_features_none();
	vio__device_compute_offer(dev);
}

void vio_device_set_queue_hooks(struct vio_device *dev, const struct vio_device_queue_hooks *h,
				void *ctx)
{
	dev->qhooks = h;
	dev->qhctx = ctx;
}

uint32_t vio_device_id(const struct vio_device *dev)
{
	return dev->device_id;
}

uint16_t vio_device_num_queues(const struct vio_device *dev)
{
	return dev->num_queues;
}

void vio_device_offered(const struct vio_device *dev, struct vio_features *out)
{
	*out = dev->offered;
}

void vio_device_driver_features(const struct vio_device *dev, struct vio_features *out)
{
	*out = dev->driver;
}

void vio_device_features(const struct vio_device *dev, struct vio_features *out)
{
	if ((vio__dev_status(dev) & VIO_STATUS_FEATURES_OK) != 0)
		*out = dev->driver;
	else
		*out = vio_features_none();
}

bool vio_device_has_feature(const struct vio_device *dev, unsigned bit)
{
	return (vio__dev_status(dev) & VIO_STATUS_FEATURES_OK) != 0 &&
	       vio_features_test(&dev->driver, bit);
}

uint32_t vio_device_offered_word(const struct vio_device *dev, uint32_t sel)
{
	return vio_features_word32(&dev->offered, sel);
}

uint32_t vio_device_driver_word(const struct vio_device *dev, uint32_t sel)
{
	return vio_features_word32(&dev->driver, sel);
}
