/*
 * The console's schedules page: the definitions `wxgatectl schedule
 * list` shows, each with its latest runs as `schedule history` shows
 * them, from the same store calls (store_sched.c).  Running, pausing
 * and resuming are console_write.c's, through schedule.c.  A sealed
 * schedule (docs/e2e.md) shows its prompt and its runs' summaries as
 * the envelopes they are, with what their associated data binds (id,
 * slot), for the page to open; one too long to list comes alone, by
 * GET /api/schedule/sealed.
 *
 * A definition's free text may be 32 KiB and its targets 8 KiB, and a
 * run's targets carry their own details, so the page is bounded by its
 * bytes, not only its rows: free text is cut to CONSOLE_SCHED_CUT, and
 * schedules stop being added, with "more" set, when the next would
 * pass CONSOLE_SCHED_BYTES.  The JSON is what is measured, escapes
 * included, so a run's error full of control characters cannot push
 * the page past a frame (console_answer would make it a 503).
 *
 * The runs of every schedule listed, their targets and sealed answers
 * come from one query (store_run_recent), not one per schedule and per
 * run: the page refreshes every 5 s.
 *
 * On a node of a cluster that does not run schedules the working set
 * holds none (hub_pg_sched.c), so the page is the cluster's, read from
 * PostgreSQL (hub_pg_sched_read) through the same callbacks, with the
 * same bounds, and "elsewhere" saying which node runs them: changes are
 * refused here, naming it (schedule.c), since only the scheduler's
 * writes ship.  The answer comes later (console_sched_hold), or a 503
 * that says the store does not answer at CONSOLE_SCHED_READ_MS, before
 * the console worker gives up on the hub (CN_HUB_MS, 5 s).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "console.h"
#include "hub.h"
#include "store.h"
#include "xmalloc.h"

/* Schedules one page shows at most (schedule.schedules_max may be 0). */
#define CONSOLE_SCHED_MAX	200
/* Runs shown per schedule, the newest: what went wrong lately. */
#define CONSOLE_RUNS_MAX	5
/* Bytes of a text, targets, error or detail shown: the start says it. */
#define CONSOLE_SCHED_CUT	200
/* The schedules' JSON, leaving room for the page around it. */
#define CONSOLE_SCHED_BYTES	(IPC_CONSOLE_BODY_MAX - 1024)
/*
 * A sealed prompt or summary is whole or not at all (a cut envelope
 * opens as nothing): up to this, about 9 KiB of text, so that a few
 * sealed schedules' runs share the page.  A longer one is listed as
 * "long", and the page asks for it alone (console_page_sched_sealed).
 */
#define CONSOLE_SEALED_MAX	(12 * 1024)
/* The cluster's store answers within this, or the page is a 503. */
#define CONSOLE_SCHED_READ_MS	3000

struct sched_page {
	json_t		*list;
	json_t		*byname;	/* name: its entry in list */
	size_t		 bytes;
	int		 more;
	/* The schedule whose runs are being added, NULL: not listed. */
	json_t		*runs;
	int		 sealed;
};

/* An envelope for the page to open: whole, null, or "long". */
static json_t *
sched_page_sealed(const char *env)
{
	if (env == NULL || env[0] == '\0')
		return json_null();
	if (strlen(env) > CONSOLE_SEALED_MAX)
		return json_string("long");
	return json_string(env);
}

static void
sched_page_def(const struct store_sched *sc, void *arg)
{
	struct sched_page *pg = arg;

	json_t *o;

	if (json_array_size(pg->list) >= CONSOLE_SCHED_MAX) {
		pg->more = 1;
		return;
	}
	o = json_pack("{s:s, s:s?, s:s?, s:s?, "
	    "s:s?, s:o, s:o, s:b, s:b, s:I, s:I, s:s?, s:[], s:I, s:b, "
	    "s:s?, s:o}",
	    "name", sc->name, "cron", sc->cron, "every", sc->every,
	    "tz", sc->tz, "agent", sc->agent,
	    "text", sc->sealed ? json_null() : console_cut(sc->body,
	    CONSOLE_SCHED_CUT),
	    "targets", console_cut(sc->targets, CONSOLE_SCHED_CUT),
	    "paused", sc->paused, "from_config", sc->from_config,
	    "next_run", (json_int_t)(!sc->paused ? sc->next_run : 0),
	    "last_run", (json_int_t)sc->last_run,
	    "last_state", sc->last_state, "runs",
	    "id", (json_int_t)sc->id, "sealed", sc->sealed,
	    "owner", sc->owner, "prompt", sched_page_sealed(sc->sealed ?
	    sc->body : NULL));
	if (o == NULL)
		return;
	json_object_set(pg->byname, sc->name, o);
	json_array_append_new(pg->list, o);
}

/*
 * A run; of a sealed schedule, with its slot and its summary, the
 * answer sealed as "run|<id>@<slot>|agent|0" (null: none yet).
 */
static void
sched_page_run(const struct store_run_row *r, void *arg)
{
	struct sched_page *pg = arg;
	json_t *sc, *o;

	if ((sc = json_object_get(pg->byname, r->name)) == NULL) {
		pg->runs = NULL;
		return;
	}
	pg->runs = json_object_get(sc, "runs");
	pg->sealed = json_is_true(json_object_get(sc, "sealed"));
	o = json_pack("{s:I, s:b, s:I, s:I, s:s, s:o, s:[]}",
	    "id", (json_int_t)r->id, "manual", r->manual,
	    "started", (json_int_t)r->started,
	    "agent_done", (json_int_t)r->agent_done,
	    "state", r->state != NULL && r->state[0] != '\0' ? r->state : "?",
	    "error", console_cut(r->error, CONSOLE_SCHED_CUT), "targets");
	if (o != NULL && pg->sealed) {
		json_object_set_new(o, "slot", json_integer(r->slot));
		json_object_set_new(o, "summary", sched_page_sealed(r->reply));
	}
	json_array_append_new(pg->runs, o);
}

/* Targets follow their run (store_run_recent): the last one added. */
static void
sched_page_target(const struct store_run_target_row *t, void *arg)
{
	json_t *runs = ((struct sched_page *)arg)->runs;
	json_t *run;

	if (runs == NULL ||
	    (run = json_array_get(runs, json_array_size(runs) - 1)) == NULL)
		return;
	json_array_append_new(json_object_get(run, "targets"), json_pack(
	    "{s:s?, s:s?, s:s, s:o}", "channel", t->account,
	    "target", t->peer,
	    "state", t->state != NULL && t->state[0] != '\0' ? t->state : "?",
	    "detail", console_cut(t->detail, CONSOLE_SCHED_CUT)));
}

/*
 * Whether each schedule, with its runs, still fits: the first that does
 * not is dropped with those after it.
 */
static void
sched_page_fit(struct sched_page *pg)
{
	size_t i;

	for (i = 0; i < json_array_size(pg->list); i++) {
		if (!console_fits(&pg->bytes, CONSOLE_SCHED_BYTES,
		    json_array_get(pg->list, i))) {
			while (json_array_size(pg->list) > i)
				json_array_remove(pg->list, i);
			pg->more = 1;
			break;
		}
	}
}

/* The listed schedules' runs, then the fit.  -1 on a store error. */
static int
sched_page_runs(struct sched_page *pg)
{
	if (store_run_recent(sup->store, CONSOLE_SCHED_MAX, CONSOLE_RUNS_MAX,
	    sched_page_run, sched_page_target, pg) == -1)
		return -1;
	sched_page_fit(pg);
	return 0;
}

json_t *
console_page_schedules(void)
{
	struct sched_page pg = { json_array(), json_object(), 0, 0, NULL, 0 };
	int rv;

	/* Targets whose rows ended since the timer's last tick. */
	store_run_settle(sup->store);
	rv = store_sched_list(sup->store, NULL, sched_page_def, &pg) == -1 ||
	    sched_page_runs(&pg) == -1 ? -1 : 0;
	json_decref(pg.byname);
	if (rv == -1) {
		json_decref(pg.list);
		return NULL;
	}
	return json_pack("{s:o, s:b, s:I}", "schedules", pg.list,
	    "more", pg.more, "now", (json_int_t)sup_now());
}

/* Whom an answer read from the cluster's store goes to. */
struct sched_asker {
	char			 wname[IPC_NAME_MAX + 1];
	uint64_t		 gen;
	uint64_t		 req_id;
	uint64_t		 conn;
};

static void
sched_asker_set(struct sched_asker *k, const struct worker *w,
    const struct ipc_msg *m, uint64_t conn)
{
	snprintf(k->wname, sizeof(k->wname), "%s", w->name);
	k->gen = w->gen;
	k->req_id = m->req_id;
	k->conn = conn;
}

/* To the worker that asked, not one restarted since. */
static void
sched_asker_answer(const struct sched_asker *k, int status, json_t *body)
{
	static struct ipc_msg m;
	struct worker *w = spawn_find(k->wname);

	if (w != NULL && w->gen == k->gen && w->wire != NULL) {
		m.req_id = k->req_id;
		console_answer(w, &m, k->conn, status, NULL, NULL, body);
	} else
		json_decref(body);
}

/* r asked, or -1: too many are, and the console hears so now. */
static int
sched_asker_read(const struct hub_sched_read *r, struct worker *w,
    const struct ipc_msg *m, uint64_t conn)
{
	if (hub_pg_sched_read(r) == 0)
		return 0;
	console_answer(w, m, conn, 503, NULL, NULL, console_error(
	    "the cluster's store is behind: try again"));
	return -1;
}

/* A page asked of the cluster's store, and whom it answers. */
struct sched_ask {
	struct sched_page	 pg;
	struct sched_asker	 who;
	char			 elsewhere[IPC_MESSAGE_MAX];
};

static void
sched_ask_done(const char *why, void *arg)
{
	struct sched_ask *a = arg;	/* its page, the callbacks' arg */
	json_t *body;
	int status = 200;

	json_decref(a->pg.byname);
	if (why != NULL) {
		json_decref(a->pg.list);
		body = console_error(why);
		status = 503;
	} else {
		sched_page_fit(&a->pg);
		body = json_pack("{s:o, s:b, s:I, s:s}", "schedules",
		    a->pg.list, "more", a->pg.more, "now",
		    (json_int_t)sup_now(), "elsewhere", a->elsewhere);
	}
	sched_asker_answer(&a->who, status, body);
	free(a);
}

int
console_sched_hold(struct worker *w, const struct ipc_msg *m,
    uint64_t conn, const char *query)
{
	struct sched_ask *a;
	struct hub_sched_read r = { HUB_SCHED_PAGE, NULL,
	    CONSOLE_SCHED_MAX + 1, CONSOLE_RUNS_MAX,
	    CONSOLE_SCHED_CUT, CONSOLE_SEALED_MAX, CONSOLE_SCHED_READ_MS,
	    sched_page_def, sched_page_run, sched_page_target,
	    sched_ask_done, NULL, 0, 0 };
	char elsewhere[IPC_MESSAGE_MAX];

	(void)query;
	if (hub_pg_sched_here(elsewhere, sizeof(elsewhere)))
		return 0;
	a = xcalloc(1, sizeof(*a));
	snprintf(a->elsewhere, sizeof(a->elsewhere), "%s", elsewhere);
	a->pg.list = json_array();
	a->pg.byname = json_object();
	sched_asker_set(&a->who, w, m, conn);
	r.arg = &a->pg;
	if (sched_asker_read(&r, w, m, conn) == -1) {
		json_decref(a->pg.list);
		json_decref(a->pg.byname);
		free(a);
	}
	return 1;
}

/*
 * The query "ID RUN" (cn_page's "-" for a key not given) into a
 * schedule's id and a run's (0: the prompt): -1 if either is not one.
 */
static int
sched_sealed_query(const char *query, int64_t *id, int64_t *run)
{
	const char *sp;

	if (query == NULL || (sp = strchr(query, ' ')) == NULL ||
	    (*id = console_id(query, (size_t)(sp - query))) < 0)
		return -1;
	*run = 0;
	if (strcmp(sp + 1, "-") == 0)
		return 0;
	return (*run = console_id(sp + 1, strlen(sp + 1))) < 0 ? -1 : 0;
}

/*
 * The answer to a sealed text's request: env, the text found (taken),
 * or rv 1 if there is none, -1 on a store error.  The status.
 */
static int
sched_sealed_answer(int64_t id, int64_t run, int rv, char *env,
    json_t **body)
{
	if (rv != 0 || env == NULL) {
		free(env);
		*body = console_error(rv == -1 ? "store error" : run != 0 ?
		    "no such run's summary of this sealed schedule" :
		    "no such sealed schedule's prompt");
		return rv == -1 ? 503 : 404;
	}
	/* A relay's summary is cut to fit (ctl/relay/seal.c): a bound. */
	if (strlen(env) > CONSOLE_SCHED_BYTES) {
		free(env);
		*body = console_error("longer than one console answer");
		return 503;
	}
	*body = json_pack("{s:I, s:I, s:s}", "id", (json_int_t)id, "run",
	    (json_int_t)run, "sealed", env);
	free(env);
	return 200;
}

/*
 * GET /api/schedule/sealed?id=ID[&run=RUN]: a sealed schedule's prompt,
 * or the summary of one of its runs, whole, however long the list cut
 * it (CONSOLE_SEALED_MAX).  Ciphertext, as the list gives the shorter
 * ones, to any session; only the owner's key opens it.  The status, and
 * the answer's body.  On a node of a cluster that does not run
 * schedules, console_sealed_hold asks the shared store instead.
 */
int
console_page_sched_sealed(const char *query, const char *text,
    json_t **body)
{
	struct store_sched sc;
	char *env = NULL;
	int64_t id, run;
	int rv;

	if (text[0] != '\0' || sched_sealed_query(query, &id, &run) == -1) {
		*body = console_error("id or run is not valid");
		return 400;
	}
	if ((rv = store_sched_get_id(sup->store, id, &sc)) != 0) {
		*body = console_error(rv == 1 ? "no such sealed schedule" :
		    "store error");
		return rv == 1 ? 404 : 503;
	}
	if (!sc.sealed)
		rv = 1;
	else if (run == 0)
		env = sc.body[0] != '\0' ? xstrdup(sc.body) : NULL;
	else
		rv = store_run_reply(sup->store, id, run, &env);
	store_sched_free(&sc);
	return sched_sealed_answer(id, run, rv, env, body);
}

/* A sealed text asked of the cluster's store, and whom it answers. */
struct sealed_ask {
	struct sched_asker	 who;
	int64_t			 id;
	int64_t			 run;
	int			 found;	/* the schedule, sealed */
	char			*env;
};

static void
sealed_ask_def(const struct store_sched *sc, void *arg)
{
	struct sealed_ask *a = arg;

	a->found = sc->sealed;
	if (a->run == 0 && sc->sealed && sc->body[0] != '\0')
		a->env = xstrdup(sc->body);
}

static void
sealed_ask_run(const struct store_run_row *run, void *arg)
{
	struct sealed_ask *a = arg;

	if (a->found && run->id == a->run && run->reply != NULL &&
	    a->env == NULL)
		a->env = xstrdup(run->reply);
}

static void
sealed_ask_done(const char *why, void *arg)
{
	struct sealed_ask *a = arg;
	json_t *body;
	int status;

	if (why != NULL) {
		free(a->env);
		status = 503;
		body = console_error(why);
	} else if (!a->found) {
		free(a->env);
		status = 404;
		body = console_error("no such sealed schedule");
	} else
		status = sched_sealed_answer(a->id, a->run, 0, a->env, &body);
	sched_asker_answer(&a->who, status, body);
	free(a);
}

/*
 * The same on a node of a cluster that does not run schedules: its
 * working set has none, so the text is read from the shared store, as
 * the list is (console_sched_hold), and answered later (1).  A query
 * or text that is not valid is console_page_sched_sealed's 400 (0).
 */
int
console_sealed_hold(struct worker *w, const struct ipc_msg *m,
    uint64_t conn, const char *query)
{
	struct sealed_ask *a;
	struct hub_sched_read r = { HUB_SCHED_SEALED, NULL, 1, 1,
	    CONSOLE_SCHED_CUT, CONSOLE_SCHED_BYTES, CONSOLE_SCHED_READ_MS,
	    sealed_ask_def, sealed_ask_run, NULL, sealed_ask_done, NULL,
	    0, 0 };
	char elsewhere[IPC_MESSAGE_MAX];
	int64_t id, run;

	if (m->b.console_get.query.len > 0 ||
	    sched_sealed_query(query, &id, &run) == -1 ||
	    hub_pg_sched_here(elsewhere, sizeof(elsewhere)))
		return 0;
	a = xcalloc(1, sizeof(*a));
	sched_asker_set(&a->who, w, m, conn);
	a->id = r.id = id;
	a->run = r.run_id = run;
	r.arg = a;
	if (sched_asker_read(&r, w, m, conn) == -1)
		free(a);
	return 1;
}
