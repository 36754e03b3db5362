/*
 * The working set's part in schedules on a cluster (hub_pg_sched.c):
 * whether an outbox row is here already, so that a run's row another
 * node queued for an account this node runs is taken in once and never
 * over a row this node has moved on; and the queued rows of runs, page
 * by page, whose ends the node that runs schedules reads back from the
 * truth.  Reads only: what comes in goes through store_absorb.
 */
#include <stdint.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

enum {
	SP_HAS = STORE_LAZY_SCHED_PG,
	SP_RUN_QUEUED,
};

static const char *const sp_sql[] = {
	[SP_HAS - STORE_LAZY_SCHED_PG] =
	    "SELECT 1 FROM outbox WHERE id = ?1",
	[SP_RUN_QUEUED - STORE_LAZY_SCHED_PG] =
	    "SELECT id, account, peer FROM outbox WHERE run_id IS NOT NULL"
	    " AND state = 'queued' AND id > ?1 ORDER BY id LIMIT ?2",
};

_Static_assert(sizeof(sp_sql) / sizeof(sp_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_SCHED_PG, "store_sched_pg.c outgrew its lazy slots");

static sqlite3_stmt *
sp_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sp_sql[which - STORE_LAZY_SCHED_PG]);
}

int
store_outbox_has(struct store *s, int64_t id)
{
	sqlite3_stmt *st = sp_stmt(s, SP_HAS);
	int rv;

	if ((rv = store_row(s, st, store_bindv(st, "i", id), __func__)) != 0)
		return rv == 1 ? 0 : -1;
	store_done(st);
	return 1;
}

int
store_run_rows_queued(struct store *s, int64_t after, unsigned max,
    store_run_row_fn fn, void *arg)
{
	sqlite3_stmt *st = sp_stmt(s, SP_RUN_QUEUED);
	int rc, n = 0;

	if (store_bindv(st, "ii", after, (int64_t)max) != SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(sqlite3_column_int64(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), arg);
		n++;
	}
	if (store_rows_end(s, st, rc, __func__) == -1)
		return -1;
	return n;
}
