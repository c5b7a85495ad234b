/* SPDX-License-Identifier: MIT */
/**
 * @file rng.h
 * @brief virtio-rng (entropy device) wire format, device model and driver
 *        helper (virtio 1.4 §5.4).
 *
 * \defgroup vio_rng virtio-rng
 * @{
 * The entropy device (device ID 4) has one queue, no feature bits and no
 * configuration space. The driver makes device-writable buffers available;
 * the device fills them with random bytes, possibly fewer than offered, and
 * reports how many in the used length.
 *
 * **Device model.** vio_rng_dev_process() pops chains and fills their
 * writable part from a `fill(ctx, buf, len)` callback. §5.4.6.1 forbids the
 * driver device-readable buffers: such a chain fails the queue with
 * ::VIO_ERNG_READABLE (set DEVICE_NEEDS_RESET). §5.4.6.2 requires one
 * random byte at least: when the callback has none, the chain is held and
 * completed by a later call, never given back empty (but a chain with no
 * writable byte at all is given back with 0).
 *
 * **Driver helper.** vio_rng_drv_submit() offers one writable buffer;
 * vio_rng_drv_get() returns it with the byte count, and refuses a count of 0
 * (::VIO_ERNG_EMPTY) as the spec's device requirement says.
 *
 * **Threads.** No locks: each object belongs to the thread that owns its
 * queue.
 */
#ifndef VIO_RNG_H
#define VIO_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/chain.h>
#include <virtio/devq.h>
#include <virtio/vq.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Index of the only queue, `requestq` (§5.4.2). */
#define VIO_RNG_REQUESTQ 0
/** @brief Number of queues of an entropy device. */
#define VIO_RNG_NUM_QUEUES 1

/** @brief The entropy source behind the device model. */
struct vio_rng_dev_ops {
	/**
	 * @brief Write up to @p len random bytes at @p buf.
	 * @param ctx The context given to vio_rng_dev_init().
	 * @param buf Destination (driver memory).
	 * @param len Bytes wanted, ≥ 1.
	 * @return Bytes written (0 .. @p len); less means "no more for now"
	 *         (a rate limit, an empty pool).
	 */
	size_t (*fill)(void *ctx, void *buf, size_t len);
};

/** @brief The device model of one entropy queue. Members are private. */
struct vio_rng_dev {
	/** @cond VIO_INTERNAL */
	struct vio_devq *dq;
	const struct vio_rng_dev_ops *ops;
	void *ctx;
	struct vio_chain_seg *segs;
	uint16_t max_segs;
	bool holding;
	struct vio_chain held;
	/** @endcond */
};

/**
 * @brief Set up the model over a device queue.
 * @param r        The model (caller memory).
 * @param dq       The device queue; best created with
 *                 vio_devq_config::take_long_chains (a longer chain is then
 *                 filled as far as @p segs reaches; otherwise it fails the
 *                 queue).
 * @param ops      The entropy source; referenced.
 * @param ctx      Passed to @p ops.
 * @param segs     Segment array for the chain being filled (caller memory).
 * @param max_segs Entries in @p segs (≥ 2).
 * @retval 0 Success.
 * @retval -VIO_EINVAL A NULL pointer, no @c fill, or @p max_segs < 2.
 */
int vio_rng_dev_init(struct vio_rng_dev *r, struct vio_devq *dq, const struct vio_rng_dev_ops *ops,
		     void *ctx, struct vio_chain_seg *segs, uint16_t max_segs);

/**
 * @brief Fill and complete available chains until the ring is empty or the
 *        source runs dry (the chain then waits for the next call).
 * @param r The model.
 * @return Chains completed (≥ 0), or a negative error:
 * @retval -VIO_ERNG_READABLE A chain with a device-readable buffer; the queue
 *         is now failed: set DEVICE_NEEDS_RESET.
 * @retval -VIO_EREQUEST A chain longer than @c segs while take_long_chains
 *         is off; the queue is now failed.
 * @retval -VIO_EMAP_AGAIN A buffer cannot be mapped now; retry later.
 * @retval <0 Another error of vio_devq_pop() or vio_devq_push().
 * @note Calls @c fill. Decide on an interrupt with vio_devq_needs_notify().
 */
int vio_rng_dev_process(struct vio_rng_dev *r);

/**
 * @brief True while a chain waits for entropy.
 * @param r The model.
 * @return true if a chain is held.
 */
bool vio_rng_dev_waiting(const struct vio_rng_dev *r);

/**
 * @brief Forget the held chain (device or queue reset): release its
 *        mappings with vio_devq_drop().
 * @param r The model.
 */
void vio_rng_dev_reset(struct vio_rng_dev *r);

/** @brief The driver helper of one entropy queue. Members are private. */
struct vio_rng_drv {
	/** @cond VIO_INTERNAL */
	struct vio_vq *vq;
	/** @endcond */
};

/**
 * @brief Set up the driver helper.
 * @param d  The helper (caller memory).
 * @param vq The entropy queue.
 * @retval 0 Success.
 * @retval -VIO_EINVAL A NULL pointer.
 */
int vio_rng_drv_init(struct vio_rng_drv *d, struct vio_vq *vq);

/**
 * @brief Offer one device-writable buffer for entropy.
 * @param d     The helper.
 * @param buf   The buffer (device-reachable, the device's until returned).
 * @param len   Bytes (≥ 1).
 * @param token Non-NULL cookie returned with the buffer.
 * @retval 0 Submitted; kick when vio_vq_kick_prepare() says so.
 * @retval -VIO_EINVAL @p len 0, NULL pointers.
 * @retval -VIO_EBROKEN The queue is broken.
 * @retval <0 Otherwise as vio_vq_add().
 */
int vio_rng_drv_submit(struct vio_rng_drv *d, void *buf, uint32_t len, void *token);

/**
 * @brief Reap one filled buffer.
 * @param d     The helper.
 * @param token Receives its token (also with ::VIO_ERNG_EMPTY).
 * @param len   Receives the random bytes at the start of the buffer.
 * @retval 0 One buffer with @p len ≥ 1 random bytes.
 * @retval -VIO_EAGAIN Nothing completed.
 * @retval -VIO_ERNG_EMPTY The device returned no byte (§5.4.6.2); the queue
 *         is now broken (vio_vq_fail()).
 * @retval -VIO_EBROKEN The queue was broken before.
 * @retval <0 A peer error of vio_vq_get().
 */
int vio_rng_drv_get(struct vio_rng_drv *d, void **token, uint32_t *len);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_RNG_H */
