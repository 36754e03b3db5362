/*
 * Unit tests for workers/wecom_bot/handshake.c: the URLs the config
 * allows, the upgrade request, and the answer checked against RFC 6455
 * section 1.3's own example key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wecom_bot/handshake.h"

/* RFC 6455 1.3: this key is answered with this accept value. */
#define KEY	"dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT	"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void
test_url(void **state)
{
	struct wsh_url u;

	(void)state;
	assert_int_equal(wsh_url_parse("wss://openws.work.weixin.qq.com", &u),
	    0);
	assert_int_equal(u.tls, 1);
	assert_string_equal(u.host, "openws.work.weixin.qq.com");
	assert_string_equal(u.port, "443");
	assert_string_equal(u.path, "/");
	assert_int_equal(wsh_url_parse("ws://127.0.0.1:8080/x?y=1", &u), 0);
	assert_int_equal(u.tls, 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "8080");
	assert_string_equal(u.path, "/x?y=1");
	assert_int_equal(wsh_url_parse("ws://[::1]:9/", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.v6, 1);
	assert_int_equal(wsh_url_parse("https://a", &u), -1);
	assert_int_equal(wsh_url_parse("ws://", &u), -1);
	assert_int_equal(wsh_url_parse("ws://a:0", &u), -1);
	assert_int_equal(wsh_url_parse("ws://a:70000", &u), -1);
	assert_int_equal(wsh_url_parse("ws://a:8x", &u), -1);
	assert_int_equal(wsh_url_parse("ws://a b", &u), -1);
	assert_int_equal(wsh_url_parse("ws://a#f", &u), -1);
}

static void
test_request(void **state)
{
	struct wsh_url u;
	char buf[512];

	(void)state;
	assert_int_equal(wsh_url_parse("wss://openws.work.weixin.qq.com", &u),
	    0);
	assert_int_equal(wsh_request(&u, KEY, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "GET / HTTP/1.1\r\n"
	    "Host: openws.work.weixin.qq.com\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Key: " KEY "\r\n"
	    "Sec-WebSocket-Version: 13\r\n\r\n");
	assert_int_equal(wsh_url_parse("ws://127.0.0.1:8080", &u), 0);
	assert_int_equal(wsh_request(&u, KEY, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, "Host: 127.0.0.1:8080\r\n"));
	assert_int_equal(wsh_request(&u, KEY, buf, 40), -1);
}

static void
test_check(void **state)
{
	const char *why;
	static const char ok[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "upgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n";
	static const char wrong[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n";
	static const char twice[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n";
	static const char portal[] = "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/html\r\n\r\n";
	static const char noup[] = "HTTP/1.1 101 Switching Protocols\r\n"
	    "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n";

	(void)state;
	assert_int_equal(wsh_check(ok, sizeof(ok) - 1, KEY, &why), 0);
	assert_int_equal(wsh_check(wrong, sizeof(wrong) - 1, KEY, &why), -1);
	assert_int_equal(wsh_check(twice, sizeof(twice) - 1, KEY, &why), -1);
	assert_int_equal(wsh_check(portal, sizeof(portal) - 1, KEY, &why),
	    -1);
	assert_int_equal(wsh_check(noup, sizeof(noup) - 1, KEY, &why), -1);
	assert_int_equal(wsh_check("HTTP", 4, KEY, &why), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
