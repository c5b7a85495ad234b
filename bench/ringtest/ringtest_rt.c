/* SPDX-License-Identifier: MIT */
/*
 * ringtest_rt: the single-thread round trip of bench_ring's
 * split/1desc/evidx, driven through one of Linux's validation-free ring
 * models (tools/virtio/ringtest: virtio_ring_0_9.c, ring.c), so that
 * callgrind counts both on the same footing.
 *
 * This file is ours; the ring model is not part of libvirtio and is not
 * built by CMake. bench/ringtest_rt.sh compiles this file against a ring
 * model from a Linux source tree on the user's machine (Debian's
 * linux-source package) and counts ringtest_rt_loop() with callgrind.
 *
 * The ring models' entry points (ringtest/main.h, "implemented by ring"),
 * declared here from their documented signatures:
 *   add_inbuf     driver: make one buffer available;
 *   kick_available driver: the event-index kick decision (calls kick());
 *   use_buf       device: take the next buffer and complete it at once;
 *   call_used     device: the event-index interrupt decision (calls call());
 *   get_buf       driver: reap one completion;
 *   enable_call   driver: write used_event (libvirtio's vio_vq_get() does
 *                 this on every completion while interrupts are enabled).
 * The device never re-arms kicks, as bench_rt_loop's device does not.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

void alloc_ring(void);
int add_inbuf(unsigned len, void *buf, void *datap);
void *get_buf(unsigned *lenp, void **bufp);
bool enable_call(void);
void kick_available(void);
bool use_buf(unsigned *lenp, void **bufp);
void call_used(void);

/* What the ring models take from ringtest's main.c. */
void kick(void);
void call(void);
unsigned ring_size = 256;
bool do_exit = false, do_relax = false, do_sleep = false;
int param;
static unsigned long kicks, calls;
void kick(void)
{
	kicks++;
}
void call(void)
{
	calls++;
}

unsigned long ringtest_rt_loop(unsigned long iters, void *buf);

/* One buffer in flight, a whole round trip per iteration, every result
 * checked as bench_rt_loop() checks libvirtio's. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, noclone))
#else
__attribute__((noinline))
#endif
unsigned long
ringtest_rt_loop(unsigned long iters, void *buf)
{
	unsigned long i;
	for (i = 0; i < iters; i++) {
		unsigned len;
		void *b, *tok;
		if (add_inbuf(1536, buf, buf) != 0)
			break;
		kick_available();
		if (!use_buf(&len, &b))
			break;
		call_used();
		tok = get_buf(&len, &b);
		if (tok != buf)
			break;
		enable_call();
	}
	return i;
}

int main(int argc, char **argv)
{
	unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 0) : 100000ul;
	static char buf[1536];
	alloc_ring();
	unsigned long done = ringtest_rt_loop(iters, buf);
	printf("ringtest_rt: %lu round trips, %lu kicks, %lu calls\n", done, kicks, calls);
	return done == iters ? 0 : 1;
}
