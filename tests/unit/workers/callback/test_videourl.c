/*
 * Unit tests for workers/callback/videourl.c: an Official Account's
 * media/get answer for a video (shared/protocols/wecom.md D.5), its
 * video_url taken when it has the allowed shape and refused otherwise
 * (another scheme, user info, an odd host or port, spaces, controls,
 * a fragment, too long), and answers that are not that JSON.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "callback/videourl.h"

static int
parse(const char *json, char out[VIDEOURL_MAX + 1])
{
	const char *why = NULL;
	int rv;

	rv = videourl_parse(json, strlen(json), out, &why);
	if (rv == -1)
		assert_non_null(why);
	return rv;
}

static void
test_good(void **state)
{
	static const char *const good[] = {
		"http://203.205.0.1/vweixinf.tc.qq.com/1.mp4?vkey=AB%2Fc&x=1",
		"https://mmbiz.qpic.cn/v/abc.mp4",
		"http://127.0.0.1:8080/video/FAKEvideo01",
		"https://a-b.example:443",
		"http://host?q=1",
		"http://h/p@q",
	};
	char json[512], out[VIDEOURL_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(json, sizeof(json), "{\"video_url\":\"%s\"}", good[i]);
		assert_int_equal(parse(json, out), 0);
		assert_string_equal(out, good[i]);
	}
	/* errcode 0 beside it, and JSON's escapes, are fine. */
	assert_int_equal(parse("{\"errcode\":0,\"video_url\":"
	    "\"http:\\/\\/h\\/v.mp4\"}", out), 0);
	assert_string_equal(out, "http://h/v.mp4");
}

static void
test_bad_url(void **state)
{
	static const char *const bad[] = {
		"", "http://", "https://", "ftp://h/v", "file:///etc/passwd",
		"HTTP://h/v", "//h/v", "h/v", "javascript:alert(1)",
		"http://u:pw@h/v", "http://u@h/v", "http://[::1]/v",
		"http://.h/v", "http://-h/v", "http://h_x/v", "http://h:/v",
		"http://h:0/v", "http://h:65536/v", "http://h:123456/v",
		"http://h:80x/v", "http://h/v w", "http://h/v#frag",
		"http://h/a\\\\b", "http://h/\\u00e9", "http://h/\\t",
		"http://h\\u0000/v", "http://h/v\\u007f",
	};
	char json[512], out[VIDEOURL_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(json, sizeof(json), "{\"video_url\":\"%s\"}", bad[i]);
		if (parse(json, out) != -1)
			fail_msg("accepted %s", bad[i]);
	}
}

static void
test_bad_answer(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "\"http://h/v\"", "{}", "{\"video_url\":1}",
		"{\"video_url\":null}", "{\"url\":\"http://h/v\"}",
		"{\"errcode\":40007,\"video_url\":\"http://h/v\"}",
		"{\"errcode\":\"0\",\"video_url\":\"http://h/v\"}",
		"{\"video_url\":\"http://h/v\",\"video_url\":\"http://i/v\"}",
		"{\"video_url\":\"http://h/v\"} x",
	};
	char out[VIDEOURL_MAX + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], out) != -1)
			fail_msg("accepted %s", bad[i]);
}

/* VIDEOURL_MAX characters pass, one more does not; so for the answer. */
static void
test_limits(void **state)
{
	char *json, out[VIDEOURL_MAX + 1];
	const char *why;
	size_t n, pre = strlen("{\"video_url\":\"http://h/");

	(void)state;
	json = malloc(VIDEOURL_ANSWER_MAX + 64);
	assert_non_null(json);
	for (n = VIDEOURL_MAX; n <= VIDEOURL_MAX + 1; n++) {
		memcpy(json, "{\"video_url\":\"http://h/", pre);
		memset(json + pre, 'a', n - strlen("http://h/"));
		memcpy(json + pre + n - strlen("http://h/"), "\"}", 3);
		assert_int_equal(parse(json, out), n == VIDEOURL_MAX ? 0 : -1);
	}
	assert_int_equal(strlen(out), VIDEOURL_MAX);
	/* Padding past the answer's bound: refused before parsing. */
	memcpy(json, "{\"video_url\":\"http://h/v\"", 25);
	memset(json + 25, ' ', VIDEOURL_ANSWER_MAX);
	memcpy(json + 25 + VIDEOURL_ANSWER_MAX - 26, "}", 2);
	assert_int_equal(videourl_parse(json, VIDEOURL_ANSWER_MAX, out, &why),
	    0);
	json[VIDEOURL_ANSWER_MAX - 1] = ' ';
	json[VIDEOURL_ANSWER_MAX] = '}';
	assert_int_equal(videourl_parse(json, VIDEOURL_ANSWER_MAX + 1, out,
	    &why), -1);
	free(json);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad_url),
		cmocka_unit_test(test_bad_answer),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
