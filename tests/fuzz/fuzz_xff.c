/*
 * libFuzzer harness for policy/xff.c: arbitrary bytes as a peer address
 * and an X-Forwarded-For header.  The first byte picks which of a fixed
 * set of proxies are trusted and how short a second output buffer is;
 * the rest is "peer\nheader".  Checks the walk against a model written
 * the other way round (split on commas, trim, drop empty items, then
 * take items from the right): the client is the peer or one of the
 * header's items, an item only if it is an address and every address
 * before it on the way was a trusted proxy; a short buffer gets a
 * NUL-terminated prefix and -1.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xff.h"

/* IPC_FORWARDED_MAX is 512; a few times that covers long chains. */
#define FUZZER_MAXLEN	4096
#define FUZZ_ITEMS_MAX	FUZZER_MAXLEN

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char *const all_proxies[] = {
	"127.0.0.1", "10.0.0.1", "::1", "2001:db8::1", "::ffff:10.0.0.2",
	"", "unknown", "10.0.0.1 "
};
#define NPROXIES	(sizeof(all_proxies) / sizeof(all_proxies[0]))

struct item {
	size_t	off;
	size_t	len;
};

static int
model_is_addr(const char *s, size_t len)
{
	char buf[XFF_ADDR_MAX + 1];
	unsigned char a[sizeof(struct in6_addr)];

	if (len == 0 || len > XFF_ADDR_MAX || memchr(s, '\0', len) != NULL)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, a) == 1 ||
	    inet_pton(AF_INET6, buf, a) == 1;
}

/* Comma-separated items, spaces trimmed, empty ones dropped. */
static size_t
model_items(const char *fwd, size_t len, struct item *it)
{
	size_t n = 0, s = 0, e, i;

	for (i = 0; i <= len; i++) {
		if (i < len && fwd[i] != ',')
			continue;
		e = i;
		while (s < e && fwd[s] == ' ')
			s++;
		while (e > s && fwd[e - 1] == ' ')
			e--;
		if (e > s) {
			it[n].off = s;
			it[n].len = e - s;
			n++;
		}
		s = i + 1;
	}
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct item it[FUZZ_ITEMS_MAX];
	char *trusted[NPROXIES];
	char out[XFF_ADDR_MAX + 1], cut[XFF_ADDR_MAX + 1];
	char want[XFF_ADDR_MAX + 1];
	const char *peer, *fwd, *nl;
	size_t ntrusted = 0, peerlen, fwdlen, nitems, i, n, cutlen;
	int rv, hops;

	if (size < 1 || size > FUZZER_MAXLEN)
		return 0;
	for (i = 0; i < NPROXIES; i++)
		if (data[0] & (1u << i))
			trusted[ntrusted++] = all_proxies[i];
	cutlen = data[0] % (XFF_ADDR_MAX + 2);
	peer = (const char *)data + 1;
	size--;
	if ((nl = memchr(peer, '\n', size)) != NULL) {
		peerlen = nl - peer;
		fwd = nl + 1;
		fwdlen = size - peerlen - 1;
	} else {
		peerlen = size;
		fwd = NULL;
		fwdlen = 0;
	}

	rv = xff_client(peer, peerlen, fwd, fwdlen, trusted, ntrusted, out,
	    sizeof(out));

	/* The model: the peer as the wire cuts it, then items leftwards. */
	for (n = 0; n < peerlen && n < XFF_ADDR_MAX && peer[n] != '\0'; n++)
		want[n] = peer[n];
	want[n] = '\0';
	nitems = fwd != NULL ? model_items(fwd, fwdlen, it) : 0;
	hops = 0;
	for (i = nitems; i > 0; i--) {
		if (!xff_trusted(want, trusted, ntrusted) ||
		    !model_is_addr(fwd + it[i - 1].off, it[i - 1].len))
			break;
		memcpy(want, fwd + it[i - 1].off, it[i - 1].len);
		want[it[i - 1].len] = '\0';
		hops++;
	}
	if (rv != hops || strcmp(out, want) != 0)
		abort();
	/* An item is believed only as an address, the peer as it is. */
	if (hops > 0 && !model_is_addr(out, strlen(out)))
		abort();
	if (hops == 0 && (strlen(out) > peerlen ||
	    memcmp(out, peer, strlen(out)) != 0))
		abort();

	/* A short buffer: a prefix, NUL-terminated, and -1 for the cut. */
	memset(cut, 'x', sizeof(cut));
	rv = xff_client(peer, peerlen, fwd, fwdlen, trusted, ntrusted, cut,
	    cutlen);
	if (cutlen == 0) {
		if (rv != -1 || cut[0] != 'x')
			abort();
	} else if (strlen(out) >= cutlen) {
		if (rv != -1 || strlen(cut) != cutlen - 1 ||
		    memcmp(cut, out, cutlen - 1) != 0)
			abort();
	} else if (rv != hops || strcmp(cut, out) != 0)
		abort();
	return 0;
}
