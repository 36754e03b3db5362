/*
 * The webhook's wire (workers/wecom_webhook/hook_proto.c) against
 * protocols/wecom.md part B: request bodies by type and their byte
 * limits (B.3, B.7), what each errcode means (B.5), the URL and key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "wecom_webhook/hook.h"
#include "xmalloc.h"

static json_t *
body(enum hook_msgtype t, const char *target, const char *text)
{
	json_error_t err;
	json_t *o;
	char *s;

	if ((s = hook_body(t, target, text)) == NULL)
		return NULL;
	o = json_loads(s, 0, &err);
	free(s);
	assert_non_null(o);
	return o;
}

static void
test_text_and_mentions(void **state)
{
	json_t *o, *ml;

	(void)state;
	o = body(HOOK_TEXT, "group", "Deploy finished");
	assert_string_equal(json_string_value(json_object_get(o, "msgtype")),
	    "text");
	assert_string_equal(json_string_value(json_object_get(
	    json_object_get(o, "text"), "content")), "Deploy finished");
	/* No target mentions nobody: no list at all. */
	assert_null(json_object_get(json_object_get(o, "text"),
	    "mentioned_list"));
	assert_int_equal(json_object_size(o), 2);
	json_decref(o);

	o = body(HOOK_TEXT, "@all", "all hands");
	ml = json_object_get(json_object_get(o, "text"), "mentioned_list");
	assert_int_equal(json_array_size(ml), 1);
	assert_string_equal(json_string_value(json_array_get(ml, 0)), "@all");
	json_decref(o);

	/* Empty ids between commas are skipped, not sent. */
	o = body(HOOK_TEXT, "@zhangsan,,lisi,", "you two");
	ml = json_object_get(json_object_get(o, "text"), "mentioned_list");
	assert_int_equal(json_array_size(ml), 2);
	assert_string_equal(json_string_value(json_array_get(ml, 1)), "lisi");
	json_decref(o);
}

static void
test_markdown(void **state)
{
	json_t *o;

	(void)state;
	o = body(HOOK_MARKDOWN, "@all", "## build\n>green");
	assert_string_equal(json_string_value(json_object_get(o, "msgtype")),
	    "markdown");
	/* Mentions are <@id> in markdown's own text, never a list. */
	assert_int_equal(json_object_size(json_object_get(o, "markdown")), 1);
	json_decref(o);
}

/* B.7: limits count bytes of UTF-8, not characters. */
static void
test_byte_limits(void **state)
{
	char text[HOOK_MARKDOWN_BYTES + 2];
	json_t *o;

	(void)state;
	memset(text, 'a', sizeof(text));
	text[HOOK_TEXT_BYTES] = '\0';
	assert_non_null(o = body(HOOK_TEXT, "g", text));
	json_decref(o);
	text[HOOK_TEXT_BYTES] = 'a';
	text[HOOK_TEXT_BYTES + 1] = '\0';
	assert_null(hook_body(HOOK_TEXT, "g", text));
	assert_non_null(o = body(HOOK_MARKDOWN, "g", text));
	json_decref(o);
	memset(text, 'a', sizeof(text));
	text[HOOK_MARKDOWN_BYTES] = '\0';
	assert_non_null(o = body(HOOK_MARKDOWN, "g", text));
	json_decref(o);
	text[HOOK_MARKDOWN_BYTES] = 'a';
	text[HOOK_MARKDOWN_BYTES + 1] = '\0';
	assert_null(hook_body(HOOK_MARKDOWN, "g", text));
	/* Not UTF-8, or nothing: never sent. */
	assert_null(hook_body(HOOK_TEXT, "g", "\xc3("));
	assert_null(hook_body(HOOK_TEXT, "g", ""));
}

/* B.5: each answer's meaning. */
static void
test_answers(void **state)
{
	static const struct {
		const char		*body;
		enum hook_verdict	 v;
		long long		 code;
		const char		*msg;
	} t[] = {
		{ "{\"errcode\":0,\"errmsg\":\"ok\"}", HOOK_SENT, 0, "ok" },
		{ "{\"errcode\":45009,\"errmsg\":\"api freq out of limit, "
		  "hint: [1], from ip: 203.0.113.7\"}", HOOK_RATE, 45009,
		  "api freq out of limit" },
		{ "{\"errcode\":-1,\"errmsg\":\"system busy\"}", HOOK_BUSY, -1,
		  "system busy" },
		{ "{\"errcode\":93000,\"errmsg\":\"invalid webhook url\"}",
		  HOOK_REJECTED, 93000, "invalid webhook url" },
		{ "{\"errcode\":40058}", HOOK_REJECTED, 40058, "" },
		{ "{\"errmsg\":\"ok\"}", HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":\"0\"}", HOOK_GARBLED, 0, "" },
		{ "{\"errcode\":0,\"errcode\":1}", HOOK_GARBLED, 0, "" },
		{ "<html>502</html>", HOOK_GARBLED, 0, "" },
		{ "", HOOK_GARBLED, 0, "" },
	};
	struct hook_answer a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(hook_parse(t[i].body, strlen(t[i].body), &a),
		    t[i].v);
		assert_int_equal(a.errcode, t[i].code);
		assert_string_equal(a.errmsg, t[i].msg);
	}
	assert_string_equal(hook_verdict_name(HOOK_RATE),
	    "rate limited (45009)");
}

static void
test_url_and_key(void **state)
{
	char *u;

	(void)state;
	u = hook_url("https://qyapi.weixin.qq.com/", "abc-123_X");
	assert_string_equal(u,
	    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123_X");
	free(u);
	assert_true(hook_key_ok("693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"));
	assert_false(hook_key_ok(""));
	assert_false(hook_key_ok("a&b=c"));
	assert_false(hook_key_ok("a b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_and_mentions),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_byte_limits),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_url_and_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
