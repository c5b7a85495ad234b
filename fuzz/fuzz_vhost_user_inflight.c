/* SPDX-License-Identifier: MIT */
/*
 * vhost-user in-flight tracking (vhost_user_inflight.h): a restarted back
 * end attaching to a hostile inflight region over hostile ring memory.
 *
 * Input: a flags byte (bit 0 packed, bit 1 IN_ORDER, bit 2 attach with a
 * SET_VRING_BASE position from the input instead of none), a size byte
 * (split 1 << (b % 5), packed 1 + b % 16), an operation count (up to 64) and
 * that many operation bytes run honestly first by a driver (vio_vq) and a
 * device (vio_devq) journaling into the region: low 2 bits 0 add a buffer
 * (bits 2-3: readable segments), 1 pop, 2 push held chain (bits 2-7 pick it),
 * 3 push a batch of every held chain. Then the device "dies" (its memory is
 * abandoned), and the input edits the region part and the ring memory: an
 * edit count (up to 32), each a target byte (bit 0: 0 part, 1 rings), a
 * 16-bit offset (modulo the target's size) and a byte XORed there. Then: a
 * new device queue, attach, re-submit until -VIO_EAGAIN, complete every
 * chain, pop and complete what is left, the driver takes what it can.
 *
 * Checked: the part is an exact heap block (ASan sees a byte past it) and
 * is unchanged when attach fails; re-submission ends within the queue size
 * (+1 for the final -VIO_EAGAIN) calls; every chain handed out has an id in
 * range; without edits attach succeeds and re-submits exactly what was in
 * flight, and the driver takes every buffer exactly once.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "input.h"

#define MAXQ 16
#define NBUF 64
#define SLOT 64
#define MAXSEGS 4

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_vhost_user_inflight: %s:%d: %s\n", __FILE__,         \
				__LINE__, #c);                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

struct held {
	struct vio_chain c;
	struct vio_chain_seg s[MAXQ];
};

struct world {
	enum vio_ring_format fmt;
	uint16_t size;
	struct vio_features feat;
	unsigned char *mem; /* rings then buffers: one region, identity addresses */
	size_t mem_len, ring_len;
	void *desc, *drv, *dev;
	struct vio_mem_region region;
	struct vio_vq *vq;
	void *vq_mem;
	struct vio_devq *dq;
	void *dq_mem;
	size_t dq_mem_size;
	int tok[NBUF];
	unsigned ntok, got[NBUF];
	struct held h[MAXQ];
	unsigned nheld;
};

static void *zalloc_aligned(size_t n)
{
	void *p = aligned_alloc(64, (n + 63u) & ~(size_t)63u);
	CHECK(p != NULL);
	memset(p, 0, n);
	return p;
}

static int new_devq(struct world *w)
{
	struct vio_devq_config c;
	memset(&c, 0, sizeof(c));
	c.format = w->fmt;
	c.size = w->size;
	c.features = w->feat;
	c.desc_addr = (uint64_t)(uintptr_t)w->desc;
	c.driver_addr = (uint64_t)(uintptr_t)w->drv;
	c.device_addr = (uint64_t)(uintptr_t)w->dev;
	c.regions = &w->region;
	c.nregions = 1;
	c.take_long_chains = true;
	free(w->dq_mem);
	w->dq_mem_size = vio_devq_mem_size(w->fmt, w->size);
	w->dq_mem = zalloc_aligned(w->dq_mem_size);
	w->nheld = 0;
	return vio_devq_init(&w->dq, w->dq_mem, w->dq_mem_size, &c);
}

static void world_init(struct world *w, enum vio_ring_format fmt, uint16_t size, bool in_order)
{
	memset(w, 0, sizeof(*w));
	w->fmt = fmt;
	w->size = size;
	vio_features_set(&w->feat, VIO_F_VERSION_1);
	if (fmt == VIO_RING_PACKED)
		vio_features_set(&w->feat, VIO_F_RING_PACKED);
	if (in_order)
		vio_features_set(&w->feat, VIO_F_IN_ORDER);
	size_t dsz = fmt == VIO_RING_SPLIT ? vio_split_desc_size(size) : vio_packed_desc_size(size);
	size_t asz = fmt == VIO_RING_SPLIT ? vio_split_avail_size(size) : vio_packed_event_size();
	size_t usz = fmt == VIO_RING_SPLIT ? vio_split_used_size(size) : vio_packed_event_size();
	size_t aoff = (dsz + 63u) & ~(size_t)63u, uoff = (aoff + asz + 63u) & ~(size_t)63u;
	w->ring_len = uoff + usz;
	w->mem_len = ((w->ring_len + 63u) & ~(size_t)63u) + (size_t)NBUF * SLOT;
	w->mem = zalloc_aligned(w->mem_len);
	w->desc = w->mem;
	w->drv = w->mem + aoff;
	w->dev = w->mem + uoff;
	w->region = (struct vio_mem_region){(uint64_t)(uintptr_t)w->mem, w->mem_len, w->mem,
					    VIO_MAP_RW};
	struct vio_vq_config vc;
	memset(&vc, 0, sizeof(vc));
	vc.format = fmt;
	vc.size = size;
	vc.features = w->feat;
	vc.desc = w->desc;
	vc.driver_area = w->drv;
	vc.device_area = w->dev;
	size_t vsz = vio_vq_mem_size(&vc);
	w->vq_mem = zalloc_aligned(vsz);
	CHECK(vio_vq_init(&w->vq, w->vq_mem, vsz, &vc) == 0);
	CHECK(new_devq(w) == 0);
}

static void world_fini(struct world *w)
{
	free(w->vq_mem);
	free(w->dq_mem);
	free(w->mem);
}

static unsigned char *buf_of(struct world *w, unsigned k)
{
	return w->mem + ((w->ring_len + 63u) & ~(size_t)63u) + (size_t)k * SLOT;
}

static void drain(struct world *w)
{
	void *tok;
	uint32_t len;
	while (vio_vq_get(w->vq, &tok, &len) == 0) {
		unsigned k = (unsigned)((int *)tok - w->tok);
		CHECK(k < w->ntok);
		w->got[k]++;
	}
}

/* Held chains stay in pop order (in-order batches take the oldest). */
static void unhold(struct world *w, unsigned i, unsigned n)
{
	for (unsigned j = i; j + n < w->nheld; j++) {
		w->h[j] = w->h[j + n];
		w->h[j].c.segs = w->h[j].s;
	}
	w->nheld -= n;
}

/* Complete held chains i .. i+n-1 (in order: the oldest n). */
static void push(struct world *w, bool in_order, unsigned i, unsigned n)
{
	struct vio_used u[MAXQ];
	if (n == 0 || i + n > w->nheld)
		return;
	if (in_order)
		i = 0;
	for (unsigned j = 0; j < n; j++)
		u[j] = (struct vio_used){&w->h[i + j].c, w->h[i + j].c.in_bytes};
	int rc = in_order ? vio_devq_push_in_order(w->dq, u, n) : vio_devq_push_batch(w->dq, u, n);
	if (rc == 0)
		unhold(w, i, n);
}

static bool pop(struct world *w)
{
	if (w->nheld >= MAXQ)
		return false;
	struct held *h = &w->h[w->nheld];
	int rc = vio_devq_pop(w->dq, &h->c, h->s, MAXQ);
	if (rc != 0)
		return false;
	CHECK(h->c.id < w->size);
	w->nheld++;
	return true;
}

static void add(struct world *w, unsigned nout)
{
	if (w->ntok >= NBUF)
		return;
	unsigned k = w->ntok;
	struct vio_sg sg[4];
	unsigned char *b = buf_of(w, k);
	for (unsigned i = 0; i < nout; i++)
		sg[i] = (struct vio_sg){b + 8 * i, 8};
	sg[nout] = (struct vio_sg){b + 32, 32};
	if (vio_vq_add(w->vq, sg, nout, 1, &w->tok[k]) == 0)
		w->ntok++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	uint8_t flags = fz_u8(&in), sb = fz_u8(&in);
	enum vio_ring_format fmt = (flags & 1u) ? VIO_RING_PACKED : VIO_RING_SPLIT;
	bool in_order = (flags & 2u) != 0;
	uint16_t qs =
		fmt == VIO_RING_SPLIT ? (uint16_t)(1u << (sb % 5u)) : (uint16_t)(1u + sb % 16u);
	struct world w;
	world_init(&w, fmt, qs, in_order);

	/* The region: 2 queues, ours is queue 1, an exact heap block. */
	uint64_t rlen = vio_vhost_user_inflight_size(fmt, 2, qs);
	unsigned char *region = zalloc_aligned((size_t)rlen);
	CHECK(vio_vhost_user_inflight_init(region, rlen, fmt, 2, qs) == 0);
	uint64_t plen = 0;
	void *part0 = vio_vhost_user_inflight_queue_region(region, rlen, fmt, qs, 1, &plen);
	CHECK(part0 != NULL && plen == vio_vhost_user_inflight_queue_size(fmt, qs));
	void *part = malloc((size_t)plen);
	CHECK(part != NULL && ((uintptr_t)part & 7u) == 0);
	memcpy(part, part0, (size_t)plen);
	free(region);
	size_t imem_size = vio_vhost_user_inflight_mem_size(fmt, qs);
	void *imem = zalloc_aligned(imem_size);
	struct vio_vhost_user_inflight_queue *iq = NULL;
	struct vio_vhost_user_inflight_info info;
	CHECK(vio_vhost_user_inflight_attach(&iq, imem, imem_size, part, plen, w.dq, NULL, &info) ==
	      0);
	CHECK(info.fresh && info.resubmit == 0);

	/* An honest life. */
	unsigned nops = fz_u8(&in) % 65u;
	for (unsigned i = 0; i < nops; i++) {
		uint8_t op = fz_u8(&in);
		switch (op & 3u) {
		case 0:
			add(&w, (op >> 2) % 3u);
			break;
		case 1:
			(void)pop(&w);
			break;
		case 2:
			if (w.nheld != 0)
				push(&w, in_order, (op >> 2) % w.nheld, 1);
			break;
		default:
			push(&w, in_order, 0, w.nheld);
			break;
		}
		if (op & 0x80u)
			drain(&w);
	}
	unsigned honest_inflight = w.nheld;
	CHECK(!vio_devq_is_broken(w.dq));

	/* It dies. The region and the rings are edited. */
	unsigned nedits = fz_u8(&in) % 33u;
	for (unsigned i = 0; i < nedits; i++) {
		uint8_t t = fz_u8(&in);
		uint16_t off = fz_u16(&in);
		uint8_t x = fz_u8(&in);
		if (t & 1u)
			w.mem[off % w.ring_len] ^= x;
		else
			((unsigned char *)part)[off % plen] ^= x;
	}
	struct vio_ring_state base = {0, 0, true, true, 0};
	if (flags & 4u) {
		base.avail_idx = (uint16_t)(fz_u16(&in) % qs);
		base.used_idx = (uint16_t)(fz_u16(&in) % qs);
		base.used_wrap = (fz_u8(&in) & 1u) != 0;
	}

	/* The new life. */
	CHECK(new_devq(&w) == 0);
	unsigned char *before = malloc((size_t)plen);
	CHECK(before != NULL);
	memcpy(before, part, (size_t)plen);
	int rc = vio_vhost_user_inflight_attach(&iq, imem, imem_size, part, plen, w.dq,
						(flags & 4u) ? &base : NULL, &info);
	if (nedits == 0)
		CHECK(rc == 0 && info.resubmit == honest_inflight);
	if (rc != 0) {
		CHECK(rc < 0);
		CHECK(memcmp(before, part, (size_t)plen) == 0);
	} else {
		CHECK(info.resubmit <= qs);
		unsigned calls = 0, got = 0;
		for (;;) {
			CHECK(++calls <= (unsigned)qs + 1u);
			if (w.nheld >= MAXQ)
				break;
			struct held *h = &w.h[w.nheld];
			int r = vio_vhost_user_inflight_resubmit(iq, w.dq, &h->c, h->s, MAXQ);
			if (r == -VIO_EAGAIN)
				break;
			if (r == 0) {
				CHECK(h->c.id < qs);
				w.nheld++;
				got++;
			}
		}
		if (nedits == 0)
			CHECK(got == honest_inflight);
		push(&w, in_order, 0, w.nheld);
		for (unsigned i = 0; i < 2u * qs && pop(&w); i++)
			;
		push(&w, in_order, 0, w.nheld);
		drain(&w);
		if (nedits == 0 && !in_order) {
			CHECK(!vio_vq_is_broken(w.vq));
			for (unsigned k = 0; k < w.ntok; k++)
				CHECK(w.got[k] == 1);
		}
		(void)vio_vhost_user_inflight_detach(iq, w.dq);
	}
	free(before);
	free(part);
	free(imem);
	world_fini(&w);
	return 0;
}
