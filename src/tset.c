/* tset.c - target blocks, their parsing, excludes, and the i-th target. */
#include "tset.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "targets.h"

static u128 addr_num(const struct addr *a)
{
	u128 v = 0;
	for (size_t i = 0; i < addr_len(a); i++)
		v = v << 8 | a->b[i];
	return v;
}

static void num_addr(int family, u128 v, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	size_t n = family == AF_INET ? 4 : 16;
	for (size_t i = n; i-- > 0;) {
		a->b[i] = (uint8_t)v;
		v >>= 8;
	}
}

static int parse_addr(const char *s, int *family, u128 *v)
{
	struct addr a;
	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, s, a.b) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.b) == 1)
		a.family = AF_INET6;
	else
		return -1;
	*family = a.family;
	*v = addr_num(&a);
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A block as the interval of addresses it covers: excludes may be of any
 * size (a /0 too); targets must fit a 64-bit count. */
struct span {
	int family;
	u128 lo, hi;
};

static int parse_cidr(const char *spec, const char *slash, int fam_only, struct span *sp,
		      char *err, size_t errlen)
{
	char a[64];
	unsigned long bits;
	size_t n = (size_t)(slash - spec);
	if (n == 0 || n >= sizeof(a)) {
		snprintf(err, errlen, "not an address before '/'");
		return -2;
	}
	memcpy(a, spec, n);
	a[n] = '\0';
	if (parse_addr(a, &sp->family, &sp->lo) < 0) {
		char shown[80];
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address",
			 str_show(a, 64, shown, sizeof(shown)));
		return -2;
	}
	unsigned width = sp->family == AF_INET ? 32 : 128;
	if (parse_uint(slash + 1, width, &bits) < 0) {
		snprintf(err, errlen, "prefix length must be 0-%u", width);
		return -2;
	}
	if (fam_only && fam_only != sp->family) {
		snprintf(err, errlen, "not an %s block", fam_only == AF_INET ? "IPv4" : "IPv6");
		return -2;
	}
	unsigned host = width - (unsigned)bits;
	u128 mask = host >= 128 ? ~(u128)0 : ((u128)1 << host) - 1;
	sp->lo &= ~mask;
	sp->hi = sp->lo | mask;
	return 0;
}

static int parse_range(const char *spec, const char *dash, int fam_only, struct span *sp,
		       char *err, size_t errlen)
{
	char a[64], shown[80];
	size_t n = (size_t)(dash - spec);
	if (n == 0 || n >= sizeof(a))
		return -1;
	memcpy(a, spec, n);
	a[n] = '\0';
	if (parse_addr(a, &sp->family, &sp->lo) < 0)
		return -1; /* a name with a dash in it */
	if (fam_only && fam_only != sp->family) {
		snprintf(err, errlen, "not an %s range", fam_only == AF_INET ? "IPv4" : "IPv6");
		return -2;
	}
	const char *end_s = dash + 1;
	int fam2;
	unsigned long octet;
	if (sp->family == AF_INET && parse_uint(end_s, 255, &octet) == 0) {
		sp->hi = (sp->lo & ~(u128)0xff) | octet; /* 198.18.0.1-200 */
	} else if (parse_addr(end_s, &fam2, &sp->hi) == 0 && fam2 == sp->family) {
		/* 198.18.0.1-198.18.1.9 */
	} else {
		snprintf(err, errlen, "'%s' does not end a range of %s",
			 str_show(end_s, 64, shown, sizeof(shown)), a);
		return -2;
	}
	if (sp->hi < sp->lo) {
		snprintf(err, errlen, "reversed range %s", str_show(spec, 128, shown, sizeof(shown)));
		return -2;
	}
	return 0;
}

/* 0, -1 when not numeric (a name), -2 with a reason when malformed. */
static int span_parse(const char *spec, int family, struct span *sp, char *err, size_t errlen)
{
	memset(sp, 0, sizeof(*sp));
	const char *slash = strchr(spec, '/');
	if (slash)
		return parse_cidr(spec, slash, family, sp, err, errlen);
	const char *dash = strchr(spec, '-');
	if (dash) {
		int rc = parse_range(spec, dash, family, sp, err, errlen);
		if (rc != -1)
			return rc;
	}
	if (parse_addr(spec, &sp->family, &sp->lo) < 0)
		return -1;
	if (family && family != sp->family) {
		snprintf(err, errlen, "not an %s address", family == AF_INET ? "IPv4" : "IPv6");
		return -2;
	}
	sp->hi = sp->lo;
	return 0;
}

int tblock_parse(const char *spec, int family, struct tblock *b, char *err, size_t errlen)
{
	struct span sp;
	memset(b, 0, sizeof(*b));
	int rc = span_parse(spec, family, &sp, err, errlen);
	if (rc < 0)
		return rc;
	if (sp.hi - sp.lo >= (u128)UINT64_MAX) {
		snprintf(err, errlen, "a block of 2^64 addresses or more (excludes may be wider)");
		return -2;
	}
	b->family = sp.family;
	b->base = sp.lo;
	b->count = (uint64_t)(sp.hi - sp.lo) + 1;
	return 0;
}

/* Addresses no TCP handshake can be made with: the unspecified address,
 * multicast, IPv4's limited broadcast. NULL when the block holds none. */
static const char *unprobeable(int family, u128 lo, u128 hi)
{
	if (lo == 0)
		return family == AF_INET ? "0.0.0.0 (the unspecified address) cannot be probed"
					 : ":: (the unspecified address) cannot be probed";
	if (family == AF_INET) {
		if (lo <= 0xefffffff && hi >= 0xe0000000)
			return "a multicast address (224.0.0.0/4) cannot be probed";
		if (hi == 0xffffffff)
			return "255.255.255.255 (broadcast) cannot be probed";
		return NULL;
	}
	if (hi >= (u128)0xff << 120)
		return "a multicast address (ff00::/8) cannot be probed";
	return NULL;
}

/* A target or exclude as typed: not empty, no control characters (they
 * are never part of a name or address, and must not reach a terminal). */
static int spec_sane(const char *spec, char *err, size_t errlen)
{
	if (*spec == '\0') {
		snprintf(err, errlen, "empty target");
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)spec; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "holds a control character (\\x%02x)", *p);
			return -1;
		}
	return 0;
}

void tset_init(struct tset *s, int family, bool numeric, uint64_t max)
{
	memset(s, 0, sizeof(*s));
	s->family = family;
	s->numeric = numeric;
	s->max = max ? max : TSET_DEFAULT_MAX;
}

void tset_free(struct tset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	free(s->cum);
	free(s->excl[0]);
	free(s->excl[1]);
	free(s->first_unresolved);
	memset(s, 0, sizeof(*s));
}

static int push_block(struct tset *s, const struct tblock *b, char *err, size_t errlen)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct tblock *v = realloc(s->v, cap * sizeof(*v));
		if (!v) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = *b;
	return 0;
}

/* A numeric block (0), or a name resolved to its one address (2); 1 when
 * the name did not resolve, -1 when the spec is malformed. */
static int spec_block(struct tset *s, const char *spec, struct tblock *b, char *err,
		      size_t errlen)
{
	if (spec_sane(spec, err, errlen) < 0)
		return -1;
	int rc = tblock_parse(spec, s->family, b, err, errlen);
	if (rc == 0)
		return 0;
	if (rc == -2)
		return -1;
	struct addr a;
	if (target_resolve(spec, s->family, s->numeric, &a, err, errlen) < 0)
		return 1;
	b->family = a.family;
	b->base = addr_num(&a);
	b->count = 1;
	return 2;
}

/* --all-addresses: the name's other addresses, each a target of its own
 * under the name (the first is in already). */
static int add_other_addresses(struct tset *s, const char *spec, const struct tblock *first,
			       char *err, size_t errlen)
{
	struct addr all[64];
	size_t n = target_resolve_all(spec, s->family, all, 64);
	for (size_t i = 0; i < n; i++) {
		struct tblock b = *first;
		b.family = all[i].family;
		b.base = addr_num(&all[i]);
		if (b.family == first->family && b.base == first->base)
			continue;
		if (unprobeable(b.family, b.base, b.base))
			continue;
		if (!(b.name = strdup(spec))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		if (push_block(s, &b, err, errlen) < 0) {
			free(b.name);
			return -1;
		}
	}
	return 0;
}

int tset_add(struct tset *s, const char *spec, char *err, size_t errlen)
{
	struct tblock b;
	int rc = spec_block(s, spec, &b, err, errlen);
	if (rc == 1) {
		if (s->unresolved++ == 0)
			s->first_unresolved = strdup(spec);
		return 1;
	}
	if (rc < 0)
		return -1;
	const char *why = unprobeable(b.family, b.base, b.base + (b.count - 1));
	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (rc == 2 && !(b.name = strdup(spec))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (push_block(s, &b, err, errlen) < 0) {
		free(b.name);
		return -1;
	}
	return rc == 2 && s->all_addresses ? add_other_addresses(s, spec, &b, err, errlen) : 0;
}

static int cmp_interval(const void *x, const void *y)
{
	const struct interval *a = x, *b = y;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

/* An exclude as an interval: a numeric block of any size, or a name. */
static int exclude_span(struct tset *s, const char *spec, struct span *sp, char *err,
			size_t errlen)
{
	if (spec_sane(spec, err, errlen) < 0)
		return -1;
	int rc = span_parse(spec, s->family, sp, err, errlen);
	if (rc == 0)
		return 0;
	if (rc == -2)
		return -1;
	struct addr a;
	if (target_resolve(spec, s->family, s->numeric, &a, err, errlen) < 0)
		return -1; /* an exclude that names nothing is an error, not a skip */
	sp->family = a.family;
	sp->lo = sp->hi = addr_num(&a);
	return 0;
}

int tset_exclude(struct tset *s, const char *spec, char *err, size_t errlen)
{
	struct span sp;
	if (exclude_span(s, spec, &sp, err, errlen) < 0)
		return -1;
	int f = sp.family == AF_INET6;
	if (s->nexcl[f] == s->capexcl[f]) {
		size_t cap = s->capexcl[f] ? s->capexcl[f] * 2 : 16;
		struct interval *v = realloc(s->excl[f], cap * sizeof(*v));
		if (!v) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		s->excl[f] = v;
		s->capexcl[f] = cap;
	}
	s->excl[f][s->nexcl[f]++] = (struct interval){ sp.lo, sp.hi };
	return 0;
}

int tset_exclude_list(struct tset *s, const char *list, char *err, size_t errlen)
{
	char item[128], shown[160], why[256];
	for (const char *p = list;;) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, errlen, "empty or overlong item in '%s'",
				 str_show(list, 128, shown, sizeof(shown)));
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (tset_exclude(s, item, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", str_show(item, 128, shown, sizeof(shown)), why);
			return -1;
		}
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

#define LINE_MAX_BYTES 512

/* One line of f into line (LINE_MAX_BYTES), without its newline: 1, or 0
 * at the end of the file; -1 when it is too long, -2 at a NUL byte, -3 on
 * a read error. Never reads past the line it refuses: /dev/zero ends. */
static int read_line(FILE *f, char *line)
{
	size_t n = 0;
	int c;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0')
			return -2;
		if (n == LINE_MAX_BYTES - 1)
			return -1;
		line[n++] = (char)c;
	}
	line[n] = '\0';
	if (c == EOF && ferror(f))
		return -3;
	return c == EOF && n == 0 ? 0 : 1;
}

/* The target on a line: white space around it, a comment (#) after it,
 * right after it too (198.18.0.1#web). NULL for a blank line; "" when
 * more than one word is left. */
static char *line_target(char *line)
{
	static const char space[] = " \t\r\v\f";
	line[strcspn(line, "#")] = '\0';
	char *t = line + strspn(line, space);
	size_t n = strcspn(t, space);
	if (n == 0)
		return NULL;
	if (t[n] != '\0') {
		if (t[n + strspn(t + n, space)] != '\0')
			return t + strlen(t); /* "" */
		t[n] = '\0';
	}
	return t;
}

/* Fill err with "PATH:LINE: why", the path quoted safely. */
static int line_error(char *err, size_t errlen, const char *path, unsigned long lineno,
		      const char *what, const char *why)
{
	char shown_path[160], shown_what[160];
	str_show(path, 128, shown_path, sizeof(shown_path));
	if (what)
		snprintf(err, errlen, "%s:%lu: %s: %s", shown_path, lineno,
			 str_show(what, 128, shown_what, sizeof(shown_what)), why);
	else
		snprintf(err, errlen, "%s:%lu: %s", shown_path, lineno, why);
	return -1;
}

static int add_lines(struct tset *s, FILE *f, const char *path, bool exclude, char *err,
		     size_t errlen)
{
	char line[LINE_MAX_BYTES], why[256];
	static const char *const bad[] = { "", "line too long (511 bytes at most)",
					   "a NUL byte (not a text file)", NULL };
	for (unsigned long lineno = 1;; lineno++) {
		int r = read_line(f, line);
		if (r == 0)
			return 0;
		if (r == -3) {
			char shown[160];
			snprintf(err, errlen, "%s: %s", str_show(path, 128, shown, sizeof(shown)),
				 strerror(errno));
			return -1;
		}
		if (r < 0)
			return line_error(err, errlen, path, lineno, NULL, bad[-r]);
		char *t = line_target(line);
		if (!t)
			continue;
		if (*t == '\0')
			return line_error(err, errlen, path, lineno, NULL, "one target per line");
		r = exclude ? tset_exclude(s, t, why, sizeof(why)) : tset_add(s, t, why, sizeof(why));
		if (r < 0)
			return line_error(err, errlen, path, lineno, t, why);
		if (r == 1) {
			char msg[512];
			line_error(msg, sizeof(msg), path, lineno, t, why);
			diag_error(NULL, "%s", msg);
		}
	}
}

int tset_add_file(struct tset *s, const char *path, bool exclude, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!f) {
		char shown[160];
		snprintf(err, errlen, "%s: %s", str_show(path, 128, shown, sizeof(shown)),
			 strerror(errno));
		return -1;
	}
	int rc = add_lines(s, f, path, exclude, err, errlen);
	if (f != stdin)
		fclose(f);
	return rc;
}

static void merge(struct interval *v, size_t *n)
{
	if (*n == 0)
		return;
	qsort(v, *n, sizeof(*v), cmp_interval);
	size_t k = 0;
	for (size_t i = 1; i < *n; i++) {
		if (v[k].hi == ~(u128)0 || v[i].lo <= v[k].hi + 1) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	*n = k + 1;
}

/* Single addresses in block order, to find the ones given twice. */
struct single {
	int family;
	u128 addr;
	size_t block;
};

static int cmp_single(const void *x, const void *y)
{
	const struct single *a = x, *b = y;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	return a->block < b->block ? -1 : a->block > b->block;
}

/* An address given twice (two names for one host, or a name and its
 * address) is probed once, under the first: two flows of one address
 * would be one target:port reported twice. */
static int drop_repeats(struct tset *s, char *err, size_t errlen)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += s->v[i].count == 1;
	if (n < 2)
		return 0;
	struct single *v = malloc(n * sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].count == 1)
			v[n++] = (struct single){ s->v[i].family, s->v[i].base, i };
	qsort(v, n, sizeof(*v), cmp_single);
	for (size_t i = 1; i < n; i++)
		if (v[i].family == v[i - 1].family && v[i].addr == v[i - 1].addr)
			s->v[v[i].block].count = 0; /* dropped below */
	free(v);
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].count == 0)
			free(s->v[i].name);
		else
			s->v[k++] = s->v[i];
	}
	s->n = k;
	return 0;
}

int tset_finish(struct tset *s, char *err, size_t errlen)
{
	merge(s->excl[0], &s->nexcl[0]);
	merge(s->excl[1], &s->nexcl[1]);
	if (drop_repeats(s, err, errlen) < 0)
		return -1;
	s->cum = calloc(s->n + 1, sizeof(*s->cum));
	if (!s->cum) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	u128 total = 0;
	for (size_t i = 0; i < s->n; i++) {
		s->cum[i] = (uint64_t)total;
		total += s->v[i].count;
		if (total > s->max) {
			snprintf(err, errlen,
				 "more than %llu targets (raise the bound with --max-targets)",
				 (unsigned long long)s->max);
			return -1;
		}
	}
	s->cum[s->n] = (uint64_t)total;
	s->total = (uint64_t)total;
	return 0;
}

void tset_at(const struct tset *s, uint64_t i, struct addr *a, const char **name, size_t *block)
{
	size_t lo = 0, hi = s->n; /* the block k with cum[k] <= i < cum[k+1] */
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (s->cum[mid] <= i)
			lo = mid;
		else
			hi = mid;
	}
	const struct tblock *b = &s->v[lo];
	num_addr(b->family, b->base + (i - s->cum[lo]), a);
	*name = b->name;
	*block = lo;
}

bool tset_excluded(const struct tset *s, const struct addr *a)
{
	int f = a->family == AF_INET6;
	const struct interval *v = s->excl[f];
	size_t lo = 0, hi = s->nexcl[f];
	u128 x = addr_num(a);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (x < v[mid].lo)
			hi = mid;
		else if (x > v[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

int tset_span(const char *spec, int family, struct tspan *out, char *err, size_t errlen)
{
	struct span sp;
	if (spec_sane(spec, err, errlen) < 0)
		return -1;
	int rc = span_parse(spec, family, &sp, err, errlen);
	if (rc == -1)
		snprintf(err, errlen, "not an address, CIDR block or range");
	if (rc < 0)
		return -1;
	out->iv = (struct interval){ sp.lo, sp.hi };
	num_addr(sp.family, sp.lo, &out->first);
	return 0;
}

bool tspan_has(const struct tspan *v, size_t n, const struct addr *a)
{
	u128 x = addr_num(a);
	for (size_t k = 0; k < n; k++)
		if (v[k].first.family == a->family && x >= v[k].iv.lo && x <= v[k].iv.hi)
			return true;
	return false;
}
