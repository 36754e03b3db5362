/*
 * Account leases (lease.h).  Every renew_ms a round runs, one request
 * after another on the leases' own connection:
 *
 *   1. beat:  this node's row, and how many other nodes are alive
 *   2. renew: every live lease of ours, in one UPDATE; what it returns
 *             is what we hold, safe until the renewal's send time plus
 *             ttl minus margin; a lease we thought ours and it did not
 *             return is lost.  It also returns the other nodes' live
 *             leases, so that step 3 tries only accounts it can get.
 *   3. share: give back what is above the fair share (LEASE_GIVE), or
 *             take lapsed or free accounts up to it, one INSERT each
 *
 * A lease that lapsed while its node lives (it beats, is not draining)
 * is that node's to take again, not ours: it lapsed in an outage of the
 * database or of that node's link to it, and that node may still hold
 * what its worker learnt meanwhile (a reply sent, hub_pg.c), which it
 * ships before it reads the account again.  Taken by another, those
 * facts would come after the new owner read the account, which would
 * send again.  So a lapsed lease goes to another node only once its
 * node has not beaten for a ttl, or drains, and only to a node that has
 * not lost the database since it started, or has reached it again for
 * a ttl since (after an outage every live node has beaten by then; a
 * node that starts has no stale view of the others' beats, and what a
 * restarted node knew is gone with it).  A killed node's leases lapse
 * about a ttl after its last beat, so its takeover waits no longer
 * than before.
 *
 * A round whose beat or renewal fails changes nothing; the self-fence
 * timer, armed at the earliest "safe until", says LEASE_LOST for what
 * was not renewed in time, whatever the database is doing.
 *
 * Only a live lease is renewed (expires > now()): a lapsed one is taken
 * again, which raises its token, even by the node that had it.  Giving
 * back sets the expiry to -infinity instead of deleting the row, so the
 * token never starts over and an old writer's token stays refused.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "lease.h"
#include "log.h"
#include "pgpool.h"
#include "xmalloc.h"

enum { L_BEAT, L_RENEW, L_TAKE, L_RELEASE };

/* The lease row's node beats and does not drain ($ttl: the ttl). */
#define LEASE_NODE_LIVE(ttl) "SELECT 1 FROM nodes n WHERE" \
	" n.name = leases.node AND NOT n.draining AND n.seen > now() - $" \
	#ttl "::int * interval '1 millisecond'"

static const struct pgp_stmt lease_stmts[] = {
	[L_BEAT] = { "lease_beat",
	    "WITH b AS (INSERT INTO nodes (name, seen, draining)"
	    " VALUES ($1, now(), $2::boolean) ON CONFLICT (name) DO UPDATE"
	    " SET seen = now(), draining = excluded.draining RETURNING 1)"
	    " SELECT count(*) FROM nodes, b WHERE nodes.name <> $1"
	    " AND NOT nodes.draining"
	    " AND nodes.seen > now() - $3::int * interval '1 millisecond'", 3 },
	/* Ours renewed ('t') or lapsed ('o'); another's live, or lapsed
	 * at a node alive ('f'); another's lapsed at a node gone or
	 * draining ('l'). */
	[L_RENEW] = { "lease_renew",
	    "WITH r AS (UPDATE leases SET expires = now() + $2::int"
	    " * interval '1 millisecond' WHERE node = $1 AND expires > now()"
	    " RETURNING account, token)"
	    " SELECT account, token, 't' FROM r UNION ALL"
	    " SELECT account, token, 'o' FROM leases WHERE node = $1"
	    " AND expires <= now() AND expires > '-infinity' UNION ALL"
	    " SELECT account, token, CASE WHEN expires > now() OR EXISTS"
	    " (" LEASE_NODE_LIVE(2) ") THEN 'f' ELSE 'l' END FROM leases"
	    " WHERE node <> $1 AND expires > '-infinity'", 2 },
	/* $4: we have reached the database for a ttl. */
	[L_TAKE] = { "lease_take",
	    "INSERT INTO leases (account, node, token, expires)"
	    " VALUES ($1, $2, 1, now() + $3::int * interval '1 millisecond')"
	    " ON CONFLICT (account) DO UPDATE SET node = excluded.node,"
	    " token = leases.token + 1, expires = excluded.expires"
	    " WHERE leases.expires <= now() AND (leases.node = excluded.node"
	    " OR leases.expires = '-infinity' OR ($4::boolean AND NOT EXISTS"
	    " (" LEASE_NODE_LIVE(3) ")))"
	    " RETURNING token", 4 },
	[L_RELEASE] = { "lease_release",
	    "UPDATE leases SET expires = '-infinity' WHERE account = $1"
	    " AND node = $2 AND token = $3::bigint", 3 },
};

/* Several nodes may start at once: the advisory lock makes their
 * CREATE ... IF NOT EXISTS one after another. */
static const char lease_setup[] =
    "BEGIN;"
    "SELECT pg_advisory_xact_lock(7417001);"
    "CREATE TABLE IF NOT EXISTS nodes (name text PRIMARY KEY,"
    " seen timestamptz NOT NULL, draining boolean NOT NULL DEFAULT false);"
    "CREATE TABLE IF NOT EXISTS leases (account text PRIMARY KEY,"
    " node text NOT NULL, token bigint NOT NULL,"
    " expires timestamptz NOT NULL);"
    "CREATE INDEX IF NOT EXISTS leases_node ON leases (node);"
    "CREATE OR REPLACE FUNCTION lease_fence(a text, n text, t bigint)"
    " RETURNS void LANGUAGE plpgsql AS $f$ BEGIN"
    " PERFORM 1 FROM leases WHERE account = a AND node = n AND token = t"
    " AND expires > now() FOR SHARE;"
    " IF NOT FOUND THEN RAISE EXCEPTION 'lease of % is not %''s token %',"
    " a, n, t USING ERRCODE = 'WX001'; END IF; END $f$;"
    "COMMIT;";

enum la_state { LA_FREE, LA_TAKING, LA_HELD, LA_GIVING, LA_RELEASING };

struct lacct {
	char		*name;
	char		*pin;
	enum la_state	 state;
	int64_t		 token;
	uint64_t	 safe_until;	/* clock_mono_ms */
	unsigned	 elsewhere;	/* the round that saw another node's */
	unsigned	 lapsed;	/* ... that saw ours lapsed */
	int		 gone;		/* no longer wanted (leases_unwant) */
};

struct leases {
	struct pgpool	*db;
	char		 node[LEASE_NODE_MAX + 1];
	unsigned	 ttl_ms;
	unsigned	 renew_ms;
	unsigned	 margin_ms;
	lease_fn	 fn;
	void		*arg;
	struct lacct	*acct;
	unsigned	 n;
	unsigned	 cap;
	struct event	*tick;
	struct event	*fence;
	unsigned	 pending;	/* the round's requests not answered */
	unsigned	 rounds;	/* begun */
	unsigned	 live;		/* nodes alive, us included */
	uint64_t	 up_since;	/* beating since (clock_mono_ms), 0 not */
	int		 cut;		/* a round failed since we started */
	int		 draining;
};

/* What an answer is for. */
struct lreq {
	struct leases	*l;
	int		 kind;
	unsigned	 idx;
	uint64_t	 sent;
};

static void	lease_round(struct leases *);

unsigned
lease_share(unsigned accounts, unsigned nodes)
{
	if (nodes == 0)
		return accounts;
	return accounts / nodes + (accounts % nodes != 0);
}

static void
lease_ms(char *buf, size_t len, unsigned ms)
{
	snprintf(buf, len, "%u", ms);
}

static struct lacct *
lease_find(struct leases *l, const char *name)
{
	unsigned i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->acct[i].name, name) == 0)
			return &l->acct[i];
	return NULL;
}

static void
lease_arm_fence(struct leases *l)
{
	uint64_t first = UINT64_MAX, now = clock_mono_ms(), ms;
	struct timeval tv;
	unsigned i;

	for (i = 0; i < l->n; i++)
		if ((l->acct[i].state == LA_HELD ||
		    l->acct[i].state == LA_GIVING) &&
		    l->acct[i].safe_until < first)
			first = l->acct[i].safe_until;
	if (first == UINT64_MAX) {
		evtimer_del(l->fence);
		return;
	}
	ms = first > now ? first - now : 0;
	tv = clock_tv(ms);
	evtimer_add(l->fence, &tv);
}

static void
lease_lose(struct leases *l, struct lacct *a, const char *why)
{
	log_warnx("lease: %s: lost (%s)", a->name, why);
	a->state = LA_FREE;
	l->fn(LEASE_LOST, a->name, a->token, l->arg);
}

/* The self-fence: whatever was not renewed in time stops. */
static void
lease_fence_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct leases *l = arg;
	uint64_t now = clock_mono_ms();
	unsigned i;

	(void)fd;
	(void)ev;
	for (i = 0; i < l->n; i++) {
		struct lacct *a = &l->acct[i];

		if ((a->state == LA_HELD || a->state == LA_GIVING) &&
		    a->safe_until <= now)
			lease_lose(l, a, "not renewed in time");
	}
	lease_arm_fence(l);
}

static void	lease_answer(enum pgp_status, const PGresult *, const char *,
		    void *);
static void	lease_release(struct leases *, struct lacct *);

/*
 * Ours in the database (a take answered, or a renewal found it) but no
 * longer wanted: its worker never started here, so it is let go at
 * once, without LEASE_HELD.  1 if so.
 */
static int
lease_unwanted(struct leases *l, struct lacct *a)
{
	if (!a->gone)
		return 0;
	log_info("lease: %s: taken but no longer wanted: let go", a->name);
	lease_release(l, a);
	return 1;
}

static void
lease_ask(struct leases *l, int kind, unsigned idx, unsigned n,
    const char *const *params)
{
	struct lreq *r = xcalloc(1, sizeof(*r));

	r->l = l;
	r->kind = kind;
	r->idx = idx;
	r->sent = clock_mono_ms();
	if (pgpool_query(l->db, (unsigned)kind, n, params, lease_answer,
	    r) == -1)
		fatalx("%s: statement %d", __func__, kind);
}

/* Never cut off from the database, or back for a ttl: another node's
 * lapsed leases may be ours (see the top). */
static int
lease_settled(const struct leases *l)
{
	if (!l->cut)
		return 1;
	return l->up_since != 0 && clock_mono_ms() - l->up_since >= l->ttl_ms;
}

static void
lease_take(struct leases *l, unsigned idx)
{
	char ttl[16];
	const char *p[4] = { l->acct[idx].name, l->node, ttl,
	    lease_settled(l) ? "true" : "false" };

	lease_ms(ttl, sizeof(ttl), l->ttl_ms);
	l->acct[idx].state = LA_TAKING;
	l->pending++;
	lease_ask(l, L_TAKE, idx, 4, p);
}

/*
 * A job of one node with no worker ("@schedules", LEASE_JOB_PREFIX):
 * outside the fair share, which weighs workers, and never given back
 * for balance (a move would only stop and load it again); taken by
 * whichever node finds it free, and given back on a drain.
 */
static int
lease_job(const struct lacct *a)
{
	return a->name[0] == LEASE_JOB_PREFIX;
}

/* Step 3: give back above the share, take up to it.  Pinned accounts
 * are taken by their node whatever its share, and never given; one of
 * ours that lapsed is taken again whatever the share (no other node
 * will while we live), and given back by a later round if above it. */
static void
lease_balance(struct leases *l)
{
	unsigned i, held = 0, share, jobs = 0;

	/* The first round only beats: nodes started together see each
	 * other before any takes everything. */
	if (l->rounds == 1)
		return;
	/* Accounts no longer wanted weigh nothing; one still held is
	 * given back as on a drain (its worker stops first). */
	for (i = 0; i < l->n; i++) {
		struct lacct *a = &l->acct[i];

		jobs += lease_job(a) || a->gone;
		if (a->gone && a->state == LA_HELD) {
			a->state = LA_GIVING;
			log_info("lease: %s: giving back (no longer wanted)",
			    a->name);
			l->fn(LEASE_GIVE, a->name, a->token, l->arg);
		}
	}
	share = l->draining ? 0 : lease_share(l->n - jobs, l->live);
	for (i = 0; i < l->n; i++)
		held += !lease_job(&l->acct[i]) && !l->acct[i].gone &&
		    (l->acct[i].state == LA_HELD ||
		    l->acct[i].state == LA_TAKING);
	for (i = 0; i < l->n && l->draining; i++) {
		struct lacct *a = &l->acct[i];

		if (a->state != LA_HELD || !lease_job(a))
			continue;
		a->state = LA_GIVING;
		log_info("lease: %s: giving back (draining)", a->name);
		l->fn(LEASE_GIVE, a->name, a->token, l->arg);
	}
	for (i = 0; i < l->n && held > share; i++) {
		struct lacct *a = &l->acct[i];

		if (a->state != LA_HELD || lease_job(a) ||
		    (!l->draining && a->pin != NULL))
			continue;
		a->state = LA_GIVING;
		held--;
		log_info("lease: %s: giving back (share %u)", a->name,
		    share);
		l->fn(LEASE_GIVE, a->name, a->token, l->arg);
	}
	for (i = 0; i < l->n && !l->draining; i++) {
		struct lacct *a = &l->acct[i];

		if (a->state != LA_FREE || a->elsewhere == l->rounds ||
		    a->gone)
			continue;
		if (lease_job(a))
			lease_take(l, i);
		else if (a->pin != NULL ? strcmp(a->pin, l->node) == 0 :
		    a->lapsed == l->rounds || held < share) {
			if (a->pin == NULL)
				held++;
			lease_take(l, i);
		}
	}
}

/* Step 2's answer: rows are what we hold now. */
static void
lease_renewed(struct leases *l, const PGresult *res, uint64_t sent)
{
	uint64_t safe = sent + l->ttl_ms - l->margin_ms;
	unsigned i;
	int row;

	for (i = 0; i < l->n; i++)
		if (l->acct[i].state == LA_HELD ||
		    l->acct[i].state == LA_GIVING)
			l->acct[i].safe_until = 0;	/* not seen yet */
	for (row = 0; row < PQntuples(res); row++) {
		struct lacct *a = lease_find(l, PQgetvalue(res, row, 0));
		int64_t token = strtoll(PQgetvalue(res, row, 1), NULL, 10);

		if (a == NULL)
			continue;	/* no longer wanted: lapses */
		switch (PQgetvalue(res, row, 2)[0]) {
		case 'o':
			a->lapsed = l->rounds;
			continue;
		case 'l':
			if (lease_settled(l))
				continue;
			/* FALLTHROUGH */
		case 'f':
			a->elsewhere = l->rounds;
			continue;
		}
		if (a->state == LA_HELD || a->state == LA_GIVING) {
			if (a->token == token)
				a->safe_until = safe;
			continue;
		}
		if (a->state == LA_FREE) {
			/* Ours in the database and live: a take whose answer
			 * was lost, or one we fenced ourselves from early. */
			a->token = token;
			a->safe_until = safe;
			if (lease_unwanted(l, a))
				continue;
			a->state = LA_HELD;
			l->fn(LEASE_HELD, a->name, token, l->arg);
		}
	}
	for (i = 0; i < l->n; i++) {
		struct lacct *a = &l->acct[i];

		if ((a->state == LA_HELD || a->state == LA_GIVING) &&
		    a->safe_until == 0)
			lease_lose(l, a, "taken over or lapsed");
	}
	lease_arm_fence(l);
}

static void
lease_answer(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct lreq *r = arg;
	struct leases *l = r->l;
	struct lacct *a;
	char ms[16];
	const char *p[2];

	if (st == PGP_CLOSED) {
		free(r);
		return;
	}
	if (st != PGP_OK && r->kind != L_TAKE)
		log_debug("lease: %s: %s%s%s", lease_stmts[r->kind].name,
		    pgp_status_name(st), err ? ": " : "", err ? err : "");
	switch (r->kind) {
	case L_BEAT:
		if (st != PGP_OK) {
			l->up_since = 0;
			l->cut = 1;
		} else if (l->up_since == 0)
			l->up_since = clock_mono_ms();
		if (st == PGP_OK && PQntuples(res) == 1) {
			l->live = (unsigned)strtoul(PQgetvalue(res, 0, 0),
			    NULL, 10) + !l->draining;
			lease_ms(ms, sizeof(ms), l->ttl_ms);
			p[0] = l->node;
			p[1] = ms;
			l->pending++;
			lease_ask(l, L_RENEW, 0, 2, p);
		}
		l->pending--;
		break;
	case L_RENEW:
		if (st == PGP_OK) {
			lease_renewed(l, res, r->sent);
			lease_balance(l);
		} else {
			l->up_since = 0;
			l->cut = 1;
		}
		l->pending--;
		break;
	case L_TAKE:
		a = &l->acct[r->idx];
		if (a->state == LA_TAKING) {
			if (st == PGP_OK && PQntuples(res) == 1) {
				a->token = strtoll(PQgetvalue(res, 0, 0), NULL,
				    10);
				a->safe_until = r->sent + l->ttl_ms -
				    l->margin_ms;
				if (!lease_unwanted(l, a)) {
					a->state = LA_HELD;
					log_info("lease: %s: taken, token %"
					    PRId64, a->name, a->token);
					l->fn(LEASE_HELD, a->name, a->token,
					    l->arg);
					lease_arm_fence(l);
				}
			} else
				a->state = LA_FREE;
		}
		l->pending--;
		break;
	case L_RELEASE:
		a = &l->acct[r->idx];
		if (a->state == LA_RELEASING)
			a->state = LA_FREE;
		break;
	}
	free(r);
}

static void
lease_round(struct leases *l)
{
	char ms[16];
	const char *p[3] = { l->node, l->draining ? "true" : "false", ms };

	if (l->pending > 0)
		return;		/* the last one is still going */
	lease_ms(ms, sizeof(ms), l->ttl_ms);
	l->pending = 1;
	l->rounds++;
	lease_ask(l, L_BEAT, 0, 3, p);
}

static void
lease_tick(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	lease_round(arg);
}

struct leases *
leases_new(struct event_base *base, const struct pgpool_conf *db,
    const struct lease_conf *conf, lease_fn fn, void *arg)
{
	struct leases *l = xcalloc(1, sizeof(*l));
	struct pgpool_conf pc = *db;
	struct timeval tv;

	if (strlen(conf->node) == 0 || strlen(conf->node) > LEASE_NODE_MAX)
		fatalx("%s: bad node name", __func__);
	snprintf(l->node, sizeof(l->node), "%s", conf->node);
	l->ttl_ms = conf->ttl_ms ? conf->ttl_ms : LEASE_TTL_MS;
	l->renew_ms = conf->renew_ms ? conf->renew_ms : l->ttl_ms / 3;
	l->margin_ms = conf->margin_ms ? conf->margin_ms : l->ttl_ms / 5;
	if (l->renew_ms + l->margin_ms >= l->ttl_ms)
		fatalx("%s: renewal and margin leave no lease", __func__);
	l->fn = fn;
	l->arg = arg;
	l->live = 1;
	pc.conns = 1;
	pc.queue_max = LEASE_ACCOUNTS_MAX + 2;
	/* An answer later than a renewal period is of no use. */
	if (pc.deadline_ms == 0 || pc.deadline_ms > l->renew_ms)
		pc.deadline_ms = l->renew_ms;
	pc.stmts = lease_stmts;
	pc.nstmts = sizeof(lease_stmts) / sizeof(lease_stmts[0]);
	pc.setup = lease_setup;
	l->db = pgpool_new(base, &pc);
	if ((l->tick = event_new(base, -1, EV_PERSIST, lease_tick, l)) ==
	    NULL || (l->fence = evtimer_new(base, lease_fence_cb, l)) == NULL)
		fatalx("%s: event_new", __func__);
	tv = clock_tv(l->renew_ms);
	event_add(l->tick, &tv);
	return l;
}

void
leases_free(struct leases *l)
{
	unsigned i;

	if (l == NULL)
		return;
	pgpool_free(l->db);	/* answers PGP_CLOSED: nothing reads l */
	event_free(l->tick);
	event_free(l->fence);
	for (i = 0; i < l->n; i++) {
		free(l->acct[i].name);
		free(l->acct[i].pin);
	}
	free(l->acct);
	free(l);
}

int
leases_want(struct leases *l, const char *account, const char *pin)
{
	struct lacct *a;
	unsigned i;

	if ((a = lease_find(l, account)) != NULL) {
		a->gone = 0;
		return 0;
	}
	/* A slot let go for good is used again: no answer can name it
	 * (answers name a slot only while it takes or releases). */
	for (i = 0; i < l->n; i++)
		if (l->acct[i].gone && l->acct[i].state == LA_FREE)
			break;
	if (i < l->n) {
		a = &l->acct[i];
		free(a->name);
		free(a->pin);
	} else {
		if (l->n == LEASE_ACCOUNTS_MAX)
			return -1;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 16;
			l->acct = xreallocarray(l->acct, l->cap,
			    sizeof(*l->acct));
		}
		a = &l->acct[l->n++];
	}
	memset(a, 0, sizeof(*a));
	a->name = xstrdup(account);
	a->pin = pin ? xstrdup(pin) : NULL;
	lease_round(l);
	return 0;
}

/*
 * An account no longer to run (a bound account removed): not taken
 * any more; if held, given back once its worker has stopped
 * (LEASE_GIVE, then leases_given), as on a drain.
 */
void
leases_unwant(struct leases *l, const char *account)
{
	struct lacct *a = lease_find(l, account);

	if (a == NULL || a->gone)
		return;
	a->gone = 1;
	lease_round(l);
}

void
leases_given(struct leases *l, const char *account)
{
	struct lacct *a = lease_find(l, account);

	if (a == NULL || a->state != LA_GIVING)
		return;		/* lost meanwhile: it lapses */
	lease_release(l, a);
}

static void
lease_release(struct leases *l, struct lacct *a)
{
	char token[24];
	const char *p[3];

	snprintf(token, sizeof(token), "%" PRId64, a->token);
	p[0] = a->name;
	p[1] = l->node;
	p[2] = token;
	a->state = LA_RELEASING;
	lease_ask(l, L_RELEASE, (unsigned)(a - l->acct), 3, p);
	lease_arm_fence(l);
}

/*
 * A write of ours was refused by the fence: whatever we thought, the
 * lease is gone, and the worker stops now rather than at the renewal.
 */
void
leases_lost(struct leases *l, const char *account, const char *why)
{
	struct lacct *a = lease_find(l, account);

	if (a != NULL && (a->state == LA_HELD || a->state == LA_GIVING))
		lease_lose(l, a, why);
	lease_arm_fence(l);
}

void
leases_drain(struct leases *l)
{
	l->draining = 1;
	lease_round(l);
}

unsigned
leases_live(const struct leases *l)
{
	return l->live > 0 ? l->live : 1;
}

unsigned
leases_held(const struct leases *l)
{
	unsigned i, n = 0;

	for (i = 0; i < l->n; i++)
		n += l->acct[i].state == LA_HELD && !lease_job(&l->acct[i]);
	return n;
}
