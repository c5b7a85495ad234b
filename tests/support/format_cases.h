/* SPDX-License-Identifier: MIT */
/* Test support: run one cmocka case per ring format.
 *
 * The including file defines `setup` and `teardown` (cmocka fixtures) and
 * two state objects `fmt_split` and `fmt_packed` that its setup reads to
 * pick the format. Each case is then named "<function>/<format>". */
#ifndef VIO_TEST_FORMAT_CASES_H
#define VIO_TEST_FORMAT_CASES_H

#define TEST_F(fn, fmt)                                                                            \
	{                                                                                          \
#fn "/" #fmt, fn, setup, teardown, &fmt_##fmt                                      \
	}
#define SPLIT(fn) TEST_F(fn, split)
#define PACKED(fn) TEST_F(fn, packed)
#define BOTH(fn) TEST_F(fn, split), TEST_F(fn, packed)

#endif
