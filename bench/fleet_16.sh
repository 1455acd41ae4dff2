#!/bin/sh
# Syn mode over a /16 (65,536 addresses, port 80) on a bed that answers for
# the whole block (some sub-blocks drop, reset or send ICMP errors), side by
# side with nmap -sS and zmap at the same rate: wall and CPU time, peak RSS
# (/usr/bin/time), and agreement with the bed and with a tcpdump capture of
# each run. Goals: 100% agreement, wall <= 0.5x nmap's, peak RSS <= 6 MB.
# Needs root, and: apt-get install nmap zmap time tcpdump python3
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOPSRC=${TOPSRC:-$here/..}
TCPSHAKE=${TCPSHAKE:-$TOPSRC/build/src/tcpshake}
RATE=${RATE:-20000}
TS_RATE=${TS_RATE:-30000}
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_anyip
bed_listen 80
gw=$(ip -n "$BED_S" -br link show veth0 | awk '{print $3}')

run() { # RUN RATE COMMAND...: time it under a capture
	tool=$1
	echo "$2" >"$BED_DIR/$tool.rate"
	shift 2
	ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -B 65536 -i veth0 -nn -U -s 128 \
		-w "$BED_DIR/$tool.pcap" "tcp port 80 or icmp" 2>"$BED_DIR/td.err" &
	td=$!
	for i in $(seq 100); do grep -q listening "$BED_DIR/td.err" && break; sleep 0.05; done
	ip netns exec "$BED_C" /usr/bin/time -o "$BED_DIR/$tool.time" -f "%e %U %S %M" "$@" \
		>"$BED_DIR/$tool.out" 2>"$BED_DIR/$tool.err"
	sleep 1
	kill -TERM $td
	wait $td
}

run tcpshake "$RATE" "$TCPSHAKE" -M syn -j -q -p 80 --rate "$RATE" 198.19.0.0/16
run tcpshake-fast "$TS_RATE" "$TCPSHAKE" -M syn -j -q -p 80 --rate "$TS_RATE" 198.19.0.0/16
run nmap "$RATE" nmap -sS -n -Pn --min-rate "$RATE" -p 80 -oG - 198.19.0.0/16
run zmap "$RATE" zmap -q -p 80 -r "$RATE" -B 0 -b /dev/null -c 1 -i veth0 -S $C4 -G "$gw" \
	--output-filter="success = 1 || success = 0" -f saddr,classification -o - 198.19.0.0/16
echo "Syn mode over 198.19.0.0/16 port 80 (the peers at $RATE probes/s):"
tail -n1 "$BED_DIR/tcpshake.out"
tail -n1 "$BED_DIR/tcpshake-fast.out"
python3 "$here/fleet_compare.py" "$BED_DIR"
