/*
 * Sandbox step 1: close every descriptor a worker inherited except the
 * IPC socket, so nothing the supervisor held leaks into a worker.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "ipc_msg.h"
#include "log.h"
#include "sandbox.h"

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
		    fd == dfd)
			continue;
		close(fd);
	}
	closedir(d);
}
