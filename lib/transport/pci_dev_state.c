/* SPDX-License-Identifier: MIT */
/* virtio-pci register model: function reset, and save/restore of the PCI
 * state around the device core's blob.
 *
 * Layout, every field little-endian:
 *   header (56 bytes)
 *     0 magic "VIOP"   4 version (1)   8 vectors (16 bits)   10 BAR index (8)
 *    11 reserved (8, 0)   12 command (16)   14 interrupt line   15 cache line (8)
 *    16 BAR address (64)
 *    24 MSI-X Message Control bits 14-15 (16)   26 config_generation (8)
 *    27 ISR (8)   28 the core generation config_generation last saw (32)
 *    32 device_feature_select   36 driver_feature_select (32)
 *    40 queue_select (16)   42 pci_cfg cap.bar (8)   43 reserved (8, 0)
 *    44 pci_cfg cap.offset   48 cap.length   52 pci_cfg_data (4 bytes)
 *   the MSI-X table: per vector address, upper address, data, control (32)
 *   the pending bits: 32-bit words, two per 64 vectors
 *   the device core's state (vio_device_save())
 */
#include "transport/pci_dev_impl.h"

#define STATE_MAGIC 0x504f4956u /* "VIOP" */
#define STATE_VERSION 1u
#define HDR 56u
#define COMMAND_WRITABLE                                                                           \
	(VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_MASTER | VIO_PCI_COMMAND_PARITY |                \
	 VIO_PCI_COMMAND_SERR | VIO_PCI_COMMAND_INTX_DISABLE)

void vio_pci_dev_reset(struct vio_pci_dev *p)
{
	/* The device first (its transport reset clears the ISR, selectors and
	 * pending bits), then the PCI state. */
	vio_device_reset(p->dev);
	vio__pci_msix_reset(p);
	vio__pci_cfg_reset(p);
	atomic_store(&p->isr, 0u);
	vio__pci_sync_intx(p);
}

static void put(unsigned char *b, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get(const unsigned char *b, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static size_t pba_words(const struct vio_pci_dev *p)
{
	return ((size_t)p->nvec + 63u) / 64u * 2u;
}

static size_t pci_bytes(const struct vio_pci_dev *p)
{
	return HDR + (size_t)p->nvec * 16u + pba_words(p) * 4u;
}

size_t vio_pci_dev_state_size(const struct vio_pci_dev *p)
{
	return pci_bytes(p) + vio_device_state_size(p->dev);
}

int vio_pci_dev_save(const struct vio_pci_dev *p, void *buf, size_t len)
{
	if (buf == NULL || len < vio_pci_dev_state_size(p))
		return -VIO_ENOSPC;
	struct vio_pci_dev *m = (struct vio_pci_dev *)p;
	unsigned char *b = buf;
	VIO_MEMSET(b, 0, HDR);
	put(b + 0, STATE_MAGIC, 4);
	put(b + 4, STATE_VERSION, 4);
	put(b + 8, p->nvec, 2);
	put(b + 10, p->bar, 1);
	put(b + 12, vio_pci_dev_command(p), 2);
	put(b + 14, p->int_line, 1);
	put(b + 15, p->cache_line, 1);
	put(b + 16, p->bar_addr, 8);
	put(b + 24, atomic_load(&m->msix_ctrl), 2);
	put(b + 26, p->gen8, 1);
	put(b + 27, atomic_load(&m->isr), 1);
	put(b + 28, p->gen_seen, 4);
	put(b + 32, p->dfselect, 4);
	put(b + 36, p->gfselect, 4);
	put(b + 40, p->qselect, 2);
	put(b + 42, p->cfgcap_bar, 1);
	put(b + 44, p->cfgcap_offset, 4);
	put(b + 48, p->cfgcap_length, 4);
	VIO_MEMCPY(b + 52, p->cfgcap_data, 4);
	unsigned char *t = b + HDR;
	for (uint16_t v = 0; v < p->nvec; v++, t += 16) {
		put(t + 0, atomic_load(&m->table[v].addr_lo), 4);
		put(t + 4, atomic_load(&m->table[v].addr_hi), 4);
		put(t + 8, atomic_load(&m->table[v].data), 4);
		put(t + 12, atomic_load(&m->table[v].ctrl), 4);
	}
	for (size_t w = 0; w < pba_words(p); w++, t += 4)
		put(t, atomic_load(&m->pba[w]), 4);
	return vio_device_save(p->dev, t, len - pci_bytes(p));
}

/* The PCI part is well formed for this model. */
static bool pci_valid(const struct vio_pci_dev *p, const unsigned char *b)
{
	if (get(b, 4) != STATE_MAGIC || get(b + 4, 4) != STATE_VERSION ||
	    get(b + 8, 2) != p->nvec || get(b + 10, 1) != p->bar || b[11] != 0 || b[43] != 0)
		return false;
	if ((get(b + 12, 2) & ~(uint64_t)COMMAND_WRITABLE) != 0 ||
	    (get(b + 16, 8) & (p->bar_size - 1u)) != 0 ||
	    (get(b + 24, 2) &
	     ~(uint64_t)(VIO_PCI_MSIX_FLAGS_ENABLE | VIO_PCI_MSIX_FLAGS_MASKALL)) != 0 ||
	    (b[27] & ~(VIO_PCI_ISR_QUEUE | VIO_PCI_ISR_CONFIG)) != 0)
		return false;
	if (p->nvec == 0 && get(b + 24, 2) != 0)
		return false;
	const unsigned char *t = b + HDR;
	for (uint16_t v = 0; v < p->nvec; v++, t += 16)
		if ((get(t, 4) & 3u) != 0 || (get(t + 12, 4) & ~(uint64_t)1u) != 0)
			return false;
	/* No pending bit beyond the table. */
	for (size_t w = 0; w < pba_words(p); w++, t += 4) {
		uint64_t x = get(t, 4);
		size_t first = w * 32u;
		if (first >= p->nvec) {
			if (x != 0)
				return false;
		} else if (p->nvec - first < 32u && (x >> (p->nvec - first)) != 0) {
			return false;
		}
	}
	return true;
}

/* Every vector the restored device maps is inside the table. */
static bool vectors_valid(const struct vio_pci_dev *p)
{
	uint16_t v = vio_device_config_vector(p->dev);
	if (v != VIO_DEVICE_NO_VECTOR && v >= p->nvec)
		return false;
	for (uint16_t q = 0; q < vio_device_num_queues(p->dev); q++) {
		v = vio_device_queue_vector(p->dev, q);
		if (v != VIO_DEVICE_NO_VECTOR && v >= p->nvec)
			return false;
	}
	return true;
}

int vio_pci_dev_restore(struct vio_pci_dev *p, const void *buf, size_t len)
{
	const unsigned char *b = buf;
	if (b == NULL || len < pci_bytes(p) || !pci_valid(p, b)) {
		vio_pci_dev_reset(p);
		return -VIO_ESTATE_BLOB;
	}
	/* The PCI state first: activating a restored live device may send
	 * interrupts, which must find the saved table, masks and ISR. */
	atomic_store_explicit(&p->command, (unsigned)get(b + 12, 2), memory_order_relaxed);
	p->int_line = b[14];
	p->cache_line = b[15];
	p->bar_addr = get(b + 16, 8);
	p->gen8 = b[26];
	p->gen_seen = (uint32_t)get(b + 28, 4);
	p->dfselect = (uint32_t)get(b + 32, 4);
	p->gfselect = (uint32_t)get(b + 36, 4);
	p->qselect = (uint16_t)get(b + 40, 2);
	p->cfgcap_bar = b[42];
	p->cfgcap_offset = (uint32_t)get(b + 44, 4);
	p->cfgcap_length = (uint32_t)get(b + 48, 4);
	VIO_MEMCPY(p->cfgcap_data, b + 52, 4);
	const unsigned char *t = b + HDR;
	for (uint16_t v = 0; v < p->nvec; v++, t += 16) {
		atomic_store(&p->table[v].addr_lo, (unsigned)get(t + 0, 4));
		atomic_store(&p->table[v].addr_hi, (unsigned)get(t + 4, 4));
		atomic_store(&p->table[v].data, (unsigned)get(t + 8, 4));
		atomic_store(&p->table[v].ctrl, (unsigned)get(t + 12, 4));
	}
	for (size_t w = 0; w < pba_words(p); w++, t += 4)
		atomic_store(&p->pba[w], (unsigned)get(t, 4));
	atomic_store(&p->msix_ctrl, (unsigned)get(b + 24, 2));
	atomic_store(&p->isr, (unsigned)b[27]);

	int rc = vio_device_restore(p->dev, t, len - pci_bytes(p));
	if (rc == 0 && !vectors_valid(p))
		rc = -VIO_ESTATE_BLOB;
	if (rc < 0) {
		vio_pci_dev_reset(p);
		return rc;
	}
	vio__pci_sync_intx(p);
	return 0;
}
