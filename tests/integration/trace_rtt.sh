#!/bin/sh
# --trace to a target 50 ms away (the lossy bed's relay holds every frame
# 25 ms each way; client - middle - server): every query of the target's
# hop is answered with its own SYN/ACK and RTT. The rounds of a window go a
# gap apart that covers the RTT, so that each SYN reaches the server after
# our RST to the one before (25 ms rounds met the server's half-open
# connection: an ACK of the older ISN, no answer, and '*' for queries 1
# and 2); the window then settles without waiting -W out.
. "$TOPSRC/tests/lib/bed.sh"
bed_lossy_up
bed_listen 80
bed_relay --delay 25

for fam in 4 6; do
	if [ $fam = 4 ]; then S=$LS4 M=$LM4; else S=$LS6 M=$LM6; fi
	out="$BED_DIR/t$fam.json"
	start=$(date +%s%N)
	in_client "$TCPSHAKE" -M syn --trace -j -W 2 -p 80 "$S" >"$out" 2>"$BED_DIR/err$fam"
	rc=$?
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	expect_eq "IPv$fam exit 0, nothing on stderr" "$rc;$(cat "$BED_DIR/err$fam")" "0;"
	expect_eq "IPv$fam the probe's RTT is the relay's 50 ms" \
		"$(jq -r 'select(.type=="probe") | .rtt_us >= 50000' "$out")" true
	expect_eq "IPv$fam reached, open, at hop 2 past the middle" \
		"$(jq -r 'select(.type=="trace") | [.verdict, .hops[0].addr, .hops[1].addr, .hops[1].tcp] | join(" ")' "$out")" \
		"open $M $S SA"
	expect_eq "IPv$fam every query of the target's hop answered, each 50 ms or more" \
		"$(jq -r 'select(.type=="trace") | [.hops[1].rtts_us[] | (. != null and . >= 50000)] | map(tostring) | join(" ")' "$out")" \
		"true true true"
	expect_eq "IPv$fam every query of the middle's hop answered" \
		"$(jq -r 'select(.type=="trace") | [.hops[0].rtts_us[] | . != null] | map(tostring) | join(" ")' "$out")" \
		"true true true"
	check "IPv$fam the window settled, -W 2 not waited out (took $took ms)" [ "$took" -lt 1500 ]
	expect_eq "IPv$fam the server kept nothing half-open" "$(in_server ss -Htan state syn-recv | wc -l)" 0
done
bed_relay_stop
bed_finish
