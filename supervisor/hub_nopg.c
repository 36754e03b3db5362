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

int
hub_pg_leased(const char *account)
{
	(void)account;
	return 0;
}

void
hub_pg_worker_gone(const char *account)
{
	(void)account;
}

int
hub_pg_visit(enum hub_visit by, const char *key, const char *key2,
    durable_fn fn, const struct durable *tmpl)
{
	(void)by;
	(void)key;
	(void)key2;
	(void)fn;
	(void)tmpl;
	return 1;
}

int
hub_pg_spend(int64_t inv, const char *tag, hub_spend_fn fn)
{
	(void)inv;
	(void)tag;
	(void)fn;
	return 1;
}

void
hub_pg_unspend(int64_t inv)
{
	(void)inv;
}

int
hub_pg_cluster(uint64_t client, uint64_t req_id)
{
	(void)client;
	(void)req_id;
	return -1;
}

int
hub_pg_drain(unsigned *held)
{
	*held = 0;
	return -1;
}

int
hub_pg_sched_here(char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	return 1;
}

int
hub_pg_sched_read(const struct hub_sched_read *r)
{
	(void)r;
	return -1;
}
