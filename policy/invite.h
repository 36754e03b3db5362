/*
 * Binding invitation tokens (policy/invite.c): 128 bits from
 * getrandom(2) in base64url, shown once inside the link; the store
 * keeps only the SHA-256.
 */
#ifndef WX_INVITE_H
#define WX_INVITE_H

#include <stddef.h>
#include <stdint.h>

#define INVITE_TOKEN_BYTES	16
#define INVITE_TOKEN_LEN	22	/* base64url, no padding */
#define INVITE_HASH_LEN		32

/* out gets INVITE_TOKEN_LEN characters and a NUL; -1 if no randomness. */
int	invite_token_new(char out[INVITE_TOKEN_LEN + 1],
	    uint8_t hash[INVITE_HASH_LEN]);
/*
 * -1 unless tok (len bytes from a URL, untrusted) is a token as
 * invite_token_new makes them: exactly INVITE_TOKEN_LEN base64url
 * characters whose last one carries no bits beyond the 128.
 */
int	invite_token_hash(const char *tok, size_t len,
	    uint8_t hash[INVITE_HASH_LEN]);

#endif
