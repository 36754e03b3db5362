/*
 * The client behind a chain of proxies: which address X-Forwarded-For
 * lets the supervisor believe, given the peer that sent it.
 */
#ifndef WX_XFF_H
#define WX_XFF_H

#include <stddef.h>

/* Longest address text, a hop or the peer; IPC_ADDR_MAX on the wire. */
#define XFF_ADDR_MAX	64

/*
 * Walk fwd (fwdlen bytes, the header as sent) from the right while the
 * address so far, starting at peer, is one of the ntrusted trusted
 * proxies.  The client goes to out, NUL-terminated and cut to outlen as
 * snprintf would.  Returns how many items of fwd were believed (0: the
 * peer is the client), or -1 if out was too short for it.
 */
int	 xff_client(const char *peer, size_t peerlen, const char *fwd,
	    size_t fwdlen, char *const *trusted, size_t ntrusted, char *out,
	    size_t outlen);
/* 1 if addr is one of the trusted proxies, spelled exactly so. */
int	 xff_trusted(const char *addr, char *const *trusted, size_t ntrusted);

#endif
