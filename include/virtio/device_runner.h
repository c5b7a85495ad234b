/* SPDX-License-Identifier: MIT */
/**
 * @file device_runner.h
 * @brief How a device adapter (blk_device.h, rng_device.h) hands queue
 *        work to the embedder's threads.
 *
 * \defgroup vio_device_runner Queue runner (vio_device_runner)
 * @{
 * A device adapter implements ::vio_device_ops for a device model. The
 * device core calls those ops on the *control thread* (the VMM's trap
 * handler). Serving a queue can happen there too (no runner: the adapter
 * serves a queue inline, inside the driver's notification), or on a queue
 * thread of the embedder's (a runner). A runner is two callbacks:
 *
 * - ::vio_device_runner::kick: "queue @p q has work". The embedder arranges
 *   for the adapter's `process` function (vio_blk_device_process(),
 *   vio_rng_device_process()) to be called for @p q on the queue's thread,
 *   soon. Typically: post @p q to a mailbox and wake the thread.
 * - ::vio_device_runner::stop: "queue @p q stops". Return only once no call
 *   of `process` for @p q is running. Calls that start later find the queue
 *   stopped and return at once, so the embedder need not flush its mailbox.
 *   An embedder whose queue thread holds a mutex around every `process`
 *   call implements stop as "lock, unlock".
 *
 * Both run on the control thread, inside a device-core call, and must not
 * call into the device core or the adapter's control functions. `stop`
 * may block (it is the device core's "when deactivate returns, the model no
 * longer touches the queues", device.h).
 *
 * **Backends that complete later.** When `stop` returns, the backend must
 * hold no request of the queue any more: finish or cancel them first
 * (virtio-blk: vio_blk_req_complete()). The adapter drops what is left.
 */
#ifndef VIO_DEVICE_RUNNER_H
#define VIO_DEVICE_RUNNER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief The embedder's queue threads, as a device adapter sees them.
 *         Both members are required when a runner is given. */
struct vio_device_runner {
	/**
	 * @brief Queue @p queue has work (a driver notification, or the
	 *        queue just went live): call the adapter's `process` for it on
	 *        the queue's thread. Control thread; must not block for long.
	 * @param ctx   The runner context given with the runner.
	 * @param queue Queue index.
	 */
	void (*kick)(void *ctx, uint16_t queue);
	/**
	 * @brief Queue @p queue stops (device reset, FAILED, SUSPEND, queue
	 *        reset, or the adapter pausing it): return once no `process`
	 *        call for it is running, and the backend holds none of its
	 *        requests. Control thread; may block.
	 * @param ctx   The runner context.
	 * @param queue Queue index.
	 */
	void (*stop)(void *ctx, uint16_t queue);
};

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_DEVICE_RUNNER_H */
