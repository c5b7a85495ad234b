/* SPDX-License-Identifier: MIT */
/**
 * @file pci_front.h
 * @brief virtio-pci modern front (driver side): find a device's virtio
 *        structures through PCI configuration space, reach them through
 *        BAR accessors and drive the device with the driver core (driver.h).
 *
 * \defgroup vio_pci_front virtio-pci front (vio_pci_front)
 * @{
 * The embedder supplies accessors for one PCI function: its configuration
 * space (ECAM loads and stores on bare metal, a trap into a register model
 * in a test or a loopback) and its BARs (volatile loads and stores at the
 * addresses the BARs decode), and says how many bytes of each BAR it can
 * reach. vio_pci_front_probe() checks the IDs (virtio 1.4 §4.1.2), walks
 * the capability list and picks the virtio structures (§4.1.4);
 * ::vio_pci_front_ops then implements ::vio_drv_transport_ops with the front
 * as its context.
 *
 * A bare-metal driver on a machine whose firmware assigned no BAR addresses
 * (QEMU's `virt` machines without firmware) calls
 * vio_pci_front_assign_bars() first: it sizes the BARs, gives them addresses
 * from a window, and enables memory decoding and bus mastering.
 *
 * **Accesses.** Configuration space: only the first 256 bytes, at offsets
 * aligned to the access size (1, 2 or 4 bytes). The probe reads at most
 * ::VIO_PCI_FRONT_PROBE_MAX_CFG_READS times and writes nothing, except
 * the device status (FAILED) when it rejects a device whose common
 * configuration it found usable. BARs: 1-, 2- and 4-byte accesses at offsets
 * aligned to their size, only inside the virtio structures the probe
 * accepted (each checked to lie inside the BAR size the embedder granted),
 * with the width of each field (§4.1.3: 8-bit fields 8 bits wide, 16-bit
 * fields 16, 32- and 64-bit fields as 32-bit halves, low half first). The
 * front never requests an 8-byte access.
 *
 * **Byte order.** The accessors return and take register values (PCI is
 * little-endian: a big-endian CPU's accessor converts, as Linux's
 * `ioread32`/`pci_read_config_dword` do).
 *
 * **Hostile device.** A capability list that loops, points below 0x40 or
 * is misaligned: ::VIO_EPCI_CAP. A structure whose BAR is reserved or not
 * granted, that runs past its BAR or is misaligned or too short is not
 * used (§4.1.4: the driver uses the first one it can); if no usable one of
 * a required type remains: ::VIO_EPCI_REGION (or ::VIO_EPCI_MISSING if the
 * type was absent). A queue's notification address outside the notify
 * structure, or misaligned: ::VIO_EDEVICE at queue setup. `num_queues` is
 * re-read before each queue selection: a queue at or past it reads as
 * absent (maximum 0). The driver core checks everything else (queue
 * maxima, status, features, generation).
 *
 * **Threads.** As the driver core. The notify op touches only the queue's
 * notification address (computed at queue setup) and the interrupt-status
 * op only the ISR byte, so a kick and the interrupt path may run together.
 */
#ifndef VIO_PCI_FRONT_H
#define VIO_PCI_FRONT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/driver.h>
#include <virtio/pci.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Accessors of one PCI function. Each gets `bus_ctx`; each returns 0
 *        or a negative code (passed through to the caller of the front).
 *
 * All four are required; @c delay is optional.
 */
struct vio_pci_bus {
	/** @brief Read @p size (1, 2, 4) bytes of configuration space at
	 *         @p off (< 256, aligned to @p size) into *@p val. */
	int (*cfg_read)(void *ctx, uint32_t off, unsigned size, uint32_t *val);
	/** @brief Write @p size (1, 2, 4) bytes of configuration space at @p off. */
	int (*cfg_write)(void *ctx, uint32_t off, unsigned size, uint32_t val);
	/** @brief Read @p size (1, 2, 4) bytes at offset @p off of BAR @p bar
	 *         (0..5), aligned to @p size, into *@p val. */
	int (*bar_read)(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t *val);
	/** @brief Write @p size (1, 2, 4) bytes at offset @p off of BAR @p bar. */
	int (*bar_write)(void *ctx, unsigned bar, uint64_t off, unsigned size, uint32_t val);
	/** @brief Optional: wait about @p us microseconds (the driver core's
	 *         bounded polls use it; NULL: poll back to back). */
	void (*delay)(void *ctx, uint32_t us);
};

/** @brief What a BAR decodes (vio_pci_front_size_bars()). */
enum vio_pci_bar_kind {
	VIO_PCI_BAR_NONE = 0, /**< Not implemented (or the upper half of a 64-bit BAR). */
	VIO_PCI_BAR_MEM32,    /**< 32-bit memory BAR. */
	VIO_PCI_BAR_MEM64,    /**< 64-bit memory BAR (uses the next slot too). */
	VIO_PCI_BAR_IO	      /**< I/O space BAR. */
};

/** @brief One BAR as found by vio_pci_front_size_bars(). */
struct vio_pci_bar {
	uint64_t addr;		    /**< Bus address it decodes (as programmed). */
	uint64_t size;		    /**< Bytes (a power of two), 0 if none. */
	enum vio_pci_bar_kind kind; /**< What it decodes. */
	bool prefetchable;	    /**< Memory BAR marked prefetchable. */
	bool assigned;		    /**< vio_pci_front_assign_bars() gave it @c addr. */
};

/** @brief The six BARs of a type-0 header. */
struct vio_pci_bars {
	struct vio_pci_bar bar[VIO_PCI_NUM_BARS]; /**< Indexed by BAR number. */
};

/** @brief Address windows for vio_pci_front_assign_bars() (bus addresses):
 *         a cursor that each call advances past the BARs it placed. */
struct vio_pci_window {
	uint64_t mem_base; /**< Start of the memory window. */
	uint64_t mem_size; /**< Its bytes (0: no memory BAR is assigned). */
	uint64_t io_base;  /**< Start of the I/O window. */
	uint64_t io_size;  /**< Its bytes (0: I/O BARs stay unassigned). */
};

/**
 * @brief Size the six BARs without moving them: with decoding disabled in
 *        the command register, write all-ones to each BAR, read the size
 *        mask back, restore the BAR; then restore the command register.
 *
 * A size is the lowest address bit the BAR keeps (so a device returning
 * nonsense still gives a power of two). A 64-bit BAR in slot 5 is
 * reported as ::VIO_PCI_BAR_NONE.
 * @param bus Accessors (cfg_read and cfg_write used).
 * @param ctx Passed to them.
 * @param out Receives the BARs (addresses as currently programmed,
 *            @c assigned false).
 * @retval 0 Success.
 * @retval -VIO_EINVAL NULL argument or missing accessor.
 * @retval <0 An accessor's error (the command register is restored first
 *         when possible).
 * @note Do not call while a driver uses the device: the BARs stop decoding
 *       for a moment.
 */
int vio_pci_front_size_bars(const struct vio_pci_bus *bus, void *ctx, struct vio_pci_bars *out);

/**
 * @brief Give the BARs addresses (when no firmware did): size them as
 *        vio_pci_front_size_bars(), place each memory BAR naturally aligned
 *        in @p win's memory window (largest first; a 32-bit BAR only below
 *        4 GiB) and each I/O BAR in its I/O window when it has one, program
 *        them, then enable memory (and I/O, if any I/O BAR was placed)
 *        decoding and bus mastering in the command register.
 *
 * **The window is a cursor.** On success @p win is advanced past what was
 * used: @c mem_base moves to the end of the last memory BAR placed (the
 * alignment padding before each BAR counts as used) and @c mem_size shrinks
 * by as much; @c io_base / @c io_size the same for I/O BARs. A window
 * nothing was placed in is unchanged. Several functions therefore share one
 * window by passing the same @p win to one call each, in turn; every BAR
 * still starts naturally aligned, because alignment is applied to the
 * cursor at each placement. On error @p win is unchanged.
 *
 * @code
 * struct vio_pci_window win = {.mem_base = 0x40000000, .mem_size = 0x40000000};
 * for (each virtio function f found on the bus)
 *         if (vio_pci_front_assign_bars(&bus, f, &win, &f->bars) != 0)
 *                 break; // window full (VIO_ENOSPC) or an accessor error
 * @endcode
 * @param bus Accessors.
 * @param ctx Passed to them.
 * @param win The windows (in: where to start; out on success: what is left).
 * @param out Receives the BARs with their new addresses; give
 *            @c out->bar[i].size for every @c assigned BAR to
 *            ::vio_pci_front_config::bar_size.
 * @retval 0 Success.
 * @retval -VIO_EINVAL NULL argument, missing accessor, or a window whose end
 *         would pass 2^64.
 * @retval -VIO_ENOSPC A memory BAR does not fit the window (nothing is
 *         enabled; decoding stays off; @p win unchanged).
 * @retval <0 An accessor's error (@p win unchanged).
 */
int vio_pci_front_assign_bars(const struct vio_pci_bus *bus, void *ctx, struct vio_pci_window *win,
			      struct vio_pci_bars *out);

/** @brief What the probe is told besides the accessors. Zero-initialise. */
struct vio_pci_front_config {
	/** Bytes of each BAR the BAR accessors may reach (from offset 0); 0:
	 * that BAR is not available. No structure outside is used. */
	uint64_t bar_size[VIO_PCI_NUM_BARS];
	/** Queue indices the front can drive: 0 .. queue_slots-1 (≥ 1; give
	 * at least ::vio_drv_config::num_queues). Sizes the front's memory. */
	uint16_t queue_slots;
};

/** @brief A virtio-pci front (opaque; lives in caller memory of
 *         ::VIO_PCI_FRONT_MEM_SIZE(queue_slots) bytes). */
struct vio_pci_front;

/** @cond VIO_INTERNAL */
#define VIO__PCI_FRONT_FIXED_BYTES 192u /* checked against the real struct */
#define VIO__PCI_FRONT_PER_QUEUE_BYTES 16u
/** @endcond */
/** @brief Bytes of front memory for @p queue_slots queues, as a constant
 *         expression (for `static` storage). */
#define VIO_PCI_FRONT_MEM_SIZE(queue_slots)                                                        \
	((size_t)VIO__PCI_FRONT_FIXED_BYTES +                                                      \
	 (size_t)VIO__PCI_FRONT_PER_QUEUE_BYTES * (size_t)(queue_slots))
/** @brief Alignment of that memory. */
#define VIO_PCI_FRONT_MEM_ALIGN 8u
/** @brief Most configuration reads a probe makes (the capability walk is
 *         bounded by the 48 capability slots of configuration space). */
#define VIO_PCI_FRONT_PROBE_MAX_CFG_READS 256u
/** @brief Least common configuration length the front accepts: the fields
 *         up to `queue_device` (virtio 1.0 devices end there). */
#define VIO_PCI_FRONT_COMMON_MIN 56u

/**
 * @brief Bytes of memory a front for @p queue_slots queues needs.
 * @param queue_slots Queue slots (≥ 1).
 * @return ::VIO_PCI_FRONT_MEM_SIZE(queue_slots), or 0 for 0 slots.
 */
size_t vio_pci_front_mem_size(uint16_t queue_slots);

/**
 * @brief Probe a virtio-pci device: check the vendor and device IDs
 *        (§4.1.2), walk the capability list (at most 48 entries, each
 *        pointer 4-aligned in 0x40..0xff, no entry visited twice), pick the
 *        first usable common, notify, ISR and device-configuration
 *        structures (§4.1.4) and the MSI-X capability, and create the front.
 *
 * Touches only configuration space (reads, and on a rejected device whose
 * common configuration is usable, one status read and a write of FAILED).
 * @param fp       Receives the front (a pointer into @p mem) on success.
 * @param mem      ::VIO_PCI_FRONT_MEM_ALIGN-aligned memory owned by the
 *                 front while it is used.
 * @param mem_size Bytes at @p mem (≥ vio_pci_front_mem_size()).
 * @param bus      Accessors; referenced, must outlive the front.
 * @param bus_ctx  Passed to the accessors.
 * @param cfg      BAR sizes and queue slots; copied.
 * @retval 0 A modern virtio device (or a transitional one with the modern
 *         capabilities).
 * @retval -VIO_EINVAL NULL argument, missing accessor, memory too small or
 *         misaligned, 0 queue slots.
 * @retval -VIO_ENODEV No function (vendor ID 0xffff), or virtio device ID 0.
 * @retval -VIO_ENOT_VIRTIO Another vendor, a device ID outside
 *         0x1000..0x107f, or not a type-0 header.
 * @retval -VIO_ELEGACY No virtio capability: a legacy device (§4.1.5.1.1
 *         note: fail gracefully).
 * @retval -VIO_EPCI_CAP The capability list is malformed.
 * @retval -VIO_EPCI_REGION No usable instance of a required structure,
 *         though one was present.
 * @retval -VIO_EPCI_MISSING A required structure (common, notify, ISR) is
 *         absent.
 * @retval <0 An accessor's error.
 */
int vio_pci_front_probe(struct vio_pci_front **fp, void *mem, size_t mem_size,
			const struct vio_pci_bus *bus, void *bus_ctx,
			const struct vio_pci_front_config *cfg);

/**
 * @brief The virtio device type (spec.h VIO_ID_*): PCI device ID - 0x1040,
 *        or for a transitional ID the subsystem device ID.
 * @param f The front.
 * @return The device type.
 */
uint32_t vio_pci_front_device_id(const struct vio_pci_front *f);

/**
 * @brief The PCI device ID read by the probe (0x1000..0x107f).
 * @param f The front.
 * @return The PCI device ID.
 */
uint16_t vio_pci_front_pci_device_id(const struct vio_pci_front *f);

/**
 * @brief Bytes of device-specific configuration (the device configuration
 *        structure's length; 0 without one).
 * @param f The front.
 * @return The configuration size.
 */
uint32_t vio_pci_front_config_size(const struct vio_pci_front *f);

/** @brief A virtio structure the probe chose (vio_pci_front_region()). */
struct vio_pci_region {
	uint8_t bar;	 /**< BAR index. */
	uint64_t offset; /**< Offset in the BAR. */
	uint32_t length; /**< Length in bytes (0: absent). */
};

/**
 * @brief Where the probe found the structure of type @p cfg_type.
 * @param f        The front.
 * @param cfg_type ::VIO_PCI_CAP_COMMON_CFG, ::VIO_PCI_CAP_NOTIFY_CFG,
 *                 ::VIO_PCI_CAP_ISR_CFG or ::VIO_PCI_CAP_DEVICE_CFG.
 * @param r        Receives it.
 * @retval 0 Found.
 * @retval -VIO_EINVAL Another type, or no such structure (device config).
 */
int vio_pci_front_region(const struct vio_pci_front *f, unsigned cfg_type,
			 struct vio_pci_region *r);

/** @brief The MSI-X capability (vio_pci_front_msix()). */
struct vio_pci_msix_info {
	uint16_t cap;	     /**< Configuration-space offset of the capability. */
	uint16_t table_size; /**< Vectors (Table Size + 1; 1..2048). */
	uint8_t table_bar;   /**< BAR of the table. */
	uint32_t table_off;  /**< Offset of the table in that BAR. */
	uint8_t pba_bar;     /**< BAR of the pending-bit array. */
	uint32_t pba_off;    /**< Offset of the PBA in that BAR. */
};

/**
 * @brief The MSI-X capability the probe found.
 * @param f    The front.
 * @param info Receives it.
 * @retval 0 The device has MSI-X.
 * @retval -VIO_ENODEV It has none (use INTx: vio_drv_interrupt()).
 */
int vio_pci_front_msix(const struct vio_pci_front *f, struct vio_pci_msix_info *info);

/**
 * @brief Program MSI-X table entry @p entry (address, data, mask) in its BAR.
 * @param f      The front.
 * @param entry  Entry index (< table size).
 * @param addr   Message address (the interrupt controller's doorbell).
 * @param data   Message data.
 * @param masked Leave the entry masked.
 * @retval 0 Success.
 * @retval -VIO_ENODEV No MSI-X.
 * @retval -VIO_EINVAL @p entry is beyond the table.
 * @retval -VIO_EPCI_REGION The entry lies outside the table's granted BAR.
 * @retval <0 An accessor's error.
 */
int vio_pci_front_msix_set_entry(struct vio_pci_front *f, uint16_t entry, uint64_t addr,
				 uint32_t data, bool masked);

/**
 * @brief Enable or disable MSI-X in the capability's Message Control (and
 *        clear the Function Mask). With MSI-X enabled the device signals
 *        through the vectors assigned with ::vio_drv_config::use_vectors,
 *        not through INTx and the ISR.
 * @param f      The front.
 * @param enable true to enable.
 * @retval 0 Success.
 * @retval -VIO_ENODEV No MSI-X.
 * @retval <0 An accessor's error.
 */
int vio_pci_front_msix_enable(struct vio_pci_front *f, bool enable);

/**
 * @brief The driver-core transport ops of virtio-pci. Their context
 *        (::vio_drv_config::ops_ctx) is the front.
 *
 * `num_queues` reads the common configuration's field; `queue_max` reports
 * 0 for an index at or past it (without selecting it); queue reset through
 * `queue_reset` (§4.1.4.3.2; ::VIO_EDEVICE if the common configuration is
 * too short to hold it); `notify` writes 16 bits (the queue index, or with
 * VIO_F_NOTIF_CONFIG_DATA `queue_notif_config_data`) or, with
 * VIO_F_NOTIFICATION_DATA, the 32-bit notification data (§4.1.5.2);
 * `interrupt_status` reads the ISR, which clears it (no ack op);
 * `set_config_vector` / `set_queue_vector` write and read back the vector
 * (a vector at or past the MSI-X table size, or any vector without MSI-X,
 * is refused with ::VIO_ENOSPC before touching the device; ::VIO_DRV_NO_VECTOR
 * is always allowed); `device_id` re-reads the PCI IDs and reports
 * ::VIO_EDEVICE if they changed since the probe.
 *
 * The front honours VIO_F_NOTIF_CONFIG_DATA: add it to
 * ::vio_drv_config::features to accept it.
 */
extern const struct vio_drv_transport_ops vio_pci_front_ops;

/**
 * @brief Fill a ::vio_drv_config's transport fields for front @p f.
 * @param f   The front.
 * @param cfg The driver configuration to complete (ops, ops_ctx).
 */
void vio_pci_front_drv_config(struct vio_pci_front *f, struct vio_drv_config *cfg);

#ifdef __cplusplus
}
#endif

/** @} */
#endif /* VIO_PCI_FRONT_H */
