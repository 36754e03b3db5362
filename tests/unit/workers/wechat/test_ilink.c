/*
 * Unit tests for workers/wechat/ilink.c and ilink_parse.c: the header
 * values of §2, the request bodies of §3, and every response parser on
 * the note's samples, its edge cases and the IPC bounds.
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

#include "wechat/ilink.h"

#define S(lit)	(lit), (sizeof(lit) - 1)

static void
test_uin(void **state)
{
	char out[ILINK_UIN_LEN];

	(void)state;
	assert_int_equal(ilink_uin(0, out, sizeof(out)), 0);
	assert_string_equal(out, "MA==");
	assert_int_equal(ilink_uin(123456789, out, sizeof(out)), 0);
	assert_string_equal(out, "MTIzNDU2Nzg5");
	assert_int_equal(ilink_uin(4294967295U, out, sizeof(out)), 0);
	assert_string_equal(out, "NDI5NDk2NzI5NQ==");
	assert_int_equal(ilink_uin(2894838106U, out, sizeof(out)), 0);
	assert_string_equal(out, "Mjg5NDgzODEwNg==");
	assert_int_equal(ilink_uin(4294967295U, out, 16), -1);
}

static void
test_client_version(void **state)
{
	(void)state;
	assert_int_equal(ilink_client_version("2.4.9"), 132105);
	assert_int_equal(ilink_client_version(ILINK_CHANNEL_VERSION), 132105);
	assert_int_equal(ilink_client_version("2.4.6"), 132102);
	assert_int_equal(ilink_client_version("2.2.0"), 131584);
	assert_int_equal(ilink_client_version("2.4"), 0);
	assert_int_equal(ilink_client_version("2.4.9.1"), 0);
	assert_int_equal(ilink_client_version("256.0.0"), 0);
	assert_int_equal(ilink_client_version("-1.0.0"), 0);
	assert_int_equal(ilink_client_version(""), 0);
}

static int
has_line(const struct ilink_hdrs *h, const char *line)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strcmp(h->v[i], line) == 0)
			return 1;
	return 0;
}

static int
has_prefix(const struct ilink_hdrs *h, const char *p)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (strncmp(h->v[i], p, strlen(p)) == 0)
			return 1;
	return 0;
}

static void
test_headers(void **state)
{
	struct ilink_hdrs h;

	(void)state;
	ilink_headers(&h, ILINK_H_JSON, "abc@im.bot:0600", 123456789);
	assert_true(has_line(&h, "Content-Type: application/json"));
	assert_true(has_line(&h, "AuthorizationType: ilink_bot_token"));
	assert_true(has_line(&h, "Authorization: Bearer abc@im.bot:0600"));
	assert_true(has_line(&h, "X-WECHAT-UIN: MTIzNDU2Nzg5"));
	assert_true(has_line(&h, "iLink-App-Id: bot"));
	assert_true(has_line(&h, "iLink-App-ClientVersion: 132105"));
	ilink_headers_clear(&h);

	/* No token, an empty one, or one with a space: no Bearer at all. */
	ilink_headers(&h, ILINK_H_JSON, NULL, 0);
	assert_false(has_prefix(&h, "Authorization:"));
	assert_true(has_line(&h, "X-WECHAT-UIN: MA=="));
	ilink_headers_clear(&h);
	ilink_headers(&h, ILINK_H_JSON, "", 0);
	assert_false(has_prefix(&h, "Authorization:"));
	ilink_headers_clear(&h);
	ilink_headers(&h, ILINK_H_JSON, "a\r\nX-Evil: 1", 0);
	assert_false(has_prefix(&h, "Authorization:"));
	assert_false(has_prefix(&h, "X-Evil"));
	ilink_headers_clear(&h);

	ilink_headers(&h, ILINK_H_GET, "tok", 1);
	assert_int_equal(h.n, 2);
	assert_true(has_line(&h, "iLink-App-Id: bot"));
	assert_true(has_line(&h, "iLink-App-ClientVersion: 132105"));
	ilink_headers_clear(&h);
}

static void
test_token_ok(void **state)
{
	char big[ILINK_TOKEN_MAX + 2];

	(void)state;
	assert_true(ilink_token_ok("a1b2c3d4e5f6@im.bot:0600007f18ae"));
	assert_false(ilink_token_ok(NULL));
	assert_false(ilink_token_ok(""));
	assert_false(ilink_token_ok("a b"));
	assert_false(ilink_token_ok("tok\n"));
	assert_false(ilink_token_ok("t\xc3\xa9"));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_false(ilink_token_ok(big));
	big[ILINK_TOKEN_MAX] = '\0';
	assert_true(ilink_token_ok(big));
}

static void
test_client_id(void **state)
{
	char cid[ILINK_CLIENT_ID_LEN], key[IPC_NAME_MAX + 1];

	(void)state;
	/* Always "wxgate:" and the supervisor's key, whatever the attempt. */
	ilink_client_id("1789124816-42", cid, sizeof(cid));
	assert_string_equal(cid, "wxgate:1789124816-42");
	ilink_client_id("1789124816-42.2", cid, sizeof(cid));
	assert_string_equal(cid, "wxgate:1789124816-42.2");
	/* The longest key still fits whole. */
	memset(key, '9', IPC_NAME_MAX);
	key[IPC_NAME_MAX] = '\0';
	ilink_client_id(key, cid, sizeof(cid));
	assert_int_equal(strlen(cid), 7 + IPC_NAME_MAX);
}

static void
test_urls(void **state)
{
	const char *why;
	char *u;

	(void)state;
	u = ilink_url("https://ilinkai.weixin.qq.com", "ilink/bot/getupdates");
	assert_string_equal(u, "https://ilinkai.weixin.qq.com/ilink/bot/"
	    "getupdates");
	free(u);
	u = ilink_url("http://127.0.0.1:9/", "ilink/bot/sendmessage");
	assert_string_equal(u, "http://127.0.0.1:9/ilink/bot/sendmessage");
	free(u);
	u = ilink_url_qrstatus("https://h", "b73e84f6 /&=?%", NULL);
	assert_string_equal(u, "https://h/ilink/bot/get_qrcode_status?"
	    "qrcode=b73e84f6%20%2F%26%3D%3F%25");
	free(u);
	/* §3.2: the verification code is percent-encoded too. */
	u = ilink_url_qrstatus("https://h/", "b73e", "123456");
	assert_string_equal(u, "https://h/ilink/bot/get_qrcode_status?"
	    "qrcode=b73e&verify_code=123456");
	free(u);
	u = ilink_url_qrstatus("https://h", "q", "1 2&x=\xe4");
	assert_string_equal(u, "https://h/ilink/bot/get_qrcode_status?"
	    "qrcode=q&verify_code=1%202%26x%3D%E4");
	free(u);

	assert_int_equal(ilink_url_allowed("https://ilinkai.weixin.qq.com",
	    &why), 0);
	assert_int_equal(ilink_url_allowed("http://127.0.0.1:8080", &why), 0);
	assert_int_equal(ilink_url_allowed("http://127.9.9.9/", &why), 0);
	assert_int_equal(ilink_url_allowed("http://localhost:1", &why), 0);
	assert_int_equal(ilink_url_allowed("http://[::1]:1/", &why), 0);
	assert_int_equal(ilink_url_allowed("http://ilinkai.weixin.qq.com",
	    &why), -1);
	assert_int_equal(ilink_url_allowed("http://10.0.0.1", &why), -1);
	assert_int_equal(ilink_url_allowed("ftp://127.0.0.1", &why), -1);
	assert_int_equal(ilink_url_allowed("https://u:p@h.example", &why), -1);
	assert_int_equal(ilink_url_allowed("not a url", &why), -1);
	assert_int_equal(ilink_url_allowed("", &why), -1);
}

static void
test_verify_code(void **state)
{
	(void)state;
	assert_true(ilink_verify_code_ok("123456"));
	assert_true(ilink_verify_code_ok("0"));
	assert_true(ilink_verify_code_ok("1234567890123456"));
	assert_false(ilink_verify_code_ok("12345678901234567"));
	assert_false(ilink_verify_code_ok(""));
	assert_false(ilink_verify_code_ok("12 34"));
	assert_false(ilink_verify_code_ok("12a4"));
	assert_false(ilink_verify_code_ok("-1"));
}

/* Host policy (ilink_host_allowed) against one login URL. */
static int
host_ok(const char *url, const char *login)
{
	const char *why = NULL;
	int rv;

	rv = ilink_host_allowed(url, login, &why);
	assert_non_null(why);
	return rv == 0;
}

static void
test_host_allowed(void **state)
{
	const char *login = "https://ilinkai.weixin.qq.com";
	const char *mine = "https://ilink.example.org:8443/";
	const char *test = "http://127.0.0.1:9000";

	(void)state;
	/* The login host, weixin.qq.com and hosts under it, by https. */
	assert_true(host_ok("https://ilinkai.weixin.qq.com", login));
	assert_true(host_ok("https://ILINKAI.weixin.qq.com/", login));
	assert_true(host_ok("https://weixin.qq.com", login));
	assert_true(host_ok("https://a.weixin.qq.com", login));
	assert_true(host_ok("https://sh.ilinkai.weixin.qq.com:443/x", login));
	assert_true(host_ok("https://ilink.example.org", mine));
	assert_true(host_ok("https://a.weixin.qq.com", mine));
	/* Look-alikes, other hosts, tricks. */
	assert_false(host_ok("https://evilweixin.qq.com", login));
	assert_false(host_ok("https://weixin.qq.com.evil.org", login));
	assert_false(host_ok("https://qq.com", login));
	assert_false(host_ok("https://.weixin.qq.com", login));
	assert_false(host_ok("https://evil.org/.weixin.qq.com", login));
	assert_false(host_ok("https://evil.org#.weixin.qq.com", login));
	assert_false(host_ok("https://evil.org?.weixin.qq.com", login));
	assert_false(host_ok("https://weixin.qq.com@evil.org", login));
	assert_false(host_ok("https://u:p@a.weixin.qq.com", login));
	assert_false(host_ok("https://ilink.example.org", login));
	/* Plain http, even to the right hosts. */
	assert_false(host_ok("http://ilinkai.weixin.qq.com", login));
	assert_false(host_ok("http://a.weixin.qq.com", login));
	assert_false(host_ok("ftp://a.weixin.qq.com", login));
	/* IP literals. */
	assert_false(host_ok("https://1.2.3.4", login));
	assert_false(host_ok("https://[2001:db8::1]", login));
	assert_false(host_ok("https://127.0.0.1", login));
	assert_false(host_ok("http://127.0.0.1:9000", login));
	/* The loopback test set-up: that host, by http too. */
	assert_true(host_ok("http://127.0.0.1:9000", test));
	assert_true(host_ok("http://127.0.0.1:9001/x", test));
	assert_true(host_ok("https://127.0.0.1", test));
	assert_true(host_ok("https://a.weixin.qq.com", test));
	assert_false(host_ok("http://127.0.0.2:9000", test));
	assert_false(host_ok("http://localhost:9000", test));
	assert_false(host_ok("http://10.0.0.1:9000", test));
	assert_true(host_ok("http://localhost:1", "http://localhost:2"));
	assert_true(host_ok("http://[::1]:1", "http://[::1]:2"));
	/* http to loopback is no test set-up when the login is https. */
	assert_false(host_ok("http://localhost:1", "https://localhost:2"));
	/* Not URLs. */
	assert_false(host_ok("", login));
	assert_false(host_ok("a.weixin.qq.com", login));
	assert_false(host_ok("https://a.weixin.qq.com", "not a url"));
}

/* ilink_bot_agent(in) must give want, with what. */
static void
ba(const char *in, const char *want, enum ilink_ba what)
{
	char out[ILINK_BOT_AGENT_MAX + 1];

	assert_int_equal(ilink_bot_agent(in, "wxgate/0.1.0", out,
	    sizeof(out)), what);
	assert_string_equal(out, want);
}

static void
test_bot_agent(void **state)
{
	char in[1024], want[1024];
	size_t i;

	(void)state;
	ba("wxgate/0.1.0", "wxgate/0.1.0", ILINK_BA_SAME);
	ba("wxgate/0.1.0 (home)", "wxgate/0.1.0 (home)", ILINK_BA_SAME);
	ba("OpenClaw/2.4.9 wxgate/0.1.0-rc+1 (a b; c)",
	    "OpenClaw/2.4.9 wxgate/0.1.0-rc+1 (a b; c)", ILINK_BA_SAME);
	ba("A_b.c-d/1", "A_b.c-d/1", ILINK_BA_SAME);
	/* Nothing valid: the fallback, ours rather than "OpenClaw". */
	ba("", "wxgate/0.1.0", ILINK_BA_FALLBACK);
	ba("   ", "wxgate/0.1.0", ILINK_BA_FALLBACK);
	ba("wxgate", "wxgate/0.1.0", ILINK_BA_FALLBACK);
	ba("(comment only)", "wxgate/0.1.0", ILINK_BA_FALLBACK);
	ba("wx\ngate/1", "wxgate/0.1.0", ILINK_BA_FALLBACK);
	/* Invalid tokens go, valid ones stay. */
	ba("bad bot/1 x/y/z ok/2", "bot/1 ok/2", ILINK_BA_CUT);
	ba("a+b/1 a/1+2", "a/1+2", ILINK_BA_CUT);
	ba("/1 a/ a/1", "a/1", ILINK_BA_CUT);
	ba("caf\xc3\xa9/1 cafe/1", "cafe/1", ILINK_BA_CUT);
	ba("wx/1(x) wx/2", "wx/2", ILINK_BA_CUT);
	/* Extra spaces are not kept. */
	ba("  a/1   b/2 ", "a/1 b/2", ILINK_BA_CUT);
	/* Name and Version up to 32, a comment up to 64. */
	ba("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/1",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/1", ILINK_BA_SAME);
	ba("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/1 b/1", "b/1", ILINK_BA_CUT);
	ba("a/11111111111111111111111111111111 b/1",
	    "a/11111111111111111111111111111111 b/1", ILINK_BA_SAME);
	ba("a/111111111111111111111111111111111 b/1", "b/1", ILINK_BA_CUT);
	memset(in, 0, sizeof(in));
	strcpy(in, "a/1 (");
	memset(in + 5, 'c', 64);
	strcat(in, ")");
	ba(in, in, ILINK_BA_SAME);
	strcpy(in, "a/1 (");
	memset(in + 5, 'c', 65);
	strcat(in, ") b/2");
	/* A bad comment takes its token with it. */
	ba(in, "b/2", ILINK_BA_CUT);
	ba("a/1 () b/2", "b/2", ILINK_BA_CUT);
	ba("a/1 (x(y)) b/2", "b/2", ILINK_BA_CUT);
	ba("a/1 (x) (y) b/2", "a/1 (x) b/2", ILINK_BA_CUT);
	ba("a/1 (open b/2", "wxgate/0.1.0", ILINK_BA_FALLBACK);
	ba("a/1 (tab\there) b/2", "b/2", ILINK_BA_CUT);
	ba("(x) a/1", "a/1", ILINK_BA_CUT);
	/* Over 256 bytes: whole tokens go from the end. */
	in[0] = want[0] = '\0';
	for (i = 0; i < 40; i++) {
		snprintf(in + strlen(in), sizeof(in) - strlen(in),
		    "%sn%02zu/1.2", i ? " " : "", i);
		if (strlen(in) <= ILINK_BOT_AGENT_MAX)
			strcpy(want, in);
	}
	assert_true(strlen(in) > ILINK_BOT_AGENT_MAX);
	ba(in, want, ILINK_BA_CUT);
	assert_true(strlen(want) > ILINK_BOT_AGENT_MAX - 8);
	/* Exactly 256 is kept whole; one more token is dropped. */
	memset(want, 0, sizeof(want));
	for (i = 0; i < 3; i++) {
		if (i > 0)
			strcat(want, " ");
		memset(want + strlen(want), 'N', 32);
		strcat(want, "/");
		memset(want + strlen(want), 'V', 32);
	}
	strcat(want, " (");
	memset(want + strlen(want), 'c', 56);
	strcat(want, ")");
	assert_int_equal(strlen(want), ILINK_BOT_AGENT_MAX);
	ba(want, want, ILINK_BA_SAME);
	strcpy(in, want);
	strcat(in, " b/1");
	ba(in, want, ILINK_BA_CUT);
}

static json_t *
load(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static void
test_body_send(void **state)
{
	json_t *j, *msg, *items, *bi;
	char *s;

	(void)state;
	s = ilink_body_send("o9cq80_FAKE@im.wechat", "你好！", "AARzJWAF",
	    "wxgate:1-00000001", "wxgate/0.1.0");
	j = load(s);
	free(s);
	msg = json_object_get(j, "msg");
	assert_string_equal(json_string_value(json_object_get(msg,
	    "from_user_id")), "");
	assert_string_equal(json_string_value(json_object_get(msg,
	    "to_user_id")), "o9cq80_FAKE@im.wechat");
	assert_string_equal(json_string_value(json_object_get(msg,
	    "client_id")), "wxgate:1-00000001");
	assert_int_equal(json_integer_value(json_object_get(msg,
	    "message_type")), 2);
	assert_int_equal(json_integer_value(json_object_get(msg,
	    "message_state")), 2);
	assert_string_equal(json_string_value(json_object_get(msg,
	    "context_token")), "AARzJWAF");
	items = json_object_get(msg, "item_list");
	assert_int_equal(json_array_size(items), 1);
	assert_int_equal(json_integer_value(json_object_get(
	    json_array_get(items, 0), "type")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(items, 0), "text_item"), "text")), "你好！");
	bi = json_object_get(j, "base_info");
	assert_string_equal(json_string_value(json_object_get(bi,
	    "channel_version")), "2.4.9");
	assert_string_equal(json_string_value(json_object_get(bi,
	    "bot_agent")), "wxgate/0.1.0");
	json_decref(j);

	/* No token: the field is left out, never sent empty. */
	s = ilink_body_send("p@im.wechat", "x", "", "c", "a/1");
	j = load(s);
	free(s);
	assert_null(json_object_get(json_object_get(j, "msg"),
	    "context_token"));
	json_decref(j);
}

static void
test_body_updates_qrcode(void **state)
{
	json_t *j;
	char *s;

	(void)state;
	s = ilink_body_updates("CgQIARAB", "wxgate/0.1.0");
	j = load(s);
	free(s);
	assert_string_equal(json_string_value(json_object_get(j,
	    "get_updates_buf")), "CgQIARAB");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    j, "base_info"), "channel_version")), "2.4.9");
	json_decref(j);
	s = ilink_body_qrcode();
	assert_string_equal(s, "{\"local_token_list\":[]}");
	free(s);
}

/* §3.3's sample, with a message_id past INT64_MAX. */
static const char sample[] =
    "{\"ret\":0,\"get_updates_buf\":\"CgQIAhAC\","
    "\"longpolling_timeout_ms\":35000,"
    "\"msgs\":[{\"seq\":12,\"message_id\":17504133366464211000,"
    "\"from_user_id\":\"o9cq80_FAKEuSeRiD0000000000@im.wechat\","
    "\"to_user_id\":\"a1b2c3d4e5f6@im.bot\","
    "\"client_id\":\"mmassistant_bypmsg_inbox_0f0e0d0c@weclaw_1789124814\","
    "\"create_time_ms\":1789124814621,\"session_id\":\"\","
    "\"message_type\":1,\"message_state\":2,"
    "\"context_token\":\"AARzJWAFAAABAAAAAAAp\","
    "\"item_list\":[{\"type\":1,\"msg_id\":\"7504133366464211001\","
    "\"text_item\":{\"text\":\"你好\"}}]}]}";

static void
test_updates_sample(void **state)
{
	struct ilink_updates u;

	(void)state;
	assert_int_equal(ilink_parse_updates(S(sample), &u), ILINK_OK);
	assert_string_equal(u.cursor, "CgQIAhAC");
	assert_int_equal(u.timeout_ms, 35000);
	assert_int_equal(u.n, 1);
	assert_int_equal(u.msgs[0].drop, ILINK_KEEP);
	assert_string_equal(u.msgs[0].peer,
	    "o9cq80_FAKEuSeRiD0000000000@im.wechat");
	assert_string_equal(u.msgs[0].msg_id, "17504133366464211000");
	assert_string_equal(u.msgs[0].text, "你好");
	assert_string_equal(u.msgs[0].ctx, "AARzJWAFAAABAAAAAAAp");
	assert_false(u.msgs[0].text_cut);
	assert_false(u.msgs[0].ctx_dropped);
	ilink_updates_clear(&u);
}

static void
test_updates_status(void **state)
{
	struct ilink_updates u;

	(void)state;
	assert_int_equal(ilink_parse_updates(S("{\"errcode\":-14,"
	    "\"errmsg\":\"session timeout\"}"), &u), ILINK_E_SESSION);
	assert_int_equal(u.ret.code, -14);
	assert_string_equal(u.ret.errmsg, "session timeout");
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("{\"ret\":-14}"), &u),
	    ILINK_E_SESSION);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("{\"ret\":-1,\"errcode\":-14}"),
	    &u), ILINK_E_SESSION);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("{\"ret\":3}"), &u),
	    ILINK_E_RET);
	assert_int_equal(u.ret.code, 3);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("{\"ret\":0,\"errcode\":7}"),
	    &u), ILINK_E_RET);
	ilink_updates_clear(&u);
	/* Missing ret is success; so is an empty object. */
	assert_int_equal(ilink_parse_updates(S("{\"msgs\":[],"
	    "\"get_updates_buf\":\"\"}"), &u), ILINK_OK);
	assert_null(u.cursor);
	assert_int_equal(u.n, 0);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("{}"), &u), ILINK_OK);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("{\"msgs\":null}"), &u),
	    ILINK_OK);
	ilink_updates_clear(&u);
	/* Empty body, not JSON, not an object, wrong types. */
	assert_int_equal(ilink_parse_updates("", 0, &u), ILINK_E_JSON);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("<html>"), &u), ILINK_E_JSON);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("[1]"), &u), ILINK_E_JSON);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("{\"msgs\":{}}"), &u),
	    ILINK_E_SHAPE);
	ilink_updates_clear(&u);
	assert_int_equal(ilink_parse_updates(S("{\"get_updates_buf\":5}"), &u),
	    ILINK_E_SHAPE);
	ilink_updates_clear(&u);
}

static void
test_updates_too_many(void **state)
{
	struct ilink_updates u;
	char *body, *p;
	int i;

	(void)state;
	body = malloc(16 + (ILINK_MSGS_MAX + 1) * 3);
	p = body + sprintf(body, "{\"msgs\":[");
	for (i = 0; i <= ILINK_MSGS_MAX; i++)
		p += sprintf(p, "%s{}", i ? "," : "");
	strcpy(p, "]}");
	assert_int_equal(ilink_parse_updates(body, strlen(body), &u),
	    ILINK_E_TOOMANY);
	ilink_updates_clear(&u);
	/* Exactly the limit is fine; each {} is dropped as malformed. */
	strcpy(strrchr(body, ','), "]}");
	assert_int_equal(ilink_parse_updates(body, strlen(body), &u),
	    ILINK_OK);
	assert_int_equal(u.n, ILINK_MSGS_MAX);
	assert_int_equal(u.msgs[0].drop, ILINK_DROP_BAD);
	ilink_updates_clear(&u);
	free(body);
}

/* One message in a batch, parsed; the caller clears u. */
static struct ilink_msg *
one(struct ilink_updates *u, const char *msg)
{
	char *body;

	if (asprintf(&body, "{\"msgs\":[%s]}", msg) == -1)
		fail();
	assert_int_equal(ilink_parse_updates(body, strlen(body), u),
	    ILINK_OK);
	free(body);
	assert_int_equal(u->n, 1);
	return &u->msgs[0];
}

#define FROM	"\"from_user_id\":\"u@im.wechat\""
#define TEXT(t)	"\"item_list\":[{\"type\":1," \
	"\"text_item\":{\"text\":\"" t "\"}}]"

static void
test_drops(void **state)
{
	struct ilink_updates u;
	struct ilink_msg *m;

	(void)state;
	assert_int_equal(one(&u, "{" FROM ",\"message_type\":2," TEXT("x")
	    "}")->drop, ILINK_DROP_ECHO);
	ilink_updates_clear(&u);
	assert_int_equal(one(&u, "{\"from_user_id\":\"a1b2c3d4e5f6@im.bot\","
	    TEXT("x") "}")->drop, ILINK_DROP_ECHO);
	ilink_updates_clear(&u);
	/* A group message goes up as one, for the hub's group_policy. */
	m = one(&u, "{" FROM ",\"group_id\":\"g@im.chatroom\"," TEXT("x")
	    "}");
	assert_int_equal(m->drop, ILINK_KEEP);
	assert_string_equal(m->group, "g@im.chatroom");
	ilink_updates_clear(&u);
	/* One that cannot name a conversation ("chat/sender") is dropped. */
	assert_int_equal(one(&u, "{" FROM ",\"group_id\":7," TEXT("x")
	    "}")->drop, ILINK_DROP_GROUP);
	ilink_updates_clear(&u);
	assert_int_equal(one(&u, "{" FROM ",\"group_id\":\"a/b@im.chatroom\","
	    TEXT("x") "}")->drop, ILINK_DROP_GROUP);
	ilink_updates_clear(&u);
	/* An empty group_id is a direct message. */
	m = one(&u, "{" FROM ",\"group_id\":\"\"," TEXT("x") "}");
	assert_int_equal(m->drop, ILINK_KEEP);
	assert_string_equal(m->group, "");
	ilink_updates_clear(&u);
	assert_int_equal(one(&u, "{" TEXT("x") "}")->drop, ILINK_DROP_BAD);
	ilink_updates_clear(&u);
	assert_int_equal(one(&u, "{\"from_user_id\":\"\"," TEXT("x")
	    "}")->drop, ILINK_DROP_BAD);
	ilink_updates_clear(&u);
	assert_int_equal(one(&u, "{\"from_user_id\":[]," TEXT("x")
	    "}")->drop, ILINK_DROP_BAD);
	ilink_updates_clear(&u);
	assert_int_equal(one(&u, "7")->drop, ILINK_DROP_BAD);
	ilink_updates_clear(&u);
	assert_int_equal(one(&u, "{" FROM "}")->drop, ILINK_DROP_EMPTY);
	ilink_updates_clear(&u);
	assert_int_equal(one(&u, "{" FROM ",\"item_list\":[{\"type\":11}]}")
	    ->drop, ILINK_DROP_EMPTY);
	ilink_updates_clear(&u);
}

static void
test_text_fallbacks(void **state)
{
	struct ilink_updates u;

	(void)state;
	/* The first TEXT item wins, wherever it is. */
	assert_string_equal(one(&u, "{" FROM ",\"item_list\":["
	    "{\"type\":2,\"image_item\":{}},"
	    "{\"type\":1,\"text_item\":{\"text\":\"caption\"}},"
	    "{\"type\":1,\"text_item\":{\"text\":\"second\"}}]}")->text,
	    "caption");
	ilink_updates_clear(&u);
	/* Else a voice transcript. */
	assert_string_equal(one(&u, "{" FROM ",\"item_list\":["
	    "{\"type\":2},"
	    "{\"type\":3,\"voice_item\":{\"text\":\"语音转写\"}}]}")
	    ->text, "语音转写");
	ilink_updates_clear(&u);
	/* Else a placeholder for the first media item. */
	assert_string_equal(one(&u, "{" FROM ",\"item_list\":["
	    "{\"type\":5},{\"type\":2}]}")->text, "[视频]");
	ilink_updates_clear(&u);
	assert_string_equal(one(&u, "{" FROM ",\"item_list\":[{\"type\":2}]}")
	    ->text, "[图片]");
	ilink_updates_clear(&u);
	assert_string_equal(one(&u, "{" FROM ",\"item_list\":[{\"type\":4}]}")
	    ->text, "[文件]");
	ilink_updates_clear(&u);
	assert_string_equal(one(&u, "{" FROM ",\"item_list\":[{\"type\":3,"
	    "\"voice_item\":{\"text\":\"\"}}]}")->text, "[语音]");
	ilink_updates_clear(&u);
	/* An empty TEXT item falls through to the media placeholder. */
	assert_string_equal(one(&u, "{" FROM ",\"item_list\":["
	    "{\"type\":1,\"text_item\":{\"text\":\"\"}},{\"type\":2}]}")->text,
	    "[图片]");
	ilink_updates_clear(&u);
	/* NUL cuts the text: IPC text holds none. */
	assert_string_equal(one(&u, "{" FROM "," TEXT("ab\\u0000cd") "}")
	    ->text, "ab");
	assert_true(u.msgs[0].text_cut);
	ilink_updates_clear(&u);
}

static void
test_text_bounds(void **state)
{
	struct ilink_updates u;
	struct ilink_msg *m;
	char *body, *p;
	size_t i, n = IPC_TEXT_MAX / 2 + 10;	/* two-byte characters */

	(void)state;
	body = malloc(n * 2 + 128);
	p = body + sprintf(body, "{\"msgs\":[{" FROM ",\"item_list\":["
	    "{\"type\":1,\"text_item\":{\"text\":\"a");
	for (i = 0; i < n; i++) {
		*p++ = '\xc3';
		*p++ = '\xa9';
	}
	strcpy(p, "\"}}]}]}");
	assert_int_equal(ilink_parse_updates(body, strlen(body), &u),
	    ILINK_OK);
	m = &u.msgs[0];
	assert_true(m->text_cut);
	/* "a" + whole characters: the cut does not split one. */
	assert_int_equal(strlen(m->text), IPC_TEXT_MAX - 1);
	assert_int_equal((unsigned char)m->text[strlen(m->text) - 1], 0xa9);
	ilink_updates_clear(&u);
	free(body);
}

static void
test_ctx_bounds(void **state)
{
	struct ilink_updates u;
	char *body, *p;
	int i;

	(void)state;
	body = malloc(IPC_CTX_MAX + 256);
	p = body + sprintf(body, "{\"msgs\":[{" FROM "," TEXT("x")
	    ",\"context_token\":\"");
	for (i = 0; i <= IPC_CTX_MAX; i++)
		*p++ = 'A';
	strcpy(p, "\"}]}");
	assert_int_equal(ilink_parse_updates(body, strlen(body), &u),
	    ILINK_OK);
	assert_int_equal(u.msgs[0].drop, ILINK_KEEP);
	assert_string_equal(u.msgs[0].ctx, "");
	assert_true(u.msgs[0].ctx_dropped);
	ilink_updates_clear(&u);
	free(body);
	/* No token: "" and not counted as dropped. */
	assert_string_equal(one(&u, "{" FROM "," TEXT("x") "}")->ctx, "");
	assert_false(u.msgs[0].ctx_dropped);
	ilink_updates_clear(&u);
}

static void
test_msg_ids(void **state)
{
	struct ilink_updates u;
	const char *h1;
	char h[32];

	(void)state;
	/* String form, and the uint64 extremes as bare numbers. */
	assert_string_equal(one(&u, "{\"message_id\":\"42\"," FROM ","
	    TEXT("x") "}")->msg_id, "42");
	ilink_updates_clear(&u);
	assert_string_equal(one(&u, "{\"message_id\":18446744073709551615,"
	    FROM "," TEXT("x") "}")->msg_id, "18446744073709551615");
	ilink_updates_clear(&u);
	assert_string_equal(one(&u, "{\"message_id\" : 7 ," FROM ","
	    TEXT("x") "}")->msg_id, "7");
	ilink_updates_clear(&u);
	/* Then the first item msg_id, bare number or string. */
	assert_string_equal(one(&u, "{" FROM ",\"item_list\":[{\"type\":1,"
	    "\"msg_id\":9223372036854775808,\"text_item\":{\"text\":\"x\"}}]}")
	    ->msg_id, "9223372036854775808");
	ilink_updates_clear(&u);
	/* Then client_id, then seq. */
	assert_string_equal(one(&u, "{\"message_id\":\"\","
	    "\"client_id\":\"c-1\"," FROM "," TEXT("x") "}")->msg_id, "c-1");
	ilink_updates_clear(&u);
	assert_string_equal(one(&u, "{\"seq\":12," FROM "," TEXT("x") "}")
	    ->msg_id, "12");
	ilink_updates_clear(&u);
	/* Else a hash of sender, text and time: the same for a replay. */
	h1 = one(&u, "{\"create_time_ms\":5," FROM "," TEXT("x") "}")->msg_id;
	assert_int_equal(strncmp(h1, "h:", 2), 0);
	assert_int_equal(strlen(h1), 18);
	snprintf(h, sizeof(h), "%s", h1);
	ilink_updates_clear(&u);
	assert_string_equal(one(&u, "{\"create_time_ms\":5," FROM ","
	    TEXT("x") "}")->msg_id, h);
	ilink_updates_clear(&u);
	assert_string_not_equal(one(&u, "{\"create_time_ms\":6," FROM ","
	    TEXT("x") "}")->msg_id, h);
	ilink_updates_clear(&u);
}

static void
test_quote_ids(void **state)
{
	const char in[] = "{\"msg_id\":1,\"t\":\"\\\"msg_id\\\":2\","
	    "\"svr_id\" :\t-3e2,\"x\":\"msg_id\",\"seq\":4,"
	    "\"message_id\":\"5\",\"a\":[\"msg_id\",6]}";
	const char want[] = "{\"msg_id\":\"1\",\"t\":\"\\\"msg_id\\\":2\","
	    "\"svr_id\" :\t\"-3e2\",\"x\":\"msg_id\",\"seq\":4,"
	    "\"message_id\":\"5\",\"a\":[\"msg_id\",6]}";
	size_t len;
	char *out;

	(void)state;
	out = ilink_quote_ids(in, sizeof(in) - 1, &len);
	assert_string_equal(out, want);
	assert_int_equal(len, sizeof(want) - 1);
	free(out);
	out = ilink_quote_ids("", 0, &len);
	assert_int_equal(len, 0);
	free(out);
}

static void
test_parse_ret(void **state)
{
	struct ilink_ret r;

	(void)state;
	assert_int_equal(ilink_parse_ret(S("{}"), &r), ILINK_OK);
	assert_int_equal(ilink_parse_ret(S("{\"ret\":0,\"message_id\":"
	    "17504133366464213000}"), &r), ILINK_OK);
	assert_int_equal(ilink_parse_ret(S("{\"ret\":-2,\"errmsg\":"
	    "\"prepare failed\"}"), &r), ILINK_E_RET);
	assert_int_equal(r.code, -2);
	assert_string_equal(r.errmsg, "prepare failed");
	assert_int_equal(ilink_parse_ret(S("{\"errcode\":-14}"), &r),
	    ILINK_E_SESSION);
	assert_int_equal(ilink_parse_ret(S("{\"ret\":0,\"errcode\":1}"), &r),
	    ILINK_E_RET);
	assert_int_equal(r.code, 1);
	assert_int_equal(ilink_parse_ret(S("{\"ret\":\"-2\"}"), &r), ILINK_OK);
	assert_int_equal(ilink_parse_ret("", 0, &r), ILINK_E_JSON);
	assert_int_equal(ilink_parse_ret(S("null"), &r), ILINK_E_JSON);
}

static void
test_qrcode(void **state)
{
	struct ilink_qrcode q;

	(void)state;
	assert_int_equal(ilink_parse_qrcode(S("{\"qrcode\":"
	    "\"b73e84f617fe08e311355ef30255039b\",\"qrcode_img_content\":"
	    "\"https://liteapp.weixin.qq.com/q/7GiQu1?qrcode="
	    "b73e84f617fe08e311355ef30255039b&bot_type=3\",\"ret\":0}"), &q),
	    ILINK_OK);
	assert_string_equal(q.qrcode, "b73e84f617fe08e311355ef30255039b");
	assert_string_equal(q.url, "https://liteapp.weixin.qq.com/q/7GiQu1?"
	    "qrcode=b73e84f617fe08e311355ef30255039b&bot_type=3");
	ilink_qrcode_clear(&q);
	assert_int_equal(ilink_parse_qrcode(S("{\"qrcode\":\"x\"}"), &q),
	    ILINK_E_SHAPE);
	ilink_qrcode_clear(&q);
	assert_int_equal(ilink_parse_qrcode(S("{\"qrcode\":\"\","
	    "\"qrcode_img_content\":\"u\"}"), &q), ILINK_E_SHAPE);
	ilink_qrcode_clear(&q);
	assert_int_equal(ilink_parse_qrcode(S("{\"ret\":-1}"), &q),
	    ILINK_E_RET);
	ilink_qrcode_clear(&q);
}

static void
test_qrstatus(void **state)
{
	static const struct {
		const char		*name;
		enum ilink_qr_state	 st;
	} cases[] = {
		{ "wait", ILINK_QR_WAIT },
		{ "scaned", ILINK_QR_SCANED },
		{ "need_verifycode", ILINK_QR_NEED_VERIFYCODE },
		{ "verify_code_blocked", ILINK_QR_VERIFY_BLOCKED },
		{ "expired", ILINK_QR_EXPIRED },
		{ "scaned_but_redirect", ILINK_QR_SCANED_REDIRECT },
		{ "binded_redirect", ILINK_QR_BINDED_REDIRECT },
	};
	char body[128];
	struct ilink_qrstatus s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(body, sizeof(body), "{\"status\":\"%s\",\"ret\":0}",
		    cases[i].name);
		assert_int_equal(ilink_parse_qrstatus(body, strlen(body), &s),
		    ILINK_OK);
		assert_int_equal(s.state, cases[i].st);
		assert_string_equal(ilink_qr_state_name(s.state),
		    cases[i].name);
		ilink_qrstatus_clear(&s);
	}
	assert_int_equal(ilink_parse_qrstatus(S("{\"status\":\"confirmed\","
	    "\"ret\":0,\"bot_token\":\"a1b2c3d4e5f6@im.bot:0600007f18ae\","
	    "\"ilink_bot_id\":\"a1b2c3d4e5f6@im.bot\",\"baseurl\":"
	    "\"https://ilinkai.weixin.qq.com\",\"ilink_user_id\":"
	    "\"o9cq80_FAKE@im.wechat\"}"), &s), ILINK_OK);
	assert_int_equal(s.state, ILINK_QR_CONFIRMED);
	assert_string_equal(s.bot_token, "a1b2c3d4e5f6@im.bot:0600007f18ae");
	assert_string_equal(s.bot_id, "a1b2c3d4e5f6@im.bot");
	assert_string_equal(s.baseurl, "https://ilinkai.weixin.qq.com");
	assert_string_equal(s.user_id, "o9cq80_FAKE@im.wechat");
	ilink_qrstatus_clear(&s);
	/* baseurl and ilink_user_id are optional; "" is absent. */
	assert_int_equal(ilink_parse_qrstatus(S("{\"status\":\"confirmed\","
	    "\"bot_token\":\"t\",\"ilink_bot_id\":\"b@im.bot\","
	    "\"baseurl\":\"\"}"),
	    &s), ILINK_OK);
	assert_null(s.baseurl);
	assert_null(s.user_id);
	ilink_qrstatus_clear(&s);
	/* §4.1: no bot id, or no usable token, fails the login. */
	assert_int_equal(ilink_parse_qrstatus(S("{\"status\":\"confirmed\","
	    "\"bot_token\":\"t\"}"), &s), ILINK_E_SHAPE);
	ilink_qrstatus_clear(&s);
	assert_int_equal(ilink_parse_qrstatus(S("{\"status\":\"confirmed\","
	    "\"bot_token\":\"a b\",\"ilink_bot_id\":\"b\"}"), &s),
	    ILINK_E_SHAPE);
	ilink_qrstatus_clear(&s);
	/* redirect_host: a bare host name, or nothing. */
	assert_int_equal(ilink_parse_qrstatus(S("{\"status\":"
	    "\"scaned_but_redirect\",\"redirect_host\":"
	    "\"sh.ilinkai.weixin.qq.com\"}"), &s), ILINK_OK);
	assert_string_equal(s.redirect_host, "sh.ilinkai.weixin.qq.com");
	ilink_qrstatus_clear(&s);
	assert_int_equal(ilink_parse_qrstatus(S("{\"status\":"
	    "\"scaned_but_redirect\",\"redirect_host\":\"evil/x?y\"}"), &s),
	    ILINK_OK);
	assert_null(s.redirect_host);
	ilink_qrstatus_clear(&s);
	assert_int_equal(ilink_parse_qrstatus(S("{\"status\":\"new_thing\"}"),
	    &s), ILINK_E_SHAPE);
	ilink_qrstatus_clear(&s);
	assert_int_equal(ilink_parse_qrstatus(S("{}"), &s), ILINK_E_SHAPE);
	ilink_qrstatus_clear(&s);
	assert_int_equal(ilink_parse_qrstatus(S("{\"errcode\":-14}"), &s),
	    ILINK_E_SESSION);
	ilink_qrstatus_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uin),
		cmocka_unit_test(test_client_version),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_token_ok),
		cmocka_unit_test(test_client_id),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_bot_agent),
		cmocka_unit_test(test_verify_code),
		cmocka_unit_test(test_host_allowed),
		cmocka_unit_test(test_body_send),
		cmocka_unit_test(test_body_updates_qrcode),
		cmocka_unit_test(test_updates_sample),
		cmocka_unit_test(test_updates_status),
		cmocka_unit_test(test_updates_too_many),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_text_fallbacks),
		cmocka_unit_test(test_text_bounds),
		cmocka_unit_test(test_ctx_bounds),
		cmocka_unit_test(test_msg_ids),
		cmocka_unit_test(test_quote_ids),
		cmocka_unit_test(test_parse_ret),
		cmocka_unit_test(test_qrcode),
		cmocka_unit_test(test_qrstatus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
