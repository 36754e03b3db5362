/*
 * The PostgreSQL that tests/pgserver.sh started for a test: its libpq
 * key=value DSN (without the password) and the password, from
 * WXGATE_PG_DSN and WXGATE_PG_PASSWORD_FILE.
 */
#ifndef WX_PG_FX_H
#define WX_PG_FX_H

#include <stddef.h>

/* 0, or -1 with a line on stderr saying how to run the test. */
int	pg_fx_env(char *dsn, size_t dsnlen, char *pw, size_t pwlen);

#endif
