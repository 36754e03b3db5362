/*
 * Channel conversations for the console's Conversations page
 * (console_page_conv.c): each account's peers with their latest message
 * time, newest first, and one conversation's messages, a page at a
 * time from the newest, with the state of the reply's outbox rows, and
 * the rows written to the peer first, not as a reply.  Searches are substrings found with
 * instr() on lower(), not LIKE: a peer's '%' or '_' needs no escaping,
 * and the console's query words are lower case already.
 */
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "store.h"
#include "store_int.h"

enum {
	SV_LIST = STORE_LAZY_CONV,
	SV_MESSAGES,
	SV_PEER,
};

static const char *const sv_sql[] = {
	/*
	 * The page asks every 5 s, so this costs the conversations, not
	 * their messages: each one's newest message is one seek, since a
	 * platform's messages carry no client_msg_id (SC_MSG_ACCEPT) and
	 * so sit at (session_id, NULL, id) in its UNIQUE index; only the
	 * ?3 shown are counted.  A search (?2) reads the texts, as it must.
	 */
	[SV_LIST - STORE_LAZY_CONV] =
	    "SELECT id, account, peer, last, (SELECT count(*) FROM messages"
	    " c WHERE c.session_id = v.id) FROM (SELECT s.id AS id,"
	    " s.account AS account, s.peer AS peer, m.created AS last"
	    " FROM sessions s JOIN messages m ON m.id = (SELECT max(x.id)"
	    "  FROM messages x WHERE x.session_id = s.id"
	    "  AND x.client_msg_id IS NULL)"
	    " WHERE s.account IS NOT NULL"
	    " AND (?1 IS NULL OR instr(lower(s.peer), ?1) > 0)"
	    " AND (?2 IS NULL OR EXISTS (SELECT 1 FROM messages t"
	    "  WHERE t.session_id = s.id AND (instr(lower(t.text), ?2) > 0"
	    "  OR instr(lower(coalesce(t.reply, '')), ?2) > 0)))"
	    " ORDER BY m.created DESC, s.id DESC LIMIT ?3) v"
	    " ORDER BY last DESC, id DESC",
	/*
	 * The reply's parts go in order; the last one says where it is.
	 * Rows written first (wxgatectl send, the console's take-over, a
	 * schedule) are the conversation's too, with no message of theirs.
	 * ?3..?5: the oldest row a page showed (created, sent, id), for the
	 * page before it; NULL for the newest.  A reset is the /new the
	 * session's context starts after (context_from), or an earlier one
	 * the chat commands answered: only the latest is kept as such.
	 */
	[SV_MESSAGES - STORE_LAZY_CONV] =
	    "SELECT id, created, answered, sender, text, reply, delivery, sent,"
	    " reset FROM (SELECT m.id AS id, m.created AS created,"
	    "  m.answered AS answered, m.sender AS sender, m.text AS text,"
	    "  m.reply AS reply, (SELECT o.state FROM outbox o"
	    "  WHERE o.msg_id = m.id ORDER BY o.id DESC LIMIT 1) AS delivery,"
	    "  0 AS sent, (m.id = (SELECT context_from FROM sessions"
	    "  WHERE id = ?1) OR (m.command = 1 AND"
	    "  (lower(trim(m.text)) = '/new' OR"
	    "  lower(trim(m.text)) LIKE '/new %'))) AS reset"
	    "  FROM messages m WHERE m.session_id = ?1"
	    " UNION ALL SELECT o.id, o.created, NULL, NULL, NULL, o.body,"
	    "  o.state, 1, 0 FROM sessions s JOIN outbox o ON o.account ="
	    "  s.account AND o.peer = s.peer AND o.msg_id IS NULL"
	    "  WHERE s.id = ?1)"
	    " WHERE ?3 IS NULL OR (created, sent, id) < (?3, ?4, ?5)"
	    " ORDER BY created DESC, sent DESC, id DESC LIMIT ?2",
	[SV_PEER - STORE_LAZY_CONV] =
	    "SELECT account, peer FROM sessions WHERE id = ?1"
	    " AND account IS NOT NULL AND peer IS NOT NULL",
};

_Static_assert(sizeof(sv_sql) / sizeof(sv_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_CONV, "store_conv.c outgrew its lazy slots");

static sqlite3_stmt *
sv_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sv_sql[which - STORE_LAZY_CONV]);
}

/* The page's cursor, as ?3..?5 of SV_MESSAGES. */
static int
sv_bind_at(sqlite3_stmt *st, const struct store_conv_at *at)
{
	int rc;

	if ((rc = sqlite3_bind_int64(st, 3, at->created)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int(st, 4, at->sent)) == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 5, at->id);
	return rc;
}

int
store_conv_list(struct store *s, const char *peer, const char *text,
    unsigned max, store_conv_fn fn, void *arg)
{
	struct store_conv c;
	sqlite3_stmt *st;
	int rc;

	st = sv_stmt(s, SV_LIST);
	if ((rc = store_bindv(st, "tti", peer, text, (int64_t)max)) !=
	    SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		c.session_id = sqlite3_column_int64(st, 0);
		c.account = (const char *)sqlite3_column_text(st, 1);
		c.peer = (const char *)sqlite3_column_text(st, 2);
		c.last = sqlite3_column_int64(st, 3);
		c.count = sqlite3_column_int64(st, 4);
		if (c.peer == NULL || fn(&c, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}

int
store_conv_messages(struct store *s, int64_t session_id,
    const struct store_conv_at *before, unsigned max, store_conv_msg_fn fn,
    void *arg)
{
	struct store_conv_msg cm;
	sqlite3_stmt *st;
	int rc;

	st = sv_stmt(s, SV_MESSAGES);
	rc = store_bindv(st, "ii", session_id, (int64_t)max);
	if (rc == SQLITE_OK && before != NULL)
		rc = sv_bind_at(st, before);
	if (rc != SQLITE_OK) {
		store_done(st);
		return store_err(s, __func__);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cm.id = sqlite3_column_int64(st, 0);
		cm.created = sqlite3_column_int64(st, 1);
		cm.answered = sqlite3_column_int64(st, 2);
		cm.sender = (const char *)sqlite3_column_text(st, 3);
		cm.text = (const char *)sqlite3_column_text(st, 4);
		cm.reply = (const char *)sqlite3_column_text(st, 5);
		cm.delivery = (const char *)sqlite3_column_text(st, 6);
		cm.sent = sqlite3_column_int(st, 7);
		cm.reset = sqlite3_column_int(st, 8);
		if (fn(&cm, arg) == -1)
			break;
	}
	return store_rows_end(s, st, rc, __func__);
}

int
store_conv_peer(struct store *s, int64_t session_id, char *account,
    size_t asize, char *peer, size_t psize)
{
	sqlite3_stmt *st;
	int rc;

	st = sv_stmt(s, SV_PEER);
	rc = store_bindv(st, "i", session_id);
	if ((rc = store_row(s, st, rc, __func__)) != 0)
		return rc;
	store_column_copy(st, 0, account, asize);
	store_column_copy(st, 1, peer, psize);
	store_done(st);
	return 0;
}
