/* Host unit tests for servers/vmm/acpi.c: the ACPI tables the VMM gives
 * a Linux guest.  The tests read the tables back the way Linux's ACPICA
 * does: the RSDP found by a scan of the BIOS area, the XSDT and RSDT
 * followed to the FADT and MADT, the FADT to the FACS and DSDT, every
 * checksum and length checked, and the DSDT's AML decoded by a small
 * parser of its own (PkgLength, integers, names, packages, buffers,
 * devices) so the \_S5 package, the PCI root bridge's _HID, _CRS and
 * _PRT are checked as values, not only as bytes. */
// unit-under-test: servers/vmm/acpi.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "unit.h"
#include "../../servers/vmm/acpi.h"

#define TABLES_GPA 0x7fff0000ull        /* the top 64 KiB of a 2 GiB guest */
#define MMIO_START 0x80000000ull
#define TABLES_SIZE 0x10000

static uint8_t tables[TABLES_SIZE];
static uint8_t rsdp[ACPI_RSDP_BYTES];
static size_t used;

/* --- little-endian readers and guest-physical lookups ------------------ */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* The table at guest-physical gpa, or NULL if it is not inside what
 * acpi_build produced. */
static const uint8_t *at_gpa(uint64_t gpa, size_t len)
{
	if (gpa < TABLES_GPA || gpa + len > TABLES_GPA + used)
		return NULL;
	return tables + (gpa - TABLES_GPA);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* A table with a standard header: signature, length inside the buffer,
 * checksum 0. */
static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
	const uint8_t *t = at_gpa(gpa, 36);

	if (!t || memcmp(t, sig, 4) != 0)
		return NULL;
	if (!at_gpa(gpa, rd32(t + 4)) || sum(t, rd32(t + 4)) != 0)
		return NULL;
	return t;
}

/* --- RSDP -------------------------------------------------------------- */

/* Linux's search without EFI (ACPICA acpi_tb_scan_memory_for_rsdp): every
 * 16-byte boundary of 0xe0000-0xfffff, signature and both checksums. */
static long scan_bios_area(const uint8_t *area, size_t len)
{
	for (size_t off = 0; off + ACPI_RSDP_BYTES <= len; off += 16) {
		const uint8_t *p = area + off;

		if (memcmp(p, "RSD PTR ", 8) == 0 && sum(p, 20) == 0 &&
		    (p[15] < 2 || sum(p, rd32(p + 20)) == 0))
			return (long)off;
	}
	return -1;
}

static void test_rsdp(void)
{
	static uint8_t bios[0x20000];   /* 0xe0000-0xfffff */

	CHECK(memcmp(rsdp, "RSD PTR ", 8) == 0, "RSDP signature");
	CHECK(sum(rsdp, 20) == 0, "RSDP checksum over the first 20 bytes");
	CHECK(sum(rsdp, 36) == 0, "RSDP extended checksum over 36 bytes");
	CHECK(rsdp[15] == 2, "RSDP revision 2 (has an XSDT)");
	CHECK(rd32(rsdp + 20) == 36, "RSDP length 36");
	CHECK(memcmp(rsdp + 9, ACPI_OEM_ID, 6) == 0, "RSDP OEM ID");
	CHECK(table_at(rd32(rsdp + 16), "RSDT") != NULL, "RSDP -> RSDT at tables_gpa + offset");
	CHECK(table_at(rd64(rsdp + 24), "XSDT") != NULL, "RSDP -> XSDT at tables_gpa + offset");
	CHECK(rsdp[33] == 0 && rsdp[34] == 0 && rsdp[35] == 0, "RSDP reserved bytes zero");

	memcpy(bios + (ACPI_RSDP_GPA - 0xe0000), rsdp, ACPI_RSDP_BYTES);
	CHECK(scan_bios_area(bios, sizeof(bios)) == (long)(ACPI_RSDP_GPA - 0xe0000),
	      "a Linux-style scan of 0xe0000-0xfffff finds the RSDP at ACPI_RSDP_GPA");
	CHECK(ACPI_RSDP_GPA % 16 == 0 && ACPI_RSDP_GPA >= 0xe0000 && ACPI_RSDP_GPA < 0x100000,
	      "ACPI_RSDP_GPA is a 16-byte boundary inside the BIOS area");
}

/* --- XSDT and RSDT ----------------------------------------------------- */

static const uint8_t *fadt, *madt, *dsdt, *facs;

static void test_root_tables(void)
{
	const uint8_t *xsdt = table_at(rd64(rsdp + 24), "XSDT");
	const uint8_t *rsdt = table_at(rd32(rsdp + 16), "RSDT");
	unsigned nx, nr;

	if (!xsdt || !rsdt) {
		CHECK(0, "root tables present");
		return;
	}
	nx = (rd32(xsdt + 4) - 36) / 8;
	nr = (rd32(rsdt + 4) - 36) / 4;
	CHECK((rd32(xsdt + 4) - 36) % 8 == 0 && nx == 2, "XSDT has 2 entries");
	CHECK((rd32(rsdt + 4) - 36) % 4 == 0 && nr == 2, "RSDT has 2 entries");
	CHECK(xsdt[8] == 1 && rsdt[8] == 1, "XSDT and RSDT revision 1");
	CHECK(memcmp(xsdt + 10, ACPI_OEM_ID, 6) == 0 && memcmp(xsdt + 16, ACPI_OEM_TABLE_ID, 8) == 0,
	      "XSDT OEM ID and OEM table ID");
	for (unsigned i = 0; i < nx && i < nr; i++)
		CHECK(rd64(xsdt + 36 + 8 * i) == rd32(rsdt + 36 + 4 * i),
		      "XSDT and RSDT entry %u agree", i);

	fadt = table_at(rd64(xsdt + 36), "FACP");
	madt = table_at(rd64(xsdt + 44), "APIC");
	CHECK(fadt != NULL, "XSDT entry 0 is a valid FADT");
	CHECK(madt != NULL, "XSDT entry 1 is a valid MADT");
	for (unsigned i = 0; i < nx; i++) {
		const uint8_t *t = at_gpa(rd64(xsdt + 36 + 8 * i), 36);
		CHECK(t && memcmp(t, "FACS", 4) != 0 && memcmp(t, "DSDT", 4) != 0,
		      "XSDT entry %u is neither FACS nor DSDT (the FADT points at those)", i);
	}
}

/* --- FADT -------------------------------------------------------------- */

/* A GAS at p: system I/O, width and address as given. */
static int gas_is(const uint8_t *p, unsigned bits, unsigned access, uint64_t addr)
{
	return p[0] == 1 && p[1] == bits && p[2] == 0 && p[3] == access && rd64(p + 4) == addr;
}

static int gas_empty(const uint8_t *p)
{
	for (int i = 0; i < 12; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_fadt(void)
{
	uint32_t flags, boot;

	if (!fadt) {
		CHECK(0, "FADT present");
		return;
	}
	CHECK(rd32(fadt + 4) == 276, "FADT length 276 (ACPI 6.0)");
	CHECK(fadt[8] == 6 && fadt[131] == 0, "FADT revision 6.0");

	/* FACS and DSDT: the FADT is their only pointer. */
	CHECK(rd32(fadt + 36) == 0, "FIRMWARE_CTRL 0 (X_FIRMWARE_CTRL used)");
	facs = at_gpa(rd64(fadt + 132), 64);
	CHECK(facs && memcmp(facs, "FACS", 4) == 0 && rd32(facs + 4) == 64,
	      "X_FIRMWARE_CTRL -> FACS, 64 bytes");
	CHECK(rd64(fadt + 132) % 64 == 0, "FACS 64-byte aligned");
	CHECK(facs && facs[32] == 2, "FACS version 2");
	CHECK(facs && rd32(facs + 16) == 0, "FACS global lock free");
	CHECK(rd32(fadt + 40) == rd64(fadt + 140), "DSDT and X_DSDT agree (no ACPICA mismatch warning)");
	dsdt = table_at(rd64(fadt + 140), "DSDT");
	CHECK(dsdt != NULL, "X_DSDT -> valid DSDT");

	CHECK(rd16(fadt + 46) == ACPI_SCI_IRQ && ACPI_SCI_IRQ == 9, "SCI_INT 9");
	CHECK(rd32(fadt + 48) == 0 && fadt[52] == 0 && fadt[53] == 0,
	      "no SMI_CMD: in ACPI mode from the start");
	CHECK(rd32(fadt + 56) == 0x600 && fadt[88] == 4, "PM1a_EVT_BLK 0x600, length 4");
	CHECK(rd32(fadt + 60) == 0, "no PM1b_EVT_BLK");
	CHECK(rd32(fadt + 64) == 0x604 && fadt[89] == 2, "PM1a_CNT_BLK 0x604, length 2");
	CHECK(rd32(fadt + 68) == 0 && rd32(fadt + 72) == 0 && fadt[90] == 0,
	      "no PM1b_CNT_BLK or PM2_CNT_BLK");
	CHECK(rd32(fadt + 76) == 0x608 && fadt[91] == 4, "PM_TMR_BLK 0x608, length 4");
	CHECK(rd32(fadt + 80) == ACPI_GPE0_BLK && fadt[92] == 4 && fadt[92] % 2 == 0,
	      "GPE0_BLK, length 4 (even, as ACPICA requires)");
	CHECK(rd32(fadt + 84) == 0 && fadt[93] == 0, "no GPE1");
	CHECK(rd16(fadt + 96) > 100 && rd16(fadt + 98) > 1000, "C2 and C3 declared unsupported");
	CHECK(fadt[108] == 0x32, "the CMOS century register is 0x32 (rtc.c)");

	boot = rd16(fadt + 109);
	CHECK(boot & 1, "IAPC_BOOT_ARCH: legacy devices");
	CHECK(boot & 2, "IAPC_BOOT_ARCH: 8042 present (else Linux skips the i8042)");
	CHECK(!(boot & 0x20), "IAPC_BOOT_ARCH: CMOS RTC present");

	flags = rd32(fadt + 112);
	CHECK(flags & (1u << 0), "flags: WBINVD");
	CHECK(!(flags & (1u << 4)), "flags: fixed-feature power button");
	CHECK(!(flags & (1u << 8)), "flags: 24-bit PM timer (TMR_VAL_EXT clear)");
	CHECK(flags & (1u << 10), "flags: RESET_REG_SUP");
	CHECK(!(flags & (1u << 20)), "flags: not HW_REDUCED_ACPI");

	CHECK(gas_is(fadt + 116, 8, 1, 0xcf9), "RESET_REG: I/O 0xcf9, 8 bits");
	CHECK(fadt[128] == 0x06 && ACPI_RESET_VALUE == 0x06, "RESET_VALUE 0x06");

	/* ACPICA: an X_ block's bit width must be 8 x the legacy length,
	 * and its address the same as the legacy one. */
	CHECK(gas_is(fadt + 148, 32, 2, 0x600), "X_PM1a_EVT_BLK: I/O 0x600, 32 bits");
	CHECK(gas_empty(fadt + 160), "X_PM1b_EVT_BLK empty");
	CHECK(gas_is(fadt + 172, 16, 2, 0x604), "X_PM1a_CNT_BLK: I/O 0x604, 16 bits");
	CHECK(gas_empty(fadt + 184) && gas_empty(fadt + 196), "X_PM1b_CNT_BLK, X_PM2_CNT_BLK empty");
	CHECK(gas_is(fadt + 208, 32, 3, 0x608), "X_PM_TMR_BLK: I/O 0x608, 32 bits");
	CHECK(gas_is(fadt + 220, 32, 1, ACPI_GPE0_BLK), "X_GPE0_BLK: I/O, 32 bits");
	CHECK(gas_empty(fadt + 232), "X_GPE1_BLK empty");
	CHECK(gas_empty(fadt + 244) && gas_empty(fadt + 256), "no sleep control/status registers");
}

/* --- MADT -------------------------------------------------------------- */

static void test_madt(void)
{
	uint32_t len;
	unsigned lapics = 0, ioapics = 0, overrides = 0, nmis = 0;
	int pit_ok = 0, sci_ok = 0, walk_ok = 1;

	if (!madt) {
		CHECK(0, "MADT present");
		return;
	}
	len = rd32(madt + 4);
	CHECK(rd32(madt + 36) == 0xfee00000, "local APIC address 0xfee00000");
	CHECK(rd32(madt + 40) & 1, "PCAT_COMPAT: the 8259 pair is there");

	for (uint32_t off = 44; off < len;) {
		const uint8_t *e = madt + off;

		if (off + 2 > len || e[1] < 2 || off + e[1] > len) {
			walk_ok = 0;
			break;
		}
		switch (e[0]) {
		case 0:
			lapics++;
			CHECK(e[1] == 8 && e[2] == 0 && e[3] == ACPI_LAPIC_ID && (rd32(e + 4) & 1),
			      "LAPIC: UID 0, APIC ID 0, enabled");
			break;
		case 1:
			ioapics++;
			CHECK(e[1] == 12 && e[2] == ACPI_IOAPIC_ID && rd32(e + 4) == 0xfec00000 &&
			      rd32(e + 8) == 0, "I/O APIC: ID, 0xfec00000, GSI base 0");
			break;
		case 2:
			overrides++;
			if (e[1] == 10 && e[2] == 0 && e[3] == 0 && rd32(e + 4) == 2 && rd16(e + 8) == 0)
				pit_ok = 1;
			if (e[1] == 10 && e[2] == 0 && e[3] == 9 && rd32(e + 4) == 9 &&
			    rd16(e + 8) == 0x000d)
				sci_ok = 1;
			break;
		case 4:
			nmis++;
			CHECK(e[1] == 6 && e[2] == 0xff && rd16(e + 3) == 0 && e[5] == 1,
			      "LAPIC NMI: all CPUs, LINT1");
			break;
		default:
			walk_ok = 0;
		}
		off += e[1];
	}
	CHECK(walk_ok, "MADT entries fill the table exactly");
	CHECK(lapics == 1 && ioapics == 1 && overrides == 2 && nmis == 1,
	      "one LAPIC, one I/O APIC, two overrides, one NMI");
	CHECK(pit_ok, "override: ISA IRQ 0 -> GSI 2, conforming");
	CHECK(sci_ok, "override: ISA IRQ 9 (SCI) -> GSI 9, level, active high");
}

/* --- DSDT: a small AML reader ------------------------------------------ */

/* A PkgLength at p: returns the bytes it takes, the length in *len. */
static size_t pkg_length(const uint8_t *p, uint32_t *len)
{
	unsigned follow = p[0] >> 6;

	if (follow == 0) {
		*len = p[0] & 0x3f;
		return 1;
	}
	*len = p[0] & 0x0f;
	for (unsigned i = 0; i < follow; i++)
		*len |= (uint32_t)p[1 + i] << (4 + 8 * i);
	return 1 + follow;
}

/* An integer object at p: its size in bytes, or 0 if it is not one. */
static size_t aml_int(const uint8_t *p, uint64_t *v)
{
	switch (p[0]) {
	case 0x00: *v = 0; return 1;
	case 0x01: *v = 1; return 1;
	case 0xff: *v = ~0ull; return 1;
	case 0x0a: *v = p[1]; return 2;
	case 0x0b: *v = rd16(p + 1); return 3;
	case 0x0c: *v = rd32(p + 1); return 5;
	case 0x0e: *v = rd64(p + 1); return 9;
	default: return 0;
	}
}

/* The size of the data object at p (integer, package, buffer), 0 if
 * unknown. */
static size_t aml_object_size(const uint8_t *p)
{
	uint64_t v;
	uint32_t len;
	size_t n = aml_int(p, &v);

	if (n)
		return n;
	if (p[0] == 0x12 || p[0] == 0x11) {
		pkg_length(p + 1, &len);
		return 1 + len;
	}
	return 0;
}

/* Finds Name(seg, object) in the term list [p, end): the object, or NULL.
 * Skips devices whole. */
static const uint8_t *aml_find_name(const uint8_t *p, const uint8_t *end, const char *seg)
{
	while (p < end) {
		if (p[0] == 0x08) {
			size_t n = aml_object_size(p + 5);

			if (memcmp(p + 1, seg, 4) == 0)
				return p + 5;
			if (!n)
				return NULL;
			p += 5 + n;
		} else if (p[0] == 0x5b && p[1] == 0x82) {
			uint32_t len;

			pkg_length(p + 2, &len);
			p += 2 + len;
		} else {
			return NULL;
		}
	}
	return NULL;
}

/* The device \_SB_.PCI0 at top level: its term list in [*body, *end). */
static int aml_find_pci0(const uint8_t *p, const uint8_t *end, const uint8_t **body,
			 const uint8_t **bend)
{
	while (p < end) {
		if (p[0] == 0x08) {
			size_t n = aml_object_size(p + 5);
			if (!n)
				return 0;
			p += 5 + n;
		} else if (p[0] == 0x5b && p[1] == 0x82) {
			uint32_t len;
			size_t n = pkg_length(p + 2, &len);
			const uint8_t *name = p + 2 + n;

			if (name + 10 <= end && memcmp(name, "\\\x2e_SB_PCI0", 10) == 0) {
				*body = name + 10;
				*bend = p + 2 + len;
				return *bend <= end;
			}
			p += 2 + len;
		} else {
			return 0;
		}
	}
	return 0;
}

/* A package's elements: the count and where the first one is. */
static const uint8_t *aml_package(const uint8_t *p, unsigned *count, const uint8_t **end)
{
	uint32_t len;
	size_t n;

	if (p[0] != 0x12)
		return NULL;
	n = pkg_length(p + 1, &len);
	*end = p + 1 + len;
	*count = p[1 + n];
	return p + 1 + n + 1;
}

/* EISA ID integer back to its 7 characters. */
static void eisa_string(uint32_t id, char out[8])
{
	uint32_t letters = ((id & 0xff) << 8) | ((id >> 8) & 0xff);
	uint32_t digits = (((id >> 16) & 0xff) << 8) | (id >> 24);
	static const char hex[] = "0123456789ABCDEF";

	out[0] = (char)('@' + ((letters >> 10) & 0x1f));
	out[1] = (char)('@' + ((letters >> 5) & 0x1f));
	out[2] = (char)('@' + (letters & 0x1f));
	for (int i = 0; i < 4; i++)
		out[3 + i] = hex[(digits >> (12 - 4 * i)) & 0xf];
	out[7] = 0;
}

static void test_dsdt_s5(const uint8_t *aml, const uint8_t *end)
{
	static const uint8_t expect[] = {
		0x08, '_', 'S', '5', '_',   /* Name(_S5_, */
		0x12, 0x08, 0x04,           /* Package, PkgLength 8, 4 elements */
		0x0a, ACPI_SLP_TYP_S5,      /* BytePrefix 5: SLP_TYPa */
		0x0a, ACPI_SLP_TYP_S5,      /* SLP_TYPb */
		0x00, 0x00,                 /* Zero, Zero (reserved) */
	};
	const uint8_t *s5 = aml_find_name(aml, end, "_S5_");
	const uint8_t *e, *pkend;
	unsigned count;
	uint64_t typa, typb, r1, r2;
	size_t n;

	CHECK(memcmp(aml, expect, sizeof(expect)) == 0,
	      "DSDT starts with the hand-assembled Name(_S5, Package(){5, 5, 0, 0})");
	CHECK(s5 != NULL, "\\_S5 found");
	if (!s5)
		return;
	e = aml_package(s5, &count, &pkend);
	CHECK(e && count == 4, "\\_S5 is a package of 4");
	if (!e)
		return;
	n = aml_int(e, &typa);
	e += n;
	n = n ? aml_int(e, &typb) : 0;
	e += n;
	n = n ? aml_int(e, &r1) : 0;
	e += n;
	n = n ? aml_int(e, &r2) : 0;
	e += n;
	CHECK(n && e == pkend, "\\_S5 elements are 4 integers filling the package");
	CHECK(typa == ACPI_SLP_TYP_S5 && typb == ACPI_SLP_TYP_S5 && r1 == 0 && r2 == 0,
	      "\\_S5 = {SLP_TYP_S5, SLP_TYP_S5, 0, 0}");
	CHECK(ACPI_SLP_TYP_S5 <= 7, "SLP_TYP fits the 3-bit field");
}

static void test_dsdt_crs(const uint8_t *obj)
{
	uint32_t len;
	size_t n;
	uint64_t size;
	const uint8_t *r, *end;
	int bus = 0, cfg = 0, io_low = 0, io_high = 0, mem = 0, end_tag = 0;

	CHECK(obj && obj[0] == 0x11, "_CRS is a buffer");
	if (!obj || obj[0] != 0x11)
		return;
	n = pkg_length(obj + 1, &len);
	r = obj + 1 + n;
	r += aml_int(r, &size);
	end = obj + 1 + len;
	CHECK(r + size == end, "_CRS buffer size matches its PkgLength");

	while (r < end && !end_tag) {
		if (r[0] == 0x79) {
			end_tag = 1;
			r += 2;
		} else if (r[0] == 0x47) {
			if (rd16(r + 2) == 0xcf8 && rd16(r + 4) == 0xcf8 && r[7] == 8)
				cfg = 1;
			r += 8;
		} else if (r[0] == 0x88) {
			uint16_t min = rd16(r + 8), max = rd16(r + 10);
			int flags_ok = r[4] == 0x0c && rd16(r + 14) == (uint16_t)(max - min + 1);

			if (r[3] == 2 && min == 0 && max == 0xff && flags_ok)
				bus = 1;
			if (r[3] == 1 && min == 0 && max == 0xcf7 && flags_ok)
				io_low = 1;
			if (r[3] == 1 && min == 0xd00 && max == 0xffff && flags_ok)
				io_high = 1;
			r += 3 + rd16(r + 1);
		} else if (r[0] == 0x87) {
			if (r[3] == 0 && r[4] == 0x0c && rd32(r + 10) == MMIO_START &&
			    rd32(r + 14) == 0xfebfffff && rd32(r + 22) == 0xfebfffff - MMIO_START + 1)
				mem = 1;
			r += 3 + rd16(r + 1);
		} else {
			break;
		}
	}
	CHECK(end_tag && r == end, "_CRS descriptors end with the end tag at the buffer's end");
	CHECK(bus, "_CRS: WordBusNumber 0-0xff");
	CHECK(cfg, "_CRS: IO 0xcf8, 8 ports");
	CHECK(io_low && io_high, "_CRS: WordIO 0-0xcf7 and 0xd00-0xffff");
	CHECK(mem, "_CRS: DWordMemory pci_mmio_start-0xfebfffff");
}

static void test_dsdt_prt(const uint8_t *obj)
{
	unsigned count, bad = 0, seen = 0;
	const uint8_t *e, *end;

	e = obj ? aml_package(obj, &count, &end) : NULL;
	CHECK(e && count == 128, "_PRT: 128 entries (32 slots x 4 pins)");
	if (!e)
		return;
	for (unsigned i = 0; i < count && e < end; i++) {
		unsigned n4;
		const uint8_t *f, *fend;
		uint64_t addr, pin, src, gsi;
		size_t k;

		f = aml_package(e, &n4, &fend);
		if (!f || n4 != 4) {
			bad++;
			break;
		}
		k = aml_int(f, &addr); f += k;
		k = k ? aml_int(f, &pin) : 0; f += k;
		k = k ? aml_int(f, &src) : 0; f += k;
		k = k ? aml_int(f, &gsi) : 0; f += k;
		if (!k || f != fend || (addr & 0xffff) != 0xffff || src != 0 || pin > 3 ||
		    gsi != (uint64_t)ACPI_PCI_GSI(addr >> 16, pin) || gsi < 16 ||
		    gsi >= ACPI_IOAPIC_PINS || (addr >> 16) * 4 + pin != i)
			bad++;
		seen++;
		e = fend;
	}
	CHECK(bad == 0 && seen == 128 && e == end,
	      "_PRT entries: {slot<<16 | 0xffff, pin, 0, 16 + ((slot + pin) & 7)}, in order");
	CHECK(ACPI_PCI_GSI(1, 0) == 17 && ACPI_PCI_GSI(7, 3) == 18, "ACPI_PCI_GSI rotation");
}

static void test_dsdt(void)
{
	const uint8_t *aml, *end, *body, *bend, *hid, *uid;
	uint64_t v;
	char id[8];

	if (!dsdt) {
		CHECK(0, "DSDT present");
		return;
	}
	CHECK(dsdt[8] == 2, "DSDT revision 2 (64-bit integers)");
	aml = dsdt + 36;
	end = dsdt + rd32(dsdt + 4);
	test_dsdt_s5(aml, end);

	CHECK(aml_find_pci0(aml, end, &body, &bend), "Device(\\_SB.PCI0) found, within the table");
	if (!aml_find_pci0(aml, end, &body, &bend))
		return;
	CHECK(bend == end, "PCI0's multi-byte PkgLength reaches exactly the end of the DSDT");
	hid = aml_find_name(body, bend, "_HID");
	CHECK(hid && hid[0] == 0x0c, "_HID is a DWordConst (an EISA ID)");
	if (hid && aml_int(hid, &v)) {
		eisa_string((uint32_t)v, id);
		CHECK(strcmp(id, "PNP0A03") == 0, "_HID decodes to PNP0A03 (got %s)", id);
		CHECK(v == 0x030ad041, "_HID = 0x030ad041, as iasl encodes EISAID(\"PNP0A03\")");
	}
	uid = aml_find_name(body, bend, "_UID");
	CHECK(uid && aml_int(uid, &v) && v == 0, "_UID 0");
	test_dsdt_crs(aml_find_name(body, bend, "_CRS"));
	test_dsdt_prt(aml_find_name(body, bend, "_PRT"));
}

/* --- layout and errors -------------------------------------------------- */

static void test_layout(void)
{
	CHECK(used > 0 && used <= TABLES_SIZE, "the tables fit in 64 KiB (%zu bytes)", used);
	CHECK(facs == tables, "FACS first, at tables_gpa (64-byte aligned)");
	CHECK(TABLES_GPA + used <= 0x100000000ull, "all tables below 4 GiB");
}

static void test_other_gpa(void)
{
	static uint8_t other[TABLES_SIZE];
	uint8_t r2[ACPI_RSDP_BYTES];
	uint64_t gpa = 0x3fff0000;
	size_t n = acpi_build(other, sizeof(other), gpa, 0x40000000, r2);
	const uint8_t *x;

	CHECK(n == used, "the same size at another address");
	CHECK(rd64(r2 + 24) - gpa == rd64(rsdp + 24) - TABLES_GPA,
	      "the XSDT moves with tables_gpa");
	x = other + (rd64(r2 + 24) - gpa);
	CHECK(rd64(x + 36) - gpa == rd64(tables + (rd64(rsdp + 24) - TABLES_GPA) + 36) - TABLES_GPA,
	      "XSDT entries are tables_gpa + offset");
	CHECK(sum(r2, 20) == 0 && sum(r2, 36) == 0, "RSDP checksums at another address");
}

static void test_errors(void)
{
	uint8_t r2[ACPI_RSDP_BYTES];
	int all_zero = 1;

	/* Every buffer too small fails cleanly; malloc'd to the exact size
	 * so that AddressSanitizer catches any write past the end. */
	for (size_t size = 0; size < used; size += (size < 64 ? 1 : 37)) {
		uint8_t *b = malloc(size ? size : 1);

		if (acpi_build(b, size, TABLES_GPA, MMIO_START, r2) != 0)
			all_zero = 0;
		free(b);
	}
	{
		uint8_t *b = malloc(used - 1);
		if (acpi_build(b, used - 1, TABLES_GPA, MMIO_START, r2) != 0)
			all_zero = 0;
		free(b);
		b = malloc(used);
		CHECK(acpi_build(b, used, TABLES_GPA, MMIO_START, r2) == used,
		      "a buffer of exactly the size needed is enough");
		free(b);
	}
	CHECK(all_zero, "any smaller buffer: 0, nothing written past its end");
	CHECK(acpi_build(tables, TABLES_SIZE, TABLES_GPA + 16, MMIO_START, r2) == 0,
	      "tables_gpa not 64-byte aligned: 0");
	CHECK(acpi_build(tables, TABLES_SIZE, 0xffffff00ull, MMIO_START, r2) == 0,
	      "tables past 4 GiB: 0");
	CHECK(acpi_build(tables, TABLES_SIZE, TABLES_GPA, 0xfec00000ull, r2) == 0,
	      "no room for the PCI window: 0");
	CHECK(acpi_build(NULL, TABLES_SIZE, TABLES_GPA, MMIO_START, r2) == 0, "NULL buffer: 0");
	CHECK(acpi_sum((const uint8_t *)"\x01\xff", 2) == 0, "acpi_sum wraps modulo 256");
}

int main(void)
{
	used = acpi_build(tables, sizeof(tables), TABLES_GPA, MMIO_START, rsdp);
	CHECK(used > 0, "acpi_build succeeds");
	test_rsdp();
	test_root_tables();
	test_fadt();
	test_madt();
	test_dsdt();
	test_layout();
	test_other_gpa();
	test_errors();   /* last: it reuses `tables` */
	return unit_done();
}
