/*
 * WXBizMsgCrypt (shared/protocols/wecom.md Part C) for the callback
 * worker: key decoding (C.2), signatures (C.3), the envelope (C.4) and
 * the inbound checks of C.5/C.6, written from the note, not ported from
 * a reference library.  Pure: the only state it touches is OpenSSL's
 * RNG, for the 16 random bytes of a reply.  It never logs: its inputs
 * are a Token, a key and users' messages.
 *
 * Called by the callback worker (phase 2), tests/unit/workers/callback/
 * test_wxcrypt.c and tests/fuzz/fuzz_wxcrypt.c.  Every length is checked
 * against the limits in wxcrypt.h before anything is allocated.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64.h"
#include "wxcrypt.h"
#include "xmalloc.h"

/* The four strings of C.3 (three in OA's plain form). */
#define SIG_PARTS	4

static const struct {
	int		 code;
	const char	*name;
} wxc_names[] = {
	{ WXC_OK,		"ok" },
	{ WXC_E_SIGNATURE,	"signature mismatch" },
	{ WXC_E_SIGCALC,	"signature computation error" },
	{ WXC_E_KEY,		"illegal EncodingAESKey" },
	{ WXC_E_RECEIVEID,	"receiveid mismatch" },
	{ WXC_E_ENCRYPT,	"AES encrypt error" },
	{ WXC_E_DECRYPT,	"AES decrypt error" },
	{ WXC_E_BUFFER,		"illegal buffer" },
	{ WXC_E_B64ENC,		"base64 encode error" },
	{ WXC_E_B64DEC,		"base64 decode error" },
	{ WXC_E_TOOLONG,	"input too long" },
};

static int	aes_cbc(const struct wxcrypt_key *, int, const uint8_t *,
		    size_t, uint8_t *);
static int	sig_bounded(const char *, size_t);

const char *
wxcrypt_strerror(int code)
{
	size_t i;

	for (i = 0; i < sizeof(wxc_names) / sizeof(wxc_names[0]); i++)
		if (wxc_names[i].code == code)
			return wxc_names[i].name;
	return "unknown error";
}

/*
 * C.2: exactly 43 characters of [A-Za-z0-9]; the console makes nothing
 * else, so '+', '/' and '=' are refused here even though base64 has
 * them.  The 2 bits past 256 are dropped, not checked (C.2).
 */
int
wxcrypt_key_decode(const char *s, size_t len, struct wxcrypt_key *key)
{
	char in[WXC_KEY_B64_LEN + 1];
	uint8_t out[(WXC_KEY_B64_LEN + 1) / 4 * 3];
	size_t i;
	int rc = WXC_E_KEY;

	if (len != WXC_KEY_B64_LEN)
		return WXC_E_KEY;
	for (i = 0; i < len; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9')))
			return WXC_E_KEY;
		in[i] = s[i];
	}
	in[len] = '=';
	if (b64_decode(in, sizeof(in), B64_LAX_PAD, out, sizeof(out)) ==
	    WXC_KEY_LEN) {
		memcpy(key->k, out, WXC_KEY_LEN);
		rc = WXC_OK;
	}
	OPENSSL_cleanse(out, sizeof(out));
	OPENSSL_cleanse(in, sizeof(in));
	return rc;
}

void
wxcrypt_key_clear(struct wxcrypt_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}

/* A signature input: present, and no longer than max. */
static int
sig_bounded(const char *s, size_t max)
{
	return s != NULL && strnlen(s, max + 1) <= max;
}

/*
 * C.3: SHA1 over the strings sorted by bytes (strcmp compares as
 * unsigned char) and joined with nothing between them.  The Token and
 * the parameters are bounded; encrypt is bounded by WXC_ENCRYPT_MAX.
 */
int
wxcrypt_signature(const char *token, const char *timestamp, const char *nonce,
    const char *encrypt, char hex[WXC_SIG_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	const char *part[SIG_PARTS], *t;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	size_t n, i, j;
	int ok;

	if (!sig_bounded(token, WXC_TOKEN_MAX) ||
	    !sig_bounded(timestamp, WXC_TIMESTAMP_MAX) ||
	    !sig_bounded(nonce, WXC_NONCE_MAX) ||
	    (encrypt != NULL && !sig_bounded(encrypt, WXC_ENCRYPT_MAX)))
		return WXC_E_TOOLONG;
	part[0] = token;
	part[1] = timestamp;
	part[2] = nonce;
	part[3] = encrypt;
	n = encrypt != NULL ? 4 : 3;
	/* Insertion sort: four elements. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(part[j - 1], part[j]) > 0; j--) {
			t = part[j];
			part[j] = part[j - 1];
			part[j - 1] = t;
		}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return WXC_E_SIGCALC;
	ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1;
	for (i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, part[i], strlen(part[i])) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 &&
	    mdlen * 2 == WXC_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return WXC_E_SIGCALC;
	for (i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0x0f];
	}
	hex[WXC_SIG_LEN] = '\0';
	return WXC_OK;
}

/*
 * The received value must be exactly our 40 lower-case hex digits,
 * compared in constant time (C.3) so a forger learns nothing from how
 * long a wrong guess took.
 */
int
wxcrypt_signature_check(const char *got, size_t gotlen, const char *token,
    const char *timestamp, const char *nonce, const char *encrypt)
{
	char want[WXC_SIG_LEN + 1];
	int rc;

	if ((rc = wxcrypt_signature(token, timestamp, nonce, encrypt, want)) !=
	    WXC_OK)
		return rc;
	if (got == NULL || gotlen != WXC_SIG_LEN ||
	    CRYPTO_memcmp(got, want, WXC_SIG_LEN) != 0)
		return WXC_E_SIGNATURE;
	return WXC_OK;
}

/*
 * AES-256-CBC, IV = key[0..15] (C.2), the cipher's own padding off:
 * the 32-byte pad is ours to add and strip (C.11).  len is a multiple
 * of WXC_BLOCK; out holds len bytes.
 */
static int
aes_cbc(const struct wxcrypt_key *key, int enc, const uint8_t *in, size_t len,
    uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int n = 0, fin = 0, ok;

	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		return -1;
	ok = EVP_CipherInit_ex(ctx, EVP_aes_256_cbc(), NULL, key->k, key->k,
	    enc) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_CipherUpdate(ctx, out, &n, in, (int)len) == 1 &&
	    EVP_CipherFinal_ex(ctx, out + n, &fin) == 1 &&
	    (size_t)n + (size_t)fin == len;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/*
 * C.4, decrypt side: base64, a whole number of 32-byte blocks, AES, a
 * pad of 1..32 bytes all equal to p (stricter than the reference, which
 * accepts any), then the layout.  The receiveid is returned, not
 * checked: wxcrypt_receiveid_check() or wxcrypt_open() does that.
 */
int
wxcrypt_decrypt(const struct wxcrypt_key *key, const char *enc, size_t enclen,
    struct wxcrypt_plain *out)
{
	uint8_t *ct = NULL, *pt = NULL;
	size_t ctlen = 0, len, p, i, msglen, ridlen;
	int rc, n;

	memset(out, 0, sizeof(*out));
	if (enclen > WXC_ENCRYPT_MAX)
		return WXC_E_TOOLONG;
	ct = xmalloc(enclen / 4 * 3 + 1);
	/* Canonical: every encoder WeCom and WeChat run writes zero bits. */
	if ((n = b64_decode(enc, enclen, 0, ct, enclen / 4 * 3 + 1)) == -1) {
		rc = WXC_E_B64DEC;
		goto out;
	}
	ctlen = (size_t)n;
	/* 16 would do for AES; the pad makes it 32 (C.4). */
	if (ctlen == 0 || ctlen % WXC_BLOCK != 0) {
		rc = WXC_E_DECRYPT;
		goto out;
	}
	pt = xmalloc(ctlen);
	if (aes_cbc(key, 0, ct, ctlen, pt) == -1) {
		rc = WXC_E_DECRYPT;
		goto out;
	}
	p = pt[ctlen - 1];
	rc = WXC_E_DECRYPT;
	if (p < 1 || p > WXC_BLOCK)
		goto out;
	for (i = ctlen - p; i < ctlen; i++)
		if (pt[i] != p)
			goto out;
	len = ctlen - p;
	rc = WXC_E_BUFFER;
	if (len < WXC_HEADER_LEN)
		goto out;
	msglen = (size_t)pt[16] << 24 | (size_t)pt[17] << 16 |
	    (size_t)pt[18] << 8 | (size_t)pt[19];
	if (msglen > WXC_MSG_MAX || msglen > len - WXC_HEADER_LEN)
		goto out;
	ridlen = len - WXC_HEADER_LEN - msglen;
	if (ridlen > WXC_RECEIVEID_MAX)
		goto out;
	out->msg = xmalloc(msglen + 1);
	memcpy(out->msg, pt + WXC_HEADER_LEN, msglen);
	out->msg[msglen] = '\0';
	out->msglen = msglen;
	memcpy(out->receiveid, pt + WXC_HEADER_LEN + msglen, ridlen);
	out->receiveid[ridlen] = '\0';
	out->receiveidlen = ridlen;
	rc = WXC_OK;
 out:
	free(ct);
	if (pt != NULL)
		freezero(pt, ctlen);
	return rc;
}

/*
 * C.4: the trailing bytes must be the CorpID (apps) or AppID (OA); for
 * the AI bot's URL mode the expected id is "" and so must they be.  The
 * ids are public, so a plain comparison is enough.  A NUL inside the
 * received id never matches, since want is a C string.
 */
int
wxcrypt_receiveid_check(const struct wxcrypt_plain *pl, const char *want)
{
	if (want == NULL || strlen(want) != pl->receiveidlen ||
	    memcmp(want, pl->receiveid, pl->receiveidlen) != 0)
		return WXC_E_RECEIVEID;
	return WXC_OK;
}

void
wxcrypt_plain_clear(struct wxcrypt_plain *pl)
{
	if (pl->msg != NULL)
		freezero(pl->msg, pl->msglen + 1);
	OPENSSL_cleanse(pl, sizeof(*pl));
}

/*
 * The 16 leading bytes only have to differ between messages, since the
 * IV is fixed (C.2).  The official samples use ASCII digits; we draw
 * letters and digits from OpenSSL's CSPRNG, so a peer that handles the
 * plaintext as a string sees nothing stranger than the samples send.
 */
int
wxcrypt_encrypt(const struct wxcrypt_key *key, const char *msg, size_t msglen,
    const char *receiveid, char **encp)
{
	static const char set[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	uint8_t rnd[WXC_RANDOM_LEN], b;
	size_t i;
	int rc;

	for (i = 0; i < WXC_RANDOM_LEN; ) {
		if (RAND_bytes(&b, 1) != 1)
			return WXC_E_ENCRYPT;
		/* 248 = 4 * 62: no bias from the modulo. */
		if (b < 248)
			rnd[i++] = (uint8_t)set[b % 62];
	}
	rc = wxcrypt_encrypt_random(key, rnd, msg, msglen, receiveid, encp);
	OPENSSL_cleanse(rnd, sizeof(rnd));
	return rc;
}

/* C.4, encrypt side: the same layout, padded to 32, base64 with '='. */
int
wxcrypt_encrypt_random(const struct wxcrypt_key *key,
    const uint8_t rnd[WXC_RANDOM_LEN], const char *msg, size_t msglen,
    const char *receiveid, char **encp)
{
	uint8_t *pt, *ct;
	char *enc;
	size_t ridlen, len, p, padded;
	int n;

	*encp = NULL;
	if (receiveid == NULL ||
	    (ridlen = strnlen(receiveid, WXC_RECEIVEID_MAX + 1)) >
	    WXC_RECEIVEID_MAX || msglen > WXC_MSG_MAX)
		return WXC_E_TOOLONG;
	len = WXC_HEADER_LEN + msglen + ridlen;
	p = WXC_BLOCK - len % WXC_BLOCK;
	padded = len + p;
	pt = xmalloc(padded);
	memcpy(pt, rnd, WXC_RANDOM_LEN);
	pt[16] = (uint8_t)(msglen >> 24);
	pt[17] = (uint8_t)(msglen >> 16);
	pt[18] = (uint8_t)(msglen >> 8);
	pt[19] = (uint8_t)msglen;
	if (msglen > 0)
		memcpy(pt + WXC_HEADER_LEN, msg, msglen);
	memcpy(pt + WXC_HEADER_LEN + msglen, receiveid, ridlen);
	memset(pt + len, (int)p, p);
	ct = xmalloc(padded);
	if (aes_cbc(key, 1, pt, padded, ct) == -1) {
		freezero(pt, padded);
		free(ct);
		return WXC_E_ENCRYPT;
	}
	freezero(pt, padded);
	enc = xmalloc((padded + 2) / 3 * 4 + 1);
	n = EVP_EncodeBlock((unsigned char *)enc, ct, (int)padded);
	free(ct);
	if (n < 0 || (size_t)n != (padded + 2) / 3 * 4) {
		free(enc);
		return WXC_E_B64ENC;
	}
	*encp = enc;
	return WXC_OK;
}

/*
 * C.5 (WeCom's GET, encrypt = echostr) and C.6 (POSTs, encrypt = the
 * <Encrypt> text): the signature first, so nothing unauthenticated is
 * ever decrypted, then the layout and the receiveid.  The signature
 * covers encrypt exactly as received (C.11: no trimming).
 */
int
wxcrypt_open(const struct wxcrypt_key *key, const char *token, const char *sig,
    const char *timestamp, const char *nonce, const char *encrypt,
    const char *receiveid, struct wxcrypt_plain *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (sig == NULL || encrypt == NULL)
		return WXC_E_SIGNATURE;
	if ((rc = wxcrypt_signature_check(sig, strnlen(sig, WXC_SIG_LEN + 1),
	    token, timestamp, nonce, encrypt)) != WXC_OK)
		return rc;
	if ((rc = wxcrypt_decrypt(key, encrypt, strlen(encrypt), out)) !=
	    WXC_OK)
		return rc;
	if ((rc = wxcrypt_receiveid_check(out, receiveid)) != WXC_OK)
		wxcrypt_plain_clear(out);
	return rc;
}

/*
 * C.5, Official Accounts: three strings, echostr not among them; the
 * caller answers with echostr verbatim.  Mixing this up with WeCom's
 * four-string form is the classic mismatch (C.11).
 */
int
wxcrypt_verify_oa(const char *token, const char *sig, const char *timestamp,
    const char *nonce)
{
	if (sig == NULL)
		return WXC_E_SIGNATURE;
	return wxcrypt_signature_check(sig, strnlen(sig, WXC_SIG_LEN + 1),
	    token, timestamp, nonce, NULL);
}
