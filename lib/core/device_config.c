/* SPDX-License-Identifier: MIT */
/* Device core: the device-specific configuration space, its generation
 * counter and configuration change notifications (virtio 1.4 §2.5, §3.2.1). */
#include "core/device_impl.h"

static bool config_range_ok(const struct vio_device *dev, uint32_t offset, uint32_t len)
{
	return len >= 1 && len <= 8 && offset <= dev->config_size &&
	       len <= dev->config_size - offset;
}

uint32_t vio_device_config_size(const struct vio_device *dev)
{
	return dev->config_size;
}

int vio_device_config_read(struct vio_device *dev, uint32_t offset, void *buf, uint32_t len)
{
	if (!config_range_ok(dev, offset, len)) {
		if (len <= 8)
			VIO_MEMSET(buf, 0, len);
		return -VIO_EREG;
	}
	VIO_MEMCPY(buf, (const unsigned char *)dev->config + offset, len);
	return 0;
}

int vio_device_config_write(struct vio_device *dev, uint32_t offset, const void *data, uint32_t len)
{
	if (!config_range_ok(dev, offset, len))
		return -VIO_EREG;
	unsigned st = vio__dev_status(dev);
	/* §3.4.2: a suspended device SHOULD ignore configuration writes. */
	if ((st & (VIO_STATUS_SUSPEND | VIO_STATUS_FAILED)) != 0)
		return -VIO_EDEVICE_STATE;
	if (dev->ops != NULL && dev->ops->config_write != NULL)
		dev->ops->config_write(dev->ctx, dev, offset, data, len);
	return 0;
}

uint32_t vio_device_config_generation(const struct vio_device *dev)
{
	return dev->generation;
}

void vio__device_config_irq(struct vio_device *dev)
{
	unsigned st = vio__dev_status(dev);
	if ((st & VIO_STATUS_SUSPEND) != 0) {
		/* §3.4.2: no configuration change notification while suspended;
		 * it is sent on resume. */
		atomic_store_explicit(&dev->config_pending, true, memory_order_release);
		return;
	}
	/* Without DRIVER_OK the driver has not set up notifications; a driver
	 * that gave up (FAILED) gets none either. It reads the generation. */
	if ((st & VIO_STATUS_DRIVER_OK) == 0 || (st & VIO_STATUS_FAILED) != 0)
		return;
	if (dev->tops != NULL && dev->tops->interrupt != NULL)
		dev->tops->interrupt(dev->tctx, VIO_DEVICE_IRQ_CONFIG, 0);
}

void vio_device_config_changed(struct vio_device *dev)
{
	/* A 32-bit counter that moves on every change: two reads around a
	 * config access differ whenever a change happened between them (the
	 * PCI model's 8-bit view wraps only after 256 changes between two
	 * reads of one driver loop). */
	dev->generation++;
	vio__device_config_irq(dev);
}

int vio_device_config_update(struct vio_device *dev, uint32_t offset, const void *data,
			     uint32_t len)
{
	if (offset > dev->config_size || len > dev->config_size - offset)
		return -VIO_EINVAL;
	if (len > 0)
		VIO_MEMCPY((unsigned char *)dev->config + offset, data, len);
	vio_device_config_changed(dev);
	return 0;
}

uint16_t vio_device_config_vector(const struct vio_device *dev)
{
	return (uint16_t)atomic_load_explicit(&((struct vio_device *)dev)->config_vector,
					      memory_order_relaxed);
}

void vio_device_set_config_vector(struct vio_device *dev, uint16_t vector)
{
	atomic_store_explicit(&dev->config_vector, vector, memory_order_relaxed);
}
