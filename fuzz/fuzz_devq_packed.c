/* SPDX-License-Identifier: MIT */
/*
 * Device half of the packed ring against a hostile driver. The input supplies
 * features, queue size, the driver-owned memory (descriptor ring, driver
 * event suppression, indirect tables, buffers) and a script of device calls
 * interleaved with driver writes. Engine and invariants:
 * fuzz/engine_devq.c (fz_devq_run); input format: fuzz/README.md.
 */
#include "common.h"

static unsigned packed_writable(const struct fz_devq *d, struct fz_range out[2])
{
	/* Used descriptors go into the ring; the device event structure is ours. */
	out[0].addr = d->cfg.desc_addr;
	out[0].len = vio_packed_desc_size(d->size);
	out[1].addr = d->cfg.device_addr;
	out[1].len = vio_packed_event_size();
	return 2;
}

static uint16_t rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static void put16(struct fz_devq *d, uint64_t addr, uint16_t v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
	fz_devq_poke(d, addr, b, 2);
}

static uint16_t avail_bits(bool wrap)
{
	return (uint16_t)(wrap ? VIO_DESC_F_AVAIL : VIO_DESC_F_USED);
}

/* The wrap counter under which slot @j is available next, as the device
 * expects it now. */
static bool slot_wrap(struct fz_devq *d, uint16_t j)
{
	struct vio_ring_state st;
	vio_devq_get_state(d->q, &st);
	return j >= st.avail_idx ? st.avail_wrap : !st.avail_wrap;
}

/* Mark the slot k places after the device's position available. */
static void packed_publish(struct fz_devq *d, struct fz_in *in)
{
	uint8_t k = fz_u8(in), fl = fz_u8(in), id = fz_u8(in);
	struct vio_ring_state st;
	vio_devq_get_state(d->q, &st);
	uint16_t slot = st.avail_idx;
	bool wrap = st.avail_wrap;
	fz_packed_advance(&slot, &wrap, k % d->size, d->size);
	uint64_t at = d->cfg.desc_addr + 16u * slot;
	const unsigned char *p = fz_devq_host(d, at, 16);
	if (p == NULL)
		return;
	uint16_t old = rd16(p + 14);
	uint16_t flags = (uint16_t)(((fl & 0x80) ? (fl & 7u) : (old & 7u)) | avail_bits(wrap));
	if (fl & 0x40)
		put16(d, at + 12, id);
	put16(d, at + 14, flags);
}

static void packed_desc(struct fz_devq *d, struct fz_in *in)
{
	uint8_t tgt = fz_u8(in), j = fz_u8(in), rsel = fz_u8(in);
	uint16_t off = fz_u16(in), len = fz_u16(in);
	uint8_t fl = fz_u8(in), id = fz_u8(in);
	uint64_t at;
	uint16_t flags = (uint16_t)(fl & 7u);
	if (tgt == 0) {
		uint16_t slot = (uint16_t)(j % d->size);
		at = d->cfg.desc_addr + 16u * slot;
		if (fl & 0x08)
			flags |= avail_bits(slot_wrap(d, slot));
	} else {
		const struct fz_region *r = &d->m->r[(tgt - 1u) % d->m->n];
		at = r->addr + 16u * j;
	}
	if (fl & 0x10)
		flags |= VIO_DESC_F_AVAIL;
	if (fl & 0x20)
		flags |= VIO_DESC_F_USED;
	uint64_t addr = fz_devq_pick_addr(d, rsel, off);
	uint32_t l = len;
	if (fl & 0x40)
		l |= 0xfff00000u;
	unsigned char b[16];
	for (unsigned i = 0; i < 8; i++)
		b[i] = (unsigned char)(addr >> (8 * i));
	for (unsigned i = 0; i < 4; i++)
		b[8 + i] = (unsigned char)(l >> (8 * i));
	b[12] = id;
	b[13] = (fl & 0x80) ? 1 : 0;
	b[14] = (unsigned char)flags;
	b[15] = (unsigned char)(flags >> 8);
	fz_devq_poke(d, at, b, 16);
}

/* The driver event suppression structure: off_wrap or flags. */
static void packed_event(struct fz_devq *d, struct fz_in *in)
{
	uint8_t which = fz_u8(in);
	uint16_t v = fz_u16(in);
	put16(d, d->cfg.driver_addr + ((which & 1) ? 0 : 2), v);
}

static bool packed_intr_suppressed(struct fz_devq *d)
{
	const unsigned char *ev = fz_devq_host(d, d->cfg.driver_addr, 4);
	return ev != NULL && (rd16(ev + 2) & 3u) == VIO_RING_EVENT_FLAGS_DISABLE;
}

static void packed_check_notify_area(struct fz_devq *d, bool enabled)
{
	const unsigned char *ev = fz_devq_host(d, d->cfg.device_addr, 4);
	FZ_CHECK(ev != NULL); /* mapped at init */
	uint16_t flags = rd16(ev + 2);
	if (!enabled) {
		FZ_CHECK(flags == VIO_RING_EVENT_FLAGS_DISABLE);
	} else if (!(d->feat & FZ_FEAT_EVENT_IDX)) {
		FZ_CHECK(flags == VIO_RING_EVENT_FLAGS_ENABLE);
	} else {
		struct vio_ring_state st;
		vio_devq_get_state(d->q, &st);
		FZ_CHECK(flags == VIO_RING_EVENT_FLAGS_DESC);
		FZ_CHECK(rd16(ev) == (uint16_t)(st.avail_idx | (st.avail_wrap ? 0x8000u : 0u)));
	}
}

/* The chain's descriptors: ndesc slots from the head. */
static int packed_chain_descs(struct fz_devq *d, const struct vio_chain *c, struct fz_desc *out,
			      unsigned max)
{
	uint16_t slot = c->head;
	if (c->ndesc > max)
		return -1;
	for (unsigned k = 0; k < c->ndesc; k++) {
		const unsigned char *p = fz_devq_host(d, d->cfg.desc_addr + 16u * slot, 16);
		if (p == NULL)
			return -1;
		uint16_t fl = rd16(p + 14);
		if (fl & VIO_DESC_F_INDIRECT)
			return -1;
		out[k].addr = fz_rd64(p);
		out[k].len = fz_rd32(p + 8);
		out[k].flags = fl;
		slot = (uint16_t)(slot + 1u == d->size ? 0 : slot + 1u);
	}
	return c->ndesc;
}

static const struct fz_devq_fmt packed_fmt = {
	.format = VIO_RING_PACKED,
	.size_from = fz_packed_size,
	.ring_sizes = fz_packed_ring_sizes,
	.writable = packed_writable,
	.publish = packed_publish,
	.desc = packed_desc,
	.event = packed_event,
	.intr_suppressed = packed_intr_suppressed,
	.check_notify_area = packed_check_notify_area,
	.chain_descs = packed_chain_descs,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_devq_run(&packed_fmt, data, size);
}
