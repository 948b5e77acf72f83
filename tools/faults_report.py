#!/usr/bin/env python3
"""The fault-injection campaign's figures (docs/reliability.md, "Fault
injection"): reads the result lines of tests/system/faultinj.c from its
logs (build/faults.log by default; --log again for each, as for the Linux
VMM's boot of its own, build/faults-linux.log; --dir for the chunks of
tools/faults_long.sh), sums each target's figures over the logs (the
median over every recovery time the logs give), prints the table,
replaces the one between the markers in docs/reliability.md (--docs) and
draws the chart with gnuplot (--png): failures per target, by who
noticed them.

    tools/faults_report.py [--log LOG]... [--dir DIR] [--docs docs/reliability.md] [--png docs/figures/faults.png]
"""
import argparse, glob, os, re, subprocess, sys

BEGIN = '<!-- faults-table: tools/faults_report.py writes this table -->'
END = '<!-- /faults-table -->'


def parse(path):
    results, kinds, seed, count, secs = [], {}, '?', '?', '?'
    leaks, tcp = [], []
    partial, times = {}, {}
    first = 0
    with open(path, errors='replace') as f:
        for line in f:
            line = line.strip()   # tools/faults.sh left each line as it was written
            # a guest's prompt, written without a line break, may come first
            at = line.find('faults: ')
            line = line[at:] if at > 0 else line
            m = re.match(r'faults: seed (\d+), (\d+) injections per target(?:, only [^,\s]+)?(?:, from (\d+))?', line)
            if m:
                seed, count, first = m.group(1), m.group(2), int(m.group(3) or 0)
            m = re.match(r'faults: (\S+) \d+ \S+: recovered in (\d+) ms', line)
            if m:
                times.setdefault(m.group(1), []).append(int(m.group(2)))
            m = re.match(r'faults: done in (\d+) s', line)
            if m:
                secs = m.group(1)
            m = re.match(r'faults: (\S+) (\d+) (\S+): (injecting|failed, noticed by (\w+))', line)
            if m:
                p = partial.setdefault(m.group(1), {'last': 0, 'failures': 0, 'fault': 0, 'heartbeat': 0,
                                                    'exit': 0, 'client': 0})
                p['last'] = max(p['last'], int(m.group(2)))
                if m.group(5):
                    p['failures'] += 1
                    p[m.group(5)] += 1
            m = re.match(r'faults: tcp (\S+)((?: \S+=\d+)+)$', line)
            if m:
                tcp.append((m.group(1), {k: int(v) for k, v in (kv.split('=') for kv in m.group(2).split())}))
            m = re.match(r'faults: exhaust-mem (\S+)((?: \S+=\d+)+)$', line)
            if m:
                lk = {k: int(v) for k, v in (kv.split('=') for kv in m.group(2).split())}
                # logs before quota_checked was printed compared after every failure
                # of this kind, or did not say which they skipped: all are counted
                lk.setdefault('quota_checked', lk['failed'])
                leaks.append((m.group(1), lk))
            m = re.match(r'faults: (result|kinds) (\S+)((?: \S+=\d+)+)', line)
            if m:
                fields = dict(kv.split('=') for kv in m.group(3).split())
                fields = {k: int(v) for k, v in fields.items()}
                if m.group(1) == 'result':
                    results.append((m.group(2), fields))
                else:
                    kinds[m.group(2)] = fields
    # a target the run stopped in (a failure, a stall): what its lines say
    done = {name for name, _ in results}
    stopped = [(name, p) for name, p in partial.items() if name not in done]
    if count != '?':
        count = str(int(count) - first)
    for name, r in results:
        # a log written before faultinj.c printed each time has none
        t = times.get(name, [])
        r['times'] = t if len(t) == r['recovered'] else None
    return results, kinds, seed, count, secs, stopped, leaks, tcp


def median(xs):
    xs = sorted(xs)
    return xs[(len(xs) - 1) // 2] if xs else 0


def merge(pairs):
    """(name, figures) of one target or more, in order, each target once:
    the sums of its logs' figures, the worst of their worst, and the median
    of every recovery time they give (a log without them, written before
    faultinj.c printed each: its own median, when it is the only one)."""
    out, order = {}, []
    for name, r in pairs:
        if name not in out:
            out[name] = dict(r)
            order.append(name)
            continue
        m = out[name]
        for k, v in r.items():
            if k == 'worst_ms':
                m[k] = max(m[k], v)
            elif k == 'times':
                m[k] = m[k] + v if m[k] is not None and v is not None else None
            elif k == 'median_ms':
                m[k] = None   # from the times below, if every log gave them
            else:
                m[k] = m.get(k, 0) + v
    for name in order:
        m = out[name]
        if m.get('times') is not None:
            m['median_ms'] = median(m['times'])
        elif 'median_ms' in m and m['median_ms'] is None:
            m['median_ms'] = -1   # logs without their times: no median to give
    return [(name, out[name]) for name in order]


def leak_table(leaks):
    """The memory-exhaustion injections (kind exhaust-mem), per target."""
    out = ['| target | made it allocate until refused | out of slots first | then it stopped | crashed | '
           'carried on | carried on and failed | carried on and served (restarted by the campaign) | '
           'failures of this kind | init\'s free memory back after the restart (of those whose code ran) |',
           '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
    for name, r in leaks:
        out.append('| `%s` | %d | %d | %d | %d | %d | %d | %d | %d | %d of %d |' % (
            name, r['injections'], r['slots_first'], r['stops'], r['crashes'], r['carries_on'],
            r['carried_on_failed'], r.get('carried_on_served', 0), r['failed'], r['quota_back'],
            r['quota_checked']))
    return '\n'.join(out)


def table(results, kinds, runs, stopped, leaks=(), tcp=()):
    """runs: (seed, count, secs, log, boots) of each run the results came from."""
    out = ['| target | injections | failures caused | by fault | by heartbeat | by exit | by a client | '
           'recovered | recovery median (ms) | worst (ms) | kernel crashes | others restarted | '
           'dependents restarted | fsync\'d data lost | exhaustions unnoticed (restarted by the campaign) | '
           'failures by kind |',
           '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |']
    total = {}
    for name, r in results:
        k = kinds.get(name, {})
        by_kind = ', '.join('%s %d' % (n, v) for n, v in k.items() if v) or '–'
        r.setdefault('latent', 0)
        out.append('| `%s` | %d | %d | %d | %d | %d | %d | %d | %s | %d | 0 | %d | %d | %d | %d | %s |' % (
            name, r['injections'], r['failures'], r['fault'], r['heartbeat'], r['exit'], r['client'],
            r['recovered'], r['median_ms'] if r['median_ms'] >= 0 else '?', r['worst_ms'], r['others'],
            r['dependents'], r['lost'], r['latent'], by_kind))
        for key in ('injections', 'failures', 'fault', 'heartbeat', 'exit', 'client', 'recovered', 'others',
                    'dependents', 'lost', 'latent'):
            total[key] = total.get(key, 0) + r[key]
    if results:
        out.append('| **all** | **%d** | **%d** | %d | %d | %d | %d | **%d** | | | **0** | **%d** | %d | **%d** | %d | |' % (
            total['injections'], total['failures'], total['fault'], total['heartbeat'], total['exit'],
            total['client'], total['recovered'], total['others'], total['dependents'], total['lost'],
            total['latent']))
    for name, p in stopped:
        out.append('| `%s` (**the run stopped here**) | %d+ | %d | %d | %d | %d | %d | ? | ? | ? | ? | ? | ? | ? | ? | |' % (
            name, p['last'] + 1, p['failures'], p['fault'], p['heartbeat'], p['exit'], p['client']))
    out.append('')
    for seed, count, secs, log, boots in runs:
        out.append('Seed %s, %s injections per target, %s s of the campaign (the guest\'s clock)%s%s.' % (
            seed, count, secs, '' if boots == 1 else ' in %d boots' % boots,
            '' if len(runs) == 1 else ' (`%s`)' % log))
    for name, r in tcp:
        stale = r.get('stale_first_numbers', 0)
        closed = ' (%d of them on connections the peer had closed already)' % r['stale_on_closed'] \
            if stale and 'stale_on_closed' in r else ''
        out.append('The TCP stream through `%s`: %d records acknowledged by the host\'s peer over %d connections; '
                   '%d first numbers came stale%s (not counted as losses: the peer\'s own check is the verdict).' % (
                       name, r['records_acknowledged'], r['connections'], stale, closed))
    if leaks:
        out.append('')
        out.append('Memory exhaustion (`exhaust-mem`), of the injections above:')
        out.append('')
        out.append(leak_table(leaks))
    return '\n'.join(out)


def chart(results, png):
    data = '\n'.join('%s %d %d %d %d' % (n, r['fault'], r['heartbeat'], r['exit'], r['client'])
                     for n, r in results)
    script = '''set terminal pngcairo size 900,480 noenhanced
set output '%s'
set title 'Failures caused by fault injection, by who noticed them'
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.7
set ylabel 'failures'
set key outside right
set xtics rotate by -30
$d << EOD
%s
EOD
plot $d using 2:xtic(1) title 'fault message', '' using 3 title 'heartbeat', '' using 4 title 'exit', '' using 5 title 'client'
''' % (png, data)
    try:
        subprocess.run(['gnuplot'], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print('faults_report: no chart (%s)' % e, file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--log', action='append', help='a campaign\'s log (again for another boot\'s: '
                    'tools/faults.sh linux); default build/faults.log')
    ap.add_argument('--dir', action='append', default=[], help='the chunks of a long run '
                    '(tools/faults_long.sh): every finished chunk\'s log in it')
    ap.add_argument('--docs')
    ap.add_argument('--png')
    a = ap.parse_args()
    logs = list(a.log or [])
    chunked = {}   # a long run's directory: its chunks' logs, which ended well
    for d in a.dir:
        # the servers' boot first, as a run of both makes them
        done = [log for log in sorted(glob.glob(os.path.join(d, '*.log')),
                                      key=lambda l: (os.path.basename(l).startswith('linux'), l))
                if os.path.exists(log + '.out') and 'faults: no failure' in open(log + '.out', errors='replace').read()]
        if not done:
            print('faults_report: no finished chunk in %s' % d, file=sys.stderr)
            return 1
        for log in done:
            chunked[log] = d
        logs += done
    if not logs:
        logs = ['build/faults.log']
    results, kinds, runs, stopped, leaks, tcp = [], [], {}, [], [], []
    for log in logs:
        r, k, seed, count, secs, st, lk, tc = parse(log)
        if not r and not st:
            print('faults_report: no result lines in %s' % log, file=sys.stderr)
            return 1
        results += r
        kinds += list(k.items())
        # a long run's chunks are one run: seed, injections and seconds summed
        key = (chunked[log], os.path.basename(log).split('-')[0]) if log in chunked else log
        if key in runs:
            s0, c0, t0, l0, n0 = runs[key]
            runs[key] = (s0, str(int(c0) + int(count)), str(int(t0) + int(secs)) if '?' not in (t0, secs) else '?',
                         l0, n0 + 1)
        else:
            runs[key] = (seed, count, secs, os.path.join(*key) + '-*.log' if log in chunked else log, 1)
        stopped += st
        leaks += lk
        tcp += tc
    results = merge(results)
    kinds = dict(merge(kinds))
    t = table(results, kinds, list(runs.values()), stopped, merge(leaks), merge(tcp))
    print(t)
    if a.docs:
        text = open(a.docs).read()
        if BEGIN not in text or END not in text:
            print('faults_report: no markers in %s' % a.docs, file=sys.stderr)
            return 1
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        open(a.docs, 'w').write(head + BEGIN + '\n' + t + '\n' + END + tail)
    if a.png:
        chart(results, a.png)
    return 0


if __name__ == '__main__':
    sys.exit(main())
