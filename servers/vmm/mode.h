/* How the VMM runs its guest: the `mode=` argument (docs/vmm.md, "Modes").
 *   svm    hardware virtualization with nested paging (the default)
 *   shadow hardware virtualization with nested paging off: the VMM keeps
 *          shadow page tables (shadow.c)
 *   trap   no hardware help: the guest kernel runs as an ordinary Berth
 *          thread in ring 3 and every privileged instruction it executes
 *          faults to us, to be emulated (trap.c)
 *   patch  as trap, with the sensitive instructions that do not fault
 *          (pushf, popf) rewritten before they run (patch.c)
 *   pv     a guest built for it: in ring 3 as under trap, but asking by
 *          hypercalls for what it may not do itself (pv.c, pv_abi.h) */
#ifndef VMM_MODE_H
#define VMM_MODE_H

#include <libipc/libipc.h>

enum vmm_mode { VMM_MODE_SVM, VMM_MODE_SHADOW, VMM_MODE_TRAP, VMM_MODE_PATCH, VMM_MODE_PV };

/* The mode the arguments ask for, or -1 after saying which value is not
 * one. */
int vmm_mode(const char *args);
const char *vmm_mode_name(enum vmm_mode mode);

/* trap.c: build and run the VM without SVM; returns the VMM's exit status. */
int trap_main(const struct bootinfo *bi, enum vmm_mode mode);

/* pv.c: build and run a paravirtualized guest; returns the VMM's exit status. */
int pv_main(const struct bootinfo *bi);

#endif
