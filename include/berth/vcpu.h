/* Virtual CPUs (AMD SVM): the fields a VMM reads and writes, and the
 * messages a VM exit sends and its reply.  See docs/vmm.md. */
#ifndef BERTH_VCPU_H
#define BERTH_VCPU_H

/* Fields for SYS_VCPU_READ / SYS_VCPU_WRITE. */
enum vcpu_field {
	/* general registers, in the exit message's order from RAX */
	VCPU_RAX = 0, VCPU_RBX, VCPU_RCX, VCPU_RDX, VCPU_RSI, VCPU_RDI, VCPU_RBP, VCPU_RSP,
	VCPU_R8, VCPU_R9, VCPU_R10, VCPU_R11, VCPU_R12, VCPU_R13, VCPU_R14, VCPU_R15,
	VCPU_RIP = 16, VCPU_RFLAGS,
	VCPU_CR0, VCPU_CR2, VCPU_CR3, VCPU_CR4, VCPU_EFER, VCPU_DR6, VCPU_DR7,
	/* segments: VCPU_SEG + 4 * segment + part */
	VCPU_SEG = 25,
	VCPU_INTERCEPT_CR = 65,    /* reads in bits 0..15, writes in 16..31 */
	VCPU_INTERCEPT_DR,         /* the same for debug registers */
	VCPU_INTERCEPT_EXC,        /* one bit per exception vector */
	VCPU_INTERCEPT_MISC1,      /* SVM_MISC1_* below (some are always on) */
	VCPU_INTERCEPT_MISC2,      /* SVM_MISC2_* below (VMRUN always on) */
	VCPU_V_IRQ,                /* write a vector to have it delivered when the guest allows (bit 8: pending) */
	VCPU_INT_SHADOW,           /* bit 0: the guest is in an interrupt shadow (a VMM that
	                            * steps past an instruction clears it) */
	VCPU_TSC_OFFSET,
	VCPU_G_PAT,
	VCPU_STAR, VCPU_LSTAR, VCPU_CSTAR, VCPU_SFMASK, VCPU_KERNEL_GS_BASE,
	VCPU_SYSENTER_CS, VCPU_SYSENTER_ESP, VCPU_SYSENTER_EIP,
	/* the guest's breakpoint addresses: the kernel loads them before VMRUN
	 * (guest writes to them always exit, so a VMM emulating MOV DRn sets
	 * them here) */
	VCPU_DR0, VCPU_DR1, VCPU_DR2, VCPU_DR3,
	/* the event the next entry injects (the VMCB's EVENTINJ: vector, type
	 * << 8, error code valid << 11, valid << 31, error code << 32), as a
	 * reply to an exit sets it; a VMM saving a stopped VCPU keeps it */
	VCPU_EVENT_INJ,
	/* x87 and SSE state as FXSAVE lays it out, 8 bytes a field (word 3
	 * holds MXCSR: a value with bits the CPU reserves is E_BAD_ARG) */
	VCPU_FPU,
	VCPU_FIELD_COUNT = VCPU_FPU + 64
};

enum vcpu_segment { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_GDTR, SEG_LDTR, SEG_IDTR, SEG_TR };
enum vcpu_segment_part { SEG_SELECTOR, SEG_ATTRIB, SEG_LIMIT, SEG_BASE };
#define VCPU_SEGMENT(seg, part) (VCPU_SEG + 4 * (seg) + (part))

/* Intercept bits (AMD APM vol. 2, the VMCB control area). */
#define SVM_MISC1_INTR     (1u << 0)   /* always on: the host's interrupts */
#define SVM_MISC1_NMI      (1u << 1)   /* always on */
#define SVM_MISC1_CPUID    (1u << 18)
#define SVM_MISC1_HLT      (1u << 24)
#define SVM_MISC1_IOIO     (1u << 27)  /* always on: the I/O bitmap decides */
#define SVM_MISC1_MSR      (1u << 28)  /* always on: the MSR bitmap decides */
#define SVM_MISC1_SHUTDOWN (1u << 31)  /* always on: a triple fault must not reset the host */
#define SVM_MISC2_VMRUN    (1u << 0)   /* always on (the hardware requires it) */
#define SVM_MISC2_VMMCALL  (1u << 1)
#define SVM_MISC1_INVD     (1u << 22)  /* always on */
#define SVM_MISC2_XSETBV   (1u << 13)  /* always on (QEMU 7.2 ignores it: docs/vmm.md) */
#define SVM_MISC1_INVLPGA  (1u << 26)  /* always on */
#define SVM_MISC1_INVLPG   (1u << 25)  /* always on for a VCPU on a ShadowSpace */
/* What the kernel intercepts for a VCPU on a ShadowSpace (docs/vmm.md,
 * "Shadow paging"), on top of the rest: #PF, reads and writes of CR3,
 * writes of CR0 and CR4, INVLPG. */
#define SVM_SHADOW_CR_ALWAYS ((1u << 3) | (1u << 16) | (1u << 19) | (1u << 20))
#define SVM_SHADOW_EXC_ALWAYS (1u << 14)
#define SVM_MISC1_TR_WRITE (1u << 13)  /* always on: LTR (QEMU 7.2 takes a null selector; docs/vmm.md) */
#define SVM_MISC2_VMLOAD   (1u << 2)   /* always on, as are VMSAVE ... SKINIT */
#define SVM_MISC2_VMSAVE   (1u << 3)
#define SVM_MISC2_STGI     (1u << 4)
#define SVM_MISC2_CLGI     (1u << 5)
#define SVM_MISC2_SKINIT   (1u << 6)
#define SVM_MISC2_MONITOR  (1u << 10)  /* always on, as are MWAIT and MWAIT armed */
#define SVM_MISC2_MWAIT    (1u << 11)
#define SVM_MISC2_MWAIT_CONDITIONAL (1u << 12)
/* Debug-register writes the kernel always intercepts (VCPU_INTERCEPT_DR
 * bits 16 + n): DR0-DR3, DR7 and DR5 (an alias of DR7 while CR4.DE is
 * clear).  Writes to DR6 (and DR4) are left to the guest. */
#define SVM_DR_WRITES_ALWAYS (0xafu << 16)

/* Exit codes (EXITCODE). */
#define VMEXIT_EXCEPTION(v) (0x40 + (v))
#define VMEXIT_INTR     0x60
#define VMEXIT_NMI      0x61
#define VMEXIT_VINTR    0x64
#define VMEXIT_CPUID    0x72
#define VMEXIT_HLT      0x78
#define VMEXIT_IOIO     0x7b
#define VMEXIT_MSR      0x7c
#define VMEXIT_SHUTDOWN 0x7f
#define VMEXIT_VMRUN    0x80
#define VMEXIT_VMMCALL  0x81
#define VMEXIT_INVD     0x76
#define VMEXIT_XSETBV   0x8d
#define VMEXIT_WRITE_DR(n) (0x30 + (n))  /* MOV to DRn; no decode assists: the VMM decodes */
#define VMEXIT_TR_WRITE 0x6d   /* LTR: the VMM emulates it */
#define VMEXIT_INVLPGA  0x7a
#define VMEXIT_VMLOAD   0x82
#define VMEXIT_VMSAVE   0x83
#define VMEXIT_STGI     0x84
#define VMEXIT_CLGI     0x85
#define VMEXIT_SKINIT   0x86
#define VMEXIT_MONITOR  0x8a
#define VMEXIT_MWAIT    0x8b
#define VMEXIT_MWAIT_CONDITIONAL 0x8c
#define VMEXIT_READ_CR(n)  (0x00 + (n))   /* MOV from CRn (no decode assists) */
#define VMEXIT_WRITE_CR(n) (0x10 + (n))   /* MOV to CRn, and CLTS and LMSW for CR0 */
#define VMEXIT_INVLPG   0x79
#define VMEXIT_NPF      0x400
#define VMEXIT_INVALID  0xffffffffUL   /* compare the low 32 bits */

/* Why the kernel refused to enter the guest (EXITINFO1 of VMEXIT_INVALID;
 * 0: the hardware refused, reason unknown). */
enum vcpu_invalid_reason {
	VMRUN_INVALID_HW = 0, VMRUN_INVALID_EFER = 1, VMRUN_INVALID_CR0 = 2, VMRUN_INVALID_CR3 = 3,
	VMRUN_INVALID_CR4 = 4, VMRUN_INVALID_DR = 5, VMRUN_INVALID_CS = 6, VMRUN_INVALID_EVENT = 7,
	VMRUN_INVALID_LONG_MODE = 8,
	VMRUN_INVALID_NO_SPACE = 9,   /* its GuestSpace or ShadowSpace capability was deleted or
	                               * revoked, or its ShadowSpace is bound to no live GuestSpace */
	VMRUN_INVALID_SHADOW_MODE = 10, /* on a ShadowSpace, but not in long mode with paging
	                                 * (CR0.PG and PE, CR4.PAE, EFER.LME and LMA) */
};

/*
 * The exit message (label LABEL_VMEXIT, VMEXIT_WORDS words, badge of the
 * exit port capability): the exit and the guest's registers.  The reply
 * (VMEXIT_REPLY_WORDS words, any label) carries words VMEXIT_W_RAX.. back
 * as the registers to resume with, and an event to inject; a reply of no
 * words resumes with nothing changed.
 */
#define VMEXIT_W_CODE    0
#define VMEXIT_W_INFO1   1
#define VMEXIT_W_INFO2   2
#define VMEXIT_W_INTINFO 3
#define VMEXIT_W_RAX     4    /* then RBX ... R15 in enum vcpu_field order */
#define VMEXIT_W_RIP     20
#define VMEXIT_W_RFLAGS  21
#define VMEXIT_WORDS     22
#define VMEXIT_W_INJECT  22   /* reply only: EVENTINJ format, 0: nothing */
#define VMEXIT_REPLY_WORDS 23
/* With VMEXIT_MTD_STATE the exit also carries, read-only (a reply never
 * changes them; SYS_VCPU_WRITE does), what a VMM needs to walk the
 * guest's page tables and decode its instruction: */
#define VMEXIT_W_CR0     23
#define VMEXIT_W_CR3     24
#define VMEXIT_W_CR4     25
#define VMEXIT_W_EFER    26
#define VMEXIT_W_CS_ATTRIB 27 /* the VMCB's 12-bit form, as VCPU_SEGMENT(SEG_CS, SEG_ATTRIB) */
#define VMEXIT_W_SS_ATTRIB 28 /* its DPL is the guest's CPL */
#define VMEXIT_STATE_WORDS 29 /* the exit's length with VMEXIT_MTD_STATE */

/*
 * Transfer descriptors (as NOVA's MTDs): per exit reason, which of words
 * VMEXIT_W_RAX..VMEXIT_W_RFLAGS the exit carries, and which the reply
 * writes back.  Bit i names word VMEXIT_W_RAX + i (enum vcpu_field's
 * order: RAX ... R15, RIP, RFLAGS); a word not named is left as it was
 * in the receiver's buffer on the exit and ignored in the reply, so the
 * guest keeps its value.  Words 0-3 always come, and a reply's event
 * (VMEXIT_W_INJECT) always counts.  VMEXIT_MTD_STATE adds words
 * VMEXIT_W_CR0..VMEXIT_W_SS_ATTRIB.  A VCPU starts with VMEXIT_MTD_ALL
 * for every reason; the VMM sets one with SYS_VCPU_WRITE of
 * VCPU_MTD(code) (codes below 0xa0, and VMEXIT_NPF; VMEXIT_INVALID
 * always carries VMEXIT_MTD_ALL).  docs/vmm.md, "Transfer descriptors".
 */
#define VMEXIT_MTD_REG(field) (1u << (field))   /* VCPU_RAX ... VCPU_RFLAGS */
#define VMEXIT_MTD_ALL   0x3ffffu
#define VMEXIT_MTD_STATE (1u << 18)
#define VCPU_MTD_FIRST   0x1000                 /* field numbers, apart from VCPU_FIELD_COUNT's */
#define VCPU_MTD_SLOTS   0xa1                   /* codes 0..0x9f, then VMEXIT_NPF */
#define VCPU_MTD(code) (VCPU_MTD_FIRST + ((code) == VMEXIT_NPF ? 0xa0 : (code)))

/* Event injection (EVENTINJ): vector | type << 8 | error valid << 11 |
 * valid << 31 | error code << 32. */
#define EVENT_VALID (1UL << 31)
#define EVENT_ERROR_VALID (1UL << 11)
#define EVENT_TYPE_INTR 0
#define EVENT_TYPE_NMI 2
#define EVENT_TYPE_EXCEPTION 3
#define EVENT_TYPE_SOFT_INT 4
#define EVENT(vector, type) ((uint64_t)(vector) | ((uint64_t)(type) << 8) | EVENT_VALID)

#endif
