/* SPDX-License-Identifier: MIT */
/* Device core: the device status state machine (virtio 1.4 §2.1, §3.1,
 * §3.4 SUSPEND), feature negotiation and reset. */
#include "core/device_impl.h"

int vio_device_set_driver_word(struct vio_device *dev, uint32_t sel, uint32_t value)
{
	unsigned st = vio__dev_status(dev);
	/* §3.1.1 step 5: no new feature bits after FEATURES_OK. */
	if ((st & (VIO_STATUS_FEATURES_OK | VIO_STATUS_FAILED)) != 0)
		return -VIO_EDEVICE_STATE;
	if (!vio_features_set_word32(&dev->driver, sel, value)) {
		/* A window beyond the set: we offer nothing there, so any bit the
		 * driver accepts there is unoffered; remember it for FEATURES_OK. */
		if (value != 0)
			dev->driver_extra = true;
	}
	return 0;
}

uint8_t vio_device_status(const struct vio_device *dev)
{
	return (uint8_t)(vio__dev_status(dev) & 0xffu);
}

bool vio_device_is_live(const struct vio_device *dev)
{
	return vio__status_live(vio__dev_status(dev));
}

void vio__device_deactivate(struct vio_device *dev)
{
	if (!dev->active)
		return;
	dev->active = false;
	if (dev->ops != NULL && dev->ops->deactivate != NULL)
		dev->ops->deactivate(dev->ctx, dev);
}

void vio_device_set_needs_reset(struct vio_device *dev)
{
	unsigned old = atomic_fetch_or_explicit(&dev->status, VIO_STATUS_DEVICE_NEEDS_RESET,
						memory_order_acq_rel);
	/* §2.1.2: after setting DEVICE_NEEDS_RESET with DRIVER_OK set, the
	 * device MUST send a configuration change notification. */
	if ((old & VIO_STATUS_DEVICE_NEEDS_RESET) == 0)
		vio__device_config_irq(dev);
}

void vio_device_reset(struct vio_device *dev)
{
	vio__device_deactivate(dev);
	vio__device_queues_reset(dev);
	dev->driver = vio_features_none();
	dev->driver_extra = false;
	atomic_store_explicit(&dev->config_pending, false, memory_order_relaxed);
	atomic_store_explicit(&dev->config_vector, VIO_DEVICE_NO_VECTOR, memory_order_relaxed);
	/* §2.4.1: status back to 0. Nothing else writes it now: the model is
	 * stopped. */
	atomic_store_explicit(&dev->status, 0u, memory_order_release);
	if (dev->tops != NULL && dev->tops->reset != NULL)
		dev->tops->reset(dev->tctx);
	if (dev->ops != NULL && dev->ops->reset != NULL)
		dev->ops->reset(dev->ctx, dev);
}

/* FEATURES_OK: the driver's set must be a subset of the offer (§2.2.1: the
 * driver MUST NOT accept an unoffered feature; §2.2.2: the device MUST then
 * fail FEATURES_OK) and include VERSION_1 (this device has no legacy
 * interface, §6.2); then the model may veto. */
static int negotiate(struct vio_device *dev)
{
	if (dev->driver_extra || !vio_features_subset(&dev->driver, &dev->offered) ||
	    !vio_features_test(&dev->driver, VIO_F_VERSION_1))
		return -VIO_EFEATURES;
	if (dev->ops != NULL && dev->ops->validate_features != NULL &&
	    dev->ops->validate_features(dev->ctx, dev, &dev->driver) < 0)
		return -VIO_EFEATURES_VETO;
	return 0;
}

static void go_live(struct vio_device *dev)
{
	/* DRIVER_OK is visible before activate runs, so that what the model
	 * pushes from activate may notify. */
	vio__dev_status_update(dev, VIO_STATUS_DRIVER_OK | VIO_STATUS_SUSPEND,
			       VIO_STATUS_DRIVER_OK);
	int rc = 0;
	if (dev->ops != NULL && dev->ops->activate != NULL)
		rc = dev->ops->activate(dev->ctx, dev);
	if (rc < 0) {
		vio_device_set_needs_reset(dev);
		return;
	}
	dev->active = true;
}

static void suspend(struct vio_device *dev)
{
	int rc = 0;
	if (dev->ops != NULL && dev->ops->suspend != NULL) {
		rc = dev->ops->suspend(dev->ctx, dev);
		if (rc == 0)
			dev->active = false;
	} else {
		vio__device_deactivate(dev);
	}
	if (rc < 0) {
		/* §3.4.2: MUST either suspend or set DEVICE_NEEDS_RESET. */
		vio_device_set_needs_reset(dev);
		return;
	}
	vio__dev_status_update(dev, VIO_STATUS_DRIVER_OK | VIO_STATUS_SUSPEND, VIO_STATUS_SUSPEND);
}

static void resume(struct vio_device *dev)
{
	/* Running again before activate, as for DRIVER_OK: what the model
	 * pushes from activate may notify. */
	vio__dev_status_update(dev, VIO_STATUS_DRIVER_OK | VIO_STATUS_SUSPEND,
			       VIO_STATUS_DRIVER_OK);
	int rc = 0;
	if (dev->ops != NULL && dev->ops->activate != NULL)
		rc = dev->ops->activate(dev->ctx, dev);
	if (rc < 0) {
		/* §3.4.2: MUST either resume or set DEVICE_NEEDS_RESET. The device
		 * stays suspended; no notification while DRIVER_OK is clear. */
		vio__dev_status_update(dev, VIO_STATUS_DRIVER_OK | VIO_STATUS_SUSPEND,
				       VIO_STATUS_SUSPEND);
		vio_device_set_needs_reset(dev);
		return;
	}
	dev->active = true;
	/* §3.4.2: a configuration change held back while suspended is sent
	 * when the device resumes. */
	if (atomic_exchange_explicit(&dev->config_pending, false, memory_order_acq_rel))
		vio__device_config_irq(dev);
}

int vio_device_set_status(struct vio_device *dev, uint8_t value)
{
	if (value == 0) {
		vio_device_reset(dev);
		return 0;
	}
	unsigned st = vio__dev_status(dev);
	if ((st & VIO_STATUS_FAILED) != 0)
		return -VIO_EDEVICE_STATE; /* §2.1.1: after FAILED, the driver resets */

	unsigned old = st & VIO__STATUS_DRIVER_BITS;
	/* DEVICE_NEEDS_RESET belongs to the device: whatever the driver wrote
	 * there is ignored. */
	unsigned w = (unsigned)value & ~(unsigned)VIO_STATUS_DEVICE_NEEDS_RESET;
	if ((w & ~(unsigned)VIO__STATUS_DRIVER_BITS) != 0)
		return -VIO_ESTATUS;

	bool suspended = (old & VIO_STATUS_SUSPEND) != 0;
	bool susp_ok = vio_features_test(&dev->driver, VIO_F_SUSPEND) &&
		       (suspended || vio__status_live(st));
	/* §3.4.2: the device MUST ignore operations on SUSPEND before the
	 * device is initialised (and we ignore them without the feature). */
	if (!susp_ok)
		w = (w & ~(unsigned)VIO_STATUS_SUSPEND) | (old & VIO_STATUS_SUSPEND);

	/* §2.1.1: the driver MUST NOT clear a bit. The one exception is the
	 * resume from SUSPEND: DRIVER_OK set again, SUSPEND may be left out. */
	unsigned may_clear = 0;
	if (suspended && (w & VIO_STATUS_DRIVER_OK) != 0)
		may_clear = VIO_STATUS_SUSPEND;
	if ((old & ~w & ~may_clear) != 0)
		return -VIO_ESTATUS;

	/* §3.1.1: the steps in order; each bit needs the ones before it. */
	if (((w & VIO_STATUS_DRIVER) != 0 && (w & VIO_STATUS_ACKNOWLEDGE) == 0) ||
	    ((w & VIO_STATUS_FEATURES_OK) != 0 && (w & VIO_STATUS_DRIVER) == 0) ||
	    ((w & VIO_STATUS_DRIVER_OK) != 0 && (w & VIO_STATUS_FEATURES_OK) == 0 && !suspended))
		return -VIO_ESTATUS;

	unsigned added = w & ~old;
	if ((added & VIO_STATUS_FAILED) != 0) {
		/* The driver gave up: the device stops being live. A write that
		 * sets FAILED takes only FAILED. */
		vio__device_deactivate(dev);
		vio__dev_status_update(dev, VIO_STATUS_FAILED, VIO_STATUS_FAILED);
		return 0;
	}

	if (suspended) {
		if ((added & VIO_STATUS_DRIVER_OK) != 0) {
			if ((st & VIO_STATUS_DEVICE_NEEDS_RESET) != 0)
				return -VIO_EDEVICE_STATE;
			resume(dev);
		}
		return 0;
	}

	vio__dev_status_update(dev, VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER,
			       w & (VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER));
	if ((added & VIO_STATUS_FEATURES_OK) != 0) {
		int rc = negotiate(dev);
		if (rc < 0)
			return rc; /* FEATURES_OK reads back clear; DRIVER_OK too */
		vio__dev_status_update(dev, VIO_STATUS_FEATURES_OK, VIO_STATUS_FEATURES_OK);
	}
	if ((added & VIO_STATUS_DRIVER_OK) != 0) {
		if ((vio__dev_status(dev) & VIO_STATUS_DEVICE_NEEDS_RESET) != 0)
			return -VIO_EDEVICE_STATE;
		go_live(dev);
	}
	if ((added & VIO_STATUS_SUSPEND) != 0 && vio__status_live(vio__dev_status(dev)))
		suspend(dev);
	return 0;
}
