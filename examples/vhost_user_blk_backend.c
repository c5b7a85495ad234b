/* SPDX-License-Identifier: MIT */
/*
 * vhost_user_blk_backend: a vhost-user-blk back end serving a raw image file.
 *
 *   vhost_user_blk_backend --socket PATH --image FILE [--read-only] [--queues N]
 *                          [--no-inflight]
 *
 * QEMU connects with
 *   -object memory-backend-memfd,id=mem0,size=512M,share=on
 *   -machine memory-backend=mem0
 *   -chardev socket,id=c0,path=PATH -device vhost-user-blk-pci,chardev=c0
 * and the guest sees a virtio-blk disk the size of FILE (rounded down to 512
 * bytes). Front ends are served one after another until SIGINT or SIGTERM.
 * In-flight requests are recorded in QEMU's inflight region
 * (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD): a back end restarted on the same
 * socket after a crash re-submits the requests the previous one had taken
 * and not completed, and resumes packed rings where they were.
 * --no-inflight does not offer it.
 * Without arguments, or with --help, it prints its usage and exits 0 (the
 * CTest smoke run).
 *
 * The library does the protocol (vhost_user_server.h) and the device
 * (blk_device.h); this file is the storage: pread/pwrite/fdatasync.
 */
#define _GNU_SOURCE /* preadv, pwritev, fallocate */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <virtio/virtio.h>

#define MAX_IOV 130

struct image {
	int fd;
	uint64_t bytes;
	bool read_only;
};

/* Vectored read or write of the request's data at its sector. */
static uint8_t rw(struct image *img, struct vio_blk_req *req, bool write)
{
	struct vio_blk_iov v[MAX_IOV];
	unsigned n = vio_blk_req_iov(req, v, MAX_IOV);
	if (n > MAX_IOV)
		return VIO_BLK_S_IOERR;
	struct iovec iov[MAX_IOV];
	for (unsigned i = 0; i < n; i++)
		iov[i] = (struct iovec){v[i].base, v[i].len};
	off_t off = (off_t)(vio_blk_req_sector(req) * 512u);
	size_t want = vio_blk_req_len(req), done = 0;
	unsigned first = 0;
	while (done < want) {
		ssize_t r = write ? pwritev(img->fd, iov + first, (int)(n - first), off)
				  : preadv(img->fd, iov + first, (int)(n - first), off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return VIO_BLK_S_IOERR;
		done += (size_t)r;
		off += r;
		/* Skip what was transferred (short reads/writes). */
		size_t left = (size_t)r;
		while (first < n && left >= iov[first].iov_len)
			left -= iov[first++].iov_len;
		if (first < n) {
			iov[first].iov_base = (char *)iov[first].iov_base + left;
			iov[first].iov_len -= left;
		}
	}
	return VIO_BLK_S_OK;
}

static uint8_t ranges(struct image *img, struct vio_blk_req *req)
{
	uint32_t n = vio_blk_req_nranges(req);
	for (uint32_t i = 0; i < n; i++) {
		struct vio_blk_range r;
		if (vio_blk_req_range(req, i, &r) != 0)
			return VIO_BLK_S_IOERR;
		if (fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      (off_t)(r.sector * 512u), (off_t)r.num_sectors * 512) != 0)
			return VIO_BLK_S_IOERR;
	}
	return VIO_BLK_S_OK;
}

static void submit(void *ctx, struct vio_blk_req *req)
{
	struct image *img = ctx;
	uint8_t st = VIO_BLK_S_UNSUPP;
	switch (vio_blk_req_type(req)) {
	case VIO_BLK_T_IN:
		st = rw(img, req, false);
		break;
	case VIO_BLK_T_OUT:
		st = rw(img, req, true); /* the model refuses writes to a read-only disk */
		break;
	case VIO_BLK_T_FLUSH:
		st = fdatasync(img->fd) == 0 ? VIO_BLK_S_OK : VIO_BLK_S_IOERR;
		break;
	case VIO_BLK_T_DISCARD:
	case VIO_BLK_T_WRITE_ZEROES:
		st = ranges(img, req);
		break;
	default:
		break;
	}
	(void)vio_blk_req_complete(req, st);
}

static const struct vio_blk_backend_ops image_ops = {submit};

static struct vio_vhost_user_server *g_srv;

static void on_signal(int sig)
{
	(void)sig;
	if (g_srv != NULL)
		vio_vhost_user_server_stop(g_srv);
}

static void usage(FILE *to)
{
	fprintf(to, "usage: vhost_user_blk_backend --socket PATH --image FILE [--read-only] "
		    "[--queues N] [--no-inflight]\n");
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *path = NULL;
	bool ro = false, no_inflight = false;
	unsigned long queues = 1;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--image") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--read-only") == 0)
			ro = true;
		else if (strcmp(argv[i], "--no-inflight") == 0)
			no_inflight = true;
		else if (strcmp(argv[i], "--queues") == 0 && i + 1 < argc)
			queues = strtoul(argv[++i], NULL, 0);
		else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (sock == NULL && path == NULL) {
		usage(stdout);
		return 0;
	}
	if (sock == NULL || path == NULL || queues == 0 || queues > 64) {
		usage(stderr);
		return 2;
	}

	struct image img = {-1, 0, ro};
	img.fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	struct stat st;
	if (img.fd < 0 || fstat(img.fd, &st) != 0) {
		fprintf(stderr, "vhost_user_blk_backend: %s: %s\n", path, strerror(errno));
		return 1;
	}
	img.bytes = (uint64_t)st.st_size;

	/* The disk: its size, limits and features; the device adapter. */
	struct vio_blk_device_config bc = {0};
	bc.desc.capacity = img.bytes / 512u;
	bc.desc.seg_max = 126;
	bc.desc.read_only = ro;
	bc.desc.flush = true;
	bc.desc.num_queues = (uint16_t)queues;
	bc.desc.max_discard_sectors = 1u << 22;
	bc.desc.max_discard_seg = ro ? 0u : 1u;
	bc.desc.discard_sector_alignment = 8;
	memcpy(bc.desc.id, "libvirtio-vu-blk", 16);
	bc.backend = &image_ops;
	bc.backend_ctx = &img;
	bc.queue_max = 256;
	/* Requests complete inside submit, in order: IN_ORDER too. */
	struct vio_features ring;
	vio_ring_features(&ring);
	bc.ring_features = &ring;
	size_t n = vio_blk_device_mem_size(&bc);
	void *bd_mem = n != 0 ? aligned_alloc(8, (n + 7u) & ~(size_t)7u) : NULL;
	struct vio_blk_device *bd;
	int rc = bd_mem != NULL ? vio_blk_device_init(&bd, bd_mem, n, &bc) : -VIO_EINVAL;
	if (rc != 0) {
		fprintf(stderr, "vhost_user_blk_backend: device: %s\n", vio_strerror(rc));
		return 1;
	}
	struct vio_device_info info = {0};
	vio_blk_device_info(bd, &info);

	/* The vhost-user server around it. */
	struct vio_vhost_user_server_config sc = {0};
	sc.info = &info;
	sc.socket_path = sock;
	sc.no_inflight = no_inflight;
	n = vio_vhost_user_server_mem_size(&sc);
	void *srv_mem = n != 0 ? aligned_alloc(8, (n + 7u) & ~(size_t)7u) : NULL;
	struct vio_vhost_user_server *srv;
	rc = srv_mem != NULL ? vio_vhost_user_server_init(&srv, srv_mem, n, &sc) : -VIO_EINVAL;
	if (rc != 0) {
		fprintf(stderr, "vhost_user_blk_backend: %s: %s (%s)\n", sock, vio_strerror(rc),
			strerror(errno));
		return 1;
	}
	g_srv = srv;
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("vhost_user_blk_backend: serving %s (%llu sectors%s, %lu queue%s) on %s\n", path,
	       (unsigned long long)bc.desc.capacity, ro ? ", read-only" : "", queues,
	       queues == 1 ? "" : "s", sock);
	fflush(stdout);

	rc = vio_vhost_user_server_run(srv);
	vio_vhost_user_server_fini(srv);
	g_srv = NULL;
	close(img.fd);
	free(srv_mem);
	free(bd_mem);
	if (rc != 0) {
		fprintf(stderr, "vhost_user_blk_backend: %s\n", vio_strerror(rc));
		return 1;
	}
	return 0;
}
