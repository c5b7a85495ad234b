/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user back end (vio_vhost_user_msg_check(),
 * vio_vhost_user_backend_handle()) and the device core and virtio-blk
 * adapter behind it, against a hostile front end: any sequence of messages
 * (any request, flags, size, payload, file descriptors), kicks, and
 * scribbles into guest memory by a hostile guest.
 *
 * Input: one setup byte, then operations.
 *   setup: bit 0 two queues (else one); bit 1 a good bring-up first
 *          (features, memory table, ring 0 started; bit 2 packed; bit 3
 *          with INFLIGHT_SHMFD: GET_INFLIGHT_FD, SET_INFLIGHT_FD of the
 *          region it returned, before the ring starts).
 *   op:    [kind] ...
 *     0 message: [req] [flags] [size: 2 bytes LE] [nfds] then `size`
 *       payload bytes (capped at the payload buffer); fds are fresh fake
 *       descriptors of the kind [kinds: 1 byte, bit i: fd i is guest RAM,
 *       else an eventfd]
 *     1 a valid-looking message: [req % 41] [index] [v: 8 bytes] built
 *       with the exact size and fd count of its request, the payload from v
 *       (ring addresses inside the table, config ranges, …)
 *     2 kick queue [q]
 *     3 the guest writes [v: 8 bytes] at guest RAM offset [off: 2 bytes]
 *     4 disconnect (every fd must be closed, every mapping undone)
 *     5 the front end scribbles [v: 8 bytes] at inflight region offset
 *       [off: 2 bytes] (the region survives disconnects, like QEMU's)
 *
 * Invariants (FZ_CHECK): a descriptor is closed exactly once and only after
 * it was handed over, never signalled after closing, only live RAM fds are
 * mapped, every mapping is undone by the end; a reply is never both sent and
 * the connection closed, its size fits its payload, a malformed message
 * always closes, a reply fd comes only with a sent reply and is a region
 * the back end created (the harness closes it, as the server does). Guest RAM is one heap block of exactly its size: any access
 * outside it is an ASan report.
 */
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "input.h"
#include "invariants.h"

#define RAM_SIZE 65536u
#define GPA0 0x10000ull
#define UVA0 0x7f0000000000ull
#define MAXFD 4096
#define DISK_SECTORS 16u
#define SHM_SIZE 16384u

enum {
	FD_RAM = 1,
	FD_EVENT = 2,
	FD_SHM = 3
};

struct fz_vu;
static struct fz_vu *fz_vu_ctx;

struct fz_vu {
	unsigned char *ram;
	unsigned char *shm; /* the one inflight region (every FD_SHM maps it) */
	unsigned char kind[MAXFD];
	unsigned char state[MAXFD]; /* 0 never used, 1 handed over, 2 closed */
	int next;
	long maps;
};

static int fz_map(void *ctx, int fd, uint64_t offset, uint64_t size, void **host)
{
	struct fz_vu *v = ctx;
	FZ_CHECK(fd >= 0 && fd < MAXFD && v->state[fd] == 1);
	unsigned char *base = v->kind[fd] == FD_RAM   ? v->ram
			      : v->kind[fd] == FD_SHM ? v->shm
						      : NULL;
	uint64_t cap = v->kind[fd] == FD_RAM ? RAM_SIZE : SHM_SIZE;
	if (base == NULL || offset > cap || size > cap - offset)
		return -VIO_EVHOST_SYS;
	*host = base + offset;
	v->maps++;
	return 0;
}

static void fz_unmap(void *ctx, void *host, uint64_t offset, uint64_t size)
{
	struct fz_vu *v = ctx;
	FZ_CHECK(((unsigned char *)host == v->ram + offset && offset + size <= RAM_SIZE) ||
		 ((unsigned char *)host == v->shm + offset && offset + size <= SHM_SIZE));
	v->maps--;
	FZ_CHECK(v->maps >= 0);
}

static void fz_close(void *ctx, int fd)
{
	struct fz_vu *v = ctx;
	FZ_CHECK(fd >= 0 && fd < MAXFD && v->state[fd] == 1);
	v->state[fd] = 2;
}

static void fz_signal(void *ctx, int fd)
{
	struct fz_vu *v = ctx;
	FZ_CHECK(fd >= 0 && fd < MAXFD && v->state[fd] == 1);
}

static int new_fd(struct fz_vu *v, int kind)
{
	if (v->next >= MAXFD)
		return -1;
	int fd = v->next++;
	v->kind[fd] = (unsigned char)kind;
	v->state[fd] = 1;
	return fd;
}

/* A memfd: the region's pages, zeroed (a new region). */
static int fz_create_shm(void *ctx, uint64_t size, int *fd, void **host)
{
	struct fz_vu *v = ctx;
	FZ_CHECK(size > 0);
	if (size > SHM_SIZE)
		return -VIO_EVHOST_SYS;
	int f = new_fd(v, FD_SHM);
	if (f < 0)
		return -VIO_EVHOST_SYS;
	memset(v->shm, 0, SHM_SIZE);
	*fd = f;
	*host = v->shm;
	v->maps++;
	return 0;
}

static const struct vio_vhost_user_backend_ops fz_ops = {fz_map, fz_unmap, fz_close, fz_signal,
							 fz_create_shm};

static struct vio_vhost_user_inflight last_inflight; /* the last GET_INFLIGHT_FD reply */

static void handle(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	struct vio_vhost_user_reply out;
	int check = vio_vhost_user_msg_check(m);
	int rc = vio_vhost_user_backend_handle(be, m, &out);
	FZ_CHECK(!(out.send && out.close));
	FZ_CHECK(out.fd == -1 || out.send);
	if (out.fd >= 0) {
		struct fz_vu *v = fz_vu_ctx;
		FZ_CHECK(out.fd < MAXFD && v->state[out.fd] == 1 && v->kind[out.fd] == FD_SHM);
		FZ_CHECK(m->hdr.request == VIO_VHOST_USER_GET_INFLIGHT_FD && rc == 0);
		FZ_CHECK(out.msg.payload.inflight.mmap_size > 0 &&
			 out.msg.payload.inflight.mmap_size <= SHM_SIZE);
		last_inflight = out.msg.payload.inflight;
		v->state[out.fd] = 2; /* sent and closed */
	}
	if (check == -VIO_EVHOST_MSG || check == -VIO_EVHOST_FDS)
		FZ_CHECK(out.close && rc == check);
	if (out.send) {
		FZ_CHECK(out.msg.hdr.size <= VIO_VHOST_USER_PAYLOAD_MAX);
		FZ_CHECK(out.msg.hdr.flags == (VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY));
		FZ_CHECK(out.msg.nfds == 0);
	}
}

/* A message with the right shape for @req, payload from @x. */
static void shaped(struct fz_vu *v, struct vio_vhost_user_backend *be, uint32_t req, uint32_t idx,
		   uint64_t x)
{
	struct vio_vhost_user_msg m;
	memset(&m, 0, sizeof(m));
	m.hdr.request = req;
	m.hdr.flags = VIO_VHOST_USER_VERSION | ((x & 1u) ? VIO_VHOST_USER_FLAG_NEED_REPLY : 0u);
	switch (req) {
	case VIO_VHOST_USER_SET_FEATURES:
	case VIO_VHOST_USER_SET_PROTOCOL_FEATURES:
		m.hdr.size = 8;
		m.payload.u64 = x;
		break;
	case VIO_VHOST_USER_SET_VRING_KICK:
	case VIO_VHOST_USER_SET_VRING_CALL:
	case VIO_VHOST_USER_SET_VRING_ERR:
		m.hdr.size = 8;
		m.payload.u64 = idx | ((x & 2u) ? VIO_VHOST_USER_VRING_NOFD_MASK : 0u);
		if (!(x & 2u)) {
			m.fds[0] = new_fd(v, FD_EVENT);
			m.nfds = m.fds[0] >= 0 ? 1u : 0u;
		}
		break;
	case VIO_VHOST_USER_SET_VRING_NUM:
	case VIO_VHOST_USER_SET_VRING_BASE:
	case VIO_VHOST_USER_GET_VRING_BASE:
	case VIO_VHOST_USER_SET_VRING_ENABLE:
		m.hdr.size = 8;
		m.payload.state.index = idx;
		m.payload.state.num = (uint32_t)(x >> 8);
		break;
	case VIO_VHOST_USER_SET_VRING_ADDR:
		m.hdr.size = 40;
		m.payload.addr.index = idx;
		m.payload.addr.flags = (uint32_t)(x >> 62);
		m.payload.addr.desc_user_addr = UVA0 + ((x >> 8) & 0xfff0u);
		m.payload.addr.avail_user_addr = UVA0 + ((x >> 24) & 0xfffeu);
		m.payload.addr.used_user_addr = UVA0 + ((x >> 40) & 0xfffcu);
		m.payload.addr.log_guest_addr = x >> 16;
		break;
	case VIO_VHOST_USER_SET_MEM_TABLE: {
		uint32_t n = 1u + (uint32_t)((x >> 1) % 3u);
		m.hdr.size = 8u + 32u * n;
		m.payload.memory.nregions = n;
		for (uint32_t i = 0; i < n; i++) {
			uint64_t part = RAM_SIZE / n;
			m.payload.memory.regions[i] = (struct vio_vhost_user_mem_region){
				GPA0 + part * i, part, UVA0 + part * i, part * i};
			m.fds[i] = new_fd(v, FD_RAM);
		}
		if ((x >> 8) & 1u) /* an overlap */
			m.payload.memory.regions[0].memory_size += 4096u;
		m.nfds = n;
		for (uint32_t i = 0; i < n; i++)
			if (m.fds[i] < 0)
				return;
		break;
	}
	case VIO_VHOST_USER_GET_CONFIG:
	case VIO_VHOST_USER_SET_CONFIG:
		m.payload.config.offset = (uint32_t)(x >> 8) & 0x7fu;
		m.payload.config.size = (uint32_t)(x >> 16) % 64u;
		m.payload.config.flags = (uint32_t)(x >> 24) % 3u;
		memcpy(m.payload.config.region, &x, sizeof(x));
		m.hdr.size = 12u + m.payload.config.size;
		break;
	case VIO_VHOST_USER_GET_INFLIGHT_FD:
		m.hdr.size = 24;
		m.payload.inflight.num_queues = (uint16_t)(idx % 3u);
		m.payload.inflight.queue_size = (uint16_t)(x >> 8);
		if (x & 2u) /* QEMU's values */
			m.payload.inflight.queue_size = 8;
		break;
	case VIO_VHOST_USER_SET_INFLIGHT_FD:
		m.hdr.size = 24;
		if (x & 2u) {
			/* The region of the last GET_INFLIGHT_FD, as QEMU sends it
			 * back (after a restart too). */
			m.payload.inflight = last_inflight;
		} else {
			m.payload.inflight.mmap_size = (x >> 8) % (SHM_SIZE + 1u);
			m.payload.inflight.mmap_offset = (x >> 24) & 0x3fu;
			m.payload.inflight.num_queues = (uint16_t)idx;
			m.payload.inflight.queue_size = (uint16_t)((x >> 32) & 0x3fu);
		}
		m.fds[0] = new_fd(v, FD_SHM);
		m.nfds = m.fds[0] >= 0 ? 1u : 0u;
		break;
	case VIO_VHOST_USER_SET_LOG_BASE:
		m.hdr.size = 16;
		m.payload.log.mmap_size = (x >> 8) % (RAM_SIZE + 1u);
		m.payload.log.mmap_offset = 0;
		m.fds[0] = new_fd(v, FD_RAM);
		m.nfds = m.fds[0] >= 0 ? 1u : 0u;
		break;
	default:
		break;
	}
	handle(be, &m);
}

static void bringup(struct fz_vu *v, struct vio_vhost_user_backend *be, bool packed, bool inflight)
{
	uint64_t f = (1ull << VIO_F_VERSION_1) | (1ull << VIO_VHOST_USER_F_PROTOCOL_FEATURES) |
		     (1ull << VIO_F_EVENT_IDX) | (1ull << VIO_F_INDIRECT_DESC);
	if (packed)
		f |= 1ull << VIO_F_RING_PACKED;
	if (inflight)
		shaped(v, be, VIO_VHOST_USER_SET_PROTOCOL_FEATURES, 0,
		       (1ull << VIO_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) |
			       (1ull << VIO_VHOST_USER_PROTOCOL_F_REPLY_ACK));
	shaped(v, be, VIO_VHOST_USER_SET_FEATURES, 0, f);
	if (inflight) {
		shaped(v, be, VIO_VHOST_USER_GET_INFLIGHT_FD, 1, 2);
		shaped(v, be, VIO_VHOST_USER_SET_INFLIGHT_FD, 0, 2);
	}
	shaped(v, be, VIO_VHOST_USER_SET_MEM_TABLE, 0, 0);
	shaped(v, be, VIO_VHOST_USER_SET_VRING_NUM, 0, 8u << 8);
	shaped(v, be, VIO_VHOST_USER_SET_VRING_BASE, 0, packed ? 0x80008000ull << 8 : 0);
	/* desc at 0x1000, avail at 0x2000, used at 0x3000 */
	shaped(v, be, VIO_VHOST_USER_SET_VRING_ADDR, 0,
	       (0x1000ull << 8) | (0x2000ull << 24) | (0x3000ull << 40));
	shaped(v, be, VIO_VHOST_USER_SET_VRING_ENABLE, 0, 1u << 8);
	shaped(v, be, VIO_VHOST_USER_SET_VRING_CALL, 0, 0);
	shaped(v, be, VIO_VHOST_USER_SET_VRING_KICK, 0, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	static struct fz_vu v;
	memset(&v, 0, sizeof(v));
	v.next = 3;
	v.ram = calloc(1, RAM_SIZE);
	v.shm = aligned_alloc(64, SHM_SIZE);
	memset(v.shm, 0, SHM_SIZE);
	memset(&last_inflight, 0, sizeof(last_inflight));
	fz_vu_ctx = &v;
	static unsigned char disk[DISK_SECTORS * 512];
	struct vio_blk_mem_backend mb;
	vio_blk_mem_backend_init(&mb, disk, sizeof(disk));

	uint8_t setup = fz_u8(&in);
	struct vio_blk_device_config bc = {0};
	bc.desc.capacity = DISK_SECTORS;
	bc.desc.flush = true;
	bc.desc.config_wce = true;
	bc.desc.num_queues = (setup & 1u) ? 2 : 1;
	bc.backend = &vio_blk_mem_backend_ops;
	bc.backend_ctx = &mb;
	bc.queue_max = 16;
	size_t n = vio_blk_device_mem_size(&bc);
	void *bd_mem = aligned_alloc(8, (n + 7u) & ~(size_t)7u);
	struct vio_blk_device *bd;
	FZ_CHECK(vio_blk_device_init(&bd, bd_mem, n, &bc) == 0);
	struct vio_device_info info = {0};
	vio_blk_device_info(bd, &info);
	struct vio_vhost_user_backend_config cfg = {&info, &fz_ops, &v, false};
	n = vio_vhost_user_backend_mem_size(&cfg);
	void *be_mem = aligned_alloc(8, (n + 7u) & ~(size_t)7u);
	struct vio_vhost_user_backend *be;
	FZ_CHECK(vio_vhost_user_backend_init(&be, be_mem, n, &cfg) == 0);
	if (setup & 2u)
		bringup(&v, be, (setup & 4u) != 0, (setup & 8u) != 0);

	for (unsigned ops = 0; ops < 256 && !fz_in_done(&in); ops++) {
		switch (fz_u8(&in) % 6u) {
		case 0: {
			struct vio_vhost_user_msg m;
			memset(&m, 0, sizeof(m));
			m.hdr.request = fz_u8(&in);
			m.hdr.flags = fz_u8(&in);
			m.hdr.size = fz_u16(&in);
			uint8_t nfds = fz_u8(&in) % 10u, kinds = fz_u8(&in);
			uint32_t take = m.hdr.size < sizeof(m.payload)
						? m.hdr.size
						: (uint32_t)sizeof(m.payload);
			fz_bytes(&in, m.payload.raw, take);
			m.nfds = nfds;
			for (unsigned i = 0; i < nfds && i < VIO_VHOST_USER_MAX_FDS; i++) {
				m.fds[i] = new_fd(&v, (kinds >> i) & 1u ? FD_RAM : FD_EVENT);
			}
			handle(be, &m);
			break;
		}
		case 1: {
			uint32_t req = fz_u8(&in) % 41u;
			uint32_t idx = fz_u8(&in) % 4u;
			shaped(&v, be, req, idx, fz_u64(&in));
			break;
		}
		case 2:
			(void)vio_vhost_user_backend_kick(be, fz_u8(&in) % 4u);
			break;
		case 3: {
			uint16_t off = fz_u16(&in);
			uint64_t x = fz_u64(&in);
			memcpy(v.ram + (off % (RAM_SIZE - 8u)), &x, 8);
			break;
		}
		case 4:
			vio_vhost_user_backend_disconnect(be);
			break;
		default: {
			uint16_t off = fz_u16(&in);
			uint64_t x = fz_u64(&in);
			memcpy(v.shm + (off % (SHM_SIZE - 8u)), &x, 8);
			break;
		}
		}
	}
	vio_vhost_user_backend_disconnect(be);
	for (int fd = 0; fd < v.next; fd++)
		FZ_CHECK(v.state[fd] != 1);
	FZ_CHECK(v.maps == 0);
	free(be_mem);
	free(bd_mem);
	free(v.ram);
	free(v.shm);
	fz_vu_ctx = NULL;
	return 0;
}
