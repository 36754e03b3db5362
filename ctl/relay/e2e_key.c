/*
 * The wrapped data key's record (e2e.h, docs/e2e.md "Keys"): read
 * strictly, written in one order, made under a fresh salt and nonce,
 * and opened with the passphrase.  The server keeps the record and
 * cannot open it; the browser reads the same JSON (e2e.js).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64.h"
#include "e2e.h"
#include "xmalloc.h"

#define E2E_RECORD_VERSION	1
/* base64 of n bytes and its NUL. */
#define B64_SIZE(n)		(4 * (((n) + 2) / 3) + 1)

static int
b64_exact(const char *s, uint8_t *out, size_t len)
{
	return b64_decode(s, strlen(s), 0, out, len) == (int)len ? 0 : -1;
}

/*
 * {"v":1,"kdf":"scrypt","n":N,"r":r,"p":p,"salt":..,"nonce":..,
 * "wrapped":..}: every key once, no other, the cost one this side
 * would derive with, and each byte string exactly its length.  A record
 * is short, so anything longer is refused unread.
 */
int
e2e_record_parse(const char *json, size_t len, struct e2e_record *r)
{
	json_t *o;
	json_int_t v, n, rr, p;
	const char *kdf, *salt, *nonce, *wrapped;
	int rv = -1;

	memset(r, 0, sizeof(*r));
	if (len > E2E_RECORD_MAX ||
	    (o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if (json_unpack(o, "{s:I, s:s, s:I, s:I, s:I, s:s, s:s, s:s !}",
	    "v", &v, "kdf", &kdf, "n", &n, "r", &rr, "p", &p, "salt", &salt,
	    "nonce", &nonce, "wrapped", &wrapped) != 0)
		goto out;
	if (v != E2E_RECORD_VERSION || strcmp(kdf, "scrypt") != 0)
		goto out;
	/* Range before the casts; e2e_kdf_valid says the rest. */
	if (n < 0 || rr < 0 || rr > UINT32_MAX || p < 0 || p > UINT32_MAX)
		goto out;
	r->kdf.n = (uint64_t)n;
	r->kdf.r = (uint32_t)rr;
	r->kdf.p = (uint32_t)p;
	if (!e2e_kdf_valid(&r->kdf) ||
	    b64_exact(salt, r->kdf.salt, sizeof(r->kdf.salt)) == -1 ||
	    b64_exact(nonce, r->nonce, sizeof(r->nonce)) == -1 ||
	    b64_exact(wrapped, r->wrapped, sizeof(r->wrapped)) == -1)
		goto out;
	rv = 0;
out:
	if (rv == -1)
		explicit_bzero(r, sizeof(*r));
	json_decref(o);
	return rv;
}

/* The record as the server stores it, keys in docs/e2e.md's order. */
char *
e2e_record_format(const struct e2e_record *r)
{
	char salt[B64_SIZE(E2E_SALT_LEN)], nonce[B64_SIZE(E2E_NONCE_LEN)];
	char wrapped[B64_SIZE(E2E_KEY_LEN + E2E_TAG_LEN)], *s = NULL;
	json_t *o;

	if (!e2e_kdf_valid(&r->kdf))
		return NULL;
	EVP_EncodeBlock((unsigned char *)salt, r->kdf.salt,
	    sizeof(r->kdf.salt));
	EVP_EncodeBlock((unsigned char *)nonce, r->nonce, sizeof(r->nonce));
	EVP_EncodeBlock((unsigned char *)wrapped, r->wrapped,
	    sizeof(r->wrapped));
	if ((o = json_pack("{s:i, s:s, s:I, s:I, s:I, s:s, s:s, s:s}",
	    "v", E2E_RECORD_VERSION, "kdf", "scrypt",
	    "n", (json_int_t)r->kdf.n, "r", (json_int_t)r->kdf.r,
	    "p", (json_int_t)r->kdf.p, "salt", salt, "nonce", nonce,
	    "wrapped", wrapped)) == NULL)
		return NULL;
	s = jsonalloc_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/*
 * dk wrapped under the passphrase at cost's n, r and p, with a salt and
 * nonce of its own: a new key's record, or an old key's under a new
 * passphrase (so no history is lost).  0, or -1.
 */
int
e2e_record_new(const char *pass, size_t len, const char *owner,
    const struct e2e_kdf *cost, const uint8_t dk[E2E_KEY_LEN],
    struct e2e_record *out)
{
	uint8_t kek[E2E_KEY_LEN];
	int rv;

	memset(out, 0, sizeof(*out));
	out->kdf.n = cost->n;
	out->kdf.r = cost->r;
	out->kdf.p = cost->p;
	if (RAND_bytes(out->kdf.salt, sizeof(out->kdf.salt)) != 1 ||
	    e2e_derive(pass, len, &out->kdf, kek) == -1)
		return -1;
	rv = e2e_wrap(kek, owner, dk, out->nonce, out->wrapped);
	explicit_bzero(kek, sizeof(kek));
	return rv;
}

/* The data key; -1 for a wrong passphrase, another owner or a bad cost. */
int
e2e_record_unwrap(const struct e2e_record *r, const char *pass, size_t len,
    const char *owner, uint8_t dk[E2E_KEY_LEN])
{
	uint8_t kek[E2E_KEY_LEN];
	int rv;

	if (e2e_derive(pass, len, &r->kdf, kek) == -1)
		return -1;
	rv = e2e_unwrap(kek, owner, r->nonce, r->wrapped, dk);
	explicit_bzero(kek, sizeof(kek));
	return rv;
}
