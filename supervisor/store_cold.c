/*
 * Cold conversations in a cluster node's working set (pgload.c): an
 * account taken over brings each person's conversation, but the
 * history only of those who wrote lately; the others' sessions come
 * cold, their messages left in the truth.  A cold conversation is
 * warmed, its history read (hub_pg_warm.c), before an agent is asked
 * in it: the backlog passes over its messages until then.
 *
 * The marks live in an attached in-memory database, wx: they describe
 * this connection's working set, are never shipped (the change capture
 * watches main only), and go with the process, as the working set's
 * rows do when a hub starts again and reads every account anew.  They
 * join the loop turn's transaction like any write, so a turn rolled
 * back takes its marks back too.  A lone node never adds one: there
 * the table stays empty and each lookup is one probe of nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

enum {
	SK_ADD = STORE_LAZY_COLD,
	SK_WAKE,
	SK_WANTED,
	SK_TAKE,
	SK_DONE_WARM,
	SK_DONE_COLD,
};

/* wanted: 0 nothing waits, 1 a message waits, 2 its history is asked. */
static const char *const sk_sql[] = {
	[SK_ADD - STORE_LAZY_COLD] =
	    "INSERT OR IGNORE INTO wx.cold (session_id, account)"
	    " VALUES (?1, ?2)",
	[SK_WAKE - STORE_LAZY_COLD] =
	    "UPDATE wx.cold SET wanted = 1 WHERE session_id = ?1"
	    " AND wanted = 0",
	[SK_WANTED - STORE_LAZY_COLD] =
	    "SELECT session_id FROM wx.cold WHERE wanted = 1 LIMIT ?1",
	[SK_TAKE - STORE_LAZY_COLD] =
	    "UPDATE wx.cold SET wanted = 2 WHERE session_id = ?1",
	[SK_DONE_WARM - STORE_LAZY_COLD] =
	    "DELETE FROM wx.cold WHERE session_id = ?1",
	[SK_DONE_COLD - STORE_LAZY_COLD] =
	    "UPDATE wx.cold SET wanted = 1 WHERE session_id = ?1",
};

_Static_assert(sizeof(sk_sql) / sizeof(sk_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_COLD, "store_cold.c outgrew its lazy slots");

static sqlite3_stmt *
sk_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sk_sql[which - STORE_LAZY_COLD]);
}

int
store_cold_init(sqlite3 *db)
{
	static const char sql[] =
	    "ATTACH DATABASE ':memory:' AS wx;"
	    "CREATE TABLE wx.cold (session_id INTEGER PRIMARY KEY,"
	    " account TEXT NOT NULL, wanted INTEGER NOT NULL DEFAULT 0);"
	    "CREATE INDEX wx.cold_account ON cold (account);"
	    "CREATE INDEX wx.cold_wanted ON cold (session_id)"
	    " WHERE wanted = 1;";

	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		log_warnx("store: cold marks: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int
store_cold_add(struct store *s, int64_t session, const char *account)
{
	return store_write(s, sk_stmt(s, SK_ADD), __func__, "it", session,
	    account);
}

int
store_cold_wake(struct store *s, int64_t session)
{
	return store_write(s, sk_stmt(s, SK_WAKE), __func__, "i", session);
}

int
store_cold_wanted(struct store *s, int64_t *ids, int max)
{
	sqlite3_stmt *st = sk_stmt(s, SK_WANTED);
	int n = 0, i, rc;

	if ((rc = store_bindv(st, "i", (int64_t)max)) != SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	store_done(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return store_err(s, __func__);
	for (i = 0; i < n; i++)
		if (store_write(s, sk_stmt(s, SK_TAKE), __func__, "i",
		    ids[i]) == -1)
			return -1;
	return n;
}

int
store_cold_done(struct store *s, int64_t session, int warmed)
{
	return store_write(s, sk_stmt(s, warmed ? SK_DONE_WARM :
	    SK_DONE_COLD), __func__, "i", session);
}
