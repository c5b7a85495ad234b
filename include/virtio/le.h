/* SPDX-License-Identifier: MIT */
/**
 * @file le.h
 * @brief Little-endian wire types and their accessors.
 *
 * \defgroup vio_le Little-endian wire types
 * @{
 * Every multi-byte field that virtio places in shared memory is little-endian
 * (virtio 1.4 §1.4 "Structure Specifications"). The library gives each width a
 * one-member struct so that a field cannot be read or assigned without going
 * through an accessor: forgetting a conversion is a compile error, not a bug
 * that only shows on a big-endian host.
 */
#ifndef VIO_LE_H
#define VIO_LE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @def VIO_STATIC_ASSERT
 * @brief Compile-time check usable in C11 and C++ (layout assertions).
 */
#ifdef __cplusplus
#define VIO_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define VIO_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/** @brief A 16-bit little-endian field. Use vio_le16_get() / vio_le16_make(). */
typedef struct {
	uint16_t raw; /**< Bytes exactly as stored in memory. */
} vio_le16;

/** @brief A 32-bit little-endian field. Use vio_le32_get() / vio_le32_make(). */
typedef struct {
	uint32_t raw; /**< Bytes exactly as stored in memory. */
} vio_le32;

/** @brief A 64-bit little-endian field. Use vio_le64_get() / vio_le64_make(). */
typedef struct {
	uint64_t raw; /**< Bytes exactly as stored in memory. */
} vio_le64;

/**
 * @def VIO_HOST_BIG_ENDIAN
 * @brief 1 when the host stores integers most-significant byte first.
 *
 * Detected from the compiler's `__BYTE_ORDER__`; a toolchain without it can
 * define the macro itself (0 or 1) before including this header.
 */
#ifndef VIO_HOST_BIG_ENDIAN
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) &&                                    \
	__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VIO_HOST_BIG_ENDIAN 1
#else
#define VIO_HOST_BIG_ENDIAN 0
#endif
#endif

/**
 * @brief Reverse the bytes of a 16-bit value.
 * @param v A value.
 * @return @p v with its bytes reversed.
 */
static inline uint16_t vio_bswap16(uint16_t v)
{
	return (uint16_t)((v >> 8) | (v << 8));
}

/**
 * @brief Reverse the bytes of a 32-bit value.
 * @param v A value.
 * @return @p v with its bytes reversed.
 */
static inline uint32_t vio_bswap32(uint32_t v)
{
	return ((v & 0x000000ffu) << 24) | ((v & 0x0000ff00u) << 8) | ((v & 0x00ff0000u) >> 8) |
	       ((v & 0xff000000u) >> 24);
}

/**
 * @brief Reverse the bytes of a 64-bit value.
 * @param v A value.
 * @return @p v with its bytes reversed.
 */
static inline uint64_t vio_bswap64(uint64_t v)
{
	return ((uint64_t)vio_bswap32((uint32_t)v) << 32) | vio_bswap32((uint32_t)(v >> 32));
}

/**
 * @brief Convert a raw little-endian 16-bit pattern to host order (or back).
 * @param raw Bits as stored in memory (or a host value, to convert back).
 * @return The value in host order (byte-swapped on a big-endian host).
 */
static inline uint16_t vio_le16_raw_to_cpu(uint16_t raw)
{
#if VIO_HOST_BIG_ENDIAN
	return vio_bswap16(raw);
#else
	return raw;
#endif
}

/**
 * @brief Convert a raw little-endian 32-bit pattern to host order (or back).
 * @param raw Bits as stored in memory (or a host value, to convert back).
 * @return The value in host order (byte-swapped on a big-endian host).
 */
static inline uint32_t vio_le32_raw_to_cpu(uint32_t raw)
{
#if VIO_HOST_BIG_ENDIAN
	return vio_bswap32(raw);
#else
	return raw;
#endif
}

/**
 * @brief Convert a raw little-endian 64-bit pattern to host order (or back).
 * @param raw Bits as stored in memory (or a host value, to convert back).
 * @return The value in host order (byte-swapped on a big-endian host).
 */
static inline uint64_t vio_le64_raw_to_cpu(uint64_t raw)
{
#if VIO_HOST_BIG_ENDIAN
	return vio_bswap64(raw);
#else
	return raw;
#endif
}

/**
 * @brief Read a 16-bit wire field as a host value.
 * @param v The wire field.
 * @return The value in host order.
 */
static inline uint16_t vio_le16_get(vio_le16 v)
{
	return vio_le16_raw_to_cpu(v.raw);
}

/**
 * @brief Read a 32-bit wire field as a host value.
 * @param v The wire field.
 * @return The value in host order.
 */
static inline uint32_t vio_le32_get(vio_le32 v)
{
	return vio_le32_raw_to_cpu(v.raw);
}

/**
 * @brief Read a 64-bit wire field as a host value.
 * @param v The wire field.
 * @return The value in host order.
 */
static inline uint64_t vio_le64_get(vio_le64 v)
{
	return vio_le64_raw_to_cpu(v.raw);
}

/**
 * @brief Make a 16-bit wire field from a host value.
 * @param v A host value.
 * @return The wire field holding @p v.
 */
static inline vio_le16 vio_le16_make(uint16_t v)
{
	vio_le16 r;
	r.raw = vio_le16_raw_to_cpu(v);
	return r;
}

/**
 * @brief Make a 32-bit wire field from a host value.
 * @param v A host value.
 * @return The wire field holding @p v.
 */
static inline vio_le32 vio_le32_make(uint32_t v)
{
	vio_le32 r;
	r.raw = vio_le32_raw_to_cpu(v);
	return r;
}

/**
 * @brief Make a 64-bit wire field from a host value.
 * @param v A host value.
 * @return The wire field holding @p v.
 */
static inline vio_le64 vio_le64_make(uint64_t v)
{
	vio_le64 r;
	r.raw = vio_le64_raw_to_cpu(v);
	return r;
}

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_LE_H */
