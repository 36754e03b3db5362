/*
 * Unit tests for sandbox/creds_parse.c and creds_arg.c: the -u argument
 * a hub or worker parses before its uid drop.  Everything but four plain decimal
 * numbers is refused, and what the parent formats parses back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>

#include <cmocka.h>

#include "sandbox.h"

static void
test_parse(void **state)
{
	struct sandbox_conf sc;

	(void)state;
	assert_int_equal(sandbox_conf_parse("65534:65534:0:0", &sc), 0);
	assert_int_equal(sc.uid, 65534);
	assert_int_equal(sc.gid, 65534);
	assert_false(sc.strict);
	assert_false(sc.log_only);
	assert_int_equal(sandbox_conf_parse("1000:100:1:1", &sc), 0);
	assert_int_equal(sc.uid, 1000);
	assert_int_equal(sc.gid, 100);
	assert_true(sc.strict);
	assert_true(sc.log_only);
	/* The largest id that is not setresuid's "leave it". */
	assert_int_equal(sandbox_conf_parse("4294967294:0:0:0", &sc), 0);
	assert_int_equal(sc.uid, 4294967294U);
}

static void
test_refused(void **state)
{
	static const char *const bad[] = {
		"", "1", "1:2", "1:2:0", "1:2:0:0:", "1:2:0:0:0",
		":2:0:0", "1::0:0", "1:2:0:", "a:2:0:0", "1:2:0:0x",
		" 1:2:0:0", "+1:2:0:0", "-1:2:0:0", "1:-0:0:0",
		"1:2: 0:0", "1 :2:0:0",
		"4294967295:2:0:0",		/* (uid_t)-1 */
		"1:4294967295:0:0",
		"4294967296:2:0:0",
		"99999999999999999999999:2:0:0",
		"1:2:2:0", "1:2:0:2",		/* flags are 0 or 1 */
	};
	struct sandbox_conf sc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&sc, 0xa5, sizeof(sc));
		if (sandbox_conf_parse(bad[i], &sc) != -1)
			fail_msg("\"%s\" was taken", bad[i]);
		/* Nothing half-parsed is left for a caller to use. */
		assert_int_equal(sc.uid, 0);
		assert_int_equal(sc.gid, 0);
	}
}

static void
test_roundtrip(void **state)
{
	const struct sandbox_conf in[] = {
		{ 65534, 65534, 0, 0 }, { 1, 2, 1, 0 }, { 4294967294U, 7, 0, 1 },
		/* Any true flag is written as 1. */
		{ 10, 20, 5, -1 },
	};
	struct sandbox_conf out;
	char buf[SB_CONF_ARG_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		sandbox_conf_format(&in[i], buf, sizeof(buf));
		assert_true(strlen(buf) < sizeof(buf) - 1);
		assert_int_equal(sandbox_conf_parse(buf, &out), 0);
		assert_int_equal(out.uid, in[i].uid);
		assert_int_equal(out.gid, in[i].gid);
		assert_int_equal(out.strict, in[i].strict != 0);
		assert_int_equal(out.log_only, in[i].log_only != 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
