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

/* A device-address range the library is allowed to write. */
struct fz_range {
	uint64_t addr;
	uint64_t len;
};

struct fz_region {
	uint64_t addr;	       /* device address of byte 0 */
	size_t len;	       /* bytes; host holds exactly this many (own heap block) */
	unsigned char *host;   /* NULL: slot free */
	unsigned char *shadow; /* expected contents for fz_mem_check_unchanged (or NULL) */
	unsigned dirs;	       /* enum vio_map_dir bits the device may map it for */
	size_t table_stride;   /* driver side: ranges must start at a multiple (indirect pool) */
	bool any_len;	       /* driver side: to_device accepts any length from inside */
	/* Device side (fz_mem::track): per byte, logged through log_write since
	 * it last changed, and written by the harness as the device model. */
	unsigned char *logged;
	unsigned char *devw;
	bool ring; /* a ring part: the map callback never splits nor bounces it */
};

/* One range the map callback granted. */
struct fz_grant {
	const unsigned char *ptr;
	size_t len;
	uint64_t addr;
	unsigned dir;
	unsigned region;
	bool release;
};

/* A mapping handed out with vio_mapping::release set (device side). */
struct fz_map {
	unsigned char *host; /* what map() returned */
	unsigned char *real; /* the guest bytes it stands for */
	unsigned char *orig; /* bounce copies: the contents at map time, else NULL */
	uint64_t addr;
	uint64_t len;
	unsigned dir;
	bool live;
};

/* Device-side map behaviour (fz_mem::map_flags; FZ_MM_* in input_format.h). */
#define FZ_MAX_MAPS 2048

/* Driver side: one conversion to_device made (with a release hook). */
struct fz_conv {
	const void *ptr;
	size_t len;
	unsigned dir;
	uint64_t addr;
	unsigned tag; /* fz_mem::conv_tag when it was made */
	bool live;
};
#define FZ_MAX_CONVS 4096

struct fz_mem {
	struct fz_region r[FZ_MAX_REGIONS];
	unsigned n; /* slots in use are below n */
	/* Device side. */
	bool map_allowed; /* the harness expects map calls now (init, pop) */
	unsigned ngrants;
	bool grants_overflow;
	struct fz_grant grants[FZ_MAX_GRANTS];
	unsigned long map_calls;
	bool track;	    /* regions with a shadow get logged/devw maps */
	unsigned map_flags; /* FZ_MM_PARTIAL, _AGAIN, _RELEASE, _BOUNCE */
	uint32_t rng;	    /* drives the map callback's choices */
	bool no_again;	    /* a retry after -VIO_EMAP_AGAIN: grant */
	bool ring_phase;    /* ring parts are being mapped: whole, never bounced */
	bool marks;	    /* some logged/devw mark is set */
	unsigned long agains;
	unsigned nmaps, live; /* release-tracked mappings; live ones */
	unsigned long releases;
	struct fz_map maps[FZ_MAX_MAPS];
	/* Driver side. */
	unsigned long to_device_calls;
	unsigned long fail_every;	/* fail every n-th call; 0: never */
	unsigned long to_device_failed; /* number of injected failures */
	unsigned nconvs, conv_live;	/* conversions recorded (with a release hook) */
	unsigned long conv_released;
	unsigned conv_tag; /* the engine's label for conversions made now */
	struct fz_conv convs[FZ_MAX_CONVS];
};

extern const struct vio_mem_ops fz_dev_ops;	  /* ctx: struct fz_mem * */
extern const struct vio_mem_ops fz_dev_ops_nomap; /* region table only */
extern const struct vio_mem_ops fz_dev_ops_nolog; /* map and release, no log_write */
extern const struct vio_dma_ops fz_drv_ops;	  /* ctx: struct fz_mem * */
extern const struct vio_dma_ops fz_drv_ops_rel;	  /* with release: conversions tracked */

/* The live release-tracked mapping of exactly (host, addr, len, dir), or NULL. */
struct fz_map *fz_mem_find_map(struct fz_mem *m, const void *host, uint64_t addr, uint64_t len,
			       unsigned dir);
/* Every byte of guest memory that differs from the shadow was logged
 * (when @logging) and lies in @excl or was written by the device model
 * (devw); then the shadow follows. The marks are cleared when no bounce
 * copy is live (nothing written earlier can still reach guest memory). */
void fz_mem_check_dev_writes(struct fz_mem *m, const struct fz_range *excl, unsigned nexcl,
			     bool logging);
/* The harness as device model wrote [addr, addr + len) of guest memory. */
void fz_mem_mark_devw(struct fz_mem *m, uint64_t addr, uint64_t len);
/* Live conversions labelled @tag. */
unsigned fz_mem_conv_live(const struct fz_mem *m, unsigned tag);
/* The harness forgets the live conversions labelled @tag (never released). */
void fz_mem_conv_forget(struct fz_mem *m, unsigned tag);
/* A random number from the map callback's generator. */
uint32_t fz_mem_rand(struct fz_mem *m);

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
