/*
 * Seccomp rules an agent worker with the openai backend adds to the
 * agent profile: libcurl dialling HTTP(S) endpoints from inside the
 * worker's libevent loop.  No threads (the host is resolved before the
 * sandbox and pinned with CURLOPT_RESOLVE, so curl's threaded resolver
 * never starts), no files (the CA bundle is in memory), and sockets of
 * the Internet families only.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW_ARG(socket, 0, SCMP_CMP_EQ, AF_INET, 0,
	    "connections to the model endpoint, IPv4"),
	SB_ALLOW_ARG(socket, 0, SCMP_CMP_EQ, AF_INET6, 0,
	    "connections to the model endpoint, IPv6"),
	SB_ALLOW_ARG(socketpair, 0, SCMP_CMP_EQ, AF_UNIX, 0,
	    "curl_multi_init's wake-up pair, a local pipe"),
	SB_ALLOW(connect, "dialling the endpoint"),
	SB_ALLOW(getsockopt, "SO_ERROR after a non-blocking connect"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, SOL_SOCKET, 0,
	    "SO_KEEPALIVE on connections"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, IPPROTO_TCP, 0,
	    "TCP_NODELAY and keepalive timing"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, IPPROTO_IPV6, 0,
	    "IPV6_V6ONLY on IPv6 sockets"),
	SB_ALLOW(getsockname, "curl records the local address"),
	SB_ALLOW(getpeername, "curl records the peer address"),
	SB_ALLOW(sendto, "writes on connections (MSG_NOSIGNAL)"),
	SB_ALLOW(recvfrom, "reads on connections"),
	SB_ALLOW(poll, "curl checks a socket before reuse"),
	SB_ALLOW(ppoll, "curl checks a socket before reuse, newer libcs"),
	SB_ALLOW(shutdown, "closing connections"),
	SB_ALLOW(uname, "OpenSSL and curl version strings"),
};

const struct sb_profile profile_agent_openai = {
	"agent-openai", rules, SB_NRULES(rules)
};
