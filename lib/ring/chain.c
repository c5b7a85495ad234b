/* SPDX-License-Identifier: MIT */
/* Copy helpers over a popped chain: byte offsets across segments. */
#include <virtio/chain.h>
#include <virtio/port.h>

void vio_chain_cursor_init(struct vio_chain_cursor *cur, const struct vio_chain *c, bool write)
{
	cur->chain = c;
	cur->seg = write ? c->nout : 0;
	cur->end = write ? c->nseg : c->nout;
	cur->off = 0;
	cur->pos = 0;
}

/* Move through the part, calling @copy (if any) on each contiguous piece. */
static size_t walk(struct vio_chain_cursor *cur, unsigned char *dst, const unsigned char *src,
		   size_t len)
{
	size_t done = 0;
	while (done < len && cur->seg < cur->end) {
		const struct vio_chain_seg *s = &cur->chain->segs[cur->seg];
		size_t room = s->len - cur->off;
		size_t n = len - done < room ? len - done : room;
		if (n != 0) {
			unsigned char *p = (unsigned char *)s->ptr + cur->off;
			if (dst != NULL)
				VIO_MEMCPY(dst + done, p, n);
			else if (src != NULL)
				VIO_MEMCPY(p, src + done, n);
		}
		done += n;
		cur->off += (uint32_t)n;
		cur->pos += n;
		if (cur->off == s->len) {
			cur->seg++;
			cur->off = 0;
		}
	}
	return done;
}

size_t vio_chain_cursor_read(struct vio_chain_cursor *cur, void *dst, size_t len)
{
	return walk(cur, dst, NULL, len);
}

size_t vio_chain_cursor_write(struct vio_chain_cursor *cur, const void *src, size_t len)
{
	return walk(cur, NULL, src, len);
}

size_t vio_chain_cursor_skip(struct vio_chain_cursor *cur, size_t len)
{
	return walk(cur, NULL, NULL, len);
}

size_t vio_chain_cursor_left(const struct vio_chain_cursor *cur)
{
	size_t left = 0;
	for (uint16_t i = cur->seg; i < cur->end; i++)
		left += cur->chain->segs[i].len;
	return left - (cur->seg < cur->end ? cur->off : 0);
}

size_t vio_chain_read(const struct vio_chain *c, size_t off, void *dst, size_t len)
{
	struct vio_chain_cursor cur;
	vio_chain_cursor_init(&cur, c, false);
	if (vio_chain_cursor_skip(&cur, off) != off)
		return 0;
	return vio_chain_cursor_read(&cur, dst, len);
}

size_t vio_chain_write(const struct vio_chain *c, size_t off, const void *src, size_t len)
{
	struct vio_chain_cursor cur;
	vio_chain_cursor_init(&cur, c, true);
	if (vio_chain_cursor_skip(&cur, off) != off)
		return 0;
	return vio_chain_cursor_write(&cur, src, len);
}
