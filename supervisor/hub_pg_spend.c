/*
 * A binding invitation's use on a cluster (wxgate-hub-pg only, issue
 * #18).  A node binds from its working set's copy of the invitation,
 * so two nodes spending its last use there would both succeed.  The
 * use is therefore taken in PostgreSQL first, by one conditional
 * statement, and only a login that got it goes on to bind; the
 * working set's counts never ship (pgapply.c), so a use is taken once.
 *
 * Bounds: one statement per login (bind.pending_max of them at most),
 * the pool's queue and its deadline.  No answer (a timeout, a broken
 * connection) is told as busy: the use may then be lost, never spent
 * twice.  A use taken for a login that ended meanwhile is given back,
 * once, without waiting for it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "hub_pg_int.h"
#include "log.h"
#include "pgpool.h"
#include "xmalloc.h"

/* No expiry: as on a lone node (SB_ACC_SPEND), a login begun on a live
 * link may finish after the link's end. */
static const char spend_sql[] =
    "UPDATE invitations SET uses_left = uses_left - 1, used = used + 1"
    " WHERE id = $1 AND uses_left > 0 AND revoked IS NULL"
    " RETURNING uses_left";
static const char unspend_sql[] =
    "UPDATE invitations SET uses_left = uses_left + 1, used = used - 1"
    " WHERE id = $1 AND used > 0";

struct spend {
	int64_t		 inv;
	char		*tag;
	hub_spend_fn	 fn;
};

static void
spend_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct spend *sp = arg;
	int rv = -1;

	if (st == PGP_CLOSED)
		goto out;	/* the hub is ending: no one to tell */
	if (st == PGP_OK && res != NULL)
		rv = PQntuples(res) == 1 ? 0 : 1;
	else
		log_warnx("cluster: invitation %" PRId64 ": its use could not "
		    "be spent: %s%s%s", sp->inv, pgp_status_name(st),
		    err ? ": " : "", err ? err : "");
	sp->fn(rv, sp->inv, sp->tag);
 out:
	free(sp->tag);
	free(sp);
}

int
hub_pg_spend(int64_t inv, const char *tag, hub_spend_fn fn)
{
	char id[24];
	const char *params[1] = { id };
	struct pgp_q q = { 0, 1, params, spend_sql };
	struct spend *sp;

	snprintf(id, sizeof(id), "%" PRId64, inv);
	sp = xcalloc(1, sizeof(*sp));
	sp->inv = inv;
	sp->tag = xstrdup(tag);
	sp->fn = fn;
	if (pgpool_batch(hub_pg_pool(), &q, 1, spend_done, sp) == -1) {
		free(sp->tag);
		free(sp);
		return -1;
	}
	return 0;
}

static void
unspend_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	int64_t *inv = arg;

	(void)res;
	if (st != PGP_OK && st != PGP_CLOSED)
		log_warnx("cluster: invitation %" PRId64 ": a use taken for "
		    "a login that ended was not given back: %s%s%s", *inv,
		    pgp_status_name(st), err ? ": " : "", err ? err : "");
	free(inv);
}

void
hub_pg_unspend(int64_t inv)
{
	char id[24];
	const char *params[1] = { id };
	struct pgp_q q = { 0, 1, params, unspend_sql };
	int64_t *arg;

	snprintf(id, sizeof(id), "%" PRId64, inv);
	arg = xmalloc(sizeof(*arg));
	*arg = inv;
	if (pgpool_batch(hub_pg_pool(), &q, 1, unspend_done, arg) == -1) {
		log_warnx("cluster: invitation %" PRId64 ": a use taken for "
		    "a login that ended was not given back", inv);
		free(arg);
	}
}
