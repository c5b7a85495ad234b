/* SPDX-License-Identifier: MIT */
/* Device queue: set-up, state save/restore and the split/packed dispatch. */
#include "devq_impl.h"

/* Packed rings keep one in-flight byte per buffer id after the struct. */
static size_t extra_size(enum vio_ring_format format, uint16_t size)
{
	return format == VIO_RING_PACKED ? size : 0;
}

size_t vio_devq_mem_size(enum vio_ring_format format, uint16_t size)
{
	if (!vio__ring_size_ok(format, size))
		return 0;
	return sizeof(struct vio_devq) + extra_size(format, size);
}

static void common_reset(struct vio_devq *q)
{
	q->broken = 0;
	q->signalled_valid = false;
	q->signalled_used = 0;
}

int vio_devq_init(struct vio_devq **qp, void *mem, size_t mem_size,
		  const struct vio_devq_config *cfg)
{
	if (qp == NULL || mem == NULL || cfg == NULL || cfg->mem_ops == NULL ||
	    cfg->mem_ops->map == NULL || ((uintptr_t)mem & (VIO_DEVQ_MEM_ALIGN - 1)) != 0)
		return -VIO_EINVAL;
	size_t need = vio_devq_mem_size(cfg->format, cfg->size);
	if (need == 0 || mem_size < need)
		return -VIO_EINVAL;

	struct vio_devq *q = mem;
	VIO_MEMSET(q, 0, sizeof(*q));
	q->cfg = *cfg;
	q->format = cfg->format;
	q->size = cfg->size;
	q->mask = (uint16_t)(cfg->size - 1u);
	q->event_idx = vio_features_test(&cfg->features, VIO_F_EVENT_IDX);
	q->indirect = vio_features_test(&cfg->features, VIO_F_INDIRECT_DESC);
	q->in_order = vio_features_test(&cfg->features, VIO_F_IN_ORDER);
	q->mem_ops = cfg->mem_ops;
	q->mem_ctx = cfg->mem_ctx;
	common_reset(q);
	int rc = q->format == VIO_RING_SPLIT ? vio__devq_split_init(q)
					     : vio__devq_packed_init(q, q + 1);
	if (rc < 0)
		return rc;
	*qp = q;
	return 0;
}

void vio_devq_reset(struct vio_devq *q)
{
	common_reset(q);
	if (q->format == VIO_RING_SPLIT)
		vio__devq_split_reset(q);
	else
		vio__devq_packed_reset(q);
}

int vio_devq_pop(struct vio_devq *q, struct vio_chain *chain, struct vio_seg *segs,
		 uint16_t max_segs)
{
	if (vio_unlikely(q->broken))
		return -VIO_EBROKEN;
	if (q->format == VIO_RING_SPLIT)
		return vio__devq_split_pop(q, chain, segs, max_segs);
	return vio__devq_packed_pop(q, chain, segs, max_segs);
}

static int push(struct vio_devq *q, const struct vio_used *used, unsigned n, bool one)
{
	if (vio_unlikely(q->broken))
		return -VIO_EBROKEN;
	if (n == 0)
		return one ? -VIO_EINVAL : 0;
	if (q->format == VIO_RING_SPLIT)
		return vio__devq_split_push(q, used, n, one);
	return vio__devq_packed_push(q, used, n, one);
}

int vio_devq_push_batch(struct vio_devq *q, const struct vio_used *used, unsigned n)
{
	return push(q, used, n, false);
}

int vio_devq_push_in_order(struct vio_devq *q, const struct vio_used *used, unsigned n)
{
	if (!q->in_order)
		return -VIO_EINVAL;
	return push(q, used, n, true);
}

int vio_devq_push(struct vio_devq *q, const struct vio_chain *chain, uint32_t written)
{
	if (vio_unlikely(q->broken))
		return -VIO_EBROKEN;
	if (vio_likely(q->format == VIO_RING_SPLIT))
		return vio__devq_split_push1(q, chain->id, written);
	return vio__devq_packed_push1(q, chain->id, chain->ndesc, written);
}

bool vio_devq_needs_notify(struct vio_devq *q)
{
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
	if (q->format == VIO_RING_SPLIT) {
		st->avail_idx = q->u.split.last_avail;
		st->used_idx = q->u.split.used_idx;
		st->avail_wrap = false;
		st->used_wrap = false;
		return;
	}
	st->avail_idx = q->u.packed.last_avail;
	st->used_idx = q->u.packed.used_idx;
	st->avail_wrap = q->u.packed.avail_wrap;
	st->used_wrap = q->u.packed.used_wrap;
}

int vio_devq_set_state(struct vio_devq *q, const struct vio_ring_state *st)
{
	if (q->format == VIO_RING_PACKED && (st->avail_idx >= q->size || st->used_idx >= q->size))
		return -VIO_EINVAL;
	vio_devq_reset(q);
	if (q->format == VIO_RING_SPLIT) {
		q->u.split.last_avail = st->avail_idx;
		q->u.split.avail_seen = st->avail_idx;
		q->u.split.used_idx = st->used_idx;
		return 0;
	}
	q->u.packed.last_avail = st->avail_idx;
	q->u.packed.avail_wrap = st->avail_wrap;
	q->u.packed.used_idx = st->used_idx;
	q->u.packed.used_wrap = st->used_wrap;
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
