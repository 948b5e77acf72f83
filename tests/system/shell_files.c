/* The shell's file commands (ls, cat, echo > FILE, cp, mv, rm, mkdir,
 * rmdir, df, sync) on the fs server with the host-made image
 * (tools/fs_test_image.py), typed over the serial line by the test
 * runner, their output and one-line errors checked.  init runs the
 * console driver, the fs server, the shell and this program, which only
 * says it started. */
// test-root: build/init.elf
// test-module: tests/system/manifests/shell_files.manifest
// test-module: build/serial.elf
// test-module: build/fs.elf
// test-module: build/tests/data/files.img
// test-module: build/shell.elf
// test-exit: none
// test-timeout: 120
// test-send: berth> => ls\n
// test-send: berth> => cat /hello.txt\n
// test-send: berth> => echo made in Berth > /greet.txt\n
// test-send: berth> => echo and more >> greet.txt\n
// test-send: berth> => cat /greet.txt\n
// test-send: berth> => cp /greet.txt /copy.txt\n
// test-send: berth> => mv /copy.txt /docs/moved.txt\n
// test-send: berth> => ls /docs\n
// test-send: berth> => cat /docs/moved.txt\n
// test-send: berth> => rm /docs/moved.txt\n
// test-send: berth> => mkdir /newdir\n
// test-send: berth> => ls /newdir\n
// test-send: berth> => rmdir /newdir\n
// test-send: berth> => rmdir /docs\n
// test-send: berth> => cat /missing\n
// test-send: berth> => cat /docs\n
// test-send: berth> => mv /hello.txt\n
// test-send: berth> => df\n
// test-send: berth> => sync\n
// test-send: berth> => ls /hello.txt\n
// test-send: berth> => echo done\n
// test-expect: ^- +300000 big\.bin\r?$
// test-expect: ^d +\d+ docs\r?$
// test-expect: ^- +0 empty\r?$
// test-expect: ^hello from the host\r?$
// test-expect: ^made in Berth\r?\n(\r?\n)?and more\r?$
// test-expect: ^- +23 moved\.txt\r?$
// test-expect: ^- +\d+ readme\.txt\r?$
// test-expect: rmdir: /docs: directory not empty
// test-expect: cat: /missing: no such file or directory
// test-expect: cat: /docs: is a directory
// test-expect: ^mv: too few arguments; usage: mv FROM TO\r?$
// test-expect: ^ext2: 409\d KiB, \d+ KiB used, \d+ KiB free; 1024 inodes, \d+ free; blocks of 1024 bytes
// test-expect: ^- +20 /hello\.txt\r?$
// test-expect: ^done\r?$
// test-expect: shell-files: started
#include <libipc/libipc.h>

int main(const struct bootinfo *bi)
{
	(void)bi;
	debug_printf("shell-files: started\n");
	return 0;
}
