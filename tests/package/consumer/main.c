/* SPDX-License-Identifier: MIT */
/* Consumer of an installed libvirtio: links, includes and checks a few values. */
#include <stdio.h>
#include <string.h>

#include <virtio/virtio.h>

static int failures;

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "FAIL: %s\n", what);
		failures++;
	}
}

int main(void)
{
	struct vio_split_layout l;

	check(strcmp(vio_strerror(-VIO_EDESC_LOOP),
		     "descriptor chain longer than the queue size (a loop)") == 0,
	      "vio_strerror(-VIO_EDESC_LOOP)");
	check(strcmp(vio_err_name(-VIO_EDESC_LOOP), "VIO_EDESC_LOOP") == 0,
	      "vio_err_name(-VIO_EDESC_LOOP)");
	check(vio_err_is_peer(-VIO_EDESC_LOOP) && !vio_err_is_peer(-VIO_EAGAIN), "vio_err_is_peer");

	check(vio_split_layout(256, 4096, &l), "vio_split_layout(256, 4096)");
	check(l.desc_off == 0 && l.avail_off == 4096 && l.used_off == 8192 && l.total == 12288,
	      "split layout offsets for 256 entries, 4096 align");
	check(!vio_split_layout(100, 4096, &l), "vio_split_layout rejects a non-power of two");

#ifdef VIO_EXPECTED_VERSION
	check(strcmp(VIO_VERSION_STRING, VIO_EXPECTED_VERSION) == 0, "VIO_VERSION_STRING");
#endif
	/* The library linked in is the one the headers describe. */
	check(vio_version() == VIO_VERSION_NUMBER, "vio_version() == VIO_VERSION_NUMBER");
	check(strcmp(vio_version_string(), VIO_VERSION_STRING) == 0,
	      "vio_version_string() == VIO_VERSION_STRING");

	if (failures != 0)
		return 1;
	printf("OK libvirtio %s consumer\n", VIO_VERSION_STRING);
	return 0;
}
