#!/bin/sh
# Every option in `tcpshake --help` appears in the man page and in the
# bash, zsh and fish completions, and nothing they document is missing
# from --help; the man page is clean under mandoc -Tlint.
set -u
fails=0 checks=0
ok() { checks=$((checks + 1)); echo "ok $checks - $1"; }
no() { checks=$((checks + 1)); fails=$((fails + 1)); echo "not ok $checks - $1"; }

help=$("$TCPSHAKE" --help) || { echo "tcpshake --help failed"; exit 1; }
man="$TOPSRC/man/tcpshake.8"
bash_c="$TOPSRC/completions/tcpshake.bash"
zsh_c="$TOPSRC/completions/_tcpshake"
fish_c="$TOPSRC/completions/tcpshake.fish"

longs=$(printf '%s\n' "$help" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u)
shorts=$(printf '%s\n' "$help" | grep -oE -- '^  -[A-Za-z0-9],' | tr -d ' ,' | sort -u)
[ -n "$longs" ] && [ -n "$shorts" ] || { echo "no options found in --help"; exit 1; }

for o in $longs; do
	n=${o#--}
	grep -q "Fl Fl $n\\b" "$man" && ok "man page documents $o" || no "man page lacks $o"
	grep -qE -- "(^|[[:space:]'|])$o([[:space:]'=|)]|\$)" "$bash_c" && ok "bash completes $o" || no "bash lacks $o"
	grep -q -- "$o" "$zsh_c" && ok "zsh completes $o" || no "zsh lacks $o"
	grep -qE -- "-l $n( |\$)" "$fish_c" && ok "fish completes $o" || no "fish lacks $o"
done
for o in $shorts; do
	c=${o#-}
	grep -qE "Fl $c( |\$)|Op Fl [0-9A-Za-z]*$c" "$man" && ok "man page documents $o" || no "man page lacks $o"
	grep -qE -- "(^|[[:space:]'|])$o([[:space:]'|)]|\$)" "$bash_c" && ok "bash completes $o" || no "bash lacks $o"
	grep -qE -- "[{,]$o[+,}]" "$zsh_c" && ok "zsh completes $o" || no "zsh lacks $o"
	grep -qE -- "-s $c( |\$)" "$fish_c" && ok "fish completes $o" || no "fish lacks $o"
done

# the other way round: nothing documented that --help does not name
for o in $(grep -oE 'Fl Fl [a-z][a-z0-9-]+' "$man" | awk '{print "--"$3}' | sort -u) \
	$(grep -oE -- '-l [a-z][a-z0-9-]+' "$fish_c" | awk '{print "--"$2}' | sort -u) \
	$(grep -oE -- "--[a-z][a-z0-9-]+" "$bash_c" "$zsh_c" | cut -d: -f2 | sort -u); do
	printf '%s\n' "$longs" | grep -qx -- "$o" && ok "$o is in --help" || no "$o is documented but not in --help"
done

# every mode -M takes (as its error lists them) is in the man page and the
# three completions
modes=$("$TCPSHAKE" -M nosuchmode 198.18.0.1 2>&1 | sed -n 's/.*(known: \([^)]*\)).*/\1/p' | tr -d ',')
[ -n "$modes" ] && ok "-M lists its modes" || no "-M lists its modes"
for m in $modes; do
	grep -qE "^\.Cm (.* )?$m( |\$)" "$man" && ok "man page documents -M $m" || no "man page lacks -M $m"
	grep -A2 -- "-M | --mode" "$bash_c" | grep -qw "$m" && ok "bash completes -M $m" || no "bash lacks -M $m"
	grep -- "--mode=" "$zsh_c" | grep -qw "$m" && ok "zsh completes -M $m" || no "zsh lacks -M $m"
	grep -- "-l mode" "$fish_c" | grep -qw "$m" && ok "fish completes -M $m" || no "fish lacks -M $m"
done

if command -v mandoc >/dev/null; then
	# quotes nested by mistake (Ql inside Pq): `a, `b'' when rendered
	nested=$(mandoc -Tascii "$man" | sed 's/.\x08//g' | grep -n "\`[^']*\`")
	[ -z "$nested" ] && ok "no nested quotes in the rendered page" || no "nested quotes: $nested"
	lint=$(mandoc -Tlint -Wwarning "$man" 2>&1)
	[ -z "$lint" ] && ok "mandoc -Tlint is clean" || no "mandoc -Tlint: $lint"
else
	no "mandoc is installed"
fi
echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
