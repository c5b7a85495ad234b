/* SPDX-License-Identifier: MIT */
/**
 * @file rng_device.h
 * @brief virtio-rng on the device core: a ::vio_device_ops implementation
 *        that runs the entropy model (rng.h) behind any transport.
 *
 * \defgroup vio_rng_device virtio-rng device adapter (vio_rng_device)
 * @{
 * The entropy device has one queue, no configuration space and no
 * device-type features. The adapter creates the model on the queue when it
 * goes live, serves it inline or through a runner (device_runner.h), and
 * reports a queue that broke (a device-readable buffer, §5.4.6.1) to the
 * device core, which sets DEVICE_NEEDS_RESET:
 * @code
 * struct vio_rng_device_config rc = {0};
 * rc.source = &my_entropy_ops;   // fill(ctx, buf, len)
 * rc.source_ctx = &pool;
 * vio_rng_device_init(&rd, &rd_mem, sizeof(rd_mem), &rc);
 * struct vio_device_info info = {0};
 * vio_rng_device_info(rd, &info);
 * info.regions = guest_ram; info.nregions = 1;
 * vio_device_init(&dev, devmem, vio_device_mem_size(&info), &info);
 * @endcode
 * When the source runs dry, a chain is held (§5.4.6.2: never returned
 * empty): call vio_rng_device_process() again once it has entropy.
 *
 * **Threads.** As blk_device.h: ops on the control thread,
 * vio_rng_device_process() on the queue's thread.
 */
#ifndef VIO_RNG_DEVICE_H
#define VIO_RNG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/device.h>
#include <virtio/device_runner.h>
#include <virtio/features.h>
#include <virtio/rng.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A virtio-rng device adapter (opaque; caller memory of
 *         ::VIO_RNG_DEVICE_MEM_SIZE bytes). */
struct vio_rng_device;

/** @brief Segment entries the adapter fills per request (a longer chain is
 *         filled as far as they reach). */
#define VIO_RNG_DEVICE_SEGS 16u
/** @brief Bytes of memory an adapter needs (a constant expression). */
#define VIO_RNG_DEVICE_MEM_SIZE (320u + VIO_RNG_DEVICE_SEGS * sizeof(struct vio_chain_seg))
/** @brief Alignment of that memory. */
#define VIO_RNG_DEVICE_MEM_ALIGN 8
/** @brief Queue size the adapter offers when ::vio_rng_device_config::queue_max is 0. */
#define VIO_RNG_DEVICE_DEFAULT_QUEUE_MAX 64u

/** @brief How to build an entropy device. Zero-initialise, then fill in. */
struct vio_rng_device_config {
	const struct vio_rng_dev_ops *source; /**< The entropy source (required; referenced). */
	void *source_ctx;		      /**< Passed to @c source. */
	/** Queue maximum size: a power of two, 1 .. 32768 (0:
	 * ::VIO_RNG_DEVICE_DEFAULT_QUEUE_MAX). */
	uint16_t queue_max;
	/** Ring and platform bits to offer (bits 24 and up), or NULL for
	 * vio_ring_features() (the model completes in order, so IN_ORDER
	 * included). Copied. */
	const struct vio_features *ring_features;
	/** Queue thread (NULL: served inline on the control thread); referenced. */
	const struct vio_device_runner *runner;
	void *runner_ctx; /**< Passed to @c runner. */
};

/**
 * @brief Create an adapter in @p mem.
 * @param rdp      Receives the adapter.
 * @param mem      ::VIO_RNG_DEVICE_MEM_ALIGN-aligned memory owned by the
 *                 caller while the device is used.
 * @param mem_size At least ::VIO_RNG_DEVICE_MEM_SIZE.
 * @param cfg      The configuration; copied.
 * @retval 0 Success.
 * @retval -VIO_EINVAL NULL arguments, too little or misaligned memory, no
 *         `fill`, a queue maximum that is not a power of two, a runner
 *         without both callbacks.
 * @note Control thread; calls no callbacks.
 */
int vio_rng_device_init(struct vio_rng_device **rdp, void *mem, size_t mem_size,
			const struct vio_rng_device_config *cfg);

/**
 * @brief Describe the device to the device core (type, one queue and its
 *        maximum, offer, ops, context, take_long_chains); the memory
 *        fields are left for the embedder.
 * @param rd   The adapter.
 * @param info The description to complete.
 */
void vio_rng_device_info(struct vio_rng_device *rd, struct vio_device_info *info);

/**
 * @brief Serve the queue: fill and complete every available request, send
 *        the used buffer notification the driver asked for, re-arm driver
 *        notifications.
 * @param rd The adapter.
 * @param q  Queue index (::VIO_RNG_REQUESTQ).
 * @return Requests completed (≥ 0; 0 for a queue that is not live), or:
 * @retval -VIO_EINVAL No such queue.
 * @retval -VIO_EMAP_AGAIN A buffer cannot be mapped now: call again later.
 * @retval <0 The queue broke (::VIO_ERNG_READABLE, a peer code,
 *         ::VIO_EBROKEN): DEVICE_NEEDS_RESET is already set.
 * @note The queue's thread. Calls the source's `fill` and the transport's
 *       interrupt callback.
 */
int vio_rng_device_process(struct vio_rng_device *rd, uint16_t q);

/**
 * @brief True while a request waits for entropy (call
 *        vio_rng_device_process() again when the source has some).
 *        The queue's thread.
 * @param rd The adapter.
 * @return true if a request is held.
 */
bool vio_rng_device_waiting(const struct vio_rng_device *rd);

/**
 * @brief Stop serving (::vio_device_runner::stop) until
 *        vio_rng_device_resume(); before a save. Control thread.
 * @param rd The adapter.
 */
void vio_rng_device_pause(struct vio_rng_device *rd);

/**
 * @brief Serve again and kick the queue. Control thread.
 * @param rd The adapter.
 */
void vio_rng_device_resume(struct vio_rng_device *rd);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_RNG_DEVICE_H */
