/*
 * The operator console's HTTP listener (issue #16).  The root parent
 * binds console.listen (loopback only, supervisor/config_console.c) and
 * hands it over with sup.listen_fd; a browser's bytes are parsed here,
 * in the sandbox, by the web chat's bounded parser (workers/webchat/
 * http.c).  This worker decides nothing about who may do what: for
 * every route but the static 404 it forwards the session cookie's
 * value to the hub (console.get, console.post, console.login for the
 * one-time link) and writes the hub's answer (console.answer); a page
 * query it cannot carry (cn_page, cn_text) is a 400 that tells nothing.  The
 * static files are written only after the hub said the session is
 * good, so without a session every route answers 401.  /api/media is
 * answered with an attachment's bytes (console.media), typed and named
 * by the hub; only the headers around them are made here (cn_media).
 *
 * A write must be a same-origin POST: its Origin must name this host
 * (and Sec-Fetch-Site, when sent, say same-origin), and it carries the
 * session's CSRF token in X-CSRF-Token, which the hub checks.  A form
 * another site submits has neither.
 *
 * Bounds: CN_CONN_MAX connections, CN_HEAD_MAX bytes of request head
 * and IPC_TEXT_MAX of body (a POST's message; Content-Length first),
 * CN_READ_MS to send both, CN_HUB_MS for the hub to answer (then 503),
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

#include <jansson.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "callback/query.h"
#include "codec.h"
#include "console/cookie.h"
#include "httpd.h"
#include "log.h"
#include "tls_pem.h"
#include "worker.h"

#define CN_CONN_MAX	16
#define CN_HEAD_MAX	8192
#define CN_READ_MS	10000
#define CN_HUB_MS	5000
#define CN_WRITE_MS	10000
#define CN_COOKIE	"wxgate_console"
#define CN_JSON		"application/json"
#define CN_HSTS		"Strict-Transport-Security: max-age=31536000\r\n"
/* What a page's query value may hold (cn_page). */
#define CN_WORD		"abcdefghijklmnopqrstuvwxyz0123456789._-"

/* What a route asks of the hub. */
enum cn_ask { CN_ASSET, CN_GET, CN_POST, CN_LOGIN };

struct cn_route {
	const char	*path;
	unsigned int	 method;	/* HTTP_GET or HTTP_POST */
	enum cn_ask	 ask;
	const char	*what;		/* page or action */
	const char	*argkey;	/* the query key of an action's arg */
	const char *const *keys;	/* a page's query keys, in order */
	const char	*ctype;		/* an asset's; NULL: JSON */
	const unsigned char *body;	/* an asset's bytes */
	const size_t	*len;
	const char	*textkey;	/* a page's free text, if it takes one */
};

/* Generated into assets.c from workers/console/assets/ (local.mk). */
extern const unsigned char	console_asset_console_html[];
extern const size_t		console_asset_console_html_len;
extern const unsigned char	console_asset_dom_js[];
extern const size_t		console_asset_dom_js_len;
extern const unsigned char	console_asset_e2e_js[];
extern const size_t		console_asset_e2e_js_len;
extern const unsigned char	console_asset_console_js[];
extern const size_t		console_asset_console_js_len;
extern const unsigned char	console_asset_console_css[];
extern const size_t		console_asset_console_css_len;
extern const unsigned char	console_asset_chat_js[];
extern const size_t		console_asset_chat_js_len;
extern const unsigned char	console_asset_seal_js[];
extern const size_t		console_asset_seal_js_len;
extern const unsigned char	console_asset_sched_seal_js[];
extern const size_t		console_asset_sched_seal_js_len;
extern const unsigned char	console_asset_chat_css[];
extern const size_t		console_asset_chat_css_len;
extern const unsigned char	console_asset_thread_js[];
extern const size_t		console_asset_thread_js_len;
extern const unsigned char	console_asset_thread_css[];
extern const size_t		console_asset_thread_css_len;
extern const unsigned char	console_asset_login_html[];
extern const size_t		console_asset_login_html_len;
extern const unsigned char	console_asset_favicon_svg[];
extern const size_t		console_asset_favicon_svg_len;

#define ASSET(p, n, t) \
	{ p, HTTP_GET, CN_ASSET, "asset", NULL, NULL, t, console_asset_##n, \
	  &console_asset_##n##_len, NULL }
#define API(p, m, a, w) \
	{ p, m, a, w, NULL, NULL, NULL, NULL, NULL, NULL }
/* A write whose arg is the query's value of k (peer is always "peer"). */
#define ACT(p, w, k) \
	{ p, HTTP_POST, CN_POST, w, k, NULL, NULL, NULL, NULL, NULL }
/* A page that takes the query's values of the keys k (cn_page). */
#define QUERY(p, w, k) \
	{ p, HTTP_GET, CN_GET, w, NULL, k, NULL, NULL, NULL, NULL }
/* One that takes the value of t too, as free text (cn_text). */
#define SEARCH(p, w, k, t) \
	{ p, HTTP_GET, CN_GET, w, NULL, k, NULL, NULL, NULL, t }
static const char *const cn_log_keys[] = { "since", "level", "worker", NULL };
static const char *const cn_conv_keys[] = { "peer", NULL };
static const char *const cn_thread_keys[] = { "session", "before", NULL };
static const char *const cn_media_keys[] = { "msg", "seq", NULL };
static const char *const cn_chat_keys[] = { "thread", "since", "have",
    NULL };
static const char *const cn_sealed_keys[] = { "id", "run", NULL };
static const struct cn_route cn_routes[] = {
	ASSET("/",		console_html,	"text/html; charset=utf-8"),
	ASSET("/dom.js",	dom_js,	"text/javascript; charset=utf-8"),
	ASSET("/e2e.js",	e2e_js,	"text/javascript; charset=utf-8"),
	ASSET("/console.js",	console_js,
	    "text/javascript; charset=utf-8"),
	ASSET("/console.css",	console_css,	"text/css; charset=utf-8"),
	ASSET("/chat.js",	chat_js,
	    "text/javascript; charset=utf-8"),
	ASSET("/chat.css",	chat_css,	"text/css; charset=utf-8"),
	ASSET("/seal.js",	seal_js,
	    "text/javascript; charset=utf-8"),
	ASSET("/sched_seal.js",	sched_seal_js,
	    "text/javascript; charset=utf-8"),
	ASSET("/thread.js",	thread_js,
	    "text/javascript; charset=utf-8"),
	ASSET("/thread.css",	thread_css,	"text/css; charset=utf-8"),
	ASSET("/favicon.svg",	favicon_svg,	"image/svg+xml"),
	ASSET("/favicon.ico",	favicon_svg,	"image/svg+xml"),
	API("/login",			HTTP_GET,  CN_LOGIN, "login"),
	API("/api/session",		HTTP_GET,  CN_GET,  "session"),
	API("/api/overview",		HTTP_GET,  CN_GET,  "overview"),
	API("/api/pairings",		HTTP_GET,  CN_GET,  "pairings"),
	API("/api/shares",		HTTP_GET,  CN_GET,  "shares"),
	API("/api/schedules",		HTTP_GET,  CN_GET,  "schedules"),
	API("/api/accounts",		HTTP_GET,  CN_GET,  "accounts"),
	API("/api/e2e",			HTTP_GET,  CN_GET,  "e2e"),
	QUERY("/api/log",		"log",		cn_log_keys),
	SEARCH("/api/conversations",	"conversations", cn_conv_keys, "text"),
	QUERY("/api/chat",		"chat",		cn_chat_keys),
	QUERY("/api/thread",		"thread",	cn_thread_keys),
	/* A sealed schedule's text too long to list (docs/e2e.md). */
	QUERY("/api/schedule/sealed",	"sched_sealed",	cn_sealed_keys),
	/* Answered by console.media, bytes and not JSON (cn_media). */
	QUERY("/api/media",		"media",	cn_media_keys),
	ACT("/api/logout",		"logout",	NULL),
	ACT("/api/pairing/approve",	"pairing.approve", "code"),
	ACT("/api/pairing/deny",	"pairing.deny",	"code"),
	ACT("/api/peer/revoke",		"peer.revoke",	"account"),
	ACT("/api/share/create",	"share.create",	"days"),
	ACT("/api/share/revoke",	"share.revoke",	"id"),
	ACT("/api/invite/revoke",	"invite.revoke", "id"),
	ACT("/api/schedule/run",	"schedule.run",	"name"),
	ACT("/api/schedule/pause",	"schedule.pause", "name"),
	ACT("/api/schedule/resume",	"schedule.resume", "name"),
	/* A sealed schedule (docs/e2e.md): its definition, then its prompt. */
	ACT("/api/schedule/seal",	"schedule.seal_new", NULL),
	ACT("/api/schedule/prompt",	"schedule.seal_prompt", "id"),
	ACT("/api/conv/send",		"conv.send",	"account"),
	ACT("/api/account/pause",	"account.pause", "name"),
	ACT("/api/account/resume",	"account.resume", "name"),
	ACT("/api/chat/new",		"chat.new",	"agent"),
	ACT("/api/chat/send",		"chat.send",	"thread"),
	ACT("/api/chat/branch",		"chat.branch",	"msg"),
	/* A sealed message: at is "THREAD:NUMBER" (docs/e2e.md). */
	ACT("/api/chat/seal",		"chat.send",	"at"),
	ACT("/api/e2e/key",		"e2e.key",	NULL),
};
#undef ASSET
#undef API
#undef ACT
#undef QUERY
#undef SEARCH

/* Any other path: the hub still says 401 without a session. */
static const struct cn_route cn_unknown = { NULL, HTTP_GET, CN_GET,
    "unknown", NULL, NULL, NULL, NULL, NULL, NULL };

static void	cn_route(struct httpd_conn *);
static void	cn_hub_late(struct httpd_conn *);
static struct bufferevent *cn_tls_accept(struct httpd *, int);

static struct httpd cn = { .name = "console", .conn_max = CN_CONN_MAX,
    .head_max = CN_HEAD_MAX, .body_max = IPC_TEXT_MAX, .read_ms = CN_READ_MS, .wait_ms = CN_HUB_MS,
    .write_ms = CN_WRITE_MS, .flags = HTTP_R_NOSTORE, .request = cn_route,
    .wait_timeout = cn_hub_late, .tls_accept = cn_tls_accept };

static int	cn_pre_sandbox(json_t *);
static int	cn_post_sandbox(struct event_base *);
static void	cn_shutdown(void);
static void	cn_resync(void);
static int	cn_listen_fd(const struct ipc_msg *);
static int	cn_answer(const struct ipc_msg *);
static int	cn_media(const struct ipc_msg *);
static struct httpd_conn *cn_waiting(uint64_t);
static const char *cn_profile(void);
static int	cn_same_origin(const struct http_req *);
static void	cn_ask(struct httpd_conn *);
static void	cn_reply(struct httpd_conn *, int, const char *, const char *,
		    const void *, size_t);
static void	cn_error(struct httpd_conn *, int, const char *);

static const struct wk_handler cn_handlers[] = {
	{ IPC_SUP_LISTEN_FD,	cn_listen_fd },
	{ IPC_CONSOLE_ANSWER,	cn_answer },
	{ IPC_CONSOLE_MEDIA,	cn_media },
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

/*
 * With TLS the slice holds the certificate chain and the key, which
 * the configuration already tried (config_console.c); the context is
 * built here, before the sandbox, and the slice's key is wiped by the
 * caller.  Without, OpenSSL is not even initialised.
 */
static int
cn_pre_sandbox(json_t *conf)
{
	const char *l = wk_conf_str(conf, "listen", "");
	json_t *cert = json_object_get(conf, "tls_cert");
	json_t *key = json_object_get(conf, "tls_key");
	char err[256];
	long left;

	if (!json_is_string(cert) || !json_is_string(key)) {
		log_info("console: serving the operator console on "
		    "http://%s", l != NULL ? l : "?");
		worker_crypto_skip();
		return 0;
	}
	cn.tls = tls_pem_server(json_string_value(cert),
	    json_string_length(cert), json_string_value(key),
	    json_string_length(key), err, sizeof(err));
	if (cn.tls == NULL) {
		log_warnx("console: TLS: %s", err);
		return -1;
	}
	if ((left = tls_pem_left(cn.tls)) < 0)
		log_warnx("console: the TLS certificate has expired");
	else if (left < 14 * 86400)
		log_warnx("console: the TLS certificate expires in %ld "
		    "days", left / 86400);
	log_info("console: serving the operator console on https://%s",
	    l != NULL ? l : "?");
	return 0;
}

static struct bufferevent *
cn_tls_accept(struct httpd *s, int fd)
{
	struct bufferevent *bev;
	SSL *ssl;

	if ((ssl = SSL_new(s->tls)) == NULL)
		return NULL;
	bev = bufferevent_openssl_socket_new(s->base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	/* A browser may close without close_notify: not an error. */
	if (bev != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static int
cn_post_sandbox(struct event_base *base)
{
	httpd_init(&cn, base);
	return 0;
}

/* After sup.config, once per life: a second one is a fault. */
static int
cn_listen_fd(const struct ipc_msg *m)
{
	return httpd_listen_fd(&cn, m);
}

/* A whole head: which route, and may it be asked. */
static void
cn_route(struct httpd_conn *c)
{
	const struct cn_route *rt = &cn_unknown;
	size_t i;

	for (i = 0; i < sizeof(cn_routes) / sizeof(cn_routes[0]); i++)
		if (strcmp(c->req.path, cn_routes[i].path) == 0) {
			rt = &cn_routes[i];
			break;
		}
	c->route = rt;
	if (c->req.method != rt->method &&
	    !(c->req.method == HTTP_HEAD && rt->method == HTTP_GET)) {
		cn_reply(c, 405, rt->method == HTTP_POST ?
		    "Allow: POST\r\n" : "Allow: GET, HEAD\r\n", NULL, NULL, 0);
		return;
	}
	if (rt->ask == CN_POST && !cn_same_origin(&c->req)) {
		log_warnx("console: a cross-site %s from %s refused",
		    rt->what, c->addr);
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
	snprintf(want, sizeof(want), "%s://%s", cn.tls != NULL ? "https" :
	    "http", r->h_host);
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

/*
 * A page's name, then each of its keys' query values after a space, "-"
 * for one not given: console.get carries nothing but the page.  The
 * values are plain words (a number, a level, a worker's name), so one
 * with any other byte, a space above all, is refused here rather than
 * shifting the hub's fields.  -1 when refused or too long for a page.
 * A value query_get() cannot read (repeated, too long) counts as not
 * given: the page is read-only, and the hub still checks each field.
 */
static int
cn_page(const struct cn_route *rt, const char *query, char *page,
    size_t size)
{
	char v[IPC_NAME_MAX + 1];
	size_t i, len;
	int n;

	n = snprintf(page, size, "%s", rt->what);
	for (i = 0; rt->keys != NULL && rt->keys[i] != NULL; i++) {
		if (query_get(query, strlen(query), rt->keys[i], v,
		    sizeof(v)) <= 0)
			snprintf(v, sizeof(v), "-");
		else if (strspn(v, CN_WORD) != strlen(v))
			return -1;
		len = (size_t)n;
		if (len >= size)
			return -1;
		n += snprintf(page + len, size - len, " %s", v);
	}
	return (size_t)n < size ? 0 : -1;
}

/*
 * A page's free text (a search, in any language): the value of its
 * textkey into text (IPC_CONSOLE_QUERY_MAX bytes and a NUL), "" when not
 * given; -1 when longer or not UTF-8.  A value query_get() cannot read
 * (repeated, badly escaped) counts as not given, as cn_page's do.
 */
static int
cn_text(const struct cn_route *rt, const char *query,
    char text[IPC_CONSOLE_QUERY_MAX + 1])
{
	char v[CN_HEAD_MAX];
	int n;

	text[0] = '\0';
	if (rt->textkey == NULL ||
	    (n = query_get(query, strlen(query), rt->textkey, v,
	    sizeof(v))) <= 0)
		return 0;
	if ((size_t)n > IPC_CONSOLE_QUERY_MAX ||
	    !ipc_utf8_valid(v, (size_t)n))
		return -1;
	memcpy(text, v, (size_t)n + 1);
	return 0;
}

static void
cn_ask(struct httpd_conn *c)
{
	const struct cn_route *rt = c->route;
	char session[IPC_CONSOLE_TOKEN_MAX + 1], arg[IPC_NAME_MAX + 1];
	char peer[IPC_PEER_MAX + 1], page[IPC_NAME_MAX + 1];
	char text[IPC_CONSOLE_QUERY_MAX + 1];
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
		/* A message the hub's codec would refuse, killing us. */
		if (!ipc_utf8_valid(c->body, c->req.body_len)) {
			cn_error(c, 400, "the text is not valid UTF-8");
			return;
		}
		if (rt->argkey == NULL || query_get(c->req.query,
		    strlen(c->req.query), rt->argkey, arg, sizeof(arg)) < 0)
			arg[0] = '\0';
		if (query_get(c->req.query, strlen(c->req.query), "peer",
		    peer, sizeof(peer)) < 0)
			peer[0] = '\0';
		rv = worker_send(IPC_CONSOLE_POST, 0,
		    &(struct ipc_body_console_post){ c->id, ipc_s(session),
		    cn_str(strlen(c->req.h_csrf) <= IPC_CONSOLE_TOKEN_MAX ?
		    c->req.h_csrf : ""), ipc_s(rt->what), cn_str(arg),
		    cn_str(peer), { c->body, c->req.body_len } });
		break;
	default:
		if (cn_page(rt, c->req.query, page, sizeof(page)) == -1 ||
		    cn_text(rt, c->req.query, text) == -1) {
			cn_error(c, 400, "a query value that is not valid");
			return;
		}
		rv = worker_send(IPC_CONSOLE_GET, 0,
		    &(struct ipc_body_console_get){ c->id, ipc_s(session),
		    ipc_s(page), ipc_s(text) });
		break;
	}
	if (rv == -1) {
		cn_error(c, 503, "the console is not available");
		return;
	}
	httpd_wait(c);
}

/* The hub's word on one request; answers for a gone connection drop. */
static int
cn_answer(const struct ipc_msg *m)
{
	const struct ipc_body_console_answer *a = &m->b.console_answer;
	char cookie[IPC_MESSAGE_MAX + 1], location[IPC_URL_MAX + 1];
	char extra[IPC_MESSAGE_MAX + IPC_URL_MAX + 80];
	const struct cn_route *rt;
	struct httpd_conn *c;

	if ((c = cn_waiting(a->conn)) == NULL)
		return 0;
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
	/* The session must never be sent back over plain HTTP. */
	snprintf(extra, sizeof(extra), "%s%s%s%s%s%s%s",
	    cookie[0] != '\0' ? "Set-Cookie: " : "", cookie,
	    cookie[0] != '\0' && cn.tls != NULL ? "; Secure" : "",
	    cookie[0] != '\0' ? "\r\n" : "",
	    location[0] != '\0' ? "Location: " : "", location,
	    location[0] != '\0' ? "\r\n" : "");
	cn_reply(c, (int)a->status, extra, a->body.len > 0 ? CN_JSON : NULL,
	    a->body.p, a->body.len);
	explicit_bzero(cookie, sizeof(cookie));
	explicit_bzero(extra, sizeof(extra));
	return 0;
}

/* The connection waiting for the hub's answer conn, or NULL (gone). */
static struct httpd_conn *
cn_waiting(uint64_t conn)
{
	struct httpd_conn *c;

	TAILQ_FOREACH(c, &cn.conns, entry)
		if (c->id == conn && c->state == HTTPD_WAITING)
			return c;
	return NULL;
}

/*
 * An attachment's bytes, for /api/media only.  The type and the
 * disposition are the hub's, made from the bytes and of safe
 * characters (supervisor/console_media.c); one with a control
 * character would be a header of its own, so it is a fault here.  The
 * bytes are a peer's: never cached, and never sniffed into markup
 * (nosniff is on every answer, http.c).
 */
static int
cn_media(const struct ipc_msg *m)
{
	const struct ipc_body_console_media *a = &m->b.console_media;
	char ctype[IPC_NAME_MAX + 1], disp[IPC_CONSOLE_DISP_MAX + 1];
	char extra[IPC_CONSOLE_DISP_MAX + 128];
	const struct cn_route *rt;
	struct httpd_conn *c;
	size_t i;

	if ((c = cn_waiting(a->conn)) == NULL)
		return 0;
	rt = c->route;
	snprintf(ctype, sizeof(ctype), "%.*s", (int)a->ctype.len, a->ctype.p);
	snprintf(disp, sizeof(disp), "%.*s", (int)a->disposition.len,
	    a->disposition.p);
	for (i = 0; disp[i] != '\0'; i++)
		if ((unsigned char)disp[i] < 0x20 || disp[i] == 0x7f)
			break;
	if (strcmp(rt->what, "media") != 0 || disp[i] != '\0' ||
	    strspn(ctype, "abcdefghijklmnopqrstuvwxyz/-.") != strlen(ctype)) {
		log_warnx("%s: an answer that is not a media route's",
		    __func__);
		return -1;
	}
	snprintf(extra, sizeof(extra), "Cache-Control: private, no-store\r\n"
	    "%s%s%s", disp[0] != '\0' ? "Content-Disposition: " : "", disp,
	    disp[0] != '\0' ? "\r\n" : "");
	cn_reply(c, 200, extra, ctype, a->data.p, a->data.len);
	return 0;
}

static void
cn_error(struct httpd_conn *c, int status, const char *why)
{
	char body[128];
	int n;

	n = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", why);
	cn_reply(c, status, NULL, CN_JSON, body, (size_t)n);
}

/*
 * Under TLS the browser is told to come back only that way (HSTS).  The
 * longest extra is cn_media's, a Content-Disposition of up to
 * IPC_CONSOLE_DISP_MAX: a head cut short of it would run into the next
 * header (the Content-Type), so one that does not fit is never sent.
 */
static void
cn_reply(struct httpd_conn *c, int status, const char *extra,
    const char *ctype, const void *body, size_t len)
{
	char h[sizeof(CN_HSTS) + IPC_CONSOLE_DISP_MAX + 128];
	int n;

	if (cn.tls == NULL) {
		httpd_reply(c, status, ctype, extra, body, len);
		return;
	}
	n = snprintf(h, sizeof(h), "%s%s", CN_HSTS, extra != NULL ? extra :
	    "");
	if (n < 0 || (size_t)n >= sizeof(h)) {
		log_warnx("%s: %d bytes of headers do not fit", __func__, n);
		httpd_reply(c, 500, NULL, CN_HSTS, NULL, 0);
	} else
		httpd_reply(c, status, ctype, h, body, len);
	explicit_bzero(h, sizeof(h));
}

/* CN_HUB_MS without the hub's answer. */
static void
cn_hub_late(struct httpd_conn *c)
{
	log_warnx("console: no answer from the hub in %d ms; 503",
	    CN_HUB_MS);
	cn_error(c, 503, "the console is not available");
}

/* Requests asked and not answered get 503: nobody will answer them. */
static void
cn_fail_waiting(void)
{
	struct httpd_conn *c;

	TAILQ_FOREACH(c, &cn.conns, entry)
		if (c->state == HTTPD_WAITING)
			cn_error(c, 503, "the console is restarting");
}

static void
cn_shutdown(void)
{
	httpd_drain(&cn);
	cn_fail_waiting();
}

/* A new hub never saw what we asked the old one: those get 503. */
static void
cn_resync(void)
{
	cn_fail_waiting();
}
