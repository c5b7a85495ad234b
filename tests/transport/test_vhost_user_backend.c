/* SPDX-License-Identifier: MIT */
/* vhost-user back end dispatcher (vhost_user_backend.h) with fake platform
 * callbacks: file descriptors are numbers the test hands out and tracks
 * (each must be closed exactly once, never signalled after closing), "mmap"
 * returns pointers into a test buffer that plays the guest RAM. A virtio-blk
 * device (blk_device.h, in-memory disk) sits behind the back end; the test
 * plays QEMU (the message sequence of a vhost-user-blk start) and the guest
 * (the ring driver half, vq.h, in that RAM). */
#define _POSIX_C_SOURCE 200112L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <virtio/virtio.h>

/* Guest RAM: region 0 (rings) and region 1 (buffers), one "fd", region 1 at
 * mmap offset R0_SIZE. Guest-physical and front-end user addresses differ. */
#define R0_SIZE (128u * 1024u)
#define R1_SIZE (64u * 1024u)
#define RAM_SIZE (R0_SIZE + R1_SIZE)
#define GPA0 0x100000ull
#define GPA1 0x40000000ull
#define UVA0 0x7f1200000000ull
#define UVA1 0x7f1300000000ull
#define LOG_SIZE 0x9000u /* covers 1 GiB + 128 MiB of guest-physical pages */
#define SECTORS 64u
#define QSIZE 16u
#define MAXQ 4
#define MAXFD 4096

enum fd_kind {
	FD_NONE,
	FD_RAM,
	FD_LOG,
	FD_EVENT,
	FD_SHM
};

#define SHM_SIZE (64u * 1024u)
#define HOLD_MAX 16

struct fx {
	unsigned char *ram;
	unsigned char *log;
	unsigned char disk[SECTORS * 512];
	struct vio_blk_mem_backend mb;
	struct vio_blk_device *bd;
	void *bd_mem;
	struct vio_vhost_user_backend *be;
	void *be_mem;
	uint16_t nq;
	bool packed;
	bool no_inflight; /* fx_init: config no_inflight */
	bool no_shm;	  /* fx_init: ops without create_shm */
	/* The inflight region: one memfd's pages, which the front end keeps
	 * across a back-end restart. */
	unsigned char *shm;
	uint64_t shm_size; /* bytes created (0: none yet) */
	unsigned shm_creates;
	bool shm_fail;
	/* The blk backend: hold requests (in flight) instead of serving them. */
	bool hold;
	struct vio_blk_req *held[HOLD_MAX];
	unsigned nheld;
	/* Fake fds. */
	int next_fd;
	unsigned char kind[MAXFD];
	unsigned char state[MAXFD]; /* 0 unused, 1 handed to the back end, 2 closed */
	unsigned signals[MAXFD];
	unsigned maps, unmaps;
	/* Guest side. */
	size_t r0_used, r1_used;
	struct vio_vq *vq[MAXQ];
	void *vq_mem[MAXQ];
	void *ring[MAXQ][3];
	int call[MAXQ], err[MAXQ], kick[MAXQ];
};

/* ---- Fake platform ---------------------------------------------------------- */

static int fake_map(void *ctx, int fd, uint64_t offset, uint64_t size, void **host)
{
	struct fx *f = ctx;
	assert_true(fd >= 0 && fd < MAXFD);
	assert_int_equal(f->state[fd], 1); /* only a live fd is mapped */
	unsigned char *buf = f->kind[fd] == FD_RAM   ? f->ram
			     : f->kind[fd] == FD_LOG ? f->log
			     : f->kind[fd] == FD_SHM ? f->shm
						     : NULL;
	uint64_t cap = f->kind[fd] == FD_RAM   ? RAM_SIZE
		       : f->kind[fd] == FD_LOG ? LOG_SIZE
					       : SHM_SIZE;
	if (buf == NULL || offset > cap || size > cap - offset)
		return -VIO_EVHOST_SYS;
	*host = buf + offset;
	f->maps++;
	return 0;
}

static void fake_unmap(void *ctx, void *host, uint64_t offset, uint64_t size)
{
	struct fx *f = ctx;
	(void)host;
	(void)offset;
	(void)size;
	f->unmaps++;
	assert_true(f->unmaps <= f->maps);
}

static void fake_close(void *ctx, int fd)
{
	struct fx *f = ctx;
	assert_true(fd >= 0 && fd < MAXFD);
	assert_int_equal(f->state[fd], 1); /* closed exactly once */
	f->state[fd] = 2;
}

static void fake_signal(void *ctx, int fd)
{
	struct fx *f = ctx;
	assert_true(fd >= 0 && fd < MAXFD);
	assert_int_equal(f->state[fd], 1); /* never a closed fd */
	f->signals[fd]++;
}

static int new_fd(struct fx *f, enum fd_kind k)
{
	int fd = f->next_fd++;
	assert_true(fd < MAXFD);
	f->kind[fd] = (unsigned char)k;
	f->state[fd] = 1;
	return fd;
}

/* A memfd: the same pages every time (the test keeps one region). */
static int fake_create_shm(void *ctx, uint64_t size, int *fd, void **host)
{
	struct fx *f = ctx;
	if (f->shm_fail || size > SHM_SIZE)
		return -VIO_EVHOST_SYS;
	memset(f->shm, 0, SHM_SIZE);
	f->shm_size = size;
	f->shm_creates++;
	*fd = new_fd(f, FD_SHM);
	*host = f->shm;
	f->maps++;
	return 0;
}

static const struct vio_vhost_user_backend_ops fake_ops = {fake_map, fake_unmap, fake_close,
							   fake_signal, fake_create_shm};
static const struct vio_vhost_user_backend_ops fake_ops_noshm = {fake_map, fake_unmap, fake_close,
								 fake_signal, NULL};

/* The blk backend: the in-memory disk, or (f->hold) keep the request in
 * flight until the test completes it (or the back end "crashes"). */
static struct fx *blk_fx;

static void hold_submit(void *ctx, struct vio_blk_req *req)
{
	struct fx *f = blk_fx;
	if (f->hold) {
		assert_true(f->nheld < HOLD_MAX);
		f->held[f->nheld++] = req;
		return;
	}
	vio_blk_mem_backend_ops.submit(ctx, req);
}

static const struct vio_blk_backend_ops hold_ops = {hold_submit};

/* Every fd handed over was closed (after a disconnect). */
static void assert_no_fd_leak(struct fx *f)
{
	for (int fd = 0; fd < f->next_fd; fd++)
		if (f->state[fd] == 1)
			fail_msg("fd %d (kind %u) not closed", fd, f->kind[fd]);
	assert_int_equal(f->maps, f->unmaps);
}

/* ---- Guest addresses --------------------------------------------------------- */

static uint64_t host_to(const struct fx *f, const void *p, bool user)
{
	size_t off = (size_t)((const unsigned char *)p - f->ram);
	assert_true(off < RAM_SIZE);
	if (off < R0_SIZE)
		return (user ? UVA0 : GPA0) + off;
	return (user ? UVA1 : GPA1) + (off - R0_SIZE);
}

static int to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir, uint64_t *addr)
{
	(void)len;
	(void)dir;
	*addr = host_to(ctx, ptr, false);
	return 0;
}

static const struct vio_dma_ops dma = {to_device, NULL};

static void *r0_alloc(struct fx *f, size_t n, size_t align)
{
	f->r0_used = (f->r0_used + align - 1) & ~(align - 1);
	assert_true(f->r0_used + n <= R0_SIZE);
	void *p = f->ram + f->r0_used;
	f->r0_used += n;
	return p;
}

static void *r1_alloc(struct fx *f, size_t n)
{
	f->r1_used = (f->r1_used + 15u) & ~(size_t)15u;
	assert_true(f->r1_used + n <= R1_SIZE);
	void *p = f->ram + R0_SIZE + f->r1_used;
	f->r1_used += n;
	return p;
}

/* ---- Fixture ------------------------------------------------------------------ */

/* The back end and its blk device (a new "process"): RAM, disk and the
 * inflight region stay. */
static void fx_backend(struct fx *f)
{
	struct vio_blk_device_config bc = {0};
	bc.desc.capacity = SECTORS;
	bc.desc.seg_max = 8;
	bc.desc.flush = true;
	bc.desc.config_wce = true;
	bc.desc.num_queues = f->nq;
	bc.backend = &hold_ops;
	bc.backend_ctx = &f->mb;
	bc.queue_max = 64;
	size_t n = vio_blk_device_mem_size(&bc);
	assert_int_equal(posix_memalign(&f->bd_mem, 8, n), 0);
	assert_int_equal(vio_blk_device_init(&f->bd, f->bd_mem, n, &bc), 0);
	struct vio_device_info info = {0};
	vio_blk_device_info(f->bd, &info);
	struct vio_vhost_user_backend_config cfg = {&info, f->no_shm ? &fake_ops_noshm : &fake_ops,
						    f, f->no_inflight};
	n = vio_vhost_user_backend_mem_size(&cfg);
	assert_true(n > 0);
	assert_int_equal(posix_memalign(&f->be_mem, 8, n), 0);
	assert_int_equal(vio_vhost_user_backend_init(&f->be, f->be_mem, n - 1, &cfg), -VIO_EINVAL);
	assert_int_equal(vio_vhost_user_backend_init(&f->be, f->be_mem, n, &cfg), 0);
	for (unsigned q = 0; q < MAXQ; q++)
		f->call[q] = f->err[q] = f->kick[q] = -1;
}

static void fx_init_opt(struct fx *f, uint16_t nq, bool no_inflight, bool no_shm)
{
	memset(f, 0, sizeof(*f));
	blk_fx = f;
	f->next_fd = 3;
	f->nq = nq;
	f->no_inflight = no_inflight;
	f->no_shm = no_shm;
	assert_int_equal(posix_memalign((void **)&f->ram, 4096, RAM_SIZE), 0);
	assert_int_equal(posix_memalign((void **)&f->log, 4096, LOG_SIZE), 0);
	assert_int_equal(posix_memalign((void **)&f->shm, 4096, SHM_SIZE), 0);
	memset(f->ram, 0, RAM_SIZE);
	memset(f->log, 0, LOG_SIZE);
	memset(f->shm, 0, SHM_SIZE);
	vio_blk_mem_backend_init(&f->mb, f->disk, sizeof(f->disk));
	fx_backend(f);
}

static void fx_init(struct fx *f, uint16_t nq)
{
	fx_init_opt(f, nq, false, false);
}

/* The back end process dies: the kernel closes its fds and drops its
 * mappings; its memory is gone without any cleanup. */
static void fx_crash(struct fx *f)
{
	for (int fd = 0; fd < f->next_fd; fd++)
		if (f->state[fd] == 1)
			f->state[fd] = 2;
	f->maps = f->unmaps = 0;
	memset(f->be_mem, 0xa5, 64); /* nothing of it is used again */
	free(f->be_mem);
	free(f->bd_mem);
	f->be_mem = f->bd_mem = NULL;
	f->nheld = 0;
	f->hold = false;
}

static void fx_fini(struct fx *f)
{
	vio_vhost_user_backend_disconnect(f->be);
	assert_no_fd_leak(f);
	for (unsigned q = 0; q < MAXQ; q++)
		free(f->vq_mem[q]);
	free(f->be_mem);
	free(f->bd_mem);
	free(f->ram);
	free(f->log);
	free(f->shm);
	blk_fx = NULL;
}

/* ---- Messages ------------------------------------------------------------------ */

static int send_msg(struct fx *f, uint32_t req, uint32_t flags, const void *payload, uint32_t size,
		    const int *fds, uint32_t nfds, struct vio_vhost_user_reply *out)
{
	struct vio_vhost_user_msg m;
	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = VIO_VHOST_USER_VERSION | flags;
	m.hdr.size = size;
	assert_true(size <= sizeof(m.payload));
	if (size)
		memcpy(m.payload.raw, payload, size);
	for (uint32_t i = 0; i < nfds && i < VIO_VHOST_USER_MAX_FDS; i++)
		m.fds[i] = fds[i];
	m.nfds = nfds;
	struct vio_vhost_user_reply dummy;
	struct vio_vhost_user_reply *o = out != NULL ? out : &dummy;
	int rc = vio_vhost_user_backend_handle(f->be, &m, o);
	if (o->send) {
		assert_int_equal(o->msg.hdr.request, req);
		assert_int_equal(o->msg.hdr.flags,
				 VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY);
	}
	return rc;
}

/* A request with NEED_REPLY: returns the acknowledged u64 (0 = success). */
static uint64_t acked(struct fx *f, uint32_t req, const void *payload, uint32_t size,
		      const int *fds, uint32_t nfds)
{
	struct vio_vhost_user_reply out;
	int rc = send_msg(f, req, VIO_VHOST_USER_FLAG_NEED_REPLY, payload, size, fds, nfds, &out);
	assert_true(out.send);
	assert_false(out.close);
	assert_int_equal(out.msg.hdr.size, 8);
	assert_int_equal(out.msg.payload.u64, (uint64_t)(unsigned)-rc);
	return out.msg.payload.u64;
}

static uint64_t get_u64(struct fx *f, uint32_t req)
{
	struct vio_vhost_user_reply out;
	assert_int_equal(send_msg(f, req, 0, NULL, 0, NULL, 0, &out), 0);
	assert_true(out.send);
	assert_int_equal(out.msg.hdr.size, 8);
	return out.msg.payload.u64;
}

static int vring_fd(struct fx *f, uint32_t req, uint32_t q, int fd)
{
	uint64_t v = q | (fd < 0 ? VIO_VHOST_USER_VRING_NOFD_MASK : 0u);
	return (int)acked(f, req, &v, 8, &fd, fd < 0 ? 0 : 1);
}

static int vring_state(struct fx *f, uint32_t req, uint32_t q, uint32_t num)
{
	struct vio_vhost_user_vring_state s = {q, num};
	return (int)acked(f, req, &s, sizeof(s), NULL, 0);
}

static uint64_t mem_table_ack(struct fx *f)
{
	struct vio_vhost_user_memory m;
	memset(&m, 0, sizeof(m));
	m.nregions = 2;
	m.regions[0] = (struct vio_vhost_user_mem_region){GPA0, R0_SIZE, UVA0, 0};
	m.regions[1] = (struct vio_vhost_user_mem_region){GPA1, R1_SIZE, UVA1, R0_SIZE};
	int fds[2] = {new_fd(f, FD_RAM), new_fd(f, FD_RAM)};
	return acked(f, VIO_VHOST_USER_SET_MEM_TABLE, &m, 8 + 64, fds, 2);
}

static uint64_t want_features(const struct fx *f)
{
	uint64_t w = (1ull << VIO_F_VERSION_1) | (1ull << VIO_VHOST_USER_F_PROTOCOL_FEATURES) |
		     (1ull << VIO_F_EVENT_IDX) | (1ull << VIO_BLK_F_SEG_MAX) |
		     (1ull << VIO_BLK_F_FLUSH);
	if (f->packed)
		w |= 1ull << VIO_F_RING_PACKED;
	if (f->nq > 1)
		w |= 1ull << VIO_BLK_F_MQ;
	return w;
}

/* The guest's queue @q in region 0 (rings) with the negotiated features. */
static void guest_queue(struct fx *f, uint16_t q)
{
	struct vio_vq_config c = {0};
	c.format = f->packed ? VIO_RING_PACKED : VIO_RING_SPLIT;
	c.size = QSIZE;
	c.index = q;
	uint64_t w = want_features(f);
	c.features = vio_features_none();
	for (unsigned b = 0; b < 64; b++)
		if (w & (1ull << b))
			vio_features_set(&c.features, b);
	vio_features_clear(&c.features, VIO_VHOST_USER_F_PROTOCOL_FEATURES);
	/* Each ring part on its own page, so the log test can tell them apart. */
	c.desc = f->ring[q][0] = r0_alloc(f, 16u * QSIZE, 4096);
	c.driver_area = f->ring[q][1] = r0_alloc(f, 6u + 2u * QSIZE, 4096);
	c.device_area = f->ring[q][2] = r0_alloc(f, 6u + 8u * QSIZE, 4096);
	c.dma_ops = &dma;
	c.dma_ctx = f;
	size_t n = vio_vq_mem_size(&c);
	free(f->vq_mem[q]);
	assert_int_equal(posix_memalign(&f->vq_mem[q], 8, n), 0);
	assert_int_equal(vio_vq_init(&f->vq[q], f->vq_mem[q], n, &c), 0);
}

static int set_addr(struct fx *f, uint16_t q, uint32_t flags, uint64_t log_addr)
{
	struct vio_vhost_user_vring_addr a = {q,
					      flags,
					      host_to(f, f->ring[q][0], true),
					      host_to(f, f->ring[q][2], true),
					      host_to(f, f->ring[q][1], true),
					      log_addr};
	return (int)acked(f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
}

/* One ring's start, as QEMU sends it at the guest's DRIVER_OK. */
static void start_ring(struct fx *f, uint16_t q, uint32_t base)
{
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_NUM, q, QSIZE), 0);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_BASE, q, base), 0);
	assert_int_equal(set_addr(f, q, 0, 0), 0);
	f->kick[q] = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_KICK, q, f->kick[q]), 0);
	assert_int_equal(vio_vhost_user_backend_kick_fd(f->be, q), f->kick[q]);
	f->call[q] = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_CALL, q, f->call[q]), 0);
	/* Started but disabled: the device core does not see it. */
	assert_false(vio_vhost_user_backend_ring_live(f->be, q));
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, q, 1), 0);
	assert_true(vio_vhost_user_backend_ring_live(f->be, q));
}

/* QEMU's vhost-user-blk connection handshake (interop notes order), up to
 * the guest's DRIVER_OK. */
static void handshake(struct fx *f)
{
	uint64_t feat = get_u64(f, VIO_VHOST_USER_GET_FEATURES);
	assert_true(feat & (1ull << VIO_VHOST_USER_F_PROTOCOL_FEATURES));
	assert_true(feat & (1ull << VIO_VHOST_F_LOG_ALL));
	assert_true(feat & (1ull << VIO_F_VERSION_1));
	assert_true(feat & (1ull << VIO_F_RING_PACKED));
	assert_true(feat & (1ull << VIO_F_EVENT_IDX));
	assert_true(feat & (1ull << VIO_F_INDIRECT_DESC));
	assert_false(feat & (1ull << VIO_F_ACCESS_PLATFORM));
	assert_false(feat & (1ull << VIO_F_SUSPEND));
	uint64_t proto = get_u64(f, VIO_VHOST_USER_GET_PROTOCOL_FEATURES);
	const uint64_t need = (1ull << VIO_VHOST_USER_PROTOCOL_F_MQ) |
			      (1ull << VIO_VHOST_USER_PROTOCOL_F_REPLY_ACK) |
			      (1ull << VIO_VHOST_USER_PROTOCOL_F_CONFIG) |
			      (1ull << VIO_VHOST_USER_PROTOCOL_F_LOG_SHMFD);
	assert_int_equal(proto & need, need);
	/* Inflight tracking: offered for blk unless configured off. */
	assert_int_equal((proto >> VIO_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) & 1u,
			 !f->no_inflight && !f->no_shm);
	assert_int_equal(
		send_msg(f, VIO_VHOST_USER_SET_PROTOCOL_FEATURES, 0, &proto, 8, NULL, 0, NULL), 0);
	assert_int_equal(get_u64(f, VIO_VHOST_USER_GET_QUEUE_NUM), f->nq);
	assert_int_equal(send_msg(f, VIO_VHOST_USER_SET_OWNER, 0, NULL, 0, NULL, 0, NULL), 0);
	for (uint16_t q = 0; q < f->nq; q++) {
		f->call[q] = new_fd(f, FD_EVENT);
		assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_CALL, q, f->call[q]), 0);
		f->err[q] = new_fd(f, FD_EVENT);
		assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_ERR, q, f->err[q]), 0);
		assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, q, 0), 0);
	}
	/* GET_CONFIG: the capacity. */
	struct vio_vhost_user_config c;
	memset(&c, 0, sizeof(c));
	c.size = (uint32_t)sizeof(struct vio_blk_config);
	struct vio_vhost_user_reply out;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_CONFIG, 0, &c, 12 + c.size, NULL, 0, &out),
			 0);
	assert_int_equal(out.msg.hdr.size, 12 + c.size);
	assert_int_equal(out.msg.payload.config.size, c.size);
	uint64_t cap;
	memcpy(&cap, out.msg.payload.config.region, 8);
	assert_int_equal(vio_le64_raw_to_cpu(cap), SECTORS);
}

static struct vio_vhost_user_inflight infl_msg; /* the region as the front end keeps it */

/* QEMU's vhost_user_blk_start(): with INFLIGHT_SHMFD, GET_INFLIGHT_FD the
 * first time (@get), then SET_INFLIGHT_FD with the region it keeps. */
static void inflight_fd(struct fx *f, bool get)
{
	if (f->no_inflight || f->no_shm)
		return;
	if (get) {
		struct vio_vhost_user_inflight q = {0, 0, f->nq, QSIZE};
		struct vio_vhost_user_reply out;
		assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_INFLIGHT_FD, 0, &q, sizeof(q), NULL,
					  0, &out),
				 0);
		assert_true(out.send);
		assert_int_equal(out.msg.hdr.size, sizeof(q));
		infl_msg = out.msg.payload.inflight;
		assert_int_equal(
			infl_msg.mmap_size,
			vio_vhost_user_inflight_size(f->packed ? VIO_RING_PACKED : VIO_RING_SPLIT,
						     f->nq, QSIZE));
		assert_int_equal(infl_msg.mmap_offset, 0);
		assert_int_equal(infl_msg.num_queues, f->nq);
		assert_int_equal(infl_msg.queue_size, QSIZE);
		assert_true(out.fd >= 0 && out.fd < MAXFD);
		assert_int_equal(f->kind[out.fd], FD_SHM);
		assert_int_equal(f->state[out.fd], 1);
		f->state[out.fd] = 2; /* the server sent and closed it */
	}
	int fd = new_fd(f, FD_SHM); /* QEMU's copy */
	assert_int_equal(
		acked(f, VIO_VHOST_USER_SET_INFLIGHT_FD, &infl_msg, sizeof(infl_msg), &fd, 1), 0);
	assert_int_equal(f->state[fd], 2); /* mapped, then closed */
}

/* QEMU's bring-up, then every ring. */
static void bringup(struct fx *f, bool packed)
{
	f->packed = packed;
	handshake(f);
	/* The guest sets DRIVER_OK. */
	uint64_t w = want_features(f);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);
	inflight_fd(f, true);
	assert_int_equal(mem_table_ack(f), 0);
	for (uint16_t q = 0; q < f->nq; q++) {
		guest_queue(f, q);
		/* A fresh ring: QEMU sends both halves; packed wrap counters 1. */
		start_ring(f, q, packed ? 0x80008000u : 0u);
	}
}

/* One blk request through queue @q: write (OUT) or read (IN) one sector at
 * @sector from/into @buf. Returns the status byte. */
static uint8_t blk_io(struct fx *f, uint16_t q, bool write, uint64_t sector, unsigned char *data)
{
	struct vio_blk_req_hdr *h = r1_alloc(f, sizeof(*h));
	uint8_t *status = r1_alloc(f, 1);
	unsigned char *buf = r1_alloc(f, 512);
	h->type = vio_le32_make(write ? VIO_BLK_T_OUT : VIO_BLK_T_IN);
	h->reserved = vio_le32_make(0);
	h->sector = vio_le64_make(sector);
	*status = 0xff;
	if (write)
		memcpy(buf, data, 512);
	struct vio_sg sg[3] = {{h, sizeof(*h)}, {buf, 512}, {status, 1}};
	assert_int_equal(vio_vq_add(f->vq[q], sg, write ? 2 : 1, write ? 1 : 2, h), 0);
	unsigned calls = f->signals[f->call[q]];
	bool k = vio_vq_kick_prepare(f->vq[q]);
	if (k)
		assert_int_equal(vio_vhost_user_backend_kick(f->be, q), 0);
	if (f->signals[f->call[q]] != calls + 1)
		fail_msg("kick %d calls %u->%u sector %u", k, calls, f->signals[f->call[q]],
			 (unsigned)sector);
	assert_int_equal(f->signals[f->call[q]], calls + 1); /* served inline, called */
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(f->vq[q], &tok, &len), 0);
	assert_ptr_equal(tok, h);
	assert_int_equal(len, write ? 1u : 513u);
	if (!write)
		memcpy(data, buf, 512);
	f->r1_used -= 512 + 16 + 16 + 16; /* reuse the buffer space */
	if (f->r1_used > R1_SIZE)
		f->r1_used = 0;
	return *status;
}

static void io_roundtrip(struct fx *f, uint16_t q, uint64_t sector, unsigned char seed)
{
	unsigned char w[512], r[512];
	for (unsigned i = 0; i < 512; i++)
		w[i] = (unsigned char)(seed + i * 3u);
	assert_int_equal(blk_io(f, q, true, sector, w), VIO_BLK_S_OK);
	assert_memory_equal(f->disk + sector * 512, w, 512);
	memset(r, 0, sizeof(r));
	assert_int_equal(blk_io(f, q, false, sector, r), VIO_BLK_S_OK);
	assert_memory_equal(r, w, 512);
}

static uint32_t get_base(struct fx *f, uint16_t q)
{
	struct vio_vhost_user_vring_state s = {q, 0};
	struct vio_vhost_user_reply out;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_VRING_BASE, 0, &s, 8, NULL, 0, &out), 0);
	assert_true(out.send);
	assert_int_equal(out.msg.hdr.size, 8);
	assert_int_equal(out.msg.payload.state.index, q);
	return out.msg.payload.state.num;
}

/* ---- Tests: the normal path -------------------------------------------------------- */

static void normal_path(bool packed)
{
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 1);
	bringup(f, packed);
	struct vio_device *dev = vio_vhost_user_backend_device(f->be);
	assert_true(vio_device_is_live(dev));
	for (unsigned i = 0; i < 10; i++)
		io_roundtrip(f, 0, i % SECTORS, (unsigned char)i);
	/* Shutdown as QEMU does it: disable the ring, then GET_VRING_BASE
	 * stops it and reports where it is (20 requests). */
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, 0, 0), 0);
	assert_false(vio_vhost_user_backend_ring_live(f->be, 0));
	uint32_t base = get_base(f, 0);
	assert_false(vio_vhost_user_backend_ring_live(f->be, 0));
	assert_int_equal(vio_vhost_user_backend_kick_fd(f->be, 0), -1);
	assert_int_equal(f->state[f->kick[0]], 2); /* the kick fd was closed */
	if (packed) {
		/* 20 chains of 3 descriptors = 60 slots of 16: slot 12, wrapped
		 * 3 times (counter 0); both halves. */
		assert_int_equal(base, (12u | 0u) | ((12u | 0u) << 16));
	} else {
		assert_int_equal(base, 20);
	}
	/* The ring is stopped: kicks are dropped. */
	assert_int_equal(vio_vhost_user_backend_kick(f->be, 0), -VIO_EQUEUE_STATE);
	/* Restart where it stopped, as QEMU does after a stop/cont. */
	start_ring(f, 0, base);
	io_roundtrip(f, 0, 5, 0x5a);
	/* Packed: 6 more slots, slot 2 with the wrap counter set again. */
	assert_int_equal(get_base(f, 0), packed ? (2u | 0x8000u) * 0x10001u : 22u);
	fx_fini(f);
	free(f);
}

static void test_vhost_user_backend_bringup_split(void **state)
{
	(void)state;
	normal_path(false);
}

static void test_vhost_user_backend_bringup_packed(void **state)
{
	(void)state;
	normal_path(true);
}

/* DPDK's front end sends only the avail half for a packed ring (0x8000 for
 * a fresh one); the default convention (AUTO) takes it. */
static void test_vhost_user_backend_packed_avail_only_base(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 1);
	f->packed = true;
	uint64_t w = want_features(f);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);
	assert_int_equal(mem_table_ack(f), 0);
	guest_queue(f, 0);
	start_ring(f, 0, 0x8000u);
	io_roundtrip(f, 0, 1, 0x11);
	/* A slot beyond the queue size is refused at SET_VRING_BASE. */
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, 0, 0), 0);
	(void)get_base(f, 0);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_BASE, 0, 0x8000u | QSIZE),
			 VIO_EINVAL);
	fx_fini(f);
	free(f);
}

/* Two queues: each served through its own ring, each with its own call fd. */
static void test_vhost_user_backend_multiqueue(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 2);
	bringup(f, false);
	for (unsigned i = 0; i < 4; i++) {
		unsigned c0 = f->signals[f->call[0]], c1 = f->signals[f->call[1]];
		io_roundtrip(f, (uint16_t)(i & 1u), i, (unsigned char)(0x30 + i));
		assert_int_equal(f->signals[f->call[i & 1u]], (i & 1u) ? c1 + 2 : c0 + 2);
		assert_int_equal(f->signals[f->call[(i & 1u) ^ 1u]], (i & 1u) ? c0 : c1);
	}
	assert_int_equal(get_base(f, 0), 4);
	assert_int_equal(get_base(f, 1), 4);
	/* Queue 1 still works after queue 0 stopped? No: GET_VRING_BASE stopped
	 * both; a kick on either is dropped. */
	assert_int_equal(vio_vhost_user_backend_kick(f->be, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_vhost_user_backend_kick(f->be, 2), -VIO_EVHOST_QUEUE);
	fx_fini(f);
	free(f);
}

/* GET/SET_CONFIG: reads the device core's configuration space; a driver
 * write reaches the model's writable field only; the migration flag writes
 * any byte; ranges outside the space are errors. */
static void test_vhost_user_backend_config(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 1);
	bringup(f, false);
	const uint32_t wce = (uint32_t)offsetof(struct vio_blk_config, writeback);
	struct vio_vhost_user_config c;
	struct vio_vhost_user_reply out;
	/* Write the cache mode (writable with CONFIG_WCE). */
	memset(&c, 0, sizeof(c));
	c.offset = wce;
	c.size = 1;
	c.region[0] = 0;
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_CONFIG, &c, 13, NULL, 0), 0);
	memset(&c, 0, sizeof(c));
	c.offset = wce;
	c.size = 1;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_CONFIG, 0, &c, 13, NULL, 0, &out), 0);
	assert_int_equal(out.msg.hdr.size, 13);
	assert_int_equal(out.msg.payload.config.region[0], 0);
	/* A driver write to the capacity is ignored (read-only field)... */
	memset(&c, 0, sizeof(c));
	c.size = 8;
	memset(c.region, 0x77, 8);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_CONFIG, &c, 20, NULL, 0), 0);
	memset(&c, 0, sizeof(c));
	c.size = 8;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_CONFIG, 0, &c, 20, NULL, 0, &out), 0);
	uint64_t cap;
	memcpy(&cap, out.msg.payload.config.region, 8);
	assert_int_equal(vio_le64_raw_to_cpu(cap), SECTORS);
	/* ...but taken with the live-migration flag. */
	memset(&c, 0, sizeof(c));
	c.size = 8;
	c.flags = 1;
	uint64_t ncap = vio_le64_raw_to_cpu(SECTORS / 2u);
	memcpy(c.region, &ncap, 8);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_CONFIG, &c, 20, NULL, 0), 0);
	memset(&c, 0, sizeof(c));
	c.size = 8;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_CONFIG, 0, &c, 20, NULL, 0, &out), 0);
	memcpy(&cap, out.msg.payload.config.region, 8);
	assert_int_equal(vio_le64_raw_to_cpu(cap), SECTORS / 2u);
	/* Out of range: GET answers with an empty payload, SET fails; unknown
	 * flags fail. */
	uint32_t cs = (uint32_t)sizeof(struct vio_blk_config);
	memset(&c, 0, sizeof(c));
	c.offset = cs - 4;
	c.size = 8;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_CONFIG, 0, &c, 20, NULL, 0, &out),
			 -VIO_EREG);
	assert_true(out.send);
	assert_false(out.close);
	assert_int_equal(out.msg.hdr.size, 0);
	c.offset = 0xfffffff0u;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_CONFIG, 0, &c, 20, NULL, 0, &out),
			 -VIO_EREG);
	assert_int_equal(out.msg.hdr.size, 0);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_CONFIG, &c, 20, NULL, 0), VIO_EREG);
	c.offset = 0;
	c.flags = 2;
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_CONFIG, &c, 20, NULL, 0), VIO_EINVAL);
	fx_fini(f);
	free(f);
}

static bool log_bit(const struct fx *f, uint64_t gpa)
{
	uint64_t page = gpa / VIO_VHOST_LOG_PAGE;
	return (f->log[page / 8u] >> (page % 8u)) & 1u;
}

/* LOG_ALL: every page the device writes gets its bit: the data buffer of a
 * read, the status byte, and the used ring, which with VHOST_VRING_F_LOG is
 * logged at log_guest_addr. Nothing else. */
static void test_vhost_user_backend_log_all(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 1);
	bringup(f, false);
	/* Logging not on yet: a read marks nothing. */
	io_roundtrip(f, 0, 3, 1);
	for (unsigned i = 0; i < LOG_SIZE; i++)
		assert_int_equal(f->log[i], 0);
	/* SET_LOG_BASE: always answered with a u64. */
	struct vio_vhost_user_log lg = {LOG_SIZE, 0};
	int lfd = new_fd(f, FD_LOG);
	struct vio_vhost_user_reply out;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_SET_LOG_BASE, 0, &lg, 16, &lfd, 1, &out), 0);
	assert_true(out.send);
	assert_int_equal(out.msg.hdr.size, 8);
	assert_int_equal(out.msg.payload.u64, 0);
	assert_int_equal(f->state[lfd], 2); /* mapped, then closed */
	uint64_t w = want_features(f) | (1ull << VIO_VHOST_F_LOG_ALL);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);
	assert_true(vio_vhost_user_backend_ring_live(f->be, 0)); /* not restarted */
	const uint64_t log_used = 0x3000000ull;			 /* anywhere inside the log */
	assert_int_equal(set_addr(f, 0, VIO_VHOST_VRING_F_LOG, log_used), 0);
	assert_true(vio_vhost_user_backend_ring_live(f->be, 0));

	/* A read: the device writes the data, the status, the used ring. */
	unsigned char buf[512];
	size_t at = f->r1_used;
	assert_int_equal(blk_io(f, 0, false, 3, buf), VIO_BLK_S_OK);
	uint64_t status_gpa = GPA1 + ((at + 15u) & ~(size_t)15u) + 16u;
	uint64_t data_gpa = status_gpa + 16u;
	assert_true(log_bit(f, data_gpa));
	assert_true(log_bit(f, data_gpa + 511u));
	assert_true(log_bit(f, status_gpa));
	assert_true(log_bit(f, log_used));
	uint64_t used_gpa = host_to(f, f->ring[0][2], false);
	assert_false(log_bit(f, used_gpa)); /* logged at log_guest_addr instead */
	assert_false(log_bit(f, host_to(f, f->ring[0][0], false))); /* split desc: read only */
	unsigned set = 0;
	for (unsigned i = 0; i < LOG_SIZE; i++)
		set += (unsigned)__builtin_popcount(f->log[i]);
	assert_true(set >= 2 && set <= 4);

	/* LOG_ALL off: nothing more is marked. */
	memset(f->log, 0, LOG_SIZE);
	w &= ~(1ull << VIO_VHOST_F_LOG_ALL);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);
	io_roundtrip(f, 0, 4, 2);
	for (unsigned i = 0; i < LOG_SIZE; i++)
		assert_int_equal(f->log[i], 0);
	/* A log the platform cannot map: answered with a failure. */
	lg.mmap_size = LOG_SIZE + 1u;
	lfd = new_fd(f, FD_LOG);
	assert_int_equal(send_msg(f, VIO_VHOST_USER_SET_LOG_BASE, 0, &lg, 16, &lfd, 1, &out),
			 -VIO_EVHOST_SYS);
	assert_int_equal(out.msg.payload.u64, VIO_EVHOST_SYS);
	fx_fini(f);
	free(f);
}

/* A malformed message closes the connection and sends nothing; its fds are
 * closed anyway. */
static void expect_close(struct fx *f, uint32_t req, uint32_t flags, const void *payload,
			 uint32_t size, const int *fds, uint32_t nfds, int want)
{
	struct vio_vhost_user_msg m;
	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = flags;
	m.hdr.size = size;
	if (size && size <= VIO_VHOST_USER_PAYLOAD_MAX) /* the callers' buffers hold this much */
		memcpy(m.payload.raw, payload, size);
	for (uint32_t i = 0; i < nfds && i < VIO_VHOST_USER_MAX_FDS; i++)
		m.fds[i] = fds[i];
	m.nfds = nfds;
	struct vio_vhost_user_reply out;
	assert_int_equal(vio_vhost_user_backend_handle(f->be, &m, &out), want);
	assert_true(out.close);
	assert_false(out.send);
	for (uint32_t i = 0; i < nfds && i < VIO_VHOST_USER_MAX_FDS; i++)
		assert_int_equal(f->state[fds[i]], 2);
}

static void test_vhost_user_backend_rejects_malformed(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 2);
	const uint32_t v = VIO_VHOST_USER_VERSION;
	uint64_t u = 0;
	unsigned char big[VIO_VHOST_USER_PAYLOAD_MAX] = {0};
	/* Header: version, REPLY flag, unknown flag, oversize payload. */
	expect_close(f, VIO_VHOST_USER_GET_FEATURES, 0, NULL, 0, NULL, 0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_GET_FEATURES, 2, NULL, 0, NULL, 0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_GET_FEATURES, v | VIO_VHOST_USER_FLAG_REPLY, NULL, 0, NULL,
		     0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_GET_FEATURES, v | 0x10u, NULL, 0, NULL, 0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_SET_CONFIG, v, big, VIO_VHOST_USER_PAYLOAD_MAX + 1u, NULL, 0,
		     -VIO_EVHOST_MSG);
	/* Sizes wrong for the request. */
	expect_close(f, VIO_VHOST_USER_GET_FEATURES, v, &u, 8, NULL, 0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_SET_FEATURES, v, &u, 4, NULL, 0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_SET_VRING_NUM, v, big, 12, NULL, 0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_SET_VRING_ADDR, v, big, 32, NULL, 0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_SET_LOG_BASE, v, big, 8, NULL, 0, -VIO_EVHOST_MSG);
	/* SET_MEM_TABLE: 0 or 9 regions, size not 8 + 32n, fds != regions. */
	struct vio_vhost_user_memory m;
	memset(&m, 0, sizeof(m));
	m.nregions = 0;
	expect_close(f, VIO_VHOST_USER_SET_MEM_TABLE, v, &m, 8, NULL, 0, -VIO_EVHOST_MSG);
	m.nregions = 9;
	expect_close(f, VIO_VHOST_USER_SET_MEM_TABLE, v, &m, sizeof(m), NULL, 0, -VIO_EVHOST_MSG);
	m.nregions = 2;
	m.regions[0] = (struct vio_vhost_user_mem_region){GPA0, R0_SIZE, UVA0, 0};
	m.regions[1] = (struct vio_vhost_user_mem_region){GPA1, R1_SIZE, UVA1, R0_SIZE};
	int fds[6];
	for (unsigned i = 0; i < 6; i++)
		fds[i] = new_fd(f, FD_RAM);
	expect_close(f, VIO_VHOST_USER_SET_MEM_TABLE, v, &m, 8 + 32, fds, 2, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_SET_MEM_TABLE, v, &m, 8 + 64, fds + 2, 1, -VIO_EVHOST_FDS);
	expect_close(f, VIO_VHOST_USER_SET_MEM_TABLE, v, &m, 8 + 64, fds + 3, 3, -VIO_EVHOST_FDS);
	/* More fds than a message can carry. */
	struct vio_vhost_user_msg many;
	memset(&many, 0, sizeof(many));
	many.hdr.request = VIO_VHOST_USER_SET_OWNER;
	many.hdr.flags = v;
	for (unsigned i = 0; i < VIO_VHOST_USER_MAX_FDS; i++)
		many.fds[i] = new_fd(f, FD_EVENT);
	many.nfds = 9;
	struct vio_vhost_user_reply out;
	assert_int_equal(vio_vhost_user_backend_handle(f->be, &many, &out), -VIO_EVHOST_FDS);
	assert_true(out.close);
	for (unsigned i = 0; i < VIO_VHOST_USER_MAX_FDS; i++)
		assert_int_equal(f->state[many.fds[i]], 2);
	/* Kick/call/err: an fd with NOFD, none without; fds where none belong. */
	u = 0 | VIO_VHOST_USER_VRING_NOFD_MASK;
	int e = new_fd(f, FD_EVENT);
	expect_close(f, VIO_VHOST_USER_SET_VRING_KICK, v, &u, 8, &e, 1, -VIO_EVHOST_FDS);
	u = 1;
	expect_close(f, VIO_VHOST_USER_SET_VRING_CALL, v, &u, 8, NULL, 0, -VIO_EVHOST_FDS);
	e = new_fd(f, FD_EVENT);
	expect_close(f, VIO_VHOST_USER_GET_FEATURES, v, NULL, 0, &e, 1, -VIO_EVHOST_FDS);
	/* GET/SET_CONFIG: size beyond 256, size not matching the payload. */
	struct vio_vhost_user_config c;
	memset(&c, 0, sizeof(c));
	c.size = 257;
	expect_close(f, VIO_VHOST_USER_GET_CONFIG, v, &c, VIO_VHOST_USER_PAYLOAD_MAX, NULL, 0,
		     -VIO_EVHOST_MSG);
	c.size = 8;
	expect_close(f, VIO_VHOST_USER_SET_CONFIG, v, &c, 12 + 4, NULL, 0, -VIO_EVHOST_MSG);
	expect_close(f, VIO_VHOST_USER_SET_CONFIG, v, &c, 8, NULL, 0, -VIO_EVHOST_MSG);
	/* Unknown requests are not malformed: answered when asked, else
	 * ignored; the connection stays. */
	assert_int_equal(acked(f, 99, NULL, 0, NULL, 0), VIO_EVHOST_UNSUPPORTED);
	assert_int_equal(send_msg(f, 99, 0, NULL, 0, NULL, 0, &out), -VIO_EVHOST_UNSUPPORTED);
	assert_false(out.send);
	assert_false(out.close);
	e = new_fd(f, FD_EVENT);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &e, 1),
			 VIO_EVHOST_UNSUPPORTED);
	assert_int_equal(f->state[e], 2);
	/* Inflight tracking not negotiated: GET_INFLIGHT_FD still gets its
	 * payload (mmap_size 0, no fd: "no tracking"), SET_INFLIGHT_FD fails
	 * and its fd is closed. */
	struct vio_vhost_user_inflight inf = {0, 0, 2, QSIZE};
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_INFLIGHT_FD, VIO_VHOST_USER_FLAG_NEED_REPLY,
				  &inf, sizeof(inf), NULL, 0, &out),
			 -VIO_EVHOST_ORDER);
	assert_true(out.send);
	assert_int_equal(out.msg.hdr.size, sizeof(inf));
	assert_int_equal(out.msg.payload.inflight.mmap_size, 0);
	assert_int_equal(out.fd, -1);
	e = new_fd(f, FD_SHM);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_INFLIGHT_FD, &inf, sizeof(inf), &e, 1),
			 VIO_EVHOST_ORDER);
	assert_int_equal(f->state[e], 2);
	/* After all this the back end still serves a front end. */
	bringup(f, false);
	io_roundtrip(f, 1, 2, 9);
	fx_fini(f);
	free(f);
}

/* Well-formed requests that cannot be carried out: an error, no change, the
 * connection stays, and a later correct sequence works. */
static void test_vhost_user_backend_rejects_out_of_order(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 2);
	f->packed = false;
	guest_queue(f, 0);
	guest_queue(f, 1);
	/* Ring addresses before the memory table. */
	assert_int_equal(set_addr(f, 0, 0, 0), VIO_EVHOST_ORDER);
	/* A kick before the ring is configured: refused, fd closed. */
	int k = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_KICK, 0, k), VIO_EVHOST_ORDER);
	assert_int_equal(f->state[k], 2);
	assert_int_equal(vio_vhost_user_backend_kick_fd(f->be, 0), -1);
	/* Queue index out of range, in every request that carries one. */
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_NUM, 2, QSIZE), VIO_EVHOST_QUEUE);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_BASE, 7, 0), VIO_EVHOST_QUEUE);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, 0xffffffffu, 1),
			 VIO_EVHOST_QUEUE);
	int c = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_CALL, 200, c), VIO_EVHOST_QUEUE);
	assert_int_equal(f->state[c], 2);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_ERR, 2, -1), VIO_EVHOST_QUEUE);
	struct vio_vhost_user_vring_state gs = {2, 0};
	struct vio_vhost_user_reply out;
	assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_VRING_BASE, 0, &gs, 8, NULL, 0, &out),
			 -VIO_EVHOST_QUEUE);
	assert_true(out.close);
	/* Bits above the index and NOFD in a kick/call payload. */
	uint64_t bad = 0x200u;
	c = new_fd(f, FD_EVENT);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_VRING_CALL, &bad, 8, &c, 1), VIO_EINVAL);
	assert_int_equal(f->state[c], 2);
	/* Queue sizes: 0 and above the maximum. */
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_NUM, 0, 0), VIO_EQUEUE_SIZE);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_NUM, 0, 65), VIO_EQUEUE_SIZE);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, 0, 2), VIO_EINVAL);
	/* Features not offered; protocol features not offered. */
	uint64_t w = (1ull << VIO_F_VERSION_1) | (1ull << 63);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), VIO_EFEATURES);
	w = 1ull << VIO_F_ACCESS_PLATFORM | (1ull << VIO_F_VERSION_1);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), VIO_EFEATURES);
	w = 1ull << VIO_VHOST_USER_PROTOCOL_F_BACKEND_REQ;
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_PROTOCOL_FEATURES, &w, 8, NULL, 0),
			 VIO_EFEATURES);
	/* Without VERSION_1 the device core refuses FEATURES_OK. */
	w = 1ull << VIO_F_EVENT_IDX;
	assert_int_not_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);

	/* Memory tables: overlapping (guest or user ranges), empty, wrapping,
	 * unmappable. Each refused, fds closed, nothing mapped. */
	struct vio_vhost_user_memory m;
	const struct vio_vhost_user_mem_region good0 = {GPA0, R0_SIZE, UVA0, 0};
	const struct vio_vhost_user_mem_region good1 = {GPA1, R1_SIZE, UVA1, R0_SIZE};
	const struct vio_vhost_user_mem_region bad1[] = {
		{GPA0 + 4096, R1_SIZE, UVA1, R0_SIZE},	      /* guest overlap */
		{GPA1, R1_SIZE, UVA0 + R0_SIZE - 1, R0_SIZE}, /* user overlap */
		{GPA1, 0, UVA1, R0_SIZE},		      /* empty */
		{~0ull - 4095u, 8192, UVA1, R0_SIZE},	      /* guest wrap */
		{GPA1, 8192, ~0ull - 4095u, R0_SIZE},	      /* user wrap */
		{GPA1, 8192, UVA1, ~0ull - 4095u},	      /* offset wrap */
		{0ull - 4096u, 4096, UVA1, R0_SIZE},	      /* ends at 2^64 */
	};
	for (unsigned i = 0; i < sizeof(bad1) / sizeof(bad1[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.nregions = 2;
		m.regions[0] = good0;
		m.regions[1] = bad1[i];
		int fds[2] = {new_fd(f, FD_RAM), new_fd(f, FD_RAM)};
		assert_int_equal(acked(f, VIO_VHOST_USER_SET_MEM_TABLE, &m, 8 + 64, fds, 2),
				 VIO_EVHOST_MEM_TABLE);
		assert_int_equal(f->state[fds[0]], 2);
		assert_int_equal(f->state[fds[1]], 2);
	}
	memset(&m, 0, sizeof(m));
	m.nregions = 2;
	m.regions[0] = good0;
	m.regions[1] = good1;
	m.regions[1].memory_size = R1_SIZE + 4096u; /* beyond the fd */
	int fds[2] = {new_fd(f, FD_RAM), new_fd(f, FD_RAM)};
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_MEM_TABLE, &m, 8 + 64, fds, 2),
			 VIO_EVHOST_SYS);
	assert_int_equal(f->maps, f->unmaps);

	/* A good table; then ring addresses outside it. */
	assert_int_equal(mem_table_ack(f), 0);
	struct vio_vhost_user_vring_addr a = {0,
					      0,
					      host_to(f, f->ring[0][0], true),
					      host_to(f, f->ring[0][2], true),
					      host_to(f, f->ring[0][1], true),
					      0};
	a.used_user_addr = UVA1 + R1_SIZE; /* one past region 1 */
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0),
			 VIO_EVHOST_ADDR);
	a.used_user_addr = GPA0; /* a guest address, not a user address */
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0),
			 VIO_EVHOST_ADDR);
	a.used_user_addr = host_to(f, f->ring[0][2], true);
	a.flags = 0x80;
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0),
			 VIO_EINVAL);
	/* Configured but features not set: still a kick before its time. */
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_NUM, 0, QSIZE), 0);
	assert_int_equal(set_addr(f, 0, 0, 0), 0);
	k = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_KICK, 0, k), VIO_EVHOST_ORDER);
	/* A ring whose used ring straddles the two regions: refused at start;
	 * the ring stays stopped, its err fd signalled. */
	w = want_features(f);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);
	f->err[0] = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_ERR, 0, f->err[0]), 0);
	a.flags = 0;
	a.used_user_addr = UVA0 + R0_SIZE - 64u;
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, 0, 1), 0);
	k = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_KICK, 0, k), VIO_EVHOST_ADDR);
	assert_int_equal(f->state[k], 2);
	assert_false(vio_vhost_user_backend_ring_live(f->be, 0));
	assert_int_equal(f->signals[f->err[0]], 1);
	/* A misaligned used ring: the same. */
	a.used_user_addr = host_to(f, f->ring[0][2], true) + 2u;
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0), 0);
	k = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_KICK, 0, k), VIO_ERING_ALIGN);
	assert_int_equal(f->signals[f->err[0]], 2);
	assert_int_equal(vio_device_status(vio_vhost_user_backend_device(f->be)) &
				 VIO_STATUS_DEVICE_NEEDS_RESET,
			 0);
	/* Renegotiation is refused while a ring runs, and a live ring's size
	 * or base cannot change. */
	assert_int_equal(set_addr(f, 0, 0, 0), 0);
	f->kick[0] = new_fd(f, FD_EVENT);
	f->call[0] = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_CALL, 0, f->call[0]), 0);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_KICK, 0, f->kick[0]), 0);
	assert_true(vio_vhost_user_backend_ring_live(f->be, 0));
	w |= 1ull << VIO_F_INDIRECT_DESC;
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), VIO_EVHOST_ORDER);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_NUM, 0, 8), VIO_EVHOST_ORDER);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_BASE, 0, 0), VIO_EVHOST_ORDER);
	io_roundtrip(f, 0, 0, 0x42);
	fx_fini(f);
	free(f);
}

/* A new memory table under live rings: they move to it at their position
 * (the same RAM seen at new user addresses) and go on. */
static void test_vhost_user_backend_mem_table_replaced_live(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 1);
	bringup(f, false);
	io_roundtrip(f, 0, 1, 1);
	unsigned maps = f->maps, unmaps = f->unmaps;
	assert_int_equal(mem_table_ack(f), 0);
	assert_int_equal(f->maps, maps + 2);
	assert_int_equal(f->unmaps, unmaps + 2); /* the old table is gone */
	assert_true(vio_vhost_user_backend_ring_live(f->be, 0));
	io_roundtrip(f, 0, 2, 2);
	assert_int_equal(get_base(f, 0), 4);
	/* RESET_DEVICE: rings stopped and forgotten, fds closed. */
	assert_int_equal(acked(f, VIO_VHOST_USER_RESET_DEVICE, NULL, 0, NULL, 0), 0);
	assert_int_equal(f->state[f->call[0]], 2);
	assert_int_equal(f->state[f->err[0]], 2);
	assert_false(vio_device_is_live(vio_vhost_user_backend_device(f->be)));
	fx_fini(f);
	free(f);
}

/* ---- Tests: inflight tracking (INFLIGHT_SHMFD) ------------------------------------- */

/* Put a one-sector blk request on queue @q and kick; do not wait. */
static void *blk_submit(struct fx *f, uint16_t q, bool write, uint64_t sector, unsigned char seed)
{
	struct vio_blk_req_hdr *h = r1_alloc(f, sizeof(*h));
	uint8_t *status = r1_alloc(f, 1);
	unsigned char *buf = r1_alloc(f, 512);
	h->type = vio_le32_make(write ? VIO_BLK_T_OUT : VIO_BLK_T_IN);
	h->reserved = vio_le32_make(0);
	h->sector = vio_le64_make(sector);
	*status = 0xff;
	for (unsigned i = 0; i < 512; i++)
		buf[i] = (unsigned char)(seed + i);
	struct vio_sg sg[3] = {{h, sizeof(*h)}, {buf, 512}, {status, 1}};
	assert_int_equal(vio_vq_add(f->vq[q], sg, write ? 2 : 1, write ? 1 : 2, h), 0);
	if (vio_vq_kick_prepare(f->vq[q]))
		assert_int_equal(vio_vhost_user_backend_kick(f->be, q), 0);
	return h;
}

/* The request at token @h completed with status OK. */
static void assert_done_ok(void *h)
{
	const uint8_t *status = (const uint8_t *)h + sizeof(struct vio_blk_req_hdr);
	status = (const uint8_t *)(((uintptr_t)status + 15u) & ~(uintptr_t)15u);
	assert_int_equal(*status, VIO_BLK_S_OK);
}

/* Same queue, same memory, a reconnecting QEMU: the handshake, the
 * features, SET_INFLIGHT_FD with the region it kept, the memory table and
 * every ring at @base (what QEMU 7.2 sends: split, the used index in guest
 * memory; packed, a stale value). The guest's queues stay. */
static void reconnect(struct fx *f, const uint32_t *base)
{
	handshake(f);
	uint64_t w = want_features(f);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);
	inflight_fd(f, false);
	assert_int_equal(mem_table_ack(f), 0);
	for (uint16_t q = 0; q < f->nq; q++)
		start_ring(f, q, base[q]);
}

static void inflight_bringup(bool packed)
{
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 2);
	bringup(f, packed);
	assert_int_equal(f->shm_creates, 1);
	for (uint16_t q = 0; q < 2; q++) {
		assert_int_equal(vio_vhost_user_backend_inflight(f->be, q), 0);
		/* The part is version 1 once its ring started. */
		void *part = vio_vhost_user_inflight_queue_region(
			f->shm, f->shm_size, packed ? VIO_RING_PACKED : VIO_RING_SPLIT, QSIZE, q,
			NULL);
		assert_non_null(part);
		uint16_t version;
		memcpy(&version, (unsigned char *)part + 8, 2);
		assert_int_equal(version, 1);
	}
	for (unsigned i = 0; i < 6; i++)
		io_roundtrip(f, (uint16_t)(i & 1u), i, (unsigned char)i);
	assert_int_equal(vio_vhost_user_backend_inflight(f->be, 2), -VIO_EQUEUE_STATE);
	fx_fini(f);
	free(f);
}

static void test_vhost_user_backend_inflight_bringup_split(void **state)
{
	(void)state;
	inflight_bringup(false);
}

static void test_vhost_user_backend_inflight_bringup_packed(void **state)
{
	(void)state;
	inflight_bringup(true);
}

/* The back end dies with requests in flight (one of them completed out of
 * order); a new back end gets the region back with SET_INFLIGHT_FD, the
 * ring's stale SET_VRING_BASE, and re-submits exactly the requests not
 * completed: each completes once, none twice, none lost; the ring goes on. */
static void crash_restart(bool packed, uint16_t nq)
{
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, nq);
	const uint16_t q = (uint16_t)(nq - 1); /* the busy queue; the others idle */
	bringup(f, packed);
	io_roundtrip(f, q, 0, 1); /* the ring moved before: 2 chains */
	f->hold = true;
	void *h[4];
	for (unsigned i = 0; i < 4; i++)
		h[i] = blk_submit(f, q, true, 10 + i, (unsigned char)(0x10 * i));
	assert_int_equal(f->nheld, 4);
	/* The second completes before the crash (out of order). */
	vio_blk_mem_backend_ops.submit(&f->mb, f->held[1]);
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(f->vq[q], &tok, &len), 0);
	assert_ptr_equal(tok, h[1]);
	assert_int_equal(vio_vq_get(f->vq[q], &tok, &len), -VIO_EAGAIN);
	for (unsigned i = 0; i < 4; i++)
		if (i != 1)
			assert_int_equal(f->disk[(10 + i) * 512], 0); /* not written yet */

	fx_crash(f);
	fx_backend(f);
	/* QEMU 7.2: split, the used index in guest memory (3); packed, the
	 * position of its last GET_VRING_BASE: here the initial one. */
	uint32_t base[2] = {packed ? 0x80008000u : 0u, packed ? 0x80008000u : 3u};
	base[q] = packed ? 0x80008000u : 3u;
	reconnect(f, base);
	if (nq > 1)
		assert_int_equal(vio_vhost_user_backend_inflight(f->be, 0), 0);
	assert_int_equal(vio_vhost_user_backend_inflight(f->be, q), 3);
	bool seen[4] = {false, false, false, false};
	seen[1] = true;
	for (unsigned n = 0; n < 3; n++) {
		assert_int_equal(vio_vq_get(f->vq[q], &tok, &len), 0);
		unsigned i = 0;
		while (i < 4 && tok != h[i])
			i++;
		assert_true(i < 4);
		assert_false(seen[i]); /* exactly once */
		seen[i] = true;
		assert_int_equal(len, 1);
		assert_done_ok(h[i]);
	}
	assert_int_equal(vio_vq_get(f->vq[q], &tok, &len), -VIO_EAGAIN);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(f->disk[(10 + i) * 512], (unsigned char)(0x10 * i));
	/* The ring goes on, and the next GET_VRING_BASE is exact. */
	for (unsigned i = 0; i < 5; i++)
		io_roundtrip(f, q, 20 + i, (unsigned char)(0x70 + i));
	/* 2 + 4 + 10 chains of 3 descriptors: packed, 48 slots = 3 laps
	 * (slot 0, wrap counters 0). */
	assert_int_equal(get_base(f, q), packed ? 0u : 16u);

	/* A second crash with nothing in flight: the new back end starts from
	 * the region's record (packed: the stale base is ignored). */
	fx_crash(f);
	fx_backend(f);
	base[0] = packed ? 0x80008000u : 0u;
	base[q] = packed ? 0x80008000u : 16u;
	reconnect(f, base);
	assert_int_equal(vio_vhost_user_backend_inflight(f->be, q), 0);
	io_roundtrip(f, q, 30, 0x33);
	assert_int_equal(vio_vq_get(f->vq[q], &tok, &len), -VIO_EAGAIN);
	fx_fini(f);
	free(f);
}

static void test_vhost_user_backend_inflight_crash_split(void **state)
{
	(void)state;
	crash_restart(false, 1);
}

static void test_vhost_user_backend_inflight_crash_packed(void **state)
{
	(void)state;
	crash_restart(true, 1);
}

/* The same on the second of two queues; the first, idle, comes back fresh. */
static void test_vhost_user_backend_inflight_crash_two_queues(void **state)
{
	(void)state;
	crash_restart(false, 2);
	crash_restart(true, 2);
}

/* RESET_DEVICE forgets what was in flight: the region starts over. A
 * disconnect keeps it (the front end may come back). */
static void test_vhost_user_backend_inflight_reset(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 1);
	bringup(f, true);
	f->hold = true;
	(void)blk_submit(f, 0, false, 3, 0);
	assert_int_equal(f->nheld, 1);
	/* A clean disconnect (QEMU closed the socket): the chain stays
	 * recorded; a reconnect re-submits it. */
	vio_vhost_user_backend_disconnect(f->be);
	f->hold = false;
	f->nheld = 0;
	uint32_t base = 0x80008000u;
	reconnect(f, &base);
	assert_int_equal(vio_vhost_user_backend_inflight(f->be, 0), 1);
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(f->vq[0], &tok, &len), 0);
	assert_int_equal(len, 513);
	f->hold = true;
	(void)blk_submit(f, 0, false, 4, 0);
	assert_int_equal(f->nheld, 1);
	assert_int_equal(acked(f, VIO_VHOST_USER_RESET_DEVICE, NULL, 0, NULL, 0), 0);
	f->hold = false;
	f->nheld = 0;
	/* The region is uninitialised again. */
	uint16_t version = 7;
	memcpy(&version, f->shm + 8, 2);
	assert_int_equal(version, 0);
	fx_fini(f);
	free(f);
}

/* Hostile or inconsistent inflight messages: each refused, fds closed,
 * nothing mapped; the back end still serves afterwards. */
static void test_vhost_user_backend_inflight_rejects(void **state)
{
	(void)state;
	struct fx *f = calloc(1, sizeof(*f));
	fx_init(f, 2);
	f->packed = false;
	handshake(f);
	struct vio_vhost_user_inflight q = {0, 0, 2, QSIZE};
	struct vio_vhost_user_reply out;
	/* Before SET_FEATURES the format is unknown: "no tracking". */
	assert_int_equal(
		send_msg(f, VIO_VHOST_USER_GET_INFLIGHT_FD, 0, &q, sizeof(q), NULL, 0, &out),
		-VIO_EVHOST_ORDER);
	assert_true(out.send);
	assert_int_equal(out.msg.payload.inflight.mmap_size, 0);
	assert_int_equal(out.fd, -1);
	uint64_t w = want_features(f);
	assert_int_equal(acked(f, VIO_VHOST_USER_SET_FEATURES, &w, 8, NULL, 0), 0);
	/* More queues than the device has; a queue size of 0 or above 32768. */
	const struct vio_vhost_user_inflight bad[3] = {
		{0, 0, 3, QSIZE}, {0, 0, 2, 0}, {0, 0, 2, 40000}};
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(send_msg(f, VIO_VHOST_USER_GET_INFLIGHT_FD, 0, &bad[i],
					  sizeof(bad[i]), NULL, 0, &out),
				 -VIO_EINFLIGHT_HEADER);
		assert_int_equal(out.msg.payload.inflight.mmap_size, 0);
		assert_int_equal(out.fd, -1);
	}
	/* The platform cannot create the memory. */
	f->shm_fail = true;
	assert_int_equal(
		send_msg(f, VIO_VHOST_USER_GET_INFLIGHT_FD, 0, &q, sizeof(q), NULL, 0, &out),
		-VIO_EVHOST_SYS);
	assert_int_equal(out.msg.payload.inflight.mmap_size, 0);
	assert_int_equal(out.fd, -1);
	f->shm_fail = false;
	inflight_fd(f, true);
	/* SET_INFLIGHT_FD: a size too small for its queues, too many queues,
	 * a range outside the fd, a misaligned offset. */
	struct vio_vhost_user_inflight s = infl_msg;
	s.mmap_size -= 1;
	struct vio_vhost_user_inflight s2 = infl_msg;
	s2.num_queues = 3;
	struct vio_vhost_user_inflight s3 = infl_msg;
	s3.mmap_offset = SHM_SIZE;
	struct vio_vhost_user_inflight s4 = infl_msg;
	s4.mmap_offset = 4;
	s4.mmap_size = infl_msg.mmap_size;
	const struct vio_vhost_user_inflight *sb[4] = {&s, &s2, &s3, &s4};
	const uint64_t want[4] = {VIO_EINFLIGHT_HEADER, VIO_EINFLIGHT_HEADER, VIO_EVHOST_SYS,
				  VIO_EINFLIGHT_HEADER};
	unsigned maps = f->maps, unmaps = f->unmaps;
	for (unsigned i = 0; i < 4; i++) {
		int fd = new_fd(f, FD_SHM);
		assert_int_equal(
			acked(f, VIO_VHOST_USER_SET_INFLIGHT_FD, sb[i], sizeof(*sb[i]), &fd, 1),
			want[i]);
		assert_int_equal(f->state[fd], 2);
	}
	assert_int_equal(f->maps - maps, f->unmaps - unmaps);
	/* The rings: a queue larger than the region's part fails the ring. */
	assert_int_equal(mem_table_ack(f), 0);
	guest_queue(f, 0);
	guest_queue(f, 1);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_NUM, 0, QSIZE * 2), 0);
	assert_int_equal(set_addr(f, 0, 0, 0), 0);
	int k = new_fd(f, FD_EVENT);
	assert_int_equal(vring_fd(f, VIO_VHOST_USER_SET_VRING_KICK, 0, k), 0);
	assert_int_equal(vring_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, 0, 1),
			 VIO_EINFLIGHT_HEADER);
	assert_false(vio_vhost_user_backend_ring_live(f->be, 0));
	/* A started ring: SET_INFLIGHT_FD is refused. */
	int fd = new_fd(f, FD_SHM);
	assert_int_equal(
		acked(f, VIO_VHOST_USER_SET_INFLIGHT_FD, &infl_msg, sizeof(infl_msg), &fd, 1),
		VIO_EVHOST_ORDER);
	assert_int_equal(f->state[fd], 2);
	fx_fini(f);
	free(f);

	/* Configured off, or no shared memory on the platform: not offered,
	 * refused, and the back end works without it. */
	for (unsigned i = 0; i < 2; i++) {
		f = calloc(1, sizeof(*f));
		fx_init_opt(f, 1, i == 0, i == 1);
		bringup(f, i == 1);
		w = 1ull << VIO_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD;
		assert_int_equal(acked(f, VIO_VHOST_USER_SET_PROTOCOL_FEATURES, &w, 8, NULL, 0),
				 VIO_EFEATURES);
		assert_int_equal(vio_vhost_user_backend_inflight(f->be, 0), -VIO_EAGAIN);
		io_roundtrip(f, 0, 1, 2);
		assert_int_equal(f->shm_creates, 0);
		fx_fini(f);
		free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhost_user_backend_bringup_split),
		cmocka_unit_test(test_vhost_user_backend_bringup_packed),
		cmocka_unit_test(test_vhost_user_backend_packed_avail_only_base),
		cmocka_unit_test(test_vhost_user_backend_multiqueue),
		cmocka_unit_test(test_vhost_user_backend_config),
		cmocka_unit_test(test_vhost_user_backend_log_all),
		cmocka_unit_test(test_vhost_user_backend_rejects_malformed),
		cmocka_unit_test(test_vhost_user_backend_rejects_out_of_order),
		cmocka_unit_test(test_vhost_user_backend_mem_table_replaced_live),
		cmocka_unit_test(test_vhost_user_backend_inflight_bringup_split),
		cmocka_unit_test(test_vhost_user_backend_inflight_bringup_packed),
		cmocka_unit_test(test_vhost_user_backend_inflight_crash_split),
		cmocka_unit_test(test_vhost_user_backend_inflight_crash_packed),
		cmocka_unit_test(test_vhost_user_backend_inflight_crash_two_queues),
		cmocka_unit_test(test_vhost_user_backend_inflight_reset),
		cmocka_unit_test(test_vhost_user_backend_inflight_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
