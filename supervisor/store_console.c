/*
 * The operator console's login links and sessions (schema version 11),
 * for supervisor/console.c.  Only the SHA-256 of a secret is stored: a
 * copy of the database opens no console.  A link is deleted as it is
 * taken, in the same turn's transaction as the session it makes, so a
 * link works once even when two browsers race with it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

enum {
	SC_LINK_CREATE = STORE_LAZY_CONSOLE,
	SC_LINK_FIND,
	SC_LINK_DELETE,
	SC_SESS_CREATE,
	SC_SESS_FIND,
	SC_SESS_SEEN,
	SC_SESS_DELETE,
	SC_SESS_ALL,
	SC_LINK_ALL,
	SC_SESS_EXPIRE,
	SC_LINK_EXPIRE,
	SC_ALLOWED,
	SC_PEER_REVOKE,
};

static const char *const sc_sql[] = {
	[SC_LINK_CREATE - STORE_LAZY_CONSOLE] =
	    "INSERT INTO console_links (id, hash, operator, created, expires)"
	    " VALUES (wx_id(), ?1, ?2, ?3, ?4)",
	[SC_LINK_FIND - STORE_LAZY_CONSOLE] =
	    "SELECT id, operator, expires FROM console_links WHERE hash = ?1",
	[SC_LINK_DELETE - STORE_LAZY_CONSOLE] =
	    "DELETE FROM console_links WHERE id = ?1",
	[SC_SESS_CREATE - STORE_LAZY_CONSOLE] =
	    "INSERT INTO console_sessions (id, hash, operator, created,"
	    " last_seen) VALUES (wx_id(), ?1, ?2, ?3, ?3)",
	[SC_SESS_FIND - STORE_LAZY_CONSOLE] =
	    "SELECT id, operator, created, last_seen FROM console_sessions"
	    " WHERE hash = ?1",
	[SC_SESS_SEEN - STORE_LAZY_CONSOLE] =
	    "UPDATE console_sessions SET last_seen = ?2 WHERE id = ?1",
	[SC_SESS_DELETE - STORE_LAZY_CONSOLE] =
	    "DELETE FROM console_sessions WHERE id = ?1",
	[SC_SESS_ALL - STORE_LAZY_CONSOLE] =
	    "DELETE FROM console_sessions",
	[SC_LINK_ALL - STORE_LAZY_CONSOLE] =
	    "DELETE FROM console_links",
	[SC_SESS_EXPIRE - STORE_LAZY_CONSOLE] =
	    "DELETE FROM console_sessions WHERE last_seen <= ?1 OR"
	    " created <= ?2",
	[SC_LINK_EXPIRE - STORE_LAZY_CONSOLE] =
	    "DELETE FROM console_links WHERE expires <= ?1",
	[SC_ALLOWED - STORE_LAZY_CONSOLE] =
	    "SELECT account, peer, coalesce(approved, 0) FROM peers"
	    " WHERE allowed ORDER BY account, peer LIMIT ?1",
	[SC_PEER_REVOKE - STORE_LAZY_CONSOLE] =
	    "UPDATE peers SET allowed = 0, approved = NULL"
	    " WHERE account = ?1 AND peer = ?2 AND allowed",
};

_Static_assert(sizeof(sc_sql) / sizeof(sc_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_CONSOLE, "store_console.c outgrew its lazy slots");

static sqlite3_stmt *
sc_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sc_sql[which - STORE_LAZY_CONSOLE]);
}

int
store_console_link_create(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    const char *operator, int64_t now, int64_t expires)
{
	return store_write(s, sc_stmt(s, SC_LINK_CREATE), __func__, "htii",
	    hash, operator, now, expires);
}

int
store_console_link_take(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, char *operator, size_t operatorlen)
{
	sqlite3_stmt *st;
	int64_t id, expires;
	int rc;

	st = sc_stmt(s, SC_LINK_FIND);
	if ((rc = store_row(s, st, store_bindv(st, "h", hash),
	    __func__)) != 0)
		return rc;
	id = sqlite3_column_int64(st, 0);
	store_column_copy(st, 1, operator, operatorlen);
	expires = sqlite3_column_int64(st, 2);
	store_done(st);
	if (store_write(s, sc_stmt(s, SC_LINK_DELETE), __func__, "i",
	    id) == -1)
		return -1;
	return now >= expires ? 2 : 0;
}

int
store_console_session_create(struct store *s,
    const uint8_t hash[STORE_HASH_LEN], const char *operator, int64_t now)
{
	return store_write(s, sc_stmt(s, SC_SESS_CREATE), __func__, "hti",
	    hash, operator, now);
}

int
store_console_session_find(struct store *s,
    const uint8_t hash[STORE_HASH_LEN], struct store_console_session *cs)
{
	sqlite3_stmt *st;
	int rc;

	memset(cs, 0, sizeof(*cs));
	st = sc_stmt(s, SC_SESS_FIND);
	if ((rc = store_row(s, st, store_bindv(st, "h", hash),
	    __func__)) != 0)
		return rc;
	cs->id = sqlite3_column_int64(st, 0);
	store_column_copy(st, 1, cs->operator, sizeof(cs->operator));
	cs->created = sqlite3_column_int64(st, 2);
	cs->last_seen = sqlite3_column_int64(st, 3);
	store_done(st);
	return 0;
}

int
store_console_session_seen(struct store *s, int64_t id, int64_t now)
{
	return store_write(s, sc_stmt(s, SC_SESS_SEEN), __func__, "ii", id,
	    now);
}

int
store_console_session_delete(struct store *s, int64_t id)
{
	return store_write(s, sc_stmt(s, SC_SESS_DELETE), __func__, "i", id);
}

int
store_console_revoke_all(struct store *s)
{
	int n;

	if (store_write(s, sc_stmt(s, SC_SESS_ALL), __func__, "") == -1)
		return -1;
	n = sqlite3_changes(s->db);
	if (store_write(s, sc_stmt(s, SC_LINK_ALL), __func__, "") == -1)
		return -1;
	return n;
}

int
store_console_expire(struct store *s, int64_t now, int64_t idle_s,
    int64_t max_s)
{
	int n;

	if (store_write(s, sc_stmt(s, SC_SESS_EXPIRE), __func__, "ii",
	    now - idle_s, now - max_s) == -1)
		return -1;
	n = sqlite3_changes(s->db);
	if (store_write(s, sc_stmt(s, SC_LINK_EXPIRE), __func__, "i",
	    now) == -1)
		return -1;
	return n;
}

int
store_console_allowed(struct store *s, unsigned max, store_allowed_fn fn,
    void *arg)
{
	sqlite3_stmt *st;
	int rc;

	st = sc_stmt(s, SC_ALLOWED);
	if ((rc = store_bindv(st, "i", (int64_t)max)) != SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    sqlite3_column_int64(st, 2), arg) == -1)
			break;
	return store_rows_end(s, st, rc, __func__);
}

int
store_console_peer_revoke(struct store *s, const char *account,
    const char *peer)
{
	if (store_write(s, sc_stmt(s, SC_PEER_REVOKE), __func__, "tt",
	    account, peer) == -1)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}
