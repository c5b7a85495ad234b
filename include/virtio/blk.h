/* SPDX-License-Identifier: MIT */
/**
 * @file blk.h
 * @brief virtio-blk wire format: feature bits, configuration layout,
 *        request header, request types and status values (virtio 1.4 §5.2).
 *
 * \defgroup vio_blk_wire virtio-blk wire format
 * @{
 * Values and layouts from the spec's "Block Device" chapter (device ID 2).
 * Every multi-byte field is little-endian (::vio_le16 and friends); read and
 * write them only through the le.h accessors. Sizes and offsets are checked
 * at compile time against the spec.
 *
 * A request is one descriptor chain: a device-readable ::vio_blk_req_hdr,
 * then the data (device-readable for writes, device-writable for reads), and
 * last one device-writable status byte. The spec lets the driver cut this
 * into descriptors anywhere (§2.6.4 "Message Framing").
 *
 * The device model is in blk_dev.h, the driver helper in blk_drv.h.
 */
#ifndef VIO_BLK_H
#define VIO_BLK_H

#include <stddef.h>
#include <stdint.h>

#include <virtio/le.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Feature bits (virtio 1.4 §5.2.3); bit numbers, not masks
 * @{ */
#define VIO_BLK_F_BARRIER 0	  /**< Legacy: request barriers. */
#define VIO_BLK_F_SIZE_MAX 1	  /**< Largest single segment is in @c size_max. */
#define VIO_BLK_F_SEG_MAX 2	  /**< Most segments in a request is in @c seg_max. */
#define VIO_BLK_F_GEOMETRY 4	  /**< Disk-style geometry in @c geometry. */
#define VIO_BLK_F_RO 5		  /**< The device is read-only. */
#define VIO_BLK_F_BLK_SIZE 6	  /**< Block size of the disk is in @c blk_size. */
#define VIO_BLK_F_SCSI 7	  /**< Legacy: SCSI packet commands. */
#define VIO_BLK_F_FLUSH 9	  /**< Cache flush command (legacy name: WCE). */
#define VIO_BLK_F_TOPOLOGY 10	  /**< Optimal I/O alignment in @c topology. */
#define VIO_BLK_F_CONFIG_WCE 11	  /**< The driver can toggle writeback / writethrough. */
#define VIO_BLK_F_MQ 12		  /**< Several request queues, count in @c num_queues. */
#define VIO_BLK_F_DISCARD 13	  /**< DISCARD requests; limits in the config. */
#define VIO_BLK_F_WRITE_ZEROES 14 /**< WRITE_ZEROES requests; limits in the config. */
#define VIO_BLK_F_LIFETIME 15	  /**< GET_LIFETIME requests. */
#define VIO_BLK_F_SECURE_ERASE 16 /**< SECURE_ERASE requests; limits in the config. */
#define VIO_BLK_F_ZONED 17	  /**< Zoned block device. */
/** @} */

/** @name Units
 * @{ */
/** @brief The protocol's sector: 512 bytes, whatever @c blk_size says (§5.2.5). */
#define VIO_BLK_SECTOR_SIZE 512u
/** @brief log2 of ::VIO_BLK_SECTOR_SIZE. */
#define VIO_BLK_SECTOR_SHIFT 9
/** @brief Length of the device ID string of a GET_ID request (NUL-padded, no
 *         terminator when all 20 bytes are used). */
#define VIO_BLK_ID_BYTES 20u
/** @} */

/** @brief Disk geometry (::VIO_BLK_F_GEOMETRY). */
struct vio_blk_geometry {
	vio_le16 cylinders; /**< Cylinders. */
	uint8_t heads;	    /**< Heads. */
	uint8_t sectors;    /**< Sectors per track. */
};

/** @brief I/O topology (::VIO_BLK_F_TOPOLOGY), in logical blocks. */
struct vio_blk_topology {
	uint8_t physical_block_exp; /**< log2 of logical blocks per physical block. */
	uint8_t alignment_offset;   /**< Offset of the first aligned logical block. */
	vio_le16 min_io_size;	    /**< Suggested minimum I/O size in blocks. */
	vio_le32 opt_io_size;	    /**< Optimal (suggested maximum) I/O size in blocks. */
};

/** @brief Zoned characteristics (::VIO_BLK_F_ZONED). */
struct vio_blk_zoned_characteristics {
	vio_le32 zone_sectors;	     /**< Zone size in 512-byte sectors. */
	vio_le32 max_open_zones;     /**< Most open zones (0: no limit). */
	vio_le32 max_active_zones;   /**< Most active zones (0: no limit). */
	vio_le32 max_append_sectors; /**< Largest ZONE_APPEND in sectors. */
	vio_le32 write_granularity;  /**< Write alignment in bytes. */
	uint8_t model;		     /**< ::VIO_BLK_Z_NONE, ::VIO_BLK_Z_HM or ::VIO_BLK_Z_HA. */
	uint8_t unused2[3];	     /**< Padding, 0. */
};

/** @name Zoned models (::vio_blk_zoned_characteristics::model)
 * @{ */
#define VIO_BLK_Z_NONE 0 /**< Not zoned, or drive-managed. */
#define VIO_BLK_Z_HM 1	 /**< Host-managed. */
#define VIO_BLK_Z_HA 2	 /**< Host-aware. */
/** @} */

/**
 * @brief The device configuration space (virtio 1.4 §5.2.4).
 *
 * Only @c capacity is always present; each other field exists when the
 * feature named next to it is offered. A device may expose a shorter
 * configuration space that ends after the last field it implements.
 */
struct vio_blk_config {
	vio_le64 capacity;		   /**< Size in 512-byte sectors. */
	vio_le32 size_max;		   /**< ::VIO_BLK_F_SIZE_MAX: largest segment, bytes. */
	vio_le32 seg_max;		   /**< ::VIO_BLK_F_SEG_MAX: most data segments. */
	struct vio_blk_geometry geometry;  /**< ::VIO_BLK_F_GEOMETRY. */
	vio_le32 blk_size;		   /**< ::VIO_BLK_F_BLK_SIZE: block size, bytes. */
	struct vio_blk_topology topology;  /**< ::VIO_BLK_F_TOPOLOGY. */
	uint8_t writeback;		   /**< ::VIO_BLK_F_CONFIG_WCE: 1 writeback, 0 through. */
	uint8_t unused0;		   /**< Padding, 0. */
	vio_le16 num_queues;		   /**< ::VIO_BLK_F_MQ: request queues. */
	vio_le32 max_discard_sectors;	   /**< ::VIO_BLK_F_DISCARD: per range. */
	vio_le32 max_discard_seg;	   /**< ::VIO_BLK_F_DISCARD: ranges per request. */
	vio_le32 discard_sector_alignment; /**< ::VIO_BLK_F_DISCARD: advisory alignment. */
	vio_le32 max_write_zeroes_sectors; /**< ::VIO_BLK_F_WRITE_ZEROES: per range. */
	vio_le32 max_write_zeroes_seg;	   /**< ::VIO_BLK_F_WRITE_ZEROES: ranges. */
	uint8_t write_zeroes_may_unmap;	   /**< ::VIO_BLK_F_WRITE_ZEROES: unmap honoured. */
	uint8_t unused1[3];		   /**< Padding, 0. */
	vio_le32 max_secure_erase_sectors; /**< ::VIO_BLK_F_SECURE_ERASE: per range. */
	vio_le32 max_secure_erase_seg;	   /**< ::VIO_BLK_F_SECURE_ERASE: ranges. */
	vio_le32 secure_erase_sector_alignment;	    /**< ::VIO_BLK_F_SECURE_ERASE: alignment. */
	struct vio_blk_zoned_characteristics zoned; /**< ::VIO_BLK_F_ZONED. */
};

/** @brief Size of ::vio_blk_config (every field). */
#define VIO_BLK_CONFIG_SIZE 96u

/** @name Configuration field offsets (for config-space accessors)
 * @{ */
#define VIO_BLK_CFG_CAPACITY 0u			 /**< le64 capacity. */
#define VIO_BLK_CFG_SIZE_MAX 8u			 /**< le32 size_max. */
#define VIO_BLK_CFG_SEG_MAX 12u			 /**< le32 seg_max. */
#define VIO_BLK_CFG_GEOMETRY 16u		 /**< geometry (4 bytes). */
#define VIO_BLK_CFG_BLK_SIZE 20u		 /**< le32 blk_size. */
#define VIO_BLK_CFG_TOPOLOGY 24u		 /**< topology (8 bytes). */
#define VIO_BLK_CFG_WRITEBACK 32u		 /**< u8 writeback. */
#define VIO_BLK_CFG_NUM_QUEUES 34u		 /**< le16 num_queues. */
#define VIO_BLK_CFG_MAX_DISCARD_SECTORS 36u	 /**< le32 max_discard_sectors. */
#define VIO_BLK_CFG_MAX_DISCARD_SEG 40u		 /**< le32 max_discard_seg. */
#define VIO_BLK_CFG_DISCARD_ALIGNMENT 44u	 /**< le32 discard_sector_alignment. */
#define VIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS 48u /**< le32 max_write_zeroes_sectors. */
#define VIO_BLK_CFG_MAX_WRITE_ZEROES_SEG 52u	 /**< le32 max_write_zeroes_seg. */
#define VIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP 56u	 /**< u8 write_zeroes_may_unmap. */
#define VIO_BLK_CFG_MAX_SECURE_ERASE_SECTORS 60u /**< le32 max_secure_erase_sectors. */
#define VIO_BLK_CFG_MAX_SECURE_ERASE_SEG 64u	 /**< le32 max_secure_erase_seg. */
#define VIO_BLK_CFG_SECURE_ERASE_ALIGNMENT 68u	 /**< le32 secure_erase_sector_alignment. */
#define VIO_BLK_CFG_ZONED 72u			 /**< zoned characteristics (24 bytes). */
/** @} */

/** @brief The request header: the first 16 device-readable bytes (§5.2.6). */
struct vio_blk_req_hdr {
	vio_le32 type;	   /**< ::VIO_BLK_T_IN and friends. */
	vio_le32 reserved; /**< Legacy @c ioprio; 0. */
	vio_le64 sector;   /**< First 512-byte sector (IN, OUT; 0 for the others). */
};

/** @name Request types (::vio_blk_req_hdr::type)
 * @{ */
#define VIO_BLK_T_IN 0		    /**< Read into the device-writable data. */
#define VIO_BLK_T_OUT 1		    /**< Write the device-readable data. */
#define VIO_BLK_T_SCSI_CMD 2	    /**< Legacy SCSI packet command. */
#define VIO_BLK_T_SCSI_CMD_OUT 3    /**< Legacy SCSI packet command. */
#define VIO_BLK_T_FLUSH 4	    /**< Flush the write cache. */
#define VIO_BLK_T_FLUSH_OUT 5	    /**< Legacy synonym of FLUSH. */
#define VIO_BLK_T_GET_ID 8	    /**< Device ID string (::VIO_BLK_ID_BYTES). */
#define VIO_BLK_T_GET_LIFETIME 10   /**< ::vio_blk_lifetime. */
#define VIO_BLK_T_DISCARD 11	    /**< Discard ranges. */
#define VIO_BLK_T_WRITE_ZEROES 13   /**< Write zeroes to ranges. */
#define VIO_BLK_T_SECURE_ERASE 14   /**< Securely erase ranges. */
#define VIO_BLK_T_ZONE_APPEND 15    /**< Zoned: append. */
#define VIO_BLK_T_ZONE_REPORT 16    /**< Zoned: report zones. */
#define VIO_BLK_T_ZONE_OPEN 18	    /**< Zoned: open a zone. */
#define VIO_BLK_T_ZONE_CLOSE 20	    /**< Zoned: close a zone. */
#define VIO_BLK_T_ZONE_FINISH 22    /**< Zoned: finish a zone. */
#define VIO_BLK_T_ZONE_RESET 24	    /**< Zoned: reset a zone. */
#define VIO_BLK_T_ZONE_RESET_ALL 26 /**< Zoned: reset all zones. */
/** @brief Legacy (::VIO_BLK_F_BARRIER): the high bit of @c type marks a barrier. */
#define VIO_BLK_T_BARRIER 0x80000000u
/** @} */

/** @name Status values (the last device-writable byte)
 * @{ */
#define VIO_BLK_S_OK 0			 /**< Success. */
#define VIO_BLK_S_IOERR 1		 /**< Device or driver error. */
#define VIO_BLK_S_UNSUPP 2		 /**< Request not supported. */
#define VIO_BLK_S_ZONE_INVALID_CMD 3	 /**< Zoned: invalid command. */
#define VIO_BLK_S_ZONE_UNALIGNED_WP 4	 /**< Zoned: write not at the write pointer. */
#define VIO_BLK_S_ZONE_OPEN_RESOURCE 5	 /**< Zoned: open zone limit exceeded. */
#define VIO_BLK_S_ZONE_ACTIVE_RESOURCE 6 /**< Zoned: active zone limit exceeded. */
/** @} */

/** @brief One range of a DISCARD, WRITE_ZEROES or SECURE_ERASE request. */
struct vio_blk_discard_write_zeroes {
	vio_le64 sector;      /**< First 512-byte sector. */
	vio_le32 num_sectors; /**< Sectors in the range. */
	vio_le32 flags;	      /**< ::VIO_BLK_DWZ_F_UNMAP; other bits reserved (0). */
};

/** @brief ::vio_blk_discard_write_zeroes::flags: WRITE_ZEROES may deallocate
 *         (must be 0 for DISCARD). A mask: bit 0. */
#define VIO_BLK_DWZ_F_UNMAP 0x1u

/** @brief Data of a GET_LIFETIME request. */
struct vio_blk_lifetime {
	vio_le16 pre_eol_info;		    /**< ::VIO_BLK_PRE_EOL_INFO_NORMAL and friends. */
	vio_le16 device_lifetime_est_typ_a; /**< SLC wear, 10% steps (0 undefined, 11 over). */
	vio_le16 device_lifetime_est_typ_b; /**< MLC wear, same scale. */
};

/** @name ::vio_blk_lifetime::pre_eol_info values
 * @{ */
#define VIO_BLK_PRE_EOL_INFO_UNDEFINED 0 /**< Not available. */
#define VIO_BLK_PRE_EOL_INFO_NORMAL 1	 /**< Under 80% of reserved blocks consumed. */
#define VIO_BLK_PRE_EOL_INFO_WARNING 2	 /**< 80% consumed. */
#define VIO_BLK_PRE_EOL_INFO_URGENT 3	 /**< 90% consumed. */
/** @} */

/** @cond VIO_INTERNAL */
VIO_STATIC_ASSERT(sizeof(struct vio_blk_geometry) == 4, "virtio 1.4 §5.2.4 geometry");
VIO_STATIC_ASSERT(sizeof(struct vio_blk_topology) == 8, "virtio 1.4 §5.2.4 topology");
VIO_STATIC_ASSERT(sizeof(struct vio_blk_zoned_characteristics) == 24, "virtio 1.4 §5.2.4 zoned");
VIO_STATIC_ASSERT(sizeof(struct vio_blk_config) == VIO_BLK_CONFIG_SIZE, "virtio 1.4 §5.2.4");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, size_max) == VIO_BLK_CFG_SIZE_MAX, "size_max");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, seg_max) == VIO_BLK_CFG_SEG_MAX, "seg_max");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, geometry) == VIO_BLK_CFG_GEOMETRY, "geometry");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, blk_size) == VIO_BLK_CFG_BLK_SIZE, "blk_size");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, topology) == VIO_BLK_CFG_TOPOLOGY, "topology");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, writeback) == VIO_BLK_CFG_WRITEBACK, "writeback");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, num_queues) == VIO_BLK_CFG_NUM_QUEUES,
		  "num_queues");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, max_discard_sectors) ==
			  VIO_BLK_CFG_MAX_DISCARD_SECTORS,
		  "max_discard_sectors");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, max_discard_seg) == VIO_BLK_CFG_MAX_DISCARD_SEG,
		  "max_discard_seg");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, discard_sector_alignment) ==
			  VIO_BLK_CFG_DISCARD_ALIGNMENT,
		  "discard_sector_alignment");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, max_write_zeroes_sectors) ==
			  VIO_BLK_CFG_MAX_WRITE_ZEROES_SECTORS,
		  "max_write_zeroes_sectors");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, max_write_zeroes_seg) ==
			  VIO_BLK_CFG_MAX_WRITE_ZEROES_SEG,
		  "max_write_zeroes_seg");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, write_zeroes_may_unmap) ==
			  VIO_BLK_CFG_WRITE_ZEROES_MAY_UNMAP,
		  "write_zeroes_may_unmap");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, max_secure_erase_sectors) ==
			  VIO_BLK_CFG_MAX_SECURE_ERASE_SECTORS,
		  "max_secure_erase_sectors");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, max_secure_erase_seg) ==
			  VIO_BLK_CFG_MAX_SECURE_ERASE_SEG,
		  "max_secure_erase_seg");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, secure_erase_sector_alignment) ==
			  VIO_BLK_CFG_SECURE_ERASE_ALIGNMENT,
		  "secure_erase_sector_alignment");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_config, zoned) == VIO_BLK_CFG_ZONED, "zoned");
VIO_STATIC_ASSERT(sizeof(struct vio_blk_req_hdr) == 16, "virtio 1.4 §5.2.6 request header");
VIO_STATIC_ASSERT(offsetof(struct vio_blk_req_hdr, sector) == 8, "request header sector");
VIO_STATIC_ASSERT(sizeof(struct vio_blk_discard_write_zeroes) == 16,
		  "virtio 1.4 §5.2.6 discard/write zeroes range");
VIO_STATIC_ASSERT(sizeof(struct vio_blk_lifetime) == 6, "virtio 1.4 §5.2.6 lifetime");
/** @endcond */

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_BLK_H */
