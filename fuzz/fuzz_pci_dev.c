/* SPDX-License-Identifier: MIT */
/*
 * The virtio-pci register model and the device core behind it against a
 * hostile driver: a sequence of configuration-space and BAR accesses (any
 * offset, width and value), writes into guest memory, and device-side
 * events, with the model's invariants checked after each.
 *
 * Input: two setup bytes, then 8-byte operations.
 *   setup 0: bit 0 two queues (else one); bits 1-2 queue maximum 4/8/16/256;
 *            bits 3-7 offer EVENT_IDX, RING_PACKED, NOTIFICATION_DATA,
 *            RING_RESET, SUSPEND.
 *   setup 1: bits 0-1 MSI-X vectors 0/1/3/8; bit 2 no INTx#; bits 3-4 BAR
 *            0/2/4 (3: 0); bit 5 no device configuration space.
 *   op:      [kind] [a] [b] [v: 4 bytes LE] [x]
 *     0 configuration space write: offset a, width x % 6, value v
 *     1 configuration space read: offset a, width x % 6
 *     2 BAR write: offset (a | b << 8) & 0x7fff, width x % 10, value v (x
 *       bit 7: BAR index (x >> 4) & 7 instead of the model's)
 *     3 BAR read: as 2
 *     4 a common configuration field with its own width (a picks it; with
 *       x bit 0 an address half gets an address inside guest memory)
 *     5 device side: x % 4: config update, NEEDS_RESET, queue interrupt,
 *       save + restore
 *     6 a well-behaved step (a % 8: reset, ACK, DRIVER, features +
 *       FEATURES_OK, set up queue b with valid rings, DRIVER_OK, program
 *       and enable MSI-X (x bit 0: function mask), map vectors from v)
 *     7 a notification at queue b's address: v, or with x bit 0 the right
 *       value (index, or notification data)
 *     8 the driver scribbles v into guest memory at (a | b << 8)
 *     9 the PCI configuration access window: cap.bar = x & 7, cap.offset =
 *       (a | b << 8) & 0x7fff, cap.length = (x >> 3) % 5, then read
 *       (v bit 0) or write v through pci_cfg_data
 *
 * Guest memory is one heap block of exactly its size, the device's only
 * region (no map callback): any access outside it is an ASan report.
 * Invariants: the status machine's (DRIVER_OK only with FEATURES_OK, …),
 * negotiated ⊆ offered, refused reads return 0 and values fit their width,
 * an ISR read leaves the ISR 0, every stored vector is inside the table or
 * NO_VECTOR, INTx# follows "ISR set, MSI-X off, Interrupt Disable clear",
 * every MSI-X message names a vector inside the table that is unmasked
 * after the access that sent it (operations other than 6, which makes
 * several), and save/restore round trips.
 */
#include <stdlib.h>
#include <string.h>

#include <virtio/virtio.h>

#include "input.h"
#include "invariants.h"

#define MEM_GPA 0x100000ull
#define MEM_SIZE 16384u
#define CFG_SIZE 24u
#define MSIX_CAP 0x98u
#define PCICFG_CAP 0x84u

struct fz_pci {
	unsigned char *ram;
	struct vio_mem_region region;
	unsigned char config[CFG_SIZE];
	uint32_t config_size;
	struct vio_device *dev;
	struct vio_pci_dev *pci;
	struct vio_pci_dev_layout l;
	uint16_t qmax[2];
	uint16_t nq;
	uint16_t nvec;
	bool intx;
	bool line;
	unsigned msis;
	uint32_t sent; /* vectors messaged during the current operation */
	unsigned char *save_a, *save_b;
	size_t save_len;
};

static void m_notify(void *ctx, struct vio_device *dev, uint16_t q, uint32_t data)
{
	struct fz_pci *f = ctx;
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
	struct fz_pci *f = ctx;
	(void)dev;
	FZ_CHECK(len >= 1 && len <= 8 && off + len <= f->config_size);
	memcpy(f->config + off, data, len);
}

static const struct vio_device_ops ops = {
	.config_write = m_config_write, .activate = m_activate, .queue_notify = m_notify};

static void set_irq(void *ctx, bool level)
{
	struct fz_pci *f = ctx;
	FZ_CHECK(f->intx);
	f->line = level;
}

static void msix(void *ctx, uint16_t vector, uint64_t addr, uint32_t data)
{
	struct fz_pci *f = ctx;
	(void)addr;
	(void)data;
	FZ_CHECK(vector < f->nvec);
	f->msis++;
	f->sent |= 1u << vector;
}

static uint64_t bar_rd(struct fz_pci *f, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	(void)vio_pci_dev_bar_read(f->pci, f->l.bar, off, size, &v);
	return v;
}

static int bar_wr(struct fz_pci *f, uint64_t off, uint64_t v, unsigned size)
{
	return vio_pci_dev_bar_write(f->pci, f->l.bar, off, v, size);
}

static uint32_t cfg_rd(struct fz_pci *f, uint32_t off, unsigned size)
{
	uint32_t v = 0;
	(void)vio_pci_dev_cfg_read(f->pci, off, size, &v);
	return v;
}

static bool vector_ok(const struct fz_pci *f, uint16_t v)
{
	return v == VIO_PCI_MSI_NO_VECTOR || v < f->nvec;
}

static void check(struct fz_pci *f)
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
	FZ_CHECK(!vio_features_test(&off, VIO_F_SR_IOV));
	FZ_CHECK(!vio_features_test(&off, VIO_F_NOTIF_CONFIG_DATA));
	FZ_CHECK(!vio_features_test(&off, VIO_F_ADMIN_VQ));
	vio_device_features(dev, &neg);
	if (st & VIO_STATUS_FEATURES_OK) {
		FZ_CHECK(vio_features_subset(&neg, &off));
		FZ_CHECK(vio_features_test(&neg, VIO_F_VERSION_1));
	} else {
		FZ_CHECK(vio_features_equal(&neg, &(struct vio_features){{0}}));
	}

	/* Vectors: inside the table or NO_VECTOR (§4.1.5.1.2). */
	FZ_CHECK(vector_ok(f, vio_device_config_vector(dev)));
	for (uint16_t q = 0; q < f->nq; q++) {
		FZ_CHECK(vector_ok(f, vio_device_queue_vector(dev, q)));
		struct vio_devq *dq = vio_device_queue(dev, q);
		if (vio_device_queue_ready(dev, q)) {
			FZ_CHECK(st & VIO_STATUS_FEATURES_OK);
			FZ_CHECK(dq != NULL);
			uint16_t n = vio_devq_size(dq);
			FZ_CHECK(n >= 1 && n <= f->qmax[q]);
			if (!vio_features_test(&neg, VIO_F_RING_PACKED))
				FZ_CHECK((n & (n - 1)) == 0);
		} else {
			FZ_CHECK(dq == NULL);
		}
	}
	for (uint16_t v = 0; v < 16; v++)
		if (v >= f->nvec)
			FZ_CHECK(!vio_pci_dev_msix_pending(f->pci, v));

	/* INTx#: the level the callback was given follows the state. */
	unsigned isr = vio_pci_dev_isr(f->pci);
	FZ_CHECK((isr & ~3u) == 0);
	bool want = f->intx && isr != 0 && !vio_pci_dev_msix_enabled(f->pci) &&
		    !(vio_pci_dev_command(f->pci) & VIO_PCI_COMMAND_INTX_DISABLE);
	FZ_CHECK(vio_pci_dev_irq_level(f->pci) == want);
	FZ_CHECK(f->line == want);
	if (st == 0)
		FZ_CHECK(isr == 0);

	/* Messages went only to vectors that are unmasked now. */
	for (uint16_t v = 0; v < f->nvec; v++) {
		if (!(f->sent & (1u << v)))
			continue;
		FZ_CHECK(vio_pci_dev_msix_enabled(f->pci));
		FZ_CHECK(!(cfg_rd(f, MSIX_CAP + VIO_PCI_MSIX_FLAGS, 2) &
			   VIO_PCI_MSIX_FLAGS_MASKALL));
		FZ_CHECK((bar_rd(f, f->l.msix_table_offset + 16u * v + 12, 4) & 1) == 0);
		FZ_CHECK(!vio_pci_dev_msix_pending(f->pci, v));
	}
	f->sent = 0;
	/* The common configuration agrees with the core. */
	FZ_CHECK(bar_rd(f, VIO_PCI_COMMON_STATUS, 1) == st);
	FZ_CHECK(bar_rd(f, VIO_PCI_COMMON_NUMQ, 2) == f->nq);
	FZ_CHECK(vector_ok(f, (uint16_t)bar_rd(f, VIO_PCI_COMMON_MSIX, 2)));
	FZ_CHECK(vector_ok(f, (uint16_t)bar_rd(f, VIO_PCI_COMMON_Q_MSIX, 2)));
	FZ_CHECK(cfg_rd(f, 0, 4) == (0x1af4u | (0x1040u + VIO_ID_RNG) << 16));
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static const struct {
	uint16_t off;
	uint8_t width;
} fields[] = {{VIO_PCI_COMMON_DFSELECT, 4},  {VIO_PCI_COMMON_DF, 4},
	      {VIO_PCI_COMMON_GFSELECT, 4},  {VIO_PCI_COMMON_GF, 4},
	      {VIO_PCI_COMMON_MSIX, 2},	     {VIO_PCI_COMMON_NUMQ, 2},
	      {VIO_PCI_COMMON_STATUS, 1},    {VIO_PCI_COMMON_CFGGENERATION, 1},
	      {VIO_PCI_COMMON_Q_SELECT, 2},  {VIO_PCI_COMMON_Q_SIZE, 2},
	      {VIO_PCI_COMMON_Q_MSIX, 2},    {VIO_PCI_COMMON_Q_ENABLE, 2},
	      {VIO_PCI_COMMON_Q_NOFF, 2},    {VIO_PCI_COMMON_Q_DESCLO, 4},
	      {VIO_PCI_COMMON_Q_DESCHI, 4},  {VIO_PCI_COMMON_Q_AVAILLO, 4},
	      {VIO_PCI_COMMON_Q_AVAILHI, 4}, {VIO_PCI_COMMON_Q_USEDLO, 4},
	      {VIO_PCI_COMMON_Q_USEDHI, 4},  {VIO_PCI_COMMON_Q_NDATA, 2},
	      {VIO_PCI_COMMON_Q_RESET, 2},   {VIO_PCI_COMMON_ADM_Q_IDX, 2}};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static void good_step(struct fz_pci *f, unsigned step, uint16_t q, uint32_t v, uint8_t x)
{
	uint8_t st = vio_device_status(f->dev);
	switch (step) {
	case 0:
		(void)bar_wr(f, VIO_PCI_COMMON_STATUS, 0, 1);
		FZ_CHECK(vio_device_status(f->dev) == 0);
		FZ_CHECK(bar_rd(f, VIO_PCI_COMMON_Q_SELECT, 2) == 0);
		break;
	case 1:
		(void)bar_wr(f, VIO_PCI_COMMON_STATUS, st | VIO_STATUS_ACKNOWLEDGE, 1);
		break;
	case 2:
		(void)bar_wr(f, VIO_PCI_COMMON_STATUS, st | VIO_STATUS_DRIVER, 1);
		break;
	case 3:
		for (uint32_t sel = 0; sel < 4; sel++) {
			(void)bar_wr(f, VIO_PCI_COMMON_DFSELECT, sel, 4);
			uint64_t w = bar_rd(f, VIO_PCI_COMMON_DF, 4);
			(void)bar_wr(f, VIO_PCI_COMMON_GFSELECT, sel, 4);
			(void)bar_wr(f, VIO_PCI_COMMON_GF, w, 4);
		}
		(void)bar_wr(f, VIO_PCI_COMMON_STATUS, st | VIO_STATUS_FEATURES_OK, 1);
		break;
	case 4: {
		q %= f->nq;
		uint64_t base = MEM_GPA + (uint64_t)q * 4096u;
		uint32_t n = f->qmax[q] < 16 ? f->qmax[q] : 16;
		(void)bar_wr(f, VIO_PCI_COMMON_Q_SELECT, q, 2);
		(void)bar_wr(f, VIO_PCI_COMMON_Q_SIZE, n, 2);
		(void)bar_wr(f, VIO_PCI_COMMON_Q_DESCLO, (uint32_t)base, 4);
		(void)bar_wr(f, VIO_PCI_COMMON_Q_DESCHI, 0, 4);
		(void)bar_wr(f, VIO_PCI_COMMON_Q_AVAILLO, (uint32_t)base + 1024, 4);
		(void)bar_wr(f, VIO_PCI_COMMON_Q_AVAILHI, 0, 4);
		(void)bar_wr(f, VIO_PCI_COMMON_Q_USEDLO, (uint32_t)base + 2048, 4);
		(void)bar_wr(f, VIO_PCI_COMMON_Q_USEDHI, 0, 4);
		(void)bar_wr(f, VIO_PCI_COMMON_Q_ENABLE, 1, 2);
		break;
	}
	case 5:
		(void)bar_wr(f, VIO_PCI_COMMON_STATUS, st | VIO_STATUS_DRIVER_OK, 1);
		break;
	case 6:
		/* Message Control first: a function mask set after the entries
		 * were unmasked would mask what they just released. */
		(void)vio_pci_dev_cfg_write(
			f->pci, MSIX_CAP + VIO_PCI_MSIX_FLAGS,
			VIO_PCI_MSIX_FLAGS_ENABLE | ((x & 1) ? VIO_PCI_MSIX_FLAGS_MASKALL : 0u), 2);
		for (uint16_t i = 0; i < f->nvec; i++) {
			uint64_t e = f->l.msix_table_offset + 16u * i;
			(void)bar_wr(f, e, 0xfee00000u + 16u * i, 4);
			(void)bar_wr(f, e + 8, 0x100u + i, 4);
			(void)bar_wr(f, e + 12, (v >> i) & 1u, 4);
		}
		break;
	default: {
		uint16_t cv = (uint16_t)(v & 0xf);
		int rc = bar_wr(f, VIO_PCI_COMMON_MSIX, cv, 2);
		FZ_CHECK((rc == 0) == (cv < f->nvec));
		for (uint16_t i = 0; i < f->nq; i++) {
			(void)bar_wr(f, VIO_PCI_COMMON_Q_SELECT, i, 2);
			(void)bar_wr(f, VIO_PCI_COMMON_Q_MSIX, (v >> (4 + 4 * i)) & 0xf, 2);
		}
		break;
	}
	}
}

static void save_restore(struct fz_pci *f)
{
	size_t n = vio_pci_dev_state_size(f->pci);
	FZ_CHECK(n <= f->save_len);
	FZ_CHECK(vio_pci_dev_save(f->pci, f->save_a, n) == 0);
	int rc = vio_pci_dev_restore(f->pci, f->save_a, n);
	if (rc != 0) {
		/* Guest memory can make a split ring's used index unrestorable;
		 * the model is then left reset. */
		FZ_CHECK(vio_device_status(f->dev) == 0);
		FZ_CHECK(vio_pci_dev_command(f->pci) == 0);
		return;
	}
	FZ_CHECK(vio_pci_dev_save(f->pci, f->save_b, n) == 0);
	/* A split ring's used index (and so the count in flight) is read back
	 * from guest memory, which the driver may have scribbled on. */
	size_t core = n - vio_device_state_size(f->dev);
	if (!vio_device_has_feature(f->dev, VIO_F_RING_PACKED))
		for (uint16_t q = 0; q < f->nq; q++) {
			size_t at = core + 48 + f->config_size + 48u * q + 16;
			memset(f->save_a + at, 0, 4);
			memset(f->save_b + at, 0, 4);
		}
	FZ_CHECK(memcmp(f->save_a, f->save_b, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in;
	fz_in_init(&in, data, size);
	static struct fz_pci f;
	memset(&f, 0, sizeof(f));
	uint8_t setup = fz_u8(&in), setup1 = fz_u8(&in);
	static const uint16_t maxes[4] = {4, 8, 16, 256};
	static const uint16_t nvecs[4] = {0, 1, 3, 8};
	static const uint8_t bars[4] = {0, 2, 4, 0};
	f.nq = (setup & 1) ? 2 : 1;
	f.qmax[0] = f.qmax[1] = maxes[(setup >> 1) & 3];
	f.nvec = nvecs[setup1 & 3];
	f.intx = !(setup1 & 4);
	f.config_size = (setup1 & 0x20) ? 0 : CFG_SIZE;
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
	vio_features_set(&info.features, VIO_F_SR_IOV); /* never offered by this transport */
	info.config = f.config_size ? f.config : NULL;
	info.config_size = f.config_size;
	info.ops = &ops;
	info.ctx = &f;
	info.regions = &f.region;
	info.nregions = 1;
	size_t need = vio_device_mem_size(&info);
	void *devmem = aligned_alloc(VIO_DEVICE_MEM_ALIGN, (need + 7) & ~(size_t)7);
	FZ_CHECK(devmem != NULL);
	FZ_CHECK(vio_device_init(&f.dev, devmem, need, &info) == 0);

	struct vio_pci_dev_config pc = {0};
	pc.msix_vectors = f.nvec;
	pc.no_intx = !f.intx;
	pc.bar = bars[(setup1 >> 3) & 3];
	pc.set_irq = set_irq;
	pc.msix = msix;
	pc.irq_ctx = &f;
	size_t pneed = vio_pci_dev_mem_size(&pc);
	void *pcimem = aligned_alloc(VIO_PCI_DEV_MEM_ALIGN, (pneed + 7) & ~(size_t)7);
	FZ_CHECK(pcimem != NULL);
	FZ_CHECK(vio_pci_dev_init(&f.pci, pcimem, pneed, f.dev, &pc) == 0);
	vio_pci_dev_get_layout(f.pci, &f.l);
	f.save_len = vio_pci_dev_state_size(f.pci);
	f.save_a = malloc(f.save_len);
	f.save_b = malloc(f.save_len);
	FZ_CHECK(f.save_a != NULL && f.save_b != NULL);
	check(&f);

	for (unsigned steps = 0; steps < 4096 && !fz_in_done(&in); steps++) {
		uint8_t op[8];
		fz_bytes(&in, op, sizeof(op));
		uint32_t v = le32(op + 3);
		uint64_t val = 0;
		uint32_t cv = 0;
		int rc;
		unsigned w;
		uint64_t boff = (uint64_t)(op[1] | op[2] << 8) & 0x7fffu;
		unsigned bar = (op[7] & 0x80) ? (op[7] >> 4) & 7u : f.l.bar;
		switch (op[0] % 10) {
		case 0:
			(void)vio_pci_dev_cfg_write(f.pci, op[1], v, op[7] % 6u);
			break;
		case 1:
			w = op[7] % 6u;
			rc = vio_pci_dev_cfg_read(f.pci, op[1], w, &cv);
			FZ_CHECK(rc == 0 || cv == 0);
			FZ_CHECK(w >= 4 || (cv >> (8 * w)) == 0);
			break;
		case 2:
			(void)vio_pci_dev_bar_write(f.pci, bar, boff, v, op[7] % 10u);
			break;
		case 3:
			w = op[7] % 10u;
			rc = vio_pci_dev_bar_read(f.pci, bar, boff, w, &val);
			FZ_CHECK(rc == 0 || val == 0);
			FZ_CHECK(w >= 8 || (val >> (8 * w)) == 0);
			if (rc == 0 && bar == f.l.bar && boff == f.l.isr_offset)
				FZ_CHECK(vio_pci_dev_isr(f.pci) == 0); /* read-to-clear */
			break;
		case 4: {
			unsigned i = op[1] % NFIELDS;
			uint32_t o = fields[i].off;
			if ((op[7] & 1) && o >= VIO_PCI_COMMON_Q_DESCLO &&
			    o <= VIO_PCI_COMMON_Q_USEDHI)
				v = (o & 4) ? 0 : (uint32_t)(MEM_GPA + v % MEM_SIZE);
			if (op[2] & 1) {
				rc = vio_pci_dev_bar_read(f.pci, f.l.bar, o, fields[i].width, &val);
				FZ_CHECK(rc == 0);
			} else {
				rc = bar_wr(&f, o, v, fields[i].width);
				if (o == VIO_PCI_COMMON_MSIX && rc == 0)
					FZ_CHECK(bar_rd(&f, o, 2) == (v & 0xffff));
				if (o == VIO_PCI_COMMON_MSIX && !vector_ok(&f, (uint16_t)v))
					FZ_CHECK(rc == -VIO_EVECTOR &&
						 bar_rd(&f, o, 2) == VIO_PCI_MSI_NO_VECTOR);
			}
			break;
		}
		case 5:
			switch (op[7] % 4) {
			case 0: {
				if (f.config_size == 0)
					break;
				uint32_t g = vio_device_config_generation(f.dev);
				uint64_t g8 = bar_rd(&f, VIO_PCI_COMMON_CFGGENERATION, 1);
				FZ_CHECK(vio_device_config_update(f.dev, op[1] % CFG_SIZE, op + 3,
								  1) == 0);
				FZ_CHECK(vio_device_config_generation(f.dev) != g);
				FZ_CHECK(bar_rd(&f, VIO_PCI_COMMON_CFGGENERATION, 1) != g8);
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
			good_step(&f, op[1] % 8u, op[2], v, op[7]);
			/* Several accesses: a vector messaged by one of them may be
			 * masked by a later one; "unmasked after the access that
			 * sent it" is checked for single accesses only. */
			f.sent = 0;
			break;
		case 7: {
			uint16_t q = (uint16_t)(op[2] % (f.nq + 1u));
			uint64_t at = f.l.notify_offset + 4u * q;
			if (op[7] & 1) {
				bool nd = vio_device_has_feature(f.dev, VIO_F_NOTIFICATION_DATA);
				(void)bar_wr(&f, at, nd ? (v & 0xffff0000u) | q : q, nd ? 4 : 2);
			} else {
				(void)bar_wr(&f, at, v, (op[1] & 1) ? 4 : 2);
			}
			break;
		}
		case 8: {
			uint32_t at = (uint32_t)(op[1] | op[2] << 8) % (MEM_SIZE - 3);
			memcpy(f.ram + at, op + 3, 4);
			break;
		}
		default:
			(void)vio_pci_dev_cfg_write(f.pci, PCICFG_CAP + VIO_PCI_CAP_OFF_BAR,
						    op[7] & 7u, 1);
			(void)vio_pci_dev_cfg_write(f.pci, PCICFG_CAP + VIO_PCI_CAP_OFF_OFFSET,
						    (uint32_t)boff, 4);
			(void)vio_pci_dev_cfg_write(f.pci, PCICFG_CAP + VIO_PCI_CAP_OFF_LENGTH,
						    (op[7] >> 3) % 5u, 4);
			if (v & 1) {
				rc = vio_pci_dev_cfg_read(f.pci, PCICFG_CAP + VIO_PCI_CFG_CAP_DATA,
							  4, &cv);
				FZ_CHECK(rc == 0 || cv == 0);
			} else {
				(void)vio_pci_dev_cfg_write(
					f.pci, PCICFG_CAP + VIO_PCI_CFG_CAP_DATA, v, 4);
			}
			break;
		}
		check(&f);
	}

	vio_pci_dev_reset(f.pci);
	check(&f);
	FZ_CHECK(vio_device_status(f.dev) == 0 && !f.line);
	free(f.save_a);
	free(f.save_b);
	free(pcimem);
	free(devmem);
	free(f.ram);
	return 0;
}
