/* SPDX-License-Identifier: MIT */
/* Device core (device.h): init, the offer, save/restore with chains in
 * flight, hostile state blobs, vectors, memory tables. The register-level
 * behaviour is in tests/transport/test_mmio_dev.c. */
#define _POSIX_C_SOURCE 200112L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <virtio/virtio.h>

#include "dev_rig.h"

#define ST_LIVE                                                                                    \
	(VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER | VIO_STATUS_FEATURES_OK | VIO_STATUS_DRIVER_OK)

static struct vio_features want_features(bool packed)
{
	struct vio_features f = vio_features_none();
	vio_features_set(&f, VIO_F_VERSION_1);
	vio_features_set(&f, VIO_F_EVENT_IDX);
	vio_features_set(&f, VIO_F_RING_RESET);
	vio_features_set(&f, VIO_F_SUSPEND);
	if (packed)
		vio_features_set(&f, VIO_F_RING_PACKED);
	return f;
}

static void test_device_init_rejects_bad_info(void **state)
{
	(void)state;
	static _Alignas(8) unsigned char mem[VIO_DEVICE_MEM_SIZE(2, 256)];
	uint16_t qmax[2] = {256, 128};
	unsigned char cfg[4];
	struct vio_device_info info = {0};
	info.num_queues = 2;
	info.queue_max = qmax;
	info.config = cfg;
	info.config_size = sizeof(cfg);
	struct vio_device *dev;
	size_t need = vio_device_mem_size(&info);
	assert_true(need > 0 && need <= sizeof(mem));
	assert_int_equal(vio_device_init(&dev, mem, need, &info), 0);
	assert_int_equal(vio_device_init(&dev, mem, need - 1, &info), -VIO_EINVAL);
	assert_int_equal(vio_device_init(&dev, mem + 4, need, &info), -VIO_EINVAL);
	assert_int_equal(vio_device_init(NULL, mem, need, &info), -VIO_EINVAL);
	assert_int_equal(vio_device_init(&dev, mem, need, NULL), -VIO_EINVAL);
	qmax[1] = 0;
	assert_int_equal(vio_device_mem_size(&info), 0);
	assert_int_equal(vio_device_init(&dev, mem, sizeof(mem), &info), -VIO_EINVAL);
	qmax[1] = 32769;
	assert_int_equal(vio_device_init(&dev, mem, sizeof(mem), &info), -VIO_EINVAL);
	qmax[1] = 128;
	info.config = NULL;
	assert_int_equal(vio_device_init(&dev, mem, sizeof(mem), &info), -VIO_EINVAL);
	info.config = cfg;
	info.queue_max = NULL;
	assert_int_equal(vio_device_init(&dev, mem, sizeof(mem), &info), -VIO_EINVAL);
	info.queue_max = qmax;
	info.num_queues = VIO_DEVICE_MAX_QUEUES + 1;
	assert_int_equal(vio_device_mem_size(&info), 0);
	/* No queues, no config: fine. */
	struct vio_device_info none = {0};
	none.device_id = VIO_ID_RNG;
	assert_int_equal(vio_device_init(&dev, mem, vio_device_mem_size(&none), &none), 0);
	assert_int_equal(vio_device_num_queues(dev), 0);
	assert_int_equal(vio_device_id(dev), VIO_ID_RNG);
	assert_int_equal(vio_device_queue_max(dev, 0), 0);
	assert_null(vio_device_queue(dev, 0));
}

/* Without a transport the notification-data and ring-reset bits are not
 * offered: nothing could carry them. */
static void test_device_offer_depends_on_transport(void **state)
{
	(void)state;
	static _Alignas(8) unsigned char mem[VIO_DEVICE_MEM_SIZE(1, 8)];
	uint16_t qmax[1] = {8};
	struct vio_device_info info = {0};
	info.num_queues = 1;
	info.queue_max = qmax;
	vio_features_set(&info.features, VIO_F_NOTIFICATION_DATA);
	vio_features_set(&info.features, VIO_F_RING_RESET);
	vio_features_set(&info.features, VIO_F_EVENT_IDX);
	struct vio_device *dev;
	assert_int_equal(vio_device_init(&dev, mem, sizeof(mem), &info), 0);
	struct vio_features f;
	vio_device_offered(dev, &f);
	assert_false(vio_features_test(&f, VIO_F_NOTIFICATION_DATA));
	assert_false(vio_features_test(&f, VIO_F_RING_RESET));
	assert_true(vio_features_test(&f, VIO_F_EVENT_IDX));
	assert_true(vio_features_test(&f, VIO_F_VERSION_1));
	struct vio_features t = vio_features_none();
	vio_features_set(&t, VIO_F_RING_RESET);
	vio_device_set_transport(dev, NULL, NULL, &t);
	vio_device_offered(dev, &f);
	assert_true(vio_features_test(&f, VIO_F_RING_RESET));
	assert_false(vio_features_test(&f, VIO_F_NOTIFICATION_DATA));
	assert_int_equal(vio_device_offered_word(dev, 1), (uint32_t)(f.w[0] >> 32));
	/* The status machine works without a transport (no interrupts). */
	assert_int_equal(vio_device_set_status(dev, 1), 0);
	assert_int_equal(vio_device_set_status(dev, 3), 0);
	assert_int_equal(vio_device_set_driver_word(dev, 1, 1), 0);
	assert_int_equal(vio_device_driver_word(dev, 1), 1);
	assert_int_equal(vio_device_set_status(dev, 11), 0);
	assert_true(vio_device_has_feature(dev, VIO_F_VERSION_1));
	vio_device_set_needs_reset(dev);
	assert_int_equal(vio_device_status(dev), 11 | VIO_STATUS_DEVICE_NEEDS_RESET);
	vio_device_reset(dev);
	assert_int_equal(vio_device_status(dev), 0);
	assert_false(vio_device_has_feature(dev, VIO_F_VERSION_1));
}

static void test_device_vectors_and_notify_off(void **state)
{
	(void)state;
	struct rig r;
	struct vio_features f = want_features(false);
	rig_init(&r, 3, 8, &f);
	assert_int_equal(vio_device_config_vector(r.dev), VIO_DEVICE_NO_VECTOR);
	vio_device_set_config_vector(r.dev, 0);
	assert_int_equal(vio_device_config_vector(r.dev), 0);
	for (uint32_t q = 0; q < 3; q++) {
		assert_int_equal(vio_device_queue_vector(r.dev, q), VIO_DEVICE_NO_VECTOR);
		assert_int_equal(vio_device_queue_notify_off(r.dev, q), q);
		assert_int_equal(vio_device_queue_set_vector(r.dev, q, (uint16_t)(q + 1)), 0);
	}
	assert_int_equal(vio_device_queue_set_notify_off(r.dev, 2, 7), 0);
	assert_int_equal(vio_device_queue_set_vector(r.dev, 3, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_device_queue_set_notify_off(r.dev, 3, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_device_queue_vector(r.dev, 3), VIO_DEVICE_NO_VECTOR);
	assert_int_equal(vio_device_queue_vector(r.dev, 1), 2);
	assert_int_equal(vio_device_queue_set_addr32(r.dev, 0, (enum vio_device_area)3, false, 1),
			 -VIO_EINVAL);
	assert_int_equal(vio_device_queue_addr(r.dev, 0, (enum vio_device_area)3), 0);
	/* Reset: vectors back to NO_VECTOR, notify offsets kept. */
	vio_device_reset(r.dev);
	assert_int_equal(vio_device_config_vector(r.dev), VIO_DEVICE_NO_VECTOR);
	assert_int_equal(vio_device_queue_vector(r.dev, 1), VIO_DEVICE_NO_VECTOR);
	assert_int_equal(vio_device_queue_notify_off(r.dev, 2), 7);
	rig_fini(&r);
}

/* ---- Save / restore with chains in flight ---------------------------------- */

struct held_copy {
	uint16_t head, ndesc;
	struct vio_packed_desc descs[4];
};

/* Re-create rig @dst's device and register model over rig @src's guest
 * memory (the migration destination sees the same RAM). */
static void attach_to(struct rig *dst, struct rig *src)
{
	dst->info.mem_ctx = &src->gm;
	assert_int_equal(vio_device_init(&dst->dev, dst->dev_mem, dst->dev_mem_size, &dst->info),
			 0);
	dst->model.dev = dst->dev;
	struct vio_mmio_dev_config mc = {0};
	mc.vendor_id = RIG_VENDOR;
	assert_int_equal(
		vio_mmio_dev_init(&dst->mmio, dst->mmio_mem, sizeof(dst->mmio_mem), dst->dev, &mc),
		0);
}

static void save_restore_inflight(bool packed)
{
	struct vio_features f = want_features(packed);
	struct rig *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	rig_init(a, 2, 16, &f);
	rig_init(b, 2, 16, &f);
	attach_to(b, a);
	assert_int_equal(rig_bringup(a, &f, 16), ST_LIVE);

	/* Queue 1: two completed, three held by the model. */
	static int old_tok;
	assert_int_equal(rig_submit(a, 1, 3, 5, &old_tok), 0);
	assert_int_equal(rig_submit(a, 1, 3, 6, &old_tok), 0);
	assert_int_equal(a->model.served, 2);
	a->model.hold = true;
	static int tokens[3];
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(rig_submit(a, 1, 4, 10 + i, &tokens[i]), 0);
	assert_int_equal(a->model.nheld, 3);
	struct held_copy copy[3];
	const struct vio_packed_desc *ring = a->ring_host[1][0];
	for (unsigned i = 0; i < 3; i++) {
		copy[i].head = a->model.held[i].head;
		copy[i].ndesc = a->model.held[i].ndesc;
		for (unsigned j = 0; packed && j < copy[i].ndesc; j++)
			copy[i].descs[j] = ring[(copy[i].head + j) % 16];
	}
	/* Device-side state worth carrying: config written by the driver, a
	 * generation, a pending interrupt. */
	assert_int_equal(rig_wr(a, 0x108, 0xcafe, 2), 0);
	vio_device_config_changed(a->dev);

	size_t n = vio_mmio_dev_state_size(a->mmio);
	unsigned char *blob = malloc(n), *blob2 = malloc(n);
	assert_int_equal(vio_mmio_dev_save(a->mmio, blob, n - 1), -VIO_ENOSPC);
	assert_int_equal(vio_mmio_dev_save(a->mmio, blob, n), 0);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(vio_devq_drop(vio_device_queue(a->dev, 1), &a->model.held[i]), 0);

	/* Destination. */
	assert_int_equal(vio_mmio_dev_restore(b->mmio, blob, n), 0);
	assert_int_equal(b->model.activates, 1);
	assert_int_equal(vio_device_status(b->dev), ST_LIVE);
	assert_int_equal(vio_device_config_generation(b->dev), 1);
	assert_int_equal(vio_mmio_dev_interrupt_status(b->mmio), 3);
	assert_int_equal(b->model.config[8], 0xfe);
	assert_int_equal(b->model.config[9], 0xca);
	struct vio_features got;
	vio_device_features(b->dev, &got);
	assert_true(vio_features_equal(&got, &f));
	for (uint32_t q = 0; q < 2; q++) {
		assert_true(vio_device_queue_ready(b->dev, q));
		for (unsigned ar = 0; ar < 3; ar++)
			assert_int_equal(vio_device_queue_addr(b->dev, q, (enum vio_device_area)ar),
					 a->ring_addr[q][ar]);
	}
	/* Saving the destination gives the same bytes. */
	assert_int_equal(vio_mmio_dev_save(b->mmio, blob2, n), 0);
	assert_memory_equal(blob, blob2, n);
	struct vio_ring_state st;
	vio_devq_get_state(vio_device_queue(b->dev, 1), &st);
	assert_int_equal(st.inflight, 3);

	/* The destination's model takes the held chains again and completes
	 * them; the driver gets all three with their lengths and data. */
	struct vio_devq *dq = vio_device_queue(b->dev, 1);
	for (unsigned i = 0; i < 3; i++) {
		struct vio_chain c;
		struct vio_chain_seg segs[4];
		int rc = packed ? vio_devq_repop_packed(dq, copy[i].descs, copy[i].ndesc, &c, segs,
							4)
				: vio_devq_repop(dq, copy[i].head, &c, segs, 4);
		assert_int_equal(rc, 0);
		unsigned char fill[16];
		for (unsigned k = 0; k < sizeof(fill); k++)
			fill[k] = (unsigned char)(0x80 + i);
		assert_int_equal(vio_chain_write(&c, 0, fill, c.in_bytes), c.in_bytes);
		assert_int_equal(vio_device_queue_push(b->dev, 1, &c, c.in_bytes), 0);
	}
	void *tok;
	uint32_t len;
	unsigned got_old = 0, got_new = 0;
	while (rig_collect(a, 1, &tok, &len) == 0) {
		if (tok == &old_tok) {
			got_old++;
			continue;
		}
		unsigned i = (unsigned)((int *)tok - tokens);
		assert_true(i < 3);
		assert_int_equal(len, 10 + i);
		got_new++;
	}
	assert_int_equal(got_old, 2);
	assert_int_equal(got_new, 3);
	/* And new requests flow through the destination. */
	b->model.hold = false;
	a->mmio = b->mmio; /* the driver now talks to the destination */
	assert_int_equal(rig_submit(a, 1, 1, 7, &old_tok), 0);
	assert_int_equal(b->model.served, 1);
	assert_int_equal(rig_collect(a, 1, &tok, &len), 0);
	assert_int_equal(len, 7);

	free(blob);
	free(blob2);
	vio_device_reset(b->dev);
	rig_fini(b);
	rig_fini(a);
	free(a);
	free(b);
}

static void test_device_save_restore_split(void **state)
{
	(void)state;
	save_restore_inflight(false);
}

static void test_device_save_restore_packed(void **state)
{
	(void)state;
	save_restore_inflight(true);
}

/* A corrupted state is refused, whatever byte is damaged, and leaves the
 * device reset; an intact one still restores afterwards. */
static void test_device_restore_rejects_bad_blobs(void **state)
{
	(void)state;
	struct vio_features f = want_features(false);
	struct rig *r = calloc(1, sizeof(*r));
	rig_init(r, 1, 8, &f);
	assert_int_equal(rig_bringup(r, &f, 8), ST_LIVE);
	size_t n = vio_device_state_size(r->dev);
	unsigned char *blob = malloc(n), *bad = malloc(n);
	assert_int_equal(vio_device_save(r->dev, blob, n), 0);

	struct {
		size_t off;
		unsigned char val;
	} damage[] = {
		{0, 'X'},			   /* magic */
		{4, 2},				   /* version */
		{8, 9},				   /* device id */
		{12, 2},			   /* queue count */
		{14, 0x80},			   /* unknown flag */
		{16, 17},			   /* config size */
		{20, VIO_STATUS_DRIVER_OK | 1},	   /* DRIVER_OK without FEATURES_OK */
		{20, 32 | ST_LIVE},		   /* undefined status bit */
		{20, 1 | 2 | 8 | 16 | 4},	   /* SUSPEND with DRIVER_OK */
		{30, 1},			   /* reserved */
		{32, 0xff},			   /* features not offered */
		{36, 0},			   /* no VERSION_1 */
		{48 + RIG_CONFIG_SIZE + 4, 9},	   /* queue max */
		{48 + RIG_CONFIG_SIZE + 10, 2},	   /* ready not 0/1 */
		{48 + RIG_CONFIG_SIZE + 13, 1},	   /* reserved */
		{48 + RIG_CONFIG_SIZE + 0, 3},	   /* size invalid for split */
		{48 + RIG_CONFIG_SIZE + 24, 0x08}, /* ring outside memory */
		{48 + RIG_CONFIG_SIZE + 18, 9},	   /* more in flight than the size */
	};
	for (unsigned i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		memcpy(bad, blob, n);
		bad[damage[i].off] = damage[i].val;
		int rc = vio_device_restore(r->dev, bad, n);
		if (rc == 0)
			fail_msg("damage %u (offset %zu) accepted", i, damage[i].off);
		assert_int_equal(vio_device_status(r->dev), 0);
		assert_false(vio_device_queue_ready(r->dev, 0));
	}
	assert_int_equal(vio_device_restore(r->dev, blob, n - 1), -VIO_ESTATE_BLOB);
	assert_int_equal(vio_device_restore(r->dev, NULL, 0), -VIO_ESTATE_BLOB);
	/* A queue enabled before FEATURES_OK. */
	memcpy(bad, blob, n);
	bad[20] = 3;
	assert_int_equal(vio_device_restore(r->dev, bad, n), -VIO_ESTATE_BLOB);
	/* The intact blob still works. */
	assert_int_equal(vio_device_restore(r->dev, blob, n), 0);
	assert_int_equal(vio_device_status(r->dev), ST_LIVE);
	/* And the transport's wrapper refuses its own damage too. */
	size_t m = vio_mmio_dev_state_size(r->mmio);
	unsigned char *mb = malloc(m);
	assert_int_equal(vio_mmio_dev_save(r->mmio, mb, m), 0);
	mb[24] = 4; /* undefined interrupt bit */
	assert_int_equal(vio_mmio_dev_restore(r->mmio, mb, m), -VIO_ESTATE_BLOB);
	assert_int_equal(vio_device_status(r->dev), 0);
	assert_int_equal(vio_mmio_dev_interrupt_status(r->mmio), 0);
	free(mb);
	free(blob);
	free(bad);
	rig_fini(r);
	free(r);
}

static void test_device_set_mem_table(void **state)
{
	(void)state;
	struct vio_features f = want_features(false);
	struct rig *r = calloc(1, sizeof(*r));
	rig_init(r, 1, 8, &f);
	assert_int_equal(rig_bringup(r, &f, 8), ST_LIVE);
	/* A table that covers only the data arena: the rings are no longer
	 * reachable through it, but the map callback still is. */
	struct vio_mem_region t[1] = {{r->data_addr, 65536, r->data, VIO_MAP_RW}};
	assert_int_equal(vio_device_set_mem_table(r->dev, t, 1), 0);
	assert_int_equal(rig_submit(r, 0, 4, 4, r), 0);
	assert_int_equal(r->model.served, 1);
	/* With no map callback and a table that misses the rings, the queue
	 * keeps its old table. */
	r->gm.refuse_all = 1;
	assert_int_equal(vio_device_set_mem_table(r->dev, t, 1), -VIO_ERING_MAP);
	r->gm.refuse_all = 0;
	rig_fini(r);
	free(r);
}

/* A queue stopped at its position and enabled again there (vhost-user's
 * GET_VRING_BASE / SET_VRING_BASE) goes on where it was; a position the
 * ring in guest memory contradicts is refused with DEVICE_NEEDS_RESET. */
static void enable_at(bool packed)
{
	struct vio_features f = want_features(packed);
	struct rig *r = calloc(1, sizeof(*r));
	rig_init(r, 2, 8, &f);
	assert_int_equal(rig_bringup(r, &f, 8), ST_LIVE);
	struct vio_ring_state st, now;
	assert_int_equal(vio_device_queue_get_state(r->dev, 2, &st), -VIO_EQUEUE_STATE);
	void *tok;
	uint32_t len;
	unsigned got = 0;
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(rig_submit(r, 0, 2, 3, r), 0);
		assert_int_equal(rig_collect(r, 0, &tok, &len), 0);
		got++;
	}
	assert_int_equal(r->model.served, 5);
	assert_int_equal(vio_device_queue_get_state(r->dev, 0, &st), 0);
	/* Packed: 5 chains of 2 descriptors, 10 slots of 8: slot 2, wrapped once. */
	assert_int_equal(st.avail_idx, packed ? 2 : 5);
	assert_int_equal(st.avail_wrap, false);
	assert_int_equal(st.inflight, 0);
	/* Enabled already: refused, nothing changes. */
	assert_int_equal(vio_device_queue_enable_at(r->dev, 0, &st), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_device_queue_enable_at(r->dev, 0, NULL), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_device_queue_enable_at(r->dev, 9, &st), -VIO_EQUEUE_STATE);
	unsigned stops = r->model.queue_stops, enables = r->model.queue_enables;
	assert_int_equal(vio_device_queue_set_ready(r->dev, 0, false), 0);
	assert_int_equal(r->model.queue_stops, stops + 1);
	assert_int_equal(vio_device_queue_get_state(r->dev, 0, &now), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_device_queue_enable_at(r->dev, 0, &st), 0);
	assert_int_equal(r->model.queue_enables, enables + 1);
	assert_int_equal(vio_device_queue_get_state(r->dev, 0, &now), 0);
	assert_int_equal(now.avail_idx, st.avail_idx);
	assert_int_equal(now.used_idx, st.used_idx);
	assert_int_equal(now.avail_wrap, st.avail_wrap);
	assert_int_equal(now.used_wrap, st.used_wrap);
	/* The driver goes on: more requests, all completed, none lost. */
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(rig_submit(r, 0, 2, 3, r), 0);
		assert_int_equal(rig_collect(r, 0, &tok, &len), 0);
		assert_ptr_equal(tok, r);
		assert_int_equal(len, 3);
		got++;
	}
	assert_int_equal(r->model.served, 11);
	assert_int_equal(got, 11);
	assert_int_equal(vio_device_status(r->dev) & VIO_STATUS_DEVICE_NEEDS_RESET, 0);

	/* A position the ring contradicts: split, an avail index further than
	 * the queue size from the used index in guest memory; packed, a slot
	 * beyond the queue size. */
	assert_int_equal(vio_device_queue_set_ready(r->dev, 0, false), 0);
	struct vio_ring_state bad = st;
	if (packed)
		bad.avail_idx = 9;
	else
		bad.avail_idx = (uint16_t)(st.avail_idx + 100);
	assert_int_equal(vio_device_queue_enable_at(r->dev, 0, &bad), -VIO_EINVAL);
	assert_false(vio_device_queue_ready(r->dev, 0));
	assert_null(vio_device_queue(r->dev, 0));
	assert_true((vio_device_status(r->dev) & VIO_STATUS_DEVICE_NEEDS_RESET) != 0);
	rig_fini(r);
	free(r);
}

static void test_device_queue_enable_at_split(void **state)
{
	(void)state;
	enable_at(false);
}

static void test_device_queue_enable_at_packed(void **state)
{
	(void)state;
	enable_at(true);
}

/* The batch helpers: vio_device_queue_pop_batch() takes what the ring
 * has, vio_device_queue_push_chains() completes it with one notification
 * decision; a refused batch sets nothing, a broken queue DEVICE_NEEDS_RESET;
 * empty batches are no-ops. */
static void test_device_queue_batch(void **state)
{
	(void)state;
	struct vio_features f = want_features(false);
	struct rig *r = calloc(1, sizeof(*r));
	rig_init(r, 1, 8, &f);
	r->model.serve_on_notify = false;
	assert_int_equal(rig_bringup(r, &f, 8), ST_LIVE);
	struct vio_chain c[8];
	struct vio_chain_seg segs[8 * 4];
	uint32_t lens[8];
	int toks[3];
	assert_int_equal(vio_device_queue_pop_batch(r->dev, 1, c, segs, 4, 8), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_device_queue_push_chains(r->dev, 1, c, lens, 1), -VIO_EQUEUE_STATE);
	assert_int_equal(vio_device_queue_pop_batch(r->dev, 0, NULL, NULL, 4, 0), 0);
	assert_int_equal(vio_device_queue_pop_batch(r->dev, 0, c, segs, 4, 8), -VIO_EAGAIN);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(rig_submit(r, 0, 1, 2, &toks[i]), 0);
	assert_int_equal(vio_device_queue_pop_batch(r->dev, 0, c, segs, 4, 8), 3);
	for (unsigned i = 0; i < 3; i++)
		lens[i] = c[i].in_bytes - i;
	/* A length too many: refused, no reset, nothing to collect. */
	lens[2] = c[2].in_bytes + 1;
	unsigned raises = r->line_raises;
	assert_int_equal(vio_device_queue_push_chains(r->dev, 0, c, lens, 3), -VIO_EINVAL);
	assert_int_equal(vio_device_status(r->dev) & VIO_STATUS_DEVICE_NEEDS_RESET, 0);
	assert_int_equal(r->line_raises, raises);
	void *tok;
	uint32_t len;
	assert_int_equal(rig_collect(r, 0, &tok, &len), -VIO_EAGAIN);
	lens[2] = c[2].in_bytes - 2;
	assert_int_equal(vio_device_queue_push_chains(r->dev, 0, NULL, NULL, 0), 0);
	assert_int_equal(vio_device_queue_push_chains(r->dev, 0, c, lens, 3), 0);
	assert_int_equal(r->line_raises, raises + 1); /* one decision, one interrupt */
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(rig_collect(r, 0, &tok, &len), 0);
		assert_ptr_equal(tok, &toks[i]);
		assert_int_equal(len, lens[i]);
	}
	/* A broken queue: the error, and DEVICE_NEEDS_RESET. */
	assert_int_equal(rig_submit(r, 0, 1, 2, &toks[0]), 0);
	assert_int_equal(vio_device_queue_pop_batch(r->dev, 0, c, segs, 4, 8), 1);
	(void)vio_devq_fail(vio_device_queue(r->dev, 0), -VIO_EREQUEST);
	lens[0] = 0;
	assert_int_equal(vio_device_queue_push_chains(r->dev, 0, c, lens, 1), -VIO_EBROKEN);
	assert_true((vio_device_status(r->dev) & VIO_STATUS_DEVICE_NEEDS_RESET) != 0);
	assert_int_equal(vio_devq_drop(vio_device_queue(r->dev, 0), &c[0]), 0);
	rig_fini(r);
	free(r);
}

/* Queue hooks (a transport restoring chains in flight): start replaces the
 * core's set_state and may announce chains to re-submit; vio_device_queue_pop()
 * takes those first, passes the hook's errors through, and pops the ring
 * once the hook says -VIO_EAGAIN; stop runs before every release. */
struct hooks_rec {
	unsigned starts, resubmits, stops;
	int start_rc;
	int resubmit_rc[4]; /* results of successive resubmit calls */
	bool had_pos;
	struct vio_devq *last_dq;
};

static int h_start(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq,
		   const struct vio_ring_state *pos)
{
	struct hooks_rec *h = ctx;
	(void)dev;
	assert_int_equal(q, 0);
	h->starts++;
	h->had_pos = pos != NULL;
	h->last_dq = dq;
	if (pos != NULL && h->start_rc >= 0)
		assert_int_equal(vio_devq_set_state(dq, pos), 0);
	return h->start_rc;
}

static int h_resubmit(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq,
		      struct vio_chain *chain, struct vio_chain_seg *segs, uint16_t max_segs)
{
	struct hooks_rec *h = ctx;
	(void)dev, (void)q, (void)chain, (void)segs, (void)max_segs;
	assert_ptr_equal(dq, h->last_dq);
	return h->resubmit_rc[h->resubmits++ % 4u];
}

static void h_stop(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq)
{
	struct hooks_rec *h = ctx;
	(void)dev, (void)q;
	assert_ptr_equal(dq, h->last_dq);
	h->stops++;
}

static void test_device_queue_hooks(void **state)
{
	(void)state;
	struct vio_features f = want_features(false);
	struct rig *r = calloc(1, sizeof(*r));
	rig_init(r, 1, 8, &f);
	r->model.serve_on_notify = false;
	static const struct vio_device_queue_hooks hooks = {h_start, h_resubmit, h_stop};
	struct hooks_rec h = {0};
	h.start_rc = 1;
	h.resubmit_rc[0] = -VIO_ENOSPC;
	h.resubmit_rc[1] = -VIO_EAGAIN;
	vio_device_set_queue_hooks(r->dev, &hooks, &h);
	assert_int_equal(rig_bringup(r, &f, 8), ST_LIVE);
	assert_int_equal(h.starts, 1);
	assert_false(h.had_pos);
	assert_true(vio_device_queue_resubmitting(r->dev, 0));
	assert_false(vio_device_queue_resubmitting(r->dev, 1));
	struct vio_chain c;
	struct vio_chain_seg segs[4];
	assert_int_equal(vio_device_queue_pop(r->dev, 1, &c, segs, 4), -VIO_EQUEUE_STATE);
	assert_int_equal(rig_submit(r, 0, 2, 3, r), 0);
	/* The hook's error passes through; the chain stays to be re-submitted. */
	assert_int_equal(vio_device_queue_pop(r->dev, 0, &c, segs, 4), -VIO_ENOSPC);
	assert_true(vio_device_queue_resubmitting(r->dev, 0));
	/* None left: the ring's chain. */
	assert_int_equal(vio_device_queue_pop(r->dev, 0, &c, segs, 4), 0);
	assert_false(vio_device_queue_resubmitting(r->dev, 0));
	assert_int_equal(h.resubmits, 2);
	assert_int_equal(vio_device_queue_pop(r->dev, 0, &c, segs, 4), -VIO_EAGAIN);
	assert_int_equal(h.resubmits, 2);
	assert_int_equal(vio_device_queue_push(r->dev, 0, &c, 3), 0);
	void *tok;
	uint32_t len;
	assert_int_equal(rig_collect(r, 0, &tok, &len), 0);
	assert_int_equal(len, 3);

	/* Disable: stop before the release; enable_at hands the position. */
	struct vio_ring_state st;
	assert_int_equal(vio_device_queue_get_state(r->dev, 0, &st), 0);
	assert_int_equal(vio_device_queue_set_ready(r->dev, 0, false), 0);
	assert_int_equal(h.stops, 1);
	h.start_rc = 0;
	assert_int_equal(vio_device_queue_enable_at(r->dev, 0, &st), 0);
	assert_int_equal(h.starts, 2);
	assert_true(h.had_pos);
	assert_false(vio_device_queue_resubmitting(r->dev, 0));
	struct vio_ring_state now;
	assert_int_equal(vio_device_queue_get_state(r->dev, 0, &now), 0);
	assert_int_equal(now.avail_idx, st.avail_idx);

	/* A start the hook refuses: released (stop runs), DEVICE_NEEDS_RESET. */
	assert_int_equal(vio_device_queue_set_ready(r->dev, 0, false), 0);
	assert_int_equal(h.stops, 2);
	h.start_rc = -VIO_EINFLIGHT_LINK;
	assert_int_equal(vio_device_queue_enable_at(r->dev, 0, &st), -VIO_EINFLIGHT_LINK);
	assert_int_equal(h.stops, 3);
	assert_false(vio_device_queue_ready(r->dev, 0));
	assert_null(vio_device_queue(r->dev, 0));
	assert_true((vio_device_status(r->dev) & VIO_STATUS_DEVICE_NEEDS_RESET) != 0);
	vio_device_set_queue_hooks(r->dev, NULL, NULL);
	rig_fini(r);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_init_rejects_bad_info),
		cmocka_unit_test(test_device_offer_depends_on_transport),
		cmocka_unit_test(test_device_vectors_and_notify_off),
		cmocka_unit_test(test_device_save_restore_split),
		cmocka_unit_test(test_device_save_restore_packed),
		cmocka_unit_test(test_device_restore_rejects_bad_blobs),
		cmocka_unit_test(test_device_set_mem_table),
		cmocka_unit_test(test_device_queue_enable_at_split),
		cmocka_unit_test(test_device_queue_enable_at_packed),
		cmocka_unit_test(test_device_queue_batch),
		cmocka_unit_test(test_device_queue_hooks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
