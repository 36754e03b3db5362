/*
 * Sandbox step 6: load the kind's syscall allowlist.  Anything not
 * listed traps; sigsys.c reports the syscall to the supervisor and the
 * process dies of SIGSYS.  With --sandbox-log the default action is
 * SCMP_ACT_LOG instead, so a missing syscall shows in the kernel log
 * (dmesg, "type=1326") and can be added on purpose; never in production.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <seccomp.h>

#include "log.h"
#include "profile.h"
#include "sandbox.h"

/*
 * By profile name: the kind's, or what its profile() hook picked after
 * pre_sandbox.  A second table adds to the first (an agent that dials
 * out is an agent plus sockets).
 */
static const struct {
	const char		*name;
	const struct sb_profile	*profile;
	const struct sb_profile	*extra;
} profiles[] = {
	{ "webchat",		&profile_webchat,	NULL },
	/* Accepts on its handed socket, as the web chat, and no more. */
	{ "metrics",		&profile_webchat,	NULL },
	/* The console's worker too: it serves a handed socket. */
	{ "console",		&profile_webchat,	NULL },
	{ "agent",		&profile_agent,		NULL },
	{ "agent-openai",	&profile_agent,		&profile_net },
	/* A relay agent accepts on its handed socket, as the web chat. */
	{ "agent-relay",	&profile_agent,		&profile_webchat },
	/* A command's attachments go to it as sealed memfds. */
	{ "agent-command",	&profile_agent,		&profile_media },
	/* A channel worker dials out and seals the attachments it got. */
	{ "wechat",		&profile_net,		&profile_media },
	/* The webhook also reads the hub's attachments (memfds). */
	{ "wecom_webhook",	&profile_net,		&profile_webhook },
	/* The callback kinds accept on their account's handed socket. */
	{ "callback",		&profile_net,		&profile_callback },
#ifdef WX_TEST_HOOKS
	/* The test channel: no network, attachments like a channel's. */
	{ "loopback",		&profile_agent,		&profile_media },
#endif
	/* The parent's unprivileged half: IPC, the store, no sockets. */
	{ "hub",		&profile_hub,		NULL },
	/* ... and with a PostgreSQL store, streams to the database. */
	{ "hub_pg",		&profile_hub,		&profile_db },
	/* The configuration reader: its socket and zoneinfo, read only. */
	{ "conf",		&profile_conf,		NULL },
};

/*
 * Does the kind decide this syscall otherwise than the common profile?
 * libseccomp keeps the first action given for a syscall and quietly
 * drops a different one added later, so the common rule must go.
 */
static int
sc_overruled(const struct sb_rule *r, const struct sb_profile *p,
    const struct sb_profile *extra)
{
	const struct sb_profile *k[2] = { p, extra };
	size_t i, j;

	for (j = 0; j < 2; j++)
		for (i = 0; k[j] != NULL && i < k[j]->n; i++)
			if (k[j]->rules[i].nr == r->nr &&
			    k[j]->rules[i].err != r->err)
				return 1;
	return 0;
}

/* The rules of p, less those the profiles over and over2 overrule. */
static int
sc_add(scmp_filter_ctx ctx, const struct sb_profile *p,
    const struct sb_profile *over, const struct sb_profile *over2)
{
	const struct sb_rule *r;
	struct scmp_arg_cmp cmp;
	uint32_t action;
	size_t i;
	int rv;

	for (i = 0; i < p->n; i++) {
		r = &p->rules[i];
		if (sc_overruled(r, over, over2))
			continue;
		action = r->err ? SCMP_ACT_ERRNO((uint32_t)r->err) :
		    SCMP_ACT_ALLOW;
		/* A syscall this architecture lacks is simply absent. */
		if (r->nr < 0)
			continue;
		if (r->arg == SB_ANYARG)
			rv = seccomp_rule_add(ctx, action, r->nr, 0);
		else {
			memset(&cmp, 0, sizeof(cmp));
			cmp.arg = (unsigned)r->arg;
			cmp.op = r->op;
			cmp.datum_a = r->a == SB_SELF ? (uint64_t)getpid() :
			    r->a;
			cmp.datum_b = r->b;
			rv = seccomp_rule_add_array(ctx, action, r->nr, 1,
			    &cmp);
		}
		if (rv < 0) {
			log_warnx("%s: %s: rule %zu (%s): %s", __func__,
			    p->kind, i, r->why, strerror(-rv));
			return -1;
		}
	}
	return 0;
}

int
sandbox_seccomp(const struct sandbox_spec *spec, int log_only)
{
	const struct sb_profile *p = NULL, *extra = NULL;
	const char *name = spec->seccomp != NULL ? spec->seccomp : spec->kind;
	scmp_filter_ctx ctx;
	size_t i;
	int rv = -1;

	for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(profiles[i].name, name) == 0) {
			p = profiles[i].profile;
			extra = profiles[i].extra;
		}
	if (p == NULL) {
		log_warnx("%s: no seccomp profile %s for %s", __func__, name,
		    spec->kind);
		return -1;
	}
	if ((ctx = seccomp_init(log_only ? SCMP_ACT_LOG :
	    SCMP_ACT_TRAP)) == NULL)
		return -1;
	if (sc_add(ctx, &profile_common, p, extra) == -1 ||
	    sc_add(ctx, p, NULL, NULL) == -1 ||
	    (extra != NULL && sc_add(ctx, extra, NULL, NULL) == -1))
		goto out;
	if (SB_SANITIZER && sc_add(ctx, &profile_sanitizer, NULL, NULL) == -1)
		goto out;
	if ((rv = seccomp_load(ctx)) < 0) {
		log_warnx("%s: seccomp_load: %s", __func__, strerror(-rv));
		rv = -1;
	}
out:
	seccomp_release(ctx);
	return rv;
}

int
sandbox_seccomp_child(void)
{
	scmp_filter_ctx ctx;
	int rv = -1;

	/* No SIGSYS handler survives execve: the kernel kills outright. */
	if ((ctx = seccomp_init(SCMP_ACT_KILL_PROCESS)) == NULL)
		return -1;
	if (sc_add(ctx, &profile_command_child, NULL, NULL) == 0 &&
	    seccomp_load(ctx) == 0)
		rv = 0;
	seccomp_release(ctx);
	return rv;
}

/*
 * A filter that forbids only the named calls (SIGSYS), for a process
 * whose children will each add their own allowlist on top (filters
 * stack: a call must pass all of them).  Names this kernel does not
 * know are skipped.
 */
int
sandbox_seccomp_deny(const char *const names[])
{
	scmp_filter_ctx ctx;
	size_t i;
	int nr, rv = -1;

	if ((ctx = seccomp_init(SCMP_ACT_ALLOW)) == NULL)
		return -1;
	for (i = 0; names[i] != NULL; i++) {
		if ((nr = seccomp_syscall_resolve_name(names[i])) ==
		    __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_TRAP, nr, 0) < 0)
			goto out;
	}
	if (seccomp_load(ctx) == 0)
		rv = 0;
out:
	seccomp_release(ctx);
	return rv;
}
