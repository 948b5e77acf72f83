/* 4-level page tables for user address spaces. */
#ifndef VSPACE_H
#define VSPACE_H

#include <stdint.h>

#define PTE_P   0x1UL
#define PTE_W   0x2UL
#define PTE_U   0x4UL
#define PTE_PWT 0x8UL
#define PTE_PCD 0x10UL
#define PTE_PS  0x80UL
#define PTE_NX  (1UL << 63)
#define PTE_ADDR 0x000ffffffffff000UL
/* Bits 9..11 are the software's in every paging structure, nested ones
 * included.  The kernel marks its leaves with what no hardware bit keeps:
 * WRITABLE, the mapping's capability allowed writes (SYS_GUEST_PROTECT
 * may take W away and give it back, never more); PIECE, a 4 KiB piece of
 * a 2 MiB frame mapped with MAP_PIECES. */
#define PTE_AVL_WRITABLE (1UL << 9)
#define PTE_AVL_PIECE    (1UL << 10)

void vspace_init_kernel(void);
void vspace_init(uint64_t pml4);
uint64_t kernel_pml4_paddr(void);

#define ASID_COUNT 4096

/* Address-space IDs name live VSpaces; a mapping handle is an ID plus the
 * generation it had, so a handle outlives its VSpace harmlessly. */
int asid_alloc(uint64_t pml4, uint64_t *asid);
uint64_t asid_handle(uint64_t asid);
uint64_t handle_pml4(uint64_t handle);   /* 0 if that VSpace is gone */
void vspace_destroy(uint64_t pml4, uint64_t asid);
#define LEVEL_LARGE_FRAME 4   /* vspace_mapping_entry: a 2 MiB frame */
#define LEVEL_PIECES      5   /* a 2 MiB frame as 512 entries of a page table */
uint64_t *vspace_mapping_entry(uint64_t handle, uint64_t vaddr, int level, uint64_t paddr);
int vspace_unmap_frame_handle(uint64_t handle, uint64_t vaddr, uint64_t frame, int level);
void vspace_unmap_table_handle(uint64_t handle, uint64_t vaddr_level, uint64_t table);
void vspace_flush(uint64_t handle, uint64_t vaddr, int level);
int vspace_map_table(uint64_t pml4, uint64_t vaddr, uint64_t table, uint64_t *level);
/* how: MAP_LARGE (a 2 MiB page), MAP_UNCACHED (device memory: PCD|PWT),
 * MAP_AS_PIECES (a 2 MiB frame as 512 4 KiB entries of the page table at
 * vaddr, each of which a 4 KiB frame may later replace) */
#define MAP_LARGE    0x1u
#define MAP_UNCACHED 0x2u
#define MAP_AS_PIECES 0x4u
#define MAP_REPLACEABLE 0x8u  /* a 4 KiB frame as one piece: another 4 KiB frame may take its place */
int vspace_map_frame(uint64_t pml4, uint64_t vaddr, uint64_t frame, unsigned rights, unsigned how,
                     uint64_t *missing, int *took_piece);
int vspace_translate(uint64_t pml4, uint64_t vaddr, uint64_t *paddr);
uint64_t *vspace_pte(uint64_t pml4, uint64_t vaddr, int *missing_level);
uint64_t vspace_leaf(uint64_t pml4, uint64_t vaddr, uint64_t *size);
int vspace_write_protect(uint64_t handle, uint64_t vaddr, uint64_t pages, int allow, uint64_t *changed);
extern uint64_t tlb_generation;
extern uint64_t vspace_generation;

#endif
