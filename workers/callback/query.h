/*
 * Query-string values of the callback URLs (shared/protocols/wecom.md
 * C.5, C.6): msg_signature, signature, timestamp, nonce, echostr.
 * Pure: a function of (bytes, len).
 */
#ifndef WX_CALLBACK_QUERY_H
#define WX_CALLBACK_QUERY_H

#include <stddef.h>

/* The longest query the listener will look at (a 1 MiB body is C.9's). */
#define QUERY_MAX	8192

/*
 * The value of name in query (without the '?'), percent-decoded into
 * out (outsz bytes with its NUL).  Returns its length, or -1 when name
 * is absent, repeated, badly escaped, decodes to a NUL, or does not fit.
 */
int	query_get(const char *, size_t, const char *, char *, size_t);

#endif
