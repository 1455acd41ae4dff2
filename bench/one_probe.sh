#!/bin/sh
# One SYN probe to an open port on a local veth, whole process, side by
# side: tcpshake -M syn -c 1 against hping3 -S -c 1 and nping -c 1, timed by hyperfine
# (warm-up, then repeated runs). Goal: tcpshake no slower than hping3 -c 1.
# Needs root, and: apt-get install hping3 nmap hyperfine tcpdump jq python3
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOPSRC=${TOPSRC:-$here/..}
TCPSHAKE=${TCPSHAKE:-$TOPSRC/build/src/tcpshake}
RUNS=${RUNS:-30}
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 80
ns="ip netns exec $BED_C"
# hyperfine in the client's namespace: it times the tools themselves
$ns hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$BED_DIR/h.json" \
	-n tcpshake "$TCPSHAKE -M syn -q -c 1 -p 80 $S4" \
	-n hping3 "hping3 -q -S -c 1 -p 80 $S4" \
	-n nping "nping -q --tcp -c 1 -p 80 $S4" >/dev/null 2>&1
python3 - "$BED_DIR/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
base = r["tcpshake"]["median"]
print("one probe to an open port, whole process (median of %d runs):" % len(r["tcpshake"]["times"]))
for name, x in r.items():
    print(f"  {name:9} {x['median'] * 1000:9.2f} ms   {x['median'] / base:6.1f}x tcpshake")
PY
