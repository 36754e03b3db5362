/*
 * Hex digits and %XX escapes (hex.c), read the same way by every
 * parser of untrusted text that meets them: query strings, RFC 5987
 * file names, iLink's hex keys.
 */
#ifndef WX_HEX_H
#define WX_HEX_H

#include <stddef.h>

/* The value of one hex digit, either case; -1 for anything else. */
int	hex_digit(int c);
/*
 * The byte the escape at s stands for (s[0] is '%', n bytes from it):
 * 0 to 255, or -1 when two hex digits do not follow.
 */
int	hex_pct(const char *s, size_t n);

#endif
