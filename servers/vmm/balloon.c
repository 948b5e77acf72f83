/*
 * The guest's balloon (`balloon` argument; docs/lifecycle.md, "Memory"):
 * a virtio-balloon device at 00:04.0 (virtio_balloon.c) whose pages go
 * back to Berth.  `vm balloon NAME MiB` sets how much the guest should
 * give up; its driver names the pages it gives.  A 2 MiB region of guest
 * RAM goes back to init (ram.c) when all 512 of its pages are in the
 * balloon, and is borrowed again, zeroed, when the guest takes one back
 * or touches one.  Pages of regions not wholly given stay backed: the
 * guest's allocator decides which pages it gives, and a scattered balloon
 * frees less than it holds (`vm info` shows both).
 *
 * Offered only in mode=svm with guest RAM on loan (the manifest's borrow
 * line): shadow paging maps guest RAM by frame, and memory from the VMM's
 * own pool cannot be given back.
 */
#include "vm.h"
#include "acpi.h"
#include "virtio_balloon.h"
#include "snapfile.h"

#define BALLOON_SLOT 4                  /* 00:04.0 */
#define BALLOON_BAR_GPA 0xfe008000UL    /* BAR 4, after the NIC's */
#define PAGES_PER_REGION (LARGE_PAGE_SIZE / PAGE_SIZE)
#define REGIONS (GUEST_RAM_MAX / LARGE_PAGE_SIZE)

static struct {
	struct virtio_balloon dev;
	int present;
	const char *reported;               /* the guest error said last */
	uint64_t pages;                     /* in the balloon now */
	uint16_t in_region[REGIONS];        /* of those, in each region */
	uint8_t waiting[REGIONS];           /* whole, to give back once the disk is idle */
	unsigned nwaiting;
	uint8_t map[GUEST_RAM_MAX / PAGE_SIZE / 8];
} bl;

static int page_in_ram(uint32_t pfn)
{
	return (uint64_t)pfn < vm.ram_bytes / PAGE_SIZE;
}

static int inflate(void *ctx, uint32_t pfn)
{
	(void)ctx;
	if (!page_in_ram(pfn))
		return -1;
	uint8_t bit = (uint8_t)(1u << (pfn & 7));
	if (bl.map[pfn / 8] & bit)
		return 0; /* given twice: nothing more to do */
	bl.map[pfn / 8] |= bit;
	bl.pages++;
	unsigned r = pfn / PAGES_PER_REGION;
	if (++bl.in_region[r] == PAGES_PER_REGION && !bl.waiting[r]) {
		bl.waiting[r] = 1;
		bl.nwaiting++;
	}
	balloon_tick();
	return 0;
}

/* Give back the whole regions, unless a disk request is in flight: its
 * worker may be copying into a page of one (a guest may balloon a page it
 * reads into), and the copy must not find the page gone.  Called on every
 * inflate and on the VM's timer. */
void balloon_tick(void)
{
	if (!bl.nwaiting || !disk_idle())
		return;
	for (unsigned r = 0; r < vm.ram_bytes / LARGE_PAGE_SIZE; r++) {
		if (!bl.waiting[r])
			continue;
		bl.waiting[r] = 0;
		bl.nwaiting--;
		if (bl.in_region[r] != PAGES_PER_REGION || !ram_can_give_back(r) ||
		    !ram_backed((uint64_t)r * LARGE_PAGE_SIZE))
			continue;
		long err = ram_give_back(r);
		if (err)
			debug_printf("vmm: %sballoon: init refused region %u back (error %ld)\n", vm_name, r, err);
	}
}

static int deflate(void *ctx, uint32_t pfn)
{
	(void)ctx;
	if (!page_in_ram(pfn))
		return -1;
	uint8_t bit = (uint8_t)(1u << (pfn & 7));
	if (!(bl.map[pfn / 8] & bit))
		return 0; /* not in the balloon: it has the page already */
	bl.map[pfn / 8] &= (uint8_t)~bit;
	bl.pages--;
	unsigned r = pfn / PAGES_PER_REGION;
	bl.in_region[r]--;
	/* the driver waits for this (MUST_TELL_HOST): back the page now if
	 * init lends it; else on the guest's first touch (exits.c) */
	if (!ram_backed((uint64_t)r * LARGE_PAGE_SIZE))
		ram_take_back(r);
	return 0;
}

static void *balloon_guest_ptr(void *ctx, uint64_t gpa, size_t n)
{
	(void)ctx;
	return guest_ptr(gpa, n);
}

static void balloon_irq(void *ctx, int level)
{
	(void)ctx;
	ioapic_set_irq(&vm.ioapic, ACPI_PCI_GSI(BALLOON_SLOT, 0), level);
}

/* `balloon`: the device.  0 without the argument; an error (said on the
 * console) if this VM cannot have one. */
long balloon_setup(const char *args)
{
	if (!arg_flag(args, "balloon"))
		return E_OK;
	if (shadow_on() || !ram_can_give_back(0)) {
		debug_printf("vmm: %sballoon: needs mode=svm and guest memory on loan (a borrow line in the "
		             "manifest)\n", vm_name);
		return E_BAD_ARG;
	}
	struct vballoon_backend be = { inflate, deflate, 0 };
	virtio_balloon_init(&bl.dev, &be);
	virtio_pci_set_memory(&bl.dev.vp, balloon_guest_ptr, 0);
	virtio_pci_set_irq(&bl.dev.vp, balloon_irq, 0);
	bl.present = 1;
	debug_printf("vmm: %sballoon: virtio-balloon at 00:%02x.0\n", vm_name, BALLOON_SLOT);
	return E_OK;
}

/* Power-on and reset: a new guest has all its memory, and an empty balloon. */
void balloon_power_on(void)
{
	if (!bl.present)
		return;
	for (unsigned r = 0; r < vm.ram_bytes / LARGE_PAGE_SIZE; r++)
		if (!ram_backed((uint64_t)r * LARGE_PAGE_SIZE))
			ram_take_back(r);
	memset(bl.map, 0, sizeof(bl.map));
	memset(bl.in_region, 0, sizeof(bl.in_region));
	memset(bl.waiting, 0, sizeof(bl.waiting));
	bl.nwaiting = 0;
	bl.pages = 0;
	virtio_place(&bl.dev.vp, BALLOON_SLOT, BALLOON_BAR_GPA);
}

struct virtio_pci *balloon_transport(void)
{
	return bl.present ? &bl.dev.vp : 0;
}

/* A snapshot's BALLOON section (snapshot.c): the host's target, what the
 * driver said it holds, then one bit per page of RAM, set for the pages
 * in the balloon.  The device's queues are its VIRTBAL section. */
size_t balloon_state_bytes(void)
{
	return 8 + (vm.ram_bytes / PAGE_SIZE + 7) / 8;
}

void balloon_state_put(struct snap_writer *w)
{
	uint32_t words[2] = { bl.dev.num_pages, bl.dev.actual };
	snap_put(w, words, sizeof(words));
	snap_put(w, bl.map, balloon_state_bytes() - 8);
}

/* Loading: the pages as the snapshot had them; the regions wholly in the
 * balloon go back to init at the next tick, as they had at the source. */
const char *balloon_state_load(const uint8_t *bytes, size_t len)
{
	uint64_t pages = vm.ram_bytes / PAGE_SIZE;
	if (len != balloon_state_bytes())
		return "its balloon section is not as long as its RAM needs";
	uint32_t words[2];
	memcpy(words, bytes, sizeof(words));
	if ((uint64_t)words[0] > pages || (uint64_t)words[1] > pages)
		return "its balloon holds more pages than its RAM";
	bl.dev.num_pages = words[0];
	bl.dev.actual = words[1];
	memset(bl.in_region, 0, sizeof(bl.in_region));
	memset(bl.waiting, 0, sizeof(bl.waiting));
	bl.nwaiting = 0;
	bl.pages = 0;
	memcpy(bl.map, bytes + 8, len - 8);
	for (uint64_t pfn = 0; pfn < pages; pfn++)
		if (bl.map[pfn / 8] & (1u << (pfn & 7))) {
			bl.pages++;
			bl.in_region[pfn / PAGES_PER_REGION]++;
		}
	for (unsigned r = 0; r < pages / PAGES_PER_REGION; r++)
		if (bl.in_region[r] == PAGES_PER_REGION) {
			bl.waiting[r] = 1;
			bl.nwaiting++;
		}
	return 0;
}

/* The guest broke the device's rules: say so once per breakage. */
void balloon_report(void)
{
	if (bl.present && bl.dev.vp.error && bl.dev.vp.error != bl.reported)
		debug_printf("vmm: %s%s\n", vm_name, bl.dev.vp.error);
	bl.reported = bl.present ? bl.dev.vp.error : 0;
}

/* vm balloon NAME MiB: what the guest should give up. */
long balloon_set_target(uint32_t mib)
{
	if (!bl.present)
		return E_STATE;
	if ((uint64_t)mib << 20 > vm.ram_bytes)
		return E_RANGE;
	virtio_balloon_set_target(&bl.dev, mib * (uint32_t)(LARGE_PAGE_SIZE / PAGE_SIZE / 2));
	return E_OK;
}

int balloon_info(struct balloon_info *i)
{
	if (!bl.present)
		return -1;
	*i = (struct balloon_info){
		.target_pages = bl.dev.num_pages, .actual_pages = bl.dev.actual, .pages = bl.pages,
		.regions_returned = ram_regions_given_back(), .refused = bl.dev.stats.refused,
	};
	return 0;
}
