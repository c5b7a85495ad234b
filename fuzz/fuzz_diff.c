/* SPDX-License-Identifier: MIT */
/*
 * Differential harness: one script of driver and device operations runs on a
 * split and on a packed queue of the same size (driver half and device half
 * of each talking through guarded memory), and against a small reference
 * model (a FIFO of available buffers, the buffers the device holds, a FIFO of
 * completed ones). Tokens, lengths, segment shapes and the bytes moved must
 * agree everywhere; notification decisions must never lose a wake-up and
 * must honour suppression. Input format: fuzz/README.md.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DF_MAX_TOK FZ_MAX_ACTIONS
#define DF_MAX_SEGS 8
#define DF_NONE (~0u)

enum df_state {
	DF_AVAIL = 1, /* added, not popped */
	DF_HELD,      /* popped, not pushed */
	DF_DONE,      /* pushed, not reaped */
	DF_GONE	      /* reaped, detached or never added */
};

struct df_tok {
	uint8_t nout, nin;
	uint32_t len[DF_MAX_SEGS];
	uint32_t in_bytes;
	uint16_t ndesc;
	uint32_t written;
	uint8_t state;
};

/* The reference model. */
struct df_model {
	uint16_t size;
	bool event_idx, in_order, indirect;
	uint16_t ind_max, ind_min;
	unsigned ntok;
	struct df_tok tok[DF_MAX_TOK];
	unsigned avail[DF_MAX_TOK], avail_head, avail_tail;
	unsigned held[DF_MAX_TOK], nheld; /* in pop order */
	unsigned done[DF_MAX_TOK], done_head, done_tail;
	uint16_t num_free;
	bool drv_intr_enabled;	 /* driver asked for used-buffer notifications */
	bool dev_notify_enabled; /* device asked for available-buffer notifications */
	bool added_since_kick;
	bool pushed_since_notify;
};

/* One ring format: a driver queue and a device queue on shared memory. */
struct df_side {
	enum vio_ring_format fmt;
	struct fz_mem m;
	struct vio_vq *vq;
	void *vqmem;
	struct vio_devq *dq;
	void *dqmem;
	unsigned r_zero; /* where zero-length segments point */
	unsigned seg_r[DF_MAX_TOK][DF_MAX_SEGS];
	struct vio_chain chain[DF_MAX_TOK];
	struct vio_chain_seg segs[DF_MAX_TOK][DF_MAX_SEGS];
	/* The add in progress (fast address lookup). */
	const struct vio_sg *cur_sg;
	const unsigned *cur_r;
	unsigned cur_n;
	/* Wake-up tracking. */
	bool intr_armed;       /* enable_intr said "nothing pending" */
	bool pushed_since_arm; /* and the device pushed since */
	bool kick_armed;       /* enable_notify said "ring empty" */
	bool added_since_arm;  /* and the driver added since */
	bool notified_once;    /* needs_notify ran since the reset */
};

static struct df_model md;
static struct df_side sides[2];

static uint8_t rpat(unsigned t, unsigned seg, uint32_t i)
{
	return (uint8_t)(t * 131u + seg * 31u + i * 7u + 1u);
}

static uint8_t wpat(unsigned t, uint32_t j)
{
	return (uint8_t)(t * 17u + j * 13u + 0x5au);
}

static void *tok_ptr(unsigned t)
{
	return (void *)(uintptr_t)(t + 1u);
}

static int df_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			uint64_t *addr)
{
	struct df_side *s = ctx;
	for (unsigned i = 0; i < s->cur_n; i++) {
		if (ptr == s->cur_sg[i].addr && len == s->cur_sg[i].len) {
			const struct fz_region *r = &s->m.r[s->cur_r[i]];
			*addr = r->addr + (uint64_t)((const unsigned char *)ptr - r->host);
			return 0;
		}
	}
	return fz_drv_ops.to_device(&s->m, ptr, len, dir, addr);
}

static const struct vio_dma_ops df_drv_ops = {df_to_device, NULL};

static void side_setup(struct df_side *s, enum vio_ring_format fmt, struct vio_features feat)
{
	bool split = fmt == VIO_RING_SPLIT;
	uint16_t n = md.size;
	s->fmt = fmt;
	fz_mem_init(&s->m);
	s->intr_armed = s->pushed_since_arm = false;
	s->kick_armed = s->added_since_arm = false;
	s->notified_once = false;
	s->cur_n = 0;
	unsigned r_desc = fz_mem_add_slot(&s->m, 0, 16u * n, VIO_MAP_RW, false);
	unsigned r_drv =
		fz_mem_add_slot(&s->m, 0, split ? vio_split_avail_size(n) : 4, VIO_MAP_RW, false);
	unsigned r_dev =
		fz_mem_add_slot(&s->m, 0, split ? vio_split_used_size(n) : 4, VIO_MAP_RW, false);
	s->r_zero = fz_mem_add_slot(&s->m, 0, 16, VIO_MAP_READ, false);
	unsigned r_pool = DF_NONE;
	if (md.indirect) {
		size_t stride = (size_t)md.ind_max * 16u;
		r_pool = fz_mem_add_slot(&s->m, 0, stride * n, VIO_MAP_READ, false);
		s->m.r[r_pool].table_stride = stride;
	}

	struct vio_vq_config vc;
	memset(&vc, 0, sizeof(vc));
	vc.format = fmt;
	vc.size = n;
	vc.index = 1;
	vc.features = feat;
	vc.desc = s->m.r[r_desc].host;
	vc.driver_area = s->m.r[r_drv].host;
	vc.device_area = s->m.r[r_dev].host;
	vc.indirect_pool = r_pool != DF_NONE ? s->m.r[r_pool].host : NULL;
	vc.indirect_max = md.indirect ? md.ind_max : 0;
	vc.indirect_min = md.ind_min;
	vc.dma_ops = &df_drv_ops;
	vc.dma_ctx = s;
	size_t vsz = vio_vq_mem_size(&vc);
	s->vqmem = malloc(vsz);
	FZ_CHECK(s->vqmem != NULL);
	FZ_CHECK(vio_vq_init(&s->vq, s->vqmem, vsz, &vc) == 0);

	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = fmt;
	dc.size = n;
	dc.index = 1;
	dc.features = feat;
	FZ_CHECK(vio_vq_ring_addrs(s->vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr) == 0);
	dc.mem_ops = &fz_dev_ops;
	dc.mem_ctx = &s->m;
	size_t dsz = vio_devq_mem_size(fmt, n);
	s->dqmem = malloc(dsz);
	FZ_CHECK(s->dqmem != NULL);
	fz_mem_grants_begin(&s->m);
	FZ_CHECK(vio_devq_init(&s->dq, s->dqmem, dsz, &dc) == 0);
	fz_mem_grants_end(&s->m);
}

static void free_token_regions(struct df_side *s, unsigned t)
{
	for (unsigned i = 0; i < DF_MAX_SEGS; i++) {
		if (s->seg_r[t][i] != DF_NONE)
			fz_mem_remove(&s->m, s->seg_r[t][i]);
		s->seg_r[t][i] = DF_NONE;
	}
}

static void side_free(struct df_side *s)
{
	free(s->vqmem);
	free(s->dqmem);
	fz_mem_free(&s->m);
}

static bool avail_empty(void)
{
	return md.avail_head == md.avail_tail;
}

static bool done_empty(void)
{
	return md.done_head == md.done_tail;
}

/* ------------------------------------------------------------------------ */

static void df_add(struct fz_in *in)
{
	unsigned nout = fz_u8(in) % 5u, nin = fz_u8(in) % 5u;
	if (nout + nin == 0)
		nout = 1;
	unsigned total = nout + nin;
	uint32_t len[DF_MAX_SEGS];
	uint32_t in_bytes = 0;
	for (unsigned i = 0; i < total; i++) {
		uint8_t b = fz_u8(in);
		len[i] = b < 40 ? 0 : b;
		if (i >= nout)
			in_bytes += len[i];
	}
	if (md.ntok >= DF_MAX_TOK)
		return;
	unsigned t = md.ntok;
	unsigned ind_min = md.ind_min != 0 ? md.ind_min : 2;
	bool ind = md.indirect && total <= md.ind_max && (total >= ind_min || total > md.num_free);
	unsigned ndesc = ind ? 1 : total;
	bool ok = ndesc <= md.num_free;

	for (unsigned k = 0; k < 2; k++) {
		struct df_side *s = &sides[k];
		struct vio_sg sg[DF_MAX_SEGS];
		unsigned rr[DF_MAX_SEGS];
		for (unsigned i = 0; i < total; i++) {
			if (len[i] == 0) {
				s->seg_r[t][i] = DF_NONE;
				rr[i] = s->r_zero;
				sg[i].addr = s->m.r[s->r_zero].host;
				sg[i].len = 0;
				continue;
			}
			bool w = i >= nout;
			unsigned r = fz_mem_add_slot(&s->m, 0, len[i],
						     w ? VIO_MAP_WRITE : VIO_MAP_READ, false);
			s->seg_r[t][i] = r;
			rr[i] = r;
			unsigned char *h = s->m.r[r].host;
			if (!w)
				for (uint32_t j = 0; j < len[i]; j++)
					h[j] = rpat(t, i, j);
			sg[i].addr = h;
			sg[i].len = len[i];
		}
		for (unsigned i = total; i < DF_MAX_SEGS; i++)
			s->seg_r[t][i] = DF_NONE;
		s->cur_sg = sg;
		s->cur_r = rr;
		s->cur_n = total;
		int rc = vio_vq_add(s->vq, sg, nout, nin, tok_ptr(t));
		s->cur_n = 0;
		FZ_CHECK(rc == (ok ? 0 : -VIO_ENOSPC));
		if (!ok) {
			free_token_regions(s, t);
			continue;
		}
		s->added_since_arm = true;
	}
	if (!ok)
		return;
	struct df_tok *k = &md.tok[t];
	k->nout = (uint8_t)nout;
	k->nin = (uint8_t)nin;
	memcpy(k->len, len, sizeof(len));
	k->in_bytes = in_bytes;
	k->ndesc = (uint16_t)ndesc;
	k->written = 0;
	k->state = DF_AVAIL;
	md.ntok++;
	md.avail[md.avail_tail++] = t;
	md.num_free = (uint16_t)(md.num_free - ndesc);
	md.added_since_kick = true;
}

static void df_pop(void)
{
	bool none = avail_empty();
	unsigned t = none ? 0 : md.avail[md.avail_head];
	for (unsigned k = 0; k < 2; k++) {
		struct df_side *s = &sides[k];
		struct vio_chain c;
		struct vio_chain_seg tmp[DF_MAX_SEGS];
		struct vio_chain_seg *segs = none ? tmp : s->segs[t];
		fz_mem_grants_begin(&s->m);
		int rc = vio_devq_pop(s->dq, &c, segs, DF_MAX_SEGS);
		fz_mem_grants_end(&s->m);
		if (none) {
			FZ_CHECK(rc == -VIO_EAGAIN);
			continue;
		}
		FZ_CHECK(rc == 0);
		fz_check_chain(&s->m, &c, segs, DF_MAX_SEGS, md.size);
		const struct df_tok *tk = &md.tok[t];
		/* The chain the driver made, segment for segment. */
		FZ_CHECK(c.nseg == tk->nout + tk->nin);
		FZ_CHECK(c.nout == tk->nout);
		FZ_CHECK(c.ndesc == tk->ndesc);
		for (unsigned i = 0; i < c.nseg; i++) {
			FZ_CHECK(segs[i].len == tk->len[i]);
			if (tk->len[i] == 0)
				continue;
			FZ_CHECK(segs[i].ptr == s->m.r[s->seg_r[t][i]].host);
			if (i < tk->nout) {
				const unsigned char *p = segs[i].ptr;
				for (uint32_t j = 0; j < segs[i].len; j++)
					FZ_CHECK(p[j] == rpat(t, i, j));
			}
		}
		s->chain[t] = c;
	}
	if (none)
		return;
	md.avail_head++;
	md.tok[t].state = DF_HELD;
	md.held[md.nheld++] = t;
}

/* The device writes @written bytes into the writable segments of @t. */
static void device_write(struct df_side *s, unsigned t, uint32_t written)
{
	const struct df_tok *tk = &md.tok[t];
	uint32_t j = 0;
	for (unsigned i = tk->nout; i < tk->nout + tk->nin && j < written; i++) {
		unsigned char *p = s->segs[t][i].ptr;
		for (uint32_t b = 0; b < s->segs[t][i].len && j < written; b++, j++)
			p[b] = wpat(t, j);
	}
}

static uint32_t pick_written(uint8_t wsel, uint32_t in_bytes)
{
	if (in_bytes == 0)
		return 0;
	return wsel == 255 ? in_bytes : wsel % (in_bytes + 1u);
}

static void held_remove(unsigned idx)
{
	memmove(&md.held[idx], &md.held[idx + 1], (md.nheld - idx - 1) * sizeof(md.held[0]));
	md.nheld--;
}

static void model_complete(unsigned t, uint32_t written)
{
	md.tok[t].state = DF_DONE;
	md.tok[t].written = written;
	md.done[md.done_tail++] = t;
	md.pushed_since_notify = true;
	for (unsigned k = 0; k < 2; k++)
		sides[k].pushed_since_arm = true;
}

static void df_push(struct fz_in *in)
{
	uint8_t which = fz_u8(in), wsel = fz_u8(in);
	if (md.nheld == 0)
		return;
	unsigned idx = md.in_order ? 0 : which % md.nheld;
	unsigned t = md.held[idx];
	uint32_t written = pick_written(wsel, md.tok[t].in_bytes);
	for (unsigned k = 0; k < 2; k++) {
		device_write(&sides[k], t, written);
		FZ_CHECK(vio_devq_push(sides[k].dq, &sides[k].chain[t], written) == 0);
	}
	held_remove(idx);
	model_complete(t, written);
}

static void df_push_batch(struct fz_in *in)
{
	unsigned n = 1u + fz_u8(in) % 4u;
	uint8_t mode = fz_u8(in);
	unsigned pick[4];
	uint32_t written[4];
	unsigned k = 0;
	/* IN_ORDER: one used entry for the whole batch, now and then. */
	bool one = md.in_order && (mode & 1);
	for (unsigned j = 0; j < n; j++) {
		uint8_t which = fz_u8(in), wsel = fz_u8(in);
		if (md.nheld == 0)
			continue;
		unsigned idx = md.in_order ? 0 : which % md.nheld;
		unsigned t = md.held[idx];
		held_remove(idx);
		pick[k] = t;
		written[k] = pick_written(wsel, md.tok[t].in_bytes);
		k++;
	}
	if (k == 0)
		return;
	/* In a single-entry batch the earlier chains are fully used. */
	if (one)
		for (unsigned j = 0; j + 1 < k; j++)
			written[j] = md.tok[pick[j]].in_bytes;
	for (unsigned s = 0; s < 2; s++) {
		struct vio_used u[4];
		for (unsigned j = 0; j < k; j++) {
			device_write(&sides[s], pick[j], written[j]);
			u[j].chain = &sides[s].chain[pick[j]];
			u[j].len = written[j];
		}
		int rc = one ? vio_devq_push_in_order(sides[s].dq, u, k)
			     : vio_devq_push_batch(sides[s].dq, u, k);
		FZ_CHECK(rc == 0);
	}
	for (unsigned j = 0; j < k; j++)
		model_complete(pick[j], written[j]);
}

static void df_get(void)
{
	bool none = done_empty();
	unsigned t = none ? 0 : md.done[md.done_head];
	for (unsigned k = 0; k < 2; k++) {
		struct df_side *s = &sides[k];
		void *token = NULL;
		uint32_t len = 0;
		int rc = vio_vq_get(s->vq, &token, &len);
		if (none) {
			FZ_CHECK(rc == -VIO_EAGAIN);
			continue;
		}
		FZ_CHECK(rc == 0);
		FZ_CHECK(token == tok_ptr(t));
		FZ_CHECK(len == md.tok[t].written);
		/* The bytes the device wrote, through the driver's pointers. */
		const struct df_tok *tk = &md.tok[t];
		uint32_t j = 0;
		for (unsigned i = tk->nout; i < tk->nout + tk->nin && j < len; i++) {
			if (s->seg_r[t][i] == DF_NONE)
				continue;
			const struct fz_region *r = &s->m.r[s->seg_r[t][i]];
			for (uint32_t b = 0; b < r->len && j < len; b++, j++)
				FZ_CHECK(r->host[b] == wpat(t, j));
		}
		free_token_regions(s, t);
		/* The driver saw that completion: no interrupt is owed for it. */
		s->pushed_since_arm = false;
	}
	if (none)
		return;
	md.done_head++;
	md.tok[t].state = DF_GONE;
	md.num_free = (uint16_t)(md.num_free + md.tok[t].ndesc);
}

static void df_kick(void)
{
	for (unsigned k = 0; k < 2; k++) {
		struct df_side *s = &sides[k];
		bool r = vio_vq_kick_prepare(s->vq);
		if (!md.event_idx)
			FZ_CHECK(r == (md.added_since_kick && md.dev_notify_enabled));
		/* Packed: DISABLE in the device event structure applies with
		 * EVENT_IDX too. */
		if (s->fmt == VIO_RING_PACKED && !md.dev_notify_enabled)
			FZ_CHECK(!r);
		/* No lost kick: the device said "empty, kick me", a buffer came. */
		if (s->kick_armed && s->added_since_arm)
			FZ_CHECK(r);
		if (r)
			s->kick_armed = false;
	}
	md.added_since_kick = false;
}

static void df_needs_notify(void)
{
	for (unsigned k = 0; k < 2; k++) {
		struct df_side *s = &sides[k];
		bool r = vio_devq_needs_notify(s->dq);
		if (!md.pushed_since_notify)
			FZ_CHECK(!r);
		else if (!md.event_idx)
			FZ_CHECK(r == md.drv_intr_enabled);
		/* Suppressed: no interrupt. With EVENT_IDX a split device knows
		 * its previous position only after a first decision. */
		if (!md.drv_intr_enabled &&
		    (!md.event_idx || s->fmt == VIO_RING_PACKED || s->notified_once))
			FZ_CHECK(!r);
		/* No lost interrupt: the driver said "nothing pending, tell me",
		 * the device completed something. */
		if (s->intr_armed && s->pushed_since_arm)
			FZ_CHECK(r);
		if (r)
			s->intr_armed = false;
		s->notified_once = true;
	}
	md.pushed_since_notify = false;
}

static void df_enable_intr(bool delayed)
{
	for (unsigned k = 0; k < 2; k++) {
		struct df_side *s = &sides[k];
		bool r = delayed ? vio_vq_enable_intr_delayed(s->vq) : vio_vq_enable_intr(s->vq);
		bool exact = !delayed || !md.event_idx;
		if (exact)
			FZ_CHECK(r == done_empty());
		s->intr_armed = exact && r;
		s->pushed_since_arm = false;
	}
	md.drv_intr_enabled = true;
}

static void df_reset(void)
{
	for (unsigned k = 0; k < 2; k++) {
		struct df_side *s = &sides[k];
		bool seen[DF_MAX_TOK] = {false};
		unsigned n = 0;
		for (;;) {
			void *token = NULL;
			int rc = vio_vq_detach_unused(s->vq, &token);
			if (rc == -VIO_EAGAIN)
				break;
			FZ_CHECK(rc == 0);
			uintptr_t u = (uintptr_t)token;
			FZ_CHECK(u >= 1 && u <= md.ntok);
			unsigned t = (unsigned)(u - 1u);
			FZ_CHECK(!seen[t]);
			seen[t] = true;
			FZ_CHECK(md.tok[t].state != DF_GONE);
			FZ_CHECK(++n <= md.size);
			free_token_regions(s, t);
		}
		for (unsigned t = 0; t < md.ntok; t++)
			FZ_CHECK(seen[t] == (md.tok[t].state != DF_GONE));
		FZ_CHECK(vio_vq_num_free(s->vq) == md.size);
		vio_vq_reset(s->vq);
		vio_devq_reset(s->dq);
		s->intr_armed = s->pushed_since_arm = false;
		s->kick_armed = s->added_since_arm = false;
		s->notified_once = false;
	}
	for (unsigned t = 0; t < md.ntok; t++)
		md.tok[t].state = DF_GONE;
	md.avail_head = md.avail_tail = 0;
	md.done_head = md.done_tail = 0;
	md.nheld = 0;
	md.num_free = md.size;
	md.drv_intr_enabled = md.dev_notify_enabled = true;
	md.added_since_kick = md.pushed_since_notify = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	uint8_t feat = fz_u8(&in), ssel = fz_u8(&in), imax = fz_u8(&in), imin = fz_u8(&in);

	md.size = (uint16_t)(1u << (ssel % 7u)); /* 1 .. 64 */
	md.event_idx = (feat & FZ_FEAT_EVENT_IDX) != 0;
	md.in_order = (feat & FZ_FEAT_IN_ORDER) != 0;
	md.indirect = (feat & FZ_FEAT_INDIRECT) != 0;
	unsigned cap = md.size < DF_MAX_SEGS ? md.size : DF_MAX_SEGS;
	md.ind_max = (uint16_t)(1u + imax % cap);
	md.ind_min = imin % 5u;
	md.ntok = 0;
	md.avail_head = md.avail_tail = md.done_head = md.done_tail = 0;
	md.nheld = 0;
	md.num_free = md.size;
	md.drv_intr_enabled = md.dev_notify_enabled = true;
	md.added_since_kick = md.pushed_since_notify = false;

	struct vio_features f = vio_features_none();
	if (md.indirect)
		vio_features_set(&f, VIO_F_INDIRECT_DESC);
	if (md.event_idx)
		vio_features_set(&f, VIO_F_EVENT_IDX);
	if (md.in_order)
		vio_features_set(&f, VIO_F_IN_ORDER);
	side_setup(&sides[0], VIO_RING_SPLIT, f);
	vio_features_set(&f, VIO_F_RING_PACKED);
	side_setup(&sides[1], VIO_RING_PACKED, f);

	for (unsigned n = 0; n < FZ_MAX_ACTIONS && !fz_in_done(&in); n++) {
		uint8_t op = fz_u8(&in) % FZ_DF_NOPS;
		if (fz_trace())
			fprintf(stderr, "diff op %u: %u (avail %u held %u done %u free %u)\n", n,
				op, md.avail_tail - md.avail_head, md.nheld,
				md.done_tail - md.done_head, md.num_free);
		switch (op) {
		case FZ_DF_ADD:
		case FZ_DF_ADD2:
			df_add(&in);
			break;
		case FZ_DF_POP:
			df_pop();
			break;
		case FZ_DF_PUSH:
			df_push(&in);
			break;
		case FZ_DF_PUSH_BATCH:
			df_push_batch(&in);
			break;
		case FZ_DF_GET:
			df_get();
			break;
		case FZ_DF_KICK:
			df_kick();
			break;
		case FZ_DF_NEEDS_NOTIFY:
			df_needs_notify();
			break;
		case FZ_DF_ENABLE_INTR:
			df_enable_intr(false);
			break;
		case FZ_DF_DISABLE_INTR:
			for (unsigned k = 0; k < 2; k++) {
				vio_vq_disable_intr(sides[k].vq);
				sides[k].intr_armed = false;
			}
			md.drv_intr_enabled = false;
			break;
		case FZ_DF_ENABLE_INTR_DELAYED:
			df_enable_intr(true);
			break;
		case FZ_DF_ENABLE_NOTIFY:
			for (unsigned k = 0; k < 2; k++) {
				bool r = vio_devq_enable_notify(sides[k].dq);
				FZ_CHECK(r == avail_empty());
				sides[k].kick_armed = r;
				sides[k].added_since_arm = false;
			}
			md.dev_notify_enabled = true;
			break;
		case FZ_DF_DISABLE_NOTIFY:
			for (unsigned k = 0; k < 2; k++) {
				vio_devq_disable_notify(sides[k].dq);
				sides[k].kick_armed = false;
			}
			md.dev_notify_enabled = false;
			break;
		case FZ_DF_RESET:
			df_reset();
			break;
		case FZ_DF_HAS: {
			uint8_t w = fz_u8(&in);
			for (unsigned k = 0; k < 2; k++) {
				if (w & 1)
					FZ_CHECK(vio_vq_has_used(sides[k].vq) == !done_empty());
				else
					FZ_CHECK(vio_devq_has_avail(sides[k].dq) == !avail_empty());
			}
			break;
		}
		case FZ_DF_POP_ALL:
			while (!avail_empty())
				df_pop();
			break;
		default:
			break;
		}
		for (unsigned k = 0; k < 2; k++) {
			/* Honest traffic never breaks a queue. */
			FZ_CHECK(!vio_vq_is_broken(sides[k].vq));
			FZ_CHECK(!vio_devq_is_broken(sides[k].dq));
			FZ_CHECK(vio_vq_num_free(sides[k].vq) == md.num_free);
		}
	}
	df_reset();
	side_free(&sides[0]);
	side_free(&sides[1]);
	return 0;
}
