/* SPDX-License-Identifier: MIT */
/* vhost-user front end, POSIX part: over a socketpair() with a back end
 * thread. The handshake and a bring-up through the driver core, the memfd
 * arena as the back end maps it, the kick and call eventfds, bounded waits
 * (a silent back end, a closed one, no socket at all), no fd leaks (an
 * fd the back end attaches to a reply is closed), and the data path of split
 * and packed rings through the shared memory as a back end maps it. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <virtio/virtio.h>

#define QSIZE 32

struct backend {
	int sock;
	bool attach_fd; /* attach an eventfd to the GET_FEATURES reply */
	bool packed;	/* offer VIRTIO_F_RING_PACKED */
	struct vio_vhost_user_vring_addr addr;
	uint32_t num;
	uint64_t acked;
	/* what it received */
	int mem_fd;
	struct vio_vhost_user_mem_region region;
	int kick_fd, call_fd;
	unsigned requests;
	unsigned bad; /* checks failed in the thread (cmocka asserts only in the test's) */
};

#define CHECK(b, cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			(b)->bad++;                                                                \
	} while (0)

static int recv_all(int s, void *buf, size_t len, int *fds, unsigned *nfds)
{
	size_t done = 0;
	while (done < len) {
		union {
			char b[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr a;
		} ctl;
		struct iovec iov = {(char *)buf + done, len - done};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl.b,
				    .msg_controllen = sizeof(ctl.b)};
		ssize_t n = recvmsg(s, &mh, 0);
		if (n <= 0)
			return -1;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
			unsigned k = (unsigned)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds + *nfds, CMSG_DATA(c), sizeof(int) * k);
			*nfds += k;
		}
		done += (size_t)n;
	}
	return 0;
}

static void send_reply(struct backend *b, uint32_t req, const void *p, uint32_t size)
{
	unsigned char buf[12 + 300];
	struct vio_vhost_user_hdr h = {req, VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY,
				       size};
	memcpy(buf, &h, 12);
	memcpy(buf + 12, p, size);
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr a;
	} ctl;
	memset(&ctl, 0, sizeof(ctl));
	struct iovec iov = {buf, 12 + (size_t)size};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	int efd = -1;
	if (b->attach_fd && req == VIO_VHOST_USER_GET_FEATURES) {
		efd = eventfd(0, 0);
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &efd, sizeof(int));
	}
	CHECK(b, sendmsg(b->sock, &mh, MSG_NOSIGNAL) == (ssize_t)(12 + size));
	if (efd >= 0)
		close(efd);
}

/* A minimal well-behaved back end: blk-like features, REPLY_ACK and CONFIG. */
static void *backend_main(void *arg)
{
	struct backend *b = arg;
	for (;;) {
		unsigned char hdr[12], payload[300];
		int fds[16];
		unsigned nfds = 0;
		if (recv_all(b->sock, hdr, 12, fds, &nfds) < 0)
			break;
		struct vio_vhost_user_hdr h;
		memcpy(&h, hdr, 12);
		if (h.size > sizeof(payload) || recv_all(b->sock, payload, h.size, fds, &nfds) < 0)
			break;
		b->requests++;
		uint64_t v = 0;
		switch (h.request) {
		case VIO_VHOST_USER_GET_FEATURES:
			v = (UINT64_C(1) << VIO_F_VERSION_1) | (UINT64_C(1) << 30) |
			    (UINT64_C(1) << VIO_F_EVENT_IDX) |
			    (b->packed ? UINT64_C(1) << VIO_F_RING_PACKED : 0);
			send_reply(b, h.request, &v, 8);
			continue;
		case VIO_VHOST_USER_GET_PROTOCOL_FEATURES:
			v = (UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_REPLY_ACK) |
			    (UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_CONFIG);
			send_reply(b, h.request, &v, 8);
			continue;
		case VIO_VHOST_USER_GET_CONFIG:
			memset(payload + 12, 0x11, h.size - 12);
			send_reply(b, h.request, payload, h.size);
			continue;
		case VIO_VHOST_USER_GET_VRING_BASE:
			send_reply(b, h.request, payload, 8);
			continue;
		case VIO_VHOST_USER_SET_MEM_TABLE:
			CHECK(b, nfds == 1);
			b->mem_fd = fds[0];
			nfds = 0;
			memcpy(&b->region, payload + 8, sizeof(b->region));
			break;
		case VIO_VHOST_USER_SET_FEATURES:
			memcpy(&b->acked, payload, 8);
			v = 0;
			break;
		case VIO_VHOST_USER_SET_VRING_ADDR:
			memcpy(&b->addr, payload, sizeof(b->addr));
			break;
		case VIO_VHOST_USER_SET_VRING_NUM:
			memcpy(&b->num, payload + 4, 4);
			break;
		case VIO_VHOST_USER_SET_VRING_KICK:
			CHECK(b, nfds == 1);
			b->kick_fd = fds[0];
			nfds = 0;
			break;
		case VIO_VHOST_USER_SET_VRING_CALL:
			CHECK(b, nfds == 1);
			b->call_fd = fds[0];
			nfds = 0;
			break;
		default:
			break;
		}
		for (unsigned i = 0; i < nfds; i++)
			close(fds[i]);
		if (h.flags & VIO_VHOST_USER_FLAG_NEED_REPLY)
			send_reply(b, h.request, &v, 8);
	}
	return NULL;
}

static unsigned open_fds(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return 0;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n;
}

static struct vio_vhost_user_front_posix_config base_cfg(void)
{
	struct vio_vhost_user_front_posix_config c = {
		.timeout_ms = 2000,
		.arena_size = 100000, /* rounded up to pages */
		.device_id = VIO_ID_BLOCK,
		.queue_slots = 1,
		.queue_max = QSIZE,
	};
	return c;
}

static int64_t ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_posix_bringup_memfd_and_eventfds(void **state)
{
	(void)state;
	unsigned fds_before = open_fds();
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct backend b = {
		.sock = sv[1], .mem_fd = -1, .kick_fd = -1, .call_fd = -1, .attach_fd = true};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, backend_main, &b), 0);

	struct vio_vhost_user_front_posix_config pc = base_cfg();
	struct vio_vhost_user_front_posix *p;
	assert_int_equal(vio_vhost_user_front_posix_open_fd(&p, &pc, sv[0]), 0);
	struct vio_vhost_user_front *f = vio_vhost_user_front_posix_front(p);
	assert_int_equal(vio_vhost_user_front_protocol_features(f), 0x208);

	/* arena allocation and addresses */
	unsigned char *buf = vio_vhost_user_front_posix_alloc(p, 100, 64);
	assert_non_null(buf);
	assert_int_equal((uintptr_t)buf % 64, 0);
	uint64_t gpa;
	assert_int_equal(vio_vhost_user_front_posix_gpa(p, buf, 100, &gpa), 0);
	unsigned char outside[16];
	assert_int_equal(vio_vhost_user_front_posix_gpa(p, outside, 16, &gpa), -VIO_EINVAL);
	assert_null(vio_vhost_user_front_posix_alloc(p, 1u << 20, 16));
	assert_null(vio_vhost_user_front_posix_alloc(p, 16, 3));
	memcpy(buf, "libvirtio", 10);

	/* a driver core over it */
	struct vio_drv_config dc = {0};
	vio_vhost_user_front_posix_drv_config(p, &dc);
	dc.num_queues = 1;
	dc.device_id = VIO_ID_BLOCK;
	_Alignas(8) static unsigned char drv_mem[VIO_DRV_MEM_SIZE(1)];
	_Alignas(8) static unsigned char vq_mem[VIO_VQ_MEM_SIZE(QSIZE)];
	struct vio_drv *drv;
	assert_int_equal(vio_drv_init(&drv, drv_mem, sizeof(drv_mem), &dc), 0);
	assert_int_equal(vio_drv_negotiate(drv), 0);
	uint64_t v;
	assert_int_equal(vio_drv_config_read(drv, 4, 4, &v), 0);
	assert_int_equal(v, 0x11111111u);
	struct vio_drv_queue_config qc = {0};
	qc.size = QSIZE;
	qc.ring = vio_vhost_user_front_posix_alloc(p, VIO_DRV_RING_SIZE(QSIZE), 4096);
	qc.vq_mem = vq_mem;
	qc.vq_mem_size = sizeof(vq_mem);
	assert_int_equal(vio_drv_queue_setup(drv, 0, &qc, NULL), 0);
	assert_int_equal(vio_drv_ready(drv), 0);

	/* the back end maps the memfd and sees the front's bytes at the gpa's offset */
	assert_true(b.mem_fd >= 0);
	assert_int_equal(b.region.guest_phys_addr, VIO_VHOST_USER_FRONT_POSIX_DEFAULT_GPA);
	assert_int_equal(b.region.memory_size % 4096, 0);
	assert_int_equal(b.region.user_addr + (gpa - b.region.guest_phys_addr),
			 (uint64_t)(uintptr_t)buf);
	unsigned char *m = mmap(NULL, b.region.memory_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				b.mem_fd, (off_t)b.region.mmap_offset);
	assert_true(m != MAP_FAILED);
	assert_memory_equal(m + (gpa - b.region.guest_phys_addr), "libvirtio", 10);
	m[gpa - b.region.guest_phys_addr] = 'L'; /* and the other way */
	assert_int_equal(buf[0], 'L');
	munmap(m, b.region.memory_size);

	/* kick: the back end's eventfd counts; call: the front sees it */
	assert_int_equal(vio_drv_notify(drv, 0), 0);
	uint64_t cnt = 0;
	assert_int_equal(read(b.kick_fd, &cnt, 8), 8);
	assert_int_equal(cnt, 1);
	assert_int_equal(vio_vhost_user_front_posix_wait(p, 10), -VIO_EAGAIN);
	uint64_t one = 1;
	assert_int_equal(write(b.call_fd, &one, 8), 8);
	assert_int_equal(vio_vhost_user_front_posix_wait(p, 1000), 0);
	uint32_t causes;
	assert_int_equal(vio_drv_interrupt(drv, &causes), 0);
	assert_int_equal(causes, VIO_DRV_INT_VRING);
	assert_int_equal(vio_vhost_user_front_posix_wait(p, 10), -VIO_EAGAIN);

	assert_int_equal(vio_drv_reset(drv), 0);
	vio_vhost_user_front_posix_close(p);
	pthread_join(t, NULL);
	assert_int_equal(b.bad, 0);
	assert_true(b.requests > 10);
	close(sv[1]);
	close(b.mem_fd);
	close(b.kick_fd);
	close(b.call_fd);
	/* nothing leaked, the fd the back end attached to a reply included */
	assert_int_equal(open_fds(), fds_before);
}

/* The data path: the driver adds a buffer and kicks; the "back end" (this
 * thread, after the control thread recorded the setup) does what a real one
 * does: maps the memfd, turns SET_VRING_ADDR's user addresses into guest
 * addresses through the region, runs libvirtio's device queue over its own
 * mapping, fills the buffer, completes it and signals the call eventfd. */
static void round_trip(bool packed)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct backend b = {
		.sock = sv[1], .mem_fd = -1, .kick_fd = -1, .call_fd = -1, .packed = packed};
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, backend_main, &b), 0);
	struct vio_vhost_user_front_posix_config pc = base_cfg();
	struct vio_vhost_user_front_posix *p;
	assert_int_equal(vio_vhost_user_front_posix_open_fd(&p, &pc, sv[0]), 0);

	struct vio_drv_config dc = {0};
	vio_vhost_user_front_posix_drv_config(p, &dc);
	dc.num_queues = 1;
	dc.device_id = VIO_ID_BLOCK;
	if (packed)
		vio_features_set(&dc.features, VIO_F_RING_PACKED);
	_Alignas(8) static unsigned char drv_mem[VIO_DRV_MEM_SIZE(1)];
	_Alignas(8) static unsigned char vq_mem[VIO_VQ_MEM_SIZE(QSIZE)];
	struct vio_drv *drv;
	assert_int_equal(vio_drv_init(&drv, drv_mem, sizeof(drv_mem), &dc), 0);
	assert_int_equal(vio_drv_negotiate(drv), 0);
	struct vio_drv_queue_config qc = {0};
	qc.size = QSIZE;
	qc.ring = vio_vhost_user_front_posix_alloc(p, VIO_DRV_RING_SIZE(QSIZE), 4096);
	qc.vq_mem = vq_mem;
	qc.vq_mem_size = sizeof(vq_mem);
	struct vio_vq *vq;
	assert_int_equal(vio_drv_queue_setup(drv, 0, &qc, &vq), 0);
	assert_int_equal(vio_drv_ready(drv), 0);
	assert_int_equal(vio_drv_ring_format(drv), packed ? VIO_RING_PACKED : VIO_RING_SPLIT);
	assert_int_equal((b.acked >> VIO_F_RING_PACKED) & 1, packed);

	/* the back end's view of the memory */
	unsigned char *m = mmap(NULL, b.region.memory_size, PROT_READ | PROT_WRITE, MAP_SHARED,
				b.mem_fd, (off_t)b.region.mmap_offset);
	assert_true(m != MAP_FAILED);
	struct vio_mem_region reg = {b.region.guest_phys_addr, b.region.memory_size, m, VIO_MAP_RW};
	uint64_t u0 = b.region.user_addr, g0 = b.region.guest_phys_addr;
	struct vio_devq_config qcfg = {
		.format = packed ? VIO_RING_PACKED : VIO_RING_SPLIT,
		.size = (uint16_t)b.num,
		.features = vio_drv_features(drv),
		.desc_addr = b.addr.desc_user_addr - u0 + g0,
		.driver_addr = b.addr.avail_user_addr - u0 + g0,
		.device_addr = b.addr.used_user_addr - u0 + g0,
		.regions = &reg,
		.nregions = 1,
	};
	_Alignas(8) static unsigned char dq_mem[VIO_DEVQ_MEM_SIZE(QSIZE)];
	struct vio_devq *dq;
	assert_int_equal(vio_devq_init(&dq, dq_mem, sizeof(dq_mem), &qcfg), 0);

	for (unsigned round = 0; round < 3 * QSIZE; round++) {
		unsigned char *buf = vio_vhost_user_front_posix_alloc(p, 64, 16);
		assert_non_null(buf);
		struct vio_sg sg = {buf, 64};
		assert_int_equal(vio_vq_add(vq, &sg, 0, 1, buf), 0);
		assert_int_equal(vio_drv_kick(drv, 0), 0);
		uint64_t cnt;
		(void)read(b.kick_fd, &cnt, 8); /* EVENT_IDX may have spared the kick */
		struct vio_chain ch;
		struct vio_chain_seg seg[2];
		assert_int_equal(vio_devq_pop(dq, &ch, seg, 2), 0);
		assert_int_equal(ch.in_bytes, 64);
		memset(seg[0].ptr, (int)(round & 0xff), 32);
		assert_int_equal(vio_devq_push(dq, &ch, 32), 0);
		uint64_t one = 1;
		assert_int_equal(write(b.call_fd, &one, 8), 8);
		assert_int_equal(vio_vhost_user_front_posix_wait(p, 1000), 0);
		assert_int_equal(vio_drv_interrupt(drv, NULL), 0);
		void *tok;
		uint32_t len;
		assert_int_equal(vio_vq_get(vq, &tok, &len), 0);
		assert_ptr_equal(tok, buf);
		assert_int_equal(len, 32);
		assert_int_equal(buf[31], round & 0xff);
	}
	munmap(m, b.region.memory_size);
	assert_int_equal(vio_drv_reset(drv), 0);
	vio_vhost_user_front_posix_close(p);
	pthread_join(t, NULL);
	assert_int_equal(b.bad, 0);
	close(sv[1]);
	close(b.mem_fd);
	close(b.kick_fd);
	close(b.call_fd);
}

static void test_posix_round_trip_split(void **state)
{
	(void)state;
	round_trip(false);
}

static void test_posix_round_trip_packed(void **state)
{
	(void)state;
	round_trip(true);
}

static void test_posix_silent_backend_times_out(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct vio_vhost_user_front_posix_config pc = base_cfg();
	pc.timeout_ms = 100;
	struct vio_vhost_user_front_posix *p = NULL;
	int64_t t0 = ms();
	assert_int_equal(vio_vhost_user_front_posix_open_fd(&p, &pc, sv[0]), -VIO_EVHOST_TIMEOUT);
	int64_t took = ms() - t0;
	assert_true(took >= 90);
	assert_true(took < 2000);
	close(sv[1]);
}

static void test_posix_closed_backend(void **state)
{
	(void)state;
	/* the back end hangs up before anything */
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	struct vio_vhost_user_front_posix_config pc = base_cfg();
	struct vio_vhost_user_front_posix *p = NULL;
	assert_int_equal(vio_vhost_user_front_posix_open_fd(&p, &pc, sv[0]), -VIO_EVHOST_IO);

	/* ... or takes the requests and closes without a reply */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	shutdown(sv[1], SHUT_WR);
	int64_t t0 = ms();
	assert_int_equal(vio_vhost_user_front_posix_open_fd(&p, &pc, sv[0]), -VIO_EVHOST_IO);
	assert_true(ms() - t0 < 1000); /* at once, not after the timeout */
	close(sv[1]);
}

static void test_posix_no_socket(void **state)
{
	(void)state;
	struct vio_vhost_user_front_posix_config pc = base_cfg();
	struct vio_vhost_user_front_posix *p = NULL;
	pc.socket_path = "/nonexistent-dir/vio.sock";
	pc.connect_timeout_ms = 50;
	int64_t t0 = ms();
	assert_int_equal(vio_vhost_user_front_posix_open(&p, &pc), -VIO_EVHOST_IO);
	assert_true(ms() - t0 < 2000);
	char longpath[200];
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[sizeof(longpath) - 1] = '\0';
	pc.socket_path = longpath;
	assert_int_equal(vio_vhost_user_front_posix_open(&p, &pc), -VIO_EINVAL);
	pc.socket_path = NULL;
	assert_int_equal(vio_vhost_user_front_posix_open(&p, &pc), -VIO_EINVAL);
	pc.arena_size = 0;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(vio_vhost_user_front_posix_open_fd(&p, &pc, sv[0]), -VIO_EINVAL);
	close(sv[1]);
	vio_vhost_user_front_posix_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_posix_bringup_memfd_and_eventfds),
		cmocka_unit_test(test_posix_round_trip_split),
		cmocka_unit_test(test_posix_round_trip_packed),
		cmocka_unit_test(test_posix_silent_backend_times_out),
		cmocka_unit_test(test_posix_closed_backend),
		cmocka_unit_test(test_posix_no_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
