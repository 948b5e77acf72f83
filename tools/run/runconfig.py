#!/usr/bin/env python3
"""What `make run` (and `make gdb`) boots, chosen without editing files
(docs/running.md).  The choices come from the environment, where make
puts what its command line sets:

  MANIFEST=FILE        boot this manifest instead of servers/init/boot.manifest
  GUEST=NAME[,NAME...] which of the manifest's VMs start at boot; none: no VM,
                       all: every VM.  The others are marked manual: they stay
                       in `vm list`, and `vm start NAME` starts them later
  MEM=SIZE             the guest memory of the VMs that start: N or NM (MiB),
                       NG (GiB), as QEMU's -m; their manifest memory line grows
                       to hold it
  GUEST_KERNEL=FILE    the VM that starts boots this Linux kernel, a file of
                       the host, as a boot module (QEMU's -kernel)
  GUEST_INITRD=FILE    and this initramfs (-initrd); needs GUEST_KERNEL
  GUEST_CMDLINE=TEXT   with this kernel command line (-append)

Every value is checked; a bad one stops make with one line saying what is
wrong.  The manifest is checked with init's own parser (--checker, built
from servers/init/manifest.c).  Prints the boot modules to give QEMU, one
a line: the root task, the manifest (rewritten into --out when a choice
changes it), then the files its servers run.  With no choice at all, the
modules make run always boots, unchanged.
"""
import argparse
import math
import os
import re
import subprocess
import sys

VMM_IMAGE = 'vmm.elf'
MEMORY_BITS_MAX = 28       # manifest.c: memory is 12..28
VMM_HEADROOM_MIB = 16      # what a VMM keeps of its memory for itself (boot.manifest: 112 of 128)
ARGS_MAX = 127             # a boot info's command line
QEMU_MEM_DEFAULT = '1G'    # tools/qemu.sh's
MODULE_NAME_MAX = 63       # a boot module's name in the boot info
SEARCH_ROOTS = ('cache/linux/guest',)  # besides the build directory


def fail(message):
    print('make run: ' + message, file=sys.stderr)
    sys.exit(2)


def choice(name):
    return os.environ.get(name, '').strip()


def check_manifest(checker, path, what):
    """init's parser on the file: [(server, image, [modules])]."""
    r = subprocess.run([checker, path], capture_output=True, text=True)
    if r.returncode:
        fail('%s: %s' % (what, r.stderr.strip() or 'the manifest checker failed'))
    return [(w[0], w[1], w[2:]) for w in (line.split() for line in r.stdout.splitlines()) if len(w) >= 2]


class Server:
    """A server's block of the manifest, as lines of text."""

    def __init__(self, name, lines):
        self.name = name
        self.lines = lines  # its 'server NAME' line first

    def directives(self, word):
        return [i for i, line in enumerate(self.lines) if line.split()[:1] == [word]]

    def value(self, word):
        found = self.directives(word)
        return self.lines[found[-1]].split(None, 1)[1].strip() if found else None

    def remove(self, word):
        self.lines = [line for line in self.lines if line.split()[:1] != [word]]

    def set(self, word, value):
        """Replace the directive's line, or add one after the last directive."""
        text = '    %s%s' % (word, ' ' + value if value else '')
        found = self.directives(word)
        if found:
            self.lines[found[-1]] = text
            return
        last = max(i for i, line in enumerate(self.lines) if line.split() and not line.lstrip().startswith('#'))
        self.lines.insert(last + 1, text)

    def is_vm(self):
        return os.path.basename(self.value('image') or '') == VMM_IMAGE

    def vm_name(self):
        """The VM's name as vm list shows it: its name= argument, else the server's."""
        words, _ = split_args(self.value('args') or '')
        return next((w[len('name='):] for w in words if w.startswith('name=') and len(w) > 5), self.name)


def split_blocks(text):
    """The lines before the first server, and each server's block."""
    head, servers = [], []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ['server'] and len(words) >= 2:
            servers.append(Server(words[1], [line]))
        elif servers:
            servers[-1].lines.append(line)
        else:
            head.append(line)
    return head, servers


def split_args(args):
    """A manifest's args as words, cmdline= (which takes the rest) last."""
    words, cmdline = [], None
    rest = args
    while rest:
        rest = rest.lstrip()
        if not rest:
            break
        if rest.startswith('cmdline='):
            cmdline = rest[len('cmdline='):].rstrip()
            break
        word, _, rest = rest.partition(' ')
        words.append(word)
    return words, cmdline


def join_args(words, cmdline):
    text = ' '.join(words + ([] if cmdline is None else ['cmdline=' + cmdline]))
    return text


def parse_size(variable, text):
    """A size in MiB from N, NM or NG (QEMU's -m)."""
    m = re.fullmatch(r'(\d+)\s*(?:([MmGg])(?:i?[Bb])?)?', text.strip())
    if not m:
        fail("%s=%s: a size in MiB or GiB, as QEMU's -m takes it: 512, 512M or 1G" % (variable, text))
    return int(m.group(1)) * (1024 if (m.group(2) or 'M').upper() == 'G' else 1)


def parse_mem(text):
    mib = parse_size('MEM', text)
    if mib < 1:
        fail('MEM=%s: a VM needs at least 1 MiB' % text)
    most = (1 << (MEMORY_BITS_MAX - 20)) - VMM_HEADROOM_MIB
    if mib > most:
        fail('MEM=%s: at most %d MiB: a task\'s memory line is at most %d (%d MiB), and the VMM keeps %d MiB '
             'of it for itself' % (text, most, MEMORY_BITS_MAX, 1 << (MEMORY_BITS_MAX - 20), VMM_HEADROOM_MIB))
    return mib


def host_file(variable, path):
    if not os.path.isfile(path):
        fail('%s=%s: no such file' % (variable, path))
    if not os.access(path, os.R_OK):
        fail('%s=%s: cannot be read' % (variable, path))
    return os.path.abspath(path)


def link_guest_file(out, path, fallback, taken):
    """A boot module for a host file: a link in out with a short, unique
    name (a module's name is at most 63 bytes and matched by its last part)."""
    name = os.path.basename(path)
    if name in taken or not re.fullmatch(r'[A-Za-z0-9._+-]{1,40}', name):
        name = fallback
    link = os.path.join(out, name)
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(path, link)
    taken.add(name)
    return link, name


def find_file(build, name, known):
    """The path of a boot module the manifest names: one make run boots,
    or the only file of that name the build (or the guest's cache) holds."""
    for path in known:
        if os.path.basename(path) == name:
            return path
    found = []
    for root in (build,) + SEARCH_ROOTS:
        for directory, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if os.path.join(directory, d) != os.path.join(build, 'run')]
            if name in files:
                found.append(os.path.join(directory, name))
    if len(found) == 1:
        return found[0]
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--checker', required=True, help="manifest-check, init's parser for the host")
    ap.add_argument('--build', required=True)
    ap.add_argument('--default-manifest', required=True)
    ap.add_argument('--out', required=True, help='where the rewritten manifest and links go')
    ap.add_argument('--qemu-mem-out', required=True,
                    help="where to write the machine's memory for QEMU's -m (tools/qemu.sh's QEMU_MEM)")
    ap.add_argument('modules', nargs='+', help="make run's modules: the root task, the manifest, the servers")
    a = ap.parse_args()

    manifest = choice('MANIFEST')
    guest, mem = choice('GUEST'), choice('MEM')
    kernel, initrd, cmdline = choice('GUEST_KERNEL'), choice('GUEST_INITRD'), os.environ.get('GUEST_CMDLINE')
    with open(a.qemu_mem_out, 'w') as f:
        f.write(os.environ.get('QEMU_MEM') or QEMU_MEM_DEFAULT)
    if not (manifest or guest or mem or kernel or initrd or cmdline is not None):
        print('\n'.join(a.modules))
        return

    what = 'MANIFEST=%s' % manifest if manifest else a.default_manifest
    path = manifest or a.default_manifest
    if not os.path.isfile(path):
        fail('MANIFEST=%s: no such file' % path)
    check_manifest(a.checker, path, what)
    with open(path) as f:
        head, servers = split_blocks(f.read())
    vms = [s for s in servers if s.is_vm()]
    vm_names = ', '.join(s.vm_name() for s in vms) or 'none'

    # which VMs start at boot
    if not guest:
        chosen = [s for s in vms if not s.directives('manual')]
    elif guest == 'none':
        chosen = []
    elif guest == 'all':
        chosen = list(vms)
    else:
        chosen = []
        for name in guest.split(','):
            # a VM by its name (vm list's) or its server's
            server = next((s for s in vms if s.vm_name() == name.strip()), None) or \
                next((s for s in servers if s.name == name.strip()), None)
            if not name.strip():
                fail('GUEST=%s: an empty name (names are separated by commas)' % guest)
            if not server:
                fail("GUEST=%s: the manifest (%s) has no VM '%s'; its VMs: %s" % (guest, path, name, vm_names))
            if not server.is_vm():
                fail("GUEST=%s: '%s' is not a VM (its image is %s, not %s); the manifest's VMs: %s"
                     % (guest, name, server.value('image'), VMM_IMAGE, vm_names))
            if server not in chosen:
                chosen.append(server)
    if guest:
        for s in vms:
            if s in chosen:
                s.remove('manual')
            else:
                s.set('manual', '')

    # what they boot, and with how much memory
    if (mem or kernel or initrd or cmdline is not None) and not chosen:
        fail('MEM, GUEST_KERNEL, GUEST_INITRD and GUEST_CMDLINE apply to the VMs that start at boot, and none does '
             '(GUEST=%s; the manifest\'s VMs: %s)' % (guest or '', vm_names))
    if initrd and not kernel:
        fail('GUEST_INITRD needs GUEST_KERNEL: a host initramfs goes with a host kernel (the manifest\'s '
             'kernel= and initrd= are files of Berth\'s disk)')
    if (kernel or cmdline is not None) and len(chosen) > 1:
        fail('GUEST_KERNEL and GUEST_CMDLINE boot one VM, and %d start (%s): choose one with GUEST=NAME'
             % (len(chosen), ', '.join(s.vm_name() for s in chosen)))
    if cmdline is not None and '\n' in cmdline:
        fail('GUEST_CMDLINE: one line, please')
    os.makedirs(a.out, exist_ok=True)
    extra = []   # the host's guest files, as boot modules
    taken = {os.path.basename(m) for m in a.modules}
    mib = parse_mem(mem) if mem else None
    for s in chosen:
        words, line = split_args(s.value('args') or '')
        if mib:
            given = 'mem=%d' % mib
            words = [given if w.startswith('mem=') else w for w in words]
            if given not in words:
                words.append(given)
            bits = max(int(s.value('memory') or 16), math.ceil(math.log2((mib + VMM_HEADROOM_MIB) << 20)))
            s.set('memory', str(bits))
        if kernel:
            words = [w for w in words if not w.startswith(('kernel=', 'initrd='))]
            if 'linux' not in words:
                words.insert(0, 'linux')  # GUEST_KERNEL is a Linux bzImage, as for QEMU's -kernel
            # the VMM boots its first module, with the second as the initrd
            s.remove('module')
            link, name = link_guest_file(a.out, host_file('GUEST_KERNEL', kernel), 'guest-kernel', taken)
            extra.append(link)
            s.set('module', name)
            if initrd:
                link, name = link_guest_file(a.out, host_file('GUEST_INITRD', initrd), 'guest-initrd', taken)
                extra.append(link)
                s.lines.insert(s.directives('module')[-1] + 1, '    module ' + name)
        if cmdline is not None:
            line = cmdline.strip()
        args = join_args(words, line)
        if len(args) > ARGS_MAX:
            fail("the arguments of '%s' would be %d bytes, more than the %d a boot info holds: '%s'"
                 % (s.name, len(args), ARGS_MAX, args))
        if args:
            s.set('args', args)
        else:
            s.remove('args')

    # the manifest to boot: its name must end in "manifest" (init finds it so)
    base = os.path.basename(path)
    out_manifest = os.path.join(a.out, base if base.endswith('manifest') else base + '.manifest')
    with open(out_manifest, 'w') as f:
        f.write('# made by tools/run/runconfig.py from %s (MANIFEST=%s GUEST=%s MEM=%s GUEST_KERNEL=%s '
                'GUEST_INITRD=%s GUEST_CMDLINE=%s)\n' % (path, manifest, guest, mem, kernel, initrd,
                                                           cmdline if cmdline is not None else ''))
        f.write('\n'.join(head + [line for s in servers for line in s.lines]) + '\n')
    entries = check_manifest(a.checker, out_manifest, 'the manifest made from your choices')

    # the modules: the root task, the manifest, and what each server runs
    modules = [a.modules[0], out_manifest]
    known = a.modules[2:] + extra
    for server, image, files in entries:
        for name in [image] + files:
            found = find_file(a.build, os.path.basename(name), known)
            if isinstance(found, list):
                where = ('several files are called so: ' + ', '.join(found)) if found else (
                    'it is none of make run\'s modules and no file of the build (%s/) or of %s has that name; '
                    'make it first' % (a.build, ', '.join(SEARCH_ROOTS)))
                fail("%s: server '%s' needs the boot module '%s': %s" % (what, server, name, where))
            if found not in modules:
                modules.append(found)
    for m in modules:
        if re.search(r'[\s,]', m) or len(m) > MODULE_NAME_MAX:
            fail("the boot module '%s': QEMU's -initrd list takes no spaces or commas, and a module's name is at "
                 'most %d bytes' % (m, MODULE_NAME_MAX))
    # the machine's memory: init gives each task a pool of twice its memory
    # line, an aligned block of free RAM; QEMU's RAM holds one that large
    # only from about four times its size (the kernel, boot modules and
    # firmware tables sit at both ends)
    bits = max(int(s.value('memory') or 16) for s in servers if not s.directives('manual'))
    need = max(parse_size('QEMU_MEM', QEMU_MEM_DEFAULT), (1 << (bits + 3)) >> 20)
    given = os.environ.get('QEMU_MEM')
    if given and parse_size('QEMU_MEM', given) < need:
        fail('QEMU_MEM=%s: a task with memory %d needs a machine of %d MiB (QEMU_MEM=%dM)' % (given, bits, need, need))
    with open(a.qemu_mem_out, 'w') as f:
        f.write(given or '%dM' % need)

    manual = [s.vm_name() for s in vms if s.directives('manual')]
    print('make run: booting %s (from %s) on a machine of %s; VMs at boot: %s%s' % (
        out_manifest, path, given or '%dM' % need, ', '.join('%s (%s)' % (s.vm_name(), s.value('args') or 'no arguments') for s in chosen)
        or 'none', '; vm start NAME starts the others: ' + ', '.join(manual) if manual else ''), file=sys.stderr)
    print('\n'.join(modules))


if __name__ == '__main__':
    main()
