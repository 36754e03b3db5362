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

#include "httpd.h"
#include "log.h"
#include "worker.h"

#define MX_CONN_MAX	8
#define MX_HEAD_MAX	4096
#define MX_READ_MS	5000
#define MX_WRITE_MS	10000
#define MX_SCRAPE_MS	5000
/* Every worker and channel's families at CFG_CHANNELS_MAX fit. */
#define MX_BODY_MAX	(8 * 1024 * 1024)
#define MX_CTYPE	"text/plain; version=0.0.4; charset=utf-8"

static void	mx_request(struct httpd_conn *);

static struct {
	struct httpd		 srv;
	/* The scrape asked of the hub: 0 when none. */
	uint64_t		 req_id;
	uint64_t		 next_id;
	struct evbuffer		*body;
	int			 too_big;
	struct event		*scrape_timer;
} mx = { .srv = { .name = "metrics", .conn_max = MX_CONN_MAX,
    .head_max = MX_HEAD_MAX, .read_ms = MX_READ_MS, .write_ms = MX_WRITE_MS,
    .request = mx_request } };

static int	mx_pre_sandbox(json_t *);
static int	mx_post_sandbox(struct event_base *);
static void	mx_shutdown(void);
static void	mx_resync(void);
static int	mx_listen_fd(const struct ipc_msg *);
static int	mx_text(const struct ipc_msg *);
static int	mx_done(const struct ipc_msg *);
static const char *mx_profile(void);
static void	mx_scrape_timeout(evutil_socket_t, short, void *);
static void	mx_ask(void);
static void	mx_answer_all(int);
static void	mx_reply(struct httpd_conn *, int, const void *, size_t);

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
	worker_crypto_skip();
	return 0;
}

static int
mx_post_sandbox(struct event_base *base)
{
	httpd_init(&mx.srv, base);
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
	return httpd_listen_fd(&mx.srv, m);
}

/* A whole head: GET /metrics waits for the one scrape asked. */
static void
mx_request(struct httpd_conn *c)
{
	char *q;

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
	httpd_wait(c);
	if (mx.req_id == 0)
		mx_ask();
}

/* One metrics.get for every request waiting now. */
static void
mx_ask(void)
{
	static const struct timeval scrape_tv = { MX_SCRAPE_MS / 1000,
	    MX_SCRAPE_MS % 1000 * 1000 };

	mx.req_id = ++mx.next_id;
	evbuffer_drain(mx.body, evbuffer_get_length(mx.body));
	mx.too_big = 0;
	if (worker_send(IPC_METRICS_GET, mx.req_id,
	    &(struct ipc_body_empty){ 0 }) == -1) {
		mx.req_id = 0;
		mx_answer_all(503);
		return;
	}
	evtimer_add(mx.scrape_timer, &scrape_tv);
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
	struct httpd_conn *c, *t;
	const void *p = NULL;
	size_t len = 0;

	if (status == 200 && mx.body != NULL) {
		len = evbuffer_get_length(mx.body);
		p = evbuffer_pullup(mx.body, -1);
	}
	for (c = TAILQ_FIRST(&mx.srv.conns); c != NULL; c = t) {
		t = TAILQ_NEXT(c, entry);
		if (c->state == HTTPD_WAITING)
			mx_reply(c, status, p, len);
	}
	if (mx.body != NULL)
		evbuffer_drain(mx.body, evbuffer_get_length(mx.body));
}

static void
mx_reply(struct httpd_conn *c, int status, const void *body, size_t len)
{
	httpd_reply(c, status, status == 200 ? MX_CTYPE : NULL, NULL, body,
	    len);
}

static void
mx_shutdown(void)
{
	httpd_drain(&mx.srv);
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
