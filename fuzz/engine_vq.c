/* SPDX-License-Identifier: MIT */
/*
 * Driver-half harness engine: one input drives a driver queue through adds,
 * gets, notifications, resets and hostile-device writes, checking every
 * answer against the harness's own model of the queue.
 */
#include "engine_vq.h"

#include "invariants.h"
#include "ring_geom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint16_t fz_rd16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t fz_rd32(const unsigned char *p)
{
	return (uint32_t)fz_rd16(p) | (uint32_t)fz_rd16(p + 2) << 16;
}

uint64_t fz_rd64(const unsigned char *p)
{
	return (uint64_t)fz_rd32(p) | (uint64_t)fz_rd32(p + 4) << 32;
}

void fz_wr16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

void fz_wr32(unsigned char *p, uint32_t v)
{
	fz_wr16(p, (uint16_t)v);
	fz_wr16(p + 2, (uint16_t)(v >> 16));
}

unsigned char *fz_vq_part(struct fz_vq *v, unsigned ri)
{
	return v->m->r[ri].host;
}

void fz_vq_poke(struct fz_vq *v, unsigned ri, size_t off, const void *src, size_t len)
{
	const struct fz_region *r = &v->m->r[ri];
	FZ_CHECK(off <= r->len && len <= r->len - off);
	fz_mem_poke(v->m, r->addr + off, src, len);
}

uint64_t fz_vq_dev_addr(struct fz_vq *v, const void *p)
{
	if (v->identity)
		return (uint64_t)(uintptr_t)p;
	const struct fz_region *r = fz_mem_find_host(v->m, p);
	FZ_CHECK(r != NULL);
	return r->addr + (uint64_t)((const unsigned char *)p - r->host);
}

static void *tok_ptr(unsigned t)
{
	return (void *)(uintptr_t)(t + 1u);
}

static bool tok_outstanding(const struct fz_tok *k)
{
	return k->state == FZ_TOK_OUT || k->state == FZ_TOK_DONE;
}

/* A token the driver handed back: it must be one of ours, outstanding. */
static unsigned vq_take_token(struct fz_vq *v, void *token, uint8_t new_state)
{
	uintptr_t u = (uintptr_t)token;
	FZ_CHECK(u >= 1 && u <= v->ntok);
	unsigned t = (unsigned)(u - 1u);
	struct fz_tok *k = &v->tok[t];
	/* Each token comes back at most once, and only while outstanding. */
	FZ_CHECK(tok_outstanding(k));
	k->state = new_state;
	/* dma.h: every conversion of the buffer is released when it comes
	 * back (get, detach_unused: the callers check the count), each exactly
	 * once with its own arguments (the release hook checks). Conversions
	 * with equal arguments cannot be told apart, so not by token. */
	v->free_model = (uint16_t)(v->free_model + k->ndesc);
	FZ_CHECK(v->free_model <= v->size);
	if (v->f->format == VIO_RING_SPLIT) {
		for (unsigned i = 0; i < v->size; i++)
			if (v->owner[i] == (int16_t)t)
				v->owner[i] = -1;
	}
	return t;
}

static void vq_latch(struct fz_vq *v, int rc)
{
	if (rc < 0 && vio_err_is_peer(rc)) {
		FZ_CHECK(v->reason == 0);
		/* An honest device never provokes a peer error. */
		FZ_CHECK(!v->honest);
		v->reason = rc;
	}
}

static unsigned fq_visible(const struct fz_vq *v)
{
	return v->fq_tail - v->fq_head - v->fq_pend;
}

static void vq_device_reset(struct fz_vq *v)
{
	v->adds = v->gets = 0;
	v->drv_slot = v->drv_last = 0;
	v->drv_wrap = v->drv_last_wrap = true;
	v->dev_idx = 0;
	v->dev_slot = 0;
	v->dev_wrap = true;
	v->fq_head = v->fq_tail = v->fq_pend = 0;
	v->honest = true;
	v->quiesced = false;
	v->added_since = false;
	v->reason = 0;
	v->free_model = v->size;
	for (unsigned i = 0; i < 256; i++)
		v->owner[i] = -1;
}

static void vq_get(struct fz_vq *v)
{
	void *token = NULL;
	uint32_t len = 0;
	unsigned conv_live = v->m->conv_live;
	int rc = vio_vq_get(v->vq, &token, &len);
	if (fz_trace())
		fprintf(stderr, "  get rc %d token %lu len %u\n", rc,
			(unsigned long)(uintptr_t)token, len);
	FZ_CHECK(fz_get_rc_ok(rc));
	if (v->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		return;
	}
	FZ_CHECK(rc != -VIO_EBROKEN);
	if (rc == 0) {
		unsigned t = vq_take_token(v, token, FZ_TOK_RET);
		const struct fz_tok *k = &v->tok[t];
		/* Only its conversions were released. */
		FZ_CHECK(v->m->conv_live == conv_live - k->nconv);
		/* Never more than the buffer offered as writable. */
		FZ_CHECK(len <= k->in_bytes);
		if (v->honest) {
			FZ_CHECK(fq_visible(v) > 0);
			unsigned at = v->fq_head++ % FZ_VQ_FIFO;
			FZ_CHECK(v->fq_tok[at] == t);
			FZ_CHECK(v->fq_len[at] == len);
		}
		v->gets++;
		fz_packed_advance(&v->drv_last, &v->drv_last_wrap, k->ndesc, v->size);
	} else {
		if (v->honest && rc == -VIO_EAGAIN)
			FZ_CHECK(fq_visible(v) == 0);
		FZ_CHECK(v->m->conv_live == conv_live);
		vq_latch(v, rc);
	}
}

/* vio_vq_get_batch() of up to @max: each buffer it returns is checked as
 * vq_get() checks one; a violation after some buffers latches the reason
 * the queue records. Returns the buffers returned. */
static unsigned vq_get_batch(struct fz_vq *v, unsigned max)
{
	void *token[FZ_VQ_BATCH];
	uint32_t len[FZ_VQ_BATCH];
	unsigned conv_live = v->m->conv_live;
	int rc = vio_vq_get_batch(v->vq, token, len, max);
	if (fz_trace())
		fprintf(stderr, "  get_batch max %u rc %d\n", max, rc);
	if (rc <= 0) {
		FZ_CHECK(rc < 0 && fz_get_rc_ok(rc));
		if (v->reason != 0) {
			FZ_CHECK(rc == -VIO_EBROKEN);
			return 0;
		}
		FZ_CHECK(rc != -VIO_EBROKEN);
		if (v->honest && rc == -VIO_EAGAIN)
			FZ_CHECK(fq_visible(v) == 0);
		FZ_CHECK(v->m->conv_live == conv_live);
		vq_latch(v, rc);
		return 0;
	}
	FZ_CHECK(v->reason == 0);
	FZ_CHECK((unsigned)rc <= max);
	unsigned released = 0;
	for (int i = 0; i < rc; i++) {
		unsigned t = vq_take_token(v, token[i], FZ_TOK_RET);
		const struct fz_tok *k = &v->tok[t];
		released += k->nconv;
		FZ_CHECK(len[i] <= k->in_bytes);
		if (v->honest) {
			FZ_CHECK(fq_visible(v) > 0);
			unsigned at = v->fq_head++ % FZ_VQ_FIFO;
			FZ_CHECK(v->fq_tok[at] == t);
			FZ_CHECK(v->fq_len[at] == len[i]);
		}
		v->gets++;
		fz_packed_advance(&v->drv_last, &v->drv_last_wrap, k->ndesc, v->size);
	}
	/* Only the returned buffers' conversions were released. */
	FZ_CHECK(v->m->conv_live == conv_live - released);
	/* Fewer than asked for: nothing more completed, or a violation that
	 * broke the queue (vq.h), the same one a single get would report. */
	int br = vio_vq_broken_reason(v->vq);
	if (br != 0) {
		FZ_CHECK((unsigned)rc < max);
		vq_latch(v, br);
	}
	return (unsigned)rc;
}

/* Detach until the queue says there is nothing left; then everything the
 * driver had outstanding came back exactly once. */
static void vq_detach_all(struct fz_vq *v)
{
	unsigned n = 0;
	for (;;) {
		void *token = NULL;
		unsigned conv_live = v->m->conv_live;
		int rc = vio_vq_detach_unused(v->vq, &token);
		if (rc == -VIO_EAGAIN) {
			FZ_CHECK(v->m->conv_live == conv_live);
			break;
		}
		FZ_CHECK(rc == 0);
		unsigned t = vq_take_token(v, token, FZ_TOK_DET);
		FZ_CHECK(v->m->conv_live == conv_live - v->tok[t].nconv);
		FZ_CHECK(++n <= v->size);
	}
	for (unsigned t = 0; t < v->ntok; t++)
		FZ_CHECK(!tok_outstanding(&v->tok[t]));
	FZ_CHECK(vio_vq_num_free(v->vq) == v->size);
	FZ_CHECK(v->free_model == v->size);
	v->quiesced = true;
}

static void vq_reset(struct fz_vq *v, bool detach)
{
	if (detach) {
		vq_detach_all(v);
	} else {
		unsigned nconv = 0;
		for (unsigned t = 0; t < v->ntok; t++) {
			if (tok_outstanding(&v->tok[t])) {
				v->tok[t].state = FZ_TOK_FORGOT;
				nconv += v->tok[t].nconv;
			}
		}
		/* vq.h: forgotten, their conversions never released: all
		 * live ones but the ring parts'. */
		unsigned rings = fz_mem_conv_live(v->m, FZ_TAG_RINGS);
		FZ_CHECK(v->m->conv_live == rings + nconv);
		for (unsigned t = 0; t < v->ntok; t++)
			fz_mem_conv_forget(v->m, t);
		FZ_CHECK(v->m->conv_live == rings);
	}
	vio_vq_reset(v->vq);
	/* Rings zeroed by the reset. */
	unsigned parts[3] = {v->r_desc, v->r_drv, v->r_dev};
	for (unsigned i = 0; i < 3; i++) {
		const struct fz_region *r = &v->m->r[parts[i]];
		for (size_t j = 0; j < r->len; j++)
			FZ_CHECK(r->host[j] == 0);
		fz_mem_resync(v->m, parts[i]);
	}
	vq_device_reset(v);
	FZ_CHECK(vio_vq_num_free(v->vq) == v->size);
	FZ_CHECK(!vio_vq_is_broken(v->vq));
}

static uint32_t seg_len(struct fz_in *in, uint8_t lmode)
{
	switch (lmode & 3u) {
	case 0:
		return fz_u8(in);
	case 1:
		return fz_u16(in);
	case 2:
		return 0;
	default:
		return fz_u32(in);
	}
}

/* @batch: through vio_vq_add_batch() (one buffer), which must give what
 * vio_vq_add() gives. */
static void vq_add(struct fz_vq *v, struct fz_in *in, bool batch)
{
	static struct vio_sg sg[FZ_VQ_MAX_SEGS];
	uint8_t bo = fz_u8(in), bi = fz_u8(in), lmode = fz_u8(in);
	unsigned out = bo % 5u, inn = bi % 5u;
	if (lmode & 0x80) {
		out = bo % (v->size + 3u);
		inn = bi % (v->size + 3u);
	}
	unsigned total = out + inn;
	unsigned char *data = fz_vq_part(v, v->r_data);
	uint64_t sum = 0, in_sum = 0;
	for (unsigned i = 0; i < total; i++) {
		sg[i].len = seg_len(in, lmode);
		sg[i].addr = data + (v->ntok * 53u + i * 29u) % FZ_VQ_DATA_LEN;
		sum += sg[i].len;
		if (i >= out)
			in_sum += sg[i].len;
	}
	if (v->quiesced || v->ntok >= FZ_MAX_ACTIONS)
		return;

	unsigned t = v->ntok;
	unsigned num_free = vio_vq_num_free(v->vq);
	FZ_CHECK(num_free == v->free_model);
	bool use_ind = v->ind_max != 0 && (v->feat & FZ_FEAT_INDIRECT);
	unsigned ind_min = v->ind_min != 0 ? v->ind_min : 2;
	bool ind = use_ind && total <= v->ind_max && (total >= ind_min || total > num_free);
	unsigned ndesc = ind ? 1 : total;
	bool overflow = sum > UINT32_MAX;
	uint32_t mark = v->f->publish_mark(v);
	unsigned long failed = v->m->to_device_failed;

	unsigned conv_live = v->m->conv_live;
	v->m->conv_tag = t;
	int rc;
	if (batch) {
		void *tp = tok_ptr(t);
		rc = vio_vq_add_batch(v->vq, sg, out, inn, &tp, 1);
		FZ_CHECK(rc != 0);
		if (rc == 1)
			rc = 0;
	} else {
		rc = vio_vq_add(v->vq, sg, out, inn, tok_ptr(t));
	}
	v->m->conv_tag = FZ_TAG_RINGS - 1u;
	bool injected = v->m->to_device_failed != failed;
	if (fz_trace())
		fprintf(stderr, "  add %u+%u segs -> token %u rc %d (indirect %d)\n", out, inn,
			t + 1, rc, ind);

	if (v->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
	} else if (total == 0) {
		FZ_CHECK(rc == -VIO_EINVAL);
	} else if (ndesc > num_free) {
		FZ_CHECK(rc == -VIO_ENOSPC);
	} else if (injected && overflow) {
		FZ_CHECK(rc == FZ_INJECTED_ERR || rc == -VIO_EINVAL);
	} else if (injected) {
		FZ_CHECK(rc == FZ_INJECTED_ERR);
	} else {
		FZ_CHECK(rc == (overflow ? -VIO_EINVAL : 0));
	}
	if (rc != 0) {
		/* Nothing published, nothing consumed; every conversion the
		 * add made released before it returned (dma.h). */
		FZ_CHECK(vio_vq_num_free(v->vq) == num_free);
		FZ_CHECK(v->f->publish_mark(v) == mark);
		FZ_CHECK(v->m->conv_live == conv_live);
		FZ_CHECK(fz_mem_conv_live(v->m, t) == 0);
		return;
	}
	v->ntok++;
	struct fz_tok *k = &v->tok[t];
	/* Its conversions stay live until it comes back. */
	k->nconv = (uint16_t)(v->m->conv_live - conv_live);
	FZ_CHECK(fz_mem_conv_live(v->m, t) == k->nconv);
	if (v->release && !v->identity)
		FZ_CHECK(k->nconv == (ind ? 1u + total : total));
	k->state = FZ_TOK_OUT;
	k->ndesc = (uint16_t)ndesc;
	k->in_bytes = (uint32_t)in_sum;
	v->f->learn_add(v, t, sg, out, total, ind);
	/* The id is not held by another outstanding buffer. */
	for (unsigned o = 0; o < t; o++)
		if (tok_outstanding(&v->tok[o]))
			FZ_CHECK(v->tok[o].id != k->id);
	v->free_model = (uint16_t)(v->free_model - ndesc);
	v->added_since = true;
	v->adds++;
}

/* The oldest outstanding buffer not completed yet, or -1. */
static int oldest_out(const struct fz_vq *v)
{
	for (unsigned t = 0; t < v->ntok; t++)
		if (v->tok[t].state == FZ_TOK_OUT)
			return (int)t;
	return -1;
}

static void vq_complete(struct fz_vq *v, struct fz_in *in)
{
	uint8_t which = fz_u8(in), mode = fz_u8(in);
	uint16_t raw_id = (mode & FZ_CM_RAW_ID) ? fz_u16(in) : 0;
	unsigned cnt = (mode & FZ_CM_BATCH) ? 1u + fz_u8(in) % 8u : 1u;
	uint32_t raw_len = (mode & FZ_CM_LEN_MASK) == FZ_CM_LEN_MASK ? fz_u32(in) : 0;
	bool in_order = (v->feat & FZ_FEAT_IN_ORDER) != 0;
	if (v->quiesced)
		return;
	if (!in_order)
		cnt = 1; /* one used entry per buffer */

	unsigned batch[8], nb = 0;
	bool fair = true;
	if (in_order && !(mode & FZ_CM_ANY)) {
		/* In order: the oldest buffers not completed yet. */
		for (unsigned t = 0; t < v->ntok && nb < cnt; t++)
			if (v->tok[t].state == FZ_TOK_OUT)
				batch[nb++] = t;
	} else {
		unsigned n = 0;
		for (unsigned t = 0; t < v->ntok; t++)
			if (v->tok[t].state == FZ_TOK_OUT ||
			    ((mode & FZ_CM_ANY) && v->tok[t].state == FZ_TOK_DONE))
				n++;
		if (n != 0) {
			unsigned want = which % n;
			for (unsigned t = 0; t < v->ntok; t++)
				if (v->tok[t].state == FZ_TOK_OUT ||
				    ((mode & FZ_CM_ANY) && v->tok[t].state == FZ_TOK_DONE)) {
					if (want-- == 0) {
						batch[nb++] = t;
						break;
					}
				}
		}
		/* With n != 0 the scan picked exactly one (want < n); testing nb
		 * rather than n lets the compiler see that batch[0] is set. */
		if (nb != 0) {
			if (v->tok[batch[0]].state != FZ_TOK_OUT)
				fair = false;
			if (in_order && (int)batch[0] != oldest_out(v))
				fair = false;
		}
	}
	if (nb == 0 && !(mode & FZ_CM_RAW_ID))
		return;
	const struct fz_tok *last = nb != 0 ? &v->tok[batch[nb - 1]] : NULL;
	uint16_t id = (mode & FZ_CM_RAW_ID) ? raw_id : last->id;
	uint32_t in_bytes = last != NULL ? last->in_bytes : 0;
	uint32_t len;
	switch (mode & FZ_CM_LEN_MASK) {
	case 0:
		len = in_bytes;
		break;
	case 2:
		len = 0;
		break;
	case 4:
		len = in_bytes / 2;
		break;
	default:
		len = raw_len;
		break;
	}
	unsigned ndesc = 0;
	for (unsigned i = 0; i < nb; i++)
		ndesc += v->tok[batch[i]].ndesc;
	if (nb == 0)
		ndesc = 1;
	if ((mode & (FZ_CM_RAW_ID | FZ_CM_BAD_WRAP)) || nb == 0 || len > in_bytes)
		fair = false;

	bool visible = v->f->write_used(v, id, len, mode, nb != 0 ? nb : 1, ndesc);
	if (fz_trace())
		fprintf(stderr, "  complete id %u len %u mode 0x%x nbuf %u ndesc %u fair %d\n", id,
			len, mode, nb, ndesc, fair);
	if (!fair) {
		v->honest = false;
		return;
	}
	for (unsigned i = 0; i < nb; i++) {
		struct fz_tok *k = &v->tok[batch[i]];
		unsigned at = v->fq_tail++ % FZ_VQ_FIFO;
		FZ_CHECK(v->fq_tail - v->fq_head <= FZ_VQ_FIFO);
		k->state = FZ_TOK_DONE;
		v->fq_tok[at] = batch[i];
		/* §2.7.9 / §2.8.9: earlier buffers of a batch count as fully used. */
		v->fq_len[at] = i + 1 < nb ? k->in_bytes : v->f->expect_len(len, mode, k->in_bytes);
	}
	if (visible)
		v->fq_pend = 0;
	else
		v->fq_pend += nb;
}

static void vq_raw(struct fz_vq *v, struct fz_in *in)
{
	unsigned tgt = fz_u8(in) % 4u;
	uint16_t off = fz_u16(in);
	unsigned k = 1u + fz_u8(in) % 16u;
	unsigned char buf[16];
	fz_bytes(in, buf, k);
	unsigned parts[4] = {v->r_dev, v->r_desc, v->r_drv, v->r_pool};
	if (v->quiesced || parts[tgt] == ~0u)
		return;
	const struct fz_region *r = &v->m->r[parts[tgt]];
	size_t o = off % r->len;
	if (k > r->len - o)
		k = (unsigned)(r->len - o);
	fz_vq_poke(v, parts[tgt], o, buf, k);
	if (v->f->raw_is_hostile(tgt))
		v->honest = false;
}

int fz_vq_run(const struct fz_vq_fmt *f, const uint8_t *data, size_t size)
{
	static struct fz_mem mem;
	static struct fz_vq vq;
	struct fz_vq *v = &vq;
	struct fz_in in;

	fz_in_init(&in, data, size);
	fz_mem_init(&mem);
	v->f = f;
	v->m = &mem;
	v->feat = fz_u8(&in);
	v->size = f->size_from(fz_u16(&in));
	uint8_t imax = fz_u8(&in), imin = fz_u8(&in), fail = fz_u8(&in);
	uint16_t index = fz_u16(&in);
	v->identity = (v->feat & FZ_VQ_IDENTITY) != 0;
	v->release = (v->feat & FZ_VQ_RELEASE) != 0;
	v->ntok = 0;
	vq_device_reset(v);

	size_t rlen[3];
	f->ring_sizes(v->size, rlen);
	v->r_desc = fz_mem_add_slot(&mem, 0, rlen[0], VIO_MAP_RW, true);
	v->r_drv = fz_mem_add_slot(&mem, 0, rlen[1], VIO_MAP_RW, true);
	v->r_dev = fz_mem_add_slot(&mem, 0, rlen[2], VIO_MAP_RW, true);
	v->r_data = fz_mem_add_slot(&mem, 0, FZ_VQ_DATA_LEN, VIO_MAP_RW, true);
	mem.r[v->r_data].any_len = true; /* the driver never touches buffers */
	for (size_t i = 0; i < FZ_VQ_DATA_LEN; i++)
		mem.r[v->r_data].host[i] = mem.r[v->r_data].shadow[i] = (unsigned char)(i * 7u);
	v->ind_max = 0;
	v->ind_min = imin % 5u;
	v->r_pool = ~0u;
	if (v->feat & FZ_VQ_POOL) {
		unsigned cap = v->size < 16 ? v->size : 16;
		v->ind_max = (uint16_t)(1u + imax % cap);
		size_t stride = (size_t)v->ind_max * 16u;
		v->r_pool = fz_mem_add_slot(&mem, 0, stride * v->size, VIO_MAP_RW, false);
		mem.r[v->r_pool].table_stride = stride;
	}

	memset(&v->cfg, 0, sizeof(v->cfg));
	v->cfg.format = f->format;
	v->cfg.size = v->size;
	v->cfg.index = index;
	if (v->feat & FZ_FEAT_INDIRECT)
		vio_features_set(&v->cfg.features, VIO_F_INDIRECT_DESC);
	if (v->feat & FZ_FEAT_EVENT_IDX)
		vio_features_set(&v->cfg.features, VIO_F_EVENT_IDX);
	if (v->feat & FZ_FEAT_IN_ORDER)
		vio_features_set(&v->cfg.features, VIO_F_IN_ORDER);
	if (v->feat & FZ_VQ_NOTIF_DATA)
		vio_features_set(&v->cfg.features, VIO_F_NOTIFICATION_DATA);
	if (f->format == VIO_RING_PACKED)
		vio_features_set(&v->cfg.features, VIO_F_RING_PACKED);
	v->cfg.desc = mem.r[v->r_desc].host;
	v->cfg.driver_area = mem.r[v->r_drv].host;
	v->cfg.device_area = mem.r[v->r_dev].host;
	v->cfg.indirect_pool = v->r_pool != ~0u ? mem.r[v->r_pool].host : NULL;
	v->cfg.indirect_max = v->ind_max;
	v->cfg.indirect_min = v->ind_min;
	v->cfg.dma_ops = v->identity ? NULL : v->release ? &fz_drv_ops_rel : &fz_drv_ops;
	v->cfg.dma_ctx = &mem;
	v->vqmem_size = vio_vq_mem_size(&v->cfg);
	FZ_CHECK(v->vqmem_size != 0);
	v->vqmem = malloc(v->vqmem_size);
	FZ_CHECK(v->vqmem != NULL);
	FZ_CHECK(vio_vq_init(&v->vq, v->vqmem, v->vqmem_size, &v->cfg) == 0);
	FZ_CHECK(vio_vq_size(v->vq) == v->size);
	FZ_CHECK(vio_vq_num_free(v->vq) == v->size);

	uint64_t a[3];
	mem.conv_tag = FZ_TAG_RINGS;
	FZ_CHECK(vio_vq_ring_addrs(v->vq, &a[0], &a[1], &a[2]) == 0);
	mem.conv_tag = FZ_TAG_RINGS - 1u;
	if (v->release && !v->identity)
		FZ_CHECK(mem.conv_live == 3);
	FZ_CHECK(a[0] == fz_vq_dev_addr(v, v->cfg.desc));
	FZ_CHECK(a[1] == fz_vq_dev_addr(v, v->cfg.driver_area));
	FZ_CHECK(a[2] == fz_vq_dev_addr(v, v->cfg.device_area));
	mem.fail_every = fail != 0 ? fail + 1u : 0;

	for (unsigned n = 0; n < FZ_MAX_ACTIONS && !fz_in_done(&in); n++) {
		uint8_t op = fz_u8(&in) % FZ_VQ_NOPS;
		if (fz_trace())
			fprintf(stderr, "vq op %u: %u  (ntok %u free %u honest %d reason %d)\n", n,
				op, v->ntok, v->free_model, v->honest, v->reason);
		switch (op) {
		case FZ_VQ_ADD:
		case FZ_VQ_ADD2:
			vq_add(v, &in, op == FZ_VQ_ADD2);
			break;
		case FZ_VQ_GET:
			if (!v->quiesced)
				vq_get(v);
			break;
		case FZ_VQ_GET_ALL:
			/* In batches (vio_vq_get_batch()) of a size the state
			 * picks, 1 to FZ_VQ_BATCH, so the existing inputs keep
			 * their meaning. */
			for (unsigned k = 0; k <= v->size + 1u && !v->quiesced; k++) {
				unsigned max = 1u + (v->gets * 7u + v->adds) % FZ_VQ_BATCH;
				if (vq_get_batch(v, max) == 0 || v->reason != 0)
					break;
			}
			break;
		case FZ_VQ_DEV_COMPLETE:
			vq_complete(v, &in);
			break;
		case FZ_VQ_DEV_PUBLISH:
			if (v->quiesced) {
				fz_u8(&in);
				fz_u16(&in);
			} else {
				f->publish(v, &in);
			}
			break;
		case FZ_VQ_DEV_RAW:
			vq_raw(v, &in);
			break;
		case FZ_VQ_KICK: {
			int expect = f->kick_expect(v);
			bool r = vio_vq_kick_prepare(v->vq);
			if (v->reason != 0) {
				FZ_CHECK(!r);
			} else {
				if (expect >= 0)
					FZ_CHECK(r == (expect != 0));
				v->added_since = false;
			}
			f->check_notify_data(v, vio_vq_notify_data(v->vq));
			break;
		}
		case FZ_VQ_DISABLE_INTR:
			vio_vq_disable_intr(v->vq);
			break;
		case FZ_VQ_ENABLE_INTR: {
			bool r = vio_vq_enable_intr(v->vq);
			f->check_intr_area(v);
			if (v->reason == 0) {
				/* "true if nothing is pending" */
				if (r)
					FZ_CHECK(!vio_vq_has_used(v->vq));
				if (v->honest && !v->quiesced)
					FZ_CHECK(r == (fq_visible(v) == 0));
			}
			break;
		}
		case FZ_VQ_ENABLE_INTR_DELAYED:
			vio_vq_enable_intr_delayed(v->vq);
			break;
		case FZ_VQ_HAS_USED: {
			bool r = vio_vq_has_used(v->vq);
			if (v->reason != 0)
				FZ_CHECK(!r);
			else if (v->honest && !v->quiesced)
				FZ_CHECK(r == (fq_visible(v) != 0));
			break;
		}
		case FZ_VQ_DETACH_ONE: {
			void *token = NULL;
			int rc = vio_vq_detach_unused(v->vq, &token);
			bool any = false;
			for (unsigned t = 0; t < v->ntok; t++)
				any = any || tok_outstanding(&v->tok[t]);
			FZ_CHECK(rc == (any ? 0 : -VIO_EAGAIN));
			if (rc == 0)
				vq_take_token(v, token, FZ_TOK_DET);
			/* The device must be quiet from here until a reset. */
			v->quiesced = true;
			break;
		}
		case FZ_VQ_DETACH_ALL:
			vq_detach_all(v);
			break;
		case FZ_VQ_RESET:
			vq_reset(v, (fz_u8(&in) & 1u) != 0);
			break;
		case FZ_VQ_DEV_EVENT:
			f->event(v, &in);
			break;
		default:
			break;
		}
		FZ_CHECK(vio_vq_is_broken(v->vq) == (v->reason != 0));
		FZ_CHECK(vio_vq_num_free(v->vq) == v->free_model);
		if (v->reason != 0) {
			FZ_CHECK(!vio_vq_has_used(v->vq));
		}
		/* The driver never writes the device area. */
		fz_mem_check_unchanged(&mem, NULL, 0, v->r_dev);
		if (op != FZ_VQ_ADD && op != FZ_VQ_ADD2 && op != FZ_VQ_RESET)
			fz_mem_check_unchanged(&mem, NULL, 0, v->r_desc);
		else
			fz_mem_resync(&mem, v->r_desc);
	}
	vq_detach_all(v);
	for (unsigned t = 0; t < v->ntok; t++)
		FZ_CHECK(v->tok[t].state == FZ_TOK_RET || v->tok[t].state == FZ_TOK_DET ||
			 v->tok[t].state == FZ_TOK_FORGOT);
	fz_mem_check_unchanged(&mem, NULL, 0, v->r_data);
	/* The ring parts' conversions end with vio_vq_ring_addrs_release();
	 * then none is live. */
	vio_vq_ring_addrs_release(v->vq, a[0], a[1], a[2]);
	FZ_CHECK(fz_mem_conv_live(&mem, FZ_TAG_RINGS) == 0);
	FZ_CHECK(mem.conv_live == 0);
	free(v->vqmem);
	fz_mem_free(&mem);
	return 0;
}
