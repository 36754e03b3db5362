/*
 * The pairing tokens of relay agents (schema version 9): created and
 * revoked by the operator (control_relay.c), looked up when a relay says
 * hello (router_relay.c).  Only the SHA-256 of a token is stored; the
 * token itself is shown once by `wxgatectl relay token create` and then
 * exists only on the relay's machine.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

enum {
	SR_CREATE = STORE_LAZY_RELAY,
	SR_FIND,
	SR_USED,
	SR_LIST,
	SR_REVOKE,
	SR_AGENT,
};

static const char *const sr_sql[] = {
	[SR_CREATE - STORE_LAZY_RELAY] =
	    "INSERT INTO relay_tokens (id, agent, hash, created) VALUES"
	    " (wx_id(), ?1, ?2, ?3)",
	[SR_FIND - STORE_LAZY_RELAY] =
	    "SELECT id, agent, revoked IS NOT NULL FROM relay_tokens"
	    " WHERE hash = ?1",
	[SR_USED - STORE_LAZY_RELAY] =
	    "UPDATE relay_tokens SET last_used = ?2 WHERE id = ?1",
	[SR_LIST - STORE_LAZY_RELAY] =
	    "SELECT id, agent, created, coalesce(last_used, 0),"
	    " coalesce(revoked, 0) FROM relay_tokens ORDER BY id",
	[SR_REVOKE - STORE_LAZY_RELAY] =
	    "UPDATE relay_tokens SET revoked = ?2 WHERE id = ?1 AND"
	    " revoked IS NULL",
	[SR_AGENT - STORE_LAZY_RELAY] =
	    "SELECT agent FROM relay_tokens WHERE id = ?1",
};

_Static_assert(sizeof(sr_sql) / sizeof(sr_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_RELAY, "store_relay.c outgrew its lazy slots");

static sqlite3_stmt *
sr_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sr_sql[which - STORE_LAZY_RELAY]);
}

int
store_relay_create(struct store *s, const char *agent,
    const uint8_t hash[STORE_HASH_LEN], int64_t now, int64_t *id)
{
	if (store_write(s, sr_stmt(s, SR_CREATE), __func__, "thi", agent, hash,
	    now) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_relay_find(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t *id, char *agent, size_t agentlen)
{
	sqlite3_stmt *st;
	int rc, revoked;

	st = sr_stmt(s, SR_FIND);
	if ((rc = store_row(s, st, store_bindv(st, "h", hash),
	    __func__)) != 0)
		return rc;
	*id = sqlite3_column_int64(st, 0);
	store_column_copy(st, 1, agent, agentlen);
	revoked = sqlite3_column_int(st, 2);
	store_done(st);
	return revoked ? 2 : 0;
}

int
store_relay_used(struct store *s, int64_t id, int64_t now)
{
	return store_write(s, sr_stmt(s, SR_USED), __func__, "ii", id, now);
}

int
store_relay_list(struct store *s, store_relay_fn fn, void *arg)
{
	struct store_relay_row r;
	sqlite3_stmt *st;
	int rc;

	st = sr_stmt(s, SR_LIST);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(st, 0);
		store_column_copy(st, 1, r.agent, sizeof(r.agent));
		r.created = sqlite3_column_int64(st, 2);
		r.last_used = sqlite3_column_int64(st, 3);
		r.revoked = sqlite3_column_int64(st, 4);
		if (fn(&r, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}

int
store_relay_revoke(struct store *s, int64_t id, int64_t now, char *agent,
    size_t agentlen)
{
	sqlite3_stmt *st;
	int rc;

	st = sr_stmt(s, SR_AGENT);
	if ((rc = store_row(s, st, store_bindv(st, "i", id), __func__)) != 0)
		return rc;
	store_column_copy(st, 0, agent, agentlen);
	store_done(st);
	return store_write(s, sr_stmt(s, SR_REVOKE), __func__, "ii", id, now);
}
