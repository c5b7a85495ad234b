/* SPDX-License-Identifier: MIT */
/**
 * @file port.h
 * @brief Shared-memory access and barrier primitives, overridable per platform.
 *
 * \defgroup vio_port Platform port: barriers and shared-memory accesses
 * @{
 * The ring code touches memory shared with the peer only through these
 * macros. The defaults are C11-model atomics (GCC/Clang `__atomic` builtins,
 * which also apply to plain, non-`_Atomic` objects, or `<stdatomic.h>` fences
 * around volatile accesses elsewhere). They are right for two CPUs of one SMP
 * system, which is what virtio assumes unless VIRTIO_F_ORDER_PLATFORM is
 * negotiated (virtio 1.4 §6 "Reserved Feature Bits").
 *
 * A platform that needs other instructions (a DMA-coherent barrier for a real
 * PCI device, a bare-metal core without atomics) defines `VIO_PORT_HEADER` to
 * the name of a header, included first, that defines any of these macros;
 * what it leaves undefined keeps the default. Nobody edits library files to
 * port it.
 *
 * Every macro takes an lvalue of a 16-, 32- or 64-bit unsigned integer that
 * is naturally aligned.
 */
#ifndef VIO_PORT_H
#define VIO_PORT_H

#ifdef VIO_PORT_HEADER
#include VIO_PORT_HEADER
#endif

#if !defined(__GNUC__) && !defined(__clang__)
#include <stdatomic.h>
#endif

#if defined(__GNUC__) || defined(__clang__)

#ifndef VIO_READ_ONCE
/** @brief Load a shared field exactly once, with no ordering (relaxed). */
#define VIO_READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#endif
#ifndef VIO_WRITE_ONCE
/** @brief Store a shared field exactly once, with no ordering (relaxed). */
#define VIO_WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#endif
#ifndef VIO_LOAD_ACQUIRE
/** @brief Load a published index; later reads of what it covers are ordered after it. */
#define VIO_LOAD_ACQUIRE(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#endif
#ifndef VIO_STORE_RELEASE
/** @brief Publish an index; earlier writes of what it covers are ordered before it. */
#define VIO_STORE_RELEASE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#endif
#ifndef VIO_MB
/** @brief Full fence: orders earlier stores before later loads (event-index checks). */
#define VIO_MB() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

#else /* neither GCC nor Clang */

#if !defined(VIO_READ_ONCE) || !defined(VIO_WRITE_ONCE) || !defined(VIO_LOAD_ACQUIRE) ||           \
	!defined(VIO_STORE_RELEASE)
#error "this compiler has no __atomic builtins: define the VIO_* access macros in VIO_PORT_HEADER"
#endif
#ifndef VIO_MB
#define VIO_MB() atomic_thread_fence(memory_order_seq_cst)
#endif

#endif

/*
 * Compiler helpers. GCC and Clang get their builtins; any other C11 compiler
 * gets portable definitions, so a port header only has to supply the shared
 * memory accesses above.
 */
#ifndef VIO_EXPECT
#if defined(__GNUC__) || defined(__clang__)
/** @brief Branch hint: @p x is expected to equal @p v (the value of @p x). */
#define VIO_EXPECT(x, v) __builtin_expect((x), (v))
#else
#define VIO_EXPECT(x, v) (x)
#endif
#endif

#ifndef VIO_MEMSET
#if defined(__GNUC__) || defined(__clang__)
/** @brief Fill @p n bytes at @p d with @p c (private memory only, never shared rings in use). */
#define VIO_MEMSET(d, c, n) __builtin_memset((d), (c), (n))
#else
#include <stddef.h>
/** @cond VIO_INTERNAL */
static inline void vio__port_memset(void *d, int c, size_t n)
{
	unsigned char *p = (unsigned char *)d;
	while (n-- > 0)
		*p++ = (unsigned char)c;
}
/** @endcond */
#define VIO_MEMSET(d, c, n) vio__port_memset((d), (c), (n))
#endif
#endif

#ifndef VIO_MEMCPY
#if defined(__GNUC__) || defined(__clang__)
/** @brief Copy @p n bytes from @p s to @p d (non-overlapping). */
#define VIO_MEMCPY(d, s, n) __builtin_memcpy((d), (s), (n))
#else
#include <stddef.h>
/** @cond VIO_INTERNAL */
static inline void vio__port_memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = (unsigned char *)d;
	const unsigned char *q = (const unsigned char *)s;
	while (n-- > 0)
		*p++ = *q++;
}
/** @endcond */
#define VIO_MEMCPY(d, s, n) vio__port_memcpy((d), (s), (n))
#endif
#endif

/*
 * Cache maintenance for shared memory that is not coherent with this CPU
 * (AMP systems with a remote core, DMA without snooping). The ring code calls
 * VIO_CACHE_CLEAN(p, n) after it writes shared memory and before it publishes
 * (the release store that makes the writes visible), and
 * VIO_CACHE_INVALIDATE(p, n) before it reads shared memory the peer wrote.
 * Both default to nothing: coherent memory needs no maintenance. A port header
 * defines them over its cache operations (libmetal's metal_cache_flush() /
 * metal_cache_invalidate(), CMSIS SCB_CleanDCache_by_Addr(), ...).
 */
#ifndef VIO_CACHE_CLEAN
/** @brief Write back @p n bytes at @p p to memory the peer reads (default: no-op). */
#define VIO_CACHE_CLEAN(p, n) ((void)(p), (void)(n))
#endif
#ifndef VIO_CACHE_INVALIDATE
/** @brief Discard cached copies of @p n bytes at @p p before reading what the peer wrote
 *         (default: no-op). */
#define VIO_CACHE_INVALIDATE(p, n) ((void)(p), (void)(n))
#endif

/*
 * Device-register (I/O) ordering, for the ready-made direct accessors
 * (mmio_direct.h, pci_ecam.h): VIO_IO_WMB() runs before every register
 * store and VIO_IO_RMB() after every register load, as Linux's writel() and
 * readl() do, so that ring writes are visible before a notify and a
 * register read (InterruptStatus, QueueReady) is ordered before the shared
 * memory reads that follow it. The defaults are a full C11 fence (VIO_MB()),
 * enough where the device sits in the CPU's coherence domain and register
 * accesses stay in program order (QEMU's emulated devices; Device memory on
 * an Arm core with the MMU off). A CPU whose fences do not order I/O
 * (RISC-V needs `fence w,o` / `fence i,ir`; Arm with cached DMA
 * `dmb oshst` / `dmb oshld`) defines them in VIO_PORT_HEADER.
 */
#ifndef VIO_IO_WMB
/** @brief Order earlier memory accesses before the next device-register store. */
#define VIO_IO_WMB() VIO_MB()
#endif
#ifndef VIO_IO_RMB
/** @brief Order the last device-register load before later memory accesses. */
#define VIO_IO_RMB() VIO_MB()
#endif

/** @} */
#endif /* VIO_PORT_H */
