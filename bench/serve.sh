#!/bin/sh
# The --serve prober against the ways people check a port for Prometheus or
# Nagios, against one nginx on the bench bed (client - middle - server, no
# loss): time per check through tcpshake --serve (module full: handshake
# and FIN close), through prometheus-blackbox-exporter (module tcp_connect,
# the kernel's connect), both scraped over keep-alive HTTP as Prometheus
# does (bench/serve_client.py), one at a time and 20 at once; and
# check_tcp, one process per check, as Nagios runs it. Also what the server
# saw (ss: nothing but LISTEN and TIME-WAIT) and each tool's RTT figure.
# Goal: a check through --serve cheaper than both peers.
# Needs root, and: apt-get install nginx-light prometheus-blackbox-exporter
#   monitoring-plugins-basic hyperfine curl
set -u
here=$(cd "$(dirname "$0")" && pwd)
TOPSRC=${TOPSRC:-$here/..}
TCPSHAKE=${TCPSHAKE:-$TOPSRC/build/src/tcpshake}
N=${N:-200}
CHECK_TCP=/usr/lib/nagios/plugins/check_tcp
BB=$(command -v prometheus-blackbox-exporter || command -v blackbox_exporter)
. "$TOPSRC/tests/lib/bed.sh"
bed_lossy_up
bed_nginx 80
ns="ip netns exec $BED_C"

cat >"$BED_DIR/bb.yml" <<'YML'
modules:
  tcp_connect:
    prober: tcp
    timeout: 3s
YML
$ns "$TCPSHAKE" --serve 127.0.0.1:9516 --allow $LS4/32 2>"$BED_DIR/serve.err" &
$ns "$BB" --config.file="$BED_DIR/bb.yml" --web.listen-address=127.0.0.1:9115 \
	>"$BED_DIR/bb.log" 2>&1 &
for i in $(seq 100); do
	$ns curl -s -o /dev/null http://127.0.0.1:9516/metrics &&
		$ns curl -s -o /dev/null http://127.0.0.1:9115/metrics && break
	sleep 0.1
done
TS_URL="http://127.0.0.1:9516/probe?target=$LS4:80&module=full"
BB_URL="http://127.0.0.1:9115/probe?target=$LS4:80&module=tcp_connect"
client() { $ns python3 "$here/serve_client.py" "$@"; }
client "$TS_URL" 20 1 >/dev/null # warm-up
client "$BB_URL" 20 1 >/dev/null
ts1=$(client "$TS_URL" "$N" 1)
bb1=$(client "$BB_URL" "$N" 1)
ts20=$(client "$TS_URL" "$N" 20)
bb20=$(client "$BB_URL" "$N" 20)
hyperfine -N --warmup 3 --runs 50 --export-json "$BED_DIR/ct.json" \
	-n check_tcp "$ns $CHECK_TCP -H $LS4 -p 80" >/dev/null 2>&1
left=$(bed_ss_leftovers 80 | wc -l)

python3 - "$ts1" "$bb1" "$ts20" "$bb20" "$BED_DIR/ct.json" "$left" "$N" <<'PY'
import json, sys
ts1, bb1, ts20, bb20 = (json.loads(a) for a in sys.argv[1:5])
ct = json.load(open(sys.argv[5]))["results"][0]
left, n = sys.argv[6], int(sys.argv[7])
ct_ms = ct["median"] * 1000
print(f"{'tool':34} {'ms/check (1 at a time)':>22} {'ms/check (20 at once)':>22} {'ok':>9}  RTT figure")
print(f"{'tcpshake --serve (full)':34} {ts1['ms_per_check']:22.3f} {ts20['ms_per_check']:22.3f}"
      f" {ts1['ok'] + ts20['ok']:>4}/{2 * n:<4}  wire {ts1.get('tcpshake_probe_rtt_seconds_median_ms', 0):.3f} ms"
      f" (capture timestamps)")
print(f"{'blackbox_exporter (tcp_connect)':34} {bb1['ms_per_check']:22.3f} {bb20['ms_per_check']:22.3f}"
      f" {bb1['ok'] + bb20['ok']:>4}/{2 * n:<4}  probe_duration {bb1.get('probe_duration_seconds_median_ms', 0):.3f} ms"
      f" (clock, whole probe)")
print(f"{'check_tcp (one process a check)':34} {ct_ms:22.3f} {'-':>22} {'':>9}  time= (gettimeofday around connect)")
print(f"server leftovers (ss, not LISTEN/TIME-WAIT) after all: {left}")
best = min(bb1["ms_per_check"], ct_ms)
print(f"goal (a check through --serve cheaper than every peer): {ts1['ms_per_check']:.3f} ms vs best peer"
      f" {best:.3f} ms ({best / ts1['ms_per_check']:.1f}x): {'met' if ts1['ms_per_check'] < best else 'not met'};"
      f" 20 at once {ts20['ms_per_check']:.3f} vs {bb20['ms_per_check']:.3f} ms:"
      f" {'met' if ts20['ms_per_check'] < bb20['ms_per_check'] else 'not met'}")
PY
