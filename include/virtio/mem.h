/* SPDX-License-Identifier: MIT */
/**
 * @file mem.h
 * @brief Guest memory as the device side sees it: a region table searched
 *        inline, a map callback for the rest, a release hook and a write log.
 *
 * \defgroup vio_mem Guest memory (device side)
 * @{
 * The device side never dereferences an address that came from the driver.
 * It translates (address, length, direction) through the embedder's region
 * table — a VMM's guest memory map, vhost-user's SET_MEM_TABLE — searched
 * without an indirect call, last hit first. What the table does not cover
 * goes to the optional ::vio_mem_ops::map callback (an IOTLB, lazily mapped
 * memory). A range that runs from one region into an adjacent one becomes
 * several segments; a byte that neither grants is refused.
 *
 * Everything the device writes into guest memory can be reported to
 * ::vio_mem_ops::log_write as (guest address, length), for dirty-page
 * tracking during live migration (vhost-user LOG_ALL).
 *
 * Ops are per queue instance (`ops` + `ctx`), never process-global. The
 * driver side's address conversion is in dma.h.
 */
#ifndef VIO_MEM_H
#define VIO_MEM_H

#include <stdbool.h>
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
 * @brief One region of guest memory the device may access.
 *
 * A table is an array of these, owned by the embedder, referenced (not
 * copied) by each queue given it: keep it valid and unchanged until it is
 * replaced (vio_devq_set_mem_table()) or the queue is no longer used.
 * Regions should not overlap; where they do, which one serves an address is
 * unspecified (the search starts at the region that matched last).
 */
struct vio_mem_region {
	uint64_t guest_addr; /**< Device-visible address of the first byte. */
	/** Bytes. A region of size 0 matches nothing; one that runs past 2^64
	 * makes the table invalid (vio_devq_init() refuses it). */
	uint64_t size;
	void *host;	 /**< Host address of the first byte. */
	unsigned access; /**< ::vio_map_dir bits the device may use here. */
};

/** @brief What a map callback granted. */
struct vio_mapping {
	void *host; /**< Host address of the first byte of the requested range. */
	/** Bytes granted from the requested address on: 1 .. the requested
	 * length. Less than requested when a mapping ends there (the library
	 * asks again for the rest, which may map elsewhere). */
	uint64_t len;
	/** true: call ::vio_mem_ops::release for this mapping when the device
	 * is done with it. */
	bool release;
};

/**
 * @brief Device-side memory callbacks, implemented by the embedder. Every
 *        member is optional.
 *
 * Callbacks run on the thread that called the queue function and must not
 * call back into that queue.
 */
struct vio_mem_ops {
	/**
	 * @brief Map guest memory the region table does not cover.
	 *
	 * @param ctx  The `mem_ctx` given with these ops.
	 * @param addr Device-visible address (untrusted: it came from the ring).
	 * @param len  Bytes wanted, ≥ 1; @p addr + @p len does not wrap 2^64.
	 * @param dir  ::vio_map_dir bits the device will use.
	 * @param m    Receives the mapping (see ::vio_mapping).
	 * @retval 0 Mapped: @p m describes at least one byte.
	 * @retval -VIO_EMAP_AGAIN Not now (e.g. an IOTLB miss the embedder will
	 *         resolve): the queue operation fails with ::VIO_EMAP_AGAIN,
	 *         takes nothing and can be retried. The queue is not broken.
	 * @retval <0 Any other value refuses: the address is outside the memory
	 *         granted to the device (a peer error on buffers).
	 */
	int (*map)(void *ctx, uint64_t addr, uint64_t len, enum vio_map_dir dir,
		   struct vio_mapping *m);
	/**
	 * @brief Release a mapping that map() returned with `release` set.
	 *
	 * Called exactly once per such mapping: for buffers when their chain is
	 * pushed or dropped (before the used entry is published, so a bounce
	 * buffer can be copied back first) or when a pop fails after mapping
	 * them; for indirect tables once the table has been read; for ring
	 * parts when they are re-mapped or the queue is finished.
	 * @param ctx  The `mem_ctx` given with these ops.
	 * @param host ::vio_mapping::host of the mapping.
	 * @param addr The device-visible address it was mapped for.
	 * @param len  ::vio_mapping::len of the mapping.
	 * @param dir  The direction it was mapped for.
	 */
	void (*release)(void *ctx, void *host, uint64_t addr, uint64_t len, enum vio_map_dir dir);
	/**
	 * @brief The device wrote [@p addr, @p addr + @p len) of guest memory.
	 *
	 * Reports used ring entries and index, used descriptors, the device's
	 * event-suppression fields, and buffer bytes (the first `written` bytes
	 * of a pushed chain's writable segments, or what the model reports with
	 * vio_devq_log_write()). Ranges may repeat; none is left out.
	 * @param ctx  The `mem_ctx` given with these ops.
	 * @param addr Device-visible address of the first byte written.
	 * @param len  Bytes, ≥ 1.
	 */
	void (*log_write)(void *ctx, uint64_t addr, uint64_t len);
};

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_MEM_H */
