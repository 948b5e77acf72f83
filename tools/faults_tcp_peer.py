#!/usr/bin/env python3
"""The host's end of the fault campaign's TCP stream (tests/system/faultinj.c,
docs/reliability.md): the check that data the network server's peer had
acknowledged is never lost when the server fails.

  faults_tcp_peer.py PORT [--secs S]

It connects to Berth through QEMU's hostfwd on 127.0.0.1:PORT (and
nowhere else), again and again: the campaign's end listens there while
the network server is its target, and each failure of the server ends
the connection.  On each connection it first sends HAVE, the number of
the last record it holds (8 bytes, little-endian; 0 for none), then reads
records, 8-byte numbers that must follow one another from HAVE + 1, and
after each read sends back its new HAVE: Berth takes a record as
acknowledged (safe) only once that answer has come, and on the next
connection checks that HAVE is not below what was acknowledged.  Here a
record that does not follow is the failure (data lost or repeated).
A server that dies sends nothing more on its connections (no reset), so
a connection silent for IDLE seconds is left for a new one; that is
harmless while the server lives (Berth sees the old one end and checks
the new one's first answer).  Record 2**64 - 1 ends the run.  It prints TAP and exits 0 when the run
ended cleanly (or when S seconds have passed without a failure, 0: no
limit), 1 on a failure.
"""
import argparse
import socket
import struct
import sys
import time

HOST = '127.0.0.1'
END = (1 << 64) - 1
IDLE = 2.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('port', type=int)
    ap.add_argument('--secs', type=float, default=100)
    a = ap.parse_args()
    deadline = time.time() + a.secs if a.secs else None
    have, connections, ended, failure = 0, 0, False, None
    while not ended and not failure and (deadline is None or time.time() < deadline):
        try:
            s = socket.create_connection((HOST, a.port), timeout=2)
        except OSError:
            time.sleep(0.1)
            continue
        s.settimeout(1)
        pending = b''
        try:
            s.sendall(struct.pack('<Q', have))
            got_any, last = False, time.time()
            while not failure and (deadline is None or time.time() < deadline):
                try:
                    data = s.recv(65536)
                except socket.timeout:
                    if time.time() - last > IDLE:
                        break
                    continue
                last = time.time()
                if not data:
                    break
                if not got_any:
                    got_any = True
                    connections += 1
                pending += data
                while len(pending) >= 8:
                    (seq,) = struct.unpack('<Q', pending[:8])
                    pending = pending[8:]
                    if seq == END:
                        ended = True
                        break
                    if seq != have + 1:
                        failure = 'record %d came after record %d' % (seq, have)
                        break
                    have = seq
                if ended or failure:
                    break
                s.sendall(struct.pack('<Q', have))
        except OSError:
            pass
        finally:
            s.close()
        if not ended and not failure:
            time.sleep(0.05)
    print('1..1')
    if failure:
        print('not ok 1 - the TCP peer: %s (after %d connections)' % (failure, connections))
        return 1
    print('ok 1 - the TCP peer held every record in order: %d records over %d connections%s' % (
        have, connections, '' if ended else ' (its time ran out before the end record)'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
