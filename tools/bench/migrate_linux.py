#!/usr/bin/env python3
"""Live migration of a Linux guest between two Berths, timed (issue 16;
docs/lifecycle.md, "Live migration"; docs/benchmarks.md).

    tools/bench/migrate_linux.py [--build DIR] [--runs N]

Two QEMUs boot Berth from tests/linux/migrate.manifest, joined on the
host's 127.0.0.1 only (tools/linux_guest_test.py's mig_qemu: a hostfwd
on the destination, a guestfwd relay on the source).  The destination
waits (`vm receive linux 7000`); the source boots the 112 MiB Linux
guest, starts a process in it that counts every 100 ms and checks 8 MB of
its tmpfs, and moves it (`vm migrate linux 10.0.2.100:7000`).  Wall time,
without icount: two QEMUs and the host's sockets between them share no
virtual clock.  From the source VMM's line:

    BENCH name=migrate_total_ms value=<ms> unit=ms        (the command to the hand-over)
    BENCH name=migrate_downtime_ms value=<ms> unit=ms     (the VCPU stopped to the go)
    BENCH name=migrate_pages value=<n> unit=pages         (4 KiB pages sent, all rounds)
    BENCH name=migrate_rounds value=<n> unit=rounds       (the last, with the VCPU stopped, counted)
    BENCH name=migrate_mibs value=<MiB/s> unit=MiB/s      (pages sent over total time)
    # lines: each run, its pages per round and the downtime's parts

Each figure is the median of N runs (default 1; each run boots both
machines).  Exits non-zero, with the end of the logs, when a run fails.
Logs: BUILD/bench/migrate-a-K.log, migrate-b-K.log.
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

MIGRATED = (r'vmm: \[linux\] migrated to \S+: (\d+) rounds, (\d+) pages \((\d+) in the last, the VCPU stopped\), '
            r'(\d+) ms in all, the guest stopped (\d+) ms \(last pages (\d+) ms, state of (\d+) bytes built (\d+) ms, '
            r'sent and applied (\d+) ms\)')


def say(text):
    print('migrate-bench: ' + text, file=sys.stderr)
    sys.stderr.flush()


def one_run(args, k):
    """One migration: its figures, or None after saying why."""
    port_a, port_b = lg.free_port(), lg.free_port()
    logs = os.path.join(lg.ROOT, args.build, 'bench')
    os.makedirs(logs, exist_ok=True)
    b = lg.mig_qemu(args, os.path.join(logs, 'migrate-b-%d.log' % k), port_b, port_a,
                    os.path.join(logs, 'migrate-b.mon'), 'kernel.bin')
    a = lg.mig_qemu(args, os.path.join(logs, 'migrate-a-%d.log' % k), port_a, port_b,
                    os.path.join(logs, 'migrate-a.mon'), 'kernel.bin')
    try:
        if not (a.wait_for(r'Berth shell\.', 120) and b.wait_for(r'Berth shell\.', 120)):
            say('run %d: no Berth shell' % k)
            return None
        b.type('vm receive linux %d\r' % lg.MIG_PORT)
        a.type('vm start linux\r')
        if not a.wait_for(r'\[linux\] ' + re.escape(lg.INIT_MARKER), lg.BOOT_TIMEOUT):
            say('run %d: the guest did not boot' % k)
            return None
        time.sleep(15)
        a.type('vm console linux\r')
        time.sleep(3)
        a.type(lg.MIG_WORKLOAD + '\r')
        if not a.wait_for(r'mig-count 20 ok', 120):
            say('run %d: the process did not run' % k)
            return None
        a.type('\x1d')
        time.sleep(2)
        mark = len(a.text())
        a.type('vm migrate linux 10.0.2.100:%d\r' % lg.MIG_PORT)
        m = a.wait_for(MIGRATED, 600, mark)
        if not m or not b.wait_for(r'mig-count \d+ ok', 60, 0):
            say('run %d: the migration did not complete:\n  %s\n  %s' % (k, '\n  '.join(lg.tail(a)),
                                                                         '\n  '.join(lg.tail(b))))
            return None
        rounds = re.findall(r'vmm: \[linux\] migrate: round (\d+): (\d+) pages', a.text()[mark:])
        print('# run %d: %s' % (k, m.group(0)))
        print('# run %d: pages per round: %s, then %s with the VCPU stopped' %
              (k, ', '.join('%s: %s' % r for r in rounds), m.group(3)))
        return {'rounds': int(m.group(1)), 'pages': int(m.group(2)), 'total': int(m.group(4)),
                'down': int(m.group(5))}
    finally:
        a.stop()
        b.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--runs', type=int, default=1)
    args = ap.parse_args()
    os.chdir(lg.ROOT)
    args.selfcheck = 0           # kernel.bin has no self-check; the argument is ignored
    runs = []
    for k in range(1, args.runs + 1):
        say('run %d of %d: two Berths, a Linux guest moved from one to the other' % (k, args.runs))
        r = one_run(args, k)
        if r is None:
            return 1
        runs.append(r)

    def med(key):
        return int(statistics.median(r[key] for r in runs))
    total = med('total')
    print('BENCH name=migrate_total_ms value=%d unit=ms' % total)
    print('BENCH name=migrate_downtime_ms value=%d unit=ms' % med('down'))
    print('BENCH name=migrate_pages value=%d unit=pages' % med('pages'))
    print('BENCH name=migrate_rounds value=%d unit=rounds' % med('rounds'))
    print('BENCH name=migrate_mibs value=%.2f unit=MiB/s' % (med('pages') / 256 / (total / 1000.0)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
