/* SPDX-License-Identifier: MIT */
/**
 * @file mmio_direct.h
 * @brief Ready-made virtio-mmio register accessors for a window the CPU
 *        addresses directly (bare metal, an RTOS without an MMU, a mapped
 *        window in a kernel): no accessor code to write.
 *
 * \defgroup vio_mmio_direct Direct virtio-mmio accessors (vio_mmio_direct)
 * @{
 * ::vio_mmio_direct_bus is a ::vio_mmio_bus whose context is the register
 * window's base address, as a pointer:
 * @code
 * struct vio_mmio_front *f;
 * int rc = vio_mmio_front_probe(&f, mem, sizeof(mem), &vio_mmio_direct_bus,
 *                               (void *)0x10001000u, 0x1000);
 * @endcode
 * Each access is one `volatile` load or store of the register's width (8,
 * 16 or 32 bits) at base + offset; a big-endian CPU swaps the value
 * (virtio-mmio registers are little-endian, §4.2.2). A 32-bit access needs a
 * CPU that does it in one instruction (every 32- and 64-bit CPU; a 16-bit
 * one may split it).
 *
 * **Ordering.** Every store is preceded by VIO_IO_WMB() and every load
 * followed by VIO_IO_RMB() (port.h): full C11 fences by default, right for
 * QEMU and for strongly ordered Device memory. A CPU whose fences do not
 * order device accesses overrides them with `VIO_PORT_HEADER`.
 *
 * **Not covered.** The mapping itself (the window must be mapped uncached,
 * as Device memory: the embedder's MMU setup), address translation, and
 * delays: ::vio_mmio_direct_bus has no `delay`, so the driver core polls a
 * reset back to back (bounded by ::vio_drv_config::reset_polls). For a
 * delay, copy the structure and set it:
 * @code
 * struct vio_mmio_bus bus = vio_mmio_direct_bus;
 * bus.delay = my_udelay; // void my_udelay(void *base, uint32_t us)
 * @endcode
 * Some hypervisors cannot emulate every load/store form a compiler may
 * choose for a volatile access (KVM on Arm and post-indexed addressing);
 * such a guest writes its own accessors with fixed instructions.
 *
 * **Threads.** The accessors keep no state: any thread may use them.
 */
#ifndef VIO_MMIO_DIRECT_H
#define VIO_MMIO_DIRECT_H

#include <virtio/mmio_front.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief virtio-mmio accessors over directly addressable registers. The
 *        context is the window's base address (`(void *)base`); offsets are
 *        added to it. All six access functions are set, `delay` is NULL.
 *
 * The accessors do not check offsets: vio_mmio_front_probe() keeps every
 * access inside the window size it was given.
 */
extern const struct vio_mmio_bus vio_mmio_direct_bus;

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_MMIO_DIRECT_H */
