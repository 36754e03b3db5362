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

/* The version the description is of: what SQLite's own history of
 * migrations (store_migrate.c) ends in, and where PostgreSQL began. */
#define SCHEMA_BASE	17
/* The latest: SCHEMA_BASE and the steps after it (schema_steps). */
#define SCHEMA_LATEST	20

/*
 * A version after SCHEMA_BASE: its statements in the description's
 * words (@INT, @DEFER, ...), run in one transaction with the version
 * bump.  A step only adds (a column that may be NULL or has a default,
 * a table, an index) or replaces or drops an index whose queries
 * another answers, so that nodes of the version before, still
 * running while the first of the new version moves the database on,
 * read and write it as before.
 */
struct schema_step {
	int		 version;
	const char	*sql;
};

/* The schema at SCHEMA_BASE as SQL statements for dialect; the caller
 * frees it. */
char	*schema_sql(enum schema_dialect);
/* Any text in the description's words, said in dialect; freed by the
 * caller. */
char	*schema_render(enum schema_dialect, const char *);
/* The steps after SCHEMA_BASE, in order, n of them (the last is
 * SCHEMA_LATEST). */
const struct schema_step *schema_steps(unsigned *n);

#endif
