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

/*
 * GET /s/<id>: 200 for a live link, 410 for an expired or revoked one,
 * 404 for anything else.  The URL is rebuilt here from the config so
 * the page's QR code names the address the operator published.
 */
int
sup_share_check(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_share_check *cb = &m->b.share_check;
	struct ipc_body_share_status st;
	uint8_t hash[SESSION_HASH_LEN];
	char url[IPC_URL_MAX + 1];
	int64_t link, session;
	int rv, ro = 0;

	st.conn = cb->conn;
	st.status = 404;
	st.read_only = 0;
	url[0] = '\0';
	/* The secret makes guessing moot; the bucket bounds the lookups. */
	if ((st.retry_after_ms = admit_http(cb->peer, cb->forwarded)) > 0)
		st.status = 429;
	else if (session_token_hash(cb->id.p, cb->id.len, hash) == 0) {
		rv = store_share_find(sup->store, hash, sup_now(), &link,
		    &session, &ro);
		if (rv == 0) {
			st.status = 200;
			st.read_only = ro;
			router_share_url(url, sizeof(url), cb->id.p,
			    cb->id.len);
		} else if (rv == 2)
			st.status = 410;
		else if (rv == -1)
			st.status = 503;
	}
	st.url = ipc_s(url);
	router_send(w, IPC_SHARE_STATUS, m->req_id, &st);
	explicit_bzero(url, sizeof(url));
	return 0;
}

/*
 * A per-visitor link's session for this visitor: the one their page
 * kept (visitor token), else a new one whose token goes back in *tok.
 * 0, or -1 when answered here.
 */
static int
share_visitor(struct worker *w, struct ipc_msg *m, int64_t link,
    int64_t *session, char tok[SESSION_TOKEN_LEN + 1])
{
	const struct ipc_body_share_open *ob = &m->b.share_open;
	const struct cfg_policy *p = &sup->conf->policy;
	uint8_t hash[SESSION_HASH_LEN];
	int64_t now = sup_now();

	tok[0] = '\0';
	if (ob->visitor.len > 0 &&
	    session_token_hash(ob->visitor.p, ob->visitor.len, hash) == 0 &&
	    store_visitor_find(sup->store, hash, link, now,
	    (int64_t)p->idle_ttl_s, session) == 0)
		return 0;
	/* Unknown or expired: a new conversation, as session.open does. */
	if (session_token_new(tok, hash) == -1 ||
	    store_visitor_create(sup->store, hash, link, now,
	    now + (int64_t)p->absolute_ttl_s, session) == -1) {
		explicit_bzero(tok, SESSION_TOKEN_LEN + 1);
		rpc_unavailable(w, m->req_id, ob->conn);
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
 * share.open: bind the connection to the link's session, as resume
 * does for a token, or for a per-visitor link to the visitor's own.  A
 * read-only binding may read history but never send or abort.  Links
 * are the operator's grant, so they work even with the anonymous chat
 * turned off.
 */
int
sup_share_open(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_share_open *ob = &m->b.share_open;
	char tok[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN];
	struct durable *d;
	struct binding *b;
	int64_t link, session, now = sup_now();
	int rv, ro = 0;

	if (session_token_hash(ob->token.p, ob->token.len, hash) == -1) {
		rpc_error(w, m, ob->conn, "unknown_share",
		    "that is not a share link");
		return 0;
	}
	if (bind_find(w, ob->conn) == NULL &&
	    bind_count(w) >= (int)sup->conf->webchat.max_conns) {
		rpc_error(w, m, ob->conn, "busy", "too many connections");
		return 0;
	}
	rv = store_share_find(sup->store, hash, now, &link, &session, &ro);
	if (rv == -1) {
		rpc_unavailable(w, m->req_id, ob->conn);
		return 0;
	}
	if (rv == 1) {
		rpc_error(w, m, ob->conn, "unknown_share",
		    "no such share link");
		return 0;
	}
	if (rv == 2) {
		rpc_error(w, m, ob->conn, "share_expired",
		    "this share link has expired or was revoked");
		return 0;
	}
	tok[0] = '\0';
	if (session == 0 && share_visitor(w, m, link, &session, tok) == -1)
		return 0;
	b = bind_set(w, ob->conn, session);
	b->seen = now;
	b->expires = 0;
	b->read_only = ro;
	b->shared = 1;
	memcpy(b->share_hash, hash, sizeof(b->share_hash));
	/* A new visitor's token is worth something once it is stored. */
	d = durable_after(share_ok_cb);
	durable_for(d, w, m->req_id, ob->conn);
	d->session = session;
	d->id = ro;
	d->str = xstrdup(tok);
	explicit_bzero(tok, sizeof(tok));
	return 0;
}
