/* fuzz_tls.c - libFuzzer target for the TLS client's input side: whatever
 * a server answers to our ClientHello, in whatever chunks TCP delivers it.
 * OpenSSL parses the records; what this checks is our side of it: the
 * milestones, the failure naming, and the certificate details read out of a
 * handshake that failed after the server's (possibly hostile) Certificate,
 * which in TLS 1.2 arrives in the clear.
 *
 * Input: [chunk size selector][server bytes...]. Seeds are real server
 * flights (TLS 1.2 with its certificate, TLS 1.3) and a plain HTTP answer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "tls.h"

/* one context for the whole run, as tcpshake has: the trust store loads once */
static struct tls_ctx *shared_ctx(void)
{
	static struct tls_ctx ctx;
	static int ready;
	if (!ready) {
		char err[256];
		struct tls_params p = { .alpn = "h2,http/1.1" };
		if (tls_ctx_init(&ctx, &p, err, sizeof(err)) < 0)
			abort();
		ready = 1;
	}
	return &ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t chunk = (size_t)data[0] + 1;
	data++, size--;
	struct tls_conn *c = tls_conn_new(shared_ctx(), "www.example.test", 1700000000);
	if (!c)
		return 0;
	uint8_t out[4096];
	while (tls_take_out(c, out, sizeof(out)) > 0)
		;
	for (size_t off = 0; off < size; off += chunk) {
		size_t n = size - off < chunk ? size - off : chunk;
		tls_feed(c, data + off, n);
		while (tls_take_out(c, out, sizeof(out)) > 0)
			;
		while (tls_read(c, out, sizeof(out)) > 0)
			;
	}
	tls_eof(c);
	const struct tls_marks *m = tls_marks(c);
	const struct tls_result *r = tls_result(c);
	/* the milestones are offsets into what was fed, in order */
	if (m->server_hello_end > m->in_total || m->server_finished_end > m->in_total ||
	    (m->server_finished_end && m->server_finished_end < m->server_hello_end))
		abort();
	/* a failure always has a name */
	if (tls_state(c) == TLS_FAILED && r->error[0] == '\0')
		abort();
	if (r->san_count > TLS_SAN_MAX || r->san_count > r->san_total)
		abort();
	tls_conn_free(c);
	return 0;
}
