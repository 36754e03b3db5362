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
 * Per address, as the web chat's front door (policy.*): at most
 * tcp_conns_per_peer connections from one TCP peer (tcp_conns_per_proxy
 * from a trusted proxy, which carries everyone), and requests from one
 * client within policy.ratelimit.address, the client being the peer or,
 * behind trusted proxies, what X-Forwarded-For lets us believe
 * (policy/xff.c).  Over either: the connection is closed at once, or
 * answered 429, counted and logged.
 *
 * It never looks at what a request means.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "callback.h"
#include "clock.h"
#include "log.h"
#include "ratelimit.h"
#include "webchat/http.h"
#include "xff.h"
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
	char			 peer[XFF_ADDR_MAX];	/* TCP, as text */
	struct bufferevent	*bev;
	struct event		*timer;
	struct http_parse	 hp;
	struct http_req		 req;
	char			*body;
	int			 answered;	/* closing after its answer */
};

static TAILQ_HEAD(, conn)	 conns = TAILQ_HEAD_INITIALIZER(conns);
static size_t			 nconns;
static uint64_t			 refused_conns, refused_rate;
static struct evconnlistener	*listener;

static void	conn_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	conn_read(struct bufferevent *, void *);
static void	conn_write(struct bufferevent *, void *);
static void	conn_event(struct bufferevent *, short, void *);
static void	conn_timer(evutil_socket_t, short, void *);
static void	conn_free(struct conn *);
static void	conn_update(void);
static int	conn_peer_full(struct sockaddr *, int, char *, size_t);
static int	conn_rate_over(struct conn *);

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
	char peer[XFF_ADDR_MAX];
	struct timeval tv;
	struct conn *c;

	(void)l;
	(void)arg;
	if (nconns >= CONN_MAX || cb.draining) {
		close(fd);
		return;
	}
	if (conn_peer_full(sa, salen, peer, sizeof(peer))) {
		refused_conns++;
		log_info("callback %s: %s: over its connections at once; "
		    "closed (%llu so far)", cb.account, peer,
		    (unsigned long long)refused_conns);
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	memcpy(c->peer, peer, sizeof(c->peer));
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

/*
 * The peer's address as text, and whether it has its connections
 * already (a linear look: there are CONN_MAX at most).
 */
static int
conn_peer_full(struct sockaddr *sa, int salen, char *peer, size_t len)
{
	const struct conn *o;
	const void *a = NULL;
	long long n = 0, max;

	/* inet_ntop, not getnameinfo: no lookup, no scope-id ioctl. */
	if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct
	    sockaddr_in))
		a = &((struct sockaddr_in *)(void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6 && salen >= (int)sizeof(struct
	    sockaddr_in6))
		a = &((struct sockaddr_in6 *)(void *)sa)->sin6_addr;
	if (a == NULL || inet_ntop(sa->sa_family, a, peer,
	    (socklen_t)len) == NULL)
		snprintf(peer, len, "?");
	max = xff_trusted(peer, cb.proxies, cb.nproxies) ?
	    cb.conns_per_proxy : cb.conns_per_peer;
	TAILQ_FOREACH(o, &conns, entry)
		if (strcmp(o->peer, peer) == 0)
			n++;
	return n >= max;
}

/* The client's bucket (policy.ratelimit.address): 1 when it is empty. */
static int
conn_rate_over(struct conn *c)
{
	char client[XFF_ADDR_MAX], key[RL_KEY_MAX];
	uint64_t wait;

	if (xff_client(c->peer, strlen(c->peer), c->req.h_forwarded,
	    strlen(c->req.h_forwarded), cb.proxies, cb.nproxies, client,
	    sizeof(client)) == -1)
		snprintf(client, sizeof(client), "%s", c->peer);
	snprintf(key, sizeof(key), "a:%s", client);
	if ((wait = ratelimit_take(cb.rl_addr, key, clock_mono_ms())) == 0)
		return 0;
	refused_rate++;
	log_info("callback %s: %s: over policy.ratelimit.address; 429 "
	    "(%llu so far)", cb.account, client,
	    (unsigned long long)refused_rate);
	return 1;
}

static void
conn_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	enum http_result r;

	r = http_parse_evbuffer(&c->hp, bufferevent_get_input(bev));
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
	if (conn_rate_over(c)) {
		conn_reply(c, 429, NULL, NULL, 0);
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
