/*
 * The rate limit key of a client address: what one client is taken to
 * be when the supervisor counts its requests.
 */
#ifndef WX_ADDRKEY_H
#define WX_ADDRKEY_H

#include <stddef.h>

#define ADDRKEY_V6_PREFIX	64	/* bits of an IPv6 client's key */

/*
 * "a:192.0.2.1" for IPv4 (or IPv4 inside IPv6), "a:2001:db8:1:2::/64"
 * for IPv6, "a:" and the text itself for anything else.  Cut to len.
 */
void		 addrkey_format(char *key, size_t len, const char *addr);

#endif
