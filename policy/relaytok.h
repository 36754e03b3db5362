/*
 * Pairing tokens of relay agents (policy/relaytok.c): "wxr_" and 256
 * random bits in unpadded base64url.  The hub makes one for
 * `wxgatectl relay token create`, shows it once and keeps its SHA-256.
 */
#ifndef WX_RELAYTOK_H
#define WX_RELAYTOK_H

#include <stddef.h>
#include <stdint.h>

#define RELAYTOK_PREFIX		"wxr_"
#define RELAYTOK_BYTES		32
/* "wxr_" and 43 characters of base64url. */
#define RELAYTOK_LEN		(4 + (RELAYTOK_BYTES * 4 + 2) / 3)
#define RELAYTOK_HASH_LEN	32

int	relaytok_new(char out[RELAYTOK_LEN + 1],
	    uint8_t hash[RELAYTOK_HASH_LEN]);
/* -1 unless tok has exactly the shape relaytok_new() gives. */
int	relaytok_hash(const char *tok, size_t len,
	    uint8_t hash[RELAYTOK_HASH_LEN]);

#endif
