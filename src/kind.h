/* kind.h - what kind of probe: the seam every kind of probe goes through.
 *
 * A kind says what its first segment is (its TCP flags; a SYN opens a
 * connection that the state machine in probe.c then carries on as the kind
 * asks: reset at once, closed, or a request first), which segment answers
 * it (strictly: an answer must acknowledge what only this probe sent), and
 * what state an answer, an ICMP error or silence means. It is a table of
 * constants and pure functions: no I/O, so each kind is unit-tested alone.
 *
 * A new kind is one file: a `const struct probe_kind` defined in
 * src/kind_NAME.c, named in kind.c's table (which -M and the outputs read),
 * and its tests in tests/unit/test_kind.c.
 *
 *   syn, full, http       kind_connect.c   SYN; reset, close, or HTTP on the stream
 *   tls, https            kind_tls.c       TLS (and HTTPS) on the stream
 *   pmtu (--pmtu)         kind_pmtu.c      a full-size segment with DF, then close
 *   banner, starttls      kind_banner.c    read (and match) a greeting; STARTTLS
 *   fin, null, xmas,      kind_flags.c     nmap's flag scans: the answer is a
 *   ack, window, maimon,                   RST or nothing (states as nmap's)
 *   custom (--flags)
 * A trace (--trace, trace.c) is no kind: its many SYNs share one 5-tuple
 * in flight at once, where a kind's probe holds a source port of its own.
 */
#ifndef TCPSHAKE_KIND_H
#define TCPSHAKE_KIND_H

#include <stdbool.h>
#include <stdint.h>

#include "decode.h"

struct probe;
struct probe_result;
struct record;
enum outcome;

/* What a handshake kind does once the connection is up: reset it, close
 * it, run its application (struct probe_app) on the byte stream, or test
 * the path MTU with one full-size segment (probe.c's PMTU phase), then
 * close it. */
enum after_open { AFTER_NONE = 0, AFTER_RESET, AFTER_CLOSE, AFTER_APP, AFTER_PMTU };

/* ---- the application seam -----------------------------------------------
 *
 * A kind with an application gets a byte stream (stream.h) on its crafted
 * connection: the probe reassembles what the peer sends, delivers it in
 * order, acknowledges it, and sends what the application queues, within
 * the peer's window and MSS, again when lost. Kinds without one (headers
 * only) allocate nothing and capture no payload.
 *
 * The hooks run inside probe_step(): pure, no I/O, no clock but the
 * capture times they are given. They queue bytes with probe_send()
 * (probe.h), keep their results in the probe's result, and any state of
 * their own behind p->app (theirs to allocate; on_release frees it).
 * After the peer's FIN, or our close, the probe closes as a full probe
 * does (their FIN: ours, LAST_ACK; ours first: FIN_WAIT, TIME-WAIT). */

enum app_verdict {
	APP_MORE = 0,   /* keep the connection open */
	APP_CLOSE       /* done: our FIN once every byte queued is sent */
};

/* What on_data is given. */
struct app_input {
	const uint8_t *data;   /* every byte delivered in order and not consumed yet */
	size_t len;
	size_t fresh;          /* the last `fresh` of them arrived with this segment */
	int64_t ts_ns;         /* capture time of the segment that delivered them */
	bool eof;              /* the peer's FIN follows them: no more will come */
};

struct probe_app {
	/* The handshake is done (our ACK goes out now): queue the first bytes
	 * (a client speaks first) or nothing (a server does). */
	void (*on_open)(struct probe *p);
	/* New bytes in order, or the peer's FIN (eof). Set *consumed to the
	 * bytes of in->data the application is done with (0 on entry); the
	 * rest are offered again, at the start of in->data, with the next. A
	 * buffer the application never empties closes the window. */
	enum app_verdict (*on_data)(struct probe *p, const struct app_input *in, size_t *consumed);
	/* The wait for the application's answer ended (its deadline: the
	 * timeout, or the kind's own): judge what was read. Our FIN follows.
	 * NULL: nothing to judge. */
	void (*on_timeout)(struct probe *p);
	/* The probe is over: free p->app. NULL: nothing to free. */
	void (*on_release)(struct probe *p);
};

struct probe_kind {
	const char *name;            /* as -M names it, and the outputs */
	uint8_t flags;               /* of the first segment */
	bool handshake;              /* a SYN: the connection goes on in probe.c */
	enum after_open after;       /* handshake kinds */
	/* Does seg, from the probe's peer on its 4-tuple, answer the probe's
	 * first segment? */
	bool (*answers)(const struct probe *p, const struct segment *seg);
	/* The state an answer means (seg NULL: silence until the timeout;
	 * icmp: an ICMP error quoting our segment). */
	enum outcome (*classify)(const struct probe *p, const struct segment *seg, bool icmp);
	/* Fields of the kind's own, added to each probe's record (record.h):
	 * they appear in JSON, CSV and text, and their numbers (of the last
	 * probe) in Nagios perfdata and as Prometheus gauges tcpshake_probe_KEY.
	 * Keys are [a-z0-9_]. NULL: none. */
	void (*fields)(const struct probe_result *res, struct record *rec);
	/* AFTER_APP: the application on the byte stream; it makes the
	 * capture keep whole frames. NULL: headers only. */
	const struct probe_app *app;
};

/* The first segment's ACK number: none for a segment without ACK, else a
 * keyed value only this probe could know (the answering RST carries it as
 * its sequence number). */
bool kind_sends_ack(const struct probe_kind *k);

/* Does the capture keep whole frames for this kind (its application reads
 * the payload), or the headers only? */
bool kind_reads_payload(const struct probe_kind *k);

extern const struct probe_kind kind_syn, kind_full, kind_http;
/* --tls: a TLS handshake over the stream (kind_tls.c); with --http, HTTPS */
extern const struct probe_kind kind_tls, kind_https;
/* The TLS client as a part another application runs (--starttls): start
 * it on a stream that may already have carried plain text (the ClientHello
 * is queued, its leaving timed by probe_mark_send), feed it every byte
 * that follows, free it. https: send the flow's request once trusted. The
 * result is p->res.tls. NULL from start: out of memory. */
struct tls_app;
struct tls_app *tls_app_start(struct probe *p, bool https);
enum app_verdict tls_app_feed(struct probe *p, struct tls_app *t, const struct app_input *in,
			      size_t *consumed);
void tls_app_free(struct probe *p, struct tls_app *t);
/* Its wait ended: a handshake still going fails ("timeout"). */
void tls_app_timeout(struct tls_app *t);
/* The TLS kinds' fields (tls.*, cert.*), for kinds that add them to theirs. */
void tls_fields(const struct probe_result *res, struct record *rec);
/* --expect, --send, --banner: read what the server says, matched as it
 * arrives (kind_banner.c); --starttls: the protocol's dialogue, then TLS */
extern const struct probe_kind kind_banner, kind_starttls;
/* The handshake kinds' answer (a SYN/ACK or RST/ACK for our ISN + 1) and
 * its state: kind_connect.c, shared with kind_tls.c. */
bool kind_connect_answers(const struct probe *p, const struct segment *seg);
enum outcome kind_connect_classify(const struct probe *p, const struct segment *seg, bool icmp);
/* --pmtu: the path MTU and the MSS both ways (kind_pmtu.c) */
extern const struct probe_kind kind_pmtu;
extern const struct probe_kind kind_fin, kind_null, kind_xmas, kind_ack, kind_window,
	kind_maimon;

/* A flag scan with any flags (--flags): classified as FIN/NULL/Xmas are
 * (RST closed, silence open|filtered), or as ACK is when the flags carry ACK. */
void kind_custom(struct probe_kind *k, uint8_t flags);

/* -M NAME: the kind, or NULL. The per-flag view (-M flags) is no kind: it
 * sends five (syn, ack, fin, null, xmas) to each target:port. */
const struct probe_kind *kind_by_name(const char *name);
extern const char *const kind_names[]; /* NULL-terminated, -M's list */

/* ---- the per-flag view ---------------------------------------------------- */

#define PERFLAG_KINDS 5
extern const struct probe_kind *const perflag_kinds[PERFLAG_KINDS]; /* syn ack fin null xmas */

/* What each probe of the view got: a TCP answer's flags, an ICMP error, or
 * silence. */
struct perflag_answer {
	bool seen, icmp;
	uint8_t flags;
};

enum perflag_verdict { VERDICT_NONE = 0, VERDICT_NO_FILTER, VERDICT_CLOSED,
		       VERDICT_STATELESS, VERDICT_STATEFUL, VERDICT_REJECTED, VERDICT_SILENT,
		       VERDICT_UNKNOWN };

/* The verdict the five answers support (see the man page). Pure. */
enum perflag_verdict perflag_verdict(const struct perflag_answer a[PERFLAG_KINDS]);
const char *perflag_verdict_name(enum perflag_verdict v);
/* "SA", "R", "-", "icmp" into buf[9]. */
const char *perflag_answer_str(const struct perflag_answer *a, char buf[9]);

#endif
