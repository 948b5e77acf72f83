/* What the guests that drive a virtio PCI device by hand share
 * (virtio_hostile.c, balloon_hostile.c): the common configuration's
 * offsets (virtio 1.x 4.1.4.3, the layout of servers/vmm/virtio_pci.h),
 * the status bits, a split-queue descriptor, and the register accessors.
 * The includer defines BAR, where the device's BAR 4 was placed. */
#include "guest.h"

#define COMMON     ((volatile uint8_t *)BAR)
#define NOTIFY     ((volatile uint16_t *)(BAR + 0x3000))

#define DFSELECT 0x00
#define DF       0x04
#define GFSELECT 0x08
#define GF       0x0c
#define STATUS   0x14
#define Q_SELECT 0x16
#define Q_SIZE   0x18
#define Q_ENABLE 0x1c
#define Q_DESC   0x20
#define Q_AVAIL  0x28
#define Q_USED   0x30

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};
#define F_NEXT 1
#define F_WRITE 2

static inline void w8(unsigned off, uint8_t v) { COMMON[off] = v; }
static inline uint8_t r8(unsigned off) { return COMMON[off]; }
static inline void w16(unsigned off, uint16_t v) { *(volatile uint16_t *)(COMMON + off) = v; }
static inline void w32(unsigned off, uint32_t v) { *(volatile uint32_t *)(COMMON + off) = v; }
static inline uint32_t r32(unsigned off) { return *(volatile uint32_t *)(COMMON + off); }
static inline void w64(unsigned off, uint64_t v) { w32(off, (uint32_t)v); w32(off + 4, (uint32_t)(v >> 32)); }

/* PCI configuration of function slot.0 (mechanism 1): its id, and
 * memory decoding and bus mastering turned on. */
static inline uint32_t pci_id(unsigned slot)
{
	outl(0xcf8, 0x80000000u | (slot << 11));
	return inl(0xcfc);
}

static inline void pci_enable(unsigned slot)
{
	outl(0xcf8, 0x80000000u | (slot << 11) | 0x04);
	outw(0xcfc, 0x0006);
}
