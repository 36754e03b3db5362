/*
 * A working set's table as text, for comparing with PostgreSQL's
 * (test_store_ship_pg, store_pg_fx.c): a line a row in primary-key
 * order, cells joined by '|', NULL as "-", bytes as PostgreSQL's
 * "\x..." hex, everything else as its text.
 */
#ifndef WX_TEST_LITE_ROWS_H
#define WX_TEST_LITE_ROWS_H

#include <stddef.h>

struct store;

/* The ORDER BY of table's primary key, as the working set declares it. */
void	 lite_pk_order(struct store *, const char *table, char *order,
	    size_t len);
/* The rows of table WHERE where (SQL; "1" for all); the caller frees. */
char	*lite_rows_where(struct store *, const char *table,
	    const char *where);

/* The same table in PostgreSQL (conn a PGconn), ordered by the working
 * set's key, said as libpq's text says it; the caller frees. */
char	*pg_rows_text(void *conn, struct store *, const char *table);

#endif
