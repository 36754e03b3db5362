/*
 * libFuzzer harness for workers/wechat/ilink_cdn.c: the first 16 bytes
 * are a key, the next 8 a declared size and a cap, the rest what the
 * CDN sent.  Whatever comes in, a plaintext it accepts fits the cap, is
 * shorter than the ciphertext by 1 to 16 bytes, and encrypts back to
 * exactly the bytes that came (so the padding was checked whole).
 * The same bytes encrypted (ilink_cdn_encrypt) decrypt back to
 * themselves, and read as a header line of the CDN's answer, a value
 * taken is printable and within its bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "wechat/ilink_media.h"

/* A few blocks show every path; a megabyte only takes longer. */
#define FUZZER_MAXLEN	(64 * 1024)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_roundtrip(const uint8_t *key, const uint8_t *plain, size_t plen,
    const uint8_t *cipher, size_t clen)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t *out;
	int n = 0, fin = 0;

	out = malloc(plen + 16);
	if (out == NULL || (ctx = EVP_CIPHER_CTX_new()) == NULL)
		abort();
	if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &n, plain, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + n, &fin) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
	if ((size_t)(n + fin) != clen || memcmp(out, cipher, clen) != 0)
		abort();
	free(out);
}

static void
check_encrypt(const uint8_t *key, const uint8_t *data, size_t len)
{
	uint8_t *buf;
	size_t cap = (size_t)ilink_cdn_padded(len), out, plain;

	if ((buf = malloc(cap)) == NULL)
		abort();
	memcpy(buf, data, len);
	if (ilink_cdn_encrypt(key, buf, len, cap, &out) != ILINK_CDN_OK ||
	    out != cap || ilink_cdn_decrypt(key, buf, out, out, len,
	    &plain) != ILINK_CDN_OK || plain != len ||
	    memcmp(buf, data, len) != 0)
		abort();
	if (ilink_cdn_encrypt(key, buf, len, cap - 1, &out) != ILINK_CDN_CAP ||
	    out != 0)
		abort();
	free(buf);
}

static void
check_header(const uint8_t *data, size_t len)
{
	char out[64];
	size_t i, n;

	if (ilink_cdn_header((const char *)data, len, "x-encrypted-param",
	    out, sizeof(out)) != 1)
		return;
	n = strlen(out);
	if (n == 0 || n >= sizeof(out))
		abort();
	for (i = 0; i < n; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t key[ILINK_KEY_LEN], *buf;
	uint32_t declared, cap;
	size_t len, plain;

	if (size > FUZZER_MAXLEN || size < ILINK_KEY_LEN + 8)
		return 0;
	memcpy(key, data, ILINK_KEY_LEN);
	memcpy(&declared, data + ILINK_KEY_LEN, 4);
	memcpy(&cap, data + ILINK_KEY_LEN + 4, 4);
	declared %= 2 * FUZZER_MAXLEN;
	cap %= 2 * FUZZER_MAXLEN;
	data += ILINK_KEY_LEN + 8;
	len = size - ILINK_KEY_LEN - 8;
	if ((buf = malloc(len + 1)) == NULL)
		abort();
	memcpy(buf, data, len);
	if (ilink_cdn_decrypt(key, buf, len, declared, cap, &plain) ==
	    ILINK_CDN_OK) {
		if (plain > cap || plain >= len || len - plain > 16 ||
		    (declared > 0 && len > declared))
			abort();
		check_roundtrip(key, buf, plain, data, len);
	} else if (plain != 0)
		abort();
	if (ilink_cdn_plain(len, declared, cap) == ILINK_CDN_OK &&
	    (len == 0 || len > cap || (declared > 0 && len > declared)))
		abort();
	if (ilink_cdn_limit(declared, cap, 1) > (size_t)cap + 16)
		abort();
	free(buf);
	check_encrypt(key, data, len);
	check_header(data, len);
	return 0;
}
