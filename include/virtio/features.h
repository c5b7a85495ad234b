/* SPDX-License-Identifier: MIT */
/**
 * @file features.h
 * @brief Transport-independent feature bit numbers and a 128-bit feature set.
 *
 * \defgroup vio_features Feature bits and feature sets
 * @{
 * Feature constants are bit *numbers*, never masks (virtio 1.4 §2.2 and §6
 * "Reserved Feature Bits"). Bits 0–23, 41, 42 and 50–127 are device-type
 * specific; 24–40 and 43 are for queue and negotiation extensions; 44–49 and
 * 128 and up are reserved. virtio-net already uses bits 64–70, so a feature
 * set is wider than 64 bits.
 */
#ifndef VIO_FEATURES_H
#define VIO_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Legacy: notify even when notifications are suppressed and the ring is empty. */
#define VIO_F_NOTIFY_ON_EMPTY 24
/** @brief Legacy: no assumptions about how buffers are split into descriptors. */
#define VIO_F_ANY_LAYOUT 27
/** @brief Descriptors may point to indirect descriptor tables (§2.7.5.3, §2.8.6). */
#define VIO_F_INDIRECT_DESC 28
/** @brief `used_event` / `avail_event` suppression (§2.7.7, §2.7.10, §2.8.10). */
#define VIO_F_EVENT_IDX 29
/** @brief Bit 30 is UNUSED; QEMU offers it as a "bad feature" probe. Never negotiate it. */
#define VIO_F_UNUSED_30 30
/** @brief Compliance with virtio 1.0 or later (non-legacy). */
#define VIO_F_VERSION_1 32
/** @brief Device access to memory is limited or translated (IOMMU). */
#define VIO_F_ACCESS_PLATFORM 33
/** @brief Packed virtqueue layout (§2.8). */
#define VIO_F_RING_PACKED 34
/** @brief The device uses buffers in the order they were made available (§2.7.9, §2.8.9). */
#define VIO_F_IN_ORDER 35
/** @brief Memory accesses are ordered as described by the platform (hardware barriers). */
#define VIO_F_ORDER_PLATFORM 36
/** @brief Single Root I/O Virtualization (PCI only). */
#define VIO_F_SR_IOV 37
/** @brief Driver notifications carry the next available position (§2.9). */
#define VIO_F_NOTIFICATION_DATA 38
/** @brief The device supplies a per-queue value for notifications (PCI). */
#define VIO_F_NOTIF_CONFIG_DATA 39
/** @brief Individual virtqueues can be reset (§2.6.1). */
#define VIO_F_RING_RESET 40
/** @brief The device exposes administration virtqueues (PCI only for now). */
#define VIO_F_ADMIN_VQ 41
/** @brief The driver may set the SUSPEND status bit (new in 1.4). */
#define VIO_F_SUSPEND 43

/** @brief Number of 64-bit words in a ::vio_features set. */
#define VIO_FEATURE_WORDS 2
/** @brief Number of feature bits a ::vio_features set can hold. */
#define VIO_FEATURE_BITS (64 * VIO_FEATURE_WORDS)

/**
 * @brief A set of feature bits 0 .. ::VIO_FEATURE_BITS - 1.
 *
 * Plain value type: copy, compare and zero-initialise it freely. Bit @c n
 * lives in `w[n / 64]` at position `n % 64`, in host order.
 */
struct vio_features {
	uint64_t w[VIO_FEATURE_WORDS]; /**< The bits, 64 per word. */
};

/**
 * @brief The empty feature set.
 * @return A set with no bits.
 */
static inline struct vio_features vio_features_none(void)
{
	struct vio_features f = {{0}};
	return f;
}

/**
 * @brief True if @p bit is in @p f (false for bits beyond the set's width).
 * @param f   Feature set.
 * @param bit Feature bit number.
 * @return true if @p bit is in @p f.
 */
static inline bool vio_features_test(const struct vio_features *f, unsigned bit)
{
	return bit < VIO_FEATURE_BITS && ((f->w[bit / 64] >> (bit % 64)) & 1u) != 0;
}

/**
 * @brief Add @p bit to @p f.
 * @param f   Feature set.
 * @param bit Feature bit number.
 * @return true, or false (and no change) if @p bit is beyond the set's width.
 */
static inline bool vio_features_set(struct vio_features *f, unsigned bit)
{
	if (bit >= VIO_FEATURE_BITS)
		return false;
	f->w[bit / 64] |= (uint64_t)1 << (bit % 64);
	return true;
}

/**
 * @brief Remove @p bit from @p f (no effect for bits beyond the set's width).
 * @param f   Feature set.
 * @param bit Feature bit number.
 */
static inline void vio_features_clear(struct vio_features *f, unsigned bit)
{
	if (bit < VIO_FEATURE_BITS)
		f->w[bit / 64] &= ~((uint64_t)1 << (bit % 64));
}

/**
 * @brief The bits present in both @p a and @p b (negotiation: offered ∩ accepted).
 * @param a Feature set.
 * @param b Feature set.
 * @return The intersection of @p a and @p b.
 */
static inline struct vio_features vio_features_and(const struct vio_features *a,
						   const struct vio_features *b)
{
	struct vio_features r;
	for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
		r.w[i] = a->w[i] & b->w[i];
	return r;
}

/**
 * @brief The bits present in @p a or @p b.
 * @param a Feature set.
 * @param b Feature set.
 * @return The union of @p a and @p b.
 */
static inline struct vio_features vio_features_or(const struct vio_features *a,
						  const struct vio_features *b)
{
	struct vio_features r;
	for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
		r.w[i] = a->w[i] | b->w[i];
	return r;
}

/**
 * @brief True if every bit of @p sub is also in @p super (accepted ⊆ offered).
 * @param sub   The candidate subset.
 * @param super The candidate superset.
 * @return true if @p sub ⊆ @p super.
 */
static inline bool vio_features_subset(const struct vio_features *sub,
				       const struct vio_features *super)
{
	for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
		if ((sub->w[i] & ~super->w[i]) != 0)
			return false;
	return true;
}

/**
 * @brief True if @p a and @p b hold the same bits.
 * @param a Feature set.
 * @param b Feature set.
 * @return true if the sets are equal.
 */
static inline bool vio_features_equal(const struct vio_features *a, const struct vio_features *b)
{
	for (unsigned i = 0; i < VIO_FEATURE_WORDS; i++)
		if (a->w[i] != b->w[i])
			return false;
	return true;
}

/**
 * @brief The 32-bit window @p sel of @p f (bits 32·sel .. 32·sel + 31).
 *
 * Transports expose features through 32-bit select/value register pairs
 * (virtio-mmio DeviceFeaturesSel, PCI `device_feature_select`). A window
 * beyond the set reads as 0, as the spec requires for unknown windows.
 * @param f   Feature set.
 * @param sel Window number: 0 for bits 0–31, 1 for bits 32–63, and so on.
 * @return The 32 bits of the window; 0 beyond the set.
 */
static inline uint32_t vio_features_word32(const struct vio_features *f, uint32_t sel)
{
	if (sel >= 2 * VIO_FEATURE_WORDS)
		return 0;
	return (uint32_t)(f->w[sel / 2] >> (32 * (sel % 2)));
}

/**
 * @brief Replace the 32-bit window @p sel of @p f with @p value.
 * @param f     Feature set.
 * @param sel   Window number: 0 for bits 0–31, 1 for bits 32–63, and so on.
 * @param value The 32 bits to store in the window.
 * @return true, or false (and no change) if the window is beyond the set.
 */
static inline bool vio_features_set_word32(struct vio_features *f, uint32_t sel, uint32_t value)
{
	if (sel >= 2 * VIO_FEATURE_WORDS)
		return false;
	unsigned shift = 32 * (sel % 2);
	f->w[sel / 2] =
		(f->w[sel / 2] & ~((uint64_t)0xffffffffu << shift)) | ((uint64_t)value << shift);
	return true;
}

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_FEATURES_H */
