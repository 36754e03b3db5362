/*
 * The operator console's writes (issue #16), for a session console.c
 * has found and whose CSRF token was good: a table of actions, each
 * saying whether it is an admin's.  A viewer asking for an admin's is
 * refused here, in the hub, whatever the console worker says, and the
 * refusal goes to the audit table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "account.h"
#include "config.h"
#include "console.h"
#include "hub.h"
#include "log.h"
#include "qr.h"
#include "store.h"
#include "xmalloc.h"

/* A link the console makes lives days days, 1 to this. */
#define CONSOLE_SHARE_DAYS_MAX	365

static void	console_logout(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_approve(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_deny(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_revoke(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_share_create(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_share_revoke(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_invite_revoke(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_sched_run(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_sched_pause(struct worker *, const struct ipc_msg *,
		    const struct console_who *);
static void	console_sched_resume(struct worker *, const struct ipc_msg *,
		    const struct console_who *);

static const struct {
	const char	 *action;
	int		  admin;
	void		(*fn)(struct worker *, const struct ipc_msg *,
			    const struct console_who *);
} console_writes[] = {
	{ "logout",		0,	console_logout },
	{ "pairing.approve",	1,	console_approve },
	{ "pairing.deny",	1,	console_deny },
	{ "peer.revoke",	1,	console_revoke },
	{ "share.create",	1,	console_share_create },
	{ "share.revoke",	1,	console_share_revoke },
	{ "invite.revoke",	1,	console_invite_revoke },
	{ "schedule.run",	1,	console_sched_run },
	{ "schedule.pause",	1,	console_sched_pause },
	{ "schedule.resume",	1,	console_sched_resume },
	{ "schedule.seal_new",	1,	console_sched_seal_new },
	{ "schedule.seal_prompt", 1,	console_sched_seal_prompt },
	{ "conv.send",		1,	console_conv_send },
	{ "account.pause",	1,	console_account_pause },
	{ "account.resume",	1,	console_account_resume },
	{ "chat.new",		1,	console_chat_new },
	{ "chat.send",		1,	console_chat_send },
	{ "chat.branch",	1,	console_chat_branch },
	{ "e2e.key",		1,	console_e2e_key },
};

void
console_write(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who, const char *action)
{
	char detail[IPC_MESSAGE_MAX];
	size_t i;

	for (i = 0; i < sizeof(console_writes) / sizeof(console_writes[0]);
	    i++)
		if (strcmp(console_writes[i].action, action) == 0)
			break;
	if (i == sizeof(console_writes) / sizeof(console_writes[0])) {
		console_answer(w, m, m->b.console_post.conn, 404, NULL, NULL,
		    console_error("no such action"));
		return;
	}
	if (console_writes[i].admin && !who->admin) {
		snprintf(detail, sizeof(detail), "operator %s is a viewer",
		    who->operator);
		log_warnx("console: %s refused: %s", action, detail);
		store_audit(sup->store, sup_now(), "console", w->name, 0,
		    action, detail);
		console_answer(w, m, m->b.console_post.conn, 403, NULL, NULL,
		    console_error("viewers cannot do this"));
		return;
	}
	console_writes[i].fn(w, m, who);
}

static void
console_logout(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	store_console_session_delete(sup->store, who->id);
	log_info("console: operator %s logged out", who->operator);
	console_answer(w, m, m->b.console_post.conn, 200, CONSOLE_COOKIE
	    "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict", NULL,
	    json_pack("{s:b}", "ok", 1));
}

static void
console_decide(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who, int approve)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char code[IPC_NAME_MAX + 1];
	size_t i;
	int rv;

	snprintf(code, sizeof(code), "%.*s", (int)p->arg.len, p->arg.p);
	for (i = 0; code[i] != '\0'; i++)
		if (code[i] >= 'a' && code[i] <= 'z')
			code[i] -= 'a' - 'A';
	rv = approve ? store_pairing_approve(sup->store, code, sup_now()) :
	    store_pairing_deny(sup->store, code, sup_now());
	if (rv == 0)
		log_info("console: operator %s %s a pairing", who->operator,
		    approve ? "approves" : "denies");
	console_answer(w, m, p->conn, rv == 0 ? 200 : rv == -1 ? 503 : 404,
	    NULL, NULL, rv == 0 ? json_pack("{s:b}", "ok", 1) :
	    console_error(rv == 1 ? "no such pairing code" : rv == 2 ?
	    "pairing code expired" : "store error"));
}

static void
console_approve(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	console_decide(w, m, who, 1);
}

static void
console_deny(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	console_decide(w, m, who, 0);
}

/* A sender allowed to talk to an account is no longer. */
static void
console_revoke(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char account[IPC_NAME_MAX + 1], peer[IPC_PEER_MAX + 1];
	int rv;

	snprintf(account, sizeof(account), "%.*s", (int)p->arg.len, p->arg.p);
	snprintf(peer, sizeof(peer), "%.*s", (int)p->peer.len, p->peer.p);
	if ((rv = store_console_peer_revoke(sup->store, account, peer)) == 0)
		log_info("console: operator %s revokes a sender of %s",
		    who->operator, account);
	console_answer(w, m, p->conn, rv == 0 ? 200 : rv == -1 ? 503 : 404,
	    NULL, NULL, rv == 0 ? json_pack("{s:b}", "ok", 1) :
	    console_error(rv == 1 ? "no such allowed sender" :
	    "store error"));
}

/*
 * A link for new chats, expiring in the days the operator chose.  Its
 * URL holds the secret, which the store does not keep: the answer is the
 * one time it and its QR code can be shown.
 */
static void
console_share_create(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char url[IPC_URL_MAX + 1], *svg;
	const char *why;
	unsigned days = 0;
	size_t i;

	for (i = 0; i < p->arg.len && i < 4; i++) {
		if (p->arg.p[i] < '0' || p->arg.p[i] > '9')
			break;
		days = days * 10 + (unsigned)(p->arg.p[i] - '0');
	}
	if (i == 0 || i != p->arg.len || days == 0 ||
	    days > CONSOLE_SHARE_DAYS_MAX) {
		console_answer(w, m, p->conn, 400, NULL, NULL,
		    console_error("days is a whole number from 1 to 365"));
		return;
	}
	if (share_create(0, 0, (uint64_t)days * 86400, url, sizeof(url),
	    &why) == -1) {
		console_answer(w, m, p->conn, 503, NULL, NULL,
		    console_error(why));
		return;
	}
	log_info("console: operator %s shares a link for new chats (%u "
	    "day%s)", who->operator, days, days == 1 ? "" : "s");
	svg = qr_svg(url);
	console_answer(w, m, p->conn, 200, NULL, NULL, json_pack("{s:b, "
	    "s:s, s:s?}", "ok", 1, "url", url, "qr", svg));
	/* Both hold the secret. */
	if (svg != NULL)
		freezero(svg, strlen(svg));
	explicit_bzero(url, sizeof(url));
}

/* By the prefix of its hash the page shows, or its secret (share.c). */
static void
console_share_revoke(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	int rv;

	if ((rv = share_revoke(p->arg.p, p->arg.len)) == 0)
		log_info("console: operator %s revokes a share link",
		    who->operator);
	console_answer(w, m, p->conn, rv == 0 ? 200 : rv == 1 ? 404 :
	    rv == 2 ? 409 : 503, NULL, NULL, rv == 0 ?
	    json_pack("{s:b}", "ok", 1) : console_error(rv == 1 ?
	    "no such share link" : rv == 2 ?
	    "ambiguous: give more of the hash" : "store error"));
}

/* A binding invitation by its number, as `wxgatectl bind revoke`. */
static void
console_invite_revoke(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	static const struct {
		int		 status;
		const char	*why;
	} answers[] = {
		{ 200, NULL },
		{ 404, "no such live invitation" },
		{ 400, "an invitation is named by its number" },
	};
	int rv;

	if ((rv = account_invite_revoke(p->arg.p, p->arg.len)) == 0)
		log_info("console: operator %s revokes binding invitation "
		    "%.*s", who->operator, (int)p->arg.len, p->arg.p);
	if (rv < 0)
		console_answer(w, m, p->conn, 503, NULL, NULL,
		    console_error("store error"));
	else
		console_answer(w, m, p->conn, answers[rv].status, NULL, NULL,
		    rv == 0 ? json_pack("{s:b}", "ok", 1) :
		    console_error(answers[rv].why));
}

/* Whether paused or not, as `wxgatectl schedule run` (schedule.c). */
static void
console_sched_run(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char name[IPC_NAME_MAX + 1], err[IPC_MESSAGE_MAX];
	int64_t run;

	snprintf(name, sizeof(name), "%.*s", (int)p->arg.len, p->arg.p);
	if (schedule_run_now(name, &run, err, sizeof(err)) != 0) {
		console_answer(w, m, p->conn, 409, NULL, NULL,
		    console_error(err));
		return;
	}
	log_info("console: operator %s runs schedule %s: run %lld",
	    who->operator, name, (long long)run);
	console_answer(w, m, p->conn, 200, NULL, NULL,
	    json_pack("{s:b, s:I}", "ok", 1, "run", (json_int_t)run));
}

/*
 * Pause or resume; a schedule from the configuration file is refused,
 * as wxgatectl's is (schedule_change).
 */
static void
console_sched_change(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who, enum sched_op op)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char name[IPC_NAME_MAX + 1], err[IPC_MESSAGE_MAX];

	snprintf(name, sizeof(name), "%.*s", (int)p->arg.len, p->arg.p);
	if (schedule_change(name, op, err, sizeof(err)) == -1) {
		console_answer(w, m, p->conn, 409, NULL, NULL,
		    console_error(err));
		return;
	}
	log_info("console: operator %s %s schedule %s", who->operator,
	    schedule_ops[op].verb, name);
	console_answer(w, m, p->conn, 200, NULL, NULL,
	    json_pack("{s:b}", "ok", 1));
}

static void
console_sched_pause(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	console_sched_change(w, m, who, SCHED_PAUSE);
}

static void
console_sched_resume(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	console_sched_change(w, m, who, SCHED_RESUME);
}
