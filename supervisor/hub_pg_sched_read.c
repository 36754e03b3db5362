/*
 * The cluster's schedules read from PostgreSQL for the operators of a
 * node that does not run them (wxgate-hub-pg only): that node's working
 * set holds none (hub_pg_sched.c), so the console's schedules page asks
 * the truth instead, and its sealed texts too long for the list; so do
 * wxgatectl schedule list, show and history there.  One statement gives the definitions and their newest runs
 * with their targets, in store_sched_list's and store_run_recent's
 * order (or store_run_history's), and each row goes through the
 * caller's callbacks as those calls would give it, so that every node
 * answers alike.  Reads only.
 *
 * Bounded in size by the caller's limits (definitions, runs each, free
 * text cut in the query) and READ_ASKED_MAX reads at once; in time by
 * the caller's deadline, shorter than the pool's (SHIP_DEADLINE_MS,
 * 10 s), which is longer than the console worker waits for the hub.
 * Past it the caller hears no; the pool still answers once, later, and
 * that answer is dropped.  A read timed out still counts until then, so
 * a database that hangs is not asked more and more.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "hub.h"
#include "hub_pg_int.h"
#include "log.h"
#include "pgpool.h"
#include "store.h"
#include "xmalloc.h"

/* Reads waiting for the database, the timed out among them. */
#define READ_ASKED_MAX		8

/*
 * Definitions (kind 0), then runs each with its targets, a row a
 * target (kind 1), all as text; s and r are the mode's.  $1 definitions
 * at most, $2 runs (each, or in all), $3 characters of free text kept,
 * $4 of a sealed schedule's prompt or answer, $5 a name (NULL: all).
 */
#define READ_ROWS \
    " SELECT 0, s.name COLLATE \"C\", s.id::text, s.cron, s.every, s.tz," \
    " s.agent, left(s.body, CASE WHEN s.sealed <> 0 THEN $4::int" \
    " ELSE $3::int END), left(s.targets, $3::int), s.paused::text," \
    " s.from_config::text, coalesce(s.next_run, 0)::text, s.owner," \
    " s.sealed::text, coalesce(l.slot, 0)::text, l.state, s.hold::text," \
    " (s.catch_up = 'none')::int::text, NULL::bigint, NULL::bigint" \
    " FROM s LEFT JOIN schedule_runs l ON l.id =" \
    " (SELECT max(id) FROM schedule_runs WHERE schedule_id = s.id)" \
    " UNION ALL SELECT 1, r.name, r.id::text, r.slot::text," \
    " r.manual::text, r.started::text, coalesce(r.agent_done, 0)::text," \
    " r.state, left(coalesce(r.error, ''), $3::int)," \
    " CASE WHEN r.sealed <> 0 THEN left(m.reply, $4::int) END," \
    " t.account, t.peer, t.state, left(coalesce(t.detail, ''), $3::int)," \
    " NULL, NULL, NULL, NULL, r.id, t.seq" \
    " FROM r LEFT JOIN messages m ON r.sealed <> 0 AND m.id = r.msg_id" \
    " LEFT JOIN run_targets t ON t.run_id = r.id"
#define READ_RUN_COLS \
    " x.id, x.name, x.slot, x.manual, x.started, x.agent_done, x.state," \
    " x.error, x.msg_id"

static const char *const read_sql[] = {
	/*
	 * store_sched_list's, by name ("C": SQLite's byte order), each
	 * with its newest runs (store_run_recent).
	 */
	[HUB_SCHED_PAGE] =
	    "WITH s AS (SELECT * FROM schedules WHERE $5::text IS NULL"
	    " OR name = $5 ORDER BY name COLLATE \"C\" LIMIT $1::int),"
	    " r AS (SELECT" READ_RUN_COLS ", s.sealed, row_number() OVER"
	    " (PARTITION BY x.name ORDER BY x.id DESC) AS k"
	    " FROM schedule_runs x JOIN s ON s.name = x.name)"
	    READ_ROWS " WHERE r.k <= $2::int ORDER BY 1, 2, 19, 20",
	/*
	 * store_run_history's: the newest runs of one or all, a removed
	 * schedule's too (runs are kept by name), oldest first; and the
	 * definition named, which says the name is known.
	 */
	[HUB_SCHED_HISTORY] =
	    "WITH s AS (SELECT * FROM schedules WHERE name = $5 LIMIT $1::int),"
	    " r AS (SELECT" READ_RUN_COLS ", 0 AS sealed FROM schedule_runs x"
	    " WHERE $5::text IS NULL OR x.name = $5 ORDER BY x.id DESC"
	    " LIMIT $2::int)" READ_ROWS " ORDER BY 1, 19, 20",
	/*
	 * store_sched_get_id's and store_run_reply's for the console's
	 * sealed texts: the schedule, if sealed, and the one run of it
	 * asked ($2, 0: none); $5 is the schedule's id.
	 */
	[HUB_SCHED_SEALED] =
	    "WITH s AS (SELECT * FROM schedules WHERE id = $5::bigint"
	    " AND sealed <> 0 LIMIT $1::int),"
	    " r AS (SELECT" READ_RUN_COLS ", s.sealed FROM schedule_runs x"
	    " JOIN s ON x.schedule_id = s.id WHERE x.id = $2::bigint)"
	    READ_ROWS " ORDER BY 1, 19, 20",
};

struct read_ask {
	struct hub_sched_read	 r;
	struct event		*late;
	int			 answered;
};

static unsigned nasked;

static char *
read_opt(const PGresult *res, int i, int col)
{
	return PQgetisnull(res, i, col) ? NULL : PQgetvalue(res, i, col);
}

static int64_t
read_int(const PGresult *res, int i, int col)
{
	return strtoll(PQgetvalue(res, i, col), NULL, 10);
}

static void
read_def(const struct hub_sched_read *r, const PGresult *res, int i)
{
	struct store_sched sc;

	memset(&sc, 0, sizeof(sc));
	sc.name = PQgetvalue(res, i, 1);
	sc.id = read_int(res, i, 2);
	sc.cron = read_opt(res, i, 3);
	sc.every = read_opt(res, i, 4);
	sc.tz = PQgetvalue(res, i, 5);
	sc.agent = read_opt(res, i, 6);
	sc.body = PQgetvalue(res, i, 7);
	sc.targets = PQgetvalue(res, i, 8);
	sc.paused = read_int(res, i, 9) != 0;
	sc.from_config = read_int(res, i, 10) != 0;
	sc.next_run = read_int(res, i, 11);
	sc.owner = read_opt(res, i, 12);
	sc.sealed = read_int(res, i, 13) != 0;
	sc.last_run = read_int(res, i, 14);
	sc.last_state = read_opt(res, i, 15);
	sc.hold = read_int(res, i, 16);
	sc.catch_up_none = read_int(res, i, 17) != 0;
	r->def(&sc, r->arg);
}

/* A run's rows, one a target (none: one row, its target NULL). */
static void
read_run(const struct hub_sched_read *r, const PGresult *res, int i,
    int64_t *last)
{
	struct store_run_row run;
	struct store_run_target_row t;

	if ((run.id = read_int(res, i, 2)) != *last) {
		*last = run.id;
		run.name = PQgetvalue(res, i, 1);
		run.slot = read_int(res, i, 3);
		run.manual = read_int(res, i, 4) != 0;
		run.started = read_int(res, i, 5);
		run.agent_done = read_int(res, i, 6);
		run.state = PQgetvalue(res, i, 7);
		run.error = PQgetvalue(res, i, 8);
		run.reply = read_opt(res, i, 9);
		r->run(&run, r->arg);
	}
	if (PQgetisnull(res, i, 10) || r->target == NULL)
		return;
	t.run = run.id;
	t.account = PQgetvalue(res, i, 10);
	t.peer = PQgetvalue(res, i, 11);
	t.state = PQgetvalue(res, i, 12);
	t.detail = PQgetvalue(res, i, 13);
	r->target(&t, r->arg);
}

static void
read_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct read_ask *a = arg;
	int64_t last = 0;
	int i;

	nasked--;
	if (!a->answered) {
		evtimer_del(a->late);
		if (st != PGP_OK) {
			log_warnx("cluster: the schedules' read: %s%s%s",
			    pgp_status_name(st), err ? ": " : "",
			    err ? err : "");
			a->r.done(st == PGP_ERROR ? "the cluster's store "
			    "refused the read" : "the cluster's store does "
			    "not answer", a->r.arg);
		} else {
			for (i = 0; i < PQntuples(res); i++) {
				if (atoi(PQgetvalue(res, i, 0)) == 0)
					read_def(&a->r, res, i);
				else
					read_run(&a->r, res, i, &last);
			}
			a->r.done(NULL, a->r.arg);
		}
	}
	event_free(a->late);
	free(a);
}

static void
read_late(evutil_socket_t fd, short ev, void *arg)
{
	struct read_ask *a = arg;

	(void)fd;
	(void)ev;
	log_warnx("cluster: the schedules' read has no answer after %u ms",
	    a->r.deadline_ms);
	a->answered = 1;
	a->r.done("the cluster's store does not answer", a->r.arg);
}

int
hub_pg_sched_read(const struct hub_sched_read *r)
{
	struct timeval tv = clock_tv(r->deadline_ms);
	struct read_ask *a;
	char p[5][24];
	const char *params[5] = { p[0], p[1], p[2], p[3], r->name };
	struct pgp_q q = { 0, 5, params, read_sql[r->by] };

	if (nasked >= READ_ASKED_MAX)
		return -1;
	/* A character more than the caller keeps: it sees there is more. */
	snprintf(p[0], sizeof(p[0]), "%u", r->nsched);
	snprintf(p[1], sizeof(p[1]), "%u", r->per);
	snprintf(p[2], sizeof(p[2]), "%u", r->cut + 1);
	snprintf(p[3], sizeof(p[3]), "%u", r->whole + 1);
	if (r->by == HUB_SCHED_SEALED) {
		snprintf(p[1], sizeof(p[1]), "%lld", (long long)r->run_id);
		snprintf(p[4], sizeof(p[4]), "%lld", (long long)r->id);
		params[4] = p[4];
	}
	a = xcalloc(1, sizeof(*a));
	a->r = *r;
	a->r.name = NULL;	/* the caller's: the pool copied it */
	if ((a->late = evtimer_new(sup->base, read_late, a)) == NULL ||
	    evtimer_add(a->late, &tv) == -1)
		fatalx("%s: evtimer", __func__);
	if (pgpool_batch(hub_pg_pool(), &q, 1, read_done, a) == -1) {
		event_free(a->late);
		free(a);
		return -1;
	}
	nasked++;
	return 0;
}
