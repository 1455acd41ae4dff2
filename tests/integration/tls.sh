#!/bin/sh
# --tls over tcpshake's own TCP (issue 14), against nginx with certificates
# this run makes (tests/lib/tls_bed.sh) on the lossy bed:
#   - TLS 1.2 only, 1.3 only, a chain from the test CA given with --ca (and
#     the same without it), expired, another name, self-signed, a missing
#     intermediate, a chain of several segments, plain HTTP: each reported
#     right in JSON, text, CSV, Nagios and Prometheus; the exit status says
#     whether the check passed
#   - --tls-min, --sni, --alpn, --insecure, --cert-warning/--cert-critical
#   - HTTPS (--tls --http): the status, nginx's log
#   - the phases against a tcpdump capture of the same run (within 2 us)
#   - 10% loss each way and reordering: 40 TLS probes all complete and close
#     cleanly, nothing left on the server
# The server is judged by ss -tan: nothing but LISTEN and TIME-WAIT.
. "$TOPSRC/tests/lib/bed.sh"
. "$TOPSRC/tests/lib/tls_bed.sh"
for t in nginx openssl; do
	command -v $t >/dev/null || { echo "SKIP: needs $t"; exit 77; }
done
bed_lossy_up
tls_bed_up
# the certificate's name resolves in the client namespace (ip netns exec
# puts /etc/netns/NS/hosts in place of /etc/hosts)
mkdir -p "/etc/netns/$BED_C"
echo "$LS4 $TLS_NAME" >"/etc/netns/$BED_C/hosts"
trap 'rm -rf "/etc/netns/$BED_C"; bed_lossy_down' EXIT

A=$LS4
J="$BED_DIR/out.json"
# tj PORT ARGS...: one TLS probe as JSON lines into $J; its exit status in $rc
tj() {
	local port=$1
	shift
	in_client "$TCPSHAKE" -c 1 -j --tls -p "$port" "$@" >"$J" 2>"$BED_DIR/err"
	rc=$?
}
# f EXPR: a jq expression on the probe line
f() { jq -r "select(.type==\"probe\") | $1" "$J"; }
left() { bed_ss_leftovers "$1" 0.5 | wc -l; }

# ---- a good chain, verified with --ca -----------------------------------------
tj $TLS_PORT_GOOD --ca "$TLS_CA" $TLS_NAME
expect_eq "good chain with --ca: exit 0" "$rc" 0
expect_eq "good chain: verified, the name matches" "$(f '[.cert.verify, .cert.hostname_ok] | @tsv')" \
	"$(printf 'true\ttrue')"
expect_eq "good chain: no error" "$(f '.tls.error')" null
check "good chain: a TLS version" test -n "$(f '.tls.version' | grep '^TLSv1\.[23]$')"
check "good chain: subject and issuer" sh -c "[ \"$(f '.cert.subject')\" = CN=$TLS_NAME ] &&
	echo '$(f '.cert.issuer')' | grep -q intermediate"
check "good chain: SANs name the host and the address" sh -c \
	"echo '$(f '.cert.sans')' | grep -q 'DNS:$TLS_NAME' && echo '$(f '.cert.sans')' | grep -q 'IP:$A'"
expect_eq "good chain: key type and size" "$(f '.cert.key')" "EC 256 prime256v1"
days=$(f '.cert.days_left')
check "good chain: days left about ten years ($days)" test "$days" -gt 3600 -a "$days" -le 3660
check "good chain: not_before < now < not_after" sh -c \
	"now=\$(date +%s); [ $(f '.cert.not_before') -le \$now ] && [ $(f '.cert.not_after') -gt \$now ]"
expect_eq "good chain: no OCSP staple (nginx has none to give)" "$(f '.cert.ocsp_stapled')" false
check "good chain: phases timed (hello <= handshake)" sh -c \
	"[ \"\$(echo '$(f '[.tls.hello_ms, .tls.handshake_ms] | @tsv')' | awk '{print (\$1 > 0 && \$1 <= \$2)}')\" = 1 ]"
expect_eq "good chain: closed with our FIN after close_notify" "$(f '.close')" fin
expect_eq "good chain: nothing left on the server" "$(left $TLS_PORT_GOOD)" 0

# ---- the same chain without --ca, and --insecure ---------------------------------
tj $TLS_PORT_GOOD $TLS_NAME
expect_eq "no --ca: the test CA is unknown, exit 1" "$rc,$(f '.tls.error'),$(f '.cert.verify')" \
	"1,unknown-ca,false"
tj $TLS_PORT_GOOD --insecure $TLS_NAME
expect_eq "--insecure: exit 0, the problem still reported" "$rc,$(f '.tls.error'),$(f '.cert.problem')" \
	"0,null,unknown-ca"

# ---- versions ------------------------------------------------------------------------
tj $TLS_PORT_TLS12 --ca "$TLS_CA" $TLS_NAME
expect_eq "TLS 1.2 only: TLSv1.2, exit 0" "$rc,$(f '.tls.version')" "0,TLSv1.2"
check "TLS 1.2: an ECDHE cipher" sh -c "f() { :; }; echo '$(f '.tls.cipher')' | grep -q ECDHE"
tj $TLS_PORT_TLS13 --ca "$TLS_CA" $TLS_NAME
expect_eq "TLS 1.3 only: TLSv1.3, exit 0" "$rc,$(f '.tls.version')" "0,TLSv1.3"
check "TLS 1.3: a TLS_ cipher suite" sh -c "echo '$(f '.tls.cipher')' | grep -q '^TLS_'"
tj $TLS_PORT_TLS12 --ca "$TLS_CA" --tls-min 1.3 $TLS_NAME
expect_eq "--tls-min 1.3 against TLS 1.2 only: an alert, exit 1" "$rc,$(f '.tls.error')" \
	"1,handshake-alert:protocol_version"
expect_eq "--tls-min 1.3 against TLS 1.2 only: nothing left" "$(left $TLS_PORT_TLS12)" 0

# ---- bad certificates ---------------------------------------------------------------------
tj $TLS_PORT_EXPIRED --ca "$TLS_CA" $TLS_NAME
expect_eq "expired: exit 1, expired" "$rc,$(f '.tls.error')" "1,expired"
check "expired: negative days left ($(f '.cert.days_left'))" test "$(f '.cert.days_left')" -lt 0
tj $TLS_PORT_WRONGNAME --ca "$TLS_CA" $TLS_NAME
expect_eq "another name: name-mismatch, the chain itself fine" \
	"$rc,$(f '.tls.error'),$(f '.cert.verify'),$(f '.cert.hostname_ok')" "1,name-mismatch,true,false"
tj $TLS_PORT_SELFSIGNED --ca "$TLS_CA" $TLS_NAME
expect_eq "self-signed: exit 1, self-signed" "$rc,$(f '.tls.error')" "1,self-signed"
tj $TLS_PORT_NOCHAIN --ca "$TLS_CA" $TLS_NAME
check "intermediate missing: fails ($(f '.tls.error'): $(f '.cert.verify_error'))" \
	test "$rc" = 1 -a "$(f '.cert.verify')" = false
tj $TLS_PORT_GOOD --ca "$TLS_CA" $A
expect_eq "an address as target: checked against the IP SANs" "$rc,$(f '.cert.hostname_ok')" "0,true"
tj $TLS_PORT_GOOD --ca "$TLS_CA" --sni other.test $A
expect_eq "--sni other.test: the name does not match" "$rc,$(f '.tls.error')" "1,name-mismatch"

# ---- several segments: the long chain ------------------------------------------------------
tj $TLS_PORT_LONGCHAIN --ca "$TLS_CA" $TLS_NAME
expect_eq "long chain: verified, exit 0" "$rc,$(f '.cert.verify')" "0,true"
expect_eq "long chain: RSA 4096" "$(f '.cert.key')" "RSA 4096"
n=$(f '[.segments[] | select(startswith("<P") or startswith("<A"))] | length')
check "long chain: the server's flight took several segments ($n)" test "$n" -ge 3
expect_eq "long chain: nothing left" "$(left $TLS_PORT_LONGCHAIN)" 0

# ---- a server that accepts and never answers the ClientHello -----------------------------
bed_listen 4439
tj 4439 -W 1 $TLS_NAME
expect_eq "silent server: the handshake times out, exit 1" "$rc,$(f '.tls.error')" "1,timeout"
expect_eq "silent server: closed politely, nothing left" "$(f '.close'),$(left 4439)" "fin,0"
check "silent server: the listener saw a clean end of file" grep -q '^eof 4439' "$BED_DIR/listener.log"

# ---- not TLS at all --------------------------------------------------------------------------
tj $TLS_PORT_HTTP $TLS_NAME
check "plain HTTP port: fails, not TLS ($(f '.tls.error'))" test "$rc" = 1 -a "$(f '.tls.error')" != null
expect_eq "plain HTTP port: nothing left" "$(left $TLS_PORT_HTTP)" 0

# ---- HTTPS and ALPN -----------------------------------------------------------------------------
: >"$BED_DIR/tls-nginx/access.log"
tj $TLS_PORT_GOOD --ca "$TLS_CA" --http $TLS_NAME
expect_eq "HTTPS: status 200, exit 0" "$rc,$(f '.http.status')" "0,200"
check "HTTPS: a time to the first byte" test "$(f '.http.ttfb_us')" != null
check "HTTPS: nginx logged our HEAD" grep -q '"HEAD / HTTP/1.1" 200 .*tcpshake/' \
	"$BED_DIR/tls-nginx/access.log"
expect_eq "HTTPS: HTTP/1.1 offered by ALPN" "$(f '.tls.alpn')" "http/1.1"
tj $TLS_PORT_GOOD --ca "$TLS_CA" --alpn h2,http/1.1 $TLS_NAME
expect_eq "--alpn h2,http/1.1 to a server without h2: http/1.1" "$(f '.tls.alpn')" "http/1.1"
expect_eq "HTTPS: nothing left" "$(left $TLS_PORT_GOOD)" 0

# ---- every format ------------------------------------------------------------------------------
out=$(in_client "$TCPSHAKE" -c 1 --tls --ca "$TLS_CA" -p $TLS_PORT_EXPIRED $TLS_NAME)
check "text: the probe line names the error" sh -c "echo '$out' | grep -q 'tls.error=expired'"
check "text: the statistics have a tls line" sh -c "echo '$out' | grep -q '^tls TLSv1.[23], certificate expired'"
out=$(in_client "$TCPSHAKE" -c 1 --tls --ca "$TLS_CA" --format nagios -p $TLS_PORT_EXPIRED $TLS_NAME)
expect_eq "nagios: expired is CRITICAL" "$?,$(echo "$out" | cut -c1-17)" "2,TCPSHAKE CRITICAL"
out=$(in_client "$TCPSHAKE" -c 1 --tls --ca "$TLS_CA" --format nagios --insecure -p $TLS_PORT_EXPIRED $TLS_NAME)
check "nagios --insecure: expired is not a failure, its days still judged ($out)" sh -c \
	"echo '$out' | grep -q 'certificate expired'"
out=$(in_client "$TCPSHAKE" -c 1 --tls --ca "$TLS_CA" --format nagios --cert-warning 4000 \
	--cert-critical 30 -p $TLS_PORT_GOOD $TLS_NAME)
expect_eq "nagios: --cert-warning 4000 against ten years: WARNING" "$?" 1
check "nagios: perfdata has the days left" sh -c "echo '$out' | grep -q 'cert.days_left='"
out=$(in_client "$TCPSHAKE" -c 1 --tls --ca "$TLS_CA" --format nagios --cert-warning 5000 \
	--cert-critical 4000 -p $TLS_PORT_GOOD $TLS_NAME)
expect_eq "nagios: --cert-critical 4000: CRITICAL" "$?" 2
out=$(in_client "$TCPSHAKE" -c 1 --tls --ca "$TLS_CA" --format nagios --cert-warning 30 \
	-p $TLS_PORT_GOOD $TLS_NAME)
expect_eq "nagios: ten years left, --cert-warning 30: OK" "$?,$(echo "$out" | cut -c1-11)" "0,TCPSHAKE OK"
in_client "$TCPSHAKE" -c 1 --tls --ca "$TLS_CA" --format prometheus -p $TLS_PORT_TLS13 $TLS_NAME \
	>"$BED_DIR/prom.txt"
check "prometheus: the expiry gauge with the TLS version as a label" grep -q \
	'^tcpshake_tls_cert_expiry_timestamp_seconds{.*tls_version="TLSv1.3"} [0-9]\{10\}$' "$BED_DIR/prom.txt"
check "prometheus: tcpshake_tls_ok 1" grep -q '^tcpshake_tls_ok{.*} 1$' "$BED_DIR/prom.txt"
if command -v promtool >/dev/null; then
	promtool check metrics <"$BED_DIR/prom.txt" >"$BED_DIR/promtool.out" 2>&1
	prc=$?
	check "prometheus: promtool accepts it ($(tr '\n' ' ' <"$BED_DIR/promtool.out"))" test $prc -eq 0
fi
in_client "$TCPSHAKE" -c 1 --tls --ca "$TLS_CA" --format csv -p $TLS_PORT_GOOD $TLS_NAME >"$BED_DIR/out.csv"
check "csv: tls and cert columns" sh -c "head -1 '$BED_DIR/out.csv' | grep -q 'tls_version,.*cert_days_left'"
check "csv: the row has the version" grep -q 'TLSv1\.3' "$BED_DIR/out.csv"

# ---- the prober's tls and https modules -------------------------------------------------------
if command -v curl >/dev/null; then
	ip netns exec "$BED_C" "$TCPSHAKE" --serve 127.0.0.1:9516 --allow $LS4/32 --ca "$TLS_CA" \
		2>"$BED_DIR/serve.err" &
	spid=$!
	for i in $(seq 100); do
		in_client curl -s -o /dev/null http://127.0.0.1:9516/metrics && break
		sleep 0.05
	done
	pr() { in_client curl -s "http://127.0.0.1:9516/probe?target=$TLS_NAME:$1&module=$2" >"$BED_DIR/p.txt"; }
	pv() { awk -v m="$1" '$1 == m { print $2 }' "$BED_DIR/p.txt"; }
	pr $TLS_PORT_GOOD tls
	expect_eq "prober, module tls: success, verified" \
		"$(pv probe_success),$(pv tcpshake_probe_cert_verify),$(pv tcpshake_probe_tls_ok)" "1,1,1"
	check "prober, module tls: blackbox's expiry and version" sh -c \
		"grep -q '^probe_ssl_earliest_cert_expiry [0-9]\{10\}$' '$BED_DIR/p.txt' &&
		 grep -q '^probe_tls_version_info{version=\"TLS 1.[23]\"} 1$' '$BED_DIR/p.txt'"
	pr $TLS_PORT_EXPIRED tls
	expect_eq "prober, module tls, expired: no success" "$(pv probe_success),$(pv tcpshake_probe_tls_ok)" "0,0"
	pr $TLS_PORT_GOOD https
	expect_eq "prober, module https: success, status 200" \
		"$(pv probe_success),$(pv tcpshake_probe_http_status_code)" "1,200"
	kill -TERM $spid
	wait $spid
	expect_eq "prober: SIGTERM, exit 0" "$?" 0
fi

# ---- the phases against the wire ----------------------------------------------------------------
ip netns exec "$BED_C" tcpdump -Z root --immediate-mode -i veth0 -nn -U --time-stamp-precision=nano \
	-w "$BED_DIR/tls.pcap" "tcp port $TLS_PORT_TLS12 or tcp port $TLS_PORT_TLS13 or tcp port $TLS_PORT_LONGCHAIN" \
	2>"$BED_DIR/td.err" &
tdpid=$!
for i in $(seq 100); do grep -q listening "$BED_DIR/td.err" && break; sleep 0.05; done
in_client "$TCPSHAKE" -c 3 -i 0.2 -j --tls --ca "$TLS_CA" -p $TLS_PORT_TLS12,$TLS_PORT_TLS13,$TLS_PORT_LONGCHAIN \
	$TLS_NAME >"$BED_DIR/wire.json"
sleep 0.3
kill -TERM $tdpid
wait $tdpid 2>/dev/null
python3 "$TOPSRC/tests/lib/tls_wire.py" "$BED_DIR/tls.pcap" "$BED_DIR/wire.json" 20 >"$BED_DIR/wire.out" 2>&1
rc=$?
sed 's/^/# /' "$BED_DIR/wire.out"
expect_eq "the phases of 9 handshakes (1.2, 1.3, a long chain) as tcpdump's: never later, median within 20 us (tcpdump stamps its copy after ours)" \
	"$rc,$(grep -c '^sport' "$BED_DIR/wire.out")" "0,9"

# ---- a bad path: 10% loss each way, then reordering -----------------------------------------------
bed_loss 10 10 $TLS_PORT_GOOD
in_client "$TCPSHAKE" -c 40 -i 0.05 -W 10 -j --tls --ca "$TLS_CA" -p $TLS_PORT_GOOD $TLS_NAME >"$J"
n=$(f 'select(.tls.version != null and .tls.error == null and .cert.verify == true) | .seq' | wc -l)
expect_eq "10% loss: 40 TLS probes all verified" "$n" 40
expect_eq "10% loss: each closed by FIN" "$(f 'select(.close == "fin" or .close == "peer-fin") | .seq' | wc -l)" 40
expect_eq "10% loss: nothing left on the server" "$(bed_ss_leftovers $TLS_PORT_GOOD 2 | wc -l)" 0
bed_loss 0 0 $TLS_PORT_GOOD
bed_relay --reorder 30 --jitter 3 --seed 7
in_client "$TCPSHAKE" -c 40 -i 0.05 -W 10 -j --tls --ca "$TLS_CA" -p $TLS_PORT_LONGCHAIN $TLS_NAME >"$J"
n=$(f 'select(.tls.version != null and .tls.error == null and .cert.verify == true) | .seq' | wc -l)
expect_eq "reordering: 40 long-chain probes all verified" "$n" 40
expect_eq "reordering: nothing left on the server" "$(bed_ss_leftovers $TLS_PORT_LONGCHAIN 2 | wc -l)" 0
bed_relay_stop

bed_finish
