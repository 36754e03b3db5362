/*
 * Sandbox entry for workers, in the order of STYLE.md section 7:
 * descriptors, rlimits, then no_new_privs.  Each step fails closed.
 * The per-kind seccomp profiles, namespaces and the uid drop are the
 * sandbox issue's work; until they land, this file applies only the
 * layers listed here and wxgated says so at start.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ipc_msg.h"
#include "log.h"
#include "sandbox.h"
#include "worker.h"

/* Enough for the web chat pool's connections plus a few files. */
#define SANDBOX_NOFILE	4096

static void
sandbox_fds(void)
{
	DIR *d;
	struct dirent *de;
	int fd, dfd, nullfd;

	/* 0-2 point at /dev/null so a stray printf cannot reach a tty. */
	if ((nullfd = open("/dev/null", O_RDWR)) == -1)
		fatal("%s: /dev/null", __func__);
	for (fd = 0; fd <= 2; fd++)
		if (nullfd != fd && dup2(nullfd, fd) == -1)
			fatal("%s: dup2", __func__);
	if (nullfd > 2)
		close(nullfd);

	if ((d = opendir("/proc/self/fd")) == NULL)
		fatal("%s: /proc/self/fd", __func__);
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		fd = atoi(de->d_name);
		if (de->d_name[0] == '.' || fd <= 2 || fd == IPC_FD ||
		    fd == dfd)
			continue;
		close(fd);
	}
	closedir(d);
}

static void
sandbox_rlimits(void)
{
	struct rlimit rl;

	rl.rlim_cur = rl.rlim_max = 0;
	if (setrlimit(RLIMIT_CORE, &rl) == -1)
		fatal("%s: RLIMIT_CORE", __func__);
	rl.rlim_cur = rl.rlim_max = SANDBOX_NOFILE;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		/* Lowering only: a smaller inherited hard limit stays. */
		if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("%s: RLIMIT_NOFILE", __func__);
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			fatal("%s: RLIMIT_NOFILE", __func__);
	}
}

void
sandbox_enter(const struct wk_kind *kind)
{
	sandbox_fds();
	sandbox_rlimits();
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("%s: PR_SET_NO_NEW_PRIVS", __func__);
	log_debug("%s: %s: fds closed, rlimits set, no_new_privs on",
	    __func__, kind->name);
}
