#!/bin/sh
# valgrind memcheck over the main paths (syn, full, HTTP, a fleet, every
# format, an interrupted run): no errors, no definite leaks. The sanitizer
# build checks the same paths with ASan and UBSan instead.
. "$TOPSRC/tests/lib/bed.sh"
if ldd "$TCPSHAKE" | grep -q libasan; then
	echo "ok 1 - a sanitizer build: ASan and UBSan check these paths (valgrind cannot run it)"
	echo "1 checks, 0 failed"
	exit 0
fi
command -v valgrind >/dev/null || { echo "not ok 1 - valgrind is installed"; exit 1; }
bed_up
bed_rules
bed_anyip
bed_listen 80
bed_http 8080

vg() { # NAME ARGS...: tcpshake under memcheck
	name=$1
	shift
	ip netns exec "$BED_C" valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite --show-leak-kinds=definite \
		--log-file="$BED_DIR/vg-$name.log" "$TCPSHAKE" "$@" >"$BED_DIR/vg-$name.out" 2>&1
	rc=$?
	BED_CHECKS=$((BED_CHECKS + 1))
	if [ $rc != 99 ] && [ ! -s "$BED_DIR/vg-$name.log" ]; then
		echo "ok $BED_CHECKS - memcheck clean: tcpshake $* (exit $rc)"
	else
		echo "not ok $BED_CHECKS - memcheck: tcpshake $*"
		cat "$BED_DIR/vg-$name.log"
		BED_FAILS=$((BED_FAILS + 1))
	fi
}

vg syn -M syn -c 2 -i 0.05 -W 0.5 -p 80-83 $S4
vg full -c 2 -i 0.05 -j -p 80 $S6
vg http --http -c 1 --format csv -p 8080 $S4
vg fleet -M syn --rate 2000 -W 0.3 --format prometheus -p 80 198.19.0.0/24
vg nagios --format nagios -c 1 -W 0.3 -p 80,82 $S4 $S6
vg usage -p 0 $S4
vg unresolved -n no-such-name.invalid
ip netns exec "$BED_C" valgrind -q --error-exitcode=99 --leak-check=full \
	--errors-for-leak-kinds=definite --log-file="$BED_DIR/vg-int.log" \
	"$TCPSHAKE" -i 0.05 -p 80 $S4 >/dev/null 2>&1 &
pid=$!
sleep 2
kill -INT $pid
wait $pid
expect_eq "memcheck clean: an endless run stopped by SIGINT (exit 0)" "$?,$(cat "$BED_DIR/vg-int.log")" "0,"

bed_finish
