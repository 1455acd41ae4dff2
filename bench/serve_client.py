#!/usr/bin/env python3
"""Scrape a prober's /probe URL N times over keep-alive connections, as
Prometheus does, with C clients at once; print one JSON line: wall ms per
check, the median latency of a request, how many succeeded, and the median
of a few of the answers' metrics.

Usage: serve_client.py URL N C"""
import http.client
import json
import statistics
import sys
import threading
import time
import urllib.parse

url, n, conc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
u = urllib.parse.urlsplit(url)
path = u.path + ("?" + u.query if u.query else "")
lat, ok, metrics = [], [], {}
lock = threading.Lock()


def worker(count):
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    for _ in range(count):
        t0 = time.perf_counter()
        conn.request("GET", path, headers={"X-Prometheus-Scrape-Timeout-Seconds": "5"})
        body = conn.getresponse().read().decode()
        dt = time.perf_counter() - t0
        vals = {}
        for line in body.splitlines():
            if line and not line.startswith("#"):
                k, _, v = line.rpartition(" ")
                vals[k] = float(v)
        with lock:
            lat.append(dt)
            ok.append(vals.get("probe_success", 0) == 1)
            for k in ("probe_duration_seconds", "tcpshake_probe_rtt_seconds"):
                if k in vals:
                    metrics.setdefault(k, []).append(vals[k])


per = [n // conc + (1 if i < n % conc else 0) for i in range(conc)]
threads = [threading.Thread(target=worker, args=(c,)) for c in per]
t0 = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - t0
print(json.dumps({
    "ms_per_check": wall * 1000 / n,
    "median_request_ms": statistics.median(lat) * 1000,
    "ok": sum(ok), "n": n,
    **{k + "_median_ms": statistics.median(v) * 1000 for k, v in metrics.items()},
}))
