/* SPDX-License-Identifier: MIT */
/* Test port header (VIO_PORT_HEADER): the cache-maintenance hooks record
 * their ranges instead of doing nothing. Used only by test_cache_hooks,
 * which builds the ring code itself with this header. */
#ifndef VIO_TEST_CACHE_PORT_H
#define VIO_TEST_CACHE_PORT_H

#include <stddef.h>

void cache_hook_clean(const void *p, size_t n);
void cache_hook_invalidate(const void *p, size_t n);

#define VIO_CACHE_CLEAN(p, n) cache_hook_clean((const void *)(p), (n))
#define VIO_CACHE_INVALIDATE(p, n) cache_hook_invalidate((const void *)(p), (n))

#endif
