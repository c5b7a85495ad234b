/* SPDX-License-Identifier: MIT */
/* vhost-user back-end server (vhost_user_server.h): the system calls around
 * the freestanding dispatcher (vhost_user_backend.c). One thread, one poll
 * loop over the listening socket, the connection and the kick eventfds; the
 * device is served inline from the kicks. */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC, eventfd */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <virtio/errors.h>
#include <virtio/vhost_user_backend.h>
#include <virtio/vhost_user_server.h>

#define ALIGN8(n) (((size_t)(n) + 7u) & ~(size_t)7u)
/* A front end that stops half-way through a message is dropped after this. */
#define RECV_TIMEOUT_SEC 1
/* Poll period for rings started without a kick fd (NOFD). */
#define POLL_MS 1

struct vio_vhost_user_server {
	struct vio_vhost_user_backend *be;
	int listen_fd;
	int conn_fd;
	int wake_fd; /* eventfd: vio_vhost_user_server_stop() */
	bool unlink_path;
	struct sockaddr_un addr;
	unsigned long sessions;
	long page;
	atomic_bool stop;
	/* The poll set of the current round: [wake, listen or conn, kicks...]. */
	struct pollfd pfd[2 + VIO_VHOST_USER_MAX_QUEUES];
	uint16_t pq[2 + VIO_VHOST_USER_MAX_QUEUES]; /* queue of each kick entry */
};

/* ---- Platform callbacks for the dispatcher ------------------------------------ */

static int p_map(void *ctx, int fd, uint64_t offset, uint64_t size, void **host)
{
	struct vio_vhost_user_server *s = ctx;
	uint64_t page = (uint64_t)s->page;
	uint64_t delta = offset % page, start = offset - delta;
	if (size > SIZE_MAX - delta || start > (uint64_t)INT64_MAX)
		return -VIO_EVHOST_SYS;
	/* mmap offsets are page-aligned; the region starts delta bytes in. */
	void *p = mmap(NULL, (size_t)(size + delta), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)start);
	if (p == MAP_FAILED)
		return -VIO_EVHOST_SYS;
	*host = (unsigned char *)p + delta;
	return 0;
}

static void p_unmap(void *ctx, void *host, uint64_t offset, uint64_t size)
{
	struct vio_vhost_user_server *s = ctx;
	uint64_t delta = offset % (uint64_t)s->page;
	(void)munmap((unsigned char *)host - delta, (size_t)(size + delta));
}

static void p_close(void *ctx, int fd)
{
	(void)ctx;
	(void)close(fd);
}

static void p_signal(void *ctx, int fd)
{
	(void)ctx;
	uint64_t one = 1;
	/* eventfd (or a pipe, which QEMU uses where eventfd is missing). A full
	 * counter or pipe means a signal is pending anyway. */
	ssize_t n;
	do
		n = write(fd, &one, sizeof(one));
	while (n < 0 && errno == EINTR);
}

/* GET_INFLIGHT_FD's region: a memfd (sealed against shrinking: the front
 * end and a restarted back end map it whole), mapped shared. */
static int p_create_shm(void *ctx, uint64_t size, int *fd, void **host)
{
	(void)ctx;
	if (size == 0 || size > (uint64_t)INT64_MAX || size > SIZE_MAX)
		return -VIO_EVHOST_SYS;
	int f = memfd_create("vio-vhost-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (f < 0)
		return -VIO_EVHOST_SYS;
	if (ftruncate(f, (off_t)size) != 0 ||
	    fcntl(f, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) != 0) {
		(void)close(f);
		return -VIO_EVHOST_SYS;
	}
	void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, f, 0);
	if (p == MAP_FAILED) {
		(void)close(f);
		return -VIO_EVHOST_SYS;
	}
	*fd = f;
	*host = p;
	return 0;
}

static const struct vio_vhost_user_backend_ops posix_ops = {p_map, p_unmap, p_close, p_signal,
							    p_create_shm};

/* ---- Setup ------------------------------------------------------------------------ */

static size_t backend_offset(void)
{
	return ALIGN8(sizeof(struct vio_vhost_user_server));
}

static struct vio_vhost_user_backend_config
backend_config(const struct vio_vhost_user_server_config *cfg, struct vio_vhost_user_server *s)
{
	struct vio_vhost_user_backend_config bc = {cfg->info, &posix_ops, s, cfg->no_inflight};
	return bc;
}

size_t vio_vhost_user_server_mem_size(const struct vio_vhost_user_server_config *cfg)
{
	if (cfg == NULL)
		return 0;
	struct vio_vhost_user_backend_config bc = backend_config(cfg, NULL);
	size_t n = vio_vhost_user_backend_mem_size(&bc);
	return n == 0 ? 0 : backend_offset() + n;
}

static int listen_on(struct vio_vhost_user_server *s, const char *path)
{
	size_t len = strlen(path);
	if (len == 0 || len >= sizeof(s->addr.sun_path))
		return -VIO_EINVAL;
	s->addr.sun_family = AF_UNIX;
	memcpy(s->addr.sun_path, path, len + 1);
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path); /* a stale socket of an earlier run */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -VIO_EVHOST_SYS;
	if (bind(fd, (const struct sockaddr *)&s->addr, sizeof(s->addr)) != 0 ||
	    listen(fd, 4) != 0) {
		int e = errno;
		(void)close(fd);
		errno = e;
		return -VIO_EVHOST_SYS;
	}
	s->listen_fd = fd;
	s->unlink_path = true;
	return 0;
}

int vio_vhost_user_server_init(struct vio_vhost_user_server **sp, void *mem, size_t mem_size,
			       const struct vio_vhost_user_server_config *cfg)
{
	if (sp == NULL || mem == NULL || ((uintptr_t)mem % VIO_VHOST_USER_SERVER_MEM_ALIGN) != 0)
		return -VIO_EINVAL;
	size_t need = vio_vhost_user_server_mem_size(cfg);
	if (need == 0 || mem_size < need)
		return -VIO_EINVAL;
	struct vio_vhost_user_server *s = mem;
	memset(s, 0, sizeof(*s));
	s->listen_fd = s->conn_fd = s->wake_fd = -1;
	atomic_init(&s->stop, false);
	s->page = sysconf(_SC_PAGESIZE);
	if (s->page <= 0)
		s->page = 4096;
	struct vio_vhost_user_backend_config bc = backend_config(cfg, s);
	int rc = vio_vhost_user_backend_init(&s->be, (unsigned char *)mem + backend_offset(),
					     mem_size - backend_offset(), &bc);
	if (rc != 0)
		return rc;
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0)
		return -VIO_EVHOST_SYS;
	if (cfg->socket_path != NULL)
		rc = listen_on(s, cfg->socket_path);
	else
		s->listen_fd = cfg->listen_fd;
	if (rc != 0) {
		(void)close(s->wake_fd);
		s->wake_fd = -1;
		return rc;
	}
	*sp = s;
	return 0;
}

/* ---- The connection ------------------------------------------------------------ */

static void disconnect(struct vio_vhost_user_server *s)
{
	if (s->conn_fd < 0)
		return;
	/* Reset the device, unmap and close everything the front end gave. */
	vio_vhost_user_backend_disconnect(s->be);
	(void)close(s->conn_fd);
	s->conn_fd = -1;
	s->sessions++;
}

static void close_fds(const int *fds, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		(void)close(fds[i]);
}

/* Take the descriptors of every SCM_RIGHTS message in @mh: up to 8 into
 * @m, the rest closed. Returns false if there were too many. */
static bool take_fds(struct msghdr *mh, struct vio_vhost_user_msg *m)
{
	bool ok = true;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *data = CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, data + i * sizeof(int), sizeof(int));
			if (m->nfds < VIO_VHOST_USER_MAX_FDS) {
				m->fds[m->nfds++] = fd;
			} else {
				(void)close(fd);
				ok = false;
			}
		}
	}
	return ok;
}

/* Read exactly @len bytes (the receive timeout bounds a stalled peer);
 * descriptors that come along are taken into @m. 0, or -1 on EOF/error/
 * truncated control data/too many fds. */
static int recv_all(int fd, void *buf, size_t len, struct vio_vhost_user_msg *m)
{
	size_t got = 0;
	while (got < len) {
		union {
			struct cmsghdr align;
			unsigned char buf[CMSG_SPACE(sizeof(int) * VIO_VHOST_USER_MAX_FDS)];
		} control;
		struct iovec iov = {(unsigned char *)buf + got, len - got};
		struct msghdr mh;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = control.buf;
		mh.msg_controllen = sizeof(control.buf);
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		bool ok = take_fds(&mh, m);
		/* MSG_CTRUNC: descriptors were lost (more than fit, or the
		 * process is out of them): the message is not what was sent. */
		if (!ok || (mh.msg_flags & MSG_CTRUNC) != 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

/* The reply: header and payload are apart in struct vio_vhost_user_msg
 * (the payload union is 8-aligned), one gathered send on the wire. */
static int send_reply(int fd, const struct vio_vhost_user_msg *m, int send_fd)
{
	struct iovec iov[2] = {{(void *)&m->hdr, sizeof(m->hdr)},
			       {(void *)m->payload.raw, m->hdr.size}};
	size_t left = sizeof(m->hdr) + m->hdr.size;
	struct msghdr mh;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	union {
		struct cmsghdr h;
		unsigned char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	if (send_fd >= 0) {
		/* The fd goes with the first byte. */
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &send_fd, sizeof(int));
	}
	while (left > 0) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		left -= (size_t)n;
		/* A short send (rare on a Unix socket): skip what went out. */
		size_t done = (size_t)n;
		while (mh.msg_iovlen > 0 && done >= mh.msg_iov->iov_len) {
			done -= mh.msg_iov->iov_len;
			mh.msg_iov++;
			mh.msg_iovlen--;
		}
		if (mh.msg_iovlen > 0) {
			mh.msg_iov->iov_base = (unsigned char *)mh.msg_iov->iov_base + done;
			mh.msg_iov->iov_len -= done;
		}
	}
	return 0;
}

/* One message from the front end: read, dispatch, reply. */
static void serve_message(struct vio_vhost_user_server *s)
{
	struct vio_vhost_user_msg m;
	memset(&m, 0, sizeof(m));
	if (recv_all(s->conn_fd, &m.hdr, sizeof(m.hdr), &m) != 0 ||
	    vio_vhost_user_msg_check_hdr(&m.hdr) != 0 ||
	    (m.hdr.size != 0 && recv_all(s->conn_fd, m.payload.raw, m.hdr.size, &m) != 0)) {
		/* EOF, a truncated message or fd set, a header that makes the
		 * stream untrustworthy: every fd received is closed. */
		close_fds(m.fds, m.nfds);
		disconnect(s);
		return;
	}
	struct vio_vhost_user_reply out;
	/* From here the back end owns every fd in m. */
	(void)vio_vhost_user_backend_handle(s->be, &m, &out);
	if (out.send && send_reply(s->conn_fd, &out.msg, out.fd) != 0)
		out.close = true;
	if (out.fd >= 0)
		(void)close(out.fd); /* sent (the front end has its own) or not */
	if (out.close)
		disconnect(s);
}

static void drain(int fd)
{
	uint64_t v;
	ssize_t n;
	do
		n = read(fd, &v, sizeof(v));
	while (n < 0 && errno == EINTR);
}

int vio_vhost_user_server_adopt(struct vio_vhost_user_server *s, int fd)
{
	if (s->conn_fd >= 0 || fd < 0)
		return -VIO_EINVAL;
	struct timeval tv = {RECV_TIMEOUT_SEC, 0};
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s->conn_fd = fd;
	return 0;
}

int vio_vhost_user_server_run_once(struct vio_vhost_user_server *s, int timeout_ms)
{
	if (atomic_load(&s->stop))
		return 1;
	nfds_t n = 0;
	s->pfd[n++] = (struct pollfd){s->wake_fd, POLLIN, 0};
	/* One front end at a time: the next waits in the backlog. */
	int main_fd = s->conn_fd >= 0 ? s->conn_fd : s->listen_fd;
	s->pfd[n++] = (struct pollfd){main_fd, POLLIN, 0};
	uint32_t nq =
		s->conn_fd >= 0 ? vio_device_num_queues(vio_vhost_user_backend_device(s->be)) : 0u;
	for (uint32_t q = 0; q < nq; q++) {
		int k = vio_vhost_user_backend_kick_fd(s->be, q);
		if (k < 0)
			continue;
		s->pq[n] = (uint16_t)q;
		s->pfd[n++] = (struct pollfd){k, POLLIN, 0};
	}
	bool polling = s->conn_fd >= 0 && vio_vhost_user_backend_needs_poll(s->be);
	if (polling && (timeout_ms < 0 || timeout_ms > POLL_MS))
		timeout_ms = POLL_MS;
	int r = poll(s->pfd, n, timeout_ms);
	if (r < 0)
		return errno == EINTR ? 0 : -VIO_EVHOST_SYS;
	if (s->pfd[0].revents != 0) {
		drain(s->wake_fd);
		if (atomic_load(&s->stop))
			return 1;
	}
	/* Kicks first: the poll set is only valid until a message changes it. */
	for (nfds_t i = 2; i < n; i++) {
		if (s->pfd[i].revents == 0)
			continue;
		drain(s->pfd[i].fd);
		(void)vio_vhost_user_backend_kick(s->be, s->pq[i]);
	}
	if (polling)
		for (uint32_t q = 0; q < nq; q++)
			if (vio_vhost_user_backend_ring_live(s->be, q) &&
			    vio_vhost_user_backend_kick_fd(s->be, q) < 0)
				(void)vio_vhost_user_backend_kick(s->be, q);
	if (main_fd >= 0 && s->pfd[1].revents != 0) {
		if (s->conn_fd >= 0) {
			serve_message(s);
		} else {
			int c = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			if (c < 0) {
				if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN ||
				    errno == EMFILE || errno == ENFILE)
					return 0;
				return -VIO_EVHOST_SYS;
			}
			(void)vio_vhost_user_server_adopt(s, c);
		}
	}
	return 0;
}

int vio_vhost_user_server_run(struct vio_vhost_user_server *s)
{
	for (;;) {
		int rc = vio_vhost_user_server_run_once(s, -1);
		if (rc != 0)
			return rc > 0 ? 0 : rc;
	}
}

void vio_vhost_user_server_stop(struct vio_vhost_user_server *s)
{
	atomic_store(&s->stop, true);
	uint64_t one = 1;
	ssize_t n = write(s->wake_fd, &one, sizeof(one));
	(void)n;
}

void vio_vhost_user_server_fini(struct vio_vhost_user_server *s)
{
	disconnect(s);
	if (s->listen_fd >= 0)
		(void)close(s->listen_fd);
	s->listen_fd = -1;
	if (s->unlink_path)
		(void)unlink(s->addr.sun_path);
	s->unlink_path = false;
	if (s->wake_fd >= 0)
		(void)close(s->wake_fd);
	s->wake_fd = -1;
}

struct vio_vhost_user_backend *vio_vhost_user_server_backend(struct vio_vhost_user_server *s)
{
	return s->be;
}

bool vio_vhost_user_server_connected(const struct vio_vhost_user_server *s)
{
	return s->conn_fd >= 0;
}

unsigned long vio_vhost_user_server_sessions(const struct vio_vhost_user_server *s)
{
	return s->sessions;
}
