/*
 * Unit tests for sup.resync in the webchat worker (webchat.c with its
 * real http.c, ws.c and rpc.c, on loopback TCP sockets): a WebSocket
 * gets close code 1012, a keep-alive HTTP connection is closed, one
 * awaiting its peer.verdict goes at once, the old hub's late answers
 * are dropped, and the listener keeps accepting.  worker.c, the page
 * and the QR code are the stubs below.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "webchat/page.h"
#include "qr.h"
#include "worker.h"

#define FRAMES_MAX	64

struct frame {
	uint32_t	 type;
	uint64_t	 req_id;
	uint64_t	 conn;
};

static struct frame	 frames[FRAMES_MAX];
static size_t		 nframes;
static struct event_base *base;
static struct sockaddr_in lsin;

int
worker_send(uint32_t type, uint64_t req_id, const void *body)
{
	const union ipc_body *b = body;
	struct frame *f;

	assert_true(nframes < FRAMES_MAX);
	f = &frames[nframes++];
	f->type = type;
	f->req_id = req_id;
	switch (type) {
	case IPC_PEER_OPEN:
		f->conn = b->conn_addr.conn;
		break;
	case IPC_PEER_CLOSE:
	case IPC_CONN_CLOSE:
		f->conn = b->conn.conn;
		break;
	case IPC_CONN_OPEN:
		f->conn = b->conn_open.conn;
		break;
	case IPC_CHAT_SEND:
		f->conn = b->chat_send.conn;
		break;
	default:
		f->conn = 0;
		break;
	}
	return 0;
}

/* Closes are owed frames: recorded as the others. */
int
worker_send_owed(uint32_t type, uint64_t req_id, const void *body)
{
	return worker_send(type, req_id, body);
}

struct event_base *
worker_base(void)
{
	return base;
}

const struct page_asset *
page_find(const char *path)
{
	(void)path;
	return NULL;
}

int
page_config(struct json_t *conf, struct json_t *avatar)
{
	(void)conf;
	(void)avatar;
	return 0;
}

const char page_gone[] = "gone\n";
const char page_bind_invalid[] = "invalid\n";
const char page_bind_expired[] = "expired\n";
const char page_bind_used[] = "used\n";
const char page_bind_revoked[] = "revoked\n";

char *
qr_svg(const char *text)
{
	(void)text;
	return NULL;
}

static int
handle(struct ipc_msg *m)
{
	const struct wk_handler *h;

	for (h = wk_webchat.handlers; h->fn != NULL; h++)
		if (h->type == m->type)
			return h->fn(m);
	fail_msg("no handler for %u", m->type);
	return -1;
}

static int
verdict(uint32_t type, uint64_t conn, uint64_t status)
{
	struct ipc_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.fd = -1;
	m.b.conn_verdict.conn = conn;
	m.b.conn_verdict.status = status;
	return handle(&m);
}

static void
pump(long ms)
{
	struct timeval tv = { 0, 10 * 1000 };
	long spent;

	for (spent = 0; spent < ms; spent += 10) {
		event_base_loopexit(base, &tv);
		event_base_dispatch(base);
	}
}

/* The last frame of type for conn, or NULL. */
static const struct frame *
frame_find(uint32_t type, uint64_t conn, size_t from)
{
	size_t i;

	for (i = nframes; i > from; i--)
		if (frames[i - 1].type == type && frames[i - 1].conn == conn)
			return &frames[i - 1];
	return NULL;
}

static int
listener(void)
{
	socklen_t len = sizeof(lsin);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd != -1);
	memset(&lsin, 0, sizeof(lsin));
	lsin.sin_family = AF_INET;
	lsin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&lsin, sizeof(lsin)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&lsin, &len), 0);
	return fd;
}

/* A client, accepted and counted: its conn id is returned. */
static uint64_t
client(int *fdp)
{
	const struct frame *f;
	size_t mark = nframes;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd != -1);
	assert_int_equal(connect(fd, (struct sockaddr *)&lsin,
	    sizeof(lsin)), 0);
	pump(50);
	assert_true(nframes > mark);
	f = &frames[nframes - 1];
	assert_int_equal(f->type, IPC_PEER_OPEN);
	*fdp = fd;
	return f->conn;
}

static void
say(int fd, const void *p, size_t len)
{
	assert_int_equal(write(fd, p, len), (ssize_t)len);
}

/* What the client has been sent so far, without waiting. */
static ssize_t
hear(int fd, char *buf, size_t len)
{
	ssize_t n;

	n = recv(fd, buf, len - 1, MSG_DONTWAIT);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* One masked text frame (a zero key leaves the payload as it is). */
static void
ws_text(int fd, const char *s)
{
	unsigned char h[6] = { 0x81, 0x80, 0, 0, 0, 0 };
	size_t len = strlen(s);

	assert_true(len < 126);
	h[1] |= (unsigned char)len;
	say(fd, h, sizeof(h));
	say(fd, s, len);
}

static const char upgrade[] =
    "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";

static void
test_webchat_resync(void **state)
{
	struct ipc_msg m;
	char buf[4096];
	const struct frame *f;
	uint64_t ca, cb, cc, cd, ce, req;
	int a, b, c, d, e;
	size_t mark;
	ssize_t n;

	(void)state;
	assert_int_equal(wk_webchat.pre_sandbox(NULL), 0);
	assert_int_equal(wk_webchat.post_sandbox(base), 0);
	memset(&m, 0, sizeof(m));
	m.type = IPC_SUP_LISTEN_FD;
	m.fd = listener();
	assert_int_equal(handle(&m), 0);

	/* A: a WebSocket with a chat.send pending at the old hub. */
	ca = client(&a);
	assert_int_equal(verdict(IPC_PEER_VERDICT, ca, 0), 0);
	say(a, upgrade, strlen(upgrade));
	pump(50);
	assert_non_null(frame_find(IPC_CONN_OPEN, ca, 0));
	assert_int_equal(verdict(IPC_CONN_VERDICT, ca, 0), 0);
	pump(50);
	assert_true(hear(a, buf, sizeof(buf)) > 0);
	assert_true(strncmp(buf, "HTTP/1.1 101", 12) == 0);
	ws_text(a, "{\"id\":1,\"method\":\"chat.send\",\"params\":"
	    "{\"text\":\"hi\",\"client_msg_id\":\"m-1\"}}");
	pump(50);
	assert_non_null(f = frame_find(IPC_CHAT_SEND, ca, 0));
	req = f->req_id;

	/* B: keep-alive HTTP, one answer read.  C: no verdict yet. */
	cb = client(&b);
	assert_int_equal(verdict(IPC_PEER_VERDICT, cb, 0), 0);
	say(b, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 34);
	pump(50);
	assert_true(hear(b, buf, sizeof(buf)) > 0);
	assert_true(strncmp(buf, "HTTP/1.1 200", 12) == 0);
	cc = client(&c);
	/* E: its upgrade waits on the old hub's verdict. */
	ce = client(&e);
	assert_int_equal(verdict(IPC_PEER_VERDICT, ce, 0), 0);
	say(e, upgrade, strlen(upgrade));
	pump(50);
	assert_non_null(frame_find(IPC_CONN_OPEN, ce, 0));

	mark = nframes;
	wk_webchat.resync();
	/* C went at once, and the new hub hears of it. */
	assert_non_null(frame_find(IPC_PEER_CLOSE, cc, mark));
	pump(100);
	/* A: a close frame with 1012, and nothing else. */
	n = hear(a, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "\x88\x02\x03\xf4", 4);
	/* B: closed after its answer. */
	assert_int_equal(hear(b, buf, sizeof(buf)), 0);
	/* C: told to come back, not reset. */
	assert_true(hear(c, buf, sizeof(buf)) > 0);
	assert_true(strncmp(buf, "HTTP/1.1 503", 12) == 0);
	assert_non_null(strstr(buf, "Retry-After: 1\r\n"));
	/* E: likewise, its verdict would never come. */
	assert_true(hear(e, buf, sizeof(buf)) > 0);
	assert_true(strncmp(buf, "HTTP/1.1 503", 12) == 0);
	assert_non_null(strstr(buf, "Retry-After: 1\r\n"));

	/* The old hub's answers, read late by the new one: dropped. */
	memset(&m, 0, sizeof(m));
	m.type = IPC_CHAT_ACCEPTED;
	m.req_id = req;
	m.fd = -1;
	m.b.chat_accepted.conn = ca;
	m.b.chat_accepted.client_msg_id = IPC_S("m-1");
	m.b.chat_accepted.status = IPC_S("accepted");
	assert_int_equal(handle(&m), 0);
	memset(&m, 0, sizeof(m));
	m.type = IPC_CHAT_DELTA;
	m.fd = -1;
	m.b.chat_delta.conn = ca;
	m.b.chat_delta.client_msg_id = IPC_S("m-1");
	m.b.chat_delta.text = IPC_S("late");
	assert_int_equal(handle(&m), 0);
	assert_int_equal(verdict(IPC_PEER_VERDICT, cc, 0), 0);
	assert_int_equal(verdict(IPC_CONN_VERDICT, ca, 0), 0);
	pump(50);
	assert_true(hear(a, buf, sizeof(buf)) <= 0);

	/* A's page answers the close and goes: the hub hears both ends. */
	close(a);
	close(b);
	close(c);
	close(e);
	pump(100);
	/* E's conn.open may have reached the new hub: it is undone. */
	assert_non_null(frame_find(IPC_CONN_CLOSE, ce, mark));
	assert_non_null(frame_find(IPC_PEER_CLOSE, ce, mark));
	assert_non_null(frame_find(IPC_CONN_CLOSE, ca, mark));
	assert_non_null(frame_find(IPC_PEER_CLOSE, ca, mark));
	assert_non_null(frame_find(IPC_PEER_CLOSE, cb, mark));

	/* Still listening: a new page is counted by the new hub. */
	cd = client(&d);
	assert_true(cd > cc);
	close(d);

	/* A second listen fd from the new hub is not fatal. */
	memset(&m, 0, sizeof(m));
	m.type = IPC_SUP_LISTEN_FD;
	m.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(handle(&m), 0);
	assert_int_equal(fcntl(m.fd, F_GETFD), -1);
	pump(50);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_webchat_resync),
	};

	if ((base = event_base_new()) == NULL)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
