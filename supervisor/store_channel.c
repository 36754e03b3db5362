/*
 * The store's channel side: conversations per (account, peer), inbound
 * platform messages deduplicated by their platform id, the outbox of
 * replies awaiting delivery.ack, per-account worker state (kv), pending
 * pairing codes and the audit listing.  Same rules as store.c: every
 * write joins the loop turn's transaction (store_touch), statements are
 * fixed SQL with bound parameters.
 *
 * An outbox row is leased while a worker holds it: next_try moves to the
 * lease's end, so a row in flight is not sent twice, and a worker that
 * dies (or a supervisor that restarts) leaves rows that come due again;
 * store_outbox_release() hands them back at once when the account's new
 * worker is ready.  A row ends in one of the delivery states (sent,
 * failed, undeliverable) and stays, without its reply token, for
 * `wxgatectl outbox` until store_outbox_prune() takes it: only queued
 * rows are work.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

enum {
	SC_SESSION_ADD = STORE_LAZY_CHANNEL,
	SC_SESSION_GET,
	SC_SESSION_OF,
	SC_MSG_SEEN,
	SC_MSG_ACCEPT,
	SC_MSG_CTX,
	SC_OUTBOX_ADD,
	SC_OUTBOX_DUE,
	SC_OUTBOX_DUE_LATEST,
	SC_OUTBOX_LEASE,
	SC_OUTBOX_ACK,
	SC_OUTBOX_RETRY,
	SC_OUTBOX_RELEASE,
	SC_OUTBOX_COUNT,
	SC_OUTBOX_FINISH,
	SC_OUTBOX_GET,
	SC_OUTBOX_PRUNE,
	SC_KV_GET,
	SC_KV_PUT,
	SC_KV_DEL,
	SC_PAIRING_LIVE,
	SC_AUDIT_LIST,
	SC_OUTBOX_PARTS,
	SC_OUTBOX_TURN,
	SC_KV_OTHERS,
};

/*
 * The due rows: queued, their time come, and no earlier part of the same
 * reply still queued (the same message's answer; for a notice or an
 * operator's send, the rows queued together), and not held for a peer
 * to write first (store_sched.c).  Parts of one reply go
 * one at a time, in order, even when one is retried; replies to other
 * messages do not wait behind a part in a long retry.
 */
/*
 * More of the same answer follows the row: its message is not answered
 * yet (stream_mode block), or a later part of it waits.  A part has its
 * message's account and peer, so the later one is found through the
 * outbox_peer index, as OUTBOX_DUE_ROWS finds the earlier.
 */
#define OUTBOX_MORE \
	", o.msg_id IS NOT NULL AND (EXISTS (SELECT 1 FROM messages m" \
	" WHERE m.id = o.msg_id AND m.state <> 3) OR EXISTS (SELECT 1" \
	" FROM outbox q WHERE q.account = o.account AND q.peer = o.peer" \
	" AND q.state = 'queued' AND q.id > o.id AND q.msg_id = o.msg_id))"

/*
 * The peer's newest message that brought a reply context, and the
 * messages that context carried so far (its budget, §7.2): the rows
 * sent that were last handed out with it (ctx_msg, set by the lease).
 * A row's own earlier tries are not counted, as they are not acked; a
 * row sent on it by an earlier worker, or by another node before a
 * takeover, is, from the store.  The newest 64 ended rows of each peer
 * that a node loads at a takeover (pgload.c) hold the ten, unless over
 * 54 of the peer's rows queued after them wait still.
 */
#define OUTBOX_CTX_MSG \
	"(SELECT m.id FROM messages m WHERE m.account = o.account" \
	" AND m.sender = o.peer AND m.reply_ctx <> '' ORDER BY m.id DESC" \
	" LIMIT 1)"
#define OUTBOX_SPENT \
	", " OUTBOX_CTX_MSG ", (SELECT count(*) FROM outbox s WHERE" \
	" s.account = o.account AND s.peer = o.peer AND s.state = 'sent'" \
	" AND s.ctx_msg = " OUTBOX_CTX_MSG ")"

#define OUTBOX_DUE_ROWS \
	" FROM outbox o" \
	" WHERE account = ?1 AND state = 'queued' AND next_try <= ?2" \
	" AND id < ?4" \
	" AND hold_until IS NULL" \
	" AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.account =" \
	" o.account AND p.peer = o.peer AND p.state = 'queued' AND" \
	" p.id < o.id AND (p.msg_id = o.msg_id OR (o.msg_id IS NULL AND" \
	" p.msg_id IS NULL AND p.created = o.created AND o.seq > 0)))" \
	" ORDER BY id LIMIT ?3"

static const char *const sc_sql[] = {
	[SC_SESSION_ADD - STORE_LAZY_CHANNEL] =
	    "INSERT INTO sessions (id, token_hash, created, last_seen, expires,"
	    " anonymous, account, peer) VALUES (wx_id(), NULL, ?3, ?3, NULL,"
	    " 0, ?1, ?2)"
	    " ON CONFLICT (account, peer) DO UPDATE SET last_seen = ?3",
	[SC_SESSION_GET - STORE_LAZY_CHANNEL] =
	    "SELECT id FROM sessions WHERE account = ?1 AND peer = ?2",
	[SC_SESSION_OF - STORE_LAZY_CHANNEL] =
	    "SELECT account, peer FROM sessions WHERE id = ?1"
	    " AND account IS NOT NULL",
	[SC_MSG_SEEN - STORE_LAZY_CHANNEL] =
	    "SELECT 1 FROM messages WHERE account = ?1 AND channel_msg_id = ?2",
	[SC_MSG_ACCEPT - STORE_LAZY_CHANNEL] =
	    "INSERT INTO messages (id, session_id, account, channel_msg_id,"
	    " sender, text, reply_ctx, state, created) VALUES (wx_id(), ?1,"
	    " ?2, ?3, ?4, ?5, ?6, 1, ?7)",
	[SC_MSG_CTX - STORE_LAZY_CHANNEL] =
	    "SELECT reply_ctx FROM messages WHERE id = ?1",
	[SC_OUTBOX_ADD - STORE_LAZY_CHANNEL] =
	    "INSERT INTO outbox (id, account, peer, msg_id, seq, body,"
	    " reply_ctx, created, next_try) VALUES (wx_id(), ?1, ?2, ?3, ?4,"
	    " ?5, ?6, ?7, ?7)",
	/* Oldest first; a reply's parts one at a time (OUTBOX_DUE_ROWS). */
	[SC_OUTBOX_DUE - STORE_LAZY_CHANNEL] =
	    "SELECT id, peer, body, reply_ctx, attempts, created, key_gen,"
	    " coalesce(attachment_id, 0)" OUTBOX_MORE ", 0, 0"
	    OUTBOX_DUE_ROWS,
	/*
	 * The same, carrying the newest reply context the peer's messages
	 * gave (iLink, wechat-ilink.md 1.4: a reply on an older one than
	 * the user's latest may be refused), the row's own when none; and
	 * OUTBOX_SPENT on it.
	 */
	[SC_OUTBOX_DUE_LATEST - STORE_LAZY_CHANNEL] =
	    "SELECT id, peer, body, coalesce((SELECT m.reply_ctx FROM"
	    " messages m WHERE m.account = o.account AND m.sender = o.peer"
	    " AND m.reply_ctx <> '' ORDER BY m.id DESC LIMIT 1), o.reply_ctx),"
	    " attempts, created, key_gen, coalesce(attachment_id, 0)"
	    OUTBOX_MORE OUTBOX_SPENT OUTBOX_DUE_ROWS,
	[SC_OUTBOX_LEASE - STORE_LAZY_CHANNEL] =
	    "UPDATE outbox SET next_try = ?2, ctx_msg = nullif(?3, 0)"
	    " WHERE id = ?1",
	[SC_OUTBOX_ACK - STORE_LAZY_CHANNEL] =
	    "UPDATE outbox SET state = 'sent', finished = ?3, reply_ctx = NULL"
	    " WHERE id = ?1 AND account = ?2 AND state = 'queued'",
	/* base << attempts so far, capped, but never before the platform's. */
	[SC_OUTBOX_RETRY - STORE_LAZY_CHANNEL] =
	    "UPDATE outbox SET attempts = attempts + 1, key_gen = key_gen + ?7,"
	    " next_try = ?3 + max(?4, min(?6, ?5 << min(attempts, 20)))"
	    " WHERE id = ?1 AND account = ?2 AND state = 'queued'"
	    " RETURNING attempts, next_try - ?3",
	[SC_OUTBOX_RELEASE - STORE_LAZY_CHANNEL] =
	    "UPDATE outbox SET next_try = ?2 WHERE account = ?1"
	    " AND state = 'queued' AND next_try > ?2 AND attempts = 0",
	[SC_OUTBOX_COUNT - STORE_LAZY_CHANNEL] =
	    "SELECT count(*) FROM outbox WHERE account = ?1"
	    " AND state = 'queued'",
	[SC_OUTBOX_FINISH - STORE_LAZY_CHANNEL] =
	    "UPDATE outbox SET state = ?3, detail = ?4, finished = ?5,"
	    " reply_ctx = NULL WHERE id = ?1 AND account = ?2"
	    " AND state = 'queued'",
	[SC_OUTBOX_GET - STORE_LAZY_CHANNEL] =
	    "SELECT id, account, peer, state, coalesce(detail, ''), attempts,"
	    " created, coalesce(finished, 0) FROM outbox WHERE id = ?1",
	/* Past their age, or beyond the newest ?2 finished rows. */
	[SC_OUTBOX_PRUNE - STORE_LAZY_CHANNEL] =
	    "DELETE FROM outbox WHERE state <> 'queued' AND (finished < ?1"
	    " OR id < (SELECT min(id) FROM (SELECT id FROM outbox"
	    " WHERE state <> 'queued' ORDER BY id DESC LIMIT ?2)))",
	[SC_KV_GET - STORE_LAZY_CHANNEL] =
	    "SELECT value FROM kv WHERE account = ?1 AND key = ?2",
	[SC_KV_PUT - STORE_LAZY_CHANNEL] =
	    "INSERT INTO kv (account, key, value, updated) VALUES (?1, ?2, ?3,"
	    " ?4) ON CONFLICT (account, key) DO UPDATE SET"
	    " value = excluded.value, updated = excluded.updated",
	[SC_KV_DEL - STORE_LAZY_CHANNEL] =
	    "DELETE FROM kv WHERE account = ?1 AND key = ?2",
	[SC_PAIRING_LIVE - STORE_LAZY_CHANNEL] =
	    "SELECT 1 FROM pairings WHERE account = ?1 AND peer = ?2"
	    " AND expires > ?3",
	/* The newest ?1, shown oldest first. */
	[SC_AUDIT_LIST - STORE_LAZY_CHANNEL] =
	    "SELECT time, role, worker, session, method, detail FROM (SELECT *"
	    " FROM audit ORDER BY id DESC LIMIT ?1) ORDER BY id",
	/*
	 * A message's text rows joined in queue order (SQLite's
	 * group_concat keeps the order of the subquery's rows).
	 */
	[SC_OUTBOX_PARTS - STORE_LAZY_CHANNEL] =
	    "SELECT coalesce(group_concat(body, ''), ''), count(*) FROM"
	    " (SELECT body FROM outbox WHERE account = ?1 AND msg_id = ?2"
	    " AND attachment_id IS NULL ORDER BY id)",
	/*
	 * Rows on the peer's newest reply context: those queued (they go
	 * on it), and those made since the message that brought it.  Two
	 * counts, so that each has its index (outbox_peer,
	 * outbox_peer_created; an OR of the two walks the whole outbox),
	 * and that message found by messages_sender_ctx (without
	 * "reply_ctx <> ''" every message of the account ever stored).
	 */
	[SC_OUTBOX_TURN - STORE_LAZY_CHANNEL] =
	    "SELECT (SELECT count(*) FROM outbox INDEXED BY outbox_peer"
	    " WHERE account = ?1 AND peer = ?2 AND state = 'queued')"
	    " + (SELECT count(*) FROM outbox WHERE account = ?1"
	    " AND peer = ?2 AND state <> 'queued' AND created >="
	    " coalesce((SELECT created FROM messages WHERE account = ?1"
	    " AND sender = ?2 AND reply_ctx <> '' ORDER BY id DESC"
	    " LIMIT 1), 0))",
	[SC_KV_OTHERS - STORE_LAZY_CHANNEL] =
	    "SELECT count(*) FROM kv WHERE account = ?1 AND key <> ?2",
};

_Static_assert(sizeof(sc_sql) / sizeof(sc_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_CHANNEL, "store_channel.c outgrew its lazy slots");

static sqlite3_stmt *
sc_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sc_sql[which - STORE_LAZY_CHANNEL]);
}

#ifdef WX_TEST_HOOKS
/* Writes still to fail, as a full disk would: tests of "retry". */
static int	sc_fail_writes;

void
store_test_fail_writes(int n)
{
	sc_fail_writes = n;
}
#endif

/* A count of one or two text keys (b NULL: one); -1 on error. */
static int
sc_count(struct store *s, int which, const char *a, const char *b,
    const char *func)
{
	sqlite3_stmt *st = sc_stmt(s, which);
	int n;

	if (store_row(s, st, b != NULL ? store_bindv(st, "tt", a, b) :
	    store_bindv(st, "t", a), func) != 0)
		return -1;
	n = sqlite3_column_int(st, 0);
	store_done(st);
	return n;
}

/* store_exec, but a test may make it fail as a full disk would. */
static int
sc_exec(struct store *s, sqlite3_stmt *st, int bound, const char *func)
{
#ifdef WX_TEST_HOOKS
	if (sc_fail_writes > 0) {
		sc_fail_writes--;
		log_warnx("%s: test hook: write fails", func);
		store_done(st);
		return -1;
	}
#endif
	return store_exec(s, st, bound, func);
}

int
store_chan_session(struct store *s, const char *account, const char *peer,
    int64_t now, int64_t *id)
{
	sqlite3_stmt *st;

	store_touch(s);
	st = sc_stmt(s, SC_SESSION_ADD);
	if (sc_exec(s, st, store_bindv(st, "tti", account, peer, now),
	    __func__) == -1)
		return -1;
	st = sc_stmt(s, SC_SESSION_GET);
	/* The upsert just made the row: none is an error. */
	if (store_row(s, st, store_bindv(st, "tt", account, peer),
	    __func__) != 0)
		return -1;
	*id = sqlite3_column_int64(st, 0);
	store_done(st);
	return 0;
}

int
store_chan_of(struct store *s, int64_t session, char **account, char **peer)
{
	sqlite3_stmt *st;
	int rc;

	st = sc_stmt(s, SC_SESSION_OF);
	if ((rc = store_row(s, st, store_bindv(st, "i", session),
	    __func__)) != 0)
		return rc;
	*account = store_column_dup(st, 0);
	*peer = store_column_dup(st, 1);
	store_done(st);
	return 0;
}

int
store_chan_msg_seen(struct store *s, const char *account, const char *msgid)
{
	sqlite3_stmt *st;
	int rc;

	st = sc_stmt(s, SC_MSG_SEEN);
	if ((rc = store_row(s, st, store_bindv(st, "tt", account, msgid),
	    __func__)) != 0)
		return rc == 1 ? 0 : -1;
	store_done(st);
	return 1;
}

int
store_chan_msg_accept(struct store *s, const struct store_chan_msg *m,
    int64_t now, int64_t *id)
{
	sqlite3_stmt *st;

	store_touch(s);
	st = sc_stmt(s, SC_MSG_ACCEPT);
	if (sc_exec(s, st, store_bindv(st, "ittttti", m->session, m->account,
	    m->msgid, m->peer, m->text, m->reply_ctx, now), __func__) == -1)
		return -1;
	*id = sqlite3_last_insert_rowid(s->db);
	/* A cold conversation's history is read before it is answered. */
	return store_cold_wake(s, m->session);
}

char *
store_chan_msg_ctx(struct store *s, int64_t msg_id)
{
	sqlite3_stmt *st;
	char *ctx;

	st = sc_stmt(s, SC_MSG_CTX);
	if (store_row(s, st, store_bindv(st, "i", msg_id), __func__) != 0)
		return xstrdup("");
	ctx = store_column_dup(st, 0);
	store_done(st);
	return ctx;
}

int
store_outbox_add(struct store *s, const char *account, const char *peer,
    int64_t msg_id, int seq, const char *body, const char *reply_ctx,
    int64_t now, int64_t *id)
{
	sqlite3_stmt *st;

	store_touch(s);
	st = sc_stmt(s, SC_OUTBOX_ADD);
	if (sc_exec(s, st, store_bindv(st, "ttoitti", account, peer,
	    msg_id, (int64_t)seq, body, reply_ctx, now), __func__) == -1)
		return -1;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

/*
 * Due rows of account, at most limit, each leased until `until` before
 * fn sees it.  Rows are copied out first: fn may write to the store.
 */
int
store_outbox_lease(struct store *s, const char *account, int64_t now,
    int64_t until, unsigned limit, store_outbox_fn fn, void *arg)
{
	return store_outbox_lease_ctx(s, account, now, until, limit, 0,
	    INT64_MAX, fn, arg);
}

int
store_outbox_lease_ctx(struct store *s, const char *account, int64_t now,
    int64_t until, unsigned limit, int latest, int64_t below,
    store_outbox_fn fn, void *arg)
{
	struct store_outbox_row *rows;
	sqlite3_stmt *st;
	unsigned n = 0, i;
	int rc;

	rows = xcalloc(limit, sizeof(*rows));
	st = sc_stmt(s, latest ? SC_OUTBOX_DUE_LATEST : SC_OUTBOX_DUE);
	if (store_bindv(st, "tiii", account, now, (int64_t)limit, below) !=
	    SQLITE_OK) {
		store_done(st);
		free(rows);
		return store_err(s, __func__);
	}
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rows[n].id = sqlite3_column_int64(st, 0);
		rows[n].peer = store_column_dup(st, 1);
		rows[n].body = store_column_dup(st, 2);
		rows[n].reply_ctx = store_column_dup(st, 3);
		rows[n].attempts = sqlite3_column_int(st, 4);
		rows[n].created = sqlite3_column_int64(st, 5);
		rows[n].key_gen = sqlite3_column_int(st, 6);
		rows[n].attachment = sqlite3_column_int64(st, 7);
		rows[n].more = sqlite3_column_int(st, 8);
		rows[n].ctx_msg = sqlite3_column_int64(st, 9);
		rows[n].spent = sqlite3_column_int(st, 10);
		n++;
	}
	store_done(st);
	rc = 0;
	if (n > 0)
		store_touch(s);
	for (i = 0; i < n; i++) {
		st = sc_stmt(s, SC_OUTBOX_LEASE);
		if (rc == 0 && sc_exec(s, st, store_bindv(st, "iii",
		    rows[i].id, until, rows[i].ctx_msg), __func__) == -1)
			rc = -1;
		if (rc == 0)
			fn(&rows[i], arg);
		free(rows[i].peer);
		free(rows[i].body);
		xfree_secret(rows[i].reply_ctx);	/* a context token */
	}
	free(rows);
	return rc == 0 ? (int)n : -1;
}

int
store_outbox_ack(struct store *s, const char *account, int64_t id,
    int64_t now)
{
	sqlite3_stmt *st;

	store_touch(s);
	st = sc_stmt(s, SC_OUTBOX_ACK);
	if (sc_exec(s, st, store_bindv(st, "iti", id, account, now),
	    __func__) == -1)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return 1;
	/* A file's bytes are not kept once it went. */
	return store_attach_drop(s, id) == -1 ? -1 : 0;
}

int
store_outbox_finish(struct store *s, const char *account, int64_t id,
    const char *state, const char *detail, int64_t now)
{
	sqlite3_stmt *st;

	store_touch(s);
	st = sc_stmt(s, SC_OUTBOX_FINISH);
	if (sc_exec(s, st, store_bindv(st, "ittti", id, account, state,
	    detail, now), __func__) == -1)
		return -1;
	if (sqlite3_changes(s->db) == 0)
		return 1;
	return store_attach_drop(s, id) == -1 ? -1 : 0;
}

int
store_outbox_get(struct store *s, int64_t id, struct store_outbox_state *o)
{
	sqlite3_stmt *st;
	int rc;

	memset(o, 0, sizeof(*o));
	st = sc_stmt(s, SC_OUTBOX_GET);
	if ((rc = store_row(s, st, store_bindv(st, "i", id), __func__)) != 0)
		return rc;
	o->id = sqlite3_column_int64(st, 0);
	o->account = store_column_dup(st, 1);
	o->peer = store_column_dup(st, 2);
	o->state = store_column_dup(st, 3);
	o->detail = store_column_dup(st, 4);
	o->attempts = sqlite3_column_int(st, 5);
	o->created = sqlite3_column_int64(st, 6);
	o->finished = sqlite3_column_int64(st, 7);
	store_done(st);
	return 0;
}

void
store_outbox_state_free(struct store_outbox_state *o)
{
	free(o->account);
	free(o->peer);
	free(o->state);
	free(o->detail);
	memset(o, 0, sizeof(*o));
}

int
store_outbox_prune(struct store *s, int64_t before, unsigned keep)
{
	int n;

	if (store_write(s, sc_stmt(s, SC_OUTBOX_PRUNE), __func__, "ii", before,
	    (int64_t)keep) == -1)
		return -1;
	n = sqlite3_changes(s->db);
	/* Their files go in the same turn. */
	if (n > 0 && store_attach_prune(s) == -1)
		return -1;
	return n;
}

int
store_outbox_retry(struct store *s, const char *account, int64_t id,
    const struct store_retry *r, int64_t *delay)
{
	sqlite3_stmt *st;
	int rc, attempts;

	store_touch(s);
	st = sc_stmt(s, SC_OUTBOX_RETRY);
	if ((rc = store_row(s, st, store_bindv(st, "itiiiii", id, account,
	    r->now, r->after_s, r->base_s, r->max_s, (int64_t)(r->new_key != 0)),
	    __func__)) != 0)
		return rc == 1 ? 0 : -1;
	attempts = sqlite3_column_int(st, 0);
	*delay = sqlite3_column_int64(st, 1);
	/* Step to the end so the UPDATE ... RETURNING completes. */
	while (sqlite3_step(st) == SQLITE_ROW)
		;
	store_done(st);
	return attempts;
}

/*
 * The account's worker holds nothing now (it just started): leased rows
 * are due at once.  Rows waiting out a retry delay keep it.
 */
int
store_outbox_release(struct store *s, const char *account, int64_t now)
{
	sqlite3_stmt *st;

	store_touch(s);
	st = sc_stmt(s, SC_OUTBOX_RELEASE);
	return sc_exec(s, st, store_bindv(st, "ti", account, now), __func__);
}

int
store_outbox_count(struct store *s, const char *account)
{
	return sc_count(s, SC_OUTBOX_COUNT, account, NULL, __func__);
}

/*
 * What was queued for a message's answer so far, joined, and in how
 * many rows (stream_mode block after a restart).  0, or -1.
 */
int
store_outbox_parts(struct store *s, const char *account, int64_t msg_id,
    char **text, int *rows)
{
	sqlite3_stmt *st;

	st = sc_stmt(s, SC_OUTBOX_PARTS);
	if (store_row(s, st, store_bindv(st, "ti", account, msg_id),
	    __func__) != 0)
		return -1;
	*text = store_column_dup(st, 0);
	*rows = sqlite3_column_int(st, 1);
	store_done(st);
	return 0;
}

/* Rows that spend the peer's newest reply context; -1 on error. */
int
store_outbox_turn(struct store *s, const char *account, const char *peer)
{
	return sc_count(s, SC_OUTBOX_TURN, account, peer, __func__);
}

int
store_kv_get(struct store *s, const char *account, const char *key,
    char **value)
{
	sqlite3_stmt *st;
	int rc;

	st = sc_stmt(s, SC_KV_GET);
	if ((rc = store_row(s, st, store_bindv(st, "tt", account, key),
	    __func__)) != 0)
		return rc;
	*value = store_column_dup(st, 0);
	store_done(st);
	return 0;
}

int
store_kv_put(struct store *s, const char *account, const char *key,
    const char *value, int64_t now)
{
	sqlite3_stmt *st;

	store_touch(s);
	if (value[0] == '\0') {
		st = sc_stmt(s, SC_KV_DEL);
		return sc_exec(s, st, store_bindv(st, "tt", account, key),
		    __func__);
	}
	st = sc_stmt(s, SC_KV_PUT);
	return sc_exec(s, st, store_bindv(st, "ttti", account, key, value,
	    now), __func__);
}

/* The account's keys other than key (its bound counts new ones); -1. */
int
store_kv_others(struct store *s, const char *account, const char *key)
{
	return sc_count(s, SC_KV_OTHERS, account, key, __func__);
}

int
store_pairing_live(struct store *s, const char *account, const char *peer,
    int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	st = sc_stmt(s, SC_PAIRING_LIVE);
	if ((rc = store_row(s, st, store_bindv(st, "tti", account, peer, now),
	    __func__)) != 0)
		return rc == 1 ? 0 : -1;
	store_done(st);
	return 1;
}

int
store_audit_list(struct store *s, unsigned limit, store_audit_fn fn,
    void *arg)
{
	struct store_audit_row r;
	sqlite3_stmt *st;
	int rc;

	st = sc_stmt(s, SC_AUDIT_LIST);
	if (store_bindv(st, "i", (int64_t)limit) != SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		r.time = sqlite3_column_int64(st, 0);
		r.role = (const char *)sqlite3_column_text(st, 1);
		r.worker = (const char *)sqlite3_column_text(st, 2);
		r.session = sqlite3_column_int64(st, 3);
		r.method = (const char *)sqlite3_column_text(st, 4);
		r.detail = (const char *)sqlite3_column_text(st, 5);
		if (fn(&r, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}
