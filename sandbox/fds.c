/*
 * Sandbox step 1: close every descriptor a worker inherited except the
 * IPC socket and the few a kind opened for itself before the sandbox
 * (sandbox_keep_fd(): the command agent's pipes), so nothing the
 * supervisor held leaks into a worker.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc_msg.h"
#include "log.h"
#include "sandbox.h"

/* A kind keeps a handful of its own fds at most. */
#define FDS_KEEP_MAX	8

static int	keep[FDS_KEEP_MAX];
static size_t	nkeep;

void
sandbox_keep_fd(int fd)
{
	if (nkeep == FDS_KEEP_MAX)
		fatalx("%s: more than %d fds kept", __func__, FDS_KEEP_MAX);
	keep[nkeep++] = fd;
}

static int
fds_kept(int fd)
{
	size_t i;

	for (i = 0; i < nkeep; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

void
sandbox_fds(void)
{
	DIR *d;
	struct dirent *de;
	int fd, dfd, nullfd;

	/*
	 * 0-2 point at /dev/null so a stray printf cannot reach a tty;
	 * sanitizer builds keep stderr so their reports reach our log.
	 */
	if ((nullfd = open("/dev/null", O_RDWR)) == -1)
		fatal("%s: /dev/null", __func__);
	for (fd = 0; fd <= (SB_SANITIZER ? 1 : 2); fd++)
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
		    fd == dfd || fds_kept(fd))
			continue;
		close(fd);
	}
	closedir(d);
}
