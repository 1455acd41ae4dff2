#!/bin/sh
# The synproxy verdict over IPv6 (and IPv4 beside it), through the lossy
# bed's relay. Linux's nft synproxy checks an IPv6 segment's checksum with
# IPv4's pseudo-header (nf_ip_checksum in nft_synproxy.c), so it drops every
# IPv6 segment whose checksum the kernel must verify itself - a crafted one
# over veth (tests/integration/middlebox.sh has IPv4 only for that). A NIC
# with checksum offload hands segments over verified, and the synproxy works:
# the relay does the same here (relay.py --partial-csum: the segments reach
# the server as CHECKSUM_PARTIAL, verified by no one on the way), with tx
# checksumming on along the middle. Checked: the verdict and the reset after
# the handshake in the report, the zero window, its update and the reset in
# tcpdump, the listener's accepts and ends of file, ss on the server.
. "$TOPSRC/tests/lib/bed.sh"
bed_lossy_up
in_server python3 "$TOPSRC/tests/lib/listener.py" "$BED_DIR/listener.log" 90 >/dev/null 2>&1 &
for i in $(seq 50); do grep -q ready "$BED_DIR/listener.log" 2>/dev/null && break; sleep 0.05; done
in_middle ethtool -K ca tx on >/dev/null 2>&1
in_middle ethtool -K sv tx on >/dev/null 2>&1
bed_relay --partial-csum
bed_synproxy 1440
WIRE="python3 $TOPSRC/tests/lib/middlebox_wire.py"
probes() { jq -r 'select(.type=="probe") | [.port, .middlebox.verdict, .middlebox.reset, .close] | join(",")' "$1" | sort | uniq -c | awk '{print $1" "$2}' | tr '\n' ';'; }
count() { grep -c "^$1 $2\$" "$BED_DIR/listener.log"; }

for fam in 6 4; do
	if [ $fam = 4 ]; then addr=$LS4 caddr=$LC4; else addr=$LS6 caddr=$LC6; fi
	: >"$BED_DIR/listener.log"
	in_client tcpdump -Z root --immediate-mode -i veth0 -nn -U -w "$BED_DIR/o$fam.pcap" tcp 2>"$BED_DIR/td.err" &
	tdpid=$!
	for i in $(seq 100); do grep -q listening "$BED_DIR/td.err" && break; sleep 0.05; done
	in_client "$TCPSHAKE" -j -c 3 -i 0.1 -p 90,92 "$addr" >"$BED_DIR/o$fam.json" 2>"$BED_DIR/o$fam.err"
	rc=$?
	sleep 0.2; kill -TERM $tdpid; wait $tdpid
	expect_eq "IPv$fam synproxy: exit 0, nothing on stderr" "$rc,$(cat "$BED_DIR/o$fam.err")" "0,"
	expect_eq "IPv$fam synproxy: a listener behind it (90), a closed port (92)" "$(probes "$BED_DIR/o$fam.json")" \
		"3 90,synproxy,false,fin;3 92,synproxy,true,peer-rst;"
	check "IPv$fam synproxy: the evidence names the zero window" jq_true "$BED_DIR/o$fam.json" \
		'[.[] | select(.type=="probe") | .middlebox.evidence | test("SYN/ACK window 0")] | all'
	expect_eq "IPv$fam synproxy: the listener accepted 3 and read 3 clean ends of file" \
		"$(count accept 90),$(count eof 90)" "3,3"
	$WIRE "$BED_DIR/o$fam.pcap" $caddr >"$BED_DIR/o$fam.wire"
	expect_eq "IPv$fam synproxy (tcpdump): zero windows, the updates behind the listener, the resets before the closed port" \
		"$(jq -r 'select(.type=="probe") | "\(.sport) \(.port)"' "$BED_DIR/o$fam.json" | while read -r sp port; do
			echo "$port $(grep "^$sp " "$BED_DIR/o$fam.wire" | cut -d' ' -f2,4,5)"; done | sort | uniq -c | awk '{$1=$1};1' | tr '\n' ';')" \
		"3 90 sa_win=0 update=1 rst=0;3 92 sa_win=0 update=0 rst=1;"
done
expect_eq "synproxy (ss): nothing left on the server but LISTEN and TIME-WAIT" "$(bed_ss_leftovers 90)" ""
bed_relay_stop
check "the relay sent every frame: its counters" grep -q "^frames [1-9]" "$BED_DIR/relay.stats"
bed_finish
