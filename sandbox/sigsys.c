/*
 * What happens when a worker makes a forbidden syscall: the filter traps,
 * this handler tells the supervisor which syscall it was in one
 * hand-built "sandbox.violation" frame (no allocation, no stdio: it runs
 * on a signal), in the fixed form of the parent's messages
 * (ipc/codec_bin.c; tests/unit/sandbox/test_sigsys.c decodes it), then
 * the process dies of SIGSYS.  The syscall itself never ran.
 * SA_RESETHAND restores the default action before the handler starts,
 * and the handler may not install another: the profiles forbid
 * rt_sigaction.
 */
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "log.h"
#include "sandbox.h"

/* n bytes of v, little-endian, at p; returns what follows them. */
static uint8_t *
put_le(uint8_t *p, uint64_t v, int n)
{
	while (n-- > 0) {
		*p++ = v & 0xff;
		v >>= 8;
	}
	return p;
}

static void
sigsys_handler(int sig, siginfo_t *si, void *ctx)
{
	uint8_t frame[32], *p = frame;
	struct msghdr msg;
	struct iovec iov;
	uint64_t nr = (uint64_t)si->si_syscall;
	size_t len;

	(void)ctx;
	/* sandbox.violation {syscall: nr}, req_id 0, in the fixed form. */
	*p++ = IPC_BIN_MARK;
	p = put_le(p, IPC_VIOLATION, 4);
	p = put_le(p, 0, 8);
	p = put_le(p, nr, 8);
	len = (size_t)(p - frame);
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
