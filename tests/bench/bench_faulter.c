/* The faulting side of the fault benchmark: touch `pages` fresh pages in
 * a region its pager (the root task) maps on demand, and report the
 * average cost of one touch.  Slot 8: a send right to the pager. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>

#define PAGER 8
#define REGION 0x40000000UL
#define LABEL_RESULT 100

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

int main(const struct bootinfo *bi)
{
	(void)bi;
	struct msg m = { .info = MSG_INFO(LABEL_RESULT, 0, 0) };
	for (;;) {
		/* ask for a round: w0 = pages, w1 = first page index */
		if (ipc_call(PAGER, &m))
			return 1;
		uint64_t pages = m.w[0], first = m.w[1];
		if (!pages)
			return 0;
		uint64_t start = rdtsc();
		for (uint64_t i = 0; i < pages; i++)
			*(volatile uint8_t *)(REGION + (first + i) * PAGE_SIZE) = 1;
		uint64_t cost = rdtsc() - start;
		m.info = MSG_INFO(LABEL_RESULT, 1, 0);
		m.w[0] = cost;
	}
}
