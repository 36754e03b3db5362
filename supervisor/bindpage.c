/*
 * Binding pages (issue #13), the hub's side.  GET /bind/<token> asks
 * bind.check whether the invitation is live (200), unknown (404), or
 * spent, expired or revoked (410, and which).  The page then asks
 * bind.start: the hub makes a pending bound account (account.c), has
 * its wechat worker started, and relays that worker's QR login to the
 * page as bind.state: "scan" with the iLink URL (again when the code
 * expired and was refreshed), "scanned", then "confirmed" once the
 * scanner's id arrives, when the invitation's use is spent in the same
 * commit as the account going active.  On a cluster the use is taken
 * in the shared store first (hub_pg_spend), so that of two nodes
 * binding from one link at once only as many go on as it has uses;
 * the others are told "used", as a spent link's page is.
 *
 * Bounded: bind.pending_max logins at once, one per invitation and one
 * per connection.  A page closed before the confirmation, or a login
 * past bind.login_timeout_s, removes the pending account and its worker
 * and spends nothing.  Tokens are never logged or kept.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "account.h"
#include "bindpage.h"
#include "codec.h"
#include "config.h"
#include "hub.h"
#include "invite.h"
#include "log.h"
#include "session.h"
#include "store.h"
#include "xmalloc.h"

_Static_assert(INVITE_HASH_LEN == SESSION_HASH_LEN, "session_hash_unhex");

/* bind.pending_max's ceiling (config_bind.c). */
#define BIND_PENDING_MAX	256

struct bindreq {
	char		 account[IPC_NAME_MAX + 1];
	int64_t		 inv;
	char		 wname[IPC_NAME_MAX + 1];	/* its web chat */
	uint64_t	 gen;
	uint64_t	 conn;
	struct event	*timeout;
	int		 spending;	/* hub_pg_spend asked */
	char		 owner[IPC_PEER_MAX + 1];
};

static struct bindreq	*reqs[BIND_PENDING_MAX];
static unsigned		 nreqs;

static void	bp_timeout_cb(evutil_socket_t, short, void *);

static const char *const bp_why[] = {
	[INV_EXPIRED] = "expired",
	[INV_USED] = "used",
	[INV_REVOKED] = "revoked",
};

/*
 * The invitation read from a cluster's shared store into the working
 * set, fn called once it is committed: hub_pg_visit's 0, 1 (no cluster:
 * go on now) or -1 (busy).  The hash in hex, not the token, rides in
 * the claim.
 */
static int
bp_visit(struct worker *w, uint64_t req_id, uint64_t conn,
    const uint8_t hash[INVITE_HASH_LEN], durable_fn fn)
{
	char hex[2 * INVITE_HASH_LEN + 1];
	struct durable t;
	unsigned i;

	for (i = 0; i < INVITE_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", hash[i]);
	memset(&t, 0, sizeof(t));
	durable_for(&t, w, req_id, conn);
	t.str = hex;
	return hub_pg_visit(HUB_VISIT_INVITE, hex, NULL, fn, &t);
}

/* The invitation's state as the working set has it: the answer. */
static void
bp_check_reply(struct worker *w, uint64_t req_id, uint64_t conn,
    const uint8_t hash[INVITE_HASH_LEN])
{
	struct ipc_body_bind_status st;
	char *tmpl = NULL;
	int64_t id;
	int rv;

	st.conn = conn;
	st.status = 404;
	st.why = IPC_S("");
	st.retry_after_ms = 0;
	rv = store_invite_find(sup->store, hash, sup_now(), &id, &tmpl);
	if (rv == INV_LIVE)
		st.status = 200;
	else if (rv == INV_EXPIRED || rv == INV_USED || rv == INV_REVOKED) {
		st.status = 410;
		st.why = ipc_s(bp_why[rv]);
	} else if (rv == -1)
		st.status = 503;
	free(tmpl);
	router_send(w, IPC_BIND_STATUS, req_id, &st);
}

/* A cluster's read of the invitation committed (or failed). */
static void
bp_check_loaded(struct durable *d, int ok)
{
	struct ipc_body_bind_status st;
	uint8_t hash[INVITE_HASH_LEN];
	struct worker *w;

	if ((w = durable_worker(d)) == NULL)
		return;
	if (ok && d->str != NULL && session_hash_unhex(d->str, hash) == 0) {
		bp_check_reply(w, d->req_id, d->conn, hash);
		return;
	}
	st.conn = d->conn;
	st.status = 503;
	st.why = IPC_S("");
	st.retry_after_ms = 0;
	router_send(w, IPC_BIND_STATUS, d->req_id, &st);
}

/*
 * GET /bind/<token>: the page, or why not.  On a cluster the invitation
 * may have been made, or spent, on another node: it is read from the
 * shared store first (hub_pg_visit), as a share link is.
 */
int
sup_bind_check(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_share_check *cb = &m->b.share_check;
	struct ipc_body_bind_status st;
	uint8_t hash[INVITE_HASH_LEN];
	int rv;

	st.conn = cb->conn;
	st.status = 404;
	st.why = IPC_S("");
	/* 128 bits make guessing moot; the bucket bounds the lookups. */
	if ((st.retry_after_ms = admit_http(cb->peer, cb->forwarded)) > 0)
		st.status = 429;
	if (st.status == 429 ||
	    invite_token_hash(cb->id.p, cb->id.len, hash) == -1) {
		router_send(w, IPC_BIND_STATUS, m->req_id, &st);
		return 0;
	}
	rv = bp_visit(w, m->req_id, cb->conn, hash, bp_check_loaded);
	if (rv == 1)
		bp_check_reply(w, m->req_id, cb->conn, hash);
	else if (rv == -1) {
		st.status = 503;
		router_send(w, IPC_BIND_STATUS, m->req_id, &st);
	}
	return 0;
}

static struct bindreq *
bp_find(const char *account)
{
	unsigned i;

	for (i = 0; i < nreqs; i++)
		if (strcmp(reqs[i]->account, account) == 0)
			return reqs[i];
	return NULL;
}

static void
bp_free(struct bindreq *r)
{
	unsigned i;

	for (i = 0; i < nreqs; i++)
		if (reqs[i] == r) {
			reqs[i] = reqs[--nreqs];
			break;
		}
	if (r->timeout != NULL)
		event_free(r->timeout);
	free(r);
}

/* The page's web chat worker, if the incarnation that asked still runs. */
static struct worker *
bp_worker(const struct bindreq *r)
{
	struct worker *w;

	if ((w = spawn_find(r->wname)) == NULL || w->gen != r->gen ||
	    w->wire == NULL)
		return NULL;
	return w;
}

static void
bp_state(struct worker *w, uint64_t req_id, uint64_t conn,
    const char *state, const char *url)
{
	struct ipc_body_bind_state b;

	b.conn = conn;
	b.state = ipc_s(state);
	b.url = ipc_s(url != NULL ? url : "");
	if (w != NULL)
		router_send(w, IPC_BIND_STATE, req_id, &b);
}

static void
bp_tell(struct bindreq *r, const char *state, const char *url)
{
	bp_state(bp_worker(r), 0, r->conn, state, url);
}

/* The login did not finish: its account and worker go, no use spent. */
static void
bp_abandon(struct bindreq *r, const char *why)
{
	char name[IPC_NAME_MAX + 1];

	/* Forgotten first: the removal tells a page it still knows. */
	snprintf(name, sizeof(name), "%s", r->account);
	bp_free(r);
	if (account_pending(name))
		account_remove(name, why);
}

/* bind.start with the invitation in the working set: the login. */
static void
bp_start(struct worker *w, uint64_t req_id, uint64_t conn,
    const uint8_t hash[INVITE_HASH_LEN])
{
	const struct cfg_bind *cb = &sup->conf->bind;
	struct timeval tv = { cb->login_timeout_s, 0 };
	char name[IPC_NAME_MAX + 1], err[IPC_MESSAGE_MAX];
	char *tmpl = NULL;
	struct bindreq *r;
	const char *state = NULL;
	unsigned i;
	int64_t inv = 0;
	int rv;

	if ((rv = store_invite_find(sup->store, hash, sup_now(), &inv,
	    &tmpl)) != INV_LIVE)
		state = rv == INV_UNKNOWN ? "invalid" : rv == -1 ? "failed" :
		    bp_why[rv];
	for (i = 0; state == NULL && i < nreqs; i++)
		if (reqs[i]->inv == inv || (reqs[i]->conn == conn &&
		    strcmp(reqs[i]->wname, w->name) == 0))
			state = "busy";
	if (state == NULL && nreqs >= cb->pending_max)
		state = "busy";
	if (state == NULL && account_create(tmpl, inv, name, sizeof(name),
	    err, sizeof(err)) == -1) {
		log_warnx("binding: %s", err);
		state = "full";
	}
	free(tmpl);
	if (state != NULL) {
		bp_state(w, req_id, conn, state, NULL);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	snprintf(r->account, sizeof(r->account), "%s", name);
	snprintf(r->wname, sizeof(r->wname), "%s", w->name);
	r->inv = inv;
	r->gen = w->gen;
	r->conn = conn;
	if ((r->timeout = evtimer_new(sup->base, bp_timeout_cb, r)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	evtimer_add(r->timeout, &tv);
	reqs[nreqs++] = r;
	bp_state(w, req_id, conn, "starting", NULL);
}

/* A cluster's read of the invitation for bind.start (or its failure). */
static void
bp_start_loaded(struct durable *d, int ok)
{
	uint8_t hash[INVITE_HASH_LEN];
	struct worker *w;

	if ((w = durable_worker(d)) == NULL)
		return;
	if (ok && d->str != NULL && session_hash_unhex(d->str, hash) == 0)
		bp_start(w, d->req_id, d->conn, hash);
	else
		bp_state(w, d->req_id, d->conn, "failed", NULL);
	sup_turn();
}

/*
 * bind.start {token}: a login of its own for this page.  The first
 * answer carries the request's id; what follows are events.  On a
 * cluster the page's WebSocket may reach another node than its GET
 * did: the invitation is read from the shared store first, as there.
 */
int
sup_bind_start(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_bind_start *b = &m->b.bind_start;
	uint8_t hash[INVITE_HASH_LEN];
	int rv;

	if (invite_token_hash(b->token.p, b->token.len, hash) == -1) {
		bp_state(w, m->req_id, b->conn, "invalid", NULL);
		return 0;
	}
	rv = bp_visit(w, m->req_id, b->conn, hash, bp_start_loaded);
	if (rv == 1)
		bp_start(w, m->req_id, b->conn, hash);
	else if (rv == -1)
		bp_state(w, m->req_id, b->conn, "busy", NULL);
	return 0;
}

static void
bp_timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct bindreq *r = arg;

	(void)fd;
	(void)ev;
	log_info("account %s: the binding's login timed out", r->account);
	bp_tell(r, "timeout", NULL);
	bp_abandon(r, "login timed out");
	sup_turn();
}

void
bindpage_conn_closed(struct worker *w, uint64_t conn)
{
	unsigned i;

	for (i = 0; i < nreqs; i++)
		if (reqs[i]->conn == conn &&
		    strcmp(reqs[i]->wname, w->name) == 0) {
			log_info("account %s: the binding page closed",
			    reqs[i]->account);
			bp_abandon(reqs[i], "binding page closed");
			return;
		}
}

void
bindpage_worker_down(struct worker *w)
{
	unsigned i;

	for (i = 0; i < nreqs; )
		if (strcmp(reqs[i]->wname, w->name) == 0) {
			log_info("account %s: the binding page's worker is "
			    "gone", reqs[i]->account);
			/* Swaps the last one into i: look at i again. */
			bp_abandon(reqs[i], "binding page closed");
		} else
			i++;
}

void
bindpage_login(const char *account, const char *status, const char *url)
{
	struct bindreq *r;

	if ((r = bp_find(account)) == NULL)
		return;
	/* A new code (the first, or one after the last expired). */
	if (strcmp(status, "scan") == 0 && url != NULL)
		bp_tell(r, "scan", url);
}

void
bindpage_scanned(const char *account)
{
	struct bindreq *r;

	if ((r = bp_find(account)) != NULL)
		bp_tell(r, "scanned", NULL);
}

/*
 * A commit that failed rolled the account back to pending (and the
 * invitation's use back): the account in memory, active already, and
 * its worker go too, so memory and store agree and the person, told
 * "failed", can scan again.
 */
static void
bp_confirmed_cb(struct durable *d, int committed)
{
	bp_state(durable_worker(d), 0, d->conn, committed ? "confirmed" :
	    "failed", NULL);
	if (!committed && d->str != NULL)
		account_remove(d->str, "its binding did not reach the store");
}

/* The use is this login's (taken: in the shared store already). */
static void
bp_bind(struct bindreq *r, int taken)
{
	struct durable *d;
	struct worker *w;

	if (account_activate(r->account, r->owner) == 0) {
		/* "Ready" only once the account is on disk. */
		d = durable_after(bp_confirmed_cb);
		if ((w = bp_worker(r)) != NULL)
			durable_for(d, w, 0, r->conn);
		d->str = xstrdup(r->account);
		bp_free(r);
		return;
	}
	if (taken)
		hub_pg_unspend(r->inv);
	bp_tell(r, "used", NULL);
	bp_abandon(r, "its invitation was used up");
}

/* The shared store's answer: this login's use, none left, or none. */
static void
bp_spent(int rv, int64_t inv, const char *account)
{
	struct bindreq *r;

	if ((r = bp_find(account)) == NULL || !r->spending || r->inv != inv) {
		/* The login ended meanwhile: a use taken for it goes back. */
		if (rv == 0)
			hub_pg_unspend(inv);
		return;
	}
	r->spending = 0;
	if (rv == 0)
		bp_bind(r, 1);
	else if (rv == 1) {
		bp_tell(r, "used", NULL);
		bp_abandon(r, "its invitation was used up");
	} else {
		bp_tell(r, "busy", NULL);
		bp_abandon(r, "the shared store did not answer");
	}
	sup_turn();
}

void
bindpage_owner(const char *account, const char *owner)
{
	struct bindreq *r;
	int rv;

	if ((r = bp_find(account)) == NULL || r->spending)
		return;
	snprintf(r->owner, sizeof(r->owner), "%s", owner);
	if ((rv = hub_pg_spend(r->inv, account, bp_spent)) == 1)
		bp_bind(r, 0);
	else if (rv == 0)
		r->spending = 1;
	else {
		bp_tell(r, "busy", NULL);
		bp_abandon(r, "the shared store is busy");
	}
}

void
bindpage_gone(const char *account)
{
	struct bindreq *r;

	if ((r = bp_find(account)) == NULL)
		return;
	bp_tell(r, "failed", NULL);
	bp_free(r);
}
