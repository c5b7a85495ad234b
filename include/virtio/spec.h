/* SPDX-License-Identifier: MIT */
/**
 * @file spec.h
 * @brief Device status bits and device type IDs.
 *
 * \defgroup vio_spec Device status and device IDs
 * @{
 * Values from virtio 1.4 §2.1 "Device Status Field" and §5 "Device Types"
 * (the device ID table).
 */
#ifndef VIO_SPEC_H
#define VIO_SPEC_H

#ifdef __cplusplus
extern "C" {
#endif

/** @name Device status bits (virtio 1.4 §2.1)
 * @{ */
#define VIO_STATUS_ACKNOWLEDGE 1	 /**< The guest has noticed the device. */
#define VIO_STATUS_DRIVER 2		 /**< The guest knows how to drive the device. */
#define VIO_STATUS_DRIVER_OK 4		 /**< The driver is set up and ready. */
#define VIO_STATUS_FEATURES_OK 8	 /**< Feature negotiation is complete. */
#define VIO_STATUS_SUSPEND 16		 /**< Suspend requested/done (VIO_F_SUSPEND). */
#define VIO_STATUS_DEVICE_NEEDS_RESET 64 /**< The device hit an error it cannot recover from. */
#define VIO_STATUS_FAILED 128		 /**< The guest gave up on the device. */
/** @} */

/** @name Device type IDs (virtio 1.4 §5); 14, 15 and 37 are unassigned
 * @{ */
#define VIO_ID_RESERVED 0	 /**< Reserved (invalid). */
#define VIO_ID_NET 1		 /**< Network device. */
#define VIO_ID_BLOCK 2		 /**< Block device. */
#define VIO_ID_CONSOLE 3	 /**< Console. */
#define VIO_ID_RNG 4		 /**< Entropy source. */
#define VIO_ID_BALLOON 5	 /**< Memory ballooning (traditional). */
#define VIO_ID_IOMEM 6		 /**< ioMemory. */
#define VIO_ID_RPMSG 7		 /**< rpmsg. */
#define VIO_ID_SCSI 8		 /**< SCSI host. */
#define VIO_ID_9P 9		 /**< 9P transport. */
#define VIO_ID_MAC80211_WLAN 10	 /**< mac80211 wlan. */
#define VIO_ID_RPROC_SERIAL 11	 /**< rproc serial. */
#define VIO_ID_CAIF 12		 /**< virtio CAIF. */
#define VIO_ID_MEMORY_BALLOON 13 /**< Memory balloon. */
#define VIO_ID_GPU 16		 /**< GPU device. */
#define VIO_ID_RTC 17		 /**< Real time clock. */
#define VIO_ID_INPUT 18		 /**< Input device. */
#define VIO_ID_VSOCK 19		 /**< Socket device. */
#define VIO_ID_CRYPTO 20	 /**< Crypto device. */
#define VIO_ID_SIGNAL_DIST 21	 /**< Signal distribution module. */
#define VIO_ID_PSTORE 22	 /**< pstore device. */
#define VIO_ID_IOMMU 23		 /**< IOMMU device. */
#define VIO_ID_MEM 24		 /**< Memory device (virtio-mem). */
#define VIO_ID_SOUND 25		 /**< Sound device. */
#define VIO_ID_FS 26		 /**< File system device. */
#define VIO_ID_PMEM 27		 /**< PMEM device. */
#define VIO_ID_RPMB 28		 /**< RPMB device. */
#define VIO_ID_MAC80211_HWSIM 29 /**< mac80211 hwsim wireless simulation. */
#define VIO_ID_VIDEO_ENCODER 30	 /**< Video encoder. */
#define VIO_ID_VIDEO_DECODER 31	 /**< Video decoder. */
#define VIO_ID_SCMI 32		 /**< SCMI device. */
#define VIO_ID_NITRO_SEC_MOD 33	 /**< NitroSecureModule. */
#define VIO_ID_I2C_ADAPTER 34	 /**< I2C adapter. */
#define VIO_ID_WATCHDOG 35	 /**< Watchdog. */
#define VIO_ID_CAN 36		 /**< CAN device. */
#define VIO_ID_PARAM_SERV 38	 /**< Parameter server. */
#define VIO_ID_AUDIO_POLICY 39	 /**< Audio policy device. */
#define VIO_ID_BT 40		 /**< Bluetooth device. */
#define VIO_ID_GPIO 41		 /**< GPIO device. */
#define VIO_ID_RDMA 42		 /**< RDMA device. */
#define VIO_ID_CAMERA 43	 /**< Camera device. */
#define VIO_ID_ISM 44		 /**< ISM device. */
#define VIO_ID_SPI 45		 /**< SPI controller. */
#define VIO_ID_TEE 46		 /**< TEE device. */
#define VIO_ID_CPU_BALLOON 47	 /**< CPU balloon device. */
#define VIO_ID_MEDIA 48		 /**< Media device. */
#define VIO_ID_USB 49		 /**< USB controller (spec HEAD, after 1.4 CS01). */
/** @} */

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_SPEC_H */
