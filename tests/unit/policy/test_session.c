/*
 * Unit tests for policy/session.c: token shape, randomness, and the one
 * accepted form for hashing.  Expected digests come from sha256sum(1),
 * not from OpenSSL, so the hash is checked against an outside source.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "session.h"
#include "store.h"

/* The store keeps exactly what session_token_hash() produces. */
_Static_assert(SESSION_HASH_LEN == STORE_HASH_LEN, "hash sizes differ");

static void	hex_decode(const char *, uint8_t *, size_t);
static void	test_token_shape(void **);
static void	test_tokens_differ(void **);
static void	test_hash_golden(void **);
static void	test_hash_new_matches(void **);
static void	test_hash_rejects(void **);

static void
hex_decode(const char *hex, uint8_t *out, size_t len)
{
	size_t i;
	unsigned int b;

	assert_int_equal(strlen(hex), 2 * len);
	for (i = 0; i < len; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &b), 1);
		out[i] = b;
	}
}

static void
test_token_shape(void **state)
{
	char tok[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN];
	size_t i;

	(void)state;
	memset(tok, 'X', sizeof(tok));
	assert_int_equal(session_token_new(tok, hash), 0);
	assert_int_equal(SESSION_TOKEN_LEN, 32);
	assert_int_equal(strlen(tok), SESSION_TOKEN_LEN);
	for (i = 0; i < SESSION_TOKEN_LEN; i++)
		assert_non_null(strchr("0123456789abcdef", tok[i]));
}

static void
test_tokens_differ(void **state)
{
	char a[SESSION_TOKEN_LEN + 1], b[SESSION_TOKEN_LEN + 1];
	uint8_t ha[SESSION_HASH_LEN], hb[SESSION_HASH_LEN];

	(void)state;
	assert_int_equal(session_token_new(a, ha), 0);
	assert_int_equal(session_token_new(b, hb), 0);
	assert_string_not_equal(a, b);
	assert_memory_not_equal(ha, hb, SESSION_HASH_LEN);
}

static void
test_hash_golden(void **state)
{
	static const struct {
		const char	*tok;
		const char	*sha256;	/* printf %s tok | sha256sum */
	} golden[] = {
		{ "0123456789abcdef0123456789abcdef",
		  "3eb1bd439947eb762998e566ccc2e099"
		  "c791118b2f40579cc4f7da2b5061b7f9" },
		{ "ffffffffffffffffffffffffffffffff",
		  "352302489bc2fcf025cf00cda8308033"
		  "f97ac87712ce90b4d7cd72c58e4c3af9" },
	};
	uint8_t want[SESSION_HASH_LEN], got[SESSION_HASH_LEN];
	uint8_t again[SESSION_HASH_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		hex_decode(golden[i].sha256, want, sizeof(want));
		assert_int_equal(session_token_hash(golden[i].tok,
		    strlen(golden[i].tok), got), 0);
		assert_memory_equal(got, want, SESSION_HASH_LEN);
		/* Deterministic: the same token finds the same session. */
		assert_int_equal(session_token_hash(golden[i].tok,
		    strlen(golden[i].tok), again), 0);
		assert_memory_equal(got, again, SESSION_HASH_LEN);
	}
}

static void
test_hash_new_matches(void **state)
{
	char tok[SESSION_TOKEN_LEN + 1];
	uint8_t issued[SESSION_HASH_LEN], later[SESSION_HASH_LEN];

	(void)state;
	assert_int_equal(session_token_new(tok, issued), 0);
	assert_int_equal(session_token_hash(tok, strlen(tok), later), 0);
	assert_memory_equal(issued, later, SESSION_HASH_LEN);
}

static void
test_hash_rejects(void **state)
{
	static const char good[] = "0123456789abcdef0123456789abcdef";
	static const char *const bad[] = {
		"",
		"0123456789abcdef0123456789abcde",	/* 31 */
		"0123456789abcdef0123456789abcdef0",	/* 33 */
		"0123456789ABCDEF0123456789abcdef",	/* uppercase */
		"0123456789abcdef0123456789abcdeg",	/* not hex */
		"0123456789abcdef 123456789abcdef",	/* space */
		"0x23456789abcdef0123456789abcdef",
		"-123456789abcdef0123456789abcdef",
	};
	char nul[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(session_token_hash(bad[i], strlen(bad[i]),
		    hash), -1);
	/* A NUL inside, with the length still saying 32. */
	memcpy(nul, good, sizeof(nul));
	nul[10] = '\0';
	assert_int_equal(session_token_hash(nul, SESSION_TOKEN_LEN, hash), -1);
	/* A good prefix with a length that runs past it. */
	assert_int_equal(session_token_hash(good, 31, hash), -1);
	assert_int_equal(session_token_hash(good, 64, hash), -1);
	assert_int_equal(session_token_hash(NULL, SESSION_TOKEN_LEN, hash),
	    -1);
	/* And the good one still passes, so the rejections mean something. */
	assert_int_equal(session_token_hash(good, SESSION_TOKEN_LEN, hash), 0);
}

/* The shared store's key for a session: hex there and back, strictly. */
static void
test_hash_hex_round_trip(void **state)
{
	char tok[SESSION_TOKEN_LEN + 1], hex[2 * SESSION_HASH_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN], back[SESSION_HASH_LEN];
	size_t i;

	(void)state;
	assert_int_equal(session_token_new(tok, hash), 0);
	session_hash_hex(hash, hex);
	assert_int_equal(strlen(hex), 2 * SESSION_HASH_LEN);
	for (i = 0; i < strlen(hex); i++)
		assert_true(strchr("0123456789abcdef", hex[i]) != NULL);
	assert_int_equal(session_hash_unhex(hex, back), 0);
	assert_memory_equal(hash, back, SESSION_HASH_LEN);
	/* Uppercase, short, long and non-hex are refused. */
	hex[0] = 'A';
	assert_int_equal(session_hash_unhex(hex, back), -1);
	hex[0] = 'g';
	assert_int_equal(session_hash_unhex(hex, back), -1);
	hex[0] = '0';
	hex[63] = '\0';
	assert_int_equal(session_hash_unhex(hex, back), -1);
	assert_int_equal(session_hash_unhex("", back), -1);
	assert_int_equal(session_hash_unhex(
	    "00000000000000000000000000000000000000000000000000000000000000000",
	    back), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_shape),
		cmocka_unit_test(test_tokens_differ),
		cmocka_unit_test(test_hash_golden),
		cmocka_unit_test(test_hash_new_matches),
		cmocka_unit_test(test_hash_rejects),
		cmocka_unit_test(test_hash_hex_round_trip),
	};

	log_init(LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
