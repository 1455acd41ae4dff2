#!/bin/sh
# Syn mode over a /16 (65,536 addresses, port 80) on a bed that answers for
# the whole block (some sub-blocks drop, reset or send ICMP errors), side by
# side with nmap -sS and zmap at the same rate: wall and CPU time, peak RSS
# (/usr/bin/time), and agreement with the bed and with a tcpdump capture of
# each run, and the capture drops tcpshake counted. First, the machine's
# limit: the packets per second bench/minsend.c (a sendmmsg loop of one
# constant frame) reaches on the same veth; every rate is shown as a share.
# Goals (issue 16), for tcpshake at every rate up to that limit: 100% right
# and equal to the capture, zero capture drops, peak RSS <= 6 MB, CPU per
# probe no more than zmap's at the same rate; and the /16's wall time no
# more than zmap's at its own best rate.
# Needs root, and: apt-get install nmap zmap time tcpdump python3 gcc
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOPSRC=${TOPSRC:-$here/..}
TCPSHAKE=${TCPSHAKE:-$TOPSRC/build/src/tcpshake}
RATE=${RATE:-20000}
RATES=${RATES:-20000 50000 100000}
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

# the machine's limit: one constant SYN, 65,536 times, to the server's port 9
cc -O2 -o "$BED_DIR/minsend" "$here/minsend.c" || exit 1
ip netns exec "$BED_C" "$BED_DIR/minsend" veth0 "$gw" $C4 $S4 65536 >/dev/null # warm
LIMIT=$(ip netns exec "$BED_C" "$BED_DIR/minsend" veth0 "$gw" $C4 $S4 65536 | awk '{print $1}')
echo "$LIMIT" >"$BED_DIR/limit"
sleep 1

zmap_run() { # NAME RATE
	run "$1" "$2" zmap -q -p 80 -r "$2" -B 0 -b /dev/null -c 1 -i veth0 -S $C4 -G "$gw" \
		--output-filter="success = 1 || success = 0" -f saddr,classification -o - 198.19.0.0/16
}
for rate in $RATES; do
	run "tcpshake-$rate" "$rate" "$TCPSHAKE" -M syn -j -q -p 80 --rate "$rate" 198.19.0.0/16
	zmap_run "zmap-$rate" "$rate"
done
zmap_run zmap-best "$LIMIT"
run nmap "$RATE" nmap -sS -n -Pn --min-rate "$RATE" -p 80 -oG - 198.19.0.0/16
echo "Syn mode over 198.19.0.0/16 port 80; the machine's limit (bench/minsend.c):" \
	"$LIMIT packets/s"
python3 "$here/fleet_compare.py" "$BED_DIR" $RATES
