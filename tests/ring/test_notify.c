/* SPDX-License-Identifier: MIT */
/* Notification suppression, deterministic: the raw bytes each half writes
 * into the suppression fields, and exactly when kick_prepare / needs_notify
 * say yes, for split (flags and event indices, across the 16-bit wrap) and
 * packed (ENABLE / DISABLE / DESC, across ring wraps); the enable calls'
 * return values; the "no lost wakeup" property; notification data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"

#define MAX_HELD 64

/* A queue pair plus the device's held chains and the positions the test
 * expects (driver's next avail and next used, packed slots or split idx). */
struct pair {
	struct loop l;
	struct vio_chain held[MAX_HELD];
	unsigned nheld;
	unsigned outstanding;
	char tok[1];
	/* Expected positions. Split: free-running indices (wrap unused).
	 * Packed: slot and wrap counter. */
	uint16_t avail_pos, used_pos, dev_avail_pos;
	bool avail_wrap, used_wrap, dev_avail_wrap;
	unsigned long avail_slots, used_slots; /* packed: slots walked */
};

static struct pair *g_pair;

static void pr_advance(const struct pair *p, uint16_t *pos, bool *wrap, unsigned n)
{
	if (p->l.cfg.format == VIO_RING_SPLIT) {
		*pos = (uint16_t)(*pos + 1u); /* one entry per buffer */
		return;
	}
	unsigned s = *pos + n;
	if (s >= p->l.cfg.size) {
		s -= p->l.cfg.size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)s;
}

static struct pair *pr_new(enum vio_ring_format fmt, uint16_t size, bool ei, bool ind)
{
	struct pair *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	g_pair = p;
	struct loop_cfg c = {0};
	c.format = fmt;
	c.size = size;
	c.index = 7;
	c.features = loop_features(fmt, ei, ind);
	vio_features_set(&c.features, VIO_F_NOTIFICATION_DATA);
	c.data_bytes = 4096;
	assert_int_equal(loop_init(&p->l, &c), 0);
	bool packed = fmt == VIO_RING_PACKED;
	p->avail_wrap = p->used_wrap = p->dev_avail_wrap = packed;
	return p;
}

static int teardown(void **state)
{
	(void)state;
	if (g_pair != NULL) {
		loop_fini(&g_pair->l);
		free(g_pair);
		g_pair = NULL;
	}
	return 0;
}

static bool is_packed(const struct pair *p)
{
	return p->l.cfg.format == VIO_RING_PACKED;
}

static bool has_ei(const struct pair *p)
{
	return vio_features_test(&p->l.cfg.features, VIO_F_EVENT_IDX);
}

/* Add a chain of nseg segments (one readable, the rest writable). */
static void pr_add(struct pair *p, unsigned nseg)
{
	struct vio_sg sg[8];
	assert_true(nseg >= 1 && nseg <= 8);
	for (unsigned i = 0; i < nseg; i++) {
		sg[i].addr = p->l.data + 64 * i;
		sg[i].len = 16;
	}
	assert_int_equal(vio_vq_add(p->l.vq, sg, 1, nseg - 1, p->tok), 0);
	p->outstanding++;
	/* Without indirect every segment takes a slot. */
	bool ind = vio_features_test(&p->l.cfg.features, VIO_F_INDIRECT_DESC) && nseg >= 2;
	pr_advance(p, &p->avail_pos, &p->avail_wrap, ind ? 1 : nseg);
	p->avail_slots += ind ? 1 : nseg;
}

static void pr_pop(struct pair *p)
{
	struct vio_chain_seg segs[8];
	assert_true(p->nheld < MAX_HELD);
	struct vio_chain *c = &p->held[p->nheld];
	assert_int_equal(vio_devq_pop(p->l.dq, c, segs, 8), 0);
	p->nheld++;
	pr_advance(p, &p->dev_avail_pos, &p->dev_avail_wrap, c->ndesc);
}

/* Push held chain k (default: the oldest). */
static void pr_push_k(struct pair *p, unsigned k)
{
	assert_true(k < p->nheld);
	struct vio_chain c = p->held[k];
	memmove(&p->held[k], &p->held[k + 1], (p->nheld - k - 1) * sizeof(c));
	p->nheld--;
	assert_int_equal(vio_devq_push(p->l.dq, &c, 0), 0);
	pr_advance(p, &p->used_pos, &p->used_wrap, c.ndesc);
	p->used_slots += c.ndesc;
}

static void pr_push(struct pair *p)
{
	pr_push_k(p, 0);
}

static void pr_get(struct pair *p)
{
	void *tok;
	uint32_t len;
	assert_int_equal(vio_vq_get(p->l.vq, &tok, &len), 0);
	assert_ptr_equal(tok, p->tok);
	p->outstanding--;
}

static void pr_pop_all(struct pair *p)
{
	while (vio_devq_has_avail(p->l.dq))
		pr_pop(p);
}

/* Complete everything: pop, push, get. Leaves no decision pending either:
 * kick_prepare and needs_notify have seen every add and push. */
static void pr_settle(struct pair *p)
{
	(void)vio_vq_kick_prepare(p->l.vq);
	pr_pop_all(p);
	while (p->nheld > 0)
		pr_push(p);
	(void)vio_devq_needs_notify(p->l.dq);
	while (p->outstanding > 0)
		pr_get(p);
}

/* Move the positions forward by n buffers of nseg segments each. */
static void pr_cycle(struct pair *p, unsigned n, unsigned nseg)
{
	for (unsigned i = 0; i < n; i++) {
		pr_add(p, nseg);
		pr_pop(p);
		pr_push(p);
		pr_get(p);
	}
	pr_settle(p);
}

static uint16_t rd16(const void *ptr)
{
	const unsigned char *b = ptr;
	return (uint16_t)(b[0] | b[1] << 8);
}

/* Split raw fields. */
static uint16_t split_avail_flags(const struct pair *p)
{
	return rd16(p->l.driver_area);
}

static uint16_t split_used_event(const struct pair *p)
{
	return rd16((const unsigned char *)p->l.driver_area + 4 + 2u * p->l.cfg.size);
}

static uint16_t split_used_flags(const struct pair *p)
{
	return rd16(p->l.device_area);
}

static uint16_t split_avail_event(const struct pair *p)
{
	return rd16((const unsigned char *)p->l.device_area + 4 + 8u * p->l.cfg.size);
}

/* Packed raw event suppression structures: off_wrap at 0, flags at 2. */
static uint16_t pk_flags(const void *area)
{
	return rd16((const unsigned char *)area + 2);
}

static uint16_t pk_off_wrap(const void *area)
{
	return rd16(area);
}

static uint16_t ow(uint16_t slot, bool wrap)
{
	return (uint16_t)(slot | (wrap ? 0x8000u : 0u));
}

/* ------------------------------------------------------------------------ */
/* Split without EVENT_IDX: the flags. */

static void test_notify_split_flags_kick(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_SPLIT, 16, false, false);
	struct vio_vq *vq = p->l.vq;
	struct vio_devq *dq = p->l.dq;

	assert_int_equal(split_used_flags(p), 0);
	assert_false(vio_vq_kick_prepare(vq)); /* nothing added yet */
	pr_add(p, 1);
	assert_true(vio_vq_kick_prepare(vq));
	assert_false(vio_vq_kick_prepare(vq)); /* nothing added since */

	vio_devq_disable_notify(dq);
	assert_int_equal(split_used_flags(p), VIO_USED_F_NO_NOTIFY);
	pr_add(p, 2);
	assert_false(vio_vq_kick_prepare(vq));
	pr_add(p, 1);
	pr_add(p, 3);
	assert_false(vio_vq_kick_prepare(vq));

	/* Buffers pending: enable_notify clears the flag but says "pop first". */
	assert_false(vio_devq_enable_notify(dq));
	assert_int_equal(split_used_flags(p), 0);
	pr_pop_all(p);
	assert_true(vio_devq_enable_notify(dq));
	assert_int_equal(split_used_flags(p), 0);
	assert_false(vio_vq_kick_prepare(vq));
	pr_add(p, 1);
	assert_true(vio_vq_kick_prepare(vq));

	/* Added while disabled, then enabled before the kick: kick. */
	vio_devq_disable_notify(dq);
	pr_add(p, 1);
	assert_false(vio_devq_enable_notify(dq));
	assert_true(vio_vq_kick_prepare(vq));
	/* EVENT_IDX fields are left alone without the feature. */
	assert_int_equal(split_avail_event(p), 0);
	pr_settle(p);
	assert_int_equal(split_avail_event(p), 0);
	assert_int_equal(split_used_event(p), 0);
}

static void test_notify_split_flags_intr(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_SPLIT, 16, false, false);
	struct vio_vq *vq = p->l.vq;
	struct vio_devq *dq = p->l.dq;

	for (int i = 0; i < 4; i++)
		pr_add(p, 2);
	pr_pop_all(p);
	(void)vio_devq_needs_notify(dq); /* the first call has no reference */

	assert_int_equal(split_avail_flags(p), 0);
	vio_vq_disable_intr(vq);
	assert_int_equal(split_avail_flags(p), VIO_AVAIL_F_NO_INTERRUPT);
	pr_push(p);
	assert_false(vio_devq_needs_notify(dq));

	/* A completion is pending: enable_intr clears the flag, returns false. */
	assert_false(vio_vq_enable_intr(vq));
	assert_int_equal(split_avail_flags(p), 0);
	pr_get(p);
	assert_true(vio_vq_enable_intr(vq));
	pr_push(p);
	assert_true(vio_devq_needs_notify(dq));
	assert_false(vio_devq_needs_notify(dq)); /* nothing pushed since */
	pr_push(p);
	assert_true(vio_devq_needs_notify(dq)); /* flags only: every push notifies */

	vio_vq_disable_intr(vq);
	pr_push(p);
	assert_false(vio_devq_needs_notify(dq));
	assert_int_equal(split_used_event(p), 0);
	assert_int_equal(split_avail_event(p), 0);
	pr_settle(p);
}

/* ------------------------------------------------------------------------ */
/* Split with EVENT_IDX, at several positions including across 2^16. */

static void split_ei_kick_scenario(struct pair *p)
{
	struct vio_vq *vq = p->l.vq;
	struct vio_devq *dq = p->l.dq;
	uint16_t base = p->avail_pos;

	assert_true(vio_devq_enable_notify(dq));
	assert_int_equal(split_avail_event(p), base);
	assert_false(vio_vq_kick_prepare(vq));

	pr_add(p, 1); /* entry base: the event */
	assert_true(vio_vq_kick_prepare(vq));
	pr_add(p, 2); /* base + 1: past it */
	assert_false(vio_vq_kick_prepare(vq));

	/* The device takes both but does not re-enable: no kick. */
	pr_pop_all(p);
	pr_add(p, 1); /* base + 2 */
	assert_false(vio_vq_kick_prepare(vq));

	/* The event falls inside a batch of adds: base + 3 is added and taken
	 * before the device re-enables at base + 4, then base + 4 is added;
	 * one kick_prepare covers both. */
	pr_pop_all(p);
	pr_add(p, 1); /* base + 3 */
	pr_pop_all(p);
	assert_true(vio_devq_enable_notify(dq));
	assert_int_equal(split_avail_event(p), (uint16_t)(base + 4));
	pr_add(p, 3); /* base + 4 */
	assert_true(vio_vq_kick_prepare(vq));

	/* Re-enabled while buffers are pending: false, event at last_avail. */
	pr_add(p, 1); /* base + 5 */
	assert_false(vio_devq_enable_notify(dq));
	assert_int_equal(split_avail_event(p), (uint16_t)(base + 4));
	assert_false(vio_vq_kick_prepare(vq)); /* base + 4 was kicked already */
	pr_pop_all(p);
	assert_true(vio_devq_enable_notify(dq));
	assert_int_equal(split_avail_event(p), (uint16_t)(base + 6));
	for (int i = 0; i < 3; i++)
		pr_add(p, 1); /* base + 6 .. base + 8: the first crosses */
	assert_true(vio_vq_kick_prepare(vq));
	pr_settle(p);
}

static void test_notify_split_event_idx_kick(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_SPLIT, 16, true, false);
	split_ei_kick_scenario(p);
	/* Just below 32768 and 65536: the scenario crosses both. */
	pr_cycle(p, 32765u - p->avail_pos, 1);
	assert_int_equal(p->avail_pos, 32765);
	split_ei_kick_scenario(p);
	pr_cycle(p, (uint16_t)(65533u - p->avail_pos), 1);
	assert_int_equal(p->avail_pos, 65533);
	split_ei_kick_scenario(p);
	assert_true(p->avail_pos < 100); /* wrapped */
	split_ei_kick_scenario(p);
}

static void split_ei_intr_scenario(struct pair *p)
{
	struct vio_vq *vq = p->l.vq;
	struct vio_devq *dq = p->l.dq;
	uint16_t base = p->used_pos;

	assert_true(vio_vq_enable_intr(vq));
	assert_int_equal(split_used_event(p), base);
	for (int i = 0; i < 4; i++)
		pr_add(p, 2);
	pr_pop_all(p);
	assert_false(vio_devq_needs_notify(dq)); /* nothing pushed */
	pr_push(p);				 /* entry base: the event */
	assert_true(vio_devq_needs_notify(dq));
	pr_push(p); /* base + 1: not asked for (the driver has not reaped) */
	assert_false(vio_devq_needs_notify(dq));
	assert_false(vio_vq_enable_intr(vq)); /* completions pending */
	pr_get(p);
	assert_int_equal(split_used_event(p), (uint16_t)(base + 1));
	pr_get(p);
	assert_int_equal(split_used_event(p), (uint16_t)(base + 2));
	pr_push(p); /* base + 2 */
	assert_true(vio_devq_needs_notify(dq));

	/* Disabled: used_event half the index space away, flags untouched. */
	vio_vq_disable_intr(vq);
	assert_int_equal(split_used_event(p), (uint16_t)(base + 2 + 0x8000u));
	assert_int_equal(split_avail_flags(p), 0);
	pr_push(p); /* base + 3 */
	assert_false(vio_devq_needs_notify(dq));
	pr_get(p);
	assert_int_equal(split_used_event(p), (uint16_t)(base + 2 + 0x8000u)); /* not moved */
	pr_get(p);
	assert_true(vio_vq_enable_intr(vq));
	assert_int_equal(split_used_event(p), (uint16_t)(base + 4));

	/* Delayed: about three quarters of the 8 outstanding buffers. */
	for (int i = 0; i < 8; i++)
		pr_add(p, 1);
	pr_pop_all(p);
	assert_true(vio_vq_enable_intr_delayed(vq));
	uint16_t ev = split_used_event(p);
	uint16_t ahead = (uint16_t)(ev - (uint16_t)(base + 4));
	assert_in_range(ahead, 4, 7);
	for (unsigned k = 0; k < 8; k++) {
		pr_push(p); /* entry base + 4 + k */
		bool want = k == ahead;
		if (vio_devq_needs_notify(dq) != want)
			fail_msg("delayed: push %u (event at +%u) notified %d", k, ahead, !want);
	}
	pr_settle(p);
}

static void test_notify_split_event_idx_intr(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_SPLIT, 16, true, false);
	(void)vio_devq_needs_notify(p->l.dq); /* the first call has no reference */
	split_ei_intr_scenario(p);
	pr_cycle(p, (uint16_t)(65531u - p->used_pos), 1);
	assert_int_equal(p->used_pos, 65531);
	split_ei_intr_scenario(p);
	assert_true(p->used_pos < 100);
	split_ei_intr_scenario(p);
}

/* ------------------------------------------------------------------------ */
/* Packed: the event suppression structures. */

static void check_packed_structs(bool ei)
{
	struct pair *p = pr_new(VIO_RING_PACKED, 10, ei, false);
	const unsigned char *drv = p->l.driver_area, *dev = p->l.device_area;
	static const unsigned char zero[4];

	assert_memory_equal(drv, zero, 4);
	assert_memory_equal(dev, zero, 4);

	vio_vq_disable_intr(p->l.vq);
	assert_int_equal(pk_flags(drv), VIO_RING_EVENT_FLAGS_DISABLE);
	assert_true(vio_vq_enable_intr(p->l.vq));
	if (ei) {
		assert_int_equal(pk_flags(drv), VIO_RING_EVENT_FLAGS_DESC);
		/* Slot 0, wrap counter 1 (§2.8.1: counters start at 1). */
		unsigned char want[4] = {0x00, 0x80, 0x02, 0x00};
		assert_memory_equal(drv, want, 4);
	} else {
		assert_memory_equal(drv, zero, 4);
	}

	vio_devq_disable_notify(p->l.dq);
	assert_int_equal(pk_flags(dev), VIO_RING_EVENT_FLAGS_DISABLE);
	assert_true(vio_devq_enable_notify(p->l.dq));
	if (ei) {
		unsigned char want[4] = {0x00, 0x80, 0x02, 0x00};
		assert_memory_equal(dev, want, 4);
	} else {
		assert_int_equal(pk_flags(dev), VIO_RING_EVENT_FLAGS_ENABLE);
	}

	/* Positions after a wrap: 3 + 3 + 3 + 2 slots = 11 = one lap + 1. */
	for (int i = 0; i < 3; i++)
		pr_cycle(p, 1, 3);
	pr_cycle(p, 1, 2);
	assert_int_equal(p->used_pos, 1);
	assert_false(p->used_wrap);
	assert_true(vio_vq_enable_intr(p->l.vq));
	assert_true(vio_devq_enable_notify(p->l.dq));
	if (ei) {
		unsigned char want[4] = {0x01, 0x00, 0x02, 0x00}; /* slot 1, wrap 0 */
		assert_memory_equal(drv, want, 4);
		assert_memory_equal(dev, want, 4);
		vio_vq_disable_intr(p->l.vq);
		vio_devq_disable_notify(p->l.dq);
		/* DISABLE leaves off_wrap as it was. */
		unsigned char off[4] = {0x01, 0x00, 0x01, 0x00};
		assert_memory_equal(drv, off, 4);
		assert_memory_equal(dev, off, 4);
	} else {
		assert_int_equal(pk_flags(drv), VIO_RING_EVENT_FLAGS_ENABLE);
		assert_int_equal(pk_flags(dev), VIO_RING_EVENT_FLAGS_ENABLE);
	}
	teardown(NULL);
}

static void test_notify_packed_event_structs(void **state)
{
	(void)state;
	check_packed_structs(false);
	check_packed_structs(true);
}

/* Packed without EVENT_IDX: ENABLE / DISABLE decide alone. */
static void test_notify_packed_flags(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_PACKED, 10, false, false);
	struct vio_vq *vq = p->l.vq;
	struct vio_devq *dq = p->l.dq;

	(void)vio_devq_needs_notify(dq);
	for (int lap = 0; lap < 6; lap++) {
		pr_add(p, 2);
		assert_true(vio_vq_kick_prepare(vq));
		assert_false(vio_vq_kick_prepare(vq));
		vio_devq_disable_notify(dq);
		pr_add(p, 1);
		assert_false(vio_vq_kick_prepare(vq));
		assert_false(vio_devq_enable_notify(dq)); /* two pending */
		pr_add(p, 1);
		assert_true(vio_vq_kick_prepare(vq));
		pr_pop_all(p);
		assert_true(vio_devq_enable_notify(dq));

		pr_push(p);
		assert_true(vio_devq_needs_notify(dq));
		assert_false(vio_devq_needs_notify(dq));
		pr_push(p);
		assert_true(vio_devq_needs_notify(dq)); /* no EVENT_IDX: every push */
		vio_vq_disable_intr(p->l.vq);
		pr_push(p);
		assert_false(vio_devq_needs_notify(dq));
		assert_false(vio_vq_enable_intr(vq)); /* three pending */
		for (int i = 0; i < 3; i++)
			pr_get(p);
		assert_true(vio_vq_enable_intr(vq));
	}
	assert_true(p->used_pos < 10 && p->avail_pos == p->used_pos);
}

/* Packed DESC for kicks: the device's off_wrap and the exact crossing, over
 * many laps of a ring of 5 with chains of 1 and 2 slots. */
static void test_notify_packed_desc_kick(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_PACKED, 5, true, false);
	struct vio_vq *vq = p->l.vq;
	struct vio_devq *dq = p->l.dq;
	for (unsigned it = 0; it < 60; it++) {
		unsigned a = 1 + it % 2, b = 2 - it % 2, c = 1 + (it / 2) % 2;
		assert_true(vio_devq_enable_notify(dq));
		assert_int_equal(pk_flags(p->l.device_area), VIO_RING_EVENT_FLAGS_DESC);
		assert_int_equal(pk_off_wrap(p->l.device_area),
				 ow(p->dev_avail_pos, p->dev_avail_wrap));
		assert_false(vio_vq_kick_prepare(vq));
		pr_add(p, a); /* at the event */
		assert_true(vio_vq_kick_prepare(vq));
		pr_add(p, b); /* past it */
		assert_false(vio_vq_kick_prepare(vq));
		pr_pop_all(p);
		pr_push(p);
		pr_push(p);
		pr_get(p);
		pr_get(p);
		pr_add(p, c); /* not re-enabled */
		assert_false(vio_vq_kick_prepare(vq));
		pr_pop_all(p);
		pr_push(p);
		pr_get(p);

		/* The event inside one kick_prepare's span. */
		pr_add(p, a);
		pr_pop_all(p);
		pr_push(p);
		pr_get(p);
		assert_true(vio_devq_enable_notify(dq));
		assert_int_equal(pk_off_wrap(p->l.device_area),
				 ow(p->dev_avail_pos, p->dev_avail_wrap));
		pr_add(p, b);
		assert_true(vio_vq_kick_prepare(vq));

		/* DISABLE: never, DESC set again: at the next add. */
		pr_pop_all(p);
		vio_devq_disable_notify(dq);
		assert_int_equal(pk_flags(p->l.device_area), VIO_RING_EVENT_FLAGS_DISABLE);
		pr_add(p, c);
		assert_false(vio_vq_kick_prepare(vq));
		assert_false(vio_devq_enable_notify(dq));
		pr_pop_all(p);
		pr_settle(p);
	}
	assert_true(p->avail_slots / 5 >= 60); /* laps of the ring */
}

/* Packed DESC for interrupts: the driver's off_wrap follows its reaping;
 * the device notifies exactly at the crossing. */
static void test_notify_packed_desc_intr(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_PACKED, 5, true, false);
	struct vio_vq *vq = p->l.vq;
	struct vio_devq *dq = p->l.dq;
	(void)vio_devq_needs_notify(dq);
	for (unsigned it = 0; it < 60; it++) {
		unsigned a = 1 + it % 2, b = 2 - it % 2;
		assert_true(vio_vq_enable_intr(vq));
		assert_int_equal(pk_flags(p->l.driver_area), VIO_RING_EVENT_FLAGS_DESC);
		assert_int_equal(pk_off_wrap(p->l.driver_area), ow(p->used_pos, p->used_wrap));
		pr_add(p, a);
		pr_add(p, b);
		pr_pop_all(p);
		assert_false(vio_devq_needs_notify(dq));
		pr_push(p); /* at the event */
		assert_true(vio_devq_needs_notify(dq));
		pr_push(p); /* past it */
		assert_false(vio_devq_needs_notify(dq));
		pr_get(p);
		assert_int_equal(pk_off_wrap(p->l.driver_area),
				 ow((uint16_t)((p->used_pos + 5 - b) % 5),
				    p->used_wrap ^ (p->used_pos < b)));
		pr_get(p);
		assert_int_equal(pk_off_wrap(p->l.driver_area), ow(p->used_pos, p->used_wrap));

		/* Two pushed in one go with the event at the first. */
		pr_add(p, b);
		pr_add(p, a);
		pr_pop_all(p);
		pr_push(p);
		pr_push(p);
		assert_true(vio_devq_needs_notify(dq));
		pr_get(p);
		pr_get(p);

		vio_vq_disable_intr(vq);
		assert_int_equal(pk_flags(p->l.driver_area), VIO_RING_EVENT_FLAGS_DISABLE);
		pr_add(p, a);
		pr_pop_all(p);
		pr_push(p);
		assert_false(vio_devq_needs_notify(dq));
		assert_false(vio_vq_enable_intr(vq)); /* pending */
		pr_get(p);
	}
	assert_true(p->used_slots / 5 >= 60);
}

/* Delayed interrupts on packed: off_wrap about 3/4 of the busy slots on,
 * and the notification exactly at the crossing. */
static void test_notify_packed_desc_intr_delayed(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_PACKED, 10, true, false);
	struct vio_devq *dq = p->l.dq;

	(void)vio_devq_needs_notify(dq);
	for (unsigned it = 0; it < 12; it++) {
		for (int i = 0; i < 8; i++)
			pr_add(p, 1);
		pr_pop_all(p);
		uint16_t start = p->used_pos;
		bool start_wrap = p->used_wrap;
		assert_true(vio_vq_enable_intr_delayed(p->l.vq));
		uint16_t o = pk_off_wrap(p->l.driver_area);
		unsigned pos = (o & 0x7fffu) + ((o & 0x8000u) != 0 ? 0u : 10u);
		unsigned from = start + (start_wrap ? 0u : 10u);
		unsigned ahead = (pos + 20 - from) % 20;
		assert_in_range(ahead, 4, 7);
		for (unsigned k = 0; k < 8; k++) {
			pr_push(p);
			bool want = k == ahead;
			if (vio_devq_needs_notify(dq) != want)
				fail_msg("it %u push %u (event +%u): notified %d", it, k, ahead,
					 !want);
		}
		pr_settle(p);
	}
}

/* ------------------------------------------------------------------------ */
/* Both formats, EVENT_IDX on and off. */

struct variant {
	enum vio_ring_format fmt;
	bool ei;
};

static const struct variant variants[] = {
	{VIO_RING_SPLIT, false},
	{VIO_RING_SPLIT, true},
	{VIO_RING_PACKED, false},
	{VIO_RING_PACKED, true},
};

#define NVARIANTS (sizeof(variants) / sizeof(variants[0]))

static void test_notify_enable_reports_pending(void **state)
{
	(void)state;
	for (unsigned v = 0; v < NVARIANTS; v++) {
		struct pair *p = pr_new(variants[v].fmt, 8, variants[v].ei, false);
		for (int round = 0; round < 20; round++) {
			assert_true(vio_devq_enable_notify(p->l.dq));
			assert_true(vio_vq_enable_intr(p->l.vq));
			pr_add(p, 1 + round % 3);
			assert_false(vio_devq_enable_notify(p->l.dq));
			assert_false(vio_devq_enable_notify(p->l.dq)); /* still pending */
			pr_pop(p);
			assert_true(vio_devq_enable_notify(p->l.dq));
			assert_true(vio_vq_enable_intr(p->l.vq));
			pr_push(p);
			assert_false(vio_vq_enable_intr(p->l.vq));
			assert_false(vio_vq_enable_intr(p->l.vq));
			vio_vq_disable_intr(p->l.vq);
			assert_false(vio_vq_enable_intr(p->l.vq));
			pr_get(p);
			assert_true(vio_vq_enable_intr(p->l.vq));
			pr_settle(p);
		}
		teardown(NULL);
	}
}

static void test_notify_nothing_new_is_false(void **state)
{
	(void)state;
	for (unsigned v = 0; v < NVARIANTS; v++) {
		struct pair *p = pr_new(variants[v].fmt, 8, variants[v].ei, false);
		/* First calls, nothing added or pushed yet. */
		assert_false(vio_vq_kick_prepare(p->l.vq));
		assert_false(vio_devq_needs_notify(p->l.dq));
		assert_false(vio_devq_needs_notify(p->l.dq));
		for (int round = 0; round < 40; round++) {
			pr_add(p, 1 + round % 4);
			(void)vio_vq_kick_prepare(p->l.vq);
			assert_false(vio_vq_kick_prepare(p->l.vq));
			pr_pop(p);
			assert_false(vio_vq_kick_prepare(p->l.vq));
			pr_push(p);
			(void)vio_devq_needs_notify(p->l.dq);
			assert_false(vio_devq_needs_notify(p->l.dq));
			pr_get(p);
			assert_false(vio_devq_needs_notify(p->l.dq));
			assert_false(vio_vq_kick_prepare(p->l.vq));
			if (round % 3 == 0) {
				vio_vq_enable_intr(p->l.vq);
				vio_devq_enable_notify(p->l.dq);
			} else if (round % 3 == 1) {
				vio_vq_disable_intr(p->l.vq);
				vio_devq_disable_notify(p->l.dq);
			}
			assert_false(vio_devq_needs_notify(p->l.dq));
			assert_false(vio_vq_kick_prepare(p->l.vq));
		}
		teardown(NULL);
	}
}

/* After enable_intr() returned true, the next push notifies; after
 * enable_notify() returned true, the next add kicks; whatever happened
 * before (random prefixes, fixed seed). */
static void test_notify_no_lost_wakeup(void **state)
{
	(void)state;
	for (unsigned v = 0; v < NVARIANTS; v++) {
		for (int ind = 0; ind <= 1; ind++) {
			struct pair *p = pr_new(variants[v].fmt, 8, variants[v].ei, ind != 0);
			struct loop_rng rng;
			loop_rng_seed(&rng, 0x10571e5u + v * 2u + (unsigned)ind);
			unsigned checked_intr = 0, checked_kick = 0;
			for (int trial = 0; trial < 3000; trial++) {
				/* A random prefix. */
				unsigned n = loop_rng_range(&rng, 0, 12);
				for (unsigned k = 0; k < n; k++) {
					switch (loop_rng_below(&rng, 10)) {
					case 0:
						if (vio_vq_num_free(p->l.vq) >= 3)
							pr_add(p, loop_rng_range(&rng, 1, 3));
						break;
					case 1:
						(void)vio_vq_kick_prepare(p->l.vq);
						break;
					case 2:
						if (vio_devq_has_avail(p->l.dq))
							pr_pop(p);
						break;
					case 3:
						if (p->nheld > 0)
							pr_push_k(p,
								  loop_rng_below(&rng, p->nheld));
						break;
					case 4:
						(void)vio_devq_needs_notify(p->l.dq);
						break;
					case 5:
						if (vio_vq_has_used(p->l.vq))
							pr_get(p);
						break;
					case 6:
						vio_vq_disable_intr(p->l.vq);
						break;
					case 7:
						vio_devq_disable_notify(p->l.dq);
						break;
					case 8:
						(void)vio_vq_enable_intr(p->l.vq);
						break;
					default:
						(void)vio_devq_enable_notify(p->l.dq);
						break;
					}
				}
				if (p->nheld > 0 && vio_vq_enable_intr(p->l.vq)) {
					pr_push_k(p, loop_rng_below(&rng, p->nheld));
					if (!vio_devq_needs_notify(p->l.dq))
						fail_msg("variant %u ind %d trial %d: push after "
							 "enable_intr true did not notify",
							 v, ind, trial);
					checked_intr++;
				}
				if (vio_vq_num_free(p->l.vq) >= 3 &&
				    vio_devq_enable_notify(p->l.dq)) {
					pr_add(p, loop_rng_range(&rng, 1, 3));
					if (!vio_vq_kick_prepare(p->l.vq))
						fail_msg("variant %u ind %d trial %d: add after "
							 "enable_notify true did not kick",
							 v, ind, trial);
					checked_kick++;
				}
			}
			assert_true(checked_intr > 300 && checked_kick > 300);
			teardown(NULL);
		}
	}
}

/* Split: 65536 pushes between two needs_notify calls leave the 16-bit used
 * index where it was; they must not count as "nothing pushed". */
static void test_notify_split_many_pushes_between_decisions(void **state)
{
	(void)state;
	for (int ei = 0; ei <= 1; ei++) {
		struct pair *p = pr_new(VIO_RING_SPLIT, 8, ei != 0, false);
		pr_add(p, 1);
		pr_pop(p);
		pr_push(p);
		assert_true(vio_devq_needs_notify(p->l.dq));
		pr_get(p);
		assert_true(vio_vq_enable_intr(p->l.vq));
		for (unsigned i = 0; i < 65536; i++) {
			pr_add(p, 1);
			pr_pop(p);
			pr_push(p);
			pr_get(p);
		}
		if (!vio_devq_needs_notify(p->l.dq))
			fail_msg("event_idx %d: needs_notify false after 65536 pushes since its "
				 "last "
				 "call with interrupts enabled",
				 ei);
		assert_false(vio_devq_needs_notify(p->l.dq));
		teardown(NULL);
	}
}

/* ------------------------------------------------------------------------ */
/* Notification data (§2.9). */

static void test_notify_data_split(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_SPLIT, 8, false, false);
	assert_int_equal(vio_vq_notify_data(p->l.vq), vio_notify_data_make(7, 0, false));
	for (uint32_t n = 1; n <= 70000; n++) {
		pr_add(p, 1 + n % 2);
		uint32_t d = vio_vq_notify_data(p->l.vq);
		if (d != vio_notify_data_make(7, (uint16_t)n, false))
			fail_msg("after %u adds: notify data 0x%08x", n, d);
		assert_int_equal(vio_notify_data_vq(d), 7);
		assert_int_equal(vio_notify_data_split_idx(d), (uint16_t)n);
		assert_int_equal(vio_notify_data_wrap(d), ((uint16_t)n & 0x8000u) != 0);
		pr_pop(p);
		pr_push(p);
		pr_get(p);
	}
}

static void test_notify_data_packed(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_PACKED, 10, false, false);
	assert_int_equal(vio_vq_notify_data(p->l.vq), vio_notify_data_make(7, 0, true));
	for (unsigned n = 1; n <= 200; n++) {
		pr_add(p, 1 + n % 3);
		uint32_t d = vio_vq_notify_data(p->l.vq);
		if (d != vio_notify_data_make(7, p->avail_pos, p->avail_wrap))
			fail_msg("after %u adds: notify data 0x%08x, want slot %u wrap %d", n, d,
				 p->avail_pos, p->avail_wrap);
		assert_int_equal(vio_notify_data_off(d), p->avail_pos);
		assert_int_equal(vio_notify_data_wrap(d), p->avail_wrap);
		pr_pop(p);
		pr_push(p);
		pr_get(p);
	}
	assert_true(p->avail_slots / 10 >= 30);
}

/* ------------------------------------------------------------------------ */
/* Regressions for defects found while writing these tests. */

/* enable_intr_delayed on packed must not report "nothing pending" while a
 * completion that already crossed the event is waiting: the device will not
 * notify again. A used multi-descriptor chain covers the event slot, whose
 * own flags are not a used descriptor's. */
static void test_notify_packed_delayed_sees_crossed_event(void **state)
{
	(void)state;
	struct pair *p = pr_new(VIO_RING_PACKED, 8, true, false);
	struct vio_devq *dq = p->l.dq;

	(void)vio_devq_needs_notify(dq);
	vio_vq_disable_intr(p->l.vq);
	pr_add(p, 3); /* slots 0..2 */
	pr_pop(p);
	pr_push(p);				 /* used position 0 -> 3 */
	assert_false(vio_devq_needs_notify(dq)); /* DISABLE */

	/* Event at about 3/4 of 3 busy slots: slot 2, inside the used chain. */
	bool sleep_ok = vio_vq_enable_intr_delayed(p->l.vq);
	/* If the driver may sleep now, the device must still wake it. */
	bool notified = vio_devq_needs_notify(dq);
	if (sleep_ok && !notified)
		fail_msg("enable_intr_delayed returned true with a completion pending whose "
			 "position is past the event (off_wrap 0x%04x): lost wakeup",
			 pk_off_wrap(p->l.driver_area));
	pr_get(p);
}

/* The device's DISABLE (packed) / NO_NOTIFY (split without EVENT_IDX) must
 * hold however many buffers were added since the last kick_prepare
 * (§2.7.10, §2.8.10: the driver SHOULD NOT notify). Split with EVENT_IDX has
 * no "never" (a stale avail_event is a hint only) and is not checked. */
static void test_notify_disable_holds_for_many_adds(void **state)
{
	(void)state;
	unsigned bad = 0;
	for (unsigned v = 0; v < NVARIANTS; v++) {
		if (variants[v].fmt == VIO_RING_SPLIT && variants[v].ei)
			continue;
		struct pair *p = pr_new(variants[v].fmt, 4, variants[v].ei, false);
		vio_devq_disable_notify(p->l.dq);
		for (int i = 0; i < 4; i++)
			pr_add(p, 1); /* a full ring */
		if (vio_vq_kick_prepare(p->l.vq)) {
			print_error("%s event_idx %d: kick_prepare true after a full ring of adds "
				    "while the device disabled notifications\n",
				    is_packed(p) ? "packed" : "split", has_ei(p));
			bad++;
		}
		pr_settle(p);
		if (!is_packed(p)) {
			/* 65535 adds without a kick_prepare. */
			vio_devq_disable_notify(p->l.dq);
			for (unsigned i = 0; i < 65535; i++) {
				pr_add(p, 1);
				pr_pop(p);
				pr_push(p);
				pr_get(p);
			}
			if (vio_vq_kick_prepare(p->l.vq)) {
				print_error("split: kick_prepare true after 65535 adds with "
					    "VIO_USED_F_NO_NOTIFY set\n");
				bad++;
			}
		}
		teardown(NULL);
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_notify_split_flags_kick, teardown),
		cmocka_unit_test_teardown(test_notify_split_flags_intr, teardown),
		cmocka_unit_test_teardown(test_notify_split_event_idx_kick, teardown),
		cmocka_unit_test_teardown(test_notify_split_event_idx_intr, teardown),
		cmocka_unit_test_teardown(test_notify_packed_event_structs, teardown),
		cmocka_unit_test_teardown(test_notify_packed_flags, teardown),
		cmocka_unit_test_teardown(test_notify_packed_desc_kick, teardown),
		cmocka_unit_test_teardown(test_notify_packed_desc_intr, teardown),
		cmocka_unit_test_teardown(test_notify_packed_desc_intr_delayed, teardown),
		cmocka_unit_test_teardown(test_notify_enable_reports_pending, teardown),
		cmocka_unit_test_teardown(test_notify_nothing_new_is_false, teardown),
		cmocka_unit_test_teardown(test_notify_no_lost_wakeup, teardown),
		cmocka_unit_test_teardown(test_notify_split_many_pushes_between_decisions,
					  teardown),
		cmocka_unit_test_teardown(test_notify_data_split, teardown),
		cmocka_unit_test_teardown(test_notify_data_packed, teardown),
		cmocka_unit_test_teardown(test_notify_packed_delayed_sees_crossed_event, teardown),
		cmocka_unit_test_teardown(test_notify_disable_holds_for_many_adds, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
