/* SPDX-License-Identifier: MIT */
/* Private: the driver queue's fast paths, inlined into the public entry
 * points of vq.c. Each handles the common case of one step (one segment in,
 * one plain completion out) on a healthy queue without DMA hooks or
 * IN_ORDER, makes no call, and returns; anything else goes to the general
 * code in vq_split.c / vq_packed.c, which handles every case (the fast
 * paths included) and is never skipped for a check.
 *
 * vq->hot is the one test: VIO__HOT_SPLIT or VIO__HOT_PACKED only while the
 * queue is not broken, has no DMA hooks and did not negotiate IN_ORDER
 * (vio__vq_hot_update()). Nothing here needs LTO to be inlined. */
#ifndef VIO_LIB_RING_VQ_HOT_H
#define VIO_LIB_RING_VQ_HOT_H

#include "packed_event.h"
#include "vq_impl.h"

/* A direct chain the fast paths take: token and sg given, @total = out + in
 * segments (not wrapping), at least one, as many ring slots free, and too
 * short for an indirect table (vio__vq_want_indirect() false: with the
 * slots free it asks only whether total reaches indirect_min). */
static inline bool vio__vq_direct_ok(const struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				     unsigned total, const void *token)
{
	return total >= out && total - 1u < vq->num_free && total < vq->indirect_min &&
	       token != NULL && sg != NULL;
}

/* ---- split ---------------------------------------------------------------- */

/* One segment, @in 0 (device-readable) or 1 (device-writable), into the
 * free slot at free_head (the caller checked one is free). The descriptor's
 * next field is not written: without NEXT the device ignores it (§2.7.5). */
static VIO_ALWAYS_INLINE int vio__vq_split_add1(struct vio_vq *vq, const struct vio_sg *sg,
						unsigned in, void *token)
{
	struct vio__vq_split *s = &vq->u.split;
	uint16_t head = vq->free_head;
	struct vio__vq_slot *hs = &vq->slot[head];
	uint32_t len = sg->len;
	struct vio_split_desc *d = &s->desc[head];

	d->addr = vio_le64_make((uint64_t)(uintptr_t)sg->addr);
	d->len = vio_le32_make(len);
	d->flags = vio_le16_make((uint16_t)(in * VIO_DESC_F_WRITE));
	VIO_CACHE_CLEAN(d, sizeof(*d));
	hs->token = token;
	hs->in_bytes = len & (0u - in);
	hs->ndesc = 1;
	vq->free_head = hs->next;
	vq->num_free--;
	vq->outstanding++;

	uint32_t idx = s->avail_idx;
	vio_le16 *entry = &s->avail_ring[idx & vq->mask];
	VIO_WRITE_ONCE(entry->raw, vio_le16_make(head).raw);
	VIO_CACHE_CLEAN(entry, sizeof(*entry));
	idx++;
	s->avail_idx = idx;
	/* Release: descriptor and entry before the index (as publish() in
	 * vq_split.c; pairs with the device's acquire load of avail->idx). */
	VIO_STORE_RELEASE(s->avail->idx.raw, vio_le16_make((uint16_t)idx).raw);
	VIO_CACHE_CLEAN(&s->avail->idx, sizeof(s->avail->idx));
	return 0;
}

/* One descriptor of a split chain, with its next link. */
static VIO_ALWAYS_INLINE void vio__vq_split_put(struct vio_split_desc *d, const struct vio_sg *g,
						uint16_t flags, uint16_t next)
{
	d->addr = vio_le64_make((uint64_t)(uintptr_t)g->addr);
	d->len = vio_le32_make(g->len);
	d->flags = vio_le16_make(flags);
	d->next = vio_le16_make(next);
	VIO_CACHE_CLEAN(d, sizeof(*d));
}

/* A non-head descriptor of a direct chain at free slot @i, written (only
 * the head's slot is marked, by its ndesc: the general get tells a used id
 * naming a slot inside a chain apart from a stale one by the chains' own
 * links). Returns the next free slot. */
static VIO_ALWAYS_INLINE uint16_t vio__vq_split_link(struct vio_vq *vq, struct vio_split_desc *desc,
						     uint16_t i, const struct vio_sg *g,
						     uint16_t flags)
{
	uint16_t next = vq->slot[i].next;
	vio__vq_split_put(&desc[i], g, flags, next);
	return next;
}

/* A direct chain of @total > 1 segments (vio__vq_direct_ok()); the shadow
 * slots keep what get needs, the rest of vio__vq_split_add's bookkeeping
 * (len/flags shadows, records) exists only with DMA hooks. Every link is
 * written with NEXT, the readable ones first, then the writable ones, and
 * the last descriptor's flags are rewritten without NEXT (nothing is
 * published before the available index moves). 1: the lengths sum to
 * 2^32 or more; nothing is published and the general add, which rewrites
 * the same slots, reports it. */
static VIO_ALWAYS_INLINE int vio__vq_split_addn(struct vio_vq *vq, const struct vio_sg *sg,
						unsigned out, unsigned total, void *token)
{
	struct vio__vq_split *s = &vq->u.split;
	struct vio_split_desc *desc = s->desc;
	const uint16_t head = vq->free_head;
	struct vio__vq_slot *hs = &vq->slot[head];
	uint16_t i = hs->next, last = head;
	uint64_t all = sg[0].len, out_bytes;
	unsigned n;

	vio__vq_split_put(&desc[head], &sg[0],
			  (uint16_t)(VIO_DESC_F_NEXT | (out == 0 ? VIO_DESC_F_WRITE : 0)), i);
	for (n = 1; n < out; n++) {
		last = i;
		all += sg[n].len;
		i = vio__vq_split_link(vq, desc, i, &sg[n], VIO_DESC_F_NEXT);
	}
	out_bytes = out != 0 ? all : 0;
	for (; n < total; n++) {
		last = i;
		all += sg[n].len;
		i = vio__vq_split_link(vq, desc, i, &sg[n], VIO_DESC_F_NEXT | VIO_DESC_F_WRITE);
	}
	/* The chain ends here: writable unless it has no writable part. */
	desc[last].flags = vio_le16_make((uint16_t)(total > out ? VIO_DESC_F_WRITE : 0));
	VIO_CACHE_CLEAN(&desc[last].flags, sizeof(desc[last].flags));
	if (vio_unlikely(all > UINT32_MAX))
		return 1;
	hs->token = token;
	hs->in_bytes = (uint32_t)(all - out_bytes);
	hs->ndesc = (uint16_t)total;
	vq->free_head = i;
	vq->num_free = (uint16_t)(vq->num_free - total);
	vq->outstanding++;

	uint32_t idx = s->avail_idx;
	vio_le16 *entry = &s->avail_ring[idx & vq->mask];
	VIO_WRITE_ONCE(entry->raw, vio_le16_make(head).raw);
	VIO_CACHE_CLEAN(entry, sizeof(*entry));
	idx++;
	s->avail_idx = idx;
	/* Release: the chain and the entry before the index. */
	VIO_STORE_RELEASE(s->avail->idx.raw, vio_le16_make((uint16_t)idx).raw);
	VIO_CACHE_CLEAN(&s->avail->idx, sizeof(s->avail->idx));
	return 0;
}

/* The longest direct chain vio__vq_split_addk() takes. */
#define VIO__VQ_ADDK_MAX 3u

/* vio__vq_split_addn() for a chain whose @total (2..VIO__VQ_ADDK_MAX) and
 * @out are compile-time constants (the caller switches on them): no loop,
 * no flag arithmetic, everything in registers. Writes what
 * vio__vq_split_addn() writes, byte for byte (each descriptor's next field
 * included), and returns 1 in the same case. */
static VIO_ALWAYS_INLINE int vio__vq_split_addk(struct vio_vq *vq, const struct vio_sg *sg,
						const unsigned out, const unsigned total,
						void *token)
{
	struct vio__vq_split *s = &vq->u.split;
	struct vio_split_desc *const desc = s->desc;
	struct vio__vq_slot *const slot = vq->slot;
	/* Written out for up to three segments: compilers do not reliably
	 * unroll a loop with a constant count into registers. Each segment is
	 * written as it is read, so that little stays live. */
#define VIO__F(k)                                                                                  \
	((uint16_t)(((k) + 1u < total ? VIO_DESC_F_NEXT : 0u) |                                    \
		    ((k) >= out ? VIO_DESC_F_WRITE : 0u)))
	const uint16_t i0 = vq->free_head;
	const uint16_t i1 = slot[i0].next;
	uint64_t all = sg[0].len, out_bytes = 0;
	vio__vq_split_put(&desc[i0], &sg[0], VIO__F(0), i1);
	if (out == 1)
		out_bytes = all;
	const uint16_t i2 = slot[i1].next;
	all += sg[1].len;
	vio__vq_split_put(&desc[i1], &sg[1], VIO__F(1), i2);
	if (out == 2)
		out_bytes = all;
	uint16_t end = i2;
	if (total > 2) {
		end = slot[i2].next;
		all += sg[2].len;
		vio__vq_split_put(&desc[i2], &sg[2], VIO__F(2), end);
	}
	if (out == 3)
		out_bytes = all;
#undef VIO__F
	/* As vio__vq_split_addn(): the general add rewrites these slots. */
	if (vio_unlikely(all > UINT32_MAX))
		return 1;
	uint64_t in_bytes = all - out_bytes;
	struct vio__vq_slot *hs = &slot[i0];
	hs->token = token;
	hs->in_bytes = (uint32_t)in_bytes;
	hs->ndesc = (uint16_t)total;
	vq->free_head = end;
	vq->num_free = (uint16_t)(vq->num_free - total);
	vq->outstanding++;

	uint32_t idx = s->avail_idx;
	vio_le16 *entry = &s->avail_ring[idx & vq->mask];
	VIO_WRITE_ONCE(entry->raw, vio_le16_make(i0).raw);
	VIO_CACHE_CLEAN(entry, sizeof(*entry));
	idx++;
	s->avail_idx = idx;
	/* Release: the chain and the entry before the index. */
	VIO_STORE_RELEASE(s->avail->idx.raw, vio_le16_make((uint16_t)idx).raw);
	VIO_CACHE_CLEAN(&s->avail->idx, sizeof(s->avail->idx));
	return 0;
}

/* A split chain in the indirect table of its head slot
 * (add_table() in vq.c), as add_indirect() in vq_split.c writes it
 * without DMA hooks: entries linked k -> k + 1, readable ones first; the
 * last one's flags and link rewritten (nothing is published before the
 * available index moves). 1: the lengths sum to 2^32 or more; nothing is
 * published and the general add reports it. */
static VIO_ALWAYS_INLINE int vio__vq_split_addi(struct vio_vq *vq, const struct vio_sg *sg,
						unsigned out, unsigned total, void *token)
{
	struct vio__vq_split *s = &vq->u.split;
	const uint16_t head = vq->free_head;
	struct vio__vq_slot *hs = &vq->slot[head];
	struct vio_split_desc *tbl = vio__vq_indirect_table(vq, head);
	uint64_t all = 0, out_bytes;
	unsigned n;

	for (n = 0; n < out; n++) {
		all += sg[n].len;
		vio__vq_split_put(&tbl[n], &sg[n], VIO_DESC_F_NEXT, (uint16_t)(n + 1));
	}
	out_bytes = all;
	for (; n < total; n++) {
		all += sg[n].len;
		vio__vq_split_put(&tbl[n], &sg[n], VIO_DESC_F_NEXT | VIO_DESC_F_WRITE,
				  (uint16_t)(n + 1));
	}
	struct vio_split_desc *lastd = &tbl[total - 1];
	lastd->flags = vio_le16_make((uint16_t)(total > out ? VIO_DESC_F_WRITE : 0));
	lastd->next = vio_le16_make(0);
	if (vio_unlikely(all > UINT32_MAX))
		return 1;
	uint32_t tlen = (uint32_t)(total * 16u);
	/* The table is complete before the descriptor that points at it. */
	VIO_CACHE_CLEAN(tbl, tlen);
	struct vio_split_desc *d = &s->desc[head];
	d->addr = vio_le64_make((uint64_t)(uintptr_t)tbl);
	d->len = vio_le32_make(tlen);
	d->flags = vio_le16_make(VIO_DESC_F_INDIRECT);
	d->next = vio_le16_make(0);
	VIO_CACHE_CLEAN(d, sizeof(*d));
	hs->token = token;
	hs->in_bytes = (uint32_t)(all - out_bytes);
	hs->ndesc = 1;
	vq->free_head = hs->next;
	vq->num_free--;
	vq->outstanding++;

	uint32_t idx = s->avail_idx;
	vio_le16 *entry = &s->avail_ring[idx & vq->mask];
	VIO_WRITE_ONCE(entry->raw, vio_le16_make(head).raw);
	VIO_CACHE_CLEAN(entry, sizeof(*entry));
	idx++;
	s->avail_idx = idx;
	/* Release: table, descriptor and entry before the index. */
	VIO_STORE_RELEASE(s->avail->idx.raw, vio_le16_make((uint16_t)idx).raw);
	VIO_CACHE_CLEAN(&s->avail->idx, sizeof(s->avail->idx));
	return 0;
}

/* vio_vq_add_batch()'s split loop for one-segment buffers (@in 0 or 1):
 * up to @n of them, each as vio__vq_split_add1() writes it, the available
 * index published once after the last. Stops before a NULL token, a NULL
 * segment array or a full ring (the caller's general add reports those).
 * Returns the count. */
static VIO_ALWAYS_INLINE unsigned vio__vq_split_add_batch1(struct vio_vq *vq,
							   const struct vio_sg *sg, unsigned in,
							   void *const *tokens, unsigned n)
{
	struct vio__vq_split *s = &vq->u.split;
	struct vio_split_desc *const desc = s->desc;
	vio_le16 *const ring = s->avail_ring;
	struct vio__vq_slot *const slot = vq->slot;
	const uint16_t mask = vq->mask;
	const uint16_t wflag = (uint16_t)(in * VIO_DESC_F_WRITE);
	const uint32_t inmask = 0u - in;
	unsigned m = n < vq->num_free ? n : vq->num_free, k;
	uint16_t head = vq->free_head;
	uint32_t idx = s->avail_idx;

	for (k = 0; k < m; k++) {
		void *token = tokens[k];
		if (vio_unlikely(token == NULL))
			break;
		const struct vio_sg *g = &sg[k];
		struct vio_split_desc *d = &desc[head];
		struct vio__vq_slot *hs = &slot[head];
		uint32_t len = g->len;
		d->addr = vio_le64_make((uint64_t)(uintptr_t)g->addr);
		d->len = vio_le32_make(len);
		d->flags = vio_le16_make(wflag);
		VIO_CACHE_CLEAN(d, sizeof(*d));
		hs->token = token;
		hs->in_bytes = len & inmask;
		hs->ndesc = 1;
		vio_le16 *entry = &ring[idx & mask];
		VIO_WRITE_ONCE(entry->raw, vio_le16_make(head).raw);
		VIO_CACHE_CLEAN(entry, sizeof(*entry));
		idx++;
		head = hs->next;
	}
	if (k == 0)
		return 0;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free - k);
	vq->outstanding = (uint16_t)(vq->outstanding + k);
	s->avail_idx = idx;
	/* Release: every descriptor and entry above before the index that
	 * publishes them all (pairs with the device's acquire load). */
	VIO_STORE_RELEASE(s->avail->idx.raw, vio_le16_make((uint16_t)idx).raw);
	VIO_CACHE_CLEAN(&s->avail->idx, sizeof(s->avail->idx));
	return k;
}

/* The whole of vio__vq_split_kick_prepare() (it has no slow case). */
static VIO_ALWAYS_INLINE bool vio__vq_split_kick1(struct vio_vq *vq)
{
	struct vio__vq_split *s = &vq->u.split;
	uint32_t old = s->kicked_idx, new_idx = s->avail_idx;
	/* Buffers added since the last kick_prepare, in 32 bits: 0 only if
	 * none, and at least 0xffff when the 16-bit indices cannot tell. */
	uint32_t moved = new_idx - old;

	/* Full fence: avail->idx before the device's suppression fields
	 * (pairs with the fence in vio_devq_enable_notify()). */
	VIO_MB();
	s->kicked_idx = new_idx;
	if (!vq->event_idx) {
		VIO_CACHE_INVALIDATE(&s->used->flags, sizeof(s->used->flags));
		uint16_t flags = vio_le16_get((vio_le16){VIO_READ_ONCE(s->used->flags.raw)});
		return moved != 0 && (flags & VIO_USED_F_NO_NOTIFY) == 0;
	}
	if (moved >= 0xffffu)
		return true;
	VIO_CACHE_INVALIDATE(s->avail_event, sizeof(*s->avail_event));
	uint16_t ev = vio_le16_get((vio_le16){VIO_READ_ONCE(s->avail_event->raw)});
	/* vio_need_event(ev, new, old): its (uint16_t)(new - old) is moved,
	 * below 0xffff here (so a 16-bit compare). */
	return (uint16_t)((uint16_t)new_idx - ev - 1u) < (uint16_t)moved;
}

/* The last slot of the chain of @n > 1 descriptors at @hs, following the
 * chain's private links (never the shared descriptors), to be linked to
 * the free list. (vio__vq_split_get1's; the batch loop keeps a plain
 * loop.) */
static VIO_ALWAYS_INLINE struct vio__vq_slot *
vio__vq_split_unchain(struct vio__vq_slot *slot, struct vio__vq_slot *hs, unsigned n)
{
	uint16_t t = hs->next;
	/* Chains of two and three descriptors without a loop (a loop of
	 * loads alone, clang unrolls with a remainder that a chain of three
	 * would pay). */
	if (vio_unlikely(n > 2)) {
		t = slot[t].next;
		if (vio_unlikely(n > 3))
			for (unsigned k = 3; k < n; k++)
				t = slot[t].next;
	}
	return &slot[t];
}

/* 1: not the fast case, nothing changed (the general get redoes it all). */
static VIO_ALWAYS_INLINE int vio__vq_split_get1(struct vio_vq *vq, void **token, uint32_t *len)
{
	struct vio__vq_split *s = &vq->u.split;
	uint16_t last = s->last_used;

	if (last == s->used_seen) {
		/* Acquire: the used elements after the index (pairs with the
		 * device's release store of used->idx). */
		VIO_CACHE_INVALIDATE(&s->used->idx, sizeof(s->used->idx));
		uint16_t idx = vio_le16_get((vio_le16){VIO_LOAD_ACQUIRE(s->used->idx.raw)});
		if (idx == last)
			return -VIO_EAGAIN;
		if ((uint16_t)(idx - last) > vq->outstanding)
			return 1; /* the general get fails the queue */
		s->used_seen = idx;
	}
	struct vio_split_used_elem *e = &s->used_ring[last & vq->mask];
	VIO_CACHE_INVALIDATE(e, sizeof(*e));
	uint32_t id = vio_le32_get((vio_le32){VIO_READ_ONCE(e->id.raw)});
	uint32_t wlen = vio_le32_get((vio_le32){VIO_READ_ONCE(e->len.raw)});
	if (id >= vq->size)
		return 1;
	struct vio__vq_slot *hs = &vq->slot[id];
	/* ndesc is nonzero only on the head of an outstanding chain: one
	 * test tells it from a mid-chain slot and a free one (the general get
	 * sorts those out). */
	uint16_t n = hs->ndesc;
	if (n == 0 || wlen > hs->in_bytes)
		return 1;
	*token = hs->token;
	*len = wlen;
	/* As reclaim() in vq_split.c: the chain's private links, never the
	 * shared descriptors, lead to its tail. One slot: its link and ndesc
	 * side by side, one store. */
	if (vio_likely(n == 1)) {
		hs->next = vq->free_head;
		hs->ndesc = 0;
	} else {
		hs->ndesc = 0;
		vio__vq_split_unchain(vq->slot, hs, n)->next = vq->free_head;
	}
	vq->free_head = (uint16_t)id;
	vq->num_free = (uint16_t)(vq->num_free + n);
	vq->outstanding--;
	last++;
	s->last_used = last;
	if (s->used_event_on) {
		/* As ask_next_used() in vq_split.c. */
		VIO_WRITE_ONCE(s->used_event->raw, vio_le16_make(last).raw);
		VIO_CACHE_CLEAN(s->used_event, sizeof(*s->used_event));
		VIO_MB();
	}
	return 0;
}

/* vio_vq_get_batch()'s split loop: up to @max buffers, as that many
 * vio__vq_split_get1() calls would return them, except that used_event is
 * written only before the used index is read again and at the end (the
 * value the last get would leave): every look at the index that can end
 * the batch comes after the request for the next completion and a full
 * fence, as with single gets. Returns the count; *@more is true when it
 * stopped at an entry the general get must judge (nothing of it taken). */
static VIO_ALWAYS_INLINE unsigned vio__vq_split_get_batch(struct vio_vq *vq, void **tokens,
							  uint32_t *lens, unsigned max, bool *more)
{
	struct vio__vq_split *s = &vq->u.split;
	struct vio__vq_slot *const slot = vq->slot;
	const uint16_t size = vq->size, mask = vq->mask;
	uint16_t last = s->last_used, seen = s->used_seen;
	uint16_t free = vq->free_head, nfree = vq->num_free, busy = vq->outstanding;
	/* size_t: the index of tokens[] and lens[] without a second copy. */
	size_t k = 0, asked = 0; /* used_event asks for the entry at last when k == asked */

	*more = false;
	while (k < max) {
		if (last == seen) {
			if (k != asked) {
				asked = k;
				if (s->used_event_on) {
					VIO_WRITE_ONCE(s->used_event->raw, vio_le16_make(last).raw);
					VIO_CACHE_CLEAN(s->used_event, sizeof(*s->used_event));
					VIO_MB();
				}
			}
			VIO_CACHE_INVALIDATE(&s->used->idx, sizeof(s->used->idx));
			uint16_t idx = vio_le16_get((vio_le16){VIO_LOAD_ACQUIRE(s->used->idx.raw)});
			if (idx == last)
				break;
			if ((uint16_t)(idx - last) > busy) {
				*more = true; /* the general get fails the queue */
				break;
			}
			seen = idx;
			s->used_seen = seen;
		}
		struct vio_split_used_elem *e = &s->used_ring[last & mask];
		VIO_CACHE_INVALIDATE(e, sizeof(*e));
		uint32_t id = vio_le32_get((vio_le32){VIO_READ_ONCE(e->id.raw)});
		uint32_t wlen = vio_le32_get((vio_le32){VIO_READ_ONCE(e->len.raw)});
		if (id >= size) {
			*more = true;
			break;
		}
		struct vio__vq_slot *hs = &slot[id];
		uint16_t n = hs->ndesc;
		if (n == 0 || wlen > hs->in_bytes) {
			*more = true;
			break;
		}
		tokens[k] = hs->token;
		lens[k] = wlen;
		if (vio_likely(n == 1)) {
			vio__vq_slot_free1(hs, free);
		} else {
			/* The loop, not vio__vq_split_unchain(): inlined here
			 * that costs clang registers in the packed loop that
			 * shares this function's body (measured). */
			hs->ndesc = 0;
			uint16_t tail = (uint16_t)id;
			for (uint16_t j = 1; j < n; j++)
				tail = slot[tail].next;
			slot[tail].next = free;
		}
		free = (uint16_t)id;
		nfree = (uint16_t)(nfree + n);
		busy--;
		last++;
		k++;
	}
	vq->free_head = free;
	vq->num_free = nfree;
	vq->outstanding = busy;
	s->last_used = last;
	if (k != asked && s->used_event_on) {
		VIO_WRITE_ONCE(s->used_event->raw, vio_le16_make(last).raw);
		VIO_CACHE_CLEAN(s->used_event, sizeof(*s->used_event));
		VIO_MB();
	}
	return (unsigned)k;
}

/* ---- packed --------------------------------------------------------------- */

static VIO_ALWAYS_INLINE int vio__vq_packed_add1(struct vio_vq *vq, const struct vio_sg *sg,
						 unsigned in, void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint16_t id = vq->free_head, head = p->next_avail;
	struct vio__vq_slot *s = &vq->slot[id];
	uint32_t len = sg->len;
	struct vio_packed_desc *d = &p->desc[head];

	d->addr = vio_le64_make((uint64_t)(uintptr_t)sg->addr);
	d->len = vio_le32_make(len);
	d->id = vio_le16_make(id);
	VIO_CACHE_CLEAN(d, sizeof(*d));
	uint16_t flags = (uint16_t)(in * VIO_DESC_F_WRITE | p->avail_mark);
	vq->free_head = s->next;
	s->token = token;
	s->in_bytes = len & (0u - in);
	s->ndesc = 1;
	vq->num_free--;
	vq->outstanding++;
	vq->avail_moved++;
	uint16_t slot = (uint16_t)(head + 1u);
	p->next_avail = slot;
	/* §2.8.21.1: flags last, with release (as publish() in vq_packed.c). */
	VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
	VIO_CACHE_CLEAN(&d->flags, sizeof(d->flags));
	/* The driver's position is private: the lap it ends is turned after
	 * publishing, out of line (a tail call). */
	if (vio_unlikely(slot == vq->size))
		return vio__vq_packed_lap(vq);
	return 0;
}

/* One descriptor of a packed list, all but its flags. */
static VIO_ALWAYS_INLINE void vio__vq_packed_put(struct vio_packed_desc *d, const struct vio_sg *g,
						 uint16_t id)
{
	d->addr = vio_le64_make((uint64_t)(uintptr_t)g->addr);
	d->len = vio_le32_make(g->len);
	d->id = vio_le16_make(id); /* §2.8.7: the id counts in the last one */
}

/* Advance (@slot, @wrap) by one slot of a ring of @size, flipping @af,
 * the AVAIL/USED pair that marks a descriptor available, at each wrap. */
static VIO_ALWAYS_INLINE void vio__vq_packed_step(uint16_t *slot, bool *wrap, uint16_t *af,
						  uint16_t size)
{
	if (++*slot == size) {
		*slot = 0;
		*wrap = !*wrap;
		*af ^= (uint16_t)(VIO_DESC_F_AVAIL | VIO_DESC_F_USED);
	}
}

/* A list of @total > 1 direct descriptors (vio__vq_direct_ok()) in the
 * ring slots from next_avail. The head's flags are written last; every
 * other descriptor is written with NEXT (readable ones first, then the
 * writable ones) and the last one's flags are rewritten without it (the
 * device reads none of them before the head's flags). @af is the
 * AVAIL/USED pair of the current lap, flipped at each wrap. 1: the
 * lengths sum to 2^32 or more; the head is not published and the general
 * add, which rewrites the same slots, withdraws them and reports it. */
static VIO_ALWAYS_INLINE int vio__vq_packed_addn(struct vio_vq *vq, const struct vio_sg *sg,
						 unsigned out, unsigned total, void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	struct vio_packed_desc *desc = p->desc;
	const uint16_t id = vq->free_head, head = p->next_avail, size = vq->size;
	bool wrap = p->avail_wrap;
	uint16_t af = p->avail_mark;
	const uint16_t head_flags =
		(uint16_t)(VIO_DESC_F_NEXT | (out == 0 ? VIO_DESC_F_WRITE : 0) | af);
	uint16_t slot = head, last, last_af;
	uint64_t all = sg[0].len, out_bytes;
	unsigned n;

	vio__vq_packed_put(&desc[head], &sg[0], id);
	VIO_CACHE_CLEAN(&desc[head], sizeof(desc[head]));
	for (n = 1; n < out; n++) {
		vio__vq_packed_step(&slot, &wrap, &af, size);
		struct vio_packed_desc *d = &desc[slot];
		all += sg[n].len;
		vio__vq_packed_put(d, &sg[n], id);
		d->flags = vio_le16_make((uint16_t)(VIO_DESC_F_NEXT | af));
		VIO_CACHE_CLEAN(d, sizeof(*d));
	}
	out_bytes = out != 0 ? all : 0;
	for (; n < total; n++) {
		vio__vq_packed_step(&slot, &wrap, &af, size);
		struct vio_packed_desc *d = &desc[slot];
		all += sg[n].len;
		vio__vq_packed_put(d, &sg[n], id);
		d->flags = vio_le16_make((uint16_t)(VIO_DESC_F_NEXT | VIO_DESC_F_WRITE | af));
		VIO_CACHE_CLEAN(d, sizeof(*d));
	}
	last = slot;
	last_af = af;
	vio__vq_packed_step(&slot, &wrap, &af, size);
	/* The list ends here: writable unless it has no writable part. */
	desc[last].flags =
		vio_le16_make((uint16_t)((total > out ? VIO_DESC_F_WRITE : 0) | last_af));
	VIO_CACHE_CLEAN(&desc[last].flags, sizeof(desc[last].flags));
	if (vio_unlikely(all > UINT32_MAX))
		return 1;
	struct vio__vq_slot *s = &vq->slot[id];
	vq->free_head = s->next;
	s->token = token;
	s->in_bytes = (uint32_t)(all - out_bytes);
	s->ndesc = (uint16_t)total;
	vq->num_free = (uint16_t)(vq->num_free - total);
	vq->outstanding++;
	vq->avail_moved += total; /* one ring slot per descriptor */
	p->next_avail = slot;
	p->avail_wrap = wrap;
	p->avail_mark = af;
	/* §2.8.21.1: the head last, with release (as publish() in vq_packed.c). */
	VIO_STORE_RELEASE(desc[head].flags.raw, vio_le16_make(head_flags).raw);
	VIO_CACHE_CLEAN(&desc[head].flags, sizeof(desc[head].flags));
	return 0;
}

/* vio__vq_packed_addn() for a list whose @total (2..VIO__VQ_ADDK_MAX) and
 * @out are compile-time constants, as vio__vq_split_addk(): when the list
 * does not wrap inside the ring (the slot after it may be the first one),
 * its descriptors are consecutive and share one AVAIL/USED pair, so each
 * gets its final flags at once. Writes what vio__vq_packed_addn() writes,
 * byte for byte, and returns 1 in the same case; 2 (nothing written): the
 * list wraps, vio__vq_packed_addn()'s case. */
static VIO_ALWAYS_INLINE int vio__vq_packed_addk(struct vio_vq *vq, const struct vio_sg *sg,
						 const unsigned out, const unsigned total,
						 void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	const uint16_t head = p->next_avail, size = vq->size;

	if (vio_unlikely((unsigned)head + total > size))
		return 2;
	struct vio_packed_desc *const d = &p->desc[head];
	const uint16_t id = vq->free_head, af = p->avail_mark;
#define VIO__F(k)                                                                                  \
	((uint16_t)(((k) + 1u < total ? VIO_DESC_F_NEXT : 0u) |                                    \
		    ((k) >= out ? VIO_DESC_F_WRITE : 0u)))
	uint64_t all = sg[0].len, out_bytes = 0;
	vio__vq_packed_put(&d[0], &sg[0], id);
	VIO_CACHE_CLEAN(&d[0], sizeof(d[0]));
	if (out == 1)
		out_bytes = all;
	all += sg[1].len;
	vio__vq_packed_put(&d[1], &sg[1], id);
	d[1].flags = vio_le16_make((uint16_t)(VIO__F(1) | af));
	VIO_CACHE_CLEAN(&d[1], sizeof(d[1]));
	if (out == 2)
		out_bytes = all;
	if (total > 2) {
		all += sg[2].len;
		vio__vq_packed_put(&d[2], &sg[2], id);
		d[2].flags = vio_le16_make((uint16_t)(VIO__F(2) | af));
		VIO_CACHE_CLEAN(&d[2], sizeof(d[2]));
	}
	if (out == 3)
		out_bytes = all;
	const uint16_t head_flags = (uint16_t)(VIO__F(0) | af);
#undef VIO__F
	if (vio_unlikely(all > UINT32_MAX))
		return 1;
	struct vio__vq_slot *s = &vq->slot[id];
	vq->free_head = s->next;
	s->token = token;
	s->in_bytes = (uint32_t)(all - out_bytes);
	s->ndesc = (uint16_t)total;
	vq->num_free = (uint16_t)(vq->num_free - total);
	vq->outstanding++;
	vq->avail_moved += total; /* one ring slot per descriptor */
	uint16_t slot = (uint16_t)(head + total);
	if (vio_unlikely(slot == size)) {
		slot = 0;
		p->avail_wrap = !p->avail_wrap;
		p->avail_mark = (uint16_t)(af ^ (VIO_DESC_F_AVAIL | VIO_DESC_F_USED));
	}
	p->next_avail = slot;
	/* §2.8.21.1: the head last, with release (as publish() in vq_packed.c). */
	VIO_STORE_RELEASE(d[0].flags.raw, vio_le16_make(head_flags).raw);
	VIO_CACHE_CLEAN(&d[0].flags, sizeof(d[0].flags));
	return 0;
}

/* A packed list in the indirect table of its buffer id
 * (add_table() in vq.c), as add_indirect() in vq_packed.c writes it
 * without DMA hooks (§2.8.6.1: only WRITE inside the table), then one ring
 * descriptor, its flags last. 1: the lengths sum to 2^32 or more; nothing
 * is published and the general add reports it. */
static VIO_ALWAYS_INLINE int vio__vq_packed_addi(struct vio_vq *vq, const struct vio_sg *sg,
						 unsigned out, unsigned total, void *token)
{
	struct vio__vq_packed *p = &vq->u.packed;
	const uint16_t id = vq->free_head, head = p->next_avail;
	struct vio_packed_desc *tbl = vio__vq_indirect_table(vq, id);
	uint64_t all = 0, out_bytes;
	unsigned n;

	for (n = 0; n < out; n++) {
		all += sg[n].len;
		vio__vq_packed_put(&tbl[n], &sg[n], 0);
		tbl[n].flags = vio_le16_make(0);
	}
	out_bytes = all;
	for (; n < total; n++) {
		all += sg[n].len;
		vio__vq_packed_put(&tbl[n], &sg[n], 0);
		tbl[n].flags = vio_le16_make(VIO_DESC_F_WRITE);
	}
	if (vio_unlikely(all > UINT32_MAX))
		return 1;
	uint32_t tlen = (uint32_t)(total * 16u);
	/* The table is complete before the descriptor that points at it. */
	VIO_CACHE_CLEAN(tbl, tlen);
	struct vio_packed_desc *d = &p->desc[head];
	d->addr = vio_le64_make((uint64_t)(uintptr_t)tbl);
	d->len = vio_le32_make(tlen);
	d->id = vio_le16_make(id);
	VIO_CACHE_CLEAN(d, sizeof(*d));
	uint16_t flags = (uint16_t)(VIO_DESC_F_INDIRECT | p->avail_mark);
	struct vio__vq_slot *s = &vq->slot[id];
	vq->free_head = s->next;
	s->token = token;
	s->in_bytes = (uint32_t)(all - out_bytes);
	s->ndesc = 1;
	vq->num_free--;
	vq->outstanding++;
	vq->avail_moved++;
	uint16_t slot = head;
	bool wrap = p->avail_wrap;
	uint16_t mark = p->avail_mark;
	vio__vq_packed_step(&slot, &wrap, &mark, vq->size);
	p->next_avail = slot;
	p->avail_wrap = wrap;
	p->avail_mark = mark;
	/* §2.8.21.1: flags last, with release (as publish() in vq_packed.c). */
	VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
	VIO_CACHE_CLEAN(&d->flags, sizeof(d->flags));
	return 0;
}

/* vio_vq_add_batch()'s packed loop for one-segment buffers, as
 * vio__vq_split_add_batch1(): each buffer made available by its own flags
 * (stored last, with release), in ring order. */
static VIO_ALWAYS_INLINE unsigned vio__vq_packed_add_batch1(struct vio_vq *vq,
							    const struct vio_sg *sg, unsigned in,
							    void *const *tokens, unsigned n)
{
	struct vio__vq_packed *p = &vq->u.packed;
	struct vio_packed_desc *const desc = p->desc;
	struct vio__vq_slot *const slots = vq->slot;
	const uint16_t size = vq->size;
	const uint16_t wflag = (uint16_t)(in * VIO_DESC_F_WRITE);
	const uint32_t inmask = 0u - in;
	unsigned m = n < vq->num_free ? n : vq->num_free, k = 0;
	uint16_t id = vq->free_head, mark = p->avail_mark;
	bool wrap = p->avail_wrap;
	struct vio_packed_desc *d = &desc[p->next_avail];

	/* In runs that do not wrap: d steps per buffer, the lap's flags are
	 * the same for the whole run. */
	while (k < m) {
		unsigned stop = (unsigned)(desc + size - d);
		stop = m - k < stop ? m : k + stop;
		const uint16_t flags = (uint16_t)(wflag | mark);
		for (; k < stop; k++, d++) {
			void *token = tokens[k];
			if (vio_unlikely(token == NULL))
				goto out;
			const struct vio_sg *g = &sg[k];
			struct vio__vq_slot *s = &slots[id];
			uint32_t len = g->len;
			d->addr = vio_le64_make((uint64_t)(uintptr_t)g->addr);
			d->len = vio_le32_make(len);
			d->id = vio_le16_make(id);
			VIO_CACHE_CLEAN(d, sizeof(*d));
			s->token = token;
			s->in_bytes = len & inmask;
			s->ndesc = 1;
			id = s->next;
			/* §2.8.21.1: flags last, with release (as publish() in
			 * vq_packed.c). */
			VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
			VIO_CACHE_CLEAN(&d->flags, sizeof(d->flags));
		}
		if (d == desc + size) {
			d = desc;
			wrap = !wrap;
			mark ^= (uint16_t)(VIO_DESC_F_AVAIL | VIO_DESC_F_USED);
		}
	}
out:
	vq->free_head = id;
	vq->num_free = (uint16_t)(vq->num_free - k);
	vq->outstanding = (uint16_t)(vq->outstanding + k);
	vq->avail_moved += k;
	p->next_avail = (uint16_t)(d - desc);
	p->avail_wrap = wrap;
	p->avail_mark = mark;
	return k;
}

/* The whole of vio__vq_packed_kick_prepare() (it has no slow case). */
static VIO_ALWAYS_INLINE bool vio__vq_packed_kick1(struct vio_vq *vq)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint32_t added = vq->avail_moved;

	/* Full fence: the flags that made the buffers available before the
	 * device's event suppression (pairs with the fence in the device's
	 * vio_devq_enable_notify()). */
	VIO_MB();
	vq->avail_moved = 0;
	VIO_CACHE_INVALIDATE(p->device, sizeof(*p->device));
	uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->device->flags.raw)) & 3u;
	/* kick_ev is DESC only with EVENT_IDX: otherwise (ENABLE, or DESC
	 * without EVENT_IDX, or the reserved value) notify unless DISABLE;
	 * never with nothing added. */
	if (flags != p->kick_ev)
		return added != 0 && flags != VIO_RING_EVENT_FLAGS_DISABLE;
	const uint16_t size = vq->size;
	if (added >= size)
		return true; /* the event arithmetic spans less than a lap */
	uint16_t off_wrap = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->device->off_wrap.raw));
	uint16_t off = (uint16_t)(off_wrap & 0x7fffu);
	if (off >= size)
		return added != 0; /* nonsense from the peer: err towards notifying */
	/* Nothing added needs no test of its own: the event rule below is
	 * false for an empty span (vio_need_event(ev, new, new)). */
	/* The event's wrap bit against avail_mark's USED bit (bit 15), which
	 * is the inverse of the wrap counter: equal bits, other lap. */
	if (((off_wrap ^ p->avail_mark) & VIO_DESC_F_USED) == 0)
		off = (uint16_t)(off - size);
	return vio_need_event(off, p->next_avail, (uint16_t)(p->next_avail - added));
}

/* The used descriptor at last_used, read once, not yet validated: false if
 * the slot is not used (yet). @wlen is the length as the device wrote it;
 * used_len() in vq_packed.c decides what it means. */
static VIO_ALWAYS_INLINE bool vio__vq_packed_peek_used(const struct vio_vq *vq, uint16_t *id,
						       uint32_t *wlen, bool *wflag)
{
	const struct vio__vq_packed *p = &vq->u.packed;
	const struct vio_packed_desc *d = &p->desc[p->last_used];

	/* The whole descriptor: id and len are read after the flags. */
	VIO_CACHE_INVALIDATE(d, sizeof(*d));
	/* Acquire: id and len after the flags that mark the slot used.
	 * Pairs with the device's release store of those flags. */
	uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(d->flags.raw));
	/* vio__packed_is_used(flags, used_wrap): both bits equal to it. */
	if ((flags & (VIO_DESC_F_AVAIL | VIO_DESC_F_USED)) != p->used_mark)
		return false;
	*id = vio_le16_raw_to_cpu(VIO_READ_ONCE(d->id.raw));
	*wlen = vio_le32_raw_to_cpu(VIO_READ_ONCE(d->len.raw));
	*wflag = (flags & VIO_DESC_F_WRITE) != 0;
	return true;
}

/* 1: not the fast case, nothing changed. */
static VIO_ALWAYS_INLINE int vio__vq_packed_get1(struct vio_vq *vq, void **token, uint32_t *len)
{
	struct vio__vq_packed *p = &vq->u.packed;
	uint16_t id;
	uint32_t wlen;
	bool wflag;

	if (!vio__vq_packed_peek_used(vq, &id, &wlen, &wflag))
		return -VIO_EAGAIN;
	if (id >= vq->size)
		return 1;
	struct vio__vq_slot *s = &vq->slot[id];
	/* A length above in_bytes is hostile, or reserved and ignored
	 * (used_len() in vq_packed.c): the general code tells which. */
	if (s->token == NULL || wlen > s->in_bytes)
		return 1;
	*token = s->token;
	*len = wlen;
	uint16_t n = s->ndesc;
	uint32_t slot = (uint32_t)p->last_used + n;
	if (slot >= vq->size) {
		slot -= vq->size;
		p->used_wrap = !p->used_wrap;
		p->used_mark ^= (uint16_t)(VIO_DESC_F_AVAIL | VIO_DESC_F_USED);
	}
	p->last_used = (uint16_t)slot;
	s->token = NULL;
	s->next = vq->free_head;
	vq->free_head = id;
	vq->num_free = (uint16_t)(vq->num_free + n);
	vq->outstanding--;
	if (p->event_flags == VIO_RING_EVENT_FLAGS_DESC) {
		/* As reap() in vq_packed.c. */
		uint16_t ow =
			(uint16_t)(slot | ((unsigned)p->used_wrap << VIO_RING_EVENT_WRAP_SHIFT));
		VIO_WRITE_ONCE(p->driver->off_wrap.raw, vio_le16_make(ow).raw);
		VIO_CACHE_CLEAN(&p->driver->off_wrap, sizeof(p->driver->off_wrap));
		VIO_MB();
	}
	return 0;
}

/* vio_vq_get_batch()'s packed loop, as vio__vq_split_get_batch(): the
 * event position (with EVENT_IDX) is written only before a look at the
 * next slot that finds nothing used, which is then repeated, and at the
 * end. */
static VIO_ALWAYS_INLINE unsigned vio__vq_packed_get_batch(struct vio_vq *vq, void **tokens,
							   uint32_t *lens, unsigned max, bool *more)
{
	struct vio__vq_packed *p = &vq->u.packed;
	struct vio__vq_slot *const slots = vq->slot;
	const struct vio_packed_desc *const desc = p->desc;
	const uint16_t size = vq->size;
	const uint16_t flip = VIO_DESC_F_AVAIL | VIO_DESC_F_USED;
	const bool ask = p->event_flags == VIO_RING_EVENT_FLAGS_DESC;
	uint16_t last = p->last_used, mark = p->used_mark;
	bool wrap = p->used_wrap;
	uint16_t free = vq->free_head, nfree = vq->num_free, busy = vq->outstanding;
	unsigned k = 0, asked = 0; /* the event names last when k == asked */

	const struct vio_packed_desc *d = &desc[last]; /* desc[last], stepped along */

	*more = false;
	while (k < max) {
		VIO_CACHE_INVALIDATE(d, sizeof(*d));
		/* Acquire: id and len after the flags (as vio__vq_packed_peek_used()). */
		uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(d->flags.raw));
		if ((flags & flip) != mark) {
			if (k == asked || !ask)
				break;
			/* Ask for the next one, then look again. */
			asked = k;
			uint16_t ow =
				(uint16_t)(last | ((unsigned)wrap << VIO_RING_EVENT_WRAP_SHIFT));
			VIO_WRITE_ONCE(p->driver->off_wrap.raw, vio_le16_make(ow).raw);
			VIO_CACHE_CLEAN(&p->driver->off_wrap, sizeof(p->driver->off_wrap));
			VIO_MB();
			continue;
		}
		uint16_t id = vio_le16_raw_to_cpu(VIO_READ_ONCE(d->id.raw));
		uint32_t wlen = vio_le32_raw_to_cpu(VIO_READ_ONCE(d->len.raw));
		if (id >= size) {
			*more = true;
			break;
		}
		struct vio__vq_slot *s = &slots[id];
		if (s->token == NULL || wlen > s->in_bytes) { /* as in vio__vq_packed_get1() */
			*more = true;
			break;
		}
		tokens[k] = s->token;
		lens[k] = wlen;
		uint16_t n = s->ndesc;
		uint32_t pos = (uint32_t)last + n;
		if (pos >= size) {
			pos -= size;
			wrap = !wrap;
			mark ^= flip;
			d = &desc[pos];
		} else {
			d += n;
		}
		last = (uint16_t)pos;
		s->token = NULL;
		s->next = free;
		free = id;
		nfree = (uint16_t)(nfree + n);
		k++;
	}
	vq->free_head = free;
	vq->num_free = nfree;
	vq->outstanding = (uint16_t)(busy - k);
	p->last_used = last;
	p->used_wrap = wrap;
	p->used_mark = mark;
	if (k != asked && ask) {
		uint16_t ow = (uint16_t)(last | ((unsigned)wrap << VIO_RING_EVENT_WRAP_SHIFT));
		VIO_WRITE_ONCE(p->driver->off_wrap.raw, vio_le16_make(ow).raw);
		VIO_CACHE_CLEAN(&p->driver->off_wrap, sizeof(p->driver->off_wrap));
		VIO_MB();
	}
	return k;
}

#endif /* VIO_LIB_RING_VQ_HOT_H */
