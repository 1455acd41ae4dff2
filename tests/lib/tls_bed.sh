# tls_bed.sh - TLS and banner servers for the integration tests, on top of
# bed.sh. Source it after bed.sh, and after bed_up (or bed_lossy_up):
#
#   . "$TOPSRC/tests/lib/bed.sh"
#   . "$TOPSRC/tests/lib/tls_bed.sh"
#   bed_up
#   tls_bed_up            # certificates, nginx on the TLS ports, STARTTLS responders
#
# Everything runs in the server namespace and dies with it (bed_down, on
# exit, also on failure); the certificates are made by this run, with the
# openssl command, in $TLS_DIR (under $BED_DIR, removed with it).
#
# The server's addresses: $TLS_ADDR4 $TLS_ADDR6 ($S4 $S6 on bed_up's bed,
# $LS4 $LS6 on the lossy bed). Every leaf for $TLS_NAME carries all four as
# IP SANs, so one set of certificates serves either bed.
#
# Certificates ($TLS_DIR/NAME.crt, its key NAME.key, and NAME-chain.pem:
# the leaf then the intermediates a server sends):
#   ca          the test root CA ("tcpshake test root CA"): $TLS_CA
#   int         an intermediate CA, signed by ca
#   leaf        $TLS_NAME (tls.test) and the bed's IPs, by int, valid now
#   expired     the same names, by int, valid only from 2020-01-01 to 2020-04-01
#   other       other.test only, by int (a wrong name for $TLS_NAME and the IPs)
#   self        $TLS_NAME and the IPs, self-signed (its own issuer)
#   long        $TLS_NAME, the IPs and 150 more DNS names, an RSA 4096 key, by
#               longint2 (RSA 4096, by longint1, RSA 4096, by ca): its
#               Certificate message is three RSA 4096 certificates, > 6 KB,
#               several TCP segments
# The others use ECDSA P-256 keys (fast to make).
#
# nginx's TLS ports, HTTP/1.1 inside ("/" answers 200 "ok", HEAD too):
#   $TLS_PORT_TLS12      4431  leaf-chain, TLS 1.2 only
#   $TLS_PORT_TLS13      4432  leaf-chain, TLS 1.3 only
#   $TLS_PORT_EXPIRED    4433  expired-chain
#   $TLS_PORT_WRONGNAME  4434  other-chain
#   $TLS_PORT_SELFSIGNED 4435  self
#   $TLS_PORT_GOOD       4436  leaf-chain, TLS 1.2 and 1.3: verifies with $TLS_CA
#   $TLS_PORT_LONGCHAIN  4437  long-chain
#   $TLS_PORT_NOCHAIN    4438  leaf alone, its intermediate missing (OpenSSL
#                              says 21, unable to verify the first certificate)
#   $TLS_PORT_HTTP       8080  plain HTTP, no TLS
# $TLS_PORTS lists them all (comma-separated); nginx's logs are in
# $BED_DIR/tls-nginx.
#
# STARTTLS responders (tests/lib/starttls_server.py, leaf-chain), logging
# what they receive to $BED_DIR/starttls-PORT.log:
#   $TLS_PORT_SMTP 25    $TLS_PORT_IMAP 143    $TLS_PORT_POP3 110
# and more with tls_bed_starttls MODE PORT [--refuse | --no-starttls |
# --greeting-refuse | --multiline | --inject | --split] (see that script).
#
# Clients reach the name with the address given by hand, e.g.
#   in_client curl --resolve "$TLS_NAME:$TLS_PORT_GOOD:$TLS_ADDR4" --cacert "$TLS_CA" \
#       -I "https://$TLS_NAME:$TLS_PORT_GOOD/"
#   in_client openssl s_client -connect "$TLS_ADDR4:$TLS_PORT_GOOD" -servername "$TLS_NAME" \
#       -verify_hostname "$TLS_NAME" -CAfile "$TLS_CA" -verify_return_error </dev/null

TLS_NAME=tls.test
TLS_DIR= TLS_CA= # set by tls_bed_up, under this run's $BED_DIR
TLS_PORT_TLS12=4431 TLS_PORT_TLS13=4432 TLS_PORT_EXPIRED=4433 TLS_PORT_WRONGNAME=4434
TLS_PORT_SELFSIGNED=4435 TLS_PORT_GOOD=4436 TLS_PORT_LONGCHAIN=4437 TLS_PORT_NOCHAIN=4438
TLS_PORT_HTTP=8080
TLS_PORTS=4431,4432,4433,4434,4435,4436,4437,4438,8080
TLS_PORT_SMTP=25 TLS_PORT_IMAP=143 TLS_PORT_POP3=110
TLS_LONG_SANS=150

# The openssl configuration every certificate is made with: no dependence on
# the system's openssl.cnf. Extensions come from files written per
# certificate (tls_ext).
tls_cnf() {
	cat >"$TLS_DIR/openssl.cnf" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
default_ca = tca
[tca]
database = $TLS_DIR/db/index.txt
new_certs_dir = $TLS_DIR/db
serial = $TLS_DIR/db/serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[anything]
commonName = supplied
EOF
	mkdir -p "$TLS_DIR/db"
	: >"$TLS_DIR/db/index.txt"
	echo 1000 >"$TLS_DIR/db/serial"
}

# tls_ext NAME ca|leaf [SAN...]: the extension file for certificate NAME
tls_ext() {
	local f="$TLS_DIR/$1.ext" kind=$2
	shift 2
	{
		echo "[ext]"
		echo "subjectKeyIdentifier = hash"
		echo "authorityKeyIdentifier = keyid,issuer"
		if [ "$kind" = ca ]; then
			echo "basicConstraints = critical, CA:TRUE"
			echo "keyUsage = critical, keyCertSign, cRLSign"
		else
			echo "basicConstraints = critical, CA:FALSE"
			echo "keyUsage = critical, digitalSignature, keyEncipherment"
			echo "extendedKeyUsage = serverAuth"
			echo "subjectAltName = @san"
			echo "[san]"
			local i=0 s
			for s in "$@"; do
				i=$((i + 1))
				case $s in
				*:*|[0-9]*.[0-9]*) echo "IP.$i = $s" ;;
				*) echo "DNS.$i = $s" ;;
				esac
			done
		fi
	} >"$f"
}

# tls_key NAME ec|rsa4096
tls_key() {
	if [ "$2" = rsa4096 ]; then
		openssl genpkey -quiet -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$TLS_DIR/$1.key"
	else
		openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS_DIR/$1.key"
	fi
}

# tls_cert NAME CN ISSUER ca|leaf KEYTYPE [SAN...]: key, request, then the
# certificate signed by ISSUER's key (ISSUER = NAME: self-signed), valid
# from now for ten years.
tls_cert() {
	local name=$1 cn=$2 issuer=$3 kind=$4 kt=$5 d=$TLS_DIR
	shift 5
	tls_key "$name" "$kt" || return 1
	tls_ext "$name" "$kind" "$@"
	openssl req -new -config "$d/openssl.cnf" -key "$d/$name.key" -subj "/CN=$cn" \
		-out "$d/$name.csr" || return 1
	if [ "$issuer" = "$name" ]; then
		openssl x509 -req -in "$d/$name.csr" -signkey "$d/$name.key" -days 3650 \
			-set_serial "0x$(openssl rand -hex 8)" -extfile "$d/$name.ext" -extensions ext \
			-out "$d/$name.crt" 2>/dev/null || return 1
	else
		openssl x509 -req -in "$d/$name.csr" -CA "$d/$issuer.crt" -CAkey "$d/$issuer.key" \
			-days 3650 -set_serial "0x$(openssl rand -hex 8)" -extfile "$d/$name.ext" \
			-extensions ext -out "$d/$name.crt" 2>/dev/null || return 1
	fi
}

# tls_certs: every certificate above, into $TLS_DIR.
tls_certs() {
	local d=$TLS_DIR ips="$S4 $S6 $LS4 $LS6" i sans
	mkdir -p "$d"
	tls_cnf
	tls_cert ca "tcpshake test root CA" ca ca ec || return 1
	tls_cert int "tcpshake test intermediate CA" ca ca ec || return 1
	# shellcheck disable=SC2086
	tls_cert leaf "$TLS_NAME" int leaf ec "$TLS_NAME" $ips || return 1
	# shellcheck disable=SC2086
	tls_cert other other.test int leaf ec other.test || return 1
	# shellcheck disable=SC2086
	tls_cert self "$TLS_NAME" self leaf ec "$TLS_NAME" $ips || return 1
	# expired: OpenSSL 3.0's x509 cannot set dates in the past; its ca can
	tls_key expired ec && tls_ext expired leaf "$TLS_NAME" $ips || return 1
	openssl req -new -config "$d/openssl.cnf" -key "$d/expired.key" -subj "/CN=$TLS_NAME" \
		-out "$d/expired.csr" || return 1
	openssl ca -batch -notext -config "$d/openssl.cnf" -cert "$d/int.crt" -keyfile "$d/int.key" \
		-startdate 20200101000000Z -enddate 20200401000000Z -extfile "$d/expired.ext" \
		-extensions ext -in "$d/expired.csr" -out "$d/expired.crt" 2>/dev/null || return 1
	# the long chain: RSA 4096 all the way, and many names
	sans="$TLS_NAME $ips"
	for i in $(seq "$TLS_LONG_SANS"); do sans="$sans host-$i.long-chain.tls.test"; done
	tls_cert longint1 "tcpshake test long-chain intermediate 1" ca ca rsa4096 || return 1
	tls_cert longint2 "tcpshake test long-chain intermediate 2" longint1 ca rsa4096 || return 1
	# shellcheck disable=SC2086
	tls_cert long "$TLS_NAME" longint2 leaf rsa4096 $sans || return 1
	for i in leaf expired other; do cat "$d/$i.crt" "$d/int.crt" >"$d/$i-chain.pem"; done
	cat "$d/self.crt" >"$d/self-chain.pem"
	cat "$d/long.crt" "$d/longint2.crt" "$d/longint1.crt" >"$d/long-chain.pem"
	cp "$d/leaf.crt" "$d/nochain-chain.pem"
	cp "$d/leaf.key" "$d/nochain.key"
}

# tls_nginx: one nginx for every TLS port (see the table above).
tls_nginx() {
	local d="$BED_DIR/tls-nginx" t=$TLS_DIR servers="" p cert protos
	command -v nginx >/dev/null || { echo "SKIP: needs nginx (nginx-light)"; exit 77; }
	mkdir -p "$d/tmp"
	for p in "$TLS_PORT_TLS12 leaf TLSv1.2" "$TLS_PORT_TLS13 leaf TLSv1.3" \
		"$TLS_PORT_EXPIRED expired" "$TLS_PORT_WRONGNAME other" "$TLS_PORT_SELFSIGNED self" \
		"$TLS_PORT_GOOD leaf" "$TLS_PORT_LONGCHAIN long" "$TLS_PORT_NOCHAIN nochain"; do
		# shellcheck disable=SC2086
		set -- $p
		cert=$2 protos=${3:-TLSv1.2 TLSv1.3}
		servers="$servers	server {
		listen $1 ssl; listen [::]:$1 ssl ipv6only=on;
		server_name $TLS_NAME;
		ssl_certificate $t/$cert-chain.pem;
		ssl_certificate_key $t/$cert.key;
		ssl_protocols $protos;
		location / { return 200 \"ok\\n\"; }
	}
"
	done
	servers="$servers	server {
		listen $TLS_PORT_HTTP; listen [::]:$TLS_PORT_HTTP ipv6only=on;
		location / { return 200 \"ok\\n\"; }
	}
"
	cat >"$d/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 1024; }
http {
	access_log $d/access.log;
	client_body_temp_path $d/tmp/body;
	proxy_temp_path $d/tmp/proxy;
	fastcgi_temp_path $d/tmp/fastcgi;
	uwsgi_temp_path $d/tmp/uwsgi;
	scgi_temp_path $d/tmp/scgi;
$servers}
EOF
	ip netns exec "$BED_S" nginx -e "$d/error.log" -c "$d/nginx.conf" >"$d/stdout" 2>&1 &
	tls_wait_port "$TLS_PORT_HTTP" || {
		echo "nginx (TLS) did not start: $(cat "$d/error.log" "$d/stdout" 2>/dev/null)"
		exit 99
	}
}

# tls_wait_port PORT: until the client can connect to the server's PORT (10 s)
tls_wait_port() {
	local i
	for i in $(seq 100); do
		ip netns exec "$BED_C" python3 -c \
			"import socket; socket.create_connection(('$TLS_ADDR4', $1), 0.2)" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	return 1
}

# tls_bed_starttls MODE PORT [OPTION...]: a STARTTLS responder (smtp, imap,
# pop3) on the server's PORT, with leaf-chain; its log $BED_DIR/starttls-PORT.log.
tls_bed_starttls() {
	local mode=$1 port=$2 log="$BED_DIR/starttls-$2.log" i
	shift 2
	ip netns exec "$BED_S" python3 "$TOPSRC/tests/lib/starttls_server.py" "$mode" "$port" "$log" \
		--cert "$TLS_DIR/leaf-chain.pem" --key "$TLS_DIR/leaf.key" "$@" \
		>"$BED_DIR/starttls-$port.out" 2>&1 &
	for i in $(seq 100); do
		grep -q '^ready' "$log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "starttls responder $mode on $port did not start: $(cat "$BED_DIR/starttls-$port.out")"
	exit 99
}

# tls_bed_up: the whole TLS bed on bed_up's or bed_lossy_up's network.
tls_bed_up() {
	command -v openssl >/dev/null || { echo "SKIP: needs openssl"; exit 77; }
	TLS_DIR="$BED_DIR/tls" TLS_CA="$BED_DIR/tls/ca.crt"
	if [ -n "${BED_M:-}" ] && ip netns list | grep -qw "$BED_M"; then
		TLS_ADDR4=$LS4 TLS_ADDR6=$LS6
	else
		TLS_ADDR4=$S4 TLS_ADDR6=$S6
	fi
	tls_certs >"$BED_DIR/tls-certs.log" 2>&1 || {
		echo "making the certificates failed: $(cat "$BED_DIR/tls-certs.log")"
		exit 99
	}
	tls_nginx
	tls_bed_starttls smtp "$TLS_PORT_SMTP"
	tls_bed_starttls imap "$TLS_PORT_IMAP"
	tls_bed_starttls pop3 "$TLS_PORT_POP3"
	export TLS_NAME TLS_DIR TLS_CA TLS_ADDR4 TLS_ADDR6 TLS_PORTS TLS_PORT_TLS12 TLS_PORT_TLS13 \
		TLS_PORT_EXPIRED TLS_PORT_WRONGNAME TLS_PORT_SELFSIGNED TLS_PORT_GOOD \
		TLS_PORT_LONGCHAIN TLS_PORT_NOCHAIN TLS_PORT_HTTP TLS_PORT_SMTP TLS_PORT_IMAP \
		TLS_PORT_POP3
}

# tls_bed_ports: the port map, one "NAME=PORT" a line (for logs and reports).
tls_bed_ports() {
	local v
	for v in TLS_PORT_TLS12 TLS_PORT_TLS13 TLS_PORT_EXPIRED TLS_PORT_WRONGNAME \
		TLS_PORT_SELFSIGNED TLS_PORT_GOOD TLS_PORT_LONGCHAIN TLS_PORT_NOCHAIN TLS_PORT_HTTP \
		TLS_PORT_SMTP TLS_PORT_IMAP TLS_PORT_POP3; do
		eval "echo $v=\$$v"
	done
}
