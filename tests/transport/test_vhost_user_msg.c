/* SPDX-License-Identifier: MIT */
/* vhost-user message validation (vio_vhost_user_msg_check_hdr(),
 * vio_vhost_user_msg_check()): every request this back end knows with its
 * exact payload size and fd count, every size off by one, every fd count off
 * by one, the header rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <virtio/virtio.h>

struct rule {
	uint32_t req;
	uint32_t size;
	uint32_t nfds;
};

/* Fixed-size requests (variable ones are tested below). */
static const struct rule rules[] = {
	{VIO_VHOST_USER_GET_FEATURES, 0, 0},
	{VIO_VHOST_USER_SET_FEATURES, 8, 0},
	{VIO_VHOST_USER_SET_OWNER, 0, 0},
	{VIO_VHOST_USER_RESET_OWNER, 0, 0},
	{VIO_VHOST_USER_SET_LOG_BASE, 16, 1},
	{VIO_VHOST_USER_SET_LOG_FD, 0, 1},
	{VIO_VHOST_USER_SET_VRING_NUM, 8, 0},
	{VIO_VHOST_USER_SET_VRING_ADDR, 40, 0},
	{VIO_VHOST_USER_SET_VRING_BASE, 8, 0},
	{VIO_VHOST_USER_GET_VRING_BASE, 8, 0},
	{VIO_VHOST_USER_SET_VRING_KICK, 8, 1},
	{VIO_VHOST_USER_SET_VRING_CALL, 8, 1},
	{VIO_VHOST_USER_SET_VRING_ERR, 8, 1},
	{VIO_VHOST_USER_GET_PROTOCOL_FEATURES, 0, 0},
	{VIO_VHOST_USER_SET_PROTOCOL_FEATURES, 8, 0},
	{VIO_VHOST_USER_GET_QUEUE_NUM, 0, 0},
	{VIO_VHOST_USER_SET_VRING_ENABLE, 8, 0},
	{VIO_VHOST_USER_GET_INFLIGHT_FD, 24, 0},
	{VIO_VHOST_USER_SET_INFLIGHT_FD, 24, 1},
	{VIO_VHOST_USER_RESET_DEVICE, 0, 0},
};

static void msg(struct vio_vhost_user_msg *m, uint32_t req, uint32_t size, uint32_t nfds)
{
	memset(m, 0, sizeof(*m));
	m->hdr.request = req;
	m->hdr.flags = VIO_VHOST_USER_VERSION;
	m->hdr.size = size;
	m->nfds = nfds;
}

static void test_vhost_user_msg_fixed_sizes(void **state)
{
	(void)state;
	struct vio_vhost_user_msg m;
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *r = &rules[i];
		msg(&m, r->req, r->size, r->nfds);
		assert_int_equal(vio_vhost_user_msg_check(&m), 0);
		m.hdr.flags |= VIO_VHOST_USER_FLAG_NEED_REPLY;
		assert_int_equal(vio_vhost_user_msg_check(&m), 0);
		msg(&m, r->req, r->size + 1, r->nfds);
		assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_MSG);
		if (r->size > 0) {
			msg(&m, r->req, r->size - 1, r->nfds);
			assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_MSG);
		}
		msg(&m, r->req, r->size, r->nfds + 1);
		assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_FDS);
		if (r->nfds > 0) {
			msg(&m, r->req, r->size, r->nfds - 1);
			assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_FDS);
		}
	}
}

/* Kick/call/err: no fd with the NOFD bit. */
static void test_vhost_user_msg_vring_nofd(void **state)
{
	(void)state;
	struct vio_vhost_user_msg m;
	msg(&m, VIO_VHOST_USER_SET_VRING_CALL, 8, 0);
	m.payload.u64 = 3 | VIO_VHOST_USER_VRING_NOFD_MASK;
	assert_int_equal(vio_vhost_user_msg_check(&m), 0);
	m.nfds = 1;
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_FDS);
	m.payload.u64 = 3;
	assert_int_equal(vio_vhost_user_msg_check(&m), 0);
	m.nfds = 0;
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_FDS);
}

/* SET_MEM_TABLE: 8 + 32·n with 1 ≤ n ≤ 8 and n fds. */
static void test_vhost_user_msg_mem_table(void **state)
{
	(void)state;
	struct vio_vhost_user_msg m;
	for (uint32_t n = 0; n <= 9; n++) {
		for (uint32_t size = 0; size <= VIO_VHOST_USER_PAYLOAD_MAX; size++) {
			msg(&m, VIO_VHOST_USER_SET_MEM_TABLE, size, n <= 8 ? n : 8);
			m.payload.memory.nregions = n;
			bool good = n >= 1 && n <= 8 && size == 8 + 32 * n;
			int rc = vio_vhost_user_msg_check(&m);
			if (good)
				assert_int_equal(rc, 0);
			else
				assert_int_equal(rc, -VIO_EVHOST_MSG);
		}
	}
	msg(&m, VIO_VHOST_USER_SET_MEM_TABLE, 8 + 64, 1);
	m.payload.memory.nregions = 2;
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_FDS);
	m.nfds = 3;
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_FDS);
	m.nfds = 9; /* more than a message can carry */
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_FDS);
}

/* GET/SET_CONFIG: 12 + size, size ≤ 256. */
static void test_vhost_user_msg_config(void **state)
{
	(void)state;
	struct vio_vhost_user_msg m;
	for (uint32_t req = VIO_VHOST_USER_GET_CONFIG; req <= VIO_VHOST_USER_SET_CONFIG; req++) {
		for (uint32_t n = 0; n <= 300; n += 1) {
			msg(&m, req, n <= 256 ? 12 + n : VIO_VHOST_USER_PAYLOAD_MAX, 0);
			m.payload.config.size = n;
			assert_int_equal(vio_vhost_user_msg_check(&m),
					 n <= 256 ? 0 : -VIO_EVHOST_MSG);
		}
		msg(&m, req, 12 + 8, 0);
		m.payload.config.size = 4;
		assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_MSG);
		msg(&m, req, 11, 0);
		assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_MSG);
	}
}

static void test_vhost_user_msg_header(void **state)
{
	(void)state;
	struct vio_vhost_user_hdr h = {VIO_VHOST_USER_GET_FEATURES, VIO_VHOST_USER_VERSION, 0};
	assert_int_equal(vio_vhost_user_msg_check_hdr(&h), 0);
	h.size = VIO_VHOST_USER_PAYLOAD_MAX;
	assert_int_equal(vio_vhost_user_msg_check_hdr(&h), 0);
	h.size = VIO_VHOST_USER_PAYLOAD_MAX + 1;
	assert_int_equal(vio_vhost_user_msg_check_hdr(&h), -VIO_EVHOST_MSG);
	h.size = 0xffffffffu;
	assert_int_equal(vio_vhost_user_msg_check_hdr(&h), -VIO_EVHOST_MSG);
	h.size = 0;
	for (uint32_t v = 0; v < 4; v++) {
		h.flags = v;
		assert_int_equal(vio_vhost_user_msg_check_hdr(&h), v == 1 ? 0 : -VIO_EVHOST_MSG);
	}
	h.flags = VIO_VHOST_USER_VERSION | VIO_VHOST_USER_FLAG_REPLY;
	assert_int_equal(vio_vhost_user_msg_check_hdr(&h), -VIO_EVHOST_MSG);
	for (uint32_t bit = 4; bit < 32; bit++) {
		h.flags = VIO_VHOST_USER_VERSION | (1u << bit);
		assert_int_equal(vio_vhost_user_msg_check_hdr(&h), -VIO_EVHOST_MSG);
	}
	/* Unknown requests: unsupported, not malformed (the stream is intact). */
	struct vio_vhost_user_msg m;
	msg(&m, 0, 0, 0);
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_UNSUPPORTED);
	msg(&m, VIO_VHOST_USER_GET_STATUS, 0, 0);
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_UNSUPPORTED);
	msg(&m, 1000, 100, 2);
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_UNSUPPORTED);
	/* ... but a bad header wins. */
	m.hdr.flags = 0;
	assert_int_equal(vio_vhost_user_msg_check(&m), -VIO_EVHOST_MSG);
	/* Peer codes: the malformed ones are, "unsupported" is not. */
	assert_true(vio_err_is_peer(-VIO_EVHOST_MSG));
	assert_true(vio_err_is_peer(-VIO_EVHOST_FDS));
	assert_false(vio_err_is_peer(-VIO_EVHOST_UNSUPPORTED));
	assert_false(vio_err_is_peer(-VIO_EVHOST_SYS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vhost_user_msg_fixed_sizes),
		cmocka_unit_test(test_vhost_user_msg_vring_nofd),
		cmocka_unit_test(test_vhost_user_msg_mem_table),
		cmocka_unit_test(test_vhost_user_msg_config),
		cmocka_unit_test(test_vhost_user_msg_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
