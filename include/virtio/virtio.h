/* SPDX-License-Identifier: MIT */
/**
 * @file virtio.h
 * @brief Umbrella header: the whole public libvirtio API.
 *
 * \defgroup vio_umbrella Umbrella header
 * @{
 * libvirtio speaks virtio (OASIS virtio 1.4) on either side of the wire:
 * the driver half (vq.h) and the device half (devq.h) of split and packed
 * virtqueues, the wire format they share, and the platform callbacks.
 */
#ifndef VIO_VIRTIO_H
#define VIO_VIRTIO_H

#include <virtio/blk.h>
#include <virtio/blk_dev.h>
#include <virtio/blk_device.h>
#include <virtio/blk_drv.h>
#include <virtio/blk_driver.h>
#include <virtio/chain.h>
#include <virtio/device.h>
#include <virtio/device_runner.h>
#include <virtio/devq.h>
#include <virtio/dma.h>
#include <virtio/driver.h>
#include <virtio/errors.h>
#include <virtio/features.h>
#include <virtio/le.h>
#include <virtio/mem.h>
#include <virtio/mmio.h>
#include <virtio/mmio_dev.h>
#include <virtio/mmio_direct.h>
#include <virtio/mmio_front.h>
#include <virtio/pci.h>
#include <virtio/pci_dev.h>
#include <virtio/pci_ecam.h>
#include <virtio/pci_front.h>
#include <virtio/port.h>
#include <virtio/queue.h>
#include <virtio/ring_packed.h>
#include <virtio/ring_split.h>
#include <virtio/rng.h>
#include <virtio/rng_device.h>
#include <virtio/rng_driver.h>
#include <virtio/spec.h>
#include <virtio/version.h>
#include <virtio/vhost_user.h>
#include <virtio/vhost_user_backend.h>
#include <virtio/vhost_user_front.h>
#include <virtio/vhost_user_front_posix.h>
#include <virtio/vhost_user_inflight.h>
#include <virtio/vhost_user_server.h>
#include <virtio/vq.h>

/** @} */
#endif /* VIO_VIRTIO_H */
