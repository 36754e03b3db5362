/*
 * Unit tests for supervisor/pace.c, the bookkeeping behind a streaming
 * channel's progress frames: the first goes at once, later ones wait
 * out the interval, many deltas in one wait make one frame, a text no
 * longer than the one shown makes none, and the cut keeps to both
 * limits and to whole UTF-8 characters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pace.h"

#define IVL	250

static void	test_first_at_once(void **);
static void	test_interval(void **);
static void	test_coalesce(void **);
static void	test_never_shorter(void **);
static void	test_clock_backwards(void **);
static void	test_cut(void **);

static void
test_first_at_once(void **state)
{
	struct pace p;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(pace_note(&p, 1000, IVL), 0);
	assert_true(p.pending);
	assert_int_equal(pace_take(&p, 5), 1);
	pace_sent(&p, 1000, 5);
	assert_false(p.pending);
	assert_int_equal(p.shown, 5);
}

static void
test_interval(void **state)
{
	struct pace p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pace_note(&p, 1000, IVL);
	pace_sent(&p, 1000, 5);
	assert_int_equal(pace_note(&p, 1100, IVL), 150);
	assert_int_equal(pace_note(&p, 1249, IVL), 1);
	assert_int_equal(pace_note(&p, 1250, IVL), 0);
	assert_int_equal(pace_note(&p, 5000, IVL), 0);
}

/* Deltas while a frame waits: one frame, with the newest length. */
static void
test_coalesce(void **state)
{
	struct pace p;
	int i, frames = 0;

	(void)state;
	memset(&p, 0, sizeof(p));
	pace_note(&p, 1000, IVL);
	pace_sent(&p, 1000, 10);
	for (i = 0; i < 20; i++)
		pace_note(&p, 1000 + (uint64_t)i, IVL);
	if (pace_take(&p, 30)) {
		pace_sent(&p, 1250, 30);
		frames++;
	}
	assert_int_equal(frames, 1);
	/* Fired again with nothing new: nothing goes. */
	assert_int_equal(pace_take(&p, 30), 0);
	assert_int_equal(p.shown, 30);
}

/* An agent that starts over, or text past the cap: no frame. */
static void
test_never_shorter(void **state)
{
	struct pace p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pace_note(&p, 1000, IVL);
	pace_sent(&p, 1000, 40);
	pace_note(&p, 2000, IVL);
	assert_int_equal(pace_take(&p, 12), 0);
	assert_false(p.pending);
	pace_note(&p, 2000, IVL);
	assert_int_equal(pace_take(&p, 40), 0);
	pace_note(&p, 2000, IVL);
	assert_int_equal(pace_take(&p, 41), 1);
	/* Nothing to show at all is never a frame. */
	memset(&p, 0, sizeof(p));
	pace_note(&p, 1000, IVL);
	assert_int_equal(pace_take(&p, 0), 0);
}

static void
test_clock_backwards(void **state)
{
	struct pace p;

	(void)state;
	memset(&p, 0, sizeof(p));
	pace_sent(&p, 5000, 1);
	assert_int_equal(pace_note(&p, 4000, IVL), 0);
}

static void
test_cut(void **state)
{
	/* "aé中😀b": 1 + 2 + 3 + 4 + 1 bytes, 5 code points. */
	const char *s = "a\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80" "b";
	size_t len = strlen(s);

	(void)state;
	assert_int_equal(len, 11);
	assert_int_equal(pace_cut(s, len, 100, 100), 11);
	assert_int_equal(pace_cut(s, len, 5, 11), 11);
	assert_int_equal(pace_cut(s, len, 4, 100), 10);
	assert_int_equal(pace_cut(s, len, 1, 100), 1);
	assert_int_equal(pace_cut(s, len, 0, 100), 0);
	/* Byte limits inside a character fall back to its start. */
	assert_int_equal(pace_cut(s, len, 100, 2), 1);
	assert_int_equal(pace_cut(s, len, 100, 3), 3);
	assert_int_equal(pace_cut(s, len, 100, 5), 3);
	assert_int_equal(pace_cut(s, len, 100, 6), 6);
	assert_int_equal(pace_cut(s, len, 100, 9), 6);
	assert_int_equal(pace_cut(s, len, 100, 10), 10);
	assert_int_equal(pace_cut(s, len, 100, 0), 0);
	assert_int_equal(pace_cut(NULL, 0, 10, 10), 0);
	assert_int_equal(pace_cut("abc", 3, 2, 100), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_at_once),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_coalesce),
		cmocka_unit_test(test_never_shorter),
		cmocka_unit_test(test_clock_backwards),
		cmocka_unit_test(test_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
