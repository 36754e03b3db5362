/*
 * SHA-1 and SHA-256 of one buffer (FIPS 180-4), for the light workers
 * (wxgate-light), which map no OpenSSL: RFC 6455's accept value and the
 * tag a secret link is logged by.  Neither is a security boundary; the
 * hashes that are (tokens, keys, signatures) stay OpenSSL's, in the
 * processes that link it.
 */
#ifndef WX_SHA_H
#define WX_SHA_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_LEN	20
#define SHA256_LEN	32

void	sha1(const void *, size_t, uint8_t out[SHA1_LEN]);
void	sha256(const void *, size_t, uint8_t out[SHA256_LEN]);

#endif
