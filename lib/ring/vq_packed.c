/* SPDX-License-Identifier: MIT */
/* Driver half of the packed virtqueue (virtio 1.4 §2.8, driver requirements).
 *
 * Buffer ids come from a free-id list in vq->slot[]; the device is not
 * trusted, so a used descriptor's id and length are checked against that
 * private shadow, and the ring slots a buffer occupied are known from it,
 * never from the ring. */
#include "packed_event.h"
#include "vq_impl.h"

void vio__vq_packed_init(struct vio_vq *vq)
{
	struct vio__vq_packed *p = &vq->u.packed;
	const struct vio_vq_config *cfg = &vq->cfg;

	p->desc = cfg->desc;
	p->driver = cfg->driver_area;
	p->device = cfg->device_area;
	p->next_avail = 0;
	p->last_used = 0;
	p->avail_wrap = true; /* §2.8.1: wrap counters start at 1 */
	p->used_wrap = true;
	p->event_flags = VIO_RING_EVENT_FLAGS_ENABLE;

	VIO_MEMSET(p->desc, 0, vio_packed_desc_size(vq->size));
	VIO_MEMSET(p->driver, 0, vio_packed_event_size());
	VIO_MEMSET(p->device, 0, vio_packed_event_size());

	for (uint16_t i = 0; i < vq->size; i++) {
		vq->slot[i].token = NULL;
		vq->slot[i].next = (uint16_t)(i + 1u < vq->size ? i + 1u : 0u);
	}
	vq->free_head = 0;
}

static int fill_indirect(struct vio_vq *vq, uint16_t id, const struct vio_sg *sg, unsigned out,
			 unsigned total, uint64_t *table_addr)
{
	struct vio_packed_desc *tbl = vio__vq_indirect_table(vq, id);

	for (unsigned i = 0; i < total; i++) {
		uint64_t addr;
		int rc = vio__vq_to_device(vq, sg[i].addr, sg[i].len, &addr);
		if (rc < 0)
			return rc;
		/* §2.8.6.1: only WRITE may be set inside an indirect table. */
		tbl[i].addr = vio_le64_make(addr);
		tbl[i].len = vio_le32_make(sg[i].len);
		tbl[i].id = vio_le16_make(0);
		tbl[i].flags = vio_le16_make((uint16_t)(i >= out ? VIO_DESC_F_WRITE : 0));
	}
	return vio__vq_to_device(vq, tbl, (size_t)total * 16u, table_addr);
}

/* A list failed after @n descriptors were written from @head: the head was
 * never marked available, but the others were. Put back what a slot of this
 * lap holds before the driver fills it, a used descriptor of the previous
 * lap: neither available to the device nor used for the driver under this
 * lap's wrap counter. (Flags 0 would not do: under wrap counter 0 it reads
 * as used, and the driver would later reap a completion that never was.) */
static void withdraw(struct vio_vq *vq, uint16_t head, unsigned n)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint16_t slot = head;
	bool wrap = p->avail_wrap;
	for (unsigned k = 1; k < n; k++) {
		vio__packed_advance(&slot, &wrap, 1, vq->size);
		VIO_WRITE_ONCE(p->desc[slot].flags.raw,
			       vio_le16_make(vio__packed_used_flags(!wrap)).raw);
	}
}

/* Make the list written from @head available under buffer @id: bookkeeping,
 * then the head's flags. @slot/@wrap is the position after the list. */
static inline void publish(struct vio_vq *vq, uint16_t id, uint16_t head, uint16_t slot, bool wrap,
			   uint16_t ndesc, uint32_t in_bytes, uint16_t head_flags, void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	struct vio__vq_slot *s = &vq->slot[id];
	vq->free_head = s->next;
	if (vq->in_order)
		vio__vq_in_order_added(vq, id);
	s->token = token;
	s->in_bytes = in_bytes;
	s->ndesc = ndesc;
	vq->num_free = (uint16_t)(vq->num_free - ndesc);
	vq->outstanding++;
	vq->avail_moved += ndesc; /* one ring slot per descriptor */
	p->next_avail = slot;
	p->avail_wrap = wrap;

	/* §2.8.21.1: the head is made available last. Release: the whole list
	 * is visible before its first descriptor's flags. Pairs with the
	 * device's acquire load of those flags. */
	VIO_STORE_RELEASE(p->desc[head].flags.raw, vio_le16_make(head_flags).raw);
}

/* A list in the indirect table of buffer @id: one ring descriptor. */
static int add_indirect(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned total,
			void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint16_t id = vq->free_head;
	uint16_t head = p->next_avail, slot = head;
	bool wrap = p->avail_wrap;
	uint32_t in_bytes;
	uint64_t taddr;

	if (vq->num_free < 1)
		return -VIO_ENOSPC;
	if (!vio__vq_chain_len(sg, out, total, &in_bytes))
		return -VIO_EINVAL;
	int rc = fill_indirect(vq, id, sg, out, total, &taddr);
	if (rc < 0)
		return rc;
	struct vio_packed_desc *d = &p->desc[slot];
	d->addr = vio_le64_make(taddr);
	d->len = vio_le32_make((uint32_t)(total * 16u));
	d->id = vio_le16_make(id);
	uint16_t head_flags = (uint16_t)(VIO_DESC_F_INDIRECT | vio__packed_avail_flags(wrap));
	vio__packed_advance(&slot, &wrap, 1, vq->size);
	publish(vq, id, head, slot, wrap, 1, in_bytes, head_flags, token);
	return 0;
}

/* A list of several descriptors in the ring (free slots checked). */
static int add_direct(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned total,
		      void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint16_t id = vq->free_head;
	uint16_t head = p->next_avail, slot = head;
	bool wrap = p->avail_wrap;
	uint16_t head_flags = 0;
	uint32_t in_bytes;

	if (!vio__vq_chain_len(sg, out, total, &in_bytes))
		return -VIO_EINVAL;
	for (unsigned n = 0; n < total; n++) {
		uint64_t addr;
		int rc = vio__vq_to_device(vq, sg[n].addr, sg[n].len, &addr);
		if (vio_unlikely(rc < 0)) {
			withdraw(vq, head, n);
			return rc;
		}
		uint16_t flags = (uint16_t)((n + 1 < total ? VIO_DESC_F_NEXT : 0) |
					    (n >= out ? VIO_DESC_F_WRITE : 0) |
					    vio__packed_avail_flags(wrap));
		struct vio_packed_desc *d = &p->desc[slot];
		d->addr = vio_le64_make(addr);
		d->len = vio_le32_make(sg[n].len);
		d->id = vio_le16_make(id); /* §2.8.7: the id counts in the last one */
		if (n == 0)
			head_flags = flags;
		else
			d->flags = vio_le16_make(flags);
		vio__packed_advance(&slot, &wrap, 1, vq->size);
	}
	publish(vq, id, head, slot, wrap, (uint16_t)total, in_bytes, head_flags, token);
	return 0;
}

/* Everything but the single-segment fast path. */
VIO_NOINLINE static int add_chain(struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				  unsigned total, void *token)
{
	if (vio__vq_want_indirect(vq, total))
		return add_indirect(vq, sg, out, total, token);
	if (total > vq->num_free)
		return -VIO_ENOSPC;
	return add_direct(vq, sg, out, total, token);
}

int vio__vq_packed_add(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		       void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	unsigned total = out + in;

	if (vio_unlikely(!vio__vq_add_single(vq, total)))
		return add_chain(vq, sg, out, total, token);

	/* The common single-buffer request, without the list loop. */
	uint64_t addr;
	int rc = vio__vq_to_device(vq, sg[0].addr, sg[0].len, &addr);
	if (rc < 0)
		return rc;
	uint16_t id = vq->free_head, head = p->next_avail, slot = head;
	bool wrap = p->avail_wrap;
	uint16_t flags = (uint16_t)((in != 0 ? VIO_DESC_F_WRITE : 0) |
				    vio__packed_avail_flags(p->avail_wrap));
	struct vio_packed_desc *d = &p->desc[head];
	d->addr = vio_le64_make(addr);
	d->len = vio_le32_make(sg[0].len);
	d->id = vio_le16_make(id);
	vio__packed_advance(&slot, &wrap, 1, vq->size);
	publish(vq, id, head, slot, wrap, 1, in != 0 ? sg[0].len : 0, flags, token);
	return 0;
}

bool vio__vq_packed_kick_prepare(struct vio_vq *vq)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint32_t added = vq->avail_moved;

	/* Full fence: the flags that made the buffers available are ordered
	 * before the read of the device's event suppression. Pairs with the
	 * fence in the device's vio_devq_enable_notify(). */
	VIO_MB();
	vq->avail_moved = 0;
	if (added == 0)
		return false;

	uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->device->flags.raw)) & 3u;
	if (flags == VIO_RING_EVENT_FLAGS_DISABLE)
		return false;
	if (flags != VIO_RING_EVENT_FLAGS_DESC || !vq->event_idx)
		return true;
	if (added >= vq->size)
		return true; /* the event arithmetic spans less than a lap */
	uint16_t off_wrap = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->device->off_wrap.raw));
	return vio__packed_need_event(off_wrap, vq->size, p->next_avail, p->avail_wrap, added);
}

/* Return buffer @id to the free-id list. */
static inline void reclaim(struct vio_vq *vq, uint16_t id)
{
	struct vio__vq_slot *s = &vq->slot[id];
	s->token = NULL;
	s->next = vq->free_head;
	vq->free_head = id;
	vq->num_free = (uint16_t)(vq->num_free + s->ndesc);
	vq->outstanding--;
}

/* Validate the used descriptor at last_used and, with IN_ORDER, open a
 * batch. Returns the id it names and its written length. */
static inline int read_used(struct vio_vq *vq, uint16_t *id_out, uint32_t *wlen_out)
{
	struct vio__vq_packed *p = &vq->u.packed;
	struct vio_packed_desc *d = &p->desc[p->last_used];

	/* Acquire: id and len are read after the flags that mark the slot
	 * used. Pairs with the device's release store of those flags. */
	uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(d->flags.raw));
	if (!vio__packed_is_used(flags, p->used_wrap))
		return -VIO_EAGAIN;

	uint16_t id = vio_le16_raw_to_cpu(VIO_READ_ONCE(d->id.raw));
	uint32_t wlen = vio_le32_raw_to_cpu(VIO_READ_ONCE(d->len.raw));
	/* §2.8.4: the length means something only with WRITE in a used one. */
	if ((flags & VIO_DESC_F_WRITE) == 0)
		wlen = 0;
	if (id >= vq->size)
		return vio__vq_fail(vq, -VIO_EUSED_ID);
	if (vq->slot[id].token == NULL)
		return vio__vq_fail(vq, -VIO_EUSED_STALE);
	if (wlen > vq->slot[id].in_bytes)
		return vio__vq_fail(vq, -VIO_EUSED_LEN);
	*id_out = id;
	*wlen_out = wlen;
	return 0;
}

int vio__vq_packed_get(struct vio_vq *vq, void **token, uint32_t *len)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint16_t id;

	if (vq->in_order) {
		if (vq->io_left == 0) {
			uint32_t wlen;
			int rc = read_used(vq, &id, &wlen);
			if (rc < 0)
				return rc;
			uint16_t k = vio__vq_in_order_batch(vq, id);
			if (k == 0)
				return vio__vq_fail(vq, -VIO_EUSED_STALE);
			vq->io_left = k;
			vq->io_last = id;
			vq->io_len = wlen;
		}
		id = vio__vq_in_order_take(vq, token, len);
	} else {
		int rc = read_used(vq, &id, len);
		if (rc < 0)
			return rc;
		*token = vq->slot[id].token;
	}

	/* §2.8.7 / §2.8.9: the device skips the rest of the list (and, in
	 * order, of the batch); so do we, from our own record of its size. */
	vio__packed_advance(&p->last_used, &p->used_wrap, vq->slot[id].ndesc, vq->size);
	reclaim(vq, id);

	if (p->event_flags == VIO_RING_EVENT_FLAGS_DESC && vq->io_left == 0) {
		/* Ask for an event at the next used slot; the fence orders this
		 * store before the next flags load (pairs with the device's
		 * fence in vio_devq_needs_notify()). */
		uint16_t ow = (uint16_t)(p->last_used |
					 ((unsigned)p->used_wrap << VIO_RING_EVENT_WRAP_SHIFT));
		VIO_WRITE_ONCE(p->driver->off_wrap.raw, vio_le16_make(ow).raw);
		VIO_MB();
	}
	return 0;
}

bool vio__vq_packed_has_used(const struct vio_vq *vq)
{
	const struct vio__vq_packed *p = &vq->u.packed;
	if (vq->io_left != 0)
		return true;
	uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(p->desc[p->last_used].flags.raw));
	return vio__packed_is_used(flags, p->used_wrap);
}

static void set_event_flags(struct vio__vq_packed *p, uint16_t flags)
{
	p->event_flags = flags;
	VIO_WRITE_ONCE(p->driver->flags.raw, vio_le16_make(flags).raw);
}

void vio__vq_packed_disable_intr(struct vio_vq *vq)
{
	struct vio__vq_packed *p = &vq->u.packed;
	if (p->event_flags != VIO_RING_EVENT_FLAGS_DISABLE)
		set_event_flags(p, VIO_RING_EVENT_FLAGS_DISABLE);
}

bool vio__vq_packed_enable_intr(struct vio_vq *vq, bool delayed)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint16_t slot = p->last_used;
	bool wrap = p->used_wrap;

	if (vq->event_idx) {
		if (delayed) {
			/* About three quarters of the outstanding descriptors. */
			uint16_t busy = (uint16_t)(vq->size - vq->num_free);
			vio__packed_advance(&slot, &wrap, (uint16_t)((busy * 3u) / 4u), vq->size);
		}
		uint16_t ow = (uint16_t)(slot | ((unsigned)wrap << VIO_RING_EVENT_WRAP_SHIFT));
		VIO_WRITE_ONCE(p->driver->off_wrap.raw, vio_le16_make(ow).raw);
		/* off_wrap before flags, so the device never sees DESC with a
		 * stale position (the release orders the two stores). */
		p->event_flags = VIO_RING_EVENT_FLAGS_DESC;
		VIO_STORE_RELEASE(p->driver->flags.raw,
				  vio_le16_make(VIO_RING_EVENT_FLAGS_DESC).raw);
	} else {
		set_event_flags(p, VIO_RING_EVENT_FLAGS_ENABLE);
	}
	/* Store the request, then look (pairs with vio_devq_needs_notify()).
	 * Look at the next used position, not at the event: used descriptors
	 * skip the slots of a list or an in-order batch, so the event slot
	 * itself may never be written although the device went past it. If
	 * nothing is used at last_used, the device has written nothing since,
	 * and its next needs_notify sees the event. */
	VIO_MB();
	uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->desc[p->last_used].flags.raw));
	/* Inside an IN_ORDER batch the rest of it is pending although its
	 * slots carry no used descriptor. */
	return vq->io_left == 0 && !vio__packed_is_used(flags, p->used_wrap);
}

int vio__vq_packed_detach_unused(struct vio_vq *vq, void **token)
{
	vq->io_left = 0;
	if (vq->outstanding == 0) {
		vq->detach_cursor = 0;
		return -VIO_EAGAIN;
	}
	for (unsigned n = 0; n < vq->size; n++) {
		uint16_t id = vq->detach_cursor;
		vq->detach_cursor = (uint16_t)(id + 1u < vq->size ? id + 1u : 0u);
		if (vq->slot[id].token != NULL) {
			*token = vq->slot[id].token;
			reclaim(vq, id);
			return 0;
		}
	}
	return -VIO_EAGAIN; /* unreachable while outstanding > 0 */
}

uint32_t vio__vq_packed_notify_data(const struct vio_vq *vq)
{
	/* §2.9: the next slot to fill and the driver ring wrap counter. */
	return vio_notify_data_make(vq->index, vq->u.packed.next_avail, vq->u.packed.avail_wrap);
}
