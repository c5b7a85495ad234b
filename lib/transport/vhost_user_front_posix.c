/* SPDX-License-Identifier: MIT */
/* vhost-user front end, the system calls: a Unix-socket connection (sendmsg
 * with SCM_RIGHTS, recv with poll-bounded waits), a memfd arena mapped
 * MAP_SHARED, and a kick and a call eventfd per queue. The protocol lives
 * in vhost_user_front.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <virtio/errors.h>
#include <virtio/vhost_user.h>
#include <virtio/vhost_user_front.h>
#include <virtio/vhost_user_front_posix.h>

struct vio_vhost_user_front_posix {
	int sock;
	int memfd;
	int timeout_ms;
	unsigned char *arena;
	size_t arena_size;
	size_t arena_used;
	uint64_t gpa;
	uint16_t nq;
	int *kick; /* nq eventfds */
	int *call; /* nq eventfds */
	struct vio_vhost_user_front *front;
	void *front_mem;
	struct vio_dma_ops dma;
};

/* ---- time ------------------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int remaining(int64_t deadline)
{
	int64_t left = deadline - now_ms();
	return left < 0 ? 0 : (int)left;
}

/* ---- the io callbacks ------------------------------------------------------------------- */

static int io_send(void *ctx, const void *msg, size_t len, const int *fds, unsigned nfds)
{
	struct vio_vhost_user_front_posix *p = ctx;
	if (nfds > VIO_VHOST_USER_MAX_FDS)
		return -VIO_EINVAL;
	union {
		char buf[CMSG_SPACE(sizeof(int) * VIO_VHOST_USER_MAX_FDS)];
		struct cmsghdr align;
	} control;
	memset(&control, 0, sizeof(control));
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (nfds != 0) {
		mh.msg_control = control.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	/* The fds ride with the first byte; the rest (rarely any: messages are
	 * small) goes in plain sends. A full socket buffer is waited on with
	 * the same bound as a reply. */
	int64_t deadline = now_ms() + p->timeout_ms;
	size_t done = 0;
	while (done < len) {
		ssize_t n = sendmsg(p->sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pf = {.fd = p->sock, .events = POLLOUT};
				int r = poll(&pf, 1, remaining(deadline));
				if (r == 0)
					return -VIO_EVHOST_TIMEOUT;
				if (r < 0 && errno != EINTR)
					return -VIO_EVHOST_IO;
				continue;
			}
			return -VIO_EVHOST_IO;
		}
		done += (size_t)n;
		iov.iov_base = (char *)(uintptr_t)msg + done;
		iov.iov_len = len - done;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
	}
	return 0;
}

/* Close every fd a reply carried: none is expected, and keeping them would
 * let a back end exhaust our descriptor table. */
static void close_passed_fds(struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
		}
	}
}

static int io_recv(void *ctx, void *buf, size_t len)
{
	struct vio_vhost_user_front_posix *p = ctx;
	int64_t deadline = now_ms() + p->timeout_ms;
	size_t done = 0;
	while (done < len) {
		struct pollfd pf = {.fd = p->sock, .events = POLLIN};
		int r = poll(&pf, 1, remaining(deadline));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -VIO_EVHOST_IO;
		}
		if (r == 0)
			return -VIO_EVHOST_TIMEOUT;
		union {
			char buf[CMSG_SPACE(sizeof(int) * VIO_VHOST_USER_MAX_FDS)];
			struct cmsghdr align;
		} control;
		struct iovec iov = {.iov_base = (char *)buf + done, .iov_len = len - done};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = control.buf,
				    .msg_controllen = sizeof(control.buf)};
		ssize_t n = recvmsg(p->sock, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return -VIO_EVHOST_IO;
		}
		close_passed_fds(&mh);
		if (n == 0)
			return -VIO_EVHOST_IO; /* the back end closed the connection */
		done += (size_t)n;
	}
	return 0;
}

static int io_kick(void *ctx, uint16_t index)
{
	struct vio_vhost_user_front_posix *p = ctx;
	if (index >= p->nq)
		return -VIO_EINVAL;
	uint64_t one = 1;
	for (;;) {
		ssize_t n = write(p->kick[index], &one, sizeof(one));
		if (n == (ssize_t)sizeof(one))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		/* EAGAIN: the counter is saturated, the back end has a kick pending anyway. */
		return n < 0 && errno == EAGAIN ? 0 : -VIO_EVHOST_IO;
	}
}

static int io_call_pending(void *ctx, uint16_t index, bool *fired)
{
	struct vio_vhost_user_front_posix *p = ctx;
	*fired = false;
	if (index >= p->nq)
		return -VIO_EINVAL;
	uint64_t v;
	for (;;) {
		ssize_t n = read(p->call[index], &v, sizeof(v));
		if (n == (ssize_t)sizeof(v)) {
			*fired = v != 0;
			return 0;
		}
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 && errno == EAGAIN ? 0 : -VIO_EVHOST_IO;
	}
}

static int io_queue_fds(void *ctx, uint16_t index, int *kick_fd, int *call_fd)
{
	struct vio_vhost_user_front_posix *p = ctx;
	if (index >= p->nq)
		return -VIO_EINVAL;
	*kick_fd = p->kick[index];
	*call_fd = p->call[index];
	return 0;
}

static void io_delay(void *ctx, uint32_t us)
{
	(void)ctx;
	struct timespec ts = {.tv_sec = (time_t)(us / 1000000u),
			      .tv_nsec = (long)(us % 1000000u) * 1000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const struct vio_vhost_user_front_io posix_io = {
	.send = io_send,
	.recv = io_recv,
	.kick = io_kick,
	.call_pending = io_call_pending,
	.queue_fds = io_queue_fds,
	.delay = io_delay,
};

/* ---- the arena's address conversion ------------------------------------------------------ */

int vio_vhost_user_front_posix_gpa(const struct vio_vhost_user_front_posix *p, const void *ptr,
				   size_t len, uint64_t *gpa)
{
	uintptr_t a = (uintptr_t)ptr, base = (uintptr_t)p->arena;
	if (a < base || a - base > p->arena_size || len > p->arena_size - (a - base))
		return -VIO_EINVAL;
	*gpa = p->gpa + (uint64_t)(a - base);
	return 0;
}

static int dma_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			 uint64_t *addr)
{
	(void)dir;
	/* A buffer outside the arena is memory the back end cannot reach. */
	return vio_vhost_user_front_posix_gpa(ctx, ptr, len, addr) == 0 ? 0 : -VIO_EDMA;
}

void *vio_vhost_user_front_posix_alloc(struct vio_vhost_user_front_posix *p, size_t size,
				       size_t align)
{
	if (align == 0)
		align = 16;
	if ((align & (align - 1)) != 0 || align > 4096)
		return NULL;
	size_t at = (p->arena_used + align - 1) & ~(align - 1);
	if (at > p->arena_size || size > p->arena_size - at)
		return NULL;
	p->arena_used = at + size;
	memset(p->arena + at, 0, size);
	return p->arena + at;
}

/* ---- open and close ---------------------------------------------------------------------- */

void vio_vhost_user_front_posix_close(struct vio_vhost_user_front_posix *p)
{
	if (p == NULL)
		return;
	if (p->sock >= 0)
		close(p->sock);
	for (uint16_t i = 0; i < p->nq; i++) {
		if (p->kick != NULL && p->kick[i] >= 0)
			close(p->kick[i]);
		if (p->call != NULL && p->call[i] >= 0)
			close(p->call[i]);
	}
	if (p->arena != NULL)
		munmap(p->arena, p->arena_size);
	if (p->memfd >= 0)
		close(p->memfd);
	free(p->kick);
	free(p->call);
	free(p->front_mem);
	free(p);
}

static int connect_path(const char *path, int timeout_ms, int *out)
{
	struct sockaddr_un sa;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -VIO_EINVAL;
	strcpy(sa.sun_path, path);
	int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			return -VIO_EVHOST_IO;
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			*out = s;
			return 0;
		}
		int e = errno;
		close(s);
		if ((e != ENOENT && e != ECONNREFUSED && e != EINTR) || now_ms() >= deadline)
			return -VIO_EVHOST_IO;
		io_delay(NULL, 10000);
	}
}

int vio_vhost_user_front_posix_open_fd(struct vio_vhost_user_front_posix **out,
				       const struct vio_vhost_user_front_posix_config *cfg,
				       int sock)
{
	if (out == NULL || cfg == NULL || cfg->arena_size == 0 || cfg->queue_slots == 0 ||
	    cfg->queue_slots > VIO_VHOST_USER_FRONT_MAX_QUEUES || sock < 0) {
		if (sock >= 0)
			close(sock);
		return -VIO_EINVAL;
	}
	struct vio_vhost_user_front_posix *p = calloc(1, sizeof(*p));
	if (p == NULL) {
		close(sock);
		return -VIO_EVHOST_IO;
	}
	p->sock = sock;
	p->memfd = -1;
	p->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms
					    : VIO_VHOST_USER_FRONT_POSIX_DEFAULT_TIMEOUT_MS;
	p->gpa = cfg->arena_gpa ? cfg->arena_gpa : VIO_VHOST_USER_FRONT_POSIX_DEFAULT_GPA;
	p->nq = cfg->queue_slots;
	int rc = -VIO_EVHOST_IO;
	p->kick = malloc(sizeof(int) * p->nq);
	p->call = malloc(sizeof(int) * p->nq);
	if (p->kick == NULL || p->call == NULL) {
		p->nq = 0;
		goto fail;
	}
	for (uint16_t i = 0; i < p->nq; i++)
		p->kick[i] = p->call[i] = -1;
	for (uint16_t i = 0; i < p->nq; i++) {
		p->kick[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		p->call[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->kick[i] < 0 || p->call[i] < 0)
			goto fail;
	}

	long page = sysconf(_SC_PAGESIZE);
	size_t pg = page > 0 ? (size_t)page : 4096u;
	if (cfg->arena_size > SIZE_MAX - pg) {
		rc = -VIO_EINVAL;
		goto fail;
	}
	p->arena_size = (cfg->arena_size + pg - 1) / pg * pg;
	p->memfd = memfd_create("vio-vhost-user-front", MFD_CLOEXEC);
	if (p->memfd < 0 || ftruncate(p->memfd, (off_t)p->arena_size) != 0)
		goto fail;
	void *m = mmap(NULL, p->arena_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->memfd, 0);
	if (m == MAP_FAILED)
		goto fail;
	p->arena = m;
	if (p->gpa + p->arena_size < p->gpa) {
		rc = -VIO_EINVAL;
		goto fail;
	}

	struct vio_vhost_user_front_config fc = {
		.io = &posix_io,
		.io_ctx = p,
		.device_id = cfg->device_id,
		.queue_slots = cfg->queue_slots,
		.queue_max = cfg->queue_max,
		.protocol_features = cfg->protocol_features,
	};
	size_t fsz = VIO_VHOST_USER_FRONT_MEM_SIZE(p->nq);
	p->front_mem = aligned_alloc(VIO_VHOST_USER_FRONT_MEM_ALIGN,
				     (fsz + VIO_VHOST_USER_FRONT_MEM_ALIGN - 1) &
					     ~(size_t)(VIO_VHOST_USER_FRONT_MEM_ALIGN - 1));
	if (p->front_mem == NULL)
		goto fail;
	rc = vio_vhost_user_front_init(&p->front, p->front_mem, fsz, &fc);
	if (rc < 0)
		goto fail;
	struct vio_vhost_user_mem_region r = {
		.guest_phys_addr = p->gpa,
		.memory_size = p->arena_size,
		.user_addr = (uint64_t)(uintptr_t)p->arena,
		.mmap_offset = 0,
	};
	rc = vio_vhost_user_front_add_region(p->front, &r, p->memfd);
	if (rc == 0)
		rc = vio_vhost_user_front_connect(p->front);
	if (rc < 0)
		goto fail;
	p->dma.to_device = dma_to_device;
	p->dma.release = NULL;
	*out = p;
	return 0;
fail:
	vio_vhost_user_front_posix_close(p);
	return rc;
}

int vio_vhost_user_front_posix_open(struct vio_vhost_user_front_posix **out,
				    const struct vio_vhost_user_front_posix_config *cfg)
{
	if (out == NULL || cfg == NULL || cfg->socket_path == NULL)
		return -VIO_EINVAL;
	int s;
	int rc = connect_path(cfg->socket_path, cfg->connect_timeout_ms, &s);
	if (rc < 0)
		return rc;
	return vio_vhost_user_front_posix_open_fd(out, cfg, s);
}

struct vio_vhost_user_front *vio_vhost_user_front_posix_front(struct vio_vhost_user_front_posix *p)
{
	return p->front;
}

void vio_vhost_user_front_posix_drv_config(struct vio_vhost_user_front_posix *p,
					   struct vio_drv_config *cfg)
{
	vio_vhost_user_front_drv_config(p->front, cfg);
	cfg->dma_ops = &p->dma;
	cfg->dma_ctx = p;
}

int vio_vhost_user_front_posix_wait(struct vio_vhost_user_front_posix *p, int timeout_ms)
{
	struct pollfd pf[VIO_VHOST_USER_FRONT_MAX_QUEUES];
	nfds_t n = 0;
	for (uint16_t i = 0; i < p->nq; i++) {
		if (!vio_vhost_user_front_queue_started(p->front, i))
			continue;
		pf[n].fd = p->call[i];
		pf[n].events = POLLIN;
		pf[n].revents = 0;
		n++;
	}
	int64_t deadline = timeout_ms < 0 ? 0 : now_ms() + timeout_ms;
	for (;;) {
		int r = poll(pf, n, timeout_ms < 0 ? -1 : remaining(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return -VIO_EAGAIN;
		if (errno != EINTR)
			return -VIO_EVHOST_IO;
	}
}
