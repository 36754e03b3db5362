/*
 * Schedules on a cluster (wxgate-hub-pg only): each slot runs once
 * cluster-wide.  docs/architecture.md, "Several nodes on PostgreSQL",
 * has the reasons; in short:
 *
 *   - One node runs schedules: the one that holds the lease
 *     "@schedules", a job with no worker (lease.c keeps it outside the
 *     fair share).  On LEASE_HELD the schedules' rows come from the
 *     truth (pgload_schedules); once they are committed here the file's
 *     schedules are written (schedule_init) and the timer runs.  On
 *     LEASE_LOST or LEASE_GIVE the timer stops at once: lease.c says
 *     LOST before the lease can lapse, so two nodes never both run it.
 *   - The run row is the lock, as on one node, and it and everything
 *     else the scheduler writes (definitions, runs, targets, prompts'
 *     conversations, a run's new outbox rows) ship fenced by the
 *     "@schedules" token (hub_pg_sched_owner): a scheduler that lost
 *     the lease writes nothing more, and PostgreSQL's UNIQUE
 *     (schedule_id, slot) (schedule_runs_slot) stands behind both.
 *   - A run's outbox rows for an account another node runs reach that
 *     node by polling: every node that runs accounts reads, once a
 *     second, up to SCHED_POLL_ROWS queued rows of runs for them that
 *     it does not have, takes them in (never over a row it has), judges
 *     the peer's contact as the scheduler would have, and delivers.
 *     The scheduler reads back, likewise bounded, the ends of those
 *     rows, so that a run's targets settle (store_run_settle).
 *   - Everywhere but the scheduler, wxgatectl schedule is refused with
 *     the scheduler's name (hub_pg_sched_here).
 *
 * Polling and not LISTEN/NOTIFY, as for web chat (hub_pg_visit.c): a
 * LISTEN holds one of the pool's few connections for good and its
 * notices are lost across a reconnect, so a poll would be needed
 * behind it anyway; a second of delay is nothing to a schedule.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "areq.h"
#include "clock.h"
#include "config.h"
#include "hub.h"
#include "hub_pg_int.h"
#include "kinds.h"
#include "kinds_caps.h"
#include "lease.h"
#include "log.h"
#include "pgload.h"
#include "pgpool.h"
#include "store.h"
#include "xmalloc.h"

/* How often the polls run, and the rows each reads at most. */
#define SCHED_POLL_MS		1000
#define SCHED_POLL_ROWS		64
/* How often a node ends the holds of the accounts it runs (seconds). */
#define SCHED_EXPIRE_S		60

/* Queued rows of runs, for the accounts of $1, that came after $2. */
static const char poll_own_sql[] =
    "SELECT id, account, peer, hold_until IS NOT NULL,"
    " row_to_json(t)::text FROM outbox t WHERE state = 'queued'"
    " AND run_id IS NOT NULL AND account = ANY($1::text[])"
    " AND id > $2::bigint ORDER BY id LIMIT 64";
/* Those of the rows named that have ended. */
static const char poll_ends_sql[] =
    "SELECT 'outbox', row_to_json(t)::text FROM outbox t"
    " WHERE id = ANY($1::bigint[]) AND state <> 'queued'";
static const char poll_who_sql[] =
    "SELECT node FROM leases WHERE account = $1 AND expires > now()";

_Static_assert(SCHED_POLL_ROWS == 64, "poll_own_sql's LIMIT");

static struct {
	int		 held;		/* the lease is ours */
	int		 loaded;	/* ... and its rows are here: runs */
	uint64_t	 gen;		/* of the load under way */
	struct event	*tick;
	int		 own_asked;	/* each poll: one at a time */
	int		 ends_asked;
	int		 who_asked;
	int64_t		 own_after;	/* where each poll goes on */
	int64_t		 ends_after;
	char		 who[LEASE_NODE_MAX + 1];	/* "": not known */
	int64_t		 expired_at;	/* sup_now() of the last hold pass */
} hs;

const char *
hub_pg_sched_owner(const struct store_change *c)
{
	unsigned i;

	if (strcmp(c->table, "schedules") == 0 ||
	    strcmp(c->table, "schedule_runs") == 0 ||
	    strcmp(c->table, "run_targets") == 0)
		return SCHED_LEASE;
	if (c->account != NULL && strncmp(c->account, SCHED_ACCOUNT,
	    strlen(SCHED_ACCOUNT)) == 0)
		return SCHED_LEASE;
	/* A run's new row, for whichever account: the run's own write,
	 * so that it ships though another node runs the account; what
	 * that node does with it later ships under the account's. */
	if (c->op == STORE_OP_INSERT && strcmp(c->table, "outbox") == 0)
		for (i = 0; i < c->ncol; i++)
			if (strcmp(c->col[i], "run_id") == 0 &&
			    c->val[i].kind == STORE_V_INT)
				return SCHED_LEASE;
	return c->account;
}

const char *
hub_pg_sched_state(void)
{
	return hs.loaded ? "running" : "loading";
}

int
hub_pg_sched_here(char *err, size_t errlen)
{
	if (hs.loaded)
		return 1;
	if (err == NULL)
		return 0;
	if (hs.held)
		snprintf(err, errlen, "this node has just taken the "
		    "schedules and is loading them: try again");
	else if (hs.who[0] != '\0')
		snprintf(err, errlen, "schedules run on node %s of the "
		    "cluster: ask there", hs.who);
	else
		snprintf(err, errlen, "schedules run on another node of the "
		    "cluster (wxgatectl cluster: lease %s): ask there",
		    SCHED_LEASE);
	return 0;
}

/* Each agent's prompts, asked by the node that ran them before. */
static void
sched_agents(int requeue)
{
	const struct config *c = sup->conf;
	char account[IPC_NAME_MAX + 1];
	unsigned i;

	for (i = 0; i < c->agents_count; i++) {
		snprintf(account, sizeof(account), "%s%s", SCHED_ACCOUNT,
		    c->agents[i].name);
		if (requeue)
			store_msg_requeue_account(sup->store, account);
		else
			agentq_backlog(agentq_find(c->agents[i].name));
	}
}

/* The loaded rows are committed: the timer may run. */
static void
sched_committed(struct durable *d, int ok)
{
	if (!hs.held || hs.gen != (uint64_t)d->id)
		return;		/* lost meanwhile */
	if (!ok) {
		leases_lost(hub_pg_leases(), SCHED_LEASE, "its rows did not "
		    "commit here");
		return;
	}
	log_info("cluster: schedules run on this node");
	hs.loaded = 1;
	schedule_init();
	sched_agents(0);
}

static void
sched_loaded(int64_t rows, void *arg)
{
	struct durable *d;

	if (!hs.held || hs.gen != (uint64_t)(uintptr_t)arg)
		return;
	if (rows < 0) {
		leases_lost(hub_pg_leases(), SCHED_LEASE, "its rows could "
		    "not be read");
		return;
	}
	log_debug("cluster: schedules: %" PRId64 " rows loaded", rows);
	sched_agents(1);
	d = durable_after(sched_committed);
	d->id = (int64_t)hs.gen;
	sup_turn();
}

static void
held_add(const char *account, void *arg)
{
	FILE *f = arg;

	/* Names are config names: no quote or backslash to escape. */
	fprintf(f, "%s\"%s\"", ftell(f) > 1 ? "," : "", account);
}

/* The accounts this node runs, as an array literal ("{}": none). */
static char *
held_array(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if ((f = open_memstream(&buf, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	fputc('{', f);
	hub_pg_each_held(held_add, f);
	fputc('}', f);
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	return buf;
}

void
hub_pg_sched_lease(enum lease_ev ev)
{
	char *held;
	int rv;

	switch (ev) {
	case LEASE_HELD:
		hs.held = 1;
		hs.loaded = 0;
		hs.gen++;
		/* What this node knew of them is stale: the truth comes. */
		held = held_array();
		rv = store_forget_schedules(sup->store) == -1 ||
		    pgload_schedules(hub_pg_pool(), sup->store, held,
		    sched_loaded, (void *)(uintptr_t)hs.gen) == -1;
		free(held);
		if (rv) {
			leases_lost(hub_pg_leases(), SCHED_LEASE, "its rows "
			    "could not be read");
			return;
		}
		sup_turn();
		break;
	case LEASE_LOST:
	case LEASE_GIVE:
		if (hs.loaded)
			log_info("cluster: schedules stop on this node");
		hs.held = 0;
		hs.loaded = 0;
		schedule_stop();
		break;
	}
}

/* Rows of runs for accounts this node runs. */

/* A run's row from another node: is the peer's context fresh? */
static int
sched_contact(const char *account, const char *peer)
{
	const struct cfg_channel *cc;
	const struct kind_caps *caps;
	int64_t when;

	if ((cc = config_channel(sup->conf, account)) == NULL ||
	    (caps = kinds_caps(cc->type)) == NULL ||
	    (caps->flags & KC_PROACTIVE))
		return 1;
	return store_peer_contact(sup->store, account, peer, &when) == 0 &&
	    when > sup_now() - CH_CONTEXT_S;
}

/*
 * Taken in as the scheduler queued it, then judged as channel.c's
 * channel_queue_run judges a target it runs: a peer in contact is
 * written to now (held or not), one out of it is held if the schedule
 * holds, or the row is undeliverable at once.
 */
static void
own_row(const PGresult *res, int i)
{
	const char *account = PQgetvalue(res, i, 1);
	const char *peer = PQgetvalue(res, i, 2);
	int64_t id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	int held = strcmp(PQgetvalue(res, i, 3), "t") == 0;

	if (!hub_pg_holds(account) || store_outbox_has(sup->store, id) != 0)
		return;
	if (pgload_row(sup->store, "outbox", PQgetvalue(res, i, 4)) == -1) {
		log_warnx("cluster: outbox row %" PRId64 " of a run does not "
		    "fit", id);
		return;
	}
	log_debug("cluster: %s: a run's row %" PRId64 " taken in", account,
	    id);
	if (sched_contact(account, peer)) {
		if (held)
			store_outbox_unhold(sup->store, account, peer,
			    sup_now());
	} else if (!held)
		store_outbox_finish(sup->store, account, id,
		    OUTBOX_UNDELIVERABLE, "no conversation context: the "
		    "platform lets a bot write only within 24 h of the "
		    "person's last message (hold_until_contact would wait "
		    "for the next)", sup_now());
}

static void
own_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	int i, n;

	(void)arg;
	if (st == PGP_CLOSED)
		return;
	hs.own_asked = 0;
	if (st != PGP_OK) {
		log_debug("cluster: runs' rows: %s%s%s", pgp_status_name(st),
		    err ? ": " : "", err ? err : "");
		return;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++)
		own_row(res, i);
	/* A full page: the next goes on from here; else from the start. */
	hs.own_after = n == SCHED_POLL_ROWS ?
	    strtoll(PQgetvalue(res, n - 1, 0), NULL, 10) : 0;
	if (n > 0) {
		sup_turn();
		channel_kick_all();
	}
}

static void
poll_own(void)
{
	char after[24], *held;
	const char *params[2];
	struct pgp_q q = { 0, 2, params, poll_own_sql };

	if (hs.own_asked)
		return;
	held = held_array();
	snprintf(after, sizeof(after), "%" PRId64, hs.own_after);
	params[0] = held;
	params[1] = after;
	if (strcmp(held, "{}") != 0 && pgpool_batch(hub_pg_pool(), &q, 1,
	    own_done, NULL) == 0)
		hs.own_asked = 1;
	free(held);
}

/* Ends of the rows of runs that other nodes deliver (the scheduler). */

static void
ends_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	int i;

	(void)arg;
	if (st == PGP_CLOSED)
		return;
	hs.ends_asked = 0;
	if (st != PGP_OK) {
		log_debug("cluster: runs' ends: %s%s%s", pgp_status_name(st),
		    err ? ": " : "", err ? err : "");
		return;
	}
	if (!hs.loaded)
		return;
	for (i = 0; i < PQntuples(res); i++)
		if (pgload_row(sup->store, PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1)) == -1)
			log_warnx("cluster: a run's row does not fit");
	if (PQntuples(res) > 0) {
		store_run_settle(sup->store);
		sup_turn();
	}
}

struct ends {
	FILE	*f;
	unsigned n;
	int64_t	 last;
};

static void
ends_add(int64_t id, const char *account, const char *peer, void *arg)
{
	struct ends *e = arg;

	(void)peer;
	e->last = id;
	if (hub_pg_holds(account))
		return;		/* delivered here: settled here */
	fprintf(e->f, "%s%" PRId64, e->n++ ? "," : "", id);
}

static void
poll_ends(void)
{
	struct ends e = { NULL, 0, 0 };
	char *ids = NULL;
	size_t len = 0;
	const char *params[1];
	struct pgp_q q = { 0, 1, params, poll_ends_sql };
	int n;

	if (hs.ends_asked || !hs.loaded)
		return;
	if ((e.f = open_memstream(&ids, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	fputc('{', e.f);
	n = store_run_rows_queued(sup->store, hs.ends_after, SCHED_POLL_ROWS,
	    ends_add, &e);
	fputc('}', e.f);
	if (fclose(e.f) != 0)
		fatal("%s: fclose", __func__);
	hs.ends_after = n == SCHED_POLL_ROWS ? e.last : 0;
	params[0] = ids;
	if (e.n > 0 && pgpool_batch(hub_pg_pool(), &q, 1, ends_done,
	    NULL) == 0)
		hs.ends_asked = 1;
	free(ids);
}

/* Who runs schedules, for the refusal's words. */
static void
who_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	(void)err;
	(void)arg;
	if (st == PGP_CLOSED)
		return;
	hs.who_asked = 0;
	if (st != PGP_OK)
		return;
	snprintf(hs.who, sizeof(hs.who), "%s", PQntuples(res) == 1 ?
	    PQgetvalue(res, 0, 0) : "");
}

static void
poll_who(void)
{
	const char *params[1] = { SCHED_LEASE };
	struct pgp_q q = { 0, 1, params, poll_who_sql };

	if (hs.who_asked || hs.held)
		return;
	if (pgpool_batch(hub_pg_pool(), &q, 1, who_done, NULL) == 0)
		hs.who_asked = 1;
}

static void
sched_tick(evutil_socket_t fd, short ev, void *arg)
{
	int64_t now;

	(void)fd;
	(void)ev;
	(void)arg;
	/* While the store is behind, polls would only add to its queue. */
	if (hub_pg_full())
		return;
	/* The scheduler's sweep ends the holds of what it runs; here, of
	 * the accounts this node runs, whose rows only it has.  The ends
	 * ship, and the scheduler reads them back (poll_ends).  Holds are
	 * hours long: a pass a minute, as the sweep's, or at once when the
	 * wall clock jumped. */
	now = sup_now();
	if (!hs.held && (now - hs.expired_at >= SCHED_EXPIRE_S ||
	    now < hs.expired_at)) {
		hs.expired_at = now;
		if (schedule_expire_held(now))
			sup_turn();
	}
	poll_own();
	poll_ends();
	poll_who();
}

void
hub_pg_sched_start(void)
{
	struct timeval tv = clock_tv(SCHED_POLL_MS);

	if (leases_want(hub_pg_leases(), SCHED_LEASE, NULL) == -1)
		fatalx("cluster: too many accounts");
	if ((hs.tick = event_new(sup->base, -1, EV_PERSIST, sched_tick,
	    NULL)) == NULL || event_add(hs.tick, &tv) == -1)
		fatalx("%s: timer", __func__);
}
