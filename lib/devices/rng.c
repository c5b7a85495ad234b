/* SPDX-License-Identifier: MIT */
/* virtio-rng device model and driver helper (virtio 1.4 §5.4). */
#include <virtio/errors.h>
#include <virtio/rng.h>

int vio_rng_dev_init(struct vio_rng_dev *r, struct vio_devq *dq, const struct vio_rng_dev_ops *ops,
		     void *ctx, struct vio_chain_seg *segs, uint16_t max_segs)
{
	if (r == NULL || dq == NULL || ops == NULL || ops->fill == NULL || segs == NULL ||
	    max_segs < 2)
		return -VIO_EINVAL;
	r->dq = dq;
	r->ops = ops;
	r->ctx = ctx;
	r->segs = segs;
	r->max_segs = max_segs;
	r->holding = false;
	return 0;
}

/* Fill the writable segments in order, stopping at the first short fill,
 * so the bytes written are a prefix of the writable part (§2.7.8.1). A
 * truncated chain's array ends with the chain's final segment, which is not
 * contiguous with the others: it is left alone. *room tells whether any
 * byte could have been written. */
static uint32_t fill_chain(struct vio_rng_dev *r, const struct vio_chain *c, bool *room)
{
	uint16_t end = c->nseg;
	uint32_t done = 0;
	if ((c->flags & VIO_CHAIN_TRUNCATED) != 0)
		end--;
	*room = false;
	for (uint16_t i = c->nout; i < end; i++) {
		const struct vio_chain_seg *s = &c->segs[i];
		if (s->len == 0)
			continue;
		*room = true;
		size_t n = r->ops->fill(r->ctx, s->ptr, s->len);
		if (n > s->len)
			n = s->len; /* a callback that claims more than it was given */
		done += (uint32_t)n;
		if (n < s->len)
			break;
	}
	return done;
}

int vio_rng_dev_process(struct vio_rng_dev *r)
{
	int completed = 0;
	for (;;) {
		int rc;
		if (!r->holding) {
			rc = vio_devq_pop(r->dq, &r->held, r->segs, r->max_segs);
			if (rc == -VIO_EAGAIN)
				return completed;
			if (rc == -VIO_ENOSPC)
				return vio_devq_fail(r->dq, -VIO_EREQUEST);
			if (rc < 0)
				return rc;
			/* §5.4.6.1: the driver MUST NOT place device-readable
			 * buffers in the queue. */
			if (r->held.nout != 0 || r->held.out_bytes != 0) {
				(void)vio_devq_drop(r->dq, &r->held);
				return vio_devq_fail(r->dq, -VIO_ERNG_READABLE);
			}
			r->holding = true;
		}
		bool room;
		uint32_t n = fill_chain(r, &r->held, &room);
		if (n == 0 && room)
			return completed; /* no entropy now: keep the chain (§5.4.6.2) */
		r->holding = false;
		rc = vio_devq_push(r->dq, &r->held, n);
		if (rc != 0) {
			(void)vio_devq_drop(r->dq, &r->held);
			return rc;
		}
		completed++;
	}
}

bool vio_rng_dev_waiting(const struct vio_rng_dev *r)
{
	return r->holding;
}

void vio_rng_dev_reset(struct vio_rng_dev *r)
{
	if (r->holding)
		(void)vio_devq_drop(r->dq, &r->held);
	r->holding = false;
}

int vio_rng_drv_init(struct vio_rng_drv *d, struct vio_vq *vq)
{
	if (d == NULL || vq == NULL)
		return -VIO_EINVAL;
	d->vq = vq;
	return 0;
}

int vio_rng_drv_submit(struct vio_rng_drv *d, void *buf, uint32_t len, void *token)
{
	if (d == NULL || buf == NULL || len == 0 || token == NULL)
		return -VIO_EINVAL;
	if (vio_vq_is_broken(d->vq))
		return -VIO_EBROKEN;
	struct vio_sg sg = {buf, len};
	return vio_vq_add(d->vq, &sg, 0, 1, token);
}

int vio_rng_drv_get(struct vio_rng_drv *d, void **token, uint32_t *len)
{
	if (d == NULL || token == NULL || len == NULL)
		return -VIO_EINVAL;
	int rc = vio_vq_get(d->vq, token, len);
	if (rc != 0)
		return rc;
	if (*len == 0)
		return vio_vq_fail(d->vq, -VIO_ERNG_EMPTY);
	return 0;
}
