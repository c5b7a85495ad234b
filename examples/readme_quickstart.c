/* SPDX-License-Identifier: MIT */
/* README quick start: a driver queue and a device queue over shared memory,
 * one request round trip. README.md shows this file verbatim (test
 * readme_quickstart_in_sync). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <virtio/virtio.h>

#define QSIZE 8 /* queue entries; a split ring needs a power of two */

/* Memory both sides see (guest RAM in a VM): the split ring's three parts
 * and the buffers. */
static struct {
	_Alignas(16) unsigned char desc[VIO_SPLIT_DESC_SIZE(QSIZE)];
	_Alignas(2) unsigned char avail[VIO_SPLIT_AVAIL_SIZE(QSIZE)];
	_Alignas(4) unsigned char used[VIO_SPLIT_USED_SIZE(QSIZE)];
	char request[16], reply[16];
} shm;

/* Each side's private bookkeeping: the library allocates nothing. */
static _Alignas(VIO_VQ_MEM_ALIGN) unsigned char vq_mem[VIO_VQ_MEM_SIZE(QSIZE)];
static _Alignas(VIO_DEVQ_MEM_ALIGN) unsigned char devq_mem[VIO_DEVQ_MEM_SIZE(QSIZE)];

int main(void)
{
	/* The features both sides agreed on (a transport negotiates them). */
	struct vio_features feat = vio_features_none();
	vio_features_set(&feat, VIO_F_VERSION_1);

	/* Driver: a split queue laid over the shared ring memory. */
	struct vio_vq_config vc = {.format = VIO_RING_SPLIT,
				   .size = QSIZE,
				   .features = feat,
				   .desc = shm.desc,
				   .driver_area = shm.avail,
				   .device_area = shm.used};
	struct vio_vq *vq;
	int rc = vio_vq_init(&vq, vq_mem, sizeof(vq_mem), &vc);

	/* Device: the same ring, found by the addresses the driver publishes
	 * (a transport carries them); it may touch only the memory its region
	 * table grants (here the shared block, at its own address because the
	 * driver uses identity addresses). */
	struct vio_mem_region ram = {(uint64_t)(uintptr_t)&shm, sizeof(shm), &shm, VIO_MAP_RW};
	struct vio_devq_config dc = {.format = VIO_RING_SPLIT,
				     .size = QSIZE,
				     .features = feat,
				     .regions = &ram,
				     .nregions = 1};
	if (rc == 0)
		rc = vio_vq_ring_addrs(vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr);
	struct vio_devq *dq;
	if (rc == 0)
		rc = vio_devq_init(&dq, devq_mem, sizeof(devq_mem), &dc);
	if (rc < 0) {
		printf("set-up failed: %s\n", vio_strerror(rc));
		return 1;
	}

	/* Driver: offer a request (device-readable) and room for the reply
	 * (device-writable); the token comes back with the completion. Then
	 * kick if the device wants to be told. */
	strcpy(shm.request, "ping");
	struct vio_sg sg[2] = {{shm.request, sizeof(shm.request)}, {shm.reply, sizeof(shm.reply)}};
	rc = vio_vq_add(vq, sg, 1, 1, shm.request);
	if (rc == 0 && vio_vq_kick_prepare(vq))
		puts("driver: kick the device");

	/* Device: take the chain (validated, translated into segments), read
	 * the request, write the reply, hand the chain back with the byte
	 * count written. Interrupt the driver if it wants to be told. */
	struct vio_chain ch;
	struct vio_chain_seg segs[4];
	char req[16] = "";
	if (rc == 0)
		rc = vio_devq_pop(dq, &ch, segs, 4);
	if (rc == 0) {
		vio_chain_read(&ch, 0, req, sizeof(req) - 1);
		uint32_t n = (uint32_t)vio_chain_write(&ch, 0, "pong", 5);
		printf("device: got \"%s\", replied with %u bytes\n", req, (unsigned)n);
		rc = vio_devq_push(dq, &ch, n);
	}
	if (rc == 0 && vio_devq_needs_notify(dq))
		puts("device: interrupt the driver");

	/* Driver: reap the completion: its token and the bytes written. */
	void *token;
	uint32_t len;
	if (rc == 0)
		rc = vio_vq_get(vq, &token, &len);
	if (rc < 0 || token != shm.request || len != 5 || strcmp(shm.reply, "pong") != 0) {
		printf("FAIL: %s\n", rc < 0 ? vio_strerror(rc) : "wrong completion");
		return 1;
	}
	printf("driver: got \"%s\" (%u bytes)\nOK: one round trip with libvirtio %s\n", shm.reply,
	       (unsigned)len, vio_version_string());
	return 0;
}
