/* SPDX-License-Identifier: MIT */
/* What the bare-metal program needs from a board: a console, an exit, a
 * clock and where the virtio devices can be found. One board_<arch>.c per
 * QEMU machine implements it; bm.c is the same on every board.
 *
 * Addresses are physical: the MMU is off, so a pointer's value is also the
 * address a device uses for DMA (the driver core's default identity
 * conversion). */
#ifndef BM_BOARD_H
#define BM_BOARD_H

#include <stdbool.h>
#include <stdint.h>

/* virtio-mmio transports: slot i at mmio_base + i * mmio_stride. */
struct board_info {
	const char *name;
	uintptr_t mmio_base;
	uint32_t mmio_stride; /* also the register window granted to the front */
	unsigned mmio_slots;
	uintptr_t ecam_base;   /* PCIe ECAM (bus 0 at offset 0) */
	unsigned ecam_buses;   /* buses the ECAM window covers */
	uint64_t pci_mem_base; /* 32-bit PCI memory window (bus address = CPU address) */
	uint64_t pci_mem_size;
};

extern const struct board_info board;

/* Write one byte to the UART (blocking). */
void board_putc(char c);
/* Leave QEMU: status 0 is success. Does not return. */
_Noreturn void board_exit(unsigned status);
/* A free-running clock and its frequency in Hz. */
uint64_t board_ticks(void);
uint64_t board_tick_hz(void);

/* Register accessors: volatile, exactly one bus access of the given width.
 * Both boards are little-endian like virtio-mmio and PCI, so no swap. */
static inline uint8_t bm_read8(uintptr_t a)
{
	return *(volatile uint8_t *)a;
}
static inline uint16_t bm_read16(uintptr_t a)
{
	return *(volatile uint16_t *)a;
}
static inline uint32_t bm_read32(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}
static inline void bm_write8(uintptr_t a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}
static inline void bm_write16(uintptr_t a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}
static inline void bm_write32(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

#endif
