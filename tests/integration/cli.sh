#!/bin/sh
# Bad invocations: one line on stderr naming the problem, the documented
# exit code, and not one packet sent (a tcpdump on the client's link stays
# empty). Good ones: --help, --version.
. "$TOPSRC/tests/lib/bed.sh"
bed_up

ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -i any -nn -U -w "$BED_DIR/cli.pcap" "tcp or udp" \
	2>"$BED_DIR/tcpdump.err" &
tdpid=$!
for i in $(seq 100); do grep -q listening "$BED_DIR/tcpdump.err" && break; sleep 0.05; done

# bad EXPECTED-EXIT WORD-IN-MESSAGE ARGS...
bad() {
	want=$1 word=$2
	shift 2
	in_client "$TCPSHAKE" "$@" >"$BED_DIR/out" 2>"$BED_DIR/err"
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
		echo "not ok $BED_CHECKS - tcpshake $*: exit $rc (want $want), $lines stderr lines: $(cat "$BED_DIR/err")"
		BED_FAILS=$((BED_FAILS + 1))
	fi
}

bad 3 port -p 0 $S4
bad 3 port -p 65536 $S4
bad 3 port -p abc $S4
bad 3 reversed -p 90-80 $S4
bad 3 port -p 80, $S4
bad 3 port -p '' $S4
bad 3 port -p 80-x $S4
bad 3 count -c 0 $S4
bad 3 count -c -1 $S4
bad 3 count -c 1x $S4
bad 3 interval -i 0 $S4
bad 3 interval -i -1 $S4
bad 3 interval -i nan $S4
bad 3 timeout -W 0 $S4
bad 3 timeout -W abc $S4
bad 3 timeout -W inf $S4
bad 3 mode -M bogus $S4
bad 3 "-4 and -6" -4 -6 $S4
bad 3 "no target" -p 80
bad 3 "unknown" --bogus $S4
bad 3 "-Z" -Z $S4
bad 3 "needs an argument" -p
bad 3 source-port -s 0 $S4
bad 3 source-port -s 65536 $S4
bad 3 "no such interface" -I nosuch0 $S4
bad 3 "not an address of this host" -S 198.18.0.77 $S4
bad 3 "not an IPv4 address" -S 2001:db8::1 $S4
bad 2 "not a numeric" -n localhost.invalid
bad 2 "198.18.0.300" 198.18.0.300 -n
bad 2 "no-such-host.invalid" no-such-host.invalid
bad 3 "prefix length must be 0-32" 198.18.0.0/33
bad 3 "prefix length must be 0-128" 2001:db8::/129
bad 3 "--max-targets" 2001:db8::/100
bad 3 "reversed range" 198.18.0.9-198.18.0.1
bad 3 "No such file" -f "$BED_DIR/missing.txt"
printf '198.18.0.2\nnot a target line\n' >"$BED_DIR/garbage.txt"
bad 3 "garbage.txt:2: one target per line" -f "$BED_DIR/garbage.txt"
chmod 000 "$BED_DIR/garbage.txt"
[ "$(id -u)" = 0 ] || bad 3 "Permission denied" -f "$BED_DIR/garbage.txt"
bad 3 "--shard" --shard 4/4 $S4
bad 3 "--shard" --shard x $S4
bad 3 "--warning" --warning 10,abc $S4
bad 3 "--critical" --critical -5 $S4
bad 3 "-M syn: conflicts with --http" -M syn --http $S4
bad 3 "--close" --close rst --http $S4
bad 3 "--rate" --rate 0 $S4
bad 3 "--exclude" --exclude 198.18.0.0/40 $S4
bad 3 "--format" --format xml $S4
bad 3 "--min-open" --min-open 2 $S4
bad 3 "--only" --only up $S4

sleep 0.3
kill -TERM $tdpid
wait $tdpid
expect_eq "bad invocations sent no packet" "$(tcpdump -r "$BED_DIR/cli.pcap" 2>/dev/null | wc -l)" 0

# -qq: a scripted check, the exit status alone
bed_listen 80
in_client "$TCPSHAKE" -qq -c 1 -p 80 $S4 >"$BED_DIR/qq.out" 2>&1
expect_eq "-qq open: exit 0, nothing printed" "$?,$(wc -c <"$BED_DIR/qq.out")" "0,0"
in_client "$TCPSHAKE" -qq -c 1 -W 0.3 -p 81 $S4 >"$BED_DIR/qq.out" 2>&1
expect_eq "-qq closed: exit 1, nothing printed" "$?,$(wc -c <"$BED_DIR/qq.out")" "1,0"
in_client "$TCPSHAKE" -q -c 1 -p 80 $S4 >"$BED_DIR/q.out" 2>&1
check "-q alone still prints the summary" grep -q "tcpshake statistics" "$BED_DIR/q.out"

# --wait: a deploy script waits for a port that opens later; --deadline
# bounds the wait
in_server sh -c "sleep 1.2; exec python3 '$TOPSRC/tests/lib/listener.py' '$BED_DIR/late.log' 91" \
	>/dev/null 2>&1 &
t0=$(date +%s%N)
in_client "$TCPSHAKE" --wait --deadline 10 -i 0.2 -W 0.2 -M syn -p 91 $S4 >"$BED_DIR/wait.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "--wait: exit 0 once the port opened, after ~1.2 s ($ms ms, rc $rc)" \
	sh -c "[ $rc -eq 0 ] && [ $ms -ge 1000 ] && [ $ms -lt 5000 ]"
check "--wait: the last probe line is the open one" sh -c "grep 'seq=' '$BED_DIR/wait.out' | tail -1 | grep -q ' open '"
t0=$(date +%s%N)
in_client "$TCPSHAKE" --wait --deadline 1 -i 0.2 -W 0.2 -M syn -p 81 $S4 >"$BED_DIR/wait.out" 2>&1
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "--deadline 1: a port that never opens ends the wait in ~1 s, exit 1 ($ms ms, rc $rc)" \
	sh -c "[ $rc -eq 1 ] && [ $ms -ge 900 ] && [ $ms -lt 3000 ]"

# -D: every text line begins with the time, as fping -D
in_client "$TCPSHAKE" -D -M syn -c 2 -i 0.1 -p 80 $S4 >"$BED_DIR/d.out" 2>&1
check "-D: probe lines begin with [seconds.micro] ($(head -1 "$BED_DIR/d.out"))" \
	sh -c "grep 'seq=' '$BED_DIR/d.out' | grep -Ecv '^\[[0-9]{10}\.[0-9]{6}\] 198\.18\.0\.2:80 seq=' | grep -qx 0"

# -C: SmokePing's FPing probe reads fping -C's lines on stderr
bed_rules
in_client "$TCPSHAKE" -C 3 -i 0.1 -W 0.3 -M syn -p 80 $S4 >"$BED_DIR/c.out" 2>"$BED_DIR/c.err"
expect_eq "-C: nothing on stdout" "$(wc -c <"$BED_DIR/c.out")" 0
check "-C: 'host : rtt rtt rtt' on stderr ($(cat "$BED_DIR/c.err"))" \
	grep -Eqx '198\.18\.0\.2 : [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2} [0-9]+\.[0-9]{2}' "$BED_DIR/c.err"
in_client "$TCPSHAKE" -C 2 -i 0.1 -W 0.3 -M syn -p 80,82 $S4 >/dev/null 2>"$BED_DIR/c.err"
check "-C: a silent port is '-', ports follow the host ($(tr '\n' ';' <"$BED_DIR/c.err"))" \
	sh -c "grep -qx '198.18.0.2:82 : - -' '$BED_DIR/c.err' && grep -Eq '^198\.18\.0\.2:80 : [0-9]' '$BED_DIR/c.err'"

# a continuous run: a line when the state changes, and the longest outage
in_client "$TCPSHAKE" -M syn -c 8 -i 0.2 -W 0.15 -p 80 $S4 >"$BED_DIR/chg.out" 2>&1 &
chg=$!
sleep 0.5
in_server nft -f - <<'NFT'
table inet toggle {
	chain in {
		type filter hook input priority -5; policy accept;
		tcp dport 80 drop
	}
}
NFT
sleep 0.6
in_server nft delete table inet toggle
wait $chg
check "a change of state has its own line" grep -q "^198.18.0.2:80 is now filtered (was open)$" "$BED_DIR/chg.out"
check "and back" grep -q "^198.18.0.2:80 is now open (was filtered)$" "$BED_DIR/chg.out"
check "the summary names the longest outage ($(grep outage "$BED_DIR/chg.out"))" \
	grep -Eq "^longest outage 0\.[3-9][0-9]{2} s, from [0-9]{4}-" "$BED_DIR/chg.out"

# a name is shown as typed, with its address (loopback of the client)
in_client "$TCPSHAKE" -M syn -c 1 -W 0.3 -p 9 localhost >"$BED_DIR/name.out" 2>&1
check "a name as typed, with its address ($(head -1 "$BED_DIR/name.out"))" \
	grep -Eq '^localhost:9 \((127\.0\.0\.1|::1)\) seq=0 closed' "$BED_DIR/name.out"

in_client "$TCPSHAKE" --help >"$BED_DIR/help" 2>&1
expect_eq "--help exits 0" "$?" 0
check "--help documents the exit codes" grep -q "3  usage error" "$BED_DIR/help"
in_client "$TCPSHAKE" -V >"$BED_DIR/version" 2>&1
expect_eq "--version exits 0" "$?" 0
check "--version names tcpshake and libpcap" sh -c "grep -q '^tcpshake [0-9]' '$BED_DIR/version' && grep -q libpcap '$BED_DIR/version'"

bed_finish
