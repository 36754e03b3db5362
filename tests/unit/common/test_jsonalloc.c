/*
 * Unit tests for common/jsonalloc.c: with its hooks installed, nothing
 * jansson frees still holds a secret, header included, and
 * jsonalloc_dumps() hands back plain malloc() memory.  free() is wrapped
 * (-Wl,--wrap=free in tests/unit/common.mk) and each block it gets is
 * searched for the secret before it goes.  The same steps with jansson
 * on plain malloc()/free() show the search finds what is left.
 */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "xmalloc.h"

void	__real_free(void *);
void	__wrap_free(void *);

static void	test_string(void **);
static void	test_parse(void **);
static void	test_dumps(void **);
static void	test_align(void **);

#define SECRET		"sk-wxgate-9f2c41e07b5d"
#define SEEN_MAX	128

/* Blocks freed that held the secret, and all blocks freed. */
static unsigned		 hits;
static unsigned		 nfree;
/* The block around watch: its bytes up to watch + watchlen. */
static const char	*watch;
static size_t		 watchlen;
static unsigned char	 seen[SEEN_MAX];
static size_t		 seenlen;

void
__wrap_free(void *p)
{
	size_t n;

	if (p != NULL) {
		nfree++;
		n = malloc_usable_size(p);
		if (memmem(p, n, SECRET, strlen(SECRET)) != NULL)
			hits++;
		if (watch != NULL && watch >= (char *)p &&
		    watch < (char *)p + n) {
			seenlen = watch + watchlen - (char *)p;
			if (seenlen <= SEEN_MAX)
				memcpy(seen, p, seenlen);
		}
	}
	__real_free(p);
}

static void
reset(void)
{
	hits = nfree = 0;
	watch = NULL;
	watchlen = seenlen = 0;
	memset(seen, 0xa5, sizeof(seen));
}

/* jansson as it comes: free() is the wrapped one, so we see its frees. */
static void
plain(void)
{
	json_set_alloc_funcs(malloc, free);
	reset();
}

static void
wiping(void)
{
	jsonalloc_init();
	reset();
}

/* The string's block, header to NUL, was zero when it was freed. */
static void
test_string(void **state)
{
	json_t *j;
	size_t i;

	(void)state;
	plain();
	j = json_string(SECRET);
	json_decref(j);
	assert_true(hits > 0);

	wiping();
	j = json_string(SECRET);
	watch = json_string_value(j);
	watchlen = strlen(SECRET) + 1;
	json_decref(j);
	assert_int_equal(hits, 0);
	assert_true(seenlen > watchlen);
	assert_true(seenlen <= SEEN_MAX);
	for (i = 0; i < seenlen; i++)
		assert_int_equal(seen[i], 0);
}

/* The parser's buffers, object keys and values, the dump's copies. */
static void
test_parse(void **state)
{
	const char *text = "{\"api_key\": \"" SECRET "\", \"" SECRET
	    "\": [\"" SECRET SECRET SECRET "\"]}";
	json_malloc_t m;
	json_free_t f;
	json_t *j;
	char *s;

	(void)state;
	plain();
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	s = json_dumps(j, JSON_SORT_KEYS);
	free(s);
	json_decref(j);
	assert_true(hits > 0);

	wiping();
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	json_get_alloc_funcs(&m, &f);
	s = json_dumps(j, JSON_SORT_KEYS);
	assert_non_null(s);
	f(s);
	json_object_del(j, "api_key");
	json_decref(j);
	assert_true(nfree > 5);
	assert_int_equal(hits, 0);
}

/* free() takes it, xfree_secret() wipes it, the text is json_dumps'. */
static void
test_dumps(void **state)
{
	json_malloc_t m;
	json_free_t f;
	json_t *j;
	char *s, *want;

	(void)state;
	wiping();
	j = json_pack("{s:s, s:[i, s]}", "token", SECRET, "b", 1, "x");
	assert_non_null(j);
	s = jsonalloc_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_non_null(s);
	want = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, want);
	json_get_alloc_funcs(&m, &f);
	f(want);
	assert_string_equal(s,
	    "{\"b\":[1,\"x\"],\"token\":\"" SECRET "\"}");
	xfree_secret(s);
	json_decref(j);
	assert_int_equal(hits, 0);

	s = jsonalloc_dumps(j = json_string("x"), 0);
	assert_null(s);
	s = jsonalloc_dumps(j, JSON_ENCODE_ANY);
	assert_string_equal(s, "\"x\"");
	free(s);
	json_decref(j);
	assert_null(jsonalloc_dumps(NULL, JSON_ENCODE_ANY));
}

/* Blocks keep malloc()'s alignment; a size past SIZE_MAX is refused. */
static void
test_align(void **state)
{
	json_malloc_t m;
	json_free_t f;
	void *p;
	size_t n;

	(void)state;
	wiping();
	json_get_alloc_funcs(&m, &f);
	for (n = 1; n <= 64; n *= 2) {
		assert_non_null(p = m(n));
		assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
		memset(p, 'k', n);
		f(p);
	}
	assert_null(m(SIZE_MAX));
	assert_null(m(SIZE_MAX - 8));
	f(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_dumps),
		cmocka_unit_test(test_align),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
