/* SPDX-License-Identifier: MIT */
/**
 * @file vhost_user_front.h
 * @brief vhost-user front end (driver side): drive a vhost-user back end
 *        (qemu-storage-daemon, DPDK, a libvhost-user program) with the
 *        driver core (driver.h), over platform I/O callbacks.
 *
 * \defgroup vio_vhost_user_front vhost-user front end (vio_vhost_user_front)
 * @{
 * This is the protocol half: it builds the front-end messages of QEMU's
 * docs/interop/vhost-user.rst and checks every reply. It performs no system
 * call: the embedder (or the POSIX component, vhost_user_front_posix.h)
 * supplies ::vio_vhost_user_front_io to send a message with file
 * descriptors, receive reply bytes with a bounded wait, write a kick
 * eventfd and test a call eventfd. File descriptors are plain `int`s that
 * the front only passes along.
 *
 * **Bring-up.** vio_vhost_user_front_init() (no I/O), one
 * vio_vhost_user_front_add_region() per shared memory region,
 * vio_vhost_user_front_connect() (SET_OWNER, GET_FEATURES,
 * GET/SET_PROTOCOL_FEATURES, GET_QUEUE_NUM), then a driver core over
 * ::vio_vhost_user_front_ops (vio_vhost_user_front_drv_config()). The core's
 * steps become messages:
 *
 * | driver core                | vhost-user                                                |
 * |----------------------------|-----------------------------------------------------------|
 * | device features            | GET_FEATURES (bit 30 and bit 26 removed: vhost bits)       |
 * | FEATURES_OK                | SET_FEATURES (bit 30 kept if offered), SET_MEM_TABLE       |
 * | configuration read / write | GET_CONFIG / SET_CONFIG (PROTOCOL_F_CONFIG)                |
 * | queue setup                | SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ADDR (user addrs) |
 * | queue enable               | SET_VRING_CALL, SET_VRING_KICK, SET_VRING_ENABLE           |
 * | reset (status 0)           | GET_VRING_BASE for each started ring (stops it)           |
 * | notify / interrupt status  | kick eventfd write / call eventfd test                     |
 *
 * vhost-user has no status register: the front keeps the status itself and
 * also sends SET_STATUS (and reads GET_STATUS) only when the back end
 * offers VHOST_USER_PROTOCOL_F_STATUS. With PROTOCOL_F_REPLY_ACK every
 * request without a reply of its own asks for an acknowledgement, so a
 * refusal is seen at the request that caused it: a refused SET_FEATURES
 * leaves FEATURES_OK clear (the core reports ::VIO_ENEGOTIATE), any other
 * refusal returns ::VIO_EVHOST_NACK.
 *
 * **Addresses.** The driver core hands the front device-visible addresses
 * (guest-physical: what the queues' ::vio_dma_ops return). The front
 * translates ring addresses to the front end's *user* addresses through
 * the region table for SET_VRING_ADDR; descriptor addresses stay
 * guest-physical. A ring outside every region is refused (::VIO_EINVAL).
 *
 * **Configuration space.** GET_CONFIG always asks for the bytes from
 * offset 0 up to the end of the field: some back ends (libvhost-user, so
 * qemu-storage-daemon) ignore the offset of GET_CONFIG and answer from 0.
 * There is no generation counter and no configuration-change interrupt
 * (that needs the back-end channel, not supported).
 *
 * **Hostile back end.** A reply with another request number, other flags
 * than version 1 | REPLY, or another size than the request's reply has is
 * ::VIO_EVHOST_REPLY; no reply within the I/O layer's bound is
 * ::VIO_EVHOST_TIMEOUT; a failed or closed socket is ::VIO_EVHOST_IO. After
 * any of the three the byte stream cannot be trusted: the front latches
 * the error and every later call that would talk to the back end returns
 * it (the driver core then writes FAILED, which stays local). Values the
 * protocol forbids (a queue count of 0 or above ::VIO_VHOST_USER_FRONT_MAX_QUEUES,
 * a status above 8 bits, a GET_VRING_BASE reply for another queue or an
 * undecodable base, bit 30 appearing or vanishing between GET_FEATURES
 * replies) are ::VIO_EDEVICE, which the core latches as well.
 *
 * **Threads.** As the driver core: the control path (every op but notify
 * and interrupt status) runs on one thread at a time; notify and the
 * interrupt status only call the io's @c kick / @c call_pending, which may
 * run beside each other and beside the control path.
 */
#ifndef VIO_VHOST_USER_FRONT_H
#define VIO_VHOST_USER_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/driver.h>
#include <virtio/vhost_user.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Most queues a front tracks (the queue index of SET_VRING_KICK/CALL is 8 bits). */
#define VIO_VHOST_USER_FRONT_MAX_QUEUES 256u
/** @brief Default largest queue size offered to the driver core (vhost-user
 *         leaves the size to the front end; QEMU's default is 128–256). */
#define VIO_VHOST_USER_FRONT_DEFAULT_QUEUE_MAX 256u
/** @brief Protocol features the front can use (a mask of
 *         ::vio_vhost_user_protocol_feature bits): MQ, REPLY_ACK, CONFIG,
 *         RESET_DEVICE, STATUS. */
#define VIO_VHOST_USER_FRONT_PROTOCOL_FEATURES                                                     \
	((UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_MQ) |                                           \
	 (UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_REPLY_ACK) |                                    \
	 (UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_CONFIG) |                                       \
	 (UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_RESET_DEVICE) |                                 \
	 (UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_STATUS))

/**
 * @brief Platform I/O of one connection. Each gets `io_ctx`; each returns 0
 *        or a negative code (::VIO_EVHOST_IO, ::VIO_EVHOST_TIMEOUT, ...),
 *        passed through.
 *
 * @c send, @c recv, @c kick, @c call_pending and @c queue_fds are required;
 * @c delay is optional.
 */
struct vio_vhost_user_front_io {
	/**
	 * @brief Send one whole message (@p len bytes: header and payload)
	 *        with @p nfds file descriptors attached (SCM_RIGHTS; @p fds is
	 *        NULL when @p nfds is 0).
	 * @return 0 once all of it is sent; a negative code otherwise.
	 */
	int (*send)(void *ctx, const void *msg, size_t len, const int *fds, unsigned nfds);
	/**
	 * @brief Receive exactly @p len bytes of the reply stream into @p buf,
	 *        waiting a bounded time. File descriptors that arrive are
	 *        closed (no reply the front asks for carries one).
	 * @return 0; ::VIO_EVHOST_TIMEOUT if the bytes did not come in time;
	 *         ::VIO_EVHOST_IO on a socket error or end of stream.
	 */
	int (*recv)(void *ctx, void *buf, size_t len);
	/** @brief Signal queue @p index's kick eventfd. */
	int (*kick)(void *ctx, uint16_t index);
	/** @brief Without waiting, consume queue @p index's call eventfd:
	 *         *@p fired tells whether the back end had signalled it. */
	int (*call_pending)(void *ctx, uint16_t index, bool *fired);
	/** @brief The kick and call eventfds of queue @p index (owned by the
	 *         io; the front sends them with SET_VRING_KICK / CALL). */
	int (*queue_fds)(void *ctx, uint16_t index, int *kick_fd, int *call_fd);
	/** @brief Optional: wait about @p us microseconds (the driver core's
	 *         status polls with PROTOCOL_F_STATUS). */
	void (*delay)(void *ctx, uint32_t us);
};

/** @brief How to create a front. Zero-initialise, then fill in. */
struct vio_vhost_user_front_config {
	const struct vio_vhost_user_front_io *io; /**< Platform I/O (required). */
	void *io_ctx;				  /**< Passed to @c io. */
	/** The device type (spec.h VIO_ID_*): vhost-user does not say which
	 * device a socket serves, the embedder does (required, not 0). */
	uint32_t device_id;
	/** Queue slots (1 .. ::VIO_VHOST_USER_FRONT_MAX_QUEUES); the memory
	 * is sized for them (::VIO_VHOST_USER_FRONT_MEM_SIZE). */
	uint16_t queue_slots;
	/** Largest queue size reported to the driver core (0:
	 * ::VIO_VHOST_USER_FRONT_DEFAULT_QUEUE_MAX; at most 32768). */
	uint16_t queue_max;
	/** Protocol features the front may use, within
	 * ::VIO_VHOST_USER_FRONT_PROTOCOL_FEATURES (0: all of those). */
	uint64_t protocol_features;
};

/** @brief A vhost-user front (opaque; lives in caller memory, see
 *         ::VIO_VHOST_USER_FRONT_MEM_SIZE). */
struct vio_vhost_user_front;

/** @cond VIO_INTERNAL */
#define VIO__VHOST_USER_FRONT_FIXED_BYTES 448u /* checked against the real struct */
#define VIO__VHOST_USER_FRONT_PER_QUEUE_BYTES 8u
/** @endcond */
/** @brief Bytes of memory a front with @p queue_slots queues needs (a constant expression). */
#define VIO_VHOST_USER_FRONT_MEM_SIZE(queue_slots)                                                 \
	((size_t)VIO__VHOST_USER_FRONT_FIXED_BYTES +                                               \
	 (size_t)VIO__VHOST_USER_FRONT_PER_QUEUE_BYTES * (size_t)(queue_slots))
/** @brief Alignment of that memory. */
#define VIO_VHOST_USER_FRONT_MEM_ALIGN 8u

/**
 * @brief Create a front in caller memory. No I/O.
 * @param fp       Receives the front (a pointer into @p mem).
 * @param mem      ::VIO_VHOST_USER_FRONT_MEM_ALIGN-aligned memory, owned by
 *                 the front while it is used.
 * @param mem_size Bytes at @p mem (≥ ::VIO_VHOST_USER_FRONT_MEM_SIZE(queue_slots)).
 * @param cfg      Configuration; copied (the io table is referenced and
 *                 must outlive the front).
 * @retval 0 Success.
 * @retval -VIO_EINVAL NULL pointer, missing io callback, device ID 0, queue
 *         slots 0 or too many, queue_max above 32768, protocol features
 *         outside ::VIO_VHOST_USER_FRONT_PROTOCOL_FEATURES, memory too small
 *         or misaligned.
 */
int vio_vhost_user_front_init(struct vio_vhost_user_front **fp, void *mem, size_t mem_size,
			      const struct vio_vhost_user_front_config *cfg);

/**
 * @brief Add a shared memory region to the table sent with SET_MEM_TABLE
 *        (at FEATURES_OK). Before vio_vhost_user_front_connect() or while
 *        the device is reset.
 * @param f  The front.
 * @param r  The region: guest-physical start, size, the front end's user
 *           address of its start, offset in @p fd. Copied.
 * @param fd A file descriptor the back end can mmap (memfd, MAP_SHARED);
 *           still owned by the caller, who keeps it open while the front is used.
 * @retval 0 Added.
 * @retval -VIO_EINVAL NULL, size 0, a range that wraps, overlapping guest or
 *         user ranges, a negative fd, ::VIO_VHOST_USER_MAX_REGIONS already.
 */
int vio_vhost_user_front_add_region(struct vio_vhost_user_front *f,
				    const struct vio_vhost_user_mem_region *r, int fd);

/**
 * @brief The session handshake: SET_OWNER, GET_FEATURES; if bit 30 is
 *        offered GET_PROTOCOL_FEATURES and SET_PROTOCOL_FEATURES (the
 *        offered ones the front may use); with PROTOCOL_F_MQ GET_QUEUE_NUM.
 * @param f The front, just created.
 * @retval 0 Connected.
 * @retval -VIO_EINVAL Called twice.
 * @retval -VIO_EDEVICE GET_QUEUE_NUM answered 0 or more than
 *         ::VIO_VHOST_USER_FRONT_MAX_QUEUES.
 * @retval <0 ::VIO_EVHOST_REPLY, ::VIO_EVHOST_TIMEOUT, ::VIO_EVHOST_IO or an
 *         io error (latched).
 * @note Calls the io's @c send and @c recv.
 */
int vio_vhost_user_front_connect(struct vio_vhost_user_front *f);

/**
 * @brief The driver-core transport ops of vhost-user. Their context
 *        (::vio_drv_config::ops_ctx) is the front.
 *
 * No configuration generation, no vectors, no queue reset (so the core
 * does not negotiate VIO_F_RING_RESET); VIO_F_NOTIFICATION_DATA and
 * VIO_F_NOTIF_CONFIG_DATA are not offered (an eventfd carries no data).
 * `num_queues` is the GET_QUEUE_NUM answer (the queue slots without
 * PROTOCOL_F_MQ); `queue_max` is ::vio_vhost_user_front_config::queue_max
 * for a queue below both, 0 past them.
 */
extern const struct vio_drv_transport_ops vio_vhost_user_front_ops;

/**
 * @brief Fill a ::vio_drv_config's transport fields for front @p f.
 * @param f   The front.
 * @param cfg The driver configuration to complete (ops, ops_ctx).
 */
void vio_vhost_user_front_drv_config(struct vio_vhost_user_front *f, struct vio_drv_config *cfg);

/**
 * @brief The features of the last GET_FEATURES reply, raw (bit 30 included).
 * @param f The front.
 * @return The 64 bits (0 before vio_vhost_user_front_connect()).
 */
uint64_t vio_vhost_user_front_backend_features(const struct vio_vhost_user_front *f);

/**
 * @brief The protocol features the back end offered.
 * @param f The front.
 * @return GET_PROTOCOL_FEATURES's answer (0 without bit 30).
 */
uint64_t vio_vhost_user_front_backend_protocol_features(const struct vio_vhost_user_front *f);

/**
 * @brief The protocol features in use (sent with SET_PROTOCOL_FEATURES).
 * @param f The front.
 * @return The mask.
 */
uint64_t vio_vhost_user_front_protocol_features(const struct vio_vhost_user_front *f);

/**
 * @brief The features sent with the last SET_FEATURES (bit 30 included).
 * @param f The front.
 * @return The 64 bits (0 before FEATURES_OK).
 */
uint64_t vio_vhost_user_front_acked_features(const struct vio_vhost_user_front *f);

/**
 * @brief The queue count the back end reported (GET_QUEUE_NUM), 0 without
 *        PROTOCOL_F_MQ.
 * @param f The front.
 * @return The count.
 */
uint16_t vio_vhost_user_front_backend_queues(const struct vio_vhost_user_front *f);

/**
 * @brief The `num` of the last GET_VRING_BASE reply of queue @p index (the
 *        ring position the back end stopped at), decoded.
 * @param f     The front.
 * @param index Queue index.
 * @param st    Receives the position.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Bad index, or the queue was never stopped.
 */
int vio_vhost_user_front_stopped_base(const struct vio_vhost_user_front *f, uint16_t index,
				      struct vio_ring_state *st);

/**
 * @brief The latched connection error.
 * @param f The front.
 * @return 0, or the negative code that broke the connection.
 */
int vio_vhost_user_front_error(const struct vio_vhost_user_front *f);

/**
 * @brief Whether queue @p index is started (its kick fd sent, not stopped).
 * @param f     The front.
 * @param index Queue index.
 * @return true if started.
 */
bool vio_vhost_user_front_queue_started(const struct vio_vhost_user_front *f, uint16_t index);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VHOST_USER_FRONT_H */
