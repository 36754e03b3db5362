/*
 * Unit tests for the hash table of policy/ratelimit.c: it starts small,
 * doubles with the keys up to the power of two at max_keys, halves when
 * expiry empties it, and through every rehash each key keeps its own
 * bucket, even keys whose hashes all land in one slot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "ratelimit.h"

#define COLLIDE_N	64	/* keys sharing the low 12 bits of a hash */

static void	test_starts_small(void **);
static void	test_many_keys(void **);
static void	test_expire_after_growth(void **);
static void	test_max_bound(void **);
static void	test_collisions(void **);

static struct ratelimit *
mk(const char *spec, uint64_t burst, size_t max)
{
	struct rl_rate r;

	assert_int_equal(ratelimit_parse(spec, &r), 0);
	r.burst = burst;
	return ratelimit_new(&r, max);
}

static int
pow2(size_t n)
{
	return n != 0 && (n & (n - 1)) == 0;
}

/* Each key drained to zero: a third take waits, its own bucket only. */
static void
drain(struct ratelimit *rl, const char *key, uint64_t t)
{
	assert_int_equal(ratelimit_take(rl, key, t), 0);
	assert_int_equal(ratelimit_take(rl, key, t), 0);
	assert_int_not_equal(ratelimit_take(rl, key, t), 0);
}

static void
test_starts_small(void **state)
{
	struct ratelimit *rl = mk("1/s", 1, 4096);

	(void)state;
	assert_true(ratelimit_slots(rl) <= 16);
	assert_int_equal(ratelimit_take(rl, "k", 0), 0);
	assert_true(ratelimit_slots(rl) <= 16);
	ratelimit_free(rl);
}

/*
 * 3000 keys, each drained as it comes: the table doubles as they come,
 * stays within twice their number, and every key still finds its own
 * empty bucket after all the rehashing.
 */
static void
test_many_keys(void **state)
{
	struct ratelimit *rl = mk("1/hour", 2, 4096);
	char key[32];
	size_t i, slots, grew = 0, last = ratelimit_slots(rl);

	(void)state;
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "s:%zu", i);
		drain(rl, key, i);
		slots = ratelimit_slots(rl);
		assert_true(pow2(slots));
		/* O(1) on average: never more keys than slots. */
		assert_true(ratelimit_count(rl) <= slots);
		assert_true(slots <= 16 || slots < 2 * ratelimit_count(rl));
		grew += slots != last;
		last = slots;
	}
	assert_int_equal(ratelimit_count(rl), 3000);
	assert_int_equal(ratelimit_slots(rl), 4096);
	assert_int_equal(grew, 8);		/* 16 to 4096 */
	for (i = 0; i < 3000; i++) {
		snprintf(key, sizeof(key), "s:%zu", i);
		assert_int_not_equal(ratelimit_take(rl, key, 3000), 0);
	}
	assert_int_equal(ratelimit_count(rl), 3000);
	ratelimit_free(rl);
}

/*
 * Half the keys idle out: the table halves, the other half keep their
 * drained buckets through the rehash; then all go and it is small again.
 */
static void
test_expire_after_growth(void **state)
{
	struct ratelimit *rl = mk("1/s", 2, 4096);	/* refills in 2 s */
	char key[32];
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "a:%zu", i);
		drain(rl, key, i < 900 ? 0 : 1500);
	}
	assert_int_equal(ratelimit_slots(rl), 1024);
	/* The 900 taken at 0 are full again at 2000; the rest are not. */
	assert_int_equal(ratelimit_expire(rl, 2000), 900);
	assert_int_equal(ratelimit_count(rl), 100);
	assert_true(ratelimit_slots(rl) < 1024);
	assert_true(ratelimit_slots(rl) >= 100);
	for (i = 900; i < 1000; i++) {
		snprintf(key, sizeof(key), "a:%zu", i);
		assert_int_not_equal(ratelimit_take(rl, key, 2000), 0);
	}
	assert_int_equal(ratelimit_count(rl), 100);
	/* The expired come back full, and the table grows again. */
	for (i = 0; i < 900; i++) {
		snprintf(key, sizeof(key), "a:%zu", i);
		drain(rl, key, 2000);
	}
	assert_int_equal(ratelimit_count(rl), 1000);
	assert_int_equal(ratelimit_slots(rl), 1024);
	assert_int_equal(ratelimit_expire(rl, 10000), 1000);
	assert_int_equal(ratelimit_count(rl), 0);
	assert_int_equal(ratelimit_slots(rl), 16);
	drain(rl, "a:1", 10000);
	ratelimit_free(rl);
}

/*
 * Past max_keys the table stops growing and the bound holds as before:
 * the idlest bucket goes and its successor inherits its empty level.
 */
static void
test_max_bound(void **state)
{
	struct ratelimit *rl = mk("1/hour", 1, 100);
	char key[32];
	size_t i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "a:%zu", i);
		if (i < 100)
			assert_int_equal(ratelimit_take(rl, key, i), 0);
		else
			assert_int_not_equal(ratelimit_take(rl, key, i), 0);
		assert_true(ratelimit_count(rl) <= 100);
		assert_true(ratelimit_slots(rl) <= 128);
	}
	assert_int_equal(ratelimit_count(rl), 100);
	assert_int_equal(ratelimit_slots(rl), 128);
	/* The last hundred are there, and empty. */
	for (i = 900; i < 1000; i++) {
		snprintf(key, sizeof(key), "a:%zu", i);
		assert_int_not_equal(ratelimit_take(rl, key, 1000), 0);
	}
	assert_int_equal(ratelimit_count(rl), 100);
	ratelimit_free(rl);
}

/*
 * Keys whose hashes agree in their low 12 bits share one slot at every
 * size up to 4096: one long chain, rehashed whole each time, and still
 * one bucket per key, each found, drained and expired on its own.
 */
static void
test_collisions(void **state)
{
	struct ratelimit *rl = mk("1/s", 2, 4096);
	char keys[COLLIDE_N][32];
	uint64_t want;
	size_t i, n = 0;

	(void)state;
	snprintf(keys[0], sizeof(keys[0]), "c:0");
	want = ratelimit_hash(keys[0]) & 0xfff;
	for (i = 1; n + 1 < COLLIDE_N; i++) {
		snprintf(keys[n + 1], sizeof(keys[0]), "c:%zu", i);
		if ((ratelimit_hash(keys[n + 1]) & 0xfff) == want)
			n++;
	}
	for (i = 0; i < COLLIDE_N; i++)
		drain(rl, keys[i], i < COLLIDE_N / 2 ? 0 : 1500);
	assert_int_equal(ratelimit_count(rl), COLLIDE_N);
	assert_int_equal(ratelimit_slots(rl), COLLIDE_N);
	for (i = COLLIDE_N / 2; i < COLLIDE_N; i++)
		assert_int_not_equal(ratelimit_take(rl, keys[i], 1500), 0);
	assert_int_equal(ratelimit_count(rl), COLLIDE_N);
	/* The first half idle out from the middle of the chain. */
	assert_int_equal(ratelimit_expire(rl, 2000), COLLIDE_N / 2);
	assert_int_equal(ratelimit_count(rl), COLLIDE_N / 2);
	for (i = COLLIDE_N / 2; i < COLLIDE_N; i++)
		assert_int_equal(ratelimit_take(rl, keys[i], 2000), 500);
	for (i = 0; i < COLLIDE_N / 2; i++)
		drain(rl, keys[i], 2000);
	assert_int_equal(ratelimit_count(rl), COLLIDE_N);
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starts_small),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_expire_after_growth),
		cmocka_unit_test(test_max_bound),
		cmocka_unit_test(test_collisions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
