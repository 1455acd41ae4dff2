#!/usr/bin/env python3
"""A real TCP listener for the integration tests.

Usage: listener.py LOGFILE PORT...  Listens on every PORT over IPv4 and IPv6,
accepts, reads until the peer closes, and logs one line per event:
"accept PORT", "eof PORT" (a clean end of file), "rst PORT" (a reset).
Writes "ready" once listening. Runs until killed."""
import selectors
import socket
import sys

log = open(sys.argv[1], "a", buffering=1)
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[2:]):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(1024)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, ("listen", port))
log.write("ready\n")
while True:
    for key, _ in sel.select():
        kind, port = key.data
        if kind == "listen":
            try:
                conn, _ = key.fileobj.accept()
            except OSError:
                continue
            conn.setblocking(False)
            log.write(f"accept {port}\n")
            sel.register(conn, selectors.EVENT_READ, ("conn", port))
            continue
        try:
            data = key.fileobj.recv(65536)
        except ConnectionResetError:
            log.write(f"rst {port}\n")
            sel.unregister(key.fileobj)
            key.fileobj.close()
            continue
        except BlockingIOError:
            continue
        if not data:
            log.write(f"eof {port}\n")
            sel.unregister(key.fileobj)
            key.fileobj.close()
