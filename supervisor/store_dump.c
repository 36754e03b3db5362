/*
 * Every row of the store as an insert (store.h, store_dump): what
 * wxgate-import (pgimport.c) copies from a node that was alone into a
 * new cluster's PostgreSQL, through the same pgapply a node ships its
 * turns with.  It only reads; SQLite's own tables (sqlite_sequence,
 * sqlite_stat1) are not the store's and are left out.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store.h"
#include "store_int.h"
#include "xmalloc.h"

struct dump_table {
	char		*name;
	unsigned	 ncol;
	char		**col;
	unsigned char	*pk;
};

static void
dump_table_free(struct dump_table *t)
{
	unsigned i;

	for (i = 0; i < t->ncol; i++)
		free(t->col[i]);
	free(t->col);
	free(t->pk);
	free(t->name);
}

/* sql (sqlite3's, freed here) about t, prepared; NULL logged. */
static sqlite3_stmt *
dump_prepare(struct store *s, const struct dump_table *t, char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sql == NULL)
		fatalx("%s: out of memory", __func__);
	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	sqlite3_free(sql);
	if (rc != SQLITE_OK) {
		log_warnx("store_dump: %s: %s", t->name, sqlite3_errmsg(s->db));
		return NULL;
	}
	return st;
}

/* The table's columns in order, and which are its primary key's. */
static int
dump_columns(struct store *s, struct dump_table *t)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = dump_prepare(s, t, sqlite3_mprintf("SELECT name, pk FROM"
	    " pragma_table_info('%q') ORDER BY cid", t->name))) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		t->col = xreallocarray(t->col, t->ncol + 1, sizeof(*t->col));
		t->pk = xreallocarray(t->pk, t->ncol + 1, 1);
		t->col[t->ncol] = xstrdup((const char *)
		    sqlite3_column_text(st, 0));
		t->pk[t->ncol++] = sqlite3_column_int(st, 1) > 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || t->ncol == 0) {
		log_warnx("%s: %s: no columns", __func__, t->name);
		return -1;
	}
	return 0;
}

/* Column i of the row as store_capture hands values over. */
static void
dump_val(sqlite3_stmt *st, int i, struct store_val *v)
{
	memset(v, 0, sizeof(*v));
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		v->kind = STORE_V_NULL;
		break;
	case SQLITE_INTEGER:
		v->kind = STORE_V_INT;
		v->i = sqlite3_column_int64(st, i);
		break;
	case SQLITE_BLOB:
		v->kind = STORE_V_BLOB;
		v->p = sqlite3_column_blob(st, i);
		v->len = (size_t)sqlite3_column_bytes(st, i);
		break;
	default:	/* TEXT, and a REAL as its text */
		v->kind = STORE_V_TEXT;
		v->p = sqlite3_column_text(st, i);
		v->len = (size_t)sqlite3_column_bytes(st, i);
		break;
	}
}

static int
dump_rows(struct store *s, struct dump_table *t, store_change_fn fn,
    void *arg)
{
	struct store_change ch;
	struct store_val *val;
	sqlite3_stmt *st;
	sqlite3_str *b;
	unsigned i;
	int rc = SQLITE_DONE, ret = 0;

	/* The columns named, so that values come in t->col's order. */
	b = sqlite3_str_new(s->db);
	sqlite3_str_appendall(b, "SELECT ");
	for (i = 0; i < t->ncol; i++)
		sqlite3_str_appendf(b, "%s\"%w\"", i ? ", " : "", t->col[i]);
	sqlite3_str_appendf(b, " FROM \"%w\"", t->name);
	if ((st = dump_prepare(s, t, sqlite3_str_finish(b))) == NULL)
		return -1;
	val = xcalloc(t->ncol, sizeof(*val));
	memset(&ch, 0, sizeof(ch));
	ch.op = STORE_OP_INSERT;
	ch.table = t->name;
	ch.ncol = t->ncol;
	ch.col = (const char *const *)t->col;
	ch.pk = t->pk;
	ch.key = val;		/* an insert's key is its new values' */
	ch.val = val;
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (i = 0; i < t->ncol; i++)
			dump_val(st, (int)i, &val[i]);
		ret = fn(&ch, arg);
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		log_warnx("%s: %s: %s", __func__, t->name,
		    sqlite3_errmsg(s->db));
		ret = -1;
	}
	sqlite3_finalize(st);
	free(val);
	return ret;
}

int
store_dump(struct store *s, store_change_fn fn, void *arg)
{
	sqlite3_stmt *st = NULL;
	struct dump_table t;
	int rc = SQLITE_DONE, ret = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT name FROM sqlite_schema"
	    " WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
	    " ORDER BY name", -1, &st, NULL) != SQLITE_OK) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(s->db));
		return -1;
	}
	while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&t, 0, sizeof(t));
		t.name = xstrdup((const char *)sqlite3_column_text(st, 0));
		if ((ret = dump_columns(s, &t)) == 0)
			ret = dump_rows(s, &t, fn, arg);
		dump_table_free(&t);
	}
	if (ret == 0 && rc != SQLITE_DONE) {
		log_warnx("%s: %s", __func__, sqlite3_errmsg(s->db));
		ret = -1;
	}
	sqlite3_finalize(st);
	return ret;
}
