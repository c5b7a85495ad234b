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
 * **Memory.** Driver addresses are translated through the embedder's
 * region table and map callback (mem.h). The ring parts are mapped when the
 * queue is initialised and again when a new table is installed
 * (vio_devq_set_mem_table()); buffers are mapped per descriptor as chains
 * are popped, each into as many segments as the regions it covers.
 * Bookkeeping memory is caller-provided (VIO_DEVQ_MEM_SIZE()).
 *
 * **Threads.** No locks inside. One thread at a time may call the functions
 * of one queue; the driver runs concurrently elsewhere.
 *
 * **Hostile driver.** Every index, address, length and flag read from driver
 * memory is read once and validated. A violation returns a peer error code
 * (vio_err_is_peer()), touches nothing outside the granted memory and
 * latches the queue broken: later calls return ::VIO_EBROKEN until
 * vio_devq_reset() or a new vio_devq_init(). The embedder then sets
 * DEVICE_NEEDS_RESET in the device status; a device model that finds a
 * request it cannot accept says so with vio_devq_fail(), so there is one
 * path to DEVICE_NEEDS_RESET.
 *
 * **Embedder mistakes** (pushing a chain twice, a length above what the
 * chain offered, a chain from before a reset) are refused with
 * ::VIO_EINVAL and change nothing; they do not break the queue.
 *
 * Chain totals are kept in 32 bits, so a chain of exactly 2^32 bytes, which
 * §2.7.5.1 still allows, is refused with ::VIO_ELEN_OVERFLOW on both halves.
 *
 * **Empty batches.** A batch call with a count of 0 (vio_devq_pop_batch(),
 * vio_devq_push_batch(), vio_devq_push_in_order(), vio_devq_push_chains())
 * is a no-op: it returns 0 before anything else, reads none of its array
 * arguments (they may be NULL) and does not look at the queue, broken or
 * not. The driver half's batch calls follow the same rule (vq.h).
 */
#ifndef VIO_DEVQ_H
#define VIO_DEVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/chain.h>
#include <virtio/features.h>
#include <virtio/mem.h>
#include <virtio/queue.h>
#include <virtio/ring_packed.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A device queue (opaque; lives in caller memory, see VIO_DEVQ_MEM_SIZE()). */
struct vio_devq;

/** @brief Alignment the bookkeeping memory given to vio_devq_init() must have. */
#define VIO_DEVQ_MEM_ALIGN 8

/** @cond VIO_INTERNAL */
#define VIO__DEVQ_FIXED_BYTES 448u /* the queue state; checked against the real struct */
#define VIO__DEVQ_PER_ID_BYTES 2u  /* in-flight record per descriptor / buffer id */
/** @endcond */

/**
 * @brief Bytes of bookkeeping memory a device queue of @p size entries
 *        needs, as a constant expression (for `static` storage).
 *
 * Covers both formats; vio_devq_mem_size() may return less.
 * @param size Queue size (1 .. 32768).
 */
#define VIO_DEVQ_MEM_SIZE(size) (VIO__DEVQ_FIXED_BYTES + VIO__DEVQ_PER_ID_BYTES * (size_t)(size))

/** @brief How to set up a device queue. Zero-initialise, then fill in. */
struct vio_devq_config {
	enum vio_ring_format format; /**< Split or packed (VIO_F_RING_PACKED negotiated). */
	uint16_t size;	/**< Queue size: split a power of two ≤ 32768; packed 1 .. 32768. */
	uint16_t index; /**< Queue index (for the embedder's bookkeeping). */
	/** Negotiated features; the queue uses INDIRECT_DESC, EVENT_IDX and IN_ORDER. */
	struct vio_features features;
	uint64_t desc_addr;   /**< Descriptor table/ring address (driver-supplied). */
	uint64_t driver_addr; /**< Available ring / driver event suppression address. */
	uint64_t device_addr; /**< Used ring / device event suppression address. */
	/** Guest memory regions, searched first (may be NULL with @c nregions
	 * 0). Referenced, not copied: see ::vio_mem_region. */
	const struct vio_mem_region *regions;
	uint32_t nregions;		   /**< Entries in @c regions. */
	const struct vio_mem_ops *mem_ops; /**< Map / release / log callbacks; may be NULL. */
	void *mem_ctx;			   /**< Passed to @c mem_ops. */
	/** A chain with more segments than the caller's array: false (the
	 * default) refuses it with ::VIO_ENOSPC and leaves it available; true
	 * takes it anyway, truncated (::VIO_CHAIN_TRUNCATED), so the model can
	 * complete it with an error status without a retry loop. */
	bool take_long_chains;
};

/** @brief A completion for vio_devq_push_batch() and vio_devq_push_in_order(). */
struct vio_used {
	const struct vio_chain *chain; /**< A chain returned by vio_devq_pop(). */
	uint32_t len;		       /**< Bytes written into its writable part. */
};

/**
 * @brief Bytes of bookkeeping memory a queue of @p size entries needs.
 * @param format Ring format.
 * @param size   Queue size.
 * @return The size (at most VIO_DEVQ_MEM_SIZE(@p size)), or 0 if @p size
 *         is invalid for @p format.
 */
size_t vio_devq_mem_size(enum vio_ring_format format, uint16_t size);

/**
 * @brief Create a device queue in @p mem and map its ring parts.
 *
 * @param qp       Receives the queue (a pointer into @p mem).
 * @param mem      ::VIO_DEVQ_MEM_ALIGN-aligned bookkeeping memory.
 * @param mem_size Bytes at @p mem, at least vio_devq_mem_size().
 * @param cfg      Configuration; copied (the region table is referenced).
 * @retval 0 Success; the state is the reset state (vio_ring_state).
 * @retval -VIO_EINVAL Bad size or format, no way to reach memory (no
 *         regions and no map callback), a region that wraps 2^64, or too
 *         little memory.
 * @retval -VIO_ERING_ALIGN A ring address (or its host address) is misaligned.
 * @retval -VIO_ERING_MAP A ring part is not wholly inside one region or mapping.
 * @retval -VIO_EMAP_AGAIN The map callback cannot map a ring part now; retry.
 * @note May call `map` once per ring part (and `release` if a later part fails).
 */
int vio_devq_init(struct vio_devq **qp, void *mem, size_t mem_size,
		  const struct vio_devq_config *cfg);

/**
 * @brief Install a new region table on a live queue (vhost-user
 *        SET_MEM_TABLE, memory hot-plug) and re-map the ring parts.
 *
 * The ring position and the chains in flight are kept. Chains popped
 * before the call keep their host addresses: keep the old memory mapped
 * until they are pushed or dropped.
 * @param q        The queue.
 * @param regions  The new table (referenced, not copied); NULL if @p n is 0.
 * @param n        Entries.
 * @retval 0 Installed; the old ring mappings were released.
 * @retval -VIO_ERING_MAP, -VIO_ERING_ALIGN, -VIO_EMAP_AGAIN As vio_devq_init();
 *         the old table and mappings stay in effect.
 */
int vio_devq_set_mem_table(struct vio_devq *q, const struct vio_mem_region *regions, uint32_t n);

/**
 * @brief Release the ring mappings (the `release` hook). The queue must not
 *        be used again until the next vio_devq_init().
 * @param q The queue.
 */
void vio_devq_fini(struct vio_devq *q);

/**
 * @brief Take the next available chain and map its buffers.
 *
 * @param q        The queue.
 * @param chain    Receives the chain: id, shape, byte totals and @p segs.
 * @param segs     Receives up to @p max_segs segments, readable first. Owned
 *                 by the chain until it is pushed or dropped.
 * @param max_segs Room in @p segs. Size it for the requests the model
 *                 serves; see vio_devq_config::take_long_chains for longer ones.
 * @retval 0 A chain was taken; push it back with vio_devq_push().
 * @retval -VIO_EAGAIN Nothing available.
 * @retval -VIO_EMAP_AGAIN The map callback cannot map a buffer now. Nothing
 *         was taken (mappings made so far were released); the same chain
 *         comes back on the next call.
 * @retval -VIO_ENOSPC The chain has more than @p max_segs segments (and
 *         take_long_chains is off, or @p max_segs is 0); it was not taken.
 *         Not a peer error.
 * @retval -VIO_EBROKEN The queue is broken.
 * @retval <0 A peer error (vio_err_is_peer()); the queue is now broken.
 * @note Calls `map` for what the region table does not cover, and
 *       `release` for mappings of a chain it does not return.
 */
int vio_devq_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_chain_seg *segs,
		 uint16_t max_segs);

/**
 * @brief Take up to @p n available chains: vio_devq_pop() called for each,
 *        stopping at the first that does not return 0.
 *
 * Chain @c k goes to `chains[k]` with its segments in
 * `segs[k * max_segs]` to `segs[k * max_segs + max_segs - 1]`.
 * @param q        The queue.
 * @param chains   Receives the chains, up to @p n of them.
 * @param segs     Room for `n * max_segs` segments; each chain owns its
 *                 part until it is pushed or dropped.
 * @param max_segs Room per chain (as for vio_devq_pop()).
 * @param n        Most chains to take.
 * @return The number of chains taken (1 to @p n), or, when none was, what
 *         vio_devq_pop() returned for the first (-VIO_EAGAIN: nothing
 *         available); 0 if @p n is 0 (an empty batch: nothing is read,
 *         even on a broken queue). A failure after the first chain is
 *         not returned: a peer error has broken the queue
 *         (vio_devq_broken_reason() says which; the next call returns
 *         -VIO_EBROKEN), and a chain not taken for any other reason
 *         (-VIO_EMAP_AGAIN, -VIO_ENOSPC) comes back on the next call.
 * @note Calls `map` and `release` as vio_devq_pop() does.
 */
int vio_devq_pop_batch(struct vio_devq *q, struct vio_chain *chains, struct vio_chain_seg *segs,
		       uint16_t max_segs, unsigned n);

/**
 * @brief Give a popped chain back with @p written bytes written.
 *
 * Logs the first @p written bytes of the writable part (all writable
 * segments of a truncated chain), releases the chain's mappings, then
 * publishes the used entry and logs it.
 * @param q       The queue.
 * @param chain   A chain returned by vio_devq_pop() and not pushed since.
 * @param written Bytes written into its writable part (≤ in_bytes).
 * @retval 0 Success (the used index moved).
 * @retval -VIO_EINVAL @p written above the chain's writable bytes, a chain
 *         that is not in flight (never popped, already pushed or dropped)
 *         or that was popped before a reset. Nothing changed.
 * @retval -VIO_EBROKEN The queue is broken.
 */
int vio_devq_push(struct vio_devq *q, const struct vio_chain *chain, uint32_t written);

/**
 * @brief Give @p n popped chains back, publishing the used index once.
 * @param q    The queue.
 * @param used The completions, @p n of them.
 * @param n    Entries in @p used. 0 is an empty batch: returns 0 and
 *             reads nothing, even on a broken queue.
 * @retval 0 Success (or @p n is 0).
 * @retval -VIO_EINVAL An entry vio_devq_push() would refuse, or the same
 *         chain twice (nothing published, nothing released).
 * @retval -VIO_EBROKEN The queue is broken.
 */
int vio_devq_push_batch(struct vio_devq *q, const struct vio_used *used, unsigned n);

/**
 * @brief Give back @p n chains as vio_devq_pop_batch() returned them, each
 *        with its length, publishing the used index (split) or the first
 *        used descriptor's flags (packed) once.
 *
 * The completion call of a device that serves a batch: pop a batch into
 * `chains`, serve each chain `k` writing `lens[k]` bytes, complete them
 * all with this, then decide on one interrupt with vio_devq_needs_notify().
 * No struct vio_used per completion. Does for each chain what
 * vio_devq_push() does (logs the first `lens[k]` bytes written, releases
 * the chain's mappings) and publishes the completions in array order.
 *
 * All or nothing: nothing is published, released or logged unless every
 * entry passes. A refused batch changes nothing the driver may read yet:
 * only ring entries the device holds may have been written (split: used
 * elements past the used index; packed: the descriptor slots of the
 * batch's chains but the first, whose flags are given back the driver's
 * "available" marks of their lap): entries the driver reads only once a
 * later push has written them again, or skips.
 *
 * With an in-flight journal set (vio_devq_set_journal()), the completions
 * are announced to it in batches of at most 32 (`push_begin`, publish,
 * `push_end` for each), in array order, once the whole call was checked.
 * @param q      The queue.
 * @param chains @p n chains, each returned by vio_devq_pop() (or
 *               vio_devq_pop_batch(), vio_devq_repop()) and not pushed or
 *               dropped since; a chain may be named once.
 * @param lens   @p n lengths: bytes written into each chain's writable
 *               part (at most its @c in_bytes).
 * @param n      Entries. 0 is an empty batch: returns 0 and reads nothing,
 *               even on a broken queue.
 * @retval 0 Success (or @p n is 0).
 * @retval -VIO_EINVAL @p chains or @p lens NULL, @p n above the queue size,
 *         an entry vio_devq_push() would refuse (length above its
 *         @c in_bytes, not in flight, popped before a reset), or the same
 *         chain twice. Nothing published, released or logged.
 * @retval -VIO_EBROKEN The queue is broken.
 * @note Calls `log_write` and `release` (mem.h) and the journal's
 *       `push_begin` / `push_end`; none may call back into the queue.
 *       Same thread rule as every call of this queue.
 */
int vio_devq_push_chains(struct vio_devq *q, const struct vio_chain *chains, const uint32_t *lens,
			 unsigned n);

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
 * @param n    Entries in @p used. 0 is an empty batch: returns 0 and
 *             reads nothing, even on a broken queue or without IN_ORDER.
 * @retval 0 Success (or @p n is 0).
 * @retval -VIO_EINVAL IN_ORDER not negotiated, or an entry
 *         vio_devq_push_batch() would refuse (nothing published).
 * @retval -VIO_EBROKEN The queue is broken.
 */
int vio_devq_push_in_order(struct vio_devq *q, const struct vio_used *used, unsigned n);

/**
 * @brief Give up a popped chain without completing it: release its
 *        mappings. It stays in flight as far as the ring is concerned
 *        (vio_ring_state::inflight counts it) and can no longer be pushed.
 *
 * For a device that stops with requests outstanding: drop them, save the
 * state (vio_devq_get_state()), and let the next owner re-submit them
 * (vio_devq_repop()); or reset the queue.
 * A chain popped before vio_devq_reset() or vio_devq_set_state() may be
 * dropped once, to release its mappings.
 * @param q     The queue.
 * @param chain A chain returned by vio_devq_pop() and not pushed or dropped.
 * @retval 0 Dropped.
 * @retval -VIO_EINVAL Not in flight (never popped, pushed, dropped).
 * @note Works on a broken queue too.
 */
int vio_devq_drop(struct vio_devq *q, const struct vio_chain *chain);

/**
 * @brief Report a device write to guest memory that vio_devq_push() does
 *        not cover (to the `log_write` callback, if any).
 * @param q    The queue.
 * @param addr Device-visible address of the first byte written.
 * @param len  Bytes (0: nothing).
 */
void vio_devq_log_write(struct vio_devq *q, uint64_t addr, uint64_t len);

/**
 * @brief The device model marks the queue broken with its own reason (a
 *        request it cannot parse): the same latch a ring error sets.
 * @param q      The queue.
 * @param reason A negative `-VIO_E…` code (::VIO_EREQUEST when in doubt);
 *               anything else is recorded as -::VIO_EREQUEST.
 * @return The code recorded as the queue's broken reason (the first one
 *         wins if the queue was already broken).
 */
int vio_devq_fail(struct vio_devq *q, int reason);

/**
 * @brief After pushing, decide whether the driver wants a used-buffer
 *        notification (VIO_AVAIL_F_NO_INTERRUPT, `used_event` with EVENT_IDX,
 *        or the packed driver event suppression).
 *
 * The decision is exact from the first call on: after init, reset and
 * set_state the queue knows its used position, so with EVENT_IDX it
 * notifies only if the used index passed `used_event` (virtio 1.4 §2.7.10,
 * §2.8.10). A VMM that wants an extra interrupt after migration sends one.
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
 * @brief The current ring position and the number of chains in flight, for
 *        migration and vhost-user GET_VRING_BASE.
 * @param q  The queue.
 * @param st Receives the ring position.
 */
void vio_devq_get_state(const struct vio_devq *q, struct vio_ring_state *st);

/**
 * @brief Restore a ring position (vhost-user SET_VRING_BASE, migration),
 *        with chains possibly in flight.
 *
 * Split: the used index is read from the used ring in guest memory (the
 * device is its only writer, so it is exact there), not taken from @p st;
 * the chains in flight are `avail_idx - used idx` (at most the queue size).
 * Packed: both positions and wrap counters come from @p st, and
 * @c st->inflight says how many chains are in flight.
 *
 * In-flight chains are re-submitted with vio_devq_repop() (split) or
 * vio_devq_repop_packed(), before the next vio_devq_pop(). The first
 * vio_devq_needs_notify() decides from the restored used position.
 * @param q  The queue.
 * @param st The ring position to restore.
 * @retval 0 Success; the queue is not broken.
 * @retval -VIO_EINVAL A packed slot beyond the queue size, more chains in
 *         flight than the queue size, or (split) a used index in guest
 *         memory further than the queue size from @c st->avail_idx.
 */
int vio_devq_set_state(struct vio_devq *q, const struct vio_ring_state *st);

/**
 * @brief Split: take again a chain that was in flight when the state was
 *        saved, by its head descriptor (the id the previous owner popped).
 *
 * The chain is validated and mapped as vio_devq_pop() does; the ring
 * position does not move.
 * @param q        The queue.
 * @param head     The chain's head descriptor index.
 * @param chain    Receives the chain.
 * @param segs     Receives its segments.
 * @param max_segs Room in @p segs.
 * @retval 0 Taken; complete it with vio_devq_push().
 * @retval -VIO_EINVAL Not a split queue, no chain left to re-submit since
 *         vio_devq_set_state(), @p head out of range or already in flight.
 * @retval <0 Otherwise as vio_devq_pop().
 */
int vio_devq_repop(struct vio_devq *q, uint16_t head, struct vio_chain *chain,
		   struct vio_chain_seg *segs, uint16_t max_segs);

/**
 * @brief Packed: take again a chain that was in flight when the state was
 *        saved, from a copy of its descriptors.
 *
 * In a packed ring the device overwrites descriptor slots with used
 * descriptors, so a chain in flight cannot be read back from the ring: the
 * previous owner kept a copy of its @c ndesc descriptors as popped (ring
 * slots vio_chain::head onwards), as vhost-user's inflight region does. The
 * copy is validated exactly as the ring would be (it is driver data); the
 * AVAIL/USED flags are ignored.
 * @param q        The queue.
 * @param descs    The chain's descriptors, @p ndesc of them, in ring order.
 * @param ndesc    Number of descriptors.
 * @param chain    Receives the chain.
 * @param segs     Receives its segments.
 * @param max_segs Room in @p segs.
 * @retval 0 Taken; complete it with vio_devq_push().
 * @retval -VIO_EINVAL Not a packed queue, no chain left to re-submit,
 *         @p ndesc 0 or above the queue size, or a NEXT flag that does not
 *         end exactly at the last descriptor.
 * @retval <0 Otherwise as vio_devq_pop() (::VIO_EDESC_INFLIGHT for an id
 *         already re-submitted).
 */
int vio_devq_repop_packed(struct vio_devq *q, const struct vio_packed_desc *descs, uint16_t ndesc,
			  struct vio_chain *chain, struct vio_chain_seg *segs, uint16_t max_segs);

/** @brief A packed-ring descriptor as the device read it (host byte order),
 *         for vio_devq_journal::pop_desc. */
struct vio_devq_journal_desc {
	uint64_t addr;	/**< Buffer (or indirect table) address. */
	uint32_t len;	/**< Length. */
	uint16_t id;	/**< Buffer id field. */
	uint16_t flags; /**< Flags, as validated (AVAIL/USED included). */
};

/**
 * @brief An in-flight journal: callbacks the device queue makes as chains
 *        are taken and completed, so that an embedder can keep a record
 *        that survives its own crash (vhost-user's inflight region,
 *        vhost_user_inflight.h).
 *
 * Set with vio_devq_set_journal(). While a journal is set the queue takes
 * its general paths only (as with a write log). Every callback runs on the
 * thread calling the queue function, synchronously; none may call back
 * into the queue. Chains re-submitted with vio_devq_repop() /
 * vio_devq_repop_packed() and chains dropped are not reported: their owner
 * journaled them already.
 *
 * Order, per chain: (packed) `pop_desc` for each ring descriptor, then
 * `pop`. Per completion batch (vio_devq_push() is a batch of one;
 * vio_devq_push_in_order() a batch of every chain it names): `push_begin`
 * after the batch was checked and before anything of it is visible to the
 * driver, then the used entries and the index (split) / first flags
 * (packed) that publish them, then `push_end`. A crash between the two
 * leaves the batch either unpublished or published; the journal tells
 * which from the ring itself on recovery.
 */
struct vio_devq_journal {
	/**
	 * Packed only, may be NULL: descriptor @p k (0 first) of the chain at
	 * the ring's available position, as read. May be followed by `pop`
	 * (the chain was taken), or by nothing (the pop failed or will be
	 * retried: the next call starts again with @p k 0).
	 */
	void (*pop_desc)(void *ctx, uint16_t k, const struct vio_devq_journal_desc *d);
	/**
	 * A chain was taken: @p chain as vio_devq_pop() returns it (split:
	 * @c id is the head descriptor; packed: the buffer id, @c ndesc the
	 * ring slots it used). Return 0, or a negative `-VIO_E…` code if the
	 * journal cannot record it: the pop then fails with that code, the
	 * chain's mappings are released and the queue is broken. May be NULL.
	 */
	int (*pop)(void *ctx, const struct vio_chain *chain);
	/**
	 * A batch is about to be published: @p used, @p n entries in the
	 * order they are written; @p after the ring position once it is
	 * published (vio_devq_get_state() fields @c used_idx and @c used_wrap
	 * are the meaningful ones). May be NULL.
	 */
	void (*push_begin)(void *ctx, const struct vio_used *used, unsigned n,
			   const struct vio_ring_state *after);
	/** The batch is published; same arguments as `push_begin`. May be NULL. */
	void (*push_end)(void *ctx, const struct vio_used *used, unsigned n,
			 const struct vio_ring_state *after);
	/** vio_devq_reset() was called: nothing is in flight any more. May be NULL. */
	void (*reset)(void *ctx);
};

/**
 * @brief Set (or, with @p j NULL, remove) the queue's in-flight journal.
 *
 * @param q   The queue.
 * @param j   The callbacks (referenced, not copied: keep them alive while
 *            set), or NULL.
 * @param ctx Passed to every callback.
 * @retval 0 Set; the fast paths are off while a journal is set.
 * @retval -VIO_EINVAL A chain is in flight or still to be re-submitted
 *         (set the journal on a quiescent queue: after vio_devq_init(),
 *         vio_devq_reset(), or once every chain was pushed).
 */
int vio_devq_set_journal(struct vio_devq *q, const struct vio_devq_journal *j, void *ctx);

/**
 * @brief Split: read the used index as guest memory holds it now (the
 *        device is its only writer: what the last owner of the queue
 *        published), without changing anything.
 *
 * For a restarted device reconciling its journal with the ring before
 * vio_devq_set_state(). The driver may have scribbled on it: treat the
 * value as untrusted.
 * @param q   The queue.
 * @param idx Receives `used->idx`.
 * @retval 0 Read.
 * @retval -VIO_EINVAL Not a split queue.
 */
int vio_devq_read_used_idx(struct vio_devq *q, uint16_t *idx);

/**
 * @brief Packed: read the flags of descriptor ring slot @p slot as guest
 *        memory holds them now, without changing anything (did the last
 *        owner of the queue mark it used?). Untrusted, as above.
 * @param q     The queue.
 * @param slot  Ring slot (< queue size).
 * @param flags Receives the slot's flags.
 * @retval 0 Read.
 * @retval -VIO_EINVAL Not a packed queue, or @p slot out of range.
 */
int vio_devq_read_slot_flags(struct vio_devq *q, uint16_t slot, uint16_t *flags);

/**
 * @brief Back to the reset state (ring position zero, nothing in flight, not
 *        broken), keeping the ring mappings. Chains popped before are stale:
 *        push refuses them; drop them first to release their mappings. For
 *        a queue reset followed by new addresses, call vio_devq_fini() and
 *        vio_devq_init().
 * @param q The queue.
 */
void vio_devq_reset(struct vio_devq *q);

/**
 * @brief True once a driver error (or vio_devq_fail()) has broken the queue.
 * @param q The queue.
 * @return true if the queue is broken.
 */
bool vio_devq_is_broken(const struct vio_devq *q);

/**
 * @brief The error that broke the queue (a negative code), or 0.
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
