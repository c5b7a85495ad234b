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
	FZ_CHECK(c->nseg <= max_segs);
	FZ_CHECK(c->nseg <= qsize);
	FZ_CHECK(c->nout <= c->nseg);
	FZ_CHECK(c->ndesc >= 1 && c->ndesc <= qsize);
	FZ_CHECK(c->id < qsize);

	uint64_t out = 0, in = 0;
	unsigned g = 0;
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
		unsigned want = s->write ? VIO_MAP_WRITE : VIO_MAP_READ;
		if (!m->grants_overflow) {
			/* Segments are mapped in order; an indirect table's grant
			 * may sit between them. */
			while (g < m->ngrants &&
			       !(m->grants[g].ptr == s->ptr && m->grants[g].len == s->len &&
				 m->grants[g].dir == want))
				g++;
			FZ_CHECK(g < m->ngrants);
			const struct fz_region *r = &m->r[m->grants[g].region];
			FZ_CHECK(r->host != NULL && (r->dirs & want) != 0);
			FZ_CHECK((const unsigned char *)s->ptr >= r->host &&
				 (const unsigned char *)s->ptr + s->len <= r->host + r->len);
			g++;
		}
		/* Touch both ends: ASan checks them against the allocation. A
		 * writable byte is written back unchanged (no shadow update). */
		volatile unsigned char *p = s->ptr;
		unsigned char a = p[0], b = p[s->len - 1];
		if (s->write) {
			p[0] = a;
			p[s->len - 1] = b;
		}
	}
	FZ_CHECK(out == c->out_bytes);
	FZ_CHECK(in == c->in_bytes);
	FZ_CHECK(out + in <= UINT32_MAX);
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
