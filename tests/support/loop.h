/* SPDX-License-Identifier: MIT */
/* Test support: a queue pair ("loop") and a small seeded PRNG.
 *
 * A loop is one virtqueue seen from both sides: a driver queue (vio_vq) and
 * a device queue (vio_devq) of the same format, size and features, connected
 * through a fake guest memory (guest_mem.h). The ring parts, the optional
 * indirect table pool and a data arena are registered in that memory at
 * device addresses different from the host pointers, so the driver reaches
 * the device only through gm_drv_ops and the device reaches driver memory
 * only through gm_dev_ops.
 *
 * A loop holds pointers into itself (the memory callbacks' context): do not
 * copy or move it after loop_init(). */
#ifndef VIO_TEST_LOOP_H
#define VIO_TEST_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "guest_mem.h"

struct loop_cfg {
	enum vio_ring_format format;
	uint16_t size;	/* queue size */
	uint16_t index; /* queue index (notification data) */
	/* Negotiated features, given to both halves. */
	struct vio_features features;
	/* With VIO_F_INDIRECT_DESC in features: descriptors per indirect
	 * table (0: the queue size). Ignored without the feature. */
	uint16_t indirect_max;
	uint16_t indirect_min; /* passed to the driver (0: its default, 2) */
	bool no_indirect_pool; /* negotiate INDIRECT_DESC but give the driver no pool */
	size_t data_bytes;     /* bytes of the data arena (0: none) */
};

struct loop {
	struct loop_cfg cfg;
	struct guest_mem gm;
	struct vio_vq *vq;
	struct vio_devq *dq;
	void *vq_mem;
	size_t vq_mem_size;
	void *dq_mem;
	size_t dq_mem_size;
	/* Ring parts: host pointers (driver view) and device addresses. */
	void *desc, *driver_area, *device_area;
	uint64_t desc_addr, driver_addr, device_addr;
	void *indirect_pool; /* NULL without indirect */
	unsigned char *data; /* the data arena, registered RW in gm */
	uint64_t data_addr;
};

/* The feature set with VERSION_1 and, as asked, EVENT_IDX / INDIRECT_DESC
 * (and RING_PACKED for the packed format). */
struct vio_features loop_features(enum vio_ring_format format, bool event_idx, bool indirect);

/* Set up both halves. Returns 0 or the (negative) error of vio_vq_init() /
 * vio_devq_init(); on error nothing needs freeing. */
int loop_init(struct loop *l, const struct loop_cfg *cfg);
/* Free everything loop_init() allocated. */
void loop_fini(struct loop *l);
/* Replace the device queue by a freshly initialised one (new bookkeeping
 * memory, same ring addresses): what a device does on a queue re-enable or
 * after migration. Returns vio_devq_init()'s result. */
int loop_devq_reinit(struct loop *l);

/* The configurations loop_init() gave each half (for re-initialising). */
void loop_vq_config(const struct loop *l, struct vio_vq_config *cfg);
void loop_devq_config(const struct loop *l, struct vio_devq_config *cfg);

/* Printable "split/packed size N event_idx X indirect Y". Returns buf. */
const char *loop_describe(const struct loop_cfg *cfg, char *buf, size_t len);

/* --- Seeded PRNG (splitmix64): deterministic, cheap, good enough. --- */
struct loop_rng {
	uint64_t s;
};

void loop_rng_seed(struct loop_rng *r, uint64_t seed);
uint64_t loop_rng_next(struct loop_rng *r);
/* Uniform in [0, n); n must be > 0. */
uint32_t loop_rng_below(struct loop_rng *r, uint32_t n);
/* Uniform in [lo, hi] (lo ≤ hi). */
uint32_t loop_rng_range(struct loop_rng *r, uint32_t lo, uint32_t hi);
/* True with probability percent/100. */
bool loop_rng_chance(struct loop_rng *r, unsigned percent);
/* Fill buf with the byte stream of a PRNG seeded with seed (so the same seed
 * always yields the same bytes). */
void loop_pattern_fill(void *buf, size_t len, uint64_t seed);
/* Offset of the first byte of buf that differs from that stream, or len if
 * none does. */
size_t loop_pattern_check(const void *buf, size_t len, uint64_t seed);
/* Mix two values into a seed. */
uint64_t loop_mix(uint64_t a, uint64_t b);

/* The seed a randomized test should use: VIO_TEST_SEED from the
 * environment (decimal or 0x-hex) if set, else def. *from_env (if not NULL)
 * tells which. */
uint64_t loop_seed_from_env(uint64_t def, bool *from_env);
/* An unsigned count from the environment variable name, or def if unset or
 * not a number. */
unsigned long loop_env_count(const char *name, unsigned long def);

#endif
