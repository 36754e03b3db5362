/*
 * resolv.conf's nameservers, read by libevent's own parser into a
 * scratch evdns base whose sockets die with it: the loop's event base
 * is made only after the sandbox, and the sandbox closes what we open
 * now.  No file, or none listed: 127.0.0.1, as libc does; a resolver
 * that does not answer fails lookups, never the worker.
 */
#include <event2/dns.h>
#include <event2/event.h>

#include "log.h"
#include "resolv.h"

#define NET_RESOLV_CONF	"/etc/resolv.conf"

int
net_ns_read(struct net_ns *ns)
{
	struct event_base *eb;
	struct evdns_base *d;
	int i, n, len, rv;

	ns->n = 0;
	/* Query ids and 0x20 case bits: seeded now, while /dev is here. */
	if (evutil_secure_rng_init() == -1) {
		log_warnx("%s: cannot seed libevent's random numbers",
		    __func__);
		return -1;
	}
	if ((eb = event_base_new()) == NULL)
		return 0;
	if ((d = evdns_base_new(eb, 0)) == NULL) {
		event_base_free(eb);
		return 0;
	}
	if ((rv = evdns_base_resolv_conf_parse(d, DNS_OPTION_NAMESERVERS,
	    NET_RESOLV_CONF)) != 0)
		log_info("%s: %s unusable (evdns error %d); asking 127.0.0.1",
		    __func__, NET_RESOLV_CONF, rv);
	n = evdns_base_count_nameservers(d);
	for (i = 0; i < n && ns->n < NET_NS_MAX; i++) {
		len = evdns_base_get_nameserver_addr(d, i,
		    (struct sockaddr *)&ns->a[ns->n], sizeof(ns->a[0]));
		if (len > 0 && (size_t)len <= sizeof(ns->a[0]))
			ns->len[ns->n++] = (ev_socklen_t)len;
	}
	evdns_base_free(d, 0);
	event_base_free(eb);
	return 0;
}

size_t
net_ns_add(struct evdns_base *d, const struct net_ns *ns)
{
	size_t i;

	for (i = 0; i < ns->n; i++)
		if (evdns_base_nameserver_sockaddr_add(d,
		    (const struct sockaddr *)&ns->a[i], ns->len[i], 0) != 0)
			log_warnx("%s: nameserver %zu refused", __func__, i);
	return (size_t)evdns_base_count_nameservers(d);
}
