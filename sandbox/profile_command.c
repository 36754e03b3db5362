/*
 * Seccomp rules for the program a command agent runs (agents[].command):
 * loaded in the forked child just before execve, so they bind the
 * interpreter for its whole life.  They permit what a script interpreter
 * (python3, sh) needs to start and to run a JSON-lines loop: loading
 * shared objects and modules, memory, threads, pipes, sockets of the
 * Internet families (an agent may call a model API itself) and the clock.
 * They refuse what no agent needs: ptrace, mount and namespaces, setuid
 * and friends, kernel modules, bpf, keyrings, reboot, kill of other
 * processes, fork of new processes.  This is an allowlist; the default
 * is to kill the process, and the agent worker then exits and is
 * restarted by the supervisor.
 *
 * execve stays allowed after the first one: seccomp cannot see a path,
 * and Landlock's execute right would not help (the dynamic loader must
 * stay executable, and it runs any readable ELF through mmap).  A
 * re-exec gains nothing, though: the new image keeps this filter, the
 * uid, no_new_privs, the rlimits and the fds, and still cannot fork, so
 * it can do no more than the interpreter it replaced.  Hiding the other
 * programs (a mount namespace with only the interpreter's files) would
 * shrink what it can read, not what it can do.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <sched.h>
#include <termios.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	SB_ALLOW(execve, "the one exec of the configured program"),
	SB_ALLOW(read, "stdin, files"),
	SB_ALLOW(write, "stdout, stderr"),
	SB_ALLOW(readv, "stdio"),
	SB_ALLOW(writev, "stdio"),
	SB_ALLOW(pread64, "the dynamic loader"),
	SB_ALLOW(openat, "the loader, modules, config files"),
	SB_ALLOW(open, "the loader on older libcs"),
	SB_ALLOW(close, "files"),
	SB_ALLOW(close_range, "interpreters closing inherited fds"),
	SB_ALLOW(fstat, "files"),
	SB_ALLOW(newfstatat, "files"),
	SB_ALLOW(stat, "files"),
	SB_ALLOW(lstat, "files"),
	SB_ALLOW(statx, "files"),
	SB_ALLOW(access, "the loader"),
	SB_ALLOW(faccessat, "the loader"),
	SB_ALLOW(faccessat2, "the loader"),
	SB_ALLOW(readlink, "interpreters find their own path"),
	SB_ALLOW(readlinkat, "interpreters find their own path"),
	SB_ALLOW(getcwd, "interpreters"),
	SB_ALLOW(getdents64, "module search"),
	SB_ALLOW(lseek, "files"),
	SB_ALLOW(fcntl, "fd flags"),
	SB_ALLOW(dup, "stdio"),
	SB_ALLOW(dup2, "stdio"),
	SB_ALLOW(dup3, "stdio"),
	SB_ALLOW(pipe, "shells"),
	SB_ALLOW(pipe2, "shells and event loops"),
	SB_ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, TCGETS, 0,
	    "isatty() on stdio"),
	SB_ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, FIONREAD, 0, "buffered reads"),
	SB_ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, FIOCLEX, 0, "close-on-exec"),
	SB_ALLOW(brk, "malloc"),
	SB_ALLOW(mmap, "malloc and the loader (executable mappings)"),
	SB_ALLOW(mprotect, "the loader (RELRO)"),
	SB_ALLOW(munmap, "free"),
	SB_ALLOW(mremap, "realloc"),
	SB_ALLOW(madvise, "free returns memory"),
	SB_ALLOW(arch_prctl, "the loader sets up TLS"),
	SB_ALLOW(set_tid_address, "libc start-up"),
	SB_ALLOW(set_robust_list, "libc start-up and threads"),
	SB_ALLOW(rseq, "libc start-up"),
	SB_ALLOW(prlimit64, "interpreters read their stack limit"),
	SB_ALLOW(getrlimit, "interpreters read their stack limit"),
	SB_ALLOW(sysinfo, "interpreters size their heaps"),
	SB_ALLOW(uname, "platform checks"),
	SB_ALLOW(getrandom, "hash seeds"),
	SB_ALLOW(futex, "locks"),
	SB_ALLOW(sched_getaffinity, "CPU count"),
	SB_ALLOW(sched_yield, "locks"),
	SB_ALLOW_ARG(clone, 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
	    CLONE_THREAD, "threads only, never a new process"),
	SB_DENY(clone3, ENOSYS, "glibc falls back to clone, checked above"),
	SB_DENY(fork, EPERM, "no new processes"),
	SB_DENY(vfork, EPERM, "no new processes"),
	SB_ALLOW(wait4, "reaping a thread-less child never started"),
	SB_ALLOW(exit, "threads end"),
	SB_ALLOW(exit_group, "the way out"),
	SB_ALLOW(rt_sigaction, "interpreters install handlers"),
	SB_ALLOW(rt_sigprocmask, "signal masks"),
	SB_ALLOW(rt_sigreturn, "returning from handlers"),
	SB_ALLOW(sigaltstack, "interpreters' fault handlers"),
	SB_ALLOW(restart_syscall, "interrupted calls"),
	SB_ALLOW(getpid, "interpreters"),
	SB_ALLOW(gettid, "interpreters"),
	SB_ALLOW(getppid, "interpreters"),
	SB_ALLOW_ARG(kill, 0, SCMP_CMP_EQ, 0, 0,
	    "signals to its own process group only"),
	SB_ALLOW(tgkill, "abort() and raise() in its own threads"),
	SB_ALLOW(getuid, "interpreters"),
	SB_ALLOW(geteuid, "interpreters"),
	SB_ALLOW(getgid, "interpreters"),
	SB_ALLOW(getegid, "interpreters"),
	SB_ALLOW(getgroups, "interpreters"),
	SB_ALLOW(clock_gettime, "time"),
	SB_ALLOW(clock_getres, "time"),
	SB_ALLOW(gettimeofday, "time"),
	SB_ALLOW(clock_nanosleep, "sleep"),
	SB_ALLOW(nanosleep, "sleep"),
	SB_ALLOW(poll, "event loops"),
	SB_ALLOW(ppoll, "event loops"),
	SB_ALLOW(select, "event loops"),
	SB_ALLOW(pselect6, "event loops"),
	SB_ALLOW(epoll_create1, "event loops"),
	SB_ALLOW(epoll_ctl, "event loops"),
	SB_ALLOW(epoll_wait, "event loops"),
	SB_ALLOW(epoll_pwait, "event loops"),
	SB_ALLOW(eventfd2, "event loops"),
	SB_ALLOW_ARG(socket, 0, SCMP_CMP_EQ, AF_INET, 0,
	    "an agent may call a model API itself"),
	SB_ALLOW_ARG(socket, 0, SCMP_CMP_EQ, AF_INET6, 0,
	    "an agent may call a model API itself"),
	SB_ALLOW_ARG(socket, 0, SCMP_CMP_EQ, AF_UNIX, 0,
	    "the resolver's nscd probe; fails without nscd"),
	SB_ALLOW(socketpair, "event loops"),
	SB_ALLOW(connect, "dialling out"),
	SB_ALLOW(getsockopt, "sockets"),
	SB_ALLOW(setsockopt, "sockets"),
	SB_ALLOW(getsockname, "sockets"),
	SB_ALLOW(getpeername, "sockets"),
	SB_ALLOW(sendto, "sockets"),
	SB_ALLOW(recvfrom, "sockets"),
	SB_ALLOW(sendmsg, "sockets"),
	SB_ALLOW(recvmsg, "sockets"),
	SB_ALLOW(sendmmsg, "the resolver"),
	SB_ALLOW(shutdown, "sockets"),
	SB_ALLOW(bind, "the resolver binds its UDP socket"),
	SB_ALLOW(umask, "interpreters"),
	SB_ALLOW(getpgrp, "shells"),
	SB_ALLOW(setpgid, "shells"),
	SB_DENY(mkdir, EACCES, "no writes to the host: __pycache__"),
	SB_DENY(mkdirat, EACCES, "no writes to the host: __pycache__"),
	SB_DENY(unlink, EACCES, "no writes to the host"),
	SB_DENY(unlinkat, EACCES, "no writes to the host"),
	SB_DENY(rename, EACCES, "no writes to the host"),
	SB_DENY(chmod, EACCES, "no writes to the host"),
};

const struct sb_profile profile_command_child = {
	"command-child", rules, SB_NRULES(rules)
};
