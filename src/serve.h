/* serve.h - --serve ADDR:PORT: tcpshake as a long-running Prometheus
 * prober, with blackbox_exporter's contract.
 *
 * The capture, the raw sockets, the held source ports and the firewall
 * guard are set up once, as for a run; then an HTTP server (libmicrohttpd,
 * driven from the engine's own poll loop: one thread) takes
 *   GET /probe?target=HOST[:PORT]&port=N&module=full|syn|http|tls|https
 * and answers with the metrics of one probe of that target:port
 * (probe_success, probe_duration_seconds, tcpshake's outcome, flags, wire
 * RTT and phases), and GET /metrics with the prober's own counters. Each
 * request is a flow of its own (flows_add): many probes share the engine,
 * and a result goes only to the request that asked for it. Only the
 * blocks named by --allow (minus --exclude) may be probed: the prober is
 * no open proxy for scanning; --max-probes bounds the probes in flight. */
#ifndef TCPSHAKE_SERVE_H
#define TCPSHAKE_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "run.h"

/* Set-up, in the engine's order: the allow list as the run's target set
 * (so routes, captures, raw sockets and the guard cover it); the plan of a
 * prober; how many source ports to hold; then the listening socket and the
 * HTTP server (before privileges are dropped). Each returns 0 or an exit
 * code, the reason said through r->diag. */
int serve_load_allow(struct run *r);
int serve_plan(struct run *r);
size_t serve_ports_wanted(const struct config *cfg, size_t range);
int serve_open(struct run *r);

/* The loop's side: the descriptor to poll, the HTTP server's next
 * deadline (-1: none), and its work once the descriptor is ready or the
 * deadline passed. */
int serve_fd(const struct run *r);
int64_t serve_timeout_ns(const struct run *r);
void serve_work(struct run *r);

/* A probe a request asked for is done: its answer is written and the
 * request resumed. */
void serve_probe_done(struct run *r, struct flow *f, const struct probe *p);

/* A signal: the requests still waiting are answered 503, the server
 * stops. Then serve_free (teardown; safe when never opened). */
void serve_stop(struct run *r);
void serve_free(struct run *r);

/* ---- pure parts, unit-tested ------------------------------------------ */

/* The module a request names: full (and blackbox's tcp_connect), syn, http
 * (and http_2xx); NULL for any other. */
const struct probe_kind *serve_module(const char *name);

/* The probe's wait: -W, lowered to what Prometheus gives the scrape
 * (X-Prometheus-Scrape-Timeout-Seconds, less 0.5 s as blackbox does), at
 * least 100 ms. header may be NULL. */
int64_t serve_timeout_for(int64_t timeout_ns, const char *header);

#endif
