/* SPDX-License-Identifier: MIT */
/* The loopback driver/device pair: a VMM's device side and a guest's driver
 * side in one process, talking virtio end to end through a transport.
 *
 * Two threads. The *driver thread* is the guest: it probes a virtio-blk and
 * a virtio-rng device through the transport's front, brings them up with
 * the driver core, writes seeded random blocks to the disk, reads them back
 * and verifies them, flushes, asks for the device ID and reads entropy. The
 * front's register accessors call the transport's register model directly,
 * which is what a VMM's trap handler does with a guest's MMIO exit, so the
 * driver thread is also the VMM's *control thread*. The *device thread*
 * serves the queues: a driver notification reaches the device core, whose
 * adapter (blk_device.h, rng_device.h) posts the queue to the device
 * thread's mailbox; a used-buffer notification reaches the register model,
 * whose interrupt level callback wakes the driver thread, which runs the
 * driver core's interrupt handler and reaps.
 *
 * Guest memory is one arena. The device side reaches it only through a
 * region table at guest-physical address GPA_BASE (a VMM's memory map); the
 * driver side names its buffers by guest-physical address through DMA ops
 * (arena offset + GPA_BASE), as a guest does. Nothing else is shared.
 *
 *   loopback [--transport mmio|pci] [--ring split|packed] [--blocks N]
 *            [--queues N] [--seed S] [--timeout SECONDS]
 *
 * Every wait is bounded: a device that does not answer within the timeout
 * prints FAIL and exits with status 1. The last line starts with OK when
 * every check held.
 *
 * Over virtio-pci (--transport pci) the guest first places the BARs (the
 * firmware's job) and probes each function's capability list; the blk
 * device signals through MSI-X (one vector per queue and a configuration
 * vector) and the rng device, which has no MSI-X capability, through INTx#
 * and the ISR, so every run covers both interrupt paths. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtio/virtio.h>

#define GPA_BASE 0x40000000u /* where the arena sits in guest-physical space */
#define BLOCK 4096u	     /* bytes per block the driver writes */
#define DEPTH 32u	     /* blk requests in flight per queue */
#define BLK_QSIZE 128u	     /* driver queue sizes */
#define RNG_QSIZE 16u
#define RNG_BUFS 16u   /* entropy buffers */
#define RNG_BUF 256u   /* bytes each */
#define MAX_QUEUES 8u  /* --queues limit */
#define INDIRECT_MAX 4 /* descriptors per indirect table (a request has 3) */
#define DISK_ID "libvirtio-loopback"
#define PCI_MAX_VECTORS (MAX_QUEUES + 1u) /* blk: a configuration vector + one per queue */
#define MSI_DOORBELL 0xfee00000u	  /* the interrupt controller's MSI address */
#define PCI_MEM_WINDOW 0xc0000000u	  /* where the guest places the BARs */

enum {
	SLOT_BLK = 0,
	SLOT_RNG = 1,
	NSLOTS = 2
};

/* ---- Small helpers -------------------------------------------------------------- */

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	exit(1); /* the device thread may be stuck: do not wait for it */
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* The contents of block @b for seed @seed: what the driver writes and
 * expects back. */
static void block_pattern(uint64_t seed, uint64_t b, unsigned char *out)
{
	uint64_t s = seed ^ (b * 0xd1342543de82ef95u);
	for (unsigned i = 0; i < BLOCK; i += 8) {
		uint64_t v = splitmix64(&s);
		memcpy(out + i, &v, 8);
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec deadline_in(unsigned seconds)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)seconds;
	return ts;
}

static void *xaligned(size_t align, size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, align, n != 0 ? n : 1) != 0)
		fail("out of memory");
	memset(p, 0, n);
	return p;
}

/* ---- Guest memory: one arena, a region table, DMA ops ----------------------------- */

struct arena {
	unsigned char *base;
	size_t size, used;
	struct vio_mem_region region; /* the device side's view: the VMM's memory map */
};

/* Guest RAM: zeroed, device-visible memory for rings, requests and buffers. */
static void *arena_alloc(struct arena *a, size_t n, size_t align)
{
	size_t at = (a->used + align - 1) & ~(align - 1);
	if (at + n > a->size)
		fail("arena exhausted (%zu bytes)", a->size);
	a->used = at + n;
	return a->base + at;
}

/* The driver's address conversion: a guest-physical address for a pointer
 * into guest RAM, nothing for anything else. */
static int gpa_of(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir, uint64_t *addr)
{
	const struct arena *a = ctx;
	const unsigned char *p = ptr;
	(void)dir;
	if (p < a->base || (size_t)(p - a->base) > a->size || len > a->size - (size_t)(p - a->base))
		return -VIO_EINVAL;
	*addr = GPA_BASE + (uint64_t)(p - a->base);
	return 0;
}

static const struct vio_dma_ops gpa_ops = {.to_device = gpa_of};

/* ---- The interrupt controller: device thread -> driver thread ---------------------- */

/* One level-triggered line per device, as a VMM wires an IRQ per virtio-mmio
 * window or PCI INTx# pin, and a pending bit per MSI-X vector (an MSI is an
 * edge: a message, latched until the driver thread takes it). The register
 * models call in from either thread. */
struct irqc {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned lines;		   /* bit per slot: asserted */
	uint32_t msi[NSLOTS];	   /* per slot: bit per vector, pending */
	unsigned long raised;	   /* line assertions and messages */
	unsigned long msi_unknown; /* messages to an address/data nobody programmed */
};

/* ---- The device thread's mailbox: kicks from the control thread -------------------- */

struct mailbox {
	pthread_mutex_t m;
	pthread_cond_t c;
	uint32_t pending[NSLOTS]; /* bit per queue */
	bool quit;
	unsigned long kicks;
	/* Held by the device thread around every process call; a runner's stop
	 * takes it once, which waits for the call in progress. */
	pthread_mutex_t serve;
};

struct lb; /* the whole program */

/* ---- One device: device core, adapter, transport, and the driver's view ------------ */

struct slot {
	struct lb *lb;
	unsigned idx; /* SLOT_* */
	const char *name;
	/* Device side (the VMM). */
	struct vio_device *dev;
	void *dev_mem;
	int (*process)(struct slot *s, uint16_t q); /* the adapter's, on the device thread */
	/* Transport pair state. */
	_Alignas(8) unsigned char mmio_mem[VIO_MMIO_DEV_MEM_SIZE];
	struct vio_mmio_dev *mmio;
	_Alignas(8) unsigned char front_mem[VIO_MMIO_FRONT_MEM_SIZE];
	struct vio_mmio_front *front;
	_Alignas(8) unsigned char pci_mem[VIO_PCI_DEV_MEM_SIZE(PCI_MAX_VECTORS)];
	struct vio_pci_dev *pci;
	_Alignas(8) unsigned char pfront_mem[VIO_PCI_FRONT_MEM_SIZE(MAX_QUEUES)];
	struct vio_pci_front *pfront;
	uint16_t vectors;      /* MSI-X vectors in use by the driver (0: INTx#) */
	unsigned long refused; /* register accesses the model refused */
	/* Driver side (the guest). */
	struct vio_drv *drv;
	void *drv_mem;
};

/* A transport pair: the register model a VMM puts in front of a device, and
 * the front a guest probes it with. virtio-pci slots in here as a second
 * entry (see tp_pci). */
struct tpair {
	const char *name;
	/* VMM: put the register model in front of s->dev and wire its
	 * interrupt(s) to the interrupt controller. */
	int (*attach)(struct slot *s);
	/* Guest: probe the device and fill the driver core's transport fields. */
	int (*probe)(struct slot *s, struct vio_drv_config *dc);
	/* VMM: the device's register state for a save (bytes written). */
	size_t (*state_size)(struct slot *s);
	/* VMM: save it. */
	int (*save)(struct slot *s, void *buf, size_t len);
};

struct lb {
	/* Options. */
	const struct tpair *tp;
	bool packed;
	unsigned blocks, queues, timeout;
	uint64_t seed;
	/* Shared. */
	struct arena ram;
	struct irqc irq;
	struct mailbox mb;
	struct slot slot[NSLOTS];
	pthread_t device_thread;
	atomic_int device_error; /* first error a process call returned */
	/* Device side. */
	struct vio_blk_device *blkdev;
	struct vio_rng_device *rngdev;
	struct vio_blk_mem_backend disk;
	unsigned char *disk_bytes;
	uint64_t rng_state; /* the entropy source: the device thread's */
	/* Driver side. */
	struct vio_blk_drv blk[MAX_QUEUES];
	struct vio_blk_info info;
	uint16_t nq; /* blk queues in use */
	struct vio_rng_drv rng;
};

/* ---- virtio-mmio pair ------------------------------------------------------------ */

/* [embedding:irq] */
/* The register model's interrupt level callback: a VMM sets its IRQ line
 * (KVM_IRQ_LINE, an irqfd); here it is the driver thread's line. */
static void mmio_set_irq(void *ctx, bool level)
{
	struct slot *s = ctx;
	struct irqc *ic = &s->lb->irq;
	pthread_mutex_lock(&ic->m);
	if (level) {
		ic->lines |= 1u << s->idx;
		ic->raised++;
		pthread_cond_signal(&ic->c);
	} else {
		ic->lines &= ~(1u << s->idx);
	}
	pthread_mutex_unlock(&ic->m);
}
/* [/embedding:irq] */

/* [embedding:trap] */
/* The guest's register accessors. On real hardware these are volatile loads
 * and stores at the window's base; a VMM's vCPU exits on them and its trap
 * handler calls the register model, which is what these do directly. */
static uint32_t mmio_read(struct slot *s, uint32_t off, unsigned size)
{
	uint64_t v = 0;
	if (vio_mmio_dev_read(s->mmio, off, size, &v) != 0)
		s->refused++; /* a VMM logs it; the guest reads 0 */
	return (uint32_t)v;
}

static void mmio_write(struct slot *s, uint32_t off, uint32_t v, unsigned size)
{
	if (vio_mmio_dev_write(s->mmio, off, v, size) != 0)
		s->refused++; /* refused writes change nothing */
}
/* [/embedding:trap] */

static uint32_t bus_read32(void *c, uint32_t off)
{
	return mmio_read(c, off, 4);
}
static void bus_write32(void *c, uint32_t off, uint32_t v)
{
	mmio_write(c, off, v, 4);
}
static uint8_t bus_read8(void *c, uint32_t off)
{
	return (uint8_t)mmio_read(c, off, 1);
}
static void bus_write8(void *c, uint32_t off, uint8_t v)
{
	mmio_write(c, off, v, 1);
}
static uint16_t bus_read16(void *c, uint32_t off)
{
	return (uint16_t)mmio_read(c, off, 2);
}
static void bus_write16(void *c, uint32_t off, uint16_t v)
{
	mmio_write(c, off, v, 2);
}

static const struct vio_mmio_bus mmio_bus = {
	.read32 = bus_read32,
	.write32 = bus_write32,
	.read8 = bus_read8,
	.write8 = bus_write8,
	.read16 = bus_read16,
	.write16 = bus_write16,
};

static int mmio_attach(struct slot *s)
{
	/* [embedding:mmio] */
	struct vio_mmio_dev_config mc = {0};
	mc.vendor_id = 0x554d4551; /* "QEMU" in the VendorID register, as QEMU does */
	mc.set_irq = mmio_set_irq;
	mc.irq_ctx = s;
	int rc = vio_mmio_dev_init(&s->mmio, s->mmio_mem, sizeof(s->mmio_mem), s->dev, &mc);
	/* [/embedding:mmio] */
	return rc;
}

static int mmio_probe(struct slot *s, struct vio_drv_config *dc)
{
	/* [embedding:probe] */
	uint32_t window = (uint32_t)vio_mmio_dev_window_size(s->mmio); /* the device tree's reg */
	int rc = vio_mmio_front_probe(&s->front, s->front_mem, sizeof(s->front_mem), &mmio_bus, s,
				      window);
	if (rc == -VIO_ENODEV)
		return rc; /* an empty slot (DeviceID 0): skip it silently */
	if (rc != 0)
		return rc; /* not virtio, or legacy: not ours */
	vio_mmio_front_drv_config(s->front, dc);
	/* [/embedding:probe] */
	return 0;
}

static size_t mmio_state_size(struct slot *s)
{
	return vio_mmio_dev_state_size(s->mmio);
}

static int mmio_save(struct slot *s, void *buf, size_t len)
{
	return vio_mmio_dev_save(s->mmio, buf, len);
}

static const struct tpair tp_mmio = {"mmio", mmio_attach, mmio_probe, mmio_state_size, mmio_save};

/* ---- virtio-pci pair ------------------------------------------------------------- */

/* [embedding:msi] */
/* The PCI model's MSI-X callback: the function writes the message the
 * guest programmed into the table entry to the interrupt controller's
 * doorbell (a VMM injects it: KVM_SIGNAL_MSI, an irqfd per vector). Here
 * the controller decodes it (data: slot << 8 | vector) and latches it for
 * the driver thread. */
static void pci_msix(void *ctx, uint16_t vector, uint64_t addr, uint32_t data)
{
	struct slot *s = ctx;
	struct irqc *ic = &s->lb->irq;
	unsigned slot = data >> 8, v = data & 0xffu;
	pthread_mutex_lock(&ic->m);
	if (addr != MSI_DOORBELL || slot >= NSLOTS || v != vector || v >= 32) {
		ic->msi_unknown++;
	} else {
		ic->msi[slot] |= 1u << v;
		ic->raised++;
		pthread_cond_signal(&ic->c);
	}
	pthread_mutex_unlock(&ic->m);
}
/* [/embedding:msi] */

/* The guest's configuration-space and BAR accessors (ECAM and BAR loads and
 * stores on a real machine; a VMM's trap handlers call the model). */
static int pci_cfg_read(void *c, uint32_t off, unsigned size, uint32_t *val)
{
	struct slot *s = c;
	if (vio_pci_dev_cfg_read(s->pci, off, size, val) != 0)
		s->refused++;
	return 0; /* the guest reads what the model returned (0 when refused) */
}

static int pci_cfg_write(void *c, uint32_t off, unsigned size, uint32_t val)
{
	struct slot *s = c;
	if (vio_pci_dev_cfg_write(s->pci, off, val, size) != 0)
		s->refused++;
	return 0;
}

static int pci_bar_read(void *c, unsigned bar, uint64_t off, unsigned size, uint32_t *val)
{
	struct slot *s = c;
	uint64_t v = 0;
	if (vio_pci_dev_bar_read(s->pci, bar, off, size, &v) != 0)
		s->refused++;
	*val = (uint32_t)v;
	return 0;
}

static int pci_bar_write(void *c, unsigned bar, uint64_t off, unsigned size, uint32_t val)
{
	struct slot *s = c;
	if (vio_pci_dev_bar_write(s->pci, bar, off, val, size) != 0)
		s->refused++;
	return 0;
}

static const struct vio_pci_bus pci_bus = {
	.cfg_read = pci_cfg_read,
	.cfg_write = pci_cfg_write,
	.bar_read = pci_bar_read,
	.bar_write = pci_bar_write,
};

static int pci_attach(struct slot *s)
{
	/* [embedding:pci] */
	struct vio_pci_dev_config pc = {0};
	/* blk: MSI-X, a configuration vector and one per queue; rng: INTx# only. */
	pc.msix_vectors = s->idx == SLOT_BLK ? (uint16_t)(s->lb->queues + 1u) : 0;
	pc.set_irq = mmio_set_irq; /* the same level-triggered line as virtio-mmio */
	pc.msix = pci_msix;
	pc.irq_ctx = s;
	size_t n = vio_pci_dev_mem_size(&pc); /* ≤ VIO_PCI_DEV_MEM_SIZE(msix_vectors) */
	if (n == 0 || n > sizeof(s->pci_mem))
		return -VIO_EINVAL;
	int rc = vio_pci_dev_init(&s->pci, s->pci_mem, n, s->dev, &pc);
	/* [/embedding:pci] */
	return rc;
}

static int pci_probe(struct slot *s, struct vio_drv_config *dc)
{
	/* [embedding:pciprobe] */
	/* No firmware placed the BARs: size them and give them addresses in the
	 * memory window (this enables decoding and bus mastering too). */
	struct vio_pci_window win = {.mem_base = PCI_MEM_WINDOW + s->idx * 0x1000000u,
				     .mem_size = 0x1000000u};
	struct vio_pci_bars bars;
	int rc = vio_pci_front_assign_bars(&pci_bus, s, &win, &bars);
	if (rc != 0)
		return rc;
	struct vio_pci_front_config fc = {0};
	for (unsigned b = 0; b < VIO_PCI_NUM_BARS; b++)
		if (bars.bar[b].assigned)
			fc.bar_size[b] = bars.bar[b].size; /* the front stays inside these */
	fc.queue_slots = MAX_QUEUES;
	rc = vio_pci_front_probe(&s->pfront, s->pfront_mem, sizeof(s->pfront_mem), &pci_bus, s,
				 &fc);
	if (rc != 0)
		return rc; /* not virtio, legacy, or a malformed capability list */
	vio_pci_front_drv_config(s->pfront, dc);
	/* MSI-X if the function has it: entry v sends (slot << 8 | v) to the
	 * doorbell; vector 0 for configuration changes, v + 1 for queue v. */
	struct vio_pci_msix_info mi;
	s->vectors = 0;
	if (vio_pci_front_msix(s->pfront, &mi) == 0) {
		for (uint16_t v = 0; v < mi.table_size && v < 32; v++) {
			rc = vio_pci_front_msix_set_entry(s->pfront, v, MSI_DOORBELL,
							  (uint32_t)(s->idx << 8 | v), false);
			if (rc != 0)
				return rc;
		}
		rc = vio_pci_front_msix_enable(s->pfront, true);
		if (rc != 0)
			return rc;
		s->vectors = mi.table_size;
		dc->use_vectors = true;
		dc->config_vector = 0;
	}
	/* [/embedding:pciprobe] */
	return 0;
}

static size_t pci_state_size(struct slot *s)
{
	return vio_pci_dev_state_size(s->pci);
}

static int pci_save(struct slot *s, void *buf, size_t len)
{
	return vio_pci_dev_save(s->pci, buf, len);
}

static const struct tpair tp_pci = {"pci", pci_attach, pci_probe, pci_state_size, pci_save};

/* ---- The device thread ------------------------------------------------------------ */

/* [embedding:runner] */
/* The adapters' runner: a kick posts the queue to the device thread; a stop
 * waits for the process call in progress (if any) by taking the serve lock
 * once. Both run on the control thread. */
static void runner_kick(void *ctx, uint16_t q)
{
	struct slot *s = ctx;
	struct mailbox *mb = &s->lb->mb;
	pthread_mutex_lock(&mb->m);
	mb->pending[s->idx] |= 1u << q;
	mb->kicks++;
	pthread_cond_signal(&mb->c);
	pthread_mutex_unlock(&mb->m);
}

static void runner_stop(void *ctx, uint16_t q)
{
	struct slot *s = ctx;
	(void)q;
	pthread_mutex_lock(&s->lb->mb.serve);
	pthread_mutex_unlock(&s->lb->mb.serve);
}

static const struct vio_device_runner runner = {.kick = runner_kick, .stop = runner_stop};

/* The queue thread: serve every queue that was kicked. */
static void *device_main(void *arg)
{
	struct lb *lb = arg;
	struct mailbox *mb = &lb->mb;
	pthread_mutex_lock(&mb->m);
	for (;;) {
		while (!mb->quit && (mb->pending[SLOT_BLK] | mb->pending[SLOT_RNG]) == 0)
			pthread_cond_wait(&mb->c, &mb->m);
		if (mb->quit)
			break;
		uint32_t work[NSLOTS];
		memcpy(work, mb->pending, sizeof(work));
		memset(mb->pending, 0, sizeof(mb->pending));
		pthread_mutex_unlock(&mb->m);

		pthread_mutex_lock(&mb->serve);
		for (unsigned i = 0; i < NSLOTS; i++) {
			for (uint16_t q = 0; q < 32; q++) {
				if ((work[i] & (1u << q)) == 0)
					continue;
				struct slot *s = &lb->slot[i];
				int rc = s->process(s, q);
				if (rc == -VIO_EMAP_AGAIN) {
					runner_kick(s, q); /* try again on the next round */
				} else if (rc < 0) {
					/* The adapter already set DEVICE_NEEDS_RESET;
					 * a VMM logs it. */
					int zero = 0;
					atomic_compare_exchange_strong(&lb->device_error, &zero,
								       rc);
				}
			}
		}
		pthread_mutex_unlock(&mb->serve);
		pthread_mutex_lock(&mb->m);
	}
	pthread_mutex_unlock(&mb->m);
	return NULL;
}
/* [/embedding:runner] */

static int blk_process(struct slot *s, uint16_t q)
{
	return vio_blk_device_process(s->lb->blkdev, q);
}

static int rng_process(struct slot *s, uint16_t q)
{
	return vio_rng_device_process(s->lb->rngdev, q);
}

/* The entropy source: a seeded generator, so the driver can check that the
 * bytes it got are the ones the device produced, in order. */
static size_t rng_fill(void *ctx, void *buf, size_t len)
{
	struct lb *lb = ctx;
	unsigned char *p = buf;
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)splitmix64(&lb->rng_state);
	return len;
}

static const struct vio_rng_dev_ops rng_source = {.fill = rng_fill};

/* ---- The VMM: create the devices ----------------------------------------------------- */

static void vmm_create_blk(struct lb *lb)
{
	struct slot *s = &lb->slot[SLOT_BLK];
	/* [embedding:blk] */
	/* The disk: an in-memory backend over a caller buffer. */
	uint64_t bytes = (uint64_t)lb->blocks * BLOCK;
	lb->disk_bytes = xaligned(64, (size_t)bytes);
	vio_blk_mem_backend_init(&lb->disk, lb->disk_bytes, bytes);

	struct vio_blk_device_config bc = {0};
	bc.desc.capacity = bytes / VIO_BLK_SECTOR_SIZE;
	bc.desc.seg_max = 32;
	bc.desc.blk_size = BLOCK;
	bc.desc.flush = true;
	bc.desc.num_queues = (uint16_t)lb->queues; /* above 1: VIRTIO_BLK_F_MQ */
	memcpy(bc.desc.id, DISK_ID, sizeof(DISK_ID) - 1);
	bc.backend = &vio_blk_mem_backend_ops;
	bc.backend_ctx = &lb->disk;
	bc.queue_max = 256;
	bc.requests = 64; /* the backend completes inside submit: few slots do */
	bc.runner = &runner;
	bc.runner_ctx = s;
	size_t n = vio_blk_device_mem_size(&bc);
	void *bd_mem = xaligned(VIO_BLK_DEVICE_MEM_ALIGN, n);
	if (vio_blk_device_init(&lb->blkdev, bd_mem, n, &bc) != 0)
		fail("vio_blk_device_init");

	/* The device core, from the adapter's description plus guest memory. */
	struct vio_device_info info = {0};
	vio_blk_device_info(lb->blkdev, &info);
	info.regions = &lb->ram.region;
	info.nregions = 1;
	size_t dn = vio_device_mem_size(&info);
	s->dev_mem = xaligned(VIO_DEVICE_MEM_ALIGN, dn);
	if (vio_device_init(&s->dev, s->dev_mem, dn, &info) != 0)
		fail("vio_device_init (blk)");
	/* [/embedding:blk] */
	s->process = blk_process;
	(void)bd_mem; /* freed with the process: the device lives until exit */
}

static void vmm_create_rng(struct lb *lb)
{
	struct slot *s = &lb->slot[SLOT_RNG];
	static _Alignas(VIO_RNG_DEVICE_MEM_ALIGN) unsigned char rd_mem[VIO_RNG_DEVICE_MEM_SIZE];
	struct vio_rng_device_config rc = {0};
	rc.source = &rng_source;
	rc.source_ctx = lb;
	rc.queue_max = 64;
	rc.runner = &runner;
	rc.runner_ctx = s;
	if (vio_rng_device_init(&lb->rngdev, rd_mem, sizeof(rd_mem), &rc) != 0)
		fail("vio_rng_device_init");
	struct vio_device_info info = {0};
	vio_rng_device_info(lb->rngdev, &info);
	info.regions = &lb->ram.region;
	info.nregions = 1;
	size_t dn = vio_device_mem_size(&info);
	s->dev_mem = xaligned(VIO_DEVICE_MEM_ALIGN, dn);
	if (vio_device_init(&s->dev, s->dev_mem, dn, &info) != 0)
		fail("vio_device_init (rng)");
	s->process = rng_process;
}

/* ---- The guest: feature names, waiting, bring-up ------------------------------------ */

static const struct {
	unsigned bit;
	const char *name;
} common_bits[] =
	{
		{VIO_F_VERSION_1, "VERSION_1"},
		{VIO_F_RING_PACKED, "RING_PACKED"},
		{VIO_F_EVENT_IDX, "EVENT_IDX"},
		{VIO_F_INDIRECT_DESC, "INDIRECT_DESC"},
		{VIO_F_IN_ORDER, "IN_ORDER"},
		{VIO_F_NOTIFICATION_DATA, "NOTIFICATION_DATA"},
		{VIO_F_RING_RESET, "RING_RESET"},
		{VIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM"},
		{VIO_F_ORDER_PLATFORM, "ORDER_PLATFORM"},
		{VIO_F_SUSPEND, "SUSPEND"},
},
  blk_bits[] = {
	  {VIO_BLK_F_SIZE_MAX, "SIZE_MAX"},
	  {VIO_BLK_F_SEG_MAX, "SEG_MAX"},
	  {VIO_BLK_F_GEOMETRY, "GEOMETRY"},
	  {VIO_BLK_F_RO, "RO"},
	  {VIO_BLK_F_BLK_SIZE, "BLK_SIZE"},
	  {VIO_BLK_F_FLUSH, "FLUSH"},
	  {VIO_BLK_F_TOPOLOGY, "TOPOLOGY"},
	  {VIO_BLK_F_CONFIG_WCE, "CONFIG_WCE"},
	  {VIO_BLK_F_MQ, "MQ"},
	  {VIO_BLK_F_DISCARD, "DISCARD"},
	  {VIO_BLK_F_WRITE_ZEROES, "WRITE_ZEROES"},
	  {VIO_BLK_F_LIFETIME, "LIFETIME"},
	  {VIO_BLK_F_SECURE_ERASE, "SECURE_ERASE"},
};

static void print_features(const char *dev, const struct vio_features *f, bool blk)
{
	printf("%s: negotiated", dev);
	struct vio_features left = *f;
	for (size_t i = 0; i < sizeof(common_bits) / sizeof(common_bits[0]); i++)
		if (vio_features_test(f, common_bits[i].bit)) {
			printf(" %s", common_bits[i].name);
			vio_features_clear(&left, common_bits[i].bit);
		}
	if (blk)
		for (size_t i = 0; i < sizeof(blk_bits) / sizeof(blk_bits[0]); i++)
			if (vio_features_test(f, blk_bits[i].bit)) {
				printf(" %s", blk_bits[i].name);
				vio_features_clear(&left, blk_bits[i].bit);
			}
	for (unsigned b = 0; b < VIO_FEATURE_BITS; b++)
		if (vio_features_test(&left, b))
			printf(" bit%u", b);
	printf("\n");
}

static void print_interrupts(const struct slot *s)
{
	if (s->pci == NULL)
		return;
	if (s->vectors != 0)
		printf("%s: MSI-X, %u vectors (configuration 0, queue q: q + 1)\n", s->name,
		       s->vectors);
	else
		printf("%s: INTx# and the ISR (no MSI-X capability)\n", s->name);
}

static void on_needs_reset(void *ctx, struct vio_drv *drv)
{
	struct slot *s = ctx;
	(void)drv;
	fail("%s: the device set DEVICE_NEEDS_RESET (device thread error %s)", s->name,
	     vio_err_name(atomic_load(&s->lb->device_error)));
}

static void on_config_changed(void *ctx, struct vio_drv *drv)
{
	struct slot *s = ctx;
	(void)drv;
	printf("%s: configuration changed\n", s->name);
}

static const struct vio_drv_callbacks drv_cb = {
	.needs_reset = on_needs_reset,
	.config_changed = on_config_changed,
};

/* [embedding:wait] */
/* Wait for the interrupt line or an MSI-X message of @s (bounded), then run
 * the driver core's handlers: for the line, vio_drv_interrupt() reads and
 * acknowledges the interrupt status (the model drops the line); for a
 * message, the handler of its vector (no status to read). Both report
 * DEVICE_NEEDS_RESET. The caller reaps afterwards. */
static void wait_interrupt(struct lb *lb, struct slot *s)
{
	struct timespec dl = deadline_in(lb->timeout);
	pthread_mutex_lock(&lb->irq.m);
	while ((lb->irq.lines & (1u << s->idx)) == 0 && lb->irq.msi[s->idx] == 0) {
		if (pthread_cond_timedwait(&lb->irq.c, &lb->irq.m, &dl) == ETIMEDOUT) {
			pthread_mutex_unlock(&lb->irq.m);
			fail("%s: no interrupt within %u s", s->name, lb->timeout);
		}
	}
	bool line = (lb->irq.lines & (1u << s->idx)) != 0;
	uint32_t msi = lb->irq.msi[s->idx];
	lb->irq.msi[s->idx] = 0;
	pthread_mutex_unlock(&lb->irq.m);
	int rc = 0;
	for (uint16_t v = 0; v < 32 && rc == 0; v++) {
		if ((msi & (1u << v)) == 0)
			continue;
		if (v == 0) /* the configuration vector */
			rc = vio_drv_config_interrupt(s->drv);
		else /* queue v - 1's vector */
			vio_drv_queue_interrupt(s->drv, (uint16_t)(v - 1u));
	}
	if (rc == 0 && line) {
		uint32_t causes = 0;
		rc = vio_drv_interrupt(s->drv, &causes);
	}
	if (rc != 0)
		fail("%s: interrupt: %s", s->name, vio_err_name(rc));
}
/* [/embedding:wait] */

static void guest_drv_init(struct lb *lb, struct slot *s, uint16_t nslots, uint32_t id,
			   const struct vio_features *want)
{
	/* [embedding:drvinit] */
	struct vio_drv_config dc = {0};
	int rc = lb->tp->probe(s, &dc); /* the front's ops (virtio-mmio: mmio_probe) */
	if (rc != 0)
		fail("%s: probe: %s", s->name, vio_err_name(rc));
	dc.num_queues = nslots;
	dc.device_id = id;
	dc.features = *want;
	if (lb->packed)
		vio_features_set(&dc.features, VIO_F_RING_PACKED);
	dc.cb = &drv_cb;
	dc.cb_ctx = s;
	dc.dma_ops = &gpa_ops;
	dc.dma_ctx = &lb->ram;
	size_t n = vio_drv_mem_size(nslots);
	s->drv_mem = xaligned(VIO_DRV_MEM_ALIGN, n);
	if (vio_drv_init(&s->drv, s->drv_mem, n, &dc) != 0)
		fail("%s: vio_drv_init", s->name);
	/* [/embedding:drvinit] */
}

/* Queue memory: the ring (and indirect tables) in guest RAM, the
 * bookkeeping in the guest's private memory. */
static void guest_queue_memory(struct lb *lb, struct vio_drv_queue_config *qc, uint16_t size,
			       bool indirect)
{
	/* [embedding:qmem] */
	memset(qc, 0, sizeof(*qc));
	qc->size = size;
	qc->ring = arena_alloc(&lb->ram, VIO_DRV_RING_SIZE(size), 16);
	qc->vq_mem_size = VIO_VQ_MEM_SIZE(size);
	qc->vq_mem = xaligned(VIO_VQ_MEM_ALIGN, qc->vq_mem_size);
	if (indirect) {
		qc->indirect_max = INDIRECT_MAX;
		qc->indirect_pool =
			arena_alloc(&lb->ram, VIO_VQ_INDIRECT_POOL_SIZE(size, INDIRECT_MAX), 16);
	}
	/* [/embedding:qmem] */
}

/* ---- The guest: blk ------------------------------------------------------------------ */

struct blkq {
	struct vio_blk_drv_req *req; /* DEPTH requests in guest RAM */
	unsigned char *buf;	     /* DEPTH blocks in guest RAM */
	uint64_t block[DEPTH];	     /* which block each slot carries */
	uint16_t free[DEPTH];
	unsigned nfree;
};

static unsigned char expect[BLOCK];

/* Reap every completion of queue @q; verify reads. Returns the count. */
static unsigned blk_reap(struct lb *lb, struct blkq *bq, uint16_t q, bool reading,
			 unsigned long *verified)
{
	unsigned n = 0;
	/* [embedding:get] */
	struct vio_blk_drv_req *r;
	int rc;
	while ((rc = vio_blk_drv_get(&lb->blk[q], &r)) == 0) {
		uint16_t i = (uint16_t)(r - bq->req);
		if (r->status != VIO_BLK_S_OK)
			fail("blk: block %" PRIu64 " completed with status %u", bq->block[i],
			     r->status);
		if (reading) {
			block_pattern(lb->seed, bq->block[i], expect);
			if (memcmp(bq->buf + (size_t)i * BLOCK, expect, BLOCK) != 0)
				fail("blk: block %" PRIu64 " read back differs", bq->block[i]);
			*verified += BLOCK;
		}
		bq->free[bq->nfree++] = i;
		n++;
	}
	if (rc != -VIO_EAGAIN) /* a peer code: the device broke the protocol */
		fail("blk: queue %u: %s (%s)", q, vio_err_name(rc), vio_strerror(rc));
	/* [/embedding:get] */
	return n;
}

/* Write (or read back and verify) every block, in a seeded order, spread
 * over the queues, DEPTH requests in flight per queue. */
static unsigned long blk_pass(struct lb *lb, struct blkq *bqs, const uint32_t *order, bool reading)
{
	struct slot *s = &lb->slot[SLOT_BLK];
	unsigned next[MAX_QUEUES] = {0}, done = 0;
	unsigned long verified = 0;
	/* Block order[k] goes to queue k % nq. */
	while (done < lb->blocks) {
		for (uint16_t q = 0; q < lb->nq; q++) {
			struct blkq *bq = &bqs[q];
			bool added = false;
			for (;;) {
				unsigned k = next[q] * lb->nq + q;
				if (k >= lb->blocks || bq->nfree == 0)
					break;
				uint16_t i = bq->free[--bq->nfree];
				uint64_t b = order[k];
				unsigned char *buf = bq->buf + (size_t)i * BLOCK;
				bq->block[i] = b;
				int rc;
				/* [embedding:submit] */
				if (reading) {
					memset(buf, 0, BLOCK);
					rc = vio_blk_drv_read(&lb->blk[q], &bq->req[i],
							      b * (BLOCK / VIO_BLK_SECTOR_SIZE),
							      buf, BLOCK);
				} else {
					block_pattern(lb->seed, b, buf);
					rc = vio_blk_drv_write(&lb->blk[q], &bq->req[i],
							       b * (BLOCK / VIO_BLK_SECTOR_SIZE),
							       buf, BLOCK);
				}
				if (rc != 0) /* ENOSPC: ring full; EBROKEN: reset the device */
					fail("blk: submit: %s", vio_err_name(rc));
				/* [/embedding:submit] */
				next[q]++;
				added = true;
			}
			/* [embedding:kick] */
			/* One notification for the batch, if the device asked for it. */
			if (added && vio_drv_kick(s->drv, q) != 0)
				fail("blk: kick");
			/* [/embedding:kick] */
		}
		/* [embedding:reap] */
		unsigned got = 0;
		for (uint16_t q = 0; q < lb->nq; q++)
			got += blk_reap(lb, &bqs[q], q, reading, &verified);
		done += got;
		if (got != 0 || done == lb->blocks)
			continue;
		/* Nothing completed: re-arm the used-buffer notification on every
		 * queue (with EVENT_IDX it covers the next completion only), look
		 * once more, then sleep until the interrupt. */
		bool idle = true;
		for (uint16_t q = 0; q < lb->nq; q++)
			if (!vio_vq_enable_intr(vio_drv_vq(s->drv, q)))
				idle = false; /* completions arrived meanwhile */
		if (idle)
			wait_interrupt(lb, s);
		/* [/embedding:reap] */
	}
	return verified;
}

/* One request on queue 0 and wait for it (flush, GET_ID). */
static void blk_one(struct lb *lb, struct blkq *bq,
		    int (*submit)(struct lb *, struct blkq *, uint16_t))
{
	struct slot *s = &lb->slot[SLOT_BLK];
	uint16_t i = bq->free[--bq->nfree];
	bq->block[i] = UINT64_MAX;
	int rc = submit(lb, bq, i);
	if (rc != 0)
		fail("blk: submit: %s", vio_err_name(rc));
	if (vio_drv_kick(s->drv, 0) != 0)
		fail("blk: kick");
	unsigned long unused = 0;
	while (blk_reap(lb, bq, 0, false, &unused) == 0)
		if (vio_vq_enable_intr(vio_drv_vq(s->drv, 0)))
			wait_interrupt(lb, s);
}

static int submit_flush(struct lb *lb, struct blkq *bq, uint16_t i)
{
	return vio_blk_drv_flush(&lb->blk[0], &bq->req[i]);
}

static int submit_get_id(struct lb *lb, struct blkq *bq, uint16_t i)
{
	return vio_blk_drv_get_id(&lb->blk[0], &bq->req[i], (char *)bq->buf + (size_t)i * BLOCK);
}

static void guest_blk(struct lb *lb)
{
	struct slot *s = &lb->slot[SLOT_BLK];
	struct vio_features want;
	vio_blk_drv_features(&want);
	guest_drv_init(lb, s, (uint16_t)lb->queues, VIO_ID_BLOCK, &want);

	/* [embedding:start] */
	struct vio_drv_queue_config qc[MAX_QUEUES];
	for (unsigned q = 0; q < lb->queues; q++) {
		guest_queue_memory(lb, &qc[q], BLK_QSIZE, true);
		qc[q].vector = (uint16_t)(q + 1u); /* used with MSI-X only (virtio-pci) */
	}
	int rc =
		vio_blk_driver_start(s->drv, qc, (uint16_t)lb->queues, lb->blk, &lb->info, &lb->nq);
	if (rc != 0) /* FAILED is written: the device is unusable until a reset */
		fail("blk: bring-up failed at step %d: %s", (int)vio_drv_failed_step(s->drv),
		     vio_err_name(rc));
	/* [/embedding:start] */

	struct vio_features neg = vio_drv_features(s->drv);
	print_features("blk", &neg, true);
	print_interrupts(s);
	printf("blk: capacity %" PRIu64 " sectors, blk_size %u, seg_max %u, %u queue%s offered, "
	       "%u used\n",
	       lb->info.capacity, lb->info.blk_size, lb->info.seg_max, lb->info.num_queues,
	       lb->info.num_queues == 1 ? "" : "s", lb->nq);
	if (lb->nq != lb->queues)
		fail("blk: %u queues asked, %u set up", lb->queues, lb->nq);

	struct blkq bqs[MAX_QUEUES];
	for (uint16_t q = 0; q < lb->nq; q++) {
		bqs[q].req = arena_alloc(&lb->ram, DEPTH * sizeof(struct vio_blk_drv_req), 8);
		bqs[q].buf = arena_alloc(&lb->ram, (size_t)DEPTH * BLOCK, 64);
		bqs[q].nfree = DEPTH;
		for (unsigned i = 0; i < DEPTH; i++)
			bqs[q].free[i] = (uint16_t)(DEPTH - 1 - i);
	}

	/* A seeded permutation of the blocks for writing, another for reading. */
	uint32_t *worder = malloc(sizeof(uint32_t) * lb->blocks);
	uint32_t *rorder = malloc(sizeof(uint32_t) * lb->blocks);
	if (worder == NULL || rorder == NULL)
		fail("out of memory");
	uint64_t st = lb->seed;
	for (unsigned i = 0; i < lb->blocks; i++)
		worder[i] = rorder[i] = i;
	for (unsigned i = lb->blocks; i > 1; i--) {
		unsigned j = (unsigned)(splitmix64(&st) % i), t = worder[i - 1];
		worder[i - 1] = worder[j];
		worder[j] = t;
		j = (unsigned)(splitmix64(&st) % i);
		t = rorder[i - 1];
		rorder[i - 1] = rorder[j];
		rorder[j] = t;
	}

	double t0 = now_s();
	blk_pass(lb, bqs, worder, false);
	double t1 = now_s();
	unsigned long verified = blk_pass(lb, bqs, rorder, true);
	double t2 = now_s();
	double mb = (double)lb->blocks * BLOCK / 1e6;
	printf("blk: wrote %u blocks of %u bytes in %.3f s: %.1f MB/s, %.0f requests/s\n",
	       lb->blocks, BLOCK, t1 - t0, mb / (t1 - t0 + 1e-9), lb->blocks / (t1 - t0 + 1e-9));
	printf("blk: read back %u blocks in %.3f s: %.1f MB/s, %.0f requests/s; %lu bytes "
	       "verified\n",
	       lb->blocks, t2 - t1, mb / (t2 - t1 + 1e-9), lb->blocks / (t2 - t1 + 1e-9), verified);
	if (verified != (unsigned long)lb->blocks * BLOCK)
		fail("blk: verified %lu bytes, expected %lu", verified,
		     (unsigned long)lb->blocks * BLOCK);

	blk_one(lb, &bqs[0], submit_flush);
	printf("blk: flush completed\n");
	blk_one(lb, &bqs[0], submit_get_id);
	char id[VIO_BLK_ID_BYTES + 1] = {0};
	/* The slot GET_ID used is the one just freed: the top of the stack. */
	memcpy(id, bqs[0].buf + (size_t)bqs[0].free[bqs[0].nfree - 1] * BLOCK, VIO_BLK_ID_BYTES);
	if (strcmp(id, DISK_ID) != 0)
		fail("blk: GET_ID returned \"%s\", expected \"%s\"", id, DISK_ID);
	printf("blk: GET_ID \"%s\"\n", id);
	free(worder);
	free(rorder);
}

/* ---- The guest: rng ------------------------------------------------------------------ */

static void guest_rng(struct lb *lb)
{
	struct slot *s = &lb->slot[SLOT_RNG];
	struct vio_features none = vio_features_none();
	guest_drv_init(lb, s, 1, VIO_ID_RNG, &none);
	struct vio_drv_queue_config qc;
	guest_queue_memory(lb, &qc, RNG_QSIZE, false);
	int rc = vio_rng_driver_start(s->drv, &qc, &lb->rng);
	if (rc != 0)
		fail("rng: bring-up: %s", vio_err_name(rc));
	struct vio_features neg = vio_drv_features(s->drv);
	print_features("rng", &neg, false);
	print_interrupts(s);

	unsigned char *bufs = arena_alloc(&lb->ram, (size_t)RNG_BUFS * RNG_BUF, 64);
	for (unsigned i = 0; i < RNG_BUFS; i++) {
		/* The token is the buffer: non-NULL, and it says which one. */
		rc = vio_rng_drv_submit(&lb->rng, bufs + (size_t)i * RNG_BUF, RNG_BUF,
					bufs + (size_t)i * RNG_BUF);
		if (rc != 0)
			fail("rng: submit: %s", vio_err_name(rc));
	}
	if (vio_drv_kick(s->drv, VIO_RNG_REQUESTQ) != 0)
		fail("rng: kick");
	unsigned got = 0, next = 0;
	unsigned long bytes = 0;
	uint64_t st = lb->seed ^ 0x726e67u; /* the device's source stream */
	while (got < RNG_BUFS) {
		void *tok;
		uint32_t len;
		rc = vio_rng_drv_get(&lb->rng, &tok, &len);
		if (rc == -VIO_EAGAIN) {
			if (vio_vq_enable_intr(vio_drv_vq(s->drv, VIO_RNG_REQUESTQ)))
				wait_interrupt(lb, s);
			continue;
		}
		if (rc != 0) /* ERNG_EMPTY: the device broke §5.4.6.2 */
			fail("rng: %s", vio_err_name(rc));
		unsigned char *b = tok;
		if (b != bufs + (size_t)next * RNG_BUF || len != RNG_BUF)
			fail("rng: buffer %u came back out of order or short (%u bytes)", next,
			     len);
		for (unsigned i = 0; i < len; i++)
			if (b[i] != (unsigned char)splitmix64(&st))
				fail("rng: byte %lu differs from the device's source", bytes + i);
		bytes += len;
		got++;
		next++;
	}
	printf("rng: %lu bytes of entropy in %u buffers, identical to the device's source "
	       "stream (first bytes %02x %02x %02x %02x)\n",
	       bytes, got, bufs[0], bufs[1], bufs[2], bufs[3]);
}

/* ---- Options and main -------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: loopback [--transport mmio|pci] [--ring split|packed] "
			"[--blocks N] [--queues N] [--seed S] [--timeout SECONDS]\n");
	exit(2);
}

static unsigned long num(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		usage();
	return v;
}

static void options(struct lb *lb, int argc, char **argv)
{
	lb->tp = &tp_mmio;
	lb->blocks = 1024;
	lb->queues = 1;
	lb->seed = 1;
	lb->timeout = 30;
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (v == NULL)
			usage();
		if (strcmp(a, "--transport") == 0) {
			if (strcmp(v, "pci") == 0)
				lb->tp = &tp_pci;
			else if (strcmp(v, "mmio") == 0)
				lb->tp = &tp_mmio;
			else
				usage();
		} else if (strcmp(a, "--ring") == 0) {
			if (strcmp(v, "packed") == 0)
				lb->packed = true;
			else if (strcmp(v, "split") != 0)
				usage();
		} else if (strcmp(a, "--blocks") == 0) {
			lb->blocks = (unsigned)num(v, 1, 1u << 20);
		} else if (strcmp(a, "--queues") == 0) {
			lb->queues = (unsigned)num(v, 1, MAX_QUEUES);
		} else if (strcmp(a, "--seed") == 0) {
			lb->seed = num(v, 0, ULONG_MAX);
		} else if (strcmp(a, "--timeout") == 0) {
			lb->timeout = (unsigned)num(v, 1, 3600);
		} else {
			usage();
		}
	}
}

int main(int argc, char **argv)
{
	static struct lb lb;
	options(&lb, argc, argv);
	printf("libvirtio %s loopback: transport %s, ring %s, %u blk queue%s, %u blocks of %u "
	       "bytes, seed %" PRIu64 "\n",
	       VIO_VERSION_STRING, lb.tp->name, lb.packed ? "packed" : "split", lb.queues,
	       lb.queues == 1 ? "" : "s", lb.blocks, BLOCK, lb.seed);

	/* [embedding:memory] */
	/* Guest RAM: one arena the VMM maps at GPA_BASE; the device side reaches
	 * it only through this region table. */
	lb.ram.size = (size_t)8 << 20;
	lb.ram.base = xaligned(4096, lb.ram.size);
	lb.ram.region.guest_addr = GPA_BASE;
	lb.ram.region.size = lb.ram.size;
	lb.ram.region.host = lb.ram.base;
	lb.ram.region.access = VIO_MAP_RW;
	/* [/embedding:memory] */

	pthread_mutex_init(&lb.irq.m, NULL);
	pthread_cond_init(&lb.irq.c, NULL);
	pthread_mutex_init(&lb.mb.m, NULL);
	pthread_cond_init(&lb.mb.c, NULL);
	pthread_mutex_init(&lb.mb.serve, NULL);
	atomic_init(&lb.device_error, 0);
	lb.rng_state = lb.seed ^ 0x726e67u;
	for (unsigned i = 0; i < NSLOTS; i++) {
		lb.slot[i].lb = &lb;
		lb.slot[i].idx = i;
	}
	lb.slot[SLOT_BLK].name = "blk";
	lb.slot[SLOT_RNG].name = "rng";

	/* The VMM: devices, register models, the queue thread. */
	vmm_create_blk(&lb);
	vmm_create_rng(&lb);
	for (unsigned i = 0; i < NSLOTS; i++)
		if (lb.tp->attach(&lb.slot[i]) != 0)
			fail("%s: transport attach", lb.slot[i].name);
	if (pthread_create(&lb.device_thread, NULL, device_main, &lb) != 0)
		fail("pthread_create");

	/* The guest. */
	guest_blk(&lb);
	guest_rng(&lb);

	/* A VMM saving the device for migration: pause the queue threads,
	 * save, resume (the state size is what a migration stream carries). */
	/* [embedding:save] */
	vio_blk_device_pause(lb.blkdev); /* the queue thread is out of the queues */
	size_t state = lb.tp->state_size(&lb.slot[SLOT_BLK]);
	void *blob = malloc(state);
	if (blob == NULL || lb.tp->save(&lb.slot[SLOT_BLK], blob, state) != 0)
		fail("blk: save");
	vio_blk_device_resume(lb.blkdev); /* kicks every live queue */
	/* [/embedding:save] */
	free(blob);

	/* [embedding:teardown] */
	/* The guest resets its devices (status 0): the device core deactivates
	 * the adapter, whose runner stop waits for the queue thread; then the
	 * VMM stops its queue thread. */
	for (unsigned i = 0; i < NSLOTS; i++)
		if (vio_drv_reset(lb.slot[i].drv) != 0)
			fail("%s: reset", lb.slot[i].name);
	pthread_mutex_lock(&lb.mb.m);
	lb.mb.quit = true;
	pthread_cond_signal(&lb.mb.c);
	pthread_mutex_unlock(&lb.mb.m);
	pthread_join(lb.device_thread, NULL);
	/* [/embedding:teardown] */

	/* What the backend holds, now that the device thread is gone. */
	for (unsigned b = 0; b < lb.blocks; b++) {
		block_pattern(lb.seed, b, expect);
		if (memcmp(lb.disk_bytes + (size_t)b * BLOCK, expect, BLOCK) != 0)
			fail("disk: block %u on the backend differs from what was written", b);
	}
	printf("disk: the backend holds every block as written (%lu flush%s)\n", lb.disk.flushes,
	       lb.disk.flushes == 1 ? "" : "es");
	unsigned long refused = lb.slot[SLOT_BLK].refused + lb.slot[SLOT_RNG].refused;
	if (refused != 0)
		fail("the register models refused %lu guest accesses", refused);
	if (lb.irq.msi_unknown != 0)
		fail("%lu MSI-X messages nobody programmed", lb.irq.msi_unknown);
	if (atomic_load(&lb.device_error) != 0)
		fail("device thread: %s", vio_err_name(atomic_load(&lb.device_error)));
	printf("transport: %lu kicks, %lu interrupts, state blob %zu bytes, 0 refused accesses\n",
	       lb.mb.kicks, lb.irq.raised, state);
	printf("OK: %s/%s, %u queue%s: %u blocks written, read back and verified; flush; GET_ID; "
	       "%u entropy bytes\n",
	       lb.tp->name, lb.packed ? "packed" : "split", lb.nq, lb.nq == 1 ? "" : "s", lb.blocks,
	       RNG_BUFS * RNG_BUF);
	return 0;
}
