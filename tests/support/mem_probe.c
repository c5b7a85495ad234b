/* SPDX-License-Identifier: MIT */
#include "mem_probe.h"

#include <stdlib.h>
#include <string.h>

#include <virtio/errors.h>

void mp_init(struct mem_probe *p, struct guest_mem *gm)
{
	memset(p, 0, sizeof(*p));
	p->gm = gm;
	for (unsigned i = 0; i < gm->n; i++) {
		p->logged[i] = calloc(1, gm->r[i].len ? gm->r[i].len : 1);
		p->snap[i] = calloc(1, gm->r[i].len ? gm->r[i].len : 1);
		if (p->logged[i] == NULL || p->snap[i] == NULL)
			abort();
	}
}

void mp_fini(struct mem_probe *p)
{
	for (unsigned i = 0; i < p->nmaps; i++)
		if (p->maps[i].live && p->maps[i].bounce)
			free(p->maps[i].host);
	for (unsigned i = 0; i < GM_MAX_REGIONS; i++) {
		free(p->logged[i]);
		free(p->snap[i]);
		p->logged[i] = NULL;
		p->snap[i] = NULL;
	}
}

static int find_region(const struct guest_mem *gm, uint64_t addr)
{
	for (unsigned i = 0; i < gm->n; i++)
		if (addr >= gm->r[i].addr && addr - gm->r[i].addr < gm->r[i].len)
			return (int)i;
	return -1;
}

static int mp_map(void *ctx, uint64_t addr, uint64_t len, enum vio_map_dir dir,
		  struct vio_mapping *m)
{
	struct mem_probe *p = ctx;
	p->map_calls++;
	if (p->again_skip != 0) {
		p->again_skip--;
	} else if (p->again != 0) {
		p->again--;
		p->agains++;
		return -VIO_EMAP_AGAIN;
	}
	int i = p->refuse_all ? -1 : find_region(p->gm, addr);
	if (i < 0 || ((unsigned)dir & ~p->gm->r[i].dirs) != 0) {
		p->refusals++;
		return -VIO_EMAP;
	}
	const struct gm_region *r = &p->gm->r[i];
	uint64_t room = r->len - (addr - r->addr);
	uint64_t n = len < room ? len : room;
	if (p->grant_max != 0 && n > p->grant_max)
		n = p->grant_max;
	unsigned char *real = r->host + (addr - r->addr);
	bool bounce = p->bounce && (unsigned)i >= p->nring;
	m->host = real;
	m->len = n;
	m->release = p->release || bounce;
	if (bounce) {
		m->host = malloc((size_t)n);
		if (m->host == NULL)
			abort();
		memcpy(m->host, real, (size_t)n);
	}
	p->grants++;
	if (m->release) {
		if (p->nmaps >= MP_MAX_MAPS)
			abort();
		p->maps[p->nmaps++] = (struct mp_map){m->host, real, addr, n, dir, bounce, true};
		p->live++;
	}
	return 0;
}

static void mp_release(void *ctx, void *host, uint64_t addr, uint64_t len, enum vio_map_dir dir)
{
	struct mem_probe *p = ctx;
	for (unsigned i = 0; i < p->nmaps; i++) {
		struct mp_map *m = &p->maps[i];
		if (!m->live || m->host != host || m->addr != addr || m->len != len ||
		    m->dir != (unsigned)dir)
			continue;
		if (p->on_release != NULL)
			p->on_release(p->on_release_arg, m);
		m->live = false;
		p->live--;
		p->releases++;
		if (m->bounce) {
			if (m->dir & VIO_MAP_WRITE)
				memcpy(m->real, m->host, (size_t)m->len);
			free(m->host);
		}
		return;
	}
	p->bad_releases++;
}

static void mp_log(void *ctx, uint64_t addr, uint64_t len)
{
	struct mem_probe *p = ctx;
	p->log_calls++;
	for (uint64_t k = 0; k < len; k++) {
		int i = find_region(p->gm, addr + k);
		if (i < 0) {
			p->log_outside++;
			return;
		}
		p->logged[i][addr + k - p->gm->r[i].addr] = 1;
	}
}

const struct vio_mem_ops mp_ops = {mp_map, mp_release, mp_log};
const struct vio_mem_ops mp_ops_nomap = {NULL, mp_release, mp_log};

void mp_snap(struct mem_probe *p)
{
	for (unsigned i = 0; i < p->gm->n; i++) {
		memset(p->logged[i], 0, p->gm->r[i].len);
		memcpy(p->snap[i], p->gm->r[i].host, p->gm->r[i].len);
	}
}

size_t mp_logged_in(const struct mem_probe *p, uint64_t addr, uint64_t len)
{
	size_t n = 0;
	for (unsigned i = 0; i < p->gm->n; i++) {
		const struct gm_region *r = &p->gm->r[i];
		for (size_t b = 0; b < r->len; b++)
			if (p->logged[i][b] && r->addr + b >= addr && r->addr + b - addr < len)
				n++;
	}
	return n;
}

bool mp_logged(const struct mem_probe *p, uint64_t addr, uint64_t len)
{
	return mp_logged_in(p, addr, len) == len;
}

size_t mp_logged_bytes(const struct mem_probe *p)
{
	size_t n = 0;
	for (unsigned i = 0; i < p->gm->n; i++)
		for (size_t b = 0; b < p->gm->r[i].len; b++)
			n += p->logged[i][b];
	return n;
}

bool mp_changed_unlogged(const struct mem_probe *p, uint64_t *addr)
{
	for (unsigned i = 0; i < p->gm->n; i++) {
		const struct gm_region *r = &p->gm->r[i];
		for (size_t b = 0; b < r->len; b++) {
			if (r->host[b] != p->snap[i][b] && !p->logged[i][b]) {
				*addr = r->addr + b;
				return true;
			}
		}
	}
	return false;
}

uint32_t mp_table(const struct mem_probe *p, struct vio_mem_region *t, uint32_t max)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < p->gm->n && n < max; i++, n++)
		t[n] = (struct vio_mem_region){p->gm->r[i].addr, p->gm->r[i].len, p->gm->r[i].host,
					       p->gm->r[i].dirs};
	return n;
}
