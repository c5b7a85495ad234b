/* SPDX-License-Identifier: MIT */
/**
 * @file vhost_user.h
 * @brief vhost-user protocol encodings that the transport builds from the
 *        ring layer's state: the `num` of GET/SET_VRING_BASE.
 *
 * \defgroup vio_vhost_user vhost-user encodings
 * @{
 * The ring layer offers the device-side position (struct vio_ring_state);
 * this header turns it into the 32-bit `num` of a vhost-user (or vhost ioctl)
 * VRING_BASE message and back. Real peers disagree on what the upper half of
 * a packed `num` means, so decoding takes an explicit convention
 * (enum vio_vhost_user_base_conv). docs/vhost-user-vring-base.md records
 * what each known peer sends and expects.
 *
 * The functions are pure: no callbacks, no shared state, callable from any
 * thread.
 */
#ifndef VIO_VHOST_USER_H
#define VIO_VHOST_USER_H

#include <stdint.h>

#include <virtio/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief How the `num` of a packed-ring SET_VRING_BASE is read.
 *
 * The lower half (bits 0–14 avail slot, bit 15 avail wrap counter) means the
 * same to every peer. The upper half differs:
 */
enum vio_vhost_user_base_conv {
	/** Both halves (QEMU, the Linux vhost ioctls, the vhost-user spec):
	 * bits 16–30 used slot, bit 31 used wrap counter. */
	VIO_VHOST_USER_BASE_BOTH = 0,
	/** Avail half only (DPDK: its virtio-user front end sends 0x8000 for a
	 * fresh ring, its vhost library reads and replies only this half): the
	 * upper half is ignored and the used position is taken equal to the
	 * avail position, which is right when the ring was quiescent (every
	 * popped chain pushed back) when it was saved. */
	VIO_VHOST_USER_BASE_AVAIL_ONLY = 1,
	/** Guess per message: upper 16 bits zero ⇒ avail half only, anything
	 * else ⇒ both halves. Wrong in one case only: a both-halves peer whose
	 * used position is slot 0 with wrap counter 0 (the device has advanced
	 * it by an odd multiple of the queue size) while chains are in flight
	 * (avail ≠ used); the used position is then taken equal to the avail
	 * position. When nothing is in flight both readings agree. */
	VIO_VHOST_USER_BASE_AUTO = 2
};

/**
 * @brief Encode a ring position as the `num` of a GET_VRING_BASE reply (or
 *        of a SET_VRING_BASE a front end sends).
 *
 * Split: the 16-bit avail index; @c used_idx is not sent (the peer reads the
 * used index from the used ring in guest memory). Packed: both halves, bits
 * 0–14 avail slot, bit 15 avail wrap counter, bits 16–30 used slot, bit 31
 * used wrap counter: what QEMU and Linux decode, and a superset of what DPDK
 * reads (it ignores the upper half). @c inflight is not encoded: vhost-user
 * carries in-flight chains separately (the inflight-fd region of
 * VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD).
 *
 * @param st   The position, e.g. from vio_devq_get_state().
 * @param fmt  Ring format.
 * @param size Queue size; packed: 1 .. ::VIO_PACKED_MAX_SIZE; ignored for split.
 * @param num  Receives the encoded value; untouched on error.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Packed: @p size out of range, or a slot ≥ @p size.
 */
int vio_vhost_user_vring_base_encode(const struct vio_ring_state *st, enum vio_ring_format fmt,
				     uint16_t size, uint32_t *num);

/**
 * @brief Decode the `num` of a SET_VRING_BASE (or of a GET_VRING_BASE reply).
 *
 * Packed: read as @p conv says; both slots are checked against @p size.
 * Split: bits 0–15 are the avail index and bits 16–31 must be zero (the
 * Linux vhost ioctl rejects them too). vhost-user carries no used index for
 * split rings, so @c used_idx is set equal to @c avail_idx for information
 * only: a device half restoring a split ring takes the used index from the
 * used ring in guest memory, not from this field. @p conv does not apply.
 *
 * @c inflight is always 0: the chains in flight travel separately (the
 * inflight-fd region of VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) and the
 * embedder fills the field from there if it has them.
 *
 * @param num  The `num` from the peer (untrusted).
 * @param fmt  Ring format.
 * @param size Queue size; packed: 1 .. ::VIO_PACKED_MAX_SIZE; ignored for split.
 * @param conv Packed: how to read the upper half; ignored for split.
 * @param st   Receives the position; untouched on error.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Packed: @p size out of range, a slot ≥ @p size, or an
 *         unknown @p conv; split: a nonzero upper half.
 */
int vio_vhost_user_vring_base_decode(uint32_t num, enum vio_ring_format fmt, uint16_t size,
				     enum vio_vhost_user_base_conv conv, struct vio_ring_state *st);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VHOST_USER_H */
