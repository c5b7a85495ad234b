/* SPDX-License-Identifier: MIT */
/*
 * The fuzz input reader: little-endian integers and byte runs taken from the
 * input in order; past the end every read yields zeros.
 */
#ifndef VIO_FUZZ_INPUT_H
#define VIO_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fz_in {
	const uint8_t *p;
	size_t n;
	size_t off;
};

void fz_in_init(struct fz_in *in, const uint8_t *p, size_t n);
bool fz_in_done(const struct fz_in *in);
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in); /* little-endian */
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
/* Copy @len bytes (zero-filling what the input lacks). */
void fz_bytes(struct fz_in *in, void *dst, size_t len);

#endif /* VIO_FUZZ_INPUT_H */
