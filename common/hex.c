/*
 * Hex digits and %XX escapes (hex.h): one reading of them, so that the
 * parsers which meet them cannot disagree on a case or a short escape.
 */
#include "hex.h"

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_pct(const char *s, size_t n)
{
	int hi, lo;

	if (n < 3 || (hi = hex_digit((unsigned char)s[1])) == -1 ||
	    (lo = hex_digit((unsigned char)s[2])) == -1)
		return -1;
	return hi << 4 | lo;
}
