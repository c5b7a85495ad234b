/* SPDX-License-Identifier: MIT */
/* Device half of the packed virtqueue (virtio 1.4 §2.8, device requirements).
 *
 * The driver is not trusted: descriptors are read once and validated, the
 * walk is bounded by the ring size, and a buffer id must be in range and not
 * already held by the device. */
#include "devq_impl.h"
#include "packed_event.h"

int vio__devq_packed_init(struct vio_devq *q, void *extra)
{
	struct vio__devq_packed *p = &q->u.packed;
	const struct vio_devq_config *c = &q->cfg;

	if ((c->desc_addr & (VIO_PACKED_DESC_ALIGN - 1)) != 0 ||
	    (c->driver_addr & (VIO_PACKED_EVENT_ALIGN - 1)) != 0 ||
	    (c->device_addr & (VIO_PACKED_EVENT_ALIGN - 1)) != 0)
		return -VIO_ERING_ALIGN;
	/* The device writes used descriptors into the ring, so map it RW. */
	void *d = vio__devq_map(q, c->desc_addr, vio_packed_desc_size(q->size), VIO_MAP_RW);
	void *drv = vio__devq_map(q, c->driver_addr, vio_packed_event_size(), VIO_MAP_READ);
	void *dev = vio__devq_map(q, c->device_addr, vio_packed_event_size(), VIO_MAP_WRITE);
	if (d == NULL || drv == NULL || dev == NULL)
		return -VIO_ERING_MAP;
	if (((uintptr_t)d & 15u) != 0 || ((uintptr_t)drv & 3u) != 0 || ((uintptr_t)dev & 3u) != 0)
		return -VIO_ERING_ALIGN;
	p->desc = d;
	p->desc_rw = d;
	p->driver = drv;
	p->device = dev;
	p->inflight = extra;
	vio__devq_packed_reset(q);
	return 0;
}

void vio__devq_packed_reset(struct vio_devq *q)
{
	struct vio__devq_packed *p = &q->u.packed;
	p->last_avail = 0;
	p->used_idx = 0;
	p->avail_wrap = true; /* §2.8.1: wrap counters start at 1 */
	p->used_wrap = true;
	p->event_flags = VIO_RING_EVENT_FLAGS_ENABLE;
	p->pushed = 0;
	VIO_MEMSET(p->inflight, 0, q->size);
}

/* The buffers of an indirect table: entries are consecutive; only WRITE is
 * meaningful in them (§2.8.6), INDIRECT there is a nested table. */
static int walk_table(struct vio_devq *q, struct vio__chain_builder *b, const void *table,
		      uint32_t n)
{
	for (uint32_t j = 0; j < n; j++) {
		struct vio__desc e;
		vio__desc_read((const unsigned char *)table + (size_t)j * 16u, true, &e);
		if (e.flags & VIO_DESC_F_INDIRECT)
			return -VIO_EINDIRECT_NESTED;
		int rc = vio__chain_add(q, b, e.addr, e.len, (e.flags & VIO_DESC_F_WRITE) != 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int vio__devq_packed_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_seg *segs,
			 uint16_t max_segs)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint16_t slot = p->last_avail;
	bool wrap = p->avail_wrap;

	/* Acquire: the list is read after the head's flags that publish it.
	 * Pairs with the driver's release store of those flags. */
	uint16_t head_flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(p->desc[slot].flags.raw));
	if (!vio__packed_is_avail(head_flags, wrap))
		return -VIO_EAGAIN;

	/* Fast path: one direct descriptor, the common shape of a request. */
	if (vio_likely((head_flags & (VIO_DESC_F_NEXT | VIO_DESC_F_INDIRECT)) == 0 &&
		       max_segs != 0)) {
		struct vio__desc d;
		vio__desc_read(&p->desc[slot], true, &d);
		if (vio_unlikely(d.next_or_id >= q->size))
			return vio__devq_fail(q, -VIO_EDESC_ID);
		if (vio_unlikely(p->inflight[d.next_or_id]))
			return vio__devq_fail(q, -VIO_EDESC_INFLIGHT);
		int rc = vio__chain_single(q, chain, segs, d.next_or_id, d.addr, d.len,
					   (head_flags & VIO_DESC_F_WRITE) != 0);
		if (vio_unlikely(rc < 0))
			return vio__devq_fail(q, rc);
		p->inflight[d.next_or_id] = 1;
		vio__packed_advance(&p->last_avail, &p->avail_wrap, 1, q->size);
		return 0;
	}

	struct vio__chain_builder b;
	vio__chain_begin(&b, chain, segs, max_segs, q->size);
	uint16_t ndesc = 0, id;
	for (;;) {
		struct vio__desc d;
		vio__desc_read(&p->desc[slot], true, &d);
		if (ndesc == 0)
			d.flags = head_flags; /* use the value that was validated */
		/* §2.8.6: no list longer than the ring; more means a loop of
		 * NEXT flags all the way round. */
		if (++ndesc > q->size)
			return vio__devq_fail(q, -VIO_EDESC_LOOP);
		vio__packed_advance(&slot, &wrap, 1, q->size);

		if (d.flags & VIO_DESC_F_INDIRECT) {
			/* §2.8.6.1: INDIRECT never in a NEXT-linked list. */
			if (ndesc > 1 || (d.flags & VIO_DESC_F_NEXT))
				return vio__devq_fail(q, -VIO_EINDIRECT_NEXT);
			const void *table;
			uint32_t n;
			int rc = vio__indirect_map(q, d.addr, d.len, d.flags, false, &table, &n);
			if (rc == 0)
				rc = walk_table(q, &b, table, n);
			if (rc < 0)
				return rc == -VIO_ENOSPC ? rc : vio__devq_fail(q, rc);
			id = d.next_or_id;
			break;
		}
		int rc = vio__chain_add(q, &b, d.addr, d.len, (d.flags & VIO_DESC_F_WRITE) != 0);
		if (rc < 0)
			return rc == -VIO_ENOSPC ? rc : vio__devq_fail(q, rc);
		if ((d.flags & VIO_DESC_F_NEXT) == 0) {
			id = d.next_or_id; /* §2.8.7: the last descriptor carries the id */
			break;
		}
	}
	if (id >= q->size)
		return vio__devq_fail(q, -VIO_EDESC_ID);
	if (p->inflight[id])
		return vio__devq_fail(q, -VIO_EDESC_INFLIGHT);
	p->inflight[id] = 1;
	p->last_avail = slot;
	p->avail_wrap = wrap;
	vio__chain_end(&b, id, ndesc);
	return 0;
}

/* @one (IN_ORDER): a single used descriptor, naming the last buffer, at the
 * position of the first; the ring position skips the whole batch (§2.8.9). */
int vio__devq_packed_push(struct vio_devq *q, const struct vio_used *used, unsigned n, bool one)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint32_t slots = 0;

	for (unsigned k = 0; k < n; k++) {
		if (used[k].id >= q->size || used[k].ndesc == 0 || used[k].ndesc > q->size)
			return -VIO_EINVAL;
		slots += used[k].ndesc;
	}
	if (slots > q->size)
		return -VIO_EINVAL;

	uint16_t head = p->used_idx, slot = head;
	bool wrap = p->used_wrap;
	uint16_t head_flags = 0;
	for (unsigned k = 0; k < n; k++) {
		p->inflight[used[k].id] = 0;
		if (one && k + 1 < n) {
			vio__packed_advance(&slot, &wrap, used[k].ndesc, q->size);
			continue;
		}
		struct vio_packed_desc *d = &p->desc_rw[one ? head : slot];
		bool w = one ? p->used_wrap : wrap;
		/* §2.8.4: WRITE in a used descriptor says data was written. */
		uint16_t flags = (uint16_t)(vio__packed_used_flags(w) |
					    (used[k].len != 0 ? VIO_DESC_F_WRITE : 0));
		VIO_WRITE_ONCE(d->id.raw, vio_le16_make(used[k].id).raw);
		VIO_WRITE_ONCE(d->len.raw, vio_le32_make(used[k].len).raw);
		if (k == 0 || one)
			head_flags = flags;
		else
			VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
		vio__packed_advance(&slot, &wrap, used[k].ndesc, q->size);
	}
	p->used_idx = slot;
	p->used_wrap = wrap;
	p->pushed += slots;
	/* Release: ids and lengths are visible before the flags that mark the
	 * first entry used, written last so the batch appears at once. Pairs
	 * with the driver's acquire load of the flags. */
	VIO_STORE_RELEASE(p->desc_rw[head].flags.raw, vio_le16_make(head_flags).raw);
	return 0;
}

/* One completion: the same as a batch of one, without the batch loops. */
int vio__devq_packed_push1(struct vio_devq *q, uint16_t id, uint16_t ndesc, uint32_t len)
{
	struct vio__devq_packed *p = &q->u.packed;

	if (vio_unlikely(id >= q->size || ndesc == 0 || ndesc > q->size))
		return -VIO_EINVAL;
	struct vio_packed_desc *d = &p->desc_rw[p->used_idx];
	/* §2.8.4: WRITE in a used descriptor says data was written. */
	uint16_t flags = (uint16_t)(vio__packed_used_flags(p->used_wrap) |
				    (len != 0 ? VIO_DESC_F_WRITE : 0));
	VIO_WRITE_ONCE(d->id.raw, vio_le16_make(id).raw);
	VIO_WRITE_ONCE(d->len.raw, vio_le32_make(len).raw);
	p->inflight[id] = 0;
	vio__packed_advance(&p->used_idx, &p->used_wrap, ndesc, q->size);
	p->pushed += ndesc;
	/* Release: pairs with the driver's acquire load of the flags. */
	VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
	return 0;
}

bool vio__devq_packed_needs_notify(struct vio_devq *q)
{
	struct vio__devq_packed *p = &q->u.packed;
	bool valid = q->signalled_valid;
	uint32_t pushed = p->pushed;

	/* Full fence: the used flags are ordered before the read of the
	 * driver's event suppression. Pairs with the driver's fence after it
	 * writes that structure. */
	VIO_MB();
	q->signalled_valid = true;
	p->pushed = 0;
	if (pushed == 0)
		return false;

	uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->driver->flags.raw)) & 3u;
	if (flags == VIO_RING_EVENT_FLAGS_DISABLE)
		return false;
	/* Without history, or after more slots than the arithmetic spans,
	 * notify (as after reset). */
	if (flags != VIO_RING_EVENT_FLAGS_DESC || !q->event_idx || !valid || pushed >= q->size)
		return true;
	uint16_t off_wrap = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->driver->off_wrap.raw));
	return vio__packed_need_event(off_wrap, q->size, p->used_idx, p->used_wrap, pushed);
}

void vio__devq_packed_set_notify(struct vio_devq *q, bool enable)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint16_t flags = VIO_RING_EVENT_FLAGS_DISABLE;

	if (enable && q->event_idx) {
		uint16_t ow = (uint16_t)(p->last_avail |
					 ((unsigned)p->avail_wrap << VIO_RING_EVENT_WRAP_SHIFT));
		VIO_WRITE_ONCE(p->device->off_wrap.raw, vio_le16_make(ow).raw);
		flags = VIO_RING_EVENT_FLAGS_DESC;
	} else if (enable) {
		flags = VIO_RING_EVENT_FLAGS_ENABLE;
	}
	p->event_flags = flags;
	/* Release: off_wrap is visible no later than the DESC mode using it. */
	VIO_STORE_RELEASE(p->device->flags.raw, vio_le16_make(flags).raw);
}

bool vio__devq_packed_has_avail(struct vio_devq *q)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(p->desc[p->last_avail].flags.raw));
	return vio__packed_is_avail(flags, p->avail_wrap);
}
