/* SPDX-License-Identifier: MIT */
/**
 * @file mmio_dev.h
 * @brief virtio-mmio register model (device side, version 2): a VMM's
 *        trap handler calls read/write with the offset and width of each
 *        guest access; the model drives a `struct vio_device`.
 *
 * \defgroup vio_mmio_dev virtio-mmio register model (vio_mmio_dev)
 * @{
 * Implements the register map of virtio 1.4 §4.2.2 over the device core
 * (device.h): magic, version 2, IDs, the feature windows, the queue
 * registers of the queue selected by QueueSel, QueueNotify (with
 * VIRTIO_F_NOTIFICATION_DATA), InterruptStatus / InterruptACK with an
 * interrupt level callback, Status, shared memory regions, QueueReset
 * (VIRTIO_F_RING_RESET), ConfigGeneration and the configuration space at
 * 0x100. The legacy interface (version 1, §4.2.4) is not implemented: the
 * device presents Version 2 and offers VIRTIO_F_VERSION_1 only.
 *
 * **Accesses the spec does not allow** never touch anything outside the
 * model and never fail the VMM's access: a read returns 0, a write is
 * ignored, and the call returns an error code the VMM may log:
 * - control registers (below 0x100) accessed with a width other than 32
 *   bits or unaligned (§4.2.2.2: the driver MUST use 32-bit aligned
 *   accesses), an undefined offset (the legacy-only registers included),
 *   a write to a read-only register or a read of a write-only one
 *   (::VIO_EREG);
 * - configuration space accesses of width other than 1, 2, 4 or 8 bytes, or
 *   running past the configuration size (::VIO_EREG). Any alignment is
 *   accepted inside the configuration space (§4.2.2: "accessed with byte
 *   alignment");
 * - a write the device core refuses (queue registers while the queue is
 *   ready, a status write that skips a step, …): the core's error.
 *
 * Values are the little-endian interpretation of the bytes at the accessed
 * offset (every virtio-mmio register is little-endian). A trap handler that
 * has the bytes (KVM's `mmio.data`) uses vio_mmio_dev_read_bytes() /
 * vio_mmio_dev_write_bytes().
 *
 * **Threads.** Register accesses are control-thread calls of the device core
 * (device.h): serialised per device by the embedder. The interrupt level
 * callback may run on the control thread (InterruptACK, reset) or on a queue
 * thread (a used buffer notification), possibly at the same time: see
 * ::vio_mmio_dev_config::set_irq.
 */
#ifndef VIO_MMIO_DEV_H
#define VIO_MMIO_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A virtio-mmio register model (opaque; caller memory of
 *         ::VIO_MMIO_DEV_MEM_SIZE bytes). */
struct vio_mmio_dev;

/** @brief Alignment of the memory given to vio_mmio_dev_init(). */
#define VIO_MMIO_DEV_MEM_ALIGN 8
/** @brief Bytes of memory vio_mmio_dev_init() needs (a constant expression). */
#define VIO_MMIO_DEV_MEM_SIZE 96u

/** @brief A shared memory region (§2.10) the device exposes. */
struct vio_mmio_shm {
	uint64_t base; /**< Guest-physical base address, chosen by the VMM. */
	uint64_t len;  /**< Length in bytes. */
	uint32_t id;   /**< Region id the driver selects with SHMSel. */
};

/** @brief How the register model is wired into the VMM. Zero-initialise,
 *         then fill in. */
struct vio_mmio_dev_config {
	uint32_t vendor_id; /**< VendorID register value. */
	/**
	 * @brief Set the device's interrupt line: @p level is true while
	 *        InterruptStatus is not 0 (§4.2.3.3: a single interrupt
	 *        asserted while any bit is set). May be NULL (poll with
	 *        vio_mmio_dev_irq_level()).
	 *
	 * Called when the status goes from 0 to non-0 and back, on the thread
	 * that changed it; two threads may call it at once. Each caller
	 * re-reads the status after its call and calls again if the level it
	 * set is stale, so once both return the line matches the status,
	 * provided the callback's effects take place in the order it is called
	 * (an ioctl, a write to an irqfd or a GPIO register does). A level may
	 * be repeated. Must not call into the model.
	 * @param ctx   @c irq_ctx.
	 * @param level Assert (true) or deassert.
	 */
	void (*set_irq)(void *ctx, bool level);
	void *irq_ctx; /**< Passed to @c set_irq. */
	/** Shared memory regions, referenced (not copied); NULL if @c nshm is 0.
	 * A selected id not in the list reads as length and base ~0. */
	const struct vio_mmio_shm *shm;
	uint32_t nshm; /**< Entries in @c shm. */
};

/**
 * @brief Put a virtio-mmio register model in front of @p dev.
 *
 * Connects itself as @p dev's transport (vio_device_set_transport()),
 * implementing VIRTIO_F_NOTIFICATION_DATA and VIRTIO_F_RING_RESET.
 * @param mp       Receives the model (a pointer into @p mem).
 * @param mem      ::VIO_MMIO_DEV_MEM_ALIGN-aligned memory, owned by the
 *                 caller, used until the model is no longer used.
 * @param mem_size At least ::VIO_MMIO_DEV_MEM_SIZE.
 * @param dev      The device (vio_device_init()); nothing else may be its
 *                 transport.
 * @param cfg      The wiring; copied (shm stays referenced).
 * @retval 0 Success; InterruptStatus 0 and the line deasserted (the
 *         callback is not called).
 * @retval -VIO_EINVAL NULL arguments, too little or misaligned memory.
 * @note Control thread.
 */
int vio_mmio_dev_init(struct vio_mmio_dev **mp, void *mem, size_t mem_size, struct vio_device *dev,
		      const struct vio_mmio_dev_config *cfg);

/**
 * @brief The device behind the model.
 * @param m The model.
 * @return The device given to vio_mmio_dev_init().
 */
struct vio_device *vio_mmio_dev_device(const struct vio_mmio_dev *m);

/**
 * @brief Bytes of guest-physical address space the device's window needs:
 *        0x100 of registers plus the configuration space (what a VMM puts
 *        in the device tree's `reg`).
 * @param m The model.
 * @return The window size.
 */
uint64_t vio_mmio_dev_window_size(const struct vio_mmio_dev *m);

/**
 * @brief A guest read of @p size bytes at @p offset from the device's base.
 * @param m      The model.
 * @param offset Offset from the base.
 * @param size   Access width in bytes.
 * @param value  Receives the value (0 for a refused access).
 * @retval 0 A defined read.
 * @retval -VIO_EREG Undefined offset, wrong width or alignment, a
 *         write-only register, or past the configuration space.
 * @note Control thread. Calls no model callback.
 */
int vio_mmio_dev_read(struct vio_mmio_dev *m, uint64_t offset, unsigned size, uint64_t *value);

/**
 * @brief A guest write of @p size bytes at @p offset from the device's base.
 * @param m      The model.
 * @param offset Offset from the base.
 * @param value  The value (its low @p size bytes).
 * @param size   Access width in bytes.
 * @retval 0 A defined write, taken.
 * @retval -VIO_EREG Undefined offset, wrong width or alignment, a
 *         read-only register, past the configuration space, or a value the
 *         register does not define (QueueReady other than 0 or 1).
 * @retval <0 The device core refused the write (its error codes: e.g.
 *         ::VIO_ESTATUS, ::VIO_EFEATURES, ::VIO_EQUEUE_STATE,
 *         ::VIO_EQUEUE_SIZE); nothing changed unless the core says so.
 * @note Control thread. May call the device model's callbacks (status,
 *       queue enable/reset, notify, config write) and the interrupt
 *       callback.
 */
int vio_mmio_dev_write(struct vio_mmio_dev *m, uint64_t offset, uint64_t value, unsigned size);

/**
 * @brief vio_mmio_dev_read() into @p size bytes in guest memory order.
 * @param m      The model.
 * @param offset Offset from the base.
 * @param data   Receives @p size bytes (1 .. 8; zeros for a refused read).
 * @param size   Access width in bytes; above 8 is refused without writing
 *               @p data.
 * @return As vio_mmio_dev_read().
 */
int vio_mmio_dev_read_bytes(struct vio_mmio_dev *m, uint64_t offset, void *data, unsigned size);

/**
 * @brief vio_mmio_dev_write() from @p size bytes in guest memory order.
 * @param m      The model.
 * @param offset Offset from the base.
 * @param data   The @p size bytes written.
 * @param size   Access width in bytes (1 .. 8; others refused).
 * @return As vio_mmio_dev_write().
 */
int vio_mmio_dev_write_bytes(struct vio_mmio_dev *m, uint64_t offset, const void *data,
			     unsigned size);

/**
 * @brief The InterruptStatus bits (::VIO_MMIO_INT_VRING,
 *        ::VIO_MMIO_INT_CONFIG). Any thread.
 * @param m The model.
 * @return The bits.
 */
uint32_t vio_mmio_dev_interrupt_status(const struct vio_mmio_dev *m);

/**
 * @brief True while the interrupt should be asserted (InterruptStatus not 0).
 *        Any thread.
 * @param m The model.
 * @return The level.
 */
bool vio_mmio_dev_irq_level(const struct vio_mmio_dev *m);

/**
 * @brief Bytes vio_mmio_dev_save() writes: the device core's state plus
 *        the selectors and InterruptStatus.
 * @param m The model.
 * @return The size.
 */
size_t vio_mmio_dev_state_size(const struct vio_mmio_dev *m);

/**
 * @brief Save the registers and the device core (vio_device_save()).
 * @param m   The model.
 * @param buf Receives vio_mmio_dev_state_size() bytes.
 * @param len Bytes at @p buf.
 * @retval 0 Saved.
 * @retval -VIO_ENOSPC @p len too small.
 * @pre As vio_device_save().
 */
int vio_mmio_dev_save(const struct vio_mmio_dev *m, void *buf, size_t len);

/**
 * @brief Restore what vio_mmio_dev_save() saved, then set the interrupt
 *        line to match InterruptStatus.
 * @param m   The model.
 * @param buf The saved state.
 * @param len Its length.
 * @retval 0 Restored.
 * @retval -VIO_ESTATE_BLOB Malformed; the device is left reset.
 * @retval <0 As vio_device_restore().
 */
int vio_mmio_dev_restore(struct vio_mmio_dev *m, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_MMIO_DEV_H */
