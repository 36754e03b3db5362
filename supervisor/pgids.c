/*
 * Row id blocks (pgids.h).
 */
#include <stdlib.h>

#include "log.h"
#include "pgids.h"
#include "pgpool.h"
#include "schema.h"
#include "store.h"
#include "xmalloc.h"

struct fetch {
	struct store	*store;
	pgids_fn	 fn;
	void		*arg;
};

static void
pgids_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct fetch *f = arg;
	int64_t first = -1;

	if (st == PGP_OK && PQntuples(res) == 1) {
		first = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		store_ids(f->store, first, SCHEMA_ID_BLOCK);
	} else if (st != PGP_CLOSED)
		log_warnx("pgids: no block: %s%s%s", pgp_status_name(st),
		    err ? ": " : "", err ? err : "");
	f->fn(first, f->arg);
	free(f);
}

int
pgids_fetch(struct pgpool *p, struct store *s, pgids_fn fn, void *arg)
{
	struct fetch *f = xcalloc(1, sizeof(*f));
	struct pgp_q q = { 0, 0, NULL, "SELECT nextval('row_ids')" };

	f->store = s;
	f->fn = fn;
	f->arg = arg;
	if (pgpool_batch(p, &q, 1, pgids_done, f) == -1) {
		free(f);
		return -1;
	}
	return 0;
}

int
pgids_low(struct store *s)
{
	return store_ids_left(s) < SCHEMA_ID_BLOCK / 2;
}
