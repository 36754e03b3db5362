/*
 * Unit tests for workers/webchat/ws.c: the RFC 6455 accept key, the
 * handshake checks, and the wslay glue driven through plain evbuffers:
 * text, fragments, binary refusal, too_large/1009, bad_utf8/1007, ping,
 * the close handshake, and the context let go between bursts.
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
#include "webchat/ws.h"

struct peer {
	struct evbuffer	*in;
	struct evbuffer	*out;
	struct ws	*ws;
	int		 ntext;
	char		 text[256];
	int		 nerror;
	char		 code[64];
};

struct frame {
	int		 fin;
	int		 op;
	size_t		 len;
	unsigned char	 data[1024];
};

static void
on_text(void *arg, const char *s, size_t len)
{
	struct peer *p = arg;

	p->ntext++;
	snprintf(p->text, sizeof(p->text), "%.*s", (int)len, s);
	/* Answer the way webchat.c does, from inside the callback. */
	assert_int_equal(ws_send_text(p->ws, "ack", 3), 0);
}

static void
on_error(void *arg, const char *code, const char *message)
{
	struct peer *p = arg;

	(void)message;
	p->nerror++;
	snprintf(p->code, sizeof(p->code), "%s", code);
	assert_int_equal(ws_send_text(p->ws, code, strlen(code)), 0);
}

static const struct ws_cb cb = { on_text, on_error };

static struct peer *
peer_new(size_t max_msg)
{
	struct peer *p = calloc(1, sizeof(*p));

	p->in = evbuffer_new();
	p->out = evbuffer_new();
	p->ws = ws_new(p->in, p->out, max_msg, &cb, p);
	assert_non_null(p->ws);
	return p;
}

static void
peer_free(struct peer *p)
{
	ws_free(p->ws);
	evbuffer_free(p->in);
	evbuffer_free(p->out);
	free(p);
}

/* A masked client frame, as browsers send. */
static void
client_frame(struct evbuffer *b, int fin, int op, const void *data,
    size_t len)
{
	static const unsigned char mask[4] = { 0x12, 0x34, 0x56, 0x78 };
	unsigned char h[14];
	const unsigned char *d = data;
	unsigned char c;
	size_t hl = 0, i;

	h[hl++] = (unsigned char)((fin ? 0x80 : 0) | op);
	if (len < 126)
		h[hl++] = (unsigned char)(0x80 | len);
	else if (len <= 0xffff) {
		h[hl++] = 0x80 | 126;
		h[hl++] = (unsigned char)(len >> 8);
		h[hl++] = (unsigned char)len;
	} else {
		h[hl++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[hl++] = (unsigned char)((uint64_t)len >>
			    (56 - 8 * i));
	}
	memcpy(h + hl, mask, 4);
	hl += 4;
	evbuffer_add(b, h, hl);
	for (i = 0; i < len; i++) {
		c = d[i] ^ mask[i % 4];
		evbuffer_add(b, &c, 1);
	}
}

/* Pop one unmasked server frame; 0 when none is complete. */
static int
server_frame(struct evbuffer *b, struct frame *f)
{
	unsigned char h[10];
	size_t hl = 2, i;

	if (evbuffer_copyout(b, h, 2) != 2)
		return 0;
	f->fin = (h[0] & 0x80) != 0;
	f->op = h[0] & 0x0f;
	assert_int_equal(h[1] & 0x80, 0);	/* servers never mask */
	f->len = h[1] & 0x7f;
	if (f->len == 126) {
		hl = 4;
		evbuffer_copyout(b, h, 4);
		f->len = ((size_t)h[2] << 8) | h[3];
	} else if (f->len == 127) {
		hl = 10;
		evbuffer_copyout(b, h, 10);
		for (f->len = 0, i = 0; i < 8; i++)
			f->len = (f->len << 8) | h[2 + i];
	}
	assert_true(f->len <= sizeof(f->data));
	evbuffer_drain(b, hl);
	assert_int_equal(evbuffer_remove(b, f->data, f->len), (int)f->len);
	return 1;
}

static unsigned
close_code(const struct frame *f)
{
	assert_int_equal(f->op, 0x8);
	assert_true(f->len >= 2);
	return ((unsigned)f->data[0] << 8) | f->data[1];
}

/* RFC 6455 section 1.3's example, checked against Python's hashlib. */
static void
test_accept_key(void **state)
{
	const char *key = "dGhlIHNhbXBsZSBub25jZQ==";
	char out[WS_ACCEPT_LEN + 1];

	(void)state;
	assert_int_equal(ws_accept_key(key, strlen(key), out), 0);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(ws_accept_key(key, 10, out), -1);
}

static void
good_req(struct http_req *r)
{
	memset(r, 0, sizeof(*r));
	r->method = HTTP_GET;
	r->major = 1;
	r->minor = 1;
	r->upgrade = 1;
	strcpy(r->path, "/ws");
	strcpy(r->h_upgrade, "websocket");
	strcpy(r->h_connection, "Upgrade");
	strcpy(r->h_ws_key, "dGhlIHNhbXBsZSBub25jZQ==");
	strcpy(r->h_ws_version, "13");
}

static void
test_handshake_check(void **state)
{
	struct http_req r;
	char acc[WS_ACCEPT_LEN + 1];
	struct evbuffer *b;
	char buf[512];
	size_t n;

	(void)state;
	good_req(&r);
	assert_int_equal(ws_handshake_check(&r, acc), 0);
	assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

	b = evbuffer_new();
	ws_handshake_response(b, acc);
	n = evbuffer_remove(b, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "HTTP/1.1 101 Switching Protocols\r\n"));
	assert_non_null(strstr(buf,
	    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
	evbuffer_free(b);

	good_req(&r);
	strcpy(r.h_ws_version, "8");
	assert_int_equal(ws_handshake_check(&r, acc), 426);
	good_req(&r);
	r.h_ws_key[0] = '\0';
	assert_int_equal(ws_handshake_check(&r, acc), 400);
	good_req(&r);
	strcpy(r.h_ws_key, "dGhlIHNhbXBsZSBub25jZQ");
	assert_int_equal(ws_handshake_check(&r, acc), 400);
	good_req(&r);
	strcpy(r.h_ws_key, "dGhlIHNhbXBsZ*Bub25jZQ==");
	assert_int_equal(ws_handshake_check(&r, acc), 400);
	good_req(&r);
	strcpy(r.h_upgrade, "h2c");
	assert_int_equal(ws_handshake_check(&r, acc), 400);
	good_req(&r);
	strcpy(r.h_connection, "keep-alive");
	assert_int_equal(ws_handshake_check(&r, acc), 400);
	good_req(&r);
	r.method = HTTP_POST;
	assert_int_equal(ws_handshake_check(&r, acc), 400);
	good_req(&r);
	r.minor = 0;
	assert_int_equal(ws_handshake_check(&r, acc), 400);
}

static void
test_text(void **state)
{
	struct peer *p = peer_new(64);
	struct frame f;

	(void)state;
	client_frame(p->in, 1, 0x1, "hello", 5);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 1);
	assert_string_equal(p->text, "hello");
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0x1);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.data, "ack", 3);
	assert_false(ws_finished(p->ws));

	/* An empty message is a message (rpc.c calls it bad_json). */
	client_frame(p->in, 1, 0x1, "", 0);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 2);
	assert_string_equal(p->text, "");
	assert_true(server_frame(p->out, &f));

	/* Fragmented, with a ping in between: still one message. */
	client_frame(p->in, 0, 0x1, "he", 2);
	client_frame(p->in, 1, 0x9, "pp", 2);
	client_frame(p->in, 0, 0x0, "ll", 2);
	client_frame(p->in, 1, 0x0, "o!", 2);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 3);
	assert_string_equal(p->text, "hello!");
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0xa);	/* pong, same payload */
	assert_memory_equal(f.data, "pp", 2);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0x1);
	peer_free(p);
}

static void
test_binary(void **state)
{
	struct peer *p = peer_new(64);
	struct frame f;

	(void)state;
	client_frame(p->in, 1, 0x2, "\x00\x01", 2);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->nerror, 1);
	assert_string_equal(p->code, "binary_unsupported");
	assert_int_equal(p->ntext, 0);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0x1);
	/* The connection stays usable. */
	client_frame(p->in, 1, 0x1, "x", 1);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 1);
	peer_free(p);
}

static void
test_too_large(void **state)
{
	struct peer *p = peer_new(16);
	char big[40000];
	struct frame f;

	(void)state;
	/* At the limit passes. */
	client_frame(p->in, 1, 0x1, "0123456789abcdef", 16);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 1);
	assert_true(server_frame(p->out, &f));

	/* One byte over, across fragments: error frame, then 1009. */
	client_frame(p->in, 0, 0x1, "0123456789", 10);
	client_frame(p->in, 1, 0x0, "abcdefg", 7);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 1);
	assert_string_equal(p->code, "too_large");
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0x1);
	assert_memory_equal(f.data, "too_large", 9);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(close_code(&f), 1009);
	assert_true(ws_finished(p->ws));
	/* Later input is discarded, not buffered. */
	client_frame(p->in, 1, 0x1, "late", 4);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(evbuffer_get_length(p->in), 0);
	assert_int_equal(p->ntext, 1);
	peer_free(p);

	/* A single big frame, as browsers send: same answer. */
	p = peer_new(16);
	memset(big, 'a', sizeof(big));
	client_frame(p->in, 1, 0x1, big, sizeof(big));
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->nerror, 1);
	assert_string_equal(p->code, "too_large");
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0x1);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(close_code(&f), 1009);
	peer_free(p);
}

static void
test_bad_utf8(void **state)
{
	static const char *const bad[] = {
		"\xff", "a\xc3", "\xed\xa0\x80", "nul\0byte", NULL
	};
	static const size_t badlen[] = { 1, 2, 3, 8 };
	struct peer *p;
	struct frame f;
	size_t i;

	(void)state;
	for (i = 0; bad[i] != NULL; i++) {
		p = peer_new(64);
		client_frame(p->in, 1, 0x1, bad[i], badlen[i]);
		assert_int_equal(ws_read(p->ws), 0);
		assert_int_equal(p->ntext, 0);
		assert_int_equal(p->nerror, 1);
		assert_string_equal(p->code, "bad_utf8");
		assert_true(server_frame(p->out, &f));
		assert_int_equal(f.op, 0x1);
		assert_memory_equal(f.data, "bad_utf8", 8);
		assert_true(server_frame(p->out, &f));
		assert_int_equal(close_code(&f), 1007);
		peer_free(p);
	}
}

static void
test_close_handshake(void **state)
{
	struct peer *p = peer_new(64);
	struct frame f;

	(void)state;
	client_frame(p->in, 1, 0x8, "\x03\xe8", 2);
	assert_int_equal(ws_read(p->ws), 0);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(close_code(&f), 1000);
	assert_true(ws_finished(p->ws));
	/* Nothing is sent after the close. */
	assert_int_equal(ws_send_text(p->ws, "x", 1), 0);
	assert_false(server_frame(p->out, &f));
	peer_free(p);

	/* Server-initiated: wait for the peer's close. */
	p = peer_new(64);
	assert_int_equal(ws_close(p->ws, 1001), 0);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(close_code(&f), 1001);
	assert_false(ws_finished(p->ws));
	client_frame(p->in, 1, 0x8, "\x03\xe9", 2);
	assert_int_equal(ws_read(p->ws), 0);
	assert_true(ws_finished(p->ws));
	peer_free(p);
}

static void
test_protocol_error(void **state)
{
	struct peer *p = peer_new(64);
	struct frame f;
	const unsigned char unmasked[] = { 0x81, 0x01, 'x' };

	(void)state;
	/* Clients must mask: wslay answers 1002 and reads no more. */
	evbuffer_add(p->in, unmasked, sizeof(unmasked));
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 0);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(close_code(&f), 1002);
	peer_free(p);
}

static void
test_slow_reader(void **state)
{
	struct peer *p = peer_new(64);
	static char chunk[64 * 1024];
	int i, r = 0;

	(void)state;
	memset(chunk, 'x', sizeof(chunk));
	for (i = 0; i < 64 && r == 0; i++)
		r = ws_send_text(p->ws, chunk, sizeof(chunk));
	assert_int_equal(r, -1);
	assert_true(evbuffer_get_length(p->out) > WS_OUT_MAX);
	peer_free(p);
}

/*
 * An idle connection holds no wslay context or message buffer, and
 * whatever wslay must remember between reads keeps them: a frame cut
 * anywhere, a fragmented message, a close.
 */
static void
test_idle_release(void **state)
{
	struct peer *p = peer_new(64);
	struct frame f;
	struct evbuffer *whole;
	unsigned char b;
	size_t i, n;

	(void)state;
	assert_true(ws_idle(p->ws));
	client_frame(p->in, 1, 0x1, "hello", 5);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 1);
	assert_true(server_frame(p->out, &f));
	assert_memory_equal(f.data, "ack", 3);
	assert_true(ws_idle(p->ws));
	assert_false(ws_partial(p->ws));

	/* One byte per read: held until the frame is whole, then let go. */
	whole = evbuffer_new();
	client_frame(whole, 1, 0x1, "byte by byte", 12);
	n = evbuffer_get_length(whole);
	for (i = 0; i < n; i++) {
		assert_int_equal(evbuffer_remove(whole, &b, 1), 1);
		evbuffer_add(p->in, &b, 1);
		assert_int_equal(ws_read(p->ws), 0);
		if (i + 1 < n) {
			assert_false(ws_idle(p->ws));
			assert_true(ws_partial(p->ws));
			assert_int_equal(p->ntext, 1);
		}
	}
	evbuffer_free(whole);
	assert_int_equal(p->ntext, 2);
	assert_string_equal(p->text, "byte by byte");
	assert_true(server_frame(p->out, &f));
	assert_memory_equal(f.data, "ack", 3);
	assert_false(server_frame(p->out, &f));
	assert_true(ws_idle(p->ws));

	/* A fragmented message across reads, a ping in its middle. */
	client_frame(p->in, 0, 0x1, "frag", 4);
	assert_int_equal(ws_read(p->ws), 0);
	assert_false(ws_idle(p->ws));
	/* Each fragment is whole, the message not: due as a frame is. */
	assert_true(ws_partial(p->ws));
	client_frame(p->in, 1, 0x9, "pi", 2);
	assert_int_equal(ws_read(p->ws), 0);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0xa);
	assert_false(ws_idle(p->ws));
	client_frame(p->in, 1, 0x0, "ment", 4);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 3);
	assert_string_equal(p->text, "fragment");
	assert_true(server_frame(p->out, &f));
	assert_true(ws_idle(p->ws));
	assert_false(ws_partial(p->ws));

	/* A ping alone, and a message sent from idle. */
	client_frame(p->in, 1, 0x9, "", 0);
	assert_int_equal(ws_read(p->ws), 0);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0xa);
	assert_true(ws_idle(p->ws));
	assert_int_equal(ws_send_text(p->ws, "event", 5), 0);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(f.op, 0x1);
	assert_memory_equal(f.data, "event", 5);
	assert_true(ws_idle(p->ws));

	/* A close from idle is remembered until the peer answers. */
	assert_false(ws_finished(p->ws));
	assert_int_equal(ws_close(p->ws, 1001), 0);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(close_code(&f), 1001);
	assert_false(ws_idle(p->ws));
	assert_int_equal(ws_send_text(p->ws, "late", 4), 0);
	assert_false(server_frame(p->out, &f));
	client_frame(p->in, 1, 0x8, "\x03\xe9", 2);
	assert_int_equal(ws_read(p->ws), 0);
	assert_true(ws_finished(p->ws));
	peer_free(p);

	/* A continuation with no message begun is refused from idle too. */
	p = peer_new(64);
	client_frame(p->in, 1, 0x1, "a", 1);
	assert_int_equal(ws_read(p->ws), 0);
	assert_true(server_frame(p->out, &f));
	assert_true(ws_idle(p->ws));
	client_frame(p->in, 1, 0x0, "b", 1);
	assert_int_equal(ws_read(p->ws), 0);
	assert_int_equal(p->ntext, 1);
	assert_true(server_frame(p->out, &f));
	assert_int_equal(close_code(&f), 1002);
	assert_false(ws_idle(p->ws));
	peer_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_key),
		cmocka_unit_test(test_handshake_check),
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_close_handshake),
		cmocka_unit_test(test_protocol_error),
		cmocka_unit_test(test_slow_reader),
		cmocka_unit_test(test_idle_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
