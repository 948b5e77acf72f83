#!/usr/bin/env python3
"""The host's part of tests/system/guest_net.c: fetch the first Linux
guest's page through 127.0.0.1:PORT, which QEMU forwards to Berth's port
8081, which Berth's NAT forwards to the guest's port 80 (busybox httpd).
Prints TAP; bounded: 20 tries over at most 60 s, each with a timeout.

    tools/guest_net_host.py PORT DONE_PORT

At the end it says "done" on DONE_PORT (forwarded to the test program).
"""
import socket
import sys
import time
import urllib.request

from tap import Tap


def main():
    port = int(sys.argv[1])
    tap = Tap(1)
    body, err = None, None
    deadline = time.time() + 60
    for _ in range(20):
        try:
            with urllib.request.urlopen('http://127.0.0.1:%d/' % port, timeout=5) as r:
                body = r.read().decode(errors='replace')
                break
        except OSError as e:
            err = e
            if time.time() > deadline:
                break
            time.sleep(2)
    tap.ok(body is not None and body.startswith('hello from the Linux guest at 10.0.4.10/24'),
           "the host reaches the guest's httpd through Berth's NAT forward", ['got %r, error %r' % (body, err)])
    with socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=10) as s:
        s.sendall(b'done')
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
