/*
 * Unit tests for supervisor/block.c, the cut of a streamed answer into
 * blocks (stream_mode block): only after a finished paragraph (the
 * next one begun), only past the least length, the last such place,
 * never inside a ``` fence, and the blank lines stay with the block
 * before them so the next starts with text; read a byte at a time (as
 * an answer streams), the cuts are the same as read whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "block.h"

static size_t
cut(const char *s, size_t min)
{
	return block_cut(s, strlen(s), min);
}

static void
test_unfinished(void **state)
{
	(void)state;
	assert_int_equal(cut("", 1), 0);
	assert_int_equal(cut("one paragraph, no break", 1), 0);
	assert_int_equal(cut("one line\nand the next", 1), 0);
	/* A blank line, but the next paragraph has not begun. */
	assert_int_equal(cut("first\n\n", 1), 0);
	assert_int_equal(cut("first\n\n\n  ", 1), 0);
}

static void
test_finished(void **state)
{
	(void)state;
	assert_int_equal(cut("first\n\nsecond", 1), 7);
	/* All blank lines and white space stay with the block before. */
	assert_int_equal(cut("first\n \n\n\tsecond", 1), 10);
	assert_int_equal(cut("first\r\n\r\nsecond", 1), 9);
	/* The last finished paragraph: fewer, longer messages. */
	assert_int_equal(cut("a\n\nb\n\nc", 1), 6);
}

static void
test_least(void **state)
{
	(void)state;
	/* "first\n\n" is 7 code points. */
	assert_int_equal(cut("first\n\nsecond", 7), 7);
	assert_int_equal(cut("first\n\nsecond", 8), 0);
	assert_int_equal(cut("first\n\nsecond\n\nthird", 8), 15);
	/* Code points, not bytes: 4 CJK characters are 12 bytes. */
	assert_int_equal(cut("\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5"
	    "\xbd\n\nx", 6), 14);
	assert_int_equal(cut("\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xbd\xa0\xe5\xa5"
	    "\xbd\n\nx", 7), 0);
}

static void
test_fence(void **state)
{
	(void)state;
	/* Blank lines in code are code. */
	assert_int_equal(cut("```\ncode\n\nmore\n", 1), 0);
	assert_int_equal(cut("intro\n\n```\ncode\n\nmore", 1), 7);
	/* After the fence closes, breaks count again. */
	assert_int_equal(cut("```\ncode\n\nmore\n```\n\nafter", 1), 20);
}

/* The text as it streams, one byte more each time. */
static size_t
bytewise(const char *s, size_t min)
{
	struct block_scan b;
	size_t i, len = strlen(s), got = 0;

	block_scan_init(&b);
	for (i = 0; i < len; i++)
		got = block_scan(&b, s + i, 1, min);
	assert_int_equal(b.pos, len);
	return got;
}

static void
test_streamed(void **state)
{
	static const char *const texts[] = {
		"first\n\nsecond",
		"a\n\nb\n\nc",
		"first\n \n\n\tsecond",
		"```\ncode\n\nmore\n```\n\nafter",
		"intro\n\n```\ncode\n\nmore",
		"x\n\n``\n\ny",
		"\xe4\xbd\xa0\xe5\xa5\xbd\n\n\xe4\xbd\xa0",
	};
	size_t i, min;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		for (min = 1; min < 12; min++)
			assert_int_equal(bytewise(texts[i], min),
			    cut(texts[i], min));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unfinished),
		cmocka_unit_test(test_finished),
		cmocka_unit_test(test_least),
		cmocka_unit_test(test_fence),
		cmocka_unit_test(test_streamed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
