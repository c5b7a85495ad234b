/* SPDX-License-Identifier: MIT */
/* A VMM's device side, the way 0.2 is meant to be embedded: guest RAM as a
 * region table, dirty-page logging for live migration, and a handover of a
 * queue with requests still in flight to a second device instance (a new
 * vhost-user back end, or the migration destination).
 *
 * Guest RAM is one shared-memory file. The driver side (the library's own
 * driver queue, in the same process) maps it whole, as a guest sees its
 * RAM, and names guest-physical addresses through its DMA ops. The device
 * side maps it as eight regions, each mmap()ed on its own the way a
 * vhost-user back end maps the regions of SET_MEM_TABLE: adjacent in
 * guest-physical space, anywhere in the back end's address space. Every
 * request's answer buffer runs from one region into the next, so the device
 * sees it as two segments. (Linux: memfd_create.)
 *
 * Steps: the source device pops every request and completes every other
 * one; its write log marks the VMM's dirty pages; then it saves the queue
 * (vio_devq_get_state(): ring position and the number of chains in flight)
 * and the head of each chain it still holds, and drops those chains. The
 * destination device starts on the same rings, restores the state, takes
 * the held chains again (vio_devq_repop()) and completes them. The driver
 * must get every request back, each with its own answer, and the dirty
 * bitmap must cover every byte the devices wrote.
 *
 *   vmm_handover [--format split|packed]
 *
 * The last line starts with OK when every check held, FAIL otherwise. */
#define _GNU_SOURCE /* memfd_create */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <virtio/virtio.h>

#define QSIZE 16
#define NREG 8
#define REG (16u * 1024u) /* bytes per region */
#define NREQ (NREG - 1)	  /* one request per boundary between regions */
#define PAGE 4096u
#define RAM_GPA 0x40000000ull
#define RAM_PAGES (NREG * REG / PAGE)

struct guest {
	unsigned char *drv;	  /* the driver's (guest's) mapping of all of RAM */
	unsigned char *ram[NREG]; /* the device's mapping of each region */
	struct vio_mem_region table[NREG];
	unsigned char dirty[RAM_PAGES]; /* the VMM's dirty bitmap, a byte per page */
	unsigned long logged;
};

static int failures;

static void check(bool ok, const char *what)
{
	if (!ok) {
		printf("FAIL: %s\n", what);
		failures++;
	}
}

/* ---- Guest memory, seen from both sides ------------------------------------ */

/* Driver side: a host pointer into guest RAM -> its guest-physical address. */
static int to_gpa(void *ctx, const void *ptr, size_t len, enum vio_dma_dir dir, uint64_t *addr)
{
	struct guest *g = ctx;
	(void)dir;
	const unsigned char *p = ptr;
	if (p < g->drv || p > g->drv + NREG * REG || len > NREG * REG - (size_t)(p - g->drv))
		return -VIO_EINVAL;
	*addr = RAM_GPA + (uint64_t)(p - g->drv);
	return 0;
}

static const struct vio_dma_ops dma = {to_gpa, NULL};

/* Device side: every byte a device writes is reported here. */
static void log_write(void *ctx, uint64_t addr, uint64_t len)
{
	struct guest *g = ctx;
	for (uint64_t a = addr & ~(uint64_t)(PAGE - 1); a < addr + len; a += PAGE)
		g->dirty[(a - RAM_GPA) / PAGE] = 1;
	g->logged += len;
}

static const struct vio_mem_ops mem = {NULL, NULL, log_write};

/* The driver's pointer to guest-physical address @gpa. */
static unsigned char *host_of(struct guest *g, uint64_t gpa)
{
	return g->drv + (gpa - RAM_GPA);
}

/* ---- The device model: a "reverse the request" device ---------------------- */

/* Each request is a readable payload and a writable answer of the same
 * length; the answer is the payload reversed. */
static uint32_t serve(const struct vio_chain *c)
{
	unsigned char in[512], out[512];
	size_t n = vio_chain_read(c, 0, in, sizeof(in));
	for (size_t i = 0; i < n; i++)
		out[i] = in[n - 1 - i];
	return (uint32_t)vio_chain_write(c, 0, out, n);
}

int main(int argc, char **argv)
{
	enum vio_ring_format fmt = VIO_RING_SPLIT;
	if (argc == 3 && strcmp(argv[1], "--format") == 0 && strcmp(argv[2], "packed") == 0)
		fmt = VIO_RING_PACKED;
	else if (argc != 1 && !(argc == 3 && strcmp(argv[2], "split") == 0)) {
		fprintf(stderr, "usage: vmm_handover [--format split|packed]\n");
		return 2;
	}

	static struct guest g;
	int fd = memfd_create("guest-ram", 0);
	if (fd < 0 || ftruncate(fd, (off_t)NREG * REG) != 0) {
		printf("FAIL: no shared memory for guest RAM\n");
		return 1;
	}
	g.drv = mmap(NULL, (size_t)NREG * REG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (g.drv == MAP_FAILED)
		return 1;
	for (unsigned k = 0; k < NREG; k++) {
		g.ram[k] = mmap(NULL, REG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)k * REG);
		if (g.ram[k] == MAP_FAILED)
			return 1;
		g.table[k] = (struct vio_mem_region){RAM_GPA + k * REG, REG, g.ram[k], VIO_MAP_RW};
	}

	/* The driver: rings at the start of guest RAM. */
	struct vio_features f = {0};
	vio_features_set(&f, VIO_F_VERSION_1);
	vio_features_set(&f, VIO_F_EVENT_IDX);
	if (fmt == VIO_RING_PACKED)
		vio_features_set(&f, VIO_F_RING_PACKED);
	struct vio_vq_config vc = {0};
	vc.format = fmt;
	vc.size = QSIZE;
	vc.features = f;
	vc.desc = g.drv;
	vc.driver_area = g.drv + 4096;
	vc.device_area = g.drv + 8192;
	vc.dma_ops = &dma;
	vc.dma_ctx = &g;
	static _Alignas(VIO_VQ_MEM_ALIGN) unsigned char vqmem[VIO_VQ_MEM_SIZE(QSIZE)];
	struct vio_vq *vq;
	if (vio_vq_init(&vq, vqmem, sizeof(vqmem), &vc) != 0)
		return 1;

	/* The source device: the VMM's memory map and its dirty logging. */
	struct vio_devq_config dc = {0};
	dc.format = fmt;
	dc.size = QSIZE;
	dc.features = f;
	dc.regions = g.table;
	dc.nregions = NREG;
	dc.mem_ops = &mem;
	dc.mem_ctx = &g;
	if (vio_vq_ring_addrs(vq, &dc.desc_addr, &dc.driver_addr, &dc.device_addr) != 0)
		return 1;
	static _Alignas(VIO_DEVQ_MEM_ALIGN) unsigned char srcmem[VIO_DEVQ_MEM_SIZE(QSIZE)];
	struct vio_devq *src;
	check(vio_devq_init(&src, srcmem, sizeof(srcmem), &dc) == 0, "source device init");

	/* Request r: a payload inside region r+1 and an answer buffer that
	 * starts 60 bytes before region r+1 and runs into it. */
	struct {
		uint64_t in_gpa, out_gpa;
		uint32_t len;
	} req[NREQ];
	for (unsigned r = 0; r < NREQ; r++) {
		req[r].len = 100 + 20 * r;
		req[r].out_gpa = RAM_GPA + (r + 1) * REG - 60;
		req[r].in_gpa = RAM_GPA + (r + 1) * REG + 2048;
		unsigned char *in = host_of(&g, req[r].in_gpa);
		for (uint32_t k = 0; k < req[r].len; k++)
			in[k] = (unsigned char)(r * 31 + k);
		struct vio_sg sg[2] = {{in, req[r].len}, {host_of(&g, req[r].out_gpa), req[r].len}};
		check(vio_vq_add(vq, sg, 1, 1, &req[r]) == 0, "driver add");
	}
	(void)vio_vq_kick_prepare(vq);

	/* The source pops everything and completes the even requests; the odd
	 * ones are still in flight when the VMM hands the queue over. */
	struct vio_chain held[NREQ], ch;
	struct vio_chain_seg segs[NREQ][8];
	unsigned nheld = 0;
	/* Packed: used descriptors overwrite ring slots, so a back end keeps a
	 * copy of each chain's descriptors as it pops it (vhost-user's
	 * inflight region does the same). */
	const struct vio_packed_desc *ring = vc.desc;
	struct vio_packed_desc copies[NREQ][4];
	for (unsigned i = 0; i < NREQ; i++) {
		check(vio_devq_pop(src, &ch, segs[nheld], 8) == 0, "source pop");
		if (i % 2 == 0) {
			check(vio_devq_push(src, &ch, serve(&ch)) == 0, "source push");
		} else {
			/* Two descriptors; the answer's is two segments, one in each
			 * region's mapping. */
			check(ch.nseg == 3 && ch.segs[2].ptr == g.ram[i + 1],
			      "the answer buffer is split at the region boundary");
			for (unsigned j = 0; fmt == VIO_RING_PACKED && j < ch.ndesc && j < 4; j++)
				copies[nheld][j] = ring[(ch.head + j) % QSIZE];
			held[nheld++] = ch;
		}
	}

	/* Handover: save the state and what the back end holds, drop it. */
	struct vio_ring_state st;
	vio_devq_get_state(src, &st);
	check(st.inflight == nheld, "the saved state counts the chains in flight");
	uint16_t heads[NREQ], ndesc[NREQ];
	for (unsigned k = 0; k < nheld; k++) {
		heads[k] = held[k].head;
		ndesc[k] = held[k].ndesc;
		check(vio_devq_drop(src, &held[k]) == 0, "drop at handover");
	}

	/* The destination: same rings, restored position, held chains again. */
	static _Alignas(VIO_DEVQ_MEM_ALIGN) unsigned char dstmem[VIO_DEVQ_MEM_SIZE(QSIZE)];
	struct vio_devq *dst;
	check(vio_devq_init(&dst, dstmem, sizeof(dstmem), &dc) == 0, "destination init");
	check(vio_devq_set_state(dst, &st) == 0, "destination restore");
	for (unsigned k = 0; k < nheld; k++) {
		int rc = fmt == VIO_RING_SPLIT
				 ? vio_devq_repop(dst, heads[k], &ch, segs[k], 8)
				 : vio_devq_repop_packed(dst, copies[k], ndesc[k], &ch, segs[k], 8);
		check(rc == 0, "destination takes a held chain again");
		check(vio_devq_push(dst, &ch, serve(&ch)) == 0, "destination push");
	}
	bool irq = vio_devq_needs_notify(dst); /* a VMM would inject the interrupt */

	/* The driver gets all requests back, each answered. */
	unsigned got = 0;
	void *tok;
	uint32_t len;
	int rc;
	while ((rc = vio_vq_get(vq, &tok, &len)) == 0) {
		unsigned i = (unsigned)((char *)tok - (char *)req) / (unsigned)sizeof(req[0]);
		check(len == req[i].len, "answer length");
		const unsigned char *in = host_of(&g, req[i].in_gpa);
		for (uint32_t k = 0; k < req[i].len; k++)
			if (*host_of(&g, req[i].out_gpa + k) != in[req[i].len - 1 - k]) {
				check(false, "answer content");
				break;
			}
		/* Every answer byte is on a page the VMM saw dirtied. */
		for (uint32_t k = 0; k < req[i].len; k++)
			if (!g.dirty[(req[i].out_gpa + k - RAM_GPA) / PAGE]) {
				check(false, "an answer byte on a page the log did not mark");
				break;
			}
		got++;
	}
	check(rc == -VIO_EAGAIN && got == NREQ, "every request completed exactly once");
	check(!vio_vq_is_broken(vq) && !vio_devq_is_broken(dst), "no queue broken");

	unsigned pages = 0;
	for (unsigned p = 0; p < RAM_PAGES; p++)
		pages += g.dirty[p];
	printf("libvirtio %s vmm_handover: %s ring, %u requests, %u handed over in flight, "
	       "%lu bytes logged on %u dirty pages, interrupt %s\n",
	       VIO_VERSION_STRING, fmt == VIO_RING_SPLIT ? "split" : "packed", NREQ, nheld,
	       g.logged, pages, irq ? "wanted" : "suppressed");
	for (unsigned k = 0; k < NREG; k++)
		munmap(g.ram[k], REG);
	munmap(g.drv, (size_t)NREG * REG);
	close(fd);
	if (failures != 0) {
		printf("FAIL: %d checks failed\n", failures);
		return 1;
	}
	printf("OK: every request answered across the handover, every write logged\n");
	return 0;
}
