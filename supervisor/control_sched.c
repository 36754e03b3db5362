/*
 * The control socket's schedule.* requests (issue #15): wxgatectl
 * schedule add, list, run, pause, resume, remove and history.  Each
 * turns one request into store calls and the store's rows into
 * ctl.schedule, ctl.run and ctl.run_target frames.  Whether a
 * definition can run is schedule_check.c's to say; running, pausing,
 * resuming and removing one are schedule.c's (the console does the
 * same through it); after an add this file only kicks the timer.
 *
 * Schedules declared in the configuration file are read-only here:
 * schedule_change refuses to pause, resume or remove them, since the
 * next reload would put back what the operator changed and the file
 * would no longer say what runs.  They are changed in the file.
 *
 * In a cluster only the node that holds the "@schedules" lease runs
 * schedules and has them in its working set (hub_pg_sched.c).  On
 * another node, list (and so show) and history read the cluster's from
 * the shared store (hub_pg_sched_read), answered when they come, and
 * refused at SCHED_READ_MS saying the store does not answer; every
 * change is refused there, naming the node that runs schedules, rather
 * than written where the write would never ship.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/bufferevent.h>

#include "codec.h"
#include "config.h"
#include "control_int.h"
#include "cron.h"
#include "hub.h"
#include "log.h"
#include "store.h"
#include "wire_stream.h"
#include "xmalloc.h"

/*
 * Runs one history answer shows, the newest: enough to see what went
 * wrong lately, few enough that the answer stays well under
 * CONTROL_OUT_MAX even with 16 targets a run.
 */
#define SCHED_HISTORY_MAX	200

/* An operator's error names the field; a cron error is 128 at most. */
#define SCHED_ERR_MAX		(IPC_MESSAGE_MAX + 1)

/* The cluster's store answers a read within this, or it is refused. */
#define SCHED_READ_MS		5000

/* list or history of the cluster's, and the client it answers. */
struct sched_far {
	uint64_t	 client;
	uint64_t	 req_id;
	int		 history;
	char		 name[IPC_NAME_MAX + 1];
	int		 defs;
	int		 runs;
};

static void	sched_row(const struct store_sched *, void *);
static void	sched_run_row(const struct store_run_row *, void *);
static void	sched_target_row(const struct store_run_target_row *,
		    void *);

/* A name from a request, NUL-terminated (the codec refused NULs). */
static void
sched_name(struct ipc_str s, char *out, size_t len)
{
	snprintf(out, len, "%.*s", (int)s.len, s.p);
}

/* The store's NULL for what the wire says with "". */
static char *
sched_opt(struct ipc_str s)
{
	return s.len > 0 ? ipc_strdup(s) : NULL;
}

/* Not the node that runs schedules: said, and 1. */
static int
sched_elsewhere(struct ctl_client *c, struct ipc_msg *m)
{
	char err[SCHED_ERR_MAX];

	if (hub_pg_sched_here(err, sizeof(err)))
		return 0;
	ctl_result(c, m->req_id, 0, err);
	return 1;
}

/* schedule.add's body as the store keeps it; -1 with err. */
static int
sched_def(const struct ipc_body_sched_def *b, struct store_sched *sc,
    char *err, size_t errlen)
{
	memset(sc, 0, sizeof(*sc));
	if (ipc_streq(b->catch_up, "none"))
		sc->catch_up_none = 1;
	else if (!ipc_streq(b->catch_up, "latest")) {
		snprintf(err, errlen, "catch_up: latest or none");
		return -1;
	}
	sc->name = ipc_strdup(b->name);
	sc->cron = sched_opt(b->cron);
	sc->every = sched_opt(b->every);
	/* The zone is read only with cron, but the store always has one. */
	sc->tz = b->tz.len > 0 ? ipc_strdup(b->tz) : xstrdup("UTC");
	sc->agent = sched_opt(b->agent);
	sc->body = ipc_strdup(b->text);
	sc->targets = ipc_strdup(b->targets);
	sc->hold = (int64_t)b->hold_s;
	return 0;
}

int
ctl_sched_add(struct ctl_client *c, struct ipc_msg *m)
{
	struct store_sched sc;
	char err[SCHED_ERR_MAX];
	int64_t now = sup_now();
	int rv = -1;

	if (sched_elsewhere(c, m))
		return 0;
	if (sched_def(&m->b.sched_def, &sc, err, sizeof(err)) == -1 ||
	    schedule_check(sup->conf, &sc, err, sizeof(err)) == -1 ||
	    schedule_room(err, sizeof(err)) == -1)
		goto out;
	/* An interval counts from now: every 30m runs 30 minutes later. */
	sc.created = now;
	if ((sc.next_run = schedule_next(&sc, now)) == 0) {
		snprintf(err, sizeof(err), "%s: matches no time in the next "
		    "five years", sc.cron != NULL ? "cron" : "every");
		goto out;
	}
	/* Slots at or before last_slot never run: none before it existed. */
	sc.last_slot = now;
	switch (store_sched_add(sup->store, &sc, NULL)) {
	case 0:
		rv = 0;
		break;
	case 1:
		snprintf(err, sizeof(err), "name %s is taken", sc.name);
		break;
	default:
		snprintf(err, sizeof(err), "store error");
		break;
	}
 out:
	if (rv == 0) {
		log_info("operator (uid %d) adds schedule %s", (int)c->uid,
		    sc.name);
		schedule_kick();
		ctl_result(c, m->req_id, 1, "added");
	} else
		ctl_result(c, m->req_id, 0, err);
	store_sched_free(&sc);
	return 0;
}

/*
 * A string the store holds for a field the codec bounds by max.  Free
 * text is cut to fit (the start says what it is); a name cut would name
 * something else, so a row whose name does not fit is not sent.
 */
static int
sched_put(struct ipc_str *out, const char *s, size_t max, int cut)
{
	*out = ipc_s(s != NULL ? s : "");
	if (out->len <= max)
		return 0;
	if (!cut)
		return -1;
	ctl_fit(out, max);
	return 0;
}

static void
sched_row(const struct store_sched *sc, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_sched_row b;
	struct ipc_body_sched_def *d = &b.def;
	char sealed[IPC_NAME_MAX + 32];

	memset(&b, 0, sizeof(b));
	if (sched_put(&d->name, sc->name, IPC_NAME_MAX, 0) == -1 ||
	    sched_put(&d->cron, sc->cron, IPC_CRON_MAX, 0) == -1 ||
	    sched_put(&d->every, sc->every, IPC_NAME_MAX, 0) == -1 ||
	    sched_put(&d->tz, sc->tz, IPC_NAME_MAX, 0) == -1 ||
	    sched_put(&d->agent, sc->agent, IPC_NAME_MAX, 0) == -1) {
		log_warnx("%s: schedule %s does not fit a frame", __func__,
		    sc->name);
		return;
	}
	sched_put(&d->text, sc->body, IPC_TEXT_MAX, 1);
	sched_put(&d->targets, sc->targets, IPC_TARGETS_MAX, 1);
	/*
	 * A sealed schedule (docs/e2e.md): its prompt is ciphertext, ""
	 * until set, and it has no targets, where the wire wants words.
	 */
	if (sc->sealed) {
		snprintf(sealed, sizeof(sealed), "(sealed by %s)",
		    sc->owner != NULL ? sc->owner : "?");
		d->text = ipc_s(sealed);
		d->targets = IPC_S("(none: sealed)");
	}
	d->hold_s = sc->hold > 0 && sc->hold <= INT32_MAX ?
	    (uint64_t)sc->hold : 0;
	d->catch_up = ipc_s(sc->catch_up_none ? "none" : "latest");
	b.paused = sc->paused;
	b.from_config = sc->from_config;
	b.next_run = !sc->paused && sc->next_run > 0 ?
	    (uint64_t)sc->next_run : 0;
	b.last_run = sc->last_run > 0 ? (uint64_t)sc->last_run : 0;
	sched_put(&b.last_state, sc->last_state, IPC_NAME_MAX, 1);
	if (ipc_stream_put(bufferevent_get_output(cw->c->bev), IPC_CTL_SCHEDULE,
	    cw->req_id, &b) == -1)
		log_warnx("%s: schedule %s not sent", __func__, sc->name);
}

/* The client that asked, if it is still there, as a walk. */
static int
sched_far_walk(const struct sched_far *f, struct ctl_walk *cw)
{
	if ((cw->c = ctl_client_find(f->client)) == NULL)
		return 0;
	cw->req_id = f->req_id;
	return 1;
}

static void
sched_far_def(const struct store_sched *sc, void *arg)
{
	struct sched_far *f = arg;
	struct ctl_walk cw;

	f->defs++;
	/* history's: only that the name is known */
	if (!f->history && sched_far_walk(f, &cw))
		sched_row(sc, &cw);
}

static void
sched_far_run(const struct store_run_row *r, void *arg)
{
	struct sched_far *f = arg;
	struct ctl_walk cw;

	f->runs++;
	if (sched_far_walk(f, &cw))
		sched_run_row(r, &cw);
}

static void
sched_far_target(const struct store_run_target_row *t, void *arg)
{
	struct ctl_walk cw;

	if (sched_far_walk(arg, &cw))
		sched_target_row(t, &cw);
}

static void
sched_far_done(const char *why, void *arg)
{
	struct sched_far *f = arg;
	struct ctl_walk cw;
	char err[SCHED_ERR_MAX];
	int ok;

	/* A name is unknown with neither a definition nor a run. */
	ok = why == NULL && (f->name[0] == '\0' || f->defs > 0 ||
	    f->runs > 0);
	snprintf(err, sizeof(err), "no schedule %s", f->name);
	if (sched_far_walk(f, &cw))
		ctl_result(cw.c, cw.req_id, ok, ok ? "" : why != NULL ? why :
		    err);
	free(f);
}

/*
 * Not the node that runs schedules: list or history asked of the
 * cluster's store, and 1 (answered later, or refused now).  list's
 * bound is this node's schedule.schedules_max, which every node's file
 * should share; history's is SCHED_HISTORY_MAX runs, as here.
 */
static int
sched_far(struct ctl_client *c, struct ipc_msg *m, int history)
{
	struct sched_far *f;
	struct hub_sched_read r = { history ? HUB_SCHED_HISTORY :
	    HUB_SCHED_PAGE, NULL, history ? 1 :
	    sup->conf->schedule.schedules_max, history ? SCHED_HISTORY_MAX :
	    0, history ? IPC_MESSAGE_MAX : IPC_TEXT_MAX, 0, SCHED_READ_MS,
	    sched_far_def, sched_far_run, sched_far_target, sched_far_done,
	    NULL, 0, 0 };

	if (hub_pg_sched_here(NULL, 0))
		return 0;
	f = xcalloc(1, sizeof(*f));
	f->client = c->id;
	f->req_id = m->req_id;
	f->history = history;
	sched_name(m->b.sched_name.name, f->name, sizeof(f->name));
	r.name = f->name[0] != '\0' ? f->name : NULL;
	r.arg = f;
	if (hub_pg_sched_read(&r) == -1) {
		free(f);
		ctl_result(c, m->req_id, 0, "busy: too many requests waiting "
		    "for the database; try again");
	}
	return 1;
}

/* All schedules for "", else the one named. */
int
ctl_sched_list(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_walk cw = { c, m->req_id };
	char name[IPC_NAME_MAX + 1], err[SCHED_ERR_MAX];
	int n;

	if (sched_far(c, m, 0))
		return 0;
	sched_name(m->b.sched_name.name, name, sizeof(name));
	n = store_sched_list(sup->store, name[0] != '\0' ? name : NULL,
	    sched_row, &cw);
	if (n == 0 && name[0] != '\0') {
		snprintf(err, sizeof(err), "no schedule %s", name);
		ctl_result(c, m->req_id, 0, err);
		return 0;
	}
	return ctl_walk_end(&cw, n);
}

int
ctl_sched_run(struct ctl_client *c, struct ipc_msg *m)
{
	char name[IPC_NAME_MAX + 1], err[SCHED_ERR_MAX];
	int64_t run;

	if (sched_elsewhere(c, m))
		return 0;
	sched_name(m->b.name.name, name, sizeof(name));
	if (schedule_run_now(name, &run, err, sizeof(err)) != 0) {
		ctl_result(c, m->req_id, 0, err);
		return 0;
	}
	log_info("operator (uid %d) runs schedule %s: run %lld", (int)c->uid,
	    name, (long long)run);
	snprintf(err, sizeof(err), "run %lld", (long long)run);
	ctl_result(c, m->req_id, 1, err);
	return 0;
}

/* pause, resume and remove: schedule.c changes, this answers. */
static int
sched_change(struct ctl_client *c, struct ipc_msg *m, enum sched_op op)
{
	char name[IPC_NAME_MAX + 1], err[SCHED_ERR_MAX];

	if (sched_elsewhere(c, m))
		return 0;
	sched_name(m->b.name.name, name, sizeof(name));
	if (schedule_change(name, op, err, sizeof(err)) == -1) {
		ctl_result(c, m->req_id, 0, err);
		return 0;
	}
	log_info("operator (uid %d) %s schedule %s", (int)c->uid,
	    schedule_ops[op].verb, name);
	ctl_result(c, m->req_id, 1, schedule_ops[op].done);
	return 0;
}

int
ctl_sched_pause(struct ctl_client *c, struct ipc_msg *m)
{
	return sched_change(c, m, SCHED_PAUSE);
}

int
ctl_sched_resume(struct ctl_client *c, struct ipc_msg *m)
{
	return sched_change(c, m, SCHED_RESUME);
}

int
ctl_sched_remove(struct ctl_client *c, struct ipc_msg *m)
{
	return sched_change(c, m, SCHED_REMOVE);
}

static void
sched_run_row(const struct store_run_row *r, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_run_row b;

	memset(&b, 0, sizeof(b));
	if (sched_put(&b.name, r->name, IPC_NAME_MAX, 0) == -1 ||
	    b.name.len == 0)
		return;
	b.id = r->id > 0 ? (uint64_t)r->id : 0;
	b.slot = r->slot > 0 ? (uint64_t)r->slot : 0;
	b.manual = r->manual;
	b.started = r->started > 0 ? (uint64_t)r->started : 0;
	b.agent_done = r->agent_done > 0 ? (uint64_t)r->agent_done : 0;
	sched_put(&b.state, r->state != NULL && r->state[0] != '\0' ?
	    r->state : "?", IPC_NAME_MAX, 1);
	sched_put(&b.error, r->error, IPC_MESSAGE_MAX, 1);
	ipc_stream_put(bufferevent_get_output(cw->c->bev), IPC_CTL_RUN,
	    cw->req_id, &b);
}

/* channel is the target row's account, target its peer. */
static void
sched_target_row(const struct store_run_target_row *t, void *arg)
{
	struct ctl_walk *cw = arg;
	struct ipc_body_run_target b;

	memset(&b, 0, sizeof(b));
	if (sched_put(&b.channel, t->account, IPC_NAME_MAX, 0) == -1 ||
	    sched_put(&b.target, t->peer, IPC_PEER_MAX, 0) == -1 ||
	    b.channel.len == 0)
		return;
	b.run = t->run > 0 ? (uint64_t)t->run : 0;
	sched_put(&b.state, t->state != NULL && t->state[0] != '\0' ?
	    t->state : "?", IPC_NAME_MAX, 1);
	sched_put(&b.detail, t->detail, IPC_MESSAGE_MAX, 1);
	ipc_stream_put(bufferevent_get_output(cw->c->bev), IPC_CTL_RUN_TARGET,
	    cw->req_id, &b);
}

/*
 * The newest runs of all schedules for "", else of the one named.  Runs
 * are kept by name, so a removed schedule's runs still show (until
 * pruned): a name is unknown only when it has neither a definition nor
 * a run.
 */
int
ctl_sched_history(struct ctl_client *c, struct ipc_msg *m)
{
	struct ctl_walk cw = { c, m->req_id };
	struct store_sched sc;
	char name[IPC_NAME_MAX + 1], err[SCHED_ERR_MAX];
	int n, rv;

	if (sched_far(c, m, 1))
		return 0;
	sched_name(m->b.sched_name.name, name, sizeof(name));
	/* Targets whose rows ended since the timer's last tick. */
	store_run_settle(sup->store);
	n = store_run_history(sup->store, name[0] != '\0' ? name : NULL,
	    SCHED_HISTORY_MAX, sched_run_row, sched_target_row, &cw);
	if (n == 0 && name[0] != '\0') {
		if ((rv = store_sched_get(sup->store, name, &sc)) == 0)
			store_sched_free(&sc);
		else {
			snprintf(err, sizeof(err), "no schedule %s", name);
			ctl_result(c, m->req_id, 0, rv == 1 ? err :
			    "store error");
			return 0;
		}
	}
	return ctl_walk_end(&cw, n);
}
