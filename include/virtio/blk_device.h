/* SPDX-License-Identifier: MIT */
/**
 * @file blk_device.h
 * @brief virtio-blk on the device core: a ::vio_device_ops implementation
 *        that runs the blk device model (blk_dev.h) behind any transport.
 *
 * \defgroup vio_blk_device virtio-blk device adapter (vio_blk_device)
 * @{
 * What a VMM author uses to expose a disk. The adapter owns the blk model,
 * its configuration space and every request queue's request slots; the
 * embedder creates the device core from the description the adapter fills
 * in, puts a transport register model in front of it (mmio_dev.h), and
 * decides where queues are served (device_runner.h):
 * @code
 * struct vio_blk_device_config bc = {0};
 * bc.desc.capacity = disk_bytes / 512;
 * bc.desc.seg_max = 32;
 * bc.desc.flush = true;
 * bc.backend = &vio_blk_mem_backend_ops;     // or your own
 * bc.backend_ctx = &mem_backend;
 * bc.queue_max = 256;
 * size_t n = vio_blk_device_mem_size(&bc);
 * vio_blk_device_init(&bd, aligned_alloc(8, n), n, &bc);
 * struct vio_device_info info = {0};
 * vio_blk_device_info(bd, &info);
 * info.regions = guest_ram; info.nregions = 1;  // the VMM's memory map
 * vio_device_init(&dev, devmem, vio_device_mem_size(&info), &info);
 * vio_mmio_dev_init(&mmio, mmiomem, sizeof(mmiomem), dev, &wiring);
 * @endcode
 *
 * | Device core event     | Adapter |
 * |-----------------------|---------|
 * | offer, config space   | vio_blk_dev_features() + ring features; vio_blk_dev_fill_config() |
 * | FEATURES_OK           | vio_blk_dev_set_features() (a veto leaves FEATURES_OK clear) |
 * | driver config write   | vio_blk_dev_config_write() (writeback, with CONFIG_WCE) |
 * | DRIVER_OK, queue enable | vio_blk_queue_init() on vio_device_queue(), then a kick |
 * | queue notify          | kick (runner) or serve inline |
 * | serve (queue thread)  | vio_blk_device_process(): vio_blk_queue_process(), used notification, EVENT_IDX re-arm |
 * | reset, FAILED, SUSPEND, queue stop | runner stop, vio_blk_queue_reset() |
 *
 * **Errors while serving.** vio_blk_device_process() reports a queue that
 * broke (a hostile driver: a peer code, ::VIO_EBLK_NO_STATUS, ::VIO_EBROKEN)
 * to the device core with vio_device_queue_error(), which sets
 * DEVICE_NEEDS_RESET and sends a configuration change notification. The
 * VMM only logs it. ::VIO_EMAP_AGAIN means "call again later".
 *
 * **Threads.** The ops run on the control thread. vio_blk_device_process()
 * runs on the thread that serves a queue (one at a time per queue; queues
 * may be served by different threads in parallel). Control functions
 * (vio_blk_device_pause() and friends) run on the control thread.
 */
#ifndef VIO_BLK_DEVICE_H
#define VIO_BLK_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/blk_dev.h>
#include <virtio/device.h>
#include <virtio/device_runner.h>
#include <virtio/features.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A virtio-blk device adapter (opaque; caller memory, see
 *         vio_blk_device_mem_size()). */
struct vio_blk_device;

/** @brief Alignment of the memory given to vio_blk_device_init(). */
#define VIO_BLK_DEVICE_MEM_ALIGN 8

/** @cond VIO_INTERNAL */
#define VIO__BLK_DEVICE_FIXED_BYTES 768u     /* checked in blk_device.c */
#define VIO__BLK_DEVICE_PER_QUEUE_BYTES 128u /* checked in blk_device.c */
/** @endcond */

/**
 * @brief Bytes of memory an adapter needs, as a constant expression (for
 *        `static` storage).
 * @param nqueues      Request queues.
 * @param requests     Request slots per queue.
 * @param segs_per_req Segment entries per request.
 */
#define VIO_BLK_DEVICE_MEM_SIZE(nqueues, requests, segs_per_req)                                   \
	((size_t)VIO__BLK_DEVICE_FIXED_BYTES +                                                     \
	 (size_t)(nqueues) *                                                                       \
		 ((size_t)VIO__BLK_DEVICE_PER_QUEUE_BYTES +                                        \
		  (size_t)(requests) * (sizeof(struct vio_blk_req) +                               \
					(size_t)(segs_per_req) * sizeof(struct vio_chain_seg))))

/** @brief Request queue size the adapter offers when
 *         ::vio_blk_device_config::queue_max is 0. */
#define VIO_BLK_DEVICE_DEFAULT_QUEUE_MAX 256u

/** @brief Segment entries per request when ::vio_blk_device_config::segs_per_req
 *         is 0 and the description has no @c seg_max. */
#define VIO_BLK_DEVICE_DEFAULT_SEGS 34u

/** @brief How to build a blk device. Zero-initialise, then fill in. */
struct vio_blk_device_config {
	/** The disk: capacity, limits, features (blk_dev.h); copied.
	 * @c desc.num_queues request queues (0 means 1; above 1 offers MQ). */
	struct vio_blk_dev_desc desc;
	/** The storage (required; referenced). The in-memory backend:
	 * ::vio_blk_mem_backend_ops. */
	const struct vio_blk_backend_ops *backend;
	void *backend_ctx; /**< Passed to @c backend. */
	/** Maximum size of every request queue: a power of two, 1 .. 32768
	 * (0: ::VIO_BLK_DEVICE_DEFAULT_QUEUE_MAX). */
	uint16_t queue_max;
	/** Request slots per queue (0: @c queue_max, the most a driver can
	 * have in flight). Fewer is enough for a backend that completes inside
	 * `submit`. */
	uint16_t requests;
	/** Segment entries per request, ≥ 3 (0: ::VIO_BLK_DEV_SEGS(seg_max),
	 * or ::VIO_BLK_DEVICE_DEFAULT_SEGS without @c seg_max). A longer chain
	 * is answered with IOERR. */
	uint16_t segs_per_req;
	/** Ring and platform feature bits to offer (bits 24 and up), or NULL
	 * for vio_ring_features() without VIO_F_IN_ORDER (the model completes
	 * requests in the backend's order). The device core keeps only those
	 * it and the transport implement. */
	const struct vio_features *ring_features;
	/** Queue threads (NULL: queues are served inline, on the control
	 * thread, inside the driver's notification); referenced. */
	const struct vio_device_runner *runner;
	void *runner_ctx; /**< Passed to @c runner. */
};

/**
 * @brief Bytes of memory vio_blk_device_init() needs for @p cfg.
 * @param cfg The configuration.
 * @return The size, or 0 if @p cfg is invalid (see vio_blk_device_init()).
 * @note Thread-safe; calls no callbacks.
 */
size_t vio_blk_device_mem_size(const struct vio_blk_device_config *cfg);

/**
 * @brief Create an adapter in @p mem: the blk model (vio_blk_dev_init()),
 *        its configuration space, the offer and the request slots.
 * @param bdp      Receives the adapter (a pointer into @p mem).
 * @param mem      ::VIO_BLK_DEVICE_MEM_ALIGN-aligned memory, owned by the
 *                 caller, used until the device is no longer used.
 * @param mem_size Bytes at @p mem, at least vio_blk_device_mem_size().
 * @param cfg      The configuration; copied (the backend and runner tables
 *                 stay referenced).
 * @retval 0 Success.
 * @retval -VIO_EINVAL NULL arguments, too little or misaligned memory, no
 *         backend `submit`, a bad description (vio_blk_dev_desc_check()),
 *         a queue maximum that is not a power of two, fewer than 3 segment
 *         entries, a runner without both callbacks.
 * @note Calls no callbacks. Control thread.
 */
int vio_blk_device_init(struct vio_blk_device **bdp, void *mem, size_t mem_size,
			const struct vio_blk_device_config *cfg);

/**
 * @brief Describe the device to the device core: fills @p info's device
 *        type, queue count and maxima, offered features, configuration
 *        buffer, ops and context, and sets
 *        ::vio_device_info::take_long_chains. The memory fields (regions,
 *        mem_ops, mem_ctx) are left for the embedder.
 *
 * Give @p info to vio_device_init() for exactly one device; the adapter
 * learns that device when it goes live (::vio_device_ops::activate).
 * @param bd   The adapter.
 * @param info The description to complete; the queue maximum array and the
 *             configuration buffer point into the adapter.
 */
void vio_blk_device_info(struct vio_blk_device *bd, struct vio_device_info *info);

/**
 * @brief Serve queue @p q: take every available request, hand it to the
 *        backend, send the used buffer notification the driver asked for,
 *        and re-arm driver notifications (the "enable, re-check" loop, so
 *        that no kick is lost with VIO_F_EVENT_IDX).
 *
 * Call it after each ::vio_device_runner::kick, and after the backend
 * completed requests (vio_blk_req_complete()) outside `submit`.
 * @param bd The adapter.
 * @param q  Queue index.
 * @return Requests taken (≥ 0; 0 also for a queue that is not live: a kick
 *         that arrived after a stop), or a negative code:
 * @retval -VIO_EINVAL @p q is not a queue of the device.
 * @retval -VIO_EMAP_AGAIN A buffer cannot be mapped now: call again later.
 * @retval <0 The queue broke (hostile driver: vio_err_is_peer(),
 *         ::VIO_EBROKEN): DEVICE_NEEDS_RESET is already set; log it.
 * @note The queue's thread. Calls the backend's `submit` and the
 *       transport's interrupt callback.
 */
int vio_blk_device_process(struct vio_blk_device *bd, uint16_t q);

/**
 * @brief Stop serving every live queue (::vio_device_runner::stop) until
 *        vio_blk_device_resume(): before vio_device_save() /
 *        vio_mmio_dev_save(), or to change the backend.
 *        Pausing a paused adapter is a no-op. Control thread.
 * @param bd The adapter.
 */
void vio_blk_device_pause(struct vio_blk_device *bd);

/**
 * @brief Serve the live queues again and kick each one. Control thread.
 * @param bd The adapter.
 */
void vio_blk_device_resume(struct vio_blk_device *bd);

/**
 * @brief Resize the disk at run time: pause, set the capacity in the model
 *        and the configuration space, resume, and send a configuration
 *        change notification (vio_device_config_changed()).
 * @param bd       The adapter.
 * @param dev      The device created from vio_blk_device_info().
 * @param capacity New size in sectors (the backend must already serve it).
 * @retval 0 Resized.
 * @retval -VIO_EINVAL Above ::VIO_BLK_MAX_CAPACITY (nothing changed).
 * @note Control thread.
 */
int vio_blk_device_set_capacity(struct vio_blk_device *bd, struct vio_device *dev,
				uint64_t capacity);

/**
 * @brief The blk model (for vio_blk_dev_writeback() and the like).
 * @param bd The adapter.
 * @return The model inside the adapter.
 */
struct vio_blk_dev *vio_blk_device_model(struct vio_blk_device *bd);

/**
 * @brief True while queue @p q is being served (live and not paused).
 *        Any thread.
 * @param bd The adapter.
 * @param q  Queue index.
 * @return true if live.
 */
bool vio_blk_device_queue_live(const struct vio_blk_device *bd, uint16_t q);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_BLK_DEVICE_H */
