/*
 * Web chat messages another node of a cluster is answering.  A visitor
 * whose connection moved here sends again what had no chat.done (the
 * page does), and the store says the message is taken: it is not asked
 * of the agent a second time but awaited.  The message is read from
 * the shared store (hub_pg_visit, one row and its parts; the session
 * was read when the visitor came) every AWAIT_POLL_MS until the answer
 * is there, then told as a replay.
 *
 * Polling, not LISTEN/NOTIFY: a LISTEN holds one of the pool's
 * connections for good and its notices are lost across a reconnect, so
 * a poll would be needed behind it anyway.  Bounds: AWAIT_MAX messages
 * (past that, busy), one read per message a round, and each message at
 * most the web chat deadline plus a lease TTL (the node answering it
 * may have died with it): then timeout, and the visitor may send again.
 */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "areq.h"
#include "clock.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "router_int.h"
#include "store.h"
#include "xmalloc.h"

#define AWAIT_MAX	256
#define AWAIT_POLL_MS	500

struct await {
	TAILQ_ENTRY(await)	 entry;
	int64_t			 session;
	int64_t			 msg_id;
	char			*cmid;
	uint64_t		 deadline;	/* clock_mono_ms */
	int			 loading;
};

static TAILQ_HEAD(, await) awaits = TAILQ_HEAD_INITIALIZER(awaits);
static unsigned nawaits;
static struct event *poll_ev;

static void
await_free(struct await *a)
{
	TAILQ_REMOVE(&awaits, a, entry);
	nawaits--;
	free(a->cmid);
	free(a);
}

/* Answered here now, or given up: told to the session's connection. */
static int
await_check(struct await *a, uint64_t now)
{
	struct binding *b = route_current(a->session);
	enum msg_state st;
	char *reply = NULL, *err = NULL;
	int64_t id;
	int rv, done = 0;

	rv = store_msg_lookup(sup->store, a->session, a->cmid, &st, &id,
	    &reply);
	if (rv == 0 && st == MSG_ANSWERED &&
	    store_msg_error(sup->store, id, &err) != -1) {
		if (b != NULL)
			send_answer(b, a->cmid, reply, err);
		done = 1;
	} else if (now > a->deadline) {
		log_info("cluster: message %lld of session %lld: no answer "
		    "from the shared store in time", (long long)a->msg_id,
		    (long long)a->session);
		if (b != NULL)
			send_error(b, a->cmid, "timeout",
			    error_message("timeout"), 0);
		done = 1;
	}
	free(reply);
	free(err);
	return done;
}

static void
await_loaded(struct durable *d, int ok)
{
	struct await *a;

	(void)ok;
	TAILQ_FOREACH(a, &awaits, entry)
		if (a->msg_id == d->id)
			break;
	if (a == NULL)
		return;
	a->loading = 0;
	/* Read or not, the deadline holds. */
	if (await_check(a, clock_mono_ms()))
		await_free(a);
}

/* One read a round for each message awaited. */
static void
poll_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { 0, AWAIT_POLL_MS * 1000 };
	struct await *a;
	struct durable t;
	char id[24];

	(void)fd;
	(void)ev;
	(void)arg;
	TAILQ_FOREACH(a, &awaits, entry) {
		if (a->loading)
			continue;
		memset(&t, 0, sizeof(t));
		t.session = a->session;
		t.id = a->msg_id;
		snprintf(id, sizeof(id), "%lld", (long long)a->msg_id);
		if (hub_pg_visit(HUB_VISIT_MSG, id, NULL, await_loaded, &t) !=
		    0)
			break;		/* full: the next round */
		a->loading = 1;
	}
	if (!TAILQ_EMPTY(&awaits))
		evtimer_add(poll_ev, &tv);
}

int
router_await(int64_t session, int64_t msg_id, const char *cmid)
{
	struct timeval tv = { 0, AWAIT_POLL_MS * 1000 };
	const struct config *c = sup->conf;
	struct await *a;

	TAILQ_FOREACH(a, &awaits, entry)
		if (a->msg_id == msg_id)
			return 0;
	if (nawaits >= AWAIT_MAX)
		return -1;
	if (poll_ev == NULL &&
	    (poll_ev = evtimer_new(sup->base, poll_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	a = xcalloc(1, sizeof(*a));
	a->session = session;
	a->msg_id = msg_id;
	a->cmid = xstrdup(cmid);
	a->deadline = clock_mono_ms() + c->webchat.deadline_s * 1000ULL +
	    c->cluster.lease_ttl_ms;
	TAILQ_INSERT_TAIL(&awaits, a, entry);
	nawaits++;
	if (!evtimer_pending(poll_ev, NULL))
		evtimer_add(poll_ev, &tv);
	return 0;
}
