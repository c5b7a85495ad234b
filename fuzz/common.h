/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the libFuzzer harnesses (compiled into every one of them
 * and into fuzz/gen_corpus.c): the input reader, a guarded guest memory,
 * invariant checks, and the input-format constants the seed generator and
 * the harnesses must agree on. See fuzz/README.md for the input formats.
 */
#ifndef VIO_FUZZ_COMMON_H
#define VIO_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

/* ------------------------------------------------------------------------ */
/* Failing an invariant                                                      */
/* ------------------------------------------------------------------------ */

/* Print what broke and trap (libFuzzer saves the input as a crash). */
_Noreturn void fz_fail(const char *what, const char *file, int line);

#define FZ_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fz_fail(#cond, __FILE__, __LINE__);                                        \
	} while (0)

/* FZ_TRACE=1 in the environment: print each action (for debugging a crash). */
bool fz_trace(void);

/* ------------------------------------------------------------------------ */
/* Input reader: past the end every read yields zeros.                       */
/* ------------------------------------------------------------------------ */

struct fz_in {
	const uint8_t *p;
	size_t n;
	size_t off;
};

void fz_in_init(struct fz_in *in, const uint8_t *p, size_t n);
bool fz_in_done(const struct fz_in *in);
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in); /* little-endian */
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);
/* Copy @len bytes (zero-filling what the input lacks). */
void fz_bytes(struct fz_in *in, void *dst, size_t len);

/* ------------------------------------------------------------------------ */
/* Guarded guest memory                                                      */
/* ------------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------------ */
/* Device-half invariants                                                    */
/* ------------------------------------------------------------------------ */

/* After a successful pop: the chain's shape is consistent and every segment
 * is a range the map callback granted, with that direction. Touches the
 * first and last byte of every segment (reads readable ones, writes writable
 * ones through fz_mem_poke_host so the shadow follows). */
void fz_check_chain(struct fz_mem *m, const struct vio_chain *c, const struct vio_chain_seg *segs,
		    uint16_t max_segs, uint16_t qsize);

/* Codes a device pop may return. */
bool fz_pop_rc_ok(int rc);
/* Codes a driver get may return. */
bool fz_get_rc_ok(int rc);

/* (slot, wrap) advance on a packed ring. */
void fz_packed_advance(uint16_t *slot, bool *wrap, unsigned n, uint16_t size);

/* ------------------------------------------------------------------------ */
/* Input formats (shared with fuzz/gen_corpus.c)                             */
/* ------------------------------------------------------------------------ */

#define FZ_MAX_ACTIONS 256

/* Feature byte, all harnesses. */
#define FZ_FEAT_INDIRECT 0x01
#define FZ_FEAT_EVENT_IDX 0x02
#define FZ_FEAT_IN_ORDER 0x04
/* fuzz_devq_*: */
#define FZ_DEVQ_RAW_ADDRS 0x08 /* three u64 ring addresses follow the header */
#define FZ_DEVQ_RINGS_RO 0x10  /* ring regions map READ only */
/* fuzz_vq_*: */
#define FZ_VQ_NOTIF_DATA 0x08 /* negotiate NOTIFICATION_DATA */
#define FZ_VQ_POOL 0x10	      /* give an indirect pool */
#define FZ_VQ_IDENTITY 0x20   /* dma_ops NULL: identity addresses */

/* fuzz_devq_*: extra region flags. */
#define FZ_RF_DIRS 0x03 /* vio_map_dir bits; 0 means RW */
#define FZ_RF_ZERO 0x04 /* contents are zero, not taken from the input */
#define FZ_DEVQ_MAX_EXTRA 13
#define FZ_DEVQ_MAX_REGION 4096

enum fz_devq_op {
	FZ_DQ_POP = 0,
	FZ_DQ_POP2 = 1,
	FZ_DQ_PUSH = 2,
	FZ_DQ_PUSH_BATCH = 3,
	FZ_DQ_NEEDS_NOTIFY = 4,
	FZ_DQ_ENABLE_NOTIFY = 5,
	FZ_DQ_DISABLE_NOTIFY = 6,
	FZ_DQ_HAS_AVAIL = 7,
	FZ_DQ_SAVE_RESTORE = 8,
	FZ_DQ_SET_STATE = 9,
	FZ_DQ_RESET = 10,
	FZ_DQ_DRV_WRITE = 11,
	FZ_DQ_DRV_PUBLISH = 12,
	FZ_DQ_DRV_DESC = 13,
	FZ_DQ_REINIT = 14,
	FZ_DQ_DRV_EVENT = 15,
	FZ_DQ_NOPS = 16
};

enum fz_vq_op {
	FZ_VQ_ADD = 0,
	FZ_VQ_ADD2 = 1,
	FZ_VQ_GET = 2,
	FZ_VQ_DEV_COMPLETE = 3,
	FZ_VQ_DEV_PUBLISH = 4,
	FZ_VQ_DEV_RAW = 5,
	FZ_VQ_KICK = 6,
	FZ_VQ_DISABLE_INTR = 7,
	FZ_VQ_ENABLE_INTR = 8,
	FZ_VQ_ENABLE_INTR_DELAYED = 9,
	FZ_VQ_HAS_USED = 10,
	FZ_VQ_DETACH_ONE = 11,
	FZ_VQ_DETACH_ALL = 12,
	FZ_VQ_RESET = 13,
	FZ_VQ_DEV_EVENT = 14,
	FZ_VQ_GET_ALL = 15,
	FZ_VQ_NOPS = 16
};

/* FZ_VQ_DEV_COMPLETE mode bits. */
#define FZ_CM_RAW_ID 0x01   /* u16 id follows */
#define FZ_CM_LEN_MASK 0x06 /* 0: all writable bytes, 2: 0, 4: half, 6: u32 follows */
#define FZ_CM_NO_WRITE 0x08 /* packed: leave WRITE out of the flags */
#define FZ_CM_BAD_WRAP 0x10 /* packed: flags for the other wrap counter */
#define FZ_CM_HOLD 0x20	    /* split: do not publish the used index yet */
#define FZ_CM_ANY 0x40	    /* pick among all outstanding (even completed) */
#define FZ_CM_BATCH 0x80    /* IN_ORDER: one entry for the u8-given count of oldest buffers */

/* The error the driver-side memory callback injects. */
#define FZ_INJECTED_ERR (-VIO_ERING_MAP)

enum fz_diff_op {
	FZ_DF_ADD = 0,
	FZ_DF_ADD2 = 1,
	FZ_DF_POP = 2,
	FZ_DF_PUSH = 3,
	FZ_DF_PUSH_BATCH = 4,
	FZ_DF_GET = 5,
	FZ_DF_KICK = 6,
	FZ_DF_NEEDS_NOTIFY = 7,
	FZ_DF_ENABLE_INTR = 8,
	FZ_DF_DISABLE_INTR = 9,
	FZ_DF_ENABLE_INTR_DELAYED = 10,
	FZ_DF_ENABLE_NOTIFY = 11,
	FZ_DF_DISABLE_NOTIFY = 12,
	FZ_DF_RESET = 13,
	FZ_DF_HAS = 14,
	FZ_DF_POP_ALL = 15,
	FZ_DF_NOPS = 16
};

/* ------------------------------------------------------------------------ */
/* Device-half harness engine (fuzz_devq_split.c, fuzz_devq_packed.c)        */
/* ------------------------------------------------------------------------ */

struct fz_devq;

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
	unsigned nheld;
	struct vio_chain held[FZ_MAX_ACTIONS];
};

/* Run one input through a device queue of format @f. */
int fz_devq_run(const struct fz_devq_fmt *f, const uint8_t *data, size_t size);
/* Host pointer of [addr, addr + len) of driver memory, or NULL. */
unsigned char *fz_devq_host(struct fz_devq *d, uint64_t addr, size_t len);
/* The harness, as the driver, writes driver memory (host and shadow). */
bool fz_devq_poke(struct fz_devq *d, uint64_t addr, const void *src, size_t len);
/* Device address for a descriptor written by a hostile-driver action: inside
 * (or just past) one of the regions. */
uint64_t fz_devq_pick_addr(struct fz_devq *d, uint8_t region, uint16_t off);

/* ------------------------------------------------------------------------ */
/* Driver-half harness engine (fuzz_vq_split_used.c, fuzz_vq_packed_used.c)  */
/* ------------------------------------------------------------------------ */

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
	uint8_t state;
};

#define FZ_VQ_DATA_LEN 4096
#define FZ_VQ_MAX_SEGS 600
#define FZ_VQ_FIFO 1024

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
	/* The length the driver must report for what write_used wrote. */
	uint32_t (*expect_len)(uint32_t len, uint8_t mode);
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

/* Ring geometry shared by the device- and driver-half harnesses: the queue
 * size an input selector picks (split: a power of two 1 .. 256; packed:
 * any of 1 .. 256) and the bytes of the descriptor, driver and device
 * areas for a size. */
uint16_t fz_split_size(uint16_t sel);
uint16_t fz_packed_size(uint16_t sel);
void fz_split_ring_sizes(uint16_t size, size_t len[3]);
void fz_packed_ring_sizes(uint16_t size, size_t len[3]);

#endif /* VIO_FUZZ_COMMON_H */
