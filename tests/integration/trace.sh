#!/bin/sh
# --trace and --trace-on-fail on the path bed (client - r1 - r2 - server),
# IPv4 and IPv6: the hop list and where the path ends, port by port:
#   80  a listener on the server      reached (open) at hop 3
#   81  nothing listens               reached (closed) at hop 3
#   82  r2 drops it                   silent after hop 2 (r2)
#   83  r2 rejects, admin-prohibited  rejected at hop 2 by r2
#   84  r1 drops it                   silent after hop 1 (r1)
#   85  r1 rejects, admin-prohibited  rejected at hop 1 by r1
# Every SYN of a trace on one 5-tuple with TTLs 1, 2, 3..., and each RTT
# equal to a tcpdump capture's; every output format; traceroute -T (Debian's
# traceroute) as the oracle for the hop list on IPv4.
. "$TOPSRC/tests/lib/bed.sh"
bed_path_up
bed_listen 80
for r in in_r1:84:85 in_r2:82:83; do
	IFS=: read -r cmd drop reject <<EOF
$r
EOF
	$cmd nft -f - <<NFT || exit 99
table inet tcpshake_test {
	chain filt {
		type filter hook forward priority 0;
		tcp dport $drop drop
		tcp dport $reject reject with icmpx type admin-prohibited
	}
}
NFT
done

# hops FILE PORT: the trace's hop addresses, * for none
hops() { jq -r --argjson p "$2" 'select(.type=="trace" and .port==$p) | [.hops[] | .addr // "*"] | join(" ")' "$1"; }
trace_field() { jq -r --argjson p "$2" "select(.type==\"trace\" and .port==\$p) | $3" "$1"; }

for fam in 4 6; do
	if [ $fam = 4 ]; then
		S=$PS4 R1=$PR1A4 R2=$PR2A4 EP=$PS4
	else
		S=$PS6 R1=$PR1A6 R2=$PR2A6 EP="[$PS6]"
	fi
	out="$BED_DIR/trace$fam.json"
	pcap="$BED_DIR/trace$fam.pcap"
	ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -i veth0 -nn -U \
		--time-stamp-precision=nano -w "$pcap" tcp or icmp or icmp6 2>"$BED_DIR/tcpdump$fam.err" &
	tdpid=$!
	for i in $(seq 100); do grep -q listening "$BED_DIR/tcpdump$fam.err" && break; sleep 0.05; done
	start=$(date +%s%N)
	in_client "$TCPSHAKE" -M syn --trace -j -W 0.5 -p 80-85 "$S" >"$out" 2>"$BED_DIR/err$fam"
	rc=$?
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	sleep 0.2
	kill -TERM $tdpid
	wait $tdpid
	expect_eq "IPv$fam exit 1 (not every port open)" "$rc" 1
	expect_eq "IPv$fam nothing on stderr" "$(cat "$BED_DIR/err$fam")" ""
	expect_eq "IPv$fam six traces, after the probes, before the run line" \
		"$(jq -r .type "$out" | uniq -c | awk '{print $2 $1}' | tr '\n' ' ')" \
		"probe1 summary1 probe1 summary1 probe1 summary1 probe1 summary1 probe1 summary1 probe1 summary1 trace6 run1 "
	check "IPv$fam six traces in under 6 s (took $took ms)" [ "$took" -lt 6000 ]
	expect_eq "IPv$fam 80: hops" "$(hops "$out" 80)" "$R1 $R2 $S"
	expect_eq "IPv$fam 80: open at hop 3" "$(trace_field "$out" 80 '[.verdict,.text,.last_hop.ttl,.hops[2].tcp]|join(";")')" \
		"open;reached $EP:80 (open) at hop 3;3;SA"
	expect_eq "IPv$fam 81: hops" "$(hops "$out" 81)" "$R1 $R2 $S"
	expect_eq "IPv$fam 81: closed at hop 3" "$(trace_field "$out" 81 '[.verdict,.text,.hops[2].tcp]|join(";")')" \
		"closed;reached $EP:81 (closed) at hop 3;RA"
	expect_eq "IPv$fam 82 (r2 drops): hops" "$(hops "$out" 82)" "$R1 $R2 *"
	expect_eq "IPv$fam 82: silent after hop 2" "$(trace_field "$out" 82 '[.verdict,.text,.last_hop.ttl,.last_hop.addr]|join(";")')" \
		"silent;silent after hop 2 ($R2);2;$R2"
	expect_eq "IPv$fam 83 (r2 rejects): hops" "$(hops "$out" 83)" "$R1 $R2 $R2"
	expect_eq "IPv$fam 83: rejected at hop 2" "$(trace_field "$out" 83 '[.verdict,.text,.last_hop.ttl,.hops[2].icmp]|join(";")')" \
		"rejected;rejected at hop 2 by $R2: admin-prohibited;2;admin-prohibited"
	expect_eq "IPv$fam 84 (r1 drops): hops" "$(hops "$out" 84)" "$R1 *"
	expect_eq "IPv$fam 84: silent after hop 1" "$(trace_field "$out" 84 .text)" "silent after hop 1 ($R1)"
	expect_eq "IPv$fam 85 (r1 rejects): hops" "$(hops "$out" 85)" "$R1 $R1"
	expect_eq "IPv$fam 85: rejected at hop 1" "$(trace_field "$out" 85 .text)" \
		"rejected at hop 1 by $R1: admin-prohibited"
	expect_eq "IPv$fam every hop that answered: three RTTs" \
		"$(jq -r 'select(.type=="trace") | .hops[] | select(.addr) | [.rtts_us[] | select(. != null and . > 0)] | length' "$out" | sort -u | tr '\n' ' ')" "3 "
	for p in 80 81 82 83 84 85; do
		jq -c --argjson p $p 'select(.type=="trace" and .port==$p)' "$out" >"$BED_DIR/t$fam-$p.json"
		check "IPv$fam $p: one 5-tuple, TTLs 1.., RTTs equal the capture's within 5 us" \
			python3 "$TOPSRC/tests/lib/trace_wire.py" "$pcap" "$BED_DIR/t$fam-$p.json" 5000
	done
	expect_eq "IPv$fam the server kept nothing (our RST after each SYN/ACK)" \
		"$(in_server ss -Htan state syn-recv | wc -l)" 0
done

# Text: traceroute's lines and the verdict.
in_client "$TCPSHAKE" -M syn --trace -W 0.5 -p 83 $PS4 >"$BED_DIR/t.txt" 2>&1
cat "$BED_DIR/t.txt"
expect_eq "text: the hop lines" "$(grep -E '^ [0-9]  ' "$BED_DIR/t.txt" | awk '{print $1, $2, $4, $NF}' | tr '\n' ';')" \
	"1 $PR1A4 ms ms;2 $PR2A4 ms ms;3 $PR2A4 ms !X;"
expect_eq "text: the verdict last" "$(tail -n1 "$BED_DIR/t.txt")" "rejected at hop 2 by $PR2A4: admin-prohibited"

# --trace-on-fail: only the filtered and unreachable ports are traced; full mode.
in_client "$TCPSHAKE" --trace-on-fail -j -W 0.5 -p 80,81,82,85 $PS4 >"$BED_DIR/f.json" 2>&1
expect_eq "--trace-on-fail: 82 and 85 traced, not 80 (open) nor 81 (closed)" \
	"$(jq -r 'select(.type=="trace") | "\(.port)=\(.verdict)"' "$BED_DIR/f.json" | sort | tr '\n' ' ')" \
	"82=silent 85=rejected "
expect_eq "--trace-on-fail: 80 open in full mode" \
	"$(jq -r 'select(.type=="probe" and .port==80) | [.outcome,.close]|join(" ")' "$BED_DIR/f.json")" "open fin"

# Full mode: the guard drops the kernel's resets, ours (marked) pass.
in_client "$TCPSHAKE" --trace -j -W 0.5 -p 80 $PS6 >"$BED_DIR/full.json" 2>&1
expect_eq "full mode: open, traced to hop 3" \
	"$(jq -r 'select(.type=="probe" or .type=="trace") | .outcome // .text' "$BED_DIR/full.json" | tr '\n' ';')" \
	"open;reached [$PS6]:80 (open) at hop 3;"
expect_eq "full mode: the server kept nothing half-open" "$(in_server ss -Htan state syn-recv | wc -l)" 0
# --max-hops and --queries
in_client "$TCPSHAKE" -M syn --trace --max-hops 2 --queries 1 -j -W 0.5 -p 80 $PS4 >"$BED_DIR/m.json" 2>&1
expect_eq "--max-hops 2 --queries 1: not reached, one RTT a hop" \
	"$(jq -r 'select(.type=="trace") | [.verdict, .text, .hop_count, ([.hops[].rtts_us | length] | join(","))] | join(";")' "$BED_DIR/m.json")" \
	"max-hops;not reached within 2 hops;2;1,1"
# --deadline cuts a trace short: reported with what came in, the run ends on time
start=$(date +%s%N)
in_client "$TCPSHAKE" -M syn --trace --deadline 0.8 -j -W 0.5 -p 82 $PS4 >"$BED_DIR/d.json" 2>&1
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "--deadline 0.8: exit 1, the trace so far, incomplete (not silent: its window was open)" \
	"$rc;$(jq -r 'select(.type=="trace") | [.verdict, .text] | join(";")' "$BED_DIR/d.json");$(tail -n1 "$BED_DIR/d.json" | jq -r .type)" \
	"1;incomplete;cut short after hop 2 ($PR2A4);run"
check "--deadline 0.8: the run ended within 1.2 s (took $took ms)" [ "$took" -lt 1200 ]
# more than 16 target:ports: refused, nothing sent
in_client "$TCPSHAKE" -M syn --trace -p 80-96 $PS4 >"$BED_DIR/r.out" 2>"$BED_DIR/r.err"
expect_eq "--trace on 17 target:ports: exit 3" "$?" 3
expect_eq "--trace on 17 target:ports: why" "$(cat "$BED_DIR/r.err")" \
	"tcpshake: --trace: at most 16 target:ports (this run has 17)"

# Nagios: the last good hop in the line; Prometheus: gauges (promtool when there).
in_client "$TCPSHAKE" -M syn --trace-on-fail --format nagios -W 0.5 -p 82 $PS4 >"$BED_DIR/n.txt"
expect_eq "nagios: CRITICAL" "$?" 2
check "nagios: the trace and its last good hop in the line" \
	grep -qF "; trace $PS4:82: silent after hop 2 ($PR2A4), last good hop 2 ($PR2A4)|" "$BED_DIR/n.txt"
check "nagios: perfdata trace_hops=3 trace_last_hop=2" grep -q " trace_hops=3;;;0; trace_last_hop=2;;;0;$" "$BED_DIR/n.txt"
check "nagios: the plugin grammar" sh -c "python3 '$TOPSRC/tests/lib/nagios_parse.py' <'$BED_DIR/n.txt'"
in_client "$TCPSHAKE" -M syn --trace --format prometheus -W 0.5 -p 83 $PS6 >"$BED_DIR/p.prom"
check "prometheus: the verdict" grep -qx "tcpshake_trace_verdict{target=\"$PS6\",addr=\"$PS6\",port=\"83\",verdict=\"rejected\"} 1" "$BED_DIR/p.prom"
check "prometheus: the last good hop" grep -qx "tcpshake_trace_last_hop{target=\"$PS6\",addr=\"$PS6\",port=\"83\",last_hop_addr=\"$PR2A6\"} 2" "$BED_DIR/p.prom"
check "prometheus: promtool check metrics (the quickstart installs it)" \
	sh -c "promtool check metrics <'$BED_DIR/p.prom'"
# CSV: one table (RFC 4180), read strictly: the trace_* columns end every
# row, a trace's row fills them and the probe columns naming its target:port.
in_client "$TCPSHAKE" -M syn --trace --format csv -W 0.5 -p 80,82 $PS4 >"$BED_DIR/c.csv"
check "csv: one table, the same columns on every row (Python's csv, strict)" python3 -c "
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline=''), strict=True))
assert len(rows) == 5 and all(len(r) == len(rows[0]) for r in rows), rows
assert rows[0][-6:] == ['trace_verdict', 'trace_text', 'trace_last_hop_ttl', 'trace_last_hop',
                       'trace_hops', 'trace_path'], rows[0]" "$BED_DIR/c.csv"
expect_eq "csv: the traces' rows" "$(python3 -c "
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline=''), strict=True))
for r in rows:
    if r['trace_verdict']:
        assert not r['outcome'] and not r['seq'], r
        print(','.join([r['addr'], r['port'], r['trace_verdict'], r['trace_last_hop_ttl'],
                        r['trace_last_hop'], r['trace_hops'], r['trace_path']]))
    else:
        assert r['outcome'] and not any(v for k, v in r.items() if k.startswith('trace_')), r
" "$BED_DIR/c.csv" | sort | tr '\n' ';')" \
	"$PS4,80,open,3,$PS4,3,$PR1A4 $PR2A4 $PS4;$PS4,82,silent,2,$PR2A4,3,$PR1A4 $PR2A4 *;"

# The oracle: traceroute -T from Debian, the same hops on IPv4.
check "traceroute is installed (the quickstart installs it)" command -v traceroute
for p in 80 82 83; do
	in_client "$TCPSHAKE" -M syn --trace -j -W 0.5 -p $p $PS4 >"$BED_DIR/o$p.json" 2>&1
	n=$(jq -r 'select(.type=="trace") | .hop_count' "$BED_DIR/o$p.json")
	in_client traceroute -T -n -q 1 -w 0.5 -m "$n" -p $p $PS4 >"$BED_DIR/tr$p.txt" 2>&1
	cat "$BED_DIR/tr$p.txt"
	expect_eq "port $p: traceroute -T's hops are ours" \
		"$(awk 'NR > 1 {print $2}' "$BED_DIR/tr$p.txt" | tr '\n' ' ')" \
		"$(jq -r 'select(.type=="trace") | [.hops[] | .addr // "*"] | join(" ")' "$BED_DIR/o$p.json") "
done

bed_finish
