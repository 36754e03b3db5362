/*
 * The store's side of agent admission: the durable backlog of messages
 * waiting for an agent, and how a message ends without a reply.
 *
 * A message in state 1 (accepted) with no error is waiting in the store:
 * a platform message always starts there, and any message the
 * supervisor held in memory when it stopped is put back there at start
 * (store_msg_requeue_all).  The router takes rows out oldest first, a
 * few at a time as an agent has room (store_backlog_take), marking each
 * state 2 (answering) as it goes, so the backlog is never read whole
 * into memory; a cluster node passes over a cold conversation's
 * (store_cold.c) until its history is read.  A message past its deadline is closed with an error
 * (store_msg_fail), which counts as its answer.  Same rules as store.c:
 * writes join the loop turn's transaction, the SQL is fixed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

enum {
	SB_TAKE_LIST = STORE_LAZY_BACKLOG,
	SB_TAKE,
	SB_COUNT,
	SB_COUNT_ALL,
	SB_EXPIRED,
	SB_FAIL,
	SB_TOLD,
	SB_ERROR,
	SB_REQUEUE,
	SB_UNTAKE,
	SB_REQUEUE_ACCT,
};

/*
 * "state < 3" is the partial index's own term (messages_backlog):
 * SQLite uses a partial index only when the query repeats its WHERE,
 * and does not infer it from "state = 1".  Without it these walked
 * every message of the account ever stored (for the web chat, account
 * NULL: all of them), twice a second in the sweep.
 */
static const char *const sb_sql[] = {
	/* account IS ?1: NULL selects the web chat's rows. */
	[SB_TAKE_LIST - STORE_LAZY_BACKLOG] =
	    "SELECT m.id, m.session_id, m.client_msg_id, m.text, m.created,"
	    " s.account, s.peer, m.reply_ctx FROM messages m"
	    " JOIN sessions s ON s.id = m.session_id"
	    " WHERE m.account IS ?1 AND m.state = 1 AND m.state < 3"
	    " AND m.error IS NULL AND NOT EXISTS (SELECT 1 FROM wx.cold c"
	    " WHERE c.session_id = m.session_id) ORDER BY m.id LIMIT ?2",
	/* Taking a row into memory clears a failure the client was told. */
	[SB_TAKE - STORE_LAZY_BACKLOG] =
	    "UPDATE messages SET state = 2, error = NULL"
	    " WHERE id = ?1 AND state IN (1, 2)",
	[SB_COUNT - STORE_LAZY_BACKLOG] =
	    "SELECT count(*) FROM messages WHERE account = ?1 AND state < 3",
	[SB_COUNT_ALL - STORE_LAZY_BACKLOG] =
	    "SELECT count(*) FROM messages WHERE account IS NOT NULL"
	    " AND state < 3",
	[SB_EXPIRED - STORE_LAZY_BACKLOG] =
	    "SELECT id, session_id, error IS NOT NULL,"
	    " coalesce(client_msg_id, '') FROM messages"
	    " WHERE account IS ?1 AND state = 1 AND state < 3"
	    " AND created < ?2 ORDER BY id LIMIT ?3",
	[SB_FAIL - STORE_LAZY_BACKLOG] =
	    "UPDATE messages SET state = 3, reply = '',"
	    " error = coalesce(error, ?2), answered = ?3"
	    " WHERE id = ?1 AND state < 3",
	[SB_TOLD - STORE_LAZY_BACKLOG] =
	    "UPDATE messages SET state = 1, error = ?2"
	    " WHERE id = ?1 AND state < 3",
	[SB_ERROR - STORE_LAZY_BACKLOG] =
	    "SELECT error FROM messages WHERE id = ?1 AND error IS NOT NULL",
	[SB_REQUEUE - STORE_LAZY_BACKLOG] =
	    "UPDATE messages SET state = 1 WHERE state = 2 AND state < 3",
	[SB_UNTAKE - STORE_LAZY_BACKLOG] =
	    "UPDATE messages SET state = 1 WHERE id = ?1 AND state = 2",
	[SB_REQUEUE_ACCT - STORE_LAZY_BACKLOG] =
	    "UPDATE messages SET state = 1 WHERE account = ?1 AND state = 2"
	    " AND state < 3",
};

_Static_assert(sizeof(sb_sql) / sizeof(sb_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_BACKLOG, "store_backlog.c outgrew its lazy slots");

static sqlite3_stmt *
sb_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sb_sql[which - STORE_LAZY_BACKLOG]);
}

/*
 * The rows are copied out and marked answering before fn runs: fn
 * builds the agent's context with store_history(), and the backlog must
 * not hand the same row out twice.
 */
int
store_backlog_take(struct store *s, const char *account, unsigned limit,
    store_backlog_fn fn, void *arg)
{
	struct store_backlog_row *rows;
	sqlite3_stmt *st;
	size_t n = 0, i;
	int rc, ret = 0;

	if (limit == 0)
		return 0;
	rows = xcalloc(limit, sizeof(*rows));
	st = sb_stmt(s, SB_TAKE_LIST);
	if ((rc = store_bindv(st, "ti", account, (int64_t)limit)) !=
	    SQLITE_OK) {
		store_done(st);
		free(rows);
		return store_err(s, __func__);
	}
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].session = sqlite3_column_int64(st, 1);
		rows[n].cmid = store_column_dup(st, 2);
		rows[n].text = store_column_dup(st, 3);
		rows[n].created = sqlite3_column_int64(st, 4);
		rows[n].account = store_column_dup(st, 5);
		rows[n].peer = store_column_dup(st, 6);
		rows[n].ctx = store_column_dup(st, 7);
		n++;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = store_err(s, __func__);
	store_done(st);
	for (i = 0; ret == 0 && i < n; i++) {
		if ((ret = store_msg_take(s, rows[i].id)) == 0)
			fn(&rows[i], arg);
	}
	for (i = 0; i < n; i++) {
		free(rows[i].cmid);
		free(rows[i].text);
		free(rows[i].account);
		free(rows[i].peer);
		xfree_secret(rows[i].ctx);
	}
	free(rows);
	return ret == 0 ? (int)n : -1;
}

int
store_msg_take(struct store *s, int64_t msg_id)
{
	return store_write(s, sb_stmt(s, SB_TAKE), __func__, "i", msg_id);
}

int
store_backlog_count(struct store *s, const char *account, int64_t *n)
{
	sqlite3_stmt *st;
	int rc;

	if (account != NULL) {
		st = sb_stmt(s, SB_COUNT);
		rc = store_row(s, st, store_bindv(st, "t", account), __func__);
	} else {
		st = sb_stmt(s, SB_COUNT_ALL);
		rc = store_row(s, st, SQLITE_OK, __func__);
	}
	if (rc != 0)
		return -1;	/* count(*) always has a row */
	*n = sqlite3_column_int64(st, 0);
	store_done(st);
	return 0;
}

int
store_backlog_expired(struct store *s, const char *account, int64_t before,
    struct store_expired *v, size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;
	int rc;

	st = sb_stmt(s, SB_EXPIRED);
	if (store_bindv(st, "tii", account, before, (int64_t)max) !=
	    SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		v[n].msg_id = sqlite3_column_int64(st, 0);
		v[n].session = sqlite3_column_int64(st, 1);
		v[n].told = sqlite3_column_int(st, 2);
		snprintf(v[n].cmid, sizeof(v[n].cmid), "%s",
		    (const char *)sqlite3_column_text(st, 3));
		n++;
	}
	if (n < max && rc != SQLITE_DONE) {
		store_done(st);
		return store_err(s, __func__);
	}
	store_done(st);
	return (int)n;
}

int
store_msg_fail(struct store *s, int64_t msg_id, const char *code,
    int64_t now)
{
	return store_write(s, sb_stmt(s, SB_FAIL), __func__, "iti", msg_id,
	    code, now);
}

int
store_msg_told(struct store *s, int64_t msg_id, const char *code)
{
	return store_write(s, sb_stmt(s, SB_TOLD), __func__, "it", msg_id,
	    code);
}

int
store_msg_error(struct store *s, int64_t msg_id, char **code)
{
	sqlite3_stmt *st;
	int rc;

	*code = NULL;
	st = sb_stmt(s, SB_ERROR);
	if ((rc = store_row(s, st, store_bindv(st, "i", msg_id),
	    __func__)) != 0)
		return rc;
	*code = store_column_dup(st, 0);
	store_done(st);
	return 0;
}

int
store_msg_requeue_all(struct store *s)
{
	sqlite3_stmt *st;
	int rc;

	store_touch(s);
	st = sb_stmt(s, SB_REQUEUE);
	if ((rc = store_exec(s, st, SQLITE_OK, __func__)) == -1)
		return -1;
	return sqlite3_changes(s->db);
}

/*
 * An account taken over from another node: what that node had asked
 * its agent and not answered waits here again.
 */
int
store_msg_requeue_account(struct store *s, const char *account)
{
	sqlite3_stmt *st = sb_stmt(s, SB_REQUEUE_ACCT);

	if (store_write(s, st, __func__, "t", account) == -1)
		return -1;
	return sqlite3_changes(s->db);
}

/* One taken row back to the backlog: its agent could not take it now. */
int
store_msg_untake(struct store *s, int64_t msg_id)
{
	return store_write(s, sb_stmt(s, SB_UNTAKE), __func__, "i", msg_id);
}
