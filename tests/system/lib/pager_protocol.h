/* What tests/system/pager.c and its helper progs/faulter.c agree on, on
 * top of the FAULTER_* constants and labels in protocol.h. */
#ifndef TEST_PAGER_PROTOCOL_H
#define TEST_PAGER_PROTOCOL_H

#include <stdint.h>

/* The faulter's send right for its LABEL_DONE call: the first capability
 * the pager gives it (PROCESS_FIRST_GIVEN). */
#define FAULTER_DONE_SLOT 8

/* Badges of the two send rights the pager holds out: the one the kernel
 * uses for the faulter's page faults and the one for its done call. */
#define PAGER_FAULT_BADGE 0x77UL
#define PAGER_DONE_BADGE 0xd0eUL

/* Word 0 of page i gets faulter_value(i), its last word the complement. */
static inline uint64_t faulter_value(unsigned i)
{
	return (0x9e3779b97f4a7c15UL * (i + 1)) ^ ((uint64_t)i << 56) ^ 0x5a5aUL;
}

/* The checksum adds page after page, so a page read back from the wrong
 * frame or in the wrong order changes it. */
static inline uint64_t faulter_mix(uint64_t sum, uint64_t first, uint64_t last)
{
	sum = (sum << 7 | sum >> 57) ^ first;
	return sum * 0x100000001b3UL + last;
}

#endif
