/* SPDX-License-Identifier: MIT */
/**
 * @file vhost_user.h
 * @brief vhost-user protocol encodings that the transport builds from the
 *        ring layer's state: the `num` of GET/SET_VRING_BASE.
 *
 * \defgroup vio_vhost_user vhost-user encodings
 * @{
 * The ring layer offers the device-side position (struct vio_ring_state);
 * this header turns it into the 32-bit `num` of a vhost-user (or vhost ioctl)
 * VRING_BASE message and back. Real peers disagree on what the upper half of
 * a packed `num` means, so decoding takes an explicit convention
 * (enum vio_vhost_user_base_conv). docs/vhost-user-vring-base.md records
 * what each known peer sends and expects.
 *
 * The functions are pure: no callbacks, no shared state, callable from any
 * thread.
 */
#ifndef VIO_VHOST_USER_H
#define VIO_VHOST_USER_H

#include <stdint.h>

#include <virtio/queue.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @name Wire format of a vhost-user message
 *
 * From QEMU's docs/interop/vhost-user.rst ("Message Specification"). Unlike
 * virtio's shared memory, **every number is in the host's native byte
 * order**: both ends run on the same machine. A message is a 12-byte header
 * (struct vio_vhost_user_hdr) and `size` bytes of payload; file descriptors
 * ride as SCM_RIGHTS on the `sendmsg` of the header.
 * @{
 */

/** @brief Version in the low 2 bits of `flags` (currently 1). */
#define VIO_VHOST_USER_VERSION 0x1u
/** @brief Mask of the version bits of `flags`. */
#define VIO_VHOST_USER_VERSION_MASK 0x3u
/** @brief `flags` bit 2: the message is a reply (back end to front end). */
#define VIO_VHOST_USER_FLAG_REPLY (1u << 2)
/** @brief `flags` bit 3: the sender wants a REPLY_ACK (u64 0 = success). */
#define VIO_VHOST_USER_FLAG_NEED_REPLY (1u << 3)
/** @brief Bytes of the header. */
#define VIO_VHOST_USER_HDR_SIZE 12u
/** @brief Most memory regions in one SET_MEM_TABLE (VHOST_MEMORY_BASELINE_NREGIONS). */
#define VIO_VHOST_USER_MAX_REGIONS 8u
/** @brief Most file descriptors one message carries. */
#define VIO_VHOST_USER_MAX_FDS 8u
/** @brief Most bytes of configuration space one GET/SET_CONFIG carries. */
#define VIO_VHOST_USER_MAX_CONFIG_SIZE 256u
/** @brief Dirty-log page size: one log bit per 4 KiB of guest-physical memory. */
#define VIO_VHOST_LOG_PAGE 0x1000u
/** @brief Virtio feature bit 30 (a legacy reserved bit): the back end speaks
 *         GET/SET_PROTOCOL_FEATURES. Never offered to a virtio driver. */
#define VIO_VHOST_USER_F_PROTOCOL_FEATURES 30u
/** @brief Virtio feature bit 26 (VHOST_F_LOG_ALL): log every guest write. */
#define VIO_VHOST_F_LOG_ALL 26u
/** @brief vring_addr `flags` bit 0 (VHOST_VRING_F_LOG): log used-ring writes
 *         at `log_guest_addr`. */
#define VIO_VHOST_VRING_F_LOG 0x1u
/** @brief u64 payload of SET_VRING_KICK/CALL/ERR: bits 0–7 the queue index. */
#define VIO_VHOST_USER_VRING_IDX_MASK 0xffu
/** @brief u64 payload of SET_VRING_KICK/CALL/ERR: bit 8 set = no fd (polling). */
#define VIO_VHOST_USER_VRING_NOFD_MASK 0x100u

/** @brief Front-end request types (vhost-user.rst "Front-end message types"). */
enum vio_vhost_user_request {
	VIO_VHOST_USER_GET_FEATURES = 1,	   /**< reply u64 */
	VIO_VHOST_USER_SET_FEATURES = 2,	   /**< u64 */
	VIO_VHOST_USER_SET_OWNER = 3,		   /**< no payload */
	VIO_VHOST_USER_RESET_OWNER = 4,		   /**< deprecated, no payload */
	VIO_VHOST_USER_SET_MEM_TABLE = 5,	   /**< memory + one fd per region */
	VIO_VHOST_USER_SET_LOG_BASE = 6,	   /**< log + fd; reply u64 */
	VIO_VHOST_USER_SET_LOG_FD = 7,		   /**< fd */
	VIO_VHOST_USER_SET_VRING_NUM = 8,	   /**< vring state */
	VIO_VHOST_USER_SET_VRING_ADDR = 9,	   /**< vring addr */
	VIO_VHOST_USER_SET_VRING_BASE = 10,	   /**< vring state */
	VIO_VHOST_USER_GET_VRING_BASE = 11,	   /**< vring state; reply vring state */
	VIO_VHOST_USER_SET_VRING_KICK = 12,	   /**< u64 (+ fd) */
	VIO_VHOST_USER_SET_VRING_CALL = 13,	   /**< u64 (+ fd) */
	VIO_VHOST_USER_SET_VRING_ERR = 14,	   /**< u64 (+ fd) */
	VIO_VHOST_USER_GET_PROTOCOL_FEATURES = 15, /**< reply u64 */
	VIO_VHOST_USER_SET_PROTOCOL_FEATURES = 16, /**< u64 */
	VIO_VHOST_USER_GET_QUEUE_NUM = 17,	   /**< reply u64 */
	VIO_VHOST_USER_SET_VRING_ENABLE = 18,	   /**< vring state */
	VIO_VHOST_USER_SEND_RARP = 19,		   /**< u64 (net) */
	VIO_VHOST_USER_NET_SET_MTU = 20,	   /**< u64 (net) */
	VIO_VHOST_USER_SET_BACKEND_REQ_FD = 21,	   /**< fd */
	VIO_VHOST_USER_IOTLB_MSG = 22,		   /**< iotlb */
	VIO_VHOST_USER_SET_VRING_ENDIAN = 23,	   /**< vring state */
	VIO_VHOST_USER_GET_CONFIG = 24,		   /**< config; reply config */
	VIO_VHOST_USER_SET_CONFIG = 25,		   /**< config */
	VIO_VHOST_USER_CREATE_CRYPTO_SESSION = 26, /**< crypto */
	VIO_VHOST_USER_CLOSE_CRYPTO_SESSION = 27,  /**< crypto */
	VIO_VHOST_USER_POSTCOPY_ADVISE = 28,	   /**< postcopy */
	VIO_VHOST_USER_POSTCOPY_LISTEN = 29,	   /**< postcopy */
	VIO_VHOST_USER_POSTCOPY_END = 30,	   /**< postcopy */
	VIO_VHOST_USER_GET_INFLIGHT_FD = 31,	   /**< inflight; reply inflight + fd */
	VIO_VHOST_USER_SET_INFLIGHT_FD = 32,	   /**< inflight + fd */
	VIO_VHOST_USER_GPU_SET_SOCKET = 33,	   /**< fd (gpu) */
	VIO_VHOST_USER_RESET_DEVICE = 34,	   /**< no payload */
	VIO_VHOST_USER_VRING_KICK = 35,		   /**< vring state (in-band kick) */
	VIO_VHOST_USER_GET_MAX_MEM_SLOTS = 36,	   /**< reply u64 */
	VIO_VHOST_USER_ADD_MEM_REG = 37,	   /**< single region + fd */
	VIO_VHOST_USER_REM_MEM_REG = 38,	   /**< single region */
	VIO_VHOST_USER_SET_STATUS = 39,		   /**< u64 */
	VIO_VHOST_USER_GET_STATUS = 40		   /**< reply u64 */
};

/** @brief Protocol feature bits (GET/SET_PROTOCOL_FEATURES). */
enum vio_vhost_user_protocol_feature {
	VIO_VHOST_USER_PROTOCOL_F_MQ = 0,		     /**< GET_QUEUE_NUM */
	VIO_VHOST_USER_PROTOCOL_F_LOG_SHMFD = 1,	     /**< SET_LOG_BASE carries an fd */
	VIO_VHOST_USER_PROTOCOL_F_RARP = 2,		     /**< SEND_RARP (net) */
	VIO_VHOST_USER_PROTOCOL_F_REPLY_ACK = 3,	     /**< NEED_REPLY honoured */
	VIO_VHOST_USER_PROTOCOL_F_MTU = 4,		     /**< NET_SET_MTU */
	VIO_VHOST_USER_PROTOCOL_F_BACKEND_REQ = 5,	     /**< back-end channel */
	VIO_VHOST_USER_PROTOCOL_F_CROSS_ENDIAN = 6,	     /**< SET_VRING_ENDIAN */
	VIO_VHOST_USER_PROTOCOL_F_CRYPTO_SESSION = 7,	     /**< crypto sessions */
	VIO_VHOST_USER_PROTOCOL_F_PAGEFAULT = 8,	     /**< postcopy */
	VIO_VHOST_USER_PROTOCOL_F_CONFIG = 9,		     /**< GET/SET_CONFIG */
	VIO_VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD = 10,	     /**< fds on the back-end channel */
	VIO_VHOST_USER_PROTOCOL_F_HOST_NOTIFIER = 11,	     /**< host notifiers */
	VIO_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD = 12,	     /**< GET/SET_INFLIGHT_FD */
	VIO_VHOST_USER_PROTOCOL_F_RESET_DEVICE = 13,	     /**< RESET_DEVICE */
	VIO_VHOST_USER_PROTOCOL_F_INBAND_NOTIFICATIONS = 14, /**< VRING_KICK messages */
	VIO_VHOST_USER_PROTOCOL_F_CONFIGURE_MEM_SLOTS = 15,  /**< ADD/REM_MEM_REG */
	VIO_VHOST_USER_PROTOCOL_F_STATUS = 16		     /**< SET/GET_STATUS */
};

/** @brief Message header (host byte order). */
struct vio_vhost_user_hdr {
	uint32_t request; /**< enum vio_vhost_user_request */
	uint32_t flags;	  /**< version | REPLY | NEED_REPLY */
	uint32_t size;	  /**< payload bytes that follow */
};

/** @brief Payload "vring state": SET_VRING_NUM/BASE/ENABLE, GET_VRING_BASE. */
struct vio_vhost_user_vring_state {
	uint32_t index; /**< queue index */
	uint32_t num;	/**< size, base (see vio_vhost_user_vring_base_decode()) or enable */
};

/** @brief Payload "vring address": SET_VRING_ADDR. The three ring addresses are
 *         front-end *user* addresses (translate through a region's
 *         `user_addr`), unless VIRTIO_F_ACCESS_PLATFORM makes them IOVAs. */
struct vio_vhost_user_vring_addr {
	uint32_t index;		  /**< queue index */
	uint32_t flags;		  /**< ::VIO_VHOST_VRING_F_LOG */
	uint64_t desc_user_addr;  /**< descriptor table (packed: descriptor ring) */
	uint64_t used_user_addr;  /**< used ring (packed: device event suppression) */
	uint64_t avail_user_addr; /**< avail ring (packed: driver event suppression) */
	uint64_t log_guest_addr;  /**< guest-physical address logged for used-ring writes */
};

/** @brief One region of SET_MEM_TABLE (and, after 8 bytes of padding, of
 *         ADD/REM_MEM_REG). Its fd maps `mmap_offset + size` bytes. */
struct vio_vhost_user_mem_region {
	uint64_t guest_phys_addr; /**< guest-physical start (descriptor addresses) */
	uint64_t memory_size;	  /**< bytes */
	uint64_t user_addr;	  /**< front-end virtual start (ring addresses) */
	uint64_t mmap_offset;	  /**< offset of the region in its fd */
};

/** @brief Payload of SET_MEM_TABLE: `nregions` entries are meaningful; a
 *         sender may send only those (`size` = 8 + 32·nregions). */
struct vio_vhost_user_memory {
	uint32_t nregions; /**< 1 .. ::VIO_VHOST_USER_MAX_REGIONS */
	uint32_t padding;  /**< 0 */
	struct vio_vhost_user_mem_region regions[VIO_VHOST_USER_MAX_REGIONS]; /**< the regions */
};

/** @brief Payload of ADD_MEM_REG / REM_MEM_REG. */
struct vio_vhost_user_mem_reg {
	uint64_t padding;			 /**< 0 */
	struct vio_vhost_user_mem_region region; /**< the region */
};

/** @brief Payload of SET_LOG_BASE (with its fd). */
struct vio_vhost_user_log {
	uint64_t mmap_size;   /**< bytes of the log */
	uint64_t mmap_offset; /**< where guest address 0 is logged in the fd */
};

/** @brief Payload of GET/SET_CONFIG (header; `size` bytes follow in `region`). */
struct vio_vhost_user_config {
	uint32_t offset; /**< offset in the device configuration space */
	uint32_t size;	 /**< bytes, at most ::VIO_VHOST_USER_MAX_CONFIG_SIZE */
	uint32_t flags;	 /**< 0 writable fields, 1 live migration */
	uint8_t region[VIO_VHOST_USER_MAX_CONFIG_SIZE]; /**< the bytes */
};

/** @brief Payload of GET/SET_INFLIGHT_FD. */
struct vio_vhost_user_inflight {
	uint64_t mmap_size;   /**< bytes of the shared inflight area */
	uint64_t mmap_offset; /**< its offset in the fd */
	uint16_t num_queues;  /**< queues it tracks */
	uint16_t queue_size;  /**< entries per queue */
};

/** @} */

/**
 * @brief How the `num` of a packed-ring SET_VRING_BASE is read.
 *
 * The lower half (bits 0–14 avail slot, bit 15 avail wrap counter) means the
 * same to every peer. The upper half differs:
 */
enum vio_vhost_user_base_conv {
	/** Both halves (QEMU, the Linux vhost ioctls, the vhost-user spec):
	 * bits 16–30 used slot, bit 31 used wrap counter. */
	VIO_VHOST_USER_BASE_BOTH = 0,
	/** Avail half only (DPDK: its virtio-user front end sends 0x8000 for a
	 * fresh ring, its vhost library reads and replies only this half): the
	 * upper half is ignored and the used position is taken equal to the
	 * avail position, which is right when the ring was quiescent (every
	 * popped chain pushed back) when it was saved. */
	VIO_VHOST_USER_BASE_AVAIL_ONLY = 1,
	/** Guess per message: upper 16 bits zero ⇒ avail half only, anything
	 * else ⇒ both halves. Wrong in one case only: a both-halves peer whose
	 * used position is slot 0 with wrap counter 0 (the device has advanced
	 * it by an odd multiple of the queue size) while chains are in flight
	 * (avail ≠ used); the used position is then taken equal to the avail
	 * position. When nothing is in flight both readings agree. */
	VIO_VHOST_USER_BASE_AUTO = 2
};

/**
 * @brief Encode a ring position as the `num` of a GET_VRING_BASE reply (or
 *        of a SET_VRING_BASE a front end sends).
 *
 * Split: the 16-bit avail index; @c used_idx is not sent (the peer reads the
 * used index from the used ring in guest memory). Packed: both halves, bits
 * 0–14 avail slot, bit 15 avail wrap counter, bits 16–30 used slot, bit 31
 * used wrap counter: what QEMU and Linux decode, and a superset of what DPDK
 * reads (it ignores the upper half). @c inflight is not encoded: vhost-user
 * carries in-flight chains separately (the inflight-fd region of
 * VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD).
 *
 * @param st   The position, e.g. from vio_devq_get_state().
 * @param fmt  Ring format.
 * @param size Queue size; packed: 1 .. ::VIO_PACKED_MAX_SIZE; ignored for split.
 * @param num  Receives the encoded value; untouched on error.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Packed: @p size out of range, or a slot ≥ @p size.
 */
int vio_vhost_user_vring_base_encode(const struct vio_ring_state *st, enum vio_ring_format fmt,
				     uint16_t size, uint32_t *num);

/**
 * @brief Decode the `num` of a SET_VRING_BASE (or of a GET_VRING_BASE reply).
 *
 * Packed: read as @p conv says; both slots are checked against @p size.
 * Split: bits 0–15 are the avail index and bits 16–31 must be zero (the
 * Linux vhost ioctl rejects them too). vhost-user carries no used index for
 * split rings, so @c used_idx is set equal to @c avail_idx for information
 * only: a device half restoring a split ring takes the used index from the
 * used ring in guest memory, not from this field. @p conv does not apply.
 *
 * @c inflight is always 0: the chains in flight travel separately (the
 * inflight-fd region of VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) and the
 * embedder fills the field from there if it has them.
 *
 * @param num  The `num` from the peer (untrusted).
 * @param fmt  Ring format.
 * @param size Queue size; packed: 1 .. ::VIO_PACKED_MAX_SIZE; ignored for split.
 * @param conv Packed: how to read the upper half; ignored for split.
 * @param st   Receives the position; untouched on error.
 * @retval 0 Success.
 * @retval -VIO_EINVAL Packed: @p size out of range, a slot ≥ @p size, or an
 *         unknown @p conv; split: a nonzero upper half.
 */
int vio_vhost_user_vring_base_decode(uint32_t num, enum vio_ring_format fmt, uint16_t size,
				     enum vio_vhost_user_base_conv conv, struct vio_ring_state *st);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_VHOST_USER_H */
