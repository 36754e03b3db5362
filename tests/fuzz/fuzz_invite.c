/*
 * libFuzzer harness for policy/invite.c: arbitrary bytes as the token
 * of a GET /bind/<token> or a bind.start, the one parser of a binding's
 * untrusted bytes the hub runs.  Checks invite_token_hash against a
 * model: accepted exactly when the input is 22 base64url characters
 * whose last one carries no bits past 128, and then the 16 bytes it
 * encodes give back the same text (one token, one hash); the hash is
 * the SHA-256 of the bytes as given.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "invite.h"

/* A token is 22 bytes; a URL path's worth covers every near miss. */
#define FUZZER_MAXLEN	256

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
value(uint8_t c)
{
	const char *p;

	if (c == 0 || (p = memchr(alpha, c, 64)) == NULL)
		return -1;
	return (int)(p - alpha);
}

static int
model_ok(const uint8_t *d, size_t len)
{
	uint8_t raw[INVITE_TOKEN_BYTES + 2];
	char back[INVITE_TOKEN_LEN + 1];
	uint32_t acc = 0;
	size_t i, o = 0, bits = 0;
	int v = 0;

	if (len != INVITE_TOKEN_LEN)
		return 0;
	for (i = 0; i < len; i++) {
		if ((v = value(d[i])) == -1)
			return 0;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o < sizeof(raw))
				raw[o++] = (uint8_t)(acc >> bits);
		}
	}
	if ((v & 0x0f) != 0)
		return 0;
	/* Encode the 16 bytes again: the same text, or it was not canonical. */
	memset(raw + INVITE_TOKEN_BYTES, 0, 2);
	for (i = 0, o = 0; i < INVITE_TOKEN_BYTES; i += 3) {
		acc = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];
		back[o++] = alpha[(acc >> 18) & 63];
		back[o++] = alpha[(acc >> 12) & 63];
		if (o < INVITE_TOKEN_LEN)
			back[o++] = alpha[(acc >> 6) & 63];
		if (o < INVITE_TOKEN_LEN)
			back[o++] = alpha[acc & 63];
	}
	if (memcmp(back, d, INVITE_TOKEN_LEN) != 0)
		__builtin_trap();
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hash[INVITE_HASH_LEN], want[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int rv;

	if (size > FUZZER_MAXLEN)
		return 0;
	rv = invite_token_hash((const char *)data, size, hash);
	if ((rv == 0) != model_ok(data, size))
		__builtin_trap();
	if (rv == 0) {
		if (EVP_Digest(data, size, want, &mdlen, EVP_sha256(),
		    NULL) != 1 || mdlen != INVITE_HASH_LEN ||
		    memcmp(want, hash, INVITE_HASH_LEN) != 0)
			__builtin_trap();
	}
	return 0;
}
