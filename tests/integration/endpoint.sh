#!/bin/sh
# Our own TCP endpoint among others: a next hop that never answers ARP or
# neighbour discovery (no-neighbour, not filtered); two full-mode runs in
# two PID namespaces of one network namespace (unique guard tables); the
# guard leaves the host's own resets alone, even inside tcpshake's port
# range; every run holds its ports against other processes. (Late and
# lost segments, loss and concurrent runs: lossy.sh.)
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_rules
bed_listen 80

# ---- no ARP / ND answer ----------------------------------------------------
# 198.18.0.77 and 2001:db8::77 are on the link, but nobody holds them.
for a in 198.18.0.77 2001:db8::77; do
	in_client "$TCPSHAKE" -M syn -j -c 1 -W 2 -p 80 "$a" >"$BED_DIR/nn.json" 2>"$BED_DIR/nn.err"
	expect_eq "$a: exit 1" "$?" 1
	expect_eq "$a: unreachable no-neighbour, not filtered" \
		"$(jq -r 'select(.type=="probe") | [.outcome, .icmp.name] | join(",")' "$BED_DIR/nn.json")" \
		"unreachable,no-neighbour"
	expect_eq "$a: nothing on stderr" "$(cat "$BED_DIR/nn.err")" ""
done
in_client "$TCPSHAKE" -M syn -c 1 -W 2 -p 80 198.18.0.77 >"$BED_DIR/nn.txt" 2>&1
check "no-neighbour named in the text report" grep -q "unreachable no-neighbour from 198.18.0.1" "$BED_DIR/nn.txt"

# ---- two PID namespaces, one network namespace -------------------------------
# Each run is PID 1 of its own PID namespace: a table named after the pid
# alone collided, and the second run was told it lacked CAP_NET_ADMIN.
pids=""
for i in 1 2; do
	in_client unshare --pid --fork --mount-proc "$TCPSHAKE" -j -c 5 -i 0.1 -p 80 $S4 \
		>"$BED_DIR/pidns$i.json" 2>"$BED_DIR/pidns$i.err" &
	pids="$pids $!"
done
wait $pids
for i in 1 2; do
	expect_eq "PID namespace run $i: 5 open, nothing on stderr" \
		"$(jq -r 'select(.type=="summary") | .open' "$BED_DIR/pidns$i.json"),$(cat "$BED_DIR/pidns$i.err")" "5,"
done

# ---- the host's own resets pass the guard -------------------------------------
# The kernel's ephemeral range covers tcpshake's: a port in 61000-65535 that
# the run does not hold is the host's, and its reset must not be dropped.
in_client sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
in_client "$TCPSHAKE" -c 30 -i 0.1 -p 80 $S4 >/dev/null 2>&1 &
run=$!
for i in $(seq 50); do
	in_client nft list tables 2>/dev/null | grep -q tcpshake_ && break
	sleep 0.05
done
table=$(in_client nft list tables | awk '/tcpshake_/ {print $3}')
held=$(in_client nft list table inet "$table" | sed -n 's/.*tcp sport \(.*\) tcp flags.*/\1/p' | head -1)
# the first port of 61000-65535 the run does not hold
free=$(python3 - "$held" <<'PY'
import re, sys
held = set()
for a, b in re.findall(r"(\d+)(?:-(\d+))?", sys.argv[1]):
    held.update(range(int(a), int(b or a) + 1))
print(next(p for p in range(61000, 65536) if p not in held))
PY
)
check "the guard names the ports the run holds ($held)" test -n "$held"
# A SYN from the server to that port: the client's kernel resets it, at once.
res=$(in_server python3 -c "
import socket, sys, time
s = socket.socket(); s.settimeout(2); t = time.time()
try:
    s.connect(('$C4', $free)); print('connected')
except ConnectionRefusedError:
    print('refused')
except OSError as e:
    print('error', e)
")
expect_eq "the host's reset from port $free passes the guard (connection refused)" "$res" "refused"
# and a port the run holds is not the kernel's to give
port=$(echo "$held" | grep -o '[0-9]\+' | head -1)
bindres=$(in_client python3 -c "
import socket
s = socket.socket()
try:
    s.bind(('0.0.0.0', $port)); print('bound')
except OSError as e:
    print('in use' if e.errno == 98 else e)
")
expect_eq "a port the run holds ($port) cannot be bound by another process" "$bindres" "in use"
kill -INT $run
wait $run
in_client sysctl -qw net.ipv4.ip_local_port_range="32768 60999"

# ---- out of descriptors or memory: one line of ours, exit 4 -----------------
# libnftables exits the process itself on such failures: it runs in a child,
# whose words become our one line.
for lim in "-n 5" "-n 8"; do
	in_client sh -c "ulimit $lim; exec '$TCPSHAKE' -c 1 -p 80 $S4" >"$BED_DIR/lim.out" 2>"$BED_DIR/lim.err"
	rc=$?
	expect_eq "ulimit $lim: exit 4, one line on stderr, nothing on stdout" \
		"$rc,$(wc -l <"$BED_DIR/lim.err"),$(wc -c <"$BED_DIR/lim.out")" "4,1,0"
	check "ulimit $lim: the line is ours ($(cat "$BED_DIR/lim.err"))" grep -q '^tcpshake: ' "$BED_DIR/lim.err"
done
# Address space: from the least the binary needs to start (its libraries
# mapped) upwards in 512 KiB steps until a check succeeds, every limit in
# between must fail as ours does. A sanitizer build needs terabytes of
# address space: no memory limit there.
if ! ldd "$TCPSHAKE" 2>/dev/null | grep -q 'libasan'; then
	lo=4096 hi=262144
	while [ $((hi - lo)) -gt 64 ]; do
		mid=$(((lo + hi) / 2))
		if sh -c "ulimit -v $mid; exec '$TCPSHAKE' --version" >/dev/null 2>&1; then hi=$mid; else lo=$mid; fi
	done
	lim=$hi fails=0 bad=0 okay=no
	while [ $lim -lt $((hi + 16384)) ]; do
		in_client sh -c "ulimit -v $lim; exec '$TCPSHAKE' -c 1 -p 80 $S4" >"$BED_DIR/lim.out" \
			2>"$BED_DIR/lim.err"
		rc=$?
		[ $rc -eq 0 ] && { okay=yes; break; }
		fails=$((fails + 1))
		if [ "$rc,$(wc -l <"$BED_DIR/lim.err"),$(wc -c <"$BED_DIR/lim.out")" != "4,1,0" ] ||
			! grep -q '^tcpshake: ' "$BED_DIR/lim.err"; then
			bad=$((bad + 1))
			echo "# ulimit -v $lim: rc $rc: $(head -c 300 "$BED_DIR/lim.err")"
		fi
		lim=$((lim + 512))
	done
	expect_eq "ulimit -v from $hi KiB (the binary starts) to $lim KiB (a check succeeds): $fails \
limits, each exit 4 with one line of ours" "$bad,$okay" "0,yes"
	check "some limit between them failed ($fails)" test "$fails" -gt 0
fi
expect_eq "no guard table left behind" "$(bed_tables_left)" 0

# ---- a report that cannot be written ----------------------------------------
in_client "$TCPSHAKE" -c 1 -p 80 $S4 >/dev/full 2>"$BED_DIR/full.err"
expect_eq "stdout full: exit 4, one line" "$?,$(cat "$BED_DIR/full.err")" \
	"4,tcpshake: standard output: No space left on device"
in_client "$TCPSHAKE" --format nagios -c 1 -p 80 $S4 >/dev/full 2>"$BED_DIR/full.err"
expect_eq "stdout full, nagios: UNKNOWN (3), never 4" "$?,$(cat "$BED_DIR/full.err")" \
	"3,tcpshake: standard output: No space left on device"

# ---- SIGTERM while standard output is stalled ----------------------------
# The reader opened the pipe and reads nothing: a write blocks. The signal
# must still end the run, the summary attempted with bounded writes.
mkfifo "$BED_DIR/fifo"
sleep 20 <"$BED_DIR/fifo" &
reader=$!
in_client "$TCPSHAKE" -M syn -v -c 1 -p 1-65535 $S4 $S6 >"$BED_DIR/fifo" 2>"$BED_DIR/stall.err" &
run=$!
tpid=""
for i in $(seq 100); do
	tpid=$(pgrep -f -- "-v -c 1 -p 1-65535" | head -1)
	[ -n "$tpid" ] && ps -o wchan= -p "$tpid" | grep -q pipe_write && break
	sleep 0.05
done
check "stalled reader: the run blocks in a write" sh -c "ps -o wchan= -p '$tpid' | grep -q pipe_write"
t0=$(date +%s%N)
kill -TERM "$tpid"
wait $run
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
kill $reader 2>/dev/null
check "stalled reader: SIGTERM ends the run within 1 s ($ms ms)" test "$ms" -lt 1000
expect_eq "stalled reader: one line, exit 4" "$rc,$(cat "$BED_DIR/stall.err")" \
	"4,tcpshake: standard output: the reader stalls; the report was cut short"

# ---- the guard table after the exit -------------------------------------------
# The kernel releases the guard's socket, and with it the table, after the
# exit (tcpshake hands the socket over rather than wait some 10 ms for it):
# the man page says it can outlive the run by some tens of milliseconds.
# Measured here, from the exit to the table's last sighting.
for i in 1 2 3 4 5; do
	in_client "$TCPSHAKE" -q -c 1 -p 80 $S4 >/dev/null 2>&1
	t0=$(date +%s%N)
	last=$t0
	for j in $(seq 200); do
		in_client nft list tables 2>/dev/null | grep -q tcpshake_ || break
		last=$(date +%s%N)
	done
	echo "$(( (last - t0) / 1000000 ))" >>"$BED_DIR/linger.ms"
done
worst=$(sort -n "$BED_DIR/linger.ms" | tail -1)
check "the guard table is gone within 500 ms of the exit (seen for at most $worst ms: $(tr '\n' ' ' <"$BED_DIR/linger.ms"))" \
	test "$worst" -lt 500

# ---- a PID 1 that does not reap ---------------------------------------------
# No process outlives the run: the capture and guard sockets are left to the
# kernel's own workers to release (see util.h, release_begin), not to a child
# that PID 1 would have to reap. Under a PID 1 that neither catches nor
# ignores SIGCHLD (a script or a program run as a container's init), and one
# that ignores it, tcpshake runs, then the zombies are counted.
for how in plain ignores; do
	in_client unshare --pid --fork --mount-proc python3 - "$TCPSHAKE" "$S4" "$how" \
		>"$BED_DIR/pid1.out" 2>&1 <<'PY'
import os, signal, subprocess, sys, time
if sys.argv[3] == "ignores":
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps for us
rc = subprocess.run([sys.argv[1], "-c", "1", "-p", "80", sys.argv[2]],
                    stdout=subprocess.DEVNULL).returncode if sys.argv[3] != "ignores" else \
    subprocess.call([sys.argv[1], "-c", "1", "-p", "80", sys.argv[2]], stdout=subprocess.DEVNULL)
time.sleep(0.5)
z = 0
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            if open("/proc/%s/stat" % pid).read().split(")")[1].split()[0] == "Z":
                z += 1
        except OSError:
            pass
print("rc=%s zombies=%d" % (rc, z))
PY
	check "PID 1 that $how SIGCHLD: the run ends, no zombie left ($(cat "$BED_DIR/pid1.out"))" \
		grep -Eq "^rc=(0|-?[0-9]+) zombies=0$" "$BED_DIR/pid1.out"
done

bed_finish
