/* tls.c - the memory-driven TLS client: OpenSSL over a pair of memory
 * BIOs (see tls.h). */
#include "tls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decrypted bytes held for tls_read(); past this we stop decrypting and the
 * ciphertext waits in the read BIO until the caller drains us. */
#define APP_IN_MAX (64 * 1024)

struct tls_conn {
	SSL *ssl;
	BIO *rbio; /* ciphertext from the server; owned by ssl */
	BIO *wbio; /* ciphertext for the server; owned by ssl */
	const struct tls_ctx *ctx;
	enum tls_state state;
	char host[TLS_SAN_LEN]; /* the name or address the leaf is checked against */
	bool host_is_ip;
	time_t now;      /* when the certificate is judged; 0: the library's clock */
	unsigned events; /* TLS_EV_* gathered during the current call */
	int alert_in;    /* the peer's last alert description; -1: none */
	bool close_sent; /* our close_notify is queued */
	bool peer_closed; /* theirs came */
	struct tls_marks marks;
	uint8_t *app;
	size_t app_len, app_cap;
	struct tls_result result;
};

/* ---- small helpers ----------------------------------------------------- */

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Untrusted text from a certificate, made printable ASCII for any output. */
static void copy_printable(char *dst, size_t len, const unsigned char *src, size_t n)
{
	size_t i;
	for (i = 0; i < n && i + 1 < len; i++)
		dst[i] = (src[i] >= 0x20 && src[i] < 0x7f) ? (char)src[i] : '?';
	dst[i] = '\0';
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* OpenSSL's reason for the newest error in this thread's queue. */
static void openssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;
	if (r)
		copy_str(buf, len, r);
	else if (e)
		ERR_error_string_n(e, buf, len);
	else
		copy_str(buf, len, "");
}

int64_t tls_days_left(int64_t not_after, int64_t now)
{
	int64_t d = not_after - now;
	/* floor, not truncation: one second past expiry is day -1 */
	return d >= 0 ? d / 86400 : -((-d + 86399) / 86400);
}

/* ---- names ------------------------------------------------------------- */

static const struct {
	int desc;
	const char *name;
} alert_names[] = {
	{ 0, "close_notify" },
	{ 10, "unexpected_message" },
	{ 20, "bad_record_mac" },
	{ 21, "decryption_failed" },
	{ 22, "record_overflow" },
	{ 40, "handshake_failure" },
	{ 42, "bad_certificate" },
	{ 43, "unsupported_certificate" },
	{ 44, "certificate_revoked" },
	{ 45, "certificate_expired" },
	{ 46, "certificate_unknown" },
	{ 47, "illegal_parameter" },
	{ 48, "unknown_ca" },
	{ 49, "access_denied" },
	{ 50, "decode_error" },
	{ 51, "decrypt_error" },
	{ 70, "protocol_version" },
	{ 71, "insufficient_security" },
	{ 80, "internal_error" },
	{ 86, "inappropriate_fallback" },
	{ 90, "user_canceled" },
	{ 100, "no_renegotiation" },
	{ 109, "missing_extension" },
	{ 110, "unsupported_extension" },
	{ 112, "unrecognized_name" },
	{ 113, "bad_certificate_status_response" },
	{ 115, "unknown_psk_identity" },
	{ 116, "certificate_required" },
	{ 120, "no_application_protocol" },
};

const char *tls_alert_name(int desc)
{
	for (size_t i = 0; i < sizeof(alert_names) / sizeof(alert_names[0]); i++)
		if (alert_names[i].desc == desc)
			return alert_names[i].name;
	return NULL;
}

static const struct {
	long code;
	const char *name;
} verify_names[] = {
	{ X509_V_ERR_CERT_HAS_EXPIRED, "expired" },
	{ X509_V_ERR_CERT_NOT_YET_VALID, "not-yet-valid" },
	{ X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed" },
	/* a root the server sent, but not one we trust */
	{ X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN, "unknown-ca" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT, "unknown-ca" },
	{ X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY, "unknown-ca" },
	{ X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE, "unknown-ca" },
	{ X509_V_ERR_CERT_UNTRUSTED, "unknown-ca" },
	{ X509_V_ERR_HOSTNAME_MISMATCH, "name-mismatch" },
	{ X509_V_ERR_IP_ADDRESS_MISMATCH, "name-mismatch" },
};

const char *tls_verify_reason(long code)
{
	if (code == X509_V_OK)
		return "";
	for (size_t i = 0; i < sizeof(verify_names) / sizeof(verify_names[0]); i++)
		if (verify_names[i].code == code)
			return verify_names[i].name;
	return "bad-cert"; /* bad signature, wrong purpose, weak key...: verify_error says */
}

/* ---- the context ------------------------------------------------------- */

/* "h2,http/1.1" -> the wire's length-prefixed list; its length, or -1. */
static int alpn_wire(const char *list, unsigned char *out, size_t outlen)
{
	size_t n = 0;
	const char *p = list;
	for (;;) {
		size_t l = strcspn(p, ",");
		if (l == 0 || l > 255 || n + 1 + l > outlen)
			return -1;
		out[n++] = (unsigned char)l;
		memcpy(out + n, p, l);
		n += l;
		if (p[l] == '\0')
			return (int)n;
		p += l + 1;
	}
}

static int ctx_versions(SSL_CTX *s, const struct tls_params *p, char *err, size_t errlen)
{
	if (p->min_version && !SSL_CTX_set_min_proto_version(s, p->min_version)) {
		set_err(err, errlen, "TLS minimum version 0x%x not supported", p->min_version);
		return -1;
	}
	if (p->max_version && !SSL_CTX_set_max_proto_version(s, p->max_version)) {
		set_err(err, errlen, "TLS maximum version 0x%x not supported", p->max_version);
		return -1;
	}
	return 0;
}

static int ctx_alpn(SSL_CTX *s, const char *alpn, char *err, size_t errlen)
{
	unsigned char wire[1024];
	if (!alpn || !*alpn)
		return 0;
	int n = alpn_wire(alpn, wire, sizeof(wire));
	/* SSL_CTX_set_alpn_protos returns 0 on success */
	if (n < 0 || SSL_CTX_set_alpn_protos(s, wire, (unsigned)n) != 0) {
		set_err(err, errlen, "bad ALPN list '%s': comma-separated names of 1-255 bytes", alpn);
		return -1;
	}
	return 0;
}

static int ctx_trust(SSL_CTX *s, const char *ca_file, char *err, size_t errlen)
{
	char why[128];
	if (ca_file) {
		if (SSL_CTX_load_verify_locations(s, ca_file, NULL) == 1)
			return 0;
		openssl_reason(why, sizeof(why));
		set_err(err, errlen, "CA file %s: %s", ca_file, why);
		return -1;
	}
	if (SSL_CTX_set_default_verify_paths(s) == 1)
		return 0;
	openssl_reason(why, sizeof(why));
	set_err(err, errlen, "system trust store: %s", why);
	return -1;
}

int tls_ctx_init(struct tls_ctx *ctx, const struct tls_params *p, char *err, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	ERR_clear_error();
	SSL_CTX *s = SSL_CTX_new(TLS_client_method());
	if (!s) {
		set_err(err, errlen, "SSL_CTX_new failed");
		return -1;
	}
	/* Verification is recorded, never fatal: the report shows a bad
	 * chain's details, and the caller decides what fails the check. */
	SSL_CTX_set_verify(s, SSL_VERIFY_NONE, NULL);
	/* every probe pays a full handshake, so every probe times the same thing */
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	if (ctx_versions(s, p, err, errlen) < 0 || ctx_alpn(s, p->alpn, err, errlen) < 0 ||
	    ctx_trust(s, p->ca_file, err, errlen) < 0) {
		SSL_CTX_free(s);
		ERR_clear_error();
		return -1;
	}
	ctx->ssl = s;
	ctx->insecure = p->insecure;
	ERR_clear_error(); /* what the store's loading noted is no later call's error */
	return 0;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
	SSL_CTX_free(ctx->ssl);
	ctx->ssl = NULL;
}

/* ---- milestones, from OpenSSL's message callback ------------------------ */

/* Bytes of the in stream OpenSSL has consumed: the end of the record it is
 * processing, since without read-ahead it reads record by record. */
static uint64_t in_consumed(const struct tls_conn *c)
{
	return c->marks.in_total - BIO_ctrl_pending(c->rbio);
}

static void on_handshake_msg(struct tls_conn *c, const unsigned char *m, size_t len)
{
	if (len < 1)
		return;
	if (m[0] == SSL3_MT_SERVER_HELLO && !c->marks.server_hello_end) {
		c->marks.server_hello_end = in_consumed(c);
		c->events |= TLS_EV_SERVER_HELLO;
	} else if (m[0] == SSL3_MT_FINISHED && !c->marks.server_finished_end) {
		c->marks.server_finished_end = in_consumed(c);
	}
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
		   SSL *ssl, void *arg)
{
	(void)version, (void)ssl;
	struct tls_conn *c = arg;
	if (write_p)
		return;
	if (content_type == SSL3_RT_HANDSHAKE)
		on_handshake_msg(c, buf, len);
	else if (content_type == SSL3_RT_ALERT && len == 2)
		c->alert_in = ((const unsigned char *)buf)[1];
}

/* ---- the certificate ----------------------------------------------------- */

static void name_text(const X509_NAME *n, char *out, size_t len)
{
	out[0] = '\0';
	BIO *b = BIO_new(BIO_s_mem());
	if (!b)
		return;
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) {
		char *p;
		long l = BIO_get_mem_data(b, &p);
		copy_printable(out, len, (const unsigned char *)p, l > 0 ? (size_t)l : 0);
	}
	BIO_free(b);
}

static void san_add(struct tls_result *r, enum tls_san_kind kind, const char *s, size_t n)
{
	r->san_total++;
	if (r->san_count >= TLS_SAN_MAX)
		return;
	struct tls_san *san = &r->sans[r->san_count++];
	san->kind = kind;
	copy_printable(san->name, sizeof(san->name), (const unsigned char *)s, n);
	size_t used = strlen(r->sans_text);
	snprintf(r->sans_text + used, sizeof(r->sans_text) - used, "%s%s:%s", used ? "," : "",
		 kind == TLS_SAN_IP ? "IP" : "DNS", san->name);
}

static void san_ip(struct tls_result *r, const ASN1_OCTET_STRING *ip)
{
	char text[INET6_ADDRSTRLEN];
	int len = ASN1_STRING_length(ip);
	const unsigned char *b = ASN1_STRING_get0_data(ip);
	int af = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
	if (af && inet_ntop(af, b, text, sizeof(text)))
		san_add(r, TLS_SAN_IP, text, strlen(text));
}

static void cert_sans(X509 *leaf, struct tls_result *r)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		if (g->type == GEN_DNS)
			san_add(r, TLS_SAN_DNS, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
				(size_t)ASN1_STRING_length(g->d.dNSName));
		else if (g->type == GEN_IPADD)
			san_ip(r, g->d.iPAddress);
	}
	GENERAL_NAMES_free(names);
}

static int64_t asn1_epoch(const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static void key_text(X509 *leaf, char *out, size_t len)
{
	EVP_PKEY *k = X509_get0_pubkey(leaf);
	char group[32];
	size_t glen;
	if (!k) {
		copy_str(out, len, "");
		return;
	}
	int bits = EVP_PKEY_get_bits(k);
	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_RSA:
		snprintf(out, len, "RSA %d", bits);
		break;
	case EVP_PKEY_RSA_PSS:
		snprintf(out, len, "RSA-PSS %d", bits);
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(k, group, sizeof(group), &glen))
			copy_str(group, sizeof(group), "unknown");
		snprintf(out, len, "EC %d %s", bits, group);
		break;
	case EVP_PKEY_ED25519:
		copy_str(out, len, "ED25519");
		break;
	case EVP_PKEY_ED448:
		copy_str(out, len, "ED448");
		break;
	case EVP_PKEY_DSA:
		snprintf(out, len, "DSA %d", bits);
		break;
	default: {
		const char *sn = OBJ_nid2sn(EVP_PKEY_get_base_id(k));
		snprintf(out, len, "%s %d", sn ? sn : "unknown", bits);
	}
	}
}

/* blackbox's probe_ssl_earliest_cert_expiry: over the chain as the server
 * sent it (the client's view includes the leaf). */
static int64_t chain_earliest(const SSL *ssl, int64_t leaf_not_after)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	int64_t min = leaf_not_after;
	for (int i = 0; i < sk_X509_num(chain); i++) {
		int64_t t = asn1_epoch(X509_get0_notAfter(sk_X509_value(chain, i)));
		if (t && t < min)
			min = t;
	}
	return min;
}

static bool host_matches(const struct tls_conn *c, X509 *leaf)
{
	if (c->host_is_ip)
		return X509_check_ip_asc(leaf, c->host, 0) == 1;
	return X509_check_host(leaf, c->host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
}

static void cert_verdicts(const struct tls_conn *c, X509 *leaf, struct tls_result *r)
{
	r->verify_code = SSL_get_verify_result(c->ssl);
	r->verify_ok = r->verify_code == X509_V_OK;
	copy_str(r->verify_error, sizeof(r->verify_error),
		 X509_verify_cert_error_string(r->verify_code));
	r->hostname_checked = c->host[0] != '\0';
	r->hostname_ok = r->hostname_checked && host_matches(c, leaf);
	/* the chain's verdict first: a name on an untrusted chain means nothing */
	if (!r->verify_ok)
		copy_str(r->cert_reason, sizeof(r->cert_reason), tls_verify_reason(r->verify_code));
	else if (r->hostname_checked && !r->hostname_ok)
		copy_str(r->cert_reason, sizeof(r->cert_reason), "name-mismatch");
}

static void cert_details(const struct tls_conn *c, int64_t now, struct tls_result *r)
{
	X509 *leaf = SSL_get0_peer_certificate(c->ssl);
	r->cert_present = leaf != NULL;
	if (!leaf) {
		copy_str(r->cert_reason, sizeof(r->cert_reason), "no-cert");
		return;
	}
	name_text(X509_get_subject_name(leaf), r->subject, sizeof(r->subject));
	name_text(X509_get_issuer_name(leaf), r->issuer, sizeof(r->issuer));
	cert_sans(leaf, r);
	r->not_before = asn1_epoch(X509_get0_notBefore(leaf));
	r->not_after = asn1_epoch(X509_get0_notAfter(leaf));
	r->chain_not_after = chain_earliest(c->ssl, r->not_after);
	r->days_left = tls_days_left(r->not_after, now);
	key_text(leaf, r->key, sizeof(r->key));
	cert_verdicts(c, leaf, r);
}

static void session_details(const struct tls_conn *c, struct tls_result *r)
{
	const unsigned char *p;
	unsigned int n;
	copy_str(r->version, sizeof(r->version), SSL_get_version(c->ssl));
	copy_str(r->cipher, sizeof(r->cipher), SSL_get_cipher_name(c->ssl));
	SSL_get0_alpn_selected(c->ssl, &p, &n);
	copy_printable(r->alpn, sizeof(r->alpn), p, p ? n : 0);
	long len = SSL_get_tlsext_status_ocsp_resp(c->ssl, &p);
	r->ocsp_stapled = len > 0 && p;
	r->ocsp_len = r->ocsp_stapled ? (size_t)len : 0;
}

/* ---- state changes -------------------------------------------------------- */

/* The time the verifier judged the chain at, so days_left agrees with it;
 * the clock is read only when the caller left it to the library. */
static int64_t judged_at(const struct tls_conn *c)
{
	return c->now ? (int64_t)c->now : (int64_t)time(NULL);
}

static void conn_fail(struct tls_conn *c, const char *error, const char *detail)
{
	struct tls_result *r = &c->result;
	c->state = TLS_FAILED;
	c->events |= TLS_EV_FAILED;
	copy_str(r->error, sizeof(r->error), error);
	copy_str(r->error_detail, sizeof(r->error_detail), detail);
	ERR_clear_error();
}

/* An SSL call failed with SSL_get_error()'s 'err': name why. */
static void conn_fail_ssl(struct tls_conn *c, int err)
{
	char error[48], detail[128];
	openssl_reason(detail, sizeof(detail));
	const char *alert = c->alert_in >= 0 ? tls_alert_name(c->alert_in) : NULL;
	const char *prefix = c->state == TLS_HANDSHAKING ? "handshake-alert" : "alert";
	if (c->alert_in >= 0 && alert)
		snprintf(error, sizeof(error), "%s:%s", prefix, alert);
	else if (c->alert_in >= 0)
		snprintf(error, sizeof(error), "%s:%d", prefix, c->alert_in);
	else if (err == SSL_ERROR_SSL)
		copy_str(error, sizeof(error), "protocol");
	else
		copy_str(error, sizeof(error), "internal");
	/* a failed handshake keeps the certificate it got, if any */
	if (c->state == TLS_HANDSHAKING && SSL_get0_peer_certificate(c->ssl))
		cert_details(c, judged_at(c), &c->result);
	conn_fail(c, error, detail);
}

static void conn_established(struct tls_conn *c)
{
	struct tls_result *r = &c->result;
	c->state = TLS_ESTABLISHED;
	c->events |= TLS_EV_ESTABLISHED;
	session_details(c, r);
	cert_details(c, judged_at(c), r);
	if (!c->ctx->insecure)
		copy_str(r->error, sizeof(r->error), r->cert_reason);
}

/* ---- driving OpenSSL --------------------------------------------------------- */

static void handshake_step(struct tls_conn *c)
{
	ERR_clear_error();
	int rc = SSL_do_handshake(c->ssl);
	if (rc == 1) {
		conn_established(c);
		return;
	}
	int err = SSL_get_error(c->ssl, rc);
	if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
		conn_fail_ssl(c, err);
}

static bool app_room(struct tls_conn *c)
{
	if (c->app_len < c->app_cap)
		return true;
	if (c->app_cap >= APP_IN_MAX)
		return false;
	size_t cap = c->app_cap ? c->app_cap * 2 : 4096;
	if (cap > APP_IN_MAX)
		cap = APP_IN_MAX;
	uint8_t *p = realloc(c->app, cap);
	if (!p)
		return false;
	c->app = p;
	c->app_cap = cap;
	return true;
}

/* Decrypt what has arrived: application bytes, tickets, alerts, closure. */
static void read_step(struct tls_conn *c)
{
	while (c->state == TLS_ESTABLISHED && app_room(c)) {
		size_t n = 0;
		ERR_clear_error();
		if (SSL_read_ex(c->ssl, c->app + c->app_len, c->app_cap - c->app_len, &n) == 1) {
			c->app_len += n;
			c->events |= TLS_EV_APP_DATA;
			continue;
		}
		int err = SSL_get_error(c->ssl, 0);
		if (err == SSL_ERROR_ZERO_RETURN) {
			c->state = TLS_CLOSED;
			c->peer_closed = true;
			c->events |= TLS_EV_CLOSED;
		} else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
			conn_fail_ssl(c, err);
		}
		return;
	}
}

/* After our close_notify the server may still speak: a TLS 1.3 server
 * judges our Finished after we have sent it (a client certificate it
 * requires, a Finished it cannot verify) and says so with an alert, which
 * fails the check. Read, and drop, what comes until its close_notify. */
static void drain_step(struct tls_conn *c)
{
	uint8_t sink[4096];
	for (;;) {
		size_t n = 0;
		ERR_clear_error();
		if (SSL_read_ex(c->ssl, sink, sizeof(sink), &n) == 1)
			continue;
		int err = SSL_get_error(c->ssl, 0);
		if (err == SSL_ERROR_ZERO_RETURN) {
			c->peer_closed = true;
			c->events |= TLS_EV_CLOSED;
		} else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
			conn_fail_ssl(c, err);
		}
		return;
	}
}

static unsigned conn_step(struct tls_conn *c)
{
	if (c->state == TLS_HANDSHAKING)
		handshake_step(c);
	if (c->state == TLS_ESTABLISHED)
		read_step(c);
	else if (c->state == TLS_CLOSED && c->close_sent && !c->peer_closed)
		drain_step(c);
	if (BIO_ctrl_pending(c->wbio))
		c->events |= TLS_EV_OUTPUT;
	unsigned ev = c->events;
	c->events = 0;
	return ev;
}

/* ---- the connection ------------------------------------------------------------ */

static bool is_ip_literal(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* SNI for names only (RFC 6066 3: never an IP literal). */
static int conn_target(struct tls_conn *c, const char *host)
{
	if (!host || !*host)
		return 0;
	copy_str(c->host, sizeof(c->host), host);
	c->host_is_ip = is_ip_literal(host);
	if (!c->host_is_ip && SSL_set_tlsext_host_name(c->ssl, host) != 1)
		return -1;
	return 0;
}

static int conn_ssl(struct tls_conn *c, time_t now)
{
	c->ssl = SSL_new(c->ctx->ssl);
	c->rbio = BIO_new(BIO_s_mem());
	c->wbio = BIO_new(BIO_s_mem());
	if (!c->ssl || !c->rbio || !c->wbio) {
		BIO_free(c->rbio);
		BIO_free(c->wbio);
		return -1;
	}
	/* an empty read BIO means "wait for more", not end of file */
	BIO_set_mem_eof_return(c->rbio, -1);
	SSL_set_bio(c->ssl, c->rbio, c->wbio);
	SSL_set_connect_state(c->ssl);
	SSL_set_msg_callback(c->ssl, msg_cb);
	SSL_set_msg_callback_arg(c->ssl, c);
	SSL_set_tlsext_status_type(c->ssl, TLSEXT_STATUSTYPE_ocsp);
	if (now)
		X509_VERIFY_PARAM_set_time(SSL_get0_param(c->ssl), now);
	return 0;
}

struct tls_conn *tls_conn_new(const struct tls_ctx *ctx, const char *host, time_t now)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ctx = ctx;
	c->now = now;
	c->alert_in = -1;
	c->state = TLS_HANDSHAKING;
	ERR_clear_error();
	if (conn_ssl(c, now) < 0 || conn_target(c, host) < 0) {
		tls_conn_free(c);
		ERR_clear_error();
		return NULL;
	}
	conn_step(c); /* writes the ClientHello */
	c->marks.client_hello_len = BIO_ctrl_pending(c->wbio);
	return c;
}

void tls_conn_free(struct tls_conn *c)
{
	if (!c)
		return;
	SSL_free(c->ssl); /* and both BIOs */
	free(c->app);
	free(c);
}

size_t tls_pending_out(const struct tls_conn *c)
{
	return BIO_ctrl_pending(c->wbio);
}

size_t tls_take_out(struct tls_conn *c, uint8_t *buf, size_t len)
{
	size_t n = 0;
	if (len == 0 || BIO_read_ex(c->wbio, buf, len, &n) != 1)
		return 0;
	c->marks.out_total += n;
	return n;
}

unsigned tls_feed(struct tls_conn *c, const uint8_t *in, size_t len)
{
	if (c->state == TLS_FAILED || (c->state == TLS_CLOSED && (c->peer_closed || !c->close_sent)))
		return 0;
	while (len > 0) {
		size_t n = 0;
		if (BIO_write_ex(c->rbio, in, len, &n) != 1) {
			conn_fail(c, "internal", "out of memory");
			return conn_step(c);
		}
		c->marks.in_total += n;
		in += n;
		len -= n;
	}
	return conn_step(c);
}

unsigned tls_eof(struct tls_conn *c)
{
	if (c->state == TLS_HANDSHAKING) {
		conn_fail(c, "eof", "connection closed during the handshake");
	} else if (c->state == TLS_ESTABLISHED) {
		c->state = TLS_CLOSED;
		c->events |= TLS_EV_CLOSED;
	}
	return conn_step(c);
}

void tls_timeout(struct tls_conn *c)
{
	if (c->state == TLS_HANDSHAKING)
		conn_fail(c, "timeout", "no complete handshake within the timeout");
}

const char *tls_check_error(const struct tls_result *r)
{
	if (r->error[0])
		return r->error;
	return r->version[0] ? NULL : "incomplete"; /* cut short: a reset, a lost path */
}

int tls_write(struct tls_conn *c, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	if (c->state != TLS_ESTABLISHED)
		return -1;
	ERR_clear_error();
	if (len && (SSL_write_ex(c->ssl, buf, len, &n) != 1 || n != len)) {
		conn_fail_ssl(c, SSL_get_error(c->ssl, 0));
		return -1;
	}
	return 0;
}

size_t tls_read(struct tls_conn *c, uint8_t *buf, size_t len)
{
	size_t n = len < c->app_len ? len : c->app_len;
	if (n == 0)
		return 0; /* and c->app may not exist yet: no memcpy from NULL */
	memcpy(buf, c->app, n);
	memmove(c->app, c->app + n, c->app_len - n);
	c->app_len -= n;
	/* room again: decrypt what waited for it */
	if (c->state == TLS_ESTABLISHED)
		read_step(c);
	c->events = 0;
	return n;
}

int tls_close(struct tls_conn *c)
{
	/* established, or closed by the peer's close_notify: ours answers it */
	if (c->close_sent || (c->state != TLS_ESTABLISHED && c->state != TLS_CLOSED))
		return -1;
	c->close_sent = true;
	ERR_clear_error();
	/* 0: our close_notify is queued, the peer's not yet seen; fine */
	if (SSL_shutdown(c->ssl) < 0) {
		ERR_clear_error();
		return -1;
	}
	c->state = TLS_CLOSED;
	return 0;
}

enum tls_state tls_state(const struct tls_conn *c)
{
	return c->state;
}

const struct tls_result *tls_result(const struct tls_conn *c)
{
	return &c->result;
}

const struct tls_marks *tls_marks(const struct tls_conn *c)
{
	return &c->marks;
}
