/*
 * Unit tests for policy/addrkey.c: IPv4 keyed whole, IPv6 on its /64,
 * IPv4 inside IPv6 as IPv4, one key for every spelling of an address,
 * and text that is no address passed through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addrkey.h"
#include "ratelimit.h"

static void	test_v4(void **);
static void	test_v6_prefix(void **);
static void	test_v4_in_v6(void **);
static void	test_not_address(void **);
static void	test_fits(void **);

static void
key_is(const char *addr, const char *want)
{
	char key[RL_KEY_MAX];

	addrkey_format(key, sizeof(key), addr);
	assert_string_equal(key, want);
}

static void
test_v4(void **state)
{
	(void)state;
	key_is("192.0.2.1", "a:192.0.2.1");
	key_is("192.0.2.2", "a:192.0.2.2");
	key_is("0.0.0.0", "a:0.0.0.0");
	key_is("255.255.255.255", "a:255.255.255.255");
}

/* Every address of a /64 is one client; the next /64 is another. */
static void
test_v6_prefix(void **state)
{
	(void)state;
	key_is("2001:db8:1:2::1", "a:2001:db8:1:2::/64");
	key_is("2001:db8:1:2:ffff:ffff:ffff:ffff", "a:2001:db8:1:2::/64");
	key_is("2001:db8:1:2:a:b:c:d", "a:2001:db8:1:2::/64");
	key_is("2001:DB8:1:2::1", "a:2001:db8:1:2::/64");
	key_is("2001:0db8:0001:0002:0:0:0:1", "a:2001:db8:1:2::/64");
	key_is("2001:db8:1:3::1", "a:2001:db8:1:3::/64");
	key_is("2001:db8::1", "a:2001:db8::/64");
	key_is("::1", "a:::/64");
	key_is("fe80::1", "a:fe80::/64");
	/* Only the four low groups go, never the prefix. */
	key_is("2001:db8:ffff:ffff::", "a:2001:db8:ffff:ffff::/64");
}

static void
test_v4_in_v6(void **state)
{
	(void)state;
	key_is("::ffff:192.0.2.1", "a:192.0.2.1");
	key_is("::FFFF:192.0.2.1", "a:192.0.2.1");
	key_is("::ffff:c000:201", "a:192.0.2.1");
	key_is("64:ff9b::192.0.2.1", "a:192.0.2.1");
	key_is("64:ff9b::c000:202", "a:192.0.2.2");
	/* Near misses are plain IPv6. */
	key_is("::fffe:192.0.2.1", "a:::/64");
	key_is("64:ff9b:1::192.0.2.1", "a:64:ff9b:1::/64");
}

/* What admit.c cannot parse keys as its text, as it always did. */
static void
test_not_address(void **state)
{
	(void)state;
	key_is("", "a:");
	key_is("unix", "a:unix");
	key_is("192.0.2.1 ", "a:192.0.2.1 ");
	key_is("fe80::1%eth0", "a:fe80::1%eth0");
	key_is("192.0.2.256", "a:192.0.2.256");
}

/* The longest spelling fits a bucket key; a short buffer is cut. */
static void
test_fits(void **state)
{
	char key[8];

	(void)state;
	key_is("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	    "a:ffff:ffff:ffff:ffff::/64");
	addrkey_format(key, sizeof(key), "2001:db8:1:2::1");
	assert_string_equal(key, "a:2001:");
	assert_int_equal(strlen(key), sizeof(key) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4),
		cmocka_unit_test(test_v6_prefix),
		cmocka_unit_test(test_v4_in_v6),
		cmocka_unit_test(test_not_address),
		cmocka_unit_test(test_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
