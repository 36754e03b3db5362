/*
 * libFuzzer harness for workers/console/cookie.c: arbitrary bytes as a
 * Cookie header.  The first byte picks the cookie name looked for and
 * how short the output buffer is; the rest is the header.  Checks the
 * answer against a model written another way (split on ';' with
 * strtok-free scanning, trim, compare names): the value returned is the
 * first pair's of that name, only cookie-octets, NUL-terminated, never
 * past the buffer; -1 leaves "" or a pair the model also rejects.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/cookie.h"

#define FUZZER_MAXLEN	4096

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const names[] = { "wxgate_console", "a", "x y", "" };

static int
is_ws(char c)
{
	return c == ' ' || c == '\t';
}

static int
octet(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != ',' && c != ';' &&
	    c != '\\';
}

/* The model: -1, or the value's offset and length in h. */
static int
model(const char *h, size_t len, const char *name, size_t *voff,
    size_t *vlen)
{
	size_t s = 0, e, n = strlen(name), a, b, eq;

	while (s <= len) {
		e = s;
		while (e < len && h[e] != ';')
			e++;
		a = s;
		b = e;
		while (a < b && is_ws(h[a]))
			a++;
		while (b > a && is_ws(h[b - 1]))
			b--;
		eq = a;
		while (eq < b && h[eq] != '=')
			eq++;
		if (eq < b) {
			size_t ne = eq;

			while (ne > a && is_ws(h[ne - 1]))
				ne--;
			if (ne - a == n && memcmp(h + a, name, n) == 0) {
				size_t vs = eq + 1;

				while (vs < b && is_ws(h[vs]))
					vs++;
				if (b - vs >= 2 && h[vs] == '"' &&
				    h[b - 1] == '"') {
					vs++;
					b--;
				}
				*voff = vs;
				*vlen = b - vs;
				return 0;
			}
		}
		if (e == len)
			break;
		s = e + 1;
	}
	return -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char out[80], *h;
	const char *name;
	size_t outsz, len, voff = 0, vlen = 0, i;
	int n, m;

	if (size < 1 || size > FUZZER_MAXLEN)
		return 0;
	name = names[data[0] & 3];
	outsz = 1 + (data[0] >> 2) % sizeof(out);
	len = size - 1;
	/* Exactly len bytes on the heap: a read past them is ASan's. */
	if ((h = malloc(len > 0 ? len : 1)) == NULL)
		abort();
	memcpy(h, data + 1, len);
	memset(out, 'Z', sizeof(out));
	n = cookie_get(h, len, name, out, outsz);
	m = model(h, len, name, &voff, &vlen);
	if (n >= 0) {
		if (m != 0 || (size_t)n != vlen || (size_t)n >= outsz ||
		    memcmp(out, h + voff, vlen) != 0 || out[n] != '\0')
			abort();
		for (i = 0; i < (size_t)n; i++)
			if (!octet((unsigned char)out[i]))
				abort();
	} else if (m == 0 && vlen < outsz) {
		/* Refused though it fits: it must hold a non-octet. */
		for (i = 0; i < vlen; i++)
			if (!octet((unsigned char)h[voff + i]))
				break;
		if (i == vlen)
			abort();
	}
	/* Never a byte past what it was given. */
	for (i = outsz; i < sizeof(out); i++)
		if (out[i] != 'Z')
			abort();
	free(h);
	return 0;
}
