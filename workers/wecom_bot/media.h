/*
 * Inbound attachments of the WeCom AI bot (protocols/wecom.md A.7):
 * the per-message aeskey and AES-256-CBC with a 32-byte PKCS#7 pad.
 * Pure: bytes in, bytes out.
 */
#ifndef WX_WECOM_MEDIA_H
#define WX_WECOM_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#define WCM_KEY_LEN	32
/* The pad target: 32 bytes, not AES's 16 (A.7 #4). */
#define WCM_BLOCK	32
/* An attachment's ciphertext (A.10: 100 MB, plus the pad). */
#define WCM_CIPHER_MAX	(100 * 1024 * 1024 + WCM_BLOCK)

int	wcm_key_decode(const char *, size_t, uint8_t key[WCM_KEY_LEN]);
/* out holds len bytes; *outlen is the plaintext's length. */
int	wcm_decrypt(const uint8_t key[WCM_KEY_LEN], const uint8_t *in,
	    size_t len, uint8_t *out, size_t *outlen);

#endif
