/* SPDX-License-Identifier: MIT */
/* The driver half calls the cache hooks of port.h where a non-coherent
 * device needs them: the ring code is built into this program with a port
 * header (cache_port.h) whose hooks log each range together with a snapshot
 * of the publishing field (split avail->idx, packed head flags) taken when
 * the hook ran.
 *
 * Checked for split and packed: init cleans the zeroed ring parts; every
 * descriptor, indirect table and available entry of an add is cleaned
 * before the store that publishes it, and the publishing field after it;
 * kick_prepare invalidates the device's suppression fields before reading
 * them; get invalidates the used index and element (split) or the used
 * descriptor (packed) before reading them; the driver's event suppression
 * is cleaned when written. */
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

static void log_hook(bool clean, const void *p, size_t n)
{
	if (nhooks < LOGMAX)
		hooks[nhooks++] = (struct hook){clean, p, n, watch != NULL ? *watch : 0};
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

/* The device sees host addresses (a region may not wrap 2^64). */
static const struct vio_mem_region identity = {1, UINT64_MAX - 1, (void *)(uintptr_t)1, VIO_MAP_RW};

static alignas(16) unsigned char desc[16 * N];
static alignas(4) unsigned char drv[VIO_SPLIT_AVAIL_SIZE(N)];
static alignas(4) unsigned char dev[VIO_SPLIT_USED_SIZE(N)];
static alignas(16) unsigned char pool[VIO_VQ_INDIRECT_POOL_SIZE(N, IMAX)];
static alignas(8) unsigned char vqmem[VIO_VQ_MEM_SIZE(N)];
static alignas(8) unsigned char dqmem[8192];
static unsigned char data[1024];

struct pair {
	enum vio_ring_format fmt;
	struct vio_vq *vq;
	struct vio_devq *dq;
};

static void open_pair(struct pair *p, enum vio_ring_format fmt)
{
	p->fmt = fmt;
	struct vio_vq_config c;
	memset(&c, 0, sizeof(c));
	c.format = fmt;
	c.size = N;
	vio_features_set(&c.features, VIO_F_VERSION_1);
	vio_features_set(&c.features, VIO_F_EVENT_IDX);
	vio_features_set(&c.features, VIO_F_INDIRECT_DESC);
	if (fmt == VIO_RING_PACKED)
		vio_features_set(&c.features, VIO_F_RING_PACKED);
	c.desc = desc;
	c.driver_area = drv;
	c.device_area = dev;
	c.indirect_pool = pool;
	c.indirect_max = IMAX;
	c.indirect_min = 3;
	nhooks = 0;
	watch = NULL;
	assert_int_equal(vio_vq_init(&p->vq, vqmem, sizeof(vqmem), &c), 0);
	/* The zeroed ring parts reach memory. */
	bool split = fmt == VIO_RING_SPLIT;
	assert_clean(desc, 16 * N);
	assert_clean(drv, split ? VIO_SPLIT_AVAIL_SIZE(N) : VIO_PACKED_EVENT_SIZE);
	assert_clean(dev, split ? VIO_SPLIT_USED_SIZE(N) : VIO_PACKED_EVENT_SIZE);

	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = fmt;
	dc.size = N;
	dc.features = c.features;
	dc.regions = &identity;
	dc.nregions = 1;
	assert_int_equal(vio_vq_ring_addrs(p->vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr),
			 0);
	assert_true(vio_devq_mem_size(fmt, N) <= sizeof(dqmem));
	assert_int_equal(vio_devq_init(&p->dq, dqmem, sizeof(dqmem), &dc), 0);
}

/* Split: add @nseg segments and check the cleans against avail->idx. */
static void split_add(struct pair *p, unsigned nseg)
{
	struct vio_split_avail *avail = (void *)drv;
	struct vio_split_desc *d = (void *)desc;
	uint16_t old = vio_le16_get(avail->idx);
	struct vio_sg sg[IMAX];
	for (unsigned s = 0; s < nseg; s++)
		sg[s] = (struct vio_sg){data + 32 * s, 16};
	nhooks = 0;
	watch = &avail->idx.raw; /* snapshots hold the raw (little-endian) field */
	assert_int_equal(vio_vq_add(p->vq, sg, 1, nseg - 1, data), 0);
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
	struct vio_packed_desc *d = (void *)desc;
	struct vio_sg sg[IMAX];
	for (unsigned s = 0; s < nseg; s++)
		sg[s] = (struct vio_sg){data + 32 * s, 16};
	uint16_t before = d[head].flags.raw;
	nhooks = 0;
	watch = &d[head].flags.raw;
	assert_int_equal(vio_vq_add(p->vq, sg, 1, nseg - 1, data), 0);
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

/* The device completes everything; the driver reaps it. */
static void complete_all(struct pair *p)
{
	struct vio_chain ch;
	struct vio_chain_seg seg[IMAX];
	while (vio_devq_pop(p->dq, &ch, seg, IMAX) == 0)
		assert_int_equal(vio_devq_push(p->dq, &ch, 0), 0);
	for (;;) {
		nhooks = 0;
		void *tok;
		uint32_t len;
		int rc = vio_vq_get(p->vq, &tok, &len);
		if (rc == -VIO_EAGAIN)
			break;
		assert_int_equal(rc, 0);
		if (p->fmt == VIO_RING_SPLIT) {
			struct vio_split_used *u = (void *)dev;
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
					 hooks[i].p >= desc && hooks[i].p < desc + sizeof(desc);
			assert_true(descr);
		}
	}
}

static void test_cache_hooks_split(void **state)
{
	(void)state;
	struct pair p;
	open_pair(&p, VIO_RING_SPLIT);
	struct vio_split_used *u = (void *)dev;
	struct vio_split_avail *avail = (void *)drv;
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
		complete_all(&p);
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
	open_pair(&p, VIO_RING_PACKED);
	struct vio_packed_event *dev_ev = (void *)dev, *drv_ev = (void *)drv;
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
		complete_all(&p);
		nhooks = 0;
		vio_vq_disable_intr(p.vq);
		assert_clean(&drv_ev->flags, 2);
		nhooks = 0;
		(void)vio_vq_enable_intr(p.vq);
		assert_clean(&drv_ev->flags, 2);
		assert_clean(&drv_ev->off_wrap, 2);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_hooks_split),
		cmocka_unit_test(test_cache_hooks_packed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
