/*
 * libFuzzer harness for workers/callback/wxcrypt.c and query.c
 * (shared/protocols/wecom.md C.2-C.5).  The first byte picks a mode:
 *
 *   0  the rest is what the network sends: a key candidate, a query
 *      string (signature inputs, echostr) and a base64 ciphertext;
 *   1  the rest is a decrypted layout: the harness encrypts it without
 *      looking (AES-256-CBC, no pad) so wxcrypt_decrypt() parses
 *      attacker-chosen pads, msg_len and receiveids;
 *   2  the rest is a message: encrypt, sign, open must give it back.
 *
 * Invariants (abort on a breach): a decrypted message is shorter than
 * its ciphertext and within WXC_MSG_MAX, its receiveid within
 * WXC_RECEIVEID_MAX, both NUL-terminated; decrypt -> encrypt -> decrypt
 * is the identity; query values never exceed their buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "callback/query.h"
#include "callback/wxcrypt.h"

/* Many AES blocks; a larger input only costs time. */
#define FUZZER_MAXLEN	(64 * 1024)
/* C.10's key and Token. */
#define AESKEY		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define TOKEN		"FakeToken123"
#define RID		"wwFAKECORPID0001"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct wxcrypt_key key;
static const uint8_t rnd[WXC_RANDOM_LEN] = "0123456789abcdef";

static void
check(int cond)
{
	if (!cond)
		abort();
}

/* The bounds of a decrypted message, then the round trip. */
static void
check_plain(const struct wxcrypt_plain *pl, size_t enclen)
{
	struct wxcrypt_plain again;
	char *enc;

	check(pl->msg != NULL && pl->msglen <= WXC_MSG_MAX &&
	    pl->msglen < enclen && pl->msg[pl->msglen] == '\0');
	check(pl->receiveidlen <= WXC_RECEIVEID_MAX &&
	    pl->receiveid[pl->receiveidlen] == '\0');
	/* A receiveid with a NUL in it is no C string to encrypt with. */
	if (strlen(pl->receiveid) != pl->receiveidlen)
		return;
	check(wxcrypt_encrypt_random(&key, rnd, pl->msg, pl->msglen,
	    pl->receiveid, &enc) == WXC_OK);
	check(wxcrypt_decrypt(&key, enc, strlen(enc), &again) == WXC_OK);
	check(again.msglen == pl->msglen &&
	    memcmp(again.msg, pl->msg, pl->msglen) == 0 &&
	    strcmp(again.receiveid, pl->receiveid) == 0);
	wxcrypt_plain_clear(&again);
	free(enc);
}

/* Mode 0: bytes as the network would send them. */
static void
network(const char *s, size_t n)
{
	struct wxcrypt_plain pl;
	struct wxcrypt_key k;
	char sig[64], ts[64], nonce[96], echo[1024], hex[WXC_SIG_LEN + 1];
	int a, b, c, d;

	if (wxcrypt_key_decode(s, n < WXC_KEY_B64_LEN ? n : WXC_KEY_B64_LEN,
	    &k) == WXC_OK)
		check(n >= WXC_KEY_B64_LEN);
	a = query_get(s, n, "msg_signature", sig, sizeof(sig));
	b = query_get(s, n, "timestamp", ts, sizeof(ts));
	c = query_get(s, n, "nonce", nonce, sizeof(nonce));
	d = query_get(s, n, "echostr", echo, sizeof(echo));
	check(a < (int)sizeof(sig) && b < (int)sizeof(ts) &&
	    c < (int)sizeof(nonce) && d < (int)sizeof(echo));
	if (a >= 0)
		check(strlen(sig) == (size_t)a);
	if (b >= 0 && c >= 0 && d >= 0) {
		if (wxcrypt_open(&key, TOKEN, a >= 0 ? sig : NULL, ts, nonce,
		    echo, RID, &pl) == WXC_OK) {
			check_plain(&pl, (size_t)d);
			wxcrypt_plain_clear(&pl);
		} else
			check(pl.msg == NULL);
		(void)wxcrypt_verify_oa(TOKEN, a >= 0 ? sig : NULL, ts, nonce);
		if (wxcrypt_signature(TOKEN, ts, nonce, echo, hex) == WXC_OK)
			check(strlen(hex) == WXC_SIG_LEN);
	}
	/* The whole input as an <Encrypt> value. */
	if (wxcrypt_decrypt(&key, s, n, &pl) == WXC_OK) {
		check_plain(&pl, n);
		wxcrypt_plain_clear(&pl);
	} else
		check(pl.msg == NULL);
}

/* Mode 1: the input is the plaintext block, pad and all. */
static void
layout(const uint8_t *p, size_t n)
{
	struct wxcrypt_plain pl;
	EVP_CIPHER_CTX *c;
	uint8_t *ct;
	char *b64;
	int len, fin;

	n -= n % WXC_BLOCK;
	if (n == 0)
		return;
	ct = malloc(n);
	b64 = malloc(n / 3 * 4 + 8);
	check((c = EVP_CIPHER_CTX_new()) != NULL &&
	    EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key.k, key.k) == 1 &&
	    EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	    EVP_EncryptUpdate(c, ct, &len, p, (int)n) == 1 &&
	    EVP_EncryptFinal_ex(c, ct + len, &fin) == 1);
	EVP_CIPHER_CTX_free(c);
	len = EVP_EncodeBlock((unsigned char *)b64, ct, (int)n);
	if (wxcrypt_decrypt(&key, b64, (size_t)len, &pl) == WXC_OK) {
		/* What came out is what went in, at the layout's offsets. */
		check(p[n - 1] >= 1 && p[n - 1] <= WXC_BLOCK);
		check(WXC_HEADER_LEN + pl.msglen + pl.receiveidlen + p[n - 1] ==
		    n);
		check(memcmp(pl.msg, p + WXC_HEADER_LEN, pl.msglen) == 0);
		check(memcmp(pl.receiveid, p + WXC_HEADER_LEN + pl.msglen,
		    pl.receiveidlen) == 0);
		check_plain(&pl, n);
		wxcrypt_plain_clear(&pl);
	} else
		check(pl.msg == NULL);
	free(ct);
	free(b64);
}

/* Mode 2: any message seals and opens to itself. */
static void
message(const char *s, size_t n)
{
	struct wxcrypt_plain pl;
	char *enc, sig[WXC_SIG_LEN + 1];

	check(wxcrypt_encrypt(&key, s, n, RID, &enc) == WXC_OK);
	check(strlen(enc) % 4 == 0);
	check(wxcrypt_signature(TOKEN, "1700000000", "n0nce42", enc, sig) ==
	    WXC_OK);
	check(wxcrypt_open(&key, TOKEN, sig, "1700000000", "n0nce42", enc,
	    RID, &pl) == WXC_OK);
	check(pl.msglen == n && memcmp(pl.msg, s, n) == 0);
	check_plain(&pl, strlen(enc));
	wxcrypt_plain_clear(&pl);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t n;

	if (size == 0 || size > FUZZER_MAXLEN)
		return 0;
	if (wxcrypt_key_decode(AESKEY, strlen(AESKEY), &key) != WXC_OK)
		abort();
	n = size - 1;
	/* A NUL-terminated copy: the C-string arguments need one. */
	s = malloc(n + 1);
	memcpy(s, data + 1, n);
	s[n] = '\0';
	switch (data[0] % 3) {
	case 0:
		network(s, n);
		break;
	case 1:
		layout(data + 1, n);
		break;
	default:
		message(s, n);
		break;
	}
	free(s);
	return 0;
}
