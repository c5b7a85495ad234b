/* SPDX-License-Identifier: MIT */
/* Test port header (VIO_PORT_HEADER): every relaxed store to shared memory
 * first calls a hook with the field's address, so that a test can act as
 * the device at the instant before the driver writes its event. Used only
 * by test_vq_wakeup, which builds the ring code itself with this header
 * (GCC and Clang: the other macros keep port.h's defaults). */
#ifndef VIO_TEST_WAKEUP_PORT_H
#define VIO_TEST_WAKEUP_PORT_H

void wakeup_hook_store(const void *p);

#define VIO_WRITE_ONCE(x, v)                                                                       \
	(wakeup_hook_store(&(x)), __atomic_store_n(&(x), (v), __ATOMIC_RELAXED))

#endif
