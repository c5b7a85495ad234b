/* SPDX-License-Identifier: MIT */
/*
 * The vhost-user front end (vhost_user_front.h) and the driver core against
 * a hostile back end.
 *
 * The io callbacks play an honest back end whose every reply may be
 * replaced by bytes from the input: before each reply the harness takes a
 * byte; below 0xa0 the honest reply goes into the stream, 0xa0..0xef a
 * forged one (a 12-byte header from the input, then as many payload bytes
 * as the next input byte says), 0xf0..0xf7 nothing (a silent back end: the
 * front's read times out), 0xf8..0xff a closed connection. Past the end of
 * the input every reply is honest, so every run ends.
 *
 * Input: a 12-byte header, then the reply stream's choices. Header:
 *   0..7   features offered by GET_FEATURES (little-endian u64)
 *   8..9   protocol features offered (bits 0–15; little-endian u16)
 *   10     flags: 1 driver offers packed, 2 back end offers PROTOCOL_F_STATUS,
 *          4 set up queue 1 too, 8 the honest GET_FEATURES drops bit 30 after
 *          the first reply
 *   11     GET_QUEUE_NUM's honest answer
 * The harness connects, negotiates, reads and writes configuration, sets up
 * queues, goes live, kicks, takes interrupts, resets, and does it again.
 *
 * Invariants (FZ_CHECK):
 *   - every request is version 1 without REPLY, its size fits the largest
 *     payload, it carries fds only where the protocol puts them (one per
 *     region with SET_MEM_TABLE, one with SET_VRING_KICK/CALL);
 *   - the front never asks the io for more than the largest reply payload;
 *   - once the front latched a connection error it sends nothing more;
 *   - a protocol error from the front (VHOST_REPLY, VHOST_TIMEOUT,
 *     VHOST_IO, DEVICE) during bring-up leaves the driver FAILED;
 *   - the run is bounded (a message budget).
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

#include <virtio/driver.h>
#include <virtio/errors.h>
#include <virtio/features.h>
#include <virtio/spec.h>
#include <virtio/vhost_user.h>
#include <virtio/vhost_user_front.h>

#define MAX_MSGS 400u
#define ARENA 65536u
#define GPA UINT64_C(0x100000)
#define QSIZE 16u

struct be {
	struct fz_in *in;
	uint64_t features, features_later;
	uint64_t proto;
	uint64_t queue_num;
	unsigned gets;	 /* GET_FEATURES answered */
	uint64_t status; /* the last SET_STATUS */
	unsigned char out[4096];
	size_t len, pos;
	bool closed;
	unsigned msgs;
	struct vio_vhost_user_front *f;
};

static void put(struct be *b, const void *p, size_t n)
{
	if (b->len + n > sizeof(b->out))
		n = sizeof(b->out) - b->len;
	memcpy(b->out + b->len, p, n);
	b->len += n;
}

static void reply(struct be *b, uint32_t req, const void *payload, uint32_t size)
{
	uint8_t sel = fz_u8(b->in);
	if (sel < 0xa0) {
		struct vio_vhost_user_hdr h = {
			req, VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY, size};
		put(b, &h, sizeof(h));
		put(b, payload, size);
	} else if (sel < 0xf0) {
		unsigned char forged[12 + 255];
		fz_bytes(b->in, forged, 12);
		size_t n = fz_u8(b->in);
		fz_bytes(b->in, forged + 12, n);
		put(b, forged, 12 + n);
	} else if (sel >= 0xf8) {
		b->closed = true;
	}
}

static int be_send(void *ctx, const void *msg, size_t len, const int *fds, unsigned nfds)
{
	struct be *b = ctx;
	FZ_CHECK(vio_vhost_user_front_error(b->f) == 0);
	FZ_CHECK(++b->msgs <= MAX_MSGS);
	FZ_CHECK(len >= 12 && len <= 12 + 268);
	struct vio_vhost_user_hdr h;
	memcpy(&h, msg, 12);
	FZ_CHECK(h.size == len - 12);
	FZ_CHECK((h.flags & ~VIO_VHOST_USER_FLAG_NEED_REPLY) == VIO_VHOST_USER_VERSION);
	unsigned char p[268];
	memcpy(p, (const unsigned char *)msg + 12, h.size);
	if (h.request == VIO_VHOST_USER_SET_MEM_TABLE) {
		uint32_t n;
		memcpy(&n, p, 4);
		FZ_CHECK(n == nfds && n == 1 && fds[0] == 7);
	} else if (h.request == VIO_VHOST_USER_SET_VRING_KICK ||
		   h.request == VIO_VHOST_USER_SET_VRING_CALL) {
		FZ_CHECK(nfds == 1);
	} else {
		FZ_CHECK(nfds == 0);
	}
	if (b->closed)
		return -VIO_EVHOST_IO;

	uint64_t v = 0;
	switch (h.request) {
	case VIO_VHOST_USER_GET_FEATURES:
		v = b->gets++ == 0 ? b->features : b->features_later;
		reply(b, h.request, &v, 8);
		break;
	case VIO_VHOST_USER_GET_PROTOCOL_FEATURES:
		reply(b, h.request, &b->proto, 8);
		break;
	case VIO_VHOST_USER_GET_QUEUE_NUM:
		reply(b, h.request, &b->queue_num, 8);
		break;
	case VIO_VHOST_USER_GET_STATUS:
		reply(b, h.request, &b->status, 8);
		break;
	case VIO_VHOST_USER_GET_CONFIG: {
		/* blk-like bytes: capacity 64, the rest 0 */
		if (h.size >= 12 + 8)
			p[12] = 64;
		reply(b, h.request, p, h.size);
		break;
	}
	case VIO_VHOST_USER_GET_VRING_BASE:
		reply(b, h.request, p, 8);
		break;
	default:
		if (h.request == VIO_VHOST_USER_SET_STATUS)
			memcpy(&b->status, p, 8);
		if (h.flags & VIO_VHOST_USER_FLAG_NEED_REPLY)
			reply(b, h.request, &v, 8);
		break;
	}
	return 0;
}

static int be_recv(void *ctx, void *buf, size_t len)
{
	struct be *b = ctx;
	FZ_CHECK(len <= 268);
	if (b->len - b->pos < len)
		return b->closed ? -VIO_EVHOST_IO : -VIO_EVHOST_TIMEOUT;
	memcpy(buf, b->out + b->pos, len);
	b->pos += len;
	return 0;
}

static int be_kick(void *ctx, uint16_t index)
{
	(void)ctx;
	FZ_CHECK(index < 2);
	return 0;
}

static int be_call(void *ctx, uint16_t index, bool *fired)
{
	struct be *b = ctx;
	FZ_CHECK(index < 2);
	*fired = (fz_u8(b->in) & 1) != 0;
	return 0;
}

static int be_fds(void *ctx, uint16_t index, int *kick, int *call)
{
	(void)ctx;
	*kick = 10 + index;
	*call = 20 + index;
	return 0;
}

static const struct vio_vhost_user_front_io io = {
	.send = be_send,
	.recv = be_recv,
	.kick = be_kick,
	.call_pending = be_call,
	.queue_fds = be_fds,
};

static _Alignas(4096) unsigned char arena[ARENA];

static int to_gpa(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir, uint64_t *addr)
{
	(void)ctx;
	(void)dir;
	uintptr_t p = (uintptr_t)ptr, a = (uintptr_t)arena;
	if (p < a || p - a + len > ARENA)
		return -VIO_EDMA;
	*addr = GPA + (p - a);
	return 0;
}

static const struct vio_dma_ops dma = {.to_device = to_gpa};

static bool protocol_error(int rc)
{
	return rc == -VIO_EVHOST_REPLY || rc == -VIO_EVHOST_TIMEOUT || rc == -VIO_EVHOST_IO ||
	       rc == -VIO_EDEVICE;
}

/* One bring-up; returns whether the driver went live. */
static bool bring_up(struct be *b, struct vio_drv *drv, bool two)
{
	_Alignas(8) static unsigned char vq_mem[2][VIO_VQ_MEM_SIZE(QSIZE)];
	int rc = vio_drv_negotiate(drv);
	if (protocol_error(rc))
		FZ_CHECK(vio_drv_state(drv) == VIO_DRV_FAILED);
	if (rc < 0)
		return false;
	uint64_t v;
	rc = vio_drv_config_read(drv, 0, 8, &v);
	if (protocol_error(rc))
		FZ_CHECK(vio_drv_state(drv) == VIO_DRV_FAILED || rc == -VIO_EDEVICE ||
			 vio_vhost_user_front_error(b->f) != 0);
	(void)vio_drv_config_write(drv, 32, 1, 1);
	for (uint16_t q = 0; q < (two ? 2 : 1); q++) {
		struct vio_drv_queue_config qc = {0};
		qc.size = QSIZE;
		qc.ring = arena + 8192u * q;
		qc.vq_mem = vq_mem[q];
		qc.vq_mem_size = sizeof(vq_mem[q]);
		rc = vio_drv_queue_setup(drv, q, &qc, NULL);
		if (protocol_error(rc))
			FZ_CHECK(vio_drv_state(drv) == VIO_DRV_FAILED);
		if (rc == -VIO_ENODEV)
			break;
		if (rc < 0)
			return false;
	}
	rc = vio_drv_ready(drv);
	if (protocol_error(rc))
		FZ_CHECK(vio_drv_state(drv) == VIO_DRV_FAILED);
	return rc == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	static struct be b;
	memset(&b, 0, sizeof(b));
	b.in = &in;
	b.features = fz_u64(&in);
	b.proto = fz_u16(&in);
	uint8_t flags = fz_u8(&in);
	b.queue_num = fz_u8(&in);
	if (flags & 2)
		b.proto |= UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_STATUS;
	b.features_later = b.features;
	if (flags & 8)
		b.features_later &= ~(UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES);

	_Alignas(8) static unsigned char fmem[VIO_VHOST_USER_FRONT_MEM_SIZE(2)];
	struct vio_vhost_user_front_config fc = {.io = &io,
						 .io_ctx = &b,
						 .device_id = VIO_ID_BLOCK,
						 .queue_slots = 2,
						 .queue_max = QSIZE};
	FZ_CHECK(vio_vhost_user_front_init(&b.f, fmem, sizeof(fmem), &fc) == 0);
	struct vio_vhost_user_mem_region r = {GPA, ARENA, (uint64_t)(uintptr_t)arena, 0};
	FZ_CHECK(vio_vhost_user_front_add_region(b.f, &r, 7) == 0);
	int rc = vio_vhost_user_front_connect(b.f);
	if (rc < 0) {
		FZ_CHECK(protocol_error(rc) || rc == -VIO_EVHOST_NACK);
		return 0;
	}

	_Alignas(8) static unsigned char dmem[VIO_DRV_MEM_SIZE(2)];
	struct vio_drv_config dc = {0};
	vio_vhost_user_front_drv_config(b.f, &dc);
	dc.num_queues = 2;
	dc.device_id = VIO_ID_BLOCK;
	dc.dma_ops = &dma;
	dc.reset_polls = 4;
	if (flags & 1)
		vio_features_set(&dc.features, VIO_F_RING_PACKED);
	struct vio_drv *drv;
	FZ_CHECK(vio_drv_init(&drv, dmem, sizeof(dmem), &dc) == 0);

	for (int round = 0; round < 2; round++) {
		if (bring_up(&b, drv, (flags & 4) != 0)) {
			(void)vio_drv_notify(drv, 0);
			uint32_t causes;
			(void)vio_drv_interrupt(drv, &causes);
		}
		(void)vio_drv_reset(drv);
	}
	return 0;
}
