#!/usr/bin/env python3
"""The host side of tests/system/virtio_net_frames.c: raw Ethernet frames
as UDP datagrams to and from QEMU's `-netdev dgram` on 127.0.0.1 (each
datagram one frame, nothing else on the wire).  Run by tools/runtests.py
(test-net: dgram) with --berth-port (QEMU's socket) and --host-port (ours).

Once the Berth client's READY frame arrives, it sends: random bytes of
random lengths, runt frames (1..13 bytes), oversize frames (1515 bytes
up to 9000), a broadcast storm, then well-formed test frames that the
client echoes back, checked byte-exact, and a DONE frame; the client
answers DONE with its counters.  Last, with --qmp, it takes the link down
and up through QEMU's QMP socket; the client reports what it saw.  Prints
TAP.  Every loop is bounded in
count and time; nothing is sent to any address but 127.0.0.1."""
import argparse
import os
import random
import socket
import struct
import sys

from tap import Tap
import time

ETH_TEST = 0x88b5      # the tests' own frames (IEEE local experimental)
ETH_STORM = 0x88b6     # storm frames: counted, never echoed
BCAST = b'\xff' * 6
HOST_MAC = b'\x02\x00\x00\x00\x00\x01'


def frame(dst, etype, payload):
    return dst + HOST_MAC + struct.pack('>H', etype) + payload


def qmp_set_link(path, up):
    """set_link on the NIC's netdev through QEMU's QMP socket; True if QEMU
    said it was done."""
    import json
    for attempt in range(20):
        try:
            q = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            q.settimeout(5)
            q.connect(path)
            break
        except OSError:
            q.close()
            time.sleep(0.1)
    else:
        return False
    try:
        f = q.makefile('rw')
        f.readline()  # the greeting
        for cmd in ({'execute': 'qmp_capabilities'},
                    {'execute': 'set_link', 'arguments': {'name': 'n0', 'up': up}}):
            f.write(json.dumps(cmd) + '\n')
            f.flush()
            while True:
                answer = json.loads(f.readline())
                if 'return' in answer or 'error' in answer:
                    break
            if 'error' in answer:
                return False
        return True
    except (OSError, ValueError):
        return False
    finally:
        q.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--berth-port', type=int, required=True)
    ap.add_argument('--host-port', type=int, required=True)
    ap.add_argument('--seed', type=int, default=12)
    ap.add_argument('--echoes', type=int, default=200)
    ap.add_argument('--storm', type=int, default=3000)
    ap.add_argument('--wait', type=float, default=120, help='seconds to wait for Berth')
    ap.add_argument('--qmp', help="QEMU's QMP socket: take the link down and up at the end")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tap = Tap()
    berth = ('127.0.0.1', args.berth_port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', args.host_port))
    deadline = time.time() + args.wait

    unsent = [0]

    def send(data):
        # bounded: a QEMU that stopped reading must not hang us
        s.settimeout(2)
        try:
            s.sendto(data, berth)
            return True
        except (socket.timeout, BlockingIOError):
            unsent[0] += 1
            return False

    def recv(until):
        """The next frame from Berth before `until`, or None."""
        while True:
            left = until - time.time()
            if left <= 0:
                return None
            s.settimeout(left)
            try:
                data, addr = s.recvfrom(65536)
            except socket.timeout:
                return None
            if addr == berth:
                return data

    def is_test(data, tag):
        return len(data) >= 14 + len(tag) and data[12:14] == struct.pack('>H', ETH_TEST) and \
            data[14:14 + len(tag)] == tag

    # 1. Berth's client says it is attached
    ready = None
    while ready is None and time.time() < deadline:
        data = recv(deadline)
        if data is not None and is_test(data, b'READY'):
            ready = data
    tap.ok(ready is not None, 'the Berth client announced itself')
    if ready is None:
        return tap.done()
    berth_mac = ready[6:12]
    send(frame(berth_mac, ETH_TEST, b'START'))

    # 2. malformed frames, paced so the host's socket buffers keep them
    sent = {'random': 0, 'runt': 0, 'oversize': 0}
    malformed = 0       # those the driver must drop: 0..13 bytes, 1515..2048
    lengths = []
    for i in range(300):
        lengths.append(('random', rng.randint(1, 1600)))
    # (not 0 bytes: QEMU 7.2's dgram backend takes an empty datagram for
    # the end of the connection and stops reading its socket for good)
    for n in range(1, 14):
        lengths += [('runt', n)] * 3
    for n in (1515, 1516, 1600, 2000, 2047, 2048, 2049, 2100, 4000, 9000):
        lengths += [('oversize', n)] * 3
    rng.shuffle(lengths)
    for i, (kind, n) in enumerate(lengths):
        if not send(bytes(rng.getrandbits(8) for _ in range(n))):
            continue
        sent[kind] += 1
        if n < 14 or 1515 <= n <= 2048:
            malformed += 1
        if i % 8 == 7:
            time.sleep(0.002)
    # 3. a broadcast storm, as fast as the host sends it
    storm = frame(BCAST, ETH_STORM, bytes(46))
    start = time.time()
    for i in range(args.storm):
        if i % 500 == 0:
            storm = frame(BCAST, ETH_STORM, bytes(rng.getrandbits(8) for _ in range(rng.randint(46, 1500))))
        if not send(storm) and unsent[0] > 20:
            break
    storm_secs = time.time() - start
    time.sleep(1.0)
    # drain what Berth may have sent meanwhile (it echoes only test frames)
    while recv(time.time() + 0.2) is not None:
        pass

    # 4. well-formed frames, each echoed back byte for byte
    exact = lost = 0
    for i in range(args.echoes):
        n = 1514 if i % 10 == 0 else 14 + 9 if i % 10 == 1 else rng.randint(24, 1514)
        body = b'ECHO' + struct.pack('>I', i)
        body += bytes(rng.getrandbits(8) for _ in range(n - 14 - len(body)))
        f = frame(berth_mac if i % 2 else BCAST, ETH_TEST, body)
        got = None
        for attempt in range(3):
            send(f)
            until = time.time() + 3
            while got is None:
                data = recv(until)
                if data is None:
                    break
                if is_test(data, b'ECHO') and data[18:22] == body[4:8]:
                    got = data
            if got is not None:
                break
        if got is None:
            lost += 1
        elif got == f:
            exact += 1
    tap.ok(exact == args.echoes, '%d of %d well-formed frames (23..1514 bytes) came back byte-exact after the '
           'barrage (%d lost)' % (exact, args.echoes, lost))

    # 5. done: the client answers with the driver's counters
    send(frame(berth_mac, ETH_TEST, b'DONE' + struct.pack('>III', args.echoes, malformed, args.storm)))
    stats = None
    until = time.time() + 10
    while stats is None:
        data = recv(until)
        if data is None:
            break
        if is_test(data, b'STAT'):
            stats = struct.unpack('>QQQQ', data[18:50])
    print('# sent %d random, %d runt, %d oversize datagrams (%d the driver must drop if QEMU delivers them), '
          'a storm of %d in %.2f s; %d sends timed out' % (sent['random'], sent['runt'], sent['oversize'], malformed,
                                                          args.storm, storm_secs, unsent[0]), flush=True)
    if stats:
        print('# Berth: rx_frames %d, rx_dropped %d, storm frames seen %d, echoed %d' % stats, flush=True)
    tap.ok(stats is not None, 'the client reported the driver\'s counters after it all')

    # 6. the link down and up again: the client reports what it saw
    if args.qmp:
        qmp_ok = qmp_set_link(args.qmp, False)
        time.sleep(1.5)
        qmp_ok = qmp_set_link(args.qmp, True) and qmp_ok
        report = None
        until = time.time() + 20
        while report is None:
            data = recv(until)
            if data is None:
                break
            if is_test(data, b'LINK'):
                report = data[18:22]
        tap.ok(qmp_ok and report == b'DnUp', 'QEMU took the link down and up (QMP %s); the client saw it through '
               'notifications and info (%r)' % ('ok' if qmp_ok else 'failed', report))
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
