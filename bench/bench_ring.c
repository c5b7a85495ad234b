/* SPDX-License-Identifier: MIT */
/*
 * bench_ring: what the ring core costs, split against packed.
 *
 * Figures, each keyed FORMAT/SHAPE/EVIDX[/MODE]:
 *   FORMAT  split | packed
 *   SHAPE   1desc           one device-writable segment (1536 bytes; a receive buffer)
 *           3desc           one device-readable segment (16-byte header) and two
 *                           device-writable ones (4096 bytes of data, 1 status byte):
 *                           a block read; direct descriptors
 *           3desc-indirect  the same chain in one indirect table (VIO_F_INDIRECT_DESC)
 *   EVIDX   evidx | noevidx (VIO_F_EVENT_IDX negotiated or not)
 *   MODE    (none)    single thread, one buffer in flight, a whole round trip:
 *                     vio_vq_add -> vio_vq_kick_prepare -> vio_devq_pop ->
 *                     vio_devq_push -> vio_devq_needs_notify -> vio_vq_get.
 *                     Both sides have asked for notifications (vio_vq_enable_intr,
 *                     vio_devq_enable_notify at set-up), so the suppression checks
 *                     take their full path; nothing is signalled.
 *           nonotify  the same without kick_prepare and needs_notify.
 *           2thread   a driver thread keeps the ring full and reaps, a device
 *                     thread pops and pushes. Both busy-poll: each tells the other
 *                     it polls (vio_vq_disable_intr / vio_devq_disable_notify) and
 *                     still makes the suppression calls once per batch
 *                     (kick_prepare after adding, needs_notify after pushing), as a
 *                     polling driver and device do. Nobody sleeps; an idle side
 *                     calls sched_yield() after 64 empty polls. Time per buffer.
 *
 * The single-thread loop is bench_rt_loop(), out of line and not static, so
 * that valgrind --tool=callgrind --toggle-collect=bench_rt_loop counts just
 * it; --only KEY runs it once for exactly --iters round trips (see
 * bench/README.md). Every return code, token and length is checked.
 *
 * Memory: the driver uses identity addresses (no dma_ops); the device's map
 * callback grants a range only inside the blocks it was told about (buffers,
 * rings, indirect tables) with the access they allow, as a VMM's table of
 * guest memory would. With --regions the device gets the same blocks as a
 * region table (vio_mem_region) instead, searched inline by the library.
 *
 * Usage: bench_ring [--json] [--quick] [--iters N] [--reps N] [--size N] [--only KEY]
 *                   [--regions]
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtio/virtio.h>

#define DEFAULT_ITERS 1000000ul
#define QUICK_ITERS 20000ul
#define DEFAULT_REPS 3u
#define SLOT_BYTES 8192u   /* buffers of one request: header, data, status */
#define DATA_OFF 64u	   /* 4096 data bytes at this offset in a slot */
#define STATUS_OFF 4160u   /* the status byte */
#define RX_LEN 1536u	   /* the 1desc buffer */
#define MAX_CHAIN 3u	   /* segments of the longest shape */
#define IDLE_YIELD 64u	   /* empty polls before sched_yield() */
#define STALL_SECONDS 10.0 /* two-thread run without progress: fail */
/* Blocks one thread writes and the other reads are aligned to, and padded
 * to, a pair of cache lines (x86 prefetches lines in pairs), so that no
 * other data shares their lines. */
#define CACHE_PAIR 128u

/* ------------------------------------------------------------------------ */
/* The device's view of driver memory                                       */
/* ------------------------------------------------------------------------ */

struct region {
	uint64_t start;
	size_t len;
	unsigned dirs;
};

struct memtab {
	struct region r[3];
	struct vio_mem_region table[3]; /* the same blocks, for --regions */
	unsigned n;
};

/* --regions: give the device a region table instead of the map callback. */
static bool use_regions;

static void memtab_add(struct memtab *mt, const void *p, size_t len, unsigned dirs)
{
	struct region *r = &mt->r[mt->n++];
	r->start = (uint64_t)(uintptr_t)p;
	r->len = len;
	r->dirs = dirs;
	mt->table[mt->n - 1] = (struct vio_mem_region){r->start, len, (void *)(uintptr_t)p, dirs};
}

static int dev_map(void *ctx, uint64_t addr, uint64_t len, enum vio_map_dir dir,
		   struct vio_mapping *m)
{
	const struct memtab *mt = ctx;
	for (unsigned i = 0; i < mt->n; i++) {
		const struct region *r = &mt->r[i];
		if (addr - r->start < r->len) {
			if (len > r->len - (addr - r->start) || ((unsigned)dir & ~r->dirs) != 0)
				return -VIO_EMAP;
			m->host = (void *)(uintptr_t)addr;
			m->len = len;
			m->release = false;
			return 0;
		}
	}
	return -VIO_EMAP;
}

static const struct vio_mem_ops dev_mem_ops = {.map = dev_map};

/* ------------------------------------------------------------------------ */
/* A queue pair                                                             */
/* ------------------------------------------------------------------------ */

enum shape {
	SHAPE_1DESC,
	SHAPE_3DESC,
	SHAPE_3DESC_INDIRECT,
	SHAPE_N
};
static const char *const shape_name[SHAPE_N] = {"1desc", "3desc", "3desc-indirect"};
static const char *const format_name[2] = {"split", "packed"};

struct pair {
	enum vio_ring_format format;
	enum shape shape;
	bool event_idx;
	uint16_t size;
	void *ring;
	size_t ring_len;
	void *indirect_pool;
	unsigned char *bufs; /* size slots of SLOT_BYTES */
	void *vq_mem, *dq_mem;
	struct vio_vq *vq;
	struct vio_devq *dq;
	struct memtab mt;
	struct vio_chain_seg *segs; /* size entries, for vio_devq_pop() */
};

static void *alloc_zeroed(size_t align, size_t len)
{
	len = (len + align - 1) & ~(align - 1);
	void *p = aligned_alloc(align, len);
	if (p != NULL)
		memset(p, 0, len);
	return p;
}

static void pair_free(struct pair *p)
{
	free(p->segs);
	free(p->dq_mem);
	free(p->vq_mem);
	free(p->bufs);
	free(p->indirect_pool);
	free(p->ring);
	memset(p, 0, sizeof(*p));
}

static int pair_init(struct pair *p, enum vio_ring_format format, enum shape shape, bool event_idx,
		     uint16_t size)
{
	memset(p, 0, sizeof(*p));
	p->format = format;
	p->shape = shape;
	p->event_idx = event_idx;
	p->size = size;

	struct vio_features f = vio_features_none();
	vio_features_set(&f, VIO_F_VERSION_1);
	if (event_idx)
		vio_features_set(&f, VIO_F_EVENT_IDX);
	if (shape == SHAPE_3DESC_INDIRECT)
		vio_features_set(&f, VIO_F_INDIRECT_DESC);
	if (format == VIO_RING_PACKED)
		vio_features_set(&f, VIO_F_RING_PACKED);

	struct vio_vq_config vc;
	memset(&vc, 0, sizeof(vc));
	vc.format = format;
	vc.size = size;
	vc.features = f;
	if (format == VIO_RING_SPLIT) {
		struct vio_split_layout l;
		if (!vio_split_layout(size, VIO_SPLIT_LEGACY_ALIGN, &l))
			return -1;
		p->ring_len = l.total;
		p->ring = alloc_zeroed(4096, l.total);
		if (p->ring == NULL)
			return -1;
		vc.desc = (unsigned char *)p->ring + l.desc_off;
		vc.driver_area = (unsigned char *)p->ring + l.avail_off;
		vc.device_area = (unsigned char *)p->ring + l.used_off;
	} else {
		p->ring_len = vio_packed_desc_size(size) + 2 * vio_packed_event_size();
		p->ring = alloc_zeroed(4096, p->ring_len);
		if (p->ring == NULL)
			return -1;
		vc.desc = p->ring;
		vc.driver_area = (unsigned char *)p->ring + vio_packed_desc_size(size);
		vc.device_area = (unsigned char *)vc.driver_area + vio_packed_event_size();
	}
	p->bufs = alloc_zeroed(4096, (size_t)size * SLOT_BYTES);
	p->segs = alloc_zeroed(CACHE_PAIR, (size_t)size * sizeof(*p->segs));
	if (p->bufs == NULL || p->segs == NULL)
		return -1;
	if (shape == SHAPE_3DESC_INDIRECT) {
		p->indirect_pool = alloc_zeroed(64, (size_t)size * MAX_CHAIN * 16);
		if (p->indirect_pool == NULL)
			return -1;
		vc.indirect_pool = p->indirect_pool;
		vc.indirect_max = MAX_CHAIN;
	}
	/* Most map calls are for buffers: look there first. */
	memtab_add(&p->mt, p->bufs, (size_t)size * SLOT_BYTES, VIO_MAP_RW);
	memtab_add(&p->mt, p->ring, p->ring_len, VIO_MAP_RW);
	if (p->indirect_pool != NULL)
		memtab_add(&p->mt, p->indirect_pool, (size_t)size * MAX_CHAIN * 16, VIO_MAP_READ);

	size_t vsz = vio_vq_mem_size(&vc), dsz = vio_devq_mem_size(format, size);
	/* The driver's and the device's private state never share a line. */
	p->vq_mem = alloc_zeroed(CACHE_PAIR, vsz);
	p->dq_mem = alloc_zeroed(CACHE_PAIR, dsz);
	if (vsz == 0 || dsz == 0 || p->vq_mem == NULL || p->dq_mem == NULL)
		return -1;
	int rc = vio_vq_init(&p->vq, p->vq_mem, vsz, &vc);
	if (rc < 0) {
		fprintf(stderr, "bench_ring: vio_vq_init: %s\n", vio_strerror(rc));
		return -1;
	}
	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = format;
	dc.size = size;
	dc.features = f;
	if (use_regions) {
		dc.regions = p->mt.table;
		dc.nregions = p->mt.n;
	} else {
		dc.mem_ops = &dev_mem_ops;
		dc.mem_ctx = &p->mt;
	}
	rc = vio_vq_ring_addrs(p->vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr);
	if (rc == 0)
		rc = vio_devq_init(&p->dq, p->dq_mem, dsz, &dc);
	if (rc < 0) {
		fprintf(stderr, "bench_ring: queue set-up: %s\n", vio_strerror(rc));
		return -1;
	}
	return 0;
}

/* The segments of request slot @k; returns the readable count, *in the
 * writable one, *inb the writable bytes. */
static unsigned make_sg(const struct pair *p, unsigned k, struct vio_sg *sg, unsigned *in,
			uint32_t *inb)
{
	unsigned char *b = p->bufs + (size_t)k * SLOT_BYTES;
	if (p->shape == SHAPE_1DESC) {
		sg[0] = (struct vio_sg){b, RX_LEN};
		*in = 1;
		*inb = RX_LEN;
		return 0;
	}
	sg[0] = (struct vio_sg){b, 16};
	sg[1] = (struct vio_sg){b + DATA_OFF, 4096};
	sg[2] = (struct vio_sg){b + STATUS_OFF, 1};
	*in = 2;
	*inb = 4097;
	return 1;
}

/* ------------------------------------------------------------------------ */
/* Single thread                                                            */
/* ------------------------------------------------------------------------ */

struct rt_ctx {
	struct vio_vq *vq;
	struct vio_devq *dq;
	const struct vio_sg *sg;
	unsigned out, in;
	uint32_t in_bytes; /* what the device writes, the driver must get back */
	void *token;
	struct vio_chain_seg *segs;
	uint16_t max_segs;
	bool notify; /* make the kick_prepare / needs_notify calls */
	unsigned long kicks, intrs;
	int err; /* the failing call's return code, or 1 for a wrong token/length */
};

unsigned long bench_rt_loop(struct rt_ctx *c, unsigned long iters);

/* One buffer in flight, a whole round trip per iteration. Returns the round
 * trips completed (iters unless something failed, see c->err). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, noclone))
#elif defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
unsigned long
bench_rt_loop(struct rt_ctx *c, unsigned long iters)
{
	/* Locals, not c->...: the calls could change *c, so the compiler
	 * would reload every field each iteration. */
	struct vio_vq *const vq = c->vq;
	struct vio_devq *const dq = c->dq;
	const struct vio_sg *const sg = c->sg;
	const unsigned out = c->out, in = c->in;
	void *const token = c->token;
	struct vio_chain_seg *const segs = c->segs;
	const uint16_t max_segs = c->max_segs;
	const uint32_t in_bytes = c->in_bytes;
	const bool notify = c->notify;
	unsigned long kicks = 0, intrs = 0, i;
	int rc = 0;
	for (i = 0; i < iters; i++) {
		struct vio_chain ch;
		void *tok;
		uint32_t len;
		rc = vio_vq_add(vq, sg, out, in, token);
		if (rc != 0)
			break;
		if (notify)
			kicks += vio_vq_kick_prepare(vq);
		rc = vio_devq_pop(dq, &ch, segs, max_segs);
		if (rc != 0)
			break;
		rc = vio_devq_push(dq, &ch, ch.in_bytes);
		if (rc != 0)
			break;
		if (notify)
			intrs += vio_devq_needs_notify(dq);
		rc = vio_vq_get(vq, &tok, &len);
		if (rc != 0)
			break;
		if (tok != token || len != in_bytes) {
			rc = 1;
			break;
		}
	}
	c->kicks += kicks;
	c->intrs += intrs;
	c->err = rc;
	return i;
}

#define BATCH 32u /* buffers per iteration of bench_batch_loop */

unsigned long bench_batch_loop(struct rt_ctx *c, unsigned long iters);

/* BATCH buffers in flight per iteration: one vio_vq_add_batch of BATCH,
 * one kick_prepare, one vio_devq_pop_batch and one vio_devq_push_chains
 * of BATCH, one needs_notify, one
 * vio_vq_get_batch of BATCH. Returns the
 * iterations completed (see c->err). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, noclone))
#elif defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
unsigned long
bench_batch_loop(struct rt_ctx *c, unsigned long iters)
{
	unsigned long kicks = 0, intrs = 0, i;
	int rc = 0;
	/* The batch's segments and tokens: BATCH copies of the one buffer. */
	const unsigned per = c->out + c->in;
	struct vio_sg sgs[BATCH * MAX_CHAIN];
	void *toks[BATCH];
	for (unsigned k = 0; k < BATCH; k++) {
		toks[k] = c->token;
		for (unsigned j = 0; j < per; j++)
			sgs[k * per + j] = c->sg[j];
	}
	for (i = 0; i < iters; i++) {
		unsigned k;
		int added = vio_vq_add_batch(c->vq, sgs, c->out, c->in, toks, BATCH);
		if (added != (int)BATCH) {
			rc = added < 0 ? added : 1;
			break;
		}
		kicks += vio_vq_kick_prepare(c->vq);
		{
			/* The device takes what is available and completes it
			 * as one batch, each chain with its own segments. */
			struct vio_chain ch[BATCH];
			struct vio_chain_seg segs[BATCH * MAX_CHAIN];
			uint32_t written[BATCH];
			int got = vio_devq_pop_batch(c->dq, ch, segs, MAX_CHAIN, BATCH);
			if (got != (int)BATCH) {
				rc = got < 0 ? got : -VIO_EAGAIN;
				break;
			}
			/* Serving chain k writes written[k] bytes (all of its
			 * writable part here). */
			for (k = 0; k < BATCH; k++)
				written[k] = ch[k].in_bytes;
			rc = vio_devq_push_chains(c->dq, ch, written, BATCH);
		}
		if (rc != 0)
			break;
		intrs += vio_devq_needs_notify(c->dq);
		void *tok[BATCH];
		uint32_t len[BATCH];
		int got = vio_vq_get_batch(c->vq, tok, len, BATCH);
		if (got != (int)BATCH) {
			rc = got < 0 ? got : 1;
			break;
		}
		for (k = 0; k < BATCH && rc == 0; k++)
			if (tok[k] != c->token || len[k] != c->in_bytes)
				rc = 1;
		if (rc != 0)
			break;
	}
	c->kicks += kicks;
	c->intrs += intrs;
	c->err = rc;
	return i;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------------ */
/* Two threads                                                              */
/* ------------------------------------------------------------------------ */

struct tt_ctx {
	struct pair *p;
	atomic_bool ready, go, stop;
	atomic_int dev_err; /* the device thread's failure, 0 if none */
};

static void *tt_device(void *arg)
{
	struct tt_ctx *t = arg;
	/* In locals, as in rtt_device(). */
	struct vio_devq *const dq = t->p->dq;
	struct vio_chain_seg *const segs = t->p->segs;
	const uint16_t max_segs = t->p->size;
	unsigned idle = 0;

	vio_devq_disable_notify(dq); /* the device polls */
	atomic_store(&t->ready, true);
	while (!atomic_load(&t->go))
		sched_yield();
	while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
		struct vio_chain ch;
		unsigned n = 0;
		int rc;
		while ((rc = vio_devq_pop(dq, &ch, segs, max_segs)) == 0) {
			rc = vio_devq_push(dq, &ch, ch.in_bytes);
			if (rc != 0)
				break;
			n++;
		}
		if (rc != -VIO_EAGAIN) {
			atomic_store(&t->dev_err, rc);
			break;
		}
		if (n != 0) {
			(void)vio_devq_needs_notify(dq); /* a polling device asks all the same */
			idle = 0;
		} else if (++idle == IDLE_YIELD) {
			idle = 0;
			sched_yield();
		}
	}
	return NULL;
}

/* Run @ops buffers through @p with a device thread. Returns the seconds
 * taken, or a negative value on failure. */
static double two_thread(struct pair *p, unsigned long ops)
{
	/* The shared context in blocks of its own, as in ringtest_run(). */
	struct tt_ctx *tp = alloc_zeroed(CACHE_PAIR, sizeof(*tp));
	if (tp == NULL)
		return -1;
	tp->p = p;
	atomic_init(&tp->ready, false);
	atomic_init(&tp->go, false);
	atomic_init(&tp->stop, false);
	atomic_init(&tp->dev_err, 0);

	uint16_t n = p->size;
	uint16_t *free_stack = malloc(n * sizeof(*free_stack));
	if (free_stack == NULL) {
		free(tp);
		return -1;
	}
	for (uint16_t i = 0; i < n; i++)
		free_stack[i] = (uint16_t)(n - 1u - i);
	unsigned nfree = n;

	pthread_t dev;
	if (pthread_create(&dev, NULL, tt_device, tp) != 0) {
		free(free_stack);
		free(tp);
		return -1;
	}
	vio_vq_disable_intr(p->vq); /* the driver polls */
	while (!atomic_load(&tp->ready))
		sched_yield();

	unsigned long sent = 0, done = 0, idle = 0;
	const char *why = NULL;
	int err = 0;
	double t0 = now(), idle_since = t0;
	atomic_store(&tp->go, true);
	while (done < ops) {
		bool progress = false;
		while (sent < ops && nfree > 0) {
			struct vio_sg sg[MAX_CHAIN];
			unsigned in, k = free_stack[nfree - 1];
			uint32_t inb;
			unsigned out = make_sg(p, k, sg, &in, &inb);
			/* Token: the slot number + 1 (never NULL). */
			int rc = vio_vq_add(p->vq, sg, out, in, (void *)(uintptr_t)(k + 1u));
			if (rc == -VIO_ENOSPC)
				break;
			if (rc != 0) {
				why = "vio_vq_add";
				err = rc;
				goto out;
			}
			nfree--;
			sent++;
			progress = true;
		}
		if (progress)
			(void)vio_vq_kick_prepare(p->vq);
		for (;;) {
			void *tok;
			uint32_t len;
			int rc = vio_vq_get(p->vq, &tok, &len);
			if (rc == -VIO_EAGAIN)
				break;
			uintptr_t k = (uintptr_t)tok - 1u;
			if (rc != 0 || k >= n) {
				why = "vio_vq_get";
				err = rc;
				goto out;
			}
			free_stack[nfree++] = (uint16_t)k;
			done++;
			progress = true;
		}
		if (progress) {
			idle = 0;
			continue;
		}
		if (++idle % IDLE_YIELD == 0) {
			sched_yield();
			if (atomic_load(&tp->dev_err) != 0) {
				why = "device thread";
				err = atomic_load(&tp->dev_err);
				goto out;
			}
			double tn = now();
			if (idle == IDLE_YIELD) {
				idle_since = tn;
			} else if (tn - idle_since > STALL_SECONDS) {
				why = "no progress (stalled)";
				goto out;
			}
		}
	}
out:;
	double secs = now() - t0;
	atomic_store(&tp->stop, true);
	pthread_join(dev, NULL);
	free(free_stack);
	if (why == NULL && atomic_load(&tp->dev_err) != 0) {
		why = "device thread";
		err = atomic_load(&tp->dev_err);
	}
	free(tp);
	if (why != NULL) {
		fprintf(stderr, "bench_ring: two-thread run: %s: %s\n", why,
			err != 0 ? vio_err_name(err) : "");
		return -1;
	}
	return secs;
}

/* ------------------------------------------------------------------------ */
/* Two threads the way Linux's tools/virtio/ringtest runs them              */
/* ------------------------------------------------------------------------ */

/* The comparable workload: driver and device each pinned to its own CPU,
 * both busy-polling (no kicks, no interrupts, no yields), the driver adding
 * one buffer and then trying to reap one, over and over, the device taking
 * and completing each buffer as soon as it sees it: ringtest's run_guest()
 * and run_host() without --sleep. The figure is the time per buffer. */

static int cpu_a = 0, cpu_b = 1; /* --cpus A,B: driver, device */

static void pin_self(int cpu)
{
#ifdef __linux__
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
		fprintf(stderr, "bench_ring: cannot pin to CPU %d (running unpinned)\n", cpu);
#else
	(void)cpu;
#endif
}

struct rtt_ctx {
	struct pair *p;
	unsigned long bufs;
	atomic_bool ready, go;
	atomic_int dev_err;
};

static void *rtt_device(void *arg)
{
	struct rtt_ctx *t = arg;
	/* Everything the loop needs in locals: the calls could change *t, so
	 * the compiler would reload t->bufs on every poll, a load from a line
	 * the driver thread owns. */
	struct vio_devq *const dq = t->p->dq;
	struct vio_chain_seg *const segs = t->p->segs;
	const uint16_t max_segs = t->p->size;
	const unsigned long bufs = t->bufs;
	unsigned long done = 0;

	pin_self(cpu_b);
	atomic_store(&t->ready, true);
	while (!atomic_load(&t->go))
		;
	while (done < bufs) {
		struct vio_chain ch;
		int rc = vio_devq_pop(dq, &ch, segs, max_segs);
		if (rc == -VIO_EAGAIN)
			continue;
		if (rc == 0)
			rc = vio_devq_push(dq, &ch, ch.in_bytes);
		if (rc != 0) {
			atomic_store(&t->dev_err, rc);
			return NULL;
		}
		done++;
	}
	return NULL;
}

/* One ringtest-style run of @bufs buffers; seconds, or negative on failure. */
static double ringtest_run(struct pair *p, unsigned long bufs)
{
	/* The shared context in blocks of its own (CACHE_PAIR), not on the
	 * driver's stack next to the locals it writes on every buffer. */
	struct rtt_ctx *tp = alloc_zeroed(CACHE_PAIR, sizeof(*tp));
	if (tp == NULL)
		return -1;
	tp->p = p;
	tp->bufs = bufs;
	atomic_init(&tp->ready, false);
	atomic_init(&tp->go, false);
	atomic_init(&tp->dev_err, 0);

	uint16_t n = p->size;
	uint16_t *free_stack = malloc(n * sizeof(*free_stack));
	if (free_stack == NULL) {
		free(tp);
		return -1;
	}
	for (uint16_t i = 0; i < n; i++)
		free_stack[i] = (uint16_t)(n - 1u - i);
	unsigned nfree = n;

	/* Nobody sleeps: both sides suppress the other's notifications. */
	vio_vq_disable_intr(p->vq);
	vio_devq_disable_notify(p->dq);
	pthread_t dev;
	if (pthread_create(&dev, NULL, rtt_device, tp) != 0) {
		free(free_stack);
		free(tp);
		return -1;
	}
	pin_self(cpu_a);
	while (!atomic_load(&tp->ready))
		;

	unsigned long started = 0, completed = 0;
	const char *why = NULL;
	int err = 0;
	double t0 = now();
	atomic_store(&tp->go, true);
	while (completed < bufs) {
		if (started < bufs && nfree > 0) {
			struct vio_sg sg[MAX_CHAIN];
			unsigned in, k = free_stack[nfree - 1];
			uint32_t inb;
			unsigned out = make_sg(p, k, sg, &in, &inb);
			int rc = vio_vq_add(p->vq, sg, out, in, (void *)(uintptr_t)(k + 1u));
			if (rc == 0) {
				nfree--;
				started++;
			} else if (rc != -VIO_ENOSPC) {
				why = "vio_vq_add";
				err = rc;
				break;
			}
		}
		void *tok;
		uint32_t len;
		int rc = vio_vq_get(p->vq, &tok, &len);
		if (rc == 0) {
			uintptr_t k = (uintptr_t)tok - 1u;
			if (k >= n) {
				why = "vio_vq_get: foreign token";
				break;
			}
			free_stack[nfree++] = (uint16_t)k;
			completed++;
		} else if (rc != -VIO_EAGAIN) {
			why = "vio_vq_get";
			err = rc;
			break;
		} else if (atomic_load_explicit(&tp->dev_err, memory_order_relaxed) != 0) {
			why = "device thread";
			err = atomic_load(&tp->dev_err);
			break;
		}
	}
	double secs = now() - t0;
	if (why != NULL) {
		/* Let a device thread still waiting for buffers finish. */
		pthread_cancel(dev);
	}
	pthread_join(dev, NULL);
	free(free_stack);
	free(tp);
	if (why != NULL) {
		fprintf(stderr, "bench_ring: ringtest run: %s: %s\n", why,
			err != 0 ? vio_err_name(err) : "");
		return -1;
	}
	return secs;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------------------ */
/* Driver                                                                   */
/* ------------------------------------------------------------------------ */

enum mode {
	MODE_RT,
	MODE_NONOTIFY,
	MODE_2THREAD,
	MODE_RINGTEST,
	MODE_BATCH,
	MODE_N
};
static const char *const mode_suffix[MODE_N] = {"", "/nonotify", "/2thread", "/ringtest",
						"/batch32"};

struct figure {
	char key[64];
	double ns_per_op;
	unsigned long iters;
	bool done;
};

/* figs[format][shape][event_idx][mode] */
static struct figure figs[2][SHAPE_N][2][MODE_N];

struct opts {
	bool json, quick;
	unsigned long iters;
	unsigned reps;
	uint16_t size;
	const char *only;
};

static void make_key(char *buf, size_t len, int f, int s, int e, int m)
{
	snprintf(buf, len, "%s/%s/%s%s", format_name[f], shape_name[s], e ? "evidx" : "noevidx",
		 mode_suffix[m]);
}

/* One single-thread figure: the best of @reps runs (after a warm-up), or,
 * with @exact, one run of exactly @iters round trips. */
static int run_rt(struct pair *p, int mode, unsigned long iters, unsigned reps, bool exact,
		  double *ns, unsigned long *kicks, unsigned long *intrs)
{
	struct vio_sg sg[MAX_CHAIN];
	struct rt_ctx c;
	memset(&c, 0, sizeof(c));
	c.vq = p->vq;
	c.dq = p->dq;
	c.sg = sg;
	c.out = make_sg(p, 0, sg, &c.in, &c.in_bytes);
	c.token = p->bufs;
	c.segs = p->segs;
	c.max_segs = p->size;
	c.notify = mode == MODE_RT;
	unsigned long (*loop)(struct rt_ctx *, unsigned long) =
		mode == MODE_BATCH ? bench_batch_loop : bench_rt_loop;
	unsigned long per = mode == MODE_BATCH ? BATCH : 1u; /* buffers per iteration */
	iters = (iters + per - 1) / per;
	/* Both sides ask for notifications, as a driver waiting for an
	 * interrupt and a device waiting for a kick do: the suppression checks
	 * then take their full (EVENT_IDX) path. */
	(void)vio_vq_enable_intr(p->vq);
	(void)vio_devq_enable_notify(p->dq);

	if (!exact && loop(&c, iters / 10 + 1) != iters / 10 + 1)
		goto fail;
	double best = 0;
	for (unsigned r = 0; r < (exact ? 1u : reps); r++) {
		double t0 = now();
		unsigned long got = loop(&c, iters);
		double t = now() - t0;
		if (got != iters)
			goto fail;
		if (r == 0 || t < best)
			best = t;
	}
	*ns = best * 1e9 / (double)(iters * per);
	*kicks = c.kicks;
	*intrs = c.intrs;
	return 0;
fail:
	fprintf(stderr, "bench_ring: round trip failed: %s (driver %s, device %s)\n",
		c.err == 1 ? "wrong token or length" : vio_err_name(c.err),
		vio_vq_is_broken(p->vq) ? "broken" : "ok",
		vio_devq_is_broken(p->dq) ? vio_err_name(vio_devq_broken_reason(p->dq)) : "ok");
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bench_ring [--json] [--quick] [--iters N] [--reps N] [--size N] "
		   "[--only KEY] [--regions] [--cpus A,B]\n"
		   "  KEY: FORMAT/SHAPE/EVIDX[/nonotify|/ringtest], e.g. split/1desc/evidx\n"
		   "       /ringtest: two threads pinned to CPUs A (driver) and B (device),\n"
		   "       busy polling, add one / reap one; the median of --reps runs\n"
		   "       FORMAT split|packed, SHAPE 1desc|3desc|3desc-indirect, "
		   "EVIDX evidx|noevidx\n");
}

static bool parse_num(const char *s, unsigned long min, unsigned long max, unsigned long *v)
{
	char *end;
	errno = 0;
	unsigned long x = strtoul(s, &end, 0);
	if (s[0] == '-' || errno != 0 || end == s || *end != '\0' || x < min || x > max)
		return false;
	*v = x;
	return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	bool iters_given = false;
	o->json = false;
	o->quick = false;
	o->iters = DEFAULT_ITERS;
	o->reps = DEFAULT_REPS;
	o->size = 256;
	o->only = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long x;
		if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (strcmp(a, "--quick") == 0) {
			o->quick = true;
		} else if (strcmp(a, "--iters") == 0 && v != NULL &&
			   parse_num(v, 1, ULONG_MAX, &x)) {
			o->iters = x;
			iters_given = true;
			i++;
		} else if (strcmp(a, "--reps") == 0 && v != NULL && parse_num(v, 1, 100, &x)) {
			o->reps = (unsigned)x;
			i++;
		} else if (strcmp(a, "--size") == 0 && v != NULL &&
			   parse_num(v, MAX_CHAIN, VIO_SPLIT_MAX_SIZE, &x) && (x & (x - 1)) == 0) {
			o->size = (uint16_t)x;
			i++;
		} else if (strcmp(a, "--regions") == 0) {
			use_regions = true;
		} else if (strcmp(a, "--cpus") == 0 && v != NULL &&
			   sscanf(v, "%d,%d", &cpu_a, &cpu_b) == 2 && cpu_a >= 0 && cpu_b >= 0) {
			i++;
		} else if (strcmp(a, "--only") == 0 && v != NULL) {
			o->only = v;
			i++;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else {
			bool takes_value = strcmp(a, "--iters") == 0 || strcmp(a, "--reps") == 0 ||
					   strcmp(a, "--size") == 0 || strcmp(a, "--only") == 0 ||
					   strcmp(a, "--cpus") == 0;
			if (takes_value)
				fprintf(stderr, "bench_ring: bad or missing value for %s\n", a);
			else
				fprintf(stderr, "bench_ring: bad argument '%s'\n", a);
			usage(stderr);
			return -1;
		}
	}
	if (o->quick) {
		if (!iters_given)
			o->iters = QUICK_ITERS;
		o->reps = 1;
	}
	return 0;
}

static void print_json(void)
{
	bool first = true;
	printf("{");
	for (int f = 0; f < 2; f++)
		for (int s = 0; s < SHAPE_N; s++)
			for (int e = 1; e >= 0; e--)
				for (int m = 0; m < MODE_N; m++) {
					const struct figure *g = &figs[f][s][e][m];
					if (!g->done)
						continue;
					printf("%s\n  \"%s\": {\"ns_per_op\": %.2f, \"ops_per_s\": "
					       "%.0f, \"iters\": %lu}",
					       first ? "" : ",", g->key, g->ns_per_op,
					       1e9 / g->ns_per_op, g->iters);
					first = false;
				}
	printf("\n}\n");
}

static void print_cell(const struct figure *g)
{
	if (g->done)
		printf(" %9.1f %9.2f", g->ns_per_op, 1e3 / g->ns_per_op);
	else
		printf(" %9s %9s", "-", "-");
}

static void print_table(const struct opts *o)
{
	static const char *const mode_title[MODE_N] = {
		"single thread, round trip: add, kick_prepare, pop, push, needs_notify, get",
		"single thread, round trip without kick_prepare and needs_notify (nonotify)",
		"two threads, busy-polling driver and device (2thread), time per buffer",
		"two pinned threads, busy polling, add one / reap one (ringtest), median time per "
		"buffer",
		"single thread, 32 buffers per round: adds, kick_prepare, pops and pushes, "
		"needs_notify, gets (batch32), time per buffer",
	};
	printf("bench_ring: queue size %u, %lu iterations per figure%s\n", o->size, o->iters,
	       o->quick ? " (quick)" : "");
	for (int m = 0; m < MODE_N; m++) {
		printf("\n%s\n", mode_title[m]);
		printf("%-26s | %9s %9s | %9s %9s\n", "", "split", "", "packed", "");
		printf("%-26s | %9s %9s | %9s %9s\n", "chain / EVENT_IDX", "ns/op", "Mops/s",
		       "ns/op", "Mops/s");
		for (int s = 0; s < SHAPE_N; s++)
			for (int e = 1; e >= 0; e--) {
				char row[40];
				snprintf(row, sizeof(row), "%s / %s", shape_name[s],
					 e ? "evidx" : "noevidx");
				printf("%-26s |", row);
				print_cell(&figs[0][s][e][m]);
				printf(" |");
				print_cell(&figs[1][s][e][m]);
				printf("\n");
			}
	}
}

/* Measure figure @g: format @f, shape @s, EVENT_IDX @e, mode @m. */
static int run_figure(struct figure *g, int f, int s, int e, int m, const struct opts *o)
{
	static struct pair p;
	enum vio_ring_format fmt = f == 0 ? VIO_RING_SPLIT : VIO_RING_PACKED;
	unsigned long kicks = 0, intrs = 0;
	double ns = 0;
	if (m == MODE_BATCH && o->size < BATCH * MAX_CHAIN)
		return 0; /* the queue cannot hold a batch: no figure */
	int rc = pair_init(&p, fmt, (enum shape)s, e != 0, o->size);
	if (rc == 0 && m == MODE_2THREAD) {
		double secs = two_thread(&p, o->iters);
		rc = secs < 0 ? -1 : 0;
		ns = secs * 1e9 / (double)o->iters;
	} else if (rc == 0 && m == MODE_RINGTEST) {
		/* The median of --reps runs on fresh queues. */
		double t[100];
		for (unsigned r = 0; r < o->reps && rc == 0; r++) {
			if (r != 0) {
				pair_free(&p);
				rc = pair_init(&p, fmt, (enum shape)s, e != 0, o->size);
			}
			t[r] = rc == 0 ? ringtest_run(&p, o->iters) : -1;
			if (t[r] < 0)
				rc = -1;
		}
		if (rc == 0) {
			qsort(t, o->reps, sizeof(t[0]), cmp_double);
			ns = t[o->reps / 2] * 1e9 / (double)o->iters;
		}
	} else if (rc == 0) {
		rc = run_rt(&p, m, o->iters, o->reps, o->only != NULL, &ns, &kicks, &intrs);
	}
	pair_free(&p);
	if (rc != 0)
		return rc;
	g->ns_per_op = ns;
	g->iters = o->iters;
	g->done = true;
	if (o->only != NULL && !o->json && m == MODE_RINGTEST)
		printf("%s: %lu buffers, driver on CPU %d, device on CPU %d, median of %u runs: "
		       "%.1f ns per buffer (%.2f Mbuf/s)\n",
		       g->key, o->iters, cpu_a, cpu_b, o->reps, ns, 1e3 / ns);
	else if (o->only != NULL && !o->json)
		printf("%s: %lu round trips in bench_rt_loop, %.1f ns each "
		       "(kick_prepare said kick %lu times, needs_notify said interrupt %lu "
		       "times)\n",
		       g->key, o->iters, ns, kicks, intrs);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	if (parse_args(argc, argv, &o) != 0)
		return 2;

	bool found = false;
	for (int f = 0; f < 2; f++)
		for (int s = 0; s < SHAPE_N; s++)
			for (int e = 1; e >= 0; e--)
				for (int m = 0; m < MODE_N; m++) {
					struct figure *g = &figs[f][s][e][m];
					make_key(g->key, sizeof(g->key), f, s, e, m);
					if (o.only != NULL &&
					    (m == MODE_2THREAD || strcmp(o.only, g->key) != 0))
						continue;
					/* Pinned busy-polling threads: only when asked for. */
					if (o.only == NULL && m == MODE_RINGTEST)
						continue;
					found = true;
					if (run_figure(g, f, s, e, m, &o) != 0)
						return 1;
				}
	if (!found) {
		fprintf(stderr, "bench_ring: no figure named '%s'\n", o.only);
		usage(stderr);
		return 2;
	}
	if (o.json)
		print_json();
	else if (o.only == NULL)
		print_table(&o);
	return 0;
}
