/*
 * Binding invitations and the accounts made from them (issue #13).
 * Called by the hub's bind.c and control_bind.c; nothing else writes
 * these tables.
 *
 * An invitation keeps the SHA-256 of its token, never the token.  A use
 * is spent in the same statement group (one turn, one commit) as its
 * account going active, so a crash leaves both or neither.  Deleting an
 * account deletes everything the store holds under its name: its
 * platform token and cursor (kv), peers, pairings, conversations and
 * their messages and media, outbox rows and schedule targets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

enum {
	SB_INV_ADD = STORE_LAZY_BIND,
	SB_INV_FIND,
	SB_INV_LIST,
	SB_INV_REVOKE,
	SB_ACC_ADD,
	SB_ACC_SPEND,
	SB_ACC_ACTIVE,
	SB_ACC_LIST,
	SB_ACC_COUNT,
	SB_ACC_PENDING,
	SB_ACC_GET,
	/* store_account_delete: these, in this order. */
	SB_DEL_KV,
	SB_DEL_PEERS,
	SB_DEL_PAIRINGS,
	SB_DEL_MEDIA,
	SB_DEL_OUTBOX,
	SB_DEL_ATTACH,
	SB_DEL_TARGETS,
	SB_DEL_MESSAGES,
	SB_DEL_SESSIONS,
	SB_DEL_ACCOUNT,
};
#define SB_DEL_FIRST	SB_DEL_KV
#define SB_DEL_LAST	SB_DEL_ACCOUNT

#define SQ(i)	[(i) - STORE_LAZY_BIND]
static const char *const sb_sql[] = {
	SQ(SB_INV_ADD) =
	    "INSERT INTO invitations (id, token_hash, template, created,"
	    " expires, uses_left) VALUES (wx_id(), ?1, ?2, ?3, ?4, ?5)",
	SQ(SB_INV_FIND) =
	    "SELECT id, template, expires, uses_left, revoked FROM invitations"
	    " WHERE token_hash = ?1",
	SQ(SB_INV_LIST) =
	    "SELECT id, template, created, expires, uses_left, used,"
	    " coalesce(revoked, 0) FROM invitations ORDER BY id",
	SQ(SB_INV_REVOKE) =
	    "UPDATE invitations SET revoked = ?2 WHERE id = ?1 AND"
	    " revoked IS NULL",
	SQ(SB_ACC_ADD) =
	    "INSERT INTO accounts (name, kind, template, invitation, created)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)",
	/* Only a pending account of a live invitation spends a use. */
	SQ(SB_ACC_SPEND) =
	    "UPDATE invitations SET uses_left = uses_left - 1, used = used + 1"
	    " WHERE id = (SELECT invitation FROM accounts WHERE name = ?1 AND"
	    " state = 'pending') AND uses_left > 0 AND revoked IS NULL",
	SQ(SB_ACC_ACTIVE) =
	    "UPDATE accounts SET state = 'active', owner = ?2 WHERE name = ?1"
	    " AND state = 'pending'",
	SQ(SB_ACC_LIST) =
	    "SELECT name, kind, template, coalesce(owner, ''), state, created"
	    " FROM accounts ORDER BY created, name",
	SQ(SB_ACC_COUNT) =
	    "SELECT count(*) FROM accounts WHERE template = ?1",
	SQ(SB_ACC_PENDING) =
	    "SELECT count(*) FROM accounts WHERE invitation = ?1 AND"
	    " state = 'pending'",
	SQ(SB_ACC_GET) =
	    "SELECT template, state, coalesce(owner, '') FROM accounts"
	    " WHERE name = ?1",
	SQ(SB_DEL_KV) = "DELETE FROM kv WHERE account = ?1",
	SQ(SB_DEL_PEERS) = "DELETE FROM peers WHERE account = ?1",
	SQ(SB_DEL_PAIRINGS) = "DELETE FROM pairings WHERE account = ?1",
	SQ(SB_DEL_MEDIA) = "DELETE FROM media WHERE account = ?1",
	SQ(SB_DEL_OUTBOX) = "DELETE FROM outbox WHERE account = ?1",
	/* Files no outbox row names any more (a row's file is its own). */
	SQ(SB_DEL_ATTACH) =
	    "DELETE FROM attachments WHERE id NOT IN (SELECT attachment_id"
	    " FROM outbox WHERE attachment_id IS NOT NULL) AND ?1 = ?1",
	SQ(SB_DEL_TARGETS) = "DELETE FROM run_targets WHERE account = ?1",
	SQ(SB_DEL_MESSAGES) = "DELETE FROM messages WHERE account = ?1",
	SQ(SB_DEL_SESSIONS) = "DELETE FROM sessions WHERE account = ?1",
	SQ(SB_DEL_ACCOUNT) = "DELETE FROM accounts WHERE name = ?1",
};
#undef SQ

_Static_assert(sizeof(sb_sql) / sizeof(sb_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_BIND, "store_bind.c outgrew its lazy slots");

static sqlite3_stmt *
sb_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sb_sql[which - STORE_LAZY_BIND]);
}

int
store_invite_create(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    const char *tmpl, int64_t now, int64_t expires, int64_t uses,
    int64_t *id)
{
	if (store_write(s, sb_stmt(s, SB_INV_ADD), __func__, "htiii", hash,
	    tmpl, now, expires, uses) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

/* What a token opens: INV_* or -1; *tmpl (caller frees) when live. */
int
store_invite_find(struct store *s, const uint8_t hash[STORE_HASH_LEN],
    int64_t now, int64_t *id, char **tmpl)
{
	sqlite3_stmt *st;
	int rc;

	*tmpl = NULL;
	st = sb_stmt(s, SB_INV_FIND);
	if ((rc = store_row(s, st, store_bindv(st, "h", hash),
	    __func__)) != 0)
		return rc == 1 ? INV_UNKNOWN : -1;
	*id = sqlite3_column_int64(st, 0);
	if (sqlite3_column_type(st, 4) != SQLITE_NULL)
		rc = INV_REVOKED;
	else if (sqlite3_column_int64(st, 3) <= 0)
		rc = INV_USED;
	else if (sqlite3_column_int64(st, 2) <= now)
		rc = INV_EXPIRED;
	else {
		rc = INV_LIVE;
		*tmpl = store_column_dup(st, 1);
	}
	store_done(st);
	return rc;
}

int
store_invite_list(struct store *s, store_invite_fn fn, void *arg)
{
	struct store_invite_row r;
	sqlite3_stmt *st;
	int rc;

	st = sb_stmt(s, SB_INV_LIST);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(st, 0);
		r.tmpl = (const char *)sqlite3_column_text(st, 1);
		r.created = sqlite3_column_int64(st, 2);
		r.expires = sqlite3_column_int64(st, 3);
		r.uses_left = sqlite3_column_int64(st, 4);
		r.used = sqlite3_column_int64(st, 5);
		r.revoked = sqlite3_column_int64(st, 6);
		if (r.tmpl == NULL)
			r.tmpl = "";
		if (fn(&r, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}

/* 0 revoked, 1 no such live invitation, -1 error. */
int
store_invite_revoke(struct store *s, int64_t id, int64_t now)
{
	if (store_write(s, sb_stmt(s, SB_INV_REVOKE), __func__, "ii", id,
	    now) == -1)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
store_account_add(struct store *s, const char *name, const char *kind,
    const char *tmpl, int64_t invitation, int64_t now)
{
	return store_write(s, sb_stmt(s, SB_ACC_ADD), __func__, "tttoi", name,
	    kind, tmpl, invitation, now);
}

/*
 * The login completed: the invitation's use is spent and the account
 * active with its owner, in this turn's transaction.  0 done, 1 the
 * invitation has no use left (or the account is not pending), -1.
 */
int
store_account_activate(struct store *s, const char *name, const char *owner)
{
	sqlite3_stmt *st;

	if (store_write(s, sb_stmt(s, SB_ACC_SPEND), __func__, "t",
	    name) == -1)
		return -1;
	if (sqlite3_changes(s->db) != 1)
		return 1;
	st = sb_stmt(s, SB_ACC_ACTIVE);
	if (store_exec(s, st, store_bindv(st, "tt", name, owner),
	    __func__) == -1)
		return -1;
	return sqlite3_changes(s->db) == 1 ? 0 : 1;
}

int
store_account_list(struct store *s, store_account_fn fn, void *arg)
{
	struct store_account_row r;
	sqlite3_stmt *st;
	int rc;

	st = sb_stmt(s, SB_ACC_LIST);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.name = (const char *)sqlite3_column_text(st, 0);
		r.kind = (const char *)sqlite3_column_text(st, 1);
		r.tmpl = (const char *)sqlite3_column_text(st, 2);
		r.owner = (const char *)sqlite3_column_text(st, 3);
		r.state = (const char *)sqlite3_column_text(st, 4);
		r.created = sqlite3_column_int64(st, 5);
		if (r.name == NULL || r.kind == NULL || r.tmpl == NULL ||
		    r.owner == NULL || r.state == NULL)
			continue;
		if (fn(&r, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}

static int
sb_count(struct store *s, int which, const char *fmt, const void *v,
    int64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	st = sb_stmt(s, which);
	rc = fmt[0] == 't' ? store_bindv(st, fmt, (const char *)v) :
	    store_bindv(st, fmt, *(const int64_t *)v);
	if ((rc = store_row(s, st, rc, __func__)) != 0)
		return -1;
	*n = sqlite3_column_int64(st, 0);
	store_done(st);
	return 0;
}

/* Accounts of a template, pending ones included. */
int
store_account_count(struct store *s, const char *tmpl, int64_t *n)
{
	return sb_count(s, SB_ACC_COUNT, "t", tmpl, n);
}

/* Logins in progress under one invitation. */
int
store_account_pending(struct store *s, int64_t invitation, int64_t *n)
{
	return sb_count(s, SB_ACC_PENDING, "i", &invitation, n);
}

/*
 * 0 and copies (caller frees) of its template, state and owner ("" for
 * a pending one), 1 not a bound account, -1 error.
 */
int
store_account_get(struct store *s, const char *name, char **tmpl,
    char **state, char **owner)
{
	sqlite3_stmt *st;
	int rc;

	st = sb_stmt(s, SB_ACC_GET);
	if ((rc = store_row(s, st, store_bindv(st, "t", name),
	    __func__)) != 0)
		return rc;
	*tmpl = store_column_dup(st, 0);
	*state = store_column_dup(st, 1);
	*owner = store_column_dup(st, 2);
	store_done(st);
	return 0;
}

/* The account and everything stored under its name. */
int
store_account_delete(struct store *s, const char *name)
{
	sqlite3_stmt *st;
	int i;

	store_touch(s);
	for (i = SB_DEL_FIRST; i <= SB_DEL_LAST; i++) {
		st = sb_stmt(s, i);
		if (store_exec(s, st, store_bindv(st, "t", name),
		    __func__) == -1)
			return -1;
	}
	return 0;
}
