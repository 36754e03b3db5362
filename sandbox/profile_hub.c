/*
 * Seccomp rules for the hub, the parent's unprivileged half: a libevent
 * loop over SOCK_SEQPACKET links to the parent and the workers (fds
 * arrive by SCM_RIGHTS), the control socket the parent listens on and
 * hands over, and the store: SQLite in WAL mode on files in its state
 * directory, with one checkpointer thread holding its own connection
 * (supervisor/store*.c).
 *
 * Files are opened freely here: which files is for the other layers,
 * the empty root with only the state directory bound in (ns.c) and
 * Landlock (landlock.c).  The file calls are those of SQLite's unix VFS
 * (os_unix.c, aSyscall[]) and store.c, none of its locking by dot-files
 * or flock.  No socket, socketpair, connect, bind or listen: the hub
 * only accepts on the socket it was handed, so the listener must be
 * made with backlog 0 (evconnlistener_new would call listen again).
 * No new processes, no exec, no ids, no mounts: clone only as a thread.
 */
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <termios.h>

#include "profile.h"

static const struct sb_rule rules[] = {
	/* The store's files; the common profile refuses openat. */
	SB_ALLOW(openat, "the database, -wal, -shm and the directory sync"),
	SB_ALLOW(statx, "file sizes and modes, should libc use it"),
	SB_ALLOW(lseek, "SQLite's unix VFS"),
	SB_ALLOW(pread64, "database and WAL pages"),
	SB_ALLOW(pwrite64, "database and WAL pages"),
	SB_ALLOW(fsync, "syncing the state directory after a new WAL"),
	SB_ALLOW(fdatasync, "checkpoints sync the database and WAL"),
	SB_ALLOW(ftruncate, "WAL restarts, -shm set-up"),
	SB_ALLOW(fallocate, "SQLite's size hints"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GETLK, 0,
	    "SQLite's POSIX locks"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_SETLK, 0,
	    "SQLite's POSIX locks"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_SETLKW, 0,
	    "SQLite's POSIX locks"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_DUPFD_CLOEXEC, 0,
	    "duplicating a handed fd"),
	SB_ALLOW(unlink, "SQLite deletes its journals"),
	SB_ALLOW(unlinkat, "SQLite deletes its journals"),
	SB_ALLOW(access, "SQLite checks for a journal"),
	SB_ALLOW(faccessat, "SQLite checks for a journal"),
	SB_ALLOW(faccessat2, "SQLite checks for a journal"),
	SB_ALLOW(getcwd, "SQLite makes relative paths absolute"),
	SB_ALLOW(readlink, "SQLite resolves a database path's links"),
	SB_ALLOW(readlinkat, "SQLite resolves a database path's links"),
	SB_ALLOW(fchmod, "SQLite gives -wal and -shm the database's mode"),
	SB_ALLOW(chmod, "store.c makes a careless -wal or -shm 0600"),
	SB_ALLOW(fchmodat, "store.c makes a careless -wal or -shm 0600"),
	SB_ALLOW(umask, "store_open keeps what SQLite creates private"),

	/* The checkpointer thread; never a new process. */
	SB_ALLOW_ARG(clone, 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD,
	    CLONE_THREAD, "threads only, never a new process"),
	SB_DENY(clone3, ENOSYS, "glibc falls back to clone, checked above"),
	SB_ALLOW(set_robust_list, "every new thread"),
	SB_ALLOW(rseq, "every new thread"),
	SB_ALLOW(sched_yield, "lock contention between the threads"),
	SB_ALLOW(clock_nanosleep, "SQLite's busy wait"),
	SB_ALLOW(nanosleep, "SQLite's busy wait"),

	/* The event loop. */
	SB_ALLOW(eventfd2, "libevent's wake-up when made thread-aware"),
	SB_ALLOW_ARG(rt_sigaction, 0, SCMP_CMP_NE, SIGSYS, 0,
	    "evsignal handlers; never over the SIGSYS handler"),
	SB_ALLOW(sigaltstack, "signal stacks"),
	SB_ALLOW(getppid, "noticing the parent is gone"),
	SB_ALLOW(uname, "version strings"),
	SB_ALLOW_ARG(ioctl, 1, SCMP_CMP_EQ, TCGETS, 0,
	    "isatty() when log lines go to stderr without a log hook"),

	/* The handed control socket and its connections. */
	SB_ALLOW(accept4, "connections on the handed control socket"),
	SB_ALLOW(accept, "libevent's fallback without accept4"),
	SB_ALLOW_ARG(getsockopt, 1, SCMP_CMP_EQ, SOL_SOCKET, 0,
	    "SO_PEERCRED admits a control client; SO_ERROR"),
	SB_ALLOW_ARG(setsockopt, 1, SCMP_CMP_EQ, SOL_SOCKET, 0,
	    "socket options on the control socket and connections"),
	SB_ALLOW(shutdown, "closing a control connection"),

	/* wxgatectl send --file (channel.c, control_send.c). */
	SB_ALLOW(memfd_create, "an attachment's bytes for its worker"),
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_ADD_SEALS, 0,
	    "sealing that memfd before it goes"),
	/* inbound.media (channel_media.c). */
	SB_ALLOW_ARG(fcntl, 1, SCMP_CMP_EQ, F_GET_SEALS, 0,
	    "a channel worker's attachments are sealed, or refused"),
};

const struct sb_profile profile_hub = {
	"hub", rules, SB_NRULES(rules)
};
