/* SPDX-License-Identifier: MIT */
/* vhost-user back end: validation of a received message (header, payload
 * size for its request, file descriptor count) before anything reads it.
 * Sizes and fd rules from QEMU's docs/interop/vhost-user.rst ("Message
 * Specification", "Front-end message types"). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/errors.h>
#include <virtio/vhost_user.h>
#include <virtio/vhost_user_backend.h>

_Static_assert(sizeof(struct vio_vhost_user_hdr) == VIO_VHOST_USER_HDR_SIZE, "header");
_Static_assert(sizeof(struct vio_vhost_user_vring_state) == 8, "vring state");
_Static_assert(sizeof(struct vio_vhost_user_vring_addr) == 40, "vring address");
_Static_assert(sizeof(struct vio_vhost_user_mem_region) == 32, "memory region");
_Static_assert(sizeof(struct vio_vhost_user_memory) == 8 + 32 * VIO_VHOST_USER_MAX_REGIONS,
	       "memory table");
_Static_assert(sizeof(struct vio_vhost_user_log) == 16, "log");
_Static_assert(offsetof(struct vio_vhost_user_config, region) == 12, "config header");
_Static_assert(sizeof(struct vio_vhost_user_config) == VIO_VHOST_USER_PAYLOAD_MAX, "config");
_Static_assert(sizeof(struct vio_vhost_user_inflight) == 24, "inflight");

#define CONFIG_HDR 12u
#define KNOWN_FLAGS (VIO_VHOST_USER_VERSION_MASK | VIO_VHOST_USER_FLAG_NEED_REPLY)

int vio_vhost_user_msg_check_hdr(const struct vio_vhost_user_hdr *hdr)
{
	if ((hdr->flags & VIO_VHOST_USER_VERSION_MASK) != VIO_VHOST_USER_VERSION)
		return -VIO_EVHOST_MSG;
	/* A front end never sends a reply; other bits are undefined. */
	if ((hdr->flags & ~KNOWN_FLAGS) != 0)
		return -VIO_EVHOST_MSG;
	if (hdr->size > VIO_VHOST_USER_PAYLOAD_MAX)
		return -VIO_EVHOST_MSG;
	return 0;
}

/* Fd rule of SET_VRING_KICK/CALL/ERR: none with the NOFD bit, else one. */
static uint32_t vring_fd_count(uint64_t u64)
{
	return (u64 & VIO_VHOST_USER_VRING_NOFD_MASK) != 0 ? 0u : 1u;
}

/* Expected payload size and fd count of request @m, or -VIO_EVHOST_UNSUPPORTED
 * for a request this back end does not know. Variable sizes read the
 * payload's own count, which lies inside the size checked first. */
static int expect(const struct vio_vhost_user_msg *m, uint32_t *size, uint32_t *nfds)
{
	uint32_t sz = m->hdr.size;
	*nfds = 0;
	switch ((enum vio_vhost_user_request)m->hdr.request) {
	case VIO_VHOST_USER_GET_FEATURES:
	case VIO_VHOST_USER_SET_OWNER:
	case VIO_VHOST_USER_RESET_OWNER:
	case VIO_VHOST_USER_GET_PROTOCOL_FEATURES:
	case VIO_VHOST_USER_GET_QUEUE_NUM:
	case VIO_VHOST_USER_RESET_DEVICE:
		*size = 0;
		return 0;
	case VIO_VHOST_USER_SET_FEATURES:
	case VIO_VHOST_USER_SET_PROTOCOL_FEATURES:
		*size = 8;
		return 0;
	case VIO_VHOST_USER_SET_VRING_KICK:
	case VIO_VHOST_USER_SET_VRING_CALL:
	case VIO_VHOST_USER_SET_VRING_ERR:
		*size = 8;
		if (sz == 8)
			*nfds = vring_fd_count(m->payload.u64);
		return 0;
	case VIO_VHOST_USER_SET_VRING_NUM:
	case VIO_VHOST_USER_SET_VRING_BASE:
	case VIO_VHOST_USER_GET_VRING_BASE:
	case VIO_VHOST_USER_SET_VRING_ENABLE:
		*size = (uint32_t)sizeof(struct vio_vhost_user_vring_state);
		return 0;
	case VIO_VHOST_USER_SET_VRING_ADDR:
		*size = (uint32_t)sizeof(struct vio_vhost_user_vring_addr);
		return 0;
	case VIO_VHOST_USER_SET_MEM_TABLE: {
		/* 8 + 32·n: n from the payload, 1 .. 8; a size that does not
		 * hold the count cannot match. */
		uint32_t n = sz >= 8 ? m->payload.memory.nregions : 0;
		if (n < 1 || n > VIO_VHOST_USER_MAX_REGIONS)
			*size = 0xffffffffu; /* no size matches */
		else
			*size = 8u + 32u * n;
		*nfds = n;
		return 0;
	}
	case VIO_VHOST_USER_SET_LOG_BASE:
		*size = (uint32_t)sizeof(struct vio_vhost_user_log);
		*nfds = 1;
		return 0;
	case VIO_VHOST_USER_SET_LOG_FD:
		*size = 0;
		*nfds = 1;
		return 0;
	case VIO_VHOST_USER_GET_CONFIG:
	case VIO_VHOST_USER_SET_CONFIG: {
		uint32_t n = sz >= CONFIG_HDR ? m->payload.config.size : 0xffffffffu;
		if (n > VIO_VHOST_USER_MAX_CONFIG_SIZE)
			*size = 0xffffffffu;
		else
			*size = CONFIG_HDR + n;
		return 0;
	}
	case VIO_VHOST_USER_GET_INFLIGHT_FD:
		*size = (uint32_t)sizeof(struct vio_vhost_user_inflight);
		return 0;
	case VIO_VHOST_USER_SET_INFLIGHT_FD:
		*size = (uint32_t)sizeof(struct vio_vhost_user_inflight);
		*nfds = 1;
		return 0;
	default:
		return -VIO_EVHOST_UNSUPPORTED;
	}
}

int vio_vhost_user_msg_check(const struct vio_vhost_user_msg *m)
{
	int rc = vio_vhost_user_msg_check_hdr(&m->hdr);
	if (rc != 0)
		return rc;
	if (m->nfds > VIO_VHOST_USER_MAX_FDS)
		return -VIO_EVHOST_FDS;
	uint32_t size, nfds;
	rc = expect(m, &size, &nfds);
	if (rc != 0)
		return rc;
	if (m->hdr.size != size)
		return -VIO_EVHOST_MSG;
	if (m->nfds != nfds)
		return -VIO_EVHOST_FDS;
	return 0;
}
