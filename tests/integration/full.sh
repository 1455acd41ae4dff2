#!/bin/sh
# Full mode, IPv4 and IPv6: the handshake completed, a clean FIN teardown
# the server's application sees as an end of file, never a reset; the
# seven-segment exchange on the wire; HTTP over the crafted connection to a
# real HTTP server; banner, close-first and reset servers; the guard table
# gone after every kind of exit; and without CAP_NET_ADMIN, exit 4.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_rules
bed_listen 80 90:linger:0.2 2525:banner 2526:close 2527:reset
bed_http 8080
: >"$BED_DIR/listener.log.base"

count() { grep -c "^$1 $2\$" "$BED_DIR/listener.log"; }
segs_of() { jq -r 'select(.type=="probe") | .segments | join(",")' "$1" | sort | uniq -c | awk '{print $1" "$2}' | tr '\n' ';'; }
tables() { in_client nft list tables 2>/dev/null | grep -c tcpshake_; }


for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$S4 caddr=$C4; else addr=$S6 caddr=$C6; fi
	: >"$BED_DIR/listener.log"

	# N full probes: N accepts, N clean ends of file, no reset
	bed_capture_start full$fam "tcp port 90"
	in_client "$TCPSHAKE" -j -c 5 -i 0.05 -p 90 "$addr" >"$BED_DIR/f$fam.json" 2>"$BED_DIR/f$fam.err"
	rc=$?
	bed_capture_stop
	sleep 0.3
	expect_eq "IPv$fam full: exit 0" "$rc" 0
	expect_eq "IPv$fam full: nothing on stderr" "$(cat "$BED_DIR/f$fam.err")" ""
	expect_eq "IPv$fam full: 5 accepted" "$(count accept 90)" 5
	expect_eq "IPv$fam full: 5 clean ends of file" "$(count eof 90)" 5
	expect_eq "IPv$fam full: no reset seen by the server" "$(count rst 90)" 0
	expect_eq "IPv$fam full: every probe established, closed with fin" \
		"$(jq -r 'select(.type=="probe") | [.mode,.established,.close]|join(",")' "$BED_DIR/f$fam.json" | sort -u)" \
		"full,true,fin"
	expect_eq "IPv$fam full: the seven segments in every probe's report" "$(segs_of "$BED_DIR/f$fam.json")" \
		"5 >S,<SA,>A,>FA,<A,<FA,>A;"
	check "IPv$fam full: close_us measured" jq_true "$BED_DIR/f$fam.json" \
		'[.[]|select(.type=="probe")|.close_us > 0]|all'
	python3 "$TOPSRC/tests/lib/exchange.py" "$BED_DIR/full$fam.pcap" "$caddr" >"$BED_DIR/ex$fam"
	expect_eq "IPv$fam full: tcpdump shows the seven segments per probe" \
		"$(cut -d' ' -f2- "$BED_DIR/ex$fam" | sort | uniq -c | awk '{$1=$1};1')" \
		"5 >S <SA >A >FA <A <FA >A"
	expect_eq "IPv$fam full: tcpdump shows no RST from the client" \
		"$(grep -c '>R' "$BED_DIR/ex$fam")" 0
	expect_eq "IPv$fam full: summary" \
		"$(jq -c 'select(.type=="summary") | [.open,.established,.close.fin]' "$BED_DIR/f$fam.json")" "[5,5,5]"
	expect_eq "IPv$fam full: no table left" "$(bed_tables_left)" 0

	# a server that closes at once: ACK and FIN in one segment
	in_client "$TCPSHAKE" -j -c 2 -i 0.05 -p 80 "$addr" >"$BED_DIR/c$fam.json" 2>&1
	expect_eq "IPv$fam full, prompt close: exit 0, close fin" \
		"$?,$(jq -r 'select(.type=="probe") | .close' "$BED_DIR/c$fam.json" | sort -u)" "0,fin"

	# syn mode: the application accepts nothing
	: >"$BED_DIR/listener.log"
	in_client "$TCPSHAKE" -M syn -c 3 -i 0.05 -p 90 "$addr" >/dev/null 2>&1
	expect_eq "IPv$fam syn mode exit 0" "$?" 0
	sleep 0.3
	expect_eq "IPv$fam syn mode: 0 accepted" "$(count accept 90)" 0

	# --close rst
	: >"$BED_DIR/listener.log"
	in_client "$TCPSHAKE" -j -c 2 -i 0.05 --close rst -p 90 "$addr" >"$BED_DIR/r$fam.json" 2>&1
	expect_eq "IPv$fam --close rst: exit 0" "$?" 0
	sleep 0.3
	expect_eq "IPv$fam --close rst: accepted, then reset" "$(count accept 90),$(count rst 90)" "2,2"
	expect_eq "IPv$fam --close rst: segments" "$(segs_of "$BED_DIR/r$fam.json")" "2 >S,<SA,>A,>RA;"

	# HTTP to a real HTTP server: HEAD and GET
	in_client "$TCPSHAKE" -j -c 2 -i 0.05 --http -p 8080 "$addr" >"$BED_DIR/h$fam.json" 2>&1
	expect_eq "IPv$fam --http: exit 0" "$?" 0
	expect_eq "IPv$fam --http: status 200, closed by the server's FIN" \
		"$(jq -r 'select(.type=="probe") | [.http.status, .close]|join(",")' "$BED_DIR/h$fam.json" | sort -u)" \
		"200,peer-fin"
	check "IPv$fam --http: ttfb and bytes measured" jq_true "$BED_DIR/h$fam.json" \
		'[.[]|select(.type=="probe")|.http.ttfb_us > 0 and .http.bytes > 50]|all'
	check "IPv$fam --http: the server logged our HEAD requests" \
		test "$(grep -c '"HEAD / HTTP/1.1" 200' "$BED_DIR/http.log")" -ge $((fam == 4 ? 2 : 4))
	in_client "$TCPSHAKE" -j -c 1 --http=/listener.py --http-method GET -p 8080 "$addr" \
		>"$BED_DIR/g$fam.json" 2>&1
	expect_eq "IPv$fam --http GET: 200 and the body counted" \
		"$(jq -r 'select(.type=="probe") | [.http.status, (.http.bytes > '"$(wc -c <"$TOPSRC/tests/lib/listener.py")"')]|join(",")' "$BED_DIR/g$fam.json")" \
		"200,true"
	in_client "$TCPSHAKE" -j -c 1 --http=/nowhere -p 8080 "$addr" >"$BED_DIR/n$fam.json" 2>&1
	expect_eq "IPv$fam --http: a 404 is reported (the port is still open: exit 0)" \
		"$?,$(jq -r 'select(.type=="probe") | .http.status' "$BED_DIR/n$fam.json")" "0,404"

	# a banner server, a server that closes first, a server that resets
	: >"$BED_DIR/listener.log"
	in_client "$TCPSHAKE" -j -c 1 -p 2525 "$addr" >"$BED_DIR/b$fam.json" 2>&1
	expect_eq "IPv$fam banner: established, closed cleanly" \
		"$?,$(jq -r 'select(.type=="probe") | [.established,.close]|join(",")' "$BED_DIR/b$fam.json")" "0,true,fin"
	check "IPv$fam banner: its data segment was in the exchange" \
		jq_true "$BED_DIR/b$fam.json" '[.[]|select(.type=="probe")|.segments|index("<PA") != null]|all'
	sleep 0.2
	expect_eq "IPv$fam banner: a clean end of file" "$(count eof 2525),$(count rst 2525)" "1,0"
	in_client "$TCPSHAKE" -j -c 1 -p 2526 "$addr" >"$BED_DIR/cf$fam.json" 2>&1
	expect_eq "IPv$fam server closes first: its FIN acked, ours acked, close fin" \
		"$(jq -r 'select(.type=="probe") | [.established,.close]|join(",")' "$BED_DIR/cf$fam.json")" "true,fin"
	in_client "$TCPSHAKE" -j -c 1 --http -p 2526 "$addr" >"$BED_DIR/cf$fam.json" 2>&1
	expect_eq "IPv$fam server closed before our request: its reset is reported" \
		"$(jq -r 'select(.type=="probe") | [.established,.close]|join(",")' "$BED_DIR/cf$fam.json")" "true,peer-rst"
	in_client "$TCPSHAKE" -j -c 1 -p 2527 "$addr" >"$BED_DIR/rs$fam.json" 2>&1
	expect_eq "IPv$fam server resets: reported as peer-rst" \
		"$(jq -r 'select(.type=="probe") | [.outcome,.established,.close]|join(",")' "$BED_DIR/rs$fam.json")" \
		"open,true,peer-rst"

	# closed, filtered and unreachable ports are the same in full mode
	in_client "$TCPSHAKE" -j -c 1 -W 0.3 -p 81,82,83 "$addr" >"$BED_DIR/o$fam.json" 2>&1
	expect_eq "IPv$fam full mode: closed, filtered, unreachable" \
		"$?,$(jq -r 'select(.type=="probe") | .outcome' "$BED_DIR/o$fam.json" | sort | tr '\n' ' ')" \
		"1,closed filtered unreachable "
done

# The guard exists while the run lives, and is gone after every kind of end.
for sig in none INT TERM KILL; do
	ip netns exec "$BED_C" "$TCPSHAKE" -q -i 0.1 -p 90 $S4 >/dev/null 2>&1 &
	pid=$!
	sleep 0.4
	expect_eq "guard table present while running ($sig)" "$(tables)" 1
	if [ $sig = none ]; then
		kill -INT $pid
	else
		kill -$sig $pid
	fi
	wait $pid 2>/dev/null
	rc=$?
	sleep 0.1
	expect_eq "no table left after SIG$sig" "$(bed_tables_left)" 0
	case $sig in
	KILL) expect_eq "SIGKILL: killed" "$rc" 137 ;;
	*) expect_eq "SIG$sig: summaries and exit 0" "$rc" 0 ;;
	esac
done
expect_eq "no other table touched" "$(in_client nft list tables | grep -vc tcpshake_)" 0
# no process outlives the run (the kernel releases its sockets after it)
sleep 0.5
expect_eq "no process left in the client's namespace" "$(ip netns pids "$BED_C" | wc -l)" 0

# Without CAP_NET_ADMIN: full mode fails with exit 4 and says why; syn mode works.
if command -v capsh >/dev/null; then
	in_client capsh --drop=cap_net_admin -- -c "'$TCPSHAKE' -c 1 -p 80 $S4" >"$BED_DIR/cap.out" 2>"$BED_DIR/cap.err"
	expect_eq "no CAP_NET_ADMIN: full mode exits 4" "$?" 4
	check "no CAP_NET_ADMIN: the message names it and suggests -M syn" \
		grep -q "^tcpshake: firewall guard: full mode needs CAP_NET_ADMIN (-M syn does not)$" "$BED_DIR/cap.err"
	expect_eq "no CAP_NET_ADMIN: one line" "$(wc -l <"$BED_DIR/cap.err")" 1
	in_client capsh --drop=cap_net_admin -- -c "'$TCPSHAKE' -M syn -c 1 -p 80 $S4" >/dev/null 2>&1
	expect_eq "no CAP_NET_ADMIN: syn mode still works" "$?" 0
	expect_eq "no CAP_NET_ADMIN: no table left" "$(bed_tables_left)" 0
else
	check "capsh is installed (libcap2-bin)" false
fi

bed_finish
