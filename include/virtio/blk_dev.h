/* SPDX-License-Identifier: MIT */
/**
 * @file blk_dev.h
 * @brief virtio-blk device model: parse and validate requests popped from a
 *        device queue, hand them to a backend, complete them in any order.
 *
 * \defgroup vio_blk_dev virtio-blk device model
 * @{
 * Layer 5 of the design, device side. It uses only the device queue
 * (devq.h, chain.h) and plugs into a device core with a few calls:
 *
 * | Device core event                | Call |
 * |----------------------------------|------|
 * | offer features                   | vio_blk_dev_features() |
 * | build / read config space        | vio_blk_dev_fill_config() |
 * | driver writes config space       | vio_blk_dev_config_write() |
 * | FEATURES_OK                      | vio_blk_dev_set_features() |
 * | queue enabled                    | vio_blk_queue_init() |
 * | queue notify                     | vio_blk_queue_process() |
 * | backend finished a request       | vio_blk_req_complete() |
 * | device or queue reset            | vio_blk_queue_reset() (backend idle first) |
 *
 * A VMM serving a disk image:
 * @code
 * struct vio_blk_dev_desc d = {0};
 * d.capacity = image_bytes / 512;
 * d.seg_max = 126;
 * d.flush = true;
 * vio_blk_dev_features(&d, &offer);           // device-type bits to offer
 * vio_blk_dev_fill_config(&d, &config);        // config space contents
 * vio_blk_dev_init(&dev, &d, &my_backend_ops, my_ctx);
 * // FEATURES_OK:
 * vio_blk_dev_set_features(&dev, &negotiated, &config);
 * // queue 0 enabled (the devq made with take_long_chains = true):
 * static struct vio_blk_req reqs[256];
 * static struct vio_chain_seg segs[256 * VIO_BLK_DEV_SEGS(126)];
 * vio_blk_queue_init(&q, &dev, devq, reqs, 256, segs, VIO_BLK_DEV_SEGS(126));
 * // on every kick, and after completing requests:
 * int rc = vio_blk_queue_process(&q);
 * if (rc < 0 && rc != -VIO_EMAP_AGAIN) set DEVICE_NEEDS_RESET;
 * if (vio_devq_needs_notify(devq)) raise the queue interrupt;
 * @endcode
 *
 * **Validation** (virtio 1.4 §5.2.6). A request is answered, never trusted:
 * - unknown or unsupported types (zoned, SCSI, legacy FLUSH_OUT, a feature
 *   not negotiated), reserved discard flags, and UNMAP on a DISCARD:
 *   ::VIO_BLK_S_UNSUPP;
 * - a header shorter than 16 bytes, data not a multiple of 512 bytes, a
 *   range beyond @c capacity (overflow included), more data segments than
 *   @c seg_max, a segment longer than @c size_max, too many or too long
 *   discard / write-zeroes ranges, a GET_ID buffer under 20 bytes, a write of
 *   any kind to a read-only device, a chain longer than the segment array:
 *   ::VIO_BLK_S_IOERR, without touching the backend;
 * - a chain without a device-writable status byte cannot be answered: the
 *   queue is failed with ::VIO_EBLK_NO_STATUS (vio_devq_fail()) and the
 *   embedder sets DEVICE_NEEDS_RESET (§2.1.2).
 *
 * The header and every discard range are copied out of driver memory once
 * and only the copies are used (the driver may rewrite shared memory at any
 * time). Segments are counted as the device queue mapped them: a descriptor
 * that crosses a guest memory region boundary counts as two.
 *
 * **Used length.** §2.7.8.1: the device reports a prefix of the writable part
 * that it wrote. A request whose every writable byte was written (a
 * successful read, GET_ID or GET_LIFETIME; any request whose writable part
 * is the status byte alone) reports the whole writable part, data + status.
 * Otherwise (an error on a read: the data was not, or not wholly, written)
 * the used length is 0 and the status byte, which is still written, is
 * reported to the dirty log with vio_devq_log_write().
 *
 * **Threads.** No locks. The ::vio_blk_dev is read-only after
 * vio_blk_dev_set_features(); each ::vio_blk_queue (and the requests it
 * hands out) belongs to the one thread that owns its device queue. A backend
 * working elsewhere hands completions back to that thread.
 */
#ifndef VIO_BLK_DEV_H
#define VIO_BLK_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/blk.h>
#include <virtio/chain.h>
#include <virtio/devq.h>
#include <virtio/features.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Largest capacity (sectors) whose byte size fits in 64 bits. */
#define VIO_BLK_MAX_CAPACITY (UINT64_MAX >> VIO_BLK_SECTOR_SHIFT)

/**
 * @brief Segment array entries per request for a device that offers
 *        @p seg_max data segments: the data plus the header and the status.
 *
 * Add slack when guest memory is made of many regions (a descriptor that
 * crosses a region boundary takes two entries).
 * @param seg_max The @c seg_max offered (0: pick a bound yourself).
 */
#define VIO_BLK_DEV_SEGS(seg_max) ((uint16_t)((seg_max) + 2u))

/** @brief What the device is: the source of the offered features and of the
 *         configuration space. Zero-initialise, then fill in. */
struct vio_blk_dev_desc {
	uint64_t capacity; /**< Disk size in 512-byte sectors (≤ ::VIO_BLK_MAX_CAPACITY). */
	uint32_t size_max; /**< Largest data segment in bytes; 0: no ::VIO_BLK_F_SIZE_MAX. */
	/** Most data segments per request; 0: no ::VIO_BLK_F_SEG_MAX (the
	 * per-request segment array is then the only bound). */
	uint32_t seg_max;
	uint16_t cylinders; /**< Geometry; 0: no ::VIO_BLK_F_GEOMETRY. */
	uint8_t heads;	    /**< Geometry heads. */
	uint8_t sectors;    /**< Geometry sectors per track. */
	uint32_t
		blk_size; /**< Block size; 0: no ::VIO_BLK_F_BLK_SIZE; else a power of two ≥ 512. */
	bool topology;	  /**< Offer ::VIO_BLK_F_TOPOLOGY with the four fields below. */
	uint8_t physical_block_exp; /**< Topology: log2 logical blocks per physical block. */
	uint8_t alignment_offset;   /**< Topology: first aligned logical block. */
	uint16_t min_io_size;	    /**< Topology: minimum I/O size in blocks. */
	uint32_t opt_io_size;	    /**< Topology: optimal I/O size in blocks. */
	bool read_only;		    /**< Offer ::VIO_BLK_F_RO; every write gets IOERR. */
	bool flush;		    /**< Offer ::VIO_BLK_F_FLUSH (the backend sees FLUSH). */
	/** Offer ::VIO_BLK_F_CONFIG_WCE (needs @c flush, §5.2.5.2). */
	bool config_wce;
	uint8_t writeback;   /**< Cache mode after reset with CONFIG_WCE: 1 writeback, 0 through. */
	uint16_t num_queues; /**< Request queues; above 1 offers ::VIO_BLK_F_MQ (0 means 1). */
	uint32_t max_discard_sectors;	   /**< Sectors per discard range (≥ 1 with DISCARD). */
	uint32_t max_discard_seg;	   /**< Ranges per discard; 0: no ::VIO_BLK_F_DISCARD. */
	uint32_t discard_sector_alignment; /**< Advisory (not enforced: §5.2.5 "can be used"). */
	uint32_t max_write_zeroes_sectors; /**< Sectors per write-zeroes range. */
	uint32_t max_write_zeroes_seg;	   /**< Ranges; 0: no ::VIO_BLK_F_WRITE_ZEROES. */
	bool write_zeroes_may_unmap;	   /**< A write-zeroes UNMAP may deallocate. */
	uint32_t max_secure_erase_sectors; /**< Sectors per secure-erase range. */
	uint32_t max_secure_erase_seg;	   /**< Ranges; 0: no ::VIO_BLK_F_SECURE_ERASE. */
	uint32_t secure_erase_sector_alignment; /**< Advisory, not enforced. */
	bool lifetime;		 /**< Offer ::VIO_BLK_F_LIFETIME with the values below. */
	uint16_t pre_eol_info;	 /**< Lifetime: ::VIO_BLK_PRE_EOL_INFO_NORMAL and friends. */
	uint16_t lifetime_est_a; /**< Lifetime: SLC wear (0..11). */
	uint16_t lifetime_est_b; /**< Lifetime: MLC wear (0..11). */
	/** GET_ID answer: NUL-padded, all 20 bytes used without a terminator. */
	char id[VIO_BLK_ID_BYTES];
};

/** @brief A discard, write-zeroes or secure-erase range, checked and in host order. */
struct vio_blk_range {
	uint64_t sector;      /**< First sector. */
	uint32_t num_sectors; /**< Sectors (the range lies inside the disk). */
	bool unmap;	      /**< WRITE_ZEROES: the device may deallocate. */
};

/** @brief One host piece of a request's data (layout-compatible in spirit
 *         with POSIX `struct iovec`; convert member by member). */
struct vio_blk_iov {
	void *base; /**< Host address (driver memory: copy, do not trust twice). */
	size_t len; /**< Bytes. */
};

struct vio_blk_req;

/** @brief The storage behind a block device, implemented by the embedder. */
struct vio_blk_backend_ops {
	/**
	 * @brief Start a valid request: ::VIO_BLK_T_IN, ::VIO_BLK_T_OUT,
	 *        ::VIO_BLK_T_FLUSH, ::VIO_BLK_T_DISCARD, ::VIO_BLK_T_WRITE_ZEROES
	 *        or ::VIO_BLK_T_SECURE_ERASE (see vio_blk_req_type()).
	 *
	 * The model has checked the request: its sectors lie inside the disk,
	 * its data is a multiple of 512 bytes, its ranges are within limits.
	 * Complete it exactly once with vio_blk_req_complete(), inside this call
	 * or later, in any order relative to other requests, on the thread that
	 * owns the queue. For IN, every data byte must be written before
	 * completing with ::VIO_BLK_S_OK.
	 * @param ctx The backend context given to vio_blk_dev_init().
	 * @param req The request; valid until completed.
	 */
	void (*submit)(void *ctx, struct vio_blk_req *req);
};

/** @brief A block device (shared by its queues). Members are private; the
 *         struct is public so it can live in static storage. */
struct vio_blk_dev {
	/** @cond VIO_INTERNAL */
	struct vio_blk_dev_desc desc;
	struct vio_features offered;
	struct vio_features features;
	const struct vio_blk_backend_ops *ops;
	void *ctx;
	uint8_t writeback;
	/** @endcond */
};

/** @brief One request queue's processing context. Members are private. */
struct vio_blk_queue {
	/** @cond VIO_INTERNAL */
	struct vio_blk_dev *dev;
	struct vio_devq *dq;
	struct vio_blk_req *reqs;
	struct vio_chain_seg *segs;
	uint16_t nreqs;
	uint16_t segs_per_req;
	uint16_t free_head;
	uint16_t inflight;
	int (*pop)(void *ctx, struct vio_blk_queue *q, struct vio_chain *chain,
		   struct vio_chain_seg *segs, uint16_t max_segs);
	void *pop_ctx;
	/** @endcond */
};

/** @brief One request in flight: caller storage handed to vio_blk_queue_init(),
 *         used by the model. Only @c backend_data is for the backend. */
struct vio_blk_req {
	void *backend_data; /**< Free for the backend's use while it owns the request. */
	/** @cond VIO_INTERNAL */
	struct vio_chain chain;
	struct vio_blk_queue *q;
	uint64_t sector;
	uint32_t type;
	uint32_t len;
	uint32_t nranges;
	uint16_t next_free;
	uint8_t state;
	bool data_in;
	/** @endcond */
};

/**
 * @brief Check a description: capacity, block size, limits, CONFIG_WCE
 *        without FLUSH.
 * @param d The description.
 * @retval 0 Usable.
 * @retval -VIO_EINVAL Capacity above ::VIO_BLK_MAX_CAPACITY, a block size
 *         that is not a power of two ≥ 512, CONFIG_WCE without FLUSH, a
 *         writeback value above 1, discard / write-zeroes / secure-erase
 *         ranges allowed with 0 sectors each, a lifetime value beyond the
 *         spec's ranges.
 * @note Thread-safe; calls no callbacks.
 */
int vio_blk_dev_desc_check(const struct vio_blk_dev_desc *d);

/**
 * @brief The device-type feature bits @p d offers (bits 0–23 only; the
 *        transport and ring bits are the core's).
 * @param d The description.
 * @param f Receives the bits (other bits clear).
 * @retval 0 Success.
 * @retval -VIO_EINVAL As vio_blk_dev_desc_check() (@p f is then empty).
 */
int vio_blk_dev_features(const struct vio_blk_dev_desc *d, struct vio_features *f);

/**
 * @brief Fill the configuration space from @p d: fields of features not
 *        offered, and padding, are 0 (§5.2.5.2).
 * @param d   The description.
 * @param cfg Receives the configuration (::VIO_BLK_CONFIG_SIZE bytes).
 * @retval 0 Success.
 * @retval -VIO_EINVAL As vio_blk_dev_desc_check() (@p cfg is then zeroed).
 */
int vio_blk_dev_fill_config(const struct vio_blk_dev_desc *d, struct vio_blk_config *cfg);

/**
 * @brief Set up a device from @p d with its backend. Negotiated features
 *        start empty; call vio_blk_dev_set_features() at FEATURES_OK.
 * @param dev The device (caller memory, owned by the caller).
 * @param d   The description; copied.
 * @param ops Backend callbacks; referenced, must outlive the device.
 * @param ctx Passed to @p ops.
 * @retval 0 Success.
 * @retval -VIO_EINVAL A bad description, or @p ops without @c submit.
 */
int vio_blk_dev_init(struct vio_blk_dev *dev, const struct vio_blk_dev_desc *d,
		     const struct vio_blk_backend_ops *ops, void *ctx);

/**
 * @brief Record the negotiated features (the device core's FEATURES_OK; also
 *        its feature-validation hook) and reset the cache mode.
 *
 * With CONFIG_WCE negotiated but not FLUSH, @c writeback becomes 0
 * (§5.2.5.2); otherwise it returns to the description's value.
 * @param dev        The device.
 * @param negotiated The features the driver accepted (all bits; only the
 *                   device-type bits 0–23 are looked at).
 * @param cfg        The configuration space whose @c writeback to update
 *                   (the device core's copy), or NULL.
 * @retval 0 Accepted.
 * @retval -VIO_EINVAL A device-type bit the device did not offer (the core
 *         then leaves FEATURES_OK clear); nothing changed.
 * @pre No queue of the device is being processed.
 */
int vio_blk_dev_set_features(struct vio_blk_dev *dev, const struct vio_features *negotiated,
			     struct vio_blk_config *cfg);

/**
 * @brief The driver wrote the configuration space: only @c writeback is
 *        writable, and only with ::VIO_BLK_F_CONFIG_WCE negotiated.
 * @param dev    The device.
 * @param cfg    The configuration space to update (the device core's copy).
 * @param offset Byte offset of the write.
 * @param data   The bytes written.
 * @param len    Number of bytes.
 * @retval 0 @c writeback changed to 0 or 1 (the backend reads it with
 *         vio_blk_dev_writeback()); the embedder bumps the config generation.
 * @retval -VIO_EINVAL Any other write: ignored, nothing changed.
 */
int vio_blk_dev_config_write(struct vio_blk_dev *dev, struct vio_blk_config *cfg, uint32_t offset,
			     const void *data, uint32_t len);

/**
 * @brief The cache mode now in force.
 * @param dev The device.
 * @return true for writeback (completed writes are volatile until a FLUSH),
 *         false for writethrough. Without CONFIG_WCE: writeback exactly when
 *         FLUSH was negotiated (§5.2.6.2 case 1).
 */
bool vio_blk_dev_writeback(const struct vio_blk_dev *dev);

/**
 * @brief Change the capacity at run time (disk resize).
 * @param dev      The device.
 * @param capacity New size in sectors.
 * @param cfg      The configuration space to update.
 * @retval 0 Updated; the embedder sends a config-change notification
 *         (§5.2.6.2 "SHOULD trigger").
 * @retval -VIO_EINVAL Above ::VIO_BLK_MAX_CAPACITY.
 * @pre No queue of the device is being processed (requests already handed
 *      to the backend were checked against the old capacity).
 */
int vio_blk_dev_set_capacity(struct vio_blk_dev *dev, uint64_t capacity,
			     struct vio_blk_config *cfg);

/**
 * @brief Attach a request queue to the device.
 * @param q            The queue context (caller memory).
 * @param dev          The device.
 * @param dq           Its device queue; create it with
 *                     vio_devq_config::take_long_chains set, so that a chain
 *                     longer than the segment array is answered with IOERR
 *                     (otherwise such a chain fails the queue).
 * @param reqs         @p nreqs request slots (caller memory, owned by the
 *                     queue until it is no longer used). The queue size is
 *                     enough for every request a driver can have in flight.
 * @param nreqs        Slots (1 .. 65535).
 * @param segs         @p nreqs × @p segs_per_req segment entries.
 * @param segs_per_req Entries per request (≥ 2; see ::VIO_BLK_DEV_SEGS).
 * @retval 0 Success.
 * @retval -VIO_EINVAL A NULL pointer, @p nreqs 0 or @p segs_per_req < 2.
 */
int vio_blk_queue_init(struct vio_blk_queue *q, struct vio_blk_dev *dev, struct vio_devq *dq,
		       struct vio_blk_req *reqs, uint16_t nreqs, struct vio_chain_seg *segs,
		       uint16_t segs_per_req);

/** @brief Where a request queue takes its chains from (see
 *         vio_blk_queue_set_pop()): vio_devq_pop()'s contract. */
typedef int (*vio_blk_pop_fn)(void *ctx, struct vio_blk_queue *q, struct vio_chain *chain,
			      struct vio_chain_seg *segs, uint16_t max_segs);

/**
 * @brief Take chains through @p pop instead of vio_devq_pop() on the
 *        queue's device queue, e.g. vio_device_queue_pop(), which hands out
 *        chains a transport re-submits first. The chains must belong to the
 *        same device queue (they are completed with vio_devq_push()).
 * @param q   The queue (after vio_blk_queue_init(), which resets this).
 * @param pop The source, or NULL for vio_devq_pop().
 * @param ctx Passed to @p pop.
 * @note Same thread as vio_blk_queue_process().
 */
void vio_blk_queue_set_pop(struct vio_blk_queue *q, vio_blk_pop_fn pop, void *ctx);

/**
 * @brief Take every available request (while slots are free), answer the
 *        invalid ones and hand the valid ones to the backend.
 *
 * Stops when the ring is empty or every slot is in flight: call it again
 * after completing requests. Does not decide on interrupts: call
 * vio_devq_needs_notify() after it and after completions.
 * @param q The queue.
 * @return The number of chains taken (≥ 0), or a negative error:
 * @retval -VIO_EMAP_AGAIN A buffer cannot be mapped now; retry later.
 * @retval -VIO_EBLK_NO_STATUS A request without a status byte; the queue is
 *         now failed: set DEVICE_NEEDS_RESET.
 * @retval -VIO_EREQUEST A chain longer than the segment array while
 *         take_long_chains is off; the queue is now failed.
 * @retval -VIO_EBROKEN The device queue is broken.
 * @retval <0 A peer error of vio_devq_pop() (the queue is broken).
 * @note Calls the backend's @c submit, which may complete requests
 *       (re-entering vio_blk_req_complete(), not this function).
 */
int vio_blk_queue_process(struct vio_blk_queue *q);

/**
 * @brief Requests handed out and not yet completed (including those the
 *        backend holds).
 * @param q The queue.
 * @return The number of requests in flight.
 */
unsigned vio_blk_queue_inflight(const struct vio_blk_queue *q);

/**
 * @brief Forget every request in flight: release their chains'
 *        mappings (vio_devq_drop()) and free their slots. For a device or
 *        queue reset, after the backend has finished or cancelled them:
 *        completing them afterwards is refused.
 * @param q The queue.
 */
void vio_blk_queue_reset(struct vio_blk_queue *q);

/**
 * @brief The request's type (::VIO_BLK_T_IN …).
 * @param req A request handed to the backend.
 * @return The type from the header copy.
 */
uint32_t vio_blk_req_type(const struct vio_blk_req *req);

/**
 * @brief The first sector of an IN or OUT request (checked: the request
 *        lies inside the disk).
 * @param req A request.
 * @return The sector (0 for other types).
 */
uint64_t vio_blk_req_sector(const struct vio_blk_req *req);

/**
 * @brief Data bytes of an IN or OUT request (a multiple of 512).
 * @param req A request.
 * @return The byte count (0 for other types).
 */
uint32_t vio_blk_req_len(const struct vio_blk_req *req);

/**
 * @brief Copy data of an OUT request out of driver memory.
 * @param req A request of type ::VIO_BLK_T_OUT.
 * @param off Offset into the data.
 * @param dst Destination.
 * @param len Bytes wanted.
 * @return Bytes copied (less when the data ends first; 0 for other types).
 */
size_t vio_blk_req_read(const struct vio_blk_req *req, size_t off, void *dst, size_t len);

/**
 * @brief Copy data of an IN request into driver memory.
 * @param req A request of type ::VIO_BLK_T_IN.
 * @param off Offset into the data.
 * @param src Source.
 * @param len Bytes to write.
 * @return Bytes copied (less when the data ends first; 0 for other types).
 */
size_t vio_blk_req_write(const struct vio_blk_req *req, size_t off, const void *src, size_t len);

/**
 * @brief The data of an IN or OUT request as host pieces, for vectored I/O
 *        (preadv / pwritev) without a copy.
 * @param req A request.
 * @param iov Receives up to @p max pieces, in order.
 * @param max Room in @p iov.
 * @return The number of pieces the data has (may exceed @p max: only @p max
 *         were stored); 0 for other types or no data.
 * @note The pieces point into driver memory, valid until completion.
 */
unsigned vio_blk_req_iov(const struct vio_blk_req *req, struct vio_blk_iov *iov, unsigned max);

/**
 * @brief Ranges of a DISCARD, WRITE_ZEROES or SECURE_ERASE request.
 * @param req A request.
 * @return The number of ranges (0 for other types).
 */
uint32_t vio_blk_req_nranges(const struct vio_blk_req *req);

/**
 * @brief Read range @p idx of a DISCARD, WRITE_ZEROES or SECURE_ERASE
 *        request, checked again (the driver may have rewritten it since the
 *        model checked it; use only the copy returned here).
 * @param req A request.
 * @param idx Range index, below vio_blk_req_nranges().
 * @param r   Receives the range.
 * @retval 0 @p r is inside the disk and the limits.
 * @retval -VIO_EINVAL @p idx out of range, or the range now fails the checks
 *         (complete the request with ::VIO_BLK_S_IOERR).
 */
int vio_blk_req_range(const struct vio_blk_req *req, uint32_t idx, struct vio_blk_range *r);

/**
 * @brief Complete a request: write its status byte, give the chain back to
 *        the driver and free the slot.
 * @param req    A request handed to the backend, not completed yet.
 * @param status ::VIO_BLK_S_OK, ::VIO_BLK_S_IOERR, ::VIO_BLK_S_UNSUPP (or a
 *               zoned status).
 * @retval 0 Completed (decide on an interrupt with vio_devq_needs_notify()).
 * @retval -VIO_EBROKEN The device queue broke meanwhile: the chain was
 *         dropped, the slot freed.
 * @retval -VIO_EINVAL @p req is not in flight (completed twice, or after
 *         vio_blk_queue_reset()); nothing changed.
 * @note Call on the thread that owns the queue.
 */
int vio_blk_req_complete(struct vio_blk_req *req, uint8_t status);

/** @brief The in-memory backend's state: a disk in a caller buffer. */
struct vio_blk_mem_backend {
	unsigned char *disk;   /**< The disk bytes (caller memory). */
	uint64_t bytes;	       /**< Size of @c disk. */
	unsigned long flushes; /**< FLUSH requests served (statistics). */
};

/**
 * @brief Set up the in-memory backend over @p disk.
 *
 * Synchronous: every request completes inside @c submit. IN and OUT copy;
 * DISCARD, WRITE_ZEROES and SECURE_ERASE zero their ranges; FLUSH does
 * nothing. Give the device a capacity of at most @p bytes / 512 sectors; a
 * request beyond @p bytes is completed with ::VIO_BLK_S_IOERR anyway.
 * Use ::vio_blk_mem_backend_ops with @p b as the context.
 * @param b     The backend.
 * @param disk  The disk (owned by the caller, outlives the device).
 * @param bytes Its size.
 */
void vio_blk_mem_backend_init(struct vio_blk_mem_backend *b, void *disk, uint64_t bytes);

/** @brief Backend callbacks of the in-memory backend (context: a
 *         ::vio_blk_mem_backend). */
extern const struct vio_blk_backend_ops vio_blk_mem_backend_ops;

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_BLK_DEV_H */
