/*
 * supervisor/schema.c for SQLite: the one description, made in an empty
 * database, is the schema that store_migrate.c's history of migrations
 * leaves: the same tables, columns (name, type, NOT NULL, default, key,
 * in order), CHECK constraints, foreign keys, indexes (columns, UNIQUE,
 * partial WHERE), WITHOUT ROWID and AUTOINCREMENT.  A migration added
 * without its step in the description, or the other way round, fails
 * here with the first line that differs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "schema.h"
#include "store.h"
#include "store_int.h"

struct text {
	char	*s;
	size_t	 len;
};

static void
put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *line;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	t->s = realloc(t->s, t->len + (size_t)n + 2);
	assert_non_null(t->s);
	memcpy(t->s + t->len, line, (size_t)n);
	t->len += (size_t)n;
	t->s[t->len++] = '\n';
	t->s[t->len] = '\0';
	free(line);
}

/* Whitespace to one space, none inside parentheses' edges. */
static void
norm(char *s)
{
	char *w = s;
	const char *r;

	for (r = s; *r != '\0'; r++) {
		if (*r == ' ' || *r == '\t' || *r == '\n') {
			if (w == s || w[-1] == ' ' || w[-1] == '(' ||
			    r[1] == ')' || r[1] == ' ' || r[1] == '\0')
				continue;
			*w++ = ' ';
		} else
			*w++ = *r;
	}
	*w = '\0';
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every "CHECK (...)" of a table's SQL, normalized, sorted. */
static void
checks(struct text *t, const char *sql)
{
	char *list[32];
	unsigned n = 0, i;
	const char *p = sql;

	while ((p = strstr(p, "CHECK (")) != NULL) {
		const char *q = p + 7;
		int depth = 1;

		while (*q != '\0' && depth > 0) {
			depth += *q == '(';
			depth -= *q == ')';
			q++;
		}
		assert_true(n < 32);
		list[n] = strndup(p, (size_t)(q - p));
		norm(list[n++]);
		p = q;
	}
	qsort(list, n, sizeof(list[0]), cmp_str);
	for (i = 0; i < n; i++) {
		put(t, "  %s", list[i]);
		free(list[i]);
	}
}

/* The rows of a query as lines "a|b|c", sorted when asked. */
static void
rows(struct text *t, sqlite3 *db, const char *sql, int sorted,
    const char *prefix)
{
	sqlite3_stmt *st;
	char *list[256], line[1024];
	unsigned n = 0, i;
	int c;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		size_t off = 0;

		line[0] = '\0';
		for (c = 0; c < sqlite3_column_count(st); c++) {
			const unsigned char *v = sqlite3_column_text(st, c);

			off += (size_t)snprintf(line + off, sizeof(line) - off,
			    "%s%s", c ? "|" : "", v ? (const char *)v : "-");
		}
		assert_true(n < 256);
		list[n++] = strdup(line);
	}
	sqlite3_finalize(st);
	if (sorted)
		qsort(list, n, sizeof(list[0]), cmp_str);
	for (i = 0; i < n; i++) {
		put(t, "%s%s", prefix, list[i]);
		free(list[i]);
	}
}

/* The whole schema of db as comparable text. */
static char *
dump(sqlite3 *db)
{
	struct text t = { NULL, 0 };
	sqlite3_stmt *st, *ix;
	char q[512];

	assert_int_equal(sqlite3_prepare_v2(db, "SELECT name, sql FROM"
	    " sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	    " ORDER BY name", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *sql = (const char *)sqlite3_column_text(st, 1);

		put(&t, "table %s%s%s", name,
		    strstr(sql, "WITHOUT ROWID") ? " without-rowid" : "",
		    strstr(sql, "AUTOINCREMENT") ? " autoincrement" : "");
		snprintf(q, sizeof(q), "SELECT name, type, \"notnull\","
		    " dflt_value, pk FROM pragma_table_xinfo('%s')"
		    " ORDER BY cid", name);
		rows(&t, db, q, 0, "  col ");
		snprintf(q, sizeof(q), "SELECT \"table\", \"from\", \"to\","
		    " on_update, on_delete FROM pragma_foreign_key_list('%s')",
		    name);
		rows(&t, db, q, 1, "  fk ");
		checks(&t, sql);
		snprintf(q, sizeof(q), "SELECT l.name, l.\"unique\", l.origin,"
		    " l.partial, (SELECT group_concat(name, ',') FROM"
		    " (SELECT name FROM pragma_index_info(l.name) ORDER BY"
		    " seqno)), coalesce(m.sql, '-') FROM pragma_index_list('%s')"
		    " l LEFT JOIN sqlite_master m ON m.name = l.name"
		    " AND m.type = 'index'", name);
		assert_int_equal(sqlite3_prepare_v2(db, q, -1, &ix, NULL),
		    SQLITE_OK);
		while (sqlite3_step(ix) == SQLITE_ROW) {
			char *isql = strdup((const char *)
			    sqlite3_column_text(ix, 5));
			char *where;

			norm(isql);
			where = strstr(isql, " WHERE ");
			put(&t, "  index %s unique=%d origin=%s partial=%d"
			    " (%s)%s", sqlite3_column_text(ix, 0),
			    sqlite3_column_int(ix, 1),
			    sqlite3_column_text(ix, 2),
			    sqlite3_column_int(ix, 3),
			    sqlite3_column_text(ix, 4), where ? where : "");
			free(isql);
		}
		sqlite3_finalize(ix);
	}
	sqlite3_finalize(st);
	return t.s;
}

/* Fails at the first line where a and b part. */
static void
same(const char *a, const char *b)
{
	unsigned line = 1;
	const char *la = a, *lb = b;

	while (*a != '\0' && *a == *b) {
		if (*a == '\n') {
			line++;
			la = a + 1;
			lb = b + 1;
		}
		a++;
		b++;
	}
	if (*a != *b)
		fail_msg("line %u differs:\n  migrated:  %.*s\n  described: "
		    "%.*s", line, (int)strcspn(la, "\n"), la,
		    (int)strcspn(lb, "\n"), lb);
}

static void
test_description_is_the_migrated_schema(void **state)
{
	sqlite3 *mig, *desc;
	char err[256], *sql, *msg = NULL, *a, *b;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &mig), SQLITE_OK);
	/* Through every migration: a store at 0 with no table would be
	 * made from the description itself (store_migrate.c).  The steps
	 * after SCHEMA_BASE are the description's own words. */
	assert_int_equal(store_migrate_to(mig, 1, err, sizeof(err)), 0);
	assert_int_equal(store_migrate_to(mig, SCHEMA_BASE, err,
	    sizeof(err)), 0);
	assert_int_equal(store_user_version(mig), SCHEMA_BASE);
	assert_int_equal(sqlite3_open(":memory:", &desc), SQLITE_OK);
	sql = schema_sql(SCHEMA_SQLITE);
	if (sqlite3_exec(desc, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s", msg);
	a = dump(mig);
	b = dump(desc);
	same(a, b);
	assert_true(strlen(a) > 4000);		/* it did read the tables */
	free(a);
	free(b);
	free(sql);
	sqlite3_close(mig);
	sqlite3_close(desc);
}

/* The steps after SCHEMA_BASE, as schema.c words them. */
static void
steps(sqlite3 *db)
{
	const struct schema_step *st;
	unsigned n, i;
	char *sql;

	st = schema_steps(&n);
	assert_int_equal(n == 0 ? SCHEMA_BASE : st[n - 1].version,
	    STORE_SCHEMA_VERSION);
	for (i = 0; i < n; i++) {
		sql = schema_render(SCHEMA_SQLITE, st[i].sql);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL),
		    SQLITE_OK);
		free(sql);
	}
}

/*
 * A store migrated through its history and its steps is the one made
 * new (the steps add to what the history left, as to the description).
 */
static void
test_migrated_store_takes_the_steps(void **state)
{
	sqlite3 *mig, *fresh;
	char err[256], *a, *b;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &mig), SQLITE_OK);
	assert_int_equal(store_migrate_to(mig, 1, err, sizeof(err)), 0);
	assert_int_equal(store_migrate(mig, err, sizeof(err)), 0);
	assert_int_equal(store_user_version(mig), STORE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_open(":memory:", &fresh), SQLITE_OK);
	assert_int_equal(store_migrate(fresh, err, sizeof(err)), 0);
	a = dump(mig);
	b = dump(fresh);
	same(a, b);
	free(a);
	free(b);
	sqlite3_close(mig);
	sqlite3_close(fresh);
}

/* A new store is the description at the latest version, made once. */
static void
test_new_store_is_the_description(void **state)
{
	sqlite3 *fresh, *desc;
	char err[256], *sql, *a, *b;

	(void)state;
	assert_int_equal(sqlite3_open(":memory:", &fresh), SQLITE_OK);
	assert_int_equal(store_migrate(fresh, err, sizeof(err)), 0);
	assert_int_equal(store_user_version(fresh), STORE_SCHEMA_VERSION);
	assert_int_equal(sqlite3_open(":memory:", &desc), SQLITE_OK);
	sql = schema_sql(SCHEMA_SQLITE);
	assert_int_equal(sqlite3_exec(desc, sql, NULL, NULL, NULL), SQLITE_OK);
	steps(desc);
	a = dump(fresh);
	b = dump(desc);
	same(a, b);
	/* Opened again, nothing is made twice. */
	assert_int_equal(store_migrate(fresh, err, sizeof(err)), 0);
	free(a);
	free(b);
	free(sql);
	sqlite3_close(fresh);
	sqlite3_close(desc);
}

/* The words say what each dialect wants, and nothing of the other's. */
static void
test_dialects(void **state)
{
	char *lite = schema_sql(SCHEMA_SQLITE), *pg = schema_sql(SCHEMA_PG);

	(void)state;
	assert_null(strchr(lite, '@'));
	assert_null(strchr(pg, '@'));
	assert_null(strstr(pg, "BLOB"));
	assert_null(strstr(pg, "WITHOUT ROWID"));
	assert_null(strstr(pg, "AUTOINCREMENT"));
	assert_null(strstr(lite, "BYTEA"));
	assert_null(strstr(lite, "ALTER TABLE"));
	assert_non_null(strstr(pg, "ALTER TABLE sessions ADD FOREIGN KEY"));
	assert_non_null(strstr(lite, "share_id INTEGER REFERENCES"
	    " share_links(id) ON DELETE CASCADE"));
	free(lite);
	free(pg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_description_is_the_migrated_schema),
		cmocka_unit_test(test_new_store_is_the_description),
		cmocka_unit_test(test_migrated_store_takes_the_steps),
		cmocka_unit_test(test_dialects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
