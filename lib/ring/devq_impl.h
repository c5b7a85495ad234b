/* SPDX-License-Identifier: MIT */
/* Private: the device queue's state and the chain-building helpers shared by
 * devq.c (dispatch) and the devq_split.c / devq_packed.c halves. */
#ifndef VIO_LIB_RING_DEVQ_IMPL_H
#define VIO_LIB_RING_DEVQ_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/devq.h>

#include "ring_impl.h"

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
	bool avail_wrap;      /* wrap counter an available descriptor at last_avail carries */
	bool used_wrap;	      /* our ring wrap counter for used descriptors */
	uint16_t event_flags; /* shadow of device->flags */
	uint8_t *inflight;    /* per buffer id: 1 while the device holds it */
	uint32_t pushed;      /* ring slots used since the last needs_notify */
};

struct vio_devq {
	enum vio_ring_format format;
	uint16_t size;
	uint16_t mask;
	bool event_idx;
	bool indirect;
	bool in_order;
	bool signalled_valid;	 /* a needs_notify decision was made since reset */
	uint16_t signalled_used; /* used position at the last needs_notify */
	int broken;		 /* 0, or the negative peer error that broke the queue */
	const struct vio_dev_mem_ops *mem_ops;
	void *mem_ctx;
	struct vio_devq_config cfg;
	union {
		struct vio__devq_split split;
		struct vio__devq_packed packed;
	} u;
};

static inline int vio__devq_fail(struct vio_devq *q, int err)
{
	if (q->broken == 0)
		q->broken = err;
	return err;
}

/* Map driver memory, refusing ranges that wrap around 2^64 before the
 * embedder's callback sees them. */
static inline void *vio__devq_map(const struct vio_devq *q, uint64_t addr, uint64_t len,
				  enum vio_map_dir dir)
{
	if (len == 0 || addr + (len - 1) < addr)
		return NULL;
#if SIZE_MAX < UINT64_MAX
	if (len > SIZE_MAX)
		return NULL;
#endif
	return q->mem_ops->map(q->mem_ctx, addr, (size_t)len, dir);
}

/* Accumulates one chain as its descriptors are read. */
struct vio__chain_builder {
	struct vio_chain *chain;
	struct vio_seg *segs;
	uint16_t max_segs;
	uint16_t limit; /* the queue size: most segments a chain may have */
	uint32_t nseg;
	uint32_t nout;
	uint64_t out_bytes;
	uint64_t in_bytes;
};

static inline void vio__chain_begin(struct vio__chain_builder *b, struct vio_chain *chain,
				    struct vio_seg *segs, uint16_t max_segs, uint16_t limit)
{
	b->chain = chain;
	b->segs = segs;
	b->max_segs = max_segs;
	b->limit = limit;
	b->nseg = 0;
	b->nout = 0;
	b->out_bytes = 0;
	b->in_bytes = 0;
}

/* Validate and map one buffer descriptor of a chain. */
static inline int vio__chain_add(const struct vio_devq *q, struct vio__chain_builder *b,
				 uint64_t addr, uint32_t len, bool write)
{
	/* §2.7.5.3.1 / §2.8.6: no chain longer than the queue size. A longer
	 * walk can only come from a loop or a hostile driver. */
	if (vio_unlikely(b->nseg >= b->limit))
		return -VIO_EDESC_LOOP;
	if (write) {
		b->in_bytes += len;
	} else {
		/* §2.7.4.2: device-readable descriptors come first. */
		if (vio_unlikely(b->nout != b->nseg))
			return -VIO_EDESC_ORDER;
		b->out_bytes += len;
		b->nout++;
	}
	/* §2.7.5.1: at most 2^32 bytes per chain; keep totals in 32 bits. */
	if (vio_unlikely(b->out_bytes + b->in_bytes > UINT32_MAX))
		return -VIO_ELEN_OVERFLOW;
	if (vio_unlikely(b->nseg >= b->max_segs))
		return -VIO_ENOSPC;
	void *p = NULL;
	if (len != 0) {
		p = vio__devq_map(q, addr, len, write ? VIO_MAP_WRITE : VIO_MAP_READ);
		if (vio_unlikely(p == NULL))
			return -VIO_EMAP;
	}
	struct vio_seg *s = &b->segs[b->nseg++];
	s->ptr = p;
	s->len = len;
	s->write = write;
	return 0;
}

static inline void vio__chain_end(struct vio__chain_builder *b, uint16_t id, uint16_t ndesc)
{
	struct vio_chain *c = b->chain;
	c->id = id;
	c->ndesc = ndesc;
	c->nseg = (uint16_t)b->nseg;
	c->nout = (uint16_t)b->nout;
	c->out_bytes = (uint32_t)b->out_bytes;
	c->in_bytes = (uint32_t)b->in_bytes;
}

/* The common shape: a chain of one direct descriptor. Same checks and
 * result as the builder, without its bookkeeping. */
static inline int vio__chain_single(const struct vio_devq *q, struct vio_chain *c,
				    struct vio_seg *segs, uint16_t id, uint64_t addr, uint32_t len,
				    bool write)
{
	void *ptr = NULL;
	if (len != 0) {
		ptr = vio__devq_map(q, addr, len, write ? VIO_MAP_WRITE : VIO_MAP_READ);
		if (vio_unlikely(ptr == NULL))
			return -VIO_EMAP;
	}
	segs[0].ptr = ptr;
	segs[0].len = len;
	segs[0].write = write;
	c->id = id;
	c->ndesc = 1;
	c->nseg = 1;
	c->nout = write ? 0 : 1;
	c->out_bytes = write ? 0 : len;
	c->in_bytes = write ? len : 0;
	return 0;
}

/* Checks on a descriptor that points to an indirect table; on success maps
 * the table and returns its entry count through @n. */
static inline int vio__indirect_map(const struct vio_devq *q, uint64_t addr, uint32_t len,
				    uint16_t flags, bool nested, const void **table, uint32_t *n)
{
	if (nested)
		return -VIO_EINDIRECT_NESTED; /* §2.7.5.3.1: one table per descriptor */
	if (!q->indirect)
		return -VIO_EINDIRECT_FEATURE;
	if (flags & VIO_DESC_F_NEXT)
		return -VIO_EINDIRECT_NEXT; /* §2.7.5.3.1: not both INDIRECT and NEXT */
	if (len == 0)
		return -VIO_EINDIRECT_EMPTY;
	if (len % 16u != 0)
		return -VIO_EINDIRECT_SIZE;
	if (len / 16u > q->size)
		return -VIO_EINDIRECT_LONG;
	const void *t = vio__devq_map(q, addr, len, VIO_MAP_READ);
	if (t == NULL)
		return -VIO_EINDIRECT_MAP;
	*table = t;
	*n = len / 16u;
	return 0;
}

/* One descriptor, read once (fields are read individually and then only the
 * local copy is used, so a driver rewriting the table cannot change what was
 * validated). Works for tables at any alignment. */
struct vio__desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next_or_id;
};

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

/* Split half (devq_split.c). */
int vio__devq_split_init(struct vio_devq *q);
void vio__devq_split_reset(struct vio_devq *q);
int vio__devq_split_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_seg *segs,
			uint16_t max_segs);
int vio__devq_split_push(struct vio_devq *q, const struct vio_used *used, unsigned n, bool one);
int vio__devq_split_push1(struct vio_devq *q, uint16_t id, uint32_t len);
bool vio__devq_split_needs_notify(struct vio_devq *q);
void vio__devq_split_set_notify(struct vio_devq *q, bool enable);
bool vio__devq_split_has_avail(struct vio_devq *q);

/* Packed half (devq_packed.c). */
int vio__devq_packed_init(struct vio_devq *q, void *extra);
void vio__devq_packed_reset(struct vio_devq *q);
int vio__devq_packed_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_seg *segs,
			 uint16_t max_segs);
int vio__devq_packed_push(struct vio_devq *q, const struct vio_used *used, unsigned n, bool one);
int vio__devq_packed_push1(struct vio_devq *q, uint16_t id, uint16_t ndesc, uint32_t len);
bool vio__devq_packed_needs_notify(struct vio_devq *q);
void vio__devq_packed_set_notify(struct vio_devq *q, bool enable);
bool vio__devq_packed_has_avail(struct vio_devq *q);

#endif /* VIO_LIB_RING_DEVQ_IMPL_H */
