/*
 * Which pages of guest RAM were written: the dirty log under live
 * migration's pre-copy and `vm dirty` (docs/lifecycle.md, "Guest RAM
 * by the page, and the dirty log").
 *
 * Guest RAM is mapped in the guest space by the 4 KiB page (ram.c maps
 * its 2 MiB frames with MAP_PIECES).  dirty_start takes write access away
 * from all of it (SYS_GUEST_PROTECT); the guest's first write to a page is
 * then a nested page fault with the present and write bits, which
 * dirty_fault turns into a bit in the log and write access given back, so
 * each page costs one exit per round however often it is written.  Our
 * own writes into guest RAM (the device models: a disk read, a received
 * frame, a descriptor's used flag) never fault: memory.c reports every
 * span it hands out for them (dirty_mark), read or written, so the log
 * holds too much rather than too little.  It marks before the bytes are
 * written, so a round may read a page a device is about to write: every
 * page a device touched is also kept in a second bitmap, never cleared
 * until the next start, which live migration sends once more with the
 * VCPU stopped (dirty_touched).  dirty_collect hands the log over and
 * protects exactly the pages it held again.
 *
 * No lock: the main thread takes faults (write access given back, then
 * the bit set) while the migration thread collects (the bits taken, then
 * write access taken away, then the pages read).  In every order of
 * those steps a page ends either protected or with its bit set, so no
 * write is lost; the worst is a page sent twice.
 *
 * The logs are one bit per page in frames of our own, mapped at DIRTY_VA
 * when tracking starts: 4 KiB each per 128 MiB of RAM.
 */
#include "vm.h"

#define BITS_PER_WORD 64
#define NPF_PRESENT_WRITE 0x3UL   /* EXITINFO1 of a nested page fault: P and RW */

static struct {
	int on;
	uint64_t *log;          /* at DIRTY_VA; one bit per page of RAM */
	uint64_t *touched;      /* after it: the pages device models touched */
	uint64_t pages, words;  /* RAM's pages, the log's words */
	uint64_t mapped;        /* bytes of frames mapped at DIRTY_VA */
	uint64_t faults;        /* write faults taken since dirty_start */
} D;

static long protect_all(int allow)
{
	for (uint64_t page = 0; page < D.pages; page += GUEST_PROTECT_MAX_PAGES) {
		uint64_t n = D.pages - page < GUEST_PROTECT_MAX_PAGES ? D.pages - page : GUEST_PROTECT_MAX_PAGES;
		long err = sys_guest_protect(vm.guest_space, page * PAGE_SIZE, n, allow, 0);
		if (err)
			return err;
	}
	return E_OK;
}

int dirty_tracking(void)
{
	return D.on;
}

/* Start a log with every page clean and write-protected.  Its frames
 * stay mapped after dirty_stop, for the next start. */
long dirty_start(void)
{
	if (ram_sharing()) {
		/* a shared page is read-only for copy-on-write's sake: giving
		 * write access back on a fault, as the log does, would break it */
		debug_printf("vmm: %sthe dirty log is refused: this VM shares memory with a clone or its parent\n", vm_name);
		return E_STATE;
	}
	if (D.on)
		return E_STATE;
	D.pages = vm.ram_bytes / PAGE_SIZE;
	D.words = (D.pages + BITS_PER_WORD - 1) / BITS_PER_WORD;
	while (D.mapped < 2 * D.words * sizeof(uint64_t)) {
		uint64_t f;
		long err = page_alloc_map(DIRTY_VA + D.mapped, RIGHT_READ | RIGHT_WRITE, &f);
		if (err)
			return err;
		D.mapped += PAGE_SIZE;
	}
	D.log = (uint64_t *)DIRTY_VA;
	D.touched = D.log + D.words;
	memset(D.log, 0, 2 * D.words * sizeof(uint64_t));
	D.faults = 0;
	D.on = 1;
	long err = protect_all(0);
	if (err)
		dirty_stop();
	return err;
}

/* Every page writable again, the log forgotten. */
void dirty_stop(void)
{
	if (!D.on)
		return;
	D.on = 0;
	protect_all(1);
}

static void set_bits(uint64_t *bits, uint64_t gpa, uint64_t n)
{
	uint64_t last = (gpa + n - 1 < vm.ram_bytes ? gpa + n - 1 : vm.ram_bytes - 1) / PAGE_SIZE;
	/* the disk worker marks too (disk.c): no bit may be lost */
	for (uint64_t p = gpa / PAGE_SIZE; p <= last; p++)
		__atomic_fetch_or(&bits[p / BITS_PER_WORD], 1UL << (p % BITS_PER_WORD), __ATOMIC_RELEASE);
}

/* A device model may write [gpa, gpa + n) (memory.c). */
void dirty_mark(uint64_t gpa, uint64_t n)
{
	if (!D.on || !n || gpa >= vm.ram_bytes)
		return;
	set_bits(D.log, gpa, n);
	set_bits(D.touched, gpa, n);
}

/* Bits a collect took back into the log (migration: its last round). */
void dirty_remark(uint64_t word, uint64_t bits)
{
	if (D.on && word < D.words)
		__atomic_fetch_or(&D.log[word], bits, __ATOMIC_RELEASE);
}

/* OR into out every page a device model touched since the start. */
void dirty_touched(uint64_t *out)
{
	for (uint64_t w = 0; D.on && w < D.words; w++)
		out[w] |= __atomic_load_n(&D.touched[w], __ATOMIC_ACQUIRE);
}

/* A nested page fault: 1 if it was the guest's first write to a page of
 * RAM since the page was last collected (logged, the page writable again,
 * the instruction to run again), 0 if it is someone else's business. */
int dirty_fault(uint64_t gpa, uint64_t info)
{
	if (!D.on || gpa >= vm.ram_bytes || (info & NPF_PRESENT_WRITE) != NPF_PRESENT_WRITE)
		return 0;
	uint64_t page = gpa & ~(PAGE_SIZE - 1);
	D.faults++;
	/* writable first, then the bit (see above); E_OK, or the page is
	 * not mapped any more (the balloon took its region): the next
	 * access faults as the balloon's */
	sys_guest_protect(vm.guest_space, page, 1, 1, 0);
	set_bits(D.log, page, PAGE_SIZE);
	return 1;
}

/* Hand the log over (out: one bit per page, words as dirty_words()) and
 * start the next round: the pages it held protected again, all clean.
 * The number of dirty pages. */
uint64_t dirty_collect(uint64_t *out)
{
	uint64_t count = 0;
	if (!D.on)
		return 0;
	for (uint64_t w = 0; w < D.words; w++) {
		/* a page is protected after its bit is taken, and copied after
		 * that: a write in between is in the copy, one after it faults
		 * into the next round */
		uint64_t bits = __atomic_exchange_n(&D.log[w], 0, __ATOMIC_ACQ_REL);
		if (out)
			out[w] = bits;
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzl(bits);
			bits &= bits - 1;
			count++;
			/* pages in a row are protected by one call */
			uint64_t first = w * BITS_PER_WORD + b, n = 1;
			while (b + n < BITS_PER_WORD && (bits & (1UL << (b + n)))) {
				bits &= ~(1UL << (b + n));
				n++;
				count++;
			}
			sys_guest_protect(vm.guest_space, first * PAGE_SIZE, n, 0, 0);
		}
	}
	return count;
}

uint64_t dirty_words(void)
{
	return D.words;
}

uint64_t dirty_faults(void)
{
	return D.faults;
}
