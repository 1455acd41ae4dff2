#!/bin/sh
# On a terminal (a pseudo-terminal made by script(1), 60 columns): the
# progress line of a fleet is cleared before every result line and cut to
# the terminal's width, so no result is glued to it and nothing wraps.
. "$TOPSRC/tests/lib/bed.sh"
command -v script >/dev/null || { echo "SKIP: needs script(1)"; exit 77; }
bed_up
bed_rules
bed_listen 80

script -qec "stty cols 60 rows 20; ip netns exec $BED_C $TCPSHAKE -c 2 -i 0.2 -W 0.6 -p 80-83 $S4" \
	"$BED_DIR/tty.raw" >/dev/null 2>&1
expect_eq "the run printed its four lines" \
	"$(sed 's/\x1b\[K//g' "$BED_DIR/tty.raw" | tr '\r' '\n' | grep -c '^198.18.0.2:8[0-3] ')" 4
check "a progress line was shown" grep -q 'target:ports, ' "$BED_DIR/tty.raw"
# every progress line is erased (ESC [ K) before anything follows it, and
# fits in 59 columns
python3 - "$BED_DIR/tty.raw" >"$BED_DIR/tty.check" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
bad = []
for m in re.finditer(r"\r\x1b\[K([^\r\n\x1b]*)", raw):
    text = m.group(1)
    if "target:ports" in text and not text.startswith("---") and len(text) > 59:
        bad.append("too wide (%d): %r" % (len(text), text))
    if re.search(r"target:ports.*\d{3}\.\d+\.\d+\.\d+:\d+ ", text):
        bad.append("a result glued to the progress line: %r" % text)
after = raw.split("target:ports")
for piece in after[1:]:
    tail = piece.split("\r")[0]
    if "\n" in tail:
        bad.append("a line ended while the progress line was up: %r" % tail[:80])
print("\n".join(bad))
PY
expect_eq "progress erased before results, never wider than the terminal" "$(cat "$BED_DIR/tty.check")" ""
bed_finish
