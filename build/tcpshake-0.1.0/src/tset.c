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

static int block_count(u128 n, uint64_t *count, char *err, size_t errlen)
{
	if (n > (u128)UINT64_MAX) {
		snprintf(err, errlen, "a block of more than 2^64 addresses");
		return -2;
	}
	*count = (uint64_t)n;
	return 0;
}

static int parse_cidr(const char *spec, const char *slash, int fam_only, struct tblock *b,
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
	if (parse_addr(a, &b->family, &b->base) < 0) {
		snprintf(err, errlen, "'%s' is not an IPv4 or IPv6 address", a);
		return -2;
	}
	unsigned width = b->family == AF_INET ? 32 : 128;
	if (parse_uint(slash + 1, width, &bits) < 0) {
		snprintf(err, errlen, "prefix length must be 0-%u", width);
		return -2;
	}
	if (fam_only && fam_only != b->family) {
		snprintf(err, errlen, "not an %s block", fam_only == AF_INET ? "IPv4" : "IPv6");
		return -2;
	}
	unsigned host = width - (unsigned)bits;
	u128 size = host >= 128 ? 0 : (u128)1 << host;
	if (host >= 128 || host >= 64) {
		snprintf(err, errlen, "a /%lu holds more than 2^63 addresses", bits);
		return -2;
	}
	b->base &= ~(size - 1);
	return block_count(size, &b->count, err, errlen);
}

static int parse_range(const char *spec, const char *dash, int fam_only, struct tblock *b,
		       char *err, size_t errlen)
{
	char a[64];
	size_t n = (size_t)(dash - spec);
	if (n == 0 || n >= sizeof(a))
		return -1;
	memcpy(a, spec, n);
	a[n] = '\0';
	if (parse_addr(a, &b->family, &b->base) < 0)
		return -1; /* a name with a dash in it */
	if (fam_only && fam_only != b->family) {
		snprintf(err, errlen, "not an %s range", fam_only == AF_INET ? "IPv4" : "IPv6");
		return -2;
	}
	const char *end_s = dash + 1;
	u128 last;
	int fam2;
	unsigned long octet;
	if (b->family == AF_INET && parse_uint(end_s, 255, &octet) == 0) {
		last = (b->base & ~(u128)0xff) | octet; /* 198.18.0.1-200 */
	} else if (parse_addr(end_s, &fam2, &last) == 0 && fam2 == b->family) {
		/* 198.18.0.1-198.18.1.9 */
	} else {
		snprintf(err, errlen, "'%s' does not end a range of %s", end_s, a);
		return -2;
	}
	if (last < b->base) {
		snprintf(err, errlen, "reversed range %s", spec);
		return -2;
	}
	return block_count(last - b->base + 1, &b->count, err, errlen);
}

int tblock_parse(const char *spec, int family, struct tblock *b, char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	const char *slash = strchr(spec, '/');
	if (slash)
		return parse_cidr(spec, slash, family, b, err, errlen);
	const char *dash = strchr(spec, '-');
	if (dash) {
		int rc = parse_range(spec, dash, family, b, err, errlen);
		if (rc != -1)
			return rc;
	}
	if (parse_addr(spec, &b->family, &b->base) < 0)
		return -1;
	if (family && family != b->family) {
		snprintf(err, errlen, "not an %s address", family == AF_INET ? "IPv4" : "IPv6");
		return -2;
	}
	b->count = 1;
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
	if (rc == 2 && !(b.name = strdup(spec))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (push_block(s, &b, err, errlen) < 0) {
		free(b.name);
		return -1;
	}
	return 0;
}

static int cmp_interval(const void *x, const void *y)
{
	const struct interval *a = x, *b = y;
	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

int tset_exclude(struct tset *s, const char *spec, char *err, size_t errlen)
{
	struct tblock b;
	int rc = spec_block(s, spec, &b, err, errlen);
	if (rc == 1 || rc < 0)
		return -1; /* an exclude that names nothing is an error, not a skip */
	int f = b.family == AF_INET6;
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
	s->excl[f][s->nexcl[f]++] = (struct interval){ b.base, b.base + b.count - 1 };
	return 0;
}

int tset_exclude_list(struct tset *s, const char *list, char *err, size_t errlen)
{
	char item[128];
	for (const char *p = list;;) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, errlen, "empty or overlong item in '%s'", list);
			return -1;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (tset_exclude(s, item, err, errlen) < 0) {
			char why[200];
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "%s: %s", item, why);
			return -1;
		}
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

int tset_add_file(struct tset *s, const char *path, bool exclude, char *err, size_t errlen)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char line[512], why[256];
	unsigned long lineno = 0;
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%lu: line too long", path, lineno);
			rc = -1;
			break;
		}
		line[strcspn(line, "#")] = '\0';
		char *t = line + strspn(line, " \t\r\n");
		t[strcspn(t, " \t\r\n")] = '\0';
		char *rest = t + strlen(t) + 1;
		if (*t == '\0')
			continue;
		if (rest < line + len && rest[strspn(rest, " \t\r\n")] != '\0') {
			snprintf(err, errlen, "%s:%lu: one target per line", path, lineno);
			rc = -1;
			break;
		}
		int r = exclude ? tset_exclude(s, t, why, sizeof(why)) : tset_add(s, t, why, sizeof(why));
		if (r < 0) {
			snprintf(err, errlen, "%s:%lu: %s: %s", path, lineno, t, why);
			rc = -1;
		} else if (r == 1) {
			fprintf(stderr, "tcpshake: %s:%lu: %s: %s\n", path, lineno, t, why);
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
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
		if (v[i].lo <= v[k].hi + 1) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	*n = k + 1;
}

int tset_finish(struct tset *s, char *err, size_t errlen)
{
	merge(s->excl[0], &s->nexcl[0]);
	merge(s->excl[1], &s->nexcl[1]);
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
