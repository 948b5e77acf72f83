/* The 8259 pair's state (devices.c models them; snapdev.c saves them). */
#ifndef VMM_PIC8259_H
#define VMM_PIC8259_H

#include <stdint.h>

struct pic8259 {
	uint8_t irr, isr, imr, base, icw_step, icw4_needed, read_isr;
};

#endif
