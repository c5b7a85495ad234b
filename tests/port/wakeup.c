/* SPDX-License-Identifier: MIT */
/* Lost wakeups in vio_vq_get_batch(), made deterministic. With EVENT_IDX
 * (split used_event, packed off_wrap with DESC), a batch that has taken
 * what was used and is about to stop must first ask for the next
 * completion (write the event, full fence) and then look at the ring once
 * more: a completion published between its last look and the event write
 * was checked by the device against the old event, which did not ask for
 * it, so no interrupt comes, and only that second look returns it.
 *
 * The ring code is built into this program with a port header
 * (wakeup_port.h) whose VIO_WRITE_ONCE calls wakeup_hook_store() before
 * each store. Armed on the driver's event field, the hook plays the device
 * at the worst instant, just before the event store: it completes the next
 * buffer and decides, from the event as it still is, whether it would
 * interrupt. It would not (the old event names an earlier position), so
 * the batch must return that buffer; a get_batch that stops without the
 * second look fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdalign.h>
#include <stdbool.h>
#include <string.h>

#include <virtio/virtio.h>

#include "wakeup_port.h"

#define N 8

static struct {
	alignas(16) unsigned char desc[16 * N];
	alignas(4) unsigned char drv[VIO_SPLIT_AVAIL_SIZE(N)];
	alignas(4) unsigned char dev[VIO_SPLIT_USED_SIZE(N)];
	unsigned char data[N][64];
} mem;
static alignas(8) unsigned char vqmem[VIO_VQ_MEM_SIZE(N)];

/* The device model: what it completed, where, and whether it would have
 * interrupted. */
static struct {
	enum vio_ring_format fmt;
	uint16_t used;	   /* buffers completed (split: the used index) */
	uint16_t slot;	   /* packed: next used slot */
	bool wrap;	   /* packed: its wrap counter */
	const void *armed; /* the hook acts before the next store here */
	unsigned fired;	   /* times it acted */
	bool notified;	   /* the completion it made would interrupt */
} dev;

static uint16_t le16_at(const void *p)
{
	const unsigned char *b = p;
	return (uint16_t)(b[0] | b[1] << 8);
}

/* Complete the buffer the driver made available @nth (its head or id is
 * @nth on a fresh queue: the free lists start 0, 1, ...). Returns whether
 * the device's notification rule, applied to the event as the driver left
 * it, asks for an interrupt. One buffer moves the position by one, so the
 * rule (vio_need_event(event, new, old)) comes down to event == old. */
static bool dev_complete(uint16_t nth)
{
	if (dev.fmt == VIO_RING_SPLIT) {
		struct vio_split_used *u = (struct vio_split_used *)(void *)mem.dev;
		struct vio_split_used_elem *e = &vio_split_used_ring(u)[dev.used % N];
		e->id = vio_le32_make(nth);
		e->len = vio_le32_make(8);
		uint16_t old = dev.used++;
		__atomic_store_n(&u->idx.raw, vio_le16_make(dev.used).raw, __ATOMIC_RELEASE);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		struct vio_split_avail *a = (struct vio_split_avail *)(void *)mem.drv;
		return le16_at(vio_split_used_event(a, N)) == old;
	}
	struct vio_packed_desc *d = (struct vio_packed_desc *)(void *)mem.desc + dev.slot;
	d->id = vio_le16_make(nth);
	d->len = vio_le32_make(8);
	uint16_t flags =
		(uint16_t)(VIO_DESC_F_WRITE | (dev.wrap ? VIO_DESC_F_AVAIL | VIO_DESC_F_USED : 0));
	__atomic_store_n(&d->flags.raw, vio_le16_make(flags).raw, __ATOMIC_RELEASE);
	uint16_t old = (uint16_t)(dev.slot | (unsigned)dev.wrap << VIO_RING_EVENT_WRAP_SHIFT);
	if (++dev.slot == N) {
		dev.slot = 0;
		dev.wrap = !dev.wrap;
	}
	dev.used++;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	const struct vio_packed_event *ev = (const struct vio_packed_event *)(void *)mem.drv;
	uint16_t ef = le16_at(&ev->flags);
	if (ef != VIO_RING_EVENT_FLAGS_DESC)
		return ef == VIO_RING_EVENT_FLAGS_ENABLE;
	return le16_at(&ev->off_wrap) == old;
}

void wakeup_hook_store(const void *p)
{
	if (dev.armed == NULL || p != dev.armed)
		return;
	dev.armed = NULL;
	dev.fired++;
	dev.notified = dev_complete(dev.used);
}

static struct vio_vq *open_vq(enum vio_ring_format fmt)
{
	memset(&mem, 0, sizeof(mem));
	memset(&dev, 0, sizeof(dev));
	dev.fmt = fmt;
	dev.wrap = true;
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	c.format = fmt;
	c.size = N;
	vio_features_set(&c.features, VIO_F_VERSION_1);
	vio_features_set(&c.features, VIO_F_EVENT_IDX);
	if (fmt == VIO_RING_PACKED)
		vio_features_set(&c.features, VIO_F_RING_PACKED);
	c.desc = mem.desc;
	c.driver_area = mem.drv;
	c.device_area = mem.dev;
	struct vio_vq *vq;
	assert_int_equal(vio_vq_init(&vq, vqmem, sizeof(vqmem), &c), 0);
	/* Packed starts with ENABLE (every completion interrupts): ask by
	 * position, as a driver that wants EVENT_IDX does. */
	assert_true(vio_vq_enable_intr(vq));
	for (unsigned i = 0; i < N; i++) {
		struct vio_sg sg = {mem.data[i], sizeof(mem.data[i])};
		assert_int_equal(vio_vq_add(vq, &sg, 0, 1, mem.data[i]), 0);
	}
	return vq;
}

/* The driver's event field, where the hook waits. */
static const void *event_field(enum vio_ring_format fmt)
{
	if (fmt == VIO_RING_SPLIT)
		return vio_split_used_event((struct vio_split_avail *)(void *)mem.drv, N);
	return &((struct vio_packed_event *)(void *)mem.drv)->off_wrap;
}

/* @done completions before the batch, then one in the window. */
static void race(enum vio_ring_format fmt, unsigned done, unsigned max)
{
	struct vio_vq *vq = open_vq(fmt);
	for (unsigned i = 0; i < done; i++)
		(void)dev_complete(dev.used);
	dev.armed = event_field(fmt);
	void *tok[N];
	uint32_t len[N];
	int got = vio_vq_get_batch(vq, tok, len, max);
	/* The window was there: the batch wrote its event after taking
	 * what it found. */
	assert_int_equal(dev.fired, 1);
	assert_int_equal(dev.used, done + 1);
	/* The old event did not ask for it (no interrupt comes): the batch
	 * itself must return it. */
	assert_false(dev.notified);
	assert_int_equal(got, (int)(done + 1));
	for (int i = 0; i < got; i++) {
		assert_ptr_equal(tok[i], mem.data[i]);
		assert_int_equal(len[i], 8);
	}
	/* Nothing lost either way: what the batch left, a get returns. */
	for (unsigned i = (unsigned)got; i < dev.used; i++) {
		void *t;
		uint32_t l;
		assert_int_equal(vio_vq_get(vq, &t, &l), 0);
		assert_ptr_equal(t, mem.data[i]);
	}
	assert_false(vio_vq_is_broken(vq));
}

static void test_get_batch_no_lost_wakeup_split(void **state)
{
	(void)state;
	for (unsigned done = 1; done <= 3; done++)
		race(VIO_RING_SPLIT, done, N);
}

static void test_get_batch_no_lost_wakeup_packed(void **state)
{
	(void)state;
	for (unsigned done = 1; done <= 3; done++)
		race(VIO_RING_PACKED, done, N);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_batch_no_lost_wakeup_split),
		cmocka_unit_test(test_get_batch_no_lost_wakeup_packed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
