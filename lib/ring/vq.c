/* SPDX-License-Identifier: MIT */
/* Driver queue: set-up, the public API and its split/packed dispatch. */
#include "vq_hot.h"
#include "vq_impl.h"

/* The public size macros are the single source of truth: the private
 * structures must fit them (the record area starts 8-aligned after the
 * slots, hence the slack). */
_Static_assert(offsetof(struct vio_vq, slot) + 8 <= VIO_VQ_MEM_BASE,
	       "struct vio_vq outgrew VIO_VQ_MEM_BASE");
_Static_assert(sizeof(struct vio__vq_slot) + sizeof(struct vio__vq_cold) <= VIO_VQ_MEM_PER_SLOT,
	       "struct vio__vq_slot + vio__vq_cold outgrew VIO_VQ_MEM_PER_SLOT");
_Static_assert(_Alignof(struct vio__vq_cold) <= _Alignof(struct vio__vq_slot),
	       "the cold array follows the slots unpadded");
_Static_assert(sizeof(struct vio__vq_rec) <= VIO_VQ_MEM_PER_REC,
	       "struct vio__vq_rec outgrew VIO_VQ_MEM_PER_REC");
_Static_assert(_Alignof(struct vio_vq) <= VIO_VQ_MEM_ALIGN &&
		       _Alignof(struct vio__vq_rec) <= VIO_VQ_MEM_ALIGN,
	       "VIO_VQ_MEM_ALIGN too small");

/* The dispatch below tests vq->hot == VIO__HOT_SPLIT, then vq->hot >
 * VIO__HOT_SPLIT for packed: one compare serves both (the packed fast
 * paths pay no second one), which holds while PACKED is the only value
 * above SPLIT. */
_Static_assert(VIO__HOT_OFF < VIO__HOT_SPLIT && VIO__HOT_PACKED == VIO__HOT_SPLIT + 1,
	       "vq->hot > VIO__HOT_SPLIT must mean VIO__HOT_PACKED");

/* Whether @cfg asks for indirect tables the queue can use. */
static bool cfg_indirect(const struct vio_vq_config *cfg)
{
	return vio_features_test(&cfg->features, VIO_F_INDIRECT_DESC) &&
	       cfg->indirect_pool != NULL && cfg->indirect_max > 0;
}

static bool cfg_release(const struct vio_vq_config *cfg)
{
	return cfg->dma_ops != NULL && cfg->dma_ops->release != NULL;
}

size_t vio_vq_mem_size(const struct vio_vq_config *cfg)
{
	if (cfg == NULL || !vio__ring_size_ok(cfg->format, cfg->size))
		return 0;
	if (!cfg_release(cfg))
		return VIO_VQ_MEM_SIZE(cfg->size);
	return VIO_VQ_MEM_SIZE_DMA(cfg->size, cfg_indirect(cfg) ? cfg->indirect_max : 0u);
}

int vio__vq_dma_err(int rc)
{
	if (rc >= 0)
		return -VIO_EDMA; /* not a library code */
	switch (0u - (unsigned)rc) {
#define VIO__DMA_ERR(name, value, peer, text)                                                      \
	case value:                                                                                \
		return (peer) ? -VIO_EDMA : rc;
		VIO_ERRNO_MAP(VIO__DMA_ERR)
#undef VIO__DMA_ERR
	default:
		return -VIO_EDMA;
	}
}

struct vio__vq_conv vio__vq_map(const struct vio_vq *vq, const void *ptr, uint32_t len,
				enum vio_dma_dir dir, struct vio__vq_rec *recs, size_t idx)
{
	struct vio__vq_conv c = {(uint64_t)(uintptr_t)ptr, 0};
	if (vq->to_device != NULL) {
		int rc = vq->to_device(vq->dma_ctx, ptr, len, dir, &c.addr);
		if (rc != 0) {
			c.rc = vio__vq_dma_err(rc);
			return c;
		}
	}
	if (recs != NULL)
		vio__vq_rec_set(&recs[idx], ptr, len, dir, c.addr);
	return c;
}

struct vio__vq_conv vio__vq_map_single(const struct vio_vq *vq, const struct vio_sg *sg,
				       unsigned in, uint16_t head)
{
	uint16_t idx = vq->format == VIO_RING_SPLIT ? head : vq->rec_free;
	return vio__vq_map(vq, sg->addr, sg->len, in != 0 ? VIO_DMA_FROM_DEVICE : VIO_DMA_TO_DEVICE,
			   vq->rec, idx);
}

void vio__vq_release_indirect(const struct vio_vq *vq, uint16_t slot, unsigned n, bool table)
{
	const struct vio__vq_rec *r = vio__vq_irec(vq, slot);
	for (unsigned i = 1; i <= n; i++)
		vio__vq_rec_release(vq, &r[i]);
	if (table)
		vio__vq_rec_release(vq, &r[0]);
}

static bool aligned(const void *p, uintptr_t a)
{
	return ((uintptr_t)p & (a - 1u)) == 0;
}

static bool areas_ok(const struct vio_vq_config *cfg)
{
	if (cfg->desc == NULL || cfg->driver_area == NULL || cfg->device_area == NULL)
		return false;
	if (cfg->format == VIO_RING_SPLIT)
		return aligned(cfg->desc, VIO_SPLIT_DESC_ALIGN) &&
		       aligned(cfg->driver_area, VIO_SPLIT_AVAIL_ALIGN) &&
		       aligned(cfg->device_area, VIO_SPLIT_USED_ALIGN);
	return aligned(cfg->desc, VIO_PACKED_DESC_ALIGN) &&
	       aligned(cfg->driver_area, VIO_PACKED_EVENT_ALIGN) &&
	       aligned(cfg->device_area, VIO_PACKED_EVENT_ALIGN);
}

static void vq_setup(struct vio_vq *vq)
{
	vq->num_free = vq->size;
	vq->outstanding = 0;
	vq->avail_moved = 0;
	vq->detach_cursor = 0;
	vq->io_left = 0;
	vq->broken = 0;
	if (vq->format == VIO_RING_SPLIT)
		vio__vq_split_init(vq);
	else
		vio__vq_packed_init(vq);
	vio__vq_hot_update(vq);
}

int vio_vq_init(struct vio_vq **vqp, void *mem, size_t mem_size, const struct vio_vq_config *cfg)
{
	if (vqp == NULL || mem == NULL || cfg == NULL || !aligned(mem, VIO_VQ_MEM_ALIGN))
		return -VIO_EINVAL;
	size_t need = vio_vq_mem_size(cfg);
	if (need == 0 || mem_size < need || !areas_ok(cfg))
		return -VIO_EINVAL;
	/* §2.8: the packed layout exists only with VIRTIO_F_RING_PACKED; the
	 * split layout is what the device uses without it. */
	if ((cfg->format == VIO_RING_PACKED) !=
	    vio_features_test(&cfg->features, VIO_F_RING_PACKED))
		return -VIO_EINVAL;
	bool indirect = cfg_indirect(cfg);
	if (indirect && (!aligned(cfg->indirect_pool, 16) || cfg->indirect_max > cfg->size))
		return -VIO_EINVAL;

	struct vio_vq *vq = mem;
	VIO_MEMSET(vq, 0, sizeof(*vq));
	vq->cfg = *cfg;
	vq->format = cfg->format;
	vq->size = cfg->size;
	vq->mask = (uint16_t)(cfg->size - 1u);
	vq->index = cfg->index;
	vq->event_idx = vio_features_test(&cfg->features, VIO_F_EVENT_IDX);
	vq->in_order = vio_features_test(&cfg->features, VIO_F_IN_ORDER);
	vq->notification_data = vio_features_test(&cfg->features, VIO_F_NOTIFICATION_DATA);
	vq->indirect_pool = cfg->indirect_pool;
	vq->indirect_max = indirect ? cfg->indirect_max : 0;
	/* Without indirect tables no chain qualifies: one compare on add. */
	vq->indirect_min = !indirect ? UINT16_MAX : cfg->indirect_min != 0 ? cfg->indirect_min : 2;
	if (cfg->dma_ops != NULL) {
		vq->to_device = cfg->dma_ops->to_device;
		vq->release = cfg->dma_ops->release;
		if (vq->to_device != NULL || vq->release != NULL)
			vq->dma = cfg->dma_ops;
	}
	vq->dma_ctx = cfg->dma_ctx;
	vq->cold = (struct vio__vq_cold *)(void *)&vq->slot[vq->size];
	if (vq->release != NULL) {
		size_t off = offsetof(struct vio_vq, slot) +
			     (size_t)vq->size * sizeof(vq->slot[0]) +
			     (size_t)vq->size * sizeof(vq->cold[0]);
		off = (off + 7u) & ~(size_t)7u;
		vq->rec = (struct vio__vq_rec *)(void *)((unsigned char *)mem + off);
		if (indirect)
			vq->irec = vq->rec + vq->size;
	}
	vq->get_slow = vq->in_order || vq->rec != NULL;
	vq_setup(vq);
	*vqp = vq;
	return 0;
}

void vio_vq_reset(struct vio_vq *vq)
{
	vq_setup(vq);
}

/* The three ring parts: pointer, length and direction, in the order desc,
 * driver area, device area. */
struct ring_part {
	const void *ptr;
	size_t len;
	enum vio_dma_dir dir;
};

static void ring_parts(const struct vio_vq *vq, struct ring_part part[3])
{
	const struct vio_vq_config *c = &vq->cfg;
	bool split = c->format == VIO_RING_SPLIT;
	/* The device only reads the split descriptor table and available ring
	 * and the packed driver event suppression; it writes the used ring,
	 * the packed descriptor ring (used descriptors, §2.8.4) and the packed
	 * device event suppression, which the driver also initialises. */
	part[0] = (struct ring_part){
		c->desc, split ? VIO_SPLIT_DESC_SIZE(vq->size) : VIO_PACKED_DESC_SIZE(vq->size),
		split ? VIO_DMA_TO_DEVICE : VIO_DMA_BIDIRECTIONAL};
	part[1] = (struct ring_part){c->driver_area,
				     split ? VIO_SPLIT_AVAIL_SIZE(vq->size) : VIO_PACKED_EVENT_SIZE,
				     VIO_DMA_TO_DEVICE};
	part[2] = (struct ring_part){c->device_area,
				     split ? VIO_SPLIT_USED_SIZE(vq->size) : VIO_PACKED_EVENT_SIZE,
				     VIO_DMA_BIDIRECTIONAL};
}

int vio_vq_ring_addrs(const struct vio_vq *vq, uint64_t *desc, uint64_t *driver, uint64_t *device)
{
	struct ring_part part[3];
	uint64_t addr[3];
	ring_parts(vq, part);
	for (unsigned i = 0; i < 3; i++) {
		int rc = 0;
		if (vq->to_device == NULL)
			addr[i] = (uint64_t)(uintptr_t)part[i].ptr;
		else
			rc = vq->to_device(vq->dma_ctx, part[i].ptr, part[i].len, part[i].dir,
					   &addr[i]);
		if (rc != 0) {
			while (vq->release != NULL && i-- > 0)
				vq->release(vq->dma_ctx, part[i].ptr, part[i].len, part[i].dir,
					    addr[i]);
			return vio__vq_dma_err(rc);
		}
	}
	*desc = addr[0];
	*driver = addr[1];
	*device = addr[2];
	return 0;
}

void vio_vq_ring_addrs_release(const struct vio_vq *vq, uint64_t desc, uint64_t driver,
			       uint64_t device)
{
	struct ring_part part[3];
	uint64_t addr[3] = {desc, driver, device};
	if (vq->release == NULL)
		return;
	ring_parts(vq, part);
	for (unsigned i = 0; i < 3; i++)
		vq->release(vq->dma_ctx, part[i].ptr, part[i].len, part[i].dir, addr[i]);
}

/* The general add: every shape, every configuration. */
VIO_NOINLINE static int add_general(struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				    unsigned in, void *token)
{
	if (vio_unlikely(vq->broken))
		return -VIO_EBROKEN;
	if (vio_unlikely(out + in == 0 || out + in < out || token == NULL || sg == NULL))
		return -VIO_EINVAL;
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_add(vq, sg, out, in, token);
	return vio__vq_packed_add(vq, sg, out, in, token);
}

/* The chain fast paths add_multi() hands a qualifying chain to (tail
 * calls, all with add_multi()'s arguments). Each leaves one case to the
 * general add: the lengths sum to 2^32 or more (nothing published). */
typedef int vio__vq_add_fn(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
			   void *token);

/* Any length: the loops of vio__vq_split_addn() / vio__vq_packed_addn() /
 * the table writers. */
VIO_NOINLINE static int split_chain(struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				    unsigned in, void *token)
{
	if (vio_likely(vio__vq_split_addn(vq, sg, out, out + in, token) == 0))
		return 0;
	return add_general(vq, sg, out, in, token);
}

VIO_NOINLINE static int packed_chain(struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				     unsigned in, void *token)
{
	if (vio_likely(vio__vq_packed_addn(vq, sg, out, out + in, token) == 0))
		return 0;
	return add_general(vq, sg, out, in, token);
}

VIO_NOINLINE static int split_table(struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				    unsigned in, void *token)
{
	if (vio_likely(vio__vq_split_addi(vq, sg, out, out + in, token) == 0))
		return 0;
	return add_general(vq, sg, out, in, token);
}

VIO_NOINLINE static int packed_table(struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				     unsigned in, void *token)
{
	if (vio_likely(vio__vq_packed_addi(vq, sg, out, out + in, token) == 0))
		return 0;
	return add_general(vq, sg, out, in, token);
}

/* The short shapes (total 2..VIO__VQ_ADDK_MAX, out) each in a leaf of its
 * own with both counts constant: no loop, no flag arithmetic, and, out of
 * add_multi()'s body, no callee-saved register to save for the loops and
 * the general add (the counts they are called with are the constants, not
 * the arguments kept live). */
#define VIO__SHAPE_FNS(t, o)                                                                       \
	VIO_NOINLINE static int split_chain_##t##o(struct vio_vq *vq, const struct vio_sg *sg,     \
						   unsigned out_, unsigned in_, void *token)       \
	{                                                                                          \
		(void)out_;                                                                        \
		(void)in_;                                                                         \
		if (vio_likely(vio__vq_split_addk(vq, sg, o, t, token) == 0))                      \
			return 0;                                                                  \
		return add_general(vq, sg, o, (t) - (o), token);                                   \
	}                                                                                          \
	VIO_NOINLINE static int packed_chain_##t##o(struct vio_vq *vq, const struct vio_sg *sg,    \
						    unsigned out_, unsigned in_, void *token)      \
	{                                                                                          \
		(void)out_;                                                                        \
		(void)in_;                                                                         \
		int rc = vio__vq_packed_addk(vq, sg, o, t, token);                                 \
		if (vio_likely(rc == 0))                                                           \
			return 0;                                                                  \
		if (rc == 2) /* across the ring's end */                                           \
			return packed_chain(vq, sg, o, (t) - (o), token);                          \
		return add_general(vq, sg, o, (t) - (o), token);                                   \
	}                                                                                          \
	VIO_NOINLINE static int split_table_##t##o(struct vio_vq *vq, const struct vio_sg *sg,     \
						   unsigned out_, unsigned in_, void *token)       \
	{                                                                                          \
		(void)out_;                                                                        \
		(void)in_;                                                                         \
		if (vio_likely(vio__vq_split_addi(vq, sg, o, t, token) == 0))                      \
			return 0;                                                                  \
		return add_general(vq, sg, o, (t) - (o), token);                                   \
	}                                                                                          \
	VIO_NOINLINE static int packed_table_##t##o(struct vio_vq *vq, const struct vio_sg *sg,    \
						    unsigned out_, unsigned in_, void *token)      \
	{                                                                                          \
		(void)out_;                                                                        \
		(void)in_;                                                                         \
		if (vio_likely(vio__vq_packed_addi(vq, sg, o, t, token) == 0))                     \
			return 0;                                                                  \
		return add_general(vq, sg, o, (t) - (o), token);                                   \
	}
VIO__SHAPE_FNS(2, 0)
VIO__SHAPE_FNS(2, 1)
VIO__SHAPE_FNS(2, 2)
VIO__SHAPE_FNS(3, 0)
VIO__SHAPE_FNS(3, 1)
VIO__SHAPE_FNS(3, 2)
VIO__SHAPE_FNS(3, 3)
#undef VIO__SHAPE_FNS

/* By kind (split chain, packed chain, split table, packed table) and by
 * (total - 2) * 4 + out; out 3 of total 2 cannot occur (total >= out). */
#define VIO__SHAPES(kind)                                                                          \
	{                                                                                          \
		kind##_20, kind##_21, kind##_22, kind, kind##_30, kind##_31, kind##_32, kind##_33  \
	}
static vio__vq_add_fn *const add_shape[4][8] = {
	VIO__SHAPES(split_chain),
	VIO__SHAPES(packed_chain),
	VIO__SHAPES(split_table),
	VIO__SHAPES(packed_table),
};
#undef VIO__SHAPES

/* Everything but the one-segment fast paths: the direct-chain and
 * indirect-table fast paths, then the general add. Out of line, so that
 * vio_vq_add() itself needs no saved registers; the fast paths are tail
 * calls. */
/* total 2..3: the leaf of that shape in a row of add_shape; else the
 * kind's own loops (slot 3 of each row). */
static inline unsigned add_shape_at(unsigned out, unsigned total)
{
	return total - 2u < VIO__VQ_ADDK_MAX - 1u ? (total - 2u) * 4u + out : 3u;
}

/* add_multi()'s chains of @total = out + in segments (not wrapping) that
 * are not direct_ok: an indirect table (the tests below), or the
 * general add. Apart, so that add_multi() keeps few registers. */
VIO_NOINLINE static int add_table(struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				  unsigned in, void *token, unsigned total)
{
	if (vq->hot != VIO__HOT_OFF && vq->num_free != 0 && vio__vq_want_indirect(vq, total) &&
	    token != NULL && sg != NULL)
		return add_shape[vq->hot == VIO__HOT_SPLIT ? 2 : 3][add_shape_at(out, total)](
			vq, sg, out, in, token);
	return add_general(vq, sg, out, in, token);
}

VIO_NOINLINE static int add_multi(struct vio_vq *vq, const struct vio_sg *sg, unsigned out,
				  unsigned in, void *token)
{
	unsigned total = out + in;
	if (vio_unlikely(total < out))
		return add_general(vq, sg, out, in, token);
	if (vio_likely(vio__vq_direct_ok(vq, sg, out, total, token))) {
		/* (A one-segment chain that gets here is not direct_ok: no
		 * slot free, or indirect_min 1.) */
		if (vio_likely(vq->hot == VIO__HOT_SPLIT))
			return add_shape[0][add_shape_at(out, total)](vq, sg, out, in, token);
		if (vq->hot > VIO__HOT_SPLIT)
			return add_shape[1][add_shape_at(out, total)](vq, sg, out, in, token);
		return add_general(vq, sg, out, in, token);
	}
	return add_table(vq, sg, out, in, token, total);
}

int vio_vq_add(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in, void *token)
{
	/* One segment: out + in is 1 without wrapping (summed in 64 bits),
	 * token and sg given, a slot free, and vq->hot1 says the queue takes
	 * the fast path with a one-segment chain direct: everything
	 * vio__vq_direct_ok() asks of a one-segment chain. */
	if (vio_likely((uint64_t)out + in == 1 && token != NULL && sg != NULL)) {
		if (vio_likely(vq->hot1 == VIO__HOT_SPLIT && vq->num_free != 0))
			return vio__vq_split_add1(vq, sg, in, token);
		if (vq->hot1 > VIO__HOT_SPLIT && vq->num_free != 0)
			return vio__vq_packed_add1(vq, sg, in, token);
	}
	return add_multi(vq, sg, out, in, token);
}

int vio_vq_add_batch(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in,
		     void *const *tokens, unsigned n)
{
	unsigned k = 0;

	if (vio_unlikely(n == 0))
		return 0; /* an empty batch is a no-op */
	if (vio_unlikely(tokens == NULL))
		return -VIO_EINVAL;
	/* One segment each, as vio_vq_add() decides it (a NULL token or a full
	 * ring stops the loop; the general add below reports it). */
	if (vio_likely((uint64_t)out + in == 1 && sg != NULL)) {
		if (vio_likely(vq->hot1 == VIO__HOT_SPLIT))
			k = vio__vq_split_add_batch1(vq, sg, in, tokens, n);
		else if (vq->hot1 > VIO__HOT_SPLIT)
			k = vio__vq_packed_add_batch1(vq, sg, in, tokens, n);
	}
	size_t per = (size_t)out + in;
	for (; k < n; k++) {
		int rc = vio_vq_add(vq, sg != NULL ? sg + per * k : NULL, out, in, tokens[k]);
		if (rc != 0)
			return k != 0 ? (int)k : rc;
	}
	return (int)k;
}

VIO_NOINLINE static bool kick_general(struct vio_vq *vq)
{
	if (vio_unlikely(vq->broken))
		return false;
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_kick_prepare(vq);
	return vio__vq_packed_kick_prepare(vq);
}

bool vio_vq_kick_prepare(struct vio_vq *vq)
{
	if (vio_likely(vq->hot == VIO__HOT_SPLIT))
		return vio__vq_split_kick1(vq);
	if (vq->hot > VIO__HOT_SPLIT)
		return vio__vq_packed_kick1(vq);
	return kick_general(vq);
}

uint32_t vio_vq_notify_data(const struct vio_vq *vq)
{
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_notify_data(vq);
	return vio__vq_packed_notify_data(vq);
}

/* The general get: every case, every configuration. */
VIO_NOINLINE static int get_general(struct vio_vq *vq, void **token, uint32_t *len)
{
	if (vio_unlikely(vq->broken))
		return -VIO_EBROKEN;
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_get(vq, token, len);
	return vio__vq_packed_get(vq, token, len);
}

int vio_vq_get(struct vio_vq *vq, void **token, uint32_t *len)
{
	int rc;
	if (vio_likely(vq->hot == VIO__HOT_SPLIT))
		rc = vio__vq_split_get1(vq, token, len);
	else if (vq->hot > VIO__HOT_SPLIT)
		rc = vio__vq_packed_get1(vq, token, len);
	else
		rc = 1;
	if (vio_likely(rc <= 0))
		return rc;
	return get_general(vq, token, len);
}

int vio_vq_get_batch(struct vio_vq *vq, void **tokens, uint32_t *lens, unsigned max)
{
	unsigned k = 0;
	bool more = true;

	if (vio_unlikely(max == 0))
		return 0; /* an empty batch is a no-op */
	if (vio_likely(vq->hot == VIO__HOT_SPLIT))
		k = vio__vq_split_get_batch(vq, tokens, lens, max, &more);
	else if (vq->hot == VIO__HOT_PACKED)
		k = vio__vq_packed_get_batch(vq, tokens, lens, max, &more);
	if (vio_unlikely(more)) {
		/* No fast loop for this queue, or an entry it leaves to the
		 * general get, which returns it or reports the violation. */
		for (; k < max; k++) {
			int rc = vio_vq_get(vq, &tokens[k], &lens[k]);
			if (rc != 0)
				return k != 0 ? (int)k : rc;
		}
	}
	return k != 0 ? (int)k : -VIO_EAGAIN;
}

bool vio_vq_has_used(const struct vio_vq *vq)
{
	if (vq->broken)
		return false;
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_has_used(vq);
	return vio__vq_packed_has_used(vq);
}

void vio_vq_disable_intr(struct vio_vq *vq)
{
	if (vq->format == VIO_RING_SPLIT)
		vio__vq_split_disable_intr(vq);
	else
		vio__vq_packed_disable_intr(vq);
}

static bool enable_intr(struct vio_vq *vq, bool delayed)
{
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_enable_intr(vq, delayed);
	return vio__vq_packed_enable_intr(vq, delayed);
}

bool vio_vq_enable_intr(struct vio_vq *vq)
{
	return enable_intr(vq, false);
}

bool vio_vq_enable_intr_delayed(struct vio_vq *vq)
{
	return enable_intr(vq, true);
}

int vio_vq_detach_unused(struct vio_vq *vq, void **token)
{
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_detach_unused(vq, token);
	return vio__vq_packed_detach_unused(vq, token);
}

unsigned vio_vq_num_free(const struct vio_vq *vq)
{
	return vq->num_free;
}

uint16_t vio_vq_size(const struct vio_vq *vq)
{
	return vq->size;
}

bool vio_vq_is_broken(const struct vio_vq *vq)
{
	return vq->broken != 0;
}

int vio_vq_broken_reason(const struct vio_vq *vq)
{
	return vq->broken;
}

int vio_vq_fail(struct vio_vq *vq, int reason)
{
	if (reason >= 0)
		reason = -VIO_ECOMPLETION;
	/* The first reason wins (vio__vq_fail returns the one it was given). */
	(void)vio__vq_fail(vq, reason);
	return vq->broken;
}
