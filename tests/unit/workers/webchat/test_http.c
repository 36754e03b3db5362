/*
 * Unit tests for workers/webchat/http.c: complete and pipelined heads,
 * byte-at-a-time input, each refusal (400, 413, 414, 431), method and
 * upgrade detection, Host and version checks (400, 505), every reason
 * phrase, and the response writer's headers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "webchat/http.h"

struct parsed {
	struct http_parse	hp;
	struct http_req		req;
	enum http_result	r;
	size_t			used;
};

/* Feed s whole (step 0) or step bytes at a time, until done or error. */
static void
parse(struct parsed *p, const char *s, size_t max_header, size_t step)
{
	size_t len = strlen(s), off = 0, n, used;

	http_parse_init(&p->hp, &p->req, max_header);
	p->used = 0;
	if (step == 0)
		step = len;
	do {
		n = len - off < step ? len - off : step;
		p->r = http_parse_feed(&p->hp, s + off, n, &used);
		p->used += used;
		off += n;
	} while (p->r == HTTP_MORE && off < len);
}

static void
test_good_get(void **state)
{
	struct parsed p;
	const char *s = "GET /index.html?from=singlemessage HTTP/1.1\r\n"
	    "Host: example.org\r\nUser-Agent: MicroMessenger\r\n\r\n";

	(void)state;
	parse(&p, s, 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(p.used, strlen(s));
	assert_int_equal(p.req.method, HTTP_GET);
	assert_string_equal(p.req.path, "/index.html");
	assert_int_equal(p.req.keep_alive, 1);
	assert_int_equal(p.req.upgrade, 0);
	assert_int_equal(p.req.major, 1);
	assert_int_equal(p.req.minor, 1);
}

static void
test_byte_at_a_time(void **state)
{
	struct parsed p;
	const char *s = "GET /healthz HTTP/1.1\r\nHost: a\r\n"
	    "Connection: close\r\n\r\n";

	(void)state;
	parse(&p, s, 8192, 1);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(p.used, strlen(s));
	assert_string_equal(p.req.path, "/healthz");
	assert_int_equal(p.req.keep_alive, 0);
	assert_string_equal(p.req.h_connection, "close");
}

static void
test_pipelined(void **state)
{
	struct parsed p;
	const char *first = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	char s[256];

	(void)state;
	snprintf(s, sizeof(s), "%sGET /chat.js HTTP/1.1\r\nHost: a\r\n\r\n",
	    first);
	parse(&p, s, 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	/* Only the first head is consumed; the rest is the next request. */
	assert_int_equal(p.used, strlen(first));
	assert_string_equal(p.req.path, "/");
	parse(&p, s + strlen(first), 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_string_equal(p.req.path, "/chat.js");
}

static void
test_http10(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "GET / HTTP/1.0\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(p.req.keep_alive, 0);
	parse(&p, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(p.req.keep_alive, 1);
}

static void
test_incomplete(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "GET / HTTP/1.1\r\nHost: a\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_MORE);
}

static void
test_header_over_limit(void **state)
{
	struct parsed p;
	char s[4096];

	(void)state;
	/* An ignored header still counts against max_header. */
	snprintf(s, sizeof(s),
	    "GET / HTTP/1.1\r\nHost: a\r\nX-Junk: %02000d\r\n\r\n",
	    0);
	parse(&p, s, 1024, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 431);
	/* The same, arriving slowly, never waits for the end of the head. */
	parse(&p, s, 1024, 7);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 431);
	/* Exactly at the limit passes. */
	parse(&p, s, strlen(s), 0);
	assert_int_equal(p.r, HTTP_DONE);
}

static void
test_kept_value_too_long(void **state)
{
	struct parsed p;
	char s[1024];

	(void)state;
	snprintf(s, sizeof(s),
	    "GET / HTTP/1.1\r\nHost: a\r\nConnection: %0300d\r\n\r\n",
	    0);
	parse(&p, s, 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 431);
}

static void
test_too_many_headers(void **state)
{
	struct parsed p;
	char s[4096];
	size_t off, i;

	(void)state;
	off = (size_t)snprintf(s, sizeof(s), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i <= HTTP_HEADERS_MAX; i++)
		off += (size_t)snprintf(s + off, sizeof(s) - off, "X%zu: y\r\n",
		    i);
	snprintf(s + off, sizeof(s) - off, "\r\n");
	parse(&p, s, 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 431);
}

static void
test_url_too_long(void **state)
{
	struct parsed p;
	char s[4096];

	(void)state;
	snprintf(s, sizeof(s), "GET /%01100d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	parse(&p, s, 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 414);
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"GARBAGE\r\n\r\n",
		"GET / HTTP/1.1\r\nHost a\r\n\r\n",
		"GET / HTTP/9.9.9\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
		    "Content-Length: 2\r\n\r\n",
		"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
		"\x01\x02\x03\r\n\r\n",
		NULL
	};
	struct parsed p;
	size_t i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		parse(&p, bad[i], 8192, 0);
		assert_int_equal(p.r, HTTP_ERROR);
		assert_int_equal(p.hp.status, 400);
	}
}

static void
test_methods_and_bodies(void **state)
{
	struct parsed p;

	(void)state;
	/* Not GET: parsed fine; routing answers 405. */
	parse(&p, "POST / HTTP/1.1\r\nHost: a\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(p.req.method, HTTP_POST);
	parse(&p, "DELETE /ws HTTP/1.1\r\nHost: a\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(p.req.method, HTTP_DELETE);
	/* Any body is refused before it is read. */
	parse(&p, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
	    "hello", 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 413);
	parse(&p, "GET / HTTP/1.1\r\nHost: a\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"
	    "0\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 413);
	/* An empty declared body is no body. */
	parse(&p, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	    8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
}

static void
test_upgrade(void **state)
{
	struct parsed p;
	const char *s = "GET /ws HTTP/1.1\r\nHost: a\r\n"
	    "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
	    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n\x81\x85";

	(void)state;
	parse(&p, s, 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(p.req.upgrade, 1);
	/* The frame bytes after the head are left for the WebSocket. */
	assert_int_equal(p.used, strlen(s) - 2);
	assert_string_equal(p.req.path, "/ws");
	assert_string_equal(p.req.h_upgrade, "websocket");
	assert_string_equal(p.req.h_ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
	assert_string_equal(p.req.h_ws_version, "13");
	assert_true(http_token_has(p.req.h_connection, "upgrade"));
	assert_true(http_token_has(p.req.h_connection, "Keep-Alive"));
	assert_false(http_token_has(p.req.h_connection, "close"));
	assert_false(http_token_has("upgrades", "upgrade"));

	parse(&p, "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
	    8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(p.req.upgrade, 0);
}

static void
test_repeated_header(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "GET / HTTP/1.1\r\nHost: a\r\nConnection: a\r\n"
	    "Connection: b\r\n\r\n",
	    8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_string_equal(p.req.h_connection, "a, b");
}

/*
 * The console's headers: two Cookie lines join with "; " (RFC 6265
 * 5.4), a cookie may pass HTTP_VALUE_MAX up to HTTP_COOKIE_MAX, and
 * Origin, Host, X-CSRF-Token and Sec-Fetch-Site are kept.
 */
static void
test_console_headers(void **state)
{
	char head[HTTP_COOKIE_MAX + 256], big[HTTP_COOKIE_MAX + 2];
	struct parsed p;

	(void)state;
	parse(&p, "POST /api/logout HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
	    "Cookie: a=1\r\nCookie: b=2\r\nOrigin: http://127.0.0.1:9\r\n"
	    "X-CSRF-Token: t\r\nSec-Fetch-Site: same-origin\r\n"
	    "Content-Length: 0\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_string_equal(p.req.h_cookie, "a=1; b=2");
	assert_string_equal(p.req.h_origin, "http://127.0.0.1:9");
	assert_string_equal(p.req.h_host, "127.0.0.1:9");
	assert_string_equal(p.req.h_csrf, "t");
	assert_string_equal(p.req.h_fetch_site, "same-origin");
	memset(big, 'c', HTTP_COOKIE_MAX);
	big[HTTP_COOKIE_MAX] = '\0';
	snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: a\r\n"
	    "Cookie: %s\r\n\r\n", big);
	parse(&p, head, sizeof(head), 0);
	assert_int_equal(p.r, HTTP_DONE);
	assert_int_equal(strlen(p.req.h_cookie), HTTP_COOKIE_MAX);
	/* One byte more is 431, as for any kept header. */
	big[HTTP_COOKIE_MAX] = 'c';
	big[HTTP_COOKIE_MAX + 1] = '\0';
	snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: a\r\n"
	    "Cookie: %s\r\n\r\n", big);
	parse(&p, head, sizeof(head), 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 431);
	/* The other kept headers keep their own bound. */
	memset(big, 'o', HTTP_VALUE_MAX + 1);
	big[HTTP_VALUE_MAX + 1] = '\0';
	snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nHost: a\r\n"
	    "Origin: %s\r\n\r\n", big);
	parse(&p, head, sizeof(head), 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 431);
}

/* RFC 9112 3.2 and 2.3: Host once in 1.1, and only major version 1. */
static void
test_host_and_version(void **state)
{
	struct parsed p;

	(void)state;
	parse(&p, "GET / HTTP/1.1\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 400);
	parse(&p, "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 400);
	/* Split across feeds, a name is still one name. */
	parse(&p, "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 8192, 1);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 400);
	/* 1.0 predates Host. */
	parse(&p, "GET / HTTP/1.0\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_DONE);
	parse(&p, "GET / HTTP/9.9\r\nHost: a\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 505);
	parse(&p, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 8192, 0);
	assert_int_equal(p.r, HTTP_ERROR);
	assert_int_equal(p.hp.status, 505);
}

/* Every status the worker sends has its own reason phrase. */
static void
test_reasons(void **state)
{
	static const struct {
		int		 status;
		const char	*reason;
	} want[] = {
		{ 101, "Switching Protocols" }, { 200, "OK" },
		{ 400, "Bad Request" }, { 404, "Not Found" },
		{ 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 410, "Gone" }, { 413, "Content Too Large" },
		{ 414, "URI Too Long" }, { 426, "Upgrade Required" },
		{ 429, "Too Many Requests" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 503, "Service Unavailable" },
		{ 505, "HTTP Version Not Supported" },
	};
	struct evbuffer *b = evbuffer_new();
	char line[128], *s;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_string_equal(http_reason(want[i].status),
		    want[i].reason);
		http_response(b, want[i].status, NULL, NULL, 0, HTTP_R_CLOSE);
		len = evbuffer_get_length(b);
		s = calloc(1, len + 1);
		evbuffer_remove(b, s, len);
		snprintf(line, sizeof(line), "HTTP/1.1 %d %s\r\n",
		    want[i].status, want[i].reason);
		assert_memory_equal(s, line, strlen(line));
		free(s);
	}
	evbuffer_free(b);
}

static void
test_response(void **state)
{
	struct evbuffer *b = evbuffer_new();
	char *s;
	size_t len;

	(void)state;
	http_response(b, 200, "text/plain", "ok\n", 3, 0);
	len = evbuffer_get_length(b);
	s = calloc(1, len + 1);
	evbuffer_remove(b, s, len);
	assert_non_null(strstr(s, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(s, "Content-Length: 3\r\n"));
	assert_non_null(strstr(s, "Connection: keep-alive\r\n"));
	assert_non_null(strstr(s, "X-Content-Type-Options: nosniff\r\n"));
	assert_non_null(strstr(s, "Referrer-Policy: no-referrer\r\n"));
	assert_non_null(strstr(s, "frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'none'\r\n"));
	assert_string_equal(s + len - 7, "\r\n\r\nok\n");
	free(s);

	http_response(b, 405, NULL, NULL, 0, HTTP_R_CLOSE);
	len = evbuffer_get_length(b);
	s = calloc(1, len + 1);
	evbuffer_remove(b, s, len);
	assert_non_null(strstr(s, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(s, "Allow: GET\r\n"));
	assert_non_null(strstr(s, "Content-Length: 0\r\n"));
	assert_non_null(strstr(s, "Connection: close\r\n"));
	free(s);
	evbuffer_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_get),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_http10),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_header_over_limit),
		cmocka_unit_test(test_kept_value_too_long),
		cmocka_unit_test(test_too_many_headers),
		cmocka_unit_test(test_url_too_long),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_methods_and_bodies),
		cmocka_unit_test(test_upgrade),
		cmocka_unit_test(test_repeated_header),
		cmocka_unit_test(test_console_headers),
		cmocka_unit_test(test_host_and_version),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_response),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
