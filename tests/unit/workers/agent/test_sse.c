/*
 * Unit tests for workers/agent/sse.c: events as the standard defines
 * them, every line ending, splits anywhere, and the bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/sse.h"

#define EV_MAX	16

struct got {
	size_t	 n;
	char	 ev[EV_MAX][256];
	int	 stop_at;	/* return nonzero on this event (1-based) */
};

static int
collect(const char *data, size_t len, void *arg)
{
	struct got *g = arg;

	assert_int_equal(data[len], '\0');
	assert_true(g->n < EV_MAX);
	snprintf(g->ev[g->n], sizeof(g->ev[0]), "%s", data);
	g->n++;
	return g->stop_at != 0 && (int)g->n == g->stop_at;
}

/* Feed text in pieces of step bytes; returns the last status. */
static enum sse_err
feed(const char *text, size_t step, struct got *g)
{
	struct sse s;
	enum sse_err e = SSE_OK;
	size_t off, n, len = strlen(text);

	sse_init(&s);
	for (off = 0; off < len && e == SSE_OK; off += n) {
		n = len - off < step ? len - off : step;
		e = sse_feed(&s, text + off, n, collect, g);
	}
	sse_clear(&s);
	return e;
}

static void
test_events(void **state)
{
	const char *text = "\xef\xbb\xbf: a comment\n"
	    "data: {\"a\":1}\n\n"
	    "event: ignored\ndata:two\ndata: lines\nid: 7\n\n"
	    "data\n\n"
	    "retry: 10\n\n"
	    "data: [DONE]\r\n\r\n"
	    "data: cr\r\rdata: unfinished";
	size_t step;

	(void)state;
	for (step = 1; step <= strlen(text); step++) {
		struct got g;

		memset(&g, 0, sizeof(g));
		assert_int_equal(feed(text, step, &g), SSE_OK);
		assert_int_equal(g.n, 5);
		assert_string_equal(g.ev[0], "{\"a\":1}");
		assert_string_equal(g.ev[1], "two\nlines");
		assert_string_equal(g.ev[2], "");
		assert_string_equal(g.ev[3], "[DONE]");
		assert_string_equal(g.ev[4], "cr");
	}
}

static void
test_pending_and_stop(void **state)
{
	struct got g;
	struct sse s;

	(void)state;
	memset(&g, 0, sizeof(g));
	sse_init(&s);
	assert_int_equal(sse_feed(&s, "data: x\n", 8, collect, &g), SSE_OK);
	assert_true(sse_pending(&s));
	assert_int_equal(sse_feed(&s, "\n", 1, collect, &g), SSE_OK);
	assert_false(sse_pending(&s));
	sse_clear(&s);

	memset(&g, 0, sizeof(g));
	g.stop_at = 1;
	assert_int_equal(feed("data: a\n\ndata: b\n\n", 64, &g), SSE_E_STOP);
	assert_int_equal(g.n, 1);
}

static void
test_bounds(void **state)
{
	struct got g;
	struct sse s;
	char *big;
	size_t i;

	(void)state;
	big = malloc(SSE_LINE_MAX + 2);
	assert_non_null(big);
	memset(big, 'x', SSE_LINE_MAX + 1);
	memset(&g, 0, sizeof(g));
	sse_init(&s);
	assert_int_equal(sse_feed(&s, big, SSE_LINE_MAX, collect, &g), SSE_OK);
	assert_int_equal(sse_feed(&s, big, 1, collect, &g), SSE_E_LINE);
	sse_clear(&s);

	/* Many short data lines add up past SSE_DATA_MAX. */
	memset(&g, 0, sizeof(g));
	sse_init(&s);
	memcpy(big, "data: ", 6);
	big[1023] = '\n';
	for (i = 0; i < SSE_DATA_MAX / 1000 + 2; i++)
		if (sse_feed(&s, big, 1024, collect, &g) != SSE_OK)
			break;
	assert_true(i <= SSE_DATA_MAX / 1000 + 1);
	assert_int_equal(g.n, 0);
	sse_clear(&s);
	free(big);
	assert_string_equal(sse_strerror(SSE_E_DATA), "event too large");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_pending_and_stop),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
