/* SPDX-License-Identifier: MIT */
/* Device queue: guest memory. Translation through the region table (last
 * hit first) and the map callback, chains of segments across adjacent
 * regions, the release hook and the write log. */
#include "devq_impl.h"

int vio__mem_table_check(const struct vio_mem_region *r, uint32_t n)
{
	if (n != 0 && r == NULL)
		return -VIO_EINVAL;
	for (uint32_t i = 0; i < n; i++)
		if (r[i].size != 0 && r[i].guest_addr + (r[i].size - 1u) < r[i].guest_addr)
			return -VIO_EINVAL;
	return 0;
}

static bool region_has(const struct vio_mem_region *r, uint64_t addr, enum vio_map_dir dir)
{
	return addr - r->guest_addr < r->size && (dir & ~r->access) == 0;
}

/* The embedder's map callback, for what the region table does not cover. */
static inline int map_cb(struct vio_devq *q, uint64_t addr, uint64_t len, enum vio_map_dir dir,
			 struct vio__ring_part *out)
{
	if (q->mem_ops == NULL || q->mem_ops->map == NULL)
		return -VIO_EMAP;
	struct vio_mapping m = {NULL, 0, false};
	int rc = q->mem_ops->map(q->mem_ctx, addr, len, dir, &m);
	if (rc == -VIO_EMAP_AGAIN)
		return rc;
	if (rc < 0 || m.host == NULL || m.len == 0) {
		/* Refused; a bogus grant (no host or no bytes) is refused too,
		 * and given back as it came if it asked for release. */
		if (rc == 0 && m.release && q->mem_ops->release)
			q->mem_ops->release(q->mem_ctx, m.host, addr, m.len, dir);
		return -VIO_EMAP;
	}
	out->addr = addr;
	out->dir = dir;
	out->host = m.host;
	out->len = m.len < len ? m.len : len;
	out->release = m.release && q->mem_ops->release != NULL;
	return 0;
}

/* The start of [addr, addr + len): a host address and how many bytes from
 * there are contiguous (1 .. len), in @out, which on success also records
 * the address and direction its release needs. @len ≥ 1 and the range does
 * not wrap. */
static int xlate_hint(struct vio_devq *q, uint32_t *hint, uint64_t addr, uint64_t len,
		      enum vio_map_dir dir, struct vio__ring_part *out)
{
	if (q->nregions == 0)
		return map_cb(q, addr, len, dir, out);
	/* The region that matched last, then the others in table order. */
	const struct vio_mem_region *r = &q->regions[*hint];
	if (!region_has(r, addr, dir)) {
		r = NULL;
		for (uint32_t i = 0; i < q->nregions; i++) {
			if (i != *hint && region_has(&q->regions[i], addr, dir)) {
				*hint = i;
				r = &q->regions[i];
				break;
			}
		}
	}
	if (r != NULL) {
		uint64_t off = addr - r->guest_addr, room = r->size - off;
		out->addr = addr;
		out->dir = dir;
		out->host = (unsigned char *)r->host + off;
		out->len = len < room ? len : room;
		out->release = false;
		return 0;
	}
	return map_cb(q, addr, len, dir, out);
}

/* Buffers: the hint the inline fast paths use (kept as a copy in q->hint). */
static VIO_ALWAYS_INLINE int xlate(struct vio_devq *q, uint64_t addr, uint64_t len,
				   enum vio_map_dir dir, struct vio__ring_part *out)
{
	if (q->nregions == 0)
		return map_cb(q, addr, len, dir, out); /* no table: straight to the callback */
	uint32_t was = q->last_region;
	int rc = xlate_hint(q, &q->last_region, addr, len, dir, out);
	if (q->last_region != was)
		vio__devq_set_hint(q, &q->regions[q->last_region]);
	return rc;
}

static bool range_ok(uint64_t addr, uint64_t len)
{
	if (len == 0 || addr + (len - 1u) < addr)
		return false;
#if SIZE_MAX < UINT64_MAX
	if (len > SIZE_MAX)
		return false;
#endif
	return true;
}

void vio__devq_unmap(struct vio_devq *q, const struct vio__ring_part *m)
{
	if (m->release)
		q->mem_ops->release(q->mem_ctx, m->host, m->addr, m->len, m->dir);
}

int vio__chain_single_slow(struct vio_devq *q, struct vio_chain *c, struct vio_chain_seg *segs,
			   uint16_t id, uint64_t addr, uint32_t len, bool write)
{
	if (!range_ok(addr, len))
		return 1;
	enum vio_map_dir dir = write ? VIO_MAP_WRITE : VIO_MAP_READ;
	struct vio__ring_part m;
	int rc = xlate(q, addr, len, dir, &m);
	if (rc < 0)
		return rc;
	if (m.len < len) {
		vio__devq_unmap(q, &m);
		return 1;
	}
	vio__chain_one(q, c, segs, id, m.host, addr, len, write, m.release);
	return 0;
}

/* One contiguous mapping of [addr, addr+len) (a ring part), or -VIO_EMAP /
 * -VIO_EMAP_AGAIN. */
static int map_contig(struct vio_devq *q, uint32_t *hint, uint64_t addr, uint64_t len,
		      enum vio_map_dir dir, struct vio__ring_part *m)
{
	if (!range_ok(addr, len))
		return -VIO_EMAP;
	int rc = xlate_hint(q, hint, addr, len, dir, m);
	if (rc < 0)
		return rc;
	if (m->len < len) {
		/* Runs into another region: a ring part needs one pointer.
		 * Released here, so leave nothing that looks mapped. */
		vio__devq_unmap(q, m);
		m->host = NULL;
		m->release = false;
		return -VIO_EMAP;
	}
	return 0;
}

/* Map an indirect table for reading: in one piece, or in up to
 * VIO__TABLE_PIECES pieces when it runs across adjacent regions. */
static int map_table(struct vio_devq *q, uint64_t addr, uint64_t len, struct vio__table *t)
{
	t->npieces = 0;
	/* Tables usually live apart from buffers: their own hint, so that
	 * neither evicts the other. */
	const struct vio_mem_region *r = &q->regions[q->last_table_region];
	uint64_t off = addr - r->guest_addr;
	if (vio_likely(off < r->size && len <= r->size - off && (r->access & VIO_MAP_READ) != 0)) {
		t->piece[0] = (struct vio__ring_part){
			(unsigned char *)r->host + off, addr, len, VIO_MAP_READ, 0, false};
		t->npieces = 1;
		return 0;
	}
	if (!range_ok(addr, len))
		return -VIO_EMAP;
	uint64_t done = 0;
	while (done < len) {
		if (t->npieces == VIO__TABLE_PIECES) {
			vio__table_unmap(q, t);
			return -VIO_EMAP;
		}
		struct vio__ring_part *m = &t->piece[t->npieces];
		int rc = xlate_hint(q, &q->last_table_region, addr + done, len - done, VIO_MAP_READ,
				    m);
		if (rc < 0) {
			vio__table_unmap(q, t);
			return rc;
		}
		t->npieces++;
		done += m->len;
	}
	return 0;
}

void vio__table_unmap_pieces(struct vio_devq *q, struct vio__table *t)
{
	for (uint32_t k = 0; k < t->npieces; k++)
		vio__devq_unmap(q, &t->piece[k]);
	t->npieces = 0;
}

void vio__table_read_pieces(const struct vio__table *t, uint32_t j, bool packed,
			    struct vio__desc *d)
{
	uint64_t off = (uint64_t)j * 16u;
	uint32_t k = 0;
	while (off >= t->piece[k].len) {
		off -= t->piece[k].len;
		k++;
	}
	const unsigned char *p = (const unsigned char *)t->piece[k].host + off;
	if (vio_likely(t->piece[k].len - off >= 16u)) {
		vio__desc_read(p, packed, d);
		return;
	}
	/* The entry straddles two pieces (or more): copy its bytes once. */
	_Alignas(8) unsigned char buf[16];
	for (unsigned i = 0; i < 16u; i++) {
		while (off >= t->piece[k].len) {
			off -= t->piece[k].len;
			k++;
		}
		buf[i] = ((const volatile unsigned char *)t->piece[k].host)[off];
		off++;
	}
	vio__desc_read(buf, packed, d);
}

void vio__devq_release_rings(struct vio_devq *q, struct vio__ring_part parts[VIO__NPARTS])
{
	for (unsigned i = 0; i < VIO__NPARTS; i++) {
		vio__devq_unmap(q, &parts[i]);
		parts[i].release = false;
	}
}

int vio__devq_map_rings(struct vio_devq *q, struct vio__ring_part parts[VIO__NPARTS])
{
	for (unsigned i = 0; i < VIO__NPARTS; i++)
		parts[i].release = false;
	for (unsigned i = 0; i < VIO__NPARTS; i++) {
		uint32_t hint = 0;
		int rc = map_contig(q, &hint, parts[i].addr, parts[i].len, parts[i].dir, &parts[i]);
		if (rc < 0) {
			parts[i].release = false;
			vio__devq_release_rings(q, parts);
			return rc == -VIO_EMAP_AGAIN ? rc : -VIO_ERING_MAP;
		}
	}
	return 0;
}

void vio__devq_release_segs(struct vio_devq *q, struct vio_chain_seg *segs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vio_chain_seg *s = &segs[i];
		if (s->release) {
			s->release = false;
			q->mem_ops->release(q->mem_ctx, s->ptr, s->addr, s->len,
					    s->write ? VIO_MAP_WRITE : VIO_MAP_READ);
		}
	}
}

VIO_NOINLINE void vio__devq_finish_chain(struct vio_devq *q, const struct vio_chain *c,
					 uint32_t written)
{
	struct vio_chain_seg *segs = c->segs;
	if (q->log_write != NULL) {
		/* A truncated chain's written bytes may lie in the segments
		 * that were left out, or in its last one: log every writable
		 * segment present (dirty logging may over-report, never miss). */
		bool all = (c->flags & VIO_CHAIN_TRUNCATED) != 0;
		uint32_t left = written;
		for (unsigned i = c->nout; i < c->nseg && (all || left != 0); i++) {
			uint32_t n = all || segs[i].len < left ? segs[i].len : left;
			if (n != 0)
				q->log_write(q->mem_ctx, segs[i].addr, n);
			left -= all ? 0 : n;
		}
	}
	if (c->flags & VIO_CHAIN_MAPPED)
		vio__devq_release_segs(q, segs, c->nseg);
}

/* Append one segment; with the array full, take_long keeps the chain's
 * latest segment in the last slot. */
static int put_seg(struct vio_devq *q, struct vio__chain_builder *b, void *ptr, uint64_t addr,
		   uint32_t len, bool write, bool release)
{
	struct vio_chain_seg *s;
	if (vio_likely(b->nseg < b->max_segs)) {
		s = &b->segs[b->nseg++];
	} else {
		if (!q->take_long || b->max_segs == 0) {
			if (release)
				q->mem_ops->release(q->mem_ctx, ptr, addr, len,
						    write ? VIO_MAP_WRITE : VIO_MAP_READ);
			return -VIO_ENOSPC;
		}
		b->truncated = true;
		s = &b->segs[b->max_segs - 1u];
		vio__devq_release_segs(q, s, 1);
		if (!s->write)
			b->nout--;
	}
	s->ptr = ptr;
	s->addr = addr;
	s->len = len;
	s->write = write;
	s->release = release;
	b->mapped = b->mapped || release;
	if (!write)
		b->nout++;
	return 0;
}

int vio__chain_add_slow(struct vio_devq *q, struct vio__chain_builder *b, uint64_t addr,
			uint32_t len, bool write)
{
	if (len == 0)
		return put_seg(q, b, NULL, addr, 0, write, false);
	if (!range_ok(addr, len))
		return -VIO_EMAP;
	enum vio_map_dir dir = write ? VIO_MAP_WRITE : VIO_MAP_READ;
	/* One segment per region the buffer covers (adjacent in guest
	 * address space, anywhere in host address space). */
	while (len != 0) {
		struct vio__ring_part m;
		int rc = xlate(q, addr, len, dir, &m);
		if (rc < 0)
			return rc;
		rc = put_seg(q, b, m.host, addr, (uint32_t)m.len, write, m.release);
		if (rc < 0)
			return rc;
		addr += m.len;
		len -= (uint32_t)m.len;
	}
	return 0;
}

void vio__chain_end(const struct vio_devq *q, struct vio__chain_builder *b, uint16_t id,
		    uint16_t ndesc, uint16_t head)
{
	struct vio_chain *c = b->chain;
	c->id = id;
	c->head = head;
	c->ndesc = ndesc;
	c->nseg = (uint16_t)b->nseg;
	c->nout = (uint16_t)b->nout;
	c->out_bytes = (uint32_t)b->out_bytes;
	c->in_bytes = (uint32_t)b->in_bytes;
	c->flags = (uint16_t)((b->truncated ? VIO_CHAIN_TRUNCATED : 0u) |
			      (b->mapped ? VIO_CHAIN_MAPPED : 0u));
	c->gen = q->gen;
	c->segs = b->segs;
}

int vio__indirect_map(struct vio_devq *q, uint64_t addr, uint32_t len, uint16_t flags, bool nested,
		      struct vio__table *t)
{
	/* On failure @t is left alone: a nested table must not clobber the
	 * record of the table being walked, which the caller still releases. */
	if (nested)
		return -VIO_EINDIRECT_NESTED; /* §2.7.5.3.1: one table per descriptor */
	if (!q->indirect)
		return -VIO_EINDIRECT_FEATURE;
	if (flags & VIO_DESC_F_NEXT)
		return -VIO_EINDIRECT_NEXT; /* §2.7.5.3.1: not both INDIRECT and NEXT */
	if (len == 0)
		return -VIO_EINDIRECT_EMPTY;
	if (len % 16u != 0)
		return -VIO_EINDIRECT_SIZE;
	if (len / 16u > q->size)
		return -VIO_EINDIRECT_LONG;
	int rc = map_table(q, addr, len, t);
	if (rc < 0)
		return rc == -VIO_EMAP_AGAIN ? rc : -VIO_EINDIRECT_MAP;
	for (uint32_t k = 0; k < t->npieces; k++)
		VIO_CACHE_INVALIDATE(t->piece[k].host, t->piece[k].len);
	t->n = len / 16u;
	return 0;
}
