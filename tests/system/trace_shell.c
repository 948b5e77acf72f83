/* The shell's trace command (docs/trace.md) on one file read: the fs
 * server and the virtio-blk driver are traced, the shell reads a file
 * whose blocks the fs server has not read yet, and trace show prints the
 * path shell -> fs -> blk0 -> interrupt -> blk0 -> fs -> shell with its
 * times.  Then tracing off records nothing, a bad name is refused, and a
 * traced shell shows its own console writes without chasing them.
 * init runs the console driver, the PCI server, the driver, the fs
 * server, the shell and this program, which only says it started. */
// test-root: build/init.elf
// test-module: tests/system/manifests/trace_shell.manifest
// test-module: build/serial.elf
// test-module: build/rtc.elf
// test-module: build/pci.elf
// test-module: build/virtio_blk.elf
// test-module: build/fs.elf
// test-module: build/shell.elf
// test-disk-image: a build/tests/data/files.img
// test-qemu: -drive if=none,id=da,format=raw,file={disk:a} -device virtio-blk-pci,disable-legacy=on,drive=da,addr=4
// test-exit: none
// test-timeout: 150
// test-selfcheck: 1000000
// test-send: berth> => help\n
// test-send: berth> => trace on fs blk0\n
// test-send: berth> => cat /hello.txt\n
// test-send: berth> => trace show\n
// test-send: berth> => trace off\n
// test-send: berth> => cat /hello.txt\n
// test-send: berth> => trace show\n
// test-send: berth> => trace on nothing\n
// test-send: berth> => trace sideways\n
// test-send: berth> => trace on shell\n
// test-send: berth> => echo traced\n
// test-send: berth> => trace show\n
// test-send: berth> => trace off shell\n
// test-send: berth> => trace show\n
// test-send: berth> => echo done\n
// (fs's calls to the driver reach its session's own thread, which init
// cannot name: threadN)
// test-expect: trace on NAME\.\.\. +record the messages
// test-expect: ^tracing fs\r?$
// test-expect: ^tracing blk0\r?$
// test-expect: ^hello from the host\r?$
// test-expect: time/us +delta/us +from +to +kind +label
// test-expect: ^ +0\.0 +0\.0 +shell +-> fs +call +fs\.\w+
// test-expect: \+?[\d.]+ +[\d.]+ +fs +-> (blk0|thread\d+) +call +block\.read
// test-expect: [\d.]+ +[\d.]+ +kernel +-> blk0 +notify +bits
// test-expect: [\d.]+ +[\d.]+ +blk0 +-> fs +reply +block\.read
// test-expect: [\d.]+ +[\d.]+ +fs +-> shell +reply +fs\.read
// test-expect: ^tracing no task\r?$
// test-expect: ^hello from the host\r?$
// test-expect: ^trace: no records\r?$
// test-expect: ^trace: no task 'nothing'
// test-expect: ^trace: unknown subcommand 'sideways'; usage: trace on\|off\|show \.\.\. \(help trace\)\r?$
// test-expect: [\d.]+ +[\d.]+ +shell +-> serial +call +console\.write
// test-expect: [\d.]+ +[\d.]+ +shell +-> init +call +init\.task_info
// test-expect: ^not tracing shell\r?$
// test-expect: ^done\r?$
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("trace-shell: started\n");
	return 0;
}
