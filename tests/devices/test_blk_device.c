/* SPDX-License-Identifier: MIT */
/* virtio-blk device adapter (blk_device.h) and driver bring-up
 * (blk_driver.h) end to end: device core + virtio-mmio register model +
 * front + driver core, split and packed, served inline or through a
 * runner; configuration reads at natural widths; a hostile driver (the
 * device sets DEVICE_NEEDS_RESET) and a hostile device configuration (the
 * driver writes FAILED); pause/resume, resize, reset, save/restore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "mmio_pair.h"

#define SECTORS 256u /* 128 KiB disk */
#define QSIZE 16

static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};

/* A runner that records what the adapter asks for; the test serves. */
struct rec_runner {
	uint32_t kicked; /* bit per queue, since the last serve */
	unsigned kicks, stops;
	uint32_t stopped; /* bit per queue */
};

static void rec_kick(void *ctx, uint16_t q)
{
	struct rec_runner *r = ctx;
	r->kicked |= 1u << q;
	r->kicks++;
}

static void rec_stop(void *ctx, uint16_t q)
{
	struct rec_runner *r = ctx;
	r->stopped |= 1u << q;
	r->stops++;
}

static const struct vio_device_runner rec_ops = {rec_kick, rec_stop};

struct t {
	struct mmio_pair p;
	unsigned char disk[SECTORS * 512];
	struct vio_blk_mem_backend be;
	struct vio_blk_device_config bc;
	struct vio_blk_device *bd;
	void *bd_mem;
	struct rec_runner rr;
	bool use_runner;
	struct vio_blk_drv blk[PAIR_MAXQ];
	struct vio_blk_info info;
	uint16_t nq;
};

static void make_device(struct t *t, uint16_t nqueues, bool runner)
{
	memset(t->disk, 0, sizeof(t->disk));
	vio_blk_mem_backend_init(&t->be, t->disk, sizeof(t->disk));
	memset(&t->bc, 0, sizeof(t->bc));
	t->bc.desc.capacity = SECTORS;
	t->bc.desc.seg_max = 8;
	t->bc.desc.flush = true;
	t->bc.desc.config_wce = true;
	t->bc.desc.writeback = 1;
	t->bc.desc.num_queues = nqueues;
	t->bc.desc.topology = true;
	t->bc.desc.physical_block_exp = 3;
	t->bc.desc.alignment_offset = 1;
	t->bc.desc.min_io_size = 8;
	t->bc.desc.opt_io_size = 64;
	t->bc.desc.cylinders = 300;
	t->bc.desc.heads = 16;
	t->bc.desc.sectors = 63;
	memcpy(t->bc.desc.id, "test-disk", 9);
	t->bc.backend = &vio_blk_mem_backend_ops;
	t->bc.backend_ctx = &t->be;
	t->bc.queue_max = 64;
	t->use_runner = runner;
	memset(&t->rr, 0, sizeof(t->rr));
	if (runner) {
		t->bc.runner = &rec_ops;
		t->bc.runner_ctx = &t->rr;
	}
	size_t n = vio_blk_device_mem_size(&t->bc);
	assert_true(n > 0);
	assert_true(n <= VIO_BLK_DEVICE_MEM_SIZE(nqueues, 64, VIO_BLK_DEV_SEGS(8)));
	assert_int_equal(posix_memalign(&t->bd_mem, 8, n), 0);
	assert_int_equal(vio_blk_device_init(&t->bd, t->bd_mem, n, &t->bc), 0);
	struct vio_device_info info = {0};
	vio_blk_device_info(t->bd, &info);
	pair_init(&t->p, &info);
}

static void bring_up(struct t *t, uint16_t want, enum vio_ring_format fmt)
{
	struct vio_features f;
	vio_blk_drv_features(&f);
	pair_driver(&t->p, want, VIO_ID_BLOCK, &f, fmt == VIO_RING_PACKED);
	struct vio_drv_queue_config qc[PAIR_MAXQ];
	for (uint16_t q = 0; q < want; q++)
		pair_queue_config(&t->p, q, QSIZE, &qc[q]);
	assert_int_equal(vio_blk_driver_start(t->p.drv, qc, want, t->blk, &t->info, &t->nq), 0);
	assert_int_equal(vio_drv_ring_format(t->p.drv), fmt);
}

static void teardown_t(struct t *t)
{
	pair_fini(&t->p);
	free(t->bd_mem);
}

/* Serve what the runner was asked to (the test is the queue thread). */
static void serve(struct t *t)
{
	uint32_t k = t->rr.kicked;
	t->rr.kicked = 0;
	for (uint16_t q = 0; q < 32; q++)
		if ((k & (1u << q)) != 0)
			assert_true(vio_blk_device_process(t->bd, q) >= 0);
}

/* Wait for one completion on queue @q: serve, interrupt, reap. */
static struct vio_blk_drv_req *complete_one(struct t *t, uint16_t q)
{
	struct vio_blk_drv_req *r = NULL;
	for (int tries = 0; tries < 4; tries++) {
		if (t->use_runner)
			serve(t);
		assert_int_equal(pair_interrupt(&t->p), 0);
		int rc = vio_blk_drv_get(&t->blk[q], &r);
		if (rc == 0)
			return r;
		assert_int_equal(rc, -VIO_EAGAIN);
		(void)vio_vq_enable_intr(vio_drv_vq(t->p.drv, q));
	}
	fail_msg("no completion on queue %u", q);
	return NULL;
}

static void io_roundtrip(struct t *t, uint16_t q, uint64_t sector, unsigned char seed)
{
	unsigned char *buf = pair_alloc(&t->p, 1024);
	struct vio_blk_drv_req *req = pair_alloc(&t->p, sizeof(*req));
	for (unsigned i = 0; i < 1024; i++)
		buf[i] = (unsigned char)(seed + i * 7u);
	assert_int_equal(vio_blk_drv_write(&t->blk[q], req, sector, buf, 1024), 0);
	assert_int_equal(vio_drv_kick(t->p.drv, q), 0);
	assert_ptr_equal(complete_one(t, q), req);
	assert_int_equal(req->status, VIO_BLK_S_OK);
	assert_memory_equal(t->disk + sector * 512, buf, 1024);
	memset(buf, 0, 1024);
	assert_int_equal(vio_blk_drv_read(&t->blk[q], req, sector, buf, 1024), 0);
	assert_int_equal(vio_drv_kick(t->p.drv, q), 0);
	assert_ptr_equal(complete_one(t, q), req);
	assert_int_equal(req->status, VIO_BLK_S_OK);
	assert_int_equal(req->used_len, 1025);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(buf[i], (unsigned char)(seed + i * 7u));
}

/* ---- Tests ------------------------------------------------------------------------ */

static void test_blk_device_init_refuses_bad_config(void **state)
{
	(void)state;
	static _Alignas(8) unsigned char mem[VIO_BLK_DEVICE_MEM_SIZE(1, 4, 8)];
	struct vio_blk_mem_backend be;
	unsigned char disk[4096];
	vio_blk_mem_backend_init(&be, disk, sizeof(disk));
	struct vio_blk_device_config c = {0};
	c.desc.capacity = 8;
	c.backend = &vio_blk_mem_backend_ops;
	c.backend_ctx = &be;
	c.queue_max = 4;
	c.segs_per_req = 8;
	struct vio_blk_device *bd;
	size_t n = vio_blk_device_mem_size(&c);
	assert_true(n > 0 && n <= sizeof(mem));
	assert_int_equal(vio_blk_device_init(&bd, mem, n, &c), 0);
	assert_int_equal(vio_blk_device_init(&bd, mem, n - 1, &c), -VIO_EINVAL);
	assert_int_equal(vio_blk_device_init(&bd, mem + 4, n, &c), -VIO_EINVAL);
	assert_int_equal(vio_blk_device_init(NULL, mem, n, &c), -VIO_EINVAL);

	struct vio_blk_device_config b = c;
	b.queue_max = 6; /* not a power of two */
	assert_int_equal(vio_blk_device_mem_size(&b), 0);
	assert_int_equal(vio_blk_device_init(&bd, mem, sizeof(mem), &b), -VIO_EINVAL);
	b = c;
	b.segs_per_req = 2;
	assert_int_equal(vio_blk_device_init(&bd, mem, sizeof(mem), &b), -VIO_EINVAL);
	b = c;
	b.backend = NULL;
	assert_int_equal(vio_blk_device_init(&bd, mem, sizeof(mem), &b), -VIO_EINVAL);
	b = c;
	b.desc.blk_size = 1000; /* a bad description */
	assert_int_equal(vio_blk_device_init(&bd, mem, sizeof(mem), &b), -VIO_EINVAL);
	b = c;
	static const struct vio_device_runner half = {rec_kick, NULL};
	b.runner = &half;
	assert_int_equal(vio_blk_device_init(&bd, mem, sizeof(mem), &b), -VIO_EINVAL);
}

static void test_blk_device_describes_the_device(void **state)
{
	(void)state;
	struct t *t = calloc(1, sizeof(*t));
	make_device(t, 2, false);
	struct vio_device_info info = {0};
	vio_blk_device_info(t->bd, &info);
	assert_int_equal(info.device_id, VIO_ID_BLOCK);
	assert_int_equal(info.num_queues, 2);
	assert_int_equal(info.queue_max[0], 64);
	assert_int_equal(info.queue_max[1], 64);
	assert_int_equal(info.config_size, VIO_BLK_CONFIG_SIZE);
	assert_true(info.take_long_chains);
	assert_true(vio_features_test(&info.features, VIO_BLK_F_MQ));
	assert_true(vio_features_test(&info.features, VIO_BLK_F_FLUSH));
	assert_true(vio_features_test(&info.features, VIO_F_RING_PACKED));
	assert_true(vio_features_test(&info.features, VIO_F_EVENT_IDX));
	/* Completion order is the backend's: no IN_ORDER unless asked. */
	assert_false(vio_features_test(&info.features, VIO_F_IN_ORDER));
	/* What the driver reads: through the register model. */
	struct vio_features offer;
	vio_device_offered(t->p.dev, &offer);
	assert_true(vio_features_test(&offer, VIO_F_VERSION_1));
	assert_true(vio_features_test(&offer, VIO_F_RING_RESET)); /* mmio implements it */
	teardown_t(t);
	free(t);
}

static void test_blk_device_ring_features_override(void **state)
{
	(void)state;
	struct vio_blk_mem_backend be;
	unsigned char disk[4096];
	vio_blk_mem_backend_init(&be, disk, sizeof(disk));
	struct vio_features ring = vio_features_none();
	vio_features_set(&ring, VIO_F_IN_ORDER);
	vio_features_set(&ring, VIO_BLK_F_RO); /* a device-type bit: ignored here */
	struct vio_blk_device_config c = {0};
	c.desc.capacity = 8;
	c.backend = &vio_blk_mem_backend_ops;
	c.backend_ctx = &be;
	c.ring_features = &ring;
	size_t n = vio_blk_device_mem_size(&c);
	void *mem = NULL;
	assert_int_equal(posix_memalign(&mem, 8, n), 0);
	struct vio_blk_device *bd;
	assert_int_equal(vio_blk_device_init(&bd, mem, n, &c), 0);
	struct vio_device_info info = {0};
	vio_blk_device_info(bd, &info);
	assert_true(vio_features_test(&info.features, VIO_F_IN_ORDER));
	assert_false(vio_features_test(&info.features, VIO_F_EVENT_IDX));
	assert_false(vio_features_test(&info.features, VIO_BLK_F_RO));
	assert_int_equal(info.queue_max[0], VIO_BLK_DEVICE_DEFAULT_QUEUE_MAX);
	free(mem);
}

static void run_roundtrip(bool runner, uint16_t nq)
{
	for (size_t f = 0; f < 2; f++) {
		struct t *t = calloc(1, sizeof(*t));
		make_device(t, nq, runner);
		bring_up(t, nq, fmts[f]);
		assert_int_equal(t->nq, nq);
		assert_int_equal(t->info.capacity, SECTORS);
		assert_int_equal(t->info.seg_max, 8);
		assert_int_equal(t->info.num_queues, nq);
		assert_int_equal(t->info.writeback, 1);
		assert_int_equal(t->info.cylinders, 300);
		assert_int_equal(t->info.heads, 16);
		assert_int_equal(t->info.sectors, 63);
		assert_int_equal(t->info.physical_block_exp, 3);
		assert_int_equal(t->info.alignment_offset, 1);
		assert_int_equal(t->info.min_io_size, 8);
		assert_int_equal(t->info.opt_io_size, 64);
		for (uint16_t q = 0; q < nq; q++)
			for (unsigned k = 0; k < 3; k++)
				io_roundtrip(t, q, (uint64_t)(q * 40 + k * 8),
					     (unsigned char)(q + k));
		/* Flush and GET_ID. */
		struct vio_blk_drv_req *req = pair_alloc(&t->p, sizeof(*req));
		char *id = pair_alloc(&t->p, VIO_BLK_ID_BYTES);
		assert_int_equal(vio_blk_drv_flush(&t->blk[0], req), 0);
		assert_int_equal(vio_drv_kick(t->p.drv, 0), 0);
		assert_ptr_equal(complete_one(t, 0), req);
		assert_int_equal(req->status, VIO_BLK_S_OK);
		assert_int_equal(t->be.flushes, 1);
		assert_int_equal(vio_blk_drv_get_id(&t->blk[0], req, id), 0);
		assert_int_equal(vio_drv_kick(t->p.drv, 0), 0);
		assert_ptr_equal(complete_one(t, 0), req);
		assert_memory_equal(id, "test-disk", 9);
		assert_true(t->p.raises > 0);
		assert_int_equal(t->p.refused, 0);
		assert_int_equal(pair_status(&t->p) & VIO_STATUS_DEVICE_NEEDS_RESET, 0);
		if (runner) {
			assert_true(t->rr.kicks > 0);
			assert_int_equal(t->rr.stops, 0);
		}
		teardown_t(t);
		free(t);
	}
}

static void test_blk_device_inline_roundtrip(void **state)
{
	(void)state;
	run_roundtrip(false, 1);
}

static void test_blk_device_runner_roundtrip_multiqueue(void **state)
{
	(void)state;
	run_roundtrip(true, 2);
}

static void test_blk_driver_reads_config_at_natural_widths(void **state)
{
	(void)state;
	struct t *t = calloc(1, sizeof(*t));
	make_device(t, 2, false);
	bring_up(t, 2, VIO_RING_SPLIT);
	/* Every configuration access has the width of its field, and only the
	 * negotiated fields are read (no DISCARD etc.: not offered). */
	static const struct {
		uint32_t off;
		unsigned size;
	} field[] = {
		{0, 4},	 {4, 4},  {12, 4}, {16, 2}, {18, 1}, {19, 1},
		{24, 1}, {25, 1}, {26, 2}, {28, 4}, {32, 1}, {34, 2},
	};
	assert_true(t->p.ncfg >= sizeof(field) / sizeof(field[0]));
	for (unsigned i = 0; i < t->p.ncfg; i++) {
		bool known = false;
		for (size_t k = 0; k < sizeof(field) / sizeof(field[0]); k++)
			if (field[k].off == t->p.cfg_log[i].off) {
				assert_int_equal(t->p.cfg_log[i].size, field[k].size);
				known = true;
			}
		assert_true(known);
		assert_true(t->p.cfg_log[i].off < VIO_BLK_CFG_MAX_DISCARD_SECTORS);
	}
	teardown_t(t);
	free(t);
}

static unsigned lie_queues;
static void lie_num_queues(void *ctx, uint32_t off, unsigned size, uint64_t *v)
{
	(void)ctx;
	if (off == VIO_BLK_CFG_NUM_QUEUES && size == 2)
		*v = lie_queues;
}

static void test_blk_driver_start_refuses_bad_config(void **state)
{
	(void)state;
	struct t *t = calloc(1, sizeof(*t));
	make_device(t, 2, false);
	lie_queues = 0; /* MQ with num_queues 0: §5.2.5 forbids it */
	t->p.cfg_lie = lie_num_queues;
	struct vio_features f;
	vio_blk_drv_features(&f);
	pair_driver(&t->p, 2, VIO_ID_BLOCK, &f, false);
	struct vio_drv_queue_config qc[2];
	pair_queue_config(&t->p, 0, QSIZE, &qc[0]);
	pair_queue_config(&t->p, 1, QSIZE, &qc[1]);
	assert_int_equal(vio_blk_driver_start(t->p.drv, qc, 2, t->blk, &t->info, &t->nq),
			 -VIO_EBLK_CONFIG);
	assert_int_equal(vio_drv_state(t->p.drv), VIO_DRV_FAILED);
	assert_true((pair_status(&t->p) & VIO_STATUS_FAILED) != 0);
	/* A second start on a failed driver is refused without device access. */
	assert_int_equal(vio_blk_driver_start(t->p.drv, qc, 2, t->blk, &t->info, &t->nq),
			 -VIO_EINVAL);
	assert_int_equal(vio_blk_driver_start(t->p.drv, qc, 0, t->blk, &t->info, &t->nq),
			 -VIO_EINVAL);
	teardown_t(t);
	free(t);
}

static void test_blk_driver_start_uses_fewer_queues(void **state)
{
	(void)state;
	struct t *t = calloc(1, sizeof(*t));
	make_device(t, 2, false);
	lie_queues = 1; /* the device says one queue although it has two */
	t->p.cfg_lie = lie_num_queues;
	bring_up(t, 2, VIO_RING_SPLIT);
	assert_int_equal(t->nq, 1);
	assert_null(vio_drv_vq(t->p.drv, 1));
	io_roundtrip(t, 0, 0, 9);
	teardown_t(t);
	free(t);
}

static void test_blk_device_hostile_request_sets_needs_reset(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = calloc(1, sizeof(*t));
		make_device(t, 1, true);
		bring_up(t, 1, fmts[f]);
		/* A request with no device-writable status byte. */
		struct vio_blk_req_hdr *h = pair_alloc(&t->p, sizeof(*h));
		h->type = vio_le32_make(VIO_BLK_T_FLUSH);
		struct vio_sg sg = {h, sizeof(*h)};
		struct vio_vq *vq = vio_drv_vq(t->p.drv, 0);
		assert_int_equal(vio_vq_add(vq, &sg, 1, 0, h), 0);
		assert_int_equal(vio_drv_notify(t->p.drv, 0), 0);
		assert_true(t->rr.kicked & 1u);
		assert_int_equal(vio_blk_device_process(t->bd, 0), -VIO_EBLK_NO_STATUS);
		assert_true((pair_status(&t->p) & VIO_STATUS_DEVICE_NEEDS_RESET) != 0);
		/* The driver sees it at the configuration change interrupt. */
		assert_true(t->p.line);
		assert_int_equal(vio_drv_interrupt(t->p.drv, NULL), -VIO_ENEEDS_RESET);
		/* Reset: the adapter stops the queue and serves nothing more. */
		unsigned stops = t->rr.stops;
		assert_int_equal(vio_drv_reset(t->p.drv), 0);
		assert_int_equal(t->rr.stops, stops + 1);
		assert_false(vio_blk_device_queue_live(t->bd, 0));
		assert_int_equal(vio_blk_device_process(t->bd, 0), 0); /* a stale kick */
		assert_int_equal(vio_blk_device_process(t->bd, 5), -VIO_EINVAL);
		teardown_t(t);
		free(t);
	}
}

static void test_blk_device_pause_resize_resume(void **state)
{
	(void)state;
	struct t *t = calloc(1, sizeof(*t));
	make_device(t, 2, true);
	bring_up(t, 2, VIO_RING_PACKED);
	serve(t);
	/* Pause: every live queue stopped; a kick meanwhile is not passed on. */
	vio_blk_device_pause(t->bd);
	assert_int_equal(t->rr.stopped, 3u);
	assert_false(vio_blk_device_queue_live(t->bd, 0));
	unsigned kicks = t->rr.kicks;
	struct vio_blk_drv_req *req = pair_alloc(&t->p, sizeof(*req));
	unsigned char *buf = pair_alloc(&t->p, 512);
	assert_int_equal(vio_blk_drv_read(&t->blk[0], req, 0, buf, 512), 0);
	assert_int_equal(vio_drv_notify(t->p.drv, 0), 0);
	assert_int_equal(t->rr.kicks, kicks);
	assert_int_equal(vio_blk_device_process(t->bd, 0), 0);
	/* Resume kicks both queues; the read is served. */
	vio_blk_device_resume(t->bd);
	assert_int_equal(t->rr.kicked, 3u);
	assert_ptr_equal(complete_one(t, 0), req);

	/* Resize: pause + config change interrupt + resume. */
	unsigned stops = t->rr.stops;
	uint32_t gen = vio_device_config_generation(t->p.dev);
	assert_int_equal(vio_blk_device_set_capacity(t->bd, t->p.dev, SECTORS / 2), 0);
	assert_int_equal(t->rr.stops, stops + 2);
	assert_true(vio_device_config_generation(t->p.dev) != gen);
	assert_true(vio_blk_device_queue_live(t->bd, 1));
	assert_true(t->p.line);
	assert_int_equal(vio_drv_interrupt(t->p.drv, NULL), 0);
	struct vio_blk_info info;
	assert_int_equal(vio_blk_driver_read_info(t->p.drv, &info), 0);
	assert_int_equal(info.capacity, SECTORS / 2);
	assert_int_equal(vio_blk_device_set_capacity(t->bd, t->p.dev, VIO_BLK_MAX_CAPACITY + 1),
			 -VIO_EINVAL);
	teardown_t(t);
	free(t);
}

static void test_blk_device_writeback_write_pauses(void **state)
{
	(void)state;
	struct t *t = calloc(1, sizeof(*t));
	make_device(t, 1, true);
	bring_up(t, 1, VIO_RING_SPLIT);
	assert_true(vio_blk_dev_writeback(vio_blk_device_model(t->bd)));
	unsigned stops = t->rr.stops;
	assert_int_equal(vio_drv_config_write(t->p.drv, VIO_BLK_CFG_WRITEBACK, 1, 0), 0);
	assert_false(vio_blk_dev_writeback(vio_blk_device_model(t->bd)));
	assert_int_equal(t->rr.stops, stops + 1); /* the queue was quiet meanwhile */
	assert_true(vio_blk_device_queue_live(t->bd, 0));
	io_roundtrip(t, 0, 16, 3);
	/* A reset returns the configuration space to the description's. */
	assert_int_equal(vio_drv_reset(t->p.drv), 0);
	uint8_t wb = 0;
	assert_int_equal(vio_device_config_read(t->p.dev, VIO_BLK_CFG_WRITEBACK, &wb, 1), 0);
	assert_int_equal(wb, 1);
	teardown_t(t);
	free(t);
}

static void test_blk_device_save_restore_onto_second_device(void **state)
{
	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct t *t = calloc(1, sizeof(*t));
		make_device(t, 1, true);
		bring_up(t, 1, fmts[f]);
		io_roundtrip(t, 0, 8, 1);
		assert_int_equal(vio_drv_config_write(t->p.drv, VIO_BLK_CFG_WRITEBACK, 1, 0), 0);
		serve(t);
		vio_blk_device_pause(t->bd);
		size_t n = vio_mmio_dev_state_size(t->p.mmio);
		void *blob = malloc(n);
		assert_int_equal(vio_mmio_dev_save(t->p.mmio, blob, n), 0);

		/* The destination: a second adapter + device core + model, same
		 * guest memory; the driver's front is pointed at it. */
		struct vio_blk_device *bd2;
		void *mem2 = NULL;
		size_t n2 = vio_blk_device_mem_size(&t->bc);
		assert_int_equal(posix_memalign(&mem2, 8, n2), 0);
		struct rec_runner rr2 = {0};
		struct vio_blk_device_config c2 = t->bc;
		c2.runner_ctx = &rr2;
		/* [embedding:restore] */
		/* Same configuration as the source: adapter, device core, model. */
		assert_int_equal(vio_blk_device_init(&bd2, mem2, n2, &c2), 0);
		struct vio_device_info info = {0};
		vio_blk_device_info(bd2, &info);
		info.mem_ops = &gm_dev_ops; /* the destination's guest memory */
		info.mem_ctx = &t->p.gm;
		void *dmem = NULL;
		size_t dn = vio_device_mem_size(&info);
		assert_int_equal(posix_memalign(&dmem, 64, dn), 0);
		struct vio_device *dev2;
		assert_int_equal(vio_device_init(&dev2, dmem, dn, &info), 0);
		static _Alignas(8) unsigned char mmem[VIO_MMIO_DEV_MEM_SIZE];
		struct vio_mmio_dev *m2;
		struct vio_mmio_dev_config mc = {0};
		assert_int_equal(vio_mmio_dev_init(&m2, mmem, sizeof(mmem), dev2, &mc), 0);
		/* Registers, status, features, config, queues; then activate. */
		assert_int_equal(vio_mmio_dev_restore(m2, blob, n), 0);
		/* [/embedding:restore] */
		/* Live again: the adapter took the negotiated features and the
		 * cache mode from the restored state, and kicked its queue. */
		assert_true(vio_blk_device_queue_live(bd2, 0));
		assert_int_equal(rr2.kicked, 1u);
		assert_false(vio_blk_dev_writeback(vio_blk_device_model(bd2)));

		/* Point the driver's accessors at the destination and go on,
		 * serving its queue directly. */
		t->p.dev = dev2;
		t->p.mmio = m2;
		unsigned char *buf = pair_alloc(&t->p, 512);
		struct vio_blk_drv_req *req = pair_alloc(&t->p, sizeof(*req));
		assert_int_equal(vio_blk_drv_read(&t->blk[0], req, 8, buf, 512), 0);
		assert_int_equal(vio_drv_notify(t->p.drv, 0), 0);
		assert_int_equal(vio_blk_device_process(bd2, 0), 1);
		struct vio_blk_drv_req *done;
		assert_int_equal(vio_blk_drv_get(&t->blk[0], &done), 0);
		assert_ptr_equal(done, req);
		assert_int_equal(buf[0], 1); /* seed 1 + 0 * 7 */
		(void)vio_drv_reset(t->p.drv);
		t->p.drv = NULL;
		free(blob);
		free(dmem);
		free(mem2);
		teardown_t(t);
		free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_device_init_refuses_bad_config),
		cmocka_unit_test(test_blk_device_describes_the_device),
		cmocka_unit_test(test_blk_device_ring_features_override),
		cmocka_unit_test(test_blk_device_inline_roundtrip),
		cmocka_unit_test(test_blk_device_runner_roundtrip_multiqueue),
		cmocka_unit_test(test_blk_driver_reads_config_at_natural_widths),
		cmocka_unit_test(test_blk_driver_start_refuses_bad_config),
		cmocka_unit_test(test_blk_driver_start_uses_fewer_queues),
		cmocka_unit_test(test_blk_device_hostile_request_sets_needs_reset),
		cmocka_unit_test(test_blk_device_pause_resize_resume),
		cmocka_unit_test(test_blk_device_writeback_write_pauses),
		cmocka_unit_test(test_blk_device_save_restore_onto_second_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
