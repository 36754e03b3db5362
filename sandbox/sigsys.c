/*
 * What happens when a worker makes a forbidden syscall: the filter traps,
 * this handler tells the supervisor which syscall it was in one
 * hand-built "sandbox.violation" frame (no allocation, no stdio: it runs
 * on a signal), then the process dies of SIGSYS.  The syscall itself
 * never ran.  SA_RESETHAND restores the default action before the
 * handler starts, and the handler may not install another: the profiles
 * forbid rt_sigaction.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "ipc_msg.h"
#include "log.h"
#include "sandbox.h"

static void
sigsys_handler(int sig, siginfo_t *si, void *ctx)
{
	uint8_t frame[32];
	struct msghdr msg;
	struct iovec iov;
	uint64_t nr = (uint64_t)si->si_syscall;
	size_t len = 0;
	int i;

	(void)ctx;
	/* [IPC_VIOLATION, 0, {"syscall": nr}] */
	frame[len++] = 0x93;
	frame[len++] = 0xcd;
	frame[len++] = (IPC_VIOLATION >> 8) & 0xff;
	frame[len++] = IPC_VIOLATION & 0xff;
	frame[len++] = 0x00;
	frame[len++] = 0x81;
	frame[len++] = 0xa7;
	memcpy(frame + len, "syscall", 7);
	len += 7;
	frame[len++] = 0xcf;
	for (i = 7; i >= 0; i--)
		frame[len++] = (nr >> (i * 8)) & 0xff;
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = frame;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	(void)sendmsg(IPC_FD, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* Blocked until we return, then fatal: the default is back. */
	syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
}

void
sandbox_sigsys_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) == -1)
		fatal("%s: sigaction", __func__);
}
