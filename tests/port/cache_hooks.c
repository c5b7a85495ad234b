/* SPDX-License-Identifier: MIT */
/* Both halves call the cache hooks of port.h where non-coherent shared
 * memory needs them: the ring code is built into this program with a port
 * header (cache_port.h) whose hooks log each range together with a snapshot
 * of a watched publishing field taken when the hook ran.
 *
 * The device does not share the driver's view of memory: its region table
 * maps the shared area (`mem`, what the driver reads and writes, standing in
 * for memory) onto a private copy (`view`, standing in for the device's
 * cache), initially filled with stale bytes. The device's hooks move bytes
 * between the two as a cache would: an invalidate refetches the range from
 * memory, dropping what the device wrote there; a clean writes back what the
 * device wrote there. A device read without the invalidate before it sees
 * stale bytes, a device write without a clean after it never reaches the
 * driver; the pair still has to work.
 *
 * Driver, checked for split and packed: init cleans the zeroed ring parts;
 * every descriptor, indirect table and available entry of an add is cleaned
 * before the store that publishes it, and the publishing field after it;
 * kick_prepare invalidates the device's suppression fields before reading
 * them; get invalidates the used index and element (split) or the used
 * descriptor (packed) before reading them; the driver's event suppression
 * is cleaned when written.
 *
 * Device, checked for split and packed, with and without EVENT_IDX: pop
 * invalidates the available index (split), the available entry, every
 * descriptor of a direct chain and the indirect table of an indirect one,
 * and the popped chain is the one the driver added; push, push_batch and
 * push_in_order clean each used element (split) or used descriptor (packed)
 * before the store that publishes the batch (used->idx, the first used
 * descriptor's flags) and the publishing field after it; needs_notify
 * invalidates used_event or the available flags (split) or the driver's
 * event suppression (packed) before deciding, and decides as the driver
 * asked; disable_notify / enable_notify clean avail_event or the used flags
 * (split) or the device's event suppression, off_wrap before the flags that
 * use it (packed), and enable_notify invalidates what it checks for newly
 * available buffers; the driver's kick_prepare follows the device's wish.
 * After a restore into a stale cache, set_state invalidates used->idx and
 * the descriptors repop reads (split), and repop the indirect tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdalign.h>
#include <stdbool.h>
#include <string.h>

#include <virtio/virtio.h>

#include "cache_port.h"

#define N 8
#define IMAX 4
#define LOGMAX 4096

struct hook {
	bool clean;
	const unsigned char *p;
	size_t n;
	uint16_t snap; /* the watched field when the hook ran */
};

static struct hook hooks[LOGMAX];
static unsigned nhooks;
static const uint16_t *watch; /* NULL: snapshot 0 */

/* Shared memory as the driver sees it (coherent with memory)... */
struct shared {
	alignas(16) unsigned char desc[16 * N];
	alignas(4) unsigned char drv[VIO_SPLIT_AVAIL_SIZE(N)];
	alignas(4) unsigned char dev[VIO_SPLIT_USED_SIZE(N)];
	alignas(16) unsigned char pool[VIO_VQ_INDIRECT_POOL_SIZE(N, IMAX)];
	unsigned char data[1024];
};
static struct shared mem;
/* ... and as the device sees it: its cache of the same bytes (view), the
 * bytes as last fetched or written back (base: a byte of view that differs
 * from it is dirty), both stale until the device invalidates them. */
static struct shared view, base;
static bool bad_range; /* a device hook straddled the edge of its view */

#define STALE 0xa5

/* The device's copy of @p, a pointer into mem. */
#define V(p)                                                                                       \
	((void *)((unsigned char *)&view + ((const unsigned char *)(p) - (unsigned char *)&mem)))

/* A device hook (its ranges are in view): move bytes as a cache would. */
static void device_cache(bool clean, const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p, v = (uintptr_t)&view;
	if (a + n <= v || a >= v + sizeof(view))
		return; /* a driver hook: the driver is coherent with mem */
	if (a < v || a + n > v + sizeof(view)) {
		bad_range = true;
		return;
	}
	size_t off = (size_t)(a - v);
	unsigned char *m = (unsigned char *)&mem + off, *c = (unsigned char *)&view + off,
		      *b = (unsigned char *)&base + off;
	for (size_t i = 0; i < n; i++) {
		if (clean && c[i] != b[i])
			m[i] = c[i]; /* write back what the device wrote */
		else if (!clean)
			c[i] = m[i]; /* refetch, dropping what it wrote */
		b[i] = c[i];
	}
}

static void log_hook(bool clean, const void *p, size_t n)
{
	if (nhooks < LOGMAX)
		hooks[nhooks++] = (struct hook){clean, p, n, watch != NULL ? *watch : 0};
	device_cache(clean, p, n);
}

void cache_hook_clean(const void *p, size_t n)
{
	log_hook(true, p, n);
}

void cache_hook_invalidate(const void *p, size_t n)
{
	log_hook(false, p, n);
}

/* Index of the first logged hook of kind @clean covering [p, p+n) whose
 * snapshot satisfies @snap_ok (NULL: any), or -1. */
static int covered(bool clean, const void *p, size_t n, bool (*snap_ok)(uint16_t, uint16_t),
		   uint16_t arg)
{
	const unsigned char *c = p;
	for (unsigned i = 0; i < nhooks; i++) {
		const struct hook *h = &hooks[i];
		if (h->clean == clean && h->p <= c && c + n <= h->p + h->n &&
		    (snap_ok == NULL || snap_ok(h->snap, arg)))
			return (int)i;
	}
	return -1;
}

static bool snap_eq(uint16_t snap, uint16_t want)
{
	return snap == want;
}

#define assert_clean(p, n) assert_true(covered(true, (p), (n), NULL, 0) >= 0)
#define assert_invalidated(p, n) assert_true(covered(false, (p), (n), NULL, 0) >= 0)
#define assert_clean_at(p, n, snap) assert_true(covered(true, (p), (n), snap_eq, (snap)) >= 0)

static alignas(8) unsigned char vqmem[VIO_VQ_MEM_SIZE(N)];
static alignas(8) unsigned char dqmem[8192];

struct pair {
	enum vio_ring_format fmt;
	struct vio_vq *vq;
	struct vio_devq *dq;
};

/* The device reaches the shared area through its own copy of it. */
static struct vio_mem_region region;

/* @event_idx, @in_order: negotiate VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER. */
static void open_pair(struct pair *p, enum vio_ring_format fmt, bool event_idx, bool in_order)
{
	p->fmt = fmt;
	memset(&mem, 0, sizeof(mem));
	memset(&view, STALE, sizeof(view));
	memset(&base, STALE, sizeof(base));
	bad_range = false;
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	c.format = fmt;
	c.size = N;
	vio_features_set(&c.features, VIO_F_VERSION_1);
	if (event_idx)
		vio_features_set(&c.features, VIO_F_EVENT_IDX);
	if (in_order)
		vio_features_set(&c.features, VIO_F_IN_ORDER);
	vio_features_set(&c.features, VIO_F_INDIRECT_DESC);
	if (fmt == VIO_RING_PACKED)
		vio_features_set(&c.features, VIO_F_RING_PACKED);
	c.desc = mem.desc;
	c.driver_area = mem.drv;
	c.device_area = mem.dev;
	c.indirect_pool = mem.pool;
	c.indirect_max = IMAX;
	c.indirect_min = 3;
	nhooks = 0;
	watch = NULL;
	assert_int_equal(vio_vq_init(&p->vq, vqmem, sizeof(vqmem), &c), 0);
	/* The zeroed ring parts reach memory. */
	bool split = fmt == VIO_RING_SPLIT;
	assert_clean(mem.desc, 16 * N);
	assert_clean(mem.drv, split ? VIO_SPLIT_AVAIL_SIZE(N) : VIO_PACKED_EVENT_SIZE);
	assert_clean(mem.dev, split ? VIO_SPLIT_USED_SIZE(N) : VIO_PACKED_EVENT_SIZE);

	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = fmt;
	dc.size = N;
	dc.features = c.features;
	region = (struct vio_mem_region){(uintptr_t)&mem, sizeof(mem), &view, VIO_MAP_RW};
	dc.regions = &region;
	dc.nregions = 1;
	assert_int_equal(vio_vq_ring_addrs(p->vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr),
			 0);
	assert_true(vio_devq_mem_size(fmt, N) <= sizeof(dqmem));
	assert_int_equal(vio_devq_init(&p->dq, dqmem, sizeof(dqmem), &dc), 0);
}

/* Split: add @nseg segments and check the cleans against avail->idx. */
static void split_add(struct pair *p, unsigned nseg)
{
	struct vio_split_avail *avail = (void *)mem.drv;
	struct vio_split_desc *d = (void *)mem.desc;
	uint16_t old = vio_le16_get(avail->idx);
	struct vio_sg sg[IMAX];
	for (unsigned s = 0; s < nseg; s++)
		sg[s] = (struct vio_sg){mem.data + 32 * s, 16};
	nhooks = 0;
	watch = &avail->idx.raw; /* snapshots hold the raw (little-endian) field */
	assert_int_equal(vio_vq_add(p->vq, sg, 1, nseg - 1, mem.data), 0);
	watch = NULL;
	uint16_t head = vio_le16_get(vio_split_avail_ring(avail)[old % N]);
	/* The descriptors (and an indirect table) before the index moved. */
	uint16_t i = head;
	for (;;) {
		assert_clean_at(&d[i], sizeof(d[i]), vio_le16_make(old).raw);
		uint16_t fl = vio_le16_get(d[i].flags);
		if (fl & VIO_DESC_F_INDIRECT)
			assert_clean_at((void *)(uintptr_t)vio_le64_get(d[i].addr),
					vio_le32_get(d[i].len), vio_le16_make(old).raw);
		if (!(fl & VIO_DESC_F_NEXT))
			break;
		i = vio_le16_get(d[i].next);
	}
	assert_clean_at(&vio_split_avail_ring(avail)[old % N], 2, vio_le16_make(old).raw);
	/* The index after it was stored. */
	assert_clean_at(&avail->idx, 2, vio_le16_make((uint16_t)(old + 1)).raw);
}

/* Packed: add @nseg segments; the list is cleaned before the head's flags
 * make it available, the flags after. */
static void packed_add(struct pair *p, unsigned nseg, uint16_t head, bool indirect)
{
	struct vio_packed_desc *d = (void *)mem.desc;
	struct vio_sg sg[IMAX];
	for (unsigned s = 0; s < nseg; s++)
		sg[s] = (struct vio_sg){mem.data + 32 * s, 16};
	uint16_t before = d[head].flags.raw;
	nhooks = 0;
	watch = &d[head].flags.raw;
	assert_int_equal(vio_vq_add(p->vq, sg, 1, nseg - 1, mem.data), 0);
	watch = NULL;
	uint16_t after = d[head].flags.raw;
	assert_true(after != before);
	unsigned nd = indirect ? 1 : nseg;
	for (unsigned k = 0; k < nd; k++)
		assert_clean_at(&d[(head + k) % N], 16, before);
	if (indirect)
		assert_clean_at((void *)(uintptr_t)vio_le64_get(d[head].addr),
				vio_le32_get(d[head].len), before);
	assert_clean_at(&d[head].flags, 2, after);
}

/* The device completes everything (@n chains); the driver reaps it. */
static void complete_all(struct pair *p, unsigned n)
{
	struct vio_chain ch;
	struct vio_chain_seg seg[IMAX];
	unsigned popped = 0, got = 0;
	while (vio_devq_pop(p->dq, &ch, seg, IMAX) == 0) {
		assert_int_equal(vio_devq_push(p->dq, &ch, 0), 0);
		popped++;
	}
	assert_int_equal(popped, n);
	for (;; got++) {
		nhooks = 0;
		void *tok;
		uint32_t len;
		int rc = vio_vq_get(p->vq, &tok, &len);
		if (rc == -VIO_EAGAIN)
			break;
		assert_int_equal(rc, 0);
		if (p->fmt == VIO_RING_SPLIT) {
			struct vio_split_used *u = (void *)mem.dev;
			/* The element read was invalidated (some element of the ring). */
			bool elem = false;
			for (unsigned i = 0; i < nhooks; i++)
				elem |= !hooks[i].clean &&
					hooks[i].p >= (unsigned char *)vio_split_used_ring(u) &&
					hooks[i].n == sizeof(struct vio_split_used_elem);
			assert_true(elem);
		} else {
			bool descr = false;
			for (unsigned i = 0; i < nhooks; i++)
				descr |= !hooks[i].clean && hooks[i].n == 16 &&
					 hooks[i].p >= mem.desc &&
					 hooks[i].p < mem.desc + sizeof(mem.desc);
			assert_true(descr);
		}
	}
	assert_int_equal(got, n);
	assert_false(bad_range);
}

static void test_cache_hooks_split(void **state)
{
	(void)state;
	struct pair p;
	open_pair(&p, VIO_RING_SPLIT, true, false);
	struct vio_split_used *u = (void *)mem.dev;
	struct vio_split_avail *avail = (void *)mem.drv;
	for (unsigned round = 0; round < 3; round++) {
		split_add(&p, 1);
		split_add(&p, 2); /* direct chain */
		split_add(&p, 3); /* indirect table */
		nhooks = 0;
		(void)vio_vq_kick_prepare(p.vq);
		assert_invalidated(vio_split_avail_event(u, N), 2);
		/* get: the used index before it is read. */
		nhooks = 0;
		assert_true(vio_vq_has_used(p.vq) == false);
		assert_invalidated(&u->idx, 2);
		complete_all(&p, 3);
		nhooks = 0;
		vio_vq_disable_intr(p.vq);
		assert_clean(vio_split_used_event(avail, N), 2);
		nhooks = 0;
		(void)vio_vq_enable_intr(p.vq);
		assert_clean(vio_split_used_event(avail, N), 2);
		assert_invalidated(&u->idx, 2);
	}
}

static void test_cache_hooks_packed(void **state)
{
	(void)state;
	struct pair p;
	open_pair(&p, VIO_RING_PACKED, true, false);
	struct vio_packed_event *dev_ev = (void *)mem.dev, *drv_ev = (void *)mem.drv;
	uint16_t slot = 0;
	for (unsigned round = 0; round < 3; round++) {
		packed_add(&p, 1, slot, false);
		slot = (uint16_t)((slot + 1) % N);
		packed_add(&p, 2, slot, false);
		slot = (uint16_t)((slot + 2) % N);
		packed_add(&p, 3, slot, true);
		slot = (uint16_t)((slot + 1) % N);
		nhooks = 0;
		(void)vio_vq_kick_prepare(p.vq);
		assert_invalidated(dev_ev, 4);
		complete_all(&p, 3);
		nhooks = 0;
		vio_vq_disable_intr(p.vq);
		assert_clean(&drv_ev->flags, 2);
		nhooks = 0;
		(void)vio_vq_enable_intr(p.vq);
		assert_clean(&drv_ev->flags, 2);
		assert_clean(&drv_ev->off_wrap, 2);
	}
}

/* ------------------------------------------------------------------------
 * Device half.
 * ------------------------------------------------------------------------ */

static char tokens[8];

struct popped {
	struct vio_chain ch;
	struct vio_chain_seg seg[IMAX];
};

/* The driver adds @nseg segments: one readable, the rest writable. */
static void drv_add(struct pair *p, unsigned nseg, unsigned tok)
{
	struct vio_sg sg[IMAX];
	for (unsigned s = 0; s < nseg; s++)
		sg[s] = (struct vio_sg){mem.data + 32 * s, 16};
	assert_int_equal(vio_vq_add(p->vq, sg, 1, nseg - 1, &tokens[tok]), 0);
}

/* The chain popped is the one drv_add() made: a device that read stale
 * bytes (no invalidate before the read) gets something else, or nothing. */
static void check_chain(const struct popped *c, unsigned nseg)
{
	assert_int_equal(c->ch.nseg, nseg);
	assert_int_equal(c->ch.nout, 1);
	assert_int_equal(c->ch.out_bytes, 16);
	assert_int_equal(c->ch.in_bytes, 16 * (nseg - 1));
	for (unsigned s = 0; s < nseg; s++) {
		assert_ptr_equal(c->seg[s].ptr, V(mem.data + 32 * s));
		assert_int_equal(c->seg[s].addr, (uintptr_t)(mem.data + 32 * s));
		assert_int_equal(c->seg[s].len, 16);
		assert_int_equal(c->seg[s].write, s > 0);
	}
}

/* Pop the next chain (@nseg segments) and check that what the device read
 * was invalidated: since the adds (the log is not reset between pops). */
static void dev_pop(struct pair *p, struct popped *c, unsigned nseg)
{
	struct vio_ring_state st;
	vio_devq_get_state(p->dq, &st);
	assert_int_equal(vio_devq_pop(p->dq, &c->ch, c->seg, IMAX), 0);
	check_chain(c, nseg);
	if (p->fmt == VIO_RING_SPLIT) {
		struct vio_split_avail *avail = (void *)mem.drv;
		struct vio_split_desc *d = (void *)mem.desc;
		vio_le16 *ent = &vio_split_avail_ring(avail)[st.avail_idx % N];
		assert_invalidated(V(&avail->idx), 2);
		assert_invalidated(V(ent), 2);
		uint16_t i = vio_le16_get(*ent);
		assert_int_equal(c->ch.id, i);
		for (;;) {
			assert_invalidated(V(&d[i]), sizeof(d[i]));
			uint16_t fl = vio_le16_get(d[i].flags);
			if (fl & VIO_DESC_F_INDIRECT)
				assert_invalidated(V((void *)(uintptr_t)vio_le64_get(d[i].addr)),
						   vio_le32_get(d[i].len));
			if (!(fl & VIO_DESC_F_NEXT))
				break;
			i = vio_le16_get(d[i].next);
		}
	} else {
		struct vio_packed_desc *d = (void *)mem.desc;
		uint16_t slot = st.avail_idx;
		bool indirect = vio_le16_get(d[slot].flags) & VIO_DESC_F_INDIRECT;
		unsigned nd = indirect ? 1 : nseg;
		assert_int_equal(c->ch.head, slot);
		assert_int_equal(c->ch.ndesc, nd);
		for (unsigned k = 0; k < nd; k++)
			assert_invalidated(V(&d[(slot + k) % N]), 16);
		if (indirect)
			assert_invalidated(V((void *)(uintptr_t)vio_le64_get(d[slot].addr)),
					   vio_le32_get(d[slot].len));
	}
	assert_false(bad_range);
}

enum push_kind {
	PUSH_ONE,
	PUSH_BATCH,
	PUSH_IN_ORDER
};

/* Complete @n popped chains (written: all of their writable bytes). Every
 * used element / descriptor written is cleaned while the field that
 * publishes the batch still holds its old value, that field after it was
 * stored, and memory ends up holding what the device wrote. */
static void dev_push(struct pair *p, enum push_kind kind, struct popped *c, unsigned n)
{
	struct vio_ring_state st;
	vio_devq_get_state(p->dq, &st);
	uint16_t at = st.used_idx;
	const uint16_t *pub;
	if (p->fmt == VIO_RING_SPLIT)
		pub = &((struct vio_split_used *)V(mem.dev))->idx.raw;
	else
		pub = &((struct vio_packed_desc *)V(mem.desc))[at].flags.raw;
	uint16_t before = *pub;
	nhooks = 0;
	watch = pub;
	if (kind == PUSH_ONE) {
		assert_int_equal(n, 1);
		assert_int_equal(vio_devq_push(p->dq, &c[0].ch, c[0].ch.in_bytes), 0);
	} else {
		struct vio_used used[4];
		for (unsigned k = 0; k < n; k++)
			used[k] = (struct vio_used){&c[k].ch, c[k].ch.in_bytes};
		if (kind == PUSH_BATCH)
			assert_int_equal(vio_devq_push_batch(p->dq, used, n), 0);
		else
			assert_int_equal(vio_devq_push_in_order(p->dq, used, n), 0);
	}
	watch = NULL;
	uint16_t after = *pub;
	assert_true(after != before);
	/* in order: a single entry, naming the last chain, at the first's place */
	unsigned nent = kind == PUSH_IN_ORDER ? 1 : n;
	if (p->fmt == VIO_RING_SPLIT) {
		struct vio_split_used *u = (void *)mem.dev;
		for (unsigned k = 0; k < nent; k++) {
			struct vio_split_used_elem *e = &vio_split_used_ring(u)[(at + k) % N];
			assert_clean_at(V(e), sizeof(*e), before);
			assert_memory_equal(e, V(e), sizeof(*e));
		}
		assert_clean_at(V(&u->idx), 2, after);
		assert_int_equal(vio_le16_get(u->idx), (uint16_t)(at + n));
	} else {
		struct vio_packed_desc *d = (void *)mem.desc;
		uint16_t slot = at;
		for (unsigned k = 0; k < nent; k++) {
			assert_clean_at(V(&d[slot]), 16, before);
			/* What the device writes: len, id, flags. */
			assert_memory_equal(&d[slot].len, V(&d[slot].len), 8);
			slot = (uint16_t)((slot + c[k].ch.ndesc) % N);
		}
		assert_clean_at(V(&d[at].flags), 2, after);
	}
	assert_false(bad_range);
}

/* The driver reaps @n completions: tokens @tok.., all writable bytes. */
static void drv_reap(struct pair *p, unsigned tok, const unsigned *nseg, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		void *t;
		uint32_t len;
		assert_int_equal(vio_vq_get(p->vq, &t, &len), 0);
		assert_ptr_equal(t, &tokens[tok + k]);
		assert_int_equal(len, 16 * (nseg[k] - 1));
	}
	void *t;
	uint32_t len;
	assert_int_equal(vio_vq_get(p->vq, &t, &len), -VIO_EAGAIN);
}

/* needs_notify: what it read of the driver's suppression was invalidated,
 * and it decides as the driver asked (@want). */
static void dev_needs_notify(struct pair *p, bool event_idx, bool want)
{
	nhooks = 0;
	assert_int_equal(vio_devq_needs_notify(p->dq), want);
	if (p->fmt == VIO_RING_SPLIT) {
		struct vio_split_avail *avail = (void *)mem.drv;
		if (event_idx)
			assert_invalidated(V(vio_split_used_event(avail, N)), 2);
		else
			assert_invalidated(V(&avail->flags), 2);
	} else {
		assert_invalidated(V(mem.drv), VIO_PACKED_EVENT_SIZE);
	}
}

/* enable_notify / disable_notify: the device's suppression is cleaned after
 * it was written (packed: off_wrap before the flags that use it), memory
 * holds it, and enable_notify invalidated what it checked for available
 * buffers before answering @empty. */
static void dev_set_notify(struct pair *p, bool event_idx, bool enable, bool empty)
{
	struct vio_ring_state st;
	vio_devq_get_state(p->dq, &st);
	const uint16_t *pub;
	if (p->fmt == VIO_RING_SPLIT) {
		struct vio_split_used *u = V(mem.dev);
		pub = event_idx ? &vio_split_avail_event(u, N)->raw : &u->flags.raw;
	} else {
		pub = &((struct vio_packed_event *)V(mem.dev))->flags.raw;
	}
	uint16_t before = *pub;
	nhooks = 0;
	watch = pub;
	if (enable)
		assert_int_equal(vio_devq_enable_notify(p->dq), empty);
	else
		vio_devq_disable_notify(p->dq);
	watch = NULL;
	uint16_t after = *pub;
	if (p->fmt == VIO_RING_SPLIT) {
		struct vio_split_used *u = (void *)mem.dev;
		struct vio_split_avail *avail = (void *)mem.drv;
		void *f = event_idx ? (void *)vio_split_avail_event(u, N) : (void *)&u->flags;
		assert_clean_at(V(f), 2, after);
		assert_memory_equal(f, V(f), 2);
		if (enable)
			assert_invalidated(V(&avail->idx), 2);
	} else {
		struct vio_packed_event *ev = (void *)mem.dev;
		struct vio_packed_desc *d = (void *)mem.desc;
		if (enable && event_idx) {
			assert_clean_at(V(&ev->off_wrap), 2, before);
			assert_memory_equal(&ev->off_wrap, V(&ev->off_wrap), 2);
		}
		assert_clean_at(V(&ev->flags), 2, after);
		assert_memory_equal(&ev->flags, V(&ev->flags), 2);
		if (enable)
			assert_invalidated(V(&d[st.avail_idx]), 16);
	}
	assert_false(bad_range);
}

static void device_rounds(enum vio_ring_format fmt, bool event_idx)
{
	struct pair p;
	open_pair(&p, fmt, event_idx, true);
	static const unsigned nseg[3] = {1, 2, 3}; /* single, direct chain, indirect */
	struct popped c[3];
	for (unsigned round = 0; round < 6; round++) {
		/* The driver asks for interrupts every other round. */
		bool intr = round % 2 != 0;
		if (intr)
			(void)vio_vq_enable_intr(p.vq);
		else
			vio_vq_disable_intr(p.vq);
		for (unsigned k = 0; k < 3; k++)
			drv_add(&p, nseg[k], k);
		nhooks = 0;
		for (unsigned k = 0; k < 3; k++)
			dev_pop(&p, &c[k], nseg[k]);
		switch (round % 3) {
		case 0:
			for (unsigned k = 0; k < 3; k++)
				dev_push(&p, PUSH_ONE, &c[k], 1);
			break;
		case 1:
			dev_push(&p, PUSH_BATCH, c, 3);
			break;
		default:
			dev_push(&p, PUSH_IN_ORDER, c, 3);
			break;
		}
		dev_needs_notify(&p, event_idx, intr);
		drv_reap(&p, 0, nseg, 3);

		/* Kicks off: the driver sees it. Kicks on while a buffer waits:
		 * enable_notify sees the buffer. */
		dev_set_notify(&p, event_idx, false, false);
		drv_add(&p, 1, 3);
		assert_false(vio_vq_kick_prepare(p.vq));
		dev_set_notify(&p, event_idx, true, false);
		nhooks = 0;
		dev_pop(&p, &c[0], 1);
		dev_push(&p, PUSH_ONE, &c[0], 1);
		dev_needs_notify(&p, event_idx, intr);
		drv_reap(&p, 3, nseg, 1);
		/* Kicks on with nothing waiting: the driver kicks the next one. */
		dev_set_notify(&p, event_idx, true, true);
		drv_add(&p, 2, 4);
		assert_true(vio_vq_kick_prepare(p.vq));
		nhooks = 0;
		dev_pop(&p, &c[0], 2);
		dev_push(&p, PUSH_ONE, &c[0], 1);
		dev_needs_notify(&p, event_idx, intr);
		drv_reap(&p, 4, &nseg[1], 1);
	}
}

static void test_cache_hooks_device_split(void **state)
{
	(void)state;
	device_rounds(VIO_RING_SPLIT, true);
	device_rounds(VIO_RING_SPLIT, false);
}

static void test_cache_hooks_device_packed(void **state)
{
	(void)state;
	device_rounds(VIO_RING_PACKED, true);
	device_rounds(VIO_RING_PACKED, false);
}

/* Restore with chains in flight: the device's cache may hold stale copies
 * of anything (say, lines from before a restart of the device), so what
 * set_state and repop read was invalidated first: the used index, the
 * descriptors of a split chain, an indirect table (packed chains come back
 * from the embedder's private copy). */
static void device_restore(enum vio_ring_format fmt)
{
	struct pair p;
	open_pair(&p, fmt, true, true);
	static const unsigned nseg[3] = {1, 2, 3};
	struct popped c[3];
	struct vio_packed_desc saved[3][IMAX];
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned k = 0; k < 3; k++)
			drv_add(&p, nseg[k], k);
		nhooks = 0;
		for (unsigned k = 0; k < 3; k++) {
			dev_pop(&p, &c[k], nseg[k]);
			/* Packed: the copy of the descriptors as popped. */
			for (unsigned j = 0; fmt == VIO_RING_PACKED && j < c[k].ch.ndesc; j++)
				memcpy(&saved[k][j],
				       V(&((struct vio_packed_desc *)(void *)
						   mem.desc)[(c[k].ch.head + j) % N]),
				       16);
		}
		struct vio_ring_state st;
		vio_devq_get_state(p.dq, &st);
		/* A device restarted: its cache holds stale lines, nothing dirty. */
		memset(&view, STALE, sizeof(view));
		memset(&base, STALE, sizeof(base));
		nhooks = 0;
		assert_int_equal(vio_devq_set_state(p.dq, &st), 0);
		if (fmt == VIO_RING_SPLIT)
			assert_invalidated(V(&((struct vio_split_used *)(void *)mem.dev)->idx), 2);
		for (unsigned k = 0; k < 3; k++) {
			/* The log runs on from set_state. */
			uint16_t id = c[k].ch.id, ndesc = c[k].ch.ndesc;
			if (fmt == VIO_RING_SPLIT)
				assert_int_equal(vio_devq_repop(p.dq, id, &c[k].ch, c[k].seg, IMAX),
						 0);
			else
				assert_int_equal(vio_devq_repop_packed(p.dq, saved[k], ndesc,
								       &c[k].ch, c[k].seg, IMAX),
						 0);
			check_chain(&c[k], nseg[k]);
			if (fmt == VIO_RING_SPLIT) {
				struct vio_split_desc *d = (void *)mem.desc;
				uint16_t i = id;
				for (;;) {
					assert_invalidated(V(&d[i]), sizeof(d[i]));
					uint16_t fl = vio_le16_get(d[i].flags);
					if (fl & VIO_DESC_F_INDIRECT)
						assert_invalidated(
							V((void *)(uintptr_t)vio_le64_get(
								d[i].addr)),
							vio_le32_get(d[i].len));
					if (!(fl & VIO_DESC_F_NEXT))
						break;
					i = vio_le16_get(d[i].next);
				}
			} else if (vio_le16_get(saved[k][0].flags) & VIO_DESC_F_INDIRECT) {
				assert_invalidated(
					V((void *)(uintptr_t)vio_le64_get(saved[k][0].addr)),
					vio_le32_get(saved[k][0].len));
			}
			assert_false(bad_range);
		}
		dev_push(&p, PUSH_BATCH, c, 3);
		drv_reap(&p, 0, nseg, 3);
	}
}

static void test_cache_hooks_device_restore(void **state)
{
	(void)state;
	device_restore(VIO_RING_SPLIT);
	device_restore(VIO_RING_PACKED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hooks_split),
		cmocka_unit_test(test_cache_hooks_packed),
		cmocka_unit_test(test_cache_hooks_device_split),
		cmocka_unit_test(test_cache_hooks_device_packed),
		cmocka_unit_test(test_cache_hooks_device_restore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
