/* SPDX-License-Identifier: MIT */
/* virtio-blk driver helper: configuration parsing, submission checks
 * against the negotiated features, and a hostile device (bad status values,
 * short used lengths, a status never written) played through the real
 * device half. Split and packed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "dev_env.h"

#define QSIZE 32

static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};

static struct vio_blk_config base_config(void)
{
	struct vio_blk_config c;
	memset(&c, 0, sizeof(c));
	c.capacity = vio_le64_make(100);
	c.size_max = vio_le32_make(4096);
	c.seg_max = vio_le32_make(4);
	c.blk_size = vio_le32_make(4096);
	c.num_queues = vio_le16_make(2);
	c.max_discard_sectors = vio_le32_make(8);
	c.max_discard_seg = vio_le32_make(2);
	c.max_write_zeroes_sectors = vio_le32_make(8);
	c.max_write_zeroes_seg = vio_le32_make(1);
	return c;
}

static struct vio_features feats(const unsigned *bits, size_t n)
{
	struct vio_features f = vio_features_none();
	for (size_t i = 0; i < n; i++)
		vio_features_set(&f, bits[i]);
	return f;
}

static const unsigned all_bits[] = {VIO_BLK_F_SIZE_MAX,	   VIO_BLK_F_SEG_MAX, VIO_BLK_F_BLK_SIZE,
				    VIO_BLK_F_FLUSH,	   VIO_BLK_F_MQ,      VIO_BLK_F_DISCARD,
				    VIO_BLK_F_WRITE_ZEROES};

static void test_blk_drv_config_parse(void **state)
{
	(void)state;
	struct vio_blk_config c = base_config();
	struct vio_features f = feats(all_bits, sizeof(all_bits) / sizeof(all_bits[0]));
	struct vio_blk_info info;
	assert_int_equal(vio_blk_config_parse(&c, sizeof(c), &f, &info), 0);
	assert_int_equal(info.capacity, 100);
	assert_int_equal(info.num_queues, 2);
	assert_int_equal(info.max_discard_seg, 2);
	/* Fields of features not negotiated read as defaults. */
	struct vio_features none = vio_features_none();
	assert_int_equal(vio_blk_config_parse(&c, 8, &none, &info), 0);
	assert_int_equal(info.seg_max, 0);
	assert_int_equal(info.blk_size, 512);
	assert_int_equal(info.num_queues, 1);
	/* Too short for a negotiated feature's field. */
	assert_int_equal(vio_blk_config_parse(&c, 7, &none, &info), -VIO_EBLK_CONFIG);
	assert_int_equal(vio_blk_config_parse(&c, 40, &f, &info), -VIO_EBLK_CONFIG);
	assert_int_equal(vio_blk_config_parse(&c, 57, &f, &info), 0);
	assert_int_equal(vio_blk_config_parse(&c, 56, &f, &info), -VIO_EBLK_CONFIG);
	/* Invalid values. */
	struct vio_blk_config b = c;
	b.seg_max = vio_le32_make(0);
	assert_int_equal(vio_blk_config_parse(&b, sizeof(b), &f, &info), -VIO_EBLK_CONFIG);
	b = c;
	b.blk_size = vio_le32_make(3000);
	assert_int_equal(vio_blk_config_parse(&b, sizeof(b), &f, &info), -VIO_EBLK_CONFIG);
	b.blk_size = vio_le32_make(256);
	assert_int_equal(vio_blk_config_parse(&b, sizeof(b), &f, &info), -VIO_EBLK_CONFIG);
	b = c;
	b.num_queues = vio_le16_make(0);
	assert_int_equal(vio_blk_config_parse(&b, sizeof(b), &f, &info), -VIO_EBLK_CONFIG);
	b = c;
	b.capacity = vio_le64_make(UINT64_MAX);
	assert_int_equal(vio_blk_config_parse(&b, sizeof(b), &f, &info), -VIO_EBLK_CONFIG);
	b = c;
	b.writeback = 2;
	unsigned wce = VIO_BLK_F_CONFIG_WCE;
	struct vio_features fw = feats(&wce, 1);
	assert_int_equal(vio_blk_config_parse(&b, sizeof(b), &fw, &info), -VIO_EBLK_CONFIG);
	assert_true(vio_err_is_peer(-VIO_EBLK_CONFIG));
	assert_int_equal(vio_blk_config_parse(NULL, 0, &f, &info), -VIO_EINVAL);
}

struct cfg_src {
	struct vio_blk_config c;
	uint32_t last_len;
	int fail;
};

static int cfg_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
	struct cfg_src *s = ctx;
	if (s->fail)
		return -VIO_EAGAIN;
	assert_true(off + len <= sizeof(s->c));
	memcpy(buf, (unsigned char *)&s->c + off, len);
	s->last_len = len;
	return 0;
}

static void test_blk_drv_config_read(void **state)
{
	(void)state;
	struct cfg_src s;
	memset(&s, 0, sizeof(s));
	s.c = base_config();
	struct vio_features f = feats(all_bits, sizeof(all_bits) / sizeof(all_bits[0]));
	struct vio_blk_info info;
	assert_int_equal(vio_blk_config_read(cfg_read, &s, &f, &info), 0);
	assert_int_equal(s.last_len, VIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP + 1);
	assert_int_equal(info.seg_max, 4);
	s.fail = 1;
	assert_int_equal(vio_blk_config_read(cfg_read, &s, &f, &info), -VIO_EAGAIN);
}

static void test_blk_drv_features(void **state)
{
	(void)state;
	struct vio_features f;
	vio_blk_drv_features(&f);
	assert_true(vio_features_test(&f, VIO_BLK_F_FLUSH));
	assert_true(vio_features_test(&f, VIO_BLK_F_MQ));
	assert_false(vio_features_test(&f, VIO_BLK_F_ZONED));
	assert_false(vio_features_test(&f, VIO_BLK_F_BARRIER));
	assert_false(vio_features_test(&f, VIO_BLK_F_SCSI));
}

struct t {
	struct dev_env e;
	struct vio_blk_drv drv;
	struct vio_blk_info info;
};

static struct t *mk(enum vio_ring_format fmt, const unsigned *bits, size_t n)
{
	struct t *t = calloc(1, sizeof(*t));
	dev_env_init(&t->e, fmt, QSIZE, false, 64 * 1024);
	struct vio_blk_config c = base_config();
	struct vio_features f = feats(bits, n);
	assert_int_equal(vio_blk_config_parse(&c, sizeof(c), &f, &t->info), 0);
	assert_int_equal(vio_blk_drv_init(&t->drv, t->e.l.vq, &t->info), 0);
	return t;
}

static void rm(struct t *t)
{
	dev_env_fini(&t->e);
	free(t);
}

static void test_blk_drv_submit_checks(void **state)
{
	(void)state;
	struct t *t = mk(VIO_RING_SPLIT, all_bits, sizeof(all_bits) / sizeof(all_bits[0]));
	struct vio_blk_drv_req *r = dev_env_alloc(&t->e, sizeof(*r));
	unsigned char *b = dev_env_alloc(&t->e, 8192);
	struct vio_blk_drv *d = &t->drv;
	assert_int_equal(vio_blk_drv_read(d, r, 99, b, 1024), -VIO_EINVAL); /* beyond 100 */
	assert_int_equal(vio_blk_drv_read(d, r, UINT64_MAX, b, 512), -VIO_EINVAL);
	assert_int_equal(vio_blk_drv_read(d, r, 0, b, 100), -VIO_EINVAL);
	assert_int_equal(vio_blk_drv_read(d, r, 0, b, 8192), -VIO_EINVAL); /* size_max */
	struct vio_sg sg[7];
	for (int i = 1; i <= 5; i++)
		sg[i] = (struct vio_sg){b + (i - 1) * 512, 512};
	assert_int_equal(vio_blk_drv_submit(d, r, VIO_BLK_T_OUT, 0, sg, 5), -VIO_EINVAL);
	assert_int_equal(vio_blk_drv_submit(d, r, VIO_BLK_T_DISCARD, 0, sg, 1), -VIO_EINVAL);
	assert_int_equal(vio_blk_drv_submit(d, r, 77, 0, sg, 1), -VIO_EINVAL);
	assert_int_equal(vio_blk_drv_submit(d, r, VIO_BLK_T_FLUSH, 0, sg, 1), -VIO_EINVAL);
	assert_int_equal(vio_blk_drv_submit(d, r, VIO_BLK_T_GET_LIFETIME, 0, sg, 0),
			 -VIO_EBLK_FEATURE);
	sg[1].len = 19;
	assert_int_equal(vio_blk_drv_submit(d, r, VIO_BLK_T_GET_ID, 0, sg, 1), -VIO_EINVAL);
	struct vio_blk_discard_write_zeroes *rg = dev_env_alloc(&t->e, 3 * sizeof(*rg));
	rg[0].sector = vio_le64_make(0);
	rg[0].num_sectors = vio_le32_make(8);
	rg[1] = rg[0];
	rg[2] = rg[0];
	assert_int_equal(vio_blk_drv_submit_ranges(d, r, VIO_BLK_T_DISCARD, rg, 3), -VIO_EINVAL);
	assert_int_equal(vio_blk_drv_submit_ranges(d, r, VIO_BLK_T_DISCARD, rg, 0), -VIO_EINVAL);
	assert_int_equal(vio_blk_drv_submit_ranges(d, r, VIO_BLK_T_SECURE_ERASE, rg, 1),
			 -VIO_EBLK_FEATURE);
	assert_int_equal(vio_blk_drv_submit_ranges(d, r, VIO_BLK_T_IN, rg, 1), -VIO_EINVAL);
	rg[0].flags = vio_le32_make(VIO_BLK_DWZ_F_UNMAP);
	assert_int_equal(vio_blk_drv_submit_ranges(d, r, VIO_BLK_T_DISCARD, rg, 1), -VIO_EINVAL);
	rg[0].flags = vio_le32_make(2);
	assert_int_equal(vio_blk_drv_submit_ranges(d, r, VIO_BLK_T_WRITE_ZEROES, rg, 1),
			 -VIO_EINVAL);
	rg[0].flags = vio_le32_make(0);
	rg[0].num_sectors = vio_le32_make(9);
	assert_int_equal(vio_blk_drv_submit_ranges(d, r, VIO_BLK_T_DISCARD, rg, 1), -VIO_EINVAL);
	rg[0].sector = vio_le64_make(95);
	rg[0].num_sectors = vio_le32_make(8);
	assert_int_equal(vio_blk_drv_submit_ranges(d, r, VIO_BLK_T_DISCARD, rg, 1), -VIO_EINVAL);
	assert_int_equal(vio_vq_num_free(t->e.l.vq), QSIZE); /* nothing was published */
	assert_int_equal(vio_blk_drv_read(d, r, 96, b, 2048), 0);
	assert_int_equal(vio_blk_drv_inflight(d), 1);
	rm(t);

	/* Read-only, no FLUSH. */
	unsigned ro[] = {VIO_BLK_F_RO, VIO_BLK_F_DISCARD};
	t = mk(VIO_RING_PACKED, ro, 2);
	r = dev_env_alloc(&t->e, sizeof(*r));
	b = dev_env_alloc(&t->e, 512);
	rg = dev_env_alloc(&t->e, sizeof(*rg));
	rg[0].num_sectors = vio_le32_make(1);
	assert_int_equal(vio_blk_drv_write(&t->drv, r, 0, b, 512), -VIO_EBLK_FEATURE);
	assert_int_equal(vio_blk_drv_flush(&t->drv, r), -VIO_EBLK_FEATURE);
	assert_int_equal(vio_blk_drv_submit_ranges(&t->drv, r, VIO_BLK_T_DISCARD, rg, 1),
			 -VIO_EBLK_FEATURE);
	assert_false(vio_err_is_peer(-VIO_EBLK_FEATURE));
	assert_int_equal(vio_blk_drv_read(&t->drv, r, 0, b, 512), 0);
	rm(t);
}

/* The hostile device: take the next chain, check its shape, write @status
 * into the last writable byte (unless @write_status is false) and push
 * @used (UINT32_MAX: all writable bytes). */
static void device_answer(struct t *t, bool write_status, uint8_t status, uint32_t used,
			  uint32_t expect_out, uint32_t expect_in)
{
	struct vio_chain c;
	struct vio_chain_seg segs[8];
	assert_int_equal(vio_devq_pop(t->e.l.dq, &c, segs, 8), 0);
	assert_int_equal(c.out_bytes, expect_out);
	assert_int_equal(c.in_bytes, expect_in);
	if (write_status)
		assert_int_equal(vio_chain_write(&c, c.in_bytes - 1, &status, 1), 1);
	assert_int_equal(vio_devq_push(t->e.l.dq, &c, used == UINT32_MAX ? c.in_bytes : used), 0);
}

static void test_blk_drv_completion_ok(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = mk(fmts[f], all_bits, sizeof(all_bits) / sizeof(all_bits[0]));
		struct vio_blk_drv_req *r = dev_env_alloc(&t->e, 3 * sizeof(*r));
		unsigned char *b = dev_env_alloc(&t->e, 1024);
		struct vio_blk_drv_req *done;
		assert_int_equal(vio_blk_drv_get(&t->drv, &done), -VIO_EAGAIN);
		assert_int_equal(vio_blk_drv_read(&t->drv, &r[0], 0, b, 1024), 0);
		assert_int_equal(vio_blk_drv_write(&t->drv, &r[1], 0, b, 1024), 0);
		assert_int_equal(vio_blk_drv_flush(&t->drv, &r[2]), 0);
		device_answer(t, true, VIO_BLK_S_OK, UINT32_MAX, 16, 1025);
		device_answer(t, true, VIO_BLK_S_IOERR, 1, 16 + 1024, 1);
		device_answer(t, true, VIO_BLK_S_UNSUPP, 0, 16, 1);
		assert_int_equal(vio_blk_drv_get(&t->drv, &done), 0);
		assert_ptr_equal(done, &r[0]);
		assert_int_equal(done->status, VIO_BLK_S_OK);
		assert_int_equal(done->used_len, 1025);
		assert_int_equal(vio_blk_drv_get(&t->drv, &done), 0);
		assert_int_equal(done->status, VIO_BLK_S_IOERR);
		assert_int_equal(vio_blk_drv_get(&t->drv, &done), 0);
		assert_int_equal(done->status, VIO_BLK_S_UNSUPP);
		assert_int_equal(done->used_len, 0); /* a status-only used length of 0 is fine */
		/* A failed read may report 0 bytes. */
		assert_int_equal(vio_blk_drv_read(&t->drv, &r[0], 0, b, 1024), 0);
		device_answer(t, true, VIO_BLK_S_IOERR, 0, 16, 1025);
		assert_int_equal(vio_blk_drv_get(&t->drv, &done), 0);
		assert_int_equal(done->status, VIO_BLK_S_IOERR);
		assert_int_equal(vio_blk_drv_inflight(&t->drv), 0);
		rm(t);
	}
}

static void test_blk_drv_hostile_status(void **state)
{
	(void)state;
	static const uint8_t bad[] = {3, 6, 0x7f, 0xfe};
	for (size_t f = 0; f < 2; f++) {
		for (size_t i = 0; i <= sizeof(bad); i++) {
			struct t *t = mk(fmts[f], all_bits, sizeof(all_bits) / sizeof(all_bits[0]));
			struct vio_blk_drv_req *r = dev_env_alloc(&t->e, 2 * sizeof(*r));
			assert_int_equal(vio_blk_drv_flush(&t->drv, &r[0]), 0);
			assert_int_equal(vio_blk_drv_flush(&t->drv, &r[1]), 0);
			/* i == sizeof(bad): the device never writes the status. */
			bool write = i < sizeof(bad);
			device_answer(t, write, write ? bad[i] : 0, UINT32_MAX, 16, 1);
			device_answer(t, true, VIO_BLK_S_OK, UINT32_MAX, 16, 1);
			struct vio_blk_drv_req *done = NULL;
			assert_int_equal(vio_blk_drv_get(&t->drv, &done), -VIO_EBLK_STATUS);
			assert_ptr_equal(done, &r[0]);
			assert_true(vio_err_is_peer(-VIO_EBLK_STATUS));
			/* Latched: no more submissions or completions. */
			assert_int_equal(vio_blk_drv_get(&t->drv, &done), -VIO_EBROKEN);
			assert_int_equal(vio_blk_drv_flush(&t->drv, &r[0]), -VIO_EBROKEN);
			/* Reset path: detach what is left, clear. */
			vio_vq_reset(t->e.l.vq);
			vio_blk_drv_reset(&t->drv);
			assert_int_equal(vio_blk_drv_flush(&t->drv, &r[0]), 0);
			rm(t);
		}
	}
}

static void test_blk_drv_hostile_short_read(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = mk(fmts[f], all_bits, sizeof(all_bits) / sizeof(all_bits[0]));
		struct vio_blk_drv_req *r = dev_env_alloc(&t->e, sizeof(*r));
		unsigned char *b = dev_env_alloc(&t->e, 512);
		char *id;
		struct vio_blk_drv_req *done;
		assert_int_equal(vio_blk_drv_read(&t->drv, r, 0, b, 512), 0);
		device_answer(t, true, VIO_BLK_S_OK, 512, 16, 513); /* data, no status */
		assert_int_equal(vio_blk_drv_get(&t->drv, &done), -VIO_EBLK_USED_LEN);
		assert_ptr_equal(done, r);
		assert_int_equal(done->used_len, 512);
		rm(t);
		t = mk(fmts[f], all_bits, sizeof(all_bits) / sizeof(all_bits[0]));
		r = dev_env_alloc(&t->e, sizeof(*r));
		id = dev_env_alloc(&t->e, 20);
		assert_int_equal(vio_blk_drv_get_id(&t->drv, r, id), 0);
		device_answer(t, true, VIO_BLK_S_OK, 1, 16, 21);
		assert_int_equal(vio_blk_drv_get(&t->drv, &done), -VIO_EBLK_USED_LEN);
		rm(t);
	}
}

static void test_blk_drv_detach(void **state)
{
	(void)state;
	struct t *t = mk(VIO_RING_SPLIT, all_bits, sizeof(all_bits) / sizeof(all_bits[0]));
	struct vio_blk_drv_req *r = dev_env_alloc(&t->e, 2 * sizeof(*r));
	assert_int_equal(vio_blk_drv_flush(&t->drv, &r[0]), 0);
	assert_int_equal(vio_blk_drv_flush(&t->drv, &r[1]), 0);
	struct vio_blk_drv_req *got[2];
	assert_int_equal(vio_blk_drv_detach(&t->drv, &got[0]), 0);
	assert_int_equal(vio_blk_drv_detach(&t->drv, &got[1]), 0);
	assert_int_equal(vio_blk_drv_detach(&t->drv, &got[1]), -VIO_EAGAIN);
	assert_true((got[0] == &r[0] && got[1] == &r[1]) || (got[0] == &r[1] && got[1] == &r[0]));
	assert_int_equal(vio_blk_drv_inflight(&t->drv), 0);
	rm(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_drv_config_parse),
		cmocka_unit_test(test_blk_drv_config_read),
		cmocka_unit_test(test_blk_drv_features),
		cmocka_unit_test(test_blk_drv_submit_checks),
		cmocka_unit_test(test_blk_drv_completion_ok),
		cmocka_unit_test(test_blk_drv_hostile_status),
		cmocka_unit_test(test_blk_drv_hostile_short_read),
		cmocka_unit_test(test_blk_drv_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
