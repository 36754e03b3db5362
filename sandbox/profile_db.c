/*
 * Seccomp rules the hub adds when its store is a PostgreSQL server
 * (wxgate-hub-pg, supervisor/hub_pg.c): libpq's connections, driven by
 * the hub's libevent loop, to the address the configuration gives.
 * Stream sockets only, no UDP: the server is named by an address or a
 * Unix socket, and nothing is looked up by DNS inside the sandbox.
 * TLS (sslmode=verify-full) adds nothing but file reads, which the hub
 * profile has; getrandom (SCRAM's nonce) is in the common profile.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW_ARG(socket, 1, SCMP_CMP_MASKED_EQ, 0xf, SOCK_STREAM,
	    "a stream to the database: TCP or its Unix socket"),
	SB_ALLOW(connect, "dialling the database"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, IPPROTO_TCP, 0,
	    "TCP_NODELAY and keepalive timing"),
	SB_ALLOW(getsockname, "libpq records the local address"),
	SB_ALLOW(getpeername, "libpq records the server's address"),
	SB_ALLOW(sendto, "libpq's writes (MSG_NOSIGNAL)"),
	SB_ALLOW(recvfrom, "libpq's reads"),
	SB_ALLOW(poll, "libpq waits for a cancel's connection"),
	SB_ALLOW(ppoll, "libpq waits for a cancel's connection, newer libcs"),
};

const struct sb_profile profile_db = {
	"db", rules, SB_NRULES(rules)
};
