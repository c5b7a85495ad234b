/* SPDX-License-Identifier: MIT */
/* Device half of the split virtqueue (virtio 1.4 §2.7, device requirements).
 *
 * The driver is not trusted: every index, address, length and flag is read
 * once from shared memory and validated before use (see devq_impl.h). */
#include "devq_impl.h"

int vio__devq_split_init(struct vio_devq *q)
{
	struct vio__devq_split *s = &q->u.split;
	const struct vio_devq_config *c = &q->cfg;

	if ((c->desc_addr & (VIO_SPLIT_DESC_ALIGN - 1)) != 0 ||
	    (c->driver_addr & (VIO_SPLIT_AVAIL_ALIGN - 1)) != 0 ||
	    (c->device_addr & (VIO_SPLIT_USED_ALIGN - 1)) != 0)
		return -VIO_ERING_ALIGN;
	void *d = vio__devq_map(q, c->desc_addr, vio_split_desc_size(q->size), VIO_MAP_READ);
	void *a = vio__devq_map(q, c->driver_addr, vio_split_avail_size(q->size), VIO_MAP_READ);
	void *u = vio__devq_map(q, c->device_addr, vio_split_used_size(q->size), VIO_MAP_RW);
	if (d == NULL || a == NULL || u == NULL)
		return -VIO_ERING_MAP;
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
	vio__devq_split_reset(q);
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
	const void *table = q->u.split.desc;
	uint32_t table_n = q->size;
	uint32_t i = head;
	bool in_table = false;
	uint16_t ring_descs = 0;

	for (;;) {
		struct vio__desc d;
		vio__desc_read((const unsigned char *)table + (size_t)i * 16u, false, &d);
		if (!in_table)
			ring_descs++;

		if (d.flags & VIO_DESC_F_INDIRECT) {
			/* §2.7.5.3.2: the WRITE flag of this descriptor is ignored. */
			int rc = vio__indirect_map(q, d.addr, d.len, d.flags, in_table, &table,
						   &table_n);
			if (rc < 0)
				return rc;
			in_table = true;
			i = 0;
			continue;
		}
		int rc = vio__chain_add(q, b, d.addr, d.len, (d.flags & VIO_DESC_F_WRITE) != 0);
		if (rc < 0)
			return rc;
		if ((d.flags & VIO_DESC_F_NEXT) == 0)
			break;
		if (d.next_or_id >= table_n)
			return -VIO_EDESC_NEXT;
		i = d.next_or_id;
	}
	*ndesc = ring_descs;
	return 0;
}

/* Any other shape: the general walk, kept out of line so that the fast path
 * in vio__devq_split_pop() stays small. */
VIO_NOINLINE static int pop_chain(struct vio_devq *q, uint16_t head, struct vio_chain *chain,
				  struct vio_seg *segs, uint16_t max_segs)
{
	struct vio__chain_builder b;
	uint16_t ndesc = 0;
	vio__chain_begin(&b, chain, segs, max_segs, q->size);
	int rc = walk(q, head, &b, &ndesc);
	if (rc < 0)
		return rc == -VIO_ENOSPC ? rc : vio__devq_fail(q, rc);
	vio__chain_end(&b, head, ndesc);
	q->u.split.last_avail++;
	return 0;
}

int vio__devq_split_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_seg *segs,
			uint16_t max_segs)
{
	struct vio__devq_split *s = &q->u.split;

	if (s->last_avail == s->avail_seen) {
		/* Acquire: the ring entries and descriptors this index covers are
		 * read after it. Pairs with the driver's release store. */
		uint16_t idx = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(s->avail->idx.raw));
		/* §2.7.13.3: the driver cannot have more than size entries out. */
		if ((uint16_t)(idx - s->last_avail) > q->size)
			return vio__devq_fail(q, -VIO_EAVAIL_JUMP);
		if (idx == s->last_avail)
			return -VIO_EAGAIN;
		s->avail_seen = idx;
	}

	uint16_t head =
		vio_le16_raw_to_cpu(VIO_READ_ONCE(s->avail_ring[s->last_avail & q->mask].raw));
	if (head >= q->size)
		return vio__devq_fail(q, -VIO_EDESC_HEAD);

	/* Fast path: one direct descriptor, the common shape of a request. */
	struct vio__desc d;
	vio__desc_read(&s->desc[head], false, &d);
	if (vio_likely((d.flags & (uint16_t)~VIO_DESC_F_WRITE) == 0 && max_segs != 0)) {
		int rc = vio__chain_single(q, chain, segs, head, d.addr, d.len, d.flags != 0);
		if (vio_unlikely(rc < 0))
			return vio__devq_fail(q, rc);
		s->last_avail++;
		return 0;
	}

	return pop_chain(q, head, chain, segs, max_segs);
}

/* @one (IN_ORDER): write only the last entry, at the position of the first,
 * and move the index by the whole batch (§2.7.9). */
int vio__devq_split_push(struct vio_devq *q, const struct vio_used *used, unsigned n, bool one)
{
	struct vio__devq_split *s = &q->u.split;

	if (n > q->size)
		return -VIO_EINVAL;
	for (unsigned k = 0; k < n; k++)
		if (used[k].id >= q->size)
			return -VIO_EINVAL;
	uint16_t idx = s->used_idx;
	for (unsigned k = one ? n - 1 : 0; k < n; k++, idx++) {
		struct vio_split_used_elem *e = &s->used_ring[idx & q->mask];
		VIO_WRITE_ONCE(e->id.raw, vio_le32_make(used[k].id).raw);
		VIO_WRITE_ONCE(e->len.raw, vio_le32_make(used[k].len).raw);
	}
	if (one)
		idx = (uint16_t)(s->used_idx + n);
	s->used_idx = idx;
	s->pushed += n;
	/* Release: the elements above are visible before the index that
	 * publishes them. Pairs with the driver's acquire load of used->idx. */
	VIO_STORE_RELEASE(s->used->idx.raw, vio_le16_make(idx).raw);
	return 0;
}

/* One completion: the same as a batch of one, without the batch loops. */
int vio__devq_split_push1(struct vio_devq *q, uint16_t id, uint32_t len)
{
	struct vio__devq_split *s = &q->u.split;

	if (vio_unlikely(id >= q->size))
		return -VIO_EINVAL;
	struct vio_split_used_elem *e = &s->used_ring[s->used_idx & q->mask];
	VIO_WRITE_ONCE(e->id.raw, vio_le32_make(id).raw);
	VIO_WRITE_ONCE(e->len.raw, vio_le32_make(len).raw);
	s->used_idx++;
	s->pushed++;
	/* Release: pairs with the driver's acquire load of used->idx. */
	VIO_STORE_RELEASE(s->used->idx.raw, vio_le16_make(s->used_idx).raw);
	return 0;
}

bool vio__devq_split_needs_notify(struct vio_devq *q)
{
	struct vio__devq_split *s = &q->u.split;
	uint16_t old = q->signalled_used, new_idx = s->used_idx;
	bool valid = q->signalled_valid;
	uint32_t pushed = s->pushed;

	/* Full fence: the used->idx store is ordered before the read of the
	 * driver's suppression fields. Pairs with the fence in the driver's
	 * enable_intr / get (store used_event, fence, load used->idx). */
	VIO_MB();
	q->signalled_used = new_idx;
	q->signalled_valid = true;
	s->pushed = 0;
	if (pushed == 0)
		return false; /* nothing pushed since the last decision */
	if (q->event_idx) {
		uint16_t ev = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->used_event->raw));
		/* Without a known previous position, or after more entries than
		 * 16-bit arithmetic can span, notify (as after reset). */
		return !valid || pushed > 0xffffu || vio_need_event(ev, new_idx, old);
	}
	uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->avail->flags.raw));
	return (flags & VIO_AVAIL_F_NO_INTERRUPT) == 0;
}

void vio__devq_split_set_notify(struct vio_devq *q, bool enable)
{
	struct vio__devq_split *s = &q->u.split;

	if (q->event_idx) {
		/* §2.7.10: with EVENT_IDX the driver ignores flags. Enabling asks
		 * for a kick once the entry after the last one taken is made
		 * available; disabling moves the event half the index space
		 * away, where the driver's index cannot reach while at most
		 * `size` entries are outstanding. */
		uint16_t ev = enable ? s->last_avail : (uint16_t)(s->last_avail + 0x8000u);
		VIO_WRITE_ONCE(s->avail_event->raw, vio_le16_make(ev).raw);
		return;
	}
	s->used_flags = enable ? 0 : VIO_USED_F_NO_NOTIFY;
	VIO_WRITE_ONCE(s->used->flags.raw, vio_le16_make(s->used_flags).raw);
}

bool vio__devq_split_has_avail(struct vio_devq *q)
{
	struct vio__devq_split *s = &q->u.split;
	if (s->last_avail != s->avail_seen)
		return true;
	uint16_t idx = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(s->avail->idx.raw));
	return idx != s->last_avail;
}
