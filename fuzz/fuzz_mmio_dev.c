/* SPDX-License-Identifier: MIT */
/*
 * The virtio-mmio register model and the device core behind it against a
 * hostile driver: a sequence of register accesses (any offset, width and
 * value), writes into guest memory, and device-side events, with the state
 * machine's invariants checked after each.
 *
 * Input: one setup byte, then 8-byte operations.
 *   setup: bit 0 two queues (else one); bits 1-2 queue maximum 4/8/16/256;
 *          bits 3-7 offer EVENT_IDX, RING_PACKED, NOTIFICATION_DATA,
 *          RING_RESET, SUSPEND.
 *   op:    [kind] [a] [b] [v: 4 bytes LE] [x]
 *     0 write a control register (a picks it; with x bit 0 an address
 *       register gets an address inside guest memory)
 *     1 read a control register
 *     2 any access: offset (a | b << 8) & 0x1ff, width x % 9, read if v bit 0
 *     3 configuration space access, offset a % 24, width 1/2/4/8
 *     4 the driver scribbles v into guest memory at (a | b << 8)
 *     5 device side: x % 4: config update, NEEDS_RESET, queue interrupt,
 *       save + restore
 *     6 a well-behaved driver step (a % 6: reset, ACK, DRIVER, features +
 *       FEATURES_OK, set up queue b with valid rings, DRIVER_OK)
 *     7 QueueNotify with v, or with the index b when x bit 0
 *
 * Guest memory is one heap block of exactly its size, the device's only
 * region (no map callback): any access outside it is an ASan report.
 */
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "input.h"
#include "invariants.h"

#define MEM_GPA 0x100000ull
#define MEM_SIZE 16384u
#define CFG_SIZE 24u

struct fz_mmio {
	unsigned char *ram;
	struct vio_mem_region region;
	unsigned char config[CFG_SIZE];
	struct vio_device *dev;
	struct vio_mmio_dev *mmio;
	uint16_t qmax[2];
	uint16_t nq;
	bool line;
	unsigned char *save_a, *save_b;
	size_t save_len;
};

static void m_notify(void *ctx, struct vio_device *dev, uint16_t q, uint32_t data)
{
	struct fz_mmio *f = ctx;
	(void)data;
	FZ_CHECK(vio_device_is_live(dev));
	FZ_CHECK(q < f->nq && vio_device_queue_ready(dev, q));
	struct vio_devq *dq = vio_device_queue(dev, q);
	FZ_CHECK(dq != NULL);
	for (unsigned n = 0; n < 16; n++) {
		struct vio_chain c;
		struct vio_chain_seg segs[8];
		int rc = vio_devq_pop(dq, &c, segs, 8);
		if (rc < 0) {
			if (rc != -VIO_EAGAIN && rc != -VIO_ENOSPC)
				vio_device_queue_error(dev, q, rc);
			return;
		}
		unsigned char fill[64];
		memset(fill, 0xa5, sizeof(fill));
		uint32_t w = c.in_bytes < sizeof(fill) ? c.in_bytes : (uint32_t)sizeof(fill);
		w = (uint32_t)vio_chain_write(&c, 0, fill, w);
		FZ_CHECK(vio_device_queue_push(dev, q, &c, w) == 0);
	}
}

static int m_activate(void *ctx, struct vio_device *dev)
{
	(void)ctx;
	uint8_t st = vio_device_status(dev);
	FZ_CHECK((st & VIO_STATUS_FEATURES_OK) && (st & VIO_STATUS_DRIVER_OK));
	return 0;
}

static void m_config_write(void *ctx, struct vio_device *dev, uint32_t off, const void *data,
			   uint32_t len)
{
	struct fz_mmio *f = ctx;
	(void)dev;
	FZ_CHECK(len >= 1 && len <= 8 && off + len <= CFG_SIZE);
	memcpy(f->config + off, data, len);
}

static const struct vio_device_ops ops = {
	.config_write = m_config_write, .activate = m_activate, .queue_notify = m_notify};

static void set_irq(void *ctx, bool level)
{
	struct fz_mmio *f = ctx;
	f->line = level;
}

static const uint32_t regs[] = {VIO_MMIO_MAGIC_VALUE,
				VIO_MMIO_VERSION,
				VIO_MMIO_DEVICE_ID,
				VIO_MMIO_VENDOR_ID,
				VIO_MMIO_DEVICE_FEATURES,
				VIO_MMIO_DEVICE_FEATURES_SEL,
				VIO_MMIO_DRIVER_FEATURES,
				VIO_MMIO_DRIVER_FEATURES_SEL,
				VIO_MMIO_QUEUE_SEL,
				VIO_MMIO_QUEUE_NUM_MAX,
				VIO_MMIO_QUEUE_NUM,
				VIO_MMIO_QUEUE_READY,
				VIO_MMIO_QUEUE_NOTIFY,
				VIO_MMIO_INTERRUPT_STATUS,
				VIO_MMIO_INTERRUPT_ACK,
				VIO_MMIO_STATUS,
				VIO_MMIO_QUEUE_DESC_LOW,
				VIO_MMIO_QUEUE_DESC_HIGH,
				VIO_MMIO_QUEUE_DRIVER_LOW,
				VIO_MMIO_QUEUE_DRIVER_HIGH,
				VIO_MMIO_QUEUE_DEVICE_LOW,
				VIO_MMIO_QUEUE_DEVICE_HIGH,
				VIO_MMIO_SHM_SEL,
				VIO_MMIO_SHM_LEN_LOW,
				VIO_MMIO_SHM_BASE_HIGH,
				VIO_MMIO_QUEUE_RESET,
				VIO_MMIO_CONFIG_GENERATION,
				VIO_MMIO_LEGACY_QUEUE_PFN,
				0x0f8};
#define NREGS (sizeof(regs) / sizeof(regs[0]))

static void check(struct fz_mmio *f)
{
	struct vio_device *dev = f->dev;
	unsigned st = vio_device_status(dev);
	FZ_CHECK((st & 32u) == 0);
	if (st & VIO_STATUS_DRIVER_OK)
		FZ_CHECK(st & VIO_STATUS_FEATURES_OK);
	if (st & VIO_STATUS_FEATURES_OK)
		FZ_CHECK(st & VIO_STATUS_DRIVER);
	if (st & VIO_STATUS_DRIVER)
		FZ_CHECK(st & VIO_STATUS_ACKNOWLEDGE);
	if (st & VIO_STATUS_SUSPEND)
		FZ_CHECK(!(st & VIO_STATUS_DRIVER_OK) && (st & VIO_STATUS_FEATURES_OK));

	struct vio_features off, neg;
	vio_device_offered(dev, &off);
	FZ_CHECK(vio_features_test(&off, VIO_F_VERSION_1));
	for (unsigned b = 44; b < 50; b++)
		FZ_CHECK(!vio_features_test(&off, b));
	FZ_CHECK(!vio_features_test(&off, VIO_F_NOTIF_CONFIG_DATA));
	FZ_CHECK(!vio_features_test(&off, VIO_F_SR_IOV));
	vio_device_features(dev, &neg);
	if (st & VIO_STATUS_FEATURES_OK) {
		FZ_CHECK(vio_features_subset(&neg, &off));
		FZ_CHECK(vio_features_test(&neg, VIO_F_VERSION_1));
	} else {
		FZ_CHECK(vio_features_equal(&neg, &(struct vio_features){{0}}));
	}

	for (uint16_t q = 0; q < f->nq; q++) {
		struct vio_devq *dq = vio_device_queue(dev, q);
		if (vio_device_queue_ready(dev, q)) {
			FZ_CHECK(st & VIO_STATUS_FEATURES_OK);
			FZ_CHECK(dq != NULL);
			uint16_t n = vio_devq_size(dq);
			FZ_CHECK(n >= 1 && n <= f->qmax[q] && n == vio_device_queue_size(dev, q));
			if (!vio_features_test(&neg, VIO_F_RING_PACKED))
				FZ_CHECK((n & (n - 1)) == 0);
		} else {
			FZ_CHECK(dq == NULL);
		}
	}
	FZ_CHECK(vio_device_queue(dev, f->nq) == NULL);
	uint32_t is = vio_mmio_dev_interrupt_status(f->mmio);
	FZ_CHECK((is & ~3u) == 0);
	FZ_CHECK(f->line == (is != 0));
	if (st == 0)
		FZ_CHECK(is == 0);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int wr(struct fz_mmio *f, uint32_t off, uint32_t v)
{
	return vio_mmio_dev_write(f->mmio, off, v, 4);
}

static void good_step(struct fz_mmio *f, unsigned step, uint16_t q)
{
	uint8_t st = vio_device_status(f->dev);
	switch (step) {
	case 0:
		(void)wr(f, VIO_MMIO_STATUS, 0);
		FZ_CHECK(vio_device_status(f->dev) == 0);
		break;
	case 1:
		(void)wr(f, VIO_MMIO_STATUS, st | VIO_STATUS_ACKNOWLEDGE);
		break;
	case 2:
		(void)wr(f, VIO_MMIO_STATUS, st | VIO_STATUS_DRIVER);
		break;
	case 3:
		for (uint32_t sel = 0; sel < 4; sel++) {
			(void)wr(f, VIO_MMIO_DEVICE_FEATURES_SEL, sel);
			uint64_t v;
			(void)vio_mmio_dev_read(f->mmio, VIO_MMIO_DEVICE_FEATURES, 4, &v);
			(void)wr(f, VIO_MMIO_DRIVER_FEATURES_SEL, sel);
			(void)wr(f, VIO_MMIO_DRIVER_FEATURES, (uint32_t)v);
		}
		(void)wr(f, VIO_MMIO_STATUS, st | VIO_STATUS_FEATURES_OK);
		break;
	case 4: {
		q %= f->nq;
		uint64_t base = MEM_GPA + (uint64_t)q * 4096u;
		uint32_t n = f->qmax[q] < 16 ? f->qmax[q] : 16;
		(void)wr(f, VIO_MMIO_QUEUE_SEL, q);
		(void)wr(f, VIO_MMIO_QUEUE_NUM, n);
		(void)wr(f, VIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
		(void)wr(f, VIO_MMIO_QUEUE_DESC_HIGH, 0);
		(void)wr(f, VIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)base + 1024);
		(void)wr(f, VIO_MMIO_QUEUE_DRIVER_HIGH, 0);
		(void)wr(f, VIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)base + 2048);
		(void)wr(f, VIO_MMIO_QUEUE_DEVICE_HIGH, 0);
		(void)wr(f, VIO_MMIO_QUEUE_READY, 1);
		break;
	}
	default:
		(void)wr(f, VIO_MMIO_STATUS, st | VIO_STATUS_DRIVER_OK);
		break;
	}
}

static void save_restore(struct fz_mmio *f)
{
	size_t n = vio_mmio_dev_state_size(f->mmio);
	FZ_CHECK(n <= f->save_len);
	FZ_CHECK(vio_mmio_dev_save(f->mmio, f->save_a, n) == 0);
	int rc = vio_mmio_dev_restore(f->mmio, f->save_a, n);
	if (rc != 0) {
		/* Guest memory can make a split ring's used index unrestorable;
		 * the device is then left reset. */
		FZ_CHECK(vio_device_status(f->dev) == 0);
		return;
	}
	FZ_CHECK(vio_mmio_dev_save(f->mmio, f->save_b, n) == 0);
	/* A split ring's used index (and so the count in flight) is read back
	 * from the used ring in guest memory, which the driver may have
	 * scribbled on: those bytes may differ. */
	if (!vio_device_has_feature(f->dev, VIO_F_RING_PACKED))
		for (uint16_t q = 0; q < f->nq; q++) {
			size_t at = 28 + 48 + CFG_SIZE + 48u * q + 16;
			memset(f->save_a + at, 0, 4);
			memset(f->save_b + at, 0, 4);
		}
	FZ_CHECK(memcmp(f->save_a, f->save_b, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	static struct fz_mmio f;
	memset(&f, 0, sizeof(f));
	uint8_t setup = fz_u8(&in);
	static const uint16_t maxes[4] = {4, 8, 16, 256};
	f.nq = (setup & 1) ? 2 : 1;
	f.qmax[0] = f.qmax[1] = maxes[(setup >> 1) & 3];
	f.ram = calloc(1, MEM_SIZE);
	FZ_CHECK(f.ram != NULL);
	f.region = (struct vio_mem_region){MEM_GPA, MEM_SIZE, f.ram, VIO_MAP_RW};

	struct vio_device_info info = {0};
	info.device_id = VIO_ID_RNG;
	info.num_queues = f.nq;
	info.queue_max = f.qmax;
	static const unsigned opt[5] = {VIO_F_EVENT_IDX, VIO_F_RING_PACKED, VIO_F_NOTIFICATION_DATA,
					VIO_F_RING_RESET, VIO_F_SUSPEND};
	for (unsigned i = 0; i < 5; i++)
		if (setup & (8u << i))
			vio_features_set(&info.features, opt[i]);
	vio_features_set(&info.features, VIO_F_SR_IOV); /* never offered over mmio */
	info.config = f.config;
	info.config_size = CFG_SIZE;
	info.ops = &ops;
	info.ctx = &f;
	info.regions = &f.region;
	info.nregions = 1;
	size_t need = vio_device_mem_size(&info);
	void *devmem = aligned_alloc(VIO_DEVICE_MEM_ALIGN, (need + 7) & ~(size_t)7);
	FZ_CHECK(devmem != NULL);
	FZ_CHECK(vio_device_init(&f.dev, devmem, need, &info) == 0);
	static _Alignas(VIO_MMIO_DEV_MEM_ALIGN) unsigned char mmiomem[VIO_MMIO_DEV_MEM_SIZE];
	struct vio_mmio_dev_config mc = {0};
	mc.set_irq = set_irq;
	mc.irq_ctx = &f;
	FZ_CHECK(vio_mmio_dev_init(&f.mmio, mmiomem, sizeof(mmiomem), f.dev, &mc) == 0);
	f.save_len = vio_mmio_dev_state_size(f.mmio);
	f.save_a = malloc(f.save_len);
	f.save_b = malloc(f.save_len);
	FZ_CHECK(f.save_a != NULL && f.save_b != NULL);
	check(&f);

	for (unsigned steps = 0; steps < 4096 && !fz_in_done(&in); steps++) {
		uint8_t op[8];
		fz_bytes(&in, op, sizeof(op));
		uint32_t v = le32(op + 3);
		uint64_t val;
		int rc;
		switch (op[0] % 8) {
		case 0: {
			uint32_t off = regs[op[1] % NREGS];
			if ((op[7] & 1) && off >= VIO_MMIO_QUEUE_DESC_LOW &&
			    off <= VIO_MMIO_QUEUE_DEVICE_HIGH)
				v = (off & 4) ? 0 : (uint32_t)(MEM_GPA + v % MEM_SIZE);
			(void)wr(&f, off, v);
			break;
		}
		case 1:
			rc = vio_mmio_dev_read(f.mmio, regs[op[1] % NREGS], 4, &val);
			FZ_CHECK(rc == 0 || val == 0);
			if (regs[op[1] % NREGS] == VIO_MMIO_MAGIC_VALUE)
				FZ_CHECK(rc == 0 && val == VIO_MMIO_MAGIC);
			break;
		case 2: {
			uint32_t off = (uint32_t)(op[1] | op[2] << 8) & 0x1ffu;
			unsigned w = op[7] % 9u;
			if (v & 1) {
				rc = vio_mmio_dev_read(f.mmio, off, w, &val);
				FZ_CHECK(rc == 0 || val == 0);
				FZ_CHECK(w >= 8 || (val >> (8 * w)) == 0);
			} else {
				(void)vio_mmio_dev_write(f.mmio, off, v, w);
			}
			break;
		}
		case 3: {
			static const unsigned widths[4] = {1, 2, 4, 8};
			uint32_t off = VIO_MMIO_CONFIG + op[1] % 24u;
			unsigned w = widths[op[2] % 4];
			if (op[7] & 1) {
				rc = vio_mmio_dev_read(f.mmio, off, w, &val);
				FZ_CHECK((rc == 0) == (off - VIO_MMIO_CONFIG + w <= CFG_SIZE));
			} else {
				(void)vio_mmio_dev_write(f.mmio, off, v, w);
			}
			break;
		}
		case 4: {
			uint32_t at = (uint32_t)(op[1] | op[2] << 8) % (MEM_SIZE - 3);
			memcpy(f.ram + at, op + 3, 4);
			break;
		}
		case 5:
			switch (op[7] % 4) {
			case 0: {
				uint32_t g = vio_device_config_generation(f.dev);
				FZ_CHECK(vio_device_config_update(f.dev, op[1] % CFG_SIZE, op + 3,
								  1) == 0);
				FZ_CHECK(vio_device_config_generation(f.dev) != g);
				break;
			}
			case 1:
				vio_device_set_needs_reset(f.dev);
				FZ_CHECK(vio_device_status(f.dev) & VIO_STATUS_DEVICE_NEEDS_RESET);
				break;
			case 2:
				vio_device_queue_interrupt(f.dev, op[1] % f.nq);
				break;
			default:
				save_restore(&f);
				break;
			}
			break;
		case 6:
			good_step(&f, op[1] % 6u, op[2]);
			break;
		default:
			(void)wr(&f, VIO_MMIO_QUEUE_NOTIFY, (op[7] & 1) ? op[2] % 3u : v);
			break;
		}
		check(&f);
	}

	(void)wr(&f, VIO_MMIO_STATUS, 0);
	check(&f);
	FZ_CHECK(vio_device_status(f.dev) == 0 && !f.line);
	free(f.save_a);
	free(f.save_b);
	free(devmem);
	free(f.ram);
	return 0;
}
