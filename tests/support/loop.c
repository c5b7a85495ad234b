/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200112L
#include "loop.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct vio_features loop_features(enum vio_ring_format format, bool event_idx, bool indirect)
{
	struct vio_features f = vio_features_none();
	vio_features_set(&f, VIO_F_VERSION_1);
	if (format == VIO_RING_PACKED)
		vio_features_set(&f, VIO_F_RING_PACKED);
	if (event_idx)
		vio_features_set(&f, VIO_F_EVENT_IDX);
	if (indirect)
		vio_features_set(&f, VIO_F_INDIRECT_DESC);
	return f;
}

static void *alloc_aligned(size_t len)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, len ? len : 1) != 0)
		abort();
	memset(p, 0, len);
	return p;
}

void loop_vq_config(const struct loop *l, struct vio_vq_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->format = l->cfg.format;
	cfg->size = l->cfg.size;
	cfg->index = l->cfg.index;
	cfg->features = l->cfg.features;
	cfg->desc = l->desc;
	cfg->driver_area = l->driver_area;
	cfg->device_area = l->device_area;
	if (l->indirect_pool != NULL) {
		cfg->indirect_pool = l->indirect_pool;
		cfg->indirect_max = l->cfg.indirect_max ? l->cfg.indirect_max : l->cfg.size;
	}
	cfg->indirect_min = l->cfg.indirect_min;
	cfg->dma_ops = &gm_drv_ops;
	cfg->dma_ctx = (void *)&l->gm;
}

void loop_devq_config(const struct loop *l, struct vio_devq_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->format = l->cfg.format;
	cfg->size = l->cfg.size;
	cfg->index = l->cfg.index;
	cfg->features = l->cfg.features;
	cfg->desc_addr = l->desc_addr;
	cfg->driver_addr = l->driver_addr;
	cfg->device_addr = l->device_addr;
	cfg->mem_ops = &gm_dev_ops;
	cfg->mem_ctx = (void *)&l->gm;
}

int loop_init(struct loop *l, const struct loop_cfg *cfg)
{
	memset(l, 0, sizeof(*l));
	l->cfg = *cfg;
	gm_init(&l->gm);

	bool split = cfg->format == VIO_RING_SPLIT;
	uint16_t n = cfg->size;
	size_t dsz = split ? vio_split_desc_size(n) : vio_packed_desc_size(n);
	size_t asz = split ? vio_split_avail_size(n) : vio_packed_event_size();
	size_t usz = split ? vio_split_used_size(n) : vio_packed_event_size();
	/* Sizes the library rejects still get some memory, so that the init
	 * calls below report the error. */
	l->desc = gm_alloc(&l->gm, dsz ? dsz : 16, 16, &l->desc_addr);
	l->driver_area = gm_alloc(&l->gm, asz, split ? 2 : 4, &l->driver_addr);
	l->device_area = gm_alloc(&l->gm, usz, 4, &l->device_addr);

	if (vio_features_test(&cfg->features, VIO_F_INDIRECT_DESC) && !cfg->no_indirect_pool &&
	    n > 0) {
		uint16_t max = cfg->indirect_max ? cfg->indirect_max : n;
		uint64_t a;
		l->indirect_pool = gm_alloc(&l->gm, (size_t)n * max * 16u, 16, &a);
	}
	if (cfg->data_bytes > 0)
		l->data = gm_alloc(&l->gm, cfg->data_bytes, 64, &l->data_addr);

	struct vio_vq_config vc;
	loop_vq_config(l, &vc);
	l->vq_mem_size = vio_vq_mem_size(&vc);
	l->vq_mem = alloc_aligned(l->vq_mem_size);
	int rc = vio_vq_init(&l->vq, l->vq_mem, l->vq_mem_size, &vc);
	if (rc == 0)
		rc = loop_devq_reinit(l);
	if (rc != 0) {
		loop_fini(l);
		return rc;
	}
	return 0;
}

int loop_devq_reinit(struct loop *l)
{
	struct vio_devq_config dc;
	loop_devq_config(l, &dc);
	size_t sz = vio_devq_mem_size(l->cfg.format, l->cfg.size);
	void *mem = alloc_aligned(sz);
	/* Fill the new bookkeeping with garbage: init must not rely on zeroes. */
	memset(mem, 0xa5, sz);
	struct vio_devq *q = NULL;
	int rc = vio_devq_init(&q, mem, sz, &dc);
	if (rc != 0) {
		free(mem);
		return rc;
	}
	free(l->dq_mem);
	l->dq_mem = mem;
	l->dq_mem_size = sz;
	l->dq = q;
	return 0;
}

void loop_fini(struct loop *l)
{
	free(l->vq_mem);
	free(l->dq_mem);
	l->vq_mem = NULL;
	l->dq_mem = NULL;
	l->vq = NULL;
	l->dq = NULL;
	gm_free(&l->gm);
}

const char *loop_describe(const struct loop_cfg *cfg, char *buf, size_t len)
{
	snprintf(buf, len, "%s size %u event_idx %d indirect %d (max %u min %u)",
		 cfg->format == VIO_RING_SPLIT ? "split" : "packed", cfg->size,
		 vio_features_test(&cfg->features, VIO_F_EVENT_IDX),
		 vio_features_test(&cfg->features, VIO_F_INDIRECT_DESC), cfg->indirect_max,
		 cfg->indirect_min);
	return buf;
}

void loop_rng_seed(struct loop_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t loop_rng_next(struct loop_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint32_t loop_rng_below(struct loop_rng *r, uint32_t n)
{
	/* Multiply-shift: bias below 2^-32, irrelevant for tests. */
	return (uint32_t)(((loop_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

uint32_t loop_rng_range(struct loop_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + loop_rng_below(r, hi - lo + 1u);
}

bool loop_rng_chance(struct loop_rng *r, unsigned percent)
{
	return loop_rng_below(r, 100) < percent;
}

uint64_t loop_mix(uint64_t a, uint64_t b)
{
	struct loop_rng r = {a ^ (b * 0xd1b54a32d192ed03ull)};
	return loop_rng_next(&r);
}

void loop_pattern_fill(void *buf, size_t len, uint64_t seed)
{
	struct loop_rng r = {seed};
	unsigned char *p = buf;
	size_t i = 0;
	while (i < len) {
		uint64_t v = loop_rng_next(&r);
		for (unsigned k = 0; k < 8 && i < len; k++, i++)
			p[i] = (unsigned char)(v >> (8 * k));
	}
}

size_t loop_pattern_check(const void *buf, size_t len, uint64_t seed)
{
	struct loop_rng r = {seed};
	const unsigned char *p = buf;
	size_t i = 0;
	while (i < len) {
		uint64_t v = loop_rng_next(&r);
		for (unsigned k = 0; k < 8 && i < len; k++, i++)
			if (p[i] != (unsigned char)(v >> (8 * k)))
				return i;
	}
	return len;
}

uint64_t loop_seed_from_env(uint64_t def, bool *from_env)
{
	const char *s = getenv("VIO_TEST_SEED");
	if (from_env != NULL)
		*from_env = false;
	if (s == NULL || *s == '\0')
		return def;
	char *end = NULL;
	unsigned long long v = strtoull(s, &end, 0);
	if (end == s || *end != '\0') {
		fprintf(stderr, "VIO_TEST_SEED=%s is not a number; using 0x%" PRIx64 "\n", s, def);
		return def;
	}
	if (from_env != NULL)
		*from_env = true;
	return (uint64_t)v;
}

unsigned long loop_env_count(const char *name, unsigned long def)
{
	const char *s = getenv(name);
	if (s == NULL || *s == '\0')
		return def;
	char *end = NULL;
	unsigned long v = strtoul(s, &end, 0);
	if (end == s || *end != '\0')
		return def;
	return v;
}
