/* SPDX-License-Identifier: MIT */
/* Test support: run one cmocka case per ring format.
 *
 * The including file defines `setup` and `teardown` (cmocka fixtures); the
 * setup reads the state, &fmt_split or &fmt_packed, to pick the format.
 * Each case is then named "<function>/<format>". Include after <cmocka.h>
 * and <virtio/virtio.h>. */
#ifndef VIO_TEST_FORMAT_CASES_H
#define VIO_TEST_FORMAT_CASES_H

static enum vio_ring_format fmt_split = VIO_RING_SPLIT;
static enum vio_ring_format fmt_packed = VIO_RING_PACKED;

/* Fail with both codes named when a call does not return the error wanted. */
#define assert_err(expr, want)                                                                     \
	do {                                                                                       \
		int got_ = (expr), want_ = (want);                                                 \
		if (got_ != want_)                                                                 \
			fail_msg("%s = %d (%s), expected %d (%s)", #expr, got_,                    \
				 vio_err_name(got_), want_, vio_err_name(want_));                  \
	} while (0)

#define TEST_F(fn, fmt)                                                                            \
	{                                                                                          \
#fn "/" #fmt, fn, setup, teardown, &fmt_##fmt                                      \
	}
#define SPLIT(fn) TEST_F(fn, split)
#define PACKED(fn) TEST_F(fn, packed)
#define BOTH(fn) TEST_F(fn, split), TEST_F(fn, packed)

#endif
