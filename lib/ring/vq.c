/* SPDX-License-Identifier: MIT */
/* Driver queue: set-up, the public API and its split/packed dispatch. */
#include "vq_impl.h"

const char vio__midchain_marker = 0;

size_t vio_vq_mem_size(enum vio_ring_format format, uint16_t size)
{
	if (!vio__ring_size_ok(format, size))
		return 0;
	return sizeof(struct vio_vq) + (size_t)size * sizeof(struct vio__vq_slot);
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
}

int vio_vq_init(struct vio_vq **vqp, void *mem, size_t mem_size, const struct vio_vq_config *cfg)
{
	if (vqp == NULL || mem == NULL || cfg == NULL || !aligned(mem, VIO_VQ_MEM_ALIGN))
		return -VIO_EINVAL;
	size_t need = vio_vq_mem_size(cfg->format, cfg->size);
	if (need == 0 || mem_size < need || !areas_ok(cfg))
		return -VIO_EINVAL;
	bool indirect = vio_features_test(&cfg->features, VIO_F_INDIRECT_DESC) &&
			cfg->indirect_pool != NULL && cfg->indirect_max > 0;
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
	vq->mem_ops = cfg->mem_ops;
	vq->mem_ctx = cfg->mem_ctx;
	vq_setup(vq);
	*vqp = vq;
	return 0;
}

void vio_vq_reset(struct vio_vq *vq)
{
	vq_setup(vq);
}

int vio_vq_ring_addrs(const struct vio_vq *vq, uint64_t *desc, uint64_t *driver, uint64_t *device)
{
	const struct vio_vq_config *c = &vq->cfg;
	bool split = c->format == VIO_RING_SPLIT;
	size_t dsz = split ? vio_split_desc_size(vq->size) : vio_packed_desc_size(vq->size);
	size_t asz = split ? vio_split_avail_size(vq->size) : vio_packed_event_size();
	size_t usz = split ? vio_split_used_size(vq->size) : vio_packed_event_size();
	int rc = vio__vq_to_device(vq, c->desc, dsz, desc);
	if (rc == 0)
		rc = vio__vq_to_device(vq, c->driver_area, asz, driver);
	if (rc == 0)
		rc = vio__vq_to_device(vq, c->device_area, usz, device);
	return rc;
}

int vio_vq_add(struct vio_vq *vq, const struct vio_sg *sg, unsigned out, unsigned in, void *token)
{
	if (vio_unlikely(vq->broken))
		return -VIO_EBROKEN;
	if (vio_unlikely(out + in == 0 || out + in < out || token == NULL || sg == NULL))
		return -VIO_EINVAL;
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_add(vq, sg, out, in, token);
	return vio__vq_packed_add(vq, sg, out, in, token);
}

bool vio_vq_kick_prepare(struct vio_vq *vq)
{
	if (vio_unlikely(vq->broken))
		return false;
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_kick_prepare(vq);
	return vio__vq_packed_kick_prepare(vq);
}

uint32_t vio_vq_notify_data(const struct vio_vq *vq)
{
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_notify_data(vq);
	return vio__vq_packed_notify_data(vq);
}

int vio_vq_get(struct vio_vq *vq, void **token, uint32_t *len)
{
	if (vio_unlikely(vq->broken))
		return -VIO_EBROKEN;
	if (vq->format == VIO_RING_SPLIT)
		return vio__vq_split_get(vq, token, len);
	return vio__vq_packed_get(vq, token, len);
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
