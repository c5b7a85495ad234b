/* SPDX-License-Identifier: MIT */
/*
 * vhost_user_blk_front: read and write a disk exported by any vhost-user-blk
 * back end (qemu-storage-daemon, SPDK, a libvhost-user program) with
 * libvirtio's driver side over its vhost-user front end.
 *
 *   vhost_user_blk_front --socket PATH [options] command...
 *
 * Options (before the commands they affect):
 *   --queues N       request queues to set up (default 1; at most what the
 *                    device offers)
 *   --queue-size N   entries per queue (default 128)
 *   --packed         offer VIRTIO_F_RING_PACKED (used if the back end has it)
 *   --no-indirect    do not negotiate VIRTIO_F_INDIRECT_DESC
 *   --no-event-idx   do not negotiate VIRTIO_F_EVENT_IDX
 *   --timeout MS     bound on every wait (default 5000)
 *   --out FILE       later --read commands write raw bytes to FILE
 *   --queue Q        later commands use request queue Q (default 0)
 * Commands, run in order:
 *   --info                 features (offered, negotiated), protocol features, geometry
 *   --read SECTOR COUNT    read COUNT sectors: hexdump, or raw into --out FILE
 *   --write SECTOR FILE    write FILE (padded with zeros to whole sectors)
 *   --flush                flush the write cache
 *   --selftest [SECTOR]    on every queue: save, write a pattern, flush, read
 *                          back, compare, restore, flush, verify the restore
 * Exit status 0 when every command succeeded.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtio/virtio.h>

#define SECTOR 512u
#define CHUNK (64u * 1024u) /* most bytes per request */
#define INDIRECT_MAX 8u
#define MAXQ 16u

struct app {
	struct vio_vhost_user_front_posix *conn;
	struct vio_drv *drv;
	struct vio_blk_drv blk[MAXQ];
	struct vio_blk_info info;
	uint16_t nq;
	struct vio_blk_drv_req *req; /* one per queue, in the arena */
	unsigned char *buf;	     /* CHUNK bytes, in the arena */
	int timeout_ms;
	bool no_indirect, no_event_idx;
};

static void die(const char *what, int rc)
{
	fprintf(stderr, "vhost_user_blk_front: %s: %s (%s)\n", what, vio_err_name(rc),
		vio_strerror(rc));
	exit(1);
}

static int validate(void *ctx, struct vio_drv *drv, struct vio_features *f)
{
	(void)drv;
	const struct app *a = ctx;
	if (a->no_indirect)
		vio_features_clear(f, VIO_F_INDIRECT_DESC);
	if (a->no_event_idx)
		vio_features_clear(f, VIO_F_EVENT_IDX);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Kick queue @q and wait (bounded) for its one outstanding request. */
static int complete(struct app *a, uint16_t q)
{
	int rc = vio_drv_kick(a->drv, q);
	if (rc < 0)
		return rc;
	int64_t deadline = now_ms() + a->timeout_ms;
	for (;;) {
		struct vio_blk_drv_req *done;
		rc = vio_blk_drv_get(&a->blk[q], &done);
		if (rc == 0)
			return done->status == VIO_BLK_S_OK ? 0 : -VIO_EREQUEST;
		if (rc != -VIO_EAGAIN)
			return rc;
		if (now_ms() >= deadline)
			return -VIO_ETIMEOUT;
		/* The call eventfd; the ring is looked at again anyway after
		 * a short while (a back end may complete without a call when
		 * event suppression says so). */
		rc = vio_vhost_user_front_posix_wait(a->conn, 50);
		if (rc == 0)
			rc = vio_drv_interrupt(a->drv, NULL);
		if (rc < 0 && rc != -VIO_EAGAIN)
			return rc;
	}
}

static int do_io(struct app *a, uint16_t q, uint32_t type, uint64_t sector, uint32_t len)
{
	struct vio_blk_drv_req *r = &a->req[q];
	int rc;
	if (type == VIO_BLK_T_IN)
		rc = vio_blk_drv_read(&a->blk[q], r, sector, a->buf, len);
	else if (type == VIO_BLK_T_OUT)
		rc = vio_blk_drv_write(&a->blk[q], r, sector, a->buf, len);
	else
		rc = vio_blk_drv_flush(&a->blk[q], r);
	return rc < 0 ? rc : complete(a, q);
}

static uint32_t chunk_bytes(const struct app *a)
{
	uint32_t c = CHUNK;
	if (a->info.size_max != 0 && a->info.size_max < c)
		c = a->info.size_max / SECTOR * SECTOR;
	return c;
}

/* Move @count sectors between @mem and the disk at @sector. */
static int transfer(struct app *a, uint16_t q, bool write, uint64_t sector, unsigned char *mem,
		    uint64_t count)
{
	uint32_t cb = chunk_bytes(a);
	uint64_t left = count * SECTOR;
	while (left > 0) {
		uint32_t n = left < cb ? (uint32_t)left : cb;
		if (write)
			memcpy(a->buf, mem, n);
		int rc = do_io(a, q, write ? VIO_BLK_T_OUT : VIO_BLK_T_IN, sector, n);
		if (rc < 0)
			return rc;
		if (!write)
			memcpy(mem, a->buf, n);
		mem += n;
		sector += n / SECTOR;
		left -= n;
	}
	return 0;
}

static void print_features(const char *what, const struct vio_features *f)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{VIO_BLK_F_SIZE_MAX, "SIZE_MAX"},
		{VIO_BLK_F_SEG_MAX, "SEG_MAX"},
		{VIO_BLK_F_GEOMETRY, "GEOMETRY"},
		{VIO_BLK_F_RO, "RO"},
		{VIO_BLK_F_BLK_SIZE, "BLK_SIZE"},
		{VIO_BLK_F_FLUSH, "FLUSH"},
		{VIO_BLK_F_TOPOLOGY, "TOPOLOGY"},
		{VIO_BLK_F_CONFIG_WCE, "CONFIG_WCE"},
		{VIO_BLK_F_MQ, "MQ"},
		{VIO_BLK_F_DISCARD, "DISCARD"},
		{VIO_BLK_F_WRITE_ZEROES, "WRITE_ZEROES"},
		{VIO_BLK_F_LIFETIME, "LIFETIME"},
		{VIO_BLK_F_SECURE_ERASE, "SECURE_ERASE"},
		{VIO_F_INDIRECT_DESC, "INDIRECT_DESC"},
		{VIO_F_EVENT_IDX, "EVENT_IDX"},
		{VIO_F_VERSION_1, "VERSION_1"},
		{VIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM"},
		{VIO_F_RING_PACKED, "RING_PACKED"},
		{VIO_F_IN_ORDER, "IN_ORDER"},
	};
	printf("%s: 0x%08" PRIx32 "%08" PRIx32 "", what, vio_features_word32(f, 1),
	       vio_features_word32(f, 0));
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (vio_features_test(f, names[i].bit))
			printf(" %s", names[i].name);
	printf("\n");
}

static void info(struct app *a)
{
	struct vio_vhost_user_front *f = vio_vhost_user_front_posix_front(a->conn);
	struct vio_features dev = vio_drv_device_features(a->drv);
	struct vio_features neg = vio_drv_features(a->drv);
	printf("back end features (raw GET_FEATURES): 0x%016" PRIx64 "\n",
	       vio_vhost_user_front_backend_features(f));
	printf("protocol features: offered 0x%" PRIx64 ", used 0x%" PRIx64 "\n",
	       vio_vhost_user_front_backend_protocol_features(f),
	       vio_vhost_user_front_protocol_features(f));
	printf("back end queues (GET_QUEUE_NUM): %u\n", vio_vhost_user_front_backend_queues(f));
	print_features("device features", &dev);
	print_features("negotiated", &neg);
	printf("ring: %s, queues set up: %u\n",
	       vio_drv_ring_format(a->drv) == VIO_RING_PACKED ? "packed" : "split", a->nq);
	printf("capacity: %" PRIu64 " sectors, blk_size %" PRIu32 ", size_max %" PRIu32
	       ", seg_max %" PRIu32 ", num_queues %u, writeback %u\n",
	       a->info.capacity, a->info.blk_size, a->info.size_max, a->info.seg_max,
	       a->info.num_queues, a->info.writeback);
}

static void hexdump(uint64_t sector, const unsigned char *p, size_t n)
{
	for (size_t off = 0; off < n; off += 16) {
		printf("%08" PRIx64 ":", sector * SECTOR + off);
		for (size_t i = 0; i < 16 && off + i < n; i++)
			printf(" %02x", p[off + i]);
		printf("\n");
	}
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL) {
		fprintf(stderr, "vhost_user_blk_front: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	size_t cap = 1 << 16, n = 0;
	unsigned char *b = malloc(cap);
	for (;;) {
		if (n == cap)
			b = realloc(b, cap *= 2);
		if (b == NULL)
			exit(1);
		size_t r = fread(b + n, 1, cap - n, fp);
		if (r == 0)
			break;
		n += r;
	}
	fclose(fp);
	*len = n;
	return b;
}

static uint64_t num(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || *end != '\0' || end == s) {
		fprintf(stderr, "vhost_user_blk_front: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static int selftest(struct app *a, uint64_t sector)
{
	const uint64_t count = 8;
	unsigned char save[8 * SECTOR], pat[8 * SECTOR], back[8 * SECTOR];
	for (uint16_t q = 0; q < a->nq; q++) {
		uint64_t s = sector + (uint64_t)q * count;
		if (s + count > a->info.capacity) {
			fprintf(stderr, "selftest: sector %" PRIu64 " beyond the disk\n", s);
			return -VIO_EINVAL;
		}
		for (size_t i = 0; i < sizeof(pat); i++)
			pat[i] = (unsigned char)(i * 7u + q * 13u + (unsigned)s + 1u);
		int rc = transfer(a, q, false, s, save, count);
		if (rc == 0)
			rc = transfer(a, q, true, s, pat, count);
		if (rc == 0 && vio_features_test(&a->info.features, VIO_BLK_F_FLUSH))
			rc = do_io(a, q, VIO_BLK_T_FLUSH, 0, 0);
		if (rc == 0)
			rc = transfer(a, q, false, s, back, count);
		if (rc < 0)
			return rc;
		if (memcmp(pat, back, sizeof(pat)) != 0) {
			fprintf(stderr, "selftest: queue %u: read back differs\n", q);
			return -VIO_EREQUEST;
		}
		rc = transfer(a, q, true, s, save, count);
		if (rc == 0 && vio_features_test(&a->info.features, VIO_BLK_F_FLUSH))
			rc = do_io(a, q, VIO_BLK_T_FLUSH, 0, 0);
		if (rc == 0)
			rc = transfer(a, q, false, s, back, count);
		if (rc < 0)
			return rc;
		if (memcmp(save, back, sizeof(save)) != 0) {
			fprintf(stderr, "selftest: queue %u: restore differs\n", q);
			return -VIO_EREQUEST;
		}
		printf("selftest: queue %u: sectors %" PRIu64 "..%" PRIu64 " OK\n", q, s,
		       s + count - 1);
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vhost_user_blk_front --socket PATH [--queues N] [--queue-size N] "
		"[--packed] [--no-indirect] [--no-event-idx] [--timeout MS] [--out FILE] "
		"[--queue Q] {--info | --read SECTOR COUNT | --write SECTOR FILE | --flush | "
		"--selftest [SECTOR]}...\n");
}

int main(int argc, char **argv)
{
	static struct app a;
	const char *sock = NULL;
	uint16_t want_q = 1, qsize = 128;
	bool packed = false;
	a.timeout_ms = 5000;
	int first_cmd = argc;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--help") == 0) {
			usage();
			return 0;
		} else if (strcmp(o, "--socket") == 0 && i + 1 < argc) {
			sock = argv[++i];
		} else if (strcmp(o, "--queues") == 0 && i + 1 < argc) {
			want_q = (uint16_t)num(argv[++i]);
		} else if (strcmp(o, "--queue-size") == 0 && i + 1 < argc) {
			qsize = (uint16_t)num(argv[++i]);
		} else if (strcmp(o, "--packed") == 0) {
			packed = true;
		} else if (strcmp(o, "--no-indirect") == 0) {
			a.no_indirect = true;
		} else if (strcmp(o, "--no-event-idx") == 0) {
			a.no_event_idx = true;
		} else if (strcmp(o, "--timeout") == 0 && i + 1 < argc) {
			a.timeout_ms = (int)num(argv[++i]);
		} else {
			first_cmd = i;
			break;
		}
	}
	if (sock == NULL || want_q == 0 || want_q > MAXQ || qsize == 0 || first_cmd == argc) {
		usage();
		return 2;
	}

	/* The connection: socket, shared arena, eventfds, handshake. */
	struct vio_vhost_user_front_posix_config pc = {
		.socket_path = sock,
		.connect_timeout_ms = a.timeout_ms,
		.timeout_ms = a.timeout_ms,
		.arena_size = 4u << 20,
		.device_id = VIO_ID_BLOCK,
		.queue_slots = want_q,
		.queue_max = qsize,
	};
	int rc = vio_vhost_user_front_posix_open(&a.conn, &pc);
	if (rc < 0)
		die("connect", rc);

	/* The driver core over the front, DMA through the arena. */
	static const struct vio_drv_callbacks cb = {.validate = validate};
	struct vio_drv_config dc = {0};
	vio_vhost_user_front_posix_drv_config(a.conn, &dc);
	dc.num_queues = want_q;
	dc.device_id = VIO_ID_BLOCK;
	dc.cb = &cb;
	dc.cb_ctx = &a;
	vio_blk_drv_features(&dc.features);
	if (packed)
		vio_features_set(&dc.features, VIO_F_RING_PACKED);
	size_t dsz = vio_drv_mem_size(want_q);
	void *dmem = aligned_alloc(VIO_DRV_MEM_ALIGN, (dsz + 7) & ~(size_t)7);
	if (dmem == NULL || (rc = vio_drv_init(&a.drv, dmem, dsz, &dc)) < 0)
		die("vio_drv_init", rc);

	/* Rings and indirect tables in the arena, bookkeeping private. */
	struct vio_drv_queue_config qc[MAXQ];
	for (uint16_t q = 0; q < want_q; q++) {
		memset(&qc[q], 0, sizeof(qc[q]));
		qc[q].size = qsize;
		qc[q].ring =
			vio_vhost_user_front_posix_alloc(a.conn, VIO_DRV_RING_SIZE(qsize), 4096);
		qc[q].vq_mem_size = VIO_VQ_MEM_SIZE(qsize);
		qc[q].vq_mem =
			aligned_alloc(VIO_VQ_MEM_ALIGN, (qc[q].vq_mem_size + 7) & ~(size_t)7);
		qc[q].indirect_max = INDIRECT_MAX;
		qc[q].indirect_pool = vio_vhost_user_front_posix_alloc(
			a.conn, VIO_VQ_INDIRECT_POOL_SIZE(qsize, INDIRECT_MAX), 16);
		if (qc[q].ring == NULL || qc[q].vq_mem == NULL || qc[q].indirect_pool == NULL)
			die("queue memory", -VIO_ENOSPC);
	}
	a.req = vio_vhost_user_front_posix_alloc(a.conn, sizeof(*a.req) * want_q, 16);
	a.buf = vio_vhost_user_front_posix_alloc(a.conn, CHUNK, 4096);
	if (a.req == NULL || a.buf == NULL)
		die("buffer memory", -VIO_ENOSPC);
	rc = vio_blk_driver_start(a.drv, qc, want_q, a.blk, &a.info, &a.nq);
	if (rc < 0) {
		fprintf(stderr, "vhost_user_blk_front: failed step %d\n",
			vio_drv_failed_step(a.drv));
		die("vio_blk_driver_start", rc);
	}

	FILE *out = NULL;
	uint16_t q = 0;
	int status = 0;
	for (int i = first_cmd; i < argc && status == 0; i++) {
		const char *o = argv[i];
		rc = 0;
		if (strcmp(o, "--info") == 0) {
			info(&a);
		} else if (strcmp(o, "--out") == 0 && i + 1 < argc) {
			if (out != NULL)
				fclose(out);
			out = fopen(argv[++i], "wb");
			if (out == NULL) {
				fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
				status = 1;
			}
		} else if (strcmp(o, "--queue") == 0 && i + 1 < argc) {
			q = (uint16_t)num(argv[++i]);
			if (q >= a.nq) {
				fprintf(stderr, "queue %u: only %u set up\n", q, a.nq);
				status = 1;
			}
		} else if (strcmp(o, "--read") == 0 && i + 2 < argc) {
			uint64_t s = num(argv[++i]), n = num(argv[++i]);
			if (n > (64u << 20) / SECTOR) {
				rc = -VIO_EINVAL;
			} else {
				unsigned char *m = malloc(n * SECTOR + 1);
				rc = m == NULL ? -VIO_ENOSPC : transfer(&a, q, false, s, m, n);
				if (rc == 0 && out != NULL)
					fwrite(m, 1, n * SECTOR, out);
				else if (rc == 0)
					hexdump(s, m, n * SECTOR);
				free(m);
			}
		} else if (strcmp(o, "--write") == 0 && i + 2 < argc) {
			uint64_t s = num(argv[++i]);
			size_t len;
			unsigned char *data = read_file(argv[++i], &len);
			size_t padded = (len + SECTOR - 1) / SECTOR * SECTOR;
			unsigned char *m = calloc(1, padded + 1);
			if (m == NULL)
				exit(1);
			memcpy(m, data, len);
			rc = transfer(&a, q, true, s, m, padded / SECTOR);
			if (rc == 0)
				printf("wrote %zu bytes at sector %" PRIu64 "\n", len, s);
			free(m);
			free(data);
		} else if (strcmp(o, "--flush") == 0) {
			rc = do_io(&a, q, VIO_BLK_T_FLUSH, 0, 0);
			if (rc == 0)
				printf("flushed\n");
		} else if (strcmp(o, "--selftest") == 0) {
			uint64_t s = 0;
			if (i + 1 < argc && argv[i + 1][0] != '-')
				s = num(argv[++i]);
			rc = selftest(&a, s);
		} else {
			usage();
			status = 2;
		}
		if (rc < 0) {
			fprintf(stderr, "vhost_user_blk_front: %s: %s (%s)\n", o, vio_err_name(rc),
				vio_strerror(rc));
			status = 1;
		}
	}
	if (out != NULL)
		fclose(out);

	/* Stop the rings (GET_VRING_BASE each) and hang up. */
	rc = vio_drv_reset(a.drv);
	if (rc < 0) {
		fprintf(stderr, "vhost_user_blk_front: reset: %s\n", vio_err_name(rc));
		status = 1;
	}
	/* Where the back end stopped each ring: every request we made. */
	for (uint16_t i = 0; i < a.nq && rc == 0; i++) {
		struct vio_ring_state st;
		if (vio_vhost_user_front_stopped_base(vio_vhost_user_front_posix_front(a.conn), i,
						      &st) == 0)
			printf("queue %u stopped at avail index %u\n", i, st.avail_idx);
	}
	vio_vhost_user_front_posix_close(a.conn);
	for (uint16_t i = 0; i < want_q; i++)
		free(qc[i].vq_mem);
	free(dmem);
	if (status == 0)
		printf("OK\n");
	return status;
}
