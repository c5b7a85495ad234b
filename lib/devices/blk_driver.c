/* SPDX-License-Identifier: MIT */
/* virtio-blk driver bring-up over the driver core (virtio 1.4 §5.2.5,
 * §3.1.1). */
#include <virtio/blk_driver.h>
#include <virtio/errors.h>
#include <virtio/port.h>

/* One configuration field: its feature (or -1: always there), offset and
 * width. The table follows struct vio_blk_config (blk.h). */
static const struct {
	int bit;
	uint8_t offset;
	uint8_t width;
} fields[] = {
	{-1, VIO_BLK_CFG_CAPACITY, 8},
	{VIO_BLK_F_SIZE_MAX, VIO_BLK_CFG_SIZE_MAX, 4},
	{VIO_BLK_F_SEG_MAX, VIO_BLK_CFG_SEG_MAX, 4},
	{VIO_BLK_F_GEOMETRY, VIO_BLK_CFG_GEOMETRY, 2},	   /* cylinders */
	{VIO_BLK_F_GEOMETRY, VIO_BLK_CFG_GEOMETRY + 2, 1}, /* heads */
	{VIO_BLK_F_GEOMETRY, VIO_BLK_CFG_GEOMETRY + 3, 1}, /* sectors */
	{VIO_BLK_F_BLK_SIZE, VIO_BLK_CFG_BLK_SIZE, 4},
	{VIO_BLK_F_TOPOLOGY, VIO_BLK_CFG_TOPOLOGY, 1},	   /* physical_block_exp */
	{VIO_BLK_F_TOPOLOGY, VIO_BLK_CFG_TOPOLOGY + 1, 1}, /* alignment_offset */
	{VIO_BLK_F_TOPOLOGY, VIO_BLK_CFG_TOPOLOGY + 2, 2}, /* min_io_size */
	{VIO_BLK_F_TOPOLOGY, VIO_BLK_CFG_TOPOLOGY + 4, 4}, /* opt_io_size */
	{VIO_BLK_F_CONFIG_WCE, VIO_BLK_CFG_WRITEBACK, 1},
	{VIO_BLK_F_MQ, VIO_BLK_CFG_NUM_QUEUES, 2},
	{VIO_BLK_F_DISCARD, VIO_BLK_CFG_MAX_DISCARD_SECTORS, 4},
	{VIO_BLK_F_DISCARD, VIO_BLK_CFG_MAX_DISCARD_SEG, 4},
	{VIO_BLK_F_DISCARD, VIO_BLK_CFG_DISCARD_ALIGNMENT, 4},
	{VIO_BLK_F_WRITE_ZEROES, VIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS, 4},
	{VIO_BLK_F_WRITE_ZEROES, VIO_BLK_CFG_MAX_WRITE_ZEROES_SEG, 4},
	{VIO_BLK_F_WRITE_ZEROES, VIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP, 1},
	{VIO_BLK_F_SECURE_ERASE, VIO_BLK_CFG_MAX_SECURE_ERASE_SECTORS, 4},
	{VIO_BLK_F_SECURE_ERASE, VIO_BLK_CFG_MAX_SECURE_ERASE_SEG, 4},
	{VIO_BLK_F_SECURE_ERASE, VIO_BLK_CFG_SECURE_ERASE_ALIGNMENT, 4},
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

int vio_blk_driver_read_info(struct vio_drv *drv, struct vio_blk_info *info)
{
	if (drv == NULL || info == NULL)
		return -VIO_EINVAL;
	struct vio_features neg = vio_drv_features(drv);
	struct vio_drv_config_field f[NFIELDS];
	unsigned n = 0;
	for (size_t i = 0; i < NFIELDS; i++) {
		if (fields[i].bit >= 0 && !vio_features_test(&neg, (unsigned)fields[i].bit))
			continue;
		f[n].offset = fields[i].offset;
		f[n].width = fields[i].width;
		f[n].value = 0;
		n++;
	}
	int rc = vio_drv_config_read_fields(drv, f, n);
	if (rc != 0)
		return rc;
	/* Back to the wire image (little-endian bytes) the parser checks. */
	unsigned char raw[VIO_BLK_CONFIG_SIZE];
	VIO_MEMSET(raw, 0, sizeof(raw));
	for (unsigned i = 0; i < n; i++)
		for (unsigned b = 0; b < f[i].width; b++)
			raw[f[i].offset + b] = (unsigned char)(f[i].value >> (8u * b));
	return vio_blk_config_parse(raw, sizeof(raw), &neg, info);
}

/* Give up on the device with @rc, unless the driver core already did. */
static int give_up(struct vio_drv *drv, int rc)
{
	if (vio_drv_state(drv) != VIO_DRV_FAILED)
		(void)vio_drv_fail(drv, rc);
	return rc;
}

int vio_blk_driver_start(struct vio_drv *drv, const struct vio_drv_queue_config *qc, uint16_t nqc,
			 struct vio_blk_drv *blk, struct vio_blk_info *info, uint16_t *nqueues)
{
	if (drv == NULL || qc == NULL || nqc == 0 || blk == NULL || info == NULL ||
	    vio_drv_state(drv) != VIO_DRV_IDLE)
		return -VIO_EINVAL;
	int rc = vio_drv_negotiate(drv);
	if (rc != 0)
		return rc;
	rc = vio_blk_driver_read_info(drv, info);
	if (rc != 0)
		return give_up(drv, rc);
	uint16_t n = nqc < info->num_queues ? nqc : info->num_queues;
	for (uint16_t i = 0; i < n; i++) {
		rc = vio_drv_queue_setup(drv, i, &qc[i], NULL);
		if (rc != 0)
			return give_up(drv, rc);
	}
	rc = vio_drv_ready(drv);
	if (rc != 0)
		return give_up(drv, rc);
	for (uint16_t i = 0; i < n; i++) {
		rc = vio_blk_drv_init(&blk[i], vio_drv_vq(drv, i), info);
		if (rc != 0)
			return give_up(drv, rc);
	}
	if (nqueues != NULL)
		*nqueues = n;
	return 0;
}
