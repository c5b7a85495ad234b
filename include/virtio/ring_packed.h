/* SPDX-License-Identifier: MIT */
/**
 * @file ring_packed.h
 * @brief Packed virtqueue wire layout (virtio 1.4 §2.8).
 *
 * \defgroup vio_ring_packed Packed virtqueue layout
 * @{
 * A packed virtqueue is one descriptor ring plus two 4-byte event
 * suppression structures: the driver's (driver area) and the device's
 * (device area). Descriptor flags VIO_DESC_F_NEXT / WRITE / INDIRECT are
 * shared with the split ring (ring_split.h).
 */
#ifndef VIO_RING_PACKED_H
#define VIO_RING_PACKED_H

#include <stddef.h>
#include <stdint.h>

#include <virtio/le.h>
#include <virtio/ring_split.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Packed descriptor flag: available, compared with the driver's wrap counter (§2.8.1). */
#define VIO_DESC_F_AVAIL (1u << 7)
/** @brief Packed descriptor flag: used, compared with the device's wrap counter (§2.8.1). */
#define VIO_DESC_F_USED (1u << 15)

/** @name Event suppression `flags` values (§2.8.10)
 * @{ */
#define VIO_RING_EVENT_FLAGS_ENABLE 0x0	 /**< Notify on every event. */
#define VIO_RING_EVENT_FLAGS_DISABLE 0x1 /**< Never notify. */
#define VIO_RING_EVENT_FLAGS_DESC 0x2	 /**< Notify at the position in `desc` (EVENT_IDX). */
/** @} */

/** @brief Bit of the event suppression `desc` field that holds the wrap counter. */
#define VIO_RING_EVENT_WRAP_SHIFT 15
/** @brief Largest queue size a packed virtqueue may have (15-bit offsets: 32768). */
#define VIO_PACKED_MAX_SIZE 32768u

/** @brief Packed descriptor (§2.8.13), 16 bytes. */
struct vio_packed_desc {
	vio_le64 addr;	/**< Buffer address. */
	vio_le32 len;	/**< Buffer length, or bytes written in a used descriptor. */
	vio_le16 id;	/**< Buffer ID. */
	vio_le16 flags; /**< VIO_DESC_F_* including AVAIL/USED. */
};

/**
 * @brief Event suppression structure (§2.8.10), 4 bytes.
 *
 * `off_wrap`: bits 0–14 a descriptor ring offset, bit 15 a wrap counter;
 * meaningful with VIO_RING_EVENT_FLAGS_DESC only. `flags`: bits 0–1 one of
 * the VIO_RING_EVENT_FLAGS_* values, the rest reserved.
 */
struct vio_packed_event {
	vio_le16 off_wrap; /**< Event offset and wrap counter. */
	vio_le16 flags;	   /**< VIO_RING_EVENT_FLAGS_*. */
};

VIO_STATIC_ASSERT(sizeof(struct vio_packed_desc) == 16,
		  "virtio 1.4 §2.8.13: descriptor is 16 bytes");
VIO_STATIC_ASSERT(offsetof(struct vio_packed_desc, addr) == 0, "§2.8.13 addr offset");
VIO_STATIC_ASSERT(offsetof(struct vio_packed_desc, len) == 8, "§2.8.13 len offset");
VIO_STATIC_ASSERT(offsetof(struct vio_packed_desc, id) == 12, "§2.8.13 id offset");
VIO_STATIC_ASSERT(offsetof(struct vio_packed_desc, flags) == 14, "§2.8.13 flags offset");
VIO_STATIC_ASSERT(sizeof(struct vio_packed_event) == 4, "§2.8.10 event suppression is 4 bytes");
VIO_STATIC_ASSERT(offsetof(struct vio_packed_event, flags) == 2, "§2.8.10 flags offset");

/** @name Part alignment (§2.8.2 table)
 * @{ */
#define VIO_PACKED_DESC_ALIGN 16 /**< Descriptor ring alignment. */
#define VIO_PACKED_EVENT_ALIGN 4 /**< Event suppression structure alignment. */
/** @} */

/** @name Part sizes as constant expressions (usable for `static` storage)
 * The inline functions below return the same values.
 * @{ */
/** @brief Bytes of a packed descriptor ring of @p num entries: 16·num. */
#define VIO_PACKED_DESC_SIZE(num) ((size_t)16 * (size_t)(num))
/** @brief Bytes of one event suppression structure: 4. */
#define VIO_PACKED_EVENT_SIZE ((size_t)4)
/** @} */

VIO_STATIC_ASSERT(sizeof(struct vio_packed_event) == VIO_PACKED_EVENT_SIZE,
		  "§2.8.10 event suppression size");

/**
 * @brief Bytes of a packed descriptor ring of @p num entries (::VIO_PACKED_DESC_SIZE).
 * @param num Queue size.
 * @return Bytes.
 */
static inline size_t vio_packed_desc_size(uint32_t num)
{
	return VIO_PACKED_DESC_SIZE(num);
}

/**
 * @brief Bytes of one event suppression structure (::VIO_PACKED_EVENT_SIZE).
 * @return Bytes (4).
 */
static inline size_t vio_packed_event_size(void)
{
	return VIO_PACKED_EVENT_SIZE;
}

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_RING_PACKED_H */
