/*
 * X-Forwarded-For, for supervisor/admit.c: the one parser of bytes from
 * the internet the supervisor runs itself, so it is a pure function of
 * its arguments.  It allocates nothing, keeps no state and never logs,
 * and tests/fuzz/fuzz_xff.c checks it against a model.
 *
 * The header is believed only as far as trusted proxies vouch for it:
 * each trusted hop names the one before it, and the first address that
 * is not a trusted proxy is the client.  Anything else in the chain (a
 * name, a port, an empty or over-long item) stops the walk at the last
 * address we could believe, so a client cannot push junk into the rate
 * limit keys, and an untrusted peer is its own client whatever it sends.
 * Trusted proxies are compared as text, exactly as configured.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "xff.h"

static int	xff_is_addr(const char *);
static size_t	xff_hop(const char *, size_t *);

int
xff_trusted(const char *addr, char *const *trusted, size_t ntrusted)
{
	size_t i;

	for (i = 0; i < ntrusted; i++)
		if (trusted[i] != NULL && strcmp(trusted[i], addr) == 0)
			return 1;
	return 0;
}

/* An IPv4 or IPv6 address in its textual form: no port, no zone. */
static int
xff_is_addr(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 ||
	    inet_pton(AF_INET6, s, &a6) == 1;
}

/*
 * The last item of fwd[0, *end): *end moves to its start, and its length
 * is returned, 0 when nothing is left.  Spaces around an item and empty
 * items are skipped: proxies write "a, b" and some leave a comma behind.
 */
static size_t
xff_hop(const char *fwd, size_t *end)
{
	size_t e = *end, s;

	while (e > 0 && (fwd[e - 1] == ' ' || fwd[e - 1] == ','))
		e--;
	for (s = e; s > 0 && fwd[s - 1] != ','; s--)
		;
	while (s < e && fwd[s] == ' ')
		s++;
	*end = s;
	return e - s;
}

int
xff_client(const char *peer, size_t peerlen, const char *fwd, size_t fwdlen,
    char *const *trusted, size_t ntrusted, char *out, size_t outlen)
{
	char cur[XFF_ADDR_MAX + 1], hop[XFF_ADDR_MAX + 1];
	size_t n, end;
	int hops = 0;

	/* The peer is cut as the wire cuts it (where it holds no NUL). */
	for (n = 0; n < peerlen && n < XFF_ADDR_MAX && peer[n] != '\0'; n++)
		cur[n] = peer[n];
	cur[n] = '\0';
	end = fwd != NULL ? fwdlen : 0;
	while (end > 0 && xff_trusted(cur, trusted, ntrusted)) {
		n = xff_hop(fwd, &end);
		/* No address is empty, longer, or holds a NUL. */
		if (n == 0 || n > XFF_ADDR_MAX ||
		    memchr(fwd + end, '\0', n) != NULL)
			break;
		memcpy(hop, fwd + end, n);
		hop[n] = '\0';
		if (!xff_is_addr(hop))
			break;
		memcpy(cur, hop, n + 1);
		hops++;
	}
	if (outlen == 0)
		return -1;
	n = strlen(cur);
	if (n >= outlen) {
		memcpy(out, cur, outlen - 1);
		out[outlen - 1] = '\0';
		return -1;
	}
	memcpy(out, cur, n + 1);
	return hops;
}
