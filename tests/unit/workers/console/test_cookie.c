/*
 * Unit tests for workers/console/cookie.c: the console's cookie found
 * among others, white space and quotes, the first of two, names that
 * only start alike, values that do not fit or hold a forbidden byte,
 * and bytes that are not a pair at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "console/cookie.h"

#define C	"wxgate_console"

static int
get(const char *h, char *out, size_t outsz)
{
	return cookie_get(h, strlen(h), C, out, outsz);
}

static void
test_found(void **state)
{
	char v[40];

	(void)state;
	assert_int_equal(get(C "=abc", v, sizeof(v)), 3);
	assert_string_equal(v, "abc");
	assert_int_equal(get("a=1; " C "=abc; b=2", v, sizeof(v)), 3);
	assert_string_equal(v, "abc");
	assert_int_equal(get(" a=1 ;\t" C " = abc ;", v, sizeof(v)), 3);
	assert_string_equal(v, "abc");
	assert_int_equal(get(C "=\"abc\"", v, sizeof(v)), 3);
	assert_string_equal(v, "abc");
	assert_int_equal(get(C "=", v, sizeof(v)), 0);
	assert_string_equal(v, "");
	/* The first of two wins (the browser sends the longest path first). */
	assert_int_equal(get(C "=one; " C "=two", v, sizeof(v)), 3);
	assert_string_equal(v, "one");
}

static void
test_not_found(void **state)
{
	char v[40];

	(void)state;
	assert_int_equal(get("", v, sizeof(v)), -1);
	assert_string_equal(v, "");
	assert_int_equal(get("a=1; b=2", v, sizeof(v)), -1);
	assert_int_equal(get(C "x=abc; x" C "=abc", v, sizeof(v)), -1);
	assert_int_equal(get("WXGATE_CONSOLE=abc", v, sizeof(v)), -1);
	assert_int_equal(get(C, v, sizeof(v)), -1);
	assert_int_equal(get(";;;", v, sizeof(v)), -1);
	/* Inside another cookie's value is not a cookie. */
	assert_int_equal(get("a=" C "=x", v, sizeof(v)), -1);
}

static void
test_refused(void **state)
{
	char v[4];

	(void)state;
	/* Does not fit: 4 bytes hold 3 and the NUL. */
	assert_int_equal(get(C "=abcd", v, sizeof(v)), -1);
	assert_int_equal(get(C "=abc", v, sizeof(v)), 3);
	assert_int_equal(get(C "=a,b", v, sizeof(v)), -1);
	assert_int_equal(get(C "=a\\b", v, sizeof(v)), -1);
	assert_int_equal(get(C "=a b", v, sizeof(v)), -1);
	assert_int_equal(get(C "=\"a", v, sizeof(v)), -1);
	assert_int_equal(cookie_get(C "=a\0b", sizeof(C) + 3, C, v,
	    sizeof(v)), -1);
	assert_int_equal(cookie_get(C "=ab", sizeof(C) + 2, C, v, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_found),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
