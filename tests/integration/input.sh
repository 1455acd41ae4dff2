#!/bin/sh
# Hostile input on the input side (issue 12): target files with NUL bytes
# and terminal controls, unprobeable targets, long options without their
# argument and typos, long error lines, closed standard descriptors, a
# comment right after a target, wide IPv6 excludes, two names for one
# address, and link-local targets with a zone.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 80
HOSTS_DIR="/etc/netns/$BED_C"
trap 'rm -rf "$HOSTS_DIR"; bed_down' EXIT

ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -i any -nn -U -w "$BED_DIR/input.pcap" "tcp or udp" \
	2>"$BED_DIR/tcpdump.err" &
tdpid=$!
for i in $(seq 100); do grep -q listening "$BED_DIR/tcpdump.err" && break; sleep 0.05; done

# bad EXPECTED-EXIT WORD-IN-MESSAGE ARGS...: one line, that exit, no output
bad() {
	want=$1 word=$2
	shift 2
	timeout 10 ip netns exec "$BED_C" "$TCPSHAKE" "$@" >"$BED_DIR/out" 2>"$BED_DIR/err"
	rc=$?
	lines=$(wc -l <"$BED_DIR/err")
	first=$(head -n1 "$BED_DIR/err")
	BED_CHECKS=$((BED_CHECKS + 1))
	case "$first" in
	"tcpshake: "*"$word"*) ok_msg=1 ;;
	*) ok_msg=0 ;;
	esac
	if [ "$rc" = "$want" ] && [ "$lines" = 1 ] && [ $ok_msg = 1 ] && [ ! -s "$BED_DIR/out" ]; then
		echo "ok $BED_CHECKS - tcpshake $* -> exit $rc: $first"
	else
		echo "not ok $BED_CHECKS - tcpshake $*: exit $rc (want $want), $lines stderr lines: $(cat -v "$BED_DIR/err")"
		BED_FAILS=$((BED_FAILS + 1))
	fi
}

# defect 5: NUL bytes, endless files, terminal controls
bad 3 "/dev/zero:1: a NUL byte" -M syn -f /dev/zero
printf '198.18.0.2\0garbage\n' >"$BED_DIR/nul.txt"
bad 3 "nul.txt:1: a NUL byte" -M syn -f "$BED_DIR/nul.txt"
printf '\033]0;owned\007\033[2J%s\n' "$S4" >"$BED_DIR/esc.txt"
bad 3 "control character" -M syn -f "$BED_DIR/esc.txt"
check "no escape sequence reaches the terminal" sh -c "! grep -q \"$(printf '\033')\" '$BED_DIR/err'"
# defect 13: empty, unspecified and multicast targets, -I lo to a remote host
bad 3 "empty" -M syn ''
bad 3 "unspecified" -M syn 0.0.0.0
bad 3 "unspecified" -M syn ::
bad 3 "multicast" -M syn 224.0.0.1
bad 3 "loopback interface" -M syn -I lo "$S4"
# defect 8: long options named, typos answered
bad 3 "--format: needs an argument" -M syn "$S4" --format
bad 3 "did you mean --count?" -M syn --cuont 3 "$S4"
# defect 9: a link-local address without its zone
bad 3 "needs its zone" -M syn -n fe80::2
# defect 13: a long error line keeps its reason
d50=$(printf '%050d' 0)
long="$BED_DIR/$d50/$d50/$d50/$d50/$d50/$d50/targets.txt"
bad 3 "targets.txt: No such file or directory" -M syn -f "$long"

sleep 0.3
kill -TERM $tdpid
wait $tdpid
expect_eq "bad invocations sent no packet" "$(tcpdump -r "$BED_DIR/input.pcap" 2>/dev/null | wc -l)" 0

# defect 6: closed standard descriptors; the report does not go into a socket
in_client "$TCPSHAKE" -M syn -c 1 -j "$S4" >&- 2>"$BED_DIR/err"
expect_eq "stdout closed: exit 0" "$?" 0
expect_eq "stdout closed: nothing on stderr" "$(cat "$BED_DIR/err")" ""
in_client "$TCPSHAKE" -M syn -c 1 -j "$S4" <&- 2>&- >"$BED_DIR/out"
expect_eq "stdin and stderr closed: exit 0" "$?" 0
check "stdin and stderr closed: the report on stdout" jq_true "$BED_DIR/out" \
	'map(select(.type=="probe"))[0].outcome == "open"'

# defect 12: a comment right after a target; excludes of a /64 and wider
printf '%s#web\n%s# db\n' "$S4" "$S6" >"$BED_DIR/comment.txt"
in_client "$TCPSHAKE" -M syn -c 1 -j -f "$BED_DIR/comment.txt" >"$BED_DIR/out" 2>"$BED_DIR/err"
expect_eq "comment after a target: exit 0" "$?" 0
check "comment after a target: both probed" jq_true "$BED_DIR/out" \
	'[.[] | select(.type=="probe" and .outcome=="open")] | length == 2'
in_client "$TCPSHAKE" -M syn -c 1 -j --exclude 2001:db8::/64 --exclude ff00::/8 "$S4" "$S6" \
	>"$BED_DIR/out" 2>"$BED_DIR/err"
expect_eq "IPv6 /64 exclude: exit 0" "$?" 0
check "IPv6 /64 exclude: only the IPv4 target probed" jq_true "$BED_DIR/out" \
	"[.[] | select(.type==\"probe\") | .addr] == [\"$S4\"]"

# defect 13: two names for one address give one perfdata label
mkdir -p "$HOSTS_DIR"
printf '127.0.0.1 localhost\n%s web1.test web2.test\n' "$S4" >"$HOSTS_DIR/hosts"
in_client "$TCPSHAKE" -M syn -c 1 --format nagios web1.test web2.test >"$BED_DIR/out" 2>"$BED_DIR/err"
expect_eq "two names, one address: exit 0" "$?" 0
labels=$(cut -d'|' -f2 "$BED_DIR/out" | grep -o "'*rtt[^=]*=" | sort)
expect_eq "two names, one address: probed once, no repeated perfdata label" \
	"$(echo "$labels" | wc -l) $(echo "$labels" | uniq -d)" "1 "

# defect 9: link-local with a zone, in the bed
ip -n "$BED_C" addr add fe80::1/64 dev veth0 nodad
ip -n "$BED_S" addr add fe80::2/64 dev veth0 nodad
mac_s=$(ip -n "$BED_S" -br link show veth0 | awk '{print $3}')
ip -n "$BED_C" neigh replace fe80::2 lladdr "$mac_s" dev veth0
in_client "$TCPSHAKE" -M syn -c 1 -j -p 80,81 fe80::2%veth0 >"$BED_DIR/out" 2>"$BED_DIR/err"
expect_eq "link-local with a zone: exit 1 (80 open, 81 closed)" "$?" 1
expect_eq "link-local with a zone: nothing on stderr" "$(cat "$BED_DIR/err")" ""
check "link-local with a zone: port 80 open, 81 closed" jq_true "$BED_DIR/out" \
	'[.[] | select(.type=="probe") | [.port, .outcome]] | sort == [[80,"open"],[81,"closed"]]'
in_client "$TCPSHAKE" -c 1 -j fe80::2%veth0 >"$BED_DIR/out" 2>"$BED_DIR/err"
expect_eq "link-local with a zone, full mode: exit 0" "$?" 0

bed_finish
