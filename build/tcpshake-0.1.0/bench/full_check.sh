#!/bin/sh
# Full-handshake checks against one local listener, side by side with
# nping --tcp-connect and the monitoring-plugins check_tcp: time per check
# (whole process, hyperfine), checks per second in one process, and what
# the server's application saw (clean ends of file or resets).
# Goal: tcpshake's time per check no worse than the best of them.
# Needs root, and: apt-get install nmap monitoring-plugins-basic hyperfine
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOPSRC=${TOPSRC:-$here/..}
TCPSHAKE=${TCPSHAKE:-$TOPSRC/build/src/tcpshake}
RUNS=${RUNS:-20}
N=${N:-200}
CHECK_TCP=/usr/lib/nagios/plugins/check_tcp
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 80
ns="ip netns exec $BED_C"

closes() { # COMMAND...: run it 10 times, print "eof/rst" seen by the server
	: >"$BED_DIR/listener.log"
	for i in $(seq 10); do "$@" >/dev/null 2>&1; done
	sleep 0.5
	echo "$(grep -c '^eof' "$BED_DIR/listener.log")/$(grep -c '^rst' "$BED_DIR/listener.log")"
}

hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$BED_DIR/h.json" \
	-n tcpshake "$ns $TCPSHAKE -q -c 1 -p 80 $S4" \
	-n nping "$ns nping -q --tcp-connect -c 1 -p 80 $S4" \
	-n check_tcp "$ns $CHECK_TCP -H $S4 -p 80" >/dev/null 2>&1
c_ts=$(closes $ns "$TCPSHAKE" -q -c 1 -p 80 $S4)
c_np=$(closes $ns nping -q --tcp-connect -c 1 -p 80 $S4)
c_ct=$(closes $ns $CHECK_TCP -H $S4 -p 80)

rate() { # COMMAND...: checks per second over N in one process
	s=$(date +%s%N)
	"$@" >/dev/null 2>&1
	e=$(date +%s%N)
	python3 -c "print(f'{$N / (($e - $s) / 1e9):.0f}')"
}
r_ts=$(rate $ns "$TCPSHAKE" -q -c "$N" -i 0.001 -p 80 $S4)
r_np=$(rate $ns nping -q --tcp-connect -c "$N" --delay 1ms -p 80 $S4)

python3 - "$BED_DIR/h.json" "$c_ts" "$c_np" "$c_ct" "$r_ts" "$r_np" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
closes = dict(zip(["tcpshake", "nping", "check_tcp"], sys.argv[2:5]))
rates = {"tcpshake": sys.argv[5], "nping": sys.argv[6], "check_tcp": "-"}
wire = {"tcpshake": "yes (capture timestamps)", "nping": "no (clock at processing)",
        "check_tcp": "no (gettimeofday around connect)"}
base = r["tcpshake"]["median"]
print(f"{'tool':10} {'ms/check':>9} {'vs tcpshake':>11} {'checks/s':>9} {'server eof/rst (10)':>20}  wire-accurate RTT")
for name, x in r.items():
    print(f"{name:10} {x['median'] * 1000:9.2f} {x['median'] / base:10.2f}x {rates[name]:>9} {closes[name]:>20}  {wire[name]}")
PY
