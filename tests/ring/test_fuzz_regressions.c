/* SPDX-License-Identifier: MIT */
/*
 * Regression tests for bugs found by the libFuzzer harnesses in fuzz/. One
 * test per bug, named after what broke; each names the reproducer kept in
 * fuzz/corpus/<harness>/ (replayed by the fuzz_replay_* CTest entries).
 *
 * Self-contained: identity addresses on both sides (the device "maps" an
 * address by using it as a host pointer).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdalign.h>
#include <stdbool.h>
#include <string.h>

#include <virtio/virtio.h>

#define QSIZE 8

/* The device sees host addresses: one region from address 1 to the end of
 * the address space but its last byte (a region may not wrap 2^64). */
static const struct vio_mem_region identity_region = {1, UINT64_MAX - 1, (void *)(uintptr_t)1,
						      VIO_MAP_RW};

struct pair {
	alignas(16) unsigned char desc[16 * QSIZE];
	alignas(4) unsigned char driver[4];
	alignas(4) unsigned char device[4];
	alignas(8) unsigned char vqmem[4096];
	alignas(8) unsigned char dqmem[4096];
	struct vio_vq *vq;
	struct vio_devq *dq;
};

/* A packed driver queue and a device queue on the same ring. */
static void packed_pair(struct pair *p, bool in_order)
{
	struct vio_features f = vio_features_none();
	vio_features_set(&f, VIO_F_RING_PACKED);
	if (in_order)
		vio_features_set(&f, VIO_F_IN_ORDER);

	struct vio_vq_config vc;
	memset(&vc, 0, sizeof(vc));
	vc.format = VIO_RING_PACKED;
	vc.size = QSIZE;
	vc.features = f;
	vc.desc = p->desc;
	vc.driver_area = p->driver;
	vc.device_area = p->device;
	assert_true(vio_vq_mem_size(&vc) <= sizeof(p->vqmem));
	assert_int_equal(vio_vq_init(&p->vq, p->vqmem, sizeof(p->vqmem), &vc), 0);

	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = VIO_RING_PACKED;
	dc.size = QSIZE;
	dc.features = f;
	assert_int_equal(vio_vq_ring_addrs(p->vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr),
			 0);
	dc.regions = &identity_region;
	dc.nregions = 1;
	assert_true(vio_devq_mem_size(VIO_RING_PACKED, QSIZE) <= sizeof(p->dqmem));
	assert_int_equal(vio_devq_init(&p->dq, p->dqmem, sizeof(p->dqmem), &dc), 0);
}

/*
 * fuzz_vq_packed_used / fuzz_diff, reproducer
 * fuzz/corpus/fuzz_vq_packed_used/regress-packed-enable-intr-in-order-batch:
 * with IN_ORDER the device completes two buffers with one used descriptor;
 * the driver reaps the first and calls vio_vq_enable_intr(). The second
 * buffer is still waiting to be reaped (vio_vq_has_used() says so), and the
 * device will not notify again for it, yet enable_intr returned true
 * ("nothing pending"): a driver that sleeps on that answer never reaps it.
 */
static void test_fuzz_regressions_packed_enable_intr_mid_in_order_batch(void **state)
{
	(void)state;
	static struct pair p;
	packed_pair(&p, true);

	unsigned char a[32], b[32];
	struct vio_sg sa = {a, sizeof(a)}, sb = {b, sizeof(b)};
	assert_int_equal(vio_vq_add(p.vq, &sa, 0, 1, &sa), 0);
	assert_int_equal(vio_vq_add(p.vq, &sb, 0, 1, &sb), 0);

	struct vio_chain c[2];
	struct vio_chain_seg segs[QSIZE];
	assert_int_equal(vio_devq_pop(p.dq, &c[0], segs, QSIZE), 0);
	assert_int_equal(vio_devq_pop(p.dq, &c[1], segs, QSIZE), 0);
	struct vio_used u[2] = {{&c[0], c[0].in_bytes}, {&c[1], 7}};
	assert_int_equal(vio_devq_push_in_order(p.dq, u, 2), 0);

	void *token = NULL;
	uint32_t len = 0;
	vio_vq_disable_intr(p.vq);
	assert_int_equal(vio_vq_get(p.vq, &token, &len), 0);
	assert_ptr_equal(token, &sa);
	assert_int_equal(len, sizeof(a));

	/* The second buffer of the batch is pending... */
	assert_true(vio_vq_has_used(p.vq));
	/* ...so enabling interrupts must not report "nothing pending". */
	assert_false(vio_vq_enable_intr(p.vq));
	assert_false(vio_vq_enable_intr_delayed(p.vq));

	assert_int_equal(vio_vq_get(p.vq, &token, &len), 0);
	assert_ptr_equal(token, &sb);
	assert_int_equal(len, 7);
	assert_true(vio_vq_enable_intr(p.vq));
	assert_int_equal(vio_vq_get(p.vq, &token, &len), -VIO_EAGAIN);
}

/* Add one buffer, let the device complete it, reap it. */
static void round_trip(struct pair *p, void *token)
{
	static unsigned char buf[16];
	struct vio_sg sg = {buf, sizeof(buf)};
	struct vio_chain c;
	struct vio_chain_seg segs[QSIZE];
	void *t = NULL;
	uint32_t len = 0;
	assert_int_equal(vio_vq_add(p->vq, &sg, 0, 1, token), 0);
	assert_int_equal(vio_devq_pop(p->dq, &c, segs, QSIZE), 0);
	assert_int_equal(vio_devq_push(p->dq, &c, 3), 0);
	assert_int_equal(vio_vq_get(p->vq, &t, &len), 0);
	assert_ptr_equal(t, token);
	assert_int_equal(len, 3);
}

/*
 * fuzz_vq_packed_used, reproducer
 * fuzz/corpus/fuzz_vq_packed_used/regress-packed-failed-add-phantom-used:
 * a packed add that fails after writing some descriptors of its list (here:
 * the lengths add up past 2^32, -VIO_EINVAL; a failing to_device callback
 * does the same) "withdraws" them by setting their flags to 0. Under wrap
 * counter 0, flags 0 (AVAIL = USED = 0) is exactly how a *used* descriptor
 * looks, so once the driver's used position reaches such a slot it takes
 * it for a completion: has_used() turns true with nothing completed and
 * vio_vq_get() fails with -VIO_EUSED_STALE, breaking a queue whose device
 * did nothing wrong.
 */
static void test_fuzz_regressions_packed_failed_add_phantom_used(void **state)
{
	(void)state;
	static struct pair p;
	packed_pair(&p, false);

	/* One lap, so the ring wrap counters are 0. */
	for (unsigned i = 0; i < QSIZE; i++)
		round_trip(&p, &p.vq);

	/* A list of three whose lengths overflow at the third: the second
	 * descriptor was already written when the add gives up. */
	static unsigned char a[4];
	struct vio_sg sg[3] = {{a, 0x80000000u}, {a, 0x7fffffffu}, {a, 2}};
	assert_int_equal(vio_vq_add(p.vq, sg, 3, 0, &sg), -VIO_EINVAL);
	assert_int_equal(vio_vq_num_free(p.vq), QSIZE);

	/* One buffer in the head slot; the withdrawn slot follows it. */
	round_trip(&p, &p.dq);

	/* Nothing else was completed. */
	void *t = NULL;
	uint32_t len = 0;
	assert_false(vio_vq_has_used(p.vq));
	assert_int_equal(vio_vq_get(p.vq, &t, &len), -VIO_EAGAIN);
	assert_false(vio_vq_is_broken(p.vq));
	/* And the ring keeps working. */
	round_trip(&p, &p.vq);
}

/*
 * fuzz_vq_split_used, reproducer
 * fuzz/corpus/fuzz_vq_split_used/regress-split-enable-intr-stale-used-idx:
 * two buffers complete, the driver reaps one, then the device moves
 * used->idx back. vio_vq_enable_intr() looked only at the index and said
 * "nothing pending" while vio_vq_has_used() still knew of a completion.
 */
static void test_fuzz_regressions_split_enable_intr_used_idx_moved_back(void **state)
{
	(void)state;
	static _Alignas(16) unsigned char ring[4096];
	static _Alignas(8) unsigned char vqmem[4096], dqmem[4096];
	memset(ring, 0, sizeof(ring));
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	c.format = VIO_RING_SPLIT;
	c.size = 4;
	c.desc = ring;
	c.driver_area = ring + 1024;
	c.device_area = ring + 2048;
	struct vio_vq *vq;
	assert_int_equal(vio_vq_init(&vq, vqmem, sizeof(vqmem), &c), 0);
	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = VIO_RING_SPLIT;
	dc.size = 4;
	dc.regions = &identity_region;
	dc.nregions = 1;
	assert_int_equal(vio_vq_ring_addrs(vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr), 0);
	struct vio_devq *dq;
	assert_int_equal(vio_devq_init(&dq, dqmem, sizeof(dqmem), &dc), 0);

	unsigned char a[16], b[16];
	struct vio_sg sa = {a, sizeof(a)}, sb = {b, sizeof(b)};
	assert_int_equal(vio_vq_add(vq, &sa, 0, 1, &sa), 0);
	assert_int_equal(vio_vq_add(vq, &sb, 0, 1, &sb), 0);
	for (int i = 0; i < 2; i++) {
		struct vio_chain ch;
		struct vio_chain_seg seg;
		assert_int_equal(vio_devq_pop(dq, &ch, &seg, 1), 0);
		assert_int_equal(vio_devq_push(dq, &ch, 0), 0);
	}
	void *token;
	uint32_t len;
	assert_int_equal(vio_vq_get(vq, &token, &len), 0);
	assert_ptr_equal(token, &sa);

	struct vio_split_used *u = c.device_area;
	u->idx = vio_le16_make(1); /* the device moves its index back */
	assert_true(vio_vq_has_used(vq));
	assert_false(vio_vq_enable_intr(vq));
	assert_int_equal(vio_vq_get(vq, &token, &len), 0);
	assert_ptr_equal(token, &sb);
}

/*
 * fuzz_devq_packed and fuzz/gen_corpus.c (no corpus reproducer: this test is
 * the minimal one): vio_devq_drop() freed the chain's id although the chain stays in flight
 * for the ring, so a driver offering that id again was accepted. Each such
 * pop raised vio_ring_state::inflight past the chains really held, until
 * it exceeded the queue size and vio_devq_set_state() refused what
 * vio_devq_get_state() had returned (a handover with chains in flight
 * failed). The re-offer is now -VIO_EDESC_INFLIGHT, as for a held chain.
 */
static void test_fuzz_regressions_packed_reoffer_dropped_id(void **state)
{
	(void)state;
	static struct pair p;
	memset(&p, 0, sizeof(p));
	packed_pair(&p, false);
	static unsigned char buf[16];
	struct vio_sg sg = {buf, sizeof(buf)};
	assert_int_equal(vio_vq_add(p.vq, &sg, 1, 0, buf), 0);

	struct vio_chain c;
	struct vio_chain_seg segs[QSIZE];
	assert_int_equal(vio_devq_pop(p.dq, &c, segs, QSIZE), 0);
	assert_int_equal(vio_devq_drop(p.dq, &c), 0);
	/* A hostile driver offers the same buffer id in the next slot. */
	memcpy(p.desc + 16, p.desc, 16);
	assert_int_equal(vio_devq_pop(p.dq, &c, segs, QSIZE), -VIO_EDESC_INFLIGHT);

	struct vio_ring_state st;
	vio_devq_get_state(p.dq, &st);
	assert_int_equal(st.inflight, 1);
	assert_int_equal(vio_devq_set_state(p.dq, &st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_regressions_split_enable_intr_used_idx_moved_back),
		cmocka_unit_test(test_fuzz_regressions_packed_enable_intr_mid_in_order_batch),
		cmocka_unit_test(test_fuzz_regressions_packed_failed_add_phantom_used),
		cmocka_unit_test(test_fuzz_regressions_packed_reoffer_dropped_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
