/*
 * The connections of a relay agent's worker: it accepts on the socket
 * the parent bound for relay.listen (sup.listen_fd), reads one HTTP
 * upgrade with the web chat's bounded parser (workers/webchat/http.c),
 * speaks WebSocket with its wslay code (ws.c), and hands each whole text
 * message to relay_frame.c, then to relay.c.  It never decides who a
 * relay is: the hub does, on relay.auth.
 *
 * Bounds: RC_CONN_MAX connections (the listener pauses past it), a head
 * of RC_HEAD_MAX bytes, RC_HANDSHAKE_MS from accept to welcome,
 * RELAY_FRAME_MAX bytes a message, RC_FAILS_MAX failed hellos per
 * address in RC_FAILS_WINDOW_MS (then its connections are closed at
 * accept), and a ping every RC_PING_MS with silence past twice that
 * ending the connection.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "clock.h"
#include "log.h"
#include "relay.h"
#include "relay_frame.h"
#include "webchat/http.h"
#include "webchat/ws.h"
#include "worker.h"
#include "xmalloc.h"

#define RC_CONN_MAX		64
#define RC_HEAD_MAX		4096
#define RC_HANDSHAKE_MS		10000
#define RC_PING_MS		15000
#define RC_CLOSE_MS		2000
#define RC_FAILS_MAX		5
#define RC_FAILS_WINDOW_MS	60000
/* Addresses remembered for RC_FAILS_MAX; the oldest is forgotten. */
#define RC_ADDRS_MAX		256
#define RC_PATH			"/relay"

struct relay_conn {
	TAILQ_ENTRY(relay_conn)	 entry;
	uint64_t		 id;
	enum relay_cstate	 state;
	struct bufferevent	*bev;
	struct event		*timer;
	struct http_parse	 hp;
	struct http_req		 req;
	char			 accept[WS_ACCEPT_LEN + 1];
	struct ws		*ws;
	char			 addr[IPC_ADDR_MAX + 1];
	uint64_t		 token_id;
	unsigned		 inflight;
	uint64_t		 last_rx;	/* clock_mono_ms() */
	int			 dead;		/* drop once wslay returns */
	uint16_t		 dead_code;
	char			 dead_why[96];
	uint64_t		 gone[RELAY_GONE_MAX];
	size_t			 ngone;
};

struct rc_fails {
	char		 addr[IPC_ADDR_MAX + 1];
	unsigned	 n;
	uint64_t	 since;
};

static struct {
	struct evconnlistener	*listener;
	TAILQ_HEAD(, relay_conn) conns;
	size_t			 nconns;
	uint64_t		 next_id;
	unsigned		 turn; /* relay_conn_pick's tie-break */
	struct rc_fails		 fails[RC_ADDRS_MAX];
	uint64_t		 refused;	/* hellos the hub refused */
} rc = { .conns = TAILQ_HEAD_INITIALIZER(rc.conns) };

static void	rc_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	rc_read(struct bufferevent *, void *);
static void	rc_write(struct bufferevent *, void *);
static void	rc_event(struct bufferevent *, short, void *);
static void	rc_timer(evutil_socket_t, short, void *);
static void	rc_ws_text(void *, const char *, size_t);
static void	rc_ws_error(void *, const char *, const char *);
static void	rc_free(struct relay_conn *);
static void	rc_fail(const char *);
static void	rc_dead(struct relay_conn *, const char *);

static const struct ws_cb rc_ws_cb = {
	.text = rc_ws_text,
	.error = rc_ws_error,
};

static void
rc_arm(struct relay_conn *c, long ms)
{
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

	evtimer_add(c->timer, &tv);
}

/* Accept only with room: the rest wait in the kernel's queue. */
static void
rc_update(void)
{
	if (rc.listener == NULL)
		return;
	if (rc.nconns >= RC_CONN_MAX)
		evconnlistener_disable(rc.listener);
	else
		evconnlistener_enable(rc.listener);
}

int
relay_conn_listen(int fd)
{
	if (rc.listener != NULL || evutil_make_socket_nonblocking(fd) == -1) {
		log_warnx("%s: unexpected listen fd", __func__);
		close(fd);
		return -1;
	}
	rc.listener = evconnlistener_new(worker_base(), rc_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (rc.listener == NULL) {
		close(fd);
		return -1;
	}
	return 0;
}

static struct rc_fails *
rc_fails_of(const char *addr, int make)
{
	struct rc_fails *f, *old = &rc.fails[0];
	size_t i;

	for (i = 0; i < RC_ADDRS_MAX; i++) {
		f = &rc.fails[i];
		if (strcmp(f->addr, addr) == 0)
			return f;
		if (f->since < old->since)
			old = f;
	}
	if (!make)
		return NULL;
	memset(old, 0, sizeof(*old));
	snprintf(old->addr, sizeof(old->addr), "%s", addr);
	return old;
}

/* Has this address failed too often lately? */
static int
rc_blocked(const char *addr)
{
	struct rc_fails *f = rc_fails_of(addr, 0);

	return f != NULL && f->n >= RC_FAILS_MAX &&
	    clock_mono_ms() - f->since < RC_FAILS_WINDOW_MS;
}

static void
rc_fail(const char *addr)
{
	struct rc_fails *f = rc_fails_of(addr, 1);
	uint64_t now = clock_mono_ms();

	if (f->n == 0 || now - f->since >= RC_FAILS_WINDOW_MS) {
		f->n = 0;
		f->since = now;
	}
	f->n++;
}

static void
rc_addr(const struct sockaddr *sa, char *out, size_t len)
{
	const struct sockaddr_in *s4 = (const void *)sa;
	const struct sockaddr_in6 *s6 = (const void *)sa;

	out[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &s4->sin_addr, out, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, out, (socklen_t)len);
	if (out[0] == '\0')
		snprintf(out, len, "?");
}

static void
rc_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct relay_conn *c;
	char addr[IPC_ADDR_MAX + 1];
	int one = 1;

	(void)l;
	(void)salen;
	(void)arg;
	rc_addr(sa, addr, sizeof(addr));
	if (rc.nconns >= RC_CONN_MAX || rc_blocked(addr)) {
		log_debug("%s: %s turned away", __func__, addr);
		close(fd);
		return;
	}
	/*
	 * Deltas are small frames each way: without this, Nagle and the
	 * peer's delayed ACK hold every other one some 40 ms.
	 */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c = xcalloc(1, sizeof(*c));
	c->id = ++rc.next_id;
	c->state = RC_HTTP;
	snprintf(c->addr, sizeof(c->addr), "%s", addr);
	http_parse_init(&c->hp, &c->req, RC_HEAD_MAX);
	c->bev = bufferevent_socket_new(worker_base(), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(worker_base(), rc_timer, c);
	if (c->bev == NULL || c->timer == NULL)
		fatalx("%s: out of memory", __func__);
	bufferevent_setcb(c->bev, rc_read, rc_write, rc_event, c);
	bufferevent_enable(c->bev, EV_READ);
	rc_arm(c, RC_HANDSHAKE_MS);
	c->last_rx = clock_mono_ms();
	TAILQ_INSERT_TAIL(&rc.conns, c, entry);
	rc.nconns++;
	rc_update();
	log_debug("%s: relay connection %" PRIu64 " from %s", __func__, c->id,
	    addr);
}

/* Plain HTTP refusal before any WebSocket: answer and close. */
static void
rc_http_refuse(struct relay_conn *c, int status)
{
	http_response(bufferevent_get_output(c->bev), status, "text/plain",
	    NULL, 0, HTTP_R_CLOSE);
	rc_fail(c->addr);
	c->state = RC_CLOSING;
	bufferevent_disable(c->bev, EV_READ);
	rc_arm(c, RC_CLOSE_MS);
}

static void
rc_upgrade(struct relay_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	char *q;
	int status;

	if ((q = strchr(c->req.path, '?')) != NULL)
		*q = '\0';
	if (strcmp(c->req.path, RC_PATH) != 0) {
		rc_http_refuse(c, 404);
		return;
	}
	if ((status = ws_handshake_check(&c->req, c->accept)) != 0) {
		rc_http_refuse(c, status);
		return;
	}
	c->ws = ws_new(in, bufferevent_get_output(c->bev), RELAY_FRAME_MAX,
	    &rc_ws_cb, c);
	if (c->ws == NULL) {
		rc_http_refuse(c, 503);
		return;
	}
	ws_handshake_response(bufferevent_get_output(c->bev), c->accept);
	c->state = RC_HELLO;
	/* A relay may send its hello with the head. */
	if (evbuffer_get_length(in) > 0 && ws_read(c->ws) == -1 && !c->dead) {
		c->dead = 1;
		c->dead_code = WS_CLOSE_POLICY;
		snprintf(c->dead_why, sizeof(c->dead_why), "broken framing");
	}
}

static void
rc_read(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	enum http_result r;

	c->last_rx = clock_mono_ms();
	if (c->state == RC_HTTP) {
		if ((r = http_parse_evbuffer(&c->hp, in)) == HTTP_MORE)
			return;
		if (r == HTTP_ERROR)
			rc_http_refuse(c, c->hp.status);
		else
			rc_upgrade(c);
	} else if (c->state == RC_CLOSING) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	} else if (ws_read(c->ws) == -1 && !c->dead) {
		c->dead = 1;
		c->dead_code = WS_CLOSE_POLICY;
		snprintf(c->dead_why, sizeof(c->dead_why), "broken framing "
		    "or too slow a reader");
	}
	if (c->dead)
		relay_conn_drop(c, c->dead_code, c->dead_why);
	else if (c->ws != NULL && ws_finished(c->ws))
		relay_conn_drop(c, WS_CLOSE_NORMAL, "closed by the relay");
}

static void
rc_write(struct bufferevent *bev, void *arg)
{
	struct relay_conn *c = arg;

	if (c->state == RC_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		rc_free(c);
}

static void
rc_event(struct bufferevent *bev, short what, void *arg)
{
	struct relay_conn *c = arg;

	(void)bev;
	if (c->state == RC_CLOSING) {
		rc_free(c);
		return;
	}
	/* Nothing more can be written: code 0 frees c at once. */
	relay_conn_drop(c, 0, (what & BEV_EVENT_EOF) ?
	    "connection closed by the relay" : "connection error");
}

static void
rc_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct relay_conn *c = arg;

	(void)fd;
	(void)ev;
	switch (c->state) {
	case RC_CLOSING:
		rc_free(c);
		return;
	case RC_READY:
		if (clock_mono_ms() - c->last_rx > 2 * RC_PING_MS) {
			relay_conn_drop(c, WS_CLOSE_GOING_AWAY,
			    "silent past its keepalive");
			return;
		}
		relay_conn_send(c, relay_frame_simple("ping"));
		rc_arm(c, RC_PING_MS);
		return;
	default:
		rc_fail(c->addr);
		relay_conn_drop(c, WS_CLOSE_POLICY, "no hello in time");
	}
}

/* From inside wslay's callbacks: the drop waits until it returns. */
void
relay_conn_violate(struct relay_conn *c, const char *why)
{
	rc_dead(c, why);
}

static void
rc_dead(struct relay_conn *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = 1;
	c->dead_code = WS_CLOSE_POLICY;
	snprintf(c->dead_why, sizeof(c->dead_why), "%s", why);
}

static void
rc_ws_error(void *arg, const char *code, const char *message)
{
	struct relay_conn *c = arg;

	(void)message;
	rc_dead(c, strcmp(code, "too_large") == 0 ? "oversized frame" :
	    "bad WebSocket message");
	if (strcmp(code, "too_large") == 0)
		c->dead_code = WS_CLOSE_TOO_BIG;
}

static void
rc_ws_text(void *arg, const char *buf, size_t len)
{
	struct relay_conn *c = arg;
	struct relay_frame f;
	enum relay_ferr e;
	char why[96];

	if (c->dead || c->state == RC_CLOSING)
		return;
	if ((e = relay_frame_parse(buf, len, &f)) != RF_OK) {
		snprintf(why, sizeof(why), "bad frame: %s",
		    relay_frame_strerror(e));
		rc_dead(c, why);
		return;
	}
	if (f.type == RF_PING)
		relay_conn_send(c, relay_frame_simple("pong"));
	else if (f.type == RF_PONG)
		;
	else if (c->state == RC_HELLO && f.type == RF_HELLO) {
		if (f.version != RELAY_VERSION) {
			rc_fail(c->addr);
			rc_dead(c, "unsupported protocol version");
		} else {
			c->state = RC_AUTH;
			relay_hello(c, f.token);
		}
	} else if (c->state != RC_READY)
		rc_dead(c, f.type == RF_HELLO ? "a second hello" :
		    "a frame before its welcome");
	else if (f.type == RF_HELLO)
		rc_dead(c, "a second hello");
	else
		relay_result(c, &f);
	relay_frame_clear(&f);
}

void
relay_conn_send(struct relay_conn *c, char *frame)
{
	if (frame == NULL) {
		log_warnx("%s: frame not built", __func__);
		return;
	}
	if (c->state != RC_CLOSING && c->ws != NULL &&
	    ws_send_text(c->ws, frame, strlen(frame)) == -1)
		rc_dead(c, "too slow a reader");
	free(frame);
}

/*
 * Close c: a close frame if it speaks WebSocket, then the socket once
 * that is out (or RC_CLOSE_MS).  Called from inside wslay's callbacks
 * only through c->dead, so ws is never freed under it.
 */
void
relay_conn_drop(struct relay_conn *c, uint16_t code, const char *why)
{
	enum relay_cstate was = c->state;

	if (was == RC_CLOSING)
		return;
	c->state = RC_CLOSING;
	if (was == RC_READY || was == RC_AUTH || strcmp(why,
	    "closed by the relay") != 0)
		log_info("relay connection %" PRIu64 " from %s closed: %s",
		    c->id, c->addr, why);
	if (was == RC_READY)
		relay_lost(c);
	bufferevent_disable(c->bev, EV_READ);
	if (c->ws != NULL && code != 0)
		(void)ws_close(c->ws, code);
	rc_arm(c, RC_CLOSE_MS);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 ||
	    code == 0)
		rc_free(c);
}

static void
rc_free(struct relay_conn *c)
{
	TAILQ_REMOVE(&rc.conns, c, entry);
	rc.nconns--;
	ws_free(c->ws);
	event_free(c->timer);
	bufferevent_free(c->bev);
	free(c);
	rc_update();
}

struct relay_conn *
relay_conn_find(uint64_t id)
{
	struct relay_conn *c;

	TAILQ_FOREACH(c, &rc.conns, entry)
		if (c->id == id)
			return c;
	return NULL;
}

struct relay_conn *
relay_conn_pick(void)
{
	struct relay_conn *c, *best = NULL;
	unsigned i = 0, n = relay_conn_ready(), start, pos;
	unsigned bestpos = 0;

	if (n == 0)
		return NULL;
	/*
	 * Fewest requests wins; among equals the first from a start that
	 * moves one further each time, so equals take turns.
	 */
	start = rc.turn++ % n;
	TAILQ_FOREACH(c, &rc.conns, entry) {
		if (c->state != RC_READY)
			continue;
		pos = (i++ + n - start) % n;
		if (best == NULL || c->inflight < best->inflight ||
		    (c->inflight == best->inflight && pos < bestpos)) {
			best = c;
			bestpos = pos;
		}
	}
	return best;
}

unsigned
relay_conn_ready(void)
{
	struct relay_conn *c;
	unsigned n = 0;

	TAILQ_FOREACH(c, &rc.conns, entry)
		if (c->state == RC_READY)
			n++;
	return n;
}

void
relay_conn_welcome(struct relay_conn *c, uint64_t token_id,
    const char *agent)
{
	c->state = RC_READY;
	c->token_id = token_id;
	c->last_rx = clock_mono_ms();
	evtimer_del(c->timer);
	rc_arm(c, RC_PING_MS);
	relay_conn_send(c, relay_frame_welcome(agent));
	log_info("relay connection %" PRIu64 " from %s ready (token %" PRIu64
	    ")", c->id, c->addr, token_id);
}

void
relay_conn_refuse(struct relay_conn *c)
{
	rc.refused++;
	rc_fail(c->addr);
	relay_conn_send(c, relay_frame_simple("refused"));
	relay_conn_drop(c, WS_CLOSE_POLICY, "token refused");
	log_info("%s: %" PRIu64 " hello%s refused so far", __func__,
	    rc.refused, rc.refused == 1 ? "" : "s");
}

void
relay_conn_revoke(uint64_t token_id)
{
	struct relay_conn *c, *next;

	for (c = TAILQ_FIRST(&rc.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == RC_READY && c->token_id == token_id)
			relay_conn_drop(c, WS_CLOSE_POLICY, "token revoked");
	}
}

uint64_t
relay_conn_id(const struct relay_conn *c)
{
	return c->id;
}

void
relay_conn_load(struct relay_conn *c, int delta)
{
	if (delta < 0 && c->inflight == 0)
		return;
	c->inflight += delta;
}

void
relay_conn_gone(struct relay_conn *c, uint64_t req)
{
	c->gone[c->ngone++ % RELAY_GONE_MAX] = req;
}

int
relay_conn_was(const struct relay_conn *c, uint64_t req)
{
	size_t i, n = c->ngone < RELAY_GONE_MAX ? c->ngone : RELAY_GONE_MAX;

	for (i = 0; i < n; i++)
		if (c->gone[i] == req)
			return 1;
	return 0;
}
