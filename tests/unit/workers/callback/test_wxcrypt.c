/*
 * Unit tests for workers/callback/wxcrypt.c: both test vectors of
 * shared/protocols/wecom.md C.10 byte for byte (encrypt, msg_signature,
 * decrypt), the traps of C.11 (the 32-byte pad, '+' in echostr, OA's
 * three-string signature, the receiveid), tampering, and every bound.
 * The query values go through query.c, as the listener's will.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "callback/query.h"
#include "callback/wxcrypt.h"

/* C.10, "Common". */
#define TOKEN		"FakeToken123"
#define AESKEY		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define RANDOM		"0123456789abcdef"
#define TS		"1700000000"
#define NONCE		"n0nce42"
/* C.10 #1. */
#define V1_MSG		"<xml><Content><![CDATA[hi]]></Content></xml>"
#define V1_RID		"wwFAKECORPID0001"
#define V1_ENC		"4j/AuRx71kQlxVlzbpsMWMczXWSt2yv4WTx9dDoz/+rRbE" \
			"K+96Qm5PPrXYWDb372vh6SGfsSc63chTw+GJWvrXVwjNNxKyZ" \
			"6gaBFb3AgUhCqal4G98Hsj1Fca1iL+jxu"
#define V1_SIG		"ac4eec2f391a8e1fa2fa3345e6d66e657a3d3bee"
/* C.10 #2: a 20-byte pad, over AES's 16. */
#define V2_MSG		"{\"msgtype\":\"text\",\"a\":1}"
#define V2_ENC		"4j/AuRx71kQlxVlzbpsMWCCSDJMbyhZaOWG5fC/W41Ccdz" \
			"WLMfBjIsZG996qMIsxEza0Di3GjBqvQAI1fDZMYw=="
#define V2_SIG		"b08d84eb357da0524bf97621e62f3f89518d2891"
/* SHA1("1700000000FakeToken123n0nce42"), by Python's hashlib. */
#define OA_SIG		"76ce85991e4dffc18e2e3a418f1546fa9dab4103"

static struct wxcrypt_key key;

static int
setup(void **state)
{
	(void)state;
	return wxcrypt_key_decode(AESKEY, strlen(AESKEY), &key) == WXC_OK ?
	    0 : -1;
}

/*
 * AES-256-CBC of pt (a multiple of 32 bytes) under the vector key, in
 * base64: for layouts wxcrypt_encrypt() would never write.
 */
static char *
seal_raw(const uint8_t *pt, size_t len)
{
	EVP_CIPHER_CTX *c;
	uint8_t *ct = malloc(len);
	char *b64 = malloc(len / 3 * 4 + 8);
	int n, fin;

	assert_non_null(c = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, key.k,
	    key.k), 1);
	EVP_CIPHER_CTX_set_padding(c, 0);
	assert_int_equal(EVP_EncryptUpdate(c, ct, &n, pt, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, ct + n, &fin), 1);
	EVP_CIPHER_CTX_free(c);
	EVP_EncodeBlock((unsigned char *)b64, ct, (int)len);
	free(ct);
	return b64;
}

/* A plaintext block: random, msg_len, msg, rid, then pad bytes. */
static size_t
layout(uint8_t *pt, uint32_t msglen, const char *body, size_t bodylen,
    int pad, size_t padlen)
{
	memcpy(pt, RANDOM, 16);
	pt[16] = (uint8_t)(msglen >> 24);
	pt[17] = (uint8_t)(msglen >> 16);
	pt[18] = (uint8_t)(msglen >> 8);
	pt[19] = (uint8_t)msglen;
	memcpy(pt + 20, body, bodylen);
	memset(pt + 20 + bodylen, pad, padlen);
	return 20 + bodylen + padlen;
}

static void
test_key(void **state)
{
	struct wxcrypt_key k;
	char s[64];
	int i;

	(void)state;
	for (i = 0; i < WXC_KEY_LEN; i++)
		assert_int_equal(key.k[i], i);
	/* C.2: the 2 bits past 256 are ignored: '9' differs from '8' there. */
	memcpy(s, AESKEY, 43);
	s[42] = '9';
	assert_int_equal(wxcrypt_key_decode(s, 43, &k), WXC_OK);
	assert_memory_equal(k.k, key.k, WXC_KEY_LEN);
	/* ...but the bits before them are the key's. */
	s[42] = 'A';
	assert_int_equal(wxcrypt_key_decode(s, 43, &k), WXC_OK);
	assert_memory_not_equal(k.k, key.k, WXC_KEY_LEN);
	/* Bad lengths: 42, 44 (even with its '='), 0. */
	assert_int_equal(wxcrypt_key_decode(AESKEY, 42, &k), WXC_E_KEY);
	snprintf(s, sizeof(s), "%s=", AESKEY);
	assert_int_equal(wxcrypt_key_decode(s, 44, &k), WXC_E_KEY);
	snprintf(s, sizeof(s), "%sA", AESKEY);
	assert_int_equal(wxcrypt_key_decode(s, 44, &k), WXC_E_KEY);
	assert_int_equal(wxcrypt_key_decode("", 0, &k), WXC_E_KEY);
	/* Only [A-Za-z0-9] (C.2): base64's '+', '/' and '=' are not keys. */
	memcpy(s, AESKEY, 43);
	s[5] = '+';
	assert_int_equal(wxcrypt_key_decode(s, 43, &k), WXC_E_KEY);
	s[5] = '/';
	assert_int_equal(wxcrypt_key_decode(s, 43, &k), WXC_E_KEY);
	s[5] = '=';
	assert_int_equal(wxcrypt_key_decode(s, 43, &k), WXC_E_KEY);
	s[5] = '\0';
	assert_int_equal(wxcrypt_key_decode(s, 43, &k), WXC_E_KEY);
	wxcrypt_key_clear(&k);
	for (i = 0; i < WXC_KEY_LEN; i++)
		assert_int_equal(k.k[i], 0);
}

/* C.10: the signatures of both vectors, and C.5's three-string form. */
static void
test_signature_vectors(void **state)
{
	char hex[WXC_SIG_LEN + 1];

	(void)state;
	assert_int_equal(wxcrypt_signature(TOKEN, TS, NONCE, V1_ENC, hex),
	    WXC_OK);
	assert_string_equal(hex, V1_SIG);
	assert_int_equal(wxcrypt_signature(TOKEN, TS, NONCE, V2_ENC, hex),
	    WXC_OK);
	assert_string_equal(hex, V2_SIG);
	/* The order of the arguments does not matter: they are sorted. */
	assert_int_equal(wxcrypt_signature(TOKEN, NONCE, TS, V1_ENC, hex),
	    WXC_OK);
	assert_string_equal(hex, V1_SIG);
	assert_int_equal(wxcrypt_signature(TOKEN, TS, NONCE, NULL, hex),
	    WXC_OK);
	assert_string_equal(hex, OA_SIG);
}

/* C.10 byte for byte, with the vectors' random prefix. */
static void
test_encrypt_vectors(void **state)
{
	char *enc;

	(void)state;
	assert_int_equal(wxcrypt_encrypt_random(&key, (const uint8_t *)RANDOM,
	    V1_MSG, strlen(V1_MSG), V1_RID, &enc), WXC_OK);
	assert_string_equal(enc, V1_ENC);
	free(enc);
	assert_int_equal(wxcrypt_encrypt_random(&key, (const uint8_t *)RANDOM,
	    V2_MSG, strlen(V2_MSG), "", &enc), WXC_OK);
	assert_string_equal(enc, V2_ENC);
	free(enc);
	/* The random prefix is random: two replies differ, both open. */
	assert_int_equal(wxcrypt_encrypt(&key, V1_MSG, strlen(V1_MSG), V1_RID,
	    &enc), WXC_OK);
	assert_string_not_equal(enc, V1_ENC);
	assert_int_equal(strlen(enc), strlen(V1_ENC));
	free(enc);
}

static void
test_decrypt_vectors(void **state)
{
	struct wxcrypt_plain pl;

	(void)state;
	assert_int_equal(wxcrypt_decrypt(&key, V1_ENC, strlen(V1_ENC), &pl),
	    WXC_OK);
	assert_int_equal(pl.msglen, 44);
	assert_memory_equal(pl.msg, V1_MSG, 44);
	assert_int_equal(pl.msg[44], '\0');
	assert_string_equal(pl.receiveid, V1_RID);
	assert_int_equal(wxcrypt_receiveid_check(&pl, V1_RID), WXC_OK);
	wxcrypt_plain_clear(&pl);
	assert_null(pl.msg);
	assert_int_equal(wxcrypt_decrypt(&key, V2_ENC, strlen(V2_ENC), &pl),
	    WXC_OK);
	assert_int_equal(pl.msglen, 24);
	assert_string_equal(pl.msg, V2_MSG);
	assert_int_equal(pl.receiveidlen, 0);
	assert_int_equal(wxcrypt_receiveid_check(&pl, ""), WXC_OK);
	/* C.11: an app's CorpID against the AI bot's empty id. */
	assert_int_equal(wxcrypt_receiveid_check(&pl, V1_RID),
	    WXC_E_RECEIVEID);
	wxcrypt_plain_clear(&pl);
}

/*
 * C.11: the pad is to 32.  Vector 2's last plaintext byte is 0x14 (a
 * 16-byte PKCS#7 unpadder refuses it); every pad from 1 to 32 must go
 * both ways, 32 included (a plaintext already a multiple of 32).
 */
static void
test_pad32(void **state)
{
	struct wxcrypt_plain pl;
	EVP_CIPHER_CTX *c;
	uint8_t ct[72], pt[80];
	char msg[80], *enc;
	int n, fin;
	size_t len, seen[WXC_BLOCK + 1];

	(void)state;
	/* OpenSSL's own 16-byte unpadding fails on vector 2. */
	assert_int_equal(EVP_DecodeBlock(ct, (const unsigned char *)V2_ENC,
	    (int)strlen(V2_ENC)), 66);	/* 64 and the two '=' */
	assert_non_null(c = EVP_CIPHER_CTX_new());
	assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_256_cbc(), NULL, key.k,
	    key.k), 1);
	assert_int_equal(EVP_DecryptUpdate(c, pt, &n, ct, 64), 1);
	assert_int_equal(EVP_DecryptFinal_ex(c, pt + n, &fin), 0);
	EVP_CIPHER_CTX_free(c);

	memset(seen, 0, sizeof(seen));
	memset(msg, 'x', sizeof(msg));
	for (len = 0; len <= 64; len++) {
		assert_int_equal(wxcrypt_encrypt(&key, msg, len, V1_RID, &enc),
		    WXC_OK);
		/* The ciphertext is a whole number of 32-byte blocks. */
		assert_int_equal(strlen(enc) % 4, 0);
		assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl),
		    WXC_OK);
		assert_int_equal(pl.msglen, len);
		assert_memory_equal(pl.msg, msg, len);
		assert_string_equal(pl.receiveid, V1_RID);
		seen[WXC_BLOCK - (20 + len + 16) % WXC_BLOCK]++;
		wxcrypt_plain_clear(&pl);
		free(enc);
	}
	for (len = 1; len <= WXC_BLOCK; len++)
		assert_true(seen[len] > 0);
}

/* Pads and layouts the encryptor never writes. */
static void
test_decrypt_refusals(void **state)
{
	struct wxcrypt_plain pl;
	uint8_t pt[160];
	char *enc, rid[80];

	(void)state;
	/* A pad byte of 0, of 33, and pad bytes that disagree. */
	layout(pt, 2, "hi", 2, 0, 10);
	enc = seal_raw(pt, 32);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl),
	    WXC_E_DECRYPT);
	assert_null(pl.msg);
	free(enc);
	layout(pt, 2, "hi", 2, 33, 42);
	enc = seal_raw(pt, 64);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl),
	    WXC_E_DECRYPT);
	free(enc);
	layout(pt, 2, "hi", 2, 10, 10);
	pt[25] = 9;
	enc = seal_raw(pt, 32);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl),
	    WXC_E_DECRYPT);
	free(enc);
	/* The good form of the same, to show the three above are the pad. */
	layout(pt, 2, "hi", 2, 10, 10);
	enc = seal_raw(pt, 32);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl), WXC_OK);
	assert_string_equal(pl.msg, "hi");
	wxcrypt_plain_clear(&pl);
	free(enc);
	/* msg_len past the end; and a 32-byte pad leaving 0 < 20 bytes. */
	layout(pt, 3, "hi", 2, 10, 10);
	enc = seal_raw(pt, 32);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl),
	    WXC_E_BUFFER);
	free(enc);
	layout(pt, 0xffffffffU, "hi", 2, 10, 10);
	enc = seal_raw(pt, 32);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl),
	    WXC_E_BUFFER);
	free(enc);
	memset(pt, 32, 32);
	enc = seal_raw(pt, 32);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl),
	    WXC_E_BUFFER);
	free(enc);
	/* A receiveid of 65 bytes is no id; 64 is. */
	memset(rid, 'r', sizeof(rid));
	layout(pt, 2, "hi", 2, 0, 0);
	memcpy(pt + 22, rid, 65);
	memset(pt + 87, 9, 9);
	enc = seal_raw(pt, 96);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl),
	    WXC_E_BUFFER);
	free(enc);
	memset(pt + 86, 10, 10);
	enc = seal_raw(pt, 96);
	assert_int_equal(wxcrypt_decrypt(&key, enc, strlen(enc), &pl), WXC_OK);
	assert_int_equal(pl.receiveidlen, WXC_RECEIVEID_MAX);
	wxcrypt_plain_clear(&pl);
	free(enc);
	/* A receiveid too long to encrypt. */
	rid[65] = '\0';
	assert_int_equal(wxcrypt_encrypt(&key, "hi", 2, rid, &enc),
	    WXC_E_TOOLONG);
	assert_null(enc);
}

static void
test_decrypt_bad_input(void **state)
{
	struct wxcrypt_plain pl;
	char *big;

	(void)state;
	/* Not base64: a stray character, a bad length, '=' inside. */
	assert_int_equal(wxcrypt_decrypt(&key, "4j/A uRx", 8, &pl),
	    WXC_E_B64DEC);
	assert_int_equal(wxcrypt_decrypt(&key, V1_ENC, strlen(V1_ENC) - 1,
	    &pl), WXC_E_B64DEC);
	assert_int_equal(wxcrypt_decrypt(&key, "AA=A", 4, &pl), WXC_E_B64DEC);
	assert_int_equal(wxcrypt_decrypt(&key, "", 0, &pl), WXC_E_B64DEC);
	/* Non-canonical: "AB==" carries bits past its one byte. */
	assert_int_equal(wxcrypt_decrypt(&key, "AB==", 4, &pl), WXC_E_B64DEC);
	/* 16 bytes: enough for AES, not for the 32-byte layout. */
	assert_int_equal(wxcrypt_decrypt(&key, "AAAAAAAAAAAAAAAAAAAAAA==", 24,
	    &pl), WXC_E_DECRYPT);
	/* Past the bound: refused before decoding. */
	big = malloc(WXC_ENCRYPT_MAX + 5);
	memset(big, 'A', WXC_ENCRYPT_MAX + 4);
	big[WXC_ENCRYPT_MAX + 4] = '\0';
	assert_int_equal(wxcrypt_decrypt(&key, big, WXC_ENCRYPT_MAX + 4, &pl),
	    WXC_E_TOOLONG);
	assert_int_equal(wxcrypt_signature_check(V1_SIG, WXC_SIG_LEN, TOKEN,
	    TS, NONCE, big), WXC_E_TOOLONG);
	free(big);
	assert_int_equal(wxcrypt_encrypt(&key, "x", WXC_MSG_MAX + 1, "",
	    &big), WXC_E_TOOLONG);
}

/*
 * C.5/C.6: signature, then decrypt, then receiveid.  Tampering with
 * the ciphertext is caught by the signature; re-signed, by the pad or
 * the layout.  Nothing decrypted is left behind on any error.
 */
static void
test_open(void **state)
{
	struct wxcrypt_plain pl;
	char enc[sizeof(V1_ENC)], sig[WXC_SIG_LEN + 1];
	size_t i;

	(void)state;
	assert_int_equal(wxcrypt_open(&key, TOKEN, V1_SIG, TS, NONCE, V1_ENC,
	    V1_RID, &pl), WXC_OK);
	assert_string_equal(pl.msg, V1_MSG);
	wxcrypt_plain_clear(&pl);
	/* The wrong receiveid (C.11): an OA AppID against a CorpID. */
	assert_int_equal(wxcrypt_open(&key, TOKEN, V1_SIG, TS, NONCE, V1_ENC,
	    "wxFAKEAPPID00001", &pl), WXC_E_RECEIVEID);
	assert_null(pl.msg);
	assert_int_equal(wxcrypt_open(&key, TOKEN, V1_SIG, TS, NONCE, V1_ENC,
	    "", &pl), WXC_E_RECEIVEID);
	assert_null(pl.msg);
	/* Another Token, timestamp or nonce. */
	assert_int_equal(wxcrypt_open(&key, "FakeToken124", V1_SIG, TS, NONCE,
	    V1_ENC, V1_RID, &pl), WXC_E_SIGNATURE);
	assert_int_equal(wxcrypt_open(&key, TOKEN, V1_SIG, "1700000001", NONCE,
	    V1_ENC, V1_RID, &pl), WXC_E_SIGNATURE);
	/* A signature in upper case, short, long, or absent. */
	for (i = 0; i < WXC_SIG_LEN; i++)
		sig[i] = (char)(V1_SIG[i] >= 'a' ? V1_SIG[i] - 32 : V1_SIG[i]);
	sig[WXC_SIG_LEN] = '\0';
	assert_int_equal(wxcrypt_open(&key, TOKEN, sig, TS, NONCE, V1_ENC,
	    V1_RID, &pl), WXC_E_SIGNATURE);
	/* Every digit counts: only the last one differs here. */
	memcpy(sig, V1_SIG, sizeof(sig));
	sig[WXC_SIG_LEN - 1] = sig[WXC_SIG_LEN - 1] == '0' ? '1' : '0';
	assert_int_equal(wxcrypt_open(&key, TOKEN, sig, TS, NONCE, V1_ENC,
	    V1_RID, &pl), WXC_E_SIGNATURE);
	assert_int_equal(wxcrypt_signature_check(V1_SIG, WXC_SIG_LEN - 1,
	    TOKEN, TS, NONCE, V1_ENC), WXC_E_SIGNATURE);
	assert_int_equal(wxcrypt_open(&key, TOKEN, V1_SIG "0", TS, NONCE,
	    V1_ENC, V1_RID, &pl), WXC_E_SIGNATURE);
	assert_int_equal(wxcrypt_open(&key, TOKEN, NULL, TS, NONCE, V1_ENC,
	    V1_RID, &pl), WXC_E_SIGNATURE);
	/* A flipped ciphertext character, with the old signature... */
	memcpy(enc, V1_ENC, sizeof(enc));
	enc[100] = enc[100] == 'A' ? 'B' : 'A';
	assert_int_equal(wxcrypt_open(&key, TOKEN, V1_SIG, TS, NONCE, enc,
	    V1_RID, &pl), WXC_E_SIGNATURE);
	assert_null(pl.msg);
	/* ...and re-signed by someone holding the Token, not the key. */
	assert_int_equal(wxcrypt_signature(TOKEN, TS, NONCE, enc, sig),
	    WXC_OK);
	assert_int_not_equal(wxcrypt_open(&key, TOKEN, sig, TS, NONCE, enc,
	    V1_RID, &pl), WXC_OK);
	assert_null(pl.msg);
	/* A change in the first block flips msg_len's top bits (CBC). */
	memcpy(enc, V1_ENC, sizeof(enc));
	enc[0] = 'A';
	assert_int_equal(wxcrypt_signature(TOKEN, TS, NONCE, enc, sig),
	    WXC_OK);
	assert_int_equal(wxcrypt_open(&key, TOKEN, sig, TS, NONCE, enc,
	    V1_RID, &pl), WXC_E_BUFFER);
	assert_null(pl.msg);
	/*
	 * But a change confined to the message's blocks opens, garbled:
	 * CBC has no integrity of its own, the Token's signature is the
	 * scheme's only check (C.3).  Which is why it comes first and the
	 * Token is a secret like the key.
	 */
	enc[0] = V1_ENC[0];
	enc[44] = enc[44] == 'A' ? 'B' : 'A';
	assert_int_equal(wxcrypt_signature(TOKEN, TS, NONCE, enc, sig),
	    WXC_OK);
	assert_int_equal(wxcrypt_open(&key, TOKEN, sig, TS, NONCE, enc,
	    V1_RID, &pl), WXC_OK);
	assert_int_equal(pl.msglen, strlen(V1_MSG));
	assert_memory_not_equal(pl.msg, V1_MSG, pl.msglen);
	wxcrypt_plain_clear(&pl);
}

/*
 * C.5, WeCom: the GET with echostr = vector 1.  WeCom escapes '+', '/'
 * and '='; a literal '+' must stay a '+' as well.  The answer is the
 * decrypted msg exactly.  Decoding '+' as a space (the forms rule)
 * breaks the signature, which is the trap.
 */
static void
test_echostr(void **state)
{
	static const char *const queries[] = {
	    "msg_signature=" V1_SIG "&timestamp=" TS "&nonce=" NONCE
	    "&echostr=4j%2FAuRx71kQlxVlzbpsMWMczXWSt2yv4WTx9dDoz%2F%2BrRbEK"
	    "%2B96Qm5PPrXYWDb372vh6SGfsSc63chTw%2BGJWvrXVwjNNxKyZ6gaBFb3AgUhC"
	    "qal4G98Hsj1Fca1iL%2Bjxu",
	    "echostr=" V1_ENC "&nonce=" NONCE "&timestamp=" TS
	    "&msg_signature=" V1_SIG,
	};
	struct wxcrypt_plain pl;
	char sig[64], ts[64], nonce[64], echo[256];
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
		const char *q = queries[i];
		size_t n = strlen(q);

		assert_int_equal(query_get(q, n, "msg_signature", sig,
		    sizeof(sig)), WXC_SIG_LEN);
		assert_true(query_get(q, n, "timestamp", ts, sizeof(ts)) > 0);
		assert_true(query_get(q, n, "nonce", nonce, sizeof(nonce)) > 0);
		assert_int_equal(query_get(q, n, "echostr", echo,
		    sizeof(echo)), strlen(V1_ENC));
		assert_string_equal(echo, V1_ENC);
		assert_int_equal(wxcrypt_open(&key, TOKEN, sig, ts, nonce, echo,
		    V1_RID, &pl), WXC_OK);
		assert_int_equal(pl.msglen, strlen(V1_MSG));
		assert_memory_equal(pl.msg, V1_MSG, pl.msglen);
		wxcrypt_plain_clear(&pl);
		/* What a forms decoder would have handed over. */
		for (j = 0; echo[j] != '\0'; j++)
			if (echo[j] == '+')
				echo[j] = ' ';
		assert_int_equal(wxcrypt_open(&key, TOKEN, sig, ts, nonce, echo,
		    V1_RID, &pl), WXC_E_SIGNATURE);
	}
}

/*
 * C.5, OA: the signature is over three strings, echostr is answered
 * verbatim.  WeCom's four-string signature is not accepted there, nor
 * OA's where four are expected.
 */
static void
test_verify_oa(void **state)
{
	struct wxcrypt_plain pl;

	(void)state;
	assert_int_equal(wxcrypt_verify_oa(TOKEN, OA_SIG, TS, NONCE), WXC_OK);
	assert_int_equal(wxcrypt_verify_oa(TOKEN, V1_SIG, TS, NONCE),
	    WXC_E_SIGNATURE);
	assert_int_equal(wxcrypt_verify_oa(TOKEN, OA_SIG, TS, "n0nce43"),
	    WXC_E_SIGNATURE);
	assert_int_equal(wxcrypt_verify_oa(TOKEN, NULL, TS, NONCE),
	    WXC_E_SIGNATURE);
	assert_int_equal(wxcrypt_open(&key, TOKEN, OA_SIG, TS, NONCE, V1_ENC,
	    V1_RID, &pl), WXC_E_SIGNATURE);
}

static void
test_bounds(void **state)
{
	char hex[WXC_SIG_LEN + 1], s[WXC_NONCE_MAX + 2];

	(void)state;
	/* 65 bytes: one past the nonce's and the Token's limits. */
	memset(s, 'n', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	assert_int_equal(wxcrypt_signature(TOKEN, TS, s, V1_ENC, hex),
	    WXC_E_TOOLONG);
	assert_int_equal(wxcrypt_signature(s, TS, NONCE, V1_ENC, hex),
	    WXC_E_TOOLONG);
	assert_int_equal(wxcrypt_signature(TOKEN, s, NONCE, V1_ENC, hex),
	    WXC_E_TOOLONG);
	assert_int_equal(wxcrypt_signature(NULL, TS, NONCE, V1_ENC, hex),
	    WXC_E_TOOLONG);
	/* 64 is still a nonce and a Token. */
	s[WXC_NONCE_MAX] = '\0';
	assert_int_equal(wxcrypt_signature(TOKEN, TS, s, V1_ENC, hex), WXC_OK);
	assert_int_equal(wxcrypt_signature(s, TS, NONCE, V1_ENC, hex), WXC_OK);
	assert_string_equal(wxcrypt_strerror(WXC_E_SIGNATURE),
	    "signature mismatch");
	assert_string_equal(wxcrypt_strerror(WXC_E_BUFFER), "illegal buffer");
	assert_string_equal(wxcrypt_strerror(1), "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key),
		cmocka_unit_test(test_signature_vectors),
		cmocka_unit_test(test_encrypt_vectors),
		cmocka_unit_test(test_decrypt_vectors),
		cmocka_unit_test(test_pad32),
		cmocka_unit_test(test_decrypt_refusals),
		cmocka_unit_test(test_decrypt_bad_input),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_echostr),
		cmocka_unit_test(test_verify_oa),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
