/*
 * The hub on a shared PostgreSQL store (wxgate-hub-pg only; wxgate-hub
 * links hub_nopg.c and no libpq).  docs/architecture.md, "Several nodes
 * on PostgreSQL", has the design; in short:
 *
 *   - The node's SQLite store is its working set, made anew at each
 *     start; PostgreSQL is the truth.  Every committed turn's changed
 *     rows (store_capture) ship as one transaction, in order, one in
 *     flight; a claim (durable.c) settles only when its turn's rows
 *     are in PostgreSQL.  A batch whose outcome is unknown is sent
 *     again: every statement is an upsert, an update to given values
 *     or a delete by key, so a second run changes nothing.
 *   - A leased account's rows go behind its fence (LEASE_FENCE_SQL):
 *     a batch commits only while the lease is ours with the token the
 *     rows were written under.  Rows of an account we do not hold, or
 *     written in an earlier holding of it, are not shipped at all;
 *     a reply's end (SHIP_FACT) is the one exception.
 *   - The file's channel accounts are leased (lease.c); the root
 *     parent starts none of their workers in a cluster, and we ask for
 *     one (hub.resume) only when its lease is ours and its rows are
 *     loaded, and stop it (hub.pause) when the lease may be lost.
 *   - Bounds: SHIP_GROUPS_MAX batches wait behind the one in flight;
 *     past that, or while the database has failed for SHIP_LATE_MS,
 *     a turn is refused as a failing store's is: its claims answer
 *     unavailable or busy, channel messages stay with the platform.
 *     A web chat message is told busy before it is written
 *     (router_chat.c), which the page sends again; one written before
 *     the database failed is told busy once its claim has waited
 *     RT_ACCEPT_DUE_MS (durable_due), and still ships.
 */
#include <sys/types.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "account.h"
#include "areq.h"
#include "clock.h"
#include "codec.h"
#include "config.h"
#include "hub.h"
#include "hub_pg_int.h"
#include "lease.h"
#include "log.h"
#include "pgapply.h"
#include "pgids.h"
#include "pgload.h"
#include "pgpool.h"
#include "pgsetup.h"
#include "sandbox.h"
#include "store.h"
#include "xmalloc.h"

/* Data statements of one batch; its fences come on top. */
#define SHIP_STMTS_MAX		(PGPOOL_BATCH_MAX / 2)
#define SHIP_GROUPS_MAX		64
#define SHIP_RETRY_MIN_MS	100
#define SHIP_RETRY_MAX_MS	2000
/* A batch's deadline, from sending to commit (pgpool's and the
 * server's statement_timeout). */
#define SHIP_DEADLINE_MS	10000
/* New turns are refused once the database has failed this long. */
#define SHIP_LATE_MS		5000
/* Requests waiting for one of the pool's connections. */
#define SHIP_QUEUE_MAX		256
/* Unfenced: rows of no leased account. */
#define SHIP_OPEN		(-1)
/*
 * Unfenced too: an outbox row's end (sent, failed), whatever became of
 * the lease.  The platform has it; a next owner that read the row
 * queued would send it again.  pgapply.c applies it only to a row still
 * queued, so it never undoes anything.
 */
#define SHIP_FACT		(-2)

struct ship {
	TAILQ_ENTRY(ship)	 entry;
	struct pgapply		*pa;
	char			**who;	/* each statement's account, or NULL */
	/* ... the holding (pgacct.gen) it was written in, 0 not held
	 * then; SHIP_OPEN not leased (web chat), SHIP_FACT a reply's
	 * outcome.  Not the lease token: a lease lost here but still ours
	 * in the database comes back under the same token, and what was
	 * written before is not the truth's. */
	int64_t			*gen;
	int64_t			*obx;	/* ... an outbox row's id, if made */
	unsigned		 n;
	unsigned		 cap;
	int64_t			 outbox_low;	/* its least new outbox id */
	uint64_t		 seq;		/* ships go in this order */
	struct durable_head	 claims;
};

struct pgacct {
	char		*name;
	char		*kind;
	char		*tmpl;		/* a bound account's template, or NULL */
	int		 gone;		/* bound, removed: not wanted */
	int64_t		 token;		/* ours with this; 0: not */
	int		 running;	/* hub.resume asked */
	int		 giving;	/* hand over once stopped */
	uint64_t	 gen;		/* this holding's (hp.loads) */
	uint64_t	 after;		/* its load waits for this ship */
	int		 waiting;
};

static struct {
	struct pgpool	*db;
	struct leases	*leases;
	char		*password;
	char		*conninfo;
	char		*setup;
	struct pgapply	*fences;
	struct pgacct	*acct;
	unsigned	 nacct;
	unsigned	 nwaiting;	/* acct[] whose load waits */
	TAILQ_HEAD(shiphead, ship) ships;
	unsigned	 nships;
	uint64_t	 seq;		/* the last ship's */
	int		 flying;	/* the first ship is sent */
	struct pgp_q	*q;		/* the flying batch's statements */
	unsigned	 nq;
	unsigned	 nfence;
	struct event	*retry;
	unsigned	 retry_ms;
	uint64_t	 failing_since;	/* clock_mono_ms, 0: not */
	int		 full;		/* new turns refused */
	int		 ids_asked;
	uint64_t	 loads;
	uint64_t	 batches;
	uint64_t	 refused;
} hp = { .ships = TAILQ_HEAD_INITIALIZER(hp.ships) };

static void	ship_send(void);

int
hub_pg_on(void)
{
	return 1;
}

/* libpq dials out: a network of its own, no namespace without one. */
void
hub_pg_spec(struct sandbox_spec *sb)
{
	/* libpq's sslrootcert= (config_store.c keeps it under certs/). */
	static const char *const ro[] = { "/usr/share/zoneinfo",
	    "/etc/ssl/certs", NULL };

	sb->flags &= ~SB_S_NONET;
	sb->ro_dirs = ro;
	sb->seccomp = "hub_pg";
}

/* hub.store_secret, before the configuration. */
int
hub_pg_secret(struct ipc_msg *m)
{
	const struct ipc_str *t = &m->b.store_secret.secret;

	if (memchr(t->p, '\0', t->len))
		return -1;
	xfree_secret(hp.password);
	hp.password = xmalloc(t->len + 1);
	memcpy(hp.password, t->p, t->len);
	hp.password[t->len] = '\0';
	return 0;
}

static int	worker_alive(const struct pgacct *);

static struct pgacct *
acct_find(const char *name)
{
	unsigned i;

	for (i = 0; i < hp.nacct; i++)
		if (strcmp(hp.acct[i].name, name) == 0)
			return &hp.acct[i];
	return NULL;
}

/* Each channel account this node runs now (hub_pg_sched.c's polls). */
void
hub_pg_each_held(void (*fn)(const char *, void *), void *arg)
{
	unsigned i;

	for (i = 0; i < hp.nacct; i++)
		if (hp.acct[i].kind != NULL && hub_pg_holds(hp.acct[i].name))
			fn(hp.acct[i].name, arg);
}

int
hub_pg_leased(const char *account)
{
	return acct_find(account) != NULL;
}

int
hub_pg_holds(const char *account)
{
	struct pgacct *a = acct_find(account);

	return a == NULL || (a->token != 0 && a->running);
}

static void
acct_worker(struct pgacct *a, int run)
{
	char wname[2 * IPC_NAME_MAX + 2];
	struct ipc_body_hub_ref b;

	a->running = run;
	/* Bound: the parent does not know it from the file; account.c
	 * builds it from its template and has it spawned, or unspawned
	 * and forgotten here (its rows stay in the truth). */
	if (a->tmpl != NULL) {
		if (run)
			account_lease_start(a->name, a->tmpl);
		else
			account_lease_stop(a->name);
		return;
	}
	snprintf(wname, sizeof(wname), "%s.%s", a->kind, a->name);
	b.name = ipc_s(wname);
	b.gen = 0;
	b.why = IPC_S("");
	b.syscall = 0;
	/* An operator's pause stands: the lease alone does not start it. */
	if (run && account_paused(a->name))
		return;
	hub_request(run ? IPC_HUB_RESUME : IPC_HUB_PAUSE, &b);
}

/*
 * A bound account active in the truth (hub_pg_bound.c's poll): wanted
 * like the file's.  0, or -1 when the leases are full.
 */
int
hub_pg_bound_want(const char *name, const char *tmpl)
{
	struct pgacct *a;
	unsigned i;

	if ((a = acct_find(name)) != NULL) {
		if (a->tmpl == NULL)
			return 0;	/* the file's: never both */
		a->gone = 0;
		return leases_want(hp.leases, name, NULL);
	}
	if (leases_want(hp.leases, name, NULL) == -1)
		return -1;
	/* One removed and wholly let go is used again. */
	for (i = 0; i < hp.nacct; i++)
		if (hp.acct[i].gone && hp.acct[i].token == 0 &&
		    !hp.acct[i].giving && !hp.acct[i].running &&
		    !worker_alive(&hp.acct[i]))
			break;
	if (i == hp.nacct) {
		hp.acct = xreallocarray(hp.acct, hp.nacct + 1,
		    sizeof(*hp.acct));
		hp.nacct++;
	} else {
		free(hp.acct[i].name);
		free(hp.acct[i].kind);
		free(hp.acct[i].tmpl);
	}
	a = &hp.acct[i];
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(name);
	a->kind = xstrdup(ACCOUNT_KIND);
	a->tmpl = xstrdup(tmpl);
	return 0;
}

/* Its row left the truth (removed, unbound): given back once stopped. */
void
hub_pg_bound_unwant(const char *name)
{
	struct pgacct *a = acct_find(name);

	if (a == NULL || a->tmpl == NULL || a->gone)
		return;
	a->gone = 1;
	leases_unwant(hp.leases, name);
}

/* The worker is gone (hub.detach): a lease being handed over goes. */
void
hub_pg_worker_gone(const char *account)
{
	struct pgacct *a = acct_find(account);

	if (a != NULL && a->giving) {
		a->giving = 0;
		leases_given(hp.leases, a->name);
	}
}

static int
worker_alive(const struct pgacct *a)
{
	char wname[2 * IPC_NAME_MAX + 2];
	struct worker *w;

	snprintf(wname, sizeof(wname), "%s.%s", a->kind, a->name);
	return (w = spawn_find(wname)) != NULL && w->wire != NULL;
}

/* The loaded rows are committed: the worker may start. */
static void
load_committed(struct durable *d, int ok)
{
	struct pgacct *a = acct_find(d->str);
	const struct cfg_channel *cc;

	if (a == NULL || a->token == 0 || a->gen != (uint64_t)d->id)
		return;		/* lost meanwhile */
	if (!ok) {
		leases_lost(hp.leases, a->name, "its rows did not commit "
		    "here");
		return;
	}
	log_info("cluster: %s is ours (token %" PRId64 "), starting it",
	    a->name, a->token);
	pause_reload(a->name);
	acct_worker(a, 1);
	if ((cc = config_channel(sup->conf, a->name)) != NULL)
		agentq_backlog(agentq_find(cc->agent));
}

static void	ids_check(void);

static void
load_done(int64_t rows, void *arg)
{
	uint64_t gen = (uint64_t)(uintptr_t)arg;
	struct durable *d;
	unsigned i;
	int n;

	for (i = 0; i < hp.nacct && hp.acct[i].gen != gen; i++)
		;
	if (i == hp.nacct || hp.acct[i].token == 0)
		return;
	if (rows < 0) {
		/* The lease goes back to the pool; a later round retries. */
		leases_lost(hp.leases, hp.acct[i].name, "its rows could not "
		    "be read");
		return;
	}
	log_debug("cluster: %s: %" PRId64 " rows loaded", hp.acct[i].name,
	    rows);
	/* Asked by the node that had it, never answered: ours to ask. */
	if ((n = store_msg_requeue_account(sup->store, hp.acct[i].name)) ==
	    -1) {
		leases_lost(hp.leases, hp.acct[i].name, "a store error");
		return;
	}
	log_debug("cluster: %s: %d asked messages to ask again",
	    hp.acct[i].name, n);
	/* What the account says here must sort after what it said there
	 * (history is in id order): a block below its newest message
	 * goes, as after a visit (CI saw a reply without its history). */
	if (store_ids_past_messages(sup->store) == 0)
		ids_check();
	d = durable_after(load_committed);
	d->str = xstrdup(hp.acct[i].name);
	d->id = (int64_t)gen;
}

/* Its load waits for our earlier ships, or no longer; counted, so that
 * a ship done looks for them only when there are some. */
static void
acct_wait(struct pgacct *a, int on)
{
	if (a->waiting == on)
		return;
	a->waiting = on;
	if (on)
		hp.nwaiting++;
	else
		hp.nwaiting--;
}

/* A lease taken: once our earlier ships are in, read it anew. */
static void
acct_load(struct pgacct *a)
{
	if (!a->waiting || !hub_pg_shipped(a->after))
		return;
	acct_wait(a, 0);
	/* What this node knew of it is stale: the truth comes. */
	if (store_forget(sup->store, a->name) == -1 ||
	    pgload_account(hp.db, sup->store, a->name, load_done,
	    (void *)(uintptr_t)a->gen) == -1) {
		leases_lost(hp.leases, a->name, "its rows could not be read");
		return;
	}
	sup_turn();
}

static void
lease_event(enum lease_ev ev, const char *account, int64_t token, void *arg)
{
	struct pgacct *a = acct_find(account);

	(void)arg;
	if (a == NULL)
		return;
	/* "@schedules": a job with no worker (hub_pg_sched.c). */
	if (a->kind == NULL) {
		a->token = ev == LEASE_HELD ? token : 0;
		if (ev == LEASE_HELD)
			a->gen = ++hp.loads;
		hub_pg_sched_lease(ev);
		if (ev == LEASE_GIVE)
			leases_given(hp.leases, a->name);
		return;
	}
	switch (ev) {
	case LEASE_HELD:
		a->token = token;
		a->gen = ++hp.loads;
		/* Our own facts of it, still shipping, go in first. */
		a->after = hp.seq;
		acct_wait(a, 1);
		acct_load(a);
		break;
	case LEASE_LOST:
		a->token = 0;
		a->giving = 0;
		acct_wait(a, 0);
		acct_worker(a, 0);
		break;
	case LEASE_GIVE:
		a->token = 0;
		acct_wait(a, 0);
		acct_worker(a, 0);
		if (worker_alive(a))
			a->giving = 1;
		else
			leases_given(hp.leases, a->name);
		break;
	}
}

static void
ids_done(int64_t first, void *arg)
{
	(void)arg;
	hp.ids_asked = 0;
	if (first < 0)
		return;		/* asked again after the next turn */
	log_debug("cluster: ids from %" PRId64, first);
	hub_pg_judge();
	sup_turn();
}

static void
ids_check(void)
{
	if (!hp.ids_asked && pgids_low(sup->store) &&
	    pgids_fetch(hp.db, sup->store, ids_done, NULL) == 0)
		hp.ids_asked = 1;
}

static struct ship *
ship_new(void)
{
	struct ship *s = xcalloc(1, sizeof(*s));

	s->pa = pgapply_new();
	s->outbox_low = INT64_MAX;
	s->seq = ++hp.seq;
	TAILQ_INIT(&s->claims);
	TAILQ_INSERT_TAIL(&hp.ships, s, entry);
	hp.nships++;
	return s;
}

static void
ship_free(struct ship *s)
{
	unsigned i;

	TAILQ_REMOVE(&hp.ships, s, entry);
	hp.nships--;
	if (s->outbox_low != INT64_MAX)
		channel_kick_all();
	for (i = 0; i < s->n; i++)
		free(s->who[i]);
	free(s->who);
	free(s->gen);
	free(s->obx);
	pgapply_free(s->pa);
	free(s);
	for (i = 0; hp.nwaiting > 0 && i < hp.nacct; i++)
		acct_load(&hp.acct[i]);
	hub_pg_visit_run();
}

struct pgpool *
hub_pg_pool(void)
{
	return hp.db;
}

struct leases *
hub_pg_leases(void)
{
	return hp.leases;
}

const char *
hub_pg_worker_state(const char *account)
{
	struct pgacct *a = acct_find(account);

	if (a == NULL || a->token == 0)
		return "stopping";
	if (a->kind == NULL)
		return hub_pg_sched_state();
	if (!a->running)
		return "loading";
	if (account_paused(a->name))
		return "paused";
	return worker_alive(a) ? "running" : "starting";
}

uint64_t
hub_pg_ship_last(void)
{
	return hp.seq;
}

int
hub_pg_shipped(uint64_t seq)
{
	const struct ship *s = TAILQ_FIRST(&hp.ships);

	return s == NULL || s->seq > seq;
}

/* The ship a turn's rows join: the last, unless it flies or is full. */
static struct ship *
ship_tail(void)
{
	struct ship *s = TAILQ_LAST(&hp.ships, shiphead);

	if (s == NULL || (s == TAILQ_FIRST(&hp.ships) && hp.flying) ||
	    s->n >= SHIP_STMTS_MAX)
		s = ship_new();
	return s;
}

/* The row's id column, INT64_MAX if it has none. */
static int64_t
change_id(const struct store_change *c)
{
	unsigned i;

	for (i = 0; i < c->ncol; i++)
		if (strcmp(c->col[i], "id") == 0 &&
		    c->val[i].kind == STORE_V_INT)
			return c->val[i].i;
	return INT64_MAX;
}

int64_t
hub_pg_outbox_below(void)
{
	const struct ship *s;
	int64_t low = INT64_MAX;

	TAILQ_FOREACH(s, &hp.ships, entry)
		if (s->outbox_low < low)
			low = s->outbox_low;
	return low;
}

static int
ship_change(const struct store_change *c, void *arg)
{
	struct ship *s;
	struct pgacct *a;
	const char *who = hub_pg_sched_owner(c);
	int64_t id;

	(void)arg;
	if (pgapply_skips(c))
		return 0;
	s = ship_tail();
	if (pgapply_add(c, s->pa) == -1)
		return -1;
	id = c->op == STORE_OP_INSERT && strcmp(c->table, "outbox") == 0 ?
	    change_id(c) : INT64_MAX;
	if (id < s->outbox_low)
		s->outbox_low = id;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->who = xreallocarray(s->who, s->cap, sizeof(*s->who));
		s->gen = xreallocarray(s->gen, s->cap, sizeof(*s->gen));
		s->obx = xreallocarray(s->obx, s->cap, sizeof(*s->obx));
	}
	s->who[s->n] = who != NULL ? xstrdup(who) : NULL;
	a = who != NULL ? acct_find(who) : NULL;
	/* A leased account's rows carry the holding they were written
	 * in; anyone else's (web chat's) ship unfenced. */
	if (a == NULL)
		s->gen[s->n] = SHIP_OPEN;
	else if (pgapply_is_end(c))
		s->gen[s->n] = SHIP_FACT;
	else
		s->gen[s->n] = a->token != 0 ? (int64_t)a->gen : 0;
	s->obx[s->n] = id != INT64_MAX ? id : 0;
	s->n++;
	return 0;
}

int
hub_pg_full(void)
{
	return hp.full;
}

/*
 * At the end of each turn, and when a ship commits (which can only
 * clear it): never between a handler that asked (router_chat.c) and
 * its turn's commit, which would refuse what the handler let in.
 */
void
hub_pg_judge(void)
{
	/* No id left (the first block, at start, has not come): an
	 * insert would fail as a broken store's does. */
	hp.full = hp.nships > SHIP_GROUPS_MAX || (hp.failing_since != 0 &&
	    clock_mono_ms() - hp.failing_since > SHIP_LATE_MS) ||
	    store_ids_left(sup->store) == 0;
}

/*
 * After a commit (wrote: the turn changed rows): its rows join the
 * ships and its claims wait with them.  0: nothing waits, settle now.
 */
int
hub_pg_ship(struct durable_head *claims, int wrote)
{
	struct ship *s;

	if (wrote && store_capture_take(sup->store, ship_change, NULL) ==
	    -1) {
		/* Committed here and not shippable: this node's working
		 * set no longer matches the truth.  Nothing it said was
		 * acknowledged; stop and start anew from the truth. */
		fatalx("cluster: a turn could not be taken for shipping");
	}
	ids_check();
	if (TAILQ_EMPTY(&hp.ships))
		return 0;
	s = TAILQ_LAST(&hp.ships, shiphead);
	TAILQ_CONCAT(&s->claims, claims, entry);
	if (!hp.flying)
		ship_send();
	return 1;
}

static void	ship_done(enum pgp_status, const PGresult *, const char *,
		    void *);

/* Statement i's account, if it is still held as when it was written. */
static struct pgacct *
ship_held(const struct ship *s, unsigned i)
{
	struct pgacct *a;

	if (s->gen[i] <= 0 || (a = acct_find(s->who[i])) == NULL ||
	    a->token == 0 || (int64_t)a->gen != s->gen[i])
		return NULL;
	return a;
}

/* Build the first ship's batch: fences, then what may ship. */
static void
ship_send(void)
{
	struct ship *s = TAILQ_FIRST(&hp.ships);
	const struct pgp_q *data, *fq;
	struct pgacct *a;
	unsigned i, j, n, nf;

	if (s == NULL || hp.flying)
		return;
	data = pgapply_batch(s->pa, &n);
	pgapply_reset(hp.fences);
	for (i = 0; i < n; i++) {
		if ((a = ship_held(s, i)) == NULL)
			continue;
		for (j = 0; j < i; j++)
			if (s->gen[j] > 0 && strcmp(s->who[j], s->who[i]) == 0)
				break;
		if (j == i && pgapply_fence(hp.fences, a->name,
		    sup->conf->node, a->token) == -1)
			fatalx("%s: fences", __func__);
	}
	fq = pgapply_batch(hp.fences, &nf);
	hp.q = xreallocarray(hp.q, nf + n + 1, sizeof(*hp.q));
	/* No fence yet: fq is NULL, which memcpy may not be given. */
	if (nf > 0)
		memcpy(hp.q, fq, nf * sizeof(*fq));
	hp.nq = nf;
	hp.nfence = nf;
	for (i = 0; i < n; i++) {
		/* Unfenced rows go; a leased account's only if still ours
		 * under the token they were written with.  Its inbound
		 * was refused once the lease went (chan_inbound), so what
		 * stays behind is what the account's next node asks
		 * again. */
		if (s->gen[i] > SHIP_OPEN && ship_held(s, i) == NULL) {
			/* Held back until now (hub_pg_outbox_below), it
			 * would go once this ship is done: it must not,
			 * since the truth never has it.  The account's
			 * next holder, or the schedules' next runner,
			 * makes it anew. */
			if (s->obx[i] != 0) {
				if (store_forget_outbox(sup->store, s->obx[i]) ==
				    -1)
					fatalx("cluster: an unshipped reply "
					    "could not be forgotten");
				s->obx[i] = 0;
				sup_turn();	/* commits it */
			}
			continue;
		}
		hp.q[hp.nq++] = data[i];
	}
	if (hp.nq == 0) {
		hp.flying = 1;
		ship_done(PGP_OK, NULL, NULL, NULL);
		return;
	}
	if (pgpool_batch(hp.db, hp.q, hp.nq, ship_done, NULL) == -1)
		fatalx("%s: batch", __func__);
	hp.flying = 1;
	hp.batches++;
}

/*
 * A batch the database refused: what it held of each leased account
 * is in this node's working set and not in the truth.  Its outbox rows
 * must never go (the account's next node would answer again), so the
 * account stops here; taken again, by us or another node, its rows come
 * anew from the truth, where its unanswered messages are asked again.
 */
static void
ship_refused(const struct ship *s)
{
	struct pgacct *a;
	unsigned i;

	for (i = 0; i < s->n; i++)
		if ((a = ship_held(s, i)) != NULL)
			leases_lost(hp.leases, a->name, "a batch of its rows "
			    "was refused");
}

static void
ship_retry_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	ship_send();
}

static void
ship_retry(void)
{
	struct timeval tv;

	hp.retry_ms = hp.retry_ms == 0 ? SHIP_RETRY_MIN_MS :
	    hp.retry_ms * 2 > SHIP_RETRY_MAX_MS ? SHIP_RETRY_MAX_MS :
	    hp.retry_ms * 2;
	tv = clock_tv(hp.retry_ms);
	evtimer_add(hp.retry, &tv);
}

/* "statement N: SQLSTATE: ..." (pgpool_batch's failure): N, or -1. */
static long
ship_failed_at(const char *err, const char *state)
{
	char want[16];
	long n;
	char *end;

	if (err == NULL || strncmp(err, "statement ", 10) != 0)
		return -1;
	n = strtol(err + 10, &end, 10);
	snprintf(want, sizeof(want), ": %s:", state);
	return strncmp(end, want, strlen(want)) == 0 ? n : -1;
}

static void
ship_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct ship *s = TAILQ_FIRST(&hp.ships);
	struct pgacct *a;
	const char *who;
	int64_t tok;
	long at;

	(void)res;
	(void)arg;
	if (st == PGP_CLOSED || s == NULL)
		return;
	hp.flying = 0;
	switch (st) {
	case PGP_OK:
		break;
	case PGP_ERROR:
		at = ship_failed_at(err, "WX001");
		if (at >= 1 && (unsigned long)at <= hp.nfence) {
			/* Fenced: that lease is not ours; the rest go.  A
			 * batch made before the account was taken again
			 * names an older token: the new lease stands. */
			who = hp.q[at - 1].params[0];
			tok = strtoll(hp.q[at - 1].params[2], NULL, 10);
			log_warnx("cluster: %s: a write under token %lld was "
			    "refused by its fence", who, (long long)tok);
			if ((a = acct_find(who)) != NULL && a->token == tok)
				leases_lost(hp.leases, who,
				    "a write was fenced");
			ship_send();
			return;
		}
		/* Never to succeed: its claims fail, the rest go on. */
		log_warnx("cluster: a batch was refused: %s", err ? err : "?");
		if ((at = ship_failed_at(err, "23503")) >= 1 &&
		    (unsigned long)at <= hp.nq)
			log_debug("cluster: refused: %.200s (%s)",
			    hp.q[at - 1].sql ? hp.q[at - 1].sql : "?",
			    hp.q[at - 1].nparams > 0 ? hp.q[at - 1].params[0] :
			    "");
		ship_refused(s);
		hp.failing_since = 0;
		hp.retry_ms = 0;
		durable_settle(&s->claims, 0);
		ship_free(s);
		hub_pg_judge();
		ship_send();
		return;
	default:
		/* Not run, or not known: the same batch again. */
		if (hp.failing_since == 0) {
			hp.failing_since = clock_mono_ms();
			log_warnx("cluster: the database: %s%s%s",
			    pgp_status_name(st), err ? ": " : "",
			    err ? err : "");
		}
		ship_retry();
		return;
	}
	if (hp.failing_since != 0)
		log_warnx("cluster: the database answers again");
	hp.failing_since = 0;
	hp.retry_ms = 0;
	durable_settle(&s->claims, 1);
	ship_free(s);
	hub_pg_judge();
	ship_send();
}

/* Once per connection: the schema, made by whichever node is first. */
static char *
setup_sql(void)
{
	char *body = pgsetup_sql(), *sql;

	xasprintf(&sql, "BEGIN;%sCOMMIT;", body);
	free(body);
	return sql;
}

/* The URI as given, without GSSAPI (no Kerberos inside the sandbox). */
static char *
conninfo(const char *uri, const char *node)
{
	char *s;

	xasprintf(&s, "%s%sapplication_name=wxgate-%s%s", uri,
	    strchr(uri, '?') != NULL ? "&" : "?", node,
	    strstr(uri, "gssencmode=") != NULL ? "" : "&gssencmode=disable");
	return s;
}

void
hub_pg_start(void)
{
	const struct config *c = sup->conf;
	struct pgpool_conf pc;
	struct lease_conf lc;
	unsigned i;

	if (!c->store_pg || c->node == NULL)
		fatalx("cluster: wxgate-hub-pg without a postgresql store");
	if (store_capture(sup->store) == -1)
		fatalx("cluster: no change capture");
	/* No row before the node's first block of ids. */
	store_ids(sup->store, 0, 0);
	hp.fences = pgapply_new();
	hp.conninfo = conninfo(c->store_uri, c->node);
	hp.setup = setup_sql();
	if ((hp.retry = evtimer_new(sup->base, ship_retry_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	memset(&pc, 0, sizeof(pc));
	pc.conninfo = hp.conninfo;
	pc.password = hp.password;
	pc.conns = c->cluster.pool;
	pc.queue_max = SHIP_QUEUE_MAX;
	pc.deadline_ms = SHIP_DEADLINE_MS;
	pc.setup = hp.setup;
	hp.db = pgpool_new(sup->base, &pc);
	ids_check();
	hub_pg_judge();
	memset(&lc, 0, sizeof(lc));
	lc.node = c->node;
	lc.ttl_ms = c->cluster.lease_ttl_ms;
	hp.leases = leases_new(sup->base, &pc, &lc, lease_event, NULL);
	for (i = 0; i < c->channels_count; i++) {
		const struct cfg_channel *cc = &c->channels[i];

		if (config_rt_is(c, cc->name))
			continue;
		hp.acct = xreallocarray(hp.acct, hp.nacct + 1,
		    sizeof(*hp.acct));
		memset(&hp.acct[hp.nacct], 0, sizeof(*hp.acct));
		hp.acct[hp.nacct].name = xstrdup(cc->name);
		hp.acct[hp.nacct].kind = xstrdup(cc->type);
		hp.nacct++;
		if (leases_want(hp.leases, cc->name, cc->node) == -1)
			fatalx("cluster: too many accounts");
	}
	log_info("cluster: node %s, %u accounts leased", c->node, hp.nacct);
	/* Last: the one pgacct without a kind, the schedules' lease. */
	hp.acct = xreallocarray(hp.acct, hp.nacct + 1, sizeof(*hp.acct));
	memset(&hp.acct[hp.nacct], 0, sizeof(*hp.acct));
	hp.acct[hp.nacct++].name = xstrdup(SCHED_LEASE);
	hub_pg_sched_start();
	hub_pg_bound_start();
	hub_pg_rate_start();
	hub_pg_warm_start();
}

void
hub_pg_refused(void)
{
	hp.refused++;
}
