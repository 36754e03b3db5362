/*
 * The store suite's PostgreSQL side (store_pg_fx.h).  Plain libpq, one
 * connection: each take of the captured changes runs as BEGIN, the
 * statements pgapply made, COMMIT, so PostgreSQL's deferred foreign
 * keys are checked per turn as on a node.  Rows are compared as text,
 * ordered by the working set's primary key, the way
 * test_store_ship_pg does.
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

#include "lite_rows.h"
#include "pg_fx.h"
#include "pgapply.h"
#include "pgsetup.h"
#include "schema.h"
#include "store.h"
#include "store_int.h"
#include "store_pg_fx.h"

static PGconn *pg;
static struct pgapply *apply;
static unsigned nschema;
/* A test failed here already: its teardown only closes the store. */
static int failed;

int
store_pg_fx_connect(void **state)
{
	char conn[512];
	static char d[256], pw[128];

	(void)state;
	if (pg_fx_env(d, sizeof(d), pw, sizeof(pw)) == -1)
		return -1;
	snprintf(conn, sizeof(conn), "%s password=%s", d, pw);
	pg = PQconnectdb(conn);
	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "store_pg_fx: %s", PQerrorMessage(pg));
		return -1;
	}
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	apply = pgapply_new();
	return 0;
}

int
store_pg_fx_disconnect(void **state)
{
	(void)state;
	pgapply_free(apply);
	PQfinish(pg);
	return 0;
}

static int
run(const char *sql)
{
	PGresult *r = PQexec(pg, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "store_pg_fx: %.60s: %s", sql,
		    PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

int
store_pg_fx_begin(void)
{
	char q[128], *sql;
	int rc;

	nschema++;
	failed = 0;
	snprintf(q, sizeof(q), "CREATE SCHEMA t%u; SET search_path = t%u",
	    nschema, nschema);
	if (run(q) == -1)
		return -1;
	sql = pgsetup_sql();	/* the steps after SCHEMA_BASE too */
	rc = run(sql);
	free(sql);
	return rc;
}

struct store *
store_pg_fx_open(const char *path, char *err, size_t len)
{
	struct store *s = store_open(path, err, len);

	if (s != NULL)
		assert_int_equal(store_capture(s), 0);
	return s;
}

/* What the store committed since the last take, as one transaction. */
static void
ship(struct store *s)
{
	const struct pgp_q *q;
	unsigned i, n;
	PGresult *r;

	pgapply_reset(apply);
	failed = 1;
	assert_int_equal(store_capture_take(s, pgapply_add, apply), 0);
	q = pgapply_batch(apply, &n);
	failed = 0;
	if (n == 0)
		return;
	failed = 1;
	assert_int_equal(run("BEGIN"), 0);
	for (i = 0; i < n; i++) {
		if (q[i].sql == NULL)
			fail_msg("ship: statement %u is a prepared one", i + 1);
		r = PQexecParams(pg, q[i].sql, (int)q[i].nparams, NULL,
		    q[i].params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK &&
		    PQresultStatus(r) != PGRES_TUPLES_OK) {
			char e[512];

			snprintf(e, sizeof(e), "%s", PQresultErrorMessage(r));
			PQclear(r);
			PQclear(PQexec(pg, "ROLLBACK"));
			fail_msg("ship: %s: %s", q[i].sql, e);
		}
		PQclear(r);
	}
	r = PQexec(pg, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		fail_msg("ship: COMMIT: %s", PQresultErrorMessage(r));
	PQclear(r);
	failed = 0;
}

int
store_pg_fx_flush(struct store *s)
{
	int rc = store_flush(s);

	if (rc == 0)
		ship(s);
	return rc;
}

/* The first line where a and b part, for the failure's message. */
static void
first_difference(const char *a, const char *b, char *buf, size_t len)
{
	const char *ea, *eb;

	for (;;) {
		ea = strchr(a, '\n');
		eb = strchr(b, '\n');
		if (ea == NULL || eb == NULL || ea - a != eb - b ||
		    memcmp(a, b, (size_t)(ea - a)) != 0)
			break;
		a = ea + 1;
		b = eb + 1;
	}
	snprintf(buf, len, "SQLite:     %.*s\nPostgreSQL: %.*s",
	    ea == NULL ? 11 : (int)(ea - a), ea == NULL ? "(no more rows)" : a,
	    eb == NULL ? 11 : (int)(eb - b), eb == NULL ? "(no more rows)" : b);
}

static void
compare(struct store *s)
{
	sqlite3_stmt *st;
	unsigned tables = 0;

	assert_int_equal(sqlite3_prepare_v2(s->db, "SELECT name FROM"
	    " sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	    " ORDER BY name", -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		char *a = lite_rows_where(s, t, "1"),
		    *b = pg_rows_text(pg, s, t), d[2048];

		if (strcmp(a, b) != 0) {
			failed = 1;
			first_difference(a, b, d, sizeof(d));
			fail_msg("table %s differs, first at:\n%s", t, d);
		}
		if (getenv("WXGATE_TEST_VERBOSE") && a[0] != '\0')
			fprintf(stderr, "%s:\n%s", t, a);
		tables++;
		free(a);
		free(b);
	}
	sqlite3_finalize(st);
	assert_true(tables > 0);
}

void
store_pg_fx_close(struct store *s)
{
	if (s != NULL && !failed) {
		/*
		 * A turn a failed write poisoned is rolled back, as the
		 * supervisor does (durable_commit): SQLite keeps none of
		 * it, and its changes are not shipped.
		 */
		if (store_flush(s) == -1)
			store_rollback(s);
		ship(s);
		compare(s);
	}
	store_close(s);
}
