/* SPDX-License-Identifier: MIT */
/*
 * Driver half of the packed ring against a hostile device. The input sets up
 * a queue (features, size, indirect pool) and plays a script of driver calls
 * interleaved with device writes of used descriptors. Engine and
 * invariants: fuzz/engine_vq.c (fz_vq_run); input format: fuzz/README.md.
 */
#include "common.h"

#include <stdio.h>

static uint16_t avail_bits(bool wrap)
{
	return (uint16_t)(wrap ? VIO_DESC_F_AVAIL : VIO_DESC_F_USED);
}

/* The new list sits at the driver's next slots, with what was asked; no
 * other slot of the ring changed. */
static void packed_learn_add(struct fz_vq *v, unsigned t, const struct vio_sg *sg, unsigned out,
			     unsigned total, bool indirect)
{
	const unsigned char *desc = fz_vq_part(v, v->r_desc);
	uint16_t head = v->drv_slot;
	bool wrap = v->drv_wrap;
	uint16_t id = fz_rd16(desc + 16u * head + 12);
	FZ_CHECK(id < v->size);
	v->tok[t].id = id;
	unsigned ndesc = indirect ? 1 : total;

	if (indirect) {
		const unsigned char *d = desc + 16u * head;
		FZ_CHECK(fz_rd16(d + 14) == (VIO_DESC_F_INDIRECT | avail_bits(wrap)));
		FZ_CHECK(fz_rd32(d + 8) == 16u * total);
		const unsigned char *tbl = fz_vq_part(v, v->r_pool) + (size_t)id * v->ind_max * 16u;
		FZ_CHECK(fz_rd64(d) == fz_vq_dev_addr(v, tbl));
		for (unsigned i = 0; i < total; i++) {
			const unsigned char *e = tbl + 16u * i;
			FZ_CHECK(fz_rd64(e) == fz_vq_dev_addr(v, sg[i].addr));
			FZ_CHECK(fz_rd32(e + 8) == sg[i].len);
			FZ_CHECK(fz_rd16(e + 14) == (i >= out ? VIO_DESC_F_WRITE : 0));
		}
	} else {
		uint16_t slot = head;
		bool w = wrap;
		for (unsigned i = 0; i < total; i++) {
			const unsigned char *d = desc + 16u * slot;
			uint16_t fl =
				(uint16_t)((i >= out ? VIO_DESC_F_WRITE : 0) |
					   (i + 1 < total ? VIO_DESC_F_NEXT : 0) | avail_bits(w));
			FZ_CHECK(fz_rd64(d) == fz_vq_dev_addr(v, sg[i].addr));
			FZ_CHECK(fz_rd32(d + 8) == sg[i].len);
			FZ_CHECK(fz_rd16(d + 12) == id);
			FZ_CHECK(fz_rd16(d + 14) == fl);
			fz_packed_advance(&slot, &w, 1, v->size);
		}
	}
	struct fz_range ex[2];
	uint64_t base = v->m->r[v->r_desc].addr;
	unsigned first = ndesc < (unsigned)(v->size - head) ? ndesc : (unsigned)(v->size - head);
	ex[0].addr = base + 16u * head;
	ex[0].len = 16u * first;
	ex[1].addr = base;
	ex[1].len = 16u * (ndesc - first);
	fz_mem_check_unchanged(v->m, ex, 2, v->r_desc);
	fz_packed_advance(&v->drv_slot, &v->drv_wrap, ndesc, v->size);
}

static uint32_t packed_publish_mark(struct fz_vq *v)
{
	return fz_rd16(fz_vq_part(v, v->r_desc) + 16u * v->drv_slot + 14);
}

static bool packed_write_used(struct fz_vq *v, uint16_t id, uint32_t len, uint8_t mode,
			      unsigned nbuf, unsigned ndesc)
{
	(void)nbuf;
	bool w = v->dev_wrap;
	if (mode & FZ_CM_BAD_WRAP)
		w = !w;
	uint16_t flags = (uint16_t)(w ? (VIO_DESC_F_AVAIL | VIO_DESC_F_USED) : 0);
	if (len != 0 && !(mode & FZ_CM_NO_WRITE))
		flags |= VIO_DESC_F_WRITE;
	unsigned char b[8];
	fz_wr32(b, len);
	fz_wr16(b + 4, id);
	fz_wr16(b + 6, flags);
	fz_vq_poke(v, v->r_desc, 16u * v->dev_slot + 8, b, 8);
	if (fz_trace())
		fprintf(stderr, "  used desc at slot %u wrap %d (driver next avail %u/%d)\n",
			v->dev_slot, v->dev_wrap, v->drv_slot, v->drv_wrap);
	/* The next used descriptor goes past the whole list (or batch). */
	fz_packed_advance(&v->dev_slot, &v->dev_wrap, ndesc, v->size);
	return true;
}

static uint32_t packed_expect_len(uint32_t len, uint8_t mode, uint32_t in_bytes)
{
	/* §2.8.4: len counts with WRITE; without it, it still counts for a
	 * buffer with writable parts (QEMU never sets WRITE in used ones). */
	return (mode & FZ_CM_NO_WRITE) && in_bytes == 0 ? 0 : len;
}

/* Move the device's used position anywhere. */
static void packed_publish(struct fz_vq *v, struct fz_in *in)
{
	uint8_t mode = fz_u8(in);
	uint16_t raw = fz_u16(in);
	if (mode & 1) {
		v->dev_slot = (uint16_t)((raw & 0x7fffu) % v->size);
		v->dev_wrap = (raw & 0x8000u) != 0;
		v->honest = false;
	}
}

/* The device event suppression structure: off_wrap or flags. */
static void packed_event(struct fz_vq *v, struct fz_in *in)
{
	uint8_t which = fz_u8(in);
	uint16_t val = fz_u16(in);
	unsigned char b[2];
	fz_wr16(b, val);
	fz_vq_poke(v, v->r_dev, (which & 1) ? 0 : 2, b, 2);
}

static int packed_kick_expect(struct fz_vq *v)
{
	uint16_t flags = fz_rd16(fz_vq_part(v, v->r_dev) + 2) & 3u;
	if (flags == VIO_RING_EVENT_FLAGS_DISABLE)
		return 0; /* the device asked for no notifications */
	if (flags == VIO_RING_EVENT_FLAGS_DESC && (v->feat & FZ_FEAT_EVENT_IDX))
		return -1;
	return v->added_since;
}

static void packed_check_intr_area(struct fz_vq *v)
{
	const unsigned char *ev = fz_vq_part(v, v->r_drv);
	if (v->feat & FZ_FEAT_EVENT_IDX) {
		FZ_CHECK(fz_rd16(ev + 2) == VIO_RING_EVENT_FLAGS_DESC);
		FZ_CHECK(fz_rd16(ev) ==
			 (uint16_t)(v->drv_last | (v->drv_last_wrap ? 0x8000u : 0u)));
	} else {
		FZ_CHECK(fz_rd16(ev + 2) == VIO_RING_EVENT_FLAGS_ENABLE);
	}
}

static void packed_check_notify_data(struct fz_vq *v, uint32_t data)
{
	FZ_CHECK(vio_notify_data_vq(data) == v->cfg.index);
	FZ_CHECK(vio_notify_data_off(data) == v->drv_slot);
	FZ_CHECK(vio_notify_data_wrap(data) == v->drv_wrap);
}

static bool packed_raw_is_hostile(unsigned tgt)
{
	/* The ring carries used descriptors; the driver event structure and
	 * the indirect tables are never read back by the driver. */
	return tgt == 0 || tgt == 1;
}

static const struct fz_vq_fmt packed_fmt = {
	.format = VIO_RING_PACKED,
	.size_from = fz_packed_size,
	.ring_sizes = fz_packed_ring_sizes,
	.learn_add = packed_learn_add,
	.publish_mark = packed_publish_mark,
	.write_used = packed_write_used,
	.expect_len = packed_expect_len,
	.publish = packed_publish,
	.event = packed_event,
	.kick_expect = packed_kick_expect,
	.check_intr_area = packed_check_intr_area,
	.check_notify_data = packed_check_notify_data,
	.raw_is_hostile = packed_raw_is_hostile,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_vq_run(&packed_fmt, data, size);
}
