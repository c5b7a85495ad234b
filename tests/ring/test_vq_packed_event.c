/* SPDX-License-Identifier: MIT */
/* The packed driver's positions and notification decisions against a
 * reference model of §2.8 written here, over long seeded random runs.
 *
 * A mock device (raw_ring) takes what the driver made available, completes
 * it in any order with used descriptors written by hand, and sets its event
 * suppression (§2.8.10: flags ENABLE / DISABLE / DESC / the reserved value,
 * any off_wrap, offsets past the ring included) at random. The model keeps
 * the driver's position as an absolute count of ring slots and decides each
 * kick from the spec's words: with DESC and EVENT_IDX, notify when the
 * descriptor at (offset, wrap counter) was made available since the last
 * decision. Checked at every step: kick_prepare's decision, notify data
 * (§2.9 offset and wrap), every completion in order, the driver's event
 * position after a get. Ring sizes powers of two and not, with and without
 * EVENT_IDX. The seed is fixed; VIO_TEST_SEED picks another and is
 * printed on failure. */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "guest_mem.h"
#include "loop.h"
#include "raw_ring.h"

#define MAXQ 256
#define STEPS 20000

static unsigned g_base, g_seed;
static unsigned long g_step;
static uint64_t g_rng;

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			print_error("VIO_TEST_SEED=%#x (run seed %#x) step %lu: %s (line %d)\n",   \
				    g_base, g_seed, g_step, #c, __LINE__);                         \
			fail();                                                                    \
		}                                                                                  \
	} while (0)

static uint32_t rnd(void)
{
	/* xorshift64* */
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return (uint32_t)((g_rng * 2685821657736338717ull) >> 32);
}

static uint32_t below(uint32_t n)
{
	return rnd() % n;
}

/* A buffer the device holds or completed: its token, slots and writable bytes. */
struct held {
	unsigned tok;
	uint16_t id, ndesc;
	uint32_t in_bytes;
};

struct model {
	uint16_t size;
	bool evidx;
	uint64_t avail_abs; /* ring slots ever made available */
	uint64_t moved;	    /* ... since the last kick_prepare */
	uint64_t used_abs;  /* ring slots the driver has reaped */
	unsigned free;	    /* free ring slots */
	bool intr_desc;	    /* the driver asked for events at a position */
	uint16_t dev_ow, dev_fl;
};

/* Slot and wrap counter of absolute position @a (wrap counters start at 1). */
static uint16_t abs_slot(const struct model *m, uint64_t a)
{
	return (uint16_t)(a % m->size);
}

static bool abs_wrap(const struct model *m, uint64_t a)
{
	return (a / m->size) % 2 == 0;
}

/* §2.8.10, driver side: should the driver notify after making m->moved
 * slots available since its last decision? */
static bool ref_kick(const struct model *m)
{
	if (m->moved == 0)
		return false; /* nothing new to announce */
	uint16_t fl = m->dev_fl & 3u;
	if (fl == VIO_RING_EVENT_FLAGS_DISABLE)
		return false;
	if (fl != VIO_RING_EVENT_FLAGS_DESC || !m->evidx)
		return true; /* ENABLE; DESC without EVENT_IDX or the reserved value: notify */
	if (m->moved >= m->size)
		return true; /* a lap or more: the position cannot be told, notify */
	uint16_t off = m->dev_ow & 0x7fffu;
	bool w = (m->dev_ow >> 15) != 0;
	if (off >= m->size)
		return true; /* an offset outside the ring: err towards notifying */
	/* Was the descriptor at (off, w) made available in [old, new)? */
	for (uint64_t a = m->avail_abs - m->moved; a < m->avail_abs; a++)
		if (abs_slot(m, a) == off && abs_wrap(m, a) == w)
			return true;
	return false;
}

struct fx {
	struct guest_mem gm;
	struct raw_ring r;
	struct vio_vq_config cfg;
	struct vio_vq *vq;
	void *mem;
	unsigned char buf[MAXQ][64];
};

static void fx_open(struct fx *f, uint16_t size, bool evidx)
{
	gm_init(&f->gm);
	raw_ring_alloc(&f->r, &f->gm, VIO_RING_PACKED, size);
	memset(&f->cfg, 0, sizeof(f->cfg));
	raw_ring_vq_config(&f->r, &f->cfg);
	f->cfg.index = 5;
	f->cfg.features = vio_features_none();
	vio_features_set(&f->cfg.features, VIO_F_VERSION_1);
	vio_features_set(&f->cfg.features, VIO_F_RING_PACKED);
	vio_features_set(&f->cfg.features, VIO_F_NOTIFICATION_DATA);
	if (evidx)
		vio_features_set(&f->cfg.features, VIO_F_EVENT_IDX);
	size_t n = vio_vq_mem_size(&f->cfg);
	assert_int_equal(posix_memalign(&f->mem, VIO_VQ_MEM_ALIGN, n), 0);
	assert_int_equal(vio_vq_init(&f->vq, f->mem, n, &f->cfg), 0);
}

static void fx_close(struct fx *f)
{
	gm_free(&f->gm);
	free(f->mem);
	f->mem = NULL;
}

/* A random device event suppression setting, mostly DESC near the ring. */
static void dev_event(struct fx *f, struct model *m)
{
	uint16_t fl = (uint16_t)below(4);
	if (below(2) == 0)
		fl = VIO_RING_EVENT_FLAGS_DESC;
	uint16_t off;
	switch (below(8)) {
	case 0:
		off = (uint16_t)below(0x8000); /* anything */
		break;
	case 1:
		off = (uint16_t)(m->size + below(3)); /* just past the ring */
		break;
	default: /* near the driver's position, either lap */
		off = (uint16_t)((m->avail_abs + m->size - 4u + below(9)) % m->size);
		break;
	}
	uint16_t ow = (uint16_t)(off | (below(2) << 15));
	/* Unused flag bits set too: only the low two count. */
	if (below(8) == 0)
		fl = (uint16_t)(fl | (below(0x4000) << 2));
	m->dev_ow = ow;
	m->dev_fl = fl;
	raw_packed_event_set(f->r.device, ow, fl);
}

static void run(uint16_t size, bool evidx, unsigned seed)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	struct model m = {.size = size, .evidx = evidx, .free = size};
	struct held taken[MAXQ], done[MAXQ], pend[MAXQ];
	unsigned ntaken = 0, ndone = 0, npend = 0, next_tok = 0;
	bool tok_busy[MAXQ] = {false};

	g_seed = seed;
	g_rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)seed << 1 | 1u);
	fx_open(f, size, evidx);

	for (g_step = 0; g_step < STEPS; g_step++) {
		unsigned op = below(16);
		if (op < 5) {
			/* add 1-3 segments, any readable/writable split */
			unsigned total = 1 + below(3), out = below(total + 1);
			unsigned tok = next_tok;
			while (tok_busy[tok])
				tok = (tok + 1) % MAXQ;
			struct vio_sg sg[3];
			for (unsigned i = 0; i < total; i++)
				sg[i] = (struct vio_sg){f->buf[tok] + 16 * i, 16};
			int rc;
			if (total == 1 && below(2) == 0) {
				void *t = f->buf[tok];
				rc = vio_vq_add_batch(f->vq, sg, out, total - out, &t, 1);
				rc = rc == 1 ? 0 : rc;
			} else {
				rc = vio_vq_add(f->vq, sg, out, total - out, f->buf[tok]);
			}
			if (total > m.free) {
				CHECK(rc == -VIO_ENOSPC);
			} else {
				CHECK(rc == 0);
				tok_busy[tok] = true;
				next_tok = (tok + 1) % MAXQ;
				pend[npend++] = (struct held){tok, 0, (uint16_t)total,
							      (uint32_t)(16u * (total - out))};
				m.free -= total;
				m.avail_abs += total;
				m.moved += total;
			}
		} else if (op < 7) {
			/* the device takes everything available, in ring order */
			uint16_t id, nd;
			while (raw_packed_avail_next(&f->r, &id, &nd) == 0) {
				CHECK(npend > 0);
				CHECK(nd == pend[0].ndesc);
				taken[ntaken] = pend[0];
				taken[ntaken++].id = id;
				memmove(pend, pend + 1, --npend * sizeof(pend[0]));
			}
			CHECK(npend == 0);
		} else if (op < 9) {
			/* the device completes one or more, in any order */
			unsigned k = 1 + below(3);
			while (k-- > 0 && ntaken > 0) {
				unsigned i = below(ntaken);
				if (below(2) == 0)
					i = 0; /* in order, often */
				struct held h = taken[i];
				taken[i] = taken[--ntaken];
				uint32_t len = h.in_bytes != 0 ? below(h.in_bytes + 1) : 0;
				raw_packed_used_add(&f->r, h.id, len, VIO_DESC_F_WRITE, h.ndesc);
				h.in_bytes = len; /* expected length */
				done[ndone++] = h;
			}
		} else if (op < 11) {
			/* get, one or a batch */
			void *toks[8];
			uint32_t lens[8];
			unsigned max = 1 + below(8), got;
			if (below(2) == 0) {
				int rc = vio_vq_get(f->vq, &toks[0], &lens[0]);
				CHECK(rc == 0 || rc == -VIO_EAGAIN);
				CHECK((rc == 0) == (ndone > 0));
				got = rc == 0 ? 1 : 0;
			} else {
				int rc = vio_vq_get_batch(f->vq, toks, lens, max);
				CHECK(rc > 0 || (rc == -VIO_EAGAIN && ndone == 0));
				got = rc > 0 ? (unsigned)rc : 0;
				CHECK(got == (ndone < max ? ndone : max));
			}
			for (unsigned i = 0; i < got; i++) {
				CHECK(toks[i] == f->buf[done[0].tok]);
				CHECK(lens[i] == done[0].in_bytes);
				tok_busy[done[0].tok] = false;
				m.free += done[0].ndesc;
				m.used_abs += done[0].ndesc;
				memmove(done, done + 1, --ndone * sizeof(done[0]));
			}
			if (got > 0 && m.intr_desc) {
				/* The driver asks for the next used position. */
				uint16_t ow, fl;
				raw_packed_event_get(f->r.driver, &ow, &fl);
				CHECK(fl == VIO_RING_EVENT_FLAGS_DESC);
				CHECK(ow == (uint16_t)(abs_slot(&m, m.used_abs) |
						       ((unsigned)abs_wrap(&m, m.used_abs) << 15)));
			}
		} else if (op < 12) {
			dev_event(f, &m);
		} else if (op < 13) {
			if (below(3) == 0) {
				vio_vq_disable_intr(f->vq);
				m.intr_desc = false;
			} else {
				(void)vio_vq_enable_intr(f->vq);
				m.intr_desc = evidx;
			}
		} else {
			bool want = ref_kick(&m);
			bool got = vio_vq_kick_prepare(f->vq);
			if (got != want)
				print_error("size %u evidx %d: moved %llu ow %#x fl %#x pos %llu\n",
					    size, evidx, (unsigned long long)m.moved, m.dev_ow,
					    m.dev_fl, (unsigned long long)m.avail_abs);
			CHECK(got == want);
			m.moved = 0;
			/* Nothing new since: no notification, whatever the
			 * device's event says (nonsense offsets included). */
			CHECK(!vio_vq_kick_prepare(f->vq));
		}
		/* §2.9: notify data carries the next slot to fill and its wrap counter. */
		uint32_t nd = vio_vq_notify_data(f->vq);
		CHECK(nd == vio_notify_data_make(5, abs_slot(&m, m.avail_abs),
						 abs_wrap(&m, m.avail_abs)));
	}
	fx_close(f);
	free(f);
}

static void test_random_runs(void **state)
{
	(void)state;
	static const uint16_t sizes[] = {2, 4, 8, 16, 64, 256, 1, 3, 6, 12, 100, 255};
	unsigned seed = (unsigned)loop_seed_from_env(0x5eed13u, NULL);
	g_base = seed;
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (unsigned ev = 0; ev < 2; ev++)
			run(sizes[i], ev != 0, seed + i * 2 + ev);
}

/* More than a lap made available between two decisions (the driver gets in
 * between): notify whatever the event says, also when the 16-bit
 * positions are back where they were. */
static void test_lap_between_kicks(void **state)
{
	(void)state;
	static const uint16_t sizes[] = {8, 6};
	for (unsigned i = 0; i < 2; i++) {
		struct fx *f = calloc(1, sizeof(*f));
		assert_non_null(f);
		uint16_t size = sizes[i];
		fx_open(f, size, true);
		/* One lap, two laps, and 65536 slots: the 16-bit positions
		 * come back to where they were. */
		const unsigned counts[] = {size, 2u * size, 65536u};
		for (unsigned c = 0; c < 3; c++) {
			for (unsigned k = 0; k < counts[c]; k++) {
				struct vio_sg sg = {f->buf[0], 16};
				assert_int_equal(vio_vq_add(f->vq, &sg, 0, 1, f->buf[0]), 0);
				uint16_t id, nd;
				assert_int_equal(raw_packed_avail_next(&f->r, &id, &nd), 0);
				raw_packed_used_add(&f->r, id, 0, VIO_DESC_F_WRITE, nd);
				void *t;
				uint32_t len;
				assert_int_equal(vio_vq_get(f->vq, &t, &len), 0);
			}
			/* An event at the next slot to fill: within a lap it
			 * would not notify. */
			uint32_t d = vio_vq_notify_data(f->vq);
			uint16_t ow = (uint16_t)(vio_notify_data_off(d) |
						 ((unsigned)vio_notify_data_wrap(d) << 15));
			raw_packed_event_set(f->r.device, ow, VIO_RING_EVENT_FLAGS_DESC);
			assert_true(vio_vq_kick_prepare(f->vq));
			assert_false(vio_vq_kick_prepare(f->vq)); /* nothing new */
		}
		fx_close(f);
		free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_runs),
		cmocka_unit_test(test_lap_between_kicks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
