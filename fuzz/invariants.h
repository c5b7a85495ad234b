/* SPDX-License-Identifier: MIT */
/*
 * Failing an invariant (FZ_CHECK, fz_fail), the FZ_TRACE switch, and the
 * invariant checks more than one harness runs.
 */
#ifndef VIO_FUZZ_INVARIANTS_H
#define VIO_FUZZ_INVARIANTS_H

#include <stdbool.h>
#include <stdint.h>

#include <virtio/virtio.h>

/* Print what broke and trap (libFuzzer saves the input as a crash). */
_Noreturn void fz_fail(const char *what, const char *file, int line);

#define FZ_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fz_fail(#cond, __FILE__, __LINE__);                                        \
	} while (0)

/* FZ_TRACE=1 in the environment: print each action (for debugging a crash). */
bool fz_trace(void);

struct fz_mem;

/* After a successful pop: the chain's shape is consistent (readable
 * segments first, totals: equal to the sums, or for a truncated chain at
 * least them). Touches the first and last byte of every segment (writes
 * writable ones back unchanged). Where segments come from is checked by the
 * device engine (check_taken). */
void fz_check_chain(struct fz_mem *m, const struct vio_chain *c, const struct vio_chain_seg *segs,
		    uint16_t max_segs, uint16_t qsize);

/* Codes a device pop may return. */
bool fz_pop_rc_ok(int rc);
/* Codes a driver get may return. */
bool fz_get_rc_ok(int rc);

#endif /* VIO_FUZZ_INVARIANTS_H */
