/*
 * End-to-end keys (schema version 14, docs/e2e.md): each operator's data
 * key as their browser wrapped it under their passphrase.  The hub keeps
 * it for the browser to fetch and hands it to the relay with a sealed
 * thread's requests; it cannot unwrap it, and never tries.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

enum {
	SE_GET = STORE_LAZY_E2E,
	SE_SET,
};

static const char *const se_sql[] = {
	[SE_GET - STORE_LAZY_E2E] =
	    "SELECT record FROM e2e_keys WHERE owner = ?1",
	/* A new passphrase re-wraps the same key: the row is replaced. */
	[SE_SET - STORE_LAZY_E2E] =
	    "INSERT INTO e2e_keys (owner, record, updated) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT (owner) DO UPDATE SET record = excluded.record,"
	    " updated = excluded.updated",
};

_Static_assert(sizeof(se_sql) / sizeof(se_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_E2E, "store_e2e.c outgrew its lazy slots");

static sqlite3_stmt *
se_stmt(struct store *s, int which)
{
	return store_lazy(s, which, se_sql[which - STORE_LAZY_E2E]);
}

int
store_e2e_key_get(struct store *s, const char *owner, char **record)
{
	sqlite3_stmt *st = se_stmt(s, SE_GET);
	int rc;

	*record = NULL;
	if ((rc = store_row(s, st, store_bindv(st, "t", owner),
	    __func__)) != 0)
		return rc;
	*record = store_column_dup(st, 0);
	store_done(st);
	return 0;
}

int
store_e2e_key_set(struct store *s, const char *owner, const char *record,
    int64_t now)
{
	if (strlen(record) > STORE_E2E_RECORD_MAX)
		return -1;
	return store_write(s, se_stmt(s, SE_SET), __func__, "tti", owner,
	    record, now);
}
