#!/bin/sh
# The middlebox verdict (issue 17), IPv4 and IPv6 where the kernel allows:
#   - an nftables synproxy in front of a real listener (the nft wiki's recipe:
#     SYNs untracked in a raw prerouting chain, "ct state invalid,untracked
#     synproxy", tcp_loose=0): synproxy, from the SYN/ACK's zero window and
#     the window update after our ACK; in front of a closed port: synproxy and
#     the handshake-then-reset pattern
#   - tcp_syncookies=2 on a plain server: syncookies, from the SYN/ACK's
#     timestamp behind the server's clock
#   - a plain server: none; one that resets after accept: unknown and the
#     reset; --close rst: unknown (nothing after the SYN/ACK); --no-middlebox
#   - the three witnesses: the report, tcpdump (the SYN/ACK's window, the
#     window update, the timestamp lag of each connection, recomputed from
#     the capture) and the server (ss -tan a second later; its cookie counter)
#   - the verdict in every format: text, JSON, CSV, Nagios, Prometheus
# The synproxy over IPv6 is in middlebox_offload.sh: Linux's nft synproxy
# checks an IPv6 segment's checksum with IPv4's pseudo-header (nf_ip_checksum
# in nft_synproxy.c) and drops any whose checksum the kernel must verify - a
# crafted SYN over veth; a relay delivering them as a NIC's offload does
# gets them through.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 90 91:reset 93
WIRE="python3 $TOPSRC/tests/lib/middlebox_wire.py"
in_server sysctl -qw net.ipv4.tcp_syncookies=1
bed_synproxy 1460

# verdict,reset,close of every probe of a JSON file, counted
probes() { jq -r 'select(.type=="probe") | [.middlebox.verdict, .middlebox.reset, .close] | join(",")' "$1" | sort | uniq -c | awk '{print $1" "$2}' | tr '\n' ';'; }
count() { grep -c "^$1 $2\$" "$BED_DIR/listener.log"; }
cookies_sent() { in_server nstat -az TcpExtSyncookiesSent | awk '/SyncookiesSent/ {print $2}'; }

# ---- a synproxy in front of a listener, and in front of a closed port ----
: >"$BED_DIR/listener.log"
bed_capture_start sp
in_client "$TCPSHAKE" -j -c 3 -i 0.1 -p 90,92 $S4 >"$BED_DIR/sp.json" 2>"$BED_DIR/sp.err"
rc=$?
bed_capture_stop
expect_eq "synproxy: exit 0, nothing on stderr" "$rc,$(cat "$BED_DIR/sp.err")" "0,"
expect_eq "synproxy before a listener: every probe synproxy, no reset, closed with fin" \
	"$(jq -c 'select(.type=="probe" and .port==90)' "$BED_DIR/sp.json" >"$BED_DIR/sp90.json"; probes "$BED_DIR/sp90.json")" \
	"3 synproxy,false,fin;"
check "synproxy: the evidence names the zero window and its update" jq_true "$BED_DIR/sp90.json" \
	'[.[] | .middlebox.evidence | test("^SYN/ACK window 0; window update to [1-9]")] | all'
expect_eq "synproxy before a closed port: synproxy and the reset after the handshake" \
	"$(jq -c 'select(.type=="probe" and .port==92)' "$BED_DIR/sp.json" >"$BED_DIR/sp92.json"; probes "$BED_DIR/sp92.json")" \
	"3 synproxy,true,peer-rst;"
expect_eq "synproxy: the listener accepted 3 and read 3 clean ends of file" "$(count accept 90),$(count eof 90)" "3,3"
$WIRE "$BED_DIR/sp.pcap" $C4 >"$BED_DIR/sp.wire"
expect_eq "synproxy (tcpdump): SYN/ACK window 0 and a window update, port 90" \
	"$(for p in $(jq -r '.sport' "$BED_DIR/sp90.json"); do grep "^$p " "$BED_DIR/sp.wire" | cut -d' ' -f2,4,5; done | sort | uniq -c | awk '{$1=$1};1')" \
	"3 sa_win=0 update=1 rst=0"
expect_eq "synproxy (tcpdump): SYN/ACK window 0 and a reset before anything else, port 92" \
	"$(for p in $(jq -r '.sport' "$BED_DIR/sp92.json"); do grep "^$p " "$BED_DIR/sp.wire" | cut -d' ' -f2,5; done | sort | uniq -c | awk '{$1=$1};1')" \
	"3 sa_win=0 rst=1"
expect_eq "synproxy (ss): nothing left on the server but LISTEN and TIME-WAIT" "$(bed_ss_leftovers 90)" ""
expect_eq "synproxy summary (JSON)" \
	"$(jq -c 'select(.type=="summary") | [.port, .middlebox.synproxy, .middlebox.none, .middlebox.reset]' "$BED_DIR/sp.json" | sort | tr '\n' ' ')" \
	"[90,3,0,0] [92,3,0,3] "

# the formats
in_client "$TCPSHAKE" -c 1 -p 90,92 $S4 >"$BED_DIR/fleet.txt" 2>&1
check "synproxy (text, several target:ports): the fleet line names it and the reset" \
	grep -q '^198.18.0.2:92 open .* middlebox=synproxy reset-after-handshake=1' "$BED_DIR/fleet.txt"
in_client "$TCPSHAKE" -c 1 -p 90 $S4 >"$BED_DIR/sp.txt" 2>&1
check "synproxy (text): middlebox=synproxy on the probe's line" grep -q "^198.18.0.2:90 seq=0 open .* middlebox=synproxy\$" "$BED_DIR/sp.txt"
check "synproxy (text): the statistics count it" grep -q "^middlebox synproxy=1\$" "$BED_DIR/sp.txt"
in_client "$TCPSHAKE" -v -c 1 -p 92 $S4 >"$BED_DIR/sp92.txt" 2>&1
check "synproxy (text -v): the reset and the evidence" sh -c \
	"grep -q ' middlebox=synproxy reset-after-handshake\$' '$BED_DIR/sp92.txt' && grep -q '^    middlebox synproxy: reset after the handshake; SYN/ACK window 0' '$BED_DIR/sp92.txt'"
in_client "$TCPSHAKE" --format nagios -c 2 -i 0.05 -p 90 $S4 >"$BED_DIR/sp.nagios" 2>&1
expect_eq "synproxy (nagios): OK, the middlebox in the line and its perfdata" \
	"$?,$(python3 "$TOPSRC/tests/lib/nagios_parse.py" <"$BED_DIR/sp.nagios" | head -n1),$(grep -c 'open, rtt .*, middlebox synproxy (2 of 2 probes)|.* synproxy=2;;;0; syncookies=0;;;0; reset_after_handshake=0;;;0;$' "$BED_DIR/sp.nagios")" \
	"0,OK,1"
in_client "$TCPSHAKE" --format prometheus -c 2 -i 0.05 -p 90,92 -o "$BED_DIR/sp.prom" $S4 >/dev/null 2>&1
check "synproxy (prometheus): promtool check metrics" sh -c "promtool check metrics <'$BED_DIR/sp.prom'"
check "synproxy (prometheus): probes by verdict" \
	grep -q "^tcpshake_middlebox_probes_total{.*port=\"90\",verdict=\"synproxy\"} 2\$" "$BED_DIR/sp.prom"
check "synproxy (prometheus): resets after the handshake" \
	grep -q "^tcpshake_reset_after_handshake_total{.*port=\"92\"} 2\$" "$BED_DIR/sp.prom"
in_client "$TCPSHAKE" --format csv -c 1 -p 90 $S4 >"$BED_DIR/sp.csv" 2>&1
check "synproxy (csv): the columns, read strictly" python3 "$TOPSRC/tests/lib/csv_check.py" "$BED_DIR/sp.csv"
check "synproxy (csv): the verdict" grep -q ',synproxy,SYN/ACK window 0; window update to [0-9]* after our ACK,false,' "$BED_DIR/sp.csv"

# ---- plain servers, IPv4 and IPv6 ----
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$S4 caddr=$C4; else addr=$S6 caddr=$C6; fi
	bed_capture_start plain$fam
	in_client "$TCPSHAKE" -j -c 8 -i 0.02 -p 93 "$addr" >"$BED_DIR/plain$fam.json" 2>&1
	in_client "$TCPSHAKE" -j -c 2 -i 0.02 -p 91 "$addr" >"$BED_DIR/reset$fam.json" 2>&1
	bed_capture_stop
	# none, but for a probe whose round trips differed by more than the
	# verdict can rule a cookie out (a stall of a busy machine): unknown,
	# saying so; never a cookie or a proxy
	check "IPv$fam plain server: none, every probe (or unknown for a stall) ($(probes "$BED_DIR/plain$fam.json"))" \
		jq_true "$BED_DIR/plain$fam.json" \
		'[.[] | select(.type=="probe")] | length == 8 and
		 (map(select(.middlebox.verdict=="none")) | length) >= 6 and
		 all(.middlebox.verdict == "none" or (.middlebox.verdict == "unknown" and
		     (.middlebox.evidence | test("tolerance|round trip")))) and
		 all(.close == "fin" and .middlebox.reset == false)'
	$WIRE "$BED_DIR/plain$fam.pcap" $caddr >"$BED_DIR/plain$fam.wire"
	expect_eq "IPv$fam plain server (tcpdump): each probe's ts_lag_ms as the capture's, within 1 ms" \
		"$(jq -r 'select(.type=="probe" and .port==93) | "\(.sport) \(.middlebox.ts_lag_ms)"' "$BED_DIR/plain$fam.json" |
			while read -r p l; do w=$(grep "^$p " "$BED_DIR/plain$fam.wire" | sed 's/.*lag=//');
			[ $((l - w)) -ge -1 ] && [ $((l - w)) -le 1 ] && [ "$w" -ge -1 ] && [ "$w" -le 1 ] && echo ok || echo "$p $l $w"; done | sort | uniq -c | awk '{$1=$1};1')" \
		"8 ok"
	expect_eq "IPv$fam a server that resets after accept: unknown, and the reset" \
		"$(probes "$BED_DIR/reset$fam.json")" "2 unknown,true,peer-rst;"
	in_client "$TCPSHAKE" -j -c 1 --close rst -p 93 "$addr" >"$BED_DIR/rst$fam.json" 2>&1
	expect_eq "IPv$fam --close rst: unknown, nothing after the SYN/ACK" \
		"$(jq -r 'select(.type=="probe") | [.middlebox.verdict, .middlebox.evidence] | join(",")' "$BED_DIR/rst$fam.json")" \
		"unknown,no segment of the server after the SYN/ACK"
	in_client "$TCPSHAKE" -j -c 1 --no-middlebox -p 93 "$addr" >"$BED_DIR/off$fam.json" 2>&1
	expect_eq "IPv$fam --no-middlebox: null in the probe and the summary" \
		"$(jq -c '.middlebox' "$BED_DIR/off$fam.json" | head -2 | tr '\n' ' ')" "null null "
	in_client "$TCPSHAKE" -j -M syn -c 1 -p 93 "$addr" >"$BED_DIR/syn$fam.json" 2>&1
	expect_eq "IPv$fam syn mode: no verdict" "$(jq -c 'select(.type=="probe") | .middlebox' "$BED_DIR/syn$fam.json")" "null"
done
expect_eq "plain servers (ss): nothing left on the server but LISTEN and TIME-WAIT" \
	"$(bed_ss_leftovers 93)$(bed_ss_leftovers 91 0)" ""

# ---- SYN cookies for every SYN (tcp_syncookies=2), IPv4 and IPv6 ----
in_server sysctl -qw net.ipv4.tcp_syncookies=2
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$S4 caddr=$C4; else addr=$S6 caddr=$C6; fi
	before=$(cookies_sent)
	: >"$BED_DIR/listener.log"
	bed_capture_start ck$fam
	in_client "$TCPSHAKE" -j -c 8 -i 0.02 -p 93 "$addr" >"$BED_DIR/ck$fam.json" 2>&1
	bed_capture_stop
	expect_eq "IPv$fam syncookies (server): a cookie sent for each of the 8 SYNs" \
		"$(($(cookies_sent) - before))" 8
	expect_eq "IPv$fam syncookies: 8 accepted, 8 clean ends of file" "$(count accept 93),$(count eof 93)" "8,8"
	# a cookie's TSval is 0-63 ms behind the clock: a few in 64 fall within
	# the tolerance and are none; a stall of a busy machine makes one unknown
	# (never anything else)
	check "IPv$fam syncookies: at least 5 of 8 probes syncookies, the rest none or unknown ($(probes "$BED_DIR/ck$fam.json"))" \
		jq_true "$BED_DIR/ck$fam.json" \
		'[.[] | select(.type=="probe")] | (map(select(.middlebox.verdict=="syncookies")) | length) >= 5 and
		 all(.middlebox.verdict == "syncookies" or .middlebox.verdict == "none" or
		     .middlebox.verdict == "unknown") and all(.close == "fin")'
	$WIRE "$BED_DIR/ck$fam.pcap" $caddr >"$BED_DIR/ck$fam.wire"
	expect_eq "IPv$fam syncookies (tcpdump): each probe's ts_lag_ms as the capture's, within 1 ms, and 0-64" \
		"$(jq -r 'select(.type=="probe") | "\(.sport) \(.middlebox.ts_lag_ms)"' "$BED_DIR/ck$fam.json" |
			while read -r p l; do w=$(grep "^$p " "$BED_DIR/ck$fam.wire" | sed 's/.*lag=//');
			[ $((l - w)) -ge -1 ] && [ $((l - w)) -le 1 ] && [ "$w" -ge -1 ] && [ "$w" -le 64 ] && echo ok || echo "$p $l $w"; done | sort | uniq -c | awk '{$1=$1};1')" \
		"8 ok"
	expect_eq "IPv$fam syncookies (tcpdump): SYN/ACKs with a window, no update, no reset" \
		"$(cut -d' ' -f2,4,5 "$BED_DIR/ck$fam.wire" | sed 's/sa_win=[1-9][0-9]*/sa_win=N/' | sort | uniq -c | awk '{$1=$1};1')" \
		"8 sa_win=N update=0 rst=0"
done
expect_eq "syncookies (ss): nothing left on the server but LISTEN and TIME-WAIT" "$(bed_ss_leftovers 93)" ""
in_server sysctl -qw net.ipv4.tcp_syncookies=1

bed_finish
