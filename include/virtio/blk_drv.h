/* SPDX-License-Identifier: MIT */
/**
 * @file blk_drv.h
 * @brief virtio-blk driver helper: parse the configuration, submit requests
 *        on a driver queue, check what the device returns.
 *
 * \defgroup vio_blk_drv virtio-blk driver helper
 * @{
 * Layer 5 of the design, driver side, over the driver queue (vq.h). It
 * allocates nothing: each request's header and status byte live in a
 * caller-owned ::vio_blk_drv_req that the device reaches through the queue's
 * address conversion, so it must be memory the device may access (DMA-able
 * memory, guest RAM), like the data buffers.
 *
 * A bare-metal driver reading sector 0 (the driver core has negotiated
 * features and read the configuration bytes):
 * @code
 * struct vio_blk_info info;
 * vio_blk_config_parse(cfg_bytes, cfg_len, &negotiated, &info);
 * vio_blk_drv_init(&drv, vq, &info);
 * static struct vio_blk_drv_req req;   // in device-reachable memory
 * static unsigned char sector0[512];
 * vio_blk_drv_read(&drv, &req, 0, sector0, sizeof(sector0));
 * if (vio_vq_kick_prepare(vq)) notify the device;
 * struct vio_blk_drv_req *done;
 * while (vio_blk_drv_get(&drv, &done) == -VIO_EAGAIN) wait for the interrupt;
 * if (done->status == VIO_BLK_S_OK) use sector0;
 * @endcode
 *
 * **Hostile device.** Besides what the queue checks (used ids and lengths),
 * the helper reads the status byte once and refuses values the spec does
 * not define, and refuses a successful read whose used length is short of
 * the data and status bytes (the data cannot be trusted, §2.7.8.1). Both
 * mark the queue broken (vio_vq_fail()): later calls return ::VIO_EBROKEN
 * until vio_vq_reset() and vio_blk_drv_reset(). Configuration values that would make requests
 * impossible or overflow are refused by the parser.
 *
 * **Threads.** No locks: one ::vio_blk_drv per queue, used by the thread
 * that owns that queue.
 */
#ifndef VIO_BLK_DRV_H
#define VIO_BLK_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/blk.h>
#include <virtio/features.h>
#include <virtio/vq.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The configuration, parsed, checked and in host order. Fields of
 *         features not negotiated are 0 (@c num_queues is then 1). */
struct vio_blk_info {
	struct vio_features features;		/**< The negotiated features (a copy). */
	uint64_t capacity;			/**< Sectors. */
	uint32_t size_max;			/**< Largest data segment (0: no limit). */
	uint32_t seg_max;			/**< Most data segments (0: no limit). */
	uint16_t cylinders;			/**< Geometry. */
	uint8_t heads;				/**< Geometry. */
	uint8_t sectors;			/**< Geometry. */
	uint32_t blk_size;			/**< Block size (512 without BLK_SIZE). */
	uint8_t physical_block_exp;		/**< Topology. */
	uint8_t alignment_offset;		/**< Topology. */
	uint16_t min_io_size;			/**< Topology. */
	uint32_t opt_io_size;			/**< Topology. */
	uint8_t writeback;			/**< CONFIG_WCE: cache mode read. */
	uint16_t num_queues;			/**< Request queues (1 without MQ). */
	uint32_t max_discard_sectors;		/**< DISCARD. */
	uint32_t max_discard_seg;		/**< DISCARD. */
	uint32_t discard_sector_alignment;	/**< DISCARD (advisory). */
	uint32_t max_write_zeroes_sectors;	/**< WRITE_ZEROES. */
	uint32_t max_write_zeroes_seg;		/**< WRITE_ZEROES. */
	bool write_zeroes_may_unmap;		/**< WRITE_ZEROES. */
	uint32_t max_secure_erase_sectors;	/**< SECURE_ERASE. */
	uint32_t max_secure_erase_seg;		/**< SECURE_ERASE. */
	uint32_t secure_erase_sector_alignment; /**< SECURE_ERASE (advisory). */
};

/**
 * @brief The device-type features this helper can drive: everything but
 *        ZONED and the legacy BARRIER and SCSI.
 * @param f Receives the bits (other bits clear).
 */
void vio_blk_drv_features(struct vio_features *f);

/**
 * @brief Parse configuration bytes read from the device.
 * @param raw        The configuration space from offset 0 (read after
 *                   FEATURES_OK, with the generation stable).
 * @param len        Bytes at @p raw (a device may expose fewer than
 *                   ::VIO_BLK_CONFIG_SIZE).
 * @param negotiated The negotiated features.
 * @param info       Receives the result.
 * @retval 0 Parsed.
 * @retval -VIO_EINVAL A NULL pointer.
 * @retval -VIO_EBLK_CONFIG The bytes end before a field a negotiated feature
 *         needs, or a value is invalid: capacity beyond ::VIO_BLK_SECTOR_SIZE
 *         bytes addressing (2^55 sectors), @c seg_max 0 with SEG_MAX, a
 *         @c blk_size that is not a power of two in 512 .. 2^16 with
 *         BLK_SIZE, @c num_queues 0 with MQ, @c writeback above 1.
 */
int vio_blk_config_parse(const void *raw, size_t len, const struct vio_features *negotiated,
			 struct vio_blk_info *info);

/**
 * @brief Read callback for vio_blk_config_read(): copy @p len bytes of the
 *        device configuration at @p offset into @p buf.
 * @param ctx    The context given to vio_blk_config_read().
 * @param offset Byte offset into the device configuration.
 * @param buf    Destination.
 * @param len    Bytes.
 * @return 0 or a negative `-VIO_E…` code.
 */
typedef int (*vio_blk_config_read_fn)(void *ctx, uint32_t offset, void *buf, uint32_t len);

/**
 * @brief Read and parse the configuration through a callback: one read of
 *        the bytes the negotiated features need.
 * @param read       The read callback (e.g. the driver core's generation-
 *                   checked config read).
 * @param ctx        Passed to @p read.
 * @param negotiated The negotiated features.
 * @param info       Receives the result.
 * @retval 0 Parsed.
 * @retval <0 The error of @p read, or as vio_blk_config_parse().
 */
int vio_blk_config_read(vio_blk_config_read_fn read, void *ctx,
			const struct vio_features *negotiated, struct vio_blk_info *info);

/** @brief One queue's driver helper. Members are private. */
struct vio_blk_drv {
	/** @cond VIO_INTERNAL */
	struct vio_vq *vq;
	struct vio_blk_info info;
	unsigned inflight;
	/** @endcond */
};

/** @brief A request: caller memory the device reaches (the header and the
 *         status byte are in it). Owned by the device from submission until
 *         vio_blk_drv_get() or vio_blk_drv_detach() returns it. */
struct vio_blk_drv_req {
	void *user;	   /**< Free for the caller. */
	uint32_t used_len; /**< After completion: bytes the device reported written. */
	uint8_t status;	   /**< After completion: the checked status (::VIO_BLK_S_OK …). */
	/** @cond VIO_INTERNAL */
	uint8_t wire_status;
	uint32_t type;
	uint32_t in_total;
	struct vio_blk_req_hdr hdr;
	/** @endcond */
};

/**
 * @brief Set up the helper for one request queue.
 * @param d    The helper (caller memory).
 * @param vq   The queue (initialised with the negotiated features).
 * @param info The parsed configuration; copied.
 * @retval 0 Success.
 * @retval -VIO_EINVAL A NULL pointer.
 */
int vio_blk_drv_init(struct vio_blk_drv *d, struct vio_vq *vq, const struct vio_blk_info *info);

/**
 * @brief Take a new configuration (after a config-change interrupt: the
 *        capacity may have changed).
 * @param d    The helper.
 * @param info The new configuration; copied.
 */
void vio_blk_drv_set_info(struct vio_blk_drv *d, const struct vio_blk_info *info);

/**
 * @brief Submit a request with caller-built data segments.
 *
 * @p sg holds @p ndata + 2 entries: the helper fills `sg[0]` (the header)
 * and `sg[ndata + 1]` (the status byte); the data is `sg[1 .. ndata]`,
 * device-readable for ::VIO_BLK_T_OUT, device-writable for ::VIO_BLK_T_IN,
 * ::VIO_BLK_T_GET_ID and ::VIO_BLK_T_GET_LIFETIME.
 * @param d      The helper.
 * @param r      The request (device-reachable memory).
 * @param type   ::VIO_BLK_T_IN, ::VIO_BLK_T_OUT, ::VIO_BLK_T_FLUSH,
 *               ::VIO_BLK_T_GET_ID or ::VIO_BLK_T_GET_LIFETIME (ranges:
 *               vio_blk_drv_submit_ranges()).
 * @param sector First sector (IN, OUT; ignored and sent as 0 otherwise).
 * @param sg     The segments (read during the call only).
 * @param ndata  Data segments (0 for FLUSH).
 * @retval 0 Submitted; kick when vio_vq_kick_prepare() says so.
 * @retval -VIO_EINVAL Bad arguments: another type, data not a multiple of
 *         512 bytes (IN/OUT) or of the wrong size (GET_ID 20, GET_LIFETIME
 *         6, FLUSH 0), a range beyond the capacity, more than @c seg_max
 *         segments, a segment above @c size_max, 2^32 bytes or more.
 * @retval -VIO_EBLK_FEATURE A write on a read-only device, FLUSH without
 *         ::VIO_BLK_F_FLUSH, GET_LIFETIME without ::VIO_BLK_F_LIFETIME.
 * @retval -VIO_EBROKEN The queue is broken.
 * @retval <0 Otherwise as vio_vq_add() (e.g. ::VIO_ENOSPC).
 */
int vio_blk_drv_submit(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint32_t type,
		       uint64_t sector, struct vio_sg *sg, unsigned ndata);

/**
 * @brief Submit a DISCARD, WRITE_ZEROES or SECURE_ERASE request.
 * @param d      The helper.
 * @param r      The request.
 * @param type   ::VIO_BLK_T_DISCARD, ::VIO_BLK_T_WRITE_ZEROES or
 *               ::VIO_BLK_T_SECURE_ERASE.
 * @param ranges @p n ranges in device-reachable memory, unchanged until
 *               completion.
 * @param n      Number of ranges (1 .. the device's max_*_seg).
 * @retval 0 Submitted.
 * @retval -VIO_EBLK_FEATURE The feature is not negotiated, or the device is
 *         read-only.
 * @retval -VIO_EINVAL Another type, @p n 0 or above the limit, a range above
 *         max_*_sectors or beyond the capacity, flags other than UNMAP on a
 *         WRITE_ZEROES.
 * @retval <0 Otherwise as vio_blk_drv_submit().
 */
int vio_blk_drv_submit_ranges(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint32_t type,
			      const struct vio_blk_discard_write_zeroes *ranges, unsigned n);

/**
 * @brief Read @p len bytes from @p sector into one buffer.
 * @param d      The helper.
 * @param r      The request.
 * @param sector First sector.
 * @param buf    Destination (device-reachable).
 * @param len    Bytes, a multiple of 512.
 * @return As vio_blk_drv_submit().
 */
int vio_blk_drv_read(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint64_t sector, void *buf,
		     uint32_t len);

/**
 * @brief Write @p len bytes from one buffer at @p sector.
 * @param d      The helper.
 * @param r      The request.
 * @param sector First sector.
 * @param buf    Source (device-reachable).
 * @param len    Bytes, a multiple of 512.
 * @return As vio_blk_drv_submit().
 */
int vio_blk_drv_write(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint64_t sector,
		      const void *buf, uint32_t len);

/**
 * @brief Flush the device's write cache.
 * @param d The helper.
 * @param r The request.
 * @return As vio_blk_drv_submit().
 */
int vio_blk_drv_flush(struct vio_blk_drv *d, struct vio_blk_drv_req *r);

/**
 * @brief Fetch the device ID string (::VIO_BLK_ID_BYTES, NUL-padded).
 * @param d  The helper.
 * @param r  The request.
 * @param id Receives the string (device-reachable).
 * @return As vio_blk_drv_submit().
 */
int vio_blk_drv_get_id(struct vio_blk_drv *d, struct vio_blk_drv_req *r, char id[VIO_BLK_ID_BYTES]);

/**
 * @brief Reap one completed request and check it.
 * @param d   The helper.
 * @param out Receives the request (also on the two peer errors below, so
 *            the caller can reclaim it); its @c status and @c used_len are set.
 * @retval 0 One request; look at its @c status.
 * @retval -VIO_EAGAIN Nothing completed.
 * @retval -VIO_EBLK_STATUS The device wrote a status other than OK, IOERR
 *         or UNSUPP; the queue is now broken (vio_vq_fail()).
 * @retval -VIO_EBLK_USED_LEN A successful IN, GET_ID or GET_LIFETIME with a
 *         used length short of the data and the status byte; the queue is now broken.
 * @retval -VIO_EBROKEN The queue was broken before.
 * @retval <0 A peer error of vio_vq_get() (the queue is broken).
 */
int vio_blk_drv_get(struct vio_blk_drv *d, struct vio_blk_drv_req **out);

/**
 * @brief Take back a request the device never completed (after a device or
 *        queue reset).
 * @param d   The helper.
 * @param out Receives the request.
 * @retval 0 One request.
 * @retval -VIO_EAGAIN None left.
 */
int vio_blk_drv_detach(struct vio_blk_drv *d, struct vio_blk_drv_req **out);

/**
 * @brief Start over after the device and the queue were reset
 *        (vio_vq_reset(), which also clears the queue's broken latch) and
 *        every request was detached.
 * @param d The helper.
 */
void vio_blk_drv_reset(struct vio_blk_drv *d);

/**
 * @brief Requests submitted and not yet reaped or detached.
 * @param d The helper.
 * @return The count.
 */
unsigned vio_blk_drv_inflight(const struct vio_blk_drv *d);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_BLK_DRV_H */
