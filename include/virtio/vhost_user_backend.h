/* SPDX-License-Identifier: MIT */
/**
 * @file vhost_user_backend.h
 * @brief vhost-user back end (device side): message validation and the
 *        dispatcher that drives a device core (device.h) from a front end's
 *        messages. Freestanding: every system call goes through callbacks.
 *
 * \defgroup vio_vhost_user_backend vhost-user back end (vio_vhost_user_backend)
 * @{
 * vhost-user is one more transport register model for the device core, like
 * virtio-mmio (mmio_dev.h): a front end (QEMU, DPDK's virtio-user, …) sends
 * messages over a Unix socket; the back end turns them into device-core
 * calls. This header holds the protocol logic, without a single system call:
 *
 * - vio_vhost_user_msg_check_hdr() / vio_vhost_user_msg_check(): validate a
 *   received message (version, flags, exact payload size for its request,
 *   number of file descriptors) before anything reads its payload;
 * - `struct vio_vhost_user_backend`: the state machine. It owns a device core
 *   (created from the device model's ::vio_device_info), takes one message
 *   and its fds (vio_vhost_user_backend_handle()), acts, and produces the
 *   reply. Mapping memory, closing fds and signalling eventfds go through
 *   ::vio_vhost_user_backend_ops, so the whole dispatcher runs (and is
 *   fuzzed) with fake callbacks.
 *
 * The POSIX server around it (socket, `recvmsg` with SCM_RIGHTS, `mmap`,
 * eventfd, a poll loop) is vhost_user_server.h, in libvirtio-vhost-user.
 *
 * **What the back end does with each request.**
 * | Request | Action |
 * |---------|--------|
 * | GET_FEATURES | the device core's offer + ::VIO_VHOST_USER_F_PROTOCOL_FEATURES + ::VIO_VHOST_F_LOG_ALL |
 * | SET_FEATURES | drives the device core: driver feature words, ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK; refuses bits not offered |
 * | GET/SET_PROTOCOL_FEATURES | MQ, LOG_SHMFD, REPLY_ACK, CONFIG, RESET_DEVICE; INFLIGHT_SHMFD when the model sets ::vio_device_info::takes_resubmitted, the ops have `create_shm` and ::vio_vhost_user_backend_config::no_inflight is clear |
 * | GET_QUEUE_NUM | the device's queue count |
 * | SET_OWNER, RESET_OWNER, RESET_DEVICE | session start; stop every ring and reset the device (and start the inflight region over: nothing is in flight) |
 * | SET_MEM_TABLE | maps every region, gives the device core the region table (vio_device_set_mem_table()); live rings move to the new table at their position |
 * | SET_VRING_NUM / ADDR / BASE | the ring's configuration, kept until the ring starts; ADDR translates the front end's user addresses to guest-physical ones through the table |
 * | SET_VRING_KICK | starts the ring (the device core enables the queue at its base) |
 * | SET_VRING_ENABLE | enables / disables a started ring |
 * | GET_VRING_BASE | stops the ring and reports its position (vio_vhost_user_vring_base_encode()) |
 * | SET_VRING_CALL / ERR | the used-buffer and error eventfds |
 * | GET/SET_CONFIG | vio_device_config_read() / vio_device_config_write() |
 * | SET_LOG_BASE | maps the dirty log; with LOG_ALL every device write sets its page's bit |
 * | GET_INFLIGHT_FD | creates the region for the front end's `num_queues` × `queue_size` (`create_shm`, vio_vhost_user_inflight_init()), replies with its size and fd (::vio_vhost_user_reply::fd); on failure replies `mmap_size` 0 ("no tracking") |
 * | SET_INFLIGHT_FD | checks (vio_vhost_user_inflight_check()) and maps the region, kept until replaced, `mmap_size` 0 or disconnect; refused while a ring is started |
 *
 * **Ring states** (vhost-user.rst "Ring states"). A ring is *stopped* until
 * SET_VRING_KICK (the back end starts it when the kick fd is installed; a
 * kick with the NOFD bit starts it in polling mode), *started* until
 * GET_VRING_BASE, and *enabled* by SET_VRING_ENABLE when
 * ::VIO_VHOST_USER_F_PROTOCOL_FEATURES was negotiated, else from the start.
 * The device core's queue is enabled exactly while the ring is started and
 * enabled: a started but disabled ring is not processed (for a block device
 * there is no processing "without side effects").
 *
 * **Hostile front end.** Everything in a message is checked. A malformed
 * message (size, flags, fd count) closes the connection
 * (::vio_vhost_user_reply::close). A well-formed request that cannot be
 * carried out (out of order, queue index out of range, addresses outside
 * the memory table, overlapping regions) changes nothing and is answered
 * with a failure when the front end asked for a reply
 * (::VIO_VHOST_USER_FLAG_NEED_REPLY) or when the request has a reply body.
 *
 * **Threads.** One thread calls every function of a back end (the server's
 * loop). The device must be served on that thread too: the model without a
 * runner (queues served inline, inside vio_vhost_user_backend_kick()), or a
 * runner whose `stop` really stops (device_runner.h); the fds used for
 * signalling are then only replaced while no queue thread can use them
 * (a replaced call fd of a live ring is swapped between stop and restart of
 * the queue).
 */
#ifndef VIO_VHOST_USER_BACKEND_H
#define VIO_VHOST_USER_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/device.h>
#include <virtio/vhost_user.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Largest payload of a message this back end accepts (GET/SET_CONFIG
 *         with 256 bytes of configuration space). */
#define VIO_VHOST_USER_PAYLOAD_MAX 268u

/** @brief Most queues a vhost-user device can have: SET_VRING_KICK/CALL/ERR
 *         carry the index in 8 bits. */
#define VIO_VHOST_USER_MAX_QUEUES 256u

/** @brief A received message: header, payload and file descriptors.
 *
 * The payload union is 8-byte aligned, so it does not follow the 12-byte
 * header directly: on the wire send `hdr` then `hdr.size` bytes of
 * `payload` (two iovecs), never the struct as one block. */
struct vio_vhost_user_msg {
	struct vio_vhost_user_hdr hdr; /**< The header as received. */
	/** The payload (`hdr.size` bytes are meaningful). */
	union {
		uint64_t u64;				       /**< A single 64-bit number. */
		struct vio_vhost_user_vring_state state;       /**< Vring state. */
		struct vio_vhost_user_vring_addr addr;	       /**< Vring addresses. */
		struct vio_vhost_user_memory memory;	       /**< SET_MEM_TABLE. */
		struct vio_vhost_user_log log;		       /**< SET_LOG_BASE. */
		struct vio_vhost_user_config config;	       /**< GET/SET_CONFIG. */
		struct vio_vhost_user_inflight inflight;       /**< GET/SET_INFLIGHT_FD. */
		unsigned char raw[VIO_VHOST_USER_PAYLOAD_MAX]; /**< The bytes. */
	} payload;
	int fds[VIO_VHOST_USER_MAX_FDS]; /**< File descriptors received with it. */
	uint32_t nfds;			 /**< Entries in @c fds. */
};

/**
 * @brief Check a message header before reading the payload.
 * @param hdr The header (untrusted).
 * @retval 0 The version is 1, the REPLY flag clear, no unknown flag set,
 *         and @c size at most ::VIO_VHOST_USER_PAYLOAD_MAX: read @c size
 *         bytes of payload.
 * @retval -VIO_EVHOST_MSG Otherwise: the stream cannot be trusted, close it.
 * @note Pure; any thread.
 */
int vio_vhost_user_msg_check_hdr(const struct vio_vhost_user_hdr *hdr);

/**
 * @brief Check a whole message: the header, the exact payload size its
 *        request needs, and the number of file descriptors it carries.
 *
 * Sizes: none for GET_FEATURES, SET_OWNER, RESET_OWNER,
 * GET_PROTOCOL_FEATURES, GET_QUEUE_NUM, RESET_DEVICE; a u64 for
 * SET_FEATURES, SET_PROTOCOL_FEATURES, SET_VRING_KICK/CALL/ERR; a vring
 * state for SET_VRING_NUM/BASE/ENABLE and GET_VRING_BASE; a vring address
 * for SET_VRING_ADDR; 8 + 32·n with 1 ≤ n ≤ 8 for SET_MEM_TABLE; 16 for
 * SET_LOG_BASE; 12 + size with size ≤ 256 for GET/SET_CONFIG; 24 for
 * GET/SET_INFLIGHT_FD. Fds: one per region for SET_MEM_TABLE, one for
 * SET_LOG_BASE and SET_LOG_FD, one for SET_VRING_KICK/CALL/ERR unless the
 * payload's NOFD bit is set (then none), one for SET_INFLIGHT_FD, none for
 * the others.
 * @param m The message (untrusted).
 * @retval 0 Well-formed.
 * @retval -VIO_EVHOST_MSG Bad header, or a payload size wrong for the request.
 * @retval -VIO_EVHOST_FDS A wrong number of file descriptors.
 * @retval -VIO_EVHOST_UNSUPPORTED A request this back end does not know
 *         (the header was fine: the stream is still in step).
 * @note Pure; any thread.
 */
int vio_vhost_user_msg_check(const struct vio_vhost_user_msg *m);

/** @brief A back end (opaque; caller memory, see vio_vhost_user_backend_mem_size()). */
struct vio_vhost_user_backend;

/** @brief Alignment of the memory given to vio_vhost_user_backend_init(). */
#define VIO_VHOST_USER_BACKEND_MEM_ALIGN 8

/**
 * **Inflight tracking** (vhost_user_inflight.h, docs/vhost-user-inflight.md).
 * With a region set (SET_INFLIGHT_FD), a ring that starts is attached to its
 * part (vio_vhost_user_inflight_attach(), through the device core's queue
 * hooks, ::vio_device_queue_hooks) instead of taking SET_VRING_BASE as is:
 * when the part records chains in flight, the ring position comes from the
 * part and the ring (a front end that lost the back end sends a stale
 * base), and those chains reach the model first (vio_device_queue_pop()),
 * in the order they were popped. Chains the model drops when a ring stops
 * stay recorded for the next start. A disconnect keeps the record (the
 * front end owns the region); RESET_DEVICE clears it.
 */

/**
 * @brief The platform, as the back end needs it. All members but
 *        @c signal are required. Called on the back end's thread, from
 *        inside the back-end call that needs them.
 */
struct vio_vhost_user_backend_ops {
	/**
	 * @brief Map @p size bytes of @p fd from @p offset, shared, readable
	 *        and writable (guest memory, the dirty log).
	 * @param ctx    ::vio_vhost_user_backend_config::ctx.
	 * @param fd     A descriptor the front end sent (still owned by the back end).
	 * @param offset Offset in @p fd (any value: page alignment is the
	 *               callback's business).
	 * @param size   Bytes, ≥ 1; @p offset + @p size does not wrap.
	 * @param host   Receives the host address of byte @p offset.
	 * @return 0, or a negative code (the request fails).
	 */
	int (*map)(void *ctx, int fd, uint64_t offset, uint64_t size, void **host);
	/**
	 * @brief Undo one successful map().
	 * @param ctx    The context.
	 * @param host   What map() returned.
	 * @param offset The @p offset given to map().
	 * @param size   The @p size given to map().
	 */
	void (*unmap)(void *ctx, void *host, uint64_t offset, uint64_t size);
	/**
	 * @brief Close a descriptor the back end owns (one it received, when it
	 *        is replaced, not kept, or at disconnect).
	 * @param ctx The context.
	 * @param fd  The descriptor.
	 */
	void (*close_fd)(void *ctx, int fd);
	/**
	 * @brief Signal an eventfd (SET_VRING_CALL's on used buffers,
	 *        SET_VRING_ERR's when a queue breaks): add 1 to it.
	 *        NULL: nothing is signalled.
	 * @param ctx The context.
	 * @param fd  The eventfd.
	 */
	void (*signal)(void *ctx, int fd);
	/**
	 * @brief Create shared memory of @p size bytes (a memfd) and map it
	 *        shared, readable and writable (GET_INFLIGHT_FD's region).
	 *        NULL: ::VIO_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD is not offered.
	 *
	 * The back end initialises the area, undoes the mapping with
	 * `unmap(ctx, host, 0, size)` and hands @p fd to the caller of
	 * vio_vhost_user_backend_handle() in the reply (or closes it with
	 * close_fd() on failure).
	 * @param ctx  The context.
	 * @param size Bytes, ≥ 1.
	 * @param fd   Receives the descriptor.
	 * @param host Receives the mapping (page-aligned), zero-filled.
	 * @return 0, or a negative code (the front end is told "no tracking").
	 */
	int (*create_shm)(void *ctx, uint64_t size, int *fd, void **host);
};

/** @brief How to build a back end. Zero-initialise, then fill in. */
struct vio_vhost_user_backend_config {
	/** The device model's description (e.g. from vio_blk_device_info()):
	 * copied; its memory fields (regions, mem_ops, mem_ctx) are the back
	 * end's and ignored. At most ::VIO_VHOST_USER_MAX_QUEUES queues. */
	const struct vio_device_info *info;
	const struct vio_vhost_user_backend_ops *ops; /**< The platform (referenced). */
	void *ctx;				      /**< Passed to @c ops. */
	/** Do not offer ::VIO_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD even though
	 * the model could use it (it is offered when the model sets
	 * ::vio_device_info::takes_resubmitted and @c ops has `create_shm`). */
	bool no_inflight;
};

/**
 * @brief Bytes of memory vio_vhost_user_backend_init() needs (the back end
 *        and its device core).
 * @param cfg The configuration.
 * @return The size, or 0 if @p cfg is invalid.
 * @note Pure.
 */
size_t vio_vhost_user_backend_mem_size(const struct vio_vhost_user_backend_config *cfg);

/**
 * @brief Create a back end and its device core in @p mem, disconnected.
 * @param bep      Receives the back end (a pointer into @p mem).
 * @param mem      ::VIO_VHOST_USER_BACKEND_MEM_ALIGN-aligned memory owned
 *                 by the caller, used until the back end is no longer used.
 * @param mem_size Bytes at @p mem, at least vio_vhost_user_backend_mem_size().
 * @param cfg      The configuration (copied; @c ops stays referenced).
 * @retval 0 Created.
 * @retval -VIO_EINVAL NULL or misaligned arguments, too little memory,
 *         missing callbacks, more than ::VIO_VHOST_USER_MAX_QUEUES queues,
 *         or a description vio_device_init() refuses.
 */
int vio_vhost_user_backend_init(struct vio_vhost_user_backend **bep, void *mem, size_t mem_size,
				const struct vio_vhost_user_backend_config *cfg);

/**
 * @brief The device core the back end drives (for the model's own calls,
 *        e.g. vio_device_config_update()).
 * @param be The back end.
 * @return The device.
 */
struct vio_device *vio_vhost_user_backend_device(struct vio_vhost_user_backend *be);

/**
 * @brief How a packed ring's SET_VRING_BASE is read
 *        (::VIO_VHOST_USER_BASE_AUTO after init).
 * @param be   The back end.
 * @param conv The convention.
 */
void vio_vhost_user_backend_set_base_conv(struct vio_vhost_user_backend *be,
					  enum vio_vhost_user_base_conv conv);

/** @brief What the caller does after vio_vhost_user_backend_handle(). */
struct vio_vhost_user_reply {
	/** Send a reply: @c msg.hdr and @c msg.hdr.size bytes of @c msg.payload
	 * (and @c fd if not -1). */
	bool send;
	/** Close the connection (after sending the reply, if any), then call
	 * vio_vhost_user_backend_disconnect(). */
	bool close;
	/** The reply (meaningful when @c send; @c nfds is 0). */
	struct vio_vhost_user_msg msg;
	/** A descriptor to send with the reply (SCM_RIGHTS), or -1: the
	 * GET_INFLIGHT_FD region. It is the caller's: close it once sent (or
	 * if the reply cannot be sent). */
	int fd;
};

/**
 * @brief Handle one message from the front end.
 *
 * Validates @p m (vio_vhost_user_msg_check()), carries it out and fills
 * @p out. Every fd in @p m becomes the back end's, whatever the outcome: it
 * is kept (memory regions stay mapped, eventfds kept until replaced or
 * disconnect) or closed through ::vio_vhost_user_backend_ops::close_fd.
 * @param be  The back end.
 * @param m   The message (untrusted; not modified).
 * @param out Receives the reply and the verdict.
 * @return 0 if the request was carried out, else the reason it was not
 *         (the reply, when there is one, says so to the front end):
 * @retval -VIO_EVHOST_MSG, -VIO_EVHOST_FDS Malformed (@c out->close set).
 * @retval -VIO_EVHOST_UNSUPPORTED Not implemented (answered, ignored).
 * @retval -VIO_EVHOST_ORDER A dependency is missing (no SET_FEATURES, no
 *         memory table, ring not configured, …).
 * @retval -VIO_EVHOST_QUEUE Queue index out of range.
 * @retval -VIO_EVHOST_MEM_TABLE Overlapping, empty or wrapping regions.
 * @retval -VIO_EVHOST_ADDR Ring addresses outside the memory table.
 * @retval <0 A device-core error (vio_device_set_status(), enabling a
 *         queue), or a map callback's.
 * @note Calls the ops and the device model's callbacks.
 */
int vio_vhost_user_backend_handle(struct vio_vhost_user_backend *be,
				  const struct vio_vhost_user_msg *m,
				  struct vio_vhost_user_reply *out);

/**
 * @brief The front end went away (or the connection was closed): stop every
 *        ring, reset the device, unmap all memory and the log, close every
 *        fd the back end holds, forget negotiated state. Ready for the next
 *        front end. Idempotent.
 * @param be The back end.
 */
void vio_vhost_user_backend_disconnect(struct vio_vhost_user_backend *be);

/**
 * @brief The kick fd of queue @p q (to poll), or -1: none, or ring stopped.
 * @param be The back end.
 * @param q  Queue index.
 * @return The fd, or -1.
 */
int vio_vhost_user_backend_kick_fd(const struct vio_vhost_user_backend *be, uint32_t q);

/**
 * @brief True if some live ring was started without a kick fd (NOFD):
 *        the caller polls it by calling vio_vhost_user_backend_kick()
 *        periodically.
 * @param be The back end.
 * @return true if polling is needed.
 */
bool vio_vhost_user_backend_needs_poll(const struct vio_vhost_user_backend *be);

/**
 * @brief The front end kicked queue @p q (its kick fd was readable and has
 *        been drained): an available-buffer notification to the device core
 *        if the ring is live. Serves the queue inline when the model has no
 *        runner.
 * @param be The back end.
 * @param q  Queue index.
 * @retval 0 Delivered.
 * @retval -VIO_EVHOST_QUEUE No such queue.
 * @retval -VIO_EQUEUE_STATE The ring is not live (stopped or disabled): dropped.
 */
int vio_vhost_user_backend_kick(struct vio_vhost_user_backend *be, uint32_t q);

/**
 * @brief Ring @p q is live in the device core (started and enabled).
 * @param be The back end.
 * @param q  Queue index.
 * @return true if live.
 */
bool vio_vhost_user_backend_ring_live(const struct vio_vhost_user_backend *be, uint32_t q);

/**
 * @brief How many chains live ring @p q found in flight in the inflight
 *        region when it started (re-submitted to the model before the
 *        ring's own chains), for logs and tests.
 * @param be The back end.
 * @param q  Queue index.
 * @return The count (≥ 0) if the ring journals into a region.
 * @retval -VIO_EAGAIN The ring is live without a region.
 * @retval -VIO_EQUEUE_STATE No such queue, or not live.
 */
int vio_vhost_user_backend_inflight(const struct vio_vhost_user_backend *be, uint32_t q);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VHOST_USER_BACKEND_H */
