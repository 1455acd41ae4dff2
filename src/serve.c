/* serve.c - --serve: the prober's HTTP side (see serve.h). */
#include "serve.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "targets.h"
#include "tls.h"

#define SERVE_MIN_TIMEOUT_NS (100 * INT64_C(1000000))
#define SCRAPE_OFFSET_NS (500 * INT64_C(1000000)) /* blackbox's default timeout offset */
#define CONN_TIMEOUT_S 30u      /* an idle HTTP connection is closed */
#define STOP_FLUSH_NS (500 * INT64_C(1000000)) /* at a signal: time to send the 503s */

enum path { PATH_PROBE, PATH_METRICS, PATH_OTHER, PATHS };
static const char *const path_name[PATHS] = { "/probe", "/metrics", "other" };
static const unsigned codes[] = { 200, 400, 403, 404, 405, 500, 503 };
#define NCODES (sizeof(codes) / sizeof(codes[0]))

enum module { MOD_FULL, MOD_SYN, MOD_HTTP, MOD_TLS, MOD_HTTPS, MODULES };
static const char *const module_name[MODULES] = { "full", "syn", "http", "tls", "https" };

/* libmicrohttpd is opened only by --serve (dlopen): linked in, its
 * constructor initialises GnuTLS in every run, a check's start-up tripled
 * (4 ms to 12 ms). Its functions, resolved once. */
struct mhd_api {
	void *lib;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_get_timeout) *get_timeout;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_resume_connection) *resume_connection;
	__typeof__(MHD_run) *run;
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_suspend_connection) *suspend_connection;
};

/* One /probe request: from its arrival to its answer. */
struct job {
	struct job *prev, *next;
	struct MHD_Connection *conn;   /* suspended while the probe runs */
	struct probe_params pp;        /* copied into the probe's slot when it starts */
	struct route rt;
	enum module module;
	char name[256];                /* the host as the request named it */
	char *path;                    /* module http: path=, else NULL */
	int port, family;
	/* a name being resolved (getaddrinfo_a) */
	bool resolving;
	struct gaicb gai;
	struct addrinfo hints;
	int64_t t0;                    /* monotonic: the request came */
	char *body;
	size_t len;
	unsigned code;
	bool done;                     /* body and code are the answer */
	bool orphan;                   /* its connection is gone: it goes when its probe
					* ends (its flow points into it until then) */
};

struct serve {
	struct mhd_api mhd;
	struct tspan *allow;           /* --allow: intervals of any size */
	size_t nallow;
	struct MHD_Daemon *d;
	int listen_fd;
	char where[96];
	struct job *jobs;              /* in flight or answered, not yet sent */
	size_t inflight;
	bool stopping;
	int64_t start_wall;
	uint64_t requests[PATHS][NCODES];
	uint64_t probes[MODULES][OUTCOME_MAX];
	uint64_t success[MODULES];
	uint64_t denied, busy;
};

/* ---- pure parts -------------------------------------------------------- */


static int module_index(const char *name)
{
	static const struct { const char *name; enum module m; } names[] = {
		{ "full", MOD_FULL }, { "tcp_connect", MOD_FULL }, { "syn", MOD_SYN },
		{ "http", MOD_HTTP }, { "http_2xx", MOD_HTTP }, { "tls", MOD_TLS },
		{ "tcp_tls", MOD_TLS }, { "https", MOD_HTTPS }, { "https_2xx", MOD_HTTPS },
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i].name) == 0)
			return (int)names[i].m;
	return -1;
}

static const struct probe_kind *const module_kind[MODULES] = { &kind_full, &kind_syn, &kind_http,
								 &kind_tls, &kind_https };

const struct probe_kind *serve_module(const char *name)
{
	int m = module_index(name);
	return m < 0 ? NULL : module_kind[m];
}

int64_t serve_timeout_for(int64_t timeout_ns, const char *header)
{
	if (header) {
		char *e;
		double s = strtod(header, &e);
		if (e != header && *e == '\0' && s > 0 && s < 86400) {
			int64_t scrape = (int64_t)(s * 1e9);
			int64_t t = scrape > 2 * SCRAPE_OFFSET_NS ? scrape - SCRAPE_OFFSET_NS : scrape / 2;
			if (t < timeout_ns)
				timeout_ns = t;
		}
	}
	return timeout_ns < SERVE_MIN_TIMEOUT_NS ? SERVE_MIN_TIMEOUT_NS : timeout_ns;
}

/* ---- set-up -------------------------------------------------------------- */

/* One --allow item: its interval kept, its first address a target of the
 * run's set, so that set-up opens what a probe of it needs (the raw socket
 * of its family, a capture on its interface, its source in the guard). */
static int allow_item(struct run *r, const char *item)
{
	struct serve *sv = r->serve;
	char err[256], a[64];
	struct tspan sp;
	if (tset_span(item, r->cfg->family, &sp, err, sizeof(err)) < 0) {
		diag_error(r->diag, "--allow: %s: %s", item, err);
		return EXIT_USAGE;
	}
	struct tspan *v = realloc(sv->allow, (sv->nallow + 1) * sizeof(*v));
	if (!v) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	sv->allow = v;
	sv->allow[sv->nallow++] = sp;
	if (tset_add(&r->plan.targets, addr_str(&sp.first, a, sizeof(a)), err, sizeof(err)) != 0) {
		diag_error(r->diag, "--allow: %s: %s", item, err);
		return EXIT_USAGE;
	}
	return 0;
}

int serve_load_allow(struct run *r)
{
	const struct config *cfg = r->cfg;
	char err[256], item[256];
	if (!(r->serve = calloc(1, sizeof(*r->serve)))) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	r->serve->listen_fd = -1;
	for (size_t i = 0; i < cfg->allows.n; i++) {
		for (const char *s = cfg->allows.v[i]; *s;) {
			size_t n = strcspn(s, ",");
			if (n == 0 || n >= sizeof(item)) {
				diag_error(r->diag, "--allow: an empty or overlong item");
				return EXIT_USAGE;
			}
			memcpy(item, s, n);
			item[n] = '\0';
			int rc = allow_item(r, item);
			if (rc)
				return rc;
			s += n + (s[n] == ',');
		}
	}
	for (size_t i = 0; i < cfg->excludes.n; i++)
		if (tset_exclude_list(&r->plan.targets, cfg->excludes.v[i], err, sizeof(err)) < 0) {
			diag_error(r->diag, "--exclude: %s", err);
			return EXIT_USAGE;
		}
	if (tset_finish(&r->plan.targets, err, sizeof(err)) < 0) {
		diag_error(r->diag, "--allow: %s", err);
		return EXIT_USAGE;
	}
	return 0;
}

int serve_plan(struct run *r)
{
	const struct config *cfg = r->cfg;
	r->plan.space = 0;      /* flows come with the requests */
	r->plan.count = 1;      /* a request: one probe */
	r->plan.retries = 0;    /* its SYN is sent again within -W, as connect() does */
	r->plan.timeout_ns = cfg->timeout_given ? cfg->timeout_ns : TIMEOUT_SINGLE_NS;
	r->pp.timeout_ns = r->plan.timeout_ns;
	r->pp.syn_rto_ns = RTO_INIT_NS;
	r->pp.own_reliable = true;
	r->rep.out.timeout_ns = r->plan.timeout_ns;
	return 0;
}

size_t serve_ports_wanted(const struct config *cfg, size_t range)
{
	/* four ports a probe in flight: a finished probe lingers on its port
	 * (TIME-WAIT's answers) until the port comes round again */
	size_t want = 4 * (size_t)cfg->max_probes;
	if (want < 256)
		want = 256;
	if (want > range / 2)
		want = range / 2 ? range / 2 : 1;
	return want;
}


/* The listening socket; -1 with a reason for a malformed address (a
 * usage error), -2 when the system refuses it. */
static int listen_socket(const char *spec, char *where, size_t wlen, char *err, size_t errlen)
{
	char host[128];
	int port;
	if (listen_spec_parse(spec, host, sizeof(host), &port) < 0) {
		snprintf(err, errlen, "not ADDR:PORT, [ADDR]:PORT or :PORT");
		return -1;
	}
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE, .ai_socktype = SOCK_STREAM },
			*ai;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0) {
		snprintf(err, errlen, "%s: not a numeric address", host);
		return -1;
	}
	struct sockaddr_storage ss;
	memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
	socklen_t len = ai->ai_addrlen;
	int family = ai->ai_family;
	freeaddrinfo(ai);
	if (family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int one = 1, zero = 0;
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (family == AF_INET6 && spec[0] == ':') /* every address: IPv4 too */
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	}
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -2;
	}
	snprintf(where, wlen, family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
	return fd;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls);
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe);

/* libmicrohttpd's functions, from the library opened now. */
static int mhd_load(struct mhd_api *m, char *err, size_t errlen)
{
	if (!(m->lib = dlopen(MHD_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(err, errlen, "%s (Debian: apt-get install libmicrohttpd12)", dlerror());
		return -1;
	}
#define MHD_SYM(n) \
	if (!(*(void **)&m->n = dlsym(m->lib, "MHD_" #n))) { \
		snprintf(err, errlen, "%s: no MHD_%s", MHD_SONAME, #n); \
		return -1; \
	}
	MHD_SYM(add_response_header)
	MHD_SYM(create_response_from_buffer)
	MHD_SYM(destroy_response)
	MHD_SYM(get_daemon_info)
	MHD_SYM(get_timeout)
	MHD_SYM(lookup_connection_value)
	MHD_SYM(queue_response)
	MHD_SYM(resume_connection)
	MHD_SYM(run)
	MHD_SYM(start_daemon)
	MHD_SYM(stop_daemon)
	MHD_SYM(suspend_connection)
#undef MHD_SYM
	return 0;
}

int serve_open(struct run *r)
{
	if (!(r->slot_pp = calloc(r->nports, sizeof(*r->slot_pp)))) {
		diag_error(r->diag, "memory: %s", strerror(errno));
		return EXIT_SYSTEM;
	}
	char err[256];
	struct serve *sv = r->serve;
	if (mhd_load(&sv->mhd, err, sizeof(err)) < 0) {
		diag_error(r->diag, "--serve: %s", err);
		return EXIT_SYSTEM;
	}
	sv->listen_fd = listen_socket(r->cfg->serve, sv->where, sizeof(sv->where), err, sizeof(err));
	if (sv->listen_fd < 0) {
		diag_error(r->diag, "--serve %s: %s", r->cfg->serve, err);
		int rc = sv->listen_fd == -1 ? EXIT_USAGE : EXIT_SYSTEM;
		sv->listen_fd = -1;
		return rc;
	}
	unsigned limit = (unsigned)r->cfg->max_probes + 64;
	sv->d = sv->mhd.start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
				 on_request, r, MHD_OPTION_LISTEN_SOCKET, sv->listen_fd,
				 MHD_OPTION_NOTIFY_COMPLETED, on_completed, r,
				 MHD_OPTION_CONNECTION_LIMIT, limit,
				 MHD_OPTION_CONNECTION_TIMEOUT, CONN_TIMEOUT_S, MHD_OPTION_END);
	if (!sv->d) {
		diag_error(r->diag, "--serve %s: the HTTP server did not start", r->cfg->serve);
		return EXIT_SYSTEM;
	}
	sv->listen_fd = -1; /* the server's now: it closes it when it stops */
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	sv->start_wall = ts_to_ns(&ts);
	fprintf(stderr, "tcpshake: serving on http://%s/ (/probe, /metrics)\n", sv->where);
	return 0;
}

/* ---- the loop's side ------------------------------------------------------- */

/* Names being resolved: the loop looks again this soon. */
#define RESOLVE_POLL_NS (2 * INT64_C(1000000))

static bool jobs_resolving(const struct serve *sv)
{
	for (const struct job *j = sv->jobs; j; j = j->next)
		if (j->resolving)
			return true;
	return false;
}

static void job_resolved(struct run *r, struct job *j);

int serve_fd(const struct run *r)
{
	const struct serve *sv = r->serve;
	const union MHD_DaemonInfo *i = sv->mhd.get_daemon_info(sv->d, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

int64_t serve_timeout_ns(const struct run *r)
{
	MHD_UNSIGNED_LONG_LONG ms;
	const struct serve *sv = r->serve;
	int64_t t = -1;
	if (sv->mhd.get_timeout(sv->d, &ms) == MHD_YES)
		t = (int64_t)ms * 1000000;
	if (jobs_resolving(sv) && (t < 0 || t > RESOLVE_POLL_NS))
		t = RESOLVE_POLL_NS;
	return t;
}

void serve_work(struct run *r)
{
	struct serve *sv = r->serve;
	for (struct job *j = sv->jobs, *next; j; j = next) {
		next = j->next;
		if (j->resolving && gai_error(&j->gai) != EAI_INPROGRESS)
			job_resolved(r, j);
	}
	sv->mhd.run(sv->d);
}


/* ---- answers ------------------------------------------------------------- */

static void count_request(struct serve *sv, enum path p, unsigned code)
{
	for (size_t i = 0; i < NCODES; i++)
		if (codes[i] == code)
			sv->requests[p][i]++;
}

static enum MHD_Result answer(struct serve *sv, struct MHD_Connection *c, enum path p,
			      unsigned code, const char *type, char *body, size_t len)
{
	/* the body is malloc'ed: the response frees it */
	struct MHD_Response *res = sv->mhd.create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!res) {
		free(body);
		return MHD_NO;
	}
	sv->mhd.add_response_header(res, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_SERVICE_UNAVAILABLE)
		sv->mhd.add_response_header(res, "Retry-After", "1");
	enum MHD_Result rc = sv->mhd.queue_response(c, code, res);
	sv->mhd.destroy_response(res);
	count_request(sv, p, code);
	return rc;
}

static enum MHD_Result answer_text(struct serve *sv, struct MHD_Connection *c, enum path p,
				   unsigned code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static enum MHD_Result answer_text(struct serve *sv, struct MHD_Connection *c, enum path p,
				   unsigned code, const char *fmt, ...)
{
	char *body = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&body, fmt, ap);
	va_end(ap);
	if (n < 0)
		return MHD_NO;
	return answer(sv, c, p, code, "text/plain; charset=utf-8", body, (size_t)n);
}

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"



/* Did the probe succeed: open; with tls and https its TLS check passed;
 * with http and https a status below 400. */
static bool probe_ok(const struct job *j, const struct probe_result *res)
{
	if (res->outcome != OUTCOME_OPEN)
		return false;
	bool tls = j->module == MOD_TLS || j->module == MOD_HTTPS;
	if (tls && (!res->tls || tls_check_error(res->tls)))
		return false;
	if (j->module != MOD_HTTP && j->module != MOD_HTTPS)
		return true;
	return res->http.status >= 200 && res->http.status < 400;
}

/* tls and https: blackbox's TLS metrics, and tcpshake's phases. */
static void tls_numbers(FILE *f, const struct probe *p)
{
	const struct tls_result *t = p->res.tls;
	if (!t || !t->version[0])
		return;
	prom_family(f, "probe_tls_version_info", "gauge", "The TLS version negotiated.");
	fprintf(f, "probe_tls_version_info{version=\"TLS %s\"} 1\n",
		strncmp(t->version, "TLSv", 4) == 0 ? t->version + 4 : t->version);
	if (t->cert_present) {
		int64_t earliest = t->chain_not_after ? t->chain_not_after : t->not_after;
		prom_family(f, "probe_ssl_earliest_cert_expiry", "gauge",
		       "The earliest notAfter of the chain the server sent, in seconds since the epoch.");
		fprintf(f, "probe_ssl_earliest_cert_expiry %lld\n", (long long)earliest);
		prom_family(f, "tcpshake_probe_cert_verify", "gauge",
		       "1 if the chain verified to a trusted root and named the target.");
		fprintf(f, "tcpshake_probe_cert_verify %d\n",
			t->verify_ok && (!t->hostname_checked || t->hostname_ok));
	}
	prom_family(f, "tcpshake_probe_tls_ok", "gauge", "1 if the TLS check passed.");
	fprintf(f, "tcpshake_probe_tls_ok %d\n", tls_check_error(t) == NULL);
	if (p->res.tls_handshake_ns >= 0) {
		prom_family(f, "tcpshake_probe_tls_handshake_seconds", "gauge",
		       "Our ClientHello leaving to the handshake complete, on the wire.");
		fprintf(f, "tcpshake_probe_tls_handshake_seconds %.9f\n",
			(double)p->res.tls_handshake_ns / 1e9);
	}
}

static void probe_numbers(FILE *f, const struct probe *p)
{
	const struct probe_result *res = &p->res;
	char flags[9], icmp[48];
	if (res->rtt_source != RTT_NONE) {
		prom_family(f, "tcpshake_probe_rtt_seconds", "gauge",
		       "Our SYN to the answer; from capture timestamps when rtt_wire is 1.");
		fprintf(f, "tcpshake_probe_rtt_seconds %.9f\n", (double)res->rtt_ns / 1e9);
		prom_family(f, "tcpshake_probe_rtt_wire", "gauge",
		       "1 if the RTT is from capture timestamps (the wire), 0 if from the clock.");
		fprintf(f, "tcpshake_probe_rtt_wire %d\n", res->rtt_source == RTT_WIRE);
	}
	prom_family(f, "tcpshake_probe_syns", "gauge", "SYNs sent (more than 1: one was lost or late).");
	fprintf(f, "tcpshake_probe_syns %u\n", res->syns);
	if (res->flags) {
		prom_family(f, "tcpshake_probe_reply", "gauge",
		       "The answer's TCP flags, TTL (hop limit), window and MSS.");
		fputs("tcpshake_probe_reply{flags=", f);
		prom_label_value(f, tcp_flags_str(res->flags, flags));
		fprintf(f, ",ttl=\"%u\",window=\"%u\",mss=\"%u\"} 1\n", res->ttl, res->win, res->mss);
	}
	if (res->outcome == OUTCOME_UNREACHABLE) {
		prom_family(f, "tcpshake_probe_icmp", "gauge", "The ICMP error that answered, by type and code.");
		fprintf(f, "tcpshake_probe_icmp{type=\"%u\",code=\"%u\",name=", res->icmp_type,
			res->icmp_code);
		prom_label_value(f, icmp_name(p->dst.family, res->icmp_type, res->icmp_code, icmp, sizeof(icmp)));
		fputs("} 1\n", f);
	}
	if (p->kind->handshake && p->kind->after != AFTER_RESET) {
		prom_family(f, "tcpshake_probe_established", "gauge", "1 if the handshake completed.");
		fprintf(f, "tcpshake_probe_established %d\n", res->established);
	}
	if (res->close != CLOSE_NONE) {
		prom_family(f, "tcpshake_probe_close", "gauge", "How the connection ended.");
		fputs("tcpshake_probe_close{how=", f);
		prom_label_value(f, close_name(res->close));
		fputs("} 1\n", f);
	}
	if (res->close_ns >= 0 && res->close == CLOSE_FIN) {
		prom_family(f, "tcpshake_probe_close_seconds", "gauge", "Our FIN to theirs, on the wire.");
		fprintf(f, "tcpshake_probe_close_seconds %.9f\n", (double)res->close_ns / 1e9);
	}
	tls_numbers(f, p);
	if ((p->kind == &kind_http || p->kind == &kind_https) && res->http.status) {
		prom_family(f, "tcpshake_probe_http_status_code", "gauge", "The HTTP response's status code.");
		fprintf(f, "tcpshake_probe_http_status_code %d\n", res->http.status);
		prom_family(f, "tcpshake_probe_http_ttfb_seconds", "gauge",
		       "Our request to the first response byte, on the wire.");
		fprintf(f, "tcpshake_probe_http_ttfb_seconds %.9f\n", (double)res->http.ttfb_ns / 1e9);
	}
}

/* The metrics of one probe: blackbox_exporter's, then tcpshake's own. */
static char *probe_body(const struct job *j, const struct probe *p, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	const struct probe_result *res = &p->res;
	prom_family(f, "probe_success", "gauge", "1 if the probe succeeded (open; with tls and https "
					  "the TLS check passed; with http and https a status below 400).");
	fprintf(f, "probe_success %d\n", probe_ok(j, res));
	prom_family(f, "probe_duration_seconds", "gauge", "From the request to the probe's end.");
	fprintf(f, "probe_duration_seconds %.6f\n", (double)(mono_ns() - j->t0) / 1e9);
	prom_family(f, "probe_ip_protocol", "gauge", "The IP version of the probe: 4 or 6.");
	fprintf(f, "probe_ip_protocol %d\n", p->dst.family == AF_INET6 ? 6 : 4);
	prom_family(f, "tcpshake_probe_outcome", "gauge", "1 for the state the probe found.");
	for (int o = OUTCOME_OPEN; o <= OUTCOME_UNREACHABLE; o++) {
		fputs("tcpshake_probe_outcome{outcome=", f);
		prom_label_value(f, outcome_name((enum outcome)o));
		fprintf(f, "} %d\n", res->outcome == (enum outcome)o);
	}
	probe_numbers(f, p);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void job_free(struct job *j)
{
	if (j->gai.ar_result)
		freeaddrinfo(j->gai.ar_result);
	free(j->body);
	free(j->path);
	free(j);
}

static void job_unlink(struct serve *sv, struct job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		sv->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
}

void serve_probe_done(struct run *r, struct flow *f, const struct probe *p)
{
	struct serve *sv = r->serve;
	struct job *j = f->owner;
	f->owner = NULL;
	if (!j || j->done)
		return;
	sv->probes[j->module][p->res.outcome]++;
	sv->success[j->module] += probe_ok(j, &p->res);
	sv->inflight--;
	if (j->orphan) { /* nobody to answer: the flow is done with it now */
		job_unlink(sv, j);
		job_free(j);
		return;
	}
	j->body = probe_body(j, p, &j->len);
	j->code = j->body ? MHD_HTTP_OK : MHD_HTTP_INTERNAL_SERVER_ERROR;
	j->done = true;
	sv->mhd.resume_connection(j->conn);
}

/* ---- requests ------------------------------------------------------------ */

/* The first IPv4 or IPv6 address of a resolver's answer. 0, or -1. */
static int addr_from_ai(const struct addrinfo *ai, struct addr *a)
{
	for (; ai; ai = ai->ai_next)
		if (addr_from_sockaddr(a, ai->ai_addr) == 0)
			return 0;
	return -1;
}

/* The route to dst, now (the kernel's choice, or -I / -S), if it leaves by
 * an interface we capture on and from a source the guard covers: those
 * were set up for the --allow blocks' first addresses. */
static int route_usable(const struct run *r, const struct addr *dst, struct route *rt, char *err,
			size_t errlen)
{
	char e[256], a[64];
	if (route_lookup(dst, r->cfg->iface, r->cfg->source, rt, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s: %s", addr_str(dst, a, sizeof(a)), e);
		return -1;
	}
	bool captured = false, guarded = false;
	for (size_t i = 0; i < r->ncaps; i++)
		captured |= strcmp(r->caps[i].dev, rt->ifname) == 0;
	for (size_t i = 0; i < r->nsrcs; i++)
		guarded |= addr_eq(&r->srcs[i], &rt->src);
	if (!captured || !guarded) {
		snprintf(err, errlen, "%s: its route (%s, from %s) is not one the prober set up for "
			 "--allow's blocks at start", addr_str(dst, a, sizeof(a)), rt->ifname,
			 addr_str(&rt->src, e, sizeof(e)));
		return -1;
	}
	return 0;
}

static const char *arg(const struct serve *sv, struct MHD_Connection *c, const char *key)
{
	return sv->mhd.lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

/* The family a request asks for (ip_protocol=ip4|ip6, as blackbox's
 * preferred_ip_protocol), else -4/-6, else any. */
static int request_family(const struct run *r, struct MHD_Connection *c)
{
	const struct serve *sv = r->serve;
	const char *ipp = arg(sv, c, "ip_protocol");
	if (ipp && strcmp(ipp, "ip4") == 0)
		return AF_INET;
	if (ipp && strcmp(ipp, "ip6") == 0)
		return AF_INET6;
	return r->cfg->family;
}

/* A host as a request may name it: letters, digits, '.', '-', '_', ':'
 * (IPv6) and '%' (a zone); nothing that could end a header line when the
 * name goes into HTTP's Host or the TLS server name. */
static bool host_chars(const char *h)
{
	return h[strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%")] == '\0';
}

/* The rest of a request once its address is known: the allow list, the
 * route, the probe submitted. 0, or the HTTP status to answer with (its
 * text in msg). */
static unsigned job_submit(struct run *r, struct job *j, const struct addr *dst, char *msg,
			   size_t len)
{
	struct serve *sv = r->serve;
	char a[64], err[320];
	if (!tspan_has(sv->allow, sv->nallow, dst) || tset_excluded(&r->plan.targets, dst)) {
		sv->denied++;
		snprintf(msg, len, "target: %s is not in --allow\n", addr_str(dst, a, sizeof(a)));
		return 403;
	}
	if (route_usable(r, dst, &j->rt, err, sizeof(err)) < 0) {
		snprintf(msg, len, "target: %s\n", err);
		return 503;
	}
	j->pp.timeout_ns -= mono_ns() - j->t0; /* name resolution took its share */
	if (j->pp.timeout_ns < INT64_C(100000000))
		j->pp.timeout_ns = INT64_C(100000000);
	struct flow_spec sp = { *dst, (uint16_t)j->port, &j->rt,
				strcmp(j->name, addr_str(dst, a, sizeof(a))) ? j->name : NULL,
				module_kind[j->module], &j->pp, j, j->path };
	if (engine_submit(r, &sp) < 0) {
		sv->busy++;
		snprintf(msg, len, "busy: %zu probes in flight (--max-probes)\n", sv->inflight);
		return 503;
	}
	sv->inflight++;
	return 0;
}

/* A request's parameters into a new job; NULL with the 400's text in msg
 * (or nothing: out of memory). */
static struct job *job_parse(struct run *r, struct MHD_Connection *c, char *msg, size_t len)
{
	struct serve *sv = r->serve;
	char host[256];
	int port = 0;
	const char *target = arg(sv, c, "target"), *ports = arg(sv, c, "port"), *mod = arg(sv, c, "module"),
		   *path = arg(sv, c, "path");
	if (!target || hostport_split(target, host, sizeof(host), &port) < 0 || !host_chars(host)) {
		snprintf(msg, len, "target: missing or malformed (HOST, HOST:PORT or [IPv6]:PORT)\n");
		return NULL;
	}
	if (ports) {
		char *e;
		long v = strtol(ports, &e, 10);
		if (e == ports || *e || v < 1 || v > 65535) {
			snprintf(msg, len, "port: not 1-65535\n");
			return NULL;
		}
		port = (int)v;
	}
	if (port == 0) {
		snprintf(msg, len, "port: missing (target=HOST:PORT or port=N)\n");
		return NULL;
	}
	int m = mod ? module_index(mod) : r->cfg->mode == PMODE_SYN ? MOD_SYN
					 : r->cfg->http ? MOD_HTTP : MOD_FULL;
	if (m < 0) {
		snprintf(msg, len, "module: full, syn, http, tls or https\n");
		return NULL;
	}
	if (path && ((m != MOD_HTTP && m != MOD_HTTPS) || path[0] != '/' || strlen(path) > 1024 ||
		     strpbrk(path, " \t\r\n"))) {
		snprintf(msg, len, "path: with module http, /PATH without spaces, at most 1024 bytes\n");
		return NULL;
	}
	struct job *j = calloc(1, sizeof(*j));
	if (!j || (path && !(j->path = strdup(path)))) {
		free(j);
		msg[0] = '\0';
		return NULL;
	}
	j->conn = c;
	j->module = (enum module)m;
	j->port = port;
	j->family = request_family(r, c);
	j->t0 = mono_ns();
	snprintf(j->name, sizeof(j->name), "%s", host);
	j->pp = r->pp;
	j->pp.mode = m == MOD_SYN ? PMODE_SYN : PMODE_FULL;
	j->pp.http = m == MOD_HTTP || m == MOD_HTTPS;
	j->pp.timeout_ns = serve_timeout_for(r->plan.timeout_ns,
		sv->mhd.lookup_connection_value(c, MHD_HEADER_KIND, "X-Prometheus-Scrape-Timeout-Seconds"));
	return j;
}

/* A name is resolved without stopping the loop (getaddrinfo_a: a resolver
 * thread of glibc's); serve_work looks for its answer. 0, or -1. */
static int job_resolve(struct job *j)
{
	j->hints = (struct addrinfo){ .ai_family = j->family, .ai_socktype = SOCK_STREAM };
	j->gai = (struct gaicb){ .ar_name = j->name, .ar_request = &j->hints };
	struct gaicb *list[1] = { &j->gai };
	if (getaddrinfo_a(GAI_NOWAIT, list, 1, NULL) != 0)
		return -1;
	j->resolving = true;
	return 0;
}

static void job_link(struct serve *sv, struct job *j)
{
	j->prev = NULL;
	j->next = sv->jobs;
	if (sv->jobs)
		sv->jobs->prev = j;
	sv->jobs = j;
}

static enum MHD_Result probe_request(struct run *r, struct MHD_Connection *c, void **req_cls)
{
	struct serve *sv = r->serve;
	char msg[400];
	struct job *j = job_parse(r, c, msg, sizeof(msg));
	if (!j)
		return msg[0] ? answer_text(sv, c, PATH_PROBE, 400, "%s", msg) : MHD_NO;
	struct addr dst;
	unsigned code = 0;
	char why[160];
	bool numeric = target_resolve(j->name, j->family, 1, &dst, why, sizeof(why)) == 0;
	if (numeric) {
		code = job_submit(r, j, &dst, msg, sizeof(msg));
	} else if (r->cfg->numeric) {
		code = 400;
		snprintf(msg, sizeof(msg), "target: %s: not an address (-n)\n", j->name);
	} else if (job_resolve(j) < 0) {
		code = 503;
		snprintf(msg, sizeof(msg), "target: %s: the resolver could not start\n", j->name);
	}
	if (code) {
		job_free(j);
		return answer_text(sv, c, PATH_PROBE, code, "%s", msg);
	}
	job_link(sv, j);
	*req_cls = j;
	sv->mhd.suspend_connection(c);
	return MHD_YES;
}

/* A name resolved (or not): the job goes on, or is answered. */
static void job_resolved(struct run *r, struct job *j)
{
	struct serve *sv = r->serve;
	char msg[400];
	unsigned code;
	int rc = gai_error(&j->gai);
	j->resolving = false;
	struct addr dst;
	if (rc == 0 && addr_from_ai(j->gai.ar_result, &dst) == 0) {
		code = job_submit(r, j, &dst, msg, sizeof(msg));
	} else {
		code = 400;
		snprintf(msg, sizeof(msg), "target: %s: %s\n", j->name,
			 rc ? gai_strerror(rc) : "no address");
	}
	if (j->gai.ar_result)
		freeaddrinfo(j->gai.ar_result);
	j->gai.ar_result = NULL;
	if (code == 0)
		return; /* probing: serve_probe_done answers */
	j->done = true;
	j->code = code;
	j->body = strdup(msg);
	j->len = j->body ? strlen(j->body) : 0;
	sv->mhd.resume_connection(j->conn);
}

static void metric_u64(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	prom_family(f, name, type, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static enum MHD_Result metrics_request(struct run *r, struct MHD_Connection *c)
{
	struct serve *sv = r->serve;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	prom_family(f, "tcpshake_build_info", "gauge", "tcpshake's version.");
	fprintf(f, "tcpshake_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	prom_family(f, "tcpshake_serve_start_time_seconds", "gauge", "When the prober started.");
	fprintf(f, "tcpshake_serve_start_time_seconds %.3f\n", (double)sv->start_wall / 1e9);
	prom_family(f, "tcpshake_serve_requests_total", "counter", "HTTP requests by path and status code.");
	for (int p = 0; p < PATHS; p++)
		for (size_t i = 0; i < NCODES; i++)
			if (sv->requests[p][i])
				fprintf(f, "tcpshake_serve_requests_total{path=\"%s\",code=\"%u\"} %llu\n",
					path_name[p], codes[i], (unsigned long long)sv->requests[p][i]);
	prom_family(f, "tcpshake_serve_probes_total", "counter", "Probes done, by module and outcome.");
	for (int m = 0; m < MODULES; m++)
		for (int o = OUTCOME_OPEN; o <= OUTCOME_UNREACHABLE; o++)
			fprintf(f, "tcpshake_serve_probes_total{module=\"%s\",outcome=\"%s\"} %llu\n",
				module_name[m], outcome_name((enum outcome)o),
				(unsigned long long)sv->probes[m][o]);
	prom_family(f, "tcpshake_serve_probe_success_total", "counter", "Probes that succeeded, by module.");
	for (int m = 0; m < MODULES; m++)
		fprintf(f, "tcpshake_serve_probe_success_total{module=\"%s\"} %llu\n", module_name[m],
			(unsigned long long)sv->success[m]);
	metric_u64(f, "tcpshake_serve_probes_in_flight", "gauge", "Probes running now.", sv->inflight);
	metric_u64(f, "tcpshake_serve_max_probes", "gauge", "--max-probes.",
		   (uint64_t)r->cfg->max_probes);
	metric_u64(f, "tcpshake_serve_denied_total", "counter",
		   "Requests refused: their target is not in --allow.", sv->denied);
	metric_u64(f, "tcpshake_serve_busy_total", "counter",
		   "Requests refused: --max-probes probes were in flight.", sv->busy);
	metric_u64(f, "tcpshake_serve_source_ports", "gauge", "Source ports held for probes.",
		   r->nports);
	uint64_t drops = 0;
	for (size_t i = 0; i < r->ncaps; i++)
		drops += capture_drops(&r->caps[i]);
	metric_u64(f, "tcpshake_serve_capture_drops_total", "counter",
		   "Frames the kernel dropped before the capture read them.", drops);
	metric_u64(f, "tcpshake_serve_syns_sent_total", "counter", "First SYNs sent.", r->rep.sent);
	metric_u64(f, "tcpshake_serve_syns_retransmitted_total", "counter",
		   "SYNs sent again within a probe.", r->retried_syns);
	if (fclose(f) != 0) {
		free(buf);
		return MHD_NO;
	}
	return answer(sv, c, PATH_METRICS, 200, PROM_TYPE, buf, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req_cls)
{
	struct run *r = cls;
	struct serve *sv = r->serve;
	(void)version;
	(void)upload;
	struct job *j = *req_cls;
	if (j) { /* resumed: the probe is done (or the prober stops) */
		char *body = j->body;
		j->body = NULL;
		return answer(sv, c, PATH_PROBE, j->code, j->code == 200 ? PROM_TYPE
				     : "text/plain; charset=utf-8", body, j->len);
	}
	if (*upload_size) {
		*upload_size = 0; /* a body is not read: the request is refused below */
		return MHD_YES;
	}
	enum path p = strcmp(url, "/probe") == 0 ? PATH_PROBE : strcmp(url, "/metrics") == 0
		? PATH_METRICS : PATH_OTHER;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer_text(sv, c, p, 405, "%s: only GET and HEAD\n", method);
	if (sv->stopping)
		return answer_text(sv, c, p, 503, "tcpshake is stopping\n");
	if (p == PATH_PROBE)
		return probe_request(r, c, req_cls);
	if (p == PATH_METRICS)
		return metrics_request(r, c);
	if (strcmp(url, "/") == 0)
		return answer_text(sv, c, p, 200,
				   "tcpshake %s prober\n\n/probe?target=HOST:PORT&module=full|syn|http|tls|https"
				   "  one probe, as Prometheus metrics\n/metrics"
				   "  the prober's own counters\n", PACKAGE_VERSION);
	return answer_text(sv, c, p, 404, "%s: not found (/probe, /metrics)\n", url);
}

/* A request's connection is done with: its job goes (its probe, if still
 * running, finds no owner when it ends). */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct run *r = cls;
	struct job *j = *req_cls;
	(void)c;
	(void)toe;
	*req_cls = NULL;
	if (!j)
		return;
	if (!j->done) { /* its probe still runs, its flow points into it */
		j->conn = NULL;
		j->orphan = true;
		return;
	}
	job_unlink(r->serve, j);
	job_free(j);
}

/* ---- the end ---------------------------------------------------------------- */

/* A resolution still running: cancelled, or waited for (a second at most:
 * glibc's thread writes into the job). */
static void job_cancel(struct job *j)
{
	struct timespec one = { 1, 0 };
	const struct gaicb *list[1] = { &j->gai };
	if (gai_cancel(&j->gai) == EAI_NOTCANCELED)
		gai_suspend(list, 1, &one);
	j->resolving = false;
}

static bool jobs_answering(const struct serve *sv)
{
	for (const struct job *j = sv->jobs; j; j = j->next)
		if (!j->orphan)
			return true;
	return false;
}

void serve_stop(struct run *r)
{
	struct serve *sv = r->serve;
	if (!sv || !sv->d)
		return;
	sv->stopping = true;
	for (struct job *j = sv->jobs; j; j = j->next) {
		if (j->done || j->orphan)
			continue;
		if (j->resolving)
			job_cancel(j);
		j->done = true;
		j->code = 503;
		j->body = strdup("tcpshake is stopping\n");
		j->len = j->body ? strlen(j->body) : 0;
		sv->inflight--;
		sv->mhd.resume_connection(j->conn);
	}
	/* the answers out, for a bounded time (orphans have none to send) */
	int64_t end = mono_ns() + STOP_FLUSH_NS;
	while (jobs_answering(sv) && mono_ns() < end) {
		struct pollfd pfd = { serve_fd(r), POLLIN, 0 };
		sv->mhd.run(sv->d);
		(void)poll(&pfd, 1, 10);
	}
}

void serve_free(struct run *r)
{
	struct serve *sv = r->serve;
	if (!sv)
		return;
	if (sv->d)
		sv->mhd.stop_daemon(sv->d); /* calls on_completed for what is left */
	if (sv->listen_fd >= 0)
		close(sv->listen_fd);
	while (sv->jobs) {
		struct job *j = sv->jobs;
		job_unlink(sv, j);
		job_free(j);
	}
	free(sv->allow);
	if (sv->mhd.lib)
		dlclose(sv->mhd.lib);
	free(sv);
	r->serve = NULL;
}
