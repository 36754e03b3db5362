/*
 * Unit tests for workers/webchat/rpc.c: every method, every error code
 * the parser gives, depth and length limits, wrong types, which id a
 * failed request is answered with, and the reply and event formats.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "webchat/rpc.h"

#define MAX_TEXT	32

static enum rpc_err
parse(const char *s, struct rpc_req *r)
{
	return rpc_parse(s, strlen(s), MAX_TEXT, r);
}

/* Parse, expect code e and, if field is set, a message naming it. */
static void
expect(const char *s, enum rpc_err e, const char *field)
{
	struct rpc_req r;

	if (parse(s, &r) != e)
		fail_msg("%s: got %s (%s), want %s", s,
		    rpc_code(parse(s, &r)), r.errmsg, rpc_code(e));
	if (field != NULL && strstr(r.errmsg, field) == NULL)
		fail_msg("%s: message \"%s\" does not name %s", s, r.errmsg,
		    field);
	rpc_req_clear(&r);
}

static void
test_session_open(void **state)
{
	struct rpc_req r;

	(void)state;
	assert_int_equal(parse("{\"id\":1,\"method\":\"session.open\","
	    "\"params\":{}}", &r), RPC_OK);
	assert_int_equal(r.method, RPC_M_SESSION_OPEN);
	assert_true(json_is_integer(r.id));
	assert_int_equal(json_integer_value(r.id), 1);
	rpc_req_clear(&r);
	/* params may be left out when there are none. */
	assert_int_equal(parse("{\"id\":\"a\",\"method\":\"session.open\"}",
	    &r), RPC_OK);
	assert_string_equal(json_string_value(r.id), "a");
	rpc_req_clear(&r);
	expect("{\"id\":1,\"method\":\"session.open\",\"params\":{\"x\":1}}",
	    RPC_E_BAD_REQUEST, "unknown key");
}

static void
test_session_resume(void **state)
{
	struct rpc_req r;

	(void)state;
	assert_int_equal(parse("{\"id\":2,\"method\":\"session.resume\","
	    "\"params\":{\"token\":\"0123abcd\"}}", &r), RPC_OK);
	assert_int_equal(r.method, RPC_M_SESSION_RESUME);
	assert_int_equal(r.token_len, 8);
	assert_memory_equal(r.token, "0123abcd", 8);
	rpc_req_clear(&r);
	expect("{\"id\":2,\"method\":\"session.resume\"}", RPC_E_BAD_REQUEST,
	    "params");
	expect("{\"id\":2,\"method\":\"session.resume\",\"params\":{}}",
	    RPC_E_BAD_REQUEST, "token");
	expect("{\"id\":2,\"method\":\"session.resume\","
	    "\"params\":{\"token\":5}}", RPC_E_BAD_REQUEST, "token");
	expect("{\"id\":2,\"method\":\"session.resume\","
	    "\"params\":{\"token\":\"\"}}", RPC_E_BAD_REQUEST, "token");
	expect("{\"id\":2,\"method\":\"session.resume\","
	    "\"params\":{\"token\":\"a b\"}}", RPC_E_BAD_REQUEST, "token");
	expect("{\"id\":2,\"method\":\"session.resume\",\"params\":{\"token\":"
	    "\"0000000000111111111122222222223333333333"
	    "4444444444555555555566666\""
	    "}}", RPC_E_BAD_REQUEST, "token");
}

static void
test_chat_send(void **state)
{
	struct rpc_req r;

	(void)state;
	assert_int_equal(parse("{\"id\":\"c-17\",\"method\":\"chat.send\","
	    "\"params\":{\"text\":\"h\\u00e9\\n\",\"client_msg_id\":"
	    "\"u-9f2.A:b_c\"}}", &r), RPC_OK);
	assert_int_equal(r.method, RPC_M_CHAT_SEND);
	assert_int_equal(r.text_len, 4);
	assert_memory_equal(r.text, "h\xc3\xa9\n", 4);
	assert_int_equal(r.msgid_len, 11);
	assert_memory_equal(r.msgid, "u-9f2.A:b_c", 11);
	rpc_req_clear(&r);

	expect("{\"id\":1,\"method\":\"chat.send\","
	    "\"params\":{\"text\":\"x\"}}", RPC_E_BAD_REQUEST, "client_msg_id");
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"client_msg_id\":\"a\"}}", RPC_E_BAD_REQUEST, "text");
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":\"\",\"client_msg_id\":\"a\"}}", RPC_E_BAD_REQUEST,
	    "text");
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":[\"x\"],\"client_msg_id\":\"a\"}}", RPC_E_BAD_REQUEST,
	    "text");
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":\"x\",\"client_msg_id\":7}}", RPC_E_BAD_REQUEST,
	    "client_msg_id");
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":\"x\",\"client_msg_id\":\"a/b\"}}", RPC_E_BAD_REQUEST,
	    "client_msg_id");
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":\"x\",\"client_msg_id\":\"\"}}", RPC_E_BAD_REQUEST,
	    "client_msg_id");
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":\"x\",\"client_msg_id\":\"a\",\"extra\":1}}",
	    RPC_E_BAD_REQUEST, "unknown key");
	/* max_text bytes pass, one more is too_large (bytes, not chars). */
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":{\"text\":"
	    "\"0123456789012345678901234567890\\u00e9\","
	    "\"client_msg_id\":\"a\"}}", RPC_E_TOO_LARGE, "text");
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":{\"text\":"
	    "\"01234567890123456789012345678901\",\"client_msg_id\":\"a\"}}",
	    RPC_OK, NULL);
}

static void
test_msgid_length(void **state)
{
	char s[512];
	char id[80];

	(void)state;
	memset(id, 'x', 64);
	id[64] = '\0';
	snprintf(s, sizeof(s), "{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":\"x\",\"client_msg_id\":\"%s\"}}", id);
	expect(s, RPC_OK, NULL);
	memcpy(id + 64, "y", 2);
	snprintf(s, sizeof(s), "{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":\"x\",\"client_msg_id\":\"%s\"}}", id);
	expect(s, RPC_E_BAD_REQUEST, "client_msg_id");
}

static void
test_chat_history(void **state)
{
	struct rpc_req r;

	(void)state;
	assert_int_equal(parse("{\"id\":1,\"method\":\"chat.history\"}", &r),
	    RPC_OK);
	assert_int_equal(r.method, RPC_M_CHAT_HISTORY);
	assert_int_equal(r.limit, RPC_HISTORY_DEFAULT);
	rpc_req_clear(&r);
	assert_int_equal(parse("{\"id\":1,\"method\":\"chat.history\","
	    "\"params\":{\"limit\":256}}", &r), RPC_OK);
	assert_int_equal(r.limit, 256);
	rpc_req_clear(&r);
	expect("{\"id\":1,\"method\":\"chat.history\","
	    "\"params\":{\"limit\":0}}", RPC_E_BAD_REQUEST, "limit");
	expect("{\"id\":1,\"method\":\"chat.history\","
	    "\"params\":{\"limit\":257}}", RPC_E_BAD_REQUEST, "limit");
	expect("{\"id\":1,\"method\":\"chat.history\","
	    "\"params\":{\"limit\":-1}}", RPC_E_BAD_REQUEST, "limit");
	expect("{\"id\":1,\"method\":\"chat.history\","
	    "\"params\":{\"limit\":\"5\"}}", RPC_E_BAD_REQUEST, "limit");
	expect("{\"id\":1,\"method\":\"chat.history\","
	    "\"params\":{\"limit\":5.0}}", RPC_E_BAD_REQUEST, "limit");
	expect("{\"id\":1,\"method\":\"chat.history\",\"params\":[]}",
	    RPC_E_BAD_REQUEST, "params");
}

static void
test_bad_json(void **state)
{
	static const char *const bad[] = {
		"", "{", "[1,", "nope", "{\"id\":1,}", "{\"id\":1} x",
		"\"just a string\"", "{\"id\":1,\"id\":2,\"method\":\"x\"}",
		"{\"id\":1,\"method\":\"chat.send\",\"params\":{\"text\":"
		    "\"a\\u0000b\",\"client_msg_id\":\"a\"}}",
		"{\"id\":1,\"method\":\"chat.send\",\"params\":{\"text\":"
		    "\"\\ud800\",\"client_msg_id\":\"a\"}}",
		"{\"id\":99999999999999999999999,\"method\":\"session.open\"}",
		NULL
	};
	struct rpc_req r;
	size_t i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		if (parse(bad[i], &r) != RPC_E_BAD_JSON)
			fail_msg("%s: not bad_json", bad[i]);
		assert_null(r.id);
		rpc_req_clear(&r);
	}
	assert_string_equal(rpc_code(RPC_E_BAD_JSON), "bad_json");
}

static void
test_depth(void **state)
{
	char s[4096];
	struct rpc_req r;
	size_t i, n;

	(void)state;
	/* Real requests nest 2 deep; 8 is allowed, 9 is not. */
	n = (size_t)snprintf(s, sizeof(s), "{\"id\":1,\"method\":\"x\","
	    "\"params\":");
	for (i = 0; i < 7; i++)
		s[n++] = '[';
	for (i = 0; i < 7; i++)
		s[n++] = ']';
	memcpy(s + n, "}", 2);
	expect(s, RPC_E_UNKNOWN_METHOD, NULL);

	n = (size_t)snprintf(s, sizeof(s), "{\"id\":1,\"params\":");
	for (i = 0; i < 8; i++) {
		memcpy(s + n, "{\"a\":", 5);
		n += 5;
	}
	s[n++] = '1';
	for (i = 0; i < 9; i++)
		s[n++] = '}';
	s[n] = '\0';
	assert_int_equal(parse(s, &r), RPC_E_BAD_JSON);
	assert_non_null(strstr(r.errmsg, "nesting"));
	rpc_req_clear(&r);

	/* Thousands of brackets cost a scan, not a recursion. */
	memset(s, '[', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	expect(s, RPC_E_BAD_JSON, "nesting");

	/* Brackets inside strings, even after escaped quotes, are text. */
	expect("{\"id\":1,\"method\":\"chat.send\",\"params\":{\"text\":"
	    "\"\\\"[[[[[[[[[[{{{{{{{{{{\",\"client_msg_id\":\"a\"}}",
	    RPC_OK, NULL);
}

static void
test_ids(void **state)
{
	struct rpc_req r;
	char s[256];
	char id[80];

	(void)state;
	/* An unreadable id is answered with id null. */
	assert_int_equal(parse("[1,2]", &r), RPC_E_BAD_REQUEST);
	assert_null(r.id);
	rpc_req_clear(&r);
	assert_int_equal(parse("{\"method\":\"session.open\"}", &r),
	    RPC_E_BAD_REQUEST);
	assert_null(r.id);
	assert_non_null(strstr(r.errmsg, "id"));
	rpc_req_clear(&r);
	expect("{\"id\":{},\"method\":\"session.open\"}", RPC_E_BAD_REQUEST,
	    "id");
	expect("{\"id\":1.5,\"method\":\"session.open\"}", RPC_E_BAD_REQUEST,
	    "id");
	expect("{\"id\":null,\"method\":\"session.open\"}", RPC_E_BAD_REQUEST,
	    "id");
	expect("{\"id\":true,\"method\":\"session.open\"}", RPC_E_BAD_REQUEST,
	    "id");
	expect("{\"id\":\"\",\"method\":\"session.open\"}", RPC_E_BAD_REQUEST,
	    "id");
	memset(id, 'i', 64);
	id[64] = '\0';
	snprintf(s, sizeof(s), "{\"id\":\"%s\",\"method\":\"session.open\"}",
	    id);
	expect(s, RPC_OK, NULL);
	memcpy(id + 64, "j", 2);
	snprintf(s, sizeof(s), "{\"id\":\"%s\",\"method\":\"session.open\"}",
	    id);
	assert_int_equal(parse(s, &r), RPC_E_BAD_REQUEST);
	assert_null(r.id);
	rpc_req_clear(&r);

	/* A readable id is kept for the error reply. */
	assert_int_equal(parse("{\"id\":-7,\"method\":\"nope\"}", &r),
	    RPC_E_UNKNOWN_METHOD);
	assert_int_equal(json_integer_value(r.id), -7);
	rpc_req_clear(&r);
	assert_int_equal(parse("{\"id\":\"k\",\"method\":3}", &r),
	    RPC_E_BAD_REQUEST);
	assert_string_equal(json_string_value(r.id), "k");
	assert_non_null(strstr(r.errmsg, "method"));
	rpc_req_clear(&r);
	expect("{\"id\":1}", RPC_E_BAD_REQUEST, "method");
	expect("{\"id\":1,\"method\":\"session.open\",\"junk\":0}",
	    RPC_E_BAD_REQUEST, "unknown key");
	expect("{\"id\":1,\"method\":\"session.opens\"}", RPC_E_UNKNOWN_METHOD,
	    NULL);
	expect("{\"id\":1,\"method\":\"Session.Open\"}", RPC_E_UNKNOWN_METHOD,
	    NULL);
}

static void
test_codes(void **state)
{
	(void)state;
	assert_string_equal(rpc_code(RPC_E_BAD_REQUEST), "bad_request");
	assert_string_equal(rpc_code(RPC_E_UNKNOWN_METHOD), "unknown_method");
	assert_string_equal(rpc_code(RPC_E_TOO_LARGE), "too_large");
	assert_string_equal(rpc_code(RPC_E_BAD_UTF8), "bad_utf8");
	assert_string_equal(rpc_code(RPC_E_BINARY), "binary_unsupported");
	assert_string_equal(rpc_code(RPC_E_BUSY), "busy");
	assert_string_equal(rpc_code(RPC_E_MAX), "internal");
	assert_string_equal(rpc_method_name(RPC_M_CHAT_SEND), "chat.send");
}

static void
test_format(void **state)
{
	json_t *id;
	char *s;

	(void)state;
	id = json_string("c-1");
	s = rpc_reply_ok(id, json_pack("{s:s}", "token", "abc"));
	assert_string_equal(s,
	    "{\"id\":\"c-1\",\"ok\":true,\"result\":{\"token\":\"abc\"}}");
	free(s);
	s = rpc_reply_error(NULL, "bad_json", "invalid JSON");
	assert_string_equal(s, "{\"id\":null,\"ok\":false,\"error\":"
	    "{\"code\":\"bad_json\",\"message\":\"invalid JSON\"}}");
	free(s);
	json_decref(id);
	id = json_integer(42);
	s = rpc_reply_error(id, "busy", NULL);
	assert_string_equal(s, "{\"id\":42,\"ok\":false,\"error\":"
	    "{\"code\":\"busy\",\"message\":\"\"}}");
	free(s);
	json_decref(id);
	s = rpc_event("chat.done", json_pack("{s:o,s:s,s:b}",
	    "client_msg_id", rpc_strn("u-1xx", 3), "text", "<b>hi</b>",
	    "replayed", 1));
	assert_string_equal(s, "{\"event\":\"chat.done\",\"client_msg_id\":"
	    "\"u-1\",\"text\":\"<b>hi</b>\",\"replayed\":true}");
	free(s);
	assert_null(rpc_event("chat.delta", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_open),
		cmocka_unit_test(test_session_resume),
		cmocka_unit_test(test_chat_send),
		cmocka_unit_test(test_msgid_length),
		cmocka_unit_test(test_chat_history),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
