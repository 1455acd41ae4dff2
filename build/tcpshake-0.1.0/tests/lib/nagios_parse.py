#!/usr/bin/env python3
"""Parse a plugin's output line by the Nagios plugin development guidelines.

Usage: nagios_parse.py < LINE   prints the state word and one line per
perfdata item as "label value uom warn crit min max"; exit 1 on anything
that does not follow the grammar:
  TEXT [ '|' PERFDATA ]        one line
  PERFDATA: 'label'=value[UOM];[warn];[crit];[min];[max], space separated
  label: any characters but '=' and ''' (quoted when it holds spaces)
  value: [-0-9.] or 'U'; UOM: s ms us % B KB MB TB c or none"""
import re
import sys

lines = sys.stdin.read().split("\n")
if len(lines) != 2 or lines[1] != "":
    sys.exit("not exactly one line")
line = lines[0]
m = re.match(r"^TCPSHAKE (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]*)(?:\|(.*))?$", line)
if not m:
    sys.exit("status text does not match 'TCPSHAKE STATE - text'")
out = [m.group(1)]
perf = m.group(3) or ""
num = r"-?[0-9]+(?:\.[0-9]+)?"
item = re.compile(
    r"(?:'([^'=]+)'|([^' =]+))=(U|" + num + r")(s|ms|us|%|B|KB|MB|TB|c)?"
    r";(" + num + r")?;(" + num + r")?;(" + num + r")?;(" + num + r")?")
pos = 0
while pos < len(perf):
    mm = item.match(perf, pos)
    if not mm:
        sys.exit(f"bad perfdata at: {perf[pos:]}")
    label = mm.group(1) or mm.group(2)
    out.append(" ".join([label] + [g if g is not None else "-" for g in mm.groups()[2:]]))
    pos = mm.end()
    if pos < len(perf):
        if perf[pos] != " ":
            sys.exit(f"perfdata items must be separated by a space at: {perf[pos:]}")
        pos += 1
try:
    print("\n".join(out))
except BrokenPipeError:
    pass
