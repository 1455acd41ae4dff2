# bed.sh - a throwaway two-host network for tcpshake's integration tests.
#
# Source it, then call bed_up. It makes two network namespaces with names
# unique to this run, joined by a veth pair:
#   client  198.18.0.1/24  2001:db8::1/64   (tcpshake runs here)
#   server  198.18.0.2/24  2001:db8::2/64   (listener, nft rules)
# and removes them, with every process started in them, on exit - also when
# the test fails or is interrupted. Only these addresses are ever targets.

BED_ID="ts$$x$(od -An -N2 -tu2 /dev/urandom | tr -d " ")"
BED_C="$BED_ID-c"
BED_S="$BED_ID-s"
BED_DIR=$(mktemp -d "${TMPDIR:-/tmp}/tcpshake-bed.XXXXXX")
C4=198.18.0.1 S4=198.18.0.2 C6=2001:db8::1 S6=2001:db8::2
BED_FAILS=0
BED_CHECKS=0

bed_down() {
	local ns
	exec 2>/dev/null # the shell's notes on the background jobs killed here
	for ns in "$BED_C" "$BED_S"; do
		if ip netns list | grep -qw "$ns"; then
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		fi
	done
	rm -rf "$BED_DIR"
}

bed_skip_unless_root() {
	if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v nft >/dev/null; then
		echo "SKIP: needs root, iproute2 and nftables"
		exit 77
	fi
	for t in jq python3 tcpdump; do
		command -v "$t" >/dev/null || { echo "SKIP: needs $t"; exit 77; }
	done
}

bed_up() {
	bed_skip_unless_root
	trap 'bed_down' EXIT
	trap 'exit 130' INT TERM
	ip netns add "$BED_C" && ip netns add "$BED_S" || exit 99
	ip link add veth0 netns "$BED_C" type veth peer name veth0 netns "$BED_S" || exit 99
	local ns
	for ns in "$BED_C" "$BED_S"; do
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.veth0.accept_dad=0
	done
	# the kernel rate-limits ICMP errors per peer; the bed answers every probe
	ip netns exec "$BED_S" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
		net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000
	ip -n "$BED_C" addr add $C4/24 dev veth0
	ip -n "$BED_C" addr add $C6/64 dev veth0 nodad
	ip -n "$BED_S" addr add $S4/24 dev veth0
	ip -n "$BED_S" addr add $S6/64 dev veth0 nodad
	ip -n "$BED_C" link set veth0 up
	ip -n "$BED_S" link set veth0 up
	# neighbours resolved up front so the first probe's RTT is the network's
	local mac_c mac_s a
	mac_c=$(ip -n "$BED_C" -br link show veth0 | awk '{print $3}')
	mac_s=$(ip -n "$BED_S" -br link show veth0 | awk '{print $3}')
	for a in $S4 $S6; do ip -n "$BED_C" neigh replace $a lladdr "$mac_s" dev veth0; done
	for a in $C4 $C6; do ip -n "$BED_S" neigh replace $a lladdr "$mac_c" dev veth0; done
}

# A whole block answered by the server (AnyIP: a local route to a prefix),
# IPv4 198.19.0.0/16 and IPv6 2001:db8:1::/112, reached through the veth.
# Sub-blocks are built to answer differently (the rest is open on 80):
#   198.19.1.0/24  2001:db8:1::100/120  dropped      (filtered)
#   198.19.2.0/24  2001:db8:1::200/120  TCP reset    (closed)
#   198.19.3.0/24  2001:db8:1::300/120  ICMP admin-prohibited (unreachable)
bed_anyip() {
	ip -n "$BED_S" route add local 198.19.0.0/16 dev lo
	ip -n "$BED_S" -6 route add local 2001:db8:1::/112 dev lo
	ip -n "$BED_C" route add 198.19.0.0/16 via $S4
	ip -n "$BED_C" -6 route add 2001:db8:1::/112 via $S6
	ip netns exec "$BED_S" sysctl -qw net.ipv4.tcp_max_syn_backlog=65536 net.core.somaxconn=65535
	ip netns exec "$BED_S" nft -f - <<'NFT' || exit 99
table inet anyip {
	chain input {
		type filter hook input priority -10; policy accept;
		ip daddr 198.19.1.0/24 tcp dport 80 drop
		ip daddr 198.19.2.0/24 tcp dport 80 reject with tcp reset
		ip daddr 198.19.3.0/24 tcp dport 80 reject with icmp type admin-prohibited
		ip6 daddr 2001:db8:1::100/120 tcp dport 80 drop
		ip6 daddr 2001:db8:1::200/120 tcp dport 80 reject with tcp reset
		ip6 daddr 2001:db8:1::300/120 tcp dport 80 reject with icmpv6 type admin-prohibited
	}
}
NFT
}

# Beyond the server, as if it were a router: 198.18.9.0/24 and
# 2001:db8:9::/64 are routed through it, and it sets the TTL and hop limit of
# what it would forward to 1, so its kernel answers with ICMP time exceeded
# from $S4 and $S6, quoting our SYN.
bed_ttl_hop() {
	ip -n "$BED_C" route add 198.18.9.0/24 via $S4
	ip -n "$BED_C" -6 route add 2001:db8:9::/64 via $S6
	ip netns exec "$BED_S" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip -n "$BED_S" link add hop0 type veth peer name hop1
	ip -n "$BED_S" link set hop0 up
	ip -n "$BED_S" link set hop1 up
	ip -n "$BED_S" route add 198.18.9.0/24 dev hop0
	ip -n "$BED_S" -6 route add 2001:db8:9::/64 dev hop0
	ip netns exec "$BED_S" nft -f - <<'NFT' || exit 99
table inet hop {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		ip daddr 198.18.9.0/24 ip ttl set 1
		ip6 daddr 2001:db8:9::/64 ip6 hoplimit set 1
	}
}
NFT
}

# The server's firewall: port 80 listens, 81 is closed (the kernel resets),
# 82 drops, 83.. answer with each ICMP error.
bed_rules() {
	ip netns exec "$BED_S" nft -f - <<'NFT' || exit 99
table inet bed {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 82 drop
		meta nfproto ipv4 tcp dport 83 reject with icmp type admin-prohibited
		meta nfproto ipv4 tcp dport 84 reject with icmp type host-unreachable
		meta nfproto ipv4 tcp dport 85 reject with icmp type net-unreachable
		meta nfproto ipv4 tcp dport 86 reject with icmp type port-unreachable
		meta nfproto ipv4 tcp dport 87 reject with icmp type host-prohibited
		meta nfproto ipv4 tcp dport 88 reject with icmp type net-prohibited
		meta nfproto ipv4 tcp dport 89 reject with icmp type prot-unreachable
		meta nfproto ipv6 tcp dport 83 reject with icmpv6 type admin-prohibited
		meta nfproto ipv6 tcp dport 84 reject with icmpv6 type addr-unreachable
		meta nfproto ipv6 tcp dport 85 reject with icmpv6 type no-route
		meta nfproto ipv6 tcp dport 86 reject with icmpv6 type port-unreachable
		meta nfproto ipv6 tcp dport 87 reject with icmpv6 type policy-fail
		meta nfproto ipv6 tcp dport 88 reject with icmpv6 type reject-route
	}
}
NFT
}

# A real listener on the server side; its log lines: "accept", "eof", "rst".
bed_listen() {
	ip netns exec "$BED_S" python3 "$TOPSRC/tests/lib/listener.py" "$BED_DIR/listener.log" "$@" \
		>/dev/null 2>&1 &
	local i
	for i in $(seq 50); do
		grep -q ready "$BED_DIR/listener.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "listener did not start"
	exit 99
}

# A real HTTP server on the server side (Python's http.server, serving
# tests/lib), its log in $BED_DIR/http.log; waits until it answers.
bed_http() {
	ip netns exec "$BED_S" python3 -m http.server "$1" --bind :: --directory "$TOPSRC/tests/lib" \
		>"$BED_DIR/http.log" 2>&1 &
	local i
	for i in $(seq 100); do
		ip netns exec "$BED_C" python3 -c \
			"import socket; socket.create_connection(('$S4', $1), 0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "HTTP server did not start"
	exit 99
}

in_client() { ip netns exec "$BED_C" "$@"; }
in_server() { ip netns exec "$BED_S" "$@"; }

# check DESCRIPTION COMMAND...: a test case, in TAP-like lines.
check() {
	local desc=$1
	shift
	BED_CHECKS=$((BED_CHECKS + 1))
	if "$@"; then
		echo "ok $BED_CHECKS - $desc"
	else
		echo "not ok $BED_CHECKS - $desc"
		BED_FAILS=$((BED_FAILS + 1))
	fi
}

# expect_eq DESCRIPTION ACTUAL EXPECTED
expect_eq() {
	BED_CHECKS=$((BED_CHECKS + 1))
	if [ "$2" = "$3" ]; then
		echo "ok $BED_CHECKS - $1"
	else
		echo "not ok $BED_CHECKS - $1: got '$2', expected '$3'"
		BED_FAILS=$((BED_FAILS + 1))
	fi
}

# jq_true FILE EXPR: EXPR, over all JSON lines of FILE as one array, is true.
jq_true() { jq -e -s "$2" "$1" >/dev/null; }

bed_finish() {
	echo "$BED_CHECKS checks, $BED_FAILS failed"
	[ "$BED_FAILS" -eq 0 ]
}
