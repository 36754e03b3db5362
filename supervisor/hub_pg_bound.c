/*
 * Bound accounts on a cluster (wxgate-hub-pg only, issue #18): a bound
 * account (account.c) is made on whichever node served its binding
 * page, and lives in the truth's accounts table.  Every node learns the
 * active ones from there and wants their leases like the file's
 * accounts (hub_pg.c); the node that takes one builds and starts it.
 *
 * A poll, once a second, one statement, one at a time, at most
 * BOUND_ROWS rows: what this node wants is what was there.  A row that
 * is gone (the account was unbound or removed) stops being wanted, and
 * the node that held it stops its worker and gives its lease back.
 * Polling rather than LISTEN/NOTIFY for the reason web chat polls
 * (hub_pg_visit.c): a LISTEN holds one of the pool's few connections
 * for good and loses its notices across a reconnect.  An account
 * whose template this node's configuration lacks is logged once and
 * not wanted here (another node may run it); a reload that brings the
 * template back lets the next poll want it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "account.h"
#include "clock.h"
#include "codec.h"
#include "config.h"
#include "hub.h"
#include "hub_pg_int.h"
#include "lease.h"
#include "log.h"
#include "pgpool.h"
#include "xmalloc.h"

#define BOUND_POLL_MS	1000
#define BOUND_ROWS	LEASE_ACCOUNTS_MAX

static const char poll_sql[] =
    "SELECT name, template FROM accounts WHERE state = 'active'"
    " AND kind = '" ACCOUNT_KIND "' ORDER BY name LIMIT 4096";
_Static_assert(BOUND_ROWS == 4096, "poll_sql's LIMIT");

struct bound {
	char	 name[IPC_NAME_MAX + 1];
	int	 wanted;	/* hub_pg_bound_want said yes */
	int	 warned;	/* its template is not here: said once */
	int	 seen;		/* in the last answer */
};

static struct {
	struct event	*tick;
	int		 asked;
	struct bound	*b;
	unsigned	 n;
} hb;

static struct bound *
bound_find(const char *name)
{
	unsigned i;

	for (i = 0; i < hb.n; i++)
		if (strcmp(hb.b[i].name, name) == 0)
			return &hb.b[i];
	return NULL;
}

static void
bound_row(const char *name, const char *tmpl)
{
	struct bound *b;

	if (strlen(name) > IPC_NAME_MAX)
		return;		/* not one of ours: account.c names b + 8 */
	if ((b = bound_find(name)) == NULL) {
		hb.b = xreallocarray(hb.b, hb.n + 1, sizeof(*hb.b));
		b = &hb.b[hb.n++];
		memset(b, 0, sizeof(*b));
		snprintf(b->name, sizeof(b->name), "%s", name);
	}
	b->seen = 1;
	if (b->wanted)
		return;
	if (config_template(sup->conf, tmpl) == NULL) {
		if (!b->warned)
			log_warnx("account %s: template \"%s\" is not in this "
			    "node's configuration: not run here", name, tmpl);
		b->warned = 1;
		return;
	}
	if (hub_pg_bound_want(name, tmpl) == -1) {
		if (!b->warned)
			log_warnx("account %s: no room for another lease",
			    name);
		b->warned = 1;
		return;
	}
	b->wanted = 1;
	log_info("cluster: bound account %s (template %s) is leased", name,
	    tmpl);
}

static void
poll_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	unsigned i;
	int row, rows;

	(void)arg;
	if (st == PGP_CLOSED)
		return;
	hb.asked = 0;
	if (st != PGP_OK || res == NULL) {
		log_debug("cluster: bound accounts: %s%s%s",
		    pgp_status_name(st), err ? ": " : "", err ? err : "");
		return;
	}
	for (i = 0; i < hb.n; i++)
		hb.b[i].seen = 0;
	rows = PQntuples(res);
	for (row = 0; row < rows; row++)
		bound_row(PQgetvalue(res, row, 0), PQgetvalue(res, row, 1));
	/* A full answer may have left some out: remove nothing on it. */
	if (rows >= BOUND_ROWS)
		return;
	for (i = 0; i < hb.n; ) {
		if (hb.b[i].seen) {
			i++;
			continue;
		}
		if (hb.b[i].wanted) {
			log_info("cluster: bound account %s is gone: not "
			    "run any more", hb.b[i].name);
			hub_pg_bound_unwant(hb.b[i].name);
		}
		hb.b[i] = hb.b[--hb.n];
	}
}

static void
poll_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct pgp_q q = { 0, 0, NULL, poll_sql };

	(void)fd;
	(void)ev;
	(void)arg;
	/* While the store is behind, a poll would only add to its queue. */
	if (hb.asked || hub_pg_full())
		return;
	if (pgpool_batch(hub_pg_pool(), &q, 1, poll_done, NULL) == 0)
		hb.asked = 1;
}

void
hub_pg_bound_start(void)
{
	struct timeval tv = clock_tv(BOUND_POLL_MS);

	if ((hb.tick = event_new(sup->base, -1, EV_PERSIST, poll_tick,
	    NULL)) == NULL || event_add(hb.tick, &tv) == -1)
		fatalx("%s: timer", __func__);
}
