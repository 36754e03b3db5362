/* The sandbox tests' forked child; see sbchild.h. */
#include <sys/socket.h>

#include <unistd.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include "ipc_msg.h"
#include "sbchild.h"

pid_t
sbchild_fork(int *fd)
{
	int p[2];
	pid_t pid;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
	assert_int_not_equal(pid = fork(), -1);
	if (pid == 0) {
		close(p[0]);
		if (p[1] != IPC_FD && (dup2(p[1], IPC_FD) == -1 ||
		    close(p[1]) == -1))
			_exit(2);
		return 0;
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}
