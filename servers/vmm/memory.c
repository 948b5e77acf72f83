/* Guest memory (its backing: ram.c), mapped at GUEST_RAM_VA + gpa in our
 * space and at gpa in the guest space.  Guest-physical accesses of any span, RAM or device.  And
 * the guest's own page tables walked in software, as the processor walks
 * them, to find what an instruction's address means. */
#include "vm.h"

void *guest_ptr(uint64_t gpa, size_t n)
{
	if (gpa >= vm.ram_bytes || n > vm.ram_bytes - gpa || ram_ready(gpa, n))
		return 0;
	/* a device model may write through it: logged, and ours alone if a
	 * clone shares it (ram.c) */
	if (ram_unshare(gpa, n))
		return 0;
	dirty_mark(gpa, n);
	return (void *)(GUEST_RAM_VA + gpa);
}

/* For reading only (a snapshot, a clone's state): neither logged nor
 * unshared, and 0 for RAM the guest gave to its balloon (zero to it),
 * which stays with init. */
const void *guest_ptr_read(uint64_t gpa, size_t n)
{
	if (gpa >= vm.ram_bytes || n > vm.ram_bytes - gpa)
		return 0;
	for (uint64_t r = gpa / LARGE_PAGE_SIZE; n && r <= (gpa + n - 1) / LARGE_PAGE_SIZE; r++)
		if (!ram_backed(r * LARGE_PAGE_SIZE))
			return 0;
	return (const void *)(GUEST_RAM_VA + gpa);
}

int guest_write(uint64_t gpa, const void *buf, size_t n)
{
	void *p = guest_ptr(gpa, n);
	if (!p)
		return -1;
	memcpy(p, buf, n);
	return 0;
}

/* One access to guest-physical memory that is not RAM, cut into pieces
 * of 1, 2, 4 or 8 naturally aligned bytes, the sizes a device sees. */
static void device_access(uint64_t gpa, uint8_t *buf, size_t n, int load)
{
	while (n) {
		unsigned size = 8;
		while (size > n || (gpa & (size - 1)))
			size /= 2;
		uint64_t v = 0;
		if (!load)
			memcpy(&v, buf, size);
		mmio_access(gpa, size, load, &v);
		if (load)
			memcpy(buf, &v, size);
		gpa += size;
		buf += size;
		n -= size;
	}
}

/* Guest-physical memory as the guest's own accesses see it: RAM where
 * there is RAM, the device models (or the empty bus) elsewhere, split
 * where a span leaves RAM. */
static void phys_access(uint64_t gpa, uint8_t *buf, size_t n, int load)
{
	while (n) {
		size_t chunk = n;
		if (gpa < vm.ram_bytes) {
			if (chunk > vm.ram_bytes - gpa)
				chunk = vm.ram_bytes - gpa;
			if (ram_ready(gpa, chunk) || (!load && ram_unshare(gpa, chunk))) {
				if (load) /* init lent nothing: as unbacked memory */
					memset(buf, 0xff, chunk);
			} else if (load && chunk == 8) {   /* a page-table entry: one load, not newlib's byte loop */
				__builtin_memcpy(buf, (void *)(GUEST_RAM_VA + gpa), 8);
			} else if (load) {
				memcpy(buf, (void *)(GUEST_RAM_VA + gpa), chunk);
			} else {
				dirty_mark(gpa, chunk);
				memcpy((void *)(GUEST_RAM_VA + gpa), buf, chunk);
			}
		} else {
			device_access(gpa, buf, chunk, load);
		}
		gpa += chunk;
		buf += chunk;
		n -= chunk;
	}
}

void phys_read(uint64_t gpa, void *buf, size_t n)
{
	phys_access(gpa, buf, n, 1);
}

void phys_write(uint64_t gpa, const void *buf, size_t n)
{
	phys_access(gpa, (uint8_t *)(uintptr_t)buf, n, 0);
}

/* --- the guest's page tables ----------------------------------------- */

#define PTE_P   (1UL << 0)
#define PTE_RW  (1UL << 1)
#define PTE_US  (1UL << 2)
#define PTE_A   (1UL << 5)
#define PTE_D   (1UL << 6)
#define PTE_PS  (1UL << 7)
#define PTE_NX  (1UL << 63)
#define CR0_PG  (1UL << 31)
#define CR0_WP  (1UL << 16)
#define EFER_LMA (1UL << 10)
#define EFER_NXE (1UL << 11)

/* The guest-physical address width the guest is told (CPUID 0x80000008
 * passes through): the entry bits above it, up to 51, are reserved. */
static unsigned phys_bits(void)
{
	static unsigned bits;
	if (!bits) {
		uint32_t a, b, c, d;
		__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u), "c"(0));
		bits = 36;
		if (a >= 0x80000008u) {
			__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000008u), "c"(0));
			bits = a & 0xff;
		}
	}
	return bits;
}

int paging_read(struct guest_paging *p)
{
	uint64_t ss = exit_state.ss_attrib;
	long err = 0;
	if (exit_state.valid) {   /* the exit carried them (exits.c) */
		p->cr0 = exit_state.cr0;
		p->cr3 = exit_state.cr3;
		p->efer = exit_state.efer;
	} else {
		err = sys_vcpu_read(vm.vcpu, VCPU_CR0, &p->cr0);
		err = err ? err : sys_vcpu_read(vm.vcpu, VCPU_CR3, &p->cr3);
		err = err ? err : sys_vcpu_read(vm.vcpu, VCPU_EFER, &p->efer);
		err = err ? err : sys_vcpu_read(vm.vcpu, VCPU_SEGMENT(SEG_SS, SEG_ATTRIB), &ss);
	}
	p->efer = shadow_efer_view(p->efer);
	p->cpl = (unsigned)(ss >> 5) & 3;   /* the processor takes the CPL from SS.DPL */
	return err ? -1 : 0;
}

/* What a walk read: each entry's guest-physical address and its value
 * after the walk (accessed and dirty bits set), when every one was in
 * RAM; `levels` 0 when one was not. */
struct walk_record {
	unsigned levels;
	uint64_t where[4], e[4];
};

/* Walk the guest's 4-level tables for one address, as the processor
 * does (AMD APM vol. 2, 5.3 and 5.6): table entries are read wherever
 * they are (RAM, a device, the empty bus, which reads as all ones), a
 * reserved bit or a missing permission is a page fault with the error
 * code the processor would give, and the accessed and dirty bits are set
 * in entries in RAM.  Without paging an address is its own physical
 * address.  Legacy 32-bit and PAE paging are not walked (docs/vmm.md): a
 * walk in those modes fails as a not-present fault. */
static int walk(const struct guest_paging *p, uint64_t gva, unsigned access, uint64_t *gpa,
                struct page_fault *pf, struct walk_record *rec)
{
	rec->levels = 0;
	int user = p->cpl == 3, write = (access & ACCESS_WRITE) != 0, fetch = (access & ACCESS_FETCH) != 0;
	uint32_t error = (write ? PF_WRITE : 0) | (user ? PF_USER : 0) |
	                 (fetch && (p->efer & EFER_NXE) ? PF_FETCH : 0);
	if (!(p->cr0 & CR0_PG)) {
		*gpa = gva & 0xffffffffUL;
		return 0;
	}
	pf->addr = gva;
	if (!(p->efer & EFER_LMA)) {
		pf->error = error;
		return -1;
	}
	uint64_t addr_mask = ((1UL << phys_bits()) - 1) & ~0xfffUL;
	uint64_t reserved = ~addr_mask & 0x000ffffffffff000UL;
	if (!(p->efer & EFER_NXE))
		reserved |= PTE_NX;
	uint64_t table = p->cr3 & addr_mask;
	int writable = 1, usable = 1, executable = 1, in_ram = 1;
	for (int level = 4; level >= 1; level--) {
		uint64_t where = table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8, e;
		if (where <= vm.ram_bytes - 8 && !ram_ready(where, 8)) {
			e = *(const volatile uint64_t *)(GUEST_RAM_VA + where);   /* the usual case: a table in RAM */
		} else {
			phys_read(where, &e, 8);
			in_ram = 0;
		}
		if (!(e & PTE_P)) {
			pf->error = error;
			return -1;
		}
		uint64_t bad = reserved;
		if (level == 4)
			bad |= PTE_PS;                       /* no pages at the top level */
		else if (level > 1 && (e & PTE_PS))
			bad |= ((1UL << (12 + 9 * (level - 1))) - 1) & ~0x1fffUL; /* a large page's low address bits */
		if (e & bad) {
			pf->error = error | PF_PRESENT | PF_RESERVED;
			return -1;
		}
		writable &= (e & PTE_RW) != 0;
		usable &= (e & PTE_US) != 0;
		executable &= !(e & PTE_NX);
		int leaf = level == 1 || (e & PTE_PS);
		uint64_t set = PTE_A | (leaf && write ? PTE_D : 0);
		if ((e & set) != set && where + 8 <= vm.ram_bytes) {
			e |= set;
			guest_write(where, &e, 8);
		}
		rec->where[4 - level] = where;
		rec->e[4 - level] = e;
		if (leaf) {
			if ((user && !usable) || (write && !writable && (user || (p->cr0 & CR0_WP))) ||
			    (fetch && !executable && (p->efer & EFER_NXE))) {
				pf->error = error | PF_PRESENT;
				return -1;
			}
			uint64_t size = 1UL << (12 + 9 * (level - 1));
			*gpa = (e & addr_mask & ~(size - 1)) | (gva & (size - 1));
			rec->levels = in_ram ? 5 - (unsigned)level : 0;
			return 0;
		}
		table = e & addr_mask;
	}
	return -1; /* not reached: level 1 is always a leaf */
}

int gva_translate(const struct guest_paging *p, uint64_t gva, unsigned access, uint64_t *gpa,
                  struct page_fault *pf)
{
	struct walk_record rec;
	return walk(p, gva, access, gpa, pf, &rec);
}

/*
 * The last instruction fetch's walk.  An MMIO exit's instruction is
 * fetched through the guest's tables (QEMU gives no decode assists), and
 * the next one mostly comes from the same code page.  The translation
 * itself cannot be kept: under nested paging the guest changes its
 * tables and flushes its TLB without an exit.  But a walk is a function
 * of CR3, the paging mode, the CPL and the values of the entries it
 * reads (each entry's address follows from the one above it), so when
 * every entry it read still holds the value it had, a walk now would
 * read the same entries, pass the same checks and find the same page:
 * only the entries are read again.  Kept only for walks whose entries,
 * and whose page, were all in RAM that was backed; `ram_epoch` (ram.c)
 * says no region has been unmapped since.
 */
static struct {
	uint64_t cr0, cr3, efer, page, gpa_page, epoch;
	unsigned cpl;
	struct walk_record rec;
} fetch_walk;

/* The fetch's guest-physical page for gva's page, from the kept walk if
 * it still holds; else -1. */
static int fetch_walk_holds(const struct guest_paging *p, uint64_t gva, uint64_t *gpa_page)
{
	if (!fetch_walk.rec.levels || fetch_walk.page != gva >> 12 || fetch_walk.cr3 != p->cr3 ||
	    fetch_walk.cr0 != p->cr0 || fetch_walk.efer != p->efer || fetch_walk.cpl != p->cpl ||
	    fetch_walk.epoch != ram_epoch)
		return -1;
	for (unsigned i = 0; i < fetch_walk.rec.levels; i++)
		if (*(const volatile uint64_t *)(GUEST_RAM_VA + fetch_walk.rec.where[i]) != fetch_walk.rec.e[i])
			return -1;
	*gpa_page = fetch_walk.gpa_page;
	return 0;
}

/* n bytes (at most 16) from guest RAM at gpa, known backed: as two
 * overlapping words when there are 8 or more, not the C library's byte
 * loop (rep movsb counts each byte under -icount, and costs as much) */
static void ram_copy_small(uint8_t *buf, uint64_t gpa, size_t n)
{
	const uint8_t *src = (const uint8_t *)(GUEST_RAM_VA + gpa);
	if (n >= 8) {
		uint64_t a, b;
		__builtin_memcpy(&a, src, 8);
		__builtin_memcpy(&b, src + n - 8, 8);
		__builtin_memcpy(buf, &a, 8);
		__builtin_memcpy(buf + n - 8, &b, 8);
	} else {
		for (size_t i = 0; i < n; i++)
			buf[i] = src[i];
	}
}

/* n instruction bytes at gva, within its page: virt_access's fetch, the
 * walk kept */
static int fetch_bytes(const struct guest_paging *p, uint64_t gva, uint8_t *buf, size_t n, struct page_fault *pf)
{
	uint64_t gpa;
	if ((gva & (PAGE_SIZE - 1)) + n > PAGE_SIZE)
		return -1;
	if (n <= 16 && !fetch_walk_holds(p, gva, &gpa)) {
		ram_copy_small(buf, gpa | (gva & (PAGE_SIZE - 1)), n);
		return 0;
	}
	struct walk_record rec;
	if (walk(p, gva, ACCESS_FETCH, &gpa, pf, &rec))
		return -1;
	phys_access(gpa, buf, n, 1);
	/* kept if the page is RAM, backed (ram_ready, which phys_access
	 * called, borrowed it back if the guest had given it away) */
	uint64_t page = gpa & ~(PAGE_SIZE - 1);
	fetch_walk.rec.levels = 0;
	if (rec.levels && page + PAGE_SIZE <= vm.ram_bytes && !ram_ready(page, PAGE_SIZE)) {
		fetch_walk.cr0 = p->cr0;
		fetch_walk.cr3 = p->cr3;
		fetch_walk.efer = p->efer;
		fetch_walk.cpl = p->cpl;
		fetch_walk.page = gva >> 12;
		fetch_walk.gpa_page = page;
		fetch_walk.epoch = ram_epoch;
		fetch_walk.rec = rec;
	}
	return 0;
}

/* Translate every page of a guest-virtual span of at most a page (so at
 * most two pieces) before touching any of it, as the processor checks an
 * access in full before making it; then copy. */
int virt_access(const struct guest_paging *p, uint64_t gva, void *buf, size_t n, unsigned access,
                struct page_fault *pf)
{
	uint64_t gpa[2];
	size_t first = PAGE_SIZE - (gva & (PAGE_SIZE - 1));
	if (n > PAGE_SIZE)
		return -1;
	if (first > n)
		first = n;
	if (gva_translate(p, gva, access, &gpa[0], pf))
		return -1;
	if (first < n && gva_translate(p, gva + first, access, &gpa[1], pf))
		return -1;
	int load = !(access & ACCESS_WRITE);
	phys_access(gpa[0], buf, first, load);
	if (first < n)
		phys_access(gpa[1], (uint8_t *)buf + first, n - first, load);
	return 0;
}

size_t fetch_insn(const struct guest_paging *pg, uint64_t rip, uint8_t *bytes, size_t max)
{
	struct page_fault pf;
	size_t n = 0;
	while (n < max) {
		size_t chunk = PAGE_SIZE - ((rip + n) & (PAGE_SIZE - 1));
		if (chunk > max - n)
			chunk = max - n;
		if (fetch_bytes(pg, rip + n, &bytes[n], chunk, &pf))
			break;
		n += chunk;
	}
	return n;
}
