/* Kernel virtual memory layout; shared by C and assembly. */
#ifndef LAYOUT_H
#define LAYOUT_H

#define KERNEL_VMA   0xffffffff80000000
#define PHYSMAP_BASE 0xffff800000000000
#define PHYSMAP_SIZE 0x100000000        /* the boot tables map 4 GiB */

/* GDT selectors; SYSRET needs user data just below user code. */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x23                  /* 0x20 | RPL 3 */
#define SEL_UCODE 0x2b                  /* 0x28 | RPL 3 */
#define SEL_TSS   0x30

#define KERNEL_STACK_SIZE 16384

#ifndef __ASSEMBLER__
#include <stdint.h>
#define P2V(pa) ((void *)((uintptr_t)(pa) + PHYSMAP_BASE))
#define V2P(va) ((uintptr_t)(va) - PHYSMAP_BASE)
#define KIMG2P(va) ((uintptr_t)(va) - KERNEL_VMA)
#endif

#endif
