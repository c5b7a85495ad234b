/* SPDX-License-Identifier: MIT */
/**
 * @file mmio.h
 * @brief virtio-mmio register layout (wire format only).
 *
 * \defgroup vio_mmio_regs virtio-mmio registers
 * @{
 * Offsets from the device's base address and register values, from virtio
 * 1.4 §4.2.2 "MMIO Device Register Layout" (modern, version 2) and §4.2.4
 * "Legacy interface" (version 1). Every register is 32 bits wide and
 * little-endian; the device-specific configuration space at
 * #VIO_MMIO_CONFIG is accessed with byte alignment (§4.2.2.2).
 *
 * The device-side register model and the driver-side front both use these
 * names; nothing here has behaviour.
 */
#ifndef VIO_MMIO_H
#define VIO_MMIO_H

#ifdef __cplusplus
extern "C" {
#endif

/** @name Register offsets (§4.2.2; "legacy" ones only in §4.2.4)
 * @{ */
#define VIO_MMIO_MAGIC_VALUE 0x000	      /**< R: #VIO_MMIO_MAGIC. */
#define VIO_MMIO_VERSION 0x004		      /**< R: 2 (modern) or 1 (legacy). */
#define VIO_MMIO_DEVICE_ID 0x008	      /**< R: device type; 0 = placeholder. */
#define VIO_MMIO_VENDOR_ID 0x00c	      /**< R: subsystem vendor ID. */
#define VIO_MMIO_DEVICE_FEATURES 0x010	      /**< R: 32 feature bits of the selected word. */
#define VIO_MMIO_DEVICE_FEATURES_SEL 0x014    /**< W: word selector for DeviceFeatures. */
#define VIO_MMIO_DRIVER_FEATURES 0x020	      /**< W: 32 accepted bits of the selected word. */
#define VIO_MMIO_DRIVER_FEATURES_SEL 0x024    /**< W: word selector for DriverFeatures. */
#define VIO_MMIO_LEGACY_GUEST_PAGE_SIZE 0x028 /**< W, legacy only: guest page size. */
#define VIO_MMIO_QUEUE_SEL 0x030	  /**< W: selects the queue the queue registers act on. */
#define VIO_MMIO_QUEUE_NUM_MAX 0x034	  /**< R: maximum queue size; 0 = queue absent. */
#define VIO_MMIO_QUEUE_NUM 0x038	  /**< W: queue size the driver uses. */
#define VIO_MMIO_LEGACY_QUEUE_ALIGN 0x03c /**< W, legacy only: used ring alignment. */
#define VIO_MMIO_LEGACY_QUEUE_PFN 0x040	  /**< RW, legacy only: queue page frame number. */
#define VIO_MMIO_QUEUE_READY 0x044	  /**< RW: 1 = the selected queue is enabled. */
#define VIO_MMIO_QUEUE_NOTIFY 0x050	  /**< W: queue index (or notification data). */
#define VIO_MMIO_INTERRUPT_STATUS 0x060	  /**< R: VIO_MMIO_INT_* bits pending. */
#define VIO_MMIO_INTERRUPT_ACK 0x064	  /**< W: VIO_MMIO_INT_* bits handled. */
#define VIO_MMIO_STATUS 0x070		  /**< RW: device status; writing 0 resets. */
#define VIO_MMIO_QUEUE_DESC_LOW 0x080	  /**< W: descriptor area, bits 0–31. */
#define VIO_MMIO_QUEUE_DESC_HIGH 0x084	  /**< W: descriptor area, bits 32–63. */
#define VIO_MMIO_QUEUE_DRIVER_LOW 0x090	  /**< W: driver area, bits 0–31. */
#define VIO_MMIO_QUEUE_DRIVER_HIGH 0x094  /**< W: driver area, bits 32–63. */
#define VIO_MMIO_QUEUE_DEVICE_LOW 0x0a0	  /**< W: device area, bits 0–31. */
#define VIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4  /**< W: device area, bits 32–63. */
#define VIO_MMIO_SHM_SEL 0x0ac		  /**< W: selects a shared memory region. */
#define VIO_MMIO_SHM_LEN_LOW 0x0b0	  /**< R: region length, bits 0–31 (~0 if absent). */
#define VIO_MMIO_SHM_LEN_HIGH 0x0b4	  /**< R: region length, bits 32–63. */
#define VIO_MMIO_SHM_BASE_LOW 0x0b8	  /**< R: region base, bits 0–31 (~0 if absent). */
#define VIO_MMIO_SHM_BASE_HIGH 0x0bc	  /**< R: region base, bits 32–63. */
#define VIO_MMIO_QUEUE_RESET 0x0c0	  /**< RW: 1 resets the selected queue (RING_RESET). */
#define VIO_MMIO_CONFIG_GENERATION 0x0fc  /**< R: configuration atomicity value. */
#define VIO_MMIO_CONFIG 0x100		  /**< RW: device-specific configuration space. */
/** @} */

/** @name Register values
 * @{ */
/** @brief MagicValue: "virt" read as a little-endian 32-bit word. */
#define VIO_MMIO_MAGIC 0x74726976u
#define VIO_MMIO_VERSION_LEGACY 1u /**< Version of a legacy (§4.2.4) device. */
#define VIO_MMIO_VERSION_MODERN 2u /**< Version of a virtio 1.x device. */
/** @brief InterruptStatus bit 0: a queue has used buffers. */
#define VIO_MMIO_INT_VRING 1u
/** @brief InterruptStatus bit 1: the configuration space changed. */
#define VIO_MMIO_INT_CONFIG 2u
/** @} */

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_MMIO_H */
