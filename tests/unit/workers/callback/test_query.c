/*
 * Unit tests for workers/callback/query.c: percent-decoding only, so
 * the '+' of a base64 echostr survives (shared/protocols/wecom.md C.5),
 * and every refusal: absent, repeated, a bad escape, a NUL, no room.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "callback/query.h"

#define GET(q, name, out) query_get(q, strlen(q), name, out, sizeof(out))

static void
test_values(void **state)
{
	char v[32];

	(void)state;
	assert_int_equal(GET("a=1&nonce=n0nce42&b=2", "nonce", v), 7);
	assert_string_equal(v, "n0nce42");
	/* '+' is a plus; %2B is one too; %20 is the only space. */
	assert_int_equal(GET("echostr=a+b%2Bc%2fd%3D%20", "echostr", v), 9);
	assert_string_equal(v, "a+b+c/d= ");
	/* The first and the last parameter; an empty value; no '='. */
	assert_int_equal(GET("timestamp=17&x=", "timestamp", v), 2);
	assert_string_equal(v, "17");
	assert_int_equal(GET("timestamp=17&x=", "x", v), 0);
	assert_string_equal(v, "");
	assert_int_equal(GET("x&y=1", "x", v), 0);
	/* A name is matched whole: nonce2 and xnonce are not nonce. */
	assert_int_equal(GET("nonce2=a&xnonce=b&nonce=c", "nonce", v), 1);
	assert_string_equal(v, "c");
}

static void
test_refusals(void **state)
{
	char v[8], big[QUERY_MAX + 8];

	(void)state;
	assert_int_equal(GET("a=1&b=2", "nonce", v), -1);
	assert_int_equal(GET("", "nonce", v), -1);
	/* Twice: which one was signed is not ours to guess. */
	assert_int_equal(GET("nonce=a&nonce=a", "nonce", v), -1);
	/* Bad escapes, and an escaped NUL. */
	assert_int_equal(GET("nonce=%zz", "nonce", v), -1);
	assert_int_equal(GET("nonce=%4", "nonce", v), -1);
	assert_int_equal(GET("nonce=abc%", "nonce", v), -1);
	assert_int_equal(GET("nonce=a%00b", "nonce", v), -1);
	/* 8 bytes do not fit in 8 with the NUL; 7 do. */
	assert_int_equal(GET("nonce=12345678", "nonce", v), -1);
	assert_int_equal(GET("nonce=1234567", "nonce", v), 7);
	assert_int_equal(query_get("nonce=1", 7, "", v, sizeof(v)), -1);
	assert_int_equal(query_get("nonce=1", 7, "nonce", v, 0), -1);
	/* A query past QUERY_MAX is not looked at. */
	memset(big, 'x', sizeof(big));
	memcpy(big, "nonce=1&", 8);
	assert_int_equal(query_get(big, QUERY_MAX + 1, "nonce", v,
	    sizeof(v)), -1);
	assert_int_equal(query_get(big, QUERY_MAX, "nonce", v, sizeof(v)), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
