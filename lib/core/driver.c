/* SPDX-License-Identifier: MIT */
/* Driver core: the initialization sequence of virtio 1.4 §3.1.1 over any
 * transport front, feature negotiation, queue setup, configuration reads
 * with the generation check (§2.5.1), interrupts, device and queue reset
 * (§2.4, §2.6.1), freeze/restore and suspend (§3.4).
 *
 * The device is not trusted: every value read through the front is checked
 * and every wait is bounded by a count from the configuration. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/driver.h>
#include <virtio/errors.h>
#include <virtio/features.h>
#include <virtio/queue.h>
#include <virtio/ring_packed.h>
#include <virtio/ring_split.h>
#include <virtio/spec.h>
#include <virtio/vq.h>

/* Feature windows struct vio_features holds (bits 0..127). Windows 0 and 1
 * are always read and written; 2 and 3 only when needed (nwindows()). */
#define NWINDOWS (VIO_FEATURE_BITS / 32)
#define BASE_WINDOWS 2u

#define QUEUE_SIZE_MAX 32768u

enum qstate {
	Q_NONE = 0, /* never set up, or forgotten by a device reset */
	Q_SET,	    /* programmed and enabled, DRIVER_OK not yet written */
	Q_LIVE,	    /* programmed and enabled on a live device: may be notified */
	Q_RESET,    /* reset by vio_drv_queue_reset(): memory kept */
	Q_FROZEN    /* live when vio_drv_freeze() reset the device */
};

struct drv_queue {
	struct vio_vq *vq;
	uint64_t desc, driver, device; /* ring addresses while held */
	uint16_t vector;
	uint8_t state;
	bool addrs_held; /* the three ring conversions are outstanding */
};

struct vio_drv {
	const struct vio_drv_transport_ops *ops;
	void *ctx;
	const struct vio_drv_callbacks *cb;
	void *cb_ctx;
	const struct vio_dma_ops *dma_ops;
	void *dma_ctx;
	struct vio_features want;	/* the driver's supported set, ring bits added */
	struct vio_features required;	/* VERSION_1 included */
	struct vio_features device;	/* offered at the last negotiation */
	struct vio_features negotiated; /* written with FEATURES_OK */
	uint32_t expect_id;		/* 0: any */
	uint32_t device_id;		/* read at the first negotiation */
	uint32_t reset_polls, poll_delay_us, config_retries;
	int error;
	enum vio_drv_step step;
	enum vio_drv_state state;
	uint8_t status; /* the last status value written */
	uint8_t expect; /* bits that must read back set */
	bool negotiating;
	bool have_id;
	bool needs_reset_seen;
	bool use_vectors;
	uint8_t nwin; /* feature windows read and written (read_device_features()) */
	uint16_t config_vector;
	uint16_t nq;
	struct drv_queue q[];
};

_Static_assert(sizeof(struct vio_drv) <= VIO__DRV_FIXED_BYTES, "VIO__DRV_FIXED_BYTES too small");
_Static_assert(sizeof(struct drv_queue) <= VIO__DRV_PER_QUEUE_BYTES,
	       "VIO__DRV_PER_QUEUE_BYTES too small");
_Static_assert(_Alignof(struct vio_drv) <= VIO_DRV_MEM_ALIGN, "VIO_DRV_MEM_ALIGN too small");

/* ---- small helpers ---------------------------------------------------------------- */

static bool is_pow2(uint32_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static void delay(struct vio_drv *drv)
{
	if (drv->ops->delay != NULL)
		drv->ops->delay(drv->ctx, drv->poll_delay_us);
}

/* Latch the first error, write FAILED (its own failure is ignored: the
 * driver has given up either way) and return the latched code. */
static int fail(struct vio_drv *drv, int err, enum vio_drv_step step)
{
	if (err >= 0)
		err = -VIO_EINVAL;
	if (drv->state != VIO_DRV_FAILED) {
		drv->error = err;
		drv->step = step;
		drv->state = VIO_DRV_FAILED;
		drv->negotiating = false;
		drv->status = (uint8_t)(drv->status | VIO_STATUS_FAILED);
		(void)drv->ops->set_status(drv->ctx, drv->status);
	}
	return drv->error;
}

static int set_status(struct vio_drv *drv, uint8_t status)
{
	int rc = drv->ops->set_status(drv->ctx, status);
	if (rc == 0)
		drv->status = status;
	return rc;
}

/* Write 0 and poll until the status reads 0 (§2.4.2: the reset is complete
 * then), at most reset_polls reads with a delay between two. */
static int reset_wait(struct vio_drv *drv)
{
	int rc = drv->ops->set_status(drv->ctx, 0);
	if (rc < 0)
		return rc;
	drv->status = 0;
	drv->expect = 0;
	for (uint32_t i = 0; i < drv->reset_polls; i++) {
		uint8_t st;
		rc = drv->ops->get_status(drv->ctx, &st);
		if (rc < 0)
			return rc;
		if (st == 0)
			return 0;
		if (i + 1 < drv->reset_polls)
			delay(drv);
	}
	return -VIO_ETIMEOUT;
}

/* The device ID: 0 is no device; on the first read, another type than the
 * driver's is no device for this driver; later, any change is a lie. */
static int identify(struct vio_drv *drv)
{
	if (drv->ops->device_id == NULL)
		return 0;
	uint32_t id;
	int rc = drv->ops->device_id(drv->ctx, &id);
	if (rc < 0)
		return rc;
	if (drv->have_id)
		return id == drv->device_id ? 0 : -VIO_EDEVICE;
	if (id == 0 || (drv->expect_id != 0 && id != drv->expect_id))
		return -VIO_ENODEV;
	drv->device_id = id;
	drv->have_id = true;
	return 0;
}

/* The feature windows the driver needs: 0 and 1 always (VERSION_1 is bit
 * 32), and up to the highest window holding a bit the driver supports.
 *
 * Why not always all four: a device that decodes only windows 0 and 1 may
 * alias the others onto them. QEMU's virtio-mmio answers every non-zero
 * DeviceFeaturesSel with window 1, so reading windows 2 and 3 "offers" bits
 * 64..127 that are bits 32..63 again, and writing them lands on window 1.
 * virtio 1.4 gives no way to tell such a device from one that offers those
 * bits (§4.2.2: DeviceFeatures returns bits DeviceFeaturesSel·32 ..
 * DeviceFeaturesSel·32 + 31; §4.1.4.3.1: the PCI device presents its bits
 * "for any device_feature_select written by the driver"), but the driver
 * MUST ignore bits it does not know (§2.2.1), so a window holding none of
 * the driver's bits need not be read at all. */
static uint32_t nwindows(const struct vio_drv *drv)
{
	uint32_t n = BASE_WINDOWS;
	for (uint32_t w = BASE_WINDOWS; w < NWINDOWS; w++)
		if (vio_features_word32(&drv->want, w) != 0)
			n = w + 1;
	return n;
}

static int read_window(struct vio_drv *drv, uint32_t w, uint32_t *bits)
{
	return drv->ops->get_device_features(drv->ctx, w, bits);
}

/* Read windows 0 .. nwin-1. At the first read of a negotiation (@probe),
 * decide nwin: nwindows(), and when that reaches past window 1, check that
 * the device decodes the windows at all: window NWINDOWS (bits 128..159) is
 * reserved (§2.2: "128 and above ... reserved for future extensions"; a
 * device MUST NOT offer reserved bits, §2.2.2). If it reads non-zero and
 * the same as window 1, the device aliases every select above 0 onto
 * window 1: windows 2 and 3 are then taken as offering nothing and are
 * neither read again nor written. */
static int read_device_features(struct vio_drv *drv, struct vio_features *f, bool probe)
{
	if (probe)
		drv->nwin = (uint8_t)nwindows(drv);
	*f = vio_features_none();
	for (uint32_t w = 0; w < drv->nwin; w++) {
		uint32_t bits;
		int rc = read_window(drv, w, &bits);
		if (rc < 0)
			return rc;
		(void)vio_features_set_word32(f, w, bits);
	}
	if (probe && drv->nwin > BASE_WINDOWS) {
		uint32_t reserved;
		int rc = read_window(drv, NWINDOWS, &reserved);
		if (rc < 0)
			return rc;
		if (reserved != 0 && reserved == vio_features_word32(f, 1)) {
			drv->nwin = BASE_WINDOWS;
			for (uint32_t w = BASE_WINDOWS; w < NWINDOWS; w++)
				(void)vio_features_set_word32(f, w, 0);
		}
	}
	return 0;
}

/* The windows read (drv->nwin), highest first, window 0 last (Linux writes
 * window 1, then 0). A device that decodes only the windows it implements
 * may alias the others onto them: QEMU's virtio-mmio (4.2 and later) takes
 * every non-zero DriverFeaturesSel as 1, so writing zero windows 2 and 3
 * after window 1 would clear VERSION_1 and RING_PACKED in the device while
 * the driver believes them negotiated. nwindows() keeps windows 2 and 3 out
 * unless the driver has bits there, and read_device_features() drops them
 * on an aliasing device; this order is the second line of defence: the
 * last write to each aliased window is the real one. A device that decodes
 * every window sees the same values as in any order. */
static int write_driver_features(struct vio_drv *drv, const struct vio_features *f)
{
	for (uint32_t w = drv->nwin; w-- > 0;) {
		int rc = drv->ops->set_driver_features(drv->ctx, w, vio_features_word32(f, w));
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* After FEATURES_OK the device's feature bits are frozen: reading them
 * again must give what negotiation saw. */
static int recheck_features(struct vio_drv *drv)
{
	struct vio_features now;
	int rc = read_device_features(drv, &now, false);
	if (rc < 0)
		return rc;
	return vio_features_equal(&now, &drv->device) ? 0 : -VIO_EDEVICE;
}

static bool has(const struct vio_drv *drv, unsigned bit)
{
	return vio_features_test(&drv->negotiated, bit);
}

/* ---- creation ------------------------------------------------------------------------ */

size_t vio_drv_mem_size(uint16_t num_queues)
{
	return num_queues == 0 ? 0 : VIO_DRV_MEM_SIZE(num_queues);
}

int vio_drv_init(struct vio_drv **drvp, void *mem, size_t mem_size,
		 const struct vio_drv_config *cfg)
{
	if (drvp == NULL || mem == NULL || cfg == NULL || cfg->num_queues == 0)
		return -VIO_EINVAL;
	const struct vio_drv_transport_ops *o = cfg->ops;
	if (o == NULL || o->get_status == NULL || o->set_status == NULL ||
	    o->get_device_features == NULL || o->set_driver_features == NULL ||
	    o->config_read == NULL || o->config_write == NULL || o->queue_max == NULL ||
	    o->queue_setup == NULL || o->queue_enable == NULL || o->notify == NULL ||
	    o->interrupt_status == NULL)
		return -VIO_EINVAL;
	if ((o->queue_reset == NULL) != (o->queue_reset_done == NULL))
		return -VIO_EINVAL;
	if (cfg->use_vectors && (o->set_config_vector == NULL || o->set_queue_vector == NULL))
		return -VIO_EINVAL;
	if (((uintptr_t)mem % VIO_DRV_MEM_ALIGN) != 0 ||
	    mem_size < vio_drv_mem_size(cfg->num_queues))
		return -VIO_EINVAL;

	unsigned char *p = mem;
	for (size_t i = 0; i < vio_drv_mem_size(cfg->num_queues); i++)
		p[i] = 0;
	struct vio_drv *drv = mem;
	drv->ops = o;
	drv->ctx = cfg->ops_ctx;
	drv->cb = cfg->cb;
	drv->cb_ctx = cfg->cb_ctx;
	drv->dma_ops = cfg->dma_ops;
	drv->dma_ctx = cfg->dma_ctx;
	drv->expect_id = cfg->device_id;
	drv->reset_polls = cfg->reset_polls ? cfg->reset_polls : VIO_DRV_DEFAULT_RESET_POLLS;
	drv->poll_delay_us =
		cfg->poll_delay_us ? cfg->poll_delay_us : VIO_DRV_DEFAULT_POLL_DELAY_US;
	drv->config_retries =
		cfg->config_retries ? cfg->config_retries : VIO_DRV_DEFAULT_CONFIG_RETRIES;
	drv->use_vectors = cfg->use_vectors;
	drv->config_vector = cfg->config_vector;
	drv->nq = cfg->num_queues;

	/* The supported set: the driver's bits, VERSION_1, and what the ring
	 * layer implements, less RING_PACKED unless the driver is ready for
	 * it and RING_RESET unless the front can reset a queue. */
	struct vio_features ring;
	vio_ring_features(&ring);
	if (!vio_features_test(&cfg->features, VIO_F_RING_PACKED))
		vio_features_clear(&ring, VIO_F_RING_PACKED);
	if (o->queue_reset == NULL)
		vio_features_clear(&ring, VIO_F_RING_RESET);
	drv->want = vio_features_or(&cfg->features, &ring);
	if (o->queue_reset == NULL)
		vio_features_clear(&drv->want, VIO_F_RING_RESET);
	(void)vio_features_set(&drv->want, VIO_F_VERSION_1);
	drv->required = cfg->required;
	(void)vio_features_set(&drv->required, VIO_F_VERSION_1);
	drv->state = VIO_DRV_IDLE;
	*drvp = drv;
	return 0;
}

/* ---- negotiation ----------------------------------------------------------------------- */

/* §3.1.1 steps 1–6. With @fixed (restore), accept exactly those features
 * (all must be offered) and skip the validate hook. */
static int negotiate(struct vio_drv *drv, const struct vio_features *fixed)
{
	int rc = reset_wait(drv);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_RESET);
	rc = identify(drv);
	if (rc < 0) {
		if (rc == -VIO_ENODEV) {
			/* Not ours: leave the device reset, as found. */
			drv->state = VIO_DRV_FAILED;
			drv->error = rc;
			drv->step = VIO_DRV_STEP_IDENTIFY;
			return rc;
		}
		return fail(drv, rc, VIO_DRV_STEP_IDENTIFY);
	}
	rc = set_status(drv, VIO_STATUS_ACKNOWLEDGE);
	if (rc == 0)
		rc = set_status(drv, VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_FEATURES);

	rc = read_device_features(drv, &drv->device, true);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_FEATURES);

	struct vio_features accept;
	if (fixed != NULL) {
		if (!vio_features_subset(fixed, &drv->device))
			return fail(drv, -VIO_ENEGOTIATE, VIO_DRV_STEP_FEATURES);
		accept = *fixed;
	} else {
		accept = vio_features_and(&drv->device, &drv->want);
		if (!vio_features_subset(&drv->required, &accept))
			return fail(drv, -VIO_ENEGOTIATE, VIO_DRV_STEP_FEATURES);
		if (drv->cb != NULL && drv->cb->validate != NULL) {
			struct vio_features proposed = accept;
			drv->negotiating = true;
			rc = drv->cb->validate(drv->cb_ctx, drv, &accept);
			drv->negotiating = false;
			if (drv->state == VIO_DRV_FAILED)
				return drv->error; /* the hook's config read failed it */
			if (rc < 0)
				return fail(drv, rc, VIO_DRV_STEP_FEATURES);
			/* The hook may only narrow, and not below the required set. */
			if (!vio_features_subset(&accept, &proposed) ||
			    !vio_features_subset(&drv->required, &accept))
				return fail(drv, -VIO_ENEGOTIATE, VIO_DRV_STEP_FEATURES);
		}
	}

	rc = write_driver_features(drv, &accept);
	if (rc == 0)
		rc = set_status(drv, (uint8_t)(drv->status | VIO_STATUS_FEATURES_OK));
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_FEATURES_OK);
	/* §3.1.1 step 6: re-read; FEATURES_OK clear means the device does not
	 * support this subset. */
	uint8_t st;
	rc = drv->ops->get_status(drv->ctx, &st);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_FEATURES_OK);
	if ((st & VIO_STATUS_FEATURES_OK) == 0)
		return fail(drv, -VIO_ENEGOTIATE, VIO_DRV_STEP_FEATURES_OK);
	if ((st & drv->status) != drv->status)
		return fail(drv, -VIO_EDEVICE, VIO_DRV_STEP_FEATURES_OK);
	rc = recheck_features(drv);
	if (rc == 0)
		rc = identify(drv);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_FEATURES_OK);
	drv->negotiated = accept;
	drv->expect = drv->status;
	drv->state = VIO_DRV_FEATURES_OK;
	return 0;
}

int vio_drv_negotiate(struct vio_drv *drv)
{
	if (drv == NULL || drv->state != VIO_DRV_IDLE)
		return -VIO_EINVAL;
	drv->negotiating = false;
	drv->negotiated = vio_features_none();
	return negotiate(drv, NULL);
}

/* ---- queues ---------------------------------------------------------------------------- */

/* The device's maximum for queue @index, validated: 0 is "no such queue"
 * (§4.2.3.2), above 32768 is out of range (§2.7, §2.8), and a split ring's
 * size is a power of two (§2.7), so a split maximum must be one too (a
 * driver picks a size ≤ the maximum, and Linux refuses such a device). */
static int queue_max(struct vio_drv *drv, uint16_t index, uint16_t *max)
{
	uint32_t m;
	int rc = drv->ops->queue_max(drv->ctx, index, &m);
	if (rc < 0)
		return rc;
	if (m == 0)
		return -VIO_ENODEV;
	if (m > QUEUE_SIZE_MAX)
		return -VIO_EDEVICE;
	if (!has(drv, VIO_F_RING_PACKED) && !is_pow2(m))
		return -VIO_EDEVICE;
	*max = (uint16_t)m;
	return 0;
}

static bool queue_state_ok(const struct vio_drv *drv)
{
	return drv->state == VIO_DRV_FEATURES_OK || drv->state == VIO_DRV_LIVE;
}

int vio_drv_queue_max(struct vio_drv *drv, uint16_t index, uint16_t *max)
{
	if (drv == NULL || max == NULL || index >= drv->nq)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (!queue_state_ok(drv))
		return -VIO_EINVAL;
	int rc = queue_max(drv, index, max);
	if (rc < 0 && rc != -VIO_ENODEV)
		return fail(drv, rc, VIO_DRV_STEP_QUEUE);
	return rc;
}

/* Convert the ring addresses, assign the vector, program and enable the
 * queue. The caller latches errors. */
static int program_queue(struct vio_drv *drv, uint16_t index)
{
	struct drv_queue *q = &drv->q[index];
	int rc = vio_vq_ring_addrs(q->vq, &q->desc, &q->driver, &q->device);
	if (rc < 0)
		return rc;
	q->addrs_held = true;
	if (drv->use_vectors) {
		uint16_t got = VIO_DRV_NO_VECTOR;
		rc = drv->ops->set_queue_vector(drv->ctx, index, q->vector, &got);
		if (rc == 0 && got != q->vector)
			rc = -VIO_ENOSPC;
		if (rc < 0)
			return rc;
	}
	rc = drv->ops->queue_setup(drv->ctx, index, vio_vq_size(q->vq), q->desc, q->driver,
				   q->device);
	if (rc == 0)
		rc = drv->ops->queue_enable(drv->ctx, index);
	return rc;
}

/* The ring addresses are the caller's conversions (vq.h): end them once
 * the device no longer uses the ring. */
static void release_addrs(struct drv_queue *q)
{
	if (q->addrs_held) {
		vio_vq_ring_addrs_release(q->vq, q->desc, q->driver, q->device);
		q->addrs_held = false;
	}
}

int vio_drv_queue_setup(struct vio_drv *drv, uint16_t index, const struct vio_drv_queue_config *qc,
			struct vio_vq **vqp)
{
	if (drv == NULL || qc == NULL || index >= drv->nq || qc->size == 0 || qc->vq_mem == NULL)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	struct drv_queue *q = &drv->q[index];
	/* Before DRIVER_OK a new queue; after it only a reset one (§2.6.1.2). */
	if (!(drv->state == VIO_DRV_FEATURES_OK && q->state == Q_NONE) &&
	    !(drv->state == VIO_DRV_LIVE && q->state == Q_RESET))
		return -VIO_EINVAL;
	if (qc->ring == NULL &&
	    (qc->desc == NULL || qc->driver_area == NULL || qc->device_area == NULL))
		return -VIO_EINVAL;
	if (qc->ring != NULL && ((uintptr_t)qc->ring % VIO_SPLIT_DESC_ALIGN) != 0)
		return -VIO_EINVAL;

	uint16_t max;
	int rc = queue_max(drv, index, &max);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_QUEUE);
	uint16_t size = qc->size < max ? qc->size : max;

	bool packed = has(drv, VIO_F_RING_PACKED);
	struct vio_vq_config vc = {0};
	vc.format = packed ? VIO_RING_PACKED : VIO_RING_SPLIT;
	vc.size = size;
	vc.index = index;
	vc.features = drv->negotiated;
	if (qc->ring != NULL) {
		unsigned char *r = qc->ring;
		size_t drv_off = (size_t)16 * size;
		size_t dev_off = packed ? drv_off + VIO_PACKED_EVENT_SIZE
					: vio_align_up(drv_off + vio_split_avail_size(size),
						       VIO_SPLIT_USED_ALIGN);
		vc.desc = r;
		vc.driver_area = r + drv_off;
		vc.device_area = r + dev_off;
	} else {
		vc.desc = qc->desc;
		vc.driver_area = qc->driver_area;
		vc.device_area = qc->device_area;
	}
	vc.indirect_pool = qc->indirect_pool;
	vc.indirect_max = qc->indirect_max;
	vc.indirect_min = qc->indirect_min;
	vc.dma_ops = qc->dma_ops != NULL ? qc->dma_ops : drv->dma_ops;
	vc.dma_ctx = qc->dma_ops != NULL ? qc->dma_ctx : drv->dma_ctx;

	struct vio_vq *vq;
	rc = vio_vq_init(&vq, qc->vq_mem, qc->vq_mem_size, &vc);
	if (rc < 0)
		return rc; /* the caller's memory or size: nothing reached the device */
	q->vq = vq;
	q->vector = qc->vector;
	q->addrs_held = false;
	rc = program_queue(drv, index);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_QUEUE);
	q->state = drv->state == VIO_DRV_LIVE ? Q_LIVE : Q_SET;
	if (vqp != NULL)
		*vqp = vq;
	return 0;
}

struct vio_vq *vio_drv_vq(const struct vio_drv *drv, uint16_t index)
{
	if (drv == NULL || index >= drv->nq || drv->q[index].state == Q_NONE)
		return NULL;
	return drv->q[index].vq;
}

/* ---- DRIVER_OK, failure, reset -------------------------------------------------------- */

/* Check the status against what the driver set; DEVICE_NEEDS_RESET wins. */
static int status_ok(struct vio_drv *drv)
{
	uint8_t st;
	int rc = drv->ops->get_status(drv->ctx, &st);
	if (rc < 0)
		return rc;
	if ((st & VIO_STATUS_DEVICE_NEEDS_RESET) != 0)
		return -VIO_ENEEDS_RESET;
	if ((st & drv->expect) != drv->expect)
		return -VIO_EDEVICE;
	return 0;
}

int vio_drv_ready(struct vio_drv *drv)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (drv->state != VIO_DRV_FEATURES_OK)
		return -VIO_EINVAL;
	int rc = 0;
	if (drv->use_vectors) {
		uint16_t got = VIO_DRV_NO_VECTOR;
		rc = drv->ops->set_config_vector(drv->ctx, drv->config_vector, &got);
		if (rc == 0 && got != drv->config_vector)
			rc = -VIO_ENOSPC;
	}
	if (rc == 0)
		rc = recheck_features(drv);
	if (rc == 0)
		rc = set_status(drv, (uint8_t)(drv->status | VIO_STATUS_DRIVER_OK));
	if (rc == 0) {
		drv->expect = drv->status;
		rc = status_ok(drv);
	}
	if (rc == 0)
		rc = identify(drv);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_DRIVER_OK);
	/* §3.1.1: no available-buffer notification before DRIVER_OK; from now
	 * on the queues set up may be notified. */
	for (uint16_t i = 0; i < drv->nq; i++)
		if (drv->q[i].state == Q_SET)
			drv->q[i].state = Q_LIVE;
	drv->state = VIO_DRV_LIVE;
	return 0;
}

int vio_drv_fail(struct vio_drv *drv, int reason)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	return fail(drv, reason, drv->step != VIO_DRV_STEP_NONE ? drv->step : VIO_DRV_STEP_RUNNING);
}

int vio_drv_reset(struct vio_drv *drv)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	int rc = reset_wait(drv);
	if (rc < 0) {
		/* The device may still use the rings: keep their conversions. */
		drv->state = VIO_DRV_IDLE; /* so that fail() latches anew */
		drv->error = 0;
		return fail(drv, rc, VIO_DRV_STEP_RESET);
	}
	for (uint16_t i = 0; i < drv->nq; i++) {
		struct drv_queue *q = &drv->q[i];
		if (q->vq != NULL)
			release_addrs(q);
		q->state = Q_NONE;
		q->vq = NULL;
	}
	drv->error = 0;
	drv->step = VIO_DRV_STEP_NONE;
	drv->state = VIO_DRV_IDLE;
	drv->negotiating = false;
	drv->needs_reset_seen = false;
	drv->negotiated = vio_features_none();
	return 0;
}

enum vio_drv_state vio_drv_state(const struct vio_drv *drv)
{
	return drv->state;
}

int vio_drv_error(const struct vio_drv *drv)
{
	return drv->state == VIO_DRV_FAILED ? drv->error : 0;
}

enum vio_drv_step vio_drv_failed_step(const struct vio_drv *drv)
{
	return drv->state == VIO_DRV_FAILED ? drv->step : VIO_DRV_STEP_NONE;
}

struct vio_features vio_drv_features(const struct vio_drv *drv)
{
	return drv->negotiated;
}

struct vio_features vio_drv_device_features(const struct vio_drv *drv)
{
	return drv->device;
}

bool vio_drv_has_feature(const struct vio_drv *drv, unsigned bit)
{
	return has(drv, bit);
}

enum vio_ring_format vio_drv_ring_format(const struct vio_drv *drv)
{
	return has(drv, VIO_F_RING_PACKED) ? VIO_RING_PACKED : VIO_RING_SPLIT;
}

uint32_t vio_drv_device_id(const struct vio_drv *drv)
{
	return drv->have_id ? drv->device_id : 0;
}

int vio_drv_num_queues(struct vio_drv *drv, uint16_t *num)
{
	if (drv == NULL || num == NULL || drv->ops->num_queues == NULL)
		return -VIO_EINVAL;
	return drv->ops->num_queues(drv->ctx, num);
}

/* ---- configuration space -------------------------------------------------------------- */

static bool config_readable(const struct vio_drv *drv)
{
	return drv->negotiating || drv->state == VIO_DRV_FEATURES_OK ||
	       drv->state == VIO_DRV_LIVE || drv->state == VIO_DRV_SUSPENDED;
}

static bool width_ok(uint32_t offset, unsigned width)
{
	if (width != 1 && width != 2 && width != 4 && width != 8)
		return false;
	unsigned align = width < 4 ? width : 4;
	return offset % align == 0 && (uint64_t)offset + width <= UINT32_MAX;
}

static int read_fields(struct vio_drv *drv, struct vio_drv_config_field *f, unsigned n,
		       unsigned char *bytes, uint32_t byte_off, size_t nbytes)
{
	for (unsigned i = 0; i < n; i++) {
		int rc = drv->ops->config_read(drv->ctx, f[i].offset, f[i].width, &f[i].value);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < nbytes; i++) {
		uint64_t v;
		int rc = drv->ops->config_read(drv->ctx, byte_off + (uint32_t)i, 1, &v);
		if (rc < 0)
			return rc;
		bytes[i] = (unsigned char)v;
	}
	return 0;
}

/* §2.5.1: read, and read again while the generation moved underneath,
 * config_retries attempts at most. */
static int snapshot(struct vio_drv *drv, struct vio_drv_config_field *f, unsigned n,
		    unsigned char *bytes, uint32_t byte_off, size_t nbytes)
{
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (!config_readable(drv))
		return -VIO_EINVAL;
	for (uint32_t attempt = 0; attempt < drv->config_retries; attempt++) {
		uint32_t before = 0, after = 0;
		int rc = 0;
		if (drv->ops->config_generation != NULL)
			rc = drv->ops->config_generation(drv->ctx, &before);
		if (rc == 0)
			rc = read_fields(drv, f, n, bytes, byte_off, nbytes);
		if (rc == 0 && drv->ops->config_generation != NULL)
			rc = drv->ops->config_generation(drv->ctx, &after);
		if (rc < 0)
			return rc;
		if (before == after)
			return 0;
	}
	return fail(drv, -VIO_EGENERATION, VIO_DRV_STEP_CONFIG);
}

int vio_drv_config_read(struct vio_drv *drv, uint32_t offset, unsigned width, uint64_t *value)
{
	if (drv == NULL || value == NULL || !width_ok(offset, width))
		return -VIO_EINVAL;
	struct vio_drv_config_field f = {offset, width, 0};
	int rc = snapshot(drv, &f, 1, NULL, 0, 0);
	if (rc == 0)
		*value = f.value;
	return rc;
}

int vio_drv_config_read_fields(struct vio_drv *drv, struct vio_drv_config_field *fields, unsigned n)
{
	if (drv == NULL || (fields == NULL && n != 0))
		return -VIO_EINVAL;
	for (unsigned i = 0; i < n; i++)
		if (!width_ok(fields[i].offset, fields[i].width))
			return -VIO_EINVAL;
	return snapshot(drv, fields, n, NULL, 0, 0);
}

int vio_drv_config_read_bytes(struct vio_drv *drv, uint32_t offset, void *buf, size_t len)
{
	if (drv == NULL || (buf == NULL && len != 0) || (uint64_t)offset + len > UINT32_MAX)
		return -VIO_EINVAL;
	return snapshot(drv, NULL, 0, buf, offset, len);
}

int vio_drv_config_write(struct vio_drv *drv, uint32_t offset, unsigned width, uint64_t value)
{
	if (drv == NULL || !width_ok(offset, width))
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	/* §3.1.1 step 4: no writes before FEATURES_OK; §3.4: none while suspended. */
	if (drv->state != VIO_DRV_FEATURES_OK && drv->state != VIO_DRV_LIVE)
		return -VIO_EINVAL;
	if (width < 8 && (value >> (8 * width)) != 0)
		return -VIO_EINVAL;
	return drv->ops->config_write(drv->ctx, offset, width, value);
}

/* ---- notifications and interrupts ------------------------------------------------------ */

/* The kick path reads only what is fixed while the queue is live, so that
 * it may run beside the interrupt path (see driver.h). */
int vio_drv_notify(struct vio_drv *drv, uint16_t index)
{
	if (drv == NULL || index >= drv->nq || drv->q[index].state != Q_LIVE)
		return -VIO_EINVAL;
	struct vio_vq *vq = drv->q[index].vq;
	uint32_t value = has(drv, VIO_F_NOTIFICATION_DATA) ? vio_vq_notify_data(vq) : index;
	return drv->ops->notify(drv->ctx, index, value);
}

int vio_drv_kick(struct vio_drv *drv, uint16_t index)
{
	if (drv == NULL || index >= drv->nq || drv->q[index].state != Q_LIVE)
		return -VIO_EINVAL;
	if (!vio_vq_kick_prepare(drv->q[index].vq))
		return 0;
	return vio_drv_notify(drv, index);
}

int vio_drv_poll_used(struct vio_drv *drv, uint16_t index, uint32_t max_polls,
		      vio_drv_relax_fn relax, void *relax_ctx)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (index >= drv->nq || drv->q[index].state != Q_LIVE)
		return -VIO_EINVAL;
	struct vio_vq *vq = drv->q[index].vq;
	for (uint32_t i = 0;; i++) {
		if (vio_vq_has_used(vq))
			return 0;
		if (vio_vq_is_broken(vq))
			return vio_vq_broken_reason(vq);
		if (i + 1u >= max_polls)
			break;
		if (relax != NULL && !relax(relax_ctx))
			break;
	}
	/* Nothing came back: a device that gave up says so in its status
	 * (DEVICE_NEEDS_RESET, or bits lost: FAILED is written then). */
	int rc = vio_drv_check_status(drv);
	return rc < 0 ? rc : -VIO_ETIMEOUT;
}

int vio_drv_check_status(struct vio_drv *drv)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	int rc = status_ok(drv);
	if (rc == -VIO_EDEVICE)
		return fail(drv, rc, VIO_DRV_STEP_RUNNING);
	return rc;
}

int vio_drv_config_interrupt(struct vio_drv *drv)
{
	int rc = vio_drv_check_status(drv);
	if (rc == -VIO_ENEEDS_RESET) {
		/* §2.1.2: NEEDS_RESET comes with a configuration-change
		 * notification; report it once, not on every interrupt. */
		if (!drv->needs_reset_seen) {
			drv->needs_reset_seen = true;
			if (drv->cb != NULL && drv->cb->needs_reset != NULL)
				drv->cb->needs_reset(drv->cb_ctx, drv);
		}
		return rc;
	}
	if (rc == 0 && drv->cb != NULL && drv->cb->config_changed != NULL)
		drv->cb->config_changed(drv->cb_ctx, drv);
	return rc;
}

void vio_drv_queue_interrupt(struct vio_drv *drv, uint16_t index)
{
	if (drv == NULL || index >= drv->nq || drv->q[index].state != Q_LIVE)
		return;
	if (drv->cb != NULL && drv->cb->queue_interrupt != NULL)
		drv->cb->queue_interrupt(drv->cb_ctx, drv, index, drv->q[index].vq);
}

int vio_drv_interrupt(struct vio_drv *drv, uint32_t *causes)
{
	if (causes != NULL)
		*causes = 0;
	if (drv == NULL)
		return -VIO_EINVAL;
	uint32_t bits;
	int rc = drv->ops->interrupt_status(drv->ctx, &bits);
	if (rc < 0)
		return rc;
	/* Undefined bits are ignored (§4.2.2.2) and never acknowledged. */
	bits &= VIO_DRV_INT_VRING | VIO_DRV_INT_CONFIG;
	if (causes != NULL)
		*causes = bits;
	if (bits == 0)
		return 0;
	if (drv->ops->interrupt_ack != NULL) {
		rc = drv->ops->interrupt_ack(drv->ctx, bits);
		if (rc < 0)
			return rc;
	}
	if ((bits & VIO_DRV_INT_VRING) != 0)
		for (uint16_t i = 0; i < drv->nq; i++)
			vio_drv_queue_interrupt(drv, i);
	if ((bits & VIO_DRV_INT_CONFIG) != 0)
		rc = vio_drv_config_interrupt(drv);
	return rc;
}

/* ---- queue reset (§2.6.1) --------------------------------------------------------------- */

int vio_drv_queue_reset(struct vio_drv *drv, uint16_t index)
{
	if (drv == NULL || index >= drv->nq)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (drv->state != VIO_DRV_LIVE || drv->q[index].state != Q_LIVE ||
	    !has(drv, VIO_F_RING_RESET) || drv->ops->queue_reset == NULL)
		return -VIO_EINVAL;
	int rc = drv->ops->queue_reset(drv->ctx, index);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_QUEUE);
	/* §2.6.1.1.2: the driver MUST verify that the queue was reset. */
	bool done = false;
	for (uint32_t i = 0; i < drv->reset_polls && !done; i++) {
		rc = drv->ops->queue_reset_done(drv->ctx, index, &done);
		if (rc < 0)
			return fail(drv, rc, VIO_DRV_STEP_QUEUE);
		if (!done && i + 1 < drv->reset_polls)
			delay(drv);
	}
	if (!done)
		return fail(drv, -VIO_ETIMEOUT, VIO_DRV_STEP_QUEUE);
	release_addrs(&drv->q[index]);
	drv->q[index].state = Q_RESET;
	return 0;
}

int vio_drv_queue_reenable(struct vio_drv *drv, uint16_t index)
{
	if (drv == NULL || index >= drv->nq)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	struct drv_queue *q = &drv->q[index];
	if (drv->state != VIO_DRV_LIVE || q->state != Q_RESET)
		return -VIO_EINVAL;
	uint16_t max;
	int rc = queue_max(drv, index, &max);
	if (rc == 0 && max < vio_vq_size(q->vq))
		rc = -VIO_EDEVICE; /* the maximum shrank below the queue's size */
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_QUEUE);
	vio_vq_reset(q->vq);
	rc = program_queue(drv, index);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_QUEUE);
	q->state = Q_LIVE;
	return 0;
}

/* ---- freeze / restore ------------------------------------------------------------------- */

int vio_drv_freeze(struct vio_drv *drv)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (drv->state != VIO_DRV_LIVE && drv->state != VIO_DRV_SUSPENDED)
		return -VIO_EINVAL;
	int rc = reset_wait(drv);
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_RESET);
	for (uint16_t i = 0; i < drv->nq; i++) {
		struct drv_queue *q = &drv->q[i];
		if (q->state == Q_LIVE) {
			release_addrs(q);
			q->state = Q_FROZEN;
		}
	}
	drv->needs_reset_seen = false;
	drv->state = VIO_DRV_FROZEN;
	return 0;
}

int vio_drv_restore(struct vio_drv *drv)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (drv->state != VIO_DRV_FROZEN)
		return -VIO_EINVAL;
	struct vio_features keep = drv->negotiated;
	int rc = negotiate(drv, &keep);
	if (rc < 0)
		return rc;
	for (uint16_t i = 0; i < drv->nq; i++) {
		struct drv_queue *q = &drv->q[i];
		if (q->state != Q_FROZEN)
			continue;
		uint16_t max;
		rc = queue_max(drv, i, &max);
		if (rc == 0 && max < vio_vq_size(q->vq))
			rc = -VIO_EDEVICE;
		if (rc < 0)
			return fail(drv, rc, VIO_DRV_STEP_QUEUE);
		vio_vq_reset(q->vq);
		rc = program_queue(drv, i);
		if (rc < 0)
			return fail(drv, rc, VIO_DRV_STEP_QUEUE);
		q->state = Q_SET;
	}
	return vio_drv_ready(drv);
}

/* ---- suspend (§3.4) --------------------------------------------------------------------- */

/* Poll until (status & mask) == want, bounded. DEVICE_NEEDS_RESET ends it. */
static int wait_status(struct vio_drv *drv, uint8_t mask, uint8_t want)
{
	for (uint32_t i = 0; i < drv->reset_polls; i++) {
		uint8_t st;
		int rc = drv->ops->get_status(drv->ctx, &st);
		if (rc < 0)
			return rc;
		if ((st & VIO_STATUS_DEVICE_NEEDS_RESET) != 0)
			return -VIO_ENEEDS_RESET;
		if ((st & mask) == want)
			return 0;
		if (i + 1 < drv->reset_polls)
			delay(drv);
	}
	return -VIO_ETIMEOUT;
}

int vio_drv_suspend(struct vio_drv *drv)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (drv->state != VIO_DRV_LIVE || !has(drv, VIO_F_SUSPEND))
		return -VIO_EINVAL;
	int rc = set_status(drv, (uint8_t)(drv->status | VIO_STATUS_SUSPEND));
	if (rc == 0)
		rc = wait_status(drv, VIO_STATUS_SUSPEND | VIO_STATUS_DRIVER_OK,
				 VIO_STATUS_SUSPEND);
	if (rc == -VIO_ENEEDS_RESET)
		return rc; /* §3.4.2: the device could not suspend; reset it */
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_SUSPEND);
	drv->expect = (uint8_t)(VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER |
				VIO_STATUS_FEATURES_OK | VIO_STATUS_SUSPEND);
	drv->state = VIO_DRV_SUSPENDED;
	return 0;
}

int vio_drv_resume(struct vio_drv *drv)
{
	if (drv == NULL)
		return -VIO_EINVAL;
	if (drv->state == VIO_DRV_FAILED)
		return drv->error;
	if (drv->state != VIO_DRV_SUSPENDED)
		return -VIO_EINVAL;
	/* §3.4: "the driver sets DRIVER_OK"; it clears no bit (§2.1.1), the
	 * device clears SUSPEND once it runs again. */
	int rc = set_status(drv, (uint8_t)(drv->status | VIO_STATUS_DRIVER_OK));
	if (rc == 0)
		rc = wait_status(drv, VIO_STATUS_SUSPEND | VIO_STATUS_DRIVER_OK,
				 VIO_STATUS_DRIVER_OK);
	if (rc == -VIO_ENEEDS_RESET)
		return rc;
	if (rc < 0)
		return fail(drv, rc, VIO_DRV_STEP_SUSPEND);
	drv->status = (uint8_t)(drv->status & ~VIO_STATUS_SUSPEND);
	drv->expect = drv->status;
	drv->state = VIO_DRV_LIVE;
	return 0;
}
