#!/bin/sh
# Health checks over a lossy path (issue 11): 10% of the segments to and from
# port 80 dropped each way (the lossy bed of tests/lib/bed.sh), a real nginx
# behind it, 200 checks with each tool against it:
#   tcpshake   full mode, one process (-c 200 -i 0.05)
#   check_tcp  monitoring-plugins, a process per check (4 at a time)
#   nping      --tcp-connect, one process (-c 200 --delay 50ms)
#   hping3     -S, one process (-c 200 -i u50000)
# For each: the share of checks that said "open" (every one should: the port
# is open) and the connections the server still holds 1 s later (neither
# LISTEN nor TIME-WAIT). Goal: tcpshake 100% right and nothing left, at least
# as good as check_tcp on both. Not run in CI.
# Needs root, and:
#   apt-get install nginx-light ethtool nmap hping3 monitoring-plugins-basic tcpdump jq
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOPSRC=${TOPSRC:-$here/..}
TCPSHAKE=${TCPSHAKE:-$TOPSRC/build/src/tcpshake}
N=${N:-200}
LOSS=${LOSS:-10}
CHECK_TCP=/usr/lib/nagios/plugins/check_tcp
for t in nginx nping hping3 "$CHECK_TCP"; do
	command -v "$t" >/dev/null || { echo "needs $t: apt-get install nginx-light nmap hping3 monitoring-plugins-basic"; exit 1; }
done
. "$TOPSRC/tests/lib/bed.sh"
bed_lossy_up
bed_nginx 80
bed_loss "$LOSS" "$LOSS" 80
ns="ip netns exec $BED_C"
res="$BED_DIR/results"
: >"$res"

run() { # NAME: run the tool's N checks, append "NAME right leftovers seconds"
	s=$(date +%s%N)
	right=$("$1")
	e=$(date +%s%N)
	left=$(bed_ss_leftovers 80 | wc -l)
	echo "$1 $right $left $(((e - s) / 1000000))" >>"$res"
	bed_ss_reset 80
	sleep 1
}

# tcpshake with check_tcp's timeout (-t 10 below); its RTTs are compared
# with a tcpdump capture of the same run afterwards
tcpshake() {
	$ns tcpdump -Z root --immediate-mode -i veth0 -nn -U --time-stamp-precision=nano \
		-w "$BED_DIR/ts.pcap" "tcp port 80" 2>"$BED_DIR/td.err" &
	td=$!
	for i in $(seq 100); do grep -q listening "$BED_DIR/td.err" && break; sleep 0.05; done
	$ns "$TCPSHAKE" -j -c "$N" -i 0.05 -W 10 -p 80 $LS4 2>/dev/null >"$BED_DIR/ts.json"
	sleep 0.3
	kill $td
	wait $td 2>/dev/null
	jq -r 'select(.type=="probe") | .outcome' "$BED_DIR/ts.json" | grep -c '^open$'
}
check_tcp() {
	seq "$N" | $ns xargs -P 4 -I{} $CHECK_TCP -H $LS4 -p 80 -t 10 2>/dev/null | grep -c '^TCP OK'
}
nping() {
	$ns nping --tcp-connect -c "$N" --delay 50ms -p 80 $LS4 2>/dev/null |
		sed -n 's/.*Successful connections: \([0-9]*\).*/\1/p'
}
hping3() {
	# its "packets received" also counts SYN/ACKs the server sent again (their
	# RST lost) to earlier probes: count the probes (seq=) that got a SYN/ACK
	$ns hping3 -S -c "$N" -i u50000 -p 80 $LS4 2>/dev/null |
		grep -o 'flags=SA seq=[0-9]*' | sort -u | wc -l
}

for tool in tcpshake check_tcp nping hping3; do run $tool; done
echo "# segments dropped by the middle: $(bed_loss_drops)"
python3 - "$TOPSRC/tests/lib" "$BED_DIR/ts.pcap" "$BED_DIR/ts.json" <<'PY'
# Each probe's reported RTT against the capture: its SYN/ACK is the one on its
# source port at the reply time the JSON gives (to the microsecond), its SYN
# the last one with the sequence number that SYN/ACK acknowledges.
import json, statistics, struct, sys
sys.path.insert(0, sys.argv[1])
from pcapkit import read_pcap
segs = {}
for ts, fr in read_pcap(sys.argv[2]):
    et = struct.unpack("!H", fr[12:14])[0] if len(fr) >= 14 else 0
    ip = fr[14:]
    if et == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        tcp = ip[(ip[0] & 15) * 4:]
    elif et == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        tcp = ip[40:]
    else:
        continue
    sp, dp, seq, ack = struct.unpack("!HHII", tcp[:12])
    segs.setdefault(dp if sp == 80 else sp, []).append((ts, sp == 80, seq, ack, tcp[13]))
err = []
for line in open(sys.argv[3]):
    p = json.loads(line)
    if p.get("type") != "probe" or p.get("rtt_us") is None:
        continue
    t_us = round(p["time"] * 1e6)
    cand = [s for s in segs.get(p["sport"], []) if s[1] and s[4] & 0x12 == 0x12
            and abs(s[0] // 1000 - t_us) <= 1]
    if not cand:
        continue
    sa = cand[0]
    syns = [s for s in segs[p["sport"]] if not s[1] and s[4] & 0x02 and s[2] + 1 == sa[3]
            and s[0] <= sa[0]]
    if syns:
        err.append(abs((sa[0] - syns[-1][0]) / 1e3 - p["rtt_us"]))
if err:
    print("tcpshake RTT against tcpdump, %d probes: median |error| %.2f us, max %.2f us; "
          "goal within 1 us: %s" % (len(err), statistics.median(err), max(err),
                                    "met" if statistics.median(err) <= 1 else "NOT met"))
PY

python3 - "$res" "$N" "$LOSS" <<'PY'
import sys
n, loss = int(sys.argv[2]), sys.argv[3]
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
ref = next((r for r in rows if r[0] == "check_tcp"), None)
print(f"{n} checks each, {loss}% loss both ways, against nginx")
print(f"{'tool':<10} {'right':>6} {'share':>7} {'vs check_tcp':>12} {'left on server':>15} {'wall s':>7}")
for name, right, left, ms in rows:
    right = int(right or 0)
    share = right / n
    ratio = share / (int(ref[1]) / n) if ref and int(ref[1]) else float("nan")
    print(f"{name:<10} {right:>6} {share:>7.1%} {ratio:>11.2f}x {int(left):>15} {int(ms) / 1000:>7.1f}")
ts = next((r for r in rows if r[0] == "tcpshake"), None)
if ts and ref:
    ok = int(ts[1]) == n and int(ts[2]) == 0
    print("goal: tcpshake 100%% right and nothing left: %s" % ("met" if ok else "NOT met"))
    ok = int(ts[1]) >= int(ref[1]) and int(ts[2]) <= int(ref[2])
    print("goal: at least as good as check_tcp on both: %s" % ("met" if ok else "NOT met"))
PY
