/*
 * Every channel account, the file's and the bound ones, each with the
 * state an operator is shown: for `wxgatectl channels` (control_bind.c)
 * and the console's accounts page (console_page_acct.c), so the two
 * never disagree.  It reads the hub's records and the store; it changes
 * nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "config.h"
#include "hub.h"
#include "store.h"

/*
 * One account's row: its worker's state when it has one, else state
 * (a bound account's pending or stopped, and any paused account, are
 * the hub's own word).  A
 * running worker whose platform asks for a login says so, since
 * "running" alone would hide that nobody can reach it.
 */
static void
channel_list_put(const struct channel_row *in, channel_row_fn fn, void *arg)
{
	struct channel_row r = *in;
	char wname[2 * IPC_NAME_MAX + 2], *platform = NULL;
	struct worker *w;

	snprintf(wname, sizeof(wname), "%s.%s", r.kind, r.name);
	if (account_paused(r.name)) {
		r.state = "paused";	/* an operator's (pause.c) */
		w = NULL;
	} else if (strcmp(r.state, "pending") == 0 ||
	    strcmp(r.state, "stopped") == 0)
		w = NULL;	/* the hub's word, whatever its worker says */
	else if ((w = spawn_find(wname)) != NULL && w->state == W_RUNNING &&
	    store_kv_get(sup->store, r.name, "status", &platform) == 0 &&
	    strcmp(platform, "login_required") == 0)
		r.state = platform;
	else if (w != NULL && !(w->flags & W_F_REMOVE))
		r.state = w->wire != NULL || w->pstate[0] == '\0' ?
		    worker_state_name(w->state) : w->pstate;
	fn(&r, arg);
	free(platform);
}

struct channel_list_walk {
	channel_row_fn	 fn;
	void		*arg;
};

static void
channel_list_bound(const char *name, const char *tmpl, const char *state,
    const char *owner, void *arg)
{
	struct channel_list_walk *cw = arg;
	struct channel_row r = { name, ACCOUNT_KIND, "bound", tmpl, state,
	    owner };

	channel_list_put(&r, cw->fn, cw->arg);
}

void
channel_list(channel_row_fn fn, void *arg)
{
	struct channel_list_walk cw = { fn, arg };
	const struct cfg_channel *cc;
	struct channel_row r;
	unsigned i;

	for (i = 0; i < sup->conf->channels_count; i++) {
		cc = &sup->conf->channels[i];
		r = (struct channel_row){ cc->name, cc->type, "config", "",
		    "absent", "" };
		channel_list_put(&r, fn, arg);
	}
	account_each(channel_list_bound, &cw);
}
