#!/bin/sh
# --pmtu on the path bed (client - r1 - r2 - server), IPv4 and IPv6, against
# the listener: a clean path (ok at 1500), the r1-r2 link at MTU 1280 with
# r1's frag-needed / packet-too-big allowed (fragmentation-needed, next-hop
# 1280, named by r1) and dropped in r1 (black-hole, 1280 found by
# bisection), and an MSS clamp in r2 (the SYN/ACK's MSS 1200 against
# --peer-mtu 1500). Three witnesses each time: our report; tcpdump (the
# largest segment of ours that reached the server, the ICMP errors that
# reached the client); the server's ss a second later (nothing but LISTEN
# and TIME-WAIT). One case in every format.
. "$TOPSRC/tests/lib/bed.sh"
bed_path_up
bed_listen 80 2525:banner 2526:close

# wire_sizes FILE SRC: the lengths of the IP packets from SRC in a capture
# that carry data (longer than 200 bytes), in order
wire_sizes() {
	python3 - "$1" "$2" <<'EOF'
import ipaddress, os, struct, sys
sys.path.insert(0, os.environ["TOPSRC"] + "/tests/lib")
from pcapkit import read_pcap
src, sizes = ipaddress.ip_address(sys.argv[2]), []
for _ts, f in read_pcap(sys.argv[1]):
    et, ip, n = struct.unpack("!H", f[12:14])[0], f[14:], 0
    if et == 0x0800 and ipaddress.ip_address(ip[12:16]) == src:
        n = struct.unpack("!H", ip[2:4])[0]
    elif et == 0x86dd and ipaddress.ip_address(ip[8:24]) == src:
        n = 40 + struct.unpack("!H", ip[4:6])[0]
    if n > 200:
        sizes.append(str(n))
print(" ".join(sizes))
EOF
}

# wire_max FILE SRC: the largest of them (0: none)
wire_max() { wire_sizes "$1" "$2" | tr ' ' '\n' | sort -n | tail -1 | sed 's/^$/0/'; }

# too_big FILE: the next-hop MTUs of the ICMP frag-needed / packet-too-big
# errors in a capture, sorted and unique
too_big() {
	tcpdump -r "$1" -nn 2>/dev/null |
		sed -nE 's/.*need to frag \(mtu ([0-9]+)\).*/\1/p; s/.*packet too big, mtu ([0-9]+).*/\1/p' |
		sort -u | tr '\n' ' '
}

cap_start() {
	ip netns exec "$BED_S" tcpdump -Z root --immediate-mode -i veth0 -nn -U -s 128 \
		-w "$BED_DIR/$1.s.pcap" "tcp port ${PORT:-80}" 2>"$BED_DIR/$1.s.err" &
	tds=$!
	ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -i veth0 -nn -U -s 128 \
		-w "$BED_DIR/$1.c.pcap" "icmp or icmp6 or tcp port ${PORT:-80}" 2>"$BED_DIR/$1.c.err" &
	tdc=$!
	for i in $(seq 100); do
		grep -q listening "$BED_DIR/$1.s.err" && grep -q listening "$BED_DIR/$1.c.err" && break
		sleep 0.05
	done
}
cap_stop() { sleep 0.2; kill -TERM $tds $tdc; wait $tds $tdc 2>/dev/null; }

# run NAME ADDR [OPTIONS]: one --pmtu probe to $PORT (80), JSON in $BED_DIR/NAME.json
run() {
	name=$1 addr=$2
	shift 2
	cap_start "$name"
	in_client "$TCPSHAKE" --pmtu -j -c 1 -W 5 -p "${PORT:-80}" "$@" "$addr" >"$BED_DIR/$name.json" \
		2>"$BED_DIR/$name.err"
	rc=$?
	cap_stop
	expect_eq "$name: exit 0, nothing on stderr" "$rc:$(cat "$BED_DIR/$name.err")" "0:"
}
field() { jq -r "select(.type==\"probe\") | [$2] | map(tostring) | join(\",\")" "$BED_DIR/$1.json"; }
leftovers() {
	expect_eq "$1: the server holds no connection a second later" "$(bed_ss_leftovers "${PORT:-80}")" ""
}

for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$PS4 caddr=$PC4 r1=$PR1A4 mss=1460 ip=20
	else addr=$PS6 caddr=$PC6 r1=$PR1A6 mss=1440 ip=40; fi

	# a clean path: the full-size segment (1500 bytes with timestamps) is ACKed
	run ok$fam "$addr"
	expect_eq "ok$fam: verdict, size, first size, no ICMP" \
		"$(field ok$fam '.established,.close,.pmtu,.pmtu_size,.pmtu_first,.pmtu_next_hop,.pmtu_black_hole')" \
		"true,fin,ok,1500,1500,null,0"
	expect_eq "ok$fam: the MSS both ways, no clamp known without --peer-mtu" \
		"$(field ok$fam '.mss_sent,.mss_peer,.mss_clamped')" "$mss,$mss,null"
	expect_eq "ok$fam: tcpdump: a 1500-byte segment of ours reached the server" \
		"$(wire_max "$BED_DIR/ok$fam.s.pcap" "$caddr")" 1500
	leftovers ok$fam

	# a server that closes at once: whether its FIN or our segment comes
	# first, the probe ends cleanly on both sides
	PORT=2526 run close$fam "$addr"
	check "close$fam: established, closed by the server (fin or reset)" jq_true \
		"$BED_DIR/close$fam.json" '[.[]|select(.type=="probe")|.established and
			(.close=="peer-fin" or .close=="peer-rst") and .pmtu != null]|all'
	PORT=2526 leftovers close$fam
done

# the r1-r2 link at 1280: r1 refuses what is larger with an ICMP error
ip -n "$BED_R1" link set dev right mtu 1280
ip -n "$BED_R2" link set dev left mtu 1280
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$PS4 caddr=$PC4 r1=$PR1A4; else addr=$PS6 caddr=$PC6 r1=$PR1A6; fi
	run frag$fam "$addr"
	expect_eq "frag$fam: fragmentation-needed, next hop 1280 from r1, 1280 passed" \
		"$(field frag$fam '.pmtu,.pmtu_next_hop,.pmtu_from,.pmtu_size,.pmtu_first,.pmtu_black_hole')" \
		"fragmentation-needed,1280,$r1,1280,1500,0"
	expect_eq "frag$fam: two test segments (1500 refused, 1280 ACKed), closed with fin" \
		"$(field frag$fam '.pmtu_sends,.close')" "2,fin"
	expect_eq "frag$fam: tcpdump: r1's error named 1280" "$(too_big "$BED_DIR/frag$fam.c.pcap")" "1280 "
	expect_eq "frag$fam: tcpdump: our test segments left at 1500, then 1280" \
		"$(wire_sizes "$BED_DIR/frag$fam.c.pcap" "$caddr")" "1500 1280"
	expect_eq "frag$fam: tcpdump: the largest segment that reached the server" \
		"$(wire_max "$BED_DIR/frag$fam.s.pcap" "$caddr")" 1280
	leftovers frag$fam
done

# every format carries the verdict (IPv4, the ICMP case)
fmt() { in_client "$TCPSHAKE" --pmtu -c 1 -W 5 -p 80 "$@" "$PS4" 2>&1; }
check "text: pmtu=fragmentation-needed pmtu_size=1280 pmtu_next_hop=1280" sh -c \
	"printf '%s\n' \"\$1\" | grep -q 'pmtu=fragmentation-needed pmtu_size=1280 pmtu_next_hop=1280 pmtu_from=$PR1A4 pmtu_black_hole=0 mss_sent=1460 mss_peer=1460'" \
	_ "$(fmt)"
out=$(fmt --format csv)
expect_eq "csv: the pmtu columns" \
	"$(printf '%s\n' "$out" | python3 -c 'import csv,sys; r=list(csv.DictReader(sys.stdin)); print(",".join(r[0][k] for k in ("pmtu","pmtu_size","pmtu_next_hop","pmtu_black_hole","mss_peer")))')" \
	"fragmentation-needed,1280,1280,0,1460"
# all eight numbers (review of issue 17: the first four only reached them)
nums="pmtu_size=1280 pmtu_first=1500 pmtu_next_hop=1280 pmtu_black_hole=0 pmtu_sends=2
	mss_sent=1460 mss_peer=1460 mss_expected=1460"
check "nagios: the perfdata has $(echo $nums)" sh -c \
	'for m in $2; do
		printf "%s\n" "$1" | grep -q " $m\( \|\$\)" || exit 1; done' _ \
	"$(fmt --format nagios --peer-mtu 1500)" "$nums"
out=$(fmt --format prometheus --peer-mtu 1500)
check "prometheus: a tcpshake_probe_ gauge each: $(echo $nums)" sh -c \
	'for m in $2; do
		printf "%s\n" "$1" | grep -q "^tcpshake_probe_${m%%=*}{.*} ${m#*=}\$" || exit 1
	done' _ "$out" "$nums"
leftovers formats

# r1 drops its own frag-needed / packet-too-big: a black hole; bisection
# finds 1280 (every size above it lost, sent twice each)
in_r1 nft -f - <<'NFT' || exit 99
table inet blackhole {
	chain output {
		type filter hook output priority 0; policy accept;
		icmp type destination-unreachable icmp code frag-needed drop
		icmpv6 type packet-too-big drop
	}
}
NFT
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$PS4 caddr=$PC4; else addr=$PS6 caddr=$PC6; fi
	t0=$(date +%s)
	run hole$fam "$addr"
	t1=$(date +%s)
	expect_eq "hole$fam: black-hole, 1280 the largest that passed, no next hop" \
		"$(field hole$fam '.pmtu,.pmtu_size,.pmtu_first,.pmtu_next_hop,.pmtu_black_hole,.close')" \
		"black-hole,1280,1500,null,1,fin"
	check "hole$fam: the full size sent twice, more sizes tried (bisection)" jq_true \
		"$BED_DIR/hole$fam.json" '[.[]|select(.type=="probe")|.pmtu_sends >= 5]|all'
	check "hole$fam: within -W (5 s) and the close: $((t1 - t0)) s" test $((t1 - t0)) -le 7
	expect_eq "hole$fam: tcpdump: no ICMP error reached the client" "$(too_big "$BED_DIR/hole$fam.c.pcap")" ""
	expect_eq "hole$fam: tcpdump: 1500 sent twice, then 1280 (IPv6's minimum) first" \
		"$(wire_sizes "$BED_DIR/hole$fam.c.pcap" "$caddr" | cut -d' ' -f1-3)" "1500 1500 1280"
	expect_eq "hole$fam: tcpdump: as many test segments left as reported" \
		"$(wire_sizes "$BED_DIR/hole$fam.c.pcap" "$caddr" | wc -w)" "$(field hole$fam .pmtu_sends)"
	expect_eq "hole$fam: tcpdump: the largest segment that reached the server" \
		"$(wire_max "$BED_DIR/hole$fam.s.pcap" "$caddr")" 1280
	leftovers hole$fam
done
# a server that speaks first: its banner is ACKed, the bisection goes on
PORT=2525 run banner4 "$PS4"
expect_eq "banner4: black-hole at 1280 while the server talks, closed with fin" \
	"$(field banner4 '.pmtu,.pmtu_size,.close')" "black-hole,1280,fin"
PORT=2525 leftovers banner4
in_r1 nft delete table inet blackhole
ip -n "$BED_R1" link set dev right mtu 1500
ip -n "$BED_R2" link set dev left mtu 1500

# an MSS clamp in r2 (both ways: our SYN and the SYN/ACK): the SYN/ACK's
# 1200 is below the 1460/1440 a 1500-byte server interface announces
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$PS4 caddr=$PC4 mss=1460 hdr=40; else addr=$PS6 caddr=$PC6 mss=1440 hdr=60; fi
	run noclamp$fam "$addr" --peer-mtu 1500
	expect_eq "noclamp$fam: --peer-mtu 1500, no clamp" \
		"$(field noclamp$fam '.mss_peer,.mss_expected,.mss_clamped')" "$mss,$mss,false"
done
in_r2 nft -f - <<'NFT' || exit 99
table inet clamp {
	chain forward {
		type filter hook forward priority 0; policy accept;
		tcp flags syn tcp option maxseg size set 1200
	}
}
NFT
for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$PS4 caddr=$PC4 mss=1460 hdr=40; else addr=$PS6 caddr=$PC6 mss=1440 hdr=60; fi
	run clamp$fam "$addr" --peer-mtu 1500
	expect_eq "clamp$fam: ours as sent, theirs clamped to 1200 against $mss: mss_clamped" \
		"$(field clamp$fam '.mss_sent,.mss_peer,.mss_expected,.mss_clamped')" "$mss,1200,$mss,true"
	expect_eq "clamp$fam: the test segment at the clamped MSS passes (ok)" \
		"$(field clamp$fam '.pmtu,.pmtu_size')" "ok,$((1200 + hdr))"
	expect_eq "clamp$fam: tcpdump: the largest segment that reached the server" \
		"$(wire_max "$BED_DIR/clamp$fam.s.pcap" "$caddr")" $((1200 + hdr))
	leftovers clamp$fam
done
check "the listener saw no reset" sh -c "! grep -q '^rst' '$BED_DIR/listener.log'"
bed_finish
