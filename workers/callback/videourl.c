/*
 * The video_url of an Official Account's media/get answer for a video
 * (shared/protocols/wecom.md D.5), checked before download.c fetches
 * it.  The URL names the platform's media host, which the protocol
 * does not document, so its host is not pinned; what is held is its
 * shape: http or https (D.5: videos were served over plain http), a
 * host name or IPv4 address of letters, digits, dots and dashes, an
 * optional port, no user info (an '@' could carry credentials or hide
 * the real host), then printable ASCII without a backslash or a
 * fragment.  Anything else is refused, never repaired.
 *
 * Pure: no I/O, no log.  Fuzzed by tests/fuzz/fuzz_videourl.c.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "videourl.h"

/* A DNS name is at most 253 characters; a port, 5 digits. */
#define VIDEOURL_HOST_MAX	253
#define VIDEOURL_PORT_MAX	5

static int	videourl_shape(const char *, size_t, const char **);
static int	videourl_port(const char *, size_t);

int
videourl_parse(const char *body, size_t len, char out[VIDEOURL_MAX + 1],
    const char **why)
{
	json_t *o, *v;
	const char *s;
	size_t n;
	int rv = -1;

	*why = "the answer is not JSON with a video_url";
	if (len > VIDEOURL_ANSWER_MAX)
		return -1;
	if ((o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if (!json_is_object(o))
		goto out;
	/* D.1: errcode absent is 0; download.c has read a non-zero one. */
	if ((v = json_object_get(o, "errcode")) != NULL &&
	    (!json_is_integer(v) || json_integer_value(v) != 0))
		goto out;
	if ((v = json_object_get(o, "video_url")) == NULL ||
	    (s = json_string_value(v)) == NULL)
		goto out;
	n = json_string_length(v);
	if (strlen(s) != n || videourl_shape(s, n, why) == -1)
		goto out;
	memcpy(out, s, n + 1);
	rv = 0;
 out:
	json_decref(o);
	return rv;
}

static int
videourl_shape(const char *s, size_t len, const char **why)
{
	size_t i, h, hlen, p;

	*why = "the video_url is not an http or https URL of the allowed shape";
	if (len == 0 || len > VIDEOURL_MAX)
		return -1;
	if (len > 8 && strncmp(s, "https://", 8) == 0)
		h = 8;
	else if (len > 7 && strncmp(s, "http://", 7) == 0)
		h = 7;
	else
		return -1;
	for (i = h; i < len && s[i] != '/' && s[i] != '?' && s[i] != ':';
	    i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		    s[i] == '-'))
			return -1;
	hlen = i - h;
	if (hlen == 0 || hlen > VIDEOURL_HOST_MAX || s[h] == '.' ||
	    s[h] == '-')
		return -1;
	if (i < len && s[i] == ':') {
		p = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (videourl_port(s + p, i - p) == -1 ||
		    (i < len && s[i] != '/' && s[i] != '?'))
			return -1;
	}
	for (; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] > '~' ||
		    s[i] == '\\' || s[i] == '#')
			return -1;
	return 0;
}

/* 1 to 65535, in at most VIDEOURL_PORT_MAX digits. */
static int
videourl_port(const char *s, size_t n)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > VIDEOURL_PORT_MAX)
		return -1;
	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v >= 1 && v <= 65535 ? 0 : -1;
}
