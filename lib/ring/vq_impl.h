/* SPDX-License-Identifier: MIT */
/* Private: the driver queue's state, shared by vq.c (dispatch) and the
 * vq_split.c / vq_packed.c halves. Never installed. */
#ifndef VIO_LIB_RING_VQ_IMPL_H
#define VIO_LIB_RING_VQ_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/dma.h>
#include <virtio/vq.h>

#include "ring_impl.h"

/* Driver-private shadow of one descriptor slot (split) or buffer id (packed).
 * The device can rewrite the shared descriptor table at any time, so
 * everything needed to reclaim a chain is kept here. 16 bytes on 64-bit
 * hosts, as large as a descriptor: the hot paths index both with one
 * shift. What only some configurations need is in struct vio__vq_cold. */
struct vio__vq_slot {
	void *token;	   /* split: the head's token (only ndesc says which slots are
			    * heads); packed: the buffer's token, NULL while the id is free */
	uint32_t in_bytes; /* head: writable bytes offered (bound for the used length) */
	uint16_t next;	   /* split: chain / free-list link; packed: free-id link */
	uint16_t ndesc;	   /* head: ring slots the buffer occupies; else 0 */
};

/* A one-slot head back on the free list: next = @free and ndesc = 0, side by
 * side, with one 32-bit store where that pays: gcc does not merge the two
 * in vio__vq_split_get_batch() (2 instructions a buffer); clang does well
 * enough without, and the store costs its packed get loop 6 (measured). */
#if defined(__clang__)
#define VIO__SLOT_FREE1_MERGED 0
#else
#define VIO__SLOT_FREE1_MERGED 1
#endif

static inline void vio__vq_slot_free1(struct vio__vq_slot *hs, uint16_t free)
{
	if (VIO__SLOT_FREE1_MERGED &&
	    offsetof(struct vio__vq_slot, ndesc) == offsetof(struct vio__vq_slot, next) + 2) {
		uint32_t v = VIO_HOST_BIG_ENDIAN ? (uint32_t)free << 16 : free;
		VIO_MEMCPY(&hs->next, &v, sizeof(v));
	} else {
		hs->next = free;
		hs->ndesc = 0;
	}
}

/* The rest of a slot's bookkeeping, in a side array (vq->cold, after the
 * slots) that the plain hot paths never touch. */
struct vio__vq_cold {
	uint32_t len; /* split: shadow of the descriptor's len (read with a release hook) */
	uint16_t
		flags; /* split: shadow of the descriptor's flags; packed: INDIRECT (release hook) */
	uint16_t fifo_next; /* IN_ORDER: the buffer added after this one */
	uint16_t rec;	    /* packed, with a release hook: first record of a direct list */
};

/* Private record of one conversion, kept only with a release hook: the
 * device can rewrite the descriptor table and the indirect tables, so the
 * release arguments are never read back from them. */
struct vio__vq_rec {
	const void *ptr;
	uint64_t addr;
	uint32_t len;
	uint16_t next; /* packed: free-list and list link */
	uint8_t dir;   /* enum vio_dma_dir */
};

struct vio__vq_split {
	struct vio_split_desc *desc;
	struct vio_split_avail *avail;
	vio_le16 *avail_ring;
	vio_le16 *used_event;
	struct vio_split_used *used;
	struct vio_split_used_elem *used_ring;
	vio_le16 *avail_event;
	/* Buffers made available, free-running in 32 bits: the ring's
	 * available index is its low 16 bits, and avail_idx - kicked_idx is
	 * what the kick decision spans (more than 0xffff must notify). */
	uint32_t avail_idx;
	uint32_t kicked_idx;  /* avail_idx at the last kick_prepare */
	uint16_t last_used;   /* next used index to consume (free-running) */
	uint16_t used_seen;   /* device's used idx as last read (validated) */
	uint16_t avail_flags; /* shadow of avail->flags */
	bool used_event_on;   /* EVENT_IDX and interrupts wanted: get updates used_event */
};

struct vio__vq_packed {
	struct vio_packed_desc *desc;
	struct vio_packed_event *driver; /* ours: driver event suppression */
	struct vio_packed_event *device; /* device's event suppression */
	uint16_t next_avail;		 /* next ring slot to fill */
	uint16_t last_used;		 /* next ring slot to look for a used descriptor */
	uint16_t event_flags;		 /* shadow of driver->flags */
	bool avail_wrap;		 /* driver ring wrap counter */
	bool used_wrap;			 /* wrap counter expected on the next used descriptor */
	uint16_t avail_mark;		 /* vio__packed_avail_flags(avail_wrap), kept with it */
	uint16_t used_mark;		 /* vio__packed_used_flags(used_wrap), kept with it */
	/* VIO_RING_EVENT_FLAGS_DESC with EVENT_IDX, else a value the two
	 * flag bits never take: kick_prepare's one test for the event rule. */
	uint16_t kick_ev;
};

struct vio_vq {
	enum vio_ring_format format;
	uint16_t size;
	uint16_t mask; /* split: size - 1 */
	uint16_t index;
	uint16_t num_free;    /* free descriptor slots */
	uint16_t free_head;   /* split: first free descriptor; packed: first free id */
	uint16_t outstanding; /* buffers the device holds */
	/* Packed: ring slots (one per descriptor) the driver's position moved
	 * since the last kick_prepare, what the event arithmetic spans. (Split
	 * counts in u.split.avail_idx - u.split.kicked_idx.) */
	uint32_t avail_moved;
	uint16_t detach_cursor; /* where detach_unused resumes its scan */
	/* IN_ORDER (§2.7.9, §2.8.9): outstanding buffers form a FIFO through
	 * cold[].fifo_next; one used entry may complete several of them. */
	uint16_t io_oldest; /* head/id of the oldest outstanding buffer */
	uint16_t io_newest; /* head/id of the newest outstanding buffer */
	uint16_t io_left;   /* buffers of the current used batch not yet returned */
	uint16_t io_last;   /* head/id the current batch's used entry named */
	uint32_t io_len;    /* the length that used entry reported */
	bool event_idx;
	bool in_order;
	/* vq->hot, or VIO__HOT_OFF when a one-segment chain goes indirect
	 * (indirect_min 1): the add fast path's one test of the queue. */
	uint8_t hot1;
	bool get_slow; /* in_order or a release hook: get takes its out-of-line path */
	bool notification_data;
	int broken;  /* 0, or the negative peer error that broke the queue */
	uint8_t hot; /* VIO__HOT_*: which fast path applies (vq_hot.h) */

	void *indirect_pool;
	uint16_t indirect_max; /* 0 without indirect tables */
	uint16_t indirect_min; /* UINT16_MAX without indirect tables */

	/* DMA: NULL when there is nothing to call (no ops, or neither hook),
	 * the one test on the hot path; the hooks are copied out of it. */
	const struct vio_dma_ops *dma;
	int (*to_device)(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			 uint64_t *addr); /* NULL: identity */
	void (*release)(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			uint64_t addr); /* NULL: no records kept */
	void *dma_ctx;
	/* With a release hook: records of direct descriptors, `size` of them
	 * (split: indexed like the descriptors; packed: a free list through
	 * rec[].next, the free-record head in rec_free), and with indirect
	 * tables indirect_max + 1 per slot/id in irec (the table, then its
	 * entries). NULL without. */
	struct vio__vq_rec *rec;
	struct vio__vq_rec *irec;
	struct vio__vq_cold *cold; /* size entries, after slot[] */
	uint16_t rec_free;
	struct vio_vq_config cfg; /* kept for reset */

	union {
		struct vio__vq_split split;
		struct vio__vq_packed packed;
	} u;

	struct vio__vq_slot slot[]; /* size entries */
};

/* Recompute vq->hot (VIO__HOT_*) after init, reset or a break: off when
 * broken, with DMA hooks or with IN_ORDER. */
static inline void vio__vq_hot_update(struct vio_vq *vq)
{
	if (vq->broken != 0 || vq->dma != NULL || vq->in_order)
		vq->hot = VIO__HOT_OFF;
	else
		vq->hot = vq->format == VIO_RING_SPLIT ? VIO__HOT_SPLIT : VIO__HOT_PACKED;
	vq->hot1 = vq->indirect_min > 1 ? vq->hot : (uint8_t)VIO__HOT_OFF;
}

/* Record a device error: the queue stays broken until reset. */
static inline int vio__vq_fail(struct vio_vq *vq, int err)
{
	if (vq->broken == 0)
		vq->broken = err;
	vq->hot = VIO__HOT_OFF;
	vq->hot1 = VIO__HOT_OFF;
	return err;
}

/* A to_device error as the queue reports it (vq.c): library codes pass,
 * peer codes and foreign values become -VIO_EDMA. */
int vio__vq_dma_err(int rc);

/* A conversion's result, returned in registers. */
struct vio__vq_conv {
	uint64_t addr;
	int rc; /* 0 or the mapped to_device error */
};

/* Convert through to_device (identity if NULL), map its error, and record
 * the conversion as @recs[@idx] unless @recs is NULL (vq.c). The
 * out-of-line half of vio__vq_to_device(). Marked cold: with DMA ops the
 * callback dominates anyway, and the no-ops hot path keeps its registers. */
VIO_COLD struct vio__vq_conv vio__vq_map(const struct vio_vq *vq, const void *ptr, uint32_t len,
					 enum vio_dma_dir dir, struct vio__vq_rec *recs,
					 size_t idx);

/* The same for the add fast path's one segment @sg, writable if @in, in
 * split slot @head (packed: the next free record); vq.c. */
VIO_COLD struct vio__vq_conv vio__vq_map_single(const struct vio_vq *vq, const struct vio_sg *sg,
						unsigned in, uint16_t head);

/* Device-visible address of a segment or table, recorded as @recs[@idx]
 * when the queue keeps records (@recs is vq->rec or an irec block, NULL
 * without a release hook). Without DMA ops the hot path pays one test. */
static inline struct vio__vq_conv vio__vq_to_device(const struct vio_vq *vq, const void *ptr,
						    uint32_t len, enum vio_dma_dir dir,
						    struct vio__vq_rec *recs, size_t idx)
{
	if (vio_likely(vq->dma == NULL))
		return (struct vio__vq_conv){(uint64_t)(uintptr_t)ptr, 0};
	return vio__vq_map(vq, ptr, len, dir, recs, idx);
}

/* vio__vq_to_device() for the fast path: everything but the test is out of line. */
static inline struct vio__vq_conv vio__vq_to_device_single(const struct vio_vq *vq,
							   const struct vio_sg *sg, unsigned in,
							   uint16_t head)
{
	if (vio_likely(vq->dma == NULL))
		return (struct vio__vq_conv){(uint64_t)(uintptr_t)sg->addr, 0};
	return vio__vq_map_single(vq, sg, in, head);
}

/* Direction of segment @n of a chain with @out readable segments. */
static inline enum vio_dma_dir vio__vq_seg_dir(unsigned n, unsigned out)
{
	return n < out ? VIO_DMA_TO_DEVICE : VIO_DMA_FROM_DEVICE;
}

static inline void vio__vq_rec_set(struct vio__vq_rec *r, const void *ptr, uint32_t len,
				   enum vio_dma_dir dir, uint64_t addr)
{
	r->ptr = ptr;
	r->addr = addr;
	r->len = len;
	r->dir = (uint8_t)dir;
}

static inline void vio__vq_rec_release(const struct vio_vq *vq, const struct vio__vq_rec *r)
{
	vq->release(vq->dma_ctx, r->ptr, r->len, (enum vio_dma_dir)r->dir, r->addr);
}

/* Records of the indirect table of slot/id @n: [0] the table, [1..] entries. */
static inline struct vio__vq_rec *vio__vq_irec(const struct vio_vq *vq, uint16_t n)
{
	return vq->irec + (size_t)n * (vq->indirect_max + 1u);
}

/* Release the records of an indirect table's first @n entries and, if
 * @table, of the table itself. */
void vio__vq_release_indirect(const struct vio_vq *vq, uint16_t slot, unsigned n, bool table);

/* The one place that decides whether a chain of @total segments goes into
 * an indirect table: long enough (indirect_min), or too long for the free
 * ring slots, and short enough for a table. Without indirect tables
 * indirect_max is 0 and indirect_min UINT16_MAX: always false. */
static inline bool vio__vq_want_indirect(const struct vio_vq *vq, unsigned total)
{
	return (total >= vq->indirect_min || total > vq->num_free) && total <= vq->indirect_max;
}

/* The add fast path: one segment, in a free ring slot. The same rule as
 * vio__vq_want_indirect(vq, 1) being false with a slot free, folded so the
 * hot path pays two compares: with a slot free, 1 > num_free is false, and
 * 1 < indirect_min means the minimum is not reached (or no tables). */
static inline bool vio__vq_add_single(const struct vio_vq *vq, unsigned total)
{
	return total == 1 && total < vq->indirect_min && vq->num_free != 0;
}

/* A chain's byte counts, the driver's one length check. Summed in 64 bits,
 * which fewer than 2^32 segments of fewer than 2^32 bytes cannot overflow,
 * so the add loops pay one add per segment and vio__vq_len_ok() checks the
 * total once, after the loop: at most 2^32 - 1 bytes (§2.7.5.1; the packed
 * ring has the same 32-bit bound). */
struct vio__vq_len {
	uint64_t all;
	uint64_t in; /* device-writable bytes */
};

static inline void vio__vq_len_add(struct vio__vq_len *l, uint32_t len, bool writable)
{
	l->all += len;
	if (writable)
		l->in += len;
}

static inline bool vio__vq_len_ok(const struct vio__vq_len *l)
{
	return l->all <= UINT32_MAX;
}

/* The indirect table that belongs to slot/id @n. */
static inline void *vio__vq_indirect_table(const struct vio_vq *vq, uint16_t n)
{
	return (unsigned char *)vq->indirect_pool + (size_t)n * vq->indirect_max * 16u;
}

/* IN_ORDER bookkeeping on add: append @id to the FIFO of outstanding buffers. */
static inline void vio__vq_in_order_added(struct vio_vq *vq, uint16_t id)
{
	if (vq->outstanding == 0)
		vq->io_oldest = id;
	else
		vq->cold[vq->io_newest].fifo_next = id;
	vq->io_newest = id;
}

/* IN_ORDER: a used entry named @id; how many outstanding buffers, oldest
 * first, does it complete? 0 if @id heads no outstanding buffer. */
static inline uint16_t vio__vq_in_order_batch(const struct vio_vq *vq, uint16_t id)
{
	uint16_t h = vq->io_oldest;
	for (uint16_t k = 1; k <= vq->outstanding; k++) {
		if (h == id)
			return k;
		h = vq->cold[h].fifo_next;
	}
	return 0;
}

/* IN_ORDER: the next buffer of the current batch. Buffers before the one the
 * used entry named count as fully used (§2.7.9: "assumed to have been used
 * completely"), so they report all their writable bytes. */
static inline uint16_t vio__vq_in_order_take(struct vio_vq *vq, void **token, uint32_t *len)
{
	uint16_t h = vq->io_oldest;
	struct vio__vq_slot *s = &vq->slot[h];
	*token = s->token;
	*len = h == vq->io_last ? vq->io_len : s->in_bytes;
	vq->io_oldest = vq->cold[h].fifo_next;
	vq->io_left--;
	return h;
}

/* Split half (vq_split.c). */
void vio__vq_split_init(struct vio_vq *vq);
int vio__vq_split_add(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		      void *token);
bool vio__vq_split_kick_prepare(struct vio_vq *vq);
int vio__vq_split_get(struct vio_vq *vq, void **token, uint32_t *len);
bool vio__vq_split_has_used(const struct vio_vq *vq);
void vio__vq_split_disable_intr(struct vio_vq *vq);
bool vio__vq_split_enable_intr(struct vio_vq *vq, bool delayed);
int vio__vq_split_detach_unused(struct vio_vq *vq, void **token);
uint32_t vio__vq_split_notify_data(const struct vio_vq *vq);

/* Packed half (vq_packed.c). */
void vio__vq_packed_init(struct vio_vq *vq);
int vio__vq_packed_add(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		       void *token);
bool vio__vq_packed_kick_prepare(struct vio_vq *vq);
/* The driver's position reached the end of the ring: back to slot 0 of the
 * next lap (wrap counter and AVAIL/USED pair flipped). Returns 0, so that
 * a fast add ends in a tail call to it. */
VIO_COLD int vio__vq_packed_lap(struct vio_vq *vq);
int vio__vq_packed_get(struct vio_vq *vq, void **token, uint32_t *len);
bool vio__vq_packed_has_used(const struct vio_vq *vq);
void vio__vq_packed_disable_intr(struct vio_vq *vq);
bool vio__vq_packed_enable_intr(struct vio_vq *vq, bool delayed);
int vio__vq_packed_detach_unused(struct vio_vq *vq, void **token);
uint32_t vio__vq_packed_notify_data(const struct vio_vq *vq);

#endif /* VIO_LIB_RING_VQ_IMPL_H */
