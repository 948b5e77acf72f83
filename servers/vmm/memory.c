/* Guest memory: frames from our own memory, each mapped twice, at
 * GUEST_RAM_VA + gpa in our space (to read and write it) and at gpa in the
 * guest space.  And the guest's own page tables walked in software, to
 * find what an instruction's address means. */
#include "vm.h"

long memory_setup(uint64_t bytes)
{
	for (uint64_t gpa = 0; gpa < bytes; gpa += PAGE_SIZE) {
		uint64_t f, copy = slot_alloc();
		long err = page_alloc_map(GUEST_RAM_VA + gpa, RIGHT_READ | RIGHT_WRITE, &f);
		err = err ? err : copy ? sys_cnode_copy(f, CAP_ROOT_CNODE, copy, RIGHTS_ALL) : E_SLOT_FULL;
		err = err ? err : page_map_in(vm.guest_space, copy, gpa, RIGHT_READ | RIGHT_WRITE | RIGHT_EXEC);
		if (err)
			return err;
	}
	vm.ram_bytes = bytes;
	return E_OK;
}

void *guest_ptr(uint64_t gpa, size_t n)
{
	if (gpa >= vm.ram_bytes || n > vm.ram_bytes - gpa)
		return 0;
	return (void *)(GUEST_RAM_VA + gpa);
}

int guest_read(uint64_t gpa, void *buf, size_t n)
{
	void *p = guest_ptr(gpa, n);
	if (!p)
		return -1;
	memcpy(buf, p, n);
	return 0;
}

int guest_write(uint64_t gpa, const void *buf, size_t n)
{
	void *p = guest_ptr(gpa, n);
	if (!p)
		return -1;
	memcpy(p, buf, n);
	return 0;
}

/* Guest-virtual to guest-physical through the guest's 4-level tables
 * (identity while paging is off). */
int gva_to_gpa(uint64_t gva, uint64_t *gpa)
{
	uint64_t cr0 = 0, cr3 = 0;
	sys_vcpu_read(vm.vcpu, VCPU_CR0, &cr0);
	if (!(cr0 & (1UL << 31))) {
		*gpa = gva & 0xffffffffUL;
		return 0;
	}
	sys_vcpu_read(vm.vcpu, VCPU_CR3, &cr3);
	uint64_t table = cr3 & 0x000ffffffffff000UL;
	for (int level = 4; level >= 1; level--) {
		uint64_t e;
		if (guest_read(table + ((gva >> (12 + 9 * (level - 1))) & 511) * 8, &e, 8) || !(e & 1))
			return -1;
		if (level > 1 && (e & 0x80)) { /* a large page */
			uint64_t size = 1UL << (12 + 9 * (level - 1));
			*gpa = (e & 0x000ffffffffff000UL & ~(size - 1)) | (gva & (size - 1));
			return 0;
		}
		table = e & 0x000ffffffffff000UL;
	}
	*gpa = table | (gva & 0xfff);
	return 0;
}
