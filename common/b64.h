/*
 * Base64 (b64.c): strictly in, the one decoder for the base64 the
 * workers read from untrusted peers; and out.
 */
#ifndef WX_B64_H
#define WX_B64_H

#include <stddef.h>
#include <stdint.h>

/* The bits the padding leaves over may be set (wecom.md C.2's keys). */
#define B64_LAX_PAD	0x01

/*
 * RFC 4648 section 4 (the standard alphabet, '=' padded to a multiple
 * of 4): no whitespace, no '=' but at the end, and the bits the padding
 * leaves over zero unless B64_LAX_PAD.  Into at most outmax bytes: the
 * decoded length, or -1 for anything else.
 */
int	b64_decode(const char *s, size_t len, int flags, uint8_t *out,
	    size_t outmax);

/*
 * len bytes as padded base64 into out, which holds B64_LEN(len) + 1
 * bytes: the length written, the NUL not counted.
 */
#define B64_LEN(n)	(((n) + 2) / 3 * 4)
size_t	b64_encode(const uint8_t *in, size_t len, char *out);

#endif
