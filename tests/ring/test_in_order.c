/* SPDX-License-Identifier: MIT */
/* VIRTIO_F_IN_ORDER on both formats (virtio 1.4 §2.7.9, §2.8.9): the driver
 * uses descriptors in ring order, the device may complete a batch with one
 * used entry, and the driver hands every buffer of the batch back in order,
 * the earlier ones as fully used. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "loop.h"
#include "raw_ring.h"

#define MAX_SEGS 4

struct io_case {
	enum vio_ring_format format;
	bool event_idx;
	bool indirect;
};

static const struct io_case cases[] = {
	{VIO_RING_SPLIT, false, false}, {VIO_RING_SPLIT, true, false},
	{VIO_RING_SPLIT, true, true},	{VIO_RING_PACKED, false, false},
	{VIO_RING_PACKED, true, false}, {VIO_RING_PACKED, true, true},
};

static void setup_loop(struct loop *l, const struct io_case *c, uint16_t size)
{
	struct loop_cfg cfg = {0};
	cfg.format = c->format;
	cfg.size = size;
	cfg.features = loop_features(c->format, c->event_idx, c->indirect);
	vio_features_set(&cfg.features, VIO_F_IN_ORDER);
	cfg.indirect_max = MAX_SEGS;
	cfg.data_bytes = 64u * 1024u;
	assert_int_equal(loop_init(l, &cfg), 0);
}

/* Add one buffer of @nout readable and @nin writable 16-byte segments. */
static int add_buf(struct loop *l, unsigned slot, unsigned nout, unsigned nin, uintptr_t token)
{
	struct vio_sg sg[MAX_SEGS];
	for (unsigned k = 0; k < nout + nin; k++) {
		sg[k].addr = l->data + (slot % 256u) * 256u + k * 32u;
		sg[k].len = 16;
	}
	return vio_vq_add(l->vq, sg, nout, nin, (void *)token);
}

/* One used entry for a batch: the driver gets every token in order, the
 * earlier ones with all their writable bytes, the last with the reported
 * length; the ring shows a single used entry. */
static void test_in_order_batch_single_entry(void **state)
{
	(void)state;
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		struct loop l;
		setup_loop(&l, &cases[ci], 16);
		const unsigned nbuf = 5;
		struct vio_used used[5];
		struct vio_chain chs[5];
		struct vio_chain_seg segs[5][16];
		for (unsigned b = 0; b < nbuf; b++)
			assert_int_equal(add_buf(&l, b, 1, 1 + b % 3, 100 + b), 0);
		for (unsigned b = 0; b < nbuf; b++) {
			assert_int_equal(vio_devq_pop(l.dq, &chs[b], segs[b], 16), 0);
			used[b].chain = &chs[b];
			used[b].len = 7; /* only the last one's length travels */
		}
		assert_int_equal(vio_devq_push_in_order(l.dq, used, nbuf), 0);

		if (cases[ci].format == VIO_RING_SPLIT) {
			/* used->idx moved by the batch; only entry 0 was written. */
			struct vio_split_used *u = l.device_area;
			assert_int_equal(vio_le16_get(u->idx), nbuf);
			struct vio_split_used_elem *e = vio_split_used_ring(u);
			assert_int_equal(vio_le32_get(e[0].id), chs[nbuf - 1].id);
			assert_int_equal(vio_le32_get(e[0].len), 7);
			for (unsigned k = 1; k < nbuf; k++)
				assert_int_equal(vio_le32_get(e[k].len), 0);
		} else {
			/* One used descriptor at slot 0 naming the last buffer;
			 * the next used position is past the whole batch. */
			struct vio_packed_desc *d = l.desc;
			assert_int_equal(vio_le16_get(d[0].id), chs[nbuf - 1].id);
			uint16_t f = vio_le16_get(d[0].flags);
			assert_true((f & VIO_DESC_F_AVAIL) && (f & VIO_DESC_F_USED));
			struct vio_ring_state st;
			vio_devq_get_state(l.dq, &st);
			unsigned slots = 0;
			for (unsigned b = 0; b < nbuf; b++)
				slots += chs[b].ndesc;
			assert_int_equal(st.used_idx, slots % 16u);
		}

		for (unsigned b = 0; b < nbuf; b++) {
			void *tok;
			uint32_t len;
			assert_int_equal(vio_vq_get(l.vq, &tok, &len), 0);
			assert_ptr_equal(tok, (void *)(uintptr_t)(100 + b));
			uint32_t in_bytes = 16u * (1 + b % 3);
			assert_int_equal(len, b + 1 == nbuf ? 7u : in_bytes);
			assert_int_equal(vio_vq_has_used(l.vq), b + 1 < nbuf);
		}
		void *tok;
		uint32_t len;
		assert_int_equal(vio_vq_get(l.vq, &tok, &len), -VIO_EAGAIN);
		assert_int_equal(vio_vq_num_free(l.vq), 16);
		loop_fini(&l);
	}
}

/* §2.7.5: with IN_ORDER, direct chains occupy consecutive descriptors and
 * `next` is x + 1, wrapping to 0 after the last descriptor. */
static void test_in_order_split_descriptors_in_ring_order(void **state)
{
	(void)state;
	struct io_case c = {VIO_RING_SPLIT, true, false};
	struct loop l;
	setup_loop(&l, &c, 8);
	uint16_t expect = 0;
	for (unsigned round = 0; round < 7; round++) {
		unsigned nin = round % 3; /* chains of 1..3 descriptors */
		assert_int_equal(add_buf(&l, round, 1, nin, 1 + round), 0);
		struct vio_split_avail *a = l.driver_area;
		uint16_t head = vio_le16_get(vio_split_avail_ring(a)[round % 8u]);
		assert_int_equal(head, expect);
		const struct vio_split_desc *d = l.desc;
		for (unsigned k = 0; k < nin; k++) {
			uint16_t x = (uint16_t)((expect + k) % 8u);
			assert_true(vio_le16_get(d[x].flags) & VIO_DESC_F_NEXT);
			assert_int_equal(vio_le16_get(d[x].next), (x + 1u) % 8u);
		}
		expect = (uint16_t)((expect + 1u + nin) % 8u);
		/* Complete it at once so the ring never runs full. */
		struct vio_chain ch;
		struct vio_chain_seg segs[8];
		assert_int_equal(vio_devq_pop(l.dq, &ch, segs, 8), 0);
		assert_int_equal(vio_devq_push(l.dq, &ch, 0), 0);
		void *tok;
		uint32_t len;
		assert_int_equal(vio_vq_get(l.vq, &tok, &len), 0);
		assert_ptr_equal(tok, (void *)(uintptr_t)(1 + round));
	}
	loop_fini(&l);
}

static void test_in_order_push_needs_feature(void **state)
{
	(void)state;
	for (int f = 0; f < 2; f++) {
		struct loop l;
		struct loop_cfg cfg = {0};
		cfg.format = f ? VIO_RING_PACKED : VIO_RING_SPLIT;
		cfg.size = 8;
		cfg.features = loop_features(cfg.format, true, false);
		cfg.data_bytes = 64u * 1024u;
		assert_int_equal(loop_init(&l, &cfg), 0);
		assert_int_equal(add_buf(&l, 0, 1, 0, 1), 0);
		struct vio_chain ch;
		struct vio_chain_seg segs[8];
		assert_int_equal(vio_devq_pop(l.dq, &ch, segs, 8), 0);
		struct vio_used u = {&ch, 0};
		assert_int_equal(vio_devq_push_in_order(l.dq, &u, 1), -VIO_EINVAL);
		assert_false(vio_devq_is_broken(l.dq));
		assert_int_equal(vio_devq_push(l.dq, &ch, 0), 0);
		loop_fini(&l);

		struct io_case c = {cfg.format, true, false};
		setup_loop(&l, &c, 8);
		/* An empty batch is a no-op (devq.h). */
		assert_int_equal(vio_devq_push_in_order(l.dq, &u, 0), 0);
		assert_int_equal(vio_devq_push_in_order(l.dq, NULL, 0), 0);
		ch.id = 8; /* beyond the queue */
		assert_int_equal(vio_devq_push_in_order(l.dq, &u, 1), -VIO_EINVAL);
		loop_fini(&l);
	}
}

/* Random batch sizes, chain shapes and single/batched completions over many
 * laps of the ring: every token returns once, in order, with the right
 * length. */
static void test_in_order_randomized(void **state)
{
	(void)state;
	bool from_env;
	uint64_t seed = loop_seed_from_env(0x1e0de5ull, &from_env);
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		const uint16_t sizes[] = {4, 16, 64};
		for (size_t si = 0; si < 3; si++) {
			struct loop l;
			setup_loop(&l, &cases[ci], sizes[si]);
			struct loop_rng r;
			loop_rng_seed(&r, loop_mix(seed, ci * 8 + si));
			char desc[96];
			loop_describe(&l.cfg, desc, sizeof(desc));
			uintptr_t next_tok = 1, want_tok = 1;
			/* Held chains: a FIFO in fixed slots, so each chain
			 * keeps its segment array until it is pushed. */
			static struct vio_chain held_ch[64];
			static struct vio_chain_seg held_segs[64][64];
			uint32_t held_len[64];
			unsigned nheld = 0, hh = 0;
			uint32_t want_len[64 * 2];
			unsigned nwant = 0;
			for (unsigned step = 0; step < 20000; step++) {
				unsigned op = loop_rng_below(&r, 3);
				if (op == 0) {
					unsigned nout = loop_rng_range(&r, 0, 2);
					unsigned nin = loop_rng_range(&r, nout ? 0 : 1, 2);
					int rc = add_buf(&l, (unsigned)next_tok, nout, nin,
							 next_tok);
					if (rc == -VIO_ENOSPC)
						continue;
					if (rc != 0)
						fail_msg("seed 0x%llx %s: add %s",
							 (unsigned long long)seed, desc,
							 vio_err_name(rc));
					next_tok++;
				} else if (op == 1) {
					unsigned at = (hh + nheld) % 64u;
					struct vio_chain *ch = &held_ch[at];
					int rc = vio_devq_pop(l.dq, ch, held_segs[at], 64);
					if (rc == -VIO_EAGAIN)
						continue;
					if (rc != 0)
						fail_msg("seed 0x%llx %s: pop %s",
							 (unsigned long long)seed, desc,
							 vio_err_name(rc));
					held_len[at] = loop_rng_below(&r, ch->in_bytes + 1);
					nheld++;
				} else if (nheld > 0) {
					/* Complete a prefix of the held chains, in order. */
					unsigned n = loop_rng_range(&r, 1, nheld);
					bool one = loop_rng_chance(&r, 60);
					struct vio_used batch[64];
					for (unsigned k = 0; k < n; k++) {
						unsigned at = (hh + k) % 64u;
						batch[k] = (struct vio_used){&held_ch[at],
									     held_len[at]};
					}
					int rc = one ? vio_devq_push_in_order(l.dq, batch, n)
						     : vio_devq_push_batch(l.dq, batch, n);
					assert_int_equal(rc, 0);
					for (unsigned k = 0; k < n; k++)
						want_len[nwant++] =
							one && k + 1 < n ? batch[k].chain->in_bytes
									 : batch[k].len;
					hh = (hh + n) % 64u;
					nheld -= n;
					vio_devq_needs_notify(l.dq);
					void *tok;
					uint32_t len;
					unsigned k = 0;
					while ((rc = vio_vq_get(l.vq, &tok, &len)) == 0) {
						if (tok != (void *)want_tok || len != want_len[k])
							fail_msg("seed 0x%llx %s step %u: got "
								 "%p/%u want "
								 "%p/%u",
								 (unsigned long long)seed, desc,
								 step, tok, len, (void *)want_tok,
								 want_len[k]);
						want_tok++;
						k++;
					}
					assert_int_equal(rc, -VIO_EAGAIN);
					assert_int_equal(k, nwant);
					nwant = 0;
				}
			}
			assert_false(vio_vq_is_broken(l.vq));
			assert_false(vio_devq_is_broken(l.dq));
			loop_fini(&l);
		}
	}
}

/* A used entry (split) or used descriptor (packed) naming an id never
 * handed out: the driver cannot tell which buffers it completes,
 * -VIO_EUSED_STALE, and the queue is broken. (Packed: an id that heads a
 * later buffer completes the batch up to it.) */
static void test_in_order_used_names_no_head(void **state)
{
	(void)state;
	for (size_t ci = 0; ci < sizeof(cases) / sizeof(cases[0]); ci++) {
		bool packed = cases[ci].format == VIO_RING_PACKED;
		for (uint16_t bad = 15; bad != 0; bad = packed && bad == 15 ? 1 : 0) {
			struct loop l;
			setup_loop(&l, &cases[ci], 16);
			for (unsigned b = 0; b < 3; b++)
				assert_int_equal(add_buf(&l, b, 1, 1, 100 + b), 0);
			if (!packed) {
				struct vio_split_used *u = l.device_area;
				struct vio_split_used_elem *e = vio_split_used_ring(u);
				e[0].id = vio_le32_make(bad);
				e[0].len = vio_le32_make(0);
				u->idx = vio_le16_make(1);
			} else {
				struct vio_packed_desc *d = l.desc;
				d[0].id = vio_le16_make(bad);
				d[0].len = vio_le32_make(5);
				d[0].flags = vio_le16_make(VIO_DESC_F_AVAIL | VIO_DESC_F_USED);
			}
			void *tok;
			uint32_t len;
			if (bad == 1) {
				/* Buffers 0 and 1, the first as fully used. */
				assert_int_equal(vio_vq_get(l.vq, &tok, &len), 0);
				assert_ptr_equal(tok, (void *)(uintptr_t)100);
				assert_int_equal(len, 16);
				assert_int_equal(vio_vq_get(l.vq, &tok, &len), 0);
				assert_ptr_equal(tok, (void *)(uintptr_t)101);
				assert_int_equal(len, 5);
				assert_int_equal(vio_vq_get(l.vq, &tok, &len), -VIO_EAGAIN);
				assert_false(vio_vq_is_broken(l.vq));
			} else {
				assert_int_equal(vio_vq_get(l.vq, &tok, &len), -VIO_EUSED_STALE);
				assert_true(vio_vq_is_broken(l.vq));
				assert_int_equal(vio_vq_broken_reason(l.vq), -VIO_EUSED_STALE);
				assert_int_equal(vio_vq_get(l.vq, &tok, &len), -VIO_EBROKEN);
			}
			loop_fini(&l);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_batch_single_entry),
		cmocka_unit_test(test_in_order_split_descriptors_in_ring_order),
		cmocka_unit_test(test_in_order_push_needs_feature),
		cmocka_unit_test(test_in_order_randomized),
		cmocka_unit_test(test_in_order_used_names_no_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
