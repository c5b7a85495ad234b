/* SPDX-License-Identifier: MIT */
/* The POSIX vhost-user server (vhost_user_server.h) over a real Unix socket:
 * the test is the front end (QEMU's messages, guest RAM in a memfd passed
 * with SCM_RIGHTS, eventfds for kicks and calls) and the guest (the ring
 * driver half in that memfd), and turns the server's loop one round at a
 * time (vio_vhost_user_server_run_once()). Hostile front ends — truncated
 * or stalled messages, oversize payloads, wrong sizes, truncated fd sets —
 * are dropped and the next front end is served; no descriptor leaks. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include <virtio/virtio.h>

#define RAM_SIZE (256u * 1024u)
#define GPA 0x80000000ull
#define QSIZE 16u
#define SECTORS 128u

struct srv {
	char dir[64];
	char path[128];
	unsigned char disk[SECTORS * 512];
	struct vio_blk_mem_backend mb;
	struct vio_blk_device *bd;
	void *bd_mem;
	void *mem;
	struct vio_vhost_user_server *s;
	uint16_t nq;
};

struct fe {
	int sock;
	int memfd;
	unsigned char *ram;
	size_t used;
	struct vio_vq *vq[2];
	void *vq_mem[2];
	void *ring[2][3];
	int kick[2], call[2];
	int inflight_fd; /* the GET_INFLIGHT_FD region, as QEMU keeps it */
	struct vio_vhost_user_inflight inflight;
};

/* ---- The server --------------------------------------------------------------- */

static void srv_init(struct srv *v, uint16_t nq)
{
	memset(v, 0, sizeof(*v));
	v->nq = nq;
	strcpy(v->dir, "/tmp/vio-vu-XXXXXX");
	assert_non_null(mkdtemp(v->dir));
	snprintf(v->path, sizeof(v->path), "%s/sock", v->dir);
	vio_blk_mem_backend_init(&v->mb, v->disk, sizeof(v->disk));
	struct vio_blk_device_config bc = {0};
	bc.desc.capacity = SECTORS;
	bc.desc.flush = true;
	bc.desc.num_queues = nq;
	bc.backend = &vio_blk_mem_backend_ops;
	bc.backend_ctx = &v->mb;
	bc.queue_max = 64;
	size_t n = vio_blk_device_mem_size(&bc);
	assert_int_equal(posix_memalign(&v->bd_mem, 8, n), 0);
	assert_int_equal(vio_blk_device_init(&v->bd, v->bd_mem, n, &bc), 0);
	struct vio_device_info info = {0};
	vio_blk_device_info(v->bd, &info);
	struct vio_vhost_user_server_config sc = {0};
	sc.info = &info;
	sc.socket_path = v->path;
	n = vio_vhost_user_server_mem_size(&sc);
	assert_true(n > 0);
	assert_int_equal(posix_memalign(&v->mem, 8, n), 0);
	assert_int_equal(vio_vhost_user_server_init(&v->s, v->mem, n - 1, &sc), -VIO_EINVAL);
	assert_int_equal(vio_vhost_user_server_init(&v->s, v->mem, n, &sc), 0);
}

static void srv_fini(struct srv *v)
{
	vio_vhost_user_server_fini(v->s);
	assert_int_equal(access(v->path, F_OK), -1); /* the socket is removed */
	rmdir(v->dir);
	free(v->mem);
	free(v->bd_mem);
}

static void turn(struct srv *v)
{
	assert_int_equal(vio_vhost_user_server_run_once(v->s, 200), 0);
}

/* ---- The front end ------------------------------------------------------------- */

static void fe_connect(struct fe *f, struct srv *v)
{
	memset(f, 0, sizeof(*f));
	f->memfd = f->kick[0] = f->kick[1] = f->call[0] = f->call[1] = f->inflight_fd = -1;
	f->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->sock >= 0);
	struct sockaddr_un a = {0};
	a.sun_family = AF_UNIX;
	strcpy(a.sun_path, v->path);
	assert_int_equal(connect(f->sock, (struct sockaddr *)&a, sizeof(a)), 0);
	struct timeval tv = {3, 0};
	assert_int_equal(setsockopt(f->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	unsigned long before = vio_vhost_user_server_sessions(v->s);
	turn(v); /* accept */
	assert_true(vio_vhost_user_server_connected(v->s));
	assert_int_equal(vio_vhost_user_server_sessions(v->s), before);
}

static void fe_close(struct fe *f)
{
	if (f->sock >= 0)
		close(f->sock);
	f->sock = -1;
	for (unsigned q = 0; q < 2; q++) {
		if (f->kick[q] >= 0)
			close(f->kick[q]);
		if (f->call[q] >= 0)
			close(f->call[q]);
		free(f->vq_mem[q]);
		f->vq_mem[q] = NULL;
		f->kick[q] = f->call[q] = -1;
	}
	if (f->ram != NULL)
		munmap(f->ram, RAM_SIZE);
	f->ram = NULL;
	if (f->memfd >= 0)
		close(f->memfd);
	f->memfd = -1;
	if (f->inflight_fd >= 0)
		close(f->inflight_fd);
	f->inflight_fd = -1;
}

/* The server notices the front end is gone. */
static void expect_dropped(struct srv *v, struct fe *f, unsigned long sessions)
{
	for (int i = 0; i < 5 && vio_vhost_user_server_connected(v->s); i++)
		turn(v);
	assert_false(vio_vhost_user_server_connected(v->s));
	assert_int_equal(vio_vhost_user_server_sessions(v->s), sessions);
	if (f != NULL && f->sock >= 0) {
		/* Closed by the server: EOF, or a reset when it left unread
		 * bytes behind. */
		char c;
		ssize_t n = recv(f->sock, &c, 1, 0);
		assert_true(n == 0 || (n < 0 && errno == ECONNRESET));
	}
}

static void send_raw(struct fe *f, const void *buf, size_t len, const int *fds, unsigned nfds)
{
	struct iovec iov = {(void *)buf, len};
	struct msghdr mh = {0};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	union {
		struct cmsghdr c;
		unsigned char b[CMSG_SPACE(sizeof(int) * 16)];
	} ctl;
	if (nfds > 0) {
		assert_true(nfds <= 16);
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(f->sock, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

static void send_msg(struct fe *f, uint32_t req, uint32_t flags, const void *p, uint32_t size,
		     const int *fds, unsigned nfds)
{
	unsigned char buf[12 + VIO_VHOST_USER_PAYLOAD_MAX];
	struct vio_vhost_user_hdr h = {req, VIO_VHOST_USER_VERSION | flags, size};
	memcpy(buf, &h, 12);
	if (size)
		memcpy(buf + 12, p, size);
	send_raw(f, buf, 12 + size, fds, nfds);
}

/* Read a reply with a u64 or state payload (8 bytes). */
static uint64_t recv_u64(struct fe *f, uint32_t req)
{
	unsigned char buf[20];
	assert_int_equal(recv(f->sock, buf, sizeof(buf), MSG_WAITALL), 20);
	struct vio_vhost_user_hdr h;
	memcpy(&h, buf, 12);
	assert_int_equal(h.request, req);
	assert_int_equal(h.flags, VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY);
	assert_int_equal(h.size, 8);
	uint64_t v;
	memcpy(&v, buf + 12, 8);
	return v;
}

/* A request answered with a u64 (GET_*, or NEED_REPLY). */
static uint64_t ask(struct srv *v, struct fe *f, uint32_t req, uint32_t flags, const void *p,
		    uint32_t size, const int *fds, unsigned nfds)
{
	send_msg(f, req, flags, p, size, fds, nfds);
	turn(v);
	return recv_u64(f, req);
}

static uint64_t acked(struct srv *v, struct fe *f, uint32_t req, const void *p, uint32_t size,
		      const int *fds, unsigned nfds)
{
	return ask(v, f, req, VIO_VHOST_USER_FLAG_NEED_REPLY, p, size, fds, nfds);
}

static int to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir, uint64_t *addr)
{
	struct fe *f = ctx;
	(void)len;
	(void)dir;
	*addr = GPA + (uint64_t)((const unsigned char *)ptr - f->ram);
	return 0;
}

static const struct vio_dma_ops dma = {to_device, NULL};

static void *ram_alloc(struct fe *f, size_t n, size_t align)
{
	f->used = (f->used + align - 1) & ~(align - 1);
	assert_true(f->used + n <= RAM_SIZE);
	void *p = f->ram + f->used;
	f->used += n;
	return p;
}

static const uint64_t FEATURES = (1ull << VIO_F_VERSION_1) |
				 (1ull << VIO_VHOST_USER_F_PROTOCOL_FEATURES) |
				 (1ull << VIO_F_EVENT_IDX) | (1ull << VIO_BLK_F_FLUSH);

static void memory(struct srv *v, struct fe *f)
{
	f->memfd = memfd_create("guest-ram", MFD_CLOEXEC);
	assert_true(f->memfd >= 0);
	assert_int_equal(ftruncate(f->memfd, RAM_SIZE), 0);
	f->ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, f->memfd, 0);
	assert_true(f->ram != MAP_FAILED);
	struct vio_vhost_user_memory m = {0};
	m.nregions = 1;
	m.regions[0] =
		(struct vio_vhost_user_mem_region){GPA, RAM_SIZE, (uint64_t)(uintptr_t)f->ram, 0};
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_MEM_TABLE, &m, 8 + 32, &f->memfd, 1), 0);
}

static void ring(struct srv *v, struct fe *f, uint16_t q)
{
	struct vio_vq_config c = {0};
	c.format = VIO_RING_SPLIT;
	c.size = QSIZE;
	c.index = q;
	vio_features_set(&c.features, VIO_F_VERSION_1);
	vio_features_set(&c.features, VIO_F_EVENT_IDX);
	c.desc = f->ring[q][0] = ram_alloc(f, 16u * QSIZE, 4096);
	c.driver_area = f->ring[q][1] = ram_alloc(f, 6u + 2u * QSIZE, 64);
	c.device_area = f->ring[q][2] = ram_alloc(f, 6u + 8u * QSIZE, 64);
	c.dma_ops = &dma;
	c.dma_ctx = f;
	size_t n = vio_vq_mem_size(&c);
	assert_int_equal(posix_memalign(&f->vq_mem[q], 8, n), 0);
	assert_int_equal(vio_vq_init(&f->vq[q], f->vq_mem[q], n, &c), 0);

	struct vio_vhost_user_vring_state st = {q, QSIZE};
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0), 0);
	st.num = 0;
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_VRING_BASE, &st, 8, NULL, 0), 0);
	struct vio_vhost_user_vring_addr a = {q,
					      0,
					      (uint64_t)(uintptr_t)f->ring[q][0],
					      (uint64_t)(uintptr_t)f->ring[q][2],
					      (uint64_t)(uintptr_t)f->ring[q][1],
					      0};
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
	f->kick[q] = eventfd(0, EFD_CLOEXEC);
	f->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	uint64_t idx = q;
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_VRING_KICK, &idx, 8, &f->kick[q], 1), 0);
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_VRING_CALL, &idx, 8, &f->call[q], 1), 0);
	st.num = 1;
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_VRING_ENABLE, &st, 8, NULL, 0), 0);
}

/* GET_INFLIGHT_FD: the reply carries the region's memfd (SCM_RIGHTS),
 * sized as the payload says; then SET_INFLIGHT_FD hands it back. */
static void inflight(struct srv *v, struct fe *f)
{
	struct vio_vhost_user_inflight q = {0, 0, v->nq, QSIZE};
	send_msg(f, VIO_VHOST_USER_GET_INFLIGHT_FD, 0, &q, sizeof(q), NULL, 0);
	turn(v);
	unsigned char buf[12 + 24];
	struct iovec iov = {buf, sizeof(buf)};
	union {
		struct cmsghdr c;
		unsigned char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = {0};
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.b;
	mh.msg_controllen = sizeof(ctl.b);
	assert_int_equal(recvmsg(f->sock, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC),
			 (ssize_t)sizeof(buf));
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, SCM_RIGHTS);
	memcpy(&f->inflight_fd, CMSG_DATA(c), sizeof(int));
	struct vio_vhost_user_hdr h;
	memcpy(&h, buf, 12);
	assert_int_equal(h.request, VIO_VHOST_USER_GET_INFLIGHT_FD);
	assert_int_equal(h.size, 24);
	memcpy(&f->inflight, buf + 12, 24);
	assert_int_equal(f->inflight.mmap_size,
			 vio_vhost_user_inflight_size(VIO_RING_SPLIT, v->nq, QSIZE));
	assert_int_equal(f->inflight.mmap_offset, 0);
	struct stat st;
	assert_int_equal(fstat(f->inflight_fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, f->inflight.mmap_size);
	assert_int_equal(
		acked(v, f, VIO_VHOST_USER_SET_INFLIGHT_FD, &f->inflight, 24, &f->inflight_fd, 1),
		0);
}

/* QEMU's order (interop notes): queries, then at DRIVER_OK features, memory, rings. */
static void bringup(struct srv *v, struct fe *f)
{
	uint64_t feat = ask(v, f, VIO_VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0);
	assert_true(feat & (1ull << VIO_VHOST_USER_F_PROTOCOL_FEATURES));
	uint64_t proto = ask(v, f, VIO_VHOST_USER_GET_PROTOCOL_FEATURES, 0, NULL, 0, NULL, 0);
	assert_true(proto & (1ull << VIO_VHOST_USER_PROTOCOL_F_REPLY_ACK));
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_PROTOCOL_FEATURES, &proto, 8, NULL, 0), 0);
	assert_int_equal(ask(v, f, VIO_VHOST_USER_GET_QUEUE_NUM, 0, NULL, 0, NULL, 0), v->nq);
	send_msg(f, VIO_VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0);
	turn(v);
	/* GET_CONFIG: 12 + 8 bytes, the capacity. */
	struct vio_vhost_user_config c = {0};
	c.size = 8;
	send_msg(f, VIO_VHOST_USER_GET_CONFIG, 0, &c, 20, NULL, 0);
	turn(v);
	unsigned char rb[32];
	assert_int_equal(recv(f->sock, rb, 32, MSG_WAITALL), 32);
	uint64_t cap;
	memcpy(&cap, rb + 24, 8);
	assert_int_equal(vio_le64_raw_to_cpu(cap), SECTORS);
	uint64_t w = FEATURES | (v->nq > 1 ? 1ull << VIO_BLK_F_MQ : 0);
	assert_int_equal(acked(v, f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);
	if (proto & (1ull << VIO_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD))
		inflight(v, f);
	memory(v, f);
	for (uint16_t q = 0; q < v->nq; q++)
		ring(v, f, q);
}

/* A write and a read of one sector through queue @q, with real eventfds. */
static void io(struct srv *v, struct fe *f, uint16_t q, uint64_t sector, unsigned char seed)
{
	for (int wr = 1; wr >= 0; wr--) {
		struct vio_blk_req_hdr *h = ram_alloc(f, 16, 16);
		unsigned char *data = ram_alloc(f, 512, 16);
		uint8_t *status = ram_alloc(f, 1, 1);
		h->type = vio_le32_make(wr ? VIO_BLK_T_OUT : VIO_BLK_T_IN);
		h->reserved = vio_le32_make(0);
		h->sector = vio_le64_make(sector);
		for (unsigned i = 0; i < 512; i++)
			data[i] = wr ? (unsigned char)(seed + i) : 0;
		*status = 0xff;
		struct vio_sg sg[3] = {{h, 16}, {data, 512}, {status, 1}};
		assert_int_equal(vio_vq_add(f->vq[q], sg, wr ? 2 : 1, wr ? 1 : 2, h), 0);
		assert_true(vio_vq_kick_prepare(f->vq[q]));
		uint64_t one = 1;
		assert_int_equal(write(f->kick[q], &one, 8), 8);
		turn(v); /* the server reads the kick and serves the queue */
		uint64_t calls = 0;
		assert_int_equal(read(f->call[q], &calls, 8), 8);
		assert_true(calls >= 1);
		void *tok;
		uint32_t len;
		assert_int_equal(vio_vq_get(f->vq[q], &tok, &len), 0);
		assert_ptr_equal(tok, h);
		assert_int_equal(*status, VIO_BLK_S_OK);
		if (!wr) {
			assert_int_equal(len, 513);
			for (unsigned i = 0; i < 512; i++)
				assert_int_equal(data[i], (unsigned char)(seed + i));
		}
	}
	assert_int_equal(v->disk[sector * 512 + 3], (unsigned char)(seed + 3));
}

/* ---- Tests ---------------------------------------------------------------------- */

static void test_vhost_user_server_serves_front_ends_in_turn(void **state)
{
	(void)state;
	struct srv *v = calloc(1, sizeof(*v));
	srv_init(v, 2);
	for (unsigned session = 0; session < 3; session++) {
		struct fe f;
		fe_connect(&f, v);
		bringup(v, &f);
		for (unsigned i = 0; i < 4; i++)
			io(v, &f, (uint16_t)(i & 1u), session * 8u + i, (unsigned char)(i * 17u));
		struct vio_vhost_user_vring_state st = {1, 0};
		send_msg(&f, VIO_VHOST_USER_GET_VRING_BASE, 0, &st, 8, NULL, 0);
		turn(v);
		uint64_t r = recv_u64(&f, VIO_VHOST_USER_GET_VRING_BASE);
		assert_int_equal((uint32_t)r, 1);	  /* index */
		assert_int_equal((uint32_t)(r >> 32), 4); /* 2 requests x (write + read) */
		fe_close(&f);
		expect_dropped(v, NULL, session + 1);
	}
	srv_fini(v);
	free(v);
}

/* One hostile front end; then the server must serve a good one. */
static void hostile(struct srv *v, int kind)
{
	struct fe f;
	fe_connect(&f, v);
	unsigned long s0 = vio_vhost_user_server_sessions(v->s);
	unsigned char junk[64] = {1, 0, 0, 0, 1, 0};
	struct vio_vhost_user_hdr h = {VIO_VHOST_USER_SET_FEATURES, VIO_VHOST_USER_VERSION, 8};
	int fds[12];
	switch (kind) {
	case 0: /* truncated header, then gone */
		send_raw(&f, junk, 6, NULL, 0);
		close(f.sock);
		f.sock = -1;
		break;
	case 1: /* truncated header, then silence: dropped after the timeout */
		send_raw(&f, junk, 6, NULL, 0);
		break;
	case 2: /* truncated payload, then silence */
		send_raw(&f, &h, 12, NULL, 0);
		send_raw(&f, junk, 3, NULL, 0);
		break;
	case 3: /* oversize payload */
		h.size = 4096;
		send_raw(&f, &h, 12, NULL, 0);
		break;
	case 4: /* wrong size for the request */
		h.size = 4;
		send_raw(&f, &h, 12, NULL, 0);
		send_raw(&f, junk, 4, NULL, 0);
		break;
	case 5: /* twelve fds: the control data is truncated (MSG_CTRUNC) */
		for (unsigned i = 0; i < 12; i++)
			fds[i] = eventfd(0, EFD_CLOEXEC);
		send_msg(&f, VIO_VHOST_USER_SET_OWNER, 0, NULL, 0, fds, 12);
		for (unsigned i = 0; i < 12; i++)
			close(fds[i]);
		break;
	case 6: /* a memory table whose fd count does not match */
	{
		struct vio_vhost_user_memory m = {0};
		m.nregions = 2;
		m.regions[0] = (struct vio_vhost_user_mem_region){0, 4096, 0x1000, 0};
		m.regions[1] = (struct vio_vhost_user_mem_region){8192, 4096, 0x3000, 0};
		fds[0] = memfd_create("x", MFD_CLOEXEC);
		send_msg(&f, VIO_VHOST_USER_SET_MEM_TABLE, 0, &m, 8 + 64, fds, 1);
		close(fds[0]);
		break;
	}
	case 7: /* the REPLY flag from a front end */
		h.flags |= VIO_VHOST_USER_FLAG_REPLY;
		send_raw(&f, &h, 12, NULL, 0);
		send_raw(&f, junk, 8, NULL, 0);
		break;
	default: /* a good start, memory and rings mapped, then gone */
		bringup(v, &f);
		io(v, &f, 0, 1, 1);
		fe_close(&f);
		break;
	}
	expect_dropped(v, &f, s0 + 1);
	fe_close(&f);
}

static void test_vhost_user_server_drops_hostile_front_ends(void **state)
{
	(void)state;
	struct srv *v = calloc(1, sizeof(*v));
	srv_init(v, 1);
	for (int kind = 0; kind <= 8; kind++) {
		hostile(v, kind);
		struct fe f;
		fe_connect(&f, v);
		bringup(v, &f);
		io(v, &f, 0, (uint64_t)kind, (unsigned char)kind);
		fe_close(&f);
		expect_dropped(v, NULL, vio_vhost_user_server_sessions(v->s) + 1);
	}
	srv_fini(v);
	free(v);
}

/* Errors that do not break the stream are answered and the connection
 * stays: out-of-range queue, ring outside memory, unknown request with fds. */
static void test_vhost_user_server_answers_errors(void **state)
{
	(void)state;
	struct srv *v = calloc(1, sizeof(*v));
	srv_init(v, 1);
	struct fe f;
	fe_connect(&f, v);
	bringup(v, &f);
	struct vio_vhost_user_vring_state st = {9, 8};
	assert_int_equal(acked(v, &f, VIO_VHOST_USER_SET_VRING_NUM, &st, 8, NULL, 0),
			 VIO_EVHOST_QUEUE);
	struct vio_vhost_user_vring_addr a = {0, 0, 0x1000, 0x2000, 0x3000, 0};
	assert_int_equal(acked(v, &f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0),
			 VIO_EVHOST_ADDR);
	int fds[3] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
	assert_int_equal(acked(v, &f, 77, NULL, 0, fds, 3), VIO_EVHOST_UNSUPPORTED);
	for (unsigned i = 0; i < 3; i++)
		close(fds[i]);
	assert_true(vio_vhost_user_server_connected(v->s));
	io(v, &f, 0, 7, 7);
	fe_close(&f);
	expect_dropped(v, NULL, 1);
	srv_fini(v);
	free(v);
}

static unsigned count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	unsigned n = 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

/* Many hostile and aborted sessions leave no descriptor behind. */
static void test_vhost_user_server_no_fd_leak(void **state)
{
	(void)state;
	struct srv *v = calloc(1, sizeof(*v));
	srv_init(v, 2);
	unsigned before = count_fds();
	for (int round = 0; round < 3; round++)
		for (int kind = 0; kind <= 8; kind++)
			if (kind != 1 && kind != 2) /* the 1 s timeouts are covered above */
				hostile(v, kind);
	assert_int_equal(count_fds(), before);
	/* Good sessions with inflight regions: each region's fd is sent and
	 * closed by the server, the SET_INFLIGHT_FD one mapped and closed, the
	 * mapping undone at disconnect. */
	for (int round = 0; round < 3; round++) {
		struct fe f;
		fe_connect(&f, v);
		bringup(v, &f);
		assert_true(f.inflight_fd >= 0);
		io(v, &f, 0, 1, 7);
		fe_close(&f);
		expect_dropped(v, NULL, vio_vhost_user_server_sessions(v->s) + 1);
	}
	assert_int_equal(count_fds(), before);
	srv_fini(v);
	free(v);
}

static void test_vhost_user_server_stop(void **state)
{
	(void)state;
	struct srv *v = calloc(1, sizeof(*v));
	srv_init(v, 1);
	vio_vhost_user_server_stop(v->s);
	assert_int_equal(vio_vhost_user_server_run(v->s), 0);
	assert_int_equal(vio_vhost_user_server_run_once(v->s, 0), 1);
	srv_fini(v);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhost_user_server_serves_front_ends_in_turn),
		cmocka_unit_test(test_vhost_user_server_drops_hostile_front_ends),
		cmocka_unit_test(test_vhost_user_server_answers_errors),
		cmocka_unit_test(test_vhost_user_server_no_fd_leak),
		cmocka_unit_test(test_vhost_user_server_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
