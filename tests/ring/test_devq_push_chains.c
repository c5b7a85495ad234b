/* SPDX-License-Identifier: MIT */
/* vio_devq_push_chains(): completing the chains vio_devq_pop_batch()
 * returned, each with a length, over the real driver half (loop), both
 * formats, in three memory set-ups: a region table (the fast paths), the
 * map callback with mappings to release (chains MAPPED: the general path),
 * and a region table with a write log (the general path). Every refusal
 * (stale generation, not in flight, a length above in_bytes, one chain
 * twice, NULL arrays, too many entries, a broken queue) publishes nothing,
 * releases and logs nothing, and leaves every chain pushable; the driver
 * sees exactly the completions pushed afterwards (a used descriptor left
 * behind by a refused packed batch would show up as an extra one). The
 * write log and the releases match vio_devq_push_batch()'s for the same
 * batch; the journal brackets each batch; an empty batch is a no-op. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "format_cases.h"
#include "loop.h"

#define QSIZE 8
#define BIG 64 /* queue size for batches the journal sees in pieces */
#define NSEGS 4
#define MAXLOG 512
#define MAXEV 16

enum mem_mode {
	MEM_TABLE,  /* region table: the fast paths */
	MEM_MAPPED, /* map callback, every mapping released: chains MAPPED */
	MEM_LOGGED, /* region table and a write log */
};

struct logged {
	uint64_t addr, len;
};

struct ev {
	bool begin;
	unsigned n;
	uint16_t first_id;
	uint32_t first_len;
	struct vio_ring_state after;
	int visible; /* completions the driver could take then */
};

struct fx {
	enum vio_ring_format fmt;
	struct loop l;
	bool started;
	enum mem_mode mode;
	struct vio_mem_region table[GM_MAX_REGIONS];
	unsigned maps, releases; /* buffer mappings made and released */
	struct logged log[MAXLOG];
	unsigned nlog;
	struct ev ev[MAXEV];
	unsigned nev;
	int tok[BIG];
	struct vio_chain chain[BIG];
	struct vio_chain_seg segs[BIG * NSEGS];
};

static int fx_map(void *ctx, uint64_t addr, uint64_t len, enum vio_map_dir dir,
		  struct vio_mapping *m)
{
	struct fx *f = ctx;
	int rc = gm_dev_ops.map(&f->l.gm, addr, len, dir, m);
	if (rc == 0 && f->mode == MEM_MAPPED) {
		m->release = true;
		f->maps++;
	}
	return rc;
}

static void fx_release(void *ctx, void *host, uint64_t addr, uint64_t len, enum vio_map_dir dir)
{
	struct fx *f = ctx;
	(void)host;
	(void)addr;
	(void)len;
	(void)dir;
	f->releases++;
}

static void fx_log(void *ctx, uint64_t addr, uint64_t len)
{
	struct fx *f = ctx;
	assert_true(f->nlog < MAXLOG);
	f->log[f->nlog++] = (struct logged){addr, len};
}

static const struct vio_mem_ops ops_plain = {fx_map, fx_release, NULL};
static const struct vio_mem_ops ops_log = {fx_map, fx_release, fx_log};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->fmt = *(enum vio_ring_format *)*state;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (f->started) {
		vio_devq_fini(f->l.dq);
		loop_fini(&f->l);
	}
	free(f);
	return 0;
}

/* The loop, with the device queue set up again for @mode. */
static void start_sized(struct fx *f, enum mem_mode mode, uint16_t size, bool take_long)
{
	struct loop_cfg lc = {f->fmt, size, 0,	   loop_features(f->fmt, false, false),
			      0,      0,    false, 65536};
	assert_err(loop_init(&f->l, &lc), 0);
	f->started = true;
	f->mode = mode;
	struct vio_devq_config dc;
	loop_devq_config(&f->l, &dc);
	dc.mem_ops = mode == MEM_LOGGED ? &ops_log : &ops_plain;
	dc.mem_ctx = f;
	dc.take_long_chains = take_long;
	if (mode != MEM_MAPPED) {
		for (unsigned i = 0; i < f->l.gm.n; i++)
			f->table[i] = (struct vio_mem_region){f->l.gm.r[i].addr, f->l.gm.r[i].len,
							      f->l.gm.r[i].host, f->l.gm.r[i].dirs};
		dc.regions = f->table;
		dc.nregions = f->l.gm.n;
	} else {
		dc.regions = NULL;
		dc.nregions = 0;
	}
	size_t sz = vio_devq_mem_size(f->fmt, size);
	void *mem = NULL;
	assert_int_equal(posix_memalign(&mem, VIO_DEVQ_MEM_ALIGN, sz), 0);
	struct vio_devq *q;
	assert_err(vio_devq_init(&q, mem, sz, &dc), 0);
	free(f->l.dq_mem);
	f->l.dq_mem = mem;
	f->l.dq = q;
	f->maps = 0; /* the ring parts stay mapped until vio_devq_fini() */
}

static void start(struct fx *f, enum mem_mode mode)
{
	start_sized(f, mode, QSIZE, false);
}

/* The driver adds buffer k: @nout readable segments of 16 bytes, @nin
 * writable ones of 64. */
static void add(struct fx *f, unsigned k, unsigned nout, unsigned nin)
{
	struct vio_sg sg[8];
	assert_true(nout + nin <= 8 && nout + nin != 0);
	for (unsigned i = 0; i < nout + nin; i++)
		sg[i] = (struct vio_sg){f->l.data + 512 * k + 64 * i, i < nout ? 16u : 64u};
	assert_err(vio_vq_add(f->l.vq, sg, nout, nin, &f->tok[k]), 0);
}

/* Buffers 0 .. n-1 added (buffer 1 of two descriptors while the ring has
 * room for it) and popped in one batch. */
static void add_pop(struct fx *f, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		add(f, k, k == 1 && n < vio_devq_size(f->l.dq) ? 1 : 0, 1);
	assert_err(vio_devq_pop_batch(f->l.dq, f->chain, f->segs, NSEGS, n), (int)n);
}

/* The completions the driver can take now; each must be buffer
 * want_tok[i] with want_len[i] bytes. */
static unsigned reap(struct fx *f, const unsigned *want_tok, const uint32_t *want_len, unsigned max)
{
	unsigned got = 0;
	void *tok;
	uint32_t len;
	while (vio_vq_get(f->l.vq, &tok, &len) == 0) {
		if (got >= max)
			fail_msg("completion %u: more than the %u pushed", got, max);
		if (want_tok != NULL) {
			assert_ptr_equal(tok, &f->tok[want_tok[got]]);
			assert_int_equal(len, want_len[got]);
		}
		got++;
	}
	assert_false(vio_vq_is_broken(f->l.vq));
	return got;
}

struct snap {
	struct vio_ring_state st;
	unsigned releases, nlog;
};

static void snap(struct fx *f, struct snap *s)
{
	vio_devq_get_state(f->l.dq, &s->st);
	s->releases = f->releases;
	s->nlog = f->nlog;
}

/* A refused batch: the error, nothing published (the driver sees
 * nothing), released or logged, the position unchanged. */
static void refused(struct fx *f, const struct vio_chain *ch, const uint32_t *lens, unsigned n,
		    int want)
{
	struct snap a, b;
	snap(f, &a);
	assert_err(vio_devq_push_chains(f->l.dq, ch, lens, n), want);
	snap(f, &b);
	assert_int_equal(b.st.used_idx, a.st.used_idx);
	assert_int_equal(b.st.used_wrap, a.st.used_wrap);
	assert_int_equal(b.st.inflight, a.st.inflight);
	assert_int_equal(b.releases, a.releases);
	assert_int_equal(b.nlog, a.nlog);
	assert_int_equal(reap(f, NULL, NULL, 0), 0);
}

/* ---- Completing -------------------------------------------------------------- */

static void completes(struct fx *f, enum mem_mode mode)
{
	start(f, mode);
	for (unsigned round = 0; round < 7; round++) {
		unsigned n = 1 + (round * 3) % QSIZE;
		add_pop(f, n);
		uint32_t lens[QSIZE];
		unsigned toks[QSIZE];
		for (unsigned k = 0; k < n; k++) {
			lens[k] = (uint32_t)((round + k) % 3 == 0 ? 0 : 64 - k);
			toks[k] = k;
		}
		assert_err(vio_devq_push_chains(f->l.dq, f->chain, lens, n), 0);
		/* Every mapping of the batch released. */
		assert_int_equal(f->releases, f->maps);
		if (mode == MEM_MAPPED)
			assert_true(f->maps != 0);
		struct vio_ring_state st;
		vio_devq_get_state(f->l.dq, &st);
		assert_int_equal(st.inflight, 0);
		assert_true(vio_devq_needs_notify(f->l.dq));
		assert_int_equal(reap(f, toks, lens, n), n);
		/* Pushed once: again is refused. */
		refused(f, f->chain, lens, 1, -VIO_EINVAL);
	}
}

/* Batches of every size, mixed shapes, several laps (packed: both wrap
 * counters, batches across the end of the ring). */
static void test_push_chains_completes(void **state)
{
	completes(*state, MEM_TABLE);
}

static void test_push_chains_completes_mapped(void **state)
{
	completes(*state, MEM_MAPPED);
}

static void test_push_chains_completes_logged(void **state)
{
	completes(*state, MEM_LOGGED);
}

/* ---- Refusals ------------------------------------------------------------------ */

static void refusals(struct fx *f, enum mem_mode mode)
{
	start(f, mode);
	/* Go part way round first, so that a batch crosses the end. */
	add_pop(f, 5);
	uint32_t zero[QSIZE] = {0};
	assert_err(vio_devq_push_chains(f->l.dq, f->chain, zero, 5), 0);
	assert_int_equal(reap(f, NULL, NULL, 5), 5);

	add_pop(f, 4); /* chain 1 has two descriptors */
	struct vio_chain ch[QSIZE];
	uint32_t lens[QSIZE] = {64, 64, 64, 64};
	memcpy(ch, f->chain, 4 * sizeof(ch[0]));

	/* A length above what the chain offered: first, middle, last. */
	for (unsigned at = 0; at < 4; at++) {
		lens[at] = ch[at].in_bytes + 1;
		refused(f, ch, lens, 4, -VIO_EINVAL);
		lens[at] = 64;
	}
	/* One chain twice, next to each other and apart. */
	ch[1] = f->chain[0];
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[1] = f->chain[1];
	ch[3] = f->chain[1];
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[3] = f->chain[3];
	/* Popped before a reset (another generation). */
	ch[2].gen--;
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[2] = f->chain[2];
	/* Never popped: an id not in flight, and one beyond the queue. */
	ch[3].id = (uint16_t)((ch[3].id + 5u) % QSIZE);
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[3].id = QSIZE;
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[3] = f->chain[3];
	/* The same for the first chain (packed: the fast path checks it out
	 * of its loop). */
	ch[0].gen--;
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[0] = f->chain[0];
	ch[0].id = QSIZE;
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[0].id = 0xffffu; /* far from any record */
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[0] = f->chain[1]; /* chain 1 twice: first and second */
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[0] = f->chain[0];
	/* A MAPPED flag on a chain of the region table, or missing on a
	 * mapped one: the general path takes it; the length still counts. */
	ch[0].flags ^= VIO_CHAIN_MAPPED;
	lens[0] = ch[0].in_bytes + 1;
	refused(f, ch, lens, 4, -VIO_EINVAL);
	ch[0] = f->chain[0];
	lens[0] = 64;
	/* Arrays and count. */
	refused(f, NULL, lens, 4, -VIO_EINVAL);
	refused(f, ch, NULL, 4, -VIO_EINVAL);
	refused(f, ch, lens, QSIZE + 1, -VIO_EINVAL);

	/* Chain 0 pushed alone: the driver sees it and nothing after it (a
	 * refused packed batch would have left the next slots marked used). */
	unsigned t0 = 0;
	assert_err(vio_devq_push_chains(f->l.dq, ch, lens, 1), 0);
	assert_int_equal(reap(f, &t0, lens, 1), 1);
	/* Pushed now, so not in flight: a batch naming it is refused. */
	refused(f, ch, lens, 4, -VIO_EINVAL);
	/* The other three, in another order. */
	struct vio_chain rest[3] = {f->chain[3], f->chain[1], f->chain[2]};
	uint32_t rl[3] = {1, 0, 64};
	unsigned rt[3] = {3, 1, 2};
	assert_err(vio_devq_push_chains(f->l.dq, rest, rl, 3), 0);
	assert_int_equal(reap(f, rt, rl, 3), 3);
	/* The ids are free again: the next lap pops them. */
	add_pop(f, QSIZE);
	assert_err(vio_devq_push_chains(f->l.dq, f->chain, zero, QSIZE), 0);
	assert_int_equal(reap(f, NULL, NULL, QSIZE), QSIZE);
	assert_false(vio_devq_is_broken(f->l.dq));
}

static void test_push_chains_refusals(void **state)
{
	refusals(*state, MEM_TABLE);
}

static void test_push_chains_refusals_mapped(void **state)
{
	refusals(*state, MEM_MAPPED);
}

static void test_push_chains_refusals_logged(void **state)
{
	refusals(*state, MEM_LOGGED);
}

/* A chain record whose ndesc was changed after the pop (the library keeps
 * its own count), to more slots or to none: the batch still goes back,
 * each chain taking the slots it really took, and the next lap is right. */
static void test_push_chains_altered_ndesc(void **state)
{
	struct fx *f = *state;
	start(f, MEM_TABLE);
	for (unsigned round = 0; round < 7; round++) {
		add_pop(f, 3); /* chain 1 has two descriptors */
		struct vio_ring_state st;
		vio_devq_get_state(f->l.dq, &st);
		struct vio_chain ch[3];
		memcpy(ch, f->chain, sizeof(ch));
		if (round < 4)
			ch[round % 3].ndesc = (uint16_t)(ch[round % 3].ndesc + 1u + round / 3u);
		else
			ch[round % 3].ndesc = 0;
		uint32_t lens[3] = {1, 2, 3};
		unsigned toks[3] = {0, 1, 2};
		assert_err(vio_devq_push_chains(f->l.dq, ch, lens, 3), 0);
		assert_int_equal(reap(f, toks, lens, 3), 3);
		struct vio_ring_state after;
		vio_devq_get_state(f->l.dq, &after);
		assert_int_equal(after.inflight, 0);
		assert_int_equal(after.used_idx, after.avail_idx);
		assert_int_equal(after.used_wrap, after.avail_wrap);
	}
}

/* A broken queue refuses a batch (nothing released); an empty batch is a
 * no-op on any queue, with any arrays, for every batch call. */
static void test_push_chains_broken_and_empty(void **state)
{
	struct fx *f = *state;
	start(f, MEM_MAPPED);
	add_pop(f, 3);
	uint32_t lens[3] = {1, 2, 3};
	struct snap a, b;
	snap(f, &a);
	assert_err(vio_devq_push_chains(f->l.dq, f->chain, lens, 0), 0);
	assert_err(vio_devq_push_chains(f->l.dq, NULL, NULL, 0), 0);
	assert_err(vio_devq_push_batch(f->l.dq, NULL, 0), 0);
	assert_err(vio_devq_push_in_order(f->l.dq, NULL, 0), 0); /* without IN_ORDER */
	assert_err(vio_devq_pop_batch(f->l.dq, NULL, NULL, 0, 0), 0);
	snap(f, &b);
	assert_true(memcmp(&a, &b, sizeof(a)) == 0);
	assert_int_equal(vio_devq_fail(f->l.dq, -VIO_EREQUEST), -VIO_EREQUEST);
	refused(f, f->chain, lens, 3, -VIO_EBROKEN);
	assert_err(vio_devq_push_chains(f->l.dq, NULL, NULL, 0), 0);
	assert_err(vio_devq_push_batch(f->l.dq, NULL, 0), 0);
	assert_err(vio_devq_push_in_order(f->l.dq, NULL, 0), 0);
	assert_err(vio_devq_pop_batch(f->l.dq, NULL, NULL, 0, 0), 0);
	/* The mappings are still held: drop releases them. */
	for (unsigned k = 0; k < 3; k++)
		assert_err(vio_devq_drop(f->l.dq, &f->chain[k]), 0);
	assert_int_equal(f->releases, f->maps);
}

/* ---- Write log and releases against vio_devq_push_batch() -------------------- */

/* The same traffic pushed with vio_devq_push_batch() (@chains false) or
 * vio_devq_push_chains(): the write log and the releases it leaves. Some
 * chains are truncated (take_long_chains, two segments of room). */
static void traffic(struct fx *f, enum mem_mode mode, bool chains)
{
	start_sized(f, mode, BIG, true);
	for (unsigned round = 0; round < 5; round++) {
		unsigned n = 2 + round % 4;
		for (unsigned k = 0; k < n; k++)
			add(f, k, k % 2, 1 + (k + round) % 3);
		assert_err(vio_devq_pop_batch(f->l.dq, f->chain, f->segs, 2, n), (int)n);
		uint32_t lens[QSIZE];
		struct vio_used used[QSIZE];
		for (unsigned k = 0; k < n; k++) {
			lens[k] = f->chain[k].in_bytes - (uint32_t)((k + round) % 3) * 7u;
			used[k] = (struct vio_used){&f->chain[k], lens[k]};
		}
		if (chains)
			assert_err(vio_devq_push_chains(f->l.dq, f->chain, lens, n), 0);
		else
			assert_err(vio_devq_push_batch(f->l.dq, used, n), 0);
		assert_int_equal(reap(f, NULL, NULL, n), n);
	}
}

static void same_as_push_batch(void **state, enum mem_mode mode)
{
	struct fx *f = *state;
	struct fx *g = calloc(1, sizeof(*g));
	assert_non_null(g);
	g->fmt = f->fmt;
	traffic(f, mode, true);
	traffic(g, mode, false);
	/* The same device addresses: both loops place memory alike. */
	assert_int_equal(f->nlog, g->nlog);
	for (unsigned i = 0; i < f->nlog; i++) {
		if (f->log[i].addr != g->log[i].addr || f->log[i].len != g->log[i].len)
			fail_msg("log entry %u: 0x%llx+%llu, push_batch 0x%llx+%llu", i,
				 (unsigned long long)f->log[i].addr,
				 (unsigned long long)f->log[i].len,
				 (unsigned long long)g->log[i].addr,
				 (unsigned long long)g->log[i].len);
	}
	assert_int_equal(f->releases, g->releases);
	assert_int_equal(f->releases, f->maps);
	vio_devq_fini(g->l.dq);
	loop_fini(&g->l);
	free(g);
}

static void test_push_chains_log_as_push_batch(void **state)
{
	same_as_push_batch(state, MEM_LOGGED);
	struct fx *f = *state;
	assert_true(f->nlog > 0);
}

static void test_push_chains_releases_as_push_batch(void **state)
{
	same_as_push_batch(state, MEM_MAPPED);
	struct fx *f = *state;
	assert_true(f->maps > 0);
}

/* ---- Journal ------------------------------------------------------------------ */

static void j_batch(struct fx *f, bool begin, const struct vio_used *u, unsigned n,
		    const struct vio_ring_state *after)
{
	assert_true(f->nev < MAXEV);
	struct ev *e = &f->ev[f->nev++];
	e->begin = begin;
	e->n = n;
	e->first_id = u[0].chain->id;
	e->first_len = u[0].len;
	e->after = *after;
	e->visible = (int)reap(f, NULL, NULL, BIG);
}

static void j_begin(void *ctx, const struct vio_used *u, unsigned n,
		    const struct vio_ring_state *after)
{
	j_batch(ctx, true, u, n, after);
}

static void j_end(void *ctx, const struct vio_used *u, unsigned n,
		  const struct vio_ring_state *after)
{
	j_batch(ctx, false, u, n, after);
}

static const struct vio_devq_journal journal = {NULL, NULL, j_begin, j_end, NULL};

/* With a journal: each batch of at most 32 announced before the driver
 * can see any of it, confirmed once it can see all of it, in order, with
 * the ring position after it. */
static void test_push_chains_journal(void **state)
{
	struct fx *f = *state;
	start_sized(f, MEM_TABLE, BIG, false);
	assert_err(vio_devq_set_journal(f->l.dq, &journal, f), 0);
	const unsigned n = 40;
	for (unsigned k = 0; k < n; k++)
		add(f, k, 0, 1);
	assert_err(vio_devq_pop_batch(f->l.dq, f->chain, f->segs, NSEGS, n), (int)n);
	uint32_t lens[BIG];
	for (unsigned k = 0; k < n; k++)
		lens[k] = k % 64u;
	/* A refused batch is not announced. */
	lens[39] = 65;
	refused(f, f->chain, lens, n, -VIO_EINVAL);
	assert_int_equal(f->nev, 0);
	lens[39] = 39;
	struct vio_ring_state st;
	vio_devq_get_state(f->l.dq, &st);
	assert_err(vio_devq_push_chains(f->l.dq, f->chain, lens, n), 0);
	assert_int_equal(f->nev, 4);
	const unsigned part[2] = {32, 8};
	unsigned first = 0;
	for (unsigned b = 0; b < 2; b++) {
		struct ev *be = &f->ev[2 * b], *en = &f->ev[2 * b + 1];
		assert_true(be->begin && !en->begin);
		assert_int_equal(be->n, part[b]);
		assert_int_equal(en->n, part[b]);
		assert_int_equal(be->first_id, f->chain[first].id);
		assert_int_equal(be->first_len, lens[first]);
		assert_int_equal(be->visible, 0);
		assert_int_equal(en->visible, (int)part[b]);
		first += part[b];
		/* One slot per chain here: the position moves by the batch. */
		assert_int_equal(be->after.used_idx, (uint16_t)((st.used_idx + first) % BIG));
		assert_int_equal(en->after.used_idx, be->after.used_idx);
		assert_int_equal(be->after.inflight, n - first);
	}
	vio_devq_get_state(f->l.dq, &st);
	assert_int_equal(st.inflight, 0);
	assert_err(vio_devq_set_journal(f->l.dq, NULL, NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_push_chains_completes),
		BOTH(test_push_chains_completes_mapped),
		BOTH(test_push_chains_completes_logged),
		BOTH(test_push_chains_refusals),
		BOTH(test_push_chains_refusals_mapped),
		BOTH(test_push_chains_refusals_logged),
		BOTH(test_push_chains_altered_ndesc),
		BOTH(test_push_chains_broken_and_empty),
		BOTH(test_push_chains_log_as_push_batch),
		BOTH(test_push_chains_releases_as_push_batch),
		BOTH(test_push_chains_journal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
