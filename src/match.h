/* match.h - a segment belongs to a live probe, or to nobody.
 *
 * Strict rules: a TCP reply counts only when its addresses and ports are the
 * probe's, it carries ACK and ack == ISN + 1; an ICMP error counts only when
 * the header it quotes is our SYN (addresses, ports and sequence number), or
 * in a PMTU test our segment in flight; our
 * own outgoing SYN is recognised by the same fields. Once the handshake is
 * done, a segment counts when it acknowledges nothing we did not send, and
 * our own later segments are recognised so their capture times are known.
 * Everything else is ignored. */
#ifndef TCPSHAKE_MATCH_H
#define TCPSHAKE_MATCH_H

#include <stdint.h>

#include "decode.h"
#include "probe.h"

/* Our probe slots by source port: the engine's only lookup structure. A
 * port the run holds always has its slot (idle, live or lingering); any
 * other port has none. */
struct port_table {
	uint16_t lo, hi;      /* the lowest and highest port held, inclusive */
	struct probe **slot;  /* hi - lo + 1 entries, NULL for a port not ours */
};

int port_table_init(struct port_table *t, uint16_t lo, uint16_t hi);
void port_table_free(struct port_table *t);
struct probe *port_table_get(const struct port_table *t, uint16_t port);
void port_table_set(struct port_table *t, uint16_t port, struct probe *p);

/* The probe a segment belongs to and the event it is for it (PEV_LINGER
 * for a finished probe's 4-tuple, PEV_STALE for a live one's that
 * acknowledges what we never sent); NULL when it is none of ours. */
struct probe *match_segment(const struct port_table *t, const struct segment *seg,
			    enum probe_event *ev);

/* The same test against one probe; 0 when it does not match. */
enum probe_event match_probe(const struct probe *p, const struct segment *seg);

#endif
