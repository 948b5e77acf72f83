#!/usr/bin/env python3
"""The fault-injection campaign's figures (docs/reliability.md, "Fault
injection"): reads the result lines of tests/system/faultinj.c from its
logs (build/faults.log by default; --log again for each, as for the Linux
VMM's boot of its own, build/faults-linux.log), prints the table, replaces the one between
the markers in docs/reliability.md (--docs) and draws the chart with
gnuplot (--png): failures per target, by who noticed them.

    tools/faults_report.py [--log LOG]... [--docs docs/reliability.md] [--png docs/figures/faults.png]
"""
import argparse, re, subprocess, sys

BEGIN = '<!-- faults-table: tools/faults_report.py writes this table -->'
END = '<!-- /faults-table -->'


def parse(path):
    results, kinds, seed, count, secs = [], {}, '?', '?', '?'
    leaks, tcp = [], []
    partial = {}
    with open(path, errors='replace') as f:
        for line in f:
            line = line.strip()   # tools/faults.sh left each line as it was written
            m = re.match(r'faults: seed (\d+), (\d+) injections', line)
            if m:
                seed, count = m.group(1), m.group(2)
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
                leaks.append((m.group(1), {k: int(v) for k, v in (kv.split('=') for kv in m.group(2).split())}))
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
    return results, kinds, seed, count, secs, stopped, leaks, tcp


def leak_table(leaks):
    """The memory-exhaustion injections (kind exhaust-mem), per target."""
    out = ['| target | made it allocate until refused | out of slots first | then it stopped | crashed | '
           'carried on | carried on and failed | carried on and served (restarted by the campaign) | '
           'failures of this kind | init\'s free memory back after the restart |',
           '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
    for name, r in leaks:
        out.append('| `%s` | %d | %d | %d | %d | %d | %d | %d | %d | %d of %d |' % (
            name, r['injections'], r['slots_first'], r['stops'], r['crashes'], r['carries_on'],
            r['carried_on_failed'], r.get('carried_on_served', 0), r['failed'], r['quota_back'], r['failed']))
    return '\n'.join(out)


def table(results, kinds, runs, stopped, leaks=(), tcp=()):
    """runs: (seed, count, secs, log) of each log the results came from."""
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
        out.append('| `%s` | %d | %d | %d | %d | %d | %d | %d | %d | %d | 0 | %d | %d | %d | %d | %s |' % (
            name, r['injections'], r['failures'], r['fault'], r['heartbeat'], r['exit'], r['client'],
            r['recovered'], r['median_ms'], r['worst_ms'], r['others'], r['dependents'], r['lost'], r['latent'],
            by_kind))
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
    for seed, count, secs, log in runs:
        out.append('Seed %s, %s injections per target, %s s of the campaign (the guest\'s clock)%s.' % (
            seed, count, secs, '' if len(runs) == 1 else ' (`%s`)' % log))
    for name, r in tcp:
        out.append('The TCP stream through `%s`: %d records acknowledged by the host\'s peer over %d connections; '
                   '%d first numbers came stale (not counted as losses: the peer\'s own check is the verdict).' % (
                       name, r['records_acknowledged'], r['connections'], r.get('stale_first_numbers', 0)))
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
    ap.add_argument('--docs')
    ap.add_argument('--png')
    a = ap.parse_args()
    logs = a.log or ['build/faults.log']
    results, kinds, runs, stopped, leaks, tcp = [], {}, [], [], [], []
    for log in logs:
        r, k, seed, count, secs, st, lk, tc = parse(log)
        if not r and not st:
            print('faults_report: no result lines in %s' % log, file=sys.stderr)
            return 1
        results += r
        kinds.update(k)
        runs.append((seed, count, secs, log))
        stopped += st
        leaks += lk
        tcp += tc
    t = table(results, kinds, runs, stopped, leaks, tcp)
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
