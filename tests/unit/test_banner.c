/* --send escapes, the --expect matcher, the first line for reports, and the
 * STARTTLS dialogues of SMTP, IMAP and POP3, fed whole, a byte at a time
 * and cut in two at every byte: the outcome must never depend on where the
 * network cut the server's words. */
#include <criterion/criterion.h>
#include <string.h>

#include "banner.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* ---- --send ------------------------------------------------------------------ */

static size_t unesc(const char *s, uint8_t *out, char *err)
{
	size_t len = 999;
	cr_assert_eq(banner_unescape(s, out, strlen(s), &len, err, 160), 0, "%s: %s", s, err);
	return len;
}

Test(send, plain_bytes_stand_for_themselves)
{
	uint8_t out[64];
	char err[160];
	cr_assert_eq(unesc("HEAD / HTTP/1.0", out, err), 15);
	cr_assert_arr_eq(out, "HEAD / HTTP/1.0", 15);
	cr_assert_eq(unesc("", out, err), 0);
}

Test(send, every_escape)
{
	uint8_t out[64];
	char err[160];
	size_t n = unesc("a\\r\\n\\t\\\\\\x41\\x7e\\xFf\\x0Dz", out, err);
	const uint8_t want[] = { 'a', '\r', '\n', '\t', '\\', 'A', '~', 0xff, '\r', 'z' };
	cr_assert_eq(n, sizeof(want));
	cr_assert_arr_eq(out, want, sizeof(want));
}

Test(send, nul_through_x00)
{
	uint8_t out[16];
	char err[160];
	size_t n = unesc("a\\x00b\\x00", out, err);
	const uint8_t want[] = { 'a', 0, 'b', 0 };
	cr_assert_eq(n, 4);
	cr_assert_arr_eq(out, want, 4);
}

Test(send, x_takes_exactly_two_digits)
{
	uint8_t out[16];
	char err[160];
	size_t n = unesc("\\x414", out, err); /* the third digit is a byte of its own */
	cr_assert_eq(n, 2);
	cr_assert_arr_eq(out, "A4", 2);
}

static void bad(const char *s, const char *want_in_err)
{
	uint8_t out[64];
	char err[160] = "";
	size_t len = 7;
	cr_assert_eq(banner_unescape(s, out, sizeof(out), &len, err, sizeof(err)), -1, "%s", s);
	cr_assert(strstr(err, want_in_err) != NULL, "'%s': got '%s', want '%s' in it", s, err,
		  want_in_err);
	cr_assert_eq(len, 7, "len untouched on error");
}

Test(send, errors_say_what_and_where)
{
	bad("ab\\q", "'\\\\q' at byte 3 is not an escape: use \\r \\n \\t \\\\ or \\xNN");
	bad("\\x4", "'\\\\x4' at byte 1: \\x takes exactly two hex digits");
	bad("\\x4g", "'\\\\x4' at byte 1");
	bad("z\\xg1", "'\\\\x' at byte 2");
	bad("\\x", "exactly two hex digits");
	bad("abc\\", "a backslash ends the string");
	bad("\\0", "'\\\\0' at byte 1 is not an escape");
	bad("\\\x01", "'\\\\\\x01' at byte 1"); /* a control byte after it shown as \x01 */
	bad("\\R", "is not an escape");
}

Test(send, bounded_by_cap)
{
	uint8_t out[4];
	char err[160];
	size_t len;
	cr_assert_eq(banner_unescape("abcde", out, 4, &len, err, sizeof(err)), -1);
	cr_assert(strstr(err, "longer than 4 bytes"), "%s", err);
	cr_assert_eq(banner_unescape("\\x41\\x42\\x43\\x44", out, 4, &len, err, sizeof(err)), 0);
	cr_assert_eq(len, 4);
}

/* ---- the first line ------------------------------------------------------------- */

Test(first_line, up_to_cr_or_lf)
{
	char out[BANNER_LINE_TEXT];
	cr_assert(banner_first_line(S("220 mx ESMTP\r\n250 x\r\n"), out, sizeof(out)));
	cr_assert_str_eq(out, "220 mx ESMTP");
	cr_assert(banner_first_line(S("SSH-2.0-x\nrest"), out, sizeof(out)));
	cr_assert_str_eq(out, "SSH-2.0-x");
	cr_assert(!banner_first_line(S("no end yet"), out, sizeof(out)));
	cr_assert_str_eq(out, "no end yet");
	cr_assert(banner_first_line(S("\r\n"), out, sizeof(out)));
	cr_assert_str_eq(out, "");
	cr_assert(!banner_first_line(NULL, 0, out, sizeof(out)));
	cr_assert_str_eq(out, "");
}

Test(first_line, controls_made_printable)
{
	char out[BANNER_LINE_TEXT];
	cr_assert(banner_first_line(S("a\x00\x01\t\x7f\xff\xc3\xa9\\b\r"), out, sizeof(out)));
	cr_assert_str_eq(out, "a\\x00\\x01\\x09\\x7f\\xff\\xc3\\xa9\\\\b");
}

Test(first_line, bounded)
{
	uint8_t data[600];
	memset(data, 'x', sizeof(data));
	data[599] = '\n';
	char out[BANNER_LINE_TEXT];
	cr_assert(!banner_first_line(data, sizeof(data), out, sizeof(out)), "cut by the bound");
	cr_assert_eq(strlen(out), BANNER_LINE_MAX);
	/* 256 bytes that all need \xNN fit the documented size */
	memset(data, 0x01, BANNER_LINE_MAX);
	banner_first_line(data, BANNER_LINE_MAX, out, sizeof(out));
	cr_assert_eq(strlen(out), BANNER_LINE_MAX * 4);
	/* a small out is cut at a whole escape */
	char small[7];
	banner_first_line(S("ab\x01\x02"), small, sizeof(small));
	cr_assert_str_eq(small, "ab\\x01");
}

/* ---- --expect ----------------------------------------------------------------- */

Test(expect, compile_error_from_regerror)
{
	struct banner_expect e;
	char err[200] = "";
	cr_assert_eq(banner_expect_compile(&e, "ab(c", err, sizeof(err)), -1);
	cr_assert(strncmp(err, "'ab(c': ", 8) == 0, "%s", err);
	cr_assert(strlen(err) > 9, "regerror's text follows: %s", err);
	cr_assert(!e.compiled);
	banner_expect_free(&e); /* harmless */
	cr_assert_eq(banner_expect_compile(&e, "x{2,1}", err, sizeof(err)), -1);
}

static struct banner_expect ex;
static void compile(const char *re)
{
	char err[200];
	cr_assert_eq(banner_expect_compile(&ex, re, err, sizeof(err)), 0, "%s", err);
}
static void done(void) { banner_expect_free(&ex); }

TestSuite(match, .fini = done);

Test(match, incremental_across_segments)
{
	compile("^SSH-2\\.0-OpenSSH_[0-9]+");
	struct banner_match m;
	banner_match_init(&m, &ex);
	cr_assert_eq(banner_match_feed(&m, S("SSH-2.")), BANNER_NEED_MORE);
	cr_assert_eq(banner_match_feed(&m, S("0-OpenSSH_")), BANNER_NEED_MORE);
	cr_assert_eq(banner_match_feed(&m, S("9.2p1\r\n")), BANNER_MATCHED);
	cr_assert_eq(banner_match_feed(&m, S("more")), BANNER_MATCHED, "stays matched");
	cr_assert_eq(m.seen, 27);
	cr_assert_eq(m.len, 23, "bytes after the match are not kept");
}

Test(match, every_byte_first_match_where_it_completes)
{
	compile("OpenSSH_[0-9]");
	static const char data[] = "SSH-2.0-OpenSSH_9.2\r\n";
	size_t at = strchr(data, '9') - data;
	struct banner_match m;
	banner_match_init(&m, &ex);
	for (size_t i = 0; i < sizeof(data) - 1; i++) {
		enum banner_state s = banner_match_feed(&m, (const uint8_t *)data + i, 1);
		cr_assert_eq(s, i < at ? BANNER_NEED_MORE : BANNER_MATCHED, "byte %zu", i);
	}
}

Test(match, anchored_start_is_the_stream_start)
{
	compile("^220 ");
	struct banner_match m;
	banner_match_init(&m, &ex);
	cr_assert_eq(banner_match_feed(&m, S("554 no\r\n220 yes\r\n")), BANNER_NEED_MORE);
}

Test(match, end_anchor_only_at_the_end_of_the_stream)
{
	compile("ready$");
	struct banner_match m;
	banner_match_init(&m, &ex);
	cr_assert_eq(banner_match_feed(&m, S("ready")), BANNER_NEED_MORE,
		     "the end of what arrived is not the end");
	cr_assert_eq(banner_match_end(&m), BANNER_MATCHED);

	banner_match_init(&m, &ex);
	cr_assert_eq(banner_match_feed(&m, S("ready ")), BANNER_NEED_MORE);
	cr_assert_eq(banner_match_end(&m), BANNER_NEED_MORE, "no match");
}

Test(match, full_buffer_without_match)
{
	compile("XYZ");
	static uint8_t big[5000];
	memset(big, 'a', sizeof(big));
	struct banner_match m;
	banner_match_init(&m, &ex);
	cr_assert_eq(banner_match_feed(&m, big, 4000), BANNER_NEED_MORE);
	cr_assert_eq(banner_match_feed(&m, big, 1000), BANNER_FULL);
	cr_assert_eq(m.len, BANNER_BUF_MAX);
	cr_assert_eq(m.seen, 5000);
	cr_assert_eq(banner_match_feed(&m, S("XYZ")), BANNER_FULL, "too late");
	cr_assert_eq(banner_match_end(&m), BANNER_FULL);
	cr_assert_str_eq(banner_state_name(BANNER_FULL), "buffer-full");
}

Test(match, the_part_that_fits_is_tried)
{
	compile("XYZ");
	static uint8_t big[5000];
	memset(big, 'a', sizeof(big));
	memcpy(big + BANNER_BUF_MAX - 3, "XYZ", 3);
	struct banner_match m;
	banner_match_init(&m, &ex);
	cr_assert_eq(banner_match_feed(&m, big, sizeof(big)), BANNER_MATCHED);

	memset(big, 'a', sizeof(big));
	memcpy(big + BANNER_BUF_MAX - 2, "XYZ", 3);
	banner_match_init(&m, &ex);
	cr_assert_eq(banner_match_feed(&m, big, sizeof(big)), BANNER_FULL, "cut by the bound");
}

#ifdef REG_STARTEND
Test(match, nul_bytes_are_bytes)
{
	compile("OK");
	struct banner_match m;
	banner_match_init(&m, &ex);
	cr_assert_eq(banner_match_feed(&m, S("a\0")), BANNER_NEED_MORE);
	cr_assert_eq(banner_match_feed(&m, S("b\0")), BANNER_NEED_MORE);
	cr_assert_eq(banner_match_feed(&m, S("\0OK")), BANNER_MATCHED, "seen past the NULs");
}
#endif

Test(match, without_expression_the_first_line)
{
	struct banner_match m;
	banner_match_init(&m, NULL);
	cr_assert_eq(banner_match_feed(&m, S("SSH-2.0-x")), BANNER_NEED_MORE);
	cr_assert_eq(banner_match_feed(&m, S("\r")), BANNER_MATCHED);
	banner_match_init(&m, NULL);
	cr_assert_eq(banner_match_feed(&m, S("partial")), BANNER_NEED_MORE);
	cr_assert_eq(banner_match_end(&m), BANNER_MATCHED, "what came before the end is the banner");
	banner_match_init(&m, NULL);
	cr_assert_eq(banner_match_end(&m), BANNER_NEED_MORE, "nothing came");
	cr_assert_str_eq(banner_state_name(BANNER_NEED_MORE), "need-more");
	cr_assert_str_eq(banner_state_name(BANNER_MATCHED), "matched");
}

/* ---- STARTTLS --------------------------------------------------------------------- */

struct outcome {
	enum starttls_status status;
	enum starttls_phase phase;
	const char *reason;
	char sent[256];
	size_t sent_len;
	char greeting[BANNER_LINE_TEXT];
	char last[BANNER_LINE_TEXT];
	size_t fed; /* bytes taken before the end */
};

/* The server's words fed as a first piece of `split` bytes, then pieces of
 * `step` bytes (0: the rest at once); what the machine says is collected
 * in order. Stops at READY or FAIL, as the engine does. */
static struct outcome drive(enum starttls_proto p, const uint8_t *d, size_t n, size_t split,
			    size_t step)
{
	struct starttls st;
	struct outcome o = { 0 };
	starttls_init(&st, p);
	size_t off = 0;
	enum starttls_status r = STARTTLS_MORE;
	while (off < n && r != STARTTLS_READY && r != STARTTLS_FAIL) {
		size_t piece = off == 0 && split ? split : step ? step : n - off;
		if (piece > n - off)
			piece = n - off;
		size_t at = 0;
		do {
			size_t used;
			r = starttls_feed(&st, d + off + at, piece - at, &used);
			at += used;
			if (r == STARTTLS_SEND) {
				cr_assert(used > 0 && st.out_len > 0);
				cr_assert(o.sent_len + st.out_len < sizeof(o.sent));
				memcpy(o.sent + o.sent_len, st.out, st.out_len);
				o.sent_len += st.out_len;
			} else {
				cr_assert_null(st.out);
			}
		} while (at < piece && r == STARTTLS_SEND);
		cr_assert(r != STARTTLS_MORE || at == piece, "MORE takes everything");
		off += at;
	}
	o.status = r;
	o.phase = st.phase;
	o.reason = st.reason;
	o.fed = off;
	memcpy(o.greeting, st.greeting, sizeof(o.greeting));
	memcpy(o.last, st.last, sizeof(o.last));
	return o;
}

static void same(const struct outcome *a, const struct outcome *b, const char *how, size_t k)
{
	cr_assert_eq(a->status, b->status, "%s %zu: status", how, k);
	cr_assert_eq(a->phase, b->phase, "%s %zu: phase", how, k);
	cr_assert_eq(a->sent_len, b->sent_len, "%s %zu: sent '%.*s'", how, k, (int)b->sent_len,
		     b->sent);
	cr_assert_arr_eq(a->sent, b->sent, a->sent_len, "%s %zu: sent", how, k);
	cr_assert_str_eq(a->reason ? a->reason : "", b->reason ? b->reason : "", "%s %zu", how, k);
	cr_assert_str_eq(a->greeting, b->greeting, "%s %zu: greeting", how, k);
	cr_assert_str_eq(a->last, b->last, "%s %zu: last", how, k);
}

/* The dialogue's outcome, checked to be the same fed whole, a byte at a
 * time, and cut in two at every byte. */
static struct outcome dialogue(enum starttls_proto p, const char *server, size_t n)
{
	const uint8_t *d = (const uint8_t *)server;
	struct outcome whole = drive(p, d, n, 0, 0);
	struct outcome bytes = drive(p, d, n, 0, 1);
	same(&whole, &bytes, "a byte at a time", 1);
	for (size_t k = 1; k < n; k++) {
		struct outcome cut = drive(p, d, n, k, 0);
		same(&whole, &cut, "cut at", k);
	}
	return whole;
}

#define DIALOGUE(p, lit) dialogue(p, lit, sizeof(lit) - 1)

static void ready(const struct outcome *o, const char *sent, const char *greeting)
{
	cr_assert_eq(o->status, STARTTLS_READY, "reason %s, last '%s'", o->reason, o->last);
	cr_assert_eq(o->phase, STARTTLS_PH_TLS);
	cr_assert_null(o->reason);
	cr_assert_eq(o->sent_len, strlen(sent));
	cr_assert_arr_eq(o->sent, sent, o->sent_len);
	cr_assert_str_eq(o->greeting, greeting);
}

static void failed(const struct outcome *o, const char *reason, const char *sent,
		   const char *last)
{
	cr_assert_eq(o->status, STARTTLS_FAIL);
	cr_assert_eq(o->phase, STARTTLS_PH_FAILED);
	cr_assert_str_eq(o->reason, reason);
	cr_assert_eq(o->sent_len, strlen(sent), "sent '%.*s'", (int)o->sent_len, o->sent);
	cr_assert_arr_eq(o->sent, sent, o->sent_len);
	cr_assert_str_eq(o->last, last);
}

#define EHLO "EHLO tcpshake\r\n"
#define GO_SMTP EHLO "STARTTLS\r\n"

Test(smtp, the_whole_dialogue)
{
	struct outcome o = DIALOGUE(STARTTLS_SMTP, "220 mx.test ESMTP Postfix\r\n"
						   "250-mx.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
						   "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"
						   "220 2.0.0 Ready to start TLS\r\n");
	ready(&o, GO_SMTP, "220 mx.test ESMTP Postfix");
	cr_assert_str_eq(o.last, "220 2.0.0 Ready to start TLS");
}

Test(smtp, multi_line_greeting_and_replies)
{
	struct outcome o = DIALOGUE(STARTTLS_SMTP, "220-mx.test first\r\n220-second\r\n220 third\r\n"
						   "250-mx.test\r\n250 STARTTLS\r\n"
						   "220-go\r\n220 go on\r\n");
	ready(&o, GO_SMTP, "220-mx.test first");
}

Test(smtp, bare_lf_bare_codes_lower_case)
{
	struct outcome o = DIALOGUE(STARTTLS_SMTP, "220\n250-x\n250-starttls\n250 HELP\n220\n");
	ready(&o, GO_SMTP, "220");
}

Test(smtp, starttls_not_offered)
{
	struct outcome o = DIALOGUE(STARTTLS_SMTP, "220 mx\r\n250-mx\r\n250-STARTTLSX\r\n"
						   "250-AUTH STARTTLS\r\n250 8BITMIME\r\n");
	failed(&o, "starttls-not-offered", EHLO, "250 8BITMIME");
	cr_assert_str_eq(o.greeting, "220 mx");
}

Test(smtp, greeting_refused)
{
	struct outcome o = DIALOGUE(STARTTLS_SMTP, "554 5.7.1 go away\r\n");
	failed(&o, "greeting-refused", "", "554 5.7.1 go away");
	cr_assert_str_eq(o.greeting, "554 5.7.1 go away");
	o = DIALOGUE(STARTTLS_SMTP, "421-busy\r\n421 try later\r\n");
	failed(&o, "greeting-refused", "", "421 try later");
}

Test(smtp, ehlo_refused)
{
	struct outcome o = DIALOGUE(STARTTLS_SMTP, "220 mx\r\n502 5.5.2 no EHLO here\r\n");
	failed(&o, "ehlo-refused", EHLO, "502 5.5.2 no EHLO here");
}

Test(smtp, starttls_refused)
{
	struct outcome o = DIALOGUE(STARTTLS_SMTP, "220 mx\r\n250-mx\r\n250 STARTTLS\r\n"
						   "454 4.7.0 TLS not available due to temporary reason\r\n");
	failed(&o, "starttls-refused", GO_SMTP, "454 4.7.0 TLS not available due to temporary reason");
	o = DIALOGUE(STARTTLS_SMTP, "220 mx\r\n250 STARTTLS\r\n501-syntax\r\n501 error\r\n");
	failed(&o, "starttls-refused", GO_SMTP, "501 error");
}

Test(smtp, unexpected_replies)
{
	struct outcome o = DIALOGUE(STARTTLS_SMTP, "HTTP/1.1 400 Bad Request\r\n\r\n");
	failed(&o, "unexpected-reply", "", "HTTP/1.1 400 Bad Request");
	cr_assert_str_eq(o.greeting, "HTTP/1.1 400 Bad Request");
	o = DIALOGUE(STARTTLS_SMTP, "SSH-2.0-OpenSSH_9.2\r\n");
	failed(&o, "unexpected-reply", "", "SSH-2.0-OpenSSH_9.2");
	o = DIALOGUE(STARTTLS_SMTP, "220-a\r\n250 b\r\n");
	failed(&o, "unexpected-reply", "", "250 b");
	o = DIALOGUE(STARTTLS_SMTP, "2200 x\r\n");
	failed(&o, "unexpected-reply", "", "2200 x");
	o = DIALOGUE(STARTTLS_SMTP, "220 mx\r\n250 STARTTLS\r\n250 ok\r\n");
	failed(&o, "unexpected-reply", GO_SMTP, "250 ok");
	o = DIALOGUE(STARTTLS_SMTP, "220 mx\r\n354 what\r\n");
	failed(&o, "unexpected-reply", EHLO, "354 what");
	o = DIALOGUE(STARTTLS_SMTP, "\r\n");
	failed(&o, "unexpected-reply", "", "");
	o = DIALOGUE(STARTTLS_SMTP, "\x16\x03\x01\x00\x05hello\n");
	failed(&o, "unexpected-reply", "", "\\x16\\x03\\x01\\x00\\x05hello");
}

Test(smtp, nothing_may_follow_the_go_ahead)
{
	/* in one segment: plain text where the TLS records would be */
	struct outcome o = drive(STARTTLS_SMTP, S("220 mx\r\n250 STARTTLS\r\n220 go\r\nEVIL\r\n"), 0, 0);
	failed(&o, "data-before-tls", GO_SMTP, "220 go");
}

Test(smtp, line_bound)
{
	static char buf[1100 + 64];
	/* 1024 bytes before CR LF: the longest line */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "220 ", 4);
	memcpy(buf + STARTTLS_LINE_MAX, "\r\n", 2);
	struct outcome o = drive(STARTTLS_SMTP, (uint8_t *)buf, STARTTLS_LINE_MAX + 2, 0, 1);
	cr_assert_eq(o.status, STARTTLS_SEND, "judged, EHLO to send");
	cr_assert_eq(o.sent_len, strlen(EHLO));
	/* one byte more, with CR LF or with LF alone */
	memcpy(buf + STARTTLS_LINE_MAX, "a\r\n", 3);
	o = drive(STARTTLS_SMTP, (uint8_t *)buf, STARTTLS_LINE_MAX + 3, 0, 1);
	cr_assert_eq(o.status, STARTTLS_FAIL);
	cr_assert_str_eq(o.reason, "line-too-long");
	cr_assert_eq(strlen(o.last), BANNER_LINE_MAX, "the head of the line shown");
	memcpy(buf + STARTTLS_LINE_MAX, "a\n", 2);
	o = drive(STARTTLS_SMTP, (uint8_t *)buf, STARTTLS_LINE_MAX + 2, 0, 0);
	cr_assert_str_eq(o.reason, "line-too-long");
	/* no end at all: fails as soon as the bound passes, not at the end */
	memset(buf, 'b', sizeof(buf));
	o = drive(STARTTLS_SMTP, (uint8_t *)buf, sizeof(buf), 0, 0);
	cr_assert_str_eq(o.reason, "line-too-long");
	cr_assert_eq(o.fed, STARTTLS_LINE_MAX + 2);
}

Test(smtp, closed_and_after_the_end)
{
	struct starttls st;
	size_t used;
	starttls_init(&st, STARTTLS_SMTP);
	cr_assert_eq(starttls_feed(&st, S("220 mx\r"), &used), STARTTLS_MORE);
	cr_assert_eq(used, 7);
	cr_assert_eq(starttls_end(&st), STARTTLS_FAIL);
	cr_assert_str_eq(st.reason, "closed");
	cr_assert_str_eq(starttls_phase_name(st.phase), "failed");
	cr_assert_eq(starttls_feed(&st, S("\n"), &used), STARTTLS_FAIL);
	cr_assert_eq(used, 0);

	starttls_init(&st, STARTTLS_SMTP);
	cr_assert_eq(starttls_feed(&st, S("220 mx\r\n"), &used), STARTTLS_SEND);
	cr_assert_str_eq(starttls_phase_name(st.phase), "ehlo");
	cr_assert_eq(starttls_feed(&st, S("250 STARTTLS\r\n"), &used), STARTTLS_SEND);
	cr_assert_str_eq(starttls_phase_name(st.phase), "starttls");
	cr_assert_eq(starttls_feed(&st, S("220 go\r\n"), &used), STARTTLS_READY);
	cr_assert_eq(starttls_end(&st), STARTTLS_READY, "over already");
	cr_assert_eq(starttls_feed(&st, S("\x16\x03"), &used), STARTTLS_READY);
	cr_assert_eq(used, 0, "the TLS layer's bytes are left alone");
}

Test(imap, the_whole_dialogue)
{
	struct outcome o = DIALOGUE(STARTTLS_IMAP,
				    "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n"
				    "* CAPABILITY IMAP4rev1 STARTTLS\r\n* 3 EXISTS\r\n"
				    "a1 OK Begin TLS negotiation now\r\n");
	ready(&o, "a1 STARTTLS\r\n", "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready");
	o = DIALOGUE(STARTTLS_IMAP, "* ok hi\na1 ok\n");
	ready(&o, "a1 STARTTLS\r\n", "* ok hi");
}

Test(imap, refusals)
{
	struct outcome o = DIALOGUE(STARTTLS_IMAP, "* OK hi\r\na1 NO not now\r\n");
	failed(&o, "starttls-refused", "a1 STARTTLS\r\n", "a1 NO not now");
	o = DIALOGUE(STARTTLS_IMAP, "* OK hi\r\n* 1 EXISTS\r\na1 BAD unknown command\r\n");
	failed(&o, "starttls-refused", "a1 STARTTLS\r\n", "a1 BAD unknown command");
	o = DIALOGUE(STARTTLS_IMAP, "* OK hi\r\n* BYE shutting down\r\n");
	failed(&o, "starttls-refused", "a1 STARTTLS\r\n", "* BYE shutting down");
	o = DIALOGUE(STARTTLS_IMAP, "* BYE too many connections\r\n");
	failed(&o, "greeting-refused", "", "* BYE too many connections");
}

Test(imap, unexpected)
{
	struct outcome o = DIALOGUE(STARTTLS_IMAP, "* PREAUTH logged in\r\n");
	failed(&o, "unexpected-reply", "", "* PREAUTH logged in");
	o = DIALOGUE(STARTTLS_IMAP, "220 mx ESMTP\r\n");
	failed(&o, "unexpected-reply", "", "220 mx ESMTP");
	o = DIALOGUE(STARTTLS_IMAP, "* OKAY\r\n");
	failed(&o, "unexpected-reply", "", "* OKAY");
	o = DIALOGUE(STARTTLS_IMAP, "* OK\r\na2 OK\r\n");
	failed(&o, "unexpected-reply", "a1 STARTTLS\r\n", "a2 OK");
	o = DIALOGUE(STARTTLS_IMAP, "* OK\r\n+ more\r\n");
	failed(&o, "unexpected-reply", "a1 STARTTLS\r\n", "+ more");
	o = DIALOGUE(STARTTLS_IMAP, "* OK\r\na1 MAYBE\r\n");
	failed(&o, "unexpected-reply", "a1 STARTTLS\r\n", "a1 MAYBE");
}

Test(pop3, the_whole_dialogue)
{
	struct outcome o = DIALOGUE(STARTTLS_POP3, "+OK Dovecot ready.\r\n+OK Begin TLS negotiation\r\n");
	ready(&o, "STLS\r\n", "+OK Dovecot ready.");
	o = DIALOGUE(STARTTLS_POP3, "+OK\n+OK\n");
	ready(&o, "STLS\r\n", "+OK");
}

Test(pop3, refusals_and_garbage)
{
	struct outcome o = DIALOGUE(STARTTLS_POP3, "-ERR go away\r\n");
	failed(&o, "greeting-refused", "", "-ERR go away");
	o = DIALOGUE(STARTTLS_POP3, "+OK hi\r\n-ERR Command not permitted when TLS active\r\n");
	failed(&o, "starttls-refused", "STLS\r\n", "-ERR Command not permitted when TLS active");
	o = DIALOGUE(STARTTLS_POP3, "+OKAY\r\n");
	failed(&o, "unexpected-reply", "", "+OKAY");
	o = DIALOGUE(STARTTLS_POP3, "+OK\r\n-ERRor\r\n");
	failed(&o, "unexpected-reply", "STLS\r\n", "-ERRor");
	o = DIALOGUE(STARTTLS_POP3, "+ok\r\n");
	failed(&o, "unexpected-reply", "", "+ok");
}

Test(starttls, names)
{
	enum starttls_proto p;
	cr_assert_eq(starttls_proto_parse("imap", &p), 0);
	cr_assert_eq(p, STARTTLS_IMAP);
	cr_assert_str_eq(starttls_proto_name(p), "imap");
	cr_assert_eq(starttls_proto_parse("pop3", &p), 0);
	cr_assert_eq(starttls_proto_parse("smtp", &p), 0);
	cr_assert_eq(p, STARTTLS_SMTP);
	cr_assert_eq(starttls_proto_parse("SMTP", &p), -1);
	cr_assert_eq(starttls_proto_parse("ftp", &p), -1);
	cr_assert_str_eq(starttls_phase_name(STARTTLS_PH_GREETING), "greeting");
	cr_assert_str_eq(starttls_phase_name(STARTTLS_PH_TLS), "tls");
}

/* A failed dialogue in one line: the server's own words when it refused. */
Test(starttls, error_text_quotes_the_refusal)
{
	struct starttls st;
	size_t used;
	char out[STARTTLS_ERROR_MAX];
	starttls_init(&st, STARTTLS_POP3);
	const char *a = "+OK hi\r\n-ERR not now\r\n";
	starttls_feed(&st, (const uint8_t *)a, 8, &used);
	cr_assert_eq(starttls_feed(&st, (const uint8_t *)a + 8, strlen(a) - 8, &used), STARTTLS_FAIL);
	starttls_error_text(&st, out, sizeof(out));
	cr_assert_str_eq(out, "starttls-refused: -ERR not now");
	starttls_init(&st, STARTTLS_SMTP);
	starttls_end(&st);
	starttls_error_text(&st, out, sizeof(out));
	cr_assert_str_eq(out, "closed", "no line to quote");
}
