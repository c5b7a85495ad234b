/* SPDX-License-Identifier: MIT */
/**
 * @file vhost_user_inflight.h
 * @brief vhost-user in-flight I/O tracking (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD):
 *        the shared region, and a device queue journaling into it so that a
 *        restarted back end re-submits the requests that were in flight.
 *
 * \defgroup vio_vhost_user_inflight vhost-user inflight region
 * @{
 * QEMU's docs/interop/vhost-user.rst, "Inflight I/O tracking", defines the
 * region: one part per queue (struct vio_vhost_user_inflight_split or
 * struct vio_vhost_user_inflight_packed, each followed by one entry per
 * queue slot), in the host's byte order like every vhost-user number. The
 * front end (QEMU's vhost-user-blk) keeps the region across a back-end
 * restart and hands it back with SET_INFLIGHT_FD; it never reads it.
 * Where the text leaves room, docs/vhost-user-inflight.md says how it is
 * read here, and what libvhost-user and DPDK do.
 *
 * **The back end's steps.**
 * 1. GET_INFLIGHT_FD (`num_queues`, `queue_size` from the front end): size
 *    the area with vio_vhost_user_inflight_size(), create and map it (a
 *    memfd; that part is POSIX), vio_vhost_user_inflight_init() it, reply
 *    with `mmap_size` = that size, `mmap_offset` 0 and the fd.
 * 2. SET_INFLIGHT_FD: map `mmap_size` bytes at `mmap_offset`; check the
 *    payload with vio_vhost_user_inflight_check() and find each queue's part
 *    with vio_vhost_user_inflight_queue_region(). Keep the mapping while the
 *    back end runs (a later SET_INFLIGHT_FD replaces it).
 * 3. When a ring starts (its device queue was just created with
 *    vio_devq_init(), SET_VRING_BASE received): vio_vhost_user_inflight_attach()
 *    with the queue's part and the decoded SET_VRING_BASE, *instead of*
 *    calling vio_devq_set_state() (attach sets the position; a queue with
 *    chains in flight is refused). It validates the
 *    part (shared memory written by another process: every field is
 *    checked), finishes or rolls back a completion the previous back end
 *    was making when it died, sets the ring position on the queue and
 *    installs itself as the queue's journal (vio_devq_set_journal()).
 * 4. The device model takes the re-submitted chains first, in the order
 *    the previous back end popped them, with vio_vhost_user_inflight_resubmit()
 *    until it returns -VIO_EAGAIN, then pops as usual with vio_devq_pop().
 *    It completes them all with vio_devq_push() & co.: the journal records
 *    every pop and every completion in the region as it happens.
 * 5. When the ring stops (GET_VRING_BASE): vio_vhost_user_inflight_detach()
 *    before vio_devq_fini(). Chains still in flight stay recorded: the next
 *    attach re-submits them.
 *
 * **What a restart may lose.** Nothing popped and not completed: a chain is
 * recorded before vio_devq_pop() returns it, and a completion batch is
 * recorded before and after the ring publishes it, so that a crash at any
 * point leaves either "not completed" (re-submitted) or "completed" (not
 * re-submitted), decided from the ring itself at attach.
 *
 * **Threads.** An attached queue object belongs to the queue's device-half
 * thread. The free functions are pure and callable from any thread.
 */
#ifndef VIO_VHOST_USER_INFLIGHT_H
#define VIO_VHOST_USER_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/chain.h>
#include <virtio/devq.h>
#include <virtio/queue.h>
#include <virtio/vhost_user.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The region version this library writes and reads (0: never initialised). */
#define VIO_VHOST_USER_INFLIGHT_VERSION 1u

/** @brief Each queue's part of the region starts at a multiple of this. */
#define VIO_VHOST_USER_INFLIGHT_ALIGN 64u

/** @brief Split ring: state of one descriptor table entry (DescStateSplit, 16 bytes). */
struct vio_vhost_user_inflight_split_desc {
	uint8_t inflight;   /**< 1 while the chain with this head is in flight. */
	uint8_t padding[5]; /**< Zero. */
	uint16_t next;	    /**< Link in the list of the last completion batch. */
	uint64_t counter;   /**< Pop order (a per-queue counter). */
};

/** @brief Split ring: a queue's part (QueueRegionSplit without its entries,
 *         16 bytes); `desc_num` entries follow. */
struct vio_vhost_user_inflight_split {
	uint64_t features;	  /**< Zero. */
	uint16_t version;	  /**< ::VIO_VHOST_USER_INFLIGHT_VERSION; 0 uninitialised. */
	uint16_t desc_num;	  /**< Entries: the queue size. */
	uint16_t last_batch_head; /**< Head of the last completion batch's list. */
	uint16_t used_idx;	  /**< Used index once the last batch was recorded complete. */
};

/** @brief Packed ring: one entry (DescStatePacked, 32 bytes): a copy of one
 *         ring descriptor of a chain in flight, or a free entry. */
struct vio_vhost_user_inflight_packed_desc {
	uint8_t inflight; /**< Head entry: 1 while its chain is in flight. */
	uint8_t padding;  /**< Zero. */
	uint16_t next;	  /**< Next entry (free list, and a chain's entries). */
	uint16_t last;	  /**< Head entry: the chain's last entry. */
	uint16_t num;	  /**< Head entry: the chain's ring descriptors. */
	uint64_t counter; /**< Head entry: pop order. */
	uint16_t id;	  /**< Descriptor's buffer id. */
	uint16_t flags;	  /**< Descriptor's flags. */
	uint32_t len;	  /**< Descriptor's length. */
	uint64_t addr;	  /**< Descriptor's address. */
};

/** @brief Packed ring: a queue's part (QueueRegionPacked without its
 *         entries, 32 bytes with the tail padding); `desc_num` entries follow. */
struct vio_vhost_user_inflight_packed {
	uint64_t features;	       /**< Zero. */
	uint16_t version;	       /**< ::VIO_VHOST_USER_INFLIGHT_VERSION; 0 uninitialised. */
	uint16_t desc_num;	       /**< Entries: the queue size. */
	uint16_t free_head;	       /**< First free entry (desc_num: none). */
	uint16_t old_free_head;	       /**< free_head as last committed. */
	uint16_t used_idx;	       /**< Device ring slot of the next used descriptor. */
	uint16_t old_used_idx;	       /**< used_idx as last committed. */
	uint8_t used_wrap_counter;     /**< Device ring wrap counter. */
	uint8_t old_used_wrap_counter; /**< used_wrap_counter as last committed. */
	uint8_t padding[7];	       /**< Zero. */
};

/**
 * @brief Bytes of one queue's part for a queue of @p queue_size entries:
 *        the header and the entries, rounded up to
 *        ::VIO_VHOST_USER_INFLIGHT_ALIGN — what libvhost-user (split) and
 *        DPDK (both formats) reply to GET_INFLIGHT_FD, byte for byte.
 * @param fmt        Ring format of the device's queues.
 * @param queue_size Entries (1 .. 32768).
 * @return The size, or 0 if @p queue_size is 0 or above 32768.
 */
uint64_t vio_vhost_user_inflight_queue_size(enum vio_ring_format fmt, uint16_t queue_size);

/**
 * @brief Bytes of the whole region: @p num_queues parts, back to back (the
 *        `mmap_size` of the GET_INFLIGHT_FD reply).
 * @param fmt        Ring format.
 * @param num_queues Queues (the front end's `num_queues`).
 * @param queue_size Entries per queue (the front end's `queue_size`).
 * @return The size, or 0 if either count is invalid.
 */
uint64_t vio_vhost_user_inflight_size(enum vio_ring_format fmt, uint16_t num_queues,
				      uint16_t queue_size);

/**
 * @brief Initialise a new region (GET_INFLIGHT_FD): every part version 1,
 *        `desc_num` = @p queue_size, nothing in flight (packed: every entry
 *        free, in order; wrap counters 1). The bytes past the parts are
 *        left alone.
 * @param region     The mapped area, 8-byte aligned (a mapping is).
 * @param len        Bytes at @p region.
 * @param fmt        Ring format.
 * @param num_queues Queues.
 * @param queue_size Entries per queue.
 * @retval 0 Initialised.
 * @retval -VIO_EINVAL A NULL or misaligned @p region, invalid counts, or
 *         @p len below vio_vhost_user_inflight_size().
 */
int vio_vhost_user_inflight_init(void *region, uint64_t len, enum vio_ring_format fmt,
				 uint16_t num_queues, uint16_t queue_size);

/**
 * @brief Check a SET_INFLIGHT_FD payload against what the back end serves.
 * @param msg        The payload (host byte order).
 * @param fmt        Ring format the device negotiated.
 * @param max_queues Queues the device has; the payload may name fewer.
 * @retval 0 Usable: map `mmap_size` bytes at `mmap_offset`.
 * @retval -VIO_EINFLIGHT_HEADER `num_queues` 0 or above @p max_queues,
 *         `queue_size` 0 or above 32768, or `mmap_size` below the size
 *         those imply.
 */
int vio_vhost_user_inflight_check(const struct vio_vhost_user_inflight *msg,
				  enum vio_ring_format fmt, uint16_t max_queues);

/**
 * @brief The part of queue @p index in a mapped region.
 * @param region     The mapped area.
 * @param len        Its bytes (`mmap_size`).
 * @param fmt        Ring format.
 * @param queue_size Entries per queue (the payload's `queue_size`).
 * @param index      Queue index.
 * @param part_len   Receives the part's bytes (may be NULL).
 * @return The part, or NULL if it does not lie wholly inside the area.
 */
void *vio_vhost_user_inflight_queue_region(void *region, uint64_t len, enum vio_ring_format fmt,
					   uint16_t queue_size, uint16_t index, uint64_t *part_len);

/** @brief A device queue journaling into its part of the region (opaque;
 *         lives in caller memory, see vio_vhost_user_inflight_mem_size()). */
struct vio_vhost_user_inflight_queue;

/** @brief Alignment of the memory given to vio_vhost_user_inflight_attach(). */
#define VIO_VHOST_USER_INFLIGHT_MEM_ALIGN 8u

/**
 * @brief Bytes of private memory a queue of @p queue_size entries needs
 *        (a snapshot of the chains to re-submit and, packed, the entry links).
 * @param fmt        Ring format.
 * @param queue_size Queue size.
 * @return The size, or 0 if @p queue_size is 0 or above 32768.
 */
size_t vio_vhost_user_inflight_mem_size(enum vio_ring_format fmt, uint16_t queue_size);

/** @brief What vio_vhost_user_inflight_attach() found. */
struct vio_vhost_user_inflight_info {
	uint16_t resubmit;	   /**< Chains to re-submit. */
	bool fresh;		   /**< The part was uninitialised (version 0), or had
			       * nothing in flight: the position came from @p base. */
	bool fixed_up;		   /**< A completion cut short by the crash was
			       * finished (it had been published) or rolled back. */
	struct vio_ring_state pos; /**< The ring position set on the queue. */
};

/**
 * @brief Reconcile a queue's part with the ring, set the ring position, and
 *        journal the queue into the part from now on.
 *
 * Validates the part (version 1 or 0, `desc_num` = the queue size, every
 * index in range, packed free list and chains without loops or shared
 * entries, distinct counters among the entries in flight), applies the
 * reconnect steps of vhost-user.rst (split: a used index ahead of the
 * part's clears the last batch; packed: a completion cut short is kept if
 * the ring shows it published, else rolled back, then the free list is
 * cleared of in-flight marks), and snapshots the chains in flight in
 * counter order into @p mem, so re-submission reads nothing shared again.
 *
 * The ring position: with chains in flight it comes from the part and the
 * ring (split: the used index in guest memory plus the chains in flight;
 * packed: the part's used slot and wrap counter, the available slot that
 * far ahead as the chains' descriptors take), not from @p base — after a
 * crash the front end could not ask the back end, so its SET_VRING_BASE is
 * stale. With nothing in flight the used position is, split, the used
 * index in guest memory; packed, the part's committed used slot and wrap
 * counter, or for an uninitialised part (version 0: nothing was ever
 * journaled into it) @p base's used slot and wrap counter; the available
 * position equals it: chains a previous owner took without a journal are
 * taken again from the ring.
 *
 * @param iqp      Receives the journal object (a pointer into @p mem).
 * @param mem      ::VIO_VHOST_USER_INFLIGHT_MEM_ALIGN-aligned private memory
 *                 of vio_vhost_user_inflight_mem_size() bytes, owned by the
 *                 object until vio_vhost_user_inflight_detach().
 * @param mem_size Bytes at @p mem.
 * @param part     The queue's part of the mapped region (8-byte aligned);
 *                 must stay mapped until detach.
 * @param part_len Bytes at @p part.
 * @param q        The device queue, just created (nothing in flight, no
 *                 journal); its size and format must match the part.
 * @param base     The decoded SET_VRING_BASE (packed: its used slot and wrap
 *                 counter, for an uninitialised part only); may be NULL
 *                 (slot zero, wrap counters 1).
 * @param info     Receives what was found (may be NULL).
 * @retval 0 Attached; re-submit with vio_vhost_user_inflight_resubmit().
 * @retval -VIO_EINVAL Bad arguments, too little memory, a queue with
 *         chains in flight, or a @p base the queue refuses.
 * @retval -VIO_EINFLIGHT_HEADER Version other than 0 and 1, `desc_num` not
 *         the queue size, @p part_len too small, or a packed header index
 *         or wrap counter out of range.
 * @retval -VIO_EINFLIGHT_LINK An entry's link out of range, a loop, entries
 *         shared between chains or with the free list, an in-flight mark
 *         other than 0 or 1, a chain of 0 or more than the queue size
 *         descriptors, or (split) a completion batch larger than the queue.
 * @retval -VIO_EINFLIGHT_ORDER Two chains in flight with the same counter.
 * On error the queue keeps no journal and its position, @p mem holds
 * nothing, and the part is unchanged (nothing is written before the whole
 * part was checked).
 * @note Calls the queue's map callback (through vio_devq_set_state()).
 */
int vio_vhost_user_inflight_attach(struct vio_vhost_user_inflight_queue **iqp, void *mem,
				   size_t mem_size, void *part, uint64_t part_len,
				   struct vio_devq *q, const struct vio_ring_state *base,
				   struct vio_vhost_user_inflight_info *info);

/**
 * @brief Take the next chain to re-submit, in the order the previous owner
 *        popped them (vio_devq_repop() / vio_devq_repop_packed()).
 * @param iq       The journal object.
 * @param q        Its device queue.
 * @param chain    Receives the chain; complete it with vio_devq_push().
 * @param segs     Receives its segments.
 * @param max_segs Room in @p segs.
 * @retval 0 A chain; call again for the next.
 * @retval -VIO_EAGAIN None left: pop with vio_devq_pop() from now on.
 * @retval -VIO_ENOSPC, -VIO_EMAP_AGAIN Not taken; the same chain comes next
 *         time (as vio_devq_pop()).
 * @retval <0 A peer error from the queue (the chain in guest memory is
 *         invalid; the queue is broken), or ::VIO_EBROKEN. That chain is
 *         not offered again: the next call goes on with the next one.
 */
int vio_vhost_user_inflight_resubmit(struct vio_vhost_user_inflight_queue *iq, struct vio_devq *q,
				     struct vio_chain *chain, struct vio_chain_seg *segs,
				     uint16_t max_segs);

/**
 * @brief Stop journaling @p q (before vio_devq_fini(), or to attach a new
 *        region). What is in flight stays recorded in the part.
 * @param iq The journal object; @p mem may be reused afterwards.
 * @param q  Its device queue.
 * @retval 0 Detached.
 * @retval -VIO_EINVAL Chains are in flight: the queue keeps its journal
 *         (drop or push them first, or just vio_devq_fini() the queue: the
 *         part keeps them for the next attach).
 */
int vio_vhost_user_inflight_detach(struct vio_vhost_user_inflight_queue *iq, struct vio_devq *q);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VHOST_USER_INFLIGHT_H */
