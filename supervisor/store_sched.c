/*
 * The store's schedules (issue #15): definitions, their runs and each
 * run's targets, and the outbox rows a run queues.  Same rules as
 * store.c: every write joins the loop turn's transaction (store_touch),
 * statements are fixed SQL with bound parameters.
 *
 * A run row is the run's lock (store_migrate.c, version 5): the hub
 * writes it in the turn that queues the run's work, so after a crash a
 * slot has either run, with its work queued, or not at all.  A target's
 * delivery state is its outbox rows' (store_run_settle), kept on the
 * target row so that history outlives the outbox's pruning.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

enum {
	SS_ADD = STORE_LAZY_SCHED,
	SS_REDEFINE,
	SS_GET,
	SS_LIST,
	SS_PAUSE,
	SS_REMOVE,
	SS_CONFIG_NAMES,
	SS_DUE,
	SS_SOONEST,
	SS_MOVE,
	SS_RUN_ADD,
	SS_RUN_PROMPT,
	SS_RUN_OF_MSG,
	SS_RUN_END,
	SS_RUNNING,
	SS_TARGET_ADD,
	SS_SETTLE,
	SS_RUN_PRUNE,
	SS_HISTORY,
	SS_HISTORY_TARGETS,
	SS_OUTBOX_ADD,
	SS_UNHOLD,
	SS_EXPIRE_HELD,
	SS_CONTACT,
	SS_STATES,
	SS_GET_ID,
	SS_RECENT,
};

#define SCHED_COLS \
	"s.id, s.name, s.cron, s.every, s.tz, s.agent, s.body, s.targets," \
	" s.hold, s.catch_up = 'none', s.paused, s.from_config, s.last_slot," \
	" coalesce(s.next_run, 0), s.created, s.owner, s.sealed"

static const char *const ss_sql[] = {
	[SS_ADD - STORE_LAZY_SCHED] =
	    "INSERT INTO schedules (id, name, cron, every, tz, agent, body,"
	    " targets, hold, catch_up, paused, from_config, last_slot,"
	    " next_run, created, owner, sealed) VALUES (wx_id(), ?1, ?2, ?3,"
	    " ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
	    " ON CONFLICT (name) DO NOTHING",
	/* A reload: the definition changes, the position it reached not. */
	[SS_REDEFINE - STORE_LAZY_SCHED] =
	    "UPDATE schedules SET cron = ?2, every = ?3, tz = ?4, agent = ?5,"
	    " body = ?6, targets = ?7, hold = ?8, catch_up = ?9,"
	    " next_run = ?10 WHERE name = ?1",
	[SS_GET - STORE_LAZY_SCHED] =
	    "SELECT " SCHED_COLS " FROM schedules s WHERE s.name = ?1",
	[SS_LIST - STORE_LAZY_SCHED] =
	    "SELECT " SCHED_COLS ", coalesce(r.slot, 0), r.state"
	    " FROM schedules s LEFT JOIN schedule_runs r ON r.id ="
	    " (SELECT max(id) FROM schedule_runs WHERE schedule_id = s.id)"
	    " WHERE ?1 IS NULL OR s.name = ?1 ORDER BY s.name",
	[SS_PAUSE - STORE_LAZY_SCHED] =
	    "UPDATE schedules SET paused = ?2 WHERE name = ?1",
	[SS_REMOVE - STORE_LAZY_SCHED] =
	    "DELETE FROM schedules WHERE name = ?1",
	[SS_CONFIG_NAMES - STORE_LAZY_SCHED] =
	    "SELECT name FROM schedules WHERE from_config",
	[SS_DUE - STORE_LAZY_SCHED] =
	    "SELECT " SCHED_COLS " FROM schedules s WHERE s.paused = 0"
	    " AND s.next_run IS NOT NULL AND s.next_run <= ?1"
	    " ORDER BY s.next_run LIMIT ?2",
	[SS_SOONEST - STORE_LAZY_SCHED] =
	    "SELECT min(next_run) FROM schedules WHERE paused = 0"
	    " AND next_run IS NOT NULL",
	[SS_MOVE - STORE_LAZY_SCHED] =
	    "UPDATE schedules SET last_slot = ?2, next_run = ?3 WHERE id = ?1",
	/* A timed slot that has a row already is a slot that ran. */
	[SS_RUN_ADD - STORE_LAZY_SCHED] =
	    "INSERT INTO schedule_runs (id, schedule_id, name, slot, manual,"
	    " started, state) VALUES (wx_id(), ?1, ?2, ?3, ?4, ?5, 'running')"
	    " ON CONFLICT DO NOTHING",
	[SS_RUN_PROMPT - STORE_LAZY_SCHED] =
	    "UPDATE schedule_runs SET msg_id = ?2 WHERE id = ?1",
	[SS_RUN_OF_MSG - STORE_LAZY_SCHED] =
	    "SELECT id, name FROM schedule_runs WHERE msg_id = ?1"
	    " AND state = 'running'",
	[SS_RUN_END - STORE_LAZY_SCHED] =
	    "UPDATE schedule_runs SET state = ?2, error = ?3, agent_done = ?4,"
	    " finished = ?5 WHERE id = ?1 AND state = 'running'",
	[SS_RUNNING - STORE_LAZY_SCHED] =
	    "SELECT count(*) FROM schedule_runs WHERE state = 'running'",
	[SS_TARGET_ADD - STORE_LAZY_SCHED] =
	    "INSERT INTO run_targets (run_id, seq, account, peer, state,"
	    " detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	/*
	 * A queued target whose rows have all ended takes the worst of
	 * their states (failed, then undeliverable) and the first why.
	 */
	[SS_SETTLE - STORE_LAZY_SCHED] =
	    "UPDATE run_targets AS t SET state = x.st, detail = x.why FROM"
	    " (SELECT run_id, account, peer,"
	    "  CASE WHEN sum(state = 'failed') > 0 THEN 'failed'"
	    "  WHEN sum(state = 'undeliverable') > 0 THEN 'undeliverable'"
	    "  ELSE 'sent' END AS st, min(detail) AS why FROM outbox"
	    "  WHERE run_id IN (SELECT run_id FROM run_targets"
	    "  WHERE state = 'queued') GROUP BY run_id, account, peer"
	    "  HAVING sum(state = 'queued') = 0) AS x"
	    " WHERE t.state = 'queued' AND t.run_id = x.run_id"
	    " AND t.account = x.account AND t.peer = x.peer",
	[SS_RUN_PRUNE - STORE_LAZY_SCHED] =
	    "DELETE FROM schedule_runs WHERE state <> 'running' AND"
	    " (finished < ?1 OR id < (SELECT min(id) FROM (SELECT id FROM"
	    " schedule_runs ORDER BY id DESC LIMIT ?2)))",
	/* The newest ?2, shown oldest first. */
	[SS_HISTORY - STORE_LAZY_SCHED] =
	    "SELECT id, name, slot, manual, started, coalesce(agent_done, 0),"
	    " state, coalesce(error, '') FROM (SELECT * FROM schedule_runs"
	    " WHERE ?1 IS NULL OR name = ?1 ORDER BY id DESC LIMIT ?2)"
	    " ORDER BY id",
	[SS_HISTORY_TARGETS - STORE_LAZY_SCHED] =
	    "SELECT account, peer, state, coalesce(detail, '')"
	    " FROM run_targets WHERE run_id = ?1 ORDER BY seq",
	[SS_OUTBOX_ADD - STORE_LAZY_SCHED] =
	    "INSERT INTO outbox (id, account, peer, msg_id, seq, body,"
	    " reply_ctx, created, next_try, run_id, hold_until) VALUES"
	    " (wx_id(), ?1, ?2, NULL, ?3, ?4, '', ?5, ?5, ?6, ?7)",
	[SS_UNHOLD - STORE_LAZY_SCHED] =
	    "UPDATE outbox SET hold_until = NULL, next_try = ?3"
	    " WHERE account = ?1 AND peer = ?2 AND hold_until IS NOT NULL"
	    " AND state = 'queued'",
	[SS_EXPIRE_HELD - STORE_LAZY_SCHED] =
	    "UPDATE outbox SET state = 'undeliverable', detail = ?2,"
	    " finished = ?1, hold_until = NULL WHERE account = ?3"
	    " AND hold_until <= ?1 AND state = 'queued'",
	[SS_CONTACT - STORE_LAZY_SCHED] =
	    "SELECT created FROM messages WHERE account = ?1 AND sender = ?2"
	    " AND reply_ctx <> '' ORDER BY id DESC LIMIT 1",
	[SS_STATES - STORE_LAZY_SCHED] =
	    "SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state",
	[SS_GET_ID - STORE_LAZY_SCHED] =
	    "SELECT " SCHED_COLS " FROM schedules s WHERE s.id = ?1",
	/*
	 * The newest ?2 runs of each of the first ?1 schedules by name (as
	 * SS_LIST orders them), by name as SS_HISTORY finds them; a run
	 * once per target (or once, with NULLs, without); a sealed
	 * schedule's run with its answer.  Oldest first within a name.
	 */
	[SS_RECENT - STORE_LAZY_SCHED] =
	    "WITH s AS (SELECT name, sealed FROM schedules ORDER BY name"
	    "  LIMIT ?1),"
	    " r AS (SELECT x.id, x.name, x.slot, x.manual, x.started,"
	    "  x.agent_done, x.state, x.error, x.msg_id, s.sealed,"
	    "  row_number() OVER (PARTITION BY x.name ORDER BY x.id DESC)"
	    "  AS k FROM schedule_runs x JOIN s ON s.name = x.name)"
	    " SELECT r.id, r.name, r.slot, r.manual, r.started,"
	    " coalesce(r.agent_done, 0), r.state, coalesce(r.error, ''),"
	    " m.reply, t.account, t.peer, t.state, coalesce(t.detail, '')"
	    " FROM r LEFT JOIN messages m ON r.sealed AND m.id = r.msg_id"
	    " LEFT JOIN run_targets t ON t.run_id = r.id WHERE r.k <= ?2"
	    " ORDER BY r.name, r.id, t.seq",
};

static int	ss_write(struct store *, sqlite3_stmt *, int, const char *);
static int	ss_by_name(struct store *, sqlite3_stmt *, int, const char *);

_Static_assert(sizeof(ss_sql) / sizeof(ss_sql[0]) <= STORE_LAZY_ATTACH -
    STORE_LAZY_SCHED, "store_sched.c outgrew its lazy slots");

static sqlite3_stmt *
ss_stmt(struct store *s, int which)
{
	return store_lazy(s, which, ss_sql[which - STORE_LAZY_SCHED]);
}

/* SCHED_COLS of the row st is on, copied. */
static void
ss_read(sqlite3_stmt *st, struct store_sched *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->id = sqlite3_column_int64(st, 0);
	sc->name = store_column_dup(st, 1);
	if (sqlite3_column_type(st, 2) != SQLITE_NULL)
		sc->cron = store_column_dup(st, 2);
	if (sqlite3_column_type(st, 3) != SQLITE_NULL)
		sc->every = store_column_dup(st, 3);
	sc->tz = store_column_dup(st, 4);
	if (sqlite3_column_type(st, 5) != SQLITE_NULL)
		sc->agent = store_column_dup(st, 5);
	sc->body = store_column_dup(st, 6);
	sc->targets = store_column_dup(st, 7);
	sc->hold = sqlite3_column_int64(st, 8);
	sc->catch_up_none = sqlite3_column_int(st, 9);
	sc->paused = sqlite3_column_int(st, 10);
	sc->from_config = sqlite3_column_int(st, 11);
	sc->last_slot = sqlite3_column_int64(st, 12);
	sc->next_run = sqlite3_column_int64(st, 13);
	sc->created = sqlite3_column_int64(st, 14);
	if (sqlite3_column_type(st, 15) != SQLITE_NULL)
		sc->owner = store_column_dup(st, 15);
	sc->sealed = sqlite3_column_int(st, 16);
}

void
store_sched_free(struct store_sched *sc)
{
	free(sc->name);
	free(sc->cron);
	free(sc->every);
	free(sc->tz);
	free(sc->agent);
	free(sc->body);
	free(sc->targets);
	free(sc->last_state);
	free(sc->owner);
	memset(sc, 0, sizeof(*sc));
}

int
store_sched_add(struct store *s, const struct store_sched *sc, int64_t *id)
{
	if (store_write(s, ss_stmt(s, SS_ADD), __func__, "tttttttitiiioiti",
	    sc->name, sc->cron, sc->every, sc->tz, sc->agent, sc->body,
	    sc->targets, sc->hold, sc->catch_up_none ? "none" : "latest",
	    (int64_t)sc->paused, (int64_t)sc->from_config, sc->last_slot,
	    sc->next_run, sc->created, sc->owner,
	    (int64_t)(sc->sealed != 0)) == -1)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return 1;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_sched_redefine(struct store *s, const struct store_sched *sc)
{
	sqlite3_stmt *st = ss_stmt(s, SS_REDEFINE);

	return ss_by_name(s, st, store_bindv(st, "tttttttito", sc->name,
	    sc->cron, sc->every, sc->tz, sc->agent, sc->body, sc->targets,
	    sc->hold, sc->catch_up_none ? "none" : "latest", sc->next_run),
	    __func__);
}

int
store_sched_get(struct store *s, const char *name, struct store_sched *sc)
{
	sqlite3_stmt *st = ss_stmt(s, SS_GET);
	int rv;

	if ((rv = store_row(s, st, store_bindv(st, "t", name),
	    __func__)) != 0)
		return rv;
	ss_read(st, sc);
	store_done(st);
	return 0;
}

int
store_sched_get_id(struct store *s, int64_t id, struct store_sched *sc)
{
	sqlite3_stmt *st = ss_stmt(s, SS_GET_ID);
	int rv;

	if ((rv = store_row(s, st, store_bindv(st, "i", id), __func__)) != 0)
		return rv;
	ss_read(st, sc);
	store_done(st);
	return 0;
}

/* Rows of st (bound), copied first: fn may write to the store. */
static int
ss_each(struct store *s, sqlite3_stmt *st, int bound, int with_last,
    store_sched_fn fn, void *arg, const char *func)
{
	struct store_sched *v = NULL;
	size_t n = 0, cap = 0, i;
	int rc;

	if (bound != SQLITE_OK) {
		store_done(st);
		return store_err(s, func);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		ss_read(st, &v[n]);
		if (with_last) {
			v[n].last_run = sqlite3_column_int64(st, 17);
			if (sqlite3_column_type(st, 18) != SQLITE_NULL)
				v[n].last_state = store_column_dup(st, 18);
		}
		n++;
	}
	store_done(st);
	for (i = 0; i < n && rc == SQLITE_DONE; i++)
		fn(&v[i], arg);
	for (i = 0; i < n; i++)
		store_sched_free(&v[i]);
	free(v);
	return rc == SQLITE_DONE ? (int)n : store_err(s, func);
}

int
store_sched_list(struct store *s, const char *name, store_sched_fn fn,
    void *arg)
{
	sqlite3_stmt *st = ss_stmt(s, SS_LIST);

	return ss_each(s, st, store_bindv(st, "t", name), 1, fn, arg,
	    __func__);
}

int
store_sched_due(struct store *s, int64_t now, unsigned limit,
    store_sched_fn fn, void *arg)
{
	sqlite3_stmt *st = ss_stmt(s, SS_DUE);

	return ss_each(s, st, store_bindv(st, "ii", now, (int64_t)limit), 0,
	    fn, arg, __func__);
}

/* A bound write in the turn's transaction: rows it changed, or -1. */
static int
ss_write(struct store *s, sqlite3_stmt *st, int bound, const char *func)
{
	store_touch(s);
	if (store_exec(s, st, bound, func) == -1)
		return -1;
	return sqlite3_changes(s->db);
}

/* A write by name: 0 done, 1 no such schedule, -1 error. */
static int
ss_by_name(struct store *s, sqlite3_stmt *st, int bound, const char *func)
{
	int n = ss_write(s, st, bound, func);

	return n == -1 ? -1 : n == 0;
}

int
store_sched_pause(struct store *s, const char *name, int paused)
{
	sqlite3_stmt *st = ss_stmt(s, SS_PAUSE);

	return ss_by_name(s, st, store_bindv(st, "ti", name,
	    (int64_t)(paused != 0)), __func__);
}

int
store_sched_remove(struct store *s, const char *name)
{
	sqlite3_stmt *st = ss_stmt(s, SS_REMOVE);

	return ss_by_name(s, st, store_bindv(st, "t", name), __func__);
}

int
store_sched_forget(struct store *s, char *const *names, size_t n)
{
	sqlite3_stmt *st = ss_stmt(s, SS_CONFIG_NAMES);
	char **gone = NULL;
	size_t ngone = 0, cap = 0, i, j;
	int rc, rv = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		for (j = 0; j < n; j++)
			if (strcmp(names[j], name) == 0)
				break;
		if (j < n)
			continue;
		if (ngone == cap) {
			cap = cap ? cap * 2 : 8;
			gone = xreallocarray(gone, cap, sizeof(*gone));
		}
		gone[ngone++] = xstrdup(name);
	}
	store_done(st);
	if (rc != SQLITE_DONE)
		rv = store_err(s, __func__);
	for (i = 0; i < ngone; i++) {
		if (rv == 0 && store_sched_remove(s, gone[i]) == -1)
			rv = -1;
		free(gone[i]);
	}
	free(gone);
	return rv;
}

int
store_sched_soonest(struct store *s, int64_t *when)
{
	sqlite3_stmt *st = ss_stmt(s, SS_SOONEST);
	int rv;

	if ((rv = store_row(s, st, SQLITE_OK, __func__)) != 0)
		return rv;
	rv = sqlite3_column_type(st, 0) == SQLITE_NULL;
	*when = sqlite3_column_int64(st, 0);
	store_done(st);
	return rv;
}

int
store_sched_move(struct store *s, int64_t id, int64_t last_slot,
    int64_t next_run)
{
	return store_write(s, ss_stmt(s, SS_MOVE), __func__, "iio", id,
	    last_slot, next_run);
}

int
store_run_start(struct store *s, const struct store_sched *sc, int64_t slot,
    int manual, int64_t now, int64_t *run)
{
	if (store_write(s, ss_stmt(s, SS_RUN_ADD), __func__, "itiii", sc->id,
	    sc->name, slot, (int64_t)(manual != 0), now) == -1)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return 1;
	*run = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_run_prompt(struct store *s, int64_t run, int64_t msg_id)
{
	return store_write(s, ss_stmt(s, SS_RUN_PROMPT), __func__, "ii", run,
	    msg_id);
}

int
store_run_of_msg(struct store *s, int64_t msg_id, int64_t *run, char **name)
{
	sqlite3_stmt *st = ss_stmt(s, SS_RUN_OF_MSG);
	int rv;

	if ((rv = store_row(s, st, store_bindv(st, "i", msg_id),
	    __func__)) != 0)
		return rv;
	*run = sqlite3_column_int64(st, 0);
	*name = store_column_dup(st, 1);
	store_done(st);
	return 0;
}

int
store_run_end(struct store *s, int64_t run, const char *state,
    const char *error, int64_t agent_done, int64_t now)
{
	return store_write(s, ss_stmt(s, SS_RUN_END), __func__, "ittoi", run,
	    state, error, agent_done, now);
}

int
store_runs_running(struct store *s)
{
	sqlite3_stmt *st = ss_stmt(s, SS_RUNNING);
	int n;

	if (store_row(s, st, SQLITE_OK, __func__) != 0)
		return -1;
	n = sqlite3_column_int(st, 0);
	store_done(st);
	return n;
}

int
store_run_target(struct store *s, int64_t run, int seq, const char *account,
    const char *peer, const char *state, const char *detail)
{
	return store_write(s, ss_stmt(s, SS_TARGET_ADD), __func__, "iitttt",
	    run, (int64_t)seq, account, peer, state, detail);
}

int
store_run_settle(struct store *s)
{
	sqlite3_stmt *st;

	store_touch(s);
	st = ss_stmt(s, SS_SETTLE);
	return store_exec(s, st, SQLITE_OK, __func__);
}

int
store_run_prune(struct store *s, int64_t before, unsigned keep)
{
	return store_write(s, ss_stmt(s, SS_RUN_PRUNE), __func__, "ii", before,
	    (int64_t)keep);
}

struct ss_run {
	struct store_run_row	 r;
	char			*name;
	char			*state;
	char			*error;
};

int
store_run_history(struct store *s, const char *name, unsigned limit,
    store_run_fn fn, store_run_target_fn tfn, void *arg)
{
	struct store_run_target_row t;
	struct ss_run *v;
	sqlite3_stmt *st = ss_stmt(s, SS_HISTORY);
	size_t n = 0, i;
	int rc = SQLITE_DONE, rv = 0;

	v = xcalloc(limit > 0 ? limit : 1, sizeof(*v));
	if (store_bindv(st, "ti", name, (int64_t)limit) != SQLITE_OK) {
		store_done(st);
		free(v);
		return store_err(s, __func__);
	}
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		v[n].r.id = sqlite3_column_int64(st, 0);
		v[n].name = store_column_dup(st, 1);
		v[n].r.slot = sqlite3_column_int64(st, 2);
		v[n].r.manual = sqlite3_column_int(st, 3);
		v[n].r.started = sqlite3_column_int64(st, 4);
		v[n].r.agent_done = sqlite3_column_int64(st, 5);
		v[n].state = store_column_dup(st, 6);
		v[n].error = store_column_dup(st, 7);
		n++;
	}
	store_done(st);
	if (n < limit && rc != SQLITE_DONE)
		rv = -1;
	for (i = 0; i < n; i++) {
		v[i].r.name = v[i].name;
		v[i].r.state = v[i].state;
		v[i].r.error = v[i].error;
		if (rv == 0)
			fn(&v[i].r, arg);
		st = ss_stmt(s, SS_HISTORY_TARGETS);
		if (rv == 0 && store_bindv(st, "i", v[i].r.id) != SQLITE_OK)
			rv = -1;
		while (rv == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
			t.run = v[i].r.id;
			t.account = (const char *)sqlite3_column_text(st, 0);
			t.peer = (const char *)sqlite3_column_text(st, 1);
			t.state = (const char *)sqlite3_column_text(st, 2);
			t.detail = (const char *)sqlite3_column_text(st, 3);
			tfn(&t, arg);
		}
		if (rv == 0 && rc != SQLITE_DONE)
			rv = -1;
		store_done(st);
		free(v[i].name);
		free(v[i].state);
		free(v[i].error);
	}
	free(v);
	return rv == 0 ? (int)n : store_err(s, __func__);
}

/*
 * One statement for a page of schedules (the console's), where one
 * store_run_history per schedule, and one more per run for its targets,
 * was hundreds of queries every refresh.  The row's strings are
 * SQLite's, valid only in the callbacks, which must not use the store.
 */
int
store_run_recent(struct store *s, unsigned nsched, unsigned per,
    store_run_fn fn, store_run_target_fn tfn, void *arg)
{
	struct store_run_row r;
	struct store_run_target_row t;
	sqlite3_stmt *st = ss_stmt(s, SS_RECENT);
	int64_t last = 0;
	int rc;

	if (store_bindv(st, "ii", (int64_t)nsched, (int64_t)per) !=
	    SQLITE_OK)
		return store_rows_end(s, st, SQLITE_ERROR, __func__);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(st, 0);
		/* Run ids are > 0: the first row is always a new run. */
		if (r.id != last) {
			last = r.id;
			r.name = (const char *)sqlite3_column_text(st, 1);
			r.slot = sqlite3_column_int64(st, 2);
			r.manual = sqlite3_column_int(st, 3);
			r.started = sqlite3_column_int64(st, 4);
			r.agent_done = sqlite3_column_int64(st, 5);
			r.state = (const char *)sqlite3_column_text(st, 6);
			r.error = (const char *)sqlite3_column_text(st, 7);
			r.reply = (const char *)sqlite3_column_text(st, 8);
			fn(&r, arg);
		}
		if (sqlite3_column_type(st, 9) == SQLITE_NULL)
			continue;
		t.run = r.id;
		t.account = (const char *)sqlite3_column_text(st, 9);
		t.peer = (const char *)sqlite3_column_text(st, 10);
		t.state = (const char *)sqlite3_column_text(st, 11);
		t.detail = (const char *)sqlite3_column_text(st, 12);
		tfn(&t, arg);
	}
	return store_rows_end(s, st, rc, __func__);
}

int
store_outbox_add_run(struct store *s, const char *account, const char *peer,
    int seq, const char *body, int64_t run, int64_t hold_until, int64_t now,
    int64_t *id)
{
	if (store_write(s, ss_stmt(s, SS_OUTBOX_ADD), __func__, "ttitiio",
	    account, peer, (int64_t)seq, body, now, run, hold_until) == -1)
		return -1;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_outbox_unhold(struct store *s, const char *account, const char *peer,
    int64_t now)
{
	sqlite3_stmt *st = ss_stmt(s, SS_UNHOLD);

	return ss_write(s, st, store_bindv(st, "tti", account, peer, now),
	    __func__);
}

int
store_outbox_expire_held(struct store *s, const char *account, int64_t now,
    const char *detail)
{
	sqlite3_stmt *st = ss_stmt(s, SS_EXPIRE_HELD);

	return ss_write(s, st, store_bindv(st, "itt", now, detail, account),
	    __func__);
}

int
store_peer_contact(struct store *s, const char *account, const char *peer,
    int64_t *when)
{
	sqlite3_stmt *st = ss_stmt(s, SS_CONTACT);
	int rv;

	if ((rv = store_row(s, st, store_bindv(st, "tt", account, peer),
	    __func__)) != 0)
		return rv;
	*when = sqlite3_column_int64(st, 0);
	store_done(st);
	return 0;
}

int
store_outbox_states(struct store *s, store_count_fn fn, void *arg)
{
	sqlite3_stmt *st = ss_stmt(s, SS_STATES);
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn((const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int64(st, 1), arg);
	store_done(st);
	return rc == SQLITE_DONE ? 0 : store_err(s, __func__);
}
