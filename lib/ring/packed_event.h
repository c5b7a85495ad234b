/* SPDX-License-Identifier: MIT */
/* Private: positions in a packed ring shared by the driver (vq_packed.c)
 * and device (devq_packed.c) halves. (The event-suppression rule is
 * written out in each half's fast path: vio__vq_packed_kick1() and
 * vio__devq_packed_notify1().) */
#ifndef VIO_LIB_RING_PACKED_EVENT_H
#define VIO_LIB_RING_PACKED_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <virtio/ring_packed.h>

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
