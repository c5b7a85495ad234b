/* SPDX-License-Identifier: MIT */
/*
 * Driver half of the split ring against a hostile device. The input sets up
 * a queue (features, size, indirect pool) and plays a script of driver calls
 * interleaved with device writes into the used ring. Engine and invariants:
 * fuzz/engine_vq.c (fz_vq_run); input format: fuzz/README.md.
 */
#include "common.h"

/* The descriptors of a new chain are what was asked, in free slots. */
static void split_learn_add(struct fz_vq *v, unsigned t, const struct vio_sg *sg, unsigned out,
			    unsigned total, bool indirect)
{
	const unsigned char *avail = fz_vq_part(v, v->r_drv);
	const unsigned char *desc = fz_vq_part(v, v->r_desc);
	uint16_t mask = (uint16_t)(v->size - 1u);
	FZ_CHECK(fz_rd16(avail + 2) == (uint16_t)(v->adds + 1u));
	uint16_t head = fz_rd16(avail + 4 + 2u * (v->adds & mask));
	FZ_CHECK(head < v->size);
	v->tok[t].id = head;

	if (indirect) {
		const unsigned char *d = desc + 16u * head;
		FZ_CHECK(v->owner[head] == -1);
		v->owner[head] = (int16_t)t;
		FZ_CHECK(fz_rd16(d + 12) == VIO_DESC_F_INDIRECT);
		FZ_CHECK(fz_rd32(d + 8) == 16u * total);
		const unsigned char *tbl =
			fz_vq_part(v, v->r_pool) + (size_t)head * v->ind_max * 16u;
		FZ_CHECK(fz_rd64(d) == fz_vq_dev_addr(v, tbl));
		for (unsigned i = 0; i < total; i++) {
			const unsigned char *e = tbl + 16u * i;
			uint16_t fl = (uint16_t)((i >= out ? VIO_DESC_F_WRITE : 0) |
						 (i + 1 < total ? VIO_DESC_F_NEXT : 0));
			FZ_CHECK(fz_rd64(e) == fz_vq_dev_addr(v, sg[i].addr));
			FZ_CHECK(fz_rd32(e + 8) == sg[i].len);
			FZ_CHECK(fz_rd16(e + 12) == fl);
			FZ_CHECK(fz_rd16(e + 14) == (i + 1 < total ? i + 1 : 0));
		}
		return;
	}
	uint16_t slot = head;
	for (unsigned i = 0; i < total; i++) {
		FZ_CHECK(slot < v->size);
		/* Never a descriptor of another outstanding chain. */
		FZ_CHECK(v->owner[slot] == -1);
		v->owner[slot] = (int16_t)t;
		const unsigned char *d = desc + 16u * slot;
		uint16_t fl = (uint16_t)((i >= out ? VIO_DESC_F_WRITE : 0) |
					 (i + 1 < total ? VIO_DESC_F_NEXT : 0));
		FZ_CHECK(fz_rd64(d) == fz_vq_dev_addr(v, sg[i].addr));
		FZ_CHECK(fz_rd32(d + 8) == sg[i].len);
		FZ_CHECK(fz_rd16(d + 12) == fl);
		slot = fz_rd16(d + 14);
	}
}

static uint32_t split_publish_mark(struct fz_vq *v)
{
	return fz_rd16(fz_vq_part(v, v->r_drv) + 2);
}

static bool split_write_used(struct fz_vq *v, uint16_t id, uint32_t len, uint8_t mode,
			     unsigned nbuf, unsigned ndesc)
{
	(void)ndesc;
	unsigned char e[8];
	fz_wr32(e, id);
	fz_wr32(e + 4, len);
	fz_vq_poke(v, v->r_dev, 4u + 8u * (v->dev_idx & (v->size - 1u)), e, 8);
	/* One element completes the whole in-order batch (§2.7.9). */
	v->dev_idx = (uint16_t)(v->dev_idx + nbuf);
	if (mode & FZ_CM_HOLD)
		return false;
	unsigned char b[2];
	fz_wr16(b, v->dev_idx);
	fz_vq_poke(v, v->r_dev, 2, b, 2);
	return true;
}

static uint32_t split_expect_len(uint32_t len, uint8_t mode, uint32_t in_bytes)
{
	(void)in_bytes;
	(void)mode;
	return len;
}

/* Publish the used index: the written elements, or any value. */
static void split_publish(struct fz_vq *v, struct fz_in *in)
{
	uint8_t mode = fz_u8(in);
	uint16_t raw = fz_u16(in);
	unsigned char b[2];
	if (mode & 1) {
		fz_wr16(b, raw);
		v->honest = false;
	} else {
		fz_wr16(b, v->dev_idx);
		v->fq_pend = 0;
	}
	fz_vq_poke(v, v->r_dev, 2, b, 2);
}

/* used->flags or avail_event. */
static void split_event(struct fz_vq *v, struct fz_in *in)
{
	uint8_t which = fz_u8(in);
	uint16_t val = fz_u16(in);
	unsigned char b[2];
	fz_wr16(b, val);
	fz_vq_poke(v, v->r_dev, (which & 1) ? 0 : 4u + 8u * v->size, b, 2);
}

static int split_kick_expect(struct fz_vq *v)
{
	if (v->feat & FZ_FEAT_EVENT_IDX)
		return -1;
	uint16_t flags = fz_rd16(fz_vq_part(v, v->r_dev));
	if (flags & VIO_USED_F_NO_NOTIFY)
		return 0; /* §2.7.10: the driver SHOULD NOT notify */
	return v->added_since;
}

static void split_check_intr_area(struct fz_vq *v)
{
	const unsigned char *avail = fz_vq_part(v, v->r_drv);
	if (v->feat & FZ_FEAT_EVENT_IDX)
		FZ_CHECK(fz_rd16(avail + 4 + 2u * v->size) == v->gets);
	else
		FZ_CHECK(fz_rd16(avail) == 0);
}

static void split_check_notify_data(struct fz_vq *v, uint32_t data)
{
	FZ_CHECK(vio_notify_data_vq(data) == v->cfg.index);
	FZ_CHECK(vio_notify_data_split_idx(data) == v->adds);
}

static bool split_raw_is_hostile(unsigned tgt)
{
	/* The driver must not read back the descriptor table, the available
	 * ring or the indirect tables: writes there change nothing it does. */
	return tgt == 0;
}

static const struct fz_vq_fmt split_fmt = {
	.format = VIO_RING_SPLIT,
	.size_from = fz_split_size,
	.ring_sizes = fz_split_ring_sizes,
	.learn_add = split_learn_add,
	.publish_mark = split_publish_mark,
	.write_used = split_write_used,
	.expect_len = split_expect_len,
	.publish = split_publish,
	.event = split_event,
	.kick_expect = split_kick_expect,
	.check_intr_area = split_check_intr_area,
	.check_notify_data = split_check_notify_data,
	.raw_is_hostile = split_raw_is_hostile,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fz_vq_run(&split_fmt, data, size);
}
