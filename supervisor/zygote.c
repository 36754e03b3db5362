/*
 * The root parent's side of the zygotes (workers/zygote.c): one per
 * kind whose row says K_F_ZYGOTE, started on that kind's first birth.
 * A birth hands the zygote the child's end of the socket the parent
 * made (the role is fixed here, as for any worker) and reads back the
 * pid of the child, which is the parent's own child (CLONE_PARENT).
 * The parent then writes the slice into its end as for an exec'd
 * worker: the zygote never holds a slice.
 *
 * A zygote that fails to answer within ZYGOTE_WAIT_MS, or dies, is
 * dropped and the birth falls back to fork and exec: a zygote is a
 * saving, never a dependency.  After ZYGOTE_FORKS_MAX forks a zygote
 * is retired and the next birth starts a fresh one, so no more than
 * that many workers share one address-space layout.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "kinds.h"
#include "log.h"
#include "plan.h"
#include "sup.h"
#include "wire.h"

#define ZYGOTE_MAX		4	/* kinds with a zygote at once */
#define ZYGOTE_FORKS_MAX	64
/* Its first answer includes its exec and start; later ones a fork. */
#define ZYGOTE_WAIT_MS		5000
/* A wait this long counts as the parent's loop standing still. */
#define ZYGOTE_STILL_MS		1000
/* argv room for "kind:id" of the children, written over the spec. */
#define ZYGOTE_SPEC_LEN		(2 * IPC_NAME_MAX + 2)

struct zygote {
	char		 kind[IPC_NAME_MAX + 1];
	pid_t		 pid;		/* -1: none */
	int		 fd;
	unsigned	 forks;
};

static struct zygote	zygotes[ZYGOTE_MAX];

/* Forget it; closing its socket ends it (it reads EOF). */
static void
zygote_drop(struct zygote *z, const char *why)
{
	if (z->fd == -1)
		return;
	if (why != NULL) {
		log_warnx("zygote %s (pid %d): %s; starting workers by exec",
		    z->kind, (int)z->pid, why);
		kill(z->pid, SIGKILL);
	}
	close(z->fd);
	z->fd = -1;
	z->kind[0] = '\0';
}

static int
zygote_start(struct zygote *z, const char *kind)
{
	char spec[ZYGOTE_SPEC_LEN + 1];
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("%s: socketpair", __func__);
		return -1;
	}
	/* Padded: its children write their own names over it. */
	memset(spec, ' ', ZYGOTE_SPEC_LEN);
	spec[ZYGOTE_SPEC_LEN] = '\0';
	memcpy(spec, "zygote:", 7);
	memcpy(spec + 7, kind, strlen(kind));
	switch (pid = fork()) {
	case -1:
		log_warn("%s: fork", __func__);
		close(sv[0]);
		close(sv[1]);
		return -1;
	case 0:
		close(sv[0]);
		spawn_exec(spawn_prog(kind), sv[1], spec, sup->sb_uid,
		    sup->sb_gid, sup->plan->strict, NULL);
		/* NOTREACHED */
	}
	close(sv[1]);
	snprintf(z->kind, sizeof(z->kind), "%s", kind);
	z->pid = pid;
	z->fd = sv[0];
	z->forks = 0;
	log_info("zygote %s started, pid %d", kind, (int)pid);
	return 0;
}

static struct zygote *
zygote_get(const char *kind)
{
	struct zygote *z, *free_z = NULL;
	size_t i;

	for (i = 0; i < ZYGOTE_MAX; i++) {
		z = &zygotes[i];
		if (z->fd != -1 && strcmp(z->kind, kind) == 0) {
			if (z->forks < ZYGOTE_FORKS_MAX)
				return z;
			log_info("zygote %s (pid %d) retired after %u forks",
			    kind, (int)z->pid, z->forks);
			zygote_drop(z, NULL);
		}
		if (z->fd == -1 && free_z == NULL)
			free_z = z;
	}
	if (free_z == NULL || zygote_start(free_z, kind) == -1)
		return NULL;
	return free_z;
}

/* Blocking, bounded: one frame from the zygote, or -1. */
static int
zygote_read(struct zygote *z, struct ipc_msg *m, uint8_t *buf, size_t len)
{
	struct pollfd pfd = { z->fd, POLLIN, 0 };
	uint64_t since = clock_mono_ms();
	enum ipc_err err;
	int n;

	do
		n = poll(&pfd, 1, ZYGOTE_WAIT_MS);
	while (n == -1 && errno == EINTR);
	/* The loop stood still that long: the hub's pong is unread, not
	 * late (CI saw a hung zygote's 5 s get the hub killed). */
	if (clock_mono_ms() - since >= ZYGOTE_STILL_MS)
		parent_hub_waited();
	if (n != 1 || !(pfd.revents & POLLIN))
		return -1;
	if (ipc_recv_blocking(z->fd, buf, len, m, &err) == -1)
		return -1;
	if (m->fd != -1) {
		close(m->fd);
		return -1;
	}
	return 0;
}

/*
 * The zygote runs as the sandbox user: the pid it answers is a claim.
 * Only a child of ours (CLONE_PARENT) that is no other process we know
 * can be the new worker; any other pid would be one root kills later.
 */
static int
zygote_pid_ok(pid_t pid)
{
	siginfo_t si;
	size_t i;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == -1)
		return 0;
	if (parent_hub_is(pid))
		return 0;
	for (i = 0; i < ZYGOTE_MAX; i++)
		if (zygotes[i].pid == pid)
			return 0;
	return spawn_find_pid(pid) == NULL;
}

/*
 * Fork w from its kind's zygote with fd as its socket: the child's pid,
 * or -1 when w's kind has none (or it failed): then fork and exec.
 */
pid_t
zygote_fork(const struct worker *w, int fd)
{
	static uint8_t buf[1024], out[IPC_NAME_MAX + 64];
	const struct kind *k = kinds_find(w->kind);
	struct ipc_body_text b;
	struct zygote *z;
	struct ipc_msg m;
	size_t len;

	if (k == NULL || !(k->flags & K_F_ZYGOTE) || !sup->plan->zygote ||
	    (z = zygote_get(w->kind)) == NULL)
		return -1;
	b.text = ipc_s(w->name);
	if ((len = ipc_encode(IPC_ZYGOTE_FORK, 0, &b, out, sizeof(out))) ==
	    0 || ipc_send_raw(z->fd, out, len, fd) == -1) {
		zygote_drop(z, "it does not take a fork request");
		return -1;
	}
	if (zygote_read(z, &m, buf, sizeof(buf)) == -1 ||
	    m.type != IPC_ZYGOTE_PID) {
		zygote_drop(z, "no answer");
		return -1;
	}
	if (m.b.seq.seq <= 1 || m.b.seq.seq > (uint64_t)INT32_MAX) {
		zygote_drop(z, "it could not fork");
		return -1;
	}
	if (!zygote_pid_ok((pid_t)m.b.seq.seq)) {
		zygote_drop(z, "it named a process that is not its child");
		return -1;
	}
	z->forks++;
	return (pid_t)m.b.seq.seq;
}

/* reap.c: 1 if pid was a zygote (whose children live on). */
int
zygote_died(pid_t pid, int status)
{
	size_t i;

	for (i = 0; i < ZYGOTE_MAX; i++)
		if (zygotes[i].pid == pid) {
			if (zygotes[i].fd != -1)
				log_warnx("zygote %s (pid %d) died (%s); the "
				    "next birth starts another", zygotes[i].kind,
				    (int)pid, WIFSIGNALED(status) ?
				    strsignal(WTERMSIG(status)) : "exit");
			zygote_drop(&zygotes[i], NULL);
			zygotes[i].pid = -1;
			return 1;
		}
	return 0;
}

void
zygote_init(void)
{
	size_t i;

	for (i = 0; i < ZYGOTE_MAX; i++) {
		zygotes[i].fd = -1;
		zygotes[i].pid = -1;
	}
}

/* Stopping: no more births; each zygote reads EOF and exits. */
void
zygote_stop(void)
{
	size_t i;

	for (i = 0; i < ZYGOTE_MAX; i++)
		zygote_drop(&zygotes[i], NULL);
}
