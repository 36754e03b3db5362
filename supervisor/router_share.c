/*
 * Share links seen from the web chat: GET /s/<id> (share.check: 200,
 * 410 for an expired or revoked link, 404 for anything else, 429 past
 * the address's bucket) and share.open, which binds a connection to the
 * link's session, or to the visitor's own for a link that opens new
 * chats.  The operator makes links over the control socket (control.c);
 * only a link secret's hash is stored, and the secret is never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "areq.h"
#include "clock.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "role.h"
#include "router_int.h"
#include "session.h"
#include "store.h"
#include "wire.h"
#include "xmalloc.h"

/* The URL of a link, from the address the operator published. */
void
router_share_url(char *buf, size_t len, const char *id, size_t idlen)
{
	snprintf(buf, len, "%s/s/%.*s", sup->conf->webchat.public_url,
	    (int)idlen, id);
}

static void
share_reply(struct worker *w, uint64_t req_id, uint64_t conn,
    uint64_t status, int ro, uint64_t retry_ms, const char *url)
{
	struct ipc_body_share_status st;

	st.conn = conn;
	st.status = status;
	st.read_only = ro;
	st.retry_after_ms = retry_ms;
	st.url = ipc_s(url);
	router_send(w, IPC_SHARE_STATUS, req_id, &st);
}

/* share.status for a link now in the working set, if it is anywhere. */
static void
share_status(struct worker *w, uint64_t req_id, uint64_t conn,
    const char *id, size_t idlen)
{
	uint8_t hash[SESSION_HASH_LEN];
	char url[IPC_URL_MAX + 1];
	int64_t link, session;
	uint64_t status = 404;
	int rv, ro = 0;

	url[0] = '\0';
	if (session_token_hash(id, idlen, hash) == 0) {
		rv = store_share_find(sup->store, hash, sup_now(), &link,
		    &session, &ro);
		if (rv == 0) {
			status = 200;
			router_share_url(url, sizeof(url), id, idlen);
		} else if (rv == 2)
			status = 410;
		else if (rv == -1)
			status = 503;
	}
	share_reply(w, req_id, conn, status, status == 200 ? ro : 0, 0, url);
	explicit_bzero(url, sizeof(url));
}

static void
share_check_loaded(struct durable *d, int ok)
{
	struct worker *w = durable_worker(d);

	/* The shared store could not be read: come back later. */
	if (w != NULL && !ok)
		share_reply(w, d->req_id, d->conn, 503, 0, RT_STORE_RETRY_MS,
		    "");
	else if (w != NULL)
		share_status(w, d->req_id, d->conn, d->str, strlen(d->str));
	explicit_bzero(d->str, strlen(d->str));
}

/*
 * The link's secret, in a claim of a shared store's visit (str), its
 * hash in hex (key): the visit's durable template.  -1 if the secret is
 * not a token at all.
 */
static int
share_visit_key(struct durable *t, struct worker *w, uint64_t req_id,
    uint64_t conn, const struct ipc_str *id, char key[2 * SESSION_HASH_LEN + 1])
{
	uint8_t hash[SESSION_HASH_LEN];

	if (session_token_hash(id->p, id->len, hash) == -1)
		return -1;
	session_hash_hex(hash, key);
	memset(t, 0, sizeof(*t));
	durable_for(t, w, req_id, conn);
	t->str = ipc_strdup(*id);
	return 0;
}

/*
 * GET /s/<id>: 200 for a live link, 410 for an expired or revoked one,
 * 404 for anything else.  The URL is rebuilt here from the config so
 * the page's QR code names the address the operator published.  In a
 * cluster the link may have been made on another node: it is read from
 * the shared store first.
 */
int
sup_share_check(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_share_check *cb = &m->b.share_check;
	char key[2 * SESSION_HASH_LEN + 1];
	struct durable t;
	uint64_t wait;
	int rv;

	/* The secret makes guessing moot; the bucket bounds the lookups. */
	if ((wait = admit_http(cb->peer, cb->forwarded)) > 0) {
		share_reply(w, m->req_id, cb->conn, 429, 0, wait, "");
		return 0;
	}
	if (share_visit_key(&t, w, m->req_id, cb->conn, &cb->id, key) == -1) {
		share_status(w, m->req_id, cb->conn, "", 0);
		return 0;
	}
	rv = hub_pg_visit(HUB_VISIT_SHARE, key, NULL, share_check_loaded, &t);
	if (rv == 1)
		share_status(w, m->req_id, cb->conn, cb->id.p, cb->id.len);
	else if (rv == -1)
		share_reply(w, m->req_id, cb->conn, 503, 0, RT_STORE_RETRY_MS,
		    "");
	explicit_bzero(t.str, strlen(t.str));
	free(t.str);
	return 0;
}
/*
 * A per-visitor link's session for this visitor: the one their page
 * kept (visitor token), else a new one whose token goes back in *tok.
 * 0, or -1 when answered here.
 */
static int
share_visitor(struct worker *w, uint64_t req_id, uint64_t conn,
    const char *visitor, size_t vlen, int64_t link, int64_t *session,
    char tok[SESSION_TOKEN_LEN + 1])
{
	const struct cfg_policy *p = &sup->conf->policy;
	uint8_t hash[SESSION_HASH_LEN];
	int64_t now = sup_now();

	tok[0] = '\0';
	if (vlen > 0 && session_token_hash(visitor, vlen, hash) == 0 &&
	    store_visitor_find(sup->store, hash, link, now,
	    (int64_t)p->idle_ttl_s, session) == 0)
		return 0;
	/* Unknown or expired: a new conversation, as session.open does. */
	if (hub_pg_full()) {
		hub_pg_refused();
		rpc_store_busy(w, req_id, conn);
		return -1;
	}
	if (session_token_new(tok, hash) == -1 ||
	    store_visitor_create(sup->store, hash, link, now,
	    now + (int64_t)p->absolute_ttl_s, session) == -1) {
		explicit_bzero(tok, SESSION_TOKEN_LEN + 1);
		rpc_unavailable(w, req_id, conn);
		return -1;
	}
	return 0;
}

/* share.ok once the turn that made a visitor's session committed. */
static void
share_ok_cb(struct durable *d, int committed)
{
	struct ipc_body_share_ok ok;
	struct worker *w = durable_worker(d);
	struct binding *b;

	if (w != NULL && !committed) {
		if ((b = bind_find(w, d->conn)) != NULL &&
		    b->session == d->session) {
			b->seen = 0;	/* the row may be gone */
			bind_remove(b);
		}
		rpc_unavailable(w, d->req_id, d->conn);
	} else if (w != NULL) {
		ok.conn = d->conn;
		ok.read_only = (int)d->id;
		ok.token = ipc_s(d->str);
		router_send(w, IPC_SHARE_OK, d->req_id, &ok);
	}
	explicit_bzero(d->str, strlen(d->str));
}

/*
 * share.open, once the link is in the working set if it is anywhere:
 * bind the connection to the link's session, as resume does for a
 * token, or for a per-visitor link to the visitor's own.  A read-only
 * binding may read history but never send or abort.  Links are the
 * operator's grant, so they work even with the anonymous chat turned
 * off.
 */
static void
share_bind(struct worker *w, uint64_t req_id, uint64_t conn,
    const char *id, size_t idlen, const char *visitor, size_t vlen)
{
	char tok[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN];
	struct durable *d;
	struct binding *b;
	int64_t link, session, now = sup_now();
	int rv, ro = 0;

	if (!conn_open(w, conn))
		return;
	if (session_token_hash(id, idlen, hash) == -1) {
		rpc_error_id(w, req_id, conn, "unknown_share",
		    "that is not a share link", 0);
		return;
	}
	if (!bind_room(w, conn)) {
		rpc_error_id(w, req_id, conn, "busy", "too many connections",
		    0);
		return;
	}
	rv = store_share_find(sup->store, hash, now, &link, &session, &ro);
	if (rv == -1)
		rpc_unavailable(w, req_id, conn);
	else if (rv == 1)
		rpc_error_id(w, req_id, conn, "unknown_share",
		    "no such share link", 0);
	else if (rv == 2)
		rpc_error_id(w, req_id, conn, "share_expired",
		    "this share link has expired or was revoked", 0);
	if (rv != 0)
		return;
	tok[0] = '\0';
	if (session == 0 && share_visitor(w, req_id, conn, visitor, vlen,
	    link, &session, tok) == -1)
		return;
	b = bind_set(w, conn, session);
	b->seen = now;
	b->expires = 0;
	b->read_only = ro;
	b->shared = 1;
	memcpy(b->share_hash, hash, sizeof(b->share_hash));
	/* A new visitor's token is worth something once it is stored. */
	d = durable_after(share_ok_cb);
	durable_for(d, w, req_id, conn);
	d->session = session;
	d->id = ro;
	d->str = xstrdup(tok);
	explicit_bzero(tok, sizeof(tok));
}

static void
share_open_loaded(struct durable *d, int ok)
{
	struct worker *w = durable_worker(d);

	if (w != NULL && !ok)
		rpc_store_busy(w, d->req_id, d->conn);
	else if (w != NULL)
		share_bind(w, d->req_id, d->conn, d->str, strlen(d->str),
		    d->str2, strlen(d->str2));
	explicit_bzero(d->str, strlen(d->str));
	explicit_bzero(d->str2, strlen(d->str2));
}

/*
 * share.open.  In a cluster the link, and the visitor's session of a
 * per-visitor link, may have been made on another node: they are read
 * from the shared store first.
 */
int
sup_share_open(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_share_open *ob = &m->b.share_open;
	char key[2 * SESSION_HASH_LEN + 1], vkey[2 * SESSION_HASH_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN];
	struct durable t;
	int rv;

	if (share_visit_key(&t, w, m->req_id, ob->conn, &ob->token, key) ==
	    -1) {
		rpc_error(w, m, ob->conn, "unknown_share",
		    "that is not a share link");
		return 0;
	}
	vkey[0] = '\0';
	if (session_token_hash(ob->visitor.p, ob->visitor.len, hash) == 0)
		session_hash_hex(hash, vkey);
	t.str2 = ipc_strdup(ob->visitor);
	rv = hub_pg_visit(HUB_VISIT_SHARE, key, vkey, share_open_loaded, &t);
	if (rv == 1)
		share_bind(w, m->req_id, ob->conn, ob->token.p, ob->token.len,
		    ob->visitor.p, ob->visitor.len);
	else if (rv == -1)
		rpc_error_retry(w, m, ob->conn, "busy",
		    "too many sessions loading; retry later",
		    RT_STORE_RETRY_MS);
	explicit_bzero(t.str, strlen(t.str));
	explicit_bzero(t.str2, strlen(t.str2));
	free(t.str);
	free(t.str2);
	return 0;
}
