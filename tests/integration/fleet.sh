#!/bin/sh
# Fleet probing on a bed where the server answers for whole blocks: every
# outcome count equals what the bed was built to do, in syn and full mode,
# IPv4 and IPv6; excludes, files, shards, the rate, --only.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_anyip
bed_listen 80

counts() { jq -r 'select(.type=="run") | [.targets,.open,.closed,.filtered,.unreachable]|join(" ")' "$1"; }

# 198.19.0.0/22: 256 open, 256 filtered, 256 closed, 256 unreachable
for mode in syn full; do
	: >"$BED_DIR/listener.log"
	in_client "$TCPSHAKE" -M $mode -j -W 0.5 --rate 5000 -p 80 198.19.0.0/22 >"$BED_DIR/$mode.json" \
		2>"$BED_DIR/$mode.err"
	expect_eq "IPv4 $mode /22: exit 1 (not all open)" "$?" 1
	expect_eq "IPv4 $mode /22: targets open closed filtered unreachable" "$(counts "$BED_DIR/$mode.json")" \
		"1024 256 256 256 256"
	expect_eq "IPv4 $mode /22: one summary per target:port" \
		"$(jq -r 'select(.type=="summary") | .addr' "$BED_DIR/$mode.json" | sort -u | wc -l)" 1024
	expect_eq "IPv4 $mode /22: every address of each sub-block as built" \
		"$(jq -r 'select(.type=="summary") | (.addr|split(".")[2]) + " " + (if .open>0 then "open" elif .closed>0 then "closed" elif .unreachable>0 then "unreachable" else "filtered" end)' "$BED_DIR/$mode.json" | sort | uniq -c | awk '{print $1,$2,$3}' | tr '\n' ';')" \
		"256 0 open;256 1 filtered;256 2 closed;256 3 unreachable;"
	expect_eq "IPv4 $mode /22: filtered ones were sent again once" \
		"$(jq -r 'select(.type=="run") | .retried' "$BED_DIR/$mode.json")" 256
	expect_eq "IPv4 $mode /22: nothing on stderr" "$(cat "$BED_DIR/$mode.err")" ""
done
sleep 0.5
expect_eq "full mode at scale: every open host's application saw one connection and a clean end of file" \
	"$(grep -c '^accept' "$BED_DIR/listener.log"),$(grep -c '^eof' "$BED_DIR/listener.log"),$(grep -c '^rst' "$BED_DIR/listener.log")" \
	"256,256,0"
expect_eq "full mode at scale: no table left" "$(bed_tables_left)" 0

# IPv6 2001:db8:1::/118 (1024): the same split
for mode in syn full; do
	in_client "$TCPSHAKE" -M $mode -j -W 0.5 --rate 5000 -p 80 2001:db8:1::/118 >"$BED_DIR/6$mode.json" 2>&1
	expect_eq "IPv6 $mode /118: targets open closed filtered unreachable" "$(counts "$BED_DIR/6$mode.json")" \
		"1024 256 256 256 256"
done

# excludes, from the command line and a file
printf '# not these\n198.19.0.0/25\n' >"$BED_DIR/excl.txt"
in_client "$TCPSHAKE" -M syn -j -W 0.3 -p 80 --exclude 198.19.0.200-210,198.19.1.0/24 \
	--exclude-file "$BED_DIR/excl.txt" 198.19.0.0/23 >"$BED_DIR/ex.json" 2>&1
expect_eq "excludes: 128 + 11 + 256 left out" \
	"$(jq -r 'select(.type=="run") | [.targets,.open,.excluded]|join(" ")' "$BED_DIR/ex.json")" "117 117 395"

# a file of targets, with comments, and a bad line reported by number
printf '# web\n198.19.0.1\n198.19.2.0/30   # closed ones\n\n2001:db8:1::5\n' >"$BED_DIR/t.txt"
in_client "$TCPSHAKE" -M syn -j -W 0.3 -p 80 -f "$BED_DIR/t.txt" >"$BED_DIR/f.json" 2>&1
expect_eq "-f: targets from a file" "$(counts "$BED_DIR/f.json")" "6 2 4 0 0"
in_client sh -c "printf '198.19.0.7\n' | '$TCPSHAKE' -M syn -j -W 0.3 -p 80 -f -" >"$BED_DIR/stdin.json" 2>&1
expect_eq "-f -: targets from standard input" "$(counts "$BED_DIR/stdin.json")" "1 1 0 0 0"
printf '198.19.0.1\n198.19.0.0/33\n' >"$BED_DIR/bad.txt"
in_client "$TCPSHAKE" -M syn -p 80 -f "$BED_DIR/bad.txt" >/dev/null 2>"$BED_DIR/bad.err"
expect_eq "-f: a bad line is exit 3" "$?" 3
check "-f: ... with its line number" grep -q "^tcpshake: $BED_DIR/bad.txt:2: 198.19.0.0/33: prefix length" "$BED_DIR/bad.err"
in_client "$TCPSHAKE" -M syn -p 80 2001:db8:1::/100 >/dev/null 2>"$BED_DIR/big.err"
expect_eq "an IPv6 block past 2^24: exit 3" "$?" 3
check "... saying how to raise the bound" grep -q -- "--max-targets" "$BED_DIR/big.err"

# shards: four runs cover every target:port exactly once
for i in 0 1 2 3; do
	in_client "$TCPSHAKE" -M syn -j -W 0.3 -p 80,81 --shard $i/4 198.19.0.0/24 >"$BED_DIR/shard$i.json" 2>&1
done
expect_eq "shards: 4 x ~128 target:ports, none twice, none missing" \
	"$(cat "$BED_DIR"/shard*.json | jq -r 'select(.type=="summary") | "\(.addr):\(.port)"' | sort | uniq -c | awk '{print $1}' | sort | uniq -c | awk '{print $1"x"$2}')" \
	"512x1"

# the rate, achieved and reported
in_client "$TCPSHAKE" -M syn -j -W 0.3 --rate 1000 -p 80 198.19.0.0/24 >"$BED_DIR/rate.json" 2>&1
check "--rate 1000: 256 probes take about a quarter of a second, never faster" \
	jq_true "$BED_DIR/rate.json" '[.[]|select(.type=="run")][0] | .rate_pps <= 1010 and .rate_pps > 600 and .elapsed_s >= 0.25'

# --only: print only those, count them all
in_client "$TCPSHAKE" -M syn -W 0.3 --only unreachable -p 80 198.19.2.250-198.19.3.5 >"$BED_DIR/only.txt" 2>&1
expect_eq "--only unreachable: six lines and the run line" \
	"$(grep -c 'unreachable admin-prohibited' "$BED_DIR/only.txt"),$(grep -c '^---' "$BED_DIR/only.txt")" "6,1"
check "--only: the run line still counts every outcome" grep -q ": 0 open, 6 closed, 0 filtered, 6 unreachable;" "$BED_DIR/only.txt"

bed_finish
