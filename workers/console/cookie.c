/*
 * Cookie header values (RFC 6265 4.1.1, 5.4).  Pairs are split at ';',
 * optional white space around each pair is dropped, the name is
 * compared exactly (case matters in cookie names), and a value in
 * double quotes loses them.  Nothing is decoded: the console's own
 * cookie is hex, so a value outside cookie-octet is refused rather
 * than repaired.  Other sites on the same loopback host may set
 * cookies too; theirs are skipped, whatever they hold.
 */
#include <string.h>

#include "cookie.h"

static int	cookie_octet(unsigned char);

/* %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E */
static int
cookie_octet(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

int
cookie_get(const char *h, size_t len, const char *name, char *out,
    size_t outsz)
{
	size_t nlen = strlen(name), i = 0, s, e, eq, vs, ve, k;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	while (i < len) {
		/* One pair: [s, e), without its ';'. */
		s = i;
		while (i < len && h[i] != ';')
			i++;
		e = i;
		if (i < len)
			i++;
		while (s < e && (h[s] == ' ' || h[s] == '\t'))
			s++;
		while (e > s && (h[e - 1] == ' ' || h[e - 1] == '\t'))
			e--;
		for (eq = s; eq < e && h[eq] != '='; eq++)
			;
		if (eq == e)
			continue;
		/* Optional white space may sit around the '=' too. */
		for (k = eq; k > s && (h[k - 1] == ' ' || h[k - 1] == '\t'); k--)
			;
		if (k - s != nlen || memcmp(h + s, name, nlen) != 0)
			continue;
		vs = eq + 1;
		while (vs < e && (h[vs] == ' ' || h[vs] == '\t'))
			vs++;
		ve = e;
		if (ve - vs >= 2 && h[vs] == '"' && h[ve - 1] == '"') {
			vs++;
			ve--;
		}
		if (ve - vs >= outsz)
			return -1;
		for (k = vs; k < ve; k++)
			if (!cookie_octet((unsigned char)h[k]))
				return -1;
		memcpy(out, h + vs, ve - vs);
		out[ve - vs] = '\0';
		return (int)(ve - vs);
	}
	return -1;
}
