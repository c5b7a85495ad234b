/* SPDX-License-Identifier: MIT */
/**
 * @file device.h
 * @brief Device core: the transport-independent device side of virtio
 *        (status machine, feature negotiation, configuration space, queue
 *        configuration, reset, interrupts, save/restore).
 *
 * \defgroup vio_device Device core (vio_device)
 * @{
 * A device model (blk, rng, …) plugs into the core through
 * ::vio_device_ops; a transport register model (virtio-mmio in mmio_dev.h,
 * virtio-pci later) turns register accesses into the calls below and turns
 * the core's interrupt requests (::vio_device_transport) into its own
 * mechanism. The core implements virtio 1.4 §2.1–§2.6 and §3.1 from the
 * device's side; it never allocates: the embedder gives it memory sized by
 * VIO_DEVICE_MEM_SIZE() / vio_device_mem_size(), including each queue's
 * device-queue bookkeeping.
 *
 * **Who calls what, on which thread.** There are two kinds of callers, and
 * no locks inside:
 * - the *control thread*: whatever runs the transport's register accesses
 *   (a VMM's vCPU trap handler), and the VMM's own control calls
 *   (vio_device_config_update(), vio_device_save(), vio_device_restore(),
 *   vio_device_set_mem_table()). These are serialised by the embedder: one
 *   at a time per device (one thread, or the device lock the VMM already
 *   holds around a trap). Every ::vio_device_ops callback runs on this
 *   thread, from inside one of these calls.
 * - *queue threads*: while a queue is live (between ::vio_device_ops::activate
 *   or ::vio_device_ops::queue_enable and ::vio_device_ops::deactivate or
 *   ::vio_device_ops::queue_stop), one thread at a time may use that queue's
 *   `struct vio_devq` (vio_device_queue()) and call vio_device_queue_push(),
 *   vio_device_queue_pop_batch(), vio_device_queue_push_chains(),
 *   vio_device_queue_notify_used(), vio_device_queue_interrupt(),
 *   vio_device_queue_error() and vio_device_set_needs_reset(). These may run
 *   concurrently with the control thread; they touch only atomics and the
 *   queue's own state.
 *
 * The contract that makes this safe: when `deactivate`, `queue_stop` or
 * `suspend` returns, the model no longer touches the queues concerned (it
 * has stopped or joined its queue threads). The core releases ring
 * mappings and resets state only after that.
 *
 * **Hostile driver.** Every value written by the driver is checked. A write
 * the core refuses changes nothing (the return code says why; register
 * models ignore it or log it). A queue whose ring reports a peer error
 * (vio_err_is_peer()) makes the device set DEVICE_NEEDS_RESET and send a
 * configuration change notification (§2.1.2).
 *
 * Legacy (pre-1.0) devices are not supported: the core always offers
 * VIRTIO_F_VERSION_1 and refuses FEATURES_OK without it.
 */
#ifndef VIO_DEVICE_H
#define VIO_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/chain.h>
#include <virtio/devq.h>
#include <virtio/features.h>
#include <virtio/mem.h>
#include <virtio/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A device (opaque; lives in caller memory, see VIO_DEVICE_MEM_SIZE()). */
struct vio_device;

/** @brief Alignment of the memory given to vio_device_init(). */
#define VIO_DEVICE_MEM_ALIGN 8

/** @brief Queues a device may have (the spec's limit is 65536; this bounds the
 *         core's arithmetic, not a spec rule). */
#define VIO_DEVICE_MAX_QUEUES 1024

/** @brief "No MSI-X vector" (PCI `VIRTIO_MSI_NO_VECTOR`), the reset value of
 *         every vector the core stores. */
#define VIO_DEVICE_NO_VECTOR 0xffffu

/** @cond VIO_INTERNAL */
#define VIO__DEVICE_FIXED_BYTES 320u	/* struct vio_device; checked in device.c */
#define VIO__DEVICE_PER_QUEUE_BYTES 64u /* per-queue state; checked in device.c */
#define VIO__DEVICE_ROUND8(n) (((size_t)(n) + 7u) & ~(size_t)7u)
/** @endcond */

/**
 * @brief Bytes of memory a device with @p nqueues queues, none larger than
 *        @p qmax, needs, as a constant expression (for `static` storage).
 *
 * Includes every queue's device-queue bookkeeping (VIO_DEVQ_MEM_SIZE()).
 * vio_device_mem_size() may return less.
 * @param nqueues Number of queues.
 * @param qmax    The largest queue maximum size among them.
 */
#define VIO_DEVICE_MEM_SIZE(nqueues, qmax)                                                         \
	(VIO__DEVICE_FIXED_BYTES +                                                                 \
	 (size_t)(nqueues) *                                                                       \
		 (VIO__DEVICE_PER_QUEUE_BYTES + VIO__DEVICE_ROUND8(VIO_DEVQ_MEM_SIZE(qmax))))

/**
 * @brief What a device model implements. Every member is optional.
 *
 * All callbacks run on the control thread, inside the core call named for
 * each, and must not call back into the core's control functions (status,
 * queue configuration, reset, save/restore). They may call the queue-thread
 * functions (vio_device_queue(), vio_device_queue_push(), …) and
 * vio_device_config_update().
 */
struct vio_device_ops {
	/**
	 * @brief The driver wrote bytes of the configuration space.
	 *
	 * The core has checked the range against the configuration size; the
	 * model applies what it accepts to its configuration buffer (the spec
	 * makes most fields read-only: ignoring the write is right for them).
	 * NULL: the configuration space is read-only. Not called while the
	 * device is suspended (§3.4: SHOULD ignore).
	 * @param ctx    ::vio_device_info::ctx.
	 * @param dev    The device.
	 * @param offset Offset of the first byte in the configuration space.
	 * @param data   The bytes, in wire (little-endian) order.
	 * @param len    1 .. 8 bytes.
	 */
	void (*config_write)(void *ctx, struct vio_device *dev, uint32_t offset, const void *data,
			     uint32_t len);
	/**
	 * @brief The driver sets FEATURES_OK: accept or veto @p features.
	 *
	 * Called only for a set the core accepts (a subset of the offer, with
	 * VIRTIO_F_VERSION_1). NULL accepts every such set.
	 * @param ctx      ::vio_device_info::ctx.
	 * @param dev      The device.
	 * @param features The driver's accepted features.
	 * @return 0 to accept; any negative value vetoes: FEATURES_OK then
	 *         reads back clear (§3.1.1 step 6).
	 */
	int (*validate_features)(void *ctx, struct vio_device *dev,
				 const struct vio_features *features);
	/**
	 * @brief DRIVER_OK: the device goes live (also on resume from SUSPEND
	 *        and at the end of a vio_device_restore() of a live device).
	 *
	 * Every enabled queue has its `struct vio_devq` (vio_device_queue()). Start
	 * serving them (start queue threads, or serve inline from queue_notify).
	 * @param ctx ::vio_device_info::ctx.
	 * @param dev The device.
	 * @return 0, or a negative code: the core sets DEVICE_NEEDS_RESET.
	 */
	int (*activate)(void *ctx, struct vio_device *dev);
	/**
	 * @brief The device stops being live: reset, FAILED, or SUSPEND when
	 *        ::vio_device_ops::suspend is NULL.
	 *
	 * When this returns, the model no longer touches any queue.
	 * @param ctx ::vio_device_info::ctx.
	 * @param dev The device.
	 */
	void (*deactivate)(void *ctx, struct vio_device *dev);
	/**
	 * @brief The driver sets SUSPEND (VIRTIO_F_SUSPEND, §3.4).
	 *
	 * The model stops taking buffers, completes those it holds (pushing
	 * them and notifying: vio_device_queue_push() still works here), and
	 * stops touching the queues before returning. NULL: the core calls
	 * ::vio_device_ops::deactivate instead.
	 * @param ctx ::vio_device_info::ctx.
	 * @param dev The device.
	 * @return 0 once suspended, or a negative code: the device sets
	 *         DEVICE_NEEDS_RESET instead of suspending (§3.4.2).
	 */
	int (*suspend)(void *ctx, struct vio_device *dev);
	/**
	 * @brief Device reset (status 0 written, or vio_device_reset()):
	 *        return the model's own state and configuration buffer to their
	 *        initial values. Called after deactivate, with every queue
	 *        already gone.
	 * @param ctx ::vio_device_info::ctx.
	 * @param dev The device.
	 */
	void (*reset)(void *ctx, struct vio_device *dev);
	/**
	 * @brief An available buffer notification for live queue @p queue.
	 *
	 * Delivered only while the device is live (DRIVER_OK, not suspended)
	 * and the queue enabled. Typically wakes the queue's thread, or serves
	 * the queue inline.
	 * @param ctx   ::vio_device_info::ctx.
	 * @param dev   The device.
	 * @param queue Queue index.
	 * @param data  With VIRTIO_F_NOTIFICATION_DATA, the whole notification
	 *              value (decode with vio_notify_data_off() and friends,
	 *              queue.h); otherwise the queue index.
	 */
	void (*queue_notify)(void *ctx, struct vio_device *dev, uint16_t queue, uint32_t data);
	/**
	 * @brief Queue @p queue is enabled while the device is live (re-enable
	 *        after a queue reset, §2.6.1.2). Queues enabled before DRIVER_OK
	 *        are covered by activate instead.
	 * @param ctx   ::vio_device_info::ctx.
	 * @param dev   The device.
	 * @param queue Queue index.
	 * @return 0, or a negative code: the core sets DEVICE_NEEDS_RESET.
	 */
	int (*queue_enable)(void *ctx, struct vio_device *dev, uint16_t queue);
	/**
	 * @brief Stop using live queue @p queue: it is being reset (RING_RESET)
	 *        or disabled (virtio-mmio QueueReady = 0) while the device is
	 *        live. When this returns the model no longer touches it; chains
	 *        it still holds are dropped by the core's reset of the queue
	 *        (vio_devq_drop() them here if they hold mappings to release).
	 * @param ctx   ::vio_device_info::ctx.
	 * @param dev   The device.
	 * @param queue Queue index.
	 */
	void (*queue_stop)(void *ctx, struct vio_device *dev, uint16_t queue);
};

/**
 * @brief What the device is: given once to vio_device_init(). Zero-initialise,
 *        then fill in.
 */
struct vio_device_info {
	uint32_t device_id;  /**< Device type (VIO_ID_*, spec.h). */
	uint16_t num_queues; /**< Queues, 0 .. ::VIO_DEVICE_MAX_QUEUES. */
	/** Maximum size of each queue (@c num_queues entries, each 1 .. 32768;
	 * read at init only). A split queue must be a power of two, so the
	 * driver can use the maximum itself. */
	const uint16_t *queue_max;
	/** Offered features. The core adds VIRTIO_F_VERSION_1 and removes the
	 * bits in the transport ranges (24–40, 43–49) that neither the core nor
	 * the transport implement (vio_device_offered()). */
	struct vio_features features;
	/** The configuration space in wire format (little-endian fields),
	 * owned by the model, read by the core for the driver. May be NULL
	 * with @c config_size 0. Change it at run time only through
	 * vio_device_config_update() (or on the control thread followed by
	 * vio_device_config_changed()). */
	void *config;
	uint32_t config_size;		  /**< Bytes at @c config. */
	const struct vio_device_ops *ops; /**< The model's callbacks; may be NULL. */
	void *ctx;			  /**< Passed to @c ops. */
	/** Guest memory for every queue: referenced, not copied (see
	 * ::vio_mem_region); may be NULL with @c nregions 0. */
	const struct vio_mem_region *regions;
	uint32_t nregions;		   /**< Entries in @c regions. */
	const struct vio_mem_ops *mem_ops; /**< Map / release / log callbacks; may be NULL. */
	void *mem_ctx;			   /**< Passed to @c mem_ops. */
	/** Passed to every queue (vio_devq_config::take_long_chains). */
	bool take_long_chains;
	/** The model takes chains with vio_device_queue_pop() (not
	 * vio_devq_pop() directly), so it serves the chains a transport
	 * re-submits through ::vio_device_queue_hooks (e.g. vhost-user's
	 * inflight region). A transport offers such a feature only if set. */
	bool takes_resubmitted;
};

/** @brief What the core asks a transport to signal. */
enum vio_device_irq {
	VIO_DEVICE_IRQ_QUEUE = 0, /**< Used buffer notification for a queue. */
	VIO_DEVICE_IRQ_CONFIG = 1 /**< Configuration change notification. */
};

/**
 * @brief How the core reaches its transport; implemented by a register
 *        model (mmio_dev.h), not by the embedder.
 */
struct vio_device_transport {
	/**
	 * @brief Raise a notification to the driver.
	 *
	 * Called from the control thread or from a queue thread (both may call
	 * it at once): the implementation must be thread-safe. The core calls
	 * it only while the device is live (used buffers) or has DRIVER_OK
	 * (configuration changes), as §2.1.2 and §3.4 require.
	 * @param ctx   The transport's context.
	 * @param kind  Which notification.
	 * @param queue The queue (::VIO_DEVICE_IRQ_QUEUE), else 0.
	 */
	void (*interrupt)(void *ctx, enum vio_device_irq kind, uint16_t queue);
	/**
	 * @brief The device was reset: clear the transport's own interrupt
	 *        state (virtio-mmio InterruptStatus, §4.2.2.1). Control thread.
	 * @param ctx The transport's context.
	 */
	void (*reset)(void *ctx);
};

/**
 * @brief Bytes of memory vio_device_init() needs for @p info.
 * @param info The device description.
 * @return The size (at most VIO_DEVICE_MEM_SIZE() for its queue count and
 *         largest queue), or 0 if @p info is invalid (see vio_device_init()).
 * @note Thread-safe; calls no callbacks.
 */
size_t vio_device_mem_size(const struct vio_device_info *info);

/**
 * @brief Create a device in @p mem, in the reset state (status 0).
 *
 * @param devp     Receives the device (a pointer into @p mem).
 * @param mem      ::VIO_DEVICE_MEM_ALIGN-aligned memory, owned by the
 *                 caller, used until the device is no longer used.
 * @param mem_size Bytes at @p mem, at least vio_device_mem_size().
 * @param info     The description; copied (the queue_max array is read
 *                 now; config, regions and ops stay referenced).
 * @retval 0 Success.
 * @retval -VIO_EINVAL NULL arguments, too little or misaligned memory, more
 *         than ::VIO_DEVICE_MAX_QUEUES queues, a queue maximum of 0 or
 *         above 32768, a config buffer NULL with a non-zero size.
 * @note Calls no callbacks. Control thread.
 */
int vio_device_init(struct vio_device **devp, void *mem, size_t mem_size,
		    const struct vio_device_info *info);

/**
 * @brief Connect a transport (done by the register model's init).
 *
 * @param dev       The device.
 * @param t         The transport's hooks (referenced); NULL detaches.
 * @param ctx       Passed to @p t.
 * @param supported The transport-dependent feature bits the transport
 *                  implements among VIRTIO_F_NOTIFICATION_DATA,
 *                  VIRTIO_F_NOTIF_CONFIG_DATA, VIRTIO_F_RING_RESET,
 *                  VIRTIO_F_SR_IOV and VIRTIO_F_ADMIN_VQ (others ignored);
 *                  NULL for none. The offer is recomputed.
 * @note Control thread, before the driver sees the device.
 */
void vio_device_set_transport(struct vio_device *dev, const struct vio_device_transport *t,
			      void *ctx, const struct vio_features *supported);

/**
 * @brief A transport's part in starting and stopping a queue: for
 *        transports that restore in-flight chains themselves (vhost-user's
 *        inflight region, vhost_user_inflight.h). Every member is optional.
 *
 * Called on the control thread, inside vio_device_queue_set_ready() /
 * vio_device_queue_enable_at() (start) and wherever the core releases a
 * queue (stop: queue disable, queue reset, device reset); `resubmit` on the
 * queue's thread, inside vio_device_queue_pop(). None may call the core's
 * control functions.
 */
struct vio_device_queue_hooks {
	/**
	 * @brief Queue @p q's device queue was just created; the model has not
	 *        seen it. Replaces the core's vio_devq_set_state(): the hook
	 *        sets the position itself (from @p pos or its own record).
	 * @param ctx The context given to vio_device_set_queue_hooks().
	 * @param dev The device.
	 * @param q   Queue index.
	 * @param dq  The new device queue.
	 * @param pos The position vio_device_queue_enable_at() was given, or
	 *            NULL (vio_device_queue_set_ready(): the reset position).
	 * @retval 0 Started; nothing to re-submit.
	 * @retval 1 Started; chains to re-submit: vio_device_queue_pop() takes
	 *         them through `resubmit` before popping the ring.
	 * @retval <0 Refused: the queue is released and DEVICE_NEEDS_RESET is
	 *         set (as for a position vio_devq_set_state() refuses).
	 */
	int (*start)(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq,
		     const struct vio_ring_state *pos);
	/**
	 * @brief The next chain to re-submit (after `start` returned 1).
	 * @param ctx      The context.
	 * @param dev      The device.
	 * @param q        Queue index.
	 * @param dq       The device queue.
	 * @param chain    Receives the chain.
	 * @param segs     Receives its segments.
	 * @param max_segs Room in @p segs.
	 * @return As vio_devq_pop(); -::VIO_EAGAIN: none left (the core then
	 *         pops the ring, and does not call this again until the next
	 *         `start`).
	 */
	int (*resubmit)(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq,
			struct vio_chain *chain, struct vio_chain_seg *segs, uint16_t max_segs);
	/**
	 * @brief Queue @p q is being released: the model stopped using it
	 *        (its chains were dropped or pushed); vio_devq_fini() follows.
	 *        Also after a `start` that failed.
	 * @param ctx The context.
	 * @param dev The device.
	 * @param q   Queue index.
	 * @param dq  The device queue.
	 */
	void (*stop)(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq);
};

/**
 * @brief Install (or, with @p h NULL, remove) the transport's queue hooks.
 * @param dev The device.
 * @param h   The hooks (referenced); NULL removes them.
 * @param ctx Passed to @p h.
 * @note Control thread, while no queue is enabled.
 */
void vio_device_set_queue_hooks(struct vio_device *dev, const struct vio_device_queue_hooks *h,
				void *ctx);

/** @name Identity and features (control thread unless stated)
 * @{ */

/**
 * @brief The device type given at init.
 * @param dev The device.
 * @return ::vio_device_info::device_id.
 */
uint32_t vio_device_id(const struct vio_device *dev);

/**
 * @brief Number of queues.
 * @param dev The device.
 * @return ::vio_device_info::num_queues.
 */
uint16_t vio_device_num_queues(const struct vio_device *dev);

/**
 * @brief The features the device offers (what DeviceFeatures shows).
 * @param dev The device.
 * @param out Receives the offer.
 */
void vio_device_offered(const struct vio_device *dev, struct vio_features *out);

/**
 * @brief The features the driver has written so far (what it reads back).
 *
 * After FEATURES_OK these are the negotiated features.
 * @param dev The device.
 * @param out Receives the driver's features.
 */
void vio_device_driver_features(const struct vio_device *dev, struct vio_features *out);

/**
 * @brief The negotiated features: the driver's features once FEATURES_OK
 *        is set, else the empty set. Safe from queue threads while live.
 * @param dev The device.
 * @param out Receives the negotiated features.
 */
void vio_device_features(const struct vio_device *dev, struct vio_features *out);

/**
 * @brief True if @p bit was negotiated (FEATURES_OK set and accepted).
 *        Safe from queue threads while live.
 * @param dev The device.
 * @param bit Feature bit number.
 * @return true if negotiated.
 */
bool vio_device_has_feature(const struct vio_device *dev, unsigned bit);

/**
 * @brief 32-bit window @p sel of the offer (DeviceFeatures /
 *        `device_feature`); 0 beyond bit 127.
 * @param dev The device.
 * @param sel Window: 0 for bits 0–31, 1 for 32–63, …
 * @return The window.
 */
uint32_t vio_device_offered_word(const struct vio_device *dev, uint32_t sel);

/**
 * @brief 32-bit window @p sel of the driver's features (PCI `driver_feature`
 *        reads); 0 beyond bit 127.
 * @param dev The device.
 * @param sel Window.
 * @return The window.
 */
uint32_t vio_device_driver_word(const struct vio_device *dev, uint32_t sel);

/**
 * @brief The driver writes window @p sel of its accepted features
 *        (DriverFeatures / `driver_feature`).
 *
 * The value is stored as written, unoffered bits included (PCI §4.1.4.3.1
 * allows presenting them); FEATURES_OK then fails for a set that is not a
 * subset of the offer (§2.2.2: the device MUST fail FEATURES_OK for a set it
 * does not accept), rather than masking bits the driver believes it has.
 * A non-zero value in a window beyond bit 127 is remembered the same way.
 * @param dev   The device.
 * @param sel   Window.
 * @param value The 32 bits.
 * @retval 0 Stored.
 * @retval -VIO_EDEVICE_STATE FEATURES_OK is already set (features are
 *         frozen, §3.1.1 step 5), or the device is FAILED: ignored.
 */
int vio_device_set_driver_word(struct vio_device *dev, uint32_t sel, uint32_t value);
/** @} */

/** @name Device status (control thread unless stated)
 * @{ */

/**
 * @brief The device status the driver reads (VIO_STATUS_* bits).
 *        Safe from any thread.
 * @param dev The device.
 * @return The status, DEVICE_NEEDS_RESET included.
 */
uint8_t vio_device_status(const struct vio_device *dev);

/**
 * @brief The driver writes the device status.
 *
 * 0 resets the device (vio_device_reset()). Otherwise the new value must
 * keep every bit already set (§2.1.1: the driver MUST NOT clear a bit) and
 * respect the order ACKNOWLEDGE → DRIVER → FEATURES_OK → DRIVER_OK (each
 * bit needs the ones before it in the resulting value); several steps in
 * one write are taken in that order. A refused write changes nothing.
 * - FEATURES_OK: accepted only for a subset of the offer with
 *   VIRTIO_F_VERSION_1 that the model does not veto; otherwise the other
 *   new bits are kept and FEATURES_OK reads back clear.
 * - DRIVER_OK: calls ::vio_device_ops::activate; not set while
 *   DEVICE_NEEDS_RESET is.
 * - FAILED: taken at any time (the device stops being live); afterwards
 *   only a reset is accepted.
 * - DEVICE_NEEDS_RESET is the device's bit: ignored in the written value.
 * - SUSPEND (with VIRTIO_F_SUSPEND negotiated and the device live): the
 *   device suspends (::vio_device_ops::suspend) and then shows SUSPEND set
 *   and DRIVER_OK clear; setting DRIVER_OK again resumes it (SUSPEND
 *   clears). The SUSPEND bit is ignored when the device is not live or the
 *   feature is not negotiated (§3.4.2: MUST ignore).
 * @param dev   The device.
 * @param value The value written.
 * @retval 0 Taken.
 * @retval -VIO_ESTATUS Refused: a cleared bit, a skipped step, or the
 *         undefined bit 5 (32); the status is unchanged. (Leaving
 *         DEVICE_NEEDS_RESET out of the value is not clearing it.)
 * @retval -VIO_EFEATURES FEATURES_OK refused: unoffered bits or no
 *         VIRTIO_F_VERSION_1.
 * @retval -VIO_EFEATURES_VETO FEATURES_OK refused by the model.
 * @retval -VIO_EDEVICE_STATE The device is FAILED (only 0 is taken), or
 *         DRIVER_OK while DEVICE_NEEDS_RESET is set.
 * @note Calls ops callbacks as described.
 */
int vio_device_set_status(struct vio_device *dev, uint8_t value);

/**
 * @brief Reset the device: what writing status 0 does.
 *
 * Deactivates a live device (::vio_device_ops::deactivate), releases every
 * queue (vio_devq_fini()) and returns it to its reset configuration
 * (size = maximum, addresses 0, disabled, vectors ::VIO_DEVICE_NO_VECTOR),
 * clears the status, the driver's features and the selectors of the
 * transport (::vio_device_transport::reset), then calls
 * ::vio_device_ops::reset. The configuration generation keeps counting.
 * @param dev The device.
 */
void vio_device_reset(struct vio_device *dev);

/**
 * @brief The model (or the embedder) cannot go on: set DEVICE_NEEDS_RESET
 *        and, if DRIVER_OK is set, send a configuration change
 *        notification (§2.1.2). Idempotent. Any thread.
 * @param dev The device.
 */
void vio_device_set_needs_reset(struct vio_device *dev);

/**
 * @brief True while the device is live: DRIVER_OK set, not suspended, not
 *        FAILED. Any thread.
 * @param dev The device.
 * @return true if live.
 */
bool vio_device_is_live(const struct vio_device *dev);
/** @} */

/** @name Configuration space
 * @{ */

/**
 * @brief Size of the configuration space (::vio_device_info::config_size).
 * @param dev The device.
 * @return Bytes.
 */
uint32_t vio_device_config_size(const struct vio_device *dev);

/**
 * @brief The driver reads @p len bytes of the configuration space at
 *        @p offset (control thread).
 * @param dev    The device.
 * @param offset Offset in the configuration space.
 * @param buf    Receives the bytes (wire order); zeroed on error.
 * @param len    Bytes, 1 .. 8.
 * @retval 0 Read.
 * @retval -VIO_EREG The range is not wholly inside the configuration space,
 *         or @p len is 0 or above 8.
 */
int vio_device_config_read(struct vio_device *dev, uint32_t offset, void *buf, uint32_t len);

/**
 * @brief The driver writes @p len bytes of the configuration space (passed
 *        to ::vio_device_ops::config_write). Control thread.
 * @param dev    The device.
 * @param offset Offset in the configuration space.
 * @param data   The bytes (wire order).
 * @param len    Bytes, 1 .. 8.
 * @retval 0 Passed to the model (or ignored: no config_write callback).
 * @retval -VIO_EREG Out of range, as vio_device_config_read().
 * @retval -VIO_EDEVICE_STATE The device is suspended or FAILED: ignored.
 */
int vio_device_config_write(struct vio_device *dev, uint32_t offset, const void *data,
			    uint32_t len);

/**
 * @brief The configuration generation (virtio-mmio ConfigGeneration, PCI
 *        `config_generation` takes the low 8 bits). Changes on every
 *        vio_device_config_changed(). Control thread.
 * @param dev The device.
 * @return The generation.
 */
uint32_t vio_device_config_generation(const struct vio_device *dev);

/**
 * @brief The device side changed its configuration space: advance the
 *        generation and send a configuration change notification (when
 *        DRIVER_OK is set; while suspended, when the device resumes,
 *        §3.4.2). Control thread.
 * @param dev The device.
 */
void vio_device_config_changed(struct vio_device *dev);

/**
 * @brief Copy @p len bytes into the configuration buffer at @p offset, then
 *        vio_device_config_changed(). Control thread (the VMM's "resize
 *        the disk" path).
 * @param dev    The device.
 * @param offset Offset in the configuration space.
 * @param data   The new bytes, wire order.
 * @param len    Bytes.
 * @retval 0 Updated.
 * @retval -VIO_EINVAL Out of range (nothing changed).
 */
int vio_device_config_update(struct vio_device *dev, uint32_t offset, const void *data,
			     uint32_t len);

/**
 * @brief The device-wide MSI-X vector (PCI `config_msix_vector`); stored
 *        only, reset to ::VIO_DEVICE_NO_VECTOR. Any thread.
 * @param dev The device.
 * @return The vector.
 */
uint16_t vio_device_config_vector(const struct vio_device *dev);

/**
 * @brief Store the device-wide MSI-X vector (the PCI model validates it
 *        against its table first). Control thread.
 * @param dev    The device.
 * @param vector The vector, or ::VIO_DEVICE_NO_VECTOR.
 */
void vio_device_set_config_vector(struct vio_device *dev, uint16_t vector);
/** @} */

/** @name Queue configuration (control thread unless stated)
 *
 * The PCI common configuration's `queue_*` fields and the virtio-mmio
 * `Queue*` registers map onto these one to one; the transport keeps its own
 * queue selector. A @p q beyond the queue count is refused with
 * ::VIO_EQUEUE_STATE by setters and reads as 0 from getters.
 * @{ */

/**
 * @brief Maximum size of queue @p q (QueueSizeMax); 0 if it does not exist.
 * @param dev The device.
 * @param q   Queue index.
 * @return The maximum, or 0.
 */
uint16_t vio_device_queue_max(const struct vio_device *dev, uint32_t q);

/**
 * @brief The queue size the driver chose (PCI `queue_size` reads; the
 *        maximum after reset). 0 if the queue does not exist; the written
 *        value (possibly invalid) otherwise.
 * @param dev The device.
 * @param q   Queue index.
 * @return The size.
 */
uint32_t vio_device_queue_size(const struct vio_device *dev, uint32_t q);

/**
 * @brief The driver sets the size of queue @p q.
 *
 * The value is stored even when invalid, so a later enable fails instead of
 * using a size the driver did not choose; whether it is valid for the ring
 * format (a power of two for split, §2.7) is checked at enable, once the
 * format is negotiated.
 * @param dev  The device.
 * @param q    Queue index.
 * @param size The size written.
 * @retval 0 Stored.
 * @retval -VIO_EQUEUE_SIZE Stored, but 0 or above the maximum: enabling
 *         will fail.
 * @retval -VIO_EQUEUE_STATE No such queue, or the queue is enabled (MMIO
 *         §4.2.2.2: the driver MUST NOT write it then); ignored.
 */
int vio_device_queue_set_size(struct vio_device *dev, uint32_t q, uint32_t size);

/** @brief The three ring areas of a queue. */
enum vio_device_area {
	VIO_DEVICE_AREA_DESC = 0,   /**< Descriptor area. */
	VIO_DEVICE_AREA_DRIVER = 1, /**< Driver area (split: available ring). */
	VIO_DEVICE_AREA_DEVICE = 2  /**< Device area (split: used ring). */
};

/**
 * @brief The driver sets 32 bits of a ring area's address (MMIO
 *        `Queue*Low`/`High`; PCI writes the two halves of a 64-bit field).
 * @param dev   The device.
 * @param q     Queue index.
 * @param area  Which area.
 * @param high  false: bits 0–31, true: bits 32–63.
 * @param value The 32 bits.
 * @retval 0 Stored.
 * @retval -VIO_EQUEUE_STATE No such queue, or the queue is enabled; ignored.
 * @retval -VIO_EINVAL @p area is not a ::vio_device_area.
 */
int vio_device_queue_set_addr32(struct vio_device *dev, uint32_t q, enum vio_device_area area,
				bool high, uint32_t value);

/**
 * @brief A ring area's address as the driver set it (0 after reset).
 * @param dev  The device.
 * @param q    Queue index.
 * @param area Which area.
 * @return The address.
 */
uint64_t vio_device_queue_addr(const struct vio_device *dev, uint32_t q, enum vio_device_area area);

/**
 * @brief True if queue @p q is enabled (QueueReady / `queue_enable`).
 * @param dev The device.
 * @param q   Queue index.
 * @return true if enabled.
 */
bool vio_device_queue_ready(const struct vio_device *dev, uint32_t q);

/**
 * @brief The driver enables (@p ready true) or disables queue @p q.
 *
 * Enable: needs FEATURES_OK (the ring format comes from the features), not
 * FAILED, no DEVICE_NEEDS_RESET; the size must be valid for the format.
 * The core creates the ring's device queue (vio_devq_init()) with the
 * negotiated features and the region table; if the device is live it calls
 * ::vio_device_ops::queue_enable. A failure leaves the queue disabled and,
 * when the driver's configuration is at fault (size, addresses outside
 * granted memory, misaligned rings), sets DEVICE_NEEDS_RESET: MMIO and PCI
 * drivers do not read the enable back, so the status is the only place
 * they can see it.
 *
 * Disable (MMIO QueueReady = 0, "to stop using the queue"): a live model
 * is stopped (::vio_device_ops::queue_stop), the device queue released; the
 * driver's size and addresses are kept. Disabling a disabled queue is a
 * no-op.
 * @param dev   The device.
 * @param q     Queue index.
 * @param ready Enable or disable.
 * @retval 0 Done.
 * @retval -VIO_EQUEUE_STATE No such queue; or enable before FEATURES_OK,
 *         after FAILED or with DEVICE_NEEDS_RESET set (nothing changed).
 * @retval -VIO_EQUEUE_SIZE Enable with a size invalid for the format
 *         (DEVICE_NEEDS_RESET set).
 * @retval <0 Enable: vio_devq_init()'s error (DEVICE_NEEDS_RESET set), or
 *         the model's queue_enable error (DEVICE_NEEDS_RESET set; the queue
 *         stays enabled so that the status explains it).
 */
int vio_device_queue_set_ready(struct vio_device *dev, uint32_t q, bool ready);

/**
 * @brief Enable queue @p q with its ring starting at position @p st rather
 *        than at the reset position: vio_device_queue_set_ready(true) with a
 *        vio_devq_set_state() between creating the device queue and handing
 *        it to the model (::vio_device_ops::queue_enable, or activate later).
 *
 * For transports that carry the ring position themselves (vhost-user
 * SET_VRING_BASE, a VMM restoring one queue). Split rings read the used
 * index from guest memory (vio_devq_set_state()); chains in flight in @p st
 * are the model's to re-submit (vio_devq_repop()).
 * @param dev The device.
 * @param q   Queue index.
 * @param st  The position to start from (copied).
 * @retval 0 Enabled at @p st.
 * @retval -VIO_EQUEUE_STATE No such queue, @p st NULL, the queue already
 *         enabled, or as vio_device_queue_set_ready() (nothing changed).
 * @retval -VIO_EINVAL vio_devq_set_state() refused @p st: the queue stays
 *         disabled and DEVICE_NEEDS_RESET is set.
 * @retval <0 Otherwise as vio_device_queue_set_ready() enabling.
 * @note Control thread; may call ::vio_device_ops::queue_enable.
 */
int vio_device_queue_enable_at(struct vio_device *dev, uint32_t q, const struct vio_ring_state *st);

/**
 * @brief The ring position of enabled queue @p q (vio_devq_get_state()):
 *        what vhost-user GET_VRING_BASE reports. Control thread.
 * @param dev The device.
 * @param q   Queue index.
 * @param st  Receives the position.
 * @retval 0 Read.
 * @retval -VIO_EQUEUE_STATE No such queue, or the queue is not enabled
 *         (@p st untouched).
 * @pre The model is not moving the queue (stopped, or served on this thread).
 */
int vio_device_queue_get_state(const struct vio_device *dev, uint32_t q, struct vio_ring_state *st);

/**
 * @brief Per-queue reset (VIRTIO_F_RING_RESET, §2.6.1): stop the model on
 *        the queue, release the device queue and return the queue's
 *        configuration to its reset values (size = maximum, addresses 0,
 *        disabled, vector ::VIO_DEVICE_NO_VECTOR). Completes before it
 *        returns, so QueueReset / `queue_reset` read back 0 afterwards.
 * @param dev The device.
 * @param q   Queue index.
 * @retval 0 Reset.
 * @retval -VIO_EQUEUE_STATE No such queue, or RING_RESET not negotiated
 *         (ignored).
 */
int vio_device_queue_reset(struct vio_device *dev, uint32_t q);

/**
 * @brief The MSI-X vector of queue @p q (PCI `queue_msix_vector`); stored
 *        only. Any thread.
 * @param dev The device.
 * @param q   Queue index.
 * @return The vector; ::VIO_DEVICE_NO_VECTOR after reset or for no queue.
 */
uint16_t vio_device_queue_vector(const struct vio_device *dev, uint32_t q);

/**
 * @brief Store the MSI-X vector of queue @p q (the PCI model validates it
 *        against its table first).
 * @param dev    The device.
 * @param q      Queue index.
 * @param vector The vector, or ::VIO_DEVICE_NO_VECTOR.
 * @retval 0 Stored.
 * @retval -VIO_EQUEUE_STATE No such queue.
 */
int vio_device_queue_set_vector(struct vio_device *dev, uint32_t q, uint16_t vector);

/**
 * @brief The queue's notification offset (PCI `queue_notify_off`), chosen
 *        by the device: the queue index unless the transport set another.
 * @param dev The device.
 * @param q   Queue index.
 * @return The offset; 0 for no queue.
 */
uint16_t vio_device_queue_notify_off(const struct vio_device *dev, uint32_t q);

/**
 * @brief The transport chooses queue @p q's notification offset (kept
 *        across resets).
 * @param dev The device.
 * @param q   Queue index.
 * @param off The offset.
 * @retval 0 Stored.
 * @retval -VIO_EQUEUE_STATE No such queue.
 */
int vio_device_queue_set_notify_off(struct vio_device *dev, uint32_t q, uint16_t off);

/**
 * @brief An available buffer notification from the driver, passed to
 *        ::vio_device_ops::queue_notify when the device is live and the
 *        queue enabled.
 * @param dev  The device.
 * @param q    Queue index (decoded by the transport: MMIO from the value,
 *             PCI from the notification address).
 * @param data The value written (notification data or the index).
 * @retval 0 Delivered.
 * @retval -VIO_EQUEUE_STATE No such queue, queue not enabled, or the device
 *         not live (§3.1.1: no notifications before DRIVER_OK); dropped.
 */
int vio_device_queue_notify(struct vio_device *dev, uint32_t q, uint32_t data);

/**
 * @brief Install a new region table for every queue (memory hot-plug,
 *        vhost-user SET_MEM_TABLE): vio_devq_set_mem_table() on each
 *        enabled queue; later enables use it too.
 * @param dev     The device.
 * @param regions The table (referenced); NULL if @p n is 0.
 * @param n       Entries.
 * @retval 0 Installed everywhere.
 * @retval <0 The first queue's error; queues before it have the new table,
 *         that one and later ones the old (the table given at init stays
 *         the one for later enables).
 * @pre No queue thread is using a queue (the model is stopped or suspended).
 */
int vio_device_set_mem_table(struct vio_device *dev, const struct vio_mem_region *regions,
			     uint32_t n);
/** @} */

/** @name Queue threads: the model's side of a live queue
 * @{ */

/**
 * @brief The device queue of enabled queue @p q (for vio_devq_pop() and
 *        friends), or NULL if the queue is not enabled or does not exist.
 *
 * Valid from ::vio_device_ops::activate / ::vio_device_ops::queue_enable to
 * ::vio_device_ops::deactivate / ::vio_device_ops::queue_stop.
 * @param dev The device.
 * @param q   Queue index.
 * @return The device queue, or NULL.
 */
struct vio_devq *vio_device_queue(struct vio_device *dev, uint32_t q);

/**
 * @brief Take the next chain of queue @p q: first the chains the
 *        transport re-submits (::vio_device_queue_hooks::resubmit, in the
 *        order a previous owner popped them), then vio_devq_pop().
 *
 * A model that sets ::vio_device_info::takes_resubmitted pops with this.
 * Queue thread, like vio_devq_pop().
 * @param dev      The device.
 * @param q        Queue index (enabled).
 * @param chain    Receives the chain; complete it with vio_devq_push() or
 *                 vio_device_queue_push().
 * @param segs     Receives its segments.
 * @param max_segs Room in @p segs.
 * @retval 0 A chain.
 * @retval -VIO_EQUEUE_STATE The queue is not enabled.
 * @retval <0 As vio_devq_pop() (-::VIO_EAGAIN: nothing available), or the
 *         hook's error for a re-submitted chain.
 */
int vio_device_queue_pop(struct vio_device *dev, uint32_t q, struct vio_chain *chain,
			 struct vio_chain_seg *segs, uint16_t max_segs);

/**
 * @brief True while queue @p q has re-submitted chains not yet taken
 *        (vio_device_queue_pop() returns them before the ring's).
 * @param dev The device.
 * @param q   Queue index.
 * @return true if chains wait to be re-submitted.
 */
bool vio_device_queue_resubmitting(const struct vio_device *dev, uint32_t q);

/**
 * @brief Send a used buffer notification for queue @p q now (through the
 *        transport), if the device is live. E.g. after a migration.
 * @param dev The device.
 * @param q   Queue index.
 */
void vio_device_queue_interrupt(struct vio_device *dev, uint32_t q);

/**
 * @brief After pushing: if the driver wants a notification
 *        (vio_devq_needs_notify()), send it.
 * @param dev The device.
 * @param q   Queue index.
 * @return true if a notification was sent.
 */
bool vio_device_queue_notify_used(struct vio_device *dev, uint32_t q);

/**
 * @brief Take up to @p n chains of queue @p q, as vio_device_queue_pop()
 *        would one by one: re-submitted chains first, then
 *        vio_devq_pop_batch() for the rest.
 *
 * Chain @c k goes to `chains[k]`, its segments to `segs[k * max_segs]`
 * onwards (as vio_devq_pop_batch()). Queue thread.
 * @param dev      The device.
 * @param q        Queue index (enabled).
 * @param chains   Receives the chains, up to @p n.
 * @param segs     Room for `n * max_segs` segments.
 * @param max_segs Room per chain.
 * @param n        Most chains to take; 0 is an empty batch (returns 0,
 *                 reads nothing).
 * @return The number of chains taken (1 to @p n), or, when none was, what
 *         vio_device_queue_pop() returned for the first (-::VIO_EAGAIN:
 *         nothing available; -::VIO_EQUEUE_STATE: the queue is not
 *         enabled); 0 if @p n is 0. A failure after the first chain is not
 *         returned: the next call reports it (as vio_devq_pop_batch()).
 */
int vio_device_queue_pop_batch(struct vio_device *dev, uint32_t q, struct vio_chain *chains,
			       struct vio_chain_seg *segs, uint16_t max_segs, unsigned n);

/**
 * @brief vio_devq_push_chains() then one vio_device_queue_notify_used():
 *        complete a batch of chains and make one notification decision.
 *
 * For a model that serves a kick by draining the queue: pop a batch
 * (vio_device_queue_pop_batch()), serve each chain, complete them all here.
 * On a ring error (a broken queue) the device sets DEVICE_NEEDS_RESET, as
 * vio_device_queue_push() does. Queue thread.
 * @param dev    The device.
 * @param q      Queue index.
 * @param chains The chains, as vio_device_queue_pop_batch() returned them.
 * @param lens   Bytes written into each chain's writable part.
 * @param n      Entries; 0 is an empty batch (returns 0, reads nothing,
 *               notifies nothing).
 * @retval 0 Pushed (or @p n is 0).
 * @retval -VIO_EQUEUE_STATE The queue is not enabled.
 * @retval <0 vio_devq_push_chains()'s error (nothing pushed, nothing
 *         notified).
 */
int vio_device_queue_push_chains(struct vio_device *dev, uint32_t q, const struct vio_chain *chains,
				 const uint32_t *lens, unsigned n);

/**
 * @brief vio_devq_push() then vio_device_queue_notify_used(): complete one
 *        chain and notify the driver if it asked for it.
 * @param dev     The device.
 * @param q       Queue index.
 * @param chain   A chain popped from vio_device_queue(@p dev, @p q).
 * @param written Bytes written into its writable part.
 * @retval 0 Pushed.
 * @retval -VIO_EQUEUE_STATE The queue is not enabled.
 * @retval <0 vio_devq_push()'s error (nothing pushed, nothing notified).
 */
int vio_device_queue_push(struct vio_device *dev, uint32_t q, const struct vio_chain *chain,
			  uint32_t written);

/**
 * @brief Report the result of a call on queue @p q's device queue: a peer
 *        error (vio_err_is_peer()) or ::VIO_EBROKEN sets DEVICE_NEEDS_RESET
 *        (vio_device_set_needs_reset()); anything else is left to the model.
 * @param dev The device.
 * @param q   Queue index.
 * @param err The result (0 or a negative code).
 * @return @p err, so it can wrap a call.
 */
int vio_device_queue_error(struct vio_device *dev, uint32_t q, int err);
/** @} */

/** @name Save and restore (migration). Control thread.
 *
 * The state is a self-describing little-endian byte string: status,
 * driver features, generation, vectors, the configuration buffer, and for
 * every queue its configuration and ring position (vio_devq_get_state()).
 * The model's own state (the chains it holds, its backend) is its own
 * business; see vio_device_restore().
 * @{ */

/**
 * @brief Bytes vio_device_save() writes for this device.
 * @param dev The device.
 * @return The size.
 */
size_t vio_device_state_size(const struct vio_device *dev);

/**
 * @brief Save the device's state into @p buf.
 * @param dev The device.
 * @param buf Receives vio_device_state_size() bytes.
 * @param len Bytes at @p buf.
 * @retval 0 Saved.
 * @retval -VIO_ENOSPC @p len too small.
 * @pre The model is not moving any queue (queue threads paused, or the
 *      device suspended), so the ring positions are those of a quiet
 *      device.
 */
int vio_device_save(const struct vio_device *dev, void *buf, size_t len);

/**
 * @brief Restore a state saved by vio_device_save() on a device created
 *        with the same description (type, queues, configuration size).
 *
 * A live device is deactivated and every queue released first (the model's
 * ::vio_device_ops::reset is not called: its state is restored separately,
 * and the transport's registers too), then the status, features,
 * configuration bytes and queues are restored: each enabled queue gets its
 * device queue (vio_devq_init() then vio_devq_set_state()). The blob is
 * checked as untrusted input: a status the state machine could not reach,
 * features not a subset of this device's offer, a queue size invalid for
 * the format, or a queue enabled before FEATURES_OK is refused. Finally, if
 * the saved device was live, ::vio_device_ops::activate is called: restore
 * the model's own state (e.g. the heads of chains it held, to take them again
 * with vio_devq_repop()) before calling this. The transport's registers are
 * the transport's own (e.g. vio_mmio_dev_restore()).
 * @param dev The device.
 * @param buf The saved state.
 * @param len Its length.
 * @retval 0 Restored.
 * @retval -VIO_ESTATE_BLOB Malformed or for another device; the device is
 *         left reset.
 * @retval <0 A queue could not be restored (vio_devq_init() /
 *         vio_devq_set_state() error); the device is left reset.
 */
int vio_device_restore(struct vio_device *dev, const void *buf, size_t len);
/** @} */

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_DEVICE_H */
