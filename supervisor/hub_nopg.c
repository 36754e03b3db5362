/*
 * The hub alone on its node (wxgate-hub): no shared store, so none of
 * hub_pg.c and no libpq.  wxgate-hub-pg links hub_pg.c instead, before
 * the library that holds this file.
 */
#include "config.h"
#include "hub.h"
#include "log.h"

int
hub_pg_on(void)
{
	return 0;
}

void
hub_pg_spec(struct sandbox_spec *sb)
{
	(void)sb;
}

/* A store secret for a hub that has no use for one: a broken parent. */
int
hub_pg_secret(struct ipc_msg *m)
{
	(void)m;
	return -1;
}

void
hub_pg_start(void)
{
	if (sup->conf->store_pg)
		fatalx("a postgresql store needs wxgate-hub-pg");
}

int
hub_pg_full(void)
{
	return 0;
}

void
hub_pg_judge(void)
{
}

void
hub_pg_refused(void)
{
}

int
hub_pg_ship(struct durable_head *claims, int wrote)
{
	(void)claims;
	(void)wrote;
	return 0;
}

int64_t
hub_pg_outbox_below(void)
{
	return INT64_MAX;
}

int
hub_pg_holds(const char *account)
{
	(void)account;
	return 1;
}

void
hub_pg_worker_gone(const char *account)
{
	(void)account;
}
