/*
 * The worker table's state names, which the root parent and the hub
 * both use on their own copy of it (sup.h's struct sup), and the
 * parent's lookup by pid: here, apart from spawn.c, so that the hub
 * links these and nothing of spawning.  The hub's lookup by name,
 * which the parent never makes, is hub_link.c's.
 */
#include <sys/queue.h>

#include "sup.h"

static const char *const state_names[] = {
	[W_STARTING] = "starting",
	[W_RUNNING] = "running",
	[W_BACKOFF] = "backoff",
	[W_FAILED] = "failed",
	[W_STOPPING] = "stopping",
	[W_STOPPED] = "stopped",
};

const char *
worker_state_name(enum w_state s)
{
	return state_names[s];
}

/* The worker whose process this is, if any. */
struct worker *
spawn_find_pid(pid_t pid)
{
	struct worker *w;

	TAILQ_FOREACH(w, &sup->workers, entry)
		if (w->pid == pid)
			return w;
	return NULL;
}
