/* SPDX-License-Identifier: MIT */
/*
 * The virtio-blk request parser (blk_dev.h) fed chains built from the input.
 *
 * Input: a flags byte (bit 0 read-only, bit 1 asynchronous completion in an
 * input-chosen order, bit 2 SEG_MAX 3, bit 3 SIZE_MAX 1024, bit 4 FLUSH,
 * bit 5 DISCARD/WRITE_ZEROES, bit 6 a 3-entry segment array per request,
 * bit 7 take_long_chains off), a capacity byte (sectors, 1..64), a chain
 * count (1..8); per chain a descriptor count (1..8) and per descriptor
 * offset (u16), length (u16) and a direction byte; then the bytes of the
 * buffer area (headers, ranges, data). The chains go into a split ring as a
 * hostile driver would write them (descriptors may leave the buffer area,
 * run readable after writable, be empty).
 *
 * Checked: every disk access of the backend lies inside the disk (an exact
 * heap block, so ASan sees a byte past it), every range and sector the
 * model hands out is inside the capacity, every byte of guest memory that
 * changed lies in a device-writable descriptor or the used ring, every used
 * length is at most the chain's writable bytes, every request handed out
 * is completed once, and an error from the model is one it documents.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "input.h"

#define QSZ 64
#define RING_BASE 0x100000u
#define BUF_BASE 0x200000u
#define BUF_BYTES 8192u
#define RING_BYTES 4096u
#define AVAIL_OFF 1024u
#define USED_OFF 2048u
#define MAX_CHAINS 8
#define MAX_DESC 8

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_blk_request: %s:%d: %s\n", __FILE__, __LINE__, #c);  \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct be {
	unsigned char *disk;
	uint64_t bytes;
	uint64_t capacity;
	bool async;
	struct vio_blk_req *held[QSZ];
	unsigned n;
	unsigned submitted;
	struct fz_in *in;
};

static void check_span(const struct be *b, uint64_t sector, uint64_t bytes)
{
	CHECK(sector <= b->capacity);
	CHECK(bytes / 512u <= b->capacity - sector);
	CHECK(sector * 512u + bytes <= b->bytes);
}

static void serve(struct be *b, struct vio_blk_req *req)
{
	uint8_t st = VIO_BLK_S_OK;
	uint32_t len = vio_blk_req_len(req);
	uint64_t sec = vio_blk_req_sector(req);
	switch (vio_blk_req_type(req)) {
	case VIO_BLK_T_IN:
		CHECK(len % 512u == 0);
		check_span(b, sec, len);
		CHECK(vio_blk_req_write(req, 0, b->disk + sec * 512u, len) == len);
		break;
	case VIO_BLK_T_OUT:
		CHECK(len % 512u == 0);
		check_span(b, sec, len);
		CHECK(vio_blk_req_read(req, 0, b->disk + sec * 512u, len) == len);
		break;
	case VIO_BLK_T_FLUSH:
		CHECK(len == 0);
		break;
	case VIO_BLK_T_DISCARD:
	case VIO_BLK_T_WRITE_ZEROES: {
		uint32_t n = vio_blk_req_nranges(req);
		CHECK(n >= 1);
		for (uint32_t i = 0; i < n; i++) {
			struct vio_blk_range r;
			if (vio_blk_req_range(req, i, &r) != 0) {
				st = VIO_BLK_S_IOERR;
				break;
			}
			check_span(b, r.sector, (uint64_t)r.num_sectors * 512u);
			memset(b->disk + r.sector * 512u, 0, (size_t)r.num_sectors * 512u);
		}
		break;
	}
	default:
		CHECK(0); /* the model hands out nothing else */
	}
	int rc = vio_blk_req_complete(req, st);
	CHECK(rc == 0 || rc == -VIO_EBROKEN);
}

static void submit(void *ctx, struct vio_blk_req *req)
{
	struct be *b = ctx;
	b->submitted++;
	if (!b->async) {
		serve(b, req);
		return;
	}
	CHECK(b->n < QSZ);
	b->held[b->n++] = req;
}

static const struct vio_blk_backend_ops be_ops = {submit};

static void put_le16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static void put_le32(unsigned char *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

static void put_le64(unsigned char *p, uint64_t v)
{
	put_le32(p, (uint32_t)v);
	put_le32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool allowed_error(int rc)
{
	return rc == -VIO_EBLK_NO_STATUS || rc == -VIO_EREQUEST || rc == -VIO_EBROKEN ||
	       vio_err_is_peer(rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	uint8_t flags = fz_u8(&in);
	uint64_t cap = (uint64_t)(fz_u8(&in) % 64u) + 1u;
	unsigned nchains = (unsigned)(fz_u8(&in) % MAX_CHAINS) + 1u;

	unsigned char *ring = calloc(1, RING_BYTES);
	unsigned char *buf = calloc(1, BUF_BYTES);
	unsigned char *before = malloc(BUF_BYTES);
	struct be b;
	memset(&b, 0, sizeof(b));
	b.bytes = cap * 512u;
	b.capacity = cap;
	b.disk = malloc((size_t)b.bytes);
	b.async = (flags & 2u) != 0;
	b.in = &in;
	CHECK(ring && buf && before && b.disk);
	memset(b.disk, 0xd5, (size_t)b.bytes);

	/* Writable descriptor ranges, for the "nothing else changed" check. */
	struct {
		uint64_t addr;
		uint32_t len;
	} wr[MAX_CHAINS * MAX_DESC];
	unsigned nwr = 0;

	uint16_t slot = 0;
	for (unsigned c = 0; c < nchains; c++) {
		unsigned nd = (unsigned)(fz_u8(&in) % MAX_DESC) + 1u;
		uint16_t head = slot;
		for (unsigned k = 0; k < nd; k++) {
			uint16_t off = fz_u16(&in);
			uint16_t len = fz_u16(&in);
			uint8_t dir = fz_u8(&in);
			uint64_t addr = BUF_BASE + (off % (BUF_BYTES + 64u));
			uint32_t l = len % 2048u;
			uint16_t fl = (uint16_t)((dir & 1u) ? VIO_DESC_F_WRITE : 0u);
			if (k + 1 < nd)
				fl |= VIO_DESC_F_NEXT;
			unsigned char *d = ring + (size_t)slot * 16u;
			put_le64(d, addr);
			put_le32(d + 8, l);
			put_le16(d + 12, fl);
			put_le16(d + 14, (uint16_t)(slot + 1u));
			if (fl & VIO_DESC_F_WRITE) {
				wr[nwr].addr = addr;
				wr[nwr].len = l;
				nwr++;
			}
			slot++;
		}
		put_le16(ring + AVAIL_OFF + 4u + 2u * c, head);
	}
	put_le16(ring + AVAIL_OFF + 2u, (uint16_t)nchains);
	fz_bytes(&in, buf, BUF_BYTES);
	memcpy(before, buf, BUF_BYTES);

	struct vio_mem_region regions[2] = {
		{RING_BASE, RING_BYTES, ring, VIO_MAP_RW},
		{BUF_BASE, BUF_BYTES, buf, VIO_MAP_RW},
	};
	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = VIO_RING_SPLIT;
	dc.size = QSZ;
	vio_features_set(&dc.features, VIO_F_VERSION_1);
	dc.desc_addr = RING_BASE;
	dc.driver_addr = RING_BASE + AVAIL_OFF;
	dc.device_addr = RING_BASE + USED_OFF;
	dc.regions = regions;
	dc.nregions = 2;
	dc.take_long_chains = (flags & 0x80u) == 0;
	size_t msz = vio_devq_mem_size(VIO_RING_SPLIT, QSZ);
	void *qmem = aligned_alloc(64, (msz + 63u) & ~(size_t)63u);
	struct vio_devq *dq = NULL;
	CHECK(qmem != NULL);
	CHECK(vio_devq_init(&dq, qmem, msz, &dc) == 0);

	struct vio_blk_dev_desc desc;
	memset(&desc, 0, sizeof(desc));
	desc.capacity = cap;
	desc.read_only = (flags & 1u) != 0;
	desc.seg_max = (flags & 4u) ? 3u : 0u;
	desc.size_max = (flags & 8u) ? 1024u : 0u;
	desc.flush = (flags & 0x10u) != 0;
	if (flags & 0x20u) {
		desc.max_discard_sectors = 4;
		desc.max_discard_seg = 2;
		desc.max_write_zeroes_sectors = 8;
		desc.max_write_zeroes_seg = 3;
	}
	memcpy(desc.id, "fuzz", 4);
	struct vio_blk_dev dev;
	struct vio_features f;
	CHECK(vio_blk_dev_init(&dev, &desc, &be_ops, &b) == 0);
	CHECK(vio_blk_dev_features(&desc, &f) == 0);
	CHECK(vio_blk_dev_set_features(&dev, &f, NULL) == 0);

	static struct vio_blk_req reqs[QSZ];
	static struct vio_chain_seg segs[QSZ * 12];
	uint16_t per = (flags & 0x40u) ? 3u : 12u;
	struct vio_blk_queue q;
	CHECK(vio_blk_queue_init(&q, &dev, dq, reqs, QSZ, segs, per) == 0);

	int rc = vio_blk_queue_process(&q);
	CHECK(rc >= 0 || allowed_error(rc));
	CHECK(rc <= (int)nchains);
	/* Complete the held requests in an input-chosen order. */
	while (b.n > 0) {
		unsigned i = fz_u8(&in) % b.n;
		struct vio_blk_req *r = b.held[i];
		b.held[i] = b.held[--b.n];
		serve(&b, r);
	}
	CHECK(vio_blk_queue_inflight(&q) == 0);

	/* Used entries: lengths within the chain's writable bytes (coarse:
	 * within everything the input could have made writable). */
	uint16_t used = (uint16_t)(ring[USED_OFF + 2] | ring[USED_OFF + 3] << 8);
	CHECK(used <= nchains);
	for (uint16_t u = 0; u < used; u++) {
		uint32_t id = get_le32(ring + USED_OFF + 4u + 8u * u);
		uint32_t len = get_le32(ring + USED_OFF + 8u + 8u * u);
		CHECK(id < QSZ);
		uint64_t wsum = 0;
		for (unsigned k = 0; k < nwr; k++)
			wsum += wr[k].len;
		CHECK(len <= wsum);
	}
	/* Only device-writable descriptors changed in the buffer area. */
	for (uint32_t i = 0; i < BUF_BYTES; i++) {
		if (buf[i] == before[i])
			continue;
		bool ok = false;
		for (unsigned k = 0; k < nwr && !ok; k++)
			ok = BUF_BASE + i >= wr[k].addr && BUF_BASE + i < wr[k].addr + wr[k].len;
		CHECK(ok);
	}

	vio_devq_fini(dq);
	free(qmem);
	free(b.disk);
	free(before);
	free(buf);
	free(ring);
	return 0;
}
