/* SPDX-License-Identifier: MIT */
/* Loopback demo: a driver thread and a device thread share one virtqueue in
 * one process and move checksummed requests through it.
 *
 * The driver sends requests (a device-readable header + payload and a
 * device-writable response buffer); the device checks each request's
 * checksum and answers with the sequence number and its own checksum of the
 * payload; the driver checks every answer. Both sides suppress
 * notifications the way a real driver and device do: each sleeps only after
 * the library said it is safe (vio_vq_enable_intr() / vio_devq_enable_notify()
 * returned true), and a kick or an interrupt is sent only when the library
 * says the peer asked for it.
 *
 * This is how an embedder wires the library: the device reaches driver
 * memory only through a region table (here one region, the shared arena:
 * what a VMM's guest-memory map is), and the driver uses the default
 * identity address conversion. The device reads requests with a chain
 * cursor, never assuming where one segment ends (virtio 1.4 §2.6.4): the
 * driver sometimes splits the header itself across two segments.
 *
 * The device works in batches, as a VMM's device thread does after a kick:
 * take what is available (up to BATCH chains, vio_devq_pop_batch()), serve
 * each, give them all back with one call (vio_devq_push_chains(), which
 * publishes the used index once), then decide once whether to interrupt.
 *
 *   loopback_split [--format split|packed] [--count N] [--size N]
 *                  [--no-event-idx] [--indirect]
 *
 * The last line starts with OK when every check held, FAIL otherwise. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtio/virtio.h>

#define PAYLOAD_MAX 1024u
#define BATCH 32     /* most chains the device takes per call */
#define CHAIN_SEGS 8 /* segment room per chain (the driver uses up to 4) */
#define WAIT_SECONDS 30

/* What the driver puts in front of each payload. */
struct req_hdr {
	uint64_t seq;
	uint32_t len;  /* payload bytes after the header */
	uint32_t csum; /* FNV-1a of the payload */
};

/* What the device writes back. */
struct resp {
	uint64_t seq;
	uint32_t csum;
	uint32_t status; /* 0: request verified */
};

/* A doorbell between the threads: a kick (driver -> device) or an
 * interrupt (device -> driver). */
struct bell {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned long pending;
	atomic_ulong rung;
};

struct demo {
	enum vio_ring_format format;
	unsigned long count;
	uint16_t size;
	bool event_idx, indirect;
	unsigned char *arena;
	size_t arena_len;
	struct vio_vq *vq;
	struct vio_devq *dq;
	struct bell kick, irq;
	atomic_bool failed;
	atomic_ulong bytes;
	char why[160];
};

static uint32_t fnv1a(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void fail(struct demo *d, const char *what, long a, long b)
{
	bool was = atomic_exchange(&d->failed, true);
	if (!was)
		snprintf(d->why, sizeof(d->why), "%s (%ld, %ld)", what, a, b);
}

static void bell_init(struct bell *b)
{
	pthread_mutex_init(&b->m, NULL);
	pthread_cond_init(&b->c, NULL);
	b->pending = 0;
	atomic_init(&b->rung, 0);
}

static void bell_ring(struct bell *b)
{
	atomic_fetch_add(&b->rung, 1);
	pthread_mutex_lock(&b->m);
	b->pending++;
	pthread_cond_signal(&b->c);
	pthread_mutex_unlock(&b->m);
}

/* Wait for a ring; false after WAIT_SECONDS without one (a lost wakeup) or
 * when the other side failed. */
static bool bell_wait(struct bell *b, struct demo *d)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += WAIT_SECONDS;
	pthread_mutex_lock(&b->m);
	int rc = 0;
	while (b->pending == 0 && rc != ETIMEDOUT && !atomic_load(&d->failed))
		rc = pthread_cond_timedwait(&b->c, &b->m, &until);
	bool got = b->pending != 0;
	b->pending = 0;
	pthread_mutex_unlock(&b->m);
	return got;
}

/* ---- device thread ------------------------------------------------------------- */

/* Check one request: the readable part is a header and the payload, cut
 * into segments anywhere; the writable part takes the reply. */
static int serve(struct demo *d, const struct vio_chain *ch)
{
	struct vio_chain_cursor cur;
	struct req_hdr h;
	vio_chain_cursor_init(&cur, ch, false);
	/* Copy the header out once, then trust only the copy. */
	if (vio_chain_cursor_read(&cur, &h, sizeof(h)) != sizeof(h) ||
	    h.len != vio_chain_cursor_left(&cur) || ch->in_bytes < sizeof(struct resp))
		return -1;
	uint32_t csum = 2166136261u;
	unsigned char buf[256];
	size_t n;
	while ((n = vio_chain_cursor_read(&cur, buf, sizeof(buf))) != 0)
		for (size_t k = 0; k < n; k++)
			csum = (csum ^ buf[k]) * 16777619u; /* FNV-1a, continued */
	struct resp r = {h.seq, csum, csum == h.csum ? 0u : 1u};
	if (vio_chain_write(ch, 0, &r, sizeof(r)) != sizeof(r))
		return -1;
	atomic_fetch_add(&d->bytes, h.len);
	return r.status == 0 ? 0 : -1;
}

static void *device_main(void *arg)
{
	struct demo *d = arg;
	/* Chain k of a batch gets segs[k * CHAIN_SEGS ...]; lens[k] is what
	 * serving it wrote. */
	struct vio_chain chains[BATCH];
	struct vio_chain_seg segs[BATCH * CHAIN_SEGS];
	uint32_t lens[BATCH];
	unsigned long served = 0;

	vio_devq_disable_notify(d->dq); /* poll while there is work */
	while (served < d->count && !atomic_load(&d->failed)) {
		int n = vio_devq_pop_batch(d->dq, chains, segs, CHAIN_SEGS, BATCH);
		if (n == -VIO_EAGAIN) {
			/* Nothing to do: ask for a kick, re-check, then sleep. */
			if (vio_devq_enable_notify(d->dq) && !bell_wait(&d->kick, d)) {
				fail(d, "device: no kick came (lost wakeup)", (long)served, 0);
				break;
			}
			vio_devq_disable_notify(d->dq);
			continue;
		}
		if (n < 0) {
			/* A bad entry after good ones is reported by the next
			 * call, once the good ones are served. */
			fail(d, vio_strerror(n), n, (long)served);
			break;
		}
		for (int k = 0; k < n; k++) {
			if (serve(d, &chains[k]) < 0)
				fail(d, "device: request failed its checksum", (long)served + k,
				     chains[k].id);
			lens[k] = sizeof(struct resp);
		}
		int rc = vio_devq_push_chains(d->dq, chains, lens, (unsigned)n);
		if (rc < 0) {
			fail(d, vio_strerror(rc), rc, (long)served);
			break;
		}
		served += (unsigned long)n;
		/* One notification decision per batch. */
		if (vio_devq_needs_notify(d->dq))
			bell_ring(&d->irq);
	}
	if (atomic_load(&d->failed))
		bell_ring(&d->irq); /* let a sleeping driver see the failure */
	return NULL;
}

/* ---- driver thread ------------------------------------------------------------- */

struct slot {
	unsigned char req[sizeof(struct req_hdr) + PAYLOAD_MAX];
	struct resp resp;
	uint64_t seq;
	uint32_t csum;
	bool busy;
};

static void *driver_main(void *arg)
{
	struct demo *d = arg;
	struct slot *slots = (struct slot *)(void *)(d->arena + d->arena_len -
						     (size_t)d->size * sizeof(struct slot));
	unsigned long sent = 0, done = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	vio_vq_disable_intr(d->vq); /* poll while there is work */
	while (done < d->count && !atomic_load(&d->failed)) {
		bool progress = false;
		/* Fill the ring. */
		for (uint16_t i = 0; i < d->size && sent < d->count; i++) {
			struct slot *s = &slots[sent % d->size];
			if (s->busy)
				break;
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			uint32_t len = (uint32_t)(rng % PAYLOAD_MAX) + 1;
			unsigned char *payload = s->req + sizeof(struct req_hdr);
			for (uint32_t k = 0; k < len; k++)
				payload[k] = (unsigned char)(rng >> (k % 56));
			struct req_hdr h = {sent, len, fnv1a(payload, len)};
			memcpy(s->req, &h, sizeof(h));
			memset(&s->resp, 0xff, sizeof(s->resp));
			s->seq = sent;
			s->csum = h.csum;
			/* Header and payload in one segment or two, then the reply;
			 * every fifth two-segment request cuts the header itself. */
			struct vio_sg sg[3];
			unsigned nout = 1;
			sg[0].addr = s->req;
			sg[0].len = (uint32_t)sizeof(h) + len;
			if (d->indirect && len > 16) {
				uint32_t cut = sent % 5 == 0 ? 5u : (uint32_t)sizeof(h);
				sg[0].len = cut;
				sg[1].addr = s->req + cut;
				sg[1].len = (uint32_t)sizeof(h) + len - cut;
				nout = 2;
			}
			sg[nout].addr = &s->resp;
			sg[nout].len = sizeof(s->resp);
			int rc = vio_vq_add(d->vq, sg, nout, 1, s);
			if (rc == -VIO_ENOSPC)
				break;
			if (rc < 0) {
				fail(d, vio_strerror(rc), rc, (long)sent);
				return NULL;
			}
			s->busy = true;
			sent++;
			progress = true;
		}
		if (vio_vq_kick_prepare(d->vq))
			bell_ring(&d->kick);

		/* Reap. */
		void *tok;
		uint32_t len;
		int rc;
		while ((rc = vio_vq_get(d->vq, &tok, &len)) == 0) {
			struct slot *s = tok;
			if (len != sizeof(s->resp) || s->resp.seq != s->seq ||
			    s->resp.status != 0 || s->resp.csum != s->csum)
				fail(d, "driver: bad response", (long)s->seq, (long)len);
			s->busy = false;
			done++;
			progress = true;
		}
		if (rc != -VIO_EAGAIN) {
			fail(d, vio_strerror(rc), rc, (long)done);
			return NULL;
		}
		if (!progress && done < d->count) {
			/* Nothing to send and nothing back: ask for an interrupt,
			 * re-check, then sleep. */
			if (vio_vq_enable_intr(d->vq) && !bell_wait(&d->irq, d)) {
				fail(d, "driver: no interrupt came (lost wakeup)", (long)done, 0);
				return NULL;
			}
			vio_vq_disable_intr(d->vq);
		}
	}
	return NULL;
}

/* ---- set-up -------------------------------------------------------------------- */

static int parse(int argc, char **argv, struct demo *d)
{
	d->format = VIO_RING_SPLIT;
	d->count = 200000;
	d->size = 256;
	d->event_idx = true;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--format") && v) {
			if (!strcmp(v, "split"))
				d->format = VIO_RING_SPLIT;
			else if (!strcmp(v, "packed"))
				d->format = VIO_RING_PACKED;
			else
				return -1;
			i++;
		} else if (!strcmp(a, "--count") && v) {
			d->count = strtoul(v, NULL, 0);
			i++;
		} else if (!strcmp(a, "--size") && v) {
			unsigned long s = strtoul(v, NULL, 0);
			if (s == 0 || s > 32768)
				return -1;
			d->size = (uint16_t)s;
			i++;
		} else if (!strcmp(a, "--no-event-idx")) {
			d->event_idx = false;
		} else if (!strcmp(a, "--indirect")) {
			d->indirect = true;
		} else {
			return -1;
		}
	}
	return d->count > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct demo d;
	if (parse(argc, argv, &d) < 0) {
		fprintf(stderr,
			"usage: %s [--format split|packed] [--count N] [--size N] "
			"[--no-event-idx] [--indirect]\n",
			argv[0]);
		printf("FAIL: bad arguments\n");
		return 2;
	}

	struct vio_features f = vio_features_none();
	vio_features_set(&f, VIO_F_VERSION_1);
	if (d.event_idx)
		vio_features_set(&f, VIO_F_EVENT_IDX);
	if (d.indirect)
		vio_features_set(&f, VIO_F_INDIRECT_DESC);
	if (d.format == VIO_RING_PACKED)
		vio_features_set(&f, VIO_F_RING_PACKED);

	/* One arena for everything the device may touch: rings, indirect
	 * tables, request slots. */
	size_t n = d.size, ring = 16 * n + 4096 + 8 * n + 4096, pool = 16 * 4 * n;
	d.arena_len = vio_align_up(ring + pool, 4096) + n * sizeof(struct slot);
	d.arena = aligned_alloc(4096, vio_align_up(d.arena_len, 4096));
	/* No DMA ops here: the size depends on format and size only. */
	struct vio_vq_config size_cfg = {.format = d.format, .size = d.size};
	size_t vq_mem = vio_vq_mem_size(&size_cfg);
	size_t dq_mem = vio_devq_mem_size(d.format, d.size);
	void *vqm = aligned_alloc(64, vio_align_up(vq_mem, 64));
	void *dqm = aligned_alloc(64, vio_align_up(dq_mem, 64));
	if (d.arena == NULL || vqm == NULL || dqm == NULL || vq_mem == 0 || dq_mem == 0) {
		printf("FAIL: set-up (queue size %u not valid for this format?)\n", d.size);
		return 1;
	}
	memset(d.arena, 0, d.arena_len);

	struct vio_vq_config vc;
	memset(&vc, 0, sizeof(vc));
	vc.format = d.format;
	vc.size = d.size;
	vc.features = f;
	vc.desc = d.arena;
	vc.driver_area = d.arena + vio_align_up(16 * n, 4096);
	vc.device_area = (unsigned char *)vc.driver_area + 4096;
	if (d.indirect) {
		vc.indirect_pool = d.arena + vio_align_up(ring, 4096);
		vc.indirect_max = 4;
	}
	int rc = vio_vq_init(&d.vq, vqm, vq_mem, &vc);
	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = d.format;
	dc.size = d.size;
	dc.features = f;
	/* The device's view of driver memory: the shared arena, and only it. */
	struct vio_mem_region arena = {(uint64_t)(uintptr_t)d.arena, d.arena_len, d.arena,
				       VIO_MAP_RW};
	dc.regions = &arena;
	dc.nregions = 1;
	if (rc == 0)
		rc = vio_vq_ring_addrs(d.vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr);
	if (rc == 0)
		rc = vio_devq_init(&d.dq, dqm, dq_mem, &dc);
	if (rc < 0) {
		printf("FAIL: queue set-up: %s\n", vio_strerror(rc));
		return 1;
	}
	bell_init(&d.kick);
	bell_init(&d.irq);
	atomic_init(&d.failed, false);
	atomic_init(&d.bytes, 0);

	printf("libvirtio %s loopback: %s ring, %u entries, EVENT_IDX %s, indirect %s, "
	       "%lu requests\n",
	       VIO_VERSION_STRING, d.format == VIO_RING_PACKED ? "packed" : "split", d.size,
	       d.event_idx ? "on" : "off", d.indirect ? "on" : "off", d.count);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_t drv, dev;
	pthread_create(&dev, NULL, device_main, &d);
	pthread_create(&drv, NULL, driver_main, &d);
	pthread_join(drv, NULL);
	if (atomic_load(&d.failed)) {
		bell_ring(&d.kick); /* let a sleeping device see the failure */
	}
	pthread_join(dev, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	bool broken = vio_vq_is_broken(d.vq) || vio_devq_is_broken(d.dq);
	bool drained = vio_vq_num_free(d.vq) == d.size;
	unsigned long kicks = atomic_load(&d.kick.rung), irqs = atomic_load(&d.irq.rung);
	printf("verified %lu requests (%lu payload bytes) checksummed by the device, %lu "
	       "responses checked by the driver\n",
	       d.count, atomic_load(&d.bytes), d.count);
	printf("notifications: %lu kicks, %lu interrupts (%.3f per request); %.2f s, %.0f "
	       "requests/s\n",
	       kicks, irqs, (double)(kicks + irqs) / (double)d.count, secs, (double)d.count / secs);
	if (atomic_load(&d.failed) || broken || !drained) {
		printf("FAIL: %s%s%s\n", atomic_load(&d.failed) ? d.why : "",
		       broken ? " queue broken" : "", drained ? "" : " ring not drained");
		return 1;
	}
	printf("OK: %lu requests through a %s ring, every checksum and response verified\n",
	       d.count, d.format == VIO_RING_PACKED ? "packed" : "split");
	free(vqm);
	free(dqm);
	free(d.arena);
	return 0;
}
