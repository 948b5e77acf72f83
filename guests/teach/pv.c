/* The paravirtual side of the teaching guest, built only into
 * teach_pv.bin (-DTEACH_PV; servers/vmm/pv_abi.h is the interface): where
 * the VMM's shared pages are, page-table writes gathered into batches for
 * PV_HC_MMU_UPDATE, the events the timer brings, and the console's ring.
 * teach.h turns cli, sti, pushf, popf, hlt and CR3 loads into their pv
 * forms; this file holds what is more than a line. */
#include "teach.h"

struct pv_shared_info *pv_shared;
const struct pv_start_info *pv_info;
static struct pv_console *ring;

/* entry.S, with the address the VMM gave in RSI.  A wrong magic number
 * means we were not started by a pv VMM: there is no console to say so. */
void pv_start(uint64_t start_info)
{
	pv_info = (const struct pv_start_info *)start_info;
	if (pv_info->magic != PV_START_MAGIC || pv_info->version != PV_ABI_VERSION)
		guest_exit(5);
	pv_shared = (struct pv_shared_info *)pv_info->shared_info;
	ring = (struct pv_console *)pv_info->console;
}

long pv_check(const char *what, long result)
{
	if (result < 0) {
		print("teach: %s: hypercall refused with error %ld; stopping\n", what, result);
		guest_exit(4);
	}
	return result;
}

/* --- page tables ------------------------------------------------------------ */

/* Our tables are read-only to us: each write is an (entry, value) pair
 * for the VMM to check and apply.  Gathered here and sent when the batch
 * is full or the caller needs them done: one hypercall for many writes,
 * which is the point of batching. */
#define BATCH 64
static struct pv_mmu_update batch[BATCH];
static unsigned batched;

void mmu_flush(void)
{
	if (!batched)
		return;
	long err = hypercall(PV_HC_MMU_UPDATE, (uint64_t)batch, batched);
	batched = 0;
	pv_check("mmu_update", err);
}

void mmu_queue(uint64_t entry_gpa, uint64_t value)
{
	if (batched == BATCH)
		mmu_flush();
	batch[batched++] = (struct pv_mmu_update){ entry_gpa, value };
}

void pv_pin(void *table, unsigned level)
{
	pv_check("pin", hypercall(PV_HC_MMUEXT, PV_MMUEXT_PIN_L1 + level - 1, (uint64_t)table));
}

/* --- events ----------------------------------------------------------------- */

/* Called by the upcall with events masked: take every pending port at
 * once (the VMM may set more while we look), and say if the timer's was
 * among them. */
int pv_timer_event(void)
{
	pv_shared->upcall_pending = 0;
	uint64_t ports = __atomic_exchange_n(&pv_shared->port_pending, 0, __ATOMIC_SEQ_CST);
	return (ports >> TIMER_PORT) & 1;
}

/* --- the console ring ------------------------------------------------------- */

int pv_console_begin(void)
{
	return ring->out_prod == ring->out_cons;
}

void pv_console_putc(char c)
{
	/* full: have the VMM drain it now (it does before it answers) */
	if (ring->out_prod - ring->out_cons >= PV_CONSOLE_OUT_SIZE)
		hypercall(PV_HC_EVENT_SEND, pv_info->console_port, 0);
	ring->out[ring->out_prod & (PV_CONSOLE_OUT_SIZE - 1)] = (uint8_t)c;
	__asm__ volatile("" ::: "memory"); /* the byte before the index that publishes it */
	ring->out_prod++;
}

/* The line is in the ring.  If the ring was empty, the VMM may not look
 * until its next tick: tell it.  Otherwise it has been told already. */
void pv_console_end(int was_empty)
{
	if (was_empty)
		hypercall(PV_HC_EVENT_SEND, pv_info->console_port, 0);
}
