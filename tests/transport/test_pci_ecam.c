/* SPDX-License-Identifier: MIT */
/* ECAM virtio-pci accessors (pci_ecam.h) on host memory: plain arrays stand
 * in for the ECAM window and the BARs. Host memory has no device side
 * effects, so these check the address arithmetic (bus/dev/fn to ECAM
 * offset, BAR address + offset + bus_to_cpu), the width and byte order of
 * each access (exactly the addressed bytes, little-endian), what is refused
 * (touching nothing), and that the front's probe runs over them against a
 * configuration-space image (the fake function's capability list). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "fake_pci.h"

/* Bus 0, device 3, function 2: ECAM offset 0x1a000. */
#define DEV 3u
#define FN 2u
#define FN_OFF 0x1a000u
#define ECAM_BYTES (FN_OFF + VIO_PCI_ECAM_FN_SIZE)

static _Alignas(4096) uint8_t ecam[ECAM_BYTES];
static _Alignas(16) uint8_t bar1[0x1000];
static _Alignas(16) uint8_t bar4[0x4000];

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7u + 3u);
}

static uint32_t le_at(const uint8_t *p, unsigned n)
{
	uint32_t v = 0;
	for (unsigned i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static void test_pci_ecam_offset_and_init(void **state)
{
	(void)state;
	assert_int_equal(VIO_PCI_ECAM_OFFSET(0, DEV, FN), FN_OFF);
	assert_int_equal(VIO_PCI_ECAM_OFFSET(1, 2, 3), 0x113000u);
	assert_int_equal(VIO_PCI_ECAM_OFFSET(255, 31, 7), 0xffff000u);
	struct vio_pci_ecam_fn f;
	memset(&f, 0xff, sizeof(f));
	assert_int_equal(vio_pci_ecam_fn_init(&f, 0x30000000u, 1, 2, 3), 0);
	assert_int_equal(f.cfg, 0x30113000u);
	assert_int_equal(f.bus_to_cpu, 0);
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++) {
		assert_int_equal(f.bars.bar[i].kind, VIO_PCI_BAR_NONE);
		assert_int_equal(f.bars.bar[i].size, 0);
		assert_false(f.bars.bar[i].assigned);
	}
	assert_int_equal(vio_pci_ecam_fn_init(&f, 0, 256, 0, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_fn_init(&f, 0, 0, 32, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_fn_init(&f, 0, 0, 0, 8), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_fn_init(NULL, 0, 0, 0, 0), -VIO_EINVAL);
	/* A function whose 4 KiB would pass the end of the address space. */
	assert_int_equal(vio_pci_ecam_fn_init(&f, UINTPTR_MAX - 0x1000u, 0, 0, 1), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_fn_init(&f, UINTPTR_MAX - 0xffeu, 0, 0, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_fn_init(&f, UINTPTR_MAX - 0xfffu, 0, 0, 0), 0);
}

static void test_pci_ecam_cfg_access(void **state)
{
	(void)state;
	struct vio_pci_ecam_fn f;
	assert_int_equal(vio_pci_ecam_fn_init(&f, (uintptr_t)ecam, 0, DEV, FN), 0);
	fill(ecam, sizeof(ecam));
	const uint8_t *cs = ecam + FN_OFF;
	uint32_t v;
	for (unsigned size = 1; size <= 4; size *= 2)
		for (uint32_t off = 0; off < VIO_PCI_ECAM_FN_SIZE; off += size) {
			assert_int_equal(vio_pci_ecam_bus.cfg_read(&f, off, size, &v), 0);
			assert_int_equal(v, le_at(cs + off, size));
		}
	assert_int_equal(vio_pci_ecam_vendor_id(&f), le_at(cs, 2));
	/* Writes: exactly the addressed bytes, little-endian. */
	uint8_t before[sizeof(ecam)];
	memcpy(before, ecam, sizeof(ecam));
	assert_int_equal(vio_pci_ecam_bus.cfg_write(&f, VIO_PCI_CFG_COMMAND, 2, 0x0406u), 0);
	assert_int_equal(vio_pci_ecam_bus.cfg_write(&f, 0x10, 4, 0x40001000u), 0);
	assert_int_equal(vio_pci_ecam_bus.cfg_write(&f, 0xff, 1, 0x99u), 0);
	for (size_t i = 0; i < sizeof(ecam); i++) {
		size_t o = i - FN_OFF;
		if (i >= FN_OFF && o >= VIO_PCI_CFG_COMMAND && o < VIO_PCI_CFG_COMMAND + 2u)
			assert_int_equal(ecam[i], o == VIO_PCI_CFG_COMMAND ? 0x06 : 0x04);
		else if (i >= FN_OFF && o >= 0x10 && o < 0x14)
			assert_int_equal(ecam[i], (uint8_t)(0x40001000u >> (8 * (o - 0x10))));
		else if (i >= FN_OFF && o == 0xff)
			assert_int_equal(ecam[i], 0x99);
		else
			assert_int_equal(ecam[i], before[i]);
	}
	/* Refused, nothing touched: misaligned, bad size, past 4 KiB. */
	memcpy(before, ecam, sizeof(ecam));
	v = 0x12345678u;
	assert_int_equal(vio_pci_ecam_bus.cfg_read(&f, 0x11, 4, &v), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.cfg_read(&f, 0x11, 2, &v), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.cfg_read(&f, 0x10, 3, &v), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.cfg_read(&f, 0x10, 8, &v), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.cfg_read(&f, VIO_PCI_ECAM_FN_SIZE, 1, &v), -VIO_EINVAL);
	assert_int_equal(v, 0x12345678u);
	assert_int_equal(vio_pci_ecam_bus.cfg_write(&f, 0x13, 2, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.cfg_write(&f, 0x1000, 4, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.cfg_write(&f, 0x10, 0, 0), -VIO_EINVAL);
	assert_memory_equal(before, ecam, sizeof(ecam));
}

static void test_pci_ecam_bar_access(void **state)
{
	(void)state;
	struct vio_pci_ecam_fn f;
	assert_int_equal(vio_pci_ecam_fn_init(&f, (uintptr_t)ecam, 0, DEV, FN), 0);
	f.bars.bar[0] = (struct vio_pci_bar){.addr = 0x1000, .size = 0x40, .kind = VIO_PCI_BAR_IO};
	f.bars.bar[1] = (struct vio_pci_bar){
		.addr = (uintptr_t)bar1, .size = sizeof(bar1), .kind = VIO_PCI_BAR_MEM32};
	/* BAR4's bus address differs from the CPU address by bus_to_cpu. */
	f.bus_to_cpu = 0x100000u;
	f.bars.bar[4] = (struct vio_pci_bar){.addr = (uintptr_t)bar4 - 0x100000u,
					     .size = sizeof(bar4),
					     .kind = VIO_PCI_BAR_MEM64,
					     .assigned = true};
	f.bars.bar[1].addr -= 0x100000u;
	fill(bar1, sizeof(bar1));
	fill(bar4, sizeof(bar4));
	uint32_t v;
	assert_int_equal(vio_pci_ecam_bus.bar_read(&f, 1, 0xffc, 4, &v), 0);
	assert_int_equal(v, le_at(bar1 + 0xffc, 4));
	assert_int_equal(vio_pci_ecam_bus.bar_read(&f, 4, 0x3002, 2, &v), 0);
	assert_int_equal(v, le_at(bar4 + 0x3002, 2));
	assert_int_equal(vio_pci_ecam_bus.bar_read(&f, 4, 0x1000, 1, &v), 0);
	assert_int_equal(v, bar4[0x1000]);
	assert_int_equal(vio_pci_ecam_bus.bar_write(&f, 4, 0x3004, 4, 0xa1b2c3d4u), 0);
	assert_int_equal(le_at(bar4 + 0x3004, 4), 0xa1b2c3d4u);
	assert_int_equal(bar4[0x3003], (uint8_t)(0x3003 * 7 + 3));
	assert_int_equal(bar4[0x3008], (uint8_t)(0x3008 * 7 + 3));
	/* Refused: I/O BAR, no BAR, past the end (also straddling it), bad
	 * index, misaligned, bad size. */
	uint8_t b1[sizeof(bar1)], b4[sizeof(bar4)];
	memcpy(b1, bar1, sizeof(b1));
	memcpy(b4, bar4, sizeof(b4));
	assert_int_equal(vio_pci_ecam_bus.bar_read(&f, 0, 0, 1, &v), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.bar_read(&f, 2, 0, 4, &v), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.bar_read(&f, 1, 0x1000, 1, &v), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.bar_write(&f, 1, 0xffe, 4, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.bar_write(&f, 1, UINT64_MAX - 1u, 2, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.bar_write(&f, 6, 0, 4, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.bar_write(&f, 4, 2, 4, 0), -VIO_EINVAL);
	assert_int_equal(vio_pci_ecam_bus.bar_write(&f, 4, 0, 8, 0), -VIO_EINVAL);
	assert_memory_equal(b1, bar1, sizeof(b1));
	assert_memory_equal(b4, bar4, sizeof(b4));
	/* The probe configuration takes the memory BARs only. */
	struct vio_pci_front_config fc;
	memset(&fc, 0xff, sizeof(fc));
	vio_pci_ecam_front_config(&f, 3, &fc);
	assert_int_equal(fc.queue_slots, 3);
	const uint64_t want[VIO_PCI_NUM_BARS] = {0, sizeof(bar1), 0, 0, sizeof(bar4), 0};
	for (unsigned i = 0; i < VIO_PCI_NUM_BARS; i++)
		assert_int_equal(fc.bar_size[i], want[i]);
}

/* The front's probe over the ECAM accessors, against the configuration
 * space of the fake function (its capability list) copied into the ECAM
 * image, with its structures in the two BAR arrays. */
static void test_pci_ecam_probe_image(void **state)
{
	(void)state;
	struct fake_pci *p = calloc(1, sizeof(*p));
	assert_non_null(p);
	fake_pci_init(p, VIO_ID_RNG, 1, 8);
	memset(ecam, 0xff, sizeof(ecam)); /* no function anywhere else */
	memcpy(ecam + FN_OFF, p->cfg, sizeof(p->cfg));
	memset(ecam + FN_OFF + sizeof(p->cfg), 0, VIO_PCI_ECAM_FN_SIZE - sizeof(p->cfg));
	memset(bar1, 0, sizeof(bar1));
	memset(bar4, 0, sizeof(bar4));
	struct vio_pci_ecam_fn f, empty;
	assert_int_equal(vio_pci_ecam_fn_init(&f, (uintptr_t)ecam, 0, DEV, FN), 0);
	assert_int_equal(vio_pci_ecam_fn_init(&empty, (uintptr_t)ecam, 0, 1, 0), 0);
	assert_int_equal(vio_pci_ecam_vendor_id(&empty), 0xffffu);
	assert_int_equal(vio_pci_ecam_vendor_id(&f), VIO_PCI_VENDOR_ID);
	f.bars.bar[1] = (struct vio_pci_bar){
		.addr = (uintptr_t)bar1, .size = sizeof(bar1), .kind = VIO_PCI_BAR_MEM32};
	f.bars.bar[4] = (struct vio_pci_bar){
		.addr = (uintptr_t)bar4, .size = sizeof(bar4), .kind = VIO_PCI_BAR_MEM64};
	struct vio_pci_front_config fc;
	vio_pci_ecam_front_config(&f, 1, &fc);
	_Alignas(8) unsigned char mem[VIO_PCI_FRONT_MEM_SIZE(1)];
	struct vio_pci_front *front;
	assert_int_equal(vio_pci_front_probe(&front, mem, sizeof(mem), &vio_pci_ecam_bus, &f, &fc),
			 0);
	assert_int_equal(vio_pci_front_device_id(front), VIO_ID_RNG);
	assert_int_equal(vio_pci_front_pci_device_id(front), 0x1040u + VIO_ID_RNG);
	struct vio_pci_region r;
	assert_int_equal(vio_pci_front_region(front, VIO_PCI_CAP_COMMON_CFG, &r), 0);
	assert_int_equal(r.bar, 4);
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_ecam_offset_and_init),
		cmocka_unit_test(test_pci_ecam_cfg_access),
		cmocka_unit_test(test_pci_ecam_bar_access),
		cmocka_unit_test(test_pci_ecam_probe_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
