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

/* A page asked of the cluster's store, and whom it answers. */
struct sched_ask {
	struct sched_page	 pg;
	char			 wname[IPC_NAME_MAX + 1];
	uint64_t		 gen;
	uint64_t		 req_id;
	uint64_t		 conn;
	char			 elsewhere[IPC_MESSAGE_MAX];
};

static void
sched_ask_done(const char *why, void *arg)
{
	static struct ipc_msg m;
	struct sched_ask *a = arg;	/* its page, the callbacks' arg */
	struct worker *w = spawn_find(a->wname);
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
	/* The worker that asked, not one restarted since. */
	if (w != NULL && w->gen == a->gen && w->wire != NULL) {
		m.req_id = a->req_id;
		console_answer(w, &m, a->conn, status, NULL, NULL, body);
	} else
		json_decref(body);
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
	    sched_ask_done, NULL };
	char elsewhere[IPC_MESSAGE_MAX];

	(void)query;
	if (hub_pg_sched_here(elsewhere, sizeof(elsewhere)))
		return 0;
	a = xcalloc(1, sizeof(*a));
	snprintf(a->elsewhere, sizeof(a->elsewhere), "%s", elsewhere);
	a->pg.list = json_array();
	a->pg.byname = json_object();
	snprintf(a->wname, sizeof(a->wname), "%s", w->name);
	a->gen = w->gen;
	a->req_id = m->req_id;
	a->conn = conn;
	r.arg = &a->pg;
	if (hub_pg_sched_read(&r) == -1) {
		json_decref(a->pg.list);
		json_decref(a->pg.byname);
		free(a);
		console_answer(w, m, conn, 503, NULL, NULL, console_error(
		    "the cluster's store is behind: try again"));
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
 * GET /api/schedule/sealed?id=ID[&run=RUN]: a sealed schedule's prompt,
 * or the summary of one of its runs, whole, however long the list cut
 * it (CONSOLE_SEALED_MAX).  Ciphertext, as the list gives the shorter
 * ones, to any session; only the owner's key opens it.  The status, and
 * the answer's body.
 *
 * XXX On a node of a cluster that does not run schedules it is refused,
 * naming the node that does, rather than a 404 from a working set with
 * no schedules; a read of the shared store, as the list's, would close
 * it.
 */
int
console_page_sched_sealed(const char *query, const char *text,
    json_t **body)
{
	struct store_sched sc;
	char *env = NULL, err[IPC_MESSAGE_MAX];
	int64_t id, run;
	int rv;

	if (text[0] != '\0' || sched_sealed_query(query, &id, &run) == -1) {
		*body = console_error("id or run is not valid");
		return 400;
	}
	if (!hub_pg_sched_here(err, sizeof(err))) {
		*body = console_error(err);
		return 409;
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
	if (rv != 0 || env == NULL) {
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
