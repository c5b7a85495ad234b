/* SPDX-License-Identifier: MIT */
/* Test support: a fake guest memory with exact bounds.
 *
 * Host buffers are registered at device-visible addresses of the test's
 * choosing (deliberately not equal to the host pointers, so every missing
 * translation shows). The device-side map callback grants from the region
 * that holds the first byte up to that region's end (the library asks again
 * for the rest); the driver-side callback converts a host pointer back to its
 * device address. Every refusal is counted. */
#ifndef VIO_TEST_GUEST_MEM_H
#define VIO_TEST_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#include <virtio/dma.h>
#include <virtio/mem.h>

#define GM_MAX_REGIONS 64

struct gm_region {
	uint64_t addr;
	unsigned char *host;
	size_t len;
	unsigned dirs; /* allowed enum vio_map_dir bits */
};

struct guest_mem {
	struct gm_region r[GM_MAX_REGIONS];
	unsigned n;
	unsigned map_calls;
	unsigned map_refusals;
	int refuse_all;		     /* when set, every map call is refused */
	uint64_t next_addr;	     /* for gm_alloc */
	void *alloc[GM_MAX_REGIONS]; /* gm_alloc's buffers, by region */
};

void gm_init(struct guest_mem *gm);
/* Register [host, host+len) at device address @addr with access @dirs. */
void gm_add(struct guest_mem *gm, uint64_t addr, void *host, size_t len, unsigned dirs);
/* Allocate @len zeroed bytes aligned to @align (power of two ≤ 4096),
 * register them RW at a fresh device address (with a gap to the previous
 * region) and return the host pointer; *addr receives the device address.
 * Freed by gm_free(). */
void *gm_alloc(struct guest_mem *gm, size_t len, size_t align, uint64_t *addr);
void gm_free(struct guest_mem *gm);
/* Device address of a host pointer, or 0 if it is in no region. */
uint64_t gm_addr_of(const struct guest_mem *gm, const void *host);

extern const struct vio_mem_ops gm_dev_ops; /* ctx: struct guest_mem * */
extern const struct vio_dma_ops gm_drv_ops; /* ctx: struct guest_mem * */

#endif
