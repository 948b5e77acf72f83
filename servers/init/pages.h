/* Pages shared by content: init.idl's mem_page_find and mem_page_take (pages.c). */
#ifndef INIT_PAGES_H
#define INIT_PAGES_H

#include <stdint.h>
struct task;

long pages_find(struct task *t, uint32_t loan, uint32_t index, uint32_t *stored, uint32_t *seen);
long pages_take(struct task *t, uint32_t loan, uint32_t index, uint64_t *ro);
void pages_drop_task(const struct task *t);                 /* it ended: it holds no page */
void pages_sharing(uint64_t *pages, uint64_t *holdings);    /* pages kept, and how many VM-pages map them */

#endif
