/*
 * Unit tests for supervisor/logring.c, the hub's ring of its latest
 * log lines: the line bound and the byte bound each drop the oldest, a
 * worker's line is filed under its name with its own text and only the
 * next line is, and a walk goes newest first down to since.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "log.h"
#include "logring.h"

/* logring.c's bounds, as the tests see them. */
#define LINES	1000
#define BYTES	(256 * 1024)

static void	test_line_bound(void **);
static void	test_byte_bound(void **);
static void	test_worker_line(void **);
static void	test_walk_since(void **);

static int
count(const struct logring_line *l, void *arg)
{
	(void)l;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
held(void)
{
	size_t n = 0;

	logring_walk(0, count, &n);
	return n;
}

static void
test_line_bound(void **state)
{
	uint64_t base = logring_last();
	int i;

	(void)state;
	logring_free();
	for (i = 0; i < LINES + 500; i++)
		logring_add(LOG_LVL_INFO, "a short line");
	assert_int_equal(held(), LINES);
	assert_int_equal(logring_last(), base + LINES + 500);
	assert_int_equal(logring_first(), base + 501);
}

static void
test_byte_bound(void **state)
{
	char line[1001];
	size_t per = sizeof(line) - 1 + strlen("hub");
	uint64_t base;
	int i;

	(void)state;
	logring_free();
	base = logring_last();
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (i = 0; i < 400; i++)
		logring_add(LOG_LVL_DEBUG, line);
	assert_int_equal(held(), BYTES / per);
	assert_int_equal(logring_last(), base + 400);
	assert_int_equal(logring_first(), base + 400 - BYTES / per + 1);
}

static int
newest(const struct logring_line *l, void *arg)
{
	*(const struct logring_line **)arg = l;
	return 1;
}

static void
test_worker_line(void **state)
{
	const struct logring_line *l = NULL;

	(void)state;
	logring_free();
	logring_worker("webchat.0", "hello there", 5);
	logring_add(LOG_LVL_WARN, "worker webchat.0 (pid 9): hello");
	logring_walk(0, newest, &l);
	assert_non_null(l);
	assert_string_equal(l->worker, "webchat.0");
	assert_string_equal(l->text, "hello");
	assert_int_equal(l->level, LOG_LVL_WARN);
	logring_add(LOG_LVL_INFO, "the hub's own");
	logring_walk(0, newest, &l);
	assert_string_equal(l->worker, "hub");
	assert_string_equal(l->text, "the hub's own");
}

static void
test_walk_since(void **state)
{
	uint64_t base;
	size_t n = 0;
	int i;

	(void)state;
	logring_free();
	assert_int_equal(logring_first(), 0);
	base = logring_last();
	for (i = 0; i < 10; i++)
		logring_add(LOG_LVL_INFO, "line");
	logring_walk(base + 7, count, &n);
	assert_int_equal(n, 3);
	logring_free();
	assert_int_equal(held(), 0);
	/* Seqs go on: a page's since stays meaningful. */
	assert_int_equal(logring_last(), base + 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_bound),
		cmocka_unit_test(test_byte_bound),
		cmocka_unit_test(test_worker_line),
		cmocka_unit_test(test_walk_since),
	};
	int rv;

	rv = cmocka_run_group_tests(tests, NULL, NULL);
	logring_free();
	return rv;
}
