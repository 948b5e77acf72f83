#!/usr/bin/env python3
"""Pages shared by content between two Linux guests booted apart
(issue 16; docs/lifecycle.md, "Pages shared by content"; docs/benchmarks.md).

    tools/bench/share_linux.py [--build DIR] [--no-icount]

Berth (build/kernel.bin, tests/bench/share.manifest) boots under QEMU
-icount shift=0 with two 112 MiB Linux guests, l1 and l2, from the same
kernel and initramfs.  Once both are at their shells, the shell types
`vm share l1` (init only remembers l1's pages), `vm share l2` (l2's pages
alike go on pages init keeps) and `vm share l1` again (l1 finds them
kept), then reads `mem` and `vm stats`.  Printed (stdout; progress on
stderr):

    BENCH name=share_<scan>_regions value=<n> unit=regions  (2 MiB regions that scan gave back)
    BENCH name=share_<scan>_alike value=<n> unit=pages      (its pages put on init's kept pages)
    BENCH name=share_<scan>_zero value=<n> unit=pages       (its zero pages, on the VM's zero frame)
    BENCH name=share_<scan>_pause_ms value=<ms> unit=ms     (the guest stopped for the scan)
        for <scan> = l1_first, l2, l1_again
    BENCH name=share_kept_pages value=<n> unit=pages        (pages init keeps once)
    BENCH name=share_ram_mib value=<MiB> unit=MiB           (both guests' RAM as backed: 2 x 112 less
                                                             the regions back, plus two zero frames,
                                                             the pages copied and init's kept pages)
    BENCH name=share_unshared_ram_mib value=224 unit=MiB    (the two without sharing)

and exits non-zero, with the end of the log, when a figure is missing.
Log: BUILD/bench/share.log.
"""
import argparse
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linux_guest_test as lg  # noqa: E402
from clone_linux import shell  # noqa: E402

MANIFEST = 'tests/bench/share.manifest'
RAM_MIB = 112
SHARE = (r"^vm: '%s' gave (\d+) regions \(\d+ KiB\) back to Berth: (\d+) zero pages shared, (\d+) pages on pages "
         r"kept by content, (\d+) pages copied; the guest stopped ([\d.]+) ms|^vm share: .*")


def say(text):
    print('share-bench: ' + text, file=sys.stderr)
    sys.stderr.flush()


def fail(q, why):
    say(why)
    if q:
        print('\n'.join(lg.tail(q, 30)), file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--timeout', type=int, default=900)
    ap.add_argument('--no-icount', action='store_true')
    args = ap.parse_args()
    os.chdir(lg.ROOT)
    b, out = args.build, os.path.join(args.build, 'bench')
    os.makedirs(out, exist_ok=True)
    mods = [os.path.join(b, 'init.elf'), MANIFEST] + [os.path.join(b, m) for m in (
        'serial.elf', 'rtc.elf', 'shell.elf', 'vmm.elf')] + [lg.BZIMAGE, lg.INITRD]
    env = dict(os.environ, KERNEL_CMDLINE='', QEMU_MEM='2G',
               QEMU_EXTRA='' if args.no_icount else '-icount shift=0')
    q = lg.Qemu(['tools/qemu.sh', '--test', os.path.join(b, 'kernel.bin')] + mods, os.path.join(out, 'share.log'),
                env)
    scans, copied = [], 0
    try:
        for name in ('l1', 'l2'):
            if q.wait_for(r'\[%s\] .*Run /init as init process' % name, args.timeout) is None:
                fail(q, '%s did not reach /init' % name)
        time.sleep(30)   # both to their shells, and quiet
        for label, name in (('l1_first', 'l1'), ('l2', 'l2'), ('l1_again', 'l1')):
            z = shell(q, 'vm share %s' % name, SHARE % name, 300)
            if not z or not z.group(0).startswith("vm: '%s' gave" % name):
                fail(q, 'vm share %s did not answer' % name)
            say(z.group(0))
            scans.append((label, int(z.group(1)), int(z.group(2)), int(z.group(3)), float(z.group(5))))
        for name in ('l1', 'l2'):
            s = shell(q, 'vm stats %s' % name, r'; copied: (\d+) pages', 30)
            if not s:
                fail(q, 'vm stats %s shows no sharing' % name)
            copied += int(s.group(1))
        k = shell(q, 'mem', r'^pages shared by content: (\d+) kept once', 30)
        if not k:
            fail(q, 'mem shows no pages kept by content')
        kept = int(k.group(1))
    finally:
        q.stop()
    back = sum(s[1] for s in scans)
    for label, regions, zero, alike, ms in scans:
        print('BENCH name=share_%s_regions value=%d unit=regions' % (label, regions))
        print('BENCH name=share_%s_alike value=%d unit=pages' % (label, alike))
        print('BENCH name=share_%s_zero value=%d unit=pages' % (label, zero))
        print('BENCH name=share_%s_pause_ms value=%.1f unit=ms' % (label, ms))
    print('BENCH name=share_kept_pages value=%d unit=pages' % kept)
    print('BENCH name=share_ram_mib value=%.1f unit=MiB' % (2 * RAM_MIB - 2 * back + 2 * 2 + (copied + kept) * 4 / 1024))
    print('BENCH name=share_unshared_ram_mib value=%d unit=MiB' % (2 * RAM_MIB))


if __name__ == '__main__':
    main()
