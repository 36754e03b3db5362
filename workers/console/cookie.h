/*
 * One cookie's value out of a Cookie request header (RFC 6265 5.4:
 * "name=value" pairs joined by "; "), for the operator console's
 * worker.  Pure: a function of its bytes; fuzzed by
 * tests/fuzz/fuzz_console_cookie.c.
 */
#ifndef WX_CONSOLE_COOKIE_H
#define WX_CONSOLE_COOKIE_H

#include <stddef.h>

/*
 * The value of the first cookie called name in header (len bytes,
 * untrusted) into out (outsz bytes with its NUL), quotes removed.
 * Returns its length, or -1 when there is none, or it does not fit, or
 * it holds a byte RFC 6265 forbids in a cookie-value.
 */
int	cookie_get(const char *header, size_t len, const char *name,
	    char *out, size_t outsz);

#endif
