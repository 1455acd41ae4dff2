#!/bin/sh
# tcpshake --serve (issue 15): a long-running Prometheus prober with
# blackbox_exporter's contract, on the lossy bed (client - middle - server,
# no loss here) against nginx, a closed port, a dropped one and an ICMP
# reject:
#   - /probe for each module (full, syn, http) and outcome, IPv4 and IPv6:
#     probe_success, the outcome, wire RTT, the close; the scrape timeout
#     header bounds the wait; nginx logs the HTTP probe's request
#   - refused requests: a target outside --allow (403, nothing sent to it),
#     malformed ones (400), other paths (404), other methods (405)
#   - 30 requests at once, three kinds of port: each answer is its own
#   - --max-probes: a second prober beside the first, more requests than it
#     may run: 503 for the rest, counted in /metrics; both probers' answers
#     right while they run at once
#   - the three witnesses: the answers, tcpdump (a SYN per probe, none to a
#     refused target) and the server's ss (nothing but LISTEN/TIME-WAIT)
#   - no capabilities left once serving; SIGTERM: exit 0, the guard table
#     and the listening socket gone
#   - the real prometheus server, with the scrape configuration tcpshake
#     installs (serve/prometheus-tcpshake.yml, relabelled as for blackbox),
#     scrapes it; the stored series read back through its HTTP API
. "$TOPSRC/tests/lib/bed.sh"
for t in nginx curl prometheus; do
	command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }
done
bed_lossy_up
bed_nginx 80
# a name for nginx in the client namespace (ip netns exec puts
# /etc/netns/NS/hosts in place of /etc/hosts): resolved without stopping
# the prober's loop
mkdir -p "/etc/netns/$BED_C"
echo "$LS4 nginx.test" >"/etc/netns/$BED_C/hosts"
# a resolver nobody answers (in the bed's own server network): names not in
# the hosts file take a second to fail
printf 'nameserver 198.18.20.53\noptions timeout:1 attempts:1\n' >"/etc/netns/$BED_C/resolv.conf"
trap 'rm -rf "/etc/netns/$BED_C"; bed_lossy_down' EXIT
in_server nft -f - <<'NFT' || exit 99
table inet servebed {
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 82 drop
		meta nfproto ipv4 tcp dport 83 reject with icmp type admin-prohibited
		meta nfproto ipv6 tcp dport 83 reject with icmpv6 type admin-prohibited
	}
}
NFT
ALLOW=198.18.20.0/24,2001:db8:20::/64
P1=9516 P2=9517 PROM=9590

# serve_start PORT ARGS...: a prober in the client namespace; $spid
serve_start() {
	local port=$1 i
	shift
	# ip netns exec execs tcpshake: $! is the prober itself
	ip netns exec "$BED_C" "$TCPSHAKE" --serve 127.0.0.1:$port --allow $ALLOW "$@" \
		2>"$BED_DIR/serve-$port.err" &
	spid=$!
	for i in $(seq 100); do
		in_client curl -s -o /dev/null "http://127.0.0.1:$port/metrics" && return 0
		sleep 0.05
	done
	echo "# prober on $port did not start: $(cat "$BED_DIR/serve-$port.err")"
	exit 99
}
# get NAME URL-PATH [CURL ARGS]: the body into $BED_DIR/NAME; prints the status
get() {
	local name=$1 path=$2
	shift 2
	in_client curl -s -o "$BED_DIR/$name" -w '%{http_code}' "$@" "http://127.0.0.1:$P1$path"
}
# val NAME METRIC: the value of a sample line (METRIC with its labels)
val() { awk -v m="$2" '$1 == m { print $2 }' "$BED_DIR/$1"; }
num_between() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }

ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -i veth0 -nn -U -w "$BED_DIR/serve.pcap" \
	tcp 2>"$BED_DIR/td.err" &
tdpid=$!
for i in $(seq 100); do grep -q listening "$BED_DIR/td.err" && break; sleep 0.05; done

serve_start $P1
pid1=$spid
check "the prober says where it serves" grep -q "serving on http://127.0.0.1:$P1/" \
	"$BED_DIR/serve-$P1.err"
caps=$(awk '/^CapEff/ { print $2 }' /proc/$pid1/status)
expect_eq "no capability left once serving" "$caps" 0000000000000000

# ---- each module and outcome ----------------------------------------------
expect_eq "full, open: HTTP 200" "$(get full "/probe?target=$LS4:80&module=full")" 200
expect_eq "full, open: probe_success 1" "$(val full probe_success)" 1
expect_eq "full, open: outcome open" "$(val full 'tcpshake_probe_outcome{outcome="open"}')" 1
expect_eq "full, open: the RTT is the wire's" "$(val full tcpshake_probe_rtt_wire)" 1
expect_eq "full, open: closed with our FIN" "$(val full 'tcpshake_probe_close{how="fin"}')" 1
check "full, open: the content type is the exposition format's" sh -c \
	"in_client() { ip netns exec $BED_C \"\$@\"; }; in_client curl -s -D - -o /dev/null \
	'http://127.0.0.1:$P1/probe?target=$LS4:80' | grep -qi 'content-type: text/plain; version=0.0.4'"
get syn "/probe?target=$LS4&port=80&module=syn" >/dev/null
expect_eq "syn, open: probe_success 1" "$(val syn probe_success)" 1
get http "/probe?target=$LS4:80&module=http&path=/health" >/dev/null
expect_eq "http: probe_success 1" "$(val http probe_success)" 1
expect_eq "http: status 200" "$(val http tcpshake_probe_http_status_code)" 200
check "http: nginx logged the prober's HEAD request" grep -q '"HEAD /health HTTP/1.1" 200 .*tcpshake/' \
	"$BED_DIR/nginx/access.log"
get closed "/probe?target=$LS4:81" >/dev/null
expect_eq "closed: probe_success 0" "$(val closed probe_success)" 0
expect_eq "closed: outcome closed" "$(val closed 'tcpshake_probe_outcome{outcome="closed"}')" 1
get filtered "/probe?target=$LS4:82" -H 'X-Prometheus-Scrape-Timeout-Seconds: 1.5' >/dev/null
expect_eq "filtered: outcome filtered" "$(val filtered 'tcpshake_probe_outcome{outcome="filtered"}')" 1
d=$(val filtered probe_duration_seconds)
check "filtered: the wait is the scrape timeout less 0.5 s ($d s)" num_between "$d" 0.95 1.3
get icmp "/probe?target=$LS4:83" >/dev/null
expect_eq "ICMP reject: outcome unreachable" "$(val icmp 'tcpshake_probe_outcome{outcome="unreachable"}')" 1
check "ICMP reject: named admin-prohibited" grep -q 'tcpshake_probe_icmp{type="3",code="13",name="admin-prohibited"} 1' \
	"$BED_DIR/icmp"
get v6 "/probe?target=[$LS6]:80" -g >/dev/null
expect_eq "IPv6: probe_success 1" "$(val v6 probe_success)" 1
expect_eq "IPv6: probe_ip_protocol 6" "$(val v6 probe_ip_protocol)" 6

get name "/probe?target=nginx.test:80" >/dev/null
expect_eq "a name: resolved, probed, success" "$(val name probe_success)" 1
# a name that takes a second to fail, and an address at once: the
# address's probe is not held up by it
in_client sh -c "curl -s -o $BED_DIR/slow -w '%{http_code}' 'http://127.0.0.1:$P1/probe?target=slow.test:80' \
	>$BED_DIR/slow.code & sleep 0.2; curl -s -o $BED_DIR/fast -w '%{time_total}' \
	'http://127.0.0.1:$P1/probe?target=$LS4:80' >$BED_DIR/fast.time; wait"
check "a slow name does not hold up another probe ($(cat "$BED_DIR/fast.time") s)" \
	num_between "$(cat "$BED_DIR/fast.time")" 0 0.5
expect_eq "the slow name: 400 once the resolver gives up" "$(cat "$BED_DIR/slow.code")" 400
# ---- refused requests --------------------------------------------------------
expect_eq "outside --allow: 403" "$(get denied "/probe?target=$LM4:80")" 403
check "outside --allow: says why" grep -q "is not in --allow" "$BED_DIR/denied"
expect_eq "no target: 400" "$(get bad1 "/probe?port=80")" 400
expect_eq "no port: 400" "$(get bad2 "/probe?target=$LS4")" 400
expect_eq "port 0: 400" "$(get bad3 "/probe?target=$LS4:0")" 400
expect_eq "unknown module: 400" "$(get bad4 "/probe?target=$LS4:80&module=icmp")" 400
expect_eq "a name that does not resolve: 400" "$(get bad5 "/probe?target=nx.invalid:80")" 400
expect_eq "another path: 404" "$(get bad6 "/nothing")" 404
expect_eq "POST: 405" "$(get bad7 "/probe?target=$LS4:80" -X POST)" 405

# ---- 30 requests at once: each answer is its own ------------------------------
seq 0 29 | awk '{ print $1, $1 % 3 == 0 ? 80 : $1 % 3 == 1 ? 81 : 83 }' >"$BED_DIR/many.lst"
in_client sh -c "xargs -P 30 -n 2 sh -c 'curl -s -o $BED_DIR/many.\$0.\$1 \
	\"http://127.0.0.1:$P1/probe?target=$LS4:\$1\"' <$BED_DIR/many.lst"
bad=0
while read -r i port; do
	want=open
	[ "$port" = 81 ] && want=closed
	[ "$port" = 83 ] && want=unreachable
	[ "$(val many.$i.$port "tcpshake_probe_outcome{outcome=\"$want\"}")" = 1 ] || bad=$((bad + 1))
done <"$BED_DIR/many.lst"
expect_eq "30 at once: each answer is its target:port's" "$bad" 0

# ---- a second prober, --max-probes 2, beside the first ------------------------
serve_start $P2 --max-probes 2
pid2=$spid
in_client sh -c "for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code}\n' \
	-H 'X-Prometheus-Scrape-Timeout-Seconds: 1' 'http://127.0.0.1:$P2/probe?target=$LS4:82' & done; \
	for i in 1 2 3 4 5 6; do curl -s -o $BED_DIR/beside.\$i 'http://127.0.0.1:$P1/probe?target=$LS4:80' & done; \
	wait" >"$BED_DIR/limited"
n200=$(grep -c '^200$' "$BED_DIR/limited")
n503=$(grep -c '^503$' "$BED_DIR/limited")
expect_eq "--max-probes 2: two run, four refused (503)" "$n200/$n503" "2/4"
in_client curl -s -o "$BED_DIR/metrics2" "http://127.0.0.1:$P2/metrics"
expect_eq "--max-probes 2: the refusals are counted" "$(val metrics2 tcpshake_serve_busy_total)" 4
ok=0
for i in 1 2 3 4 5 6; do [ "$(val beside.$i probe_success)" = 1 ] && ok=$((ok + 1)); done
expect_eq "two probers at once: the first's answers all open" "$ok" 6

# ---- the prober's own counters --------------------------------------------------
get metrics /metrics >/dev/null
# full open: 1 + 1 (the content-type check) + 1 by name + 1 beside the slow
# name + 10 of the 30 + 6 beside + IPv6
expect_eq "/metrics: full probes found open" \
	"$(val metrics 'tcpshake_serve_probes_total{module="full",outcome="open"}')" 21
expect_eq "/metrics: one request refused by --allow" "$(val metrics tcpshake_serve_denied_total)" 1
expect_eq "/metrics: nothing in flight" "$(val metrics tcpshake_serve_probes_in_flight)" 0

# ---- the server and the wire ------------------------------------------------------
left=$(bed_ss_leftovers 80 | wc -l)
expect_eq "nginx holds nothing but LISTEN and TIME-WAIT" "$left" 0
sleep 0.2
kill -TERM $tdpid
wait $tdpid 2>/dev/null
tcpdump -nn -r "$BED_DIR/serve.pcap" 2>/dev/null >"$BED_DIR/serve.txt"
expect_eq "tcpdump: nothing sent to the refused target" \
	"$(grep -c "> $LM4\.80:" "$BED_DIR/serve.txt")" 0
expect_eq "tcpdump: one reset to nginx, the -M syn probe's (the rest closed with FIN)" \
	"$(grep -c "> $LS4\.80: Flags \[R" "$BED_DIR/serve.txt")" 1
expect_eq "tcpdump: a SYN to nginx for each probe of it (1+1+1+1+1+1+10+6)" \
	"$(grep -c "> $LS4\.80: Flags \[S\]" "$BED_DIR/serve.txt")" 22

# ---- a signal ends it cleanly -------------------------------------------------------
kill -TERM $pid1 $pid2
t0=$(date +%s%N)
wait $pid1
rc=$?
wait $pid2
t1=$(date +%s%N)
expect_eq "SIGTERM: exit 0" "$rc" 0
check "SIGTERM: gone within 1 s" test $(( (t1 - t0) / 1000000 )) -lt 1000
expect_eq "SIGTERM: no guard table left" "$(bed_tables_left)" 0
check "SIGTERM: the port is closed" sh -c "! ip netns exec $BED_C curl -s -o /dev/null \
	http://127.0.0.1:$P1/metrics"

# ---- the real Prometheus, with the scrape configuration we install --------------------
serve_start $P1
sed -e "s/127.0.0.1:9516/127.0.0.1:$P1/" -e "s/scrape_interval: 15s/scrape_interval: 1s/" \
	-e "s/- 198.18.0.2:80 .*/- $LS4:80\n          - $LS4:81/" "$TOPSRC/serve/prometheus-tcpshake.yml" \
	>"$BED_DIR/prom.yml"
printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n' >"$BED_DIR/prom-global.yml"
cat "$BED_DIR/prom-global.yml" "$BED_DIR/prom.yml" >"$BED_DIR/prometheus.yml"
in_client prometheus --config.file="$BED_DIR/prometheus.yml" --storage.tsdb.path="$BED_DIR/prom" \
	--web.listen-address=127.0.0.1:$PROM >"$BED_DIR/prometheus.log" 2>&1 &
q() { # PROMQL: the value of the first series, or nothing
	in_client curl -s "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // empty' 2>/dev/null
}
for i in $(seq 300); do
	[ -n "$(q 'probe_success{instance="'$LS4':81"}')" ] && [ -n "$(q 'probe_success{instance="'$LS4':80"}')" ] &&
		[ -n "$(q 'tcpshake_serve_probes_in_flight')" ] && break
	sleep 0.1
done
expect_eq "prometheus: probe_success of $LS4:80 stored as 1" "$(q 'probe_success{instance="'$LS4':80"}')" 1
expect_eq "prometheus: probe_success of $LS4:81 stored as 0" "$(q 'probe_success{instance="'$LS4':81"}')" 0
expect_eq "prometheus: $LS4:81 stored as closed" \
	"$(q 'tcpshake_probe_outcome{instance="'$LS4':81",outcome="closed"}')" 1
rtt=$(q 'tcpshake_probe_rtt_seconds{instance="'$LS4':80"}')
check "prometheus: a wire RTT stored for $LS4:80 ($rtt s)" num_between "${rtt:-0}" 0.000001 0.1
expect_eq "prometheus: the prober's own counters scraped" "$(q 'up{job="tcpshake_prober"}')" 1
kill -TERM $spid
wait $spid
expect_eq "SIGTERM while scraped: exit 0" "$?" 0

bed_finish
