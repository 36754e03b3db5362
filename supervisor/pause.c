/*
 * Paused channel accounts (issue #16): an operator stops an account's
 * worker, from the console or `wxgatectl account pause`, and its
 * outbound rows wait in the outbox, durable, until `resume`.  The store
 * keeps the set (store_pause.c) so a paused account stays so across a
 * restart: the hub asks the root parent again (hub.pause) each time it
 * applies the configuration, and whenever the worker comes up anyway,
 * since the parent starts the file's workers before the hub asks.
 * channel.c hands a paused account's worker nothing.
 *
 * Here too wxgatectl's requests and the console's writes for it; the
 * console's are audited (the operator's name), a viewer's refused by
 * console_write.c.  A bound account (account.c) is the hub's own,
 * started with hub.spawn: account_hold unspawns it and spawns it again.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "codec.h"
#include "config.h"
#include "console.h"
#include "control_int.h"
#include "hub.h"
#include "log.h"
#include "store.h"
#include "xmalloc.h"

static char	**paused;
static size_t	  npaused;

static ssize_t
pause_index(const char *name)
{
	size_t i;

	for (i = 0; i < npaused; i++)
		if (strcmp(paused[i], name) == 0)
			return (ssize_t)i;
	return -1;
}

int
account_paused(const char *name)
{
	return pause_index(name) != -1;
}

/* hub.pause or hub.resume for the account's worker. */
static void
pause_ask(const struct cfg_channel *cc, int on)
{
	char wname[2 * IPC_NAME_MAX + 2];
	struct ipc_body_hub_ref b;

	if (config_rt_is(sup->conf, cc->name)) {
		account_hold(cc->name, on);
		return;
	}
	snprintf(wname, sizeof(wname), "%s.%s", cc->type, cc->name);
	b.name = ipc_s(wname);
	b.gen = 0;
	b.why = IPC_S("");
	b.syscall = 0;
	hub_request(on ? IPC_HUB_PAUSE : IPC_HUB_RESUME, &b);
}

static int
pause_load(const char *account, void *arg)
{
	(void)arg;
	if (pause_index(account) == -1) {
		paused = xreallocarray(paused, npaused + 1, sizeof(*paused));
		paused[npaused++] = xstrdup(account);
	}
	return 0;
}

/* On start and each reload: the store's set, asked of the parent. */
void
pause_init(void)
{
	const struct cfg_channel *cc;
	size_t i;

	if (npaused == 0 && store_pause_list(sup->store, pause_load,
	    NULL) == -1)
		log_warnx("%s: paused accounts not read", __func__);
	/* A bound account's is not started at all (account.c). */
	for (i = 0; i < npaused; i++)
		if ((cc = config_channel(sup->conf, paused[i])) != NULL &&
		    !config_rt_is(sup->conf, paused[i]))
			pause_ask(cc, 1);
}

struct pause_find {
	const char	*name;
	int		 found;
};

static int
pause_match(const char *account, void *arg)
{
	struct pause_find *f = arg;

	f->found |= strcmp(account, f->name) == 0;
	return 0;
}

/*
 * In a cluster, a lease taken: the account's rows, its pause among
 * them, were just loaded from the shared store, and the node that had
 * it may have paused or resumed it since this one last knew.
 */
void
pause_reload(const char *name)
{
	struct pause_find f = { name, 0 };
	ssize_t i = pause_index(name);

	if (store_pause_list(sup->store, pause_match, &f) == -1) {
		log_warnx("%s: %s: paused accounts not read", __func__, name);
		return;
	}
	if (f.found && i == -1)
		pause_load(name, NULL);
	else if (!f.found && i != -1) {
		free(paused[i]);
		paused[i] = paused[--npaused];
	}
}

/* A paused account's worker came up (a restart): down it goes. */
void
pause_again(const char *name)
{
	const struct cfg_channel *cc;

	if ((cc = config_channel(sup->conf, name)) != NULL)
		pause_ask(cc, 1);
}

int
account_pause(const char *name, int on, const char *by, char *err,
    size_t errlen)
{
	const struct cfg_channel *cc;
	ssize_t i;

	if ((cc = config_channel(sup->conf, name)) == NULL) {
		snprintf(err, errlen, "no channel account %s", name);
		return 1;
	}
	/* Its worker shows a login QR code: paused, the binding dies. */
	if (account_pending(name)) {
		snprintf(err, errlen, "%s is waiting for its owner's login",
		    name);
		return 2;
	}
	/* Its pause is its own node's to write (a row behind its lease). */
	if (!hub_pg_holds(name)) {
		snprintf(err, errlen, "%s runs on another node of the cluster "
		    "(wxgatectl cluster shows which): pause it there", name);
		return 2;
	}
	i = pause_index(name);
	if (on && i == -1) {
		if (store_pause_set(sup->store, name, by, sup_now()) == -1) {
			snprintf(err, errlen, "store error");
			return -1;
		}
		pause_load(name, NULL);
	} else if (!on && i != -1) {
		if (store_pause_clear(sup->store, name) == -1) {
			snprintf(err, errlen, "store error");
			return -1;
		}
		free(paused[i]);
		paused[i] = paused[--npaused];
	}
	log_info("account %s %s by %s", name, on ? "paused" : "resumed", by);
	pause_ask(cc, on);
	return 0;
}

/* wxgatectl account pause NAME, account resume NAME. */
static int
ctl_account(struct ctl_client *c, struct ipc_msg *m, int on)
{
	char name[IPC_NAME_MAX + 1], by[64], err[256];

	snprintf(name, sizeof(name), "%.*s", (int)m->b.name.name.len,
	    m->b.name.name.p);
	snprintf(by, sizeof(by), "operator (uid %d)", (int)c->uid);
	if (account_pause(name, on, by, err, sizeof(err)) != 0)
		ctl_result(c, m->req_id, 0, err);
	else
		ctl_result(c, m->req_id, 1, "");
	return 0;
}

int
ctl_account_pause(struct ctl_client *c, struct ipc_msg *m)
{
	return ctl_account(c, m, 1);
}

int
ctl_account_resume(struct ctl_client *c, struct ipc_msg *m)
{
	return ctl_account(c, m, 0);
}

/* The console's account.pause and account.resume (console_write.c). */
static void
console_account(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who, int on)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char name[IPC_NAME_MAX + 1], by[IPC_NAME_MAX + 16], err[256];
	int rv;

	snprintf(name, sizeof(name), "%.*s", (int)p->arg.len, p->arg.p);
	snprintf(by, sizeof(by), "operator %s", who->operator);
	rv = account_pause(name, on, by, err, sizeof(err));
	if (rv == 0)
		store_audit(sup->store, sup_now(), "console", w->name, 0,
		    on ? "account.pause" : "account.resume", by);
	console_answer(w, m, p->conn, rv == 0 ? 200 : rv == 1 ? 404 :
	    rv == 2 ? 409 : 503, NULL, NULL, rv == 0 ?
	    json_pack("{s:b}", "ok", 1) : console_error(err));
}

void
console_account_pause(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	console_account(w, m, who, 1);
}

void
console_account_resume(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	console_account(w, m, who, 0);
}
