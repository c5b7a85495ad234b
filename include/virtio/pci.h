/* SPDX-License-Identifier: MIT */
/**
 * @file pci.h
 * @brief virtio-pci (modern) wire format: IDs, vendor capabilities, the
 *        common configuration structure, ISR bits (no behaviour).
 *
 * \defgroup vio_pci_regs virtio-pci layout
 * @{
 * From virtio 1.4 §4.1 "Virtio Over PCI Bus": §4.1.2 (discovery IDs),
 * §4.1.4 (the virtio structure capabilities), §4.1.4.3 (common
 * configuration), §4.1.4.4 (notification), §4.1.4.5 (ISR status), §4.1.4.9
 * (PCI configuration access), §4.1.5.1.2 (MSI-X vectors). Multi-byte fields
 * are little-endian; capability fields are plain bytes or vio_le types.
 *
 * The device-side register model and the driver-side front both use these
 * names. Standard PCI configuration header offsets used by both are here
 * too (from the PCI Local Bus specification, which virtio references).
 */
#ifndef VIO_PCI_H
#define VIO_PCI_H

#include <stddef.h>
#include <stdint.h>

#include <virtio/le.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @name Discovery (§4.1.2)
 * @{ */
#define VIO_PCI_VENDOR_ID 0x1af4u	      /**< PCI Vendor ID of every virtio device. */
#define VIO_PCI_DEVICE_ID_BASE 0x1040u	      /**< Modern Device ID = this + virtio device ID. */
#define VIO_PCI_DEVICE_ID_LAST 0x107fu	      /**< Last modern Device ID. */
#define VIO_PCI_DEVICE_ID_TRANS_FIRST 0x1000u /**< First transitional Device ID. */
#define VIO_PCI_DEVICE_ID_TRANS_LAST 0x103fu  /**< Last transitional Device ID. */
/** @brief Non-transitional devices SHOULD have revision 1 or higher. */
#define VIO_PCI_REVISION_MODERN 1u
/** @} */

/** @name Standard type-0 configuration header offsets (PCI Local Bus spec)
 * @{ */
#define VIO_PCI_CFG_VENDOR_ID 0x00	  /**< 16 bits. */
#define VIO_PCI_CFG_DEVICE_ID 0x02	  /**< 16 bits. */
#define VIO_PCI_CFG_COMMAND 0x04	  /**< 16 bits. */
#define VIO_PCI_CFG_STATUS 0x06		  /**< 16 bits; bit 4: capability list present. */
#define VIO_PCI_CFG_REVISION 0x08	  /**< 8 bits. */
#define VIO_PCI_CFG_CLASS_PROG 0x09	  /**< 8 bits: programming interface. */
#define VIO_PCI_CFG_CLASS_SUB 0x0a	  /**< 8 bits: subclass. */
#define VIO_PCI_CFG_CLASS_BASE 0x0b	  /**< 8 bits: base class. */
#define VIO_PCI_CFG_CACHE_LINE_SIZE 0x0c  /**< 8 bits. */
#define VIO_PCI_CFG_LATENCY_TIMER 0x0d	  /**< 8 bits. */
#define VIO_PCI_CFG_HEADER_TYPE 0x0e	  /**< 8 bits; 0 for a type-0 header. */
#define VIO_PCI_CFG_BIST 0x0f		  /**< 8 bits. */
#define VIO_PCI_CFG_BAR0 0x10		  /**< Six 32-bit BARs, 0x10 .. 0x27. */
#define VIO_PCI_CFG_CARDBUS_CIS 0x28	  /**< 32 bits. */
#define VIO_PCI_CFG_SUBSYS_VENDOR_ID 0x2c /**< 16 bits. */
#define VIO_PCI_CFG_SUBSYS_ID 0x2e	  /**< 16 bits. */
#define VIO_PCI_CFG_ROM_ADDRESS 0x30	  /**< 32 bits: expansion ROM BAR. */
#define VIO_PCI_CFG_CAP_PTR 0x34	  /**< 8 bits: first capability. */
#define VIO_PCI_CFG_INTERRUPT_LINE 0x3c	  /**< 8 bits. */
#define VIO_PCI_CFG_INTERRUPT_PIN 0x3d	  /**< 8 bits; 1..4 = INTA#..INTD#, 0 none. */
#define VIO_PCI_CFG_MIN_GNT 0x3e	  /**< 8 bits. */
#define VIO_PCI_CFG_MAX_LAT 0x3f	  /**< 8 bits. */
#define VIO_PCI_CFG_SPACE_SIZE 256u	  /**< Conventional configuration space. */
#define VIO_PCI_STATUS_CAP_LIST 0x10u	  /**< Status bit: capability list present. */
#define VIO_PCI_CAP_ID_VNDR 0x09u	  /**< Vendor-specific capability ID. */
#define VIO_PCI_CAP_ID_MSIX 0x11u	  /**< MSI-X capability ID. */
#define VIO_PCI_NUM_BARS 6u		  /**< BARs of a type-0 header. */
/** @} */

/** @name Command and Status register bits (PCI Local Bus spec 3.0 §6.2.2)
 * @{ */
#define VIO_PCI_COMMAND_IO 0x0001u	     /**< I/O Space enable. */
#define VIO_PCI_COMMAND_MEMORY 0x0002u	     /**< Memory Space enable. */
#define VIO_PCI_COMMAND_MASTER 0x0004u	     /**< Bus Master enable. */
#define VIO_PCI_COMMAND_PARITY 0x0040u	     /**< Parity Error Response. */
#define VIO_PCI_COMMAND_SERR 0x0100u	     /**< SERR# enable. */
#define VIO_PCI_COMMAND_INTX_DISABLE 0x0400u /**< Interrupt Disable (INTx# not asserted). */
#define VIO_PCI_STATUS_INTERRUPT 0x0008u     /**< Status: INTx# interrupt pending. */
/** @} */

/** @name Memory BAR low bits (PCI Local Bus spec 3.0 §6.2.5.1)
 * @{ */
#define VIO_PCI_BAR_SPACE_IO 0x1u    /**< Bit 0: I/O space (0: memory). */
#define VIO_PCI_BAR_MEM_TYPE_64 0x4u /**< Bits 2:1 = 10b: 64-bit, the next BAR holds bits 32–63. */
#define VIO_PCI_BAR_MEM_PREFETCH 0x8u	 /**< Bit 3: prefetchable. */
#define VIO_PCI_BAR_MEM_FLAGS_MASK 0xfu	 /**< Read-only low bits of a memory BAR. */
#define VIO_PCI_BAR_MEM_TYPE_MASK 0x6u	 /**< Memory BAR bits 2:1: locatable type. */
#define VIO_PCI_BAR_MEM_MASK 0xfffffff0u /**< Address bits of a memory BAR's low dword. */
#define VIO_PCI_BAR_IO_MASK 0xfffffffcu	 /**< Address bits of an I/O BAR. */
#define VIO_PCI_CAP_PTR_MIN 0x40u	 /**< Capabilities live past the standard header. */
/** @} */

/** @name MSI-X capability (PCI Local Bus spec 3.0 §6.8.2)
 *
 * The capability is 12 bytes: ID and next pointer, then Message Control
 * (16 bits) at +2, Table Offset/BIR at +4 and PBA Offset/BIR at +8 (32 bits
 * each: the BAR index in bits 0–2, the 8-byte aligned offset in 3–31). The
 * table holds 16-byte entries (Message Address, Message Upper Address,
 * Message Data, Vector Control with the Mask bit 0), the Pending Bit Array
 * one bit per vector in 64-bit words. Values checked against the PCI spec
 * and Linux's `<linux/pci_regs.h>` (tests/compat/linux_coexist.c).
 * @{ */
#define VIO_PCI_MSIX_FLAGS 2u		   /**< Message Control offset in the capability. */
#define VIO_PCI_MSIX_FLAGS_QSIZE 0x07ffu   /**< Message Control: Table Size - 1 (read-only). */
#define VIO_PCI_MSIX_FLAGS_MASKALL 0x4000u /**< Message Control: Function Mask. */
#define VIO_PCI_MSIX_FLAGS_ENABLE 0x8000u  /**< Message Control: MSI-X Enable. */
#define VIO_PCI_MSIX_TABLE 4u		   /**< Table Offset/BIR offset in the capability. */
#define VIO_PCI_MSIX_PBA 8u		   /**< PBA Offset/BIR offset in the capability. */
#define VIO_PCI_MSIX_BIR_MASK 0x7u	   /**< BAR Indicator bits of Table/PBA Offset. */
#define VIO_PCI_MSIX_CAP_SIZE 12u	   /**< Bytes of the MSI-X capability. */
#define VIO_PCI_MSIX_ENTRY_SIZE 16u	   /**< Bytes of one table entry. */
#define VIO_PCI_MSIX_ENTRY_LOWER_ADDR 0u   /**< Entry: Message Address (bits 1:0 are 0). */
#define VIO_PCI_MSIX_ENTRY_UPPER_ADDR 4u   /**< Entry: Message Upper Address. */
#define VIO_PCI_MSIX_ENTRY_DATA 8u	   /**< Entry: Message Data. */
#define VIO_PCI_MSIX_ENTRY_VECTOR_CTRL 12u /**< Entry: Vector Control. */
#define VIO_PCI_MSIX_ENTRY_CTRL_MASKBIT 1u /**< Vector Control: Mask bit (set at reset). */
#define VIO_PCI_MSIX_MAX_VECTORS 2048u	   /**< Table Size field limit (and §4.1.5.1.2's 0x800). */
/** @} */

/** @name Field offsets inside a virtio structure capability (§4.1.4)
 * @{ */
#define VIO_PCI_CAP_OFF_CFG_TYPE 3u /**< virtio_pci_cap.cfg_type. */
#define VIO_PCI_CAP_OFF_BAR 4u	    /**< virtio_pci_cap.bar. */
#define VIO_PCI_CAP_OFF_OFFSET 8u   /**< virtio_pci_cap.offset. */
#define VIO_PCI_CAP_OFF_LENGTH 12u  /**< virtio_pci_cap.length. */
#define VIO_PCI_NOTIFY_CAP_MULT 16u /**< virtio_pci_notify_cap.notify_off_multiplier. */
#define VIO_PCI_CFG_CAP_DATA 16u    /**< virtio_pci_cfg_cap.pci_cfg_data. */
/** @} */

/** @name Virtio structure types: virtio_pci_cap.cfg_type (§4.1.4)
 * @{ */
#define VIO_PCI_CAP_COMMON_CFG 1u	 /**< Common configuration. */
#define VIO_PCI_CAP_NOTIFY_CFG 2u	 /**< Notifications. */
#define VIO_PCI_CAP_ISR_CFG 3u		 /**< ISR status. */
#define VIO_PCI_CAP_DEVICE_CFG 4u	 /**< Device-specific configuration. */
#define VIO_PCI_CAP_PCI_CFG 5u		 /**< PCI configuration access. */
#define VIO_PCI_CAP_SHARED_MEMORY_CFG 8u /**< Shared memory region. */
#define VIO_PCI_CAP_VENDOR_CFG 9u	 /**< Vendor data. */
/** @} */

/** @brief A virtio structure capability (§4.1.4): 16 bytes in configuration space. */
struct vio_pci_cap {
	uint8_t cap_vndr;   /**< #VIO_PCI_CAP_ID_VNDR. */
	uint8_t cap_next;   /**< Offset of the next capability, 0 at the end. */
	uint8_t cap_len;    /**< Length of this capability, in bytes. */
	uint8_t cfg_type;   /**< VIO_PCI_CAP_*_CFG. */
	uint8_t bar;	    /**< BAR holding the structure (0..5). */
	uint8_t id;	    /**< Tells apart capabilities of one type. */
	uint8_t padding[2]; /**< Reserved. */
	vio_le32 offset;    /**< Offset of the structure in the BAR. */
	vio_le32 length;    /**< Length of the structure, in bytes. */
};

/** @brief A capability with 64-bit offset and length (shared memory, §4.1.4). */
struct vio_pci_cap64 {
	struct vio_pci_cap cap; /**< Low halves in cap.offset / cap.length. */
	vio_le32 offset_hi;	/**< Offset, bits 32–63. */
	vio_le32 length_hi;	/**< Length, bits 32–63. */
};

/** @brief The notification capability (§4.1.4.4). */
struct vio_pci_notify_cap {
	struct vio_pci_cap cap; /**< cfg_type #VIO_PCI_CAP_NOTIFY_CFG. */
	vio_le32
		notify_off_multiplier; /**< Queue notify address = offset + queue_notify_off × this. */
};

/** @brief The PCI configuration access capability (§4.1.4.9). */
struct vio_pci_cfg_cap {
	struct vio_pci_cap cap;	 /**< cfg_type #VIO_PCI_CAP_PCI_CFG; bar/offset/length select. */
	uint8_t pci_cfg_data[4]; /**< Window onto the selected BAR bytes. */
};

/** @brief The common configuration structure (§4.1.4.3), 64 bytes. */
struct vio_pci_common_cfg {
	vio_le32 device_feature_select;	  /**< RW: word of device_feature. */
	vio_le32 device_feature;	  /**< RO: 32 offered feature bits. */
	vio_le32 driver_feature_select;	  /**< RW: word of driver_feature. */
	vio_le32 driver_feature;	  /**< RW: 32 accepted feature bits. */
	vio_le16 config_msix_vector;	  /**< RW: configuration change vector. */
	vio_le16 num_queues;		  /**< RO: queues the device has. */
	uint8_t device_status;		  /**< RW: device status; 0 resets. */
	uint8_t config_generation;	  /**< RO: configuration atomicity value. */
	vio_le16 queue_select;		  /**< RW: queue the fields below act on. */
	vio_le16 queue_size;		  /**< RW: queue size (maximum on reset). */
	vio_le16 queue_msix_vector;	  /**< RW: the queue's vector. */
	vio_le16 queue_enable;		  /**< RW: 1 enables the queue. */
	vio_le16 queue_notify_off;	  /**< RO: notification offset of the queue. */
	vio_le64 queue_desc;		  /**< RW: descriptor area. */
	vio_le64 queue_driver;		  /**< RW: driver area. */
	vio_le64 queue_device;		  /**< RW: device area. */
	vio_le16 queue_notif_config_data; /**< RO: with NOTIF_CONFIG_DATA. */
	vio_le16 queue_reset;		  /**< RW: 1 resets the queue (RING_RESET). */
	vio_le16 admin_queue_index;	  /**< RO: with ADMIN_VQ. */
	vio_le16 admin_queue_num;	  /**< RO: with ADMIN_VQ. */
};

/** @name Offsets in struct vio_pci_common_cfg (§4.1.4.3)
 * @{ */
#define VIO_PCI_COMMON_DFSELECT 0	/**< device_feature_select (32). */
#define VIO_PCI_COMMON_DF 4		/**< device_feature (32). */
#define VIO_PCI_COMMON_GFSELECT 8	/**< driver_feature_select (32). */
#define VIO_PCI_COMMON_GF 12		/**< driver_feature (32). */
#define VIO_PCI_COMMON_MSIX 16		/**< config_msix_vector (16). */
#define VIO_PCI_COMMON_NUMQ 18		/**< num_queues (16). */
#define VIO_PCI_COMMON_STATUS 20	/**< device_status (8). */
#define VIO_PCI_COMMON_CFGGENERATION 21 /**< config_generation (8). */
#define VIO_PCI_COMMON_Q_SELECT 22	/**< queue_select (16). */
#define VIO_PCI_COMMON_Q_SIZE 24	/**< queue_size (16). */
#define VIO_PCI_COMMON_Q_MSIX 26	/**< queue_msix_vector (16). */
#define VIO_PCI_COMMON_Q_ENABLE 28	/**< queue_enable (16). */
#define VIO_PCI_COMMON_Q_NOFF 30	/**< queue_notify_off (16). */
#define VIO_PCI_COMMON_Q_DESCLO 32	/**< queue_desc, bits 0–31. */
#define VIO_PCI_COMMON_Q_DESCHI 36	/**< queue_desc, bits 32–63. */
#define VIO_PCI_COMMON_Q_AVAILLO 40	/**< queue_driver, bits 0–31. */
#define VIO_PCI_COMMON_Q_AVAILHI 44	/**< queue_driver, bits 32–63. */
#define VIO_PCI_COMMON_Q_USEDLO 48	/**< queue_device, bits 0–31. */
#define VIO_PCI_COMMON_Q_USEDHI 52	/**< queue_device, bits 32–63. */
#define VIO_PCI_COMMON_Q_NDATA 56	/**< queue_notif_config_data (16). */
#define VIO_PCI_COMMON_Q_RESET 58	/**< queue_reset (16). */
#define VIO_PCI_COMMON_ADM_Q_IDX 60	/**< admin_queue_index (16). */
#define VIO_PCI_COMMON_ADM_Q_NUM 62	/**< admin_queue_num (16). */
#define VIO_PCI_COMMON_SIZE 64u		/**< sizeof(struct vio_pci_common_cfg). */
/** @} */

/** @name ISR status bits (§4.1.4.5); reading the ISR clears it
 * @{ */
#define VIO_PCI_ISR_QUEUE 1u  /**< Bit 0: queue interrupt. */
#define VIO_PCI_ISR_CONFIG 2u /**< Bit 1: device configuration interrupt. */
/** @} */

/** @brief No MSI-X vector (§4.1.5.1.2): no interrupt for that event. */
#define VIO_PCI_MSI_NO_VECTOR 0xffffu

VIO_STATIC_ASSERT(sizeof(struct vio_pci_cap) == 16, "virtio 1.4 §4.1.4: virtio_pci_cap");
VIO_STATIC_ASSERT(sizeof(struct vio_pci_cap64) == 24, "virtio 1.4 §4.1.4: virtio_pci_cap64");
VIO_STATIC_ASSERT(sizeof(struct vio_pci_notify_cap) == 20, "virtio 1.4 §4.1.4.4");
VIO_STATIC_ASSERT(sizeof(struct vio_pci_cfg_cap) == 20, "virtio 1.4 §4.1.4.9");
VIO_STATIC_ASSERT(sizeof(struct vio_pci_common_cfg) == VIO_PCI_COMMON_SIZE, "virtio 1.4 §4.1.4.3");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_cap, bar) == VIO_PCI_CAP_OFF_BAR, "cap.bar");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_cap, offset) == VIO_PCI_CAP_OFF_OFFSET, "cap.offset");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_cap, length) == VIO_PCI_CAP_OFF_LENGTH, "cap.length");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_notify_cap, notify_off_multiplier) ==
			  VIO_PCI_NOTIFY_CAP_MULT,
		  "notify_off_multiplier");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_cfg_cap, pci_cfg_data) == VIO_PCI_CFG_CAP_DATA,
		  "pci_cfg_data");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_common_cfg, device_status) == VIO_PCI_COMMON_STATUS,
		  "device_status");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_common_cfg, queue_enable) == VIO_PCI_COMMON_Q_ENABLE,
		  "queue_enable");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_common_cfg, queue_desc) == VIO_PCI_COMMON_Q_DESCLO,
		  "queue_desc");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_common_cfg, queue_device) == VIO_PCI_COMMON_Q_USEDLO,
		  "queue_device");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_common_cfg, queue_reset) == VIO_PCI_COMMON_Q_RESET,
		  "queue_reset");
VIO_STATIC_ASSERT(offsetof(struct vio_pci_common_cfg, admin_queue_num) == VIO_PCI_COMMON_ADM_Q_NUM,
		  "admin_queue_num");

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_PCI_H */
