#!/usr/bin/env python3
"""The host's side of tests/system/vswitch_guests.c: connects to the
forward Berth's switch made (QEMU's hostfwd on 127.0.0.1 -> Berth's
port 8081 -> NAT -> the fake guest g1's port 80) and reads the line the
fake guest sends by hand.  Prints TAP.  Only 127.0.0.1, every wait
bounded.

  vswitch_forward.py PORT
"""
import socket
import sys
import time

HOST = '127.0.0.1'
WANT = b'hello from g1\n'


def main():
    port = int(sys.argv[1])
    print('1..1')
    deadline = time.time() + 30
    got = b''
    while time.time() < deadline and WANT not in got:
        try:
            with socket.create_connection((HOST, port), timeout=10) as s:
                s.settimeout(10)
                s.sendall(b'hi\n')
                got = b''
                while WANT not in got and len(got) < 4096:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
        except OSError:
            time.sleep(0.5)
    ok = WANT in got
    print('%s 1 - the fake guest answered through the forward (%r)' % ('ok' if ok else 'not ok', got[:64]))
    return 0


if __name__ == '__main__':
    sys.exit(main())
