/*
 * Compare secrets (tokens, their hashes) in time that does not depend
 * on where they differ, as OpenBSD's timingsafe_bcmp(3) does; the
 * processes that link no OpenSSL have no CRYPTO_memcmp.
 */
#ifndef WX_TIMINGSAFE_H
#define WX_TIMINGSAFE_H

#include <stddef.h>

/* 0 if equal, else nonzero. */
int	timingsafe_bcmp(const void *, const void *, size_t);

#endif
