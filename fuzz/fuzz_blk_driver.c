/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk driver bring-up (vio_blk_driver_start(),
 * vio_blk_driver_read_info()) against a device whose configuration space
 * lies.
 *
 * The device is the library's own: the blk adapter on a device core behind
 * the virtio-mmio register model, served inline. The driver reaches it
 * through the virtio-mmio front, whose accessors call the model; every read
 * of the configuration space may be replaced by a lie from the input: before
 * each such read the harness takes a byte; below 0x80 the honest value is
 * returned, otherwise the next bytes of the access width are. Past the end
 * of the input every read is honest.
 *
 * Input: a 4-byte header, then the lie stream. Header:
 *   0  flags: 1 driver wants packed, 2 driver wants two queues, 4 the device
 *      has two queues (MQ)
 *   1  device features: 1 SEG_MAX, 2 BLK_SIZE, 4 TOPOLOGY, 8 GEOMETRY,
 *      16 FLUSH, 32 CONFIG_WCE (with FLUSH), 64 DISCARD, 128 WRITE_ZEROES
 *   2  capacity in KiB (1 .. 256)
 *   3  unused
 *
 * Invariants (FZ_CHECK):
 *   - every configuration access has its field's natural width and
 *     alignment and lies inside the configuration space; only fields of
 *     negotiated features are read;
 *   - on success: the info is what the parser allows (capacity addressable,
 *     blk_size a power of two in 512 .. 65536, num_queues ≥ 1, seg_max ≥ 1
 *     with SEG_MAX), at most the queues asked for and offered were set up,
 *     and a write then a read of sector 0 round-trips (the device is honest
 *     about its rings);
 *   - on failure: the driver is failed and FAILED was written, or the call
 *     was refused before touching the device.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

#include <virtio/virtio.h>

#define QSIZE 8
#define ARENA (64u * 1024u)

struct run {
	struct fz_in *in;
	struct vio_mmio_dev *mmio;
	_Alignas(8) unsigned char mmio_mem[VIO_MMIO_DEV_MEM_SIZE];
	struct vio_mmio_front *front;
	_Alignas(8) unsigned char front_mem[VIO_MMIO_FRONT_MEM_SIZE];
	struct vio_features neg;
	bool neg_known;
	unsigned accesses;
	unsigned char *arena;
	size_t used;
};

/* Natural width of the field at @off (struct vio_blk_config), 0 if none. */
static unsigned width_at(uint32_t off)
{
	switch (off) {
	case VIO_BLK_CFG_GEOMETRY:
	case VIO_BLK_CFG_TOPOLOGY + 2:
	case VIO_BLK_CFG_NUM_QUEUES:
		return 2;
	case VIO_BLK_CFG_GEOMETRY + 2:
	case VIO_BLK_CFG_GEOMETRY + 3:
	case VIO_BLK_CFG_TOPOLOGY:
	case VIO_BLK_CFG_TOPOLOGY + 1:
	case VIO_BLK_CFG_WRITEBACK:
	case VIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP:
		return 1;
	default:
		return off < VIO_BLK_CFG_ZONED && off % 4 == 0 ? 4 : 0;
	}
}

static uint64_t rd(struct run *r, uint32_t off, unsigned size)
{
	uint64_t v = 0;
	FZ_CHECK(++r->accesses < 100000u);
	(void)vio_mmio_dev_read(r->mmio, off, size, &v);
	if (off < VIO_MMIO_CONFIG)
		return v;
	uint32_t c = off - VIO_MMIO_CONFIG;
	FZ_CHECK(c + size <= VIO_BLK_CONFIG_SIZE);
	FZ_CHECK(width_at(c) == size || (size == 4 && c == VIO_BLK_CFG_CAPACITY + 4));
	if (fz_u8(r->in) >= 0x80) {
		v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)fz_u8(r->in) << (8 * i);
	}
	return v;
}

static void wr(struct run *r, uint32_t off, uint64_t v, unsigned size)
{
	FZ_CHECK(++r->accesses < 100000u);
	(void)vio_mmio_dev_write(r->mmio, off, v, size);
}

static uint32_t r32(void *c, uint32_t off)
{
	return (uint32_t)rd(c, off, 4);
}
static void w32(void *c, uint32_t off, uint32_t v)
{
	wr(c, off, v, 4);
}
static uint16_t r16(void *c, uint32_t off)
{
	return (uint16_t)rd(c, off, 2);
}
static void w16(void *c, uint32_t off, uint16_t v)
{
	wr(c, off, v, 2);
}
static uint8_t r8(void *c, uint32_t off)
{
	return (uint8_t)rd(c, off, 1);
}
static void w8(void *c, uint32_t off, uint8_t v)
{
	wr(c, off, v, 1);
}

static const struct vio_mmio_bus bus = {r32, w32, r8, w8, r16, w16, NULL};

static void *take(struct run *r, size_t n, size_t align)
{
	size_t at = (r->used + align - 1) & ~(align - 1);
	FZ_CHECK(at + n <= ARENA);
	r->used = at + n;
	return r->arena + at;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	uint8_t hdr[4];
	fz_bytes(&in, hdr, sizeof(hdr));

	struct run *r = calloc(1, sizeof(*r));
	FZ_CHECK(r != NULL);
	r->in = &in;
	FZ_CHECK(posix_memalign((void **)&r->arena, 4096, ARENA) == 0);
	memset(r->arena, 0, ARENA);
	uint32_t kib = (uint32_t)(hdr[2] % 256u) + 1u;
	unsigned char *disk = calloc(kib, 1024);
	FZ_CHECK(disk != NULL);

	/* The device (honest). */
	struct vio_blk_mem_backend be;
	vio_blk_mem_backend_init(&be, disk, (uint64_t)kib * 1024u);
	struct vio_blk_device_config bc = {0};
	bc.desc.capacity = (uint64_t)kib * 2u;
	uint8_t df = hdr[1];
	if (df & 1)
		bc.desc.seg_max = 4;
	if (df & 2)
		bc.desc.blk_size = 4096;
	if (df & 4) {
		bc.desc.topology = true;
		bc.desc.min_io_size = 1;
		bc.desc.opt_io_size = 8;
	}
	if (df & 8) {
		bc.desc.cylinders = 2;
		bc.desc.heads = 4;
		bc.desc.sectors = 8;
	}
	bc.desc.flush = (df & 16) != 0;
	bc.desc.config_wce = (df & 48) == 48;
	if (df & 64) {
		bc.desc.max_discard_seg = 1;
		bc.desc.max_discard_sectors = 8;
	}
	if (df & 128) {
		bc.desc.max_write_zeroes_seg = 1;
		bc.desc.max_write_zeroes_sectors = 8;
	}
	bc.desc.num_queues = (hdr[0] & 4) ? 2 : 1;
	bc.backend = &vio_blk_mem_backend_ops;
	bc.backend_ctx = &be;
	bc.queue_max = 16;
	size_t bn = vio_blk_device_mem_size(&bc);
	FZ_CHECK(bn > 0);
	void *bmem = NULL, *dmem = NULL;
	FZ_CHECK(posix_memalign(&bmem, 8, bn) == 0);
	struct vio_blk_device *bd;
	FZ_CHECK(vio_blk_device_init(&bd, bmem, bn, &bc) == 0);
	struct vio_device_info info = {0};
	vio_blk_device_info(bd, &info);
	struct vio_mem_region region = {(uint64_t)(uintptr_t)r->arena, ARENA, r->arena, VIO_MAP_RW};
	info.regions = &region;
	info.nregions = 1;
	size_t dn = vio_device_mem_size(&info);
	FZ_CHECK(posix_memalign(&dmem, 8, dn) == 0);
	struct vio_device *dev;
	FZ_CHECK(vio_device_init(&dev, dmem, dn, &info) == 0);
	struct vio_mmio_dev_config mc = {0};
	FZ_CHECK(vio_mmio_dev_init(&r->mmio, r->mmio_mem, sizeof(r->mmio_mem), dev, &mc) == 0);

	/* The driver. */
	uint32_t window = (uint32_t)vio_mmio_dev_window_size(r->mmio);
	FZ_CHECK(vio_mmio_front_probe(&r->front, r->front_mem, sizeof(r->front_mem), &bus, r,
				      window) == 0);
	uint16_t want = (hdr[0] & 2) ? 2 : 1;
	struct vio_drv_config dc = {0};
	vio_mmio_front_drv_config(r->front, &dc);
	dc.num_queues = want;
	dc.device_id = VIO_ID_BLOCK;
	vio_blk_drv_features(&dc.features);
	if (hdr[0] & 1)
		vio_features_set(&dc.features, VIO_F_RING_PACKED);
	dc.reset_polls = 4;
	void *drv_mem = NULL;
	FZ_CHECK(posix_memalign(&drv_mem, 8, vio_drv_mem_size(want)) == 0);
	struct vio_drv *drv;
	FZ_CHECK(vio_drv_init(&drv, drv_mem, vio_drv_mem_size(want), &dc) == 0);
	struct vio_drv_queue_config qc[2];
	void *vqm[2] = {NULL, NULL};
	for (unsigned q = 0; q < want; q++) {
		memset(&qc[q], 0, sizeof(qc[q]));
		qc[q].size = QSIZE;
		qc[q].ring = take(r, VIO_DRV_RING_SIZE(QSIZE), 16);
		qc[q].vq_mem_size = VIO_VQ_MEM_SIZE(QSIZE);
		FZ_CHECK(posix_memalign(&vqm[q], 8, qc[q].vq_mem_size) == 0);
		qc[q].vq_mem = vqm[q];
	}
	struct vio_blk_drv blk[2];
	struct vio_blk_info bi;
	uint16_t nq = 0;
	int rc = vio_blk_driver_start(drv, qc, want, blk, &bi, &nq);
	if (rc != 0) {
		/* Refused or failed: FAILED written unless not a block device. */
		FZ_CHECK(vio_drv_state(drv) == VIO_DRV_FAILED);
		FZ_CHECK(rc == -VIO_ENODEV || (vio_device_status(dev) & VIO_STATUS_FAILED) != 0);
	} else {
		struct vio_features neg = vio_drv_features(drv);
		FZ_CHECK(bi.capacity <= VIO_BLK_MAX_CAPACITY);
		FZ_CHECK(bi.blk_size >= 512 && bi.blk_size <= 65536 &&
			 (bi.blk_size & (bi.blk_size - 1)) == 0);
		FZ_CHECK(bi.num_queues >= 1);
		FZ_CHECK(!vio_features_test(&neg, VIO_BLK_F_SEG_MAX) || bi.seg_max >= 1);
		FZ_CHECK(nq >= 1 && nq <= want && nq <= bi.num_queues);
		if (bi.capacity >= 1) {
			unsigned char *buf = take(r, 512, 64);
			struct vio_blk_drv_req *req = take(r, sizeof(*req), 8);
			for (unsigned i = 0; i < 512; i++)
				buf[i] = (unsigned char)(i * 3u + 1u);
			struct vio_blk_drv_req *done = NULL;
			if (vio_blk_drv_write(&blk[0], req, 0, buf, 512) == 0) {
				FZ_CHECK(vio_drv_notify(drv, 0) == 0); /* served inline */
				FZ_CHECK(vio_blk_drv_get(&blk[0], &done) == 0 && done == req);
				FZ_CHECK(req->status == VIO_BLK_S_OK);
				memset(buf, 0, 512);
				FZ_CHECK(vio_blk_drv_read(&blk[0], req, 0, buf, 512) == 0);
				FZ_CHECK(vio_drv_notify(drv, 0) == 0);
				FZ_CHECK(vio_blk_drv_get(&blk[0], &done) == 0 && done == req);
				FZ_CHECK(req->status == VIO_BLK_S_OK);
				for (unsigned i = 0; i < 512; i++)
					FZ_CHECK(buf[i] == (unsigned char)(i * 3u + 1u));
			}
		}
		/* A later read of the configuration sees the same checks. */
		struct vio_blk_info again;
		rc = vio_blk_driver_read_info(drv, &again);
		FZ_CHECK(rc == 0 || rc == -VIO_EBLK_CONFIG || rc == -VIO_EGENERATION);
	}
	(void)vio_drv_reset(drv);
	free(vqm[0]);
	free(vqm[1]);
	free(drv_mem);
	free(dmem);
	free(bmem);
	free(disk);
	free(r->arena);
	free(r);
	return 0;
}
