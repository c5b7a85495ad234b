/* SPDX-License-Identifier: MIT */
/* Byte-order check: every field the library writes into shared memory is
 * little-endian on any host, and both halves read back what the other wrote.
 *
 * Deliberately free of cmocka and of the test support library, so that it
 * cross-compiles with nothing but a C library: scripts/bigendian.sh builds
 * it for s390x and runs it under qemu-user, and CTest runs it natively. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <virtio/virtio.h>

static unsigned checks, failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                     \
		}                                                                                  \
	} while (0)

/* The little-endian value of @n bytes at @p, assembled byte by byte. */
static uint64_t le_bytes(const void *p, unsigned n)
{
	const unsigned char *b = p;
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static _Alignas(4096) unsigned char arena[1 << 16];

/* Device view: device address = host address, bounded by the arena (one
 * region; its guest address is filled in at run time). */
static struct vio_mem_region arena_region = {0, sizeof(arena), arena, VIO_MAP_RW};

static void check_accessors(void)
{
	vio_le16 a = vio_le16_make(0x1234);
	vio_le32 b = vio_le32_make(0x12345678u);
	vio_le64 c = vio_le64_make(0x0102030405060708ull);
	CHECK(le_bytes(&a, 2) == 0x1234);
	CHECK(le_bytes(&b, 4) == 0x12345678u);
	CHECK(le_bytes(&c, 8) == 0x0102030405060708ull);
	CHECK(((unsigned char *)&a)[0] == 0x34);
	CHECK(((unsigned char *)&c)[0] == 0x08);
	CHECK(vio_le16_get(a) == 0x1234 && vio_le32_get(b) == 0x12345678u);
	CHECK(vio_le64_get(c) == 0x0102030405060708ull);
}

/* The one-segment fast paths (the device's chain record is written in
 * composed 64-bit stores, its push test is one masked 64-bit compare: both
 * depend on the host's byte order) and the batch entry points, on a queue
 * that went round several times. */
static void run_fast(struct vio_vq *vq, struct vio_devq *dq, unsigned char *buf)
{
	uint64_t buf_addr = (uint64_t)(uintptr_t)buf;
	for (unsigned it = 0; it < 40; it++) {
		bool write = (it & 1) != 0;
		uint32_t blen = 0x0100u + it;
		struct vio_sg sg = {buf, blen};
		CHECK(vio_vq_add(vq, &sg, write ? 0 : 1, write ? 1 : 0,
				 (void *)(uintptr_t)(it + 1)) == 0);
		struct vio_chain ch;
		struct vio_chain_seg segs[2];
		memset(&ch, 0xa5, sizeof(ch));
		memset(segs, 0xa5, sizeof(segs));
		CHECK(vio_devq_pop(dq, &ch, segs, 2) == 0);
		CHECK(ch.nseg == 1 && ch.ndesc == 1 && ch.flags == 0 && ch.segs == segs);
		CHECK(ch.nout == (write ? 0 : 1));
		CHECK(ch.out_bytes == (write ? 0 : blen) && ch.in_bytes == (write ? blen : 0));
		CHECK(segs[0].ptr == buf && segs[0].addr == buf_addr && segs[0].len == blen);
		CHECK(segs[0].write == write && !segs[0].release);
		/* The push test refuses another generation and too many bytes. */
		struct vio_chain stale = ch;
		stale.gen++;
		CHECK(vio_devq_push(dq, &stale, 0) == -VIO_EINVAL);
		CHECK(vio_devq_push(dq, &ch, ch.in_bytes + 1) == -VIO_EINVAL);
		CHECK(vio_devq_push(dq, &ch, ch.in_bytes) == 0);
		void *tok;
		uint32_t len;
		CHECK(vio_vq_get(vq, &tok, &len) == 0);
		CHECK(tok == (void *)(uintptr_t)(it + 1) && len == (write ? blen : 0));
	}

	/* Batches of three writable buffers. */
	for (unsigned it = 0; it < 8; it++) {
		struct vio_sg sg[3] = {{buf, 0x10}, {buf + 0x100, 0x20}, {buf + 0x200, 0x30}};
		void *toks[3] = {(void *)1, (void *)2, (void *)3};
		CHECK(vio_vq_add_batch(vq, sg, 0, 1, toks, 3) == 3);
		struct vio_chain ch[3];
		struct vio_chain_seg segs[3 * 2];
		CHECK(vio_devq_pop_batch(dq, ch, segs, 2, 3) == 3);
		struct vio_used used[3];
		for (unsigned k = 0; k < 3; k++) {
			CHECK(ch[k].nseg == 1 && ch[k].in_bytes == 0x10u * (k + 1));
			used[k] = (struct vio_used){&ch[k], ch[k].in_bytes - 1};
		}
		CHECK(vio_devq_push_batch(dq, used, 3) == 0);
		void *tok[3];
		uint32_t len[3];
		CHECK(vio_vq_get_batch(vq, tok, len, 3) == 3);
		for (unsigned k = 0; k < 3; k++)
			CHECK(tok[k] == toks[k] && len[k] == 0x10u * (k + 1) - 1);
	}

	/* The same through vio_devq_push_chains(): its push test is the same
	 * masked 64-bit compare, and it writes the used entries itself. A
	 * refused batch (one length too many) publishes nothing. */
	for (unsigned it = 0; it < 8; it++) {
		struct vio_sg sg[3] = {{buf, 0x10}, {buf + 0x100, 0x20}, {buf + 0x200, 0x30}};
		void *toks[3] = {(void *)4, (void *)5, (void *)6};
		CHECK(vio_vq_add_batch(vq, sg, 0, 1, toks, 3) == 3);
		struct vio_chain ch[3];
		struct vio_chain_seg segs[3 * 2];
		CHECK(vio_devq_pop_batch(dq, ch, segs, 2, 3) == 3);
		uint32_t lens[3];
		for (unsigned k = 0; k < 3; k++)
			lens[k] = ch[k].in_bytes - it;
		lens[2] = ch[2].in_bytes + 1;
		CHECK(vio_devq_push_chains(dq, ch, lens, 3) == -VIO_EINVAL);
		CHECK(!vio_vq_has_used(vq));
		lens[2] = ch[2].in_bytes - it;
		CHECK(vio_devq_push_chains(dq, ch, lens, 3) == 0);
		void *tok[3];
		uint32_t len[3];
		CHECK(vio_vq_get_batch(vq, tok, len, 3) == 3);
		for (unsigned k = 0; k < 3; k++)
			CHECK(tok[k] == toks[k] && len[k] == 0x10u * (k + 1) - it);
	}
	CHECK(!vio_vq_is_broken(vq) && !vio_devq_is_broken(dq));
}

static void run(enum vio_ring_format fmt, bool event_idx)
{
	memset(arena, 0, sizeof(arena));
	const uint16_t size = 8;
	unsigned char *desc = arena, *drv = arena + 4096, *dev = arena + 8192;
	unsigned char *buf = arena + 16384;

	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	c.format = fmt;
	c.size = size;
	c.desc = desc;
	c.driver_area = drv;
	c.device_area = dev;
	if (event_idx)
		vio_features_set(&c.features, VIO_F_EVENT_IDX);
	if (fmt == VIO_RING_PACKED)
		vio_features_set(&c.features, VIO_F_RING_PACKED);
	static _Alignas(8) unsigned char vqmem[4096], dqmem[4096];
	struct vio_vq *vq;
	struct vio_devq *dq;
	CHECK(vio_vq_init(&vq, vqmem, sizeof(vqmem), &c) == 0);
	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = fmt;
	dc.size = size;
	dc.features = c.features;
	arena_region.guest_addr = (uint64_t)(uintptr_t)arena;
	dc.regions = &arena_region;
	dc.nregions = 1;
	CHECK(vio_vq_ring_addrs(vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr) == 0);
	CHECK(vio_devq_init(&dq, dqmem, sizeof(dqmem), &dc) == 0);
	CHECK(vio_devq_enable_notify(dq));

	for (unsigned it = 0; it < 3 * 65536u / 7u; it++) {
		uint16_t slot = 0;
		bool wrap = true;
		struct vio_ring_state st;
		vio_devq_get_state(dq, &st);
		slot = st.avail_idx;
		wrap = st.avail_wrap;

		struct vio_sg sg[2] = {{buf, 0x0102}, {buf + 0x1000, 0x0304}};
		CHECK(vio_vq_add(vq, sg, 1, 1, (void *)(uintptr_t)(it + 1)) == 0);
		(void)vio_vq_kick_prepare(vq);
		uint64_t buf_addr = (uint64_t)(uintptr_t)buf;

		if (it < 4) {
			/* The bytes of what the driver wrote. */
			if (fmt == VIO_RING_SPLIT) {
				uint16_t head = (uint16_t)le_bytes(drv + 4 + 2 * (it % size), 2);
				unsigned char *d = desc + 16u * head;
				CHECK(le_bytes(drv + 2, 2) == it + 1); /* avail->idx */
				CHECK(le_bytes(d, 8) == buf_addr);
				CHECK(le_bytes(d + 8, 4) == 0x0102);
				CHECK(le_bytes(d + 12, 2) == VIO_DESC_F_NEXT);
			} else {
				unsigned char *d = desc + 16u * slot;
				CHECK(le_bytes(d, 8) == buf_addr);
				CHECK(le_bytes(d + 8, 4) == 0x0102);
				uint16_t f = (uint16_t)le_bytes(d + 14, 2);
				CHECK((f & VIO_DESC_F_NEXT) != 0);
				CHECK(((f & VIO_DESC_F_AVAIL) != 0) == wrap);
				CHECK(((f & VIO_DESC_F_USED) != 0) != wrap);
			}
		}

		struct vio_chain ch;
		struct vio_chain_seg segs[8];
		CHECK(vio_devq_pop(dq, &ch, segs, 8) == 0);
		CHECK(ch.nseg == 2 && ch.nout == 1 && ch.out_bytes == 0x0102 &&
		      ch.in_bytes == 0x0304);
		CHECK(segs[0].ptr == buf && segs[1].ptr == buf + 0x1000 && segs[1].write);
		/* The chain walk's composed stores: record and segment tails. */
		CHECK(ch.ndesc == 2 && ch.flags == 0 && ch.segs == segs);
		CHECK(fmt == VIO_RING_SPLIT ? ch.head == ch.id : ch.head == slot);
		CHECK(segs[0].len == 0x0102 && segs[1].len == 0x0304 && !segs[0].write);
		CHECK(!segs[0].release && !segs[1].release);
		CHECK(vio_devq_push(dq, &ch, 0x0203) == 0);
		(void)vio_devq_needs_notify(dq);

		if (it < 4) {
			/* The bytes of what the device wrote. */
			if (fmt == VIO_RING_SPLIT) {
				CHECK(le_bytes(dev + 2, 2) == it + 1); /* used->idx */
				unsigned char *e = dev + 4 + 8 * (it % size);
				CHECK(le_bytes(e, 4) == ch.id);
				CHECK(le_bytes(e + 4, 4) == 0x0203);
			} else {
				unsigned char *d = desc + 16u * slot;
				CHECK(le_bytes(d + 12, 2) == ch.id);
				CHECK(le_bytes(d + 8, 4) == 0x0203);
				uint16_t f = (uint16_t)le_bytes(d + 14, 2);
				CHECK(((f & VIO_DESC_F_AVAIL) != 0) == wrap);
				CHECK(((f & VIO_DESC_F_USED) != 0) == wrap);
				CHECK((f & VIO_DESC_F_WRITE) != 0);
			}
		}

		void *tok;
		uint32_t len;
		CHECK(vio_vq_get(vq, &tok, &len) == 0);
		CHECK(tok == (void *)(uintptr_t)(it + 1) && len == 0x0203);
		if (event_idx && fmt == VIO_RING_SPLIT)
			CHECK(le_bytes(drv + 4 + 2 * size, 2) ==
			      (uint16_t)(it + 1)); /* used_event */
		CHECK(vio_devq_enable_notify(dq));
		if (event_idx && fmt == VIO_RING_SPLIT)
			CHECK(le_bytes(dev + 4 + 8 * size, 2) ==
			      (uint16_t)(it + 1)); /* avail_event */
		if (event_idx && fmt == VIO_RING_PACKED) {
			vio_devq_get_state(dq, &st);
			uint16_t ow = (uint16_t)le_bytes(dev, 2);
			CHECK((ow & 0x7fffu) == st.avail_idx);
			CHECK(((ow >> 15) != 0) == st.avail_wrap);
			CHECK(le_bytes(dev + 2, 2) == VIO_RING_EVENT_FLAGS_DESC);
		}
	}
	CHECK(vio_vq_num_free(vq) == size);
	CHECK(!vio_vq_is_broken(vq) && !vio_devq_is_broken(dq));
	run_fast(vq, dq, buf);
}

int main(void)
{
	check_accessors();
	for (int f = 0; f < 2; f++)
		for (int e = 0; e < 2; e++)
			run(f ? VIO_RING_PACKED : VIO_RING_SPLIT, e != 0);
	printf("endian: host %s-endian, %u checks\n", VIO_HOST_BIG_ENDIAN ? "big" : "little",
	       checks);
	printf("%u passed, %u failed\n", checks - failures, failures);
	return failures != 0;
}
