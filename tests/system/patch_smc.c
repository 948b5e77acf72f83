/* Self-modifying code racing the patcher under mode=patch
 * (tests/guests/progs/patch_smc.c): a popf and a pushf written into a page
 * at run time, written over, and code that rewrites its own next
 * instruction into a popf; each must be patched before it runs. */
// test-root: build/init.elf
// test-module: tests/system/manifests/patch_smc.manifest
// test-module: build/serial.elf
// test-module: build/shell.elf
// test-module: build/vmm.elf
// test-module: build/tests/guests/progs/patch_smc.bin
// test-exit: none
// test-timeout: 120
// test-selfcheck: 16
//
// test-expect: patch-smc-test: started
// test-expect: mode=patch: the guest kernel runs in ring 3
// test-expect: \[smc\] ok 1 - a popf written at run time turned interrupts off \(0 of 20 rounds wrong\)
// test-expect: \[smc\] ok 2 - a pushf written over it read the guest's IF \(0 of 40 calls wrong\)
// test-expect: \[smc\] ok 3 - code that rewrote its next instruction into popf turned interrupts off \(0 wrong\)
// test-expect: \[smc\] ok 4 - that code did rewrite itself
// test-expect: vmm: \[smc\] guest exited with status 0
// test-expect: mode=patch: \d+ faults, \d+ emulated, \d+ interrupts, \d+ shadow fills, \d+ shadow flushes, \d+ reflected, [1-9]\d* pushf/popf emulated, [1-9]\d\d* instructions patched
// test-reject: not ok|guest stopped|berth: (panic|thread \d+ stopped)
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("patch-smc-test: started\n");
	return 0;
}
