#!/bin/sh
# Strict matching: forged replies injected from the server side (wrong ack,
# wrong ports, wrong address, ICMP errors quoting other connections) are
# ignored; only the reply that acknowledges ISN + 1 counts.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_rules

for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$S4; else addr=$S6; fi
	rm -f "$BED_DIR/ready"
	in_server python3 "$TOPSRC/tests/lib/forge.py" veth0 82 0.3 "$BED_DIR/ready" \
		>"$BED_DIR/forge.out" 2>&1 &
	for i in $(seq 50); do [ -f "$BED_DIR/ready" ] && break; sleep 0.05; done
	in_client "$TCPSHAKE" -M syn -j -c 1 -W 2 -p 82 "$addr" >"$BED_DIR/f$fam.json" 2>"$BED_DIR/f$fam.err"
	expect_eq "IPv$fam forged: exit 0 on the real answer" "$?" 0
	wait
	expect_eq "IPv$fam forger ran" "$(cat "$BED_DIR/forge.out")" ""
	expect_eq "IPv$fam only the correct SYN/ACK counted" \
		"$(jq -r 'select(.type=="probe") | [.outcome,.flags]|join(",")' "$BED_DIR/f$fam.json")" "open,SA"
	check "IPv$fam the RTT is the real answer's, after the forgeries (>= 300 ms)" \
		jq_true "$BED_DIR/f$fam.json" '[.[]|select(.type=="probe")][0].rtt_us >= 300000'
	expect_eq "IPv$fam run counts one reply" \
		"$(jq -r 'select(.type=="run") | .received' "$BED_DIR/f$fam.json")" 1
done

# Full mode: out-of-window and corrupt RSTs, a duplicate SYN/ACK and a
# segment acking what we never sent, mid-connection: ignored (the
# duplicate is acked again), and the connection ends with a clean FIN.
bed_listen 90:linger:0.3
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$S4; else addr=$S6; fi
	rm -f "$BED_DIR/ready"
	: >"$BED_DIR/listener.log"
	ip netns exec "$BED_S" python3 "$TOPSRC/tests/lib/forge.py" veth0 90 0 "$BED_DIR/ready" \
		established >"$BED_DIR/forge.out" 2>&1 &
	fpid=$!
	for i in $(seq 50); do [ -f "$BED_DIR/ready" ] && break; sleep 0.05; done
	in_client "$TCPSHAKE" -j -c 1 -W 2 -p 90 "$addr" >"$BED_DIR/e$fam.json" 2>&1
	expect_eq "IPv$fam established: exit 0" "$?" 0
	wait $fpid
	expect_eq "IPv$fam established: the forger saw the handshake and forged" "$(cat "$BED_DIR/forge.out")" ""
	expect_eq "IPv$fam established: forged RSTs ignored, closed with fin" \
		"$(jq -r 'select(.type=="probe") | [.established,.close]|join(",")' "$BED_DIR/e$fam.json")" "true,fin"
	sleep 0.5
	expect_eq "IPv$fam established: the server saw a clean end of file" \
		"$(grep -c '^eof 90' "$BED_DIR/listener.log"),$(grep -c '^rst 90' "$BED_DIR/listener.log")" "1,0"
done

bed_finish
