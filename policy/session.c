/*
 * Anonymous web chat session tokens: issuing them and hashing them.
 * Called by the supervisor on session.open and session.resume.  It never
 * logs or keeps a token: the store holds only the SHA-256, so a copy of
 * the database cannot be replayed as a live session.
 *
 * A token is 128 bits from the OpenSSL CSPRNG in lowercase hex.  Hashing
 * accepts exactly that form and nothing else, so one token has one hash
 * (no "ABC" vs "abc" twins) and junk is turned away before the store.
 */
#include <sys/types.h>
#include <sys/random.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hex.h"
#include "log.h"
#include "session.h"
#include "sha.h"

static int	session_hexdigit(char);

/* n bytes as 2n lowercase hex digits and a NUL. */
static void
session_tohex(const uint8_t *raw, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

int
session_token_new(char out[SESSION_TOKEN_LEN + 1],
    uint8_t hash[SESSION_HASH_LEN])
{
	uint8_t raw[SESSION_TOKEN_BYTES];

	out[0] = '\0';
	/* No weaker fallback: no token at all beats a guessable one. */
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		log_warn("%s: getrandom", __func__);
		return -1;
	}
	session_tohex(raw, sizeof(raw), out);
	explicit_bzero(raw, sizeof(raw));
	if (session_token_hash(out, SESSION_TOKEN_LEN, hash) == -1) {
		explicit_bzero(out, SESSION_TOKEN_LEN + 1);
		return -1;
	}
	return 0;
}

static int
session_hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int
session_token_hash(const char *tok, size_t len,
    uint8_t hash[SESSION_HASH_LEN])
{
	size_t i;

	/* The token comes from a browser: say why, never what. */
	if (tok == NULL || len != SESSION_TOKEN_LEN) {
		log_debug("%s: bad token length", __func__);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (!session_hexdigit(tok[i])) {
			log_debug("%s: bad token character", __func__);
			return -1;
		}
	}
	sha256(tok, len, hash);
	return 0;
}

void
session_hash_hex(const uint8_t hash[SESSION_HASH_LEN],
    char out[2 * SESSION_HASH_LEN + 1])
{
	session_tohex(hash, SESSION_HASH_LEN, out);
}

int
session_hash_unhex(const char *hex, uint8_t hash[SESSION_HASH_LEN])
{
	size_t i;

	if (strlen(hex) != 2 * SESSION_HASH_LEN)
		return -1;
	for (i = 0; i < 2 * SESSION_HASH_LEN; i++)
		if (!session_hexdigit(hex[i]))
			return -1;
	for (i = 0; i < SESSION_HASH_LEN; i++)
		hash[i] = (uint8_t)(hex_digit(hex[2 * i]) << 4 |
		    hex_digit(hex[2 * i + 1]));
	return 0;
}
