/*
 * The PostgreSQL schema's setup (pgsetup.h).  Called by hub_pg.c once
 * per connection and by pgimport.c once; it only builds text and never
 * talks to the database itself.
 */
#include <stdlib.h>

#include "pgsetup.h"
#include "schema.h"
#include "xmalloc.h"

char *
pgsetup_sql(void)
{
	const struct schema_step *st;
	unsigned n;

	st = schema_steps(&n);
	return pgsetup_sql_steps(st, n, SCHEMA_LATEST);
}

/*
 * The database made at SCHEMA_BASE if it is new, then taken through
 * each step it has not had, each with its row in wx_schema, all in the
 * caller's transaction under the advisory lock: several nodes of a new
 * version starting at once move it on once.  A database past latest is
 * refused, as a node of an older version must not write into it.
 */
char *
pgsetup_sql_steps(const struct schema_step *st, unsigned n, int latest)
{
	char *schema = schema_sql(SCHEMA_PG), *steps = xstrdup(""), *one,
	    *sql, *t;
	unsigned i;

	for (i = 0; i < n; i++) {
		one = schema_render(SCHEMA_PG, st[i].sql);
		xasprintf(&t, "%s IF (SELECT max(version) FROM wx_schema) < %d"
		    " THEN EXECUTE $wxs%d$%s$wxs%d$;"
		    " INSERT INTO wx_schema VALUES (%d); END IF;", steps,
		    st[i].version, st[i].version, one, st[i].version,
		    st[i].version);
		free(one);
		free(steps);
		steps = t;
	}
	/* wx_schema says which version the database is at: a node of
	 * another version must not write into it. */
	xasprintf(&sql,
	    "SET LOCAL client_min_messages = warning;"
	    "SELECT pg_advisory_xact_lock(7417002);"
	    "CREATE TABLE IF NOT EXISTS wx_schema (version int NOT NULL);"
	    "DO $wxdo$ BEGIN IF NOT EXISTS (SELECT 1 FROM wx_schema) THEN"
	    " EXECUTE $wxs$%s$wxs$;"
	    " INSERT INTO wx_schema VALUES (%d); END IF;%s"
	    " IF (SELECT max(version) FROM wx_schema) <> %d THEN"
	    " RAISE EXCEPTION 'the database''s schema is version %%, not %d',"
	    " (SELECT max(version) FROM wx_schema);"
	    " END IF; END $wxdo$;", schema, SCHEMA_BASE, steps, latest,
	    latest);
	free(schema);
	free(steps);
	return sql;
}
