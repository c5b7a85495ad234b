/* SPDX-License-Identifier: MIT */
/* virtio-rng driver bring-up over the driver core (virtio 1.4 §5.4, §3.1.1). */
#include <virtio/errors.h>
#include <virtio/rng_driver.h>

int vio_rng_driver_start(struct vio_drv *drv, const struct vio_drv_queue_config *qc,
			 struct vio_rng_drv *rng)
{
	if (drv == NULL || qc == NULL || rng == NULL || vio_drv_state(drv) != VIO_DRV_IDLE)
		return -VIO_EINVAL;
	int rc = vio_drv_negotiate(drv);
	if (rc == 0)
		rc = vio_drv_queue_setup(drv, VIO_RNG_REQUESTQ, qc, NULL);
	if (rc == 0)
		rc = vio_drv_ready(drv);
	if (rc == 0)
		rc = vio_rng_drv_init(rng, vio_drv_vq(drv, VIO_RNG_REQUESTQ));
	if (rc != 0 && rc != -VIO_ENODEV && vio_drv_state(drv) != VIO_DRV_FAILED)
		(void)vio_drv_fail(drv, rc);
	return rc;
}
