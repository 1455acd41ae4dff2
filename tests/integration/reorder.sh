#!/bin/sh
# The byte stream through a reordering path: on the lossy bed (client -
# middle - server, tests/lib/bed.sh bed_lossy_up) the relay holds 30% of the
# frames 5 ms longer, so those behind them overtake them. A GET of a 60 kB
# file from a Python HTTP server (HTTP/1.0: it closes after the body), IPv4
# and IPv6: every probe reads status 200 and every byte of the body (the
# out-of-order segments held and put in order, the status line among
# them when its segment is the one held), and ends on the server's FIN.
. "$TOPSRC/tests/lib/bed.sh"
bed_lossy_up
mkdir -p "$BED_DIR/www"
head -c 60000 /dev/zero | tr '\0' 'x' >"$BED_DIR/www/big.txt"
in_server python3 -m http.server 8000 --bind :: --directory "$BED_DIR/www" >"$BED_DIR/http.log" 2>&1 &
for i in $(seq 100); do
	in_client python3 -c "import socket; socket.create_connection(('$LS4', 8000), 0.2)" 2>/dev/null && break
	sleep 0.1
done
bed_relay --reorder 30 --reorder-gap 5 --seed 7

for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$LS4; else addr=$LS6; fi
	in_client "$TCPSHAKE" -j -c 10 -i 0.1 -W 10 --http=/big.txt --http-method GET -p 8000 "$addr" \
		>"$BED_DIR/g$fam.json" 2>"$BED_DIR/g$fam.err"
	expect_eq "IPv$fam reordered GET: 10 times status 200, closed by the server's FIN" \
		"$(jq -r 'select(.type=="probe") | [.http.status, .close]|join(",")' "$BED_DIR/g$fam.json" | sort | uniq -c | awk '{$1=$1};1')" \
		"10 200,peer-fin"
	# a probe that did not end so: its status, bytes, close and segments
	jq -c 'select(.type=="probe" and .close!="peer-fin") | [.sport, .http, .close, .segments]' \
		"$BED_DIR/g$fam.json" | sed 's/^/# /'
	# the body and some 200 bytes of headers, every byte counted once
	check "IPv$fam reordered GET: every byte of the body read" jq_true "$BED_DIR/g$fam.json" \
		'[.[]|select(.type=="probe")|.http.bytes > 60000 and .http.bytes < 60400]|all'
done
bed_relay_stop
check "the relay reordered frames ($(cat "$BED_DIR/relay.stats" 2>/dev/null))" \
	awk '{ for (i = 1; i < NF; i++) if ($i == "reordered") exit !($(i + 1) > 20); exit 1 }' \
	"$BED_DIR/relay.stats"

bed_finish
