/* SPDX-License-Identifier: MIT */
/* Private: what both queue halves share (driver vq_*.c and device devq*.c):
 * branch hints, the queue-size rule and the port primitives. Never installed. */
#ifndef VIO_LIB_RING_RING_IMPL_H
#define VIO_LIB_RING_RING_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/errors.h>
#include <virtio/port.h>
#include <virtio/queue.h>
#include <virtio/ring_packed.h>
#include <virtio/ring_split.h>

#define vio_likely(x) VIO_EXPECT(!!(x), 1)
#define vio_unlikely(x) VIO_EXPECT(!!(x), 0)

#if defined(__GNUC__) || defined(__clang__)
#define VIO_NOINLINE __attribute__((noinline))
#define VIO_ALWAYS_INLINE inline __attribute__((always_inline))
#define VIO_COLD __attribute__((cold))
#else
#define VIO_NOINLINE
#define VIO_ALWAYS_INLINE inline
#define VIO_COLD
#endif

/* A queue's fast-path state (vq->hot, q->hot), the one test of every fast
 * path (vq_hot.h, devq_hot.h): which format's fast paths apply, or none. */
enum {
	VIO__HOT_OFF = 0,    /* general code only (broken, or a configuration the
			      * fast paths do not handle) */
	VIO__HOT_SPLIT = 1,  /* split fast paths apply */
	VIO__HOT_PACKED = 2, /* packed fast paths apply */
};

/* A queue size the format allows: split a power of two (§2.7), packed any
 * value (§2.8); both at most 32768. */
static inline bool vio__ring_size_ok(enum vio_ring_format format, uint16_t size)
{
	if (size == 0)
		return false;
	if (format == VIO_RING_SPLIT)
		return (size & (size - 1u)) == 0 && size <= VIO_SPLIT_MAX_SIZE;
	return format == VIO_RING_PACKED && size <= VIO_PACKED_MAX_SIZE;
}

#endif /* VIO_LIB_RING_RING_IMPL_H */
