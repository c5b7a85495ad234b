/* SPDX-License-Identifier: MIT */
/* A driver without a heap: every piece of a driver queue's storage is a
 * file-scope `static` array sized by the public macros, which therefore must
 * be constant expressions (a non-constant size does not compile here). A
 * split and a packed queue are initialised in that storage and carry traffic
 * against a device half. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#define SPLIT_N 64
#define PACKED_N 48 /* packed sizes need not be powers of two */
#define IMAX 8

/* Split queue: no release hook. */
static alignas(VIO_SPLIT_DESC_ALIGN) unsigned char s_desc[VIO_SPLIT_DESC_SIZE(SPLIT_N)];
static alignas(VIO_SPLIT_AVAIL_ALIGN) unsigned char s_avail[VIO_SPLIT_AVAIL_SIZE(SPLIT_N)];
static alignas(VIO_SPLIT_USED_ALIGN) unsigned char s_used[VIO_SPLIT_USED_SIZE(SPLIT_N)];
static alignas(16) unsigned char s_pool[VIO_VQ_INDIRECT_POOL_SIZE(SPLIT_N, IMAX)];
static alignas(VIO_VQ_MEM_ALIGN) unsigned char s_vqmem[VIO_VQ_MEM_SIZE(SPLIT_N)];

/* Packed queue: with a release hook and indirect tables. */
static alignas(VIO_PACKED_DESC_ALIGN) unsigned char p_desc[VIO_PACKED_DESC_SIZE(PACKED_N)];
static alignas(VIO_PACKED_EVENT_ALIGN) unsigned char p_drv[VIO_PACKED_EVENT_SIZE];
static alignas(VIO_PACKED_EVENT_ALIGN) unsigned char p_dev[VIO_PACKED_EVENT_SIZE];
static alignas(16) unsigned char p_pool[VIO_VQ_INDIRECT_POOL_SIZE(PACKED_N, IMAX)];
static alignas(VIO_VQ_MEM_ALIGN) unsigned char p_vqmem[VIO_VQ_MEM_SIZE_DMA(PACKED_N, IMAX)];

static unsigned char data[4096];

/* Identity on both sides: host pointers are the device addresses (one
 * region from address 1 to the end of the address space but its last byte:
 * a region may not wrap 2^64). */
static const struct vio_mem_region identity = {1, UINT64_MAX - 1, (void *)(uintptr_t)1, VIO_MAP_RW};

/* The device half's bookkeeping, also static and sized by its macro. */
static alignas(VIO_DEVQ_MEM_ALIGN) unsigned char s_dqmem[VIO_DEVQ_MEM_SIZE(SPLIT_N)];
static alignas(VIO_DEVQ_MEM_ALIGN) unsigned char p_dqmem[VIO_DEVQ_MEM_SIZE(PACKED_N)];

static long live_convs;
static int ident_to_device(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			   uint64_t *addr)
{
	(void)ctx;
	(void)len;
	(void)dir;
	*addr = (uint64_t)(uintptr_t)ptr;
	live_convs++;
	return 0;
}
static void ident_release(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir,
			  uint64_t addr)
{
	(void)ctx;
	(void)len;
	(void)dir;
	assert_int_equal(addr, (uint64_t)(uintptr_t)ptr);
	live_convs--;
}
static const struct vio_dma_ops counting_ops = {ident_to_device, ident_release};

static void run_traffic(struct vio_vq *vq, const struct vio_vq_config *vc)
{
	struct vio_devq_config dc;
	memset(&dc, 0, sizeof(dc));
	dc.format = vc->format;
	dc.size = vc->size;
	dc.features = vc->features;
	dc.regions = &identity;
	dc.nregions = 1;
	assert_int_equal(vio_vq_ring_addrs(vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr), 0);
	unsigned char *dmem = vc->format == VIO_RING_SPLIT ? s_dqmem : p_dqmem;
	size_t dsz = vc->format == VIO_RING_SPLIT ? sizeof(s_dqmem) : sizeof(p_dqmem);
	assert_true(vio_devq_mem_size(vc->format, vc->size) <= dsz);
	struct vio_devq *dq;
	assert_int_equal(vio_devq_init(&dq, dmem, dsz, &dc), 0);

	for (unsigned k = 0; k < 3u * vc->size; k++) {
		unsigned nseg = 1 + k % 5; /* 1 direct, 2..5 indirect */
		struct vio_sg sg[5];
		for (unsigned s = 0; s < nseg; s++) {
			sg[s].addr = data + 64 * s;
			sg[s].len = 16;
		}
		memset(data, (int)k, 64);
		assert_int_equal(vio_vq_add(vq, sg, 1, nseg - 1, data + k), 0);
		(void)vio_vq_kick_prepare(vq);
		struct vio_chain ch;
		struct vio_chain_seg seg[5];
		assert_int_equal(vio_devq_pop(dq, &ch, seg, 5), 0);
		assert_int_equal(ch.nseg, nseg);
		assert_int_equal(((unsigned char *)seg[0].ptr)[0], (unsigned char)k);
		assert_int_equal(vio_devq_push(dq, &ch, ch.in_bytes), 0);
		void *tok;
		uint32_t len;
		assert_int_equal(vio_vq_get(vq, &tok, &len), 0);
		assert_ptr_equal(tok, data + k);
		assert_int_equal(len, 16u * (nseg - 1));
	}
	assert_int_equal(vio_vq_num_free(vq), vc->size);
}

static void test_static_storage_queues(void **state)
{
	(void)state;
	/* The macros and the inline helpers agree. */
	assert_int_equal(VIO_SPLIT_DESC_SIZE(SPLIT_N), vio_split_desc_size(SPLIT_N));
	assert_int_equal(VIO_SPLIT_AVAIL_SIZE(SPLIT_N), vio_split_avail_size(SPLIT_N));
	assert_int_equal(VIO_SPLIT_USED_SIZE(SPLIT_N), vio_split_used_size(SPLIT_N));
	assert_int_equal(VIO_PACKED_DESC_SIZE(PACKED_N), vio_packed_desc_size(PACKED_N));
	assert_int_equal(VIO_PACKED_EVENT_SIZE, vio_packed_event_size());

	struct vio_vq_config sc;
	memset(&sc, 0, sizeof(sc));
	sc.format = VIO_RING_SPLIT;
	sc.size = SPLIT_N;
	sc.features = vio_features_none();
	vio_features_set(&sc.features, VIO_F_VERSION_1);
	vio_features_set(&sc.features, VIO_F_INDIRECT_DESC);
	vio_features_set(&sc.features, VIO_F_EVENT_IDX);
	sc.desc = s_desc;
	sc.driver_area = s_avail;
	sc.device_area = s_used;
	sc.indirect_pool = s_pool;
	sc.indirect_max = IMAX;
	assert_int_equal(vio_vq_mem_size(&sc), sizeof(s_vqmem));
	struct vio_vq *svq;
	assert_int_equal(vio_vq_init(&svq, s_vqmem, sizeof(s_vqmem), &sc), 0);
	run_traffic(svq, &sc);

	struct vio_vq_config pc = sc;
	pc.format = VIO_RING_PACKED;
	pc.size = PACKED_N;
	vio_features_set(&pc.features, VIO_F_RING_PACKED);
	pc.desc = p_desc;
	pc.driver_area = p_drv;
	pc.device_area = p_dev;
	pc.indirect_pool = p_pool;
	pc.dma_ops = &counting_ops;
	assert_int_equal(vio_vq_mem_size(&pc), sizeof(p_vqmem));
	struct vio_vq *pvq;
	assert_int_equal(vio_vq_init(&pvq, p_vqmem, sizeof(p_vqmem), &pc), 0);
	run_traffic(pvq, &pc);
	assert_int_equal(live_convs, 3); /* the ring parts, the caller's */
	uint64_t a, b, c;
	assert_int_equal(vio_vq_ring_addrs(pvq, &a, &b, &c), 0);
	vio_vq_ring_addrs_release(pvq, a, b, c);
	assert_int_equal(live_convs, 3);
	vio_vq_ring_addrs_release(pvq, (uint64_t)(uintptr_t)p_desc, (uint64_t)(uintptr_t)p_drv,
				  (uint64_t)(uintptr_t)p_dev);
	assert_int_equal(live_convs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_storage_queues),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
