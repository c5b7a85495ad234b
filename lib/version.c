/* SPDX-License-Identifier: MIT */
/* The run-time version query (include/virtio/version.h). */
#include <virtio/version.h>

_Static_assert(VIO_VERSION_MINOR < 256 && VIO_VERSION_PATCH < 256,
	       "vio_version() packs minor and patch into 8 bits each");

unsigned vio_version(void)
{
	return VIO_VERSION_NUMBER;
}

const char *vio_version_string(void)
{
	return VIO_VERSION_STRING;
}
