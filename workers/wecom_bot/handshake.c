/*
 * RFC 6455 section 4.1, the client's half: the request the worker
 * writes after TCP (and TLS) and the checks on the 101 answer.  Called
 * by wsc.c; pure (no socket, no log), so the unit tests run it as is.
 * Nothing but a 101 with the right Sec-WebSocket-Accept is accepted:
 * a proxy's or a portal's page must not be read as frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "handshake.h"

#define WSH_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WSH_ACCEPT_LEN	28

static int	wsh_header(const char *, size_t, const char *, const char **,
		    size_t *);
static int	wsh_has_token(const char *, size_t, const char *);

int
wsh_url_parse(const char *u, struct wsh_url *url)
{
	const char *h, *end, *colon, *hend;
	size_t hlen;

	memset(url, 0, sizeof(*url));
	if (strncmp(u, "wss://", 6) == 0) {
		url->tls = 1;
		h = u + 6;
	} else if (strncmp(u, "ws://", 5) == 0)
		h = u + 5;
	else
		return -1;
	if (strcspn(u, " \t\r\n") != strlen(u))
		return -1;
	end = h + strcspn(h, "/?#");
	if (*end == '#')
		return -1;
	if (*h == '[') {
		if ((hend = memchr(h, ']', (size_t)(end - h))) == NULL)
			return -1;
		url->v6 = 1;
		h++;
		colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
		if (colon == NULL && hend + 1 != end)
			return -1;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hend = colon != NULL ? colon : end;
	}
	hlen = (size_t)(hend - h);
	if (hlen == 0 || hlen > WSH_HOST_MAX)
		return -1;
	memcpy(url->host, h, hlen);
	if (colon != NULL) {
		if (end - colon - 1 < 1 || end - colon - 1 > 5 ||
		    strspn(colon + 1, "0123456789") < (size_t)(end - colon - 1))
			return -1;
		memcpy(url->port, colon + 1, (size_t)(end - colon - 1));
		if (strtol(url->port, NULL, 10) < 1 ||
		    strtol(url->port, NULL, 10) > 65535)
			return -1;
	} else
		snprintf(url->port, sizeof(url->port), "%s",
		    url->tls ? "443" : "80");
	if (*end == '\0')
		snprintf(url->path, sizeof(url->path), "/");
	else if (snprintf(url->path, sizeof(url->path), "%s%s",
	    *end == '?' ? "/" : "", end) >= (int)sizeof(url->path))
		return -1;
	return 0;
}

int
wsh_request(const struct wsh_url *url, const char key[WSH_KEY_LEN + 1],
    char *buf, size_t size)
{
	int n, dflt;

	dflt = strcmp(url->port, url->tls ? "443" : "80") == 0;
	n = snprintf(buf, size, "GET %s HTTP/1.1\r\n"
	    "Host: %s%s%s%s%s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "\r\n", url->path, url->v6 ? "[" : "", url->host,
	    url->v6 ? "]" : "", dflt ? "" : ":", dflt ? "" : url->port, key);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
wsh_check(const char *head, size_t len, const char key[WSH_KEY_LEN + 1],
    const char **why)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char buf[WSH_KEY_LEN + sizeof(WSH_GUID)], want[WSH_ACCEPT_LEN + 1];
	unsigned int mdlen;
	const char *v;
	size_t vlen;

	if (len < 12 || (memcmp(head, "HTTP/1.1 101", 12) != 0 &&
	    memcmp(head, "HTTP/1.0 101", 12) != 0)) {
		*why = "the server did not switch protocols";
		return -1;
	}
	if (wsh_header(head, len, "upgrade", &v, &vlen) == -1 ||
	    !wsh_has_token(v, vlen, "websocket") ||
	    wsh_header(head, len, "connection", &v, &vlen) == -1 ||
	    !wsh_has_token(v, vlen, "upgrade")) {
		*why = "no websocket upgrade in the answer";
		return -1;
	}
	memcpy(buf, key, WSH_KEY_LEN);
	memcpy(buf + WSH_KEY_LEN, WSH_GUID, sizeof(WSH_GUID) - 1);
	if (EVP_Digest(buf, WSH_KEY_LEN + sizeof(WSH_GUID) - 1, md, &mdlen,
	    EVP_sha1(), NULL) != 1 || mdlen != 20 ||
	    EVP_EncodeBlock((unsigned char *)want, md, 20) != WSH_ACCEPT_LEN) {
		*why = "SHA-1 unavailable";
		return -1;
	}
	if (wsh_header(head, len, "sec-websocket-accept", &v, &vlen) == -1 ||
	    vlen != WSH_ACCEPT_LEN || memcmp(v, want, vlen) != 0) {
		*why = "a wrong Sec-WebSocket-Accept";
		return -1;
	}
	return 0;
}

/* The value of header name (once; trimmed), or -1. */
static int
wsh_header(const char *head, size_t len, const char *name, const char **vp,
    size_t *vlenp)
{
	const char *p = head, *end = head + len, *eol, *v;
	size_t nlen = strlen(name);
	int found = 0;

	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if ((size_t)(eol - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			if (found++)
				return -1;
			v = p + nlen + 1;
			while (v < eol && (*v == ' ' || *v == '\t'))
				v++;
			*vp = v;
			*vlenp = (size_t)(eol - v);
			while (*vlenp > 0 && (v[*vlenp - 1] == '\r' ||
			    v[*vlenp - 1] == ' ' || v[*vlenp - 1] == '\t'))
				(*vlenp)--;
		}
		p = eol + 1;
	}
	return found ? 0 : -1;
}

/* A comma-separated list holds token, in any case. */
static int
wsh_has_token(const char *v, size_t len, const char *token)
{
	size_t tlen = strlen(token), i = 0, s, e;

	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == ',' || v[i] == '\t'))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tlen && strncasecmp(v + s, token, tlen) == 0)
			return 1;
	}
	return 0;
}
