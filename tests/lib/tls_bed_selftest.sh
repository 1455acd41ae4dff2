#!/bin/sh
# tls_bed_selftest.sh - brings the TLS bed (tls_bed.sh) up, checks every
# server in it from the client namespace with the openssl command, curl and
# Python's smtplib / imaplib / poplib, and takes it down; then does it again
# with a run that fails half way, and checks that both left nothing behind:
# no namespace, no process, no directory. Not part of make check (it makes
# three RSA 4096 keys: some 15 s of CPU). As root:
#   sh tests/lib/tls_bed_selftest.sh
TOPSRC=${TOPSRC:-$(cd "$(dirname "$0")/../.." && pwd)}

# leftovers ID DIR: what a run with bed id ID and directory DIR left behind
leftovers() {
	ip netns list | grep -F "$1" | sed 's/^/  namespace /'
	ps -eo pid=,args= | grep -F "$2" | grep -v grep | sed 's/^/  process /'
	[ -e "$2" ] && echo "  directory $2"
}

# ---- a run that passes ---------------------------------------------------------
. "$TOPSRC/tests/lib/bed.sh"
. "$TOPSRC/tests/lib/tls_bed.sh"
(
	bed_up
	tls_bed_up
	tls_bed_ports | tr '\n' ' '
	echo
	a=$TLS_ADDR4
	cli() { in_client timeout 10 "$@"; }

	# s_client PORT [ARGS...]: the verify code of a handshake with the test CA
	# and the name checked, or "failed" when there was no handshake
	s_client() {
		local port=$1 out
		shift
		out=$(cli openssl s_client -connect "$a:$port" -servername "$TLS_NAME" \
			-verify_hostname "$TLS_NAME" -CAfile "$TLS_CA" "$@" </dev/null 2>&1) ||
			{ echo failed; return; }
		echo "$out" | sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' | tail -1
	}
	protocol() { # PORT: the version s_client negotiated
		cli openssl s_client -connect "$a:$1" -servername "$TLS_NAME" </dev/null 2>/dev/null |
			sed -n 's/^New, \(TLSv[0-9.]*\), .*/\1/p' | head -1
	}
	expect_eq "good: verifies (0)" "$(s_client "$TLS_PORT_GOOD")" 0
	expect_eq "good: TLS 1.3 by default" "$(protocol "$TLS_PORT_GOOD")" TLSv1.3
	expect_eq "good over IPv6, IP SAN checked: 0" \
		"$(cli openssl s_client -connect "[$TLS_ADDR6]:$TLS_PORT_GOOD" -verify_ip "$TLS_ADDR6" \
			-CAfile "$TLS_CA" </dev/null 2>&1 | sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' |
			tail -1)" 0
	expect_eq "tls12: TLS 1.2 offered: 0" "$(s_client "$TLS_PORT_TLS12" -tls1_2)" 0
	expect_eq "tls12: TLS 1.3 only: no handshake" "$(s_client "$TLS_PORT_TLS12" -tls1_3)" failed
	expect_eq "tls12: negotiates 1.2" "$(protocol "$TLS_PORT_TLS12")" TLSv1.2
	expect_eq "tls13: TLS 1.3 offered: 0" "$(s_client "$TLS_PORT_TLS13" -tls1_3)" 0
	expect_eq "tls13: TLS 1.2 only: no handshake" "$(s_client "$TLS_PORT_TLS13" -tls1_2)" failed
	expect_eq "expired: certificate has expired (10)" "$(s_client "$TLS_PORT_EXPIRED")" 10
	expect_eq "wrongname: hostname mismatch (62)" "$(s_client "$TLS_PORT_WRONGNAME")" 62
	expect_eq "selfsigned: self-signed certificate (18)" "$(s_client "$TLS_PORT_SELFSIGNED")" 18
	expect_eq "nochain: unable to verify the first certificate (21)" \
		"$(s_client "$TLS_PORT_NOCHAIN")" 21
	expect_eq "longchain: verifies (0)" "$(s_client "$TLS_PORT_LONGCHAIN")" 0
	# the Certificate message's length as s_client -msg shows it (TLS 1.3:
	# the decrypted handshake message)
	len=$(cli openssl s_client -connect "$a:$TLS_PORT_LONGCHAIN" -servername "$TLS_NAME" -msg \
		</dev/null 2>/dev/null | sed -n 's/^<<< .*Handshake \[length \([0-9a-f]*\)\], Certificate$/\1/p' |
		head -1)
	check "longchain: Certificate message > 4 KB (0x${len:-none} bytes)" \
		test "$((0x${len:-0}))" -gt 4096
	for p in $TLS_PORT_TLS12 $TLS_PORT_TLS13 $TLS_PORT_EXPIRED $TLS_PORT_WRONGNAME \
		$TLS_PORT_SELFSIGNED $TLS_PORT_GOOD $TLS_PORT_LONGCHAIN $TLS_PORT_NOCHAIN; do
		expect_eq "curl -k -I https on $p: 200" "$(cli curl -s -k -I -o /dev/null -w '%{http_code}' \
			--resolve "$TLS_NAME:$p:$a" "https://$TLS_NAME:$p/")" 200
	done
	expect_eq "curl --cacert on good, name checked: 200" \
		"$(cli curl -s -I -o /dev/null -w '%{http_code}' --cacert "$TLS_CA" \
			--resolve "$TLS_NAME:$TLS_PORT_GOOD:$a" "https://$TLS_NAME:$TLS_PORT_GOOD/")" 200
	expect_eq "curl --cacert on expired: refused (60)" \
		"$(cli curl -s -I -o /dev/null --cacert "$TLS_CA" \
			--resolve "$TLS_NAME:$TLS_PORT_EXPIRED:$a" "https://$TLS_NAME:$TLS_PORT_EXPIRED/"; echo $?)" 60
	expect_eq "plain HTTP on $TLS_PORT_HTTP: 200" \
		"$(cli curl -s -I -o /dev/null -w '%{http_code}' "http://$a:$TLS_PORT_HTTP/")" 200

	# ---- STARTTLS -----------------------------------------------------------
	for m in smtp:$TLS_PORT_SMTP imap:$TLS_PORT_IMAP pop3:$TLS_PORT_POP3; do
		expect_eq "${m%:*}: s_client -starttls verifies (0)" \
			"$(s_client "${m#*:}" -starttls "${m%:*}")" 0
		check "${m%:*}: the responder logged the handshake" \
			grep -q '^tls TLSv1.3 .* sni=tls.test' "$BED_DIR/starttls-${m#*:}.log"
	done
	check "smtp: EHLO and STARTTLS received" sh -c \
		"grep -q \"^recv 'EHLO \" '$BED_DIR/starttls-25.log' && grep -q \"^recv 'STARTTLS'\" '$BED_DIR/starttls-25.log'"
	# several connections at once
	pids=
	for i in 1 2 3 4 5; do
		cli openssl s_client -connect "$a:$TLS_PORT_SMTP" -starttls smtp </dev/null >/dev/null 2>&1 &
		pids="$pids $!"
	done
	wait $pids
	expect_eq "smtp: 6 handshakes after 5 parallel connections" \
		"$(grep -c '^tls TLSv1.3' "$BED_DIR/starttls-25.log")" 6
	# the variants, judged by Python's own clients
	tls_bed_starttls smtp 2525 --refuse
	tls_bed_starttls smtp 2526 --no-starttls
	tls_bed_starttls smtp 2527 --multiline --split
	tls_bed_starttls imap 1143 --refuse --multiline
	tls_bed_starttls pop3 1110 --greeting-refuse
	tls_bed_starttls smtp 2528 --inject
	py() { cli python3 -c "$1" 2>&1 | tail -1; }
	expect_eq "smtp --refuse: 454" "$(py "import smtplib
s = smtplib.SMTP('$a', 2525)
try: s.starttls()
except smtplib.SMTPResponseException as e: print(e.smtp_code)")" 454
	expect_eq "smtp --no-starttls: not offered" "$(py "import smtplib
s = smtplib.SMTP('$a', 2526)
try: s.starttls()
except smtplib.SMTPNotSupportedError: print('not offered')")" "not offered"
	# s_client reads the go-ahead with one read(): not a client for --split
	expect_eq "smtp --multiline --split: smtplib verifies, TLS 1.3" "$(py "import smtplib, ssl
c = ssl.create_default_context(cafile='$TLS_CA')
s = smtplib.SMTP('$a', 2527); s._host = '$TLS_NAME'
s.starttls(context=c); print(s.sock.version())")" TLSv1.3
	expect_eq "smtp --split: the first read has one byte" "$(py "import socket
s = socket.create_connection(('$a', 2527)); print(len(s.recv(100)))")" 1
	check "smtp --multiline: a three-line greeting" grep -q "^send '220-a second line'" \
		"$BED_DIR/starttls-2527.log"
	expect_eq "imap --refuse: NO" "$(py "import imaplib
i = imaplib.IMAP4('$a', 1143)
try: i.starttls()
except imaplib.IMAP4.error as e: print(e)")" "Couldn't establish TLS session"
	check "imap --refuse --multiline: untagged lines, then NO" sh -c \
		"grep -A2 \"^send '\\* OK still here'\" '$BED_DIR/starttls-1143.log' | grep -q \"^send '[A-Z0-9]* NO TLS\""
	expect_eq "pop3 --greeting-refuse: -ERR" "$(py "import poplib
try: poplib.POP3('$a', 1110)
except poplib.error_proto as e: print(e.args[0].split()[0].decode())")" "-ERR"
	expect_eq "smtp --inject: text in the go-ahead's segment" "$(py "import socket
s = socket.create_connection(('$a', 2528)); f = s.makefile('rb')
f.readline(); s.sendall(b'EHLO x\r\n')
while f.readline()[3:4] == b'-': pass
s.sendall(b'STARTTLS\r\n'); print(f.readline().strip().decode(), '+', f.readline().strip().decode())")" \
		"220 2.0.0 Ready to start TLS + 250 injected before TLS"
	bed_finish
)
rc=$?
left=$(leftovers "$BED_ID" "$BED_DIR")
expect_eq "passing run: nothing left behind" "$left" ""

# ---- a run that fails half way --------------------------------------------------
. "$TOPSRC/tests/lib/bed.sh"
(
	bed_up
	tls_bed_up
	in_client openssl s_client -connect "$TLS_ADDR4:$TLS_PORT_SMTP" -starttls smtp </dev/null \
		>/dev/null 2>&1
	exit 1 # a failed check
) >/dev/null 2>&1
expect_eq "failing run: exit 1" "$?" 1
expect_eq "failing run: nothing left behind" "$(leftovers "$BED_ID" "$BED_DIR")" ""
[ "$rc" -eq 0 ] && [ "$BED_FAILS" -eq 0 ] && echo "tls bed self-test: ok" && exit 0
echo "tls bed self-test: FAILED"
exit 1
