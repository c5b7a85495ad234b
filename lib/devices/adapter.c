/* SPDX-License-Identifier: MIT */
/* Shared queue bookkeeping of the device adapters: see adapter.h. */
#include "adapter.h"

void vio__adapter_init(struct vio__adapter *a, struct vio__adq *q, uint16_t nq,
		       const struct vio_device_runner *runner, void *runner_ctx,
		       int (*process)(void *self, uint16_t q), void *self)
{
	a->runner = runner;
	a->runner_ctx = runner_ctx;
	a->process = process;
	a->self = self;
	a->dev = NULL;
	a->q = q;
	a->nq = nq;
	a->paused = false;
	for (uint16_t i = 0; i < nq; i++) {
		atomic_init(&q[i].live, false);
		q[i].inited = false;
	}
}

static void kick(struct vio__adapter *a, uint16_t q)
{
	if (a->runner != NULL)
		a->runner->kick(a->runner_ctx, q);
	else
		(void)a->process(a->self, q); /* errors reach the device core there */
}

void vio__adapter_start(struct vio__adapter *a, uint16_t q)
{
	if (q >= a->nq || !a->q[q].inited || a->paused)
		return;
	/* Pairs with the acquire in vio__adapter_live(). */
	atomic_store_explicit(&a->q[q].live, true, memory_order_release);
	kick(a, q);
}

void vio__adapter_stop(struct vio__adapter *a, uint16_t q)
{
	if (q >= a->nq)
		return;
	bool was = atomic_exchange_explicit(&a->q[q].live, false, memory_order_acq_rel);
	/* A process call that saw the queue live before the store may still
	 * run: the runner's stop waits for it. One that starts later returns
	 * at once. */
	if (was && a->runner != NULL)
		a->runner->stop(a->runner_ctx, q);
}

void vio__adapter_kick(struct vio__adapter *a, uint16_t q)
{
	if (vio__adapter_live(a, q))
		kick(a, q);
}

void vio__adapter_pause(struct vio__adapter *a)
{
	if (a->paused)
		return;
	for (uint16_t i = 0; i < a->nq; i++)
		vio__adapter_stop(a, i);
	a->paused = true;
}

void vio__adapter_resume(struct vio__adapter *a)
{
	if (!a->paused)
		return;
	a->paused = false;
	for (uint16_t i = 0; i < a->nq; i++)
		vio__adapter_start(a, i);
}

bool vio__adapter_live(const struct vio__adapter *a, uint16_t q)
{
	return q < a->nq && atomic_load_explicit(&a->q[q].live, memory_order_acquire);
}
