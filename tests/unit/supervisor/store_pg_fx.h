/*
 * The store suite against PostgreSQL too (issue #18): test_store built
 * again with -DSTORE_FX_PG runs its cases on a store whose changes are
 * captured (store_capture) and, after every commit the test makes,
 * shipped as one transaction (pgapply.c) to a schema of the test's own
 * in the PostgreSQL of tests/pgserver.sh.  When the test closes its
 * store, every table must hold the same rows in both databases.
 */
#ifndef WX_TEST_STORE_PG_FX_H
#define WX_TEST_STORE_PG_FX_H

#include <stddef.h>

struct store;

/* Group fixtures: connect to the test's PostgreSQL, and let go. */
int		 store_pg_fx_connect(void **state);
int		 store_pg_fx_disconnect(void **state);
/* Per test: a fresh schema made from the description, searched first. */
int		 store_pg_fx_begin(void);
/* store_open, with capture on. */
struct store	*store_pg_fx_open(const char *path, char *err, size_t len);
/* store_flush, then the turn's changes shipped and committed. */
int		 store_pg_fx_flush(struct store *);
/*
 * The last turn committed and shipped, every table compared
 * (fail_msg with the first table that differs), then store_close.
 */
void		 store_pg_fx_close(struct store *);

#endif
