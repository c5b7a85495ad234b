/* SPDX-License-Identifier: MIT */
/**
 * @file rng_driver.h
 * @brief virtio-rng on the driver core: bring an entropy device up.
 *
 * \defgroup vio_rng_driver virtio-rng driver bring-up (vio_rng_driver)
 * @{
 * @code
 * struct vio_drv_config dc = {0};
 * vio_mmio_front_drv_config(front, &dc);
 * dc.num_queues = 1;
 * dc.device_id = VIO_ID_RNG;
 * vio_drv_init(&drv, drv_mem, sizeof(drv_mem), &dc);
 * vio_rng_driver_start(drv, &qc, &rng);   // then vio_rng_drv_submit() / _get()
 * @endcode
 * **Threads.** As the driver core.
 */
#ifndef VIO_RNG_DRIVER_H
#define VIO_RNG_DRIVER_H

#include <virtio/driver.h>
#include <virtio/rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief vio_drv_negotiate(), set up the request queue with @p qc,
 *        vio_drv_ready(), vio_rng_drv_init().
 * @param drv The driver core, idle, with at least one queue slot.
 * @param qc  Memory and options of the request queue (owned by the queue
 *            until the device is reset).
 * @param rng Receives the initialised helper.
 * @retval 0 The device is live.
 * @retval -VIO_EINVAL Bad arguments or state.
 * @retval <0 The error of the step that failed (FAILED written by the
 *         driver core, except for ::VIO_ENODEV).
 */
int vio_rng_driver_start(struct vio_drv *drv, const struct vio_drv_queue_config *qc,
			 struct vio_rng_drv *rng);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_RNG_DRIVER_H */
