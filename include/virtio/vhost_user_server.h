/* SPDX-License-Identifier: MIT */
/**
 * @file vhost_user_server.h
 * @brief The POSIX vhost-user back-end server: a Unix socket, one front end
 *        at a time, served by the dispatcher of vhost_user_backend.h
 *        (library libvirtio-vhost-user, CMake target `virtio::vhost_user`,
 *        pkg-config `virtio-vhost-user`; Linux).
 *
 * \defgroup vio_vhost_user_server vhost-user back-end server (vio_vhost_user_server)
 * @{
 * Everything the dispatcher leaves to the platform: `listen`/`accept` on a
 * Unix socket, `recvmsg` with SCM_RIGHTS (MSG_CMSG_CLOEXEC; a truncated
 * control message or more than 8 descriptors closes the connection, and
 * every descriptor received is either kept by the back end or closed),
 * `mmap` of the memory regions and the dirty log, eventfd reads and writes.
 *
 * **One thread.** vio_vhost_user_server_run() is a `poll` loop over the
 * socket and the rings' kick eventfds; a kick serves its queue inline
 * (the device model must not have a runner, device_runner.h). A front end
 * that stops sending half-way through a message is dropped after a
 * 1-second receive timeout. When the front end goes away, the device is
 * reset, every mapping and descriptor released, and the next front end
 * accepted: the process keeps serving until vio_vhost_user_server_stop().
 *
 * A complete virtio-blk back end:
 * @code
 * struct vio_blk_device_config bc = {0};     // the disk: see blk_device.h
 * ...
 * vio_blk_device_init(&bd, bd_mem, vio_blk_device_mem_size(&bc), &bc);
 * struct vio_device_info info = {0};
 * vio_blk_device_info(bd, &info);
 * struct vio_vhost_user_server_config sc = {0};
 * sc.info = &info;
 * sc.socket_path = "/tmp/vhost-blk.sock";
 * size_t n = vio_vhost_user_server_mem_size(&sc);
 * void *mem = aligned_alloc(8, (n + 7) & ~(size_t)7);
 * struct vio_vhost_user_server *srv;
 * int rc = vio_vhost_user_server_init(&srv, mem, n, &sc);
 * if (rc == 0)
 *         rc = vio_vhost_user_server_run(srv);   // until vio_vhost_user_server_stop()
 * vio_vhost_user_server_fini(srv);
 * @endcode
 */
#ifndef VIO_VHOST_USER_SERVER_H
#define VIO_VHOST_USER_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/device.h>
#include <virtio/vhost_user_backend.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A server (opaque; caller memory, see vio_vhost_user_server_mem_size()). */
struct vio_vhost_user_server;

/** @brief Alignment of the memory given to vio_vhost_user_server_init(). */
#define VIO_VHOST_USER_SERVER_MEM_ALIGN 8

/** @brief How to build a server. Zero-initialise, then fill in. */
struct vio_vhost_user_server_config {
	/** The device model's description (vio_blk_device_info(), …); as
	 * ::vio_vhost_user_backend_config::info. */
	const struct vio_device_info *info;
	/** Path of the Unix socket to create and listen on (a stale socket
	 * there is removed; any other file is not), or NULL. */
	const char *socket_path;
	/** With @c socket_path NULL: an already bound and listening socket
	 * (e.g. from a service manager; the server owns it), or -1 for none
	 * (front ends only through vio_vhost_user_server_adopt()). */
	int listen_fd;
	/** Do not offer VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD (as
	 * ::vio_vhost_user_backend_config::no_inflight). */
	bool no_inflight;
};

/**
 * @brief Bytes of memory vio_vhost_user_server_init() needs.
 * @param cfg The configuration.
 * @return The size, or 0 if @p cfg is invalid.
 */
size_t vio_vhost_user_server_mem_size(const struct vio_vhost_user_server_config *cfg);

/**
 * @brief Create the back end and its device core in @p mem and start
 *        listening.
 * @param sp       Receives the server (a pointer into @p mem).
 * @param mem      ::VIO_VHOST_USER_SERVER_MEM_ALIGN-aligned memory, owned by
 *                 the caller until vio_vhost_user_server_fini().
 * @param mem_size Bytes at @p mem.
 * @param cfg      The configuration (copied; @c info as in
 *                 vio_vhost_user_backend_init()).
 * @retval 0 Listening.
 * @retval -VIO_EINVAL Bad arguments, too little memory, a socket path too
 *         long for `sun_path`, or a description the back end refuses.
 * @retval -VIO_EVHOST_SYS `socket`, `bind`, `listen` or `eventfd` failed
 *         (errno tells why).
 */
int vio_vhost_user_server_init(struct vio_vhost_user_server **sp, void *mem, size_t mem_size,
			       const struct vio_vhost_user_server_config *cfg);

/**
 * @brief Serve front ends, one at a time, until vio_vhost_user_server_stop().
 * @param s The server.
 * @retval 0 Stopped.
 * @retval -VIO_EVHOST_SYS `poll` or `accept` failed for good.
 */
int vio_vhost_user_server_run(struct vio_vhost_user_server *s);

/**
 * @brief One round of the loop: wait up to @p timeout_ms for the listening
 *        socket, the connection or a kick, and handle what is ready.
 * @param s          The server.
 * @param timeout_ms As `poll`'s timeout (-1: wait).
 * @retval 0 Handled (or nothing happened in time).
 * @retval 1 Stopped (vio_vhost_user_server_stop()).
 * @retval -VIO_EVHOST_SYS `poll` or `accept` failed.
 */
int vio_vhost_user_server_run_once(struct vio_vhost_user_server *s, int timeout_ms);

/**
 * @brief Serve an already connected socket (e.g. one end of a
 *        `socketpair`, or vhost-user's `--fd` convention) instead of
 *        accepting: it becomes the connection (the server owns it). Fails if
 *        a front end is connected.
 * @param s  The server.
 * @param fd The connected socket.
 * @retval 0 Taken.
 * @retval -VIO_EINVAL A connection is already being served.
 */
int vio_vhost_user_server_adopt(struct vio_vhost_user_server *s, int fd);

/**
 * @brief Make vio_vhost_user_server_run() return. Async-signal-safe (one
 *        `write` to an eventfd), callable from any thread.
 * @param s The server.
 */
void vio_vhost_user_server_stop(struct vio_vhost_user_server *s);

/**
 * @brief Drop the front end (if any), close the socket (and remove its
 *        path, when the server created it) and release everything.
 * @param s The server.
 */
void vio_vhost_user_server_fini(struct vio_vhost_user_server *s);

/**
 * @brief The dispatcher inside the server.
 * @param s The server.
 * @return The back end.
 */
struct vio_vhost_user_backend *vio_vhost_user_server_backend(struct vio_vhost_user_server *s);

/**
 * @brief True while a front end is connected.
 * @param s The server.
 * @return true if connected.
 */
bool vio_vhost_user_server_connected(const struct vio_vhost_user_server *s);

/**
 * @brief Front ends served to the end so far (connections closed).
 * @param s The server.
 * @return The count.
 */
unsigned long vio_vhost_user_server_sessions(const struct vio_vhost_user_server *s);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VHOST_USER_SERVER_H */
