/* SPDX-License-Identifier: MIT */
/**
 * @file chain.h
 * @brief A descriptor chain as the device half hands it out, and copy
 *        helpers over it.
 *
 * \defgroup vio_chain Popped chains (vio_chain)
 * @{
 * vio_devq_pop() turns one available descriptor chain into a ::vio_chain:
 * its id, byte totals and an array of mapped segments, readable ones first.
 * One descriptor may give several segments (it runs across adjacent memory
 * regions) and one request header may span several descriptors: the spec
 * forbids assuming any framing (virtio 1.4 §2.6.4 "Message Framing"). The
 * copy helpers and the cursor read and write at byte offsets across
 * segments, so a device model never needs to.
 *
 * Copies go to and from memory the driver shares; copy a request header out
 * once and validate the copy, never the shared bytes (the driver may change
 * them meanwhile).
 */
#ifndef VIO_CHAIN_H
#define VIO_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief One mapped piece of a popped chain. */
struct vio_chain_seg {
	void *ptr;     /**< Host address of @c len bytes (NULL when @c len is 0). */
	uint64_t addr; /**< Device-visible (guest) address of the first byte. */
	uint32_t len;  /**< Bytes. */
	bool write;    /**< Device-writable (else device-readable). */
	bool release;  /**< Mapped by the map callback and due for release (library-owned). */
};

/** @brief ::vio_chain::flags: the chain had more segments than the array. */
#define VIO_CHAIN_TRUNCATED 0x1u
/** @brief ::vio_chain::flags: some segments hold mappings that push or drop
 *         releases (the map callback asked for it). */
#define VIO_CHAIN_MAPPED 0x2u

/** @brief A chain taken by vio_devq_pop(); give it back with vio_devq_push(). */
struct vio_chain {
	uint16_t id;	/**< Split: head index; packed: buffer id. */
	uint16_t ndesc; /**< Ring slots the chain occupies (packed skip count). */
	uint16_t nseg;	/**< Segments in @c segs. */
	uint16_t nout;	/**< The first @c nout segments are readable, the rest writable. */
	/** Total readable bytes of the whole chain. */
	uint32_t out_bytes;
	/** Total writable bytes of the whole chain: the most vio_devq_push() accepts. */
	uint32_t in_bytes;
	/** ::VIO_CHAIN_TRUNCATED, ::VIO_CHAIN_MAPPED. A truncated chain's array holds its first
	 * `nseg - 1` segments and, last, the chain's final segment; the
	 * segments in between were validated and counted, not mapped. */
	uint16_t flags;
	/** Ring position of the first descriptor: split head index, packed slot
	 * (0 for a packed chain re-submitted from a copy: keep the copy). */
	uint16_t head;
	uint32_t gen; /**< The queue's generation at pop (a reset makes the chain stale). */
	/** The caller's segment array given to vio_devq_pop(); it must stay
	 * valid and unchanged until the chain is pushed or dropped (push and
	 * drop read it to log writes and release mappings). */
	struct vio_chain_seg *segs;
};

/**
 * @brief Copy bytes out of the readable part of @p c.
 * @param c   A popped chain.
 * @param off Byte offset into the readable part.
 * @param dst Destination.
 * @param len Bytes wanted.
 * @return Bytes copied: less than @p len when the readable part ends first.
 * @note Copies from driver memory; touches only the chain's segments.
 */
size_t vio_chain_read(const struct vio_chain *c, size_t off, void *dst, size_t len);

/**
 * @brief Copy bytes into the writable part of @p c.
 * @param c   A popped chain.
 * @param off Byte offset into the writable part.
 * @param src Source.
 * @param len Bytes to write.
 * @return Bytes copied: less than @p len when the writable part ends first.
 * @note Writes driver memory. vio_devq_push() logs the first `written`
 *       bytes of the writable part; report anything else you write with
 *       vio_devq_log_write().
 */
size_t vio_chain_write(const struct vio_chain *c, size_t off, const void *src, size_t len);

/** @brief A position in one part (readable or writable) of a chain. */
struct vio_chain_cursor {
	const struct vio_chain *chain; /**< The chain. */
	uint16_t seg;		       /**< Current segment index in the chain's array. */
	uint16_t end;		       /**< One past the part's last segment. */
	uint32_t off;		       /**< Offset within the current segment. */
	size_t pos;		       /**< Bytes consumed from the part's start. */
};

/**
 * @brief Start a cursor at byte 0 of the readable (@p write false) or
 *        writable part of @p c.
 * @param cur   The cursor.
 * @param c     A popped chain.
 * @param write Which part.
 */
void vio_chain_cursor_init(struct vio_chain_cursor *cur, const struct vio_chain *c, bool write);

/**
 * @brief Copy up to @p len bytes from the cursor (readable part) and advance.
 * @param cur A cursor on a readable part.
 * @param dst Destination.
 * @param len Bytes wanted.
 * @return Bytes copied (less at the part's end).
 */
size_t vio_chain_cursor_read(struct vio_chain_cursor *cur, void *dst, size_t len);

/**
 * @brief Copy up to @p len bytes to the cursor (writable part) and advance.
 * @param cur A cursor on a writable part.
 * @param src Source.
 * @param len Bytes to write.
 * @return Bytes copied (less at the part's end).
 */
size_t vio_chain_cursor_write(struct vio_chain_cursor *cur, const void *src, size_t len);

/**
 * @brief Advance the cursor by up to @p len bytes without copying.
 * @param cur A cursor.
 * @param len Bytes to skip.
 * @return Bytes skipped (less at the part's end).
 */
size_t vio_chain_cursor_skip(struct vio_chain_cursor *cur, size_t len);

/**
 * @brief Bytes left in the cursor's part.
 * @param cur A cursor.
 * @return Bytes from the cursor to the end of its part (of the segments in
 *         the array; see ::VIO_CHAIN_TRUNCATED).
 */
size_t vio_chain_cursor_left(const struct vio_chain_cursor *cur);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_CHAIN_H */
