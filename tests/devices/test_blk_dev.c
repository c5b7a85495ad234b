/* SPDX-License-Identifier: MIT */
/* virtio-blk device model: requests made available through the real driver
 * half (any framing, hostile or not), taken by the real device half, parsed
 * by the model and served by the in-memory backend or an asynchronous one
 * that completes out of order. Split and packed.
 *
 * VIO_TEST_SEED selects the seed of the randomized cases; it is printed on
 * failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "dev_env.h"

#define QSIZE 64
#define SEGS 12
#define CAP 64 /* sectors */
#define DISK (CAP * 512)
#define ARENA (512 * 1024)

/* An asynchronous backend: holds requests, completes them later through
 * the in-memory backend, in an order the test picks. */
struct async_be {
	struct vio_blk_req *held[QSIZE];
	unsigned n;
	struct vio_blk_mem_backend mem;
};

static void async_submit(void *ctx, struct vio_blk_req *req)
{
	struct async_be *b = ctx;
	assert_true(b->n < QSIZE);
	b->held[b->n++] = req;
}

static const struct vio_blk_backend_ops async_ops = {async_submit};

/* Complete held request @i (swap-remove). */
static void async_complete(struct async_be *b, unsigned i)
{
	struct vio_blk_req *req = b->held[i];
	b->held[i] = b->held[--b->n];
	vio_blk_mem_backend_ops.submit(&b->mem, req);
}

struct t {
	struct dev_env e;
	enum vio_ring_format fmt;
	struct vio_blk_dev_desc desc;
	struct vio_blk_dev dev;
	struct vio_blk_queue q;
	struct vio_blk_req reqs[QSIZE];
	struct vio_chain_seg segs[QSIZE * SEGS];
	struct vio_blk_mem_backend mem;
	struct async_be async;
	unsigned char disk[DISK];
};

static struct vio_blk_dev_desc base_desc(void)
{
	struct vio_blk_dev_desc d;
	memset(&d, 0, sizeof(d));
	d.capacity = CAP;
	d.seg_max = 6;
	d.size_max = 4096;
	d.flush = true;
	d.max_discard_sectors = 8;
	d.max_discard_seg = 2;
	d.max_write_zeroes_sectors = 16;
	d.max_write_zeroes_seg = 2;
	d.write_zeroes_may_unmap = true;
	d.lifetime = true;
	d.pre_eol_info = VIO_BLK_PRE_EOL_INFO_NORMAL;
	d.lifetime_est_a = 2;
	d.lifetime_est_b = 3;
	memcpy(d.id, "libvirtio-test-disk", 19);
	return d;
}

/* Set up with @d; @async selects the asynchronous backend. All offered
 * device-type features are negotiated. */
static struct t *mk(enum vio_ring_format fmt, const struct vio_blk_dev_desc *d, bool async)
{
	struct t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	t->fmt = fmt;
	t->desc = *d;
	dev_env_init(&t->e, fmt, QSIZE, false, ARENA);
	for (size_t i = 0; i < DISK; i++)
		t->disk[i] = (unsigned char)(i * 7u + 1u);
	vio_blk_mem_backend_init(&t->mem, t->disk, DISK);
	vio_blk_mem_backend_init(&t->async.mem, t->disk, DISK);
	assert_int_equal(vio_blk_dev_init(&t->dev, d, async ? &async_ops : &vio_blk_mem_backend_ops,
					  async ? (void *)&t->async : (void *)&t->mem),
			 0);
	struct vio_features f;
	assert_int_equal(vio_blk_dev_features(d, &f), 0);
	assert_int_equal(vio_blk_dev_set_features(&t->dev, &f, NULL), 0);
	assert_int_equal(
		vio_blk_queue_init(&t->q, &t->dev, t->e.l.dq, t->reqs, QSIZE, t->segs, SEGS), 0);
	return t;
}

static void rm(struct t *t)
{
	dev_env_fini(&t->e);
	free(t);
}

static void *A(struct t *t, size_t n)
{
	return dev_env_alloc(&t->e, n);
}

static struct vio_blk_req_hdr *hdr(struct t *t, uint32_t type, uint64_t sector)
{
	struct vio_blk_req_hdr *h = A(t, sizeof(*h));
	h->type = vio_le32_make(type);
	h->sector = vio_le64_make(sector);
	return h;
}

/* Make the chain @sg (out readable, in writable) available, let the model
 * process it, and reap it. Returns process()'s result; *used gets the used
 * length (UINT32_MAX if nothing came back). */
static int run(struct t *t, struct vio_sg *sg, unsigned out, unsigned in, uint32_t *used)
{
	static int token;
	assert_int_equal(vio_vq_add(t->e.l.vq, sg, out, in, &token), 0);
	int rc = vio_blk_queue_process(&t->q);
	void *tok = NULL;
	uint32_t len = UINT32_MAX;
	if (vio_vq_get(t->e.l.vq, &tok, &len) != 0)
		len = UINT32_MAX;
	if (used != NULL)
		*used = len;
	return rc;
}

/* A request of one header, @n data pieces of @each bytes (direction by
 * type) and a status byte. Returns the status byte's value. */
static uint8_t simple(struct t *t, uint32_t type, uint64_t sector, unsigned n, uint32_t each,
		      uint32_t *used, unsigned char **data)
{
	struct vio_sg sg[SEGS + 8];
	unsigned char *st = A(t, 1);
	*st = 0xee;
	sg[0].addr = hdr(t, type, sector);
	sg[0].len = 16;
	unsigned char *buf = A(t, (size_t)n * each + 1);
	for (unsigned i = 0; i < n; i++) {
		sg[1 + i].addr = buf + (size_t)i * each;
		sg[1 + i].len = each;
	}
	sg[1 + n].addr = st;
	sg[1 + n].len = 1;
	bool in =
		type == VIO_BLK_T_IN || type == VIO_BLK_T_GET_ID || type == VIO_BLK_T_GET_LIFETIME;
	assert_int_equal(run(t, sg, in ? 1 : 1 + n, in ? n + 1 : 1, used), 1);
	if (data != NULL)
		*data = buf;
	return *st;
}

static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};

/* ---- Configuration ----------------------------------------------------- */

static void test_blk_dev_config_fill(void **state)
{
	(void)state;
	struct vio_blk_dev_desc d = base_desc();
	d.blk_size = 4096;
	d.cylinders = 100;
	d.heads = 4;
	d.sectors = 32;
	d.topology = true;
	d.physical_block_exp = 3;
	d.opt_io_size = 64;
	d.num_queues = 4;
	d.config_wce = true;
	d.writeback = 1;
	d.read_only = true;
	struct vio_features f;
	struct vio_blk_config c;
	assert_int_equal(vio_blk_dev_features(&d, &f), 0);
	unsigned expect[] = {VIO_BLK_F_SIZE_MAX, VIO_BLK_F_SEG_MAX,	 VIO_BLK_F_GEOMETRY,
			     VIO_BLK_F_RO,	 VIO_BLK_F_BLK_SIZE,	 VIO_BLK_F_FLUSH,
			     VIO_BLK_F_TOPOLOGY, VIO_BLK_F_CONFIG_WCE,	 VIO_BLK_F_MQ,
			     VIO_BLK_F_DISCARD,	 VIO_BLK_F_WRITE_ZEROES, VIO_BLK_F_LIFETIME};
	struct vio_features want = vio_features_none();
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		vio_features_set(&want, expect[i]);
	assert_true(vio_features_equal(&f, &want));
	assert_int_equal(vio_blk_dev_fill_config(&d, &c), 0);
	const unsigned char *raw = (const unsigned char *)&c;
	assert_int_equal(raw[0], CAP);
	assert_int_equal(raw[VIO_BLK_CFG_BLK_SIZE + 1], 0x10); /* 4096 little-endian */
	assert_int_equal(raw[VIO_BLK_CFG_NUM_QUEUES], 4);
	assert_int_equal(raw[VIO_BLK_CFG_WRITEBACK], 1);
	assert_int_equal(raw[VIO_BLK_CFG_MAX_DISCARD_SEG], 2);
	assert_int_equal(raw[VIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP], 1);
	assert_int_equal(vio_le32_get(c.max_secure_erase_seg), 0);

	/* Round trip through the driver's parser. */
	struct vio_blk_info info;
	assert_int_equal(vio_blk_config_parse(&c, sizeof(c), &f, &info), 0);
	assert_int_equal(info.capacity, CAP);
	assert_int_equal(info.blk_size, 4096);
	assert_int_equal(info.seg_max, 6);
	assert_int_equal(info.num_queues, 4);
	assert_int_equal(info.cylinders, 100);
	assert_int_equal(info.opt_io_size, 64);
	assert_int_equal(info.max_write_zeroes_sectors, 16);
	assert_true(info.write_zeroes_may_unmap);
}

static void test_blk_dev_desc_rejects(void **state)
{
	(void)state;
	struct vio_blk_dev_desc d = base_desc();
	struct vio_features f;
	struct vio_blk_config c;
	d.capacity = VIO_BLK_MAX_CAPACITY + 1;
	assert_int_equal(vio_blk_dev_features(&d, &f), -VIO_EINVAL);
	assert_int_equal(vio_blk_dev_fill_config(&d, &c), -VIO_EINVAL);
	d = base_desc();
	d.blk_size = 1000;
	assert_int_equal(vio_blk_dev_desc_check(&d), -VIO_EINVAL);
	d = base_desc();
	d.config_wce = true;
	d.flush = false;
	assert_int_equal(vio_blk_dev_desc_check(&d), -VIO_EINVAL);
	d = base_desc();
	d.max_discard_sectors = 0;
	assert_int_equal(vio_blk_dev_desc_check(&d), -VIO_EINVAL);
	d = base_desc();
	d.lifetime_est_a = 12;
	assert_int_equal(vio_blk_dev_desc_check(&d), -VIO_EINVAL);
	d = base_desc();
	assert_int_equal(vio_blk_dev_desc_check(&d), 0);
	struct vio_blk_dev dev;
	struct vio_blk_backend_ops none = {NULL};
	assert_int_equal(vio_blk_dev_init(&dev, &d, &none, NULL), -VIO_EINVAL);
}

static void test_blk_dev_features_and_writeback(void **state)
{
	(void)state;
	struct vio_blk_dev_desc d = base_desc();
	d.config_wce = true;
	d.writeback = 1;
	struct vio_blk_dev dev;
	struct vio_blk_config c;
	struct vio_blk_mem_backend mem;
	unsigned char disk[512];
	vio_blk_mem_backend_init(&mem, disk, sizeof(disk));
	assert_int_equal(vio_blk_dev_init(&dev, &d, &vio_blk_mem_backend_ops, &mem), 0);
	assert_int_equal(vio_blk_dev_fill_config(&d, &c), 0);
	struct vio_features f = vio_features_none();
	vio_features_set(&f, VIO_BLK_F_SCSI); /* not offered */
	assert_int_equal(vio_blk_dev_set_features(&dev, &f, &c), -VIO_EINVAL);
	/* CONFIG_WCE without FLUSH: writethrough (§5.2.5.2). */
	f = vio_features_none();
	vio_features_set(&f, VIO_BLK_F_CONFIG_WCE);
	vio_features_set(&f, VIO_F_VERSION_1); /* not a device-type bit: ignored */
	assert_int_equal(vio_blk_dev_set_features(&dev, &f, &c), 0);
	assert_int_equal(c.writeback, 0);
	assert_false(vio_blk_dev_writeback(&dev));
	uint8_t one = 1, two = 2;
	assert_int_equal(vio_blk_dev_config_write(&dev, &c, VIO_BLK_CFG_WRITEBACK, &one, 1), 0);
	assert_true(vio_blk_dev_writeback(&dev));
	assert_int_equal(c.writeback, 1);
	assert_int_equal(vio_blk_dev_config_write(&dev, &c, VIO_BLK_CFG_WRITEBACK, &two, 1),
			 -VIO_EINVAL);
	assert_int_equal(vio_blk_dev_config_write(&dev, &c, 0, &one, 1), -VIO_EINVAL);
	assert_int_equal(c.writeback, 1);
	/* Without CONFIG_WCE the field is read-only; FLUSH means writeback. */
	f = vio_features_none();
	vio_features_set(&f, VIO_BLK_F_FLUSH);
	assert_int_equal(vio_blk_dev_set_features(&dev, &f, &c), 0);
	assert_true(vio_blk_dev_writeback(&dev));
	assert_int_equal(vio_blk_dev_config_write(&dev, &c, VIO_BLK_CFG_WRITEBACK, &one, 1),
			 -VIO_EINVAL);
	assert_int_equal(vio_blk_dev_set_capacity(&dev, 7, &c), 0);
	assert_int_equal(vio_le64_get(c.capacity), 7);
	assert_int_equal(vio_blk_dev_set_capacity(&dev, VIO_BLK_MAX_CAPACITY + 1, &c), -VIO_EINVAL);
}

/* ---- Requests ---------------------------------------------------------- */

static void test_blk_dev_read_write(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		uint32_t used;
		unsigned char *buf;
		assert_int_equal(simple(t, VIO_BLK_T_IN, 3, 2, 512, &used, &buf), VIO_BLK_S_OK);
		assert_int_equal(used, 1025); /* data + status */
		assert_memory_equal(buf, t->disk + 3 * 512, 1024);
		/* Write: the data comes from three pieces. */
		struct vio_sg sg[5];
		unsigned char *st = A(t, 1);
		unsigned char *w = A(t, 1536);
		for (int i = 0; i < 1536; i++)
			w[i] = (unsigned char)(0x5a ^ i);
		sg[0].addr = hdr(t, VIO_BLK_T_OUT, 10);
		sg[0].len = 16;
		sg[1] = (struct vio_sg){w, 100};
		sg[2] = (struct vio_sg){w + 100, 1000};
		sg[3] = (struct vio_sg){w + 1100, 436};
		sg[4] = (struct vio_sg){st, 1};
		assert_int_equal(run(t, sg, 4, 1, &used), 1);
		assert_int_equal(*st, VIO_BLK_S_OK);
		assert_int_equal(used, 1);
		assert_memory_equal(t->disk + 10 * 512, w, 1536);
		/* Zero-length read at the end of the disk is valid. */
		assert_int_equal(simple(t, VIO_BLK_T_IN, CAP, 0, 0, &used, NULL), VIO_BLK_S_OK);
		assert_int_equal(vio_blk_queue_inflight(&t->q), 0);
		rm(t);
	}
}

/* The header cut into pieces, glued to the data, the status byte sharing a
 * descriptor with read data: framing is free (§2.6.4). */
static void test_blk_dev_header_split_across_segments(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		struct vio_blk_req_hdr *h = hdr(t, VIO_BLK_T_IN, 5);
		unsigned char *p = (unsigned char *)h;
		unsigned char *buf = A(t, 513);
		struct vio_sg sg[5] = {
			{p, 3}, {p + 3, 9}, {p + 12, 4}, {buf, 300}, {buf + 300, 213}};
		uint32_t used;
		assert_int_equal(run(t, sg, 3, 2, &used), 1);
		assert_int_equal(buf[512], VIO_BLK_S_OK);
		assert_int_equal(used, 513);
		assert_memory_equal(buf, t->disk + 5 * 512, 512);
		/* Header and write data in one descriptor. */
		unsigned char *one = A(t, 16 + 512);
		struct vio_blk_req_hdr h2;
		memset(&h2, 0, sizeof(h2));
		h2.type = vio_le32_make(VIO_BLK_T_OUT);
		h2.sector = vio_le64_make(1);
		memcpy(one, &h2, 16);
		memset(one + 16, 0x77, 512);
		unsigned char *st = A(t, 1);
		struct vio_sg sg2[2] = {{one, 528}, {st, 1}};
		assert_int_equal(run(t, sg2, 1, 1, &used), 1);
		assert_int_equal(*st, VIO_BLK_S_OK);
		for (int i = 0; i < 512; i++)
			assert_int_equal(t->disk[512 + i], 0x77);
		rm(t);
	}
}

static void test_blk_dev_header_short(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		struct vio_blk_req_hdr *h = hdr(t, VIO_BLK_T_IN, 0);
		unsigned char *buf = A(t, 513);
		struct vio_sg sg[2] = {{h, 15}, {buf, 513}};
		uint32_t used;
		assert_int_equal(run(t, sg, 1, 1, &used), 1);
		assert_int_equal(buf[512], VIO_BLK_S_IOERR);
		assert_int_equal(used, 0); /* the data was not written */
		for (int i = 0; i < 512; i++)
			assert_int_equal(buf[i], 0);
		/* No readable part at all. */
		struct vio_sg sg2[1] = {{buf, 1}};
		assert_int_equal(run(t, sg2, 0, 1, &used), 1);
		assert_int_equal(buf[0], VIO_BLK_S_IOERR);
		assert_int_equal(used, 1);
		rm(t);
	}
}

static void test_blk_dev_status_missing_fails_queue(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		unsigned char *w = A(t, 512);
		struct vio_sg sg[2] = {{hdr(t, VIO_BLK_T_OUT, 0), 16}, {w, 512}};
		uint32_t used;
		assert_int_equal(run(t, sg, 2, 0, &used), -VIO_EBLK_NO_STATUS);
		assert_true(vio_err_is_peer(-VIO_EBLK_NO_STATUS));
		assert_int_equal(used, UINT32_MAX); /* never completed */
		assert_true(vio_devq_is_broken(t->e.l.dq));
		assert_int_equal(vio_devq_broken_reason(t->e.l.dq), -VIO_EBLK_NO_STATUS);
		assert_int_equal(vio_blk_queue_inflight(&t->q), 0);
		assert_int_equal(vio_blk_queue_process(&t->q), -VIO_EBROKEN);
		/* The disk was not written. */
		assert_int_equal(t->disk[0], 1);
		rm(t);
	}
}

static void test_blk_dev_status_in_empty_segment(void **state)
{
	(void)state;
	/* A writable part of one zero-length descriptor: no status byte. */
	struct vio_blk_dev_desc d = base_desc();
	struct t *t = mk(VIO_RING_SPLIT, &d, false);
	unsigned char *st = A(t, 1);
	struct vio_sg sg[2] = {{hdr(t, VIO_BLK_T_FLUSH, 0), 16}, {st, 0}};
	assert_int_equal(run(t, sg, 1, 1, NULL), -VIO_EBLK_NO_STATUS);
	rm(t);
	/* The status byte followed by an empty writable descriptor is fine. */
	t = mk(VIO_RING_SPLIT, &d, false);
	st = A(t, 1);
	*st = 0xee;
	struct vio_sg sg2[3] = {{hdr(t, VIO_BLK_T_FLUSH, 0), 16}, {st, 1}, {st, 0}};
	uint32_t used;
	assert_int_equal(run(t, sg2, 1, 2, &used), 1);
	assert_int_equal(*st, VIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(t->mem.flushes, 1);
	rm(t);
}

static void test_blk_dev_data_not_multiple_of_512(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		uint32_t used;
		unsigned char before[DISK];
		memcpy(before, t->disk, DISK);
		assert_int_equal(simple(t, VIO_BLK_T_OUT, 0, 1, 100, &used, NULL), VIO_BLK_S_IOERR);
		assert_int_equal(simple(t, VIO_BLK_T_OUT, 0, 2, 300, &used, NULL), VIO_BLK_S_IOERR);
		assert_int_equal(simple(t, VIO_BLK_T_IN, 0, 1, 511, &used, NULL), VIO_BLK_S_IOERR);
		assert_int_equal(used, 0);
		assert_memory_equal(before, t->disk, DISK);
		rm(t);
	}
}

static void test_blk_dev_sector_beyond_capacity(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		uint32_t used;
		unsigned char *buf;
		assert_int_equal(simple(t, VIO_BLK_T_IN, CAP, 1, 512, &used, &buf),
				 VIO_BLK_S_IOERR);
		assert_int_equal(used, 0);
		assert_int_equal(simple(t, VIO_BLK_T_IN, CAP - 1, 2, 512, &used, NULL),
				 VIO_BLK_S_IOERR);
		assert_int_equal(simple(t, VIO_BLK_T_IN, CAP - 2, 2, 512, &used, NULL),
				 VIO_BLK_S_OK);
		/* sector + length wraps 2^64. */
		assert_int_equal(simple(t, VIO_BLK_T_OUT, UINT64_MAX, 1, 512, &used, NULL),
				 VIO_BLK_S_IOERR);
		assert_int_equal(simple(t, VIO_BLK_T_OUT, UINT64_MAX - 1, 4, 512, &used, NULL),
				 VIO_BLK_S_IOERR);
		assert_int_equal(simple(t, VIO_BLK_T_IN, (uint64_t)1 << 55, 1, 512, &used, NULL),
				 VIO_BLK_S_IOERR);
		rm(t);
	}
}

static void test_blk_dev_seg_max_and_size_max(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc(); /* seg_max 6, size_max 4096 */
		struct t *t = mk(fmts[f], &d, false);
		uint32_t used;
		assert_int_equal(simple(t, VIO_BLK_T_IN, 0, 6, 512, &used, NULL), VIO_BLK_S_OK);
		assert_int_equal(used, 6 * 512 + 1);
		assert_int_equal(simple(t, VIO_BLK_T_OUT, 0, 7, 512, &used, NULL), VIO_BLK_S_IOERR);
		assert_int_equal(simple(t, VIO_BLK_T_IN, 0, 1, 8192, &used, NULL), VIO_BLK_S_IOERR);
		assert_int_equal(simple(t, VIO_BLK_T_IN, 0, 2, 4096, &used, NULL), VIO_BLK_S_OK);
		rm(t);
	}
}

/* More segments than the model's array: taken truncated, answered IOERR. */
static void test_blk_dev_chain_longer_than_array(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		d.seg_max = 0; /* no SEG_MAX: the array is the only bound */
		struct t *t = mk(fmts[f], &d, false);
		uint32_t used;
		assert_int_equal(simple(t, VIO_BLK_T_IN, 0, SEGS + 3, 512, &used, NULL),
				 VIO_BLK_S_IOERR);
		assert_int_equal(used, 0);
		assert_int_equal(simple(t, VIO_BLK_T_OUT, 0, SEGS + 3, 512, &used, NULL),
				 VIO_BLK_S_IOERR);
		assert_int_equal(used, 1);
		assert_false(vio_devq_is_broken(t->e.l.dq));
		rm(t);
	}
}

static void test_blk_dev_read_only(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		d.read_only = true;
		struct t *t = mk(fmts[f], &d, false);
		unsigned char before[DISK];
		memcpy(before, t->disk, DISK);
		uint32_t used;
		assert_int_equal(simple(t, VIO_BLK_T_OUT, 0, 1, 512, &used, NULL), VIO_BLK_S_IOERR);
		struct vio_blk_discard_write_zeroes *r = A(t, sizeof(*r));
		r->sector = vio_le64_make(0);
		r->num_sectors = vio_le32_make(1);
		unsigned char *st = A(t, 1);
		struct vio_sg sg[3] = {{hdr(t, VIO_BLK_T_WRITE_ZEROES, 0), 16}, {r, 16}, {st, 1}};
		assert_int_equal(run(t, sg, 2, 1, &used), 1);
		assert_int_equal(*st, VIO_BLK_S_IOERR);
		sg[0].addr = hdr(t, VIO_BLK_T_DISCARD, 0);
		assert_int_equal(run(t, sg, 2, 1, &used), 1);
		assert_int_equal(*st, VIO_BLK_S_IOERR);
		assert_memory_equal(before, t->disk, DISK);
		assert_int_equal(simple(t, VIO_BLK_T_IN, 0, 1, 512, &used, NULL), VIO_BLK_S_OK);
		rm(t);
	}
}

static void test_blk_dev_unknown_type_unsupp(void **state)
{
	(void)state;
	static const uint32_t types[] = {VIO_BLK_T_SCSI_CMD,
					 VIO_BLK_T_SCSI_CMD_OUT,
					 VIO_BLK_T_FLUSH_OUT,
					 VIO_BLK_T_ZONE_REPORT,
					 VIO_BLK_T_ZONE_RESET_ALL,
					 VIO_BLK_T_ZONE_APPEND,
					 VIO_BLK_T_SECURE_ERASE, /* not offered */
					 VIO_BLK_T_BARRIER | VIO_BLK_T_IN,
					 99,
					 UINT32_MAX};
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
			uint32_t used;
			unsigned char *st = A(t, 1);
			struct vio_sg sg[2] = {{hdr(t, types[i], 0), 16}, {st, 1}};
			assert_int_equal(run(t, sg, 1, 1, &used), 1);
			assert_int_equal(*st, VIO_BLK_S_UNSUPP);
			assert_int_equal(used, 1);
		}
		rm(t);
		/* FLUSH is UNSUPP when not offered. */
		d.flush = false;
		t = mk(fmts[f], &d, false);
		unsigned char *st = A(t, 1);
		struct vio_sg sg[2] = {{hdr(t, VIO_BLK_T_FLUSH, 0), 16}, {st, 1}};
		assert_int_equal(run(t, sg, 1, 1, NULL), 1);
		assert_int_equal(*st, VIO_BLK_S_UNSUPP);
		rm(t);
	}
}

static void test_blk_dev_get_id_and_lifetime(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		uint32_t used;
		unsigned char *buf;
		assert_int_equal(simple(t, VIO_BLK_T_GET_ID, 0, 1, 20, &used, &buf), VIO_BLK_S_OK);
		assert_int_equal(used, 21);
		assert_memory_equal(buf, d.id, 20);
		/* Split over two pieces. */
		assert_int_equal(simple(t, VIO_BLK_T_GET_ID, 0, 2, 10, &used, &buf), VIO_BLK_S_OK);
		assert_memory_equal(buf, d.id, 20);
		assert_int_equal(simple(t, VIO_BLK_T_GET_ID, 0, 1, 19, &used, &buf),
				 VIO_BLK_S_IOERR);
		assert_int_equal(used, 0);
		assert_int_equal(simple(t, VIO_BLK_T_GET_ID, 0, 1, 21, &used, &buf),
				 VIO_BLK_S_IOERR);
		assert_int_equal(simple(t, VIO_BLK_T_GET_LIFETIME, 0, 1, 6, &used, &buf),
				 VIO_BLK_S_OK);
		assert_int_equal(used, 7);
		assert_int_equal(buf[0], VIO_BLK_PRE_EOL_INFO_NORMAL);
		assert_int_equal(buf[2], 2);
		assert_int_equal(buf[4], 3);
		rm(t);
	}
}

static uint8_t ranges(struct t *t, uint32_t type, const uint64_t *sec, const uint32_t *num,
		      const uint32_t *flags, unsigned n, uint32_t extra)
{
	struct vio_blk_discard_write_zeroes *r = A(t, n * sizeof(*r) + extra);
	for (unsigned i = 0; i < n; i++) {
		r[i].sector = vio_le64_make(sec[i]);
		r[i].num_sectors = vio_le32_make(num[i]);
		r[i].flags = vio_le32_make(flags[i]);
	}
	unsigned char *st = A(t, 1);
	*st = 0xee;
	struct vio_sg sg[3] = {
		{hdr(t, type, 0), 16}, {r, (uint32_t)(n * sizeof(*r) + extra)}, {st, 1}};
	assert_int_equal(run(t, sg, 2, 1, NULL), 1);
	return *st;
}

static void test_blk_dev_discard_write_zeroes(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc(); /* discard 2×8, wz 2×16 */
		struct t *t = mk(fmts[f], &d, false);
		uint64_t s[3] = {2, 20, 30};
		uint32_t n[3] = {3, 8, 1};
		uint32_t fl[3] = {0, 0, 0};
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 2, 0), VIO_BLK_S_OK);
		for (int i = 2 * 512; i < 5 * 512; i++)
			assert_int_equal(t->disk[i], 0);
		assert_int_not_equal(t->disk[5 * 512], 0);
		/* Too many ranges, too long, beyond the disk, ragged data. */
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 3, 0), VIO_BLK_S_IOERR);
		n[0] = 9;
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 1, 0), VIO_BLK_S_IOERR);
		n[0] = 16;
		assert_int_equal(ranges(t, VIO_BLK_T_WRITE_ZEROES, s, n, fl, 1, 0), VIO_BLK_S_OK);
		n[0] = 17;
		assert_int_equal(ranges(t, VIO_BLK_T_WRITE_ZEROES, s, n, fl, 1, 0),
				 VIO_BLK_S_IOERR);
		s[0] = CAP - 1;
		n[0] = 2;
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 1, 0), VIO_BLK_S_IOERR);
		s[0] = UINT64_MAX;
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 1, 0), VIO_BLK_S_IOERR);
		s[0] = 0;
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 1, 8), VIO_BLK_S_IOERR);
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 0, 0), VIO_BLK_S_IOERR);
		/* Flags: UNMAP only on write zeroes; reserved bits UNSUPP even
		 * when another range is also out of bounds (§5.2.6.2 MUST). */
		fl[0] = VIO_BLK_DWZ_F_UNMAP;
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 1, 0), VIO_BLK_S_UNSUPP);
		assert_int_equal(ranges(t, VIO_BLK_T_WRITE_ZEROES, s, n, fl, 1, 0), VIO_BLK_S_OK);
		fl[0] = 0;
		fl[1] = 4;
		s[0] = CAP + 5;
		assert_int_equal(ranges(t, VIO_BLK_T_WRITE_ZEROES, s, n, fl, 2, 0),
				 VIO_BLK_S_UNSUPP);
		/* Alignment is advisory: an odd range is served. */
		fl[1] = 0;
		s[0] = 3;
		n[0] = 1;
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 1, 0), VIO_BLK_S_OK);
		rm(t);
		/* Not negotiated: UNSUPP. */
		d.max_discard_seg = 0;
		t = mk(fmts[f], &d, false);
		assert_int_equal(ranges(t, VIO_BLK_T_DISCARD, s, n, fl, 1, 0), VIO_BLK_S_UNSUPP);
		rm(t);
	}
}

/* A backend that rewrites a range after the model checked it gets the
 * re-check's refusal, never an out-of-disk range. */
static struct vio_blk_req *captured;
static void capture_submit(void *ctx, struct vio_blk_req *req)
{
	(void)ctx;
	captured = req;
}

static void test_blk_dev_range_recheck(void **state)
{
	(void)state;
	struct vio_blk_dev_desc d = base_desc();
	struct t *t = mk(VIO_RING_SPLIT, &d, false);
	static const struct vio_blk_backend_ops cap_ops = {capture_submit};
	assert_int_equal(vio_blk_dev_init(&t->dev, &d, &cap_ops, NULL), 0);
	struct vio_features f;
	vio_blk_dev_features(&d, &f);
	vio_blk_dev_set_features(&t->dev, &f, NULL);
	struct vio_blk_discard_write_zeroes *r = A(t, sizeof(*r));
	r->sector = vio_le64_make(1);
	r->num_sectors = vio_le32_make(2);
	unsigned char *st = A(t, 1);
	struct vio_sg sg[3] = {{hdr(t, VIO_BLK_T_DISCARD, 0), 16}, {r, 16}, {st, 1}};
	static int tok;
	assert_int_equal(vio_vq_add(t->e.l.vq, sg, 2, 1, &tok), 0);
	captured = NULL;
	assert_int_equal(vio_blk_queue_process(&t->q), 1);
	assert_non_null(captured);
	assert_int_equal(vio_blk_req_nranges(captured), 1);
	struct vio_blk_range got;
	assert_int_equal(vio_blk_req_range(captured, 0, &got), 0);
	assert_int_equal(got.sector, 1);
	assert_int_equal(got.num_sectors, 2);
	assert_int_equal(vio_blk_req_range(captured, 1, &got), -VIO_EINVAL);
	r->sector = vio_le64_make(UINT64_MAX - 1); /* the driver changes it */
	assert_int_equal(vio_blk_req_range(captured, 0, &got), -VIO_EINVAL);
	assert_int_equal(vio_blk_req_complete(captured, VIO_BLK_S_IOERR), 0);
	assert_int_equal(vio_blk_req_complete(captured, VIO_BLK_S_IOERR), -VIO_EINVAL);
	assert_int_equal(*st, VIO_BLK_S_IOERR);
	rm(t);
}

static void test_blk_dev_iov(void **state)
{
	(void)state;
	struct vio_blk_dev_desc d = base_desc();
	struct t *t = mk(VIO_RING_PACKED, &d, false);
	static const struct vio_blk_backend_ops cap_ops = {capture_submit};
	assert_int_equal(vio_blk_dev_init(&t->dev, &d, &cap_ops, NULL), 0);
	unsigned char *one = A(t, 16 + 1024 + 1);
	struct vio_blk_req_hdr h;
	memset(&h, 0, sizeof(h));
	h.type = vio_le32_make(VIO_BLK_T_OUT);
	memcpy(one, &h, 16);
	struct vio_sg sg[3] = {{one, 16 + 700}, {one + 716, 324}, {one + 1040, 1}};
	static int tok;
	assert_int_equal(vio_vq_add(t->e.l.vq, sg, 2, 1, &tok), 0);
	captured = NULL;
	assert_int_equal(vio_blk_queue_process(&t->q), 1);
	struct vio_blk_iov iov[4];
	assert_int_equal(vio_blk_req_len(captured), 1024);
	assert_int_equal(vio_blk_req_iov(captured, iov, 4), 2);
	assert_int_equal(iov[0].len, 700);
	assert_int_equal(iov[1].len, 324);
	assert_int_equal(vio_blk_req_iov(captured, iov, 1), 2);
	/* Wrong-direction accessors copy nothing. */
	unsigned char x[4];
	assert_int_equal(vio_blk_req_write(captured, 0, x, 4), 0);
	assert_int_equal(vio_blk_req_read(captured, 1024, x, 4), 0);
	assert_int_equal(vio_blk_req_read(captured, 1020, x, 8), 4);
	assert_int_equal(vio_blk_req_complete(captured, VIO_BLK_S_OK), 0);
	rm(t);
}

/* ---- Asynchronous, out of order ---------------------------------------- */

static void test_blk_dev_async_out_of_order(void **state)
{
	(void)state;
	bool from_env;
	uint64_t seed0 = loop_seed_from_env(0xb10c5eedu, &from_env);
	for (unsigned s = 0; s < (from_env ? 1u : 6u); s++) {
		uint64_t seed = seed0 + s;
		for (size_t f = 0; f < 2; f++) {
			struct vio_blk_dev_desc d = base_desc();
			d.seg_max = 0;
			struct t *t = mk(fmts[f], &d, true);
			struct loop_rng rng;
			loop_rng_seed(&rng, seed);
			unsigned char shadow[DISK];
			unsigned char *buf[CAP];
			unsigned char *st[CAP];
			/* Phase 0 writes every sector with fresh data, phase 1
			 * reads them back; requests cover disjoint sectors and
			 * complete in a random order. */
			for (int phase = 0; phase < 2; phase++) {
				unsigned next = 0, done = 0;
				while (done < CAP) {
					while (next < CAP && vio_vq_num_free(t->e.l.vq) >= 4 &&
					       loop_rng_chance(&rng, 60)) {
						unsigned sec = next++;
						buf[sec] = A(t, 512);
						st[sec] = A(t, 1);
						*st[sec] = 0xee;
						if (phase == 0) {
							loop_pattern_fill(buf[sec], 512,
									  loop_mix(seed, sec));
							memcpy(shadow + sec * 512, buf[sec], 512);
						}
						uint32_t cut = loop_rng_range(&rng, 1, 511);
						struct vio_sg sg[4] = {
							{hdr(t,
							     phase ? VIO_BLK_T_IN : VIO_BLK_T_OUT,
							     sec),
							 16},
							{buf[sec], cut},
							{buf[sec] + cut, 512 - cut},
							{st[sec], 1}};
						assert_int_equal(vio_vq_add(t->e.l.vq, sg,
									    phase ? 1 : 3,
									    phase ? 3 : 1, st[sec]),
								 0);
					}
					int rc = vio_blk_queue_process(&t->q);
					assert_true(rc >= 0);
					while (t->async.n > 0 && loop_rng_chance(&rng, 50))
						async_complete(&t->async,
							       loop_rng_below(&rng, t->async.n));
					void *tok;
					uint32_t len;
					while (vio_vq_get(t->e.l.vq, &tok, &len) == 0) {
						unsigned char *sp = tok;
						if (*sp != VIO_BLK_S_OK ||
						    len != (phase ? 513u : 1u)) {
							printf("seed 0x%" PRIx64 " %s phase %d: "
							       "status %u len %u\n",
							       seed, f ? "packed" : "split", phase,
							       *sp, len);
							fail();
						}
						done++;
					}
					if (next == CAP && t->async.n == 0 &&
					    vio_blk_queue_inflight(&t->q) == 0 && done < CAP) {
						printf("seed 0x%" PRIx64 ": lost requests\n", seed);
						fail();
					}
				}
				dev_env_free_all(&t->e);
			}
			if (memcmp(shadow, t->disk, DISK) != 0) {
				printf("seed 0x%" PRIx64 " %s: disk differs\n", seed,
				       f ? "packed" : "split");
				fail();
			}
			rm(t);
		}
	}
}

/* Fewer request slots than available chains: process stops, resumes after
 * completions. */
static void test_blk_dev_slots_exhausted(void **state)
{
	(void)state;
	struct vio_blk_dev_desc d = base_desc();
	struct t *t = mk(VIO_RING_SPLIT, &d, true);
	assert_int_equal(vio_blk_queue_init(&t->q, &t->dev, t->e.l.dq, t->reqs, 2, t->segs, SEGS),
			 0);
	unsigned char *st[5];
	for (int i = 0; i < 5; i++) {
		st[i] = A(t, 1);
		struct vio_sg sg[2] = {{hdr(t, VIO_BLK_T_FLUSH, 0), 16}, {st[i], 1}};
		assert_int_equal(vio_vq_add(t->e.l.vq, sg, 1, 1, st[i]), 0);
	}
	assert_int_equal(vio_blk_queue_process(&t->q), 2);
	assert_int_equal(vio_blk_queue_process(&t->q), 0);
	assert_int_equal(vio_blk_queue_inflight(&t->q), 2);
	async_complete(&t->async, 1);
	assert_int_equal(vio_blk_queue_process(&t->q), 1);
	async_complete(&t->async, 0);
	async_complete(&t->async, 0);
	assert_int_equal(vio_blk_queue_process(&t->q), 2);
	async_complete(&t->async, 0);
	async_complete(&t->async, 0);
	assert_int_equal(vio_blk_queue_process(&t->q), 0);
	void *tok;
	uint32_t len;
	int n = 0;
	while (vio_vq_get(t->e.l.vq, &tok, &len) == 0)
		n++;
	assert_int_equal(n, 5);
	rm(t);
}

/* A queue reset with requests held by the backend: they are dropped and a
 * late completion is refused; a broken queue refuses completions too. */
static void test_blk_dev_reset_and_broken_completions(void **state)
{
	(void)state;
	struct vio_blk_dev_desc d = base_desc();
	struct t *t = mk(VIO_RING_PACKED, &d, true);
	for (int i = 0; i < 3; i++) {
		unsigned char *st = A(t, 1);
		struct vio_sg sg[2] = {{hdr(t, VIO_BLK_T_FLUSH, 0), 16}, {st, 1}};
		assert_int_equal(vio_vq_add(t->e.l.vq, sg, 1, 1, st), 0);
	}
	assert_int_equal(vio_blk_queue_process(&t->q), 3);
	struct vio_blk_req *late = t->async.held[0];
	struct vio_ring_state rs;
	vio_devq_get_state(t->e.l.dq, &rs);
	assert_int_equal(rs.inflight, 3);
	vio_blk_queue_reset(&t->q);
	assert_int_equal(vio_blk_queue_inflight(&t->q), 0);
	assert_int_equal(vio_blk_req_complete(late, VIO_BLK_S_OK), -VIO_EINVAL);
	t->async.n = 0;
	/* Broken queue: completion drops the chain and frees the slot. */
	unsigned char *st = A(t, 1);
	struct vio_sg sg[2] = {{hdr(t, VIO_BLK_T_FLUSH, 0), 16}, {st, 1}};
	vio_devq_reset(t->e.l.dq);
	vio_vq_reset(t->e.l.vq);
	assert_int_equal(vio_vq_add(t->e.l.vq, sg, 1, 1, st), 0);
	assert_int_equal(vio_blk_queue_process(&t->q), 1);
	vio_devq_fail(t->e.l.dq, -VIO_EREQUEST);
	assert_int_equal(vio_blk_req_complete(t->async.held[0], VIO_BLK_S_OK), -VIO_EBROKEN);
	assert_int_equal(vio_blk_queue_inflight(&t->q), 0);
	rm(t);
}

/* ---- Multi-queue -------------------------------------------------------- */

static void test_blk_dev_multiqueue(void **state)
{
	(void)state;
	struct vio_blk_dev_desc d = base_desc();
	d.num_queues = 2;
	struct t *t = mk(VIO_RING_SPLIT, &d, false);
	struct vio_features f;
	vio_blk_dev_features(&d, &f);
	assert_true(vio_features_test(&f, VIO_BLK_F_MQ));
	/* A second queue, packed, on the same device. */
	struct dev_env e2;
	dev_env_init(&e2, VIO_RING_PACKED, QSIZE, false, ARENA);
	struct vio_blk_queue q2;
	static struct vio_blk_req reqs2[QSIZE];
	static struct vio_chain_seg segs2[QSIZE * SEGS];
	assert_int_equal(vio_blk_queue_init(&q2, &t->dev, e2.l.dq, reqs2, QSIZE, segs2, SEGS), 0);
	for (int i = 0; i < 8; i++) {
		struct dev_env *e = (i & 1) ? &e2 : &t->e;
		unsigned char *w = dev_env_alloc(e, 512);
		unsigned char *st = dev_env_alloc(e, 1);
		struct vio_blk_req_hdr *h = dev_env_alloc(e, 16);
		h->type = vio_le32_make(VIO_BLK_T_OUT);
		h->sector = vio_le64_make((uint64_t)i);
		memset(w, 0x30 + i, 512);
		struct vio_sg sg[3] = {{h, 16}, {w, 512}, {st, 1}};
		assert_int_equal(vio_vq_add(e->l.vq, sg, 2, 1, st), 0);
	}
	assert_int_equal(vio_blk_queue_process(&q2), 4);
	assert_int_equal(vio_blk_queue_process(&t->q), 4);
	for (int i = 0; i < 8; i++)
		assert_int_equal(t->disk[i * 512 + 100], 0x30 + i);
	void *tok;
	uint32_t len;
	int n = 0;
	while (vio_vq_get(e2.l.vq, &tok, &len) == 0)
		n++;
	while (vio_vq_get(t->e.l.vq, &tok, &len) == 0)
		n++;
	assert_int_equal(n, 8);
	dev_env_fini(&e2);
	rm(t);
}

/* ---- Through the driver helper ------------------------------------------ */

static void test_blk_dev_with_driver_helper(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct vio_blk_dev_desc d = base_desc();
		struct t *t = mk(fmts[f], &d, false);
		struct vio_features neg;
		struct vio_blk_config c;
		struct vio_blk_info info;
		vio_blk_dev_features(&d, &neg);
		vio_blk_dev_fill_config(&d, &c);
		assert_int_equal(vio_blk_config_parse(&c, sizeof(c), &neg, &info), 0);
		struct vio_blk_drv drv;
		assert_int_equal(vio_blk_drv_init(&drv, t->e.l.vq, &info), 0);
		struct vio_blk_drv_req *r = A(t, sizeof(*r) * 4);
		unsigned char *w = A(t, 2048), *rd = A(t, 2048);
		char *id = A(t, 20);
		loop_pattern_fill(w, 2048, 42);
		assert_int_equal(vio_blk_drv_write(&drv, &r[0], 4, w, 2048), 0);
		assert_int_equal(vio_blk_drv_flush(&drv, &r[1]), 0);
		assert_int_equal(vio_blk_drv_get_id(&drv, &r[2], id), 0);
		assert_int_equal(vio_blk_queue_process(&t->q), 3);
		struct vio_blk_drv_req *done;
		for (int i = 0; i < 3; i++) {
			assert_int_equal(vio_blk_drv_get(&drv, &done), 0);
			assert_int_equal(done->status, VIO_BLK_S_OK);
		}
		assert_int_equal(vio_blk_drv_get(&drv, &done), -VIO_EAGAIN);
		assert_memory_equal(id, d.id, 20);
		assert_int_equal(vio_blk_drv_read(&drv, &r[3], 4, rd, 2048), 0);
		assert_int_equal(vio_blk_queue_process(&t->q), 1);
		assert_int_equal(vio_blk_drv_get(&drv, &done), 0);
		assert_ptr_equal(done, &r[3]);
		assert_int_equal(done->used_len, 2049);
		assert_memory_equal(rd, w, 2048);
		/* Write zeroes over part of it, read again. */
		struct vio_blk_discard_write_zeroes *wz = A(t, sizeof(*wz));
		wz->sector = vio_le64_make(5);
		wz->num_sectors = vio_le32_make(2);
		wz->flags = vio_le32_make(VIO_BLK_DWZ_F_UNMAP);
		assert_int_equal(
			vio_blk_drv_submit_ranges(&drv, &r[0], VIO_BLK_T_WRITE_ZEROES, wz, 1), 0);
		assert_int_equal(vio_blk_drv_read(&drv, &r[1], 4, rd, 2048), 0);
		assert_int_equal(vio_blk_queue_process(&t->q), 2);
		assert_int_equal(vio_blk_drv_get(&drv, &done), 0);
		assert_int_equal(vio_blk_drv_get(&drv, &done), 0);
		assert_memory_equal(rd, w, 512);
		for (int i = 512; i < 1536; i++)
			assert_int_equal(rd[i], 0);
		assert_memory_equal(rd + 1536, w + 1536, 512);
		rm(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_dev_config_fill),
		cmocka_unit_test(test_blk_dev_desc_rejects),
		cmocka_unit_test(test_blk_dev_features_and_writeback),
		cmocka_unit_test(test_blk_dev_read_write),
		cmocka_unit_test(test_blk_dev_header_split_across_segments),
		cmocka_unit_test(test_blk_dev_header_short),
		cmocka_unit_test(test_blk_dev_status_missing_fails_queue),
		cmocka_unit_test(test_blk_dev_status_in_empty_segment),
		cmocka_unit_test(test_blk_dev_data_not_multiple_of_512),
		cmocka_unit_test(test_blk_dev_sector_beyond_capacity),
		cmocka_unit_test(test_blk_dev_seg_max_and_size_max),
		cmocka_unit_test(test_blk_dev_chain_longer_than_array),
		cmocka_unit_test(test_blk_dev_read_only),
		cmocka_unit_test(test_blk_dev_unknown_type_unsupp),
		cmocka_unit_test(test_blk_dev_get_id_and_lifetime),
		cmocka_unit_test(test_blk_dev_discard_write_zeroes),
		cmocka_unit_test(test_blk_dev_range_recheck),
		cmocka_unit_test(test_blk_dev_iov),
		cmocka_unit_test(test_blk_dev_async_out_of_order),
		cmocka_unit_test(test_blk_dev_slots_exhausted),
		cmocka_unit_test(test_blk_dev_reset_and_broken_completions),
		cmocka_unit_test(test_blk_dev_multiqueue),
		cmocka_unit_test(test_blk_dev_with_driver_helper),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
