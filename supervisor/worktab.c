/*
 * The worker table's lookups, which the root parent and the hub both
 * use on their own copy of it (sup.h's struct sup): here, apart from
 * spawn.c, so that the hub links these and nothing of spawning.
 */
#include <sys/queue.h>

#include <string.h>

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

struct worker *
spawn_find(const char *name)
{
	struct worker *w;

	TAILQ_FOREACH(w, &sup->workers, entry)
		if (strcmp(w->name, name) == 0)
			return w;
	return NULL;
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
