/*
 * Sealed schedules in the store (schema version 15, docs/e2e.md): the
 * prompt the owner's browser sealed, the run a relay's request is for
 * (its schedule and slot are bound into the answer's associated data),
 * and a run's answer for the page to open.  The store holds envelopes
 * only; it cannot open them, and never tries.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

enum {
	SX_SEAL = STORE_LAZY_SCHED_E2E,
	SX_RUN_SEALED,
	SX_RUN_REPLY,
};

static const char *const sx_sql[] = {
	/* Only its owner's, and only a sealed one. */
	[SX_SEAL - STORE_LAZY_SCHED_E2E] =
	    "UPDATE schedules SET body = ?3 WHERE id = ?1 AND owner = ?2"
	    " AND sealed",
	[SX_RUN_SEALED - STORE_LAZY_SCHED_E2E] =
	    "SELECT r.schedule_id, r.slot, s.owner FROM schedule_runs r"
	    " JOIN schedules s ON s.id = r.schedule_id WHERE r.msg_id = ?1"
	    " AND s.sealed AND s.owner IS NOT NULL",
	/* Of that schedule only: its id is bound into the answer. */
	[SX_RUN_REPLY - STORE_LAZY_SCHED_E2E] =
	    "SELECT m.reply FROM schedule_runs r JOIN messages m"
	    " ON m.id = r.msg_id WHERE r.id = ?2 AND r.schedule_id = ?1"
	    " AND m.reply IS NOT NULL",
};

_Static_assert(sizeof(sx_sql) / sizeof(sx_sql[0]) <= STORE_LAZY_SCHED_PG -
    STORE_LAZY_SCHED_E2E, "store_sched_e2e.c outgrew its lazy slots");

static sqlite3_stmt *
sx_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sx_sql[which - STORE_LAZY_SCHED_E2E]);
}

int
store_sched_seal(struct store *s, int64_t id, const char *owner,
    const char *envelope)
{
	if (store_write(s, sx_stmt(s, SX_SEAL), __func__, "itt", id, owner,
	    envelope) == -1)
		return -1;
	return sqlite3_changes(s->db) == 0;
}

int
store_run_sealed(struct store *s, int64_t msg_id, struct store_run_seal *rs)
{
	sqlite3_stmt *st = sx_stmt(s, SX_RUN_SEALED);
	int rv;

	if ((rv = store_row(s, st, store_bindv(st, "i", msg_id),
	    __func__)) != 0)
		return rv;
	rs->schedule = sqlite3_column_int64(st, 0);
	rs->slot = sqlite3_column_int64(st, 1);
	rs->owner = store_column_dup(st, 2);
	store_done(st);
	return 0;
}

int
store_run_reply(struct store *s, int64_t schedule, int64_t run,
    char **reply)
{
	sqlite3_stmt *st = sx_stmt(s, SX_RUN_REPLY);
	int rv;

	if ((rv = store_row(s, st, store_bindv(st, "ii", schedule, run),
	    __func__)) != 0)
		return rv;
	*reply = store_column_dup(st, 0);
	store_done(st);
	return 0;
}
