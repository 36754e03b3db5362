/*
 * Client address to rate limit key, for supervisor/admit.c.  It decides
 * only how much of an address names one client; it never logs, and never
 * decides which address is the client's (admit.c does, from the peer and
 * trusted proxies).
 *
 * IPv4 is keyed on the whole address.  IPv6 is keyed on its /64: a site
 * or a single host is handed at least a /64, so per-address keys would
 * let one client rotate through 2^64 of them for free, and the bucket
 * table (policy/ratelimit.c) would be churned by one attacker.  IPv4
 * carried in IPv6 (mapped, as a dual-stack socket reports it, or behind
 * the NAT64 well-known prefix) is keyed as the IPv4 address it is, so a
 * client has one key however it is spelled and a translator's clients
 * are not folded into one /64.  Keys come from the binary form, so text
 * variants ("2001:DB8::1", "2001:db8:0::1") are one key too.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "addrkey.h"

static int	addrkey_unmap(const struct in6_addr *, struct in_addr *);

/* IPv6 prefixes whose last 32 bits are an IPv4 address. */
static const uint8_t addrkey_v4in6[][12] = {
	/* ::ffff:0:0/96, RFC 4291 2.5.5.2 */
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff },
	/* 64:ff9b::/96, RFC 6052 2.1 */
	{ 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 },
};

/* 1 and *a4 set if the IPv6 address carries an IPv4 one. */
static int
addrkey_unmap(const struct in6_addr *a6, struct in_addr *a4)
{
	size_t i;

	for (i = 0; i < sizeof(addrkey_v4in6) / sizeof(addrkey_v4in6[0]);
	    i++) {
		if (memcmp(a6->s6_addr, addrkey_v4in6[i],
		    sizeof(addrkey_v4in6[i])) == 0) {
			memcpy(a4, &a6->s6_addr[12], sizeof(*a4));
			return 1;
		}
	}
	return 0;
}

void
addrkey_format(char *key, size_t len, const char *addr)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	struct in_addr a4;
	const char *p = NULL;
	int af = AF_UNSPEC;

	if (inet_pton(AF_INET, addr, &a4) == 1)
		af = AF_INET;
	else if (inet_pton(AF_INET6, addr, &a6) == 1)
		af = addrkey_unmap(&a6, &a4) ? AF_INET : AF_INET6;

	if (af == AF_INET)
		p = inet_ntop(AF_INET, &a4, buf, sizeof(buf));
	else if (af == AF_INET6) {
		memset(&a6.s6_addr[ADDRKEY_V6_PREFIX / 8], 0,
		    sizeof(a6.s6_addr) - ADDRKEY_V6_PREFIX / 8);
		p = inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
	}
	/* Not an address: its text is all there is to key on. */
	if (p == NULL)
		(void)snprintf(key, len, "a:%s", addr);
	else if (af == AF_INET6)
		(void)snprintf(key, len, "a:%s/%d", p, ADDRKEY_V6_PREFIX);
	else
		(void)snprintf(key, len, "a:%s", p);
}
