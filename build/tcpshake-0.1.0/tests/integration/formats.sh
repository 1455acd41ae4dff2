#!/bin/sh
# Every format for open, closed, filtered, unreachable, mixed fleets and
# IPv6: JSON through jq, CSV through Python's csv module, the Prometheus
# file through promtool, the Nagios line through a parser of the plugin
# guidelines' grammar and side by side with check_tcp; thresholds, the
# quorum, and -o written atomically.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_rules
in_server nft add rule inet bed input tcp dport 92 tcp flags syn numgen inc mod 2 == 0 drop
bed_listen 80 92
bed_http 8080
CHECK_TCP=/usr/lib/nagios/plugins/check_tcp
NAGIOS_PARSE="python3 $TOPSRC/tests/lib/nagios_parse.py"
nagios() { $NAGIOS_PARSE; }
state_name() { case $1 in 0) echo OK ;; 1) echo WARNING ;; 2) echo CRITICAL ;; *) echo UNKNOWN ;; esac; }

for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$S4; else addr=$S6; fi

	# CSV, strictly parsed
	in_client "$TCPSHAKE" --format csv -c 1 -W 0.3 -p 80-83 "$addr" >"$BED_DIR/o$fam.csv" 2>&1
	expect_eq "IPv$fam csv: exit 1 for a mixed set" "$?" 1
	expect_eq "IPv$fam csv: a strict parse, one row per probe" \
		"$(python3 "$TOPSRC/tests/lib/csv_check.py" "$BED_DIR/o$fam.csv" | tr '\n' ';')" \
		"4;80 open SA - fin -;81 closed RA - - -;82 filtered - - - -;83 unreachable - admin-prohibited - -;"
	check "IPv$fam csv: CRLF line ends (RFC 4180)" sh -c "head -n1 '$BED_DIR/o$fam.csv' | od -c | grep -q '\\\\r  \\\\n'"
	in_client "$TCPSHAKE" --format csv -c 1 --http -p 8080 "$addr" >"$BED_DIR/h$fam.csv" 2>&1
	check "IPv$fam csv: http columns present" sh -c "python3 $TOPSRC/tests/lib/csv_check.py $BED_DIR/h$fam.csv | grep -q \"^8080 open SA - peer-fin 200\$\""

	# Prometheus, checked by promtool
	in_client "$TCPSHAKE" --format prometheus -c 2 -i 0.05 -W 0.3 -p 80-83 -o "$BED_DIR/m$fam.prom" "$addr" \
		>"$BED_DIR/m$fam.out" 2>&1
	expect_eq "IPv$fam prometheus: exit 1, nothing on stdout" "$?,$(cat "$BED_DIR/m$fam.out")" "1,"
	check "IPv$fam prometheus: promtool check metrics" sh -c "promtool check metrics <'$BED_DIR/m$fam.prom'"
	expect_eq "IPv$fam prometheus: up per target:port" \
		"$(grep '^tcpshake_up{' "$BED_DIR/m$fam.prom" | awk '{print $NF}' | tr '\n' ' ')" "1 0 0 0 "
	check "IPv$fam prometheus: the address label as given" \
		grep -q "^tcpshake_up{target=\"$addr\",addr=\"$addr\",port=\"80\"} 1\$" "$BED_DIR/m$fam.prom"
	check "IPv$fam prometheus: probes by outcome" \
		grep -q "^tcpshake_probes_total{.*port=\"83\",outcome=\"unreachable\"} 2\$" "$BED_DIR/m$fam.prom"
	check "IPv$fam prometheus: the histogram's count" \
		grep -q "^tcpshake_rtt_seconds_count{.*port=\"80\"} 2\$" "$BED_DIR/m$fam.prom"
	check "IPv$fam prometheus: phase close measured" \
		grep -q "^tcpshake_phase_seconds{.*port=\"80\",phase=\"close\"} " "$BED_DIR/m$fam.prom"
	check "IPv$fam prometheus: no temporary file left" \
		test "$(ls "$BED_DIR" | grep -c "^m$fam.prom")" = 1

	# Nagios: open, closed, filtered, unreachable, next to check_tcp
	for p in 80 81 82 83; do
		in_client "$TCPSHAKE" --format nagios -c 1 -W 1 -p $p "$addr" >"$BED_DIR/n$p" 2>"$BED_DIR/n$p.err"
		rc=$?
		in_client $CHECK_TCP -H "$addr" -p $p -t 1 >"$BED_DIR/ct$p" 2>&1
		ct=$?
		state=$(nagios <"$BED_DIR/n$p" | head -n1)
		expect_eq "IPv$fam nagios port $p: a valid line, same state and exit code as check_tcp ($(cut -c1-50 "$BED_DIR/ct$p"))" \
			"$state,$rc" "$(state_name $ct),$ct"
	done
	check "IPv$fam nagios: the ICMP reason in the line" grep -q "unreachable (admin-prohibited)" "$BED_DIR/n83"
	check "IPv$fam nagios: perfdata in seconds and %" sh -c \
		"$NAGIOS_PARSE <'$BED_DIR/n80' | grep -qE '^rtt [0-9.]+ s 0.200000 0.500000 0 -\$' &&
		 $NAGIOS_PARSE <'$BED_DIR/n80' | grep -qE '^loss 0 % 20 60 0 100\$'"
	in_client "$TCPSHAKE" --format nagios --refused ok -c 1 -p 81 "$addr" >"$BED_DIR/r" 2>&1
	expect_eq "IPv$fam nagios --refused ok" "$?,$(nagios <"$BED_DIR/r" | head -n1)" "0,OK"
	in_client "$TCPSHAKE" --format nagios --refused warn -c 1 -p 81 "$addr" >"$BED_DIR/r" 2>&1
	expect_eq "IPv$fam nagios --refused warn" "$?,$(nagios <"$BED_DIR/r" | head -n1)" "1,WARNING"

	# thresholds on real probes: RTT only, loss only, loss exactly at the threshold
	in_client "$TCPSHAKE" --format nagios --warning 0,100 --critical 1000,100 -c 1 -p 80 "$addr" >"$BED_DIR/t" 2>&1
	expect_eq "IPv$fam nagios: RTT above --warning only" "$?,$(nagios <"$BED_DIR/t" | head -n1)" "1,WARNING"
	in_client "$TCPSHAKE" --format nagios --warning 0,100 --critical 0,100 -c 1 -p 80 "$addr" >"$BED_DIR/t" 2>&1
	expect_eq "IPv$fam nagios: RTT above --critical" "$?,$(nagios <"$BED_DIR/t" | head -n1)" "2,CRITICAL"
	in_client "$TCPSHAKE" -M syn --format nagios --warning 1000,40 --critical 1000,60 -c 4 -i 0.05 -W 0.3 \
		-p 92 "$addr" >"$BED_DIR/t" 2>&1
	expect_eq "IPv$fam nagios: 50% loss between --warning 40% and --critical 60%" \
		"$?,$(nagios <"$BED_DIR/t" | head -n1)" "1,WARNING"
	check "IPv$fam nagios: loss perfdata 50%" sh -c "$NAGIOS_PARSE <'$BED_DIR/t' | grep -qE '^loss 50 % 40 60 0 100\$'"
	in_client "$TCPSHAKE" -M syn --format nagios --warning 1000,50% --critical 1000,60% -c 4 -i 0.05 -W 0.3 \
		-p 92 "$addr" >"$BED_DIR/t" 2>&1
	expect_eq "IPv$fam nagios: 50% loss exactly at --warning 50% is OK" "$?,$(nagios <"$BED_DIR/t" | head -n1)" "0,OK"
done

# mixed fleet, both families: one line for the worst, perfdata per target:port
in_client "$TCPSHAKE" --format nagios -c 1 -W 0.3 -p 80,82 $S4 $S6 >"$BED_DIR/fleet" 2>&1
expect_eq "fleet nagios: CRITICAL" "$?,$(nagios <"$BED_DIR/fleet" | head -n1)" "2,CRITICAL"
check "fleet nagios: the worst named, the count of the rest" grep -q "filtered (no answer in 0.3 s); 2 of 4 target:ports not OK" "$BED_DIR/fleet"
expect_eq "fleet nagios: labelled perfdata per target:port" \
	"$(nagios <"$BED_DIR/fleet" | tail -n +2 | awk '{print $1, $2}' | tr '\n' ';')" \
	"rtt $S4:80;loss $S4:80;rtt $S4:82;loss $S4:82;rtt [$S6]:80;loss [$S6]:80;rtt [$S6]:82;loss [$S6]:82;"
check "fleet nagios: an unmeasured RTT is U" sh -c "$NAGIOS_PARSE <'$BED_DIR/fleet' | grep -q '^rtt $S4:82 U '"
in_client "$TCPSHAKE" -j -c 1 -W 0.3 -p 80,82 $S4 $S6 >"$BED_DIR/fleet.json" 2>&1
expect_eq "fleet json: four summaries and a run line" \
	"$(jq -r .type "$BED_DIR/fleet.json" | sort | uniq -c | awk '{print $2"="$1}' | tr '\n' ' ')" \
	"probe=4 run=1 summary=4 "
in_client "$TCPSHAKE" --format nagios -p 0 $S4 >"$BED_DIR/u" 2>"$BED_DIR/u.err"
expect_eq "nagios usage error: UNKNOWN, exit 3" "$?,$(nagios <"$BED_DIR/u" | head -n1)" "3,UNKNOWN"
in_client "$TCPSHAKE" -n --format nagios -c 1 no-such-name.invalid >"$BED_DIR/u" 2>/dev/null
expect_eq "nagios name that does not resolve: UNKNOWN" "$?,$(nagios <"$BED_DIR/u" | head -n1)" "3,UNKNOWN"

# the quorum
in_client "$TCPSHAKE" -c 1 -W 0.3 --min-open 1 -p 80,81 $S4 >/dev/null 2>&1
expect_eq "--min-open 1 with one of two open: exit 0" "$?" 0
in_client "$TCPSHAKE" -c 1 -W 0.3 --min-open 2 -p 80,81 $S4 >/dev/null 2>&1
expect_eq "--min-open 2 with one of two open: exit 1" "$?" 1
in_client "$TCPSHAKE" -c 1 --min-open 3 -p 80,81 $S4 >/dev/null 2>&1
expect_eq "--min-open above the target:ports: usage error" "$?" 3

# -o: atomic, and failures are exit 4 with one line
in_client "$TCPSHAKE" -j -c 1 -p 80 -o "$BED_DIR/nodir/x.json" $S4 >/dev/null 2>"$BED_DIR/o.err"
expect_eq "-o into a missing directory: exit 4, one line" "$?,$(wc -l <"$BED_DIR/o.err")" "4,1"
in_client "$TCPSHAKE" -j -c 1 -p 80 -o "$BED_DIR/x.json" $S4 >/dev/null 2>&1
expect_eq "-o: the file holds the whole report" "$?,$(jq -r .type "$BED_DIR/x.json" | tr '\n' ' ')" "0,probe summary run "
check "-o: no temporary file left" test "$(ls "$BED_DIR" | grep -c '^x.json')" = 1
if [ -w /dev/full ]; then
	in_client "$TCPSHAKE" -j -c 1 -p 80 $S4 >/dev/full 2>"$BED_DIR/full.err"
	expect_eq "a full disk on stdout: exit 4 with one line" "$?,$(wc -l <"$BED_DIR/full.err")" "4,1"
fi
in_client "$TCPSHAKE" -c 3 -i 0.05 -p 80 $S4 2>"$BED_DIR/pipe.err" | head -n1 >/dev/null
expect_eq "stdout closed early (| head): no crash, no error line" "$(cat "$BED_DIR/pipe.err")" ""

bed_finish
