/* SPDX-License-Identifier: MIT */
/* The run-time version query agrees with the compile-time macros (and with
 * the version CMake put into the package files, VIO_TEST_PROJECT_VERSION). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <virtio/virtio.h>

/* "A.B.C" -> three numbers; fails the test on anything else. */
static void parse_version(const char *s, unsigned *major, unsigned *minor, unsigned *patch)
{
	int end = -1;
	assert_non_null(s);
	assert_int_equal(sscanf(s, "%u.%u.%u%n", major, minor, patch, &end), 3);
	assert_int_equal((size_t)end, strlen(s));
}

static void test_version_number_matches_macros(void **state)
{
	(void)state;
	unsigned v = vio_version();
	assert_int_equal(v, VIO_VERSION_NUMBER);
	assert_int_equal(v >> 16, VIO_VERSION_MAJOR);
	assert_int_equal((v >> 8) & 0xffu, VIO_VERSION_MINOR);
	assert_int_equal(v & 0xffu, VIO_VERSION_PATCH);
}

static void test_version_string_matches_macros(void **state)
{
	(void)state;
	assert_string_equal(vio_version_string(), VIO_VERSION_STRING);
	/* The same static string every time. */
	assert_ptr_equal(vio_version_string(), vio_version_string());
}

static void test_version_string_matches_number(void **state)
{
	(void)state;
	unsigned major, minor, patch;
	parse_version(vio_version_string(), &major, &minor, &patch);
	assert_int_equal(major, vio_version() >> 16);
	assert_int_equal(minor, (vio_version() >> 8) & 0xffu);
	assert_int_equal(patch, vio_version() & 0xffu);
}

static void test_version_matches_cmake_project(void **state)
{
	(void)state;
#ifdef VIO_TEST_PROJECT_VERSION
	assert_string_equal(vio_version_string(), VIO_TEST_PROJECT_VERSION);
#else
	skip();
#endif
}

#if VIO_VERSION_NUMBER < 0x000200u
#error "VIO_VERSION_NUMBER must be usable in #if (and this tree is at least 0.2)"
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_number_matches_macros),
		cmocka_unit_test(test_version_string_matches_macros),
		cmocka_unit_test(test_version_string_matches_number),
		cmocka_unit_test(test_version_matches_cmake_project),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
