/* SPDX-License-Identifier: MIT */
/*
 * Ring geometry shared by the device- and driver-half harnesses.
 */
#include "ring_geom.h"

#include <virtio/virtio.h>

void fz_packed_advance(uint16_t *slot, bool *wrap, unsigned n, uint16_t size)
{
	uint32_t s = (uint32_t)*slot + n;
	while (s >= size) {
		s -= size;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

uint16_t fz_split_size(uint16_t sel)
{
	return (uint16_t)(1u << (sel % 9u)); /* 1 .. 256 */
}

uint16_t fz_packed_size(uint16_t sel)
{
	return (uint16_t)(1u + sel % 256u); /* 1 .. 256, any */
}

void fz_split_ring_sizes(uint16_t size, size_t len[3])
{
	len[0] = vio_split_desc_size(size);
	len[1] = vio_split_avail_size(size);
	len[2] = vio_split_used_size(size);
}

void fz_packed_ring_sizes(uint16_t size, size_t len[3])
{
	len[0] = vio_packed_desc_size(size);
	len[1] = vio_packed_event_size();
	len[2] = vio_packed_event_size();
}
