/*
 * The workers a configuration wants, as the configuration reader's
 * plan lists them (plan.h, in kinds.c's start order): all of them at
 * start; on SIGHUP a fresh reader reads the new file, then its rows are
 * matched by name with the running workers: a new one starts, one whose
 * slice changed restarts, one no longer wanted drains and is forgotten.
 * Accounts the hub started (W_F_RUNTIME) are not the file's: a reload
 * leaves them alone.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kinds.h"
#include "log.h"
#include "plan.h"
#include "sup.h"
#include "xmalloc.h"

static struct worker *reload_start(const struct plan_worker *);
static void	reload_want(const struct plan_worker *, int relisten);
static void	reload_workers(int relisten);
static int	reload_check(struct plan *, const struct plan *,
		    int *newfd);

/* Each row in order: agents first, so work finds them attached. */
void
reload_spawn_all(void)
{
	size_t i;

	for (i = 0; i < sup->plan->nworkers; i++)
		reload_start(&sup->plan->workers[i]);
}

static struct worker *
reload_start(const struct plan_worker *pw)
{
	struct worker *w;

	w = spawn_new(pw->kind, pw->id, pw->role, pw->slice);
	/*
	 * With a shared store an account runs on the node holding its
	 * lease: the hub resumes it once that is this one (hub_pg.c).
	 */
	if (sup->plan->store_pg && pw->role == ROLE_CHANNEL)
		w->flags |= W_F_PAUSED;
	spawn_worker(w);
	return w;
}

/* SIGHUP: the new file, or a log line saying why the old one stays. */
void
reload_config(void)
{
	char err[PLAN_ERR_MAX];
	struct plan *nc, *oc = sup->plan;
	int newfd = -1;

	/* The loop waits for the reader, within its deadline. */
	nc = conf_fetch(sup->conf_path, sup->sb_uid, sup->sb_gid,
	    oc->strict, err, sizeof(err));
	parent_hub_waited();
	if (nc == NULL) {
		log_warnx("reload: %s; keeping the running configuration",
		    err);
		return;
	}
	if (reload_check(nc, oc, &newfd) == -1) {
		plan_free(nc);
		return;
	}
	/* Paths that only change on restart keep their running values. */
	nc->store_pg = oc->store_pg;
	xfree_secret(nc->store_secret);
	nc->store_secret = oc->store_secret != NULL ?
	    xstrdup(oc->store_secret) : NULL;
	free(nc->store);
	nc->store = xstrdup(oc->store);
	free(nc->control);
	nc->control = xstrdup(oc->control);
	sup->plan = nc;
	listener_commit(nc);
	parent_hub_config();
	if (newfd != -1) {
		close(sup->listen_fd);
		sup->listen_fd = newfd;
	}
	reload_workers(newfd != -1);
	plan_free(oc);
	log_info("reload: configuration %s applied", sup->conf_path);
}

/* What the new file needs from the system: its listeners, its ids. */
static int
reload_check(struct plan *nc, const struct plan *oc, int *newfd)
{
	if (strcmp(nc->store, oc->store) != 0 ||
	    strcmp(nc->control, oc->control) != 0 ||
	    nc->store_pg != oc->store_pg)
		log_warnx("reload: store and control paths change only on "
		    "restart");
	if (strcmp(nc->webchat_listen, oc->webchat_listen) != 0 &&
	    (*newfd = sup_listen_open(nc->webchat_listen)) == -1) {
		log_warnx("reload: cannot listen on %s; keeping the running "
		    "configuration", nc->webchat_listen);
		return -1;
	}
	/* Each callback account's address: kept, or bound anew now. */
	if (listener_prepare(nc) == -1) {
		log_warnx("reload: keeping the running configuration");
		if (*newfd != -1)
			close(*newfd);
		*newfd = -1;
		return -1;
	}
	if (sup_ids(nc, 0, &sup->sb_uid, &sup->sb_gid) == -1 ||
	    sup_ids(nc, 1, &sup->hub_uid, &sup->hub_gid) == -1) {
		log_warnx("reload: keeping the running configuration");
		listener_abort();
		if (*newfd != -1)
			close(*newfd);
		*newfd = -1;
		return -1;
	}
	return 0;
}

/* The running worker of that name, not one draining away. */
static struct worker *
reload_find(const char *kind, const char *id)
{
	struct worker *w;

	TAILQ_FOREACH(w, &sup->workers, entry)
		if (!(w->flags & W_F_REMOVE) && strcmp(w->kind, kind) == 0 &&
		    strcmp(w->id, id) == 0)
			return w;
	return NULL;
}

/* A wanted instance: start it, or restart it if its slice changed. */
static void
reload_want(const struct plan_worker *pw, int relisten)
{
	struct worker *w;

	if ((w = reload_find(pw->kind, pw->id)) == NULL) {
		w = reload_start(pw);
		w->flags |= W_F_WANTED;
		return;
	}
	w->flags |= W_F_WANTED;
	/* The hub's account of that name keeps running as it is. */
	if ((w->flags & W_F_RUNTIME) || (strcmp(w->conf, pw->slice) == 0 &&
	    !(relisten && (pw->flags & K_F_LISTEN))))
		return;
	xfree_secret(w->conf);
	w->conf = xstrdup(pw->slice);
	log_info("reload: restarting %s", w->name);
	spawn_restart(w);
}

static void
reload_workers(int relisten)
{
	struct worker *w, *tw;
	size_t i;

	for (i = 0; i < sup->plan->nworkers; i++)
		reload_want(&sup->plan->workers[i], relisten);
	TAILQ_FOREACH_SAFE(w, &sup->workers, entry, tw) {
		if (!(w->flags & (W_F_WANTED | W_F_REMOVE | W_F_RUNTIME))) {
			log_info("reload: removing %s", w->name);
			/*
			 * One still restarting for an earlier reload is
			 * not started again once it stops.
			 */
			w->flags |= W_F_REMOVE;
			w->flags &= ~W_F_RESPAWN;
			spawn_shutdown(w);
		}
		w->flags &= ~W_F_WANTED;
	}
}
