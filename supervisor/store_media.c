/*
 * The media area: attachments people sent to channel accounts, kept
 * with the message they came in (messages.id) so they go in the same
 * commit as the message and with it when it is pruned.  Called by
 * channel_media.c (admission) and channel.c's sweep (retention).
 *
 * Bounded twice: by age (media.retention_days) and by bytes
 * (media.stored_max_bytes).  To make room the oldest answered
 * messages' parts go first; parts of a message still waiting for its
 * agent are never dropped to let a newer one in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "store.h"
#include "store_int.h"

enum {
	SM_ADD = STORE_LAZY_MEDIA,
	SM_BYTES,
	SM_DROP_ANSWERED,
	SM_PRUNE,
	SM_OF,
};

static const char *const sm_sql[] = {
	[SM_ADD - STORE_LAZY_MEDIA] =
	    "INSERT INTO media (id, account, msg_id, seq, kind, name, size,"
	    " sha256, data, created) VALUES (wx_id(), ?1, ?2, ?3, ?4, ?5, ?6,"
	    " ?7, ?8, ?9)",
	[SM_BYTES - STORE_LAZY_MEDIA] =
	    "SELECT coalesce(sum(size), 0), count(*) FROM media",
	[SM_DROP_ANSWERED - STORE_LAZY_MEDIA] =
	    "DELETE FROM media WHERE id IN (SELECT m.id FROM media m JOIN"
	    " messages g ON g.id = m.msg_id WHERE g.state = 3 ORDER BY m.id"
	    " LIMIT 1)",
	[SM_PRUNE - STORE_LAZY_MEDIA] =
	    "DELETE FROM media WHERE created < ?1",
	[SM_OF - STORE_LAZY_MEDIA] =
	    "SELECT seq, kind, name, size, data FROM media WHERE msg_id = ?1"
	    " ORDER BY seq",
};

_Static_assert(sizeof(sm_sql) / sizeof(sm_sql[0]) <= STORE_LAZY_MAX -
    STORE_LAZY_MEDIA, "store_media.c outgrew its lazy slots");

static sqlite3_stmt *
sm_stmt(struct store *s, int which)
{
	return store_lazy(s, which, sm_sql[which - STORE_LAZY_MEDIA]);
}

int
store_media_add(struct store *s, const struct store_media *m, int64_t now)
{
	sqlite3_stmt *st;
	int rc;

	if (m->size == 0 || m->size > INT32_MAX)
		return -1;
	store_touch(s);
	st = sm_stmt(s, SM_ADD);
	rc = store_bindv(st, "tiitti", m->account, m->msg_id,
	    (int64_t)m->seq, m->kind, m->name, (int64_t)m->size);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 7, m->sha256, STORE_HASH_LEN,
		    SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_blob(st, 8, m->data, (int)m->size,
		    SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(st, 9, now);
	return store_exec(s, st, rc, __func__);
}

int
store_media_bytes(struct store *s, uint64_t *bytes, uint64_t *rows)
{
	sqlite3_stmt *st;

	st = sm_stmt(s, SM_BYTES);
	if (store_row(s, st, SQLITE_OK, __func__) != 0)
		return -1;
	*bytes = (uint64_t)sqlite3_column_int64(st, 0);
	if (rows != NULL)
		*rows = (uint64_t)sqlite3_column_int64(st, 1);
	store_done(st);
	return 0;
}

int
store_media_room(struct store *s, uint64_t need, uint64_t cap)
{
	sqlite3_stmt *st;
	uint64_t have;

	for (;;) {
		if (store_media_bytes(s, &have, NULL) == -1)
			return -1;
		if (have <= cap && need <= cap - have)
			return 0;
		store_touch(s);
		st = sm_stmt(s, SM_DROP_ANSWERED);
		if (store_exec(s, st, SQLITE_OK, __func__) == -1)
			return -1;
		if (sqlite3_changes(s->db) == 0)
			return 1;
	}
}

int
store_media_each(struct store *s, int64_t msg_id,
    int (*cb)(const struct store_media *, void *), void *arg)
{
	struct store_media m;
	sqlite3_stmt *st;
	int rc, n, stop = 0;

	st = sm_stmt(s, SM_OF);
	if ((rc = store_bindv(st, "i", msg_id)) != SQLITE_OK) {
		store_done(st);
		return -1;
	}
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&m, 0, sizeof(m));
		m.msg_id = msg_id;
		m.seq = (unsigned)sqlite3_column_int(st, 0);
		m.kind = (const char *)sqlite3_column_text(st, 1);
		m.name = (const char *)sqlite3_column_text(st, 2);
		m.size = (size_t)sqlite3_column_int64(st, 3);
		m.data = sqlite3_column_blob(st, 4);
		n = sqlite3_column_bytes(st, 4);
		/* A size that lies is a part not given, never a short one. */
		if (m.kind == NULL || m.name == NULL || m.data == NULL ||
		    n <= 0 || (size_t)n != m.size)
			continue;
		stop = cb(&m, arg);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		log_warnx("%s: %s", __func__, sqlite3_errmsg(s->db));
	store_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

int
store_media_prune(struct store *s, int64_t before)
{
	if (store_write(s, sm_stmt(s, SM_PRUNE), __func__, "i", before) == -1)
		return -1;
	return sqlite3_changes(s->db);
}
