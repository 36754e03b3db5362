/*
 * The PostgreSQL that tests/pgserver.sh started for a test: its libpq
 * key=value DSN (without the password) and the password, from
 * WXGATE_PG_DSN and WXGATE_PG_PASSWORD_FILE; and a batch run to its
 * answer, as the tests that ship or fence writes need it.
 */
#ifndef WX_PG_FX_H
#define WX_PG_FX_H

#include <stddef.h>

#include "pgpool.h"

struct event_base;

/* 0, or -1 with a line on stderr saying how to run the test. */
int	pg_fx_env(char *dsn, size_t dsnlen, char *pw, size_t pwlen);
/*
 * pgpool_batch, then the loop until it is answered: the status, with
 * the error line in err.  The pool's deadline bounds the wait.
 */
enum pgp_status	pg_fx_batch(struct event_base *, struct pgpool *,
		    const struct pgp_q *, unsigned n, char *err, size_t errlen);
/*
 * A batch led by LEASE_FENCE_SQL: 1 committed, 0 refused by the fence
 * (WX001 on statement 1), -1 any other answer (said on stderr).
 */
int		pg_fx_fenced(struct event_base *, struct pgpool *,
		    const struct pgp_q *, unsigned n);

#endif
