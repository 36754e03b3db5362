/*
 * The iLink CDN's AES-128-ECB with PKCS#7 padding (§6.1, §8.17), both
 * ways.  In: what the CDN sends for an inbound item, made plaintext,
 * every padding byte checked, bounded by the size the item declared and
 * by what the message may still carry (inmedia.c).  Out: an attachment
 * made ciphertext for the upload, with the MD5 getuploadurl wants of
 * its plaintext (upload.c).  Pure, in place, with OpenSSL's EVP;
 * fuzzed by tests/fuzz/fuzz_ilink_cdn.c.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

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

/* §6.1: always padded, a whole block when n is a multiple of 16. */
uint64_t
ilink_cdn_padded(uint64_t n)
{
	return (n / BLOCK + 1) * BLOCK;
}

/*
 * buf[0, len) encrypted where it lies, padding and all, into
 * *outlen = ilink_cdn_padded(len) bytes; buf holds cap bytes.
 */
enum ilink_cdn_err
ilink_cdn_encrypt(const uint8_t key[ILINK_KEY_LEN], uint8_t *buf, size_t len,
    size_t cap, size_t *outlen)
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0, ok;
	size_t want = (size_t)ilink_cdn_padded(len);

	*outlen = 0;
	if (want > cap || want > INT32_MAX)
		return ILINK_CDN_CAP;
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return ILINK_CDN_CRYPTO;
	/* EVP pads PKCS#7 itself; in place is allowed for ECB. */
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL) == 1 &&
	    EVP_EncryptUpdate(ctx, buf, &n, buf, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(ctx, buf + n, &fin) == 1 &&
	    (size_t)n + (size_t)fin == want;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return ILINK_CDN_CRYPTO;
	*outlen = want;
	return ILINK_CDN_OK;
}

/* §3.5 rawfilemd5: 32 lowercase hex characters and a NUL. */
int
ilink_cdn_md5(const uint8_t *buf, size_t len, char out[2 * 16 + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(buf, len, md, &mdlen, EVP_md5(), NULL) != 1 ||
	    mdlen != 16)
		return -1;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
	return 0;
}

/*
 * One header line of the CDN's answer, as curl hands it over (§3.9:
 * x-encrypted-param on success, x-error-message on a 4xx): 1 when it is
 * name's (any case) and its value, without the blanks around it, is
 * 1..outlen-1 bytes of printable ASCII, copied to out; 0 another line;
 * -1 name's with a value we refuse (empty, too long, a control byte).
 */
int
ilink_cdn_header(const char *line, size_t len, const char *name, char *out,
    size_t outlen)
{
	size_t n = strlen(name), i, e;

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return 0;
	for (i = n + 1; i < len && (line[i] == ' ' || line[i] == '\t'); i++)
		;
	for (e = len; e > i && (line[e - 1] == '\r' || line[e - 1] == '\n' ||
	    line[e - 1] == ' ' || line[e - 1] == '\t'); e--)
		;
	if (e == i || e - i >= outlen)
		return -1;
	for (n = i; n < e; n++)
		if ((unsigned char)line[n] < 0x20 ||
		    (unsigned char)line[n] > 0x7e)
			return -1;
	memcpy(out, line + i, e - i);
	out[e - i] = '\0';
	return 1;
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
