/*
 * Sandbox step 4: when started as root, become the configured
 * unprivileged user for good: groups cleared, real, effective and saved
 * ids all changed, and a check that root cannot be regained
 * (OpenSSH uidswap.c: permanently_set_uid).  The kernel clears the
 * parent-death signal on a change of ids; the one the parent asked for
 * (spawn.c, parent_hub.c) is set again.
 */
#include <sys/prctl.h>

#include <grp.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

void
sandbox_creds(const struct sandbox_conf *conf, struct sandbox_report *r)
{
	pid_t ppid;
	int pdsig = 0;

	if (geteuid() != 0) {
		snprintf(r->why[SB_CREDS], sizeof(r->why[SB_CREDS]),
		    "not root: already running as uid %u",
		    (unsigned)geteuid());
		return;
	}
	if (conf->uid == 0 || conf->gid == 0)
		fatalx("%s: refusing to run a worker as root", __func__);
	if (prctl(PR_GET_PDEATHSIG, &pdsig) == -1)
		fatal("%s: PR_GET_PDEATHSIG", __func__);
	ppid = getppid();
	if (setgroups(0, NULL) == -1)
		fatal("%s: setgroups", __func__);
	if (setresgid(conf->gid, conf->gid, conf->gid) == -1)
		fatal("%s: setresgid %u", __func__, (unsigned)conf->gid);
	if (setresuid(conf->uid, conf->uid, conf->uid) == -1)
		fatal("%s: setresuid %u", __func__, (unsigned)conf->uid);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("%s: root could be regained", __func__);
	if (getuid() != conf->uid || geteuid() != conf->uid ||
	    getgid() != conf->gid || getegid() != conf->gid)
		fatalx("%s: ids did not change", __func__);
	if (pdsig != 0 && prctl(PR_SET_PDEATHSIG, pdsig) == -1)
		fatal("%s: PR_SET_PDEATHSIG", __func__);
	/* The parent died while the signal was off. */
	if (pdsig != 0 && getppid() != ppid)
		fatalx("%s: the parent is gone", __func__);
	r->on[SB_CREDS] = 1;
	snprintf(r->why[SB_CREDS], sizeof(r->why[SB_CREDS]), "uid %u gid %u",
	    (unsigned)conf->uid, (unsigned)conf->gid);
}
