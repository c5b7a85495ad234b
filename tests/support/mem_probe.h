/* SPDX-License-Identifier: MIT */
/* Test support: an instrumented vio_mem_ops over a fake guest memory.
 *
 * The map callback grants from the guest_mem regions that hold the first
 * byte, and can be told to misbehave the ways an embedder legitimately may:
 * refuse with -VIO_EMAP_AGAIN for the next N calls, grant only part of a
 * range, ask for release, or hand out device-side bounce copies (copied in
 * at map, copied back for VIO_MAP_WRITE and freed at release). Every
 * mapping handed out with `release` set is tracked, so a test can check
 * that each one is released exactly once.
 *
 * The write log records every range reported to log_write in a byte map of
 * guest memory; with a snapshot of all regions a test checks that every
 * byte the device changed was logged, or that the logged set is exactly
 * the expected one. No cmocka dependency: checks return values or counts. */
#ifndef VIO_TEST_MEM_PROBE_H
#define VIO_TEST_MEM_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/mem.h>

#include "guest_mem.h"

#define MP_MAX_MAPS 1024

/* One mapping handed out with release = true. */
struct mp_map {
	void *host;	     /* what map() returned */
	unsigned char *real; /* the guest bytes it stands for */
	uint64_t addr;
	uint64_t len;
	unsigned dir;
	bool bounce; /* host is a private copy */
	bool live;   /* not yet released */
};

struct mem_probe {
	struct guest_mem *gm;
	/* Behaviour of map(). */
	bool refuse_all;     /* refuse everything (-VIO_EMAP) */
	unsigned again_skip; /* calls that succeed before the `again` refusals start */
	unsigned again;	     /* -VIO_EMAP_AGAIN for this many more calls */
	uint64_t grant_max;  /* grant at most this many bytes per call (0: no cap) */
	bool release;	     /* set vio_mapping::release */
	bool bounce;	     /* hand out bounce copies (implies release) */
	unsigned nring;	     /* the first nring gm regions are rings: never bounced */
	/* What happened. */
	unsigned map_calls;
	unsigned grants;
	unsigned refusals;
	unsigned agains;
	unsigned releases;     /* release() calls that matched a live mapping */
	unsigned bad_releases; /* release() calls that matched none (double, unknown) */
	unsigned live;	       /* mappings handed out with release and not released */
	struct mp_map maps[MP_MAX_MAPS];
	unsigned nmaps;
	/* Called at each good release, before a bounce copy is copied back. */
	void (*on_release)(void *arg, const struct mp_map *m);
	void *on_release_arg;
	/* Write log: one byte per guest byte of each gm region. */
	unsigned char *logged[GM_MAX_REGIONS];
	unsigned char *snap[GM_MAX_REGIONS];
	unsigned log_calls;
	unsigned log_outside; /* ranges (partly) outside every region */
};

/* Full ops: map, release, log_write. */
extern const struct vio_mem_ops mp_ops;
/* No map callback (the region table only): release and log_write. */
extern const struct vio_mem_ops mp_ops_nomap;

/* Attach to @gm; call after every region is registered. */
void mp_init(struct mem_probe *p, struct guest_mem *gm);
/* Free the log, snapshots and any bounce copy still live. */
void mp_fini(struct mem_probe *p);
/* Forget logged ranges and take a snapshot of every region. */
void mp_snap(struct mem_probe *p);
/* True if every byte of [addr, addr + len) was logged since mp_snap(). */
bool mp_logged(const struct mem_probe *p, uint64_t addr, uint64_t len);
/* Bytes logged since mp_snap() (in all regions). */
size_t mp_logged_bytes(const struct mem_probe *p);
/* Logged bytes inside [addr, addr + len). */
size_t mp_logged_in(const struct mem_probe *p, uint64_t addr, uint64_t len);
/* Guest address of the first byte changed since mp_snap() and not logged;
 * false if there is none. */
bool mp_changed_unlogged(const struct mem_probe *p, uint64_t *addr);
/* The gm regions as a region table (access = each region's dirs). */
uint32_t mp_table(const struct mem_probe *p, struct vio_mem_region *t, uint32_t max);

#endif
