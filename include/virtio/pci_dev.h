/* SPDX-License-Identifier: MIT */
/**
 * @file pci_dev.h
 * @brief virtio-pci modern register model (device side): PCI configuration
 *        space and one memory BAR, called from a VMM's trap handlers; the
 *        model drives a `struct vio_device`.
 *
 * \defgroup vio_pci_dev virtio-pci register model (vio_pci_dev)
 * @{
 * Implements virtio 1.4 §4.1 for a non-transitional device over the device
 * core (device.h): a type-0 configuration header (vendor 0x1af4, device
 * 0x1040 + type, revision 1), the virtio vendor capabilities (common
 * configuration, notifications, ISR status, device configuration, PCI
 * configuration access), an MSI-X capability, and one 64-bit memory BAR
 * holding every structure. The legacy interface (I/O BAR, transitional
 * IDs) is not implemented; neither are shared memory regions,
 * VIRTIO_F_NOTIF_CONFIG_DATA, VIRTIO_F_SR_IOV nor VIRTIO_F_ADMIN_VQ (never
 * offered; `queue_notif_config_data`, `admin_queue_index` and
 * `admin_queue_num` read 0).
 *
 * **Configuration space** (256 bytes; extended space is not implemented):
 * | Offset | What |
 * |---|---|
 * | 0x00 | vendor 0x1af4, device 0x1040 + type |
 * | 0x04 | command (Memory, Bus Master, Parity, SERR, Interrupt Disable writable; stored, not enforced: see vio_pci_dev_command()); status (capability list, Interrupt Status) |
 * | 0x08 | revision 1, class code (::vio_pci_dev_config::class_code) |
 * | 0x0c | cache line size (read-write), header type 0 |
 * | 0x10 + 4·bar | the 64-bit memory BAR (low, high); other BARs read 0 |
 * | 0x2c | subsystem vendor and device IDs |
 * | 0x34 | capability pointer (0x40) |
 * | 0x3c | interrupt line (read-write), interrupt pin |
 * | 0x40 | VIRTIO_PCI_CAP_COMMON_CFG (16 bytes) |
 * | 0x50 | VIRTIO_PCI_CAP_NOTIFY_CFG (20 bytes, multiplier 4) |
 * | 0x64 | VIRTIO_PCI_CAP_ISR_CFG (16 bytes) |
 * | 0x74 | VIRTIO_PCI_CAP_DEVICE_CFG (16 bytes; absent without configuration space) |
 * | 0x84 | VIRTIO_PCI_CAP_PCI_CFG (20 bytes) |
 * | 0x98 | MSI-X (12 bytes; absent with ::vio_pci_dev_config::msix_vectors 0) |
 *
 * **The BAR** (see vio_pci_dev_get_layout()): common configuration at 0,
 * ISR status at 0x1000, notifications at 0x2000 (4 bytes per queue: queue
 * q's address is 0x2000 + 4·`queue_notify_off`, and `queue_notify_off` is
 * the queue index), the device configuration at 0x3000, then the MSI-X
 * table and the PBA, each in its own 4 KiB pages. The BAR size is the power
 * of two that holds them (at least 16 KiB). It is a 64-bit memory BAR,
 * non-prefetchable unless configured (the ISR is read-to-clear).
 *
 * **Interrupts.** With MSI-X enabled (Message Control bit 15) a used buffer
 * or configuration change notification goes to the vector the driver
 * mapped (`queue_msix_vector`, `config_msix_vector`); NO_VECTOR sends
 * nothing (§4.1.5.3, §4.1.5.4). A vector masked in its table entry or by
 * the Function Mask gets its Pending bit set instead, and is sent when
 * unmasked (PCI 3.0 §6.8.3.4). Sending means calling
 * ::vio_pci_dev_config::msix with the vector and the entry's address and
 * data, which is what `KVM_SIGNAL_MSI` or an irqfd route needs. With MSI-X
 * disabled the ISR bits are set and the INTx# level callback follows
 * "ISR not 0, Interrupt Disable clear" (§4.1.4.5). The configuration bit of
 * the ISR is set before every configuration change notification, MSI-X or
 * not (§4.1.4.5.1).
 *
 * **Common configuration as presented.** `queue_size` shows the size the
 * driver wrote, except one the queue cannot use (0, above the maximum, or
 * without VIRTIO_F_RING_PACKED not a power of two), which reads 0
 * (§4.1.4.3.1: 0 or a power of two); enabling such a queue fails and sets
 * DEVICE_NEEDS_RESET (device.h). `config_generation` moves by one whenever
 * the core's generation moved since the driver last read it, so it cannot
 * wrap back to a value the driver saw (§4.1.4.3.1). A queue reset completes
 * inside the write of 1: `queue_reset` always reads 0. After a device reset
 * (status 0) the selectors read 0, the ISR is 0 and pending MSI-X messages
 * are dropped; the MSI-X table and the PCI header are not touched (they are
 * PCI state: vio_pci_dev_reset()).
 *
 * **Accesses the spec does not allow** never touch anything outside the
 * model and never fail the VMM's access: a read returns 0, a write is
 * ignored, and the call returns an error the VMM may log:
 * - configuration space: widths other than 1, 2 or 4, an access crossing a
 *   4-byte boundary or past 256 bytes; writes to read-only fields
 *   (::VIO_EREG). A write to a read-only byte inside a 32-bit access that
 *   also writes a writable field is taken for the writable part only, as
 *   PCI hardware does, and returns 0. Writes to the status register (its
 *   write-1-to-clear error bits are never set), to unimplemented BARs and
 *   to the expansion ROM BAR are legal and change nothing (firmware sizes
 *   every BAR): they return 0;
 * - common configuration: any access that is not exactly one field with its
 *   own width (8-bit `device_status` and `config_generation`, 16-bit fields,
 *   32-bit fields and halves of the 64-bit ones; §4.1.3.1), a write to a
 *   read-only field, `queue_enable` written with anything but 1 (the driver
 *   MUST NOT write 0), `queue_reset` with anything but 0 or 1 (::VIO_EREG);
 *   a vector beyond the MSI-X table (::VIO_EVECTOR: stored as NO_VECTOR,
 *   which the driver reads back as the spec's mapping failure, §4.1.5.1.2);
 *   a write the device core refuses (its code);
 * - ISR: reads of 1, 2 or 4 bytes at its offset (bits 2–31 read 0); writes
 *   (::VIO_EREG);
 * - notifications: a write that is not at a queue's notify address, not 16
 *   bits (32 bits allowed too) with the queue index as value, or with
 *   VIRTIO_F_NOTIFICATION_DATA not a 32-bit write whose `vq_index` is the
 *   queue; reads (::VIO_EREG);
 * - device configuration: widths other than 1, 2, 4 or 8, unaligned to the
 *   width, or past its end (::VIO_EREG);
 * - MSI-X table and PBA: accesses other than aligned 32 or 64 bits, writes
 *   to the PBA (::VIO_EREG);
 * - any other offset or BAR (::VIO_EREG).
 *
 * **Threads.** Configuration space and BAR accesses are control-thread calls
 * of the device core (device.h): serialised per device by the embedder. The
 * interrupt callbacks may run on the control thread or on a queue thread,
 * possibly at the same time (see ::vio_pci_dev_config::set_irq and
 * ::vio_pci_dev_config::msix).
 */
#ifndef VIO_PCI_DEV_H
#define VIO_PCI_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/device.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A virtio-pci register model (opaque; caller memory of
 *         VIO_PCI_DEV_MEM_SIZE() bytes). */
struct vio_pci_dev;

/** @brief Alignment of the memory given to vio_pci_dev_init(). */
#define VIO_PCI_DEV_MEM_ALIGN 8

/** @cond VIO_INTERNAL */
#define VIO__PCI_DEV_FIXED_BYTES 192u /* struct vio_pci_dev; checked in pci_dev.c */
/** @endcond */

/**
 * @brief Bytes of memory a model with @p nvec MSI-X vectors needs, as a
 *        constant expression (the table and pending bits included).
 * @param nvec ::vio_pci_dev_config::msix_vectors.
 */
#define VIO_PCI_DEV_MEM_SIZE(nvec)                                                                 \
	(VIO__PCI_DEV_FIXED_BYTES + (size_t)(nvec)*16u + (((size_t)(nvec) + 63u) / 64u) * 8u)

/** @name Fixed offsets in the BAR
 * @{ */
#define VIO_PCI_DEV_COMMON_OFFSET 0x0000u /**< Common configuration (64 bytes). */
#define VIO_PCI_DEV_ISR_OFFSET 0x1000u	  /**< ISR status (1 byte). */
#define VIO_PCI_DEV_NOTIFY_OFFSET 0x2000u /**< Notifications, 4 bytes per queue. */
#define VIO_PCI_DEV_NOTIFY_MULT 4u	  /**< notify_off_multiplier. */
#define VIO_PCI_DEV_DEVICE_OFFSET 0x3000u /**< Device configuration. */
/** @} */

/** @brief How the register model is presented and wired into the VMM.
 *         Zero-initialise, then fill in: every 0 picks the default named. */
struct vio_pci_dev_config {
	/** Subsystem Vendor ID; 0: 0x1af4. */
	uint16_t subsys_vendor_id;
	/** Subsystem ID; 0: 0x40 + device type (§4.1.2.1: SHOULD be 0x40 or
	 * higher for a non-transitional device). */
	uint16_t subsys_id;
	/** Class code (base class, subclass, programming interface: 24 bits);
	 * 0: by device type: block 0x018000 (mass storage), net 0x020000
	 * (Ethernet), console 0x078000 (communication), SCSI 0x010000, others
	 * 0xff0000 (no class). */
	uint32_t class_code;
	/** Revision ID; 0: 1 (§4.1.2.1: SHOULD be 1 or higher). */
	uint8_t revision;
	/** The BAR: 0, 2 or 4 (a 64-bit BAR takes @c bar and @c bar + 1). */
	uint8_t bar;
	/** Mark the BAR prefetchable (it has read side effects: the ISR). */
	bool prefetchable;
	/** Interrupt Pin: 1..4 for INTA#..INTD#; 0: INTA#. */
	uint8_t interrupt_pin;
	/** No INTx# at all: Interrupt Pin reads 0, @c set_irq is never called
	 * and, with MSI-X disabled, notifications only set ISR bits. */
	bool no_intx;
	/** MSI-X table size, 0 .. ::VIO_PCI_MSIX_MAX_VECTORS; 0: no MSI-X
	 * capability (every vector reads back NO_VECTOR). Typically the queue
	 * count + 1. */
	uint16_t msix_vectors;
	/**
	 * @brief Set the INTx# line: @p level is true while the ISR is not 0,
	 *        MSI-X is disabled and the command register's Interrupt
	 *        Disable bit is clear. May be NULL.
	 *
	 * Called on changes of those, on the thread that made them; two threads
	 * may call it at once. As in mmio_dev.h, each caller re-reads the state
	 * after its call and calls again if the level it set is stale; a level
	 * may be repeated. Must not call into the model.
	 * @param ctx   @c irq_ctx.
	 * @param level Assert (true) or deassert.
	 */
	void (*set_irq)(void *ctx, bool level);
	/**
	 * @brief Send MSI-X message @p vector: write @p data to @p addr (the
	 *        table entry's Message Address / Upper Address and Data as
	 *        the driver programmed them). May be NULL (messages are lost).
	 *
	 * Called on the control thread (an unmask that releases a pending
	 * vector) or on a queue thread (a used buffer notification), possibly
	 * at the same time. Each firing is delivered once: a vector that fires
	 * while masked is delivered once when unmasked. Must not call into
	 * the model.
	 * @param ctx    @c irq_ctx.
	 * @param vector Table entry number.
	 * @param addr   Message address.
	 * @param data   Message data.
	 */
	void (*msix)(void *ctx, uint16_t vector, uint64_t addr, uint32_t data);
	void *irq_ctx; /**< Passed to @c set_irq and @c msix. */
};

/** @brief Where the structures are in the BAR (vio_pci_dev_get_layout()). */
struct vio_pci_dev_layout {
	uint8_t bar;		    /**< BAR index (the low half of the 64-bit pair). */
	uint64_t bar_size;	    /**< BAR size, a power of two. */
	uint32_t common_offset;	    /**< ::VIO_PCI_DEV_COMMON_OFFSET. */
	uint32_t isr_offset;	    /**< ::VIO_PCI_DEV_ISR_OFFSET. */
	uint32_t notify_offset;	    /**< ::VIO_PCI_DEV_NOTIFY_OFFSET. */
	uint32_t notify_length;	    /**< 4 × queue count (at least 4). */
	uint32_t notify_mult;	    /**< ::VIO_PCI_DEV_NOTIFY_MULT. */
	uint32_t device_offset;	    /**< ::VIO_PCI_DEV_DEVICE_OFFSET. */
	uint32_t device_length;	    /**< Configuration size (0: no structure). */
	uint32_t msix_table_offset; /**< MSI-X table (0 without MSI-X). */
	uint32_t msix_pba_offset;   /**< Pending Bit Array (0 without MSI-X). */
	uint16_t msix_vectors;	    /**< ::vio_pci_dev_config::msix_vectors. */
};

/**
 * @brief Bytes of memory vio_pci_dev_init() needs for @p cfg.
 * @param cfg The configuration.
 * @return VIO_PCI_DEV_MEM_SIZE(cfg->msix_vectors), or 0 if @p cfg is NULL or
 *         has more than ::VIO_PCI_MSIX_MAX_VECTORS vectors.
 * @note Thread-safe; calls no callbacks.
 */
size_t vio_pci_dev_mem_size(const struct vio_pci_dev_config *cfg);

/**
 * @brief Put a virtio-pci register model in front of @p dev, in the
 *        power-on state (command 0, BAR address 0, MSI-X disabled with
 *        every entry masked, ISR 0).
 *
 * Connects itself as @p dev's transport (vio_device_set_transport()),
 * implementing VIRTIO_F_NOTIFICATION_DATA and VIRTIO_F_RING_RESET.
 * @param pp       Receives the model (a pointer into @p mem).
 * @param mem      ::VIO_PCI_DEV_MEM_ALIGN-aligned memory, owned by the
 *                 caller, used until the model is no longer used.
 * @param mem_size At least vio_pci_dev_mem_size().
 * @param dev      The device (vio_device_init()); nothing else may be its
 *                 transport.
 * @param cfg      The presentation and wiring; copied.
 * @retval 0 Success (no callback called).
 * @retval -VIO_EINVAL NULL arguments, too little or misaligned memory, a
 *         device type above 0x3f (no modern PCI Device ID), @c bar not 0,
 *         2 or 4, @c interrupt_pin above 4, too many vectors.
 * @note Control thread.
 */
int vio_pci_dev_init(struct vio_pci_dev **pp, void *mem, size_t mem_size, struct vio_device *dev,
		     const struct vio_pci_dev_config *cfg);

/**
 * @brief The device behind the model.
 * @param p The model.
 * @return The device given to vio_pci_dev_init().
 */
struct vio_device *vio_pci_dev_device(const struct vio_pci_dev *p);

/**
 * @brief Where the structures are in the BAR, and its size.
 * @param p   The model.
 * @param out Receives the layout.
 */
void vio_pci_dev_get_layout(const struct vio_pci_dev *p, struct vio_pci_dev_layout *out);

/**
 * @brief Offset in the BAR of queue @p q's notify address (for a VMM that
 *        binds an ioeventfd there).
 * @param p The model.
 * @param q Queue index.
 * @return The offset, or 0 if @p q does not exist.
 */
uint32_t vio_pci_dev_notify_offset(const struct vio_pci_dev *p, uint16_t q);

/** @name Configuration space
 * @{ */

/**
 * @brief A guest read of @p size bytes at @p offset in configuration space.
 * @param p      The model.
 * @param offset Offset (0 .. 255).
 * @param size   1, 2 or 4, not crossing a 4-byte boundary.
 * @param value  Receives the value (0 for a refused access).
 * @retval 0 A defined read.
 * @retval -VIO_EREG Wrong width, crossing a 4-byte boundary, past 256.
 * @retval <0 A read of `pci_cfg_data` returns the BAR access's result
 *         (vio_pci_dev_bar_read()); a `cap.bar`/`cap.offset`/`cap.length`
 *         that do not select 1, 2 or 4 aligned bytes of the BAR give
 *         ::VIO_EREG and 0.
 * @note Control thread. Calls no model callback, except that a read of
 *       `pci_cfg_data` is a BAR read (an ISR read clears it).
 */
int vio_pci_dev_cfg_read(struct vio_pci_dev *p, uint32_t offset, unsigned size, uint32_t *value);

/**
 * @brief A guest write of @p size bytes at @p offset in configuration space.
 * @param p      The model.
 * @param offset Offset (0 .. 255).
 * @param value  The value (its low @p size bytes).
 * @param size   1, 2 or 4, not crossing a 4-byte boundary.
 * @retval 0 Taken (read-only bytes inside the access ignored).
 * @retval -VIO_EREG Wrong width or place, or only read-only bytes written.
 * @retval <0 A write of `pci_cfg_data` returns the BAR access's result.
 * @note Control thread. May call the interrupt callbacks (MSI-X enable,
 *       unmask, Interrupt Disable) and, through `pci_cfg_data`, anything
 *       vio_pci_dev_bar_write() may.
 */
int vio_pci_dev_cfg_write(struct vio_pci_dev *p, uint32_t offset, uint32_t value, unsigned size);

/**
 * @brief vio_pci_dev_cfg_read() into @p size bytes in guest memory order.
 * @param p      The model.
 * @param offset Offset.
 * @param data   Receives @p size bytes (zeros for a refused read); nothing
 *               is written for @p size above 4.
 * @param size   Access width.
 * @return As vio_pci_dev_cfg_read().
 */
int vio_pci_dev_cfg_read_bytes(struct vio_pci_dev *p, uint32_t offset, void *data, unsigned size);

/**
 * @brief vio_pci_dev_cfg_write() from @p size bytes in guest memory order.
 * @param p      The model.
 * @param offset Offset.
 * @param data   The bytes.
 * @param size   Access width (1, 2 or 4; others refused).
 * @return As vio_pci_dev_cfg_write().
 */
int vio_pci_dev_cfg_write_bytes(struct vio_pci_dev *p, uint32_t offset, const void *data,
				unsigned size);

/**
 * @brief The command register (for a VMM that maps the BAR only while
 *        Memory Space is enabled, or stops DMA without Bus Master; the
 *        model itself serves every access and interrupt regardless).
 * @param p The model.
 * @return The command register.
 */
uint16_t vio_pci_dev_command(const struct vio_pci_dev *p);

/**
 * @brief The guest-physical address programmed in the BAR (the size
 *        alignment bits cleared); ~0 masked by the size after sizing.
 * @param p The model.
 * @return The address.
 */
uint64_t vio_pci_dev_bar_address(const struct vio_pci_dev *p);
/** @} */

/** @name BAR accesses
 * @{ */

/**
 * @brief A guest read of @p size bytes at @p offset in BAR @p bar.
 * @param p      The model.
 * @param bar    BAR index (the one in ::vio_pci_dev_layout::bar).
 * @param offset Offset from the BAR's base.
 * @param size   Access width in bytes.
 * @param value  Receives the value (0 for a refused access).
 * @retval 0 A defined read.
 * @retval -VIO_EREG See the list at the top of this header.
 * @note Control thread. Reading the ISR clears it (and may lower INTx#).
 */
int vio_pci_dev_bar_read(struct vio_pci_dev *p, unsigned bar, uint64_t offset, unsigned size,
			 uint64_t *value);

/**
 * @brief A guest write of @p size bytes at @p offset in BAR @p bar.
 * @param p      The model.
 * @param bar    BAR index.
 * @param offset Offset from the BAR's base.
 * @param value  The value (its low @p size bytes).
 * @param size   Access width in bytes.
 * @retval 0 A defined write, taken.
 * @retval -VIO_EREG See the list at the top of this header.
 * @retval -VIO_EVECTOR A vector beyond the MSI-X table (stored as
 *         NO_VECTOR).
 * @retval <0 The device core refused the write (its codes: e.g.
 *         ::VIO_ESTATUS, ::VIO_EFEATURES, ::VIO_EQUEUE_STATE,
 *         ::VIO_EQUEUE_SIZE).
 * @note Control thread. May call the device model's callbacks (status,
 *       queue enable/reset, notify, config write) and the interrupt
 *       callbacks.
 */
int vio_pci_dev_bar_write(struct vio_pci_dev *p, unsigned bar, uint64_t offset, uint64_t value,
			  unsigned size);

/**
 * @brief vio_pci_dev_bar_read() into @p size bytes in guest memory order.
 * @param p      The model.
 * @param bar    BAR index.
 * @param offset Offset from the BAR's base.
 * @param data   Receives @p size bytes (zeros for a refused read); nothing
 *               is written for @p size above 8.
 * @param size   Access width.
 * @return As vio_pci_dev_bar_read().
 */
int vio_pci_dev_bar_read_bytes(struct vio_pci_dev *p, unsigned bar, uint64_t offset, void *data,
			       unsigned size);

/**
 * @brief vio_pci_dev_bar_write() from @p size bytes in guest memory order.
 * @param p      The model.
 * @param bar    BAR index.
 * @param offset Offset from the BAR's base.
 * @param data   The bytes.
 * @param size   Access width (1 .. 8; others refused).
 * @return As vio_pci_dev_bar_write().
 */
int vio_pci_dev_bar_write_bytes(struct vio_pci_dev *p, unsigned bar, uint64_t offset,
				const void *data, unsigned size);
/** @} */

/** @name Interrupt state (any thread)
 * @{ */

/**
 * @brief The ISR status bits (::VIO_PCI_ISR_QUEUE, ::VIO_PCI_ISR_CONFIG),
 *        without clearing them.
 * @param p The model.
 * @return The bits.
 */
uint8_t vio_pci_dev_isr(const struct vio_pci_dev *p);

/**
 * @brief The INTx# level the model wants (what @c set_irq was last told).
 * @param p The model.
 * @return The level.
 */
bool vio_pci_dev_irq_level(const struct vio_pci_dev *p);

/**
 * @brief True while MSI-X is enabled (Message Control bit 15).
 * @param p The model.
 * @return The enable bit.
 */
bool vio_pci_dev_msix_enabled(const struct vio_pci_dev *p);

/**
 * @brief True if @p vector's Pending bit is set (it fired while masked).
 * @param p      The model.
 * @param vector Table entry number.
 * @return The Pending bit; false beyond the table.
 */
bool vio_pci_dev_msix_pending(const struct vio_pci_dev *p, uint16_t vector);
/** @} */

/**
 * @brief PCI function reset (a bus reset or FLR, or the VMM's system
 *        reset): the device is reset (vio_device_reset()) and the PCI
 *        state returns to power-on (command, BAR address, interrupt line,
 *        MSI-X control, table entries masked, pending bits, the PCI
 *        configuration access window, ISR, selectors). INTx# is lowered.
 * @param p The model.
 * @note Control thread. Calls the model's deactivate/reset callbacks.
 */
void vio_pci_dev_reset(struct vio_pci_dev *p);

/** @name Save and restore (migration). Control thread.
 * @{ */

/**
 * @brief Bytes vio_pci_dev_save() writes: the PCI state (command, BAR,
 *        MSI-X control, table and pending bits, selectors, ISR, the PCI
 *        configuration access window) and the device core's state.
 * @param p The model.
 * @return The size.
 */
size_t vio_pci_dev_state_size(const struct vio_pci_dev *p);

/**
 * @brief Save the PCI state and the device core (vio_device_save()).
 * @param p   The model.
 * @param buf Receives vio_pci_dev_state_size() bytes.
 * @param len Bytes at @p buf.
 * @retval 0 Saved.
 * @retval -VIO_ENOSPC @p len too small.
 * @pre As vio_device_save().
 */
int vio_pci_dev_save(const struct vio_pci_dev *p, void *buf, size_t len);

/**
 * @brief Restore what vio_pci_dev_save() saved on a model with the same
 *        configuration, then set INTx# to match.
 *
 * The blob is untrusted: a wrong magic, version, vector count or BAR
 * placement, ISR bits beyond bit 1, or a device state whose vectors lie
 * beyond the table are refused.
 * @param p   The model.
 * @param buf The saved state.
 * @param len Its length.
 * @retval 0 Restored.
 * @retval -VIO_ESTATE_BLOB Malformed; the model and the device are left
 *         as after vio_pci_dev_reset().
 * @retval <0 As vio_device_restore() (likewise left reset).
 */
int vio_pci_dev_restore(struct vio_pci_dev *p, const void *buf, size_t len);
/** @} */

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_PCI_DEV_H */
