/*
 * Bound accounts: wechat accounts made from binding invitations and
 * kept in the store's accounts table, not in the file (issue #13).
 * The hub owns them: it builds each one's cfg_channel from its template
 * (config_rt_add), asks the parent to start its worker (hub.spawn, the
 * slice passing once) and to stop it (hub.unspawn).  The parent checks
 * that what it is asked to start is a channel account and nothing more.
 *
 * On start the hub drops accounts a crash left pending (their page is
 * gone) and starts every active one, a few per tick so a thousand do
 * not fork at once.  A reload rebuilds each from its template; one
 * whose template left the file is stopped, its data kept, with a log
 * line saying why.  Removal deletes everything stored under its name
 * (store_account_delete).
 */
#include <sys/random.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "account.h"
#include "bindpage.h"
#include "clock.h"
#include "codec.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

/* An unbound account goes after its goodbye had time to leave. */
#define ACCOUNT_DOOM_MS		3000
/* Births per tick at start, and the tick: about 80 a second. */
#define ACCOUNT_BATCH		8
#define ACCOUNT_TICK_MS		100

struct acct_rt {
	char	 name[IPC_NAME_MAX + 1];
	char	 tmpl[IPC_NAME_MAX + 1];
	char	 owner[IPC_PEER_MAX + 1];
	int	 active;
	int	 stopped;	/* its template is gone */
	int	 started;	/* hub.spawn asked */
	int	 doomed;	/* unbound: removed on doom_ev */
	uint64_t unbind_at;	/* clock_mono_ms() of the first /unbind */
};

static struct acct_rt	*rts;
static unsigned		 nrts;
static struct event	*start_ev;
static struct event	*doom_ev;

static struct acct_rt	*acct_find(const char *);
static void		 acct_spawn(struct acct_rt *);
static void		 acct_start_cb(evutil_socket_t, short, void *);
static void		 acct_forget(struct acct_rt *);

static struct acct_rt *
acct_find(const char *name)
{
	unsigned i;

	for (i = 0; i < nrts; i++)
		if (strcmp(rts[i].name, name) == 0)
			return &rts[i];
	return NULL;
}

static struct acct_rt *
acct_add(const char *name, const char *tmpl)
{
	struct acct_rt *a;

	rts = xreallocarray(rts, nrts + 1, sizeof(*rts));
	a = &rts[nrts++];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->tmpl, sizeof(a->tmpl), "%s", tmpl);
	return a;
}

static void
acct_unspawn(const char *name)
{
	char wname[2 * IPC_NAME_MAX + 2];
	struct ipc_body_hub_ref b;

	snprintf(wname, sizeof(wname), "%s.%s", ACCOUNT_KIND, name);
	b.name = ipc_s(wname);
	b.gen = 0;
	b.why = IPC_S("");
	b.syscall = 0;
	hub_request(IPC_HUB_UNSPAWN, &b);
}

/* Its worker, with the slice its template gives it. */
static void
acct_spawn(struct acct_rt *a)
{
	const struct cfg_channel *cc;
	char *slice;

	if ((cc = config_channel(sup->conf, a->name)) == NULL)
		return;
	slice = config_slice_channel(sup->conf, cc);
	if (hub_request_spawn(ACCOUNT_KIND, a->name, slice) == -1)
		log_warnx("account %s: cannot ask for its worker", a->name);
	else
		a->started = 1;
	xfree_secret(slice);
}

static int
acct_load(const struct store_account_row *r, void *arg)
{
	const struct cfg_template *t;
	struct acct_rt *a;

	if (strcmp(r->state, "active") != 0) {
		/* Its page and login died with the last hub: after the walk. */
		*(unsigned *)arg += 1;
		return 0;
	}
	if (nrts >= CFG_CHANNELS_MAX)
		return -1;
	a = acct_add(r->name, r->tmpl);
	a->active = 1;
	snprintf(a->owner, sizeof(a->owner), "%s", r->owner);
	if ((t = config_template(sup->conf, r->tmpl)) == NULL ||
	    config_rt_add(sup->conf, t, r->name) == NULL) {
		a->stopped = 1;
		log_warnx("account %s: template \"%s\" is not in the "
		    "configuration (or the name is taken): not started",
		    r->name, r->tmpl);
	}
	return 0;
}

/*
 * Bindings left unfinished by the last hub (their pages are gone), a
 * batch of names at a time: rows are not deleted under the walk.
 */
#define ACCOUNT_DROP_BATCH	64
struct acct_drop {
	char		 name[ACCOUNT_DROP_BATCH][IPC_NAME_MAX + 1];
	unsigned	 n;
};

static int
acct_drop_pick(const struct store_account_row *r, void *arg)
{
	struct acct_drop *d = arg;

	if (strcmp(r->state, "pending") != 0)
		return 0;
	if (d->n == ACCOUNT_DROP_BATCH)
		return -1;
	snprintf(d->name[d->n++], sizeof(d->name[0]), "%s", r->name);
	return 0;
}

static void
acct_drop_pending(void)
{
	struct acct_drop d;
	unsigned i;

	do {
		d.n = 0;
		if (store_account_list(sup->store, acct_drop_pick, &d) == -1)
			return;
		for (i = 0; i < d.n; i++) {
			log_info("account %s: a binding left unfinished: "
			    "removed", d.name[i]);
			acct_unspawn(d.name[i]);
			if (store_account_delete(sup->store, d.name[i]) == -1)
				return;
		}
	} while (d.n == ACCOUNT_DROP_BATCH);
}

void
account_init(void)
{
	struct timeval tv = { 0, 0 };
	unsigned pending = 0;

	if (store_account_list(sup->store, acct_load, &pending) == -1)
		log_warnx("accounts: the store's list is incomplete");
	if (pending > 0)
		acct_drop_pending();
	sup_turn();
	/* A cluster's working set starts empty, and only a lease starts
	 * a bound account there: never this walk. */
	if (hub_pg_on()) {
		nrts = 0;
		return;
	}
	if (start_ev == NULL && (start_ev = evtimer_new(sup->base,
	    acct_start_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (nrts > 0)
		evtimer_add(start_ev, &tv);
}

/* A few births per tick until every active account has its worker. */
static void
acct_start_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct timeval tv = { 0, ACCOUNT_TICK_MS * 1000 };
	unsigned i, n = 0;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < nrts && n < ACCOUNT_BATCH; i++) {
		if (!rts[i].active || rts[i].stopped || rts[i].started ||
		    account_paused(rts[i].name))
			continue;
		acct_spawn(&rts[i]);
		n++;
	}
	if (n == ACCOUNT_BATCH)
		evtimer_add(start_ev, &tv);
}

/*
 * An operator's pause of a bound account (pause.c): its worker goes
 * (hub.unspawn) and is not started until resumed (hub.spawn).  0, or
 * -1 for no such account.
 */
int
account_hold(const char *name, int on)
{
	struct acct_rt *a;

	if ((a = acct_find(name)) == NULL)
		return -1;
	if (on && a->started) {
		acct_unspawn(name);
		a->started = 0;
	} else if (!on && !a->started && a->active && !a->stopped)
		acct_spawn(a);
	return 0;
}

void
account_reload(struct config *nc)
{
	const struct cfg_template *t;
	struct timeval now = { 0, 0 };
	unsigned i;

	for (i = 0; i < nrts; i++) {
		t = config_template(nc, rts[i].tmpl);
		if (t != NULL && config_rt_add(nc, t, rts[i].name) != NULL) {
			if (rts[i].stopped && rts[i].active) {
				log_info("account %s: template \"%s\" is "
				    "back: started", rts[i].name, rts[i].tmpl);
				rts[i].stopped = 0;
				rts[i].started = 0;
				evtimer_add(start_ev, &now);
			}
			continue;
		}
		if (rts[i].stopped)
			continue;
		log_warnx("account %s: template \"%s\" is gone from the "
		    "configuration: its worker stops, its data stays",
		    rts[i].name, rts[i].tmpl);
		rts[i].stopped = 1;
		rts[i].started = 0;
		acct_unspawn(rts[i].name);
	}
}

int
account_create(const char *tmpl, int64_t inv, char *name, size_t namelen,
    char *err, size_t errlen)
{
	const struct cfg_template *t;
	struct acct_rt *a;
	uint8_t rnd[4];
	int64_t n;
	int i;

	if ((t = config_template(sup->conf, tmpl)) == NULL) {
		snprintf(err, errlen, "template \"%s\" is not in the "
		    "configuration", tmpl);
		return -1;
	}
	if (store_account_count(sup->store, tmpl, &n) == -1 ||
	    n >= (int64_t)t->max_accounts ||
	    sup->conf->channels_count + sup->conf->rt_count >=
	    CFG_CHANNELS_MAX) {
		snprintf(err, errlen, "no room for another account");
		return -1;
	}
	/* "b" and 8 hex digits; a clash with a name in use draws again. */
	for (i = 0; i < 8; i++) {
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			snprintf(err, errlen, "no randomness");
			return -1;
		}
		snprintf(name, namelen, "b%02x%02x%02x%02x", rnd[0], rnd[1],
		    rnd[2], rnd[3]);
		if (config_channel(sup->conf, name) == NULL &&
		    acct_find(name) == NULL)
			break;
	}
	if (i == 8 || store_account_add(sup->store, name, ACCOUNT_KIND, tmpl,
	    inv, sup_now()) == -1 ||
	    config_rt_add(sup->conf, t, name) == NULL) {
		snprintf(err, errlen, "cannot record the account");
		return -1;
	}
	a = acct_add(name, tmpl);
	channel_init();
	acct_spawn(a);
	sup_turn();
	log_info("account %s: binding started (template %s)", name, tmpl);
	return 0;
}

int
account_activate(const char *name, const char *owner)
{
	struct acct_rt *a;
	int rv;

	if ((a = acct_find(name)) == NULL || a->active)
		return -1;
	if ((rv = store_account_activate(sup->store, name, owner)) != 0) {
		log_warnx("account %s: the invitation has no use left: "
		    "not bound", name);
		return -1;
	}
	a->active = 1;
	snprintf(a->owner, sizeof(a->owner), "%s", owner);
	sup_turn();
	log_info("account %s: bound", name);
	/*
	 * A cluster: the login's worker stops now, before the activation
	 * can reach the truth, and the lease starts the account anew
	 * (here or on another node) with the token it stored.  Its later
	 * writes are dropped (chan_state_put: no longer configured), so
	 * nothing it does races the lease's holder.
	 */
	if (hub_pg_on())
		acct_forget(a);
	return 0;
}

/* Forgotten here, rows kept: its worker stops, its channel goes. */
static void
acct_forget(struct acct_rt *a)
{
	acct_unspawn(a->name);
	config_rt_remove(sup->conf, a->name);
	*a = rts[--nrts];
	channel_init();
}

/* The owner in the working set's row (loaded with the lease). */
static int
acct_owner_pick(const struct store_account_row *r, void *arg)
{
	struct acct_rt *a = arg;

	if (strcmp(r->name, a->name) == 0) {
		snprintf(a->owner, sizeof(a->owner), "%s", r->owner);
		return -1;	/* found: stop the walk */
	}
	return 0;
}

/*
 * A cluster: the lease of bound account name is ours and its rows are
 * loaded.  Built from its template and started, unless an operator's
 * pause holds it.
 */
void
account_lease_start(const char *name, const char *tmpl)
{
	const struct cfg_template *t;
	struct acct_rt *a;

	if ((a = acct_find(name)) == NULL) {
		if (nrts >= CFG_CHANNELS_MAX ||
		    (t = config_template(sup->conf, tmpl)) == NULL ||
		    config_rt_add(sup->conf, t, name) == NULL) {
			log_warnx("account %s: template \"%s\" is not in the "
			    "configuration (or no room): not started", name,
			    tmpl);
			return;
		}
		a = acct_add(name, tmpl);
		channel_init();
	}
	a->active = 1;
	a->stopped = 0;
	(void)store_account_list(sup->store, acct_owner_pick, a);
	if (!a->started && !account_paused(name))
		acct_spawn(a);
}

/* A cluster: its lease goes; its worker stops and this node forgets it. */
void
account_lease_stop(const char *name)
{
	struct acct_rt *a;

	if ((a = acct_find(name)) != NULL && a->active)
		acct_forget(a);
	else if (a == NULL)
		acct_unspawn(name);
}

int
account_remove(const char *name, const char *why)
{
	struct acct_rt *a;

	if ((a = acct_find(name)) == NULL)
		return 1;
	/* A page still following its login hears it ended. */
	bindpage_gone(name);
	acct_unspawn(name);
	if (store_account_delete(sup->store, name) == -1)
		return -1;
	config_rt_remove(sup->conf, name);
	*a = rts[--nrts];
	channel_init();
	sup_turn();
	log_info("account %s: removed (%s); its data is deleted", name, why);
	return 0;
}

int
account_is(const char *name)
{
	return acct_find(name) != NULL;
}

int
account_pending(const char *name)
{
	struct acct_rt *a = acct_find(name);

	return a != NULL && !a->active;
}

void
account_each(account_fn fn, void *arg)
{
	unsigned i;

	for (i = 0; i < nrts; i++)
		fn(rts[i].name, rts[i].tmpl, rts[i].stopped ? "stopped" :
		    rts[i].active ? "active" : "pending", rts[i].owner, arg);
}

static void
acct_doom_cb(evutil_socket_t fd, short ev, void *arg)
{
	unsigned i;

	(void)fd;
	(void)ev;
	(void)arg;
	for (i = 0; i < nrts; )
		if (rts[i].doomed)
			account_remove(rts[i].name, "unbound by its owner");
		else
			i++;
}

int
account_unbind(const char *account, const char *peer)
{
	struct timeval tv = clock_tv(ACCOUNT_DOOM_MS);
	struct acct_rt *a;
	uint64_t now = clock_mono_ms();

	if ((a = acct_find(account)) == NULL || !a->active)
		return ACCOUNT_UNBIND_NOT_BOUND;
	if (strcmp(a->owner, peer) != 0)
		return ACCOUNT_UNBIND_NOT_OWNER;
	if (a->unbind_at == 0 || now - a->unbind_at > ACCOUNT_UNBIND_MS) {
		a->unbind_at = now;
		return ACCOUNT_UNBIND_ASK;
	}
	a->doomed = 1;
	if (doom_ev == NULL && (doom_ev = evtimer_new(sup->base,
	    acct_doom_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	evtimer_add(doom_ev, &tv);
	log_info("account %s: its owner unbinds it", account);
	return ACCOUNT_UNBIND_DONE;
}

/*
 * An invitation by the number `bind list` and the console show: 0
 * revoked, 1 none live, 2 not a number, -1 a store error.  Its link
 * stops working at once; accounts it made stay.
 */
int
account_invite_revoke(const char *p, size_t len)
{
	char buf[24], *end;
	long long v;
	int rv;

	if (len == 0 || len >= sizeof(buf))
		return 2;
	memcpy(buf, p, len);
	buf[len] = '\0';
	v = strtoll(buf, &end, 10);
	if (buf[0] < '1' || buf[0] > '9' || *end != '\0' || v <= 0)
		return 2;
	if ((rv = store_invite_revoke(sup->store, v, sup_now())) == 0)
		sup_turn();
	return rv == 0 ? 0 : rv == 1 ? 1 : -1;
}
