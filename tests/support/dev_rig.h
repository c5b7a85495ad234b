/* SPDX-License-Identifier: MIT */
/* Test support: a device core with a virtio-mmio register model in front
 * and a tiny device model behind it ("rig"), plus a driver that speaks to
 * it only through register accesses, as a guest would through a VMM's trap
 * handler, and puts requests on its queues with the library's driver half
 * in a fake guest memory (guest_mem.h).
 *
 * The model serves a queue inline from its notify callback: every chain
 * popped gets each writable byte k set to (RIG_FILL + k) and is pushed with
 * all writable bytes written, through vio_device_queue_push(). It counts
 * every callback and can be told to fail activate/suspend/queue_enable or to
 * veto features. Its configuration space is RIG_CONFIG_SIZE bytes: a 64-bit
 * "capacity" at 0 (read-only), a 32-bit writable field at 8 (the model
 * stores what the driver writes), and 4 read-only bytes at 12.
 *
 * A rig holds pointers into itself: do not copy or move it after rig_init(). */
#ifndef VIO_TEST_DEV_RIG_H
#define VIO_TEST_DEV_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/virtio.h>

#include "guest_mem.h"

#define RIG_MAXQ 4
#define RIG_CONFIG_SIZE 16
#define RIG_FILL 0x40
#define RIG_DEVICE_ID VIO_ID_RNG
#define RIG_VENDOR 0x1234abcdu

struct rig_model {
	struct vio_device *dev;
	unsigned activates, deactivates, resets, suspends, notifies, queue_enables, queue_stops;
	unsigned config_writes, validates;
	uint16_t last_notify_q;
	uint32_t last_notify_data;
	struct vio_features last_validated;
	int activate_rc, suspend_rc, queue_enable_rc, veto_rc; /* injected results */
	bool serve_on_notify;				       /* default true */
	bool hold; /* pop but do not push: keep chains in flight */
	struct vio_chain held[64];
	struct vio_chain_seg held_segs[64][4];
	unsigned nheld;
	unsigned served;
	int last_pop_rc;
	unsigned char config[RIG_CONFIG_SIZE];
};

struct rig {
	struct guest_mem gm;
	struct rig_model model;
	struct vio_device_info info;
	uint16_t qmax[RIG_MAXQ];
	struct vio_device *dev;
	void *dev_mem;
	size_t dev_mem_size;
	struct vio_mmio_dev *mmio;
	_Alignas(VIO_MMIO_DEV_MEM_ALIGN) unsigned char mmio_mem[VIO_MMIO_DEV_MEM_SIZE];
	/* The interrupt line as the VMM sees it. */
	bool line;
	unsigned line_calls, line_raises;
	/* Driver side. */
	struct vio_features negotiated;
	struct vio_vq *vq[RIG_MAXQ];
	void *vq_mem[RIG_MAXQ];
	void *ring_host[RIG_MAXQ][3];
	uint64_t ring_addr[RIG_MAXQ][3];
	unsigned char *data; /* 64 KiB of guest memory for buffers */
	uint64_t data_addr;
	size_t data_used;
};

/* A rig with @nq queues of maximum @qmax, offering @features (VERSION_1 is
 * added by the core). */
void rig_init(struct rig *r, uint16_t nq, uint16_t qmax, const struct vio_features *features);
void rig_fini(struct rig *r);

/* Register accesses the way a trap handler gets them (bytes in guest
 * memory order). rig_r32 fails the test on an error; rig_rd returns it. */
uint32_t rig_r32(struct rig *r, uint32_t off);
int rig_rd(struct rig *r, uint32_t off, unsigned size, uint64_t *v);
int rig_w32(struct rig *r, uint32_t off, uint32_t v);
int rig_wr(struct rig *r, uint32_t off, uint64_t v, unsigned size);

/* Features the device offers, read through DeviceFeaturesSel 0..3. */
struct vio_features rig_read_offer(struct rig *r);
/* Reset, ACKNOWLEDGE, DRIVER, write @want (all four windows), FEATURES_OK.
 * Returns the status read back. */
uint8_t rig_negotiate(struct rig *r, const struct vio_features *want);
/* Create driver queue @q of @size (format from the negotiated features) in
 * guest memory, program its registers and set QueueReady. Returns the last
 * register write's result. */
int rig_queue_setup(struct rig *r, uint16_t q, uint16_t size);
/* rig_negotiate, every queue of the device set up with @size, DRIVER_OK.
 * Returns the status read back. */
uint8_t rig_bringup(struct rig *r, const struct vio_features *want, uint16_t size);
/* Add a chain to driver queue @q: @out readable bytes (pattern) then @in
 * writable bytes; kick through QueueNotify (with notification data when
 * negotiated). Returns vio_vq_add's result. */
int rig_submit(struct rig *r, uint16_t q, uint32_t out, uint32_t in, void *token);
/* Take a used buffer from driver queue @q: 0 or vio_vq_get's error. */
int rig_collect(struct rig *r, uint16_t q, void **token, uint32_t *len);
/* Serve queue @q as the model does on a notification (pops everything). */
void rig_serve(struct rig *r, uint16_t q);

#endif
