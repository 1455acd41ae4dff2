/* banner.h - what a service says first, and what we say to it: the --send
 * escapes, the --expect matcher and the STARTTLS dialogues of SMTP, IMAP and
 * POP3. Pure code over bytes, fed as they arrive in whatever segments the
 * network cut them into; no sockets, no clocks. The engine owns the
 * connection and calls these with each segment's payload. */
#ifndef TCPSHAKE_BANNER_H
#define TCPSHAKE_BANNER_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- --send STRING ----------------------------------------------------------
 * Escapes: \r \n \t \\ and \xNN (exactly two hex digits, either case; \x00
 * gives a NUL). Every other byte stands for itself; a backslash followed by
 * anything else, or at the end, is an error. The result is never longer
 * than s, so cap >= strlen(s) always suffices. 0 on success with *len set;
 * -1 with a reason in err, worded to follow "tcpshake: --send: ". */
int banner_unescape(const char *s, uint8_t *out, size_t cap, size_t *len, char *err,
		    size_t errlen);

/* ---- printable text for reports ---------------------------------------------
 * The first line of data: the bytes before the first CR or LF, at most
 * BANNER_LINE_MAX of them, written into out as text: printable ASCII as it
 * is, a backslash as \\, every other byte (controls, DEL, bytes >= 0x80)
 * as \xNN - the --send syntax, so a report can be pasted back. out needs
 * BANNER_LINE_TEXT bytes to never cut; a smaller out is cut at a whole
 * escape and stays terminated. Returns true when the line ended (CR or LF
 * seen within the bound), false when it was cut by the data's end or the
 * bound. */
#define BANNER_LINE_MAX 256
#define BANNER_LINE_TEXT (BANNER_LINE_MAX * 4 + 1)
bool banner_first_line(const uint8_t *data, size_t len, char *out, size_t outlen);

/* ---- --expect REGEX ---------------------------------------------------------
 * A POSIX extended expression, compiled with REG_EXTENDED | REG_NOSUB in
 * the locale of the run. It is matched against everything read so far,
 * from the first byte the server sent: "^" is the start of the stream.
 * While the stream goes on, "$" does not match at the end of the bytes
 * read so far (REG_NOTEOL): that is not the end of what the server says;
 * banner_match_end says it has ended, and "$" then matches there. NUL
 * bytes do not end the data where regexec has REG_STARTEND (glibc, the
 * BSDs): what follows them is matched too ("." never matches a NUL);
 * elsewhere the match sees the data up to its first NUL. */
struct banner_expect {
	regex_t re;
	bool compiled;
};

/* 0 on success; -1 with regerror's text in err, worded to follow
 * "tcpshake: --expect: ". */
int banner_expect_compile(struct banner_expect *e, const char *pattern, char *err,
			  size_t errlen);
void banner_expect_free(struct banner_expect *e);

/* The incremental matcher: each banner_match_feed appends the bytes to a
 * bounded buffer and tries the expression on the whole buffer again (4 KiB
 * at most: the cost of a re-match is bounded, and a pattern can span
 * segments). Once matched it stays matched and ignores later bytes; once
 * the buffer is full without a match it is BANNER_FULL, a final no-match,
 * and bytes past the bound are dropped (the part that fit was tried). With
 * no expression (expect NULL) the matcher only collects: it says
 * BANNER_MATCHED as soon as one whole line (CR or LF) has arrived, so that
 * a banner grab can stop at the first line. */
#define BANNER_BUF_MAX 4096

enum banner_state {
	BANNER_NEED_MORE, /* no match yet: read on (until the caller's deadline) */
	BANNER_MATCHED,   /* the expression matched what was read */
	BANNER_FULL,      /* BANNER_BUF_MAX bytes read and no match: give up */
};

struct banner_match {
	const struct banner_expect *expect;
	enum banner_state state;
	size_t len;                        /* bytes kept in buf */
	size_t seen;                       /* bytes fed, also those dropped */
	uint8_t buf[BANNER_BUF_MAX + 1];   /* always NUL-terminated */
};

void banner_match_init(struct banner_match *m, const struct banner_expect *expect);
enum banner_state banner_match_feed(struct banner_match *m, const uint8_t *data, size_t n);
/* The stream ended (FIN, or the caller's deadline): one last try with "$"
 * allowed at the end. Returns the final state; NEED_MORE here means no
 * match. */
enum banner_state banner_match_end(struct banner_match *m);
/* "need-more", "matched", "buffer-full": names for reports. */
const char *banner_state_name(enum banner_state s);

/* ---- STARTTLS ---------------------------------------------------------------
 * The plain-text dialogue before a TLS handshake, as a state machine fed the
 * server's bytes; it says what to send and when TLS may start:
 *   smtp  220 greeting (220- continuation lines), send "EHLO tcpshake",
 *         a 250 reply (250- lines) that lists STARTTLS, send "STARTTLS",
 *         220: go (RFC 3207)
 *   imap  "* OK" greeting, send "a1 STARTTLS", untagged lines skipped,
 *         "a1 OK": go (RFC 9051 6.2.1)
 *   pop3  "+OK" greeting, send "STLS", "+OK": go (RFC 2595 4)
 * A line is judged only once whole (LF, with or without CR before it), so
 * a reply may arrive cut at any byte; a line longer than STARTTLS_LINE_MAX
 * fails. After the go-ahead the server must wait for our ClientHello: any
 * byte after the go-ahead line fails ("data-before-tls"), as plain text
 * there could be injected into what the TLS layer would read (the
 * CVE-2011-0411 class). */
#define STARTTLS_LINE_MAX 1024

enum starttls_proto { STARTTLS_SMTP, STARTTLS_IMAP, STARTTLS_POP3 };

enum starttls_status {
	STARTTLS_MORE,  /* everything fed was taken: feed more */
	STARTTLS_SEND,  /* send out[0..out_len), then feed the rest of the data */
	STARTTLS_READY, /* the server said go: start the TLS handshake now */
	STARTTLS_FAIL,  /* reason (and line) say why; the dialogue is over */
};

/* Where the dialogue is; for reports ("greeting", "ehlo", "starttls",
 * "tls", "failed"). */
enum starttls_phase {
	STARTTLS_PH_GREETING,
	STARTTLS_PH_EHLO,     /* smtp only: EHLO sent, reading its reply */
	STARTTLS_PH_STARTTLS, /* the STARTTLS / STLS command sent */
	STARTTLS_PH_TLS,      /* go-ahead received */
	STARTTLS_PH_FAILED,
};

struct starttls {
	enum starttls_proto proto;
	enum starttls_phase phase;
	enum starttls_status status;  /* the last answer of starttls_feed */
	bool offered;                 /* smtp: STARTTLS seen in the EHLO reply */
	int code;                     /* smtp: the code of the reply being read */
	const char *out;              /* with STARTTLS_SEND: the bytes to send */
	size_t out_len;
	/* why it failed, one token for reports: "greeting-refused",
	 * "ehlo-refused", "starttls-not-offered", "starttls-refused",
	 * "unexpected-reply", "line-too-long", "data-before-tls", "closed" */
	const char *reason;
	char greeting[BANNER_LINE_TEXT]; /* the greeting's first line (printable) */
	char last[BANNER_LINE_TEXT];     /* the line the failure was judged on */
	size_t line_len;
	uint8_t line[STARTTLS_LINE_MAX + 1]; /* and its CR */
};

void starttls_init(struct starttls *st, enum starttls_proto proto);
/* Parse "smtp", "imap", "pop3"; -1 if none. */
int starttls_proto_parse(const char *name, enum starttls_proto *out);
const char *starttls_proto_name(enum starttls_proto p);
const char *starttls_phase_name(enum starttls_phase p);

/* A failed dialogue as one line for reports: its reason and, when the
 * server refused or answered out of place, the line it was judged on
 * ("starttls-refused: 454 4.7.0 TLS not available"); cut to fit out. */
#define STARTTLS_ERROR_MAX 160
void starttls_error_text(const struct starttls *st, char *out, size_t outlen);

/* Feed n bytes from the server. *used is how many were taken: on
 * STARTTLS_SEND it may be less than n (send first, then feed data + *used);
 * on MORE all of them; on READY all (a byte after the go-ahead line is a
 * FAIL instead). After READY or FAIL, feeding changes nothing. */
enum starttls_status starttls_feed(struct starttls *st, const uint8_t *data, size_t n,
				   size_t *used);
/* The server closed (or the caller's deadline passed) before the go-ahead:
 * a FAIL with reason "closed" unless already over. */
enum starttls_status starttls_end(struct starttls *st);

#endif
