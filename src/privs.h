/* privs.h - capabilities, not user ids.
 *
 * tcpshake needs CAP_NET_RAW for its raw sockets and capture handle, and in
 * full mode CAP_NET_ADMIN for the guard's table and for marking its
 * segments. It asks for them by name when they are missing, refuses to run
 * setuid, and drops every capability once its sockets, capture handle and
 * guard are open. */
#ifndef TCPSHAKE_PRIVS_H
#define TCPSHAKE_PRIVS_H

#include <stdbool.h>

/* Is this capability (CAP_NET_RAW, CAP_NET_ADMIN, from linux/capability.h)
 * in our effective set? */
bool privs_have(int cap);

/* A set-user-ID or set-group-ID run; tcpshake refuses those. */
bool privs_setid(void);

/* Drop every capability, effective, permitted, inheritable and ambient;
 * set NO_NEW_PRIVS; and when started as root (CAP_SETPCAP) empty the
 * bounding set and lock the securebits so that uid 0 no longer grants
 * capabilities. 0 on success, -1 with errno. */
int privs_drop_all(void);

#endif
