/* SPDX-License-Identifier: MIT */
/* The virtio-pci front and the driver core against the virtio-pci register
 * model and the device core, with nothing in between but the accessors a
 * VMM's trap handlers would be (tests/support/pci_pair): BAR assignment,
 * probe and capability walk, negotiation, queue setup, virtio-blk round
 * trips with MSI-X vectors and with INTx# (ISR read-to-clear), split and
 * packed, with and without VIO_F_NOTIFICATION_DATA, queue reset, and the
 * configuration-change interrupt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "pci_pair.h"

#define SECTORS 256u /* 128 KiB disk */
#define QSIZE 16

struct t {
	struct pci_pair p;
	unsigned char disk[SECTORS * 512];
	struct vio_blk_mem_backend be;
	struct vio_blk_device_config bc;
	struct vio_features ring;
	struct vio_blk_device *bd;
	void *bd_mem;
	struct vio_blk_drv blk[PCI_PAIR_MAXQ];
	struct vio_blk_info info;
	uint16_t nq;
	bool vectors;
};

/* A blk device with @nqueues request queues behind the PCI model (MSI-X
 * vectors: one per queue and the configuration vector); without
 * @notif_data the device does not offer VIO_F_NOTIFICATION_DATA. */
static struct t *make_device_with(uint16_t nqueues, bool notif_data,
				  const struct vio_pci_dev_config *pc)
{
	struct t *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	vio_blk_mem_backend_init(&t->be, t->disk, sizeof(t->disk));
	t->bc.desc.capacity = SECTORS;
	t->bc.desc.seg_max = 8;
	t->bc.desc.flush = true;
	t->bc.desc.num_queues = nqueues;
	memcpy(t->bc.desc.id, "pci-disk", 8);
	t->bc.backend = &vio_blk_mem_backend_ops;
	t->bc.backend_ctx = &t->be;
	t->bc.queue_max = 64;
	vio_ring_features(&t->ring);
	vio_features_clear(&t->ring, VIO_F_IN_ORDER);
	vio_features_set(&t->ring, VIO_F_SUSPEND); /* the device core implements it */
	if (!notif_data)
		vio_features_clear(&t->ring, VIO_F_NOTIFICATION_DATA);
	t->bc.ring_features = &t->ring;
	size_t n = vio_blk_device_mem_size(&t->bc);
	assert_true(n > 0);
	assert_int_equal(posix_memalign(&t->bd_mem, 8, n), 0);
	assert_int_equal(vio_blk_device_init(&t->bd, t->bd_mem, n, &t->bc), 0);
	struct vio_device_info info = {0};
	vio_blk_device_info(t->bd, &info);
	struct vio_pci_dev_config def = {0};
	def.msix_vectors = (uint16_t)(nqueues + 1u);
	pci_pair_init_with(&t->p, &info, pc != NULL ? pc : &def);
	return t;
}

static struct t *make_device(uint16_t nqueues, bool notif_data)
{
	return make_device_with(nqueues, notif_data, NULL);
}

static void bring_up(struct t *t, uint16_t want, enum vio_ring_format fmt, bool vectors)
{
	struct vio_features f;
	vio_blk_drv_features(&f);
	t->vectors = vectors;
	pci_pair_driver(&t->p, want, VIO_ID_BLOCK, &f, fmt == VIO_RING_PACKED, vectors);
	struct vio_drv_queue_config qc[PCI_PAIR_MAXQ];
	for (uint16_t q = 0; q < want; q++)
		pci_pair_queue_config(&t->p, q, QSIZE, &qc[q]);
	assert_int_equal(vio_blk_driver_start(t->p.drv, qc, want, t->blk, &t->info, &t->nq), 0);
	assert_int_equal(t->nq, want);
	assert_int_equal(vio_drv_state(t->p.drv), VIO_DRV_LIVE);
	assert_int_equal(vio_drv_ring_format(t->p.drv), fmt);
	assert_int_equal(t->p.refused, 0);
}

static void destroy(struct t *t)
{
	pci_pair_fini(&t->p);
	free(t->bd_mem);
	free(t);
}

/* Wait for one completion on queue @q: interrupt, reap. */
static struct vio_blk_drv_req *complete_one(struct t *t, uint16_t q)
{
	struct vio_blk_drv_req *r = NULL;
	for (int tries = 0; tries < 4; tries++) {
		assert_int_equal(pci_pair_interrupt(&t->p), 0);
		int rc = vio_blk_drv_get(&t->blk[q], &r);
		if (rc == 0)
			return r;
		assert_int_equal(rc, -VIO_EAGAIN);
		(void)vio_vq_enable_intr(vio_drv_vq(t->p.drv, q));
	}
	fail_msg("no completion on queue %u", q);
	return NULL;
}

/* Write 1 KiB at @sector through queue @q, read it back, check both the
 * disk and the buffer, and that the interrupt came the configured way. */
static void io_roundtrip(struct t *t, uint16_t q, uint64_t sector, unsigned char seed)
{
	unsigned char *buf = pci_pair_alloc(&t->p, 1024);
	struct vio_blk_drv_req *req = pci_pair_alloc(&t->p, sizeof(*req));
	unsigned ints = t->p.queue_ints[q];
	unsigned msgs = t->p.msix_total[q + 1];
	unsigned raises = t->p.raises;
	for (unsigned i = 0; i < 1024; i++)
		buf[i] = (unsigned char)(seed + i * 7u);
	assert_int_equal(vio_blk_drv_write(&t->blk[q], req, sector, buf, 1024), 0);
	assert_int_equal(vio_drv_kick(t->p.drv, q), 0);
	assert_ptr_equal(complete_one(t, q), req);
	assert_int_equal(req->status, VIO_BLK_S_OK);
	assert_memory_equal(t->disk + sector * 512, buf, 1024);
	memset(buf, 0, 1024);
	assert_int_equal(vio_blk_drv_read(&t->blk[q], req, sector, buf, 1024), 0);
	assert_int_equal(vio_drv_kick(t->p.drv, q), 0);
	assert_ptr_equal(complete_one(t, q), req);
	assert_int_equal(req->status, VIO_BLK_S_OK);
	assert_int_equal(req->used_len, 1025);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(buf[i], (unsigned char)(seed + i * 7u));
	assert_true(t->p.queue_ints[q] >= ints + 2);
	if (t->vectors) {
		/* MSI-X: the queue's own vector, never INTx# nor the ISR. */
		assert_true(t->p.msix_total[q + 1] >= msgs + 2);
		assert_int_equal(t->p.raises, 0);
		assert_int_equal(vio_pci_dev_isr(t->p.pci) & VIO_PCI_ISR_QUEUE, 0);
	} else {
		/* INTx#: raised per completion, lowered by the ISR read. */
		assert_true(t->p.raises >= raises + 2);
		for (unsigned v = 0; v < PCI_PAIR_MAXVEC; v++)
			assert_int_equal(t->p.msix_total[v], 0);
		assert_int_equal(vio_pci_dev_isr(t->p.pci), 0);
	}
	assert_false(t->p.line);
	assert_int_equal(t->p.msix_bad, 0);
	assert_int_equal(t->p.refused, 0);
}

/* ---- Tests ------------------------------------------------------------------------ */

static void test_pci_pair_probe_finds_the_model(void **state)
{
	(void)state;
	struct t *t = make_device(2, true);
	pci_pair_driver(&t->p, 3, VIO_ID_BLOCK, NULL, false, false); /* one slot more */
	struct vio_pci_dev_layout l;
	vio_pci_dev_get_layout(t->p.pci, &l);
	/* BAR sizing and assignment through the front. */
	const struct vio_pci_bar *b = &t->p.bars.bar[l.bar];
	assert_true(b->assigned);
	assert_int_equal(b->size, l.bar_size);
	assert_int_equal(b->kind, VIO_PCI_BAR_MEM64);
	assert_true(b->addr >= PCI_PAIR_WINDOW && b->addr % b->size == 0);
	assert_int_equal(vio_pci_dev_bar_address(t->p.pci), b->addr);
	uint16_t cmd = vio_pci_dev_command(t->p.pci);
	assert_true((cmd & VIO_PCI_COMMAND_MEMORY) != 0);
	assert_true((cmd & VIO_PCI_COMMAND_MASTER) != 0);
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		if (i != l.bar)
			assert_false(t->p.bars.bar[i].assigned);
	/* Identity and the structures the capability walk chose. */
	assert_int_equal(vio_pci_front_device_id(t->p.front), VIO_ID_BLOCK);
	assert_int_equal(vio_pci_front_pci_device_id(t->p.front), 0x1040 + VIO_ID_BLOCK);
	assert_int_equal(vio_pci_front_config_size(t->p.front), l.device_length);
	struct vio_pci_region r;
	const struct {
		unsigned type;
		uint32_t off;
	} want[] = {{VIO_PCI_CAP_COMMON_CFG, l.common_offset},
		    {VIO_PCI_CAP_NOTIFY_CFG, l.notify_offset},
		    {VIO_PCI_CAP_ISR_CFG, l.isr_offset},
		    {VIO_PCI_CAP_DEVICE_CFG, l.device_offset}};
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(vio_pci_front_region(t->p.front, want[i].type, &r), 0);
		assert_int_equal(r.bar, l.bar);
		assert_int_equal(r.offset, want[i].off);
		assert_true(r.length > 0);
	}
	assert_int_equal(vio_pci_front_region(t->p.front, VIO_PCI_CAP_NOTIFY_CFG, &r), 0);
	assert_int_equal(r.length, l.notify_length);
	struct vio_pci_msix_info mi;
	assert_int_equal(vio_pci_front_msix(t->p.front, &mi), 0);
	assert_int_equal(mi.table_size, 3);
	assert_int_equal(mi.table_bar, l.bar);
	assert_int_equal(mi.table_off, l.msix_table_offset);
	assert_int_equal(mi.pba_bar, l.bar);
	assert_int_equal(mi.pba_off, l.msix_pba_offset);
	/* Negotiation over the common configuration. */
	assert_int_equal(vio_drv_negotiate(t->p.drv), 0);
	assert_true(vio_drv_has_feature(t->p.drv, VIO_F_VERSION_1));
	assert_true(vio_drv_has_feature(t->p.drv, VIO_F_RING_RESET));
	assert_true(vio_drv_has_feature(t->p.drv, VIO_F_NOTIFICATION_DATA));
	uint16_t num;
	assert_int_equal(vio_drv_num_queues(t->p.drv, &num), 0);
	assert_int_equal(num, 2);
	uint16_t max; /* queue 2 is past num_queues: absent */
	assert_int_equal(vio_drv_queue_max(t->p.drv, 1, &max), 0);
	assert_int_equal(max, 64);
	assert_int_equal(vio_drv_queue_max(t->p.drv, 2, &max), -VIO_ENODEV);
	assert_true((pci_pair_status(&t->p) & VIO_STATUS_FEATURES_OK) != 0);
	if (t->p.refused != 0)
		fail_msg("refused access at 0x%llx size %u: %d",
			 (unsigned long long)t->p.refused_off, t->p.refused_size, t->p.refused_rc);
	destroy(t);
}

static void test_pci_pair_blk_roundtrips(void **state)
{
	(void)state;
	static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};
	for (unsigned fi = 0; fi < 2; fi++)
		for (unsigned vec = 0; vec < 2; vec++)
			for (unsigned nd = 0; nd < 2; nd++)
				for (uint16_t nq = 1; nq <= 2; nq++) {
					print_message(
						"format %u vectors %u notif_data %u queues %u\n",
						fi, vec, nd, nq);
					struct t *t = make_device(nq, nd != 0);
					bring_up(t, nq, fmts[fi], vec != 0);
					assert_int_equal(vio_drv_has_feature(
								 t->p.drv, VIO_F_NOTIFICATION_DATA),
							 nd != 0);
					for (uint16_t q = 0; q < nq; q++)
						for (unsigned k = 0; k < 3; k++)
							io_roundtrip(t, q, 8u * k + 40u * q,
								     (unsigned char)(k + q * 16u));
					destroy(t);
				}
}

static void test_pci_pair_queue_reset(void **state)
{
	(void)state;
	static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};
	for (unsigned fi = 0; fi < 2; fi++)
		for (unsigned vec = 0; vec < 2; vec++) {
			struct t *t = make_device(2, true);
			bring_up(t, 2, fmts[fi], vec != 0);
			assert_true(vio_drv_has_feature(t->p.drv, VIO_F_RING_RESET));
			io_roundtrip(t, 1, 0, 1);
			assert_int_equal(vio_drv_queue_reset(t->p.drv, 1), 0);
			assert_false(vio_blk_device_queue_live(t->bd, 1));
			assert_true(vio_blk_device_queue_live(t->bd, 0));
			io_roundtrip(t, 0, 16, 2); /* the other queue goes on */
			assert_int_equal(vio_drv_queue_reenable(t->p.drv, 1), 0);
			assert_true(vio_blk_device_queue_live(t->bd, 1));
			assert_int_equal(
				vio_blk_drv_init(&t->blk[1], vio_drv_vq(t->p.drv, 1), &t->info), 0);
			io_roundtrip(t, 1, 32, 3);
			assert_int_equal(t->p.needs_reset, 0);
			destroy(t);
		}
}

static void test_pci_pair_config_change_interrupt(void **state)
{
	(void)state;
	for (unsigned vec = 0; vec < 2; vec++) {
		struct t *t = make_device(1, true);
		bring_up(t, 1, VIO_RING_SPLIT, vec != 0);
		assert_int_equal(t->info.capacity, SECTORS);
		assert_int_equal(vio_blk_device_set_capacity(t->bd, t->p.dev, SECTORS / 2), 0);
		if (vec != 0) {
			assert_int_equal(t->p.msix_total[0], 1);
			assert_false(t->p.line);
		} else {
			assert_true(t->p.line);
			assert_int_equal(t->p.raises, 1);
		}
		assert_int_equal(t->p.config_changed, 0);
		assert_int_equal(pci_pair_interrupt(&t->p), 0);
		assert_int_equal(t->p.config_changed, 1);
		assert_false(t->p.line);
		/* §4.1.4.5: the device sets the configuration bit in the ISR
		 * even with MSI-X; only the INTx# path reads (clears) it. */
		assert_int_equal(vio_pci_dev_isr(t->p.pci), vec != 0 ? VIO_PCI_ISR_CONFIG : 0);
		struct vio_blk_info info;
		assert_int_equal(vio_blk_driver_read_info(t->p.drv, &info), 0);
		assert_int_equal(info.capacity, SECTORS / 2);
		io_roundtrip(t, 0, 8, 9);
		assert_int_equal(t->p.needs_reset, 0);
		destroy(t);
	}
}

/* A masked vector holds its message in the PBA; the unmask delivers it once. */
static void test_pci_pair_msix_mask_holds_then_delivers(void **state)
{
	(void)state;
	struct t *t = make_device(1, true);
	bring_up(t, 1, VIO_RING_PACKED, true);
	io_roundtrip(t, 0, 0, 5);
	assert_int_equal(vio_pci_front_msix_set_entry(t->p.front, 1, PCI_PAIR_MSI_ADDR + 4u,
						      PCI_PAIR_MSI_DATA + 1u, true),
			 0);
	unsigned before = t->p.msix_total[1];
	unsigned char *buf = pci_pair_alloc(&t->p, 512);
	struct vio_blk_drv_req *req = pci_pair_alloc(&t->p, sizeof(*req));
	assert_int_equal(vio_blk_drv_read(&t->blk[0], req, 0, buf, 512), 0);
	assert_int_equal(vio_drv_kick(t->p.drv, 0), 0);
	assert_int_equal(t->p.msix_total[1], before);
	assert_true(vio_pci_dev_msix_pending(t->p.pci, 1));
	assert_false(t->p.line);
	assert_int_equal(vio_pci_front_msix_set_entry(t->p.front, 1, PCI_PAIR_MSI_ADDR + 4u,
						      PCI_PAIR_MSI_DATA + 1u, false),
			 0);
	assert_int_equal(t->p.msix_total[1], before + 1);
	assert_false(vio_pci_dev_msix_pending(t->p.pci, 1));
	assert_ptr_equal(complete_one(t, 0), req);
	assert_int_equal(req->status, VIO_BLK_S_OK);
	destroy(t);
}

/* With MSI-X disabled again, the same device signals through INTx# and
 * the ISR though vectors stay assigned (§4.1.5.4). */
static void test_pci_pair_msix_disable_falls_back_to_intx(void **state)
{
	(void)state;
	struct t *t = make_device(2, true);
	bring_up(t, 2, VIO_RING_SPLIT, true);
	io_roundtrip(t, 1, 0, 6);
	assert_int_equal(vio_pci_front_msix_enable(t->p.front, false), 0);
	assert_false(vio_pci_dev_msix_enabled(t->p.pci));
	memset(t->p.msix_total, 0, sizeof(t->p.msix_total));
	t->vectors = false;
	io_roundtrip(t, 0, 8, 7);
	io_roundtrip(t, 1, 16, 8);
	destroy(t);
}

/* Reset, freeze/restore and suspend/resume over the PCI status register. */
static void test_pci_pair_reset_freeze_suspend(void **state)
{
	(void)state;
	static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};
	for (unsigned fi = 0; fi < 2; fi++)
		for (unsigned vec = 0; vec < 2; vec++) {
			struct t *t = make_device(1, true);
			struct vio_features f;
			vio_blk_drv_features(&f);
			vio_features_set(&f, VIO_F_SUSPEND);
			t->vectors = vec != 0;
			pci_pair_driver(&t->p, 1, VIO_ID_BLOCK, &f, fmts[fi] == VIO_RING_PACKED,
					vec != 0);
			struct vio_drv_queue_config qc;
			pci_pair_queue_config(&t->p, 0, QSIZE, &qc);
			assert_int_equal(
				vio_blk_driver_start(t->p.drv, &qc, 1, t->blk, &t->info, &t->nq),
				0);
			io_roundtrip(t, 0, 0, 10);
			/* Suspend and resume (VIO_F_SUSPEND through the device core). */
			assert_true(vio_drv_has_feature(t->p.drv, VIO_F_SUSPEND));
			assert_int_equal(vio_drv_suspend(t->p.drv), 0);
			assert_true((pci_pair_status(&t->p) & VIO_STATUS_SUSPEND) != 0);
			assert_int_equal(vio_drv_resume(t->p.drv), 0);
			io_roundtrip(t, 0, 8, 11);
			/* Freeze and restore: the same features, queue and vectors. */
			assert_int_equal(vio_drv_freeze(t->p.drv), 0);
			assert_int_equal(pci_pair_status(&t->p), 0);
			assert_int_equal(vio_drv_restore(t->p.drv), 0);
			assert_int_equal(vio_drv_state(t->p.drv), VIO_DRV_LIVE);
			assert_int_equal(
				vio_blk_drv_init(&t->blk[0], vio_drv_vq(t->p.drv, 0), &t->info), 0);
			io_roundtrip(t, 0, 16, 12);
			/* A full reset and a second bring-up on the same front. */
			assert_int_equal(vio_drv_reset(t->p.drv), 0);
			assert_int_equal(pci_pair_status(&t->p), 0);
			pci_pair_queue_config(&t->p, 0, QSIZE, &qc);
			assert_int_equal(
				vio_blk_driver_start(t->p.drv, &qc, 1, t->blk, &t->info, &t->nq),
				0);
			io_roundtrip(t, 0, 24, 13);
			assert_int_equal(t->p.needs_reset, 0);
			destroy(t);
		}
}

/* Migration: the PCI model (BAR, MSI-X table, vectors) and the device core
 * saved, restored onto a second adapter + device core + model, and the
 * driver goes on through the same front, vectors and BAR address. */
static void test_pci_pair_save_restore_onto_second_model(void **state)
{
	(void)state;
	static const enum vio_ring_format fmts[] = {VIO_RING_SPLIT, VIO_RING_PACKED};
	for (unsigned fi = 0; fi < 2; fi++)
		for (unsigned vec = 0; vec < 2; vec++) {
			struct t *t = make_device(2, true);
			bring_up(t, 2, fmts[fi], vec != 0);
			io_roundtrip(t, 0, 0, 20);
			io_roundtrip(t, 1, 8, 21);
			size_t n = vio_pci_dev_state_size(t->p.pci);
			void *blob = malloc(n);
			assert_non_null(blob);
			assert_int_equal(vio_pci_dev_save(t->p.pci, blob, n), 0);

			/* The destination: same configuration, same guest memory. */
			struct vio_blk_device *bd2;
			void *bd2_mem = NULL;
			size_t bn = vio_blk_device_mem_size(&t->bc);
			assert_int_equal(posix_memalign(&bd2_mem, 8, bn), 0);
			assert_int_equal(vio_blk_device_init(&bd2, bd2_mem, bn, &t->bc), 0);
			struct vio_device_info info = {0};
			vio_blk_device_info(bd2, &info);
			info.mem_ops = &gm_dev_ops;
			info.mem_ctx = &t->p.gm;
			size_t dn = vio_device_mem_size(&info);
			void *dev2_mem = NULL;
			assert_int_equal(posix_memalign(&dev2_mem, 64, dn), 0);
			struct vio_device *dev2;
			assert_int_equal(vio_device_init(&dev2, dev2_mem, dn, &info), 0);
			struct vio_pci_dev_config pc = {0};
			pc.msix_vectors = 3;
			size_t pn = VIO_PCI_DEV_MEM_SIZE(3);
			void *pci2_mem = NULL;
			assert_int_equal(posix_memalign(&pci2_mem, VIO_PCI_DEV_MEM_ALIGN, pn), 0);
			pci_pair_model_config(&t->p, &pc); /* the pair's callbacks */
			struct vio_pci_dev *pci2;
			assert_int_equal(vio_pci_dev_init(&pci2, pci2_mem, pn, dev2, &pc), 0);
			assert_int_equal(vio_pci_dev_restore(pci2, blob, n), 0);
			assert_int_equal(vio_pci_dev_bar_address(pci2),
					 vio_pci_dev_bar_address(t->p.pci));
			assert_int_equal(vio_pci_dev_msix_enabled(pci2), vec != 0);
			assert_true(vio_blk_device_queue_live(bd2, 0));
			assert_true(vio_blk_device_queue_live(bd2, 1));

			/* Switch the pair's accessors over; free the source. */
			free(t->p.pci_mem);
			free(t->p.dev_mem);
			free(t->bd_mem);
			t->p.pci = pci2;
			t->p.pci_mem = pci2_mem;
			t->p.dev = dev2;
			t->p.dev_mem = dev2_mem;
			t->bd = bd2;
			t->bd_mem = bd2_mem;
			io_roundtrip(t, 0, 16, 22);
			io_roundtrip(t, 1, 24, 23);
			assert_int_equal(t->p.needs_reset, 0);
			free(blob);
			destroy(t);
		}
}

/* The model's placement options: the BAR pair (0, 2, 4), prefetchable, the
 * INTx# pin, subsystem IDs; the front finds everything where it is. */
static void test_pci_pair_model_options(void **state)
{
	(void)state;
	static const uint8_t bars[] = {0, 2, 4};
	for (unsigned bi = 0; bi < 3; bi++)
		for (unsigned vec = 0; vec < 2; vec++) {
			struct vio_pci_dev_config pc = {0};
			pc.bar = bars[bi];
			pc.prefetchable = bi == 1;
			pc.interrupt_pin = (uint8_t)(bi + 1u);
			pc.subsys_vendor_id = 0x1234;
			pc.subsys_id = 0x5678;
			pc.msix_vectors = vec != 0 ? 2 : 0;
			struct t *t = make_device_with(1, true, &pc);
			bring_up(t, 1, bi == 1 ? VIO_RING_PACKED : VIO_RING_SPLIT, vec != 0);
			assert_true(t->p.bars.bar[bars[bi]].assigned);
			assert_int_equal(t->p.bars.bar[bars[bi]].prefetchable, bi == 1);
			for (unsigned b = 0; b < VIO_PCI_NUM_BARS; b++)
				if (b != bars[bi])
					assert_false(t->p.bars.bar[b].assigned);
			struct vio_pci_region r;
			assert_int_equal(
				vio_pci_front_region(t->p.front, VIO_PCI_CAP_COMMON_CFG, &r), 0);
			assert_int_equal(r.bar, bars[bi]);
			struct vio_pci_msix_info mi;
			assert_int_equal(vio_pci_front_msix(t->p.front, &mi),
					 vec != 0 ? 0 : -VIO_ENODEV);
			io_roundtrip(t, 0, 0, 30);
			destroy(t);
		}
}

/* MSI-X without an INTx# pin: the vectors carry everything. */
static void test_pci_pair_msix_without_intx(void **state)
{
	(void)state;
	struct vio_pci_dev_config pc = {0};
	pc.no_intx = true;
	pc.msix_vectors = 3;
	struct t *t = make_device_with(2, true, &pc);
	bring_up(t, 2, VIO_RING_PACKED, true);
	io_roundtrip(t, 0, 0, 40);
	io_roundtrip(t, 1, 8, 41);
	assert_int_equal(vio_blk_device_set_capacity(t->bd, t->p.dev, SECTORS - 8), 0);
	assert_int_equal(pci_pair_interrupt(&t->p), 0);
	assert_int_equal(t->p.config_changed, 1);
	assert_int_equal(t->p.raises, 0);
	destroy(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_pair_probe_finds_the_model),
		cmocka_unit_test(test_pci_pair_blk_roundtrips),
		cmocka_unit_test(test_pci_pair_queue_reset),
		cmocka_unit_test(test_pci_pair_config_change_interrupt),
		cmocka_unit_test(test_pci_pair_msix_mask_holds_then_delivers),
		cmocka_unit_test(test_pci_pair_msix_disable_falls_back_to_intx),
		cmocka_unit_test(test_pci_pair_reset_freeze_suspend),
		cmocka_unit_test(test_pci_pair_save_restore_onto_second_model),
		cmocka_unit_test(test_pci_pair_model_options),
		cmocka_unit_test(test_pci_pair_msix_without_intx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
