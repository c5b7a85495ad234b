/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200112L
#include "guest_mem.h"

#include <stdlib.h>
#include <string.h>

#include <virtio/errors.h>

void gm_init(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->next_addr = 0x10000000ull;
}

void gm_add(struct guest_mem *gm, uint64_t addr, void *host, size_t len, unsigned dirs)
{
	if (gm->n >= GM_MAX_REGIONS)
		abort();
	gm->r[gm->n].addr = addr;
	gm->r[gm->n].host = host;
	gm->r[gm->n].len = len;
	gm->r[gm->n].dirs = dirs;
	gm->n++;
}

void *gm_alloc(struct guest_mem *gm, size_t len, size_t align, uint64_t *addr)
{
	void *p = NULL;
	size_t rounded = (len + align - 1) & ~(align - 1);
	if (rounded == 0)
		rounded = align;
	if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, rounded) != 0)
		abort();
	memset(p, 0, rounded);
	uint64_t a = (gm->next_addr + 4095u) & ~(uint64_t)4095u;
	gm->next_addr = a + rounded + 0x10000u; /* a gap nobody owns */
	gm->alloc[gm->n] = p;
	gm_add(gm, a, p, len, VIO_MAP_RW);
	*addr = a;
	return p;
}

void gm_free(struct guest_mem *gm)
{
	for (unsigned i = 0; i < GM_MAX_REGIONS; i++) {
		free(gm->alloc[i]);
		gm->alloc[i] = NULL;
	}
	gm->n = 0;
}

uint64_t gm_addr_of(const struct guest_mem *gm, const void *host)
{
	const unsigned char *h = host;
	for (unsigned i = 0; i < gm->n; i++) {
		const struct gm_region *r = &gm->r[i];
		if (h >= r->host && h <= r->host + r->len)
			return r->addr + (uint64_t)(h - r->host);
	}
	return 0;
}

static int gm_map(void *ctx, uint64_t addr, uint64_t len, enum vio_map_dir dir,
		  struct vio_mapping *m)
{
	struct guest_mem *gm = ctx;
	gm->map_calls++;
	if (!gm->refuse_all) {
		for (unsigned i = 0; i < gm->n; i++) {
			const struct gm_region *r = &gm->r[i];
			if (addr >= r->addr && addr - r->addr < r->len && (dir & ~r->dirs) == 0) {
				/* Up to the region's end: a range running on into
				 * an adjacent region is asked for again from there. */
				uint64_t room = r->len - (addr - r->addr);
				m->host = r->host + (addr - r->addr);
				m->len = len < room ? len : room;
				m->release = false;
				return 0;
			}
		}
	}
	gm->map_refusals++;
	return -VIO_EMAP;
}

static int gm_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			uint64_t *addr)
{
	struct guest_mem *gm = ctx;
	(void)dir;
	const unsigned char *h = ptr;
	for (unsigned i = 0; i < gm->n; i++) {
		const struct gm_region *r = &gm->r[i];
		if (h >= r->host && (size_t)(h - r->host) <= r->len &&
		    len <= r->len - (size_t)(h - r->host)) {
			*addr = r->addr + (uint64_t)(h - r->host);
			return 0;
		}
	}
	return -VIO_EINVAL;
}

const struct vio_mem_ops gm_dev_ops = {gm_map, NULL, NULL};
const struct vio_dma_ops gm_drv_ops = {gm_to_device, NULL};
