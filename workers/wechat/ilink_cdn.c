/*
 * What the iLink CDN sends for an inbound item, made plaintext (§6.1,
 * §8.17): AES-128-ECB with PKCS#7 padding, every padding byte checked,
 * bounded by the size the item declared and by what the message may
 * still carry.  Pure, in place, with OpenSSL's EVP; called by
 * inmedia.c, fuzzed by tests/fuzz/fuzz_ilink_cdn.c.
 */
#include <stdint.h>
#include <string.h>

#include <openssl/evp.h>

#include "ilink_media.h"

#define BLOCK		16

/*
 * The most a download may bring: the declared ciphertext size when
 * there is one, and never more than a cap-byte plaintext needs (an
 * item sent in clear, keyed 0, needs no padding).
 */
size_t
ilink_cdn_limit(uint64_t declared, size_t cap, int keyed)
{
	uint64_t lim = keyed ? ((uint64_t)cap / BLOCK + 1) * BLOCK : cap;

	if (declared > 0 && declared < lim)
		lim = declared;
	return (size_t)lim;
}

/* An image that came with no key (§6.1): only the bounds apply. */
enum ilink_cdn_err
ilink_cdn_plain(size_t len, uint64_t declared, size_t cap)
{
	if (len == 0)
		return ILINK_CDN_EMPTY;
	if (declared > 0 && len > declared)
		return ILINK_CDN_DECLARED;
	if (len > cap)
		return ILINK_CDN_CAP;
	return ILINK_CDN_OK;
}

/*
 * buf[0, len) decrypted where it lies; *plainlen the bytes before the
 * padding.  A ciphertext over the declared size, not whole blocks, or
 * whose padding is not n bytes of n (1..16) is refused, as is a
 * plaintext over cap.
 */
enum ilink_cdn_err
ilink_cdn_decrypt(const uint8_t key[ILINK_KEY_LEN], uint8_t *buf, size_t len,
    uint64_t declared, size_t cap, size_t *plainlen)
{
	EVP_CIPHER_CTX *ctx;
	uint8_t pad, bad = 0;
	int n = 0, fin = 0, ok;
	size_t i;

	*plainlen = 0;
	if (len == 0)
		return ILINK_CDN_EMPTY;
	if (len % BLOCK != 0)
		return ILINK_CDN_BLOCK;
	if (declared > 0 && len > declared)
		return ILINK_CDN_DECLARED;
	/* At most a block of padding: more than this cannot fit cap. */
	if (len - BLOCK > cap || len > INT32_MAX)
		return ILINK_CDN_CAP;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return ILINK_CDN_CRYPTO;
	/* The padding is ours to check, every byte of it (§6.1). */
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_DecryptUpdate(ctx, buf, &n, buf, (int)len) == 1 &&
	    EVP_DecryptFinal_ex(ctx, buf + n, &fin) == 1 &&
	    (size_t)n + (size_t)fin == len;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return ILINK_CDN_CRYPTO;
	pad = buf[len - 1];
	if (pad == 0 || pad > BLOCK)
		return ILINK_CDN_PAD;
	for (i = len - pad; i < len; i++)
		bad |= buf[i] ^ pad;
	if (bad != 0)
		return ILINK_CDN_PAD;
	if (len - pad > cap)
		return ILINK_CDN_CAP;
	*plainlen = len - pad;
	return ILINK_CDN_OK;
}

const char *
ilink_cdn_strerror(enum ilink_cdn_err e)
{
	static const char *const names[] = {
		"ok", "empty", "not whole AES blocks",
		"larger than the item declared", "over media_max_bytes",
		"bad padding (wrong key or tampered)", "decryption failed"
	};

	return (size_t)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}
