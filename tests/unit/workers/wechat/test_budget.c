/*
 * Unit tests for workers/wechat/budget.c: a context token's ten messages
 * (§7.2) counted from the larger of the worker's own count and the
 * hub's (outbound.spent), so that a new worker does not start from 0.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "wechat/wechat.h"

#define PEER	"o9cq80_FAKE@im.wechat"

static void
note(const char *peer, const char *ctx, int n)
{
	while (n-- > 0)
		budget_note(peer, ctx);
}

static void
test_own_count(void **state)
{
	(void)state;
	assert_true(budget_left("own@im.wechat", "T-OWN", 0));
	note("own@im.wechat", "T-OWN", 9);
	assert_true(budget_left("own@im.wechat", "T-OWN", 0));
	note("own@im.wechat", "T-OWN", 1);
	assert_false(budget_left("own@im.wechat", "T-OWN", 0));
	/* A new token starts afresh. */
	assert_true(budget_left("own@im.wechat", "T-OWN2", 0));
}

/* A new worker: the hub's count is where it starts. */
static void
test_hub_count_first(void **state)
{
	(void)state;
	assert_true(budget_left(PEER, "T1", 7));
	note(PEER, "T1", 2);
	assert_true(budget_left(PEER, "T1", 7));
	note(PEER, "T1", 1);
	assert_false(budget_left(PEER, "T1", 0));
	assert_false(budget_left(PEER, "T1", 8));
	/* Spent whole by the hub's count, on a token not seen here. */
	assert_false(budget_left("b@im.wechat", "T2", 10));
	assert_false(budget_left("c@im.wechat", "T3", 4000000000ULL));
	/* The next token: the hub's count of it, not the last one's. */
	assert_true(budget_left(PEER, "T4", 2));
}

/* The hub lags the rows not acked yet: ours holds. */
static void
test_hub_count_behind(void **state)
{
	(void)state;
	note("d@im.wechat", "T5", 8);
	assert_true(budget_left("d@im.wechat", "T5", 3));
	note("d@im.wechat", "T5", 2);
	assert_false(budget_left("d@im.wechat", "T5", 9));
}

static void
test_no_token(void **state)
{
	(void)state;
	assert_true(budget_left(PEER, "", 10));
	assert_true(budget_left(PEER, NULL, 10));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_count),
		cmocka_unit_test(test_hub_count_first),
		cmocka_unit_test(test_hub_count_behind),
		cmocka_unit_test(test_no_token),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
