/*
 * Paused channel accounts (issue #16: the console's and wxgatectl's
 * account pause): one row per account an operator paused, so it stays
 * paused across a restart of the daemon.  channel.c holds its outbox
 * rows meanwhile; nothing else here.
 */
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

enum {
	SP_SET = STORE_LAZY_PAUSE,
	SP_CLEAR,
	SP_LIST,
};

static const char *const sp_sql[] = {
	[SP_SET - STORE_LAZY_PAUSE] =
	    "INSERT OR IGNORE INTO account_pauses (account, operator, paused)"
	    " VALUES (?1, ?2, ?3)",
	[SP_CLEAR - STORE_LAZY_PAUSE] =
	    "DELETE FROM account_pauses WHERE account = ?1",
	[SP_LIST - STORE_LAZY_PAUSE] =
	    "SELECT account FROM account_pauses ORDER BY account",
};

_Static_assert(sizeof(sp_sql) / sizeof(sp_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_PAUSE, "store_pause.c outgrew its lazy slots");

static sqlite3_stmt *
sp_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sp_sql[which - STORE_LAZY_PAUSE]);
}

int
store_pause_set(struct store *s, const char *account, const char *by,
    int64_t now)
{
	return store_write(s, sp_stmt(s, SP_SET), __func__, "tti", account,
	    by, now);
}

int
store_pause_clear(struct store *s, const char *account)
{
	return store_write(s, sp_stmt(s, SP_CLEAR), __func__, "t", account);
}

int
store_pause_list(struct store *s, store_pause_fn fn, void *arg)
{
	sqlite3_stmt *st = sp_stmt(s, SP_LIST);
	const char *account;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		account = (const char *)sqlite3_column_text(st, 0);
		if (account != NULL && fn(account, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}
