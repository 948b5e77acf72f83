#!/usr/bin/env python3
"""Berth's test runner: runs the host unit tests and boots one QEMU per
system test, reads TAP lines from each, and prints one closing line
'N passed, M failed'.

A system test is tests/system/NAME.c, built into build/tests/system/NAME.elf
and booted as the root task.  Lines at the top of the source configure it:

  // test-cmdline: WORDS       kernel command line
  // test-root: PATH           boot PATH as the root task (init); the test's
                               own program then follows the other modules
  // test-module: PATH         an extra boot module (repeatable)
  // test-send: REGEX => TEXT  once REGEX appears in the output (after the
                               previous send's match), type TEXT on the serial
                               line; \n in TEXT is Enter, \\xHH any byte
                               (repeatable, in order)
  // test-expect: REGEX        must appear in the serial log (each one is a test)
  // test-reject: REGEX        must not appear in the serial log (each one is a
                               test; judged on the whole log, after the run)
  // test-exit: panic          QEMU must end through the kernel's panic exit
  // test-exit: none           the runner stops QEMU once every expected line
                               appeared (for runs nothing inside ends)
  // test-timeout: SECONDS     default 60
  // test-qemu: ARGS           extra QEMU arguments (repeatable); {disk:ID}
                               is the path of that test-disk's image
  // test-disk: ID SECTORS SEED  a raw disk image the runner writes before
                               the run: SECTORS of 512 bytes holding
                               pattern SEED (disk_pattern below)
  // test-disk-check: ID FIRST COUNT SEED  after QEMU ended: sectors
                               FIRST..FIRST+COUNT-1 of that image hold
                               pattern SEED (repeatable); every sector no
                               check names must still hold the image's
                               first pattern
  // test-disk-image: ID PATH  a disk image that is a copy of PATH (a file
                               the build made, e.g. by mke2fs -d)
  // test-disk-fsck: ID        after QEMU ended: the host's e2fsck -fn finds
                               that image's ext2 file system clean
  // test-disk-preen: ID        after QEMU ended: the host's e2fsck -fp
                               repairs whatever a killed server left (status
                               0 or 1, never 4: the write order held) and
                               e2fsck -fn then finds it clean
  // test-disk-debugfs: ID COMMAND => REGEX  after QEMU ended: the host's
                               debugfs -R COMMAND on that image prints
                               something REGEX matches (repeatable)
  // test-disk-file: ID PATH NEWID  after QEMU ended: the file PATH of disk
                               ID's ext2 file system, taken out by the host's
                               debugfs, is disk NEWID for the fsck and
                               debugfs lines (a guest's disk inside Berth's)
  // test-net: user [hostfwd=tcp:127.0.0.1:H-:G ...]  a virtio-net NIC (PCI
                               slot 5, line 10) on QEMU's user network with
                               restrict=on: nothing leaves the machine; the
                               host reaches in only through ports forwarded
                               on 127.0.0.1
  // test-net: dgram SCRIPT [ARGS]  a virtio-net NIC whose wire is a UDP
                               socket pair on 127.0.0.1 (-netdev dgram): each
                               frame one datagram.  SCRIPT (python) runs
                               beside QEMU with --berth-port P --host-port H
                               (QEMU's port and its own), --qmp PATH (QEMU's
                               QMP socket) and ARGS; its TAP lines count as
                               system/NAME/host
  // test-hostfwd: NAME        a free TCP port on the host's 127.0.0.1 for
                               QEMU's hostfwd; {hostfwd:NAME} in test-net,
                               test-qemu and test-host lines is its number
                               (test-net: user
                               hostfwd=tcp:127.0.0.1:{hostfwd:NAME}-:PORT)
  // test-host: REGEX => COMMAND  once REGEX appears in the output, run
                               COMMAND on the host (split on spaces;
                               {python} is this Python) while QEMU runs; it
                               must print TAP, end within 120 s and exit 0;
                               its results count as NAME/host's (repeatable)
  // test-selfcheck: N         run the kernel's self-check on every Nth kernel
                               exit (default 1: every exit); for tests whose
                               many calls on thousands of objects make every
                               exit too slow

Every QEMU run has a timeout and ends through the isa-debug-exit device; a
hang, a crash or a missing TAP line is a failed test, never a hung run.

The Linux guest's tests (--linux CASE...) are tools/linux_guest_test.py,
run once per case; its TAP lines count like the others (linux/CASE: ...).
They start first: each is one or more emulated Linux boots.
"""
import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import threading
import time

TAP_RE = re.compile(r'^(not )?ok (\d+)(?: - (.*))?$')
PLAN_RE = re.compile(r'^1\.\.(\d+)$')
# isa-debug-exit makes QEMU exit with (value << 1) | 1
EXIT_CLEAN = (0x10 << 1) | 1  # tap_done() writes 0x10; QEMU itself fails with 1
EXIT_PANIC = (0x7f << 1) | 1
# the kernel with its self-check built in (kernel/selfcheck.c)
TEST_KERNEL = 'kernel-check.bin'


class Results:
    def __init__(self):
        self.lines = []
        self.passed = 0
        self.failed = 0

    def add(self, ok, name, detail=None):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        self.lines.append(('ok' if ok else 'not ok') + ' - ' + name)
        if detail and not ok:
            self.lines.extend('#   ' + d for d in detail)


def parse_tap(text, prefix, results):
    """Adds each TAP result; returns (plan or None, numbers seen)."""
    plan, seen = None, set()
    # a line the console wrote above the shell's edited line starts with
    # its erase-line sequence (servers/drivers/serial/screen.c)
    lines = [re.sub(r'^(?:\x1b\[K)+', '', raw.strip('\r')) for raw in text.splitlines()]
    for i, line in enumerate(lines):
        m = TAP_RE.match(line)
        if m:
            num = int(m.group(2))
            seen.add(num)
            # the '# ...' lines after a result explain it
            notes = []
            for follow in lines[i + 1:]:
                if not follow.startswith('#'):
                    break
                notes.append(follow)
            results.add(m.group(1) is None, '%s: %d %s' % (prefix, num, m.group(3) or ''), notes)
            continue
        m = PLAN_RE.match(line)
        if m:
            plan = int(m.group(1))
    return plan, seen


def check_plan(plan, seen, prefix, results, why):
    if plan is None:
        results.add(False, '%s: no TAP plan printed' % prefix, why)
        return
    missing = sorted(set(range(1, plan + 1)) - seen)
    for num in missing:
        results.add(False, '%s: %d not reported' % (prefix, num), why)
    for num in sorted(n for n in seen if n > plan):
        results.add(False, '%s: %d is beyond the plan of %d' % (prefix, num, plan), why)


def tail(text, n=25):
    return text.splitlines()[-n:]


def run_unit(binary):
    results = Results()
    name = os.path.basename(binary)
    try:
        p = subprocess.run([binary], capture_output=True, text=True, timeout=120)
        out, err, code = p.stdout, p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out, err, code = (e.stdout or b'').decode(errors='replace'), '', None
    plan, seen = parse_tap(out, 'unit/' + name, results)
    why = tail(out + err) if code != 0 else None
    check_plan(plan, seen, 'unit/' + name, results, why)
    if code is None:
        results.add(False, 'unit/%s: timed out' % name, tail(out))
    elif code != 0 and results.failed == 0:
        results.add(False, 'unit/%s: exited with %d' % (name, code), why)
    return results


def directives(source, build='build'):
    """The test's directives; a path under build/ names the same file in
    BUILD (build-picolibc/ for LIBC=picolibc, the Makefile's BUILD)."""
    d = {'cmdline': '', 'root': '', 'module': [], 'send': [], 'expect': [], 'reject': [], 'exit': 'clean',
         'timeout': '60', 'guest-end': '', 'selfcheck': '1', 'qemu': [], 'disk': [], 'disk-check': [],
         'disk-image': [], 'disk-fsck': [], 'disk-preen': [], 'disk-debugfs': [], 'disk-file': [], 'net': '',
         'hostfwd': [], 'host': []}
    with open(source) as f:
        for line in f:
            m = re.match(r'^//\s*test-([\w-]+):\s*(.*?)\s*$', line)
            if not m:
                continue
            key, value = m.group(1), m.group(2)
            value = re.sub(r'(?<![\w./-])build/', build.rstrip('/') + '/', value)
            if isinstance(d.get(key), list):
                d[key].append(value)
            elif key in d:
                d[key] = value
            else:
                raise SystemExit('%s: unknown directive test-%s' % (source, key))
    d['cmdline'] = ('%s selfcheck=%s' % (d['cmdline'], d['selfcheck'])).strip()
    return d


def typed(text):
    """A test-send's TEXT as the bytes to type: \\n is Enter, \\xHH a byte."""
    text = text.replace('\\n', '\r')
    return re.sub(r'\\x([0-9a-fA-F]{2})', lambda m: chr(int(m.group(1), 16)), text)


MASK64 = (1 << 64) - 1


def pattern_word(seed, index):
    """The 64-bit word at byte offset 8 * index of a test disk holding
    pattern seed: splitmix64 of (seed << 40) ^ index.  tests/system/lib/
    disk_pattern.h computes the same inside Berth."""
    z = (((seed << 40) ^ index) + 0x9e3779b97f4a7c15) & MASK64
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK64
    return z ^ (z >> 31)


def disk_pattern(seed, first_sector, count):
    words = [pattern_word(seed, first_sector * 64 + i) for i in range(count * 64)]
    return b''.join(w.to_bytes(8, 'little') for w in words)


def make_disks(d, name, build):
    """Writes the test's disk images; returns {ID: (path, sectors, seed)}."""
    disks = {}
    for spec in d['disk']:
        ident, sectors, seed = spec.split()
        path = os.path.join(build, 'test-disks', '%s-%s.img' % (name, ident))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb') as f:
            f.write(disk_pattern(int(seed, 0), 0, int(sectors, 0)))
        disks[ident] = (path, int(sectors, 0), int(seed, 0))
    for spec in d['disk-image']:
        ident, source = spec.split()
        path = os.path.join(build, 'test-disks', '%s-%s.img' % (name, ident))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(source, path)
        disks[ident] = (path, os.path.getsize(path) // 512, None)
    return disks


def check_file_systems(d, disks, prefix, results):
    """The test-disk-file, test-disk-fsck and test-disk-debugfs lines: the
    host's e2fsprogs judge what Berth left on the disk."""
    for spec in d['disk-file']:
        ident, path, new = spec.split()
        out = '%s-%s.img' % (disks[ident][0][:-len('.img')], new)
        if os.path.exists(out):
            os.unlink(out)
        p = subprocess.run(['/sbin/debugfs', '-R', 'dump %s %s' % (path, out), disks[ident][0]],
                           capture_output=True, text=True)
        taken = os.path.exists(out) and os.path.getsize(out) > 0
        results.add(taken, '%s: disk %s: debugfs takes out %s as disk %s' % (prefix, ident, path, new),
                    (p.stdout + p.stderr).strip().split('\n')[-12:])
        if taken:
            disks[new] = (out, os.path.getsize(out) // 512, None)
    for ident in d['disk-fsck'] + d['disk-preen'] + [spec.split()[0] for spec in d['disk-debugfs']]:
        if ident not in disks:
            results.add(False, '%s: disk %s: not there to check' % (prefix, ident))
            return
    for ident in d['disk-fsck']:
        p = subprocess.run(['/sbin/e2fsck', '-fn', disks[ident][0]], capture_output=True, text=True)
        results.add(p.returncode == 0, '%s: disk %s: e2fsck -fn finds the file system clean (status %d)'
                    % (prefix, ident, p.returncode), (p.stdout + p.stderr).strip().split('\n')[-12:])
    for ident in d['disk-preen']:
        path = disks[ident][0]
        p = subprocess.run(['/sbin/e2fsck', '-fp', path], capture_output=True, text=True)
        q = subprocess.run(['/sbin/e2fsck', '-fn', path], capture_output=True, text=True)
        results.add(p.returncode <= 1 and q.returncode == 0,
                    '%s: disk %s: e2fsck -fp repairs it unattended (status %d), then e2fsck -fn finds it clean '
                    '(status %d)' % (prefix, ident, p.returncode, q.returncode),
                    (p.stdout + p.stderr + q.stdout).strip().split('\n')[-12:])
    for spec in d['disk-debugfs']:
        head, _, pattern = spec.partition(' => ')
        ident, _, command = head.partition(' ')
        p = subprocess.run(['/sbin/debugfs', '-R', command, disks[ident][0]], capture_output=True, text=True)
        results.add(re.search(pattern, p.stdout, re.MULTILINE) is not None,
                    '%s: disk %s: debugfs -R "%s" matches /%s/' % (prefix, ident, command, pattern),
                    p.stdout.strip().split('\n')[-12:])


def check_disks(d, disks, prefix, results):
    """The test-disk-check lines, against the images QEMU left."""
    checked = {}
    for spec in d['disk-check']:
        ident, first, count, seed = spec.split()
        first, count, seed = int(first, 0), int(count, 0), int(seed, 0)
        path = disks[ident][0]
        with open(path, 'rb') as f:
            f.seek(first * 512)
            data = f.read(count * 512)
        results.add(data == disk_pattern(seed, first, count),
                    '%s: disk %s sectors %d..%d hold pattern %d after the run'
                    % (prefix, ident, first, first + count - 1, seed))
        checked.setdefault(ident, []).append((first, first + count))
    for ident, ranges in checked.items():
        path, sectors, seed = disks[ident]
        with open(path, 'rb') as f:
            image = f.read()
        same = len(image) == sectors * 512
        original = disk_pattern(seed, 0, sectors)
        for s in range(sectors):
            if any(a <= s < b for a, b in ranges):
                continue
            if image[s * 512:(s + 1) * 512] != original[s * 512:(s + 1) * 512]:
                same = False
                break
        results.add(same, '%s: disk %s: every other sector is as the host wrote it' % (prefix, ident))


NIC = '-device virtio-net-pci,disable-legacy=on,netdev=n0,addr=5'
HOSTFWD_RE = re.compile(r'^hostfwd=(tcp|udp):127\.0\.0\.1:\d+-:\d+$')


def free_udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def net_setup(spec, source, qmp):
    """The test-net line: (QEMU arguments, the host script's command or None).
    A script also gets QEMU's QMP socket (--qmp PATH), e.g. to take the link
    down and up with set_link."""
    words = spec.split()
    if words and words[0] == 'user':
        for w in words[1:]:
            if not HOSTFWD_RE.match(w):
                raise SystemExit('%s: test-net: user takes only hostfwd=...:127.0.0.1:... (%s)' % (source, w))
        opts = ''.join(',' + w for w in words[1:])
        return '-netdev user,id=n0,restrict=on%s %s' % (opts, NIC), None
    if len(words) >= 2 and words[0] == 'dgram':
        berth, host = free_udp_port(), free_udp_port()
        netdev = ('-netdev dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=%d,'
                  'remote.type=inet,remote.host=127.0.0.1,remote.port=%d' % (berth, host))
        script = [sys.executable, words[1], '--berth-port', str(berth), '--host-port', str(host),
                  '--qmp', qmp] + words[2:]
        return '%s %s -qmp unix:%s,server=on,wait=off' % (netdev, NIC, qmp), script
    raise SystemExit('%s: test-net: user or dgram SCRIPT, not %r' % (source, spec))


HOST_STEP_TIMEOUT = 120


def free_tcp_port():
    """A TCP port on 127.0.0.1 nobody listens on now (for hostfwd)."""
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class HostStep:
    """A test-host command, started in a thread once its pattern appears."""
    def __init__(self, pattern, argv):
        self.pattern, self.argv = pattern, argv
        self.thread, self.out, self.code = None, '', None

    def start(self):
        def run():
            try:
                p = subprocess.run(self.argv, capture_output=True, text=True, timeout=HOST_STEP_TIMEOUT)
                self.out, self.code = p.stdout + p.stderr, p.returncode
            except subprocess.TimeoutExpired as e:
                out = e.stdout or ''
                self.out = out.decode(errors='replace') if isinstance(out, bytes) else out
                self.code = None
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def wait(self):
        if self.thread:
            self.thread.join(HOST_STEP_TIMEOUT + 10)


def tap_complete(text):
    """Whether a TAP plan in text (1..N) has all N results reported."""
    plan = re.search(r'^1\.\.(\d+)', text, re.MULTILINE)
    return not plan or len(re.findall(r'^(?:not )?ok \d+', text, re.MULTILINE)) >= int(plan.group(1))


def run_qemu(cmd, env, timeout, sends, expects, stop_when_seen, host_steps=()):
    """Runs QEMU, feeding `sends` as their patterns appear and starting
    `host_steps` as theirs do; returns (output, exit code or None on
    timeout or when stopped by us)."""
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, env=env)
    buf = bytearray()
    lock = threading.Lock()

    def reader():
        while True:
            chunk = p.stdout.read1(4096)
            if not chunk:
                return
            with lock:
                buf.extend(chunk)

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    deadline = time.time() + timeout
    pos = 0
    pending = list(sends)

    def text():
        with lock:
            return buf.decode(errors='replace')

    waiting_steps = list(host_steps)
    seen_all = 0
    while time.time() < deadline and p.poll() is None:
        out = text()
        for step in list(waiting_steps):
            if re.search(step.pattern, out, re.MULTILINE):
                waiting_steps.remove(step)
                step.start()
        if pending:
            pattern, keys = pending[0]
            m = re.search(pattern, out[pos:], re.MULTILINE)
            if m:
                pos += m.end()
                pending.pop(0)
                try:
                    p.stdin.write(keys.encode())
                    p.stdin.flush()
                except BrokenPipeError:
                    break
                continue
        elif stop_when_seen and all(re.search(e, out, re.MULTILINE) for e in expects):
            # the program's last TAP lines may come just after the last
            # expected line (a server says it is done before it answers
            # the test): give them a few seconds
            seen_all = seen_all or time.time()
            if tap_complete(out) or time.time() - seen_all > 5:
                break
        time.sleep(0.05)
    code = p.poll()
    if code is None:
        p.kill()
    p.wait()
    t.join(timeout=5)
    return text(), (None if code is None else code)


def run_system(source, build):
    results = Results()
    name = os.path.splitext(os.path.basename(source))[0]
    prefix = 'system/' + name
    d = directives(source, build)
    elf = os.path.join(build, 'tests', 'system', name + '.elf')
    kernel = os.path.join(build, TEST_KERNEL)
    if d['root']:
        modules = [d['root']] + d['module'] + [elf]
    else:
        modules = [elf] + d['module']
    cmd = ['tools/qemu.sh', '--test', kernel] + modules
    disks = make_disks(d, name, build)
    extra = ' '.join(d['qemu'])
    for ident, (path, _, _) in disks.items():
        extra = extra.replace('{disk:%s}' % ident, path)
    ports = {fwd: free_tcp_port() for fwd in d['hostfwd']}
    steps = []
    for line in d['host']:
        pattern, _, command = line.partition(' => ')
        for fwd, port in ports.items():
            command = command.replace('{hostfwd:%s}' % fwd, str(port))
        command = command.replace('{python}', sys.executable)
        steps.append(HostStep(pattern, command.split()))
    for fwd, port in ports.items():
        extra = extra.replace('{hostfwd:%s}' % fwd, str(port))
        d['net'] = d['net'].replace('{hostfwd:%s}' % fwd, str(port))
    script = None
    if d['net']:
        qmp = os.path.join(build, 'test-logs', name + '.qmp')
        os.makedirs(os.path.dirname(qmp), exist_ok=True)
        nic, script_cmd = net_setup(d['net'], source, qmp)
        extra = (extra + ' ' + nic).strip()
        if script_cmd:
            # started first: it binds its port before QEMU sends anything
            script = subprocess.Popen(script_cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    env = dict(os.environ, KERNEL_CMDLINE=d['cmdline'])
    if extra:
        env['QEMU_EXTRA'] = (env.get('QEMU_EXTRA', '') + ' ' + extra).strip()
    timeout = int(d['timeout'])
    sends = []
    for line in d['send']:
        pattern, _, keys = line.partition(' => ')
        sends.append((pattern, typed(keys)))
    out, code = run_qemu(cmd, env, timeout, sends, d['expect'], d['exit'] == 'none', steps)
    log = os.path.join(build, 'test-logs', name + '.log')
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'w') as f:
        f.write(out)
    why = tail(out) + ['(full log: %s)' % log]
    for i, step in enumerate(steps):
        step.wait()
        host_prefix = '%s/host%s' % (prefix, i + 1 if len(steps) > 1 else '')
        host_log = os.path.join(build, 'test-logs', '%s.host%d.log' % (name, i + 1))
        with open(host_log, 'w') as f:
            f.write(step.out)
        host_why = tail(step.out) + ['(host output: %s; QEMU log: %s)' % (host_log, log)]
        if not step.thread:
            results.add(False, '%s: never started (/%s/ did not appear)' % (host_prefix, step.pattern), why)
            continue
        hplan, hseen = parse_tap(step.out, host_prefix, results)
        check_plan(hplan, hseen, host_prefix, results, host_why)
        if step.code != 0:
            results.add(False, '%s: %s (%s)' % (host_prefix, 'exited with %d' % step.code if step.code is not None
                                                else 'timed out', ' '.join(step.argv)), host_why)
    if script:
        # its own deadlines end it; this only catches a stuck script
        try:
            script_out, _ = script.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            script.kill()
            script_out, _ = script.communicate()
        script_log = os.path.join(build, 'test-logs', name + '.host.log')
        with open(script_log, 'w') as f:
            f.write(script_out)
        hplan, hseen = parse_tap(script_out, prefix + '/host', results)
        check_plan(hplan, hseen, prefix + '/host', results, tail(script_out) + ['(host log: %s)' % script_log])

    plan, seen = parse_tap(out, prefix, results)
    if plan is not None or seen or d['exit'] == 'clean':
        check_plan(plan, seen, prefix, results, why)
    for pattern in d['expect']:
        results.add(re.search(pattern, out, re.MULTILINE) is not None,
                    '%s: log matches /%s/' % (prefix, pattern), why)
    for pattern in d['reject']:
        found = re.search(pattern, out, re.MULTILINE)
        results.add(found is None, '%s: log has no /%s/' % (prefix, pattern),
                    ['found: %s' % found.group(0)] if found else [])
    check_disks(d, disks, prefix, results)
    check_file_systems(d, disks, prefix, results)
    if d['exit'] == 'none':
        return results
    want = EXIT_PANIC if d['exit'] == 'panic' else EXIT_CLEAN
    if code is None:
        results.add(False, '%s: QEMU ended within %d s' % (prefix, timeout), why)
    else:
        results.add(code == want, '%s: QEMU ended through isa-debug-exit (status %d, want %d)'
                    % (prefix, code, want), why)
    return results


GUEST_MANIFEST = """# written by tools/runtests.py for the guest test %(name)s
server serial
    image serial.elf
    priority 150
    memory 16
    ioports 0x3f8 0x3ff
    irq 4
server vmm
    image vmm.elf
    priority 120
    memory 23
    slots 12
    needs console
    module %(name)s.bin
    args mem=2 input
"""


def run_guest(source, build):
    """A test guest (tests/guests/NAME.c) runs under init, the console
    driver and one VMM; it prints TAP through the emulated serial port."""
    results = Results()
    name = os.path.splitext(os.path.basename(source))[0]
    prefix = 'guest/' + name
    d = directives(source, build)
    logdir = os.path.join(build, 'test-logs')
    os.makedirs(logdir, exist_ok=True)
    manifest = os.path.join(logdir, 'guest-%s.manifest' % name)
    with open(manifest, 'w') as f:
        f.write(GUEST_MANIFEST % {'name': name})
    modules = [os.path.join(build, 'init.elf'), manifest, os.path.join(build, 'serial.elf'),
               os.path.join(build, 'vmm.elf'), os.path.join(build, 'tests', 'guests', name + '.bin')]
    end = d['guest-end'] or r'^vmm: guest exited with status 0'
    expects = d['expect'] + [end]
    sends = []
    for line in d['send']:
        pattern, _, keys = line.partition(' => ')
        sends.append((pattern, typed(keys)))
    out, _ = run_qemu(['tools/qemu.sh', '--test', os.path.join(build, TEST_KERNEL)] + modules,
                      dict(os.environ, KERNEL_CMDLINE=d['cmdline']), int(d['timeout']), sends, expects,
                      True)
    log = os.path.join(logdir, 'guest-%s.log' % name)
    with open(log, 'w') as f:
        f.write(out)
    why = tail(out) + ['(full log: %s)' % log]
    plan, seen = parse_tap(out, prefix, results)
    check_plan(plan, seen, prefix, results, why)
    for pattern in expects:
        results.add(re.search(pattern, out, re.MULTILINE) is not None,
                    '%s: log matches /%s/' % (prefix, pattern), why)
    return results


def run_tap_script(prefix, cmd, timeout, log, build):
    """A script that prints TAP (tools/linux_guest_test.py,
    tools/fs_crash_test.py), its output kept in test-logs/LOG."""
    results = Results()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        out, code = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out, code = (e.stdout or b'').decode(errors='replace'), None
    log = os.path.join(build, 'test-logs', log)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, 'w') as f:
        f.write(out)
    why = tail(out) + ['(TAP output: %s)' % log]
    plan, seen = parse_tap(out, prefix, results)
    check_plan(plan, seen, prefix, results, why)
    if code is None:
        results.add(False, '%s: ended within %d s' % (prefix, timeout), why)
    elif code != 0 and results.failed == 0:
        results.add(False, '%s: exited with %d' % (prefix, code), why)
    return results


def run_linux(case, build, boots):
    """One case of tools/linux_guest_test.py (tests/linux/README.md)."""
    cmd = [sys.executable, 'tools/linux_guest_test.py', '--build', build, case]
    # its own timeouts end every wait; this one only catches a stuck harness
    timeout = 300
    if case == 'boots':
        cmd += ['--count', str(boots)]
        timeout = 60 + 200 * boots
    if case.startswith('shadow'):   # a slower boot and 200 processes under shadow paging
        timeout = 900
    if case == 'snapshot-reboot':   # two QEMUs, a Linux boot, a save and a restore
        timeout = 600
    if case == 'migrate':   # two Berths at once, a Linux boot, three migrations
        timeout = 1200
    return run_tap_script('linux/' + case, cmd, timeout, 'linux-%s.tap' % case, build)


def run_fs_crash(points, build):
    """tools/fs_crash_test.py: QEMU killed during a write workload, the
    disk judged by e2fsck and debugfs (docs/fs.md)."""
    cmd = [sys.executable, 'tools/fs_crash_test.py', '--build', build, '--points', str(points)]
    return run_tap_script('fs-crash', cmd, 60 + 120 * points, 'fs-crash.tap', build)


def newest_source(dirs):
    newest = 0
    for top in dirs:
        for root, _, files in os.walk(top):
            for f in files:
                newest = max(newest, os.path.getmtime(os.path.join(root, f)))
    return newest


def stale_binaries(args):
    """The self-check kernel and the system tests' programs when they are
    older than their sources.  make test builds them before it runs this;
    run alone, this would otherwise test the last build's code and say
    nothing (make all does not build the self-check kernel)."""
    stale = []
    kernel = os.path.join(args.build, TEST_KERNEL)
    if (args.system or args.guests) and os.path.exists(kernel) and \
            os.path.getmtime(kernel) < newest_source(['kernel', 'include']):
        stale.append(kernel)
    for source in args.system:
        elf = os.path.join(args.build, 'tests', 'system', os.path.splitext(os.path.basename(source))[0] + '.elf')
        if os.path.exists(elf) and os.path.getmtime(elf) < os.path.getmtime(source):
            stale.append(elf)
    return stale


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--build', default='build')
    ap.add_argument('--unit', nargs='*', default=[])
    ap.add_argument('--system', nargs='*', default=[])
    ap.add_argument('--guests', nargs='*', default=[])
    ap.add_argument('--linux', nargs='*', default=[], help='cases of tools/linux_guest_test.py')
    ap.add_argument('--linux-boots', type=int, default=10, help='boots in a row for the boots case')
    ap.add_argument('--fs-crash', type=int, default=0, help='crash points of tools/fs_crash_test.py')
    ap.add_argument('--jobs', type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    stale = stale_binaries(args)
    if stale:
        print('runtests: older than their sources (make test builds them; or make %s): %s' %
              (' '.join(stale), ' '.join(stale)), file=sys.stderr)
        return 2

    total = Results()
    linux = [(run_linux, (c, args.build, args.linux_boots)) for c in args.linux]
    if args.fs_crash:
        linux.append((run_fs_crash, (args.fs_crash, args.build)))
    print('runtests: %d unit programs, %d system tests, %d test guests%s%s; %d at a time' %
          (len(args.unit), len(args.system), len(args.guests),
           ', Linux guest: ' + ' '.join(args.linux) if args.linux else '',
           ', %d file-system crash points' % args.fs_crash if args.fs_crash else '', args.jobs), flush=True)
    jobs = [(run_unit, (b,)) for b in args.unit] + \
           [(run_system, (s, args.build)) for s in args.system] + \
           [(run_guest, (g, args.build)) for g in args.guests]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        # the long Linux runs start first, their results print last
        first = [pool.submit(fn, *a) for fn, a in linux]
        futures = [pool.submit(fn, *a) for fn, a in jobs] + first
        for fut in futures:
            r = fut.result()
            for line in r.lines:
                print(line)
            total.passed += r.passed
            total.failed += r.failed
            sys.stdout.flush()
    print('%d passed, %d failed' % (total.passed, total.failed))
    return 1 if total.failed or total.passed == 0 else 0


if __name__ == '__main__':
    sys.exit(main())
