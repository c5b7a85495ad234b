/* SPDX-License-Identifier: MIT */
/* Device half of the split virtqueue (virtio 1.4 §2.7, device requirements).
 *
 * The driver is not trusted: every index, address, length and flag is read
 * once from shared memory and validated before use (see devq_impl.h). */
#include "devq_hot.h"
#include "devq_impl.h"

void vio__devq_split_parts(const struct vio_devq *q, const struct vio_devq_config *c,
			   struct vio__ring_part parts[VIO__NPARTS])
{
	parts[VIO__PART_DESC] = (struct vio__ring_part){
		NULL,	      c->desc_addr,	    vio_split_desc_size(q->size),
		VIO_MAP_READ, VIO_SPLIT_DESC_ALIGN, false};
	parts[VIO__PART_DRIVER] = (struct vio__ring_part){
		NULL,	      c->driver_addr,	     vio_split_avail_size(q->size),
		VIO_MAP_READ, VIO_SPLIT_AVAIL_ALIGN, false};
	parts[VIO__PART_DEVICE] = (struct vio__ring_part){
		NULL,	    c->device_addr,	  vio_split_used_size(q->size),
		VIO_MAP_RW, VIO_SPLIT_USED_ALIGN, false};
}

int vio__devq_split_attach(struct vio_devq *q, const struct vio__ring_part parts[VIO__NPARTS])
{
	struct vio__devq_split *s = &q->u.split;
	void *d = parts[VIO__PART_DESC].host, *a = parts[VIO__PART_DRIVER].host,
	     *u = parts[VIO__PART_DEVICE].host;
	/* The shared fields are accessed as naturally aligned integers. */
	if (((uintptr_t)d & 15u) != 0 || ((uintptr_t)a & 1u) != 0 || ((uintptr_t)u & 3u) != 0)
		return -VIO_ERING_ALIGN;
	s->desc = d;
	s->avail = a;
	s->avail_ring = vio_split_avail_ring(a);
	s->used_event = vio_split_used_event(a, q->size);
	s->used = u;
	s->used_ring = vio_split_used_ring(u);
	s->avail_event = vio_split_avail_event(u, q->size);
	return 0;
}

void vio__devq_split_reset(struct vio_devq *q)
{
	struct vio__devq_split *s = &q->u.split;
	s->last_avail = 0;
	s->avail_seen = 0;
	s->used_idx = 0;
	s->used_flags = 0;
	s->pushed = 0;
}

/* Walk the chain at @head: direct descriptors, optionally ending in one
 * indirect table (§2.7.5.3.2 allows direct descriptors before it). */
static int walk(struct vio_devq *q, uint16_t head, struct vio__chain_builder *b, uint16_t *ndesc)
{
	uint32_t table_n = q->size;
	uint32_t i = head;
	struct vio__table t;
	bool in_table = false;
	uint16_t ring_descs = 0;
	int rc = 0;

	for (;;) {
		struct vio__desc d;
		if (!in_table) {
			vio__desc_read_aligned(&q->u.split.desc[i], false, &d);
			ring_descs++;
		} else {
			vio__table_read(&t, i, false, &d);
		}

		if (d.flags & VIO_DESC_F_INDIRECT) {
			/* §2.7.5.3.2: the WRITE flag of this descriptor is ignored. */
			rc = vio__indirect_map(q, d.addr, d.len, d.flags, in_table, &t);
			if (rc < 0)
				break;
			in_table = true;
			table_n = t.n;
			i = 0;
			continue;
		}
		rc = vio__chain_add(q, b, d.addr, d.len, (d.flags & VIO_DESC_F_WRITE) != 0);
		if (rc < 0 || (d.flags & VIO_DESC_F_NEXT) == 0)
			break;
		if (d.next_or_id >= table_n) {
			rc = -VIO_EDESC_NEXT;
			break;
		}
		i = d.next_or_id;
	}
	/* The table was read into the chain: its mapping is no longer needed. */
	if (in_table)
		vio__table_unmap(q, &t);
	*ndesc = ring_descs;
	return rc;
}

/* Map the chain at @head (pop and repop). Errors other than "retry" and
 * "array too small" break the queue. */
int vio__devq_split_take(struct vio_devq *q, uint16_t head, struct vio_chain *chain,
			 struct vio_chain_seg *segs, uint16_t max_segs)
{
	struct vio__chain_builder b;
	uint16_t ndesc = 0;
	vio__chain_begin(&b, chain, segs, max_segs, q->size);
	int rc = walk(q, head, &b, &ndesc);
	if (rc == 0 && q->inflight[head] != 0)
		rc = -VIO_EDESC_INFLIGHT; /* the driver reused a head the device holds */
	if (rc < 0) {
		vio__devq_release_segs(q, segs, b.nseg);
		return rc == -VIO_ENOSPC || rc == -VIO_EMAP_AGAIN ? rc : vio__devq_fail(q, rc);
	}
	vio__chain_end(q, &b, head, ndesc, head);
	q->inflight[head] = (uint16_t)(VIO__INFLIGHT | (ndesc - 1u));
	return 0;
}

/* The chain at @head (< size; the avail entry at last_avail named it): any
 * shape, any memory. The fast paths in devq_hot.h hand over here with the
 * head they read; the descriptor is read again (and validated again). */
int vio__devq_split_pop_head(struct vio_devq *q, uint16_t head, struct vio_chain *chain,
			     struct vio_chain_seg *segs, uint16_t max_segs)
{
	struct vio__desc d;
	vio__desc_read_aligned(&q->u.split.desc[head], false, &d);
	if ((d.flags & (uint16_t)~VIO_DESC_F_WRITE) == 0 && q->inflight[head] == 0 &&
	    max_segs != 0) {
		if (vio__chain_single_fast(q, chain, segs, head, d.addr, d.len, d.flags != 0)) {
			q->inflight[head] = VIO__INFLIGHT;
			goto taken;
		}
		int rc = vio__chain_single_slow(q, chain, segs, head, d.addr, d.len, d.flags != 0);
		if (rc < 0)
			return rc == -VIO_EMAP_AGAIN ? rc : vio__devq_fail(q, rc);
		if (rc == 0) {
			q->inflight[head] = VIO__INFLIGHT;
			goto taken;
		}
	}
	int rc = vio__devq_split_take(q, head, chain, segs, max_segs);
	if (rc < 0)
		return rc;
taken:
	q->u.split.last_avail++;
	return 0;
}

int vio__devq_split_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_chain_seg *segs,
			uint16_t max_segs)
{
	struct vio__devq_split *s = &q->u.split;

	if (s->last_avail == s->avail_seen) {
		/* Acquire: the ring entries and descriptors this index covers are
		 * read after it. Pairs with the driver's release store. */
		VIO_CACHE_INVALIDATE(&s->avail->idx, sizeof(s->avail->idx));
		uint16_t idx = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(s->avail->idx.raw));
		/* §2.7.13.3: the driver cannot have more than size entries out. */
		if ((uint16_t)(idx - s->last_avail) > q->size)
			return vio__devq_fail(q, -VIO_EAVAIL_JUMP);
		if (idx == s->last_avail)
			return -VIO_EAGAIN;
		s->avail_seen = idx;
		/* Non-coherent memory: the new entries and everything they name. */
		VIO_CACHE_INVALIDATE(s->avail_ring, (size_t)q->size * sizeof(vio_le16));
		VIO_CACHE_INVALIDATE(s->desc, vio_split_desc_size(q->size));
	}

	uint16_t head =
		vio_le16_raw_to_cpu(VIO_READ_ONCE(s->avail_ring[s->last_avail & q->mask].raw));
	if (head >= q->size)
		return vio__devq_fail(q, -VIO_EDESC_HEAD);
	return vio__devq_split_pop_head(q, head, chain, segs, max_segs);
}

VIO_NOINLINE static void log_used(const struct vio_devq *q, uint16_t first, uint16_t n)
{
	uint64_t base = q->part[VIO__PART_DEVICE].addr;
	for (uint16_t k = 0; k < n; k++)
		vio__devq_log(q, base + 4u + 8u * (uint64_t)((uint16_t)(first + k) & q->mask), 8);
	vio__devq_log(q, base + 2u, 2); /* used->idx */
}

/* @in_order: write only the last entry, at the position of the first, and
 * move the index by the whole batch (§2.7.9). The batch was validated. */
void vio__devq_split_push(struct vio_devq *q, const struct vio_used *used, unsigned n,
			  bool in_order)
{
	struct vio__devq_split *s = &q->u.split;
	uint16_t idx = s->used_idx, first = s->used_idx;

	for (unsigned k = in_order ? n - 1 : 0; k < n; k++, idx++) {
		struct vio_split_used_elem *e = &s->used_ring[idx & q->mask];
		VIO_WRITE_ONCE(e->id.raw, vio_le32_make(used[k].chain->id).raw);
		VIO_WRITE_ONCE(e->len.raw, vio_le32_make(used[k].len).raw);
		VIO_CACHE_CLEAN(e, sizeof(*e));
	}
	if (in_order)
		idx = (uint16_t)(s->used_idx + n);
	s->used_idx = idx;
	s->pushed += n;
	/* Release: the elements above are visible before the index that
	 * publishes them. Pairs with the driver's acquire load of used->idx. */
	VIO_STORE_RELEASE(s->used->idx.raw, vio_le16_make(idx).raw);
	VIO_CACHE_CLEAN(&s->used->idx, sizeof(s->used->idx));
	if (q->log_write != NULL)
		log_used(q, first, in_order ? 1 : (uint16_t)n);
}

/* One completion: the same as a batch of one, without the batch loops.
 * @log: report the writes (the caller's slow path only). */
static VIO_ALWAYS_INLINE int push1(struct vio_devq *q, uint16_t id, uint32_t len, bool log)
{
	vio__devq_split_put_used(q, id, len);
	if (log && q->log_write != NULL)
		log_used(q, (uint16_t)(q->u.split.used_idx - 1u), 1);
	return 0;
}

int vio__devq_split_push1(struct vio_devq *q, uint16_t id, uint32_t len)
{
	return push1(q, id, len, false);
}

int vio__devq_split_push1_logged(struct vio_devq *q, uint16_t id, uint32_t len)
{
	return push1(q, id, len, true);
}

bool vio__devq_split_needs_notify(struct vio_devq *q)
{
	return vio__devq_split_notify1(q);
}

void vio__devq_split_set_notify(struct vio_devq *q, bool enable)
{
	struct vio__devq_split *s = &q->u.split;
	uint64_t base = q->part[VIO__PART_DEVICE].addr;

	if (q->event_idx) {
		/* §2.7.10: with EVENT_IDX the driver ignores flags. Enabling asks
		 * for a kick once the entry after the last one taken is made
		 * available; disabling moves the event half the index space
		 * away, where the driver's index cannot reach while at most
		 * `size` entries are outstanding. */
		uint16_t ev = enable ? s->last_avail : (uint16_t)(s->last_avail + 0x8000u);
		VIO_WRITE_ONCE(s->avail_event->raw, vio_le16_make(ev).raw);
		VIO_CACHE_CLEAN(s->avail_event, sizeof(*s->avail_event));
		vio__devq_log(q, base + 4u + 8u * (uint64_t)q->size, 2);
		return;
	}
	s->used_flags = enable ? 0 : VIO_USED_F_NO_NOTIFY;
	VIO_WRITE_ONCE(s->used->flags.raw, vio_le16_make(s->used_flags).raw);
	VIO_CACHE_CLEAN(&s->used->flags, sizeof(s->used->flags));
	vio__devq_log(q, base, 2);
}

bool vio__devq_split_has_avail(struct vio_devq *q)
{
	struct vio__devq_split *s = &q->u.split;
	if (s->last_avail != s->avail_seen)
		return true;
	VIO_CACHE_INVALIDATE(&s->avail->idx, sizeof(s->avail->idx));
	uint16_t idx = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(s->avail->idx.raw));
	return idx != s->last_avail;
}

void vio__devq_split_get_state(const struct vio_devq *q, struct vio_ring_state *st)
{
	st->avail_idx = q->u.split.last_avail;
	st->used_idx = q->u.split.used_idx;
	st->avail_wrap = false;
	st->used_wrap = false;
}

int vio__devq_split_set_state(struct vio_devq *q, const struct vio_ring_state *st,
			      uint16_t *inflight)
{
	struct vio__devq_split *s = &q->u.split;
	/* The device is the only writer of used->idx, so guest memory holds
	 * exactly the index of the last completion the previous owner made
	 * (what QEMU reads back after migration too). The driver may have
	 * scribbled on it: the distance is checked. */
	VIO_CACHE_INVALIDATE(&s->used->idx, sizeof(s->used->idx));
	uint16_t used = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->used->idx.raw));
	uint16_t n = (uint16_t)(st->avail_idx - used);
	if (n > q->size)
		return -VIO_EINVAL;
	/* Non-coherent memory: vio_devq_repop() reads the descriptors of the
	 * chains in flight, which nothing here invalidated (a pop does when it
	 * sees a new available index); cached lines may predate them. */
	VIO_CACHE_INVALIDATE(s->desc, vio_split_desc_size(q->size));
	vio__devq_split_reset(q);
	s->last_avail = st->avail_idx;
	s->avail_seen = st->avail_idx;
	s->used_idx = used;
	q->signalled_used = used;
	*inflight = n;
	return 0;
}
