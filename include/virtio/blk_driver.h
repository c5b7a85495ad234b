/* SPDX-License-Identifier: MIT */
/**
 * @file blk_driver.h
 * @brief virtio-blk on the driver core: read the configuration through any
 *        transport front and bring a block device up (negotiate, queues,
 *        DRIVER_OK, one ::vio_blk_drv per request queue).
 *
 * \defgroup vio_blk_driver virtio-blk driver bring-up (vio_blk_driver)
 * @{
 * The glue between the driver core (driver.h) and the blk driver helper
 * (blk_drv.h). A guest that found a block device (vio_mmio_front_probe())
 * and created a driver core for it:
 * @code
 * struct vio_drv_config dc = {0};
 * vio_mmio_front_drv_config(front, &dc);
 * dc.num_queues = 2;                          // request queues wanted
 * dc.device_id = VIO_ID_BLOCK;
 * vio_blk_drv_features(&dc.features);         // + VIO_F_RING_PACKED if ready for it
 * vio_drv_init(&drv, drv_mem, sizeof(drv_mem), &dc);
 * struct vio_drv_queue_config qc[2] = { ... ring and vq memory ... };
 * struct vio_blk_drv blk[2];
 * struct vio_blk_info info;
 * uint16_t nq;
 * int rc = vio_blk_driver_start(drv, qc, 2, blk, &info, &nq);
 * @endcode
 *
 * **Configuration reads** use each field's natural width (§4.1.3.1,
 * §4.2.2.2: 8-bit fields with 8-bit accesses, 16-bit with 16-bit, 32- and
 * 64-bit with 32-bit ones) and retry as one snapshot while the generation
 * changes (vio_drv_config_read_fields()); only the fields of negotiated
 * features are read, so a device exposing a shorter configuration space is
 * not read past its end.
 *
 * **Threads.** As the driver core: the thread that owns the driver.
 */
#ifndef VIO_BLK_DRIVER_H
#define VIO_BLK_DRIVER_H

#include <stdint.h>

#include <virtio/blk_drv.h>
#include <virtio/driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Read and check the blk configuration of a negotiated driver.
 * @param drv  The driver core, negotiated (::VIO_DRV_FEATURES_OK) or live.
 * @param info Receives the parsed configuration (vio_blk_config_parse()).
 * @retval 0 Read and valid.
 * @retval -VIO_EINVAL NULL arguments, a driver not negotiated, or a field
 *         past the transport's configuration window.
 * @retval -VIO_EBLK_CONFIG A value the spec does not allow (the device is
 *         broken: give up with vio_drv_fail()).
 * @retval <0 vio_drv_config_read_fields()'s errors (::VIO_EGENERATION:
 *         FAILED already written).
 */
int vio_blk_driver_read_info(struct vio_drv *drv, struct vio_blk_info *info);

/**
 * @brief Bring a block device up: vio_drv_negotiate(), the configuration
 *        (vio_blk_driver_read_info()), queues 0 .. n-1 where n is the
 *        smaller of @p nqc and the device's request queues,
 *        vio_drv_ready(), and vio_blk_drv_init() for each of them.
 * @param drv     The driver core, idle, created with the blk features it
 *                wants (vio_blk_drv_features(), plus ring bits such as
 *                VIO_F_RING_PACKED) and at least @p nqc queue slots.
 * @param qc      Memory and options of queue i in @p qc[i]; the memory
 *                belongs to the queue until the device is reset.
 * @param nqc     Entries in @p qc and @p blk (≥ 1).
 * @param blk     Receives one initialised helper per queue set up.
 * @param info    Receives the configuration.
 * @param nqueues Receives n, the queues set up (may be NULL).
 * @retval 0 The device is live.
 * @retval -VIO_EINVAL Bad arguments or state (nothing written to the device).
 * @retval -VIO_EBLK_CONFIG The configuration is invalid (FAILED written).
 * @retval <0 The error of the step that failed; the driver core has written
 *         FAILED (vio_drv_error(), vio_drv_failed_step()) unless the device
 *         is not a block device (::VIO_ENODEV).
 */
int vio_blk_driver_start(struct vio_drv *drv, const struct vio_drv_queue_config *qc, uint16_t nqc,
			 struct vio_blk_drv *blk, struct vio_blk_info *info, uint16_t *nqueues);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_BLK_DRIVER_H */
