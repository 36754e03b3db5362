/*
 * The store's schema made in PostgreSQL, as every node makes it and
 * wxgate-import before it copies a store in (pgimport.c): one text, so
 * that an imported cluster is the cluster a node would have made.
 */
#ifndef WX_PGSETUP_H
#define WX_PGSETUP_H

/*
 * Statements, inside the caller's transaction, that make the schema at
 * SCHEMA_BASE when the database has none, and fail when it has another
 * version.  They take an advisory lock held to the transaction's end,
 * so nodes starting at once make it one after another.  The caller
 * frees the text.
 */
char	*pgsetup_sql(void);
/* The same for steps st (n of them, the last at latest): pgsetup_sql's
 * are schema.c's, a test's its own. */
struct schema_step;
char	*pgsetup_sql_steps(const struct schema_step *st, unsigned n,
	    int latest);

#endif
