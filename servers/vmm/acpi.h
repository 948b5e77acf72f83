/*
 * The ACPI tables the VMM gives a Linux guest, and the platform they
 * describe.
 *
 * This file is the one place where the guest's fixed platform is written
 * down.  The tables (acpi.c), the power-management registers (acpi_pm.c)
 * and the VMM's device models must all agree with the constants below.
 *
 * The platform: a PC with one CPU and the legacy devices.
 *
 *   CPU           one, local APIC ID 0, local APIC at 0xfee00000;
 *                 LINT0 is ExtINT (the 8259), LINT1 is NMI (MADT says so)
 *   I/O APIC      ID 1 at 0xfec00000, GSI base 0, 24 pins.  Its ID register
 *                 must read 1.  (Linux on x86-64 accepts any ID; 1 keeps
 *                 APIC IDs unique across local and I/O APICs, as the old
 *                 MP rules want and as 32-bit kernels check.)
 *   8259 pair     present (MADT flag PCAT_COMPAT); ISA IRQ n is I/O APIC
 *                 pin n (identity), except:
 *   8254 PIT      ISA IRQ 0 is I/O APIC pin 2 (override bus 0 IRQ 0 ->
 *                 GSI 2, polarity and trigger "conforming", i.e. ISA
 *                 edge / active high), as on every PC chipset since the
 *                 PIIX4.  Pin 0 is unused (on hardware: the 8259's INTR).
 *   SCI           ISA IRQ 9 = GSI 9, level-triggered, active high
 *                 (override flags 0x000d, as QEMU's PIIX4 PM does; Linux
 *                 accepts any polarity for the SCI and programs the pin as
 *                 told).  The VMM drives GSI 9 (and 8259 IRQ 9) from
 *                 acpi_pm_sci_level().
 *   COM1          16550A at 0x3f8, ISA IRQ 4
 *   CMOS RTC      0x70/0x71, ISA IRQ 8 (FADT CENTURY = 0x32, rtc.c's century byte; was: no century
 *                 register in CMOS, Linux then takes years < 70 as 20xx)
 *   i8042         0x60/0x64, ISA IRQ 1 and 12 (FADT boot flag 8042 set)
 *   PCI           configuration mechanism 1 at 0xcf8/0xcfc (no MCFG, no
 *                 ECAM), host bridge at 00:00.0, one root bus 0 described
 *                 in the DSDT as \_SB.PCI0 (PNP0A03).  Without that device
 *                 Linux, once it runs on ACPI, never scans PCI at all
 *                 (arch/x86/pci: pci_acpi_init succeeds, so the legacy
 *                 scan is skipped).  PCI INTx: slot s, pin p (0 = INTA)
 *                 is GSI 16 + ((s + p) & 7), level-triggered, active low
 *                 (the DSDT's \_SB.PCI0._PRT); MSI is declared absent
 *                 (FADT IAPC_BOOT_ARCH bit 3) until the VMM models it.
 *   PCI windows   I/O 0x0000-0x0cf7 and 0x0d00-0xffff (less what the
 *                 legacy devices use; Linux reserves those itself),
 *                 memory pci_mmio_start..0xfebfffff (acpi_build's argument)
 *   ACPI PM       I/O block at 0x600, 16 ports (acpi_pm.h):
 *                   0x600 PM1a_EVT_BLK 4 bytes (status 0x600, enable 0x602)
 *                   0x604 PM1a_CNT_BLK 2 bytes
 *                   0x608 PM_TMR_BLK   4 bytes, 24-bit, 3.579545 MHz
 *                   0x60c GPE0_BLK     4 bytes (status 0x60c, enable 0x60e)
 *                 No SMI_CMD (0): the platform is in ACPI mode from power
 *                 on, SCI_EN reads 1 always.  Not hardware-reduced: Linux
 *                 keeps using the PIT, the 8259 and the RTC.
 *   Reset         FADT RESET_REG: I/O port 0xcf9, 8 bits, value 0x06 (the
 *                 PIIX/ICH reset control register).  Byte accesses to
 *                 0xcf9 go to acpi_pm_io; wider ones at 0xcf8 are PCI
 *                 CONFIG_ADDRESS.  Linux's "reboot=pci" uses it too.
 *   Power off     DSDT \_S5 = Package() {5, 5, 0, 0}: Linux writes
 *                 SLP_TYP = 5 with SLP_EN to PM1a_CNT (acpi_pm reports it).
 *                 No other sleep state is offered.
 *   Not offered   HPET, MCFG, SRAT, DMAR, processor objects in the DSDT
 *                 (one CPU, nothing to control), S1-S4.
 *
 * Guest memory:
 *   The tables (FACS, DSDT, FADT, MADT, XSDT, RSDT) go in one buffer that
 *   the VMM copies to guest-physical tables_gpa: linux_boot.c's 64 KiB at
 *   the top of RAM (layout.tables_gpa), which its E820 map marks reserved
 *   (type 2).  Type 2 is enough: Linux maps the tables from any E820 type
 *   and never reclaims type 3 by itself either.  The FACS needs tables_gpa
 *   64-byte aligned; RSDT entries need the tables below 4 GiB.
 *   The RSDP is built in a separate 36-byte buffer: copy it to
 *   ACPI_RSDP_GPA (0xe0000), inside the BIOS area Linux scans on a non-EFI
 *   boot (0xe0000-0xfffff, on 16-byte boundaries).  Guest RAM must be
 *   mapped there (it is in the E820 hole, but must still be backed).
 *   Also put ACPI_RSDP_GPA in the zero page's acpi_rsdp_addr (offset
 *   0x70, boot protocol 2.14+): Linux then needs no scan at all, and its
 *   decompressor finds the RSDP the same way.  Leave the EBDA pointer at
 *   0x40e zero so Linux does not scan a random EBDA.
 *
 * How the VMM uses this file, once, while building the VM:
 *
 *     uint8_t rsdp[ACPI_RSDP_BYTES];
 *     size_t n = acpi_build(tables_buf, LINUX_TABLES_BYTES, layout.tables_gpa,
 *                           layout.mem_bytes, rsdp);
 *     if (n == 0) fail("ACPI tables do not fit");
 *     phys_write(layout.tables_gpa, tables_buf, n);
 *     phys_write(ACPI_RSDP_GPA, rsdp, ACPI_RSDP_BYTES);
 *     zero_page.acpi_rsdp_addr = ACPI_RSDP_GPA;
 *
 * acpi.c is pure C: no system calls and no library calls, so it builds
 * both freestanding (the VMM) and on the host (tests/unit/test_acpi.c).
 */
#ifndef ACPI_H
#define ACPI_H

#include <stddef.h>
#include <stdint.h>

/* --- the platform ------------------------------------------------------ */

#define ACPI_LAPIC_ID         0
#define ACPI_LAPIC_GPA        0xfee00000u
#define ACPI_IOAPIC_ID        1
#define ACPI_IOAPIC_GPA       0xfec00000u
#define ACPI_IOAPIC_GSI_BASE  0
#define ACPI_IOAPIC_PINS      24

#define ACPI_PIT_IRQ          0     /* ISA IRQ of the 8254's channel 0 ... */
#define ACPI_PIT_GSI          2     /* ... and the I/O APIC pin it reaches */
#define ACPI_SCI_IRQ          9     /* ISA IRQ and GSI of the SCI */
#define ACPI_COM1_IRQ         4
#define ACPI_RTC_IRQ          8

/* PCI INTx routing (the DSDT's _PRT): slot s, pin p (0 = INTA .. 3 = INTD). */
#define ACPI_PCI_GSI_BASE     16
#define ACPI_PCI_GSI(slot, pin) (ACPI_PCI_GSI_BASE + (((slot) + (pin)) & 7))
#define ACPI_PCI_MMIO_END     0xfebfffffu  /* last byte of the 32-bit PCI window */

/* The PM register block (see acpi_pm.h for the registers themselves). */
#define ACPI_PM_BASE          0x600
#define ACPI_PM1A_EVT_BLK     (ACPI_PM_BASE + 0x0)
#define ACPI_PM1_EVT_LEN      4
#define ACPI_PM1A_CNT_BLK     (ACPI_PM_BASE + 0x4)
#define ACPI_PM1_CNT_LEN      2
#define ACPI_PM_TMR_BLK       (ACPI_PM_BASE + 0x8)
#define ACPI_PM_TMR_LEN       4
#define ACPI_GPE0_BLK         (ACPI_PM_BASE + 0xc)
#define ACPI_GPE0_BLK_LEN     4
#define ACPI_PM_PORTS         16    /* 0x600-0x60f */

#define ACPI_RESET_PORT       0xcf9
#define ACPI_RESET_VALUE      0x06

/* SLP_TYP that the DSDT's \_S5 gives: what Linux writes to power off. */
#define ACPI_SLP_TYP_S5       5

/* --- where things go --------------------------------------------------- */

#define ACPI_RSDP_GPA         0xe0000u
#define ACPI_RSDP_BYTES       36

/* OEM identification in every table header. */
#define ACPI_OEM_ID           "BERTH "     /* 6 characters */
#define ACPI_OEM_TABLE_ID     "BERTHVM "   /* 8 characters */
#define ACPI_OEM_REVISION     1
#define ACPI_CREATOR_ID       "BRTH"
#define ACPI_CREATOR_REVISION 1

/*
 * Builds the tables into tables[0..size) for guest-physical tables_gpa
 * and the RSDP (which points at tables_gpa + offsets) into rsdp.
 * pci_mmio_start is the first guest-physical byte of the 32-bit PCI
 * memory window: the end of RAM below 4 GiB (for linux_boot.c's layout,
 * mem_bytes).  The window runs up to ACPI_PCI_MMIO_END.
 *
 * Returns the number of bytes of tables used (copy that many), or 0 if
 * they do not fit in size, if tables_gpa is not 64-byte aligned, if the
 * tables would reach past 4 GiB, or if pci_mmio_start is not below
 * ACPI_PCI_MMIO_END.  About 2.5 KiB is needed.
 */
size_t acpi_build(uint8_t *tables, size_t size, uint64_t tables_gpa,
		  uint64_t pci_mmio_start, uint8_t rsdp[ACPI_RSDP_BYTES]);

/* The sum of n bytes modulo 256: 0 for a correctly checksummed table.
 * Exported for the tests and for any table the VMM adds later. */
uint8_t acpi_sum(const uint8_t *bytes, size_t n);

#endif
