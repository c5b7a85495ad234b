/* SPDX-License-Identifier: MIT */
/*
 * The Linux UAPI virtio headers and <virtio/virtio.h> in one translation
 * unit: no name clashes, and every constant both define agrees.
 * Target and CTest test vio_linux_coexist: a mismatch fails the build; the
 * program then checks that both event-index rules agree.
 */
#include <stdio.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include <virtio/virtio.h>

#define SAME(a, b) _Static_assert((a) == (b), #a " != " #b)

/* Feature bit numbers (virtio 1.4 §6). */
SAME(VIRTIO_F_NOTIFY_ON_EMPTY, VIO_F_NOTIFY_ON_EMPTY);
SAME(VIRTIO_F_ANY_LAYOUT, VIO_F_ANY_LAYOUT);
SAME(VIRTIO_RING_F_INDIRECT_DESC, VIO_F_INDIRECT_DESC);
SAME(VIRTIO_RING_F_EVENT_IDX, VIO_F_EVENT_IDX);
SAME(VIRTIO_F_VERSION_1, VIO_F_VERSION_1);
SAME(VIRTIO_F_ACCESS_PLATFORM, VIO_F_ACCESS_PLATFORM);
SAME(VIRTIO_F_RING_PACKED, VIO_F_RING_PACKED);
SAME(VIRTIO_F_IN_ORDER, VIO_F_IN_ORDER);
SAME(VIRTIO_F_ORDER_PLATFORM, VIO_F_ORDER_PLATFORM);
SAME(VIRTIO_F_SR_IOV, VIO_F_SR_IOV);
SAME(VIRTIO_F_RING_RESET, VIO_F_RING_RESET);
/* Newer kernels than Debian 12's 6.1 headers define these too. */
#ifdef VIRTIO_F_NOTIFICATION_DATA
SAME(VIRTIO_F_NOTIFICATION_DATA, VIO_F_NOTIFICATION_DATA);
#endif
#ifdef VIRTIO_F_NOTIF_CONFIG_DATA
SAME(VIRTIO_F_NOTIF_CONFIG_DATA, VIO_F_NOTIF_CONFIG_DATA);
#endif
#ifdef VIRTIO_F_ADMIN_VQ
SAME(VIRTIO_F_ADMIN_VQ, VIO_F_ADMIN_VQ);
#endif
#ifdef VIRTIO_F_SUSPEND
SAME(VIRTIO_F_SUSPEND, VIO_F_SUSPEND);
#endif

/* Device status bits (§2.1). */
SAME(VIRTIO_CONFIG_S_ACKNOWLEDGE, VIO_STATUS_ACKNOWLEDGE);
SAME(VIRTIO_CONFIG_S_DRIVER, VIO_STATUS_DRIVER);
SAME(VIRTIO_CONFIG_S_DRIVER_OK, VIO_STATUS_DRIVER_OK);
SAME(VIRTIO_CONFIG_S_FEATURES_OK, VIO_STATUS_FEATURES_OK);
SAME(VIRTIO_CONFIG_S_NEEDS_RESET, VIO_STATUS_DEVICE_NEEDS_RESET);
SAME(VIRTIO_CONFIG_S_FAILED, VIO_STATUS_FAILED);
#ifdef VIRTIO_CONFIG_S_SUSPEND
SAME(VIRTIO_CONFIG_S_SUSPEND, VIO_STATUS_SUSPEND);
#endif

/* Descriptor and ring flags (§2.7.5, §2.7.7, §2.7.10). */
SAME(VRING_DESC_F_NEXT, VIO_DESC_F_NEXT);
SAME(VRING_DESC_F_WRITE, VIO_DESC_F_WRITE);
SAME(VRING_DESC_F_INDIRECT, VIO_DESC_F_INDIRECT);
SAME(VRING_AVAIL_F_NO_INTERRUPT, VIO_AVAIL_F_NO_INTERRUPT);
SAME(VRING_USED_F_NO_NOTIFY, VIO_USED_F_NO_NOTIFY);

/* Packed flags: Linux gives bit numbers, libvirtio gives masks (§2.8.1). */
SAME(1u << VRING_PACKED_DESC_F_AVAIL, VIO_DESC_F_AVAIL);
SAME(1u << VRING_PACKED_DESC_F_USED, VIO_DESC_F_USED);

/* Packed event suppression (§2.8.10). */
SAME(VRING_PACKED_EVENT_FLAG_ENABLE, VIO_RING_EVENT_FLAGS_ENABLE);
SAME(VRING_PACKED_EVENT_FLAG_DISABLE, VIO_RING_EVENT_FLAGS_DISABLE);
SAME(VRING_PACKED_EVENT_FLAG_DESC, VIO_RING_EVENT_FLAGS_DESC);
SAME(VRING_PACKED_EVENT_F_WRAP_CTR, VIO_RING_EVENT_WRAP_SHIFT);

/* Alignment of the split ring parts (§2.7.2). */
SAME(VRING_DESC_ALIGN_SIZE, VIO_SPLIT_DESC_ALIGN);
SAME(VRING_AVAIL_ALIGN_SIZE, VIO_SPLIT_AVAIL_ALIGN);
SAME(VRING_USED_ALIGN_SIZE, VIO_SPLIT_USED_ALIGN);

/* Wire structures have the same size and field offsets. */
SAME(sizeof(struct vring_desc), sizeof(struct vio_split_desc));
SAME(offsetof(struct vring_desc, addr), offsetof(struct vio_split_desc, addr));
SAME(offsetof(struct vring_desc, len), offsetof(struct vio_split_desc, len));
SAME(offsetof(struct vring_desc, flags), offsetof(struct vio_split_desc, flags));
SAME(offsetof(struct vring_desc, next), offsetof(struct vio_split_desc, next));
SAME(sizeof(struct vring_used_elem), sizeof(struct vio_split_used_elem));
SAME(offsetof(struct vring_used_elem, len), offsetof(struct vio_split_used_elem, len));
SAME(offsetof(struct vring_avail, ring), sizeof(struct vio_split_avail));
SAME(offsetof(struct vring_used, ring), sizeof(struct vio_split_used));
SAME(sizeof(struct vring_packed_desc), sizeof(struct vio_packed_desc));
SAME(offsetof(struct vring_packed_desc, id), offsetof(struct vio_packed_desc, id));
SAME(offsetof(struct vring_packed_desc, flags), offsetof(struct vio_packed_desc, flags));
SAME(sizeof(struct vring_packed_desc_event), sizeof(struct vio_packed_event));
SAME(offsetof(struct vring_packed_desc_event, off_wrap),
     offsetof(struct vio_packed_event, off_wrap));
SAME(offsetof(struct vring_packed_desc_event, flags), offsetof(struct vio_packed_event, flags));

/* The event-index rule agrees with Linux's vring_need_event(). */
static int need_event_agrees(void)
{
	/* Every event index against a spread of (old, new) windows. */
	for (unsigned ev = 0; ev < 65536; ev += 7)
		for (unsigned old = 0; old < 65536; old += 4099)
			for (unsigned step = 0; step < 40; step += 3) {
				__u16 e = (__u16)ev, o = (__u16)old, n = (__u16)(old + step);
				if (vring_need_event(e, n, o) != (int)vio_need_event(e, n, o))
					return 0;
			}
	return 1;
}

int main(void)
{
	if (!need_event_agrees())
		return 1;
	puts("OK linux coexist");
	return 0;
}
