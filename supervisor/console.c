/*
 * The operator console's sessions, owned by the hub (issue #16).  The
 * console worker (workers/console/) parses the browser's bytes and
 * forwards, per request, the cookie's value as sent; who the operator
 * is and what they may do is decided here, from the store and the
 * configuration, never from a field the worker sets.  A compromised
 * console worker holds only the cookies that pass through it, and a
 * viewer's cookie is refused every write whatever the worker says.
 *
 * Secrets: a login link's token (`wxgatectl console-url`, works once,
 * link_ttl_s) and a session's cookie are 128 random bits each
 * (policy/session.c); the store keeps their SHA-256 only.  A write's
 * CSRF token is derived from the cookie (console_csrf), so it needs no
 * row and dies with the session.  Login attempts are rate limited per
 * client address; refusals of a write are audited.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "clock.h"
#include "config.h"
#include "console.h"
#include "control_int.h"
#include "hub.h"
#include "log.h"
#include "ratelimit.h"
#include "session.h"
#include "sha.h"
#include "store.h"
#include "timingsafe.h"
#include "wire.h"
#include "xmalloc.h"

/* Ten tries a minute per address, then one every six seconds. */
#define CONSOLE_LOGIN_PER	10
#define CONSOLE_LOGIN_MS	60000
#define CONSOLE_LOGIN_KEYS	4096

static void	console_sweep(int64_t);
static int	console_login(struct worker *, struct ipc_msg *);
static int	console_get(struct worker *, struct ipc_msg *);
static int	console_post(struct worker *, struct ipc_msg *);
static int	console_who(struct ipc_str, struct console_who *);
static int	console_csrf(struct ipc_str, char out[CONSOLE_CSRF_LEN + 1]);
static json_t	*console_page_session(const struct console_who *);

const struct sup_handler console_handlers[] = {
	{ IPC_CONSOLE_LOGIN,	0,	console_login },
	{ IPC_CONSOLE_GET,	0,	console_get },
	{ IPC_CONSOLE_POST,	0,	console_post },
	{ 0,			0,	NULL }
};

static struct ratelimit	*console_rl;

static struct ratelimit *
console_limiter(void)
{
	struct rl_rate r = { CONSOLE_LOGIN_PER, CONSOLE_LOGIN_MS,
	    CONSOLE_LOGIN_PER };

	if (console_rl == NULL)
		console_rl = ratelimit_new(&r, CONSOLE_LOGIN_KEYS);
	ratelimit_expire(console_rl, clock_mono_ms());
	return console_rl;
}

/*
 * The body, if any, is JSON (jansson escapes every string); it is
 * consumed here.  One that would not fit a frame is a 503: the
 * overview is bounded by the workers the hub has, not by a visitor.
 */
void
console_answer(struct worker *w, const struct ipc_msg *m, uint64_t conn,
    int status, const char *cookie, const char *location, json_t *body)
{
	struct ipc_body_console_answer a;
	char *text = NULL;

	if (body != NULL) {
		text = jsonalloc_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (text == NULL || strlen(text) > IPC_CONSOLE_BODY_MAX) {
			log_warnx("console: a page of %zu bytes does not fit "
			    "a frame", text != NULL ? strlen(text) : 0);
			free(text);
			text = NULL;
			status = 503;
		}
	}
	a.conn = conn;
	a.status = (uint64_t)status;
	a.cookie = ipc_s(cookie != NULL ? cookie : "");
	a.location = ipc_s(location != NULL ? location : "");
	a.body = ipc_s(text != NULL ? text : "");
	router_send(w, IPC_CONSOLE_ANSWER, m->req_id, &a);
	free(text);
}

json_t *
console_error(const char *why)
{
	return json_pack("{s:s}", "error", why);
}

/*
 * Rows past their time go whenever a link or a session is made: only
 * those add rows, so the tables hold what is live and what died since
 * the last login, never more.
 */
static void
console_sweep(int64_t now)
{
	const struct cfg_console *cc = &sup->conf->console;
	int n;

	if ((n = store_console_expire(sup->store, now, cc->idle_timeout_s,
	    cc->session_max_s)) > 0)
		log_info("console: %d expired session%s removed", n,
		    n == 1 ? "" : "s");
}

/* GET /login?token=...: a link from `wxgatectl console-url`, once. */
static int
console_login(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_console_login *l = &m->b.console_login;
	const struct cfg_console *cc = &sup->conf->console;
	char key[RL_KEY_MAX], op[IPC_NAME_MAX + 1];
	char tok[SESSION_TOKEN_LEN + 1], cookie[IPC_MESSAGE_MAX];
	uint8_t hash[SESSION_HASH_LEN];
	int64_t now = sup_now();
	int rv;

	/* Guessing is what is slowed: a failed attempt costs a token, an
	 * operator using the links they were given does not. */
	snprintf(key, sizeof(key), "c:%.*s", (int)l->addr.len, l->addr.p);
	if (ratelimit_wait(console_limiter(), key, clock_mono_ms()) > 0) {
		log_warnx("console: login attempts from %.*s throttled",
		    (int)l->addr.len, l->addr.p);
		console_answer(w, m, l->conn, 429, NULL, NULL,
		    console_error("too many login attempts; wait a minute"));
		return 0;
	}
	if (session_token_hash(l->token.p, l->token.len, hash) == -1)
		rv = 1;
	else
		rv = store_console_link_take(sup->store, hash, now, op,
		    sizeof(op));
	if (rv == 0 && config_operator(sup->conf, op) == NULL)
		rv = 3;
	if (rv != 0) {
		(void)ratelimit_take(console_limiter(), key, clock_mono_ms());
		log_warnx("console: a login from %.*s refused: %s",
		    (int)l->addr.len, l->addr.p, rv == 2 ? "link expired" :
		    rv == 3 ? "operator no longer configured" :
		    rv == -1 ? "store error" : "unknown or used link");
		console_answer(w, m, l->conn, rv == -1 ? 503 : 401, NULL,
		    NULL, console_error("this login link is unknown, used or "
		    "expired: run wxgatectl console-url for a new one"));
		return 0;
	}
	console_sweep(now);
	if (session_token_new(tok, hash) == -1 ||
	    store_console_session_create(sup->store, hash, op, now) == -1) {
		explicit_bzero(tok, sizeof(tok));
		console_answer(w, m, l->conn, 503, NULL, NULL,
		    console_error("no session could be made"));
		return 0;
	}
	log_info("console: operator %s logged in from %.*s", op,
	    (int)l->addr.len, l->addr.p);
	/* The worker adds Secure under TLS (config_console.c). */
	snprintf(cookie, sizeof(cookie), CONSOLE_COOKIE "=%s; Path=/; "
	    "Max-Age=%u; HttpOnly; SameSite=Strict", tok, cc->session_max_s);
	explicit_bzero(tok, sizeof(tok));
	console_answer(w, m, l->conn, 303, cookie, "/", NULL);
	explicit_bzero(cookie, sizeof(cookie));
	return 0;
}

/*
 * The session a cookie names, within its lifetimes and with its
 * operator still configured: 0, or -1 (the caller answers 401).  An
 * expired session is deleted as it is found.
 */
static int
console_who(struct ipc_str cookie, struct console_who *who)
{
	const struct cfg_console *cc = &sup->conf->console;
	const struct cfg_operator *op;
	struct store_console_session cs;
	uint8_t hash[SESSION_HASH_LEN];
	int64_t now = sup_now();

	memset(who, 0, sizeof(*who));
	if (cookie.len == 0 ||
	    session_token_hash(cookie.p, cookie.len, hash) == -1 ||
	    store_console_session_find(sup->store, hash, &cs) != 0)
		return -1;
	op = config_operator(sup->conf, cs.operator);
	if (op == NULL || now - cs.last_seen >= cc->idle_timeout_s ||
	    now - cs.created >= cc->session_max_s) {
		log_info("console: session of %s ended (%s)", cs.operator,
		    op == NULL ? "operator removed" :
		    now - cs.created >= cc->session_max_s ? "absolute expiry" :
		    "idle");
		store_console_session_delete(sup->store, cs.id);
		return -1;
	}
	if (cs.last_seen != now)
		store_console_session_seen(sup->store, cs.id, now);
	who->id = cs.id;
	snprintf(who->operator, sizeof(who->operator), "%s", op->name);
	who->admin = op->admin;
	return console_csrf(cookie, who->csrf);
}

/* The cookie's CSRF token: SHA-256 of a label and the cookie, in hex. */
static int
console_csrf(struct ipc_str cookie, char out[CONSOLE_CSRF_LEN + 1])
{
	static const char label[] = "wxgate console csrf\n";
	char buf[sizeof(label) - 1 + SESSION_TOKEN_LEN];
	uint8_t md[SHA256_LEN];
	size_t i;

	/* console_who took it for a session token: its length. */
	if (cookie.len != SESSION_TOKEN_LEN)
		return -1;
	memcpy(buf, label, sizeof(label) - 1);
	memcpy(buf + sizeof(label) - 1, cookie.p, cookie.len);
	sha256(buf, sizeof(buf), md);
	explicit_bzero(buf, sizeof(buf));
	for (i = 0; i < sizeof(md); i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/*
 * GET pages, by the name the worker's route gives: most are the hub's
 * state (fn), the session's own is about the asker (mine), some take
 * the query the worker put after its name and console.get's free text
 * (ask, which says its status and refuses a text it does not take),
 * one answers with bytes, not JSON (own: console.media), and an asset
 * has none, since the worker holds its bytes and needs only the hub's
 * word that the session is good.
 */
static const struct {
	const char	 *name;
	json_t		*(*fn)(void);
	json_t		*(*mine)(const struct console_who *);
	int		 (*ask)(const char *, const char *, json_t **);
	int		 (*own)(struct worker *, const struct ipc_msg *,
			    uint64_t, const char *);
} console_pages[] = {
	{ "asset",	NULL,			NULL,	NULL,	NULL },
	{ "session",	NULL,			console_page_session, NULL,
	    NULL },
	{ "overview",	console_page_overview,	NULL,	NULL,	NULL },
	{ "pairings",	console_page_pairings,	NULL,	NULL,	NULL },
	{ "shares",	console_page_shares,	NULL,	NULL,	NULL },
	{ "schedules",	console_page_schedules,	NULL,	NULL,	NULL },
	{ "sched_sealed", NULL,			NULL,	console_page_sched_sealed,
	    NULL },
	{ "accounts",	console_page_accounts,	NULL,	NULL,	NULL },
	{ "log",	NULL,			NULL,	console_page_log, NULL },
	{ "conversations", NULL,		NULL,	console_page_conversations,
	    NULL },
	{ "thread",	NULL,			NULL,	console_page_thread, NULL },
	{ "media",	NULL,			NULL,	NULL,	console_media },
	{ "chat",	NULL,			NULL,	console_page_chat, NULL },
	{ "e2e",	NULL,			console_page_e2e, NULL, NULL },
};

/* Pages that may answer later, when there is news: 1 if held. */
static const struct {
	const char	 *name;
	int		(*fn)(struct worker *, const struct ipc_msg *, uint64_t,
			    const char *);
} console_holds[] = {
	{ "chat",	console_chat_hold },
	{ "schedules",	console_sched_hold },
	{ "sched_sealed", console_sealed_hold },
};

static int
console_held(struct worker *w, const struct ipc_msg *m, uint64_t conn,
    const char *page, const char *query)
{
	size_t i;

	for (i = 0; i < sizeof(console_holds) / sizeof(console_holds[0]);
	    i++)
		if (strcmp(page, console_holds[i].name) == 0)
			return console_holds[i].fn(w, m, conn, query);
	return 0;
}

static json_t *
console_page_session(const struct console_who *who)
{
	return json_pack("{s:s, s:s, s:s}", "operator", who->operator,
	    "scope", who->admin ? "admin" : "viewer", "csrf", who->csrf);
}

static int
console_get(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_console_get *g = &m->b.console_get;
	struct console_who who;
	char page[IPC_NAME_MAX + 1], text[IPC_CONSOLE_QUERY_MAX + 1], *query;
	json_t *body;
	size_t i;
	int status;

	if (console_who(g->session, &who) == -1) {
		console_answer(w, m, g->conn, 401, NULL, NULL,
		    console_error("login"));
		return 0;
	}
	/* The name, then the query of a page that takes one (ask). */
	snprintf(page, sizeof(page), "%.*s", (int)g->page.len, g->page.p);
	if ((query = strchr(page, ' ')) != NULL)
		*query++ = '\0';
	for (i = 0; i < sizeof(console_pages) / sizeof(console_pages[0]); i++)
		if (strcmp(page, console_pages[i].name) == 0)
			break;
	if (i == sizeof(console_pages) / sizeof(console_pages[0]) ||
	    memchr(g->page.p, '\0', g->page.len) != NULL ||
	    (query != NULL && console_pages[i].ask == NULL &&
	    console_pages[i].own == NULL) ||
	    (g->query.len > 0 && console_pages[i].ask == NULL)) {
		console_answer(w, m, g->conn, 404, NULL, NULL,
		    console_error("no such page"));
		return 0;
	}
	if (console_held(w, m, g->conn, page, query))
		return 0;
	if (console_pages[i].own != NULL)
		return console_pages[i].own(w, m, g->conn, query);
	if (console_pages[i].ask != NULL) {
		/* UTF-8 without a NUL: the codec checked it. */
		snprintf(text, sizeof(text), "%.*s", (int)g->query.len,
		    g->query.p);
		status = console_pages[i].ask(query, text, &body);
		console_answer(w, m, g->conn, status, NULL, NULL, body);
		return 0;
	}
	body = console_pages[i].fn != NULL ? console_pages[i].fn() :
	    console_pages[i].mine != NULL ? console_pages[i].mine(&who) : NULL;
	if (body == NULL && (console_pages[i].fn != NULL ||
	    console_pages[i].mine != NULL)) {
		console_answer(w, m, g->conn, 503, NULL, NULL,
		    console_error("store error"));
		return 0;
	}
	console_answer(w, m, g->conn, 200, NULL, NULL, body);
	return 0;
}

static int
console_post(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	struct console_who who;
	char action[IPC_NAME_MAX + 1];

	if (console_who(p->session, &who) == -1) {
		console_answer(w, m, p->conn, 401, NULL, NULL,
		    console_error("login"));
		return 0;
	}
	snprintf(action, sizeof(action), "%.*s", (int)p->action.len,
	    p->action.p);
	if (p->csrf.len != CONSOLE_CSRF_LEN ||
	    timingsafe_bcmp(p->csrf.p, who.csrf, CONSOLE_CSRF_LEN) != 0) {
		log_warnx("console: %s by %s without its CSRF token", action,
		    who.operator);
		store_audit(sup->store, sup_now(), "console", w->name, 0,
		    action, "no valid CSRF token");
		console_answer(w, m, p->conn, 403, NULL, NULL,
		    console_error("this request is not from the console's "
		    "page"));
		return 0;
	}
	console_write(w, m, &who, action);
	return 0;
}

/*
 * console.url: a one-time login link for an operator ("" or the name
 * given; the first configured when none is).  The token goes back once,
 * inside the URL, and only its hash is kept.
 */
int
ctl_console_url(struct ctl_client *c, struct ipc_msg *m)
{
	const struct cfg_console *cc = &sup->conf->console;
	const struct cfg_operator *op;
	char name[IPC_NAME_MAX + 1], tok[SESSION_TOKEN_LEN + 1];
	char url[IPC_MESSAGE_MAX];
	uint8_t hash[SESSION_HASH_LEN];
	int64_t now = sup_now();

	snprintf(name, sizeof(name), "%.*s", (int)m->b.name.name.len,
	    m->b.name.name.p);
	if (cc->listen == NULL) {
		ctl_result(c, m->req_id, 0, "no console: set console.listen");
		return 0;
	}
	op = strcmp(name, "-") == 0 ? &cc->operators[0] :
	    config_operator(sup->conf, name);
	if (op == NULL) {
		ctl_result(c, m->req_id, 0, "no such operator in "
		    "console.operators");
		return 0;
	}
	console_sweep(now);
	if (session_token_new(tok, hash) == -1 ||
	    store_console_link_create(sup->store, hash, op->name, now,
	    now + cc->link_ttl_s) == -1) {
		ctl_result(c, m->req_id, 0, "no link could be made");
		return 0;
	}
	snprintf(url, sizeof(url), "%s/login?token=%s", cc->public_url, tok);
	explicit_bzero(tok, sizeof(tok));
	log_info("operator (uid %d) asks a console login link for %s",
	    (int)c->uid, op->name);
	ctl_result(c, m->req_id, 1, url);
	explicit_bzero(url, sizeof(url));
	return 0;
}

/* console.revoke_all: every session and unused link ends now. */
int
ctl_console_revoke(struct ctl_client *c, struct ipc_msg *m)
{
	char msg[64];
	int n;

	if ((n = store_console_revoke_all(sup->store)) == -1) {
		ctl_result(c, m->req_id, 0, "store error");
		return 0;
	}
	log_info("operator (uid %d) ends every console session (%d)",
	    (int)c->uid, n);
	snprintf(msg, sizeof(msg), "%d console session%s ended", n,
	    n == 1 ? "" : "s");
	ctl_result(c, m->req_id, 1, msg);
	return 0;
}
