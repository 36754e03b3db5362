/*
 * Sealed schedules from the console (docs/e2e.md): a prompt the
 * operator's browser sealed, asked of a relay agent with e2e, whose
 * answers stay sealed in the run's history.  The prompt's associated
 * data binds the schedule's id, which exists only once the row does, so
 * the page makes one in two steps: seal_new makes it paused and without
 * a prompt, and answers the id; seal_prompt takes the envelope sealed
 * for that id, from the owner only, and resumes it.  As for threads,
 * the hub checks shape only, so that plaintext never lands by mistake.
 * On a cluster both are the scheduler's, as every change to schedules
 * is (schedule.c): elsewhere the row would never ship.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "console.h"
#include "hub.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

static void
ces_fail(struct worker *w, const struct ipc_msg *m, int status,
    const char *why)
{
	console_answer(w, m, m->b.console_post.conn, status, NULL, NULL,
	    console_error(why));
}

/*
 * The definition from the body, {"name", "cron" or "every", "tz",
 * "agent"}, checked as wxgatectl's is (schedule_check.c).  "to" is
 * taken only to be refused by name: a platform would get ciphertext.
 */
static int
ces_def(const struct ipc_body_console_post *p, struct store_sched *sc,
    const char *owner, char *err, size_t errlen)
{
	json_t *o, *to = NULL;
	const char *name = NULL, *cron = NULL, *every = NULL, *tz = NULL;
	const char *agent = NULL;
	int rv = -1;

	memset(sc, 0, sizeof(*sc));
	if ((o = json_loadb(p->text.p, p->text.len, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL || json_unpack(o, "{s:s, s?:s, s?:s, s?:s, s:s, "
	    "s?:o !}", "name", &name, "cron", &cron, "every", &every, "tz",
	    &tz, "agent", &agent, "to", &to) != 0) {
		snprintf(err, errlen, "not a sealed schedule's definition: "
		    "{\"name\", \"cron\" or \"every\", \"tz\", \"agent\"}");
		goto out;
	}
	sc->name = xstrdup(name);
	sc->cron = cron != NULL && cron[0] != '\0' ? xstrdup(cron) : NULL;
	sc->every = every != NULL && every[0] != '\0' ? xstrdup(every) : NULL;
	sc->tz = xstrdup(tz != NULL && tz[0] != '\0' ? tz : "UTC");
	sc->agent = xstrdup(agent);
	sc->body = xstrdup("");
	sc->targets = xstrdup(to != NULL ? "to" : "");
	sc->owner = xstrdup(owner);
	sc->sealed = 1;
	/* Paused until its prompt is set: nothing to run before. */
	sc->paused = 1;
	rv = schedule_check(sup->conf, sc, err, errlen);
 out:
	json_decref(o);
	return rv;
}

/* schedule.seal_new: the body is the definition; answers its id. */
void
console_sched_seal_new(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	struct store_sched sc;
	char err[IPC_MESSAGE_MAX], *rec = NULL;
	int64_t id, now = sup_now();
	int rv;

	if (!hub_pg_sched_here(err, sizeof(err))) {
		ces_fail(w, m, 409, err);
		return;
	}
	if (ces_def(&m->b.console_post, &sc, who->operator, err,
	    sizeof(err)) == -1) {
		ces_fail(w, m, 400, err);
		goto out;
	}
	/* The owner's key seals the prompt: the page makes it first. */
	if ((rv = store_e2e_key_get(sup->store, who->operator, &rec)) != 0) {
		ces_fail(w, m, rv == 1 ? 409 : 503, rv == 1 ? "set your "
		    "end-to-end passphrase first" : "store error");
		goto out;
	}
	free(rec);
	if (schedule_room(err, sizeof(err)) == -1) {
		ces_fail(w, m, 409, err);
		goto out;
	}
	sc.created = sc.last_slot = now;
	if ((sc.next_run = schedule_next(&sc, now)) == 0) {
		ces_fail(w, m, 400, "matches no time in the next five years");
		goto out;
	}
	if ((rv = store_sched_add(sup->store, &sc, &id)) != 0) {
		ces_fail(w, m, rv == 1 ? 409 : 503, rv == 1 ? "the name is "
		    "taken" : "store error");
		goto out;
	}
	log_info("console: operator %s adds sealed schedule %s (%lld)",
	    who->operator, sc.name, (long long)id);
	store_audit(sup->store, sup_now(), "console", w->name, 0,
	    "schedule.seal_new", sc.name);
	console_answer(w, m, m->b.console_post.conn, 200, NULL, NULL,
	    json_pack("{s:b, s:I}", "ok", 1, "id", (json_int_t)id));
 out:
	store_sched_free(&sc);
}

/*
 * schedule.seal_prompt: arg the id, the body its prompt sealed as
 * "sched|<id>|operator|0".  Set (or replaced) by its owner only; the
 * schedule resumes, from now.
 */
void
console_sched_seal_prompt(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	struct store_sched sc;
	char err[IPC_MESSAGE_MAX], *env;
	int64_t id;
	int rv;

	if (!hub_pg_sched_here(err, sizeof(err))) {
		ces_fail(w, m, 409, err);
		return;
	}
	if ((id = console_id(p->arg.p, p->arg.len)) < 0 ||
	    (rv = store_sched_get_id(sup->store, id, &sc)) == 1) {
		ces_fail(w, m, 404, "no such schedule");
		return;
	}
	if (rv == -1) {
		ces_fail(w, m, 503, "store error");
		return;
	}
	if (!sc.sealed)
		ces_fail(w, m, 400, "this schedule is not sealed");
	else if (strcmp(sc.owner, who->operator) != 0)
		ces_fail(w, m, 403, "a sealed schedule takes only its "
		    "owner's prompt");
	else if (!console_e2e_sealed(p->text.p, p->text.len))
		ces_fail(w, m, 400, "not a sealed message (docs/e2e.md)");
	else {
		env = ipc_strdup(p->text);
		rv = store_sched_seal(sup->store, id, who->operator, env);
		free(env);
		if (rv != 0)
			ces_fail(w, m, 503, "store error");
		else if (schedule_change(sc.name, SCHED_RESUME, err,
		    sizeof(err)) == -1)
			ces_fail(w, m, 409, err);
		else {
			log_info("console: operator %s seals the prompt of "
			    "schedule %s", who->operator, sc.name);
			store_audit(sup->store, sup_now(), "console",
			    w->name, 0, "schedule.seal_prompt", sc.name);
			console_answer(w, m, p->conn, 200, NULL, NULL,
			    json_pack("{s:b}", "ok", 1));
		}
	}
	store_sched_free(&sc);
}
