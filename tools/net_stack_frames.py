#!/usr/bin/env python3
"""The host side of tests/system/net_frames.c: malformed traffic at
Berth's network server (lwIP behind the virtio-net driver), sent as raw
Ethernet frames through QEMU's `-netdev dgram` on 127.0.0.1 (each UDP
datagram one frame).  Run by tools/runtests.py (test-net: dgram) with
--berth-port (QEMU's socket) and --host-port (ours).  Prints TAP.

Berth is 10.0.3.15/24 (the net server's args ip=), this script plays
10.0.3.2.  It
  1. asks for Berth's MAC with ARP until it answers (and answers Berth's
     ARP for 10.0.3.2 throughout), pings it and has a UDP datagram echoed
     (port 7, the test program);
  2. sends the bad traffic, some 1200 frames: random bytes; IPv4 with
     every header field wrong in turn (version, IHL, total length above
     and below the frame, checksum, options running past the header);
     fragments (overlapping, past 64 KiB, never completed, tiny); UDP and
     TCP with lengths, data offsets and options that lie; truncated ICMP,
     ARP with wrong sizes, VLAN tags, IPv6, a SYN flood to a closed and an
     open port;
  3. checks that Berth still answers: a ping, a UDP echo, and a ping
     in two fragments (reassembly still works);
  4. sends DONE to port 7; the test program then checks that init
     restarted nothing.
Every loop is bounded in count and time; nothing is sent to any address
but QEMU's socket on 127.0.0.1.
"""
import argparse
import random
import socket
import struct
import sys

from tap import Tap
import time

HOST_MAC = b'\x02\x00\x00\x00\x00\x02'
BCAST = b'\xff' * 6
HOST_IP = bytes([10, 0, 3, 2])
BERTH_IP = bytes([10, 0, 3, 15])
ETH_IP, ETH_ARP = 0x0800, 0x0806


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('>%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def ip_header(payload_len, proto, ident=1, frag=0, ttl=64, src=HOST_IP, dst=BERTH_IP, ihl=5, options=b'',
              total=None, version=4, bad_sum=False):
    total = 20 + len(options) + payload_len if total is None else total
    h = struct.pack('>BBHHHBBH4s4s', version << 4 | ihl, 0, total & 0xffff, ident, frag, ttl, proto, 0, src,
                    dst) + options
    s = csum(h)
    if bad_sum:
        s ^= 0x5555
    return h[:10] + struct.pack('>H', s) + h[12:]


def l4_sum(proto, seg, src=HOST_IP, dst=BERTH_IP):
    return csum(src + dst + struct.pack('>BBH', 0, proto, len(seg)) + seg)


def icmp_echo(ident, seq, payload):
    m = struct.pack('>BBHHH', 8, 0, 0, ident, seq) + payload
    return m[:2] + struct.pack('>H', csum(m)) + m[4:]


def udp(sport, dport, payload, length=None):
    length = 8 + len(payload) if length is None else length
    seg = struct.pack('>HHHH', sport, dport, length & 0xffff, 0) + payload
    return seg[:6] + struct.pack('>H', l4_sum(17, seg) or 0xffff) + seg[8:]


def tcp(sport, dport, flags, seq=1000, offset=5, options=b'', payload=b''):
    seg = struct.pack('>HHIIBBHHH', sport, dport, seq, 0, offset << 4, flags, 8192, 0, 0) + options + payload
    return seg[:16] + struct.pack('>H', l4_sum(6, seg)) + seg[18:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--berth-port', type=int, required=True)
    ap.add_argument('--host-port', type=int, required=True)
    ap.add_argument('--seed', type=int, default=2026)
    ap.add_argument('--wait', type=float, default=150)
    ap.add_argument('--qmp', help="QEMU's QMP socket (runtests gives it; unused here)")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    tap = Tap()
    berth = ('127.0.0.1', args.berth_port)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', args.host_port))
    deadline = time.time() + args.wait
    berth_mac = [None]
    sent = [0]

    def send(data):
        s.settimeout(2)
        try:
            s.sendto(data, berth)
            sent[0] += 1
        except (socket.timeout, BlockingIOError):
            pass

    def eth(payload, etype=ETH_IP, dst=None):
        return (dst or berth_mac[0] or BCAST) + HOST_MAC + struct.pack('>H', etype) + payload

    def arp(op, target_mac, target_ip, sender_mac=HOST_MAC, sender_ip=HOST_IP, hlen=6, plen=4):
        return struct.pack('>HHBBH', 1, 0x0800, hlen, plen, op) + sender_mac + sender_ip + target_mac + target_ip

    def handle(data):
        """Answer Berth's ARP for us; return the frame for the caller."""
        if len(data) >= 42 and data[12:14] == b'\x08\x06':
            op = struct.unpack('>H', data[20:22])[0]
            if op == 1 and data[38:42] == HOST_IP:
                send(eth(arp(2, data[22:28], data[28:32]), ETH_ARP, dst=data[6:12]))
            if op == 2 and data[28:32] == BERTH_IP:
                berth_mac[0] = data[22:28]
        return data

    def recv_until(match, seconds):
        end = min(time.time() + seconds, deadline)
        while time.time() < end:
            s.settimeout(max(0.01, end - time.time()))
            try:
                data, addr = s.recvfrom(65536)
            except socket.timeout:
                return None
            if addr != berth:
                continue
            data = handle(data)
            if match(data):
                return data
        return None

    def drain(seconds):
        recv_until(lambda d: False, seconds)

    # 1. Berth's MAC, a ping and a UDP echo
    while berth_mac[0] is None and time.time() < deadline:
        send(eth(arp(1, b'\0' * 6, BERTH_IP), ETH_ARP, dst=BCAST))
        recv_until(lambda d: berth_mac[0] is not None, 1.0)
    if not tap.ok(berth_mac[0] is not None, "Berth answers ARP for 10.0.3.15 (%s)" %
                  (berth_mac[0].hex(':') if berth_mac[0] else 'nothing')):
        return tap.done()

    def ping(ident, seq, size=56, fragmented=False):
        payload = bytes(rng.randrange(256) for _ in range(size))
        msg = icmp_echo(ident, seq, payload)
        if fragmented:
            cut = (len(msg) // 2) & ~7
            send(eth(ip_header(cut, 1, ident=0x4242, frag=0x2000) + msg[:cut]))
            send(eth(ip_header(len(msg) - cut, 1, ident=0x4242, frag=cut // 8) + msg[cut:]))
        else:
            send(eth(ip_header(len(msg), 1) + msg))

        def is_reply(d):
            return len(d) >= 42 and d[12:14] == b'\x08\x00' and d[23] == 1 and d[34] == 0 and \
                struct.unpack('>HH', d[38:42]) == (ident, seq) and d[42:42 + size] == payload
        return recv_until(is_reply, 5) is not None

    def udp_echo(text, tries=1):
        def is_echo(d):
            return len(d) >= 42 and d[12:14] == b'\x08\x00' and d[23] == 17 and d[42:42 + len(text)] == text
        for _ in range(tries):
            send(eth(ip_header(8 + len(text), 17) + udp(4000, 7, text)))
            if recv_until(is_echo, 3) is not None:
                return True
        return False

    tap.ok(ping(7, 1), 'a ping is answered')
    tap.ok(udp_echo(b'hello before', tries=20), 'a UDP datagram to port 7 is echoed')

    # 2. the bad traffic
    bad = []
    for _ in range(300):
        bad.append(eth(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200))), rng.choice((ETH_IP, ETH_ARP))))
    for _ in range(100):
        bad.append(eth(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 19)))))  # short IPv4
    msg = icmp_echo(9, 9, b'x' * 32)
    for version in (0, 5, 6, 15):
        bad.append(eth(ip_header(len(msg), 1, version=version) + msg))
    for ihl in (0, 1, 4, 6, 15):
        bad.append(eth(ip_header(len(msg), 1, ihl=ihl) + msg))
    for total in (0, 1, 19, 20, 21, 27, 500, 1500, 65535):
        bad.append(eth(ip_header(len(msg), 1, total=total) + msg))
    bad.append(eth(ip_header(len(msg), 1, bad_sum=True) + msg))
    for opt in (b'\x07\x00\x00\x00', b'\x44\xff\x00\x00', b'\x01\x01\x01\x83', b'\x82\x02\x00\x00'):
        bad.append(eth(ip_header(len(msg), 1, ihl=6, options=opt) + msg))
    # fragments: overlapping, past 64 KiB, never completed, tiny
    for i in range(60):
        ident = 0x1000 + i
        off = rng.choice((0, 1, 8, 100, 8189, 8191))
        more = rng.choice((0, 0x2000))
        chunk = bytes(rng.randrange(256) for _ in range(rng.choice((0, 1, 8, 64, 1400))))
        bad.append(eth(ip_header(len(chunk), rng.choice((1, 6, 17)), ident=ident, frag=more | off) + chunk))
    for i in range(200):  # many reassemblies begun, none finished
        chunk = b'y' * 64
        bad.append(eth(ip_header(len(chunk), 17, ident=0x2000 + i, frag=0x2000 | (i % 5)) + chunk))
    for i in range(20):  # overlapping pieces of one datagram
        chunk = b'z' * 200
        bad.append(eth(ip_header(len(chunk), 17, ident=0x3000, frag=0x2000 | (i * 3)) + chunk))
    # UDP and TCP that lie
    for length in (0, 1, 7, 9, 100, 65535):
        seg = udp(4000, 7, b'abc', length=length)
        bad.append(eth(ip_header(len(seg), 17) + seg))
    bad.append(eth(ip_header(4, 17) + b'\0\x07\0\x07'))  # a UDP header cut short
    for offset in (0, 1, 4, 6, 15):
        seg = tcp(5000, 7, 0x02, offset=offset)
        bad.append(eth(ip_header(len(seg), 6) + seg))
    for opts in (b'\x02\x00\x00\x00', b'\x02\x01', b'\x03\x03', b'\x08\x0a' + b'\0' * 2, b'\xff' * 4,
                 b'\x02\x04\x00\x00'):
        padded = opts + b'\0' * (-len(opts) % 4)
        seg = tcp(5001, 7, 0x02, offset=5 + len(padded) // 4, options=padded)
        bad.append(eth(ip_header(len(seg), 6) + seg))
    seg = tcp(5002, 7, 0x02)
    bad.append(eth(ip_header(len(seg), 6) + seg[:10]))  # cut short
    for i in range(200):  # a SYN flood, half to a closed port
        seg = tcp(10000 + i, 7 if i % 2 else 9, 0x02, seq=rng.randrange(1 << 32))
        bad.append(eth(ip_header(len(seg), 6, src=bytes([10, 0, 3, 100 + i % 50])) + seg))
    bad.append(eth(ip_header(4, 1) + b'\x08\x00\x00\x00'))  # an ICMP echo cut short
    bad.append(eth(ip_header(0, 1)))
    for hlen, plen in ((0, 4), (6, 0), (255, 255), (6, 16)):
        bad.append(eth(arp(1, b'\0' * 6, BERTH_IP, hlen=hlen, plen=plen), ETH_ARP, dst=BCAST))
    bad.append(eth(arp(2, berth_mac[0], BERTH_IP, sender_ip=BERTH_IP), ETH_ARP))  # someone claims Berth's address
    bad.append(eth(b'\x00\x05\x08\x00' + ip_header(len(msg), 1) + msg, 0x8100))  # VLAN-tagged
    bad.append(eth(b'\x60' + b'\0' * 39, 0x86dd))  # IPv6
    for _ in range(300):  # IPv4 with random bytes after a valid header
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 100)))
        bad.append(eth(ip_header(len(body), rng.choice((1, 6, 17, 2, 47, 255))) + body))
    rng.shuffle(bad)
    for i, frame in enumerate(bad):
        send(frame)
        if i % 50 == 49:
            drain(0.05)  # answer Berth's ARP, take its RSTs; give it time
    drain(2)
    print('# %d malformed frames sent' % len(bad), flush=True)

    # 3. still there
    tap.ok(ping(7, 2), 'after them a ping is answered')
    tap.ok(udp_echo(b'hello after'), 'and a UDP datagram echoed')
    tap.ok(ping(7, 3, size=1200, fragmented=True), 'and a ping in two fragments answered (reassembly works)')

    # 4. done
    got = None
    for _ in range(5):
        send(eth(ip_header(8 + 4, 17) + udp(4000, 7, b'DONE')))
        got = recv_until(lambda d: len(d) >= 46 and d[23] == 17 and d[42:46] == b'BYE.', 3)
        if got:
            break
    tap.ok(got is not None, 'the test program took DONE')
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
