/* SPDX-License-Identifier: MIT */
#include "pci_pair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static void set_irq(void *ctx, bool level)
{
	struct pci_pair *p = ctx;
	if (level && !p->line)
		p->raises++;
	p->line = level;
}

static void msix(void *ctx, uint16_t vector, uint64_t addr, uint32_t data)
{
	struct pci_pair *p = ctx;
	if (vector >= PCI_PAIR_MAXVEC || addr != PCI_PAIR_MSI_ADDR + 4u * vector ||
	    data != PCI_PAIR_MSI_DATA + vector) {
		p->msix_bad++;
		return;
	}
	p->msix_fired[vector]++;
	p->msix_total[vector]++;
}

static void cb_config(void *ctx, struct vio_drv *drv)
{
	(void)drv;
	((struct pci_pair *)ctx)->config_changed++;
}

static void cb_reset(void *ctx, struct vio_drv *drv)
{
	(void)drv;
	((struct pci_pair *)ctx)->needs_reset++;
}

static void cb_queue(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq)
{
	(void)drv;
	(void)vq;
	struct pci_pair *p = ctx;
	if (index < PCI_PAIR_MAXQ)
		p->queue_ints[index]++;
}

static const struct vio_drv_callbacks cbs = {NULL, cb_config, cb_reset, cb_queue};

static void refuse(struct pci_pair *p, uint64_t off, unsigned size, int rc)
{
	p->refused++;
	p->refused_off = off;
	p->refused_size = size;
	p->refused_rc = rc;
}

static int cfg_read(void *ctx, uint32_t off, unsigned size, uint32_t *val)
{
	struct pci_pair *p = ctx;
	int rc = vio_pci_dev_cfg_read(p->pci, off, size, val);
	if (rc != 0)
		refuse(p, off, size, rc);
	return rc;
}

static int cfg_write(void *ctx, uint32_t off, unsigned size, uint32_t val)
{
	struct pci_pair *p = ctx;
	int rc = vio_pci_dev_cfg_write(p->pci, off, val, size);
	if (rc != 0)
		refuse(p, off, size, rc);
	return rc;
}

static int bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t *val)
{
	struct pci_pair *p = ctx;
	uint64_t v = 0;
	int rc = vio_pci_dev_bar_read(p->pci, bar, off, size, &v);
	if (rc != 0)
		refuse(p, off, size, rc);
	*val = (uint32_t)v;
	return rc;
}

static int bar_write(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t val)
{
	struct pci_pair *p = ctx;
	int rc = vio_pci_dev_bar_write(p->pci, bar, off, val, size);
	if (rc != 0)
		refuse(p, off, size, rc);
	return rc;
}

const struct vio_pci_bus pci_pair_bus = {cfg_read, cfg_write, bar_read, bar_write, NULL};

void pci_pair_model_config(struct pci_pair *p, struct vio_pci_dev_config *pc)
{
	pc->set_irq = set_irq;
	pc->msix = msix;
	pc->irq_ctx = p;
}

void pci_pair_init(struct pci_pair *p, struct vio_device_info *info, uint16_t nvec)
{
	struct vio_pci_dev_config pc = {0};
	pc.msix_vectors = nvec;
	pci_pair_init_with(p, info, &pc);
}

void pci_pair_init_with(struct pci_pair *p, struct vio_device_info *info,
			const struct vio_pci_dev_config *cfg)
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
	struct vio_pci_dev_config pc = *cfg;
	pci_pair_model_config(p, &pc);
	n = vio_pci_dev_mem_size(&pc);
	assert_true(n > 0 && n <= VIO_PCI_DEV_MEM_SIZE(pc.msix_vectors));
	assert_int_equal(posix_memalign(&p->pci_mem, VIO_PCI_DEV_MEM_ALIGN, n), 0);
	assert_int_equal(vio_pci_dev_init(&p->pci, p->pci_mem, n, p->dev, &pc), 0);
}

void pci_pair_fini(struct pci_pair *p)
{
	if (p->drv != NULL)
		(void)vio_drv_reset(p->drv);
	for (unsigned i = 0; i < PCI_PAIR_MAXQ; i++)
		free(p->vq_mem[i]);
	free(p->drv_mem);
	free(p->front_mem);
	free(p->pci_mem);
	free(p->dev_mem);
	gm_free(&p->gm);
}

void pci_pair_driver(struct pci_pair *p, uint16_t nq, uint32_t device_id,
		     const struct vio_features *features, bool packed, bool vectors)
{
	struct vio_pci_window win = {PCI_PAIR_WINDOW, 0x10000000u, 0, 0};
	assert_int_equal(vio_pci_front_assign_bars(&pci_pair_bus, p, &win, &p->bars), 0);
	struct vio_pci_front_config fc = {0};
	for (unsigned b = 0; b < VIO_PCI_NUM_BARS; b++)
		if (p->bars.bar[b].assigned)
			fc.bar_size[b] = p->bars.bar[b].size;
	fc.queue_slots = nq;
	size_t n = vio_pci_front_mem_size(nq);
	assert_int_equal(posix_memalign(&p->front_mem, VIO_PCI_FRONT_MEM_ALIGN, n), 0);
	assert_int_equal(vio_pci_front_probe(&p->front, p->front_mem, n, &pci_pair_bus, p, &fc), 0);
	struct vio_drv_config dc = {0};
	vio_pci_front_drv_config(p->front, &dc);
	dc.num_queues = nq;
	dc.device_id = device_id;
	dc.features = features != NULL ? *features : vio_features_none();
	if (packed)
		vio_features_set(&dc.features, VIO_F_RING_PACKED);
	dc.dma_ops = &gm_drv_ops;
	dc.dma_ctx = &p->gm;
	dc.cb = &cbs;
	dc.cb_ctx = p;
	if (vectors) {
		struct vio_pci_msix_info mi;
		assert_int_equal(vio_pci_front_msix(p->front, &mi), 0);
		for (uint16_t v = 0; v < mi.table_size; v++)
			assert_int_equal(vio_pci_front_msix_set_entry(p->front, v,
								      PCI_PAIR_MSI_ADDR + 4u * v,
								      PCI_PAIR_MSI_DATA + v, false),
					 0);
		assert_int_equal(vio_pci_front_msix_enable(p->front, true), 0);
		dc.use_vectors = true;
		dc.config_vector = 0;
	}
	n = vio_drv_mem_size(nq);
	assert_int_equal(posix_memalign(&p->drv_mem, 64, n), 0);
	assert_int_equal(vio_drv_init(&p->drv, p->drv_mem, n, &dc), 0);
}

void pci_pair_queue_config(struct pci_pair *p, uint16_t q, uint16_t size,
			   struct vio_drv_queue_config *qc)
{
	uint64_t addr;
	assert_true(q < PCI_PAIR_MAXQ);
	memset(qc, 0, sizeof(*qc));
	qc->size = size;
	qc->ring = gm_alloc(&p->gm, VIO_DRV_RING_SIZE(size), 16, &addr);
	qc->vq_mem_size = VIO_VQ_MEM_SIZE(size);
	free(p->vq_mem[q]);
	assert_int_equal(posix_memalign(&p->vq_mem[q], 64, qc->vq_mem_size), 0);
	qc->vq_mem = p->vq_mem[q];
	qc->vector = (uint16_t)(q + 1u);
}

void *pci_pair_alloc(struct pci_pair *p, size_t len)
{
	uint64_t addr;
	return gm_alloc(&p->gm, len, 64, &addr);
}

int pci_pair_interrupt(struct pci_pair *p)
{
	int first = 0;
	for (uint16_t v = 0; v < PCI_PAIR_MAXVEC; v++) {
		while (p->msix_fired[v] > 0) {
			p->msix_fired[v]--;
			if (v == 0) {
				int rc = vio_drv_config_interrupt(p->drv);
				if (rc != 0 && first == 0)
					first = rc;
			} else {
				vio_drv_queue_interrupt(p->drv, (uint16_t)(v - 1u));
			}
		}
	}
	if (p->line) {
		int rc = vio_drv_interrupt(p->drv, NULL);
		if (rc != 0 && first == 0)
			first = rc;
	}
	return first;
}

uint8_t pci_pair_status(struct pci_pair *p)
{
	return vio_device_status(p->dev);
}
