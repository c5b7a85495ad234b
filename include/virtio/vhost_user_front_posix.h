/* SPDX-License-Identifier: MIT */
/**
 * @file vhost_user_front_posix.h
 * @brief vhost-user front end on Linux (libvirtio-vhost-user,
 *        `virtio::vhost_user`): a Unix-socket connection, a shared memory
 *        arena (memfd, MAP_SHARED) and eventfds around the protocol front
 *        of vhost_user_front.h.
 *
 * \defgroup vio_vhost_user_front_posix vhost-user front end, POSIX part (vio_vhost_user_front_posix)
 * @{
 * Not part of libvirtio (which is freestanding): link
 * `virtio::vhost_user`. This header itself includes no system header.
 *
 * vio_vhost_user_front_posix_open() connects to a back end's socket,
 * creates the arena and one kick and one call eventfd per queue slot,
 * creates the protocol front with the arena as its only memory region and
 * runs the handshake (vio_vhost_user_front_connect()). Then:
 * @code
 * struct vio_vhost_user_front_posix *p;
 * struct vio_vhost_user_front_posix_config pc = {
 *         .socket_path = "/run/vhost-blk.sock", .device_id = VIO_ID_BLOCK,
 *         .queue_slots = 1, .arena_size = 1 << 20};
 * vio_vhost_user_front_posix_open(&p, &pc);
 * struct vio_drv_config dc = {0};
 * vio_vhost_user_front_posix_drv_config(p, &dc);  // ops + the arena's DMA ops
 * ... vio_drv_init(), vio_blk_driver_start() with rings and buffers from
 *     vio_vhost_user_front_posix_alloc() ...
 * vio_drv_kick(); vio_vhost_user_front_posix_wait(p, 1000); vio_drv_interrupt();
 * vio_drv_reset(drv);                             // GET_VRING_BASE: rings stop
 * vio_vhost_user_front_posix_close(p);
 * @endcode
 *
 * **Addresses.** The arena is guest-physical memory starting at
 * ::vio_vhost_user_front_posix_config::arena_gpa; its user address is where
 * it is mapped here. Everything the back end reaches (rings, indirect
 * tables, request headers, data buffers) must come from
 * vio_vhost_user_front_posix_alloc(): the DMA ops of
 * vio_vhost_user_front_posix_drv_config() turn pointers into the arena into
 * guest-physical addresses and refuse any other pointer.
 *
 * **Bounded waits.** Every reply is awaited at most
 * ::vio_vhost_user_front_posix_config::timeout_ms (::VIO_EVHOST_TIMEOUT);
 * a closed socket is ::VIO_EVHOST_IO. SIGPIPE is never raised (MSG_NOSIGNAL).
 *
 * **Memory.** Unlike libvirtio, this component allocates: the connection
 * object (malloc) and the arena (mmap), both released by
 * vio_vhost_user_front_posix_close().
 *
 * **Threads.** As vhost_user_front.h; vio_vhost_user_front_posix_wait()
 * only polls the call eventfds and may run beside the control path.
 */
#ifndef VIO_VHOST_USER_FRONT_POSIX_H
#define VIO_VHOST_USER_FRONT_POSIX_H

#include <stddef.h>
#include <stdint.h>

#include <virtio/dma.h>
#include <virtio/driver.h>
#include <virtio/vhost_user_front.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Default bound on every reply wait, in milliseconds. */
#define VIO_VHOST_USER_FRONT_POSIX_DEFAULT_TIMEOUT_MS 5000
/** @brief Default guest-physical address of the arena (not 0, and not its
 *         user address, so a back end that confuses the two fails loudly). */
#define VIO_VHOST_USER_FRONT_POSIX_DEFAULT_GPA UINT64_C(0x40000000)

/** @brief How to open a connection. Zero-initialise, then fill in. */
struct vio_vhost_user_front_posix_config {
	/** Path of the back end's Unix socket (ignored by
	 * vio_vhost_user_front_posix_open_fd()). */
	const char *socket_path;
	/** How long to retry connecting while the socket is missing or
	 * refuses (a back end still starting), in ms; 0: one attempt. */
	int connect_timeout_ms;
	/** Bound of every reply wait in ms (0:
	 * ::VIO_VHOST_USER_FRONT_POSIX_DEFAULT_TIMEOUT_MS). */
	int timeout_ms;
	/** Bytes of shared memory (rounded up to the page size; required). */
	size_t arena_size;
	/** Guest-physical address of the arena's first byte (0:
	 * ::VIO_VHOST_USER_FRONT_POSIX_DEFAULT_GPA). */
	uint64_t arena_gpa;
	uint32_t device_id;	    /**< As ::vio_vhost_user_front_config::device_id. */
	uint16_t queue_slots;	    /**< As ::vio_vhost_user_front_config::queue_slots. */
	uint16_t queue_max;	    /**< As ::vio_vhost_user_front_config::queue_max. */
	uint64_t protocol_features; /**< As ::vio_vhost_user_front_config::protocol_features. */
};

/** @brief A connection (opaque; vio_vhost_user_front_posix_open()). */
struct vio_vhost_user_front_posix;

/**
 * @brief Connect to @c socket_path, create the arena and the eventfds, and
 *        run the handshake.
 * @param out Receives the connection.
 * @param cfg The configuration (copied; @c socket_path need not outlive the call).
 * @retval 0 Connected.
 * @retval -VIO_EINVAL Bad configuration (NULL, no path, arena size 0,
 *         vio_vhost_user_front_init()'s refusals).
 * @retval -VIO_EVHOST_IO The socket, memfd, mmap or eventfd failed (no
 *         back end listening within @c connect_timeout_ms included).
 * @retval <0 vio_vhost_user_front_connect()'s errors.
 * Nothing is left open on error.
 */
int vio_vhost_user_front_posix_open(struct vio_vhost_user_front_posix **out,
				    const struct vio_vhost_user_front_posix_config *cfg);

/**
 * @brief As vio_vhost_user_front_posix_open() over a connected stream
 *        socket @p sock (e.g. one end of a socketpair, or a socket handed
 *        over by a parent). The connection owns @p sock from then on (also on error).
 * @param out  Receives the connection.
 * @param cfg  The configuration.
 * @param sock A connected `AF_UNIX` `SOCK_STREAM` socket.
 * @return As vio_vhost_user_front_posix_open().
 */
int vio_vhost_user_front_posix_open_fd(struct vio_vhost_user_front_posix **out,
				       const struct vio_vhost_user_front_posix_config *cfg,
				       int sock);

/**
 * @brief Close the socket and the eventfds, unmap the arena, free @p p.
 *        The back end sees the connection end. Reset the driver core
 *        first (vio_drv_reset()) to stop the rings cleanly.
 * @param p The connection (NULL: nothing).
 */
void vio_vhost_user_front_posix_close(struct vio_vhost_user_front_posix *p);

/**
 * @brief The protocol front of the connection.
 * @param p The connection.
 * @return The front (owned by @p p).
 */
struct vio_vhost_user_front *vio_vhost_user_front_posix_front(struct vio_vhost_user_front_posix *p);

/**
 * @brief Fill a ::vio_drv_config's transport and DMA fields: the front's
 *        ops and the arena's address conversion.
 * @param p   The connection.
 * @param cfg The driver configuration to complete (ops, ops_ctx, dma_ops, dma_ctx).
 */
void vio_vhost_user_front_posix_drv_config(struct vio_vhost_user_front_posix *p,
					   struct vio_drv_config *cfg);

/**
 * @brief Take @p size bytes of the arena, aligned to @p align (a power of
 *        two; 0 means 16), zeroed. A bump allocator: nothing is freed
 *        before vio_vhost_user_front_posix_close().
 * @param p     The connection.
 * @param size  Bytes.
 * @param align Alignment.
 * @return The memory, or NULL when the arena is exhausted or @p align is bad.
 */
void *vio_vhost_user_front_posix_alloc(struct vio_vhost_user_front_posix *p, size_t size,
				       size_t align);

/**
 * @brief The guest-physical address of arena pointer @p ptr.
 * @param p    The connection.
 * @param ptr  A pointer into the arena.
 * @param len  Bytes from @p ptr that must lie inside the arena.
 * @param gpa  Receives the address.
 * @retval 0 Success.
 * @retval -VIO_EINVAL @p ptr .. @p ptr + @p len is not inside the arena.
 */
int vio_vhost_user_front_posix_gpa(const struct vio_vhost_user_front_posix *p, const void *ptr,
				   size_t len, uint64_t *gpa);

/**
 * @brief Wait until a started queue's call eventfd is readable, at most
 *        @p timeout_ms (−1: no bound). The eventfd is not consumed: the
 *        driver core's interrupt status does that (vio_drv_interrupt()).
 * @param p          The connection.
 * @param timeout_ms Bound in ms.
 * @retval 0 A call is pending.
 * @retval -VIO_EAGAIN None within the bound.
 * @retval -VIO_EVHOST_IO poll() failed.
 */
int vio_vhost_user_front_posix_wait(struct vio_vhost_user_front_posix *p, int timeout_ms);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VHOST_USER_FRONT_POSIX_H */
