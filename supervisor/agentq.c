/*
 * Agent admission: how much work each agent is handed, in what order,
 * and for how long.  Every agent has a window of max_inflight requests
 * with its worker and a wait list in front of it; the router asks here
 * before it accepts a web chat message and hands every request it makes
 * to agentq_add().  Called by router.c, channel.c and main.c's timers.
 *
 * The bounds and their answers:
 * - with the worker: at most max_inflight, which config_agent.c keeps at half
 *   the worker's IPC send queue, so the supervisor never overflows it
 *   (an overflow kills the worker), not even when a restarted worker is
 *   handed its backlog: that goes max_inflight at a time, oldest first;
 * - waiting in memory: at most max_queued web chat requests, and one
 *   client address or session holds at most client_share_pct percent
 *   of the window and the queue together, so one client cannot fill
 *   them; past either, chat.send is answered `busy` with a retry_after
 *   at once;
 * - platform messages are never refused here: they wait in the store
 *   (store_backlog.c, bounded per account by channel.c) and are taken
 *   a few at a time as the window frees, sharing it with the web chat;
 * - every request has a deadline; past it router_timeout() ends it with
 *   `timeout`, which is stored as its answer.
 *
 * It never reads a frame and never talks to a worker itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "areq.h"
#include "clock.h"
#include "codec.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "xmalloc.h"

#define AQ_BUCKETS	1024	/* fair-share table */
/* Platform rows expired per account and tick: bounds one turn. */
#define AQ_EXPIRE_BATCH	64
/* busy's retry_after: a second per window's worth of waiting work. */
#define AQ_RETRY_MIN_MS	1000
#define AQ_RETRY_MAX_MS	60000
/* Deadlines are whole seconds; checked this often. */
#define AQ_EXPIRE_S	1
/*
 * A relay agent said agent_offline: its backlog waits this long, or
 * until agent.online, before it is offered again (a lost agent.online,
 * a worker restart, must not strand it).
 */
#define AQ_OFFLINE_MS	30000

struct agentq {
	struct agentq	*next;
	char		 name[IPC_NAME_MAX + 1];	/* default */
	char		 wname[IPC_NAME_MAX + 8];	/* agent.default */
	unsigned	 inflight;
	unsigned	 queued;
	struct areqlist	 waitq;		/* oldest message first */
	int		 backlog;	/* the store may hold rows for it */
	int		 odd;		/* whose turn an odd free slot is */
	uint64_t	 offline_until;	/* clock_mono_ms(): backlog waits */
	uint64_t	 busy;		/* requests answered busy */
	uint64_t	 timeouts;	/* requests past their deadline */
	uint64_t	 requests;	/* agent.request frames sent */
	struct mx_hist	 first;		/* request made to first delta */
	struct mx_hist	 answer;	/* request made to agent.done */
};

/* Requests one client holds with one agent (in flight or waiting). */
struct share {
	struct share	*next;
	struct agentq	*aq;
	unsigned	 n;
	char		 key[RL_KEY_MAX];
};

static struct agentq	*queues;
static struct share	*shares[AQ_BUCKETS];
static struct event	*expire_ev;

static void	agentq_expire_cb(evutil_socket_t, short, void *);

static size_t
share_hash(const struct agentq *aq, const char *key)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)(uintptr_t)aq;

	for (; *key != '\0'; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ULL;
	}
	return (size_t)(h % AQ_BUCKETS);
}

static struct share **
share_find(const struct agentq *aq, const char *key)
{
	struct share **sp;

	for (sp = &shares[share_hash(aq, key)]; *sp != NULL;
	    sp = &(*sp)->next)
		if ((*sp)->aq == aq && strcmp((*sp)->key, key) == 0)
			break;
	return sp;
}

static unsigned
share_count(const struct agentq *aq, const char *key)
{
	struct share *s;

	if (key[0] == '\0')
		return 0;
	s = *share_find(aq, key);
	return s != NULL ? s->n : 0;
}

/* Entries live only while counted: the table is bounded by requests. */
static void
share_add(struct agentq *aq, const char *key, int delta)
{
	struct share **sp, *s;

	if (key[0] == '\0')
		return;
	sp = share_find(aq, key);
	if ((s = *sp) == NULL) {
		if (delta < 0)
			fatalx("%s: %s not counted", __func__, key);
		s = xcalloc(1, sizeof(*s));
		s->aq = aq;
		snprintf(s->key, sizeof(s->key), "%s", key);
		*sp = s;
	}
	s->n += (unsigned)delta;
	if (s->n == 0) {
		*sp = s->next;
		free(s);
	}
}

static void
session_key(char *buf, size_t len, int64_t session)
{
	snprintf(buf, len, "s:%lld", (long long)session);
}

static void
areq_share(struct areq *r, int delta)
{
	char key[RL_KEY_MAX];

	share_add(r->aq, r->client, delta);
	if (r->origin == AREQ_WEBCHAT || r->origin == AREQ_CONSOLE) {
		session_key(key, sizeof(key), r->session);
		share_add(r->aq, key, delta);
	}
}

/* One admission per agent ever configured: requests point at them. */
void
agentq_init(void)
{
	struct timeval tv = { AQ_EXPIRE_S, 0 };
	struct agentq *aq;
	unsigned i;

	if (expire_ev == NULL && ((expire_ev = event_new(sup->base, -1,
	    EV_PERSIST, agentq_expire_cb, NULL)) == NULL ||
	    event_add(expire_ev, &tv) == -1))
		fatalx("%s: deadline timer", __func__);

	for (i = 0; i < sup->conf->agents_count; i++) {
		if (agentq_find(sup->conf->agents[i].name) != NULL)
			continue;
		aq = xcalloc(1, sizeof(*aq));
		snprintf(aq->name, sizeof(aq->name), "%s",
		    sup->conf->agents[i].name);
		snprintf(aq->wname, sizeof(aq->wname), "agent.%s", aq->name);
		TAILQ_INIT(&aq->waitq);
		/* Whatever the store holds is found by the first pump. */
		aq->backlog = 1;
		aq->next = queues;
		queues = aq;
	}
}

struct agentq *
agentq_find(const char *agent)
{
	struct agentq *aq;

	for (aq = queues; aq != NULL; aq = aq->next)
		if (strcmp(aq->name, agent) == 0)
			return aq;
	return NULL;
}

const char *
agentq_name(const struct agentq *aq)
{
	return aq->name;
}

uint64_t
agentq_room(struct agentq *aq, const char *client, int64_t session)
{
	const struct cfg_agent *ca = config_agent(sup->conf, aq->name);
	char key[RL_KEY_MAX];
	uint64_t ms, share = 1;

	session_key(key, sizeof(key), session);
	if (ca != NULL)
		share = ((uint64_t)ca->max_inflight + ca->max_queued) *
		    ca->client_share_pct / 100;
	if (share == 0)
		share = 1;
	if (ca != NULL && share_count(aq, client) < share &&
	    share_count(aq, key) < share &&
	    aq->inflight + aq->queued < ca->max_inflight + ca->max_queued)
		return 0;
	aq->busy++;
	if (ca == NULL)
		return AQ_RETRY_MAX_MS;
	ms = AQ_RETRY_MIN_MS * (1 + aq->queued / ca->max_inflight);
	return ms > AQ_RETRY_MAX_MS ? AQ_RETRY_MAX_MS : ms;
}

/* Into the wait list by message age: a requeued request goes first. */
static void
wait_insert(struct agentq *aq, struct areq *r)
{
	struct areq *q;

	TAILQ_FOREACH_REVERSE(q, &aq->waitq, areqlist, wait)
		if (q->msg_id < r->msg_id)
			break;
	if (q == NULL)
		TAILQ_INSERT_HEAD(&aq->waitq, r, wait);
	else
		TAILQ_INSERT_AFTER(&aq->waitq, q, r, wait);
	r->waiting = 1;
	aq->queued++;
}

void
agentq_add(struct areq *r)
{
	areq_share(r, 1);
	wait_insert(r->aq, r);
	sup_turn();
}

void
agentq_reserve(struct areq *r)
{
	areq_share(r, 1);
	r->reserved = 1;
	r->aq->queued++;
}

void
agentq_commit(struct areq *r)
{
	if (!r->reserved)
		return;
	r->reserved = 0;
	r->aq->queued--;
	/* Aborted before it ever waited: nothing for the agent to do. */
	if (r->done)
		return;
	wait_insert(r->aq, r);
	sup_turn();
}

/* Its worker died: it waits again, ahead of anything newer. */
void
agentq_requeue(struct areq *r)
{
	if (r->waiting || r->reserved)
		return;
	r->aq->inflight--;
	wait_insert(r->aq, r);
	sup_turn();
}

/* The request is over (answered, failed, aborted or timed out). */
void
agentq_forget(struct areq *r)
{
	if (r->aq == NULL)
		return;
	if (r->reserved) {
		r->reserved = 0;
		r->aq->queued--;
	} else if (r->waiting) {
		TAILQ_REMOVE(&r->aq->waitq, r, wait);
		r->waiting = 0;
		r->aq->queued--;
	} else if (r->aw != NULL)
		r->aq->inflight--;
	areq_share(r, -1);
	r->aq = NULL;
	sup_turn();
}

/*
 * The agent has nobody to answer (a relay agent without relays): its
 * stored messages wait, the web chat's are told agent_offline at once.
 */
void
agentq_offline(struct agentq *aq)
{
	if (aq == NULL)
		return;
	aq->offline_until = clock_mono_ms() + AQ_OFFLINE_MS;
	aq->backlog = 1;
}

/* It has again: offer the backlog now. */
void
agentq_online(struct agentq *aq)
{
	if (aq == NULL)
		return;
	aq->offline_until = 0;
	aq->backlog = 1;
	sup_turn();
}

/* A platform message was stored for this agent. */
void
agentq_backlog(struct agentq *aq)
{
	if (aq == NULL)
		return;		/* an agent removed by a reload */
	aq->backlog = 1;
	sup_turn();
}

/*
 * Rows from the store: the web chat's first, then each account on this
 * agent in config order; fewer than asked means the store has no more.
 */
static unsigned
pump_store(struct agentq *aq, unsigned want)
{
	const struct config *c = sup->conf;
	const struct cfg_channel *cc;
	unsigned i, got = 0;
	char sched[sizeof(SCHED_ACCOUNT) + IPC_NAME_MAX];

	if (strcmp(c->webchat.agent, aq->name) == 0)
		got += router_take(aq, NULL, want - got);
	/* Schedule runs before chat: there are at most runs_max of them. */
	snprintf(sched, sizeof(sched), "%s%s", SCHED_ACCOUNT, aq->name);
	if (got < want)
		got += router_take(aq, sched, want - got);
	/* The file's accounts, then the bound ones (config_channel_at). */
	for (i = 0; i < config_channels(c) && got < want; i++) {
		cc = config_channel_at(c, i);
		if (strcmp(cc->agent, aq->name) == 0)
			got += router_take(aq, cc->name, want - got);
	}
	if (got < want)
		aq->backlog = 0;
	return got;
}

/*
 * Fill the window.  When both the wait list and the store have work,
 * half the free room goes to each, so neither side starves the other.
 */
static void
pump_one(struct agentq *aq)
{
	const struct cfg_agent *ca = config_agent(sup->conf, aq->name);
	struct worker *w = spawn_find(aq->wname);
	struct areq *r;
	unsigned room;

	if (ca == NULL || w == NULL || w->state != W_RUNNING ||
	    w->wire == NULL || aq->inflight >= ca->max_inflight)
		return;
	room = ca->max_inflight - aq->inflight;
	/* No relay to answer: the stored rows stay stored. */
	if (aq->offline_until > clock_mono_ms())
		;
	else if (aq->backlog && TAILQ_EMPTY(&aq->waitq))
		pump_store(aq, room);
	else if (aq->backlog) {
		/* Taken rows are older: they go first, the rest is ours. */
		aq->odd = !aq->odd;
		pump_store(aq, room / 2 + (room % 2 != 0 && aq->odd));
	}
	while (aq->inflight < ca->max_inflight &&
	    (r = TAILQ_FIRST(&aq->waitq)) != NULL) {
		TAILQ_REMOVE(&aq->waitq, r, wait);
		r->waiting = 0;
		aq->queued--;
		if (router_dispatch_req(r) == -1) {
			wait_insert(aq, r);
			break;
		}
		aq->inflight++;
		aq->requests++;
	}
}

/* Once per loop turn with work, from main.c. */
void
agentq_pump(void)
{
	struct agentq *aq;

	for (aq = queues; aq != NULL; aq = aq->next)
		pump_one(aq);
}

void
agentq_worker_ready(struct worker *w)
{
	(void)w;
	sup_turn();
}

/* Platform and web chat rows that waited in the store too long. */
static void
expire_store(const char *account, uint32_t deadline_s)
{
	struct store_expired v[AQ_EXPIRE_BATCH];
	int i, n;

	n = store_backlog_expired(sup->store, account,
	    sup_now() - (int64_t)deadline_s, v, AQ_EXPIRE_BATCH);
	for (i = 0; i < n; i++) {
		if (account == NULL) {
			if (store_msg_fail(sup->store, v[i].msg_id, "timeout",
			    sup_now()) == 0 && !v[i].told)
				router_expired(v[i].session, v[i].cmid);
		} else
			channel_failed(v[i].session, v[i].msg_id,
			    ipc_s("timeout"));
	}
	if (n > 0)
		log_info("%d %s messages waited past their deadline",
		    n, account != NULL ? account : "web chat");
}

/* Schedule prompts that waited for their agent past the deadline. */
static void
expire_sched(struct agentq *aq)
{
	struct store_expired v[AQ_EXPIRE_BATCH];
	char sched[sizeof(SCHED_ACCOUNT) + IPC_NAME_MAX];
	int i, n;

	snprintf(sched, sizeof(sched), "%s%s", SCHED_ACCOUNT, aq->name);
	n = store_backlog_expired(sup->store, sched, sup_now() -
	    (int64_t)sup->conf->schedule.deadline_s, v, AQ_EXPIRE_BATCH);
	for (i = 0; i < n; i++)
		if (store_msg_fail(sup->store, v[i].msg_id, "timeout",
		    sup_now()) == 0)
			schedule_answer(v[i].msg_id, NULL, "timeout: the agent "
			    "had no room within schedule.deadline_s");
}

/* Every AQ_EXPIRE_S: end what is past its deadline. */
static void
agentq_expire_cb(evutil_socket_t fd, short ev, void *arg)
{
	const struct config *c = sup->conf;
	uint64_t now = clock_mono_ms();
	struct agentq *aq;
	struct areq *r, *next;
	unsigned i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (r = router_first_req(); r != NULL; r = next) {
		next = router_next_req(r);
		/* A finished answer is stored, however late: never dropped. */
		if (r->unstored)
			router_finish(r);
		else if (r->deadline <= now && !r->done) {
			r->aq->timeouts++;
			router_timeout(r);
		}
	}
	expire_store(NULL, c->webchat.deadline_s);
	for (i = 0; i < config_channels(c); i++)
		expire_store(config_channel_at(c, i)->name,
		    config_channel_at(c, i)->deadline_s);
	for (aq = queues; aq != NULL; aq = aq->next)
		expire_sched(aq);
	sup_turn();
}

/* For wxgatectl stats: each agent's window, wait list and refusals. */
void
agentq_stats(stat_fn fn, void *arg)
{
	struct agentq *aq;
	char name[IPC_NAME_MAX + 32];

	for (aq = queues; aq != NULL; aq = aq->next) {
		snprintf(name, sizeof(name), "%s.inflight", aq->wname);
		fn(name, aq->inflight, arg);
		snprintf(name, sizeof(name), "%s.queued", aq->wname);
		fn(name, aq->queued, arg);
		snprintf(name, sizeof(name), "%s.busy", aq->wname);
		fn(name, aq->busy, arg);
		snprintf(name, sizeof(name), "%s.timeouts", aq->wname);
		fn(name, aq->timeouts, arg);
	}
}

/* A request's latency, from when the hub made it (router_agent.c). */
void
agentq_observe(struct agentq *aq, int first, uint64_t us)
{
	if (aq != NULL)
		mx_observe(first ? &aq->first : &aq->answer, us);
}

/* Each agent's window, refusals and latencies, for wxgatectl metrics. */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} aq_figs[] = {
	{ "wxgate_agent_requests_total", "counter",
	    "Requests sent to the agent (again after its restart, too)." },
	{ "wxgate_agent_inflight", "gauge",
	    "Requests the agent is answering." },
	{ "wxgate_agent_queued", "gauge",
	    "Web chat requests waiting for room with the agent." },
	{ "wxgate_agent_busy_total", "counter",
	    "Web chat messages refused busy: the agent had no room." },
	{ "wxgate_agent_timeouts_total", "counter",
	    "Requests past their deadline." },
};

static uint64_t
aq_fig(const struct agentq *aq, unsigned f)
{
	switch (f) {
	case 0:
		return aq->requests;
	case 1:
		return aq->inflight;
	case 2:
		return aq->queued;
	case 3:
		return aq->busy;
	default:
		return aq->timeouts;
	}
}

void
agentq_metrics(struct evbuffer *b)
{
	struct mx_labels l;
	struct agentq *aq;
	unsigned f;

	for (f = 0; f < sizeof(aq_figs) / sizeof(aq_figs[0]); f++) {
		mx_family(b, aq_figs[f].name, aq_figs[f].type, aq_figs[f].help);
		for (aq = queues; aq != NULL; aq = aq->next) {
			mx_labels_init(&l);
			mx_label(&l, "agent", aq->name);
			mx_put(b, aq_figs[f].name, &l, aq_fig(aq, f));
		}
	}
	mx_family(b, "wxgate_agent_first_delta_seconds", "histogram",
	    "From the request's making to the agent's first words.");
	for (aq = queues; aq != NULL; aq = aq->next) {
		mx_labels_init(&l);
		mx_label(&l, "agent", aq->name);
		mx_put_hist(b, "wxgate_agent_first_delta_seconds", &l,
		    &aq->first);
	}
	mx_family(b, "wxgate_agent_answer_seconds", "histogram",
	    "From the request's making to the agent's whole answer.");
	for (aq = queues; aq != NULL; aq = aq->next) {
		mx_labels_init(&l);
		mx_label(&l, "agent", aq->name);
		mx_put_hist(b, "wxgate_agent_answer_seconds", &l, &aq->answer);
	}
}
