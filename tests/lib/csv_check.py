#!/usr/bin/env python3
"""Read tcpshake's CSV with Python's csv module, strictly.

Usage: csv_check.py FILE  prints "ROWS" then one line per row:
"port outcome flags icmp_name close http_status". Exit 1 if any row's field
count differs from the header's or the header is not the expected one."""
import csv
import sys

want = ("target,addr,port,seq,sport,outcome,flags,rtt_us,rtt_source,ttl,win,mss,icmp_type,"
        "icmp_code,icmp_name,icmp_from,time,mode,established,close,close_us,segments,"
        "http_status,http_ttfb_us,http_bytes,syns,middlebox_verdict,middlebox_evidence,"
        "middlebox_reset,middlebox_ts_lag_ms").split(",")
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f, strict=True))
if rows[0] != want:
    sys.exit(f"header {rows[0]}")
for r in rows[1:]:
    if len(r) != len(want):
        sys.exit(f"row of {len(r)} fields: {r}")
print(len(rows) - 1)
for r in sorted(rows[1:], key=lambda r: (int(r[2]), int(r[3]))):
    d = dict(zip(want, r))
    print(d["port"], d["outcome"], d["flags"] or "-", d["icmp_name"] or "-", d["close"] or "-",
          d["http_status"] or "-")
