/*
 * Web chat across the nodes of a cluster (wxgate-hub-pg only): behind
 * a load balancer, a visitor's next connection may land on any node,
 * so a session is read from the shared truth into this node's working
 * set before it is used here (a resume), and again while a message
 * another node is answering is awaited (router_await.c).
 *
 * A load waits for this node's own earlier ships: what it reads is
 * then at least what this node wrote, and absorbing it does not undo a
 * write of ours.  Bounds: VISIT_MAX loads waiting or under way (past
 * that the caller answers busy), VISIT_WAIT_MS for the ships before it
 * (a database that does not answer: the visit fails, told busy), and
 * pgpool's deadline for the load itself.
 */
#include <sys/queue.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "clock.h"
#include "hub.h"
#include "hub_pg_int.h"
#include "log.h"
#include "pgids.h"
#include "pgload.h"
#include "session.h"
#include "store.h"
#include "xmalloc.h"

#define VISIT_MAX	64
#define VISIT_WAIT_MS	5000
#define VISIT_TICK_MS	250

struct visit {
	TAILQ_ENTRY(visit)	 entry;
	uint64_t		 after;		/* ships up to this one first */
	uint64_t		 since;		/* clock_mono_ms */
	int			 sent;
	enum pgload_by		 by;
	char			 key[2 * SESSION_HASH_LEN + 1];
	char			 key2[2 * SESSION_HASH_LEN + 1];
	struct durable		 d;		/* the claim to make */
};

static TAILQ_HEAD(, visit) visits = TAILQ_HEAD_INITIALIZER(visits);
static unsigned nvisits;
static struct event *tick;

/*
 * Settle the visit: loaded, its claim runs once the absorbing turn
 * commits; not, at once (ok 0), so the client hears busy without
 * waiting behind ships that may be stuck.
 */
static void
visit_end(struct visit *v, int loaded)
{
	struct durable *d;

	TAILQ_REMOVE(&visits, v, entry);
	nvisits--;
	if (!loaded) {
		v->d.fn(&v->d, 0);
		free(v->d.str);
		free(v->d.str2);
		free(v);
		return;
	}
	d = durable_after(v->d.fn);
	memcpy(d->wname, v->d.wname, sizeof(d->wname));
	d->gen = v->d.gen;
	d->req_id = v->d.req_id;
	d->conn = v->d.conn;
	d->id = v->d.id;
	d->session = v->d.session;
	d->str = v->d.str;
	d->str2 = v->d.str2;
	free(v);
}

static void
visit_ids(int64_t first, void *arg)
{
	visit_end(arg, first >= 0);
}

static void
visit_loaded(int64_t rows, void *arg)
{
	struct visit *v = arg;

	if (rows < 0) {
		log_warnx("cluster: a web chat session could not be loaded");
		visit_end(v, 0);
	} else if (store_ids_past_messages(sup->store) > 0)
		visit_end(v, 1);
	/* What the visitor writes here must sort after what they wrote
	 * there: a block newer than the newest message comes first. */
	else if (pgids_fetch(hub_pg_pool(), sup->store, visit_ids, v) == -1)
		visit_end(v, 0);
}

/* Send each load whose ships are in; fail those that waited too long. */
void
hub_pg_visit_run(void)
{
	static int running;
	struct visit *v;
	uint64_t now = clock_mono_ms();

	/* visit_end's claim may ask for another visit. */
	if (running)
		return;
	running = 1;
 again:
	TAILQ_FOREACH(v, &visits, entry) {
		if (v->sent)
			continue;
		if (!hub_pg_shipped(v->after)) {
			if (now - v->since <= VISIT_WAIT_MS)
				continue;
			visit_end(v, 0);
			goto again;
		}
		if (pgload_session(hub_pg_pool(), sup->store, v->by, v->key,
		    v->key2, visit_loaded, v) == -1) {
			visit_end(v, 0);
			goto again;
		}
		v->sent = 1;
	}
	running = 0;
}

static void
tick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { 0, VISIT_TICK_MS * 1000 };

	(void)fd;
	(void)ev;
	(void)arg;
	hub_pg_visit_run();
	if (!TAILQ_EMPTY(&visits))
		evtimer_add(tick, &tv);
}

int
hub_pg_visit(enum hub_visit by, const char *key, const char *key2,
    durable_fn fn, const struct durable *tmpl)
{
	static const enum pgload_by map[] = {
		[HUB_VISIT_ID] = PGLOAD_ID,
		[HUB_VISIT_TOKEN] = PGLOAD_TOKEN,
		[HUB_VISIT_SHARE] = PGLOAD_SHARE,
		[HUB_VISIT_MSG] = PGLOAD_MSG,
		[HUB_VISIT_INVITE] = PGLOAD_INVITE,
		[HUB_VISIT_CONV] = PGLOAD_CONV,
	};
	struct timeval tv = { 0, VISIT_TICK_MS * 1000 };
	struct visit *v;

	if (nvisits >= VISIT_MAX)
		return -1;
	if (tick == NULL && (tick = evtimer_new(sup->base, tick_cb, NULL)) ==
	    NULL)
		fatalx("%s: evtimer_new", __func__);
	v = xcalloc(1, sizeof(*v));
	v->after = hub_pg_ship_last();
	v->since = clock_mono_ms();
	v->by = map[by];
	snprintf(v->key, sizeof(v->key), "%s", key);
	snprintf(v->key2, sizeof(v->key2), "%s", key2 != NULL ? key2 : "");
	v->d = *tmpl;
	v->d.fn = fn;
	v->d.str = tmpl->str != NULL ? xstrdup(tmpl->str) : NULL;
	v->d.str2 = tmpl->str2 != NULL ? xstrdup(tmpl->str2) : NULL;
	TAILQ_INSERT_TAIL(&visits, v, entry);
	nvisits++;
	if (!evtimer_pending(tick, NULL))
		evtimer_add(tick, &tv);
	hub_pg_visit_run();
	return 0;
}
