/* SPDX-License-Identifier: MIT */
/**
 * @file dma.h
 * @brief Driver-side address conversion: how the driver names its memory to
 *        the device, and when a conversion ends.
 *
 * \defgroup vio_dma Driver address conversion (DMA)
 * @{
 * The driver half of a queue (vq.h) never hands a pointer to the device. Each
 * range it publishes (a buffer segment, an indirect table, a ring part) goes
 * through ::vio_dma_ops::to_device, which returns the address the device must
 * use: an IOMMU or DMA mapping, a guest-physical address, or the address of a
 * bounce buffer in memory the device may reach (a confidential guest copies
 * readable data in at conversion and writable data back at release). Without
 * ops the conversion is the identity (the pointer's value).
 *
 * Every range converted on the data path is released exactly once through
 * ::vio_dma_ops::release, with the same pointer, length, direction and
 * address: when vio_vq_get() reaps its buffer, when vio_vq_detach_unused()
 * takes the buffer back, or, if vio_vq_add() fails after converting part of a
 * buffer, before that call returns. The three ring parts are converted by
 * vio_vq_ring_addrs() and released by vio_vq_ring_addrs_release().
 *
 * Ops are per queue instance (`ops` + `ctx`), never process-global. The
 * callbacks run on the thread that called the queue operation and must not
 * call back into that queue.
 */
#ifndef VIO_DMA_H
#define VIO_DMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief What the device does with a converted range (bit set; same bits as ::vio_map_dir). */
enum vio_dma_dir {
	/** The device reads it: device-readable segments, indirect tables, the
	 *  split descriptor table and available ring, the packed driver event
	 *  suppression. Copy in at conversion when bouncing. */
	VIO_DMA_TO_DEVICE = 1,
	/** The device writes it: device-writable segments. Copy back at
	 *  release when bouncing. */
	VIO_DMA_FROM_DEVICE = 2,
	/** Both: the ring parts the device writes (split used ring, packed
	 *  descriptor ring, packed device event suppression). */
	VIO_DMA_BIDIRECTIONAL = 3
};

/**
 * @brief Driver-side address conversion, implemented by the embedder.
 *
 * Given to a queue in ::vio_vq_config::dma_ops with its context
 * ::vio_vq_config::dma_ctx. NULL ops: identity conversion, nothing released.
 */
struct vio_dma_ops {
	/**
	 * @brief The device-visible address of [@p ptr, @p ptr + @p len).
	 *
	 * NULL: identity (the address is the pointer's value); ::vio_dma_ops::release is
	 * still called, if set.
	 *
	 * @param ctx  The `dma_ctx` given with these ops.
	 * @param ptr  Driver memory: a buffer segment, an indirect table or a
	 *             ring part.
	 * @param len  Bytes of the range (may be 0 for an empty segment).
	 * @param dir  What the device does with the range.
	 * @param addr Receives the address the device must use.
	 * @return 0, or a negative `-VIO_E…` code that the queue operation
	 *         returns, after undoing what it did (no effect). A code that is
	 *         not a library code, or a peer code (vio_err_is_peer()), becomes
	 *         ::VIO_EDMA, so a callback error never reads as a hostile device.
	 */
	int (*to_device)(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			 uint64_t *addr);
	/**
	 * @brief End a conversion made by ::vio_dma_ops::to_device. Optional (NULL: nothing
	 *        to release).
	 *
	 * Called exactly once per conversion, with its original arguments and
	 * the address ::vio_dma_ops::to_device returned, after the device is done with the
	 * range (see the file comment for when). For ::VIO_DMA_FROM_DEVICE the
	 * device may have written any of the @p len bytes; copy all of them
	 * back when bouncing. Cannot fail.
	 *
	 * Setting it makes the queue keep a private record of every conversion
	 * (the device can rewrite the descriptors), which needs more
	 * bookkeeping memory: see vio_vq_mem_size() and ::VIO_VQ_MEM_SIZE_DMA.
	 *
	 * @param ctx  The `dma_ctx` given with these ops.
	 * @param ptr  The pointer that was converted.
	 * @param len  Its length.
	 * @param dir  Its direction.
	 * @param addr The address ::vio_dma_ops::to_device returned for it.
	 */
	void (*release)(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			uint64_t addr);
};

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_DMA_H */
