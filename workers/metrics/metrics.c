/*
 * The loopback HTTP listener of the metrics (metrics.listen, issue
 * #17): GET /metrics answers the hub's Prometheus exposition.  The
 * root parent binds the socket (supervisor/listener.c) and hands it
 * over with sup.listen_fd; a scraper's bytes are parsed here, in the
 * sandbox, by the web chat's bounded parser (workers/webchat/http.c),
 * and never reach the hub: it gets metrics.get, which has no body, and
 * answers metrics.text parts then metrics.done (supervisor/
 * metrics_serve.c).
 *
 * One scrape at a time: requests that come while one is asked wait
 * for its answer, so a scraper in a loop costs the hub one rendering
 * per round trip however many connections it opens.  Bounds:
 * MX_CONN_MAX connections, MX_HEAD_MAX bytes of request head,
 * MX_READ_MS to send it, MX_BODY_MAX bytes of exposition, MX_SCRAPE_MS
 * for the hub to answer (then 503), MX_WRITE_MS for the answer to
 * leave.  Nothing here is secret: the exposition has no tokens.
 */
#include <sys/queue.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "webchat/http.h"
#include "worker.h"
#include "xmalloc.h"

#define MX_CONN_MAX	8
#define MX_HEAD_MAX	4096
#define MX_READ_MS	5000
#define MX_WRITE_MS	10000
#define MX_SCRAPE_MS	5000
/* Every worker and channel's families at CFG_CHANNELS_MAX fit. */
#define MX_BODY_MAX	(8 * 1024 * 1024)
#define MX_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

enum mx_state { MX_READING, MX_WAITING, MX_WRITING };

struct mx_conn {
	TAILQ_ENTRY(mx_conn)	 entry;
	enum mx_state		 state;
	struct bufferevent	*bev;
	struct event		*timer;
	struct http_parse	 hp;
	struct http_req		 req;
};

static struct {
	struct event_base	*base;
	struct evconnlistener	*listener;
	TAILQ_HEAD(, mx_conn)	 conns;
	size_t			 nconns;
	int			 draining;
	/* The scrape asked of the hub: 0 when none. */
	uint64_t		 req_id;
	uint64_t		 next_id;
	struct evbuffer		*body;
	int			 too_big;
	struct event		*scrape_timer;
} mx = { .conns = TAILQ_HEAD_INITIALIZER(mx.conns) };

static int	mx_pre_sandbox(json_t *);
static int	mx_post_sandbox(struct event_base *);
static void	mx_shutdown(void);
static void	mx_resync(void);
static int	mx_listen_fd(const struct ipc_msg *);
static int	mx_text(const struct ipc_msg *);
static int	mx_done(const struct ipc_msg *);
static const char *mx_profile(void);
static void	mx_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	mx_read(struct bufferevent *, void *);
static void	mx_write(struct bufferevent *, void *);
static void	mx_event(struct bufferevent *, short, void *);
static void	mx_timer(evutil_socket_t, short, void *);
static void	mx_scrape_timeout(evutil_socket_t, short, void *);
static void	mx_ask(void);
static void	mx_answer_all(int);
static void	mx_reply(struct mx_conn *, int, const void *, size_t);
static void	mx_free(struct mx_conn *);
static void	mx_update(void);

static const struct wk_handler mx_handlers[] = {
	{ IPC_SUP_LISTEN_FD,	mx_listen_fd },
	{ IPC_METRICS_TEXT,	mx_text },
	{ IPC_METRICS_DONE,	mx_done },
	{ 0,			NULL }
};

const struct wk_kind wk_metrics = {
	"metrics", ROLE_METRICS, WK_F_NONET,
	mx_pre_sandbox, mx_post_sandbox, mx_shutdown, mx_resync,
	mx_handlers, mx_profile, NULL, NULL
};

/* Accepts on a handed socket, as the web chat does, and nothing more. */
static const char *
mx_profile(void)
{
	return "metrics";
}

static int
mx_pre_sandbox(json_t *conf)
{
	const char *l = wk_conf_str(conf, "listen", "");

	log_info("metrics: serving /metrics on %s", l != NULL ? l : "?");
	return 0;
}

static int
mx_post_sandbox(struct event_base *base)
{
	mx.base = base;
	mx.body = evbuffer_new();
	mx.scrape_timer = evtimer_new(base, mx_scrape_timeout, NULL);
	if (mx.body == NULL || mx.scrape_timer == NULL)
		return -1;
	return 0;
}

/* After sup.config, once per life: a second one is a fault. */
static int
mx_listen_fd(const struct ipc_msg *m)
{
	if (m->fd == -1) {
		log_warnx("%s: no fd", __func__);
		return -1;
	}
	if (mx.base == NULL || mx.listener != NULL || mx.draining ||
	    evutil_make_socket_nonblocking(m->fd) == -1) {
		log_warnx("%s: unexpected listen fd", __func__);
		close(m->fd);
		return -1;
	}
	mx.listener = evconnlistener_new(mx.base, mx_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, m->fd);
	if (mx.listener == NULL) {
		close(m->fd);
		return -1;
	}
	return 0;
}

/* Accept only with room: the rest wait in the kernel's queue. */
static void
mx_update(void)
{
	if (mx.listener == NULL)
		return;
	if (mx.nconns >= MX_CONN_MAX || mx.draining)
		evconnlistener_disable(mx.listener);
	else
		evconnlistener_enable(mx.listener);
}

static void
mx_arm(struct event *ev, long ms)
{
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

	evtimer_add(ev, &tv);
}

static void
mx_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct mx_conn *c;

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (mx.nconns >= MX_CONN_MAX || mx.draining) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	http_parse_init(&c->hp, &c->req, MX_HEAD_MAX);
	c->bev = bufferevent_socket_new(mx.base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(mx.base, mx_timer, c);
	if (c->bev == NULL || c->timer == NULL)
		fatalx("%s: out of memory", __func__);
	bufferevent_setcb(c->bev, mx_read, mx_write, mx_event, c);
	bufferevent_enable(c->bev, EV_READ);
	mx_arm(c->timer, MX_READ_MS);
	TAILQ_INSERT_TAIL(&mx.conns, c, entry);
	mx.nconns++;
	mx_update();
}

static void
mx_read(struct bufferevent *bev, void *arg)
{
	struct mx_conn *c = arg;
	enum http_result r;
	char *q;

	r = http_parse_evbuffer(&c->hp, bufferevent_get_input(bev));
	if (r == HTTP_MORE)
		return;
	bufferevent_disable(bev, EV_READ);
	evtimer_del(c->timer);
	if (r == HTTP_ERROR) {
		mx_reply(c, c->hp.status, NULL, 0);
		return;
	}
	if ((q = strchr(c->req.path, '?')) != NULL)
		*q = '\0';
	if (strcmp(c->req.path, "/metrics") != 0) {
		mx_reply(c, 404, NULL, 0);
		return;
	}
	if (c->req.method != HTTP_GET) {
		mx_reply(c, 405, NULL, 0);
		return;
	}
	c->state = MX_WAITING;
	if (mx.req_id == 0)
		mx_ask();
}

/* One metrics.get for every request waiting now. */
static void
mx_ask(void)
{
	mx.req_id = ++mx.next_id;
	evbuffer_drain(mx.body, evbuffer_get_length(mx.body));
	mx.too_big = 0;
	if (worker_send(IPC_METRICS_GET, mx.req_id,
	    &(struct ipc_body_empty){ 0 }) == -1) {
		mx.req_id = 0;
		mx_answer_all(503);
		return;
	}
	mx_arm(mx.scrape_timer, MX_SCRAPE_MS);
}

/* Parts of an older scrape (timed out, or asked of a former hub) go. */
static int
mx_text(const struct ipc_msg *m)
{
	const struct ipc_body_text *t = &m->b.text;

	if (m->req_id != mx.req_id || mx.req_id == 0)
		return 0;
	if (evbuffer_get_length(mx.body) + t->text.len > MX_BODY_MAX)
		mx.too_big = 1;
	else
		evbuffer_add(mx.body, t->text.p, t->text.len);
	return 0;
}

static int
mx_done(const struct ipc_msg *m)
{
	if (m->req_id != mx.req_id || mx.req_id == 0)
		return 0;
	evtimer_del(mx.scrape_timer);
	mx.req_id = 0;
	if (mx.too_big)
		log_warnx("metrics: the exposition passed %d bytes; 503",
		    MX_BODY_MAX);
	/* Nothing at all: the hub could not queue it (metrics_serve.c). */
	mx_answer_all(mx.too_big || evbuffer_get_length(mx.body) == 0 ?
	    503 : 200);
	return 0;
}

static void
mx_scrape_timeout(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	log_warnx("metrics: no answer from the hub in %d ms; 503",
	    MX_SCRAPE_MS);
	mx.req_id = 0;
	mx_answer_all(503);
}

static void
mx_answer_all(int status)
{
	struct mx_conn *c, *t;
	const void *p = NULL;
	size_t len = 0;

	if (status == 200 && mx.body != NULL) {
		len = evbuffer_get_length(mx.body);
		p = evbuffer_pullup(mx.body, -1);
	}
	for (c = TAILQ_FIRST(&mx.conns); c != NULL; c = t) {
		t = TAILQ_NEXT(c, entry);
		if (c->state == MX_WAITING)
			mx_reply(c, status, p, len);
	}
	if (mx.body != NULL)
		evbuffer_drain(mx.body, evbuffer_get_length(mx.body));
}

static void
mx_reply(struct mx_conn *c, int status, const void *body, size_t len)
{
	c->state = MX_WRITING;
	http_response(bufferevent_get_output(c->bev), status,
	    status == 200 ? MX_CTYPE : NULL, body, len, HTTP_R_CLOSE);
	mx_arm(c->timer, MX_WRITE_MS);
}

static void
mx_write(struct bufferevent *bev, void *arg)
{
	struct mx_conn *c = arg;

	if (c->state == MX_WRITING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		mx_free(c);
}

static void
mx_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	mx_free(arg);
}

/* A slow head gets 408; a slow reader is dropped. */
static void
mx_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct mx_conn *c = arg;

	(void)fd;
	(void)ev;
	if (c->state == MX_READING) {
		bufferevent_disable(c->bev, EV_READ);
		mx_reply(c, 408, NULL, 0);
	} else
		mx_free(c);
}

static void
mx_free(struct mx_conn *c)
{
	TAILQ_REMOVE(&mx.conns, c, entry);
	mx.nconns--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	free(c);
	mx_update();
}

static void
mx_shutdown(void)
{
	mx.draining = 1;
	if (mx.listener != NULL)
		evconnlistener_disable(mx.listener);
	mx.req_id = 0;
	if (mx.scrape_timer != NULL)
		evtimer_del(mx.scrape_timer);
	mx_answer_all(503);
}

/* A new hub never saw our metrics.get: ask it. */
static void
mx_resync(void)
{
	if (mx.req_id != 0)
		mx_ask();
}
