#!/bin/sh
# make install into a temporary prefix grants the file capabilities; an
# unprivileged user then runs syn and full mode; without the capabilities
# the exact error; make uninstall removes everything.
. "$TOPSRC/tests/lib/bed.sh"
bed_up
bed_listen 80
command -v setpriv >/dev/null && command -v getcap >/dev/null || { check "setpriv and getcap installed" false; bed_finish; exit; }

prefix="$BED_DIR/prefix"
user="tsk$(od -An -N3 -tu4 /dev/urandom | tr -d ' ')"
useradd --system --no-create-home --shell /usr/sbin/nologin "$user" || exit 99
trap 'userdel "$user" 2>/dev/null; bed_down' EXIT
chmod 755 "$BED_DIR"

make -s -C "$TOPBUILD" install prefix="$prefix" >"$BED_DIR/install.out" 2>&1
expect_eq "make install succeeds" "$?" 0
for f in bin/tcpshake share/man/man8/tcpshake.8 share/bash-completion/completions/tcpshake \
	share/zsh/vendor-completions/_tcpshake share/fish/vendor_completions.d/tcpshake.fish; do
	check "installed $f" test -f "$prefix/$f"
done
check "installed the prober's systemd unit" test -f "$prefix/lib/systemd/system/tcpshake-prober.service"
check "the unit runs the installed binary" grep -q "^ExecStart=$prefix/bin/tcpshake --serve " \
	"$prefix/lib/systemd/system/tcpshake-prober.service"
check "installed the Prometheus scrape configuration" test -f "$prefix/share/doc/tcpshake/prometheus-tcpshake.yml"
if command -v promtool >/dev/null; then
	check "promtool accepts the scrape configuration" sh -c \
		"promtool check config '$prefix/share/doc/tcpshake/prometheus-tcpshake.yml' >/dev/null 2>&1"
fi
check "the hook said what it did" grep -q "granted cap_net_raw,cap_net_admin+ep" "$BED_DIR/install.out"
check "the binary has cap_net_admin,cap_net_raw=ep" \
	sh -c "getcap '$prefix/bin/tcpshake' | grep -q 'cap_net_admin,cap_net_raw=ep'"

as_user() { ip netns exec "$BED_C" setpriv --reuid="$user" --regid="$user" --clear-groups "$@"; }
as_user id -u >"$BED_DIR/uid"
check "the test user is not root" test "$(cat "$BED_DIR/uid")" != 0
: >"$BED_DIR/listener.log"
as_user "$prefix/bin/tcpshake" -M syn -c 1 -p 80 $S4 >"$BED_DIR/syn.out" 2>&1
expect_eq "unprivileged user, file capabilities: syn mode works" "$?" 0
as_user "$prefix/bin/tcpshake" -j -c 1 -p 80 $S4 >"$BED_DIR/full.out" 2>&1
expect_eq "unprivileged user, file capabilities: full mode works" "$?" 0
expect_eq "unprivileged user: full mode closed with fin" \
	"$(jq -r 'select(.type=="probe") | .close' "$BED_DIR/full.out")" "fin"
sleep 0.2
expect_eq "unprivileged user: the server saw one accept and a clean end of file" \
	"$(grep -c '^accept 80' "$BED_DIR/listener.log"),$(grep -c '^eof 80' "$BED_DIR/listener.log")" "1,1"
expect_eq "no table left" "$(bed_tables_left)" 0
# the prober as the unprivileged user, with the file capabilities: it
# serves, probes, and keeps no capability once serving
if command -v curl >/dev/null; then
	# not through as_user: $! must be the prober (ip netns exec and setpriv exec it)
	ip netns exec "$BED_C" setpriv --reuid="$user" --regid="$user" --clear-groups \
		"$prefix/bin/tcpshake" --serve 127.0.0.1:9517 --allow $S4/32 2>"$BED_DIR/serve.err" &
	spid=$!
	for i in $(seq 100); do
		in_client curl -s -o /dev/null http://127.0.0.1:9517/metrics && break
		sleep 0.05
	done
	in_client curl -s "http://127.0.0.1:9517/probe?target=$S4:80" >"$BED_DIR/probe.txt"
	expect_eq "unprivileged prober: probe_success 1" \
		"$(awk '$1 == "probe_success" { print $2 }' "$BED_DIR/probe.txt")" 1
	expect_eq "unprivileged prober: no capability left once serving" \
		"$(awk '/^CapEff/ { print $2 }' /proc/$spid/status)" 0000000000000000
	kill -TERM $spid
	wait $spid
	expect_eq "unprivileged prober: SIGTERM, exit 0, no table left" \
		"$?,$(bed_tables_left)" "0,0"
fi

mkdir -p "$BED_DIR/nocap" && cp "$prefix/bin/tcpshake" "$BED_DIR/nocap/tcpshake" && chmod 755 "$BED_DIR/nocap"
as_user "$BED_DIR/nocap/tcpshake" -M syn -c 1 -p 80 $S4 >"$BED_DIR/nocap.out" 2>"$BED_DIR/nocap.err"
expect_eq "without capabilities: exit 4" "$?" 4
expect_eq "without capabilities: the exact error" "$(cat "$BED_DIR/nocap.err")" \
	"tcpshake: raw socket: tcpshake needs CAP_NET_RAW (run as root, or see 'Privileges' in man tcpshake)"
setcap cap_net_raw+ep "$BED_DIR/nocap/tcpshake"
as_user "$BED_DIR/nocap/tcpshake" -c 1 -p 80 $S4 >/dev/null 2>"$BED_DIR/noadmin.err"
expect_eq "CAP_NET_RAW alone: full mode exit 4" "$?" 4
expect_eq "CAP_NET_RAW alone: the exact error" "$(cat "$BED_DIR/noadmin.err")" \
	"tcpshake: firewall guard: full mode needs CAP_NET_ADMIN (-M syn does not)"
as_user "$BED_DIR/nocap/tcpshake" -M syn -c 1 -p 80 $S4 >/dev/null 2>&1
expect_eq "CAP_NET_RAW alone: syn mode works" "$?" 0

chmod u+s "$BED_DIR/nocap/tcpshake"
as_user "$BED_DIR/nocap/tcpshake" -M syn -c 1 -p 80 $S4 >/dev/null 2>"$BED_DIR/suid.err"
rc=$?
if ldd "$TCPSHAKE" | grep -q libasan; then
	# a sanitizer build: its runtime refuses set-user-ID execution before main()
	check "set-user-ID: refused (by the sanitizer runtime, exit $rc)" test "$rc" -ne 0
else
	expect_eq "set-user-ID: refused with exit 4" "$rc" 4
	check "set-user-ID: says so" grep -q "refusing to run set-user-ID" "$BED_DIR/suid.err"
fi

make -s -C "$TOPBUILD" uninstall prefix="$prefix" >/dev/null 2>&1
expect_eq "make uninstall removes every file" "$(find "$prefix" -type f | wc -l)" 0

bed_finish
