/* SPDX-License-Identifier: MIT */
/* virtio-blk driver helper (virtio 1.4 §5.2): configuration parsing,
 * request submission and completion checks over a driver queue. */
#include <virtio/blk_drv.h>
#include <virtio/errors.h>
#include <virtio/le.h>
#include <virtio/port.h>

#define HDR_BYTES ((uint32_t)sizeof(struct vio_blk_req_hdr))
#define LIFETIME_BYTES ((uint32_t)sizeof(struct vio_blk_lifetime))
#define STATUS_UNSET 0xffu

void vio_blk_drv_features(struct vio_features *f)
{
	static const unsigned bits[] = {
		VIO_BLK_F_SIZE_MAX,	VIO_BLK_F_SEG_MAX,	VIO_BLK_F_GEOMETRY,
		VIO_BLK_F_RO,		VIO_BLK_F_BLK_SIZE,	VIO_BLK_F_FLUSH,
		VIO_BLK_F_TOPOLOGY,	VIO_BLK_F_CONFIG_WCE,	VIO_BLK_F_MQ,
		VIO_BLK_F_DISCARD,	VIO_BLK_F_WRITE_ZEROES, VIO_BLK_F_LIFETIME,
		VIO_BLK_F_SECURE_ERASE,
	};
	*f = vio_features_none();
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		vio_features_set(f, bits[i]);
}

/* Bytes of configuration the negotiated features need. */
static uint32_t config_need(const struct vio_features *f)
{
	uint32_t need = VIO_BLK_CFG_SIZE_MAX; /* capacity */
	static const struct {
		unsigned bit;
		uint32_t end;
	} t[] = {
		{VIO_BLK_F_SIZE_MAX, VIO_BLK_CFG_SEG_MAX},
		{VIO_BLK_F_SEG_MAX, VIO_BLK_CFG_GEOMETRY},
		{VIO_BLK_F_GEOMETRY, VIO_BLK_CFG_BLK_SIZE},
		{VIO_BLK_F_BLK_SIZE, VIO_BLK_CFG_TOPOLOGY},
		{VIO_BLK_F_TOPOLOGY, VIO_BLK_CFG_WRITEBACK},
		{VIO_BLK_F_CONFIG_WCE, VIO_BLK_CFG_WRITEBACK + 1},
		{VIO_BLK_F_MQ, VIO_BLK_CFG_MAX_DISCARD_SECTORS},
		{VIO_BLK_F_DISCARD, VIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS},
		{VIO_BLK_F_WRITE_ZEROES, VIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP + 1},
		{VIO_BLK_F_SECURE_ERASE, VIO_BLK_CFG_ZONED},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (vio_features_test(f, t[i].bit) && t[i].end > need)
			need = t[i].end;
	return need;
}

int vio_blk_config_parse(const void *raw, size_t len, const struct vio_features *neg,
			 struct vio_blk_info *info)
{
	if (raw == NULL || neg == NULL || info == NULL)
		return -VIO_EINVAL;
	VIO_MEMSET(info, 0, sizeof(*info));
	if (len < config_need(neg))
		return -VIO_EBLK_CONFIG;
	struct vio_blk_config c;
	VIO_MEMSET(&c, 0, sizeof(c));
	VIO_MEMCPY(&c, raw, len < sizeof(c) ? len : sizeof(c));

	struct vio_blk_info r;
	VIO_MEMSET(&r, 0, sizeof(r));
	r.features = *neg;
	r.capacity = vio_le64_get(c.capacity);
	r.blk_size = VIO_BLK_SECTOR_SIZE;
	r.num_queues = 1;
	if (r.capacity > (UINT64_MAX >> VIO_BLK_SECTOR_SHIFT))
		return -VIO_EBLK_CONFIG;
	if (vio_features_test(neg, VIO_BLK_F_SIZE_MAX))
		r.size_max = vio_le32_get(c.size_max); /* 0: no limit, as Linux reads it */
	if (vio_features_test(neg, VIO_BLK_F_SEG_MAX)) {
		r.seg_max = vio_le32_get(c.seg_max);
		if (r.seg_max == 0)
			return -VIO_EBLK_CONFIG;
	}
	if (vio_features_test(neg, VIO_BLK_F_GEOMETRY)) {
		r.cylinders = vio_le16_get(c.geometry.cylinders);
		r.heads = c.geometry.heads;
		r.sectors = c.geometry.sectors;
	}
	if (vio_features_test(neg, VIO_BLK_F_BLK_SIZE)) {
		uint32_t b = vio_le32_get(c.blk_size);
		if (b < VIO_BLK_SECTOR_SIZE || b > 65536u || (b & (b - 1u)) != 0)
			return -VIO_EBLK_CONFIG;
		r.blk_size = b;
	}
	if (vio_features_test(neg, VIO_BLK_F_TOPOLOGY)) {
		r.physical_block_exp = c.topology.physical_block_exp;
		r.alignment_offset = c.topology.alignment_offset;
		r.min_io_size = vio_le16_get(c.topology.min_io_size);
		r.opt_io_size = vio_le32_get(c.topology.opt_io_size);
	}
	if (vio_features_test(neg, VIO_BLK_F_CONFIG_WCE)) {
		if (c.writeback > 1)
			return -VIO_EBLK_CONFIG;
		r.writeback = c.writeback;
	}
	if (vio_features_test(neg, VIO_BLK_F_MQ)) {
		r.num_queues = vio_le16_get(c.num_queues);
		if (r.num_queues == 0)
			return -VIO_EBLK_CONFIG;
	}
	if (vio_features_test(neg, VIO_BLK_F_DISCARD)) {
		r.max_discard_sectors = vio_le32_get(c.max_discard_sectors);
		r.max_discard_seg = vio_le32_get(c.max_discard_seg);
		r.discard_sector_alignment = vio_le32_get(c.discard_sector_alignment);
	}
	if (vio_features_test(neg, VIO_BLK_F_WRITE_ZEROES)) {
		r.max_write_zeroes_sectors = vio_le32_get(c.max_write_zeroes_sectors);
		r.max_write_zeroes_seg = vio_le32_get(c.max_write_zeroes_seg);
		r.write_zeroes_may_unmap = c.write_zeroes_may_unmap != 0;
	}
	if (vio_features_test(neg, VIO_BLK_F_SECURE_ERASE)) {
		r.max_secure_erase_sectors = vio_le32_get(c.max_secure_erase_sectors);
		r.max_secure_erase_seg = vio_le32_get(c.max_secure_erase_seg);
		r.secure_erase_sector_alignment = vio_le32_get(c.secure_erase_sector_alignment);
	}
	*info = r;
	return 0;
}

int vio_blk_config_read(vio_blk_config_read_fn read, void *ctx, const struct vio_features *neg,
			struct vio_blk_info *info)
{
	if (read == NULL || neg == NULL || info == NULL)
		return -VIO_EINVAL;
	struct vio_blk_config c;
	uint32_t need = config_need(neg);
	VIO_MEMSET(&c, 0, sizeof(c));
	int rc = read(ctx, 0, &c, need);
	if (rc != 0)
		return rc;
	return vio_blk_config_parse(&c, need, neg, info);
}

int vio_blk_drv_init(struct vio_blk_drv *d, struct vio_vq *vq, const struct vio_blk_info *info)
{
	if (d == NULL || vq == NULL || info == NULL)
		return -VIO_EINVAL;
	d->vq = vq;
	d->info = *info;
	d->inflight = 0;
	return 0;
}

void vio_blk_drv_set_info(struct vio_blk_drv *d, const struct vio_blk_info *info)
{
	d->info = *info;
}

static bool has(const struct vio_blk_drv *d, unsigned bit)
{
	return vio_features_test(&d->info.features, bit);
}

static bool range_ok(const struct vio_blk_drv *d, uint64_t sector, uint64_t nsect)
{
	return sector <= d->info.capacity && nsect <= d->info.capacity - sector;
}

static bool data_in_type(uint32_t type)
{
	return type == VIO_BLK_T_IN || type == VIO_BLK_T_GET_ID || type == VIO_BLK_T_GET_LIFETIME;
}

/* Fill the header and the status entries and publish. */
static int publish(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint32_t type, uint64_t sector,
		   struct vio_sg *sg, unsigned ndata, bool in, uint32_t data)
{
	r->hdr.type = vio_le32_make(type);
	r->hdr.reserved = vio_le32_make(0);
	r->hdr.sector = vio_le64_make(sector);
	r->wire_status = STATUS_UNSET; /* not a valid status: a device that never writes it shows */
	r->status = STATUS_UNSET;
	r->used_len = 0;
	r->type = type;
	r->in_total = in ? data + 1u : 1u;
	sg[0].addr = &r->hdr;
	sg[0].len = HDR_BYTES;
	sg[ndata + 1].addr = &r->wire_status;
	sg[ndata + 1].len = 1;
	unsigned out = in ? 1u : 1u + ndata;
	int rc = vio_vq_add(d->vq, sg, out, ndata + 2u - out, r);
	if (rc == 0)
		d->inflight++;
	return rc;
}

int vio_blk_drv_submit(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint32_t type,
		       uint64_t sector, struct vio_sg *sg, unsigned ndata)
{
	if (d == NULL || r == NULL || sg == NULL || ndata > UINT16_MAX)
		return -VIO_EINVAL;
	if (vio_vq_is_broken(d->vq))
		return -VIO_EBROKEN;
	uint64_t total = 0;
	for (unsigned i = 1; i <= ndata; i++) {
		if (has(d, VIO_BLK_F_SIZE_MAX) && d->info.size_max != 0 &&
		    sg[i].len > d->info.size_max)
			return -VIO_EINVAL;
		total += sg[i].len;
	}
	if (total > UINT32_MAX - HDR_BYTES - 1u)
		return -VIO_EINVAL;
	if (has(d, VIO_BLK_F_SEG_MAX) && ndata > d->info.seg_max)
		return -VIO_EINVAL;
	switch (type) {
	case VIO_BLK_T_OUT:
		if (has(d, VIO_BLK_F_RO))
			return -VIO_EBLK_FEATURE;
		/* fall through */
	case VIO_BLK_T_IN:
		/* §5.2.6.1: multiples of 512 bytes, never beyond capacity. */
		if (total % VIO_BLK_SECTOR_SIZE != 0 ||
		    !range_ok(d, sector, total >> VIO_BLK_SECTOR_SHIFT))
			return -VIO_EINVAL;
		break;
	case VIO_BLK_T_FLUSH:
		if (!has(d, VIO_BLK_F_FLUSH))
			return -VIO_EBLK_FEATURE;
		if (ndata != 0)
			return -VIO_EINVAL;
		sector = 0; /* §5.2.6.1: MUST be 0 */
		break;
	case VIO_BLK_T_GET_ID:
		if (total != VIO_BLK_ID_BYTES)
			return -VIO_EINVAL;
		sector = 0;
		break;
	case VIO_BLK_T_GET_LIFETIME:
		if (!has(d, VIO_BLK_F_LIFETIME))
			return -VIO_EBLK_FEATURE;
		if (total != LIFETIME_BYTES)
			return -VIO_EINVAL;
		sector = 0;
		break;
	default:
		return -VIO_EINVAL;
	}
	return publish(d, r, type, sector, sg, ndata, data_in_type(type), (uint32_t)total);
}

int vio_blk_drv_submit_ranges(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint32_t type,
			      const struct vio_blk_discard_write_zeroes *ranges, unsigned n)
{
	if (d == NULL || r == NULL || ranges == NULL)
		return -VIO_EINVAL;
	if (vio_vq_is_broken(d->vq))
		return -VIO_EBROKEN;
	unsigned bit;
	uint32_t max_seg, max_sect;
	switch (type) {
	case VIO_BLK_T_DISCARD:
		bit = VIO_BLK_F_DISCARD;
		max_seg = d->info.max_discard_seg;
		max_sect = d->info.max_discard_sectors;
		break;
	case VIO_BLK_T_WRITE_ZEROES:
		bit = VIO_BLK_F_WRITE_ZEROES;
		max_seg = d->info.max_write_zeroes_seg;
		max_sect = d->info.max_write_zeroes_sectors;
		break;
	case VIO_BLK_T_SECURE_ERASE:
		bit = VIO_BLK_F_SECURE_ERASE;
		max_seg = d->info.max_secure_erase_seg;
		max_sect = d->info.max_secure_erase_sectors;
		break;
	default:
		return -VIO_EINVAL;
	}
	if (!has(d, bit) || has(d, VIO_BLK_F_RO))
		return -VIO_EBLK_FEATURE;
	if (n == 0 || n > max_seg || n > (UINT32_MAX - HDR_BYTES - 1u) / 16u)
		return -VIO_EINVAL;
	for (unsigned i = 0; i < n; i++) {
		uint32_t flags = vio_le32_get(ranges[i].flags);
		uint32_t allowed = type == VIO_BLK_T_WRITE_ZEROES ? VIO_BLK_DWZ_F_UNMAP : 0u;
		uint32_t ns = vio_le32_get(ranges[i].num_sectors);
		if ((flags & ~allowed) != 0 || ns > max_sect ||
		    !range_ok(d, vio_le64_get(ranges[i].sector), ns))
			return -VIO_EINVAL;
	}
	struct vio_sg sg[3];
	sg[1].addr = ranges;
	sg[1].len = (uint32_t)(n * sizeof(*ranges));
	return publish(d, r, type, 0, sg, 1, false, sg[1].len);
}

int vio_blk_drv_read(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint64_t sector, void *buf,
		     uint32_t len)
{
	struct vio_sg sg[3];
	sg[1].addr = buf;
	sg[1].len = len;
	return vio_blk_drv_submit(d, r, VIO_BLK_T_IN, sector, sg, 1);
}

int vio_blk_drv_write(struct vio_blk_drv *d, struct vio_blk_drv_req *r, uint64_t sector,
		      const void *buf, uint32_t len)
{
	struct vio_sg sg[3];
	sg[1].addr = buf;
	sg[1].len = len;
	return vio_blk_drv_submit(d, r, VIO_BLK_T_OUT, sector, sg, 1);
}

int vio_blk_drv_flush(struct vio_blk_drv *d, struct vio_blk_drv_req *r)
{
	struct vio_sg sg[2];
	return vio_blk_drv_submit(d, r, VIO_BLK_T_FLUSH, 0, sg, 0);
}

int vio_blk_drv_get_id(struct vio_blk_drv *d, struct vio_blk_drv_req *r, char id[VIO_BLK_ID_BYTES])
{
	struct vio_sg sg[3];
	sg[1].addr = id;
	sg[1].len = VIO_BLK_ID_BYTES;
	return vio_blk_drv_submit(d, r, VIO_BLK_T_GET_ID, 0, sg, 1);
}

int vio_blk_drv_get(struct vio_blk_drv *d, struct vio_blk_drv_req **out)
{
	if (d == NULL || out == NULL)
		return -VIO_EINVAL;
	void *tok = NULL;
	uint32_t len = 0;
	int rc = vio_vq_get(d->vq, &tok, &len);
	if (rc != 0)
		return rc;
	struct vio_blk_drv_req *r = tok;
	d->inflight--;
	*out = r;
	r->used_len = len;
	/* Read the device-written byte once; judge only the copy. */
	uint8_t st = VIO_READ_ONCE(r->wire_status);
	r->status = st;
	if (st != VIO_BLK_S_OK && st != VIO_BLK_S_IOERR && st != VIO_BLK_S_UNSUPP)
		return vio_vq_fail(d->vq, -VIO_EBLK_STATUS);
	/* §2.7.8.1: used length is what the device wrote from the start of the
	 * writable part; a success that did not write the data is not one. */
	if (st == VIO_BLK_S_OK && data_in_type(r->type) && len != r->in_total)
		return vio_vq_fail(d->vq, -VIO_EBLK_USED_LEN);
	return 0;
}

int vio_blk_drv_detach(struct vio_blk_drv *d, struct vio_blk_drv_req **out)
{
	if (d == NULL || out == NULL)
		return -VIO_EINVAL;
	void *tok = NULL;
	int rc = vio_vq_detach_unused(d->vq, &tok);
	if (rc != 0)
		return rc;
	if (d->inflight > 0)
		d->inflight--;
	*out = tok;
	return 0;
}

void vio_blk_drv_reset(struct vio_blk_drv *d)
{
	d->inflight = 0;
}

unsigned vio_blk_drv_inflight(const struct vio_blk_drv *d)
{
	return d->inflight;
}
