#!/usr/bin/env python3
"""Linux with nested paging and with shadow paging, side by side (issue
15; docs/vmm.md, "Shadow paging"; docs/benchmarks.md).

    tools/bench/shadow_linux.py [--build DIR] [--icount] [--modes svm,shadow,shadow4]

For each mode, one boot of the Linux guest (tests/linux/linux.manifest;
tests/linux/shadow.manifest; the same with shadows=4) on the kernel
without the self-check, and:

- boot: from the VMM's "starting" line to the guest's /init marker, in
  host wall time; and the guest's own uptime when its shell first answers
  (its clock is the TSC: under -icount shift=0 a nanosecond of it is one
  instruction of the whole machine, so this is instructions to the shell);
- procs: a loop of 200 short-lived processes (/bin/true) in the guest's
  shell: host wall time around the command, and the guest's uptime before
  and after it (under --icount: instructions).

prints BENCH lines (stdout; progress on stderr):

    BENCH name=linux_<mode>_boot_ms value=<ms> unit=ms
    BENCH name=linux_<mode>_boot_guest_ms value=<ms> unit=ms   (or ..._boot_insns, unit=insns, with --icount)
    BENCH name=linux_<mode>_procs200_ms value=<ms> unit=ms
    BENCH name=linux_<mode>_procs200_guest_ms ...              (or ..._procs200_insns)

    tools/bench/shadow_linux.py --report FILE [--png PNG] [--docs DOC]

runs nothing: reads the BENCH lines of earlier runs from FILE (make bench
writes both runs to build/bench/shadow.txt), prints them as a Markdown
table (wall figures from the run without icount, instructions from the
--icount run), draws the chart with gnuplot (--png) and replaces the
table between <!-- linux-paging:begin --> and <!-- linux-paging:end -->
in DOC (--docs; docs/teaching.md).
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import linux_guest_test as lg  # noqa: E402  (tools/linux_guest_test.py)

MANIFEST = {'svm': 'linux.manifest', 'shadow': 'shadow.manifest', 'shadow4': 'shadow4'}


def manifest(build, mode):
    """shadow4: shadow.manifest with four shadows cached per guest CR3, the
    guest's tables write-protected (shadows=4), made under build/."""
    if MANIFEST[mode] != 'shadow4':
        return MANIFEST[mode]
    path = os.path.join(build, 'shadow4.manifest')
    with open(os.path.join(lg.MANIFESTS, 'shadow.manifest')) as f:
        text = f.read().replace('mode=shadow', 'mode=shadow shadows=4')
    with open(path, 'w') as f:
        f.write(text)
    return os.path.relpath(path, lg.MANIFESTS)
LOOP = 'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; echo ran $i'


def uptime(g):
    out = g.run('cat /proc/uptime', timeout=120)
    try:
        return float(out[0].split()[0])
    except (TypeError, IndexError, ValueError):
        return None


def one(build, mode, icount, timeout):
    log = os.path.join(lg.ROOT, build, 'test-logs', 'bench-shadow-%s%s.log' % (mode, '-icount' if icount else ''))
    if icount:
        os.environ['QEMU_EXTRA'] = '-icount shift=0'
    else:
        os.environ.pop('QEMU_EXTRA', None)
    q = lg.berth_qemu(os.path.join(build, 'kernel.bin'), lg.modules(build, manifest(build, mode),
                                                                      (lg.BZIMAGE, lg.INITRD)), '', log)
    g = lg.Guest(q)
    res = {}
    try:
        if g.wait_init(timeout=timeout) is None or not g.wait_shell(timeout=timeout):
            print('# %s: the guest did not reach its shell' % mode, file=sys.stderr)
            print('\n'.join(lg.tail(q, 30)), file=sys.stderr)
            return res
        print('# %s: at the shell' % mode, file=sys.stderr)
        start, marker = lg.boot_started(q), q.line_time(re.escape(lg.INIT_MARKER))
        if start and marker:
            res['boot_ms'] = (marker - start) * 1000
        g.run('dmesg -n 1')
        res['boot_guest_s'] = uptime(g)
        u0, t0 = uptime(g), time.time()
        out = g.run(LOOP, timeout=timeout)
        t1, u1 = time.time(), uptime(g)
        print('# %s: the loop said %r in %.1f s' % (mode, out, t1 - t0), file=sys.stderr)
        if out == ['ran 200']:
            res['procs_ms'] = (t1 - t0) * 1000
            if u0 is not None and u1 is not None:
                res['procs_guest_s'] = u1 - u0
        # the VMM's counters, which it prints when the guest powers off
        q.type('poweroff\r')
        m = q.wait_for(r'^vmm: \[linux\] shadow paging: \d+ faults filled.*$', 60) if mode != 'svm' else None
        if m:
            print('# ' + m.group(0), file=sys.stderr)
    finally:
        q.stop()
    return res


# --- the report: a table and a chart of earlier runs' BENCH lines ---------

BEGIN, END = '<!-- linux-paging:begin -->', '<!-- linux-paging:end -->'
FIGURES = (('boot_ms', 'boot to /init, wall'), ('boot_insns', 'boot to the shell, instructions'),
           ('procs200_ms', '200 processes, wall'), ('procs200_insns', '200 processes, instructions'))


def measured(path):
    """What the runs in path said of when and where they were measured."""
    with open(path) as f:
        stamps = [line[len('# shadow_linux: measured '):].strip() for line in f
                  if line.startswith('# shadow_linux: measured ')]
    return '; '.join(stamps) or 'when and at which commit not recorded'


def read_bench(path):
    """{(mode, figure): value} from the BENCH lines in path: the first of
    each name, so the wall times come from the run without icount, which
    make bench writes first (the --icount run prints wall times too)."""
    rx = re.compile(r'^BENCH name=linux_(svm|shadow4|shadow)_(\w+) value=([\d.]+) ')
    out = {}
    with open(path) as f:
        for line in f:
            m = rx.match(line)
            if m:
                out.setdefault((m.group(1), m.group(2)), float(m.group(3)))
    return out


def cell(figure, value):
    if value is None:
        return '-'
    if figure.endswith('_ms'):
        return '%.1f s' % (value / 1000)
    return '%.2f × 10⁹' % (value / 1e9)


def report_table(values, modes, source):
    out = ['Measured by tools/bench/shadow_linux.py (%s), one run each; wall: host seconds without '
           'icount, on a shared machine; instructions: under -icount shift=0.' % source, '',
           '| mode | ' + ' | '.join(label for _, label in FIGURES) + ' |',
           '| --- |' + ' ---: |' * len(FIGURES)]
    for mode in modes:
        out.append('| %s | %s |' % (mode, ' | '.join(cell(f, values.get((mode, f))) for f, _ in FIGURES)))
    return '\n'.join(out) + '\n'


def git_commit():
    try:
        return subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=lg.ROOT, capture_output=True,
                              text=True, timeout=10).stdout.strip() or 'unknown'
    except OSError:
        return 'unknown'


def report_plot(values, modes, png, workdir, when):
    """Two panels of grouped bars per mode: host seconds (boot, 200
    processes) and instructions (the same, 10^9)."""
    dat = os.path.join(workdir, 'linux_paging.dat')
    with open(dat, 'w') as f:
        f.write('# mode boot_s procs200_s boot_ginsns procs200_ginsns\n')
        for mode in modes:
            vals = [values.get((mode, 'boot_ms')), values.get((mode, 'procs200_ms')),
                    values.get((mode, 'boot_insns')), values.get((mode, 'procs200_insns'))]
            scale = (1e3, 1e3, 1e9, 1e9)
            f.write('"%s" %s\n' % (mode, ' '.join('NaN' if v is None else '%g' % (v / k)
                                                  for v, k in zip(vals, scale))))
    script = '''
set terminal png size 1000,520
set output "%s"
set multiplot layout 1,2 title "Linux under Berth: nested paging (svm) and shadow paging (QEMU TCG)\\n%s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set key top left Left reverse
set yrange [0:*]
set title "host seconds (no icount; shared machine)"
plot "%s" using 2:xtic(1) title "boot to /init", '' using 3 title "200 short-lived processes"
set title "instructions, 10^9 (-icount shift=0)"
plot "%s" using 4:xtic(1) title "boot to the shell", '' using 5 title "200 short-lived processes"
unset multiplot
''' % (png, when, dat, dat)
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    subprocess.run(['gnuplot'], input=script, text=True, check=True)


def update_docs(path, text):
    with open(path) as f:
        doc = f.read()
    b, e = doc.find(BEGIN), doc.find(END)
    if b < 0 or e < b:
        raise SystemExit('shadow_linux: %s has no %s ... %s markers' % (path, BEGIN, END))
    with open(path, 'w') as f:
        f.write(doc[:b + len(BEGIN)] + '\n' + text + doc[e:])


def report(args):
    values = read_bench(args.report)
    modes = [m for m in args.modes.split(',') if any(k[0] == m for k in values)]
    if not modes:
        print('shadow_linux: no BENCH lines in %s' % args.report, file=sys.stderr)
        return 1
    text = report_table(values, modes, measured(args.report))
    print(text, end='')
    if args.png:
        report_plot(values, modes, args.png, os.path.dirname(os.path.abspath(args.report)), measured(args.report))
    if args.docs:
        update_docs(args.docs, text)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--icount', action='store_true', help='run QEMU with -icount shift=0')
    ap.add_argument('--modes', default='svm,shadow,shadow4',
                    help='of svm, shadow (one shadow, flushed at CR3 writes), shadow4 (four cached)')
    ap.add_argument('--timeout', type=int, default=600)
    ap.add_argument('--report', metavar='FILE', help='run nothing: a table (and --png, --docs) of FILE\'s BENCH lines')
    ap.add_argument('--png', help='with --report: the chart, drawn with gnuplot')
    ap.add_argument('--docs', help='with --report: replace the table between the markers in this file')
    args = ap.parse_args()
    os.chdir(lg.ROOT)
    if args.report:
        return report(args)
    print('# shadow_linux: measured %s at commit %s%s' % (time.strftime('%Y-%m-%d'), git_commit(),
                                                         ' under -icount shift=0' if args.icount else ''))
    for mode in args.modes.split(','):
        print('# %s%s ...' % (mode, ' under -icount shift=0' if args.icount else ''), file=sys.stderr)
        r = one(args.build, mode, args.icount, args.timeout)
        for key, name in (('boot_ms', 'boot_ms'), ('procs_ms', 'procs200_ms')):
            if key in r:
                print('BENCH name=linux_%s_%s value=%.0f unit=ms' % (mode, name, r[key]))
        for key, name in (('boot_guest_s', 'boot'), ('procs_guest_s', 'procs200')):
            if r.get(key) is None:
                continue
            if args.icount:   # a nanosecond of the guest's clock is one instruction
                print('BENCH name=linux_%s_%s_insns value=%.0f unit=insns' % (mode, name, r[key] * 1e9))
            else:
                print('BENCH name=linux_%s_%s_guest_ms value=%.0f unit=ms' % (mode, name, r[key] * 1000))
        sys.stdout.flush()


if __name__ == '__main__':
    sys.exit(main())
