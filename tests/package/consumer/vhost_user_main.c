/* SPDX-License-Identifier: MIT */
/* Consumer of an installed libvirtio-vhost-user: a server over one end of a
 * socketpair answers GET_FEATURES from the other end. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <virtio/virtio.h>

int main(void)
{
	static const uint16_t qmax[1] = {8};
	struct vio_device_info info = {0};
	info.device_id = VIO_ID_RNG;
	info.num_queues = 1;
	info.queue_max = qmax;
	struct vio_vhost_user_server_config sc = {0};
	sc.info = &info;
	sc.listen_fd = -1;
	static _Alignas(8) unsigned char mem[16384];
	struct vio_vhost_user_server *s;
	size_t n = vio_vhost_user_server_mem_size(&sc);
	int rc = n == 0 || n > sizeof(mem) ? -VIO_EINVAL
					   : vio_vhost_user_server_init(&s, mem, n, &sc);
	/* vio_strerror() is libvirtio's: the program needs both libraries (a
	 * shared libvirtio-vhost-user carries no run path to libvirtio). */
	if (rc != 0 || strcmp(vio_err_name(-VIO_EVHOST_MSG), "VIO_EVHOST_MSG") != 0) {
		fprintf(stderr, "FAIL: vio_vhost_user_server_init (%zu bytes): %s\n", n,
			vio_strerror(rc));
		return 1;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || vio_vhost_user_server_adopt(s, sv[0]))
		return 1;
	struct vio_vhost_user_hdr h = {VIO_VHOST_USER_GET_FEATURES, VIO_VHOST_USER_VERSION, 0};
	unsigned char r[20];
	if (write(sv[1], &h, sizeof(h)) != (ssize_t)sizeof(h) ||
	    vio_vhost_user_server_run_once(s, 1000) != 0 ||
	    recv(sv[1], r, sizeof(r), MSG_WAITALL) != (ssize_t)sizeof(r)) {
		fprintf(stderr, "FAIL: no reply to GET_FEATURES\n");
		return 1;
	}
	uint64_t f;
	memcpy(&f, r + 12, 8);
	close(sv[1]);
	vio_vhost_user_server_fini(s);
	if ((f & (1ull << VIO_VHOST_USER_F_PROTOCOL_FEATURES)) == 0 ||
	    (f & (1ull << VIO_F_VERSION_1)) == 0) {
		fprintf(stderr, "FAIL: features %#llx\n", (unsigned long long)f);
		return 1;
	}
	printf("OK: vhost-user features %#llx\n", (unsigned long long)f);
	return 0;
}
