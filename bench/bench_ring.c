/* SPDX-License-Identifier: MIT */
/* Ring benchmark: single-thread round-trip cost and two-thread throughput,
 * split and packed, 1- and 3-descriptor chains, EVENT_IDX on and off.
 *
 *   bench_ring [--json] [--quick] [--iters N] [--only KEY]
 *
 * KEY is a single-thread figure such as split/1desc/evidx. A round trip is
 * driver add -> kick_prepare -> device pop -> push -> needs_notify -> driver
 * get, all in one thread, in bench_rt_loop() (kept out of line so callgrind
 * can count just it: see bench/README.md). A 3-descriptor chain is one
 * device-readable and two device-writable segments, direct descriptors.
 *
 * Two-thread figures (KEY/2thread): a driver thread keeps the ring full and
 * reaps, a device thread pops and pushes; both busy-poll (no sleeping), and
 * still call kick_prepare / needs_notify so the suppression reads are paid.
 * Wall-clock figures on shared machines swing; compare instruction counts
 * or interleaved runs. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtio/virtio.h>

#define QSIZE 256
#define ARENA (1u << 20)

static _Alignas(4096) unsigned char arena[ARENA];

static void *map_arena(void *ctx, uint64_t addr, size_t len, enum vio_map_dir dir)
{
	(void)ctx;
	(void)dir;
	uint64_t base = (uint64_t)(uintptr_t)arena;
	if (addr < base || addr - base > ARENA || len > ARENA - (addr - base))
		return NULL;
	return (void *)(uintptr_t)addr;
}

static const struct vio_dev_mem_ops arena_ops = {map_arena};

struct pair {
	struct vio_vq *vq;
	struct vio_devq *dq;
	_Alignas(64) unsigned char vqmem[32768];
	_Alignas(64) unsigned char dqmem[4096];
};

static void pair_init(struct pair *p, enum vio_ring_format fmt, bool evidx)
{
	memset(arena, 0, 3 * 4096 + 16 * QSIZE);
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	c.format = fmt;
	c.size = QSIZE;
	vio_features_set(&c.features, VIO_F_VERSION_1);
	if (evidx)
		vio_features_set(&c.features, VIO_F_EVENT_IDX);
	if (fmt == VIO_RING_PACKED)
		vio_features_set(&c.features, VIO_F_RING_PACKED);
	c.desc = arena;
	c.driver_area = arena + 8192;
	c.device_area = arena + 12288;
	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = fmt;
	dc.size = QSIZE;
	dc.features = c.features;
	dc.mem_ops = &arena_ops;
	if (vio_vq_init(&p->vq, p->vqmem, sizeof(p->vqmem), &c) < 0 ||
	    vio_vq_ring_addrs(p->vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr) < 0 ||
	    vio_devq_init(&p->dq, p->dqmem, sizeof(p->dqmem), &dc) < 0) {
		fprintf(stderr, "bench: queue set-up failed\n");
		exit(1);
	}
}

static void make_sg(struct vio_sg *sg, unsigned slot)
{
	unsigned char *b = arena + 65536 + (size_t)(slot % QSIZE) * 3072u;
	sg[0].addr = b;
	sg[0].len = 512;
	sg[1].addr = b + 1024;
	sg[1].len = 512;
	sg[2].addr = b + 2048;
	sg[2].len = 512;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One thread, one buffer in flight: the cost of a whole round trip. Not
 * static and never inlined, so callgrind's --toggle-collect can name it. */
unsigned long bench_rt_loop(struct pair *p, unsigned long iters, unsigned ndesc);

__attribute__((noinline)) unsigned long bench_rt_loop(struct pair *p, unsigned long iters,
						      unsigned ndesc)
{
	struct vio_sg sg[3];
	struct vio_seg segs[4];
	unsigned long ok = 0;
	make_sg(sg, 0);
	for (unsigned long i = 0; i < iters; i++) {
		struct vio_chain ch;
		void *tok;
		uint32_t len;
		vio_vq_add(p->vq, sg, 1, ndesc - 1, sg);
		(void)vio_vq_kick_prepare(p->vq);
		vio_devq_pop(p->dq, &ch, segs, 4);
		vio_devq_push(p->dq, &ch, ch.in_bytes);
		(void)vio_devq_needs_notify(p->dq);
		ok += vio_vq_get(p->vq, &tok, &len) == 0;
	}
	return ok;
}

struct two {
	struct pair *p;
	unsigned long n;
	unsigned ndesc;
	atomic_bool go;
};

static void *device_thread(void *arg)
{
	struct two *t = arg;
	struct vio_seg segs[4];
	unsigned long done = 0;
	while (!atomic_load_explicit(&t->go, memory_order_acquire))
		;
	while (done < t->n) {
		struct vio_chain ch;
		if (vio_devq_pop(t->p->dq, &ch, segs, 4) != 0)
			continue;
		vio_devq_push(t->p->dq, &ch, ch.in_bytes);
		(void)vio_devq_needs_notify(t->p->dq);
		done++;
	}
	return NULL;
}

static double two_thread(struct pair *p, unsigned long n, unsigned ndesc)
{
	struct two t = {p, n, ndesc, false};
	pthread_t dev;
	pthread_create(&dev, NULL, device_thread, &t);
	struct vio_sg sg[3];
	unsigned long sent = 0, got = 0;
	double t0 = now();
	atomic_store_explicit(&t.go, true, memory_order_release);
	while (got < n) {
		while (sent < n) {
			make_sg(sg, (unsigned)sent);
			if (vio_vq_add(p->vq, sg, 1, ndesc - 1, sg) != 0)
				break;
			sent++;
		}
		(void)vio_vq_kick_prepare(p->vq);
		void *tok;
		uint32_t len;
		while (vio_vq_get(p->vq, &tok, &len) == 0)
			got++;
	}
	double secs = now() - t0;
	pthread_join(dev, NULL);
	return secs;
}

struct figure {
	char key[48];
	double ns_per_op;
};

static struct figure figs[32];
static unsigned nfigs;

static void record(const char *key, double secs, unsigned long n)
{
	struct figure *f = &figs[nfigs++];
	snprintf(f->key, sizeof(f->key), "%s", key);
	f->ns_per_op = secs * 1e9 / (double)n;
}

int main(int argc, char **argv)
{
	bool json = false, quick = false;
	unsigned long iters = 2000000;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--quick"))
			quick = true;
		else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
			iters = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = argv[++i];
		else {
			fprintf(stderr, "usage: %s [--json] [--quick] [--iters N] [--only KEY]\n",
				argv[0]);
			return 2;
		}
	}
	if (quick)
		iters = 20000;
	if (iters == 0)
		iters = 1;

	static struct pair p;
	static const char *fmt_name[] = {"split", "packed"};
	bool any = false;
	for (int f = 0; f < 2; f++) {
		for (unsigned ndesc = 1; ndesc <= 3; ndesc += 2) {
			for (int e = 1; e >= 0; e--) {
				char key[48];
				snprintf(key, sizeof(key), "%s/%udesc/%s", fmt_name[f], ndesc,
					 e ? "evidx" : "noevidx");
				if (only != NULL && strcmp(only, key) != 0)
					continue;
				any = true;
				enum vio_ring_format fmt = f ? VIO_RING_PACKED : VIO_RING_SPLIT;
				pair_init(&p, fmt, e != 0);
				double t0 = now();
				unsigned long ok = bench_rt_loop(&p, iters, ndesc);
				double secs = now() - t0;
				if (ok != iters) {
					fprintf(stderr, "bench: %s: %lu of %lu round trips\n", key,
						ok, iters);
					return 1;
				}
				record(key, secs, iters);
				if (only != NULL) {
					printf("%s: %lu round trips (bench_rt_loop)\n", key, iters);
					continue;
				}
				pair_init(&p, fmt, e != 0);
				unsigned long n = iters * 2;
				double s2 = two_thread(&p, n, ndesc);
				char k2[56];
				snprintf(k2, sizeof(k2), "%s/2thread", key);
				record(k2, s2, n);
			}
		}
	}
	if (!any) {
		fprintf(stderr, "bench: no figure named %s\n", only);
		return 2;
	}

	if (json) {
		printf("{");
		for (unsigned i = 0; i < nfigs; i++)
			printf("%s\"%s\": {\"ns_per_op\": %.2f, \"ops_per_s\": %.0f}",
			       i ? ", " : "", figs[i].key, figs[i].ns_per_op,
			       1e9 / figs[i].ns_per_op);
		printf("}\n");
		return 0;
	}
	printf("%-28s %14s %14s\n", "figure", "split ns/op", "packed ns/op");
	unsigned half = nfigs / 2;
	for (unsigned i = 0; i < half; i++) {
		const char *k = strchr(figs[i].key, '/');
		printf("%-28s %14.1f %14.1f\n", k ? k + 1 : figs[i].key, figs[i].ns_per_op,
		       figs[i + half].ns_per_op);
	}
	printf("(single-thread rows: one whole round trip; 2thread rows: per buffer, "
	       "throughput = 1e9 / ns)\n");
	return 0;
}
