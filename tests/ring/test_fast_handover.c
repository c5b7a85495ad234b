/* SPDX-License-Identifier: MIT */
/* The hot paths (lib/ring/vq_hot.h, devq_hot.h) meet hostile input first
 * when the device has a region table (and the driver no DMA hooks): each case here is one a fast path
 * must hand over to the general code, which must then report exactly what
 * the general code reports without a fast path (the same codes
 * test_devq_hostile and the driver-side tests check through the map
 * callback). Rings are written by hand (raw_ring) in the fake guest memory;
 * the device gets that memory as a region table, so the fast paths run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "guest_mem.h"
#include "raw_ring.h"

#define QSIZE 8
#define NSEGS 16
#define DATA_LEN 4096

struct fx {
	enum vio_ring_format fmt;
	struct guest_mem gm;
	struct raw_ring r;
	struct vio_mem_region table[GM_MAX_REGIONS];
	struct vio_devq *q;
	void *qmem;
	unsigned char *data;
	uint64_t data_addr;
	unsigned char *data2; /* another region of the table */
	uint64_t data2_addr;
	uint16_t cursor; /* split: next descriptor slot the mock driver fills */
	struct vio_chain chain;
	struct vio_chain_seg segs[NSEGS];
};

static bool is_split(const struct fx *f)
{
	return f->fmt == VIO_RING_SPLIT;
}

static void offer(struct fx *f, const uint64_t *addr, const uint32_t *len, const uint16_t *flags,
		  unsigned n, const uint16_t *next, uint16_t id);

/* One valid buffer through the queue first, so that the region that
 * matched last (what the fast paths look in) is the data region: the
 * hostile chains below then reach the fast paths' own checks. */
static void prime(struct fx *f)
{
	uint64_t a[1] = {f->data_addr + 2048};
	uint32_t l[1] = {64};
	uint16_t fl[1] = {VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 1, NULL, 0);
	assert_err(vio_devq_pop(f->q, &f->chain, f->segs, NSEGS), 0);
	assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	gm_init(&f->gm);
	raw_ring_alloc(&f->r, &f->gm, f->fmt, QSIZE);
	f->data = gm_alloc(&f->gm, DATA_LEN, 16, &f->data_addr);
	f->data2 = gm_alloc(&f->gm, DATA_LEN, 16, &f->data2_addr);
	/* Every region of the fake memory, as the device's table. */
	for (unsigned i = 0; i < f->gm.n; i++)
		f->table[i] = (struct vio_mem_region){f->gm.r[i].addr, f->gm.r[i].len,
						      f->gm.r[i].host, f->gm.r[i].dirs};
	struct vio_devq_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	raw_ring_devq_config(&f->r, &cfg);
	cfg.features = vio_features_none();
	vio_features_set(&cfg.features, VIO_F_VERSION_1);
	if (!is_split(f))
		vio_features_set(&cfg.features, VIO_F_RING_PACKED);
	cfg.regions = f->table;
	cfg.nregions = f->gm.n;
	size_t n = vio_devq_mem_size(f->fmt, QSIZE);
	assert_int_equal(posix_memalign(&f->qmem, VIO_DEVQ_MEM_ALIGN, n), 0);
	assert_err(vio_devq_init(&f->q, f->qmem, n, &cfg), 0);
	*state = f;
	prime(f);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vio_devq_fini(f->q);
	gm_free(&f->gm);
	free(f->qmem);
	free(f);
	return 0;
}

/* Offer one chain of @n descriptors: addr (device address), len, flags
 * (NEXT is added between them); split links them through @next[] if given
 * (else k -> k+1), packed puts @id in every descriptor. */
static void offer(struct fx *f, const uint64_t *addr, const uint32_t *len, const uint16_t *flags,
		  unsigned n, const uint16_t *next, uint16_t id)
{
	if (is_split(f)) {
		uint16_t head = f->cursor;
		for (unsigned k = 0; k < n; k++) {
			uint16_t slot = (uint16_t)(head + k);
			uint16_t nx = next != NULL ? next[k] : (uint16_t)(slot + 1u);
			uint16_t fl = (uint16_t)(flags[k] | (k + 1 < n ? VIO_DESC_F_NEXT : 0));
			raw_split_put(f->r.desc, slot, addr[k], len[k], fl, nx);
		}
		f->cursor = (uint16_t)(head + n);
		raw_split_avail_add(&f->r, head);
		return;
	}
	struct raw_desc d[QSIZE];
	for (unsigned k = 0; k < n; k++)
		d[k] = (struct raw_desc){addr[k], len[k],
					 (uint16_t)(flags[k] | (k + 1 < n ? VIO_DESC_F_NEXT : 0)),
					 id};
	raw_packed_avail_add(&f->r, d, n);
}

static int pop(struct fx *f, uint16_t max_segs)
{
	return vio_devq_pop(f->q, &f->chain, f->segs, max_segs);
}

/* The queue is broken with @err, and stays so. */
static void broken_with(struct fx *f, int err)
{
	assert_true(vio_devq_is_broken(f->q));
	assert_err(vio_devq_broken_reason(f->q), err);
	assert_err(pop(f, NSEGS), -VIO_EBROKEN);
}

/* A valid chain of three inside the table pops on the fast path first. */
static void test_chain_in_table_pops(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 1024};
	uint32_t l[3] = {16, 512, 1};
	uint16_t fl[3] = {0, VIO_DESC_F_WRITE, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 3, NULL, 5);
	assert_err(pop(f, NSEGS), 0);
	assert_int_equal(f->chain.nseg, 3);
	assert_int_equal(f->chain.nout, 1);
	assert_int_equal(f->chain.out_bytes, 16);
	assert_int_equal(f->chain.in_bytes, 513);
	assert_ptr_equal(f->segs[1].ptr, f->data + 64);
	assert_int_equal(f->chain.id, is_split(f) ? 1 : 5); /* split: after prime()'s */
	assert_err(vio_devq_push(f->q, &f->chain, 513), 0);
}

/* A readable descriptor after a writable one (§2.7.4.2). */
static void test_chain_order(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {16, 16};
	uint16_t fl[2] = {VIO_DESC_F_WRITE, 0};
	offer(f, a, l, fl, 2, NULL, 1);
	assert_err(pop(f, NSEGS), -VIO_EDESC_ORDER);
	broken_with(f, -VIO_EDESC_ORDER);
}

/* The second descriptor is outside every region. */
static void test_chain_outside_table(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, 0x50000000ull};
	uint32_t l[2] = {16, 16};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, NULL, 1);
	assert_err(pop(f, NSEGS), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

/* One descriptor outside every region (the one-descriptor fast path). */
static void test_single_outside_table(void **state)
{
	struct fx *f = *state;
	uint64_t a[1] = {0x50000000ull};
	uint32_t l[1] = {16};
	uint16_t fl[1] = {VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 1, NULL, 1);
	assert_err(pop(f, NSEGS), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

/* More descriptors than the caller's array: not a peer error; the chain
 * stays available for a larger array. */
static void test_chain_longer_than_array(void **state)
{
	struct fx *f = *state;
	uint64_t a[3] = {f->data_addr, f->data_addr + 64, f->data_addr + 128};
	uint32_t l[3] = {16, 16, 16};
	uint16_t fl[3] = {0, 0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 3, NULL, 2);
	assert_err(pop(f, 2), -VIO_ENOSPC);
	assert_false(vio_devq_is_broken(f->q));
	assert_err(pop(f, NSEGS), 0);
	assert_int_equal(f->chain.nseg, 3);
}

/* Split: a next link beyond the table. */
static void test_split_chain_next_out_of_range(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {16, 16};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	uint16_t nx[2] = {QSIZE + 3, 0};
	offer(f, a, l, fl, 2, nx, 0);
	assert_err(pop(f, NSEGS), -VIO_EDESC_NEXT);
	broken_with(f, -VIO_EDESC_NEXT);
}

/* Split: a chain that loops back to its head. */
static void test_split_chain_loop(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {16, 16};
	uint16_t fl[2] = {0, 0};
	uint16_t h = f->cursor;
	uint16_t nx[2] = {(uint16_t)(h + 1u), h}; /* h -> h+1 -> h -> ... */
	offer(f, a, l, fl, 2, nx, 0);
	raw_split_put(f->r.desc, (uint16_t)(h + 1u), f->data_addr + 64, 16, VIO_DESC_F_NEXT, h);
	assert_err(pop(f, NSEGS), -VIO_EDESC_LOOP);
	broken_with(f, -VIO_EDESC_LOOP);
}

/* Packed: the list's buffer id beyond the queue, then one in flight. */
static void test_packed_chain_bad_id(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {16, 16};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, NULL, QSIZE + 1);
	assert_err(pop(f, NSEGS), -VIO_EDESC_ID);
	broken_with(f, -VIO_EDESC_ID);
}

static void test_packed_chain_id_in_flight(void **state)
{
	struct fx *f = *state;
	uint64_t a[2] = {f->data_addr, f->data_addr + 64};
	uint32_t l[2] = {16, 16};
	uint16_t fl[2] = {0, VIO_DESC_F_WRITE};
	offer(f, a, l, fl, 2, NULL, 3);
	assert_err(pop(f, NSEGS), 0);
	offer(f, a, l, fl, 2, NULL, 3); /* the device still holds id 3 */
	assert_err(pop(f, NSEGS), -VIO_EDESC_INFLIGHT);
	broken_with(f, -VIO_EDESC_INFLIGHT);
}

/* Packed: a NEXT-linked list longer than the ring. */
static void test_packed_chain_longer_than_ring(void **state)
{
	struct fx *f = *state;
	struct raw_desc d[QSIZE];
	for (unsigned k = 0; k < QSIZE; k++)
		d[k] = (struct raw_desc){f->data_addr + 64u * k, 16, VIO_DESC_F_NEXT, 1};
	raw_packed_avail_add(&f->r, d, QSIZE);
	assert_err(pop(f, NSEGS), -VIO_EDESC_LOOP);
	broken_with(f, -VIO_EDESC_LOOP);
}

/* ---- Packed, one descriptor: the pop leaf's hand-overs -------------------
 * The leaf reads the head's flags, address and length, then the id; each
 * case it does not take starts the general pop again from the head's flags
 * (read again), which reports what it reports without a fast path. */

static void offer1(struct fx *f, uint64_t addr, uint32_t len, uint16_t flags, uint16_t id)
{
	uint64_t a[1] = {addr};
	uint32_t l[1] = {len};
	uint16_t fl[1] = {flags};
	offer(f, a, l, fl, 1, NULL, id);
}

/* A buffer id beyond the queue, with the buffer inside the table and
 * outside it: the id is what the general code reports. */
static void test_packed_single_bad_id(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 16, VIO_DESC_F_WRITE, QSIZE);
	assert_err(pop(f, NSEGS), -VIO_EDESC_ID);
	broken_with(f, -VIO_EDESC_ID);
}

static void test_packed_single_bad_id_outside(void **state)
{
	struct fx *f = *state;
	offer1(f, 0x50000000ull, 16, VIO_DESC_F_WRITE, 0xffffu);
	assert_err(pop(f, NSEGS), -VIO_EDESC_ID);
	broken_with(f, -VIO_EDESC_ID);
}

/* An id the device holds, inside the table and outside it. */
static void test_packed_single_id_in_flight(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 16, 0, 2);
	assert_err(pop(f, NSEGS), 0);
	offer1(f, f->data_addr + 64, 16, 0, 2);
	assert_err(pop(f, NSEGS), -VIO_EDESC_INFLIGHT);
	broken_with(f, -VIO_EDESC_INFLIGHT);
}

static void test_packed_single_id_in_flight_outside(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr, 16, 0, 2);
	assert_err(pop(f, NSEGS), 0);
	offer1(f, 0x50000000ull, 16, 0, 2);
	assert_err(pop(f, NSEGS), -VIO_EDESC_INFLIGHT);
	broken_with(f, -VIO_EDESC_INFLIGHT);
}

/* No segment array: not a peer error; the buffer stays available. */
static void test_packed_single_no_array(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr + 128, 32, VIO_DESC_F_WRITE, 6);
	int rc = vio_devq_pop(f->q, &f->chain, NULL, 0);
	assert_true(rc < 0);
	assert_false(vio_devq_is_broken(f->q));
	assert_err(pop(f, NSEGS), 0);
	assert_int_equal(f->chain.id, 6);
	assert_int_equal(f->chain.in_bytes, 32);
	assert_ptr_equal(f->segs[0].ptr, f->data + 128);
	assert_err(vio_devq_push(f->q, &f->chain, 32), 0);
}

/* Inside another region of the table than the one that matched last: the
 * general pop takes it, whole, from the ring as it is; then the leaf takes
 * the next one there (that region matched last now), for several laps. */
static void test_packed_single_other_region(void **state)
{
	struct fx *f = *state;
	for (unsigned k = 0; k < 3 * QSIZE; k++) {
		bool other = k % 3 == 0;
		uint64_t addr = (other ? f->data2_addr : f->data_addr) + 16u * k;
		uint16_t id = (uint16_t)(k % QSIZE), fl = k % 2 ? VIO_DESC_F_WRITE : 0;
		offer1(f, addr, 8 + k, fl, id);
		assert_err(pop(f, NSEGS), 0);
		assert_int_equal(f->chain.id, id);
		assert_int_equal(f->chain.nseg, 1);
		assert_int_equal(f->chain.ndesc, 1);
		assert_int_equal(fl ? f->chain.in_bytes : f->chain.out_bytes, 8 + k);
		assert_int_equal(fl ? f->chain.out_bytes : f->chain.in_bytes, 0);
		assert_ptr_equal(f->segs[0].ptr, (other ? f->data2 : f->data) + 16u * k);
		assert_int_equal(f->segs[0].addr, addr);
		assert_int_equal(f->segs[0].write, fl != 0);
		assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	}
	assert_false(vio_devq_is_broken(f->q));
}

/* A length that runs past the region's end. */
static void test_packed_single_bad_len(void **state)
{
	struct fx *f = *state;
	offer1(f, f->data_addr + DATA_LEN - 8, 16, VIO_DESC_F_WRITE, 1);
	assert_err(pop(f, NSEGS), -VIO_EMAP);
	broken_with(f, -VIO_EMAP);
}

static void test_packed_single_zero_len(void **state)
{
	struct fx *f = *state;
	/* Zero bytes need no memory (the general code's empty segment),
	 * wherever they claim to be. */
	for (unsigned k = 0; k < 2; k++) {
		offer1(f, k ? 0x50000000ull : f->data_addr, 0, VIO_DESC_F_WRITE, (uint16_t)(1 + k));
		assert_err(pop(f, NSEGS), 0);
		assert_int_equal(f->chain.id, 1 + k);
		assert_int_equal(f->chain.nseg, 1);
		assert_int_equal(f->chain.in_bytes, 0);
		assert_int_equal(f->segs[0].len, 0);
		assert_null(f->segs[0].ptr);
		assert_err(vio_devq_push(f->q, &f->chain, 0), 0);
	}
	assert_false(vio_devq_is_broken(f->q));
}

/* ---- Driver side: a hostile device against the get fast paths ---------- */

/* A driver queue without DMA hooks (so its fast paths run) over ring memory
 * a mock device writes by hand. */
struct drv {
	struct guest_mem gm;
	struct raw_ring r;
	struct vio_vq *vq;
	void *mem;
	unsigned char buf[3][64];
};

static void drv_init(struct drv *d, enum vio_ring_format fmt)
{
	memset(d, 0, sizeof(*d));
	gm_init(&d->gm);
	raw_ring_alloc(&d->r, &d->gm, fmt, QSIZE);
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	raw_ring_vq_config(&d->r, &c);
	c.features = vio_features_none();
	vio_features_set(&c.features, VIO_F_VERSION_1);
	if (fmt == VIO_RING_PACKED)
		vio_features_set(&c.features, VIO_F_RING_PACKED);
	size_t n = vio_vq_mem_size(&c);
	d->mem = NULL;
	assert_int_equal(posix_memalign(&d->mem, VIO_VQ_MEM_ALIGN, n), 0);
	assert_err(vio_vq_init(&d->vq, d->mem, n, &c), 0);
}

static void drv_fini(struct drv *d)
{
	gm_free(&d->gm);
	free(d->mem);
}

/* One chain of @n writable 64-byte buffers. */
static void drv_add(struct drv *d, unsigned n, void *token)
{
	struct vio_sg sg[3];
	for (unsigned k = 0; k < n; k++)
		sg[k] = (struct vio_sg){d->buf[k], sizeof(d->buf[k])};
	assert_err(vio_vq_add(d->vq, sg, 0, n, token), 0);
}

static void drv_get_fails(struct drv *d, int err)
{
	void *tok;
	uint32_t len;
	assert_err(vio_vq_get(d->vq, &tok, &len), err);
	assert_err(vio_vq_broken_reason(d->vq), err);
	assert_err(vio_vq_get(d->vq, &tok, &len), -VIO_EBROKEN);
}

static void test_drv_used_id_beyond_queue(void **state)
{
	(void)state;
	for (int fi = 0; fi < 2; fi++) {
		struct drv d;
		drv_init(&d, fi ? VIO_RING_PACKED : VIO_RING_SPLIT);
		drv_add(&d, 1, d.buf);
		if (fi == 0)
			raw_split_used_add(&d.r, QSIZE + 2, 0);
		else
			raw_packed_used_add(&d.r, QSIZE + 2, 0, 0, 1);
		drv_get_fails(&d, -VIO_EUSED_ID);
		drv_fini(&d);
	}
}

static void test_drv_used_len_too_long(void **state)
{
	(void)state;
	for (int fi = 0; fi < 2; fi++) {
		struct drv d;
		drv_init(&d, fi ? VIO_RING_PACKED : VIO_RING_SPLIT);
		drv_add(&d, 1, d.buf);
		if (fi == 0)
			raw_split_used_add(&d.r, 0, 65);
		else
			raw_packed_used_add(&d.r, 0, 65, VIO_DESC_F_WRITE, 1);
		drv_get_fails(&d, -VIO_EUSED_LEN);
		drv_fini(&d);
	}
}

/* Split: the used index moves by more than the outstanding buffers. */
static void test_drv_split_used_jump(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VIO_RING_SPLIT);
	drv_add(&d, 1, d.buf);
	raw_split_used_elem_set(&d.r, 0, 0, 0);
	raw_split_used_publish(&d.r, 2);
	drv_get_fails(&d, -VIO_EUSED_JUMP);
	drv_fini(&d);
}

/* Split: a used id naming a mid-chain slot; then (fresh queue) a chain of
 * three reclaimed whole by the fast get, and a used id naming one of its
 * slots, free again. */
static void test_drv_split_used_midchain_and_stale(void **state)
{
	(void)state;
	struct drv d;
	drv_init(&d, VIO_RING_SPLIT);
	drv_add(&d, 3, d.buf); /* slots 0, 1, 2 */
	raw_split_used_add(&d.r, 1, 0);
	drv_get_fails(&d, -VIO_EUSED_MIDCHAIN);
	drv_fini(&d);

	drv_init(&d, VIO_RING_SPLIT);
	drv_add(&d, 3, d.buf);
	raw_split_used_add(&d.r, 0, 192);
	void *tok;
	uint32_t len;
	assert_err(vio_vq_get(d.vq, &tok, &len), 0);
	assert_ptr_equal(tok, d.buf);
	assert_int_equal(len, 192);
	assert_int_equal(vio_vq_num_free(d.vq), QSIZE);
	/* One buffer outstanding again (it takes slot 0, the free head); the
	 * device names slot 1, free since the chain came back. */
	drv_add(&d, 1, d.buf);
	raw_split_used_add(&d.r, 1, 0);
	drv_get_fails(&d, -VIO_EUSED_STALE);
	drv_fini(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_chain_in_table_pops),
		BOTH(test_chain_order),
		BOTH(test_chain_outside_table),
		BOTH(test_single_outside_table),
		BOTH(test_chain_longer_than_array),
		SPLIT(test_split_chain_next_out_of_range),
		SPLIT(test_split_chain_loop),
		PACKED(test_packed_chain_bad_id),
		PACKED(test_packed_chain_id_in_flight),
		PACKED(test_packed_chain_longer_than_ring),
		PACKED(test_packed_single_bad_id),
		PACKED(test_packed_single_bad_id_outside),
		PACKED(test_packed_single_id_in_flight),
		PACKED(test_packed_single_id_in_flight_outside),
		PACKED(test_packed_single_no_array),
		PACKED(test_packed_single_other_region),
		PACKED(test_packed_single_bad_len),
		PACKED(test_packed_single_zero_len),
		cmocka_unit_test(test_drv_used_id_beyond_queue),
		cmocka_unit_test(test_drv_used_len_too_long),
		cmocka_unit_test(test_drv_split_used_jump),
		cmocka_unit_test(test_drv_split_used_midchain_and_stale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
