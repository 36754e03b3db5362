/*
 * Unit tests for common/xmalloc.c's secret wiping: freezero() and
 * xfree_secret() hand free() memory that is already zero, and NULL is a
 * no-op.  free() is wrapped (-Wl,--wrap=free in tests/unit/common.mk) so
 * the bytes are read while they are still ours, never after the free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xmalloc.h"

void	__real_free(void *);
void	__wrap_free(void *);

static void	test_freezero(void **);
static void	test_freezero_len(void **);
static void	test_xfree_secret(void **);
static void	test_null(void **);

#define SEEN_MAX	64

/* What the last free() of the watched pointer found there. */
static void		*watch;
static size_t		 watchlen;
static unsigned char	 seen[SEEN_MAX];
static unsigned		 nfree;

void
__wrap_free(void *p)
{
	if (p != NULL && p == watch) {
		memcpy(seen, p, watchlen);
		nfree++;
	}
	__real_free(p);
}

static void
watch_set(void *p, size_t len)
{
	assert_true(len <= SEEN_MAX);
	watch = p;
	watchlen = len;
	memset(seen, 0xa5, sizeof(seen));
	nfree = 0;
}

static void
assert_zero(size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		assert_int_equal(seen[i], 0);
}

static void
test_freezero(void **state)
{
	char *p;

	(void)state;
	p = xmalloc(32);
	memset(p, 'k', 32);
	watch_set(p, 32);
	freezero(p, 32);
	assert_int_equal(nfree, 1);
	assert_zero(0, 32);
}

/* Only len bytes are the caller's to wipe; the rest is left alone. */
static void
test_freezero_len(void **state)
{
	char *p;

	(void)state;
	p = xmalloc(32);
	memset(p, 'k', 32);
	watch_set(p, 32);
	freezero(p, 16);
	assert_int_equal(nfree, 1);
	assert_zero(0, 16);
	assert_int_equal(seen[16], 'k');
	assert_int_equal(seen[31], 'k');
}

/* A key or token: every byte and its NUL, whatever its length. */
static void
test_xfree_secret(void **state)
{
	char *s;

	(void)state;
	s = xstrdup("sk-0123456789abcdefghijklmnop");
	watch_set(s, strlen(s) + 1);
	xfree_secret(s);
	assert_int_equal(nfree, 1);
	assert_zero(0, watchlen);

	s = xstrdup("");
	watch_set(s, 1);
	xfree_secret(s);
	assert_int_equal(nfree, 1);
	assert_zero(0, 1);
}

static void
test_null(void **state)
{
	(void)state;
	watch_set(NULL, 0);
	freezero(NULL, 16);
	xfree_secret(NULL);
	assert_int_equal(nfree, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_freezero),
		cmocka_unit_test(test_freezero_len),
		cmocka_unit_test(test_xfree_secret),
		cmocka_unit_test(test_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
