/*
 * SHA-1 and SHA-256 of one buffer (FIPS 180-4), for the programs that
 * map no OpenSSL: the light workers (RFC 6455's accept value, the tag a
 * secret link is logged by) and the hub (wxgate-hub: the hashes its
 * store keeps of session, invitation and relay tokens, attachments'
 * digests, the console's CSRF value).  Checked against OpenSSL at
 * every length (test_sha); no branch or table index depends on the
 * data, so hashing a secret leaks nothing by timing.  Keys and
 * signatures stay OpenSSL's, in the processes that link it.
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
