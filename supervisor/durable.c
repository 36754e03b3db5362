/*
 * Claims that wait for the commit.  The store's writes of one loop turn
 * share one transaction (group commit), so a handler that wrote a
 * message has not made it durable yet: what tells a client or a worker
 * "it is stored" (chat.accepted, chat.done, inbound.ack, a session
 * token) waits here until store_flush() succeeds, and then goes out; if
 * the commit fails, the transaction is rolled back and each claim gets
 * its failure answer instead (unavailable, retry).  Nothing handed out
 * names a row that is not on disk: no message id, outbox id or session
 * id of a rolled-back turn ever leaves the supervisor.
 *
 * A claim whose client must not wait without end gets a deadline
 * (durable_due): in a cluster a commit is not the end, the turn's ship
 * to PostgreSQL is, and while the database is down a ship is retried
 * for as long as that lasts.  Past the deadline its late function tells
 * the client something (busy, and when to ask again); the claim itself
 * still waits for its ship and settles as before, with told set so that
 * it does not answer twice.
 *
 * A failing store is logged once per DURABLE_LOG_MS with a count, not
 * once per message, and the count is kept for wxgatectl status.
 * Called by main.c's end-of-turn callback; claims come from router_chat.c, router_agent.c
 * and channel.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "clock.h"
#include "hub.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

/* How often a failing store is logged. */
#define DURABLE_LOG_MS	60000

static struct durable_head claims = TAILQ_HEAD_INITIALIZER(claims);
static uint64_t		 fails;		/* commits failed, ever */
static uint64_t		 fails_logged;	/* fails when last logged */
static uint64_t		 logged_at;	/* clock_mono_ms() of that log */
static int		 failing;	/* the last commit failed */

/* Register fn to run once the current turn's writes commit, or fail. */
struct durable *
durable_after(durable_fn fn)
{
	struct durable *d = xcalloc(1, sizeof(*d));

	d->fn = fn;
	TAILQ_INSERT_TAIL(&claims, d, entry);
	sup_turn();
	return d;
}

/* The claim answers this frame of this worker incarnation. */
void
durable_for(struct durable *d, struct worker *w, uint64_t req_id,
    uint64_t conn)
{
	snprintf(d->wname, sizeof(d->wname), "%s", w->name);
	d->gen = w->gen;
	d->req_id = req_id;
	d->conn = conn;
}

static void
durable_due_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct durable *d = arg;

	(void)fd;
	(void)ev;
	d->told = 1;
	d->late(d);
	sup_turn();
}

/* If the claim still waits ms from now, late(d) runs, once. */
void
durable_due(struct durable *d, uint64_t ms, durable_late_fn late)
{
	struct timeval tv;

	if (d->due == NULL && (d->due = evtimer_new(sup->base,
	    durable_due_cb, d)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	d->late = late;
	tv = clock_tv(ms);
	evtimer_add(d->due, &tv);
}

/* By name and generation: the worker may have died since the claim. */
struct worker *
durable_worker(const struct durable *d)
{
	struct worker *w = spawn_find(d->wname);

	if (w == NULL || w->gen != d->gen || w->wire == NULL)
		return NULL;
	return w;
}

static void
durable_log(void)
{
	uint64_t now = clock_mono_ms();

	if (logged_at != 0 && now - logged_at < DURABLE_LOG_MS)
		return;
	log_warnx("store: %llu commits failed (%llu since the last "
	    "report); writes are refused until the store recovers",
	    (unsigned long long)fails,
	    (unsigned long long)(fails - fails_logged));
	fails_logged = fails;
	logged_at = now;
}

#ifdef WX_TEST_HOOKS
/* While set, turns are not committed: a disk slow to sync, held. */
static int	hold;

void
durable_test_hold(int on)
{
	hold = on;
	sup_turn();
}

int
durable_test_held(void)
{
	return hold;
}
#endif

/*
 * Commit the turn, then settle every claim in the order it was made.
 * 0 committed, -1 rolled back.
 */
int
durable_commit(void)
{
	int ok = 1, wrote = store_dirty(sup->store);

#ifdef WX_TEST_HOOKS
	if (hold)
		return 0;	/* the writes and claims wait for a later turn */
#endif

	/* A turn that wrote nothing says nothing of the store. */
	if (!wrote) {
		/* nothing to commit */
	} else if (hub_pg_full()) {
		/* The shared store is behind: refused as a failing one's. */
		store_rollback(sup->store);
		hub_pg_refused();
		ok = 0;
	} else if (store_flush(sup->store) == -1) {
		store_rollback(sup->store);
		ok = 0;
		fails++;
		failing = 1;
		durable_log();
	} else if (failing) {
		log_warnx("store: commits succeed again (%llu failed)",
		    (unsigned long long)fails);
		failing = 0;
		logged_at = 0;
	}
	/* In a cluster, what the turn wrote must reach the truth first. */
	if (!ok || !hub_pg_on() || !hub_pg_ship(&claims, wrote))
		durable_settle(&claims, ok);
	/* Whether the next turns are refused (a cluster's store behind). */
	hub_pg_judge();
	return ok ? 0 : -1;
}

void
durable_settle(struct durable_head *h, int ok)
{
	struct durable *d;

	while ((d = TAILQ_FIRST(h)) != NULL) {
		TAILQ_REMOVE(h, d, entry);
		if (d->due != NULL)
			event_free(d->due);
		d->fn(d, ok);
		free(d->str);
		free(d->str2);
		free(d);
	}
}

/* For status: commits failed since start, and whether it still fails. */
uint64_t
durable_failures(int *now)
{
	if (now != NULL)
		*now = failing;
	return fails;
}
