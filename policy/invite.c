/*
 * Binding invitation tokens: issuing and hashing.  Called by the hub
 * (bind create, and every GET /bind/<token> and bind.start the web chat
 * relays).  Never logs or keeps a token.
 *
 * The check is strict so one token has one hash: 22 characters of the
 * URL-safe alphabet, and the last one's low four bits, which 128 bits
 * leave unused, must be zero (reject, never repair).
 */
#include <sys/random.h>

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "invite.h"
#include "log.h"
#include "sha.h"

static const char invite_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int	invite_value(char);

int
invite_token_new(char out[INVITE_TOKEN_LEN + 1],
    uint8_t hash[INVITE_HASH_LEN])
{
	uint8_t raw[INVITE_TOKEN_BYTES + 2];
	size_t i, o = 0;
	uint32_t v;

	out[0] = '\0';
	memset(raw, 0, sizeof(raw));
	/* No weaker fallback: no invitation beats a guessable one. */
	if (getrandom(raw, INVITE_TOKEN_BYTES, 0) != INVITE_TOKEN_BYTES) {
		log_warn("%s: getrandom", __func__);
		return -1;
	}
	/* Three bytes make four characters; the zero tail pads the last. */
	for (i = 0; i < INVITE_TOKEN_BYTES; i += 3) {
		v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];
		out[o++] = invite_alpha[(v >> 18) & 63];
		out[o++] = invite_alpha[(v >> 12) & 63];
		if (o < INVITE_TOKEN_LEN)
			out[o++] = invite_alpha[(v >> 6) & 63];
		if (o < INVITE_TOKEN_LEN)
			out[o++] = invite_alpha[v & 63];
	}
	out[INVITE_TOKEN_LEN] = '\0';
	explicit_bzero(raw, sizeof(raw));
	if (invite_token_hash(out, INVITE_TOKEN_LEN, hash) == -1) {
		explicit_bzero(out, INVITE_TOKEN_LEN + 1);
		return -1;
	}
	return 0;
}

static int
invite_value(char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(invite_alpha, c)) == NULL)
		return -1;
	return (int)(p - invite_alpha);
}

int
invite_token_hash(const char *tok, size_t len, uint8_t hash[INVITE_HASH_LEN])
{
	size_t i;
	int v = 0;

	/* The token comes from a browser: say why, never what. */
	if (tok == NULL || len != INVITE_TOKEN_LEN) {
		log_debug("%s: bad token length", __func__);
		return -1;
	}
	for (i = 0; i < len; i++)
		if ((v = invite_value(tok[i])) == -1) {
			log_debug("%s: bad token character", __func__);
			return -1;
		}
	if ((v & 0x0f) != 0) {
		log_debug("%s: bad token tail", __func__);
		return -1;
	}
	sha256(tok, len, hash);
	return 0;
}
