/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci front and the driver core against a hostile PCI function.
 *
 * Configuration space is 256 bytes: an honest virtio-pci layout (the one of
 * tests/support/fake_pci: common 0x0, ISR 0x1000, device 0x2000, notify
 * 0x3000 with multiplier 4 in BAR 4; MSI-X table in BAR 1) with byte patches
 * from the input, or 256 raw bytes from the input. The BARs hold an honest
 * device (status with reset, feature windows, queues, ISR, configuration
 * bytes) at that fixed layout. Before every configuration or BAR read the
 * harness takes a byte from the lie stream: below 0xc0 the honest value is
 * returned, otherwise the next four bytes are. Past the end of the input
 * everything is honest, so every run ends. The harness optionally sizes and
 * assigns the BARs, probes, brings the device up and plays operations.
 *
 * Input: a 16-byte header, 32 operations of 3 bytes (op, a, b), the patches
 * or the raw configuration space, then the lie stream. Header:
 *   0      flags: 1 raw configuration space (256 bytes), 2 driver wants
 *          packed, 4 MSI-X vectors, 8 set up queue 1 too, 16 accept
 *          NOTIF_CONFIG_DATA, 32 size + assign the BARs first, 64 RING_RESET
 *          and NOTIFICATION_DATA not offered
 *   1      patches (honest layout): n % 32 pairs (offset, value)
 *   2..7   granted size of BAR 0..5: 0 the honest size (BAR 1 4 KiB, BAR 4
 *          16 KiB, others none), 1 none, else 1 << (4 + v % 20)
 *   8..11  device features window 0 (little-endian); 12 window 1 low byte
 *          (bits 32..39; VERSION_1 and RING_RESET always added)
 *   13     num_queues (v % 4);  14 honest queue maximum 1 << (v % 11)
 *   15     operations to play (mod 33)
 * Operations (op % 11): 0 interrupt, 1 add a buffer and kick, 2 config read
 * (offset a, width 1 << b % 4), 3 config write, 4 queue reset + re-enable,
 * 5 freeze + restore, 6 status check, 7 reset + bring-up, 8 raise ISR bits
 * b, 9 per-vector interrupts, 10 MSI-X table entry a and enable (b & 1).
 *
 * Invariants (FZ_CHECK):
 *   - configuration accesses: size 1/2/4, aligned, inside 256 bytes; the
 *     probe reads at most VIO_PCI_FRONT_PROBE_MAX_CFG_READS times and writes
 *     nothing; only the BAR sizing/assignment writes (BARs, command);
 *   - BAR accesses: BAR < 6, size 1/2/4, aligned, inside the granted size;
 *     after a successful probe only inside the common, notify, ISR and
 *     device structures it reported, common fields with their own width,
 *     no read of the notify structure, no write of the ISR; the MSI-X
 *     helpers write only table entries below the table size (inside the
 *     grant) and the capability's Message Control;
 *   - the probe returns 0 or one of its documented codes;
 *   - status written never clears a bit (except a reset to 0); DRIVER_OK only
 *     after the re-read showed FEATURES_OK; queue_size written is 1 .. the
 *     maximum last read (a power of two unless packed); queue_select below
 *     num_queues as last read; vectors below the MSI-X table size or
 *     NO_VECTOR; notifications only after DRIVER_OK, 2 bytes (4 with
 *     NOTIFICATION_DATA accepted);
 *   - the run is bounded (an access budget), so every wait ended;
 *   - a call that failed with a hostile-device code leaves the driver
 *     failed with FAILED written.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"

#include <virtio/driver.h>
#include <virtio/pci_front.h>

#define MAX_ACCESSES 200000u
#define NQ 2
#define NOPS 32

/* The honest layout. */
#define L_BAR 4u
#define L_COMMON 0x0000u
#define L_ISR 0x1000u
#define L_DEVICE 0x2000u
#define L_NOTIFY 0x3000u
#define L_LEN 0x1000u

struct dev {
	struct fz_in *in;
	uint8_t cfg[256];
	uint64_t granted[6];
	uint32_t feat[2];
	uint16_t numq;
	uint16_t qmax;
	/* honest state */
	uint8_t status, isr;
	uint32_t dfsel, gfsel;
	uint16_t qsel;
	uint16_t qenable[NQ], qsize[NQ], qreset[NQ];
	struct vio_features accepted;
	/* checker state */
	unsigned accesses, cfg_reads;
	bool probing, sizing, probed;
	struct vio_pci_region reg[4]; /* common, notify, ISR, device */
	bool has_device;
	uint16_t msix_size;
	bool have_msix;
	uint8_t written;
	bool fok_pending, fok_confirmed;
	uint32_t numq_seen;
	uint32_t max_seen[NQ];
	bool packed, nd;
	/* The device made reported structures overlap: an access then cannot
	 * be told apart, so only the bounds are checked. */
	bool overlap;
	/* MSI-X: the table (writes by vio_pci_front_msix_set_entry() only) and
	 * the capability (vio_pci_front_msix_enable()). */
	struct vio_pci_region table;
	bool msix_writing, msix_enabling;
	uint32_t msix_cap;
};

static uint32_t lie_or(struct dev *d, uint32_t v, unsigned size)
{
	if (fz_u8(d->in) >= 0xc0)
		v = fz_u32(d->in);
	return size >= 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void budget(struct dev *d)
{
	FZ_CHECK(++d->accesses < MAX_ACCESSES);
}

/* ---- configuration space ---------------------------------------------------------------- */

static int cfg_read(void *ctx, uint32_t off, unsigned size, uint32_t *val)
{
	struct dev *d = ctx;
	budget(d);
	FZ_CHECK(size == 1 || size == 2 || size == 4);
	FZ_CHECK(off % size == 0 && off + size <= 256);
	if (d->probing)
		FZ_CHECK(++d->cfg_reads <= VIO_PCI_FRONT_PROBE_MAX_CFG_READS);
	uint32_t v = 0;
	for (unsigned k = 0; k < size; k++)
		v |= (uint32_t)d->cfg[off + k] << (8 * k);
	*val = lie_or(d, v, size);
	return 0;
}

static int cfg_write(void *ctx, uint32_t off, unsigned size, uint32_t val)
{
	struct dev *d = ctx;
	budget(d);
	FZ_CHECK(size == 1 || size == 2 || size == 4);
	FZ_CHECK(off % size == 0 && off + size <= 256);
	/* Only BAR sizing/assignment writes configuration space: the command
	 * register and the BARs. */
	if (d->msix_enabling) {
		FZ_CHECK(off == d->msix_cap + VIO_PCI_MSIX_FLAGS && size == 2);
	} else {
		FZ_CHECK(d->sizing);
		FZ_CHECK((off == VIO_PCI_CFG_COMMAND && size == 2) ||
			 (off >= VIO_PCI_CFG_BAR0 && off < VIO_PCI_CFG_BAR0 + 24 && size == 4));
	}
	for (unsigned k = 0; k < size; k++)
		d->cfg[off + k] = (uint8_t)(val >> (8 * k));
	return 0;
}

/* ---- BARs --------------------------------------------------------------------------------- */

static bool in_region(const struct vio_pci_region *r, unsigned bar, uint64_t off, unsigned size)
{
	return r->length != 0 && bar == r->bar && off >= r->offset &&
	       off - r->offset + size <= r->length;
}

static unsigned field_width(uint64_t off)
{
	if (off < 16)
		return off % 4 == 0 ? 4 : 0;
	if (off < 20)
		return off % 2 == 0 ? 2 : 0;
	if (off < 22)
		return 1;
	if (off < 32)
		return off % 2 == 0 ? 2 : 0;
	if (off < 56)
		return off % 4 == 0 ? 4 : 0;
	if (off < 64)
		return off % 2 == 0 ? 2 : 0;
	return 0;
}

/* Which reported structure the access falls in (0..3), -1 before the probe
 * succeeded. */
static int bar_check(struct dev *d, unsigned bar, uint64_t off, unsigned size)
{
	budget(d);
	FZ_CHECK(!d->sizing);
	FZ_CHECK(bar < 6);
	FZ_CHECK(size == 1 || size == 2 || size == 4);
	FZ_CHECK(off % size == 0);
	FZ_CHECK(off + size <= d->granted[bar]);
	if (!d->probed)
		return -1; /* the probe's FAILED write: inside the grant is all we know */
	if (d->msix_writing) {
		FZ_CHECK(in_region(&d->table, bar, off, size) && size == 4);
		return 4;
	}
	for (int i = 0; i < 4; i++)
		if (in_region(&d->reg[i], bar, off, size)) {
			if (i == 0 && !d->overlap && off - d->reg[0].offset < 64)
				FZ_CHECK(field_width(off - d->reg[0].offset) == size);
			return i;
		}
	fz_fail("BAR access outside every reported structure", __FILE__, __LINE__);
	return -1;
}

static uint32_t honest_common(struct dev *d, uint64_t rel)
{
	bool q = d->qsel < NQ && d->qsel < d->numq;
	switch (rel) {
	case VIO_PCI_COMMON_DF:
		return d->dfsel < 2 ? d->feat[d->dfsel] : 0;
	case VIO_PCI_COMMON_NUMQ:
		return d->numq;
	case VIO_PCI_COMMON_STATUS:
		return d->status;
	case VIO_PCI_COMMON_Q_SIZE:
		return q ? d->qsize[d->qsel] : 0;
	case VIO_PCI_COMMON_Q_ENABLE:
		return q ? d->qenable[d->qsel] : 0;
	case VIO_PCI_COMMON_Q_NOFF:
		return d->qsel;
	case VIO_PCI_COMMON_Q_RESET:
		return q ? d->qreset[d->qsel] : 0;
	case VIO_PCI_COMMON_MSIX:
	case VIO_PCI_COMMON_Q_MSIX:
		return 0xffffu; /* honest only about NO_VECTOR; lies may echo */
	default:
		return 0;
	}
}

static uint32_t honest(struct dev *d, unsigned bar, uint64_t off)
{
	if (bar != L_BAR)
		return 0;
	if (off < L_COMMON + 64) /* L_COMMON is 0 */
		return honest_common(d, off - L_COMMON);
	if (off == L_ISR) {
		uint32_t v = d->isr;
		d->isr = 0;
		return v;
	}
	if (off >= L_DEVICE && off < L_DEVICE + L_LEN)
		return 0xa5a5a5a5u ^ (uint32_t)off;
	return 0;
}

static int bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t *val)
{
	struct dev *d = ctx;
	int where = bar_check(d, bar, off, size);
	FZ_CHECK(where != 1 || d->overlap); /* the notify structure is write-only */
	uint32_t v = lie_or(d, honest(d, bar, off), size);
	if (where == 0 || !d->probed) {
		uint64_t rel = off - (d->probed ? d->reg[0].offset : 0);
		if (rel == VIO_PCI_COMMON_Q_SIZE && d->qsel < NQ)
			d->max_seen[d->qsel] = v;
		if (rel == VIO_PCI_COMMON_NUMQ)
			d->numq_seen = v;
		if (rel == VIO_PCI_COMMON_STATUS && d->fok_pending) {
			d->fok_pending = false;
			d->fok_confirmed = (v & VIO_STATUS_FEATURES_OK) != 0;
		}
	}
	*val = v;
	return 0;
}

static void status_write(struct dev *d, uint32_t v)
{
	if (v == 0) {
		d->written = 0;
		d->fok_pending = d->fok_confirmed = false;
		d->status = 0;
		d->isr = 0;
		memset(d->qenable, 0, sizeof(d->qenable));
		memset(d->qreset, 0, sizeof(d->qreset));
		for (unsigned i = 0; i < NQ; i++)
			d->qsize[i] = d->qmax;
		d->accepted = vio_features_none();
		return;
	}
	FZ_CHECK(v <= 0xff);
	if (d->probing)
		return; /* the probe's FAILED: no earlier status of ours */
	FZ_CHECK((v & d->written) == d->written);
	if ((v & VIO_STATUS_FEATURES_OK) && !(d->written & VIO_STATUS_FEATURES_OK))
		d->fok_pending = true;
	if ((v & VIO_STATUS_DRIVER_OK) && !(d->written & VIO_STATUS_DRIVER_OK))
		FZ_CHECK(d->fok_confirmed);
	d->written = (uint8_t)v;
	struct vio_features off;
	off.w[0] = (uint64_t)d->feat[0] | ((uint64_t)d->feat[1] << 32);
	off.w[1] = 0;
	uint32_t s = v;
	if ((s & VIO_STATUS_FEATURES_OK) && !vio_features_subset(&d->accepted, &off))
		s &= ~(uint32_t)VIO_STATUS_FEATURES_OK;
	d->status = (uint8_t)s;
}

static void common_write(struct dev *d, uint64_t rel, uint32_t v)
{
	bool q = d->qsel < NQ;
	switch (rel) {
	case VIO_PCI_COMMON_DFSELECT:
		d->dfsel = v;
		break;
	case VIO_PCI_COMMON_GFSELECT:
		d->gfsel = v;
		break;
	case VIO_PCI_COMMON_GF:
		(void)vio_features_set_word32(&d->accepted, d->gfsel, v);
		d->packed = vio_features_test(&d->accepted, VIO_F_RING_PACKED);
		d->nd = vio_features_test(&d->accepted, VIO_F_NOTIFICATION_DATA);
		break;
	case VIO_PCI_COMMON_STATUS:
		status_write(d, v);
		break;
	case VIO_PCI_COMMON_Q_SELECT:
		FZ_CHECK(v < d->numq_seen); /* never a queue past num_queues */
		d->qsel = (uint16_t)v;
		break;
	case VIO_PCI_COMMON_Q_SIZE:
		FZ_CHECK(q);
		FZ_CHECK(v >= 1 && v <= d->max_seen[d->qsel] && v <= 32768);
		FZ_CHECK(d->packed || (v & (v - 1)) == 0);
		d->qsize[d->qsel] = (uint16_t)v;
		break;
	case VIO_PCI_COMMON_Q_ENABLE:
		FZ_CHECK(q && v == 1);
		FZ_CHECK((d->written & VIO_STATUS_FEATURES_OK) != 0);
		d->qenable[d->qsel] = 1;
		break;
	case VIO_PCI_COMMON_Q_RESET:
		FZ_CHECK(q && v == 1);
		d->qenable[d->qsel] = 0;
		break;
	case VIO_PCI_COMMON_MSIX:
	case VIO_PCI_COMMON_Q_MSIX:
		FZ_CHECK(v == 0xffffu || (d->have_msix && v < d->msix_size));
		break;
	case VIO_PCI_COMMON_DF:
	case VIO_PCI_COMMON_NUMQ:
	case VIO_PCI_COMMON_CFGGENERATION:
	case VIO_PCI_COMMON_Q_NOFF:
	case VIO_PCI_COMMON_Q_NDATA:
	case VIO_PCI_COMMON_ADM_Q_IDX:
	case VIO_PCI_COMMON_ADM_Q_NUM:
		fz_fail("write of a read-only common field", __FILE__, __LINE__);
		break;
	default:
		break;
	}
}

static int bar_write(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t val)
{
	struct dev *d = ctx;
	int where = bar_check(d, bar, off, size);
	FZ_CHECK(where != 2 || d->overlap); /* the ISR is read-only */
	if (!d->probed) {
		/* The probe writes only the status byte (FAILED). */
		FZ_CHECK(d->probing && size == 1);
		status_write(d, val);
		return 0;
	}
	if (d->overlap || where == 4)
		return 0;
	if (where == 0 && off - d->reg[0].offset < 64)
		common_write(d, off - d->reg[0].offset, val);
	if (where == 1) {
		FZ_CHECK((d->written & VIO_STATUS_DRIVER_OK) != 0);
		FZ_CHECK(size == (d->nd ? 4u : 2u));
		d->isr |= VIO_PCI_ISR_QUEUE;
	}
	return 0;
}

static const struct vio_pci_bus bus = {
	.cfg_read = cfg_read,
	.cfg_write = cfg_write,
	.bar_read = bar_read,
	.bar_write = bar_write,
};

/* ---- the honest layout -------------------------------------------------------------------- */

static void put(uint8_t *c, uint32_t off, uint32_t v, unsigned n)
{
	for (unsigned k = 0; k < n; k++)
		c[off + k] = (uint8_t)(v >> (8 * k));
}

static void vcap(uint8_t *c, uint32_t at, uint32_t next, uint32_t len, uint32_t type, uint32_t bar,
		 uint32_t off, uint32_t length)
{
	put(c, at, VIO_PCI_CAP_ID_VNDR | next << 8 | len << 16 | type << 24, 4);
	put(c, at + 4, bar, 4);
	put(c, at + 8, off, 4);
	put(c, at + 12, length, 4);
}

static void honest_layout(uint8_t *c)
{
	memset(c, 0, 256);
	put(c, 0, VIO_PCI_VENDOR_ID | (VIO_PCI_DEVICE_ID_BASE + VIO_ID_RNG) << 16, 4);
	put(c, VIO_PCI_CFG_COMMAND, VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_MASTER, 2);
	put(c, VIO_PCI_CFG_STATUS, VIO_PCI_STATUS_CAP_LIST, 2);
	put(c, VIO_PCI_CFG_REVISION, 1, 1);
	put(c, VIO_PCI_CFG_BAR0 + 4, 0x10040000u, 4);
	put(c, VIO_PCI_CFG_BAR0 + 16, 0xc, 4);
	put(c, VIO_PCI_CFG_BAR0 + 20, 0x80, 4);
	put(c, VIO_PCI_CFG_CAP_PTR, 0x40, 1);
	vcap(c, 0x40, 0x50, 16, VIO_PCI_CAP_COMMON_CFG, L_BAR, L_COMMON, L_LEN);
	vcap(c, 0x50, 0x60, 16, VIO_PCI_CAP_ISR_CFG, L_BAR, L_ISR, L_LEN);
	vcap(c, 0x60, 0x70, 16, VIO_PCI_CAP_DEVICE_CFG, L_BAR, L_DEVICE, L_LEN);
	vcap(c, 0x70, 0x98, 20, VIO_PCI_CAP_NOTIFY_CFG, L_BAR, L_NOTIFY, L_LEN);
	put(c, 0x70 + VIO_PCI_NOTIFY_CAP_MULT, 4, 4);
	put(c, 0x98, VIO_PCI_CAP_ID_MSIX | 0u << 8 | 2u << 16, 4); /* 3 vectors */
	put(c, 0x98 + 4, 1, 4);
	put(c, 0x98 + 8, 0x800 | 1, 4);
}

/* ---- the driver --------------------------------------------------------------------------- */

struct run {
	struct dev d;
	struct vio_pci_front *front;
	struct vio_drv *drv;
	uint16_t qsize;
	bool vectors;
	void *ring[NQ];
	void *vqmem[NQ];
	size_t vqmem_size;
	unsigned char buf[64];
};

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

static const struct vio_drv_callbacks cbs = {.queue_interrupt = queue_irq};

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
		qc.vector = r->vectors ? (uint16_t)(i + 1) : VIO_DRV_NO_VECTOR;
		int rc = vio_drv_queue_setup(r->drv, i, &qc, NULL);
		check_after(r, rc);
		if (rc < 0)
			return rc;
	}
	int rc = vio_drv_ready(r->drv);
	check_after(r, rc);
	return rc;
}

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
		case 3:
			rc = vio_drv_config_write(drv, a, 1u << (b % 4), b);
			break;
		case 4:
			rc = vio_drv_queue_reset(drv, 0);
			check_after(r, rc);
			if (rc == 0)
				rc = vio_drv_queue_reenable(drv, 0);
			break;
		case 5:
			rc = vio_drv_freeze(drv);
			check_after(r, rc);
			if (rc == 0)
				rc = vio_drv_restore(drv);
			break;
		case 6:
			rc = vio_drv_check_status(drv);
			break;
		case 7:
			rc = vio_drv_reset(drv);
			check_after(r, rc);
			if (rc == 0) {
				rc = vio_drv_negotiate(drv);
				check_after(r, rc);
				if (rc == 0)
					rc = setup_queues(r, nq);
			}
			break;
		case 8:
			r->d.isr |= b;
			break;
		case 9:
			vio_drv_queue_interrupt(drv, a % NQ);
			rc = vio_drv_config_interrupt(drv);
			break;
		default: {
			/* The MSI-X helpers (the embedder's calls, not the driver's). */
			int m;
			r->d.msix_writing = true;
			m = vio_pci_front_msix_set_entry(r->front, a, 0xfee00000u + b, b,
							 (a & 1) != 0);
			r->d.msix_writing = false;
			FZ_CHECK(m == 0 || m == -VIO_ENODEV || m == -VIO_EINVAL ||
				 m == -VIO_EPCI_REGION);
			FZ_CHECK(m != 0 || a < r->d.msix_size);
			r->d.msix_enabling = true;
			m = vio_pci_front_msix_enable(r->front, (b & 1) != 0);
			r->d.msix_enabling = false;
			FZ_CHECK(m == 0 || m == -VIO_ENODEV);
			break;
		}
		}
		check_after(r, rc);
	}
}

static uint64_t bar_grant(uint8_t v, unsigned i)
{
	if (v == 0)
		return i == 1 ? 0x1000u : i == 4 ? 0x4000u : 0;
	if (v == 1)
		return 0;
	return 1ull << (4 + v % 20);
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
	uint8_t flags = hdr[0];
	struct dev *d = &r->d;
	if (flags & 1) {
		fz_bytes(&in, d->cfg, sizeof(d->cfg));
	} else {
		honest_layout(d->cfg);
		for (unsigned i = 0; i < hdr[1] % 32u; i++) {
			uint8_t off = fz_u8(&in);
			d->cfg[off] = fz_u8(&in);
		}
	}
	d->in = &in;
	for (unsigned i = 0; i < 6; i++)
		d->granted[i] = bar_grant(hdr[2 + i], i);
	d->feat[0] = (uint32_t)hdr[8] | (uint32_t)hdr[9] << 8 | (uint32_t)hdr[10] << 16 |
		     (uint32_t)hdr[11] << 24;
	/* VERSION_1 and RING_RESET (bit 40) always offered unless flag 64. */
	d->feat[1] = hdr[12] | 1u | 1u << (VIO_F_RING_RESET - 32);
	if (flags & 64)
		d->feat[1] &=
			~((1u << (VIO_F_NOTIFICATION_DATA - 32)) | (1u << (VIO_F_RING_RESET - 32)));
	d->numq = hdr[13] % 4u;
	d->qmax = (uint16_t)(1u << (hdr[14] % 11));
	for (unsigned i = 0; i < NQ; i++)
		d->qsize[i] = d->qmax;
	r->qsize = 16;
	r->vectors = (flags & 4) != 0;
	unsigned nq = (flags & 8) ? 2 : 1;

	if (flags & 32) {
		struct vio_pci_bars bars;
		d->sizing = true;
		(void)vio_pci_front_size_bars(&bus, d, &bars);
		struct vio_pci_window w = {0x10000000u, 0x100000u, 0x1000u, 0x1000u};
		int rc = vio_pci_front_assign_bars(&bus, d, &w, &bars);
		FZ_CHECK(rc == 0 || rc == -VIO_ENOSPC);
		for (unsigned i = 0; i < 6 && rc == 0; i++)
			if (bars.bar[i].assigned) {
				FZ_CHECK(bars.bar[i].size != 0);
				FZ_CHECK((bars.bar[i].size & (bars.bar[i].size - 1)) == 0);
				FZ_CHECK(bars.bar[i].addr % bars.bar[i].size == 0);
			}
		d->sizing = false;
	}

	_Alignas(8) unsigned char front_mem[VIO_PCI_FRONT_MEM_SIZE(NQ)];
	struct vio_pci_front *front;
	struct vio_pci_front_config fc = {{0}, NQ};
	r->front = NULL;
	for (unsigned i = 0; i < 6; i++)
		fc.bar_size[i] = d->granted[i];
	d->probing = true;
	int rc = vio_pci_front_probe(&front, front_mem, sizeof(front_mem), &bus, d, &fc);
	d->probing = false;
	if (rc < 0) {
		FZ_CHECK(rc == -VIO_ENODEV || rc == -VIO_ENOT_VIRTIO || rc == -VIO_ELEGACY ||
			 rc == -VIO_EPCI_CAP || rc == -VIO_EPCI_REGION || rc == -VIO_EPCI_MISSING);
		free(r);
		return 0;
	}
	static const unsigned types[4] = {VIO_PCI_CAP_COMMON_CFG, VIO_PCI_CAP_NOTIFY_CFG,
					  VIO_PCI_CAP_ISR_CFG, VIO_PCI_CAP_DEVICE_CFG};
	for (unsigned i = 0; i < 4; i++) {
		int got = vio_pci_front_region(front, types[i], &d->reg[i]);
		FZ_CHECK(got == 0 || i == 3);
		if (got == 0) {
			FZ_CHECK(d->reg[i].bar < 6);
			FZ_CHECK(d->reg[i].offset + d->reg[i].length <= d->granted[d->reg[i].bar]);
		}
	}
	FZ_CHECK(d->reg[0].length >= VIO_PCI_FRONT_COMMON_MIN);
	for (unsigned i = 0; i < 4; i++)
		for (unsigned j = i + 1; j < 4; j++)
			if (d->reg[i].length != 0 && d->reg[j].length != 0 &&
			    d->reg[i].bar == d->reg[j].bar &&
			    d->reg[i].offset < d->reg[j].offset + d->reg[j].length &&
			    d->reg[j].offset < d->reg[i].offset + d->reg[i].length)
				d->overlap = true;
	struct vio_pci_msix_info mi;
	d->have_msix = vio_pci_front_msix(front, &mi) == 0;
	d->msix_size = d->have_msix ? mi.table_size : 0;
	if (d->have_msix) {
		d->msix_cap = mi.cap;
		d->table.bar = mi.table_bar;
		d->table.offset = mi.table_off;
		d->table.length = (uint32_t)mi.table_size * VIO_PCI_MSIX_ENTRY_SIZE;
	}
	r->front = front;
	d->probed = true;
	d->written = 0xff; /* unknown until the driver's reset */

	struct vio_drv_config cfg = {0};
	vio_pci_front_drv_config(front, &cfg);
	cfg.num_queues = NQ;
	cfg.cb = &cbs;
	cfg.cb_ctx = r;
	cfg.reset_polls = 4;
	cfg.config_retries = 3;
	cfg.use_vectors = r->vectors;
	cfg.config_vector = 0;
	if (flags & 2)
		vio_features_set(&cfg.features, VIO_F_RING_PACKED);
	if (flags & 16)
		vio_features_set(&cfg.features, VIO_F_NOTIF_CONFIG_DATA);
	size_t dmem = vio_drv_mem_size(NQ);
	void *drv_mem = aligned_alloc(8, dmem);
	FZ_CHECK(drv_mem != NULL);
	FZ_CHECK(vio_drv_init(&r->drv, drv_mem, dmem, &cfg) == 0);
	r->vqmem_size = VIO_VQ_MEM_SIZE(16);
	for (unsigned i = 0; i < NQ; i++) {
		r->ring[i] = aligned_alloc(16, (VIO_DRV_RING_SIZE(16) + 15) & ~(size_t)15);
		r->vqmem[i] = aligned_alloc(8, r->vqmem_size);
		FZ_CHECK(r->ring[i] != NULL && r->vqmem[i] != NULL);
	}

	rc = vio_drv_negotiate(r->drv);
	check_after(r, rc);
	if (rc == 0)
		rc = setup_queues(r, nq);
	play(r, ops, hdr[15] % 33u, nq);
	(void)vio_drv_reset(r->drv);

	for (unsigned i = 0; i < NQ; i++) {
		free(r->ring[i]);
		free(r->vqmem[i]);
	}
	free(drv_mem);
	free(r);
	return 0;
}
