/*
 * Building the guest's ACPI tables: see acpi.h for the platform they
 * describe and for how the VMM places them.  The layouts follow the ACPI
 * specification, 6.0 for the FADT (revision 6, 276 bytes, which is what
 * Linux 6.1's ACPICA copies whole).
 *
 * The tables, in the order they sit in the buffer:
 *
 *   FACS   64 bytes, 64-byte aligned (the specification requires it).  No
 *          firmware wakes the guest, so every field but the signature,
 *          length and version is zero.  Linux warns if a non-reduced
 *          platform has none, and maps it for the global lock.
 *   DSDT   AML: \_S5 and the PCI root bridge \_SB.PCI0 (below).
 *   FADT   the fixed hardware: the PM block, the SCI, the reset register,
 *          the IA-PC boot flags.
 *   MADT   the local APIC, the I/O APIC, two interrupt source overrides
 *          and the LINT1 NMI.
 *   XSDT   64-bit pointers to FADT and MADT (the FADT points at FACS and
 *          DSDT; those two are never listed in the XSDT).
 *   RSDT   the same with 32-bit pointers, for ACPI 1.0 readers.
 *
 * Every table but the FACS (which has none) carries a checksum that makes
 * its bytes sum to 0 modulo 256; the RSDP has two (first 20 bytes, all 36).
 *
 * Numbers are written byte by byte, little-endian, so the code neither
 * depends on the host's byte order nor on the buffer's alignment.  No
 * library calls: this file builds freestanding too.
 */
#include "acpi.h"

/* A write cursor over the caller's buffer.  A write past the end sets
 * `overflow` and is dropped; acpi_build checks it once at the end. */
struct out {
	uint8_t *buf;
	size_t size;
	size_t pos;
	int overflow;
};

static void emit8(struct out *o, uint8_t v)
{
	if (o->pos >= o->size) {
		o->overflow = 1;
		return;
	}
	o->buf[o->pos++] = v;
}

static void emit16(struct out *o, uint16_t v)
{
	emit8(o, (uint8_t)v);
	emit8(o, (uint8_t)(v >> 8));
}

static void emit32(struct out *o, uint32_t v)
{
	emit16(o, (uint16_t)v);
	emit16(o, (uint16_t)(v >> 16));
}

static void emit64(struct out *o, uint64_t v)
{
	emit32(o, (uint32_t)v);
	emit32(o, (uint32_t)(v >> 32));
}

static void emit_bytes(struct out *o, const void *bytes, size_t n)
{
	const uint8_t *b = bytes;

	for (size_t i = 0; i < n; i++)
		emit8(o, b[i]);
}

/* Exactly n characters of a string constant (no NUL): signatures, OEM IDs. */
static void emit_chars(struct out *o, const char *s, size_t n)
{
	emit_bytes(o, s, n);
}

static void emit_zeros(struct out *o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		emit8(o, 0);
}

static void align(struct out *o, size_t to)
{
	while (!o->overflow && o->pos % to)
		emit8(o, 0);
}

/* Patch a number written earlier (the lengths and checksums). */
static void patch8(struct out *o, size_t at, uint8_t v)
{
	if (at < o->size)
		o->buf[at] = v;
}

static void patch32(struct out *o, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		patch8(o, at + i, (uint8_t)(v >> (8 * i)));
}

uint8_t acpi_sum(const uint8_t *bytes, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum += bytes[i];
	return sum;
}

/* --- table headers ----------------------------------------------------- */

#define HEADER_BYTES 36
#define HEADER_LENGTH 4     /* offsets in the header */
#define HEADER_CHECKSUM 9

/* The standard 36-byte header; length and checksum are filled in by
 * table_end.  Returns where the table starts. */
static size_t table_begin(struct out *o, const char sig[4], uint8_t revision)
{
	size_t start = o->pos;

	emit_chars(o, sig, 4);
	emit32(o, 0);                          /* length, patched */
	emit8(o, revision);
	emit8(o, 0);                           /* checksum, patched */
	emit_chars(o, ACPI_OEM_ID, 6);
	emit_chars(o, ACPI_OEM_TABLE_ID, 8);
	emit32(o, ACPI_OEM_REVISION);
	emit_chars(o, ACPI_CREATOR_ID, 4);
	emit32(o, ACPI_CREATOR_REVISION);
	return start;
}

static void table_end(struct out *o, size_t start)
{
	size_t len = o->pos - start;

	if (o->overflow)
		return;
	patch32(o, start + HEADER_LENGTH, (uint32_t)len);
	patch8(o, start + HEADER_CHECKSUM, (uint8_t)-acpi_sum(o->buf + start, len));
}

/* A Generic Address Structure (ACPI 5.2.3.2): 12 bytes. */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE  1
#define GAS_ACCESS_WORD  2
#define GAS_ACCESS_DWORD 3

static void emit_gas(struct out *o, uint8_t space, uint8_t bit_width, uint8_t access,
		     uint64_t address)
{
	emit8(o, space);
	emit8(o, bit_width);
	emit8(o, 0);                           /* bit offset */
	emit8(o, access);
	emit64(o, address);
}

static void emit_gas_none(struct out *o)
{
	emit_zeros(o, 12);
}

/* --- FACS -------------------------------------------------------------- */

#define FACS_BYTES 64
#define FACS_VERSION 2

static size_t build_facs(struct out *o)
{
	size_t start = o->pos;

	emit_chars(o, "FACS", 4);
	emit32(o, FACS_BYTES);
	emit32(o, 0);       /* hardware signature: never changes, no S4 */
	emit32(o, 0);       /* firmware waking vector: no S3 */
	emit32(o, 0);       /* global lock: free, and no firmware contends */
	emit32(o, 0);       /* flags: no S4BIOS, no 64-bit wake */
	emit64(o, 0);       /* X firmware waking vector */
	emit8(o, FACS_VERSION);
	emit_zeros(o, 3);
	emit32(o, 0);       /* OSPM flags */
	emit_zeros(o, 24);
	return start;
}

/* --- DSDT: the AML ------------------------------------------------------ */

/*
 * AML opcodes used here (ACPI 6.0 section 20, "ACPI Machine Language").
 * The DSDT is a term list; a named object is NameOp, a four-character
 * name segment and the object.  Variable-length objects (Package, Buffer,
 * Device) are followed by a PkgLength that counts itself and everything
 * after it up to the end of the object.
 */
#define AML_ZERO          0x00
#define AML_ONE           0x01
#define AML_NAME          0x08
#define AML_BYTE_PREFIX   0x0a
#define AML_WORD_PREFIX   0x0b
#define AML_DWORD_PREFIX  0x0c
#define AML_QWORD_PREFIX  0x0e
#define AML_BUFFER        0x11
#define AML_PACKAGE       0x12
#define AML_DUAL_NAME     0x2e   /* two name segments follow */
#define AML_ROOT_CHAR     0x5c   /* '\' */
#define AML_EXT_PREFIX    0x5b
#define AML_DEVICE        0x82   /* after AML_EXT_PREFIX */

/*
 * PkgLength (20.2.4): one byte for up to 63; otherwise bits 7-6 of the
 * lead byte say how many bytes follow (1-3), the lead byte's low nibble
 * holds the least significant 4 bits and each following byte the next 8.
 * The length counts the PkgLength bytes themselves, so how many there are
 * is known only at the end of the object.  pkg_begin reserves the largest
 * form (4 bytes); pkg_end writes the shortest one that fits and moves the
 * body down behind it.
 */
#define PKG_RESERVED 4

static size_t pkg_begin(struct out *o)
{
	size_t at = o->pos;

	emit_zeros(o, PKG_RESERVED);
	return at;
}

static void pkg_end(struct out *o, size_t at)
{
	static const uint32_t max_for[5] = { 0, 0x3f, 0xfff, 0xfffff, 0xfffffff };
	size_t body = o->pos - (at + PKG_RESERVED);
	unsigned n = 1;
	uint32_t total;

	if (o->overflow)
		return;
	while (n < 4 && body + n > max_for[n])
		n++;
	total = (uint32_t)(body + n);
	if (n == 1) {
		o->buf[at] = (uint8_t)total;
	} else {
		o->buf[at] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
		for (unsigned i = 1; i < n; i++)
			o->buf[at + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	/* Move the body down over the unused reserved bytes (forwards is
	 * safe: the destination is below the source). */
	for (size_t i = 0; i < body; i++)
		o->buf[at + n + i] = o->buf[at + PKG_RESERVED + i];
	o->pos = at + n + body;
}

/* An integer in its shortest encoding: ZeroOp, OneOp or a prefixed
 * constant of 1, 2, 4 or 8 bytes. */
static void aml_integer(struct out *o, uint64_t v)
{
	if (v == 0) {
		emit8(o, AML_ZERO);
	} else if (v == 1) {
		emit8(o, AML_ONE);
	} else if (v <= 0xff) {
		emit8(o, AML_BYTE_PREFIX);
		emit8(o, (uint8_t)v);
	} else if (v <= 0xffff) {
		emit8(o, AML_WORD_PREFIX);
		emit16(o, (uint16_t)v);
	} else if (v <= 0xffffffffu) {
		emit8(o, AML_DWORD_PREFIX);
		emit32(o, (uint32_t)v);
	} else {
		emit8(o, AML_QWORD_PREFIX);
		emit64(o, v);
	}
}

/* Name(seg, ...): NameOp and a single four-character segment; the caller
 * emits the object. */
static void aml_name(struct out *o, const char seg[4])
{
	emit8(o, AML_NAME);
	emit_chars(o, seg, 4);
}

/*
 * EISAID("PNP0A03") as the 32-bit integer _HID takes (ACPI 6.1.5): three
 * letters in 5 bits each (A = 1) and four hex digits, stored as the bytes
 * [letters high, letters low, digits 1-2, digits 3-4].
 */
static uint32_t eisa_id(const char id[7])
{
	uint32_t letters = ((uint32_t)(id[0] - '@') << 10) | ((uint32_t)(id[1] - '@') << 5) |
			   (uint32_t)(id[2] - '@');
	uint32_t digits = 0;

	for (int i = 3; i < 7; i++) {
		char c = id[i];
		unsigned d = (c >= '0' && c <= '9') ? (unsigned)(c - '0') : (unsigned)(c - 'A' + 10);
		digits = (digits << 4) | d;
	}
	return (letters >> 8) | ((letters & 0xff) << 8) | ((digits >> 8) << 16) |
	       ((digits & 0xff) << 24);
}

/* Name(_S5, Package() {typ_a, typ_b, 0, 0}): the \_S5 sleep object.
 * Encoded: 08 '_S5_' 12 <len> 04 0a 05 0a 05 00 00.  Linux reads the
 * first two elements as SLP_TYPa and SLP_TYPb (acpi_get_sleep_type_data);
 * only PM1a exists, so typ_b is never written.  The last two are
 * reserved. */
static void aml_s5(struct out *o)
{
	size_t pkg;

	aml_name(o, "_S5_");
	emit8(o, AML_PACKAGE);
	pkg = pkg_begin(o);
	emit8(o, 4);                           /* NumElements */
	aml_integer(o, ACPI_SLP_TYP_S5);
	aml_integer(o, ACPI_SLP_TYP_S5);
	aml_integer(o, 0);
	aml_integer(o, 0);
	pkg_end(o, pkg);
}

/* Resource descriptors (ACPI 6.4 "Resource Data Types"). */
#define RES_IO            0x47   /* small: I/O port, 8 bytes with the tag */
#define RES_END           0x79   /* small: end tag, 2 bytes */
#define RES_DWORD_ADDR    0x87   /* large: 32-bit address space, 26 bytes */
#define RES_WORD_ADDR     0x88   /* large: 16-bit address space, 16 bytes */
#define RES_SPACE_MEMORY  0
#define RES_SPACE_IO      1
#define RES_SPACE_BUS     2
/* General flags of an address space descriptor: a bridge window is
 * produced (bit 0 clear), positively decoded (bit 1 clear), with fixed
 * minimum and maximum (bits 2 and 3). */
#define RES_FLAGS_WINDOW  0x0c
#define RES_IO_ENTIRE     0x03   /* type flags, I/O: ISA and non-ISA ranges */
#define RES_MEM_RW        0x01   /* type flags, memory: read-write, non-cacheable */

/* A small scratch writer for the resource template: it is built first so
 * that the Buffer's size is known before its bytes are emitted. */
static void res_word(struct out *r, uint8_t space, uint8_t type_flags, uint16_t min,
		     uint16_t max)
{
	emit8(r, RES_WORD_ADDR);
	emit16(r, 13);                         /* length after these 3 bytes */
	emit8(r, space);
	emit8(r, RES_FLAGS_WINDOW);
	emit8(r, type_flags);
	emit16(r, 0);                          /* granularity */
	emit16(r, min);
	emit16(r, max);
	emit16(r, 0);                          /* translation offset */
	emit16(r, (uint16_t)(max - min + 1));
}

static void res_dword_memory(struct out *r, uint32_t min, uint32_t max)
{
	emit8(r, RES_DWORD_ADDR);
	emit16(r, 23);
	emit8(r, RES_SPACE_MEMORY);
	emit8(r, RES_FLAGS_WINDOW);
	emit8(r, RES_MEM_RW);
	emit32(r, 0);                          /* granularity */
	emit32(r, min);
	emit32(r, max);
	emit32(r, 0);                          /* translation offset */
	emit32(r, max - min + 1);
}

static void res_io(struct out *r, uint16_t port, uint8_t len)
{
	emit8(r, RES_IO);
	emit8(r, 0x01);                        /* decodes 16 address bits */
	emit16(r, port);                       /* minimum base */
	emit16(r, port);                       /* maximum base */
	emit8(r, 1);                           /* alignment */
	emit8(r, len);
}

/*
 * Name(_CRS, ResourceTemplate() {...}) of the root bridge: what it
 * decodes.  Linux builds the root bus's windows from this (with no
 * window, no BAR could be assigned).
 *   WordBusNumber 0x00-0xff                 the buses below it
 *   IO 0xcf8, 8 ports                       its configuration registers
 *   WordIO 0x0000-0x0cf7, 0x0d00-0xffff     I/O forwarded to PCI
 *   DWordMemory pci_mmio_start-0xfebfffff   the 32-bit MMIO hole, up to
 *                                           the I/O APIC
 */
#define CRS_MAX 96

static void aml_pci_crs(struct out *o, uint32_t mmio_start)
{
	uint8_t bytes[CRS_MAX];
	struct out r = { bytes, sizeof(bytes), 0, 0 };
	size_t pkg;

	res_word(&r, RES_SPACE_BUS, 0, 0x00, 0xff);
	res_io(&r, 0xcf8, 8);
	res_word(&r, RES_SPACE_IO, RES_IO_ENTIRE, 0x0000, 0x0cf7);
	res_word(&r, RES_SPACE_IO, RES_IO_ENTIRE, 0x0d00, 0xffff);
	res_dword_memory(&r, mmio_start, ACPI_PCI_MMIO_END);
	emit8(&r, RES_END);
	emit8(&r, 0);                          /* checksum 0: "treat as valid" */
	if (r.overflow) {
		o->overflow = 1;
		return;
	}

	aml_name(o, "_CRS");
	emit8(o, AML_BUFFER);
	pkg = pkg_begin(o);
	aml_integer(o, r.pos);                 /* BufferSize */
	emit_bytes(o, bytes, r.pos);
	pkg_end(o, pkg);
}

/*
 * Name(_PRT, Package() {...}): PCI interrupt routing, one entry per slot
 * and pin, Package() {0xSSSSFFFF, pin, 0, GSI}.  A Source of 0 (an
 * integer, not a link device's name) says the fourth element is the GSI
 * itself; Linux then programs that I/O APIC pin level-triggered, active
 * low, as PCI INTx lines are.  The usual rotation (slot + pin) spreads
 * single-function devices over eight pins.
 */
#define PCI_SLOTS 32
#define PCI_PINS 4

static void aml_pci_prt(struct out *o)
{
	size_t outer;

	aml_name(o, "_PRT");
	emit8(o, AML_PACKAGE);
	outer = pkg_begin(o);
	emit8(o, PCI_SLOTS * PCI_PINS);        /* NumElements: 128 fits a byte */
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
		for (unsigned pin = 0; pin < PCI_PINS; pin++) {
			size_t inner;

			emit8(o, AML_PACKAGE);
			inner = pkg_begin(o);
			emit8(o, 4);
			aml_integer(o, ((uint64_t)slot << 16) | 0xffff);  /* any function */
			aml_integer(o, pin);
			aml_integer(o, 0);                                 /* Source: none */
			aml_integer(o, ACPI_PCI_GSI(slot, pin));
			pkg_end(o, inner);
		}
	}
	pkg_end(o, outer);
}

/*
 * Device(\_SB.PCI0) { Name(_HID, EISAID("PNP0A03")) Name(_UID, 0)
 *                     Name(_CRS, ...) Name(_PRT, ...) }
 * Encoded: 5b 82 <len> 5c 2e '_SB_' 'PCI0' <names>.  \_SB is one of the
 * scopes ACPICA creates itself, so no Scope() is needed around it.  A
 * conventional PCI bridge (PNP0A03, not PCIe's PNP0A08) needs no _OSC;
 * Linux notes the missing _OSC and carries on.
 */
static void aml_pci0(struct out *o, uint32_t mmio_start)
{
	size_t pkg;

	emit8(o, AML_EXT_PREFIX);
	emit8(o, AML_DEVICE);
	pkg = pkg_begin(o);
	emit8(o, AML_ROOT_CHAR);
	emit8(o, AML_DUAL_NAME);
	emit_chars(o, "_SB_", 4);
	emit_chars(o, "PCI0", 4);

	aml_name(o, "_HID");
	emit8(o, AML_DWORD_PREFIX);            /* EISA IDs are always DWordConst */
	emit32(o, eisa_id("PNP0A03"));
	aml_name(o, "_UID");
	aml_integer(o, 0);
	aml_pci_crs(o, mmio_start);
	aml_pci_prt(o);
	pkg_end(o, pkg);
}

/*
 * The DSDT.  What Linux needs from it on this platform, and why the rest
 * is left out:
 *   \_S5        required for ACPI power off (acpi_sleep_init offers
 *               poweroff only if \_S5 evaluates).
 *   \_SB.PCI0   required for PCI: with ACPI on, Linux scans only the root
 *               bridges the namespace names.
 *   \_PIC       not needed: Linux calls \_PIC(1) when switching to the I/O
 *               APIC and ignores "not found"; this _PRT routes by GSI in
 *               any mode.
 *   processors  not needed: the MADT lists the CPU; with no
 *               Processor/ACPI0007 object Linux just has no ACPI C/P-states.
 *   ISA devices not needed: Linux probes COM1, the RTC and the i8042 at
 *               their fixed ports when PNP lists none (FADT boot flags
 *               LEGACY_DEVICES and 8042 say they are there).
 * Revision 2: integers are 64 bits wide.
 */
#define DSDT_REVISION 2

static size_t build_dsdt(struct out *o, uint32_t mmio_start)
{
	size_t start = table_begin(o, "DSDT", DSDT_REVISION);

	aml_s5(o);
	aml_pci0(o, mmio_start);
	table_end(o, start);
	return start;
}

/* --- FADT -------------------------------------------------------------- */

#define FADT_REVISION 6
#define FADT_MINOR 0
#define FADT_BYTES 276

/* FADT flags (ACPI 6.0 table 5-35). */
#define FADT_WBINVD         (1u << 0)   /* WBINVD works: required on x86 */
#define FADT_PROC_C1        (1u << 2)   /* HLT (C1) works */
#define FADT_SLP_BUTTON     (1u << 5)   /* no fixed-feature sleep button */
#define FADT_FIX_RTC        (1u << 6)   /* no RTC_STS in PM1 */
#define FADT_RESET_REG_SUP  (1u << 10)
/* Clear on purpose: PWR_BUTTON (bit 4; the power button is the fixed
 * PWRBTN_STS/EN), TMR_VAL_EXT (bit 8; the PM timer is 24 bits),
 * HW_REDUCED_ACPI (bit 20; the legacy hardware is there). */
#define FADT_FLAGS (FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_FIX_RTC | \
		    FADT_RESET_REG_SUP)

/* IA-PC boot architecture flags (table 5-36). */
#define BOOT_LEGACY_DEVICES (1u << 0)   /* ISA devices at their fixed ports */
#define BOOT_8042           (1u << 1)   /* without it Linux skips the i8042 */
#define BOOT_VGA_ABSENT     (1u << 2)
#define BOOT_MSI_ABSENT     (1u << 3)   /* drop when the VMM models MSI */
#define FADT_BOOT_FLAGS (BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_ABSENT | BOOT_MSI_ABSENT)

#define FADT_INT_MODEL_APIC 1          /* ACPI 1.0's INT_MODEL; reserved since */
#define FADT_NO_C2_LATENCY 101         /* > 100 us: C2 not supported */
#define FADT_NO_C3_LATENCY 1001        /* > 1000 us: C3 not supported */

static size_t build_fadt(struct out *o, uint64_t facs_gpa, uint64_t dsdt_gpa)
{
	size_t start = table_begin(o, "FACP", FADT_REVISION);

	emit32(o, 0);                  /*  36 FIRMWARE_CTRL: 0, X_FIRMWARE_CTRL is used */
	emit32(o, (uint32_t)dsdt_gpa); /*  40 DSDT (the same as X_DSDT) */
	emit8(o, FADT_INT_MODEL_APIC); /*  44 */
	emit8(o, 0);                   /*  45 preferred PM profile: unspecified */
	emit16(o, ACPI_SCI_IRQ);       /*  46 SCI_INT */
	emit32(o, 0);                  /*  48 SMI_CMD: none, always in ACPI mode */
	emit8(o, 0);                   /*  52 ACPI_ENABLE */
	emit8(o, 0);                   /*  53 ACPI_DISABLE */
	emit8(o, 0);                   /*  54 S4BIOS_REQ */
	emit8(o, 0);                   /*  55 PSTATE_CNT */
	emit32(o, ACPI_PM1A_EVT_BLK);  /*  56 */
	emit32(o, 0);                  /*  60 PM1b_EVT_BLK */
	emit32(o, ACPI_PM1A_CNT_BLK);  /*  64 */
	emit32(o, 0);                  /*  68 PM1b_CNT_BLK */
	emit32(o, 0);                  /*  72 PM2_CNT_BLK */
	emit32(o, ACPI_PM_TMR_BLK);    /*  76 */
	emit32(o, ACPI_GPE0_BLK);      /*  80 */
	emit32(o, 0);                  /*  84 GPE1_BLK */
	emit8(o, ACPI_PM1_EVT_LEN);    /*  88 */
	emit8(o, ACPI_PM1_CNT_LEN);    /*  89 */
	emit8(o, 0);                   /*  90 PM2_CNT_LEN */
	emit8(o, ACPI_PM_TMR_LEN);     /*  91 */
	emit8(o, ACPI_GPE0_BLK_LEN);   /*  92 */
	emit8(o, 0);                   /*  93 GPE1_BLK_LEN */
	emit8(o, 0);                   /*  94 GPE1_BASE */
	emit8(o, 0);                   /*  95 CST_CNT: no _CST notifications */
	emit16(o, FADT_NO_C2_LATENCY); /*  96 P_LVL2_LAT */
	emit16(o, FADT_NO_C3_LATENCY); /*  98 P_LVL3_LAT */
	emit16(o, 0);                  /* 100 FLUSH_SIZE */
	emit16(o, 0);                  /* 102 FLUSH_STRIDE */
	emit8(o, 0);                   /* 104 DUTY_OFFSET */
	emit8(o, 0);                   /* 105 DUTY_WIDTH */
	emit8(o, 0);                   /* 106 DAY_ALRM: no RTC alarm day */
	emit8(o, 0);                   /* 107 MON_ALRM */
	emit8(o, 0x32);                /* 108 CENTURY: the CMOS byte holding it (rtc.c) */
	emit16(o, FADT_BOOT_FLAGS);    /* 109 IAPC_BOOT_ARCH */
	emit8(o, 0);                   /* 111 reserved */
	emit32(o, FADT_FLAGS);         /* 112 */
	emit_gas(o, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, ACPI_RESET_PORT);  /* 116 RESET_REG */
	emit8(o, ACPI_RESET_VALUE);    /* 128 */
	emit16(o, 0);                  /* 129 ARM_BOOT_ARCH */
	emit8(o, FADT_MINOR);          /* 131 */
	emit64(o, facs_gpa);           /* 132 X_FIRMWARE_CTRL */
	emit64(o, dsdt_gpa);           /* 140 X_DSDT */
	/* The X_ blocks: ACPICA checks that bit_width is 8 x the legacy
	 * length and splits PM1 event blocks into 16-bit status and enable
	 * halves. */
	emit_gas(o, GAS_SYSTEM_IO, 8 * ACPI_PM1_EVT_LEN, GAS_ACCESS_WORD,
		 ACPI_PM1A_EVT_BLK);                                    /* 148 */
	emit_gas_none(o);                                               /* 160 X_PM1b_EVT */
	emit_gas(o, GAS_SYSTEM_IO, 8 * ACPI_PM1_CNT_LEN, GAS_ACCESS_WORD,
		 ACPI_PM1A_CNT_BLK);                                    /* 172 */
	emit_gas_none(o);                                               /* 184 X_PM1b_CNT */
	emit_gas_none(o);                                               /* 196 X_PM2_CNT */
	emit_gas(o, GAS_SYSTEM_IO, 8 * ACPI_PM_TMR_LEN, GAS_ACCESS_DWORD,
		 ACPI_PM_TMR_BLK);                                      /* 208 */
	emit_gas(o, GAS_SYSTEM_IO, 8 * ACPI_GPE0_BLK_LEN, GAS_ACCESS_BYTE,
		 ACPI_GPE0_BLK);                                        /* 220 */
	emit_gas_none(o);                                               /* 232 X_GPE1 */
	emit_gas_none(o);              /* 244 SLEEP_CONTROL_REG: reduced hardware only */
	emit_gas_none(o);              /* 256 SLEEP_STATUS_REG */
	emit64(o, 0);                  /* 268 hypervisor vendor identity */
	table_end(o, start);
	return start;
}

/* --- MADT -------------------------------------------------------------- */

#define MADT_REVISION 3
#define MADT_PCAT_COMPAT 1
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_OVERRIDE 2
#define MADT_LAPIC_NMI 4
#define MADT_LAPIC_ENABLED 1
#define MADT_ALL_CPUS 0xff
/* MPS INTI flags: polarity bits 1-0 (01 high, 11 low), trigger bits 3-2
 * (01 edge, 11 level); 0 = "conforms to the bus" (ISA: edge, high). */
#define MPS_CONFORMING 0x0000
#define MPS_HIGH_LEVEL 0x000d

static void madt_override(struct out *o, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	emit8(o, MADT_OVERRIDE);
	emit8(o, 10);
	emit8(o, 0);                           /* bus: ISA */
	emit8(o, irq);
	emit32(o, gsi);
	emit16(o, flags);
}

static size_t build_madt(struct out *o)
{
	size_t start = table_begin(o, "APIC", MADT_REVISION);

	emit32(o, ACPI_LAPIC_GPA);
	emit32(o, MADT_PCAT_COMPAT);

	/* The CPU: ACPI processor UID 0, APIC ID 0, enabled. */
	emit8(o, MADT_LAPIC);
	emit8(o, 8);
	emit8(o, 0);
	emit8(o, ACPI_LAPIC_ID);
	emit32(o, MADT_LAPIC_ENABLED);

	emit8(o, MADT_IOAPIC);
	emit8(o, 12);
	emit8(o, ACPI_IOAPIC_ID);
	emit8(o, 0);
	emit32(o, ACPI_IOAPIC_GPA);
	emit32(o, ACPI_IOAPIC_GSI_BASE);

	madt_override(o, ACPI_PIT_IRQ, ACPI_PIT_GSI, MPS_CONFORMING);
	madt_override(o, ACPI_SCI_IRQ, ACPI_SCI_IRQ, MPS_HIGH_LEVEL);

	/* LINT1 of every CPU is the NMI input, edge/high as the bus says. */
	emit8(o, MADT_LAPIC_NMI);
	emit8(o, 6);
	emit8(o, MADT_ALL_CPUS);
	emit16(o, MPS_CONFORMING);
	emit8(o, 1);                           /* LINT1 */

	table_end(o, start);
	return start;
}

/* --- XSDT, RSDT, RSDP --------------------------------------------------- */

static size_t build_xsdt(struct out *o, const uint64_t *gpas, unsigned n)
{
	size_t start = table_begin(o, "XSDT", 1);

	for (unsigned i = 0; i < n; i++)
		emit64(o, gpas[i]);
	table_end(o, start);
	return start;
}

static size_t build_rsdt(struct out *o, const uint64_t *gpas, unsigned n)
{
	size_t start = table_begin(o, "RSDT", 1);

	for (unsigned i = 0; i < n; i++)
		emit32(o, (uint32_t)gpas[i]);
	table_end(o, start);
	return start;
}

#define RSDP_V1_BYTES 20   /* the part the first checksum covers */
#define RSDP_REVISION 2    /* ACPI 2.0+: has the XSDT */

static void build_rsdp(uint8_t rsdp[ACPI_RSDP_BYTES], uint64_t rsdt_gpa, uint64_t xsdt_gpa)
{
	struct out r = { rsdp, ACPI_RSDP_BYTES, 0, 0 };

	emit_chars(&r, "RSD PTR ", 8);
	emit8(&r, 0);                          /* checksum of bytes 0-19 */
	emit_chars(&r, ACPI_OEM_ID, 6);
	emit8(&r, RSDP_REVISION);
	emit32(&r, (uint32_t)rsdt_gpa);
	emit32(&r, ACPI_RSDP_BYTES);
	emit64(&r, xsdt_gpa);
	emit8(&r, 0);                          /* extended checksum, all 36 */
	emit_zeros(&r, 3);
	rsdp[8] = (uint8_t)-acpi_sum(rsdp, RSDP_V1_BYTES);
	rsdp[32] = (uint8_t)-acpi_sum(rsdp, ACPI_RSDP_BYTES);
}

/* --- all of it ----------------------------------------------------------- */

#define TABLE_ALIGN 16
#define FACS_ALIGN 64

size_t acpi_build(uint8_t *tables, size_t size, uint64_t tables_gpa,
		  uint64_t pci_mmio_start, uint8_t rsdp[ACPI_RSDP_BYTES])
{
	struct out o = { tables, size, 0, 0 };
	uint64_t facs, dsdt, pointed[2];
	size_t xsdt, rsdt;

	if (tables == NULL || rsdp == NULL || tables_gpa % FACS_ALIGN != 0 ||
	    pci_mmio_start >= ACPI_PCI_MMIO_END)
		return 0;

	facs = tables_gpa + build_facs(&o);
	align(&o, TABLE_ALIGN);
	dsdt = tables_gpa + build_dsdt(&o, (uint32_t)pci_mmio_start);
	align(&o, TABLE_ALIGN);
	pointed[0] = tables_gpa + build_fadt(&o, facs, dsdt);
	align(&o, TABLE_ALIGN);
	pointed[1] = tables_gpa + build_madt(&o);
	align(&o, TABLE_ALIGN);
	xsdt = build_xsdt(&o, pointed, 2);
	align(&o, TABLE_ALIGN);
	rsdt = build_rsdt(&o, pointed, 2);

	if (o.overflow)
		return 0;
	/* The RSDT, the FADT's DSDT field and the 32-bit window all need
	 * 32-bit addresses. */
	if (tables_gpa + o.pos > 0x100000000ull)
		return 0;
	build_rsdp(rsdp, tables_gpa + rsdt, tables_gpa + xsdt);
	return o.pos;
}
