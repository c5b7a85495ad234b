/* SPDX-License-Identifier: MIT */
/*
 * Ring geometry shared by the device- and driver-half harnesses and their
 * format hooks: queue sizes, ring part sizes, positions on a packed ring.
 */
#ifndef VIO_FUZZ_RING_GEOM_H
#define VIO_FUZZ_RING_GEOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* (slot, wrap) advance on a packed ring. */
void fz_packed_advance(uint16_t *slot, bool *wrap, unsigned n, uint16_t size);

/* The queue size an input selector picks (split: a power of two 1 .. 256;
 * packed: any of 1 .. 256) and the bytes of the descriptor, driver and
 * device areas for a size. */
uint16_t fz_split_size(uint16_t sel);
uint16_t fz_packed_size(uint16_t sel);
void fz_split_ring_sizes(uint16_t size, size_t len[3]);
void fz_packed_ring_sizes(uint16_t size, size_t len[3]);

#endif /* VIO_FUZZ_RING_GEOM_H */
