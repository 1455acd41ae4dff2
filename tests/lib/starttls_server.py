"""starttls_server - an SMTP-, IMAP- or POP3-like responder with STARTTLS,
for the TLS bed (tests/lib/tls_bed.sh).

    starttls_server.py MODE PORT LOG --cert CHAIN --key KEY [options]

MODE is smtp, imap or pop3. It listens on [::]:PORT (IPv4 too), answers any
number of connections, each in its own thread, and speaks just enough of the
protocol for a STARTTLS probe: the greeting, EHLO / CAPABILITY / CAPA, the
STARTTLS / STLS command, the TLS handshake (Python's ssl module), then the
protocol again inside TLS (EHLO, NOOP, QUIT / LOGOUT). Options change the
server's behaviour, to meet each of a client's failure paths:
    --refuse            the STARTTLS command is refused (454 / a1 NO / -ERR)
    --no-starttls       smtp: STARTTLS is not in the EHLO reply (and a 502
                        if asked anyway)
    --greeting-refuse   the greeting is a refusal (554 / * BYE / -ERR), then
                        the connection is closed
    --multiline         smtp: a three-line 220 greeting and a longer EHLO
                        reply; imap: untagged lines before the tagged OK
    --inject            plain text right after the go-ahead, in the same
                        segment (what a STARTTLS-injection middlebox does)
    --split             every reply written a byte at a time, each byte in
                        its own segment (TCP_NODELAY and a pause)
Every event is a line in LOG (flushed at once), so tests can assert:
    ready | accept ADDR PORT | recv 'LINE' | send 'LINE' | tls VERSION CIPHER
    sni=NAME | tls-error WHY | discarded N | close
"""
import argparse
import socket
import ssl
import sys
import threading
import time

LOCK = threading.Lock()


def log(fh, *words):
    with LOCK:
        fh.write(" ".join(str(w) for w in words) + "\n")
        fh.flush()


class Conn:
    def __init__(self, sock, args, fh):
        self.sock, self.args, self.fh = sock, args, fh
        self.buf = b""
        self.tls = False

    def send(self, text):
        data = text.encode()
        for line in text.splitlines():
            log(self.fh, "send", repr(line))
        if self.args.split and not self.tls:
            for i in range(len(data)):
                self.sock.sendall(data[i:i + 1])
                time.sleep(0.005)
        else:
            self.sock.sendall(data)

    def line(self):
        """One line without its CR LF, or None at the end."""
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(4096)
            except (OSError, ssl.SSLError):
                return None
            if not chunk:
                return None
            self.buf += chunk
            if len(self.buf) > 65536:
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.rstrip(b"\r").decode("latin-1")
        log(self.fh, "recv", repr(text))
        return text

    def start_tls(self, ctx, go_ahead):
        """Send the go-ahead, drop what the client sent after its command
        (it must wait for the go-ahead), and handshake as the server."""
        if self.args.inject:
            go_ahead += "250 injected before TLS\r\n"
        self.send(go_ahead)
        if self.buf:
            log(self.fh, "discarded", len(self.buf))
            self.buf = b""
        try:
            self.sock = ctx.wrap_socket(self.sock, server_side=True)
        except (OSError, ssl.SSLError) as e:
            log(self.fh, "tls-error", str(e).replace("\n", " "))
            return False
        self.tls = True
        log(self.fh, "tls", self.sock.version(), self.sock.cipher()[0],
            "sni=%s" % getattr(self.sock, "sni", None))
        return True


def smtp(c, ctx, a):
    if a.greeting_refuse:
        c.send("554 5.7.1 tls.test: no service for you\r\n")
        return
    if a.multiline:
        c.send("220-tls.test ESMTP tcpshake bed\r\n220-a second line\r\n220 ready\r\n")
    else:
        c.send("220 tls.test ESMTP tcpshake bed\r\n")
    while True:
        line = c.line()
        if line is None:
            return
        verb = line.split(" ", 1)[0].upper()
        if verb == "EHLO":
            caps = ["tls.test"]
            if a.multiline:
                caps += ["PIPELINING", "SIZE 10240000", "ENHANCEDSTATUSCODES"]
            if not c.tls and not a.no_starttls:
                caps.append("STARTTLS")
            caps.append("8BITMIME")
            c.send("".join("250-%s\r\n" % x for x in caps[:-1]) + "250 %s\r\n" % caps[-1])
        elif verb == "HELO":
            c.send("250 tls.test\r\n")
        elif verb == "STARTTLS" and not c.tls:
            if a.refuse:
                c.send("454 4.7.0 TLS not available due to temporary reason\r\n")
            elif a.no_starttls:
                c.send("502 5.5.1 STARTTLS not offered\r\n")
            elif not c.start_tls(ctx, "220 2.0.0 Ready to start TLS\r\n"):
                return
        elif verb == "NOOP":
            c.send("250 2.0.0 Ok\r\n")
        elif verb == "QUIT":
            c.send("221 2.0.0 Bye\r\n")
            return
        else:
            c.send("502 5.5.2 Error: command not recognized\r\n")


def imap(c, ctx, a):
    if a.greeting_refuse:
        c.send("* BYE tls.test: no service for you\r\n")
        return
    c.send("* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] tls.test ready\r\n")
    while True:
        line = c.line()
        if line is None:
            return
        parts = line.split(" ", 2)
        tag, cmd = parts[0], parts[1].upper() if len(parts) > 1 else ""
        extra = "* OK still here\r\n* 0 EXISTS\r\n" if a.multiline else ""
        if cmd == "CAPABILITY":
            c.send("* CAPABILITY IMAP4rev1%s\r\n%s OK done\r\n" % ("" if c.tls else " STARTTLS", tag))
        elif cmd == "STARTTLS" and not c.tls:
            if a.refuse:
                c.send(extra + "%s NO TLS not available\r\n" % tag)
            elif not c.start_tls(ctx, extra + "%s OK Begin TLS negotiation now\r\n" % tag):
                return
        elif cmd == "NOOP":
            c.send("%s OK done\r\n" % tag)
        elif cmd == "LOGOUT":
            c.send("* BYE logging out\r\n%s OK done\r\n" % tag)
            return
        else:
            c.send("%s BAD unknown command\r\n" % tag)


def pop3(c, ctx, a):
    if a.greeting_refuse:
        c.send("-ERR tls.test: no service for you\r\n")
        return
    c.send("+OK tls.test POP3 ready\r\n")
    while True:
        line = c.line()
        if line is None:
            return
        cmd = line.split(" ", 1)[0].upper()
        if cmd == "CAPA":
            c.send("+OK\r\n%sUSER\r\n.\r\n" % ("" if c.tls else "STLS\r\n"))
        elif cmd == "STLS" and not c.tls:
            if a.refuse:
                c.send("-ERR TLS not available\r\n")
            elif not c.start_tls(ctx, "+OK Begin TLS negotiation\r\n"):
                return
        elif cmd == "NOOP":
            c.send("+OK\r\n")
        elif cmd == "QUIT":
            c.send("+OK bye\r\n")
            return
        else:
            c.send("-ERR unknown command\r\n")


def serve(sock, peer, args, ctx, fh):
    log(fh, "accept", peer[0], peer[1])
    sock.settimeout(30)
    if args.split:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c = Conn(sock, args, fh)
    try:
        {"smtp": smtp, "imap": imap, "pop3": pop3}[args.mode](c, ctx, args)
    except (OSError, ssl.SSLError) as e:
        log(fh, "error", str(e).replace("\n", " "))
    finally:
        log(fh, "close")
        try:
            c.sock.close()
        except OSError:
            pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["smtp", "imap", "pop3"])
    p.add_argument("port", type=int)
    p.add_argument("log")
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    for flag in ("refuse", "no-starttls", "greeting-refuse", "multiline", "inject", "split"):
        p.add_argument("--" + flag, action="store_true")
    args = p.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)

    def sni(sslsock, name, _ctx):
        sslsock.sni = name
    ctx.sni_callback = sni

    ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind(("::", args.port))
    ls.listen(128)
    fh = open(args.log, "a", buffering=1)
    log(fh, "ready")
    while True:
        sock, peer = ls.accept()
        peer = (peer[0].removeprefix("::ffff:"), peer[1])
        threading.Thread(target=serve, args=(sock, peer, args, ctx, fh), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
