#!/bin/sh
# Replies whose headers lie or hide the answer, forged from the server side:
# an IP length beyond what the wire carried is malformed (never an answer,
# never data to acknowledge); an answer behind IPv6 extension headers is
# an answer, as the kernel takes it.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_rules

# forge ADDR PORT KIND OUT [tcpshake options]: tcpshake's JSON lines in OUT,
# the forger's report in OUT.forge
forge() {
	local addr=$1 port=$2 kind=$3 out=$4
	shift 4
	rm -f "$BED_DIR/ready"
	in_server python3 "$TOPSRC/tests/lib/forge_lies.py" veth0 "$port" "$BED_DIR/ready" "$kind" \
		>"$out.forge" 2>&1 &
	local fpid=$!
	for i in $(seq 50); do [ -f "$BED_DIR/ready" ] && break; sleep 0.05; done
	in_client "$TCPSHAKE" -j -c 1 -W 1 -p "$port" "$@" "$addr" >"$out" 2>"$out.err"
	wait $fpid
}

outcome() { jq -r 'select(.type=="probe") | .outcome' "$1"; }

for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$S4; else addr=$S6; fi
	forge "$addr" 82 lie "$BED_DIR/lie$fam.json" -M syn
	expect_eq "IPv$fam: a SYN/ACK claiming 100 bytes more than the wire carried is not open" \
		"$(outcome "$BED_DIR/lie$fam.json"),$(cat "$BED_DIR/lie$fam.json.forge")" "filtered,"
	forge "$addr" 82 data-lie "$BED_DIR/data$fam.json" --http
	expect_eq "IPv$fam: 10 bytes of data claiming 1000 are never acknowledged beyond 10" \
		"$(cat "$BED_DIR/data$fam.json.forge")" ""
done

forge $S6 82 dstopts "$BED_DIR/dstopts.json" -M syn
expect_eq "a SYN/ACK behind a destination-options header is open" \
	"$(outcome "$BED_DIR/dstopts.json"),$(cat "$BED_DIR/dstopts.json.forge")" "open,"
forge $S6 82 atomic "$BED_DIR/atomic.json" -M syn
expect_eq "a SYN/ACK as an atomic fragment is open" \
	"$(outcome "$BED_DIR/atomic.json"),$(cat "$BED_DIR/atomic.json.forge")" "open,"
forge $S6 82 icmp-ext "$BED_DIR/icmpext.json" -M syn
expect_eq "an ICMPv6 error behind hop-by-hop and routing headers is unreachable" \
	"$(jq -r 'select(.type=="probe") | [.outcome,.icmp.name]|join(",")' "$BED_DIR/icmpext.json"),$(cat "$BED_DIR/icmpext.json.forge")" \
	"unreachable,admin-prohibited,"

bed_finish
