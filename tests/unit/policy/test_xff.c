/*
 * Unit tests for policy/xff.c: X-Forwarded-For walked from the right
 * through trusted proxies; an untrusted peer ignores the header; junk,
 * empty and over-long items stop the walk at the last address believed;
 * IPv6; and the output cut to its buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "xff.h"

static void	test_trusted_chain(void **);
static void	test_untrusted_peer(void **);
static void	test_no_header(void **);
static void	test_junk(void **);
static void	test_spaces_empty(void **);
static void	test_only_commas(void **);
static void	test_ipv6(void **);
static void	test_over_long(void **);
static void	test_nul(void **);
static void	test_peer_cut(void **);
static void	test_out_cut(void **);
static void	test_trusted(void **);

static char *const proxies[] = {
	"127.0.0.1", "10.0.0.1", "10.0.0.2", "::1", "2001:db8:ffff::1"
};
#define NPROXIES	(sizeof(proxies) / sizeof(proxies[0]))

/* The client peer + fwd name, and how many header items were believed. */
static void
client_is(const char *peer, const char *fwd, const char *want, int hops)
{
	char out[XFF_ADDR_MAX + 1];

	assert_int_equal(xff_client(peer, strlen(peer), fwd, strlen(fwd),
	    proxies, NPROXIES, out, sizeof(out)), hops);
	assert_string_equal(out, want);
}

static void
test_trusted_chain(void **state)
{
	(void)state;
	client_is("127.0.0.1", "198.51.100.7", "198.51.100.7", 1);
	client_is("127.0.0.1", "198.51.100.7, 10.0.0.1", "198.51.100.7", 2);
	client_is("127.0.0.1", "198.51.100.7,10.0.0.2,10.0.0.1",
	    "198.51.100.7", 3);
	/* The first untrusted hop is the client; what it says is not. */
	client_is("127.0.0.1", "203.0.113.1, 198.51.100.7, 10.0.0.1",
	    "198.51.100.7", 2);
	/* Proxies all the way: the leftmost is the client. */
	client_is("127.0.0.1", "10.0.0.2, 10.0.0.1", "10.0.0.2", 2);
}

static void
test_untrusted_peer(void **state)
{
	(void)state;
	client_is("192.0.2.9", "198.51.100.7", "192.0.2.9", 0);
	client_is("192.0.2.9", "198.51.100.7, 127.0.0.1", "192.0.2.9", 0);
	client_is("2001:db8::9", "198.51.100.7", "2001:db8::9", 0);
	client_is("", "198.51.100.7", "", 0);
}

static void
test_no_header(void **state)
{
	char out[XFF_ADDR_MAX + 1];

	(void)state;
	client_is("127.0.0.1", "", "127.0.0.1", 0);
	/* An absent IPC string is {NULL, 0}. */
	assert_int_equal(xff_client("127.0.0.1", 9, NULL, 0, proxies,
	    NPROXIES, out, sizeof(out)), 0);
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(xff_client("127.0.0.1", 9, "198.51.100.7", 12,
	    NULL, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "127.0.0.1");
}

/* Junk stops the walk at the last address we could believe. */
static void
test_junk(void **state)
{
	(void)state;
	client_is("127.0.0.1", "198.51.100.7, junk", "127.0.0.1", 0);
	client_is("127.0.0.1", "junk, 10.0.0.1", "10.0.0.1", 1);
	client_is("127.0.0.1", "junk, 198.51.100.7", "198.51.100.7", 1);
	client_is("127.0.0.1", "198.51.100.7:8080", "127.0.0.1", 0);
	client_is("127.0.0.1", "unknown", "127.0.0.1", 0);
	client_is("127.0.0.1", "_hidden, 10.0.0.1", "10.0.0.1", 1);
	client_is("127.0.0.1", "[2001:db8::1]", "127.0.0.1", 0);
	client_is("127.0.0.1", "fe80::1%eth0", "127.0.0.1", 0);
	client_is("127.0.0.1", "198.51.100.7 1", "127.0.0.1", 0);
	client_is("127.0.0.1", "198.51.100.7\t", "127.0.0.1", 0);
	client_is("127.0.0.1", "\t198.51.100.7", "127.0.0.1", 0);
	client_is("127.0.0.1", "198.51.100.256", "127.0.0.1", 0);
	client_is("127.0.0.1", "198.51.100", "127.0.0.1", 0);
	client_is("127.0.0.1", "for=198.51.100.7", "127.0.0.1", 0);
}

/* Spaces around items and empty items are skipped, never believed. */
static void
test_spaces_empty(void **state)
{
	(void)state;
	client_is("127.0.0.1", "  198.51.100.7  ", "198.51.100.7", 1);
	client_is("127.0.0.1", "198.51.100.7 ,  ", "198.51.100.7", 1);
	client_is("127.0.0.1", ", , 198.51.100.7,, ,", "198.51.100.7", 1);
	client_is("127.0.0.1", "198.51.100.7,,10.0.0.1", "198.51.100.7", 2);
	client_is("127.0.0.1", "198.51.100.7 , , 10.0.0.1 ,",
	    "198.51.100.7", 2);
	client_is("127.0.0.1", "   ", "127.0.0.1", 0);
}

static void
test_only_commas(void **state)
{
	(void)state;
	client_is("127.0.0.1", ",", "127.0.0.1", 0);
	client_is("127.0.0.1", ",,,,,,,,", "127.0.0.1", 0);
	client_is("127.0.0.1", " , , ,", "127.0.0.1", 0);
	client_is("10.0.0.1", ",,10.0.0.2,,", "10.0.0.2", 1);
}

static void
test_ipv6(void **state)
{
	(void)state;
	client_is("::1", "2001:db8:1:2::1", "2001:db8:1:2::1", 1);
	client_is("127.0.0.1", "2001:db8:1:2::1", "2001:db8:1:2::1", 1);
	client_is("127.0.0.1", "::ffff:198.51.100.1", "::ffff:198.51.100.1",
	    1);
	client_is("127.0.0.1", "2001:db8::7, 2001:db8:ffff::1, ::1",
	    "2001:db8::7", 3);
	client_is("::1", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 1);
	/* Proxies are trusted as configured, spelled exactly so. */
	client_is("127.0.0.1", "2001:db8::7, 2001:DB8:FFFF::1",
	    "2001:DB8:FFFF::1", 1);
	client_is("0:0:0:0:0:0:0:1", "198.51.100.7", "0:0:0:0:0:0:0:1", 0);
}

/* No address is longer than XFF_ADDR_MAX: a longer item is junk. */
static void
test_over_long(void **state)
{
	char fwd[600];

	(void)state;
	memset(fwd, '1', XFF_ADDR_MAX + 1);
	strcpy(fwd + XFF_ADDR_MAX + 1, ", 10.0.0.1");
	client_is("127.0.0.1", fwd, "10.0.0.1", 1);
	memset(fwd, '0', 500);
	fwd[500] = '\0';
	client_is("127.0.0.1", fwd, "127.0.0.1", 0);
	/* A chain of proxies as long as the header: each hop believed. */
	fwd[0] = '\0';
	while (strlen(fwd) + 10 < sizeof(fwd))
		strcat(fwd, "10.0.0.1,");
	client_is("127.0.0.1", fwd, "10.0.0.1", (int)(strlen(fwd) / 9));
}

/* A NUL is in no address: the codec refuses it, and so does the walk. */
static void
test_nul(void **state)
{
	char out[XFF_ADDR_MAX + 1];

	(void)state;
	assert_int_equal(xff_client("127.0.0.1", 9, "198.51.100.7\0", 13,
	    proxies, NPROXIES, out, sizeof(out)), 0);
	assert_string_equal(out, "127.0.0.1");
	assert_int_equal(xff_client("127.0.0.1", 9, "10.0.0.1\0x, 10.0.0.2",
	    20, proxies, NPROXIES, out, sizeof(out)), 1);
	assert_string_equal(out, "10.0.0.2");
}

/* The peer is read for peerlen bytes, up to a NUL, and cut as the wire. */
static void
test_peer_cut(void **state)
{
	char out[XFF_ADDR_MAX + 1], peer[100];

	(void)state;
	assert_int_equal(xff_client("127.0.0.1xyz", 9, "198.51.100.7", 12,
	    proxies, NPROXIES, out, sizeof(out)), 1);
	assert_string_equal(out, "198.51.100.7");
	assert_int_equal(xff_client("127.0.0.1\0", 10, "198.51.100.7", 12,
	    proxies, NPROXIES, out, sizeof(out)), 1);
	assert_string_equal(out, "198.51.100.7");
	memset(peer, 'p', sizeof(peer));
	assert_int_equal(xff_client(peer, sizeof(peer), "198.51.100.7", 12,
	    proxies, NPROXIES, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), XFF_ADDR_MAX);
	assert_memory_equal(out, peer, XFF_ADDR_MAX);
}

/* out is cut as snprintf cuts, and the cut is reported. */
static void
test_out_cut(void **state)
{
	char out[16];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_int_equal(xff_client("127.0.0.1", 9, "198.51.100.7", 12,
	    proxies, NPROXIES, out, 8), -1);
	assert_string_equal(out, "198.51.");
	assert_int_equal(out[8], 'x');
	assert_int_equal(xff_client("127.0.0.1", 9, "198.51.100.7", 12,
	    proxies, NPROXIES, out, 12), -1);
	assert_string_equal(out, "198.51.100.");
	assert_int_equal(xff_client("127.0.0.1", 9, "198.51.100.7", 12,
	    proxies, NPROXIES, out, 13), 1);
	assert_string_equal(out, "198.51.100.7");
	assert_int_equal(xff_client("127.0.0.1", 9, "", 0,
	    proxies, NPROXIES, out, 1), -1);
	assert_string_equal(out, "");
	/* No room at all: nothing is written. */
	memset(out, 'x', sizeof(out));
	assert_int_equal(xff_client("127.0.0.1", 9, "", 0,
	    proxies, NPROXIES, out, 0), -1);
	assert_int_equal(out[0], 'x');
}

static void
test_trusted(void **state)
{
	char *const holes[] = { NULL, "10.0.0.1" };

	(void)state;
	assert_int_equal(xff_trusted("127.0.0.1", proxies, NPROXIES), 1);
	assert_int_equal(xff_trusted("::1", proxies, NPROXIES), 1);
	assert_int_equal(xff_trusted("127.0.0.2", proxies, NPROXIES), 0);
	assert_int_equal(xff_trusted("127.0.0.1 ", proxies, NPROXIES), 0);
	assert_int_equal(xff_trusted("", proxies, NPROXIES), 0);
	assert_int_equal(xff_trusted("127.0.0.1", NULL, 0), 0);
	assert_int_equal(xff_trusted("10.0.0.1", holes, 2), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trusted_chain),
		cmocka_unit_test(test_untrusted_peer),
		cmocka_unit_test(test_no_header),
		cmocka_unit_test(test_junk),
		cmocka_unit_test(test_spaces_empty),
		cmocka_unit_test(test_only_commas),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_over_long),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_peer_cut),
		cmocka_unit_test(test_out_cut),
		cmocka_unit_test(test_trusted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
