/*
 * Unit tests for workers/agent/relay_frame.c: each frame a relay may
 * send, the strictness (unknown, missing and repeated keys, wrong types,
 * bounds), and the frames wxgate builds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "agent/relay_frame.h"
#include "codec.h"
#include "xmalloc.h"

static enum relay_ferr
parse(const char *s, struct relay_frame *f)
{
	return relay_frame_parse(s, strlen(s), f);
}

static void
test_good_frames(void **state)
{
	struct relay_frame f;

	(void)state;
	assert_int_equal(parse("{\"type\":\"hello\",\"token\":\"wxr_abc\","
	    "\"version\":1}", &f), RF_OK);
	assert_int_equal(f.type, RF_HELLO);
	assert_string_equal(f.token, "wxr_abc");
	assert_int_equal(f.version, 1);
	relay_frame_clear(&f);

	assert_int_equal(parse("{\"id\":7,\"type\":\"delta\","
	    "\"text\":\"h\\u00e9\\n\"}", &f), RF_OK);
	assert_int_equal(f.type, RF_DELTA);
	assert_int_equal(f.id, 7);
	assert_int_equal(f.text_len, 4);
	assert_string_equal(f.text, "h\xc3\xa9\n");
	relay_frame_clear(&f);

	assert_int_equal(parse("{\"type\":\"done\",\"id\":9}", &f), RF_OK);
	assert_int_equal(f.type, RF_DONE);
	assert_int_equal(f.id, 9);
	relay_frame_clear(&f);

	assert_int_equal(parse("{\"type\":\"error\",\"id\":3,"
	    "\"code\":\"rate_limited\"}", &f), RF_OK);
	assert_string_equal(f.code, "rate_limited");
	assert_string_equal(f.message, "");
	relay_frame_clear(&f);

	assert_int_equal(parse("{\"type\":\"ping\"}", &f), RF_OK);
	assert_int_equal(f.type, RF_PING);
	relay_frame_clear(&f);
}

static void
test_strict(void **state)
{
	static const struct {
		const char	*in;
		enum relay_ferr	 want;
	} bad[] = {
		{ "", RF_E_JSON },
		{ "[]", RF_E_JSON },
		{ "{\"type\":\"done\",\"id\":1} x", RF_E_JSON },
		{ "{\"type\":\"nope\"}", RF_E_TYPE },
		{ "{\"type\":5}", RF_E_TYPE },
		{ "{\"id\":1}", RF_E_TYPE },
		{ "{\"type\":\"done\"}", RF_E_KEY },
		{ "{\"type\":\"done\",\"id\":1,\"x\":0}", RF_E_KEY },
		{ "{\"type\":\"done\",\"id\":1,\"id\":2}", RF_E_JSON },
		{ "{\"type\":\"done\",\"id\":-1}", RF_E_VALUE },
		{ "{\"type\":\"done\",\"id\":1.5}", RF_E_VALUE },
		{ "{\"type\":\"done\",\"id\":\"1\"}", RF_E_VALUE },
		{ "{\"type\":\"done\",\"id\":9007199254740992}", RF_E_VALUE },
		{ "{\"type\":\"delta\",\"id\":1,\"text\":5}", RF_E_VALUE },
		/* jansson refuses \u0000 itself: no NUL reaches the hub. */
		{ "{\"type\":\"delta\",\"id\":1,\"text\":\"a\\u0000b\"}",
		    RF_E_JSON },
		{ "{\"type\":\"error\",\"id\":1,\"code\":\"\"}", RF_E_VALUE },
		{ "{\"type\":\"hello\",\"token\":\"t\"}", RF_E_KEY },
		{ "{\"type\":\"hello\",\"token\":\"t\",\"version\":1,"
		    "\"extra\":{}}", RF_E_KEY },
	};
	struct relay_frame f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].in, &f), bad[i].want);
		assert_null(f.text);
		relay_frame_clear(&f);
	}
}

static void
test_bounds(void **state)
{
	struct relay_frame f;
	char *s;
	size_t n;

	(void)state;
	/* A token one byte over IPC_TOKEN_MAX. */
	n = IPC_TOKEN_MAX + 1;
	s = xmalloc(n + 64);
	snprintf(s, n + 64, "{\"type\":\"hello\",\"version\":1,"
	    "\"token\":\"%0*d\"}", (int)n, 0);
	assert_int_equal(parse(s, &f), RF_E_SIZE);
	free(s);
	/* A delta of RELAY_DELTA_MAX bytes fits; one more does not. */
	for (n = RELAY_DELTA_MAX; n <= RELAY_DELTA_MAX + 1; n++) {
		s = xmalloc(n + 64);
		snprintf(s, n + 64, "{\"type\":\"delta\",\"id\":1,\"text\":\"");
		memset(s + strlen(s), 'a', n);
		strcpy(s + strlen("{\"type\":\"delta\",\"id\":1,\"text\":\"") +
		    n, "\"}");
		assert_int_equal(parse(s, &f), n == RELAY_DELTA_MAX ? RF_OK :
		    RF_E_SIZE);
		relay_frame_clear(&f);
		free(s);
	}
	/* The whole frame is bounded before it is parsed. */
	s = xcalloc(1, RELAY_FRAME_MAX + 2);
	memset(s, ' ', RELAY_FRAME_MAX + 1);
	assert_int_equal(relay_frame_parse(s, RELAY_FRAME_MAX + 1, &f),
	    RF_E_SIZE);
	free(s);
}

static void
test_built_frames(void **state)
{
	struct ipc_body_agent_request b;
	json_t *o;
	char *s;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.turns.n = 2;
	b.turns.v[0].role = IPC_S("system");
	b.turns.v[0].text = IPC_S("be \"terse\"");
	b.turns.v[1].role = IPC_S("user");
	b.turns.v[1].text = IPC_S("hi");
	b.model = IPC_S("m-1");
	s = relay_frame_request(42, &b);
	assert_non_null(s);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "type")),
	    "request");
	assert_int_equal(json_integer_value(json_object_get(o, "id")), 42);
	assert_string_equal(json_string_value(json_object_get(o, "model")),
	    "m-1");
	assert_int_equal(json_array_size(json_object_get(o, "messages")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "messages"), 0), "content")), "be \"terse\"");
	/* Not a sealed thread's: no e2e object. */
	assert_null(json_object_get(o, "e2e"));
	json_decref(o);
	free(s);
	/* A sealed thread's: the hub's context, as an object. */
	b.e2e = IPC_S("{\"owner\":\"op\",\"thread\":\"7\",\"key\":null,"
	    "\"seq\":[0,1]}");
	s = relay_frame_request(43, &b);
	assert_non_null(s);
	o = json_loads(s, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    o, "e2e"), "thread")), "7");
	assert_int_equal(json_array_size(json_object_get(json_object_get(o,
	    "e2e"), "seq")), 2);
	json_decref(o);
	free(s);
	s = relay_frame_abort(42);
	assert_string_equal(s, "{\"type\":\"abort\",\"id\":42}");
	free(s);
	s = relay_frame_simple("ping");
	assert_string_equal(s, "{\"type\":\"ping\"}");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_frames),
		cmocka_unit_test(test_strict),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_built_frames),
	};

	jsonalloc_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
