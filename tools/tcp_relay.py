#!/usr/bin/env python3
"""A QEMU guestfwd command (`guestfwd=tcp:ADDR:PORT-cmd:python3
tools/tcp_relay.py HOSTPORT`): the guest's connection arrives on stdin
and stdout, and goes on to 127.0.0.1:HOSTPORT, nowhere else.  Used by
tools/linux_guest_test.py's migrate case to join two QEMUs' user
networks on the host's loopback (docs/lifecycle.md, "Live migration")."""
import os
import socket
import sys
import threading


def main():
    port = int(sys.argv[1])
    peer = socket.create_connection(('127.0.0.1', port))

    def guest_to_peer():
        while True:
            data = os.read(0, 65536)
            if not data:
                peer.shutdown(socket.SHUT_WR)
                return
            peer.sendall(data)

    threading.Thread(target=guest_to_peer, daemon=True).start()
    while True:
        data = peer.recv(65536)
        if not data:
            return
        os.write(1, data)


if __name__ == '__main__':
    main()
