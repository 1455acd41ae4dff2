/* banner.c - the --send escapes, the --expect matcher and the STARTTLS
 * dialogues (see banner.h for the contracts). */
#include "banner.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- printable text ----------------------------------------------------------- */

/* n bytes of data as text into out (outlen > 0): printable ASCII as is,
 * "\\" for a backslash, \xNN for the rest; cut at a whole escape. */
static void show_bytes(const uint8_t *data, size_t n, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = data[i];
		char tmp[4];
		size_t k;
		if (c == '\\') {
			tmp[0] = tmp[1] = '\\';
			k = 2;
		} else if (c >= 0x20 && c < 0x7f && c != '"') { /* a quote would end a quoted line */
			tmp[0] = (char)c;
			k = 1;
		} else {
			tmp[0] = '\\', tmp[1] = 'x', tmp[2] = hex[c >> 4], tmp[3] = hex[c & 15];
			k = 4;
		}
		if (o + k >= outlen)
			break;
		memcpy(out + o, tmp, k);
		o += k;
	}
	out[o] = '\0';
}

bool banner_first_line(const uint8_t *data, size_t len, char *out, size_t outlen)
{
	size_t n = 0;
	while (n < len && n < BANNER_LINE_MAX && data[n] != '\r' && data[n] != '\n')
		n++;
	if (outlen > 0)
		show_bytes(data, n, out, outlen);
	return n < len && n < BANNER_LINE_MAX;
}

/* ---- --send ----------------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The byte a one-letter escape stands for, or -1. */
static int named_escape(char e)
{
	switch (e) {
	case 'r': return '\r';
	case 'n': return '\n';
	case 't': return '\t';
	case '\\': return '\\';
	default: return -1;
	}
}

int banner_unescape(const char *s, uint8_t *out, size_t cap, size_t *len, char *err,
		    size_t errlen)
{
	size_t o = 0;
	for (size_t i = 0; s[i] != '\0'; i++) {
		int c = (unsigned char)s[i];
		if (c == '\\') {
			char esc = s[i + 1];
			int named = named_escape(esc);
			if (named >= 0) {
				c = named;
				i++;
			} else if (esc == 'x') {
				int hi = hexval(s[i + 2]), lo = hi < 0 ? -1 : hexval(s[i + 3]);
				if (lo < 0) {
					char shown[16];
					size_t k = hi < 0 ? 2 : 3;
					show_bytes((const uint8_t *)s + i, strnlen(s + i, k), shown,
						   sizeof(shown));
					snprintf(err, errlen,
						 "'%s' at byte %zu: \\x takes exactly two hex digits,"
						 " like \\x0d", shown, i + 1);
					return -1;
				}
				c = hi << 4 | lo;
				i += 3;
			} else if (esc == '\0') {
				snprintf(err, errlen,
					 "a backslash ends the string: write \\\\ for a backslash");
				return -1;
			} else {
				char shown[16];
				show_bytes((const uint8_t *)s + i, 2, shown, sizeof(shown));
				snprintf(err, errlen,
					 "'%s' at byte %zu is not an escape:"
					 " use \\r \\n \\t \\\\ or \\xNN", shown, i + 1);
				return -1;
			}
		}
		if (o >= cap) {
			snprintf(err, errlen, "longer than %zu bytes", cap);
			return -1;
		}
		out[o++] = (uint8_t)c;
	}
	*len = o;
	return 0;
}

/* ---- --expect --------------------------------------------------------------- */

int banner_expect_compile(struct banner_expect *e, const char *pattern, char *err,
			  size_t errlen)
{
	e->compiled = false;
	int rc = regcomp(&e->re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char why[128];
		regerror(rc, &e->re, why, sizeof(why));
		char shown[96];
		show_bytes((const uint8_t *)pattern, strlen(pattern), shown, sizeof(shown));
		snprintf(err, errlen, "'%s': %s", shown, why);
		return -1;
	}
	e->compiled = true;
	return 0;
}

void banner_expect_free(struct banner_expect *e)
{
	if (e->compiled)
		regfree(&e->re);
	e->compiled = false;
}

void banner_match_init(struct banner_match *m, const struct banner_expect *expect)
{
	m->expect = expect;
	m->state = BANNER_NEED_MORE;
	m->len = 0;
	m->seen = 0;
	m->buf[0] = '\0';
}

static bool try_match(const struct banner_match *m, bool ended)
{
	if (m->expect == NULL)
		return ended ? m->len > 0
			     : memchr(m->buf, '\n', m->len) || memchr(m->buf, '\r', m->len);
	int flags = ended ? 0 : REG_NOTEOL;
#ifdef REG_STARTEND
	regmatch_t span[1] = { { .rm_so = 0, .rm_eo = (regoff_t)m->len } };
	return regexec(&m->expect->re, (const char *)m->buf, 1, span, flags | REG_STARTEND) == 0;
#else
	return regexec(&m->expect->re, (const char *)m->buf, 0, NULL, flags) == 0;
#endif
}

enum banner_state banner_match_feed(struct banner_match *m, const uint8_t *data, size_t n)
{
	m->seen += n;
	if (m->state != BANNER_NEED_MORE)
		return m->state;
	size_t room = BANNER_BUF_MAX - m->len, k = n < room ? n : room;
	memcpy(m->buf + m->len, data, k);
	m->len += k;
	m->buf[m->len] = '\0';
	if (try_match(m, false))
		m->state = BANNER_MATCHED;
	else if (m->len == BANNER_BUF_MAX)
		m->state = BANNER_FULL;
	return m->state;
}

enum banner_state banner_match_end(struct banner_match *m)
{
	if (m->state == BANNER_NEED_MORE && try_match(m, true))
		m->state = BANNER_MATCHED;
	return m->state;
}

const char *banner_state_name(enum banner_state s)
{
	switch (s) {
	case BANNER_NEED_MORE: return "need-more";
	case BANNER_MATCHED: return "matched";
	case BANNER_FULL: return "buffer-full";
	}
	return "?";
}

/* ---- STARTTLS --------------------------------------------------------------- */

static const char *const proto_names[] = { "smtp", "imap", "pop3" };

int starttls_proto_parse(const char *name, enum starttls_proto *out)
{
	for (size_t i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (strcmp(name, proto_names[i]) == 0) {
			*out = (enum starttls_proto)i;
			return 0;
		}
	return -1;
}

const char *starttls_proto_name(enum starttls_proto p) { return proto_names[p]; }

const char *starttls_phase_name(enum starttls_phase p)
{
	switch (p) {
	case STARTTLS_PH_GREETING: return "greeting";
	case STARTTLS_PH_EHLO: return "ehlo";
	case STARTTLS_PH_STARTTLS: return "starttls";
	case STARTTLS_PH_TLS: return "tls";
	case STARTTLS_PH_FAILED: return "failed";
	}
	return "?";
}

void starttls_init(struct starttls *st, enum starttls_proto proto)
{
	memset(st, 0, sizeof(*st));
	st->proto = proto;
	st->phase = STARTTLS_PH_GREETING;
	st->status = STARTTLS_MORE;
}

static enum starttls_status fail(struct starttls *st, const char *reason)
{
	st->phase = STARTTLS_PH_FAILED;
	st->reason = reason;
	st->out = NULL;
	st->out_len = 0;
	return STARTTLS_FAIL;
}

static enum starttls_status say(struct starttls *st, const char *cmd, enum starttls_phase next)
{
	st->out = cmd;
	st->out_len = strlen(cmd);
	st->phase = next;
	return STARTTLS_SEND;
}

/* line starts with word (case-insensitive), followed by its end or a space */
static bool word_at(const uint8_t *l, size_t n, const char *word)
{
	size_t w = strlen(word);
	return n >= w && strncasecmp((const char *)l, word, w) == 0 && (n == w || l[w] == ' ');
}

/* An SMTP reply line: "DDD", "DDD text" or "DDD-text"; the code, or -1. */
static int smtp_code(const uint8_t *l, size_t n, bool *more)
{
	if (n < 3 || l[0] < '2' || l[0] > '5' || !isdigit(l[1]) || !isdigit(l[2]))
		return -1;
	if (n > 3 && l[3] != ' ' && l[3] != '-')
		return -1;
	*more = n > 3 && l[3] == '-';
	return (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
}

static enum starttls_status smtp_line(struct starttls *st, const uint8_t *l, size_t n)
{
	bool more;
	int code = smtp_code(l, n, &more);
	if (code < 0 || (st->code != 0 && code != st->code))
		return fail(st, "unexpected-reply");
	/* "250-STARTTLS" or "250 STARTTLS": the keyword, not a parameter */
	if (st->phase == STARTTLS_PH_EHLO && code == 250 && n > 4 &&
	    word_at(l + 4, n - 4, "STARTTLS"))
		st->offered = true;
	if (more) {
		st->code = code;
		return STARTTLS_MORE;
	}
	st->code = 0;
	bool refused = code >= 400;
	switch (st->phase) {
	case STARTTLS_PH_GREETING:
		if (code == 220)
			return say(st, "EHLO tcpshake\r\n", STARTTLS_PH_EHLO);
		return fail(st, refused ? "greeting-refused" : "unexpected-reply");
	case STARTTLS_PH_EHLO:
		if (code == 250)
			return st->offered ? say(st, "STARTTLS\r\n", STARTTLS_PH_STARTTLS)
					   : fail(st, "starttls-not-offered");
		return fail(st, refused ? "ehlo-refused" : "unexpected-reply");
	case STARTTLS_PH_STARTTLS:
		if (code == 220)
			return st->phase = STARTTLS_PH_TLS, STARTTLS_READY;
		return fail(st, refused ? "starttls-refused" : "unexpected-reply");
	default:
		return fail(st, "unexpected-reply");
	}
}

static enum starttls_status imap_line(struct starttls *st, const uint8_t *l, size_t n)
{
	if (st->phase == STARTTLS_PH_GREETING) {
		if (n >= 2 && l[0] == '*' && l[1] == ' ') {
			if (word_at(l + 2, n - 2, "OK"))
				return say(st, "a1 STARTTLS\r\n", STARTTLS_PH_STARTTLS);
			if (word_at(l + 2, n - 2, "BYE"))
				return fail(st, "greeting-refused");
		}
		/* PREAUTH too: STARTTLS is not allowed once authenticated */
		return fail(st, "unexpected-reply");
	}
	if (n >= 2 && l[0] == '*' && l[1] == ' ')
		return word_at(l + 2, n - 2, "BYE") ? fail(st, "starttls-refused") : STARTTLS_MORE;
	if (n >= 3 && memcmp(l, "a1 ", 3) == 0) {
		if (word_at(l + 3, n - 3, "OK"))
			return st->phase = STARTTLS_PH_TLS, STARTTLS_READY;
		if (word_at(l + 3, n - 3, "NO") || word_at(l + 3, n - 3, "BAD"))
			return fail(st, "starttls-refused");
	}
	return fail(st, "unexpected-reply");
}

static enum starttls_status pop3_line(struct starttls *st, const uint8_t *l, size_t n)
{
	bool ok = n >= 3 && memcmp(l, "+OK", 3) == 0 && (n == 3 || l[3] == ' ');
	bool err = n >= 4 && memcmp(l, "-ERR", 4) == 0 && (n == 4 || l[4] == ' ');
	if (st->phase == STARTTLS_PH_GREETING) {
		if (ok)
			return say(st, "STLS\r\n", STARTTLS_PH_STARTTLS);
		return fail(st, err ? "greeting-refused" : "unexpected-reply");
	}
	if (ok)
		return st->phase = STARTTLS_PH_TLS, STARTTLS_READY;
	return fail(st, err ? "starttls-refused" : "unexpected-reply");
}

/* One whole line (its CR LF or LF taken off) judged in the current phase. */
static enum starttls_status judge(struct starttls *st, const uint8_t *l, size_t n)
{
	size_t shown = n < BANNER_LINE_MAX ? n : BANNER_LINE_MAX;
	show_bytes(l, shown, st->last, sizeof(st->last));
	if (st->phase == STARTTLS_PH_GREETING && st->greeting[0] == '\0')
		memcpy(st->greeting, st->last, sizeof(st->greeting));
	switch (st->proto) {
	case STARTTLS_SMTP: return smtp_line(st, l, n);
	case STARTTLS_IMAP: return imap_line(st, l, n);
	case STARTTLS_POP3: return pop3_line(st, l, n);
	}
	return fail(st, "unexpected-reply");
}

enum starttls_status starttls_feed(struct starttls *st, const uint8_t *data, size_t n,
				   size_t *used)
{
	*used = 0;
	if (st->status == STARTTLS_READY || st->status == STARTTLS_FAIL)
		return st->status;
	st->out = NULL;
	st->out_len = 0;
	enum starttls_status r = STARTTLS_MORE;
	size_t i = 0;
	while (i < n && r == STARTTLS_MORE) {
		uint8_t c = data[i++];
		if (c != '\n') {
			/* room for the line and its CR */
			if (st->line_len == STARTTLS_LINE_MAX + 1) {
				show_bytes(st->line, BANNER_LINE_MAX, st->last, sizeof(st->last));
				r = fail(st, "line-too-long");
				break;
			}
			st->line[st->line_len++] = c;
			continue;
		}
		size_t len = st->line_len;
		if (len > 0 && st->line[len - 1] == '\r')
			len--;
		st->line_len = 0;
		if (len > STARTTLS_LINE_MAX) {
			show_bytes(st->line, BANNER_LINE_MAX, st->last, sizeof(st->last));
			r = fail(st, "line-too-long");
			break;
		}
		r = judge(st, st->line, len);
	}
	if (r == STARTTLS_READY && i < n)
		r = fail(st, "data-before-tls");
	*used = i;
	return st->status = r;
}

enum starttls_status starttls_end(struct starttls *st)
{
	if (st->status != STARTTLS_READY && st->status != STARTTLS_FAIL)
		st->status = fail(st, "closed");
	return st->status;
}

/* The reasons whose line says more: the server's own answer. */
static bool shows_line(const char *reason)
{
	static const char *const with_line[] = { "greeting-refused", "ehlo-refused",
						 "starttls-refused", "unexpected-reply" };
	for (size_t i = 0; i < sizeof(with_line) / sizeof(with_line[0]); i++)
		if (strcmp(reason, with_line[i]) == 0)
			return true;
	return false;
}

void starttls_error_text(const struct starttls *st, char *out, size_t outlen)
{
	const char *why = st->reason ? st->reason : "closed";
	if (shows_line(why) && st->last[0])
		snprintf(out, outlen, "%s: %s", why, st->last);
	else
		snprintf(out, outlen, "%s", why);
}
