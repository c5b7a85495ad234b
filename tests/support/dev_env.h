/* SPDX-License-Identifier: MIT */
/* Test support for device-type tests (tests/devices/): a loop (loop.h) whose
 * device queue takes long chains (vio_devq_config::take_long_chains), plus
 * a bump allocator over the loop's data arena, which both halves reach
 * through the fake guest memory: request headers, status bytes and data
 * buffers handed to the driver helpers live there. */
#ifndef VIO_TEST_DEV_ENV_H
#define VIO_TEST_DEV_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

struct dev_env {
	struct loop l;
	size_t used; /* bytes of l.data handed out */
};

/* A loop of @fmt and @size with VERSION_1 (+ RING_PACKED), optionally
 * INDIRECT_DESC, an arena of @arena bytes, and a device queue re-made with
 * take_long_chains. Aborts on failure. */
void dev_env_init(struct dev_env *e, enum vio_ring_format fmt, uint16_t size, bool indirect,
		  size_t arena);
void dev_env_fini(struct dev_env *e);
/* @n zeroed bytes of the arena, 64-aligned. Aborts when it is exhausted. */
void *dev_env_alloc(struct dev_env *e, size_t n);
/* Forget every allocation (the arena is zeroed again). */
void dev_env_free_all(struct dev_env *e);

#endif
