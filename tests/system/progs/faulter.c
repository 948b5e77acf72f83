/* Helper for tests/system/pager.c.  Its region at FAULTER_REGION starts
 * unmapped: it writes to every page (first touch: a write to word 0),
 * reads all of them back and calls its pager's done port with the
 * checksum.  If the answer is LABEL_WILD it then reads FAULTER_WILD_ADDR,
 * which no pager should map. */
#include <libipc/libipc.h>
#include <libipc/ipc.h>
#include "../lib/protocol.h"
#include "../lib/pager_protocol.h"

#define WORDS_PER_PAGE (PAGE_SIZE / sizeof(uint64_t))

int main(const struct bootinfo *bi)
{
	(void)bi;
	volatile uint64_t *region = (volatile uint64_t *)FAULTER_REGION;
	for (unsigned i = 0; i < FAULTER_PAGES; i++) {
		volatile uint64_t *page = region + i * WORDS_PER_PAGE;
		page[0] = faulter_value(i);
		page[WORDS_PER_PAGE - 1] = ~faulter_value(i);
	}
	uint64_t sum = 0;
	for (unsigned i = 0; i < FAULTER_PAGES; i++) {
		volatile uint64_t *page = region + i * WORDS_PER_PAGE;
		sum = faulter_mix(sum, page[0], page[WORDS_PER_PAGE - 1]);
	}

	struct msg m = { .info = MSG_INFO(LABEL_DONE, 1, 0) };
	m.w[0] = sum;
	long err = ipc_call(FAULTER_DONE_SLOT, &m);
	if (err) {
		debug_printf("# faulter: the done call failed with %ld\n", err);
		return 1;
	}
	if (MSG_LABEL(m.info) == LABEL_WILD) {
		uint64_t v = *(volatile uint64_t *)FAULTER_WILD_ADDR;
		debug_printf("# faulter: read %lx at the wild address and went on\n", v);
		return 2;
	}
	return 0;
}
