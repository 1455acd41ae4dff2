#!/bin/sh
# -o FILE: a regular file is replaced atomically, and a run stopped at any
# point leaves no temporary file; a device, a FIFO or a symlink to one is
# written directly and stays what it is; a directory is refused before
# anything is sent. (Device nodes of our own, never the system's.)
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_rules
bed_listen 80
NETNS_ETC=/etc/netns/$BED_C
trap 'rm -rf "$NETNS_ETC"; bed_down' EXIT

D=$BED_DIR/o
mkdir "$D"
mknod "$D/null" c 1 3
mknod "$D/full" c 1 7
ln -s "$D/null" "$D/null.link"
mkfifo "$D/fifo"

in_client "$TCPSHAKE" -j -c 1 -p 80 -o "$D/null" $S4 >/dev/null 2>"$D/err"
expect_eq "-o a null device: exit 0, nothing on stderr" "$?,$(cat "$D/err")" "0,"
check "-o a null device: still a character device" test -c "$D/null"
in_client "$TCPSHAKE" -j -c 1 -p 80 -o "$D/null.link" $S4 >/dev/null 2>&1
check "-o a symlink to a device: link and device stay" sh -c "test -L '$D/null.link' && test -c '$D/null'"
in_client "$TCPSHAKE" -j -c 1 -p 80 -o "$D/full" $S4 >/dev/null 2>"$D/err"
expect_eq "-o a full device: exit 4, one line" "$?,$(wc -l <"$D/err")" "4,1"
check "-o a full device: the line says why ($(cat "$D/err"))" grep -q "No space left on device" "$D/err"
check "-o a full device: still a character device" test -c "$D/full"

timeout 20 cat "$D/fifo" >"$D/fifo.out" &
cpid=$!
in_client "$TCPSHAKE" -j -c 1 -p 80 -o "$D/fifo" $S4 >/dev/null 2>&1
expect_eq "-o a FIFO: exit 0" "$?" 0
wait $cpid
check "-o a FIFO: still a FIFO" test -p "$D/fifo"
expect_eq "-o a FIFO: the reader got the report" "$(jq -r .type "$D/fifo.out" | tr '\n' ' ')" \
	"probe summary run "

echo old >"$D/real.json"
ln -s real.json "$D/real.link"
in_client "$TCPSHAKE" -j -c 1 -p 80 -o "$D/real.link" $S4 >/dev/null 2>&1
check "-o a symlink to a regular file: the link stays, its file holds the report" \
	sh -c "test -L '$D/real.link' && test \"\$(jq -r .type '$D/real.json' | tr '\n' ' ')\" = 'probe summary run '"
expect_eq "-o a symlink: no temporary file left" "$(ls "$D" | grep -c '^real')" 2

: >"$BED_DIR/listener.log"
in_client "$TCPSHAKE" -c 1 -p 80 -o "$D" $S4 >"$D/out" 2>"$D/err"
expect_eq "-o a directory: exit 3, one line, nothing on stdout" \
	"$?,$(wc -l <"$D/err"),$(wc -c <"$D/out")" "3,1,0"
check "-o a directory: the line names it ($(cat "$D/err"))" grep -q "^tcpshake: -o .*: is a directory$" "$D/err"
in_client "$TCPSHAKE" --format nagios -c 1 -p 80 -o "$D" $S4 >"$D/out" 2>/dev/null
expect_eq "-o a directory, nagios: exit 3, an UNKNOWN line" "$?,$(cut -c1-16 "$D/out")" "3,TCPSHAKE UNKNOWN"
sleep 0.2
expect_eq "-o a directory: no probe sent (the listener saw no connection)" \
	"$(grep -c '^accept' "$BED_DIR/listener.log")" 0

# A run killed mid-probe, and one interrupted while a name resolves (a
# resolver on the bed's server that never answers): no file, no temporary.
in_client "$TCPSHAKE" -M syn -j -c 1 -W 5 -p 82 -o "$D/killed.json" $S4 >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -9 $pid
wait $pid 2>/dev/null
expect_eq "-o, killed mid-run: nothing left" "$(ls "$D" | grep -c '^killed')" 0

ip netns exec "$BED_S" nft add rule inet bed input udp dport 53 drop
mkdir -p "$NETNS_ETC"
printf 'nameserver %s\noptions timeout:5 attempts:1\n' $S4 >"$NETNS_ETC/resolv.conf"
in_client "$TCPSHAKE" -M syn -j -c 1 -p 82 -o "$D/resolving.json" slow.tcpshake.test >/dev/null 2>&1 &
pid=$!
sleep 1
check "-o, SIGINT while a name resolves: the run was still resolving" kill -0 $pid
kill -INT $pid
wait $pid 2>/dev/null
expect_eq "-o, SIGINT while a name resolves: nothing left" "$(ls "$D" | grep -c '^resolving')" 0

bed_finish
