/* SPDX-License-Identifier: MIT */
/*
 * Device-half harness engine (fuzz_devq_split.c, fuzz_devq_packed.c): runs
 * one input against a device queue, playing a hostile driver, and checks the
 * device half's invariants after every call. The harnesses supply what
 * differs between the formats as a table of hooks (struct fz_devq_fmt).
 */
#ifndef VIO_FUZZ_ENGINE_DEVQ_H
#define VIO_FUZZ_ENGINE_DEVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "guarded_mem.h"
#include "input.h"
#include "input_format.h"

struct fz_devq;

/* One descriptor of a popped chain, as the ring holds it. */
struct fz_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
};

/* What differs between the split and packed device harnesses. */
struct fz_devq_fmt {
	enum vio_ring_format format;
	uint16_t (*size_from)(uint16_t sel);
	/* Bytes of the descriptor area, driver area and device area. */
	void (*ring_sizes)(uint16_t size, size_t len[3]);
	/* Device-address ranges the device half may write (used ring, ...). */
	unsigned (*writable)(const struct fz_devq *d, struct fz_range out[2]);
	/* Hostile-driver actions on the rings (FZ_DQ_DRV_PUBLISH / _DESC / _EVENT). */
	void (*publish)(struct fz_devq *d, struct fz_in *in);
	void (*desc)(struct fz_devq *d, struct fz_in *in);
	void (*event)(struct fz_devq *d, struct fz_in *in);
	/* The driver asked for no used-buffer notifications (spec: SHOULD NOT). */
	bool (*intr_suppressed)(struct fz_devq *d);
	/* After enable/disable_notify: the device area says what was asked. */
	void (*check_notify_area)(struct fz_devq *d, bool enabled);
	/* The descriptors of chain @c just taken, in chain order, read from the
	 * ring: how many, or -1 if they cannot be told (an indirect table, the
	 * ring not readable). */
	int (*chain_descs)(struct fz_devq *d, const struct vio_chain *c, struct fz_desc *out,
			   unsigned max);
};

/* A chain the engine holds (popped or re-popped, not pushed or dropped). */
struct fz_held {
	struct vio_chain c;	      /* c.segs: its own heap block of max entries */
	struct vio_packed_desc *copy; /* packed: its descriptors as popped, or NULL */
	uint16_t max;		      /* max_segs it was taken with */
};

struct fz_devq {
	const struct fz_devq_fmt *f;
	struct fz_mem *m;
	uint16_t size;
	uint8_t feat;
	unsigned nextra;
	struct vio_devq_config cfg;
	struct vio_devq *q;
	void *qmem;
	size_t qmem_size;
	struct fz_range wr[2];
	unsigned nwr;
	int reason;	/* first peer error since the last reset; 0: not broken */
	int avail_hint; /* has_avail's answer while nothing changed since, or -1 */
	/* Memory mode (FZ_MM_*): layout, log_write, take_long_chains. */
	uint8_t mmode;
	bool logging;
	bool splits; /* a buffer may become several segments per descriptor */
	struct vio_mem_region table[2][FZ_DEVQ_MAX_TABLE];
	unsigned cur; /* table[cur] is installed */
	uint32_t ntable;
	unsigned nheld;
	struct fz_held held[FZ_MAX_ACTIONS];
	/* The last chain record pushed or dropped (its segs are freed: the
	 * library must refuse it before touching them). */
	struct vio_chain gone;
	bool have_gone;
};

/* Cut an extra region of @len bytes into 2..FZ_DEVQ_MAX_PIECES adjacent
 * pieces (fewer if it is too short) with the generator state @rng; returns
 * the count and their lengths. gen_corpus.c builds the same layout. */
unsigned fz_devq_cut(uint32_t *rng, size_t len, size_t piece[FZ_DEVQ_MAX_PIECES]);
/* Run one input through a device queue of format @f. */
int fz_devq_run(const struct fz_devq_fmt *f, const uint8_t *data, size_t size);
/* Host pointer of [addr, addr + len) of driver memory, or NULL. */
unsigned char *fz_devq_host(struct fz_devq *d, uint64_t addr, size_t len);
/* The harness, as the driver, writes driver memory (host and shadow). */
bool fz_devq_poke(struct fz_devq *d, uint64_t addr, const void *src, size_t len);
/* Device address for a descriptor written by a hostile-driver action: inside
 * (or just past) one of the regions. */
uint64_t fz_devq_pick_addr(struct fz_devq *d, uint8_t region, uint16_t off);

#endif /* VIO_FUZZ_ENGINE_DEVQ_H */
