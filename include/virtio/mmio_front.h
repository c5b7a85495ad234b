/* SPDX-License-Identifier: MIT */
/**
 * @file mmio_front.h
 * @brief virtio-mmio front (driver side): probe a device through register
 *        accessors and drive it with the driver core (driver.h).
 *
 * \defgroup vio_mmio_front virtio-mmio front (vio_mmio_front)
 * @{
 * The embedder supplies accessors for the device's register window (a
 * `volatile` load/store on bare metal, a trap into a register model in a
 * test or a loopback). vio_mmio_front_probe() checks MagicValue, Version and
 * DeviceID (virtio 1.4 §4.2.3.1.1); ::vio_mmio_front_ops then implements
 * ::vio_drv_transport_ops with the front as its context.
 *
 * **Accesses.** Control registers are read and written 32 bits wide at
 * aligned offsets below 0x100 (§4.2.2.2), and only those the table of
 * §4.2.2 defines for version 2, in their direction (no read of a write-only
 * register). The device configuration space at ::VIO_MMIO_CONFIG uses 8-bit
 * accesses for 8-bit fields, 16-bit aligned ones for 16-bit fields and
 * 32-bit aligned ones for 32- and 64-bit fields (a 64-bit field is two
 * 32-bit reads, low word first). The front never touches an offset at or
 * past the window size given to the probe.
 *
 * **Byte order.** The accessors return and take register values: a
 * big-endian CPU's accessor converts from little-endian, as Linux's
 * `readl`/`writel` do. The same holds for the 16- and 32-bit configuration
 * accessors.
 *
 * **Legacy.** Version 1 (§4.2.4) devices are refused with ::VIO_ELEGACY.
 *
 * **Threads.** As the driver core: one thread at a time, except that
 * notify and the interrupt-status/ack pair touch only their registers.
 */
#ifndef VIO_MMIO_FRONT_H
#define VIO_MMIO_FRONT_H

#include <stddef.h>
#include <stdint.h>

#include <virtio/driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Register accessors of one virtio-mmio window. Each gets `bus_ctx`
 *        and a byte offset from the window's base.
 *
 * @c read32 and @c write32 are required. The 8- and 16-bit accessors are
 * needed only for configuration fields of those widths; without them such
 * accesses fail with ::VIO_EINVAL (a 32-bit access in their place would
 * break §4.2.2.2). None can fail: a bus error is the embedder's to handle.
 */
struct vio_mmio_bus {
	/** @brief 32-bit read at a 4-aligned offset. */
	uint32_t (*read32)(void *ctx, uint32_t offset);
	/** @brief 32-bit write at a 4-aligned offset. */
	void (*write32)(void *ctx, uint32_t offset, uint32_t value);
	/** @brief Optional: 8-bit read (configuration space only). */
	uint8_t (*read8)(void *ctx, uint32_t offset);
	/** @brief Optional: 8-bit write (configuration space only). */
	void (*write8)(void *ctx, uint32_t offset, uint8_t value);
	/** @brief Optional: 16-bit read at a 2-aligned offset (configuration space only). */
	uint16_t (*read16)(void *ctx, uint32_t offset);
	/** @brief Optional: 16-bit write at a 2-aligned offset (configuration space only). */
	void (*write16)(void *ctx, uint32_t offset, uint16_t value);
	/** @brief Optional: wait about @p us microseconds (the driver core's
	 *         bounded polls use it; NULL: poll back to back). */
	void (*delay)(void *ctx, uint32_t us);
};

/** @brief A virtio-mmio front (opaque; lives in caller memory of
 *         ::VIO_MMIO_FRONT_MEM_SIZE bytes). */
struct vio_mmio_front;

/** @brief Bytes of memory a front needs (a constant expression). */
#define VIO_MMIO_FRONT_MEM_SIZE 64u
/** @brief Alignment of that memory. */
#define VIO_MMIO_FRONT_MEM_ALIGN 8u
/** @brief The smallest window: the control registers (the configuration
 *         space at 0x100 may then be empty). */
#define VIO_MMIO_FRONT_MIN_WINDOW 0x100u

/**
 * @brief Probe a virtio-mmio device: read MagicValue, Version and DeviceID
 *        (in that order, and nothing else, §4.2.3.1.1) and create the front.
 *
 * A scan over fixed slots (a device tree's `virtio,mmio` nodes, QEMU's
 * `virt` board) skips ::VIO_ENODEV silently: it is an empty slot, not an
 * error (§4.2.2.2). DeviceID is read for version 1 and 2 alike (both put it
 * at 0x008), so an empty slot reads as ::VIO_ENODEV whatever its version
 * (QEMU's empty slots say version 1), and only a version-1 slot holding a
 * device (DeviceID ≠ 0) is ::VIO_ELEGACY.
 *
 * @param fp          Receives the front (a pointer into @p mem) on success.
 * @param mem         ::VIO_MMIO_FRONT_MEM_ALIGN-aligned memory owned by the
 *                    front while it is used.
 * @param mem_size    Bytes at @p mem (≥ ::VIO_MMIO_FRONT_MEM_SIZE).
 * @param bus         Accessors; referenced, must outlive the front.
 * @param bus_ctx     Passed to the accessors.
 * @param window_size Bytes of the register window the embedder granted
 *                    (≥ ::VIO_MMIO_FRONT_MIN_WINDOW); the configuration space
 *                    is window_size - 0x100 bytes. No access reaches past it.
 * @retval 0 A version 2 device with a non-zero ID.
 * @retval -VIO_EINVAL NULL argument, memory too small or misaligned, window
 *         below the control registers, missing read32/write32.
 * @retval -VIO_ENOT_VIRTIO MagicValue is not "virt".
 * @retval -VIO_ENODEV Version 1 or 2 and DeviceID 0: a placeholder (an
 *         empty slot). §4.2.2.2: ignore it and report no error.
 * @retval -VIO_ELEGACY Version 1 with a non-zero DeviceID (a legacy device,
 *         §4.2.4: not supported), or an unknown version (DeviceID not read).
 * @note Calls read32 up to three times.
 */
int vio_mmio_front_probe(struct vio_mmio_front **fp, void *mem, size_t mem_size,
			 const struct vio_mmio_bus *bus, void *bus_ctx, uint32_t window_size);

/**
 * @brief The device ID read by the probe (spec.h VIO_ID_*).
 * @param f The front.
 * @return The device type.
 */
uint32_t vio_mmio_front_device_id(const struct vio_mmio_front *f);

/**
 * @brief The VendorID register (read at each call).
 * @param f The front.
 * @return The subsystem vendor ID.
 */
uint32_t vio_mmio_front_vendor_id(const struct vio_mmio_front *f);

/**
 * @brief Bytes of configuration space the window holds.
 * @param f The front.
 * @return window_size - 0x100.
 */
uint32_t vio_mmio_front_config_size(const struct vio_mmio_front *f);

/**
 * @brief The driver-core transport ops of virtio-mmio. Their context
 *        (::vio_drv_config::ops_ctx) is the front.
 *
 * No `num_queues` (virtio-mmio has no such register), no vectors; queue
 * reset through QueueReset; `device_id` re-reads MagicValue, Version and
 * DeviceID and reports ::VIO_EDEVICE if any changed since the probe.
 */
extern const struct vio_drv_transport_ops vio_mmio_front_ops;

/**
 * @brief Fill a ::vio_drv_config's transport fields for front @p f.
 * @param f   The front.
 * @param cfg The driver configuration to complete (ops, ops_ctx).
 */
void vio_mmio_front_drv_config(struct vio_mmio_front *f, struct vio_drv_config *cfg);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_MMIO_FRONT_H */
