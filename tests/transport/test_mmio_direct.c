/* SPDX-License-Identifier: MIT */
/* Direct virtio-mmio accessors (mmio_direct.h) on host memory: a plain byte
 * array stands in for the register window. Host memory has no device side
 * effects, so these check what can be checked here: the address arithmetic
 * (base + offset), the width of each access (exactly the addressed bytes
 * change) and the byte order (little-endian on any host); and that the
 * front's probe runs over them against a register image. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <virtio/virtio.h>

static _Alignas(8) uint8_t win[0x200];

static void fill(void)
{
	for (unsigned i = 0; i < sizeof(win); i++)
		win[i] = (uint8_t)(i ^ 0x5a);
}

/* Little-endian value of @n bytes at @off, built byte by byte. */
static uint32_t le_at(unsigned off, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | win[off + i];
	return v;
}

static void test_mmio_direct_bus_complete(void **state)
{
	(void)state;
	const struct vio_mmio_bus *b = &vio_mmio_direct_bus;
	assert_non_null(b->read32);
	assert_non_null(b->write32);
	assert_non_null(b->read16);
	assert_non_null(b->write16);
	assert_non_null(b->read8);
	assert_non_null(b->write8);
	assert_null(b->delay);
}

static void test_mmio_direct_reads_width_and_order(void **state)
{
	(void)state;
	fill();
	const struct vio_mmio_bus *b = &vio_mmio_direct_bus;
	for (uint32_t off = 0; off < sizeof(win); off += 4)
		assert_int_equal(b->read32(win, off), le_at(off, 4));
	for (uint32_t off = 0x100; off < sizeof(win); off += 2)
		assert_int_equal(b->read16(win, off), le_at(off, 2));
	for (uint32_t off = 0x100; off < sizeof(win); off++)
		assert_int_equal(b->read8(win, off), win[off]);
	/* The base is the context: a window further on is another window. */
	assert_int_equal(b->read32(win + 0x100, 0x8), le_at(0x108, 4));
	/* Reads change nothing. */
	for (unsigned i = 0; i < sizeof(win); i++)
		assert_int_equal(win[i], (uint8_t)(i ^ 0x5a));
}

/* Exactly the addressed bytes change, least significant byte first. */
static void expect_written(unsigned off, unsigned n, uint32_t v)
{
	for (unsigned i = 0; i < sizeof(win); i++) {
		if (i >= off && i < off + n)
			assert_int_equal(win[i], (uint8_t)(v >> (8 * (i - off))));
		else
			assert_int_equal(win[i], (uint8_t)(i ^ 0x5a));
	}
}

static void test_mmio_direct_writes_width_and_order(void **state)
{
	(void)state;
	const struct vio_mmio_bus *b = &vio_mmio_direct_bus;
	fill();
	b->write32(win, VIO_MMIO_QUEUE_NOTIFY, 0x11223344u);
	expect_written(VIO_MMIO_QUEUE_NOTIFY, 4, 0x11223344u);
	fill();
	b->write16(win, 0x10a, 0xbeefu);
	expect_written(0x10a, 2, 0xbeefu);
	fill();
	b->write8(win, 0x10d, 0xa5u);
	expect_written(0x10d, 1, 0xa5u);
	/* Base + offset: the context is the window's base. */
	fill();
	b->write32(win + 0x100, 0xfc, 0xcafef00du);
	expect_written(0x1fc, 4, 0xcafef00du);
}

static void put_le32(unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		win[off + i] = (uint8_t)(v >> (8 * i));
}

/* The front's probe over the direct accessors against a register image. */
static void test_mmio_direct_probe_image(void **state)
{
	(void)state;
	memset(win, 0, sizeof(win));
	put_le32(VIO_MMIO_MAGIC_VALUE, VIO_MMIO_MAGIC);
	put_le32(VIO_MMIO_VERSION, VIO_MMIO_VERSION_MODERN);
	put_le32(VIO_MMIO_DEVICE_ID, VIO_ID_RNG);
	put_le32(VIO_MMIO_VENDOR_ID, 0x554d4551u);
	_Alignas(8) unsigned char mem[VIO_MMIO_FRONT_MEM_SIZE];
	struct vio_mmio_front *f;
	assert_int_equal(
		vio_mmio_front_probe(&f, mem, sizeof(mem), &vio_mmio_direct_bus, win, sizeof(win)),
		0);
	assert_int_equal(vio_mmio_front_device_id(f), VIO_ID_RNG);
	assert_int_equal(vio_mmio_front_vendor_id(f), 0x554d4551u);
	/* QEMU's empty slot: version 1, DeviceID 0. */
	put_le32(VIO_MMIO_VERSION, VIO_MMIO_VERSION_LEGACY);
	put_le32(VIO_MMIO_DEVICE_ID, 0);
	assert_int_equal(
		vio_mmio_front_probe(&f, mem, sizeof(mem), &vio_mmio_direct_bus, win, sizeof(win)),
		-VIO_ENODEV);
	/* Nothing written by a probe. */
	assert_int_equal(le_at(VIO_MMIO_STATUS, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mmio_direct_bus_complete),
		cmocka_unit_test(test_mmio_direct_reads_width_and_order),
		cmocka_unit_test(test_mmio_direct_writes_width_and_order),
		cmocka_unit_test(test_mmio_direct_probe_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
