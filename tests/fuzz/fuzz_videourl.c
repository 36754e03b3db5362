/*
 * libFuzzer harness for workers/callback/videourl.c (shared/protocols/
 * wecom.md D.5): arbitrary bytes as an Official Account's media/get
 * answer for a video, or (first byte 'U') as the video_url of one, put
 * in the JSON here: jansson is not instrumented, so the fuzzer would
 * seldom build a whole object and reach the URL's checks.  Invariants (abort on a breach): a URL taken is
 * NUL-terminated within VIDEOURL_MAX, starts http:// or https://, has
 * no byte outside printable ASCII, no backslash, no '#', and no '@'
 * before its path; a refusal says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callback/videourl.h"

/* Past the answer's bound is refused unread: a little over is enough. */
#define FUZZER_MAXLEN	(VIDEOURL_ANSWER_MAX + 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* {"video_url":"..."} with every byte of s as itself or \u00XX. */
static char *
wrap(const uint8_t *s, size_t n, size_t *len)
{
	static const char hex[] = "0123456789abcdef";
	char *j, *o;
	size_t i;

	o = j = malloc(n * 6 + 32);
	check(j != NULL);
	memcpy(o, "{\"video_url\":\"", 14);
	o += 14;
	for (i = 0; i < n; i++) {
		if (s[i] >= ' ' && s[i] <= '~' && s[i] != '"' &&
		    s[i] != '\\') {
			*o++ = (char)s[i];
			continue;
		}
		memcpy(o, "\\u00", 4);
		o[4] = hex[s[i] >> 4];
		o[5] = hex[s[i] & 0x0f];
		o += 6;
	}
	memcpy(o, "\"}", 2);
	*len = (size_t)(o + 2 - j);
	return j;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[VIDEOURL_MAX + 1], *json = NULL;
	const char *why = NULL, *host, *in = (const char *)data;
	size_t i, n;
	int rv;

	if (size > FUZZER_MAXLEN)
		return 0;
	if (size > 0 && data[0] == 'U') {
		json = wrap(data + 1, size - 1, &size);
		in = json;
	}
	memset(out, 'X', sizeof(out));
	rv = videourl_parse(in, size, out, &why);
	free(json);
	if (rv == -1) {
		check(why != NULL && *why != '\0');
		return 0;
	}
	n = strnlen(out, sizeof(out));
	check(n > 0 && n <= VIDEOURL_MAX);
	check(strncmp(out, "http://", 7) == 0 ||
	    strncmp(out, "https://", 8) == 0);
	for (i = 0; i < n; i++)
		check(out[i] > ' ' && out[i] <= '~' && out[i] != '\\' &&
		    out[i] != '#');
	host = strstr(out, "://") + 3;
	check(*host != '\0' && *host != '/' && *host != ':' && *host != '?');
	check(strcspn(host, "@") >= strcspn(host, "/?"));
	return 0;
}
