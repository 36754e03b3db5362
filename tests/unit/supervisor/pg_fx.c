/*
 * The tests' PostgreSQL (pg_fx.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_fx.h"

int
pg_fx_env(char *dsn, size_t dsnlen, char *pw, size_t pwlen)
{
	const char *d = getenv("WXGATE_PG_DSN");
	const char *path = getenv("WXGATE_PG_PASSWORD_FILE");
	FILE *f;

	if (d == NULL || path == NULL || (f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "no PostgreSQL: run me under"
		    " tests/pgserver.sh run\n");
		return -1;
	}
	if (fgets(pw, (int)pwlen, f) == NULL) {
		fclose(f);
		fprintf(stderr, "%s: empty\n", path);
		return -1;
	}
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';
	if ((size_t)snprintf(dsn, dsnlen, "%s", d) >= dsnlen)
		return -1;
	return 0;
}
