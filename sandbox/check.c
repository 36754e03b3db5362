/*
 * wxgated --check-sandbox: for every worker kind and the hub, a
 * throwaway child applies each layer in the order that process does
 * and reports back through a pipe; one row per kind and layer is
 * printed: in force, or not and why.
 *
 * Root takes none of these steps.  As every process does, the caller
 * (wxgate-child, child.c) drops root first with sandbox.c's own
 * sandbox_drop, once per set of ids, and calls sandbox_check as that
 * user with the report of its drop; the kinds' children start from it.
 */
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

static void
check_child(const struct sandbox_spec *spec, const struct sandbox_conf *conf,
    const struct sandbox_report *dropped, int fd)
{
	struct sandbox_report r = *dropped;

	/* Closing fds needs no privilege: it is always in force. */
	r.on[SB_FDS] = 1;
	snprintf(r.why[SB_FDS], sizeof(r.why[SB_FDS]),
	    "all but the IPC socket closed");
	sandbox_rlimits(spec, &r);
	sandbox_ns(spec, conf, &r);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
		r.on[SB_NNP] = 1;
		snprintf(r.why[SB_NNP], sizeof(r.why[SB_NNP]),
		    "execve can never grant privileges");
	} else
		snprintf(r.why[SB_NNP], sizeof(r.why[SB_NNP]), "prctl: %s",
		    strerror(errno));
	/* Landlock needs no_new_privs; it fills in its own reason. */
	if (r.on[SB_NNP])
		sandbox_landlock(spec, &r);
	else
		snprintf(r.why[SB_LANDLOCK], sizeof(r.why[SB_LANDLOCK]),
		    "needs no_new_privs");
	sandbox_sigsys_init();
	if (r.on[SB_NNP] && sandbox_seccomp(spec, 0) == 0) {
		r.on[SB_SECCOMP] = 1;
		snprintf(r.why[SB_SECCOMP], sizeof(r.why[SB_SECCOMP]),
		    "allowlist for %s, default: trap and die", spec->kind);
	} else if (!r.on[SB_SECCOMP])
		snprintf(r.why[SB_SECCOMP], sizeof(r.why[SB_SECCOMP]),
		    "filter could not be loaded");
	/* write(2) is on every allowlist. */
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(1);
	_exit(0);
}

static const char *
check_state(const struct sandbox_report *r, enum sb_layer l)
{
	if (r->on[l])
		return "in force";
	if (strncmp(r->why[l], "not used", 8) == 0)
		return "not used";
	return "not available";
}

/*
 * A first run has no state directory yet: a kind that keeps one is
 * checked with an empty stand-in, which shows in its rows.  Root makes
 * it, before the drop enters it (sandbox_ns_open).
 */
void
sandbox_check_standin(struct sandbox_spec *spec, char *tmp, size_t len)
{
	tmp[0] = '\0';
	if (spec->rw_dir == NULL || access(spec->rw_dir, F_OK) == 0)
		return;
	snprintf(tmp, len, "/tmp/wxgate-check.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		fatal("%s: mkdtemp", __func__);
	spec->rw_dir = tmp;
}

int
sandbox_check(const struct sandbox_spec *specs, size_t nspecs,
    const struct sandbox_conf *conf, const struct sandbox_report *dropped)
{
	struct sandbox_report r;
	size_t k;
	int fds[2], status, l, rv = 0;
	pid_t pid;
	ssize_t n;

	for (k = 0; k < nspecs; k++) {
		if (pipe(fds) == -1)
			fatal("pipe");
		fflush(stdout);
		if ((pid = fork()) == -1)
			fatal("fork");
		if (pid == 0) {
			close(fds[0]);
			check_child(&specs[k], conf, dropped, fds[1]);
		}
		close(fds[1]);
		memset(&r, 0, sizeof(r));
		n = read(fds[0], &r, sizeof(r));
		close(fds[0]);
		waitpid(pid, &status, 0);
		if (n != (ssize_t)sizeof(r)) {
			printf("%-8s %-13s %-14s %s\n", specs[k].kind, "-",
			    "failed", WIFSIGNALED(status) ?
			    strsignal(WTERMSIG(status)) : "no report");
			rv = 1;
			continue;
		}
		for (l = 0; l < SB_NLAYERS; l++)
			printf("%-8s %-13s %-14s %s\n", specs[k].kind,
			    sandbox_layer_name(l), check_state(&r, l),
			    r.why[l]);
		/* Without these two a worker would refuse to start. */
		if (!r.on[SB_NNP] || !r.on[SB_SECCOMP])
			rv = 1;
	}
	fflush(stdout);
	return rv;
}
