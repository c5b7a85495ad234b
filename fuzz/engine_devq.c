/* SPDX-License-Identifier: MIT */
/*
 * Device-half harness engine: one input drives a device queue through pops,
 * pushes, state changes and hostile-driver writes, checking every answer.
 */
#include "engine_devq.h"

#include "invariants.h"
#include "ring_geom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned char *fz_devq_host(struct fz_devq *d, uint64_t addr, size_t len)
{
	return fz_mem_host(d->m, addr, len);
}

bool fz_devq_poke(struct fz_devq *d, uint64_t addr, const void *src, size_t len)
{
	d->avail_hint = -1;
	return fz_mem_poke(d->m, addr, src, len);
}

uint64_t fz_devq_pick_addr(struct fz_devq *d, uint8_t region, uint16_t off)
{
	const struct fz_region *r = &d->m->r[region % d->m->n];
	return r->addr + (off % (r->len + 17u)); /* now and then a little past the end */
}

static void devq_state(const struct fz_devq *d, struct vio_ring_state *st)
{
	vio_devq_get_state(d->q, st);
}

static bool state_eq(const struct vio_ring_state *a, const struct vio_ring_state *b)
{
	return a->avail_idx == b->avail_idx && a->used_idx == b->used_idx &&
	       a->avail_wrap == b->avail_wrap && a->used_wrap == b->used_wrap;
}

/* Record a return code: peer errors latch the queue (and only a healthy
 * queue can report one). */
static void devq_latch(struct fz_devq *d, int rc)
{
	if (rc < 0 && vio_err_is_peer(rc)) {
		FZ_CHECK(d->reason == 0);
		d->reason = rc;
	}
}

static void devq_check_broken(const struct fz_devq *d)
{
	FZ_CHECK(vio_devq_is_broken(d->q) == (d->reason != 0));
	FZ_CHECK(vio_devq_broken_reason(d->q) == d->reason);
	FZ_CHECK(vio_devq_size(d->q) == d->size);
}

static void devq_forget_held(struct fz_devq *d)
{
	for (unsigned i = 0; i < d->nheld; i++)
		free(d->held[i].segs);
	d->nheld = 0;
}

static void devq_after_reset(struct fz_devq *d)
{
	d->reason = 0;
	devq_forget_held(d);
	d->avail_hint = -1;
}

static void devq_check_reset_state(const struct fz_devq *d)
{
	struct vio_ring_state st;
	devq_state(d, &st);
	bool packed = d->f->format == VIO_RING_PACKED;
	FZ_CHECK(st.avail_idx == 0 && st.used_idx == 0);
	FZ_CHECK(st.avail_wrap == packed && st.used_wrap == packed);
}

/* Keeps pop order (in-order batches take the oldest chains). */
static void devq_remove_held(struct fz_devq *d, unsigned i)
{
	free(d->held[i].segs);
	memmove(&d->held[i], &d->held[i + 1], (d->nheld - i - 1) * sizeof(d->held[0]));
	d->nheld--;
}

static void devq_pop(struct fz_devq *d, struct fz_in *in)
{
	uint8_t sel = fz_u8(in);
	uint16_t max = (sel & 0x80) ? (uint16_t)(sel & 0x7f) : d->size;
	/* Exactly max entries: a write past them is an ASan report. */
	struct vio_chain_seg *segs = malloc(max != 0 ? max * sizeof(*segs) : 1);
	FZ_CHECK(segs != NULL);
	struct vio_chain c;
	struct vio_ring_state before, after;
	devq_state(d, &before);
	unsigned long calls = d->m->map_calls;

	fz_mem_grants_begin(d->m);
	int rc = vio_devq_pop(d->q, &c, segs, max);
	fz_mem_grants_end(d->m);
	devq_state(d, &after);
	if (fz_trace())
		fprintf(stderr, "  pop max %u -> rc %d nseg %u ndesc %u id %u\n", max, rc,
			rc == 0 ? c.nseg : 0, rc == 0 ? c.ndesc : 0, rc == 0 ? c.id : 0);

	FZ_CHECK(fz_pop_rc_ok(rc));
	if (d->reason != 0)
		FZ_CHECK(rc == -VIO_EBROKEN);
	else
		FZ_CHECK(rc != -VIO_EBROKEN);
	if (d->reason == 0 && d->avail_hint >= 0)
		FZ_CHECK((rc == -VIO_EAGAIN) == (d->avail_hint == 0));
	if (rc == -VIO_EAGAIN || rc == -VIO_EBROKEN)
		FZ_CHECK(d->m->map_calls == calls);
	/* devq.h: "the queue size always suffices". */
	if (rc == -VIO_ENOSPC)
		FZ_CHECK(max < d->size);

	if (rc == 0) {
		fz_check_chain(d->m, &c, segs, max, d->size);
		if (d->f->format == VIO_RING_SPLIT) {
			FZ_CHECK(after.avail_idx == (uint16_t)(before.avail_idx + 1u));
		} else {
			uint16_t slot = before.avail_idx;
			bool wrap = before.avail_wrap;
			fz_packed_advance(&slot, &wrap, c.ndesc, d->size);
			FZ_CHECK(after.avail_idx == slot && after.avail_wrap == wrap);
			/* A packed buffer id is never handed out twice at once. */
			for (unsigned i = 0; i < d->nheld; i++)
				FZ_CHECK(d->held[i].id != c.id);
		}
		FZ_CHECK(after.used_idx == before.used_idx && after.used_wrap == before.used_wrap);
		if (d->nheld < FZ_MAX_ACTIONS) {
			d->held[d->nheld++] = c; /* owns segs until pushed */
			segs = NULL;
		}
	} else {
		/* Nothing consumed on any failure. */
		FZ_CHECK(state_eq(&before, &after));
		devq_latch(d, rc);
	}
	free(segs);
	d->avail_hint = -1;
}

static uint32_t written_len(struct fz_in *in, uint8_t mode, uint32_t in_bytes)
{
	switch (mode & 3) {
	case 0:
		return 0;
	case 1:
		return in_bytes;
	case 2:
		return in_bytes / 2;
	default:
		return fz_u32(in);
	}
}

static void check_used_advance(const struct fz_devq *d, const struct vio_ring_state *before,
			       unsigned n, unsigned slots)
{
	struct vio_ring_state after;
	devq_state(d, &after);
	FZ_CHECK(after.avail_idx == before->avail_idx && after.avail_wrap == before->avail_wrap);
	if (d->f->format == VIO_RING_SPLIT) {
		FZ_CHECK(after.used_idx == (uint16_t)(before->used_idx + n));
	} else {
		uint16_t slot = before->used_idx;
		bool wrap = before->used_wrap;
		fz_packed_advance(&slot, &wrap, slots, d->size);
		FZ_CHECK(after.used_idx == slot && after.used_wrap == wrap);
	}
}

static void devq_push(struct fz_devq *d, struct fz_in *in)
{
	uint8_t which = fz_u8(in), mode = fz_u8(in);
	struct vio_ring_state before;
	devq_state(d, &before);

	if (mode & 0x80) {
		/* A chain that was never popped: only the slot check applies. */
		struct vio_chain c = {0};
		c.id = fz_u16(in);
		c.ndesc = fz_u16(in);
		uint32_t w = fz_u32(in);
		int rc = vio_devq_push(d->q, &c, w);
		/* devq.h: a record that pop did not fill in is refused. */
		FZ_CHECK(rc == (d->reason != 0 ? -VIO_EBROKEN : -VIO_EINVAL));
		return;
	}
	if (d->nheld == 0)
		return;
	unsigned i = which % d->nheld;
	struct vio_chain c = d->held[i];
	uint32_t w = written_len(in, mode, c.in_bytes);
	int rc = vio_devq_push(d->q, &c, w);
	if (d->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		return;
	}
	/* devq.h: no more than the chain offered. */
	FZ_CHECK(rc == (w <= c.in_bytes ? 0 : -VIO_EINVAL));
	if (rc != 0)
		return;
	check_used_advance(d, &before, 1, c.ndesc);
	devq_remove_held(d, i);
}

static void devq_push_batch(struct fz_devq *d, struct fz_in *in)
{
	unsigned n = 1u + fz_u8(in) % 8u;
	uint8_t mode = fz_u8(in);
	bool in_order = (mode & 0x40) != 0;
	struct vio_used used[8];
	unsigned pick[8];
	bool taken[FZ_MAX_ACTIONS] = {false};
	unsigned k = 0, slots = 0;
	bool over = false;
	struct vio_ring_state before;
	devq_state(d, &before);

	for (unsigned j = 0; j < n; j++) {
		uint8_t which = fz_u8(in);
		if (k >= d->nheld)
			continue;
		unsigned i = 0;
		if (in_order) {
			i = k; /* the oldest chains, in pop order */
		} else {
			/* The (which % free)-th chain not taken yet. */
			unsigned want = which % (d->nheld - k);
			for (;; i++) {
				if (taken[i])
					continue;
				if (want-- == 0)
					break;
			}
		}
		taken[i] = true;
		pick[k] = i;
		used[k].chain = &d->held[i];
		used[k].len = written_len(in, mode, d->held[i].in_bytes);
		over = over || used[k].len > d->held[i].in_bytes;
		slots += d->held[i].ndesc;
		k++;
	}
	int rc = in_order ? vio_devq_push_in_order(d->q, used, k)
			  : vio_devq_push_batch(d->q, used, k);
	bool can = !in_order || (d->feat & FZ_FEAT_IN_ORDER);
	if (!can) {
		FZ_CHECK(rc == -VIO_EINVAL);
		return;
	}
	if (d->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		return;
	}
	/* The device never holds two chains with one id (split heads too), so
	 * any batch fits; a length above what a chain offered is refused. */
	bool fits = !over && !(in_order && k == 0);
	FZ_CHECK(rc == (fits ? 0 : -VIO_EINVAL));
	if (rc != 0)
		return;
	check_used_advance(d, &before, k, slots);
	/* Remove the picked ones, highest index first. */
	for (unsigned a = 0; a < k; a++)
		for (unsigned b = a + 1; b < k; b++)
			if (pick[b] > pick[a]) {
				unsigned t = pick[a];
				pick[a] = pick[b];
				pick[b] = t;
			}
	for (unsigned a = 0; a < k; a++)
		devq_remove_held(d, pick[a]);
}

static void devq_set_state(struct fz_devq *d, struct fz_in *in)
{
	struct vio_ring_state st, before, after;
	st.avail_idx = fz_u16(in);
	st.used_idx = fz_u16(in);
	uint8_t w = fz_u8(in);
	st.avail_wrap = (w & 1) != 0;
	st.used_wrap = (w & 2) != 0;
	st.inflight = 0;
	devq_state(d, &before);
	int rc = vio_devq_set_state(d->q, &st);
	devq_state(d, &after);
	bool packed = d->f->format == VIO_RING_PACKED;
	if (packed && (st.avail_idx >= d->size || st.used_idx >= d->size)) {
		FZ_CHECK(rc == -VIO_EINVAL);
		FZ_CHECK(state_eq(&before, &after));
		return;
	}
	if (!packed && rc != 0) {
		/* Split takes the used index from guest memory; a driver may
		 * have put it too far from avail_idx. */
		FZ_CHECK(rc == -VIO_EINVAL);
		FZ_CHECK(state_eq(&before, &after));
		return;
	}
	FZ_CHECK(rc == 0);
	FZ_CHECK(after.avail_idx == st.avail_idx);
	if (packed)
		FZ_CHECK(after.used_idx == st.used_idx && after.avail_wrap == st.avail_wrap &&
			 after.used_wrap == st.used_wrap);
	else
		FZ_CHECK((uint16_t)(st.avail_idx - after.used_idx) <= d->size);
	devq_after_reset(d);
}

static void devq_drv_write(struct fz_devq *d, struct fz_in *in)
{
	unsigned ri = fz_u8(in) % d->m->n;
	uint16_t off = fz_u16(in);
	unsigned k = 1u + fz_u8(in) % 16u;
	unsigned char buf[16];
	fz_bytes(in, buf, k);
	struct fz_region *r = &d->m->r[ri];
	/* Before the harness writes a region, nothing the library must not
	 * write may have changed in it. */
	fz_mem_check_unchanged(d->m, d->wr, d->nwr, ri);
	size_t o = off % r->len;
	if (k > r->len - o)
		k = (unsigned)(r->len - o);
	fz_devq_poke(d, r->addr + o, buf, k);
}

static int devq_init(struct fz_devq *d)
{
	fz_mem_grants_begin(d->m);
	int rc = vio_devq_init(&d->q, d->qmem, d->qmem_size, &d->cfg);
	fz_mem_grants_end(d->m);
	return rc;
}

int fz_devq_run(const struct fz_devq_fmt *f, const uint8_t *data, size_t size)
{
	static struct fz_mem mem;
	static struct fz_devq dq;
	struct fz_devq *d = &dq;
	struct fz_in in;

	fz_in_init(&in, data, size);
	fz_mem_init(&mem);
	d->f = f;
	d->m = &mem;
	d->feat = fz_u8(&in);
	d->size = f->size_from(fz_u16(&in));
	d->nextra = fz_u8(&in) % (FZ_DEVQ_MAX_EXTRA + 1u);
	d->reason = 0;
	d->avail_hint = -1;
	d->nheld = 0;

	uint64_t addr[3];
	for (unsigned i = 0; i < 3; i++)
		addr[i] = FZ_REGION_BASE(i);
	if (d->feat & FZ_DEVQ_RAW_ADDRS)
		for (unsigned i = 0; i < 3; i++)
			addr[i] = fz_u64(&in);

	size_t rlen[3];
	f->ring_sizes(d->size, rlen);
	unsigned ring_dirs = (d->feat & FZ_DEVQ_RINGS_RO) ? VIO_MAP_READ : VIO_MAP_RW;
	for (unsigned i = 0; i < 3; i++)
		fz_mem_add_slot(&mem, 0, rlen[i], ring_dirs, true);
	uint8_t rflags[FZ_DEVQ_MAX_EXTRA];
	for (unsigned k = 0; k < d->nextra; k++) {
		rflags[k] = fz_u8(&in);
		size_t len = 1u + fz_u16(&in) % FZ_DEVQ_MAX_REGION;
		size_t off = fz_u16(&in);
		unsigned dirs = rflags[k] & FZ_RF_DIRS;
		fz_mem_add_slot(&mem, off, len, dirs != 0 ? dirs : VIO_MAP_RW, true);
	}
	for (unsigned i = 0; i < 3; i++)
		fz_mem_fill(&mem, i, &in);
	for (unsigned k = 0; k < d->nextra; k++)
		if (!(rflags[k] & FZ_RF_ZERO))
			fz_mem_fill(&mem, 3 + k, &in);

	memset(&d->cfg, 0, sizeof(d->cfg));
	d->cfg.format = f->format;
	d->cfg.size = d->size;
	d->cfg.index = 3;
	if (d->feat & FZ_FEAT_INDIRECT)
		vio_features_set(&d->cfg.features, VIO_F_INDIRECT_DESC);
	if (d->feat & FZ_FEAT_EVENT_IDX)
		vio_features_set(&d->cfg.features, VIO_F_EVENT_IDX);
	if (d->feat & FZ_FEAT_IN_ORDER)
		vio_features_set(&d->cfg.features, VIO_F_IN_ORDER);
	if (f->format == VIO_RING_PACKED)
		vio_features_set(&d->cfg.features, VIO_F_RING_PACKED);
	d->cfg.desc_addr = addr[0];
	d->cfg.driver_addr = addr[1];
	d->cfg.device_addr = addr[2];
	d->cfg.mem_ops = &fz_dev_ops;
	d->cfg.mem_ctx = &mem;
	d->qmem_size = vio_devq_mem_size(f->format, d->size);
	FZ_CHECK(d->qmem_size != 0);
	d->qmem = malloc(d->qmem_size);
	FZ_CHECK(d->qmem != NULL);
	d->nwr = f->writable(d, d->wr);

	int rc = devq_init(d);
	if (rc != 0) {
		/* Only the rings' placement can be wrong here. */
		FZ_CHECK(rc == -VIO_ERING_MAP || rc == -VIO_ERING_ALIGN);
		FZ_CHECK((d->feat & (FZ_DEVQ_RAW_ADDRS | FZ_DEVQ_RINGS_RO)) != 0);
		fz_mem_check_unchanged(&mem, NULL, 0, ~0u);
		goto out;
	}
	devq_check_reset_state(d);

	for (unsigned n = 0; n < FZ_MAX_ACTIONS && !fz_in_done(&in); n++) {
		uint8_t op = fz_u8(&in) % FZ_DQ_NOPS;
		if (fz_trace())
			fprintf(stderr, "devq op %u: %u  (held %u reason %d)\n", n, op, d->nheld,
				d->reason);
		/* has_avail's answer is checked against a pop right after it. */
		if (op != FZ_DQ_POP && op != FZ_DQ_POP2)
			d->avail_hint = -1;
		switch (op) {
		case FZ_DQ_POP:
		case FZ_DQ_POP2:
			devq_pop(d, &in);
			break;
		case FZ_DQ_PUSH:
			devq_push(d, &in);
			break;
		case FZ_DQ_PUSH_BATCH:
			devq_push_batch(d, &in);
			break;
		case FZ_DQ_NEEDS_NOTIFY: {
			bool suppressed = f->intr_suppressed(d);
			bool r = vio_devq_needs_notify(d->q);
			if (d->reason != 0 || suppressed)
				FZ_CHECK(!r);
			break;
		}
		case FZ_DQ_ENABLE_NOTIFY: {
			bool r = vio_devq_enable_notify(d->q);
			f->check_notify_area(d, true);
			if (d->reason == 0) {
				/* true iff nothing is available (as has_avail says). */
				bool has = vio_devq_has_avail(d->q);
				FZ_CHECK(r == !has);
			}
			break;
		}
		case FZ_DQ_DISABLE_NOTIFY:
			vio_devq_disable_notify(d->q);
			f->check_notify_area(d, false);
			break;
		case FZ_DQ_HAS_AVAIL: {
			bool r = vio_devq_has_avail(d->q);
			if (d->reason != 0)
				FZ_CHECK(!r);
			d->avail_hint = r;
			break;
		}
		case FZ_DQ_SAVE_RESTORE: {
			struct vio_ring_state st, st2;
			devq_state(d, &st);
			int src = vio_devq_set_state(d->q, &st);
			devq_state(d, &st2);
			if (d->f->format == VIO_RING_PACKED) {
				FZ_CHECK(src == 0 && state_eq(&st, &st2));
			} else {
				/* Split re-reads used->idx from guest memory, which a
				 * hostile driver may have rewritten. */
				FZ_CHECK(src == 0 || src == -VIO_EINVAL);
				FZ_CHECK(st2.avail_idx == st.avail_idx);
				if (src != 0)
					break;
			}
			devq_after_reset(d);
			break;
		}
		case FZ_DQ_SET_STATE:
			devq_set_state(d, &in);
			break;
		case FZ_DQ_RESET:
			vio_devq_reset(d->q);
			devq_after_reset(d);
			devq_check_reset_state(d);
			break;
		case FZ_DQ_DRV_WRITE:
			devq_drv_write(d, &in);
			break;
		case FZ_DQ_DRV_PUBLISH:
			f->publish(d, &in);
			d->avail_hint = -1;
			break;
		case FZ_DQ_DRV_DESC:
			f->desc(d, &in);
			d->avail_hint = -1;
			break;
		case FZ_DQ_REINIT:
			/* The same configuration maps the same rings again. */
			FZ_CHECK(devq_init(d) == 0);
			devq_after_reset(d);
			devq_check_reset_state(d);
			break;
		case FZ_DQ_DRV_EVENT:
			f->event(d, &in);
			break;
		default:
			break;
		}
		devq_check_broken(d);
		FZ_CHECK(!mem.map_allowed);
	}
	/* The device half never wrote driver memory it does not own. */
	fz_mem_check_unchanged(&mem, d->wr, d->nwr, ~0u);
out:
	devq_forget_held(d);
	free(d->qmem);
	fz_mem_free(&mem);
	return 0;
}
