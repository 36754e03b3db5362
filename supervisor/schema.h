/*
 * The store's schema in one description for both backends (issue #18):
 * SQLite (the embedded default) and PostgreSQL (several nodes).
 *
 * SQLite reaches version SCHEMA_BASE through its own history of
 * migrations (store_migrate.c), which existing stores replay; the
 * description states what that history ends in, and test_schema checks
 * that the two agree, table by table, column by column, key by key.
 * PostgreSQL has no history to replay: a new database starts from the
 * description.  A later version is one more step here, written once
 * for both.
 */
#ifndef WX_SCHEMA_H
#define WX_SCHEMA_H

enum schema_dialect {
	SCHEMA_SQLITE,
	SCHEMA_PG,
};

/* The row ids a node takes at a time from PostgreSQL's row_ids. */
#define SCHEMA_ID_BLOCK		1024
#define SCHEMA_ID_BLOCK_S	"1024"

/* The version the description is of: store_migrate.c's latest. */
#define SCHEMA_BASE	17

/* The schema at SCHEMA_BASE as SQL statements for dialect; the caller
 * frees it. */
char	*schema_sql(enum schema_dialect);

#endif
