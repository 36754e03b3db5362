/*
 * supervisor/schema.c for PostgreSQL, in a real server (tests/pgserver.sh):
 * the description makes every table SQLite has, with the same columns in
 * the same order, the same named indexes and as many foreign keys; every
 * foreign key's column leads an index (as test_store_plans.py asks of
 * SQLite); and the constraints act: cascades, CHECKs, identities.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "pg_fx.h"
#include "pgsetup.h"
#include "schema.h"

static PGconn *pg;
static sqlite3 *lite;

static PGresult *
q(const char *sql, ExecStatusType want)
{
	PGresult *r = PQexec(pg, sql);

	if (PQresultStatus(r) != want)
		fail_msg("%s: %s", sql, PQresultErrorMessage(r));
	return r;
}

static void
x(const char *sql)
{
	PQclear(q(sql, PGRES_COMMAND_OK));
}

/* One value of the first row. */
static char *
one(const char *sql)
{
	PGresult *r = q(sql, PGRES_TUPLES_OK);
	char *v;

	assert_int_equal(PQntuples(r), 1);
	v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

/* SQLite's answer to sql as lines, joined. */
static char *
lite_lines(const char *sql)
{
	sqlite3_stmt *st;
	char *out = calloc(1, 1);
	size_t len = 0;

	assert_int_equal(sqlite3_prepare_v2(lite, sql, -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		out = realloc(out, len + strlen(v) + 2);
		memcpy(out + len, v, strlen(v));
		len += strlen(v);
		out[len++] = '\n';
		out[len] = '\0';
	}
	sqlite3_finalize(st);
	return out;
}

static char *
pg_lines(const char *sql)
{
	PGresult *r = q(sql, PGRES_TUPLES_OK);
	char *out = calloc(1, 1);
	size_t len = 0;
	int i;

	for (i = 0; i < PQntuples(r); i++) {
		const char *v = PQgetvalue(r, i, 0);

		out = realloc(out, len + strlen(v) + 2);
		memcpy(out + len, v, strlen(v));
		len += strlen(v);
		out[len++] = '\n';
		out[len] = '\0';
	}
	PQclear(r);
	return out;
}

static int
setup(void **state)
{
	char d[256], dsn[512], pw[128], *sql;

	(void)state;
	if (pg_fx_env(d, sizeof(d), pw, sizeof(pw)) == -1)
		return -1;
	snprintf(dsn, sizeof(dsn), "%s password=%s", d, pw);
	pg = PQconnectdb(dsn);
	if (PQstatus(pg) != CONNECTION_OK)
		return -1;
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	if (sqlite3_open(":memory:", &lite) != SQLITE_OK)
		return -1;
	sql = schema_sql(SCHEMA_SQLITE);
	if (sqlite3_exec(lite, sql, NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	free(sql);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	PQfinish(pg);
	sqlite3_close(lite);
	return 0;
}

static void
test_made_in_one_transaction(void **state)
{
	char *sql = schema_sql(SCHEMA_PG);

	(void)state;
	x("DROP SCHEMA IF EXISTS wxtest CASCADE");
	x("CREATE SCHEMA wxtest");
	x("SET search_path TO wxtest");
	x("BEGIN");
	x(sql);
	x("COMMIT");
	free(sql);
}

static void
test_same_tables_columns_indexes_keys(void **state)
{
	char *a, *b;

	(void)state;
	a = lite_lines("SELECT m.name || '.' || c.name FROM sqlite_master m,"
	    " pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name"
	    " NOT LIKE 'sqlite_%' ORDER BY m.name, c.cid");
	b = pg_lines("SELECT table_name || '.' || column_name FROM"
	    " information_schema.columns WHERE table_schema = 'wxtest'"
	    " ORDER BY table_name COLLATE \"C\", ordinal_position");
	assert_true(strlen(a) > 1000);
	assert_string_equal(a, b);
	free(a);
	free(b);

	/* Every index SQLite names, PostgreSQL has (it names its own
	 * for keys, too). */
	a = lite_lines("SELECT name FROM sqlite_master WHERE type = 'index'"
	    " AND sql IS NOT NULL ORDER BY name");
	b = pg_lines("SELECT indexname FROM pg_indexes WHERE schemaname ="
	    " 'wxtest' AND indexname NOT LIKE '%\\_pkey' AND indexname"
	    " NOT LIKE '%\\_key' ORDER BY indexname COLLATE \"C\"");
	assert_string_equal(a, b);
	free(a);
	free(b);

	a = lite_lines("SELECT m.name || ' ' || count(f.id) FROM sqlite_master"
	    " m LEFT JOIN pragma_foreign_key_list(m.name) f WHERE m.type ="
	    " 'table' AND m.name NOT LIKE 'sqlite_%' GROUP BY m.name"
	    " ORDER BY m.name");
	b = pg_lines("SELECT c.relname || ' ' || count(k.oid) FROM pg_class c"
	    " JOIN pg_namespace n ON n.oid = c.relnamespace LEFT JOIN"
	    " pg_constraint k ON k.conrelid = c.oid AND k.contype = 'f'"
	    " WHERE n.nspname = 'wxtest' AND c.relkind = 'r' GROUP BY"
	    " c.relname ORDER BY c.relname COLLATE \"C\"");
	assert_string_equal(a, b);
	free(a);
	free(b);

	/* No foreign key whose column leads no index: a delete of the
	 * referenced row would walk the table. */
	b = pg_lines("SELECT k.conname FROM pg_constraint k JOIN pg_class c"
	    " ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid ="
	    " c.relnamespace WHERE n.nspname = 'wxtest' AND k.contype = 'f'"
	    " AND NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid ="
	    " k.conrelid AND i.indkey[0] = k.conkey[1])");
	assert_string_equal(b, "");
	free(b);

	/* Every foreign key is checked at commit (pgapply.h). */
	b = pg_lines("SELECT k.conname FROM pg_constraint k JOIN pg_class c"
	    " ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid ="
	    " c.relnamespace WHERE n.nspname = 'wxtest' AND k.contype = 'f'"
	    " AND NOT k.condeferred");
	assert_string_equal(b, "");
	free(b);
}

static void
test_constraints_act(void **state)
{
	char *v;
	PGresult *r;

	(void)state;
	x("SET search_path TO wxtest");
	v = one("INSERT INTO sessions (created, last_seen) VALUES (1, 1)"
	    " RETURNING id");
	assert_string_equal(v, "1");
	free(v);
	x("INSERT INTO messages (session_id, text, state, created)"
	    " VALUES (1, 'hi', 1, 1)");
	/* A reply only with state 3, and state only 1..3. */
	r = PQexec(pg, "INSERT INTO messages (session_id, text, state,"
	    " created) VALUES (1, 'x', 4, 1)");
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
	PQclear(r);
	r = PQexec(pg, "INSERT INTO messages (session_id, text, state,"
	    " reply, created) VALUES (1, 'x', 2, 'r', 1)");
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
	PQclear(r);
	/* The cycle: a visitor's session under a share link goes with
	 * the link, and its messages with it. */
	x("INSERT INTO share_links (token_hash, mode, created) VALUES"
	    " (decode(repeat('ab', 32), 'hex'), 'visitor', 1)");
	x("UPDATE sessions SET share_id = 1 WHERE id = 1");
	x("DELETE FROM share_links WHERE id = 1");
	v = one("SELECT count(*) FROM messages");
	assert_string_equal(v, "0");
	free(v);
	/* A hash of another length is refused. */
	r = PQexec(pg, "INSERT INTO relay_tokens (agent, hash, created)"
	    " VALUES ('a', '\\x00', 1)");
	assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23514");
	PQclear(r);
	x("DROP SCHEMA wxtest CASCADE");
}

static char setup_err[512];

/* pgsetup's text for steps, run in its own transaction: 0 or -1
 * (setup_err says why). */
static int
setup_run(const struct schema_step *st, unsigned n, int latest)
{
	char *sql = pgsetup_sql_steps(st, n, latest);
	PGresult *r;
	int ok;

	x("BEGIN");
	r = PQexec(pg, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;
	snprintf(setup_err, sizeof(setup_err), "%s",
	    PQresultErrorMessage(r));
	PQclear(r);
	x(ok ? "COMMIT" : "ROLLBACK");
	free(sql);
	return ok ? 0 : -1;
}

/*
 * A database at SCHEMA_BASE with rows in it goes on to a later version
 * by a step written once in the description's words (a test's own:
 * schema.c has none after SCHEMA_BASE yet): the step runs once, in the
 * setup's transaction, the rows stay, a second setup changes nothing,
 * and a node of the version before is refused by the newer database.
 * The same step said for SQLite runs there too.
 */
static void
test_a_populated_database_takes_a_step(void **state)
{
	static const struct schema_step step[] = {
		{ SCHEMA_BASE + 1, "ALTER TABLE sessions ADD COLUMN note TEXT;"
		    "CREATE TABLE notes (id @ID, session_id @INT NOT NULL"
		    " REFERENCES sessions(id) ON DELETE CASCADE @DEFER,"
		    " body TEXT NOT NULL);"
		    "CREATE INDEX notes_session ON notes (session_id);" },
	};
	char *v, *sql;

	(void)state;
	x("DROP SCHEMA IF EXISTS wxstep CASCADE");
	x("CREATE SCHEMA wxstep");
	x("SET search_path TO wxstep");
	assert_int_equal(setup_run(NULL, 0, SCHEMA_BASE), 0);
	x("INSERT INTO sessions (id, created, last_seen) VALUES (7, 1, 1)");
	x("INSERT INTO messages (id, session_id, text, state, created)"
	    " VALUES (8, 7, 'kept', 1, 1)");
	assert_int_equal(setup_run(step, 1, SCHEMA_BASE + 1), 0);
	v = one("SELECT max(version) FROM wx_schema");
	assert_int_equal(atoi(v), SCHEMA_BASE + 1);
	free(v);
	v = one("SELECT text FROM messages WHERE session_id = 7");
	assert_string_equal(v, "kept");
	free(v);
	x("UPDATE sessions SET note = 'new' WHERE id = 7");
	x("INSERT INTO notes (id, session_id, body) VALUES (9, 7, 'n')");
	/* Again (the next node to start): nothing runs twice. */
	assert_int_equal(setup_run(step, 1, SCHEMA_BASE + 1), 0);
	v = one("SELECT count(*) FROM wx_schema");
	assert_string_equal(v, "2");
	free(v);
	v = one("SELECT note FROM sessions WHERE id = 7");
	assert_string_equal(v, "new");
	free(v);
	/* A node that knows only SCHEMA_BASE writes nothing here. */
	assert_int_equal(setup_run(NULL, 0, SCHEMA_BASE), -1);
	{
		char want[64];

		snprintf(want, sizeof(want), "schema is version %d, not %d",
		    SCHEMA_BASE + 1, SCHEMA_BASE);
		if (strstr(setup_err, want) == NULL)
			fail_msg("refused with: %s", setup_err);
	}
	x("SET search_path TO public");
	x("DROP SCHEMA wxstep CASCADE");

	/* The same words said for SQLite run on the SQLite schema. */
	sql = schema_render(SCHEMA_SQLITE, step[0].sql);
	assert_int_equal(sqlite3_exec(lite, "INSERT INTO sessions (id,"
	    " created, last_seen) VALUES (7, 1, 1)", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(lite, sql, NULL, NULL, NULL),
	    SQLITE_OK);
	free(sql);
	assert_int_equal(sqlite3_exec(lite, "INSERT INTO notes (id,"
	    " session_id, body) VALUES (9, 7, 'n')", NULL, NULL, NULL),
	    SQLITE_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_made_in_one_transaction),
		cmocka_unit_test(test_same_tables_columns_indexes_keys),
		cmocka_unit_test(test_constraints_act),
		cmocka_unit_test(test_a_populated_database_takes_a_step),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
