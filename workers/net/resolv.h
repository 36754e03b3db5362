/*
 * The nameservers of /etc/resolv.conf for a worker that dials out
 * (fetch.c's transfers, the WeCom bot's WebSocket): read before the
 * sandbox, when the file is still there, and handed to the loop's
 * evdns base once it exists.
 */
#ifndef WX_NET_RESOLV_H
#define WX_NET_RESOLV_H

#include <sys/socket.h>

#include <event2/util.h>

struct evdns_base;

#define NET_NS_MAX	3	/* resolv.conf's MAXNS */

struct net_ns {
	struct sockaddr_storage	 a[NET_NS_MAX];
	ev_socklen_t		 len[NET_NS_MAX];
	size_t			 n;
};

/* -1 when libevent's random numbers cannot be seeded (no DNS then). */
int	net_ns_read(struct net_ns *);
/* The nameservers evdns took. */
size_t	net_ns_add(struct evdns_base *, const struct net_ns *);

#endif
