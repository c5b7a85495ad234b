/* SPDX-License-Identifier: MIT */
/**
 * @file devq.h
 * @brief Device half of a virtqueue: pop available chains, push completions,
 *        decide on interrupts.
 *
 * \defgroup vio_devq Device queue (vio_devq)
 * @{
 * One API over split and packed rings; the format is chosen at init.
 *
 * **Memory.** The ring parts are mapped once, at init, through the
 * embedder's ::vio_dev_mem_ops; buffers are mapped per descriptor as chains
 * are popped. Bookkeeping memory is caller-provided (vio_devq_mem_size()).
 *
 * **Threads.** No locks inside. One thread at a time may call the functions
 * of one queue; the driver runs concurrently elsewhere.
 *
 * **Hostile driver.** Every index, address, length and flag read from driver
 * memory is read once and validated. A violation returns a peer error code
 * (vio_err_is_peer()), touches nothing outside the mapped ranges and latches
 * the queue broken: later calls return ::VIO_EBROKEN until vio_devq_reset()
 * or a new vio_devq_init(). The embedder should then set
 * DEVICE_NEEDS_RESET in the device status.
 *
 * Chain totals are kept in 32 bits, so a chain of exactly 2^32 bytes, which
 * §2.7.5.1 still allows, is refused with ::VIO_ELEN_OVERFLOW on both halves.
 */
#ifndef VIO_DEVQ_H
#define VIO_DEVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/features.h>
#include <virtio/mem.h>
#include <virtio/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A device queue (opaque; lives in caller memory, see vio_devq_mem_size()). */
struct vio_devq;

/** @brief Alignment the bookkeeping memory given to vio_devq_init() must have. */
#define VIO_DEVQ_MEM_ALIGN 8

/** @brief How to set up a device queue. Zero-initialise, then fill in. */
struct vio_devq_config {
	enum vio_ring_format format; /**< Split or packed. */
	uint16_t size;	/**< Queue size: split a power of two ≤ 32768; packed 1 .. 32768. */
	uint16_t index; /**< Queue index (for the embedder's bookkeeping). */
	/** Negotiated features; the queue uses INDIRECT_DESC, EVENT_IDX and IN_ORDER. */
	struct vio_features features;
	uint64_t desc_addr;   /**< Descriptor table/ring address (driver-supplied). */
	uint64_t driver_addr; /**< Available ring / driver event suppression address. */
	uint64_t device_addr; /**< Used ring / device event suppression address. */
	const struct vio_dev_mem_ops *mem_ops; /**< Memory mapping; required. */
	void *mem_ctx;			       /**< Passed to @c mem_ops. */
};

/** @brief One mapped segment of a popped chain. */
struct vio_seg {
	void *ptr;    /**< Host pointer to @c len bytes (NULL when @c len is 0). */
	uint32_t len; /**< Bytes. */
	bool write;   /**< Device-writable (else device-readable). */
};

/** @brief What vio_devq_pop() learned about a chain. */
struct vio_chain {
	uint16_t id;	    /**< Split: head index; packed: buffer id. Give back on push. */
	uint16_t ndesc;	    /**< Ring slots the chain occupies (packed skip count). */
	uint16_t nseg;	    /**< Segments written to the caller's array. */
	uint16_t nout;	    /**< The first @c nout segments are readable, the rest writable. */
	uint32_t out_bytes; /**< Total readable bytes. */
	uint32_t in_bytes;  /**< Total writable bytes. */
};

/** @brief A completion for vio_devq_push_batch(). */
struct vio_used {
	uint16_t id;	/**< vio_chain::id of the popped chain. */
	uint16_t ndesc; /**< vio_chain::ndesc of the popped chain. */
	uint32_t len;	/**< Bytes written into its writable segments. */
};

/**
 * @brief Bytes of bookkeeping memory a queue of @p size entries needs.
 * @param format Ring format.
 * @param size   Queue size.
 * @return The size, or 0 if @p size is invalid for @p format.
 */
size_t vio_devq_mem_size(enum vio_ring_format format, uint16_t size);

/**
 * @brief Create a device queue in @p mem and map its ring parts.
 *
 * @param qp       Receives the queue (a pointer into @p mem).
 * @param mem      ::VIO_DEVQ_MEM_ALIGN-aligned bookkeeping memory.
 * @param mem_size Bytes at @p mem, at least vio_devq_mem_size().
 * @param cfg      Configuration; copied, need not outlive the call.
 * @retval 0 Success; the state is the reset state (vio_ring_state).
 * @retval -VIO_EINVAL Bad size, format, missing ops or too little memory.
 * @retval -VIO_ERING_ALIGN A ring address (or its mapping) is misaligned.
 * @retval -VIO_ERING_MAP The memory callback refused a ring part.
 * @note Calls `map` once per ring part.
 */
int vio_devq_init(struct vio_devq **qp, void *mem, size_t mem_size,
		  const struct vio_devq_config *cfg);

/**
 * @brief Take the next available chain and map its buffers.
 *
 * @param q        The queue.
 * @param chain    Receives the chain's id, shape and byte totals.
 * @param segs     Receives up to @p max_segs mapped segments, readable first.
 * @param max_segs Room in @p segs. Pass at least the queue size: a smaller
 *                 array turns a hostile over-long chain into a -VIO_ENOSPC
 *                 that repeats instead of the peer error it deserves.
 * @retval 0 A chain was taken; push it back with vio_devq_push().
 * @retval -VIO_EAGAIN Nothing available.
 * @retval -VIO_ENOSPC The chain has more than @p max_segs segments; it was
 *         not taken (retry with a larger array). Not a peer error.
 * @retval -VIO_EBROKEN The queue is broken.
 * @retval <0 Any peer error from ::VIO_EDESC_HEAD to ::VIO_EDESC_INFLIGHT
 *         (see errors.h); the queue is now broken.
 * @note Calls `map` once per non-empty segment and indirect table.
 */
int vio_devq_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_seg *segs,
		 uint16_t max_segs);

/**
 * @brief Give a popped chain back with @p written bytes written.
 * @param q       The queue.
 * @param chain   A chain returned by vio_devq_pop().
 * @param written Bytes written into its writable segments.
 * @retval 0 Success (the used index moved).
 * @retval -VIO_EINVAL @p chain does not name a slot of this queue.
 * @retval -VIO_EBROKEN The queue is broken.
 */
int vio_devq_push(struct vio_devq *q, const struct vio_chain *chain, uint32_t written);

/**
 * @brief Give @p n popped chains back, publishing the used index once.
 * @param q    The queue.
 * @param used The completions, @p n of them.
 * @param n    Entries in @p used.
 * @retval 0 Success.
 * @retval -VIO_EINVAL More entries than the queue size, or an entry that
 *         does not name a slot of this queue (nothing published).
 * @retval -VIO_EBROKEN The queue is broken.
 */
int vio_devq_push_batch(struct vio_devq *q, const struct vio_used *used, unsigned n);

/**
 * @brief With VIRTIO_F_IN_ORDER: give back @p n chains, popped in this order,
 *        with a single used entry (virtio 1.4 §2.7.9, §2.8.9).
 *
 * The entry names the last chain and carries its length; the used position
 * moves past the whole batch. The driver takes every earlier chain of the
 * batch as fully used (written = all its writable bytes), so batch only
 * chains for which that holds.
 * @param q    The queue.
 * @param used The chains in the order they were popped, @p n of them.
 * @param n    Entries in @p used.
 * @retval 0 Success.
 * @retval -VIO_EINVAL IN_ORDER not negotiated, @p n is 0, or an entry does
 *         not name a slot of this queue (nothing published).
 * @retval -VIO_EBROKEN The queue is broken.
 */
int vio_devq_push_in_order(struct vio_devq *q, const struct vio_used *used, unsigned n);

/**
 * @brief After pushing, decide whether the driver wants a used-buffer
 *        notification (VIO_AVAIL_F_NO_INTERRUPT, `used_event` with EVENT_IDX,
 *        or the packed driver event suppression).
 * @param q The queue.
 * @return true if the embedder should interrupt the driver.
 * @note Contains a full memory barrier. False on a broken queue.
 */
bool vio_devq_needs_notify(struct vio_devq *q);

/**
 * @brief Ask the driver not to kick (a hint; poll instead).
 * @param q The queue.
 */
void vio_devq_disable_notify(struct vio_devq *q);

/**
 * @brief Ask the driver to kick when it adds buffers.
 * @param q The queue.
 * @return true if the ring is empty (safe to sleep until a kick); false if
 *         buffers arrived meanwhile (pop them: no kick will come for those).
 * @note Contains a full memory barrier. With EVENT_IDX the request covers
 *       the next buffer only (avail_event, §2.7.10): call this again every
 *       time before waiting, as the usual "enable, re-check, sleep" loop does.
 */
bool vio_devq_enable_notify(struct vio_devq *q);

/**
 * @brief True if a chain is available to pop (false if broken).
 * @param q The queue.
 * @return true if a chain can be popped.
 */
bool vio_devq_has_avail(struct vio_devq *q);

/**
 * @brief The current ring position, for migration and vhost-user GET_VRING_BASE.
 * @param q  The queue.
 * @param st Receives the ring position.
 */
void vio_devq_get_state(const struct vio_devq *q, struct vio_ring_state *st);

/**
 * @brief Restore a ring position (vhost-user SET_VRING_BASE, migration).
 * @param q  The queue.
 * @param st The ring position to restore.
 * @retval 0 Success; the queue is not broken.
 * @retval -VIO_EINVAL A packed slot beyond the queue size.
 */
int vio_devq_set_state(struct vio_devq *q, const struct vio_ring_state *st);

/**
 * @brief Back to the reset state (ring position zero, not broken), keeping
 *        the ring mappings. For a queue reset followed by new addresses,
 *        call vio_devq_init() instead.
 * @param q The queue.
 */
void vio_devq_reset(struct vio_devq *q);

/**
 * @brief True once a driver error has broken the queue.
 * @param q The queue.
 * @return true if the queue is broken.
 */
bool vio_devq_is_broken(const struct vio_devq *q);

/**
 * @brief The peer error that broke the queue (a negative code), or 0.
 * @param q The queue.
 * @return A negative `-VIO_E…` code, or 0 if the queue is not broken.
 */
int vio_devq_broken_reason(const struct vio_devq *q);

/**
 * @brief The queue size.
 * @param q The queue.
 * @return The queue size.
 */
uint16_t vio_devq_size(const struct vio_devq *q);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_DEVQ_H */
