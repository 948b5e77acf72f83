#!/usr/bin/env python3
"""Four clones of an idle Linux guest: the memory their sharing saves
(issue 16; docs/lifecycle.md, "Clones"; docs/benchmarks.md).

    tools/bench/clone_linux.py [--build DIR] [--idle S] [--no-icount]

Berth (build/kernel.bin, tests/bench/clones.manifest) boots under QEMU
-icount shift=0 with a 112 MiB Linux guest and the shell.  Once the guest
is at its shell, `vm share linux` gives back the regions whose pages are
zero or alike (`docs/lifecycle.md`), then `vm clone linux cK` starts four clones one after the
other; then all five VMs idle for --idle seconds (wall clock, default 30)
and the shell's `mem` and `vm stats` say what is shared and what each VM
copied.  Printed (stdout; progress on stderr):

    BENCH name=share_zero_regions value=<n> unit=regions  (vm share: 2 MiB regions back with Berth)
    BENCH name=share_zero_pages value=<n> unit=pages      (their zero pages, now on the zero frame)
    BENCH name=share_pause_ms value=<ms> unit=ms          (the guest stopped for the scan)
    BENCH name=clone_pause_us value=<us> unit=us          (the parent's VCPU stopped, median of 4)
    BENCH name=clone_start_ms value=<ms> unit=ms          (host wall time, typing to "vm: cloned", median)
    BENCH name=clones_saved_mib value=<MiB> unit=MiB      (init's count: loans held by more than one VM)
    BENCH name=clones_copied_pages value=<n> unit=pages   (pages the five VMs copied on write, all of them)
    BENCH name=clones_ram_mib value=<MiB> unit=MiB        (the five guests' RAM as backed: the parent's
                                                           112 less the regions back, plus the zero
                                                           frame, plus every page any of them copied
                                                           and init's pages kept by content)
    BENCH name=clones_unshared_ram_mib value=<MiB> unit=MiB  (five guests without sharing: 5 x 112)

and exits non-zero, with the end of the log, when a figure is missing.
Log: BUILD/bench/clones.log.
"""
import argparse
import os
import re
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import linux_guest_test as lg  # noqa: E402

MANIFEST = 'tests/bench/clones.manifest'
CLONES = 4
RAM_MIB = 112


def say(text):
    print('clone-bench: ' + text, file=sys.stderr)
    sys.stderr.flush()


def fail(q, why):
    say(why)
    if q:
        print('\n'.join(lg.tail(q, 30)), file=sys.stderr)
    sys.exit(1)


def shell(q, command, answer, timeout=120):
    """Types a Berth shell command; the match of answer after it, or None."""
    mark = len(q.text())
    q.type(command + '\r')
    return q.wait_for(answer, timeout, mark)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--idle', type=int, default=30)
    ap.add_argument('--timeout', type=int, default=600)
    ap.add_argument('--no-icount', action='store_true')
    args = ap.parse_args()
    os.chdir(lg.ROOT)
    b, out = args.build, os.path.join(args.build, 'bench')
    os.makedirs(out, exist_ok=True)
    mods = [os.path.join(b, 'init.elf'), MANIFEST] + [os.path.join(b, m) for m in (
        'serial.elf', 'rtc.elf', 'shell.elf', 'vmm.elf')] + [lg.BZIMAGE, lg.INITRD]
    env = dict(os.environ, KERNEL_CMDLINE='', QEMU_MEM='2G',
               QEMU_EXTRA='' if args.no_icount else '-icount shift=0')
    q = lg.Qemu(['tools/qemu.sh', '--test', os.path.join(b, 'kernel.bin')] + mods, os.path.join(out, 'clones.log'),
                env)
    try:
        if q.wait_for(r'\[linux\] .*Run /init as init process', args.timeout) is None:
            fail(q, 'the guest did not reach /init')
        time.sleep(20)   # to its shell, and quiet
        z = shell(q, 'vm share linux', r"^vm: 'linux' gave (\d+) regions \(\d+ KiB\) back to Berth: (\d+) zero pages "
                  r'shared, (\d+) pages on pages kept by content, (\d+) pages copied; the guest stopped ([\d.]+) ms'
                  r'|^vm share: .*')
        if not z or not z.group(0).startswith("vm: 'linux' gave"):
            fail(q, 'vm share linux did not answer')
        say(z.group(0))
        zero_regions, zero_pages, share_ms = int(z.group(1)), int(z.group(2)), float(z.group(5))
        pauses, starts = [], []
        for k in range(1, CLONES + 1):
            t0 = time.time()
            done = shell(q, 'vm clone linux c%d' % k, r"^vm: cloned 'c%d'|^vm clone: .*" % k)
            line = q.wait_for(r'vmm: \[linux\] clone for c%d: memory shared, state of (\d+) bytes in (\d+) frames, '
                              r'the guest stopped (\d+) us' % k, 10)
            if not done or not done.group(0).startswith('vm: cloned') or not line:
                fail(q, 'clone %d did not start' % k)
            starts.append((time.time() - t0) * 1000)
            pauses.append(int(line.group(3)))
            say(line.group(0))
        say('five VMs idle for %d s' % args.idle)
        time.sleep(args.idle)
        m = shell(q, 'mem', r'^shared by VMs: (\d+) KiB, saving (\d+) KiB', 30)
        if not m:
            fail(q, 'mem shows no sharing')
        saved_kib = int(m.group(2))
        copied = 0
        for name in ['linux'] + ['c%d' % k for k in range(1, CLONES + 1)]:
            s = shell(q, 'vm stats %s' % name, r'^memory shared with clones or a parent: (\d+) pages \(\d+ KiB\); '
                      r'zero pages on the zero frame: \d+ \(\d+ regions\); on pages kept by content: (\d+); '
                      r'copied: (\d+) pages', 30)
            if not s:
                fail(q, 'vm stats %s shows no sharing' % name)
            say('%s: %s pages shared, %s on pages kept by content, %s copied' %
                (name, s.group(1), s.group(2), s.group(3)))
            copied += int(s.group(3))
        k = shell(q, 'mem', r'^pages shared by content: (\d+) kept once', 30)
        kept = int(k.group(1)) if k else 0
    finally:
        q.stop()
    saved_mib = saved_kib / 1024
    ram_mib = RAM_MIB - 2 * zero_regions + 2 + (copied + kept) * 4 / 1024
    print('BENCH name=share_zero_regions value=%d unit=regions' % zero_regions)
    print('BENCH name=share_zero_pages value=%d unit=pages' % zero_pages)
    print('BENCH name=share_pause_ms value=%.1f unit=ms' % share_ms)
    print('BENCH name=clone_pause_us value=%d unit=us' % statistics.median(pauses))
    print('BENCH name=clone_start_ms value=%d unit=ms' % statistics.median(starts))
    print('BENCH name=clones_saved_mib value=%d unit=MiB' % saved_mib)
    print('BENCH name=clones_copied_pages value=%d unit=pages' % copied)
    print('BENCH name=clones_ram_mib value=%.1f unit=MiB' % ram_mib)
    print('BENCH name=clones_unshared_ram_mib value=%d unit=MiB' % ((CLONES + 1) * RAM_MIB))


if __name__ == '__main__':
    main()
