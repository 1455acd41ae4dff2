#!/bin/sh
# Faults: the interface going down mid-run ends with exit 4 and one clear
# line (and no table left); SIGTERM mid-fleet prints what was seen; a
# capture buffer too small for the run drops frames, and the drops are
# counted, reported and covered by retries.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_anyip
bed_listen 80

for mode in syn full; do
	ip netns exec "$BED_C" "$TCPSHAKE" -M $mode -q -i 0.05 -p 80 $S4 >"$BED_DIR/down.out" 2>"$BED_DIR/down.err" &
	pid=$!
	sleep 0.4
	ip -n "$BED_C" link set veth0 down
	for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill -0 $pid 2>/dev/null && { kill -9 $pid; echo "tcpshake kept running"; }
	wait $pid
	expect_eq "$mode: the interface going down: exit 4" "$?" 4
	check "$mode: one clear line naming the interface ($(head -n1 "$BED_DIR/down.err"))" \
		sh -c "test \$(wc -l <'$BED_DIR/down.err') = 1 && grep -qE '^tcpshake: .*interface veth0 went down\$' '$BED_DIR/down.err'"
	check "$mode: the statistics so far" grep -q "tcpshake statistics" "$BED_DIR/down.out"
	expect_eq "$mode: no table left" "$(bed_tables_left)" 0
	ip -n "$BED_C" link set veth0 up
	sleep 0.3
done

# Nagios speaks only 0-3: the interface going down is one UNKNOWN line
# naming the error, and exit 3 (--form, an abbreviation getopt takes).
ip netns exec "$BED_C" "$TCPSHAKE" -M syn --form=nagios -i 0.05 -p 80 $S4 >"$BED_DIR/nd.out" 2>"$BED_DIR/nd.err" &
pid=$!
sleep 0.4
ip -n "$BED_C" link set veth0 down
for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -9 $pid; echo "tcpshake kept running"; }
wait $pid
expect_eq "nagios: the interface going down: exit 3" "$?" 3
check "nagios: one UNKNOWN line naming the interface ($(cat "$BED_DIR/nd.out"))" \
	sh -c "test \$(wc -l <'$BED_DIR/nd.out') = 1 && grep -qE '^TCPSHAKE UNKNOWN - .*interface veth0 went down' '$BED_DIR/nd.out'"
ip -n "$BED_C" link set veth0 up
sleep 0.3

for a in --form=nagios "--fo nagios" "--format json --format=nagios"; do
	in_client "$TCPSHAKE" $a -p 0 $S4 >"$BED_DIR/nu.out" 2>/dev/null
	expect_eq "nagios ($a): a usage error is exit 3 and an UNKNOWN line" \
		"$?,$(cut -c1-16 "$BED_DIR/nu.out")" "3,TCPSHAKE UNKNOWN"
done
in_client "$TCPSHAKE" --format nagios --format json -p 0 $S4 >"$BED_DIR/nu.out" 2>/dev/null
expect_eq "--format json after nagios: a usage error is exit 3, nothing on stdout" \
	"$?,$(wc -c <"$BED_DIR/nu.out")" "3,0"

ip -n "$BED_C" route replace 198.19.0.0/16 via $S4
ip netns exec "$BED_C" "$TCPSHAKE" -M syn -j --rate 500 -p 80 198.19.0.0/20 >"$BED_DIR/term.json" 2>&1 &
pid=$!
sleep 0.6
kill -TERM $pid
wait $pid
rc=$?
expect_eq "SIGTERM mid-fleet: the code for what was seen (some not open)" "$rc" 1
check "SIGTERM mid-fleet: a run line counting only what was probed" \
	jq_true "$BED_DIR/term.json" '[.[]|select(.type=="run")][0] | .targets > 100 and .targets < 4096'

# A capture that cannot keep up drops frames; the drops are counted and
# reported, and the probes whose answers were lost are sent again. tcpshake
# reads its capture between every few sends, so a burst of its own does not
# overflow even the smallest buffer (-B 64): the run is stopped (SIGSTOP)
# while the server floods its ports with segments the filter keeps (from a
# target's address), then let go; the probes it started before and after
# must all end open.
flood() { # the server sends 6,000 ACKs from 198.19.4.1:80 over the client's port range
	in_server python3 - "$TOPSRC/tests/lib" "$(ip -n "$BED_C" -br link show veth0 | awk '{print $3}')" \
		"$(ip -n "$BED_S" -br link show veth0 | awk '{print $3}')" "$C4" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[1])
from pcapkit import ip_packet, tcp_segment
dmac, smac = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[2:4])
src, dst = socket.inet_aton("198.19.4.1"), socket.inet_aton(sys.argv[4])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("veth0", 0))
for i in range(6000):
    seg = tcp_segment(80, 61000 + i % 4536, 1000 + i, 1, 0x10)
    s.send(dmac + smac + b"\x08\x00" + ip_packet(src, dst, 6, seg, False))
    if i % 200 == 199:
        time.sleep(0.002)  # the receiving stack's backlog holds 1,000 frames
PY
}
packet_sockets() { in_client cat /proc/net/packet | tail -n +2 | wc -l; }
drop_run() { # FORMAT_ARGS OUT: a /22, stopped mid-run for the flood
	local i
	for i in $(seq 100); do # the last run's capture is released (after its exit)
		[ "$(packet_sockets)" -eq 0 ] && break
		sleep 0.02
	done
	ip netns exec "$BED_C" "$TCPSHAKE" -M syn -q -B 64 --rate 2000 --retries 10 -p 80 $1 \
		198.19.4.0/22 >"$2" 2>"$2.err" &
	local pid=$!
	for i in $(seq 100); do # its capture is open: it is probing
		[ "$(packet_sockets)" -gt 0 ] && break
		sleep 0.02
	done
	sleep 0.1
	kill -STOP $pid
	flood
	kill -CONT $pid
	wait $pid
}
drop_run -j "$BED_DIR/drops.json"
expect_eq "capture drops: exit 0, every address open" \
	"$?,$(jq -c 'select(.type=="run") | [.targets,.open,.filtered]' "$BED_DIR/drops.json")" "0,[1024,1024,0]"
check "capture drops: counted in the run line ($(jq -c 'select(.type=="run") | [.pcap_drops,.retried]' "$BED_DIR/drops.json"))" \
	jq_true "$BED_DIR/drops.json" '[.[]|select(.type=="run")][0] | .pcap_drops > 0'
expect_eq "capture drops: nothing on stderr" "$(cat "$BED_DIR/drops.json.err")" ""
drop_run "" "$BED_DIR/drops.txt"
check "capture drops: reported in the text run summary" grep -Eq "^capture dropped [1-9][0-9]* packets$" "$BED_DIR/drops.txt"
check "capture drops: text says every address is open" grep -q "1024 open" "$BED_DIR/drops.txt"

bed_finish
