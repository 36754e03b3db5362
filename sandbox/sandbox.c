/*
 * Sandbox entry.  The steps, each run only after the one before it has
 * succeeded:
 *
 *  1. close every fd but the IPC socket; 0-2 to /dev/null   (fds.c)
 *  2. rlimits: no core, bounded fds and address space,
 *     RLIMIT_NPROC 0 where the kind needs no threads        (rlimit.c)
 *  3. namespaces: user (when not root), mount with an empty read-only
 *     root, net for kinds that never dial out, IPC, UTS      (ns.c)
 *  4. drop to the configured uid/gid, groups cleared        (creds.c)
 *  5. PR_SET_NO_NEW_PRIVS
 *  6. Landlock, for kinds that keep directories             (landlock.c)
 *  7. the kind's seccomp allowlist                          (seccomp.c)
 *
 * in two phases, so that nothing is parsed as root.  sandbox_drop runs
 * first, with nothing read but argv: as root, step 4 alone, after the
 * directory a kind keeps writable (the hub's store directory) is
 * entered, so that a path root alone can walk still binds (ns.c).  The
 * caller then reads its config and what it needs of the host (DNS, CA
 * certificates, a helper program that keeps its stderr) as the
 * unprivileged user, and sandbox_confine does the rest: steps 1-3 (the
 * namespaces through an unprivileged user namespace, root being gone)
 * and 5-7.  The hub does the same (between the two it only seeds
 * SQLite), and so does the configuration reader: nothing but
 * sandbox_drop runs as root in any of them.
 *
 * no_new_privs and seccomp fail closed.  Namespaces and the uid drop
 * need privileges: when they are unavailable they are reported as off,
 * never skipped silently, and "sandbox: strict: true" makes them fatal.
 * Landlock is used where the kernel has it; a kernel without it is
 * logged and never fatal, a failure to apply it is fatal when strict.
 * sandbox_confine is called while the process has one thread: Landlock
 * and seccomp bind the calling thread and the threads it starts
 * afterwards.
 */
#include <sys/prctl.h>

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "sandbox.h"

static const char *const layer_names[SB_NLAYERS] = {
	[SB_FDS] = "fds",
	[SB_RLIMITS] = "rlimits",
	[SB_USERNS] = "userns",
	[SB_MOUNTNS] = "mountns",
	[SB_NETNS] = "netns",
	[SB_IPCNS] = "ipcns",
	[SB_UTSNS] = "utsns",
	[SB_CREDS] = "uid-drop",
	[SB_NNP] = "no_new_privs",
	[SB_LANDLOCK] = "landlock",
	[SB_SECCOMP] = "seccomp",
};

const char *
sandbox_layer_name(enum sb_layer l)
{
	return layer_names[l];
}

void
sandbox_summary(const struct sandbox_report *r, char *buf, size_t len)
{
	size_t i, off = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < SB_NLAYERS && off < len; i++) {
		n = snprintf(buf + off, len - off, "%s%s %s", i ? ", " : "",
		    layer_names[i], r->on[i] ? "on" :
		    strncmp(r->why[i], "not ", 4) == 0 ? "n/a" : "off");
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* Steps 1-3. */
static void
sandbox_build(const struct sandbox_spec *spec, const struct sandbox_conf *conf,
    struct sandbox_report *r)
{
	sandbox_fds();
	r->on[SB_FDS] = 1;
	sandbox_rlimits(spec, r);
	sandbox_ns(spec, conf, r);
}

void
sandbox_drop(const struct sandbox_spec *spec, const struct sandbox_conf *conf,
    struct sandbox_report *r)
{
	memset(r, 0, sizeof(*r));
	sandbox_ns_open(spec);
	sandbox_creds(conf, r);
}

void
sandbox_confine(const struct sandbox_spec *spec,
    const struct sandbox_conf *conf, struct sandbox_report *r)
{
	char line[512];
	int i;

	sandbox_build(spec, conf, r);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	r->on[SB_NNP] = 1;
	snprintf(r->why[SB_NNP], sizeof(r->why[SB_NNP]),
	    "execve can never grant privileges");

	if (conf->strict) {
		for (i = 0; i < SB_NNP; i++) {
			if (i == SB_NETNS && !(spec->flags & SB_S_NONET))
				continue;
			if (!r->on[i])
				fatalx("%s: strict sandbox: %s is off: %s",
				    __func__, layer_names[i], r->why[i]);
		}
	}

	if (sandbox_landlock(spec, r) == -1) {
		if (conf->strict)
			fatalx("%s: strict sandbox: landlock is off: %s",
			    __func__, r->why[SB_LANDLOCK]);
		log_warnx("sandbox: %s: landlock is off: %s", spec->kind,
		    r->why[SB_LANDLOCK]);
	}

	sandbox_sigsys_init();
	if (sandbox_seccomp(spec, conf->log_only) == -1)
		fatalx("%s: seccomp filter for %s could not be loaded",
		    __func__, spec->kind);
	r->on[SB_SECCOMP] = 1;
	if (conf->log_only)
		snprintf(r->why[SB_SECCOMP], sizeof(r->why[SB_SECCOMP]),
		    "log only (--sandbox-log): violations are not stopped");
	sandbox_summary(r, line, sizeof(line));
	log_debug("sandbox: %s", line);
}

void
sandbox_enter(const struct sandbox_spec *spec, const struct sandbox_conf *conf,
    struct sandbox_report *r)
{
	sandbox_drop(spec, conf, r);
	sandbox_confine(spec, conf, r);
}
