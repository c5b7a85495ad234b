/* SPDX-License-Identifier: MIT */
/* vhost-user back end: the dispatcher that turns a front end's messages into
 * device-core calls (device.h), with every platform action behind
 * struct vio_vhost_user_backend_ops. Protocol: QEMU's
 * docs/interop/vhost-user.rst. Memory layout in the caller's buffer:
 *   struct vio_vhost_user_backend | nq x struct ring | the device core. */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/device.h>
#include <virtio/errors.h>
#include <virtio/features.h>
#include <virtio/port.h>
#include <virtio/queue.h>
#include <virtio/spec.h>
#include <virtio/vhost_user.h>
#include <virtio/vhost_user_backend.h>
#include <virtio/vhost_user_inflight.h>

#define ALIGN8(n) (((size_t)(n) + 7u) & ~(size_t)7u)
#define BIT64(n) ((uint64_t)1 << (n))

/* Protocol features this back end implements; INFLIGHT_SHMFD in addition
 * when the device model takes re-submitted chains (offered_protocol()). */
#define OFFERED_PROTOCOL                                                                           \
	(BIT64(VIO_VHOST_USER_PROTOCOL_F_MQ) | BIT64(VIO_VHOST_USER_PROTOCOL_F_LOG_SHMFD) |        \
	 BIT64(VIO_VHOST_USER_PROTOCOL_F_REPLY_ACK) | BIT64(VIO_VHOST_USER_PROTOCOL_F_CONFIG) |    \
	 BIT64(VIO_VHOST_USER_PROTOCOL_F_RESET_DEVICE))
#define INFLIGHT_BIT BIT64(VIO_VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD)

/* Feature bits that are vhost's, not the virtio device's. */
#define VHOST_BITS (BIT64(VIO_VHOST_USER_F_PROTOCOL_FEATURES) | BIT64(VIO_VHOST_F_LOG_ALL))

/* One ring as the front end configured it. The device core sees it only
 * while it is live (started and enabled). */
struct ring {
	struct vio_vhost_user_vring_addr addr; /* as sent (user addresses) */
	uint64_t used_gpa;		       /* device area, guest-physical, while live */
	uint32_t used_len;		       /* its length */
	uint32_t num;			       /* SET_VRING_NUM; 0: not set */
	uint32_t base;			       /* SET_VRING_BASE num, or where it stopped */
	int kick_fd, call_fd, err_fd;	       /* -1: none */
	bool have_addr;
	bool have_base;
	bool started; /* SET_VRING_KICK received, no GET_VRING_BASE since */
	bool kick_nofd;
	bool enabled;
	bool live; /* the device core's queue is enabled */
	/* Journal into the inflight region while the device queue exists. */
	struct vio_vhost_user_inflight_queue *iq;
	uint16_t resubmitted; /* chains the last attach found in flight */
};

/* One mapped region of a memory table. */
struct region {
	uint64_t uva;	 /* front-end user address of the first byte */
	uint64_t offset; /* mmap_offset, for unmap */
};

struct table {
	struct vio_mem_region vr[VIO_VHOST_USER_MAX_REGIONS]; /* given to the device core */
	struct region r[VIO_VHOST_USER_MAX_REGIONS];
	uint32_t n;
};

struct vio_vhost_user_backend {
	const struct vio_vhost_user_backend_ops *ops;
	void *ctx;
	struct vio_device *dev;
	struct ring *rings;
	uint16_t nq;
	enum vio_vhost_user_base_conv conv;

	struct table tab[2]; /* the live one and the one being built */
	unsigned cur;	     /* index of the live table */
	bool have_table;

	uint64_t protocol;   /* negotiated protocol features */
	uint64_t features;   /* the last SET_FEATURES, vhost bits included */
	bool features_set;   /* SET_FEATURES succeeded since the last reset */
	bool log_all;	     /* VHOST_F_LOG_ALL in force */
	unsigned char *log;  /* the dirty bitmap, or NULL */
	uint64_t log_size;   /* bytes */
	uint64_t log_offset; /* for unmap */

	/* INFLIGHT_SHMFD: offered at all; the SET_INFLIGHT_FD mapping. */
	bool inflight_ok;
	unsigned char *iq_mem; /* nq x iq_size bytes: each ring's journal object */
	size_t iq_size;
	struct {
		unsigned char *host; /* NULL: none */
		uint64_t size, offset;
		uint16_t num_queues, queue_size;
		enum vio_ring_format fmt;
	} infl;
};

/* ---- Memory and sizes ------------------------------------------------------ */

static bool cfg_ok(const struct vio_vhost_user_backend_config *cfg)
{
	return cfg != NULL && cfg->info != NULL && cfg->ops != NULL && cfg->ops->map != NULL &&
	       cfg->ops->unmap != NULL && cfg->ops->close_fd != NULL &&
	       cfg->info->num_queues <= VIO_VHOST_USER_MAX_QUEUES &&
	       (cfg->info->num_queues == 0 || cfg->info->queue_max != NULL);
}

/* INFLIGHT_SHMFD is offered when the model serves re-submitted chains,
 * the platform can create shared memory, and the embedder did not opt out. */
static bool inflight_ok(const struct vio_vhost_user_backend_config *cfg)
{
	return cfg->info->takes_resubmitted && cfg->ops->create_shm != NULL && !cfg->no_inflight &&
	       cfg->info->num_queues > 0;
}

/* Private memory of one ring's journal object: enough for either format at
 * the largest queue. 0 without inflight. */
static size_t iq_size(const struct vio_vhost_user_backend_config *cfg)
{
	if (!inflight_ok(cfg))
		return 0;
	size_t m = 0;
	for (uint16_t q = 0; q < cfg->info->num_queues; q++) {
		size_t a =
			vio_vhost_user_inflight_mem_size(VIO_RING_SPLIT, cfg->info->queue_max[q]);
		size_t b =
			vio_vhost_user_inflight_mem_size(VIO_RING_PACKED, cfg->info->queue_max[q]);
		if (a > m)
			m = a;
		if (b > m)
			m = b;
	}
	return ALIGN8(m);
}

static size_t rings_offset(void)
{
	return ALIGN8(sizeof(struct vio_vhost_user_backend));
}

static size_t iq_offset(uint16_t nq)
{
	return rings_offset() + ALIGN8(sizeof(struct ring) * nq);
}

static size_t device_offset(const struct vio_vhost_user_backend_config *cfg)
{
	return iq_offset(cfg->info->num_queues) + (size_t)cfg->info->num_queues * iq_size(cfg);
}

/* The device description with the back end's memory hooks. */
static const struct vio_mem_ops be_mem_ops;

static struct vio_device_info device_info(const struct vio_vhost_user_backend_config *cfg,
					  struct vio_vhost_user_backend *be)
{
	struct vio_device_info info = *cfg->info;
	info.regions = NULL;
	info.nregions = 0;
	info.mem_ops = &be_mem_ops;
	info.mem_ctx = be;
	return info;
}

size_t vio_vhost_user_backend_mem_size(const struct vio_vhost_user_backend_config *cfg)
{
	if (!cfg_ok(cfg))
		return 0;
	struct vio_device_info info = device_info(cfg, NULL);
	size_t dev = vio_device_mem_size(&info);
	if (dev == 0)
		return 0;
	return device_offset(cfg) + dev;
}

/* ---- The device core's transport hooks -------------------------------------- */

static void signal_fd(struct vio_vhost_user_backend *be, int fd)
{
	if (fd >= 0 && be->ops->signal != NULL)
		be->ops->signal(be->ctx, fd);
}

static void t_interrupt(void *ctx, enum vio_device_irq kind, uint16_t queue)
{
	struct vio_vhost_user_backend *be = ctx;
	if (kind == VIO_DEVICE_IRQ_QUEUE) {
		if (queue < be->nq)
			signal_fd(be, be->rings[queue].call_fd);
		return;
	}
	/* A configuration change: vhost-user carries it on the back-end
	 * channel (not offered). The one that matters is DEVICE_NEEDS_RESET
	 * (a queue broke, §2.1.2): tell the front end through the live rings'
	 * error fds. */
	if ((vio_device_status(be->dev) & VIO_STATUS_DEVICE_NEEDS_RESET) == 0)
		return;
	for (uint16_t q = 0; q < be->nq; q++)
		if (be->rings[q].live)
			signal_fd(be, be->rings[q].err_fd);
}

static void t_reset(void *ctx)
{
	(void)ctx; /* no transport registers */
}

static const struct vio_device_transport be_transport = {t_interrupt, t_reset};

/* ---- Inflight: the device core's queue hooks ---------------------------------- */

static bool packed(const struct vio_vhost_user_backend *be);

/* Queue q's device queue exists: journal it into its part of the region
 * (which also sets the position, from the region when chains were in
 * flight), or just set the position without a region. */
static int h_start(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq,
		   const struct vio_ring_state *pos)
{
	(void)dev;
	struct vio_vhost_user_backend *be = ctx;
	struct ring *r = &be->rings[q];
	r->iq = NULL;
	r->resubmitted = 0;
	if (be->infl.host == NULL || q >= be->infl.num_queues)
		return pos != NULL ? vio_devq_set_state(dq, pos) : 0;
	enum vio_ring_format fmt = packed(be) ? VIO_RING_PACKED : VIO_RING_SPLIT;
	if (fmt != be->infl.fmt)
		return -VIO_EINFLIGHT_HEADER; /* features changed since SET_INFLIGHT_FD */
	uint64_t part_len = 0;
	void *part = vio_vhost_user_inflight_queue_region(be->infl.host, be->infl.size, fmt,
							  be->infl.queue_size, q, &part_len);
	if (part == NULL)
		return -VIO_EINFLIGHT_HEADER;
	struct vio_vhost_user_inflight_info info;
	int rc = vio_vhost_user_inflight_attach(&r->iq, be->iq_mem + (size_t)q * be->iq_size,
						be->iq_size, part, part_len, dq, pos, &info);
	if (rc != 0) {
		r->iq = NULL;
		return rc;
	}
	r->resubmitted = info.resubmit;
	return info.resubmit > 0 ? 1 : 0;
}

static int h_resubmit(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq,
		      struct vio_chain *chain, struct vio_chain_seg *segs, uint16_t max_segs)
{
	(void)dev;
	struct vio_vhost_user_backend *be = ctx;
	struct ring *r = &be->rings[q];
	if (r->iq == NULL)
		return -VIO_EAGAIN;
	return vio_vhost_user_inflight_resubmit(r->iq, dq, chain, segs, max_segs);
}

static void h_stop(void *ctx, struct vio_device *dev, uint16_t q, struct vio_devq *dq)
{
	(void)dev;
	struct vio_vhost_user_backend *be = ctx;
	struct ring *r = &be->rings[q];
	if (r->iq == NULL)
		return;
	/* Chains the model dropped stay in flight: detach refuses then, and
	 * vio_devq_fini() follows anyway; the region keeps them for the next
	 * attach. */
	(void)vio_vhost_user_inflight_detach(r->iq, dq);
	r->iq = NULL;
}

static const struct vio_device_queue_hooks be_hooks = {h_start, h_resubmit, h_stop};

static void inflight_unmap(struct vio_vhost_user_backend *be)
{
	if (be->infl.host != NULL)
		be->ops->unmap(be->ctx, be->infl.host, be->infl.offset, be->infl.size);
	be->infl.host = NULL;
	be->infl.size = 0;
}

/* ---- Dirty log ------------------------------------------------------------- */

static void log_pages(struct vio_vhost_user_backend *be, uint64_t addr, uint64_t len)
{
	uint64_t last = addr + (len - 1u);
	if (last < addr)
		last = UINT64_MAX; /* clamp a range that wraps */
	uint64_t first_page = addr / VIO_VHOST_LOG_PAGE, last_page = last / VIO_VHOST_LOG_PAGE;
	for (uint64_t page = first_page; page <= last_page; page++) {
		uint64_t byte = page / 8u;
		if (byte >= be->log_size)
			return; /* beyond the log the front end gave: nothing to mark */
		/* vhost-user.rst "Migration": use atomic operations, the front
		 * end clears bits concurrently. */
		_Atomic unsigned char *p = (_Atomic unsigned char *)(void *)(be->log + byte);
		atomic_fetch_or_explicit(p, (unsigned char)(1u << (page % 8u)),
					 memory_order_relaxed);
		if (page == UINT64_MAX)
			return;
	}
}

static void be_log_write(void *ctx, uint64_t addr, uint64_t len)
{
	struct vio_vhost_user_backend *be = ctx;
	if (!be->log_all || be->log == NULL || len == 0)
		return;
	/* Used-ring writes of a ring with VHOST_VRING_F_LOG are logged at its
	 * log_guest_addr (vhost-user.rst "Migration"). */
	for (uint16_t q = 0; q < be->nq; q++) {
		const struct ring *r = &be->rings[q];
		if (!r->live || (r->addr.flags & VIO_VHOST_VRING_F_LOG) == 0)
			continue;
		if (addr >= r->used_gpa && addr - r->used_gpa < r->used_len) {
			addr = r->addr.log_guest_addr + (addr - r->used_gpa);
			break;
		}
	}
	log_pages(be, addr, len);
}

static const struct vio_mem_ops be_mem_ops = {NULL, NULL, be_log_write};

static void log_unmap(struct vio_vhost_user_backend *be)
{
	if (be->log != NULL)
		be->ops->unmap(be->ctx, be->log, be->log_offset, be->log_size);
	be->log = NULL;
	be->log_size = 0;
}

/* ---- Init ------------------------------------------------------------------- */

static void ring_clear(struct ring *r)
{
	VIO_MEMSET(r, 0, sizeof(*r));
	r->kick_fd = r->call_fd = r->err_fd = -1;
}

int vio_vhost_user_backend_init(struct vio_vhost_user_backend **bep, void *mem, size_t mem_size,
				const struct vio_vhost_user_backend_config *cfg)
{
	if (bep == NULL || mem == NULL || ((uintptr_t)mem % VIO_VHOST_USER_BACKEND_MEM_ALIGN) != 0)
		return -VIO_EINVAL;
	size_t need = vio_vhost_user_backend_mem_size(cfg);
	if (need == 0 || mem_size < need)
		return -VIO_EINVAL;
	unsigned char *base = mem;
	struct vio_vhost_user_backend *be = mem;
	VIO_MEMSET(be, 0, sizeof(*be));
	be->ops = cfg->ops;
	be->ctx = cfg->ctx;
	be->nq = cfg->info->num_queues;
	be->conv = VIO_VHOST_USER_BASE_AUTO;
	be->rings = (struct ring *)(void *)(base + rings_offset());
	for (uint16_t q = 0; q < be->nq; q++)
		ring_clear(&be->rings[q]);
	be->inflight_ok = inflight_ok(cfg);
	be->iq_size = iq_size(cfg);
	be->iq_mem = base + iq_offset(be->nq);
	struct vio_device_info info = device_info(cfg, be);
	size_t off = device_offset(cfg);
	int rc = vio_device_init(&be->dev, base + off, mem_size - off, &info);
	if (rc != 0)
		return rc;
	/* vhost-user carries none of the transport-dependent bits
	 * (notification data, queue reset, SR-IOV, admin queues). */
	vio_device_set_transport(be->dev, &be_transport, be, NULL);
	vio_device_set_queue_hooks(be->dev, &be_hooks, be);
	*bep = be;
	return 0;
}

struct vio_device *vio_vhost_user_backend_device(struct vio_vhost_user_backend *be)
{
	return be->dev;
}

void vio_vhost_user_backend_set_base_conv(struct vio_vhost_user_backend *be,
					  enum vio_vhost_user_base_conv conv)
{
	be->conv = conv;
}

/* ---- Features --------------------------------------------------------------- */

/* The virtio bits offered to the front end: the device core's offer, first
 * 64 bits (vhost-user carries a u64), without what this transport cannot
 * do: ACCESS_PLATFORM needs the IOTLB messages, SUSPEND a status register. */
static uint64_t offered_device_bits(const struct vio_vhost_user_backend *be)
{
	uint64_t f = (uint64_t)vio_device_offered_word(be->dev, 0) |
		     ((uint64_t)vio_device_offered_word(be->dev, 1) << 32);
	f &= ~(BIT64(VIO_F_ACCESS_PLATFORM) | BIT64(VIO_F_SUSPEND) | VHOST_BITS);
	return f;
}

static uint64_t offered_protocol(const struct vio_vhost_user_backend *be)
{
	return OFFERED_PROTOCOL | (be->inflight_ok ? INFLIGHT_BIT : 0);
}

static bool packed(const struct vio_vhost_user_backend *be)
{
	return (be->features & BIT64(VIO_F_RING_PACKED)) != 0;
}

static bool proto_negotiated(const struct vio_vhost_user_backend *be)
{
	return (be->features & BIT64(VIO_VHOST_USER_F_PROTOCOL_FEATURES)) != 0;
}

/* ---- Rings ------------------------------------------------------------------- */

/* Front-end user range [uva, uva + len) -> guest-physical, through the live
 * table; the whole range inside one region (len 0: the address alone). */
static int uva_to_gpa(const struct vio_vhost_user_backend *be, uint64_t uva, uint64_t len,
		      uint64_t *gpa)
{
	const struct table *t = &be->tab[be->cur];
	for (uint32_t i = 0; be->have_table && i < t->n; i++) {
		uint64_t start = t->r[i].uva, off = uva - start;
		if (uva >= start && off < t->vr[i].size) {
			if (len > t->vr[i].size - off)
				return -VIO_EVHOST_ADDR;
			*gpa = t->vr[i].guest_addr + off;
			return 0;
		}
	}
	return -VIO_EVHOST_ADDR;
}

static bool ring_configured(const struct vio_vhost_user_backend *be, const struct ring *r)
{
	return be->features_set && be->have_table && r->num != 0 && r->have_addr;
}

/* Stop a live ring: its position becomes its base, so that enabling it
 * again (or GET_VRING_BASE) continues from there. */
static void ring_stop(struct vio_vhost_user_backend *be, uint16_t q)
{
	struct ring *r = &be->rings[q];
	if (!r->live)
		return;
	struct vio_ring_state st;
	uint32_t num;
	if (vio_device_queue_get_state(be->dev, q, &st) == 0 &&
	    vio_vhost_user_vring_base_encode(&st, packed(be) ? VIO_RING_PACKED : VIO_RING_SPLIT,
					     (uint16_t)r->num, &num) == 0) {
		r->base = num;
		r->have_base = true;
	}
	(void)vio_device_queue_set_ready(be->dev, q, false);
	r->live = false;
}

/* Make a started and enabled ring live in the device core. */
static int ring_try_start(struct vio_vhost_user_backend *be, uint16_t q)
{
	struct ring *r = &be->rings[q];
	if (r->live || !r->started || !r->enabled)
		return 0;
	if (!ring_configured(be, r))
		return -VIO_EVHOST_ORDER;
	/* Every ring part inside one region and aligned (virtio 1.4 §2.7 table
	 * "Virtqueue Part Alignment", §2.8.10): checked here, before the
	 * device core sees the ring, so that a bad address from the front end
	 * fails this ring only and does not set DEVICE_NEEDS_RESET. */
	bool pk = packed(be);
	const uint64_t len[3] = {16u * (uint64_t)r->num, pk ? 4u : 6u + 2u * (uint64_t)r->num,
				 pk ? 4u : 6u + 8u * (uint64_t)r->num};
	const uint64_t align[3] = {16u, pk ? 4u : 2u, 4u};
	const uint64_t uva[3] = {r->addr.desc_user_addr, r->addr.avail_user_addr,
				 r->addr.used_user_addr};
	uint64_t a[3];
	for (unsigned i = 0; i < 3; i++) {
		if (uva_to_gpa(be, uva[i], len[i], &a[i]) != 0)
			return -VIO_EVHOST_ADDR;
		if ((a[i] & (align[i] - 1u)) != 0)
			return -VIO_ERING_ALIGN;
	}
	uint64_t used = a[2];
	struct vio_device *dev = be->dev;
	int rc = vio_device_queue_set_size(dev, q, r->num);
	static const enum vio_device_area area[3] = {VIO_DEVICE_AREA_DESC, VIO_DEVICE_AREA_DRIVER,
						     VIO_DEVICE_AREA_DEVICE};
	for (unsigned i = 0; rc == 0 && i < 3; i++) {
		rc = vio_device_queue_set_addr32(dev, q, area[i], false, (uint32_t)a[i]);
		if (rc == 0)
			rc = vio_device_queue_set_addr32(dev, q, area[i], true,
							 (uint32_t)(a[i] >> 32));
	}
	if (rc != 0)
		return rc;
	enum vio_ring_format fmt = pk ? VIO_RING_PACKED : VIO_RING_SPLIT;
	if (r->have_base) {
		struct vio_ring_state st;
		rc = vio_vhost_user_vring_base_decode(r->base, fmt, (uint16_t)r->num, be->conv,
						      &st);
		if (rc == 0)
			rc = vio_device_queue_enable_at(dev, q, &st);
	} else {
		rc = vio_device_queue_set_ready(dev, q, true);
	}
	if (rc != 0)
		return rc;
	r->used_gpa = used;
	r->used_len = (uint32_t)len[2];
	r->live = true;
	return 0;
}

/* A ring that cannot go on: tell the front end on its error fd. */
static int ring_failed(struct vio_vhost_user_backend *be, uint16_t q, int rc)
{
	if (rc != 0)
		signal_fd(be, be->rings[q].err_fd);
	return rc;
}

static void replace_fd(struct vio_vhost_user_backend *be, int *slot, int fd)
{
	if (*slot >= 0)
		be->ops->close_fd(be->ctx, *slot);
	*slot = fd;
}

/* Every ring stopped and forgotten; fds closed. */
static void rings_reset(struct vio_vhost_user_backend *be)
{
	for (uint16_t q = 0; q < be->nq; q++) {
		struct ring *r = &be->rings[q];
		ring_stop(be, q);
		replace_fd(be, &r->kick_fd, -1);
		replace_fd(be, &r->call_fd, -1);
		replace_fd(be, &r->err_fd, -1);
		ring_clear(r);
	}
}

static void device_reset(struct vio_vhost_user_backend *be)
{
	rings_reset(be);
	vio_device_reset(be->dev);
	be->features_set = false;
	be->features = 0;
	be->log_all = false;
}

/* ---- Memory table ------------------------------------------------------------- */

static bool ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen; /* no wrap: checked before */
}

static int table_check(const struct vio_vhost_user_memory *m)
{
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vio_vhost_user_mem_region *a = &m->regions[i];
		if (a->memory_size == 0 ||
		    a->guest_phys_addr + a->memory_size < a->guest_phys_addr ||
		    a->user_addr + a->memory_size < a->user_addr ||
		    a->mmap_offset + a->memory_size < a->mmap_offset)
			return -VIO_EVHOST_MEM_TABLE;
		/* A range ending exactly at 2^64 wraps to 0 above: refused too,
		 * which keeps every end representable. */
		if (a->guest_phys_addr + a->memory_size == 0 || a->user_addr + a->memory_size == 0)
			return -VIO_EVHOST_MEM_TABLE;
		for (uint32_t j = 0; j < i; j++) {
			const struct vio_vhost_user_mem_region *b = &m->regions[j];
			if (ranges_overlap(a->guest_phys_addr, a->memory_size, b->guest_phys_addr,
					   b->memory_size) ||
			    ranges_overlap(a->user_addr, a->memory_size, b->user_addr,
					   b->memory_size))
				return -VIO_EVHOST_MEM_TABLE;
		}
	}
	return 0;
}

static void table_unmap(struct vio_vhost_user_backend *be, struct table *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		be->ops->unmap(be->ctx, t->vr[i].host, t->r[i].offset, t->vr[i].size);
	t->n = 0;
}

static int set_mem_table(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	const struct vio_vhost_user_memory *mem = &m->payload.memory;
	int rc = table_check(mem);
	if (rc != 0)
		return rc;
	struct table *t = &be->tab[be->cur ^ 1u];
	t->n = 0;
	for (uint32_t i = 0; i < mem->nregions; i++) {
		const struct vio_vhost_user_mem_region *g = &mem->regions[i];
		void *host = NULL;
		rc = be->ops->map(be->ctx, m->fds[i], g->mmap_offset, g->memory_size, &host);
		if (rc != 0 || host == NULL) {
			table_unmap(be, t);
			return rc != 0 ? rc : -VIO_EVHOST_SYS;
		}
		t->vr[i] = (struct vio_mem_region){g->guest_phys_addr, g->memory_size, host,
						   VIO_MAP_RW};
		t->r[i] = (struct region){g->user_addr, g->mmap_offset};
		t->n = i + 1;
	}
	/* Live rings move to the new table at their position: stop them (the
	 * device core's precondition for a new table), switch, start again. */
	bool was_live[VIO_VHOST_USER_MAX_QUEUES];
	for (uint16_t q = 0; q < be->nq; q++) {
		was_live[q] = be->rings[q].live;
		ring_stop(be, q);
	}
	rc = vio_device_set_mem_table(be->dev, t->vr, t->n); /* no queue enabled: cannot fail */
	struct table *old = &be->tab[be->cur];
	bool had = be->have_table;
	be->cur ^= 1u;
	be->have_table = true;
	int first = rc;
	for (uint16_t q = 0; q < be->nq; q++) {
		if (!was_live[q])
			continue;
		int r = ring_failed(be, q, ring_try_start(be, q));
		if (r != 0 && first == 0)
			first = r;
	}
	if (had)
		table_unmap(be, old);
	return first;
}

/* ---- Requests ---------------------------------------------------------------- */

static int set_features(struct vio_vhost_user_backend *be, uint64_t f)
{
	uint64_t dev_bits = f & ~VHOST_BITS;
	if ((dev_bits & ~offered_device_bits(be)) != 0)
		return -VIO_EFEATURES;
	unsigned st = vio_device_status(be->dev);
	bool healthy = (st & VIO_STATUS_DRIVER_OK) != 0 &&
		       (st & (VIO_STATUS_DEVICE_NEEDS_RESET | VIO_STATUS_FAILED)) == 0;
	if (be->features_set && healthy && dev_bits == (be->features & ~VHOST_BITS)) {
		/* The same device features again (QEMU toggling LOG_ALL for a
		 * migration): only the vhost bits change. */
		be->features = f;
		be->log_all = (f & BIT64(VIO_VHOST_F_LOG_ALL)) != 0;
		return 0;
	}
	for (uint16_t q = 0; q < be->nq; q++)
		if (be->rings[q].started)
			return -VIO_EVHOST_ORDER; /* renegotiating under running rings */
	/* The virtio initialisation (§3.1.1) on the device core, in one go:
	 * vhost-user has no device status of its own. */
	vio_device_reset(be->dev);
	be->features_set = false;
	struct vio_device *dev = be->dev;
	uint8_t s = VIO_STATUS_ACKNOWLEDGE;
	int rc = vio_device_set_status(dev, s);
	s |= VIO_STATUS_DRIVER;
	if (rc == 0)
		rc = vio_device_set_status(dev, s);
	if (rc == 0)
		rc = vio_device_set_driver_word(dev, 0, (uint32_t)dev_bits);
	if (rc == 0)
		rc = vio_device_set_driver_word(dev, 1, (uint32_t)(dev_bits >> 32));
	s |= VIO_STATUS_FEATURES_OK;
	if (rc == 0)
		rc = vio_device_set_status(dev, s);
	if (rc == 0 && (vio_device_status(dev) & VIO_STATUS_FEATURES_OK) == 0)
		rc = -VIO_EFEATURES_VETO;
	s |= VIO_STATUS_DRIVER_OK;
	if (rc == 0)
		rc = vio_device_set_status(dev, s);
	if (rc != 0) {
		vio_device_reset(dev);
		return rc;
	}
	be->features = f;
	be->features_set = true;
	be->log_all = (f & BIT64(VIO_VHOST_F_LOG_ALL)) != 0;
	return 0;
}

static int queue_index(const struct vio_vhost_user_backend *be, uint32_t index, uint16_t *q)
{
	if (index >= be->nq)
		return -VIO_EVHOST_QUEUE;
	*q = (uint16_t)index;
	return 0;
}

static int set_vring_num(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	uint16_t q;
	int rc = queue_index(be, m->payload.state.index, &q);
	if (rc != 0)
		return rc;
	struct ring *r = &be->rings[q];
	if (r->live)
		return -VIO_EVHOST_ORDER;
	uint32_t num = m->payload.state.num;
	if (num == 0 || num > vio_device_queue_max(be->dev, q))
		return -VIO_EQUEUE_SIZE;
	r->num = num;
	return 0;
}

static int set_vring_base(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	uint16_t q;
	int rc = queue_index(be, m->payload.state.index, &q);
	if (rc != 0)
		return rc;
	struct ring *r = &be->rings[q];
	if (r->live)
		return -VIO_EVHOST_ORDER;
	uint32_t num = m->payload.state.num;
	if (be->features_set && r->num != 0) {
		/* Checkable now; it is checked again at start otherwise. */
		struct vio_ring_state st;
		rc = vio_vhost_user_vring_base_decode(num,
						      packed(be) ? VIO_RING_PACKED : VIO_RING_SPLIT,
						      (uint16_t)r->num, be->conv, &st);
		if (rc != 0)
			return rc;
	}
	r->base = num;
	r->have_base = true;
	return 0;
}

static int get_vring_base(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m,
			  struct vio_vhost_user_reply *out)
{
	uint16_t q;
	int rc = queue_index(be, m->payload.state.index, &q);
	if (rc != 0) {
		out->close = true; /* no position to answer with */
		return rc;
	}
	struct ring *r = &be->rings[q];
	/* vhost-user.rst "Ring states": GET_VRING_BASE stops the ring. */
	ring_stop(be, q);
	r->started = false;
	r->kick_nofd = false;
	replace_fd(be, &r->kick_fd, -1);
	uint32_t num = 0;
	if (r->have_base) {
		num = r->base;
	} else if (be->features_set && packed(be) && r->num != 0) {
		/* A packed ring that never moved: both wrap counters set. */
		struct vio_ring_state st = {0, 0, true, true, 0};
		(void)vio_vhost_user_vring_base_encode(&st, VIO_RING_PACKED, (uint16_t)r->num,
						       &num);
	}
	out->send = true;
	out->msg.hdr.size = (uint32_t)sizeof(out->msg.payload.state);
	out->msg.payload.state.index = q;
	out->msg.payload.state.num = num;
	return 0;
}

static int set_vring_addr(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	const struct vio_vhost_user_vring_addr *a = &m->payload.addr;
	uint16_t q;
	int rc = queue_index(be, a->index, &q);
	if (rc != 0)
		return rc;
	if (!be->have_table)
		return -VIO_EVHOST_ORDER; /* user addresses mean nothing yet */
	if ((a->flags & ~(uint32_t)VIO_VHOST_VRING_F_LOG) != 0)
		return -VIO_EINVAL;
	uint64_t gpa;
	if (uva_to_gpa(be, a->desc_user_addr, 0, &gpa) != 0 ||
	    uva_to_gpa(be, a->avail_user_addr, 0, &gpa) != 0 ||
	    uva_to_gpa(be, a->used_user_addr, 0, &gpa) != 0)
		return -VIO_EVHOST_ADDR;
	struct ring *r = &be->rings[q];
	bool same = r->have_addr && r->addr.desc_user_addr == a->desc_user_addr &&
		    r->addr.avail_user_addr == a->avail_user_addr &&
		    r->addr.used_user_addr == a->used_user_addr;
	if (r->live && !same) {
		/* New places for a running ring: restart it there, at its
		 * position. */
		ring_stop(be, q);
		r->addr = *a;
		r->have_addr = true;
		return ring_failed(be, q, ring_try_start(be, q));
	}
	/* Same rings (QEMU toggling VHOST_VRING_F_LOG), or a stopped ring. */
	r->addr = *a;
	r->have_addr = true;
	return 0;
}

/* SET_VRING_KICK/CALL/ERR: index in bits 0-7, NOFD in bit 8. */
static int vring_fd_msg(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m,
			uint16_t *q, int *fd, bool *nofd)
{
	uint64_t v = m->payload.u64;
	*nofd = (v & VIO_VHOST_USER_VRING_NOFD_MASK) != 0;
	*fd = *nofd ? -1 : m->fds[0];
	if ((v & ~(uint64_t)(VIO_VHOST_USER_VRING_IDX_MASK | VIO_VHOST_USER_VRING_NOFD_MASK)) != 0)
		return -VIO_EINVAL;
	return queue_index(be, (uint32_t)(v & VIO_VHOST_USER_VRING_IDX_MASK), q);
}

static int set_vring_kick(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m,
			  bool *kept)
{
	uint16_t q;
	int fd;
	bool nofd;
	int rc = vring_fd_msg(be, m, &q, &fd, &nofd);
	if (rc != 0)
		return rc;
	struct ring *r = &be->rings[q];
	if (!ring_configured(be, r))
		return -VIO_EVHOST_ORDER; /* a kick before the ring is configured */
	replace_fd(be, &r->kick_fd, fd);
	*kept = true;
	r->kick_nofd = nofd;
	/* The ring starts (we do not wait for the fd to become readable: a
	 * kick that came before the fd was polled would be lost otherwise). */
	r->started = true;
	if (!proto_negotiated(be))
		r->enabled = true; /* "the ring starts directly in the enabled state" */
	rc = ring_failed(be, q, ring_try_start(be, q));
	if (rc != 0) {
		r->started = false;
		replace_fd(be, &r->kick_fd, -1);
	}
	return rc;
}

static int set_vring_call_err(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m,
			      bool err, bool *kept)
{
	uint16_t q;
	int fd;
	bool nofd;
	int rc = vring_fd_msg(be, m, &q, &fd, &nofd);
	if (rc != 0)
		return rc;
	struct ring *r = &be->rings[q];
	*kept = true;
	if (!r->live) {
		replace_fd(be, err ? &r->err_fd : &r->call_fd, fd);
		return 0;
	}
	/* A live ring may be signalling from a queue thread: swap while it is
	 * stopped. */
	ring_stop(be, q);
	replace_fd(be, err ? &r->err_fd : &r->call_fd, fd);
	return ring_failed(be, q, ring_try_start(be, q));
}

static int set_vring_enable(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	uint16_t q;
	int rc = queue_index(be, m->payload.state.index, &q);
	if (rc != 0)
		return rc;
	if (m->payload.state.num > 1)
		return -VIO_EINVAL;
	struct ring *r = &be->rings[q];
	r->enabled = m->payload.state.num != 0;
	if (!r->enabled) {
		ring_stop(be, q);
		return 0;
	}
	if (!r->started)
		return 0; /* enabled now, goes live at its kick */
	return ring_failed(be, q, ring_try_start(be, q));
}

static void reply_config_error(struct vio_vhost_user_reply *out)
{
	/* vhost-user.rst GET_CONFIG: a zero-length payload says "error". */
	out->send = true;
	out->msg.hdr.size = 0;
}

static int get_config(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m,
		      struct vio_vhost_user_reply *out)
{
	const struct vio_vhost_user_config *c = &m->payload.config;
	uint32_t cs = vio_device_config_size(be->dev);
	if (c->offset > cs || c->size > cs - c->offset) {
		reply_config_error(out);
		return -VIO_EREG;
	}
	struct vio_vhost_user_config *r = &out->msg.payload.config;
	r->offset = c->offset;
	r->size = c->size;
	r->flags = c->flags;
	for (uint32_t done = 0; done < c->size;) {
		uint32_t n = c->size - done < 8u ? c->size - done : 8u;
		int rc = vio_device_config_read(be->dev, c->offset + done, r->region + done, n);
		if (rc != 0) {
			reply_config_error(out);
			return rc;
		}
		done += n;
	}
	out->send = true;
	out->msg.hdr.size = 12u + c->size;
	return 0;
}

static int set_config(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	const struct vio_vhost_user_config *c = &m->payload.config;
	uint32_t cs = vio_device_config_size(be->dev);
	if (c->offset > cs || c->size > cs - c->offset)
		return -VIO_EREG;
	if (c->flags == 1u) {
		/* Live migration: the destination takes every byte, read-only
		 * fields included (vhost-user.rst SET_CONFIG). */
		return vio_device_config_update(be->dev, c->offset, c->region, c->size);
	}
	if (c->flags != 0u)
		return -VIO_EINVAL;
	/* A driver write: the model applies what is writable (§4 config
	 * fields are read-only unless the device type says otherwise). */
	for (uint32_t done = 0; done < c->size;) {
		uint32_t n = c->size - done < 8u ? c->size - done : 8u;
		int rc = vio_device_config_write(be->dev, c->offset + done, c->region + done, n);
		if (rc != 0)
			return rc;
		done += n;
	}
	return 0;
}

static int set_log_base(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	const struct vio_vhost_user_log *l = &m->payload.log;
	int rc = 0;
	if (l->mmap_size == 0 || l->mmap_offset + l->mmap_size < l->mmap_offset) {
		rc = l->mmap_size == 0 ? 0 : -VIO_EINVAL;
		if (rc == 0)
			log_unmap(be);
		return rc;
	}
	void *host = NULL;
	rc = be->ops->map(be->ctx, m->fds[0], l->mmap_offset, l->mmap_size, &host);
	if (rc == 0 && host == NULL)
		rc = -VIO_EVHOST_SYS;
	if (rc != 0)
		return rc;
	log_unmap(be);
	be->log = host;
	be->log_size = l->mmap_size;
	be->log_offset = l->mmap_offset;
	return 0;
}

/* GET_INFLIGHT_FD: a new region of the size the front end's queues need,
 * initialised, handed over as an fd (the reply's). The back end keeps
 * nothing: the front end sends the region back with SET_INFLIGHT_FD. Every
 * failure is still answered (mmap_size 0: "no tracking"), since the front
 * end waits for the payload. */
static int get_inflight_fd(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m,
			   struct vio_vhost_user_reply *out)
{
	const struct vio_vhost_user_inflight *in = &m->payload.inflight;
	struct vio_vhost_user_inflight *rep = &out->msg.payload.inflight;
	out->send = true;
	out->msg.hdr.size = (uint32_t)sizeof(*rep);
	rep->num_queues = in->num_queues;
	rep->queue_size = in->queue_size;
	if ((be->protocol & INFLIGHT_BIT) == 0 || !be->features_set)
		return -VIO_EVHOST_ORDER; /* the format is known once the features are */
	enum vio_ring_format fmt = packed(be) ? VIO_RING_PACKED : VIO_RING_SPLIT;
	uint64_t size = vio_vhost_user_inflight_size(fmt, in->num_queues, in->queue_size);
	if (in->num_queues > be->nq || size == 0)
		return -VIO_EINFLIGHT_HEADER;
	int fd = -1;
	void *host = NULL;
	int rc = be->ops->create_shm(be->ctx, size, &fd, &host);
	if (rc == 0 && (host == NULL || fd < 0))
		rc = -VIO_EVHOST_SYS;
	if (rc != 0)
		return rc;
	rc = vio_vhost_user_inflight_init(host, size, fmt, in->num_queues, in->queue_size);
	be->ops->unmap(be->ctx, host, 0, size);
	if (rc != 0) {
		be->ops->close_fd(be->ctx, fd);
		return rc;
	}
	rep->mmap_size = size;
	rep->mmap_offset = 0;
	out->fd = fd;
	return 0;
}

/* SET_INFLIGHT_FD: map the region and keep it; rings starting from now on
 * journal into it (h_start). */
static int set_inflight_fd(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m)
{
	const struct vio_vhost_user_inflight *in = &m->payload.inflight;
	if ((be->protocol & INFLIGHT_BIT) == 0 || !be->features_set)
		return -VIO_EVHOST_ORDER;
	for (uint16_t q = 0; q < be->nq; q++)
		if (be->rings[q].started)
			return -VIO_EVHOST_ORDER; /* live rings journal into the old one */
	if (in->mmap_size == 0) {
		inflight_unmap(be); /* no tracking */
		return 0;
	}
	enum vio_ring_format fmt = packed(be) ? VIO_RING_PACKED : VIO_RING_SPLIT;
	int rc = vio_vhost_user_inflight_check(in, fmt, be->nq);
	if (rc != 0)
		return rc;
	if (in->mmap_offset + in->mmap_size < in->mmap_offset || in->mmap_size > SIZE_MAX)
		return -VIO_EINFLIGHT_HEADER;
	void *host = NULL;
	rc = be->ops->map(be->ctx, m->fds[0], in->mmap_offset, in->mmap_size, &host);
	if (rc == 0 && host == NULL)
		rc = -VIO_EVHOST_SYS;
	if (rc != 0)
		return rc;
	if (((uintptr_t)host & 7u) != 0) {
		/* The parts hold 64-bit fields: an offset that misaligns them
		 * is refused. */
		be->ops->unmap(be->ctx, host, in->mmap_offset, in->mmap_size);
		return -VIO_EINFLIGHT_HEADER;
	}
	inflight_unmap(be);
	be->infl.host = host;
	be->infl.size = in->mmap_size;
	be->infl.offset = in->mmap_offset;
	be->infl.num_queues = in->num_queues;
	be->infl.queue_size = in->queue_size;
	be->infl.fmt = fmt;
	return 0;
}

static void fill_u64(struct vio_vhost_user_reply *out, uint64_t v)
{
	out->send = true;
	out->msg.hdr.size = 8;
	out->msg.payload.u64 = v;
}

/* Carry out a validated request. *kept tells whether the message's fds were
 * taken (for the kick/call/err fd); everything else is closed by the caller.
 * Region and log fds are closed after mapping: a mapping outlives its fd. */
static int dispatch(struct vio_vhost_user_backend *be, const struct vio_vhost_user_msg *m,
		    struct vio_vhost_user_reply *out, bool *kept)
{
	switch ((enum vio_vhost_user_request)m->hdr.request) {
	case VIO_VHOST_USER_GET_FEATURES:
		fill_u64(out, offered_device_bits(be) | VHOST_BITS);
		return 0;
	case VIO_VHOST_USER_SET_FEATURES:
		return set_features(be, m->payload.u64);
	case VIO_VHOST_USER_GET_PROTOCOL_FEATURES:
		fill_u64(out, offered_protocol(be));
		return 0;
	case VIO_VHOST_USER_SET_PROTOCOL_FEATURES:
		if ((m->payload.u64 & ~offered_protocol(be)) != 0)
			return -VIO_EFEATURES;
		be->protocol = m->payload.u64;
		return 0;
	case VIO_VHOST_USER_GET_QUEUE_NUM:
		fill_u64(out, be->nq);
		return 0;
	case VIO_VHOST_USER_SET_OWNER:
		return 0; /* the session starts; nothing to keep */
	case VIO_VHOST_USER_RESET_OWNER:
	case VIO_VHOST_USER_RESET_DEVICE:
		/* RESET_OWNER is deprecated; "disable all rings" is its safe
		 * reading. RESET_DEVICE: rings and device to their initial
		 * state; the session (memory table, protocol features) stays. */
		device_reset(be);
		/* Nothing is in flight after a reset: the region starts over
		 * (uninitialised parts, as GET_INFLIGHT_FD hands them out). */
		if (be->infl.host != NULL)
			(void)vio_vhost_user_inflight_init(be->infl.host, be->infl.size,
							   be->infl.fmt, be->infl.num_queues,
							   be->infl.queue_size);
		return 0;
	case VIO_VHOST_USER_SET_MEM_TABLE:
		return set_mem_table(be, m);
	case VIO_VHOST_USER_SET_LOG_BASE:
		return set_log_base(be, m);
	case VIO_VHOST_USER_SET_LOG_FD:
		return 0; /* optional: the log is not signalled; fd closed */
	case VIO_VHOST_USER_SET_VRING_NUM:
		return set_vring_num(be, m);
	case VIO_VHOST_USER_SET_VRING_ADDR:
		return set_vring_addr(be, m);
	case VIO_VHOST_USER_SET_VRING_BASE:
		return set_vring_base(be, m);
	case VIO_VHOST_USER_GET_VRING_BASE:
		return get_vring_base(be, m, out);
	case VIO_VHOST_USER_SET_VRING_KICK:
		return set_vring_kick(be, m, kept);
	case VIO_VHOST_USER_SET_VRING_CALL:
		return set_vring_call_err(be, m, false, kept);
	case VIO_VHOST_USER_SET_VRING_ERR:
		return set_vring_call_err(be, m, true, kept);
	case VIO_VHOST_USER_SET_VRING_ENABLE:
		return set_vring_enable(be, m);
	case VIO_VHOST_USER_GET_CONFIG:
		return get_config(be, m, out);
	case VIO_VHOST_USER_SET_CONFIG:
		return set_config(be, m);
	case VIO_VHOST_USER_GET_INFLIGHT_FD:
		return get_inflight_fd(be, m, out);
	case VIO_VHOST_USER_SET_INFLIGHT_FD:
		return set_inflight_fd(be, m);
	default:
		return -VIO_EVHOST_UNSUPPORTED;
	}
}

int vio_vhost_user_backend_handle(struct vio_vhost_user_backend *be,
				  const struct vio_vhost_user_msg *m,
				  struct vio_vhost_user_reply *out)
{
	VIO_MEMSET(out, 0, sizeof(*out));
	out->fd = -1;
	out->msg.hdr.request = m->hdr.request;
	out->msg.hdr.flags = VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY;
	bool kept = false;
	int rc = vio_vhost_user_msg_check(m);
	if (rc == -VIO_EVHOST_MSG || rc == -VIO_EVHOST_FDS) {
		out->close = true; /* the front end is confused: stop listening */
	} else if (rc == 0) {
		rc = dispatch(be, m, out, &kept);
	}
	/* Every fd is ours now: close what was not kept. */
	uint32_t nfds = m->nfds <= VIO_VHOST_USER_MAX_FDS ? m->nfds : VIO_VHOST_USER_MAX_FDS;
	for (uint32_t i = kept ? 1u : 0u; i < nfds; i++)
		be->ops->close_fd(be->ctx, m->fds[i]);
	if (out->close) {
		out->send = false;
		if (out->fd >= 0)
			be->ops->close_fd(be->ctx, out->fd);
		out->fd = -1;
		return rc;
	}
	if (out->send)
		return rc; /* a reply with a body of its own (GET_*) */
	/* SET_LOG_BASE: the front end waits for a u64 with LOG_SHMFD,
	 * NEED_REPLY or not. Otherwise REPLY_ACK: u64 0 for success, the
	 * (positive) error code otherwise; honoured whenever the flag is set,
	 * since a front end that sets it waits for the answer. */
	if (m->hdr.request == VIO_VHOST_USER_SET_LOG_BASE ||
	    (m->hdr.flags & VIO_VHOST_USER_FLAG_NEED_REPLY) != 0)
		fill_u64(out, (uint64_t)(unsigned)-rc);
	return rc;
}

void vio_vhost_user_backend_disconnect(struct vio_vhost_user_backend *be)
{
	device_reset(be);
	(void)vio_device_set_mem_table(be->dev, NULL, 0);
	if (be->have_table)
		table_unmap(be, &be->tab[be->cur]);
	be->have_table = false;
	log_unmap(be);
	/* The region is the front end's: what is recorded in it stays (a
	 * front end that reconnects hands it back). */
	inflight_unmap(be);
	be->protocol = 0;
}

int vio_vhost_user_backend_kick_fd(const struct vio_vhost_user_backend *be, uint32_t q)
{
	if (q >= be->nq || !be->rings[q].started)
		return -1;
	return be->rings[q].kick_fd;
}

bool vio_vhost_user_backend_needs_poll(const struct vio_vhost_user_backend *be)
{
	for (uint16_t q = 0; q < be->nq; q++)
		if (be->rings[q].live && be->rings[q].kick_fd < 0)
			return true;
	return false;
}

int vio_vhost_user_backend_kick(struct vio_vhost_user_backend *be, uint32_t q)
{
	if (q >= be->nq)
		return -VIO_EVHOST_QUEUE;
	if (!be->rings[q].live)
		return -VIO_EQUEUE_STATE;
	return vio_device_queue_notify(be->dev, q, q);
}

bool vio_vhost_user_backend_ring_live(const struct vio_vhost_user_backend *be, uint32_t q)
{
	return q < be->nq && be->rings[q].live;
}

int vio_vhost_user_backend_inflight(const struct vio_vhost_user_backend *be, uint32_t q)
{
	if (q >= be->nq || !be->rings[q].live)
		return -VIO_EQUEUE_STATE;
	if (be->rings[q].iq == NULL)
		return -VIO_EAGAIN;
	return be->rings[q].resubmitted;
}
