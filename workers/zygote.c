/*
 * A kind's zygote: "wxgated -x zygote:KIND", exec'd by the root parent
 * like any worker and dropped to the sandbox user at once, that starts
 * every worker of its kind by forking instead of exec'ing.  The pages a
 * worker would otherwise build for itself (the libraries' relocations,
 * OpenSSL's and libcurl's global state) are the zygote's, shared by its
 * children until one writes them: that is most of an idle account's
 * memory (docs/architecture.md, "Accounts at scale").
 *
 * What it holds and does, and why each is safe:
 *  - No secret: a child's slice arrives after the fork, from the parent,
 *    over the child's own socket (worker_config).  The zygote never
 *    sees a frame of the hub, a worker or the network: its only input
 *    is zygote.fork from the root parent, which made the socket it
 *    passes and fixed its role.
 *  - Each child is cloned with CLONE_PARENT, so it is the root parent's
 *    child (reaped, killed and heartbeat-checked exactly as an exec'd
 *    worker), dies with it (PR_SET_PDEATHSIG, set after the clone), and
 *    builds its own namespaces, Landlock and seccomp filter as any
 *    worker does (sandbox_confine).
 *  - Children share the zygote's address-space layout: an address one
 *    leaks is valid in its siblings.  The parent bounds that by retiring
 *    a zygote after ZYGOTE_FORKS_MAX forks (supervisor/zygote.c).
 */
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "log.h"
#include "sandbox.h"
#include "wire.h"
#include "wire_blocking.h"
#include "worker.h"

/*
 * What no worker forked from a zygote ever calls: forbidden in the
 * zygote, and so in every child under the child's own allowlist.
 */
static const char *const zygote_denied[] = {
	"ptrace", "process_vm_readv", "process_vm_writev", "kexec_load",
	"kexec_file_load", "init_module", "finit_module", "delete_module",
	"bpf", "perf_event_open", "keyctl", "add_key", "request_key",
	"userfaultfd", "acct", "swapon", "swapoff", "reboot",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"open_by_handle_at", "name_to_handle_at", "iopl", "ioperm",
	"quotactl", "lookup_dcookie", "fanotify_init", "syslog", "vhangup",
	NULL
};

#ifdef WX_TEST_HOOKS
/* Tests: SIGUSR1 makes the zygote call what it forbids itself. */
static void
zygote_test_syscall(int sig)
{
	(void)sig;
	syscall(SYS_ptrace, 0 /* PTRACE_TRACEME */, 0, NULL, NULL);
}

/*
 * Tests: SIGUSR2 queued with a pid makes the next fork a lie: no child,
 * and that pid as the answer, as a compromised zygote would give.
 */
static volatile sig_atomic_t	zygote_test_lie;

static void
zygote_test_pid(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	zygote_test_lie = si->si_value.sival_int;
}
#endif

/* The child: the socket it was given becomes its IPC_FD. */
static int
zygote_child(int fd, pid_t parent, const struct ipc_str *name,
    char *spec, size_t speclen, struct worker_start *ws)
{
	char *dot;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(127);
	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	if (dup2(fd, IPC_FD) == -1)
		_exit(127);
	close(fd);
	worker_reparented(parent);
	/*
	 * "kind.id" as "kind:id" over the zygote's own spec in argv, so
	 * ps and /proc/PID/cmdline name the worker as an exec'd one's do.
	 */
	memset(spec, '\0', speclen);
	snprintf(spec, speclen, "%.*s", (int)name->len, name->p);
	if ((dot = strchr(spec, '.')) != NULL)
		*dot = ':';
	log_procinit(spec);
	return worker_run(spec, ws);
}

int
zygote_main(const char *spec, const char *creds, int verbose)
{
	static uint8_t buf[IPC_FRAME_MAX];
	struct worker_start ws;
	struct ipc_body_seq reply;
	struct ipc_msg m;
	enum ipc_err err;
	const struct wk_kind *k;
	char kname[IPC_NAME_MAX + 1], kspec[IPC_NAME_MAX + 2];
	char *argspec = (char *)spec;
	size_t speclen = strlen(spec);
	pid_t parent, pid;

	/* "zygote:KIND" and the padding the children's names go into. */
	if (strncmp(spec, "zygote:", 7) != 0)
		fatalx("bad zygote spec");
	snprintf(kname, sizeof(kname), "%.*s", (int)strcspn(spec + 7, " "),
	    spec + 7);
	snprintf(kspec, sizeof(kspec), "%s:", kname);
	worker_begin(kspec, creds, verbose, &ws, 1);
	if ((k = worker_kind_find(kname)) != NULL && k->zygote_init != NULL &&
	    k->zygote_init() == -1)
		fatalx("zygote %s: its set-up failed", kname);
	/* Nothing it starts may gain a privilege by exec. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("PR_SET_NO_NEW_PRIVS");
	if (sandbox_seccomp_deny(zygote_denied) == -1)
		fatalx("zygote %s: its seccomp filter could not be loaded",
		    kname);
#ifdef WX_TEST_HOOKS
	signal(SIGUSR1, zygote_test_syscall);
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = zygote_test_pid;
		sa.sa_flags = SA_SIGINFO;
		sigaction(SIGUSR2, &sa, NULL);
	}
#endif
	parent = getppid();
	for (;;) {
		if (ipc_recv_blocking(IPC_FD, buf, sizeof(buf), &m, &err) == -1)
			_exit(0);	/* the parent closed it, or is gone */
		if (m.type != IPC_ZYGOTE_FORK || m.fd == -1 ||
		    m.b.text.text.len == 0 ||
		    m.b.text.text.len > IPC_NAME_MAX)
			fatalx("zygote: bad frame %s", ipc_type_name(m.type));
#ifdef WX_TEST_HOOKS
		if (zygote_test_lie > 0) {
			close(m.fd);
			reply.seq = (uint64_t)zygote_test_lie;
			zygote_test_lie = 0;
			if (ipc_send_blocking(IPC_FD, IPC_ZYGOTE_PID, 0,
			    &reply) == -1)
				_exit(0);
			continue;
		}
#endif
		/* Like fork(2), but the child is the root parent's. */
		pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0,
		    NULL, NULL, 0);
		if (pid == 0)
			_exit(zygote_child(m.fd, parent, &m.b.text.text,
			    argspec, speclen + 1, &ws));
		close(m.fd);
		reply.seq = pid == -1 ? 0 : (uint64_t)pid;
		if (ipc_send_blocking(IPC_FD, IPC_ZYGOTE_PID, 0, &reply) == -1)
			_exit(0);
	}
}
