/* SPDX-License-Identifier: MIT */
/**
 * @file ring_split.h
 * @brief Split virtqueue wire layout (virtio 1.4 §2.7), sizes and the event-index rule.
 *
 * \defgroup vio_ring_split Split virtqueue layout
 * @{
 * A split virtqueue has three parts: the descriptor table, the available
 * ring (driver area) and the used ring (device area). Every field is
 * little-endian. Only layout arithmetic lives here; queue logic is in vq.h
 * (driver) and devq.h (device).
 */
#ifndef VIO_RING_SPLIT_H
#define VIO_RING_SPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/le.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Descriptor flags (shared by split and packed, §2.7.5 and §2.8.5)
 * @{ */
#define VIO_DESC_F_NEXT 1     /**< The chain continues with the `next` descriptor. */
#define VIO_DESC_F_WRITE 2    /**< The buffer is device-writable (else device-readable). */
#define VIO_DESC_F_INDIRECT 4 /**< The buffer holds a table of indirect descriptors. */
/** @} */

/** @brief Available ring flag: the driver asks for no used-buffer notifications (§2.7.7). */
#define VIO_AVAIL_F_NO_INTERRUPT 1
/** @brief Used ring flag: the device asks for no available-buffer notifications (§2.7.10). */
#define VIO_USED_F_NO_NOTIFY 1

/** @brief Largest queue size a split virtqueue may have (§2.7: 32768). */
#define VIO_SPLIT_MAX_SIZE 32768u

/** @brief Split descriptor (§2.7.5), 16 bytes, 16-byte aligned in the table. */
struct vio_split_desc {
	vio_le64 addr;	/**< Device-visible address of the buffer. */
	vio_le32 len;	/**< Buffer length in bytes. */
	vio_le16 flags; /**< VIO_DESC_F_* bits. */
	vio_le16 next;	/**< Next descriptor index when VIO_DESC_F_NEXT is set. */
};

/**
 * @brief Available ring header (§2.7.6); `ring[num]` and then `used_event` follow.
 *
 * Use vio_split_avail_ring() and vio_split_used_event() to reach the
 * variable-length parts.
 */
struct vio_split_avail {
	vio_le16 flags; /**< VIO_AVAIL_F_NO_INTERRUPT. */
	vio_le16 idx;	/**< Where the driver will put the next entry (free-running). */
			/* Followed by: vio_le16 ring[num]; vio_le16 used_event; */
};

/** @brief Used ring element (§2.7.8), 8 bytes. */
struct vio_split_used_elem {
	vio_le32 id; /**< Head index of the completed chain (le32 padded for historical reasons). */
	vio_le32 len; /**< Bytes written into the device-writable part of the chain. */
};

/** @brief Used ring header (§2.7.8); `ring[num]` and then `avail_event` follow. */
struct vio_split_used {
	vio_le16 flags; /**< VIO_USED_F_NO_NOTIFY. */
	vio_le16 idx;	/**< Where the device will put the next entry (free-running). */
	/* Followed by: struct vio_split_used_elem ring[num]; vio_le16 avail_event; */
};

VIO_STATIC_ASSERT(sizeof(struct vio_split_desc) == 16, "virtio 1.4 §2.7.5: descriptor is 16 bytes");
VIO_STATIC_ASSERT(offsetof(struct vio_split_desc, addr) == 0, "§2.7.5 addr offset");
VIO_STATIC_ASSERT(offsetof(struct vio_split_desc, len) == 8, "§2.7.5 len offset");
VIO_STATIC_ASSERT(offsetof(struct vio_split_desc, flags) == 12, "§2.7.5 flags offset");
VIO_STATIC_ASSERT(offsetof(struct vio_split_desc, next) == 14, "§2.7.5 next offset");
VIO_STATIC_ASSERT(sizeof(struct vio_split_avail) == 4, "§2.7.6 avail header is 4 bytes");
VIO_STATIC_ASSERT(offsetof(struct vio_split_avail, idx) == 2, "§2.7.6 avail idx offset");
VIO_STATIC_ASSERT(sizeof(struct vio_split_used_elem) == 8, "§2.7.8 used element is 8 bytes");
VIO_STATIC_ASSERT(offsetof(struct vio_split_used_elem, len) == 4, "§2.7.8 used len offset");
VIO_STATIC_ASSERT(sizeof(struct vio_split_used) == 4, "§2.7.8 used header is 4 bytes");
VIO_STATIC_ASSERT(offsetof(struct vio_split_used, idx) == 2, "§2.7.8 used idx offset");

/** @name Part alignment and sizes (§2.7.2 table)
 * @{ */
#define VIO_SPLIT_DESC_ALIGN 16 /**< Descriptor table alignment. */
#define VIO_SPLIT_AVAIL_ALIGN 2 /**< Available ring alignment. */
#define VIO_SPLIT_USED_ALIGN 4	/**< Used ring alignment. */
/** @brief Legacy interfaces' default Queue Align (PCI legacy, MMIO v1 default). */
#define VIO_SPLIT_LEGACY_ALIGN 4096
/** @} */

/** @name Part sizes as constant expressions (usable for `static` storage)
 * The inline functions below return the same values.
 * @{ */
/** @brief Bytes of the descriptor table for @p num entries: 16·num. */
#define VIO_SPLIT_DESC_SIZE(num) ((size_t)16 * (size_t)(num))
/** @brief Bytes of the available ring, `used_event` included: 6 + 2·num. */
#define VIO_SPLIT_AVAIL_SIZE(num) ((size_t)6 + (size_t)2 * (size_t)(num))
/** @brief Bytes of the used ring, `avail_event` included: 6 + 8·num. */
#define VIO_SPLIT_USED_SIZE(num) ((size_t)6 + (size_t)8 * (size_t)(num))
/** @} */

/**
 * @brief Bytes of the descriptor table for @p num entries (::VIO_SPLIT_DESC_SIZE).
 * @param num Queue size.
 * @return Bytes.
 */
static inline size_t vio_split_desc_size(uint32_t num)
{
	return VIO_SPLIT_DESC_SIZE(num);
}

/**
 * @brief Bytes of the available ring, `used_event` included (::VIO_SPLIT_AVAIL_SIZE).
 * @param num Queue size.
 * @return Bytes.
 */
static inline size_t vio_split_avail_size(uint32_t num)
{
	return VIO_SPLIT_AVAIL_SIZE(num);
}

/**
 * @brief Bytes of the used ring, `avail_event` included (::VIO_SPLIT_USED_SIZE).
 * @param num Queue size.
 * @return Bytes.
 */
static inline size_t vio_split_used_size(uint32_t num)
{
	return VIO_SPLIT_USED_SIZE(num);
}

/**
 * @brief Round @p x up to a multiple of @p align (a power of two).
 * @param x     Value to round up.
 * @param align Alignment, a power of two.
 * @return @p x rounded up to a multiple of @p align.
 */
static inline size_t vio_align_up(size_t x, size_t align)
{
	return (x + align - 1) & ~(align - 1);
}

/**
 * @brief Where each part of a contiguous (legacy-style) split ring lives.
 *
 * Filled by vio_split_layout(). Offsets are from the start of one block.
 */
struct vio_split_layout {
	size_t desc_off;  /**< Descriptor table offset (always 0). */
	size_t avail_off; /**< Available ring offset (right after the table). */
	size_t used_off;  /**< Used ring offset (aligned to the Queue Align). */
	size_t total;	  /**< Bytes of the whole block, padded to the Queue Align. */
};

/**
 * @brief Lay out a split ring in one block with the legacy rule of §2.7.2.
 *
 * The available ring follows the descriptor table; the used ring starts at
 * the next multiple of @p align. A modern driver may place the parts anywhere
 * (with the per-part alignment); this helper also serves it by passing
 * ::VIO_SPLIT_USED_ALIGN.
 *
 * @param num   Queue size (power of two, 1 .. ::VIO_SPLIT_MAX_SIZE).
 * @param align Queue Align: a power of two, 4 .. SIZE_MAX / 4 (legacy: usually 4096).
 * @param out   Receives the offsets.
 * @return true, or false if @p num or @p align is not a power of two in range.
 */
static inline bool vio_split_layout(uint32_t num, size_t align, struct vio_split_layout *out)
{
	if (num == 0 || num > VIO_SPLIT_MAX_SIZE || (num & (num - 1)) != 0)
		return false;
	/* Bounding align keeps every sum below from wrapping around size_t. */
	if (align < VIO_SPLIT_USED_ALIGN || (align & (align - 1)) != 0 || align > SIZE_MAX / 4)
		return false;
	out->desc_off = 0;
	out->avail_off = vio_split_desc_size(num);
	out->used_off = vio_align_up(out->avail_off + vio_split_avail_size(num), align);
	out->total = vio_align_up(out->used_off + vio_split_used_size(num), align);
	return true;
}

/**
 * @brief The `ring[num]` entries that follow an available ring header (offset 4).
 * @param avail The available ring.
 * @return Pointer to `ring[0]`.
 */
static inline vio_le16 *vio_split_avail_ring(struct vio_split_avail *avail)
{
	return (vio_le16 *)(void *)((unsigned char *)avail + sizeof(*avail));
}

/**
 * @brief The `used_event` field that follows `ring[num]` of an available ring (§2.7.6).
 * @param avail The available ring.
 * @param num   Queue size.
 * @return Pointer to `used_event`.
 */
static inline vio_le16 *vio_split_used_event(struct vio_split_avail *avail, uint32_t num)
{
	return vio_split_avail_ring(avail) + num;
}

/**
 * @brief The `ring[num]` elements that follow a used ring header (offset 4).
 * @param used The used ring.
 * @return Pointer to `ring[0]`.
 */
static inline struct vio_split_used_elem *vio_split_used_ring(struct vio_split_used *used)
{
	return (struct vio_split_used_elem *)(void *)((unsigned char *)used + sizeof(*used));
}

/**
 * @brief The `avail_event` field that follows `ring[num]` of a used ring (§2.7.8).
 * @param used The used ring.
 * @param num  Queue size.
 * @return Pointer to `avail_event`.
 */
static inline vio_le16 *vio_split_avail_event(struct vio_split_used *used, uint32_t num)
{
	return (vio_le16 *)(void *)(vio_split_used_ring(used) + num);
}

/**
 * @brief The event-index rule (§2.7.7.2 / §2.7.10): must the other side be notified?
 *
 * Called after moving an index from @p old_idx to @p new_idx, where the peer
 * asked to be told once entry @p event_idx has been written. All arithmetic
 * is modulo 2^16: true when @p event_idx lies in the half-open window
 * [old_idx, new_idx).
 * @param event_idx Index at which the peer asked to be notified (`used_event` or `avail_event`).
 * @param new_idx   Index after the update.
 * @param old_idx   Index before the update.
 * @return true if the peer must be notified.
 */
static inline bool vio_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_RING_SPLIT_H */
