/* SPDX-License-Identifier: MIT */
/**
 * @file queue.h
 * @brief What both queue halves share: the ring format, the saved ring
 *        state and notification data.
 *
 * \defgroup vio_queue Queue formats, state and notification data
 * @{
 */
#ifndef VIO_QUEUE_H
#define VIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include <virtio/features.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Virtqueue layout, chosen at init from VIRTIO_F_RING_PACKED. */
enum vio_ring_format {
	VIO_RING_SPLIT = 0, /**< Split virtqueue (virtio 1.4 §2.7). */
	VIO_RING_PACKED = 1 /**< Packed virtqueue (virtio 1.4 §2.8). */
};

/**
 * @brief The feature bits the ring layer implements: what a transport may
 *        offer (device side) or accept (driver side) for its virtqueues.
 *
 * VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED,
 * VIRTIO_F_IN_ORDER, VIRTIO_F_NOTIFICATION_DATA and VIRTIO_F_RING_RESET. A
 * transport intersects this with what it implements itself (the
 * notification data write, the queue_reset register) and the device model
 * with its own bits. Bits that concern the platform rather than the ring
 * (VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_ORDER_PLATFORM) are the embedder's
 * decision and are not listed; see ring_features.c for each bit's reasons.
 * @param out Receives the set (other bits clear).
 * @note Thread-safe; calls no callbacks.
 */
void vio_ring_features(struct vio_features *out);

/**
 * @brief The device-side position in a ring: what migration and vhost-user
 *        `GET/SET_VRING_BASE` save and restore (the vhost-user encoding of
 *        it is in vhost_user.h).
 *
 * Split: @c avail_idx is the free-running index of the next available entry
 * to read and @c used_idx the free-running used index the device writes
 * next; the wrap fields are unused (false). Packed: both are slot numbers
 * 0 .. size-1 with their wrap counters (virtio 1.4 §2.8.1). A freshly reset
 * ring is {0, true, 0, true} for packed and all zero for split.
 */
struct vio_ring_state {
	uint16_t avail_idx; /**< Next available entry (split) or slot (packed) to read. */
	uint16_t used_idx;  /**< Next used entry (split) or slot (packed) to write. */
	bool avail_wrap;    /**< Packed: the device's view of the driver ring wrap counter. */
	bool used_wrap;	    /**< Packed: the device ring wrap counter. */
	/** Chains the device had popped and not yet pushed back when the state
	 * was read (in flight). See vio_devq_set_state() for how a restored
	 * queue takes them back. */
	uint16_t inflight;
};

/**
 * @brief The 32-bit value of a driver notification with VIRTIO_F_NOTIFICATION_DATA
 *        (virtio 1.4 §2.9): bits 0–15 queue index, 16–30 `next_off`, 31 `next_wrap`.
 *
 * For a split ring pass the 16-bit available index: its low 15 bits are
 * `next_off` and bit 15 is `next_wrap`, so the full index travels. For a
 * packed ring pass the next slot and the driver's wrap counter.
 *
 * @param vq_index  Queue index (or the device-supplied notification config data).
 * @param next_off  Split: available idx; packed: next slot offset (15 bits).
 * @param next_wrap Packed: the driver wrap counter; ignored for split (pass false).
 * @return The 32-bit notification data value.
 */
static inline uint32_t vio_notify_data_make(uint16_t vq_index, uint16_t next_off, bool next_wrap)
{
	return (uint32_t)vq_index | ((uint32_t)next_off << 16) | ((uint32_t)next_wrap << 31);
}

/**
 * @brief Queue index of a notification data value.
 * @param data A notification data value.
 * @return The queue index (bits 0–15).
 */
static inline uint16_t vio_notify_data_vq(uint32_t data)
{
	return (uint16_t)(data & 0xffffu);
}

/**
 * @brief `next_off` (15 bits) of a notification data value.
 * @param data A notification data value.
 * @return The `next_off` field (bits 16–30).
 */
static inline uint16_t vio_notify_data_off(uint32_t data)
{
	return (uint16_t)((data >> 16) & 0x7fffu);
}

/**
 * @brief `next_wrap` of a notification data value.
 * @param data A notification data value.
 * @return The `next_wrap` bit (bit 31).
 */
static inline bool vio_notify_data_wrap(uint32_t data)
{
	return ((data >> 31) & 1u) != 0;
}

/**
 * @brief Split ring: the full 16-bit available index carried by a notification data value.
 * @param data A notification data value.
 * @return The 16-bit available index (bits 16–31).
 */
static inline uint16_t vio_notify_data_split_idx(uint32_t data)
{
	return (uint16_t)(data >> 16);
}

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_QUEUE_H */
