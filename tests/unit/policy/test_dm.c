/*
 * Unit tests for policy/dm.c: the direct-message verdict of every
 * dm_policy, and pairing codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dm.h"
#include "log.h"

static void
test_decide(void **state)
{
	char *none[] = { NULL };
	char *one[] = { "a@im.wechat" };
	char *any[] = { "b@im.wechat", "*" };

	(void)state;
	assert_int_equal(dm_decide(DM_POLICY_OPEN, none, 0, "x", 0),
	    DM_ACCEPT);
	/* disabled wins over everything, approvals included. */
	assert_int_equal(dm_decide(DM_POLICY_DISABLED, any, 2, "x", 1),
	    DM_DENY);
	assert_int_equal(dm_decide(DM_POLICY_PAIRING, none, 0, "x", 0),
	    DM_PAIR);
	assert_int_equal(dm_decide(DM_POLICY_ALLOWLIST, none, 0, "x", 0),
	    DM_DENY);
	assert_int_equal(dm_decide(DM_POLICY_PAIRING, none, 0, "x", 1),
	    DM_ACCEPT);
	assert_int_equal(dm_decide(DM_POLICY_ALLOWLIST, none, 0, "x", 1),
	    DM_ACCEPT);
	assert_int_equal(dm_decide(DM_POLICY_ALLOWLIST, one, 1,
	    "a@im.wechat", 0), DM_ACCEPT);
	/* Exact ids only: no prefix or case games. */
	assert_int_equal(dm_decide(DM_POLICY_ALLOWLIST, one, 1,
	    "a@im.wechat2", 0), DM_DENY);
	assert_int_equal(dm_decide(DM_POLICY_ALLOWLIST, one, 1,
	    "A@im.wechat", 0), DM_DENY);
	assert_int_equal(dm_decide(DM_POLICY_PAIRING, one, 1, "a@im", 0),
	    DM_PAIR);
	assert_int_equal(dm_decide(DM_POLICY_ALLOWLIST, any, 2, "anyone", 0),
	    DM_ACCEPT);
}

static void
test_codes(void **state)
{
	char a[PAIRING_CODE_LEN + 1], b[PAIRING_CODE_LEN + 1], small[4];
	int i, j, used[256];

	(void)state;
	memset(used, 0, sizeof(used));
	assert_int_equal(pairing_code_new(small, sizeof(small)), -1);
	for (i = 0; i < 400; i++) {
		assert_int_equal(pairing_code_new(a, sizeof(a)), 0);
		assert_int_equal(strlen(a), PAIRING_CODE_LEN);
		assert_true(pairing_code_valid(a));
		for (j = 0; j < PAIRING_CODE_LEN; j++)
			used[(unsigned char)a[j]]++;
	}
	/* 3,200 draws reach every symbol (and only the alphabet's). */
	for (i = 0; i < 256; i++)
		assert_int_equal(used[i] > 0,
		    i != 0 && strchr(PAIRING_ALPHABET, i) != NULL);
	assert_int_equal(pairing_code_new(a, sizeof(a)), 0);
	assert_int_equal(pairing_code_new(b, sizeof(b)), 0);
	assert_string_not_equal(a, b);
	assert_false(pairing_code_valid("ABCD234"));
	assert_false(pairing_code_valid("ABCD23450"));
	assert_false(pairing_code_valid("ABCD2340"));	/* 0 is not used */
	assert_false(pairing_code_valid("abcd2345"));
	assert_true(pairing_code_valid("ABCD2345"));
}

/* Groups: the operator's list decides; no pairing in a group. */
static void
test_group_decide(void **state)
{
	char *list[] = { "chat-a", "chat-b" };
	char *star[] = { "*" };

	(void)state;
	assert_int_equal(dm_group_decide(GROUP_POLICY_DISABLED, star, 1,
	    "chat-a"), DM_DENY);
	assert_int_equal(dm_group_decide(GROUP_POLICY_OPEN, NULL, 0, "x"),
	    DM_ACCEPT);
	assert_int_equal(dm_group_decide(GROUP_POLICY_ALLOWLIST, list, 2,
	    "chat-b"), DM_ACCEPT);
	assert_int_equal(dm_group_decide(GROUP_POLICY_ALLOWLIST, list, 2,
	    "chat-c"), DM_DENY);
	assert_int_equal(dm_group_decide(GROUP_POLICY_ALLOWLIST, list, 2,
	    "chat"), DM_DENY);
	assert_int_equal(dm_group_decide(GROUP_POLICY_ALLOWLIST, star, 1,
	    "chat-c"), DM_ACCEPT);
	assert_int_equal(dm_group_decide(GROUP_POLICY_ALLOWLIST, NULL, 0,
	    "chat-a"), DM_DENY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_group_decide),
		cmocka_unit_test(test_codes),
	};

	log_init(0, 0);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
