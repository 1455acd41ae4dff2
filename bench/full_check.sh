#!/bin/sh
# Full-handshake checks against one local listener, side by side with
# nping --tcp-connect and the monitoring-plugins check_tcp: time per check
# one per process (hyperfine: a full check, and a SYN probe against
# nping --tcp), and back to back (N checks as fast as each tool goes, at N
# = 100, 1000 and 10000), and what the server's application saw (clean
# ends of file or resets, on a listener that logs them; the timings are
# against nginx).
# Goals (issue 16): one check per process, full mode <= 15 ms and syn mode
# <= 8 ms; back to back, faster per check than nping --tcp-connect at every N.
# Needs root, and: apt-get install nmap monitoring-plugins-basic hyperfine
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOPSRC=${TOPSRC:-$here/..}
TCPSHAKE=${TCPSHAKE:-$TOPSRC/build/src/tcpshake}
RUNS=${RUNS:-40}
NS=${NS:-100 1000 10000}
CHECK_TCP=/usr/lib/nagios/plugins/check_tcp
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 80
bed_nginx 8080 # the timed checks: a real server, whose accept queue keeps up
ns="ip netns exec $BED_C"

closes() { # COMMAND...: run it 10 times, print "eof/rst" seen by the server
	: >"$BED_DIR/listener.log"
	for i in $(seq 10); do "$@" >/dev/null 2>&1; done
	sleep 0.5
	echo "$(grep -c '^eof' "$BED_DIR/listener.log")/$(grep -c '^rst' "$BED_DIR/listener.log")"
}

# one check per process, as a monitoring system's plugin call; nping at a
# high --rate so it does not idle a second after its one probe. Each run
# comes 50 ms after the last (hyperfine --prepare, not timed), as checks
# from a monitoring system do: the kernel releases a run's sockets after its
# exit (a few ms), and a run started in that time waits for the nftables
# lock the release holds. PREPARE=true runs them back to back.
# hyperfine runs in the client's namespace: the commands it times are the
# tools themselves, not ip netns exec around them
$ns hyperfine -N --warmup 3 --runs "$RUNS" --prepare "${PREPARE-sleep 0.05}" --export-json "$BED_DIR/h.json" \
	-n "tcpshake full" "$TCPSHAKE -q -c 1 -p 8080 $S4" \
	-n "nping --tcp-connect" "nping -q --tcp-connect -c 1 --rate 100000 -p 8080 $S4" \
	-n "check_tcp" "$CHECK_TCP -H $S4 -p 8080" \
	-n "tcpshake syn" "$TCPSHAKE -M syn -q -c 1 -p 8080 $S4" \
	-n "nping --tcp (syn)" "nping -q --tcp -c 1 --rate 100000 -p 8080 $S4" >/dev/null 2>&1
# the same two with a socket open that asks the kernel for timestamps (as a
# time daemon's does, chrony's for one): the kernel then stamps frames in the
# stack, and a check reads its frames from a plain socket, no ring to set up
python3 -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 29, 1)  # SO_TIMESTAMP (x86-64, arm64)
time.sleep(600)' &
keeper=$!
sleep 0.5
$ns hyperfine -N --warmup 3 --runs "$RUNS" --prepare "${PREPARE-sleep 0.05}" --export-json "$BED_DIR/hs.json" \
	-n "tcpshake full" "$TCPSHAKE -q -c 1 -p 8080 $S4" \
	-n "tcpshake syn" "$TCPSHAKE -M syn -q -c 1 -p 8080 $S4" >/dev/null 2>&1
kill $keeper
c_ts=$(closes $ns "$TCPSHAKE" -q -c 1 -p 80 $S4)
c_np=$(closes $ns nping -q --tcp-connect -c 1 --rate 100000 -p 80 $S4)
c_ct=$(closes $ns $CHECK_TCP -H $S4 -p 80)

# N checks back to back, each tool as fast as it goes, in one process
sustained() { # N COMMAND...: milliseconds per check, whole process
	n=$1
	shift
	s=$(date +%s%N)
	"$@" >"$BED_DIR/sustained.out" 2>&1
	e=$(date +%s%N)
	python3 -c "print(f'{($e - $s) / 1e6 / $n:.4f}')"
}
: >"$BED_DIR/b2b"
for n in $NS; do
	t_ts=$(sustained "$n" $ns "$TCPSHAKE" -q -c "$n" -i 0.00001 -p 8080 $S4)
	ok_ts=$(grep -c "^$n probes, $n open" "$BED_DIR/sustained.out")
	t_np=$(sustained "$n" $ns nping -q --tcp-connect -c "$n" --rate 100000 -p 8080 $S4)
	ok_np=$(grep -c "Successful connections: $n " "$BED_DIR/sustained.out")
	echo "$n $t_ts $ok_ts $t_np $ok_np" >>"$BED_DIR/b2b"
done
t_ct=$(sustained 100 sh -c "for i in \$(seq 100); do $ns $CHECK_TCP -H $S4 -p 8080 >/dev/null || exit 1; done")

python3 - "$BED_DIR/h.json" "$BED_DIR/b2b" "$c_ts" "$c_np" "$c_ct" "$t_ct" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: v["median"] * 1000 for k, v in r.items()}
closes = dict(zip(["tcpshake", "nping", "check_tcp"], sys.argv[3:6]))
t_ct = float(sys.argv[6])
runs = len(r["tcpshake full"]["times"])
print(f"one check per process, median of {runs} (hyperfine, in the client's namespace):")
for name, m in med.items():
    print(f"  {name:22} {m:8.2f} ms   {m / med['tcpshake full']:5.2f}x tcpshake full")
print(f"  server saw eof/rst of 10: tcpshake {closes['tcpshake']}, nping {closes['nping']},"
      f" check_tcp {closes['check_tcp']}")
full, syn = med["tcpshake full"], med["tcpshake syn"]
st = {x["command"]: x["median"] * 1000 for x in json.load(open(sys.argv[1].replace("h.json", "hs.json")))["results"]}
print(f"goal: one full check per process <= 15 ms: {full:.2f} ms: {'met' if full <= 15 else 'not met'}"
      f" ({full / med['nping --tcp-connect']:.2f}x nping --tcp-connect, {full / med['check_tcp']:.2f}x check_tcp);"
      f" with the kernel stamping (a time daemon's socket open): {st['tcpshake full']:.2f} ms:"
      f" {'met' if st['tcpshake full'] <= 15 else 'not met'}")
print(f"goal: one SYN probe per process <= 8 ms: {syn:.2f} ms: {'met' if syn <= 8 else 'not met'}"
      f" ({syn / med['nping --tcp (syn)']:.2f}x nping --tcp); with the kernel stamping:"
      f" {st['tcpshake syn']:.2f} ms: {'met' if st['tcpshake syn'] <= 8 else 'not met'}")
print("back to back, ms per check (whole process, N checks in one run):")
allmet = True
for line in open(sys.argv[2]):
    n, ts, okts, np, oknp = line.split()
    ts, np = float(ts), float(np)
    met = ts < np and okts != "0"
    allmet &= met
    print(f"  N={n:>6}  tcpshake {ts:8.4f} (all open: {'yes' if okts != '0' else 'NO'})"
          f"   nping --tcp-connect {np:8.4f} (all connected: {'yes' if oknp != '0' else 'NO'})"
          f"   ratio {np / ts:6.2f}x   {'met' if met else 'not met'}")
print(f"  check_tcp, a process per check: {t_ct:.3f} ms per check")
print(f"goal: back to back faster per check than nping at every N: {'met' if allmet else 'not met'}")
PY
