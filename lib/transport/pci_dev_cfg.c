/* SPDX-License-Identifier: MIT */
/* virtio-pci register model: PCI configuration space. A type-0 header (PCI
 * Local Bus spec 3.0 §6.1–§6.2), the virtio structure capabilities (virtio
 * 1.4 §4.1.4), the PCI configuration access window (§4.1.4.9) and the
 * MSI-X capability (PCI 3.0 §6.8.2). Accesses are decoded per 32-bit
 * register with byte enables, as the bus delivers them. */
#include "transport/pci_dev_impl.h"

#define CFG_SIZE VIO_PCI_CFG_SPACE_SIZE
#define COMMAND_WRITABLE                                                                           \
	(VIO_PCI_COMMAND_MEMORY | VIO_PCI_COMMAND_MASTER | VIO_PCI_COMMAND_PARITY |                \
	 VIO_PCI_COMMAND_SERR | VIO_PCI_COMMAND_INTX_DISABLE)

uint16_t vio_pci_dev_command(const struct vio_pci_dev *p)
{
	return (uint16_t)atomic_load_explicit(&((struct vio_pci_dev *)p)->command,
					      memory_order_relaxed);
}

uint64_t vio_pci_dev_bar_address(const struct vio_pci_dev *p)
{
	return p->bar_addr;
}

void vio__pci_cfg_reset(struct vio_pci_dev *p)
{
	atomic_store_explicit(&p->command, 0u, memory_order_relaxed);
	p->bar_addr = 0;
	p->int_line = 0;
	p->cache_line = 0;
	p->cfgcap_bar = 0;
	p->cfgcap_offset = p->cfgcap_length = 0;
	VIO_MEMSET(p->cfgcap_data, 0, sizeof(p->cfgcap_data));
}

/* ---- The capability list ----------------------------------------------------------- */

struct vcap {
	uint8_t type, len;
	uint32_t offset, length;
};

/* The virtio capability at @at, if present. */
static bool vcap_at(const struct vio_pci_dev *p, uint32_t at, struct vcap *c)
{
	c->len = 16;
	c->offset = 0;
	c->length = 0;
	switch (at) {
	case VIO__PCI_CAP_COMMON:
		c->type = VIO_PCI_CAP_COMMON_CFG;
		c->offset = VIO_PCI_DEV_COMMON_OFFSET;
		c->length = VIO_PCI_COMMON_SIZE;
		return true;
	case VIO__PCI_CAP_NOTIFY:
		c->type = VIO_PCI_CAP_NOTIFY_CFG;
		c->len = 20;
		c->offset = VIO_PCI_DEV_NOTIFY_OFFSET;
		c->length = p->notify_len;
		return true;
	case VIO__PCI_CAP_ISR:
		c->type = VIO_PCI_CAP_ISR_CFG;
		c->offset = VIO_PCI_DEV_ISR_OFFSET;
		c->length = 1;
		return true;
	case VIO__PCI_CAP_DEVICE:
		/* §4.1.4.6: present for a device with configuration space. */
		c->type = VIO_PCI_CAP_DEVICE_CFG;
		c->offset = VIO_PCI_DEV_DEVICE_OFFSET;
		c->length = p->device_len;
		return p->device_len > 0;
	case VIO__PCI_CAP_PCICFG:
		c->type = VIO_PCI_CAP_PCI_CFG;
		c->len = 20;
		return true;
	default:
		return false;
	}
}

/* The capability after the one at @at (0 at the end). */
static uint32_t cap_next(const struct vio_pci_dev *p, uint32_t at)
{
	static const uint32_t order[] = {VIO__PCI_CAP_COMMON, VIO__PCI_CAP_NOTIFY,
					 VIO__PCI_CAP_ISR,    VIO__PCI_CAP_DEVICE,
					 VIO__PCI_CAP_PCICFG, VIO__PCI_CAP_MSIX};
	unsigned i = 0;
	while (i < 6 && order[i] != at)
		i++;
	for (i++; i < 6; i++) {
		if (order[i] == VIO__PCI_CAP_DEVICE && p->device_len == 0)
			continue;
		if (order[i] == VIO__PCI_CAP_MSIX && p->nvec == 0)
			continue;
		return order[i];
	}
	return 0;
}

/* ---- The PCI configuration access window (§4.1.4.9) ------------------------------- */

/* cap.bar, cap.offset and cap.length select 1, 2 or 4 aligned bytes of our
 * BAR (§4.1.4.9.2: the driver MUST NOT do otherwise; the BAR access checks
 * the range). */
static bool window_valid(const struct vio_pci_dev *p)
{
	uint32_t n = p->cfgcap_length;
	return p->cfgcap_bar == p->bar && (n == 1 || n == 2 || n == 4) && p->cfgcap_offset % n == 0;
}

static int window_read(struct vio_pci_dev *p, uint32_t *dw)
{
	if (!window_valid(p)) {
		*dw = 0;
		return -VIO_EREG;
	}
	/* §4.1.4.9.1: read cap.length bytes of the BAR and store them in
	 * pci_cfg_data. */
	uint64_t v;
	int rc = vio_pci_dev_bar_read(p, p->bar, p->cfgcap_offset, (unsigned)p->cfgcap_length, &v);
	for (uint32_t i = 0; i < p->cfgcap_length; i++)
		p->cfgcap_data[i] = (uint8_t)(v >> (8 * i));
	*dw = (uint32_t)p->cfgcap_data[0] | (uint32_t)p->cfgcap_data[1] << 8 |
	      (uint32_t)p->cfgcap_data[2] << 16 | (uint32_t)p->cfgcap_data[3] << 24;
	return rc;
}

static int window_write(struct vio_pci_dev *p, uint32_t val, uint32_t mask)
{
	for (unsigned i = 0; i < 4; i++)
		if ((mask >> (8 * i)) & 0xffu)
			p->cfgcap_data[i] = (uint8_t)(val >> (8 * i));
	if (!window_valid(p))
		return -VIO_EREG;
	/* §4.1.4.9.1: write the first cap.length bytes of pci_cfg_data. */
	uint64_t v = 0;
	for (uint32_t i = 0; i < p->cfgcap_length; i++)
		v |= (uint64_t)p->cfgcap_data[i] << (8 * i);
	return vio_pci_dev_bar_write(p, p->bar, p->cfgcap_offset, v, (unsigned)p->cfgcap_length);
}

/* ---- 32-bit registers ---------------------------------------------------------------- */

static uint32_t bar_reg(const struct vio_pci_dev *p, uint32_t dw)
{
	uint32_t idx = (dw - VIO_PCI_CFG_BAR0) / 4u;
	if (idx == p->bar) {
		uint32_t flags =
			VIO_PCI_BAR_MEM_TYPE_64 | (p->prefetch ? VIO_PCI_BAR_MEM_PREFETCH : 0u);
		return ((uint32_t)p->bar_addr & ~(uint32_t)VIO_PCI_BAR_MEM_FLAGS_MASK) | flags;
	}
	if (idx == p->bar + 1u)
		return (uint32_t)(p->bar_addr >> 32);
	return 0; /* unimplemented BARs are hardwired to 0 */
}

static uint32_t msg_ctrl(const struct vio_pci_dev *p)
{
	return ((uint32_t)p->nvec - 1u) | atomic_load(&((struct vio_pci_dev *)p)->msix_ctrl);
}

/* The register at @dw (a multiple of 4); reading pci_cfg_data is a BAR
 * read, whose result is returned. */
static int reg_read(struct vio_pci_dev *p, uint32_t dw, uint32_t *out)
{
	uint32_t v = 0;
	struct vcap c;
	switch (dw) {
	case VIO_PCI_CFG_VENDOR_ID:
		v = VIO_PCI_VENDOR_ID | (uint32_t)p->device_id << 16;
		break;
	case VIO_PCI_CFG_COMMAND: {
		uint32_t st = VIO_PCI_STATUS_CAP_LIST;
		/* §4.1.4.5.1: with MSI-X off, Interrupt Status is the OR of the
		 * ISR bits (whatever Interrupt Disable says, PCI 3.0 §6.2.3). */
		if (!vio__pci_msix_on(p) && atomic_load(&p->isr) != 0)
			st |= VIO_PCI_STATUS_INTERRUPT;
		v = vio_pci_dev_command(p) | st << 16;
		break;
	}
	case VIO_PCI_CFG_REVISION:
		v = p->revision | p->class_code << 8;
		break;
	case VIO_PCI_CFG_CACHE_LINE_SIZE:
		v = p->cache_line; /* latency timer 0, header type 0, no BIST */
		break;
	case VIO_PCI_CFG_SUBSYS_VENDOR_ID:
		v = p->subsys_vendor | (uint32_t)p->subsys_id << 16;
		break;
	case VIO_PCI_CFG_CAP_PTR:
		v = VIO__PCI_CAP_COMMON;
		break;
	case VIO_PCI_CFG_INTERRUPT_LINE:
		v = p->int_line | (uint32_t)p->intx_pin << 8;
		break;
	case VIO__PCI_CAP_MSIX:
		if (p->nvec > 0)
			v = VIO_PCI_CAP_ID_MSIX | cap_next(p, dw) << 8 | msg_ctrl(p) << 16;
		break;
	case VIO__PCI_CAP_MSIX + VIO_PCI_MSIX_TABLE:
		if (p->nvec > 0)
			v = p->table_off | p->bar;
		break;
	case VIO__PCI_CAP_MSIX + VIO_PCI_MSIX_PBA:
		if (p->nvec > 0)
			v = p->pba_off | p->bar;
		break;
	case VIO__PCI_CAP_PCICFG + VIO_PCI_CAP_OFF_BAR:
		v = p->cfgcap_bar;
		break;
	case VIO__PCI_CAP_PCICFG + VIO_PCI_CAP_OFF_OFFSET:
		v = p->cfgcap_offset;
		break;
	case VIO__PCI_CAP_PCICFG + VIO_PCI_CAP_OFF_LENGTH:
		v = p->cfgcap_length;
		break;
	case VIO__PCI_CAP_PCICFG + VIO_PCI_CFG_CAP_DATA:
		return window_read(p, out);
	case VIO__PCI_CAP_NOTIFY + VIO_PCI_NOTIFY_CAP_MULT:
		v = VIO_PCI_DEV_NOTIFY_MULT;
		break;
	default:
		if (dw >= VIO_PCI_CFG_BAR0 && dw < VIO_PCI_CFG_BAR0 + 4u * VIO_PCI_NUM_BARS) {
			v = bar_reg(p, dw);
			break;
		}
		/* The virtio capabilities' read-only words. */
		uint32_t at = VIO__PCI_CAP_COMMON;
		while (at != 0 && !(at <= dw && dw < at + 16u))
			at = at == VIO__PCI_CAP_PCICFG ? 0 : cap_next(p, at);
		if (at != 0 && vcap_at(p, at, &c)) {
			switch (dw - at) {
			case 0:
				v = VIO_PCI_CAP_ID_VNDR | cap_next(p, at) << 8 |
				    (uint32_t)c.len << 16 | (uint32_t)c.type << 24;
				break;
			case VIO_PCI_CAP_OFF_BAR:
				v = p->bar; /* id 0, padding 0 */
				break;
			case VIO_PCI_CAP_OFF_OFFSET:
				v = c.offset;
				break;
			case VIO_PCI_CAP_OFF_LENGTH:
				v = c.length;
				break;
			default:
				break;
			}
		}
		break;
	}
	*out = v;
	return 0;
}

/* Write the bytes of @val selected by @mask (0xff per byte) to the register
 * at @dw. Returns -VIO_EREG if no byte written is writable. */
static int reg_write(struct vio_pci_dev *p, uint32_t dw, uint32_t val, uint32_t mask)
{
	uint32_t old;
	switch (dw) {
	case VIO_PCI_CFG_COMMAND: {
		/* The status half: error bits are write-1-to-clear, and none is
		 * ever set here; a write there is legal and changes nothing. */
		if ((mask & 0xffffu) == 0)
			return 0;
		old = vio_pci_dev_command(p);
		uint32_t cmd = ((old & ~mask) | (val & mask)) & COMMAND_WRITABLE;
		atomic_store_explicit(&p->command, cmd, memory_order_relaxed);
		if ((old ^ cmd) & VIO_PCI_COMMAND_INTX_DISABLE)
			vio__pci_sync_intx(p);
		return 0;
	}
	case VIO_PCI_CFG_CACHE_LINE_SIZE:
		if ((mask & 0xffu) == 0)
			return -VIO_EREG;
		p->cache_line = (uint8_t)val;
		return 0;
	case VIO_PCI_CFG_INTERRUPT_LINE:
		if ((mask & 0xffu) == 0)
			return -VIO_EREG;
		p->int_line = (uint8_t)val;
		return 0;
	case VIO_PCI_CFG_ROM_ADDRESS:
		return 0; /* no expansion ROM: hardwired 0, sizing reads 0 */
	case VIO__PCI_CAP_MSIX:
		/* Message Control's Function Mask and Enable (bits 14, 15 of
		 * the upper half); Table Size and the header are read-only. */
		if (p->nvec == 0 || (mask >> 16) == 0)
			return -VIO_EREG;
		old = atomic_load(&p->msix_ctrl) << 16;
		vio__pci_msix_set_ctrl(p, ((old & ~mask) | (val & mask)) >> 16);
		return 0;
	case VIO__PCI_CAP_PCICFG + VIO_PCI_CAP_OFF_BAR:
		if ((mask & 0xffu) == 0)
			return -VIO_EREG;
		p->cfgcap_bar = (uint8_t)val;
		return 0;
	case VIO__PCI_CAP_PCICFG + VIO_PCI_CAP_OFF_OFFSET:
		p->cfgcap_offset = (p->cfgcap_offset & ~mask) | (val & mask);
		return 0;
	case VIO__PCI_CAP_PCICFG + VIO_PCI_CAP_OFF_LENGTH:
		p->cfgcap_length = (p->cfgcap_length & ~mask) | (val & mask);
		return 0;
	case VIO__PCI_CAP_PCICFG + VIO_PCI_CFG_CAP_DATA:
		return window_write(p, val, mask);
	default:
		break;
	}
	if (dw >= VIO_PCI_CFG_BAR0 && dw < VIO_PCI_CFG_BAR0 + 4u * VIO_PCI_NUM_BARS) {
		uint32_t idx = (dw - VIO_PCI_CFG_BAR0) / 4u;
		/* Sizing (PCI 3.0 §6.2.5.1): the address bits below the size
		 * are read-only 0, so writing all ones reads back the size
		 * mask. Unimplemented BARs ignore writes. */
		uint64_t keep = ~(p->bar_size - 1u);
		if (idx == p->bar) {
			old = bar_reg(p, dw);
			uint32_t lo = ((old & ~mask) | (val & mask)) & (uint32_t)keep &
				      ~(uint32_t)VIO_PCI_BAR_MEM_FLAGS_MASK;
			p->bar_addr = (p->bar_addr & ~(uint64_t)0xffffffffu) | lo;
		} else if (idx == p->bar + 1u) {
			old = bar_reg(p, dw);
			uint64_t hi = ((old & ~mask) | (val & mask)) & (uint32_t)(keep >> 32);
			p->bar_addr = (p->bar_addr & 0xffffffffu) | hi << 32;
		}
		return 0;
	}
	/* Identification, header type, capability pointer, the capabilities'
	 * read-only words, unused space. */
	return -VIO_EREG;
}

/* ---- Accesses -------------------------------------------------------------------------- */

/* 1, 2 or 4 bytes inside one 32-bit register of the 256-byte space. */
static bool cfg_access_ok(uint32_t offset, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && offset < CFG_SIZE &&
	       (offset & 3u) + size <= 4u;
}

int vio_pci_dev_cfg_read(struct vio_pci_dev *p, uint32_t offset, unsigned size, uint32_t *value)
{
	*value = 0;
	if (!cfg_access_ok(offset, size))
		return -VIO_EREG;
	uint32_t dw;
	int rc = reg_read(p, offset & ~3u, &dw);
	if (rc < 0)
		return rc;
	uint32_t v = dw >> (8 * (offset & 3u));
	if (size < 4)
		v &= (1u << (8 * size)) - 1u;
	*value = v;
	return 0;
}

int vio_pci_dev_cfg_write(struct vio_pci_dev *p, uint32_t offset, uint32_t value, unsigned size)
{
	if (!cfg_access_ok(offset, size))
		return -VIO_EREG;
	unsigned shift = 8 * (offset & 3u);
	uint32_t mask = size == 4 ? 0xffffffffu : ((1u << (8 * size)) - 1u) << shift;
	return reg_write(p, offset & ~3u, (value << shift) & mask, mask);
}

int vio_pci_dev_cfg_read_bytes(struct vio_pci_dev *p, uint32_t offset, void *data, unsigned size)
{
	if (size > 4)
		return -VIO_EREG;
	uint32_t v;
	int rc = vio_pci_dev_cfg_read(p, offset, size, &v);
	unsigned char *b = data;
	for (unsigned i = 0; i < size; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	return rc;
}

int vio_pci_dev_cfg_write_bytes(struct vio_pci_dev *p, uint32_t offset, const void *data,
				unsigned size)
{
	if (size == 0 || size > 4)
		return -VIO_EREG;
	const unsigned char *b = data;
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)b[i] << (8 * i);
	return vio_pci_dev_cfg_write(p, offset, v, size);
}
