/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200112L
#include "dev_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dev_env_init(struct dev_env *e, enum vio_ring_format fmt, uint16_t size, bool indirect,
		  size_t arena)
{
	struct loop_cfg cfg;
	memset(e, 0, sizeof(*e));
	memset(&cfg, 0, sizeof(cfg));
	cfg.format = fmt;
	cfg.size = size;
	cfg.features = loop_features(fmt, false, indirect);
	cfg.data_bytes = arena;
	if (loop_init(&e->l, &cfg) != 0) {
		fprintf(stderr, "dev_env_init: loop_init failed\n");
		abort();
	}
	struct vio_devq_config dc;
	loop_devq_config(&e->l, &dc);
	dc.take_long_chains = true;
	size_t sz = vio_devq_mem_size(fmt, size);
	void *mem = NULL;
	if (posix_memalign(&mem, 64, sz) != 0)
		abort();
	struct vio_devq *q = NULL;
	if (vio_devq_init(&q, mem, sz, &dc) != 0) {
		fprintf(stderr, "dev_env_init: vio_devq_init failed\n");
		abort();
	}
	free(e->l.dq_mem);
	e->l.dq_mem = mem;
	e->l.dq_mem_size = sz;
	e->l.dq = q;
}

void dev_env_fini(struct dev_env *e)
{
	loop_fini(&e->l);
}

void *dev_env_alloc(struct dev_env *e, size_t n)
{
	size_t at = (e->used + 63u) & ~(size_t)63u;
	if (at + n > e->l.cfg.data_bytes) {
		fprintf(stderr, "dev_env_alloc: arena exhausted\n");
		abort();
	}
	e->used = at + n;
	memset(e->l.data + at, 0, n);
	return e->l.data + at;
}

void dev_env_free_all(struct dev_env *e)
{
	e->used = 0;
}
