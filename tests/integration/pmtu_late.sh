#!/bin/sh
# --pmtu's close after a size still in flight at the test's end, and the
# test size within the server's window (review of issue 17, findings 1 and
# 3), on the lossy bed: a 200 ms path (the relay holds each frame 100 ms)
# whose middle forwards at most 1280 bytes to the server and drops its own
# frag-needed / packet-too-big (a black hole). With -W 1.3 the test's end
# comes about 100 ms after the 1280-byte size left (1500 lost twice, an RTO
# of 600 ms each): it reaches the server before our close could, and its
# ACK comes after -W (the margin is 100 ms either way). The probe waits one more RTO for it and closes (fin, or rst)
# after the bytes the server holds. Witnesses: our report (black-hole at
# 1280, the close), the listener (a clean end of file, or a reset), ss on
# the server (nothing but LISTEN and TIME-WAIT a second later). Port 81's
# SYN/ACK advertises 1000 bytes (the relay rewrites it): the test segment
# stays within it (1000 bytes of data, tcpdump on the server) and passes.
. "$TOPSRC/tests/lib/bed.sh"
bed_lossy_up
bed_listen 80 81
bed_relay --delay 100 --window 81:1000
in_middle ip link set dev sv mtu 1280
in_middle nft -f - <<'NFT' || exit 99
table inet blackhole {
	chain output {
		type filter hook output priority 0; policy accept;
		icmp type destination-unreachable icmp code frag-needed drop
		icmpv6 type packet-too-big drop
	}
}
NFT

field() { jq -r "select(.type==\"probe\") | [$2] | map(tostring) | join(\",\")" "$BED_DIR/$1.json"; }
# run NAME ADDR PORT [OPTIONS]: one --pmtu probe, JSON in $BED_DIR/NAME.json
run() {
	name=$1 addr=$2 port=$3
	shift 3
	in_client "$TCPSHAKE" --pmtu -j -c 1 -p "$port" "$@" "$addr" >"$BED_DIR/$name.json" \
		2>"$BED_DIR/$name.err"
	rc=$?
	expect_eq "$name: exit 0, nothing on stderr" "$rc:$(cat "$BED_DIR/$name.err")" "0:"
}
# seen WHAT PORT: the listener's "eof PORT" or "rst PORT" lines so far
seen() { grep -c "^$1 $2\$" "$BED_DIR/listener.log"; }

for fam in 4 6; do
	if [ $fam = 4 ]; then addr=$LS4; else addr=$LS6; fi
	for close in fin rst; do
		name=late$fam$close
		end=$([ $close = fin ] && echo eof || echo rst)
		before=$(seen $end 80)
		run $name "$addr" 80 -W 1.3 --close $close
		echo "# $name: rtt_us, sends: $(field $name '.rtt_us,.pmtu_sends')"
		expect_eq "$name: black-hole, 1280 passed (ACKed after -W), closed with $close" \
			"$(field $name '.pmtu,.pmtu_size,.pmtu_first,.close')" "black-hole,1280,1500,$close"
		expect_eq "$name: the server holds no connection a second later" \
			"$(bed_ss_leftovers 80)" ""
		expect_eq "$name: the listener saw our $close ($end)" "$(($(seen $end 80) - before))" 1
		bed_ss_reset 80
	done

	# a window of 1000 bytes: the test size within it
	name=win$fam
	in_server tcpdump -Z root --immediate-mode -i veth0 -nn -U -s 128 \
		-w "$BED_DIR/$name.pcap" "tcp port 81" 2>"$BED_DIR/$name.tcpdump" &
	td=$!
	for i in $(seq 100); do grep -q listening "$BED_DIR/$name.tcpdump" && break; sleep 0.05; done
	run $name "$addr" 81 -W 5
	sleep 0.2
	kill -TERM $td
	wait $td 2>/dev/null
	hdr=$([ $fam = 4 ] && echo 52 || echo 72)
	expect_eq "$name: the first size within the 1000-byte window, it passed" \
		"$(field $name '.pmtu,.pmtu_first,.pmtu_size,.pmtu_sends,.close')" \
		"ok,$((1000 + hdr)),$((1000 + hdr)),1,fin"
	expect_eq "$name: tcpdump: our largest segment at the server carries 1000 bytes" \
		"$(tcpdump -r "$BED_DIR/$name.pcap" -nn 2>/dev/null | sed -nE 's/.*length ([0-9]+).*/\1/p' | sort -n | tail -1)" 1000
	expect_eq "$name: the server holds no connection a second later" "$(bed_ss_leftovers 81)" ""
done
bed_finish
