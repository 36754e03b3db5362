/*
 * Attachment decryption for the WeCom AI bot (protocols/wecom.md A.7):
 * the aeskey decoded leniently about '=' padding (A.11), AES-256-CBC
 * with IV = key[0..15], and the PKCS#7 pad stripped by hand because
 * it pads to 32 bytes: OpenSSL's own unpadding expects 16 and would
 * fail on about half of real files.
 *
 * Called by attach.c on each attachment it downloads, by the unit
 * tests and by the fuzzer.  Pure: no file, no socket, no log.
 */
#include <string.h>

#include <openssl/evp.h>

#include "media.h"

/* Standard base64 of 32 bytes: 43 characters, 44 with its '='. */
#define WCM_KEY_B64	44

int
wcm_key_decode(const char *s, size_t len, uint8_t key[WCM_KEY_LEN])
{
	unsigned char in[WCM_KEY_B64 + 1], out[WCM_KEY_B64];
	int n;

	if (len == WCM_KEY_B64 - 1) {
		memcpy(in, s, len);
		in[len++] = '=';
	} else if (len == WCM_KEY_B64) {
		memcpy(in, s, len);
		if (in[len - 1] != '=' || in[len - 2] == '=')
			return -1;
	} else
		return -1;
	/* EVP_DecodeBlock counts the pad: 33 bytes for 32 (A.11). */
	if ((n = EVP_DecodeBlock(out, in, (int)len)) != WCM_KEY_LEN + 1)
		return -1;
	memcpy(key, out, WCM_KEY_LEN);
	memset(out, 0, sizeof(out));
	return 0;
}

int
wcm_decrypt(const uint8_t key[WCM_KEY_LEN], const uint8_t *in, size_t len,
    uint8_t *out, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0, ok;
	size_t p, i;

	if (len == 0 || len % WCM_BLOCK != 0 || len > WCM_CIPHER_MAX)
		return -1;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_cbc(), NULL, key, key) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_DecryptUpdate(ctx, out, &n, in, (int)len) == 1 &&
	    EVP_DecryptFinal_ex(ctx, out + n, &fin) == 1 &&
	    (size_t)(n + fin) == len;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -1;
	p = out[len - 1];
	if (p < 1 || p > WCM_BLOCK)
		return -1;
	for (i = len - p; i < len; i++)
		if (out[i] != p)
			return -1;
	*outlen = len - p;
	return 0;
}
