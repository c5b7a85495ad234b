/* SPDX-License-Identifier: MIT */
/* Direct virtio-mmio accessors: one volatile load or store of the
 * register's width at base + offset, little-endian on the bus (§4.2.2),
 * with the I/O barriers of port.h around them. */
#include <stdint.h>

#include <virtio/le.h>
#include <virtio/mmio_direct.h>
#include <virtio/port.h>

static uintptr_t at(void *base, uint32_t off)
{
	return (uintptr_t)base + off;
}

static uint32_t rd32(void *ctx, uint32_t off)
{
	uint32_t v = *(volatile uint32_t *)at(ctx, off);
	VIO_IO_RMB();
	return vio_le32_raw_to_cpu(v);
}

static void wr32(void *ctx, uint32_t off, uint32_t v)
{
	VIO_IO_WMB();
	*(volatile uint32_t *)at(ctx, off) = vio_le32_make(v).raw;
}

static uint16_t rd16(void *ctx, uint32_t off)
{
	uint16_t v = *(volatile uint16_t *)at(ctx, off);
	VIO_IO_RMB();
	return vio_le16_raw_to_cpu(v);
}

static void wr16(void *ctx, uint32_t off, uint16_t v)
{
	VIO_IO_WMB();
	*(volatile uint16_t *)at(ctx, off) = vio_le16_make(v).raw;
}

static uint8_t rd8(void *ctx, uint32_t off)
{
	uint8_t v = *(volatile uint8_t *)at(ctx, off);
	VIO_IO_RMB();
	return v;
}

static void wr8(void *ctx, uint32_t off, uint8_t v)
{
	VIO_IO_WMB();
	*(volatile uint8_t *)at(ctx, off) = v;
}

const struct vio_mmio_bus vio_mmio_direct_bus = {
	.read32 = rd32,
	.write32 = wr32,
	.read8 = rd8,
	.write8 = wr8,
	.read16 = rd16,
	.write16 = wr16,
	.delay = NULL,
};
