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

/** @} */
#endif /* VIO_PORT_H */
