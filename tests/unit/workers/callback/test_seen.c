/*
 * Unit tests for workers/callback/seen.c, the replay table: a nonce
 * again with the same message is a retry and passes, with another
 * message it is a replay; other nonces are not confused with it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callback/callback.h"

#define SEEN(n, m) seen_nonce(n, "1700000000", m, strlen(m))

static void
test_replay(void **state)
{
	(void)state;
	assert_int_equal(SEEN("n0nce42", "<xml>a</xml>"), SEEN_OK);
	/* The platform's retry: same nonce, same message. */
	assert_int_equal(SEEN("n0nce42", "<xml>a</xml>"), SEEN_OK);
	/* A captured signature with another message. */
	assert_int_equal(SEEN("n0nce42", "<xml>b</xml>"), SEEN_REPLAY);
	/* Another nonce may carry any message, even the same one. */
	assert_int_equal(SEEN("n0nce43", "<xml>b</xml>"), SEEN_OK);
	assert_int_equal(SEEN("n0nce44", "<xml>a</xml>"), SEEN_OK);
	/* A nonce that is a prefix of a known one is another nonce. */
	assert_int_equal(SEEN("n0nce4", "<xml>z</xml>"), SEEN_OK);
	assert_int_equal(SEEN("n0nce42", "<xml>z</xml>"), SEEN_REPLAY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
