#!/usr/bin/env python3
"""How long Debian's Linux kernel takes to boot as a Berth guest, next to
the same kernel and initramfs booted by bare QEMU (issue 10's benchmark;
docs/benchmarks.md, "Linux boot").

    tools/bench/linux_boot.py [--runs N] [--build DIR]

prints (stdout; progress goes to stderr):

    BENCH name=linux_guest_boot_ms value=<ms> unit=ms
    BENCH name=linux_bare_qemu_boot_ms value=<ms> unit=ms
    BENCH name=linux_berth_boot_ms value=<ms> unit=ms
    BENCH name=linux_guest_boot_exits value=<n> unit=exits
    # lines: every run's figures, the ratio, the exits by reason

Each figure is the median of N runs (default 3); Berth and bare QEMU take
turns so that a change in the host's load hits both.  Wall-clock time,
without -icount: under icount a Linux boot would take minutes, and its
TSC would not be the host's.  Times come from the host, from when each
serial line reached us:

- linux_guest_boot_ms: from the VMM's "vmm: guest '...bzImage' ... starting"
  (the VM built, the images loaded, just before the VCPU first runs) to
  the guest's "[linux] berth-guest: init started" (the first line /init
  prints).
- linux_bare_qemu_boot_ms: from starting QEMU with -kernel/-initrd (same
  -cpu max, -m 112M, console=ttyS0) to the same marker; it includes QEMU's
  start and its firmware, which the figure above leaves out.
- linux_berth_boot_ms: from starting QEMU to the marker under Berth: the
  whole of it (Berth's boot, init, building the VM, which measures the TSC
  for half a second, and the guest's boot).
- linux_guest_boot_exits: the VM's exits counted by its VMM, read with
  the Berth shell's `vm stats linux` as soon as the marker appears (so a
  second or so of the guest's start-up after it is included), median run.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import linux_guest_test as lg  # noqa: E402  (tools/linux_guest_test.py)

MEM_MIB = 112      # tests/linux/bench.manifest's mem=
CMDLINE = 'console=ttyS0'
TIMEOUT = 240


def say(text):
    print('linux-boot: ' + text, file=sys.stderr)
    sys.stderr.flush()


def berth_run(args, k):
    b = args.build
    mods = [os.path.join(b, 'init.elf'), os.path.join(lg.MANIFESTS, 'bench.manifest'),
            os.path.join(b, 'serial.elf'), os.path.join(b, 'rtc.elf'), os.path.join(b, 'shell.elf'),
            os.path.join(b, 'vmm.elf'), lg.BZIMAGE, lg.INITRD]
    log = os.path.join(lg.ROOT, args.out, 'linux-boot-berth-%d.log' % k)
    q = lg.berth_qemu(os.path.join(b, 'kernel.bin'), mods, '', log)
    try:
        marker = q.wait_for(r'^\[linux\] ' + re.escape(lg.INIT_MARKER), TIMEOUT)
        if not marker:
            raise SystemExit('linux-boot: the guest did not reach /init under Berth; see %s' % log)
        # the shell reads the console (the VM has no input): ask its VMM
        q.type('vm stats linux\r')
        table = q.wait_for(r'^total +(\d+) .*$', 30, marker.end())
        started, at = lg.boot_started(q), q.line_time(re.escape(lg.INIT_MARKER))
        stats = []
        if table:
            block = q.text()[:table.end()]
            block = block[block.rfind('REASON'):]
            for line in block.split('\n')[1:]:
                m = re.match(r'^(.{16}) +(0x[0-9a-f]+|0) +(\d+) +(\S+ \S+) +(\S+ \S+)$', line)
                if m:
                    stats.append((m.group(1).strip(), int(m.group(3)), m.group(4), m.group(5)))
            total = int(table.group(1))
        else:
            total = None
        # what the guest wrote to its serial port up to the marker: most
        # of its exits are that port's
        text = q.text()[:marker.end()]
        console = sum(len(line) - len('[linux] ') + 1 for line in text.split('\n') if line.startswith('[linux] '))
        return {'boot': (at - started) * 1000, 'whole': (at - q.t0) * 1000, 'exits': total,
                'stats': stats, 'console': console}
    finally:
        q.stop()


def bare_run(args, k):
    log = os.path.join(lg.ROOT, args.out, 'linux-boot-bare-%d.log' % k)
    q = lg.Qemu(['qemu-system-x86_64', '-accel', 'tcg', '-cpu', 'max', '-m', '%dM' % MEM_MIB, '-no-reboot',
                 '-display', 'none', '-vga', 'none', '-serial', 'stdio', '-monitor', 'none',
                 '-kernel', lg.BZIMAGE, '-initrd', lg.INITRD, '-append', CMDLINE], log)
    try:
        if not q.wait_for('^' + re.escape(lg.INIT_MARKER), TIMEOUT):
            raise SystemExit('linux-boot: the guest did not reach /init under bare QEMU; see %s' % log)
        return {'boot': (q.line_time(re.escape(lg.INIT_MARKER)) - q.t0) * 1000}
    finally:
        q.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--out', default='build/bench', help='where the serial logs go')
    ap.add_argument('--runs', type=int, default=3)
    args = ap.parse_args()
    os.chdir(lg.ROOT)
    if not all(os.path.exists(f) for f in (lg.BZIMAGE, lg.INITRD)):
        say('fetching the guest images (tools/guest-images.sh)')
        subprocess.run(['tools/guest-images.sh'], check=True, stdout=sys.stderr)
    os.makedirs(args.out, exist_ok=True)

    berth, bare = [], []
    for k in range(1, args.runs + 1):
        say('run %d of %d: Berth' % (k, args.runs))
        berth.append(berth_run(args, k))
        say('run %d of %d: bare QEMU' % (k, args.runs))
        bare.append(bare_run(args, k))

    guest = statistics.median(r['boot'] for r in berth)
    whole = statistics.median(r['whole'] for r in berth)
    native = statistics.median(r['boot'] for r in bare)
    counted = [r for r in berth if r['exits'] is not None]
    mid = sorted(counted, key=lambda r: r['exits'])[len(counted) // 2] if counted else None
    version = open(lg.KERNEL_VERSION).read().strip()
    print('# linux boot: %s, mem=%d MiB, "%s", wall clock without icount, median of %d' %
          (version, MEM_MIB, CMDLINE, args.runs))
    print('# berth guest (ms): %s' % ' '.join('%.0f' % r['boot'] for r in berth))
    print('# berth whole (ms): %s' % ' '.join('%.0f' % r['whole'] for r in berth))
    print('# bare qemu (ms):   %s' % ' '.join('%.0f' % r['boot'] for r in bare))
    print('# ratio linux_guest_boot_ms / linux_bare_qemu_boot_ms: %.2f (the target is 1.3 or less)' %
          (guest / native))
    print('BENCH name=linux_guest_boot_ms value=%d unit=ms' % round(guest))
    print('BENCH name=linux_bare_qemu_boot_ms value=%d unit=ms' % round(native))
    print('BENCH name=linux_berth_boot_ms value=%d unit=ms' % round(whole))
    if mid:
        print('BENCH name=linux_guest_boot_exits value=%d unit=exits' % mid['exits'])
        print('# the guest wrote %d bytes to its serial console before the marker' % mid['console'])
        print('# exits by reason during the boot (vm stats linux, the median run):')
        print('# %-16s %10s %14s %12s' % ('reason', 'count', 'VMM time', 'per exit'))
        for reason, count, spent, each in mid['stats']:
            print('# %-16s %10d %14s %12s' % (reason, count, spent, each))
    else:
        print('# no exit counts: `vm stats linux` did not answer (see the Berth logs)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
