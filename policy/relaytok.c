/*
 * Relay pairing tokens: issuing and hashing them.  Called by the hub
 * (control_relay.c, router_relay.c).  It never logs or keeps a token.
 *
 * Hashing takes exactly the shape relaytok_new() makes and nothing else,
 * so one token has one hash and a relay's junk never reaches the store.
 */
#include <sys/types.h>
#include <sys/random.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "log.h"
#include "relaytok.h"
#include "sha.h"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of n bytes into out (room for 4 * n / 3 + 3). */
static size_t
relaytok_b64(const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
		out[o++] = b64url[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64url[v >> 18];
		out[o++] = b64url[(v >> 12) & 63];
		out[o++] = b64url[(v >> 6) & 63];
	}
	return o;
}

int
relaytok_new(char out[RELAYTOK_LEN + 1], uint8_t hash[RELAYTOK_HASH_LEN])
{
	uint8_t raw[RELAYTOK_BYTES];
	size_t n;

	out[0] = '\0';
	/* No weaker fallback: no token at all beats a guessable one. */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		log_warn("%s: getrandom", __func__);
		return -1;
	}
	memcpy(out, RELAYTOK_PREFIX, strlen(RELAYTOK_PREFIX));
	n = relaytok_b64(raw, sizeof(raw), out + strlen(RELAYTOK_PREFIX));
	out[strlen(RELAYTOK_PREFIX) + n] = '\0';
	explicit_bzero(raw, sizeof(raw));
	if (strlen(out) != RELAYTOK_LEN ||
	    relaytok_hash(out, RELAYTOK_LEN, hash) == -1) {
		explicit_bzero(out, RELAYTOK_LEN + 1);
		return -1;
	}
	return 0;
}

int
relaytok_hash(const char *tok, size_t len, uint8_t hash[RELAYTOK_HASH_LEN])
{
	size_t i, pl = strlen(RELAYTOK_PREFIX);

	/* From the network: say why, never what. */
	if (tok == NULL || len != RELAYTOK_LEN ||
	    memcmp(tok, RELAYTOK_PREFIX, pl) != 0) {
		log_debug("%s: not a relay token", __func__);
		return -1;
	}
	for (i = pl; i < len; i++)
		if (tok[i] == '\0' || strchr(b64url, tok[i]) == NULL) {
			log_debug("%s: bad token character", __func__);
			return -1;
		}
	sha256(tok, len, hash);
	return 0;
}
