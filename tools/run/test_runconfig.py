#!/usr/bin/env python3
"""TAP tests of make run's choices (tools/run/runconfig.py): each choice
changes the manifest and the module list as docs/running.md says, and
each bad value is refused with one line saying what is wrong.  Runs on
the host in a scratch directory with stand-in module files; installed as
$(BUILD)/tests/unit/test_runconfig, next to init's parser for the host
($(BUILD)/tools/manifest-check), and run from the repository's top."""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.normpath(os.path.join(HERE, '..', '..', 'tools', 'manifest-check'))
RUNCONFIG = os.path.abspath('tools/run/runconfig.py')

MANIFEST = """# a stand-in for boot.manifest
server serial
    image serial.elf
    restart always
server shell
    image shell.elf
    needs console
    restart always
    control all
server linux
    image vmm.elf
    memory 27
    slots 12
    restart 3
    args linux mem=112 name=linux console=buffer kernel=/vm/vmlinuz initrd=/vm/initrd.img cmdline=console=ttyS0
server other
    image vmm.elf
    memory 22
    module ticker.bin
    args mem=2 name=tick
"""

count = 0
failed = 0


def check(ok, name):
    global count, failed
    count += 1
    failed += 0 if ok else 1
    print('%sok %d - %s' % ('' if ok else 'not ', count, name))


def run(tmp, **env):
    """runconfig.py with these choices: (status, modules, stderr, manifest text, qemu memory)."""
    e = {k: v for k, v in os.environ.items()
         if k not in ('MANIFEST', 'GUEST', 'MEM', 'GUEST_KERNEL', 'GUEST_INITRD', 'GUEST_CMDLINE', 'QEMU_MEM')}
    e.update(env)
    modules = [os.path.join(tmp, m) for m in ('init.elf', 'boot.manifest', 'serial.elf', 'shell.elf', 'vmm.elf')]
    out = os.path.join(tmp, 'run')
    p = subprocess.run([sys.executable, RUNCONFIG, '--checker', CHECKER, '--build', os.path.join(tmp, 'build'),
                        '--default-manifest', os.path.join(tmp, 'boot.manifest'), '--out', out,
                        '--qemu-mem-out', os.path.join(tmp, 'qemu-mem'), '--'] + modules,
                       capture_output=True, text=True, env=e, cwd=tmp)
    text = ''
    made = os.path.join(out, 'boot.manifest')
    if p.returncode == 0 and os.path.exists(made):
        with open(made) as f:
            text = f.read()
        os.remove(made)
    with open(os.path.join(tmp, 'qemu-mem')) as f:
        qemu = f.read()
    return p.returncode, p.stdout.split(), p.stderr.strip(), text, qemu


def block(text, server):
    """The lines of one server's block."""
    lines, inside = [], False
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ['server']:
            inside = words[1:2] == [server]
        if inside:
            lines.append(line.strip())
    return lines


def refused(result, *words):
    code, _, err, _, _ = result
    return code == 2 and err.startswith('make run: ') and '\n' not in err and all(w in err for w in words)


def main():
    if not os.access(CHECKER, os.X_OK):
        print('Bail out! no %s (make it: make %s)' % (CHECKER, CHECKER))
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for name in ('init.elf', 'serial.elf', 'shell.elf', 'vmm.elf', 'bzImage', 'initrd.gz'):
            open(os.path.join(tmp, name), 'w').close()
        os.makedirs(os.path.join(tmp, 'build', 'progs'))
        open(os.path.join(tmp, 'build', 'progs', 'ticker.bin'), 'w').close()
        with open(os.path.join(tmp, 'boot.manifest'), 'w') as f:
            f.write(MANIFEST)
        base = [os.path.join(tmp, m) for m in ('init.elf', 'boot.manifest', 'serial.elf', 'shell.elf', 'vmm.elf')]

        code, modules, err, text, qemu = run(tmp)
        check(code == 0 and modules == base and not text and qemu == '1G',
              'no choice: the modules as given, the manifest untouched, QEMU memory 1G')

        code, modules, err, text, qemu = run(tmp, GUEST='none')
        check(code == 0 and 'manual' in block(text, 'linux') and 'manual' in block(text, 'other') and
              modules[1] == os.path.join(tmp, 'run', 'boot.manifest'),
              'GUEST=none: every VM manual, the rewritten manifest booted (%s)' % err)
        check(modules[-1:] == [os.path.join(tmp, 'build', 'progs', 'ticker.bin')],
              'a module the manifest names is found in the build directory (%s)' % modules[-1:])
        check('VMs at boot: none; vm start NAME starts the others: linux, tick' in err,
              'it says what boots (%s)' % err)

        code, modules, err, text, qemu = run(tmp, GUEST='tick')
        check(code == 0 and 'manual' in block(text, 'linux') and 'manual' not in block(text, 'other'),
              'GUEST=tick: the VM by its name= starts, the other is manual')
        code, modules, err, text, qemu = run(tmp, GUEST='other,linux')
        check(code == 0 and 'manual' not in text, 'GUEST=other,linux: by server names, both start')

        code, modules, err, text, qemu = run(tmp, GUEST='linux', MEM='200')
        linux = block(text, 'linux')
        check(code == 0 and 'memory 28' in linux and
              'args linux mem=200 name=linux console=buffer kernel=/vm/vmlinuz initrd=/vm/initrd.img '
              'cmdline=console=ttyS0' in linux, 'MEM=200: mem= replaced in place, the memory line grown (%s)' % linux)
        check(qemu == '2048M', 'MEM=200: the machine grows to 2048M for the VM\'s 512 MiB pool (%s)' % qemu)
        code, modules, err, text, qemu = run(tmp, GUEST='linux', MEM='1g')
        check(refused((code, modules, err, text, qemu), 'at most 240 MiB'), 'MEM=1g: over the limit, refused: ' + err)
        code, modules, err, text, qemu = run(tmp, GUEST='linux', MEM='64MiB')
        check(code == 0 and 'memory 27' in block(text, 'linux') and qemu in ('1G', '1024M'),
              'MEM=64MiB: the memory line never shrinks; the machine stays 1G')
        for bad, why in (('0', 'at least 1 MiB'), ('1.5G', 'a size in MiB or GiB'), ('abc', 'a size in MiB or GiB'),
                         ('512K', 'a size in MiB or GiB')):
            check(refused(run(tmp, GUEST='linux', MEM=bad), why), 'MEM=%s is refused' % bad)
        check(refused(run(tmp, GUEST='linux', MEM='200', QEMU_MEM='1G'), 'QEMU_MEM=1G', 'QEMU_MEM=2048M'),
              'QEMU_MEM too small for the VM is refused, saying how much')
        code, modules, err, text, qemu = run(tmp, MEM='100')
        check(code == 0 and 'mem=100' in ' '.join(block(text, 'linux')) and 'mem=100' in ' '.join(block(text, 'other')),
              'MEM without GUEST: every VM that starts gets it')
        check(refused(run(tmp, GUEST='none', MEM='100'), 'none does'), 'MEM with GUEST=none is refused')
        check(refused(run(tmp, GUEST='shell'), "'shell' is not a VM"), 'GUEST=shell (not a VM) is refused')
        check(refused(run(tmp, GUEST='nope'), "no VM 'nope'", 'linux, tick'), 'an unknown GUEST is refused, '
              'listing the VMs')
        check(refused(run(tmp, GUEST='linux,'), 'an empty name'), 'GUEST=linux, (an empty name) is refused')

        kernel, initrd = os.path.join(tmp, 'bzImage'), os.path.join(tmp, 'initrd.gz')
        code, modules, err, text, qemu = run(tmp, GUEST='linux', GUEST_KERNEL=kernel, GUEST_INITRD=initrd,
                                             GUEST_CMDLINE='console=ttyS0 quiet')
        linux = block(text, 'linux')
        check(code == 0 and 'module bzImage' in linux and 'module initrd.gz' in linux and
              linux.index('module bzImage') < linux.index('module initrd.gz') and
              'args linux mem=112 name=linux console=buffer cmdline=console=ttyS0 quiet' in linux,
              'GUEST_KERNEL, GUEST_INITRD, GUEST_CMDLINE: modules in order, kernel= and initrd= gone (%s)' % linux)
        linked = [m for m in modules if os.path.dirname(m) == os.path.join(tmp, 'run')][1:]
        check(linked == [os.path.join(tmp, 'run', 'bzImage'), os.path.join(tmp, 'run', 'initrd.gz')] and
              os.path.realpath(linked[0]) == os.path.realpath(kernel),
              'the host files boot as modules, linked into the run directory')
        code, modules, err, text, qemu = run(tmp, GUEST='tick', GUEST_KERNEL=kernel)
        check(code == 0 and 'args linux mem=2 name=tick' in block(text, 'other') and
              'module bzImage' in block(text, 'other') and 'module ticker.bin' not in block(text, 'other'),
              'GUEST_KERNEL makes the VM a Linux one and replaces its modules')
        check(refused(run(tmp, GUEST_KERNEL=kernel), 'boot one VM', '2 start'), 'GUEST_KERNEL with two VMs is refused')
        check(refused(run(tmp, GUEST='linux', GUEST_INITRD=initrd), 'needs GUEST_KERNEL'),
              'GUEST_INITRD alone is refused')
        check(refused(run(tmp, GUEST='linux', GUEST_KERNEL=os.path.join(tmp, 'missing')), 'no such file'),
              'a GUEST_KERNEL that does not exist is refused')
        check(refused(run(tmp, GUEST='linux', GUEST_CMDLINE='x' * 100), 'more than the 127'),
              'arguments longer than a boot info holds are refused')

        bad = os.path.join(tmp, 'bad.manifest')
        with open(bad, 'w') as f:
            f.write('server a\n image a.elf\n irq 2\n')
        check(refused(run(tmp, MANIFEST=bad), 'bad.manifest:3: irq must be 1 or 3..15'),
              "a bad MANIFEST is refused with init's own message")
        missing = os.path.join(tmp, 'missing.manifest')
        with open(missing, 'w') as f:
            f.write('server a\n image nowhere.elf\n')
        check(refused(run(tmp, MANIFEST=missing), "server 'a' needs the boot module 'nowhere.elf'", 'make it first'),
              'a MANIFEST naming a file nothing holds is refused')
        check(refused(run(tmp, MANIFEST=os.path.join(tmp, 'none.manifest')), 'no such file'),
              'a MANIFEST that does not exist is refused')
        other = os.path.join(tmp, 'mine.txt')
        with open(other, 'w') as f:
            f.write('server s\n image serial.elf\n')
        code, modules, err, text, qemu = run(tmp, MANIFEST=other)
        check(code == 0 and modules[1] == os.path.join(tmp, 'run', 'mine.txt.manifest') and
              modules[2:] == [os.path.join(tmp, 'serial.elf')],
              'MANIFEST=mine.txt boots as a ...manifest module (init finds it so), with only what it runs')
    print('1..%d' % count)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
