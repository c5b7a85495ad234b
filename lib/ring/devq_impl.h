/* SPDX-License-Identifier: MIT */
/* Private: the device queue's state and the helpers shared by devq.c (API
 * and dispatch), devq_mem.c (guest memory) and the devq_split.c /
 * devq_packed.c format halves. */
#ifndef VIO_LIB_RING_DEVQ_IMPL_H
#define VIO_LIB_RING_DEVQ_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/devq.h>

#include "ring_impl.h"

/* A 64-bit value that memcpy() lays out as four uint16 / two uint32 /
 * (uint32, uint8, uint8, uint16) in that order, whatever the host's byte
 * order: several adjacent fields written with one store. */
static inline uint64_t vio__mem64_16x4(uint16_t a, uint16_t b, uint16_t c, uint16_t d)
{
#if VIO_HOST_BIG_ENDIAN
	return (uint64_t)a << 48 | (uint64_t)b << 32 | (uint64_t)c << 16 | d;
#else
	return a | (uint64_t)b << 16 | (uint64_t)c << 32 | (uint64_t)d << 48;
#endif
}

static inline uint64_t vio__mem64_32x2(uint32_t a, uint32_t b)
{
#if VIO_HOST_BIG_ENDIAN
	return (uint64_t)a << 32 | b;
#else
	return a | (uint64_t)b << 32;
#endif
}

static inline uint64_t vio__mem64_16_16_32(uint16_t a, uint16_t b, uint32_t c)
{
#if VIO_HOST_BIG_ENDIAN
	return (uint64_t)a << 48 | (uint64_t)b << 32 | c;
#else
	return a | (uint64_t)b << 16 | (uint64_t)c << 32;
#endif
}

static inline uint64_t vio__mem64_32_8_8(uint32_t a, uint8_t b, uint8_t c)
{
#if VIO_HOST_BIG_ENDIAN
	return (uint64_t)a << 32 | (uint64_t)b << 24 | (uint64_t)c << 16;
#else
	return a | (uint64_t)b << 32 | (uint64_t)c << 40;
#endif
}

struct vio__devq_split {
	const struct vio_split_desc *desc;
	const struct vio_split_avail *avail;
	const vio_le16 *avail_ring;
	const vio_le16 *used_event;
	struct vio_split_used *used;
	struct vio_split_used_elem *used_ring;
	vio_le16 *avail_event;
	uint16_t last_avail; /* next available entry to take (free-running) */
	uint16_t avail_seen; /* driver's avail idx as last read (validated) */
	uint16_t used_idx;   /* next used entry to write (free-running) */
	uint16_t used_flags; /* shadow of used->flags */
	uint32_t pushed;     /* used entries since the last needs_notify */
};

struct vio__devq_packed {
	const struct vio_packed_desc *desc; /* the device writes used descriptors through desc_rw */
	struct vio_packed_desc *desc_rw;
	const struct vio_packed_event *driver; /* driver's event suppression (read) */
	struct vio_packed_event *device;       /* ours (written) */
	uint16_t last_avail;		       /* next slot to look at */
	uint16_t used_idx;		       /* next slot to write a used descriptor to */
	/* The wrap counters as the AVAIL|USED flag pair they mean (so that a
	 * test or a used descriptor's flags need no arithmetic): avail_mark is
	 * the pair a descriptor available at last_avail carries
	 * (vio__packed_avail_flags() of the driver's wrap counter), used_mark
	 * the pair our used descriptors get (vio__packed_used_flags()).
	 * Each flips by VIO__PACKED_MARK_FLIP with its wrap counter. */
	uint16_t avail_mark;
	uint16_t used_mark;
	uint16_t event_flags; /* shadow of device->flags */
	/* The driver's event flags (masked to 2 bits) that mean "look at
	 * off_wrap": VIO_RING_EVENT_FLAGS_DESC with EVENT_IDX, else
	 * VIO__EVENT_NO_DESC, which no masked value equals (§2.8.10: DESC
	 * without the feature is reserved). Set by vio__devq_packed_reset(). */
	uint16_t desc_mode;
	uint32_t pushed; /* ring slots used since the last needs_notify */
};

#define VIO__EVENT_NO_DESC 4u

/* A ring part: where the driver put it and how it is mapped. */
struct vio__ring_part {
	void *host;
	uint64_t addr;
	uint64_t len;
	enum vio_map_dir dir;
	uint16_t align; /* spec alignment of the address (and needed of the host address) */
	bool release;	/* mapped by the callback, due for release */
};

enum {
	VIO__PART_DESC,
	VIO__PART_DRIVER,
	VIO__PART_DEVICE,
	VIO__NPARTS
};

/* inflight[id]: 0 while the device does not hold the chain with that id
 * (split: head index; packed: buffer id), else VIO__INFLIGHT | (ndesc - 1),
 * or VIO__DROPPED once vio_devq_drop() gave it up: still in flight for the
 * ring (a driver may not offer the id again), no longer pushable. */
#define VIO__INFLIGHT 0x8000u
#define VIO__DROPPED 0x0001u

struct vio_devq {
	enum vio_ring_format format;
	uint16_t size;
	uint16_t mask;
	bool event_idx;
	bool indirect;
	bool in_order;
	bool take_long;		 /* vio_devq_config::take_long_chains */
	uint16_t signalled_used; /* used position at the last needs_notify (or reset/restore) */
	int broken;		 /* 0, or the negative error that broke the queue */
	uint8_t hot;		 /* VIO__HOT_*: which fast path applies (devq_hot.h) */
	uint32_t gen;		 /* bumped by reset and set_state: older chains are stale */
	uint16_t inflight_count; /* packed: chains popped (or restored) and not pushed */
	uint16_t repop_left;	 /* restored chains not yet re-submitted */

	/* Guest memory: the region table (never NULL; a one-entry empty table
	 * when the embedder gave none), the last region that matched, and the
	 * callbacks. log_write is cached: the push path tests it. */
	const struct vio_mem_region *regions;
	uint32_t nregions;
	uint32_t last_region;	    /* buffers */
	struct vio_mem_region hint; /* a copy of regions[last_region], read inline */
	/* hint.size where the hint grants the direction, else 0: [0] device
	 * reads, [1] device writes (vio__devq_set_hint()). */
	uint64_t hint_room[2];
	/* hint.guest_addr + hint_room[w] (modulo 2^64: a region may end at
	 * 2^64): for an address inside, hint_end[w] - addr is the room left. */
	uint64_t hint_end[2];
	/* Templates of a one-segment chain record (vio__chain_fill1()), as
	 * memcpy() lays them out: id, ndesc, nseg, nout with id 0, for a
	 * readable [0] / writable [1] segment; flags, head, gen with head 0. */
	uint64_t one_ids[2];
	uint64_t one_gen;
	/* What a chain's (flags, head, gen) word masked with VIO__PUSH_MASK
	 * equals when vio_devq_push() may take its fast path: no MAPPED flag,
	 * this generation, and q->hot on; a value no masked word has while
	 * q->hot is off (vio__devq_hot_update(), vio__devq_fail()). */
	uint64_t push_key;
	uint32_t last_table_region; /* indirect tables */
	const struct vio_mem_ops *mem_ops;
	void *mem_ctx;
	void (*log_write)(void *ctx, uint64_t addr, uint64_t len);
	struct vio__ring_part part[VIO__NPARTS];
	/* The in-flight journal (vio_devq_set_journal()), NULL if none. */
	const struct vio_devq_journal *journal;
	void *journal_ctx;

	union {
		struct vio__devq_split split;
		struct vio__devq_packed packed;
	} u;
	uint16_t *inflight; /* size entries, after the struct */
	/* The arguments of a pop parked while a fast chain walk runs
	 * (devq_hot.h): read back for the record or the hand-over, so that
	 * they need no register during the walk. Meaningless between pops. */
	struct vio_chain *park_chain;
	struct vio_chain_seg *park_segs;
	uint16_t park_max_segs;
	uint16_t park_head;
	uint16_t park_bound;			 /* entries of park_table */
	const struct vio_split_desc *park_table; /* the indirect table being walked */
};

/* Make @r the region the inline fast paths try first. */
static inline void vio__devq_set_hint(struct vio_devq *q, const struct vio_mem_region *r)
{
	q->hint = *r;
	q->hint_room[0] = (r->access & VIO_MAP_READ) != 0 ? r->size : 0;
	q->hint_room[1] = (r->access & VIO_MAP_WRITE) != 0 ? r->size : 0;
	q->hint_end[0] = r->guest_addr + q->hint_room[0];
	q->hint_end[1] = r->guest_addr + q->hint_room[1];
}

/* The one-segment chain templates for the current generation. */
static inline void vio__devq_chain_templates(struct vio_devq *q)
{
	q->one_ids[0] = vio__mem64_16x4(0, 1, 1, 1);
	q->one_ids[1] = vio__mem64_16x4(0, 1, 1, 0);
	q->one_gen = vio__mem64_16_16_32(0, 0, q->gen);
}

/* ---- Packed positions (slot, wrap counter as a flag pair) ---------------- */

#define VIO__PACKED_MARKS (VIO_DESC_F_AVAIL | VIO_DESC_F_USED)
#define VIO__PACKED_MARK_FLIP VIO__PACKED_MARKS

static inline bool vio__packed_avail_wrap(const struct vio__devq_packed *p)
{
	return (p->avail_mark & VIO_DESC_F_AVAIL) != 0;
}

static inline bool vio__packed_used_wrap(const struct vio__devq_packed *p)
{
	return p->used_mark != 0;
}

/* @flags (a descriptor's) mark it available at last_avail. */
static inline bool vio__packed_avail_at(const struct vio__devq_packed *p, uint16_t flags)
{
	return (flags & VIO__PACKED_MARKS) == p->avail_mark;
}

/* Advance (@slot, @mark) by @n slots (n <= size). */
static inline void vio__packed_advance_mark(uint16_t *slot, uint16_t *mark, uint32_t n,
					    uint16_t size)
{
	uint32_t s = (uint32_t)*slot + n;
	if (s >= size) {
		s -= size;
		*mark ^= VIO__PACKED_MARK_FLIP;
	}
	*slot = (uint16_t)s;
}

/* A batch's used descriptor @k at @d: id, length and the flags @mark says
 * (§2.8.4: WRITE when data was written; the mark has no WRITE bit, so
 * adding it sets it). The first entry's flags are only returned in
 * *@head_flags: vio__packed_publish_batch() writes them last. */
static VIO_ALWAYS_INLINE void vio__packed_write_used(struct vio_packed_desc *d, unsigned k,
						     uint16_t id, uint32_t len, uint16_t mark,
						     uint16_t *head_flags)
{
	uint16_t flags = len != 0 ? (uint16_t)(mark + VIO_DESC_F_WRITE) : mark;
	VIO_WRITE_ONCE(d->id.raw, vio_le16_make(id).raw);
	VIO_WRITE_ONCE(d->len.raw, vio_le32_make(len).raw);
	if (k == 0)
		*head_flags = flags;
	else
		VIO_STORE_RELEASE(d->flags.raw, vio_le16_make(flags).raw);
	VIO_CACHE_CLEAN(d, sizeof(*d));
}

/* Publish a batch of @n chains (@slots descriptors) written with
 * vio__packed_write_used() from @head: the position moves to (@slot,
 * @mark), then the first entry's flags are stored with release, after the
 * ids, lengths and later flags. Pairs with the driver's acquire load of
 * the flags. */
static VIO_ALWAYS_INLINE void vio__packed_publish_batch(struct vio_devq *q,
							struct vio__devq_packed *p, uint16_t head,
							uint16_t head_flags, uint16_t slot,
							uint16_t mark, uint32_t slots, unsigned n)
{
	p->used_idx = slot;
	p->used_mark = mark;
	p->pushed += slots;
	q->inflight_count = (uint16_t)(q->inflight_count - n);
	VIO_STORE_RELEASE(p->desc_rw[head].flags.raw, vio_le16_make(head_flags).raw);
	VIO_CACHE_CLEAN(&p->desc_rw[head], sizeof(p->desc_rw[head]));
}

/* Recompute q->hot (VIO__HOT_*) after init, reset, restore, a break or a
 * journal change: off when broken, with a write log or with a journal (the
 * fast paths report to neither). */
/* The bits of a chain's (flags, head, gen) word the push fast path tests,
 * and the push_key while q->hot is off: flag 0x8000 is outside the mask. */
#define VIO__PUSH_MASK vio__mem64_16_16_32(VIO_CHAIN_MAPPED, 0, 0xffffffffu)
#define VIO__PUSH_KEY_OFF vio__mem64_16_16_32(0x8000u, 0, 0)

static inline void vio__devq_hot_update(struct vio_devq *q)
{
	if (q->broken != 0 || q->log_write != NULL || q->journal != NULL)
		q->hot = VIO__HOT_OFF;
	else
		q->hot = q->format == VIO_RING_SPLIT ? VIO__HOT_SPLIT : VIO__HOT_PACKED;
	q->push_key =
		q->hot != VIO__HOT_OFF ? vio__mem64_16_16_32(0, 0, q->gen) : VIO__PUSH_KEY_OFF;
}

static inline int vio__devq_fail(struct vio_devq *q, int err)
{
	if (q->broken == 0)
		q->broken = err;
	q->hot = VIO__HOT_OFF;
	q->push_key = VIO__PUSH_KEY_OFF;
	return err;
}

/* Report a device write of guest memory, if anybody listens. */
static inline void vio__devq_log(const struct vio_devq *q, uint64_t addr, uint64_t len)
{
	if (vio_unlikely(q->log_write != NULL))
		q->log_write(q->mem_ctx, addr, len);
}

/* ---- Guest memory (devq_mem.c) ------------------------------------------ */

/* Check a region table; 0 or -VIO_EINVAL (a region that wraps 2^64). */
int vio__mem_table_check(const struct vio_mem_region *r, uint32_t n);

/* Map the three ring parts described by @parts (addr, len, dir set) as one
 * contiguous range each; on failure nothing stays mapped. */
int vio__devq_map_rings(struct vio_devq *q, struct vio__ring_part parts[VIO__NPARTS]);
void vio__devq_release_rings(struct vio_devq *q, struct vio__ring_part parts[VIO__NPARTS]);

void vio__devq_unmap(struct vio_devq *q, const struct vio__ring_part *m);

/* Release the mappings among @n segments. */
void vio__devq_release_segs(struct vio_devq *q, struct vio_chain_seg *segs, unsigned n);

/* Log the first @written bytes of @c's writable segments (every writable
 * segment of a truncated chain) and release its mappings. */
void vio__devq_finish_chain(struct vio_devq *q, const struct vio_chain *c, uint32_t written);

/* ---- Building a chain ----------------------------------------------------- */

/* Accumulates one chain as its descriptors are read. */
struct vio__chain_builder {
	struct vio_chain *chain;
	struct vio_chain_seg *segs;
	uint16_t max_segs;
	uint16_t limit;	    /* the queue size: most buffer descriptors a chain may have */
	uint32_t ndesc;	    /* buffer descriptors seen (direct and indirect) */
	uint32_t nseg;	    /* segments in segs */
	uint32_t nout;	    /* readable segments in segs */
	bool seen_write;    /* a writable descriptor was seen */
	bool truncated;	    /* segments were left out */
	bool mapped;	    /* a segment holds a mapping to release */
	uint64_t out_bytes; /* 64 bits: a sum of at most 32768 lengths below 2^32 */
	uint64_t in_bytes;
};

static inline void vio__chain_begin(struct vio__chain_builder *b, struct vio_chain *chain,
				    struct vio_chain_seg *segs, uint16_t max_segs, uint16_t limit)
{
	b->chain = chain;
	b->segs = segs;
	b->max_segs = max_segs;
	b->limit = limit;
	b->ndesc = 0;
	b->nseg = 0;
	b->nout = 0;
	b->seen_write = false;
	b->truncated = false;
	b->mapped = false;
	b->out_bytes = 0;
	b->in_bytes = 0;
}

/* The part of vio__chain_add() that is not inline: empty buffers, other
 * regions, the map callback, a full array (devq_mem.c). */
int vio__chain_add_slow(struct vio_devq *q, struct vio__chain_builder *b, uint64_t addr,
			uint32_t len, bool write);

/* Validate one buffer descriptor of a chain and map it into segments. Peer
 * errors, -VIO_ENOSPC, -VIO_EMAP_AGAIN. */
static VIO_ALWAYS_INLINE int vio__chain_add(struct vio_devq *q, struct vio__chain_builder *b,
					    uint64_t addr, uint32_t len, bool write)
{
	/* §2.7.5.3.1 / §2.8.6: no chain longer than the queue size. A longer
	 * walk can only come from a loop or a hostile driver. */
	if (vio_unlikely(b->ndesc >= b->limit))
		return -VIO_EDESC_LOOP;
	b->ndesc++;
	if (write) {
		b->seen_write = true;
		b->in_bytes += len;
	} else {
		/* §2.7.4.2: device-readable descriptors come first. */
		if (vio_unlikely(b->seen_write))
			return -VIO_EDESC_ORDER;
		b->out_bytes += len;
	}
	/* §2.7.5.1: at most 2^32 bytes per chain; totals are kept in 32 bits. */
	if (vio_unlikely(b->out_bytes + b->in_bytes > UINT32_MAX))
		return -VIO_ELEN_OVERFLOW;
	/* Inside the region that matched last, with room in the array. */
	const struct vio_mem_region *r = &q->hint;
	uint64_t off = addr - r->guest_addr;
	unsigned dir = write ? VIO_MAP_WRITE : VIO_MAP_READ;
	if (vio_likely(len != 0 && off < r->size && len <= r->size - off &&
		       (dir & ~r->access) == 0 && b->nseg < b->max_segs)) {
		struct vio_chain_seg *s = &b->segs[b->nseg++];
		s->ptr = (unsigned char *)r->host + off;
		s->addr = addr;
		s->len = len;
		s->write = write;
		s->release = false;
		b->nout += !write;
		return 0;
	}
	return vio__chain_add_slow(q, b, addr, len, write);
}

/* The chain is complete: fill in the caller's record. */
void vio__chain_end(const struct vio_devq *q, struct vio__chain_builder *b, uint16_t id,
		    uint16_t ndesc, uint16_t head);

/* ---- Composed stores into a chain record ---------------------------------- */

/* The layouts the composed stores assume (true on every ABI in use; any
 * other gets the field-by-field stores, the same result). */
#define VIO__CHAIN_COMPOSED                                                                        \
	(sizeof(bool) == 1 && offsetof(struct vio_chain, ndesc) == 2 &&                            \
	 offsetof(struct vio_chain, nseg) == 4 && offsetof(struct vio_chain, nout) == 6 &&         \
	 offsetof(struct vio_chain, out_bytes) == 8 &&                                             \
	 offsetof(struct vio_chain, in_bytes) == 12 && offsetof(struct vio_chain, flags) == 16 &&  \
	 offsetof(struct vio_chain, head) == 18 && offsetof(struct vio_chain, gen) == 20 &&        \
	 offsetof(struct vio_chain_seg, addr) == 8 && offsetof(struct vio_chain_seg, len) == 16 && \
	 offsetof(struct vio_chain_seg, write) == 20 &&                                            \
	 offsetof(struct vio_chain_seg, release) == 21 && sizeof(struct vio_chain_seg) >= 24)

static inline void vio__store64(void *p, uint64_t v)
{
	VIO_MEMCPY(p, &v, sizeof(v));
}

/* A segment's len, write and release (false). */
static VIO_ALWAYS_INLINE void vio__seg_tail(struct vio_chain_seg *sg, uint32_t len, bool write)
{
	if (VIO__CHAIN_COMPOSED) {
		/* len, write, release and the padding after them. */
		vio__store64(&sg->len, vio__mem64_32_8_8(len, write, 0));
	} else {
		sg->len = len;
		sg->write = write;
		sg->release = false;
	}
}

/* The record of a chain of one segment at @segs (already filled in), with
 * @id, ring position @head and no flags: three composed stores and the
 * array pointer. */
static VIO_ALWAYS_INLINE void vio__chain_fill1(const struct vio_devq *q, struct vio_chain *c,
					       struct vio_chain_seg *segs, uint16_t id,
					       uint16_t head, uint32_t len, bool write)
{
	if (VIO__CHAIN_COMPOSED) {
		vio__store64(&c->id, q->one_ids[(size_t)write] | vio__mem64_16x4(id, 0, 0, 0));
		/* out_bytes or in_bytes: len shifted into its half. */
		vio__store64(&c->out_bytes,
			     (uint64_t)len << (VIO_HOST_BIG_ENDIAN ? 32u * !write : 32u * write));
		vio__store64(&c->flags, q->one_gen | vio__mem64_16_16_32(0, head, 0));
	} else {
		c->id = id;
		c->ndesc = 1;
		c->nseg = 1;
		c->nout = write ? 0 : 1;
		c->out_bytes = write ? 0 : len;
		c->in_bytes = write ? len : 0;
		c->flags = 0;
		c->head = head;
		c->gen = q->gen;
	}
	c->segs = segs;
}

/* Fill in a chain of one segment. */
static inline void vio__chain_one(const struct vio_devq *q, struct vio_chain *c,
				  struct vio_chain_seg *segs, uint16_t id, void *host,
				  uint64_t addr, uint32_t len, bool write, bool release)
{
	segs[0].ptr = host;
	segs[0].addr = addr;
	segs[0].len = len;
	segs[0].write = write;
	segs[0].release = release;
	c->id = id;
	c->head = id;
	c->ndesc = 1;
	c->nseg = 1;
	c->nout = write ? 0 : 1;
	c->out_bytes = write ? 0 : len;
	c->in_bytes = write ? len : 0;
	c->flags = release ? VIO_CHAIN_MAPPED : 0;
	c->gen = q->gen;
	c->segs = segs;
}

/* The common shape, one direct descriptor inside the region that matched
 * last: checked inline, without a call. True if the chain was filled in. */
static inline bool vio__chain_single_fast(struct vio_devq *q, struct vio_chain *c,
					  struct vio_chain_seg *segs, uint16_t id, uint64_t addr,
					  uint32_t len, bool write)
{
	const struct vio_mem_region *r = &q->hint;
	uint64_t off = addr - r->guest_addr;
	unsigned dir = write ? VIO_MAP_WRITE : VIO_MAP_READ;
	/* Regions were checked not to wrap, so in range means no overflow. */
	if (vio_unlikely(len == 0 || off >= r->size || len > r->size - off ||
			 (dir & ~r->access) != 0))
		return false;
	vio__chain_one(q, c, segs, id, (unsigned char *)r->host + off, addr, len, write, false);
	return true;
}

/* One direct descriptor through the whole translation (other regions, the
 * map callback). 0: filled in; 1: take the general path (empty, wrapping or
 * spanning regions; nothing changed); <0: a translation error. */
int vio__chain_single_slow(struct vio_devq *q, struct vio_chain *c, struct vio_chain_seg *segs,
			   uint16_t id, uint64_t addr, uint32_t len, bool write);

/* One descriptor, read once (fields are read individually and then only the
 * local copy is used, so a driver rewriting the table cannot change what was
 * validated). Works for tables at any alignment. */
struct vio__desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next_or_id;
};

/* Read a descriptor of the ring (or of a typed copy): naturally aligned, so
 * no alignment test. Same result as vio__desc_read(). */
static inline void vio__desc_read_aligned(const void *p, bool packed, struct vio__desc *d)
{
	const struct vio_split_desc *s = p;
	uint16_t w12, w14;
	d->addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(s->addr.raw));
	d->len = vio_le32_raw_to_cpu(VIO_READ_ONCE(s->len.raw));
	w12 = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->flags.raw));
	w14 = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->next.raw));
	d->flags = packed ? w14 : w12;
	d->next_or_id = packed ? w12 : w14;
}

/* Read the descriptor at @p. Split and packed share addr (offset 0) and len
 * (8); split has flags at 12 and next at 14, packed id at 12 and flags at 14. */
static inline void vio__desc_read(const void *p, bool packed, struct vio__desc *d)
{
	uint16_t w12, w14;
	if (vio_likely(((uintptr_t)p & 7u) == 0)) {
		const struct vio_split_desc *s = p;
		d->addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(s->addr.raw));
		d->len = vio_le32_raw_to_cpu(VIO_READ_ONCE(s->len.raw));
		w12 = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->flags.raw));
		w14 = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->next.raw));
	} else {
		/* An indirect table at an odd address: copy bytes once, decode. */
		unsigned char b[16];
		const volatile unsigned char *v = p;
		for (unsigned i = 0; i < 16; i++)
			b[i] = v[i];
		uint64_t a = 0;
		for (unsigned i = 0; i < 8; i++)
			a |= (uint64_t)b[i] << (8 * i);
		d->addr = a;
		d->len = (uint32_t)b[8] | (uint32_t)b[9] << 8 | (uint32_t)b[10] << 16 |
			 (uint32_t)b[11] << 24;
		w12 = (uint16_t)(b[12] | b[13] << 8);
		w14 = (uint16_t)(b[14] | b[15] << 8);
	}
	d->flags = packed ? w14 : w12;
	d->next_or_id = packed ? w12 : w14;
}

/* Report one packed descriptor of the chain being popped to the journal. */
static inline void vio__devq_journal_desc(const struct vio_devq *q, uint16_t k,
					  const struct vio__desc *d)
{
	if (vio_unlikely(q->journal != NULL) && q->journal->pop_desc != NULL) {
		struct vio_devq_journal_desc jd = {d->addr, d->len, d->next_or_id, d->flags};
		q->journal->pop_desc(q->journal_ctx, k, &jd);
	}
}

/* A mapped indirect table: one piece, or up to VIO__TABLE_PIECES when it
 * runs across adjacent regions (or partial callback grants). */
#define VIO__TABLE_PIECES 4
struct vio__table {
	uint32_t n;	  /* entries */
	uint32_t npieces; /* 0: nothing mapped */
	struct vio__ring_part piece[VIO__TABLE_PIECES];
};

/* Checks on a descriptor that points to an indirect table; on success maps
 * the table into @t (release it with vio__table_unmap()). On failure nothing
 * stays mapped. */
int vio__indirect_map(struct vio_devq *q, uint64_t addr, uint32_t len, uint16_t flags, bool nested,
		      struct vio__table *t);
void vio__table_unmap_pieces(struct vio_devq *q, struct vio__table *t);

/* Release a table's mappings (nothing to do for one piece of the table). */
static inline void vio__table_unmap(struct vio_devq *q, struct vio__table *t)
{
	if (vio_likely(t->npieces == 1 && !t->piece[0].release))
		t->npieces = 0;
	else
		vio__table_unmap_pieces(q, t);
}
/* Entry @j of a table in several pieces (devq_mem.c). */
void vio__table_read_pieces(const struct vio__table *t, uint32_t j, bool packed,
			    struct vio__desc *d);

/* Entry @j (< t->n) of a mapped table: read once, any alignment, across
 * pieces. One piece, the common case, is read inline. */
static inline void vio__table_read(const struct vio__table *t, uint32_t j, bool packed,
				   struct vio__desc *d)
{
	if (vio_likely(t->npieces == 1))
		vio__desc_read((const unsigned char *)t->piece[0].host + (size_t)j * 16u, packed,
			       d);
	else
		vio__table_read_pieces(t, j, packed, d);
}

/* ---- Format halves ---------------------------------------------------------- */

/* Split half (devq_split.c). */
void vio__devq_split_parts(const struct vio_devq *q, const struct vio_devq_config *c,
			   struct vio__ring_part parts[VIO__NPARTS]);
int vio__devq_split_attach(struct vio_devq *q, const struct vio__ring_part parts[VIO__NPARTS]);
void vio__devq_split_reset(struct vio_devq *q);
int vio__devq_split_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_chain_seg *segs,
			uint16_t max_segs);
int vio__devq_split_pop_head(struct vio_devq *q, uint16_t head, struct vio_chain *chain,
			     struct vio_chain_seg *segs, uint16_t max_segs);
/* The chain at @head (< size, not in flight) whose head descriptor has
 * the flags @head_flags (NEXT, maybe WRITE): the direct-list walk of
 * devq_hot.h, or the general code (devq.c; the pop fast path's tail). */
int vio__devq_split_pop_chain(struct vio_devq *q, struct vio_chain *chain,
			      struct vio_chain_seg *segs, uint16_t max_segs, uint16_t head,
			      uint16_t head_flags);
/* The chain at @head (< size, not in flight) whose head descriptor is an
 * indirect table alone (flags INDIRECT, maybe WRITE): the table walk of
 * devq_hot.h, or the general code (devq.c; the pop fast path's tail). */
int vio__devq_split_pop_indirect(struct vio_devq *q, struct vio_chain *chain,
				 struct vio_chain_seg *segs, uint16_t max_segs, uint16_t head);
/* The split pop fast path handed over with @rc (VIO__POP_AT with the head
 * it validated, or VIO__POP_GENERAL): the general code (devq.c). */
int vio__devq_split_pop_slow(struct vio_devq *q, struct vio_chain *chain,
			     struct vio_chain_seg *segs, uint16_t max_segs, int rc);
/* vio__devq_split_pop_head() with the head in the low 16 bits of @at and
 * max_segs in the high ones (the pop fast path's tail call). */
int vio__devq_split_pop_at(struct vio_devq *q, struct vio_chain *chain, struct vio_chain_seg *segs,
			   uint32_t at);
int vio__devq_split_take(struct vio_devq *q, uint16_t head, struct vio_chain *chain,
			 struct vio_chain_seg *segs, uint16_t max_segs);
void vio__devq_split_push(struct vio_devq *q, const struct vio_used *used, unsigned n,
			  bool in_order);
int vio__devq_split_push1(struct vio_devq *q, uint16_t id, uint32_t len);
int vio__devq_split_push1_logged(struct vio_devq *q, uint16_t id, uint32_t len);
bool vio__devq_split_needs_notify(struct vio_devq *q);
void vio__devq_split_set_notify(struct vio_devq *q, bool enable);
bool vio__devq_split_has_avail(struct vio_devq *q);
void vio__devq_split_get_state(const struct vio_devq *q, struct vio_ring_state *st);
int vio__devq_split_set_state(struct vio_devq *q, const struct vio_ring_state *st,
			      uint16_t *inflight);

/* Packed half (devq_packed.c). */
void vio__devq_packed_parts(const struct vio_devq *q, const struct vio_devq_config *c,
			    struct vio__ring_part parts[VIO__NPARTS]);
int vio__devq_packed_attach(struct vio_devq *q, const struct vio__ring_part parts[VIO__NPARTS]);
void vio__devq_packed_reset(struct vio_devq *q);
int vio__devq_packed_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_chain_seg *segs,
			 uint16_t max_segs);
int vio__devq_packed_pop_at(struct vio_devq *q, uint16_t head_flags, struct vio_chain *chain,
			    struct vio_chain_seg *segs, uint16_t max_segs);
/* The list of direct descriptors at last_avail whose head is available
 * with @head_flags (NEXT, maybe WRITE): the walk of devq_hot.h, or the
 * general code (devq.c; the pop fast path's tail). */
int vio__devq_packed_pop_chain(struct vio_devq *q, struct vio_chain *chain,
			       struct vio_chain_seg *segs, uint16_t max_segs, uint16_t head_flags);
/* The descriptor at last_avail is an indirect table alone, available with
 * @head_flags (INDIRECT, maybe WRITE): the table walk of devq_hot.h, or the
 * general code (devq.c; the pop fast path's tail). */
int vio__devq_packed_pop_indirect(struct vio_devq *q, struct vio_chain *chain,
				  struct vio_chain_seg *segs, uint16_t max_segs,
				  uint16_t head_flags);
/* The packed pop fast path handed over at a head available with
 * @head_flags that is neither one descriptor, a list nor a table alone:
 * vio__devq_packed_pop_at() out of line (devq.c). */
int vio__devq_packed_pop_slow(struct vio_devq *q, struct vio_chain *chain,
			      struct vio_chain_seg *segs, uint16_t max_segs, uint16_t head_flags);
/* vio__devq_packed_pop() out of line (the pop fast path's tail call). */
int vio__devq_packed_pop_handover(struct vio_devq *q, struct vio_chain *chain,
				  struct vio_chain_seg *segs, uint16_t max_segs);
int vio__devq_packed_take(struct vio_devq *q, const struct vio_packed_desc *descs, uint16_t ndesc,
			  struct vio_chain *chain, struct vio_chain_seg *segs, uint16_t max_segs);
void vio__devq_packed_push(struct vio_devq *q, const struct vio_used *used, unsigned n,
			   bool in_order);
int vio__devq_packed_push1(struct vio_devq *q, uint16_t id, uint16_t ndesc, uint32_t len);
int vio__devq_packed_push1_logged(struct vio_devq *q, uint16_t id, uint16_t ndesc, uint32_t len);
bool vio__devq_packed_needs_notify(struct vio_devq *q);
void vio__devq_packed_set_notify(struct vio_devq *q, bool enable);
bool vio__devq_packed_has_avail(struct vio_devq *q);
void vio__devq_packed_get_state(const struct vio_devq *q, struct vio_ring_state *st);
int vio__devq_packed_set_state(struct vio_devq *q, const struct vio_ring_state *st);

/* Batches (devq_batch.c). Up to @m chains of one direct descriptor inside
 * q->hint each, available one after the other at last_avail, for
 * vio_devq_pop_batch() while q->hot is VIO__HOT_PACKED: chain j goes to
 * chains[j], its segment to segs[j * max_segs]. Stops, changing nothing
 * for it, at the first slot that is not that shape (or not available):
 * vio_devq_pop() takes it or reports it. Returns the chains taken. */
unsigned vio__devq_packed_pop_run(struct vio_devq *q, struct vio_chain *chains,
				  struct vio_chain_seg *segs, uint16_t max_segs, unsigned m);

/* The ring slots a chain in flight occupies (packed skip count). */
static inline uint16_t vio__devq_inflight_ndesc(const struct vio_devq *q, uint16_t id)
{
	return (uint16_t)((q->inflight[id] & (VIO__INFLIGHT - 1u)) + 1u);
}

#endif /* VIO_LIB_RING_DEVQ_IMPL_H */
