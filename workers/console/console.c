/*
 * The operator console's HTTP listener (issue #16).  The root parent
 * binds console.listen (loopback only, supervisor/config_console.c) and
 * hands it over with sup.listen_fd; a browser's bytes are parsed here,
 * in the sandbox, by the web chat's bounded parser (workers/webchat/
 * http.c).  This worker decides nothing about who may do what: for
 * every route but the static 404 it forwards the session cookie's
 * value to the hub (console.get, console.post, console.login for the
 * one-time link) and writes the hub's answer (console.answer).  The
 * static files are written only after the hub said the session is
 * good, so without a session every route answers 401.
 *
 * A write must be a same-origin POST: its Origin must name this host
 * (and Sec-Fetch-Site, when sent, say same-origin), and it carries the
 * session's CSRF token in X-CSRF-Token, which the hub checks.  A form
 * another site submits has neither.
 *
 * Bounds: CN_CONN_MAX connections, CN_HEAD_MAX bytes of request head,
 * CN_READ_MS to send it, CN_HUB_MS for the hub to answer (then 503),
 * CN_WRITE_MS for the answer to leave.  One request per connection.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "callback/query.h"
#include "codec.h"
#include "console/cookie.h"
#include "log.h"
#include "webchat/http.h"
#include "worker.h"
#include "xmalloc.h"

#define CN_CONN_MAX	16
#define CN_HEAD_MAX	8192
#define CN_READ_MS	10000
#define CN_HUB_MS	5000
#define CN_WRITE_MS	10000
#define CN_COOKIE	"wxgate_console"
#define CN_JSON		"application/json"

enum cn_state { CN_READING, CN_WAITING, CN_WRITING };

/* What a route asks of the hub. */
enum cn_ask { CN_ASSET, CN_GET, CN_POST, CN_LOGIN };

struct cn_route {
	const char	*path;
	unsigned int	 method;	/* HTTP_GET or HTTP_POST */
	enum cn_ask	 ask;
	const char	*what;		/* page or action */
	const char	*ctype;		/* an asset's; NULL: JSON */
	const unsigned char *body;	/* an asset's bytes */
	const size_t	*len;
};

struct cn_conn {
	TAILQ_ENTRY(cn_conn)	 entry;
	enum cn_state		 state;
	uint64_t		 id;
	struct bufferevent	*bev;
	struct event		*timer;
	struct http_parse	 hp;
	struct http_req		 req;
	const struct cn_route	*route;
	char			 addr[INET6_ADDRSTRLEN];
};

/* Generated into assets.c from workers/console/assets/ (local.mk). */
extern const unsigned char	console_asset_console_html[];
extern const size_t		console_asset_console_html_len;
extern const unsigned char	console_asset_console_js[];
extern const size_t		console_asset_console_js_len;
extern const unsigned char	console_asset_console_css[];
extern const size_t		console_asset_console_css_len;
extern const unsigned char	console_asset_login_html[];
extern const size_t		console_asset_login_html_len;
extern const unsigned char	console_asset_favicon_svg[];
extern const size_t		console_asset_favicon_svg_len;

#define ASSET(p, n, t) \
	{ p, HTTP_GET, CN_ASSET, "asset", t, console_asset_##n, \
	  &console_asset_##n##_len }
#define API(p, m, a, w)	{ p, m, a, w, NULL, NULL, NULL }
static const struct cn_route cn_routes[] = {
	ASSET("/",		console_html,	"text/html; charset=utf-8"),
	ASSET("/console.js",	console_js,
	    "text/javascript; charset=utf-8"),
	ASSET("/console.css",	console_css,	"text/css; charset=utf-8"),
	ASSET("/favicon.svg",	favicon_svg,	"image/svg+xml"),
	ASSET("/favicon.ico",	favicon_svg,	"image/svg+xml"),
	API("/login",			HTTP_GET,  CN_LOGIN, "login"),
	API("/api/session",		HTTP_GET,  CN_GET,  "session"),
	API("/api/overview",		HTTP_GET,  CN_GET,  "overview"),
	API("/api/pairings",		HTTP_GET,  CN_GET,  "pairings"),
	API("/api/logout",		HTTP_POST, CN_POST, "logout"),
	API("/api/pairing/approve",	HTTP_POST, CN_POST, "pairing.approve"),
	API("/api/pairing/deny",	HTTP_POST, CN_POST, "pairing.deny"),
	API("/api/peer/revoke",		HTTP_POST, CN_POST, "peer.revoke"),
};
#undef ASSET
#undef API

/* Any other path: the hub still says 401 without a session. */
static const struct cn_route cn_unknown = { NULL, HTTP_GET, CN_GET,
    "unknown", NULL, NULL, NULL };

static struct {
	struct event_base	*base;
	struct evconnlistener	*listener;
	TAILQ_HEAD(, cn_conn)	 conns;
	size_t			 nconns;
	uint64_t		 next_id;
	int			 draining;
} cn = { .conns = TAILQ_HEAD_INITIALIZER(cn.conns) };

static int	cn_pre_sandbox(json_t *);
static int	cn_post_sandbox(struct event_base *);
static void	cn_shutdown(void);
static void	cn_resync(void);
static int	cn_listen_fd(const struct ipc_msg *);
static int	cn_answer(const struct ipc_msg *);
static const char *cn_profile(void);
static void	cn_accept(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	cn_read(struct bufferevent *, void *);
static void	cn_write(struct bufferevent *, void *);
static void	cn_event(struct bufferevent *, short, void *);
static void	cn_timer(evutil_socket_t, short, void *);
static void	cn_route(struct cn_conn *);
static int	cn_same_origin(const struct http_req *);
static void	cn_ask(struct cn_conn *);
static void	cn_reply(struct cn_conn *, int, const char *, const char *,
		    const void *, size_t);
static void	cn_error(struct cn_conn *, int, const char *);
static void	cn_free(struct cn_conn *);
static void	cn_update(void);

static const struct wk_handler cn_handlers[] = {
	{ IPC_SUP_LISTEN_FD,	cn_listen_fd },
	{ IPC_CONSOLE_ANSWER,	cn_answer },
	{ 0,			NULL }
};

const struct wk_kind wk_console = {
	"console", ROLE_CONSOLE, WK_F_NONET,
	cn_pre_sandbox, cn_post_sandbox, cn_shutdown, cn_resync,
	cn_handlers, cn_profile, NULL, NULL
};

/* Accepts on a handed socket, as the web chat does, and nothing more. */
static const char *
cn_profile(void)
{
	return "console";
}

static int
cn_pre_sandbox(json_t *conf)
{
	const char *l = wk_conf_str(conf, "listen", "");

	log_info("console: serving the operator console on %s",
	    l != NULL ? l : "?");
	return 0;
}

static int
cn_post_sandbox(struct event_base *base)
{
	cn.base = base;
	return 0;
}

/* After sup.config, once per life: a second one is a fault. */
static int
cn_listen_fd(const struct ipc_msg *m)
{
	if (m->fd == -1) {
		log_warnx("%s: no fd", __func__);
		return -1;
	}
	if (cn.base == NULL || cn.listener != NULL || cn.draining ||
	    evutil_make_socket_nonblocking(m->fd) == -1) {
		log_warnx("%s: unexpected listen fd", __func__);
		close(m->fd);
		return -1;
	}
	cn.listener = evconnlistener_new(cn.base, cn_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, -1, m->fd);
	if (cn.listener == NULL) {
		close(m->fd);
		return -1;
	}
	return 0;
}

/* Accept only with room: the rest wait in the kernel's queue. */
static void
cn_update(void)
{
	if (cn.listener == NULL)
		return;
	if (cn.nconns >= CN_CONN_MAX || cn.draining)
		evconnlistener_disable(cn.listener);
	else
		evconnlistener_enable(cn.listener);
}

static void
cn_arm(struct event *ev, long ms)
{
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

	evtimer_add(ev, &tv);
}

static void
cn_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
    int salen, void *arg)
{
	struct cn_conn *c;

	(void)l;
	(void)arg;
	if (cn.nconns >= CN_CONN_MAX || cn.draining) {
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->id = ++cn.next_id;
	if (sa->sa_family == AF_INET && salen >= (int)sizeof(struct sockaddr_in))
		inet_ntop(AF_INET, &((struct sockaddr_in *)sa)->sin_addr,
		    c->addr, sizeof(c->addr));
	else if (sa->sa_family == AF_INET6 &&
	    salen >= (int)sizeof(struct sockaddr_in6))
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)sa)->sin6_addr,
		    c->addr, sizeof(c->addr));
	else
		snprintf(c->addr, sizeof(c->addr), "?");
	http_parse_init(&c->hp, &c->req, CN_HEAD_MAX);
	c->bev = bufferevent_socket_new(cn.base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->timer = evtimer_new(cn.base, cn_timer, c);
	if (c->bev == NULL || c->timer == NULL)
		fatalx("%s: out of memory", __func__);
	bufferevent_setcb(c->bev, cn_read, cn_write, cn_event, c);
	bufferevent_enable(c->bev, EV_READ);
	cn_arm(c->timer, CN_READ_MS);
	TAILQ_INSERT_TAIL(&cn.conns, c, entry);
	cn.nconns++;
	cn_update();
}

static void
cn_read(struct bufferevent *bev, void *arg)
{
	struct cn_conn *c = arg;
	enum http_result r;

	r = http_parse_evbuffer(&c->hp, bufferevent_get_input(bev));
	if (r == HTTP_MORE)
		return;
	bufferevent_disable(bev, EV_READ);
	evtimer_del(c->timer);
	if (r == HTTP_ERROR) {
		cn_reply(c, c->hp.status, NULL, NULL, NULL, 0);
		return;
	}
	cn_route(c);
}

static void
cn_route(struct cn_conn *c)
{
	size_t i;

	c->route = &cn_unknown;
	for (i = 0; i < sizeof(cn_routes) / sizeof(cn_routes[0]); i++)
		if (strcmp(c->req.path, cn_routes[i].path) == 0) {
			c->route = &cn_routes[i];
			break;
		}
	if (c->req.method != c->route->method &&
	    !(c->req.method == HTTP_HEAD && c->route->method == HTTP_GET)) {
		cn_reply(c, 405, c->route->method == HTTP_POST ?
		    "Allow: POST\r\n" : "Allow: GET, HEAD\r\n", NULL, NULL, 0);
		return;
	}
	if (c->route->ask == CN_POST && !cn_same_origin(&c->req)) {
		log_warnx("console: a cross-site %s from %s refused",
		    c->route->what, c->addr);
		cn_error(c, 403, "cross-site request refused");
		return;
	}
	cn_ask(c);
}

/*
 * Origin must be this very host (the browser's Host header): a page of
 * another site, even on another loopback port, is another origin.
 */
static int
cn_same_origin(const struct http_req *r)
{
	char want[HTTP_VALUE_MAX + 16];

	if (r->h_fetch_site[0] != '\0' &&
	    strcmp(r->h_fetch_site, "same-origin") != 0)
		return 0;
	if (r->h_origin[0] == '\0' || r->h_host[0] == '\0')
		return 0;
	snprintf(want, sizeof(want), "http://%s", r->h_host);
	return strcmp(r->h_origin, want) == 0;
}

/*
 * A query value or header as an IPC string: the hub refuses a frame
 * that is not UTF-8 (and kills its sender), so what a browser sent that
 * is not becomes "", which the hub refuses like any wrong value.
 */
static struct ipc_str
cn_str(const char *s)
{
	return ipc_utf8_valid(s, strlen(s)) ? ipc_s(s) : ipc_s("");
}

static void
cn_ask(struct cn_conn *c)
{
	const struct cn_route *rt = c->route;
	char session[IPC_CONSOLE_TOKEN_MAX + 1], arg[IPC_NAME_MAX + 1];
	char peer[IPC_PEER_MAX + 1];
	char token[IPC_CONSOLE_TOKEN_MAX + 1];
	int rv, n;

	n = cookie_get(c->req.h_cookie, strlen(c->req.h_cookie), CN_COOKIE,
	    session, sizeof(session));
	if (n < 0)
		session[0] = '\0';
	switch (rt->ask) {
	case CN_LOGIN:
		if (query_get(c->req.query, strlen(c->req.query), "token",
		    token, sizeof(token)) < 0)
			token[0] = '\0';
		rv = worker_send(IPC_CONSOLE_LOGIN, 0,
		    &(struct ipc_body_console_login){ c->id, ipc_s(c->addr),
		    cn_str(token) });
		break;
	case CN_POST:
		/* A pairing's code, or the account a sender is revoked from. */
		if (query_get(c->req.query, strlen(c->req.query), "code",
		    arg, sizeof(arg)) < 0 && query_get(c->req.query,
		    strlen(c->req.query), "account", arg, sizeof(arg)) < 0)
			arg[0] = '\0';
		if (query_get(c->req.query, strlen(c->req.query), "peer",
		    peer, sizeof(peer)) < 0)
			peer[0] = '\0';
		rv = worker_send(IPC_CONSOLE_POST, 0,
		    &(struct ipc_body_console_post){ c->id, ipc_s(session),
		    cn_str(strlen(c->req.h_csrf) <= IPC_CONSOLE_TOKEN_MAX ?
		    c->req.h_csrf : ""), ipc_s(rt->what), cn_str(arg),
		    cn_str(peer) });
		break;
	default:
		rv = worker_send(IPC_CONSOLE_GET, 0,
		    &(struct ipc_body_console_get){ c->id, ipc_s(session),
		    ipc_s(rt->what) });
		break;
	}
	if (rv == -1) {
		cn_error(c, 503, "the console is not available");
		return;
	}
	c->state = CN_WAITING;
	cn_arm(c->timer, CN_HUB_MS);
}

/* The hub's word on one request; answers for a gone connection drop. */
static int
cn_answer(const struct ipc_msg *m)
{
	const struct ipc_body_console_answer *a = &m->b.console_answer;
	char cookie[IPC_MESSAGE_MAX + 1], location[IPC_URL_MAX + 1];
	char extra[IPC_MESSAGE_MAX + IPC_URL_MAX + 64];
	const struct cn_route *rt;
	struct cn_conn *c;

	TAILQ_FOREACH(c, &cn.conns, entry)
		if (c->id == a->conn && c->state == CN_WAITING)
			break;
	if (c == NULL)
		return 0;
	evtimer_del(c->timer);
	snprintf(cookie, sizeof(cookie), "%.*s", (int)a->cookie.len,
	    a->cookie.p);
	snprintf(location, sizeof(location), "%.*s", (int)a->location.len,
	    a->location.p);
	/* The hub's own strings; a line break in one would be a header. */
	if (strpbrk(cookie, "\r\n") != NULL ||
	    strpbrk(location, "\r\n") != NULL) {
		log_warnx("%s: a header with a line break", __func__);
		return -1;
	}
	rt = c->route;
	if (a->status == 200 && rt->ask == CN_ASSET) {
		cn_reply(c, 200, NULL, rt->ctype, rt->body, *rt->len);
		return 0;
	}
	/* A page without a session says how to get one. */
	if (a->status == 401 && rt->ask == CN_ASSET) {
		cn_reply(c, 401, NULL, "text/html; charset=utf-8",
		    console_asset_login_html, console_asset_login_html_len);
		return 0;
	}
	snprintf(extra, sizeof(extra), "%s%s%s%s%s%s",
	    cookie[0] != '\0' ? "Set-Cookie: " : "", cookie,
	    cookie[0] != '\0' ? "\r\n" : "",
	    location[0] != '\0' ? "Location: " : "", location,
	    location[0] != '\0' ? "\r\n" : "");
	cn_reply(c, (int)a->status, extra, a->body.len > 0 ? CN_JSON : NULL,
	    a->body.p, a->body.len);
	explicit_bzero(cookie, sizeof(cookie));
	explicit_bzero(extra, sizeof(extra));
	return 0;
}

static void
cn_error(struct cn_conn *c, int status, const char *why)
{
	char body[128];
	int n;

	n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);
	cn_reply(c, status, NULL, CN_JSON, body, (size_t)n);
}

static void
cn_reply(struct cn_conn *c, int status, const char *extra,
    const char *ctype, const void *body, size_t len)
{
	c->state = CN_WRITING;
	if (c->req.method == HTTP_HEAD)
		len = 0;
	http_response_x(bufferevent_get_output(c->bev), status, ctype, extra,
	    body, len, HTTP_R_CLOSE | HTTP_R_NOSTORE);
	cn_arm(c->timer, CN_WRITE_MS);
}

static void
cn_write(struct bufferevent *bev, void *arg)
{
	struct cn_conn *c = arg;

	if (c->state == CN_WRITING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		cn_free(c);
}

static void
cn_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	cn_free(arg);
}

/* A slow head gets 408, a silent hub 503; a slow reader is dropped. */
static void
cn_timer(evutil_socket_t fd, short ev, void *arg)
{
	struct cn_conn *c = arg;

	(void)fd;
	(void)ev;
	if (c->state == CN_READING) {
		bufferevent_disable(c->bev, EV_READ);
		cn_reply(c, 408, NULL, NULL, NULL, 0);
	} else if (c->state == CN_WAITING) {
		log_warnx("console: no answer from the hub in %d ms; 503",
		    CN_HUB_MS);
		cn_error(c, 503, "the console is not available");
	} else
		cn_free(c);
}

static void
cn_free(struct cn_conn *c)
{
	TAILQ_REMOVE(&cn.conns, c, entry);
	cn.nconns--;
	bufferevent_free(c->bev);
	event_free(c->timer);
	explicit_bzero(&c->req, sizeof(c->req));
	free(c);
	cn_update();
}

/* Requests asked and not answered get 503: nobody will answer them. */
static void
cn_fail_waiting(void)
{
	struct cn_conn *c;

	TAILQ_FOREACH(c, &cn.conns, entry)
		if (c->state == CN_WAITING) {
			evtimer_del(c->timer);
			cn_error(c, 503, "the console is restarting");
		}
}

static void
cn_shutdown(void)
{
	cn.draining = 1;
	if (cn.listener != NULL)
		evconnlistener_disable(cn.listener);
	cn_fail_waiting();
}

/* A new hub never saw what we asked the old one: those get 503. */
static void
cn_resync(void)
{
	cn_fail_waiting();
}
