#!/usr/bin/env python3
"""The host's side of the network benchmark: measures a server inside
QEMU through ports forwarded on 127.0.0.1 (and nothing else).

    net_measure.py PREFIX HTTP_PORT SINK_PORT SOURCE_PORT [--wait S] [--rounds N]

  SINK_PORT    a TCP server that reads and discards until the end of the
               stream: 16 MiB are sent to it (host -> guest);
  SOURCE_PORT  a TCP server that sends 16 MiB on each connection and
               closes: they are read (guest -> host);
  HTTP_PORT    an HTTP/1.1 server with /www/one (1 byte): 400 GETs on 4
               keep-alive connections, one request at a time on each.

Prints BENCH lines, the median of --rounds (default 3) rounds, named
PREFIX.tcp_rx_mibs (host -> guest, MiB/s), PREFIX.tcp_tx_mibs (guest ->
host) and PREFIX.http_rps (requests per second).  These are wall-clock
figures: they depend on the host's speed and load.  Exits non-zero if a
transfer fails or comes back short.
"""
import http.client
import socket
import statistics
import sys
import threading
import time

HOST = '127.0.0.1'
SIZE = 16 << 20
TIMEOUT = 60


def wait_for(port, seconds):
    end = time.time() + seconds
    while time.time() < end:
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=5)
            c.request('HEAD', '/www/one')
            c.getresponse().read()
            c.close()
            return True
        except (OSError, http.client.HTTPException):
            time.sleep(0.5)
    return False


def to_guest(port):
    data = bytes(range(256)) * (SIZE // 256)
    s = socket.create_connection((HOST, port), timeout=TIMEOUT)
    start = time.time()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    # the sink closes when it has read everything
    while s.recv(65536):
        pass
    took = time.time() - start
    s.close()
    return SIZE / took / (1 << 20)


def from_guest(port):
    s = socket.create_connection((HOST, port), timeout=TIMEOUT)
    start = time.time()
    got = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got += len(b)
    took = time.time() - start
    s.close()
    if got != SIZE:
        raise RuntimeError('the source sent %d bytes, not %d' % (got, SIZE))
    return SIZE / took / (1 << 20)


def http_rate(port, total=400, conns=4):
    errors = []

    def worker():
        try:
            c = http.client.HTTPConnection(HOST, port, timeout=TIMEOUT)
            for _ in range(total // conns):
                c.request('GET', '/www/one')
                r = c.getresponse()
                if r.status != 200 or len(r.read()) != 1:
                    raise RuntimeError('status %d' % r.status)
            c.close()
        except (OSError, http.client.HTTPException, RuntimeError) as e:
            errors.append(str(e))

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 4)
    took = time.time() - start
    if errors:
        raise RuntimeError('; '.join(errors[:3]))
    return total / took


def main():
    args = sys.argv[1:]
    wait, rounds = 180, 3
    if '--wait' in args:
        i = args.index('--wait')
        wait = int(args[i + 1])
        del args[i:i + 2]
    if '--rounds' in args:
        i = args.index('--rounds')
        rounds = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    prefix, http_port, sink, source = args[0], int(args[1]), int(args[2]), int(args[3])
    if not wait_for(http_port, wait):
        print('net_measure: nothing answers on 127.0.0.1:%d' % http_port, file=sys.stderr)
        return 1
    figures = {'tcp_rx_mibs': [], 'tcp_tx_mibs': [], 'http_rps': []}
    try:
        for _ in range(rounds):
            figures['tcp_rx_mibs'].append(to_guest(sink))
            figures['tcp_tx_mibs'].append(from_guest(source))
            figures['http_rps'].append(http_rate(http_port))
    except (OSError, RuntimeError) as e:
        print('net_measure: %s' % e, file=sys.stderr)
        return 1
    for name, values in figures.items():
        unit = 'MiB/s' if name.endswith('mibs') else 'requests/s'
        print('BENCH name=%s.%s value=%.1f unit=%s runs=%s' %
              (prefix, name, statistics.median(values), unit, ','.join('%.1f' % v for v in values)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
