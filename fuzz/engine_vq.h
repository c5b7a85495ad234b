/* SPDX-License-Identifier: MIT */
/*
 * Driver-half harness engine (fuzz_vq_split_used.c, fuzz_vq_packed_used.c):
 * runs one input against a driver queue, playing a hostile device, and checks
 * the driver half's invariants after every call. The harnesses supply what
 * differs between the formats as a table of hooks (struct fz_vq_fmt).
 */
#ifndef VIO_FUZZ_ENGINE_VQ_H
#define VIO_FUZZ_ENGINE_VQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "guarded_mem.h"
#include "input.h"
#include "input_format.h"

enum fz_tok_state {
	FZ_TOK_OUT = 1, /* added, the device holds it */
	FZ_TOK_DONE,	/* completed honestly, not reaped yet */
	FZ_TOK_RET,	/* returned by vio_vq_get */
	FZ_TOK_DET,	/* returned by vio_vq_detach_unused */
	FZ_TOK_FORGOT	/* outstanding across a reset without detaching */
};

struct fz_tok {
	uint16_t id;	/* split head / packed buffer id, as read from the ring */
	uint16_t ndesc; /* ring slots it occupies */
	uint32_t in_bytes;
	uint16_t nconv; /* conversions its add made (with a release hook) */
	uint8_t state;
};

/* fz_mem::conv_tag of the ring parts' conversions. */
#define FZ_TAG_RINGS 0xffffu

#define FZ_VQ_DATA_LEN 4096
#define FZ_VQ_MAX_SEGS 600
#define FZ_VQ_FIFO 1024
#define FZ_VQ_BATCH 8 /* most buffers one FZ_VQ_GET_ALL batch asks for */

struct fz_vq;

/* What differs between the split and packed driver harnesses. */
struct fz_vq_fmt {
	enum vio_ring_format format;
	uint16_t (*size_from)(uint16_t sel);
	void (*ring_sizes)(uint16_t size, size_t len[3]);
	/* After a successful add of token @t (@indirect as predicted): read and
	 * check what the driver wrote, set tok[t].id, advance the driver
	 * position the harness tracks. */
	void (*learn_add)(struct fz_vq *v, unsigned t, const struct vio_sg *sg, unsigned out,
			  unsigned total, bool indirect);
	/* Before/after an add that failed: the ring shows nothing new. */
	uint32_t (*publish_mark)(struct fz_vq *v);
	/* Write one used entry (split: element; packed: descriptor) for
	 * @nbuf buffers covering @ndesc slots. Returns true if it is visible
	 * to the driver now. */
	bool (*write_used)(struct fz_vq *v, uint16_t id, uint32_t len, uint8_t mode, unsigned nbuf,
			   unsigned ndesc);
	/* The length the driver must report for what write_used wrote, for a
	 * buffer with @in_bytes device-writable bytes. */
	uint32_t (*expect_len)(uint32_t len, uint8_t mode, uint32_t in_bytes);
	void (*publish)(struct fz_vq *v, struct fz_in *in);
	void (*event)(struct fz_vq *v, struct fz_in *in);
	/* -1: no expectation; 0/1: what kick_prepare must return. */
	int (*kick_expect)(struct fz_vq *v);
	/* After enable_intr (not delayed): the driver area says so. */
	void (*check_intr_area)(struct fz_vq *v);
	void (*check_notify_data)(struct fz_vq *v, uint32_t data);
	/* Does a raw device write to ring part @tgt (0 device area, 1 desc,
	 * 2 driver area, 3 pool) change what the driver reads? */
	bool (*raw_is_hostile)(unsigned tgt);
};

struct fz_vq {
	const struct fz_vq_fmt *f;
	struct fz_mem *m;
	uint16_t size;
	uint8_t feat;
	bool identity;
	bool release;		   /* dma_ops with a release hook */
	uint16_t ind_max, ind_min; /* as configured (ind_max 0: no pool) */
	struct vio_vq_config cfg;
	struct vio_vq *vq;
	void *vqmem;
	size_t vqmem_size;
	unsigned r_desc, r_drv, r_dev, r_pool, r_data; /* r_pool ~0u: none */
	int reason;	  /* first peer error since reset; 0: not broken */
	bool honest;	  /* every device write since reset followed the spec */
	bool quiesced;	  /* buffers were detached: no device or get until reset */
	bool added_since; /* a buffer was added since the last kick_prepare */
	uint16_t free_model;
	unsigned ntok;
	struct fz_tok tok[FZ_MAX_ACTIONS];
	int16_t owner[256]; /* split: descriptor -> token, -1 free */
	/* The driver's positions, as the harness knows them. */
	uint16_t adds, gets;	     /* split: avail idx and last used idx */
	uint16_t drv_slot, drv_last; /* packed: next avail slot, next used slot */
	bool drv_wrap, drv_last_wrap;
	/* The device's positions. */
	uint16_t dev_idx;  /* split: next used element to write */
	uint16_t dev_slot; /* packed: next used slot */
	bool dev_wrap;
	/* Honest completions the driver must return, in order; the last
	 * fq_pend of them are not visible yet. */
	unsigned fq_head, fq_tail, fq_pend;
	unsigned fq_tok[FZ_VQ_FIFO];
	uint32_t fq_len[FZ_VQ_FIFO];
};

int fz_vq_run(const struct fz_vq_fmt *f, const uint8_t *data, size_t size);
/* Ring part access for the hooks: host pointer of region @ri, and a write
 * by the harness-device through host and shadow. */
unsigned char *fz_vq_part(struct fz_vq *v, unsigned ri);
void fz_vq_poke(struct fz_vq *v, unsigned ri, size_t off, const void *src, size_t len);
/* Device address of driver memory, as the driver gives it to the device. */
uint64_t fz_vq_dev_addr(struct fz_vq *v, const void *p);
uint16_t fz_rd16(const unsigned char *p);
uint32_t fz_rd32(const unsigned char *p);
uint64_t fz_rd64(const unsigned char *p);
void fz_wr16(unsigned char *p, uint16_t v);
void fz_wr32(unsigned char *p, uint32_t v);

#endif /* VIO_FUZZ_ENGINE_VQ_H */
