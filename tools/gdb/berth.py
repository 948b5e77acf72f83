# gdb commands for debugging Berth under QEMU (make gdb; docs/debugging.md).
#
#   berth-server NAME           load build/NAME.elf's symbols (a server or a
#                               test program: every user program is linked
#                               at 0x400000, in its own address space)
#   berth-break NAME LOCATION   break at LOCATION in that program only
#
# Why berth-break: all user programs share the same virtual addresses, and
# QEMU's breakpoints are by virtual address, so a plain `break` on a
# server's function also stops in any other program that runs code at
# that address.  berth-break stops only in user mode (CS & 3 == 3), only
# where the bytes at the PC are the ones NAME's file has there, and, once
# it has stopped there, only in that address space (CR3).
import gdb
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def elf_path(name):
    for d in ('build', 'build/tests/system', 'build/tests/bench', 'build/tests/system/progs'):
        p = os.path.join(ROOT, d, name if name.endswith('.elf') else name + '.elf')
        if os.path.exists(p):
            return p
    raise gdb.GdbError('berth: no build/%s.elf (is it built? make all)' % name)


def elf_bytes(path, addr, n):
    """n bytes of the loaded image at virtual address addr, from the file."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF' or data[4] != 2:
        raise gdb.GdbError('berth: %s is not a 64-bit ELF file' % path)
    phoff, = struct.unpack_from('<Q', data, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', data, 0x36)
    for i in range(phnum):
        ptype, _, off, vaddr, _, filesz, _, _ = struct.unpack_from('<IIQQQQQQ', data, phoff + i * phentsize)
        if ptype == 1 and vaddr <= addr and addr + n <= vaddr + filesz:
            return data[off + addr - vaddr:off + addr - vaddr + n]
    return None


loaded = set()


def load(name):
    path = elf_path(name)
    if path not in loaded:
        gdb.execute('add-symbol-file %s' % path, to_string=True)
        loaded.add(path)
        print('berth: symbols of %s loaded' % os.path.relpath(path, ROOT))
    return path


class ServerBreakpoint(gdb.Breakpoint):
    def __init__(self, name, path, location):
        super().__init__(location)
        self.name, self.path, self.cr3 = name, path, None

    def stop(self):
        if int(gdb.parse_and_eval('$cs')) & 3 != 3:
            return False
        cr3 = int(gdb.parse_and_eval('$cr3'))
        if self.cr3 is not None:
            return cr3 == self.cr3
        pc = int(gdb.parse_and_eval('$pc'))
        want = elf_bytes(self.path, pc, 16)
        have = bytes(gdb.selected_inferior().read_memory(pc, 16))
        if want is None or want != have:
            return False  # another program's code at the same address
        self.cr3 = cr3
        print('berth: %s runs in the address space at CR3 %#x' % (self.name, cr3))
        return True


class ServerCommand(gdb.Command):
    """berth-server NAME: load build/NAME.elf's symbols."""

    def __init__(self):
        super().__init__('berth-server', gdb.COMMAND_FILES)

    def invoke(self, arg, from_tty):
        if len(arg.split()) != 1:
            raise gdb.GdbError('usage: berth-server NAME (e.g. berth-server fs)')
        load(arg.strip())


class BreakCommand(gdb.Command):
    """berth-break NAME LOCATION: break at LOCATION in program NAME only."""

    def __init__(self):
        super().__init__('berth-break', gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        words = arg.split(None, 1)
        if len(words) != 2:
            raise gdb.GdbError('usage: berth-break NAME LOCATION (e.g. berth-break fs do_read_at)')
        ServerBreakpoint(words[0], load(words[0]), words[1])


ServerCommand()
BreakCommand()
