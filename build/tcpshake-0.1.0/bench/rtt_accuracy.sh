#!/bin/sh
# RTT accuracy against a tcpdump capture of the same run, side by side:
# tcpshake, hping3 and nping each send 200 SYN probes (10 ms apart) to a
# real listener across a veth pair in throwaway network namespaces; each
# tool's reported RTTs are compared with the SYN -> SYN/ACK time in the
# capture. Goal for tcpshake: median |error| <= 1 us, p99 <= 5 us.
# Needs root, and: apt-get install hping3 nmap tcpdump jq python3
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOPSRC=${TOPSRC:-$here/..}
TCPSHAKE=${TCPSHAKE:-$TOPSRC/build/src/tcpshake}
N=${N:-200}
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 80

capture() { # TOOL COMMAND...
	tool=$1
	shift
	ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -i veth0 -nn -U \
		--time-stamp-precision=nano -w "$BED_DIR/$tool.pcap" "tcp port 80" 2>"$BED_DIR/td.err" &
	td=$!
	for i in $(seq 100); do grep -q listening "$BED_DIR/td.err" && break; sleep 0.05; done
	in_client "$@" >"$BED_DIR/$tool.out" 2>&1
	sleep 0.3
	kill -TERM $td
	wait $td
}

capture tcpshake "$TCPSHAKE" -j -c "$N" -i 0.01 -p 80 $S4
capture hping3 hping3 -S -p 80 -c "$N" -i u10000 $S4
capture nping nping --tcp -p 80 -c "$N" --delay 10ms $S4
echo "RTT accuracy, $N probes each, against tcpdump on the same interface:"
python3 "$here/rtt_compare.py" "$BED_DIR"
