/* SPDX-License-Identifier: MIT */
/*
 * The `num` of vhost-user GET/SET_VRING_BASE <-> struct vio_ring_state.
 * Which peer sends what: docs/vhost-user-vring-base.md.
 */
#include <stdbool.h>
#include <stdint.h>

#include <virtio/errors.h>
#include <virtio/queue.h>
#include <virtio/ring_packed.h>
#include <virtio/vhost_user.h>

/* One packed half: bits 0-14 slot, bit 15 wrap counter. */
#define HALF_SLOT_MASK 0x7fffu
#define HALF_WRAP_BIT 0x8000u

static bool packed_size_ok(uint16_t size)
{
	return size != 0 && size <= VIO_PACKED_MAX_SIZE;
}

static uint32_t half_make(uint16_t slot, bool wrap)
{
	return (uint32_t)slot | (wrap ? HALF_WRAP_BIT : 0u);
}

static uint16_t half_slot(uint32_t half)
{
	return (uint16_t)(half & HALF_SLOT_MASK);
}

static bool half_wrap(uint32_t half)
{
	return (half & HALF_WRAP_BIT) != 0;
}

int vio_vhost_user_vring_base_encode(const struct vio_ring_state *st, enum vio_ring_format fmt,
				     uint16_t size, uint32_t *num)
{
	if (fmt == VIO_RING_SPLIT) {
		/* The used index lives in guest memory; only avail travels. */
		*num = st->avail_idx;
		return 0;
	}
	if (!packed_size_ok(size) || st->avail_idx >= size || st->used_idx >= size)
		return -VIO_EINVAL;
	*num = half_make(st->avail_idx, st->avail_wrap) |
	       (half_make(st->used_idx, st->used_wrap) << 16);
	return 0;
}

int vio_vhost_user_vring_base_decode(uint32_t num, enum vio_ring_format fmt, uint16_t size,
				     enum vio_vhost_user_base_conv conv, struct vio_ring_state *st)
{
	if (fmt == VIO_RING_SPLIT) {
		/* Bits 16-31 are reserved (zero); Linux's VHOST_SET_VRING_BASE
		 * refuses them as well. */
		if ((num >> 16) != 0)
			return -VIO_EINVAL;
		st->avail_idx = (uint16_t)num;
		/* Informative only: a split ring's used index is read back
		 * from the used ring in guest memory. */
		st->used_idx = (uint16_t)num;
		st->avail_wrap = false;
		st->used_wrap = false;
		st->inflight = 0;
		return 0;
	}

	if (!packed_size_ok(size))
		return -VIO_EINVAL;
	uint32_t avail = num & 0xffffu;
	uint32_t used = num >> 16;
	switch (conv) {
	case VIO_VHOST_USER_BASE_BOTH:
		break;
	case VIO_VHOST_USER_BASE_AVAIL_ONLY:
		used = avail;
		break;
	case VIO_VHOST_USER_BASE_AUTO:
		/* Upper half zero: a peer that sends the avail half only. A
		 * both-halves peer sends this too for used slot 0, wrap 0; see
		 * the header for when the two readings differ. */
		if (used == 0)
			used = avail;
		break;
	default:
		return -VIO_EINVAL;
	}
	if (half_slot(avail) >= size || half_slot(used) >= size)
		return -VIO_EINVAL;
	st->avail_idx = half_slot(avail);
	st->avail_wrap = half_wrap(avail);
	st->used_idx = half_slot(used);
	st->used_wrap = half_wrap(used);
	st->inflight = 0;
	return 0;
}
