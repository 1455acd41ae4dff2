/* The banner and starttls applications (kind_banner.c), driven through
 * their hooks as probe.c drives them: bytes in, verdicts and times out. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "banner.h"
#include "kind.h"
#include "probe.h"
#include "stream.h"

#define MS INT64_C(1000000)
#define T0 (INT64_C(1700000000) * 1000 * MS) /* the SYN/ACK's capture time */

static struct banner_expect ex;
static struct app_params ap;
static struct probe_params pp;
static struct probe p;

/* A probe just established, its stream ready, the application opened. */
static void open_kind(const struct probe_kind *k, const char *expect, const char *send)
{
	char err[128];
	memset(&ex, 0, sizeof(ex));
	if (expect)
		cr_assert_eq(banner_expect_compile(&ex, expect, err, sizeof(err)), 0, "%s", err);
	ap = (struct app_params){ expect ? &ex : NULL, (const uint8_t *)send,
				  send ? strlen(send) : 0, 0, STARTTLS_SMTP };
	pp = (struct probe_params){ .mode = PMODE_FULL, .close = CLOSE_FIN, .app = &ap };
	memset(&p, 0, sizeof(p));
	p.pp = &pp;
	p.kind = k;
	p.res.established = true;
	p.res.reply_wall_ns = T0;
	p.stream = stream_new(65535, PROBE_SEND_MAX);
	cr_assert_not_null(p.stream);
	stream_reset(p.stream, 1000);
	k->app->on_open(&p);
}

static void done(void)
{
	p.kind->app->on_release(&p);
	stream_free(p.stream);
	banner_expect_free(&ex);
}

/* Bytes arriving at ts (ms after T0); the application consumes them all. */
static enum app_verdict feed(const char *s, int64_t ms, bool eof)
{
	struct app_input in = { (const uint8_t *)s, strlen(s), strlen(s), T0 + ms * MS, eof };
	size_t consumed = 0;
	enum app_verdict v = p.kind->app->on_data(&p, &in, &consumed);
	cr_assert_eq(consumed, in.len, "everything read is consumed");
	return v;
}

/* What the application queued to send, as text. */
static const char *queued(void)
{
	static char buf[256];
	uint32_t n = stream_send_end(p.stream);
	const uint8_t *b = stream_send_bytes(p.stream, 0, n);
	snprintf(buf, sizeof(buf), "%.*s", (int)n, b ? (const char *)b : "");
	return buf;
}

Test(kind_banner, a_greeting_cut_in_two_matches_when_whole)
{
	open_kind(&kind_banner, "^SSH-2\\.0-", NULL);
	cr_assert_eq(feed("SSH-2.", 5, false), APP_MORE);
	cr_assert_eq(feed("0-OpenSSH_9.6\r\n", 7, false), APP_CLOSE);
	const struct banner_result *b = p.res.banner;
	cr_assert(b->expecting && b->matched && b->judged);
	cr_assert_eq(b->first_byte_ns, 5 * MS, "from the SYN/ACK to the first byte");
	cr_assert_eq(b->match_ns, 7 * MS, "to the segment that completed the match");
	cr_assert_eq(b->bytes, 21);
	cr_assert_str_eq(b->first_line, "SSH-2.0-OpenSSH_9.6");
	done();
}

Test(kind_banner, a_mismatch_is_judged_at_the_peers_fin)
{
	open_kind(&kind_banner, "^SSH-", NULL);
	cr_assert_eq(feed("220 mail ESMTP\r\n", 3, false), APP_MORE, "more may come");
	cr_assert_eq(feed("", 9, true), APP_CLOSE);
	cr_assert(p.res.banner->judged);
	cr_assert_not(p.res.banner->matched);
	cr_assert_eq(p.res.banner->match_ns, -1);
	cr_assert_str_eq(p.res.banner->first_line, "220 mail ESMTP");
	done();
}

Test(kind_banner, dollar_matches_at_the_deadline_timed_by_the_last_byte)
{
	open_kind(&kind_banner, "ready$", NULL);
	cr_assert_eq(feed("ready", 4, false), APP_MORE, "$ is not the end while it goes on");
	p.kind->app->on_timeout(&p);
	cr_assert(p.res.banner->matched);
	cr_assert_eq(p.res.banner->match_ns, 4 * MS);
	done();
}

Test(kind_banner, nothing_by_the_deadline_is_a_mismatch)
{
	open_kind(&kind_banner, "^SSH-", NULL);
	p.kind->app->on_timeout(&p);
	cr_assert(p.res.banner->judged);
	cr_assert_not(p.res.banner->matched);
	cr_assert_eq(p.res.banner->bytes, 0);
	cr_assert_eq(p.res.banner->first_byte_ns, -1);
	done();
}

Test(kind_banner, send_first_times_from_its_leaving)
{
	open_kind(&kind_banner, "^\\+PONG", "PING\r\n");
	cr_assert_str_eq(queued(), "PING\r\n");
	p.mark_wire_ns = T0 + 2 * MS; /* the capture saw our PING leave */
	cr_assert_eq(feed("+PONG\r\n", 3, false), APP_CLOSE);
	cr_assert_eq(p.res.banner->first_byte_ns, 1 * MS);
	cr_assert_eq(p.res.banner->match_ns, 1 * MS);
	done();
}

Test(kind_banner, without_expect_the_first_line_ends_it_unchecked)
{
	open_kind(&kind_banner, NULL, NULL);
	cr_assert_eq(feed("220 hello", 1, false), APP_MORE);
	cr_assert_eq(feed(" world\r\n250 more\r\n", 2, false), APP_CLOSE);
	cr_assert_not(p.res.banner->expecting);
	cr_assert_str_eq(p.res.banner->first_line, "220 hello world");
	done();
}

Test(kind_starttls, the_smtp_dialogue_then_tls_without_a_context_closes)
{
	open_kind(&kind_starttls, NULL, NULL);
	cr_assert_str_eq(queued(), "", "the server speaks first");
	cr_assert_str_eq(p.res.tls_early_error, "starttls-incomplete",
			 "until TLS starts the check has not passed (a reset would leave it so)");
	cr_assert_eq(feed("220 mx ready\r\n", 1, false), APP_MORE);
	cr_assert_str_eq(queued(), "EHLO tcpshake\r\n");
	cr_assert_eq(feed("250-mx\r\n250 STARTTLS\r\n", 2, false), APP_MORE);
	cr_assert_str_eq(queued(), "EHLO tcpshake\r\nSTARTTLS\r\n");
	/* the go: TLS would start, but this probe has no TLS context */
	cr_assert_eq(feed("220 go ahead\r\n", 3, false), APP_CLOSE);
	cr_assert_str_eq(p.res.tls_early_error, "internal: TLS did not start",
			 "the dialogue went well, but without TLS the check fails");
	done();
}

Test(kind_starttls, a_refusal_fails_the_check_with_the_servers_line)
{
	open_kind(&kind_starttls, NULL, NULL);
	feed("220 mx\r\n", 1, false);
	feed("250 STARTTLS\r\n", 2, false);
	cr_assert_eq(feed("454 4.7.0 TLS not available\r\n", 3, false), APP_CLOSE);
	cr_assert_str_eq(p.res.tls_early_error, "starttls-refused: 454 4.7.0 TLS not available");
	done();
	cr_assert_null(p.res.tls_early_error, "released with the application");
}

Test(kind_starttls, not_offered_and_a_close_and_a_timeout)
{
	open_kind(&kind_starttls, NULL, NULL);
	feed("220 mx\r\n", 1, false);
	cr_assert_eq(feed("250 SIZE 100\r\n", 2, false), APP_CLOSE);
	cr_assert_str_eq(p.res.tls_early_error, "starttls-not-offered");
	done();
	open_kind(&kind_starttls, NULL, NULL);
	cr_assert_eq(feed("220 mx\r\n", 1, true), APP_CLOSE);
	cr_assert_str_eq(p.res.tls_early_error, "closed");
	done();
	open_kind(&kind_starttls, NULL, NULL);
	feed("220 mx\r\n", 1, false);
	p.kind->app->on_timeout(&p);
	cr_assert_str_eq(p.res.tls_early_error, "starttls-timeout: in ehlo");
	done();
}
