#!/bin/sh
# Send and expect (issue 14): --expect, --send, --banner and --starttls on
# the lossy bed (tests/lib/bed.sh bed_lossy_up) against real servers:
#   - --expect ^SSH-2.0 against sshd, IPv4 and IPv6: matched, the first
#     line and its times in JSON, exit 0
#   - a mismatch: exit 1, banner.matched false, the summary counts it;
#     Nagios WARNING (check_tcp -M's default), CRITICAL with --mismatch crit
#   - --expect-timeout ends the wait before -W
#   - --send "PING\r\n" --expect +PONG against a Redis-like listener, which
#     logs the PING it got
#   - --banner: the first line, no check
#   - --starttls smtp, imap, pop3 against tls_bed's responders with --ca:
#     verified, tls.* fields, the dialogue in the responder's log; refused
#     and not offered: exit 1, tls.error says why, Nagios CRITICAL
#   - each: nothing left on the server but LISTEN and TIME-WAIT
#   - 10% loss both ways, and reordering by the relay: still matched
. "$TOPSRC/tests/lib/bed.sh"
. "$TOPSRC/tests/lib/tls_bed.sh"
command -v nginx >/dev/null || { echo "SKIP: needs nginx (nginx-light)"; exit 77; }
bed_lossy_up
bed_sshd 2222
bed_listen 6379:pong 2525:banner
tls_bed_up
tls_bed_starttls smtp 2526 --refuse
tls_bed_starttls smtp 2527 --no-starttls
tls_bed_starttls imap 1430 --refuse
tls_bed_starttls smtp 2528 --split --multiline

T() { in_client "$TCPSHAKE" "$@"; }
# run NAME ARGS...: tcpshake's JSON lines in $BED_DIR/NAME.json, its exit code in $rc
run() {
	n=$1
	shift
	T -j "$@" >"$BED_DIR/$n.json" 2>"$BED_DIR/$n.err"
	rc=$?
}
probe_true() { jq_true "$BED_DIR/$1.json" "[.[] | select(.type==\"probe\")] | length > 0 and all($2)"; }
summary_true() { jq_true "$BED_DIR/$1.json" "[.[] | select(.type==\"summary\")] | length > 0 and all($2)"; }
clean() { # NAME PORT: nothing but LISTEN and TIME-WAIT left on the server
	left=$(bed_ss_leftovers "$2" | tr '\n' ';')
	expect_eq "$1: nothing left on the server's port $2" "$left" ""
}
nagios() { # exit code of a nagios run; its line in $BED_DIR/nagios.out
	T --format nagios "$@" >"$BED_DIR/nagios.out" 2>&1
	echo $?
}

# ---- --expect against sshd ---------------------------------------------------
for a in $LS4 $LS6; do
	run ssh -c 2 -i 0.2 --expect '^SSH-2\.0-' "$a" -p 2222
	expect_eq "sshd $a: --expect ^SSH-2.0 exits 0" "$rc" 0
	check "sshd $a: banner.matched, the first line, its times" probe_true ssh \
		'.outcome == "open" and .banner.matched == true and (.banner.first_line | startswith("SSH-2.0-"))
		 and .banner.first_byte_ms > 0 and .banner.match_ms >= .banner.first_byte_ms
		 and .banner.bytes > 8 and .close == "fin"'
	check "sshd $a: the summary counts 2 matched" summary_true ssh \
		'.banner.matched == 2 and .banner.mismatched == 0 and (.banner.first_line | startswith("SSH-2.0-"))'
	clean "sshd $a" 2222
done

# ---- a mismatch ----------------------------------------------------------------
run mis -c 1 --expect '^220 ' $LS4 -p 2222
expect_eq "mismatch: exit 1" "$rc" 1
check "mismatch: open, banner.matched false, the line read" probe_true mis \
	'.outcome == "open" and .banner.matched == false and (.banner.first_line | startswith("SSH-2.0-"))
	 and .banner.match_ms == null'
check "mismatch: the summary counts it" summary_true mis '.banner.mismatched == 1 and .open == 1'
expect_eq "mismatch: nagios WARNING by default" "$(nagios -c 1 --expect '^220 ' $LS4 -p 2222)" 1
check "mismatch: the nagios line says so" grep -q '^TCPSHAKE WARNING - .*expect mismatch' \
	"$BED_DIR/nagios.out"
expect_eq "mismatch: --mismatch crit is CRITICAL" \
	"$(nagios -c 1 --expect '^220 ' --mismatch crit $LS4 -p 2222)" 2
expect_eq "mismatch: --mismatch ok is OK" \
	"$(nagios -c 1 --expect '^220 ' --mismatch ok $LS4 -p 2222)" 0
expect_eq "match: nagios OK" "$(nagios -c 1 --expect '^SSH-' $LS4 -p 2222)" 0
T -c 1 --expect '^220 ' $LS4 -p 2222 >"$BED_DIR/text.out" 2>&1
check "mismatch: the text statistics say so" grep -q 'expect matched 0, mismatched 1' \
	"$BED_DIR/text.out"
clean mismatch 2222

# ---- --expect-timeout: the wait ends before -W -----------------------------------
t0=$(date +%s%N)
run slow -c 1 -W 8 --expect 'never said' --expect-timeout 0.5 $LS4 -p 2222
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
expect_eq "expect-timeout: exit 1" "$rc" 1
check "expect-timeout: over in < 3 s, not -W 8 ($ms ms)" test "$ms" -lt 3000
check "expect-timeout: not matched, closed by our FIN" probe_true slow \
	'.banner.matched == false and .close == "fin"'
clean expect-timeout 2222

# ---- --send PING, --expect +PONG ---------------------------------------------------
run pong -c 1 --send 'PING\r\n' --expect '^\+PONG' $LS6 -p 6379
expect_eq "pong: exit 0" "$rc" 0
check "pong: matched, timed from our PING" probe_true pong \
	'.banner.matched == true and .banner.first_line == "+PONG" and .banner.first_byte_ms > 0'
check "pong: the listener got PING" grep -q "recv 6379 'PING'" "$BED_DIR/listener.log"
clean pong 6379

# ---- --banner: the first line, no check ------------------------------------------------
run grab -c 1 --banner $LS4 -p 2525
expect_eq "banner: exit 0" "$rc" 0
check "banner: the first line, matched null" probe_true grab \
	'.banner.first_line == "220 tcpshake-test ready" and .banner.matched == null'
clean banner 2525

# ---- --starttls ------------------------------------------------------------------------
for m in "smtp $TLS_PORT_SMTP" "imap $TLS_PORT_IMAP" "pop3 $TLS_PORT_POP3" "smtp 2528"; do
	set -- $m
	run st -c 1 --starttls "$1" --ca "$TLS_CA" "$TLS_ADDR4" -p "$2"
	expect_eq "starttls $1 ($2): exit 0" "$rc" 0
	check "starttls $1 ($2): verified, the TLS fields" probe_true st \
		'.outcome == "open" and .tls.version != null and .tls.error == null
		 and .cert.verify == true and .tls.handshake_ms > 0 and .close == "fin"'
	check "starttls $1 ($2): the summary's tls" summary_true st '.tls.failed == 0'
	check "starttls $1 ($2): the responder did TLS" grep -q '^tls TLSv1' "$BED_DIR/starttls-$2.log"
	clean "starttls $1" "$2"
done
check "starttls smtp: the dialogue in the log" sh -c \
	"grep -q \"recv 'EHLO tcpshake'\" '$BED_DIR/starttls-25.log' &&
	 grep -q \"recv 'STARTTLS'\" '$BED_DIR/starttls-25.log'"
check "starttls imap: a1 STARTTLS in the log" grep -q "recv 'a1 STARTTLS'" "$BED_DIR/starttls-143.log"
check "starttls pop3: STLS in the log" grep -q "recv 'STLS'" "$BED_DIR/starttls-110.log"

run ref -c 1 --starttls smtp --ca "$TLS_CA" "$TLS_ADDR4" -p 2526
expect_eq "starttls refused: exit 1" "$rc" 1
check "starttls refused: tls.error starttls-refused: 454" probe_true ref \
	'.outcome == "open" and (.tls.error | startswith("starttls-refused: 454")) and .tls.version == null'
check "starttls refused: the summary fails it" summary_true ref \
	'.tls.failed == 1 and (.tls.error | startswith("starttls-refused"))'
expect_eq "starttls refused: nagios CRITICAL" \
	"$(nagios -c 1 --starttls smtp --ca "$TLS_CA" "$TLS_ADDR4" -p 2526)" 2
clean "starttls refused" 2526
run nost -c 1 --starttls smtp --ca "$TLS_CA" "$TLS_ADDR6" -p 2527
expect_eq "starttls not offered: exit 1" "$rc" 1
check "starttls not offered: tls.error" probe_true nost '.tls.error == "starttls-not-offered"'
clean "starttls not offered" 2527
run imapref -c 1 --starttls imap --ca "$TLS_CA" "$TLS_ADDR4" -p 1430
check "starttls imap refused: tls.error" probe_true imapref '(.tls.error | startswith("starttls-refused: a1 NO"))'
clean "starttls imap refused" 1430

# ---- loss and reordering ---------------------------------------------------------------
bed_loss 10 10 2222,25
run lossy -c 20 -i 0.05 -W 10 --expect '^SSH-2\.0-' $LS4 -p 2222
expect_eq "10% loss: sshd, exit 0" "$rc" 0
check "10% loss: every probe matched" probe_true lossy '.banner.matched == true'
jq -c 'select(.type=="probe" and .banner.matched != true) | [.sport, .outcome, .syns, .close,
	.banner, .segments]' "$BED_DIR/lossy.json" | sed 's/^/# not matched: /'
run lossyst -c 5 -i 0.05 -W 10 --starttls smtp --ca "$TLS_CA" "$TLS_ADDR4" -p 25
expect_eq "10% loss: starttls smtp, exit 0" "$rc" 0
check "10% loss: every STARTTLS verified" probe_true lossyst '.cert.verify == true and .tls.error == null'
bed_loss 0 0 2222,25
clean "10% loss" 2222
clean "10% loss starttls" 25
bed_relay --reorder 30 --reorder-gap 5 --seed 7
run reorder -c 10 -i 0.05 -W 10 --expect '^SSH-2\.0-' $LS6 -p 2222
expect_eq "reordering: sshd, exit 0" "$rc" 0
check "reordering: every probe matched" probe_true reorder '.banner.matched == true'
run reorderst -c 3 -i 0.05 -W 10 --starttls smtp --ca "$TLS_CA" "$TLS_ADDR6" -p 2528
expect_eq "reordering: starttls smtp, split replies, exit 0" "$rc" 0
bed_relay_stop
clean reordering 2222

if [ -n "${BANNER_SAMPLES:-}" ]; then
	T -c 2 -i 0.2 --expect '^SSH-2\.0-' $LS4 -p 2222 >"$BANNER_SAMPLES/text.txt" 2>&1
	T -c 1 --starttls smtp --ca "$TLS_CA" "$TLS_ADDR4" -p 2526 >>"$BANNER_SAMPLES/text.txt" 2>&1
	T -c 1 --expect '^SSH-2\.0-' $LS4 -p 2222 --format csv >"$BANNER_SAMPLES/csv.txt" 2>&1
	cp "$BED_DIR/ssh.json" "$BED_DIR/ref.json" "$BED_DIR/nagios.out" "$BANNER_SAMPLES/"
fi
bed_finish
