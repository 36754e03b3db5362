/*
 * Cold conversations warmed (wxgate-hub-pg only, issue #18): an
 * account taken over comes with the history only of the people who
 * wrote lately (pgload.c); a message into another one's conversation
 * wakes its mark (store_cold.c), and here its history is read, as a
 * visitor's session is (hub_pg_visit.c: after this node's own earlier
 * ships, so the message itself is in the truth), before the backlog
 * lets an agent answer it.
 *
 * A tick, every WARM_TICK_MS, asks for the woken ones; at most
 * WARM_MAX are read at once.  One that could not be read is woken
 * again for the next tick; meanwhile its message waits as any in the
 * backlog does, to its deadline (store_backlog_expired), and is then
 * told why.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "areq.h"
#include "config.h"
#include "hub.h"
#include "hub_pg_int.h"
#include "log.h"
#include "store.h"

#define WARM_TICK_MS	250
#define WARM_MAX	8

static struct {
	struct event	*tick;
	int		 reading;
} hw;

static void
warm_done(struct durable *d, int ok)
{
	const struct cfg_channel *cc;
	char *account, *peer;

	hw.reading--;
	if (!ok)
		log_debug("cluster: conversation %" PRId64 ": its history "
		    "could not be read; asked again", d->id);
	if (store_cold_done(sup->store, d->id, ok) == -1 || !ok)
		return;
	/* Its agent passed its message over: the backlog has it now. */
	if (store_chan_of(sup->store, d->id, &account, &peer) != 0)
		return;
	if ((cc = config_channel(sup->conf, account)) != NULL)
		agentq_backlog(agentq_find(cc->agent));
	free(account);
	free(peer);
}

static void
warm_tick(evutil_socket_t fd, short ev, void *arg)
{
	struct durable tmpl;
	int64_t ids[WARM_MAX];
	char key[24];
	int i, n;

	(void)fd;
	(void)ev;
	(void)arg;
	if (hw.reading >= WARM_MAX || hub_pg_full())
		return;
	if ((n = store_cold_wanted(sup->store, ids, WARM_MAX -
	    hw.reading)) <= 0)
		return;
	for (i = 0; i < n; i++) {
		memset(&tmpl, 0, sizeof(tmpl));
		tmpl.id = ids[i];
		snprintf(key, sizeof(key), "%" PRId64, ids[i]);
		if (hub_pg_visit(HUB_VISIT_CONV, key, NULL, warm_done,
		    &tmpl) == 0)
			hw.reading++;
		else
			(void)store_cold_done(sup->store, ids[i], 0);
	}
	sup_turn();
}

void
hub_pg_warm_start(void)
{
	struct timeval tv = { 0, WARM_TICK_MS * 1000 };

	if ((hw.tick = event_new(sup->base, -1, EV_PERSIST, warm_tick,
	    NULL)) == NULL || event_add(hw.tick, &tv) == -1)
		fatalx("%s: timer", __func__);
}
