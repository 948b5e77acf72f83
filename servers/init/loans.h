/* Guest memory on loan: init.idl's mem_borrow and mem_return (loans.c). */
#ifndef INIT_LOANS_H
#define INIT_LOANS_H

#include <stdint.h>
struct task;

long loan_borrow(struct task *t, int frame, uint32_t *index, uint64_t *chunk);
long loan_share(struct task *t, uint32_t index, struct task *with);
long loan_return(struct task *t, uint32_t index);
uint64_t loan_frame(const struct task *t, uint32_t index); /* our copy of a frame loan t holds, or 0 */
void loans_drop_task(const struct task *t);   /* it ended: every loan comes back */
uint64_t loans_held(const struct task *t);    /* bytes it owns (a shared loan counts for its owner alone) */
void loans_sharing(uint64_t *shared, uint64_t *saved); /* bytes lent to more than one task; bytes that saved */
uint64_t loans_free_bytes(void);              /* returned chunks, ready to lend again */

#endif
