/* SPDX-License-Identifier: MIT */
/* Test support: raw access to virtqueue rings, bypassing the library.
 *
 * A mock *driver* that writes descriptors and makes them available exactly
 * as told (hostile or not), for testing the device half; and a mock *device*
 * that reads what was made available and writes used entries exactly as
 * told, for testing the driver half. Both ring formats.
 *
 * Nothing here validates anything: a test can write any value anywhere in
 * the ring. Multi-byte fields are written little-endian on any host. Ring
 * fields that publish (split avail/used idx, packed descriptor flags) are
 * stored with release semantics and read with acquire semantics, so the
 * helpers also serve threaded tests. No cmocka dependency: usable from fuzz
 * harnesses. Misuse (bad slot, NULL part) aborts.
 *
 * Position bookkeeping lives in struct raw_ring: the mock driver's next
 * position to make available (avail_*), the mock device's next position to
 * read (dev_*) and to complete (used_*). Tests may read or overwrite them. */
#ifndef VIO_TEST_RAW_RING_H
#define VIO_TEST_RAW_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/devq.h>
#include <virtio/queue.h>
#include <virtio/ring_packed.h>
#include <virtio/ring_split.h>
#include <virtio/vq.h>

struct guest_mem;

/* One descriptor as the mock writes or reads it. @flags: VIO_DESC_F_* as
 * stored (the packed "avail"/"used" helpers add AVAIL/USED themselves);
 * @next_or_id: split `next`, packed buffer `id`. */
struct raw_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next_or_id;
};

struct raw_ring {
	enum vio_ring_format format;
	uint16_t size;
	/* Host pointers to the three parts: descriptor table/ring; split avail
	 * ring or packed driver event suppression; split used ring or packed
	 * device event suppression. */
	void *desc;
	void *driver;
	void *device;
	/* Device-visible addresses (0 when attached without a guest_mem). */
	uint64_t desc_addr;
	uint64_t driver_addr;
	uint64_t device_addr;

	/* Mock driver: split free-running avail idx; packed next slot + wrap. */
	uint16_t avail_idx;
	bool avail_wrap;
	/* Mock device, reading: split next avail entry (free-running); packed
	 * next slot + the wrap counter an available descriptor there carries. */
	uint16_t dev_avail;
	bool dev_avail_wrap;
	/* Mock device, completing: split free-running used idx; packed next
	 * slot + the device ring wrap counter. */
	uint16_t used_idx;
	bool used_wrap;
};

/* ---- Set-up ---------------------------------------------------------- */

/* Use existing ring memory (e.g. the parts given to vio_vq_init()). Nothing
 * is zeroed; the positions are reset (packed wrap counters start at 1). */
void raw_ring_attach(struct raw_ring *r, enum vio_ring_format fmt, uint16_t size, void *desc,
		     void *driver, void *device);
/* Allocate the three parts with gm_alloc() (zeroed, spec alignment, each in
 * its own region of exactly the part's size) and reset the positions. */
void raw_ring_alloc(struct raw_ring *r, struct guest_mem *gm, enum vio_ring_format fmt,
		    uint16_t size);
/* Bytes of each part: desc, driver and device area. */
size_t raw_ring_desc_bytes(const struct raw_ring *r);
size_t raw_ring_driver_bytes(const struct raw_ring *r);
size_t raw_ring_device_bytes(const struct raw_ring *r);
/* Positions back to the reset state (split 0; packed slot 0, wrap 1). */
void raw_ring_rewind(struct raw_ring *r);
/* Zero all three parts and rewind. */
void raw_ring_clear(struct raw_ring *r);
/* Fill the ring fields of a device/driver queue config (format, size and
 * the three addresses/pointers); other fields are left alone. */
void raw_ring_devq_config(const struct raw_ring *r, struct vio_devq_config *cfg);
void raw_ring_vq_config(const struct raw_ring *r, struct vio_vq_config *cfg);

/* ---- Descriptors in any table (ring or indirect), any alignment ------- */

/* Write / read entry @i of @table in format @fmt, all four fields as given. */
void raw_desc_put(void *table, unsigned i, enum vio_ring_format fmt, const struct raw_desc *d);
void raw_desc_get(const void *table, unsigned i, enum vio_ring_format fmt, struct raw_desc *d);
/* Shorthands. */
void raw_split_put(void *table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
		   uint16_t next);
void raw_packed_put(void *table, unsigned i, uint64_t addr, uint32_t len, uint16_t id,
		    uint16_t flags);

/* ---- Little-endian bytes at any address ------------------------------ */

void raw_put_le16(void *p, uint16_t v);
void raw_put_le32(void *p, uint32_t v);
void raw_put_le64(void *p, uint64_t v);
uint16_t raw_get_le16(const void *p);
uint32_t raw_get_le32(const void *p);
uint64_t raw_get_le64(const void *p);

/* ---- Split ring: mock driver ----------------------------------------- */

/* Put @head in the avail ring at avail_idx and publish avail_idx + 1. */
void raw_split_avail_add(struct raw_ring *r, uint16_t head);
/* Write avail ring entry at free-running position @pos (not published). */
void raw_split_avail_entry_set(struct raw_ring *r, uint16_t pos, uint16_t head);
/* Store avail->idx = @idx (release) and make it the mock's avail_idx. */
void raw_split_avail_publish(struct raw_ring *r, uint16_t idx);
void raw_split_avail_flags_set(struct raw_ring *r, uint16_t flags);
void raw_split_used_event_set(struct raw_ring *r, uint16_t v);
uint16_t raw_split_avail_idx_get(const struct raw_ring *r);
uint16_t raw_split_avail_entry_get(const struct raw_ring *r, uint16_t pos);
uint16_t raw_split_used_event_get(const struct raw_ring *r);

/* ---- Split ring: mock device ----------------------------------------- */

/* Next available head: 0, or -1 when avail->idx == dev_avail. */
int raw_split_avail_next(struct raw_ring *r, uint16_t *head);
/* Write used element {id, len} at used_idx and publish used_idx + 1. */
void raw_split_used_add(struct raw_ring *r, uint32_t id, uint32_t len);
/* Write the used element at free-running position @pos (not published). */
void raw_split_used_elem_set(struct raw_ring *r, uint16_t pos, uint32_t id, uint32_t len);
/* Store used->idx = @idx (release) and make it the mock's used_idx. */
void raw_split_used_publish(struct raw_ring *r, uint16_t idx);
void raw_split_used_flags_set(struct raw_ring *r, uint16_t flags);
void raw_split_avail_event_set(struct raw_ring *r, uint16_t v);
uint16_t raw_split_used_idx_get(const struct raw_ring *r);
uint16_t raw_split_avail_flags_get(const struct raw_ring *r);
uint16_t raw_split_avail_event_get(const struct raw_ring *r);

/* ---- Packed ring: both sides ----------------------------------------- */

/* AVAIL/USED bits that mark a descriptor available (driver) or used
 * (device) under wrap counter @wrap (§2.8.1). */
uint16_t raw_packed_avail_bits(bool wrap);
uint16_t raw_packed_used_bits(bool wrap);
/* Raw flags of ring slot @slot: store (release) / load (acquire). */
void raw_packed_flags_set(struct raw_ring *r, uint16_t slot, uint16_t flags);
uint16_t raw_packed_flags_get(const struct raw_ring *r, uint16_t slot);
/* Event suppression structures: driver area (driver's) and device area. */
void raw_packed_event_set(void *area, uint16_t off_wrap, uint16_t flags);
void raw_packed_event_get(const void *area, uint16_t *off_wrap, uint16_t *flags);

/* Mock driver: write @n (1..size) descriptors at consecutive slots from
 * avail_idx, each with flags d[k].flags | the AVAIL/USED bits of the wrap
 * counter at its slot; the head's flags are stored last. Advances avail_idx
 * / avail_wrap. Returns the head slot. */
uint16_t raw_packed_avail_add(struct raw_ring *r, const struct raw_desc *d, unsigned n);

/* Mock device: the next available buffer at dev_avail: its id (from the
 * last descriptor of the NEXT-linked list) and ring slot count. 0, or -1 if
 * the head is not available (or the list runs longer than the ring).
 * Advances dev_avail / dev_avail_wrap. */
int raw_packed_avail_next(struct raw_ring *r, uint16_t *id, uint16_t *ndesc);
/* Mock device: write a used descriptor {id, len} at used_idx with flags =
 * used bits of used_wrap | @extra_flags (e.g. VIO_DESC_F_WRITE), stored
 * last, then advance used_idx by @ndesc slots (1..size). */
void raw_packed_used_add(struct raw_ring *r, uint16_t id, uint32_t len, uint16_t extra_flags,
			 uint16_t ndesc);

/* ---- Chains, either format ------------------------------------------- */

/* Mock driver: make @d[0..n) available as one chain (1 ≤ n ≤ size). Split:
 * written at consecutive table slots from *@cursor (mod size), `next`
 * pointing to the following slot (NEXT only where d[k].flags has it); the
 * id is the head; *@cursor moves past the chain. Packed: consecutive ring
 * slots from avail_idx, each carrying @id (@cursor unused). Returns the id
 * the device should report. */
uint16_t raw_chain_add(struct raw_ring *r, uint16_t *cursor, const struct raw_desc *d, unsigned n,
		       uint16_t id);
/* raw_chain_add() with NEXT set on every descriptor but the last, and the
 * packed id taken round robin from *@next_id (0 .. size-1). */
uint16_t raw_chain_add_linked(struct raw_ring *r, uint16_t *cursor, uint16_t *next_id,
			      const struct raw_desc *d, unsigned n);
/* Write an indirect table of @n entries at @table (split: `next` = k + 1;
 * packed: id 0). Flags as given. */
void raw_table_put(enum vio_ring_format fmt, void *table, const struct raw_desc *d, unsigned n);

/* Advance a packed (slot, wrap) position by @n (≤ size) slots. */
void raw_packed_advance(uint16_t *slot, bool *wrap, unsigned n, uint16_t size);

#endif /* VIO_TEST_RAW_RING_H */
