#!/usr/bin/env python3
"""Berth's web server seen from the host (issue 12): curl-like requests to
servers/httpd through a port QEMU forwards on 127.0.0.1, and nothing else.

    http_test.py image OUT.img          make the disk it serves (mke2fs -d)
    http_test.py check PORT [--wait S] [--done PORT2]  the checks, as TAP
                                        on stdout; then "done" to PORT2

The image holds /www/empty (0 bytes), /www/one (1 byte), /www/64k.bin
(64 KiB), /www/1m.bin (1 MiB) and /www/16m.bin (16 MiB), whose bytes are pattern(i) below, a
directory /www/sub with index.html and /www/list with two files and no
index.  `check` fetches each file byte-exact (curl, when the host has it,
for the first two, and Python's own client for all), makes 200 requests
over 20 parallel keep-alive connections and compares every reply (files
of up to 64 KiB: the phase checks concurrency, and at the native stack's
rate under the self-checking kernel 1 MiB bodies made it take a minute,
half of runtests' bound on a host step), and
asks for HEAD, a missing file (404), a directory without its slash (301)
and a listing.  Every request has a timeout; the whole run is bounded.
"""
import hashlib
import http.client
import os
import shutil
import socket
import subprocess
import sys

from tap import Tap
import tempfile
import threading
import time

HOST = '127.0.0.1'
TIMEOUT = 60
SIZES = {'empty': 0, 'one': 1, '64k.bin': 64 << 10, '1m.bin': 1 << 20, '16m.bin': 16 << 20}


def pattern(n, salt):
    """n bytes no two files share: a counter mixed with the file's salt."""
    out = bytearray(n)
    block = bytes(((i * 31 + salt * 7 + (i >> 8) * 13) & 0xff) for i in range(65536))
    for off in range(0, n, 65536):
        piece = block[:min(65536, n - off)]
        out[off:off + len(piece)] = piece
    return bytes(out)


def contents():
    files = {}
    for salt, (name, size) in enumerate(sorted(SIZES.items())):
        files['www/' + name] = pattern(size, salt + 1)
    files['www/sub/index.html'] = b'<html><body>the index of sub</body></html>\n'
    files['www/list/a.txt'] = b'first\n'
    files['www/list/b & c.txt'] = b'second\n'
    return files


def make_image(out):
    tree = tempfile.mkdtemp(prefix='berth-www-')
    try:
        for path, data in contents().items():
            full = os.path.join(tree, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'wb') as f:
                f.write(data)
        if os.path.exists(out):
            os.unlink(out)
        subprocess.run(['/sbin/mke2fs', '-q', '-F', '-t', 'ext2', '-d', tree, out, '32M'], check=True,
                       stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(tree)


def get(port, method, path, conn=None):
    c = conn or http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
    c.request(method, path)
    r = c.getresponse()
    body = r.read()
    if conn is None:
        c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


def wait_for(port, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            status, _, _ = get(port, 'HEAD', '/')
            if status:
                return True
        except OSError:
            time.sleep(0.5)
        except http.client.HTTPException:
            time.sleep(0.5)
    return False


def say_done(port):
    # the test inside Berth waits for this before it ends the run
    try:
        s = socket.create_connection((HOST, port), timeout=TIMEOUT)
        s.sendall(b'done\n')
        s.close()
    except OSError as e:
        print('# could not tell the guest we are done: %s' % e, flush=True)


def check(port, wait, done_port=None):
    try:
        return run_checks(port, wait)
    finally:
        if done_port:
            say_done(done_port)


def run_checks(port, wait):
    tap = Tap()
    files = contents()
    began = time.time()
    if not tap.ok(wait_for(port, wait), 'the server answers on 127.0.0.1:%d' % port):
        return tap.done()
    for name in sorted(SIZES):
        want = files['www/' + name]
        try:
            status, headers, body = get(port, 'GET', '/www/' + name)
        except (OSError, http.client.HTTPException) as e:
            tap.ok(False, 'GET /www/%s: %s' % (name, e))
            continue
        tap.ok(status == 200 and body == want and headers.get('content-length') == str(len(want)),
               'GET /www/%s: %d bytes byte-exact (status %d, %d bytes, sha256 %s)' %
               (name, len(want), status, len(body), hashlib.sha256(body).hexdigest()[:16]))
    curl = shutil.which('curl')  # tools/setup.sh installs it
    for name in sorted(SIZES):
        if not curl:
            tap.ok(False, 'curl fetches /www/%s: no curl on this host' % name)
            continue
        r = subprocess.run([curl, '-s', '--max-time', str(TIMEOUT), 'http://%s:%d/www/%s' % (HOST, port, name)],
                           stdout=subprocess.PIPE, check=False)
        tap.ok(r.returncode == 0 and r.stdout == files['www/' + name],
               'curl fetches /www/%s exactly (%d bytes)' % (name, len(r.stdout)))
    status, headers, body = get(port, 'HEAD', '/www/1m.bin')
    tap.ok(status == 200 and body == b'' and headers.get('content-length') == str(1 << 20),
           'HEAD: the length, no body (status %d)' % status)
    status, _, body = get(port, 'GET', '/www/missing.txt')
    tap.ok(status == 404 and b'404' in body, 'a missing file is 404 (status %d)' % status)
    status, headers, _ = get(port, 'GET', '/www/sub')
    tap.ok(status == 301 and headers.get('location') == '/www/sub/', 'a directory without its slash: 301 to it')
    status, _, body = get(port, 'GET', '/www/sub/')
    tap.ok(status == 200 and body == files['www/sub/index.html'], "a directory's index.html")
    status, _, body = get(port, 'GET', '/www/list/')
    tap.ok(status == 200 and b'href="a.txt"' in body and b'b%20%26%20c.txt' in body and b'b &amp; c.txt' in body,
           'a listing names its files, links encoded and text escaped')
    status, _, _ = get(port, 'GET', '/../etc/passwd')
    tap.ok(status == 400, 'a path above the root is refused (status %d)' % status)

    # 200 requests over 20 parallel keep-alive connections
    names = ['one', 'empty', '64k.bin', 'sub/index.html', 'list/a.txt']
    errors = []
    done = [0]
    lock = threading.Lock()

    def worker(k):
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            for i in range(10):
                name = names[(k + i) % len(names)]
                status, _, body = get(port, 'GET', '/www/' + name, c)
                if status != 200 or body != files['www/' + name]:
                    raise ValueError('%s: status %d, %d bytes' % (name, status, len(body)))
                with lock:
                    done[0] += 1
            c.close()
        except (OSError, http.client.HTTPException, ValueError) as e:
            with lock:
                errors.append('connection %d: %s' % (k, e))

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(20)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
    took = time.time() - start
    tap.ok(done[0] == 200 and not errors,
           '200 requests over 20 parallel connections, every reply exact (%d in %.1f s)%s' %
           (done[0], took, ': ' + '; '.join(errors[:3]) if errors else ''))
    # a raw request with a body is refused, and the server carries on
    try:
        s = socket.create_connection((HOST, port), timeout=TIMEOUT)
        s.sendall(b'POST /www/one HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc')
        reply = s.recv(200)
        s.close()
    except OSError as e:
        reply = str(e).encode()
    tap.ok(reply.startswith(b'HTTP/1.1 501') or reply.startswith(b'HTTP/1.1 413'),
           'POST is refused: %r' % reply[:30])
    status, _, body = get(port, 'GET', '/www/one')
    tap.ok(status == 200 and body == files['www/one'], 'and the server still answers')
    # runtests gives a host step 120 s: say how much of it this run took
    print('# the checks took %.1f s' % (time.time() - began))
    return tap.done()


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == 'image':
        make_image(sys.argv[2])
        return 0
    if len(sys.argv) >= 3 and sys.argv[1] == 'check':
        wait = 120
        if '--wait' in sys.argv:
            wait = int(sys.argv[sys.argv.index('--wait') + 1])
        done = int(sys.argv[sys.argv.index('--done') + 1]) if '--done' in sys.argv else None
        return check(int(sys.argv[2]), wait, done)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main())
