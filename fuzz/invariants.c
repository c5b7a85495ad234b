/* SPDX-License-Identifier: MIT */
/*
 * Failing an invariant, the FZ_TRACE switch, and the checks of a popped
 * chain and of return codes that several harnesses run.
 */
#include "invariants.h"

#include "guarded_mem.h"

#include <stdio.h>
#include <stdlib.h>

_Noreturn void fz_fail(const char *what, const char *file, int line)
{
	fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", what, file, line);
	fflush(stderr);
	abort();
}

bool fz_trace(void)
{
	static int on = -1;
	if (on < 0)
		on = getenv("FZ_TRACE") != NULL;
	return on != 0;
}

void fz_check_chain(struct fz_mem *m, const struct vio_chain *c, const struct vio_chain_seg *segs,
		    uint16_t max_segs, uint16_t qsize)
{
	(void)m;
	FZ_CHECK(c->segs == segs);
	FZ_CHECK(c->nseg >= 1 && c->nseg <= max_segs);
	FZ_CHECK(c->nout <= c->nseg);
	FZ_CHECK(c->ndesc >= 1 && c->ndesc <= qsize);
	FZ_CHECK(c->id < qsize);
	FZ_CHECK((c->flags & ~(unsigned)(VIO_CHAIN_TRUNCATED | VIO_CHAIN_MAPPED)) == 0);

	uint64_t out = 0, in = 0;
	for (unsigned i = 0; i < c->nseg; i++) {
		const struct vio_chain_seg *s = &segs[i];
		FZ_CHECK(s->write == (i >= c->nout));
		if (s->write)
			in += s->len;
		else
			out += s->len;
		if (s->len == 0) {
			FZ_CHECK(s->ptr == NULL);
			continue;
		}
		FZ_CHECK(s->ptr != NULL);
		/* Touch both ends: ASan checks them against the allocation. A
		 * writable byte is written back unchanged. */
		volatile unsigned char *p = s->ptr;
		unsigned char a = p[0], b = p[s->len - 1];
		if (s->write) {
			p[0] = a;
			p[s->len - 1] = b;
		}
	}
	if (c->flags & VIO_CHAIN_TRUNCATED) {
		/* Whole-chain totals; the array holds part of them. */
		FZ_CHECK(out <= c->out_bytes);
		FZ_CHECK(in <= c->in_bytes);
	} else {
		FZ_CHECK(out == c->out_bytes);
		FZ_CHECK(in == c->in_bytes);
	}
	FZ_CHECK((uint64_t)c->out_bytes + c->in_bytes <= UINT32_MAX);
}

bool fz_pop_rc_ok(int rc)
{
	if (rc == 0 || rc == -VIO_EAGAIN || rc == -VIO_ENOSPC || rc == -VIO_EBROKEN)
		return true;
	return rc <= -VIO_EDESC_HEAD && rc >= -VIO_EDESC_INFLIGHT;
}

bool fz_get_rc_ok(int rc)
{
	if (rc == 0 || rc == -VIO_EAGAIN || rc == -VIO_EBROKEN)
		return true;
	return rc <= -VIO_EUSED_ID && rc >= -VIO_EUSED_JUMP;
}
