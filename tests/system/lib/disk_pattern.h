/* The content of the test disks tools/runtests.py writes (test-disk):
 * the 64-bit word at byte offset 8 * index of a disk holding pattern
 * seed is splitmix64 of (seed << 40) ^ index.  runtests.py's
 * pattern_word is the same function; a test compares what it reads with
 * this, word by word, and writes patterns the runner checks afterwards. */
#ifndef DISK_PATTERN_H
#define DISK_PATTERN_H

#include <stdint.h>

static inline uint64_t pattern_word(uint64_t seed, uint64_t index)
{
	uint64_t z = ((seed << 40) ^ index) + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Fill count sectors from `sector` with pattern seed. */
static inline void pattern_fill(uint64_t *buf, uint64_t seed, uint64_t sector, uint32_t count)
{
	for (uint64_t i = 0; i < (uint64_t)count * 64; i++)
		buf[i] = pattern_word(seed, sector * 64 + i);
}

/* The first sector (relative) that does not hold the pattern, or -1. */
static inline long pattern_check(const uint64_t *buf, uint64_t seed, uint64_t sector, uint32_t count)
{
	for (uint64_t i = 0; i < (uint64_t)count * 64; i++)
		if (buf[i] != pattern_word(seed, sector * 64 + i))
			return (long)(i / 64);
	return -1;
}

#endif
