/* SPDX-License-Identifier: MIT */
/*
 * The fuzz input reader: past the end every read yields zeros.
 */
#include "input.h"

#include <string.h>

void fz_in_init(struct fz_in *in, const uint8_t *p, size_t n)
{
	in->p = p;
	in->n = n;
	in->off = 0;
}

bool fz_in_done(const struct fz_in *in)
{
	return in->off >= in->n;
}

uint8_t fz_u8(struct fz_in *in)
{
	if (in->off >= in->n)
		return 0;
	return in->p[in->off++];
}

uint16_t fz_u16(struct fz_in *in)
{
	uint16_t lo = fz_u8(in);
	return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

uint32_t fz_u32(struct fz_in *in)
{
	uint32_t lo = fz_u16(in);
	return lo | (uint32_t)fz_u16(in) << 16;
}

uint64_t fz_u64(struct fz_in *in)
{
	uint64_t lo = fz_u32(in);
	return lo | (uint64_t)fz_u32(in) << 32;
}

void fz_bytes(struct fz_in *in, void *dst, size_t len)
{
	size_t avail = in->off < in->n ? in->n - in->off : 0;
	size_t k = len < avail ? len : avail;
	if (k != 0)
		memcpy(dst, in->p + in->off, k);
	if (k < len)
		memset((unsigned char *)dst + k, 0, len - k);
	in->off += k;
}
