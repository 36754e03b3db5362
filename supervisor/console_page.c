/*
 * The console's pages, as JSON for its static script (workers/console/
 * assets/console.js), from what the hub already keeps for `wxgatectl
 * status` and the metrics.  JSON strings are escaped by jansson and
 * the script only ever sets textContent, so a name an attacker chose
 * (a peer, an account) is shown as text, never markup.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "clock.h"
#include "codec.h"
#include "config.h"
#include "console.h"
#include "control_int.h"
#include "hub.h"
#include "metrics.h"
#include "store.h"
#include "wire.h"

/* Rows of allowed senders one page shows: the rest are counted. */
#define CONSOLE_ALLOWED_MAX	500
/*
 * Share links one page shows, the newest: a row is about 150 bytes, so
 * 500 stay well inside a frame (IPC_CONSOLE_BODY_MAX).
 */
#define CONSOLE_SHARES_MAX	500

static json_t	*console_page_workers(void);
static json_t	*console_page_channels(void);

json_t *
console_page_overview(void)
{
	return json_pack("{s:o, s:o, s:I}",
	    "workers", console_page_workers(),
	    "channels", console_page_channels(),
	    "now", (json_int_t)sup_now());
}

static json_t *
console_page_workers(void)
{
	json_t *a = json_array();
	struct worker *w;

	TAILQ_FOREACH(w, &sup->workers, entry)
		json_array_append_new(a, json_pack(
		    "{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:I, s:I, s:I}",
		    "name", w->name,
		    "kind", w->kind,
		    "state", w->wire != NULL || w->pstate[0] == '\0' ?
		    worker_state_name(w->state) : w->pstate,
		    "pid", (json_int_t)(w->pid > 0 ? w->pid : 0),
		    "uptime_ms", (json_int_t)(w->pid > 0 ?
		    timespec_ms_since(&w->started) : 0),
		    "restarts", (json_int_t)w->restarts,
		    "last_exit", w->last_exit,
		    "queue", (json_int_t)(w->wire != NULL ?
		    wire_queued(w->wire) : 0),
		    "msgs_in", (json_int_t)w->msgs_in,
		    "msgs_out", (json_int_t)w->msgs_out));
	return a;
}

static json_t *
console_page_channels(void)
{
	json_t *a = json_array();
	uint64_t in, sent, failed;
	const char *name;
	unsigned i;

	for (i = 0; channel_counts(i, &name, &in, &sent, &failed) == 0; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I}",
		    "name", name, "received", (json_int_t)in,
		    "sent", (json_int_t)sent, "failed", (json_int_t)failed));
	return a;
}

static int
console_page_pairing(const struct store_pairing_row *r, void *arg)
{
	json_array_append_new(arg, json_pack("{s:s?, s:s?, s:s?, s:I, s:I}",
	    "code", r->code, "account", r->account, "peer", r->peer,
	    "created", (json_int_t)r->created,
	    "expires", (json_int_t)r->expires));
	return 0;
}

static int
console_page_allowed(const char *account, const char *peer, int64_t approved,
    void *arg)
{
	json_array_append_new(arg, json_pack("{s:s?, s:s?, s:I}",
	    "account", account, "peer", peer, "approved", (json_int_t)approved));
	return 0;
}

/*
 * Pairing codes waiting, and the senders allowed (one more than shown
 * is asked for, so "more" says the list was cut).
 */
json_t *
console_page_pairings(void)
{
	json_t *a = json_array(), *b = json_array();
	int more;

	if (store_pairing_list(sup->store, console_page_pairing, a) == -1 ||
	    store_console_allowed(sup->store, CONSOLE_ALLOWED_MAX + 1,
	    console_page_allowed, b) == -1) {
		json_decref(a);
		json_decref(b);
		return NULL;
	}
	if ((more = json_array_size(b) > CONSOLE_ALLOWED_MAX))
		json_array_remove(b, CONSOLE_ALLOWED_MAX);
	return json_pack("{s:o, s:o, s:b}", "pairings", a, "allowed", b,
	    "more", more);
}

static int
console_page_share(const struct store_share_row *r, void *arg)
{
	json_t *a = arg;
	char id[SHARE_PREFIX + 1];
	int64_t now = sup_now();

	snprintf(id, sizeof(id), "%.*s", SHARE_PREFIX, r->hash);
	json_array_append_new(a, json_pack("{s:s, s:s, s:I, s:I, s:b, s:I, "
	    "s:I}", "id", id,
	    "state", r->revoked > 0 ? "revoked" :
	    r->expires > 0 && r->expires <= now ? "expired" : "live",
	    "created", (json_int_t)r->created,
	    "expires", (json_int_t)r->expires,
	    "read_only", r->read_only,
	    "session", (json_int_t)r->session,
	    "revoked", (json_int_t)r->revoked));
	/* The store walks oldest first: keep the newest. */
	if (json_array_size(a) > CONSOLE_SHARES_MAX + 1)
		json_array_remove(a, 0);
	return 0;
}

/*
 * Share links as `wxgatectl share list` shows them, by the prefix of
 * their hash (share.c).  Only the hash is kept, so a link's address,
 * which holds its secret, cannot be shown again: "base" is the part
 * before the secret.
 */
json_t *
console_page_shares(void)
{
	json_t *a = json_array();
	char base[IPC_URL_MAX + 1];
	int more;

	if (store_share_list(sup->store, console_page_share, a) == -1) {
		json_decref(a);
		return NULL;
	}
	if ((more = json_array_size(a) > CONSOLE_SHARES_MAX))
		json_array_remove(a, 0);
	router_share_url(base, sizeof(base), "", 0);
	return json_pack("{s:o, s:b, s:s}", "links", a, "more", more,
	    "base", base);
}

int
console_fits(size_t *used, size_t max, const json_t *o)
{
	size_t n = json_dumpb(o, NULL, 0, JSON_COMPACT) + 1;

	if (*used + n > max)
		return 0;
	*used += n;
	return 1;
}

/* o appended to a list of at most rows rows and max bytes, or freed: -1. */
int
console_take(json_t *list, size_t rows, size_t *used, size_t max, json_t *o)
{
	if (json_array_size(list) == rows || !console_fits(used, max, o)) {
		json_decref(o);
		return -1;
	}
	json_array_append_new(list, o);
	return 0;
}

/* A decimal id from a query or an arg, at most 18 digits, or -1. */
int64_t
console_id(const char *s, size_t len)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

json_t *
console_cut(const char *s, size_t max)
{
	struct ipc_str v = ipc_s(s != NULL ? s : "");

	ctl_fit(&v, max);
	return json_stringn(v.p, v.len);
}
