/* SPDX-License-Identifier: MIT */
/* QEMU `-M virt,highmem=off` (aarch64), EL1, MMU and caches off. Addresses
 * from QEMU's hw/arm/virt.c memory map (checked against the machine's device
 * tree, `-machine dumpdtb=`). With highmem=off the PCIe ECAM is the 16 MiB
 * one at 0x3f000000 (buses 0..15). */
#include "board.h"

#define PL011 0x09000000u
#define PL011_DR 0x00u
#define PL011_FR 0x18u
#define PL011_FR_TXFF 0x20u /* transmit FIFO full */
#define SEMIHOST_SYS_EXIT 0x18u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

const struct board_info board = {
	.name = "aarch64 virt",
	.mmio_base = 0x0a000000u,
	.mmio_stride = 0x200u,
	.mmio_slots = 32, /* the first -device sits in the highest slot */
	.ecam_base = 0x3f000000u,
	.ecam_buses = 16,
	.pci_mem_base = 0x10000000u,
	.pci_mem_size = 0x2eff0000u,
};

void board_putc(char c)
{
	while ((bm_read32(PL011 + PL011_FR) & PL011_FR_TXFF) != 0)
		;
	bm_write32(PL011 + PL011_DR, (uint8_t)c);
}

/* Semihosting SYS_EXIT, AArch64 form: x1 points at {reason, subcode} and
 * QEMU exits with the subcode. */
_Noreturn void board_exit(unsigned status)
{
	static uint64_t block[2];
	block[0] = ADP_STOPPED_APPLICATION_EXIT;
	block[1] = status;
	register uint64_t x0 __asm__("x0") = SEMIHOST_SYS_EXIT;
	register uint64_t x1 __asm__("x1") = (uint64_t)(uintptr_t)block;
	__asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	for (;;)
		__asm__ volatile("wfi");
}

uint64_t board_ticks(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}

uint64_t board_tick_hz(void)
{
	uint64_t v;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}
