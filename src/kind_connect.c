/* kind_connect.c - the handshake kinds: a SYN, then, once the SYN/ACK is
 * in, a RST at once (syn), our close (full) or HTTP on the byte stream
 * (http). The connection itself is probe.c's state machine. */
#include "kind.h"

#include <string.h>

#include "probe.h"

/* A SYN/ACK or RST/ACK that acknowledges exactly our ISN + 1. */
bool kind_connect_answers(const struct probe *p, const struct segment *s)
{
	uint8_t sr = s->flags & (TCPF_SYN | TCPF_RST);
	return (s->flags & TCPF_ACK) && s->ack == p->isn + 1u && (sr == TCPF_SYN || sr == TCPF_RST);
}

enum outcome kind_connect_classify(const struct probe *p, const struct segment *seg, bool icmp)
{
	(void)p;
	if (icmp)
		return OUTCOME_UNREACHABLE;
	if (!seg)
		return OUTCOME_FILTERED;
	return (seg->flags & TCPF_RST) ? OUTCOME_CLOSED : OUTCOME_OPEN;
}

/* ---- http: the first application on the stream ------------------------- */

/* The status line is read once, from the first bytes of the response: they
 * are held (not consumed) until the line ends, this many bytes are in, or
 * the peer closes, so a line split across segments or arriving out of
 * order is still read whole. */
#define HTTP_LINE_MAX 256

/* The request is the flow's (flows.c), the same for each of its probes. */
static void http_open(struct probe *p)
{
	if (p->req && p->req_len)
		(void)probe_send(p, p->req, p->req_len);
}

static enum app_verdict http_data(struct probe *p, const struct app_input *in, size_t *consumed)
{
	struct http_result *h = &p->res.http;
	/* both ends from the capture: our request leaving, the segment that
	 * brought the first response byte in order */
	if (h->bytes == 0 && in->fresh > 0 && p->req_wire_ns > 0 && in->ts_ns >= p->req_wire_ns)
		h->ttfb_ns = in->ts_ns - p->req_wire_ns;
	h->bytes += in->fresh;
	/* nothing consumed yet: the buffer begins with the status line */
	bool at_start = in->len == h->bytes;
	if (at_start && !in->eof && in->len < HTTP_LINE_MAX && !memchr(in->data, '\n', in->len))
		return APP_MORE; /* the line is not whole yet */
	if (at_start)
		h->status = http_status(in->data, in->len < HTTP_LINE_MAX ? in->len : HTTP_LINE_MAX);
	*consumed = in->len;
	/* Connection: close - the server ends it, as before the stream */
	return APP_MORE;
}

static const struct probe_app http_app = { .on_open = http_open, .on_data = http_data };

const struct probe_kind kind_syn = { .name = "syn", .flags = TCPF_SYN, .handshake = true,
				     .after = AFTER_RESET, .answers = kind_connect_answers,
				     .classify = kind_connect_classify };
const struct probe_kind kind_full = { .name = "full", .flags = TCPF_SYN, .handshake = true,
				     .after = AFTER_CLOSE, .answers = kind_connect_answers,
				     .classify = kind_connect_classify };
const struct probe_kind kind_http = { .name = "http", .flags = TCPF_SYN, .handshake = true,
				     .after = AFTER_APP, .answers = kind_connect_answers,
				     .classify = kind_connect_classify, .app = &http_app };
