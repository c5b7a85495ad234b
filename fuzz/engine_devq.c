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

/* The ring state did not move (position, wraps and chains in flight). */
static void devq_check_state_unchanged(const struct fz_devq *d, const struct vio_ring_state *before)
{
	struct vio_ring_state after;
	devq_state(d, &after);
	FZ_CHECK(state_eq(before, &after) && after.inflight == before->inflight);
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

static unsigned seg_releases(const struct vio_chain *c)
{
	unsigned n = 0;
	for (unsigned i = 0; i < c->nseg; i++)
		n += c->segs[i].release;
	return n;
}

static void held_free(struct fz_held *h)
{
	free(h->c.segs);
	free(h->copy);
	h->c.segs = NULL;
	h->copy = NULL;
}

/* Drop held chain @i: its mappings are released exactly then (devq.h). */
static void devq_drop_one(struct fz_devq *d, unsigned i)
{
	struct fz_held *h = &d->held[i];
	unsigned nrel = seg_releases(&h->c), live = d->m->live;
	FZ_CHECK(live >= nrel);
	int rc = vio_devq_drop(d->q, &h->c);
	FZ_CHECK(rc == 0);
	FZ_CHECK(d->m->live == live - nrel);
	d->gone = h->c;
	d->have_gone = true;
}

/* Give up every held chain (before a reset takes effect, after it, at the
 * end): each is dropped once and its mappings released. */
static void devq_drop_all(struct fz_devq *d)
{
	for (unsigned i = 0; i < d->nheld; i++) {
		devq_drop_one(d, i);
		held_free(&d->held[i]);
	}
	d->nheld = 0;
}

static void devq_after_reset(struct fz_devq *d)
{
	d->reason = 0;
	devq_drop_all(d);
	/* A stale record may be dropped once only (devq.h): forget it. */
	d->have_gone = false;
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
	d->gone = d->held[i].c;
	d->have_gone = true;
	held_free(&d->held[i]);
	memmove(&d->held[i], &d->held[i + 1], (d->nheld - i - 1) * sizeof(d->held[0]));
	d->nheld--;
}

/* A direct (not released) segment: in one entry of the installed table, or
 * exactly a range the map callback granted during this call. */
static bool seg_served(const struct fz_devq *d, const struct vio_chain_seg *s, unsigned want)
{
	const struct vio_mem_region *t = d->table[d->cur];
	for (uint32_t i = 0; i < d->ntable; i++) {
		uint64_t off = s->addr - t[i].guest_addr;
		if (s->addr >= t[i].guest_addr && off < t[i].size && s->len <= t[i].size - off &&
		    (want & ~t[i].access) == 0 && (unsigned char *)t[i].host + off == s->ptr)
			return true;
	}
	const struct fz_mem *m = d->m;
	if (m->grants_overflow)
		return true;
	for (unsigned g = 0; g < m->ngrants; g++) {
		const struct fz_grant *gr = &m->grants[g];
		if (!gr->release && gr->ptr == s->ptr && gr->addr == s->addr && gr->len == s->len &&
		    gr->dir == want)
			return true;
	}
	return false;
}

/* After a successful pop / repop: shape, provenance of every segment, the
 * mappings it holds, and its segments against the ring's descriptors. */
static void check_taken(struct fz_devq *d, const struct vio_chain *c, uint16_t max,
			unsigned live_before, int expect_head, const struct vio_packed_desc *copy)
{
	fz_check_chain(d->m, c, c->segs, max, d->size);
	FZ_CHECK(c->gen != 0);
	if (expect_head >= 0)
		FZ_CHECK(c->head == (uint16_t)expect_head);
	if (d->f->format == VIO_RING_SPLIT)
		FZ_CHECK(c->id == c->head);
	bool trunc = (c->flags & VIO_CHAIN_TRUNCATED) != 0;
	if (trunc)
		FZ_CHECK(d->cfg.take_long_chains && c->nseg == max);

	unsigned nrel = 0;
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct vio_chain_seg *s = &c->segs[i];
		unsigned want = s->write ? VIO_MAP_WRITE : VIO_MAP_READ;
		if (s->len == 0) {
			FZ_CHECK(!s->release);
			continue;
		}
		if (s->release) {
			/* A live mapping made for exactly this segment. */
			FZ_CHECK(c->flags & VIO_CHAIN_MAPPED);
			FZ_CHECK(fz_mem_find_map(d->m, s->ptr, s->addr, s->len, want) != NULL);
			nrel++;
			continue;
		}
		/* Guest address and host pointer agree, inside one region that
		 * allows the access. */
		FZ_CHECK(fz_mem_host(d->m, s->addr, s->len) == s->ptr);
		const struct fz_region *r = fz_mem_find(d->m, s->addr, s->len);
		FZ_CHECK(r != NULL && (r->dirs & want) != 0);
		FZ_CHECK(seg_served(d, s, want));
	}
	/* Mappings made for segments not returned (indirect tables, a
	 * truncated chain's middle) are already released. */
	FZ_CHECK(d->m->live == live_before + nrel);

	static struct fz_desc ds[FZ_DEVQ_MAX_SIZE];
	int n;
	if (copy == NULL) {
		n = d->f->chain_descs(d, c, ds, FZ_DEVQ_MAX_SIZE);
	} else {
		/* Re-submitted from a copy: the copy says what it holds. */
		n = c->ndesc;
		for (int k = 0; k < n; k++) {
			ds[k].addr = vio_le64_get(copy[k].addr);
			ds[k].len = vio_le32_get(copy[k].len);
			ds[k].flags = vio_le16_get(copy[k].flags);
			if (ds[k].flags & VIO_DESC_F_INDIRECT)
				n = -1;
		}
	}
	if (n < 0)
		return;
	FZ_CHECK((unsigned)n == c->ndesc);
	uint64_t out = 0, in = 0;
	for (int k = 0; k < n; k++) {
		if (ds[k].flags & VIO_DESC_F_WRITE)
			in += ds[k].len;
		else
			out += ds[k].len;
	}
	/* Whole-chain totals, truncated or not. */
	FZ_CHECK(out == c->out_bytes && in == c->in_bytes);
	/* Each descriptor is one or more segments, adjacent in guest address
	 * space, adding up to its length (a truncated chain: its first
	 * max - 1 segments this way, then the chain's last one). */
	unsigned limit = trunc ? c->nseg - 1u : c->nseg, si = 0;
	int k = 0;
	for (; k < n && si < limit; k++) {
		bool w = (ds[k].flags & VIO_DESC_F_WRITE) != 0;
		uint64_t pos = 0;
		do {
			if (si == limit)
				break;
			const struct vio_chain_seg *s = &c->segs[si++];
			FZ_CHECK(s->write == w);
			FZ_CHECK(s->addr == ds[k].addr + pos);
			FZ_CHECK(s->len != 0 || ds[k].len == 0);
			pos += s->len;
			FZ_CHECK(pos <= ds[k].len);
		} while (pos < ds[k].len);
	}
	if (!trunc) {
		FZ_CHECK(k == n && si == c->nseg);
	} else {
		const struct vio_chain_seg *s = &c->segs[c->nseg - 1u];
		const struct fz_desc *l = &ds[n - 1];
		FZ_CHECK(s->write == ((l->flags & VIO_DESC_F_WRITE) != 0));
		FZ_CHECK(s->addr + s->len == l->addr + l->len);
		FZ_CHECK(s->len <= l->len);
	}
}

enum take_kind {
	TAKE_POP,
	TAKE_REPOP,
	TAKE_REPOP_PACKED
};

/* A call that maps (pop, repop): when the map callback said "not now" the
 * call says so, takes nothing, keeps the position and is not broken; it is
 * retried (the callback grants on retries) until it answers otherwise. */
static int take_call(struct fz_devq *d, enum take_kind kind, uint16_t head,
		     const struct vio_packed_desc *copy, uint16_t ncopy, struct vio_chain *c,
		     struct vio_chain_seg *segs, uint16_t max)
{
	for (unsigned attempt = 0;; attempt++) {
		struct vio_ring_state before, after;
		devq_state(d, &before);
		unsigned long agains = d->m->agains;
		unsigned live = d->m->live;
		int rc;
		fz_mem_grants_begin(d->m);
		d->m->no_again = attempt > 0;
		if (kind == TAKE_POP)
			rc = vio_devq_pop(d->q, c, segs, max);
		else if (kind == TAKE_REPOP)
			rc = vio_devq_repop(d->q, head, c, segs, max);
		else
			rc = vio_devq_repop_packed(d->q, copy, ncopy, c, segs, max);
		d->m->no_again = false;
		fz_mem_grants_end(d->m);
		if (d->m->agains == agains) {
			FZ_CHECK(rc != -VIO_EMAP_AGAIN);
			return rc;
		}
		/* mem.h: -VIO_EMAP_AGAIN from the callback fails the call with
		 * it; nothing taken, every mapping made so far released. */
		if (fz_trace())
			fprintf(stderr, "  map said again -> rc %d\n", rc);
		FZ_CHECK(rc == -VIO_EMAP_AGAIN);
		FZ_CHECK(d->m->live == live);
		devq_state(d, &after);
		FZ_CHECK(state_eq(&before, &after) && after.inflight == before.inflight);
		FZ_CHECK(vio_devq_broken_reason(d->q) == d->reason);
	}
}

/* Keep a popped chain (with a copy of its packed descriptors). */
static void devq_hold(struct fz_devq *d, const struct vio_chain *c, uint16_t max,
		      struct vio_packed_desc *copy)
{
	if (d->nheld == FZ_MAX_ACTIONS) {
		/* No room to keep it: give it up right away. */
		unsigned nrel = seg_releases(c), live = d->m->live;
		FZ_CHECK(vio_devq_drop(d->q, c) == 0);
		FZ_CHECK(d->m->live == live - nrel);
		d->gone = *c;
		d->have_gone = true;
		free(c->segs);
		free(copy);
		return;
	}
	d->held[d->nheld++] = (struct fz_held){*c, copy, max};
}

static struct vio_packed_desc *packed_copy(struct fz_devq *d, const struct vio_chain *c)
{
	if (d->f->format != VIO_RING_PACKED)
		return NULL;
	struct vio_packed_desc *cp = malloc(c->ndesc * sizeof(*cp));
	FZ_CHECK(cp != NULL);
	uint16_t slot = c->head;
	for (unsigned k = 0; k < c->ndesc; k++) {
		const unsigned char *p = fz_devq_host(d, d->cfg.desc_addr + 16u * slot, 16);
		if (p == NULL) {
			free(cp);
			return NULL;
		}
		memcpy(&cp[k], p, 16);
		slot = (uint16_t)(slot + 1u == d->size ? 0 : slot + 1u);
	}
	return cp;
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
	unsigned live = d->m->live;
	/* The chain the pop must take: split, the head in the available ring
	 * at our position; packed, the slot at our position. */
	int expect_head = -1;
	if (d->f->format == VIO_RING_PACKED) {
		expect_head = before.avail_idx;
	} else {
		const unsigned char *e = fz_devq_host(
			d, d->cfg.driver_addr + 4u + 2u * (before.avail_idx & (d->size - 1u)), 2);
		if (e != NULL)
			expect_head = e[0] | e[1] << 8;
	}

	int rc = take_call(d, TAKE_POP, 0, NULL, 0, &c, segs, max);
	devq_state(d, &after);
	if (fz_trace())
		fprintf(stderr, "  pop max %u -> rc %d nseg %u ndesc %u id %u flags %u\n", max, rc,
			rc == 0 ? c.nseg : 0, rc == 0 ? c.ndesc : 0, rc == 0 ? c.id : 0,
			rc == 0 ? c.flags : 0);

	FZ_CHECK(fz_pop_rc_ok(rc));
	if (d->reason != 0)
		FZ_CHECK(rc == -VIO_EBROKEN);
	else
		FZ_CHECK(rc != -VIO_EBROKEN);
	if (d->reason == 0 && d->avail_hint >= 0)
		FZ_CHECK((rc == -VIO_EAGAIN) == (d->avail_hint == 0));
	if (rc == -VIO_EAGAIN || rc == -VIO_EBROKEN)
		FZ_CHECK(d->m->map_calls == calls);
	/* devq.h: with take_long_chains any chain fits a non-empty array;
	 * without splits across regions the queue size always suffices. */
	if (rc == -VIO_ENOSPC) {
		FZ_CHECK(!d->cfg.take_long_chains || max == 0);
		if (!d->splits)
			FZ_CHECK(max < d->size);
	}

	if (rc == 0) {
		check_taken(d, &c, max, live, expect_head, NULL);
		if (d->f->format == VIO_RING_SPLIT) {
			FZ_CHECK(after.avail_idx == (uint16_t)(before.avail_idx + 1u));
		} else {
			uint16_t slot = before.avail_idx;
			bool wrap = before.avail_wrap;
			fz_packed_advance(&slot, &wrap, c.ndesc, d->size);
			FZ_CHECK(after.avail_idx == slot && after.avail_wrap == wrap);
			/* A packed buffer id is never handed out twice at once. */
			for (unsigned i = 0; i < d->nheld; i++)
				FZ_CHECK(d->held[i].c.id != c.id);
		}
		FZ_CHECK(after.used_idx == before.used_idx && after.used_wrap == before.used_wrap);
		FZ_CHECK(after.inflight == (uint16_t)(before.inflight + 1u));
		devq_hold(d, &c, max, packed_copy(d, &c));
		segs = NULL; /* owned by the held chain until pushed or dropped */
	} else {
		/* Nothing consumed on any failure; nothing left mapped. */
		FZ_CHECK(state_eq(&before, &after));
		FZ_CHECK(d->m->live == live);
		devq_latch(d, rc);
	}
	free(segs);
	d->avail_hint = -1;
}

/* FZ_DQ_POP2: vio_devq_pop_batch() with room for two chains (the same
 * selector byte as FZ_DQ_POP). It is vio_devq_pop() called twice, stopping
 * at the first failure: the first chain (or the failure) is checked as a
 * pop; a second chain as a pop made right after it; a failure of the second
 * call is not returned, so it must have left everything as the first chain
 * did (a peer error having broken the queue). */
static void devq_pop_batch(struct fz_devq *d, struct fz_in *in)
{
	uint8_t sel = fz_u8(in);
	uint16_t max = (sel & 0x80) ? (uint16_t)(sel & 0x7f) : d->size;
	struct vio_chain_seg *segs = malloc(max != 0 ? 2u * max * sizeof(*segs) : 1);
	FZ_CHECK(segs != NULL);
	struct vio_chain c[2];
	struct vio_ring_state before, mid, after;
	devq_state(d, &before);
	unsigned long calls = d->m->map_calls;
	unsigned live = d->m->live;
	int reason_before = vio_devq_broken_reason(d->q);
	int expect_head = -1;
	if (d->f->format == VIO_RING_PACKED) {
		expect_head = before.avail_idx;
	} else {
		const unsigned char *e = fz_devq_host(
			d, d->cfg.driver_addr + 4u + 2u * (before.avail_idx & (d->size - 1u)), 2);
		if (e != NULL)
			expect_head = e[0] | e[1] << 8;
	}

	int rc;
	for (unsigned attempt = 0;; attempt++) {
		unsigned long agains = d->m->agains;
		fz_mem_grants_begin(d->m);
		d->m->no_again = attempt > 0;
		rc = vio_devq_pop_batch(d->q, c, segs, max, 2);
		d->m->no_again = false;
		fz_mem_grants_end(d->m);
		/* A "not now" from the map callback for the first chain fails
		 * the call with nothing taken (as take_call() checks); for the
		 * second it only ends the batch. */
		if (rc != -VIO_EMAP_AGAIN) {
			FZ_CHECK(rc > 0 || d->m->agains == agains);
			break;
		}
		FZ_CHECK(d->m->agains != agains);
		FZ_CHECK(d->m->live == live);
		devq_state(d, &after);
		FZ_CHECK(state_eq(&before, &after) && after.inflight == before.inflight);
	}
	devq_state(d, &after);
	if (fz_trace())
		fprintf(stderr, "  pop_batch max %u -> rc %d\n", max, rc);
	FZ_CHECK(rc <= 2 && (rc > 0 || fz_pop_rc_ok(rc)));
	if (d->reason != 0)
		FZ_CHECK(rc == -VIO_EBROKEN);
	else
		FZ_CHECK(rc != -VIO_EBROKEN);
	if (rc <= 0) {
		if (rc == -VIO_EAGAIN || rc == -VIO_EBROKEN)
			FZ_CHECK(d->m->map_calls == calls);
		if (rc == -VIO_ENOSPC) {
			FZ_CHECK(!d->cfg.take_long_chains || max == 0);
			if (!d->splits)
				FZ_CHECK(max < d->size);
		}
		FZ_CHECK(state_eq(&before, &after));
		FZ_CHECK(d->m->live == live);
		devq_latch(d, rc);
		free(segs);
		d->avail_hint = -1;
		return;
	}
	/* The second chain's segments in an array of their own (it may be
	 * held longer than the first). */
	if (rc == 2) {
		struct vio_chain_seg *s2 = malloc(max * sizeof(*s2));
		FZ_CHECK(s2 != NULL);
		memcpy(s2, segs + max, max * sizeof(*s2));
		c[1].segs = s2;
	}
	unsigned rel2 = rc == 2 ? seg_releases(&c[1]) : 0;
	/* Where the first chain alone leaves the queue. */
	mid = before;
	if (d->f->format == VIO_RING_SPLIT) {
		mid.avail_idx = (uint16_t)(before.avail_idx + 1u);
	} else {
		fz_packed_advance(&mid.avail_idx, &mid.avail_wrap, c[0].ndesc, d->size);
		for (unsigned i = 0; i < d->nheld; i++)
			FZ_CHECK(d->held[i].c.id != c[0].id);
	}
	mid.inflight = (uint16_t)(before.inflight + 1u);
	check_taken(d, &c[0], max, live + rel2, expect_head, NULL);
	if (rc == 1) {
		/* The second call failed: nothing consumed, nothing left
		 * mapped; a peer error broke the queue. */
		FZ_CHECK(state_eq(&mid, &after) && after.inflight == mid.inflight);
		int reason = vio_devq_broken_reason(d->q);
		if (reason != reason_before)
			devq_latch(d, reason);
	} else {
		int head2 = -1;
		if (d->f->format == VIO_RING_PACKED) {
			head2 = mid.avail_idx;
		} else {
			const unsigned char *e = fz_devq_host(
				d, d->cfg.driver_addr + 4u + 2u * (mid.avail_idx & (d->size - 1u)),
				2);
			if (e != NULL)
				head2 = e[0] | e[1] << 8;
		}
		check_taken(d, &c[1], max, live + seg_releases(&c[0]), head2, NULL);
		if (d->f->format == VIO_RING_SPLIT) {
			FZ_CHECK(after.avail_idx == (uint16_t)(mid.avail_idx + 1u));
		} else {
			uint16_t slot = mid.avail_idx;
			bool wrap = mid.avail_wrap;
			fz_packed_advance(&slot, &wrap, c[1].ndesc, d->size);
			FZ_CHECK(after.avail_idx == slot && after.avail_wrap == wrap);
			FZ_CHECK(c[1].id != c[0].id);
			for (unsigned i = 0; i < d->nheld; i++)
				FZ_CHECK(d->held[i].c.id != c[1].id);
		}
		FZ_CHECK(after.inflight == (uint16_t)(mid.inflight + 1u));
	}
	FZ_CHECK(after.used_idx == before.used_idx && after.used_wrap == before.used_wrap);
	devq_hold(d, &c[0], max, packed_copy(d, &c[0]));
	if (rc == 2)
		devq_hold(d, &c[1], max, packed_copy(d, &c[1]));
	d->avail_hint = -1;
}

/* The device model writes @w bytes into the writable part of @c (as far as
 * its segment array reaches) before completing it. */
static void model_write(struct fz_devq *d, const struct vio_chain *c, uint32_t w)
{
	static unsigned char pat[256];
	uint64_t room = 0;
	for (unsigned i = c->nout; i < c->nseg; i++)
		room += c->segs[i].len;
	uint64_t want = w < room ? w : room, done = 0;
	while (done < want) {
		size_t n = want - done < sizeof(pat) ? (size_t)(want - done) : sizeof(pat);
		for (size_t b = 0; b < n; b++)
			pat[b] = (unsigned char)(0xa5u ^ (done + b) ^ c->id);
		FZ_CHECK(vio_chain_write(c, (size_t)done, pat, n) == n);
		done += n;
	}
	/* Past the end of the part nothing is written. */
	FZ_CHECK(vio_chain_write(c, (size_t)room, pat, 1) == 0);
	uint64_t left = want;
	for (unsigned i = c->nout; i < c->nseg && left != 0; i++) {
		uint64_t n = c->segs[i].len < left ? c->segs[i].len : left;
		if (n != 0)
			fz_mem_mark_devw(d->m, c->segs[i].addr, n);
		left -= n;
	}
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
	struct vio_chain c = d->held[i].c;
	uint32_t w = written_len(in, mode, c.in_bytes);
	bool ok = d->reason == 0 && w <= c.in_bytes;
	unsigned nrel = seg_releases(&c), live = d->m->live;
	if (ok)
		model_write(d, &c, w);
	int rc = vio_devq_push(d->q, &c, w);
	if (d->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		FZ_CHECK(d->m->live == live);
		return;
	}
	/* devq.h: no more than the chain offered; a refusal changes nothing. */
	FZ_CHECK(rc == (ok ? 0 : -VIO_EINVAL));
	if (rc != 0) {
		devq_check_state_unchanged(d, &before);
		FZ_CHECK(d->m->live == live);
		return;
	}
	/* Its mappings were released by the push. */
	FZ_CHECK(d->m->live == live - nrel);
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
	unsigned k = 0, slots = 0, nrel = 0, live = d->m->live;
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
		used[k].chain = &d->held[i].c;
		used[k].len = written_len(in, mode, d->held[i].c.in_bytes);
		over = over || used[k].len > d->held[i].c.in_bytes;
		slots += d->held[i].c.ndesc;
		nrel += seg_releases(&d->held[i].c);
		k++;
	}
	bool can = !in_order || (d->feat & FZ_FEAT_IN_ORDER);
	/* The device never holds two chains with one id (split heads too), so
	 * any batch fits; a length above what a chain offered is refused. */
	bool fits = !over;
	if (can && d->reason == 0 && fits)
		for (unsigned j = 0; j < k; j++)
			model_write(d, used[j].chain, used[j].len);
	int rc = in_order ? vio_devq_push_in_order(d->q, used, k)
			  : vio_devq_push_batch(d->q, used, k);
	if (k == 0) {
		/* An empty batch is a no-op, whatever the queue (devq.h). */
		FZ_CHECK(rc == 0);
		devq_check_state_unchanged(d, &before);
		FZ_CHECK(d->m->live == live);
		return;
	}
	if (!can) {
		FZ_CHECK(rc == -VIO_EINVAL);
		FZ_CHECK(d->m->live == live);
		return;
	}
	if (d->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		FZ_CHECK(d->m->live == live);
		return;
	}
	FZ_CHECK(rc == (fits ? 0 : -VIO_EINVAL));
	if (rc != 0) {
		devq_check_state_unchanged(d, &before);
		FZ_CHECK(d->m->live == live);
		return;
	}
	FZ_CHECK(d->m->live == live - nrel);
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

/* FZ_DQ_PUSH_CHAINS: vio_devq_push_chains() on copies of held chains in
 * one array, as vio_devq_pop_batch() fills it, and a length each. Mode
 * bits 0-1: the lengths (as PUSH); bit6: the array names one chain twice
 * (the batch is refused); bit7: NULL lengths (refused). A refused batch
 * changes nothing; an empty one is a no-op. */
static void devq_push_chains(struct fz_devq *d, struct fz_in *in)
{
	unsigned n = 1u + fz_u8(in) % 8u;
	uint8_t mode = fz_u8(in);
	struct vio_chain ch[9];
	uint32_t lens[9];
	unsigned pick[9];
	bool taken[FZ_MAX_ACTIONS] = {false};
	unsigned k = 0, slots = 0, nrel = 0, live = d->m->live;
	bool over = false;
	struct vio_ring_state before;
	devq_state(d, &before);

	for (unsigned j = 0; j < n; j++) {
		uint8_t which = fz_u8(in);
		if (k >= d->nheld)
			continue;
		/* The (which % free)-th chain not taken yet. */
		unsigned want = which % (d->nheld - k), i = 0;
		for (;; i++) {
			if (taken[i])
				continue;
			if (want-- == 0)
				break;
		}
		taken[i] = true;
		pick[k] = i;
		ch[k] = d->held[i].c;
		lens[k] = written_len(in, mode, ch[k].in_bytes);
		over = over || lens[k] > ch[k].in_bytes;
		slots += ch[k].ndesc;
		nrel += seg_releases(&ch[k]);
		k++;
	}
	unsigned named = k;
	bool twice = (mode & 0x40) != 0 && k != 0;
	if (twice) {
		ch[k] = ch[(mode >> 2) % k];
		lens[k] = 0;
		k++;
	}
	bool nolens = (mode & 0x80) != 0;
	bool fits = !over && !twice && !nolens;
	if (d->reason == 0 && fits)
		for (unsigned j = 0; j < k; j++)
			model_write(d, &ch[j], lens[j]);
	int rc = vio_devq_push_chains(d->q, k != 0 ? ch : NULL, nolens ? NULL : lens, k);
	if (fz_trace())
		fprintf(stderr, "  push_chains %u mode %#x -> rc %d\n", k, mode, rc);
	if (k == 0) {
		/* An empty batch is a no-op, whatever the queue (devq.h). */
		FZ_CHECK(rc == 0);
		devq_check_state_unchanged(d, &before);
		FZ_CHECK(d->m->live == live);
		return;
	}
	if (d->reason != 0) {
		FZ_CHECK(rc == -VIO_EBROKEN);
		FZ_CHECK(d->m->live == live);
		return;
	}
	FZ_CHECK(rc == (fits ? 0 : -VIO_EINVAL));
	if (rc != 0) {
		devq_check_state_unchanged(d, &before);
		FZ_CHECK(d->m->live == live);
		devq_check_broken(d);
		return;
	}
	FZ_CHECK(d->m->live == live - nrel);
	check_used_advance(d, &before, named, slots);
	/* Remove the picked ones, highest index first. */
	for (unsigned a = 0; a < named; a++)
		for (unsigned b = a + 1; b < named; b++)
			if (pick[b] > pick[a]) {
				unsigned t = pick[a];
				pick[a] = pick[b];
				pick[b] = t;
			}
	for (unsigned a = 0; a < named; a++)
		devq_remove_held(d, pick[a]);
}

/* Embedder mistakes are refused with -VIO_EINVAL and change nothing
 * (devq.h): a length above in_bytes, a record already pushed or dropped,
 * one chain twice in a batch. An empty batch is a no-op. */
static void devq_push_misuse(struct fz_devq *d, struct fz_in *in)
{
	uint8_t which = fz_u8(in), kind = fz_u8(in) % 4u, extra = fz_u8(in);
	struct vio_ring_state before;
	devq_state(d, &before);
	unsigned live = d->m->live;
	int rc;
	switch (kind) {
	case 0: {
		if (d->nheld == 0)
			return;
		const struct vio_chain *c = &d->held[which % d->nheld].c;
		if (c->in_bytes == UINT32_MAX)
			return;
		uint32_t w = c->in_bytes + 1u + extra;
		if (w <= c->in_bytes)
			w = UINT32_MAX;
		rc = vio_devq_push(d->q, c, w);
		break;
	}
	case 1:
		/* Only while no held chain has its id: the library cannot tell
		 * two records of one id and generation apart. */
		if (!d->have_gone)
			return;
		for (unsigned i = 0; i < d->nheld; i++)
			if (d->held[i].c.id == d->gone.id)
				return;
		rc = (extra & 1) ? vio_devq_drop(d->q, &d->gone) : vio_devq_push(d->q, &d->gone, 0);
		if (extra & 1) {
			/* Drop refuses it, even on a broken queue (gone is
			 * never stale: forgotten at every new generation). */
			FZ_CHECK(rc == -VIO_EINVAL);
			devq_check_state_unchanged(d, &before);
			FZ_CHECK(d->m->live == live);
			return;
		}
		break;
	case 2: {
		if (d->nheld == 0)
			return;
		struct vio_used u[2];
		u[0].chain = u[1].chain = &d->held[which % d->nheld].c;
		u[0].len = u[1].len = 0;
		bool io = (extra & 1) != 0;
		rc = io ? vio_devq_push_in_order(d->q, u, 2) : vio_devq_push_batch(d->q, u, 2);
		if (io && !(d->feat & FZ_FEAT_IN_ORDER)) {
			FZ_CHECK(rc == -VIO_EINVAL);
			rc = d->reason != 0 ? -VIO_EBROKEN : rc;
		}
		break;
	}
	default:
		/* An empty batch is a no-op, whatever the queue (devq.h). */
		rc = (extra & 1) ? vio_devq_push_in_order(d->q, NULL, 0)
				 : vio_devq_push_batch(d->q, NULL, 0);
		FZ_CHECK(rc == 0);
		rc = vio_devq_push_chains(d->q, NULL, NULL, 0);
		FZ_CHECK(rc == 0);
		FZ_CHECK(vio_devq_pop_batch(d->q, NULL, NULL, 0, 0) == 0);
		devq_check_state_unchanged(d, &before);
		FZ_CHECK(d->m->live == live);
		return;
	}
	if (fz_trace())
		fprintf(stderr, "  push misuse %u -> rc %d\n", kind, rc);
	FZ_CHECK(rc == (d->reason != 0 ? -VIO_EBROKEN : -VIO_EINVAL));
	devq_check_state_unchanged(d, &before);
	FZ_CHECK(d->m->live == live);
	devq_check_broken(d);
}

static void devq_drop(struct fz_devq *d, struct fz_in *in)
{
	uint8_t which = fz_u8(in), twice = fz_u8(in);
	if (d->nheld == 0)
		return;
	unsigned i = which % d->nheld;
	struct vio_ring_state before;
	devq_state(d, &before);
	devq_drop_one(d, i);
	/* Still in flight for the ring; no longer pushable. */
	devq_check_state_unchanged(d, &before);
	if (twice & 1) {
		unsigned live = d->m->live;
		FZ_CHECK(vio_devq_drop(d->q, &d->held[i].c) == -VIO_EINVAL);
		FZ_CHECK(vio_devq_push(d->q, &d->held[i].c, 0) ==
			 (d->reason != 0 ? -VIO_EBROKEN : -VIO_EINVAL));
		FZ_CHECK(d->m->live == live);
	}
	held_free(&d->held[i]);
	memmove(&d->held[i], &d->held[i + 1], (d->nheld - i - 1) * sizeof(d->held[0]));
	d->nheld--;
}

static void devq_fail(struct fz_devq *d, struct fz_in *in)
{
	static const int reasons[] = {-VIO_EREQUEST, 0, 7, -VIO_EINVAL, -VIO_EDESC_LOOP};
	int r = reasons[fz_u8(in) % 5u];
	int expect = d->reason != 0 ? d->reason : (r < 0 ? r : -VIO_EREQUEST);
	int rc = vio_devq_fail(d->q, r);
	/* The first reason wins; anything not negative is -VIO_EREQUEST. */
	FZ_CHECK(rc == expect);
	d->reason = expect;
	d->avail_hint = -1;
}

/* The model writes into a held chain's writable segment and reports it. */
static void devq_log_write(struct fz_devq *d, struct fz_in *in)
{
	uint8_t which = fz_u8(in), sel = fz_u8(in);
	uint16_t off = fz_u16(in);
	uint8_t len = fz_u8(in);
	if (d->nheld == 0) {
		vio_devq_log_write(d->q, d->cfg.device_addr, 0); /* nothing */
		return;
	}
	const struct vio_chain *c = &d->held[which % d->nheld].c;
	unsigned nw = 0;
	for (unsigned i = c->nout; i < c->nseg; i++)
		nw += c->segs[i].len != 0;
	if (nw == 0)
		return;
	unsigned want = sel % nw, i = c->nout;
	for (;; i++)
		if (c->segs[i].len != 0 && want-- == 0)
			break;
	const struct vio_chain_seg *s = &c->segs[i];
	uint32_t o = off % s->len, n = 1u + len;
	if (n > s->len - o)
		n = s->len - o;
	unsigned char *p = s->ptr;
	for (uint32_t b = 0; b < n; b++)
		p[o + b] = (unsigned char)(p[o + b] + 1u + b);
	fz_mem_mark_devw(d->m, s->addr + o, n);
	vio_devq_log_write(d->q, s->addr + o, n);
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
	size_t o = off % r->len;
	if (k > r->len - o)
		k = (unsigned)(r->len - o);
	fz_devq_poke(d, r->addr + o, buf, k);
}

/* Calls that map ring parts (init, set_mem_table): "not now" from the map
 * callback makes them fail with -VIO_EMAP_AGAIN, leaving nothing mapped;
 * retried until they answer otherwise. */
static int devq_ring_call(struct fz_devq *d, bool init, const struct vio_mem_region *t, uint32_t n)
{
	for (unsigned attempt = 0;; attempt++) {
		unsigned long agains = d->m->agains;
		unsigned live = d->m->live;
		fz_mem_grants_begin(d->m);
		d->m->no_again = attempt > 0;
		d->m->ring_phase = true;
		int rc = init ? vio_devq_init(&d->q, d->qmem, d->qmem_size, &d->cfg)
			      : vio_devq_set_mem_table(d->q, t, n);
		d->m->ring_phase = false;
		d->m->no_again = false;
		fz_mem_grants_end(d->m);
		if (d->m->agains == agains) {
			FZ_CHECK(rc != -VIO_EMAP_AGAIN);
			return rc;
		}
		FZ_CHECK(rc == -VIO_EMAP_AGAIN);
		FZ_CHECK(d->m->live == live);
	}
}

static uint32_t rng_next(uint32_t *x)
{
	uint32_t v = *x != 0 ? *x : 0x6d2b79f5u;
	v ^= v << 13;
	v ^= v >> 17;
	v ^= v << 5;
	return *x = v;
}

unsigned fz_devq_cut(uint32_t *rng, size_t len, size_t piece[FZ_DEVQ_MAX_PIECES])
{
	unsigned want = 2u + rng_next(rng) % (FZ_DEVQ_MAX_PIECES - 1u);
	if (want > len)
		want = (unsigned)len;
	/* Distinct cut points in (0, len), ascending. */
	size_t cut[FZ_DEVQ_MAX_PIECES];
	unsigned nc = 0;
	for (unsigned t = 0; t < 4u * want && nc + 1u < want; t++) {
		size_t c = 1u + rng_next(rng) % (len - 1u);
		bool dup = false;
		for (unsigned j = 0; j < nc; j++)
			dup = dup || cut[j] == c;
		if (!dup)
			cut[nc++] = c;
	}
	for (unsigned a = 0; a < nc; a++)
		for (unsigned b = a + 1; b < nc; b++)
			if (cut[b] < cut[a]) {
				size_t t = cut[a];
				cut[a] = cut[b];
				cut[b] = t;
			}
	size_t prev = 0;
	for (unsigned j = 0; j < nc; j++) {
		piece[j] = cut[j] - prev;
		prev = cut[j];
	}
	piece[nc] = len - prev;
	return nc + 1u;
}

/* A region table over the guarded regions, into table[@slot]: every region
 * (layout TABLE) or a random part of them (MIXED), each entry a whole
 * region or (not for ring parts) one cut in two at a random point. */
static uint32_t build_table(struct fz_devq *d, unsigned slot)
{
	unsigned layout = d->mmode & FZ_MM_LAYOUT;
	struct vio_mem_region *t = d->table[slot];
	uint32_t n = 0;
	if (layout == FZ_LAYOUT_CALLBACK)
		return 0;
	for (unsigned i = 0; i < d->m->n && n + 2u <= FZ_DEVQ_MAX_TABLE; i++) {
		const struct fz_region *r = &d->m->r[i];
		if (r->host == NULL)
			continue;
		if (layout != FZ_LAYOUT_TABLE && fz_mem_rand(d->m) % 3u == 0)
			continue; /* left to the map callback */
		if (r->ring || r->len < 2 || (fz_mem_rand(d->m) & 1u)) {
			t[n++] = (struct vio_mem_region){r->addr, r->len, r->host, r->dirs};
			continue;
		}
		size_t c = 1u + fz_mem_rand(d->m) % (r->len - 1u);
		t[n++] = (struct vio_mem_region){r->addr, c, r->host, r->dirs};
		t[n++] = (struct vio_mem_region){r->addr + c, r->len - c, r->host + c, r->dirs};
	}
	return n;
}

/* Install a re-cut table (same memory, other boundaries): the ring parts
 * are re-mapped, position and chains in flight kept. */
static void devq_set_mem_table(struct fz_devq *d, struct fz_in *in)
{
	d->m->rng ^= fz_u8(in);
	unsigned slot = d->cur ^ 1u;
	uint32_t n = build_table(d, slot);
	struct vio_ring_state before, after;
	devq_state(d, &before);
	int rc = devq_ring_call(d, false, n != 0 ? d->table[slot] : NULL, n);
	devq_state(d, &after);
	if (fz_trace())
		fprintf(stderr, "  set_mem_table %u entries -> rc %d\n", n, rc);
	FZ_CHECK(state_eq(&before, &after) && after.inflight == before.inflight);
	devq_check_broken(d);
	if (rc != 0) {
		/* The rings did map before; with raw ring addresses a new cut
		 * may run through one. The old table stays. */
		FZ_CHECK(rc == -VIO_ERING_MAP && (d->feat & FZ_DEVQ_RAW_ADDRS));
		return;
	}
	d->cur = slot;
	d->ntable = n;
	d->cfg.regions = n != 0 ? d->table[slot] : NULL;
	d->cfg.nregions = n;
}

/* Save the state with chains held, drop them, restore, and re-submit them:
 * split by head, packed from the descriptors copied at pop. */
static void devq_save_repop(struct fz_devq *d, struct fz_in *in)
{
	uint8_t order = fz_u8(in);
	static struct fz_held saved[FZ_MAX_ACTIONS];
	unsigned ns = d->nheld;
	for (unsigned i = 0; i < ns; i++) {
		devq_drop_one(d, i);
		saved[i] = d->held[i];
		free(saved[i].c.segs);
		saved[i].c.segs = NULL;
	}
	d->nheld = 0;
	d->have_gone = false;

	struct vio_ring_state st, st2;
	devq_state(d, &st);
	FZ_CHECK(st.inflight >= ns);
	int rc = vio_devq_set_state(d->q, &st);
	if (rc != 0) {
		/* Split re-reads used->idx, which a hostile driver may have
		 * rewritten; packed refuses more in flight than the size
		 * (chains restored earlier and never re-submitted count). */
		FZ_CHECK(rc == -VIO_EINVAL);
		FZ_CHECK(d->f->format == VIO_RING_SPLIT || st.inflight > d->size);
		for (unsigned i = 0; i < ns; i++)
			free(saved[i].copy);
		return;
	}
	d->reason = 0;
	d->avail_hint = -1;
	devq_state(d, &st2);
	FZ_CHECK(st2.avail_idx == st.avail_idx);
	if (d->f->format == VIO_RING_PACKED)
		FZ_CHECK(state_eq(&st, &st2) && st2.inflight == st.inflight);
	unsigned left = st2.inflight;

	for (unsigned j = 0; j < ns; j++) {
		struct fz_held *h = &saved[(order & 1) ? ns - 1u - j : j];
		bool packed = d->f->format == VIO_RING_PACKED;
		if (packed && h->copy == NULL)
			continue;
		struct vio_chain_seg *segs = malloc(h->max * sizeof(*segs));
		FZ_CHECK(segs != NULL);
		struct vio_chain c;
		struct vio_ring_state b, a;
		devq_state(d, &b);
		unsigned live = d->m->live;
		rc = take_call(d, packed ? TAKE_REPOP_PACKED : TAKE_REPOP, h->c.id, h->copy,
			       h->c.ndesc, &c, segs, h->max);
		devq_state(d, &a);
		if (fz_trace())
			fprintf(stderr, "  repop id %u -> rc %d\n", h->c.id, rc);
		/* The ring position does not move. */
		FZ_CHECK(state_eq(&b, &a));
		if (d->reason != 0) {
			FZ_CHECK(rc == -VIO_EBROKEN);
		} else if (left == 0) {
			FZ_CHECK(rc == -VIO_EINVAL);
		} else {
			FZ_CHECK(rc == 0 || rc == -VIO_ENOSPC || fz_pop_rc_ok(rc));
			FZ_CHECK(rc != -VIO_EAGAIN && rc != -VIO_EBROKEN);
		}
		if (rc == 0) {
			check_taken(d, &c, h->max, live, packed ? 0 : h->c.id,
				    packed ? h->copy : NULL);
			/* Split reads the table again (the driver may have
			 * rewritten it); packed takes the copy as it was. */
			FZ_CHECK(c.id == h->c.id);
			if (packed)
				FZ_CHECK(c.ndesc == h->c.ndesc);
			/* The same descriptors (a copy) give the same totals,
			 * unless an indirect table in guest memory changed. */
			bool ind = false;
			for (unsigned k = 0; packed && k < h->c.ndesc; k++)
				ind = ind || (vio_le16_get(h->copy[k].flags) & VIO_DESC_F_INDIRECT);
			if (packed && !ind)
				FZ_CHECK(c.out_bytes == h->c.out_bytes &&
					 c.in_bytes == h->c.in_bytes);
			FZ_CHECK(a.inflight == b.inflight);
			left--;
			devq_hold(d, &c, h->max, h->copy);
			h->copy = NULL;
			segs = NULL;
		} else {
			FZ_CHECK(d->m->live == live);
			if (rc != -VIO_EINVAL && rc != -VIO_ENOSPC)
				devq_latch(d, rc);
		}
		free(segs);
		free(h->copy);
		h->copy = NULL;
	}
}

int fz_devq_run(const struct fz_devq_fmt *f, const uint8_t *data, size_t size)
{
	static struct fz_mem mem;
	static struct fz_devq dq;
	struct fz_devq *d = &dq;
	struct fz_in in;

	fz_in_init(&in, data, size);
	fz_mem_init(&mem);
	mem.track = true;
	d->f = f;
	d->m = &mem;
	d->feat = fz_u8(&in);
	d->size = f->size_from(fz_u16(&in));
	d->nextra = fz_u8(&in) % (FZ_DEVQ_MAX_EXTRA + 1u);
	d->reason = 0;
	d->avail_hint = -1;
	d->nheld = 0;
	d->have_gone = false;
	d->mmode = 0;
	uint32_t seed = 0;

	uint64_t addr[3];
	for (unsigned i = 0; i < 3; i++)
		addr[i] = FZ_REGION_BASE(i);
	if (d->feat & FZ_DEVQ_RAW_ADDRS)
		for (unsigned i = 0; i < 3; i++)
			addr[i] = fz_u64(&in);
	if (d->feat & FZ_DEVQ_MEMCFG) {
		d->mmode = fz_u8(&in);
		seed = fz_u32(&in);
	}
	unsigned layout = d->mmode & FZ_MM_LAYOUT;
	d->logging = !(d->mmode & FZ_MM_NOLOG) || layout == FZ_LAYOUT_TABLE;
	d->splits = (d->mmode & (FZ_MM_CUT | FZ_MM_PARTIAL)) != 0 || layout != FZ_LAYOUT_CALLBACK;
	uint32_t rng = seed;

	size_t rlen[3];
	f->ring_sizes(d->size, rlen);
	unsigned ring_dirs = (d->feat & FZ_DEVQ_RINGS_RO) ? VIO_MAP_READ : VIO_MAP_RW;
	for (unsigned i = 0; i < 3; i++) {
		unsigned ri = fz_mem_add_slot(&mem, 0, rlen[i], ring_dirs, true);
		mem.r[ri].ring = true;
	}
	uint8_t rflags[FZ_DEVQ_MAX_EXTRA];
	unsigned first[FZ_DEVQ_MAX_EXTRA], npieces[FZ_DEVQ_MAX_EXTRA];
	for (unsigned k = 0; k < d->nextra; k++) {
		rflags[k] = fz_u8(&in);
		size_t len = 1u + fz_u16(&in) % FZ_DEVQ_MAX_REGION;
		size_t off = fz_u16(&in);
		unsigned dirs = rflags[k] & FZ_RF_DIRS;
		size_t piece[FZ_DEVQ_MAX_PIECES] = {len};
		bool cut = (d->mmode & FZ_MM_CUT) && !(rflags[k] & FZ_RF_WHOLE);
		unsigned np = cut ? fz_devq_cut(&rng, len, piece) : 1u;
		/* Adjacent in guest address space, each its own heap block. */
		uint64_t a = FZ_REGION_BASE(3u + k) + off;
		first[k] = mem.n;
		npieces[k] = np;
		for (unsigned j = 0; j < np; j++) {
			fz_mem_add(&mem, a, piece[j], dirs != 0 ? dirs : VIO_MAP_RW, true);
			a += piece[j];
		}
	}
	for (unsigned i = 0; i < 3; i++)
		fz_mem_fill(&mem, i, &in);
	for (unsigned k = 0; k < d->nextra; k++)
		if (!(rflags[k] & FZ_RF_ZERO))
			for (unsigned j = 0; j < npieces[k]; j++)
				fz_mem_fill(&mem, first[k] + j, &in);

	mem.rng = rng;
	mem.map_flags = d->mmode & (FZ_MM_PARTIAL | FZ_MM_AGAIN | FZ_MM_RELEASE | FZ_MM_BOUNCE);
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
	d->cfg.take_long_chains = (d->feat & FZ_DEVQ_TAKE_LONG) != 0;
	d->cur = 0;
	d->ntable = build_table(d, 0);
	d->cfg.regions = d->ntable != 0 ? d->table[0] : NULL;
	d->cfg.nregions = d->ntable;
	if (layout == FZ_LAYOUT_TABLE)
		d->cfg.mem_ops = &fz_dev_ops_nomap;
	else
		d->cfg.mem_ops = d->logging ? &fz_dev_ops : &fz_dev_ops_nolog;
	d->cfg.mem_ctx = &mem;
	d->qmem_size = vio_devq_mem_size(f->format, d->size);
	FZ_CHECK(d->qmem_size != 0 && d->qmem_size <= VIO_DEVQ_MEM_SIZE(d->size));
	d->qmem = malloc(d->qmem_size);
	FZ_CHECK(d->qmem != NULL);
	d->nwr = f->writable(d, d->wr);

	int rc = devq_ring_call(d, true, NULL, 0);
	if (rc != 0) {
		/* Only the rings' placement can be wrong here. */
		FZ_CHECK(rc == -VIO_ERING_MAP || rc == -VIO_ERING_ALIGN);
		FZ_CHECK((d->feat & (FZ_DEVQ_RAW_ADDRS | FZ_DEVQ_RINGS_RO)) != 0);
		FZ_CHECK(mem.live == 0);
		fz_mem_check_unchanged(&mem, NULL, 0, ~0u);
		goto out;
	}
	devq_check_reset_state(d);

	for (unsigned n = 0; n < FZ_MAX_ACTIONS && !fz_in_done(&in); n++) {
		uint8_t op = fz_u8(&in) % FZ_DQ_NOPS;
		if (fz_trace())
			fprintf(stderr, "devq op %u: %u  (held %u reason %d live %u)\n", n, op,
				d->nheld, d->reason, mem.live);
		/* has_avail's answer is checked against a pop right after it. */
		if (op != FZ_DQ_POP && op != FZ_DQ_POP2)
			d->avail_hint = -1;
		switch (op) {
		case FZ_DQ_POP:
			devq_pop(d, &in);
			break;
		case FZ_DQ_POP2:
			devq_pop_batch(d, &in);
			break;
		case FZ_DQ_PUSH:
			devq_push(d, &in);
			break;
		case FZ_DQ_PUSH_BATCH:
			devq_push_batch(d, &in);
			break;
		case FZ_DQ_PUSH_CHAINS:
			devq_push_chains(d, &in);
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
			/* The held chains are not re-submitted here (see
			 * FZ_DQ_SAVE_REPOP): restore with none in flight. */
			st.inflight = 0;
			int src = vio_devq_set_state(d->q, &st);
			devq_state(d, &st2);
			if (d->f->format == VIO_RING_PACKED) {
				FZ_CHECK(src == 0 && state_eq(&st, &st2));
				FZ_CHECK(st2.inflight == 0);
			} else {
				/* Split re-reads used->idx from guest memory, which a
				 * hostile driver may have rewritten. */
				FZ_CHECK(src == 0 || src == -VIO_EINVAL);
				FZ_CHECK(st2.avail_idx == st.avail_idx);
				if (src != 0)
					break;
			}
			/* The held chains are stale now: dropped once each. */
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
			/* devq.h: fini, then init again; held chains are dropped
			 * first. The same configuration maps the same rings. */
			devq_drop_all(d);
			vio_devq_fini(d->q);
			FZ_CHECK(mem.live == 0);
			FZ_CHECK(devq_ring_call(d, true, NULL, 0) == 0);
			devq_after_reset(d);
			devq_check_reset_state(d);
			break;
		case FZ_DQ_DRV_EVENT:
			f->event(d, &in);
			break;
		case FZ_DQ_SET_MEM_TABLE:
			devq_set_mem_table(d, &in);
			break;
		case FZ_DQ_DROP:
			devq_drop(d, &in);
			break;
		case FZ_DQ_FAIL:
			devq_fail(d, &in);
			break;
		case FZ_DQ_LOG_WRITE:
			devq_log_write(d, &in);
			break;
		case FZ_DQ_PUSH_MISUSE:
			devq_push_misuse(d, &in);
			break;
		case FZ_DQ_SAVE_REPOP:
			devq_save_repop(d, &in);
			break;
		default:
			break;
		}
		devq_check_broken(d);
		FZ_CHECK(!mem.map_allowed);
		/* Every byte the device half changed is its own (rings it
		 * writes, bytes the model wrote) and was logged. */
		fz_mem_check_dev_writes(&mem, d->wr, d->nwr, d->logging);
	}
	/* The end: every chain dropped, the queue finished; then no mapping
	 * is live (each released exactly once). */
	devq_drop_all(d);
	vio_devq_fini(d->q);
	FZ_CHECK(mem.live == 0);
	fz_mem_check_dev_writes(&mem, d->wr, d->nwr, d->logging);
out:
	free(d->qmem);
	fz_mem_free(&mem);
	return 0;
}
