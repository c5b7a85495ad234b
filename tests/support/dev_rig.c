/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200112L
#include "dev_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* ---- The model ------------------------------------------------------------ */

static void m_config_write(void *ctx, struct vio_device *dev, uint32_t off, const void *data,
			   uint32_t len)
{
	struct rig_model *m = ctx;
	(void)dev;
	m->config_writes++;
	/* Only bytes 8..11 are writable. */
	for (uint32_t i = 0; i < len; i++)
		if (off + i >= 8 && off + i < 12)
			m->config[off + i] = ((const unsigned char *)data)[i];
}

static int m_validate(void *ctx, struct vio_device *dev, const struct vio_features *f)
{
	struct rig_model *m = ctx;
	(void)dev;
	m->validates++;
	m->last_validated = *f;
	return m->veto_rc;
}

static int m_activate(void *ctx, struct vio_device *dev)
{
	struct rig_model *m = ctx;
	(void)dev;
	m->activates++;
	return m->activate_rc;
}

static void m_deactivate(void *ctx, struct vio_device *dev)
{
	struct rig_model *m = ctx;
	(void)dev;
	m->deactivates++;
}

static int m_suspend(void *ctx, struct vio_device *dev)
{
	struct rig_model *m = ctx;
	(void)dev;
	m->suspends++;
	return m->suspend_rc;
}

static void m_reset(void *ctx, struct vio_device *dev)
{
	struct rig_model *m = ctx;
	(void)dev;
	m->resets++;
	m->nheld = 0;
	memset(m->config + 8, 0, 4);
}

static void serve(struct rig_model *m, uint16_t q)
{
	struct vio_devq *dq = vio_device_queue(m->dev, q);
	if (dq == NULL)
		return;
	for (;;) {
		struct vio_chain c;
		struct vio_chain_seg *segs = m->held_segs[m->nheld % 64];
		int rc = vio_devq_pop(dq, &c, segs, 4);
		m->last_pop_rc = rc;
		if (rc == -VIO_EAGAIN) {
			/* Ask for a kick before sleeping; re-check what came meanwhile. */
			if (vio_devq_enable_notify(dq))
				return;
			continue;
		}
		if (rc < 0) {
			vio_device_queue_error(m->dev, q, rc);
			return;
		}
		if (m->hold) {
			m->held[m->nheld++ % 64] = c;
			continue;
		}
		uint32_t k = 0;
		for (uint16_t i = 0; i < c.nseg; i++)
			if (c.segs[i].write)
				for (uint32_t j = 0; j < c.segs[i].len; j++, k++)
					((unsigned char *)c.segs[i].ptr)[j] =
						(unsigned char)(RIG_FILL + k);
		if (vio_device_queue_push(m->dev, q, &c, c.in_bytes) == 0)
			m->served++;
	}
}

static void m_notify(void *ctx, struct vio_device *dev, uint16_t q, uint32_t data)
{
	struct rig_model *m = ctx;
	(void)dev;
	m->notifies++;
	m->last_notify_q = q;
	m->last_notify_data = data;
	if (m->serve_on_notify)
		serve(m, q);
}

static int m_queue_enable(void *ctx, struct vio_device *dev, uint16_t q)
{
	struct rig_model *m = ctx;
	(void)dev;
	(void)q;
	m->queue_enables++;
	return m->queue_enable_rc;
}

static void m_queue_stop(void *ctx, struct vio_device *dev, uint16_t q)
{
	struct rig_model *m = ctx;
	(void)dev;
	(void)q;
	m->queue_stops++;
}

static const struct vio_device_ops model_ops = {m_config_write, m_validate,	m_activate,
						m_deactivate,	m_suspend,	m_reset,
						m_notify,	m_queue_enable, m_queue_stop};

void rig_serve(struct rig *r, uint16_t q)
{
	serve(&r->model, q);
}

/* ---- The VMM's interrupt line --------------------------------------------- */

static void set_irq(void *ctx, bool level)
{
	struct rig *r = ctx;
	r->line_calls++;
	if (level && !r->line)
		r->line_raises++;
	r->line = level;
}

void rig_init(struct rig *r, uint16_t nq, uint16_t qmax, const struct vio_features *features)
{
	memset(r, 0, sizeof(*r));
	gm_init(&r->gm);
	r->data = gm_alloc(&r->gm, 65536, 64, &r->data_addr);
	r->model.serve_on_notify = true;
	/* capacity = 0x1122334455667788, trailing bytes 0xee. */
	uint64_t cap = 0x1122334455667788ull;
	for (unsigned i = 0; i < 8; i++)
		r->model.config[i] = (unsigned char)(cap >> (8 * i));
	memset(r->model.config + 12, 0xee, 4);

	for (unsigned i = 0; i < nq; i++)
		r->qmax[i] = qmax;
	r->info.device_id = RIG_DEVICE_ID;
	r->info.num_queues = nq;
	r->info.queue_max = r->qmax;
	r->info.features = *features;
	r->info.config = r->model.config;
	r->info.config_size = RIG_CONFIG_SIZE;
	r->info.ops = &model_ops;
	r->info.ctx = &r->model;
	r->info.mem_ops = &gm_dev_ops;
	r->info.mem_ctx = &r->gm;
	r->dev_mem_size = vio_device_mem_size(&r->info);
	assert_true(r->dev_mem_size > 0);
	assert_true(r->dev_mem_size <= VIO_DEVICE_MEM_SIZE(nq, qmax));
	assert_int_equal(posix_memalign(&r->dev_mem, VIO_DEVICE_MEM_ALIGN, r->dev_mem_size), 0);
	assert_int_equal(vio_device_init(&r->dev, r->dev_mem, r->dev_mem_size, &r->info), 0);
	r->model.dev = r->dev;

	struct vio_mmio_dev_config mc = {0};
	mc.vendor_id = RIG_VENDOR;
	mc.set_irq = set_irq;
	mc.irq_ctx = r;
	assert_int_equal(vio_mmio_dev_init(&r->mmio, r->mmio_mem, sizeof(r->mmio_mem), r->dev, &mc),
			 0);
}

void rig_fini(struct rig *r)
{
	vio_device_reset(r->dev);
	for (unsigned i = 0; i < RIG_MAXQ; i++)
		free(r->vq_mem[i]);
	free(r->dev_mem);
	gm_free(&r->gm);
}

/* ---- Register accesses ---------------------------------------------------- */

int rig_rd(struct rig *r, uint32_t off, unsigned size, uint64_t *v)
{
	unsigned char b[8] = {0};
	int rc = vio_mmio_dev_read_bytes(r->mmio, off, b, size);
	*v = 0;
	for (unsigned i = 0; i < size && i < 8; i++)
		*v |= (uint64_t)b[i] << (8 * i);
	return rc;
}

uint32_t rig_r32(struct rig *r, uint32_t off)
{
	uint64_t v;
	int rc = rig_rd(r, off, 4, &v);
	if (rc != 0)
		fail_msg("read of 0x%03x: %s", (unsigned)off, vio_err_name(rc));
	return (uint32_t)v;
}

int rig_wr(struct rig *r, uint32_t off, uint64_t v, unsigned size)
{
	unsigned char b[8];
	for (unsigned i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return vio_mmio_dev_write_bytes(r->mmio, off, b, size);
}

int rig_w32(struct rig *r, uint32_t off, uint32_t v)
{
	return rig_wr(r, off, v, 4);
}

/* ---- The driver ------------------------------------------------------------ */

struct vio_features rig_read_offer(struct rig *r)
{
	struct vio_features f = vio_features_none();
	for (uint32_t sel = 0; sel < 4; sel++) {
		assert_int_equal(rig_w32(r, VIO_MMIO_DEVICE_FEATURES_SEL, sel), 0);
		vio_features_set_word32(&f, sel, rig_r32(r, VIO_MMIO_DEVICE_FEATURES));
	}
	return f;
}

uint8_t rig_negotiate(struct rig *r, const struct vio_features *want)
{
	assert_int_equal(rig_r32(r, VIO_MMIO_MAGIC_VALUE), VIO_MMIO_MAGIC);
	assert_int_equal(rig_r32(r, VIO_MMIO_VERSION), 2);
	assert_int_equal(rig_r32(r, VIO_MMIO_DEVICE_ID), RIG_DEVICE_ID);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, 0), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_STATUS), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, VIO_STATUS_ACKNOWLEDGE), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS, VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER),
			 0);
	struct vio_features offer = rig_read_offer(r);
	(void)offer;
	for (uint32_t sel = 0; sel < 4; sel++) {
		assert_int_equal(rig_w32(r, VIO_MMIO_DRIVER_FEATURES_SEL, sel), 0);
		assert_int_equal(
			rig_w32(r, VIO_MMIO_DRIVER_FEATURES, vio_features_word32(want, sel)), 0);
	}
	(void)rig_w32(r, VIO_MMIO_STATUS,
		      VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER | VIO_STATUS_FEATURES_OK);
	uint8_t st = (uint8_t)rig_r32(r, VIO_MMIO_STATUS);
	r->negotiated = (st & VIO_STATUS_FEATURES_OK) ? *want : vio_features_none();
	return st;
}

static void *xalloc(size_t len)
{
	void *p = NULL;
	assert_int_equal(posix_memalign(&p, 64, len ? len : 1), 0);
	memset(p, 0, len);
	return p;
}

int rig_queue_setup(struct rig *r, uint16_t q, uint16_t size)
{
	bool packed = vio_features_test(&r->negotiated, VIO_F_RING_PACKED);
	size_t dsz = packed ? vio_packed_desc_size(size) : vio_split_desc_size(size);
	size_t asz = packed ? vio_packed_event_size() : vio_split_avail_size(size);
	size_t usz = packed ? vio_packed_event_size() : vio_split_used_size(size);
	r->ring_host[q][0] = gm_alloc(&r->gm, dsz, 16, &r->ring_addr[q][0]);
	r->ring_host[q][1] = gm_alloc(&r->gm, asz, 4, &r->ring_addr[q][1]);
	r->ring_host[q][2] = gm_alloc(&r->gm, usz, 4, &r->ring_addr[q][2]);

	struct vio_vq_config vc = {0};
	vc.format = packed ? VIO_RING_PACKED : VIO_RING_SPLIT;
	vc.size = size;
	vc.index = q;
	vc.features = r->negotiated;
	vc.desc = r->ring_host[q][0];
	vc.driver_area = r->ring_host[q][1];
	vc.device_area = r->ring_host[q][2];
	vc.dma_ops = &gm_drv_ops;
	vc.dma_ctx = &r->gm;
	size_t msz = vio_vq_mem_size(&vc);
	assert_true(msz > 0);
	free(r->vq_mem[q]);
	r->vq_mem[q] = xalloc(msz);
	assert_int_equal(vio_vq_init(&r->vq[q], r->vq_mem[q], msz, &vc), 0);

	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_SEL, q), 0);
	assert_int_equal(rig_r32(r, VIO_MMIO_QUEUE_READY), 0);
	assert_true(rig_r32(r, VIO_MMIO_QUEUE_NUM_MAX) >= size);
	assert_int_equal(rig_w32(r, VIO_MMIO_QUEUE_NUM, size), 0);
	static const uint32_t lo[3] = {VIO_MMIO_QUEUE_DESC_LOW, VIO_MMIO_QUEUE_DRIVER_LOW,
				       VIO_MMIO_QUEUE_DEVICE_LOW};
	for (unsigned a = 0; a < 3; a++) {
		assert_int_equal(rig_w32(r, lo[a], (uint32_t)r->ring_addr[q][a]), 0);
		assert_int_equal(rig_w32(r, lo[a] + 4, (uint32_t)(r->ring_addr[q][a] >> 32)), 0);
	}
	return rig_w32(r, VIO_MMIO_QUEUE_READY, 1);
}

uint8_t rig_bringup(struct rig *r, const struct vio_features *want, uint16_t size)
{
	uint8_t st = rig_negotiate(r, want);
	if (!(st & VIO_STATUS_FEATURES_OK))
		return st;
	for (uint16_t q = 0; q < r->info.num_queues; q++)
		assert_int_equal(rig_queue_setup(r, q, size), 0);
	assert_int_equal(rig_w32(r, VIO_MMIO_STATUS,
				 VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER |
					 VIO_STATUS_FEATURES_OK | VIO_STATUS_DRIVER_OK),
			 0);
	return (uint8_t)rig_r32(r, VIO_MMIO_STATUS);
}

int rig_submit(struct rig *r, uint16_t q, uint32_t out, uint32_t in, void *token)
{
	assert_true(r->data_used + out + in + 16 <= 65536);
	unsigned char *o = r->data + r->data_used;
	r->data_used += out;
	unsigned char *i = r->data + r->data_used;
	r->data_used += in;
	memset(i, 0, in);
	for (uint32_t k = 0; k < out; k++)
		o[k] = (unsigned char)k;
	struct vio_sg sg[2];
	unsigned n = 0;
	if (out)
		sg[n++] = (struct vio_sg){o, out};
	if (in)
		sg[n++] = (struct vio_sg){i, in};
	int rc = vio_vq_add(r->vq[q], sg, out ? 1 : 0, in ? 1 : 0, token);
	if (rc != 0)
		return rc;
	if (vio_vq_kick_prepare(r->vq[q])) {
		uint32_t v = q;
		if (vio_features_test(&r->negotiated, VIO_F_NOTIFICATION_DATA))
			v = vio_vq_notify_data(r->vq[q]);
		(void)rig_w32(r, VIO_MMIO_QUEUE_NOTIFY, v);
	}
	return 0;
}

int rig_collect(struct rig *r, uint16_t q, void **token, uint32_t *len)
{
	return vio_vq_get(r->vq[q], token, len);
}
