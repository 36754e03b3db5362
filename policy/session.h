/*
 * Anonymous web chat session tokens.  The supervisor issues a random
 * 128-bit token, shows it once to the client, and keeps only its SHA-256.
 */
#ifndef WX_SESSION_H
#define WX_SESSION_H

#include <stddef.h>
#include <stdint.h>

#define SESSION_TOKEN_BYTES	16
#define SESSION_TOKEN_LEN	(SESSION_TOKEN_BYTES * 2)	/* hex */
#define SESSION_HASH_LEN	32

/* out gets SESSION_TOKEN_LEN hex chars and a NUL; -1 if no randomness. */
int	session_token_new(char out[SESSION_TOKEN_LEN + 1],
	    uint8_t hash[SESSION_HASH_LEN]);
/* -1 unless tok is exactly SESSION_TOKEN_LEN lowercase hex chars. */
int	session_token_hash(const char *tok, size_t len,
	    uint8_t hash[SESSION_HASH_LEN]);
/* A hash as lowercase hex (the shared store's key for a session), and
 * back: -1 unless exactly that form. */
void	session_hash_hex(const uint8_t hash[SESSION_HASH_LEN],
	    char out[2 * SESSION_HASH_LEN + 1]);
int	session_hash_unhex(const char *hex, uint8_t hash[SESSION_HASH_LEN]);

#endif
