/*
 * wxgatectl cluster and drain on a node of a cluster (wxgate-hub-pg):
 * the nodes and the leases as the shared store has them, so any node
 * answers for all of them, with this node's own workers beside its
 * leases; and this node's leases handed over (lease.c's drain).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hub.h"
#include "hub_pg_int.h"
#include "lease.h"
#include "log.h"
#include "pgpool.h"
#include "xmalloc.h"

/* Listings waiting for the database. */
#define CLUSTER_ASKED_MAX	8

/* Nodes (kind 0) then leases (kind 1); the times in ms. */
static const char cluster_sql[] =
    "SELECT 0, name, CASE WHEN draining THEN 'draining'"
    " WHEN seen > now() - $1::int * interval '1 millisecond'"
    " THEN 'alive' ELSE 'gone' END,"
    " (extract(epoch FROM now() - seen) * 1000)::bigint, NULL::bigint"
    " FROM nodes"
    " UNION ALL SELECT 1, account, node, token,"
    " CASE WHEN expires > now() THEN"
    " (extract(epoch FROM expires - now()) * 1000)::bigint END"
    " FROM leases ORDER BY 1, 2";

struct asked {
	uint64_t	client;
	uint64_t	req_id;
};

static unsigned nasked;

static void
cluster_done(enum pgp_status st, const PGresult *res, const char *err,
    void *arg)
{
	struct asked *a = arg;
	char *text = NULL, why[256];
	size_t len = 0;
	FILE *f;
	int i, kind, last = -1;
	const char *name, *what;

	nasked--;
	if (st != PGP_OK) {
		snprintf(why, sizeof(why), "the database: %s%s%s",
		    pgp_status_name(st), err ? ": " : "", err ? err : "");
		ctl_cluster_answer(a->client, a->req_id, NULL, why);
		free(a);
		return;
	}
	if ((f = open_memstream(&text, &len)) == NULL)
		fatal("%s: open_memstream", __func__);
	for (i = 0; i < PQntuples(res); i++) {
		kind = atoi(PQgetvalue(res, i, 0));
		name = PQgetvalue(res, i, 1);
		what = PQgetvalue(res, i, 2);
		if (kind != last && kind == 0)
			fprintf(f, "%-24s %-9s %s\n", "NODE", "STATE", "SEEN");
		else if (kind != last)
			fprintf(f, "%s%-24s %-24s %6s %9s %s\n",
			    last == -1 ? "" : "\n", "ACCOUNT", "NODE",
			    "TOKEN", "LEASE", "WORKER");
		last = kind;
		if (kind == 0) {
			fprintf(f, "%-24s %-9s %.1f s ago%s\n", name, what,
			    atof(PQgetvalue(res, i, 3)) / 1000.0,
			    strcmp(name, sup->conf->node) == 0 ?
			    " (this node)" : "");
			continue;
		}
		if (PQgetisnull(res, i, 4))
			fprintf(f, "%-24s %-24s %6s %9s %s\n", name, "-",
			    PQgetvalue(res, i, 3), "lapsed", "-");
		else
			fprintf(f, "%-24s %-24s %6s %7.1f s %s\n", name, what,
			    PQgetvalue(res, i, 3),
			    atof(PQgetvalue(res, i, 4)) / 1000.0,
			    strcmp(what, sup->conf->node) == 0 ?
			    hub_pg_worker_state(name) : "-");
	}
	if (fclose(f) != 0)
		fatal("%s: fclose", __func__);
	ctl_cluster_answer(a->client, a->req_id, text, NULL);
	free(text);
	free(a);
}

int
hub_pg_cluster(uint64_t client, uint64_t req_id)
{
	struct asked *a;
	char ttl[16];
	const char *params[1] = { ttl };
	struct pgp_q q = { 0, 1, params, cluster_sql };

	if (nasked >= CLUSTER_ASKED_MAX)
		return -1;
	/* A node is alive while it beats within a lease's life. */
	snprintf(ttl, sizeof(ttl), "%u", sup->conf->cluster.lease_ttl_ms);
	a = xcalloc(1, sizeof(*a));
	a->client = client;
	a->req_id = req_id;
	if (pgpool_batch(hub_pg_pool(), &q, 1, cluster_done, a) == -1) {
		free(a);
		return -1;
	}
	nasked++;
	return 0;
}

int
hub_pg_drain(unsigned *held)
{
	*held = leases_held(hub_pg_leases());
	leases_drain(hub_pg_leases());
	return 0;
}
