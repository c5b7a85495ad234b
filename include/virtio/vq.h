/* SPDX-License-Identifier: MIT */
/**
 * @file vq.h
 * @brief Driver half of a virtqueue: publish buffers, kick, reap completions.
 *
 * \defgroup vio_vq Driver queue (vio_vq)
 * @{
 * One API over split and packed rings; the format is chosen at init.
 *
 * **Memory.** The caller provides the ring parts (zeroed by init) and one
 * block of bookkeeping sized by vio_vq_mem_size(). The library allocates
 * nothing. Every size also exists as a constant expression
 * (::VIO_VQ_MEM_SIZE, ::VIO_VQ_MEM_SIZE_DMA, ::VIO_VQ_INDIRECT_POOL_SIZE and
 * the ring part sizes of ring_split.h / ring_packed.h), so a driver without
 * a heap can declare `static` storage.
 *
 * **Addresses.** Buffers, indirect tables and ring parts reach the device
 * through the queue's ::vio_dma_ops (dma.h); each data-path conversion is
 * released exactly once.
 *
 * **Threads.** No locks inside. One thread at a time may call the functions
 * of one queue; the device runs concurrently on another CPU and shares only
 * the ring memory.
 *
 * **Hostile device.** Everything read from the device area (used index, used
 * ids and lengths) is validated. A violation returns a peer error code
 * (vio_err_is_peer()) and latches the queue broken: later calls return
 * ::VIO_EBROKEN until vio_vq_reset(). Chains are reclaimed from a private
 * shadow, never from the descriptor table the device could rewrite.
 */
#ifndef VIO_VQ_H
#define VIO_VQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/dma.h>
#include <virtio/features.h>
#include <virtio/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A driver queue (opaque; lives in caller memory, see vio_vq_mem_size()). */
struct vio_vq;

/** @brief Alignment the bookkeeping memory given to vio_vq_init() must have. */
#define VIO_VQ_MEM_ALIGN 8

/** @name Bookkeeping sizes as constant expressions
 * The library checks at compile time that its private structures fit these
 * byte counts; vio_vq_mem_size() returns exactly these sums.
 * @{ */
/** @brief Bytes per queue, independent of its size. */
#define VIO_VQ_MEM_BASE 512u
/** @brief Bytes per queue entry (descriptor slot or buffer id). */
#define VIO_VQ_MEM_PER_SLOT 32u
/** @brief Bytes per release record (kept only with a ::vio_dma_ops::release hook). */
#define VIO_VQ_MEM_PER_REC 24u
/** @brief Bookkeeping bytes for a queue of @p size entries without a release hook. */
#define VIO_VQ_MEM_SIZE(size)                                                                      \
	((size_t)VIO_VQ_MEM_BASE + (size_t)VIO_VQ_MEM_PER_SLOT * (size_t)(size))
/**
 * @brief Bookkeeping bytes for a queue of @p size entries with a
 *        ::vio_dma_ops::release hook: one record per descriptor, plus
 *        @p indirect_max + 1 per entry when indirect tables are used (pass 0
 *        for @p indirect_max when they are not).
 */
#define VIO_VQ_MEM_SIZE_DMA(size, indirect_max)                                                    \
	(VIO_VQ_MEM_SIZE(size) +                                                                   \
	 (size_t)VIO_VQ_MEM_PER_REC * (size_t)(size) *                                             \
		 ((size_t)1 + ((indirect_max) > 0 ? (size_t)(indirect_max) + 1u : (size_t)0)))
/** @brief Bytes of the indirect table pool (::vio_vq_config::indirect_pool): 16·size·max. */
#define VIO_VQ_INDIRECT_POOL_SIZE(size, indirect_max)                                              \
	((size_t)16 * (size_t)(size) * (size_t)(indirect_max))
/** @} */

/** @brief How to set up a driver queue. Zero-initialise, then fill in. */
struct vio_vq_config {
	enum vio_ring_format format; /**< Split or packed (VIO_F_RING_PACKED negotiated). */
	uint16_t size;	/**< Queue size: split a power of two ≤ 32768; packed 1 .. 32768. */
	uint16_t index; /**< Queue index, carried in notification data. */
	/** Negotiated features; the queue uses INDIRECT_DESC, EVENT_IDX, IN_ORDER
	 * and NOTIFICATION_DATA. */
	struct vio_features features;
	void *desc; /**< Descriptor table/ring: 16-byte aligned, 16·size bytes. */
	/** Split: available ring (2-aligned, vio_split_avail_size()); packed:
	 * driver event suppression (4-aligned, 4 bytes). */
	void *driver_area;
	/** Split: used ring (4-aligned, vio_split_used_size()); packed: device
	 * event suppression (4-aligned, 4 bytes). */
	void *device_area;
	/** Optional indirect tables: `size` tables of @c indirect_max
	 * descriptors (16 bytes each) back to back, 16-byte aligned
	 * (::VIO_VQ_INDIRECT_POOL_SIZE bytes). Used only when
	 * VIO_F_INDIRECT_DESC is negotiated. NULL: never indirect. */
	void *indirect_pool;
	uint16_t indirect_max; /**< Descriptors per indirect table (≤ size). */
	/** Chains of at least this many segments go indirect (0 means 2). A
	 * shorter chain also goes indirect when the ring lacks free slots. */
	uint16_t indirect_min;
	/** Address conversion and its release; NULL: identity, nothing released. */
	const struct vio_dma_ops *dma_ops;
	void *dma_ctx; /**< Passed to @c dma_ops. */
};

/** @brief One buffer segment for vio_vq_add(). */
struct vio_sg {
	const void *addr; /**< Driver pointer (converted through the DMA ops). */
	uint32_t len;	  /**< Bytes. */
};

/**
 * @brief Bytes of bookkeeping memory the queue @p cfg describes needs.
 *
 * ::VIO_VQ_MEM_SIZE(size) without a ::vio_dma_ops::release hook;
 * ::VIO_VQ_MEM_SIZE_DMA(size, indirect_max) with one (indirect_max counted
 * only when VIO_F_INDIRECT_DESC is negotiated and a pool is given).
 * @param cfg The configuration vio_vq_init() will get.
 * @return The size, or 0 if @p cfg is NULL or its size is invalid for its format.
 */
size_t vio_vq_mem_size(const struct vio_vq_config *cfg);

/**
 * @brief Create a driver queue in @p mem and zero its ring parts.
 *
 * @param vqp      Receives the queue (a pointer into @p mem).
 * @param mem      Bookkeeping memory, ::VIO_VQ_MEM_ALIGN-aligned, owned by
 *                 the queue until the caller stops using it.
 * @param mem_size Bytes at @p mem, at least vio_vq_mem_size().
 * @param cfg      Configuration; copied, need not outlive the call.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Bad size, format, alignment or too little memory, or a
 *         format that contradicts VIO_F_RING_PACKED in @c cfg->features.
 * @note Calls no callbacks.
 */
int vio_vq_init(struct vio_vq **vqp, void *mem, size_t mem_size, const struct vio_vq_config *cfg);

/**
 * @brief The device-visible addresses of the three ring parts, to program
 *        into the transport (QueueDesc/QueueDriver/QueueDevice).
 *
 * Converts each part through `to_device` with its direction: split
 * descriptor table and available ring ::VIO_DMA_TO_DEVICE, used ring
 * ::VIO_DMA_BIDIRECTIONAL; packed descriptor ring and device event
 * suppression ::VIO_DMA_BIDIRECTIONAL, driver event suppression
 * ::VIO_DMA_TO_DEVICE. These conversions belong to the caller: end them with
 * vio_vq_ring_addrs_release() once the device no longer uses the ring (the
 * data-path release of vio_vq_get() and vio_vq_detach_unused() never touches
 * them). Calling this again converts again.
 * @param vq     The queue.
 * @param desc   Receives the descriptor table/ring address.
 * @param driver Receives the driver area address.
 * @param device Receives the device area address.
 * @retval 0 Success.
 * @retval <0 The (mapped, see ::vio_dma_ops::to_device) error of `to_device`;
 *         the parts converted before it have been released.
 * @note Calls `to_device` up to three times, `release` on failure.
 */
int vio_vq_ring_addrs(const struct vio_vq *vq, uint64_t *desc, uint64_t *driver, uint64_t *device);

/**
 * @brief Release the three ring-part conversions of a successful
 *        vio_vq_ring_addrs(), passing each part's pointer, length and
 *        direction with the address given here.
 * @param vq     The queue.
 * @param desc   The descriptor address vio_vq_ring_addrs() returned.
 * @param driver The driver area address it returned.
 * @param device The device area address it returned.
 * @pre The device no longer accesses the ring (reset, or queue disabled).
 * @note Calls `release` three times (nothing without a release hook).
 */
void vio_vq_ring_addrs_release(const struct vio_vq *vq, uint64_t desc, uint64_t driver,
			       uint64_t device);

/**
 * @brief Make a buffer available: @p out device-readable segments followed by
 *        @p in device-writable ones, identified by @p token.
 *
 * The segments are published at once (the available index moves); call
 * vio_vq_kick_prepare() after a batch to learn whether to notify. Uses an
 * indirect table when negotiated, provided, and the chain qualifies.
 *
 * Each segment is converted with ::VIO_DMA_TO_DEVICE (the first @p out) or
 * ::VIO_DMA_FROM_DEVICE (the rest), and an indirect table with
 * ::VIO_DMA_TO_DEVICE after its entries are written. If the call fails, every
 * conversion it made has been released before it returns.
 *
 * @param vq    The queue.
 * @param sg    @p out + @p in segments; only read during the call.
 * @param out   Number of device-readable segments (first in @p sg).
 * @param in    Number of device-writable segments (after them in @p sg).
 * @param token Caller's non-NULL cookie, returned by vio_vq_get() or
 *              vio_vq_detach_unused(). The segments belong to the device
 *              until then.
 * @retval 0 Published.
 * @retval -VIO_EINVAL No segments, NULL token, or a total length ≥ 2^32
 *         (nothing published).
 * @retval -VIO_ENOSPC Not enough free descriptors (reap completions first).
 * @retval -VIO_EBROKEN The queue is broken.
 * @retval -VIO_EDMA `to_device` failed with a peer code or a value that is
 *         not a library code (nothing published).
 * @retval <0 Another error from `to_device`, passed through (nothing published).
 * @note Calls `to_device` once per segment (and table); `release` on failure.
 */
int vio_vq_add(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in, void *token);

/**
 * @brief Make @p n buffers available in one call, each of @p out
 *        device-readable segments followed by @p in device-writable ones.
 *
 * Buffer k takes the @p out + @p in segments from `sg[k * (out + in)]` and
 * token `tokens[k]`: the same as vio_vq_add() for k = 0, 1, ... in order,
 * stopping at the first that would fail, and cheaper: one-segment buffers
 * are written in one loop and (split) published with one store of the
 * available index.
 *
 * @param vq     The queue.
 * @param sg     `n * (out + in)` segments; only read during the call.
 * @param out    Device-readable segments per buffer.
 * @param in     Device-writable segments per buffer.
 * @param tokens @p n non-NULL tokens, as vio_vq_add() takes them.
 * @param n      Buffers to add. 0 is an empty batch: returns 0 and reads
 *               nothing (the arrays may be NULL, the queue broken).
 * @return The number of buffers published (1 .. @p n; 0 if @p n is 0) or,
 *         if none was, a negative code as vio_vq_add() returns it for the
 *         first buffer:
 * @retval -VIO_EINVAL @p tokens NULL, or vio_vq_add()'s reasons.
 * @retval -VIO_ENOSPC Not enough free descriptors for the first buffer.
 * @retval -VIO_EBROKEN The queue is broken.
 * @retval <0 A `to_device` error (vio_vq_add()).
 * @note A buffer that cannot be added after k > 0 were: the call returns k,
 *       the rest is not added and nothing of it was published; adding
 *       buffer k alone with vio_vq_add() tells why. Calls `to_device` as
 *       vio_vq_add() does for each buffer. Same thread rules as vio_vq_add().
 */
int vio_vq_add_batch(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		     void *const *tokens, unsigned n);

/**
 * @brief After adding, decide whether the device needs an available-buffer
 *        notification (honours VIO_USED_F_NO_NOTIFY, `avail_event` with
 *        EVENT_IDX, and the packed device event suppression).
 * @param vq The queue.
 * @return true if the caller should notify (kick) the device.
 * @note Contains a full memory barrier. Returns false on a broken queue.
 */
bool vio_vq_kick_prepare(struct vio_vq *vq);

/**
 * @brief The value to write with a kick when VIO_F_NOTIFICATION_DATA is
 *        negotiated (queue index, next offset and wrap; virtio 1.4 §2.9).
 * @param vq The queue.
 * @return The notification data value.
 */
uint32_t vio_vq_notify_data(const struct vio_vq *vq);

/**
 * @brief Reap one completed buffer.
 *
 * @param vq    The queue.
 * @param token Receives the token given to vio_vq_add().
 * @param len   Receives the bytes the device wrote into the writable part.
 * @retval 0 One buffer returned.
 * @retval -VIO_EAGAIN Nothing completed.
 * @retval -VIO_EBROKEN The queue is broken.
 * @retval -VIO_EUSED_JUMP The used index moved past the outstanding buffers.
 * @retval -VIO_EUSED_ID A used id beyond the queue size.
 * @retval -VIO_EUSED_MIDCHAIN A used id inside a chain (split).
 * @retval -VIO_EUSED_STALE A used id that is not outstanding.
 * @retval -VIO_EUSED_LEN A length above the writable bytes offered.
 * @note Calls `release` for each conversion of the returned buffer before
 *       returning (so a bounce buffer has been copied back).
 */
int vio_vq_get(struct vio_vq *vq, void **token, uint32_t *len);

/**
 * @brief Reap up to @p max completed buffers in one call.
 *
 * Returns the buffers that @p max calls of vio_vq_get() would return, in
 * the same order, stopping where vio_vq_get() would not return 0, and
 * cheaper: the device's index is read once for all the completions it
 * shows. With EVENT_IDX the request for the next completion (used_event,
 * or the packed driver event) is written once, after the last buffer
 * taken, with the value the last vio_vq_get() would leave, and before any
 * look at the ring that ends the batch for want of completions, so no
 * notification can be missed.
 *
 * @param vq     The queue.
 * @param tokens Receives the tokens, @p max entries at most.
 * @param lens   Receives the bytes written into each buffer's writable part.
 * @param max    The most buffers to return. 0 is an empty batch: returns
 *               0 and reads nothing (the arrays may be NULL, the queue
 *               broken).
 * @return The number of buffers returned (1 .. @p max, at most the queue
 *         size; 0 if @p max is 0) or, if none was, a negative code as
 *         vio_vq_get() returns it:
 * @retval -VIO_EAGAIN Nothing completed.
 * @retval -VIO_EBROKEN The queue is broken.
 * @retval -VIO_EUSED_JUMP The used index moved past the outstanding buffers.
 * @retval -VIO_EUSED_ID A used id beyond the queue size.
 * @retval -VIO_EUSED_MIDCHAIN A used id inside a chain (split).
 * @retval -VIO_EUSED_STALE A used id that is not outstanding.
 * @retval -VIO_EUSED_LEN A length above the writable bytes offered.
 * @note A device error found after k > 0 buffers were taken: the call
 *       returns k (those buffers are the caller's, as if returned by
 *       vio_vq_get()), the queue is broken with that error
 *       (vio_vq_broken_reason()), and the next call returns -::VIO_EBROKEN.
 *       Calls `release` for each conversion of each returned buffer. Same
 *       thread rules as vio_vq_get().
 */
int vio_vq_get_batch(struct vio_vq *vq, void **tokens, uint32_t *lens, unsigned max);

/**
 * @brief True if the device has completed buffers not yet reaped (false if broken).
 * @param vq The queue.
 * @return true if completions are waiting.
 */
bool vio_vq_has_used(const struct vio_vq *vq);

/**
 * @brief Ask the device not to send used-buffer notifications (a hint).
 * @param vq The queue.
 */
void vio_vq_disable_intr(struct vio_vq *vq);

/**
 * @brief Ask for a notification at the next completion.
 * @param vq The queue.
 * @return true if nothing is pending; false if completions arrived meanwhile
 *         (reap them, since no notification will come for those).
 * @note Contains a full memory barrier.
 */
bool vio_vq_enable_intr(struct vio_vq *vq);

/**
 * @brief Like vio_vq_enable_intr() but, with EVENT_IDX, ask to be notified
 *        only once about three quarters of the outstanding buffers complete.
 * @param vq The queue.
 * @return As vio_vq_enable_intr().
 */
bool vio_vq_enable_intr_delayed(struct vio_vq *vq);

/**
 * @brief Take back one buffer the device never completed (after a device or
 *        queue reset, when the device no longer touches the ring).
 * @param vq    The queue.
 * @param token Receives its token.
 * @retval 0 One buffer detached.
 * @retval -VIO_EAGAIN None left: the queue is empty.
 * @note Works on a broken queue too. Calls `release` for each conversion of
 *       the returned buffer.
 */
int vio_vq_detach_unused(struct vio_vq *vq, void **token);

/**
 * @brief Free descriptor slots (the queue size when nothing is outstanding).
 * @param vq The queue.
 * @return The number of free descriptor slots.
 */
unsigned vio_vq_num_free(const struct vio_vq *vq);

/**
 * @brief The queue size.
 * @param vq The queue.
 * @return The queue size.
 */
uint16_t vio_vq_size(const struct vio_vq *vq);

/**
 * @brief True once a device error has broken the queue (until vio_vq_reset()).
 * @param vq The queue.
 * @return true if the queue is broken.
 */
bool vio_vq_is_broken(const struct vio_vq *vq);

/**
 * @brief The error that broke the queue.
 * @param vq The queue.
 * @return 0 if the queue is not broken, else the negative peer code
 *         (vio_err_is_peer()) that the call which detected the violation returned.
 */
int vio_vq_broken_reason(const struct vio_vq *vq);

/**
 * @brief The driver marks the queue broken with its own reason (a completion
 *        its device-type helper rejects, e.g. a status value the device
 *        may not write): the same latch a ring error sets.
 * @param vq     The queue.
 * @param reason A negative `-VIO_E…` code (::VIO_ECOMPLETION when in doubt);
 *               anything else is recorded as -::VIO_ECOMPLETION.
 * @return The code recorded as the queue's broken reason (the first one wins
 *         if the queue was already broken).
 * @note Until vio_vq_reset(), add and get return -::VIO_EBROKEN. Same thread
 *       rules as vio_vq_get(); calls no callbacks.
 */
int vio_vq_fail(struct vio_vq *vq, int reason);

/**
 * @brief Return the queue to its freshly initialised state: rings zeroed,
 *        all descriptors free, not broken. Outstanding tokens are forgotten
 *        and their conversions never released: take them back with
 *        vio_vq_detach_unused() first.
 * @param vq The queue.
 * @pre The device no longer accesses the ring (device or queue reset done).
 */
void vio_vq_reset(struct vio_vq *vq);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VQ_H */
