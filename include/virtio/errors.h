/* SPDX-License-Identifier: MIT */
/**
 * @file errors.h
 * @brief Library error codes and their names.
 *
 * \defgroup vio_errors Error codes
 * @{
 * Fallible calls return 0 or a negative `-VIO_E…` code. The library never
 * sets `errno`, never aborts and never prints. Codes from a hostile peer
 * (vio_err_is_peer()) also mark the queue broken: every later call on it
 * returns ::VIO_EBROKEN until it is reset. The driver core (driver.h)
 * answers a lying device (::VIO_ETIMEOUT, ::VIO_EDEVICE, ::VIO_EGENERATION)
 * by writing FAILED and latching the code until the device is reset.
 */
#ifndef VIO_ERRORS_H
#define VIO_ERRORS_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief The error list: X(NAME, value, peer, description).
 *
 * One list yields the enum, vio_strerror(), vio_err_name() and
 * vio_err_is_peer(). @c peer is 1 for a code that reports a peer breaking the
 * protocol (the queue that returned it is now broken), 0 otherwise. Values
 * are stable: new codes take unused values.
 */
#define VIO_ERRNO_MAP(X)                                                                           \
	X(INVAL, 1, 0, "invalid argument")                                                         \
	X(AGAIN, 2, 0, "nothing to do now: no buffer available or completed")                      \
	X(NOSPC, 3, 0, "not enough free descriptors or room in the caller's array")                \
	X(BROKEN, 4, 0, "queue is broken by an earlier peer error; reset it")                      \
	X(RING_MAP, 5, 0, "a ring area was refused by the memory callback")                        \
	X(RING_ALIGN, 6, 0, "a ring area address is not aligned as the spec requires")             \
	X(MAP_AGAIN, 7, 0, "memory cannot be mapped now (e.g. an IOTLB miss); retry later")        \
	X(DMA, 8, 0, "the driver's address conversion callback failed")                            \
	X(DESC_HEAD, 16, 1, "available ring entry names a descriptor beyond the queue size")       \
	X(DESC_NEXT, 17, 1, "descriptor next index beyond the table")                              \
	X(DESC_LOOP, 18, 1, "descriptor chain longer than the queue size (a loop)")                \
	X(DESC_ORDER, 19, 1, "device-readable descriptor after a device-writable one")             \
	X(LEN_OVERFLOW, 20, 1, "chain total length reaches 2^32 bytes")                            \
	X(AVAIL_JUMP, 21, 1, "available index moved further than the queue size")                  \
	X(MAP, 22, 1, "buffer address outside the memory granted to the device")                   \
	X(INDIRECT_FEATURE, 23, 1, "INDIRECT flag without VIRTIO_F_INDIRECT_DESC negotiated")      \
	X(INDIRECT_EMPTY, 24, 1, "indirect table length is zero")                                  \
	X(INDIRECT_SIZE, 25, 1, "indirect table length is not a multiple of 16")                   \
	X(INDIRECT_LONG, 26, 1, "indirect table has more entries than the queue size")             \
	X(INDIRECT_MAP, 27, 1, "indirect table outside the memory granted to the device")          \
	X(INDIRECT_NESTED, 28, 1, "INDIRECT flag inside an indirect table")                        \
	X(INDIRECT_NEXT, 29, 1, "INDIRECT flag together with NEXT")                                \
	X(DESC_ID, 30, 1, "packed buffer id beyond the queue size")                                \
	X(DESC_INFLIGHT, 31, 1, "packed buffer id already in flight")                              \
	X(REQUEST, 32, 1, "the device model rejected a request from the driver")                   \
	X(COMPLETION, 33, 1, "the driver rejected a completion from the device")                   \
	X(USED_ID, 40, 1, "used id beyond the queue size")                                         \
	X(USED_MIDCHAIN, 41, 1, "used id names a descriptor inside a chain, not its head")         \
	X(USED_STALE, 42, 1, "used id names no outstanding buffer (free or already completed)")    \
	X(USED_LEN, 43, 1, "used length exceeds the writable bytes the buffer offered")            \
	X(USED_JUMP, 44, 1, "used index moved further than the outstanding buffers")               \
	X(STATUS, 48, 1, "device status write refused: clears a bit, skips a step or unknown bit") \
	X(FEATURES, 49, 1, "driver accepted a feature not offered, or not VIRTIO_F_VERSION_1")     \
	X(FEATURES_VETO, 50, 0, "the device model refused the accepted feature combination")       \
	X(QUEUE_STATE, 51, 1, "queue access refused: no such queue, queue enabled, or too early")  \
	X(QUEUE_SIZE, 52, 1, "queue size is zero, above the maximum or invalid for the format")    \
	X(REG, 53, 1, "register access at an undefined offset, of a wrong width or direction")     \
	X(DEVICE_STATE, 54, 0, "not possible in the device's current status")                      \
	X(STATE_BLOB, 55, 0, "saved device state is malformed or does not match this device")      \
	X(NODEV, 56, 0, "no such device (ID 0 or another type) or queue (maximum 0)")              \
	X(NOT_VIRTIO, 57, 0, "not a virtio device: wrong magic value or PCI IDs")                  \
	X(LEGACY, 58, 0, "unsupported transport version: legacy (version 1) or unknown")           \
	X(TIMEOUT, 59, 1, "device did not finish a reset or suspend within the bounded wait")      \
	X(NEGOTIATE, 60, 0,                                                                        \
	  "feature negotiation failed (missing, vetoed, or FEATURES_OK refused)")                  \
	X(DEVICE, 61, 1, "device register read back a value the transport protocol forbids")       \
	X(GENERATION, 62, 1, "configuration generation kept changing (bounded retries ran out)")   \
	X(NEEDS_RESET, 63, 0, "the device set DEVICE_NEEDS_RESET: reset and re-initialise it")     \
	X(BLK_NO_STATUS, 64, 1, "block request has no device-writable status byte to answer in")   \
	X(BLK_STATUS, 65, 1, "block device wrote a status value that is not defined")              \
	X(BLK_USED_LEN, 66, 1,                                                                     \
	  "block device reported success but fewer bytes than it had to write")                    \
	X(BLK_CONFIG, 67, 1, "block device configuration holds invalid values")                    \
	X(BLK_FEATURE, 68, 0, "request not allowed by the negotiated features or device limits")   \
	X(RNG_READABLE, 69, 1, "entropy request holds a device-readable buffer")                   \
	X(RNG_EMPTY, 70, 1, "entropy device returned a buffer with no random bytes")               \
	X(VECTOR, 72, 1, "MSI-X vector outside the device's table: not mapped (reads NO_VECTOR)")  \
	X(PCI_CAP, 76, 1,                                                                          \
	  "PCI capability list is malformed (a loop, a pointer out of range or misaligned, "       \
	  "a capability shorter than its structure)")                                              \
	X(PCI_REGION, 77, 1,                                                                       \
	  "virtio PCI structure unusable: reserved or absent BAR, outside the BAR, "               \
	  "misaligned or too short")                                                               \
	X(PCI_MISSING, 78, 1, "a required virtio PCI structure (common, notify, ISR) is missing")  \
	X(VHOST_MSG, 80, 1,                                                                        \
	  "vhost-user message malformed: version, flags or payload size wrong for its request")    \
	X(VHOST_FDS, 81, 1, "vhost-user message carries a wrong number of file descriptors")       \
	X(VHOST_UNSUPPORTED, 82, 0, "vhost-user request unknown or not implemented by this end")   \
	X(VHOST_ORDER, 83, 1,                                                                      \
	  "vhost-user request before what it depends on (features, memory table, ring setup)")     \
	X(VHOST_MEM_TABLE, 84, 1,                                                                  \
	  "vhost-user memory table invalid: empty, overlapping, wrapping or too many regions")     \
	X(VHOST_ADDR, 85, 1, "vhost-user ring address outside the memory table")                   \
	X(VHOST_QUEUE, 86, 1, "vhost-user queue index beyond the device's queues")                 \
	X(VHOST_SYS, 87, 0,                                                                        \
	  "a system call of the vhost-user platform layer failed (mmap, socket)")                  \
	X(VHOST_REPLY, 88, 1,                                                                      \
	  "vhost-user back end sent a malformed reply (request, flags, version or size)")          \
	X(VHOST_IO, 89, 0, "vhost-user connection failed: socket error or closed by the back end") \
	X(VHOST_NACK, 90, 0, "vhost-user back end refused a request (non-zero REPLY_ACK)")         \
	X(VHOST_TIMEOUT, 91, 1, "vhost-user back end did not answer within the bounded wait")      \
	X(INFLIGHT_HEADER, 92, 1,                                                                  \
	  "vhost-user inflight region header unusable: version, queue size or area size")          \
	X(INFLIGHT_LINK, 93, 1,                                                                    \
	  "vhost-user inflight region entries inconsistent: an index out of range, a loop, "       \
	  "entries shared or a batch larger than the ring")                                        \
	X(INFLIGHT_ORDER, 94, 1,                                                                   \
	  "vhost-user inflight region holds two in-flight entries with one counter")               \
	X(INFLIGHT_FULL, 95, 1,                                                                    \
	  "more descriptors in flight than the vhost-user inflight region holds")

/** @cond VIO_INTERNAL */
#define VIO__ERR_ENUM(name, value, peer, text) VIO_E##name = value,
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
 * The queue that returned such a code is now broken. The device side should
 * then set DEVICE_NEEDS_RESET; the driver side should stop using the device
 * and reset it. Codes an embedder's callback returned and a queue passed
 * through are never peer codes (the driver half turns a peer code from its
 * conversion callback into ::VIO_EDMA).
 * @param err 0, a `-VIO_E…` code or its positive value.
 * @return true for a peer protocol violation, false otherwise (unknown values too).
 */
bool vio_err_is_peer(int err);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_ERRORS_H */
