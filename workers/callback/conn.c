/*
 * The callback worker's connections: it accepts on the socket the
 * parent bound for the account, reads one request per connection
 * through the web chat's bounded parser (workers/webchat/http.c) with
 * a body of at most body_max bytes, hands it to req.c and writes the
 * one answer it is given, then closes.  Bounds: CONN_MAX connections,
 * a head of CONN_HEAD_MAX bytes, CONN_READ_MS to read a whole request.
 * A held request (turn.c) has no deadline of ours: turn.c answers it
 * within the reply budget.  Each connection has a body buffer of
 * body_max: CONN_MAX of them is the worker's bound on memory.
 * XXX no per-address limit: behind the reverse proxy every request
 * comes from its address; the platform's own would need
 * X-Forwarded-For judged against trusted proxies, as admit.c does for
 * the web chat.
 *
 * It never looks at what a request means.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "callback.h"
#include "log.h"
#include "webchat/http.h"
#include "xmalloc.h"

/*
 * The platform sends one message at a time per user, retrying at 5 s;
 * a burst of users, or a flood, past this waits in the kernel's queue.
 */
#define CONN_MAX	64
/* The query (C.6: five short values) and a proxy's headers. */
#define CONN_HEAD_MAX	8192
/* A whole request, head and body, the way webchat bounds a head. */
#define CONN_READ_MS	10000

struct conn {
	TAILQ_ENTRY(conn)	 entry;
	struct bufferevent	*bev;
	struct event		*timer;
	struct http_parse	 hp;
	struct http_req		 req;
	char			*body;
	int			 answered;	/* closing after its answer */
};

static TAILQ_HEAD(, conn)	 conns = TAILQ_HEAD_INITIALIZER(conns);
static size_t			 nconns;
static struct evconnlistener	*listener;

static void	conn_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	conn_read(struct bufferevent *, void *);
static void	conn_write(struct bufferevent *, void *);
static void	conn_event(struct bufferevent *, short, void *);
static void	conn_timer(evutil_socket_t, short, void *);
static void	conn_free(struct conn *);
static void	conn_update(void);

int
conn_listen(int fd)
{
	if (listener != NULL || evutil_make_socket_nonblocking(fd) == -1)
		return -1;
	listener = evconnlistener_new(cb.base, conn_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, fd);
	return listener == NULL ? -1 : 0;
}

/* Accept only with room: the rest wait in the kernel's queue. */
static void
conn_update(void)
{
	if (listener == NULL)
		return;
	if (nconns >= CONN_MAX || cb.draining)
		evconnlistener_disable(listener);
	else
		evconnlistener_enable(listener);
}

static void
conn_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct timeval tv;
	struct conn *c;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (nconns >= CONN_MAX || cb.draining) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->body = xmalloc(cb.body_max);
	http_parse_init(&c->hp, &c->req, CONN_HEAD_MAX);
	http_parse_body(&c->hp, c->body, cb.body_max);
	c->bev = bufferevent_socket_new(cb.base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(cb.base, conn_timer, c);
	if (c->bev == NULL || c->timer == NULL)
		fatalx("%s: out of memory", __func__);
	bufferevent_setcb(c->bev, conn_read, conn_write, conn_event, c);
	bufferevent_enable(c->bev, EV_READ);
	tv.tv_sec = CONN_READ_MS / 1000;
	tv.tv_usec = CONN_READ_MS % 1000 * 1000;
	evtimer_add(c->timer, &tv);
	TAILQ_INSERT_TAIL(&conns, c, entry);
	nconns++;
	conn_update();
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_iovec v;
	enum http_result r = HTTP_MORE;
	size_t used;

	while (r == HTTP_MORE && evbuffer_peek(in, -1, NULL, &v, 1) > 0) {
		r = http_parse_feed(&c->hp, v.iov_base, v.iov_len, &used);
		evbuffer_drain(in, used);
		if (used == 0 && r == HTTP_MORE)
			break;
	}
	if (r == HTTP_MORE)
		return;
	bufferevent_disable(bev, EV_READ);
	evtimer_del(c->timer);
	if (r == HTTP_ERROR) {
		log_info("callback %s: request refused: %d", cb.account,
		    c->hp.status);
		conn_reply(c, c->hp.status, NULL, NULL, 0);
		return;
	}
	req_handle(c, c->req.method, c->req.query, c->body, c->req.body_len);
}

/* A slow or silent client: the webchat's 408. */
static void
conn_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)ev;
	if (c->answered) {
		conn_free(c);
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
	conn_reply(c, 408, NULL, NULL, 0);
}

void
conn_reply(struct conn *c, int status, const char *ctype, const char *body,
    size_t len)
{
	struct timeval tv = { CONN_READ_MS / 1000, 0 };

	if (c->answered)
		return;
	c->answered = 1;
	http_response(bufferevent_get_output(c->bev), status, ctype, body, len,
	    HTTP_R_CLOSE);
	/* The answer gets as long to leave as the request had to come. */
	evtimer_add(c->timer, &tv);
}

static void
conn_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->answered && evbuffer_get_length(bufferevent_get_output(bev)) ==
	    0)
		conn_free(c);
}

/* The platform hung up: what turn.c held for it is no longer held. */
static void
conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	(void)what;
	conn_free(c);
}

static void
conn_free(struct conn *c)
{
	if (!c->answered)
		turn_conn_gone(c);
	TAILQ_REMOVE(&conns, c, entry);
	nconns--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	free(c->body);
	free(c);
	conn_update();
}

/* Shutdown: no more accepts; turn_stop() answers what is held. */
void
conn_stop(void)
{
	if (listener != NULL)
		evconnlistener_disable(listener);
}
