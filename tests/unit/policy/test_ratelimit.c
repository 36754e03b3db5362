/*
 * Unit tests for policy/ratelimit.c: the token bucket arithmetic, driven
 * by an injected clock (the now_ms argument), the rate syntax, idle
 * expiry, the bound on the number of buckets and what a new key gets
 * when that bound is reached.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ratelimit.h"

static void	test_parse(void **);
static void	test_burst_then_rate(void **);
static void	test_retry_after(void **);
static void	test_per_minute(void **);
static void	test_keys_apart(void **);
static void	test_expire(void **);
static void	test_bounded(void **);
static void	test_clock_back(void **);
static void	test_churn_mints_nothing(void **);
static void	test_expired_evicted_first(void **);
static void	test_churn_clock_back(void **);

static struct ratelimit *
mk(const char *spec, uint64_t burst, size_t max)
{
	struct rl_rate r;

	assert_int_equal(ratelimit_parse(spec, &r), 0);
	r.burst = burst;
	return ratelimit_new(&r, max);
}

static void
test_parse(void **state)
{
	struct rl_rate r;

	(void)state;
	assert_int_equal(ratelimit_parse("5/s", &r), 0);
	assert_int_equal(r.per, 5);
	assert_int_equal(r.period_ms, 1000);
	assert_int_equal(ratelimit_parse("30/min", &r), 0);
	assert_int_equal(r.period_ms, 60000);
	assert_int_equal(ratelimit_parse("1000/hour", &r), 0);
	assert_int_equal(r.period_ms, 3600000);
	assert_int_equal(ratelimit_parse("1000000/s", &r), 0);
	assert_int_equal(ratelimit_parse("1000001/s", &r), -1);
	assert_int_equal(ratelimit_parse("0/s", &r), -1);
	assert_int_equal(ratelimit_parse("/s", &r), -1);
	assert_int_equal(ratelimit_parse("5", &r), -1);
	assert_int_equal(ratelimit_parse("5/", &r), -1);
	assert_int_equal(ratelimit_parse("5/sec", &r), -1);
	assert_int_equal(ratelimit_parse("-5/s", &r), -1);
	assert_int_equal(ratelimit_parse("5/s ", &r), -1);
	assert_int_equal(ratelimit_parse("99999999999999999999/s", &r), -1);
}

/* A full bucket gives burst tokens at once, then one per 1/rate. */
static void
test_burst_then_rate(void **state)
{
	struct ratelimit *rl = mk("10/s", 3, 16);
	uint64_t t = 1000;

	(void)state;
	assert_int_equal(ratelimit_take(rl, "k", t), 0);
	assert_int_equal(ratelimit_take(rl, "k", t), 0);
	assert_int_equal(ratelimit_take(rl, "k", t), 0);
	assert_int_equal(ratelimit_take(rl, "k", t), 100);
	assert_int_equal(ratelimit_take(rl, "k", t + 99), 1);
	assert_int_equal(ratelimit_take(rl, "k", t + 100), 0);
	assert_int_equal(ratelimit_take(rl, "k", t + 100), 100);
	/* A long pause refills to burst, not beyond. */
	t += 100000;
	assert_int_equal(ratelimit_take(rl, "k", t), 0);
	assert_int_equal(ratelimit_take(rl, "k", t), 0);
	assert_int_equal(ratelimit_take(rl, "k", t), 0);
	assert_int_not_equal(ratelimit_take(rl, "k", t), 0);
	ratelimit_free(rl);
}

/* A denied take costs nothing: the wait it names is the real one. */
static void
test_retry_after(void **state)
{
	struct ratelimit *rl = mk("3/s", 1, 16);
	uint64_t wait;

	(void)state;
	assert_int_equal(ratelimit_take(rl, "k", 0), 0);
	wait = ratelimit_take(rl, "k", 0);
	assert_int_equal(wait, 334);		/* ceil(1000 / 3) */
	assert_int_equal(ratelimit_take(rl, "k", 10), 324);
	assert_int_equal(ratelimit_take(rl, "k", 333), 1);
	assert_int_equal(ratelimit_take(rl, "k", 334), 0);
	ratelimit_free(rl);
}

/* A look takes nothing, and says what a take would. */
static void
test_wait_takes_nothing(void **state)
{
	struct ratelimit *rl = mk("3/s", 2, 16);

	(void)state;
	assert_int_equal(ratelimit_wait(rl, "k", 0), 0);	/* unseen */
	assert_int_equal(ratelimit_take(rl, "k", 0), 0);
	assert_int_equal(ratelimit_wait(rl, "k", 0), 0);
	assert_int_equal(ratelimit_wait(rl, "k", 0), 0);
	assert_int_equal(ratelimit_take(rl, "k", 0), 0);
	assert_int_equal(ratelimit_wait(rl, "k", 0), 334);
	assert_int_equal(ratelimit_wait(rl, "k", 10), 324);
	assert_int_equal(ratelimit_take(rl, "k", 10), 324);
	assert_int_equal(ratelimit_wait(rl, "k", 334), 0);
	assert_int_equal(ratelimit_take(rl, "k", 334), 0);
	ratelimit_free(rl);
}

/* "180/min" refills like "3/s": integer units, no rounding drift. */
static void
test_per_minute(void **state)
{
	struct ratelimit *a = mk("180/min", 1, 16);
	struct ratelimit *b = mk("3/s", 1, 16);
	uint64_t t;
	int na = 0, nb = 0;

	(void)state;
	for (t = 0; t < 60000; t += 7) {
		na += ratelimit_take(a, "k", t) == 0;
		nb += ratelimit_take(b, "k", t) == 0;
	}
	assert_int_equal(na, nb);
	assert_in_range(na, 179, 181);
	ratelimit_free(a);
	ratelimit_free(b);
}

static void
test_keys_apart(void **state)
{
	struct ratelimit *rl = mk("1/hour", 1, 16);

	(void)state;
	assert_int_equal(ratelimit_take(rl, "s:1", 0), 0);
	assert_int_not_equal(ratelimit_take(rl, "s:1", 0), 0);
	assert_int_equal(ratelimit_take(rl, "s:2", 0), 0);
	assert_int_equal(ratelimit_count(rl), 2);
	ratelimit_free(rl);
}

/* Only buckets idle for a whole refill go, and they come back full. */
static void
test_expire(void **state)
{
	struct ratelimit *rl = mk("1/s", 5, 16);

	(void)state;
	assert_int_equal(ratelimit_take(rl, "old", 0), 0);
	assert_int_equal(ratelimit_take(rl, "new", 3000), 0);
	assert_int_equal(ratelimit_expire(rl, 4999), 0);
	assert_int_equal(ratelimit_expire(rl, 5000), 1);
	assert_int_equal(ratelimit_count(rl), 1);
	assert_int_equal(ratelimit_expire(rl, 8000), 1);
	assert_int_equal(ratelimit_count(rl), 0);
	ratelimit_free(rl);
}

/*
 * The table never holds more than max_keys; the idlest goes first, and
 * its successor gets what it had left, not a fresh burst.
 */
static void
test_bounded(void **state)
{
	struct ratelimit *rl = mk("1/hour", 1, 4);
	char key[16];
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "a:%d", i);
		if (i < 4)
			assert_int_equal(ratelimit_take(rl, key, (uint64_t)i),
			    0);
		else
			assert_int_not_equal(ratelimit_take(rl, key,
			    (uint64_t)i), 0);
		assert_true(ratelimit_count(rl) <= 4);
	}
	/* The last four are still there and still empty. */
	assert_int_not_equal(ratelimit_take(rl, "a:99", 100), 0);
	assert_int_not_equal(ratelimit_take(rl, "a:96", 100), 0);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void
test_clock_back(void **state)
{
	struct ratelimit *rl = mk("1/s", 1, 4);

	(void)state;
	assert_int_equal(ratelimit_take(rl, "k", 5000), 0);
	assert_int_not_equal(ratelimit_take(rl, "k", 1000), 0);
	assert_int_equal(ratelimit_take(rl, "k", 6000), 0);
	ratelimit_free(rl);
}

/*
 * One client cycling through 4 * max keys, one take per key per round,
 * every bucket live throughout: it gets no more than max buckets could
 * hold and refill, max * (burst + rate * elapsed).  Each key a fresh
 * burst would give it a token on every take.
 */
static void
churn(const char *spec, uint64_t burst, size_t max, uint64_t step,
    int rounds)
{
	struct ratelimit *rl = mk(spec, burst, max);
	struct rl_rate r;
	char key[32];
	uint64_t t = 1000, t0 = t, elapsed, bound, fill;
	size_t k, got = 0;
	int i;

	assert_int_equal(ratelimit_parse(spec, &r), 0);
	fill = (burst * r.period_ms + r.per - 1) / r.per;
	/* Each key comes back before its bucket could have idled out. */
	assert_true(4 * max * step < fill);
	for (i = 0; i < rounds; i++) {
		for (k = 0; k < 4 * max; k++, t += step) {
			snprintf(key, sizeof(key), "a:%zu", k);
			got += ratelimit_take(rl, key, t) == 0;
			assert_true(ratelimit_count(rl) <= max);
		}
	}
	elapsed = t - step - t0;
	bound = max * burst + max * r.per * elapsed / r.period_ms;
	/* Never more than bound; the tokens there are, the client gets. */
	assert_in_range(got, max * burst, bound);
	assert_true(got < (size_t)rounds * 4 * max);

	/* Once the pressure is gone, a new key is full again. */
	t += fill;
	for (k = 0; k < burst; k++)
		assert_int_equal(ratelimit_take(rl, "fresh", t), 0);
	assert_int_not_equal(ratelimit_take(rl, "fresh", t), 0);
	ratelimit_free(rl);
}

static void
test_churn_mints_nothing(void **state)
{
	(void)state;
	churn("1/s", 5, 4, 10, 10);		/* bound 20 + 4 * 1.59 */
	churn("10/s", 3, 4, 5, 20);		/* bound 12 + 40 * 1.595 */
	churn("180/min", 30, 16, 1, 50);	/* bound 480 + 16 * 3 * 3.199 */
}

/*
 * A new key takes an expired bucket's place before a live one's, and
 * then starts full; only displacing a live bucket passes its level on,
 * with the very wait the displaced key would have been told.
 */
static void
test_expired_evicted_first(void **state)
{
	struct ratelimit *rl = mk("1/s", 2, 4);	/* refills in 2000 ms */

	(void)state;
	assert_int_equal(ratelimit_take(rl, "old0", 0), 0);
	assert_int_equal(ratelimit_take(rl, "old0", 0), 0);
	assert_int_equal(ratelimit_take(rl, "old1", 0), 0);
	assert_int_equal(ratelimit_take(rl, "live0", 1500), 0);
	assert_int_equal(ratelimit_take(rl, "live0", 1500), 0);
	assert_int_equal(ratelimit_take(rl, "live1", 1500), 0);
	assert_int_equal(ratelimit_take(rl, "live1", 1500), 0);
	assert_int_equal(ratelimit_count(rl), 4);

	/* old0 and old1 idled out: the new keys get whole bursts. */
	assert_int_equal(ratelimit_take(rl, "new0", 2000), 0);
	assert_int_equal(ratelimit_take(rl, "new0", 2000), 0);
	assert_int_equal(ratelimit_take(rl, "new0", 2000), 1000);
	assert_int_equal(ratelimit_take(rl, "new1", 2000), 0);
	assert_int_equal(ratelimit_take(rl, "new1", 2000), 0);
	assert_int_equal(ratelimit_count(rl), 4);

	/* All live now; new2 displaces live0, half a token in. */
	assert_int_equal(ratelimit_take(rl, "new2", 2000), 500);
	assert_int_equal(ratelimit_count(rl), 4);
	/* live1 was kept, drained as it was. */
	assert_int_equal(ratelimit_take(rl, "live1", 2000), 500);
	/* live0 comes back in new0's place, with new0's nothing. */
	assert_int_equal(ratelimit_take(rl, "live0", 2000), 1000);
	assert_int_equal(ratelimit_take(rl, "new2", 2500), 0);
	ratelimit_free(rl);
}

/* A displaced bucket ahead of a clock that went back refills once. */
static void
test_churn_clock_back(void **state)
{
	struct ratelimit *rl = mk("1/s", 1, 1);

	(void)state;
	assert_int_equal(ratelimit_take(rl, "a", 5000), 0);
	assert_int_equal(ratelimit_take(rl, "b", 4000), 1000);
	assert_int_equal(ratelimit_take(rl, "c", 5500), 500);
	assert_int_equal(ratelimit_take(rl, "d", 6000), 0);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_burst_then_rate),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_wait_takes_nothing),
		cmocka_unit_test(test_per_minute),
		cmocka_unit_test(test_keys_apart),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_churn_mints_nothing),
		cmocka_unit_test(test_expired_evicted_first),
		cmocka_unit_test(test_churn_clock_back),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
