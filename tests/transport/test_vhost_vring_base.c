/* SPDX-License-Identifier: MIT */
/* The vhost-user VRING_BASE `num` <-> struct vio_ring_state, in each peer's
 * convention (docs/vhost-user-vring-base.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <virtio/virtio.h>

#include "loop.h"

static const enum vio_vhost_user_base_conv all_convs[] = {
	VIO_VHOST_USER_BASE_BOTH,
	VIO_VHOST_USER_BASE_AVAIL_ONLY,
	VIO_VHOST_USER_BASE_AUTO,
};
#define NCONVS (sizeof(all_convs) / sizeof(all_convs[0]))

static void check_state_eq(const struct vio_ring_state *a, const struct vio_ring_state *b)
{
	assert_int_equal(a->avail_idx, b->avail_idx);
	assert_int_equal(a->used_idx, b->used_idx);
	assert_int_equal(a->avail_wrap, b->avail_wrap);
	assert_int_equal(a->used_wrap, b->used_wrap);
	assert_int_equal(a->inflight, b->inflight);
}

static struct vio_ring_state packed_state(uint16_t a, bool aw, uint16_t u, bool uw)
{
	struct vio_ring_state st = {a, u, aw, uw, 0};
	return st;
}

static uint32_t encode_ok(const struct vio_ring_state *st, enum vio_ring_format fmt, uint16_t size)
{
	uint32_t num = 0xdeadbeefu;
	assert_int_equal(vio_vhost_user_vring_base_encode(st, fmt, size, &num), 0);
	return num;
}

static struct vio_ring_state decode_ok(uint32_t num, enum vio_ring_format fmt, uint16_t size,
				       enum vio_vhost_user_base_conv conv)
{
	struct vio_ring_state st;
	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(vio_vhost_user_vring_base_decode(num, fmt, size, conv, &st), 0);
	return st;
}

/* A refused decode leaves the output alone. */
static void decode_fails(uint32_t num, enum vio_ring_format fmt, uint16_t size,
			 enum vio_vhost_user_base_conv conv)
{
	struct vio_ring_state st, before;
	memset(&st, 0x5a, sizeof(st));
	memcpy(&before, &st, sizeof(st));
	assert_int_equal(vio_vhost_user_vring_base_decode(num, fmt, size, conv, &st), -VIO_EINVAL);
	assert_memory_equal(&st, &before, sizeof(st));
}

/* ---- Fresh rings as real front ends send them ----------------------------- */

/* DPDK's virtio-user front end (virtio_user_kick_queue) sends 0x8000 for a
 * packed ring: avail slot 0, avail wrap 1, upper half empty. The used
 * position is the avail one, so the used wrap counter is 1 as well. */
static void test_vhost_base_dpdk_fresh_ring(void **state)
{
	(void)state;
	const struct vio_ring_state fresh = packed_state(0, true, 0, true);
	const uint16_t sizes[] = {1, 5, 256, VIO_PACKED_MAX_SIZE};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct vio_ring_state st = decode_ok(0x8000u, VIO_RING_PACKED, sizes[i],
						     VIO_VHOST_USER_BASE_AVAIL_ONLY);
		check_state_eq(&st, &fresh);
		st = decode_ok(0x8000u, VIO_RING_PACKED, sizes[i], VIO_VHOST_USER_BASE_AUTO);
		check_state_eq(&st, &fresh);
		assert_true(st.used_wrap);
		/* Read as both halves it means used wrap 0: what a QEMU-style
		 * reader makes of it, and why the convention must be chosen. */
		st = decode_ok(0x8000u, VIO_RING_PACKED, sizes[i], VIO_VHOST_USER_BASE_BOTH);
		assert_true(st.avail_wrap);
		assert_false(st.used_wrap);
	}
}

/* QEMU (virtio_queue_packed_get_last_avail_idx after a reset) sends both
 * halves: 0x80008000. Every convention reads the fresh ring from it. */
static void test_vhost_base_qemu_fresh_ring(void **state)
{
	(void)state;
	const struct vio_ring_state fresh = packed_state(0, true, 0, true);
	for (unsigned c = 0; c < NCONVS; c++) {
		struct vio_ring_state st =
			decode_ok(0x80008000u, VIO_RING_PACKED, 64, all_convs[c]);
		check_state_eq(&st, &fresh);
	}
	assert_int_equal(encode_ok(&fresh, VIO_RING_PACKED, 64), 0x80008000u);
}

/* Split front ends send 0 for a fresh ring (QEMU after reset, DPDK, SPDK). */
static void test_vhost_base_split_fresh_ring(void **state)
{
	(void)state;
	const struct vio_ring_state zero = {0, 0, false, false, 0};
	for (unsigned c = 0; c < NCONVS; c++) {
		struct vio_ring_state st = decode_ok(0, VIO_RING_SPLIT, 256, all_convs[c]);
		check_state_eq(&st, &zero);
	}
	assert_int_equal(encode_ok(&zero, VIO_RING_SPLIT, 256), 0);
}

/* ---- Conventions ------------------------------------------------------------ */

static void test_vhost_base_both_reads_used_half(void **state)
{
	(void)state;
	struct vio_ring_state want = packed_state(5, false, 2, true);
	struct vio_ring_state st =
		decode_ok(0x80020005u, VIO_RING_PACKED, 8, VIO_VHOST_USER_BASE_BOTH);
	check_state_eq(&st, &want);
	/* Used slot 0, wrap 0 is an ordinary value here. */
	want = packed_state(3, true, 0, false);
	st = decode_ok(0x00008003u, VIO_RING_PACKED, 8, VIO_VHOST_USER_BASE_BOTH);
	check_state_eq(&st, &want);
}

/* DPDK's vhost_user_set_vring_base reads bits 0-15 only; so does this
 * convention, whatever the upper half holds. */
static void test_vhost_base_avail_only_ignores_upper_half(void **state)
{
	(void)state;
	const uint32_t uppers[] = {0, 1, 0x8000u, 0x7fffu, 0xffffu, 0x1234u};
	for (unsigned i = 0; i < sizeof(uppers) / sizeof(uppers[0]); i++) {
		struct vio_ring_state st = decode_ok(uppers[i] << 16 | 0x0006u, VIO_RING_PACKED, 7,
						     VIO_VHOST_USER_BASE_AVAIL_ONLY);
		struct vio_ring_state want = packed_state(6, false, 6, false);
		check_state_eq(&st, &want);
		st = decode_ok(uppers[i] << 16 | 0x8004u, VIO_RING_PACKED, 7,
			       VIO_VHOST_USER_BASE_AVAIL_ONLY);
		want = packed_state(4, true, 4, true);
		check_state_eq(&st, &want);
	}
}

/* AUTO: upper half zero means avail only, anything else both halves. */
static void test_vhost_base_auto_picks_by_upper_half(void **state)
{
	(void)state;
	struct vio_ring_state st =
		decode_ok(0x00000003u, VIO_RING_PACKED, 10, VIO_VHOST_USER_BASE_AUTO);
	struct vio_ring_state want = packed_state(3, false, 3, false);
	check_state_eq(&st, &want);
	st = decode_ok(0x80018003u, VIO_RING_PACKED, 10, VIO_VHOST_USER_BASE_AUTO);
	want = packed_state(3, true, 1, true);
	check_state_eq(&st, &want);
	/* Used slot 0 with wrap 1 has bit 31 set: read as both halves. */
	st = decode_ok(0x80000007u, VIO_RING_PACKED, 10, VIO_VHOST_USER_BASE_AUTO);
	want = packed_state(7, false, 0, true);
	check_state_eq(&st, &want);
	/* Used slot 1 with wrap 0: both halves too. */
	st = decode_ok(0x00010007u, VIO_RING_PACKED, 10, VIO_VHOST_USER_BASE_AUTO);
	want = packed_state(7, false, 1, false);
	check_state_eq(&st, &want);
}

/* The one documented wrong guess: a both-halves peer with used slot 0, wrap 0
 * and chains in flight. Quiescent, the guess is right. */
static void test_vhost_base_auto_collision(void **state)
{
	(void)state;
	struct vio_ring_state sent = packed_state(3, true, 0, false); /* 3 descs in flight */
	uint32_t num = encode_ok(&sent, VIO_RING_PACKED, 10);
	assert_int_equal(num, 0x00008003u);
	struct vio_ring_state st = decode_ok(num, VIO_RING_PACKED, 10, VIO_VHOST_USER_BASE_AUTO);
	struct vio_ring_state guessed = packed_state(3, true, 3, true);
	check_state_eq(&st, &guessed);
	st = decode_ok(num, VIO_RING_PACKED, 10, VIO_VHOST_USER_BASE_BOTH);
	check_state_eq(&st, &sent);

	/* Quiescent at used slot 0, wrap 0: num is 0 and AUTO is exact. */
	sent = packed_state(0, false, 0, false);
	num = encode_ok(&sent, VIO_RING_PACKED, 10);
	assert_int_equal(num, 0);
	for (unsigned c = 0; c < NCONVS; c++) {
		st = decode_ok(num, VIO_RING_PACKED, 10, all_convs[c]);
		check_state_eq(&st, &sent);
	}
}

/* What this library replies is read right by a DPDK-style reader (lower half
 * only) whenever the ring is quiescent, and always by a QEMU-style reader. */
static void test_vhost_base_reply_read_by_each_peer(void **state)
{
	(void)state;
	const uint16_t size = 11;
	for (uint16_t s = 0; s < size; s++) {
		for (unsigned w = 0; w < 2; w++) {
			struct vio_ring_state q = packed_state(s, w != 0, s, w != 0);
			uint32_t num = encode_ok(&q, VIO_RING_PACKED, size);
			struct vio_ring_state st = decode_ok(num & 0xffffu, VIO_RING_PACKED, size,
							     VIO_VHOST_USER_BASE_AVAIL_ONLY);
			check_state_eq(&st, &q);
			st = decode_ok(num, VIO_RING_PACKED, size, VIO_VHOST_USER_BASE_BOTH);
			check_state_eq(&st, &q);
		}
	}
}

/* ---- Round trips ------------------------------------------------------------ */

/* Every (avail slot, used slot, wraps) of a non-power-of-two ring, through
 * each convention: BOTH is exact; AVAIL_ONLY keeps the avail half and copies
 * it to used; AUTO is exact unless used is {0, wrap 0} and differs from avail. */
static void roundtrip_all_positions(uint16_t size)
{
	for (uint16_t a = 0; a < size; a++) {
		for (uint16_t u = 0; u < size; u++) {
			for (unsigned w = 0; w < 4; w++) {
				struct vio_ring_state in =
					packed_state(a, (w & 1) != 0, u, (w & 2) != 0);
				uint32_t num = encode_ok(&in, VIO_RING_PACKED, size);
				assert_int_equal(num, (uint32_t)a | (w & 1u) << 15 |
							      (uint32_t)u << 16 | (w & 2u) << 30);

				struct vio_ring_state st = decode_ok(num, VIO_RING_PACKED, size,
								     VIO_VHOST_USER_BASE_BOTH);
				check_state_eq(&st, &in);

				struct vio_ring_state same_used =
					packed_state(a, (w & 1) != 0, a, (w & 1) != 0);
				st = decode_ok(num, VIO_RING_PACKED, size,
					       VIO_VHOST_USER_BASE_AVAIL_ONLY);
				check_state_eq(&st, &same_used);

				st = decode_ok(num, VIO_RING_PACKED, size,
					       VIO_VHOST_USER_BASE_AUTO);
				bool collide = u == 0 && (w & 2) == 0;
				check_state_eq(&st, collide ? &same_used : &in);
			}
		}
	}
}

static void test_vhost_base_roundtrip_odd_size(void **state)
{
	(void)state;
	roundtrip_all_positions(1);
	roundtrip_all_positions(3);
	roundtrip_all_positions(37);
	roundtrip_all_positions(100);
}

/* The largest ring uses every bit: all 2^32 values are valid states; sample. */
static void test_vhost_base_roundtrip_max_size(void **state)
{
	(void)state;
	struct loop_rng rng = {0x2545f4914f6cdd1dull};
	for (unsigned k = 0; k < 200000; k++) {
		uint32_t num = (uint32_t)loop_rng_next(&rng);
		struct vio_ring_state st = decode_ok(num, VIO_RING_PACKED, VIO_PACKED_MAX_SIZE,
						     VIO_VHOST_USER_BASE_BOTH);
		assert_true(st.avail_idx < 0x8000 && st.used_idx < 0x8000);
		assert_int_equal(encode_ok(&st, VIO_RING_PACKED, VIO_PACKED_MAX_SIZE), num);
	}
}

/* inflight is not part of num: ignored on encode, 0 after decode. */
static void test_vhost_base_inflight_not_encoded(void **state)
{
	(void)state;
	struct vio_ring_state a = {4, 1, true, false, 0};
	struct vio_ring_state b = {4, 1, true, false, 3};
	assert_int_equal(encode_ok(&a, VIO_RING_PACKED, 9), encode_ok(&b, VIO_RING_PACKED, 9));
	for (unsigned c = 0; c < NCONVS; c++) {
		struct vio_ring_state st = decode_ok(encode_ok(&b, VIO_RING_PACKED, 9),
						     VIO_RING_PACKED, 9, all_convs[c]);
		assert_int_equal(st.inflight, 0);
	}
	b = (struct vio_ring_state){0x1234, 0x1230, false, false, 4};
	assert_int_equal(encode_ok(&b, VIO_RING_SPLIT, 8), 0x1234u);
	assert_int_equal(decode_ok(0x1234u, VIO_RING_SPLIT, 8, VIO_VHOST_USER_BASE_BOTH).inflight,
			 0);
}

/* ---- Invalid input ---------------------------------------------------------- */

static void test_vhost_base_rejects_packed_slot(void **state)
{
	(void)state;
	const uint16_t size = 10;
	for (unsigned c = 0; c < NCONVS; c++) {
		enum vio_vhost_user_base_conv conv = all_convs[c];
		/* Avail slot at or past the size, with either wrap. */
		decode_fails(0x80000000u | size, VIO_RING_PACKED, size, conv);
		decode_fails(0x8000u | size, VIO_RING_PACKED, size, conv);
		decode_fails(0x80000000u | 0x7fffu, VIO_RING_PACKED, size, conv);
		decode_fails(0xffffffffu, VIO_RING_PACKED, size, conv);
		/* The largest slot is fine. */
		struct vio_ring_state st =
			decode_ok(0x80000000u | (size - 1u), VIO_RING_PACKED, size, conv);
		assert_int_equal(st.avail_idx, size - 1);
	}
	/* A used slot past the size is refused where the used half is read. */
	decode_fails((uint32_t)size << 16 | 0x8001u, VIO_RING_PACKED, size,
		     VIO_VHOST_USER_BASE_BOTH);
	decode_fails((uint32_t)size << 16 | 0x8001u, VIO_RING_PACKED, size,
		     VIO_VHOST_USER_BASE_AUTO);
	decode_fails(0x7fff0001u, VIO_RING_PACKED, size, VIO_VHOST_USER_BASE_BOTH);
	decode_fails(0x7fff0001u, VIO_RING_PACKED, size, VIO_VHOST_USER_BASE_AUTO);
	decode_fails(0xffff0001u, VIO_RING_PACKED, size, VIO_VHOST_USER_BASE_BOTH);
	/* ... and ignored where it is not. */
	struct vio_ring_state st =
		decode_ok(0x7fff0001u, VIO_RING_PACKED, size, VIO_VHOST_USER_BASE_AVAIL_ONLY);
	assert_int_equal(st.used_idx, 1);
}

static void test_vhost_base_rejects_packed_size(void **state)
{
	(void)state;
	for (unsigned c = 0; c < NCONVS; c++) {
		decode_fails(0x80008000u, VIO_RING_PACKED, 0, all_convs[c]);
		decode_fails(0x80008000u, VIO_RING_PACKED, VIO_PACKED_MAX_SIZE + 1, all_convs[c]);
		decode_fails(0x80008000u, VIO_RING_PACKED, 0xffff, all_convs[c]);
	}
	decode_fails(0x80008000u, VIO_RING_PACKED, 8, (enum vio_vhost_user_base_conv)3);
}

static void test_vhost_base_encode_rejects_bad_state(void **state)
{
	(void)state;
	const struct vio_ring_state bad[] = {
		{10, 0, true, true, 0},		 {0, 10, true, true, 0},
		{0x7fff, 0, false, false, 0},	 {0, 0x8000, false, false, 0},
		{0xffff, 0xffff, true, true, 0},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint32_t num = 0x12345678u;
		assert_int_equal(
			vio_vhost_user_vring_base_encode(&bad[i], VIO_RING_PACKED, 10, &num),
			-VIO_EINVAL);
		assert_int_equal(num, 0x12345678u);
	}
	const struct vio_ring_state ok = {0, 0, true, true, 0};
	uint32_t num = 0x12345678u;
	assert_int_equal(vio_vhost_user_vring_base_encode(&ok, VIO_RING_PACKED, 0, &num),
			 -VIO_EINVAL);
	assert_int_equal(vio_vhost_user_vring_base_encode(&ok, VIO_RING_PACKED,
							  VIO_PACKED_MAX_SIZE + 1, &num),
			 -VIO_EINVAL);
	assert_int_equal(num, 0x12345678u);
}

/* ---- Split ------------------------------------------------------------------ */

/* Split: the 16-bit avail index only, in every convention; the used index is
 * informative (equal to avail), wraps false. */
static void test_vhost_base_split_decode(void **state)
{
	(void)state;
	for (uint32_t a = 0; a <= 0xffff; a++) {
		for (unsigned c = 0; c < NCONVS; c++) {
			struct vio_ring_state st = decode_ok(a, VIO_RING_SPLIT, 256, all_convs[c]);
			struct vio_ring_state want = {(uint16_t)a, (uint16_t)a, false, false, 0};
			check_state_eq(&st, &want);
		}
	}
	/* The queue size does not limit a free-running index. */
	struct vio_ring_state st = decode_ok(0xfffeu, VIO_RING_SPLIT, 8, VIO_VHOST_USER_BASE_BOTH);
	assert_int_equal(st.avail_idx, 0xfffe);
	st = decode_ok(0x4321u, VIO_RING_SPLIT, 0, VIO_VHOST_USER_BASE_AUTO);
	assert_int_equal(st.avail_idx, 0x4321);
}

/* Bits 16-31 of a split num are reserved; Linux refuses them, so do we. */
static void test_vhost_base_split_rejects_upper_bits(void **state)
{
	(void)state;
	const uint32_t bad[] = {0x00010000u, 0x80000000u, 0xabcd1234u, 0xffffffffu, 0x00018000u};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (unsigned c = 0; c < NCONVS; c++)
			decode_fails(bad[i], VIO_RING_SPLIT, 256, all_convs[c]);
}

/* Split encode: avail index only; used index and wraps do not travel. */
static void test_vhost_base_split_encode(void **state)
{
	(void)state;
	for (uint32_t a = 0; a <= 0xffff; a += 7) {
		struct vio_ring_state st = {(uint16_t)a, (uint16_t)(a ^ 0x5555), true, true, 2};
		assert_int_equal(encode_ok(&st, VIO_RING_SPLIT, 256), a);
		assert_int_equal(encode_ok(&st, VIO_RING_SPLIT, 0), a);
	}
}

/* ---- Moved from tests/ring (test_layout.c, test_reset.c) -------------------- */

/* Packed slots up to 0x7fff need the largest ring. */
#define MAXQ VIO_PACKED_MAX_SIZE

static void test_vhost_base_layout_split(void **state)
{
	(void)state;
	for (uint32_t a = 0; a <= 0xffff; a += 1) {
		struct vio_ring_state st = {(uint16_t)a, (uint16_t)(a ^ 0x5555), true, true, 0};
		uint32_t num = encode_ok(&st, VIO_RING_SPLIT, 256);
		assert_int_equal(num, a);
		struct vio_ring_state back =
			decode_ok(num, VIO_RING_SPLIT, 256, VIO_VHOST_USER_BASE_BOTH);
		assert_int_equal(back.avail_idx, a);
		assert_int_equal(back.used_idx, a);
		assert_false(back.avail_wrap);
		assert_false(back.used_wrap);
	}
	/* Upper bits of a split num are not part of the index: they used to be
	 * dropped, now they are refused (reserved, and Linux refuses them). */
	decode_fails(0xabcd1234u, VIO_RING_SPLIT, 256, VIO_VHOST_USER_BASE_BOTH);
}

static void test_vhost_base_layout_packed(void **state)
{
	(void)state;
	struct vio_ring_state st = {0x1234, 0x0567, true, false, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 0x05679234u);
	st = (struct vio_ring_state){0, 0, false, false, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 0);
	st = (struct vio_ring_state){0, 0, true, false, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 1u << 15);
	st = (struct vio_ring_state){0, 0, false, true, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 1u << 31);
	st = (struct vio_ring_state){0x7fff, 0, false, false, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 0x7fffu);
	st = (struct vio_ring_state){0, 0x7fff, false, false, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 0x7fff0000u);
	/* The reset state {0, 1, 0, 1}. */
	st = (struct vio_ring_state){0, 0, true, true, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 0x80008000u);

	st = decode_ok(0x80008000u, VIO_RING_PACKED, MAXQ, VIO_VHOST_USER_BASE_BOTH);
	assert_int_equal(st.avail_idx, 0);
	assert_int_equal(st.used_idx, 0);
	assert_true(st.avail_wrap);
	assert_true(st.used_wrap);
	st = decode_ok(0x05679234u, VIO_RING_PACKED, MAXQ, VIO_VHOST_USER_BASE_BOTH);
	assert_int_equal(st.avail_idx, 0x1234);
	assert_true(st.avail_wrap);
	assert_int_equal(st.used_idx, 0x0567);
	assert_false(st.used_wrap);

	/* Every slot pair round-trips through the 32-bit encoding. */
	for (uint32_t s = 0; s < 0x8000; s++) {
		for (unsigned w = 0; w < 4; w++) {
			struct vio_ring_state a = {(uint16_t)s, (uint16_t)(0x7fff - s),
						   (w & 1) != 0, (w & 2) != 0, 0};
			struct vio_ring_state b =
				decode_ok(encode_ok(&a, VIO_RING_PACKED, MAXQ), VIO_RING_PACKED,
					  MAXQ, VIO_VHOST_USER_BASE_BOTH);
			check_state_eq(&b, &a);
		}
	}
	/* Every 32-bit value round-trips the other way (all bits are used):
	 * test_vhost_base_roundtrip_max_size. */
}

static void test_vhost_base_reset_encoding(void **state)
{
	(void)state;
	struct vio_ring_state st = {3, 5, true, false, 0}, back;
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 0x00058003u);
	st = (struct vio_ring_state){0x7fff, 0x7fff, false, true, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 0xffff7fffu);
	st = (struct vio_ring_state){0, 0, true, true, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_PACKED, MAXQ), 0x80008000u);
	for (unsigned w = 0; w < 4; w++) {
		st = (struct vio_ring_state){(uint16_t)(1234 + w), (uint16_t)(32767 - w),
					     (w & 2) != 0, (w & 1) != 0, 0};
		back = decode_ok(encode_ok(&st, VIO_RING_PACKED, MAXQ), VIO_RING_PACKED, MAXQ,
				 VIO_VHOST_USER_BASE_BOTH);
		check_state_eq(&back, &st);
	}
	st = (struct vio_ring_state){0xfffe, 0xfffe, false, false, 0};
	assert_int_equal(encode_ok(&st, VIO_RING_SPLIT, 256), 0xfffeu);
	back = decode_ok(0x1234u, VIO_RING_SPLIT, 256, VIO_VHOST_USER_BASE_BOTH);
	st = (struct vio_ring_state){0x1234, 0x1234, false, false, 0};
	check_state_eq(&back, &st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhost_base_dpdk_fresh_ring),
		cmocka_unit_test(test_vhost_base_qemu_fresh_ring),
		cmocka_unit_test(test_vhost_base_split_fresh_ring),
		cmocka_unit_test(test_vhost_base_both_reads_used_half),
		cmocka_unit_test(test_vhost_base_avail_only_ignores_upper_half),
		cmocka_unit_test(test_vhost_base_auto_picks_by_upper_half),
		cmocka_unit_test(test_vhost_base_auto_collision),
		cmocka_unit_test(test_vhost_base_reply_read_by_each_peer),
		cmocka_unit_test(test_vhost_base_roundtrip_odd_size),
		cmocka_unit_test(test_vhost_base_roundtrip_max_size),
		cmocka_unit_test(test_vhost_base_inflight_not_encoded),
		cmocka_unit_test(test_vhost_base_rejects_packed_slot),
		cmocka_unit_test(test_vhost_base_rejects_packed_size),
		cmocka_unit_test(test_vhost_base_encode_rejects_bad_state),
		cmocka_unit_test(test_vhost_base_split_decode),
		cmocka_unit_test(test_vhost_base_split_rejects_upper_bits),
		cmocka_unit_test(test_vhost_base_split_encode),
		cmocka_unit_test(test_vhost_base_layout_split),
		cmocka_unit_test(test_vhost_base_layout_packed),
		cmocka_unit_test(test_vhost_base_reset_encoding),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
