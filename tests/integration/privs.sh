#!/bin/sh
# After the capability drop: a running tcpshake has no capability left,
# NO_NEW_PRIVS set, an empty ambient set, and when started as root an empty
# bounding set and locked securebits (uid 0 grants nothing any more).
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 80

# status PID FIELD: a field of /proc/PID/status
status() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

for mode in syn full; do
	ip netns exec "$BED_C" "$TCPSHAKE" -M $mode -i 0.2 -p 80 $S4 >"$BED_DIR/p.out" 2>&1 &
	pid=$!
	for i in $(seq 50); do grep -q "seq=1" "$BED_DIR/p.out" 2>/dev/null && break; sleep 0.1; done
	expect_eq "$mode: a root run probes after the drop" "$(grep -c "seq=1 open" "$BED_DIR/p.out")" 1
	expect_eq "$mode: still uid 0, no capability, NO_NEW_PRIVS, empty bounding and ambient sets" \
		"$(status $pid Uid | cut -f1),$(status $pid CapEff),$(status $pid CapPrm),$(status $pid CapInh),$(status $pid NoNewPrivs),$(status $pid CapBnd),$(status $pid CapAmb)" \
		"0,0000000000000000,0000000000000000,0000000000000000,1,0000000000000000,0000000000000000"
	kill -INT $pid
	wait $pid
	expect_eq "$mode: SIGINT after the drop: exit 0" "$?" 0
done

# With file capabilities instead of root: the same, but for the bounding set,
# which needs CAP_SETPCAP to change (NO_NEW_PRIVS keeps an execve from using it).
if command -v setcap >/dev/null && id nobody >/dev/null 2>&1; then
	cp "$TCPSHAKE" "$BED_DIR/tcpshake"
	chmod 755 "$BED_DIR" "$BED_DIR/tcpshake"
	setcap cap_net_raw,cap_net_admin+ep "$BED_DIR/tcpshake"
	ip netns exec "$BED_C" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BED_DIR/tcpshake" -M syn -i 0.2 -p 80 $S4 >"$BED_DIR/n.out" 2>&1 &
	pid=$!
	for i in $(seq 50); do grep -q "seq=1" "$BED_DIR/n.out" 2>/dev/null && break; sleep 0.1; done
	expect_eq "file capabilities: probes as nobody" "$(grep -c "seq=1 open" "$BED_DIR/n.out")" 1
	expect_eq "file capabilities: no capability, NO_NEW_PRIVS, empty ambient set" \
		"$(status $pid CapEff),$(status $pid CapPrm),$(status $pid NoNewPrivs),$(status $pid CapAmb)" \
		"0000000000000000,0000000000000000,1,0000000000000000"
	kill -INT $pid
	wait $pid
	# the -o report is named and renamed after the drop, as nobody
	mkdir "$BED_DIR/nobody"
	chown nobody "$BED_DIR/nobody"
	ip netns exec "$BED_C" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$BED_DIR/tcpshake" -M syn -j -c 1 -p 80 -o "$BED_DIR/nobody/r.json" $S4 >/dev/null 2>&1
	expect_eq "file capabilities: -o written after the drop, nothing else left" \
		"$?,$(jq -r .type "$BED_DIR/nobody/r.json" | tr '\n' ' ')$(ls "$BED_DIR/nobody" | wc -l)" \
		"0,probe summary run 1"
fi

bed_finish
