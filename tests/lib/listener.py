#!/usr/bin/env python3
"""A real TCP listener for the integration tests.

Usage: listener.py LOGFILE SPEC...   SPEC is PORT[:BEHAVIOUR[:ARG]]:
  PORT              accept, read until the peer closes, then close
  PORT:linger:SEC   the same, but wait SEC seconds before closing (so the
                    kernel acknowledges the peer's FIN on its own first)
  PORT:banner       send a banner line first, like SMTP or SSH
  PORT:pong         answer each "PING" line with "+PONG", as Redis does
                    (logs "recv PORT 'LINE'" for each line)
  PORT:close        close right after accepting (the server closes first)
  PORT:reset        reset right after accepting (SO_LINGER 0)
Listens on IPv4 and IPv6; logs one line per event: "accept PORT",
"eof PORT" (a clean end of file), "rst PORT" (a reset). Writes "ready"
once listening. Runs until killed."""
import selectors
import socket
import struct
import sys
import time

log = open(sys.argv[1], "a", buffering=1)
sel = selectors.DefaultSelector()
pending_close = []  # (when, socket)
for spec in sys.argv[2:]:
    port, _, rest = spec.partition(":")
    behaviour, _, arg = rest.partition(":")
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", int(port)))
    s.listen(1024)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ, ("listen", int(port), behaviour or "plain", arg))
log.write("ready\n")


def accept(key):
    _, port, behaviour, arg = key.data
    try:
        conn, _ = key.fileobj.accept()
    except OSError:
        return
    log.write(f"accept {port}\n")
    if behaviour == "close":
        conn.close()
        return
    if behaviour == "reset":
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        return
    if behaviour == "banner":
        conn.send(b"220 tcpshake-test ready\r\n")
    conn.setblocking(False)
    sel.register(conn, selectors.EVENT_READ, ("conn", port, behaviour, arg))


def read(key):
    _, port, behaviour, arg = key.data
    try:
        data = key.fileobj.recv(65536)
    except ConnectionResetError:
        log.write(f"rst {port}\n")
        sel.unregister(key.fileobj)
        key.fileobj.close()
        return
    except BlockingIOError:
        return
    if data and behaviour == "pong":
        for line in data.splitlines():
            log.write(f"recv {port} {line.decode(errors='replace')!r}\n")
            if line.strip() == b"PING":
                key.fileobj.send(b"+PONG\r\n")
        return
    if data:
        return
    log.write(f"eof {port}\n")
    sel.unregister(key.fileobj)
    if behaviour == "linger":
        pending_close.append((time.monotonic() + float(arg), key.fileobj))
    else:
        key.fileobj.close()


while True:
    timeout = None
    if pending_close:
        timeout = max(0, min(w for w, _ in pending_close) - time.monotonic())
    for key, _ in sel.select(timeout):
        (accept if key.data[0] == "listen" else read)(key)
    now = time.monotonic()
    for item in [x for x in pending_close if x[0] <= now]:
        item[1].close()
        pending_close.remove(item)
