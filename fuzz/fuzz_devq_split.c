/* SPDX-License-Identifier: MIT */
/*
 * Device half of the split ring against a hostile driver. The input supplies
 * features, queue size, the driver-owned memory (descriptor table, available
 * ring, indirect tables, buffers) and a script of device calls interleaved
 * with driver writes. Engine and invariants: fuzz/engine_devq.c (fz_devq_run);
 * input format: fuzz/README.md.
 */
#include "common.h"

static unsigned split_writable(const struct fz_devq *d, struct fz_range out[2])
{
	out[0].addr = d->cfg.device_addr;
	out[0].len = vio_split_used_size(d->size);
	return 1;
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

/* Put heads into the available ring and move its index, as a driver does. */
static void split_publish(struct fz_devq *d, struct fz_in *in)
{
	uint8_t h = fz_u8(in), k = fz_u8(in);
	uint64_t a = d->cfg.driver_addr;
	const unsigned char *avail = fz_devq_host(d, a, vio_split_avail_size(d->size));
	if (avail == NULL)
		return;
	uint16_t idx = rd16(avail + 2);
	unsigned n = 1u + (k & 3u);
	for (unsigned j = 0; j < n; j++) {
		uint16_t head = (uint16_t)(h + j);
		if (k & 0x80)
			head = (uint16_t)(head + 256u * (k & 0x7cu));
		put16(d, a + 4 + 2u * (idx & (d->size - 1u)), head);
		idx++;
	}
	put16(d, a + 2, idx);
}

/* Write one descriptor, into the table or into any region (an indirect
 * table), pointing into one of the regions. */
static void split_desc(struct fz_devq *d, struct fz_in *in)
{
	uint8_t tgt = fz_u8(in), j = fz_u8(in), rsel = fz_u8(in);
	uint16_t off = fz_u16(in), len = fz_u16(in);
	uint8_t fl = fz_u8(in), next = fz_u8(in);
	uint64_t at;
	if (tgt == 0) {
		at = d->cfg.desc_addr + 16u * (j & (d->size - 1u));
	} else {
		const struct fz_region *r = &d->m->r[(tgt - 1u) % d->m->n];
		at = r->addr + 16u * j;
	}
	uint64_t addr = fz_devq_pick_addr(d, rsel, off);
	uint32_t l = len;
	if (fl & 0x40)
		l |= 0xfff00000u; /* length overflow attempts */
	uint16_t flags = (uint16_t)(fl & 7u);
	unsigned char b[16];
	for (unsigned i = 0; i < 8; i++)
		b[i] = (unsigned char)(addr >> (8 * i));
	for (unsigned i = 0; i < 4; i++)
		b[8 + i] = (unsigned char)(l >> (8 * i));
	b[12] = (unsigned char)flags;
	b[13] = (unsigned char)(flags >> 8);
	b[14] = next;
	b[15] = (fl & 0x80) ? 0x80 : 0;
	fz_devq_poke(d, at, b, 16);
}

/* used_event or the available ring flags. */
static void split_event(struct fz_devq *d, struct fz_in *in)
{
	uint8_t which = fz_u8(in);
	uint16_t v = fz_u16(in);
	uint64_t a = d->cfg.driver_addr;
	put16(d, (which & 1) ? a + 4 + 2u * d->size : a, v);
}

static bool split_intr_suppressed(struct fz_devq *d)
{
	if (d->feat & FZ_FEAT_EVENT_IDX)
		return false;
	const unsigned char *avail = fz_devq_host(d, d->cfg.driver_addr, 2);
	return avail != NULL && (rd16(avail) & VIO_AVAIL_F_NO_INTERRUPT) != 0;
}

static void split_check_notify_area(struct fz_devq *d, bool enabled)
{
	const unsigned char *used =
		fz_devq_host(d, d->cfg.device_addr, vio_split_used_size(d->size));
	FZ_CHECK(used != NULL); /* mapped at init */
	if (!(d->feat & FZ_FEAT_EVENT_IDX)) {
		FZ_CHECK(rd16(used) == (enabled ? 0 : VIO_USED_F_NO_NOTIFY));
	} else if (enabled) {
		struct vio_ring_state st;
		vio_devq_get_state(d->q, &st);
		FZ_CHECK(rd16(used + 4 + 8u * d->size) == st.avail_idx);
	}
}

/* The chain's descriptors: from the head, following NEXT in the table. */
static int split_chain_descs(struct fz_devq *d, const struct vio_chain *c, struct fz_desc *out,
			     unsigned max)
{
	uint16_t i = c->head;
	for (unsigned k = 0; k < max && k < c->ndesc; k++) {
		const unsigned char *p = fz_devq_host(d, d->cfg.desc_addr + 16u * i, 16);
		if (p == NULL || i >= d->size)
			return -1;
		uint16_t fl = rd16(p + 12);
		if (fl & VIO_DESC_F_INDIRECT)
			return -1;
		out[k].addr = fz_rd64(p);
		out[k].len = fz_rd32(p + 8);
		out[k].flags = fl;
		if (!(fl & VIO_DESC_F_NEXT))
			return (int)k + 1;
		i = rd16(p + 14);
	}
	return -1;
}

static const struct fz_devq_fmt split_fmt = {
	.format = VIO_RING_SPLIT,
	.size_from = fz_split_size,
	.ring_sizes = fz_split_ring_sizes,
	.writable = split_writable,
	.publish = split_publish,
	.desc = split_desc,
	.event = split_event,
	.intr_suppressed = split_intr_suppressed,
	.check_notify_area = split_check_notify_area,
	.chain_descs = split_chain_descs,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_devq_run(&split_fmt, data, size);
}
