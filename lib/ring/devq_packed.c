/* SPDX-License-Identifier: MIT */
/* Device half of the packed virtqueue (virtio 1.4 §2.8, device requirements).
 *
 * The driver is not trusted: descriptors are read once and validated, the
 * walk is bounded by the ring size, and a buffer id must be in range and not
 * already held by the device. */
#include "devq_hot.h"
#include "devq_impl.h"
#include "packed_event.h"

void vio__devq_packed_parts(const struct vio_devq *q, const struct vio_devq_config *c,
			    struct vio__ring_part parts[VIO__NPARTS])
{
	/* The device writes used descriptors into the ring, so map it RW. */
	parts[VIO__PART_DESC] = (struct vio__ring_part){
		NULL,	    c->desc_addr,	   vio_packed_desc_size(q->size),
		VIO_MAP_RW, VIO_PACKED_DESC_ALIGN, false};
	parts[VIO__PART_DRIVER] = (struct vio__ring_part){
		NULL,	      c->driver_addr,	      vio_packed_event_size(),
		VIO_MAP_READ, VIO_PACKED_EVENT_ALIGN, false};
	parts[VIO__PART_DEVICE] = (struct vio__ring_part){
		NULL,	       c->device_addr,	       vio_packed_event_size(),
		VIO_MAP_WRITE, VIO_PACKED_EVENT_ALIGN, false};
}

int vio__devq_packed_attach(struct vio_devq *q, const struct vio__ring_part parts[VIO__NPARTS])
{
	struct vio__devq_packed *p = &q->u.packed;
	void *d = parts[VIO__PART_DESC].host, *drv = parts[VIO__PART_DRIVER].host,
	     *dev = parts[VIO__PART_DEVICE].host;
	if (((uintptr_t)d & 15u) != 0 || ((uintptr_t)drv & 3u) != 0 || ((uintptr_t)dev & 3u) != 0)
		return -VIO_ERING_ALIGN;
	p->desc = d;
	p->desc_rw = d;
	p->driver = drv;
	p->device = dev;
	return 0;
}

void vio__devq_packed_reset(struct vio_devq *q)
{
	struct vio__devq_packed *p = &q->u.packed;
	p->last_avail = 0;
	p->used_idx = 0;
	/* §2.8.1: wrap counters start at 1 */
	p->avail_mark = vio__packed_avail_flags(true);
	p->used_mark = vio__packed_used_flags(true);
	p->event_flags = VIO_RING_EVENT_FLAGS_ENABLE;
	p->desc_mode = q->event_idx ? VIO_RING_EVENT_FLAGS_DESC : VIO__EVENT_NO_DESC;
	p->pushed = 0;
}

/* The buffers of an indirect table: entries are consecutive; only WRITE is
 * meaningful in them (§2.8.6), INDIRECT there is a nested table. */
static VIO_ALWAYS_INLINE int walk_entries(struct vio_devq *q, struct vio__chain_builder *b,
					  const struct vio__table *t, bool pieces)
{
	const unsigned char *p = t->piece[0].host;
	for (uint32_t j = 0; j < t->n; j++) {
		struct vio__desc e;
		if (pieces)
			vio__table_read_pieces(t, j, true, &e);
		else
			vio__desc_read(p + (size_t)j * 16u, true, &e);
		if (e.flags & VIO_DESC_F_INDIRECT)
			return -VIO_EINDIRECT_NESTED;
		int rc = vio__chain_add(q, b, e.addr, e.len, (e.flags & VIO_DESC_F_WRITE) != 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* A table in several pieces (it runs across regions): out of line. */
VIO_NOINLINE static int walk_table_pieces(struct vio_devq *q, struct vio__chain_builder *b,
					  const struct vio__table *t)
{
	return walk_entries(q, b, t, true);
}

static int walk_table(struct vio_devq *q, struct vio__chain_builder *b, const struct vio__table *t)
{
	/* One piece, the common case, through one pointer. */
	if (vio_likely(t->npieces == 1))
		return walk_entries(q, b, t, false);
	return walk_table_pieces(q, b, t);
}

/* A descriptor list, from the ring or from a saved copy of it. */
struct list_src {
	const struct vio_packed_desc *base;
	uint16_t start;	  /* index of the first descriptor in base */
	uint16_t modulus; /* base has this many entries (the ring wraps) */
	uint16_t max;	  /* most descriptors the list may have */
	bool ring;	  /* from the ring: the head's flags were read already */
	uint16_t head_flags;
};

/* Walk one list into @b: its descriptor count and buffer id. */
static VIO_ALWAYS_INLINE int walk_list(struct vio_devq *q, struct vio__chain_builder *b,
				       const struct list_src *src, uint16_t *ndesc_out,
				       uint16_t *id_out)
{
	uint16_t ndesc = 0, idx = src->start, id;
	for (;;) {
		struct vio__desc d;
		vio__desc_read_aligned(&src->base[idx], true, &d);
		if (ndesc == 0 && src->ring)
			d.flags = src->head_flags; /* use the value that was validated */
		/* §2.8.6: no list longer than the ring; more means a loop of
		 * NEXT flags all the way round. A saved copy must end where
		 * its owner said. */
		if (++ndesc > src->max)
			return src->ring ? -VIO_EDESC_LOOP : -VIO_EINVAL;
		if (src->ring)
			vio__devq_journal_desc(q, (uint16_t)(ndesc - 1u), &d);
		idx = (uint16_t)(idx + 1u == src->modulus ? 0u : idx + 1u);

		if (d.flags & VIO_DESC_F_INDIRECT) {
			/* §2.8.6.1: INDIRECT never in a NEXT-linked list. */
			if (ndesc > 1 || (d.flags & VIO_DESC_F_NEXT))
				return -VIO_EINDIRECT_NEXT;
			struct vio__table t;
			int rc = vio__indirect_map(q, d.addr, d.len, d.flags, false, &t);
			if (rc < 0)
				return rc;
			rc = walk_table(q, b, &t);
			vio__table_unmap(q, &t);
			if (rc < 0)
				return rc;
			id = d.next_or_id;
			break;
		}
		int rc = vio__chain_add(q, b, d.addr, d.len, (d.flags & VIO_DESC_F_WRITE) != 0);
		if (rc < 0)
			return rc;
		if ((d.flags & VIO_DESC_F_NEXT) == 0) {
			id = d.next_or_id; /* §2.8.7: the last descriptor carries the id */
			break;
		}
	}
	if (!src->ring && ndesc != src->max)
		return -VIO_EINVAL;
	if (id >= q->size)
		return -VIO_EDESC_ID;
	/* A copy re-submitted twice is the embedder's mistake, not the driver's. */
	if (q->inflight[id] != 0)
		return src->ring ? -VIO_EDESC_INFLIGHT : -VIO_EINVAL;
	*ndesc_out = ndesc;
	*id_out = id;
	return 0;
}

static VIO_ALWAYS_INLINE int take(struct vio_devq *q, const struct list_src *src,
				  struct vio_chain *chain, struct vio_chain_seg *segs,
				  uint16_t max_segs, uint16_t *ndesc)
{
	struct vio__chain_builder b;
	uint16_t id = 0;
	vio__chain_begin(&b, chain, segs, max_segs, q->size);
	int rc = walk_list(q, &b, src, ndesc, &id);
	if (rc < 0) {
		vio__devq_release_segs(q, segs, b.nseg);
		if (rc == -VIO_ENOSPC || rc == -VIO_EMAP_AGAIN || rc == -VIO_EINVAL)
			return rc;
		return vio__devq_fail(q, rc);
	}
	vio__chain_end(q, &b, id, *ndesc, src->start);
	q->inflight[id] = (uint16_t)(VIO__INFLIGHT | (*ndesc - 1u));
	return 0;
}

int vio__devq_packed_take(struct vio_devq *q, const struct vio_packed_desc *descs, uint16_t ndesc,
			  struct vio_chain *chain, struct vio_chain_seg *segs, uint16_t max_segs)
{
	struct list_src src = {descs, 0, ndesc, ndesc, false, 0};
	uint16_t n;
	return take(q, &src, chain, segs, max_segs, &n);
}

/* The list at last_avail, whose head flags (@head_flags) say it is
 * available: any shape, any memory. The fast paths in devq_hot.h hand over
 * here; everything is read again (and validated again). */
int vio__devq_packed_pop_at(struct vio_devq *q, uint16_t head_flags, struct vio_chain *chain,
			    struct vio_chain_seg *segs, uint16_t max_segs)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint16_t slot = p->last_avail, ndesc = 1;

	if ((head_flags & (VIO_DESC_F_NEXT | VIO_DESC_F_INDIRECT)) == 0 && max_segs != 0) {
		struct vio__desc d;
		bool write = (head_flags & VIO_DESC_F_WRITE) != 0;
		vio__desc_read_aligned(&p->desc[slot], true, &d);
		d.flags = head_flags; /* the value that was validated */
		if (d.next_or_id >= q->size)
			return vio__devq_fail(q, -VIO_EDESC_ID);
		if (q->inflight[d.next_or_id] != 0)
			return vio__devq_fail(q, -VIO_EDESC_INFLIGHT);
		vio__devq_journal_desc(q, 0, &d);
		if (vio__chain_single_fast(q, chain, segs, d.next_or_id, d.addr, d.len, write)) {
			chain->head = slot;
			q->inflight[d.next_or_id] = VIO__INFLIGHT;
			goto taken;
		}
		int rc = vio__chain_single_slow(q, chain, segs, d.next_or_id, d.addr, d.len, write);
		if (rc < 0)
			return rc == -VIO_EMAP_AGAIN ? rc : vio__devq_fail(q, rc);
		if (rc == 0) {
			chain->head = slot;
			q->inflight[d.next_or_id] = VIO__INFLIGHT;
			goto taken;
		}
	} else {
		/* A list: the rest of it is in the slots after the head. */
		VIO_CACHE_INVALIDATE(p->desc, vio_packed_desc_size(q->size));
	}

	struct list_src src = {p->desc, slot, q->size, q->size, true, head_flags};
	int rc = take(q, &src, chain, segs, max_segs, &ndesc);
	if (rc < 0)
		return rc;
taken:
	vio__packed_advance_mark(&p->last_avail, &p->avail_mark, ndesc, q->size);
	q->inflight_count++;
	return 0;
}

int vio__devq_packed_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_chain_seg *segs,
			 uint16_t max_segs)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint16_t slot = p->last_avail;

	/* Acquire: the list is read after the head's flags that publish it.
	 * Pairs with the driver's release store of those flags. */
	VIO_CACHE_INVALIDATE(&p->desc[slot], sizeof(p->desc[slot]));
	uint16_t head_flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(p->desc[slot].flags.raw));
	if (!vio__packed_avail_at(p, head_flags))
		return -VIO_EAGAIN;
	return vio__devq_packed_pop_at(q, head_flags, chain, segs, max_segs);
}

VIO_NOINLINE static void log_used_desc(const struct vio_devq *q, uint16_t slot)
{
	/* The device writes len, id and flags: bytes 8..15 of the slot. */
	vio__devq_log(q, q->part[VIO__PART_DESC].addr + 16u * (uint64_t)slot + 8u, 8);
}

/* @in_order: a single used descriptor, naming the last buffer, at the
 * position of the first; the ring position skips the whole batch (§2.8.9).
 * The batch was validated; in-flight records still hold each ndesc. */
void vio__devq_packed_push(struct vio_devq *q, const struct vio_used *used, unsigned n,
			   bool in_order)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint16_t head = p->used_idx, slot = head;
	uint16_t mark = p->used_mark;
	uint16_t head_flags = 0;
	uint32_t slots = 0;

	for (unsigned k = 0; k < n; k++) {
		uint16_t id = used[k].chain->id, ndesc = vio__devq_inflight_ndesc(q, id);
		slots += ndesc;
		if (in_order && k + 1 < n) {
			vio__packed_advance_mark(&slot, &mark, ndesc, q->size);
			continue;
		}
		uint16_t at = in_order ? head : slot;
		struct vio_packed_desc *d = &p->desc_rw[at];
		/* §2.8.4: WRITE in a used descriptor says data was written. */
		uint16_t flags = (uint16_t)((in_order ? p->used_mark : mark) |
					    (used[k].len != 0 ? VIO_DESC_F_WRITE : 0));
		VIO_WRITE_ONCE(d->id.raw, vio_le16_make(id).raw);
		VIO_WRITE_ONCE(d->len.raw, vio_le32_make(used[k].len).raw);
		if (k == 0 || in_order) {
			head_flags = flags;
		} else {
			VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
		}
		VIO_CACHE_CLEAN(d, sizeof(*d));
		if (q->log_write != NULL)
			log_used_desc(q, at);
		vio__packed_advance_mark(&slot, &mark, ndesc, q->size);
	}
	p->used_idx = slot;
	p->used_mark = mark;
	p->pushed += slots;
	/* Release: ids and lengths are visible before the flags that mark the
	 * first entry used, written last so the batch appears at once. Pairs
	 * with the driver's acquire load of the flags. */
	VIO_STORE_RELEASE(p->desc_rw[head].flags.raw, vio_le16_make(head_flags).raw);
	VIO_CACHE_CLEAN(&p->desc_rw[head], sizeof(p->desc_rw[head]));
}

/* One completion: the same as a batch of one, without the batch loops.
 * @log: report the writes (the caller's slow path only). */
static VIO_ALWAYS_INLINE int push1(struct vio_devq *q, uint16_t id, uint16_t ndesc, uint32_t len,
				   bool log)
{
	uint16_t at = q->u.packed.used_idx;
	vio__devq_packed_put_used(q, id, ndesc, len);
	if (log && q->log_write != NULL)
		log_used_desc(q, at);
	return 0;
}

int vio__devq_packed_push1(struct vio_devq *q, uint16_t id, uint16_t ndesc, uint32_t len)
{
	return push1(q, id, ndesc, len, false);
}

int vio__devq_packed_push1_logged(struct vio_devq *q, uint16_t id, uint16_t ndesc, uint32_t len)
{
	return push1(q, id, ndesc, len, true);
}

bool vio__devq_packed_needs_notify(struct vio_devq *q)
{
	return vio__devq_packed_notify1(q);
}

void vio__devq_packed_set_notify(struct vio_devq *q, bool enable)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint16_t flags = VIO_RING_EVENT_FLAGS_DISABLE;

	if (enable && q->event_idx) {
		uint16_t ow = (uint16_t)(p->last_avail | ((unsigned)vio__packed_avail_wrap(p)
							  << VIO_RING_EVENT_WRAP_SHIFT));
		VIO_WRITE_ONCE(p->device->off_wrap.raw, vio_le16_make(ow).raw);
		flags = VIO_RING_EVENT_FLAGS_DESC;
	} else if (enable) {
		flags = VIO_RING_EVENT_FLAGS_ENABLE;
	}
	p->event_flags = flags;
	VIO_CACHE_CLEAN(p->device, sizeof(*p->device));
	/* Release: off_wrap is visible no later than the DESC mode using it. */
	VIO_STORE_RELEASE(p->device->flags.raw, vio_le16_make(flags).raw);
	VIO_CACHE_CLEAN(p->device, sizeof(*p->device));
	vio__devq_log(q, q->part[VIO__PART_DEVICE].addr, sizeof(*p->device));
}

bool vio__devq_packed_has_avail(struct vio_devq *q)
{
	struct vio__devq_packed *p = &q->u.packed;
	VIO_CACHE_INVALIDATE(&p->desc[p->last_avail], sizeof(p->desc[p->last_avail]));
	uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(p->desc[p->last_avail].flags.raw));
	return vio__packed_avail_at(p, flags);
}

void vio__devq_packed_get_state(const struct vio_devq *q, struct vio_ring_state *st)
{
	st->avail_idx = q->u.packed.last_avail;
	st->used_idx = q->u.packed.used_idx;
	st->avail_wrap = vio__packed_avail_wrap(&q->u.packed);
	st->used_wrap = vio__packed_used_wrap(&q->u.packed);
}

int vio__devq_packed_set_state(struct vio_devq *q, const struct vio_ring_state *st)
{
	struct vio__devq_packed *p = &q->u.packed;
	if (st->avail_idx >= q->size || st->used_idx >= q->size)
		return -VIO_EINVAL;
	vio__devq_packed_reset(q);
	p->last_avail = st->avail_idx;
	p->avail_mark = vio__packed_avail_flags(st->avail_wrap);
	p->used_idx = st->used_idx;
	p->used_mark = vio__packed_used_flags(st->used_wrap);
	q->signalled_used = st->used_idx;
	return 0;
}

_Static_assert(VIO_DESC_F_USED == 1u << VIO_RING_EVENT_WRAP_SHIFT,
	       "used_mark's USED bit and off_wrap's wrap bit are the same bit");
