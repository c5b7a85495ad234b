/* SPDX-License-Identifier: MIT */
/* Private: the device queue's fast paths, inlined into the public entry
 * points of devq.c. Each handles the common case of one step (one direct
 * descriptor inside the region that matched last; a push without write log
 * or mappings) on a healthy queue, makes no call, and returns; anything else
 * goes to the general code in devq_split.c / devq_packed.c, which handles
 * every case (the fast ones included) from the start, so a fast path that
 * gives up leaves nothing half done.
 *
 * q->hot is the one test: VIO__HOT_SPLIT or VIO__HOT_PACKED only while the
 * queue is not broken and has no write log (vio__devq_hot_update()).
 * Nothing here needs LTO to be inlined. */
#ifndef VIO_LIB_RING_DEVQ_HOT_H
#define VIO_LIB_RING_DEVQ_HOT_H

#include "devq_impl.h"
#include "packed_event.h"

/* ---- split ---------------------------------------------------------------- */

/* The split pop's hand-over codes to vio__devq_split_pop_slow(): the code
 * in the low bits and, for VIO__POP_AT, the head index it validated (below
 * size) above them. */
enum {
	VIO__POP_GENERAL = 1, /* start over in the general pop */
	VIO__POP_AT = 3,      /* hand over at the head: vio__devq_split_pop_head() */
	VIO__POP_SHIFT = 2,   /* the validated value is rc >> VIO__POP_SHIFT */
};
#define VIO__POP_CODE(rc) ((rc) & ((1 << VIO__POP_SHIFT) - 1))
#define VIO__POP_ARG(rc) ((uint16_t)((unsigned)(rc) >> VIO__POP_SHIFT))
#define VIO__POP_WITH(code, v) ((int)(((unsigned)(v) << VIO__POP_SHIFT) | (unsigned)(code)))

/* The end of vio__devq_split_pop1(): the head @head (< size) at @sd is one
 * direct descriptor, device-writable if @write (with @by_dir, a constant at
 * each call site: the direction's room, record template and segment flag
 * are then constants too, and few registers are live). The buffer inside q->hint,
 * then the head not in flight (tested last, so that its index is not live
 * across the other tests); anything else is handed over, nothing but
 * segs[0] changed. */
static VIO_ALWAYS_INLINE int vio__devq_split_take1(struct vio_devq *q, struct vio_chain *chain,
						   struct vio_chain_seg *segs, uint16_t max_segs,
						   size_t head, const struct vio_split_desc *sd,
						   const bool write)
{
	uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(sd->addr.raw));
	uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(sd->len.raw));
	/* The caller's array (max_segs > 0): stored now so that addr needs no
	 * register of its own; a hand-over leaves segs[0] to the general code,
	 * which writes segments before it knows a chain is good anyway. */
	segs->addr = addr;
	/* Inside q->hint, which grants the direction (hint_room is 0 where
	 * it does not): off + len - 1, the last byte, below the room, and no
	 * carry out of that sum. len - 1 in 64 bits is 2^64 - 1 when len is 0:
	 * then the sum carries, or (off 0) is not below any room, so an empty
	 * buffer goes to the general code too. */
	uint64_t off = addr - q->hint.guest_addr;
	uint64_t end = off + ((uint64_t)len - 1u);
	if (end < off || end >= q->hint_room[write])
		return vio__devq_split_pop_at(q, chain, segs,
					      (uint32_t)head | (uint32_t)max_segs << 16);
	if (q->inflight[head] != 0)
		return vio__devq_split_pop_slow(q, chain, segs, max_segs,
						VIO__POP_WITH(VIO__POP_AT, head));
	q->inflight[head] = VIO__INFLIGHT;
	q->u.split.last_avail++;
	segs->ptr = (unsigned char *)q->hint.host + off;
	vio__seg_tail(segs, len, write);
	vio__chain_fill1(q, chain, segs, (uint16_t)head, (uint16_t)head, len, write);
	return 0;
}

/* vio_devq_pop() on a healthy split queue: 0 popped, -VIO_EAGAIN nothing
 * new, else what the general code the leaf hands over to returns: a list
 * of direct descriptors goes to vio__devq_split_pop_chain(), anything else
 * to vio__devq_split_pop_slow() with a VIO__POP_* code (nothing changed
 * but the validated avail_seen; VIO__POP_AT: the head at last_avail is in
 * range). Both are tail calls. A leaf that keeps little live at once:
 * the arguments stay in their registers for the tail calls, so no
 * callee-saved register is needed. @by_dir (a constant at each call site):
 * a copy of the one-descriptor tail per direction, fewer instructions on
 * the way for more code; vio_devq_pop() has it, the loop of
 * vio_devq_pop_batch() (which takes such chains in runs) does not. */
static VIO_ALWAYS_INLINE int vio__devq_split_pop1(struct vio_devq *q, struct vio_chain *chain,
						  struct vio_chain_seg *segs, uint16_t max_segs,
						  bool by_dir)
{
	struct vio__devq_split *s = &q->u.split;
	uint16_t last = s->last_avail;

	if (last == s->avail_seen) {
		/* Acquire: entries and descriptors after the index (pairs with
		 * the driver's release store of avail->idx). */
		VIO_CACHE_INVALIDATE(&s->avail->idx, sizeof(s->avail->idx));
		uint16_t idx = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(s->avail->idx.raw));
		if (idx == last)
			return -VIO_EAGAIN;
		if ((uint16_t)(idx - last) > q->size) /* it fails the queue (§2.7.13.3) */
			return vio__devq_split_pop_slow(q, chain, segs, max_segs, VIO__POP_GENERAL);
		s->avail_seen = idx;
		VIO_CACHE_INVALIDATE(s->avail_ring, (size_t)q->size * sizeof(vio_le16));
		VIO_CACHE_INVALIDATE(s->desc, vio_split_desc_size(q->size));
	}
	/* Each test as early as it can be made, so that little is live at
	 * once and the compiler needs no callee-saved register. */
	if (max_segs == 0)
		return vio__devq_split_pop_slow(q, chain, segs, max_segs, VIO__POP_GENERAL);
	const size_t head = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->avail_ring[last & q->mask].raw));
	if (head >= q->size) /* it fails the queue */
		return vio__devq_split_pop_slow(q, chain, segs, max_segs, VIO__POP_GENERAL);
	/* Each field read once; next is not needed without NEXT. */
	const struct vio_split_desc *sd = &s->desc[head];
	uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(sd->flags.raw));
	/* One direct descriptor: device-writable (a receive buffer, the
	 * common one-descriptor chain), or readable. */
	if ((flags & (uint16_t)~VIO_DESC_F_WRITE) == 0) {
		if (!by_dir)
			return vio__devq_split_take1(q, chain, segs, max_segs, head, sd,
						     flags != 0);
		if (flags != 0)
			return vio__devq_split_take1(q, chain, segs, max_segs, head, sd, true);
		return vio__devq_split_take1(q, chain, segs, max_segs, head, sd, false);
	}
	if (q->inflight[head] != 0)
		return vio__devq_split_pop_slow(q, chain, segs, max_segs,
						VIO__POP_WITH(VIO__POP_AT, head));
	/* A list of direct descriptors, or a table alone: its walk, a tail
	 * call. */
	if ((flags & (uint16_t) ~(VIO_DESC_F_WRITE | VIO_DESC_F_NEXT)) == 0)
		return vio__devq_split_pop_chain(q, chain, segs, max_segs, (uint16_t)head, flags);
	if ((flags | VIO_DESC_F_WRITE) == (VIO_DESC_F_INDIRECT | VIO_DESC_F_WRITE))
		return vio__devq_split_pop_indirect(q, chain, segs, max_segs, (uint16_t)head);
	return vio__devq_split_pop_slow(q, chain, segs, max_segs, VIO__POP_WITH(VIO__POP_AT, head));
}

/* Accumulated byte counts of a list walked by the popn fast paths: out
 * holds the readable bytes and, from bit 48, the readable segments (at most
 * 32768 lengths below 2^32 each: below 2^47); in the writable bytes, so a
 * writable segment was seen once it is not 0 (lengths are not 0). The
 * list walks (vio__devq_split_walk(), vio__devq_packed_popn()) count the
 * writable segments from bit 48 of in as well: out + in then holds the
 * segments from bit 48 and the bytes below (at most 2^48 - 1). */
#define VIO__OUT_ONE ((uint64_t)1 << 48)

/* out + in of a chain walk (VIO__OUT_ONE): its bytes below 2^32
 * (§2.7.5.1, §2.8.6), bits 32..47 clear. */
static VIO_ALWAYS_INLINE bool vio__walk_ok(uint64_t all)
{
	return (uint16_t)(all >> 32) == 0;
}

/* Fill in the record of a chain of @ndesc ring descriptors and the @n
 * direct segments at @segs with @out / @in as above (their sum checked
 * below 2^32; bits of in from 32 up are ignored). */
static VIO_ALWAYS_INLINE void vio__chain_filln(const struct vio_devq *q, struct vio_chain *c,
					       struct vio_chain_seg *segs, uint16_t id,
					       uint16_t head, uint16_t ndesc, uint32_t n,
					       uint64_t out, uint64_t in)
{
	uint16_t nout = (uint16_t)(out >> 48);
	uint32_t out_bytes = (uint32_t)out; /* below 2^32: the sum was checked */
	if (VIO__CHAIN_COMPOSED) {
		vio__store64(&c->id, vio__mem64_16x4(id, ndesc, (uint16_t)n, nout));
		vio__store64(&c->out_bytes, vio__mem64_32x2(out_bytes, (uint32_t)in));
		vio__store64(&c->flags, q->one_gen | vio__mem64_16_16_32(0, head, 0));
	} else {
		c->id = id;
		c->ndesc = ndesc;
		c->nseg = (uint16_t)n;
		c->nout = nout;
		c->out_bytes = out_bytes;
		c->in_bytes = (uint32_t)in;
		c->flags = 0;
		c->head = head;
		c->gen = q->gen;
	}
	c->segs = segs;
}

/* One direct descriptor of a list walked by the popn fast paths, inside
 * q->hint for the direction @w (hint_room[w] is 0 where it does not grant
 * it; regions do not wrap, so in range means no overflow), filled into
 * @sg. Inside, hint_end[w] - addr is the room left, and len - 1 in 64
 * bits is above any room when len is 0: the second compare also rejects
 * an empty buffer. False: not the fast case (nothing
 * but *sg changed). */
static VIO_ALWAYS_INLINE bool vio__chain_seg_in(const struct vio_devq *q, struct vio_chain_seg *sg,
						unsigned w, uint64_t addr, uint32_t len)
{
	uint64_t off = addr - q->hint.guest_addr;
	if (off >= q->hint_room[w] || (uint64_t)len - 1u >= q->hint_end[w] - addr)
		return false;
	sg->ptr = (unsigned char *)q->hint.host + off;
	sg->addr = addr;
	vio__seg_tail(sg, len, w != 0);
	return true;
}

/* Park a pop's arguments in q for a chain walk (q->park_*): @head is the
 * split head index, or the packed head flags. */
static VIO_ALWAYS_INLINE void vio__devq_park(struct vio_devq *q, struct vio_chain *chain,
					     struct vio_chain_seg *segs, uint16_t max_segs,
					     uint16_t head)
{
	q->park_chain = chain;
	q->park_segs = segs;
	q->park_max_segs = max_segs;
	q->park_head = head;
}

/* The walk of a list of split descriptors into q->park_segs, the record
 * q->park_chain of the chain at q->park_head (< size, not in flight:
 * vio__devq_split_pop1() validated it), each inside q->hint, at most
 * q->park_max_segs (> 0) and the queue size of them. @table false: the
 * list is in the ring from the head, whose flags @flags were read (NEXT,
 * maybe WRITE, nothing else). @table true: it is the indirect table
 * q->park_table of q->park_bound entries (next below that), from its first
 * entry, with @flags as read there; the chain takes one ring descriptor.
 * Lengths are summed in 64 bits and the 2^32 limit tested once
 * (§2.7.5.1). Two loops, one per direction: readable descriptors, then
 * writable ones, and a readable one there is out of order (§2.7.4.2); each
 * loop knows its direction; an indirect descriptor in either is handed
 * over (a table after direct descriptors, or a nested one). 0 popped, 1
 * take the general path (which reports what is wrong, if anything; only
 * the segments were written). Each field is read once.
 *
 * The pop's arguments are parked in q (the caller stored them) and the
 * queue state stays there too (operands of the compares): the walk keeps
 * little in registers. */
static VIO_ALWAYS_INLINE int vio__devq_split_walk(struct vio_devq *q,
						  const struct vio_split_desc *sd, uint32_t flags,
						  bool table)
{
	struct vio_chain_seg *const segs = q->park_segs;
	struct vio_chain_seg *sg = segs;
	const uint16_t max_segs = q->park_max_segs;
	struct vio_chain_seg *const last = segs + ((max_segs < q->size ? max_segs : q->size) - 1u);
	uint64_t out = 0, in = 0; /* bytes, and from bit 48 the segments */

	/* Readable descriptors. */
	for (;;) {
		if ((flags & (VIO_DESC_F_WRITE | VIO_DESC_F_INDIRECT)) != 0) {
			if ((flags & VIO_DESC_F_INDIRECT) != 0)
				return 1;
			break;
		}
		uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(sd->addr.raw));
		uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(sd->len.raw));
		if (!vio__chain_seg_in(q, sg, 0, addr, len))
			return 1;
		out += len + VIO__OUT_ONE;
		if ((flags & VIO_DESC_F_NEXT) == 0)
			goto done;
		/* The array, or the queue size (which also bounds a loop). */
		if (sg == last)
			return 1;
		sg++;
		uint32_t i = vio_le16_raw_to_cpu(VIO_READ_ONCE(sd->next.raw));
		if (i >= (table ? q->park_bound : q->size))
			return 1;
		sd = table ? &q->park_table[i] : &q->u.split.desc[i];
		flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(sd->flags.raw));
	}
	/* Writable descriptors: flags has WRITE, not INDIRECT. */
	for (;;) {
		uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(sd->addr.raw));
		uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(sd->len.raw));
		if (!vio__chain_seg_in(q, sg, 1, addr, len))
			return 1;
		in += len + VIO__OUT_ONE;
		if ((flags & VIO_DESC_F_NEXT) == 0)
			break;
		if (sg == last)
			return 1;
		sg++;
		uint32_t i = vio_le16_raw_to_cpu(VIO_READ_ONCE(sd->next.raw));
		if (i >= (table ? q->park_bound : q->size))
			return 1;
		sd = table ? &q->park_table[i] : &q->u.split.desc[i];
		flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(sd->flags.raw));
		/* §2.7.4.2: no readable descriptor after a writable one. */
		if ((flags & (VIO_DESC_F_WRITE | VIO_DESC_F_INDIRECT)) != VIO_DESC_F_WRITE)
			return 1;
	}
done:;
	const uint64_t all = out + in;
	if (!vio__walk_ok(all))
		return 1; /* §2.7.5.1 */
	const uint32_t n = (uint32_t)(all >> 48);
	const uint16_t head = q->park_head, ndesc = table ? 1 : (uint16_t)n;
	vio__chain_filln(q, q->park_chain, q->park_segs, head, head, ndesc, n, out, in);
	q->inflight[head] = (uint16_t)(VIO__INFLIGHT - 1u + ndesc);
	q->u.split.last_avail++;
	return 0;
}

/* The list of direct descriptors in the ring at q->park_head. */
static VIO_ALWAYS_INLINE int vio__devq_split_popn(struct vio_devq *q, uint16_t head_flags)
{
	return vio__devq_split_walk(q, &q->u.split.desc[q->park_head], head_flags, false);
}

/* The head q->park_head is an indirect table alone (flags INDIRECT, maybe
 * WRITE, which §2.7.5.3.2 says to ignore): the checks of
 * vio__indirect_map() (the feature, a size that is a non-zero multiple of
 * 16 and at most the queue size's worth of entries), the table inside the
 * region tables were last found in (readable there, as map_table() tries
 * first) and aligned for the descriptor type, then its list. 0 popped, 1
 * take the general path. */
static VIO_ALWAYS_INLINE int vio__devq_split_popt(struct vio_devq *q)
{
	const struct vio_split_desc *hd = &q->u.split.desc[q->park_head];
	uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(hd->addr.raw));
	uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(hd->len.raw));
	if (!q->indirect || len == 0 || len % 16u != 0 || len / 16u > q->size)
		return 1;
	const struct vio_mem_region *r = &q->regions[q->last_table_region];
	uint64_t off = addr - r->guest_addr;
	if (off >= r->size || len > r->size - off || (r->access & VIO_MAP_READ) == 0)
		return 1;
	const unsigned char *host = (const unsigned char *)r->host + off;
	if (((uintptr_t)host & (_Alignof(struct vio_split_desc) - 1u)) != 0)
		return 1;
	const struct vio_split_desc *t = (const struct vio_split_desc *)(const void *)host;
	VIO_CACHE_INVALIDATE(t, len);
	q->park_table = t;
	q->park_bound = (uint16_t)(len / 16u);
	return vio__devq_split_walk(q, t, vio_le16_raw_to_cpu(VIO_READ_ONCE(t->flags.raw)), true);
}

/* Up to @m chains of the shape vio__devq_split_pop1() takes, from the
 * entries already known to be available (last_avail to avail_seen): a run
 * for vio_devq_pop_batch(), with the queue state in locals. Stops, changing
 * nothing for it, at the first entry that is not that shape (the caller's
 * vio_devq_pop() takes it, or reports it). Returns the chains taken; chain
 * j in chains[j] with its segment at segs[j * max_segs]. */
static VIO_ALWAYS_INLINE unsigned vio__devq_split_pop_run(struct vio_devq *q,
							  struct vio_chain *chains,
							  struct vio_chain_seg *segs,
							  uint16_t max_segs, unsigned m)
{
	struct vio__devq_split *s = &q->u.split;
	const uint16_t last = s->last_avail, size = q->size, mask = q->mask;
	uint32_t window = (uint16_t)(s->avail_seen - last);
	if (max_segs == 0 || window == 0)
		return 0;
	const vio_le16 *const ring = s->avail_ring;
	const struct vio_split_desc *const desc = s->desc;
	uint16_t *const inflight = q->inflight;
	const uint64_t gaddr = q->hint.guest_addr;
	unsigned char *const host = q->hint.host;
	const uint64_t room[2] = {q->hint_room[0], q->hint_room[1]};
	const uint64_t ids[2] = {q->one_ids[0], q->one_ids[1]};
	const uint64_t gen = q->one_gen;
	const unsigned count = m < window ? m : window;
	struct vio_chain_seg *sg = segs;
	struct vio_chain *c = chains;
	unsigned j;

	for (j = 0; j < count; j++, sg += max_segs, c++) {
		uint16_t head =
			vio_le16_raw_to_cpu(VIO_READ_ONCE(ring[(uint16_t)(last + j) & mask].raw));
		if (head >= size || inflight[head] != 0)
			break;
		const struct vio_split_desc *sd = &desc[head];
		uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(sd->flags.raw));
		if ((flags & (uint16_t)~VIO_DESC_F_WRITE) != 0)
			break;
		const size_t w = (size_t)(flags >> 1);
		uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(sd->addr.raw));
		uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(sd->len.raw));
		uint64_t off = addr - gaddr;
		if (off >= room[w] || len == 0 || len > room[w] - off)
			break;
		sg->ptr = host + off;
		sg->addr = addr;
		vio__seg_tail(sg, len, w != 0);
		if (VIO__CHAIN_COMPOSED) {
			vio__store64(&c->id, ids[w] | vio__mem64_16x4(head, 0, 0, 0));
			vio__store64(&c->out_bytes, vio__mem64_32x2(w ? 0 : len, w ? len : 0));
			vio__store64(&c->flags, gen | vio__mem64_16_16_32(0, head, 0));
			c->segs = sg;
		} else {
			vio__chain_fill1(q, c, sg, head, head, len, w != 0);
		}
		inflight[head] = VIO__INFLIGHT;
	}
	s->last_avail = (uint16_t)(last + j);
	return j;
}

/* One used element (the whole of a push of one, but for the write log). */
static VIO_ALWAYS_INLINE void vio__devq_split_put_used(struct vio_devq *q, uint16_t id,
						       uint32_t len)
{
	struct vio__devq_split *s = &q->u.split;
	uint16_t idx = s->used_idx;
	struct vio_split_used_elem *e = &s->used_ring[idx & q->mask];
	VIO_WRITE_ONCE(e->id.raw, vio_le32_make(id).raw);
	VIO_WRITE_ONCE(e->len.raw, vio_le32_make(len).raw);
	VIO_CACHE_CLEAN(e, sizeof(*e));
	idx++;
	s->used_idx = idx;
	s->pushed++;
	/* Release: the element before the index. Pairs with the driver's
	 * acquire load of used->idx. */
	VIO_STORE_RELEASE(s->used->idx.raw, vio_le16_make(idx).raw);
	VIO_CACHE_CLEAN(&s->used->idx, sizeof(s->used->idx));
}

static VIO_ALWAYS_INLINE bool vio__devq_split_notify1(struct vio_devq *q)
{
	struct vio__devq_split *s = &q->u.split;
	uint16_t old = q->signalled_used, new_idx = s->used_idx;
	uint32_t pushed = s->pushed;

	/* Full fence: used->idx before the driver's suppression fields.
	 * Pairs with the fence in the driver's enable_intr / get (store
	 * used_event, fence, load used->idx). */
	VIO_MB();
	q->signalled_used = new_idx;
	s->pushed = 0;
	if (pushed == 0)
		return false; /* nothing pushed since the last decision */
	if (q->event_idx) {
		VIO_CACHE_INVALIDATE(s->used_event, sizeof(*s->used_event));
		uint16_t ev = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->used_event->raw));
		/* §2.7.10: only if the used index passed used_event since the
		 * last decision (or init, reset or restore). More entries than
		 * 16-bit arithmetic spans: notify. */
		return pushed > 0xffffu || vio_need_event(ev, new_idx, old);
	}
	VIO_CACHE_INVALIDATE(&s->avail->flags, sizeof(s->avail->flags));
	uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->avail->flags.raw));
	return (flags & VIO_AVAIL_F_NO_INTERRUPT) == 0;
}

/* ---- packed --------------------------------------------------------------- */

/* The end of vio__devq_packed_pop1(): the available descriptor @pd at
 * last_avail is one direct descriptor, device-writable if @write (a
 * constant at each call site, as in vio__devq_split_take1(): the
 * direction's room, record template and segment flag are constants too).
 * The buffer inside q->hint, then the id below size and not in flight;
 * anything else is handed to vio__devq_packed_pop_handover() (the whole
 * pop again), nothing but segs[0] changed. */
static VIO_ALWAYS_INLINE int vio__devq_packed_take1(struct vio_devq *q, struct vio_chain *chain,
						    struct vio_chain_seg *segs, uint16_t max_segs,
						    const struct vio_packed_desc *pd,
						    const bool write)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(pd->addr.raw));
	uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(pd->len.raw));
	/* As in vio__devq_split_take1(). */
	segs->addr = addr;
	uint64_t off = addr - q->hint.guest_addr;
	uint64_t end = off + ((uint64_t)len - 1u);
	if (end < off || end >= q->hint_room[write])
		goto again;
	uint16_t id = vio_le16_raw_to_cpu(VIO_READ_ONCE(pd->id.raw));
	if (id >= q->size || q->inflight[id] != 0)
		goto again;
	q->inflight[id] = VIO__INFLIGHT;
	q->inflight_count++;
	segs->ptr = (unsigned char *)q->hint.host + off;
	vio__seg_tail(segs, len, write);
	uint16_t slot = p->last_avail;
	vio__chain_fill1(q, chain, segs, id, slot, len, write);
	if (++slot == q->size) {
		slot = 0;
		p->avail_mark ^= VIO__PACKED_MARK_FLIP;
	}
	p->last_avail = slot;
	return 0;
again:
	/* Nothing changed but segs->addr: the tail call starts the general
	 * pop again from the head's flags, which then need no register. */
	return vio__devq_packed_pop_handover(q, chain, segs, max_segs);
}

/* vio_devq_pop() on a healthy packed queue, a leaf like
 * vio__devq_split_pop1(): 0 popped, -VIO_EAGAIN nothing new, else what the
 * code it hands over to returns, each a tail call with nothing changed: a
 * list of direct descriptors to vio__devq_packed_pop_chain(), a table
 * alone to vio__devq_packed_pop_indirect(), any other head to
 * vio__devq_packed_pop_slow() (the general code at the head), one
 * descriptor the leaf does not take to vio__devq_packed_pop_handover()
 * (the whole pop again). The one-descriptor tail is copied per direction.
 * vio_devq_pop_batch() calls it too, for the chains its run does not
 * take. */
static VIO_ALWAYS_INLINE int vio__devq_packed_pop1(struct vio_devq *q, struct vio_chain *chain,
						   struct vio_chain_seg *segs, uint16_t max_segs)
{
	struct vio__devq_packed *p = &q->u.packed;
	const struct vio_packed_desc *pd = &p->desc[p->last_avail];

	/* Acquire: the descriptor after the flags that publish it (pairs
	 * with the driver's release store of those flags). */
	VIO_CACHE_INVALIDATE(pd, sizeof(*pd));
	uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(pd->flags.raw));
	if (!vio__packed_avail_at(p, flags))
		return -VIO_EAGAIN;
	if ((flags & (VIO_DESC_F_NEXT | VIO_DESC_F_INDIRECT)) != 0) {
		if ((flags & VIO_DESC_F_INDIRECT) == 0)
			return vio__devq_packed_pop_chain(q, chain, segs, max_segs, flags);
		if ((flags & VIO_DESC_F_NEXT) == 0)
			return vio__devq_packed_pop_indirect(q, chain, segs, max_segs, flags);
		return vio__devq_packed_pop_slow(q, chain, segs, max_segs, flags);
	}
	if (max_segs == 0)
		return vio__devq_packed_pop_handover(q, chain, segs, max_segs);
	if ((flags & VIO_DESC_F_WRITE) != 0)
		return vio__devq_packed_take1(q, chain, segs, max_segs, pd, true);
	return vio__devq_packed_take1(q, chain, segs, max_segs, pd, false);
}

/* A list of direct descriptors at last_avail into q->park_segs, the record
 * q->park_chain, at most q->park_max_segs (> 0) and the queue size of
 * them, each inside q->hint, after vio__devq_packed_pop1() saw the head
 * available with the flags q->park_head (NEXT, maybe WRITE, not
 * INDIRECT). Lengths are summed in 64 bits and the 2^32 limit tested once
 * (§2.8.6 as §2.7.5.1); a loop per direction as in vio__devq_split_popn()
 * (readable descriptors come first); the last one carries the buffer id
 * (§2.8.7), below size and not in flight. 0 popped, 1 hand over to
 * vio__devq_packed_pop_at() (which reports what is wrong, if anything;
 * only the segments were written). */
static VIO_ALWAYS_INLINE int vio__devq_packed_popn(struct vio_devq *q)
{
	struct vio__devq_packed *p = &q->u.packed;
	struct vio_chain_seg *const segs = q->park_segs;
	const struct vio_packed_desc *pd = &p->desc[p->last_avail];
	const struct vio_packed_desc *const ring_end = p->desc + q->size;
	struct vio_chain_seg *sg = segs;
	const uint16_t max_segs = q->park_max_segs;
	struct vio_chain_seg *const last = segs + ((max_segs < q->size ? max_segs : q->size) - 1u);
	uint64_t out = 0, in = 0; /* as in vio__devq_split_walk() */
	uint32_t flags = q->park_head;

	/* The rest of the list is in the slots after the head. */
	VIO_CACHE_INVALIDATE(p->desc, vio_packed_desc_size(q->size));
	/* Readable descriptors. */
	for (;;) {
		if ((flags & (VIO_DESC_F_WRITE | VIO_DESC_F_INDIRECT)) != 0) {
			if ((flags & VIO_DESC_F_INDIRECT) != 0)
				return 1;
			break;
		}
		uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(pd->addr.raw));
		uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(pd->len.raw));
		if (!vio__chain_seg_in(q, sg, 0, addr, len))
			return 1;
		out += len + VIO__OUT_ONE;
		if ((flags & VIO_DESC_F_NEXT) == 0)
			goto done;
		/* The array, or the queue size (the ring). */
		if (sg == last)
			return 1;
		sg++;
		if (++pd == ring_end)
			pd = p->desc;
		flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(pd->flags.raw));
	}
	/* Writable descriptors: flags has WRITE, not INDIRECT. */
	for (;;) {
		uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(pd->addr.raw));
		uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(pd->len.raw));
		if (!vio__chain_seg_in(q, sg, 1, addr, len))
			return 1;
		in += len + VIO__OUT_ONE;
		if ((flags & VIO_DESC_F_NEXT) == 0)
			break;
		if (sg == last)
			return 1;
		sg++;
		if (++pd == ring_end)
			pd = p->desc;
		flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(pd->flags.raw));
		/* No readable descriptor after a writable one. */
		if ((flags & (VIO_DESC_F_WRITE | VIO_DESC_F_INDIRECT)) != VIO_DESC_F_WRITE)
			return 1;
	}
done:;
	uint16_t id = vio_le16_raw_to_cpu(VIO_READ_ONCE(pd->id.raw));
	const uint64_t all = out + in;
	if (id >= q->size || q->inflight[id] != 0 || !vio__walk_ok(all))
		return 1;
	const uint32_t n = (uint32_t)(all >> 48);
	const uint16_t start = p->last_avail;
	vio__chain_filln(q, q->park_chain, q->park_segs, id, start, (uint16_t)n, n, out, in);
	q->inflight[id] = (uint16_t)(VIO__INFLIGHT - 1u + n);
	uint32_t slot = start + n; /* n <= size: at most one lap */
	if (slot >= q->size) {
		slot -= q->size;
		p->avail_mark ^= VIO__PACKED_MARK_FLIP;
	}
	p->last_avail = (uint16_t)slot;
	q->inflight_count++;
	return 0;
}

/* The descriptor at last_avail is an indirect table alone, available with
 * the flags q->park_head (INDIRECT, maybe WRITE, which §2.8.6 says to
 * ignore, not NEXT). Its buffer id below size and not in flight (§2.8.7),
 * the table checks of vio__indirect_map() and its place as in
 * vio__devq_split_popt(), at most q->park_max_segs (> 0) entries; then its
 * consecutive entries, in which only WRITE means something and INDIRECT is
 * a nested table (§2.8.6): a loop per direction as in
 * vio__devq_split_walk(), each buffer inside q->hint, the lengths summed
 * in 64 bits and the 2^32 limit tested once. The chain takes one slot. 0
 * popped, 1 hand over to vio__devq_packed_pop_at(). */
static VIO_ALWAYS_INLINE int vio__devq_packed_popt(struct vio_devq *q)
{
	struct vio__devq_packed *p = &q->u.packed;
	const struct vio_packed_desc *hd = &p->desc[p->last_avail];
	uint16_t id = vio_le16_raw_to_cpu(VIO_READ_ONCE(hd->id.raw));
	uint64_t taddr = vio_le64_raw_to_cpu(VIO_READ_ONCE(hd->addr.raw));
	uint32_t tlen = vio_le32_raw_to_cpu(VIO_READ_ONCE(hd->len.raw));
	if (id >= q->size || q->inflight[id] != 0)
		return 1;
	if (!q->indirect || tlen == 0 || tlen % 16u != 0 || tlen / 16u > q->size)
		return 1;
	const uint32_t n = tlen / 16u;
	if (n > q->park_max_segs)
		return 1; /* longer than the array */
	const struct vio_mem_region *r = &q->regions[q->last_table_region];
	uint64_t off = taddr - r->guest_addr;
	if (off >= r->size || tlen > r->size - off || (r->access & VIO_MAP_READ) == 0)
		return 1;
	const unsigned char *host = (const unsigned char *)r->host + off;
	if (((uintptr_t)host & (_Alignof(struct vio_packed_desc) - 1u)) != 0)
		return 1;
	const struct vio_packed_desc *e = (const struct vio_packed_desc *)(const void *)host;
	const struct vio_packed_desc *const end = e + n;
	VIO_CACHE_INVALIDATE(e, tlen);
	struct vio_chain_seg *sg = q->park_segs;
	uint64_t out = 0, in = 0; /* out as in vio__devq_split_walk(); in: bytes */

	/* Readable entries. */
	for (;;) {
		uint32_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(e->flags.raw));
		if ((flags & (VIO_DESC_F_WRITE | VIO_DESC_F_INDIRECT)) != 0)
			break; /* the writable loop tests the entry again */
		uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(e->addr.raw));
		uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(e->len.raw));
		if (!vio__chain_seg_in(q, sg, 0, addr, len))
			return 1;
		out += len + VIO__OUT_ONE;
		sg++;
		if (++e == end)
			goto done;
	}
	/* Writable entries. */
	for (;;) {
		uint32_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(e->flags.raw));
		if ((flags & (VIO_DESC_F_WRITE | VIO_DESC_F_INDIRECT)) != VIO_DESC_F_WRITE)
			return 1; /* readable after writable, or nested */
		uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(e->addr.raw));
		uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(e->len.raw));
		if (!vio__chain_seg_in(q, sg, 1, addr, len))
			return 1;
		in += len;
		sg++;
		if (++e == end)
			break;
	}
done:
	if (!vio__walk_ok(out + in))
		return 1;
	const uint16_t start = p->last_avail;
	vio__chain_filln(q, q->park_chain, q->park_segs, id, start, 1, n, out, in);
	q->inflight[id] = VIO__INFLIGHT;
	uint32_t slot = start + 1u;
	if (slot == q->size) {
		slot = 0;
		p->avail_mark ^= VIO__PACKED_MARK_FLIP;
	}
	p->last_avail = (uint16_t)slot;
	q->inflight_count++;
	return 0;
}

/* One used descriptor (the whole of a push of one, but for the write log):
 * id and len first, then the position, mark and size are read (a store
 * into the ring may change them as far as the compiler knows: read after
 * it, each is read once and few values are live across it), the new ones
 * stored, and the flags last. */
static VIO_ALWAYS_INLINE void vio__devq_packed_put_used(struct vio_devq *q, uint16_t id,
							uint32_t ndesc, uint32_t len)
{
	struct vio__devq_packed *p = &q->u.packed;
	struct vio_packed_desc *d = &p->desc_rw[p->used_idx];
	VIO_WRITE_ONCE(d->id.raw, vio_le16_make(id).raw);
	VIO_WRITE_ONCE(d->len.raw, vio_le32_make(len).raw);
	VIO_CACHE_CLEAN(d, sizeof(*d));
	/* §2.8.4: WRITE in a used descriptor says data was written. The mark
	 * has no WRITE bit: adding it is setting it (one select). */
	const uint16_t mark = p->used_mark;
	uint16_t flags = len != 0 ? (uint16_t)(mark + VIO_DESC_F_WRITE) : mark;
	uint32_t next = (uint32_t)p->used_idx + ndesc; /* ndesc <= size */
	if (next >= q->size) {
		next -= q->size;
		p->used_mark ^= VIO__PACKED_MARK_FLIP;
	}
	p->used_idx = (uint16_t)next;
	p->pushed += ndesc;
	/* Release: id and len before the flags. Pairs with the driver's
	 * acquire load of the flags. */
	VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
	VIO_CACHE_CLEAN(d, sizeof(*d));
}

static VIO_ALWAYS_INLINE bool vio__devq_packed_notify1(struct vio_devq *q)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint32_t pushed = p->pushed;

	/* Full fence: the used flags before the driver's event suppression.
	 * Pairs with the driver's fence after it writes that structure. */
	VIO_MB();
	p->pushed = 0;
	if (pushed == 0)
		return false;
	VIO_CACHE_INVALIDATE(p->driver, sizeof(*p->driver));
	uint16_t flags = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->driver->flags.raw)) & 3u;
	/* §2.8.10: DISABLE never notifies; ENABLE, the reserved value and
	 * DESC without EVENT_IDX always do (desc_mode is DESC only with the
	 * feature, so DISABLE is never it). */
	if (flags != p->desc_mode)
		return flags != VIO_RING_EVENT_FLAGS_DISABLE;
	/* DESC: more slots than the arithmetic spans notify; otherwise only
	 * if the descriptor the driver named was made used since the last
	 * decision (or since init, reset or restore). */
	const uint32_t size = q->size;
	if (pushed >= size)
		return true;
	uint16_t off_wrap = vio_le16_raw_to_cpu(VIO_READ_ONCE(p->driver->off_wrap.raw));
	/* §2.8.10 as in vio__vq_packed_kick1(): the event lies in this lap
	 * or the previous one, then written as a negative slot of this lap,
	 * and the split ring's 16-bit rule applies. The wrap counter is
	 * used_mark's USED bit (bit 15), where off_wrap keeps its own. (One
	 * helper for both halves costs gcc 12 three instructions here.) */
	uint32_t off = off_wrap & 0x7fffu;
	if (off >= size)
		return true; /* nonsense from the peer: err towards notifying */
	if (((off_wrap ^ p->used_mark) & VIO_DESC_F_USED) != 0)
		off -= size;
	return vio_need_event((uint16_t)off, p->used_idx, (uint16_t)(p->used_idx - pushed));
}

#endif /* VIO_LIB_RING_DEVQ_HOT_H */
