/* SPDX-License-Identifier: MIT */
/* Private: positions in a packed ring and the event-suppression rule shared
 * by the driver (vq_packed.c) and device (devq_packed.c) halves. */
#ifndef VIO_LIB_RING_PACKED_EVENT_H
#define VIO_LIB_RING_PACKED_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <virtio/ring_packed.h>

/* §2.8.10 with EVENT_IDX: the peer asked for an event when the descriptor
 * at @off_wrap (offset and wrap bit, as stored) is made available/used.
 * The side deciding has just moved @added slots (fewer than @size) up to
 * (@new_slot, @new_wrap). The peer's event lies in this lap or the previous
 * one, so it can be written as a slot number of this lap, negative for the
 * previous lap, and the split ring's 16-bit rule applies. */
static inline bool vio__packed_need_event(uint16_t off_wrap, uint16_t size, uint16_t new_slot,
					  bool new_wrap, uint32_t added)
{
	uint16_t off = (uint16_t)(off_wrap & 0x7fffu);
	if (off >= size)
		return true; /* nonsense from the peer: err towards notifying */
	if (((off_wrap >> VIO_RING_EVENT_WRAP_SHIFT) != 0) != new_wrap)
		off = (uint16_t)(off - size);
	return vio_need_event(off, new_slot, (uint16_t)(new_slot - added));
}

/* The AVAIL/USED flag pair that marks a descriptor available (driver) under
 * wrap counter @wrap: AVAIL = wrap, USED = !wrap (§2.8.1). */
static inline uint16_t vio__packed_avail_flags(bool wrap)
{
	return (uint16_t)(wrap ? VIO_DESC_F_AVAIL : VIO_DESC_F_USED);
}

/* The pair that marks a descriptor used (device): both equal to @wrap. */
static inline uint16_t vio__packed_used_flags(bool wrap)
{
	return (uint16_t)(wrap ? (VIO_DESC_F_AVAIL | VIO_DESC_F_USED) : 0u);
}

static inline bool vio__packed_is_used(uint16_t flags, bool wrap)
{
	bool a = (flags & VIO_DESC_F_AVAIL) != 0, u = (flags & VIO_DESC_F_USED) != 0;
	return a == wrap && u == wrap;
}

/* Advance a (slot, wrap) position by @n slots (n ≤ size). */
static inline void vio__packed_advance(uint16_t *slot, bool *wrap, uint16_t n, uint16_t size)
{
	uint32_t s = (uint32_t)*slot + n;
	if (s >= size) {
		s -= size;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

#endif /* VIO_LIB_RING_PACKED_EVENT_H */
