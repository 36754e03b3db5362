/*
 * libFuzzer harness for workers/wecom_bot/media.c: the first 44 bytes
 * as an aeskey (protocols/wecom.md A.7 #2), the rest as ciphertext.
 * A key that decodes is 32 bytes; a plaintext that comes out is
 * shorter than its ciphertext by 1..32 bytes (the 32-byte pad of
 * A.7 #4), and encrypting it back with the same pad (AES-256-CBC,
 * IV = key[0..15]) gives the ciphertext again.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "wecom_bot/media.h"

/* Long enough for many blocks; more only costs time. */
#define FUZZER_MAXLEN	(64 * 1024)
#define KEYLEN		44

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
reencrypt(const uint8_t *key, const uint8_t *pt, size_t ptlen,
    const uint8_t *ct, size_t ctlen)
{
	EVP_CIPHER_CTX *c;
	uint8_t *buf, *out;
	size_t pad = ctlen - ptlen;
	int n, fin;

	buf = malloc(ctlen);
	out = malloc(ctlen + WCM_BLOCK);
	memcpy(buf, pt, ptlen);
	memset(buf + ptlen, (int)pad, pad);
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key, key) != 1 ||
	    EVP_CIPHER_CTX_set_padding(c, 0) != 1 ||
	    EVP_EncryptUpdate(c, out, &n, buf, (int)ctlen) != 1 ||
	    EVP_EncryptFinal_ex(c, out + n, &fin) != 1 ||
	    (size_t)(n + fin) != ctlen || memcmp(out, ct, ctlen) != 0)
		abort();
	EVP_CIPHER_CTX_free(c);
	free(buf);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[WCM_KEY_LEN], *out;
	size_t n;
	size_t klen;

	if (size > FUZZER_MAXLEN)
		return 0;
	klen = size < KEYLEN ? size : KEYLEN;
	if (wcm_key_decode((const char *)data, klen, key) == -1) {
		/* Still decrypt, with a key made of the bytes themselves. */
		memset(key, 0, sizeof(key));
		memcpy(key, data, klen < WCM_KEY_LEN ? klen : WCM_KEY_LEN);
	}
	out = malloc(size - klen + 1);
	if (wcm_decrypt(key, data + klen, size - klen, out, &n) == 0) {
		if (n >= size - klen || size - klen - n > WCM_BLOCK)
			abort();
		reencrypt(key, out, n, data + klen, size - klen);
	}
	free(out);
	return 0;
}
