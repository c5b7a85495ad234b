/* SPDX-License-Identifier: MIT */
/* Driver half of the split virtqueue (virtio 1.4 §2.7, driver requirements).
 *
 * The device is not trusted: nothing is read back from the descriptor table
 * or the available ring, and every used element is checked against the
 * private shadow in vq->slot[] before a token is handed out. */
#include "vq_hot.h"
#include "vq_impl.h"

void vio__vq_split_init(struct vio_vq *vq)
{
	struct vio__vq_split *s = &vq->u.split;
	const struct vio_vq_config *cfg = &vq->cfg;

	s->desc = cfg->desc;
	s->avail = cfg->driver_area;
	s->avail_ring = vio_split_avail_ring(s->avail);
	s->used_event = vio_split_used_event(s->avail, vq->size);
	s->used = cfg->device_area;
	s->used_ring = vio_split_used_ring(s->used);
	s->avail_event = vio_split_avail_event(s->used, vq->size);
	s->avail_idx = 0;
	s->kicked_idx = 0;
	s->last_used = 0;
	s->used_seen = 0;
	s->avail_flags = 0;
	s->used_event_on = vq->event_idx;

	VIO_MEMSET(s->desc, 0, vio_split_desc_size(vq->size));
	VIO_MEMSET(s->avail, 0, vio_split_avail_size(vq->size));
	VIO_MEMSET(s->used, 0, vio_split_used_size(vq->size));
	VIO_CACHE_CLEAN(s->desc, vio_split_desc_size(vq->size));
	VIO_CACHE_CLEAN(s->avail, vio_split_avail_size(vq->size));
	VIO_CACHE_CLEAN(s->used, vio_split_used_size(vq->size));

	/* Free list 0 -> 1 -> ... -> size-1 (which also gives in-order use). */
	for (uint16_t i = 0; i < vq->size; i++) {
		vq->slot[i].token = NULL;
		vq->slot[i].ndesc = 0;
		vq->slot[i].next = (uint16_t)((i + 1u) & vq->mask);
	}
	vq->free_head = 0;
}

/* Write one descriptor into the shared table and its private shadow. */
static inline void put_desc(struct vio_split_desc *d, struct vio__vq_cold *sh, uint64_t addr,
			    uint32_t len, uint16_t flags, uint16_t next)
{
	d->addr = vio_le64_make(addr);
	d->len = vio_le32_make(len);
	d->flags = vio_le16_make(flags);
	d->next = vio_le16_make(next);
	VIO_CACHE_CLEAN(d, sizeof(*d)); /* before publish() makes it available */
	sh->len = len;
	sh->flags = flags;
}

/* put_desc() for a descriptor without NEXT: its next field is left as it
 * is, since the device ignores it (§2.7.5: next is used only with NEXT). */
static inline void put_desc1(struct vio_split_desc *d, struct vio__vq_cold *sh, uint64_t addr,
			     uint32_t len, uint16_t flags)
{
	d->addr = vio_le64_make(addr);
	d->len = vio_le32_make(len);
	d->flags = vio_le16_make(flags);
	VIO_CACHE_CLEAN(d, sizeof(*d)); /* before publish() makes it available */
	sh->len = len;
	sh->flags = flags;
}

/* Fill the indirect table of slot @head with all segments and convert it;
 * its device address goes to @table_addr. On failure every conversion made
 * here has been released. */
static int fill_indirect(struct vio_vq *vq, uint16_t head, const struct vio_sg *sg, unsigned out,
			 unsigned total, uint64_t *table_addr, struct vio__vq_len *l)
{
	struct vio_split_desc *tbl = vio__vq_indirect_table(vq, head);
	struct vio__vq_rec *r = vq->irec != NULL ? vio__vq_irec(vq, head) : NULL;

	for (unsigned i = 0; i < total; i++) {
		struct vio__vq_conv c = vio__vq_to_device(vq, sg[i].addr, sg[i].len,
							  vio__vq_seg_dir(i, out), r, 1 + i);
		uint64_t addr = c.addr;
		if (c.rc < 0) {
			if (r != NULL)
				vio__vq_release_indirect(vq, head, i, false);
			return c.rc;
		}
		vio__vq_len_add(l, sg[i].len, i >= out);
		uint16_t flags = (uint16_t)((i >= out ? VIO_DESC_F_WRITE : 0) |
					    (i + 1 < total ? VIO_DESC_F_NEXT : 0));
		tbl[i].addr = vio_le64_make(addr);
		tbl[i].len = vio_le32_make(sg[i].len);
		tbl[i].flags = vio_le16_make(flags);
		tbl[i].next = vio_le16_make((uint16_t)(i + 1 < total ? i + 1 : 0));
	}
	if (!vio__vq_len_ok(l)) {
		if (r != NULL)
			vio__vq_release_indirect(vq, head, total, false);
		return -VIO_EINVAL;
	}
	/* The table is complete before it is converted (a bounce copies it)
	 * and before the ring descriptor that points at it is published. */
	uint32_t tlen = (uint32_t)(total * 16u);
	VIO_CACHE_CLEAN(tbl, tlen);
	struct vio__vq_conv c = vio__vq_to_device(vq, tbl, tlen, VIO_DMA_TO_DEVICE, r, 0);
	if (c.rc < 0 && r != NULL)
		vio__vq_release_indirect(vq, head, total, false);
	*table_addr = c.addr;
	return c.rc;
}

/* A direct chain failed after @n descriptors from @head were written:
 * nothing reached the available ring and the slots stay free. Release
 * their conversions. */
static void undo_direct(struct vio_vq *vq, uint16_t head, unsigned n)
{
	uint16_t k = head;
	for (unsigned i = 0; i < n; i++, k = vq->slot[k].next)
		if (vq->rec != NULL)
			vio__vq_rec_release(vq, &vq->rec[k]);
}

/* Make the chain at @head available: bookkeeping and the avail ring. */
static inline void publish(struct vio_vq *vq, uint16_t head, uint16_t ndesc, uint32_t in_bytes,
			   void *token)
{
	struct vio__vq_split *s = &vq->u.split;
	struct vio__vq_slot *hs = &vq->slot[head];

	if (vq->in_order)
		vio__vq_in_order_added(vq, head);
	hs->token = token;
	hs->in_bytes = in_bytes;
	hs->ndesc = ndesc;
	vq->num_free = (uint16_t)(vq->num_free - ndesc);
	vq->outstanding++;

	/* One available ring entry per buffer (avail_idx also counts what the
	 * kick decision spans). */
	vio_le16 *entry = &s->avail_ring[s->avail_idx & vq->mask];
	VIO_WRITE_ONCE(entry->raw, vio_le16_make(head).raw);
	VIO_CACHE_CLEAN(entry, sizeof(*entry));
	s->avail_idx++;
	/* Release: the descriptors and the ring entry above are visible before
	 * the index that publishes them. Pairs with the device's acquire load
	 * of avail->idx (devq_split.c). The index itself is then written back
	 * for a non-coherent device. */
	VIO_STORE_RELEASE(s->avail->idx.raw, vio_le16_make((uint16_t)s->avail_idx).raw);
	VIO_CACHE_CLEAN(&s->avail->idx, sizeof(s->avail->idx));
}

/* A chain in the indirect table of its head slot: one ring descriptor. */
static int add_indirect(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned total,
			void *token)
{
	struct vio__vq_split *s = &vq->u.split;
	uint16_t head = vq->free_head;
	struct vio__vq_slot *hs = &vq->slot[head];
	struct vio__vq_len l = {0, 0};
	uint64_t taddr;

	if (vq->num_free < 1)
		return -VIO_ENOSPC;
	int rc = fill_indirect(vq, head, sg, out, total, &taddr, &l);
	if (rc < 0)
		return rc;
	put_desc(&s->desc[head], &vq->cold[head], taddr, (uint32_t)(total * 16u),
		 VIO_DESC_F_INDIRECT, 0);
	vq->free_head = hs->next;
	publish(vq, head, 1, (uint32_t)l.in, token);
	return 0;
}

/* A chain of several descriptors in the ring (free slots checked). */
static int add_direct(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned total,
		      void *token)
{
	struct vio__vq_split *s = &vq->u.split;
	uint16_t head = vq->free_head, i = head;
	struct vio__vq_len l = {0, 0};

	const bool plain = vq->dma == NULL; /* the stores below may alias *vq */
	for (unsigned n = 0; n < total; n++) {
		struct vio__vq_slot *sl = &vq->slot[i];
		uint64_t addr = (uint64_t)(uintptr_t)sg[n].addr;
		if (vio_unlikely(!plain)) {
			struct vio__vq_conv c = vio__vq_map(vq, sg[n].addr, sg[n].len,
							    vio__vq_seg_dir(n, out), vq->rec, i);
			if (c.rc < 0) {
				undo_direct(vq, head, n); /* nothing is published */
				return c.rc;
			}
			addr = c.addr;
		}
		vio__vq_len_add(&l, sg[n].len, n >= out);
		uint16_t flags = (uint16_t)((n + 1 < total ? VIO_DESC_F_NEXT : 0) |
					    (n >= out ? VIO_DESC_F_WRITE : 0));
		put_desc(&s->desc[i], &vq->cold[i], addr, sg[n].len, flags, sl->next);
		i = sl->next;
	}
	if (vio_unlikely(!vio__vq_len_ok(&l))) {
		undo_direct(vq, head, total); /* nothing is published */
		return -VIO_EINVAL;
	}
	vq->free_head = i;
	publish(vq, head, (uint16_t)total, (uint32_t)l.in, token);
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

int vio__vq_split_add(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		      void *token)
{
	struct vio__vq_split *s = &vq->u.split;
	unsigned total = out + in;

	if (vio_unlikely(!vio__vq_add_single(vq, total)))
		return add_chain(vq, sg, out, total, token);

	/* The common single-buffer request, without the chain loop. */
	uint16_t head = vq->free_head;
	struct vio__vq_slot *hs = &vq->slot[head];
	struct vio__vq_conv c = vio__vq_to_device_single(vq, sg, in, head);
	if (vio_unlikely(c.rc < 0))
		return c.rc;
	uint64_t addr = c.addr;
	put_desc1(&s->desc[head], &vq->cold[head], addr, sg[0].len, in != 0 ? VIO_DESC_F_WRITE : 0);
	vq->free_head = hs->next;
	publish(vq, head, 1, in != 0 ? sg[0].len : 0, token);
	return 0;
}

bool vio__vq_split_kick_prepare(struct vio_vq *vq)
{
	return vio__vq_split_kick1(vq);
}

/* Refresh the device's used index; false (queue broken) if it jumped. */
static inline int refresh_used(struct vio_vq *vq)
{
	struct vio__vq_split *s = &vq->u.split;
	/* Acquire: the used elements up to idx are read after it. Pairs with
	 * the device's release store of used->idx. */
	VIO_CACHE_INVALIDATE(&s->used->idx, sizeof(s->used->idx));
	uint16_t idx = vio_le16_get((vio_le16){VIO_LOAD_ACQUIRE(s->used->idx.raw)});
	/* The device can only complete what it holds. */
	if ((uint16_t)(idx - s->last_used) > vq->outstanding)
		return vio__vq_fail(vq, -VIO_EUSED_JUMP);
	s->used_seen = idx;
	return 0;
}

/* End the conversions of the chain at @head, from the private records
 * (the descriptors may have been rewritten by the device). */
VIO_NOINLINE static void release_chain(struct vio_vq *vq, uint16_t head)
{
	const struct vio__vq_cold *hc = &vq->cold[head];
	if (hc->flags & VIO_DESC_F_INDIRECT) {
		vio__vq_release_indirect(vq, head, hc->len / 16u, true);
		return;
	}
	/* The shadow flags say where the chain ends (reclaim() relinks only
	 * its last slot, whose flags have no NEXT, and clears ndesc). */
	for (uint16_t i = head;; i = vq->slot[i].next) {
		vio__vq_rec_release(vq, &vq->rec[i]);
		if ((vq->cold[i].flags & VIO_DESC_F_NEXT) == 0)
			break;
	}
}

/* Return the chain at @head to the free list. Its conversions are released
 * by the caller, after this: the walk in release_chain() follows only links
 * inside the chain and the shadow flags, which reclaiming leaves alone. */
static inline void reclaim(struct vio_vq *vq, uint16_t head)
{
	struct vio__vq_slot *hs = &vq->slot[head];
	uint16_t n = hs->ndesc, tail = head;

	hs->token = NULL;
	hs->ndesc = 0; /* nonzero only on the head of an outstanding chain */
	for (uint16_t k = 1; k < n; k++)
		tail = vq->slot[tail].next;
	/* IN_ORDER: descriptors are used in ring order (§2.7.5), so the free
	 * list stays the sequence 0, 1, ... and is not relinked. */
	if (!vq->in_order) {
		vq->slot[tail].next = vq->free_head;
		vq->free_head = head;
	}
	vq->num_free = (uint16_t)(vq->num_free + n);
	vq->outstanding--;
}

/* Whether slot @id is inside an outstanding chain, after its head: the
 * private links of every chain (its head has a nonzero ndesc), ndesc - 1
 * steps from the head; they change only when the chain is reclaimed. At
 * most size steps in all, on the way to failing the queue only: the add
 * and get paths keep no mark for it. */
static bool in_chain(const struct vio_vq *vq, uint16_t id)
{
	for (uint32_t h = 0; h < vq->size; h++) {
		uint16_t t = (uint16_t)h;
		for (uint16_t k = 1; k < vq->slot[h].ndesc; k++) {
			t = vq->slot[t].next;
			if (t == id)
				return true;
		}
	}
	return false;
}

/* Validate the used element at last_used and, with IN_ORDER, open a batch.
 * Returns the head it names. */
static inline int read_used(struct vio_vq *vq, uint16_t *head, uint32_t *wlen_out)
{
	struct vio__vq_split *s = &vq->u.split;
	struct vio_split_used_elem *e = &s->used_ring[s->last_used & vq->mask];
	VIO_CACHE_INVALIDATE(e, sizeof(*e)); /* after the used index was read */
	uint32_t id = vio_le32_get((vio_le32){VIO_READ_ONCE(e->id.raw)});
	uint32_t wlen = vio_le32_get((vio_le32){VIO_READ_ONCE(e->len.raw)});

	if (id >= vq->size)
		return vio__vq_fail(vq, -VIO_EUSED_ID);
	struct vio__vq_slot *hs = &vq->slot[id];
	/* Only the head of an outstanding chain has a nonzero ndesc. */
	if (hs->ndesc == 0)
		return vio__vq_fail(vq, in_chain(vq, (uint16_t)id) ? -VIO_EUSED_MIDCHAIN
								   : -VIO_EUSED_STALE);
	if (wlen > hs->in_bytes)
		return vio__vq_fail(vq, -VIO_EUSED_LEN);
	*head = (uint16_t)id;
	*wlen_out = wlen;
	return 0;
}

/* IN_ORDER: one used entry may complete several buffers (§2.7.9). */
static int get_in_order(struct vio_vq *vq, void **token, uint32_t *len, uint16_t *reaped)
{
	struct vio__vq_split *s = &vq->u.split;
	uint16_t head;

	if (vq->io_left == 0) {
		uint32_t wlen;
		int rc = read_used(vq, &head, &wlen);
		if (rc < 0)
			return rc;
		uint16_t k = vio__vq_in_order_batch(vq, head);
		if (k == 0)
			return vio__vq_fail(vq, -VIO_EUSED_STALE);
		/* The used index moved by the whole batch at once. */
		if ((uint16_t)(s->used_seen - s->last_used) < k)
			return vio__vq_fail(vq, -VIO_EUSED_JUMP);
		vq->io_left = k;
		vq->io_last = head;
		vq->io_len = wlen;
	}
	head = vio__vq_in_order_take(vq, token, len);
	reclaim(vq, head);
	s->last_used++;
	*reaped = head;
	return 0;
}

/* Take the validated buffer at @head off the used ring. */
static inline void reap(struct vio_vq *vq, uint16_t head, void **token)
{
	*token = vq->slot[head].token;
	reclaim(vq, head);
	vq->u.split.last_used++;
}

/* After a reap: with EVENT_IDX, ask for a notification at the next completion. */
static inline void ask_next_used(struct vio_vq *vq)
{
	struct vio__vq_split *s = &vq->u.split;
	if (s->used_event_on) {
		/* §2.7.7.2. The fence orders this store before the next
		 * used->idx load, so a completion is either seen there or
		 * notified (pairs with the device's fence in
		 * vio_devq_needs_notify()). */
		VIO_WRITE_ONCE(s->used_event->raw, vio_le16_make(s->last_used).raw);
		VIO_CACHE_CLEAN(s->used_event, sizeof(*s->used_event));
		VIO_MB();
	}
}

/* get with IN_ORDER or a release hook; the plain case stays lean. */
VIO_NOINLINE static int get_slow(struct vio_vq *vq, void **token, uint32_t *len)
{
	uint16_t head;
	int rc = vq->in_order ? get_in_order(vq, token, len, &head) : read_used(vq, &head, len);
	if (rc < 0)
		return rc;
	if (!vq->in_order)
		reap(vq, head, token);
	ask_next_used(vq);
	/* After the used element was read (acquire in refresh_used()): the
	 * device is done with the buffer, so a bounce can copy back. */
	if (vq->rec != NULL)
		release_chain(vq, head);
	return 0;
}

int vio__vq_split_get(struct vio_vq *vq, void **token, uint32_t *len)
{
	struct vio__vq_split *s = &vq->u.split;

	if (vq->io_left == 0 && s->last_used == s->used_seen) {
		int rc = refresh_used(vq);
		if (rc < 0)
			return rc;
		if (s->last_used == s->used_seen)
			return -VIO_EAGAIN;
	}
	if (vio_unlikely(vq->get_slow))
		return get_slow(vq, token, len);

	uint16_t head;
	int rc = read_used(vq, &head, len);
	if (rc < 0)
		return rc;
	reap(vq, head, token);
	ask_next_used(vq);
	return 0;
}

bool vio__vq_split_has_used(const struct vio_vq *vq)
{
	const struct vio__vq_split *s = &vq->u.split;
	if (vq->io_left != 0 || s->last_used != s->used_seen)
		return true;
	VIO_CACHE_INVALIDATE(&s->used->idx, sizeof(s->used->idx));
	uint16_t idx = vio_le16_get((vio_le16){VIO_LOAD_ACQUIRE(s->used->idx.raw)});
	return idx != s->last_used;
}

void vio__vq_split_disable_intr(struct vio_vq *vq)
{
	struct vio__vq_split *s = &vq->u.split;

	if (s->avail_flags & VIO_AVAIL_F_NO_INTERRUPT)
		return;
	s->avail_flags |= VIO_AVAIL_F_NO_INTERRUPT;
	s->used_event_on = false;
	if (vq->event_idx) {
		/* The device ignores flags with EVENT_IDX (§2.7.7.2): move the
		 * event half the index space away, where the used index cannot
		 * reach while at most `size` buffers are outstanding. */
		VIO_WRITE_ONCE(s->used_event->raw,
			       vio_le16_make((uint16_t)(s->last_used + 0x8000u)).raw);
		VIO_CACHE_CLEAN(s->used_event, sizeof(*s->used_event));
	} else {
		VIO_WRITE_ONCE(s->avail->flags.raw, vio_le16_make(s->avail_flags).raw);
		VIO_CACHE_CLEAN(&s->avail->flags, sizeof(s->avail->flags));
	}
}

bool vio__vq_split_enable_intr(struct vio_vq *vq, bool delayed)
{
	struct vio__vq_split *s = &vq->u.split;
	uint16_t ev = s->last_used;

	if (delayed && vq->event_idx) {
		/* Wait for about three quarters of the outstanding buffers. */
		uint16_t pending = (uint16_t)((uint16_t)s->avail_idx - s->last_used);
		ev = (uint16_t)(s->last_used + (uint16_t)((pending * 3u) / 4u));
	}
	s->avail_flags &= (uint16_t)~VIO_AVAIL_F_NO_INTERRUPT;
	s->used_event_on = vq->event_idx;
	if (vq->event_idx) {
		VIO_WRITE_ONCE(s->used_event->raw, vio_le16_make(ev).raw);
		VIO_CACHE_CLEAN(s->used_event, sizeof(*s->used_event));
	} else {
		VIO_WRITE_ONCE(s->avail->flags.raw, vio_le16_make(s->avail_flags).raw);
		VIO_CACHE_CLEAN(&s->avail->flags, sizeof(s->avail->flags));
	}
	/* Store the request, then look: a completion is either seen here or
	 * notified. Pairs with the fence in vio_devq_needs_notify(). */
	VIO_MB();
	/* Completions already seen (or the rest of an IN_ORDER batch) are
	 * pending whatever the index says now: a device moving used->idx
	 * back must not make them look reaped. */
	if (vq->io_left != 0 || s->last_used != s->used_seen)
		return false;
	VIO_CACHE_INVALIDATE(&s->used->idx, sizeof(s->used->idx));
	uint16_t idx = vio_le16_get((vio_le16){VIO_READ_ONCE(s->used->idx.raw)});
	return (uint16_t)(idx - s->last_used) <= (uint16_t)(ev - s->last_used);
}

int vio__vq_split_detach_unused(struct vio_vq *vq, void **token)
{
	vq->io_left = 0;
	if (vq->outstanding == 0) {
		vq->detach_cursor = 0;
		return -VIO_EAGAIN;
	}
	for (unsigned n = 0; n < vq->size; n++) {
		uint16_t i = vq->detach_cursor;
		vq->detach_cursor = (uint16_t)((i + 1u) & vq->mask);
		if (vq->slot[i].ndesc != 0) {
			*token = vq->slot[i].token;
			reclaim(vq, i);
			if (vq->rec != NULL)
				release_chain(vq, i);
			return 0;
		}
	}
	return -VIO_EAGAIN; /* unreachable while outstanding > 0 */
}

uint32_t vio__vq_split_notify_data(const struct vio_vq *vq)
{
	/* §2.9: the full 16-bit available index travels in next_off/next_wrap. */
	return vio_notify_data_make(vq->index, (uint16_t)vq->u.split.avail_idx, false);
}
