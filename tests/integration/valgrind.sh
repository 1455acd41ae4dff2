#!/bin/sh
# Memory checks over the main paths (syn, full, HTTP, a fleet, traces, every
# format, an interrupted run): valgrind memcheck on a plain build, and on a
# sanitizer build (which valgrind cannot run) the same paths under
# AddressSanitizer, LeakSanitizer and UBSan, their reports written to
# files: no errors, no definite leaks, either way.
. "$TOPSRC/tests/lib/bed.sh"
if ldd "$TCPSHAKE" | grep -q libasan; then
	SANITIZED=1
	# the runtime is there and reads our options: a build without it
	# would pass every check below without checking anything
	out=$(ASAN_OPTIONS=help=1 "$TCPSHAKE" --version 2>&1)
	case $out in
	*"Available flags for AddressSanitizer"*) ;;
	*) echo "not ok 1 - the AddressSanitizer runtime answers"; exit 1 ;;
	esac
else
	SANITIZED=0
	command -v valgrind >/dev/null || { echo "not ok 1 - valgrind is installed"; exit 1; }
fi
bed_up
bed_rules
bed_anyip
bed_listen 80
bed_http 8080

# checked NAME ARGS...: tcpshake ARGS in the client under memcheck, or with
# the sanitizers reporting to $BED_DIR/san-NAME.*; exit 99 on an error.
# With $in_place set, the shell becomes the process (for a background run
# to be signalled).
checked() {
	name=$1
	shift
	if [ $SANITIZED = 1 ]; then
		export ASAN_OPTIONS="detect_leaks=1:exitcode=99:log_path=$BED_DIR/san-$name"
		export UBSAN_OPTIONS="halt_on_error=1:exitcode=99:print_stacktrace=1:log_path=$BED_DIR/san-$name"
		set -- "$TCPSHAKE" "$@"
	else
		set -- valgrind -q --error-exitcode=99 --leak-check=full \
			--suppressions="$TOPSRC/tests/valgrind.supp" \
			--errors-for-leak-kinds=definite --show-leak-kinds=definite \
			--log-file="$BED_DIR/san-$name.vg" "$TCPSHAKE" "$@"
	fi
	if [ -n "${in_place:-}" ]; then
		exec ip netns exec "$BED_C" "$@"
	fi
	ip netns exec "$BED_C" "$@"
}

# reports NAME: what the checker wrote (nothing when clean)
reports() { cat "$BED_DIR/san-$1".* 2>/dev/null; }

vg() { # NAME ARGS...
	name=$1
	shift
	(checked "$name" "$@") >"$BED_DIR/vg-$name.out" 2>&1
	rc=$?
	BED_CHECKS=$((BED_CHECKS + 1))
	if [ $rc != 99 ] && [ -z "$(reports "$name")" ]; then
		echo "ok $BED_CHECKS - memory clean: tcpshake $* (exit $rc)"
	else
		echo "not ok $BED_CHECKS - memory: tcpshake $* (exit $rc)"
		reports "$name"
		BED_FAILS=$((BED_FAILS + 1))
	fi
}

vg syn -M syn -c 2 -i 0.05 -W 0.5 -p 80-83 $S4
vg full -c 2 -i 0.05 -j -p 80 $S6
vg http --http -c 1 --format csv -p 8080 $S4
vg fleet -M syn --rate 2000 -W 0.3 --format prometheus -p 80 198.19.0.0/24
vg nagios --format nagios -c 1 -W 0.3 -p 80,82 $S4 $S6
vg trace -M syn --trace -W 0.3 -j -p 80,82,83 $S6
vg trace_on_fail --trace-on-fail --format nagios -W 0.3 -p 80,82 $S4
vg usage -p 0 $S4
vg unresolved -n no-such-name.invalid
vg outfile -j -c 1 -p 80 -o "$BED_DIR/vg-outfile.json" $S4
(in_place=1 checked int -i 0.05 -p 80 $S4) >"$BED_DIR/int.out" 2>&1 &
pid=$!
# the signal once the run is probing (set-up under valgrind takes seconds)
for i in $(seq 300); do grep -q 'seq=1 ' "$BED_DIR/int.out" && break; sleep 0.1; done
kill -INT $pid
wait $pid
expect_eq "memory clean: an endless run stopped by SIGINT (exit 0)" "$?,$(reports int)" "0,"

bed_finish
