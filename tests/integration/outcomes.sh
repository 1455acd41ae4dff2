#!/bin/sh
# Every outcome in syn mode, for IPv4 and IPv6, against a real listener and nft rules:
# open (80), closed (81), filtered (82), each ICMP error (83-89), and time
# exceeded from a hop on the way.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_rules
bed_ttl_hop
bed_listen 80

outcome_of() { # FILE PORT -> the outcomes of that port's probes, space separated
	jq -r --argjson p "$2" 'select(.type=="probe" and .port==$p) | .outcome' "$1" | sort -u | tr '\n' ' '
}
field_of() { # FILE PORT JQ-EXPR
	jq -r --argjson p "$2" "select(.type==\"probe\" and .port==\$p) | $3" "$1" | sort -u | tr '\n' ' '
}

run_family() { # FAMILY SERVER-ADDR PORTS
	fam=$1 addr=$2 ports=$3
	out="$BED_DIR/out$fam.json"
	in_client "$TCPSHAKE" -M syn -$fam -j -c 2 -i 0.1 -W 0.5 -p "$ports" "$addr" >"$out" 2>"$BED_DIR/err$fam"
	expect_eq "IPv$fam mixed ports exit 1" "$?" 1
	expect_eq "IPv$fam nothing on stderr" "$(cat "$BED_DIR/err$fam")" ""
	expect_eq "IPv$fam port 80 open" "$(outcome_of "$out" 80)" "open "
	expect_eq "IPv$fam port 80 flags SA" "$(field_of "$out" 80 .flags)" "SA "
	expect_eq "IPv$fam port 80 wire rtt" "$(field_of "$out" 80 .rtt_source)" "wire "
	expect_eq "IPv$fam port 80 ttl 64" "$(field_of "$out" 80 .ttl)" "64 "
	expect_eq "IPv$fam port 80 mss from the listener" "$(field_of "$out" 80 '.mss > 1000')" "true "
	expect_eq "IPv$fam port 81 closed" "$(outcome_of "$out" 81)" "closed "
	expect_eq "IPv$fam port 81 flags RA" "$(field_of "$out" 81 .flags)" "RA "
	expect_eq "IPv$fam port 82 filtered" "$(outcome_of "$out" 82)" "filtered "
	expect_eq "IPv$fam port 82 no flags, no rtt" "$(field_of "$out" 82 '[.flags,.rtt_us]|tostring')" "[null,null] "
	expect_eq "IPv$fam two probes per port" \
		"$(jq -c 'select(.type=="summary") | .sent' "$out" | sort -u | tr '\n' ' ')" "2 "
	expect_eq "IPv$fam run line last" "$(tail -n1 "$out" | jq -r .type)" "run"
	expect_eq "IPv$fam summary of 80" \
		"$(jq -c 'select(.type=="summary" and .port==80) | [.open,.closed,.filtered,.unreachable,.loss_pct,.flags.SA]' "$out")" \
		"[2,0,0,0,0,2]"
	expect_eq "IPv$fam summary of 82" \
		"$(jq -c 'select(.type=="summary" and .port==82) | [.open,.filtered,.loss_pct,.rtt_us]' "$out")" \
		"[0,2,100,null]"
}

run_family 4 $S4 80-89
for pc in 83:admin-prohibited:3:13 84:host-unreachable:3:1 85:net-unreachable:3:0 \
	86:port-unreachable:3:3 87:host-prohibited:3:10 88:net-prohibited:3:9 \
	89:protocol-unreachable:3:2; do
	IFS=: read -r p name type code <<X
$pc
X
	expect_eq "IPv4 port $p unreachable $name" \
		"$(field_of "$BED_DIR/out4.json" "$p" '[.outcome,.icmp.name,.icmp.type,.icmp.code,.icmp.from]|join(",")')" \
		"unreachable,$name,$type,$code,$S4 "
done

run_family 6 $S6 80-88
for pc in 83:admin-prohibited:1:1 84:host-unreachable:1:3 85:net-unreachable:1:0 \
	86:port-unreachable:1:4 87:source-policy-failed:1:5 88:reject-route:1:6; do
	IFS=: read -r p name type code <<X
$pc
X
	expect_eq "IPv6 port $p unreachable $name" \
		"$(field_of "$BED_DIR/out6.json" "$p" '[.outcome,.icmp.name,.icmp.type,.icmp.code,.icmp.from]|join(",")')" \
		"unreachable,$name,$type,$code,$S6 "
done

# time exceeded on the way: reported by name, from the hop, not the target
for hop in "4 198.18.9.1 11 0 $S4" "6 2001:db8:9::1 3 0 $S6"; do
	set -- $hop
	fam=$1 target=$2 type=$3 code=$4 from=$5
	in_client "$TCPSHAKE" -M syn -j -c 2 -i 0.05 -W 0.5 -p 80 "$target" >"$BED_DIR/ttl$fam.json" 2>&1
	expect_eq "IPv$fam time exceeded: exit 1" "$?" 1
	expect_eq "IPv$fam time exceeded: unreachable, ttl-exceeded, from the hop" \
		"$(field_of "$BED_DIR/ttl$fam.json" 80 '[.outcome,.icmp.name,.icmp.type,.icmp.code,.icmp.from]|join(",")')" \
		"unreachable,ttl-exceeded,$type,$code,$from "
	expect_eq "IPv$fam time exceeded: summary" \
		"$(jq -c 'select(.type=="summary") | [.unreachable,.filtered]' "$BED_DIR/ttl$fam.json")" "[2,0]"
done
in_client "$TCPSHAKE" -M syn -c 1 -W 0.5 -p 80 198.18.9.1 >"$BED_DIR/ttltext" 2>&1
check "text: time exceeded named, with where it came from" \
	grep -q "unreachable.*ttl-exceeded.*$S4" "$BED_DIR/ttltext"

# exit codes and the text form
in_client "$TCPSHAKE" -M syn -c 3 -i 0.05 -p 80 $S4 >"$BED_DIR/text" 2>&1
expect_eq "all open exits 0" "$?" 0
check "text probe line" grep -Eq "^$S4:80 seq=0 open flags=SA ttl=64 win=[0-9]+ mss=[0-9]+ rtt=[0-9]+\.[0-9]{3} ms$" "$BED_DIR/text"
check "text statistics header" grep -qx -- "--- $S4:80 tcpshake statistics ---" "$BED_DIR/text"
check "text counts line" grep -qx "3 probes, 3 open, 0 closed, 0 filtered, 0 unreachable, 0% loss" "$BED_DIR/text"
check "text flags line" grep -qx "flags SA=3" "$BED_DIR/text"
check "text rtt line" grep -Eq "^rtt min/avg/max/mdev = [0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+ ms$" "$BED_DIR/text"
in_client "$TCPSHAKE" -M syn -q -c 1 -p 81 $S6 >"$BED_DIR/text6" 2>&1
expect_eq "closed only exits 1" "$?" 1
check "quiet prints no probe line" sh -c "! grep -q seq= '$BED_DIR/text6'"
check "IPv6 endpoint in brackets" grep -qx -- "--- \[$S6\]:81 tcpshake statistics ---" "$BED_DIR/text6"
in_client "$TCPSHAKE" -M syn -c 1 -W 0.3 -p 82 $S4 >/dev/null 2>&1
expect_eq "filtered exits 1" "$?" 1

# several targets: one probe each without -c, exit as soon as all are in
start=$(date +%s%N)
in_client "$TCPSHAKE" -M syn -j -W 2 -p 80,81 $S4 $S6 >"$BED_DIR/multi" 2>&1
expect_eq "two targets, open and closed ports exit 1" "$?" 1
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
expect_eq "one probe per target:port by default" "$(jq -s '[.[]|select(.type=="probe")]|length' "$BED_DIR/multi")" 4
check "no fixed wait: done well before the 2 s timeout (${elapsed} ms)" test "$elapsed" -lt 1500

# syn mode never lets the application accept
sleep 0.2
expect_eq "syn mode: the listener accepted nothing" "$(grep -c accept "$BED_DIR/listener.log")" 0

# SIGINT ends an endless run with its summary and the exit code for what was seen
ip netns exec "$BED_C" "$TCPSHAKE" -M syn -i 0.1 -p 80 $S4 >"$BED_DIR/int" 2>&1 &
pid=$!
sleep 0.55
kill -INT $pid
wait $pid
expect_eq "SIGINT after open probes exits 0" "$?" 0
check "SIGINT prints the statistics" grep -q "tcpshake statistics" "$BED_DIR/int"

# --expect-state: a compliance check by exit status, and in Nagios
in_client "$TCPSHAKE" -M syn -c 1 -W 0.3 -p 80,81,82 --expect-state 80=open,81=closed,82=filtered \
	$S4 >/dev/null 2>&1
expect_eq "--expect-state met: exit 0" "$?" 0
in_client "$TCPSHAKE" -M syn -c 1 -W 0.3 -p 80,81,82 --expect-state 80=open,82=open $S4 \
	>/dev/null 2>&1
expect_eq "--expect-state not met (82 is filtered): exit 1" "$?" 1
in_client "$TCPSHAKE" -M syn -c 1 -W 0.3 -p 81,82 --expect-state 81=closed,82=open \
	--format nagios $S4 >"$BED_DIR/exp.nagios" 2>&1
expect_eq "--expect-state in nagios: CRITICAL (2)" "$?" 2
check "--expect-state in nagios: says what was expected ($(cat "$BED_DIR/exp.nagios"))" \
	grep -q "198.18.0.2:82 filtered, expected open" "$BED_DIR/exp.nagios"
in_client "$TCPSHAKE" -M syn -c 1 -p 80 --expect-state 80=shut $S4 >/dev/null 2>&1
expect_eq "--expect-state with an unknown state: usage error" "$?" 3
bed_finish
