/* SPDX-License-Identifier: MIT */
/* virtio-blk device model: request parsing, validation, completion
 * (virtio 1.4 §5.2.6). Uses only the device queue's public API. */
#include <virtio/blk_dev.h>
#include <virtio/errors.h>
#include <virtio/le.h>
#include <virtio/port.h>

#define NO_SLOT 0xffffu
#define HDR_BYTES ((uint32_t)sizeof(struct vio_blk_req_hdr))
#define RANGE_BYTES ((uint32_t)sizeof(struct vio_blk_discard_write_zeroes))
#define LIFETIME_BYTES ((uint32_t)sizeof(struct vio_blk_lifetime))

enum {
	REQ_FREE = 0,
	REQ_INFLIGHT = 1
};

static bool is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1u)) == 0;
}

int vio_blk_dev_desc_check(const struct vio_blk_dev_desc *d)
{
	if (d == NULL || d->capacity > VIO_BLK_MAX_CAPACITY)
		return -VIO_EINVAL;
	if (d->blk_size != 0 && (d->blk_size < VIO_BLK_SECTOR_SIZE || !is_pow2(d->blk_size)))
		return -VIO_EINVAL;
	/* §5.2.5.2: a device MUST offer FLUSH if it offers CONFIG_WCE. */
	if ((d->config_wce && !d->flush) || d->writeback > 1)
		return -VIO_EINVAL;
	if ((d->max_discard_seg != 0 && d->max_discard_sectors == 0) ||
	    (d->max_write_zeroes_seg != 0 && d->max_write_zeroes_sectors == 0) ||
	    (d->max_secure_erase_seg != 0 && d->max_secure_erase_sectors == 0))
		return -VIO_EINVAL;
	/* §5.2.6.2: a device offering LIFETIME MUST NOT send reserved values. */
	if (d->lifetime && (d->pre_eol_info > VIO_BLK_PRE_EOL_INFO_URGENT ||
			    d->lifetime_est_a > 11 || d->lifetime_est_b > 11))
		return -VIO_EINVAL;
	return 0;
}

int vio_blk_dev_features(const struct vio_blk_dev_desc *d, struct vio_features *f)
{
	if (f == NULL)
		return -VIO_EINVAL;
	*f = vio_features_none();
	int rc = vio_blk_dev_desc_check(d);
	if (rc != 0)
		return rc;
	if (d->size_max != 0)
		vio_features_set(f, VIO_BLK_F_SIZE_MAX);
	if (d->seg_max != 0)
		vio_features_set(f, VIO_BLK_F_SEG_MAX);
	if (d->cylinders != 0)
		vio_features_set(f, VIO_BLK_F_GEOMETRY);
	if (d->read_only)
		vio_features_set(f, VIO_BLK_F_RO);
	if (d->blk_size != 0)
		vio_features_set(f, VIO_BLK_F_BLK_SIZE);
	if (d->flush)
		vio_features_set(f, VIO_BLK_F_FLUSH);
	if (d->topology)
		vio_features_set(f, VIO_BLK_F_TOPOLOGY);
	if (d->config_wce)
		vio_features_set(f, VIO_BLK_F_CONFIG_WCE);
	if (d->num_queues > 1)
		vio_features_set(f, VIO_BLK_F_MQ);
	if (d->max_discard_seg != 0)
		vio_features_set(f, VIO_BLK_F_DISCARD);
	if (d->max_write_zeroes_seg != 0)
		vio_features_set(f, VIO_BLK_F_WRITE_ZEROES);
	if (d->lifetime)
		vio_features_set(f, VIO_BLK_F_LIFETIME);
	if (d->max_secure_erase_seg != 0)
		vio_features_set(f, VIO_BLK_F_SECURE_ERASE);
	return 0;
}

int vio_blk_dev_fill_config(const struct vio_blk_dev_desc *d, struct vio_blk_config *cfg)
{
	if (cfg == NULL)
		return -VIO_EINVAL;
	VIO_MEMSET(cfg, 0, sizeof(*cfg));
	int rc = vio_blk_dev_desc_check(d);
	if (rc != 0)
		return rc;
	cfg->capacity = vio_le64_make(d->capacity);
	cfg->size_max = vio_le32_make(d->size_max);
	cfg->seg_max = vio_le32_make(d->seg_max);
	if (d->cylinders != 0) {
		cfg->geometry.cylinders = vio_le16_make(d->cylinders);
		cfg->geometry.heads = d->heads;
		cfg->geometry.sectors = d->sectors;
	}
	cfg->blk_size = vio_le32_make(d->blk_size);
	if (d->topology) {
		cfg->topology.physical_block_exp = d->physical_block_exp;
		cfg->topology.alignment_offset = d->alignment_offset;
		cfg->topology.min_io_size = vio_le16_make(d->min_io_size);
		cfg->topology.opt_io_size = vio_le32_make(d->opt_io_size);
	}
	if (d->config_wce)
		cfg->writeback = d->writeback;
	if (d->num_queues > 1)
		cfg->num_queues = vio_le16_make(d->num_queues);
	if (d->max_discard_seg != 0) {
		cfg->max_discard_sectors = vio_le32_make(d->max_discard_sectors);
		cfg->max_discard_seg = vio_le32_make(d->max_discard_seg);
		cfg->discard_sector_alignment = vio_le32_make(d->discard_sector_alignment);
	}
	if (d->max_write_zeroes_seg != 0) {
		cfg->max_write_zeroes_sectors = vio_le32_make(d->max_write_zeroes_sectors);
		cfg->max_write_zeroes_seg = vio_le32_make(d->max_write_zeroes_seg);
		cfg->write_zeroes_may_unmap = d->write_zeroes_may_unmap ? 1u : 0u;
	}
	if (d->max_secure_erase_seg != 0) {
		cfg->max_secure_erase_sectors = vio_le32_make(d->max_secure_erase_sectors);
		cfg->max_secure_erase_seg = vio_le32_make(d->max_secure_erase_seg);
		cfg->secure_erase_sector_alignment =
			vio_le32_make(d->secure_erase_sector_alignment);
	}
	return 0;
}

int vio_blk_dev_init(struct vio_blk_dev *dev, const struct vio_blk_dev_desc *d,
		     const struct vio_blk_backend_ops *ops, void *ctx)
{
	if (dev == NULL || ops == NULL || ops->submit == NULL)
		return -VIO_EINVAL;
	struct vio_features offered;
	int rc = vio_blk_dev_features(d, &offered);
	if (rc != 0)
		return rc;
	VIO_MEMSET(dev, 0, sizeof(*dev));
	dev->desc = *d;
	dev->offered = offered;
	dev->features = vio_features_none();
	dev->ops = ops;
	dev->ctx = ctx;
	dev->writeback = d->writeback;
	return 0;
}

static bool negotiated(const struct vio_blk_dev *dev, unsigned bit)
{
	return vio_features_test(&dev->features, bit);
}

int vio_blk_dev_set_features(struct vio_blk_dev *dev, const struct vio_features *neg,
			     struct vio_blk_config *cfg)
{
	if (dev == NULL || neg == NULL)
		return -VIO_EINVAL;
	/* Device-type bits are 0–23 (§6); the rest belongs to the core. */
	struct vio_features type_bits = vio_features_none();
	type_bits.w[0] = neg->w[0] & 0xffffffu;
	if (!vio_features_subset(&type_bits, &dev->offered))
		return -VIO_EINVAL;
	dev->features = type_bits;
	dev->writeback = dev->desc.writeback;
	/* §5.2.5.2: CONFIG_WCE without FLUSH starts writethrough. */
	if (negotiated(dev, VIO_BLK_F_CONFIG_WCE) && !negotiated(dev, VIO_BLK_F_FLUSH))
		dev->writeback = 0;
	if (cfg != NULL && dev->desc.config_wce)
		cfg->writeback = dev->writeback;
	return 0;
}

int vio_blk_dev_config_write(struct vio_blk_dev *dev, struct vio_blk_config *cfg, uint32_t offset,
			     const void *data, uint32_t len)
{
	if (dev == NULL || cfg == NULL || data == NULL || len != 1 ||
	    offset != VIO_BLK_CFG_WRITEBACK || !negotiated(dev, VIO_BLK_F_CONFIG_WCE))
		return -VIO_EINVAL;
	uint8_t v = *(const uint8_t *)data;
	if (v > 1)
		return -VIO_EINVAL;
	dev->writeback = v;
	cfg->writeback = v;
	return 0;
}

bool vio_blk_dev_writeback(const struct vio_blk_dev *dev)
{
	if (negotiated(dev, VIO_BLK_F_CONFIG_WCE))
		return dev->writeback != 0;
	/* §5.2.6.2: with FLUSH offered but not negotiated, completed writes
	 * must be stable; with FLUSH negotiated the driver flushes. */
	return negotiated(dev, VIO_BLK_F_FLUSH);
}

int vio_blk_dev_set_capacity(struct vio_blk_dev *dev, uint64_t capacity, struct vio_blk_config *cfg)
{
	if (dev == NULL || capacity > VIO_BLK_MAX_CAPACITY)
		return -VIO_EINVAL;
	dev->desc.capacity = capacity;
	if (cfg != NULL)
		cfg->capacity = vio_le64_make(capacity);
	return 0;
}

/* ---- Queue ------------------------------------------------------------- */

int vio_blk_queue_init(struct vio_blk_queue *q, struct vio_blk_dev *dev, struct vio_devq *dq,
		       struct vio_blk_req *reqs, uint16_t nreqs, struct vio_chain_seg *segs,
		       uint16_t segs_per_req)
{
	if (q == NULL || dev == NULL || dq == NULL || reqs == NULL || segs == NULL || nreqs == 0 ||
	    nreqs == NO_SLOT || segs_per_req < 2)
		return -VIO_EINVAL;
	q->dev = dev;
	q->dq = dq;
	q->reqs = reqs;
	q->segs = segs;
	q->nreqs = nreqs;
	q->segs_per_req = segs_per_req;
	q->pop = NULL;
	q->pop_ctx = NULL;
	VIO_MEMSET(reqs, 0, (size_t)nreqs * sizeof(*reqs));
	vio_blk_queue_reset(q);
	return 0;
}

void vio_blk_queue_set_pop(struct vio_blk_queue *q, vio_blk_pop_fn pop, void *ctx)
{
	q->pop = pop;
	q->pop_ctx = ctx;
}

static void slot_free(struct vio_blk_queue *q, struct vio_blk_req *req)
{
	req->state = REQ_FREE;
	req->next_free = q->free_head;
	q->free_head = (uint16_t)(req - q->reqs);
	q->inflight--;
}

void vio_blk_queue_reset(struct vio_blk_queue *q)
{
	q->free_head = NO_SLOT;
	for (uint16_t i = q->nreqs; i > 0; i--) {
		struct vio_blk_req *req = &q->reqs[i - 1];
		if (req->state == REQ_INFLIGHT && req->q == q)
			(void)vio_devq_drop(q->dq, &req->chain);
		VIO_MEMSET(req, 0, sizeof(*req));
		req->q = q;
		req->state = REQ_FREE;
		req->next_free = q->free_head;
		q->free_head = (uint16_t)(i - 1);
	}
	q->inflight = 0;
}

unsigned vio_blk_queue_inflight(const struct vio_blk_queue *q)
{
	return q->inflight;
}

/* The segment holding the status byte: the last byte of the writable part.
 * NULL if the chain has no writable byte, or (truncated chain) the final
 * segment, the only one of the tail the array holds, cannot hold it. */
static const struct vio_chain_seg *status_seg(const struct vio_chain *c)
{
	if (c->in_bytes == 0 || c->nseg == 0)
		return NULL;
	if (c->flags & VIO_CHAIN_TRUNCATED) {
		const struct vio_chain_seg *s = &c->segs[c->nseg - 1];
		return s->write && s->len != 0 ? s : NULL;
	}
	for (uint16_t i = c->nseg; i > c->nout; i--)
		if (c->segs[i - 1].len != 0)
			return &c->segs[i - 1];
	return NULL;
}

static int finish(struct vio_blk_queue *q, struct vio_blk_req *req, uint8_t status)
{
	const struct vio_chain *c = &req->chain;
	const struct vio_chain_seg *st = status_seg(c);
	int rc;
	if (st != NULL) {
		/* §2.7.8.1: the used length is a prefix of the writable part the
		 * device wrote. Only when every writable byte was written is it
		 * the whole part; else 0, and the status byte (the last byte)
		 * is logged on its own. */
		bool all = c->in_bytes == 1 || (req->data_in && status == VIO_BLK_S_OK);
		((unsigned char *)st->ptr)[st->len - 1] = status;
		if (!all)
			vio_devq_log_write(q->dq, st->addr + st->len - 1, 1);
		rc = vio_devq_push(q->dq, c, all ? c->in_bytes : 0);
	} else {
		rc = -VIO_EINVAL; /* not reached: start() checked the status byte */
	}
	if (rc != 0)
		(void)vio_devq_drop(q->dq, c);
	slot_free(q, req);
	return rc;
}

static bool range_ok(const struct vio_blk_dev *dev, uint64_t sector, uint64_t nsect)
{
	uint64_t cap = dev->desc.capacity;
	return sector <= cap && nsect <= cap - sector;
}

/* The data occupies [off, off + len) of the readable (write false) or
 * writable part. Count its segments against seg_max and check each piece
 * against size_max, when those were negotiated. */
static bool segs_ok(const struct vio_blk_dev *dev, const struct vio_chain *c, bool write,
		    uint32_t off, uint32_t len)
{
	bool chk_seg = negotiated(dev, VIO_BLK_F_SEG_MAX);
	bool chk_size = negotiated(dev, VIO_BLK_F_SIZE_MAX) && dev->desc.size_max != 0;
	if (len == 0 || (!chk_seg && !chk_size))
		return true;
	uint16_t first = write ? c->nout : 0;
	uint16_t end = write ? c->nseg : c->nout;
	uint64_t pos = 0, lo = off, hi = (uint64_t)off + len;
	uint32_t count = 0;
	for (uint16_t i = first; i < end && pos < hi; i++) {
		uint64_t s = pos, e = pos + c->segs[i].len;
		pos = e;
		if (e <= lo || s == e)
			continue;
		uint64_t a = s > lo ? s : lo, b = e < hi ? e : hi;
		count++;
		if (chk_size && b - a > dev->desc.size_max)
			return false;
	}
	return !chk_seg || count <= dev->desc.seg_max;
}

static bool is_range_type(uint32_t type)
{
	return type == VIO_BLK_T_DISCARD || type == VIO_BLK_T_WRITE_ZEROES ||
	       type == VIO_BLK_T_SECURE_ERASE;
}

/* Check one copied range: UNSUPP for flags §5.2.6.2 forbids, IOERR beyond
 * the limits or the disk. */
static uint8_t check_range(const struct vio_blk_dev *dev, uint32_t type,
			   const struct vio_blk_discard_write_zeroes *w, struct vio_blk_range *r)
{
	uint32_t flags = vio_le32_get(w->flags);
	r->sector = vio_le64_get(w->sector);
	r->num_sectors = vio_le32_get(w->num_sectors);
	r->unmap = (flags & VIO_BLK_DWZ_F_UNMAP) != 0;
	if ((flags & ~VIO_BLK_DWZ_F_UNMAP) != 0 || (r->unmap && type != VIO_BLK_T_WRITE_ZEROES))
		return VIO_BLK_S_UNSUPP;
	uint32_t max = type == VIO_BLK_T_DISCARD	? dev->desc.max_discard_sectors
		       : type == VIO_BLK_T_WRITE_ZEROES ? dev->desc.max_write_zeroes_sectors
							: dev->desc.max_secure_erase_sectors;
	if (r->num_sectors > max || !range_ok(dev, r->sector, r->num_sectors))
		return VIO_BLK_S_IOERR;
	return VIO_BLK_S_OK;
}

/* DISCARD, WRITE_ZEROES, SECURE_ERASE: the ranges follow the header. */
static uint8_t parse_ranges(const struct vio_blk_dev *dev, struct vio_blk_req *req)
{
	const struct vio_chain *c = &req->chain;
	uint32_t type = req->type;
	unsigned feat = type == VIO_BLK_T_DISCARD	 ? VIO_BLK_F_DISCARD
			: type == VIO_BLK_T_WRITE_ZEROES ? VIO_BLK_F_WRITE_ZEROES
							 : VIO_BLK_F_SECURE_ERASE;
	if (!negotiated(dev, feat))
		return VIO_BLK_S_UNSUPP;
	if (dev->desc.read_only)
		return VIO_BLK_S_IOERR;
	uint32_t data = c->out_bytes - HDR_BYTES;
	uint32_t max = type == VIO_BLK_T_DISCARD	? dev->desc.max_discard_seg
		       : type == VIO_BLK_T_WRITE_ZEROES ? dev->desc.max_write_zeroes_seg
							: dev->desc.max_secure_erase_seg;
	/* §5.2.6.1: a multiple of the range size, at most max_*_seg ranges. */
	if (data == 0 || data % RANGE_BYTES != 0 || data / RANGE_BYTES > max ||
	    !segs_ok(dev, c, false, HDR_BYTES, data))
		return VIO_BLK_S_IOERR;
	uint32_t n = data / RANGE_BYTES;
	uint8_t worst = VIO_BLK_S_OK;
	for (uint32_t i = 0; i < n; i++) {
		struct vio_blk_discard_write_zeroes w;
		struct vio_blk_range r;
		if (vio_chain_read(c, HDR_BYTES + (size_t)i * RANGE_BYTES, &w, sizeof(w)) !=
		    sizeof(w))
			return VIO_BLK_S_IOERR;
		uint8_t s = check_range(dev, type, &w, &r);
		/* An unknown flag anywhere means UNSUPP (a MUST), whatever else. */
		if (s == VIO_BLK_S_UNSUPP)
			return s;
		if (s != VIO_BLK_S_OK)
			worst = s;
	}
	req->nranges = n;
	return worst;
}

/* GET_ID and GET_LIFETIME: the model answers from the description. The
 * data must be exactly the answer's size (§5.2.6.1 for GET_ID). */
static uint8_t answer_info(const struct vio_blk_dev *dev, struct vio_blk_req *req)
{
	const struct vio_chain *c = &req->chain;
	uint32_t data = c->in_bytes - 1;
	if (req->type == VIO_BLK_T_GET_ID) {
		if (data != VIO_BLK_ID_BYTES)
			return VIO_BLK_S_IOERR;
		(void)vio_chain_write(c, 0, dev->desc.id, VIO_BLK_ID_BYTES);
	} else {
		if (!negotiated(dev, VIO_BLK_F_LIFETIME))
			return VIO_BLK_S_UNSUPP;
		if (data != LIFETIME_BYTES)
			return VIO_BLK_S_IOERR;
		struct vio_blk_lifetime lt;
		lt.pre_eol_info = vio_le16_make(dev->desc.pre_eol_info);
		lt.device_lifetime_est_typ_a = vio_le16_make(dev->desc.lifetime_est_a);
		lt.device_lifetime_est_typ_b = vio_le16_make(dev->desc.lifetime_est_b);
		(void)vio_chain_write(c, 0, &lt, LIFETIME_BYTES);
	}
	req->data_in = true;
	return VIO_BLK_S_OK;
}

/* Parse a popped chain. Returns 0 when the request was handed to the
 * backend or answered, or the negative code that failed the queue. */
static int start(struct vio_blk_queue *q, struct vio_blk_req *req)
{
	const struct vio_blk_dev *dev = q->dev;
	const struct vio_chain *c = &req->chain;
	struct vio_blk_req_hdr h;
	uint8_t st;

	req->type = UINT32_MAX;
	req->sector = 0;
	req->len = 0;
	req->nranges = 0;
	req->data_in = false;
	if (status_seg(c) == NULL) {
		/* Nowhere to answer: the request cannot be completed. */
		(void)vio_devq_drop(q->dq, c);
		slot_free(q, req);
		return vio_devq_fail(q->dq, -VIO_EBLK_NO_STATUS);
	}
	if ((c->flags & VIO_CHAIN_TRUNCATED) != 0 || c->out_bytes < HDR_BYTES ||
	    vio_chain_read(c, 0, &h, sizeof(h)) != sizeof(h)) {
		(void)finish(q, req, VIO_BLK_S_IOERR);
		return 0;
	}

	req->type = vio_le32_get(h.type);
	switch (req->type) {
	case VIO_BLK_T_IN:
	case VIO_BLK_T_OUT: {
		bool in = req->type == VIO_BLK_T_IN;
		uint32_t len = in ? c->in_bytes - 1 : c->out_bytes - HDR_BYTES;
		uint64_t sector = vio_le64_get(h.sector);
		req->data_in = in;
		/* §5.2.6.2: a read-only device fails writes and writes nothing. */
		if (!in && dev->desc.read_only) {
			st = VIO_BLK_S_IOERR;
			break;
		}
		if (len % VIO_BLK_SECTOR_SIZE != 0 ||
		    !range_ok(dev, sector, len >> VIO_BLK_SECTOR_SHIFT) ||
		    !segs_ok(dev, c, in, in ? 0 : HDR_BYTES, len)) {
			st = VIO_BLK_S_IOERR;
			break;
		}
		req->sector = sector;
		req->len = len;
		dev->ops->submit(dev->ctx, req);
		return 0;
	}
	case VIO_BLK_T_FLUSH:
		if (!dev->desc.flush) {
			st = VIO_BLK_S_UNSUPP;
			break;
		}
		dev->ops->submit(dev->ctx, req);
		return 0;
	case VIO_BLK_T_GET_ID:
	case VIO_BLK_T_GET_LIFETIME:
		st = answer_info(dev, req);
		break;
	default:
		if (!is_range_type(req->type)) {
			/* Zoned requests without ZONED (§5.2.6.2), legacy SCSI
			 * and FLUSH_OUT, barriers, unknown values. */
			st = VIO_BLK_S_UNSUPP;
			break;
		}
		st = parse_ranges(dev, req);
		if (st == VIO_BLK_S_OK) {
			dev->ops->submit(dev->ctx, req);
			return 0;
		}
		req->nranges = 0;
		break;
	}
	(void)finish(q, req, st);
	return 0;
}

int vio_blk_queue_process(struct vio_blk_queue *q)
{
	int taken = 0;
	while (q->free_head != NO_SLOT) {
		uint16_t slot = q->free_head;
		struct vio_blk_req *req = &q->reqs[slot];
		struct vio_chain_seg *segs = &q->segs[(size_t)slot * q->segs_per_req];
		int rc = q->pop != NULL ? q->pop(q->pop_ctx, q, &req->chain, segs, q->segs_per_req)
					: vio_devq_pop(q->dq, &req->chain, segs, q->segs_per_req);
		if (rc == -VIO_EAGAIN)
			break;
		if (rc == -VIO_ENOSPC)
			return vio_devq_fail(q->dq, -VIO_EREQUEST);
		if (rc < 0)
			return rc;
		q->free_head = req->next_free;
		req->next_free = NO_SLOT;
		req->state = REQ_INFLIGHT;
		req->q = q;
		req->backend_data = NULL;
		q->inflight++;
		taken++;
		rc = start(q, req);
		if (rc < 0)
			return rc;
	}
	return taken;
}

/* ---- Request accessors ------------------------------------------------ */

uint32_t vio_blk_req_type(const struct vio_blk_req *req)
{
	return req->type;
}

uint64_t vio_blk_req_sector(const struct vio_blk_req *req)
{
	return req->sector;
}

uint32_t vio_blk_req_len(const struct vio_blk_req *req)
{
	return req->len;
}

uint32_t vio_blk_req_nranges(const struct vio_blk_req *req)
{
	return req->nranges;
}

size_t vio_blk_req_read(const struct vio_blk_req *req, size_t off, void *dst, size_t len)
{
	if (req->type != VIO_BLK_T_OUT || off >= req->len)
		return 0;
	size_t n = req->len - off < len ? req->len - off : len;
	return vio_chain_read(&req->chain, HDR_BYTES + off, dst, n);
}

size_t vio_blk_req_write(const struct vio_blk_req *req, size_t off, const void *src, size_t len)
{
	if (req->type != VIO_BLK_T_IN || off >= req->len)
		return 0;
	size_t n = req->len - off < len ? req->len - off : len;
	return vio_chain_write(&req->chain, off, src, n);
}

unsigned vio_blk_req_iov(const struct vio_blk_req *req, struct vio_blk_iov *iov, unsigned max)
{
	const struct vio_chain *c = &req->chain;
	bool in = req->type == VIO_BLK_T_IN;
	if ((!in && req->type != VIO_BLK_T_OUT) || req->len == 0)
		return 0;
	uint16_t first = in ? c->nout : 0;
	uint16_t end = in ? c->nseg : c->nout;
	uint64_t lo = in ? 0 : HDR_BYTES, hi = lo + req->len, pos = 0;
	unsigned n = 0;
	for (uint16_t i = first; i < end && pos < hi; i++) {
		const struct vio_chain_seg *s = &c->segs[i];
		uint64_t a = pos, e = pos + s->len;
		pos = e;
		if (e <= lo || a == e)
			continue;
		uint64_t from = a > lo ? a : lo, to = e < hi ? e : hi;
		if (n < max) {
			iov[n].base = (unsigned char *)s->ptr + (from - a);
			iov[n].len = (size_t)(to - from);
		}
		n++;
	}
	return n;
}

int vio_blk_req_range(const struct vio_blk_req *req, uint32_t idx, struct vio_blk_range *r)
{
	if (r == NULL || idx >= req->nranges || req->q == NULL)
		return -VIO_EINVAL;
	struct vio_blk_discard_write_zeroes w;
	if (vio_chain_read(&req->chain, HDR_BYTES + (size_t)idx * RANGE_BYTES, &w, sizeof(w)) !=
	    sizeof(w))
		return -VIO_EINVAL;
	if (check_range(req->q->dev, req->type, &w, r) != VIO_BLK_S_OK)
		return -VIO_EINVAL;
	return 0;
}

int vio_blk_req_complete(struct vio_blk_req *req, uint8_t status)
{
	if (req == NULL || req->state != REQ_INFLIGHT || req->q == NULL)
		return -VIO_EINVAL;
	return finish(req->q, req, status);
}

/* ---- In-memory backend -------------------------------------------------- */

void vio_blk_mem_backend_init(struct vio_blk_mem_backend *b, void *disk, uint64_t bytes)
{
	b->disk = disk;
	b->bytes = bytes;
	b->flushes = 0;
}

static bool mem_span(const struct vio_blk_mem_backend *b, uint64_t sector, uint64_t bytes,
		     uint64_t *off)
{
	if (sector > b->bytes >> VIO_BLK_SECTOR_SHIFT)
		return false;
	*off = sector << VIO_BLK_SECTOR_SHIFT;
	return bytes <= b->bytes - *off;
}

static uint8_t mem_ranges(struct vio_blk_mem_backend *b, struct vio_blk_req *req)
{
	uint32_t n = vio_blk_req_nranges(req);
	for (uint32_t i = 0; i < n; i++) {
		struct vio_blk_range r;
		uint64_t off;
		uint64_t bytes;
		if (vio_blk_req_range(req, i, &r) != 0)
			return VIO_BLK_S_IOERR;
		bytes = (uint64_t)r.num_sectors << VIO_BLK_SECTOR_SHIFT;
		if (!mem_span(b, r.sector, bytes, &off))
			return VIO_BLK_S_IOERR;
		VIO_MEMSET(b->disk + off, 0, (size_t)bytes);
	}
	return VIO_BLK_S_OK;
}

static void mem_submit(void *ctx, struct vio_blk_req *req)
{
	struct vio_blk_mem_backend *b = ctx;
	uint8_t st = VIO_BLK_S_IOERR;
	uint64_t off;
	uint32_t len = vio_blk_req_len(req);
	switch (vio_blk_req_type(req)) {
	case VIO_BLK_T_IN:
		if (mem_span(b, vio_blk_req_sector(req), len, &off) &&
		    vio_blk_req_write(req, 0, b->disk + off, len) == len)
			st = VIO_BLK_S_OK;
		break;
	case VIO_BLK_T_OUT:
		if (mem_span(b, vio_blk_req_sector(req), len, &off) &&
		    vio_blk_req_read(req, 0, b->disk + off, len) == len)
			st = VIO_BLK_S_OK;
		break;
	case VIO_BLK_T_FLUSH:
		b->flushes++;
		st = VIO_BLK_S_OK;
		break;
	case VIO_BLK_T_DISCARD:
	case VIO_BLK_T_WRITE_ZEROES:
	case VIO_BLK_T_SECURE_ERASE:
		st = mem_ranges(b, req);
		break;
	default:
		st = VIO_BLK_S_UNSUPP;
		break;
	}
	(void)vio_blk_req_complete(req, st);
}

const struct vio_blk_backend_ops vio_blk_mem_backend_ops = {mem_submit};
