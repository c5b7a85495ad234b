/* SPDX-License-Identifier: MIT */
/**
 * @file errors.h
 * @brief Library error codes and their names.
 *
 * \defgroup vio_errors Error codes
 * @{
 * Fallible calls return 0 or a negative `-VIO_E…` code. The library never
 * sets `errno`, never aborts and never prints. Codes from a hostile peer
 * (everything from ::VIO_EDESC_HEAD on) also mark the queue broken: every
 * later call on it returns ::VIO_EBROKEN until it is reset.
 */
#ifndef VIO_ERRORS_H
#define VIO_ERRORS_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The error list: X(NAME, value, description).
 *
 * One list yields the enum, vio_strerror() and vio_err_name(). Values are
 * stable: new codes are appended.
 */
#define VIO_ERRNO_MAP(X)                                                                           \
	X(INVAL, 1, "invalid argument")                                                            \
	X(AGAIN, 2, "nothing to do now: no buffer available or completed")                         \
	X(NOSPC, 3, "not enough free descriptors or room in the caller's array")                   \
	X(BROKEN, 4, "queue is broken by an earlier peer error; reset it")                         \
	X(RING_MAP, 5, "a ring area was refused by the memory callback")                           \
	X(RING_ALIGN, 6, "a ring area address is not aligned as the spec requires")                \
	X(DESC_HEAD, 16, "available ring entry names a descriptor beyond the queue size")          \
	X(DESC_NEXT, 17, "descriptor next index beyond the table")                                 \
	X(DESC_LOOP, 18, "descriptor chain longer than the queue size (a loop)")                   \
	X(DESC_ORDER, 19, "device-readable descriptor after a device-writable one")                \
	X(LEN_OVERFLOW, 20, "chain total length reaches 2^32 bytes")                               \
	X(AVAIL_JUMP, 21, "available index moved further than the queue size")                     \
	X(MAP, 22, "buffer address refused by the memory callback")                                \
	X(INDIRECT_FEATURE, 23, "INDIRECT flag without VIRTIO_F_INDIRECT_DESC negotiated")         \
	X(INDIRECT_EMPTY, 24, "indirect table length is zero")                                     \
	X(INDIRECT_SIZE, 25, "indirect table length is not a multiple of 16")                      \
	X(INDIRECT_LONG, 26, "indirect table has more entries than the queue size")                \
	X(INDIRECT_MAP, 27, "indirect table address refused by the memory callback")               \
	X(INDIRECT_NESTED, 28, "INDIRECT flag inside an indirect table")                           \
	X(INDIRECT_NEXT, 29, "INDIRECT flag together with NEXT")                                   \
	X(DESC_ID, 30, "packed buffer id beyond the queue size")                                   \
	X(DESC_INFLIGHT, 31, "packed buffer id already in flight")                                 \
	X(USED_ID, 40, "used id beyond the queue size")                                            \
	X(USED_MIDCHAIN, 41, "used id names a descriptor inside a chain, not its head")            \
	X(USED_STALE, 42, "used id names no outstanding buffer (free or already completed)")       \
	X(USED_LEN, 43, "used length exceeds the writable bytes the buffer offered")               \
	X(USED_JUMP, 44, "used index moved further than the outstanding buffers")

/** @cond VIO_INTERNAL */
#define VIO__ERR_ENUM(name, value, text) VIO_E##name = value,
/** @endcond */

/** @brief Error codes; functions return their negation. */
enum vio_error {
	VIO_OK = 0, /**< Success. */
	VIO_ERRNO_MAP(VIO__ERR_ENUM)
};

/** @cond VIO_INTERNAL */
#undef VIO__ERR_ENUM
/** @endcond */

/**
 * @brief A sentence describing error @p err.
 * @param err 0, a `-VIO_E…` code or its positive value.
 * @return A static string; "unknown error" for values outside the list.
 */
const char *vio_strerror(int err);

/**
 * @brief The symbolic name of error @p err, e.g. "VIO_EDESC_LOOP".
 * @param err 0, a `-VIO_E…` code or its positive value.
 * @return A static string; "VIO_E?" for values outside the list.
 */
const char *vio_err_name(int err);

/**
 * @brief True if @p err reports a peer that broke the protocol.
 *
 * Such errors latch the queue into the broken state. The device side should
 * then set DEVICE_NEEDS_RESET; the driver side should stop using the device
 * and reset it.
 * @param err 0, a `-VIO_E…` code or its positive value.
 * @return Nonzero for a peer protocol violation, 0 otherwise.
 */
static inline int vio_err_is_peer(int err)
{
	/* Negate in unsigned arithmetic: -INT_MIN is undefined. */
	unsigned e = err < 0 ? 0u - (unsigned)err : (unsigned)err;
	return (e >= VIO_EDESC_HEAD && e <= VIO_EDESC_INFLIGHT) ||
	       (e >= VIO_EUSED_ID && e <= VIO_EUSED_JUMP);
}

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_ERRORS_H */
