/* SPDX-License-Identifier: MIT */
/* virtio-mmio front: the probe (§4.2.3.1.1), access discipline (§4.2.2.2:
 * widths, directions, nothing outside the window), and round trips of the
 * driver core + front + a real driver queue against a fake device whose
 * queue is the ring's device half (split and packed). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "drv_fixture.h"
#include "guest_mem.h"

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -1;
	fx_init(x, VIO_ID_RNG, 1, 128);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static int probe(struct fx *x, uint32_t window)
{
	return vio_mmio_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &fake_mmio_bus,
				    &x->m, window);
}

/* ---- probe ------------------------------------------------------------------------------- */

static void test_probe_identifies(void **state)
{
	struct fx *x = *state;
	assert_int_equal(probe(x, x->m.window), 0);
	assert_int_equal(vio_mmio_front_device_id(x->front), VIO_ID_RNG);
	assert_int_equal(vio_mmio_front_vendor_id(x->front), 0x554d4551);
	assert_int_equal(vio_mmio_front_config_size(x->front), FM_CONFIG_MAX);
	/* Magic, version, ID: nothing else, nothing written. */
	assert_int_equal(x->m.reads, 4);
	assert_int_equal(x->m.writes, 0);
}

static void test_probe_bad_magic(void **state)
{
	struct fx *x = *state;
	x->m.magic = 0x76697274; /* "virt" byte-swapped: a big-endian accessor bug */
	assert_int_equal(probe(x, x->m.window), -VIO_ENOT_VIRTIO);
	assert_int_equal(x->m.reads, 1);
}

static void test_probe_refuses_legacy_and_unknown(void **state)
{
	struct fx *x = *state;
	/* A legacy device: DeviceID (0x008 in both layouts) is read, then refused. */
	x->m.version = 1;
	assert_int_equal(probe(x, x->m.window), -VIO_ELEGACY);
	assert_int_equal(x->m.reads, 3);
	assert_int_equal(x->m.writes, 0);
	/* An unknown version: its layout is unknown, so nothing past Version. */
	const uint32_t versions[] = {0, 3, 0xffffffffu};
	for (unsigned i = 0; i < 3; i++) {
		x->m.version = versions[i];
		x->m.reads = 0;
		assert_int_equal(probe(x, x->m.window), -VIO_ELEGACY);
		assert_int_equal(x->m.reads, 2);
	}
	assert_int_equal(x->m.writes, 0);
}

/* QEMU's empty virtio-mmio slots read version 1 with DeviceID 0: a
 * placeholder whatever the version (§4.2.2.2), so a scan skips it silently. */
static void test_probe_empty_legacy_slot_is_no_device(void **state)
{
	struct fx *x = *state;
	x->m.version = 1;
	x->m.device_id = 0;
	assert_int_equal(probe(x, x->m.window), -VIO_ENODEV);
	assert_int_equal(x->m.reads, 3);
	assert_int_equal(x->m.writes, 0);
	assert_int_equal(x->m.after_placeholder, 0);
	/* Unknown versions are not read further, DeviceID 0 or not. */
	x->m.version = 3;
	x->m.reads = 0;
	assert_int_equal(probe(x, x->m.window), -VIO_ELEGACY);
	assert_int_equal(x->m.reads, 2);
}

static void test_probe_placeholder_touches_nothing_else(void **state)
{
	struct fx *x = *state;
	x->m.device_id = 0;
	assert_int_equal(probe(x, x->m.window), -VIO_ENODEV);
	assert_false(vio_err_is_peer(-VIO_ENODEV));
	assert_int_equal(x->m.reads, 3);
	assert_int_equal(x->m.writes, 0);
	assert_int_equal(x->m.after_placeholder, 0);
}

static void test_probe_bad_args(void **state)
{
	struct fx *x = *state;
	assert_int_equal(probe(x, 0xff), -VIO_EINVAL);
	struct vio_mmio_bus nobus = {0};
	assert_int_equal(vio_mmio_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &nobus,
					      &x->m, 0x200),
			 -VIO_EINVAL);
	assert_int_equal(vio_mmio_front_probe(&x->front, x->front_mem + 1, sizeof(x->front_mem) - 1,
					      &fake_mmio_bus, &x->m, 0x200),
			 -VIO_EINVAL);
	assert_int_equal(x->m.reads, 0);
}

/* ---- access discipline --------------------------------------------------------------------- */

static void test_config_stays_in_window(void **state)
{
	struct fx *x = *state;
	x->m.window = 0x108; /* 8 bytes of configuration space */
	assert_int_equal(fx_negotiate(x), 0);
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 4, 4, &v), 0);
	assert_int_equal(vio_drv_config_read(x->drv, 0, 8, &v), 0);
	assert_int_equal(vio_drv_config_read(x->drv, 8, 1, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, 4, 8, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, 7, 1, &v), 0);
	unsigned char b[9];
	assert_int_equal(vio_drv_config_read_bytes(x->drv, 0, b, 9), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_write(x->drv, 6, 4, 0), -VIO_EINVAL);
	assert_int_equal(fake_mmio_violations(&x->m), 0);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FEATURES_OK);
}

static void test_config_needs_narrow_accessors(void **state)
{
	struct fx *x = *state;
	struct vio_mmio_bus bus = fake_mmio_bus;
	bus.read16 = NULL;
	bus.write8 = NULL;
	assert_int_equal(vio_mmio_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &bus,
					      &x->m, x->m.window),
			 0);
	vio_mmio_front_drv_config(x->front, &x->cfg);
	assert_int_equal(vio_drv_init(&x->drv, x->drv_mem, sizeof(x->drv_mem), &x->cfg), 0);
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	uint64_t v;
	/* A 16-bit field cannot be read as 32 bits (§4.2.2.2): refused. */
	assert_int_equal(vio_drv_config_read(x->drv, 0, 2, &v), -VIO_EINVAL);
	assert_int_equal(vio_drv_config_read(x->drv, 0, 1, &v), 0);
	assert_int_equal(vio_drv_config_write(x->drv, 0, 1, 1), -VIO_EINVAL);
	assert_int_equal(fake_mmio_violations(&x->m), 0);
}

static bool lie_magic_after_probe(struct fake_mmio *m, uint32_t off, uint32_t *val)
{
	if (off == VIO_MMIO_MAGIC_VALUE && m->reads > 4) {
		*val = 0;
		return true;
	}
	return false;
}

static void test_hostile_identity_changes(void **state)
{
	struct fx *x = *state;
	x->m.read_hook = lie_magic_after_probe;
	assert_int_equal(fx_negotiate(x), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_IDENTIFY);
	assert_true(fx_failed_written(x));
}

static void test_full_bring_up_is_disciplined(void **state)
{
	struct fx *x = *state;
	assert_int_equal(fx_live(x), 0);
	fake_mmio_raise(&x->m, VIO_MMIO_INT_VRING | VIO_MMIO_INT_CONFIG);
	assert_int_equal(vio_drv_interrupt(x->drv, NULL), 0);
	assert_int_equal(vio_drv_queue_reset(x->drv, 0), 0);
	assert_int_equal(vio_drv_queue_reenable(x->drv, 0), 0);
	assert_int_equal(vio_drv_freeze(x->drv), 0);
	assert_int_equal(vio_drv_restore(x->drv), 0);
	assert_int_equal(vio_drv_reset(x->drv), 0);
	/* Only defined registers, 32-bit aligned, in their direction, inside the window. */
	assert_int_equal(fake_mmio_violations(&x->m), 0);
	assert_true(x->m.reads > 20);
}

/* ---- round trip: driver core + front + vio_vq against a vio_devq device ---------------------- */

/* The device: on QueueReady it builds its queue half over the programmed
 * addresses; on a notify it answers each request with the complement of
 * its bytes and raises a used-buffer interrupt. */
struct dev {
	struct guest_mem gm;
	struct vio_devq *dq;
	void *dq_mem;
	unsigned served, notifies;
	uint32_t last_notify;
	int err;
};

static void dev_on_ready(struct fake_mmio *m, unsigned qi)
{
	struct dev *d = m->user;
	struct vio_devq_config c = {0};
	bool packed = vio_features_test(&m->accepted, VIO_F_RING_PACKED);
	c.format = packed ? VIO_RING_PACKED : VIO_RING_SPLIT;
	c.size = (uint16_t)m->q[qi].num;
	c.index = (uint16_t)qi;
	c.features = m->accepted;
	c.desc_addr = m->q[qi].desc;
	c.driver_addr = m->q[qi].driver;
	c.device_addr = m->q[qi].device;
	c.mem_ops = &gm_dev_ops;
	c.mem_ctx = &d->gm;
	size_t sz = vio_devq_mem_size(c.format, c.size);
	free(d->dq_mem);
	d->dq_mem = aligned_alloc(8, (sz + 7) & ~(size_t)7);
	d->err = vio_devq_init(&d->dq, d->dq_mem, sz, &c);
}

static void dev_on_notify(struct fake_mmio *m, uint32_t value)
{
	struct dev *d = m->user;
	d->notifies++;
	d->last_notify = value;
	if (d->dq == NULL || d->err != 0)
		return;
	struct vio_chain_seg segs[8];
	struct vio_chain ch;
	int rc;
again:
	while ((rc = vio_devq_pop(d->dq, &ch, segs, 8)) == 0) {
		unsigned char in[64], out[64];
		size_t n = vio_chain_read(&ch, 0, in, ch.out_bytes < 64 ? ch.out_bytes : 64);
		for (size_t i = 0; i < n; i++)
			out[i] = (unsigned char)~in[i];
		if (ch.out_bytes == 0) { /* an entropy request: fill it */
			n = ch.in_bytes < 64 ? ch.in_bytes : 64;
			for (size_t i = 0; i < n; i++)
				out[i] = (unsigned char)(i * 13 + 1);
		}
		size_t w = vio_chain_write(&ch, 0, out, n < ch.in_bytes ? n : ch.in_bytes);
		if ((rc = vio_devq_push(d->dq, &ch, (uint32_t)w)) != 0)
			break;
		d->served++;
	}
	if (rc != -VIO_EAGAIN) {
		d->err = rc;
		return;
	}
	/* Out of work: ask for the next kick; re-check what came meanwhile. */
	if (!vio_devq_enable_notify(d->dq))
		goto again;
	if (vio_devq_needs_notify(d->dq))
		fake_mmio_raise(m, VIO_MMIO_INT_VRING);
}

struct reaper {
	unsigned got;
	unsigned bad;
	unsigned char (*resp)[32];
};

static void reap(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq)
{
	(void)drv;
	(void)index;
	struct reaper *r = ctx;
	void *tok;
	uint32_t len;
	while (vio_vq_get(vq, &tok, &len) == 0) {
		unsigned i = (unsigned)(uintptr_t)tok - 1;
		if (len != 32)
			r->bad++;
		for (unsigned k = 0; k < 32; k++)
			if (r->resp[i][k] != (unsigned char)~(unsigned char)(i * 7 + k))
				r->bad++;
		r->got++;
	}
}

static void round_trip(enum vio_ring_format format, bool notification_data)
{
	struct fx *x = calloc(1, sizeof(*x));
	struct dev *d = calloc(1, sizeof(*d));
	assert_non_null(x);
	assert_non_null(d);
	fx_init(x, VIO_ID_RNG, 1, 256);
	gm_init(&d->gm);
	x->m.user = d;
	x->m.on_ready = dev_on_ready;
	x->m.on_notify = dev_on_notify;
	if (!notification_data)
		vio_features_clear(&x->m.offered, VIO_F_NOTIFICATION_DATA);
	if (format == VIO_RING_PACKED)
		vio_features_set(&x->cfg.features, VIO_F_RING_PACKED);
	struct reaper r = {0};
	x->cb.queue_interrupt = reap;
	x->cfg.cb_ctx = &r;
	x->cb.validate = NULL;
	x->cb.config_changed = NULL;
	x->cb.needs_reset = NULL;
	/* The driver converts through the fake guest memory: the device sees
	 * addresses that are not host pointers. */
	x->cfg.dma_ops = &gm_drv_ops;
	x->cfg.dma_ctx = &d->gm;

	assert_int_equal(fx_negotiate(x), 0);
	assert_int_equal(vio_drv_ring_format(x->drv), format);
	const uint16_t qsize = 16;
	uint64_t ignored;
	void *ring = gm_alloc(&d->gm, VIO_DRV_RING_SIZE(qsize), 16, &ignored);
	unsigned char(*req)[32] = gm_alloc(&d->gm, 40 * 32, 16, &ignored);
	r.resp = gm_alloc(&d->gm, 40 * 32, 16, &ignored);
	void *vq_mem = aligned_alloc(8, VIO_VQ_MEM_SIZE(qsize));
	struct vio_drv_queue_config qc = {0};
	qc.size = qsize;
	qc.ring = ring;
	qc.vq_mem = vq_mem;
	qc.vq_mem_size = VIO_VQ_MEM_SIZE(qsize);
	struct vio_vq *vq;
	assert_int_equal(vio_drv_queue_setup(x->drv, 0, &qc, &vq), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(d->err, 0);
	assert_non_null(d->dq);

	/* 40 two-segment requests in batches of 5 through a queue of 16. */
	for (unsigned b = 0; b < 8; b++) {
		for (unsigned i = b * 5; i < b * 5 + 5; i++) {
			for (unsigned k = 0; k < 32; k++)
				req[i][k] = (unsigned char)(i * 7 + k);
			memset(r.resp[i], 0, 32);
			struct vio_sg sg[2] = {{req[i], 32}, {r.resp[i], 32}};
			assert_int_equal(vio_vq_add(vq, sg, 1, 1, (void *)(uintptr_t)(i + 1)), 0);
		}
		assert_int_equal(vio_drv_kick(x->drv, 0), 0);
		uint32_t causes;
		assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
		assert_int_equal(causes, VIO_DRV_INT_VRING);
		assert_int_equal(r.got, b * 5 + 5);
	}
	assert_int_equal(d->err, 0);
	assert_int_equal(d->served, 40);
	assert_int_equal(r.bad, 0);
	if (notification_data)
		assert_int_equal(vio_notify_data_vq(d->last_notify), 0);
	else
		assert_int_equal(d->last_notify, 0);
	assert_int_equal(fake_mmio_violations(&x->m), 0);

	/* Reset: the ring conversions are released; the device forgets the queue. */
	assert_int_equal(vio_drv_reset(x->drv), 0);
	void *tok;
	assert_int_equal(vio_vq_detach_unused(vq, &tok), -VIO_EAGAIN);
	free(vq_mem);
	free(d->dq_mem);
	gm_free(&d->gm);
	free(d);
	free(x);
}

static void test_round_trip_split(void **state)
{
	(void)state;
	round_trip(VIO_RING_SPLIT, false);
	round_trip(VIO_RING_SPLIT, true);
}

static void test_round_trip_packed(void **state)
{
	(void)state;
	round_trip(VIO_RING_PACKED, false);
	round_trip(VIO_RING_PACKED, true);
}

/* ---- the bare-metal author's program ---------------------------------------------------------- */

/* What a guest without an OS writes to drive an entropy device at a fixed
 * address: static memory, register accessors, one queue, one buffer, an
 * interrupt. On real hardware `regs` is the device's base and the accessors
 * are volatile loads and stores; here they reach the fake register file. */
static struct fake_mmio *bm_dev;
static struct dev bm_devstate;

static uint32_t bm_read32(void *ctx, uint32_t off)
{
	return fake_mmio_bus.read32(ctx, off);
}

static void bm_write32(void *ctx, uint32_t off, uint32_t v)
{
	fake_mmio_bus.write32(ctx, off, v);
}

static unsigned bm_got;

static void bm_used(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq)
{
	(void)ctx;
	(void)drv;
	(void)index;
	void *tok;
	uint32_t len;
	while (vio_vq_get(vq, &tok, &len) == 0)
		bm_got += len;
}

static void test_bare_metal_program(void **state)
{
	(void)state;
	static struct fake_mmio dev;
	fake_mmio_init(&dev, VIO_ID_RNG, 1, 8);
	bm_dev = &dev;
	memset(&bm_devstate, 0, sizeof(bm_devstate));
	gm_init(&bm_devstate.gm);
	dev.user = &bm_devstate;
	dev.on_ready = dev_on_ready;
	dev.on_notify = dev_on_notify;

	/* --- the driver author's code starts here --- */
	static const struct vio_mmio_bus bus = {.read32 = bm_read32, .write32 = bm_write32};
	static _Alignas(8) unsigned char front_mem[VIO_MMIO_FRONT_MEM_SIZE];
	static _Alignas(8) unsigned char drv_mem[VIO_DRV_MEM_SIZE(1)];
	static _Alignas(8) unsigned char vq_mem[VIO_VQ_MEM_SIZE(8)];
	static const struct vio_drv_callbacks cb = {.queue_interrupt = bm_used};
	struct vio_mmio_front *front;
	struct vio_drv *drv;
	struct vio_vq *vq;

	int rc = vio_mmio_front_probe(&front, front_mem, sizeof(front_mem), &bus, &dev, 0x200);
	assert_int_equal(rc, 0); /* -VIO_ENODEV: empty slot, skip silently */

	struct vio_drv_config cfg = {0};
	vio_mmio_front_drv_config(front, &cfg);
	cfg.num_queues = 1;
	cfg.device_id = VIO_ID_RNG;
	cfg.cb = &cb;
	cfg.dma_ops = &gm_drv_ops; /* bare metal: NULL (identity) */
	cfg.dma_ctx = &bm_devstate.gm;
	assert_int_equal(vio_drv_init(&drv, drv_mem, sizeof(drv_mem), &cfg), 0);
	assert_int_equal(vio_drv_negotiate(drv), 0);

	/* The ring must be device-visible: here from the fake guest memory. */
	uint64_t ignored;
	void *ring = gm_alloc(&bm_devstate.gm, VIO_DRV_RING_SIZE(8), 16, &ignored);
	unsigned char *entropy = gm_alloc(&bm_devstate.gm, 32, 16, &ignored);
	struct vio_drv_queue_config qc = {
		.size = 8, .ring = ring, .vq_mem = vq_mem, .vq_mem_size = sizeof(vq_mem)};
	assert_int_equal(vio_drv_queue_setup(drv, 0, &qc, &vq), 0);
	assert_int_equal(vio_drv_ready(drv), 0);

	struct vio_sg sg = {entropy, 32};
	assert_int_equal(vio_vq_add(vq, &sg, 0, 1, entropy), 0);
	assert_int_equal(vio_drv_kick(drv, 0), 0);
	/* ... the interrupt line fires; the handler: */
	assert_int_equal(vio_drv_interrupt(drv, NULL), 0);
	/* --- end of the author's code --- */

	assert_int_equal(bm_devstate.err, 0);
	assert_int_equal(bm_got, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(entropy[i], (unsigned char)(i * 13 + 1));
	assert_int_equal(bm_devstate.served, 1);
	assert_int_equal(fake_mmio_violations(&dev), 0);
	free(bm_devstate.dq_mem);
	gm_free(&bm_devstate.gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_probe_identifies),
		T(test_probe_bad_magic),
		T(test_probe_refuses_legacy_and_unknown),
		T(test_probe_empty_legacy_slot_is_no_device),
		T(test_probe_placeholder_touches_nothing_else),
		T(test_probe_bad_args),
		T(test_config_stays_in_window),
		T(test_config_needs_narrow_accessors),
		T(test_hostile_identity_changes),
		T(test_full_bring_up_is_disciplined),
		cmocka_unit_test(test_round_trip_split),
		cmocka_unit_test(test_round_trip_packed),
		cmocka_unit_test(test_bare_metal_program),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
