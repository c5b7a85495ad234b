/* SPDX-License-Identifier: MIT */
/* virtio-mmio front: the driver core's transport ops over register
 * accessors (virtio 1.4 §4.2.2, §4.2.3). Only version 2 registers, each in
 * its direction, and never an offset at or past the window. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/driver.h>
#include <virtio/errors.h>
#include <virtio/mmio.h>
#include <virtio/mmio_front.h>

struct vio_mmio_front {
	const struct vio_mmio_bus *bus;
	void *ctx;
	uint32_t window;
	uint32_t device_id;
};

_Static_assert(sizeof(struct vio_mmio_front) <= VIO_MMIO_FRONT_MEM_SIZE,
	       "VIO_MMIO_FRONT_MEM_SIZE too small");
_Static_assert(_Alignof(struct vio_mmio_front) <= VIO_MMIO_FRONT_MEM_ALIGN,
	       "VIO_MMIO_FRONT_MEM_ALIGN too small");

/* Control registers are all below 0x100 and the window is at least that,
 * so these never leave it. */
static uint32_t rd(const struct vio_mmio_front *f, uint32_t off)
{
	return f->bus->read32(f->ctx, off);
}

static void wr(const struct vio_mmio_front *f, uint32_t off, uint32_t v)
{
	f->bus->write32(f->ctx, off, v);
}

int vio_mmio_front_probe(struct vio_mmio_front **fp, void *mem, size_t mem_size,
			 const struct vio_mmio_bus *bus, void *bus_ctx, uint32_t window_size)
{
	if (fp == NULL || mem == NULL || bus == NULL || bus->read32 == NULL ||
	    bus->write32 == NULL || mem_size < VIO_MMIO_FRONT_MEM_SIZE ||
	    ((uintptr_t)mem % VIO_MMIO_FRONT_MEM_ALIGN) != 0 ||
	    window_size < VIO_MMIO_FRONT_MIN_WINDOW)
		return -VIO_EINVAL;
	struct vio_mmio_front *f = mem;
	f->bus = bus;
	f->ctx = bus_ctx;
	f->window = window_size;
	f->device_id = 0;
	/* §4.2.3.1.1: magic and version first; then the ID, and if it is 0
	 * no other register. */
	if (rd(f, VIO_MMIO_MAGIC_VALUE) != VIO_MMIO_MAGIC)
		return -VIO_ENOT_VIRTIO;
	uint32_t version = rd(f, VIO_MMIO_VERSION);
	if (version != VIO_MMIO_VERSION_MODERN && version != VIO_MMIO_VERSION_LEGACY)
		return -VIO_ELEGACY; /* unknown layout: DeviceID may not be at 0x008 */
	/* Both layouts put DeviceID at 0x008 (§4.2.2, §4.2.4). DeviceID 0 is a
	 * placeholder slot whatever the version (§4.2.2: "a system memory map
	 * with placeholder devices at static, well known addresses"), and
	 * §4.2.2.2 says to ignore it without reporting an error: ENODEV, so a
	 * scan skips it. QEMU's empty slots read version 1, DeviceID 0. */
	f->device_id = rd(f, VIO_MMIO_DEVICE_ID);
	if (f->device_id == 0)
		return -VIO_ENODEV;
	if (version != VIO_MMIO_VERSION_MODERN)
		return -VIO_ELEGACY;
	*fp = f;
	return 0;
}

uint32_t vio_mmio_front_device_id(const struct vio_mmio_front *f)
{
	return f->device_id;
}

uint32_t vio_mmio_front_vendor_id(const struct vio_mmio_front *f)
{
	return rd(f, VIO_MMIO_VENDOR_ID);
}

uint32_t vio_mmio_front_config_size(const struct vio_mmio_front *f)
{
	return f->window - VIO_MMIO_CONFIG;
}

void vio_mmio_front_drv_config(struct vio_mmio_front *f, struct vio_drv_config *cfg)
{
	cfg->ops = &vio_mmio_front_ops;
	cfg->ops_ctx = f;
}

/* ---- the transport ops -------------------------------------------------------------------- */

static int get_status(void *ctx, uint8_t *status)
{
	/* Status is 32 bits wide; the defined bits are the low 8 (§2.1). */
	*status = (uint8_t)(rd(ctx, VIO_MMIO_STATUS) & 0xffu);
	return 0;
}

static int set_status(void *ctx, uint8_t status)
{
	wr(ctx, VIO_MMIO_STATUS, status);
	return 0;
}

static int get_device_features(void *ctx, uint32_t window, uint32_t *bits)
{
	/* §4.2.2.2: write DeviceFeaturesSel before reading DeviceFeatures. */
	wr(ctx, VIO_MMIO_DEVICE_FEATURES_SEL, window);
	*bits = rd(ctx, VIO_MMIO_DEVICE_FEATURES);
	return 0;
}

static int set_driver_features(void *ctx, uint32_t window, uint32_t bits)
{
	wr(ctx, VIO_MMIO_DRIVER_FEATURES_SEL, window);
	wr(ctx, VIO_MMIO_DRIVER_FEATURES, bits);
	return 0;
}

/* The configuration access at @offset of @width, checked against the
 * window: the offset inside it, the accessor present, natural alignment
 * (at most 4). */
static int config_access(const struct vio_mmio_front *f, uint32_t offset, unsigned width,
			 bool write, uint32_t *at)
{
	uint32_t size = f->window - VIO_MMIO_CONFIG;
	if (offset > size || width > size - offset)
		return -VIO_EINVAL;
	if ((width == 1 && (write ? f->bus->write8 == NULL : f->bus->read8 == NULL)) ||
	    (width == 2 && (write ? f->bus->write16 == NULL : f->bus->read16 == NULL)))
		return -VIO_EINVAL;
	if (width != 1 && width != 2 && width != 4 && width != 8)
		return -VIO_EINVAL;
	if (offset % (width < 4 ? width : 4u) != 0)
		return -VIO_EINVAL;
	*at = VIO_MMIO_CONFIG + offset;
	return 0;
}

static int config_read(void *ctx, uint32_t offset, unsigned width, uint64_t *value)
{
	const struct vio_mmio_front *f = ctx;
	uint32_t at;
	int rc = config_access(f, offset, width, false, &at);
	if (rc < 0)
		return rc;
	switch (width) {
	case 1:
		*value = f->bus->read8(f->ctx, at);
		break;
	case 2:
		*value = f->bus->read16(f->ctx, at);
		break;
	case 4:
		*value = rd(f, at);
		break;
	default: /* 8: two 32-bit halves, low first; the core checks the generation */
		*value = (uint64_t)rd(f, at) | ((uint64_t)rd(f, at + 4) << 32);
		break;
	}
	return 0;
}

static int config_write(void *ctx, uint32_t offset, unsigned width, uint64_t value)
{
	const struct vio_mmio_front *f = ctx;
	uint32_t at;
	int rc = config_access(f, offset, width, true, &at);
	if (rc < 0)
		return rc;
	switch (width) {
	case 1:
		f->bus->write8(f->ctx, at, (uint8_t)value);
		break;
	case 2:
		f->bus->write16(f->ctx, at, (uint16_t)value);
		break;
	case 4:
		wr(f, at, (uint32_t)value);
		break;
	default:
		wr(f, at, (uint32_t)value);
		wr(f, at + 4, (uint32_t)(value >> 32));
		break;
	}
	return 0;
}

static int config_generation(void *ctx, uint32_t *generation)
{
	*generation = rd(ctx, VIO_MMIO_CONFIG_GENERATION);
	return 0;
}

/* The identity read by the probe must not change: a register window whose
 * magic, version or type moves is not the device the driver negotiated with. */
static int device_id(void *ctx, uint32_t *id)
{
	const struct vio_mmio_front *f = ctx;
	if (rd(f, VIO_MMIO_MAGIC_VALUE) != VIO_MMIO_MAGIC ||
	    rd(f, VIO_MMIO_VERSION) != VIO_MMIO_VERSION_MODERN ||
	    rd(f, VIO_MMIO_DEVICE_ID) != f->device_id)
		return -VIO_EDEVICE;
	*id = f->device_id;
	return 0;
}

static int queue_max(void *ctx, uint16_t index, uint32_t *max)
{
	wr(ctx, VIO_MMIO_QUEUE_SEL, index);
	*max = rd(ctx, VIO_MMIO_QUEUE_NUM_MAX);
	return 0;
}

static int queue_setup(void *ctx, uint16_t index, uint16_t size, uint64_t desc, uint64_t driver,
		       uint64_t device)
{
	wr(ctx, VIO_MMIO_QUEUE_SEL, index);
	/* §4.2.3.2 step 2: the queue must not be in use. After a device reset
	 * or a completed queue reset QueueReady reads 0 (§4.2.2.1). */
	if (rd(ctx, VIO_MMIO_QUEUE_READY) != 0)
		return -VIO_EDEVICE;
	wr(ctx, VIO_MMIO_QUEUE_NUM, size);
	wr(ctx, VIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
	wr(ctx, VIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
	wr(ctx, VIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)driver);
	wr(ctx, VIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(driver >> 32));
	wr(ctx, VIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)device);
	wr(ctx, VIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(device >> 32));
	return 0;
}

static int queue_enable(void *ctx, uint16_t index)
{
	wr(ctx, VIO_MMIO_QUEUE_SEL, index);
	wr(ctx, VIO_MMIO_QUEUE_READY, 1);
	return 0;
}

static int queue_reset(void *ctx, uint16_t index)
{
	wr(ctx, VIO_MMIO_QUEUE_SEL, index);
	wr(ctx, VIO_MMIO_QUEUE_RESET, 1);
	return 0;
}

static int queue_reset_done(void *ctx, uint16_t index, bool *done)
{
	wr(ctx, VIO_MMIO_QUEUE_SEL, index);
	/* §4.2.2.1: 1 while the reset runs; then 0 in both QueueReset and
	 * QueueReady. */
	if (rd(ctx, VIO_MMIO_QUEUE_RESET) != 0) {
		*done = false;
		return 0;
	}
	if (rd(ctx, VIO_MMIO_QUEUE_READY) != 0)
		return -VIO_EDEVICE;
	*done = true;
	return 0;
}

static int notify(void *ctx, uint16_t index, uint32_t value)
{
	(void)index; /* carried in value (§4.2.3.3) */
	wr(ctx, VIO_MMIO_QUEUE_NOTIFY, value);
	return 0;
}

static int interrupt_status(void *ctx, uint32_t *bits)
{
	*bits = rd(ctx, VIO_MMIO_INTERRUPT_STATUS);
	return 0;
}

static int interrupt_ack(void *ctx, uint32_t bits)
{
	/* §4.2.2.2: never set undefined bits in the acknowledgement. */
	wr(ctx, VIO_MMIO_INTERRUPT_ACK, bits & (VIO_MMIO_INT_VRING | VIO_MMIO_INT_CONFIG));
	return 0;
}

static void delay(void *ctx, uint32_t us)
{
	const struct vio_mmio_front *f = ctx;
	if (f->bus->delay != NULL)
		f->bus->delay(f->ctx, us);
}

const struct vio_drv_transport_ops vio_mmio_front_ops = {
	.get_status = get_status,
	.set_status = set_status,
	.get_device_features = get_device_features,
	.set_driver_features = set_driver_features,
	.config_read = config_read,
	.config_write = config_write,
	.config_generation = config_generation,
	.device_id = device_id,
	.num_queues = NULL,
	.queue_max = queue_max,
	.queue_setup = queue_setup,
	.queue_enable = queue_enable,
	.queue_reset = queue_reset,
	.queue_reset_done = queue_reset_done,
	.notify = notify,
	.interrupt_status = interrupt_status,
	.interrupt_ack = interrupt_ack,
	.set_config_vector = NULL,
	.set_queue_vector = NULL,
	.delay = delay,
};
