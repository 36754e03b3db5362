/*
 * Base64 in and out (b64.h).  Written rather than EVP_DecodeBlock, which skips
 * whitespace, counts the padding as bytes and does not say when a
 * string's last bits are not zero: each of those is a second spelling
 * of the same bytes, which a peer's signed or hashed data must not have.
 */
#include "b64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
b64_decode(const char *s, size_t len, int flags, uint8_t *out, size_t outmax)
{
	uint32_t acc = 0;
	size_t i, n = 0, pad = 0;
	int bits = 0, v;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 > (size_t)INT32_MAX)
		return -1;
	if (s[len - 1] == '=')
		pad = s[len - 2] == '=' ? 2 : 1;
	for (i = 0; i < len - pad; i++) {
		if ((v = b64_value((unsigned char)s[i])) == -1)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (n == outmax)
				return -1;
			out[n++] = (uint8_t)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	/* A '=' in the data, or 6 or 12 bits left over, is no base64. */
	if (bits != 2 * (int)pad || (!(flags & B64_LAX_PAD) && acc != 0))
		return -1;
	return (int)n;
}

size_t
b64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t i, n = 0;
	uint32_t v;

	for (i = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = b64_alphabet[v >> 18];
		out[n++] = b64_alphabet[(v >> 12) & 63];
		out[n++] = i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=';
		out[n++] = i + 2 < len ? b64_alphabet[v & 63] : '=';
	}
	out[n] = '\0';
	return n;
}
