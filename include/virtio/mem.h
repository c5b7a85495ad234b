/* SPDX-License-Identifier: MIT */
/**
 * @file mem.h
 * @brief Memory callbacks: how the device side reaches driver memory and how
 *        the driver side names its memory to the device.
 *
 * \defgroup vio_mem Memory callbacks
 * @{
 * The device side never dereferences an address that came from the driver.
 * It asks the embedder's ::vio_dev_mem_ops::map to turn (address, length,
 * direction) into a host pointer valid for exactly that range, or to refuse.
 * A VMM implements it over its guest-memory table; a vhost-user back end over
 * the regions of SET_MEM_TABLE; a test over a buffer with exact bounds.
 *
 * Ops are per queue instance (`ops` + `ctx`), never process-global.
 */
#ifndef VIO_MEM_H
#define VIO_MEM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Access the device will make through a mapping (bit set). */
enum vio_map_dir {
	VIO_MAP_READ = 1,  /**< The device reads: driver-to-device data, rings it consumes. */
	VIO_MAP_WRITE = 2, /**< The device writes: device-to-driver data, rings it produces. */
	VIO_MAP_RW = 3	   /**< Both (the used ring and event fields). */
};

/**
 * @brief Device-side memory access, implemented by the embedder.
 */
struct vio_dev_mem_ops {
	/**
	 * @brief Map [@p addr, @p addr + @p len) of driver memory for @p dir access.
	 *
	 * @param ctx  The `mem_ctx` given with these ops.
	 * @param addr Device-visible address taken from the ring (untrusted).
	 * @param len  Bytes needed, ≥ 1. The library has already checked that
	 *             @p addr + @p len does not wrap around 2^64.
	 * @param dir  ::vio_map_dir bits.
	 * @return A host pointer through which all @p len bytes may be accessed,
	 *         or NULL to refuse (out of bounds, not permitted, not mapped).
	 *
	 * The pointer must stay valid until the queue is reset or re-initialised
	 * (rings) or until the chain is pushed back (buffers). It must be
	 * suitably aligned for the ring parts: the library checks that and
	 * fails with ::VIO_ERING_ALIGN otherwise. Called from the thread that
	 * owns the device queue; must not call back into that queue.
	 */
	void *(*map)(void *ctx, uint64_t addr, size_t len, enum vio_map_dir dir);
};

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_MEM_H */
