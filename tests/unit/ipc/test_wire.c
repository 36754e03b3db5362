/*
 * Unit tests for ipc/wire.c over a real SOCK_SEQPACKET pair: delivery,
 * fd passing, oversized and stray-fd violations, EOF, the bounded
 * send queue, owed frames past it, pacing, and the frames of a peer
 * that died with ours unread.
 */
#include <sys/socket.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "wire.h"
#include "wire_blocking.h"

struct sink {
	int		nmsg;
	uint32_t	last_type;
	int		last_fd;
	char		text[64];
	int		nerr;
	enum wire_ev	last_ev;
	char		why[64];
};

static void
on_msg(struct wire *c, struct ipc_msg *m, void *arg)
{
	struct sink *s = arg;

	(void)c;
	s->nmsg++;
	s->last_type = m->type;
	s->last_fd = m->fd;
	if (m->type == IPC_AGENT_DELTA)
		snprintf(s->text, sizeof(s->text), "%.*s",
		    (int)m->b.text.text.len, m->b.text.text.p);
}

static void
on_err(struct wire *c, enum wire_ev ev, const char *why, void *arg)
{
	struct sink *s = arg;

	(void)c;
	s->nerr++;
	s->last_ev = ev;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
}

static void
run(struct event_base *base)
{
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void
test_deliver(void **state)
{
	struct event_base *base = event_base_new();
	struct ipc_body_text t = { IPC_S("hello") };
	struct sink s = { 0 };
	struct wire *a, *b;
	int sv[2];

	(void)state;
	pair(sv);
	a = wire_new(base, sv[0], 4, on_msg, on_err, &s);
	b = wire_new(base, sv[1], 4, on_msg, on_err, &s);
	assert_int_equal(wire_send(a, IPC_AGENT_DELTA, 3, &t), 0);
	run(base);
	assert_int_equal(s.nmsg, 1);
	assert_string_equal(s.text, "hello");
	assert_int_equal(s.nerr, 0);
	wire_free(a);
	run(base);
	assert_int_equal(s.nerr, 1);
	assert_int_equal(s.last_ev, WIRE_EOF);
	wire_free(b);
	event_base_free(base);
}

static void
test_fd_passing(void **state)
{
	struct event_base *base = event_base_new();
	struct ipc_body_empty e = { 0 };
	struct ipc_body_conn cb = { 1 };
	struct sink s = { 0 };
	struct wire *a, *b;
	int sv[2], fd;

	(void)state;
	pair(sv);
	a = wire_new(base, sv[0], 4, on_msg, on_err, &s);
	b = wire_new(base, sv[1], 4, on_msg, on_err, &s);
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(wire_send_fd(a, IPC_SUP_LISTEN_FD, 0, &e, fd), 0);
	run(base);
	assert_int_equal(s.nmsg, 1);
	assert_true(s.last_fd >= 0);
	close(s.last_fd);
	/* An fd on a type that does not carry one is a violation. */
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(wire_send_fd(a, IPC_CONN_CLOSE, 0, &cb, fd), 0);
	run(base);
	assert_int_equal(s.nerr, 1);
	assert_int_equal(s.last_ev, WIRE_VIOLATION);
	assert_string_equal(s.why, "unexpected fd");
	wire_free(a);
	wire_free(b);
	event_base_free(base);
}

static void
test_fd_refused(void **state)
{
	struct event_base *base = event_base_new();
	struct ipc_body_empty e = { 0 };
	struct sink s = { 0 };
	struct wire *a, *b;
	int sv[2], fd;

	(void)state;
	pair(sv);
	a = wire_new(base, sv[0], 4, on_msg, on_err, &s);
	b = wire_new(base, sv[1], 4, on_msg, on_err, &s);
	wire_set_fd_ok(b, 0);
	fd = open("/dev/null", O_RDONLY);
	assert_int_equal(wire_send_fd(a, IPC_SUP_LISTEN_FD, 0, &e, fd), 0);
	run(base);
	assert_int_equal(s.nmsg, 0);
	assert_int_equal(s.last_ev, WIRE_VIOLATION);
	wire_free(a);
	wire_free(b);
	event_base_free(base);
}

static void
test_oversized_and_garbage(void **state)
{
	static uint8_t big[IPC_FRAME_MAX + 64];
	struct event_base *base = event_base_new();
	struct sink s = { 0 };
	struct wire *b;
	int sv[2], sz = 512 * 1024;

	(void)state;
	pair(sv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	b = wire_new(base, sv[1], 4, on_msg, on_err, &s);
	memset(big, 0x90, sizeof(big));
	assert_int_equal(ipc_send_raw(sv[0], big, sizeof(big), -1), 0);
	run(base);
	assert_int_equal(s.nerr, 1);
	assert_string_equal(s.why, "oversized frame");
	wire_free(b);
	close(sv[0]);
	pair(sv);
	b = wire_new(base, sv[1], 4, on_msg, on_err, &s);
	assert_int_equal(ipc_send_raw(sv[0], (const uint8_t *)"\xc1", 1, -1),
	    0);
	run(base);
	assert_int_equal(s.nerr, 2);
	assert_int_equal(s.last_ev, WIRE_VIOLATION);
	assert_int_equal(s.nmsg, 0);
	close(sv[0]);
	wire_free(b);
	event_base_free(base);
}

static void
test_queue_bound(void **state)
{
	static char text[60000];
	struct event_base *base = event_base_new();
	struct ipc_body_text t = { { text, sizeof(text) } };
	struct ipc_body_conn cb = { 7 };
	struct sink s = { 0 };
	struct wire *a;
	int sv[2], i, rv = 0;

	(void)state;
	memset(text, 'q', sizeof(text));
	pair(sv);
	a = wire_new(base, sv[0], 2, on_msg, on_err, &s);
	/* Nobody reads sv[1]: the socket fills, then the queue of 2. */
	for (i = 0; i < 200 && rv == 0; i++)
		rv = wire_send(a, IPC_AGENT_DELTA, 1, &t);
	assert_int_equal(rv, -1);
	assert_int_equal(wire_queued(a), 2);
	/* An owed frame is queued past it; an ordinary one still not. */
	assert_int_equal(wire_send_owed(a, IPC_CONN_CLOSE, 0, &cb), 0);
	assert_int_equal(wire_queued(a), 3);
	assert_int_equal(wire_send(a, IPC_CONN_CLOSE, 0, &cb), -1);
	wire_free(a);
	close(sv[1]);
	event_base_free(base);
}

/*
 * A paced wire reads nothing while its queue is half full, and reads
 * again once the queue is down to a quarter.
 */
static void
test_pace(void **state)
{
	static char text[60000];
	struct event_base *base = event_base_new();
	struct ipc_body_text t = { { text, sizeof(text) } };
	struct ipc_body_conn cb = { 7 };
	struct sink s = { 0 }, far = { 0 };
	struct wire *a, *b;
	int sv[2], i, rv = 0;

	(void)state;
	memset(text, 'q', sizeof(text));
	pair(sv);
	a = wire_new(base, sv[0], 8, on_msg, on_err, &s);
	wire_set_pace(a, 1);
	/* The socket full, then half a's queue. */
	while (rv == 0 && wire_queued(a) < 4)
		rv = wire_send(a, IPC_AGENT_DELTA, 1, &t);
	assert_int_equal(rv, 0);
	/* The other end writes a frame: a does not read it. */
	assert_int_equal(ipc_send_blocking(sv[1], IPC_CONN_CLOSE, 0, &cb), 0);
	run(base);
	assert_int_equal(s.nmsg, 0);
	/* The other end reads (as a wire would) until a's queue drains. */
	b = wire_new(base, sv[1], 8, on_msg, on_err, &far);
	for (i = 0; i < 400 && (wire_queued(a) > 0 || s.nmsg == 0); i++)
		run(base);
	assert_int_equal(wire_queued(a), 0);
	assert_int_equal(s.nmsg, 1);
	assert_int_equal(s.last_type, IPC_CONN_CLOSE);
	assert_int_equal(s.nerr, 0);
	wire_free(a);
	wire_free(b);
	event_base_free(base);
}

/*
 * A process that dies with our frames unread (a worker killed by its
 * sandbox): the kernel answers ECONNRESET once, then the frames it
 * sent before it died (its sandbox.violation), then EOF.  They are
 * read, not lost to an I/O error, by the loop and the blocking read.
 */
static void
test_peer_died_with_frames_unread(void **state)
{
	struct event_base *base = event_base_new();
	struct ipc_body_text t = { IPC_S("ours") };
	struct ipc_body_violation v = { 41 };
	struct sink s = { 0 };
	struct ipc_msg m;
	enum ipc_err e;
	uint8_t buf[256];
	struct wire *a;
	int sv[2], i;

	(void)state;
	for (i = 0; i < 2; i++) {
		pair(sv);
		assert_int_equal(ipc_send_blocking(sv[0], IPC_AGENT_DELTA, 0,
		    &t), 0);
		assert_int_equal(ipc_send_blocking(sv[1], IPC_VIOLATION, 0,
		    &v), 0);
		close(sv[1]);
		if (i == 1) {
			assert_int_equal(ipc_recv_blocking(sv[0], buf,
			    sizeof(buf), &m, &e), 0);
			assert_int_equal(m.type, IPC_VIOLATION);
			assert_int_equal(m.b.violation.syscall, 41);
			assert_int_equal(ipc_recv_blocking(sv[0], buf,
			    sizeof(buf), &m, &e), -1);
			assert_int_equal(e, IPC_E_SHORT);
			close(sv[0]);
			break;
		}
		a = wire_new(base, sv[0], 4, on_msg, on_err, &s);
		run(base);
		assert_int_equal(s.nmsg, 1);
		assert_int_equal(s.last_type, IPC_VIOLATION);
		assert_int_equal(s.nerr, 1);
		assert_int_equal(s.last_ev, WIRE_EOF);
		wire_free(a);
	}
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliver),
		cmocka_unit_test(test_fd_passing),
		cmocka_unit_test(test_fd_refused),
		cmocka_unit_test(test_oversized_and_garbage),
		cmocka_unit_test(test_queue_bound),
		cmocka_unit_test(test_pace),
		cmocka_unit_test(test_peer_died_with_frames_unread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
