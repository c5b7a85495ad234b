/* SPDX-License-Identifier: MIT */
/* Driver half of the packed virtqueue (virtio 1.4 §2.8, driver requirements).
 *
 * Buffer ids come from a free-id list in vq->slot[]; the device is not
 * trusted, so a used descriptor's id and length are checked against that
 * private shadow, and the ring slots a buffer occupied are known from it,
 * never from the ring. */
#include "packed_event.h"
#include "vq_hot.h"
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
	p->avail_mark = vio__packed_avail_flags(true);
	p->used_mark = vio__packed_used_flags(true);
	p->kick_ev = vq->event_idx ? VIO_RING_EVENT_FLAGS_DESC : 0xffffu;
	p->event_flags = VIO_RING_EVENT_FLAGS_ENABLE;

	VIO_MEMSET(p->desc, 0, vio_packed_desc_size(vq->size));
	VIO_MEMSET(p->driver, 0, vio_packed_event_size());
	VIO_MEMSET(p->device, 0, vio_packed_event_size());
	VIO_CACHE_CLEAN(p->desc, vio_packed_desc_size(vq->size));
	VIO_CACHE_CLEAN(p->driver, vio_packed_event_size());
	VIO_CACHE_CLEAN(p->device, vio_packed_event_size());

	for (uint16_t i = 0; i < vq->size; i++) {
		vq->slot[i].token = NULL;
		vq->slot[i].next = (uint16_t)(i + 1u < vq->size ? i + 1u : 0u);
	}
	vq->free_head = 0;
	if (vq->rec != NULL) {
		for (uint16_t i = 0; i < vq->size; i++)
			vq->rec[i].next = (uint16_t)(i + 1u < vq->size ? i + 1u : 0u);
		vq->rec_free = 0;
	}
}

/* Fill the indirect table of buffer @id with all segments and convert it;
 * its device address goes to @table_addr. On failure every conversion made
 * here has been released. */
static int fill_indirect(struct vio_vq *vq, uint16_t id, const struct vio_sg *sg, unsigned out,
			 unsigned total, uint64_t *table_addr, struct vio__vq_len *l)
{
	struct vio_packed_desc *tbl = vio__vq_indirect_table(vq, id);
	struct vio__vq_rec *r = vq->irec != NULL ? vio__vq_irec(vq, id) : NULL;

	for (unsigned i = 0; i < total; i++) {
		struct vio__vq_conv c = vio__vq_to_device(vq, sg[i].addr, sg[i].len,
							  vio__vq_seg_dir(i, out), r, 1 + i);
		uint64_t addr = c.addr;
		if (c.rc < 0) {
			if (r != NULL)
				vio__vq_release_indirect(vq, id, i, false);
			return c.rc;
		}
		vio__vq_len_add(l, sg[i].len, i >= out);
		/* §2.8.6.1: only WRITE may be set inside an indirect table. */
		tbl[i].addr = vio_le64_make(addr);
		tbl[i].len = vio_le32_make(sg[i].len);
		tbl[i].id = vio_le16_make(0);
		tbl[i].flags = vio_le16_make((uint16_t)(i >= out ? VIO_DESC_F_WRITE : 0));
	}
	if (!vio__vq_len_ok(l)) {
		if (r != NULL)
			vio__vq_release_indirect(vq, id, total, false);
		return -VIO_EINVAL;
	}
	/* The table is complete before it is converted (a bounce copies it)
	 * and before the ring descriptor that points at it is published. */
	uint32_t tlen = (uint32_t)(total * 16u);
	VIO_CACHE_CLEAN(tbl, tlen);
	struct vio__vq_conv c = vio__vq_to_device(vq, tbl, tlen, VIO_DMA_TO_DEVICE, r, 0);
	if (c.rc < 0 && r != NULL)
		vio__vq_release_indirect(vq, id, total, false);
	*table_addr = c.addr;
	return c.rc;
}

/* With a release hook: the @n records a direct list takes, the first @n of
 * the free-record list (taken for good in publish()). Release them. */
static void release_recs(struct vio_vq *vq, uint16_t first, unsigned n)
{
	for (uint16_t k = 0, r = first; k < n; k++, r = vq->rec[r].next)
		vio__vq_rec_release(vq, &vq->rec[r]);
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
	if (vq->rec != NULL)
		release_recs(vq, vq->rec_free, n);
	bool wrap = p->avail_wrap;
	for (unsigned k = 1; k < n; k++) {
		vio__packed_advance(&slot, &wrap, 1, vq->size);
		VIO_WRITE_ONCE(p->desc[slot].flags.raw,
			       vio_le16_make(vio__packed_used_flags(!wrap)).raw);
		VIO_CACHE_CLEAN(&p->desc[slot].flags, sizeof(p->desc[slot].flags));
	}
}

/* With a release hook: buffer slot @s keeps whether it is indirect (its
 * records are then in irec) or else takes its ndesc records off the free
 * list, where add wrote them in list order. */
VIO_NOINLINE static void take_recs(struct vio_vq *vq, uint16_t id, uint16_t head_flags)
{
	const struct vio__vq_slot *s = &vq->slot[id];
	struct vio__vq_cold *c = &vq->cold[id];
	c->flags = (uint16_t)(head_flags & VIO_DESC_F_INDIRECT);
	if (c->flags != 0)
		return;
	c->rec = vq->rec_free;
	uint16_t r = vq->rec_free;
	for (uint16_t k = 0; k < s->ndesc; k++)
		r = vq->rec[r].next;
	vq->rec_free = r;
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
	if (vio_unlikely(vq->rec != NULL))
		take_recs(vq, id, head_flags);
	vq->num_free = (uint16_t)(vq->num_free - ndesc);
	vq->outstanding++;
	vq->avail_moved += ndesc; /* one ring slot per descriptor */
	p->next_avail = slot;
	p->avail_wrap = wrap;
	p->avail_mark = vio__packed_avail_flags(wrap);

	/* §2.8.21.1: the head is made available last. Release: the whole list
	 * is visible before its first descriptor's flags. Pairs with the
	 * device's acquire load of those flags. */
	VIO_STORE_RELEASE(p->desc[head].flags.raw, vio_le16_make(head_flags).raw);
	/* The flags themselves, written back for a non-coherent device. */
	VIO_CACHE_CLEAN(&p->desc[head].flags, sizeof(p->desc[head].flags));
}

/* A list in the indirect table of buffer @id: one ring descriptor. */
static int add_indirect(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned total,
			void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint16_t id = vq->free_head;
	uint16_t head = p->next_avail, slot = head;
	bool wrap = p->avail_wrap;
	struct vio__vq_len l = {0, 0};
	uint64_t taddr;

	if (vq->num_free < 1)
		return -VIO_ENOSPC;
	int rc = fill_indirect(vq, id, sg, out, total, &taddr, &l);
	if (rc < 0)
		return rc;
	struct vio_packed_desc *d = &p->desc[slot];
	d->addr = vio_le64_make(taddr);
	d->len = vio_le32_make((uint32_t)(total * 16u));
	d->id = vio_le16_make(id);
	VIO_CACHE_CLEAN(d, sizeof(*d)); /* before publish() stores the flags */
	uint16_t head_flags = (uint16_t)(VIO_DESC_F_INDIRECT | vio__packed_avail_flags(wrap));
	vio__packed_advance(&slot, &wrap, 1, vq->size);
	publish(vq, id, head, slot, wrap, 1, (uint32_t)l.in, head_flags, token);
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
	struct vio__vq_len l = {0, 0};
	uint16_t r = vq->rec_free;
	const bool plain = vq->dma == NULL; /* the stores below may alias *vq */
	for (unsigned n = 0; n < total; n++) {
		uint64_t addr = (uint64_t)(uintptr_t)sg[n].addr;
		if (vio_unlikely(!plain)) {
			struct vio__vq_conv c = vio__vq_map(vq, sg[n].addr, sg[n].len,
							    vio__vq_seg_dir(n, out), vq->rec, r);
			if (c.rc < 0) {
				withdraw(vq, head, n);
				return c.rc;
			}
			addr = c.addr;
			if (vq->rec != NULL)
				r = vq->rec[r].next;
		}
		vio__vq_len_add(&l, sg[n].len, n >= out);
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
		VIO_CACHE_CLEAN(d, sizeof(*d)); /* before publish() stores the head flags */
		vio__packed_advance(&slot, &wrap, 1, vq->size);
	}
	if (vio_unlikely(!vio__vq_len_ok(&l))) {
		withdraw(vq, head, total); /* nothing is published */
		return -VIO_EINVAL;
	}
	publish(vq, id, head, slot, wrap, (uint16_t)total, (uint32_t)l.in, head_flags, token);
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
	struct vio__vq_conv c = vio__vq_to_device_single(vq, sg, in, 0);
	if (vio_unlikely(c.rc < 0))
		return c.rc;
	uint64_t addr = c.addr;
	uint16_t id = vq->free_head, head = p->next_avail, slot = head;
	bool wrap = p->avail_wrap;
	uint16_t flags = (uint16_t)((in != 0 ? VIO_DESC_F_WRITE : 0) | p->avail_mark);
	struct vio_packed_desc *d = &p->desc[head];
	d->addr = vio_le64_make(addr);
	d->len = vio_le32_make(sg[0].len);
	d->id = vio_le16_make(id);
	VIO_CACHE_CLEAN(d, sizeof(*d)); /* before publish() stores the flags */
	vio__packed_advance(&slot, &wrap, 1, vq->size);
	publish(vq, id, head, slot, wrap, 1, in != 0 ? sg[0].len : 0, flags, token);
	return 0;
}

int vio__vq_packed_lap(struct vio_vq *vq)
{
	struct vio__vq_packed *p = &vq->u.packed;
	p->next_avail = 0;
	p->avail_wrap = !p->avail_wrap;
	p->avail_mark ^= (uint16_t)(VIO_DESC_F_AVAIL | VIO_DESC_F_USED);
	return 0;
}

bool vio__vq_packed_kick_prepare(struct vio_vq *vq)
{
	return vio__vq_packed_kick1(vq);
}

/* End the conversions of buffer @id from the private records and return
 * its direct records to the free list. */
VIO_NOINLINE static void release_buffer(struct vio_vq *vq, uint16_t id)
{
	const struct vio__vq_slot *s = &vq->slot[id];
	const struct vio__vq_cold *c = &vq->cold[id];
	if (c->flags & VIO_DESC_F_INDIRECT) {
		vio__vq_release_indirect(vq, id, vio__vq_irec(vq, id)->len / 16u, true);
		return;
	}
	uint16_t tail = c->rec;
	vio__vq_rec_release(vq, &vq->rec[tail]);
	for (uint16_t k = 1; k < s->ndesc; k++) {
		tail = vq->rec[tail].next;
		vio__vq_rec_release(vq, &vq->rec[tail]);
	}
	vq->rec[tail].next = vq->rec_free;
	vq->rec_free = c->rec;
}

/* Return buffer @id to the free-id list; the caller releases its
 * conversions (release_buffer() reads only what this leaves alone). */
static inline void reclaim(struct vio_vq *vq, uint16_t id)
{
	struct vio__vq_slot *s = &vq->slot[id];
	s->token = NULL;
	s->next = vq->free_head;
	vq->free_head = id;
	vq->num_free = (uint16_t)(vq->num_free + s->ndesc);
	vq->outstanding--;
}

/* The written length of a used descriptor for a buffer with @in_bytes
 * device-writable bytes. §2.8.4 makes the length reserved (ignored by
 * drivers) in a used descriptor without WRITE; but QEMU (7.2 and current)
 * never sets WRITE in used descriptors and puts the written length there
 * all the same, and Linux's driver reads it without looking at the flag.
 * So: a buffer with writable parts takes the length either way; a buffer
 * without any ignores a length that comes without WRITE, as the spec says.
 * True with the length in *@wlen if it is at most @in_bytes, false (a
 * hostile length) otherwise. (The fast paths in vq_hot.h take only a
 * length up to in_bytes and hand anything else to this.) */
static inline bool used_len(uint32_t *wlen, bool wflag, uint32_t in_bytes)
{
	if (vio_likely(*wlen <= in_bytes))
		return true;
	if (wflag || in_bytes != 0)
		return false;
	*wlen = 0; /* reserved: ignored */
	return true;
}

/* Validate the used descriptor at last_used and, with IN_ORDER, open a
 * batch. Returns the id it names and its written length. */
static inline int read_used(struct vio_vq *vq, uint16_t *id_out, uint32_t *wlen_out)
{
	uint16_t id;
	uint32_t wlen;
	bool wflag;

	if (!vio__vq_packed_peek_used(vq, &id, &wlen, &wflag))
		return -VIO_EAGAIN;
	if (id >= vq->size)
		return vio__vq_fail(vq, -VIO_EUSED_ID);
	if (vq->slot[id].token == NULL)
		return vio__vq_fail(vq, -VIO_EUSED_STALE);
	if (!used_len(&wlen, wflag, vq->slot[id].in_bytes))
		return vio__vq_fail(vq, -VIO_EUSED_LEN);
	*id_out = id;
	*wlen_out = wlen;
	return 0;
}

/* Take validated buffer @id off the ring and, with EVENT_IDX, ask for an
 * event at the next used slot. */
static inline void reap(struct vio_vq *vq, uint16_t id)
{
	struct vio__vq_packed *p = &vq->u.packed;
	/* §2.8.7 / §2.8.9: the device skips the rest of the list (and, in
	 * order, of the batch); so do we, from our own record of its size. */
	vio__packed_advance(&p->last_used, &p->used_wrap, vq->slot[id].ndesc, vq->size);
	p->used_mark = vio__packed_used_flags(p->used_wrap);
	reclaim(vq, id);

	if (p->event_flags == VIO_RING_EVENT_FLAGS_DESC && vq->io_left == 0) {
		/* The fence orders this store before the next flags load
		 * (pairs with the device's fence in vio_devq_needs_notify()). */
		uint16_t ow = (uint16_t)(p->last_used |
					 ((unsigned)p->used_wrap << VIO_RING_EVENT_WRAP_SHIFT));
		VIO_WRITE_ONCE(p->driver->off_wrap.raw, vio_le16_make(ow).raw);
		VIO_CACHE_CLEAN(&p->driver->off_wrap, sizeof(p->driver->off_wrap));
		VIO_MB();
	}
}

/* get with IN_ORDER or a release hook; the plain case stays lean. */
VIO_NOINLINE static int get_slow(struct vio_vq *vq, void **token, uint32_t *len)
{
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
	reap(vq, id);
	/* After the used descriptor was read (acquire in read_used()): the
	 * device is done with the buffer, so a bounce can copy back. */
	if (vq->rec != NULL)
		release_buffer(vq, id);
	return 0;
}

int vio__vq_packed_get(struct vio_vq *vq, void **token, uint32_t *len)
{
	uint16_t id;

	if (vio_unlikely(vq->get_slow))
		return get_slow(vq, token, len);
	int rc = read_used(vq, &id, len);
	if (rc < 0)
		return rc;
	*token = vq->slot[id].token;
	reap(vq, id);
	return 0;
}

bool vio__vq_packed_has_used(const struct vio_vq *vq)
{
	const struct vio__vq_packed *p = &vq->u.packed;
	if (vq->io_left != 0)
		return true;
	VIO_CACHE_INVALIDATE(&p->desc[p->last_used].flags, sizeof(p->desc[p->last_used].flags));
	uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(p->desc[p->last_used].flags.raw));
	return vio__packed_is_used(flags, p->used_wrap);
}

static void set_event_flags(struct vio__vq_packed *p, uint16_t flags)
{
	p->event_flags = flags;
	VIO_WRITE_ONCE(p->driver->flags.raw, vio_le16_make(flags).raw);
	VIO_CACHE_CLEAN(&p->driver->flags, sizeof(p->driver->flags));
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
		VIO_CACHE_CLEAN(&p->driver->off_wrap, sizeof(p->driver->off_wrap));
		/* off_wrap before flags, so the device never sees DESC with a
		 * stale position (the release orders the two stores). */
		p->event_flags = VIO_RING_EVENT_FLAGS_DESC;
		VIO_STORE_RELEASE(p->driver->flags.raw,
				  vio_le16_make(VIO_RING_EVENT_FLAGS_DESC).raw);
		VIO_CACHE_CLEAN(&p->driver->flags, sizeof(p->driver->flags));
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
	VIO_CACHE_INVALIDATE(&p->desc[p->last_used].flags, sizeof(p->desc[p->last_used].flags));
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
			if (vq->rec != NULL)
				release_buffer(vq, id);
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
