/* SPDX-License-Identifier: MIT */
/* Error names and descriptions, generated from the one list in errors.h. */
#include <virtio/errors.h>

/* |err| without negating INT_MIN (undefined behaviour). */
static unsigned err_abs(int err)
{
	return err < 0 ? 0u - (unsigned)err : (unsigned)err;
}

const char *vio_strerror(int err)
{
	switch (err_abs(err)) {
	case 0:
		return "success";
#define VIO__ERR_TEXT(name, value, peer, text)                                                     \
	case value:                                                                                \
		return text;
		VIO_ERRNO_MAP(VIO__ERR_TEXT)
#undef VIO__ERR_TEXT
	default:
		return "unknown error";
	}
}

const char *vio_err_name(int err)
{
	switch (err_abs(err)) {
	case 0:
		return "VIO_OK";
#define VIO__ERR_NAME(name, value, peer, text)                                                     \
	case value:                                                                                \
		return "VIO_E" #name;
		VIO_ERRNO_MAP(VIO__ERR_NAME)
#undef VIO__ERR_NAME
	default:
		return "VIO_E?";
	}
}

bool vio_err_is_peer(int err)
{
	switch (err_abs(err)) {
#define VIO__ERR_PEER(name, value, peer, text)                                                     \
	case value:                                                                                \
		return peer != 0;
		VIO_ERRNO_MAP(VIO__ERR_PEER)
#undef VIO__ERR_PEER
	default:
		return false;
	}
}
