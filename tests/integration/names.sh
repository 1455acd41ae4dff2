#!/bin/sh
# A name that is not UTF-8 (Latin-1 in a hosts file) leaves every format
# valid: JSON lines, CSV, the Prometheus file (promtool), the Nagios line.
# (A name with a control character is refused before anything is sent:
# input.sh.)
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 80
NETNS_ETC=/etc/netns/$BED_C
trap 'rm -rf "$NETNS_ETC"; bed_down' EXIT
mkdir -p "$NETNS_ETC"
printf 'nameserver %s\n' $S4 >"$NETNS_ETC/resolv.conf"
printf '127.0.0.1 localhost\n%s caf\351.test\n%s bar|baz.test\n%s multi.test\n%s multi.test\n' \
	$S4 $S4 $S4 $S6 >"$NETNS_ETC/hosts"
NAMES="$(printf 'caf\351.test') bar|baz.test"

utf8() { python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8")' <"$1"; }

in_client "$TCPSHAKE" -j -c 1 -p 80 $NAMES >"$BED_DIR/n.json" 2>"$BED_DIR/n.err"
expect_eq "json: exit 0, nothing on stderr" "$?,$(cat "$BED_DIR/n.err")" "0,"
check "json: valid UTF-8 JSON lines" python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="strict"):
    json.loads(line)' "$BED_DIR/n.json"
expect_eq "json: the name with U+FFFD for its Latin-1 byte" \
	"$(jq -r 'select(.type=="probe") | .target' "$BED_DIR/n.json" | grep -c '^caf�\.test$')" 1

in_client "$TCPSHAKE" --format prometheus -c 1 -p 80 $NAMES >"$BED_DIR/n.prom" 2>/dev/null
expect_eq "prometheus: exit 0" "$?" 0
check "prometheus: valid UTF-8" utf8 "$BED_DIR/n.prom"
if command -v promtool >/dev/null; then
	check "prometheus: promtool check metrics" sh -c "promtool check metrics <'$BED_DIR/n.prom'"
fi

in_client "$TCPSHAKE" --format csv -c 1 -p 80 $NAMES >"$BED_DIR/n.csv" 2>/dev/null
check "csv: valid UTF-8" utf8 "$BED_DIR/n.csv"

in_client "$TCPSHAKE" --format nagios -c 1 -p 80 $NAMES "$(printf 'nx\351.test')" \
	>"$BED_DIR/n.nagios" 2>/dev/null
expect_eq "nagios: one line, exit 3 (a name did not resolve)" "$?,$(wc -l <"$BED_DIR/n.nagios")" "3,1"
check "nagios: valid UTF-8, no escape byte" sh -c "python3 -c 'import sys; b=sys.stdin.buffer.read(); b.decode(\"utf-8\"); assert b\"\\x1b\" not in b' <'$BED_DIR/n.nagios'"
check "nagios: one bar, before the perfdata ($(cat "$BED_DIR/n.nagios"))" \
	test "$(tr -cd '|' <"$BED_DIR/n.nagios" | wc -c)" = 1

# --all-addresses: every address of a name is a target; --require any|all
in_client "$TCPSHAKE" --all-addresses -M syn -j -c 1 -W 0.3 -p 80 multi.test >"$BED_DIR/m.json" 2>&1
expect_eq "--all-addresses: both addresses probed, exit 0" \
	"$?,$(jq -r 'select(.type=="probe") | "\(.target)=\(.addr)"' "$BED_DIR/m.json" | sort | tr '\n' ' ')" \
	"0,multi.test=198.18.0.2 multi.test=2001:db8::2 "
in_client "$TCPSHAKE" -M syn -j -c 1 -W 0.3 -p 80 multi.test >"$BED_DIR/m1.json" 2>&1
expect_eq "without it: the first address only" \
	"$(jq -r 'select(.type=="probe") | .target' "$BED_DIR/m1.json" | wc -l)" 1
ip netns exec "$BED_S" nft -f - <<'NFT'
table inet multi {
	chain in {
		type filter hook input priority -5; policy accept;
		ip6 daddr 2001:db8::2 tcp dport 80 drop
	}
}
NFT
in_client "$TCPSHAKE" --all-addresses -M syn -c 1 -W 0.3 -p 80 multi.test >/dev/null 2>&1
expect_eq "one address filtered, --require all (default): exit 1" "$?" 1
in_client "$TCPSHAKE" --all-addresses --require any -M syn -c 1 -W 0.3 -p 80 multi.test >/dev/null 2>&1
expect_eq "one address filtered, --require any: exit 0" "$?" 0
ip netns exec "$BED_S" nft delete table inet multi

bed_finish
