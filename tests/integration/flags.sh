#!/bin/sh
# The flag scans of issue 13, with nmap as the oracle, IPv4 and IPv6.
#
# The bed (bed_flag_ports) has one port for each answer a flag scan can meet:
#   100 open (listener)        101 closed (kernel RST)    102 dropped (nft drop)
#   103 ICMP admin-prohibited  104 nft "reject with tcp reset"
#   105 listener behind a stateful rule (new connections by SYN only)
#   106 closed, behind a stateless rule dropping segments without SYN/ACK/RST
#   107 closed, its resets' window rewritten to 4096 (the window scan's open)
#
# 1. nmap -sS/-sF/-sN/-sX/-sA/-sW/-sM -Pn -n on every port: its states and
#    reasons must be the ones below, which proves the bed right (nmap is run
#    first and checked on its own).
# 2. tcpshake's matching mode (-M syn|fin|null|xmas|ack|window|maimon, and
#    --flags F / --flags FPU for FIN and Xmas) must give nmap's state, port by
#    port, with the answer's flags as the kernel or nft sends them (syn mode
#    keeps its own name for an ICMP error, unreachable, where nmap says filtered).
# 3. The per-flag view (-M flags): the answers of the five kinds side by side
#    agree with nmap's evidence for the same kind, and each port's verdict is
#    the one expected (see the table at "verdicts" below).
# Each scan's table, nmap's and tcpshake's side by side, is printed.
. "$TOPSRC/tests/lib/bed.sh"
command -v nmap >/dev/null || { echo "SKIP: needs nmap"; exit 77; }
bed_up
bed_flag_ports

PORTS=$BED_FLAG_PORTS
PORTLIST="100 101 102 103 104 105 106 107"

role_of() {
	case $1 in
	100) echo open ;;
	101) echo closed ;;
	102) echo dropped ;;
	103) echo icmp-reject ;;
	104) echo rst-reject ;;
	105) echo stateful ;;
	106) echo stateless ;;
	107) echo rst-window ;;
	esac
}

# What nmap must say, as state/reason, on both families. Linux answers a
# FIN, NULL or Xmas to a listening socket with nothing (open|filtered), and
# anything carrying ACK with a RST of window 0, so -sW and -sM call the open
# port closed: that is nmap's answer on Linux, and tcpshake's must be the same.
# The stateful port drops everything but a SYN (filtered / open|filtered);
# the stateless one is closed but FIN, NULL and Xmas are dropped before the
# kernel can reset them (open|filtered, while ACK, window and Maimon see it);
# 107 is closed to all but the window scan, which reads its RST's window as open.
expected_nmap() { # SCAN-LETTER PORT -> state/reason
	o=open/syn-ack c=closed/reset u=unfiltered/reset f=filtered/no-response
	i=filtered/admin-prohibited of='open|filtered/no-response'
	case $1 in
	S) set -- $2 "$o" "$c" "$f" "$i" "$c" "$o" "$c" "$c" ;;
	F | N | X) set -- $2 "$of" "$c" "$of" "$i" "$c" "$of" "$of" "$c" ;;
	A) set -- $2 "$u" "$u" "$f" "$i" "$u" "$f" "$u" "$u" ;;
	W) set -- $2 "$c" "$c" "$f" "$i" "$c" "$f" "$c" open/reset ;;
	M) set -- $2 "$c" "$c" "$of" "$i" "$c" "$of" "$c" "$c" ;;
	esac
	shift $(($1 - 100 + 1))
	echo "$1"
}

mode_of() {
	case $1 in
	S) echo syn ;; F) echo fin ;; N) echo null ;; X) echo xmas ;;
	A) echo ack ;; W) echo window ;; M) echo maimon ;;
	esac
}

# The flags of the RST a Linux host or nft sends to each probe: without ACK in
# the probe the RST acknowledges it (RA), with ACK it takes the probe's ack as
# its sequence number and carries no ACK (R).
rst_flags_of() {
	case $1 in S | F | N | X) echo RA ;; A | W | M) echo R ;; esac
}

# The per-flag view's verdicts, from each port's five answers alone:
#   100 open       SYN SA, ACK R, FIN/NULL/Xmas silent: what an unfiltered Linux
#                  host answers on an open port (RFC 9293 ignores them) -> no-filter
#   101 closed     RST to everything (RA, ACK's R) -> closed
#   102 dropped    silence to all five -> host-silent: the view judges a port by
#                  its own answers, and five silences cannot tell a drop rule
#                  on this port from a host that is down (nmap: filtered or
#                  open|filtered, the same ambiguity); "filtered" is not one
#                  of the verdicts
#   103 ICMP       admin-prohibited to all five -> rejected
#   104 nft RST    nft's reset looks exactly like the kernel's (RA, ACK's R)
#                  -> closed: nothing on the wire tells them apart
#   105 stateful   SYN answered SA, ACK/FIN/NULL/Xmas dropped -> stateful-firewall
#   106 stateless  closed (SYN RA, ACK R), FIN/NULL/Xmas silent where a closed
#                  port resets them -> stateless-filter
#   107 rst-window RST to everything, as 101 (the window is not in the view) -> closed
# (for 105 each kind must leave from its own source port and the SYN's
# half-open connection be reset: an ACK on the SYN's 4-tuple would pass the
# stateful rule as part of that connection)
verdict_of() {
	case $1 in
	100) echo no-filter ;; 101) echo closed ;; 102) echo host-silent ;;
	103) echo rejected ;; 104) echo closed ;; 105) echo stateful-firewall ;;
	106) echo stateless-filter ;; 107) echo closed ;;
	esac
}
answers_of() { # the answers map, keys in the order syn ack fin null xmas
	case $1 in
	100) echo 'SA R - - -' ;; 101) echo 'RA R RA RA RA' ;; 102) echo '- - - - -' ;;
	103) echo 'icmp icmp icmp icmp icmp' ;; 104) echo 'RA R RA RA RA' ;;
	105) echo 'SA - - - -' ;; 106) echo 'RA R - - -' ;; 107) echo 'RA R RA RA RA' ;;
	esac
}
# nmap's evidence for one kind, as the view spells its answer
nmap_answer() { # SCAN FAMILY PORT
	case $(nmap_of "$1" "$2" "$3") in
	*/syn-ack) echo SA ;;
	*/reset) rst_flags_of "$1" ;;
	*/no-response) echo - ;;
	*/admin-prohibited) echo icmp ;;
	*) echo "?" ;;
	esac
}

# nmap's states and reasons from its XML: "PORT STATE REASON" lines
nmap_table() {
	python3 - "$1" <<'PY'
import sys, xml.etree.ElementTree as E
for p in E.parse(sys.argv[1]).iter("port"):
    s = p.find("state")
    print(p.get("portid"), s.get("state"), s.get("reason"))
PY
}
nmap_of() { # SCAN FAMILY PORT -> state/reason
	awk -v p="$3" '$1 == p {print $2 "/" $3}' "$BED_DIR/nmap-$1-$2.tab"
}

ts_field() { # FILE PORT JQ-EXPR: over that port's probe objects
	jq -r --argjson p "$2" "select(.type==\"probe\" and .port==\$p) | $3" "$1" 2>/dev/null |
		sort -u | tr '\n' ' ' | sed 's/ $//'
}

# ---- 1. nmap, and the bed proven ----------------------------------------
for fam in 4 6; do
	[ $fam = 4 ] && addr=$S4 || addr=$S6
	for s in S F N X A W M; do
		in_client nmap -$fam -s$s -Pn -n -T4 --max-retries 1 --reason -p "$PORTS" \
			-oX "$BED_DIR/nmap-$s-$fam.xml" "$addr" >"$BED_DIR/nmap-$s-$fam.txt" 2>&1
		expect_eq "IPv$fam nmap -s$s exits 0" "$?" 0
		nmap_table "$BED_DIR/nmap-$s-$fam.xml" >"$BED_DIR/nmap-$s-$fam.tab" 2>/dev/null
		for p in $PORTLIST; do
			expect_eq "IPv$fam nmap -s$s port $p ($(role_of $p))" \
				"$(nmap_of $s $fam $p)" "$(expected_nmap $s $p)"
		done
	done
done

# the per-flag view's expected answers (section 3) are nmap's evidence too
for fam in 4 6; do
	for p in $PORTLIST; do
		expect_eq "IPv$fam nmap -sS -sA -sF -sN -sX answers for port $p ($(role_of $p))" \
			"$(for s in S A F N X; do nmap_answer $s $fam $p; done | tr '\n' ' ' | sed 's/ $//')" \
			"$(answers_of $p)"
	done
done

# ---- 2. tcpshake's mode against nmap, port by port -------------------------
# ARGS... -> runs tcpshake with them, output in $out, exit code in $rc
run_ts() {
	in_client "$TCPSHAKE" "$@" -j -c 1 -W 0.5 -p "$PORTS" "$addr" >"$out" 2>"$out.err"
	rc=$?
}

print_table() { # SCAN FAMILY TITLE
	echo "# IPv$2 $3: port, bed, nmap state (reason), tcpshake outcome (flags win)"
	for p in $PORTLIST; do
		printf '#   %-4s %-12s %-32s %s\n' "$p" "$(role_of $p)" \
			"$(nmap_of "$1" "$2" $p | sed 's|/\([^/]*\)$| (\1)|')" \
			"$(ts_field "$out" $p '"\(.outcome) (\(.flags // "-")\(if .flags then " win=\(.win)" else "" end))"')"
	done
	[ -s "$out.err" ] && sed 's/^/#   tcpshake stderr: /' "$out.err" | head -n 5
	true
}

compare_ts() { # SCAN FAMILY LABEL: tcpshake's $out against nmap's table
	s=$1 fam=$2 label=$3
	check "IPv$fam $label exits 0 or 1 (got $rc)" test "$rc" -le 1
	expect_eq "IPv$fam $label nothing on stderr" "$(head -c 300 "$out.err")" ""
	# a usage or system error sent nothing: one failure, not one per port
	[ "$rc" -le 1 ] || return 0
	for p in $PORTLIST; do
		want=$(nmap_of $s $fam $p)
		state=${want%/*} reason=${want##*/}
		# syn mode keeps tcpshake's own names (outcomes.sh): an ICMP error
		# is "unreachable" there, nmap -sS's filtered
		[ "$s" = S ] && [ "$reason" = admin-prohibited ] && state=unreachable
		expect_eq "IPv$fam $label port $p ($(role_of $p)): nmap's state" \
			"$(ts_field "$out" $p .outcome)" "$state"
		case $reason in
		reset) flags=$(rst_flags_of $s) ;;
		syn-ack) flags=SA ;;
		*) flags=null ;;
		esac
		expect_eq "IPv$fam $label port $p: the answer's flags" "$(ts_field "$out" $p .flags)" "$flags"
		[ "$reason" = admin-prohibited ] &&
			expect_eq "IPv$fam $label port $p: the ICMP error named" \
				"$(ts_field "$out" $p .icmp.name)" admin-prohibited
		# window scan: the RST's window decides; Linux resets with window 0,
		# 107's are rewritten to 4096
		[ "$s" = W ] && [ "$reason" = reset ] &&
			expect_eq "IPv$fam $label port $p: the RST's window" "$(ts_field "$out" $p .win)" \
				"$([ $p = 107 ] && echo 4096 || echo 0)"
	done
	expect_eq "IPv$fam $label one probe per port" \
		"$(jq -s -c '[.[]|select(.type=="probe")|.port]|sort' "$out" 2>/dev/null)" \
		"[100,101,102,103,104,105,106,107]"
	expect_eq "IPv$fam $label a summary per port" \
		"$(jq -s '[.[]|select(.type=="summary")]|length' "$out" 2>/dev/null)" 8
	expect_eq "IPv$fam $label run line last" "$(tail -n1 "$out" | jq -r .type 2>/dev/null)" run
}

for fam in 4 6; do
	[ $fam = 4 ] && addr=$S4 || addr=$S6
	for s in S F N X A W M; do
		mode=$(mode_of $s)
		out="$BED_DIR/ts-$mode-$fam.json"
		run_ts -M "$mode"
		print_table $s $fam "nmap -s$s / tcpshake -M $mode"
		compare_ts $s $fam "-M $mode"
	done
	# any combination of flags: FIN alone is the FIN scan, FIN+PSH+URG the Xmas
	for sf in F:F X:FPU; do
		s=${sf%%:*} letters=${sf#*:}
		out="$BED_DIR/ts-flags$letters-$fam.json"
		run_ts --flags "$letters"
		print_table $s $fam "nmap -s$s / tcpshake --flags $letters"
		compare_ts $s $fam "--flags $letters"
	done
done

# ---- 3. the per-flag view (the verdicts are above) ------------------------
for fam in 4 6; do
	[ $fam = 4 ] && addr=$S4 || addr=$S6
	out="$BED_DIR/ts-flags-view-$fam.json"
	in_client "$TCPSHAKE" -M flags -j -W 0.5 -p "$PORTS" "$addr" >"$out" 2>"$out.err"
	rc=$?
	echo "# IPv$fam per-flag view: port, bed, nmap -sS -sA -sF -sN -sX, tcpshake syn ack fin null xmas -> verdict"
	for p in $PORTLIST; do
		printf '#   %-4s %-12s %-26s %s\n' "$p" "$(role_of $p)" \
			"$(for s in S A F N X; do printf '%s ' "$(nmap_answer $s $fam $p)"; done)" \
			"$(jq -r --argjson p $p 'select(.type=="flags" and .port==$p) |
				"\(.answers|[.syn,.ack,.fin,.null,.xmas]|join(" ")) -> \(.verdict)"' "$out" 2>/dev/null)"
	done
	[ -s "$out.err" ] && sed 's/^/#   tcpshake stderr: /' "$out.err" | head -n 5
	check "IPv$fam -M flags exits 0 or 1 (got $rc)" test "$rc" -le 1
	expect_eq "IPv$fam -M flags nothing on stderr" "$(head -c 300 "$out.err")" ""
	[ "$rc" -le 1 ] || continue
	expect_eq "IPv$fam -M flags one object per port" \
		"$(jq -s -c '[.[]|select(.type=="flags")|.port]|sort' "$out" 2>/dev/null)" \
		"[100,101,102,103,104,105,106,107]"
	for p in $PORTLIST; do
		got=$(jq -r --argjson p $p 'select(.type=="flags" and .port==$p) |
			.answers|[.syn,.ack,.fin,.null,.xmas]|join(" ")' "$out" 2>/dev/null)
		expect_eq "IPv$fam -M flags port $p ($(role_of $p)): answers syn ack fin null xmas" \
			"$got" "$(answers_of $p)"
		expect_eq "IPv$fam -M flags port $p: answers agree with nmap -sS -sA -sF -sN -sX" \
			"$got" "$(for s in S A F N X; do nmap_answer $s $fam $p; done | tr '\n' ' ' | sed 's/ $//')"
		expect_eq "IPv$fam -M flags port $p: the answers map has exactly the five kinds" \
			"$(jq -r -c --argjson p $p 'select(.type=="flags" and .port==$p) | .answers|keys' "$out" 2>/dev/null)" \
			'["ack","fin","null","syn","xmas"]'
		expect_eq "IPv$fam -M flags port $p: verdict" \
			"$(jq -r --argjson p $p 'select(.type=="flags" and .port==$p) | .verdict' "$out" 2>/dev/null)" \
			"$(verdict_of $p)"
	done
done

bed_finish
