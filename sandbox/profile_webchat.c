/*
 * Seccomp rules for the public web chat pool.  It accepts on the
 * listening socket the supervisor handed it and never creates a socket:
 * no socket(), no connect(), so a compromised parser cannot dial out.
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW(accept4, "connections on the handed listening socket"),
	SB_ALLOW(accept, "connections on the handed listening socket"),
	SB_ALLOW(listen, "evconnlistener re-arms the handed socket"),
	SB_ALLOW(getpeername, "the client address for rate limits"),
	SB_ALLOW(getsockname, "evconnlistener"),
	SB_ALLOW(shutdown, "closing a connection after its last reply"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, SOL_SOCKET, 0,
	    "socket options on accepted connections"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, IPPROTO_TCP, 0,
	    "TCP_NODELAY on accepted connections"),
	SB_ALLOW(getsockopt, "SO_ERROR on connections"),
	SB_ALLOW(recvfrom, "reads on connections"),
	SB_ALLOW(sendto, "writes on connections"),
};

const struct sb_profile profile_webchat = {
	"webchat", rules, SB_NRULES(rules)
};
