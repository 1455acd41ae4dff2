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

# bed_tables_left: the guard tables left in the client's namespace once the
# runs that made them have exited. The kernel releases a run's guard socket,
# and with it its table, after the exit (within some tens of milliseconds:
# tcpshake does not wait for it), so this waits up to 2 s for them to go.
bed_tables_left() {
	local i n=0
	for i in $(seq 40); do
		n=$(in_client nft list tables 2>/dev/null | grep -c tcpshake_)
		[ "$n" -eq 0 ] && break
		sleep 0.05
	done
	echo "$n"
}

# bed_capture_start NAME [FILTER]: tcpdump on the client's veth0 into
# $BED_DIR/NAME.pcap (nanosecond stamps; FILTER: tcp), once it listens;
# bed_capture_stop ends it, its last frames written.
bed_capture_start() {
	ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -i veth0 -nn -U \
		--time-stamp-precision=nano -w "$BED_DIR/$1.pcap" "${2:-tcp}" 2>"$BED_DIR/td.err" &
	BED_TCPDUMP=$!
	local i
	for i in $(seq 100); do grep -q listening "$BED_DIR/td.err" && break; sleep 0.05; done
}
bed_capture_stop() { sleep 0.2; kill -TERM $BED_TCPDUMP; wait $BED_TCPDUMP 2>/dev/null; }

# bed_synproxy MSS: an nftables synproxy in the server namespace in front of
# its ports 90 and 92 (the nftables wiki's recipe: SYNs untracked, the
# proxy answers them with this MSS, window scale 7, timestamps and SACK).
bed_synproxy() {
	in_server sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
	in_server nft -f - <<NFT || exit 99
table inet mbox {
	chain pre {
		type filter hook prerouting priority raw; policy accept;
		tcp dport { 90, 92 } tcp flags syn notrack
	}
	chain in {
		type filter hook input priority filter; policy accept;
		tcp dport { 90, 92 } ct state invalid,untracked synproxy mss $1 wscale 7 timestamp sack-perm
		tcp dport { 90, 92 } ct state invalid drop
	}
}
NFT
}

# jq_true FILE EXPR: EXPR, over all JSON lines of FILE as one array, is true.
jq_true() { jq -e -s "$2" "$1" >/dev/null; }

bed_finish() {
	echo "$BED_CHECKS checks, $BED_FAILS failed"
	[ "$BED_FAILS" -eq 0 ]
}

# ---- the lossy bed ---------------------------------------------------------
# bed_lossy_up builds three namespaces instead of two, routed through the
# middle one, IPv4 and IPv6 (this kernel has no sch_netem; nftables and
# tests/lib/relay.py make the path bad instead):
#   client $BED_C  veth0 198.18.10.1/24  2001:db8:10::1/64  (default via middle)
#   middle $BED_M  cb    198.18.10.254   2001:db8:10::fe    (the client side)
#                  sv    198.18.20.254   2001:db8:20::fe    (the server side)
#   server $BED_S  veth0 198.18.20.2/24  2001:db8:20::2/64  (default via middle)
# The server also answers for 198.19.0.0/16 and 2001:db8:19::/64 (AnyIP).
# In the middle, the client's link arrives on cx, and a veth pair ca-cb leads
# to the routed cb: cx and ca are bridged (br0) while no relay runs; bed_relay
# takes them out of the bridge and relays between them itself, with delay,
# jitter, duplication, reordering and rewriting. Offloads are off on every
# link, so that every frame is a whole, checksummed segment.
BED_M="$BED_ID-m"
LC4=198.18.10.1 LM4=198.18.10.254 LN4=198.18.20.254 LS4=198.18.20.2
LC6=2001:db8:10::1 LM6=2001:db8:10::fe LN6=2001:db8:20::fe LS6=2001:db8:20::2
BED_RELAY_PID=

bed_lossy_down() {
	[ -n "$BED_RELAY_PID" ] && kill -9 "$BED_RELAY_PID" 2>/dev/null
	if ip netns list 2>/dev/null | grep -qw "$BED_M"; then
		ip netns pids "$BED_M" 2>/dev/null | xargs -r kill -9 2>/dev/null
		ip netns del "$BED_M" 2>/dev/null
	fi
	bed_down
}

bed_lossy_up() {
	bed_skip_unless_root
	command -v ethtool >/dev/null || { echo "SKIP: needs ethtool"; exit 77; }
	trap 'bed_lossy_down' EXIT
	trap 'exit 130' INT TERM
	local ns dev mac
	for ns in "$BED_C" "$BED_M" "$BED_S"; do
		ip netns add "$ns" || exit 99
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
	done
	ip link add veth0 netns "$BED_C" type veth peer name cx netns "$BED_M" || exit 99
	ip link add veth0 netns "$BED_S" type veth peer name sv netns "$BED_M" || exit 99
	ip -n "$BED_M" link add ca type veth peer name cb || exit 99
	ip -n "$BED_M" link add br0 type bridge forward_delay 0 stp_state 0 || exit 99
	for dev in cx ca br0; do
		ip netns exec "$BED_M" sysctl -qw net.ipv6.conf.$dev.disable_ipv6=1
	done
	ip -n "$BED_M" link set cx master br0
	ip -n "$BED_M" link set ca master br0
	for dev in cx ca cb sv br0; do ip -n "$BED_M" link set $dev up; done
	ip netns exec "$BED_M" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
	ip netns exec "$BED_S" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
		net.ipv4.icmp_msgs_per_sec=1000000 net.ipv4.icmp_msgs_burst=1000000 \
		net.ipv4.tcp_max_syn_backlog=65536 net.core.somaxconn=65535
	ip netns exec "$BED_M" sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
	for dev in cx ca cb sv; do
		ip netns exec "$BED_M" ethtool -K $dev tx off tso off gso off gro off >/dev/null 2>&1
	done
	for ns in "$BED_C" "$BED_S"; do
		ip netns exec "$ns" ethtool -K veth0 tx off tso off gso off gro off >/dev/null 2>&1
		ip -n "$ns" link set veth0 up
	done
	ip -n "$BED_C" addr add $LC4/24 dev veth0
	ip -n "$BED_C" addr add $LC6/64 dev veth0 nodad
	ip -n "$BED_M" addr add $LM4/24 dev cb
	ip -n "$BED_M" addr add $LM6/64 dev cb nodad
	ip -n "$BED_M" addr add $LN4/24 dev sv
	ip -n "$BED_M" addr add $LN6/64 dev sv nodad
	ip -n "$BED_S" addr add $LS4/24 dev veth0
	ip -n "$BED_S" addr add $LS6/64 dev veth0 nodad
	ip -n "$BED_C" route add default via $LM4
	ip -n "$BED_C" -6 route add default via $LM6
	ip -n "$BED_S" route add default via $LN4
	ip -n "$BED_S" -6 route add default via $LN6
	ip -n "$BED_S" route add local 198.19.0.0/16 dev lo
	ip -n "$BED_S" -6 route add local 2001:db8:19::/64 dev lo
	ip -n "$BED_M" route add 198.19.0.0/16 via $LS4
	ip -n "$BED_M" -6 route add 2001:db8:19::/64 via $LS6
	# neighbours resolved up front, as in bed_up (the relay passes no ARP then)
	mac=$(ip -n "$BED_M" -br link show cb | awk '{print $3}')
	ip -n "$BED_C" neigh replace $LM4 lladdr "$mac" dev veth0
	ip -n "$BED_C" neigh replace $LM6 lladdr "$mac" dev veth0
	mac=$(ip -n "$BED_C" -br link show veth0 | awk '{print $3}')
	ip -n "$BED_M" neigh replace $LC4 lladdr "$mac" dev cb
	ip -n "$BED_M" neigh replace $LC6 lladdr "$mac" dev cb
	mac=$(ip -n "$BED_M" -br link show sv | awk '{print $3}')
	ip -n "$BED_S" neigh replace $LN4 lladdr "$mac" dev veth0
	ip -n "$BED_S" neigh replace $LN6 lladdr "$mac" dev veth0
	mac=$(ip -n "$BED_S" -br link show veth0 | awk '{print $3}')
	ip -n "$BED_M" neigh replace $LS4 lladdr "$mac" dev sv
	ip -n "$BED_M" neigh replace $LS6 lladdr "$mac" dev sv
}

in_middle() { ip netns exec "$BED_M" "$@"; }

# bed_relay [relay.py options]: the relay replaces the bridge between the
# client and the middle (see tests/lib/relay.py) until bed_relay_stop. It
# exits by itself after $BED_RELAY_MAX seconds (300); its counters are in
# $BED_DIR/relay.stats once it has stopped.
bed_relay() {
	bed_relay_stop
	ip -n "$BED_M" link set cx nomaster
	ip -n "$BED_M" link set ca nomaster
	# the middle's own stack must not answer or forward what arrives on cx and
	# ca: the relay's packet sockets see the frames before this hook drops them
	in_middle nft -f - <<'NFT' || exit 99
table netdev relaybypass {
	chain cx { type filter hook ingress device "cx" priority 0; policy drop; }
	chain ca { type filter hook ingress device "ca" priority 0; policy drop; }
}
NFT
	: >"$BED_DIR/relay.out"
	ip netns exec "$BED_M" python3 "$TOPSRC/tests/lib/relay.py" cx ca \
		--max-seconds "${BED_RELAY_MAX:-300}" --stats "$BED_DIR/relay.stats" "$@" \
		>"$BED_DIR/relay.out" 2>&1 &
	BED_RELAY_PID=$!
	local i
	for i in $(seq 100); do
		grep -q ready "$BED_DIR/relay.out" && return 0
		sleep 0.05
	done
	echo "relay did not start: $(cat "$BED_DIR/relay.out")"
	exit 99
}

bed_relay_stop() {
	[ -n "$BED_RELAY_PID" ] || return 0
	kill -TERM "$BED_RELAY_PID" 2>/dev/null
	wait "$BED_RELAY_PID" 2>/dev/null
	BED_RELAY_PID=
	in_middle nft delete table netdev relaybypass 2>/dev/null
	ip -n "$BED_M" link set cx master br0
	ip -n "$BED_M" link set ca master br0
}

# bed_loss TO_SERVER% TO_CLIENT% PORTS [ping]: the middle drops that share of
# the TCP segments to (and from) PORTS ("80,8080"), each direction at random
# (nftables numgen); with "ping", ICMP echo requests and replies too (to check
# the bed itself). Replaces the previous loss; bed_loss 0 0 PORTS removes it.
bed_loss() {
	in_middle nft delete table inet lossy 2>/dev/null
	[ "$1" -eq 0 ] && [ "$2" -eq 0 ] && return 0
	{
		echo "table inet lossy {"
		echo " chain through { type filter hook forward priority 0; policy accept;"
		[ "$1" -gt 0 ] && echo "  iifname \"cb\" tcp dport { $3 } numgen random mod 100 < $1 counter drop"
		[ "$2" -gt 0 ] && echo "  iifname \"sv\" tcp sport { $3 } numgen random mod 100 < $2 counter drop"
		if [ "${4:-}" = ping ]; then
			[ "$1" -gt 0 ] && echo "  iifname \"cb\" icmp type echo-request numgen random mod 100 < $1 counter drop" &&
				echo "  iifname \"cb\" icmpv6 type echo-request numgen random mod 100 < $1 counter drop"
			[ "$2" -gt 0 ] && echo "  iifname \"sv\" icmp type echo-reply numgen random mod 100 < $2 counter drop" &&
				echo "  iifname \"sv\" icmpv6 type echo-reply numgen random mod 100 < $2 counter drop"
		fi
		echo " }"
		echo "}"
	} | in_middle nft -f - || exit 99
}

# The segments dropped so far by bed_loss, both directions together.
bed_loss_drops() {
	in_middle nft list table inet lossy 2>/dev/null |
		awk '/counter packets/ {for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1)} END {print n + 0}'
}

# bed_drop_first_synack PORT: the first SYN/ACK of every connection from the
# server's PORT is dropped in the middle; its retransmissions pass.
bed_drop_first_synack() {
	in_middle nft delete table inet dropsa 2>/dev/null
	in_middle nft -f - <<NFT || exit 99
table inet dropsa {
	set seen4 { type ipv4_addr . inet_service; flags dynamic; }
	set seen6 { type ipv6_addr . inet_service; flags dynamic; }
	chain through {
		type filter hook forward priority -5; policy accept;
		meta nfproto ipv4 tcp sport $1 tcp flags & (syn | ack) == syn | ack ip daddr . tcp dport @seen4 accept
		meta nfproto ipv4 tcp sport $1 tcp flags & (syn | ack) == syn | ack add @seen4 { ip daddr . tcp dport } counter drop
		meta nfproto ipv6 tcp sport $1 tcp flags & (syn | ack) == syn | ack ip6 daddr . tcp dport @seen6 accept
		meta nfproto ipv6 tcp sport $1 tcp flags & (syn | ack) == syn | ack add @seen6 { ip6 daddr . tcp dport } counter drop
	}
}
NFT
}

# bed_drop_final_ack PORT: the client's last ACK - the first pure ACK it sends
# to PORT after the server's FIN - is dropped once per family (one connection
# each), so that the server stays in LAST-ACK and retransmits its FIN.
bed_drop_final_ack() {
	in_middle nft delete table inet dropack 2>/dev/null
	in_middle nft -f - <<NFT || exit 99
table inet dropack {
	set fin4 { type ipv4_addr . inet_service; flags dynamic; }
	set fin6 { type ipv6_addr . inet_service; flags dynamic; }
	chain through {
		type filter hook forward priority -5; policy accept;
		meta nfproto ipv4 tcp sport $1 tcp flags & fin == fin add @fin4 { ip daddr . tcp dport }
		meta nfproto ipv6 tcp sport $1 tcp flags & fin == fin add @fin6 { ip6 daddr . tcp dport }
		meta nfproto ipv4 tcp dport $1 tcp flags == ack ip saddr . tcp sport @fin4 quota until 100 bytes counter drop
		meta nfproto ipv6 tcp dport $1 tcp flags == ack ip6 saddr . tcp sport @fin6 quota until 100 bytes counter drop
	}
}
NFT
}

# The packets dropped so far by a bed_drop_* table (dropsa or dropack).
bed_drop_count() {
	in_middle nft list table inet "$1" 2>/dev/null |
		awk '/counter packets/ {for (i = 1; i < NF; i++) if ($i == "packets") n += $(i + 1)} END {print n + 0}'
}

bed_drop_off() { in_middle nft delete table inet "$1" 2>/dev/null; }

# bed_nginx PORT...: a real nginx in the server namespace, listening on every
# PORT (IPv4 and IPv6, so also on the AnyIP blocks); "/" answers 200. Its
# configuration, pid and logs are in $BED_DIR/nginx; it runs in the
# foreground of a background job and dies with the namespace.
bed_nginx() {
	local d="$BED_DIR/nginx" p listen=""
	command -v nginx >/dev/null || { echo "SKIP: needs nginx (nginx-light)"; exit 77; }
	mkdir -p "$d/tmp"
	for p in "$@"; do listen="$listen		listen $p reuseport backlog=4096; listen [::]:$p ipv6only=on backlog=4096;
"; done
	cat >"$d/nginx.conf" <<EOF2
daemon off;
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
	server {
$listen		location / { return 200 "ok\n"; }
	}
}
EOF2
	ip netns exec "$BED_S" nginx -e "$d/error.log" -c "$d/nginx.conf" >"$d/stdout" 2>&1 &
	local i
	for i in $(seq 100); do
		ip netns exec "$BED_S" python3 -c \
			"import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nginx did not start: $(cat "$d/error.log" "$d/stdout" 2>/dev/null)"
	exit 99
}

# bed_sshd PORT: OpenSSH's sshd in the server namespace on PORT (a host key
# and a configuration generated in $BED_DIR/sshd; no login is possible).
bed_sshd() {
	local d="$BED_DIR/sshd"
	[ -x /usr/sbin/sshd ] || { echo "SKIP: needs openssh-server"; exit 77; }
	mkdir -p "$d" /run/sshd
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_key" >/dev/null || exit 99
	cat >"$d/sshd_config" <<EOF2
Port $1
ListenAddress $LS4
ListenAddress [$LS6]
HostKey $d/host_key
PidFile $d/sshd.pid
UsePAM no
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxStartups 1000
LogLevel ERROR
EOF2
	ip netns exec "$BED_S" /usr/sbin/sshd -D -f "$d/sshd_config" -h "$d/host_key" -E "$d/sshd.log" &
	local i
	for i in $(seq 100); do
		ip netns exec "$BED_C" python3 -c \
			"import socket; socket.create_connection(('$LS4', $1), 0.2)" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "sshd did not start: $(cat "$d/sshd.log" 2>/dev/null)"
	exit 99
}

# bed_ss_leftovers PORT [WAIT]: after WAIT seconds (1), the server's `ss -tan`
# lines for PORT that are neither LISTEN nor TIME-WAIT: connections the
# server still holds (SYN-RECV, ESTAB, CLOSE-WAIT, LAST-ACK, FIN-WAIT...).
bed_ss_leftovers() {
	sleep "${2:-1}"
	ip netns exec "$BED_S" ss -tanH "( sport = :$1 )" | awk '$1 != "LISTEN" && $1 != "TIME-WAIT"'
}

# bed_ss_reset PORT...: the server forgets every connection on PORT (ss -K:
# SYN-RECV, ESTAB, LAST-ACK...; the listeners stay), so that what one check
# left behind does not show up in the next one's leftovers.
bed_ss_reset() {
	local p
	for p in "$@"; do
		ip netns exec "$BED_S" ss -K state connected "( sport = :$p )" >/dev/null 2>&1
	done
}

# ---- the flag-scan bed (issue 13) --------------------------------------------
# bed_flag_ports: on the server, for IPv4 and IPv6 alike, one port for each
# answer a flag scan can meet (nothing here clashes with bed_rules' 80-89):
#   100  open: a real listener, no rule
#   101  closed: nothing listens, no rule (the kernel resets)
#   102  dropped: nft drop
#   103  rejected with ICMP / ICMPv6 admin-prohibited
#   104  rejected with a TCP reset by nft (reject with tcp reset)
#   105  stateful: a listener behind "new connections only by SYN" - a new
#        connection's SYN and established/related traffic pass, every other
#        new or invalid segment (ACK, FIN, NULL, Xmas...) is dropped
#   106  stateless: closed, behind a rule that drops segments with none of
#        SYN, ACK, RST (FIN, NULL and Xmas probes), as "drop scans" rules do
#   107  closed, but its resets leave with a window of 4096 (nft rewrites it,
#        as some stacks send them): the window scan's "open"
# The listener is its own process with its own log ($BED_DIR/flags-listener.log),
# so this goes with bed_listen and bed_rules in one test.
BED_FLAG_OPEN=100 BED_FLAG_CLOSED=101 BED_FLAG_DROP=102 BED_FLAG_ICMP=103
BED_FLAG_RST=104 BED_FLAG_STATEFUL=105 BED_FLAG_STATELESS=106 BED_FLAG_WINRST=107
BED_FLAG_PORTS=100-107
bed_flag_ports() {
	ip netns exec "$BED_S" nft -f - <<'NFT' || exit 99
table inet flagbed {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 102 drop
		meta nfproto ipv4 tcp dport 103 reject with icmp type admin-prohibited
		meta nfproto ipv6 tcp dport 103 reject with icmpv6 type admin-prohibited
		tcp dport 104 reject with tcp reset
		tcp dport 105 ct state established,related accept
		tcp dport 105 ct state new tcp flags syn accept
		tcp dport 105 drop
		tcp dport 106 tcp flags & (syn | ack | rst) == 0x0 drop
	}
	chain output {
		type filter hook output priority 0; policy accept;
		tcp sport 107 tcp flags & rst == rst tcp window set 4096
	}
}
NFT
	ip netns exec "$BED_S" python3 "$TOPSRC/tests/lib/listener.py" "$BED_DIR/flags-listener.log" \
		100 105 >/dev/null 2>&1 &
	local i
	for i in $(seq 50); do
		grep -q ready "$BED_DIR/flags-listener.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "flag-bed listener did not start"
	exit 99
}

# ---- the path bed ----------------------------------------------------------
# bed_path_up builds four namespaces in a line, routed hop by hop, IPv4 and
# IPv6 (for traceroute, path MTU and middlebox tests):
#   client $BED_C   veth0 198.18.31.1/24    2001:db8:31::1/64   (default via r1)
#   r1     $BED_R1  left  198.18.31.254     2001:db8:31::fe     (the client side)
#                   right 198.18.32.1       2001:db8:32::1
#   r2     $BED_R2  left  198.18.32.2       2001:db8:32::2
#                   right 198.18.33.254     2001:db8:33::fe     (the server side)
#   server $BED_S   veth0 198.18.33.2/24    2001:db8:33::2/64   (default via r2)
# Both routers forward, decrement the TTL and hop limit and answer with ICMP
# errors without a rate limit; offloads are off on every link, so that each
# frame is one whole segment (a router sends frag-needed for what it cannot
# forward). in_r1 and in_r2 run a command in a router.
BED_R1="$BED_ID-r1"
BED_R2="$BED_ID-r2"
PC4=198.18.31.1 PR1A4=198.18.31.254 PR1B4=198.18.32.1 PR2A4=198.18.32.2 PR2B4=198.18.33.254 PS4=198.18.33.2
PC6=2001:db8:31::1 PR1A6=2001:db8:31::fe PR1B6=2001:db8:32::1 PR2A6=2001:db8:32::2 PR2B6=2001:db8:33::fe PS6=2001:db8:33::2

bed_path_down() {
	local ns
	for ns in "$BED_R1" "$BED_R2"; do
		if ip netns list 2>/dev/null | grep -qw "$ns"; then
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		fi
	done
	bed_down
}

bed_path_up() {
	bed_skip_unless_root
	command -v ethtool >/dev/null || { echo "SKIP: needs ethtool"; exit 77; }
	trap 'bed_path_down' EXIT
	trap 'exit 130' INT TERM
	local ns dev
	for ns in "$BED_C" "$BED_R1" "$BED_R2" "$BED_S"; do
		ip netns add "$ns" || exit 99
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 net.ipv4.icmp_ratelimit=0 \
			net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=1000000 \
			net.ipv4.icmp_msgs_burst=1000000
	done
	ip link add name veth0 netns "$BED_C" type veth peer name left netns "$BED_R1" || exit 99
	ip link add name right netns "$BED_R1" type veth peer name left netns "$BED_R2" || exit 99
	ip link add name right netns "$BED_R2" type veth peer name veth0 netns "$BED_S" || exit 99
	for ns in "$BED_R1" "$BED_R2"; do
		ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
		for dev in left right; do
			ip netns exec "$ns" ethtool -K $dev tx off tso off gso off gro off >/dev/null 2>&1
			ip -n "$ns" link set dev $dev up
		done
	done
	for ns in "$BED_C" "$BED_S"; do
		ip netns exec "$ns" ethtool -K veth0 tx off tso off gso off gro off >/dev/null 2>&1
		ip -n "$ns" link set veth0 up
	done
	ip -n "$BED_C" addr add $PC4/24 dev veth0
	ip -n "$BED_C" addr add $PC6/64 dev veth0 nodad
	ip -n "$BED_R1" addr add $PR1A4/24 dev left
	ip -n "$BED_R1" addr add $PR1A6/64 dev left nodad
	ip -n "$BED_R1" addr add $PR1B4/24 dev right
	ip -n "$BED_R1" addr add $PR1B6/64 dev right nodad
	ip -n "$BED_R2" addr add $PR2A4/24 dev left
	ip -n "$BED_R2" addr add $PR2A6/64 dev left nodad
	ip -n "$BED_R2" addr add $PR2B4/24 dev right
	ip -n "$BED_R2" addr add $PR2B6/64 dev right nodad
	ip -n "$BED_S" addr add $PS4/24 dev veth0
	ip -n "$BED_S" addr add $PS6/64 dev veth0 nodad
	ip -n "$BED_C" route add default via $PR1A4
	ip -n "$BED_C" -6 route add default via $PR1A6
	ip -n "$BED_R1" route add 198.18.33.0/24 via $PR2A4
	ip -n "$BED_R1" -6 route add 2001:db8:33::/64 via $PR2A6
	ip -n "$BED_R2" route add 198.18.31.0/24 via $PR1B4
	ip -n "$BED_R2" -6 route add 2001:db8:31::/64 via $PR1B6
	ip -n "$BED_S" route add default via $PR2B4
	ip -n "$BED_S" -6 route add default via $PR2B6
	# the path works end to end before any test runs (neighbours resolved)
	local i
	for i in $(seq 50); do
		ip netns exec "$BED_C" ping -c1 -W1 -q $PS4 >/dev/null 2>&1 &&
			ip netns exec "$BED_C" ping -6 -c1 -W1 -q $PS6 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "the path bed does not forward"
	exit 99
}

in_r1() { ip netns exec "$BED_R1" "$@"; }
in_r2() { ip netns exec "$BED_R2" "$@"; }
