/* SPDX-License-Identifier: MIT */
/* The three libc functions libvirtio needs (and the compiler may call for
 * struct copies): memcpy, memset, memmove. Compiled with -fno-builtin and
 * -fno-tree-loop-distribute-patterns so the loops stay loops instead of
 * turning back into calls to themselves. Byte at a time: correct for any
 * alignment (the aarch64 board runs with the MMU off, where an unaligned
 * wide access faults). */
#include <stddef.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memset(void *d, int c, size_t n);
void *memmove(void *d, const void *s, size_t n);

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n-- > 0)
		*p++ = *q++;
	return d;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	while (n-- > 0)
		*p++ = (unsigned char)c;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	if (p < q) {
		while (n-- > 0)
			*p++ = *q++;
	} else {
		while (n-- > 0)
			p[n] = q[n];
	}
	return d;
}
