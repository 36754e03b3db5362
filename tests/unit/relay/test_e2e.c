/*
 * Unit tests for ctl/relay/e2e.c: scrypt against RFC 7914's vectors,
 * AES-256-GCM against the GCM specification's (McGrew and Viega, test
 * cases 13 to 15), and what the format must refuse: a flipped bit, a
 * message moved to another thread or sequence number, a wrong
 * passphrase, a malformed envelope.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "e2e.h"
#include "hex.h"
#include "xmalloc.h"

static void
unhex(const char *h, uint8_t *out, size_t len)
{
	size_t i;

	assert_int_equal(strlen(h), 2 * len);
	for (i = 0; i < len; i++) {
		assert_true(hex_digit(h[2 * i]) >= 0 &&
		    hex_digit(h[2 * i + 1]) >= 0);
		out[i] = (uint8_t)(hex_digit(h[2 * i]) << 4 |
		    hex_digit(h[2 * i + 1]));
	}
}

static void
derive(const char *pass, const char *salt, uint64_t n, uint32_t r,
    uint32_t p, const char *want)
{
	uint8_t got[64], exp[64];

	unhex(want, exp, sizeof(exp));
	assert_int_equal(e2e_scrypt(pass, strlen(pass), (const uint8_t *)salt,
	    strlen(salt), n, r, p, got, sizeof(got)), 0);
	assert_memory_equal(got, exp, sizeof(exp));
}

static void
test_scrypt_rfc7914(void **state)
{
	struct e2e_kdf k = { 16384, 8, 1, "0123456789abcdef" };
	uint8_t kek[E2E_KEY_LEN], raw[64];

	(void)state;
	derive("", "", 16, 1, 1,
	    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
	    "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
	derive("password", "NaCl", 1024, 8, 16,
	    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
	    "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
	derive("pleaseletmein", "SodiumChloride", 16384, 8, 1,
	    "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
	    "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
	/*
	 * e2e_derive is the same scrypt with the record's salt and cost:
	 * PBKDF2's blocks stand alone, so its 32 bytes are the first 32
	 * of the 64.
	 */
	assert_int_equal(e2e_derive("pleaseletmein", 13, &k, kek), 0);
	assert_int_equal(e2e_scrypt("pleaseletmein", 13, k.salt,
	    sizeof(k.salt), 16384, 8, 1, raw, sizeof(raw)), 0);
	assert_memory_equal(kek, raw, E2E_KEY_LEN);
}

static void
test_kdf_bounds(void **state)
{
	struct e2e_kdf k = { 32768, 8, 1, { 0 } };
	uint8_t kek[E2E_KEY_LEN];

	(void)state;
	assert_true(e2e_kdf_valid(&k));
	k.n = 32767;			/* not a power of two */
	assert_false(e2e_kdf_valid(&k));
	k.n = 512;			/* too cheap */
	assert_false(e2e_kdf_valid(&k));
	k.n = 1 << 20;			/* 1 GiB at r 8 */
	assert_false(e2e_kdf_valid(&k));
	assert_int_equal(e2e_derive("x", 1, &k, kek), -1);
	k.n = 1 << 18;
	k.p = 5;
	assert_false(e2e_kdf_valid(&k));
}

static void
gcm(const char *key, const char *iv, const char *pt, const char *ct,
    const char *tag)
{
	uint8_t k[32], n[12], p[64], c[64 + 16], want[64 + 16], back[64];
	size_t len = strlen(pt) / 2;

	unhex(key, k, sizeof(k));
	unhex(iv, n, sizeof(n));
	if (len > 0)
		unhex(pt, p, len);
	if (len > 0)
		unhex(ct, want, len);
	unhex(tag, want + len, 16);
	assert_int_equal(e2e_seal_nonce(k, "", n, p, len, c), 0);
	assert_memory_equal(c, want, len + 16);
	assert_int_equal(e2e_open(k, "", n, c, len + 16, back), 0);
	if (len > 0)
		assert_memory_equal(back, p, len);
}

static void
test_gcm_vectors(void **state)
{
	(void)state;
	/* Test case 13: the zero key, nonce and empty text. */
	gcm("0000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000", "", "",
	    "530f8afbc74536b9a963b4f1c4cb738b");
	/* Test case 14: one zero block. */
	gcm("0000000000000000000000000000000000000000000000000000000000000000",
	    "000000000000000000000000", "00000000000000000000000000000000",
	    "cea7403d4d606b6e074ec5d3baf39d18",
	    "d0d1c8a799996bf0265b98b5d48ab919");
	/* Test case 15: four blocks. */
	gcm("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	    "cafebabefacedbaddecaf888",
	    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
	    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
	    "b094dac5d93471bdec1a502270e3cc6c");
}

static const uint8_t key[E2E_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };

static void
test_envelope_round_trip_and_refusals(void **state)
{
	char aad[E2E_AAD_MAX], other[E2E_AAD_MAX], *env, *text, *bad;
	const char *why, *junk;
	size_t len, i;

	(void)state;
	assert_int_equal(e2e_aad(aad, sizeof(aad), "msg", "thread-7",
	    "operator", 3), 0);
	assert_string_equal(aad, "wxgate-e2e/1|msg|thread-7|operator|3");
	env = e2e_envelope_seal(key, aad, "你好, agent", strlen("你好, agent"));
	assert_non_null(env);
	assert_null(strstr(env, "agent"));
	assert_int_equal(e2e_envelope_open(key, aad, env, strlen(env), &text,
	    &len, &why), 0);
	assert_string_equal(text, "你好, agent");
	assert_int_equal(len, strlen("你好, agent"));
	free(text);

	/* Moved to another thread, replayed as another number, another
	 * sender: the tag fails, and nothing comes back as text. */
	assert_int_equal(e2e_aad(other, sizeof(other), "msg", "thread-8",
	    "operator", 3), 0);
	assert_int_equal(e2e_envelope_open(key, other, env, strlen(env), &text,
	    &len, &why), -1);
	assert_null(text);
	assert_non_null(strstr(why, "altered"));
	assert_int_equal(e2e_aad(other, sizeof(other), "msg", "thread-7",
	    "operator", 4), 0);
	assert_int_equal(e2e_envelope_open(key, other, env, strlen(env), &text,
	    &len, &why), -1);
	assert_int_equal(e2e_aad(other, sizeof(other), "msg", "thread-7",
	    "agent", 3), 0);
	assert_int_equal(e2e_envelope_open(key, other, env, strlen(env), &text,
	    &len, &why), -1);

	/* Every character of the ciphertext changed in turn. */
	bad = xstrdup(env);
	for (i = strlen("{\"v\":1,\"n\":\""); bad[i] != '\0'; i++) {
		char was = bad[i];

		if (was == '"' || was == ',' || was == ':' || was == '}' ||
		    was == '=')
			continue;
		bad[i] = was == 'A' ? 'B' : 'A';
		assert_int_equal(e2e_envelope_open(key, aad, bad, strlen(bad),
		    &text, &len, &why), -1);
		assert_null(text);
		bad[i] = was;
	}
	free(bad);

	/* Not envelopes. */
	assert_int_equal(e2e_envelope_open(key, aad, "hello", 5, &text, &len,
	    &why), -1);
	assert_string_equal(why, "not an encrypted message");
	junk = "{\"v\":2,\"n\":\"AAAAAAAAAAAAAAAA\","
	    "\"c\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}";
	assert_int_equal(e2e_envelope_open(key, aad, junk, strlen(junk), &text,
	    &len, &why), -1);
	assert_non_null(strstr(why, "version"));
	junk = "{\"v\":1,\"n\":\"AAAAAAAAAAAAAAAA\",\"c\":\"AAAA\",\"x\":1}";
	assert_int_equal(e2e_envelope_open(key, aad, junk, strlen(junk), &text,
	    &len, &why), -1);
	assert_string_equal(why, "not an encrypted message");
	free(env);

	/* A part holding the separator would make two tuples one string. */
	assert_int_equal(e2e_aad(other, sizeof(other), "msg", "a|b", "x", 1),
	    -1);
	assert_int_equal(e2e_aad(other, sizeof(other), "msg", "", "x", 1), -1);
}

static void
test_wrap_and_wrong_passphrase(void **state)
{
	struct e2e_kdf k = { 1024, 8, 1, "0123456789abcdef" };
	uint8_t kek[E2E_KEY_LEN], dk[E2E_KEY_LEN], back[E2E_KEY_LEN];
	uint8_t nonce[E2E_NONCE_LEN], w[E2E_KEY_LEN + E2E_TAG_LEN];

	(void)state;
	memset(dk, 0x5a, sizeof(dk));
	assert_int_equal(e2e_derive("correct horse", 13, &k, kek), 0);
	assert_int_equal(e2e_wrap(kek, "admin", dk, nonce, w), 0);
	assert_int_equal(e2e_unwrap(kek, "admin", nonce, w, back), 0);
	assert_memory_equal(back, dk, sizeof(dk));
	/* Another owner's record, or the wrong passphrase: detected. */
	assert_int_equal(e2e_unwrap(kek, "viewer", nonce, w, back), -1);
	assert_int_equal(e2e_derive("correct horsf", 13, &k, kek), 0);
	assert_int_equal(e2e_unwrap(kek, "admin", nonce, w, back), -1);
}

/* A cheap cost, so the tests stay fast; the format is the same. */
static const struct e2e_kdf cheap = { 1024, 8, 1, { 0 } };

static void
test_record_round_trip_and_rewrap(void **state)
{
	struct e2e_record rec, back, again;
	uint8_t dk[E2E_KEY_LEN], got[E2E_KEY_LEN];
	const char *head = "{\"v\":1,\"kdf\":\"scrypt\",\"n\":1024,\"r\":8,"
	    "\"p\":1,\"salt\":\"";
	char *s, *t;

	(void)state;
	memset(dk, 0xa5, sizeof(dk));
	assert_int_equal(e2e_record_new("correct horse", 13, "admin", &cheap,
	    dk, &rec), 0);
	assert_non_null(s = e2e_record_format(&rec));
	assert_memory_equal(s, head, strlen(head));
	assert_non_null(strstr(s, "\",\"nonce\":\""));
	assert_non_null(strstr(s, "\",\"wrapped\":\""));
	assert_int_equal(e2e_record_parse(s, strlen(s), &back), 0);
	assert_memory_equal(&back.kdf, &rec.kdf, sizeof(rec.kdf));
	assert_memory_equal(back.nonce, rec.nonce, sizeof(rec.nonce));
	assert_memory_equal(back.wrapped, rec.wrapped, sizeof(rec.wrapped));
	assert_non_null(t = e2e_record_format(&back));
	assert_string_equal(t, s);
	free(t);
	assert_int_equal(e2e_record_unwrap(&back, "correct horse", 13,
	    "admin", got), 0);
	assert_memory_equal(got, dk, sizeof(dk));

	/* A wrong passphrase, or another owner's record: refused. */
	assert_int_equal(e2e_record_unwrap(&back, "correct horsf", 13,
	    "admin", got), -1);
	assert_int_equal(e2e_record_unwrap(&back, "correct horse", 13,
	    "viewer", got), -1);

	/* A new passphrase wraps the same key under a new salt and nonce. */
	assert_int_equal(e2e_record_new("battery staple", 14, "admin", &cheap,
	    dk, &again), 0);
	assert_memory_not_equal(again.kdf.salt, rec.kdf.salt,
	    sizeof(rec.kdf.salt));
	assert_memory_not_equal(again.nonce, rec.nonce, sizeof(rec.nonce));
	assert_int_equal(e2e_record_unwrap(&again, "battery staple", 14,
	    "admin", got), 0);
	assert_memory_equal(got, dk, sizeof(dk));
	assert_int_equal(e2e_record_unwrap(&again, "correct horse", 13,
	    "admin", got), -1);

	/* A cost this side would not derive with is not used. */
	again.kdf.n = 1000;
	assert_int_equal(e2e_record_unwrap(&again, "battery staple", 14,
	    "admin", got), -1);
	assert_null(e2e_record_format(&again));
	free(s);
}

#define SALT	"\"AAAAAAAAAAAAAAAAAAAAAA==\""
#define NONCE	"\"AAAAAAAAAAAAAAAA\""
#define WRAPPED	"\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\""

/* The fields of a record, each raw JSON, NULL to leave the key out. */
struct rec_fields {
	const char	*v, *kdf, *n, *r, *p, *salt, *nonce, *wrapped, *more;
};

#define F(m)	offsetof(struct rec_fields, m)
static const size_t rec_off[] = { F(v), F(kdf), F(n), F(r), F(p), F(salt),
    F(nonce), F(wrapped) };
static const char *const rec_key[] = { "v", "kdf", "n", "r", "p", "salt",
    "nonce", "wrapped" };

static const char **
rec_field(struct rec_fields *f, size_t off)
{
	return (const char **)(void *)((char *)f + off);
}

static char *
rec_json(const struct rec_fields *f)
{
	struct rec_fields c = *f;
	char buf[2048];
	const char *v;
	size_t i, o = 1;

	buf[0] = '{';
	for (i = 0; i < sizeof(rec_off) / sizeof(rec_off[0]); i++) {
		if ((v = *rec_field(&c, rec_off[i])) == NULL)
			continue;
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s\"%s\":%s",
		    o > 1 ? "," : "", rec_key[i], v);
		assert_true(o < sizeof(buf));
	}
	o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s}",
	    f->more != NULL ? f->more : "");
	assert_true(o < sizeof(buf));
	return xstrdup(buf);
}

static int
rec_parses(const struct rec_fields *f)
{
	struct e2e_record r;
	char *s = rec_json(f);
	int rv;

	rv = e2e_record_parse(s, strlen(s), &r);
	free(s);
	return rv;
}

static void
test_record_refusals(void **state)
{
	static const struct rec_fields good = { "1", "\"scrypt\"", "32768",
	    "8", "1", SALT, NONCE, WRAPPED, NULL };
	/* Each one field of good replaced, by its offset in the struct. */
	static const struct {
		size_t		 off;
		const char	*val;
	} bad[] = {
		{ F(v), "2" }, { F(v), "\"1\"" }, { F(v), "1.0" },
		{ F(v), "true" },
		{ F(kdf), "\"argon2id\"" }, { F(kdf), "\"SCRYPT\"" },
		{ F(kdf), "1" },
		{ F(n), "32767" }, { F(n), "1000" }, { F(n), "512" },
		{ F(n), "0" }, { F(n), "-32768" }, { F(n), "2097152" },
		{ F(n), "1048576" },		/* 1 GiB at r 8 */
		{ F(n), "32768.0" }, { F(n), "\"32768\"" },
		{ F(n), "18446744073709551616" },
		{ F(r), "0" }, { F(r), "33" }, { F(r), "-8" },
		{ F(r), "4294967304" },		/* 8 past 2^32 */
		{ F(p), "0" }, { F(p), "5" }, { F(p), "4294967297" },
		/* 15 and 17 bytes, no padding, a space, '-', bits left. */
		{ F(salt), "\"AAAAAAAAAAAAAAAAAAAA\"" },
		{ F(salt), "\"AAAAAAAAAAAAAAAAAAAAAAA=\"" },
		{ F(salt), "\"AAAAAAAAAAAAAAAAAAAAAA\"" },
		{ F(salt), "\"AAAAAAAAAAAAAAAAAAAAAA= =\"" },
		{ F(salt), "\"AAAAAAAAAAAAAAAAAAAA AA==\"" },
		{ F(salt), "\"AAAAAAAAAAAAAAAAAAAA-A==\"" },
		{ F(salt), "\"AAAAAAAAAAAAAAAAAAAAAB==\"" },
		{ F(salt), "\"\"" }, { F(salt), "null" },
		{ F(nonce), "\"AAAAAAAAAAAAAAAAAAAA\"" },
		{ F(nonce), "\"AAAAAAAAAAAA\"" },
		{ F(nonce), "\"AAAAAAAAAAAAAAA=\"" },
		{ F(wrapped), "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAA==\"" },
		{ F(wrapped), "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
		    "AAAAAAAAAAAAAAAAAAAA\"" },
	};
	struct rec_fields f;
	struct e2e_record r;
	char big[E2E_RECORD_MAX + 64], *s;
	size_t i, len;

	(void)state;
	assert_int_equal(rec_parses(&good), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = good;
		*rec_field(&f, bad[i].off) = bad[i].val;
		if (rec_parses(&f) != -1)
			fail_msg("bad record %zu (%s) parsed", i, bad[i].val);
	}
	/* Each key missing in turn. */
	for (i = 0; i < sizeof(rec_off) / sizeof(rec_off[0]); i++) {
		f = good;
		*rec_field(&f, rec_off[i]) = NULL;
		if (rec_parses(&f) != -1)
			fail_msg("a record without %s parsed", rec_key[i]);
	}
	/* Another key, or one twice. */
	f = good;
	f.more = ",\"x\":1";
	assert_int_equal(rec_parses(&f), -1);
	f.more = ",\"n\":32768";
	assert_int_equal(rec_parses(&f), -1);
	f.more = ",\"salt\":" SALT;
	assert_int_equal(rec_parses(&f), -1);

	/* Not JSON, not an object, more after it, cut short. */
	s = rec_json(&good);
	len = strlen(s);
	assert_int_equal(e2e_record_parse(s, len - 1, &r), -1);
	assert_int_equal(e2e_record_parse("[]", 2, &r), -1);
	assert_int_equal(e2e_record_parse("", 0, &r), -1);
	assert_int_equal(snprintf(big, sizeof(big), "%s{}", s), (int)len + 2);
	assert_int_equal(e2e_record_parse(big, strlen(big), &r), -1);

	/* Over E2E_RECORD_MAX, though only by white space. */
	memset(big, ' ', sizeof(big));
	memcpy(big + sizeof(big) - len - 1, s, len + 1);
	assert_int_equal(e2e_record_parse(big + sizeof(big) - len - 1 -
	    (E2E_RECORD_MAX - len), E2E_RECORD_MAX, &r), 0);
	assert_int_equal(e2e_record_parse(big, strlen(big), &r), -1);
	free(s);
}
#undef F

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scrypt_rfc7914),
		cmocka_unit_test(test_kdf_bounds),
		cmocka_unit_test(test_gcm_vectors),
		cmocka_unit_test(test_envelope_round_trip_and_refusals),
		cmocka_unit_test(test_wrap_and_wrong_passphrase),
		cmocka_unit_test(test_record_round_trip_and_rewrap),
		cmocka_unit_test(test_record_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
