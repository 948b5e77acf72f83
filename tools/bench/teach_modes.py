#!/usr/bin/env python3
"""The teaching guest under every mode, side by side (issue 15; `make
modes`, `make bench`; docs/teaching.md, "The modes side by side").

    tools/bench/teach_modes.py [--build DIR] [--modes svm,shadow,trap,patch,pv]
                               [--out FILE] [--png FILE] [--docs FILE]

Boots Berth once under QEMU with -icount shift=0 (tools/qemu.sh --test,
tools/bench/teach_modes.manifest: the console driver, the shell and the
VM `teach`; with `module teach_pv.bin` added when that image was built)
and types `vm start teach mode=M` into Berth's shell for each mode in
turn, waiting for the guest's exit each time. From what the console shows
it takes, per mode:

- host seconds from `vm start` to the VMM's "guest exited" line (host wall
  time: it depends on the host and its load; the rest does not);
- per phase, the guest's own report: operations, and TSC cycles per
  operation. Under -icount shift=0 the TSC advances by one per instruction
  QEMU executes, whoever executes it, so this is instructions per operation
  of the whole machine while the phase ran: the guest's, the VMM's, the
  kernel's, and the console driver's and the shell's for what is printed
  (the column "whole-machine instructions per operation");
- per phase, the guest's own instructions in one operation: the guest
  single-steps one call of each phase's operation with RFLAGS.TF before
  the phases start and counts the #DB traps in its own handler (the VMMs
  of trap, patch and pv reflect #DB to it, and owe it one after each
  instruction they emulate), so only instructions the guest executed, or
  would have on a machine of its own, are counted (guests/teach/main.c);
- per phase, the mode's own events per 1000 operations: the guest marks
  each phase's start and end (port 0x519; pv: PV_HC_MARK), the VMM notes
  its count at each mark and prints the marks when the VM ends (`vmm:
  [teach] mark N: ... exits=E`): VM exits under svm and shadow, faults
  under trap and patch, hypercalls under pv. The count between a phase's
  two marks includes one event of the marks themselves (docs/teaching.md);
- whether each phase's invariant held.

A mode the shell or the VMM does not know (pv before it was merged) is
shown as "not available". Prints the table (Markdown) on stdout, progress on
stderr; --out writes it to a file too, --png draws the chart with gnuplot,
--docs replaces the table between <!-- teach-modes:begin --> and
<!-- teach-modes:end --> in that file. The serial log goes to
BUILD/bench/teach-modes.log. Exits 1 when Berth did not come up or a mode
the VMM knows did not finish.
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in tools/
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
import linux_guest_test as lg  # noqa: E402  (tools/linux_guest_test.py: Qemu)

MODES = ('svm', 'shadow', 'trap', 'patch', 'pv')
MANIFEST = os.path.join('tools', 'bench', 'teach_modes.manifest')
PHASE_NAMES = {1: 'cli/sti', 2: 'irqsave'}
RUN_TIMEOUT = 600     # host seconds for one mode's run (trap under load: a few minutes)
BEGIN, END = '<!-- teach-modes:begin -->', '<!-- teach-modes:end -->'

REPORT_RE = r'\[teach\] teach: phase (\d) \([^)]*\): (\d+) operations in (\d+) ticks, (\d+) TSC cycles per operation'
VERDICT_RE = r'\[teach\] teach: phase (\d) \([^)]*\): invariant (held|BROKEN)'
GUEST_RE = r'\[teach\] teach: phase (\d) \([^)]*\): (\d+) guest instructions per operation'
# the VMM's marks, printed when the VM ends: the mode's count at each
MARK_RE = r'vmm: \[teach\] mark (\d+): .* (exits|faults|hypercalls)=(\d+)'
EXITED_RE = r'vmm: (?:\[teach\] )?guest exited with status (\d+)'
# the mode unknown: the shell's refusal (`vm start: mode= is svm, ... not
# 'pv'`) or the VMM's; and any other failure to start
UNKNOWN_RE = r"^(?:berth> )*vm start: mode= is .*$|^vmm: \[teach\] unknown mode=.*$"
REFUSED_RE = r"^(?:berth> )*vm start: .*$|^vmm: \[teach\] unknown mode=.*$"
# init's word on the VMM's end: "exited with status N; ...", "faulted (...); ..."
ENDED_RE = r"init: 'vm-teach' .*; its restart policy"


def log(text):
    print(text, file=sys.stderr, flush=True)


def manifest_for(build, with_pv):
    """The manifest to boot: tools/bench/teach_modes.manifest, with the pv
    image as a second module of the VM when it was built."""
    with open(os.path.join(lg.ROOT, MANIFEST)) as f:
        text = f.read()
    if not with_pv:
        return MANIFEST
    text = text.replace('    module teach.bin\n', '    module teach.bin\n    module teach_pv.bin\n')
    path = os.path.join(build, 'bench', 'teach_modes.manifest')
    with open(os.path.join(lg.ROOT, path), 'w') as f:
        f.write(text)
    return path


def boot(build, log_path):
    """Berth under -icount shift=0 with the teaching guest's VM; the Qemu
    object and whether the pv image is in it."""
    teach = os.path.join(build, 'guests', 'teach')
    pv = os.path.exists(os.path.join(lg.ROOT, teach, 'teach_pv.bin'))
    mods = [os.path.join(build, 'init.elf'), manifest_for(build, pv), os.path.join(build, 'serial.elf'),
            os.path.join(build, 'shell.elf'), os.path.join(build, 'vmm.elf'), os.path.join(teach, 'teach.bin')]
    if pv:
        mods.append(os.path.join(teach, 'teach_pv.bin'))
    env = dict(os.environ, KERNEL_CMDLINE='', QEMU_EXTRA='-icount shift=0')
    return lg.Qemu(['tools/qemu.sh', '--test', os.path.join(build, 'kernel.bin')] + mods, log_path, env), pv


def wait_any(q, patterns, start, timeout):
    """(index, match) of the first of patterns to appear after start, or
    (None, None) after timeout or when QEMU ended."""
    rxs = [re.compile(p, re.MULTILINE) for p in patterns]
    deadline = time.time() + timeout
    while True:
        text = q.text()
        hits = [(m.start(), i, m) for i, rx in enumerate(rxs) for m in [rx.search(text, start)] if m]
        if hits:
            _, i, m = min(hits, key=lambda h: h[0])
            return i, m
        if time.time() >= deadline or not q.alive():
            return None, None
        time.sleep(0.02)


def run_mode(q, mode):
    """One `vm start teach mode=MODE` to the VM's end: a dict of what the
    console showed (see parse_run), or {'available': False}."""
    start = len(q.text())
    q.type('vm start teach mode=%s\r' % mode)
    t0 = time.time()
    i, m = wait_any(q, [REFUSED_RE, r"init: starting 'vm-teach'"], start, 60)
    if i != 1:
        why = m.group(0).strip() if m else 'no answer to vm start'
        log('# %s: %s' % (mode, why))
        return {'available': False, 'why': why, 'failed': not (m and re.match(UNKNOWN_RE, m.group(0)))}
    i, m = wait_any(q, [EXITED_RE, ENDED_RE, REFUSED_RE], start, RUN_TIMEOUT)
    wall = time.time() - t0 if i == 0 else None
    wait_any(q, [ENDED_RE], start, 30)       # the VMM's end-of-run lines come before
    time.sleep(0.5)                          # the shell's prompt, for the next mode
    run = parse_run(q.text()[start:])
    run.update(available=True, wall=wall, status=int(m.group(1)) if i == 0 else None)
    if 'why' in run:
        run['available'] = False
    return run


def parse_run(text):
    """The figures of one mode's run from its console text: phases
    {n: {ops, ticks, tsc_per_op, guest_per_op, events, held}} and what the
    events are (exits, faults, hypercalls)."""
    run = {'phases': {}, 'what': None}
    refused = re.search(REFUSED_RE, text, re.MULTILINE)
    if refused and not re.search(REPORT_RE, text):
        run['why'] = refused.group(0).strip()
        run['failed'] = not re.search(UNKNOWN_RE, text, re.MULTILINE)
    for m in re.finditer(REPORT_RE, text):
        run['phases'][int(m.group(1))] = {'ops': int(m.group(2)), 'ticks': int(m.group(3)),
                                          'tsc_per_op': int(m.group(4)), 'guest_per_op': None,
                                          'events': None, 'held': None}
    for m in re.finditer(VERDICT_RE, text):
        if int(m.group(1)) in run['phases']:
            run['phases'][int(m.group(1))]['held'] = m.group(2) == 'held'
    for m in re.finditer(GUEST_RE, text):
        if int(m.group(1)) in run['phases']:
            run['phases'][int(m.group(1))]['guest_per_op'] = int(m.group(2))
    marks = {}
    for m in re.finditer(MARK_RE, text):
        marks[int(m.group(1))] = int(m.group(3))
        run['what'] = m.group(2)
    # phase n lies between marks 2n-1 and 2n (guests/teach/main.c)
    for n, p in run['phases'].items():
        if 2 * n - 1 in marks and 2 * n in marks:
            p['events'] = marks[2 * n] - marks[2 * n - 1]
    return run


def per_1000(count, ops):
    return None if count is None or not ops else 1000.0 * count / ops


def figures(run):
    """Rows of one mode: (phase label, operations, guest instructions per
    operation, whole-machine instructions per operation, events per 1000
    operations, invariant held) for phases 1 and 2, and a note saying what
    the events are."""
    rows = []
    for n in (1, 2):
        p = run['phases'].get(n, {})
        rows.append(('%d %s' % (n, PHASE_NAMES[n]), p.get('ops'), p.get('guest_per_op'), p.get('tsc_per_op'),
                     per_1000(p.get('events'), p.get('ops')), p.get('held')))
    what = {'exits': 'VM exits', 'faults': 'faults', 'hypercalls': 'hypercalls'}.get(run.get('what'))
    return rows, ('%s between the phase\'s marks' % what) if what else 'no marks'


def fmt(value, digits=0):
    if value is None:
        return '-'
    if isinstance(value, bool):
        return 'held' if value else '**BROKEN**'
    if digits == 0:
        return '{:,}'.format(int(round(value)))
    return '{:,.{}f}'.format(value, digits)


def table(results, stamp):
    """The Markdown table of every mode's rows."""
    out = [stamp, '',
           '| mode | host s | phase | operations | guest instructions per operation | '
           'whole-machine instructions per operation | exits, faults or hypercalls per 1000 operations | '
           'invariant | counted |',
           '| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | --- |']
    for mode, run in results:
        if not run.get('available'):
            out.append('| %s | - | %s | | | | | | %s |' % (mode, 'FAILED' if run.get('failed') else 'not available',
                                                        run.get('why', '').replace('|', '/')))
            continue
        rows, note = figures(run)
        for k, (label, ops, guest, machine, epk, held) in enumerate(rows):
            out.append('| %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                mode if k == 0 else '', fmt(run['wall'], 1) if k == 0 else '', label, fmt(ops),
                fmt(guest) if guest is not None else 'not counted', fmt(machine), fmt(epk, 1), fmt(held),
                note if k == 0 else ''))
    return '\n'.join(out) + '\n'


def stamp():
    """The date and the commit the figures were measured at."""
    def git(*args):
        try:
            return subprocess.run(['git'] + list(args), cwd=lg.ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return ''
    commit = git('rev-parse', '--short', 'HEAD') or 'unknown'
    dirty = ' with uncommitted changes' if git('status', '--porcelain', '--untracked-files=no') else ''
    return ('Measured %s at commit %s%s by tools/bench/teach_modes.py (QEMU TCG, -icount shift=0).'
            % (time.strftime('%Y-%m-%d'), commit, dirty))


# the chart's series: (data column, title, colour, panel)
SERIES = ((2, 'guest, phase 1 (cli/sti)', 1, 0), (4, 'whole machine, phase 1', 3, 0),
          (3, 'guest, phase 2 (irqsave)', 2, 0), (5, 'whole machine, phase 2', 4, 0),
          (6, 'phase 1 (cli/sti)', 1, 1), (7, 'phase 2 (irqsave)', 2, 1))


def plot(results, png, workdir, when):
    """A grouped bar chart with gnuplot, per mode: instructions per
    operation, the guest's own and the whole machine's (phases 1 and 2),
    and the mode's exits, faults or hypercalls per 1000 operations (phases
    1 and 2; log scale).  A series with no figure at all is left
    out (gnuplot refuses it)."""
    dat = os.path.join(workdir, 'teach_modes.dat')
    lines, present, top = [], set(), 1000
    for mode, run in results:
        if not run.get('available'):
            why = 'failed' if run.get('failed') else 'not available'
            lines.append('"%s\\n(%s)" NaN NaN NaN NaN NaN NaN' % (mode, why))
            continue
        rows, _ = figures(run)
        vals = [rows[0][2], rows[1][2], rows[0][3], rows[1][3], rows[0][4], rows[1][4]]
        present |= {col for col, v in zip(range(2, 8), vals) if v}
        top = max([top] + [v for v in vals[:4] if v])   # room above the bars for the key
        label = '%s\\n(%s)' % (mode, {'exits': 'VM exits', 'faults': 'faults',
                                       'hypercalls': 'hypercalls'}.get(run.get('what'), 'no marks'))
        lines.append('"%s" %s' % (label, ' '.join('%g' % v if v else 'NaN' for v in vals)))
    with open(dat, 'w') as f:
        f.write('# mode guest_insns_phase1 guest_insns_phase2 machine_insns_phase1 machine_insns_phase2 '
                'events_per_1000_ops_phase1 events_per_1000_ops_phase2\n')
        f.write('\n'.join(lines) + '\n')
    plots = []
    for panel in (0, 1):
        series = [s for s in SERIES if s[3] == panel and s[0] in present]
        plots.append(', '.join('"%s" using %d%s title "%s" lc %d' % (dat, col, ':xtic(1)' if k == 0 else '',
                                                                      title, colour)
                               for k, (col, title, colour, _) in enumerate(series)) or '1/0 notitle')
    script = '''
set terminal png size 1200,600
set output "%s"
set multiplot layout 1,2 title "The teaching guest under each mode (QEMU TCG, -icount shift=0; %s)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set grid ytics
set key top left Left reverse
set bmargin 5
set title "instructions per operation: the guest's own and the whole machine's"
set yrange [0:%g]
set format y "%%.0f"
plot %s
set title "exits, faults or hypercalls per 1000 operations (log scale)"
set logscale y
set yrange [1:100000]
set format y "%%g"
plot %s
unset multiplot
''' % (png, when, 1.4 * top, plots[0], plots[1])
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    subprocess.run(['gnuplot'], input=script, text=True, check=True)


def update_docs(path, text):
    """Replaces what lies between the markers in path with text."""
    with open(path) as f:
        doc = f.read()
    b, e = doc.find(BEGIN), doc.find(END)
    if b < 0 or e < b:
        raise SystemExit('teach_modes: %s has no %s ... %s markers' % (path, BEGIN, END))
    with open(path, 'w') as f:
        f.write(doc[:b + len(BEGIN)] + '\n' + text + doc[e:])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--modes', default=','.join(MODES))
    ap.add_argument('--out', help='write the table here too')
    ap.add_argument('--png', help='draw the chart here (gnuplot)')
    ap.add_argument('--docs', help='replace the table between the markers in this file')
    args = ap.parse_args()
    os.chdir(lg.ROOT)
    os.makedirs(os.path.join(args.build, 'bench'), exist_ok=True)
    log_path = os.path.join(lg.ROOT, args.build, 'bench', 'teach-modes.log')
    q, pv = boot(args.build, log_path)
    log('teach_modes: Berth under QEMU -icount shift=0%s; log %s' %
        (' (with teach_pv.bin)' if pv else '', os.path.relpath(log_path, lg.ROOT)))
    results, failed = [], False
    try:
        if not q.wait_for(r'berth> ', 120):
            log('teach_modes: no shell prompt\n' + '\n'.join(lg.tail(q, 20)))
            return 1
        for mode in args.modes.split(','):
            log('teach_modes: vm start teach mode=%s ...' % mode)
            run = run_mode(q, mode)
            if run.get('failed') or run.get('available') and (run['wall'] is None or len(run['phases']) < 2):
                log('teach_modes: mode=%s did not finish\n%s' % (mode, '\n'.join(lg.tail(q, 20))))
                failed = True
            results.append((mode, run))
    finally:
        q.stop()
    measured = stamp()
    text = table(results, measured)
    print(text, end='')
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
    if args.png:
        when = re.search(r'Measured (\S+ at commit \S+)', measured).group(1)
        plot(results, args.png, os.path.join(args.build, 'bench'), when)
        log('teach_modes: chart %s' % args.png)
    if args.docs and not failed:
        update_docs(args.docs, text)
        log('teach_modes: table in %s' % args.docs)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
