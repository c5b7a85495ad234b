/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora fuzz/corpus/<target>/seed-NNN: well-formed inputs
 * from valid traffic. The device-half seeds come from a real driver queue
 * (vio_vq) and a real device queue (vio_devq) talking through the same region
 * layout the harness builds; every byte the driver writes becomes a "driver
 * write" action, every device call the matching action. Deterministic.
 *
 *   cc -Iinclude -Ilib -Ifuzz fuzz/gen_corpus.c fuzz/(input guarded_mem
 *      invariants ring_geom engine_devq engine_vq).c lib/errors.c
 *      lib/ring/(every .c) -o gen_corpus && ./gen_corpus fuzz/corpus
 * (fuzz/README.md has the exact command.)
 */
#define _POSIX_C_SOURCE 200809L

#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------ */
/* Output buffer and files                                                   */
/* ------------------------------------------------------------------------ */

#define OUT_MAX (64 * 1024)

struct out {
	uint8_t b[OUT_MAX];
	size_t n;
	unsigned actions;
};

static void w8(struct out *o, unsigned v)
{
	if (o->n >= OUT_MAX) {
		fprintf(stderr, "gen_corpus: seed too large\n");
		exit(1);
	}
	o->b[o->n++] = (uint8_t)v;
}

static void w16(struct out *o, unsigned v)
{
	w8(o, v & 0xffu);
	w8(o, (v >> 8) & 0xffu);
}

/* An action byte; false once the harness would stop reading actions. */
static bool act(struct out *o, unsigned op)
{
	if (o->actions >= FZ_MAX_ACTIONS)
		return false;
	o->actions++;
	w8(o, op);
	return true;
}

static const char *root = "fuzz/corpus";

static void mkdir_p(const char *path)
{
	if (mkdir(path, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "gen_corpus: mkdir %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

static void save(const char *target, unsigned idx, const struct out *o)
{
	char dir[512], path[600];
	snprintf(dir, sizeof(dir), "%s/%s", root, target);
	mkdir_p(root);
	mkdir_p(dir);
	snprintf(path, sizeof(path), "%s/seed-%03u", dir, idx);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(o->b, 1, o->n, f) != o->n || fclose(f) != 0) {
		fprintf(stderr, "gen_corpus: cannot write %s\n", path);
		exit(1);
	}
}

static uint32_t rng_state;

static uint32_t rnd(void)
{
	uint32_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

static unsigned below(unsigned n)
{
	return n != 0 ? rnd() % n : 0;
}

static unsigned log2u(unsigned v)
{
	unsigned l = 0;
	while ((1u << l) < v)
		l++;
	return l;
}

/* ------------------------------------------------------------------------ */
/* fuzz_devq_split / fuzz_devq_packed: a driver and a device on real rings   */
/* ------------------------------------------------------------------------ */

#define GD_DATA_LEN 4096
#define GD_MAX_REGIONS 16

struct gen_devq {
	enum vio_ring_format fmt;
	uint16_t size;
	uint8_t feat;
	struct fz_mem m;
	unsigned nregions;
	unsigned data_first, data_n;	     /* the data region's pieces */
	unsigned char *snap[GD_MAX_REGIONS]; /* copies of the regions the driver writes */
	struct vio_vq *vq;
	void *vqmem;
	struct vio_devq *dq;
	void *dqmem;
	struct vio_chain held[FZ_MAX_ACTIONS];
	struct vio_chain_seg *hsegs[FZ_MAX_ACTIONS];
	struct vio_packed_desc *hcopy[FZ_MAX_ACTIONS];
	unsigned nheld;
	unsigned tokens;
	unsigned outstanding;
	bool extra_ops; /* use the 0.2 ops (drop, log, misuse, save/repop, ...) */
	bool pop2;	/* some pops as FZ_DQ_POP2 (vio_devq_pop_batch of two) */
	bool whole;	/* each chain in one piece, no empty buffer: the chain walks */
	struct out o;
};

static void gd_snapshot(struct gen_devq *g)
{
	for (unsigned i = 0; i < g->nregions; i++)
		memcpy(g->snap[i], g->m.r[i].host, g->m.r[i].len);
}

/* Emit what the driver changed since the snapshot as driver writes. */
static void gd_emit_driver_writes(struct gen_devq *g)
{
	for (unsigned i = 0; i < g->nregions; i++) {
		const struct fz_region *r = &g->m.r[i];
		size_t j = 0;
		while (j < r->len) {
			if (r->host[j] == g->snap[i][j]) {
				j++;
				continue;
			}
			size_t k = 1;
			while (k < 16 && j + k < r->len && r->host[j + k] != g->snap[i][j + k])
				k++;
			if (!act(&g->o, FZ_DQ_DRV_WRITE))
				return;
			w8(&g->o, i);
			w16(&g->o, (unsigned)j);
			w8(&g->o, (unsigned)(k - 1));
			for (size_t b = 0; b < k; b++)
				w8(&g->o, r->host[j + b]);
			j += k;
		}
	}
}

static void gd_add(struct gen_devq *g)
{
	unsigned out = below(3), in = below(3);
	if (out + in == 0)
		out = 1;
	struct vio_sg sg[6];
	const struct fz_region *piece = g->whole ? &g->m.r[g->data_first + below(g->data_n)] : NULL;
	for (unsigned i = 0; i < out + in; i++) {
		/* Inside one piece of the data region (one host block); with
		 * g->whole the same piece for the whole chain, and no empty
		 * buffer, so that the device's chain walks take it. */
		const struct fz_region *r =
			g->whole ? piece : &g->m.r[g->data_first + below(g->data_n)];
		size_t off = below((unsigned)r->len - (g->whole ? 1u : 0u));
		size_t room = r->len - off;
		uint32_t len = !g->whole && below(5) == 0 ? 0 : 1u + below(200);
		sg[i].len = len < room ? len : (uint32_t)room;
		sg[i].addr = r->host + off;
	}
	gd_snapshot(g);
	int rc = vio_vq_add(g->vq, sg, out, in, (void *)(uintptr_t)(++g->tokens));
	if (rc == 0) {
		g->outstanding++;
		gd_emit_driver_writes(g);
	}
}

static void gd_get_all(struct gen_devq *g)
{
	for (;;) {
		void *t;
		uint32_t len;
		gd_snapshot(g);
		int rc = vio_vq_get(g->vq, &t, &len);
		gd_emit_driver_writes(g);
		if (rc != 0)
			break;
		g->outstanding--;
	}
}

static void gd_driver_call(struct gen_devq *g, unsigned what)
{
	gd_snapshot(g);
	switch (what) {
	case 0:
		vio_vq_kick_prepare(g->vq);
		break;
	case 1:
		vio_vq_disable_intr(g->vq);
		break;
	case 2:
		vio_vq_enable_intr(g->vq);
		break;
	default:
		vio_vq_enable_intr_delayed(g->vq);
		break;
	}
	gd_emit_driver_writes(g);
}

static void gd_keep(struct gen_devq *g, const struct vio_chain *c, struct vio_chain_seg *segs,
		    struct vio_packed_desc *copy)
{
	g->held[g->nheld] = *c;
	g->hsegs[g->nheld] = segs;
	g->hcopy[g->nheld] = copy;
	g->nheld++;
}

static void gd_pop(struct gen_devq *g)
{
	if (!act(&g->o, FZ_DQ_POP))
		return;
	w8(&g->o, 0); /* a full array */
	struct vio_chain_seg *segs = malloc(g->size * sizeof(*segs));
	struct vio_chain c;
	if (segs == NULL)
		abort();
	fz_mem_grants_begin(&g->m);
	int rc = vio_devq_pop(g->dq, &c, segs, g->size);
	fz_mem_grants_end(&g->m);
	if (rc == 0) {
		struct vio_packed_desc *copy = NULL;
		if (g->fmt == VIO_RING_PACKED) {
			/* As the harness does: the descriptors as popped. */
			copy = malloc(c.ndesc * sizeof(*copy));
			if (copy == NULL)
				abort();
			for (unsigned k = 0; k < c.ndesc; k++)
				memcpy(&copy[k], g->m.r[0].host + 16u * ((c.head + k) % g->size),
				       16);
		}
		gd_keep(g, &c, segs, copy);
	} else if (rc != -VIO_EAGAIN) {
		abort();
	} else {
		free(segs);
	}
}

/* FZ_DQ_POP2, as the harness makes it: vio_devq_pop_batch() with room for
 * two chains, each kept with a segment array of its own. */
static void gd_pop2(struct gen_devq *g)
{
	if (!act(&g->o, FZ_DQ_POP2))
		return;
	w8(&g->o, 0); /* a full array */
	struct vio_chain_seg *segs = malloc(2u * g->size * sizeof(*segs));
	struct vio_chain c[2];
	if (segs == NULL)
		abort();
	fz_mem_grants_begin(&g->m);
	int rc = vio_devq_pop_batch(g->dq, c, segs, g->size, 2);
	fz_mem_grants_end(&g->m);
	if (rc == -VIO_EAGAIN) {
		free(segs);
		return;
	}
	if (rc < 1)
		abort();
	for (int k = 0; k < rc; k++) {
		struct vio_chain_seg *own = segs;
		if (k == 1) {
			own = malloc(g->size * sizeof(*own));
			if (own == NULL)
				abort();
			memcpy(own, segs + g->size, g->size * sizeof(*own));
			c[1].segs = own;
		}
		struct vio_packed_desc *copy = NULL;
		if (g->fmt == VIO_RING_PACKED) {
			copy = malloc(c[k].ndesc * sizeof(*copy));
			if (copy == NULL)
				abort();
			for (unsigned j = 0; j < c[k].ndesc; j++)
				memcpy(&copy[j], g->m.r[0].host + 16u * ((c[k].head + j) % g->size),
				       16);
		}
		gd_keep(g, &c[k], own, copy);
	}
}

static void gd_remove_held(struct gen_devq *g, unsigned i)
{
	free(g->hsegs[i]);
	free(g->hcopy[i]);
	memmove(&g->held[i], &g->held[i + 1], (g->nheld - i - 1) * sizeof(g->held[0]));
	memmove(&g->hsegs[i], &g->hsegs[i + 1], (g->nheld - i - 1) * sizeof(g->hsegs[0]));
	memmove(&g->hcopy[i], &g->hcopy[i + 1], (g->nheld - i - 1) * sizeof(g->hcopy[0]));
	g->nheld--;
}

static void gd_push(struct gen_devq *g)
{
	if (g->nheld == 0)
		return;
	unsigned i = below(g->nheld);
	if (g->feat & FZ_FEAT_IN_ORDER)
		i = 0;
	if (!act(&g->o, FZ_DQ_PUSH))
		return;
	w8(&g->o, i);
	w8(&g->o, 1); /* written: all writable bytes */
	if (vio_devq_push(g->dq, &g->held[i], g->held[i].in_bytes) != 0)
		abort();
	gd_remove_held(g, i);
}

static void gd_push_batch(struct gen_devq *g)
{
	if (g->nheld == 0)
		return;
	unsigned n = 1u + below(g->nheld < 8 ? g->nheld : 8);
	bool one = (g->feat & FZ_FEAT_IN_ORDER) && below(2);
	if (!act(&g->o, FZ_DQ_PUSH_BATCH))
		return;
	w8(&g->o, n - 1);
	w8(&g->o, one ? 0x41 : 0x01);
	struct vio_used u[8];
	for (unsigned j = 0; j < n; j++) {
		w8(&g->o, 0); /* the oldest not taken yet */
		u[j].chain = &g->held[j];
		u[j].len = g->held[j].in_bytes;
	}
	int rc = one ? vio_devq_push_in_order(g->dq, u, n) : vio_devq_push_batch(g->dq, u, n);
	if (rc != 0)
		abort();
	for (unsigned j = 0; j < n; j++)
		gd_remove_held(g, 0);
}

/* Save the state with chains held, drop them, restore, re-submit them (the
 * harness's FZ_DQ_SAVE_REPOP, in pop order). */
static void gd_save_repop(struct gen_devq *g)
{
	if (!act(&g->o, FZ_DQ_SAVE_REPOP))
		return;
	w8(&g->o, 0);
	unsigned n = g->nheld;
	struct vio_chain old[FZ_MAX_ACTIONS];
	struct vio_packed_desc *copy[FZ_MAX_ACTIONS];
	for (unsigned i = 0; i < n; i++) {
		if (vio_devq_drop(g->dq, &g->held[i]) != 0)
			abort();
		old[i] = g->held[i];
		copy[i] = g->hcopy[i];
		free(g->hsegs[i]);
	}
	g->nheld = 0;
	struct vio_ring_state st;
	vio_devq_get_state(g->dq, &st);
	if (vio_devq_set_state(g->dq, &st) != 0)
		abort();
	for (unsigned i = 0; i < n; i++) {
		struct vio_chain_seg *segs = malloc(g->size * sizeof(*segs));
		struct vio_chain c;
		if (segs == NULL)
			abort();
		fz_mem_grants_begin(&g->m);
		int rc = g->fmt == VIO_RING_SPLIT
				 ? vio_devq_repop(g->dq, old[i].id, &c, segs, g->size)
				 : vio_devq_repop_packed(g->dq, copy[i], old[i].ndesc, &c, segs,
							 g->size);
		fz_mem_grants_end(&g->m);
		if (rc != 0)
			abort();
		gd_keep(g, &c, segs, copy[i]);
	}
}

/* 0.2 ops with no effect on the generator's queue (the harness checks
 * them): a re-cut region table, a logged model write, push misuse. */
static void gd_misc(struct gen_devq *g)
{
	switch (below(4)) {
	case 0:
		if (act(&g->o, FZ_DQ_SET_MEM_TABLE))
			w8(&g->o, below(256));
		break;
	case 1:
		if (act(&g->o, FZ_DQ_LOG_WRITE)) {
			w8(&g->o, below(8));
			w8(&g->o, below(4));
			w16(&g->o, below(300));
			w8(&g->o, below(32));
		}
		break;
	case 2:
		if (act(&g->o, FZ_DQ_PUSH_MISUSE)) {
			w8(&g->o, below(8));
			w8(&g->o, below(4));
			w8(&g->o, below(256));
		}
		break;
	default:
		/* Not with IN_ORDER: a later used entry would tell the
		 * driver the dropped chain is done too, and it would offer
		 * that id again while the device still counts it. */
		if (g->nheld != 0 && !(g->feat & FZ_FEAT_IN_ORDER) && act(&g->o, FZ_DQ_DROP)) {
			/* A dropped chain stays in flight for the ring: the
			 * driver never gets it back. */
			unsigned i = below(g->nheld);
			w8(&g->o, i);
			w8(&g->o, 1); /* and check a second drop is refused */
			if (vio_devq_drop(g->dq, &g->held[i]) != 0)
				abort();
			gd_remove_held(g, i);
		}
		break;
	}
}

static void gd_device_call(struct gen_devq *g, unsigned what)
{
	static const unsigned ops[] = {FZ_DQ_NEEDS_NOTIFY, FZ_DQ_ENABLE_NOTIFY,
				       FZ_DQ_DISABLE_NOTIFY, FZ_DQ_HAS_AVAIL, FZ_DQ_SAVE_RESTORE};
	unsigned op = ops[what % 5];
	if (op == FZ_DQ_SAVE_RESTORE && g->nheld != 0)
		op = FZ_DQ_HAS_AVAIL; /* save/restore forgets held chains */
	if (!act(&g->o, op))
		return;
	switch (op) {
	case FZ_DQ_NEEDS_NOTIFY:
		vio_devq_needs_notify(g->dq);
		break;
	case FZ_DQ_ENABLE_NOTIFY:
		vio_devq_enable_notify(g->dq);
		break;
	case FZ_DQ_DISABLE_NOTIFY:
		vio_devq_disable_notify(g->dq);
		break;
	case FZ_DQ_HAS_AVAIL:
		vio_devq_has_avail(g->dq);
		break;
	default: {
		struct vio_ring_state st;
		vio_devq_get_state(g->dq, &st);
		vio_devq_set_state(g->dq, &st);
		break;
	}
	}
}

/* @mmode: the harness's memory mode byte (0: none, the 0.1 layout). */
static void gen_devq_seed(enum vio_ring_format fmt, const char *target, unsigned idx, uint8_t feat,
			  uint16_t size, unsigned rounds, uint8_t mmode, bool pop2, bool whole)
{
	static struct gen_devq g;
	g.fmt = fmt;
	g.pop2 = pop2;
	g.whole = whole;
	g.size = size;
	g.nheld = 0;
	g.tokens = 0;
	g.outstanding = 0;
	g.o.n = 0;
	g.o.actions = 0;
	g.extra_ops = mmode != 0;
	if (mmode != 0)
		feat |= FZ_DEVQ_MEMCFG;
	g.feat = feat;
	fz_mem_init(&g.m);
	uint32_t seed = 0x5bd1e995u * (idx + 1u);

	bool split = fmt == VIO_RING_SPLIT;
	size_t rlen[3] = {16u * size, split ? vio_split_avail_size(size) : 4,
			  split ? vio_split_used_size(size) : 4};
	uint16_t ind_max = 0;
	if (feat & FZ_FEAT_INDIRECT) {
		ind_max = (uint16_t)(4096u / 16u / size);
		if (ind_max > 8)
			ind_max = 8;
		if (ind_max > size)
			ind_max = size;
	}
	/* Regions as the harness builds them: the three ring parts, the data
	 * buffers (cut into adjacent pieces with FZ_MM_CUT, from the same
	 * generator state), the indirect pool (never cut). */
	for (unsigned i = 0; i < 3; i++)
		fz_mem_add_slot(&g.m, 0, rlen[i], VIO_MAP_RW, false);
	uint32_t rng = seed;
	size_t piece[FZ_DEVQ_MAX_PIECES] = {GD_DATA_LEN};
	unsigned np = (mmode & FZ_MM_CUT) ? fz_devq_cut(&rng, GD_DATA_LEN, piece) : 1u;
	uint64_t a = FZ_REGION_BASE(3);
	g.data_first = g.m.n;
	g.data_n = np;
	for (unsigned j = 0; j < np; j++) {
		fz_mem_add(&g.m, a, piece[j], VIO_MAP_RW, false);
		a += piece[j];
	}
	size_t pool_len = (size_t)size * ind_max * 16u;
	unsigned nextra = 1, pool = 0;
	if (ind_max != 0) {
		pool = fz_mem_add(&g.m, FZ_REGION_BASE(4), pool_len, VIO_MAP_RW, false);
		g.m.r[pool].table_stride = (size_t)ind_max * 16u;
		nextra = 2;
	}
	g.nregions = g.m.n;
	for (unsigned i = 0; i < g.nregions; i++) {
		g.snap[i] = malloc(g.m.r[i].len);
		if (g.snap[i] == NULL)
			abort();
	}

	struct vio_features f = vio_features_none();
	if (feat & FZ_FEAT_INDIRECT)
		vio_features_set(&f, VIO_F_INDIRECT_DESC);
	if (feat & FZ_FEAT_EVENT_IDX)
		vio_features_set(&f, VIO_F_EVENT_IDX);
	if (feat & FZ_FEAT_IN_ORDER)
		vio_features_set(&f, VIO_F_IN_ORDER);
	if (!split)
		vio_features_set(&f, VIO_F_RING_PACKED);

	struct vio_vq_config vc;
	memset(&vc, 0, sizeof(vc));
	vc.format = fmt;
	vc.size = size;
	vc.features = f;
	vc.desc = g.m.r[0].host;
	vc.driver_area = g.m.r[1].host;
	vc.device_area = g.m.r[2].host;
	vc.indirect_pool = ind_max != 0 ? g.m.r[pool].host : NULL;
	vc.indirect_max = ind_max;
	vc.dma_ops = &fz_drv_ops;
	vc.dma_ctx = &g.m;
	size_t vsz = vio_vq_mem_size(&vc);
	g.vqmem = malloc(vsz);
	if (g.vqmem == NULL || vio_vq_init(&g.vq, g.vqmem, vsz, &vc) != 0)
		abort();

	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = fmt;
	dc.size = size;
	dc.index = 3;
	dc.features = f;
	dc.desc_addr = g.m.r[0].addr;
	dc.driver_addr = g.m.r[1].addr;
	dc.device_addr = g.m.r[2].addr;
	dc.take_long_chains = (feat & FZ_DEVQ_TAKE_LONG) != 0;
	dc.mem_ops = &fz_dev_ops;
	dc.mem_ctx = &g.m;
	size_t dsz = vio_devq_mem_size(fmt, size);
	g.dqmem = malloc(dsz);
	fz_mem_grants_begin(&g.m);
	if (g.dqmem == NULL || vio_devq_init(&g.dq, g.dqmem, dsz, &dc) != 0)
		abort();
	fz_mem_grants_end(&g.m);

	/* Header: the rings and extras as the harness rebuilds them, all zero
	 * now (vio_vq_init zeroed the rings; buffers are zero). */
	w8(&g.o, feat);
	w16(&g.o, split ? log2u(size) : size - 1u);
	w8(&g.o, nextra);
	if (mmode != 0) {
		w8(&g.o, mmode);
		w8(&g.o, seed & 0xffu);
		w8(&g.o, (seed >> 8) & 0xffu);
		w8(&g.o, (seed >> 16) & 0xffu);
		w8(&g.o, seed >> 24);
	}
	for (unsigned k = 0; k < nextra; k++) {
		w8(&g.o, FZ_RF_ZERO | (k == 1 ? FZ_RF_WHOLE : 0)); /* RW, zero-filled */
		w16(&g.o, (unsigned)((k == 0 ? GD_DATA_LEN : pool_len) - 1u));
		w16(&g.o, 0);
	}
	for (unsigned i = 0; i < 3; i++)
		for (size_t j = 0; j < rlen[i]; j++)
			w8(&g.o, 0);

	/* Traffic. */
	for (unsigned r = 0; r < rounds && g.o.actions < FZ_MAX_ACTIONS - 16; r++) {
		unsigned adds = 1 + below(4);
		for (unsigned k = 0; k < adds; k++)
			gd_add(&g);
		if (below(2))
			gd_driver_call(&g, 0);
		unsigned pops = below(5);
		for (unsigned p = 0; p < pops; p++) {
			if (g.pop2 && below(2))
				gd_pop2(&g);
			else
				gd_pop(&g);
		}
		if (g.extra_ops && below(2))
			gd_misc(&g);
		if (g.extra_ops && g.nheld != 0 && below(4) == 0)
			gd_save_repop(&g);
		if (below(3) == 0)
			gd_device_call(&g, below(5));
		if (below(2))
			gd_push(&g);
		else
			gd_push_batch(&g);
		if (below(2))
			gd_device_call(&g, 0); /* needs_notify */
		if (below(3) == 0)
			gd_driver_call(&g, 1 + below(3));
		gd_get_all(&g);
	}
	if (g.extra_ops && idx % 5 == 4 && act(&g.o, FZ_DQ_FAIL))
		w8(&g.o, 0); /* the model gives up: VIO_EREQUEST */
	save(target, idx, &g.o);

	while (g.nheld != 0)
		gd_remove_held(&g, 0);
	for (unsigned i = 0; i < g.nregions; i++)
		free(g.snap[i]);
	free(g.vqmem);
	free(g.dqmem);
	fz_mem_free(&g.m);
}

/* ------------------------------------------------------------------------ */
/* fuzz_vq_split_used / fuzz_vq_packed_used: an honest device script         */
/* ------------------------------------------------------------------------ */

static void gen_vq_seed(bool split, const char *target, unsigned idx, uint8_t feat, uint16_t size,
			unsigned rounds)
{
	struct out *o = malloc(sizeof(*o));
	if (o == NULL)
		abort();
	o->n = 0;
	o->actions = 0;
	w8(o, feat);
	w16(o, split ? log2u(size) : size - 1u);
	w8(o, 3); /* indirect_max: 1 + 3 % min(size, 16) */
	w8(o, 0); /* indirect_min: default */
	/* With a release hook, now and then an injected to_device failure
	 * (failed adds must release what they converted). */
	w8(o, (feat & FZ_VQ_RELEASE) && idx % 4 == 0 ? 6 : 0);
	w16(o, 5); /* queue index */
	bool hostile = idx % 7 == 6;
	for (unsigned r = 0; r < rounds && o->actions < FZ_MAX_ACTIONS - 12; r++) {
		unsigned adds = 1 + below(3);
		for (unsigned a = 0; a < adds; a++) {
			act(o, FZ_VQ_ADD);
			unsigned out = below(3), in = below(3);
			w8(o, out);
			w8(o, in);
			w8(o, 0); /* one u8 length per segment follows */
			for (unsigned i = 0; i < out + in; i++)
				w8(o, below(256));
		}
		act(o, FZ_VQ_KICK);
		unsigned done = below(4);
		for (unsigned c = 0; c < done; c++) {
			act(o, FZ_VQ_DEV_COMPLETE);
			w8(o, below(8));
			unsigned mode = below(3) == 0 ? FZ_CM_HOLD : 0;
			if (split && below(2))
				mode |= 2; /* written length 0 */
			if ((feat & FZ_FEAT_IN_ORDER) && below(3) == 0)
				mode |= FZ_CM_BATCH;
			if (hostile && below(3) == 0)
				mode |= FZ_CM_RAW_ID;
			w8(o, mode);
			if (mode & FZ_CM_RAW_ID)
				w16(o, below(size + 2u));
			if (mode & FZ_CM_BATCH)
				w8(o, below(4));
		}
		if (split) {
			act(o, FZ_VQ_DEV_PUBLISH);
			w8(o, 0);
			w16(o, 0);
		}
		switch (below(5)) {
		case 0:
			act(o, FZ_VQ_ENABLE_INTR);
			break;
		case 1:
			act(o, FZ_VQ_DISABLE_INTR);
			break;
		case 2:
			act(o, FZ_VQ_ENABLE_INTR_DELAYED);
			break;
		case 3:
			act(o, FZ_VQ_DEV_EVENT);
			w8(o, below(2));
			w16(o, below(3));
			break;
		default:
			act(o, FZ_VQ_HAS_USED);
			break;
		}
		act(o, below(2) ? FZ_VQ_GET_ALL : FZ_VQ_GET);
		if (below(10) == 0) {
			act(o, FZ_VQ_RESET);
			w8(o, 1);
		}
	}
	save(target, idx, o);
	free(o);
}

/* ------------------------------------------------------------------------ */
/* fuzz_diff: valid operation scripts                                        */
/* ------------------------------------------------------------------------ */

static void gen_diff_seed(unsigned idx, uint8_t feat, unsigned size_log2, unsigned rounds)
{
	struct out *o = malloc(sizeof(*o));
	if (o == NULL)
		abort();
	o->n = 0;
	o->actions = 0;
	w8(o, feat);
	w8(o, size_log2);
	w8(o, below(8)); /* indirect_max */
	w8(o, below(5)); /* indirect_min */
	for (unsigned r = 0; r < rounds && o->actions < FZ_MAX_ACTIONS - 12; r++) {
		unsigned adds = 1 + below(3);
		for (unsigned a = 0; a < adds; a++) {
			act(o, FZ_DF_ADD);
			unsigned out = below(4), in = below(4);
			if (out + in == 0)
				out = 1;
			w8(o, out);
			w8(o, in);
			for (unsigned i = 0; i < out + in; i++)
				w8(o, below(256));
		}
		act(o, FZ_DF_KICK);
		act(o, below(2) ? FZ_DF_POP_ALL : FZ_DF_POP);
		if (below(2)) {
			act(o, FZ_DF_PUSH);
			w8(o, below(4));
			w8(o, below(256));
		} else {
			act(o, FZ_DF_PUSH_BATCH);
			unsigned n = below(4);
			w8(o, n);
			w8(o, below(2));
			for (unsigned j = 0; j <= n; j++) {
				w8(o, below(4));
				w8(o, below(256));
			}
		}
		act(o, FZ_DF_NEEDS_NOTIFY);
		static const unsigned misc[] = {FZ_DF_ENABLE_INTR,	   FZ_DF_DISABLE_INTR,
						FZ_DF_ENABLE_INTR_DELAYED, FZ_DF_ENABLE_NOTIFY,
						FZ_DF_DISABLE_NOTIFY,	   FZ_DF_HAS};
		unsigned m = misc[below(6)];
		act(o, m);
		if (m == FZ_DF_HAS)
			w8(o, below(2));
		act(o, FZ_DF_GET);
		if (below(2))
			act(o, FZ_DF_GET);
		if (below(12) == 0)
			act(o, FZ_DF_RESET);
	}
	save("fuzz_diff", idx, o);
	free(o);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		root = argv[1];
	static const uint8_t feats[] = {
		0,
		FZ_FEAT_INDIRECT,
		FZ_FEAT_EVENT_IDX,
		FZ_FEAT_IN_ORDER,
		FZ_FEAT_INDIRECT | FZ_FEAT_EVENT_IDX,
		FZ_FEAT_INDIRECT | FZ_FEAT_EVENT_IDX | FZ_FEAT_IN_ORDER,
	};
	static const uint16_t split_sizes[] = {1, 2, 4, 8, 16, 64};
	static const uint16_t packed_sizes[] = {1, 3, 4, 7, 16, 50};

	for (unsigned i = 0; i < 36; i++) {
		rng_state = 0x9e3779b9u ^ (i * 0x85ebca6bu);
		uint8_t feat = feats[i % 6];
		unsigned rounds = 4 + i % 9;
		/* Memory modes: the 0.1 layout (callback only, no cuts) for
		 * every sixth seed, else adjacent regions and a table and/or
		 * a map callback that splits, defers and bounces. */
		static const uint8_t mmodes[6] = {
			0,
			FZ_MM_CUT | FZ_LAYOUT_TABLE,
			FZ_MM_CUT | FZ_LAYOUT_MIXED | FZ_MM_PARTIAL | FZ_MM_RELEASE,
			FZ_MM_CUT | FZ_LAYOUT_CALLBACK | FZ_MM_BOUNCE | FZ_MM_AGAIN,
			FZ_MM_CUT | FZ_LAYOUT_MIXED | FZ_MM_BOUNCE | FZ_MM_PARTIAL | FZ_MM_AGAIN,
			FZ_MM_CUT | FZ_LAYOUT_CALLBACK | FZ_MM_RELEASE | FZ_MM_NOLOG,
		};
		uint8_t mm = mmodes[(i + i / 6) % 6];
		if (mm != 0 && i % 4 == 1)
			feat |= FZ_DEVQ_TAKE_LONG;
		gen_devq_seed(VIO_RING_SPLIT, "fuzz_devq_split", i, feat, split_sizes[(i / 6) % 6],
			      rounds, mm, false, false);
		rng_state = 0x7f4a7c15u ^ (i * 0xc2b2ae35u);
		gen_devq_seed(VIO_RING_PACKED, "fuzz_devq_packed", i, feat,
			      packed_sizes[(i / 6) % 6], rounds, mm, false, false);
	}
	/* The device fast paths (lib/ring/devq_hot.h) need a region table and
	 * no write log; batch pops (FZ_DQ_POP2) take runs of entries. */
	for (unsigned i = 0; i < 6; i++) {
		uint8_t mm = FZ_LAYOUT_MIXED | FZ_MM_NOLOG | (i % 2 ? FZ_MM_CUT : 0);
		rng_state = 0x3c6ef372u ^ (i * 0x85ebca6bu);
		gen_devq_seed(VIO_RING_SPLIT, "fuzz_devq_split", 100 + i, feats[i],
			      split_sizes[2 + i % 4], 8 + i, mm, true, false);
		rng_state = 0xa54ff53au ^ (i * 0xc2b2ae35u);
		gen_devq_seed(VIO_RING_PACKED, "fuzz_devq_packed", 100 + i, feats[i],
			      packed_sizes[2 + i % 4], 8 + i, mm, true, false);
	}
	/* The chain and table walks (devq_hot.h) need whole chains in the
	 * region that matched last: one piece per chain, no empty buffer. */
	for (unsigned i = 0; i < 6; i++) {
		uint8_t mm = (i % 2 ? FZ_LAYOUT_TABLE : FZ_LAYOUT_MIXED) | FZ_MM_NOLOG;
		rng_state = 0x510e527fu ^ (i * 0x85ebca6bu);
		gen_devq_seed(VIO_RING_SPLIT, "fuzz_devq_split", 110 + i, feats[i],
			      split_sizes[2 + i % 4], 10 + i, mm, i % 3 == 2, true);
		rng_state = 0x9b05688cu ^ (i * 0xc2b2ae35u);
		gen_devq_seed(VIO_RING_PACKED, "fuzz_devq_packed", 110 + i, feats[i],
			      packed_sizes[2 + i % 4], 10 + i, mm, i % 3 == 2, true);
	}
	for (unsigned i = 0; i < 36; i++) {
		uint8_t feat = feats[i % 6];
		if (feat & FZ_FEAT_INDIRECT)
			feat |= FZ_VQ_POOL;
		if (i % 5 == 4)
			feat |= FZ_VQ_NOTIF_DATA;
		if (i % 11 == 10)
			feat |= FZ_VQ_IDENTITY;
		else if (i % 3 != 2)
			feat |= FZ_VQ_RELEASE;
		rng_state = 0x2545f491u ^ (i * 0x9e3779b9u);
		gen_vq_seed(true, "fuzz_vq_split_used", i, feat, split_sizes[(i / 6) % 6],
			    6 + i % 10);
		rng_state = 0x61c88647u ^ (i * 0x9e3779b9u);
		gen_vq_seed(false, "fuzz_vq_packed_used", i, feat, packed_sizes[(i / 6) % 6],
			    6 + i % 10);
	}
	for (unsigned i = 0; i < 36; i++) {
		rng_state = 0x1b873593u ^ (i * 0xcc9e2d51u);
		gen_diff_seed(i, feats[i % 6], (i / 6) % 7, 5 + i % 12);
	}
	printf("seeds written under %s\n", root);
	return 0;
}
