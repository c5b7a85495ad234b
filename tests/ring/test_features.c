/* SPDX-License-Identifier: MIT */
/* Feature bit numbers (checked against virtio 1.4 §6 and §2.1), the 128-bit
 * feature set operations and the 32-bit transport windows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include <virtio/virtio.h>

#include "loop.h"

/* Fixed-seed stream from the shared test PRNG (tests/support/loop.h). */
static uint64_t rnd64(void)
{
	static struct loop_rng r = {0x243f6a8885a308d3ull};
	return loop_rng_next(&r);
}

static struct vio_features all_ones(void)
{
	struct vio_features f;
	for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
		f.w[i] = UINT64_MAX;
	return f;
}

static struct vio_features random_set(void)
{
	struct vio_features f;
	for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
		f.w[i] = rnd64();
	return f;
}

/* Reference: bit n of a set, straight from the documented representation. */
static bool ref_bit(const struct vio_features *f, unsigned n)
{
	return ((f->w[n / 64] >> (n % 64)) & 1u) != 0;
}

static void test_features_spec_bit_numbers(void **state)
{
	(void)state;
	/* virtio 1.4 content.tex, "Reserved Feature Bits" and the legacy list. */
	assert_int_equal(VIO_F_NOTIFY_ON_EMPTY, 24);
	assert_int_equal(VIO_F_ANY_LAYOUT, 27);
	assert_int_equal(VIO_F_INDIRECT_DESC, 28);
	assert_int_equal(VIO_F_EVENT_IDX, 29);
	assert_int_equal(VIO_F_UNUSED_30, 30);
	assert_int_equal(VIO_F_VERSION_1, 32);
	assert_int_equal(VIO_F_ACCESS_PLATFORM, 33);
	assert_int_equal(VIO_F_RING_PACKED, 34);
	assert_int_equal(VIO_F_IN_ORDER, 35);
	assert_int_equal(VIO_F_ORDER_PLATFORM, 36);
	assert_int_equal(VIO_F_SR_IOV, 37);
	assert_int_equal(VIO_F_NOTIFICATION_DATA, 38);
	assert_int_equal(VIO_F_NOTIF_CONFIG_DATA, 39);
	assert_int_equal(VIO_F_RING_RESET, 40);
	assert_int_equal(VIO_F_ADMIN_VQ, 41);
	assert_int_equal(VIO_F_SUSPEND, 43);
	assert_int_equal(VIO_FEATURE_WORDS, 2);
	assert_int_equal(VIO_FEATURE_BITS, 128);
}

static void test_features_spec_status_bits(void **state)
{
	(void)state;
	/* virtio 1.4 §2.1 "Device Status Field". */
	assert_int_equal(VIO_STATUS_ACKNOWLEDGE, 1);
	assert_int_equal(VIO_STATUS_DRIVER, 2);
	assert_int_equal(VIO_STATUS_DRIVER_OK, 4);
	assert_int_equal(VIO_STATUS_FEATURES_OK, 8);
	assert_int_equal(VIO_STATUS_SUSPEND, 16);
	assert_int_equal(VIO_STATUS_DEVICE_NEEDS_RESET, 64);
	assert_int_equal(VIO_STATUS_FAILED, 128);
}

static void test_features_none_is_empty(void **state)
{
	(void)state;
	struct vio_features f = vio_features_none();
	for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
		assert_true(f.w[i] == 0);
	for (unsigned b = 0; b < 200; b++)
		assert_false(vio_features_test(&f, b));
}

static void test_features_set_test_clear_each_bit(void **state)
{
	(void)state;
	for (unsigned b = 0; b < VIO_FEATURE_BITS; b++) {
		struct vio_features f = vio_features_none();
		assert_true(vio_features_set(&f, b));
		/* Exactly bit b, in word b / 64 at position b % 64. */
		for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
			assert_true(f.w[i] == (i == b / 64 ? (uint64_t)1 << (b % 64) : 0));
		for (unsigned o = 0; o < VIO_FEATURE_BITS; o++)
			assert_int_equal(vio_features_test(&f, o), o == b);
		/* Setting twice is idempotent. */
		assert_true(vio_features_set(&f, b));
		assert_true(f.w[b / 64] == (uint64_t)1 << (b % 64));
		vio_features_clear(&f, b);
		for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
			assert_true(f.w[i] == 0);
		/* Clearing in a full set removes only bit b. */
		struct vio_features g = all_ones();
		vio_features_clear(&g, b);
		for (unsigned o = 0; o < VIO_FEATURE_BITS; o++)
			assert_int_equal(vio_features_test(&g, o), o != b);
		vio_features_clear(&g, b);
		assert_false(vio_features_test(&g, b));
	}
	/* Accumulate every bit: the set becomes all ones. */
	struct vio_features f = vio_features_none();
	for (unsigned b = 0; b < VIO_FEATURE_BITS; b++)
		assert_true(vio_features_set(&f, b));
	struct vio_features ones = all_ones();
	assert_true(vio_features_equal(&f, &ones));
}

static void test_features_out_of_range_bits(void **state)
{
	(void)state;
	static const unsigned bad[] = {128, 129, 191, 192, 255, 256, 1000, 65536, UINT_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vio_features f = vio_features_none();
		assert_false(vio_features_set(&f, bad[i]));
		assert_true(f.w[0] == 0 && f.w[1] == 0);
		/* A full set still reads 0 beyond its width. */
		struct vio_features g = all_ones();
		assert_false(vio_features_test(&g, bad[i]));
		vio_features_clear(&g, bad[i]);
		assert_true(g.w[0] == UINT64_MAX && g.w[1] == UINT64_MAX);
		/* Bit n and n mod 128 must not alias. */
		struct vio_features h = vio_features_none();
		assert_true(vio_features_set(&h, bad[i] % 128));
		assert_false(vio_features_test(&h, bad[i]));
	}
}

static void test_features_and_or(void **state)
{
	(void)state;
	struct vio_features a = vio_features_none(), b = vio_features_none();
	vio_features_set(&a, 0);
	vio_features_set(&a, VIO_F_VERSION_1);
	vio_features_set(&a, 70);
	vio_features_set(&a, 127);
	vio_features_set(&b, VIO_F_VERSION_1);
	vio_features_set(&b, VIO_F_RING_PACKED);
	vio_features_set(&b, 127);

	struct vio_features x = vio_features_and(&a, &b);
	assert_true(x.w[0] == (uint64_t)1 << 32);
	assert_true(x.w[1] == (uint64_t)1 << 63);
	struct vio_features y = vio_features_or(&a, &b);
	assert_true(y.w[0] == ((uint64_t)1 | (uint64_t)1 << 32 | (uint64_t)1 << 34));
	assert_true(y.w[1] == ((uint64_t)1 << 6 | (uint64_t)1 << 63));

	for (unsigned k = 0; k < 2000; k++) {
		struct vio_features p = random_set(), q = random_set();
		struct vio_features n = vio_features_and(&p, &q);
		struct vio_features o = vio_features_or(&p, &q);
		for (unsigned bit = 0; bit < VIO_FEATURE_BITS; bit++) {
			assert_int_equal(vio_features_test(&n, bit),
					 ref_bit(&p, bit) && ref_bit(&q, bit));
			assert_int_equal(vio_features_test(&o, bit),
					 ref_bit(&p, bit) || ref_bit(&q, bit));
		}
		/* The inputs are not modified. */
		struct vio_features p2 = vio_features_and(&p, &p);
		assert_true(vio_features_equal(&p2, &p));
	}
}

static void test_features_subset_equal(void **state)
{
	(void)state;
	struct vio_features none = vio_features_none(), ones = all_ones();
	assert_true(vio_features_subset(&none, &none));
	assert_true(vio_features_subset(&none, &ones));
	assert_false(vio_features_subset(&ones, &none));
	assert_true(vio_features_subset(&ones, &ones));
	assert_true(vio_features_equal(&none, &none));
	assert_false(vio_features_equal(&none, &ones));

	/* A single bit in either word breaks subset and equality. */
	for (unsigned b = 0; b < VIO_FEATURE_BITS; b++) {
		struct vio_features one = vio_features_none();
		vio_features_set(&one, b);
		assert_true(vio_features_subset(&one, &ones));
		assert_false(vio_features_subset(&one, &none));
		assert_false(vio_features_equal(&one, &none));
		struct vio_features all_but = all_ones();
		vio_features_clear(&all_but, b);
		assert_false(vio_features_subset(&one, &all_but));
		assert_true(vio_features_subset(&all_but, &ones));
		assert_false(vio_features_equal(&all_but, &ones));
	}

	for (unsigned k = 0; k < 2000; k++) {
		struct vio_features p = random_set(), q = random_set();
		struct vio_features n = vio_features_and(&p, &q);
		struct vio_features o = vio_features_or(&p, &q);
		/* p ∩ q ⊆ p ⊆ p ∪ q. */
		assert_true(vio_features_subset(&n, &p));
		assert_true(vio_features_subset(&p, &o));
		bool ref = true;
		for (unsigned bit = 0; bit < VIO_FEATURE_BITS; bit++)
			if (ref_bit(&p, bit) && !ref_bit(&q, bit))
				ref = false;
		assert_int_equal(vio_features_subset(&p, &q), ref);
		assert_int_equal(vio_features_equal(&p, &q), memcmp(&p, &q, sizeof(p)) == 0);
		struct vio_features c = p;
		assert_true(vio_features_equal(&c, &p));
	}
}

static void test_features_word32_windows(void **state)
{
	(void)state;
	struct vio_features f = vio_features_none();
	f.w[0] = 0x1111111122222222ull;
	f.w[1] = 0x3333333344444444ull;
	assert_int_equal(vio_features_word32(&f, 0), 0x22222222u);
	assert_int_equal(vio_features_word32(&f, 1), 0x11111111u);
	assert_int_equal(vio_features_word32(&f, 2), 0x44444444u);
	assert_int_equal(vio_features_word32(&f, 3), 0x33333333u);

	/* VERSION_1 (bit 32) is bit 0 of window 1, as transports show it. */
	struct vio_features v = vio_features_none();
	vio_features_set(&v, VIO_F_VERSION_1);
	vio_features_set(&v, VIO_F_INDIRECT_DESC);
	assert_int_equal(vio_features_word32(&v, 0), 1u << 28);
	assert_int_equal(vio_features_word32(&v, 1), 1u);

	for (uint32_t sel = 0; sel < 4; sel++) {
		for (unsigned k = 0; k < 500; k++) {
			struct vio_features g = random_set(), before = g;
			uint32_t val = (uint32_t)rnd64();
			assert_true(vio_features_set_word32(&g, sel, val));
			assert_int_equal(vio_features_word32(&g, sel), val);
			for (uint32_t o = 0; o < 4; o++)
				if (o != sel)
					assert_int_equal(vio_features_word32(&g, o),
							 vio_features_word32(&before, o));
			/* Bit 32·sel + i is bit i of the window. */
			for (unsigned i = 0; i < 32; i++)
				assert_int_equal(vio_features_test(&g, 32 * sel + i),
						 (val >> i) & 1);
		}
	}
	/* Window values are independent of each other: rebuild a set by windows. */
	for (unsigned k = 0; k < 500; k++) {
		struct vio_features src = random_set(), dst = vio_features_none();
		for (uint32_t sel = 0; sel < 4; sel++)
			assert_true(
				vio_features_set_word32(&dst, sel, vio_features_word32(&src, sel)));
		assert_true(vio_features_equal(&src, &dst));
	}
}

static void test_features_word32_beyond(void **state)
{
	(void)state;
	static const uint32_t beyond[] = {4, 5, 8, 31, 32, 0x80000000u, UINT32_MAX};
	for (size_t i = 0; i < sizeof(beyond) / sizeof(beyond[0]); i++) {
		struct vio_features f = all_ones();
		assert_int_equal(vio_features_word32(&f, beyond[i]), 0);
		assert_false(vio_features_set_word32(&f, beyond[i], 0));
		assert_true(f.w[0] == UINT64_MAX && f.w[1] == UINT64_MAX);
		struct vio_features g = vio_features_none();
		assert_false(vio_features_set_word32(&g, beyond[i], 0xffffffffu));
		assert_true(g.w[0] == 0 && g.w[1] == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_features_spec_bit_numbers),
		cmocka_unit_test(test_features_spec_status_bits),
		cmocka_unit_test(test_features_none_is_empty),
		cmocka_unit_test(test_features_set_test_clear_each_bit),
		cmocka_unit_test(test_features_out_of_range_bits),
		cmocka_unit_test(test_features_and_or),
		cmocka_unit_test(test_features_subset_equal),
		cmocka_unit_test(test_features_word32_windows),
		cmocka_unit_test(test_features_word32_beyond),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
