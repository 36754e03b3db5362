/*
 * The web chat's connections, as the hub knows them: one record each
 * (struct binding, router_int.h), keyed once by (worker, generation,
 * connection id) in the one table here, found with one lookup.  A
 * binding is found only through the worker that made it, so an id in a
 * body never reaches another's.
 *
 * A record holds up to three things, and lives while it holds any:
 *
 *   its TCP place      admit.c, peer.open to peer.close (tcp)
 *   its admission      admit.c, conn.open to conn.close (client: the
 *                      address key its buckets and agent share use)
 *   its session        here, session.open/resume or share.open to
 *                      conn.close, expiry or a failed commit; the
 *                      route of a session points at the record that
 *                      gets its stream (the one that bound or sent last)
 *
 * conn_end() gives back what a close ends (CONN_TCP for peer.close,
 * CONN_WS for conn.close, both for a worker's death) and conn_put()
 * frees the record once it holds nothing: the only place one is freed.
 * A session is bound only on an admitted connection (router.c's gate),
 * so every record holds a place in admit.c's caps and their totals bound
 * the table.  The sweep of idle sessions is here too.
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

/* Expired sessions deleted per sweep: bounds one loop turn's work. */
#define RT_SWEEP_BATCH	256

/* Which connection gets a session's stream: the one that bound last. */
struct route {
	struct route	*next;		/* session hash chain */
	int64_t		 session;
	struct binding	*b;
};

static struct binding	*conn_tab[RT_BUCKETS];
static struct route	*sess_tab[RT_BUCKETS];

static int	bind_share_live(struct worker *, struct ipc_msg *,
		    struct binding *);
static void	route_drop(struct binding *);

static size_t
hash_conn(const struct worker *w, uint64_t conn)
{
	return router_hash(conn ^ (uint64_t)(uintptr_t)w);
}

/* The record of one of this incarnation's connections, if any. */
struct binding *
conn_find(struct worker *w, uint64_t conn)
{
	struct binding *b;

	for (b = conn_tab[hash_conn(w, conn)]; b != NULL; b = b->next)
		if (b->w == w && b->conn == conn && b->gen == w->gen)
			return b;
	return NULL;
}

/* The record, made empty if there is none yet. */
struct binding *
conn_get(struct worker *w, uint64_t conn)
{
	struct binding *b;
	size_t h;

	if ((b = conn_find(w, conn)) != NULL)
		return b;
	b = xcalloc(1, sizeof(*b));
	b->w = w;
	b->gen = w->gen;
	b->conn = conn;
	h = hash_conn(w, conn);
	b->next = conn_tab[h];
	conn_tab[h] = b;
	return b;
}

/* Free a record that holds nothing any more: the only free. */
static void
conn_put(struct binding *b)
{
	struct binding **bp;

	if (b->tcp != NULL || b->client != NULL || b->session != 0)
		return;
	for (bp = &conn_tab[hash_conn(b->w, b->conn)]; *bp != NULL;
	    bp = &(*bp)->next) {
		if (*bp == b) {
			*bp = b->next;
			break;
		}
	}
	free(b);
}

/* No session, no route: as a record that was never bound. */
static void
bind_clear(struct binding *b)
{
	route_drop(b);
	b->session = b->seen = b->expires = 0;
	b->read_only = b->shared = 0;
}

/* Forget the session; the record stays for conn_put to decide. */
static void
bind_unset(struct binding *b)
{
	if (b->session == 0)
		return;
	/* The store's last_seen is what an idle TTL counts from. */
	if (b->seen > 0)
		store_session_seen(sup->store, b->session, b->seen);
	bind_clear(b);
}

/*
 * A close: CONN_TCP gives back the TCP place, CONN_WS the admission and
 * the session; the record goes with the last thing it held.
 */
void
conn_end(struct binding *b, int parts)
{
	if (parts & CONN_WS)
		bind_unset(b);
	admit_release(b, parts);
	conn_put(b);
}

/* A worker is gone: so is everything its connections held. */
void
conn_worker_down(struct worker *w)
{
	struct binding *b, *next;
	size_t i;

	for (i = 0; i < RT_BUCKETS; i++) {
		for (b = conn_tab[i]; b != NULL; b = next) {
			next = b->next;
			if (b->w == w)
				conn_end(b, CONN_TCP | CONN_WS);
		}
	}
}

/* The connection's record if it is bound to a session. */
struct binding *
bind_find(struct worker *w, uint64_t conn)
{
	struct binding *b = conn_find(w, conn);

	return b != NULL && b->session != 0 ? b : NULL;
}

static struct route *
route_find(int64_t session)
{
	struct route *r;

	for (r = sess_tab[router_hash((uint64_t)session)]; r != NULL; r = r->next)
		if (r->session == session)
			return r;
	return NULL;
}

void
route_set(int64_t session, struct binding *b)
{
	struct route *r;
	size_t h = router_hash((uint64_t)session);

	if ((r = route_find(session)) == NULL) {
		r = xcalloc(1, sizeof(*r));
		r->session = session;
		r->next = sess_tab[h];
		sess_tab[h] = r;
	}
	r->b = b;
}

static void
route_drop(struct binding *b)
{
	struct route **rp, *r;

	for (rp = &sess_tab[router_hash((uint64_t)b->session)]; (r = *rp) != NULL;
	    rp = &r->next) {
		if (r->session == b->session && r->b == b) {
			*rp = r->next;
			free(r);
			return;
		}
	}
}

/* Unbind: its next request needs a session again. */
void
bind_remove(struct binding *b)
{
	bind_unset(b);
	conn_put(b);
}

/* Connections of this worker bound to a session (webchat.max_conns). */
int
bind_count(struct worker *w)
{
	struct binding *b;
	size_t i;
	int n = 0;

	for (i = 0; i < RT_BUCKETS; i++)
		for (b = conn_tab[i]; b != NULL; b = b->next)
			n += b->w == w && b->session != 0;
	return n;
}

/* Room for this connection's binding (it may have one already)? */
int
bind_room(struct worker *w, uint64_t conn)
{
	return bind_find(w, conn) != NULL ||
	    bind_count(w) < (int)sup->conf->webchat.max_conns;
}

/*
 * Still open and admitted.  A cluster reads a session from the shared
 * store between the request and its bind: a visitor gone meanwhile
 * must get no record, which would hold a session, count against
 * max_conns and be freed by nothing.
 */
int
conn_open(struct worker *w, uint64_t conn)
{
	struct binding *c = conn_find(w, conn);

	return c != NULL && c->client != NULL;
}

/*
 * Bind the connection to a session, or rebind it: the old session's
 * route goes, and its last_seen stays as the last sweep wrote it.
 */
struct binding *
bind_set(struct worker *w, uint64_t conn, int64_t session)
{
	struct binding *b = conn_get(w, conn);

	if (b->session != 0)
		bind_clear(b);
	b->session = session;
	route_set(session, b);
	return b;
}

/* The connection a session's events go to now, if any. */
struct binding *
route_current(int64_t session)
{
	struct route *r = route_find(session);

	return r == NULL ? NULL : r->b;
}

/*
 * The connection's session, if it has one that has not expired; else
 * the request is answered here and NULL returned.  A request counts as
 * the session being seen.
 */
struct binding *
bind_live(struct worker *w, struct ipc_msg *m, uint64_t conn)
{
	const struct cfg_policy *p = &sup->conf->policy;
	struct binding *b;
	int64_t now = sup_now();

	if ((b = bind_find(w, conn)) == NULL) {
		rpc_error(w, m, conn, "no_session",
		    "open or resume a session first");
		return NULL;
	}
	if (b->seen < 0 || (b->expires > 0 && now >= b->expires) ||
	    (b->seen > 0 && now - b->seen >= (int64_t)p->idle_ttl_s)) {
		rpc_error(w, m, conn, "session_expired",
		    "the session has expired; open a new one");
		b->seen = 0;
		bind_remove(b);
		return NULL;
	}
	if (b->shared && bind_share_live(w, m, b) == -1)
		return NULL;
	b->seen = now;
	return b;
}

/*
 * A connection that came in by a share link holds the session only as
 * long as the link does: revoking or expiring it cuts every visitor
 * off at their next request, not only new ones.
 */
static int
bind_share_live(struct worker *w, struct ipc_msg *m, struct binding *b)
{
	int64_t link, session;
	int ro;

	if (store_share_find(sup->store, b->share_hash, sup_now(), &link,
	    &session, &ro) == 0 && (session == 0 || session == b->session))
		return 0;
	rpc_error(w, m, b->conn, "share_expired",
	    "this share link has expired or was revoked");
	bind_remove(b);
	return -1;
}

/*
 * Expire anonymous sessions: bound ones first (their next request gets
 * session_expired), then the store's rows, except a session an agent is
 * still answering, which goes on a later sweep.
 */
void
router_sweep(void)
{
	const struct cfg_policy *p = &sup->conf->policy;
	int64_t ids[RT_SWEEP_BATCH], now = sup_now();
	struct binding *b;
	size_t i;
	int n, k;

	admit_sweep();
	for (i = 0; i < RT_BUCKETS; i++)
		for (b = conn_tab[i]; b != NULL; b = b->next)
			if (b->seen > 0 &&
			    now - b->seen < (int64_t)p->idle_ttl_s)
				store_session_seen(sup->store, b->session,
				    b->seen);
	if ((n = store_session_expired(sup->store, now,
	    (int64_t)p->idle_ttl_s, ids, RT_SWEEP_BATCH)) <= 0)
		return;
	for (k = 0; k < n; k++) {
		if (areq_session_busy(ids[k], 0))
			continue;
		for (i = 0; i < RT_BUCKETS; i++)
			for (b = conn_tab[i]; b != NULL; b = b->next)
				if (b->session == ids[k])
					b->seen = -1;	/* expired */
		store_session_delete(sup->store, ids[k]);
	}
	log_debug("%s: %d sessions expired", __func__, n);
}
