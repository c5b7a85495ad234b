/* SPDX-License-Identifier: MIT */
/**
 * @file pci_ecam.h
 * @brief Ready-made virtio-pci accessors for a CPU that reaches PCI
 *        configuration space through ECAM and the BARs at their addresses
 *        (bare metal, an RTOS, firmware): no accessor code to write.
 *
 * \defgroup vio_pci_ecam ECAM virtio-pci accessors (vio_pci_ecam)
 * @{
 * ECAM (the PCI Express "enhanced configuration access mechanism") maps
 * function bus:dev.fn's 4 KiB configuration space at
 * ecam_base + (bus << 20 | dev << 15 | fn << 12). ::vio_pci_ecam_bus is a
 * ::vio_pci_bus whose context is a ::vio_pci_ecam_fn: the function's
 * configuration address and its BARs. A bus scan and bring-up:
 * @code
 * static struct vio_pci_ecam_fn fn;
 * struct vio_pci_window win = {.mem_base = 0x40000000, .mem_size = 0x40000000};
 * vio_pci_ecam_fn_init(&fn, ecam_base, 0, dev, 0);
 * if (vio_pci_ecam_vendor_id(&fn) == VIO_PCI_VENDOR_ID &&
 *     vio_pci_front_assign_bars(&vio_pci_ecam_bus, &fn, &win, &fn.bars) == 0) {
 *         struct vio_pci_front_config fc;
 *         vio_pci_ecam_front_config(&fn, 2, &fc);
 *         rc = vio_pci_front_probe(&f, mem, sizeof(mem), &vio_pci_ecam_bus, &fn, &fc);
 * }
 * @endcode
 * (with firmware that placed the BARs already, vio_pci_front_size_bars()
 * fills @c fn.bars instead).
 *
 * **Accesses.** Each is one `volatile` load or store of the requested width
 * (1, 2 or 4 bytes), little-endian on the bus (a big-endian CPU swaps).
 * Configuration space: offsets below 4096, aligned to the width. BARs: only
 * memory BARs that ::vio_pci_ecam_fn::bars describes (a memory kind and a
 * size), inside that size, at CPU address = BAR address +
 * ::vio_pci_ecam_fn::bus_to_cpu. I/O BARs are refused (::VIO_EINVAL):
 * reaching I/O space is CPU-specific. Anything refused returns
 * ::VIO_EINVAL and touches nothing.
 *
 * **Ordering.** As mmio_direct.h: VIO_IO_WMB() before every store,
 * VIO_IO_RMB() after every load (port.h).
 *
 * **Not covered.** Mapping the ECAM and BAR windows uncached (the
 * embedder's MMU setup), bridges and buses behind them (the caller
 * enumerates), and delays: `delay` is NULL (copy the structure to set one,
 * as mmio_direct.h shows).
 *
 * **Threads.** The accessors keep no state; a ::vio_pci_ecam_fn is read
 * by them and written only by its owner.
 */
#ifndef VIO_PCI_ECAM_H
#define VIO_PCI_ECAM_H

#include <stdint.h>

#include <virtio/pci_front.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Bytes of configuration space ECAM maps per function. */
#define VIO_PCI_ECAM_FN_SIZE 4096u

/**
 * @brief Offset of function @p bus : @p dev . @p fn in an ECAM window
 *        (bus < 256, dev < 32, fn < 8; not checked here).
 */
#define VIO_PCI_ECAM_OFFSET(bus, dev, fn)                                                          \
	(((uintptr_t)(bus) << 20) | ((uintptr_t)(dev) << 15) | ((uintptr_t)(fn) << 12))

/** @brief One PCI function reached through ECAM: the context of
 *         ::vio_pci_ecam_bus. Fill with vio_pci_ecam_fn_init(). */
struct vio_pci_ecam_fn {
	/** CPU address of the function's configuration space. */
	uintptr_t cfg;
	/** Added to a BAR's bus address to get the CPU address (0 where they
	 * agree, as on QEMU's `virt` boards; wraps modulo 2^64). */
	uint64_t bus_to_cpu;
	/** The BARs: from vio_pci_front_assign_bars() or
	 *  vio_pci_front_size_bars(). Zeroed by vio_pci_ecam_fn_init(). */
	struct vio_pci_bars bars;
};

/**
 * @brief Point @p f at function @p bus : @p dev . @p fn of the ECAM window at
 *        @p ecam_base, with no BARs yet and @c bus_to_cpu 0. Touches no
 *        register.
 * @param f         The function to fill.
 * @param ecam_base CPU address of the ECAM window (bus 0).
 * @param bus       Bus number (< 256).
 * @param dev       Device number (< 32).
 * @param fn        Function number (< 8).
 * @retval 0 Success.
 * @retval -VIO_EINVAL NULL @p f, a number out of range, or an address that
 *         would wrap.
 */
int vio_pci_ecam_fn_init(struct vio_pci_ecam_fn *f, uintptr_t ecam_base, unsigned bus, unsigned dev,
			 unsigned fn);

/**
 * @brief Read the function's vendor ID (0xffff: no function there).
 * @param f The function (from vio_pci_ecam_fn_init(); not NULL).
 * @return The Vendor ID register.
 */
uint16_t vio_pci_ecam_vendor_id(const struct vio_pci_ecam_fn *f);

/**
 * @brief Fill a probe configuration from @p f's BARs: @c bar_size of every
 *        memory BAR the accessors reach, the rest zero.
 * @param f           The function (BARs filled).
 * @param queue_slots ::vio_pci_front_config::queue_slots.
 * @param cfg         Receives the configuration.
 */
void vio_pci_ecam_front_config(const struct vio_pci_ecam_fn *f, uint16_t queue_slots,
			       struct vio_pci_front_config *cfg);

/**
 * @brief virtio-pci accessors over ECAM and memory BARs. The context is a
 *        ::vio_pci_ecam_fn (referenced, not copied: its @c bars may be
 *        filled after the first call). `delay` is NULL.
 */
extern const struct vio_pci_bus vio_pci_ecam_bus;

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_PCI_ECAM_H */
