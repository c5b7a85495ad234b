/* SPDX-License-Identifier: MIT */
/* Two-thread stress test: a driver thread and a device thread share one
 * queue, with notification suppression on both sides.
 *
 * Notifications travel over two eventfd-like channels (mutex + condvar +
 * pending flag). A thread sleeps only when the library says it is safe: the
 * driver after vio_vq_enable_intr() returned true, the device after
 * vio_devq_enable_notify() returned true; it disables notifications again
 * when it wakes. A lost wakeup therefore hangs a thread: every wait has a
 * timeout (60 s) that fails the test instead.
 *
 * Each buffer carries a sequence number, a payload and its checksum; the
 * device checks them and writes a response (header + the payload
 * transformed) that the driver verifies, along with the written length and
 * that each sequence number completes exactly once.
 *
 * VIO_STRESS_TIMEOUT sets the wait timeout in seconds (default 60).
 * VIO_STRESS_BUFFERS sets the buffer count of the EVENT_IDX runs (default
 * 1000000; the runs without EVENT_IDX move a quarter). Everything shared
 * outside the ring is atomic or behind the channel's mutex, so the test is
 * clean under ThreadSanitizer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"

#define ST_DEFAULT_BUFFERS 1000000ul
#define ST_WAIT_TIMEOUT_S 60 /* VIO_STRESS_TIMEOUT overrides (seconds) */
#define ST_SLOT_BYTES 256u
#define ST_HDR 16u
#define ST_MAX_PAYLOAD 96u
#define ST_MAX_SEGS 5
#define ST_BATCH 8
#define ST_ECHO_XOR 0x5a

/* An eventfd-like notification channel. */
struct chan {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool pending;
};

struct stress {
	struct loop l;
	const char *what;
	unsigned long n;
	uint16_t size;
	struct chan kick, intr;
	atomic_bool stop;
	atomic_bool failed;
	char msg[256]; /* written once, by the thread that set failed */
	atomic_ulong kicks, intrs, drv_sleeps, dev_sleeps;
	long timeout_s;
	/* Driver-private. */
	uint64_t *slot_seq;
	uint32_t *slot_csum;
	uint32_t *slot_plen;
	unsigned char *done; /* one bit per sequence number */
	unsigned long completed;
	/* Device-private. */
	unsigned long processed;
};

static void chan_init(struct chan *c)
{
	pthread_condattr_t a;
	assert_int_equal(pthread_mutex_init(&c->mu, NULL), 0);
	assert_int_equal(pthread_condattr_init(&a), 0);
	assert_int_equal(pthread_condattr_setclock(&a, CLOCK_MONOTONIC), 0);
	assert_int_equal(pthread_cond_init(&c->cv, &a), 0);
	pthread_condattr_destroy(&a);
	c->pending = false;
}

static void chan_destroy(struct chan *c)
{
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

static void chan_signal(struct chan *c)
{
	pthread_mutex_lock(&c->mu);
	c->pending = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Wait for a signal: 0 on a signal, 1 if the test is stopping, -1 after the
 * timeout. */
static int chan_wait(struct chan *c, struct stress *s)
{
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += s->timeout_s;
	int ret = 0;
	pthread_mutex_lock(&c->mu);
	while (!c->pending && !atomic_load(&s->stop)) {
		int rc = pthread_cond_timedwait(&c->cv, &c->mu, &dl);
		if (rc == ETIMEDOUT && !c->pending) {
			ret = -1;
			break;
		}
	}
	if (ret == 0 && !c->pending)
		ret = 1;
	c->pending = false;
	pthread_mutex_unlock(&c->mu);
	return ret;
}

static void st_fail(struct stress *s, const char *fmt, ...)
{
	bool expected = false;
	if (atomic_compare_exchange_strong(&s->failed, &expected, true)) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
		va_end(ap);
	}
	atomic_store(&s->stop, true);
	chan_signal(&s->kick);
	chan_signal(&s->intr);
}

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void put64(unsigned char *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put32(unsigned char *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Slot layout: [0,16) request header, [16,112) payload, [128,144) response
 * header, [144,240) echo. */
static unsigned char *slot_base(struct stress *s, unsigned i)
{
	return s->l.data + (size_t)i * ST_SLOT_BYTES;
}

/* --- driver thread -------------------------------------------------------- */

static bool drv_reap(struct stress *s, unsigned *free_slots, unsigned *nfree)
{
	for (;;) {
		void *tok;
		uint32_t len;
		int rc = vio_vq_get(s->l.vq, &tok, &len);
		if (rc == -VIO_EAGAIN)
			return true;
		if (rc != 0) {
			st_fail(s, "driver: get: %s", vio_err_name(rc));
			return false;
		}
		unsigned i = (unsigned)((unsigned char *)tok - s->l.data) / ST_SLOT_BYTES;
		if ((unsigned char *)tok != slot_base(s, i) || i >= s->size) {
			st_fail(s, "driver: bad token %p", tok);
			return false;
		}
		uint64_t seq = s->slot_seq[i];
		uint32_t plen = s->slot_plen[i];
		const unsigned char *b = slot_base(s, i);
		if (len != ST_HDR + plen) {
			st_fail(s, "driver: seq %" PRIu64 ": len %u, want %u", seq, len,
				ST_HDR + plen);
			return false;
		}
		if (get64(b + 128) != seq || get32(b + 136) != ~s->slot_csum[i] ||
		    get32(b + 140) != plen) {
			st_fail(s, "driver: seq %" PRIu64 ": bad response header (seq %" PRIu64 ")",
				seq, get64(b + 128));
			return false;
		}
		for (uint32_t k = 0; k < plen; k++) {
			if (b[144 + k] != (b[ST_HDR + k] ^ ST_ECHO_XOR)) {
				st_fail(s, "driver: seq %" PRIu64 ": echo byte %u differs", seq, k);
				return false;
			}
		}
		if (s->done[seq / 8] & (1u << (seq % 8))) {
			st_fail(s, "driver: seq %" PRIu64 " completed twice", seq);
			return false;
		}
		s->done[seq / 8] |= (unsigned char)(1u << (seq % 8));
		s->completed++;
		free_slots[(*nfree)++] = i;
	}
}

/* Make request seq in slot i and add it; false if the ring was full. */
static bool drv_add(struct stress *s, unsigned i, uint64_t seq, int *err)
{
	unsigned char *b = slot_base(s, i);
	struct loop_rng r;
	loop_rng_seed(&r, seq);
	uint32_t plen = loop_rng_below(&r, 8) == 0 ? 0 : loop_rng_range(&r, 1, ST_MAX_PAYLOAD);
	loop_pattern_fill(b + ST_HDR, plen, loop_mix(seq, 77));
	uint32_t csum = fnv1a(b + ST_HDR, plen, 2166136261u);
	put64(b, seq);
	put32(b + 8, plen);
	put32(b + 12, csum);
	memset(b + 128, 0, ST_HDR + plen);

	/* Shapes: header and payload in one, two or three readable segments;
	 * the response in one or two writable ones. */
	struct vio_sg sg[ST_MAX_SEGS];
	unsigned out = 0, in = 0;
	unsigned shape = loop_rng_below(&r, 3);
	if (shape == 0 || plen == 0) {
		sg[out++] = (struct vio_sg){b, ST_HDR + plen};
	} else if (shape == 1 || plen < 2) {
		sg[out++] = (struct vio_sg){b, ST_HDR};
		sg[out++] = (struct vio_sg){b + ST_HDR, plen};
	} else {
		sg[out++] = (struct vio_sg){b, ST_HDR};
		sg[out++] = (struct vio_sg){b + ST_HDR, plen / 2};
		sg[out++] = (struct vio_sg){b + ST_HDR + plen / 2, plen - plen / 2};
	}
	if (plen > 0 && loop_rng_below(&r, 2) == 0) {
		sg[out + in++] = (struct vio_sg){b + 128, ST_HDR};
		sg[out + in++] = (struct vio_sg){b + 144, plen};
	} else {
		sg[out + in++] = (struct vio_sg){b + 128, ST_HDR + plen};
	}
	int rc = vio_vq_add(s->l.vq, sg, out, in, b);
	if (rc == -VIO_ENOSPC)
		return false;
	if (rc != 0) {
		*err = rc;
		return false;
	}
	s->slot_seq[i] = seq;
	s->slot_csum[i] = csum;
	s->slot_plen[i] = plen;
	return true;
}

static void *driver_main(void *arg)
{
	struct stress *s = arg;
	unsigned *free_slots = calloc(s->size, sizeof(unsigned));
	unsigned nfree = s->size;
	uint64_t next = 0;
	for (unsigned i = 0; i < s->size; i++)
		free_slots[i] = s->size - 1 - i;

	struct loop_rng r;
	loop_rng_seed(&r, 0xd71e7);
	vio_vq_disable_intr(s->l.vq);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		if (!drv_reap(s, free_slots, &nfree))
			break;
		if (s->completed == s->n)
			break;
		bool added = false;
		/* Bursts of random size, so the threads interleave finely. */
		unsigned burst = loop_rng_range(&r, 1, 32);
		while (next < s->n && nfree > 0 && burst-- > 0) {
			int err = 0;
			if (!drv_add(s, free_slots[nfree - 1], next, &err)) {
				if (err != 0)
					st_fail(s, "driver: add: %s", vio_err_name(err));
				break;
			}
			nfree--;
			next++;
			added = true;
		}
		if (added) {
			if (vio_vq_kick_prepare(s->l.vq)) {
				atomic_fetch_add_explicit(&s->kicks, 1, memory_order_relaxed);
				chan_signal(&s->kick);
			}
			continue;
		}
		/* Nothing to add, nothing to reap: sleep if the library agrees. */
		if (!vio_vq_enable_intr(s->l.vq))
			continue;
		atomic_fetch_add_explicit(&s->drv_sleeps, 1, memory_order_relaxed);
		int w = chan_wait(&s->intr, s);
		if (w < 0) {
			st_fail(s,
				"driver: no interrupt for %ld s with %lu of %lu buffers completed "
				"(lost wakeup?)",
				s->timeout_s, s->completed, s->n);
			break;
		}
		vio_vq_disable_intr(s->l.vq);
	}
	free(free_slots);
	return NULL;
}

/* --- device thread -------------------------------------------------------- */

struct dev_held {
	struct vio_chain c;
	struct vio_chain_seg segs[ST_MAX_SEGS];
};

/* Check one request and write its response; returns the written length. */
static bool dev_serve(struct stress *s, struct dev_held *h, uint32_t *written)
{
	unsigned char hdr[ST_HDR], payload[ST_MAX_PAYLOAD];
	size_t have = 0;
	const struct vio_chain *c = &h->c;
	if (c->nout < 1 || c->nseg > ST_MAX_SEGS || c->out_bytes < ST_HDR ||
	    c->out_bytes > ST_HDR + ST_MAX_PAYLOAD) {
		st_fail(s, "device: bad chain shape (%u segs, %u out, %u bytes)", c->nseg, c->nout,
			c->out_bytes);
		return false;
	}
	for (unsigned k = 0; k < c->nout; k++) {
		const unsigned char *p = h->segs[k].ptr;
		for (uint32_t j = 0; j < h->segs[k].len; j++, have++) {
			if (have < ST_HDR)
				hdr[have] = p[j];
			else
				payload[have - ST_HDR] = p[j];
		}
	}
	uint64_t seq = get64(hdr);
	uint32_t plen = get32(hdr + 8), csum = get32(hdr + 12);
	if (plen != c->out_bytes - ST_HDR || c->in_bytes != ST_HDR + plen) {
		st_fail(s, "device: seq %" PRIu64 ": plen %u with %u/%u bytes", seq, plen,
			c->out_bytes, c->in_bytes);
		return false;
	}
	if (fnv1a(payload, plen, 2166136261u) != csum) {
		st_fail(s, "device: seq %" PRIu64 ": payload checksum mismatch", seq);
		return false;
	}
	unsigned char resp[ST_HDR + ST_MAX_PAYLOAD];
	put64(resp, seq);
	put32(resp + 8, ~csum);
	put32(resp + 12, plen);
	for (uint32_t j = 0; j < plen; j++)
		resp[ST_HDR + j] = payload[j] ^ ST_ECHO_XOR;
	size_t off = 0;
	for (unsigned k = c->nout; k < c->nseg; k++) {
		memcpy(h->segs[k].ptr, resp + off, h->segs[k].len);
		off += h->segs[k].len;
	}
	*written = (uint32_t)off;
	return true;
}

static bool dev_flush(struct stress *s, struct vio_used *u, unsigned *n)
{
	if (*n == 0)
		return true;
	int rc = vio_devq_push_batch(s->l.dq, u, *n);
	*n = 0;
	if (rc != 0) {
		st_fail(s, "device: push: %s", vio_err_name(rc));
		return false;
	}
	return true;
}

static void *device_main(void *arg)
{
	struct stress *s = arg;
	struct vio_used batch[ST_BATCH];
	static _Thread_local struct dev_held held[ST_BATCH]; /* one per batch entry */
	unsigned nb = 0;
	struct loop_rng r;
	loop_rng_seed(&r, 0xde71ce);

	vio_devq_disable_notify(s->l.dq);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed)) {
		bool any = false;
		unsigned burst = loop_rng_range(&r, 1, ST_BATCH);
		unsigned limit = loop_rng_range(&r, 1, 32);
		for (; limit > 0; limit--) {
			struct dev_held *h = &held[nb];
			int rc = vio_devq_pop(s->l.dq, &h->c, h->segs, ST_MAX_SEGS);
			if (rc == -VIO_EAGAIN)
				break;
			if (rc != 0) {
				st_fail(s, "device: pop: %s", vio_err_name(rc));
				return NULL;
			}
			uint32_t w;
			if (!dev_serve(s, h, &w))
				return NULL;
			if (burst == 1) {
				rc = vio_devq_push(s->l.dq, &h->c, w);
				if (rc != 0) {
					st_fail(s, "device: push: %s", vio_err_name(rc));
					return NULL;
				}
			} else {
				batch[nb++] = (struct vio_used){&h->c, w};
				if (nb == burst && !dev_flush(s, batch, &nb))
					return NULL;
			}
			s->processed++;
			any = true;
		}
		if (!dev_flush(s, batch, &nb))
			return NULL;
		if (any && vio_devq_needs_notify(s->l.dq)) {
			atomic_fetch_add_explicit(&s->intrs, 1, memory_order_relaxed);
			chan_signal(&s->intr);
		}
		if (s->processed == s->n)
			break;
		if (any)
			continue;
		/* Nothing available: sleep if the library agrees. */
		if (!vio_devq_enable_notify(s->l.dq))
			continue;
		atomic_fetch_add_explicit(&s->dev_sleeps, 1, memory_order_relaxed);
		int w = chan_wait(&s->kick, s);
		if (w < 0) {
			st_fail(s,
				"device: no kick for %ld s after %lu of %lu buffers (lost wakeup?)",
				s->timeout_s, s->processed, s->n);
			break;
		}
		vio_devq_disable_notify(s->l.dq);
	}
	return NULL;
}

/* --- the test ------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void stress_run(enum vio_ring_format fmt, uint16_t size, bool ei, unsigned long n)
{
	struct stress *s = calloc(1, sizeof(*s));
	assert_non_null(s);
	struct loop_cfg c = {0};
	c.format = fmt;
	c.size = size;
	c.features = loop_features(fmt, ei, true);
	c.indirect_max = 4;
	c.indirect_min = 3; /* chains of 3+ segments go indirect, 1-2 direct */
	c.data_bytes = (size_t)size * ST_SLOT_BYTES;
	assert_int_equal(loop_init(&s->l, &c), 0);
	char what[160];
	s->what = loop_describe(&c, what, sizeof(what));
	s->n = n;
	s->size = size;
	s->timeout_s = (long)loop_env_count("VIO_STRESS_TIMEOUT", ST_WAIT_TIMEOUT_S);
	s->slot_seq = calloc(size, sizeof(*s->slot_seq));
	s->slot_csum = calloc(size, sizeof(*s->slot_csum));
	s->slot_plen = calloc(size, sizeof(*s->slot_plen));
	s->done = calloc(n / 8 + 1, 1);
	assert_true(s->slot_seq && s->slot_csum && s->slot_plen && s->done);
	chan_init(&s->kick);
	chan_init(&s->intr);
	atomic_init(&s->stop, false);
	atomic_init(&s->failed, false);
	atomic_init(&s->kicks, 0);
	atomic_init(&s->intrs, 0);
	atomic_init(&s->drv_sleeps, 0);
	atomic_init(&s->dev_sleeps, 0);

	double t0 = now_s();
	pthread_t drv, dev;
	assert_int_equal(pthread_create(&dev, NULL, device_main, s), 0);
	assert_int_equal(pthread_create(&drv, NULL, driver_main, s), 0);
	pthread_join(drv, NULL);
	/* The device stops by itself after n buffers, or on a failure. */
	pthread_join(dev, NULL);
	double dt = now_s() - t0;

	printf("  %s: %lu buffers in %.2f s (%.0f/s); kicks %lu, interrupts %lu, driver sleeps "
	       "%lu, device sleeps %lu\n",
	       s->what, n, dt, (double)n / dt, atomic_load(&s->kicks), atomic_load(&s->intrs),
	       atomic_load(&s->drv_sleeps), atomic_load(&s->dev_sleeps));
	fflush(stdout);

	bool failed = atomic_load(&s->failed);
	char msg[256];
	memcpy(msg, s->msg, sizeof(msg));
	unsigned long completed = s->completed, processed = s->processed;
	bool all = true;
	for (unsigned long q = 0; q < n && !failed; q++)
		if (!(s->done[q / 8] & (1u << (q % 8))))
			all = false;
	unsigned nf = vio_vq_num_free(s->l.vq);
	bool broken = vio_vq_is_broken(s->l.vq) || vio_devq_is_broken(s->l.dq);
	unsigned long kicks = atomic_load(&s->kicks), intrs = atomic_load(&s->intrs);

	chan_destroy(&s->kick);
	chan_destroy(&s->intr);
	loop_fini(&s->l);
	free(s->slot_seq);
	free(s->slot_csum);
	free(s->slot_plen);
	free(s->done);
	free(s);

	if (failed)
		fail_msg("%s: %s", what, msg);
	assert_int_equal(completed, n);
	assert_int_equal(processed, n);
	assert_true(all);
	assert_int_equal(nf, size);
	assert_false(broken);
	/* Sanity: at least one kick and one interrupt; at most one per buffer. */
	assert_true(kicks >= 1 && kicks <= n);
	assert_true(intrs >= 1 && intrs <= n);
}

static unsigned long buffers(void)
{
	return loop_env_count("VIO_STRESS_BUFFERS", ST_DEFAULT_BUFFERS);
}

static void test_stress_split_event_idx(void **state)
{
	(void)state;
	stress_run(VIO_RING_SPLIT, 256, true, buffers());
}

static void test_stress_packed_event_idx(void **state)
{
	(void)state;
	stress_run(VIO_RING_PACKED, 250, true, buffers());
}

static void test_stress_split_no_event_idx(void **state)
{
	(void)state;
	stress_run(VIO_RING_SPLIT, 64, false, buffers() / 4 + 1);
}

static void test_stress_packed_no_event_idx(void **state)
{
	(void)state;
	stress_run(VIO_RING_PACKED, 64, false, buffers() / 4 + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stress_split_event_idx),
		cmocka_unit_test(test_stress_packed_event_idx),
		cmocka_unit_test(test_stress_split_no_event_idx),
		cmocka_unit_test(test_stress_packed_no_event_idx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
