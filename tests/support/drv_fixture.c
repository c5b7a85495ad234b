/* SPDX-License-Identifier: MIT */
#include "drv_fixture.h"

#include <string.h>

static int fx_validate(void *ctx, struct vio_drv *drv, struct vio_features *f)
{
	struct fx *x = ctx;
	x->validate_calls++;
	if (x->validate_reads_config)
		x->validate_config_rc = vio_drv_config_read(drv, 0, 4, &x->validate_config_value);
	for (unsigned w = 0; w < VIO_FEATURE_WORDS; w++) {
		f->w[w] &= ~x->validate_clear.w[w];
		f->w[w] |= x->validate_set.w[w];
	}
	return x->validate_rc;
}

static void fx_config_changed(void *ctx, struct vio_drv *drv)
{
	(void)drv;
	((struct fx *)ctx)->config_changed_calls++;
}

static void fx_needs_reset(void *ctx, struct vio_drv *drv)
{
	(void)drv;
	((struct fx *)ctx)->needs_reset_calls++;
}

static void fx_queue_interrupt(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq)
{
	(void)drv;
	(void)vq;
	struct fx *x = ctx;
	if (index < FX_QUEUES)
		x->queue_irq[index]++;
}

void fx_init(struct fx *x, uint32_t id, unsigned nq, uint32_t qmax)
{
	memset(x, 0, sizeof(*x));
	fake_mmio_init(&x->m, id, nq, qmax);
	x->cb.validate = fx_validate;
	x->cb.config_changed = fx_config_changed;
	x->cb.needs_reset = fx_needs_reset;
	x->cb.queue_interrupt = fx_queue_interrupt;
	x->cfg.num_queues = FX_QUEUES;
	x->cfg.cb = &x->cb;
	x->cfg.cb_ctx = x;
	x->cfg.reset_polls = 50;
	x->cfg.config_retries = 8;
}

int fx_start(struct fx *x)
{
	int rc = vio_mmio_front_probe(&x->front, x->front_mem, sizeof(x->front_mem), &fake_mmio_bus,
				      &x->m, x->m.window);
	if (rc < 0)
		return rc;
	vio_mmio_front_drv_config(x->front, &x->cfg);
	return vio_drv_init(&x->drv, x->drv_mem, sizeof(x->drv_mem), &x->cfg);
}

int fx_negotiate(struct fx *x)
{
	int rc = fx_start(x);
	return rc < 0 ? rc : vio_drv_negotiate(x->drv);
}

void fx_queue_config(struct fx *x, unsigned i, uint16_t size, struct vio_drv_queue_config *qc)
{
	memset(qc, 0, sizeof(*qc));
	qc->size = size;
	qc->ring = x->qm[i].ring;
	qc->vq_mem = x->qm[i].vq;
	qc->vq_mem_size = sizeof(x->qm[i].vq);
}

int fx_live(struct fx *x)
{
	int rc = fx_negotiate(x);
	if (rc < 0)
		return rc;
	struct vio_drv_queue_config qc;
	fx_queue_config(x, 0, FX_QSIZE, &qc);
	rc = vio_drv_queue_setup(x->drv, 0, &qc, NULL);
	if (rc < 0)
		return rc;
	return vio_drv_ready(x->drv);
}

bool fx_failed_written(const struct fx *x)
{
	return x->m.nstatus > 0 && (x->m.status_log[x->m.nstatus - 1] & VIO_STATUS_FAILED) != 0 &&
	       (x->m.status & VIO_STATUS_FAILED) != 0;
}
