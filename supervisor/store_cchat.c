/*
 * The console's chat threads (schema version 12), for console_chat.c.
 * A thread is a session row of its own, without a token or an account,
 * so the web chat's sweep never deletes it and no browser can bind it;
 * its messages are ordinary messages, answered and read back by the
 * same code as every chat's (store.c, router_agent.c).  A branch is a
 * new thread holding copies of another's answered messages up to one of
 * them, so the agent sees that history and nothing after it.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

enum {
	SH_SESSION = STORE_LAZY_CCHAT,
	SH_THREAD,
	SH_FIND,
	SH_LIST,
	SH_MESSAGES,
	SH_OF_MSG,
	SH_COPY,
	SH_MODEL,
	SH_OF_SESSION,
	SH_SEQ_NEXT,
	SH_SEQ_SET,
	SH_SEQ_GET,
};

static const char *const sh_sql[] = {
	/* Not anonymous and no token: store_session_expired skips it. */
	[SH_SESSION - STORE_LAZY_CCHAT] =
	    "INSERT INTO sessions (id, token_hash, created, last_seen, expires,"
	    " anonymous) VALUES (wx_id(), NULL, ?1, ?1, NULL, 0)",
	[SH_THREAD - STORE_LAZY_CCHAT] =
	    "INSERT INTO console_threads (id, session_id, agent, operator,"
	    " parent_id, parent_msg, created, e2e)"
	    " VALUES (wx_id(), ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SH_FIND - STORE_LAZY_CCHAT] =
	    "SELECT id, session_id, agent, operator, coalesce(parent_id, 0),"
	    " coalesce(parent_msg, 0), created, e2e FROM console_threads"
	    " WHERE id = ?1",
	/* The newest message's text names a thread in the list. */
	[SH_LIST - STORE_LAZY_CCHAT] =
	    "SELECT t.id, t.session_id, t.agent, t.operator,"
	    " coalesce(t.parent_id, 0), coalesce(t.parent_msg, 0), t.created,"
	    " t.e2e, (SELECT m.text FROM messages m WHERE m.session_id = t.session_id"
	    "  ORDER BY m.id DESC LIMIT 1),"
	    " (SELECT count(*) FROM messages m"
	    "  WHERE m.session_id = t.session_id)"
	    " FROM console_threads t ORDER BY t.id DESC LIMIT ?1",
	[SH_MESSAGES - STORE_LAZY_CCHAT] =
	    "SELECT id, text, state, reply, created, coalesce(answered, 0),"
	    " error, command, coalesce(seq, 0) FROM messages"
	    " WHERE session_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	/* Only an answered message is a point to branch from. */
	[SH_OF_MSG - STORE_LAZY_CCHAT] =
	    "SELECT t.id, t.session_id, t.agent FROM messages m"
	    " JOIN console_threads t ON t.session_id = m.session_id"
	    " WHERE m.id = ?1 AND m.state = 3 AND t.e2e = 0",
	[SH_COPY - STORE_LAZY_CCHAT] =
	    "INSERT INTO messages (id, session_id, client_msg_id, text, state,"
	    " reply, created, answered, error, command)"
	    " SELECT wx_id(), ?1, client_msg_id, text, 3, reply, created,"
	    " answered, error, command FROM messages WHERE session_id = ?2"
	    " AND id <= ?3 AND state = 3 ORDER BY id",
	/* A branch keeps the model /model picked in its parent. */
	[SH_MODEL - STORE_LAZY_CCHAT] =
	    "UPDATE sessions SET model = (SELECT model FROM sessions"
	    " WHERE id = ?2) WHERE id = ?1",
	[SH_OF_SESSION - STORE_LAZY_CCHAT] =
	    "SELECT id, session_id, agent, operator, coalesce(parent_id, 0),"
	    " coalesce(parent_msg, 0), created, e2e FROM console_threads"
	    " WHERE session_id = ?1",
	/* A sealed message's number: one more than the thread's last. */
	[SH_SEQ_NEXT - STORE_LAZY_CCHAT] =
	    "SELECT coalesce(max(seq), 0) + 1 FROM messages"
	    " WHERE session_id = ?1",
	[SH_SEQ_SET - STORE_LAZY_CCHAT] =
	    "UPDATE messages SET seq = ?2 WHERE id = ?1",
	[SH_SEQ_GET - STORE_LAZY_CCHAT] =
	    "SELECT coalesce(seq, 0) FROM messages WHERE id = ?1",
};

_Static_assert(sizeof(sh_sql) / sizeof(sh_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_CCHAT, "store_cchat.c outgrew its lazy slots");

static sqlite3_stmt *
sh_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sh_sql[which - STORE_LAZY_CCHAT]);
}

static int
sh_create(struct store *s, const char *agent, const char *operator,
    int64_t parent, int64_t parent_msg, int e2e, int64_t now,
    int64_t *thread, int64_t *session)
{
	if (store_write(s, sh_stmt(s, SH_SESSION), __func__, "i", now) == -1)
		return -1;
	*session = sqlite3_last_insert_rowid(s->db);
	if (store_write(s, sh_stmt(s, SH_THREAD), __func__, "ittooii",
	    *session, agent, operator, parent, parent_msg, now,
	    (int64_t)(e2e != 0)) == -1)
		return -1;
	*thread = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_cchat_create(struct store *s, const char *agent, const char *operator,
    int e2e, int64_t now, int64_t *thread)
{
	int64_t session;

	return sh_create(s, agent, operator, 0, 0, e2e, now, thread,
	    &session);
}

int
store_cchat_branch(struct store *s, int64_t msg_id, const char *operator,
    int64_t now, int64_t *thread)
{
	char agent[STORE_CCHAT_NAME];
	int64_t parent, from, session;
	sqlite3_stmt *st;
	int rc;

	st = sh_stmt(s, SH_OF_MSG);
	if ((rc = store_row(s, st, store_bindv(st, "i", msg_id),
	    __func__)) != 0)
		return rc;
	parent = sqlite3_column_int64(st, 0);
	from = sqlite3_column_int64(st, 1);
	store_column_copy(st, 2, agent, sizeof(agent));
	store_done(st);
	if (sh_create(s, agent, operator, parent, msg_id, 0, now, thread,
	    &session) == -1 ||
	    store_write(s, sh_stmt(s, SH_COPY), __func__, "iii", session,
	    from, msg_id) == -1 ||
	    store_write(s, sh_stmt(s, SH_MODEL), __func__, "ii", session,
	    from) == -1)
		return -1;
	return 0;
}

static void
sh_thread(sqlite3_stmt *st, struct store_cchat *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	t->session_id = sqlite3_column_int64(st, 1);
	store_column_copy(st, 2, t->agent, sizeof(t->agent));
	store_column_copy(st, 3, t->operator, sizeof(t->operator));
	t->parent_id = sqlite3_column_int64(st, 4);
	t->parent_msg = sqlite3_column_int64(st, 5);
	t->created = sqlite3_column_int64(st, 6);
	t->e2e = sqlite3_column_int(st, 7);
}

static int
sh_find(struct store *s, int which, int64_t key, struct store_cchat *t)
{
	sqlite3_stmt *st;
	int rc;

	memset(t, 0, sizeof(*t));
	st = sh_stmt(s, which);
	if ((rc = store_row(s, st, store_bindv(st, "i", key), __func__)) != 0)
		return rc;
	sh_thread(st, t);
	store_done(st);
	return 0;
}

int
store_cchat_find(struct store *s, int64_t thread, struct store_cchat *t)
{
	return sh_find(s, SH_FIND, thread, t);
}

/* The thread a session is, for the request its message makes. */
int
store_cchat_of_session(struct store *s, int64_t session,
    struct store_cchat *t)
{
	return sh_find(s, SH_OF_SESSION, session, t);
}

static int64_t
sh_number(struct store *s, int which, int64_t key, const char *fn)
{
	sqlite3_stmt *st;
	int64_t n;

	st = sh_stmt(s, which);
	if (store_row(s, st, store_bindv(st, "i", key), fn) != 0)
		return -1;
	n = sqlite3_column_int64(st, 0);
	store_done(st);
	return n;
}

/* The number the thread's next sealed message takes, or -1. */
int64_t
store_cchat_seq_next(struct store *s, int64_t session)
{
	return sh_number(s, SH_SEQ_NEXT, session, __func__);
}

int
store_cchat_seq_set(struct store *s, int64_t msg_id, int64_t seq)
{
	return store_write(s, sh_stmt(s, SH_SEQ_SET), __func__, "ii", msg_id,
	    seq);
}

/* A message's number (0: not sealed), or -1. */
int64_t
store_cchat_seq(struct store *s, int64_t msg_id)
{
	return sh_number(s, SH_SEQ_GET, msg_id, __func__);
}

int
store_cchat_list(struct store *s, unsigned max, store_cchat_fn fn, void *arg)
{
	struct store_cchat t;
	sqlite3_stmt *st;
	int rc;

	st = sh_stmt(s, SH_LIST);
	if ((rc = store_bindv(st, "i", (int64_t)max)) != SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sh_thread(st, &t);
		t.last_text = (const char *)sqlite3_column_text(st, 8);
		t.count = sqlite3_column_int64(st, 9);
		if (fn(&t, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}

int
store_cchat_messages(struct store *s, int64_t session, int64_t since,
    unsigned max, store_cchat_msg_fn fn, void *arg)
{
	struct store_cchat_msg m;
	sqlite3_stmt *st;
	int rc;

	st = sh_stmt(s, SH_MESSAGES);
	if ((rc = store_bindv(st, "iii", session, since, (int64_t)max)) !=
	    SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		m.id = sqlite3_column_int64(st, 0);
		m.text = (const char *)sqlite3_column_text(st, 1);
		m.state = sqlite3_column_int(st, 2);
		m.reply = (const char *)sqlite3_column_text(st, 3);
		m.created = sqlite3_column_int64(st, 4);
		m.answered = sqlite3_column_int64(st, 5);
		m.error = (const char *)sqlite3_column_text(st, 6);
		m.command = sqlite3_column_int(st, 7);
		m.seq = sqlite3_column_int64(st, 8);
		if (fn(&m, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}
