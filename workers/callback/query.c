/*
 * Query-string values for the callback worker's URL verification and
 * POSTs (shared/protocols/wecom.md C.5 step 2).  The one rule that
 * matters: percent-decoding only.  echostr is base64, full of '+', '/'
 * and '='; WeCom escapes them, and a decoder that turned a literal '+'
 * into a space (HTML forms' rule, which libevent's
 * evhttp_parse_query_str applies) would break the signature.
 *
 * Pure: called by the listener (phase 2), the unit tests and
 * tests/fuzz/fuzz_wxcrypt.c.  A repeated name is refused, not resolved:
 * which copy the signature meant is not ours to guess.
 */
#include <string.h>

#include "hex.h"
#include "query.h"

static int	query_decode(const char *, size_t, char *, size_t);

/* Decode q[0, len) into out; -1 on a bad escape, a NUL or no room. */
static int
query_decode(const char *q, size_t len, char *out, size_t outsz)
{
	size_t i, o = 0;
	int b;
	char c;

	for (i = 0; i < len; i++) {
		c = q[i];
		if (c == '%') {
			if ((b = hex_pct(q + i, len - i)) == -1)
				return -1;
			c = (char)b;
			i += 2;
		}
		if (c == '\0' || o + 1 >= outsz)
			return -1;
		out[o++] = c;	/* '+' stays '+' (C.5) */
	}
	out[o] = '\0';
	return (int)o;
}

int
query_get(const char *q, size_t len, const char *name, char *out,
    size_t outsz)
{
	size_t nlen = strlen(name), i = 0, end, eq;
	int rc = -1, found = 0;

	if (len > QUERY_MAX || outsz == 0 || nlen == 0)
		return -1;
	while (i <= len) {
		for (end = i; end < len && q[end] != '&'; end++)
			;
		for (eq = i; eq < end && q[eq] != '='; eq++)
			;
		/* Names are compared undecoded: ours need no escaping. */
		if (eq - i == nlen && memcmp(q + i, name, nlen) == 0) {
			if (found++)
				return -1;
			rc = query_decode(q + eq + (eq < end), end - eq -
			    (eq < end), out, outsz);
			if (rc == -1)
				return -1;
		}
		i = end + 1;
	}
	return found ? rc : -1;
}
