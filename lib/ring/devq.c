/* SPDX-License-Identifier: MIT */
/* Device queue: set-up, the public API, its split/packed dispatch, push
 * checks and state save/restore. */
#include "devq_hot.h"
#include "devq_impl.h"

_Static_assert(sizeof(struct vio_devq) <= VIO__DEVQ_FIXED_BYTES,
	       "VIO__DEVQ_FIXED_BYTES (devq.h) is too small for struct vio_devq");
_Static_assert(sizeof(struct vio_devq) % sizeof(uint16_t) == 0, "in-flight table alignment");
_Static_assert(VIO__DEVQ_PER_ID_BYTES == sizeof(uint16_t), "one in-flight record per id");

/* Stands in for a missing region table: matches nothing. */
static const struct vio_mem_region no_regions[1] = {{0, 0, NULL, 0}};

size_t vio_devq_mem_size(enum vio_ring_format format, uint16_t size)
{
	if (!vio__ring_size_ok(format, size))
		return 0;
	return sizeof(struct vio_devq) + (size_t)size * sizeof(uint16_t);
}

/* Start a new generation: nothing in flight, position per format reset by
 * the caller. */
static void new_generation(struct vio_devq *q, uint16_t inflight)
{
	q->broken = 0;
	q->gen++;
	vio__devq_chain_templates(q);
	q->inflight_count = inflight;
	q->repop_left = inflight;
	VIO_MEMSET(q->inflight, 0, (size_t)q->size * sizeof(uint16_t));
	vio__devq_hot_update(q);
}

static void reset_state(struct vio_devq *q);

static void format_parts(const struct vio_devq *q, const struct vio_devq_config *cfg,
			 struct vio__ring_part parts[VIO__NPARTS])
{
	if (q->format == VIO_RING_SPLIT)
		vio__devq_split_parts(q, cfg, parts);
	else
		vio__devq_packed_parts(q, cfg, parts);
}

static int format_attach(struct vio_devq *q, const struct vio__ring_part parts[VIO__NPARTS])
{
	if (q->format == VIO_RING_SPLIT)
		return vio__devq_split_attach(q, parts);
	return vio__devq_packed_attach(q, parts);
}

static void set_regions(struct vio_devq *q, const struct vio_mem_region *r, uint32_t n)
{
	q->regions = n != 0 ? r : no_regions;
	q->nregions = n;
	q->last_region = 0;
	vio__devq_set_hint(q, &q->regions[0]);
	q->last_table_region = 0;
}

/* Map the ring parts through the current memory and attach them. */
static int map_and_attach(struct vio_devq *q, struct vio__ring_part parts[VIO__NPARTS])
{
	for (unsigned i = 0; i < VIO__NPARTS; i++)
		if ((parts[i].addr & (parts[i].align - 1u)) != 0)
			return -VIO_ERING_ALIGN;
	int rc = vio__devq_map_rings(q, parts);
	if (rc < 0)
		return rc;
	rc = format_attach(q, parts);
	if (rc < 0)
		vio__devq_release_rings(q, parts);
	return rc;
}

int vio_devq_init(struct vio_devq **qp, void *mem, size_t mem_size,
		  const struct vio_devq_config *cfg)
{
	if (qp == NULL || mem == NULL || cfg == NULL ||
	    ((uintptr_t)mem & (VIO_DEVQ_MEM_ALIGN - 1)) != 0)
		return -VIO_EINVAL;
	size_t need = vio_devq_mem_size(cfg->format, cfg->size);
	if (need == 0 || mem_size < need)
		return -VIO_EINVAL;
	bool can_map = cfg->mem_ops != NULL && cfg->mem_ops->map != NULL;
	if ((cfg->nregions == 0 && !can_map) ||
	    vio__mem_table_check(cfg->regions, cfg->nregions) < 0)
		return -VIO_EINVAL;

	struct vio_devq *q = mem;
	VIO_MEMSET(q, 0, sizeof(*q));
	q->format = cfg->format;
	q->size = cfg->size;
	q->mask = (uint16_t)(cfg->size - 1u);
	q->event_idx = vio_features_test(&cfg->features, VIO_F_EVENT_IDX);
	q->indirect = vio_features_test(&cfg->features, VIO_F_INDIRECT_DESC);
	q->in_order = vio_features_test(&cfg->features, VIO_F_IN_ORDER);
	q->take_long = cfg->take_long_chains;
	q->mem_ops = cfg->mem_ops;
	q->mem_ctx = cfg->mem_ctx;
	q->log_write = cfg->mem_ops != NULL ? cfg->mem_ops->log_write : NULL;
	q->inflight = (uint16_t *)(void *)(q + 1);
	set_regions(q, cfg->regions, cfg->nregions);

	struct vio__ring_part parts[VIO__NPARTS];
	format_parts(q, cfg, parts);
	int rc = map_and_attach(q, parts);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < VIO__NPARTS; i++)
		q->part[i] = parts[i];
	reset_state(q);
	*qp = q;
	return 0;
}

int vio_devq_set_mem_table(struct vio_devq *q, const struct vio_mem_region *regions, uint32_t n)
{
	if (vio__mem_table_check(regions, n) < 0 ||
	    (n == 0 && (q->mem_ops == NULL || q->mem_ops->map == NULL)))
		return -VIO_EINVAL;
	const struct vio_mem_region *old = q->regions;
	uint32_t old_n = q->nregions;
	set_regions(q, regions, n);
	struct vio__ring_part parts[VIO__NPARTS];
	for (unsigned i = 0; i < VIO__NPARTS; i++)
		parts[i] = q->part[i];
	int rc = map_and_attach(q, parts);
	if (rc < 0) {
		set_regions(q, old, old_n);
		return rc;
	}
	vio__devq_release_rings(q, q->part);
	for (unsigned i = 0; i < VIO__NPARTS; i++)
		q->part[i] = parts[i];
	return 0;
}

void vio_devq_fini(struct vio_devq *q)
{
	vio__devq_release_rings(q, q->part);
}

/* The reset state; the journal is not told (init, and vio_devq_reset()
 * which tells it). */
static void reset_state(struct vio_devq *q)
{
	new_generation(q, 0);
	if (q->format == VIO_RING_SPLIT)
		vio__devq_split_reset(q);
	else
		vio__devq_packed_reset(q);
	q->signalled_used = 0;
}

void vio_devq_reset(struct vio_devq *q)
{
	reset_state(q);
	if (q->journal != NULL && q->journal->reset != NULL)
		q->journal->reset(q->journal_ctx);
}

int vio_devq_set_journal(struct vio_devq *q, const struct vio_devq_journal *j, void *ctx)
{
	struct vio_ring_state st;
	vio_devq_get_state(q, &st);
	if (st.inflight != 0 || q->repop_left != 0)
		return -VIO_EINVAL;
	q->journal = j;
	q->journal_ctx = j != NULL ? ctx : NULL;
	vio__devq_hot_update(q);
	return 0;
}

/* A chain was taken with a journal set: report it. A journal that cannot
 * record it fails the pop and breaks the queue (the chain's mappings are
 * released: the caller never sees it). */
VIO_NOINLINE static int journal_pop(struct vio_devq *q, struct vio_chain *chain)
{
	if (q->journal->pop == NULL)
		return 0;
	int rc = q->journal->pop(q->journal_ctx, chain);
	if (vio_likely(rc == 0))
		return 0;
	if (chain->flags & VIO_CHAIN_MAPPED)
		vio__devq_release_segs(q, chain->segs, chain->nseg);
	q->inflight[chain->id] = 0;
	return vio_devq_fail(q, rc);
}

/* The general pop: every shape, every configuration. */
VIO_NOINLINE static int pop_general(struct vio_devq *q, struct vio_chain *chain,
				    struct vio_chain_seg *segs, uint16_t max_segs)
{
	int rc;
	if (vio_unlikely(q->broken))
		return -VIO_EBROKEN;
	if (vio_likely(q->format == VIO_RING_SPLIT))
		rc = vio__devq_split_pop(q, chain, segs, max_segs);
	else
		rc = vio__devq_packed_pop(q, chain, segs, max_segs);
	if (vio_unlikely(q->journal != NULL) && rc == 0)
		return journal_pop(q, chain);
	return rc;
}

/* Out of line, a tail call of the pop fast path: the callee-saved
 * registers the chain walk needs are not saved on the leaf's way. */
VIO_NOINLINE int vio__devq_split_pop_chain(struct vio_devq *q, struct vio_chain *chain,
					   struct vio_chain_seg *segs, uint16_t max_segs,
					   uint16_t head, uint16_t head_flags)
{
	/* Without a region table every buffer goes through the map callback:
	 * the chain loop could not take it. */
	if (vio_unlikely(q->hint.size == 0))
		return vio__devq_split_pop_head(q, head, chain, segs, max_segs);
	vio__devq_park(q, chain, segs, max_segs, head);
	if (vio_likely(vio__devq_split_popn(q, head_flags) == 0))
		return 0;
	return vio__devq_split_pop_head(q, q->park_head, q->park_chain, q->park_segs,
					q->park_max_segs);
}

VIO_NOINLINE int vio__devq_split_pop_indirect(struct vio_devq *q, struct vio_chain *chain,
					      struct vio_chain_seg *segs, uint16_t max_segs,
					      uint16_t head)
{
	/* Without a region table the table and every buffer go through the
	 * map callback: the table walk could not take them. */
	if (vio_unlikely(q->hint.size == 0))
		return vio__devq_split_pop_head(q, head, chain, segs, max_segs);
	vio__devq_park(q, chain, segs, max_segs, head);
	if (vio_likely(vio__devq_split_popt(q) == 0))
		return 0;
	return vio__devq_split_pop_head(q, q->park_head, q->park_chain, q->park_segs,
					q->park_max_segs);
}

VIO_NOINLINE int vio__devq_split_pop_at(struct vio_devq *q, struct vio_chain *chain,
					struct vio_chain_seg *segs, uint32_t at)
{
	return vio__devq_split_pop_head(q, (uint16_t)at, chain, segs, (uint16_t)(at >> 16));
}

VIO_NOINLINE int vio__devq_split_pop_slow(struct vio_devq *q, struct vio_chain *chain,
					  struct vio_chain_seg *segs, uint16_t max_segs, int rc)
{
	if (VIO__POP_CODE(rc) == VIO__POP_AT)
		return vio__devq_split_pop_head(q, VIO__POP_ARG(rc), chain, segs, max_segs);
	return pop_general(q, chain, segs, max_segs);
}

static VIO_ALWAYS_INLINE int pop_split(struct vio_devq *q, struct vio_chain *chain,
				       struct vio_chain_seg *segs, uint16_t max_segs, bool by_dir)
{
	return vio__devq_split_pop1(q, chain, segs, max_segs, by_dir);
}

/* Out of line, a tail call of the pop fast path: the callee-saved
 * registers the list walk needs are not saved on the leaf's way. */
VIO_NOINLINE int vio__devq_packed_pop_chain(struct vio_devq *q, struct vio_chain *chain,
					    struct vio_chain_seg *segs, uint16_t max_segs,
					    uint16_t head_flags)
{
	/* Without a region table every buffer goes through the map callback:
	 * the list loop could not take it. No array: the general code says
	 * so (the leaf hands a list over before it looks at max_segs). */
	if (vio_unlikely(q->hint.size == 0 || max_segs == 0))
		return vio__devq_packed_pop_at(q, head_flags, chain, segs, max_segs);
	vio__devq_park(q, chain, segs, max_segs, head_flags);
	if (vio_likely(vio__devq_packed_popn(q) == 0))
		return 0;
	return vio__devq_packed_pop_at(q, q->park_head, q->park_chain, q->park_segs,
				       q->park_max_segs);
}

VIO_NOINLINE int vio__devq_packed_pop_indirect(struct vio_devq *q, struct vio_chain *chain,
					       struct vio_chain_seg *segs, uint16_t max_segs,
					       uint16_t head_flags)
{
	/* Without a region table the table and every buffer go through the
	 * map callback; no array: the general code says so. */
	if (vio_unlikely(q->hint.size == 0 || max_segs == 0))
		return vio__devq_packed_pop_at(q, head_flags, chain, segs, max_segs);
	vio__devq_park(q, chain, segs, max_segs, head_flags);
	if (vio_likely(vio__devq_packed_popt(q) == 0))
		return 0;
	return vio__devq_packed_pop_at(q, q->park_head, q->park_chain, q->park_segs,
				       q->park_max_segs);
}

VIO_NOINLINE int vio__devq_packed_pop_handover(struct vio_devq *q, struct vio_chain *chain,
					       struct vio_chain_seg *segs, uint16_t max_segs)
{
	return vio__devq_packed_pop(q, chain, segs, max_segs);
}

VIO_NOINLINE int vio__devq_packed_pop_slow(struct vio_devq *q, struct vio_chain *chain,
					   struct vio_chain_seg *segs, uint16_t max_segs,
					   uint16_t head_flags)
{
	return vio__devq_packed_pop_at(q, head_flags, chain, segs, max_segs);
}

int vio_devq_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_chain_seg *segs,
		 uint16_t max_segs)
{
	/* Both leaves inline, the one-descriptor tails copied per direction;
	 * every hand-over a tail call. */
	if (vio_likely(q->hot == VIO__HOT_SPLIT))
		return pop_split(q, chain, segs, max_segs, true);
	if (q->hot > VIO__HOT_SPLIT) /* VIO__HOT_PACKED */
		return vio__devq_packed_pop1(q, chain, segs, max_segs);
	return pop_general(q, chain, segs, max_segs);
}

/* The split run of vio_devq_pop_batch(): out of line with clang, whose
 * batch loop around it inline spills the run's constants (8 loads a chain;
 * split/1desc/evidx/batch32 180.3 inline, 178.2 out of line, clang 14);
 * inline with gcc, which keeps them and pays for the call (182.3 inline,
 * 184.9 out of line, gcc 12). Measured with bench/callgrind.sh. */
#if defined(__clang__)
#define VIO__SPLIT_RUN_INLINE VIO_NOINLINE
#else
#define VIO__SPLIT_RUN_INLINE VIO_ALWAYS_INLINE
#endif
static VIO__SPLIT_RUN_INLINE unsigned split_pop_run(struct vio_devq *q, struct vio_chain *chains,
						    struct vio_chain_seg *segs, uint16_t max_segs,
						    unsigned m)
{
	return vio__devq_split_pop_run(q, chains, segs, max_segs, m);
}

int vio_devq_pop_batch(struct vio_devq *q, struct vio_chain *chains, struct vio_chain_seg *segs,
		       uint16_t max_segs, unsigned n)
{
	unsigned k = 0;
	if (n == 0)
		return 0; /* an empty batch is a no-op */
	if (q->hot == VIO__HOT_PACKED) {
		/* Chains of one descriptor in the region table, in a run;
		 * then, from the first chain the run does not take, one pop at
		 * a time (the leaf inline). A pop that fails turns q->hot off
		 * only when it breaks the queue, and then the batch ends. */
		if (q->hint.size != 0 && max_segs != 0)
			k = vio__devq_packed_pop_run(q, chains, segs, max_segs, n);
		for (; k < n; k++) {
			struct vio_chain_seg *sg =
				max_segs != 0 ? segs + (size_t)k * max_segs : segs;
			int rc = vio__devq_packed_pop1(q, &chains[k], sg, max_segs);
			if (vio_unlikely(rc != 0))
				return k != 0 ? (int)k : rc;
		}
		return (int)k;
	}
	/* A run is tried until one takes nothing (the next entry is not its
	 * shape, or the buffers are not in the region table): then the
	 * batch goes on one pop at a time. */
	bool run = q->hot == VIO__HOT_SPLIT && q->hint.size != 0 && max_segs != 0;
	while (k < n) {
		/* (No arithmetic on the array when it may be NULL.) */
		struct vio_chain_seg *sg = max_segs != 0 ? segs + (size_t)k * max_segs : segs;
		/* (A packed queue here has no fast path: q->hot was not
		 * VIO__HOT_PACKED above, and no pop turns it on.) */
		int rc = vio_likely(q->hot == VIO__HOT_SPLIT)
				 ? pop_split(q, &chains[k], sg, max_segs, false)
				 : pop_general(q, &chains[k], sg, max_segs);
		if (vio_unlikely(rc != 0))
			return k != 0 ? (int)k : rc;
		k++;
		/* The entries the first pop found available, in one run. */
		if (run && k < n && q->hot == VIO__HOT_SPLIT) {
			unsigned got = split_pop_run(q, &chains[k], segs + (size_t)k * max_segs,
						     max_segs, n - k);
			run = got != 0;
			k += got;
		}
	}
	return (int)k;
}

/* A chain the embedder may push: popped from this generation, in flight,
 * and not claiming more bytes than it offered. */
static bool pushable(const struct vio_devq *q, const struct vio_chain *c, uint32_t written)
{
	return c != NULL && c->gen == q->gen && c->id < q->size &&
	       (q->inflight[c->id] & VIO__INFLIGHT) != 0 && written <= c->in_bytes;
}

/* Publish one checked completion. @log (a constant at each call site):
 * also log the writes and release the chain's mappings. */
static VIO_ALWAYS_INLINE int push_one(struct vio_devq *q, const struct vio_chain *chain,
				      uint32_t written, bool log)
{
	if (log)
		vio__devq_finish_chain(q, chain, written);
	uint16_t id = chain->id, ndesc = vio__devq_inflight_ndesc(q, id);
	q->inflight[id] = 0;
	if (vio_likely(q->format == VIO_RING_SPLIT))
		return log ? vio__devq_split_push1_logged(q, id, written)
			   : vio__devq_split_push1(q, id, written);
	q->inflight_count--;
	return log ? vio__devq_packed_push1_logged(q, id, ndesc, written)
		   : vio__devq_packed_push1(q, id, ndesc, written);
}

/* A push that logs writes or releases mappings: out of line, so that the
 * common push makes no call before its tail call. */
VIO_NOINLINE static int push_slow(struct vio_devq *q, const struct vio_chain *chain,
				  uint32_t written)
{
	return push_one(q, chain, written, true);
}

/* The ring position once a checked batch (in-flight records still hold
 * each chain's ndesc) is published. */
static void journal_after(const struct vio_devq *q, const struct vio_used *used, unsigned n,
			  struct vio_ring_state *st)
{
	vio_devq_get_state(q, st);
	if (q->format == VIO_RING_SPLIT) {
		st->used_idx = (uint16_t)(st->used_idx + n);
	} else {
		for (unsigned k = 0; k < n; k++)
			vio__packed_advance(&st->used_idx, &st->used_wrap,
					    vio__devq_inflight_ndesc(q, used[k].chain->id),
					    q->size);
	}
	st->inflight = (uint16_t)(st->inflight - n);
}

/* One checked completion with a journal set: announce, publish, confirm. */
VIO_NOINLINE static int push_journaled(struct vio_devq *q, const struct vio_chain *chain,
				       uint32_t written)
{
	const struct vio_devq_journal *j = q->journal;
	struct vio_used u = {chain, written};
	struct vio_ring_state after;
	journal_after(q, &u, 1, &after);
	if (j->push_begin != NULL)
		j->push_begin(q->journal_ctx, &u, 1, &after);
	int rc = push_one(q, chain, written, true);
	if (j->push_end != NULL)
		j->push_end(q->journal_ctx, &u, 1, &after);
	return rc;
}

/* The general push: every configuration. */
VIO_NOINLINE static int push_general(struct vio_devq *q, const struct vio_chain *chain,
				     uint32_t written)
{
	if (vio_unlikely(q->broken))
		return -VIO_EBROKEN;
	if (vio_unlikely(!pushable(q, chain, written)))
		return -VIO_EINVAL;
	if (vio_unlikely(q->journal != NULL))
		return push_journaled(q, chain, written);
	if (vio_unlikely(q->log_write != NULL || (chain->flags & VIO_CHAIN_MAPPED)))
		return push_slow(q, chain, written);
	return push_one(q, chain, written, false);
}

/* The push fast path applies: q->hot on, and @chain pushable without
 * mappings to release. The hot state, the generation and the MAPPED flag
 * are one compare of the chain's (flags, head, gen) word with q->push_key. */
static VIO_ALWAYS_INLINE bool push_fast_ok(const struct vio_devq *q, const struct vio_chain *c,
					   uint32_t written)
{
	if (vio_unlikely(c == NULL))
		return false;
	if (VIO__CHAIN_COMPOSED) {
		uint64_t w;
		VIO_MEMCPY(&w, &c->flags, sizeof(w));
		if ((w & VIO__PUSH_MASK) != q->push_key)
			return false;
	} else if (q->hot == VIO__HOT_OFF || c->gen != q->gen ||
		   (c->flags & VIO_CHAIN_MAPPED) != 0) {
		return false;
	}
	return c->id < q->size && (q->inflight[c->id] & VIO__INFLIGHT) != 0 &&
	       written <= c->in_bytes;
}

int vio_devq_push(struct vio_devq *q, const struct vio_chain *chain, uint32_t written)
{
	/* Fast: a healthy queue without write log, a chain of this
	 * generation in flight, no mappings to release. */
	if (vio_likely(push_fast_ok(q, chain, written))) {
		uint16_t id = chain->id;
		if (vio_likely(q->hot == VIO__HOT_SPLIT)) {
			q->inflight[id] = 0;
			vio__devq_split_put_used(q, id, written);
			return 0;
		}
		/* push_fast_ok() saw VIO__INFLIGHT set: the slots the chain
		 * took (vio__devq_inflight_ndesc()) in one subtraction. */
		uint32_t ndesc = (uint32_t)q->inflight[id] - (VIO__INFLIGHT - 1u);
		q->inflight[id] = 0;
		q->inflight_count--;
		vio__devq_packed_put_used(q, id, ndesc, written);
		return 0;
	}
	return push_general(q, chain, written);
}

/* Validate a batch; each chain once. Marks are taken off as entries pass
 * and put back if a later one fails, so nothing changes on failure. */
static int check_batch(struct vio_devq *q, const struct vio_used *used, unsigned n)
{
	if (n > q->size)
		return -VIO_EINVAL;
	for (unsigned k = 0; k < n; k++) {
		if (used == NULL || !pushable(q, used[k].chain, used[k].len)) {
			while (k-- > 0)
				q->inflight[used[k].chain->id] |= VIO__INFLIGHT;
			return -VIO_EINVAL;
		}
		q->inflight[used[k].chain->id] &= (uint16_t)~VIO__INFLIGHT;
	}
	return 0;
}

static int push_many(struct vio_devq *q, const struct vio_used *used, unsigned n, bool in_order)
{
	if (vio_unlikely(q->broken))
		return -VIO_EBROKEN;
	int rc = check_batch(q, used, n);
	if (rc < 0)
		return rc;
	for (unsigned k = 0; k < n; k++) {
		/* With one used entry for the batch, the driver takes the earlier
		 * chains as wholly written (§2.7.9). */
		const struct vio_chain *c = used[k].chain;
		vio__devq_finish_chain(q, c, in_order && k + 1 < n ? c->in_bytes : used[k].len);
	}
	const struct vio_devq_journal *j = q->journal;
	struct vio_ring_state after;
	if (vio_unlikely(j != NULL)) {
		journal_after(q, used, n, &after);
		if (j->push_begin != NULL)
			j->push_begin(q->journal_ctx, used, n, &after);
	}
	if (q->format == VIO_RING_PACKED)
		q->inflight_count = (uint16_t)(q->inflight_count - n);
	if (q->format == VIO_RING_SPLIT)
		vio__devq_split_push(q, used, n, in_order);
	else
		vio__devq_packed_push(q, used, n, in_order);
	for (unsigned k = 0; k < n; k++)
		q->inflight[used[k].chain->id] = 0;
	if (vio_unlikely(j != NULL) && j->push_end != NULL)
		j->push_end(q->journal_ctx, used, n, &after);
	return 0;
}

/* The batch fast path: a healthy queue without write log, every chain
 * pushable without mappings to release (push_fast_ok()), none twice. The
 * in-flight marks are taken off as entries pass (a second entry for a
 * chain then fails) and put back if one fails, so nothing changes and the
 * general code reports it. True: published. */
static VIO_ALWAYS_INLINE bool push_batch_fast(struct vio_devq *q, const struct vio_used *used,
					      unsigned n)
{
	unsigned k;
	for (k = 0; k < n; k++) {
		const struct vio_chain *c = used[k].chain;
		if (vio_unlikely(!push_fast_ok(q, c, used[k].len))) {
			while (k-- > 0)
				q->inflight[used[k].chain->id] |= VIO__INFLIGHT;
			return false;
		}
		q->inflight[c->id] &= (uint16_t)~VIO__INFLIGHT;
	}
	if (q->hot == VIO__HOT_SPLIT) {
		struct vio__devq_split *s = &q->u.split;
		uint16_t idx = s->used_idx;
		for (k = 0; k < n; k++, idx++) {
			uint16_t id = used[k].chain->id;
			struct vio_split_used_elem *e = &s->used_ring[idx & q->mask];
			VIO_WRITE_ONCE(e->id.raw, vio_le32_make(id).raw);
			VIO_WRITE_ONCE(e->len.raw, vio_le32_make(used[k].len).raw);
			VIO_CACHE_CLEAN(e, sizeof(*e));
			q->inflight[id] = 0;
		}
		s->used_idx = idx;
		s->pushed += n;
		/* Release: the elements before the index that publishes them.
		 * Pairs with the driver's acquire load of used->idx. */
		VIO_STORE_RELEASE(s->used->idx.raw, vio_le16_make(idx).raw);
		VIO_CACHE_CLEAN(&s->used->idx, sizeof(s->used->idx));
		return true;
	}
	/* Packed: one used descriptor per chain at the slots it took, the
	 * first one's flags written last so that the batch appears at once
	 * (as vio__devq_packed_push()). */
	struct vio__devq_packed *p = &q->u.packed;
	const uint16_t head = p->used_idx, size = q->size;
	uint16_t slot = head, mark = p->used_mark, head_flags = 0;
	uint32_t slots = 0;
	for (k = 0; k < n; k++) {
		uint16_t id = used[k].chain->id;
		uint32_t len = used[k].len;
		uint16_t ndesc = vio__devq_inflight_ndesc(q, id);
		q->inflight[id] = 0;
		vio__packed_write_used(&p->desc_rw[slot], k, id, len, mark, &head_flags);
		vio__packed_advance_mark(&slot, &mark, ndesc, size);
		slots += ndesc;
	}
	vio__packed_publish_batch(q, p, head, head_flags, slot, mark, slots, n);
	return true;
}

int vio_devq_push_batch(struct vio_devq *q, const struct vio_used *used, unsigned n)
{
	if (vio_unlikely(n == 0))
		return 0; /* an empty batch is a no-op */
	if (vio_likely(q->hot != VIO__HOT_OFF && used != NULL && n - 1u < q->size) &&
	    push_batch_fast(q, used, n))
		return 0;
	return push_many(q, used, n, false);
}

int vio_devq_push_in_order(struct vio_devq *q, const struct vio_used *used, unsigned n)
{
	if (n == 0)
		return 0; /* an empty batch is a no-op */
	if (!q->in_order)
		return -VIO_EINVAL;
	return push_many(q, used, n, true);
}

int vio_devq_drop(struct vio_devq *q, const struct vio_chain *chain)
{
	if (chain != NULL && chain->gen != q->gen && chain->gen != 0 && chain->segs != NULL) {
		/* Popped before a reset or restore: nothing of it is in flight
		 * any more, but its mappings are still held. */
		if (chain->flags & VIO_CHAIN_MAPPED)
			vio__devq_release_segs(q, chain->segs, chain->nseg);
		return 0;
	}
	if (!pushable(q, chain, 0))
		return -VIO_EINVAL;
	if (chain->flags & VIO_CHAIN_MAPPED)
		vio__devq_release_segs(q, chain->segs, chain->nseg);
	/* Still in flight for the ring (inflight_count keeps it, and the id
	 * stays taken: a driver offering it again is caught as
	 * -VIO_EDESC_INFLIGHT, so the count never exceeds the queue size and
	 * get_state/set_state round-trip), but no longer pushable. */
	q->inflight[chain->id] = VIO__DROPPED;
	return 0;
}

void vio_devq_log_write(struct vio_devq *q, uint64_t addr, uint64_t len)
{
	if (len != 0)
		vio__devq_log(q, addr, len);
}

int vio_devq_fail(struct vio_devq *q, int reason)
{
	if (reason >= 0)
		reason = -VIO_EREQUEST;
	/* The reason recorded: the first one wins (vio__devq_fail returns
	 * the one it was given). */
	(void)vio__devq_fail(q, reason);
	return q->broken;
}

bool vio_devq_needs_notify(struct vio_devq *q)
{
	if (vio_likely(q->hot == VIO__HOT_SPLIT))
		return vio__devq_split_notify1(q);
	if (q->hot == VIO__HOT_PACKED)
		return vio__devq_packed_notify1(q);
	if (q->broken)
		return false;
	if (q->format == VIO_RING_SPLIT)
		return vio__devq_split_needs_notify(q);
	return vio__devq_packed_needs_notify(q);
}

static bool set_notify(struct vio_devq *q, bool enable)
{
	if (q->format == VIO_RING_SPLIT)
		vio__devq_split_set_notify(q, enable);
	else
		vio__devq_packed_set_notify(q, enable);
	if (!enable)
		return false;
	/* Store the request, then look: buffers made available meanwhile are
	 * either seen here or kicked. Pairs with the fence in the driver's
	 * kick_prepare. */
	VIO_MB();
	return !vio_devq_has_avail(q);
}

void vio_devq_disable_notify(struct vio_devq *q)
{
	(void)set_notify(q, false);
}

bool vio_devq_enable_notify(struct vio_devq *q)
{
	return set_notify(q, true);
}

bool vio_devq_has_avail(struct vio_devq *q)
{
	if (q->broken)
		return false;
	if (q->format == VIO_RING_SPLIT)
		return vio__devq_split_has_avail(q);
	return vio__devq_packed_has_avail(q);
}

void vio_devq_get_state(const struct vio_devq *q, struct vio_ring_state *st)
{
	if (q->format == VIO_RING_SPLIT)
		vio__devq_split_get_state(q, st);
	else
		vio__devq_packed_get_state(q, st);
	/* Split: every entry taken and not yet used is in flight (the used
	 * index moves by one per completed chain, in-order batches too). */
	st->inflight = q->format == VIO_RING_SPLIT
			       ? (uint16_t)(q->u.split.last_avail - q->u.split.used_idx)
			       : q->inflight_count;
}

int vio_devq_set_state(struct vio_devq *q, const struct vio_ring_state *st)
{
	uint16_t inflight = st->inflight;
	int rc;
	if (q->format == VIO_RING_SPLIT) {
		rc = vio__devq_split_set_state(q, st, &inflight);
	} else {
		if (st->inflight > q->size)
			return -VIO_EINVAL;
		rc = vio__devq_packed_set_state(q, st);
	}
	if (rc < 0)
		return rc;
	new_generation(q, inflight);
	return 0;
}

int vio_devq_repop(struct vio_devq *q, uint16_t head, struct vio_chain *chain,
		   struct vio_chain_seg *segs, uint16_t max_segs)
{
	if (q->broken)
		return -VIO_EBROKEN;
	if (q->format != VIO_RING_SPLIT || q->repop_left == 0 || head >= q->size ||
	    q->inflight[head] != 0 || max_segs == 0)
		return -VIO_EINVAL;
	int rc = vio__devq_split_take(q, head, chain, segs, max_segs);
	if (rc == 0)
		q->repop_left--;
	return rc;
}

int vio_devq_repop_packed(struct vio_devq *q, const struct vio_packed_desc *descs, uint16_t ndesc,
			  struct vio_chain *chain, struct vio_chain_seg *segs, uint16_t max_segs)
{
	if (q->broken)
		return -VIO_EBROKEN;
	if (q->format != VIO_RING_PACKED || q->repop_left == 0 || descs == NULL || ndesc == 0 ||
	    ndesc > q->size || max_segs == 0)
		return -VIO_EINVAL;
	int rc = vio__devq_packed_take(q, descs, ndesc, chain, segs, max_segs);
	if (rc == 0)
		q->repop_left--;
	return rc;
}

int vio_devq_read_used_idx(struct vio_devq *q, uint16_t *idx)
{
	if (q->format != VIO_RING_SPLIT || idx == NULL)
		return -VIO_EINVAL;
	const struct vio__devq_split *s = &q->u.split;
	VIO_CACHE_INVALIDATE(&s->used->idx, sizeof(s->used->idx));
	*idx = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->used->idx.raw));
	return 0;
}

int vio_devq_read_slot_flags(struct vio_devq *q, uint16_t slot, uint16_t *flags)
{
	if (q->format != VIO_RING_PACKED || slot >= q->size || flags == NULL)
		return -VIO_EINVAL;
	const struct vio_packed_desc *d = &q->u.packed.desc[slot];
	VIO_CACHE_INVALIDATE(d, sizeof(*d));
	*flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(d->flags.raw));
	return 0;
}

bool vio_devq_is_broken(const struct vio_devq *q)
{
	return q->broken != 0;
}

int vio_devq_broken_reason(const struct vio_devq *q)
{
	return q->broken;
}

uint16_t vio_devq_size(const struct vio_devq *q)
{
	return q->size;
}
