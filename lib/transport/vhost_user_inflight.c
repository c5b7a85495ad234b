/* SPDX-License-Identifier: MIT */
/*
 * vhost-user in-flight I/O tracking (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD):
 * the region's layout and sizes, reconciling a queue's part with the ring
 * when a (restarted) back end starts the ring, re-submission in counter
 * order, and the device-queue journal that keeps the part current.
 *
 * The steps are those of QEMU's docs/interop/vhost-user.rst, "Inflight I/O
 * tracking". The part is shared memory another process wrote: at attach it
 * is read once into private memory, checked whole, and only then written
 * (fix-ups) and used; after attach this module is its only writer and never
 * reads it back (private shadows of every field it needs).
 *
 * Crash consistency: a process crash loses no store it executed, but the
 * compiler may reorder stores to the part; each step that must land before
 * the next is separated by a compiler fence (step()).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/devq.h>
#include <virtio/errors.h>
#include <virtio/le.h>
#include <virtio/port.h>
#include <virtio/ring_packed.h>
#include <virtio/vhost_user_inflight.h>

_Static_assert(sizeof(struct vio_vhost_user_inflight_split_desc) == 16, "DescStateSplit");
_Static_assert(sizeof(struct vio_vhost_user_inflight_split) == 16, "QueueRegionSplit header");
_Static_assert(sizeof(struct vio_vhost_user_inflight_packed_desc) == 32, "DescStatePacked");
_Static_assert(offsetof(struct vio_vhost_user_inflight_packed_desc, counter) == 8, "counter");
_Static_assert(offsetof(struct vio_vhost_user_inflight_packed_desc, addr) == 24, "addr");
_Static_assert(offsetof(struct vio_vhost_user_inflight_packed, used_wrap_counter) == 20, "wrap");
_Static_assert(offsetof(struct vio_vhost_user_inflight_packed, padding) == 22, "padding");
_Static_assert(sizeof(struct vio_vhost_user_inflight_packed) == 32, "QueueRegionPacked header");

#define MAX_QSIZE 32768u

/* mark[] bits, attach time. */
#define M_INFLIGHT 1u /* the entry says it is in flight (a head) */
#define M_FREE 2u     /* on the free list (packed) / in the last batch (split) */
#define M_CHAIN 4u    /* part of a chain in flight (packed) */
#define M_ID 8u	      /* packed: this buffer id names a chain in flight */

struct vio_vhost_user_inflight_queue {
	enum vio_ring_format fmt;
	uint16_t size;
	void *part;
	uint64_t counter; /* the next pop's counter */

	/* Split: shadow of last_batch_head. */
	uint16_t last_batch_head;

	/* Packed: shadows of the header, and the chain being popped. */
	uint16_t free_head, old_free_head;
	uint16_t pend_head, pend_cur, pend_last, pend_n;
	bool pend_bad;

	/* Re-submission: chains in counter order. */
	uint16_t nresubmit, next_resubmit;

	uint64_t *keys;		       /* attach: counters, in step with order[] */
	struct vio_packed_desc *descs; /* packed: the chains' descriptors, one after the other */
	uint16_t *order;	       /* split: heads; packed: head entries */
	uint16_t *off;		       /* packed: chain i's first descriptor in descs */
	uint16_t *num;		       /* packed: chain i's descriptors */
	uint16_t *next;		       /* packed: the entries' links (shadow) */
	uint16_t *map;		       /* packed: buffer id -> head entry of its chain */
	uint16_t *last;		       /* packed: head entry -> its chain's last entry */
	uint8_t *mark;		       /* attach: M_* per entry */
};

/* Stores to the part before this are not moved after it by the compiler. */
static inline void step(void)
{
	atomic_signal_fence(memory_order_seq_cst);
}

static bool qsize_ok(uint16_t n)
{
	return n != 0 && n <= MAX_QSIZE;
}

static uint64_t align_up(uint64_t v)
{
	return (v + VIO_VHOST_USER_INFLIGHT_ALIGN - 1u) &
	       ~(uint64_t)(VIO_VHOST_USER_INFLIGHT_ALIGN - 1u);
}

/* Bytes of the header and entries (the part's minimum length). */
static uint64_t part_bytes(enum vio_ring_format fmt, uint16_t n)
{
	if (fmt == VIO_RING_SPLIT)
		return sizeof(struct vio_vhost_user_inflight_split) +
		       (uint64_t)n * sizeof(struct vio_vhost_user_inflight_split_desc);
	return sizeof(struct vio_vhost_user_inflight_packed) +
	       (uint64_t)n * sizeof(struct vio_vhost_user_inflight_packed_desc);
}

uint64_t vio_vhost_user_inflight_queue_size(enum vio_ring_format fmt, uint16_t queue_size)
{
	if (!qsize_ok(queue_size) || (fmt != VIO_RING_SPLIT && fmt != VIO_RING_PACKED))
		return 0;
	/* libvhost-user: ALIGN_UP(16 * n + 2, 64); DPDK: ALIGN_UP(16 * n + 16,
	 * 64) split and ALIGN_UP(32 * n + 29, 64) packed. Both split formulas
	 * give the same value for every n (16 * n + 2 is never a multiple of
	 * 64), and the header plus entries (16 + 16 * n, 32 + 32 * n) always
	 * fits in it. */
	if (fmt == VIO_RING_SPLIT)
		return align_up(16u * (uint64_t)queue_size + 16u);
	return align_up(32u * (uint64_t)queue_size + 29u);
}

uint64_t vio_vhost_user_inflight_size(enum vio_ring_format fmt, uint16_t num_queues,
				      uint16_t queue_size)
{
	if (num_queues == 0)
		return 0;
	return (uint64_t)num_queues * vio_vhost_user_inflight_queue_size(fmt, queue_size);
}

static struct vio_vhost_user_inflight_split_desc *split_desc(void *part)
{
	return (struct vio_vhost_user_inflight_split_desc
			*)(void *)((unsigned char *)part +
				   sizeof(struct vio_vhost_user_inflight_split));
}

static struct vio_vhost_user_inflight_packed_desc *packed_desc(void *part)
{
	return (struct vio_vhost_user_inflight_packed_desc
			*)(void *)((unsigned char *)part +
				   sizeof(struct vio_vhost_user_inflight_packed));
}

/* A part with nothing in flight. Split: used index @used. Packed: every
 * entry free, in order (the last links to n, "none"), the position
 * (@used, @wrap) committed. */
static void part_init(void *part, enum vio_ring_format fmt, uint16_t n, uint16_t version,
		      uint16_t used, bool wrap)
{
	VIO_MEMSET(part, 0, (size_t)part_bytes(fmt, n));
	if (fmt == VIO_RING_SPLIT) {
		struct vio_vhost_user_inflight_split *h = part;
		h->desc_num = n;
		h->used_idx = used;
		step();
		h->version = version;
		return;
	}
	struct vio_vhost_user_inflight_packed *h = part;
	struct vio_vhost_user_inflight_packed_desc *d = packed_desc(part);
	for (uint32_t i = 0; i < n; i++)
		d[i].next = (uint16_t)(i + 1u);
	h->desc_num = n;
	h->used_idx = used;
	h->old_used_idx = used;
	h->used_wrap_counter = wrap;
	h->old_used_wrap_counter = wrap;
	step();
	h->version = version;
}

int vio_vhost_user_inflight_init(void *region, uint64_t len, enum vio_ring_format fmt,
				 uint16_t num_queues, uint16_t queue_size)
{
	uint64_t per = vio_vhost_user_inflight_queue_size(fmt, queue_size);
	if (region == NULL || ((uintptr_t)region & 7u) != 0 || per == 0 || num_queues == 0 ||
	    len < per * num_queues)
		return -VIO_EINVAL;
	/* Version 0, "uninitialised" (vhost-user.rst): the ring position is
	 * not known before the ring starts; vio_vhost_user_inflight_attach()
	 * takes it from SET_VRING_BASE then and writes version 1. */
	for (uint32_t i = 0; i < num_queues; i++)
		part_init((unsigned char *)region + per * i, fmt, queue_size, 0, 0, true);
	return 0;
}

int vio_vhost_user_inflight_check(const struct vio_vhost_user_inflight *msg,
				  enum vio_ring_format fmt, uint16_t max_queues)
{
	if (msg == NULL || msg->num_queues == 0 || msg->num_queues > max_queues)
		return -VIO_EINFLIGHT_HEADER;
	uint64_t need = vio_vhost_user_inflight_size(fmt, msg->num_queues, msg->queue_size);
	if (need == 0 || msg->mmap_size < need)
		return -VIO_EINFLIGHT_HEADER;
	return 0;
}

void *vio_vhost_user_inflight_queue_region(void *region, uint64_t len, enum vio_ring_format fmt,
					   uint16_t queue_size, uint16_t index, uint64_t *part_len)
{
	uint64_t per = vio_vhost_user_inflight_queue_size(fmt, queue_size);
	if (region == NULL || per == 0 || len / per <= index)
		return NULL;
	if (part_len != NULL)
		*part_len = per;
	return (unsigned char *)region + per * index;
}

/* ---- Private memory --------------------------------------------------------- */

static size_t round8(size_t v)
{
	return (v + 7u) & ~(size_t)7u;
}

size_t vio_vhost_user_inflight_mem_size(enum vio_ring_format fmt, uint16_t queue_size)
{
	if (!qsize_ok(queue_size) || (fmt != VIO_RING_SPLIT && fmt != VIO_RING_PACKED))
		return 0;
	size_t n = queue_size;
	size_t sz = round8(sizeof(struct vio_vhost_user_inflight_queue)) + 8u * n; /* keys */
	if (fmt == VIO_RING_SPLIT)
		return sz + 2u * n + n; /* order, mark */
	return sz + sizeof(struct vio_packed_desc) * n + 6u * 2u * n + n;
}

static void carve(struct vio_vhost_user_inflight_queue *iq)
{
	size_t n = iq->size;
	unsigned char *p = (unsigned char *)iq + round8(sizeof(*iq));
	iq->keys = (uint64_t *)(void *)p;
	p += 8u * n;
	iq->descs = NULL;
	iq->off = iq->num = iq->next = iq->map = iq->last = NULL;
	if (iq->fmt == VIO_RING_PACKED) {
		iq->descs = (struct vio_packed_desc *)(void *)p;
		p += sizeof(struct vio_packed_desc) * n;
	}
	iq->order = (uint16_t *)(void *)p;
	p += 2u * n;
	if (iq->fmt == VIO_RING_PACKED) {
		iq->off = (uint16_t *)(void *)p;
		p += 2u * n;
		iq->num = (uint16_t *)(void *)p;
		p += 2u * n;
		iq->next = (uint16_t *)(void *)p;
		p += 2u * n;
		iq->map = (uint16_t *)(void *)p;
		p += 2u * n;
		iq->last = (uint16_t *)(void *)p;
		p += 2u * n;
	}
	iq->mark = p;
}

/* ---- Ordering ------------------------------------------------------------- */

/* Heapsort order[0..n) by keys[] (moved along): no recursion, no
 * allocation, O(n log n) whatever the keys. */
static void sift(uint64_t *k, uint16_t *o, uint32_t root, uint32_t n)
{
	for (;;) {
		uint32_t c = 2u * root + 1u;
		if (c >= n)
			return;
		if (c + 1u < n && k[c + 1u] > k[c])
			c++;
		if (k[root] >= k[c])
			return;
		uint64_t tk = k[root];
		k[root] = k[c];
		k[c] = tk;
		uint16_t to = o[root];
		o[root] = o[c];
		o[c] = to;
		root = c;
	}
}

/* Sort; -VIO_EINFLIGHT_ORDER if two keys are equal. */
static int sort_by_counter(uint64_t *k, uint16_t *o, uint32_t n)
{
	for (uint32_t i = n / 2u; i-- > 0;)
		sift(k, o, i, n);
	for (uint32_t end = n; end > 1u; end--) {
		uint64_t tk = k[0];
		k[0] = k[end - 1u];
		k[end - 1u] = tk;
		uint16_t to = o[0];
		o[0] = o[end - 1u];
		o[end - 1u] = to;
		sift(k, o, 0, end - 1u);
	}
	for (uint32_t i = 1; i < n; i++)
		if (k[i] == k[i - 1u])
			return -VIO_EINFLIGHT_ORDER;
	return 0;
}

/* ---- The journal (device-queue callbacks) ------------------------------------- */

static void split_pop_committed(struct vio_vhost_user_inflight_queue *iq, uint16_t head)
{
	struct vio_vhost_user_inflight_split_desc *d = &split_desc(iq->part)[head];
	/* vhost-user.rst, split, receiving: counter, then inflight. */
	d->counter = iq->counter++;
	step();
	d->inflight = 1;
	step();
}

static void j_pop_desc(void *ctx, uint16_t k, const struct vio_devq_journal_desc *jd)
{
	struct vio_vhost_user_inflight_queue *iq = ctx;
	if (k == 0) {
		iq->pend_head = iq->old_free_head;
		iq->pend_cur = iq->old_free_head;
		iq->pend_n = 0;
		iq->pend_bad = false;
	}
	if (iq->pend_bad || k != iq->pend_n || iq->pend_cur >= iq->size) {
		/* Out of step, or no free entry: more descriptors in flight
		 * than the ring has (a driver reusing slots it does not own). */
		iq->pend_bad = true;
		return;
	}
	/* The entries from old_free_head on are free: writing them changes
	 * nothing a recovery would look at until old_free_head moves. */
	struct vio_vhost_user_inflight_packed_desc *e = &packed_desc(iq->part)[iq->pend_cur];
	e->addr = jd->addr;
	e->len = jd->len;
	e->id = jd->id;
	e->flags = jd->flags;
	iq->pend_last = iq->pend_cur;
	iq->pend_cur = iq->next[iq->pend_cur];
	iq->pend_n++;
}

static int j_pop(void *ctx, const struct vio_chain *c)
{
	struct vio_vhost_user_inflight_queue *iq = ctx;
	if (iq->fmt == VIO_RING_SPLIT) {
		split_pop_committed(iq, c->id);
		return 0;
	}
	if (iq->pend_bad || iq->pend_n == 0 || iq->pend_n != c->ndesc)
		return -VIO_EINFLIGHT_FULL;
	struct vio_vhost_user_inflight_packed *h = iq->part;
	struct vio_vhost_user_inflight_packed_desc *e = &packed_desc(iq->part)[iq->pend_head];
	/* vhost-user.rst, packed, receiving, with the descriptor copies made
	 * first (pop_desc): the head's num, last and counter, inflight, then
	 * free_head and, last, old_free_head, the commit point. A crash before
	 * it rolls free_head back and clears the in-flight mark of every free
	 * entry (this head among them): the chain is taken again from the ring. */
	e->num = iq->pend_n;
	e->last = iq->pend_last;
	e->counter = iq->counter++;
	step();
	e->inflight = 1;
	step();
	iq->free_head = iq->pend_cur;
	h->free_head = iq->pend_cur;
	step();
	iq->old_free_head = iq->pend_cur;
	h->old_free_head = iq->pend_cur;
	step();
	iq->map[c->id] = iq->pend_head;
	iq->last[iq->pend_head] = iq->pend_last;
	iq->pend_n = 0;
	return 0;
}

static void j_push_begin(void *ctx, const struct vio_used *used, unsigned n,
			 const struct vio_ring_state *after)
{
	struct vio_vhost_user_inflight_queue *iq = ctx;
	if (iq->fmt == VIO_RING_SPLIT) {
		struct vio_vhost_user_inflight_split *h = iq->part;
		struct vio_vhost_user_inflight_split_desc *d = split_desc(iq->part);
		/* Split, supplying: link each head to the batch list. */
		for (unsigned k = 0; k < n; k++) {
			uint16_t i = used[k].chain->id;
			d[i].next = iq->last_batch_head;
			step();
			iq->last_batch_head = i;
			h->last_batch_head = i;
			step();
		}
		return;
	}
	struct vio_vhost_user_inflight_packed *h = iq->part;
	struct vio_vhost_user_inflight_packed_desc *d = packed_desc(iq->part);
	/* Packed, supplying: give each chain's entries back to the free list
	 * (not committed: old_free_head stays), then the new used position. */
	for (unsigned k = 0; k < n; k++) {
		uint16_t e = iq->map[used[k].chain->id], last = iq->last[e];
		iq->next[last] = iq->free_head;
		d[last].next = iq->free_head;
		step();
		iq->free_head = e;
		h->free_head = e;
		step();
	}
	h->used_idx = after->used_idx;
	h->used_wrap_counter = after->used_wrap;
	step();
}

static void j_push_end(void *ctx, const struct vio_used *used, unsigned n,
		       const struct vio_ring_state *after)
{
	struct vio_vhost_user_inflight_queue *iq = ctx;
	if (iq->fmt == VIO_RING_SPLIT) {
		struct vio_vhost_user_inflight_split *h = iq->part;
		struct vio_vhost_user_inflight_split_desc *d = split_desc(iq->part);
		for (unsigned k = 0; k < n; k++)
			d[used[k].chain->id].inflight = 0;
		step();
		h->used_idx = after->used_idx;
		step();
		return;
	}
	struct vio_vhost_user_inflight_packed *h = iq->part;
	struct vio_vhost_user_inflight_packed_desc *d = packed_desc(iq->part);
	for (unsigned k = 0; k < n; k++)
		d[iq->map[used[k].chain->id]].inflight = 0;
	step();
	/* Commit: old_used_idx last (attach compares it first). */
	iq->old_free_head = iq->free_head;
	h->old_free_head = iq->free_head;
	h->old_used_wrap_counter = after->used_wrap;
	step();
	h->old_used_idx = after->used_idx;
	step();
}

/* Nothing in flight, ring position zero (vio_devq_reset()). */
static void j_reset(void *ctx)
{
	struct vio_vhost_user_inflight_queue *iq = ctx;
	part_init(iq->part, iq->fmt, iq->size, VIO_VHOST_USER_INFLIGHT_VERSION, 0, true);
	iq->counter = 0;
	iq->last_batch_head = 0;
	iq->free_head = iq->old_free_head = 0;
	iq->nresubmit = iq->next_resubmit = 0;
	iq->pend_n = 0;
	if (iq->fmt == VIO_RING_PACKED)
		for (uint32_t i = 0; i < iq->size; i++)
			iq->next[i] = (uint16_t)(i + 1u);
}

static const struct vio_devq_journal journal_split = {NULL, j_pop, j_push_begin, j_push_end,
						      j_reset};
static const struct vio_devq_journal journal_packed = {j_pop_desc, j_pop, j_push_begin, j_push_end,
						       j_reset};

/* ---- Attach: split ------------------------------------------------------------- */

/* Read and check the part; fills order/keys with the heads in flight, in
 * counter order, and decides the fix-up. Writes nothing shared. */
static int split_scan(struct vio_vhost_user_inflight_queue *iq, uint16_t ring_used, uint16_t *batch,
		      uint16_t *inflight)
{
	const volatile struct vio_vhost_user_inflight_split *h = iq->part;
	const volatile struct vio_vhost_user_inflight_split_desc *d = split_desc(iq->part);
	uint16_t n = iq->size;
	uint16_t used = h->used_idx, lbh = h->last_batch_head;

	uint32_t marked = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t f = d[i].inflight;
		if (f > 1u)
			return -VIO_EINFLIGHT_LINK;
		iq->mark[i] = f ? M_INFLIGHT : 0;
		marked += f;
	}
	/* Nothing marked: nothing to fix up or re-submit, whatever the rest
	 * says (a ring reset since, say). */
	*batch = 0;
	*inflight = 0;
	if (marked == 0)
		return 0;
	/* Reconnecting, step 1: the used ring is ahead of the part, so the
	 * last batch was published but its marks may not all be cleared. The
	 * list is walked `batch` entries from last_batch_head. */
	*batch = (uint16_t)(ring_used - used);
	if (*batch > n)
		return -VIO_EINFLIGHT_LINK;
	uint16_t i = lbh;
	for (uint32_t k = 0; k < *batch; k++) {
		if (i >= n || (iq->mark[i] & M_FREE))
			return -VIO_EINFLIGHT_LINK;
		iq->mark[i] = (uint8_t)((iq->mark[i] & (uint8_t)~M_INFLIGHT) | M_FREE);
		i = d[i].next;
	}
	uint32_t m = 0;
	for (uint32_t j = 0; j < n; j++) {
		if (!(iq->mark[j] & M_INFLIGHT))
			continue;
		iq->order[m] = (uint16_t)j;
		iq->keys[m] = d[j].counter;
		m++;
	}
	*inflight = (uint16_t)m;
	return sort_by_counter(iq->keys, iq->order, m);
}

static int split_attach(struct vio_vhost_user_inflight_queue *iq, struct vio_devq *q,
			struct vio_vhost_user_inflight_info *info)
{
	struct vio_vhost_user_inflight_split *h = iq->part;
	struct vio_vhost_user_inflight_split_desc *d = split_desc(iq->part);
	uint16_t ring_used = 0, batch = 0, m = 0;
	int rc = vio_devq_read_used_idx(q, &ring_used);
	if (rc < 0)
		return rc;
	uint16_t version = ((volatile struct vio_vhost_user_inflight_split *)h)->version;
	if (version != 0) {
		rc = split_scan(iq, ring_used, &batch, &m);
		if (rc < 0)
			return rc;
	}
	struct vio_ring_state st = {(uint16_t)(ring_used + m), ring_used, false, false, m};
	rc = vio_devq_set_state(q, &st);
	if (rc < 0)
		return rc;
	if (m == 0) {
		part_init(iq->part, VIO_RING_SPLIT, iq->size, VIO_VHOST_USER_INFLIGHT_VERSION,
			  ring_used, true);
		iq->last_batch_head = 0;
	} else {
		/* Reconnecting, step 1b/1c. */
		for (uint32_t i = 0; i < iq->size; i++)
			if (iq->mark[i] & M_FREE)
				d[i].inflight = 0;
		step();
		h->used_idx = ring_used;
		step();
		iq->last_batch_head = h->last_batch_head;
		if (iq->last_batch_head >= iq->size)
			iq->last_batch_head = 0;
		iq->counter = iq->keys[m - 1u] + 1u;
	}
	info->fresh = m == 0;
	info->fixed_up = batch != 0 && m != 0;
	info->pos = st;
	iq->nresubmit = m;
	return 0;
}

/* ---- Attach: packed ------------------------------------------------------------ */

struct packed_hdr {
	uint16_t free_head, old_free_head, used_idx, old_used_idx;
	bool wrap, old_wrap;
};

static int packed_scan(struct vio_vhost_user_inflight_queue *iq, struct vio_devq *q,
		       struct packed_hdr *ph, bool *fixed, uint16_t *inflight, uint32_t *slots)
{
	const volatile struct vio_vhost_user_inflight_packed *h = iq->part;
	const volatile struct vio_vhost_user_inflight_packed_desc *d = packed_desc(iq->part);
	uint16_t n = iq->size;
	uint8_t w = h->used_wrap_counter, ow = h->old_used_wrap_counter;

	ph->free_head = h->free_head;
	ph->old_free_head = h->old_free_head;
	ph->used_idx = h->used_idx;
	ph->old_used_idx = h->old_used_idx;
	if (ph->free_head > n || ph->old_free_head > n || ph->used_idx >= n ||
	    ph->old_used_idx >= n || w > 1u || ow > 1u)
		return -VIO_EINFLIGHT_HEADER;
	ph->wrap = w != 0;
	ph->old_wrap = ow != 0;

	/* Reconnecting, step 1: a completion in progress (the used position
	 * moved, the commit did not). The wrap counter is compared too: a
	 * batch of exactly the ring size leaves the slot where it was. */
	*fixed = false;
	if (ph->used_idx != ph->old_used_idx || ph->wrap != ph->old_wrap) {
		uint16_t flags = 0;
		int rc = vio_devq_read_slot_flags(q, ph->old_used_idx, &flags);
		if (rc < 0)
			return rc;
		/* The slot still holds what the driver made available in the
		 * lap of old_used_wrap_counter (AVAIL = wrap, USED = !wrap)
		 * unless the device wrote a used descriptor over it: then the
		 * batch was published and is committed. */
		uint16_t avail = (uint16_t)(ph->old_wrap ? VIO_DESC_F_AVAIL : VIO_DESC_F_USED);
		if ((flags & (VIO_DESC_F_AVAIL | VIO_DESC_F_USED)) != avail) {
			ph->old_free_head = ph->free_head;
			ph->old_used_idx = ph->used_idx;
			ph->old_wrap = ph->wrap;
		}
		*fixed = true;
	}
	/* Step 2: roll back whatever is not committed. */
	ph->free_head = ph->old_free_head;
	ph->used_idx = ph->old_used_idx;
	ph->wrap = ph->old_wrap;

	uint32_t marked = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint8_t f = d[i].inflight;
		if (f > 1u)
			return -VIO_EINFLIGHT_LINK;
		iq->mark[i] = f ? M_INFLIGHT : 0;
		iq->next[i] = d[i].next;
		marked += f;
	}
	*inflight = 0;
	*slots = 0;
	if (marked == 0)
		return 0;
	/* Step 3: the free list (at most n entries, ends at an index >= n). */
	uint32_t steps = 0;
	for (uint16_t i = ph->free_head; i < n; i = iq->next[i]) {
		if (++steps > n || (iq->mark[i] & M_FREE))
			return -VIO_EINFLIGHT_LINK;
		iq->mark[i] = (uint8_t)((iq->mark[i] & (uint8_t)~M_INFLIGHT) | M_FREE);
	}
	/* Step 4: the chains still in flight, in counter order. */
	uint32_t m = 0;
	for (uint32_t j = 0; j < n; j++) {
		if (!(iq->mark[j] & M_INFLIGHT))
			continue;
		iq->order[m] = (uint16_t)j;
		iq->keys[m] = d[j].counter;
		m++;
	}
	int rc = sort_by_counter(iq->keys, iq->order, m);
	if (rc < 0)
		return rc;
	/* Each chain: num entries from its head along next, ending at last,
	 * none free or in another chain; copied once, as ring descriptors. */
	uint32_t total = 0;
	for (uint32_t c = 0; c < m; c++) {
		uint16_t head = iq->order[c];
		uint16_t num = d[head].num, last = d[head].last;
		if (num == 0 || num > n - total || last >= n)
			return -VIO_EINFLIGHT_LINK;
		iq->off[c] = (uint16_t)total;
		iq->num[c] = num;
		uint16_t e = head;
		for (uint32_t k = 0; k < num; k++) {
			if (e >= n || (iq->mark[e] & (M_FREE | M_CHAIN)))
				return -VIO_EINFLIGHT_LINK;
			iq->mark[e] |= M_CHAIN;
			struct vio_packed_desc *pd = &iq->descs[total + k];
			pd->addr = vio_le64_make(d[e].addr);
			pd->len = vio_le32_make(d[e].len);
			pd->id = vio_le16_make(d[e].id);
			pd->flags = vio_le16_make(d[e].flags);
			if (k + 1u == num)
				break;
			e = iq->next[e];
		}
		if (e != last)
			return -VIO_EINFLIGHT_LINK;
		/* The buffer id (on the last descriptor): in range, one chain each
		 * (map[] is free until the journal runs). */
		uint16_t id = vio_le16_get(iq->descs[total + num - 1u].id);
		if (id >= n || (iq->mark[id] & M_ID))
			return -VIO_EINFLIGHT_LINK;
		iq->mark[id] |= M_ID;
		iq->last[head] = last;
		total += num;
	}
	*inflight = (uint16_t)m;
	*slots = total;
	return 0;
}

static int packed_attach(struct vio_vhost_user_inflight_queue *iq, struct vio_devq *q,
			 const struct vio_ring_state *base,
			 struct vio_vhost_user_inflight_info *info)
{
	struct vio_vhost_user_inflight_packed *h = iq->part;
	struct vio_vhost_user_inflight_packed_desc *d = packed_desc(iq->part);
	struct packed_hdr ph = {0, 0, 0, 0, true, true};
	uint16_t m = 0;
	uint32_t slots = 0;
	bool fixed = false;
	uint16_t version = ((volatile struct vio_vhost_user_inflight_packed *)h)->version;
	int rc;

	if (version != 0) {
		rc = packed_scan(iq, q, &ph, &fixed, &m, &slots);
		if (rc < 0)
			return rc;
	} else if (base != NULL) {
		ph.used_idx = base->used_idx;
		ph.wrap = base->used_wrap;
	}
	/* In flight: from the committed used position, as many slots as the
	 * chains' descriptors (at most the ring: one lap). */
	struct vio_ring_state st = {ph.used_idx, ph.used_idx, ph.wrap, ph.wrap, m};
	uint32_t a = (uint32_t)ph.used_idx + slots;
	if (a >= iq->size) {
		a -= iq->size;
		st.avail_wrap = !st.avail_wrap;
	}
	st.avail_idx = (uint16_t)a;
	rc = vio_devq_set_state(q, &st);
	if (rc < 0)
		return rc;
	if (m == 0) {
		part_init(iq->part, VIO_RING_PACKED, iq->size, VIO_VHOST_USER_INFLIGHT_VERSION,
			  ph.used_idx, ph.wrap);
		for (uint32_t i = 0; i < iq->size; i++)
			iq->next[i] = (uint16_t)(i + 1u);
		iq->free_head = iq->old_free_head = 0;
	} else {
		/* Steps 1c/2 as decided, step 3's clearing. */
		h->free_head = ph.free_head;
		h->used_idx = ph.used_idx;
		h->used_wrap_counter = ph.wrap;
		step();
		h->old_free_head = ph.free_head;
		h->old_used_wrap_counter = ph.wrap;
		h->old_used_idx = ph.used_idx;
		step();
		for (uint32_t i = 0; i < iq->size; i++)
			if ((iq->mark[i] & M_FREE) && d[i].inflight != 0)
				d[i].inflight = 0;
		step();
		iq->free_head = iq->old_free_head = ph.free_head;
		iq->counter = iq->keys[m - 1u] + 1u;
	}
	info->fresh = m == 0;
	info->fixed_up = fixed && m != 0;
	info->pos = st;
	iq->nresubmit = m;
	return 0;
}

/* ---- Public entry points --------------------------------------------------- */

int vio_vhost_user_inflight_attach(struct vio_vhost_user_inflight_queue **iqp, void *mem,
				   size_t mem_size, void *part, uint64_t part_len,
				   struct vio_devq *q, const struct vio_ring_state *base,
				   struct vio_vhost_user_inflight_info *info)
{
	struct vio_vhost_user_inflight_info dummy;
	if (info == NULL)
		info = &dummy;
	if (iqp == NULL || mem == NULL || part == NULL || q == NULL ||
	    ((uintptr_t)mem & (VIO_VHOST_USER_INFLIGHT_MEM_ALIGN - 1u)) != 0 ||
	    ((uintptr_t)part & 7u) != 0)
		return -VIO_EINVAL;
	uint16_t n = vio_devq_size(q);
	struct vio_ring_state now;
	vio_devq_get_state(q, &now);
	enum vio_ring_format fmt = VIO_RING_SPLIT;
	if (vio_devq_read_used_idx(q, &(uint16_t){0}) < 0)
		fmt = VIO_RING_PACKED;
	size_t need = vio_vhost_user_inflight_mem_size(fmt, n);
	if (need == 0 || mem_size < need || now.inflight != 0)
		return -VIO_EINVAL;
	if (part_len < part_bytes(fmt, n))
		return -VIO_EINFLIGHT_HEADER;
	/* The header's version and size, read once. */
	uint16_t version, desc_num;
	if (fmt == VIO_RING_SPLIT) {
		const volatile struct vio_vhost_user_inflight_split *h = part;
		version = h->version;
		desc_num = h->desc_num;
	} else {
		const volatile struct vio_vhost_user_inflight_packed *h = part;
		version = h->version;
		desc_num = h->desc_num;
	}
	/* An uninitialised part (version 0) may carry any desc_num (DPDK
	 * writes it at SET_INFLIGHT_FD, libvhost-user not at all). */
	if (version > VIO_VHOST_USER_INFLIGHT_VERSION || (version != 0 && desc_num != n))
		return -VIO_EINFLIGHT_HEADER;

	struct vio_vhost_user_inflight_queue *iq = mem;
	VIO_MEMSET(iq, 0, sizeof(*iq));
	iq->fmt = fmt;
	iq->size = n;
	iq->part = part;
	carve(iq);
	/* The journal first: the queue is quiescent now; set_state and the
	 * re-submissions do not report to it. */
	int rc = vio_devq_set_journal(q, fmt == VIO_RING_SPLIT ? &journal_split : &journal_packed,
				      iq);
	if (rc < 0)
		return rc;
	rc = fmt == VIO_RING_SPLIT ? split_attach(iq, q, info) : packed_attach(iq, q, base, info);
	if (rc < 0) {
		(void)vio_devq_set_journal(q, NULL, NULL);
		return rc;
	}
	info->resubmit = iq->nresubmit;
	*iqp = iq;
	return 0;
}

int vio_vhost_user_inflight_resubmit(struct vio_vhost_user_inflight_queue *iq, struct vio_devq *q,
				     struct vio_chain *chain, struct vio_chain_seg *segs,
				     uint16_t max_segs)
{
	if (iq == NULL || q == NULL)
		return -VIO_EINVAL;
	if (iq->next_resubmit >= iq->nresubmit)
		return -VIO_EAGAIN;
	uint16_t c = iq->next_resubmit;
	int rc;
	if (iq->fmt == VIO_RING_SPLIT) {
		rc = vio_devq_repop(q, iq->order[c], chain, segs, max_segs);
	} else {
		rc = vio_devq_repop_packed(q, &iq->descs[iq->off[c]], iq->num[c], chain, segs,
					   max_segs);
		if (rc == 0)
			iq->map[chain->id] = iq->order[c];
	}
	/* Past this chain unless it is to be retried: a chain the queue
	 * refuses for good is not offered again (the loop ends). */
	if (rc != -VIO_ENOSPC && rc != -VIO_EMAP_AGAIN)
		iq->next_resubmit++;
	return rc;
}

int vio_vhost_user_inflight_detach(struct vio_vhost_user_inflight_queue *iq, struct vio_devq *q)
{
	if (iq == NULL || q == NULL)
		return -VIO_EINVAL;
	return vio_devq_set_journal(q, NULL, NULL);
}
