#!/bin/sh
# Faults: the interface going down mid-run ends with exit 4 and one clear
# line (and no table left); SIGTERM mid-fleet prints what was seen.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_anyip
bed_listen 80

for mode in syn full; do
	ip netns exec "$BED_C" "$TCPSHAKE" -M $mode -q -i 0.05 -p 80 $S4 >"$BED_DIR/down.out" 2>"$BED_DIR/down.err" &
	pid=$!
	sleep 0.4
	ip -n "$BED_C" link set veth0 down
	for i in $(seq 50); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	kill -0 $pid 2>/dev/null && { kill -9 $pid; echo "tcpshake kept running"; }
	wait $pid
	expect_eq "$mode: the interface going down: exit 4" "$?" 4
	check "$mode: one clear line naming the interface ($(head -n1 "$BED_DIR/down.err"))" \
		sh -c "test \$(wc -l <'$BED_DIR/down.err') = 1 && grep -qE '^tcpshake: .*interface veth0 went down\$' '$BED_DIR/down.err'"
	check "$mode: the statistics so far" grep -q "tcpshake statistics" "$BED_DIR/down.out"
	expect_eq "$mode: no table left" "$(in_client nft list tables | grep -c tcpshake_)" 0
	ip -n "$BED_C" link set veth0 up
	sleep 0.3
done

ip -n "$BED_C" route replace 198.19.0.0/16 via $S4
ip netns exec "$BED_C" "$TCPSHAKE" -M syn -j --rate 500 -p 80 198.19.0.0/20 >"$BED_DIR/term.json" 2>&1 &
pid=$!
sleep 0.6
kill -TERM $pid
wait $pid
rc=$?
expect_eq "SIGTERM mid-fleet: the code for what was seen (some not open)" "$rc" 1
check "SIGTERM mid-fleet: a run line counting only what was probed" \
	jq_true "$BED_DIR/term.json" '[.[]|select(.type=="run")][0] | .targets > 100 and .targets < 4096'

bed_finish
