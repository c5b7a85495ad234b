/* SPDX-License-Identifier: MIT */
/* QEMU `-M virt` (riscv64), machine mode, no firmware (`-bios none`).
 * Addresses from QEMU's hw/riscv/virt.c memory map (checked against the
 * machine's device tree, `-machine dumpdtb=`). */
#include "board.h"

#define UART0 0x10000000u	/* ns16550a */
#define UART_THR 0u		/* transmit holding register */
#define UART_LSR 5u		/* line status register */
#define UART_LSR_THRE 0x20u	/* THR empty */
#define TEST_FINISHER 0x100000u /* sifive,test1 */
#define FINISHER_PASS 0x5555u
#define FINISHER_FAIL 0x3333u	/* | exit code << 16 */
#define CLINT_MTIME 0x0200bff8u /* 64-bit machine timer */
#define CLINT_HZ 10000000u	/* 10 MHz on QEMU virt */

const struct board_info board = {
	.name = "riscv64 virt",
	.mmio_base = 0x10001000u,
	.mmio_stride = 0x1000u,
	.mmio_slots = 8,
	.ecam_base = 0x30000000u, /* 256 MiB: buses 0..255 */
	.ecam_buses = 256,
	.pci_mem_base = 0x40000000u,
	.pci_mem_size = 0x40000000u,
};

void board_putc(char c)
{
	while ((bm_read8(UART0 + UART_LSR) & UART_LSR_THRE) == 0)
		;
	bm_write8(UART0 + UART_THR, (uint8_t)c);
}

_Noreturn void board_exit(unsigned status)
{
	bm_write32(TEST_FINISHER,
		   status == 0 ? FINISHER_PASS : ((status & 0xffffu) << 16) | FINISHER_FAIL);
	for (;;)
		__asm__ volatile("wfi");
}

uint64_t board_ticks(void)
{
	return *(volatile uint64_t *)CLINT_MTIME;
}

uint64_t board_tick_hz(void)
{
	return CLINT_HZ;
}
