/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio front and the driver core against a hostile device.
 *
 * The register file is an honest version 2 device whose every 32-bit read
 * may be replaced by a lie from the input: before each read the harness
 * takes a byte; below 0xc0 the honest value is returned, otherwise the next
 * four input bytes are. Past the end of the input every read is honest, so
 * every run ends. The harness probes, brings the device up and then plays
 * operations chosen by the input (interrupts, kicks, configuration reads and
 * writes, queue reset, freeze/restore, suspend/resume, reset).
 *
 * Input: a 16-byte header, then 32 operations of 3 bytes (op, a, b), then
 * the stream the register file's lies come from. Header:
 *   0      device ID (0: a placeholder)
 *   1      flags: 1 driver wants packed, 2 wants SUSPEND, 4 validate drops
 *          EVENT_IDX, 8 set up queue 1 too, 16 device honours SUSPEND
 *   2      configuration bytes in the window (window = 0x100 + this)
 *   3      queue size the driver prepares: 1 << (b % 9)
 *   4..11  device features, windows 0 and 1 (little-endian u32 each)
 *   12     reset polls - 1 (mod 16);  13: config retries - 1 (mod 8)
 *   14     honest queue maximum: 1 << (b % 11)
 *   15     operations to play (mod 33)
 * Operations (op % 11): 0 interrupt, 1 add a buffer and kick, 2 config read
 * (offset a, width 1 << b % 4), 3 config bytes (offset a, b % 16 bytes), 4
 * config write, 5 queue reset + re-enable, 6 freeze + restore, 7 status
 * check, 8 suspend + resume, 9 reset + bring-up, 10 config change
 * interrupt pending.
 *
 * Invariants (FZ_CHECK):
 *   - every access is inside the window, 32-bit and aligned for registers,
 *     to a register the version 2 table defines, in its direction; nothing
 *     after the probe read DeviceID 0 (§4.2.3.1.1; a later ID change is a
 *     lie the driver answers with FAILED);
 *   - the status written never clears a bit (except a reset to 0, and
 *     SUSPEND after a resume);
 *     DRIVER_OK only after the status re-read showed FEATURES_OK; QueueNum
 *     is 1 .. the maximum the driver read (a power of two unless packed);
 *     notifications only after DRIVER_OK;
 *   - the run is bounded (an access budget), so every wait ended;
 *   - a call that failed with a hostile-device code leaves the driver
 *     failed with FAILED written; a failed driver (other than a device that
 *     is not its type) always has FAILED in the last status written.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

#include <virtio/driver.h>
#include <virtio/mmio_front.h>

#define MAX_ACCESSES 200000u
#define NQ 2

struct dev {
	struct fz_in *in;
	uint32_t id;
	uint32_t window;
	uint32_t feat[2];
	uint32_t qmax_honest;
	bool honour_suspend;
	/* honest state */
	uint32_t status, isr, dev_sel, drv_sel, sel;
	struct vio_features accepted;
	uint32_t ready[NQ];
	/* checker state */
	unsigned accesses;
	bool probing;
	bool zero_id;	       /* the probe read DeviceID 0 */
	uint32_t written;      /* status value last written */
	bool fok_pending;      /* FEATURES_OK written, not yet re-read */
	bool fok_confirmed;    /* the re-read showed it */
	uint32_t max_seen[NQ]; /* QueueNumMax the driver last read */
	bool packed;	       /* driver features written include RING_PACKED */
};

static bool is_pow2(uint32_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static void access_check(struct dev *d, uint32_t off, unsigned width, bool write)
{
	FZ_CHECK(++d->accesses < MAX_ACCESSES);
	FZ_CHECK(!d->zero_id);
	FZ_CHECK((uint64_t)off + width <= d->window);
	FZ_CHECK(off % width == 0);
	if (off >= VIO_MMIO_CONFIG)
		return;
	FZ_CHECK(width == 4);
	switch (off) {
	case VIO_MMIO_MAGIC_VALUE:
	case VIO_MMIO_VERSION:
	case VIO_MMIO_DEVICE_ID:
	case VIO_MMIO_VENDOR_ID:
	case VIO_MMIO_DEVICE_FEATURES:
	case VIO_MMIO_QUEUE_NUM_MAX:
	case VIO_MMIO_INTERRUPT_STATUS:
	case VIO_MMIO_CONFIG_GENERATION:
		FZ_CHECK(!write);
		break;
	case VIO_MMIO_DEVICE_FEATURES_SEL:
	case VIO_MMIO_DRIVER_FEATURES:
	case VIO_MMIO_DRIVER_FEATURES_SEL:
	case VIO_MMIO_QUEUE_SEL:
	case VIO_MMIO_QUEUE_NUM:
	case VIO_MMIO_QUEUE_NOTIFY:
	case VIO_MMIO_INTERRUPT_ACK:
	case VIO_MMIO_QUEUE_DESC_LOW:
	case VIO_MMIO_QUEUE_DESC_HIGH:
	case VIO_MMIO_QUEUE_DRIVER_LOW:
	case VIO_MMIO_QUEUE_DRIVER_HIGH:
	case VIO_MMIO_QUEUE_DEVICE_LOW:
	case VIO_MMIO_QUEUE_DEVICE_HIGH:
		FZ_CHECK(write);
		break;
	case VIO_MMIO_QUEUE_READY:
	case VIO_MMIO_STATUS:
	case VIO_MMIO_QUEUE_RESET:
		break;
	default:
		fz_fail("access to a register the front does not use", __FILE__, __LINE__);
	}
}

static uint32_t honest(struct dev *d, uint32_t off)
{
	if (off >= VIO_MMIO_CONFIG)
		return 0xa5a5a5a5u ^ off;
	switch (off) {
	case VIO_MMIO_MAGIC_VALUE:
		return VIO_MMIO_MAGIC;
	case VIO_MMIO_VERSION:
		return 2;
	case VIO_MMIO_DEVICE_ID:
		return d->id;
	case VIO_MMIO_DEVICE_FEATURES:
		return d->dev_sel < 2 ? d->feat[d->dev_sel] : 0;
	case VIO_MMIO_QUEUE_NUM_MAX:
		return d->sel < NQ ? d->qmax_honest : 0;
	case VIO_MMIO_QUEUE_READY:
		return d->sel < NQ ? d->ready[d->sel] : 0;
	case VIO_MMIO_INTERRUPT_STATUS:
		return d->isr;
	case VIO_MMIO_STATUS:
		return d->status;
	default:
		return 0;
	}
}

static uint32_t lie_or(struct dev *d, uint32_t v)
{
	if (fz_u8(d->in) >= 0xc0)
		return fz_u32(d->in);
	return v;
}

static uint32_t rd32(void *ctx, uint32_t off)
{
	struct dev *d = ctx;
	access_check(d, off, 4, false);
	uint32_t v = lie_or(d, honest(d, off));
	if (off == VIO_MMIO_DEVICE_ID && v == 0 && d->probing)
		d->zero_id = true;
	if (off == VIO_MMIO_QUEUE_NUM_MAX && d->sel < NQ)
		d->max_seen[d->sel] = v;
	if (off == VIO_MMIO_STATUS && d->fok_pending) {
		d->fok_pending = false;
		d->fok_confirmed = (v & VIO_STATUS_FEATURES_OK) != 0;
	}
	return v;
}

static uint8_t rd8(void *ctx, uint32_t off)
{
	struct dev *d = ctx;
	access_check(d, off, 1, false);
	return (uint8_t)lie_or(d, honest(d, off));
}

static uint16_t rd16(void *ctx, uint32_t off)
{
	struct dev *d = ctx;
	access_check(d, off, 2, false);
	return (uint16_t)lie_or(d, honest(d, off));
}

static void status_write(struct dev *d, uint32_t v)
{
	if (v == 0) {
		d->written = 0;
		d->fok_pending = d->fok_confirmed = false;
		d->status = 0;
		d->isr = 0;
		memset(d->ready, 0, sizeof(d->ready));
		d->accepted = vio_features_none();
		return;
	}
	FZ_CHECK(v <= 0xff);
	/* §2.1.1: the driver never clears a bit; SUSPEND excepted, which the
	 * device clears when it resumes (§3.4) and the driver then drops. */
	uint32_t keep = d->written & ~(uint32_t)VIO_STATUS_SUSPEND;
	FZ_CHECK((v & keep) == keep);
	if ((v & VIO_STATUS_FEATURES_OK) && !(d->written & VIO_STATUS_FEATURES_OK))
		d->fok_pending = true;
	if ((v & VIO_STATUS_DRIVER_OK) && !(d->written & VIO_STATUS_DRIVER_OK))
		FZ_CHECK(d->fok_confirmed);
	d->written = v;
	struct vio_features off;
	off.w[0] = (uint64_t)d->feat[0] | ((uint64_t)d->feat[1] << 32);
	off.w[1] = 0;
	uint32_t s = v;
	if ((s & VIO_STATUS_FEATURES_OK) && !vio_features_subset(&d->accepted, &off))
		s &= ~(uint32_t)VIO_STATUS_FEATURES_OK;
	if (d->honour_suspend && (s & VIO_STATUS_SUSPEND) && !(d->status & VIO_STATUS_SUSPEND))
		s &= ~(uint32_t)VIO_STATUS_DRIVER_OK;
	else if (d->honour_suspend && (d->status & VIO_STATUS_SUSPEND) &&
		 (s & VIO_STATUS_DRIVER_OK))
		s &= ~(uint32_t)VIO_STATUS_SUSPEND;
	d->status = s;
}

static void wr32(void *ctx, uint32_t off, uint32_t v)
{
	struct dev *d = ctx;
	access_check(d, off, 4, true);
	switch (off) {
	case VIO_MMIO_STATUS:
		status_write(d, v);
		break;
	case VIO_MMIO_DEVICE_FEATURES_SEL:
		d->dev_sel = v;
		break;
	case VIO_MMIO_DRIVER_FEATURES_SEL:
		d->drv_sel = v;
		break;
	case VIO_MMIO_DRIVER_FEATURES:
		(void)vio_features_set_word32(&d->accepted, d->drv_sel, v);
		d->packed = vio_features_test(&d->accepted, VIO_F_RING_PACKED);
		break;
	case VIO_MMIO_QUEUE_SEL:
		d->sel = v;
		break;
	case VIO_MMIO_QUEUE_NUM:
		FZ_CHECK(d->sel < NQ);
		FZ_CHECK(v >= 1 && v <= d->max_seen[d->sel] && v <= 32768);
		FZ_CHECK(d->packed || is_pow2(v));
		break;
	case VIO_MMIO_QUEUE_READY:
		FZ_CHECK(d->sel < NQ);
		FZ_CHECK((d->written & VIO_STATUS_FEATURES_OK) != 0);
		d->ready[d->sel] = v;
		break;
	case VIO_MMIO_QUEUE_RESET:
		if (d->sel < NQ)
			d->ready[d->sel] = 0;
		break;
	case VIO_MMIO_QUEUE_NOTIFY:
		FZ_CHECK((d->written & VIO_STATUS_DRIVER_OK) != 0);
		FZ_CHECK((v & 0xffffu) < NQ);
		d->isr |= VIO_MMIO_INT_VRING;
		break;
	case VIO_MMIO_INTERRUPT_ACK:
		FZ_CHECK((v & ~3u) == 0);
		d->isr &= ~v;
		break;
	default:
		break;
	}
}

static void wr8(void *ctx, uint32_t off, uint8_t v)
{
	(void)v;
	access_check(ctx, off, 1, true);
}

static void wr16(void *ctx, uint32_t off, uint16_t v)
{
	(void)v;
	access_check(ctx, off, 2, true);
}

static const struct vio_mmio_bus bus = {
	.read32 = rd32,
	.write32 = wr32,
	.read8 = rd8,
	.write8 = wr8,
	.read16 = rd16,
	.write16 = wr16,
};

/* ---- the driver ------------------------------------------------------------------------ */

struct run {
	struct dev d;
	struct vio_drv *drv;
	bool drop_event_idx;
	uint16_t qsize;
	void *ring[NQ];
	void *vqmem[NQ];
	size_t vqmem_size;
	unsigned char buf[64];
};

static int validate(void *ctx, struct vio_drv *drv, struct vio_features *f)
{
	struct run *r = ctx;
	uint64_t v;
	(void)vio_drv_config_read(drv, 0, 4, &v);
	if (r->drop_event_idx)
		vio_features_clear(f, VIO_F_EVENT_IDX);
	return 0;
}

static void queue_irq(void *ctx, struct vio_drv *drv, uint16_t index, struct vio_vq *vq)
{
	(void)ctx;
	(void)drv;
	(void)index;
	void *tok;
	uint32_t len;
	unsigned n = 0;
	while (vio_vq_get(vq, &tok, &len) == 0 && n++ < 1024)
		;
}

static const struct vio_drv_callbacks cbs = {.validate = validate, .queue_interrupt = queue_irq};

/* A code meaning the device lied or refused: the driver must be failed
 * with FAILED written. */
static bool hostile_code(int rc)
{
	return rc == -VIO_ETIMEOUT || rc == -VIO_EDEVICE || rc == -VIO_ENEGOTIATE ||
	       rc == -VIO_EGENERATION;
}

static void check_after(struct run *r, int rc)
{
	if (hostile_code(rc))
		FZ_CHECK(vio_drv_state(r->drv) == VIO_DRV_FAILED);
	if (vio_drv_state(r->drv) == VIO_DRV_FAILED) {
		FZ_CHECK(vio_drv_error(r->drv) < 0);
		if (vio_drv_failed_step(r->drv) != VIO_DRV_STEP_IDENTIFY ||
		    vio_drv_error(r->drv) != -VIO_ENODEV)
			FZ_CHECK((r->d.written & VIO_STATUS_FAILED) != 0);
	}
}

static int setup_queues(struct run *r, unsigned nq)
{
	for (uint16_t i = 0; i < nq; i++) {
		struct vio_drv_queue_config qc = {0};
		qc.size = r->qsize;
		qc.ring = r->ring[i];
		qc.vq_mem = r->vqmem[i];
		qc.vq_mem_size = r->vqmem_size;
		int rc = vio_drv_queue_setup(r->drv, i, &qc, NULL);
		check_after(r, rc);
		if (rc < 0)
			return rc;
	}
	int rc = vio_drv_ready(r->drv);
	check_after(r, rc);
	return rc;
}

#define NOPS 32

static void play(struct run *r, const uint8_t *ops, unsigned nops, unsigned nq)
{
	for (unsigned k = 0; k < nops && k < NOPS; k++) {
		struct vio_drv *drv = r->drv;
		uint8_t op = ops[3 * k], a = ops[3 * k + 1], b = ops[3 * k + 2];
		int rc = 0;
		uint64_t v;
		switch (op % 11) {
		case 0:
			rc = vio_drv_interrupt(drv, NULL);
			break;
		case 1: {
			struct vio_vq *vq = vio_drv_vq(drv, 0);
			if (vq != NULL && vio_drv_state(drv) == VIO_DRV_LIVE) {
				struct vio_sg sg = {r->buf, sizeof(r->buf)};
				(void)vio_vq_add(vq, &sg, 1, 0, r->buf);
				rc = vio_drv_kick(drv, 0);
			}
			break;
		}
		case 2:
			rc = vio_drv_config_read(drv, a, 1u << (b % 4), &v);
			break;
		case 3: {
			unsigned char buf[16];
			rc = vio_drv_config_read_bytes(drv, a, buf, b % 16u);
			break;
		}
		case 4:
			rc = vio_drv_config_write(drv, a, 1, b);
			break;
		case 5:
			rc = vio_drv_queue_reset(drv, 0);
			check_after(r, rc);
			if (rc == 0)
				rc = vio_drv_queue_reenable(drv, 0);
			break;
		case 6:
			rc = vio_drv_freeze(drv);
			check_after(r, rc);
			if (rc == 0)
				rc = vio_drv_restore(drv);
			break;
		case 7:
			rc = vio_drv_check_status(drv);
			break;
		case 8:
			rc = vio_drv_suspend(drv);
			check_after(r, rc);
			if (rc == 0)
				rc = vio_drv_resume(drv);
			break;
		case 9:
			rc = vio_drv_reset(drv);
			check_after(r, rc);
			if (rc == 0) {
				rc = vio_drv_negotiate(drv);
				check_after(r, rc);
				if (rc == 0)
					rc = setup_queues(r, nq);
			}
			break;
		default:
			r->d.isr |= VIO_MMIO_INT_CONFIG;
			break;
		}
		check_after(r, rc);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	struct run *r = calloc(1, sizeof(*r));
	FZ_CHECK(r != NULL);
	uint8_t hdr[16], ops[3 * NOPS];
	fz_bytes(&in, hdr, sizeof(hdr));
	fz_bytes(&in, ops, sizeof(ops));
	r->d.in = &in;
	r->d.id = hdr[0];
	uint8_t flags = hdr[1];
	r->d.window = 0x100u + hdr[2];
	r->qsize = (uint16_t)(1u << (hdr[3] % 9));
	r->d.feat[0] = (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 | (uint32_t)hdr[6] << 16 |
		       (uint32_t)hdr[7] << 24;
	r->d.feat[1] = (uint32_t)hdr[8] | (uint32_t)hdr[9] << 8 | (uint32_t)hdr[10] << 16 |
		       (uint32_t)hdr[11] << 24;
	r->d.qmax_honest = 1u << (hdr[14] % 11);
	r->d.honour_suspend = (flags & 16) != 0;
	r->drop_event_idx = (flags & 4) != 0;
	unsigned nq = (flags & 8) ? 2 : 1;

	_Alignas(8) unsigned char front_mem[VIO_MMIO_FRONT_MEM_SIZE];
	struct vio_mmio_front *front;
	r->d.probing = true;
	int rc = vio_mmio_front_probe(&front, front_mem, sizeof(front_mem), &bus, &r->d,
				      r->d.window);
	r->d.probing = false;
	if (rc < 0) {
		FZ_CHECK(rc == -VIO_ENOT_VIRTIO || rc == -VIO_ELEGACY || rc == -VIO_ENODEV);
		free(r);
		return 0;
	}

	struct vio_drv_config cfg = {0};
	vio_mmio_front_drv_config(front, &cfg);
	cfg.num_queues = NQ;
	cfg.cb = &cbs;
	cfg.cb_ctx = r;
	cfg.reset_polls = 1u + hdr[12] % 16;
	cfg.config_retries = 1u + hdr[13] % 8;
	if (flags & 1)
		vio_features_set(&cfg.features, VIO_F_RING_PACKED);
	if (flags & 2)
		vio_features_set(&cfg.features, VIO_F_SUSPEND);
	size_t dmem = vio_drv_mem_size(NQ);
	void *drv_mem = aligned_alloc(8, dmem);
	FZ_CHECK(drv_mem != NULL);
	FZ_CHECK(vio_drv_init(&r->drv, drv_mem, dmem, &cfg) == 0);
	r->vqmem_size = VIO_VQ_MEM_SIZE(256);
	for (unsigned i = 0; i < NQ; i++) {
		r->ring[i] = aligned_alloc(16, (VIO_DRV_RING_SIZE(256) + 15) & ~(size_t)15);
		r->vqmem[i] = aligned_alloc(8, r->vqmem_size);
		FZ_CHECK(r->ring[i] != NULL && r->vqmem[i] != NULL);
	}

	rc = vio_drv_negotiate(r->drv);
	check_after(r, rc);
	if (rc == 0) {
		uint64_t v;
		check_after(r, vio_drv_config_read(r->drv, 4, 8, &v));
		rc = setup_queues(r, nq);
	}
	play(r, ops, hdr[15] % 33u, nq);
	/* Leave the device reset (the conversions released). */
	(void)vio_drv_reset(r->drv);

	for (unsigned i = 0; i < NQ; i++) {
		free(r->ring[i]);
		free(r->vqmem[i]);
	}
	free(drv_mem);
	free(r);
	return 0;
}
