/* Setting up a VCPU the way the system tests that drive one directly
 * (svm, svm_state, lifetime) all need. */
#ifndef VCPU_SETUP_H
#define VCPU_SETUP_H

#include <stdint.h>

/* Flat segments from base 0 with limit 4 GiB: CS selector 8 with the
 * given attributes (0xc9b: 32-bit code, 0x29b: 64-bit code), ES, SS, DS,
 * FS, GS selector 16 as writable data; RFLAGS = 2. */
void vcpu_flat_segments(uint64_t vcpu, uint64_t cs_attrib);

#endif
