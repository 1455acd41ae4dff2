/* The memory-driven TLS client against an OpenSSL server in the same
 * process, over memory BIOs: no socket, no network. Every key and
 * certificate is made here (a root CA, an intermediate, leaves), so the
 * verdicts depend on nothing installed. */
#include <criterion/criterion.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls.h"

#define DAY 86400L
/* every test judges certificates at this fixed time, so days_left is exact */
#define NOW ((time_t)1700000000)

/* ---- keys and certificates ------------------------------------------------ */

static EVP_PKEY *key_ec(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	cr_assert_not_null(k);
	return k;
}

static EVP_PKEY *key_rsa(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	cr_assert_not_null(k);
	return k;
}

static EVP_PKEY *key_ed25519(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	cr_assert_not_null(k);
	return k;
}

struct cert_spec {
	const char *cn;
	const char *san;   /* "DNS:a,IP:192.0.2.1"; NULL: none */
	long from, until;  /* validity, seconds from NOW */
	bool ca;
	long serial;
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	cr_assert_not_null(e, "extension %d=%s", nid, value);
	cr_assert(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

/* Signed by issuer/ikey; a self-signed certificate when issuer is NULL. */
static X509 *make_cert(const struct cert_spec *s, EVP_PKEY *key, X509 *issuer, EVP_PKEY *ikey)
{
	X509 *x = X509_new();
	cr_assert_not_null(x);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial ? s->serial : 1);
	time_t now = NOW;
	X509_time_adj(X509_getm_notBefore(x), s->from, &now);
	X509_time_adj(X509_getm_notAfter(x), s->until, &now);
	X509_NAME *n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"tcpshake test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)s->cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	X509 *signer = issuer ? issuer : x;
	add_ext(x, signer, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(x, signer, NID_key_usage,
		s->ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature,keyEncipherment");
	add_ext(x, signer, NID_subject_key_identifier, "hash");
	if (issuer)
		add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
	if (!s->ca)
		add_ext(x, signer, NID_ext_key_usage, "serverAuth");
	if (s->san)
		add_ext(x, signer, NID_subject_alt_name, s->san);
	EVP_PKEY *sk = issuer ? ikey : key;
	/* EdDSA signs without a separate digest */
	const EVP_MD *md = EVP_PKEY_get_base_id(sk) == EVP_PKEY_ED25519 ? NULL : EVP_sha256();
	cr_assert(X509_sign(x, sk, md) > 0);
	return x;
}

/* A root CA and an intermediate below it, and the root as a PEM file. */
struct pki {
	EVP_PKEY *root_key, *inter_key;
	X509 *root, *inter;
	char ca_file[64];
};

static struct pki pki;

static void pki_make(void)
{
	pki.root_key = key_ec();
	pki.inter_key = key_ec();
	struct cert_spec root = { "tcpshake test root", NULL, -1000 * DAY, 3650 * DAY, true, 1 };
	struct cert_spec inter = { "tcpshake test intermediate", NULL, -500 * DAY, 1000 * DAY, true, 2 };
	pki.root = make_cert(&root, pki.root_key, NULL, NULL);
	pki.inter = make_cert(&inter, pki.inter_key, pki.root, pki.root_key);
	snprintf(pki.ca_file, sizeof(pki.ca_file), "/tmp/tcpshake-tls-ca-XXXXXX");
	int fd = mkstemp(pki.ca_file);
	cr_assert(fd >= 0);
	FILE *f = fdopen(fd, "w");
	cr_assert_not_null(f);
	cr_assert(PEM_write_X509(f, pki.root));
	fclose(f);
}

static void pki_free(void)
{
	unlink(pki.ca_file);
	X509_free(pki.root);
	X509_free(pki.inter);
	EVP_PKEY_free(pki.root_key);
	EVP_PKEY_free(pki.inter_key);
}

TestSuite(tls, .init = pki_make, .fini = pki_free);

/* A leaf for "www.example.test" under the intermediate, 30 days and an
 * hour left at NOW. */
static const struct cert_spec good_leaf = {
	"www.example.test", "DNS:www.example.test,DNS:example.test,IP:192.0.2.7",
	-10 * DAY, 30 * DAY + 3600, false, 10,
};

/* ---- the server ------------------------------------------------------------ */

struct server_spec {
	const struct cert_spec *leaf;
	EVP_PKEY *key;     /* NULL: a P-256 key */
	bool self_signed;  /* the leaf signs itself, no chain */
	int min, max;      /* protocol versions; 0: the library's */
	bool alpn_h2;      /* choose h2 when offered */
	bool staple;       /* answer a status request with a (dummy) OCSP response */
	bool want_client_cert; /* and fail the handshake without one */
};

struct server {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rbio, *wbio;
	X509 *leaf;
	EVP_PKEY *key;
};

static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		       const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl, (void)arg;
	static const unsigned char h2[] = { 2, 'h', '2' };
	if (SSL_select_next_proto((unsigned char **)out, outlen, h2, sizeof(h2), in, inlen) ==
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_OK;
	return SSL_TLSEXT_ERR_NOACK;
}

/* OpenSSL passes the staple through without parsing it on either side. */
static int staple_cb(SSL *ssl, void *arg)
{
	(void)arg;
	static const unsigned char dummy[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
	unsigned char *resp = OPENSSL_memdup(dummy, sizeof(dummy));
	SSL_set_tlsext_status_ocsp_resp(ssl, resp, sizeof(dummy));
	return SSL_TLSEXT_ERR_OK;
}

static void server_start(struct server *s, const struct server_spec *sp)
{
	memset(s, 0, sizeof(*s));
	s->key = sp->key ? sp->key : key_ec();
	s->leaf = sp->self_signed ? make_cert(sp->leaf, s->key, NULL, NULL)
				  : make_cert(sp->leaf, s->key, pki.inter, pki.inter_key);
	s->ctx = SSL_CTX_new(TLS_server_method());
	cr_assert_not_null(s->ctx);
	cr_assert(SSL_CTX_use_certificate(s->ctx, s->leaf) == 1);
	cr_assert(SSL_CTX_use_PrivateKey(s->ctx, s->key) == 1);
	if (!sp->self_signed)
		cr_assert(SSL_CTX_add1_chain_cert(s->ctx, pki.inter) == 1);
	if (sp->min)
		SSL_CTX_set_min_proto_version(s->ctx, sp->min);
	if (sp->max)
		SSL_CTX_set_max_proto_version(s->ctx, sp->max);
	if (sp->alpn_h2)
		SSL_CTX_set_alpn_select_cb(s->ctx, alpn_select, NULL);
	if (sp->staple)
		SSL_CTX_set_tlsext_status_cb(s->ctx, staple_cb);
	if (sp->want_client_cert)
		SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	s->ssl = SSL_new(s->ctx);
	s->rbio = BIO_new(BIO_s_mem());
	s->wbio = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(s->rbio, -1);
	SSL_set_bio(s->ssl, s->rbio, s->wbio);
	SSL_set_accept_state(s->ssl);
}

static void server_stop(struct server *s)
{
	SSL_free(s->ssl);
	SSL_CTX_free(s->ctx);
	X509_free(s->leaf);
	EVP_PKEY_free(s->key);
}

/* Let the server handle what it has; its application bytes into app. */
static size_t server_step(struct server *s, char *app, size_t applen)
{
	if (!SSL_is_init_finished(s->ssl)) {
		SSL_do_handshake(s->ssl);
		if (!SSL_is_init_finished(s->ssl))
			return 0;
	}
	size_t n = 0;
	if (app && SSL_read_ex(s->ssl, app, applen - 1, &n) == 1) {
		app[n] = '\0';
		return n;
	}
	return 0;
}

/* The wire, both ways, until neither side has anything to say; the
 * server's bytes reach the client 'chunk' at a time. Returns the events the
 * client reported, all together. */
struct wire {
	size_t chunk;
	unsigned events;
	uint64_t hello_at;    /* in_total after the feed that reported the ServerHello */
	uint64_t done_at;     /* in_total after the feed that completed the handshake */
	uint8_t first_rec[5]; /* the header of the server's first record */
	uint64_t flight_end[8]; /* in_total at the end of each server flight */
	size_t flights;
	char server_app[512]; /* what the server decrypted */
};

static bool client_to_server(struct tls_conn *c, struct server *s)
{
	uint8_t buf[4096];
	bool moved = false;
	size_t n;
	while ((n = tls_take_out(c, buf, sizeof(buf))) > 0) {
		cr_assert(BIO_write(s->rbio, buf, (int)n) == (int)n);
		moved = true;
	}
	return moved;
}

static bool server_to_client(struct tls_conn *c, struct server *s, struct wire *w)
{
	uint8_t buf[4096];
	bool moved = false;
	int n;
	while ((n = BIO_read(s->wbio, buf, sizeof(buf))) > 0) {
		if (tls_marks(c)->in_total == 0 && n >= 5)
			memcpy(w->first_rec, buf, 5);
		moved = true;
		for (size_t off = 0; off < (size_t)n; off += w->chunk) {
			size_t len = (size_t)n - off < w->chunk ? (size_t)n - off : w->chunk;
			unsigned ev = tls_feed(c, buf + off, len);
			if (ev & TLS_EV_SERVER_HELLO)
				w->hello_at = tls_marks(c)->in_total;
			if (ev & TLS_EV_ESTABLISHED)
				w->done_at = tls_marks(c)->in_total;
			w->events |= ev;
		}
	}
	if (moved && w->flights < sizeof(w->flight_end) / sizeof(w->flight_end[0]))
		w->flight_end[w->flights++] = tls_marks(c)->in_total;
	return moved;
}

static void run_wire(struct tls_conn *c, struct server *s, struct wire *w)
{
	for (int i = 0; i < 50; i++) {
		bool moved = client_to_server(c, s);
		size_t len = strlen(w->server_app);
		server_step(s, w->server_app + len, sizeof(w->server_app) - len);
		moved |= server_to_client(c, s, w);
		if (!moved)
			return;
	}
	cr_assert_fail("the wire never went quiet");
}

/* ---- one handshake, start to end ---------------------------------------------- */

static struct tls_params params_ca(void)
{
	return (struct tls_params){ .ca_file = pki.ca_file };
}

struct hs {
	struct tls_ctx ctx;
	struct server srv;
	struct tls_conn *c;
	struct wire w;
};

static void hs_run(struct hs *h, const struct tls_params *p, const struct server_spec *sp,
		   const char *host, size_t chunk)
{
	char err[256] = "";
	memset(h, 0, sizeof(*h));
	cr_assert_eq(tls_ctx_init(&h->ctx, p, err, sizeof(err)), 0, "%s", err);
	server_start(&h->srv, sp);
	h->c = tls_conn_new(&h->ctx, host, NOW);
	cr_assert_not_null(h->c);
	h->w.chunk = chunk ? chunk : 4096;
	run_wire(h->c, &h->srv, &h->w);
}

static void hs_end(struct hs *h)
{
	tls_conn_free(h->c);
	server_stop(&h->srv);
	tls_ctx_free(&h->ctx);
}

static void assert_good_chain(const struct tls_result *r)
{
	cr_assert(r->verify_ok, "verify: %s", r->verify_error);
	cr_assert_str_eq(r->verify_error, "ok");
	cr_assert(r->hostname_checked && r->hostname_ok);
	cr_assert_str_eq(r->cert_reason, "");
	cr_assert_str_eq(r->error, "");
}

/* The milestones against the server's own framing, whatever the chunking:
 * the ServerHello is its first record; its Finished ends its first flight
 * in TLS 1.3, its second in 1.2. */
static void assert_marks(const struct hs *h, int version)
{
	const struct tls_marks *m = tls_marks(h->c);
	cr_assert_eq(h->w.first_rec[0], 22);
	cr_assert_eq(m->server_hello_end, 5u + ((h->w.first_rec[3] << 8) | h->w.first_rec[4]));
	size_t fin_flight = version == TLS1_3_VERSION ? 0 : 1;
	cr_assert(h->w.flights > fin_flight);
	cr_assert_eq(m->server_finished_end, h->w.flight_end[fin_flight]);
	cr_assert(m->server_hello_end < m->server_finished_end);
	cr_assert_eq(m->server_finished_end, h->w.done_at, "the feed that completed it");
}

/* ---- versions -------------------------------------------------------------------- */

Test(tls, tls13_server)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf, .min = TLS1_3_VERSION, .max = TLS1_3_VERSION };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_eq(tls_state(h.c), TLS_ESTABLISHED, "error %s (%s)", r->error, r->error_detail);
	cr_assert_str_eq(r->version, "TLSv1.3");
	cr_assert_str_eq(r->cipher, "TLS_AES_256_GCM_SHA384");
	assert_good_chain(r);
	assert_marks(&h, TLS1_3_VERSION);
	cr_assert_str_eq(r->alpn, "");
	cr_assert_not(r->ocsp_stapled);
	hs_end(&h);
}

Test(tls, tls12_server_rsa)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf, .key = key_rsa(), .max = TLS1_2_VERSION };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_eq(tls_state(h.c), TLS_ESTABLISHED, "error %s (%s)", r->error, r->error_detail);
	cr_assert_str_eq(r->version, "TLSv1.2");
	cr_assert_str_eq(r->cipher, "ECDHE-RSA-AES256-GCM-SHA384");
	cr_assert_str_eq(r->key, "RSA 2048");
	assert_good_chain(r);
	assert_marks(&h, TLS1_2_VERSION);
	hs_end(&h);
}

Test(tls, min13_against_12_only_server)
{
	struct hs h;
	struct tls_params p = params_ca();
	p.min_version = TLS1_3_VERSION;
	struct server_spec sp = { .leaf = &good_leaf, .max = TLS1_2_VERSION };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_eq(tls_state(h.c), TLS_FAILED);
	cr_assert(h.w.events & TLS_EV_FAILED);
	cr_assert_str_eq(r->error, "handshake-alert:protocol_version", "got %s", r->error);
	cr_assert_str_neq(r->error_detail, "");
	cr_assert_not(r->cert_present);
	cr_assert_eq(tls_marks(h.c)->server_hello_end, 0);
	hs_end(&h);
}

/* A server that wants a client certificate ends TLS 1.2 with an alert during
 * the handshake, which keeps the server's certificate it already sent. */
Test(tls, handshake_failure_keeps_the_certificate)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf, .max = TLS1_2_VERSION, .want_client_cert = true };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_eq(tls_state(h.c), TLS_FAILED);
	cr_assert_str_eq(r->error, "handshake-alert:handshake_failure", "got %s", r->error);
	cr_assert(r->cert_present);
	cr_assert_str_eq(r->subject, "CN=www.example.test,O=tcpshake test");
	cr_assert(r->verify_ok);
	cr_assert_eq(r->days_left, 30);
	hs_end(&h);
}

/* In TLS 1.3 our side is done before the server judges our (empty)
 * certificate: its alert comes after the handshake. */
Test(tls, alert_after_the_handshake)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf, .min = TLS1_3_VERSION, .want_client_cert = true };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert(h.w.events & TLS_EV_ESTABLISHED);
	cr_assert_eq(tls_state(h.c), TLS_FAILED);
	cr_assert_str_eq(r->error, "alert:certificate_required", "got %s", r->error);
	cr_assert_str_eq(r->version, "TLSv1.3");
	hs_end(&h);
}

/* ---- certificates -------------------------------------------------------------- */

Test(tls, details_of_a_good_leaf)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert(r->cert_present);
	cr_assert_str_eq(r->subject, "CN=www.example.test,O=tcpshake test");
	cr_assert_str_eq(r->issuer, "CN=tcpshake test intermediate,O=tcpshake test");
	cr_assert_eq(r->san_total, 3);
	cr_assert_eq(r->san_count, 3);
	cr_assert_eq(r->sans[0].kind, TLS_SAN_DNS);
	cr_assert_str_eq(r->sans[0].name, "www.example.test");
	cr_assert_str_eq(r->sans[1].name, "example.test");
	cr_assert_eq(r->sans[2].kind, TLS_SAN_IP);
	cr_assert_str_eq(r->sans[2].name, "192.0.2.7");
	cr_assert_eq(r->not_before, (int64_t)NOW - 10 * DAY);
	cr_assert_eq(r->not_after, (int64_t)NOW + 30 * DAY + 3600);
	cr_assert_eq(r->days_left, 30);
	cr_assert_str_eq(r->key, "EC 256 prime256v1");
	/* the leaf ends before the intermediate (NOW + 1000 days) */
	cr_assert_eq(r->chain_not_after, r->not_after);
	hs_end(&h);
}

Test(tls, chain_earliest_expiry_is_the_intermediate)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct cert_spec longer = good_leaf;
	longer.until = 2000 * DAY;
	struct server_spec sp = { .leaf = &longer };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_eq(r->chain_not_after, (int64_t)NOW + 1000 * DAY);
	cr_assert_eq(r->days_left, 2000);
	hs_end(&h);
}

Test(tls, ed25519_key)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf, .key = key_ed25519() };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_eq(tls_state(h.c), TLS_ESTABLISHED, "error %s (%s)", r->error, r->error_detail);
	cr_assert_str_eq(r->key, "ED25519");
	assert_good_chain(r);
	hs_end(&h);
}

Test(tls, expired_leaf)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct cert_spec old = good_leaf;
	old.from = -400 * DAY;
	old.until = -2 * DAY;
	struct server_spec sp = { .leaf = &old };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	/* verification never stops the handshake */
	cr_assert_eq(tls_state(h.c), TLS_ESTABLISHED);
	cr_assert_not(r->verify_ok);
	cr_assert_eq(r->verify_code, X509_V_ERR_CERT_HAS_EXPIRED);
	cr_assert_str_eq(r->verify_error, "certificate has expired");
	cr_assert_str_eq(r->cert_reason, "expired");
	cr_assert_str_eq(r->error, "expired");
	cr_assert_eq(r->days_left, -2);
	cr_assert_str_eq(r->subject, "CN=www.example.test,O=tcpshake test");
	hs_end(&h);
}

Test(tls, expired_leaf_insecure)
{
	struct hs h;
	struct tls_params p = params_ca();
	p.insecure = true;
	struct cert_spec old = good_leaf;
	old.until = -1;
	struct server_spec sp = { .leaf = &old };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_str_eq(r->cert_reason, "expired");
	cr_assert_str_eq(r->error, "");
	cr_assert_eq(r->days_left, -1);
	hs_end(&h);
}

Test(tls, not_yet_valid)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct cert_spec young = good_leaf;
	young.from = 5 * DAY;
	struct server_spec sp = { .leaf = &young };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	cr_assert_str_eq(tls_result(h.c)->error, "not-yet-valid");
	hs_end(&h);
}

Test(tls, name_mismatch)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf };
	hs_run(&h, &p, &sp, "other.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert(r->verify_ok, "the chain itself is good");
	cr_assert(r->hostname_checked);
	cr_assert_not(r->hostname_ok);
	cr_assert_str_eq(r->error, "name-mismatch");
	hs_end(&h);
}

Test(tls, wildcard_is_one_label)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct cert_spec wild = good_leaf;
	wild.san = "DNS:*.example.test";
	struct server_spec sp = { .leaf = &wild };
	hs_run(&h, &p, &sp, "a.example.test", 0);
	cr_assert_str_eq(tls_result(h.c)->error, "");
	hs_end(&h);
	hs_run(&h, &p, &sp, "a.b.example.test", 0);
	cr_assert_str_eq(tls_result(h.c)->error, "name-mismatch");
	hs_end(&h);
}

Test(tls, ip_literal_checks_ip_sans)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf };
	hs_run(&h, &p, &sp, "192.0.2.7", 0);
	cr_assert(tls_result(h.c)->hostname_ok);
	cr_assert_str_eq(tls_result(h.c)->error, "");
	hs_end(&h);
	hs_run(&h, &p, &sp, "192.0.2.8", 0);
	cr_assert_str_eq(tls_result(h.c)->error, "name-mismatch");
	hs_end(&h);
}

Test(tls, no_host_no_name_check)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf };
	hs_run(&h, &p, &sp, NULL, 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_not(r->hostname_checked);
	cr_assert_str_eq(r->error, "");
	hs_end(&h);
}

Test(tls, self_signed)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct cert_spec self = good_leaf;
	self.ca = false;
	struct server_spec sp = { .leaf = &self, .self_signed = true };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_eq(r->verify_code, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
	cr_assert_str_eq(r->error, "self-signed");
	cr_assert_str_eq(r->subject, r->issuer);
	hs_end(&h);
}

Test(tls, unknown_ca_without_ca_file)
{
	struct hs h;
	struct tls_params p = { 0 }; /* the system store: it has never seen our root */
	struct server_spec sp = { .leaf = &good_leaf };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_eq(tls_state(h.c), TLS_ESTABLISHED);
	cr_assert_eq(r->verify_code, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
	cr_assert_str_eq(r->error, "unknown-ca");
	cr_assert(r->hostname_ok, "the name is checked apart from the chain");
	hs_end(&h);
}

/* ---- extensions ------------------------------------------------------------------ */

Test(tls, alpn_h2_chosen)
{
	struct hs h;
	struct tls_params p = params_ca();
	p.alpn = "h2,http/1.1";
	struct server_spec sp = { .leaf = &good_leaf, .alpn_h2 = true };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	cr_assert_str_eq(tls_result(h.c)->alpn, "h2");
	hs_end(&h);
}

Test(tls, alpn_none_in_common)
{
	struct hs h;
	struct tls_params p = params_ca();
	p.alpn = "http/1.1";
	struct server_spec sp = { .leaf = &good_leaf, .alpn_h2 = true };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	cr_assert_eq(tls_state(h.c), TLS_ESTABLISHED);
	cr_assert_str_eq(tls_result(h.c)->alpn, "");
	hs_end(&h);
}

Test(tls, ocsp_staple_present_tls13)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf, .staple = true };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_str_eq(r->version, "TLSv1.3");
	cr_assert(r->ocsp_stapled);
	cr_assert_eq(r->ocsp_len, 5);
	hs_end(&h);
}

Test(tls, ocsp_staple_present_tls12)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf, .staple = true, .max = TLS1_2_VERSION };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	const struct tls_result *r = tls_result(h.c);
	cr_assert_str_eq(r->version, "TLSv1.2");
	cr_assert(r->ocsp_stapled);
	hs_end(&h);
}

/* ---- the byte stream --------------------------------------------------------------- */

/* The milestones land on the exact byte: fed one byte at a time, the
 * ServerHello event comes on the feed whose last byte ends its record. */
static void one_byte_at_a_time(int version)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf, .min = version, .max = version };
	hs_run(&h, &p, &sp, "www.example.test", 1);
	const struct tls_result *r = tls_result(h.c);
	const struct tls_marks *m = tls_marks(h.c);
	cr_assert_eq(tls_state(h.c), TLS_ESTABLISHED, "error %s (%s)", r->error, r->error_detail);
	assert_good_chain(r);
	cr_assert(h.w.events & TLS_EV_SERVER_HELLO);
	cr_assert(h.w.events & TLS_EV_ESTABLISHED);
	cr_assert_eq(h.w.hello_at, m->server_hello_end);
	cr_assert_eq(h.w.done_at, m->server_finished_end);
	assert_marks(&h, version);
	hs_end(&h);
}

Test(tls, one_byte_at_a_time_tls13)
{
	one_byte_at_a_time(TLS1_3_VERSION);
}

Test(tls, one_byte_at_a_time_tls12)
{
	one_byte_at_a_time(TLS1_2_VERSION);
}

Test(tls, odd_chunks)
{
	static const size_t chunks[] = { 3, 7, 13, 1000 };
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		struct hs h;
		struct tls_params p = params_ca();
		p.alpn = "h2";
		struct server_spec sp = { .leaf = &good_leaf, .alpn_h2 = true, .staple = true };
		hs_run(&h, &p, &sp, "www.example.test", chunks[i]);
		const struct tls_result *r = tls_result(h.c);
		cr_assert_eq(tls_state(h.c), TLS_ESTABLISHED, "chunk %zu", chunks[i]);
		assert_good_chain(r);
		cr_assert_str_eq(r->alpn, "h2");
		cr_assert(r->ocsp_stapled);
		hs_end(&h);
	}
}

Test(tls, client_hello_is_the_first_flight)
{
	struct tls_ctx ctx;
	char err[256];
	struct tls_params p = params_ca();
	cr_assert_eq(tls_ctx_init(&ctx, &p, err, sizeof(err)), 0);
	struct tls_conn *c = tls_conn_new(&ctx, "www.example.test", NOW);
	size_t n = tls_pending_out(c);
	cr_assert_eq(tls_marks(c)->client_hello_len, n);
	uint8_t buf[2048];
	cr_assert_eq(tls_take_out(c, buf, sizeof(buf)), n);
	cr_assert_eq(buf[0], 22, "a handshake record");
	cr_assert_eq(buf[5], 1, "holding a ClientHello");
	cr_assert_eq((size_t)((buf[3] << 8) | buf[4]) + 5, n, "one record, whole");
	cr_assert(memmem(buf, n, "www.example.test", 16), "SNI sent");
	cr_assert_eq(tls_marks(c)->out_total, n);
	cr_assert_eq(tls_state(c), TLS_HANDSHAKING);
	tls_conn_free(c);
	/* an IP literal is never sent as SNI (RFC 6066 3) */
	c = tls_conn_new(&ctx, "192.0.2.7", NOW);
	n = tls_take_out(c, buf, sizeof(buf));
	cr_assert_null(memmem(buf, n, "192.0.2.7", 9));
	tls_conn_free(c);
	tls_ctx_free(&ctx);
}

Test(tls, application_data_both_ways)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	static const char req[] = "HEAD / HTTP/1.1\r\nHost: www.example.test\r\n\r\n";
	cr_assert_eq(tls_write(h.c, (const uint8_t *)req, strlen(req)), 0);
	run_wire(h.c, &h.srv, &h.w);
	cr_assert_str_eq(h.w.server_app, req);
	static const char resp[] = "HTTP/1.1 200 OK\r\n";
	size_t n;
	cr_assert(SSL_write_ex(h.srv.ssl, resp, strlen(resp), &n) == 1);
	h.w.events = 0;
	run_wire(h.c, &h.srv, &h.w);
	cr_assert(h.w.events & TLS_EV_APP_DATA);
	char got[64] = "";
	/* read in two pieces: what is not taken stays */
	size_t a = tls_read(h.c, (uint8_t *)got, 4);
	size_t b = tls_read(h.c, (uint8_t *)got + a, sizeof(got) - 1 - a);
	cr_assert_eq(a + b, strlen(resp));
	cr_assert_str_eq(got, resp);
	cr_assert_eq(tls_read(h.c, (uint8_t *)got, sizeof(got)), 0);
	hs_end(&h);
}

Test(tls, close_notify_from_us)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	cr_assert_eq(tls_close(h.c), 0);
	cr_assert_eq(tls_state(h.c), TLS_CLOSED);
	cr_assert(tls_pending_out(h.c) > 0, "the close_notify waits to be sent");
	client_to_server(h.c, &h.srv);
	char buf[16];
	size_t n;
	cr_assert_eq(SSL_read_ex(h.srv.ssl, buf, sizeof(buf), &n), 0);
	cr_assert_eq(SSL_get_error(h.srv.ssl, 0), SSL_ERROR_ZERO_RETURN, "the server saw close_notify");
	cr_assert_eq(tls_close(h.c), -1, "only once");
	hs_end(&h);
}

Test(tls, close_notify_from_the_server)
{
	struct hs h;
	struct tls_params p = params_ca();
	struct server_spec sp = { .leaf = &good_leaf };
	hs_run(&h, &p, &sp, "www.example.test", 0);
	SSL_shutdown(h.srv.ssl);
	h.w.events = 0;
	server_to_client(h.c, &h.srv, &h.w);
	cr_assert(h.w.events & TLS_EV_CLOSED);
	cr_assert_eq(tls_state(h.c), TLS_CLOSED);
	cr_assert_str_eq(tls_result(h.c)->error, "");
	hs_end(&h);
}

Test(tls, fin_during_the_handshake)
{
	struct tls_ctx ctx;
	char err[256];
	struct tls_params p = params_ca();
	cr_assert_eq(tls_ctx_init(&ctx, &p, err, sizeof(err)), 0);
	struct tls_conn *c = tls_conn_new(&ctx, "www.example.test", NOW);
	cr_assert(tls_eof(c) & TLS_EV_FAILED);
	cr_assert_eq(tls_state(c), TLS_FAILED);
	cr_assert_str_eq(tls_result(c)->error, "eof");
	cr_assert_eq(tls_feed(c, (const uint8_t *)"x", 1), 0, "dropped after failure");
	uint8_t none[4];
	cr_assert_eq(tls_read(c, none, sizeof(none)), 0, "nothing ever decrypted");
	tls_conn_free(c);
	tls_ctx_free(&ctx);
}

/* ---- hostile bytes ---------------------------------------------------------------------- */

static void feed_garbage(const uint8_t *bytes, size_t len, size_t chunk)
{
	struct tls_ctx ctx;
	char err[256];
	struct tls_params p = params_ca();
	cr_assert_eq(tls_ctx_init(&ctx, &p, err, sizeof(err)), 0);
	struct tls_conn *c = tls_conn_new(&ctx, "www.example.test", NOW);
	uint8_t out[2048];
	tls_take_out(c, out, sizeof(out));
	unsigned ev = 0;
	for (size_t off = 0; off < len; off += chunk)
		ev |= tls_feed(c, bytes + off, len - off < chunk ? len - off : chunk);
	const struct tls_result *r = tls_result(c);
	cr_assert(ev & TLS_EV_FAILED);
	cr_assert_eq(tls_state(c), TLS_FAILED);
	cr_assert_str_eq(r->error, "protocol", "got %s (%s)", r->error, r->error_detail);
	cr_assert_str_neq(r->error_detail, "");
	cr_assert_eq(tls_write(c, out, 1), -1);
	cr_assert_eq(tls_close(c), -1);
	tls_conn_free(c);
	tls_ctx_free(&ctx);
	cr_assert_eq(ERR_peek_error(), 0, "the error queue is left clean");
}

Test(tls, garbage_http_answer)
{
	static const char http[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	feed_garbage((const uint8_t *)http, strlen(http), 5);
}

Test(tls, garbage_handshake_record)
{
	/* a well-framed handshake record whose message is nonsense */
	uint8_t rec[5 + 64] = { 22, 3, 3, 0, 64 };
	for (size_t i = 5; i < sizeof(rec); i++)
		rec[i] = (uint8_t)(i * 37 + 11);
	feed_garbage(rec, sizeof(rec), 1);
}

/* ---- the context --------------------------------------------------------------------------- */

Test(tls, ctx_rejects_bad_alpn)
{
	struct tls_ctx ctx;
	char err[256] = "";
	static const char *bad[] = { "", "h2,", ",h2", "h2,,http/1.1" };
	for (size_t i = 1; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tls_params p = { .alpn = bad[i] };
		cr_assert_eq(tls_ctx_init(&ctx, &p, err, sizeof(err)), -1, "%s", bad[i]);
		cr_assert(strstr(err, "ALPN"), "%s", err);
	}
	char longname[300];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	struct tls_params p = { .alpn = longname };
	cr_assert_eq(tls_ctx_init(&ctx, &p, err, sizeof(err)), -1);
	/* empty means none */
	struct tls_params none = { .alpn = bad[0] };
	cr_assert_eq(tls_ctx_init(&ctx, &none, err, sizeof(err)), 0);
	tls_ctx_free(&ctx);
}

Test(tls, ctx_reports_a_missing_ca_file)
{
	struct tls_ctx ctx;
	char err[256] = "";
	struct tls_params p = { .ca_file = "/nonexistent/tcpshake-ca.pem" };
	cr_assert_eq(tls_ctx_init(&ctx, &p, err, sizeof(err)), -1);
	cr_assert(strstr(err, "/nonexistent/tcpshake-ca.pem"), "%s", err);
	cr_assert_eq(ERR_peek_error(), 0);
}

/* ---- pure helpers ------------------------------------------------------------------------------- */

Test(tls, days_left_rounds_down)
{
	cr_assert_eq(tls_days_left(1000 + 86400 * 3, 1000), 3);
	cr_assert_eq(tls_days_left(1000 + 86400 * 3 - 1, 1000), 2);
	cr_assert_eq(tls_days_left(1000, 1000), 0);
	cr_assert_eq(tls_days_left(999, 1000), -1);
	cr_assert_eq(tls_days_left(1000 - 86400, 1000), -1);
	cr_assert_eq(tls_days_left(1000 - 86401, 1000), -2);
}

Test(tls, names)
{
	cr_assert_str_eq(tls_alert_name(70), "protocol_version");
	cr_assert_str_eq(tls_alert_name(40), "handshake_failure");
	cr_assert_null(tls_alert_name(255));
	cr_assert_str_eq(tls_verify_reason(X509_V_OK), "");
	cr_assert_str_eq(tls_verify_reason(X509_V_ERR_CERT_HAS_EXPIRED), "expired");
	cr_assert_str_eq(tls_verify_reason(X509_V_ERR_CERT_SIGNATURE_FAILURE), "bad-cert");
}
