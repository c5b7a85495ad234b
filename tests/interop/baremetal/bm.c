/* SPDX-License-Identifier: MIT */
/* libvirtio on bare metal: a freestanding program (no libc, no MMU, no
 * interrupts) that finds QEMU's own virtio-blk and virtio-rng devices on
 * virtio-mmio and on PCIe, brings them up with the driver core and uses them
 * by polling.
 *
 * What a bare-metal author writes, in order:
 *   1. register accessors: none — the library's vio_mmio_direct_bus (context:
 *      the window's base address) and vio_pci_ecam_bus (context: a
 *      struct vio_pci_ecam_fn) do volatile loads and stores; we only add a
 *      delay hook;
 *   2. discovery: probe each virtio-mmio slot (vio_mmio_front_probe(): an
 *      empty slot is VIO_ENODEV, skipped silently), or walk PCI
 *      configuration space, give the BARs addresses (the firmware's job:
 *      vio_pci_front_assign_bars(), one window shared by every function)
 *      and probe the function (vio_pci_front_probe()). Either way the front
 *      fills the transport half of a ::vio_drv_config, and everything after
 *      it is the same code;
 *   3. bring-up: vio_drv_init() over static memory, then the device helper's
 *      start call (vio_blk_driver_start(), vio_rng_driver_start()) with the
 *      ring memory (static, 16-aligned: with the MMU off a pointer is the
 *      address the device uses);
 *   4. the data path: submit, vio_drv_kick(), vio_drv_poll_used() (bounded
 *      by a clock deadline in its relax callback), the helper's get call.
 *
 * Build-time parameters (the Makefile sets them per case):
 *   BM_CASE         "riscv64-mmio-split" …: names the case in the patterns
 *   BM_EXPECT_PCI   1: the devices must be found on PCIe, 0: on virtio-mmio
 *   BM_EXPECT_PACKED 1: VIO_F_RING_PACKED must be negotiated, 0: must not be
 *
 * The driver always says it is ready for a packed ring; the device decides
 * (QEMU offers bit 34 with packed=on). The program prints what each device
 * offered and what was negotiated, and one line "RESULT <dev> PASS|FAIL" per
 * device; it exits through the board with 0 when both passed.
 *
 * blk: the host wrote a pattern to HOST_SECTOR before the boot; the program
 * reads and compares it, checks GUEST_SECTOR reads as zeros, writes its own
 * pattern there, flushes, reads it back and compares it, and asks for the
 * device's serial (GET_ID). After QEMU exits the host script finds the
 * pattern at GUEST_SECTOR · 512 in the image file.
 * rng: RNG_BUFS buffers are filled; each must come back with 1..RNG_BUF
 * bytes, and the bytes must be neither all zero nor all equal. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "board.h"

#ifndef BM_CASE
#error "define BM_CASE (e.g. \"riscv64-mmio-split\")"
#endif
#ifndef BM_EXPECT_PCI
#error "define BM_EXPECT_PCI to 0 or 1"
#endif
#ifndef BM_EXPECT_PACKED
#error "define BM_EXPECT_PACKED to 0 or 1"
#endif

#define HOST_SECTOR 2u	/* the host wrote "host->guest <case>" lines here */
#define GUEST_SECTOR 5u /* the program writes "guest->host <case>" lines here */
#define SECTOR VIO_BLK_SECTOR_SIZE
#define BLK_SERIAL "vio-bm"		    /* QEMU: -device virtio-blk-…,serial=vio-bm */
#define BLK_QSIZE 64u			    /* ring entries offered (the device may allow fewer) */
#define RNG_QSIZE 8u			    /* QEMU's virtio-rng queue has 8 entries */
#define RNG_BUFS 4u			    /* entropy buffers in flight at once */
#define RNG_BUF 64u			    /* bytes each */
#define TIMEOUT_MS 3000u		    /* longest wait for one completion */
#define MAX_DEVS 8u			    /* devices remembered by the scan */
#define FRONT_MEM VIO_PCI_FRONT_MEM_SIZE(2) /* ≥ VIO_MMIO_FRONT_MEM_SIZE too */

_Static_assert(FRONT_MEM >= VIO_MMIO_FRONT_MEM_SIZE, "front memory too small for virtio-mmio");

/* ---- Console ------------------------------------------------------------------------------- */

void *memset(void *d, int c, size_t n);

static void put_str(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\n')
			board_putc('\r');
		board_putc(*s);
	}
}

static void put_num(uint64_t v, unsigned base, unsigned width, char pad)
{
	char tmp[24];
	unsigned n = 0;
	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v != 0 && n < sizeof(tmp));
	while (width > n) {
		board_putc(pad);
		width--;
	}
	while (n > 0)
		board_putc(tmp[--n]);
}

/* A printf for %s %c %d %u %x with an optional 0 flag, a width and the
 * l / ll length modifiers: what the program needs and no more. */
static void bm_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	for (const char *p = fmt; *p != '\0'; p++) {
		if (*p != '%') {
			if (*p == '\n')
				board_putc('\r');
			board_putc(*p);
			continue;
		}
		p++;
		char pad = ' ';
		unsigned width = 0, longs = 0;
		if (*p == '0') {
			pad = '0';
			p++;
		}
		while (*p >= '0' && *p <= '9')
			width = width * 10u + (unsigned)(*p++ - '0');
		while (*p == 'l') {
			longs++;
			p++;
		}
		switch (*p) {
		case 's':
			put_str(va_arg(ap, const char *));
			break;
		case 'c':
			board_putc((char)va_arg(ap, int));
			break;
		case 'd': {
			long long v = longs >= 2   ? va_arg(ap, long long)
				      : longs == 1 ? va_arg(ap, long)
						   : va_arg(ap, int);
			if (v < 0) {
				board_putc('-');
				v = -v;
			}
			put_num((uint64_t)v, 10, width, pad);
			break;
		}
		case 'u':
		case 'x': {
			uint64_t v = longs >= 2	  ? va_arg(ap, unsigned long long)
				     : longs == 1 ? va_arg(ap, unsigned long)
						  : va_arg(ap, unsigned);
			put_num(v, *p == 'u' ? 10u : 16u, width, pad);
			break;
		}
		case '\0':
			p--;
			break;
		default:
			board_putc(*p);
			break;
		}
	}
	va_end(ap);
}

/* ---- Time ---------------------------------------------------------------------------------- */

static uint64_t deadline_ms(uint32_t ms)
{
	return board_ticks() + board_tick_hz() / 1000u * ms;
}

/* vio_drv_poll_used()'s relax callback: keep polling until the deadline. */
static bool before_deadline(void *ctx)
{
	return (int64_t)(board_ticks() - *(const uint64_t *)ctx) <= 0;
}

/* The buses' delay hook: the driver core waits this long between two
 * status reads while a reset completes. */
static void bm_delay(void *ctx, uint32_t us)
{
	(void)ctx;
	uint64_t end = board_ticks() + board_tick_hz() / 1000000u * us;
	while ((int64_t)(board_ticks() - end) < 0)
		;
}

/* ---- Devices found by the scan ------------------------------------------------------------- */

struct bm_dev {
	bool pci;
	uint32_t device_id;
	char where[16];		   /* "mmio 0a003e00" or "pci 00:01.0" */
	struct vio_pci_ecam_fn fn; /* PCI: the function and its BARs */
	_Alignas(8) unsigned char front_mem[FRONT_MEM];
	struct vio_drv_config dc; /* the transport half, filled by the front */
};

static struct bm_dev devs[MAX_DEVS];
static unsigned ndevs;

/* The library's ready-made accessors (volatile loads and stores) with our
 * delay added: virtio-mmio with the window's base as context, PCI through
 * ECAM with a struct vio_pci_ecam_fn as context. */
static struct vio_mmio_bus mmio_bus;
static struct vio_pci_bus pci_bus;

static void set_where(struct bm_dev *d, const char *prefix, uint64_t v, unsigned digits)
{
	unsigned i = 0;
	for (; prefix[i] != '\0'; i++)
		d->where[i] = prefix[i];
	for (unsigned k = digits; k-- > 0;)
		d->where[i++] = "0123456789abcdef"[(v >> (4u * k)) & 0xfu];
	d->where[i] = '\0';
}

/* ---- virtio-mmio: scan --------------------------------------------------------------------- */

static void scan_mmio(void)
{
	for (unsigned i = 0; i < board.mmio_slots && ndevs < MAX_DEVS; i++) {
		struct bm_dev *d = &devs[ndevs];
		uintptr_t base = board.mmio_base + (uintptr_t)i * board.mmio_stride;
		struct vio_mmio_front *f;
		int rc = vio_mmio_front_probe(&f, d->front_mem, sizeof(d->front_mem), &mmio_bus,
					      (void *)base, board.mmio_stride);
		if (rc == -VIO_ENODEV)
			continue; /* an empty slot (DeviceID 0) */
		set_where(d, "mmio ", base, 8);
		if (rc != 0) {
			bm_printf("%s: probe: %s%s\n", d->where, vio_err_name(rc),
				  rc == -VIO_ELEGACY ? " (run QEMU with "
						       "-global virtio-mmio.force-legacy=false)"
						     : "");
			continue;
		}
		d->pci = false;
		d->device_id = vio_mmio_front_device_id(f);
		vio_mmio_front_drv_config(f, &d->dc);
		bm_printf("%s: virtio device %u, vendor %08x\n", d->where, (unsigned)d->device_id,
			  (unsigned)vio_mmio_front_vendor_id(f));
		ndevs++;
	}
}

/* ---- PCIe: scan ---------------------------------------------------------------------------- */

/* Bus 0 only (QEMU puts -device functions there). The firmware's part, as
 * no one assigned the BARs: each virtio function's BARs go next in the
 * board's memory window, which vio_pci_front_assign_bars() advances. */
static void scan_pci(void)
{
	struct vio_pci_window win = {.mem_base = board.pci_mem_base,
				     .mem_size = board.pci_mem_size};
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8 && ndevs < MAX_DEVS; fn++) {
			struct bm_dev *d = &devs[ndevs];
			(void)vio_pci_ecam_fn_init(&d->fn, board.ecam_base, 0, dev, fn);
			uint16_t vendor = vio_pci_ecam_vendor_id(&d->fn);
			if (vendor == 0xffffu) {
				if (fn == 0)
					break; /* no device */
				continue;
			}
			uint32_t hdr = 0;
			(void)pci_bus.cfg_read(&d->fn, VIO_PCI_CFG_HEADER_TYPE, 1, &hdr);
			if (vendor == VIO_PCI_VENDOR_ID) {
				set_where(d, "pci 00:", dev, 2); /* "pci 00:dd" */
				d->where[9] = '.';
				d->where[10] = (char)('0' + fn);
				d->where[11] = '\0';
				struct vio_pci_front_config fc;
				struct vio_pci_front *f;
				int rc = vio_pci_front_assign_bars(&pci_bus, &d->fn, &win,
								   &d->fn.bars);
				vio_pci_ecam_front_config(&d->fn, 2, &fc);
				if (rc == 0)
					rc = vio_pci_front_probe(&f, d->front_mem,
								 sizeof(d->front_mem), &pci_bus,
								 &d->fn, &fc);
				if (rc != 0) {
					bm_printf("%s: %s\n", d->where, vio_err_name(rc));
				} else {
					d->pci = true;
					d->device_id = vio_pci_front_device_id(f);
					vio_pci_front_drv_config(f, &d->dc);
					bm_printf("%s: virtio device %u (PCI device %04x)\n",
						  d->where, (unsigned)d->device_id,
						  (unsigned)vio_pci_front_pci_device_id(f));
					ndevs++;
				}
			}
			if (fn == 0 && (hdr & 0x80u) == 0)
				break; /* not multi-function */
		}
	}
}

/* ---- Shared checks ------------------------------------------------------------------------- */

static void print_features(const char *name, const struct vio_drv *drv)
{
	struct vio_features off = vio_drv_device_features(drv);
	struct vio_features neg = vio_drv_features(drv);
	bm_printf("%s: features offered %016llx negotiated %016llx", name,
		  (unsigned long long)off.w[0], (unsigned long long)neg.w[0]);
	for (unsigned i = 1; i < VIO_FEATURE_WORDS; i++)
		if (off.w[i] != 0 || neg.w[i] != 0)
			bm_printf(" (word %u: offered %016llx negotiated %016llx)", i,
				  (unsigned long long)off.w[i], (unsigned long long)neg.w[i]);
	bm_printf("\n");
}

/* The case's ring format must be what was negotiated, and the queue must
 * run in it. */
static bool check_format(const char *name, struct vio_drv *drv)
{
	bool packed = vio_drv_has_feature(drv, VIO_F_RING_PACKED);
	bool ring_packed = vio_drv_ring_format(drv) == VIO_RING_PACKED;
	bm_printf("%s: ring %s\n", name, ring_packed ? "packed" : "split");
	if (packed != (BM_EXPECT_PACKED != 0) || ring_packed != packed) {
		bm_printf("%s: VIO_F_RING_PACKED (bit 34) %s negotiated, this case expects %s\n",
			  name, packed ? "was" : "was not", BM_EXPECT_PACKED ? "packed" : "split");
		return false;
	}
	return true;
}

/* Device-visible memory lives in .bss: with the MMU off, its address is the
 * pointer. 16-aligned for the rings (4096 is not needed for virtio 1.x). */
static _Alignas(VIO_DRV_MEM_ALIGN) unsigned char blk_drv_mem[VIO_DRV_MEM_SIZE(1)];
static _Alignas(16) unsigned char blk_ring[VIO_DRV_RING_SIZE(BLK_QSIZE)];
static _Alignas(VIO_VQ_MEM_ALIGN) unsigned char blk_vq_mem[VIO_VQ_MEM_SIZE(BLK_QSIZE)];
static _Alignas(16) unsigned char blk_buf[SECTOR];
static _Alignas(16) unsigned char blk_expect[SECTOR];
static _Alignas(16) char blk_id[VIO_BLK_ID_BYTES];
static struct vio_blk_drv_req blk_req;

static _Alignas(VIO_DRV_MEM_ALIGN) unsigned char rng_drv_mem[VIO_DRV_MEM_SIZE(1)];
static _Alignas(16) unsigned char rng_ring[VIO_DRV_RING_SIZE(RNG_QSIZE)];
static _Alignas(VIO_VQ_MEM_ALIGN) unsigned char rng_vq_mem[VIO_VQ_MEM_SIZE(RNG_QSIZE)];
static _Alignas(16) unsigned char rng_buf[RNG_BUFS][RNG_BUF];

/* "<prefix> <case>\n" repeated over a sector (the host script builds the
 * same bytes with printf). */
static void fill_pattern(unsigned char *buf, const char *prefix)
{
	static const char tag[] = " " BM_CASE "\n";
	unsigned n = 0;
	while (n < SECTOR) {
		for (const char *s = prefix; *s != '\0' && n < SECTOR; s++)
			buf[n++] = (unsigned char)*s;
		for (const char *s = tag; *s != '\0' && n < SECTOR; s++)
			buf[n++] = (unsigned char)*s;
	}
}

static bool same(const unsigned char *a, const unsigned char *b, unsigned n, const char *what)
{
	for (unsigned i = 0; i < n; i++) {
		if (a[i] != b[i]) {
			bm_printf("blk: %s: byte %u is %02x, expected %02x\n", what, i,
				  (unsigned)a[i], (unsigned)b[i]);
			return false;
		}
	}
	return true;
}

/* ---- virtio-blk ---------------------------------------------------------------------------- */

/* Kick, then poll the used ring until our one request is back. */
static int blk_complete(struct vio_drv *drv, struct vio_blk_drv *blk, const char *what)
{
	uint64_t end = deadline_ms(TIMEOUT_MS);
	struct vio_blk_drv_req *done = NULL;
	int rc = vio_drv_kick(drv, 0);
	if (rc == 0)
		rc = vio_drv_poll_used(drv, 0, UINT32_MAX, before_deadline, &end);
	if (rc == 0)
		rc = vio_blk_drv_get(blk, &done);
	if (rc != 0) {
		bm_printf("blk: %s: %s\n", what, vio_err_name(rc));
		return rc;
	}
	if (done != &blk_req || done->status != VIO_BLK_S_OK) {
		bm_printf("blk: %s: %s request, status %u\n", what,
			  done == &blk_req ? "our" : "an unknown", (unsigned)done->status);
		return -VIO_EDEVICE;
	}
	return 0;
}

static bool blk_run(struct vio_drv *drv, struct vio_blk_drv *blk, const struct vio_blk_info *info)
{
	if (info->capacity <= GUEST_SECTOR) {
		bm_printf("blk: capacity %llu sectors is too small\n",
			  (unsigned long long)info->capacity);
		return false;
	}
	/* 1. The host's sector. */
	fill_pattern(blk_expect, "host->guest");
	int rc = vio_blk_drv_read(blk, &blk_req, HOST_SECTOR, blk_buf, SECTOR);
	if (rc != 0 || blk_complete(drv, blk, "read host sector") != 0)
		return false;
	if (!same(blk_buf, blk_expect, SECTOR, "host sector"))
		return false;
	bm_printf("blk: sector %u holds the host's pattern\n", HOST_SECTOR);

	/* 2. Our sector is blank before we write it. */
	memset(blk_expect, 0, SECTOR);
	rc = vio_blk_drv_read(blk, &blk_req, GUEST_SECTOR, blk_buf, SECTOR);
	if (rc != 0 || blk_complete(drv, blk, "read blank sector") != 0)
		return false;
	if (!same(blk_buf, blk_expect, SECTOR, "blank sector"))
		return false;

	/* 3. Write, flush, read back. */
	fill_pattern(blk_expect, "guest->host");
	rc = vio_blk_drv_write(blk, &blk_req, GUEST_SECTOR, blk_expect, SECTOR);
	if (rc != 0 || blk_complete(drv, blk, "write") != 0)
		return false;
	if (vio_drv_has_feature(drv, VIO_BLK_F_FLUSH)) {
		rc = vio_blk_drv_flush(blk, &blk_req);
		if (rc != 0 || blk_complete(drv, blk, "flush") != 0)
			return false;
	}
	memset(blk_buf, 0, SECTOR);
	rc = vio_blk_drv_read(blk, &blk_req, GUEST_SECTOR, blk_buf, SECTOR);
	if (rc != 0 || blk_complete(drv, blk, "read back") != 0)
		return false;
	if (!same(blk_buf, blk_expect, SECTOR, "read back"))
		return false;
	bm_printf("blk: sector %u written%s and read back\n", GUEST_SECTOR,
		  vio_drv_has_feature(drv, VIO_BLK_F_FLUSH) ? ", flushed" : "");

	/* 4. The serial number QEMU was given. */
	rc = vio_blk_drv_get_id(blk, &blk_req, blk_id);
	if (rc != 0 || blk_complete(drv, blk, "get id") != 0)
		return false;
	for (unsigned i = 0; i < VIO_BLK_ID_BYTES; i++) {
		char want = i < sizeof(BLK_SERIAL) - 1u ? BLK_SERIAL[i] : '\0';
		if (blk_id[i] != want) {
			bm_printf("blk: device ID byte %u is %02x, expected %02x (\"%s\")\n", i,
				  (unsigned)(unsigned char)blk_id[i], (unsigned)(unsigned char)want,
				  BLK_SERIAL);
			return false;
		}
	}
	bm_printf("blk: device ID \"%s\"\n", BLK_SERIAL);
	return true;
}

static bool blk_test(struct bm_dev *d)
{
	struct vio_drv_config dc = d->dc; /* ops and ops_ctx: the front */
	dc.num_queues = 1;
	dc.device_id = VIO_ID_BLOCK;
	vio_blk_drv_features(&dc.features);
	vio_features_set(&dc.features, VIO_F_RING_PACKED); /* ready for either format */
	struct vio_drv *drv;
	int rc = vio_drv_init(&drv, blk_drv_mem, sizeof(blk_drv_mem), &dc);
	if (rc != 0) {
		bm_printf("blk: vio_drv_init: %s\n", vio_err_name(rc));
		return false;
	}
	struct vio_drv_queue_config qc = {0};
	qc.size = BLK_QSIZE;
	qc.ring = blk_ring;
	qc.vq_mem = blk_vq_mem;
	qc.vq_mem_size = sizeof(blk_vq_mem);
	struct vio_blk_drv blk;
	struct vio_blk_info info;
	rc = vio_blk_driver_start(drv, &qc, 1, &blk, &info, NULL);
	print_features("blk", drv);
	if (rc != 0) {
		bm_printf("blk: bring-up: %s (step %u)\n", vio_err_name(rc),
			  (unsigned)vio_drv_failed_step(drv));
		return false;
	}
	struct vio_vq *vq = vio_drv_vq(drv, 0);
	bm_printf("blk: %llu sectors, queue size %u\n", (unsigned long long)info.capacity,
		  (unsigned)vio_vq_size(vq));
	vio_vq_disable_intr(vq); /* we poll: ask the device not to interrupt */
	bool ok = check_format("blk", drv) && blk_run(drv, &blk, &info);
	rc = vio_drv_reset(drv);
	if (rc != 0) {
		bm_printf("blk: reset: %s\n", vio_err_name(rc));
		ok = false;
	}
	return ok;
}

/* ---- virtio-rng ---------------------------------------------------------------------------- */

static bool rng_test(struct bm_dev *d)
{
	struct vio_drv_config dc = d->dc;
	dc.num_queues = 1;
	dc.device_id = VIO_ID_RNG;
	vio_features_set(&dc.features, VIO_F_RING_PACKED);
	struct vio_drv *drv;
	int rc = vio_drv_init(&drv, rng_drv_mem, sizeof(rng_drv_mem), &dc);
	if (rc != 0) {
		bm_printf("rng: vio_drv_init: %s\n", vio_err_name(rc));
		return false;
	}
	struct vio_drv_queue_config qc = {0};
	qc.size = RNG_QSIZE;
	qc.ring = rng_ring;
	qc.vq_mem = rng_vq_mem;
	qc.vq_mem_size = sizeof(rng_vq_mem);
	struct vio_rng_drv rng;
	rc = vio_rng_driver_start(drv, &qc, &rng);
	print_features("rng", drv);
	if (rc != 0) {
		bm_printf("rng: bring-up: %s (step %u)\n", vio_err_name(rc),
			  (unsigned)vio_drv_failed_step(drv));
		return false;
	}
	struct vio_vq *vq = vio_drv_vq(drv, VIO_RNG_REQUESTQ);
	bm_printf("rng: queue size %u\n", (unsigned)vio_vq_size(vq));
	vio_vq_disable_intr(vq);
	bool ok = check_format("rng", drv);

	for (unsigned i = 0; ok && i < RNG_BUFS; i++) {
		rc = vio_rng_drv_submit(&rng, rng_buf[i], RNG_BUF, rng_buf[i]);
		if (rc != 0) {
			bm_printf("rng: submit %u: %s\n", i, vio_err_name(rc));
			ok = false;
		}
	}
	if (ok && (rc = vio_drv_kick(drv, VIO_RNG_REQUESTQ)) != 0) {
		bm_printf("rng: kick: %s\n", vio_err_name(rc));
		ok = false;
	}
	unsigned got = 0, seen = 0, bytes = 0, zero = 0;
	bool varied = false;
	uint64_t end = deadline_ms(TIMEOUT_MS);
	while (ok && got < RNG_BUFS) {
		void *tok;
		uint32_t len;
		rc = vio_drv_poll_used(drv, VIO_RNG_REQUESTQ, UINT32_MAX, before_deadline, &end);
		if (rc == 0)
			rc = vio_rng_drv_get(&rng, &tok, &len);
		if (rc != 0) {
			bm_printf("rng: %u of %u buffers back: %s\n", got, RNG_BUFS,
				  vio_err_name(rc));
			ok = false;
			break;
		}
		unsigned i = (unsigned)(((unsigned char(*)[RNG_BUF])tok) - rng_buf);
		if (i >= RNG_BUFS || (seen & 1u << i) != 0 || len < 1 || len > RNG_BUF) {
			bm_printf("rng: bad completion (buffer %u, %u bytes)\n", i, (unsigned)len);
			ok = false;
			break;
		}
		seen |= 1u << i;
		for (uint32_t k = 0; k < len; k++) {
			zero += rng_buf[i][k] == 0;
			varied |= rng_buf[i][k] != rng_buf[0][0];
		}
		bytes += len;
		got++;
	}
	if (ok) {
		bm_printf("rng: %u bytes in %u buffers, %u zero, first %02x %02x %02x %02x\n",
			  bytes, got, zero, (unsigned)rng_buf[0][0], (unsigned)rng_buf[0][1],
			  (unsigned)rng_buf[0][2], (unsigned)rng_buf[0][3]);
		if (zero == bytes || !varied) {
			bm_printf("rng: the bytes are all zero or all equal\n");
			ok = false;
		}
	}
	rc = vio_drv_reset(drv);
	if (rc != 0) {
		bm_printf("rng: reset: %s\n", vio_err_name(rc));
		ok = false;
	}
	return ok;
}

/* ---- main ---------------------------------------------------------------------------------- */

static struct bm_dev *find(uint32_t id, const char *name)
{
	for (unsigned i = 0; i < ndevs; i++) {
		if (devs[i].device_id != id)
			continue;
		if (devs[i].pci != (BM_EXPECT_PCI != 0)) {
			bm_printf("%s: found on %s, this case expects %s\n", name, devs[i].where,
				  BM_EXPECT_PCI ? "PCIe" : "virtio-mmio");
			continue;
		}
		return &devs[i];
	}
	bm_printf("%s: no device found\n", name);
	return NULL;
}

int main(void);

int main(void)
{
	bm_printf("libvirtio %s bare metal on %s: case %s\n", vio_version_string(), board.name,
		  BM_CASE);
	mmio_bus = vio_mmio_direct_bus;
	mmio_bus.delay = bm_delay;
	pci_bus = vio_pci_ecam_bus;
	pci_bus.delay = bm_delay;
	scan_mmio();
	scan_pci();

	struct bm_dev *d = find(VIO_ID_BLOCK, "blk");
	bool blk_ok = d != NULL && blk_test(d);
	bm_printf("RESULT blk %s\n", blk_ok ? "PASS" : "FAIL");
	d = find(VIO_ID_RNG, "rng");
	bool rng_ok = d != NULL && rng_test(d);
	bm_printf("RESULT rng %s\n", rng_ok ? "PASS" : "FAIL");
	board_exit(blk_ok && rng_ok ? 0u : 1u);
}
