/*
 * Worker liveness, in the hub: every heartbeat_ms each live worker gets
 * sup.ping; one that has not answered (or, while starting, said hello)
 * within heartbeat_timeout_ms is killed (hub.kill: the parent kills that
 * incarnation and restarts it).  A draining worker's deadline is the
 * parent's (spawn.c), which also pings the hub.  One ping is
 * outstanding at most: a hung worker's queue must not fill with pings,
 * which would kill it for the wrong reason, and one is enough to know.
 */
#include <event2/event.h>

#include "clock.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "wire.h"

static struct event	*tick_ev;

static void
heartbeat_tick(evutil_socket_t fd, short ev, void *arg)
{
	const struct cfg_supervisor *cs = &sup->conf->supervisor;
	struct ipc_body_seq b;
	struct worker *w;

	(void)fd;
	(void)ev;
	(void)arg;
	TAILQ_FOREACH(w, &sup->workers, entry) {
		if (w->pid <= 0)
			continue;
		/* Draining: its deadline is the parent's (spawn.c). */
		if (w->state == W_STOPPING)
			continue;
		if (timespec_ms_since(&w->last_seen) >
		    cs->heartbeat_timeout_ms) {
			hub_kill(w, "heartbeat timeout");
			continue;
		}
		if (w->ping_seq != w->pong_seq)
			continue;
		b.seq = ++w->ping_seq;
		/* Not a message: wxgatectl status counts those. */
		if (w->wire == NULL || wire_send(w->wire, IPC_SUP_PING, 0,
		    &b) == -1)
			hub_overflow(w);
	}
}

void
heartbeat_init(void)
{
	struct timeval tv;
	uint32_t ms = sup->conf->supervisor.heartbeat_ms;

	if (tick_ev != NULL)
		event_free(tick_ev);
	tv = clock_tv(ms);
	tick_ev = event_new(sup->base, -1, EV_PERSIST, heartbeat_tick, NULL);
	if (tick_ev == NULL || event_add(tick_ev, &tv) == -1)
		fatalx("%s: timer", __func__);
}

void
heartbeat_pong(struct worker *w, uint64_t seq)
{
	if (seq > w->ping_seq)
		return;		/* router.c treats this as a violation */
	w->pong_seq = seq;
	if (w->state != W_STOPPING)
		clock_gettime(CLOCK_MONOTONIC, &w->last_seen);
}
