/*
 * Base64 in, strictly (b64.c): the one decoder for the base64 the
 * workers read from untrusted peers.
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

#endif
