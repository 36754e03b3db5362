/*
 * Seccomp rules a worker that dials out adds to its kind's profile: an
 * HTTP(S) client (workers/net/fetch.c: libcurl driven by the worker's
 * libevent loop) and evdns looking up host names (UDP to the
 * nameservers read from /etc/resolv.conf before the sandbox).  Used by
 * the openai agent (its model endpoint) and the wechat channel worker
 * (the iLink hosts).  No threads: every host reaches curl already
 * resolved, through CURLOPT_RESOLVE, so its threaded resolver never
 * starts.  No files: the CA bundle is in memory.  Sockets of the
 * Internet families only.  getrandom (evdns query ids, X-WECHAT-UIN)
 * and fcntl's non-blocking and close-on-exec flags are in the common
 * profile.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW_ARG(socket, 0, SCMP_CMP_EQ, AF_INET, 0,
	    "TCP to the hosts it serves, UDP to nameservers, IPv4"),
	SB_ALLOW_ARG(socket, 0, SCMP_CMP_EQ, AF_INET6, 0,
	    "TCP to the hosts it serves, UDP to nameservers, IPv6"),
	SB_ALLOW_ARG(socketpair, 0, SCMP_CMP_EQ, AF_UNIX, 0,
	    "curl_multi_init's wake-up pair, a local pipe"),
	SB_ALLOW(connect, "dialling the hosts; evdns fixes each UDP socket "
	    "to its nameserver"),
	SB_ALLOW(getsockopt, "SO_ERROR after a non-blocking connect"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, SOL_SOCKET, 0,
	    "SO_KEEPALIVE on connections"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, IPPROTO_TCP, 0,
	    "TCP_NODELAY and keepalive timing"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, IPPROTO_IPV6, 0,
	    "IPV6_V6ONLY on IPv6 sockets"),
	SB_ALLOW(getsockname, "curl records the local address"),
	SB_ALLOW(getpeername, "curl records the peer address"),
	SB_ALLOW(sendto, "writes on connections (MSG_NOSIGNAL); evdns "
	    "sends its queries"),
	SB_ALLOW(recvfrom, "reads on connections; evdns reads answers"),
	SB_ALLOW(poll, "curl checks a socket before reuse"),
	SB_ALLOW(ppoll, "curl checks a socket before reuse, newer libcs"),
	SB_ALLOW(shutdown, "closing connections"),
	SB_ALLOW(uname, "OpenSSL and curl version strings"),
};

const struct sb_profile profile_net = {
	"net", rules, SB_NRULES(rules)
};
