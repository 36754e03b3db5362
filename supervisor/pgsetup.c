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
	char *schema = schema_sql(SCHEMA_PG), *sql;

	/* wx_schema says which version the description made: a node of
	 * another version must not write into it. */
	xasprintf(&sql,
	    "SET LOCAL client_min_messages = warning;"
	    "SELECT pg_advisory_xact_lock(7417002);"
	    "CREATE TABLE IF NOT EXISTS wx_schema (version int NOT NULL);"
	    "DO $wxdo$ BEGIN IF NOT EXISTS (SELECT 1 FROM wx_schema) THEN"
	    " EXECUTE $wxs$%s$wxs$;"
	    " INSERT INTO wx_schema VALUES (%d); END IF;"
	    " IF (SELECT max(version) FROM wx_schema) <> %d THEN"
	    " RAISE EXCEPTION 'the database''s schema is not version %d';"
	    " END IF; END $wxdo$;", schema, SCHEMA_BASE, SCHEMA_BASE,
	    SCHEMA_BASE);
	free(schema);
	return sql;
}
