/* SPDX-License-Identifier: MIT */
/* vhost-user front end: the driver core's transport ops as front-end
 * messages (QEMU docs/interop/vhost-user.rst), every reply checked. No
 * system call here: the io callbacks move the bytes and the fds.
 *
 * Messages are in host byte order (both ends share the machine); the
 * payload starts at byte 12, right after the header, so messages are built
 * in a byte buffer rather than in a struct (which would pad the header). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/driver.h>
#include <virtio/errors.h>
#include <virtio/features.h>
#include <virtio/port.h>
#include <virtio/queue.h>
#include <virtio/spec.h>
#include <virtio/vhost_user.h>
#include <virtio/vhost_user_front.h>

#define HDR VIO_VHOST_USER_HDR_SIZE
/* The largest payload sent or received: GET/SET_CONFIG (12 + 256 bytes). */
#define CONFIG_HDR 12u
#define MAX_PAYLOAD (CONFIG_HDR + VIO_VHOST_USER_MAX_CONFIG_SIZE)
#define MEM_HDR 8u
#define REGION_BYTES 32u

/* Queue flags. */
#define QF_SET 0x1u	/* SET_VRING_NUM/BASE/ADDR sent */
#define QF_STARTED 0x2u /* SET_VRING_KICK sent, not stopped since */
#define QF_STOPPED 0x4u /* a GET_VRING_BASE reply is in base */
#define QF_PACKED 0x8u	/* the ring is packed (for decoding base) */

struct front_queue {
	uint32_t base; /* last GET_VRING_BASE num */
	uint16_t size;
	uint8_t flags;
	uint8_t pad;
};

struct front_region {
	struct vio_vhost_user_mem_region r;
	int fd;
};

struct vio_vhost_user_front {
	const struct vio_vhost_user_front_io *io;
	void *io_ctx;
	uint64_t proto_allowed;
	uint64_t backend_features; /* last GET_FEATURES */
	uint64_t backend_proto;	   /* GET_PROTOCOL_FEATURES */
	uint64_t proto;		   /* sent with SET_PROTOCOL_FEATURES */
	uint64_t driver_features;  /* collected from set_driver_features */
	uint64_t acked;		   /* sent with SET_FEATURES */
	uint32_t device_id;
	int error; /* latched connection error */
	uint16_t slots;
	uint16_t queue_max;
	uint16_t backend_queues; /* GET_QUEUE_NUM, 0 without MQ */
	uint8_t status;		 /* kept here: vhost-user has no status register */
	bool connected;
	bool have_features;
	bool protocol_bit; /* bit 30 offered at connect */
	bool dirty;	   /* something to undo at reset (features, rings) */
	uint8_t nregions;
	struct front_region regions[VIO_VHOST_USER_MAX_REGIONS];
	struct front_queue q[];
};

_Static_assert(sizeof(struct vio_vhost_user_front) <= VIO__VHOST_USER_FRONT_FIXED_BYTES,
	       "VIO__VHOST_USER_FRONT_FIXED_BYTES too small");
_Static_assert(sizeof(struct front_queue) <= VIO__VHOST_USER_FRONT_PER_QUEUE_BYTES,
	       "VIO__VHOST_USER_FRONT_PER_QUEUE_BYTES too small");
_Static_assert(_Alignof(struct vio_vhost_user_front) <= VIO_VHOST_USER_FRONT_MEM_ALIGN,
	       "VIO_VHOST_USER_FRONT_MEM_ALIGN too small");
_Static_assert(sizeof(struct vio_vhost_user_hdr) == HDR, "vhost-user header is 12 bytes");
_Static_assert(sizeof(struct vio_vhost_user_vring_state) == 8, "vring state is 8 bytes");
_Static_assert(sizeof(struct vio_vhost_user_vring_addr) == 40, "vring addr is 40 bytes");
_Static_assert(sizeof(struct vio_vhost_user_mem_region) == REGION_BYTES, "region is 32 bytes");
_Static_assert(offsetof(struct vio_vhost_user_memory, regions) == MEM_HDR, "memory header");
_Static_assert(offsetof(struct vio_vhost_user_config, region) == CONFIG_HDR, "config header");

/* Virtio feature bits of the vhost protocol, not of the device. */
#define VHOST_ONLY_BITS                                                                            \
	((UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES) | (UINT64_C(1) << VIO_VHOST_F_LOG_ALL))
/* Transport features an eventfd cannot carry (§2.9: the notification
 * data rides with the notification, and a kick eventfd has none). */
#define NO_EVENTFD_BITS                                                                            \
	((UINT64_C(1) << VIO_F_NOTIFICATION_DATA) | (UINT64_C(1) << VIO_F_NOTIF_CONFIG_DATA))

static bool proto_has(const struct vio_vhost_user_front *f, unsigned bit)
{
	return (f->proto & (UINT64_C(1) << bit)) != 0;
}

/* The back end runs rings in the "enabled only by SET_VRING_ENABLE" mode
 * once bit 30 is acknowledged (vhost-user.rst "Ring states"). */
static bool protocol_acked(const struct vio_vhost_user_front *f)
{
	return (f->acked & (UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES)) != 0;
}

/* A malformed reply, a timeout or a dead socket leaves the byte stream
 * unusable: remember it, and refuse every later exchange with it. */
static int latch(struct vio_vhost_user_front *f, int rc)
{
	if (f->error == 0 &&
	    (rc == -VIO_EVHOST_REPLY || rc == -VIO_EVHOST_TIMEOUT || rc == -VIO_EVHOST_IO))
		f->error = rc;
	return rc;
}

/* ---- messages ----------------------------------------------------------------------------- */

/* Requests that have a reply of their own; NEED_REPLY means nothing to them. */
static bool has_reply(uint32_t req)
{
	switch (req) {
	case VIO_VHOST_USER_GET_FEATURES:
	case VIO_VHOST_USER_GET_PROTOCOL_FEATURES:
	case VIO_VHOST_USER_GET_QUEUE_NUM:
	case VIO_VHOST_USER_GET_VRING_BASE:
	case VIO_VHOST_USER_GET_CONFIG:
	case VIO_VHOST_USER_GET_STATUS:
		return true;
	default:
		return false;
	}
}

/* Receive the reply to @req: the header must name @req, carry exactly
 * version 1 | REPLY and a size in @sizes (one or two accepted sizes; the
 * second is 0 when there is none); the payload goes to @payload. */
static int recv_reply(struct vio_vhost_user_front *f, uint32_t req, uint32_t size_a,
		      uint32_t size_b, void *payload, uint32_t *size)
{
	unsigned char raw[HDR];
	int rc = f->io->recv(f->io_ctx, raw, HDR);
	if (rc < 0)
		return latch(f, rc);
	struct vio_vhost_user_hdr h;
	VIO_MEMCPY(&h, raw, HDR);
	if (h.request != req || h.flags != (VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY) ||
	    (h.size != size_a && h.size != size_b))
		return latch(f, -VIO_EVHOST_REPLY);
	if (h.size != 0) {
		rc = f->io->recv(f->io_ctx, payload, h.size);
		if (rc < 0)
			return latch(f, rc);
	}
	*size = h.size;
	return 0;
}

/* Send @req with @len payload bytes and @nfds fds. With REPLY_ACK in use a
 * request without a reply of its own asks for one and waits for it:
 * non-zero is a refusal. */
static int request(struct vio_vhost_user_front *f, uint32_t req, const void *payload, uint32_t len,
		   const int *fds, unsigned nfds)
{
	if (f->error != 0)
		return f->error;
	unsigned char msg[HDR + MAX_PAYLOAD];
	bool ack = !has_reply(req) && proto_has(f, VIO_VHOST_USER_PROTOCOL_F_REPLY_ACK);
	struct vio_vhost_user_hdr h = {
		.request = req,
		.flags = VIO_VHOST_USER_VERSION | (ack ? VIO_VHOST_USER_FLAG_NEED_REPLY : 0u),
		.size = len,
	};
	VIO_MEMCPY(msg, &h, HDR);
	if (len != 0)
		VIO_MEMCPY(msg + HDR, payload, len);
	int rc = f->io->send(f->io_ctx, msg, HDR + (size_t)len, fds, nfds);
	if (rc < 0)
		return latch(f, rc);
	if (!ack)
		return 0;
	uint64_t v = 0;
	uint32_t got;
	rc = recv_reply(f, req, 8, 8, &v, &got);
	if (rc < 0)
		return rc;
	return v == 0 ? 0 : -VIO_EVHOST_NACK;
}

static int get_u64(struct vio_vhost_user_front *f, uint32_t req, uint64_t *v)
{
	int rc = request(f, req, NULL, 0, NULL, 0);
	uint32_t got;
	if (rc == 0)
		rc = recv_reply(f, req, 8, 8, v, &got);
	return rc;
}

static int set_u64(struct vio_vhost_user_front *f, uint32_t req, uint64_t v, const int *fds,
		   unsigned nfds)
{
	return request(f, req, &v, 8, fds, nfds);
}

static int set_state(struct vio_vhost_user_front *f, uint32_t req, uint32_t index, uint32_t num)
{
	struct vio_vhost_user_vring_state s = {.index = index, .num = num};
	return request(f, req, &s, sizeof(s), NULL, 0);
}

/* ---- creation and handshake -------------------------------------------------------------- */

int vio_vhost_user_front_init(struct vio_vhost_user_front **fp, void *mem, size_t mem_size,
			      const struct vio_vhost_user_front_config *cfg)
{
	if (fp == NULL || mem == NULL || cfg == NULL || cfg->io == NULL)
		return -VIO_EINVAL;
	const struct vio_vhost_user_front_io *io = cfg->io;
	if (io->send == NULL || io->recv == NULL || io->kick == NULL || io->call_pending == NULL ||
	    io->queue_fds == NULL)
		return -VIO_EINVAL;
	if (cfg->device_id == 0 || cfg->queue_slots == 0 ||
	    cfg->queue_slots > VIO_VHOST_USER_FRONT_MAX_QUEUES || cfg->queue_max > 32768u ||
	    (cfg->protocol_features & ~VIO_VHOST_USER_FRONT_PROTOCOL_FEATURES) != 0)
		return -VIO_EINVAL;
	if (((uintptr_t)mem % VIO_VHOST_USER_FRONT_MEM_ALIGN) != 0 ||
	    mem_size < VIO_VHOST_USER_FRONT_MEM_SIZE(cfg->queue_slots))
		return -VIO_EINVAL;
	VIO_MEMSET(mem, 0, VIO_VHOST_USER_FRONT_MEM_SIZE(cfg->queue_slots));
	struct vio_vhost_user_front *f = mem;
	f->io = io;
	f->io_ctx = cfg->io_ctx;
	f->device_id = cfg->device_id;
	f->slots = cfg->queue_slots;
	f->queue_max = cfg->queue_max ? cfg->queue_max : VIO_VHOST_USER_FRONT_DEFAULT_QUEUE_MAX;
	f->proto_allowed = cfg->protocol_features ? cfg->protocol_features
						  : VIO_VHOST_USER_FRONT_PROTOCOL_FEATURES;
	*fp = f;
	return 0;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

int vio_vhost_user_front_add_region(struct vio_vhost_user_front *f,
				    const struct vio_vhost_user_mem_region *r, int fd)
{
	if (f == NULL || r == NULL || fd < 0 || r->memory_size == 0 ||
	    f->nregions >= VIO_VHOST_USER_MAX_REGIONS || f->dirty)
		return -VIO_EINVAL;
	if (r->guest_phys_addr + r->memory_size < r->guest_phys_addr ||
	    r->user_addr + r->memory_size < r->user_addr ||
	    r->mmap_offset + r->memory_size < r->mmap_offset)
		return -VIO_EINVAL;
	for (unsigned i = 0; i < f->nregions; i++) {
		const struct vio_vhost_user_mem_region *o = &f->regions[i].r;
		if (overlaps(r->guest_phys_addr, r->memory_size, o->guest_phys_addr,
			     o->memory_size) ||
		    overlaps(r->user_addr, r->memory_size, o->user_addr, o->memory_size))
			return -VIO_EINVAL;
	}
	f->regions[f->nregions].r = *r;
	f->regions[f->nregions].fd = fd;
	f->nregions++;
	return 0;
}

/* GET_FEATURES; bit 30 must not come or go once seen at connect. */
static int fetch_features(struct vio_vhost_user_front *f)
{
	uint64_t v;
	int rc = get_u64(f, VIO_VHOST_USER_GET_FEATURES, &v);
	if (rc < 0)
		return rc;
	bool bit = (v & (UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES)) != 0;
	if (f->connected && bit != f->protocol_bit)
		return -VIO_EDEVICE;
	f->backend_features = v;
	f->have_features = true;
	return 0;
}

int vio_vhost_user_front_connect(struct vio_vhost_user_front *f)
{
	if (f == NULL || f->connected)
		return -VIO_EINVAL;
	int rc = request(f, VIO_VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	if (rc == 0)
		rc = fetch_features(f);
	if (rc < 0)
		return rc;
	f->protocol_bit =
		(f->backend_features & (UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES)) != 0;
	if (f->protocol_bit) {
		rc = get_u64(f, VIO_VHOST_USER_GET_PROTOCOL_FEATURES, &f->backend_proto);
		if (rc < 0)
			return rc;
		/* Sent before f->proto is set: no NEED_REPLY on this one (the
		 * back end learns of REPLY_ACK from it). */
		uint64_t want = f->backend_proto & f->proto_allowed;
		rc = set_u64(f, VIO_VHOST_USER_SET_PROTOCOL_FEATURES, want, NULL, 0);
		if (rc < 0)
			return rc;
		f->proto = want;
	}
	if (proto_has(f, VIO_VHOST_USER_PROTOCOL_F_MQ)) {
		uint64_t n;
		rc = get_u64(f, VIO_VHOST_USER_GET_QUEUE_NUM, &n);
		if (rc < 0)
			return rc;
		if (n == 0 || n > VIO_VHOST_USER_FRONT_MAX_QUEUES)
			return -VIO_EDEVICE;
		f->backend_queues = (uint16_t)n;
	}
	f->connected = true;
	return 0;
}

void vio_vhost_user_front_drv_config(struct vio_vhost_user_front *f, struct vio_drv_config *cfg)
{
	cfg->ops = &vio_vhost_user_front_ops;
	cfg->ops_ctx = f;
}

uint64_t vio_vhost_user_front_backend_features(const struct vio_vhost_user_front *f)
{
	return f->backend_features;
}

uint64_t vio_vhost_user_front_backend_protocol_features(const struct vio_vhost_user_front *f)
{
	return f->backend_proto;
}

uint64_t vio_vhost_user_front_protocol_features(const struct vio_vhost_user_front *f)
{
	return f->proto;
}

uint64_t vio_vhost_user_front_acked_features(const struct vio_vhost_user_front *f)
{
	return f->acked;
}

uint16_t vio_vhost_user_front_backend_queues(const struct vio_vhost_user_front *f)
{
	return f->backend_queues;
}

int vio_vhost_user_front_error(const struct vio_vhost_user_front *f)
{
	return f->error;
}

bool vio_vhost_user_front_queue_started(const struct vio_vhost_user_front *f, uint16_t index)
{
	return index < f->slots && (f->q[index].flags & QF_STARTED) != 0;
}

int vio_vhost_user_front_stopped_base(const struct vio_vhost_user_front *f, uint16_t index,
				      struct vio_ring_state *st)
{
	if (f == NULL || st == NULL || index >= f->slots || (f->q[index].flags & QF_STOPPED) == 0)
		return -VIO_EINVAL;
	const struct front_queue *q = &f->q[index];
	bool packed = (q->flags & QF_PACKED) != 0;
	/* Checked when the reply came in. */
	return vio_vhost_user_vring_base_decode(q->base, packed ? VIO_RING_PACKED : VIO_RING_SPLIT,
						q->size, VIO_VHOST_USER_BASE_BOTH, st);
}

/* ---- status ------------------------------------------------------------------------------ */

/* GET_VRING_BASE on every started ring: the back end stops it and answers
 * with the position it stopped at. */
static int stop_rings(struct vio_vhost_user_front *f)
{
	for (uint16_t i = 0; i < f->slots; i++) {
		struct front_queue *q = &f->q[i];
		if ((q->flags & QF_STARTED) == 0)
			continue;
		struct vio_vhost_user_vring_state s = {.index = i, .num = 0};
		int rc = request(f, VIO_VHOST_USER_GET_VRING_BASE, &s, sizeof(s), NULL, 0);
		uint32_t got;
		if (rc == 0)
			rc = recv_reply(f, VIO_VHOST_USER_GET_VRING_BASE, sizeof(s), sizeof(s), &s,
					&got);
		if (rc < 0)
			return rc;
		q->flags = (uint8_t)(q->flags & ~(QF_STARTED | QF_SET));
		if (s.index != i)
			return latch(f, -VIO_EVHOST_REPLY);
		struct vio_ring_state st;
		bool packed = (q->flags & QF_PACKED) != 0;
		if (vio_vhost_user_vring_base_decode(s.num,
						     packed ? VIO_RING_PACKED : VIO_RING_SPLIT,
						     q->size, VIO_VHOST_USER_BASE_BOTH, &st) < 0)
			return -VIO_EDEVICE;
		q->base = s.num;
		q->flags |= QF_STOPPED;
	}
	return 0;
}

/* Status 0: stop the rings, forget the features; with PROTOCOL_F_STATUS
 * the back end hears the reset from SET_STATUS, else with RESET_DEVICE. */
static int reset(struct vio_vhost_user_front *f)
{
	int rc = 0;
	if (f->dirty) {
		rc = stop_rings(f);
		if (rc == 0 && !proto_has(f, VIO_VHOST_USER_PROTOCOL_F_STATUS) &&
		    proto_has(f, VIO_VHOST_USER_PROTOCOL_F_RESET_DEVICE))
			rc = request(f, VIO_VHOST_USER_RESET_DEVICE, NULL, 0, NULL, 0);
	}
	if (rc == 0 && proto_has(f, VIO_VHOST_USER_PROTOCOL_F_STATUS))
		rc = set_u64(f, VIO_VHOST_USER_SET_STATUS, 0, NULL, 0);
	if (rc < 0)
		return rc;
	f->status = 0;
	f->driver_features = 0;
	f->dirty = false;
	return 0;
}

static int send_mem_table(struct vio_vhost_user_front *f)
{
	unsigned char buf[MEM_HDR + VIO_VHOST_USER_MAX_REGIONS * REGION_BYTES];
	int fds[VIO_VHOST_USER_MAX_REGIONS];
	uint32_t n = f->nregions;
	uint32_t pad = 0;
	VIO_MEMCPY(buf, &n, 4);
	VIO_MEMCPY(buf + 4, &pad, 4);
	for (uint32_t i = 0; i < n; i++) {
		VIO_MEMCPY(buf + MEM_HDR + REGION_BYTES * i, &f->regions[i].r, REGION_BYTES);
		fds[i] = f->regions[i].fd;
	}
	return request(f, VIO_VHOST_USER_SET_MEM_TABLE, buf, MEM_HDR + REGION_BYTES * n, fds, n);
}

/* FEATURES_OK: SET_FEATURES with the accepted bits, bit 30 kept when
 * offered (without it the back end starts rings enabled and does not take
 * SET_VRING_ENABLE), then the memory table. */
static int features_ok(struct vio_vhost_user_front *f)
{
	uint64_t v = f->driver_features;
	if (f->protocol_bit)
		v |= UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES;
	f->dirty = true;
	int rc = set_u64(f, VIO_VHOST_USER_SET_FEATURES, v, NULL, 0);
	if (rc < 0)
		return rc;
	f->acked = v;
	if (f->nregions != 0)
		rc = send_mem_table(f);
	return rc;
}

static int get_status(void *ctx, uint8_t *status)
{
	struct vio_vhost_user_front *f = ctx;
	if (!proto_has(f, VIO_VHOST_USER_PROTOCOL_F_STATUS)) {
		*status = f->status;
		return 0;
	}
	uint64_t v;
	int rc = get_u64(f, VIO_VHOST_USER_GET_STATUS, &v);
	if (rc < 0)
		return rc;
	if (v > 0xffu)
		return -VIO_EDEVICE;
	*status = (uint8_t)v;
	return 0;
}

static int set_status(void *ctx, uint8_t status)
{
	struct vio_vhost_user_front *f = ctx;
	if (status == 0)
		return reset(f);
	if (f->error != 0) {
		/* A broken connection: FAILED stays local. */
		f->status = status;
		return (status & VIO_STATUS_FAILED) != 0 ? 0 : f->error;
	}
	if (!f->connected)
		return -VIO_EINVAL;
	uint8_t added = (uint8_t)(status & ~f->status);
	int rc = 0;
	if ((added & VIO_STATUS_FEATURES_OK) != 0) {
		rc = features_ok(f);
		if (rc == -VIO_EVHOST_NACK) {
			/* §3.1.1 step 6: the device refuses the subset by
			 * leaving FEATURES_OK clear. */
			status = (uint8_t)(status & ~VIO_STATUS_FEATURES_OK);
			rc = 0;
		}
	}
	if (rc == 0 && proto_has(f, VIO_VHOST_USER_PROTOCOL_F_STATUS))
		rc = set_u64(f, VIO_VHOST_USER_SET_STATUS, status, NULL, 0);
	if (rc < 0)
		return rc;
	f->status = status;
	return 0;
}

/* ---- features and configuration ---------------------------------------------------------- */

static int get_device_features(void *ctx, uint32_t window, uint32_t *bits)
{
	struct vio_vhost_user_front *f = ctx;
	if (!f->connected)
		return -VIO_EINVAL;
	if (window == 0 || !f->have_features) {
		int rc = fetch_features(f);
		if (rc < 0)
			return rc;
	}
	uint64_t v = f->backend_features & ~(VHOST_ONLY_BITS | NO_EVENTFD_BITS);
	*bits = window == 0 ? (uint32_t)v : window == 1 ? (uint32_t)(v >> 32) : 0u;
	return 0;
}

static int set_driver_features(void *ctx, uint32_t window, uint32_t bits)
{
	struct vio_vhost_user_front *f = ctx;
	if (window >= 2)
		return bits == 0 ? 0 : -VIO_EINVAL;
	unsigned shift = 32u * window;
	f->driver_features =
		(f->driver_features & ~(UINT64_C(0xffffffff) << shift)) | ((uint64_t)bits << shift);
	return 0;
}

static bool config_ok(const struct vio_vhost_user_front *f, uint32_t offset, unsigned width)
{
	return f->connected && proto_has(f, VIO_VHOST_USER_PROTOCOL_F_CONFIG) &&
	       (width == 1 || width == 2 || width == 4 || width == 8) &&
	       offset <= VIO_VHOST_USER_MAX_CONFIG_SIZE &&
	       width <= VIO_VHOST_USER_MAX_CONFIG_SIZE - offset;
}

/* GET_CONFIG from offset 0 to the end of the field (see the header: some
 * back ends ignore the offset). The reply must echo offset and size; a
 * reply of size 0 is the back end's "no" (vhost-user.rst GET_CONFIG), read
 * as an access past the configuration space. */
static int config_read(void *ctx, uint32_t offset, unsigned width, uint64_t *value)
{
	struct vio_vhost_user_front *f = ctx;
	if (!config_ok(f, offset, width))
		return -VIO_EINVAL;
	uint32_t n = offset + width;
	struct vio_vhost_user_config c;
	VIO_MEMSET(&c, 0, sizeof(c));
	c.offset = 0;
	c.size = n;
	c.flags = 0;
	int rc = request(f, VIO_VHOST_USER_GET_CONFIG, &c, CONFIG_HDR + n, NULL, 0);
	uint32_t got = 0;
	if (rc == 0)
		rc = recv_reply(f, VIO_VHOST_USER_GET_CONFIG, CONFIG_HDR + n, 0, &c, &got);
	if (rc < 0)
		return rc;
	if (got == 0)
		return -VIO_EINVAL;
	if (c.offset != 0 || c.size != n)
		return latch(f, -VIO_EVHOST_REPLY);
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) /* little-endian in the device */
		v |= (uint64_t)c.region[offset + i] << (8 * i);
	*value = v;
	return 0;
}

static int config_write(void *ctx, uint32_t offset, unsigned width, uint64_t value)
{
	struct vio_vhost_user_front *f = ctx;
	if (!config_ok(f, offset, width))
		return -VIO_EINVAL;
	struct vio_vhost_user_config c;
	VIO_MEMSET(&c, 0, sizeof(c));
	c.offset = offset;
	c.size = width;
	c.flags = 0; /* a driver's write, not live migration */
	for (unsigned i = 0; i < width; i++)
		c.region[i] = (uint8_t)(value >> (8 * i));
	return request(f, VIO_VHOST_USER_SET_CONFIG, &c, CONFIG_HDR + width, NULL, 0);
}

static int device_id(void *ctx, uint32_t *id)
{
	const struct vio_vhost_user_front *f = ctx;
	*id = f->device_id;
	return 0;
}

static uint16_t queue_limit(const struct vio_vhost_user_front *f)
{
	if (f->backend_queues != 0 && f->backend_queues < f->slots)
		return f->backend_queues;
	return f->slots;
}

static int num_queues(void *ctx, uint16_t *num)
{
	const struct vio_vhost_user_front *f = ctx;
	*num = f->backend_queues != 0 ? f->backend_queues : f->slots;
	return 0;
}

static int queue_max(void *ctx, uint16_t index, uint32_t *max)
{
	const struct vio_vhost_user_front *f = ctx;
	*max = index < queue_limit(f) ? f->queue_max : 0u;
	return 0;
}

/* ---- queues ------------------------------------------------------------------------------ */

/* A guest-physical range → the front end's user address of its start. */
static int to_user(const struct vio_vhost_user_front *f, uint64_t gpa, uint64_t len, uint64_t *user)
{
	for (unsigned i = 0; i < f->nregions; i++) {
		const struct vio_vhost_user_mem_region *r = &f->regions[i].r;
		if (gpa >= r->guest_phys_addr && gpa - r->guest_phys_addr <= r->memory_size &&
		    len <= r->memory_size - (gpa - r->guest_phys_addr)) {
			*user = r->user_addr + (gpa - r->guest_phys_addr);
			return 0;
		}
	}
	return -VIO_EINVAL;
}

static int queue_setup(void *ctx, uint16_t index, uint16_t size, uint64_t desc, uint64_t driver,
		       uint64_t device)
{
	struct vio_vhost_user_front *f = ctx;
	if (index >= f->slots || size == 0 || !f->connected)
		return -VIO_EINVAL;
	bool packed = (f->acked & (UINT64_C(1) << VIO_F_RING_PACKED)) != 0;
	/* Ring part sizes (§2.7, §2.8), only to check that they lie in a region. */
	uint64_t dsz = (uint64_t)16 * size;
	uint64_t asz = packed ? 4u : 6u + (uint64_t)2 * size;
	uint64_t usz = packed ? 4u : 6u + (uint64_t)8 * size;
	struct vio_vhost_user_vring_addr a = {.index = index, .flags = 0, .log_guest_addr = 0};
	int rc = to_user(f, desc, dsz, &a.desc_user_addr);
	if (rc == 0)
		rc = to_user(f, driver, asz, &a.avail_user_addr);
	if (rc == 0)
		rc = to_user(f, device, usz, &a.used_user_addr);
	if (rc < 0)
		return rc;

	struct front_queue *q = &f->q[index];
	if ((q->flags & QF_STARTED) != 0)
		return -VIO_EINVAL;
	q->size = size;
	q->flags = packed ? QF_PACKED : 0;
	/* A fresh ring: split avail index 0; packed slot 0 with both wrap
	 * counters 1 (§2.8.1). */
	struct vio_ring_state st = {
		.avail_idx = 0, .used_idx = 0, .avail_wrap = packed, .used_wrap = packed};
	uint32_t base;
	rc = vio_vhost_user_vring_base_encode(&st, packed ? VIO_RING_PACKED : VIO_RING_SPLIT, size,
					      &base);
	if (rc < 0)
		return rc;
	f->dirty = true;
	rc = set_state(f, VIO_VHOST_USER_SET_VRING_NUM, index, size);
	if (rc == 0)
		rc = set_state(f, VIO_VHOST_USER_SET_VRING_BASE, index, base);
	if (rc == 0)
		rc = request(f, VIO_VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
	if (rc < 0)
		return rc;
	q->flags |= QF_SET;
	return 0;
}

/* The call fd first: a back end without bit 30 starts the ring at
 * SET_VRING_KICK and may complete at once. */
static int queue_enable(void *ctx, uint16_t index)
{
	struct vio_vhost_user_front *f = ctx;
	if (index >= f->slots || (f->q[index].flags & QF_SET) == 0)
		return -VIO_EINVAL;
	int kick = -1, call = -1;
	int rc = f->io->queue_fds(f->io_ctx, index, &kick, &call);
	if (rc < 0)
		return rc;
	if (kick < 0 || call < 0)
		return -VIO_EINVAL;
	rc = set_u64(f, VIO_VHOST_USER_SET_VRING_CALL, index, &call, 1);
	if (rc == 0)
		rc = set_u64(f, VIO_VHOST_USER_SET_VRING_KICK, index, &kick, 1);
	if (rc < 0)
		return rc;
	f->q[index].flags |= QF_STARTED;
	if (protocol_acked(f))
		rc = set_state(f, VIO_VHOST_USER_SET_VRING_ENABLE, index, 1);
	return rc;
}

static int notify(void *ctx, uint16_t index, uint32_t value)
{
	struct vio_vhost_user_front *f = ctx;
	(void)value; /* the index; no notification data over an eventfd */
	if (f->error != 0)
		return f->error;
	if (index >= f->slots || (f->q[index].flags & QF_STARTED) == 0)
		return -VIO_EINVAL;
	return f->io->kick(f->io_ctx, index);
}

/* Every started queue's call eventfd, consumed: any fired is a used-buffer
 * interrupt (the core then looks at every live queue). No configuration
 * interrupt: that comes over the back-end channel, not supported. */
static int interrupt_status(void *ctx, uint32_t *bits)
{
	struct vio_vhost_user_front *f = ctx;
	*bits = 0;
	for (uint16_t i = 0; i < f->slots; i++) {
		if ((f->q[i].flags & QF_STARTED) == 0)
			continue;
		bool fired = false;
		int rc = f->io->call_pending(f->io_ctx, i, &fired);
		if (rc < 0)
			return rc;
		if (fired)
			*bits |= VIO_DRV_INT_VRING;
	}
	return 0;
}

static void delay(void *ctx, uint32_t us)
{
	const struct vio_vhost_user_front *f = ctx;
	if (f->io->delay != NULL)
		f->io->delay(f->io_ctx, us);
}

const struct vio_drv_transport_ops vio_vhost_user_front_ops = {
	.get_status = get_status,
	.set_status = set_status,
	.get_device_features = get_device_features,
	.set_driver_features = set_driver_features,
	.config_read = config_read,
	.config_write = config_write,
	.config_generation = NULL,
	.device_id = device_id,
	.num_queues = num_queues,
	.queue_max = queue_max,
	.queue_setup = queue_setup,
	.queue_enable = queue_enable,
	.queue_reset = NULL,
	.queue_reset_done = NULL,
	.notify = notify,
	.interrupt_status = interrupt_status,
	.interrupt_ack = NULL,
	.set_config_vector = NULL,
	.set_queue_vector = NULL,
	.delay = delay,
};
