/* SPDX-License-Identifier: MIT */
/* vhost-user front end (protocol part) against a scripted fake back end
 * behind the io callbacks: the message sequence and payloads of a bring-up
 * (split and packed, with and without bit 30 / REPLY_ACK / STATUS), the
 * ring stop at reset, configuration reads and writes, and every hostile
 * reply: wrong request, flags, version, size, oversized, a longer config
 * reply, forbidden queue counts and status values, features that change,
 * refusals (NACK), silence and a closed connection. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#define ARENA_SIZE (256u * 1024u)
#define GPA_BASE UINT64_C(0x40000000)
#define MAX_LOG 128
#define MAX_REPLY 4096
#define QSIZE 64

/* ---- the fake back end -------------------------------------------------------------------- */

struct sent {
	uint32_t request, flags, size;
	unsigned char payload[300];
	int fds[8];
	unsigned nfds;
};

enum hostile {
	H_NONE = 0,
	H_WRONG_REQUEST,
	H_NO_REPLY_FLAG,
	H_WRONG_VERSION,
	H_EXTRA_FLAG,
	H_SHORT_SIZE,
	H_LONG_SIZE,
	H_HUGE_SIZE,
	H_SILENT,
	H_CLOSED,
	H_NACK,
	H_CONFIG_LONGER,
	H_CONFIG_ZERO,
	H_CONFIG_ECHO,
	H_BASE_INDEX,
};

struct be {
	/* what the back end offers */
	uint64_t features;
	uint64_t proto;
	uint64_t queue_num;
	unsigned char config[256];
	uint32_t config_size;
	uint32_t vring_base_reply; /* num of GET_VRING_BASE replies */
	uint64_t status_reply;	   /* GET_STATUS */
	/* one hostile behaviour, for request @h_req (0: any), after @h_skip matches */
	enum hostile h;
	uint32_t h_req;
	unsigned h_skip;
	/* what happened */
	struct sent log[MAX_LOG];
	unsigned nlog;
	unsigned char out[MAX_REPLY];
	size_t out_len, out_pos;
	bool closed;
	unsigned kicks[4];
	bool call[4];
	uint64_t features_after; /* nonzero: GET_FEATURES answers this after the first */
	unsigned get_features_seen;
};

static void put(struct be *b, const void *p, size_t n)
{
	assert_true(b->out_len + n <= MAX_REPLY);
	memcpy(b->out + b->out_len, p, n);
	b->out_len += n;
}

static bool hostile_now(struct be *b, uint32_t req)
{
	if (b->h == H_NONE || (b->h_req != 0 && b->h_req != req))
		return false;
	if (b->h_skip > 0) {
		b->h_skip--;
		return false;
	}
	return true;
}

static void reply(struct be *b, uint32_t req, const void *payload, uint32_t size)
{
	struct vio_vhost_user_hdr h = {req, VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY,
				       size};
	unsigned char pad[512] = {0};
	if (size > 0)
		memcpy(pad, payload, size);
	if (hostile_now(b, req)) {
		switch (b->h) {
		case H_WRONG_REQUEST:
			h.request = req + 1;
			break;
		case H_NO_REPLY_FLAG:
			h.flags = VIO_VHOST_USER_VERSION;
			break;
		case H_WRONG_VERSION:
			h.flags = 2u | VIO_VHOST_USER_FLAG_REPLY;
			break;
		case H_EXTRA_FLAG:
			h.flags |= 1u << 7;
			break;
		case H_SHORT_SIZE:
			h.size = size - 4;
			break;
		case H_LONG_SIZE:
			h.size = size + 8;
			break;
		case H_HUGE_SIZE:
			h.size = 0xffffffffu;
			put(b, &h, sizeof(h));
			return; /* the front must not try to read 4 GiB */
		case H_SILENT:
			return;
		case H_CLOSED:
			b->closed = true;
			return;
		case H_NACK: {
			uint64_t one = 1;
			memcpy(pad, &one, 8);
			break;
		}
		case H_CONFIG_LONGER:
			h.size = size + 4;
			break;
		case H_CONFIG_ZERO:
			h.size = 0;
			break;
		case H_CONFIG_ECHO: {
			uint32_t off = 4;
			memcpy(pad, &off, 4);
			break;
		}
		case H_BASE_INDEX: {
			uint32_t idx = 7;
			memcpy(pad, &idx, 4);
			break;
		}
		default:
			break;
		}
	}
	put(b, &h, sizeof(h));
	put(b, pad, h.size);
}

static void reply_u64(struct be *b, uint32_t req, uint64_t v)
{
	reply(b, req, &v, 8);
}

static int be_send(void *ctx, const void *msg, size_t len, const int *fds, unsigned nfds)
{
	struct be *b = ctx;
	if (b->closed)
		return -VIO_EVHOST_IO;
	assert_true(len >= 12);
	assert_true(b->nlog < MAX_LOG);
	struct sent *s = &b->log[b->nlog++];
	memcpy(&s->request, msg, 4);
	memcpy(&s->flags, (const char *)msg + 4, 4);
	memcpy(&s->size, (const char *)msg + 8, 4);
	assert_int_equal(s->size, len - 12);
	assert_true(s->size <= sizeof(s->payload));
	memcpy(s->payload, (const char *)msg + 12, s->size);
	assert_true(nfds <= 8);
	if (nfds != 0) /* fds is NULL without fds */
		memcpy(s->fds, fds, sizeof(int) * nfds);
	s->nfds = nfds;
	/* every request carries version 1 and never the REPLY bit */
	assert_int_equal(s->flags & VIO_VHOST_USER_VERSION_MASK, VIO_VHOST_USER_VERSION);
	assert_int_equal(s->flags & VIO_VHOST_USER_FLAG_REPLY, 0);

	uint32_t req = s->request;
	bool need = (s->flags & VIO_VHOST_USER_FLAG_NEED_REPLY) != 0;
	switch (req) {
	case VIO_VHOST_USER_GET_FEATURES:
		b->get_features_seen++;
		reply_u64(b, req,
			  b->features_after != 0 && b->get_features_seen > 1 ? b->features_after
									     : b->features);
		return 0;
	case VIO_VHOST_USER_GET_PROTOCOL_FEATURES:
		reply_u64(b, req, b->proto);
		return 0;
	case VIO_VHOST_USER_GET_QUEUE_NUM:
		reply_u64(b, req, b->queue_num);
		return 0;
	case VIO_VHOST_USER_GET_STATUS:
		reply_u64(b, req, b->status_reply);
		return 0;
	case VIO_VHOST_USER_GET_CONFIG: {
		struct vio_vhost_user_config c;
		memset(&c, 0, sizeof(c));
		memcpy(&c, s->payload, s->size);
		/* like libvhost-user: the offset is ignored, bytes come from 0 */
		if (c.size > b->config_size) {
			reply(b, req, &c, 0);
			return 0;
		}
		memcpy(c.region, b->config, c.size);
		reply(b, req, &c, s->size);
		return 0;
	}
	case VIO_VHOST_USER_GET_VRING_BASE: {
		struct vio_vhost_user_vring_state st;
		memcpy(&st, s->payload, 8);
		st.num = b->vring_base_reply;
		reply(b, req, &st, 8);
		return 0;
	}
	default:
		if (need)
			reply_u64(b, req, 0);
		else if (hostile_now(b, req) && b->h == H_CLOSED)
			b->closed = true;
		return 0;
	}
}

static int be_recv(void *ctx, void *buf, size_t len)
{
	struct be *b = ctx;
	if (b->out_len - b->out_pos < len)
		return b->closed ? -VIO_EVHOST_IO : -VIO_EVHOST_TIMEOUT;
	memcpy(buf, b->out + b->out_pos, len);
	b->out_pos += len;
	return 0;
}

static int be_kick(void *ctx, uint16_t index)
{
	struct be *b = ctx;
	assert_true(index < 4);
	b->kicks[index]++;
	return 0;
}

static int be_call_pending(void *ctx, uint16_t index, bool *fired)
{
	struct be *b = ctx;
	assert_true(index < 4);
	*fired = b->call[index];
	b->call[index] = false;
	return 0;
}

static int be_queue_fds(void *ctx, uint16_t index, int *kick, int *call)
{
	(void)ctx;
	*kick = 100 + 2 * index;
	*call = 101 + 2 * index;
	return 0;
}

static const struct vio_vhost_user_front_io be_io = {
	.send = be_send,
	.recv = be_recv,
	.kick = be_kick,
	.call_pending = be_call_pending,
	.queue_fds = be_queue_fds,
};

/* ---- fixture: a front, its arena, a driver core ------------------------------------------ */

struct fx {
	struct be b;
	_Alignas(8) unsigned char front_mem[VIO_VHOST_USER_FRONT_MEM_SIZE(4)];
	struct vio_vhost_user_front *f;
	_Alignas(4096) unsigned char arena[ARENA_SIZE];
	size_t used;
	_Alignas(8) unsigned char drv_mem[VIO_DRV_MEM_SIZE(4)];
	struct vio_drv *drv;
	_Alignas(8) unsigned char vq_mem[2][VIO_VQ_MEM_SIZE(QSIZE)];
	unsigned irqs;
};

static int to_gpa(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir, uint64_t *addr)
{
	(void)dir;
	struct fx *x = ctx;
	uintptr_t p = (uintptr_t)ptr, a = (uintptr_t)x->arena;
	if (p < a || p - a + len > ARENA_SIZE)
		return -VIO_EDMA;
	*addr = GPA_BASE + (p - a);
	return 0;
}

static const struct vio_dma_ops gpa_ops = {.to_device = to_gpa};

static void *arena_alloc(struct fx *x, size_t n, size_t align)
{
	size_t at = (x->used + align - 1) & ~(align - 1);
	assert_true(at + n <= ARENA_SIZE);
	x->used = at + n;
	return x->arena + at;
}

static void be_defaults(struct be *b)
{
	b->features = (UINT64_C(1) << VIO_F_VERSION_1) | (UINT64_C(1) << VIO_F_INDIRECT_DESC) |
		      (UINT64_C(1) << VIO_F_EVENT_IDX) | (UINT64_C(1) << VIO_BLK_F_FLUSH) |
		      (UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES) |
		      (UINT64_C(1) << VIO_VHOST_F_LOG_ALL) |
		      (UINT64_C(1) << VIO_F_NOTIFICATION_DATA);
	/* what qemu-storage-daemon 7.2 offers */
	b->proto = 0x8f2b;
	b->queue_num = 1;
	b->config_size = 60;
	uint64_t cap = 2048;
	for (unsigned i = 0; i < 8; i++)
		b->config[i] = (unsigned char)(cap >> (8 * i));
	b->config[20] = 0x00;
	b->config[21] = 0x02; /* blk_size 512 at offset 20 */
}

static int setup(void **state)
{
	/* struct fx holds a page-aligned arena: calloc() does not align that much */
	size_t n = (sizeof(struct fx) + 4095) & ~(size_t)4095;
	struct fx *x = aligned_alloc(4096, n);
	if (x == NULL)
		return -1;
	memset(x, 0, n);
	be_defaults(&x->b);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static int front_init(struct fx *x, uint64_t proto_allowed)
{
	struct vio_vhost_user_front_config c = {
		.io = &be_io,
		.io_ctx = &x->b,
		.device_id = VIO_ID_BLOCK,
		.queue_slots = 4,
		.queue_max = QSIZE,
		.protocol_features = proto_allowed,
	};
	int rc = vio_vhost_user_front_init(&x->f, x->front_mem, sizeof(x->front_mem), &c);
	if (rc < 0)
		return rc;
	struct vio_vhost_user_mem_region r = {
		.guest_phys_addr = GPA_BASE,
		.memory_size = ARENA_SIZE,
		.user_addr = (uint64_t)(uintptr_t)x->arena,
		.mmap_offset = 0,
	};
	return vio_vhost_user_front_add_region(x->f, &r, 42);
}

static void queue_cb(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq)
{
	(void)drv;
	(void)index;
	(void)vq;
	struct fx *x = ctx;
	x->irqs++;
}

static const struct vio_drv_callbacks cbs = {.queue_interrupt = queue_cb};

static void drv_create(struct fx *x, bool packed)
{
	struct vio_drv_config dc = {0};
	vio_vhost_user_front_drv_config(x->f, &dc);
	dc.num_queues = 2;
	dc.device_id = VIO_ID_BLOCK;
	dc.dma_ops = &gpa_ops;
	dc.dma_ctx = x;
	dc.cb = &cbs;
	dc.cb_ctx = x;
	vio_features_set(&dc.features, VIO_BLK_F_FLUSH);
	if (packed)
		vio_features_set(&dc.features, VIO_F_RING_PACKED);
	assert_int_equal(vio_drv_init(&x->drv, x->drv_mem, sizeof(x->drv_mem), &dc), 0);
}

static int queue_up(struct fx *x, uint16_t index)
{
	struct vio_drv_queue_config qc = {0};
	qc.size = QSIZE;
	qc.ring = arena_alloc(x, VIO_DRV_RING_SIZE(QSIZE), 4096);
	qc.vq_mem = x->vq_mem[index];
	qc.vq_mem_size = sizeof(x->vq_mem[index]);
	return vio_drv_queue_setup(x->drv, index, &qc, NULL);
}

/* connect, negotiate, one queue, DRIVER_OK */
static void bring_up(struct fx *x, bool packed, uint16_t queues)
{
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	drv_create(x, packed);
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	for (uint16_t i = 0; i < queues; i++)
		assert_int_equal(queue_up(x, i), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
}

static const struct sent *find(const struct be *b, uint32_t req, unsigned nth)
{
	for (unsigned i = 0; i < b->nlog; i++)
		if (b->log[i].request == req && nth-- == 0)
			return &b->log[i];
	return NULL;
}

static unsigned count(const struct be *b, uint32_t req)
{
	unsigned n = 0;
	for (unsigned i = 0; i < b->nlog; i++)
		n += b->log[i].request == req;
	return n;
}

static uint64_t u64_of(const struct sent *s)
{
	uint64_t v;
	assert_int_equal(s->size, 8);
	memcpy(&v, s->payload, 8);
	return v;
}

static void state_of(const struct sent *s, uint32_t *index, uint32_t *num)
{
	assert_int_equal(s->size, 8);
	memcpy(index, s->payload, 4);
	memcpy(num, s->payload + 4, 4);
}

/* ---- bring-up ----------------------------------------------------------------------------- */

static void test_front_bringup_exact_sequence(void **state)
{
	struct fx *x = *state;
	bring_up(x, false, 1);
	static const uint32_t want[] = {
		VIO_VHOST_USER_SET_OWNER,
		VIO_VHOST_USER_GET_FEATURES,
		VIO_VHOST_USER_GET_PROTOCOL_FEATURES,
		VIO_VHOST_USER_SET_PROTOCOL_FEATURES,
		VIO_VHOST_USER_GET_QUEUE_NUM,
		VIO_VHOST_USER_GET_FEATURES, /* the core reads the device features */
		VIO_VHOST_USER_SET_FEATURES, /* FEATURES_OK */
		VIO_VHOST_USER_SET_MEM_TABLE,
		VIO_VHOST_USER_GET_FEATURES, /* the core's re-check after FEATURES_OK */
		VIO_VHOST_USER_SET_VRING_NUM,
		VIO_VHOST_USER_SET_VRING_BASE,
		VIO_VHOST_USER_SET_VRING_ADDR,
		VIO_VHOST_USER_SET_VRING_CALL,
		VIO_VHOST_USER_SET_VRING_KICK,
		VIO_VHOST_USER_SET_VRING_ENABLE,
		VIO_VHOST_USER_GET_FEATURES, /* the core's re-check before DRIVER_OK */
	};
	assert_int_equal(x->b.nlog, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < x->b.nlog; i++) {
		assert_int_equal(x->b.log[i].request, want[i]);
		/* REPLY_ACK from SET_PROTOCOL_FEATURES on: a request without a
		 * reply of its own asks for one; before, none does. */
		bool noreply = want[i] != VIO_VHOST_USER_GET_FEATURES &&
			       want[i] != VIO_VHOST_USER_GET_PROTOCOL_FEATURES &&
			       want[i] != VIO_VHOST_USER_GET_QUEUE_NUM;
		bool need = (x->b.log[i].flags & VIO_VHOST_USER_FLAG_NEED_REPLY) != 0;
		assert_int_equal(need, noreply && i > 3);
	}
	/* protocol features: offered ∩ {MQ, REPLY_ACK, CONFIG, RESET_DEVICE, STATUS} */
	assert_int_equal(u64_of(find(&x->b, VIO_VHOST_USER_SET_PROTOCOL_FEATURES, 0)), 0x209);
	assert_int_equal(vio_vhost_user_front_protocol_features(x->f), 0x209);
	assert_int_equal(vio_vhost_user_front_backend_protocol_features(x->f), 0x8f2b);
	/* SET_FEATURES: the negotiated virtio bits plus bit 30; not LOG_ALL, not
	 * NOTIFICATION_DATA (an eventfd has no data) */
	uint64_t sf = u64_of(find(&x->b, VIO_VHOST_USER_SET_FEATURES, 0));
	uint64_t want_f = (UINT64_C(1) << VIO_F_VERSION_1) | (UINT64_C(1) << VIO_F_INDIRECT_DESC) |
			  (UINT64_C(1) << VIO_F_EVENT_IDX) | (UINT64_C(1) << VIO_BLK_F_FLUSH) |
			  (UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES);
	assert_int_equal(sf, want_f);
	assert_int_equal(vio_vhost_user_front_acked_features(x->f), want_f);
	struct vio_features dev = vio_drv_device_features(x->drv);
	assert_false(vio_features_test(&dev, VIO_VHOST_USER_F_PROTOCOL_FEATURES));
	assert_false(vio_features_test(&dev, VIO_VHOST_F_LOG_ALL));
	assert_false(vio_features_test(&dev, VIO_F_NOTIFICATION_DATA));

	/* SET_MEM_TABLE: one region and its fd */
	const struct sent *mt = find(&x->b, VIO_VHOST_USER_SET_MEM_TABLE, 0);
	assert_int_equal(mt->size, 8 + 32);
	assert_int_equal(mt->nfds, 1);
	assert_int_equal(mt->fds[0], 42);
	struct vio_vhost_user_mem_region r;
	uint32_t n;
	memcpy(&n, mt->payload, 4);
	memcpy(&r, mt->payload + 8, 32);
	assert_int_equal(n, 1);
	assert_int_equal(r.guest_phys_addr, GPA_BASE);
	assert_int_equal(r.memory_size, ARENA_SIZE);
	assert_int_equal(r.user_addr, (uint64_t)(uintptr_t)x->arena);
	assert_int_equal(r.mmap_offset, 0);

	uint32_t idx, num;
	state_of(find(&x->b, VIO_VHOST_USER_SET_VRING_NUM, 0), &idx, &num);
	assert_int_equal(idx, 0);
	assert_int_equal(num, QSIZE);
	state_of(find(&x->b, VIO_VHOST_USER_SET_VRING_BASE, 0), &idx, &num);
	assert_int_equal(num, 0);
	state_of(find(&x->b, VIO_VHOST_USER_SET_VRING_ENABLE, 0), &idx, &num);
	assert_int_equal(idx, 0);
	assert_int_equal(num, 1);

	/* SET_VRING_ADDR: user addresses (the arena's pointers), split layout */
	const struct sent *ad = find(&x->b, VIO_VHOST_USER_SET_VRING_ADDR, 0);
	struct vio_vhost_user_vring_addr a;
	assert_int_equal(ad->size, sizeof(a));
	memcpy(&a, ad->payload, sizeof(a));
	uint64_t ring = (uint64_t)(uintptr_t)x->arena; /* the first allocation */
	assert_int_equal(a.index, 0);
	assert_int_equal(a.flags, 0);
	assert_int_equal(a.desc_user_addr, ring);
	assert_int_equal(a.avail_user_addr, ring + 16 * QSIZE);
	assert_int_equal(a.used_user_addr,
			 ring + ((16 * QSIZE + 6 + 2 * QSIZE + 3) & ~(uint64_t)3));

	const struct sent *call = find(&x->b, VIO_VHOST_USER_SET_VRING_CALL, 0);
	const struct sent *kick = find(&x->b, VIO_VHOST_USER_SET_VRING_KICK, 0);
	assert_int_equal(u64_of(call), 0);
	assert_int_equal(u64_of(kick), 0);
	assert_int_equal(call->nfds, 1);
	assert_int_equal(call->fds[0], 101);
	assert_int_equal(kick->nfds, 1);
	assert_int_equal(kick->fds[0], 100);
	assert_true(vio_vhost_user_front_queue_started(x->f, 0));
	assert_false(vio_vhost_user_front_queue_started(x->f, 1));
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
	assert_int_equal(x->b.out_pos, x->b.out_len); /* every reply consumed */
}

static void test_front_packed_base_and_layout(void **state)
{
	struct fx *x = *state;
	x->b.features |= UINT64_C(1) << VIO_F_RING_PACKED;
	bring_up(x, true, 1);
	assert_int_equal(vio_drv_ring_format(x->drv), VIO_RING_PACKED);
	uint32_t idx, num;
	/* a fresh packed ring: slot 0 with both wrap counters set */
	state_of(find(&x->b, VIO_VHOST_USER_SET_VRING_BASE, 0), &idx, &num);
	assert_int_equal(num, 0x80008000u);
	struct vio_vhost_user_vring_addr a;
	memcpy(&a, find(&x->b, VIO_VHOST_USER_SET_VRING_ADDR, 0)->payload, sizeof(a));
	uint64_t ring = (uint64_t)(uintptr_t)x->arena;
	assert_int_equal(a.desc_user_addr, ring);
	assert_int_equal(a.avail_user_addr, ring + 16 * QSIZE);
	assert_int_equal(a.used_user_addr, ring + 16 * QSIZE + 4);
	assert_true((u64_of(find(&x->b, VIO_VHOST_USER_SET_FEATURES, 0)) >> VIO_F_RING_PACKED) & 1);

	/* reset: GET_VRING_BASE; the back end stopped at slot 5 (wrap 1), used 3 (wrap 1) */
	x->b.vring_base_reply = 0x80038005u;
	assert_int_equal(vio_drv_reset(x->drv), 0);
	struct vio_ring_state st;
	assert_int_equal(vio_vhost_user_front_stopped_base(x->f, 0, &st), 0);
	assert_int_equal(st.avail_idx, 5);
	assert_int_equal(st.used_idx, 3);
	assert_true(st.avail_wrap);
	assert_true(st.used_wrap);
}

static void test_front_packed_not_offered_gives_split(void **state)
{
	struct fx *x = *state;
	bring_up(x, true, 1);
	assert_int_equal(vio_drv_ring_format(x->drv), VIO_RING_SPLIT);
	assert_false((u64_of(find(&x->b, VIO_VHOST_USER_SET_FEATURES, 0)) >> VIO_F_RING_PACKED) &
		     1);
}

static void test_front_reset_stops_started_rings(void **state)
{
	struct fx *x = *state;
	x->b.queue_num = 2;
	bring_up(x, false, 2);
	unsigned before = x->b.nlog;
	x->b.vring_base_reply = 17;
	assert_int_equal(vio_drv_reset(x->drv), 0);
	/* one GET_VRING_BASE per started ring, nothing else (no RESET_DEVICE offered) */
	assert_int_equal(x->b.nlog - before, 2);
	uint32_t idx, num;
	state_of(&x->b.log[before], &idx, &num);
	assert_int_equal(x->b.log[before].request, VIO_VHOST_USER_GET_VRING_BASE);
	assert_int_equal(idx, 0);
	state_of(&x->b.log[before + 1], &idx, &num);
	assert_int_equal(idx, 1);
	assert_false(vio_vhost_user_front_queue_started(x->f, 0));
	struct vio_ring_state st;
	assert_int_equal(vio_vhost_user_front_stopped_base(x->f, 1, &st), 0);
	assert_int_equal(st.avail_idx, 17);
	assert_int_equal(vio_vhost_user_front_stopped_base(x->f, 2, &st), -VIO_EINVAL);
	/* a second reset has nothing to stop */
	before = x->b.nlog;
	assert_int_equal(vio_drv_reset(x->drv), 0);
	assert_int_equal(x->b.nlog, before);
	/* and the device comes up again on the same connection */
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	assert_int_equal(queue_up(x, 0), 0);
	assert_int_equal(vio_drv_ready(x->drv), 0);
	assert_int_equal(count(&x->b, VIO_VHOST_USER_SET_FEATURES), 2);
}

static void test_front_reset_device_when_offered(void **state)
{
	struct fx *x = *state;
	x->b.proto |= UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_RESET_DEVICE;
	bring_up(x, false, 1);
	assert_int_equal(vio_drv_reset(x->drv), 0);
	assert_int_equal(x->b.log[x->b.nlog - 2].request, VIO_VHOST_USER_GET_VRING_BASE);
	assert_int_equal(x->b.log[x->b.nlog - 1].request, VIO_VHOST_USER_RESET_DEVICE);
}

static void test_front_without_protocol_features(void **state)
{
	struct fx *x = *state;
	x->b.features &= ~(UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES);
	bring_up(x, false, 1);
	assert_int_equal(count(&x->b, VIO_VHOST_USER_GET_PROTOCOL_FEATURES), 0);
	assert_int_equal(count(&x->b, VIO_VHOST_USER_SET_PROTOCOL_FEATURES), 0);
	assert_int_equal(count(&x->b, VIO_VHOST_USER_GET_QUEUE_NUM), 0);
	/* rings start enabled at KICK without bit 30: no SET_VRING_ENABLE */
	assert_int_equal(count(&x->b, VIO_VHOST_USER_SET_VRING_ENABLE), 0);
	assert_false((u64_of(find(&x->b, VIO_VHOST_USER_SET_FEATURES, 0)) >> 30) & 1);
	for (unsigned i = 0; i < x->b.nlog; i++)
		assert_int_equal(x->b.log[i].flags, VIO_VHOST_USER_VERSION);
	/* no configuration space without PROTOCOL_F_CONFIG */
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 8, &v), -VIO_EINVAL);
}

static void test_front_status_protocol(void **state)
{
	struct fx *x = *state;
	x->b.proto |= UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_STATUS;
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	drv_create(x, false);
	/* the back end's status is read: it must echo what the core expects */
	x->b.status_reply = 0;
	assert_int_equal(vio_drv_negotiate(x->drv), -VIO_ENEGOTIATE); /* FEATURES_OK not shown */
	unsigned n = count(&x->b, VIO_VHOST_USER_SET_STATUS);
	assert_true(n >= 4); /* 0 (reset), ACK, ACK|DRIVER, +FEATURES_OK, +FAILED */
	assert_int_equal(u64_of(find(&x->b, VIO_VHOST_USER_SET_STATUS, 1)), VIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(u64_of(find(&x->b, VIO_VHOST_USER_SET_STATUS, 3)),
			 VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER | VIO_STATUS_FEATURES_OK);

	/* a status beyond 8 bits is a lie */
	x->b.status_reply = 0x100;
	uint8_t st;
	assert_int_equal(vio_vhost_user_front_ops.get_status(x->f, &st), -VIO_EDEVICE);
}

/* ---- configuration ------------------------------------------------------------------------ */

static void test_front_config_reads_prefix_from_zero(void **state)
{
	struct fx *x = *state;
	bring_up(x, false, 1);
	uint64_t v;
	unsigned before = x->b.nlog;
	assert_int_equal(vio_drv_config_read(x->drv, 20, 4, &v), 0);
	assert_int_equal(v, 512);
	const struct sent *s = &x->b.log[before];
	assert_int_equal(s->request, VIO_VHOST_USER_GET_CONFIG);
	struct vio_vhost_user_config c;
	memcpy(&c, s->payload, 12);
	assert_int_equal(c.offset, 0);
	assert_int_equal(c.size, 24);
	assert_int_equal(s->size, 12 + 24);
	assert_int_equal(vio_drv_config_read(x->drv, 0, 8, &v), 0);
	assert_int_equal(v, 2048);
	/* past what the back end has: its size-0 answer is a refused access */
	assert_int_equal(vio_drv_config_read(x->drv, 60, 4, &v), -VIO_EINVAL);
	/* past 256 bytes: never asked */
	before = x->b.nlog;
	assert_int_equal(vio_drv_config_read(x->drv, 256, 1, &v), -VIO_EINVAL);
	assert_int_equal(x->b.nlog, before);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_LIVE);
}

static void test_front_config_write(void **state)
{
	struct fx *x = *state;
	bring_up(x, false, 1);
	assert_int_equal(vio_drv_config_write(x->drv, 32, 1, 1), 0);
	const struct sent *s = find(&x->b, VIO_VHOST_USER_SET_CONFIG, 0);
	struct vio_vhost_user_config c;
	memcpy(&c, s->payload, s->size);
	assert_int_equal(s->size, 13);
	assert_int_equal(c.offset, 32);
	assert_int_equal(c.size, 1);
	assert_int_equal(c.flags, 0);
	assert_int_equal(c.region[0], 1);
	assert_true(s->flags & VIO_VHOST_USER_FLAG_NEED_REPLY);
}

static void test_front_config_reply_longer_than_asked(void **state)
{
	struct fx *x = *state;
	bring_up(x, false, 1);
	x->b.h = H_CONFIG_LONGER;
	x->b.h_req = VIO_VHOST_USER_GET_CONFIG;
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 4, &v), -VIO_EVHOST_REPLY);
	assert_int_equal(vio_vhost_user_front_error(x->f), -VIO_EVHOST_REPLY);
}

static void test_front_config_reply_wrong_echo(void **state)
{
	struct fx *x = *state;
	bring_up(x, false, 1);
	x->b.h = H_CONFIG_ECHO;
	x->b.h_req = VIO_VHOST_USER_GET_CONFIG;
	uint64_t v;
	assert_int_equal(vio_drv_config_read(x->drv, 0, 4, &v), -VIO_EVHOST_REPLY);
}

/* ---- notifications ------------------------------------------------------------------------ */

static void test_front_kick_and_call(void **state)
{
	struct fx *x = *state;
	bring_up(x, false, 1);
	assert_int_equal(vio_drv_notify(x->drv, 0), 0);
	assert_int_equal(x->b.kicks[0], 1);
	uint32_t causes;
	assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
	assert_int_equal(causes, 0);
	assert_int_equal(x->irqs, 0);
	x->b.call[0] = true;
	assert_int_equal(vio_drv_interrupt(x->drv, &causes), 0);
	assert_int_equal(causes, VIO_DRV_INT_VRING);
	assert_int_equal(x->irqs, 1);
	assert_false(x->b.call[0]); /* consumed */
}

/* ---- hostile replies ---------------------------------------------------------------------- */

static void connect_hostile(struct fx *x, enum hostile h, uint32_t req, int want)
{
	x->b.h = h;
	x->b.h_req = req;
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), want);
	assert_int_equal(vio_vhost_user_front_error(x->f), want);
	/* latched: nothing more goes out, the same error comes back */
	unsigned before = x->b.nlog;
	drv_create(x, false);
	assert_int_equal(vio_drv_negotiate(x->drv), want);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
	assert_int_equal(x->b.nlog, before);
}

static void test_front_hostile_wrong_request(void **state)
{
	connect_hostile(*state, H_WRONG_REQUEST, VIO_VHOST_USER_GET_FEATURES, -VIO_EVHOST_REPLY);
}

static void test_front_hostile_no_reply_flag(void **state)
{
	connect_hostile(*state, H_NO_REPLY_FLAG, VIO_VHOST_USER_GET_FEATURES, -VIO_EVHOST_REPLY);
}

static void test_front_hostile_wrong_version(void **state)
{
	connect_hostile(*state, H_WRONG_VERSION, VIO_VHOST_USER_GET_PROTOCOL_FEATURES,
			-VIO_EVHOST_REPLY);
}

static void test_front_hostile_extra_flag(void **state)
{
	connect_hostile(*state, H_EXTRA_FLAG, VIO_VHOST_USER_GET_QUEUE_NUM, -VIO_EVHOST_REPLY);
}

static void test_front_hostile_short_size(void **state)
{
	connect_hostile(*state, H_SHORT_SIZE, VIO_VHOST_USER_GET_FEATURES, -VIO_EVHOST_REPLY);
}

static void test_front_hostile_long_size(void **state)
{
	connect_hostile(*state, H_LONG_SIZE, VIO_VHOST_USER_GET_FEATURES, -VIO_EVHOST_REPLY);
}

static void test_front_hostile_huge_size(void **state)
{
	struct fx *x = *state;
	connect_hostile(x, H_HUGE_SIZE, VIO_VHOST_USER_GET_FEATURES, -VIO_EVHOST_REPLY);
	assert_int_equal(x->b.out_pos, 12); /* the header only: no payload read */
}

static void test_front_hostile_silent(void **state)
{
	connect_hostile(*state, H_SILENT, VIO_VHOST_USER_GET_QUEUE_NUM, -VIO_EVHOST_TIMEOUT);
}

static void test_front_hostile_closed(void **state)
{
	connect_hostile(*state, H_CLOSED, VIO_VHOST_USER_GET_FEATURES, -VIO_EVHOST_IO);
}

static void test_front_hostile_ack_garbled(void **state)
{
	struct fx *x = *state;
	/* the REPLY_ACK of SET_MEM_TABLE names another request */
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	x->b.h = H_WRONG_REQUEST;
	x->b.h_req = VIO_VHOST_USER_SET_MEM_TABLE;
	drv_create(x, false);
	assert_int_equal(vio_drv_negotiate(x->drv), -VIO_EVHOST_REPLY);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_FEATURES_OK);
	/* the connection is dead: a reset cannot stop anything */
	assert_int_equal(vio_drv_reset(x->drv), 0); /* nothing started yet */
}

static void test_front_hostile_queue_num(void **state)
{
	struct fx *x = *state;
	static const uint64_t bad[] = {0, VIO_VHOST_USER_FRONT_MAX_QUEUES + 1, UINT64_MAX};
	for (unsigned i = 0; i < 3; i++) {
		memset(&x->b, 0, sizeof(x->b));
		be_defaults(&x->b);
		x->b.queue_num = bad[i];
		assert_int_equal(front_init(x, 0), 0);
		assert_int_equal(vio_vhost_user_front_connect(x->f), -VIO_EDEVICE);
	}
	/* a count below the slots limits the queues */
	memset(&x->b, 0, sizeof(x->b));
	be_defaults(&x->b);
	x->b.queue_num = 1;
	bring_up(x, false, 1);
	uint16_t max;
	assert_int_equal(vio_drv_queue_max(x->drv, 1, &max), -VIO_ENODEV);
	uint16_t nq;
	assert_int_equal(vio_drv_num_queues(x->drv, &nq), 0);
	assert_int_equal(nq, 1);
}

static void test_front_hostile_features_change(void **state)
{
	struct fx *x = *state;
	/* bit 30 vanishes between GET_FEATURES replies */
	x->b.features_after = x->b.features & ~(UINT64_C(1) << VIO_VHOST_USER_F_PROTOCOL_FEATURES);
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	drv_create(x, false);
	assert_int_equal(vio_drv_negotiate(x->drv), -VIO_EDEVICE);
	assert_int_equal(vio_drv_failed_step(x->drv), VIO_DRV_STEP_FEATURES);

	/* a virtio bit that changes after FEATURES_OK: the core's re-check */
	memset(&x->b, 0, sizeof(x->b));
	be_defaults(&x->b);
	x->used = 0;
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	drv_create(x, false);
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	x->b.features |= UINT64_C(1) << VIO_BLK_F_RO;
	assert_int_equal(queue_up(x, 0), 0);
	assert_int_equal(vio_drv_ready(x->drv), -VIO_EDEVICE);
}

static void test_front_hostile_nack_features(void **state)
{
	struct fx *x = *state;
	x->b.h = H_NACK;
	x->b.h_req = VIO_VHOST_USER_SET_FEATURES;
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	drv_create(x, false);
	/* a refused feature set is the spec's FEATURES_OK left clear */
	assert_int_equal(vio_drv_negotiate(x->drv), -VIO_ENEGOTIATE);
	assert_int_equal(vio_vhost_user_front_error(x->f), 0); /* the connection is fine */
}

static void test_front_hostile_nack_vring(void **state)
{
	struct fx *x = *state;
	x->b.h = H_NACK;
	x->b.h_req = VIO_VHOST_USER_SET_VRING_ADDR;
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	drv_create(x, false);
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	assert_int_equal(queue_up(x, 0), -VIO_EVHOST_NACK);
	assert_int_equal(vio_drv_state(x->drv), VIO_DRV_FAILED);
}

static void test_front_hostile_vring_base(void **state)
{
	struct fx *x = *state;
	bring_up(x, false, 1);
	/* a reply for another queue */
	x->b.h = H_BASE_INDEX;
	x->b.h_req = VIO_VHOST_USER_GET_VRING_BASE;
	assert_int_equal(vio_drv_reset(x->drv), -VIO_EVHOST_REPLY);

	/* a split base with the reserved upper half set */
	memset(&x->b, 0, sizeof(x->b));
	be_defaults(&x->b);
	x->used = 0;
	bring_up(x, false, 1);
	x->b.vring_base_reply = 0x10000;
	assert_int_equal(vio_drv_reset(x->drv), -VIO_EDEVICE);
}

static void test_front_hostile_silent_at_stop(void **state)
{
	struct fx *x = *state;
	bring_up(x, false, 1);
	x->b.h = H_SILENT;
	x->b.h_req = VIO_VHOST_USER_GET_VRING_BASE;
	assert_int_equal(vio_drv_reset(x->drv), -VIO_EVHOST_TIMEOUT);
	/* the kick path refuses too: the connection is gone */
	assert_int_equal(vio_vhost_user_front_ops.notify(x->f, 0, 0), -VIO_EVHOST_TIMEOUT);
}

/* ---- argument checks ---------------------------------------------------------------------- */

static void test_front_ring_outside_regions(void **state)
{
	struct fx *x = *state;
	assert_int_equal(front_init(x, 0), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	drv_create(x, false);
	assert_int_equal(vio_drv_negotiate(x->drv), 0);
	unsigned before = x->b.nlog;
	assert_int_equal(vio_vhost_user_front_ops.queue_setup(x->f, 0, QSIZE, GPA_BASE - 4096,
							      GPA_BASE, GPA_BASE + 8192),
			 -VIO_EINVAL);
	assert_int_equal(vio_vhost_user_front_ops.queue_setup(x->f, 0, QSIZE,
							      GPA_BASE + ARENA_SIZE - 16, GPA_BASE,
							      GPA_BASE + 8192),
			 -VIO_EINVAL);
	assert_int_equal(x->b.nlog, before);
	/* enabling a queue never set up */
	assert_int_equal(vio_vhost_user_front_ops.queue_enable(x->f, 1), -VIO_EINVAL);
}

static void test_front_init_refuses(void **state)
{
	struct fx *x = *state;
	struct vio_vhost_user_front_config c = {
		.io = &be_io, .io_ctx = &x->b, .device_id = VIO_ID_BLOCK, .queue_slots = 4};
	struct vio_vhost_user_front *f;
	assert_int_equal(vio_vhost_user_front_init(&f, x->front_mem, sizeof(x->front_mem), &c), 0);
	assert_int_equal(vio_vhost_user_front_init(&f, x->front_mem, sizeof(x->front_mem) - 1, &c),
			 -VIO_EINVAL);
	assert_int_equal(vio_vhost_user_front_init(&f, x->front_mem + 1, 100000, &c), -VIO_EINVAL);
	c.device_id = 0;
	assert_int_equal(vio_vhost_user_front_init(&f, x->front_mem, sizeof(x->front_mem), &c),
			 -VIO_EINVAL);
	c.device_id = VIO_ID_BLOCK;
	c.queue_slots = 0;
	assert_int_equal(vio_vhost_user_front_init(&f, x->front_mem, sizeof(x->front_mem), &c),
			 -VIO_EINVAL);
	c.queue_slots = 4;
	c.protocol_features = UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_BACKEND_REQ;
	assert_int_equal(vio_vhost_user_front_init(&f, x->front_mem, sizeof(x->front_mem), &c),
			 -VIO_EINVAL);
	c.protocol_features = 0;
	struct vio_vhost_user_front_io io = be_io;
	io.kick = NULL;
	c.io = &io;
	assert_int_equal(vio_vhost_user_front_init(&f, x->front_mem, sizeof(x->front_mem), &c),
			 -VIO_EINVAL);

	/* regions: no overlap, no wrap, at most 8 */
	c.io = &be_io;
	assert_int_equal(vio_vhost_user_front_init(&f, x->front_mem, sizeof(x->front_mem), &c), 0);
	struct vio_vhost_user_mem_region r = {0x1000, 0x1000, 0x10000, 0};
	assert_int_equal(vio_vhost_user_front_add_region(f, &r, 3), 0);
	assert_int_equal(vio_vhost_user_front_add_region(f, &r, 3), -VIO_EINVAL);
	r.guest_phys_addr = UINT64_MAX - 0x10;
	r.user_addr = 0x100000;
	assert_int_equal(vio_vhost_user_front_add_region(f, &r, 3), -VIO_EINVAL);
	r.guest_phys_addr = 0x100000;
	assert_int_equal(vio_vhost_user_front_add_region(f, &r, -1), -VIO_EINVAL);
	for (unsigned i = 1; i < 8; i++) {
		struct vio_vhost_user_mem_region q = {0x100000 * (i + 1), 0x1000,
						      0x10000000 * (uint64_t)(i + 1), 0};
		assert_int_equal(vio_vhost_user_front_add_region(f, &q, 3), 0);
	}
	struct vio_vhost_user_mem_region last = {0x7000000, 0x1000, 0x7000000000, 0};
	assert_int_equal(vio_vhost_user_front_add_region(f, &last, 3), -VIO_EINVAL);
	/* protocol features narrowed by the embedder */
	memset(&x->b, 0, sizeof(x->b));
	be_defaults(&x->b);
	assert_int_equal(front_init(x, UINT64_C(1) << VIO_VHOST_USER_PROTOCOL_F_CONFIG), 0);
	assert_int_equal(vio_vhost_user_front_connect(x->f), 0);
	assert_int_equal(vio_vhost_user_front_protocol_features(x->f), 0x200);
	assert_int_equal(vio_vhost_user_front_connect(x->f), -VIO_EINVAL);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_front_bringup_exact_sequence),
		T(test_front_packed_base_and_layout),
		T(test_front_packed_not_offered_gives_split),
		T(test_front_reset_stops_started_rings),
		T(test_front_reset_device_when_offered),
		T(test_front_without_protocol_features),
		T(test_front_status_protocol),
		T(test_front_config_reads_prefix_from_zero),
		T(test_front_config_write),
		T(test_front_config_reply_longer_than_asked),
		T(test_front_config_reply_wrong_echo),
		T(test_front_kick_and_call),
		T(test_front_hostile_wrong_request),
		T(test_front_hostile_no_reply_flag),
		T(test_front_hostile_wrong_version),
		T(test_front_hostile_extra_flag),
		T(test_front_hostile_short_size),
		T(test_front_hostile_long_size),
		T(test_front_hostile_huge_size),
		T(test_front_hostile_silent),
		T(test_front_hostile_closed),
		T(test_front_hostile_ack_garbled),
		T(test_front_hostile_queue_num),
		T(test_front_hostile_features_change),
		T(test_front_hostile_nack_features),
		T(test_front_hostile_nack_vring),
		T(test_front_hostile_vring_base),
		T(test_front_hostile_silent_at_stop),
		T(test_front_ring_outside_regions),
		T(test_front_init_refuses),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
