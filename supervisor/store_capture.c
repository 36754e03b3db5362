/*
 * Change capture: SQLite's session extension records every row the
 * store's writes change, whichever of the store's functions made them,
 * so shipping a turn to PostgreSQL (pgapply.c) needs no second copy of
 * each write.  One session per turn: taken after the commit, then made
 * anew; a turn rolled back is discarded with its session, since a
 * session keeps what a rollback undid.
 *
 * Column names come from the database itself (PRAGMA table_info), read
 * once per table.  Tables without a primary key would be skipped by the
 * session; the schema has none (test_schema).
 *
 * The other way, store_absorb() takes a row of the shared truth into
 * the working set (pgload.c, when a lease is taken or a session comes
 * from another node): an upsert by primary key, unrecorded, since the
 * row is already where it would be shipped.
 */
#define SQLITE_ENABLE_SESSION		1
#define SQLITE_ENABLE_PREUPDATE_HOOK	1

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "hex.h"
#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

#define CAP_TABLES_MAX	48
#define CAP_COLS_MAX	64

struct cap_table {
	char		*name;
	unsigned	 ncol;
	char		*col[CAP_COLS_MAX];
	char		 type[CAP_COLS_MAX];	/* I integer, B blob, T text */
	unsigned char	 pk[CAP_COLS_MAX];
	int		 acol;			/* "account" (accounts: name), or -1 */
	int		 idcol;			/* "id", or -1 */
	sqlite3_stmt	*upsert;		/* store_absorb's */
	sqlite3_stmt	*owner;			/* its account by id, or NULL */
};

struct store_cap {
	sqlite3_session	*sess;
	struct cap_table tab[CAP_TABLES_MAX];
	unsigned	 ntab;
};

static int
cap_session(struct store *s)
{
	struct store_cap *c = s->cap;
	int rc;

	if ((rc = sqlite3session_create(s->db, "main", &c->sess)) !=
	    SQLITE_OK || (rc = sqlite3session_attach(c->sess, NULL)) !=
	    SQLITE_OK) {
		log_warnx("store: capture: %s", sqlite3_errstr(rc));
		if (c->sess != NULL)
			sqlite3session_delete(c->sess);
		c->sess = NULL;
		return -1;
	}
	return 0;
}

int
store_capture(struct store *s)
{
	if (s->cap == NULL)
		s->cap = xcalloc(1, sizeof(*s->cap));
	if (s->cap->sess != NULL)
		return 0;
	return cap_session(s);
}

void
store_capture_discard(struct store *s)
{
	if (s->cap == NULL || s->cap->sess == NULL)
		return;
	if (s->cap->sess != NULL)
		sqlite3session_delete(s->cap->sess);
	s->cap->sess = NULL;
	cap_session(s);
}

void
store_capture_free(struct store *s)
{
	struct store_cap *c = s->cap;
	unsigned i, j;

	if (c == NULL)
		return;
	if (c->sess != NULL)
		sqlite3session_delete(c->sess);
	for (i = 0; i < c->ntab; i++) {
		free(c->tab[i].name);
		sqlite3_finalize(c->tab[i].upsert);
		sqlite3_finalize(c->tab[i].owner);
		for (j = 0; j < c->tab[i].ncol; j++)
			free(c->tab[i].col[j]);
	}
	free(c);
	s->cap = NULL;
}

/* The column names of table, read once. */
static struct cap_table *
cap_table(struct store *s, const char *name)
{
	struct store_cap *c = s->cap;
	struct cap_table *t;
	sqlite3_stmt *st;
	unsigned i;

	for (i = 0; i < c->ntab; i++)
		if (strcmp(c->tab[i].name, name) == 0)
			return &c->tab[i];
	if (c->ntab == CAP_TABLES_MAX)
		return NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT name, upper(type), pk FROM"
	    " pragma_table_info(?1) ORDER BY cid", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	t = &c->tab[c->ntab];
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW && t->ncol < CAP_COLS_MAX) {
		const char *type = (const char *)sqlite3_column_text(st, 1);

		t->type[t->ncol] = strcmp(type, "INTEGER") == 0 ? 'I' :
		    strcmp(type, "BLOB") == 0 ? 'B' : 'T';
		t->pk[t->ncol] = sqlite3_column_int(st, 2) > 0;
		t->col[t->ncol++] = xstrdup((const char *)
		    sqlite3_column_text(st, 0));
	}
	sqlite3_finalize(st);
	if (t->ncol == 0) {
		t->upsert = NULL;
		return NULL;	/* no such table */
	}
	t->acol = t->idcol = -1;
	for (i = 0; i < t->ncol; i++) {
		if (strcmp(t->col[i], strcmp(name, "accounts") == 0 ? "name" :
		    "account") == 0)
			t->acol = (int)i;
		if (strcmp(t->col[i], "id") == 0)
			t->idcol = (int)i;
	}
	t->owner = NULL;
	t->name = xstrdup(name);
	c->ntab++;
	return t;
}

static void
cap_val(sqlite3_value *v, struct store_val *out)
{
	memset(out, 0, sizeof(*out));
	if (v == NULL) {
		out->kind = STORE_V_NONE;
		return;
	}
	switch (sqlite3_value_type(v)) {
	case SQLITE_NULL:
		out->kind = STORE_V_NULL;
		break;
	case SQLITE_INTEGER:
		out->kind = STORE_V_INT;
		out->i = sqlite3_value_int64(v);
		break;
	case SQLITE_BLOB:
		out->kind = STORE_V_BLOB;
		out->p = sqlite3_value_blob(v);
		out->len = (size_t)sqlite3_value_bytes(v);
		break;
	default:	/* TEXT, and a REAL as its text */
		out->kind = STORE_V_TEXT;
		out->p = sqlite3_value_text(v);
		out->len = (size_t)sqlite3_value_bytes(v);
		break;
	}
}

/*
 * Whose row it is (a leased account's rows ship fenced by its lease):
 * its account column as it was, or for an update that left the column
 * alone, as the working set has it now, by the row's id.
 */
static void
cap_owner(struct store *s, struct cap_table *t, const struct store_val *key,
    const struct store_val *val, char *buf, size_t len)
{
	const struct store_val *v = NULL;

	buf[0] = '\0';
	if (t->acol == -1)
		return;
	if (key[t->acol].kind == STORE_V_TEXT)
		v = &key[t->acol];
	else if (val[t->acol].kind == STORE_V_TEXT)
		v = &val[t->acol];
	if (v != NULL) {
		snprintf(buf, len, "%.*s", (int)v->len, (const char *)v->p);
		return;
	}
	if (val[t->acol].kind != STORE_V_NONE)
		return;		/* NULL: nobody's */
	if (t->idcol == -1 || key[t->idcol].kind != STORE_V_INT)
		return;
	if (t->owner == NULL) {
		char *sql;

		xasprintf(&sql, "SELECT \"%s\" FROM \"%s\" WHERE id = ?1",
		    t->col[t->acol], t->name);
		if (sqlite3_prepare_v2(s->db, sql, -1, &t->owner, NULL) !=
		    SQLITE_OK)
			t->owner = NULL;
		free(sql);
		if (t->owner == NULL)
			return;
	}
	sqlite3_bind_int64(t->owner, 1, key[t->idcol].i);
	if (sqlite3_step(t->owner) == SQLITE_ROW &&
	    sqlite3_column_type(t->owner, 0) == SQLITE_TEXT)
		snprintf(buf, len, "%s",
		    (const char *)sqlite3_column_text(t->owner, 0));
	sqlite3_reset(t->owner);
}

int
store_capture_take(struct store *s, store_change_fn fn, void *arg)
{
	char owner[256];
	struct store_cap *c = s->cap;
	sqlite3_changeset_iter *it = NULL;
	struct store_val key[CAP_COLS_MAX], val[CAP_COLS_MAX];
	struct store_change ch;
	struct cap_table *t;
	void *buf = NULL;
	int n = 0, rc, ret = 0;

	if (c == NULL || c->sess == NULL)
		return -1;
	if ((rc = sqlite3session_changeset(c->sess, &n, &buf)) != SQLITE_OK ||
	    (rc = sqlite3changeset_start(&it, n, buf)) != SQLITE_OK) {
		log_warnx("store: capture: %s", sqlite3_errstr(rc));
		sqlite3_free(buf);
		return -1;
	}
	while (ret == 0 && sqlite3changeset_next(it) == SQLITE_ROW) {
		const char *table;
		unsigned char *pk;
		int ncol, op, indirect, i;
		sqlite3_value *v;

		sqlite3changeset_op(it, &table, &ncol, &op, &indirect);
		sqlite3changeset_pk(it, &pk, NULL);
		if ((t = cap_table(s, table)) == NULL || (int)t->ncol != ncol) {
			log_warnx("store: capture: table %s unknown", table);
			ret = -1;
			break;
		}
		for (i = 0; i < ncol; i++) {
			v = NULL;
			if (op == SQLITE_DELETE || (op == SQLITE_UPDATE &&
			    (pk[i] || (int)i == t->acol)))
				sqlite3changeset_old(it, i, &v);
			else if (op == SQLITE_INSERT && pk[i])
				sqlite3changeset_new(it, i, &v);
			cap_val(v, &key[i]);
			v = NULL;
			if (op != SQLITE_DELETE)
				sqlite3changeset_new(it, i, &v);
			cap_val(v, &val[i]);
		}
		ch.op = op == SQLITE_INSERT ? STORE_OP_INSERT :
		    op == SQLITE_UPDATE ? STORE_OP_UPDATE : STORE_OP_DELETE;
		ch.table = table;
		ch.ncol = (unsigned)ncol;
		ch.col = (const char *const *)t->col;
		ch.pk = pk;
		ch.key = key;
		ch.val = val;
		cap_owner(s, t, key, val, owner, sizeof(owner));
		ch.account = owner[0] != '\0' ? owner : NULL;
		ret = fn(&ch, arg);
	}
	sqlite3changeset_finalize(it);
	sqlite3_free(buf);
	store_capture_discard(s);	/* the next turn's, anew */
	return ret;
}

char *
store_upsert_sql(const char *table, unsigned ncol, const char *const *col,
    const unsigned char *pk)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f;
	unsigned i;
	int first = 1;

	if ((f = open_memstream(&sql, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	fprintf(f, "INSERT INTO \"%s\" (", table);
	for (i = 0; i < ncol; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", col[i]);
	fprintf(f, ") VALUES (");
	for (i = 0; i < ncol; i++)
		fprintf(f, "%s$%u", i ? ", " : "", i + 1);
	fprintf(f, ") ON CONFLICT (");
	for (i = 0; i < ncol; i++) {
		if (pk[i]) {
			fprintf(f, "%s\"%s\"", first ? "" : ", ", col[i]);
			first = 0;
		}
	}
	fprintf(f, ")");
	first = 1;
	for (i = 0; i < ncol; i++) {
		if (pk[i])
			continue;
		fprintf(f, "%s\"%s\" = excluded.\"%s\"",
		    first ? " DO UPDATE SET " : ", ", col[i], col[i]);
		first = 0;
	}
	if (first)
		fprintf(f, " DO NOTHING");
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	return sql;
}

/* The upsert of every column of t, by its key, prepared once. */
static sqlite3_stmt *
cap_upsert(struct store *s, struct cap_table *t)
{
	char *sql;

	if (t->upsert != NULL)
		return t->upsert;
	sql = store_upsert_sql(t->name, t->ncol,
	    (const char *const *)t->col, t->pk);
	/* A message only moves on (accepted, taken, answered): a load
	 * read before this node's last write to it must not undo it. */
	if (strcmp(t->name, "messages") == 0) {
		char *w;

		xasprintf(&w, "%s WHERE state <= excluded.state", sql);
		free(sql);
		sql = w;
	}
	if (sqlite3_prepare_v2(s->db, sql, -1, &t->upsert, NULL) != SQLITE_OK)
		log_warnx("store: absorb %s: %s", t->name, sqlite3_errmsg(s->db));
	free(sql);
	return t->upsert;
}

/* A value in PostgreSQL's text form, bound by its column's type. */
static int
cap_bind(sqlite3_stmt *st, int i, char type, const char *v)
{
	unsigned char *b;
	size_t n, k;
	char *end;
	long long x;
	int rc;

	if (v == NULL)
		return sqlite3_bind_null(st, i);
	switch (type) {
	case 'I':
		x = strtoll(v, &end, 10);
		if (*v == '\0' || *end != '\0')
			return SQLITE_MISMATCH;
		return sqlite3_bind_int64(st, i, x);
	case 'B':
		if (v[0] != '\\' || v[1] != 'x' || strlen(v + 2) % 2 != 0)
			return SQLITE_MISMATCH;
		n = strlen(v + 2) / 2;
		b = xmalloc(n + 1);
		for (k = 0; k < n; k++) {
			int hi = hex_digit((unsigned char)v[2 + 2 * k]);
			int lo = hex_digit((unsigned char)v[3 + 2 * k]);

			if (hi < 0 || lo < 0) {
				free(b);
				return SQLITE_MISMATCH;
			}
			b[k] = (unsigned char)(hi << 4 | lo);
		}
		rc = sqlite3_bind_blob(st, i, b, (int)n, SQLITE_TRANSIENT);
		free(b);
		return rc;
	default:
		return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	}
}

int
store_absorb(struct store *s, const char *table, unsigned ncol,
    const char *const *col, const char *const *val)
{
	struct cap_table *t;
	sqlite3_stmt *st;
	unsigned i;
	int rc = SQLITE_OK;

	if (s->cap == NULL)
		s->cap = xcalloc(1, sizeof(*s->cap));
	if ((t = cap_table(s, table)) == NULL || t->ncol != ncol) {
		log_warnx("store: absorb: table %s unknown", table);
		return -1;
	}
	for (i = 0; i < ncol; i++) {
		if (strcmp(col[i], t->col[i]) != 0) {
			log_warnx("store: absorb: %s: column %s where %s is",
			    table, col[i], t->col[i]);
			return -1;
		}
	}
	if ((st = cap_upsert(s, t)) == NULL)
		return -1;
	store_touch(s);
	/* Rows come in any order; their references hold by the commit. */
	sqlite3_exec(s->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL,
	    NULL);
	for (i = 0; i < ncol && rc == SQLITE_OK; i++)
		rc = cap_bind(st, (int)i + 1, t->type[i], val[i]);
	if (rc != SQLITE_OK) {
		log_warnx("store: absorb: %s.%s: not a %s", table, col[i - 1],
		    t->type[i - 1] == 'I' ? "number" : "bytea");
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	if (s->cap->sess != NULL)
		sqlite3session_enable(s->cap->sess, 0);
	rc = sqlite3_step(st);
	if (s->cap->sess != NULL)
		sqlite3session_enable(s->cap->sess, 1);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return store_err(s, __func__);
	return 0;
}

/*
 * Drop what the working set holds of an account, unrecorded, before
 * its rows come again from the truth (a lease taken): a row deleted
 * there while another node held it must not live on here.
 */
static int	forget(struct store *, const char *const *, size_t,
		    const char *);

int
store_forget(struct store *s, const char *account)
{
	static const char *const sql[] = {
		"DELETE FROM outbox WHERE account = ?1",
		"DELETE FROM media WHERE account = ?1",
		"DELETE FROM messages WHERE account = ?1 OR session_id IN"
		    " (SELECT id FROM sessions WHERE account = ?1)",
		"DELETE FROM sessions WHERE account = ?1",
		"DELETE FROM peers WHERE account = ?1",
		"DELETE FROM kv WHERE account = ?1",
		"DELETE FROM pairings WHERE account = ?1",
		"DELETE FROM account_pauses WHERE account = ?1",
		"DELETE FROM wx.cold WHERE account = ?1",
	};

	return forget(s, sql, sizeof(sql) / sizeof(sql[0]), account);
}

/*
 * The same for what the node that runs schedules holds (the
 * "@schedules" lease taken): definitions, runs, their targets and the
 * conversations their prompts are asked in.  Outbox rows stay: those
 * of accounts this node runs are newer here than in the truth, and
 * the others' come again with the load (pgload_schedules).
 */
int
store_forget_schedules(struct store *s)
{
	static const char *const sql[] = {
		"DELETE FROM run_targets",
		"DELETE FROM schedule_runs",
		"DELETE FROM schedules",
		/* A range on the account ('@sched;' follows every
		 * '@sched:...'), so the indexes, not a walk, find them;
		 * every message of theirs is in one of their sessions. */
		"DELETE FROM messages WHERE session_id IN (SELECT id FROM"
		    " sessions WHERE account >= '@sched:' AND account <"
		    " '@sched;')",
		"DELETE FROM sessions WHERE account >= '@sched:' AND"
		    " account < '@sched;'",
	};

	return forget(s, sql, sizeof(sql) / sizeof(sql[0]), NULL);
}

int
store_forget_outbox(struct store *s, int64_t id)
{
	char sql[96];
	const char *const q[] = { sql };

	snprintf(sql, sizeof(sql), "DELETE FROM outbox WHERE id = %lld"
	    " AND state = 'queued'", (long long)id);
	return forget(s, q, 1, NULL);
}

/* sql in order, unrecorded, each with account as ?1 (may be NULL). */
static int
forget(struct store *s, const char *const *sql, size_t n,
    const char *account)
{
	sqlite3_stmt *st;
	size_t i;
	int rc = SQLITE_DONE;

	store_touch(s);
	sqlite3_exec(s->db, "PRAGMA defer_foreign_keys = ON", NULL, NULL,
	    NULL);
	if (s->cap != NULL && s->cap->sess != NULL)
		sqlite3session_enable(s->cap->sess, 0);
	for (i = 0; i < n && rc == SQLITE_DONE; i++) {
		if (sqlite3_prepare_v2(s->db, sql[i], -1, &st, NULL) !=
		    SQLITE_OK) {
			rc = SQLITE_ERROR;
			break;
		}
		if (sqlite3_bind_parameter_count(st) > 0)
			sqlite3_bind_text(st, 1, account, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (s->cap != NULL && s->cap->sess != NULL)
		sqlite3session_enable(s->cap->sess, 1);
	if (rc != SQLITE_DONE)
		return store_err(s, __func__);
	return 0;
}
