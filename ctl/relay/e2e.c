/*
 * The C side of end-to-end encryption (e2e.h, docs/e2e.md), on OpenSSL:
 * scrypt (EVP_PBE_scrypt), AES-256-GCM (EVP), the nonces from RAND_bytes.
 * The browser does the same with WebCrypto and its own scrypt; the
 * known-answer tests (tests/unit/relay/test_e2e.c) hold both to them.
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

#define E2E_VERSION	1
#define E2E_PREFIX	"wxgate-e2e/1"
/* scrypt's memory, 128 * r * n bytes, at most this. */
#define E2E_SCRYPT_MEM	(256ULL * 1024 * 1024)

int
e2e_kdf_valid(const struct e2e_kdf *k)
{
	if (k->n < 1024 || k->n > (1ULL << 20) || (k->n & (k->n - 1)) != 0)
		return 0;
	if (k->r < 1 || k->r > 32 || k->p < 1 || k->p > 4)
		return 0;
	return 128ULL * k->r * k->n <= E2E_SCRYPT_MEM;
}

/* scrypt itself, any cost (the RFC's vectors are cheaper than ours). */
int
e2e_scrypt(const char *pass, size_t len, const uint8_t *salt, size_t saltlen,
    uint64_t n, uint32_t r, uint32_t p, uint8_t *out, size_t outlen)
{
	/* OpenSSL's own memory cap is 32 MiB: give it what the cost takes. */
	uint64_t mem = 128ULL * r * (n + p + 2) + 1024 * 1024;

	return EVP_PBE_scrypt(pass, len, salt, saltlen, n, r, p, mem, out,
	    outlen) == 1 ? 0 : -1;
}

/* The key that wraps the data key; 0, or -1 (bad cost, no memory). */
int
e2e_derive(const char *pass, size_t len, const struct e2e_kdf *k,
    uint8_t kek[E2E_KEY_LEN])
{
	if (!e2e_kdf_valid(k))
		return -1;
	return e2e_scrypt(pass, len, k->salt, sizeof(k->salt), k->n, k->r,
	    k->p, kek, E2E_KEY_LEN);
}

/*
 * "wxgate-e2e/1|kind|scope|sender|seq": kind "msg" (scope a thread),
 * "sched" (a schedule's prompt, scope its id), "run" (a run's summary,
 * scope "id@slot") or "key" (a wrapped key, scope its owner).  No part
 * may hold '|', so no two tuples give one string.
 */
int
e2e_aad(char *buf, size_t len, const char *kind, const char *scope,
    const char *sender, uint64_t seq)
{
	int n;

	if (strchr(kind, '|') != NULL || strchr(scope, '|') != NULL ||
	    strchr(sender, '|') != NULL || *kind == '\0' || *scope == '\0' ||
	    *sender == '\0')
		return -1;
	n = snprintf(buf, len, "%s|%s|%s|%s|%llu", E2E_PREFIX, kind, scope,
	    sender, (unsigned long long)seq);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ct gets len bytes and the tag after them. */
int
e2e_seal_nonce(const uint8_t key[E2E_KEY_LEN], const char *aad,
    const uint8_t nonce[E2E_NONCE_LEN], const uint8_t *pt, size_t len,
    uint8_t *ct)
{
	EVP_CIPHER_CTX *x;
	int n, ok;

	if (len > E2E_TEXT_MAX || (x = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_EncryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
	    EVP_EncryptUpdate(x, NULL, &n, (const uint8_t *)aad,
	    (int)strlen(aad)) == 1 &&
	    EVP_EncryptUpdate(x, ct, &n, pt, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(x, ct + n, &n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_GET_TAG, E2E_TAG_LEN,
	    ct + len) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok ? 0 : -1;
}

/* A fresh random nonce for every message: never one twice per key. */
int
e2e_seal(const uint8_t key[E2E_KEY_LEN], const char *aad, const uint8_t *pt,
    size_t len, uint8_t nonce[E2E_NONCE_LEN], uint8_t *ct)
{
	if (RAND_bytes(nonce, E2E_NONCE_LEN) != 1)
		return -1;
	return e2e_seal_nonce(key, aad, nonce, pt, len, ct);
}

/* len counts the tag; pt gets len - E2E_TAG_LEN bytes, or -1: forged. */
int
e2e_open(const uint8_t key[E2E_KEY_LEN], const char *aad,
    const uint8_t nonce[E2E_NONCE_LEN], const uint8_t *ct, size_t len,
    uint8_t *pt)
{
	EVP_CIPHER_CTX *x;
	uint8_t tag[E2E_TAG_LEN];
	size_t plen;
	int n, ok;

	if (len < E2E_TAG_LEN || len - E2E_TAG_LEN > E2E_TEXT_MAX)
		return -1;
	plen = len - E2E_TAG_LEN;
	memcpy(tag, ct + plen, sizeof(tag));
	if ((x = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_DecryptInit_ex(x, EVP_aes_256_gcm(), NULL, key, nonce) == 1 &&
	    EVP_DecryptUpdate(x, NULL, &n, (const uint8_t *)aad,
	    (int)strlen(aad)) == 1 &&
	    EVP_DecryptUpdate(x, pt, &n, ct, (int)plen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, E2E_TAG_LEN,
	    tag) == 1 &&
	    EVP_DecryptFinal_ex(x, pt + n, &n) == 1;
	EVP_CIPHER_CTX_free(x);
	if (!ok)
		explicit_bzero(pt, plen);
	return ok ? 0 : -1;
}

/*
 * The data key under the passphrase's key.  The tag is the key check:
 * a wrong passphrase fails to unwrap instead of giving a wrong key.
 */
int
e2e_wrap(const uint8_t kek[E2E_KEY_LEN], const char *owner,
    const uint8_t dk[E2E_KEY_LEN], uint8_t nonce[E2E_NONCE_LEN],
    uint8_t out[E2E_KEY_LEN + E2E_TAG_LEN])
{
	char aad[E2E_AAD_MAX];

	if (e2e_aad(aad, sizeof(aad), "key", owner, "-", 0) == -1)
		return -1;
	return e2e_seal(kek, aad, dk, E2E_KEY_LEN, nonce, out);
}

int
e2e_unwrap(const uint8_t kek[E2E_KEY_LEN], const char *owner,
    const uint8_t nonce[E2E_NONCE_LEN],
    const uint8_t in[E2E_KEY_LEN + E2E_TAG_LEN], uint8_t dk[E2E_KEY_LEN])
{
	char aad[E2E_AAD_MAX];

	if (e2e_aad(aad, sizeof(aad), "key", owner, "-", 0) == -1)
		return -1;
	return e2e_open(kek, aad, nonce, in, E2E_KEY_LEN + E2E_TAG_LEN, dk);
}

/* {"v":1,"n":base64(nonce),"c":base64(ciphertext and tag)}, or NULL. */
char *
e2e_envelope_seal(const uint8_t key[E2E_KEY_LEN], const char *aad,
    const char *text, size_t len)
{
	uint8_t nonce[E2E_NONCE_LEN], *ct;
	char n64[4 * ((E2E_NONCE_LEN + 2) / 3) + 1], *c64, *env;
	json_t *o;

	if (len > E2E_TEXT_MAX)
		return NULL;
	ct = xmalloc(len + E2E_TAG_LEN);
	c64 = xmalloc(4 * ((len + E2E_TAG_LEN + 2) / 3) + 1);
	env = NULL;
	if (e2e_seal(key, aad, (const uint8_t *)text, len, nonce, ct) == 0) {
		EVP_EncodeBlock((unsigned char *)n64, nonce, sizeof(nonce));
		EVP_EncodeBlock((unsigned char *)c64, ct,
		    (int)(len + E2E_TAG_LEN));
		if ((o = json_pack("{s:i, s:s, s:s}", "v", E2E_VERSION,
		    "n", n64, "c", c64)) != NULL) {
			env = jsonalloc_dumps(o, JSON_COMPACT);
			json_decref(o);
		}
	}
	free(c64);
	free(ct);
	return env;
}

/*
 * Open an envelope from the server: 0 and the text (NUL-terminated, the
 * caller's to free), or -1 and why, which a user may read.  Bounded
 * before parsing; base64 is read strictly; nothing unauthenticated is
 * ever returned as text.
 */
int
e2e_envelope_open(const uint8_t key[E2E_KEY_LEN], const char *aad,
    const char *env, size_t envlen, char **text, size_t *len, const char **why)
{
	uint8_t nonce[E2E_NONCE_LEN], *ct = NULL, *pt = NULL;
	const char *n64, *c64;
	json_t *o;
	json_int_t v;
	int clen, rv = -1;

	*text = NULL;
	*len = 0;
	*why = "not an encrypted message";
	if (envlen > E2E_ENVELOPE_MAX ||
	    (o = json_loadb(env, envlen, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return -1;
	if (json_unpack(o, "{s:I, s:s, s:s !}", "v", &v, "n", &n64,
	    "c", &c64) != 0)
		goto out;
	if (v != E2E_VERSION) {
		*why = "an encrypted message of another version";
		goto out;
	}
	ct = xmalloc(strlen(c64) / 4 * 3 + 1);
	if (b64_decode(n64, strlen(n64), 0, nonce, sizeof(nonce)) !=
	    E2E_NONCE_LEN ||
	    (clen = b64_decode(c64, strlen(c64), 0, ct,
	    strlen(c64) / 4 * 3 + 1)) < E2E_TAG_LEN)
		goto out;
	pt = xmalloc((size_t)clen - E2E_TAG_LEN + 1);
	if (e2e_open(key, aad, nonce, ct, (size_t)clen, pt) == -1) {
		*why = "a message altered, moved or replayed, or another key";
		goto out;
	}
	pt[clen - E2E_TAG_LEN] = '\0';
	*text = (char *)pt;
	*len = (size_t)clen - E2E_TAG_LEN;
	pt = NULL;
	*why = NULL;
	rv = 0;
out:
	free(pt);
	free(ct);
	json_decref(o);
	return rv;
}
