/*
 * The tests' PostgreSQL, and batches run to their answer (pg_fx.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

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

struct pg_fx_answer {
	int		 done;
	enum pgp_status	 st;
	char		*err;
	size_t		 errlen;
};

static void
pg_fx_answered(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct pg_fx_answer *a = arg;

	(void)res;
	a->done = 1;
	a->st = st;
	snprintf(a->err, a->errlen, "%s", err ? err : "");
}

enum pgp_status
pg_fx_batch(struct event_base *base, struct pgpool *p, const struct pgp_q *q,
    unsigned n, char *err, size_t errlen)
{
	struct pg_fx_answer a = { 0, PGP_CLOSED, err, errlen };

	if (pgpool_batch(p, q, n, pg_fx_answered, &a) == -1) {
		snprintf(err, errlen, "pgpool_batch refused the batch");
		return PGP_ERROR;
	}
	while (!a.done)
		event_base_loop(base, EVLOOP_ONCE);
	return a.st;
}

int
pg_fx_fenced(struct event_base *base, struct pgpool *p, const struct pgp_q *q,
    unsigned n)
{
	char err[512];
	enum pgp_status st = pg_fx_batch(base, p, q, n, err, sizeof(err));

	if (st == PGP_OK)
		return 1;
	if (st == PGP_ERROR && strstr(err, "statement 1: WX001") != NULL)
		return 0;
	fprintf(stderr, "fenced batch: %s %s\n", pgp_status_name(st), err);
	return -1;
}
