/*
 * The WXBizMsgCrypt scheme shared by WeChat Official Accounts and WeCom
 * self-built apps (shared/protocols/wecom.md Part C; the C.n numbers
 * below are that note's): the EncodingAESKey, the SHA1 signatures, the
 * AES-256-CBC envelope with its 32-byte pad, and URL verification.
 * Pure functions of their arguments: no socket, no loop, no log, so the
 * unit tests and tests/fuzz/fuzz_wxcrypt.c reach every line.  The
 * callback worker (phase 2) does the HTTP.
 */
#ifndef WX_CALLBACK_WXCRYPT_H
#define WX_CALLBACK_WXCRYPT_H

#include <stddef.h>
#include <stdint.h>

/* C.2: 43 characters of [A-Za-z0-9] decode to a 32-byte AES key. */
#define WXC_KEY_B64_LEN		43
#define WXC_KEY_LEN		32
/* C.4: the PKCS#7 pad target is 32 bytes, not AES's 16. */
#define WXC_BLOCK		32
/* C.4: random[16] | msg_len[4] | msg | receiveid. */
#define WXC_RANDOM_LEN		16
#define WXC_HEADER_LEN		(WXC_RANDOM_LEN + 4)
/* C.3: lower-case hex of a SHA1. */
#define WXC_SIG_LEN		40
/* The console allows 3..32 letters and digits; twice that is no Token. */
#define WXC_TOKEN_MAX		64
/* A decimal time_t, or a nonce (observed: about ten characters). */
#define WXC_TIMESTAMP_MAX	32
#define WXC_NONCE_MAX		64
/*
 * CorpIDs, AppIDs and SuiteIDs are 18 or so characters; anything past
 * this is a bad layout, not an id.
 */
#define WXC_RECEIVEID_MAX	64
/* C.9: request bodies are capped at 1 MiB, so no message is larger. */
#define WXC_MSG_MAX		(1024 * 1024)
/* The ciphertext of the largest message, padded, and its base64. */
#define WXC_CIPHER_MAX		\
	((WXC_HEADER_LEN + WXC_MSG_MAX + WXC_RECEIVEID_MAX) / WXC_BLOCK * \
	WXC_BLOCK + WXC_BLOCK)
#define WXC_ENCRYPT_MAX		((WXC_CIPHER_MAX + 2) / 3 * 4)

/*
 * Errors: C.8's reference codes where one fits, so logs and tests
 * speak the platform's language; WXC_E_TOOLONG is ours (an input past
 * one of the limits above).  Never sent on the wire (C.8).
 */
enum wxcrypt_err {
	WXC_OK = 0,
	WXC_E_SIGNATURE = -40001,	/* signature mismatch */
	WXC_E_SIGCALC = -40003,		/* no signature computed */
	WXC_E_KEY = -40004,		/* illegal EncodingAESKey */
	WXC_E_RECEIVEID = -40005,	/* CorpID/AppID mismatch */
	WXC_E_ENCRYPT = -40006,		/* AES encrypt error */
	WXC_E_DECRYPT = -40007,		/* AES decrypt error, bad pad */
	WXC_E_BUFFER = -40008,		/* bad layout after decrypting */
	WXC_E_B64ENC = -40009,		/* base64 encode error */
	WXC_E_B64DEC = -40010,		/* base64 decode error */
	WXC_E_TOOLONG = -40100		/* an input past its limit */
};

struct wxcrypt_key {
	uint8_t		 k[WXC_KEY_LEN];	/* IV = k[0..15] (C.2) */
};

/* A decrypted message: msg is owned, NUL-terminated, msglen bytes. */
struct wxcrypt_plain {
	char		*msg;
	size_t		 msglen;
	char		 receiveid[WXC_RECEIVEID_MAX + 1];
	size_t		 receiveidlen;
};

const char	*wxcrypt_strerror(int);

int	wxcrypt_key_decode(const char *, size_t, struct wxcrypt_key *);
void	wxcrypt_key_clear(struct wxcrypt_key *);

/* token, timestamp, nonce, encrypt; encrypt NULL is OA's plain form. */
int	wxcrypt_signature(const char *, const char *, const char *,
	    const char *, char [WXC_SIG_LEN + 1]);
/* The received signature (len bytes) against the computed one. */
int	wxcrypt_signature_check(const char *, size_t, const char *,
	    const char *, const char *, const char *);

int	wxcrypt_decrypt(const struct wxcrypt_key *, const char *, size_t,
	    struct wxcrypt_plain *);
int	wxcrypt_receiveid_check(const struct wxcrypt_plain *, const char *);
void	wxcrypt_plain_clear(struct wxcrypt_plain *);

/* msg, msglen, receiveid; *encp (owned, NUL-terminated) on WXC_OK. */
int	wxcrypt_encrypt(const struct wxcrypt_key *, const char *, size_t,
	    const char *, char **);
/* The same with the 16 random bytes given (test vectors, fuzzing). */
int	wxcrypt_encrypt_random(const struct wxcrypt_key *,
	    const uint8_t [WXC_RANDOM_LEN], const char *, size_t, const char *,
	    char **);

/*
 * Inbound (C.5 for WeCom's GET, C.6 for POSTs): signature over
 * (token, timestamp, nonce, encrypt), then decrypt, then receiveid.
 * Arguments: key, token, received signature, timestamp, nonce,
 * encrypt, expected receiveid, out.  Nothing decrypted is left in out
 * on an error (C.8: never echo it).
 */
int	wxcrypt_open(const struct wxcrypt_key *, const char *, const char *,
	    const char *, const char *, const char *, const char *,
	    struct wxcrypt_plain *);
/* OA's URL verification (C.5): token, signature, timestamp, nonce. */
int	wxcrypt_verify_oa(const char *, const char *, const char *,
	    const char *);

#endif
