/*
 * Unit tests for policy/invite.c: binding invitation tokens are 22
 * base64url characters of 128 random bits, different each time, hashed
 * to the SHA-256 of their text, and anything else is refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "invite.h"
#include "log.h"

static void
test_token_shape(void **state)
{
	char tok[INVITE_TOKEN_LEN + 1];
	uint8_t hash[INVITE_HASH_LEN], again[INVITE_HASH_LEN];
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	int i;

	(void)state;
	for (i = 0; i < 64; i++) {
		assert_int_equal(invite_token_new(tok, hash), 0);
		assert_int_equal(strlen(tok), INVITE_TOKEN_LEN);
		assert_int_equal(strspn(tok, alpha), INVITE_TOKEN_LEN);
		assert_int_equal(invite_token_hash(tok, INVITE_TOKEN_LEN,
		    again), 0);
		assert_memory_equal(hash, again, INVITE_HASH_LEN);
	}
}

static void
test_tokens_differ(void **state)
{
	char a[INVITE_TOKEN_LEN + 1], b[INVITE_TOKEN_LEN + 1];
	uint8_t ha[INVITE_HASH_LEN], hb[INVITE_HASH_LEN];

	(void)state;
	assert_int_equal(invite_token_new(a, ha), 0);
	assert_int_equal(invite_token_new(b, hb), 0);
	assert_string_not_equal(a, b);
	assert_memory_not_equal(ha, hb, INVITE_HASH_LEN);
}

/* echo -n AAAAAAAAAAAAAAAAAAAAAA | sha256sum */
static void
test_hash_golden(void **state)
{
	static const uint8_t want[INVITE_HASH_LEN] = {
		0x8a, 0x5b, 0xdb, 0x4c, 0xc1, 0x51, 0x64, 0x12,
		0x6c, 0x6e, 0xf2, 0x66, 0x8d, 0xe9, 0xdd, 0x24,
		0x0d, 0x29, 0x9c, 0xe6, 0x39, 0x7a, 0x42, 0xc9,
		0x5a, 0x94, 0x11, 0xb9, 0x3d, 0x08, 0x0e, 0xd8,
	};
	uint8_t hash[INVITE_HASH_LEN];

	(void)state;
	assert_int_equal(invite_token_hash("AAAAAAAAAAAAAAAAAAAAAA",
	    INVITE_TOKEN_LEN, hash), 0);
	assert_memory_equal(hash, want, INVITE_HASH_LEN);
}

static void
test_hash_rejects(void **state)
{
	uint8_t hash[INVITE_HASH_LEN];
	const char *good = "mUaS5VfSCJVmMl9Gpbt-zg";

	(void)state;
	/* Too short, too long, outside the alphabet, padding, a NUL. */
	assert_int_equal(invite_token_hash(good, 21, hash), -1);
	assert_int_equal(invite_token_hash("mUaS5VfSCJVmMl9Gpbt-zgA", 23,
	    hash), -1);
	assert_int_equal(invite_token_hash("mUaS5VfSCJVmMl9Gpbt+zg", 22,
	    hash), -1);
	assert_int_equal(invite_token_hash("mUaS5VfSCJVmMl9Gpbt-z=", 22,
	    hash), -1);
	assert_int_equal(invite_token_hash("mUaS5VfSCJVmMl9G\0bt-zg", 22,
	    hash), -1);
	/* Bits past the 128: another spelling of the same bytes. */
	assert_int_equal(invite_token_hash("mUaS5VfSCJVmMl9Gpbt-zh", 22,
	    hash), -1);
	assert_int_equal(invite_token_hash(NULL, 22, hash), -1);
	assert_int_equal(invite_token_hash(good, INVITE_TOKEN_LEN, hash), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_shape),
		cmocka_unit_test(test_tokens_differ),
		cmocka_unit_test(test_hash_golden),
		cmocka_unit_test(test_hash_rejects),
	};

	log_init(LOG_LVL_WARN, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
