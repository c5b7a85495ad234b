/* SPDX-License-Identifier: MIT */
/**
 * @file driver.h
 * @brief Driver core: bring a device up through any transport front
 *        (virtio 1.4 §3.1.1), negotiate features, set up queues, read
 *        configuration, handle interrupts, reset, freeze and restore.
 *
 * \defgroup vio_driver Driver core (vio_drv)
 * @{
 * The driver core is transport-independent. A transport *front* (virtio-mmio:
 * mmio_front.h; virtio-pci: pci_front.h; later vhost-user) implements
 * ::vio_drv_transport_ops; a device driver (blk, rng, your own) calls the
 * functions below in this order:
 *
 * 1. vio_drv_init() over caller memory (no device access);
 * 2. vio_drv_negotiate(): reset (bounded wait), ACKNOWLEDGE, DRIVER, read the
 *    device features, keep those the driver supports, the driver's
 *    ::vio_drv_callbacks::validate hook, FEATURES_OK and its re-check;
 * 3. configuration reads (vio_drv_config_read() and friends) and
 *    vio_drv_queue_setup() for each queue (memory from the caller);
 * 4. vio_drv_ready(): DRIVER_OK. The device is live;
 * 5. data path: vio_vq_add() on the queue, vio_drv_kick(); on an interrupt
 *    vio_drv_interrupt() (one shared line, as virtio-mmio) or
 *    vio_drv_queue_interrupt() / vio_drv_config_interrupt() (per-vector).
 *
 * **Errors.** Any error during steps 2–4, and any protocol violation the
 * device commits later, writes FAILED to the device status (§3.1.1: "the
 * driver SHOULD set the FAILED status bit") and latches the driver failed:
 * later calls return the latched error until vio_drv_reset(). vio_drv_error()
 * and vio_drv_failed_step() tell what went wrong where.
 *
 * **Hostile device.** Every value read from the device is checked: queue size
 * maxima (0 = no such queue; above 32768, or not a power of two for a split
 * ring, is a violation), status after reset and after FEATURES_OK, device
 * features that change after FEATURES_OK, a device ID that changes, a
 * configuration generation that never settles. Every wait is bounded
 * (::vio_drv_config::reset_polls, ::vio_drv_config::config_retries).
 *
 * **Memory.** The library allocates nothing: the driver object lives in
 * caller memory sized by vio_drv_mem_size() / ::VIO_DRV_MEM_SIZE; each
 * queue's ring and bookkeeping memory comes with vio_drv_queue_setup().
 *
 * **Threads.** No locks inside. One thread at a time calls the functions of
 * one driver, except: after vio_drv_ready(), vio_drv_kick() and
 * vio_drv_notify() (each on a queue its caller owns) and one interrupt path
 * (vio_drv_interrupt() or the per-vector calls) may run concurrently with
 * each other. The callbacks run on the thread of the call that invokes them.
 */
#ifndef VIO_DRIVER_H
#define VIO_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/dma.h>
#include <virtio/features.h>
#include <virtio/queue.h>
#include <virtio/vq.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A driver core instance (opaque; lives in caller memory, see vio_drv_mem_size()). */
struct vio_drv;

/** @name Interrupt cause bits (virtio-mmio InterruptStatus, PCI ISR status)
 * @{ */
#define VIO_DRV_INT_VRING 1u  /**< A used-buffer notification (some queue). */
#define VIO_DRV_INT_CONFIG 2u /**< A configuration-change notification. */
/** @} */

/** @brief MSI-X "no vector" (virtio 1.4 §4.1.5.1.2, `VIRTIO_MSI_NO_VECTOR`). */
#define VIO_DRV_NO_VECTOR 0xffffu

/** @name Bounds of the waits (defaults of ::vio_drv_config)
 * @{ */
/** @brief Status (or queue reset) reads before a reset counts as timed out. */
#define VIO_DRV_DEFAULT_RESET_POLLS 1000u
/** @brief Microseconds passed to ::vio_drv_transport_ops::delay between two polls. */
#define VIO_DRV_DEFAULT_POLL_DELAY_US 1000u
/** @brief Configuration reads attempted while the generation keeps changing. */
#define VIO_DRV_DEFAULT_CONFIG_RETRIES 64u
/** @} */

/**
 * @brief What a transport front implements for the driver core.
 *
 * Every function gets the `ops_ctx` of ::vio_drv_config. Values are in host
 * order: the front does the little-endian conversions of its transport.
 * Functions return 0 or a negative `-VIO_E…` code; a front reports a value
 * the transport's protocol forbids with ::VIO_EDEVICE and an access it
 * cannot make (a configuration offset past the window, a width the bus lacks)
 * with ::VIO_EINVAL. The core validates everything a front returns, so a
 * front may pass device values through unchecked.
 *
 * The set fits virtio-mmio (§4.2.2), the PCI common configuration structure
 * (§4.1.4.3: feature windows, `num_queues`, `queue_size` read as the maximum,
 * `queue_enable`, `queue_reset`, MSI-X vectors, ISR read-to-clear) and the
 * vhost-user front-end messages (GET/SET_FEATURES, GET/SET_CONFIG,
 * SET_VRING_NUM/ADDR/ENABLE, RESET_DEVICE). Optional members may be NULL.
 */
struct vio_drv_transport_ops {
	/** @brief Read the device status (8 bits). */
	int (*get_status)(void *ctx, uint8_t *status);
	/** @brief Write the device status; 0 starts a device reset. */
	int (*set_status)(void *ctx, uint8_t status);
	/** @brief Read device feature bits 32·@p window .. 32·@p window + 31.
	 *         Called for windows 0 and 1, 2 and 3 when the driver has bits
	 *         there, and 4 (reserved bits, an alias check; see
	 *         vio_drv_negotiate()). A transport with fewer bits gives 0. */
	int (*get_device_features)(void *ctx, uint32_t window, uint32_t *bits);
	/** @brief Write the driver's accepted bits of window @p window. */
	int (*set_driver_features)(void *ctx, uint32_t window, uint32_t bits);
	/**
	 * @brief Read a configuration field of @p width bytes (1, 2, 4 or 8) at
	 *        @p offset; the field's value (little-endian in the device) in
	 *        host order. An 8-byte field may be read as two 4-byte halves,
	 *        low first (the core retries on a generation change).
	 */
	int (*config_read)(void *ctx, uint32_t offset, unsigned width, uint64_t *value);
	/** @brief Write a configuration field of @p width bytes (1, 2, 4 or 8). */
	int (*config_write)(void *ctx, uint32_t offset, unsigned width, uint64_t value);
	/** @brief Optional: the configuration generation (NULL: reads are atomic). */
	int (*config_generation)(void *ctx, uint32_t *generation);
	/** @brief Optional: the device type ID, read again each call (the core
	 *         checks that it never changes). */
	int (*device_id)(void *ctx, uint32_t *id);
	/** @brief Optional: the number of queues, where the transport says it
	 *         (PCI `num_queues`); NULL where it does not (virtio-mmio). */
	int (*num_queues)(void *ctx, uint16_t *num);
	/** @brief The maximum size of queue @p index as the device reports it
	 *         (0: no such queue). Raw: the core validates it. */
	int (*queue_max)(void *ctx, uint16_t index, uint32_t *max);
	/** @brief Program queue @p index: its size and the device-visible
	 *         addresses of its three ring parts (not yet enabled). */
	int (*queue_setup)(void *ctx, uint16_t index, uint16_t size, uint64_t desc, uint64_t driver,
			   uint64_t device);
	/** @brief Enable queue @p index (QueueReady / `queue_enable` = 1). */
	int (*queue_enable)(void *ctx, uint16_t index);
	/** @brief Optional (VIO_F_RING_RESET): start resetting queue @p index. */
	int (*queue_reset)(void *ctx, uint16_t index);
	/** @brief Optional, with @c queue_reset: whether the reset of queue
	 *         @p index has completed (*@p done true; the queue is then also
	 *         disabled). */
	int (*queue_reset_done)(void *ctx, uint16_t index, bool *done);
	/**
	 * @brief Send an available-buffer notification for queue @p index.
	 *        @p value is the queue index, or with VIO_F_NOTIFICATION_DATA
	 *        the notification data (§2.9) whose low 16 bits are the index
	 *        (a front with VIO_F_NOTIF_CONFIG_DATA replaces them).
	 */
	int (*notify)(void *ctx, uint16_t index, uint32_t value);
	/** @brief Read the pending interrupt causes (::VIO_DRV_INT_VRING,
	 *         ::VIO_DRV_INT_CONFIG; other bits are ignored). */
	int (*interrupt_status)(void *ctx, uint32_t *bits);
	/** @brief Optional: acknowledge the causes in @p bits (NULL where
	 *         reading the status clears it, as the PCI ISR). */
	int (*interrupt_ack)(void *ctx, uint32_t bits);
	/** @brief Optional (MSI-X): assign the configuration-change vector;
	 *         *@p readback receives what the device kept. */
	int (*set_config_vector)(void *ctx, uint16_t vector, uint16_t *readback);
	/** @brief Optional (MSI-X): assign queue @p index's vector before it is
	 *         enabled; *@p readback receives what the device kept. */
	int (*set_queue_vector)(void *ctx, uint16_t index, uint16_t vector, uint16_t *readback);
	/** @brief Optional: wait about @p us microseconds between two polls of
	 *         a reset (NULL: poll back to back). Cannot fail. */
	void (*delay)(void *ctx, uint32_t us);
};

/**
 * @brief The device driver's hooks. All optional; each gets `cb_ctx`.
 */
struct vio_drv_callbacks {
	/**
	 * @brief Before FEATURES_OK (Linux's `virtio_driver.validate`): inspect
	 *        and narrow the features about to be accepted.
	 *
	 * May read the configuration (vio_drv_config_read()) and clear bits in
	 * @p features; setting a bit, or clearing VIO_F_VERSION_1 or a required
	 * bit, fails negotiation with ::VIO_ENEGOTIATE.
	 * @return 0, or a negative code to refuse the device (negotiation
	 *         fails with it and FAILED is written).
	 */
	int (*validate)(void *ctx, struct vio_drv *drv, struct vio_features *features);
	/** @brief The configuration space changed (a configuration-change
	 *         interrupt without DEVICE_NEEDS_RESET). */
	void (*config_changed)(void *ctx, struct vio_drv *drv);
	/** @brief The device set DEVICE_NEEDS_RESET (reported once; reset the
	 *         device with vio_drv_reset() or freeze and restore it). */
	void (*needs_reset)(void *ctx, struct vio_drv *drv);
	/** @brief A used-buffer interrupt for live queue @p index: reap it with
	 *         vio_vq_get(). With a shared line (virtio-mmio) it is called
	 *         for every live queue. */
	void (*queue_interrupt)(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq);
};

/** @brief How to create a driver core. Zero-initialise, then fill in. */
struct vio_drv_config {
	const struct vio_drv_transport_ops *ops; /**< The transport front (required). */
	void *ops_ctx;				 /**< Passed to @c ops. */
	/** Queue slots: queue indices 0 .. num_queues-1 can be set up (≥ 1). */
	uint16_t num_queues;
	/**
	 * Device-specific and platform bits the driver supports (e.g.
	 * VIO_F_ACCESS_PLATFORM). The core adds VIO_F_VERSION_1 and the ring
	 * features of vio_ring_features() except: VIO_F_RING_PACKED only if
	 * set here (the driver is ready for either format), VIO_F_RING_RESET
	 * only if the front has `queue_reset`. VIO_F_SUSPEND is accepted if
	 * set here.
	 */
	struct vio_features features;
	/** Bits that must be negotiated (VIO_F_VERSION_1 always is). */
	struct vio_features required;
	/** The device type the driver drives (spec.h VIO_ID_*); 0: any. */
	uint32_t device_id;
	const struct vio_drv_callbacks *cb; /**< Hooks; may be NULL. */
	void *cb_ctx;			    /**< Passed to the hooks. */
	/** Default address conversion for queues (vio_vq_config::dma_ops). */
	const struct vio_dma_ops *dma_ops;
	void *dma_ctx; /**< Passed to @c dma_ops. */
	/** Assign MSI-X vectors (needs the front's vector ops): the
	 * configuration vector below and each queue's
	 * ::vio_drv_queue_config::vector. */
	bool use_vectors;
	uint16_t config_vector; /**< With @c use_vectors: the configuration vector. */
	/** Status reads a reset may take (0: ::VIO_DRV_DEFAULT_RESET_POLLS). */
	uint32_t reset_polls;
	/** Delay between polls (0: ::VIO_DRV_DEFAULT_POLL_DELAY_US), through
	 * ::vio_drv_transport_ops::delay when the front has one. The longest
	 * wait is about reset_polls × poll_delay_us. */
	uint32_t poll_delay_us;
	/** Reads attempted while the generation changes (0:
	 * ::VIO_DRV_DEFAULT_CONFIG_RETRIES). */
	uint32_t config_retries;
};

/** @brief Where a driver failed (vio_drv_failed_step()). */
enum vio_drv_step {
	VIO_DRV_STEP_NONE = 0,	  /**< Not failed. */
	VIO_DRV_STEP_RESET,	  /**< Reset, or its wait for status 0. */
	VIO_DRV_STEP_IDENTIFY,	  /**< Device ID missing, unexpected or changed. */
	VIO_DRV_STEP_FEATURES,	  /**< Reading or negotiating features (validate hook included). */
	VIO_DRV_STEP_FEATURES_OK, /**< FEATURES_OK, its re-read and the feature re-check. */
	VIO_DRV_STEP_CONFIG,	  /**< A configuration read or write. */
	VIO_DRV_STEP_QUEUE,	  /**< Queue setup, reset or re-enable. */
	VIO_DRV_STEP_DRIVER_OK,	  /**< DRIVER_OK or its check. */
	VIO_DRV_STEP_RUNNING,	  /**< Interrupt handling or status check of a live device. */
	VIO_DRV_STEP_SUSPEND	  /**< Suspend or resume. */
};

/** @brief The driver's state (vio_drv_state()). */
enum vio_drv_state {
	VIO_DRV_IDLE = 0,    /**< Created or reset: vio_drv_negotiate() next. */
	VIO_DRV_FEATURES_OK, /**< Negotiated: configuration and queue setup. */
	VIO_DRV_LIVE,	     /**< DRIVER_OK written. */
	VIO_DRV_SUSPENDED,   /**< Suspended with VIO_F_SUSPEND (vio_drv_suspend()). */
	VIO_DRV_FROZEN,	     /**< Reset by vio_drv_freeze(): vio_drv_restore() next. */
	VIO_DRV_FAILED	     /**< FAILED written: only vio_drv_reset() helps. */
};

/** @brief Alignment the memory given to vio_drv_init() must have. */
#define VIO_DRV_MEM_ALIGN 8
/** @cond VIO_INTERNAL */
#define VIO__DRV_FIXED_BYTES 256u /* checked against the real struct */
#define VIO__DRV_PER_QUEUE_BYTES 64u
/** @endcond */
/** @brief Bytes of driver memory for @p num_queues queue slots, as a
 *         constant expression (for `static` storage). */
#define VIO_DRV_MEM_SIZE(num_queues)                                                               \
	((size_t)VIO__DRV_FIXED_BYTES + (size_t)VIO__DRV_PER_QUEUE_BYTES * (size_t)(num_queues))

/**
 * @brief Bytes of one block holding all three ring parts of a queue of
 *        @p size entries, for either format (the split layout is the larger):
 *        descriptors, then the driver area, then the device area (4-aligned).
 *        The block must be 16-byte aligned. See ::vio_drv_queue_config::ring.
 */
#define VIO_DRV_RING_SIZE(size)                                                                    \
	((size_t)16 * (size_t)(size) +                                                             \
	 (((size_t)6 + (size_t)2 * (size_t)(size) + 3u) & ~(size_t)3) + (size_t)6 +                \
	 (size_t)8 * (size_t)(size))

/** @brief Memory and options for one queue (vio_drv_queue_setup()). Zero-initialise. */
struct vio_drv_queue_config {
	/** Entries the memory below is sized for (split: a power of two). The
	 * queue gets the smaller of this and the device's maximum. */
	uint16_t size;
	/** One 16-byte aligned block of ::VIO_DRV_RING_SIZE(size) bytes for
	 * the three ring parts; or NULL and the three pointers below. */
	void *ring;
	void *desc;	   /**< Without @c ring: as ::vio_vq_config::desc. */
	void *driver_area; /**< Without @c ring: as ::vio_vq_config::driver_area. */
	void *device_area; /**< Without @c ring: as ::vio_vq_config::device_area. */
	/** Queue bookkeeping, ::VIO_VQ_MEM_ALIGN-aligned, vio_vq_mem_size()
	 * bytes for @c size (::VIO_VQ_MEM_SIZE without a release hook). */
	void *vq_mem;
	size_t vq_mem_size;    /**< Bytes at @c vq_mem. */
	void *indirect_pool;   /**< As ::vio_vq_config::indirect_pool (optional). */
	uint16_t indirect_max; /**< As ::vio_vq_config::indirect_max. */
	uint16_t indirect_min; /**< As ::vio_vq_config::indirect_min. */
	/** Address conversion for this queue (NULL: the driver's default). */
	const struct vio_dma_ops *dma_ops;
	void *dma_ctx;	 /**< Passed to @c dma_ops. */
	uint16_t vector; /**< MSI-X vector (only with ::vio_drv_config::use_vectors). */
};

/**
 * @brief One configuration field for vio_drv_config_read_fields().
 */
struct vio_drv_config_field {
	uint32_t offset; /**< Byte offset in the device configuration space. */
	unsigned width;	 /**< 1, 2, 4 or 8. */
	uint64_t value;	 /**< Receives the field's value (host order). */
};

/**
 * @brief Bytes of memory a driver with @p num_queues queue slots needs.
 * @param num_queues Queue slots (≥ 1).
 * @return ::VIO_DRV_MEM_SIZE(num_queues), or 0 for 0 slots.
 */
size_t vio_drv_mem_size(uint16_t num_queues);

/**
 * @brief Create a driver core in @p mem. Touches no device register.
 * @param drvp     Receives the driver (a pointer into @p mem).
 * @param mem      ::VIO_DRV_MEM_ALIGN-aligned memory owned by the driver
 *                 until the caller stops using it.
 * @param mem_size Bytes at @p mem, at least vio_drv_mem_size().
 * @param cfg      Configuration; copied (the ops and callback tables it
 *                 points to are referenced and must outlive the driver).
 * @retval 0 Success.
 * @retval -VIO_EINVAL NULL pointer, missing required op, 0 queue slots,
 *         misaligned or too little memory.
 * @note Calls no callbacks.
 */
int vio_drv_init(struct vio_drv **drvp, void *mem, size_t mem_size,
		 const struct vio_drv_config *cfg);

/**
 * @brief Steps 1–6 of §3.1.1: reset and wait for status 0, ACKNOWLEDGE,
 *        DRIVER, read the device features, accept the supported subset,
 *        run the validate hook, write the driver features and FEATURES_OK,
 *        re-read the status and the device features.
 *
 * **Feature windows.** Windows 0 and 1 (bits 0–63) are always read and
 * written. Windows 2 and 3 (bits 64–127) only when
 * ::vio_drv_config::features has a bit in them (up to the highest such
 * window): the driver ignores bits it does not know (§2.2.1), and some
 * devices alias every non-zero feature select onto window 1 (QEMU's
 * virtio-mmio), so reading windows 2–3 unasked would show bits 32–63 again
 * as bits 64–127. When windows 2–3 are read, window 4 (bits 128–159,
 * reserved by §2.2) is read once too: if it is non-zero and equal to
 * window 1 the device aliases, and windows 2–3 count as offering nothing
 * (not written either). The order of writes is highest window first.
 *
 * On error FAILED is written and the driver latches failed.
 * @param drv The driver, ::VIO_DRV_IDLE.
 * @retval 0 Negotiated: vio_drv_features() holds the result.
 * @retval -VIO_EINVAL Not idle.
 * @retval -VIO_ETIMEOUT Status did not read 0 within the bounded wait.
 * @retval -VIO_ENODEV The device reports ID 0, or another type than
 *         ::vio_drv_config::device_id: not this driver's device. The device
 *         is left reset, FAILED is not written; the driver is failed.
 * @retval -VIO_ENEGOTIATE VIO_F_VERSION_1 or a required bit is not offered,
 *         the validate hook broke a rule, or the device cleared FEATURES_OK.
 * @retval -VIO_EDEVICE Device ID other than expected or changing, status
 *         bits lost, device features changed after FEATURES_OK.
 * @retval <0 A transport or validate-hook error, passed through.
 * @note Calls the transport ops and ::vio_drv_callbacks::validate.
 */
int vio_drv_negotiate(struct vio_drv *drv);

/**
 * @brief The validated maximum size of queue @p index.
 * @param drv   The driver, negotiated (or live: for a queue set up later).
 * @param index Queue index (< the configured slots).
 * @param max   Receives the maximum (1 .. 32768; a power of two for split).
 * @retval 0 Success.
 * @retval -VIO_EINVAL Bad index or state.
 * @retval -VIO_ENODEV The device has no such queue (maximum 0). Not latched.
 * @retval -VIO_EDEVICE Maximum above 32768, or not a power of two for a
 *         split ring (FAILED written).
 */
int vio_drv_queue_max(struct vio_drv *drv, uint16_t index, uint16_t *max);

/**
 * @brief Set up queue @p index: create its driver queue over the caller's
 *        memory (vio_vq_init()), convert and program the ring addresses,
 *        assign its vector, enable it.
 *
 * Allowed after negotiation and before vio_drv_ready(), or on a live device
 * for a queue that vio_drv_queue_reset() reset (re-enable with new memory or
 * size, §2.6.1.2). On error FAILED is written, except for ::VIO_EINVAL.
 * @param drv   The driver.
 * @param index Queue index.
 * @param qc    Memory and options; the memory belongs to the queue until
 *              the device is reset (vio_drv_reset()) or the queue is reset.
 * @param vqp   Receives the queue (also vio_drv_vq()); may be NULL.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Bad state, index, size, memory or alignment (not latched).
 * @retval -VIO_ENODEV The device has no such queue.
 * @retval -VIO_EDEVICE The device's maximum is out of range.
 * @retval -VIO_ENOSPC The device refused the MSI-X vector.
 * @retval <0 An error of the transport or of the address conversion.
 * @note Calls the transport ops and the queue's `to_device` (three times).
 */
int vio_drv_queue_setup(struct vio_drv *drv, uint16_t index, const struct vio_drv_queue_config *qc,
			struct vio_vq **vqp);

/**
 * @brief Step 8 of §3.1.1: write DRIVER_OK, then check the status and the
 *        device ID once more.
 * @param drv The driver, negotiated.
 * @retval 0 The device is live.
 * @retval -VIO_EINVAL Not negotiated.
 * @retval -VIO_ENEEDS_RESET The device set DEVICE_NEEDS_RESET.
 * @retval -VIO_EDEVICE The status lost bits or the device ID changed.
 * @retval <0 A transport error.
 */
int vio_drv_ready(struct vio_drv *drv);

/**
 * @brief Give up on the device: write FAILED (status with the FAILED bit)
 *        and latch @p reason (e.g. the device's configuration is unusable).
 * @param drv    The driver.
 * @param reason A negative code for vio_drv_error() (positive or 0 become
 *               -::VIO_EINVAL).
 * @return The latched error (negative).
 */
int vio_drv_fail(struct vio_drv *drv, int reason);

/**
 * @brief Reset the device (bounded wait) and return the driver to
 *        ::VIO_DRV_IDLE: queues are forgotten and their ring-address
 *        conversions released. Works from any state, failed included.
 *
 * Outstanding buffers are not returned: take them back with
 * vio_vq_detach_unused() after this call (the device no longer uses them)
 * before the queue memory is reused.
 * @param drv The driver.
 * @retval 0 The device reads status 0.
 * @retval -VIO_ETIMEOUT It did not within the bounded wait (the
 *         driver stays failed).
 * @retval <0 A transport error.
 */
int vio_drv_reset(struct vio_drv *drv);

/**
 * @brief The driver's state.
 * @param drv The driver.
 * @return Its ::vio_drv_state.
 */
enum vio_drv_state vio_drv_state(const struct vio_drv *drv);

/**
 * @brief The error that failed the driver.
 * @param drv The driver.
 * @return 0 if not failed, else the negative latched code.
 */
int vio_drv_error(const struct vio_drv *drv);

/**
 * @brief The step that failed.
 * @param drv The driver.
 * @return ::VIO_DRV_STEP_NONE if not failed.
 */
enum vio_drv_step vio_drv_failed_step(const struct vio_drv *drv);

/**
 * @brief The negotiated features (valid from ::VIO_DRV_FEATURES_OK on).
 * @param drv The driver.
 * @return The feature set written with FEATURES_OK (empty before).
 */
struct vio_features vio_drv_features(const struct vio_drv *drv);

/**
 * @brief The features the device offered at the last negotiation, as far
 *        as the driver read them: bits 0–63 always, bits 64–127 only where
 *        vio_drv_negotiate() read windows 2–3 (the driver supports a bit
 *        there and the device does not alias them); elsewhere 0.
 * @param drv The driver.
 * @return The device's feature set (empty before negotiation).
 */
struct vio_features vio_drv_device_features(const struct vio_drv *drv);

/**
 * @brief True if @p bit was negotiated.
 * @param drv The driver.
 * @param bit Feature bit number.
 * @return true if @p bit is in vio_drv_features().
 */
bool vio_drv_has_feature(const struct vio_drv *drv, unsigned bit);

/**
 * @brief The ring format the negotiated features select.
 * @param drv The driver.
 * @return ::VIO_RING_PACKED if VIO_F_RING_PACKED was negotiated, else split.
 */
enum vio_ring_format vio_drv_ring_format(const struct vio_drv *drv);

/**
 * @brief The device type ID read at negotiation (0 if the front has no
 *        `device_id` op or before negotiation).
 * @param drv The driver.
 * @return The device ID.
 */
uint32_t vio_drv_device_id(const struct vio_drv *drv);

/**
 * @brief The number of queues the transport reports (PCI `num_queues`).
 * @param drv The driver.
 * @param num Receives the count.
 * @retval 0 Success.
 * @retval -VIO_EINVAL The transport does not report it (virtio-mmio: the
 *         device type's configuration or rules say how many there are).
 * @retval <0 A transport error.
 */
int vio_drv_num_queues(struct vio_drv *drv, uint16_t *num);

/**
 * @brief The driver queue of slot @p index.
 * @param drv   The driver.
 * @param index Queue index.
 * @return The queue, or NULL if it is not set up.
 */
struct vio_vq *vio_drv_vq(const struct vio_drv *drv, uint16_t index);

/**
 * @brief Read one configuration field, retrying while the generation
 *        changes (§2.5.1), at most ::vio_drv_config::config_retries times.
 * @param drv    The driver (negotiating, negotiated or live).
 * @param offset Byte offset in the device configuration space.
 * @param width  1, 2, 4 or 8 bytes; @p offset must be a multiple of
 *               min(width, 4).
 * @param value  Receives the value in host order.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Bad width, alignment, state, or an access the front
 *         refuses (offset past the configuration window).
 * @retval -VIO_EGENERATION The generation never settled (FAILED written).
 * @retval <0 A transport error.
 */
int vio_drv_config_read(struct vio_drv *drv, uint32_t offset, unsigned width, uint64_t *value);

/**
 * @brief Read several fields as one consistent snapshot (one generation).
 * @param drv    The driver.
 * @param fields The fields; each @c value receives its field.
 * @param n      Number of fields.
 * @return As vio_drv_config_read().
 */
int vio_drv_config_read_fields(struct vio_drv *drv, struct vio_drv_config_field *fields,
			       unsigned n);

/**
 * @brief Read @p len bytes of 8-bit fields (a byte array such as a MAC
 *        address or a serial number) as one consistent snapshot.
 * @param drv    The driver.
 * @param offset Byte offset.
 * @param buf    Receives the bytes.
 * @param len    Bytes to read.
 * @return As vio_drv_config_read().
 */
int vio_drv_config_read_bytes(struct vio_drv *drv, uint32_t offset, void *buf, size_t len);

/**
 * @brief Write one configuration field (after FEATURES_OK: §3.1.1 step 4
 *        forbids writes before).
 * @param drv    The driver (negotiated or live).
 * @param offset Byte offset.
 * @param width  1, 2, 4 or 8.
 * @param value  The value in host order.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Bad width, alignment, state or access.
 * @retval <0 A transport error.
 */
int vio_drv_config_write(struct vio_drv *drv, uint32_t offset, unsigned width, uint64_t value);

/**
 * @brief Notify the device about queue @p index if the ring asks for it
 *        (vio_vq_kick_prepare()), with notification data when negotiated.
 * @param drv   The driver, live.
 * @param index A live queue.
 * @retval 0 Notified or no notification needed.
 * @retval -VIO_EINVAL Not live or no such queue.
 * @retval <0 A transport error.
 */
int vio_drv_kick(struct vio_drv *drv, uint16_t index);

/**
 * @brief What vio_drv_poll_used() calls between two polls: pause (a CPU
 *        relax or wait-for-event instruction, a short delay, a yield) and
 *        say whether to keep waiting.
 * @param ctx The `relax_ctx` given to vio_drv_poll_used().
 * @return true to poll again, false to give up (a deadline passed): the
 *         wait then ends as if its polls were used up.
 */
typedef bool (*vio_drv_relax_fn)(void *ctx);

/**
 * @brief Wait by polling, bounded, until queue @p index has a completion
 *        to reap; for a driver without interrupts (bare metal, a boot
 *        loader, a polled-mode loop).
 *
 * Checks the used ring (vio_vq_has_used()) up to @p max_polls times (at
 * least once), calling @p relax between two checks. Reaps nothing: on 0,
 * take the completion with vio_vq_get() or the device helper's get call
 * (vio_blk_drv_get(), vio_rng_drv_get()), which also validate it. The
 * usual sequence, with interrupts suppressed once (vio_vq_disable_intr()):
 * @code
 * rc = vio_blk_drv_read(&blk, &req, sector, buf, 512); // add the request
 * if (rc == 0) rc = vio_drv_kick(drv, 0);              // notify if needed
 * if (rc == 0) rc = vio_drv_poll_used(drv, 0, 1000000, my_relax, &deadline);
 * if (rc == 0) rc = vio_blk_drv_get(&blk, &done);      // reap and check
 * @endcode
 * When the polls run out (or @p relax says stop) the device status is read
 * once: a device that set DEVICE_NEEDS_RESET or lost status bits is
 * reported as such rather than as a timeout.
 *
 * Memory ordering is the ring's: vio_vq_has_used() loads the used index
 * with acquire semantics (port.h), so the completion's contents are
 * visible when this returns 0. @p relax need not contain a barrier.
 * @param drv       The driver, live.
 * @param index     A live queue.
 * @param max_polls Most checks of the used ring (0 counts as 1).
 * @param relax     Called between checks; NULL: check back to back (the
 *                  bound is then @p max_polls alone).
 * @param relax_ctx Passed to @p relax.
 * @retval 0 A completion is waiting.
 * @retval -VIO_EINVAL NULL driver, not live, or no such live queue.
 * @retval -VIO_ETIMEOUT Nothing completed within the polls.
 * @retval -VIO_ENEEDS_RESET Nothing completed and the device set
 *         DEVICE_NEEDS_RESET.
 * @retval -VIO_EDEVICE Nothing completed and the status lost bits the
 *         driver set (FAILED written, latched).
 * @retval <0 The queue's broken reason (vio_vq_broken_reason()) if the
 *         queue is broken; the latched error of a failed driver; a
 *         transport error from the status read.
 * @note Thread-safety: as vio_drv_kick() — the caller owns the queue. Calls
 *       @p relax and, at the end of a fruitless wait, the transport's
 *       get_status.
 */
int vio_drv_poll_used(struct vio_drv *drv, uint16_t index, uint32_t max_polls,
		      vio_drv_relax_fn relax, void *relax_ctx);

/**
 * @brief Notify the device about queue @p index unconditionally.
 * @param drv   The driver, live.
 * @param index A live queue.
 * @return As vio_drv_kick().
 */
int vio_drv_notify(struct vio_drv *drv, uint16_t index);

/**
 * @brief Handle an interrupt of a shared line (virtio-mmio, PCI INTx): read
 *        and acknowledge the causes, call ::vio_drv_callbacks::queue_interrupt
 *        for each live queue on a used-buffer cause and handle a
 *        configuration change as vio_drv_config_interrupt() does.
 * @param drv    The driver.
 * @param causes Receives the ::VIO_DRV_INT_VRING / ::VIO_DRV_INT_CONFIG bits
 *               seen (may be NULL). 0: not this device's interrupt.
 * @retval 0 Handled.
 * @retval -VIO_ENEEDS_RESET The device set DEVICE_NEEDS_RESET.
 * @retval -VIO_EDEVICE The status lost bits the driver set (latched).
 * @retval <0 A transport error.
 */
int vio_drv_interrupt(struct vio_drv *drv, uint32_t *causes);

/**
 * @brief Handle a configuration-change notification (its own MSI-X vector,
 *        or called by vio_drv_interrupt()): read the status; with
 *        DEVICE_NEEDS_RESET call ::vio_drv_callbacks::needs_reset (once),
 *        else ::vio_drv_callbacks::config_changed.
 * @param drv The driver.
 * @return As vio_drv_check_status().
 */
int vio_drv_config_interrupt(struct vio_drv *drv);

/**
 * @brief Handle a used-buffer notification of queue @p index (its own
 *        MSI-X vector): calls ::vio_drv_callbacks::queue_interrupt.
 * @param drv   The driver.
 * @param index Queue index (ignored if the queue is not live).
 */
void vio_drv_queue_interrupt(struct vio_drv *drv, uint16_t index);

/**
 * @brief Read the status and check it: DEVICE_NEEDS_RESET set, or bits the
 *        driver set now missing.
 * @param drv The driver.
 * @retval 0 Fine.
 * @retval -VIO_ENEEDS_RESET DEVICE_NEEDS_RESET is set (not latched; the
 *         driver should reset or freeze/restore the device).
 * @retval -VIO_EDEVICE Bits the driver set are missing (FAILED written).
 * @retval <0 The latched error of a failed driver, or a transport error.
 */
int vio_drv_check_status(struct vio_drv *drv);

/**
 * @brief Reset live queue @p index alone (VIO_F_RING_RESET, §2.6.1): start
 *        the reset, wait for it (bounded), release the ring-address
 *        conversions. Then take buffers back with vio_vq_detach_unused()
 *        and re-enable the queue with vio_drv_queue_reenable() (same memory)
 *        or vio_drv_queue_setup() (new memory or size).
 * @param drv   The driver, live.
 * @param index A live queue.
 * @retval 0 The queue is reset.
 * @retval -VIO_EINVAL Not live, not set up, or VIO_F_RING_RESET not
 *         negotiated / not supported by the front.
 * @retval -VIO_ETIMEOUT The reset did not complete (FAILED written).
 * @retval <0 A transport error.
 */
int vio_drv_queue_reset(struct vio_drv *drv, uint16_t index);

/**
 * @brief Re-enable a queue reset by vio_drv_queue_reset() with its previous
 *        memory and size: vio_vq_reset() (outstanding tokens are forgotten:
 *        detach them first), program, enable.
 * @param drv   The driver, live.
 * @param index A reset queue.
 * @return As vio_drv_queue_setup().
 */
int vio_drv_queue_reenable(struct vio_drv *drv, uint16_t index);

/**
 * @brief Freeze (before a system suspend): reset the device (bounded wait),
 *        keeping the negotiated features and every queue's memory and size.
 *        Take buffers back with vio_vq_detach_unused() afterwards.
 * @param drv The driver, live.
 * @retval 0 ::VIO_DRV_FROZEN.
 * @retval -VIO_EINVAL Not live.
 * @retval -VIO_ETIMEOUT The reset did not complete (FAILED written).
 */
int vio_drv_freeze(struct vio_drv *drv);

/**
 * @brief Restore a frozen device: the initialization sequence again with
 *        the same features (all must still be offered) and the same queues
 *        (each vio_vq_reset(): outstanding tokens are forgotten), then
 *        DRIVER_OK.
 * @param drv The driver, frozen.
 * @retval 0 Live again.
 * @retval -VIO_EINVAL Not frozen.
 * @retval -VIO_ENEGOTIATE The device no longer offers a negotiated feature,
 *         or refused FEATURES_OK.
 * @retval <0 As vio_drv_negotiate(), vio_drv_queue_setup(), vio_drv_ready().
 */
int vio_drv_restore(struct vio_drv *drv);

/**
 * @brief Suspend a live device (VIO_F_SUSPEND, §3.4): set SUSPEND and wait
 *        (bounded) until the status shows SUSPEND set and DRIVER_OK clear.
 *        Do not add buffers or notify until vio_drv_resume().
 * @param drv The driver, live, VIO_F_SUSPEND negotiated.
 * @retval 0 ::VIO_DRV_SUSPENDED.
 * @retval -VIO_EINVAL Not live or not negotiated.
 * @retval -VIO_ENEEDS_RESET The device failed to suspend and set DEVICE_NEEDS_RESET.
 * @retval -VIO_ETIMEOUT The device did not suspend in the bounded wait
 *         (FAILED written).
 */
int vio_drv_suspend(struct vio_drv *drv);

/**
 * @brief Resume a suspended device: set DRIVER_OK and wait (bounded) until
 *        SUSPEND reads clear and DRIVER_OK set.
 * @param drv The driver, suspended.
 * @return As vio_drv_suspend().
 */
int vio_drv_resume(struct vio_drv *drv);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_DRIVER_H */
