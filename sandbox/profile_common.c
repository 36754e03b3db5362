/*
 * Seccomp rules every worker kind needs: a libevent loop over the IPC
 * socket, glibc's allocator, and the way out.  Kind profiles add to it.
 */
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <errno.h>
#include <fcntl.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW(read, "bufferevents read sockets"),
	SB_ALLOW(readv, "evbuffer_read"),
	SB_ALLOW(pread64, "a worker's own smaps_rollup, open from before"),
	SB_ALLOW(write, "bufferevents write sockets"),
	SB_ALLOW(writev, "evbuffer_write"),
	SB_ALLOW(recvmsg, "IPC frames from the supervisor"),
	SB_ALLOW(sendmsg, "IPC frames to the supervisor"),
	SB_ALLOW(close, "closing connections"),
	SB_ALLOW(epoll_create1, "libevent's backend"),
	SB_ALLOW(epoll_ctl, "libevent's backend"),
	SB_ALLOW(epoll_wait, "libevent's loop"),
	SB_ALLOW(epoll_pwait, "libevent's loop, newer libcs"),
	SB_ALLOW(pipe2, "libevent's internal notification pipe"),
	SB_ALLOW(clock_gettime, "libevent timers when the vDSO is absent"),
	SB_ALLOW(gettimeofday, "libevent timers when the vDSO is absent"),
	SB_ALLOW(brk, "malloc"),
	SB_ALLOW_ARG(mmap, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0,
	    "malloc; never executable memory"),
	SB_ALLOW_ARG(mprotect, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0,
	    "malloc; never executable memory"),
	SB_ALLOW(munmap, "free"),
	SB_ALLOW(mremap, "realloc"),
	SB_ALLOW(madvise, "free returns memory"),
	SB_ALLOW(futex, "glibc's internal locks"),
	SB_ALLOW(getrandom, "OpenSSL and hash seeds"),
	SB_ALLOW(rt_sigprocmask, "abort() and raise()"),
	SB_ALLOW(rt_sigreturn, "returning from the SIGSYS handler"),
	SB_ALLOW(restart_syscall, "a syscall interrupted by a signal"),
	SB_ALLOW(getpid, "abort() and the SIGSYS handler"),
	SB_ALLOW(gettid, "abort() and the SIGSYS handler"),
	SB_ALLOW_ARG(tgkill, 0, SCMP_CMP_EQ, SB_SELF, 0,
	    "abort() and the SIGSYS handler signal only ourselves"),
	SB_ALLOW(getuid, "libevent's setuid check"),
	SB_ALLOW(geteuid, "libevent's setuid check"),
	SB_ALLOW(getgid, "libevent's setuid check"),
	SB_ALLOW(getegid, "libevent's setuid check"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GETFL, 0, "non-blocking fds"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_SETFL, 0, "non-blocking fds"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GETFD, 0, "close-on-exec"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_SETFD, 0, "close-on-exec"),
	SB_ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, FIONREAD, 0,
	    "evbuffer_read sizes its read"),
	SB_ALLOW(fstat, "stdio on the /dev/null descriptors"),
	SB_ALLOW(newfstatat, "stdio on the /dev/null descriptors"),
	SB_ALLOW(exit, "the way out"),
	SB_ALLOW(exit_group, "the way out"),
	/* Probes by libc or OpenSSL fail; the root is empty anyway. */
	SB_DENY(openat, EACCES, "file probes fail instead of killing"),
	SB_DENY(open, EACCES, "file probes fail instead of killing"),
};

const struct sb_profile profile_common = {
	"common", rules, SB_NRULES(rules)
};
