/* SPDX-License-Identifier: MIT */
#include "raw_ring.h"

#include <stdlib.h>
#include <string.h>

#include <virtio/port.h>

#include "guest_mem.h"

/* ---- Little-endian bytes ---------------------------------------------- */

void raw_put_le16(void *p, uint16_t v)
{
	unsigned char *b = p;
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
}

void raw_put_le32(void *p, uint32_t v)
{
	unsigned char *b = p;
	for (unsigned i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

void raw_put_le64(void *p, uint64_t v)
{
	unsigned char *b = p;
	for (unsigned i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

uint16_t raw_get_le16(const void *p)
{
	const unsigned char *b = p;
	return (uint16_t)(b[0] | (unsigned)b[1] << 8);
}

uint32_t raw_get_le32(const void *p)
{
	const unsigned char *b = p;
	uint32_t v = 0;
	for (unsigned i = 0; i < 4; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return v;
}

uint64_t raw_get_le64(const void *p)
{
	const unsigned char *b = p;
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

/* ---- Set-up ------------------------------------------------------------ */

static void need(bool cond)
{
	if (!cond)
		abort();
}

size_t raw_ring_desc_bytes(const struct raw_ring *r)
{
	return (size_t)16 * r->size;
}

size_t raw_ring_driver_bytes(const struct raw_ring *r)
{
	return r->format == VIO_RING_SPLIT ? vio_split_avail_size(r->size)
					   : vio_packed_event_size();
}

size_t raw_ring_device_bytes(const struct raw_ring *r)
{
	return r->format == VIO_RING_SPLIT ? vio_split_used_size(r->size) : vio_packed_event_size();
}

void raw_ring_rewind(struct raw_ring *r)
{
	r->avail_idx = 0;
	r->avail_wrap = true;
	r->dev_avail = 0;
	r->dev_avail_wrap = true;
	r->used_idx = 0;
	r->used_wrap = true;
}

void raw_ring_attach(struct raw_ring *r, enum vio_ring_format fmt, uint16_t size, void *desc,
		     void *driver, void *device)
{
	need(size != 0 && desc != NULL && driver != NULL && device != NULL);
	memset(r, 0, sizeof(*r));
	r->format = fmt;
	r->size = size;
	r->desc = desc;
	r->driver = driver;
	r->device = device;
	raw_ring_rewind(r);
}

void raw_ring_alloc(struct raw_ring *r, struct guest_mem *gm, enum vio_ring_format fmt,
		    uint16_t size)
{
	struct raw_ring tmp = {0};
	uint64_t da, dra, dea;
	tmp.format = fmt;
	tmp.size = size;
	size_t dalign = fmt == VIO_RING_SPLIT ? VIO_SPLIT_DESC_ALIGN : VIO_PACKED_DESC_ALIGN;
	size_t aalign = fmt == VIO_RING_SPLIT ? VIO_SPLIT_AVAIL_ALIGN : VIO_PACKED_EVENT_ALIGN;
	size_t ualign = fmt == VIO_RING_SPLIT ? VIO_SPLIT_USED_ALIGN : VIO_PACKED_EVENT_ALIGN;
	void *d = gm_alloc(gm, raw_ring_desc_bytes(&tmp), dalign, &da);
	void *dr = gm_alloc(gm, raw_ring_driver_bytes(&tmp), aalign, &dra);
	void *de = gm_alloc(gm, raw_ring_device_bytes(&tmp), ualign, &dea);
	raw_ring_attach(r, fmt, size, d, dr, de);
	r->desc_addr = da;
	r->driver_addr = dra;
	r->device_addr = dea;
}

void raw_ring_clear(struct raw_ring *r)
{
	memset(r->desc, 0, raw_ring_desc_bytes(r));
	memset(r->driver, 0, raw_ring_driver_bytes(r));
	memset(r->device, 0, raw_ring_device_bytes(r));
	raw_ring_rewind(r);
}

void raw_ring_devq_config(const struct raw_ring *r, struct vio_devq_config *cfg)
{
	cfg->format = r->format;
	cfg->size = r->size;
	cfg->desc_addr = r->desc_addr;
	cfg->driver_addr = r->driver_addr;
	cfg->device_addr = r->device_addr;
}

void raw_ring_vq_config(const struct raw_ring *r, struct vio_vq_config *cfg)
{
	cfg->format = r->format;
	cfg->size = r->size;
	cfg->desc = r->desc;
	cfg->driver_area = r->driver;
	cfg->device_area = r->device;
}

/* ---- Descriptors -------------------------------------------------------- */

/* Split: addr, len, flags, next; packed: addr, len, id, flags. Aligned
 * tables are written field by field with single stores (race-detector
 * friendly); others byte by byte. */
void raw_desc_put(void *table, unsigned i, enum vio_ring_format fmt, const struct raw_desc *d)
{
	need(table != NULL);
	unsigned char *p = (unsigned char *)table + (size_t)i * 16u;
	uint16_t w12 = fmt == VIO_RING_SPLIT ? d->flags : d->next_or_id;
	uint16_t w14 = fmt == VIO_RING_SPLIT ? d->next_or_id : d->flags;

	if (((uintptr_t)p & 7u) == 0) {
		struct vio_split_desc *s = (struct vio_split_desc *)(void *)p;
		VIO_WRITE_ONCE(s->addr.raw, vio_le64_make(d->addr).raw);
		VIO_WRITE_ONCE(s->len.raw, vio_le32_make(d->len).raw);
		VIO_WRITE_ONCE(s->flags.raw, vio_le16_make(w12).raw);
		VIO_WRITE_ONCE(s->next.raw, vio_le16_make(w14).raw);
		return;
	}
	raw_put_le64(p, d->addr);
	raw_put_le32(p + 8, d->len);
	raw_put_le16(p + 12, w12);
	raw_put_le16(p + 14, w14);
}

void raw_desc_get(const void *table, unsigned i, enum vio_ring_format fmt, struct raw_desc *d)
{
	need(table != NULL);
	const unsigned char *p = (const unsigned char *)table + (size_t)i * 16u;
	uint16_t w12, w14;

	if (((uintptr_t)p & 7u) == 0) {
		const struct vio_split_desc *s = (const struct vio_split_desc *)(const void *)p;
		d->addr = vio_le64_raw_to_cpu(VIO_READ_ONCE(s->addr.raw));
		d->len = vio_le32_raw_to_cpu(VIO_READ_ONCE(s->len.raw));
		w12 = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->flags.raw));
		w14 = vio_le16_raw_to_cpu(VIO_READ_ONCE(s->next.raw));
	} else {
		d->addr = raw_get_le64(p);
		d->len = raw_get_le32(p + 8);
		w12 = raw_get_le16(p + 12);
		w14 = raw_get_le16(p + 14);
	}
	d->flags = fmt == VIO_RING_SPLIT ? w12 : w14;
	d->next_or_id = fmt == VIO_RING_SPLIT ? w14 : w12;
}

void raw_split_put(void *table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		   uint16_t next)
{
	struct raw_desc d = {addr, len, flags, next};
	raw_desc_put(table, i, VIO_RING_SPLIT, &d);
}

void raw_packed_put(void *table, unsigned i, uint64_t addr, uint32_t len, uint16_t id,
		    uint16_t flags)
{
	struct raw_desc d = {addr, len, flags, id};
	raw_desc_put(table, i, VIO_RING_PACKED, &d);
}

/* ---- Split ring --------------------------------------------------------- */

static struct vio_split_avail *avail_of(const struct raw_ring *r)
{
	need(r->format == VIO_RING_SPLIT);
	return r->driver;
}

static struct vio_split_used *used_of(const struct raw_ring *r)
{
	need(r->format == VIO_RING_SPLIT);
	return r->device;
}

void raw_split_avail_entry_set(struct raw_ring *r, uint16_t pos, uint16_t head)
{
	vio_le16 *ring = vio_split_avail_ring(avail_of(r));
	VIO_WRITE_ONCE(ring[pos & (r->size - 1u)].raw, vio_le16_make(head).raw);
}

void raw_split_avail_publish(struct raw_ring *r, uint16_t idx)
{
	VIO_STORE_RELEASE(avail_of(r)->idx.raw, vio_le16_make(idx).raw);
	r->avail_idx = idx;
}

void raw_split_avail_add(struct raw_ring *r, uint16_t head)
{
	raw_split_avail_entry_set(r, r->avail_idx, head);
	raw_split_avail_publish(r, (uint16_t)(r->avail_idx + 1u));
}

void raw_split_avail_flags_set(struct raw_ring *r, uint16_t flags)
{
	VIO_WRITE_ONCE(avail_of(r)->flags.raw, vio_le16_make(flags).raw);
}

void raw_split_used_event_set(struct raw_ring *r, uint16_t v)
{
	VIO_WRITE_ONCE(vio_split_used_event(avail_of(r), r->size)->raw, vio_le16_make(v).raw);
}

uint16_t raw_split_avail_idx_get(const struct raw_ring *r)
{
	return vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(avail_of(r)->idx.raw));
}

uint16_t raw_split_avail_entry_get(const struct raw_ring *r, uint16_t pos)
{
	const vio_le16 *ring = vio_split_avail_ring(avail_of(r));
	return vio_le16_raw_to_cpu(VIO_READ_ONCE(ring[pos & (r->size - 1u)].raw));
}

uint16_t raw_split_used_event_get(const struct raw_ring *r)
{
	return vio_le16_raw_to_cpu(VIO_READ_ONCE(vio_split_used_event(avail_of(r), r->size)->raw));
}

int raw_split_avail_next(struct raw_ring *r, uint16_t *head)
{
	if (raw_split_avail_idx_get(r) == r->dev_avail)
		return -1;
	*head = raw_split_avail_entry_get(r, r->dev_avail);
	r->dev_avail++;
	return 0;
}

void raw_split_used_elem_set(struct raw_ring *r, uint16_t pos, uint32_t id, uint32_t len)
{
	struct vio_split_used_elem *e = &vio_split_used_ring(used_of(r))[pos & (r->size - 1u)];
	VIO_WRITE_ONCE(e->id.raw, vio_le32_make(id).raw);
	VIO_WRITE_ONCE(e->len.raw, vio_le32_make(len).raw);
}

void raw_split_used_publish(struct raw_ring *r, uint16_t idx)
{
	VIO_STORE_RELEASE(used_of(r)->idx.raw, vio_le16_make(idx).raw);
	r->used_idx = idx;
}

void raw_split_used_add(struct raw_ring *r, uint32_t id, uint32_t len)
{
	raw_split_used_elem_set(r, r->used_idx, id, len);
	raw_split_used_publish(r, (uint16_t)(r->used_idx + 1u));
}

void raw_split_used_flags_set(struct raw_ring *r, uint16_t flags)
{
	VIO_WRITE_ONCE(used_of(r)->flags.raw, vio_le16_make(flags).raw);
}

void raw_split_avail_event_set(struct raw_ring *r, uint16_t v)
{
	VIO_WRITE_ONCE(vio_split_avail_event(used_of(r), r->size)->raw, vio_le16_make(v).raw);
}

uint16_t raw_split_used_idx_get(const struct raw_ring *r)
{
	return vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(used_of(r)->idx.raw));
}

uint16_t raw_split_avail_flags_get(const struct raw_ring *r)
{
	return vio_le16_raw_to_cpu(VIO_READ_ONCE(avail_of(r)->flags.raw));
}

uint16_t raw_split_avail_event_get(const struct raw_ring *r)
{
	return vio_le16_raw_to_cpu(VIO_READ_ONCE(vio_split_avail_event(used_of(r), r->size)->raw));
}

/* ---- Packed ring -------------------------------------------------------- */

uint16_t raw_packed_avail_bits(bool wrap)
{
	return (uint16_t)(wrap ? VIO_DESC_F_AVAIL : VIO_DESC_F_USED);
}

uint16_t raw_packed_used_bits(bool wrap)
{
	return (uint16_t)(wrap ? (VIO_DESC_F_AVAIL | VIO_DESC_F_USED) : 0u);
}

void raw_packed_advance(uint16_t *slot, bool *wrap, unsigned n, uint16_t size)
{
	need(n <= size);
	unsigned s = *slot + n;
	if (s >= size) {
		s -= size;
		*wrap = !*wrap;
	}
	*slot = (uint16_t)s;
}

static struct vio_packed_desc *pdesc(const struct raw_ring *r, uint16_t slot)
{
	need(r->format == VIO_RING_PACKED && slot < r->size);
	return &((struct vio_packed_desc *)r->desc)[slot];
}

void raw_packed_flags_set(struct raw_ring *r, uint16_t slot, uint16_t flags)
{
	VIO_STORE_RELEASE(pdesc(r, slot)->flags.raw, vio_le16_make(flags).raw);
}

uint16_t raw_packed_flags_get(const struct raw_ring *r, uint16_t slot)
{
	return vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(pdesc(r, slot)->flags.raw));
}

void raw_packed_event_set(void *area, uint16_t off_wrap, uint16_t flags)
{
	struct vio_packed_event *e = area;
	VIO_WRITE_ONCE(e->off_wrap.raw, vio_le16_make(off_wrap).raw);
	VIO_STORE_RELEASE(e->flags.raw, vio_le16_make(flags).raw);
}

void raw_packed_event_get(const void *area, uint16_t *off_wrap, uint16_t *flags)
{
	const struct vio_packed_event *e = area;
	*flags = vio_le16_raw_to_cpu(VIO_LOAD_ACQUIRE(e->flags.raw));
	*off_wrap = vio_le16_raw_to_cpu(VIO_READ_ONCE(e->off_wrap.raw));
}

uint16_t raw_packed_avail_add(struct raw_ring *r, const struct raw_desc *d, unsigned n)
{
	need(n >= 1 && n <= r->size);
	uint16_t head = r->avail_idx, slot = head;
	bool wrap = r->avail_wrap;
	uint16_t head_flags = 0;

	for (unsigned k = 0; k < n; k++) {
		struct raw_desc x = d[k];
		x.flags = (uint16_t)(x.flags | raw_packed_avail_bits(wrap));
		if (k == 0) {
			head_flags = x.flags;
			/* Keep the head unavailable until the rest is written. */
			x.flags = raw_packed_flags_get(r, slot);
		}
		raw_desc_put(r->desc, slot, VIO_RING_PACKED, &x);
		raw_packed_advance(&slot, &wrap, 1, r->size);
	}
	r->avail_idx = slot;
	r->avail_wrap = wrap;
	raw_packed_flags_set(r, head, head_flags);
	return head;
}

int raw_packed_avail_next(struct raw_ring *r, uint16_t *id, uint16_t *ndesc)
{
	uint16_t slot = r->dev_avail;
	bool wrap = r->dev_avail_wrap;
	uint16_t flags = raw_packed_flags_get(r, slot);
	bool a = (flags & VIO_DESC_F_AVAIL) != 0, u = (flags & VIO_DESC_F_USED) != 0;

	if (a != wrap || u == wrap)
		return -1;
	for (unsigned n = 1; n <= r->size; n++) {
		struct raw_desc d;
		raw_desc_get(r->desc, slot, VIO_RING_PACKED, &d);
		if (n == 1)
			d.flags = flags;
		raw_packed_advance(&slot, &wrap, 1, r->size);
		if ((d.flags & VIO_DESC_F_NEXT) == 0) {
			*id = d.next_or_id;
			*ndesc = (uint16_t)n;
			r->dev_avail = slot;
			r->dev_avail_wrap = wrap;
			return 0;
		}
	}
	return -1;
}

void raw_packed_used_add(struct raw_ring *r, uint16_t id, uint32_t len, uint16_t extra_flags,
			 uint16_t ndesc)
{
	struct vio_packed_desc *d = pdesc(r, r->used_idx);
	VIO_WRITE_ONCE(d->id.raw, vio_le16_make(id).raw);
	VIO_WRITE_ONCE(d->len.raw, vio_le32_make(len).raw);
	raw_packed_flags_set(r, r->used_idx,
			     (uint16_t)(raw_packed_used_bits(r->used_wrap) | extra_flags));
	raw_packed_advance(&r->used_idx, &r->used_wrap, ndesc, r->size);
}

uint16_t raw_chain_add(struct raw_ring *r, uint16_t *cursor, const struct raw_desc *d, unsigned n,
		       uint16_t id)
{
	need(n >= 1 && n <= r->size);
	if (r->format == VIO_RING_SPLIT) {
		uint16_t head = *cursor;
		for (unsigned k = 0; k < n; k++) {
			uint16_t slot = (uint16_t)((head + k) % r->size);
			raw_split_put(r->desc, slot, d[k].addr, d[k].len, d[k].flags,
				      (uint16_t)((slot + 1u) % r->size));
		}
		*cursor = (uint16_t)((head + n) % r->size);
		raw_split_avail_add(r, head);
		return head;
	}
	struct raw_desc x[64];
	need(n <= 64);
	for (unsigned k = 0; k < n; k++) {
		x[k] = d[k];
		x[k].next_or_id = id;
	}
	raw_packed_avail_add(r, x, n);
	return id;
}

uint16_t raw_chain_add_linked(struct raw_ring *r, uint16_t *cursor, uint16_t *next_id,
			      const struct raw_desc *d, unsigned n)
{
	struct raw_desc x[64];
	need(n >= 1 && n <= 64);
	for (unsigned k = 0; k < n; k++) {
		x[k] = d[k];
		if (k + 1 < n)
			x[k].flags |= VIO_DESC_F_NEXT;
	}
	uint16_t id = *next_id;
	*next_id = (uint16_t)((id + 1u) % r->size);
	return raw_chain_add(r, cursor, x, n, id);
}

void raw_table_put(enum vio_ring_format fmt, void *table, const struct raw_desc *d, unsigned n)
{
	for (unsigned k = 0; k < n; k++) {
		if (fmt == VIO_RING_SPLIT)
			raw_split_put(table, k, d[k].addr, d[k].len, d[k].flags, (uint16_t)(k + 1));
		else
			raw_packed_put(table, k, d[k].addr, d[k].len, 0, d[k].flags);
	}
}
