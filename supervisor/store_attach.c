/*
 * Attachments (wxgatectl send --file): a file's bytes kept in the store
 * with the outbox row that sends them, so a queued file survives a
 * crash exactly as a queued text does, and goes in the same commit.
 * Called by channel.c (queue, lease, the bound) and by the outbox's
 * own ack, finish and prune (store_channel.c).  It never reads a file:
 * the bytes come from the control socket's handler, already in memory.
 *
 * A row's bytes are dropped when the row ends (sent or failed), the
 * attachment row itself when the outbox prunes the last row naming it.
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
	SA_ADD = STORE_LAZY_ATTACH,
	SA_OUTBOX_ADD,
	SA_WAITING,
	SA_GET,
	SA_DROP_DATA,
	SA_PRUNE,
};

static const char *const sa_sql[] = {
	[SA_ADD - STORE_LAZY_ATTACH] =
	    "INSERT INTO attachments (id, name, kind, size, sha256, data,"
	    " created) VALUES (wx_id(), ?1, ?2, ?3, ?4, ?5, ?6)",
	/*
	 * An operator's send has no message (NULL, seq 0, like ctl.send's
	 * rows); a reply's file comes after its text, with its context.
	 */
	[SA_OUTBOX_ADD - STORE_LAZY_ATTACH] =
	    "INSERT INTO outbox (id, account, peer, msg_id, seq, body,"
	    " reply_ctx, created, next_try, attachment_id) VALUES (wx_id(),"
	    " ?1, ?2, ?6, ?7, ?3, ?8, ?4, ?4, ?5)",
	[SA_WAITING - STORE_LAZY_ATTACH] =
	    "SELECT coalesce(sum(a.size), 0) FROM attachments a WHERE"
	    " EXISTS (SELECT 1 FROM outbox o WHERE o.attachment_id = a.id"
	    " AND o.state = 'queued')",
	[SA_GET - STORE_LAZY_ATTACH] =
	    "SELECT name, kind, size, data FROM attachments WHERE id = ?1",
	[SA_DROP_DATA - STORE_LAZY_ATTACH] =
	    "UPDATE attachments SET data = X'' WHERE id = (SELECT"
	    " attachment_id FROM outbox WHERE id = ?1) AND NOT EXISTS (SELECT"
	    " 1 FROM outbox o WHERE o.attachment_id = attachments.id AND"
	    " o.state = 'queued')",
	[SA_PRUNE - STORE_LAZY_ATTACH] =
	    "DELETE FROM attachments WHERE NOT EXISTS (SELECT 1 FROM outbox o"
	    " WHERE o.attachment_id = attachments.id)",
};

_Static_assert(sizeof(sa_sql) / sizeof(sa_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_ATTACH, "store_attach.c outgrew its lazy slots");

static sqlite3_stmt *
sa_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sa_sql[which - STORE_LAZY_ATTACH]);
}

int
store_attach_add(struct store *s, const struct store_attach *a,
    int64_t now, int64_t *outbox_id)
{
	sqlite3_stmt *st;
	int64_t aid;
	int rc;

	if (a->size == 0 || a->size > INT32_MAX)
		return -1;
	store_touch(s);
	st = sa_stmt(s, SA_ADD);
	rc = store_bindv(st, "tti", a->name, a->kind, (int64_t)a->size);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 4, a->sha256, STORE_HASH_LEN,
		    SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 5, a->data, (int)a->size,
		    SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 6, now);
	if (store_exec(s, st, rc, __func__) == -1)
		return -1;
	aid = sqlite3_last_insert_rowid(s->db);
	st = sa_stmt(s, SA_OUTBOX_ADD);
	if (store_exec(s, st, store_bindv(st, "tttiioit", a->account, a->peer,
	    a->name, now, aid, a->msg_id, (int64_t)a->seq,
	    a->reply_ctx != NULL ? a->reply_ctx : ""), __func__) == -1)
		return -1;
	if (outbox_id != NULL)
		*outbox_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
store_attach_waiting(struct store *s, uint64_t *bytes)
{
	sqlite3_stmt *st;
	int rc;

	st = sa_stmt(s, SA_WAITING);
	if ((rc = store_row(s, st, SQLITE_OK, __func__)) != 0)
		return -1;
	*bytes = (uint64_t)sqlite3_column_int64(st, 0);
	store_done(st);
	return 0;
}

int
store_attach_get(struct store *s, int64_t id, struct store_attach *a)
{
	sqlite3_stmt *st;
	const void *p;
	int rc, n;

	memset(a, 0, sizeof(*a));
	st = sa_stmt(s, SA_GET);
	if ((rc = store_row(s, st, store_bindv(st, "i", id), __func__)) != 0)
		return rc;
	a->name = store_column_dup(st, 0);
	a->kind = store_column_dup(st, 1);
	a->size = (size_t)sqlite3_column_int64(st, 2);
	p = sqlite3_column_blob(st, 3);
	n = sqlite3_column_bytes(st, 3);
	/* Bytes already dropped (the row ended), or a size that lies. */
	if (p == NULL || n <= 0 || (size_t)n != a->size) {
		store_done(st);
		store_attach_free(a);
		return 1;
	}
	a->data = xmalloc(a->size);
	memcpy(a->data, p, a->size);
	store_done(st);
	return 0;
}

void
store_attach_free(struct store_attach *a)
{
	free(a->name);
	free(a->kind);
	free(a->data);
	memset(a, 0, sizeof(*a));
}

/* Outbox row id ended: its attachment's bytes, if no other row waits. */
int
store_attach_drop(struct store *s, int64_t outbox_id)
{
	return store_write(s, sa_stmt(s, SA_DROP_DATA), __func__, "i",
	    outbox_id);
}

/* After an outbox prune: attachments no row names any more. */
int
store_attach_prune(struct store *s)
{
	sqlite3_stmt *st;

	store_touch(s);
	st = sa_stmt(s, SA_PRUNE);
	if (store_exec(s, st, SQLITE_OK, __func__) == -1)
		return -1;
	return sqlite3_changes(s->db);
}
