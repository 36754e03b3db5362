/* A working set's table, and PostgreSQL's, as text (lite_rows.h). */
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
#include "store.h"
#include "store_int.h"

void
lite_pk_order(struct store *s, const char *table, char *order, size_t len)
{
	sqlite3_stmt *st;
	char q[256];

	snprintf(q, sizeof(q), "SELECT group_concat('\"' || name || '\"', ',')"
	    " FROM (SELECT name FROM pragma_table_info('%s') WHERE pk > 0"
	    " ORDER BY pk)", table);
	assert_int_equal(sqlite3_prepare_v2(s->db, q, -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(order, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static char *
append(char *out, size_t *len, const char *cell, int last)
{
	out = realloc(out, *len + strlen(cell) + 2);
	assert_non_null(out);
	*len += (size_t)sprintf(out + *len, "%s%c", cell, last ? '\n' : '|');
	return out;
}

char *
lite_rows_where(struct store *s, const char *table, const char *where)
{
	sqlite3_stmt *st;
	char q[512], order[256], *out = calloc(1, 1), *cell;
	size_t len = 0;
	int c, i, n, nc;
	const unsigned char *b;

	lite_pk_order(s, table, order, sizeof(order));
	snprintf(q, sizeof(q), "SELECT * FROM \"%s\" WHERE %s ORDER BY %s",
	    table, where, order);
	assert_int_equal(sqlite3_prepare_v2(s->db, q, -1, &st, NULL),
	    SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		nc = sqlite3_column_count(st);
		for (c = 0; c < nc; c++) {
			switch (sqlite3_column_type(st, c)) {
			case SQLITE_NULL:
				cell = strdup("-");
				break;
			case SQLITE_BLOB:
				b = sqlite3_column_blob(st, c);
				n = sqlite3_column_bytes(st, c);
				cell = malloc(3 + 2 * (size_t)n);
				strcpy(cell, "\\x");
				for (i = 0; i < n; i++)
					sprintf(cell + 2 + 2 * i, "%02x", b[i]);
				break;
			default:
				cell = strdup((const char *)
				    sqlite3_column_text(st, c));
				break;
			}
			out = append(out, &len, cell, c + 1 == nc);
			free(cell);
		}
	}
	sqlite3_finalize(st);
	return out;
}

char *
pg_rows_text(void *conn, struct store *s, const char *table)
{
	char q[512], order[256], *out = calloc(1, 1);
	size_t len = 0;
	PGresult *r;
	int i, c;

	lite_pk_order(s, table, order, sizeof(order));
	snprintf(q, sizeof(q), "SELECT * FROM \"%s\" ORDER BY %s", table,
	    order);
	r = PQexec(conn, q);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(r));
	for (i = 0; i < PQntuples(r); i++)
		for (c = 0; c < PQnfields(r); c++)
			out = append(out, &len, PQgetisnull(r, i, c) ? "-" :
			    PQgetvalue(r, i, c), c + 1 == PQnfields(r));
	PQclear(r);
	return out;
}
