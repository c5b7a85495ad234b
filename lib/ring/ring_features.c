/* SPDX-License-Identifier: MIT */
/* The feature bits the ring layer implements (both halves), each with the
 * reason it is, or is not, listed. Section numbers: virtio 1.4. */
#include <virtio/features.h>
#include <virtio/queue.h>

void vio_ring_features(struct vio_features *out)
{
	struct vio_features f = vio_features_none();

	/* §2.7.5.3 / §2.8.6: the driver half fills indirect tables
	 * (vio_vq_config::indirect_pool), the device half follows them with
	 * every check of §2.7.5.3.1 (no nesting, no NEXT with INDIRECT, size
	 * a multiple of 16, bounded length). */
	vio_features_set(&f, VIO_F_INDIRECT_DESC);

	/* §2.7.7.2 / §2.7.10 / §2.8.10: used_event / avail_event for split,
	 * the descriptor-position event suppression for packed; both halves
	 * write their event and apply the peer's (vio_need_event()). */
	vio_features_set(&f, VIO_F_EVENT_IDX);

	/* §2.8: the packed layout has a driver and a device half like split. */
	vio_features_set(&f, VIO_F_RING_PACKED);

	/* §2.7.9 / §2.8.9: the device half can complete a batch with one used
	 * entry (vio_devq_push_in_order()); the driver half uses descriptors
	 * in ring order and accepts such batches. */
	vio_features_set(&f, VIO_F_IN_ORDER);

	/* §2.9: the value of the extended notification is ring state (next
	 * offset and wrap); the driver half computes it (vio_vq_notify_data())
	 * and queue.h decodes it. The transport writes it. */
	vio_features_set(&f, VIO_F_NOTIFICATION_DATA);

	/* §2.6.1: resetting one queue while the others run needs a ring that
	 * can be returned to its initial state on its own and re-enabled,
	 * possibly with new parameters: vio_vq_detach_unused() +
	 * vio_vq_reset() (or vio_vq_init() again) on the driver side,
	 * vio_devq_reset() / vio_devq_init() on the device side. No state is
	 * shared between queues. The queue_reset register is the transport's. */
	vio_features_set(&f, VIO_F_RING_RESET);

	/* Not listed:
	 * - VIO_F_VERSION_1: required, not optional: the ring layer implements
	 *   only the little-endian layout of §2.7 / §2.8 (no legacy rings).
	 * - VIO_F_ACCESS_PLATFORM (§6): says the device reaches memory through
	 *   a platform translation. The ring passes every address through the
	 *   embedder's callbacks (dma.h, mem.h), but only the embedder knows
	 *   whether they implement that translation.
	 * - VIO_F_ORDER_PLATFORM (§6): needs the platform's (DMA) memory
	 *   barriers; the default port.h barriers are SMP ones. A port header
	 *   that supplies platform barriers may add the bit itself.
	 * - VIO_F_NOTIFY_ON_EMPTY, VIO_F_ANY_LAYOUT: legacy only.
	 * - VIO_F_NOTIF_CONFIG_DATA, VIO_F_SR_IOV, VIO_F_ADMIN_VQ,
	 *   VIO_F_SUSPEND: transport or device matters, no ring semantics. */
	*out = f;
}
