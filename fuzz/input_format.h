/* SPDX-License-Identifier: MIT */
/*
 * The input-format constants the harnesses and the seed generator
 * (fuzz/gen_corpus.c) must agree on: action count, feature bits, op codes
 * and mode bits. See fuzz/README.md for the formats.
 */
#ifndef VIO_FUZZ_INPUT_FORMAT_H
#define VIO_FUZZ_INPUT_FORMAT_H

#define FZ_MAX_ACTIONS 256

/* Feature byte, all harnesses. */
#define FZ_FEAT_INDIRECT 0x01
#define FZ_FEAT_EVENT_IDX 0x02
#define FZ_FEAT_IN_ORDER 0x04
/* fuzz_devq_*: */
#define FZ_DEVQ_RAW_ADDRS 0x08 /* three u64 ring addresses follow the header */
#define FZ_DEVQ_RINGS_RO 0x10  /* ring regions map READ only */
#define FZ_DEVQ_MEMCFG 0x20    /* u8 memory mode + u32 seed follow the header */
#define FZ_DEVQ_TAKE_LONG 0x40 /* vio_devq_config::take_long_chains */
/* fuzz_vq_*: */
#define FZ_VQ_NOTIF_DATA 0x08 /* negotiate NOTIFICATION_DATA */
#define FZ_VQ_POOL 0x10	      /* give an indirect pool */
#define FZ_VQ_IDENTITY 0x20   /* mem_ops NULL: identity addresses */
#define FZ_VQ_RELEASE 0x40    /* dma_ops with a release hook (conversions tracked) */

/* fuzz_devq_*: extra region flags. */
#define FZ_RF_DIRS 0x03	 /* vio_map_dir bits; 0 means RW */
#define FZ_RF_ZERO 0x04	 /* contents are zero, not taken from the input */
#define FZ_RF_WHOLE 0x08 /* never cut into pieces (an indirect table pool) */
#define FZ_DEVQ_MAX_EXTRA 13
#define FZ_DEVQ_MAX_REGION 4096

/* fuzz_devq_*: the memory mode byte (with FZ_DEVQ_MEMCFG). */
#define FZ_MM_LAYOUT 0x03  /* FZ_LAYOUT_* below */
#define FZ_MM_PARTIAL 0x04 /* map grants part of a range now and then */
#define FZ_MM_AGAIN 0x08   /* map answers -VIO_EMAP_AGAIN now and then */
#define FZ_MM_RELEASE 0x10 /* map asks for release (most mappings) */
#define FZ_MM_BOUNCE 0x20  /* released buffer mappings are bounce copies */
#define FZ_MM_NOLOG 0x40   /* no log_write callback */
#define FZ_MM_CUT 0x80	   /* cut each extra region into 2-4 adjacent regions */
enum fz_layout {
	FZ_LAYOUT_CALLBACK = 0, /* no region table: the map callback only */
	FZ_LAYOUT_TABLE = 1,	/* the region table only (no map callback) */
	FZ_LAYOUT_MIXED = 2,	/* a table over part of memory, the callback for the rest */
	FZ_LAYOUT_MIXED2 = 3	/* same */
};
#define FZ_DEVQ_MAX_PIECES 4
#define FZ_DEVQ_MAX_SIZE 256 /* largest queue size an input selects */
#define FZ_DEVQ_MAX_TABLE 128
enum fz_devq_op {
	FZ_DQ_POP = 0,
	FZ_DQ_POP2 = 1, /* vio_devq_pop_batch() of two */
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
	/* 0.2 memory and safety contracts (appended; see fuzz/README.md). */
	FZ_DQ_SET_MEM_TABLE = 16,
	FZ_DQ_DROP = 17,
	FZ_DQ_FAIL = 18,
	FZ_DQ_LOG_WRITE = 19,
	FZ_DQ_PUSH_MISUSE = 20,
	FZ_DQ_SAVE_REPOP = 21,
	/* Issue #13 (appended). */
	FZ_DQ_PUSH_CHAINS = 22, /* vio_devq_push_chains() */
	FZ_DQ_NOPS = 23
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

#endif /* VIO_FUZZ_INPUT_FORMAT_H */
