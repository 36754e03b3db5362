/*
 * Schedules in the hub (issue #15): one timer for the soonest due
 * schedule, the runs it starts and where their words go.
 *
 * A run starts in one loop turn: its row (the slot's lock, store_sched.c),
 * the schedule's new position and its work are written together, so
 * after a crash a slot has either run, with its work queued, or not at
 * all.  A fixed text becomes outbox rows there and then.  A prompt
 * becomes a message in the run's own conversation (account "@sched:"
 * and the agent, peer the schedule's name) and waits in the durable
 * backlog with the platforms' messages, under the same agent admission
 * (agentq.c); its answer, in the turn that stores it, becomes the
 * outbox rows (schedule_answer).  A hub killed between the two asks
 * the agent again after restart, as for any accepted message.
 *
 * Targets take the outbox's states: queued, sent, failed, undeliverable.
 * A kind that may not write first (iLink) is written to only within
 * CH_CONTEXT_S of the peer's last message; otherwise the target is
 * undeliverable at once, or held (hold_until_contact) until the peer
 * writes again (channel.c releases it) or the hold ends.
 *
 * The timer sleeps at most SCHED_TICK_S, so a wall clock that jumps is
 * seen within a tick, and the same tick settles targets, expires holds
 * and prunes history.
 *
 * In a cluster the timer runs, and the file's schedules are written,
 * only on the node that holds the "@schedules" lease
 * (hub_pg_sched_here; hub_pg_sched.c calls schedule_init once the
 * lease's rows are loaded, and schedule_stop when it may be lost), so
 * a node that does not run schedules never moves a schedule's slot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "areq.h"
#include "config.h"
#include "cron.h"
#include "hub.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "xmalloc.h"

#define SCHED_TICK_S	60
/* Runs in flight fill the window: look again after this. */
#define SCHED_FULL_S	5
/* Due schedules started per tick, at most. */
#define SCHED_BATCH	32

static struct event	*sched_ev;
static uint64_t		 nruns;		/* started since the hub began */
static uint64_t		 nfailed;	/* ended failed */

static void	sched_arm(int64_t);
static void	sched_timer_cb(evutil_socket_t, short, void *);
static int	sched_start(const struct store_sched *, int64_t slot,
		    int manual, int64_t *run, char *, size_t);

/* The definition's times; the anchor of `every` is its creation. */
static int
sched_cron(const struct store_sched *sc, struct cron *cr)
{
	char err[CRON_ERR_MAX];
	int rv;

	if (sc->cron != NULL)
		rv = cron_parse(sc->cron, cr, err, sizeof(err));
	else if (sc->every != NULL) {
		rv = cron_every_parse(sc->every, cr, err, sizeof(err));
		cr->anchor = (time_t)sc->created;
	} else {
		snprintf(err, sizeof(err), "neither cron nor every");
		rv = -1;
	}
	if (rv == -1)
		log_warnx("schedule %s: %s; it will not run", sc->name, err);
	return rv;
}

/* The first fire after `after`: 0 none (never, or unusable). */
int64_t
schedule_next(const struct store_sched *sc, int64_t after)
{
	struct cron cr;
	time_t next;

	if (sched_cron(sc, &cr) == -1 ||
	    cron_next(&cr, sc->tz, (time_t)after, &next) != 0 ||
	    next == CRON_NEVER)
		return 0;
	return (int64_t)next;
}

/* Configuration. */

static void
sched_from_cfg(const struct cfg_schedule *cs, struct store_sched *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->name = cs->name;
	sc->cron = cs->cron;
	sc->every = cs->every;
	sc->tz = cs->tz;
	sc->agent = cs->agent;
	sc->body = cs->text;
	sc->targets = cs->targets;
	sc->hold = cs->hold_s;
	sc->catch_up_none = cs->catch_up_none;
	sc->from_config = 1;
}

/*
 * A schedule of the file into the store: new ones start from now, a
 * changed one keeps the slot it reached (so a missed slot still runs
 * on catch_up), one wxgatectl made under the same name wins and is
 * logged: the file may not replace what an operator made by hand.
 */
static void
sched_sync_one(const struct cfg_schedule *cs, int64_t now)
{
	struct store_sched sc, old;
	int rv;

	sched_from_cfg(cs, &sc);
	if ((rv = store_sched_get(sup->store, sc.name, &old)) == -1)
		return;
	if (rv == 0 && !old.from_config) {
		log_warnx("schedule %s: wxgatectl made one of that name; the "
		    "configuration file's is ignored", sc.name);
		store_sched_free(&old);
		return;
	}
	if (rv == 0) {
		sc.created = old.created;
		sc.next_run = schedule_next(&sc, old.last_slot);
		store_sched_free(&old);
		store_sched_redefine(sup->store, &sc);
		return;
	}
	sc.created = now;
	sc.last_slot = now;
	sc.next_run = schedule_next(&sc, now);
	if (store_sched_add(sup->store, &sc, NULL) == 0)
		log_info("schedule %s: from the configuration file", sc.name);
}

/* At start and on reload: the file's schedules, and the timer. */
void
schedule_init(void)
{
	const struct config *c = sup->conf;
	char **names;
	unsigned i;

	if (sched_ev == NULL && (sched_ev = event_new(sup->base, -1, 0,
	    sched_timer_cb, NULL)) == NULL)
		fatalx("%s: timer", __func__);
	if (!hub_pg_sched_here(NULL, 0))
		return;
	names = xcalloc(c->schedules_count + 1, sizeof(*names));
	for (i = 0; i < c->schedules_count; i++) {
		sched_sync_one(&c->schedules[i], sup_now());
		names[i] = c->schedules[i].name;
	}
	store_sched_forget(sup->store, names, c->schedules_count);
	free(names);
	schedule_kick();
}

/* Delivery. */

/* The state a target starts in, with why in detail. */
static const char *
sched_target(int64_t run, const char *line, const char *text,
    int64_t hold, char *account, char *peer, char *detail, size_t len)
{
	const char *colon = strchr(line, ':');

	if (colon == NULL || colon == line ||
	    (size_t)(colon - line) > IPC_NAME_MAX) {
		snprintf(account, IPC_NAME_MAX + 1, "?");
		snprintf(peer, IPC_PEER_MAX + 1, "%.*s", IPC_PEER_MAX, line);
		snprintf(detail, len, "not channel:target");
		return OUTBOX_FAILED;
	}
	snprintf(account, IPC_NAME_MAX + 1, "%.*s", (int)(colon - line), line);
	snprintf(peer, IPC_PEER_MAX + 1, "%s", colon + 1);
	return channel_queue_run(account, peer, text, run, hold, detail, len);
}

/* The run's words to each of its targets, each target's state noted. */
static void
sched_deliver(int64_t run, const struct store_sched *sc, const char *text)
{
	char account[IPC_NAME_MAX + 1], peer[IPC_PEER_MAX + 1];
	char detail[IPC_MESSAGE_MAX + 1], *lines, *line, *next;
	const char *state;
	int seq = 0;

	lines = xstrdup(sc->targets);
	for (line = lines; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		detail[0] = '\0';
		state = sched_target(run, line, text, sc->hold, account,
		    peer, detail, sizeof(detail));
		if (strcmp(state, OUTBOX_QUEUED) != 0)
			log_warnx("schedule %s: run %lld: %s:%s %s: %s",
			    sc->name, (long long)run, account, peer, state,
			    detail);
		store_run_target(sup->store, run, seq++, account, peer, state,
		    detail[0] != '\0' ? detail : NULL);
	}
	free(lines);
}

/* A run that failed: said in the log, counted, and told to notify. */
static void
sched_failed(const char *name, int64_t run, const char *why)
{
	const char *notify = sup->conf->schedule.notify, *colon;
	char account[IPC_NAME_MAX + 1], err[256], *text;

	nfailed++;
	log_warnx("schedule %s: run %lld failed: %s", name, (long long)run,
	    why);
	if (notify == NULL || (colon = strchr(notify, ':')) == NULL ||
	    (size_t)(colon - notify) > IPC_NAME_MAX)
		return;
	snprintf(account, sizeof(account), "%.*s", (int)(colon - notify),
	    notify);
	xasprintf(&text, "wxgate: schedule %s, run %lld failed: %s", name,
	    (long long)run, why);
	if (channel_send(account, colon + 1, text, NULL, 0, err,
	    sizeof(err)) == -1)
		log_warnx("schedule.notify %s: %s", notify, err);
	free(text);
}

/* The conversation a schedule's prompts are asked in. */
static int
sched_prompt(const struct store_sched *sc, int64_t run, int64_t now)
{
	struct store_chan_msg sm;
	char account[IPC_NAME_MAX + 1], msgid[32];
	int64_t msg;

	snprintf(account, sizeof(account), "%s%s", SCHED_ACCOUNT, sc->agent);
	snprintf(msgid, sizeof(msgid), "run-%lld", (long long)run);
	memset(&sm, 0, sizeof(sm));
	sm.account = account;
	sm.peer = sc->name;
	sm.msgid = msgid;
	sm.text = sc->body;
	sm.reply_ctx = "";
	if (store_chan_session(sup->store, account, sc->name, now,
	    &sm.session) == -1 ||
	    store_chan_msg_accept(sup->store, &sm, now, &msg) == -1 ||
	    store_run_prompt(sup->store, run, msg) == -1)
		return -1;
	agentq_backlog(agentq_find(sc->agent));
	return 0;
}

/*
 * A sealed schedule (docs/e2e.md) runs only with its prompt, and only
 * while its agent can open it: a relay with e2e.  Anything else would
 * hand the ciphertext to an agent that cannot read it, or take back a
 * plain answer the page could not tell from a forged one.
 */
static int
sched_sealed_why(const struct store_sched *sc, char *err, size_t errlen)
{
	const struct cfg_agent *ca;

	if (!sc->sealed)
		return 0;
	if (sc->body == NULL || sc->body[0] == '\0') {
		snprintf(err, errlen, "schedule %s has no sealed prompt yet",
		    sc->name);
		return -1;
	}
	if (sc->agent == NULL || (ca = config_agent(sup->conf,
	    sc->agent)) == NULL || !ca->relay_e2e) {
		snprintf(err, errlen, "schedule %s is sealed and agent %s is "
		    "not end-to-end", sc->name, sc->agent != NULL ?
		    sc->agent : "-");
		return -1;
	}
	return 0;
}

/*
 * Start one run of sc for slot: 0 with *run, 1 that slot ran already,
 * -1 with why in err (nothing was started).
 */
static int
sched_start(const struct store_sched *sc, int64_t slot, int manual,
    int64_t *run, char *err, size_t errlen)
{
	int64_t now = sup_now();
	int rv;

	if (sc->agent != NULL && agentq_find(sc->agent) == NULL) {
		snprintf(err, errlen, "agent %s is not configured", sc->agent);
		return -1;
	}
	if (sched_sealed_why(sc, err, errlen) == -1)
		return -1;
	if ((rv = store_run_start(sup->store, sc, slot, manual, now,
	    run)) != 0) {
		snprintf(err, errlen, rv == 1 ? "that slot ran already" :
		    "store error");
		return rv;
	}
	nruns++;
	log_info("schedule %s: run %lld (%s)", sc->name, (long long)*run,
	    manual ? "by hand" : "on time");
	if (sc->agent == NULL) {
		sched_deliver(*run, sc, sc->body);
		store_run_end(sup->store, *run, RUN_DONE, NULL, 0, now);
	} else if (sched_prompt(sc, *run, now) == -1) {
		store_run_end(sup->store, *run, RUN_FAILED,
		    "store error: prompt not queued", 0, now);
		sched_failed(sc->name, *run, "store error: prompt not queued");
	}
	sup_turn();
	return 0;
}

/*
 * From router_agent.c, in the turn that stores the answer: the run
 * waiting on msg_id delivers text, or ends failed with error.
 */
void
schedule_answer(int64_t msg_id, const char *text, const char *error)
{
	struct store_sched sc;
	int64_t run, now = sup_now();
	char *name;

	if (store_run_of_msg(sup->store, msg_id, &run, &name) != 0) {
		log_warnx("%s: no run waits on message %lld", __func__,
		    (long long)msg_id);
		return;
	}
	if (error == NULL && text[strspn(text, " \t\r\n")] == '\0')
		error = "the agent's answer was empty";
	if (error == NULL && store_sched_get(sup->store, name, &sc) != 0)
		error = "the schedule was removed before the answer came";
	else if (error == NULL) {
		sched_deliver(run, &sc, text);
		store_sched_free(&sc);
		store_run_end(sup->store, run, RUN_DONE, NULL, now, now);
	}
	if (error != NULL) {
		store_run_end(sup->store, run, RUN_FAILED, error, now, now);
		sched_failed(name, run, error);
	}
	free(name);
	/* A place among runs_max came free. */
	sched_arm(0);
}

/* The timer. */

struct due {
	int64_t	 now;
};

static void
sched_due_cb(const struct store_sched *sc, void *arg)
{
	struct due *d = arg;
	struct cron cr;
	time_t slot, next;
	int64_t run;
	char err[128];

	if (sched_cron(sc, &cr) == -1 ||
	    cron_due(&cr, sc->tz, sc->catch_up_none ? CRON_CATCHUP_NONE :
	    CRON_CATCHUP_LATEST, (time_t)sc->last_slot, (time_t)d->now,
	    &slot, &next) == -1) {
		/* Never due again until redefined: not every tick. */
		store_sched_move(sup->store, sc->id, sc->last_slot, 0);
		return;
	}
	if (slot != CRON_NEVER) {
		if (sched_start(sc, slot, 0, &run, err, sizeof(err)) == -1)
			sched_failed(sc->name, 0, err);
	}
	store_sched_move(sup->store, sc->id, slot != CRON_NEVER ?
	    (int64_t)slot : sc->last_slot, next != CRON_NEVER ? next : 0);
}

/*
 * Holds past their end, of the accounts this node runs: on a cluster
 * another node's are its own to end (hub_pg_sched.c), since only it
 * sees the person write and lets a held row go.  1 if any ended.
 */
int
schedule_expire_held(int64_t now)
{
	const struct cfg_channel *cc;
	unsigned i;
	int any = 0;

	for (i = 0; i < config_channels(sup->conf); i++)
		if ((cc = config_channel_at(sup->conf, i)) != NULL &&
		    hub_pg_holds(cc->name) && store_outbox_expire_held(
		    sup->store, cc->name, now, STORE_HOLD_ENDED) > 0)
			any = 1;
	return any;
}

static void
sched_sweep(int64_t now)
{
	const struct cfg_sched_limits *l = &sup->conf->schedule;

	schedule_expire_held(now);
	store_run_settle(sup->store);
	store_run_prune(sup->store, now - (int64_t)l->history_days * 86400,
	    l->history_max);
}

static void
sched_arm(int64_t delay)
{
	struct timeval tv;

	if (delay < 0)
		delay = 0;
	if (delay > SCHED_TICK_S)
		delay = SCHED_TICK_S;
	tv.tv_sec = (time_t)delay;
	tv.tv_usec = 0;
	if (sched_ev != NULL && event_add(sched_ev, &tv) == -1)
		fatalx("%s: timer", __func__);
}

/*
 * Start what is due, as many as runs_max leaves room for, then sleep
 * until the soonest next run.  Also the timer's callback.
 */
void
schedule_kick(void)
{
	const struct cfg_sched_limits *l = &sup->conf->schedule;
	struct due d = { sup_now() };
	int64_t when;
	int running, rv;

	if (sup->store == NULL || !hub_pg_sched_here(NULL, 0))
		return;
	sched_sweep(d.now);
	if ((running = store_runs_running(sup->store)) == -1) {
		sched_arm(SCHED_FULL_S);
		return;
	}
	if ((unsigned)running >= l->runs_max) {
		log_debug("%s: %d runs in flight; due ones wait", __func__,
		    running);
		sched_arm(SCHED_FULL_S);
		sup_turn();
		return;
	}
	store_sched_due(sup->store, d.now, l->runs_max - (unsigned)running >
	    SCHED_BATCH ? SCHED_BATCH : l->runs_max - (unsigned)running,
	    sched_due_cb, &d);
	rv = store_sched_soonest(sup->store, &when);
	sched_arm(rv == 0 ? when - d.now : SCHED_TICK_S);
	sup_turn();
}

void
schedule_stop(void)
{
	if (sched_ev != NULL)
		event_del(sched_ev);
}

static void
sched_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	schedule_kick();
}

static void
sched_count(const struct store_sched *sc, void *arg)
{
	(void)sc;
	(void)arg;
}

/*
 * The configuration's bound on schedules, the file's and the
 * operators' together; err when one more would pass it.  A zero bound
 * is one the configuration never set: no bound, rather than none.
 */
int
schedule_room(char *err, size_t errlen)
{
	uint32_t max = sup->conf->schedule.schedules_max;
	int n;

	if ((n = store_sched_list(sup->store, NULL, sched_count, NULL)) == -1) {
		snprintf(err, errlen, "store error");
		return -1;
	}
	if (max > 0 && (uint32_t)n >= max) {
		snprintf(err, errlen, "schedules: at most %u", max);
		return -1;
	}
	return 0;
}

/* wxgatectl schedule run: now, whether paused or not. */
int
schedule_run_now(const char *name, int64_t *run, char *err, size_t errlen)
{
	struct store_sched sc;
	int running, rv;

	if (!hub_pg_sched_here(err, errlen))
		return -1;
	if ((running = store_runs_running(sup->store)) == -1) {
		snprintf(err, errlen, "store error");
		return -1;
	}
	if ((unsigned)running >= sup->conf->schedule.runs_max) {
		snprintf(err, errlen, "busy: %d runs in flight "
		    "(schedule.runs_max)", running);
		return -1;
	}
	if ((rv = store_sched_get(sup->store, name, &sc)) != 0) {
		snprintf(err, errlen, rv == 1 ? "no schedule %s" :
		    "store error", name);
		return -1;
	}
	rv = sched_start(&sc, sup_now(), 1, run, err, errlen);
	store_sched_free(&sc);
	return rv == 0 ? 0 : -1;
}

const struct schedule_op schedule_ops[] = {
	[SCHED_PAUSE] =		{ "pauses",	"paused" },
	[SCHED_RESUME] =	{ "resumes",	"resumed" },
	[SCHED_REMOVE] =	{ "removes",	"removed" },
};

/*
 * wxgatectl schedule pause, resume and remove, and the console's pause
 * and resume.  A schedule from the configuration file is refused: the
 * next reload would put back what the operator changed.
 */
int
schedule_change(const char *name, enum sched_op op, char *err,
    size_t errlen)
{
	struct store_sched sc;
	int rv;

	if (!hub_pg_sched_here(err, errlen))
		return -1;
	if ((rv = store_sched_get(sup->store, name, &sc)) != 0) {
		snprintf(err, errlen, rv == 1 ? "no schedule %s" :
		    "store error", name);
		return -1;
	}
	if (sc.from_config) {
		snprintf(err, errlen, "schedule %s is declared in the "
		    "configuration file; change it there", name);
		store_sched_free(&sc);
		return -1;
	}
	if (op == SCHED_RESUME && sched_sealed_why(&sc, err, errlen) == -1) {
		store_sched_free(&sc);
		return -1;
	}
	if (op == SCHED_REMOVE)
		rv = store_sched_remove(sup->store, name);
	else
		rv = store_sched_pause(sup->store, name, op == SCHED_PAUSE);
	/*
	 * A pause means "do not run": the slots it covered are not missed
	 * ones to catch up on, so a resumed schedule starts from now.
	 */
	if (rv == 0 && op == SCHED_RESUME && sc.paused)
		rv = store_sched_move(sup->store, sc.id, sup_now(),
		    schedule_next(&sc, sup_now()));
	store_sched_free(&sc);
	if (rv != 0) {
		snprintf(err, errlen, rv == 1 ? "no schedule %s" :
		    "store error", name);
		return -1;
	}
	/* The soonest due time may have changed either way. */
	schedule_kick();
	return 0;
}

struct state_arg {
	stat_fn	 fn;
	void	*arg;
};

static void
sched_state_cb(const char *state, int64_t n, void *arg)
{
	struct state_arg *sa = arg;
	char name[64];

	snprintf(name, sizeof(name), "outbox.%s", state);
	sa->fn(name, n > 0 ? (uint64_t)n : 0, sa->arg);
}

/*
 * For wxgatectl stats: runs, and the outbox's rows by delivery state,
 * in the words history and wxgatectl outbox use.
 */
void
schedule_stats(stat_fn fn, void *arg)
{
	struct state_arg sa = { fn, arg };
	int n;

	store_outbox_states(sup->store, sched_state_cb, &sa);
	fn("schedule.runs", nruns, arg);
	fn("schedule.failed", nfailed, arg);
	if ((n = store_runs_running(sup->store)) >= 0)
		fn("schedule.running", (uint64_t)n, arg);
}

/* The outbox's rows by state and the runs, for wxgatectl metrics. */
static const char *const sched_states[] = {
	OUTBOX_QUEUED, OUTBOX_SENT, OUTBOX_FAILED, OUTBOX_UNDELIVERABLE,
};

static void
sched_metric_state(const char *state, int64_t n, void *arg)
{
	uint64_t *v = arg;
	unsigned i;

	for (i = 0; i < 4; i++)
		if (strcmp(sched_states[i], state) == 0)
			v[i] = n > 0 ? (uint64_t)n : 0;
}

void
schedule_metrics(struct evbuffer *b)
{
	struct mx_labels l;
	uint64_t v[4] = { 0, 0, 0, 0 };
	unsigned i;
	int n;

	mx_family(b, "wxgate_outbox_rows", "gauge",
	    "Outbox rows the store holds, by delivery state.");
	if (store_outbox_states(sup->store, sched_metric_state, v) == 0)
		for (i = 0; i < 4; i++) {
			mx_labels_init(&l);
			mx_label(&l, "state", sched_states[i]);
			mx_put(b, "wxgate_outbox_rows", &l, v[i]);
		}
	mx_family(b, "wxgate_schedule_runs_total", "counter",
	    "Schedule runs started.");
	mx_put(b, "wxgate_schedule_runs_total", NULL, nruns);
	mx_family(b, "wxgate_schedule_failed_total", "counter",
	    "Schedule runs that failed.");
	mx_put(b, "wxgate_schedule_failed_total", NULL, nfailed);
	mx_family(b, "wxgate_schedule_running", "gauge",
	    "Schedule runs in flight.");
	if ((n = store_runs_running(sup->store)) >= 0)
		mx_put(b, "wxgate_schedule_running", NULL, (uint64_t)n);
}
