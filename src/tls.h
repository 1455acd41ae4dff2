/* tls.h - a TLS client that never touches a socket: ciphertext goes in and
 * out through memory, so tcpshake's own TCP endpoint can carry it. OpenSSL
 * does all of TLS; this module moves bytes, notes where the handshake's
 * milestones fall in the byte streams (the caller times them from capture
 * timestamps, no clock is read here) and reads the certificate out for the
 * report.
 *
 * The life of a connection:
 *   tls_conn_new()          the ClientHello is queued at once
 *   tls_take_out()          ciphertext for the TCP stream, whenever pending
 *   tls_feed()              every byte the server sent, in any chunking;
 *                           returns what happened (TLS_EV_*)
 *   tls_write()/tls_read()  application bytes once established
 *   tls_close()             queues our close_notify
 *   tls_eof()               the peer's FIN reached the TCP stream
 *
 * Certificate verification never stops the handshake: the result records
 * the chain and host name verdicts and the certificate details even for a
 * bad chain, and tls_result.error says whether this connection fails the
 * check. */
#ifndef TCPSHAKE_TLS_H
#define TCPSHAKE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct ssl_ctx_st; /* OpenSSL's SSL_CTX, kept out of every includer's way */

/* What a run asks of TLS; read once by tls_ctx_init(). */
struct tls_params {
	const char *alpn;  /* "h2,http/1.1", offered in this order; NULL: none */
	int min_version;   /* TLS1_2_VERSION, TLS1_3_VERSION; 0: the library's */
	int max_version;   /* likewise; 0: the newest the library has */
	const char *ca_file; /* PEM trust anchors; NULL: the system store */
	bool insecure;     /* certificate problems do not fail the check */
};

/* One per run: the SSL_CTX holds the trust store, loaded once here and
 * shared read-only by every connection. */
struct tls_ctx {
	struct ssl_ctx_st *ssl;
	bool insecure;
};

/* 0, or -1 with a one-line reason in err (the bad ALPN list, the CA file
 * that did not load). */
int tls_ctx_init(struct tls_ctx *ctx, const struct tls_params *p, char *err, size_t errlen);
void tls_ctx_free(struct tls_ctx *ctx);

enum tls_state {
	TLS_HANDSHAKING,
	TLS_ESTABLISHED, /* even with a bad certificate: see tls_result.error */
	TLS_FAILED,      /* the handshake or the record layer broke: tls_result.error */
	TLS_CLOSED,      /* close_notify sent or received, or the peer's FIN */
};

/* What one call saw happen, as bits. */
enum {
	TLS_EV_SERVER_HELLO = 1u << 0, /* the first ServerHello was completed */
	TLS_EV_ESTABLISHED = 1u << 1,  /* the handshake completed */
	TLS_EV_APP_DATA = 1u << 2,     /* decrypted bytes wait for tls_read() */
	TLS_EV_CLOSED = 1u << 3,       /* the peer's close_notify, or FIN */
	TLS_EV_FAILED = 1u << 4,       /* see tls_result.error */
	TLS_EV_OUTPUT = 1u << 5,       /* ciphertext waits for tls_take_out() */
};

/* Where the milestones fall in the two byte streams, as counts of bytes
 * from each stream's start (0: not yet). A milestone's offset is the end
 * of the TLS record that completed it, so the caller finds the TCP segment
 * that carried it and takes that segment's capture timestamp. */
struct tls_marks {
	uint64_t client_hello_len; /* the first flight: out bytes [0, len) */
	uint64_t server_hello_end; /* in bytes up to here held the ServerHello
				      (a HelloRetryRequest counts: it is one) */
	uint64_t server_finished_end; /* in bytes up to here completed the handshake */
	uint64_t in_total;  /* fed so far */
	uint64_t out_total; /* taken so far */
};

#define TLS_SAN_MAX 16  /* SANs kept; san_total counts them all */
#define TLS_SAN_LEN 256 /* a DNS name is at most 253 */
#define TLS_DN_LEN 512

enum tls_san_kind { TLS_SAN_DNS, TLS_SAN_IP };

struct tls_san {
	enum tls_san_kind kind;
	char name[TLS_SAN_LEN]; /* printable ASCII only: others become '?' */
};

/* Everything the report needs; strings are "" when not known. Filled when
 * the handshake ends either way (a failed one keeps what it got). */
struct tls_result {
	char version[16]; /* "TLSv1.3" */
	char cipher[64];  /* "TLS_AES_256_GCM_SHA384" */
	char alpn[64];    /* the protocol the server chose */

	bool cert_present;
	char subject[TLS_DN_LEN]; /* RFC 2253, non-ASCII as \XX */
	char issuer[TLS_DN_LEN];
	struct tls_san sans[TLS_SAN_MAX];
	size_t san_count, san_total;
	char sans_text[1024];    /* "DNS:a.example,IP:198.18.0.2", as many as fit */
	int64_t not_before, not_after; /* the leaf's, epoch seconds */
	int64_t chain_not_after; /* the earliest notAfter of the chain as sent */
	int64_t days_left;       /* whole days from 'now' to not_after; < 0: expired */
	char key[64];            /* "RSA 2048", "EC 256 prime256v1", "ED25519" */

	bool verify_ok;         /* the chain verifies to a trust anchor at 'now' */
	long verify_code;       /* X509_V_OK, X509_V_ERR_* */
	char verify_error[128]; /* X509_verify_cert_error_string() */
	bool hostname_checked;  /* a name was given to check */
	bool hostname_ok;       /* X509_check_host / X509_check_ip_asc */
	bool ocsp_stapled;
	size_t ocsp_len;

	/* The certificate's problem by a stable name, whatever 'insecure' says:
	 * "expired", "not-yet-valid", "self-signed", "unknown-ca",
	 * "name-mismatch", "bad-cert", "no-cert"; "" when it is good. */
	char cert_reason[32];
	/* Why this connection fails the check, by a stable name; "" when it
	 * passes. A broken handshake: "handshake-alert:<alert>" (the server's
	 * fatal alert, RFC 8446 names: protocol_version, handshake_failure..),
	 * "alert:<alert>" (one after the handshake), "protocol" (the server's
	 * bytes are not TLS we accept: error_detail says how), "eof" (FIN
	 * during the handshake), "internal". Else cert_reason, unless the run
	 * is insecure. */
	char error[48];
	char error_detail[128]; /* OpenSSL's reason text, for people */
};

struct tls_conn;

/* A connection to 'host' (a name: sent as SNI and checked against the
 * certificate; an IP literal: no SNI, checked against IP SANs; NULL: no
 * SNI, no name check), with its certificate judged at 'now' (epoch seconds;
 * 0: the library's clock). The ClientHello is pending when it returns.
 * NULL when out of memory. */
struct tls_conn *tls_conn_new(const struct tls_ctx *ctx, const char *host, time_t now);
void tls_conn_free(struct tls_conn *c);

/* Ciphertext waiting to be sent, and taking up to len bytes of it. */
size_t tls_pending_out(const struct tls_conn *c);
size_t tls_take_out(struct tls_conn *c, uint8_t *buf, size_t len);

/* Ciphertext received, in stream order, any chunking; drives the handshake
 * and decrypts. Returns TLS_EV_* bits for what these bytes caused. Bytes
 * after a failure or a close are dropped. */
unsigned tls_feed(struct tls_conn *c, const uint8_t *in, size_t len);
/* The peer's FIN: a failure ("eof") during the handshake, else closed. */
unsigned tls_eof(struct tls_conn *c);

/* The wait ended: a handshake still going fails ("timeout"). */
void tls_timeout(struct tls_conn *c);

/* Why this connection fails the check, or NULL when it passes: its error,
 * or "incomplete" when the handshake never completed for a reason TLS did
 * not see (the connection reset or ended by tcpshake). */
const char *tls_check_error(const struct tls_result *r);

/* Application bytes to encrypt (established only): 0, or -1. */
int tls_write(struct tls_conn *c, const uint8_t *buf, size_t len);
/* Decrypted application bytes, up to len; 0 when none wait. */
size_t tls_read(struct tls_conn *c, uint8_t *buf, size_t len);
/* Queue our close_notify (established only): 0, or -1. */
int tls_close(struct tls_conn *c);

enum tls_state tls_state(const struct tls_conn *c);
const struct tls_result *tls_result(const struct tls_conn *c);
const struct tls_marks *tls_marks(const struct tls_conn *c);

/* Whole days from now to not_after, rounded down (so -1 on the day after
 * expiry). */
int64_t tls_days_left(int64_t not_after, int64_t now);
/* The RFC 8446 name of a TLS alert ("protocol_version"), or NULL. */
const char *tls_alert_name(int desc);
/* The stable name of an X509_V_ERR_* code ("expired"), "" for X509_V_OK. */
const char *tls_verify_reason(long code);

#endif
