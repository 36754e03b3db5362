/*
 * Audit retention: the audit table is written by every denial, so an
 * attacker decides how fast it grows.  Rows past an age or beyond a
 * count are deleted here, oldest first and a bounded batch at a time,
 * from the supervisor's retention timer (main.c), never on the message
 * path: one big DELETE would hold the event loop and write its whole
 * size into the WAL in one commit.
 */
#include <stdint.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

enum {
	SA_PRUNE_AGE = STORE_LAZY_AUDIT,
	SA_PRUNE_COUNT,
	SA_MAX
};

static const char *const sa_sql[SA_MAX - STORE_LAZY_AUDIT] = {
	/* The time index finds the oldest rows without a scan. */
	[SA_PRUNE_AGE - STORE_LAZY_AUDIT] =
	    "DELETE FROM audit WHERE id IN (SELECT id FROM audit"
	    " WHERE time < ?1 ORDER BY time LIMIT ?2)",
	/*
	 * The id of the newest row beyond keep, then the oldest batch up
	 * to it: both walk the primary key, never the whole table.
	 */
	[SA_PRUNE_COUNT - STORE_LAZY_AUDIT] =
	    "DELETE FROM audit WHERE id IN (SELECT id FROM audit"
	    " WHERE id <= (SELECT id FROM audit ORDER BY id DESC"
	    " LIMIT 1 OFFSET ?1) ORDER BY id LIMIT ?2)",
};

static int	store_audit_run(struct store *, int, int64_t, unsigned);

static int
store_audit_run(struct store *s, int which, int64_t arg, unsigned batch)
{
	sqlite3_stmt *st;

	if ((st = store_lazy(s, which, sa_sql[which - STORE_LAZY_AUDIT])) ==
	    NULL)
		return -1;
	if (store_exec(s, st, store_bindv(st, "ii", arg, (int64_t)batch),
	    __func__) == -1)
		return -1;
	return sqlite3_changes(s->db);
}

int
store_audit_prune(struct store *s, int64_t before, uint32_t keep,
    unsigned batch)
{
	int aged, over;

	if (batch == 0)
		return 0;
	store_touch(s);
	if ((aged = store_audit_run(s, SA_PRUNE_AGE, before, batch)) == -1)
		return -1;
	if ((unsigned)aged >= batch)
		return aged;
	if ((over = store_audit_run(s, SA_PRUNE_COUNT, (int64_t)keep,
	    batch - (unsigned)aged)) == -1)
		return -1;
	if (aged + over > 0)
		log_debug("%s: %d rows past their age, %d beyond %u", __func__,
		    aged, over, keep);
	return aged + over;
}
