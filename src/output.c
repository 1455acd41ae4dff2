/* output.c - helpers the formats share. */
#include "output.h"
#include "tls.h"
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

const double rtt_bucket_le[RTT_BUCKETS - 1] = { 0.00005, 0.0001, 0.00025, 0.0005, 0.001,
						0.0025, 0.005, 0.01, 0.025, 0.05,
						0.1, 0.25, 0.5 };

const struct output_ops *output_ops_for(enum format f)
{
	switch (f) {
	case FORMAT_JSON:
		return &output_json_ops;
	case FORMAT_CSV:
		return &output_csv_ops;
	case FORMAT_NAGIOS:
		return &output_nagios_ops;
	case FORMAT_PROMETHEUS:
		return &output_prometheus_ops;
	default:
		return &output_text_ops;
	}
}

int output_keep(struct output *o, const struct flow_summary *s)
{
	if (o->nsums == o->capsums) {
		size_t cap = o->capsums ? o->capsums * 2 : 16;
		struct flow_summary *v = realloc(o->sums, cap * sizeof(*v));
		if (!v)
			return -1;
		o->sums = v;
		o->capsums = cap;
	}
	o->sums[o->nsums++] = *s;
	return 0;
}

void output_keep_trace(struct output *o, const struct trace_report *r)
{
	for (size_t i = 0; i < o->nsums; i++) {
		struct flow_summary *s = &o->sums[i];
		if (s->port != r->port || !addr_eq(&s->addr, r->addr))
			continue;
		const struct trace *t = r->t;
		s->trace.seen = true;
		snprintf(s->trace.verdict, sizeof(s->trace.verdict), "%s", trace_verdict_name(t->verdict));
		trace_verdict_text(t, s->trace.text, sizeof(s->trace.text));
		s->trace.last_ttl = t->last_ttl;
		s->trace.hops = t->shown;
		if (t->last_ttl)
			addr_str(&t->hop[t->last_ttl - 1].addr, s->trace.last_hop, sizeof(s->trace.last_hop));
		else
			s->trace.last_hop[0] = '\0';
	}
}

static int by_index(const void *a, const void *b)
{
	const struct flow_summary *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

void output_sort_kept(struct output *o)
{
	if (o->nsums > 1)
		qsort(o->sums, o->nsums, sizeof(*o->sums), by_index);
}

const char *summary_target(const struct flow_summary *s)
{
	return s->name ? s->name : s->target_buf;
}

enum outcome summary_outcome(const struct flow_summary *s)
{
	if (s->open)
		return OUTCOME_OPEN;
	if (s->closed)
		return OUTCOME_CLOSED;
	if (s->unfiltered)
		return OUTCOME_UNFILTERED;
	if (s->unreachable)
		return OUTCOME_UNREACHABLE;
	if (s->filtered || !s->open_filtered)
		return OUTCOME_FILTERED;
	return OUTCOME_OPEN_FILTERED;
}

bool output_shows(const struct output *o, enum outcome oc)
{
	return o->only == 0 || (o->only & (1u << oc));
}

static void rtt_hist_add(uint32_t hist[RTT_BUCKETS], double seconds)
{
	int b = 0;
	while (b < RTT_BUCKETS - 1 && seconds > rtt_bucket_le[b])
		b++;
	hist[b]++;
}

const char *output_mode_name(const struct probe_report *r)
{
	if (r->mode == PMODE_SYN || r->mode == PMODE_FULL || !r->kind)
		return r->mode == PMODE_FULL ? "full" : "syn";
	return r->kind->name;
}

bool expect_met(const struct thresholds *th, const struct flow_summary *s)
{
	return !th->expecting || th->expect[s->port] == OUTCOME_NONE ||
	       th->expect[s->port] == summary_outcome(s);
}

bool run_rate_meaningful(const struct run_summary *r)
{
	return r->sent >= 10 && r->elapsed_ns >= 100000000;
}

double loss_pct(const struct flow_summary *s)
{
	if (s->sent == 0)
		return 0.0;
	return 100.0 * (double)(s->filtered + s->unreachable) / (double)s->sent;
}

void flag_count_add(struct flag_count fc[FLAG_KINDS], uint8_t flags)
{
	for (int i = 0; i < FLAG_KINDS; i++) {
		if (fc[i].n && fc[i].flags == flags) {
			fc[i].n++;
			return;
		}
		if (fc[i].n == 0) {
			fc[i].flags = flags;
			fc[i].n = 1;
			return;
		}
	}
}

void status_count_add(struct status_count sc[HTTP_KINDS], int status)
{
	for (int i = 0; i < HTTP_KINDS; i++) {
		if (sc[i].n && sc[i].status == status) {
			sc[i].n++;
			return;
		}
		if (sc[i].n == 0) {
			sc[i].status = status;
			sc[i].n = 1;
			return;
		}
	}
}

/* The TLS verdict of a probe into its target:port's summary. */
static void summary_add_tls(struct flow_summary *s, const struct tls_result *t)
{
	s->tls.seen = true;
	s->tls.cert = t->cert_present;
	snprintf(s->tls.version, sizeof(s->tls.version), "%s", t->version);
	const char *error = tls_check_error(t);
	snprintf(s->tls.error, sizeof(s->tls.error), "%s", error ? error : "");
	s->tls.days_left = t->days_left;
	s->tls.chain_not_after = t->chain_not_after ? t->chain_not_after : t->not_after;
	s->tls.failed += error != NULL;
}

/* A STARTTLS dialogue that failed: the TLS check failed before TLS. */
static void summary_add_starttls(struct flow_summary *s, const char *error)
{
	s->tls.seen = true;
	snprintf(s->tls.error, sizeof(s->tls.error), "%s", error);
	s->tls.failed++;
}

/* A first line (banner_first_line's text) cut to fit, never inside one
 * of its escapes (\\ or \xNN). */
static void copy_line_text(char *dst, size_t cap, const char *src)
{
	size_t n = 0;
	while (*src) {
		size_t k = src[0] != '\\' ? 1 : src[1] == 'x' ? 4 : 2;
		if (strnlen(src, k) < k || n + k >= cap)
			break;
		memcpy(dst + n, src, k);
		n += k;
		src += k;
	}
	dst[n] = '\0';
}

/* What the server said into its target:port's summary. */
static void summary_add_banner(struct flow_summary *s, const struct banner_result *b)
{
	s->banner.seen = true;
	s->banner.expecting = b->expecting;
	copy_line_text(s->banner.first_line, sizeof(s->banner.first_line), b->first_line);
	if (b->expecting && b->matched)
		s->banner.matched++;
	else if (b->expecting)
		s->banner.mismatched++;
}

/* The probe's middlebox verdict, counted; a reset after the handshake. */
static void summary_add_middlebox(struct flow_summary *s, const struct probe_result *res)
{
	struct mb_judgement j;
	probe_middlebox(res, &j);
	if (j.v == MB_NA)
		return;
	s->middlebox[j.v]++;
	s->mb_resets += res->mb.reset;
}

uint64_t summary_judged(const struct flow_summary *s)
{
	uint64_t n = 0;
	for (int k = MB_NONE; k < MB_KINDS; k++)
		n += s->middlebox[k];
	return n;
}

enum mb_verdict summary_middlebox(const struct flow_summary *s)
{
	if (!s->middlebox[MB_SYNPROXY] && !s->middlebox[MB_SYNCOOKIES])
		return MB_NA;
	return s->middlebox[MB_SYNPROXY] >= s->middlebox[MB_SYNCOOKIES] ? MB_SYNPROXY : MB_SYNCOOKIES;
}

void summary_add(struct flow_summary *s, const struct probe_result *res)
{
	s->sent++;
	summary_add_middlebox(s, res);
	switch (res->outcome) {
	case OUTCOME_OPEN:
		s->open++;
		break;
	case OUTCOME_CLOSED:
		s->closed++;
		break;
	case OUTCOME_FILTERED:
		s->filtered++;
		break;
	case OUTCOME_UNREACHABLE:
		s->unreachable++;
		break;
	case OUTCOME_UNFILTERED:
		s->unfiltered++;
		break;
	case OUTCOME_OPEN_FILTERED:
		s->open_filtered++;
		break;
	default:
		break;
	}
	if (res->flags && !res->icmp)
		flag_count_add(s->flags, res->flags);
	if (res->rtt_source != RTT_NONE) {
		stats_add(&s->rtt, (double)res->rtt_ns / 1e3);
		rtt_hist_add(s->rtt_hist, (double)res->rtt_ns / 1e9);
	}
	if (res->tls && res->established)
		summary_add_tls(s, res->tls);
	else if (res->tls_early_error && res->established)
		summary_add_starttls(s, res->tls_early_error);
	if (res->banner && res->established)
		summary_add_banner(s, res->banner);
	if (res->icmp || res->no_neighbour) {
		s->icmp_seen = true;
		s->icmp_type = res->icmp_type;
		s->icmp_code = res->icmp_code;
	}
	if (res->established && res->close != CLOSE_NONE && res->close_ns >= 0)
		stats_add(&s->close_time, (double)res->close_ns / 1e3);
	if (res->established) {
		s->established++;
		if (res->close < CLOSE_KINDS)
			s->closes[res->close]++;
	}
	if (s->http && res->established) {
		status_count_add(s->status, res->http.status);
		if (res->http.ttfb_ns >= 0)
			stats_add(&s->ttfb, (double)res->http.ttfb_ns / 1e3);
	}
}

size_t utf8_seq(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n;
	uint32_t c, min;
	if ((p[0] & 0xe0) == 0xc0) {
		n = 2, c = p[0] & 0x1fu, min = 0x80;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3, c = p[0] & 0x0fu, min = 0x800;
	} else if ((p[0] & 0xf8) == 0xf0) {
		n = 4, c = p[0] & 0x07u, min = 0x10000;
	} else {
		return 0; /* a continuation byte, or 0xf8 and above */
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0; /* the string's NUL included: never read past it */
		c = c << 6 | (p[i] & 0x3fu);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0; /* overlong, beyond Unicode, or a surrogate */
	return n;
}

const char *put_utf8(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = utf8_seq(p);
	if (n == 0) {
		fputs(UTF8_REPLACEMENT, f);
		return s + 1;
	}
	fwrite(p, 1, n, f);
	return s + n;
}

void put_plain(FILE *f, const char *s, bool bar_too)
{
	while (*s) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f) {
			fputs(UTF8_REPLACEMENT, f);
			s++;
		} else if (c == '|' && bar_too) {
			fputc('/', f);
			s++;
		} else {
			s = put_utf8(f, s);
		}
	}
}

/* Above a threshold (strictly: a value at the threshold is within it, as
 * the plugin guidelines' ranges read). */
static enum nagios_state rate(double v, double warn, double crit)
{
	if (v > crit)
		return NAGIOS_CRITICAL;
	if (v > warn)
		return NAGIOS_WARNING;
	return NAGIOS_OK;
}

/* --tls: a failed handshake or verification is CRITICAL (unless
 * --insecure, which keeps a certificate's problems out of tls.error); a
 * certificate with fewer days left than --cert-critical / --cert-warning
 * CRITICAL / WARNING, as check_tcp -D. The reason says which. */
static enum nagios_state nagios_tls_state(const struct flow_summary *s, const struct thresholds *th,
					  const char *ep, char *reason, size_t len)
{
	if (s->tls.failed) {
		snprintf(reason, len, "%s open, TLS failed: %s", ep,
			 s->tls.error[0] ? s->tls.error : "in an earlier probe");
		return NAGIOS_CRITICAL;
	}
	if (!s->tls.cert)
		return NAGIOS_OK;
	enum nagios_state st = NAGIOS_OK;
	if (th->cert_crit_days >= 0 && s->tls.days_left <= th->cert_crit_days)
		st = NAGIOS_CRITICAL;
	else if (th->cert_warn_days >= 0 && s->tls.days_left <= th->cert_warn_days)
		st = NAGIOS_WARNING;
	size_t n = strlen(reason);
	snprintf(reason + n, len - n, ", %s, certificate %s in %lld days", s->tls.version,
		 s->tls.days_left < 0 ? "expired" : "expires", (long long)s->tls.days_left);
	return st;
}

/* --expect: a probe that did not match is --mismatch's state (check_tcp
 * -M: WARNING by default); the reason quotes what was read. */
static enum nagios_state nagios_banner_state(const struct flow_summary *s,
					     const struct thresholds *th, const char *ep,
					     char *reason, size_t len)
{
	if (!s->banner.mismatched)
		return NAGIOS_OK;
	snprintf(reason, len, "%s open, expect mismatch (%llu of %llu): \"%s\"", ep,
		 (unsigned long long)s->banner.mismatched,
		 (unsigned long long)(s->banner.matched + s->banner.mismatched),
		 s->banner.first_line);
	return th->mismatch;
}

/* A middlebox found, or resets right after the handshake, in the reason:
 * information, not a state (the port is open). */
static void nagios_middlebox_reason(const struct flow_summary *s, char *reason, size_t len)
{
	size_t n = strlen(reason);
	enum mb_verdict v = summary_middlebox(s);
	if (v != MB_NA && n < len)
		n += (size_t)snprintf(reason + n, len - n, ", middlebox %s (%llu of %llu probes)",
				      mb_name(v), (unsigned long long)s->middlebox[v],
				      (unsigned long long)summary_judged(s));
	if (s->mb_resets && n < len)
		snprintf(reason + n, len - n, ", reset after the handshake (%llu)",
			 (unsigned long long)s->mb_resets);
}

enum nagios_state nagios_flow_state(const struct flow_summary *s, const struct thresholds *th,
				    int64_t timeout_ns, char *reason, size_t len)
{
	char ep[80], name[32];
	endpoint_str(&s->addr, s->port, ep, sizeof(ep));
	if (s->sent == 0) {
		snprintf(reason, len, "%s not probed", ep);
		return NAGIOS_UNKNOWN;
	}
	if (th->expecting && th->expect[s->port] != OUTCOME_NONE) {
		/* compliance: the named state is OK, any other CRITICAL */
		enum outcome oc = summary_outcome(s), want = (enum outcome)th->expect[s->port];
		snprintf(reason, len, "%s %s, expected %s", ep, outcome_name(oc), outcome_name(want));
		return oc == want ? NAGIOS_OK : NAGIOS_CRITICAL;
	}
	if (s->mode == PMODE_SCAN) {
		/* a flag scan: OK when the state was determined by an answer */
		enum outcome oc = summary_outcome(s);
		snprintf(reason, len, "%s %s", ep, outcome_name(oc));
		return oc == OUTCOME_OPEN_FILTERED || (oc == OUTCOME_FILTERED && !s->icmp_seen)
			       ? NAGIOS_WARNING : NAGIOS_OK;
	}
	if (s->open == 0) {
		if (s->closed) {
			snprintf(reason, len, "%s closed (connection refused)", ep);
			return th->refused;
		}
		if (s->unreachable) {
			snprintf(reason, len, "%s unreachable (%s)", ep,
				 icmp_name(s->addr.family, s->icmp_type, s->icmp_code, name,
					   sizeof(name)));
			return NAGIOS_CRITICAL;
		}
		snprintf(reason, len, "%s filtered (no answer in %g s)", ep, (double)timeout_ns / 1e9);
		return NAGIOS_CRITICAL;
	}
	double rtt_ms = s->rtt.mean / 1e3, loss = loss_pct(s);
	enum nagios_state a = rate(rtt_ms, th->warn_rtt_ms, th->crit_rtt_ms);
	enum nagios_state b = rate(loss, th->warn_loss, th->crit_loss);
	snprintf(reason, len, "%s open, rtt %.3f ms, loss %g%%", ep, rtt_ms, loss);
	nagios_middlebox_reason(s, reason, len);
	enum nagios_state st = a > b ? a : b;
	if (s->tls.seen) {
		enum nagios_state c = nagios_tls_state(s, th, ep, reason, len);
		st = c > st ? c : st;
	}
	if (s->banner.mismatched) {
		enum nagios_state c = nagios_banner_state(s, th, ep, reason, len);
		st = c > st ? c : st;
	}
	return st;
}

/* ---- -o FILE ------------------------------------------------------------
 * A regular file (or a new path) is written as an unnamed file in its
 * directory (O_TMPFILE), given a name only at the end and renamed into
 * place: a reader never sees half a file, and a run killed at any point
 * before (SIGINT while names resolve included) leaves nothing behind. A
 * file system without O_TMPFILE gets a named temporary file instead. A
 * symlink to a regular file keeps the link and replaces what it names.
 * Anything else that exists - a device, a FIFO, a socket - is written
 * directly, never replaced; a directory is refused. */

int output_path_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "-o %s: is a directory", path);
		return -1;
	}
	return 0;
}

static int file_fail(struct output_file *of, const char *path, int e, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", path, strerror(e));
	output_file_abort(of);
	return -1;
}

/* The directory of path, for O_TMPFILE: "." when it has no slash. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int open_unnamed(const char *target)
{
	char *dir = dir_of(target);
	if (!dir)
		return -1;
	int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
	int e = errno;
	free(dir);
	errno = e;
	return fd;
}

static int open_named(struct output_file *of)
{
	if (asprintf(&of->tmp, "%s.XXXXXX", of->path) < 0) {
		of->tmp = NULL; /* asprintf leaves it undefined on failure */
		errno = ENOMEM;
		return -1;
	}
	int fd = mkostemp(of->tmp, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(of->tmp);
		of->tmp = NULL;
		errno = e;
		return -1;
	}
	mode_t um = umask(0);
	umask(um);
	(void)fchmod(fd, 0666 & ~um);
	return fd;
}

/* Where the finished report goes: a regular file's own path (through a
 * symlink), or path itself when it does not exist yet. */
static char *rename_target(const char *path, const struct stat *st)
{
	if (st && S_ISREG(st->st_mode)) {
		char *real = realpath(path, NULL);
		if (real)
			return real;
	}
	return strdup(path);
}

int output_file_open(struct output_file *of, const char *path, char *err, size_t errlen)
{
	struct stat st;
	memset(of, 0, sizeof(*of));
	bool exists = stat(path, &st) == 0;
	if (!exists && errno != ENOENT)
		return file_fail(of, path, errno, err, errlen);
	if (exists && S_ISDIR(st.st_mode))
		return file_fail(of, path, EISDIR, err, errlen);
	int fd;
	if (exists && !S_ISREG(st.st_mode)) {
		of->direct = true;
		fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	} else {
		of->path = rename_target(path, exists ? &st : NULL);
		if (!of->path)
			return file_fail(of, path, ENOMEM, err, errlen);
		fd = open_unnamed(of->path);
		of->unnamed = fd >= 0;
		if (fd < 0)
			fd = open_named(of);
	}
	if (fd < 0)
		return file_fail(of, path, errno, err, errlen);
	of->f = fdopen(fd, "w");
	if (!of->f) {
		int e = errno;
		close(fd);
		return file_fail(of, path, e, err, errlen);
	}
	return 0;
}

/* Give the unnamed file a name beside its target: a fresh random one,
 * through /proc (linkat with AT_EMPTY_PATH would need a capability). */
static int link_unnamed(struct output_file *of)
{
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fileno(of->f));
	for (int tries = 0; tries < 16; tries++) {
		uint64_t r;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -1;
		free(of->tmp);
		if (asprintf(&of->tmp, "%s.%016llx", of->path, (unsigned long long)r) < 0) {
			of->tmp = NULL;
			errno = ENOMEM;
			return -1;
		}
		if (linkat(AT_FDCWD, proc, AT_FDCWD, of->tmp, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	int e = errno;
	free(of->tmp);
	of->tmp = NULL;
	errno = e;
	return -1;
}

/* Everything written and on disk; a device or a FIFO is only flushed. */
static int file_flush(struct output_file *of)
{
	if (fflush(of->f) != 0 || ferror(of->f))
		return -1;
	if (!of->direct && fsync(fileno(of->f)) != 0)
		return -1;
	return 0;
}

int output_file_commit(struct output_file *of, char *err, size_t errlen)
{
	int rc = file_flush(of);
	if (rc == 0 && of->unnamed)
		rc = link_unnamed(of);
	int saved = rc < 0 ? errno : 0;
	if (fclose(of->f) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	of->f = NULL;
	if (rc == 0 && !of->direct && rename(of->tmp, of->path) != 0) {
		rc = -1;
		saved = errno;
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", of->path ? of->path : "-o",
			 strerror(saved ? saved : EIO));
		output_file_abort(of);
		return -1;
	}
	free(of->tmp);
	free(of->path);
	memset(of, 0, sizeof(*of));
	return 0;
}

void output_file_abort(struct output_file *of)
{
	if (of->f)
		fclose(of->f);
	if (of->tmp)
		unlink(of->tmp);
	free(of->tmp);
	free(of->path);
	memset(of, 0, sizeof(*of));
}
