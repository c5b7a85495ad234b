/* SPDX-License-Identifier: MIT */
#include "mmio_pair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static void set_irq(void *ctx, bool level)
{
	struct mmio_pair *p = ctx;
	if (level && !p->line)
		p->raises++;
	p->line = level;
}

static uint64_t rd(struct mmio_pair *p, uint32_t off, unsigned size)
{
	uint64_t v = 0;
	if (vio_mmio_dev_read(p->mmio, off, size, &v) != 0)
		p->refused++;
	if (off >= VIO_MMIO_CONFIG) {
		if (p->ncfg < PAIR_CFG_LOG)
			p->cfg_log[p->ncfg++] =
				(struct pair_cfg_access){off - VIO_MMIO_CONFIG, size};
		if (p->cfg_lie != NULL)
			p->cfg_lie(p->cfg_lie_ctx, off - VIO_MMIO_CONFIG, size, &v);
	}
	return v;
}

static void wr(struct mmio_pair *p, uint32_t off, uint64_t v, unsigned size)
{
	if (vio_mmio_dev_write(p->mmio, off, v, size) != 0)
		p->refused++;
}

static uint32_t r32(void *c, uint32_t off)
{
	return (uint32_t)rd(c, off, 4);
}
static void w32(void *c, uint32_t off, uint32_t v)
{
	wr(c, off, v, 4);
}
static uint16_t r16(void *c, uint32_t off)
{
	return (uint16_t)rd(c, off, 2);
}
static void w16(void *c, uint32_t off, uint16_t v)
{
	wr(c, off, v, 2);
}
static uint8_t r8(void *c, uint32_t off)
{
	return (uint8_t)rd(c, off, 1);
}
static void w8(void *c, uint32_t off, uint8_t v)
{
	wr(c, off, v, 1);
}

static const struct vio_mmio_bus bus = {r32, w32, r8, w8, r16, w16, NULL};

void pair_init(struct mmio_pair *p, struct vio_device_info *info)
{
	memset(p, 0, sizeof(*p));
	gm_init(&p->gm);
	info->regions = NULL;
	info->nregions = 0;
	info->mem_ops = &gm_dev_ops;
	info->mem_ctx = &p->gm;
	size_t n = vio_device_mem_size(info);
	assert_true(n > 0);
	assert_int_equal(posix_memalign(&p->dev_mem, 64, n), 0);
	assert_int_equal(vio_device_init(&p->dev, p->dev_mem, n, info), 0);
	struct vio_mmio_dev_config mc = {0};
	mc.vendor_id = 0x1234;
	mc.set_irq = set_irq;
	mc.irq_ctx = p;
	assert_int_equal(vio_mmio_dev_init(&p->mmio, p->mmio_mem, sizeof(p->mmio_mem), p->dev, &mc),
			 0);
}

void pair_fini(struct mmio_pair *p)
{
	if (p->drv != NULL)
		(void)vio_drv_reset(p->drv);
	for (unsigned i = 0; i < PAIR_MAXQ; i++)
		free(p->vq_mem[i]);
	free(p->drv_mem);
	free(p->dev_mem);
	gm_free(&p->gm);
}

void pair_driver(struct mmio_pair *p, uint16_t nq, uint32_t device_id,
		 const struct vio_features *features, bool packed)
{
	uint32_t window = (uint32_t)vio_mmio_dev_window_size(p->mmio);
	assert_int_equal(vio_mmio_front_probe(&p->front, p->front_mem, sizeof(p->front_mem), &bus,
					      p, window),
			 0);
	struct vio_drv_config dc = {0};
	vio_mmio_front_drv_config(p->front, &dc);
	dc.num_queues = nq;
	dc.device_id = device_id;
	dc.features = features != NULL ? *features : vio_features_none();
	if (packed)
		vio_features_set(&dc.features, VIO_F_RING_PACKED);
	dc.dma_ops = &gm_drv_ops;
	dc.dma_ctx = &p->gm;
	size_t n = vio_drv_mem_size(nq);
	assert_int_equal(posix_memalign(&p->drv_mem, 64, n), 0);
	assert_int_equal(vio_drv_init(&p->drv, p->drv_mem, n, &dc), 0);
}

void pair_queue_config(struct mmio_pair *p, uint16_t q, uint16_t size,
		       struct vio_drv_queue_config *qc)
{
	uint64_t addr;
	assert_true(q < PAIR_MAXQ);
	memset(qc, 0, sizeof(*qc));
	qc->size = size;
	qc->ring = gm_alloc(&p->gm, VIO_DRV_RING_SIZE(size), 16, &addr);
	qc->vq_mem_size = VIO_VQ_MEM_SIZE(size);
	free(p->vq_mem[q]);
	assert_int_equal(posix_memalign(&p->vq_mem[q], 64, qc->vq_mem_size), 0);
	qc->vq_mem = p->vq_mem[q];
}

void *pair_alloc(struct mmio_pair *p, size_t len)
{
	uint64_t addr;
	return gm_alloc(&p->gm, len, 64, &addr);
}

int pair_interrupt(struct mmio_pair *p)
{
	if (!p->line)
		return 0;
	return vio_drv_interrupt(p->drv, NULL);
}

uint8_t pair_status(struct mmio_pair *p)
{
	return vio_device_status(p->dev);
}
