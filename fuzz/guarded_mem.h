/* SPDX-License-Identifier: MIT */
/*
 * Guarded guest memory: every region in its own exact-size heap block (so
 * AddressSanitizer reports the first byte past a granted range), with a
 * shadow copy to prove the library left bytes alone, and the memory
 * callbacks handed to the library (fz_dev_ops, fz_drv_ops).
 */
#ifndef VIO_FUZZ_GUARDED_MEM_H
#define VIO_FUZZ_GUARDED_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "input.h"

/* Region i lives at device address FZ_REGION_BASE(i) + a small offset, with
 * a gap of nothing before the next region: every address outside a region is
 * refused by the map callback. */
#define FZ_REGION_SHIFT 24
#define FZ_REGION_BASE(i) ((uint64_t)((i) + 1u) << FZ_REGION_SHIFT)
#define FZ_REGION_MAX_OFF 0x100000u /* offset of a region inside its window */

#define FZ_MAX_REGIONS 640
#define FZ_MAX_GRANTS 1024

struct fz_region {
	uint64_t addr;	       /* device address of byte 0 */
	size_t len;	       /* bytes; host holds exactly this many (own heap block) */
	unsigned char *host;   /* NULL: slot free */
	unsigned char *shadow; /* expected contents for fz_mem_check_unchanged (or NULL) */
	unsigned dirs;	       /* enum vio_map_dir bits the device may map it for */
	size_t table_stride;   /* driver side: ranges must start at a multiple (indirect pool) */
	bool any_len;	       /* driver side: to_device accepts any length from inside */
};

/* One range the map callback granted. */
struct fz_grant {
	const unsigned char *ptr;
	size_t len;
	unsigned dir;
	unsigned region;
};

struct fz_mem {
	struct fz_region r[FZ_MAX_REGIONS];
	unsigned n; /* slots in use are below n */
	/* Device side. */
	bool map_allowed; /* the harness expects map calls now (init, pop) */
	unsigned ngrants;
	bool grants_overflow;
	struct fz_grant grants[FZ_MAX_GRANTS];
	unsigned long map_calls;
	/* Driver side. */
	unsigned long to_device_calls;
	unsigned long fail_every;	/* fail every n-th call; 0: never */
	unsigned long to_device_failed; /* number of injected failures */
};

extern const struct vio_mem_ops fz_dev_ops; /* ctx: struct fz_mem * */
extern const struct vio_dma_ops fz_drv_ops; /* ctx: struct fz_mem * */

/* Only resets the counters and region count (no big memset). */
void fz_mem_init(struct fz_mem *m);
/* Free every region. */
void fz_mem_free(struct fz_mem *m);
/* Allocate a region of @len ≥ 1 bytes (contents: zero) at @addr, mapping
 * @dirs; @shadow also keeps a copy for fz_mem_check_unchanged(). Returns the
 * slot index. Slot indexes are reused after fz_mem_remove(). */
unsigned fz_mem_add(struct fz_mem *m, uint64_t addr, size_t len, unsigned dirs, bool shadow);
/* Same, at FZ_REGION_BASE(slot) + @off. */
unsigned fz_mem_add_slot(struct fz_mem *m, size_t off, size_t len, unsigned dirs, bool shadow);
void fz_mem_remove(struct fz_mem *m, unsigned idx);
/* Fill a region (and its shadow) from the input. */
void fz_mem_fill(struct fz_mem *m, unsigned idx, struct fz_in *in);
/* The region holding all of [addr, addr + len), or NULL. */
struct fz_region *fz_mem_find(struct fz_mem *m, uint64_t addr, size_t len);
/* The region holding host byte @p, or NULL. */
struct fz_region *fz_mem_find_host(struct fz_mem *m, const void *p);
/* Host pointer for [addr, addr + len) or NULL. */
unsigned char *fz_mem_host(struct fz_mem *m, uint64_t addr, size_t len);
/* The harness (as the peer) writes memory: host and shadow alike. Returns
 * false if the range is not inside one region. */
bool fz_mem_poke(struct fz_mem *m, uint64_t addr, const void *src, size_t len);
/* Same, by host pointer (a byte of a segment the device half mapped). */
void fz_mem_poke_host(struct fz_mem *m, unsigned char *p, unsigned char v);
/* Resynchronise a region's shadow with its contents (after a legitimate
 * write by the library, e.g. vio_vq_reset zeroing rings). */
void fz_mem_resync(struct fz_mem *m, unsigned idx);

/* A device-address range the library is allowed to write. */
struct fz_range {
	uint64_t addr;
	uint64_t len;
};
/* Trap unless every shadowed byte outside @excl is unchanged. @only: check
 * only that region (or all when ~0u). */
void fz_mem_check_unchanged(const struct fz_mem *m, const struct fz_range *excl, unsigned nexcl,
			    unsigned only);

/* Start/stop logging what the map callback grants (for one pop). */
void fz_mem_grants_begin(struct fz_mem *m);
void fz_mem_grants_end(struct fz_mem *m);

/* The error the driver-side memory callback injects. */
#define FZ_INJECTED_ERR (-VIO_ERING_MAP)

#endif /* VIO_FUZZ_GUARDED_MEM_H */
