/* SPDX-License-Identifier: MIT */
/* Device queue: completing a batch of popped chains in place
 * (vio_devq_push_chains()): the chains as vio_devq_pop_batch() returned
 * them and a length each, without a struct vio_used per completion. */
#include "devq_impl.h"
#include "packed_event.h"

/* A chain the embedder may push: as pushable() in devq.c. */
static bool chain_pushable(const struct vio_devq *q, const struct vio_chain *c, uint32_t written)
{
	return c->gen == q->gen && c->id < q->size && (q->inflight[c->id] & VIO__INFLIGHT) != 0 &&
	       written <= c->in_bytes;
}

/* q->hot on: @c is of this generation and has no mappings to release (one
 * compare of the chain's (flags, head, gen) word with q->push_key, as
 * vio_devq_push()). */
static VIO_ALWAYS_INLINE bool fast_key_ok(const struct vio_devq *q, const struct vio_chain *c)
{
	if (VIO__CHAIN_COMPOSED) {
		uint64_t w;
		VIO_MEMCPY(&w, &c->flags, sizeof(w));
		return (w & VIO__PUSH_MASK) == q->push_key;
	}
	return c->gen == q->gen && (c->flags & VIO_CHAIN_MAPPED) == 0;
}

/* The fast-path test of one chain, q->hot on: fast_key_ok(), in range.
 * Returns the chain's in-flight record (@inflight is q->inflight), or 0
 * if those tests fail or it claims more bytes than it offered. The caller
 * tests VIO__INFLIGHT in the result (0 has not): one test for both. */
static VIO_ALWAYS_INLINE uint16_t fast_record(const struct vio_devq *q, const uint16_t *inflight,
					      const struct vio_chain *c, uint32_t len)
{
	if (!fast_key_ok(q, c))
		return 0;
	uint16_t id = c->id;
	if (id >= q->size || len > c->in_bytes)
		return 0;
	return inflight[id];
}

/* Put back the in-flight marks of chains[0 .. k) (taken off as they
 * passed), so a refused batch changes nothing the queue keeps. */
static void unmark(struct vio_devq *q, const struct vio_chain *chains, unsigned k)
{
	while (k-- > 0)
		q->inflight[chains[k].id] |= VIO__INFLIGHT;
}

/* Split, q->hot on: check each chain and write its used element in one
 * pass, then publish the index once. An element is written only once its
 * chain passed: a refused batch leaves elements past the used index (which
 * the driver does not read, and which those chains would take anyway) and
 * nothing else. The in-flight marks come off as chains pass, so a chain
 * named twice fails the second time. False: refused, nothing published;
 * the general code reports why. */
static VIO_ALWAYS_INLINE bool split_fast(struct vio_devq *q, const struct vio_chain *chains,
					 const uint32_t *lens, unsigned n)
{
	struct vio__devq_split *s = &q->u.split;
	struct vio_split_used_elem *const ring = s->used_ring;
	uint16_t *const inflight = q->inflight;
	const uint16_t first = s->used_idx, mask = q->mask;
	uint16_t rest = 0; /* the ndesc bits left in the records (multi-descriptor chains) */
	unsigned k;

	for (k = 0; k < n; k++) {
		const struct vio_chain *c = &chains[k];
		uint32_t len = lens[k];
		uint16_t v = fast_record(q, inflight, c, len);
		if (vio_unlikely((v & VIO__INFLIGHT) == 0)) { /* refused, or not in flight */
			unmark(q, chains, k);
			return false;
		}
		uint16_t id = c->id;
		v ^= VIO__INFLIGHT;
		inflight[id] = v;
		rest |= v;
		struct vio_split_used_elem *e = &ring[(uint16_t)(first + k) & mask];
		VIO_WRITE_ONCE(e->id.raw, vio_le32_make(id).raw);
		VIO_WRITE_ONCE(e->len.raw, vio_le32_make(len).raw);
		VIO_CACHE_CLEAN(e, sizeof(*e));
	}
	/* Chains of several descriptors left their ndesc bits: not in flight
	 * means a record of 0. */
	if (rest != 0)
		for (k = 0; k < n; k++)
			inflight[chains[k].id] = 0;
	uint16_t idx = (uint16_t)(first + n);
	s->used_idx = idx;
	s->pushed += n;
	/* Release: the elements before the index that publishes them. Pairs
	 * with the driver's acquire load of used->idx. */
	VIO_STORE_RELEASE(s->used->idx.raw, vio_le16_make(idx).raw);
	VIO_CACHE_CLEAN(&s->used->idx, sizeof(s->used->idx));
	return true;
}

/* Packed: a refused batch (chains[0 .. k) passed and were written) takes
 * back what packed_fast() wrote. The flags of those chains' used
 * descriptors but the first (which was not written) become the driver's
 * "available" pair of the slot's lap again: slots the device holds, which
 * the driver reads only once the first one's flags say used. The in-flight
 * records get back the value packed_fast() found (VIO__INFLIGHT | ndesc -
 * 1, with ndesc the chain's, which it checked). */
VIO_NOINLINE static void packed_take_back(struct vio_devq *q, const struct vio_chain *chains,
					  unsigned k)
{
	struct vio__devq_packed *p = &q->u.packed;
	uint16_t slot = p->used_idx, mark = p->used_mark;
	for (unsigned j = 0; j < k; j++) {
		uint16_t id = chains[j].id, ndesc = chains[j].ndesc;
		if (j != 0) {
			struct vio_packed_desc *d = &p->desc_rw[slot];
			uint16_t flags = (uint16_t)(mark ^ VIO_DESC_F_USED);
			VIO_WRITE_ONCE(d->flags.raw, vio_le16_make(flags).raw);
			VIO_CACHE_CLEAN(d, sizeof(*d));
		}
		vio__packed_advance_mark(&slot, &mark, ndesc, q->size);
		q->inflight[id] = (uint16_t)(VIO__INFLIGHT + ndesc - 1u);
	}
}

/* Chain @k of packed_fast(): checked, its record cleared, its used
 * descriptor written at *@slot (the flags of chain 0 only returned in
 * *@head_flags), the position moved. False: refused, taken back. */
static VIO_ALWAYS_INLINE bool packed_fast1(struct vio_devq *q, struct vio_packed_desc *ring,
					   uint16_t *inflight, uint16_t size,
					   const struct vio_chain *chains, const uint32_t *lens,
					   unsigned k, uint16_t *slot, uint16_t *mark,
					   uint32_t *slots, uint16_t *head_flags)
{
	const struct vio_chain *c = &chains[k];
	uint32_t len = lens[k];
	uint16_t id = c->id, ndesc = c->ndesc;
	/* (An ndesc of 0 would name the record 0x7fff, which no record holds
	 * outside vio_devq_push_batch()'s check: it fails the compare.) */
	if (vio_unlikely(!fast_key_ok(q, c) || id >= size || len > c->in_bytes ||
			 inflight[id] != (uint16_t)(VIO__INFLIGHT + ndesc - 1u))) {
		packed_take_back(q, chains, k);
		return false;
	}
	inflight[id] = 0;
	vio__packed_write_used(&ring[*slot], k, id, len, *mark, head_flags);
	vio__packed_advance_mark(slot, mark, ndesc, size);
	*slots += ndesc;
	return true;
}

/* Packed, q->hot on: check each chain and write its used descriptor at the
 * slots it took, in one pass; the first one's flags last, once every chain
 * passed, so the batch appears at once (the driver reads used descriptors
 * in ring order from the first: none of the others before it). A chain
 * passes if its in-flight record is exactly VIO__INFLIGHT | (its ndesc -
 * 1): in flight, and the record's slot count is the chain's (else the
 * general code takes it); its record is then cleared at once, so a chain
 * named twice fails the second time. A refused batch is taken back
 * (packed_take_back()) before the first one's flags were ever written:
 * nothing was published. False: refused; the general code reports why. */
static VIO_ALWAYS_INLINE bool packed_fast(struct vio_devq *q, const struct vio_chain *chains,
					  const uint32_t *lens, unsigned n)
{
	struct vio__devq_packed *p = &q->u.packed;
	struct vio_packed_desc *const ring = p->desc_rw;
	uint16_t *const inflight = q->inflight;
	const uint16_t head = p->used_idx, size = q->size;
	uint16_t slot = head, mark = p->used_mark, head_flags = 0;
	uint32_t slots = 0;

	/* The first chain (n >= 1) out of the loop: only its flags wait
	 * (the loop then has no test for it). */
	if (!packed_fast1(q, ring, inflight, size, chains, lens, 0, &slot, &mark, &slots,
			  &head_flags))
		return false;
	for (unsigned k = 1; k < n; k++)
		if (!packed_fast1(q, ring, inflight, size, chains, lens, k, &slot, &mark, &slots,
				  &head_flags))
			return false;
	vio__packed_publish_batch(q, p, head, head_flags, slot, mark, slots, n);
	return true;
}

/* ---- Taking a run of chains (vio_devq_pop_batch()) ------------------------- */

unsigned vio__devq_packed_pop_run(struct vio_devq *q, struct vio_chain *chains,
				  struct vio_chain_seg *segs, uint16_t max_segs, unsigned m)
{
	struct vio__devq_packed *p = &q->u.packed;
	const struct vio_packed_desc *const ring = p->desc;
	uint16_t *const inflight = q->inflight;
	const uint16_t size = q->size;
	const uint64_t gaddr = q->hint.guest_addr;
	unsigned char *const host = q->hint.host;
	const uint64_t room[2] = {q->hint_room[0], q->hint_room[1]};
	const uint64_t ids[2] = {q->one_ids[0], q->one_ids[1]};
	const uint64_t gen = q->one_gen;
	uint16_t slot = p->last_avail, mark = p->avail_mark;
	struct vio_chain_seg *sg = segs;
	struct vio_chain *c = chains;
	const struct vio_packed_desc *pd = &ring[slot];
	unsigned j = 0;

	if (max_segs == 0)
		return 0;
	/* In runs that do not wrap: pd and the chain's (flags, head, gen) word
	 * step with the chain, slot and the mark move once per run. The word's
	 * head field cannot carry: slot + run <= size <= 32768. */
	while (j < m) {
		unsigned stop = size - slot;
		stop = m - j < stop ? m : j + stop;
		uint64_t fw = gen | vio__mem64_16_16_32(0, slot, 0);
		for (; j < stop;
		     j++, pd++, c++, sg += max_segs, fw += vio__mem64_16_16_32(0, 1, 0)) {
			/* Acquire: the descriptor after the flags that publish it
			 * (pairs with the driver's release store of those flags). */
			VIO_CACHE_INVALIDATE(pd, sizeof(*pd));
			uint16_t flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(pd->flags.raw));
			/* Available, neither NEXT nor INDIRECT: the AVAIL/USED pair
			 * and those two bits in one compare (WRITE is the direction). */
			if ((flags & (uint16_t)(VIO__PACKED_MARKS | VIO_DESC_F_NEXT |
						VIO_DESC_F_INDIRECT)) != mark)
				goto out;
			uint16_t id = vio_le16_raw_to_cpu(VIO_READ_ONCE(pd->id.raw));
			if (id >= size || inflight[id] != 0)
				goto out;
			const size_t w = (size_t)((flags >> 1) & 1u); /* VIO_DESC_F_WRITE */
			uint64_t addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(pd->addr.raw));
			uint32_t len = vio_le32_raw_to_cpu(VIO_READ_ONCE(pd->len.raw));
			/* Inside q->hint, as in vio__devq_split_take1(): the last
			 * byte below the direction's room (0 where the region does
			 * not grant it), no carry out of the sum (a length of 0
			 * carries, or at offset 0 is not below any room). */
			uint64_t off = addr - gaddr;
			uint64_t end = off + ((uint64_t)len - 1u);
			if (end < off || end >= room[w])
				goto out;
			sg->ptr = host + off;
			sg->addr = addr;
			vio__seg_tail(sg, len, w != 0);
			if (VIO__CHAIN_COMPOSED) {
				vio__store64(&c->id, ids[w] | vio__mem64_16x4(id, 0, 0, 0));
				vio__store64(&c->out_bytes,
					     vio__mem64_32x2(w ? 0 : len, w ? len : 0));
				vio__store64(&c->flags, fw);
				c->segs = sg;
			} else {
				vio__chain_fill1(q, c, sg, id, (uint16_t)(pd - ring), len, w != 0);
			}
			inflight[id] = VIO__INFLIGHT;
		}
		/* The run ended at the ring's end (or at m, which ends the loop). */
		slot = (uint16_t)(pd - ring);
		if (slot == size) {
			slot = 0;
			pd = ring;
			mark ^= VIO__PACKED_MARK_FLIP;
		}
	}
out:
	slot = (uint16_t)(pd - ring);
	p->last_avail = slot;
	p->avail_mark = mark;
	q->inflight_count = (uint16_t)(q->inflight_count + j);
	return j;
}

/* ---- The general path: write log, mappings, journal ------------------------ */

/* Split: the used elements of chains[0 .. n) (checked; marks off) from the
 * used position, the index once, then the log (as vio_devq_push_batch()). */
static void split_publish(struct vio_devq *q, const struct vio_chain *chains, const uint32_t *lens,
			  unsigned n)
{
	struct vio__devq_split *s = &q->u.split;
	const uint16_t first = s->used_idx;
	for (unsigned k = 0; k < n; k++) {
		struct vio_split_used_elem *e = &s->used_ring[(uint16_t)(first + k) & q->mask];
		VIO_WRITE_ONCE(e->id.raw, vio_le32_make(chains[k].id).raw);
		VIO_WRITE_ONCE(e->len.raw, vio_le32_make(lens[k]).raw);
		VIO_CACHE_CLEAN(e, sizeof(*e));
	}
	uint16_t idx = (uint16_t)(first + n);
	s->used_idx = idx;
	s->pushed += n;
	/* Release: as in split_fast(). */
	VIO_STORE_RELEASE(s->used->idx.raw, vio_le16_make(idx).raw);
	VIO_CACHE_CLEAN(&s->used->idx, sizeof(s->used->idx));
	if (q->log_write != NULL) {
		uint64_t base = q->part[VIO__PART_DEVICE].addr;
		for (unsigned k = 0; k < n; k++)
			vio__devq_log(
				q, base + 4u + 8u * (uint64_t)((uint16_t)(first + k) & q->mask), 8);
		vio__devq_log(q, base + 2u, 2); /* used->idx */
	}
}

/* Packed: as packed_fast()'s second half, logging each used descriptor.
 * The in-flight records (marks off) still hold each ndesc. */
static void packed_publish(struct vio_devq *q, const struct vio_chain *chains, const uint32_t *lens,
			   unsigned n)
{
	struct vio__devq_packed *p = &q->u.packed;
	const uint16_t head = p->used_idx;
	uint16_t slot = head, mark = p->used_mark, head_flags = 0;
	uint32_t slots = 0;
	for (unsigned k = 0; k < n; k++) {
		uint16_t id = chains[k].id, ndesc = vio__devq_inflight_ndesc(q, id);
		struct vio_packed_desc *d = &p->desc_rw[slot];
		/* §2.8.4: WRITE in a used descriptor says data was written. */
		uint16_t flags = (uint16_t)(mark | (lens[k] != 0 ? VIO_DESC_F_WRITE : 0));
		VIO_WRITE_ONCE(d->id.raw, vio_le16_make(id).raw);
		VIO_WRITE_ONCE(d->len.raw, vio_le32_make(lens[k]).raw);
		if (k == 0)
			head_flags = flags;
		else
			VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
		VIO_CACHE_CLEAN(d, sizeof(*d));
		/* The device writes len, id and flags: bytes 8..15 of the slot. */
		vio__devq_log(q, q->part[VIO__PART_DESC].addr + 16u * (uint64_t)slot + 8u, 8);
		vio__packed_advance_mark(&slot, &mark, ndesc, q->size);
		slots += ndesc;
	}
	vio__packed_publish_batch(q, p, head, head_flags, slot, mark, slots, n);
}

static void publish(struct vio_devq *q, const struct vio_chain *chains, const uint32_t *lens,
		    unsigned n)
{
	if (q->format == VIO_RING_SPLIT)
		split_publish(q, chains, lens, n);
	else
		packed_publish(q, chains, lens, n);
	for (unsigned k = 0; k < n; k++)
		q->inflight[chains[k].id] = 0;
}

/* Completions per journal batch: the journal's callbacks take struct
 * vio_used entries, built here on the stack, this many at a time. */
#define JOURNAL_CHUNK 32u

/* With a journal set: publish in batches of at most JOURNAL_CHUNK, each
 * announced (push_begin) before anything of it is visible and confirmed
 * (push_end) after, as vio_devq_push_batch() does for its whole batch. The
 * whole call was checked first: every batch is published. */
VIO_NOINLINE static void publish_journaled(struct vio_devq *q, const struct vio_chain *chains,
					   const uint32_t *lens, unsigned n)
{
	const struct vio_devq_journal *j = q->journal;
	for (unsigned at = 0; at < n;) {
		unsigned m = n - at < JOURNAL_CHUNK ? n - at : JOURNAL_CHUNK;
		struct vio_used used[JOURNAL_CHUNK];
		struct vio_ring_state after;
		vio_devq_get_state(q, &after);
		for (unsigned k = 0; k < m; k++) {
			used[k].chain = &chains[at + k];
			used[k].len = lens[at + k];
			if (q->format == VIO_RING_PACKED)
				vio__packed_advance(&after.used_idx, &after.used_wrap,
						    vio__devq_inflight_ndesc(q, chains[at + k].id),
						    q->size);
		}
		if (q->format == VIO_RING_SPLIT)
			after.used_idx = (uint16_t)(after.used_idx + m);
		after.inflight = (uint16_t)(after.inflight - m);
		if (j->push_begin != NULL)
			j->push_begin(q->journal_ctx, used, m, &after);
		publish(q, chains + at, lens + at, m);
		if (j->push_end != NULL)
			j->push_end(q->journal_ctx, used, m, &after);
		at += m;
	}
}

VIO_NOINLINE static int push_chains_general(struct vio_devq *q, const struct vio_chain *chains,
					    const uint32_t *lens, unsigned n)
{
	if (vio_unlikely(q->broken))
		return -VIO_EBROKEN;
	if (chains == NULL || lens == NULL || n > q->size)
		return -VIO_EINVAL;
	for (unsigned k = 0; k < n; k++) {
		if (!chain_pushable(q, &chains[k], lens[k])) {
			unmark(q, chains, k);
			return -VIO_EINVAL;
		}
		q->inflight[chains[k].id] &= (uint16_t)~VIO__INFLIGHT;
	}
	/* Log what was written into the buffers and release their mappings,
	 * before the completions are visible. */
	for (unsigned k = 0; k < n; k++)
		vio__devq_finish_chain(q, &chains[k], lens[k]);
	if (vio_unlikely(q->journal != NULL))
		publish_journaled(q, chains, lens, n);
	else
		publish(q, chains, lens, n);
	return 0;
}

int vio_devq_push_chains(struct vio_devq *q, const struct vio_chain *chains, const uint32_t *lens,
			 unsigned n)
{
	/* An empty batch is a no-op. */
	if (vio_unlikely(n == 0))
		return 0;
	if (vio_likely(chains != NULL && lens != NULL && n <= q->size)) {
		if (vio_likely(q->hot == VIO__HOT_SPLIT)) {
			if (vio_likely(split_fast(q, chains, lens, n)))
				return 0;
		} else if (q->hot == VIO__HOT_PACKED) {
			if (vio_likely(packed_fast(q, chains, lens, n)))
				return 0;
		}
	}
	return push_chains_general(q, chains, lens, n);
}
