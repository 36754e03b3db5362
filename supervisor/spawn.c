/*
 * Birth of workers (in the root parent): socketpair, fork, re-exec of
 * wxgated in worker mode, the config frame written straight into the
 * new socket, then the socket's other end handed to the hub.  The role,
 * kind, name and generation are set here, with the socket, and nothing
 * a worker sends can change them.
 *
 * Births are paced: at most SPAWN_BURST per SPAWN_INTERVAL_MS.  A worker
 * over the budget gets the next free slot, so a thousand accounts log in
 * over about ten seconds instead of forking a thousand processes in one
 * loop turn, which would starve the hub's heartbeats and hit the
 * platform with a thousand logins at once (issue #13).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "clock.h"
#include "wire.h"
#include "plan.h"
#include "kinds.h"
#include "log.h"
#include "sandbox_conf.h"
#include "sup.h"
#include "xmalloc.h"

/* Big enough for one IPC_FRAME_MAX frame plus headroom. */
#define SPAWN_SNDBUF	(512 * 1024)
/*
 * A start costs this box (2 cores) about 8 ms of CPU: 100 a second
 * leaves the hub and the running workers most of it.
 */
#define SPAWN_BURST		10
#define SPAWN_INTERVAL_MS	100

/* A birth waiting for its slot: the worker by name, not by pointer. */
struct spawn_wait {
	char		 name[IPC_NAME_MAX + 1];
	uint64_t	 gen;
	enum w_state	 state;
};

static void	spawn_grace_cb(evutil_socket_t, short, void *);
static int	spawn_now(struct worker *);
static void	spawn_wait_cb(evutil_socket_t, short, void *);

/* The current pacing window and the births given slots in it. */
static uint64_t	 spawn_window_ms;
static unsigned	 spawn_taken;

struct worker *
spawn_new(const char *kind, const char *id, int role, const char *conf)
{
	struct worker *w;

	w = xcalloc(1, sizeof(*w));
	snprintf(w->kind, sizeof(w->kind), "%s", kind);
	snprintf(w->id, sizeof(w->id), "%s", id);
	snprintf(w->name, sizeof(w->name), "%s.%s", kind, id);
	w->role = role;
	w->conf = xstrdup(conf);
	w->pid = -1;
	w->hubfd = -1;
	w->state = W_STOPPED;
	TAILQ_INSERT_TAIL(&sup->workers, w, entry);
	return w;
}

/*
 * In a forked child: become a process of ours at IPC_FD, with nothing of
 * the parent's environment but what the list keeps (api_key_env's keys
 * stay here), and exec "wxgated [-d] -x spec -u creds [-s store]": the
 * -u argument says who it drops to, read before anything else it is
 * given (sandbox/creds_parse.c); only the hub has a store.  Never returns.
 */
void
spawn_exec(const char *exe, int fd, const char *spec, uid_t uid, gid_t gid,
    int strict, const char *store)
{
	struct sandbox_conf sc = { uid, gid, strict, sup->sandbox_log };
	char creds[SB_CONF_ARG_MAX], *argv[9];
	int a = 0;
	static const char *const keep[] = { "ASAN_OPTIONS", "UBSAN_OPTIONS",
	    "LSAN_OPTIONS", "TZ", "http_proxy", "https_proxy", "HTTPS_PROXY",
	    "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY", "SSL_CERT_FILE",
	    "SSL_CERT_DIR", NULL };
	char *envp[sizeof(keep) / sizeof(keep[0])];
	const char *v;
	sigset_t set;
	size_t i, n = 0;

	/* It never outlives the parent (vsftpd does the same). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() == 1)
		_exit(127);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if (fd != IPC_FD) {
		if (dup2(fd, IPC_FD) == -1)
			_exit(127);
	} else if (fcntl(fd, F_SETFD, 0) == -1)
		_exit(127);
	for (i = 0; keep[i] != NULL; i++)
		if ((v = getenv(keep[i])) != NULL &&
		    asprintf(&envp[n], "%s=%s", keep[i], v) != -1)
			n++;
	envp[n] = NULL;
	sandbox_conf_format(&sc, creds, sizeof(creds));
	argv[a++] = "wxgated";
	if (sup->verbose >= LOG_LVL_DEBUG)
		argv[a++] = "-d";
	argv[a++] = "-x";
	argv[a++] = (char *)(uintptr_t)spec;
	argv[a++] = "-u";
	argv[a++] = creds;
	if (store != NULL) {
		argv[a++] = "-s";
		argv[a++] = (char *)(uintptr_t)store;
	}
	argv[a] = NULL;
	execve(exe, argv, envp);
	_exit(127);
}

/* The program a kind's workers run: wxgate-light for the light kinds. */
const char *
spawn_prog(const char *kind)
{
	const struct kind *k = kinds_find(kind);

	return k != NULL && (k->flags & K_F_LIGHT) ? sup->exe_light : sup->exe;
}

static void
spawn_child(struct worker *w, int fd)
{
	char spec[2 * IPC_NAME_MAX + 2];

	snprintf(spec, sizeof(spec), "%s:%s", w->kind, w->id);
	spawn_exec(spawn_prog(w->kind), fd, spec, sup->sb_uid, sup->sb_gid,
	    sup->plan->strict, NULL);
}

/* One frame, written before anyone else holds the socket. */
static int
spawn_put(int fd, uint32_t type, const void *body, int pass)
{
	static uint8_t buf[IPC_FRAME_MAX];
	size_t len;
	int rv;

	if ((len = ipc_encode(type, 0, body, buf, sizeof(buf))) == 0)
		return -1;
	rv = ipc_send_raw(fd, buf, len, pass);
	/* A sup.config carries the worker's secrets: no copy stays here. */
	explicit_bzero(buf, len);
	return rv;
}

/*
 * Milliseconds from now to a birth slot of our own: windows follow each
 * other and hold SPAWN_BURST slots each; an idle spell starts a new one
 * now.
 */
static uint64_t
spawn_slot(void)
{
	uint64_t now = clock_mono_ms();

	if (now >= spawn_window_ms + SPAWN_INTERVAL_MS) {
		spawn_window_ms = now;
		spawn_taken = 0;
	} else if (spawn_taken >= SPAWN_BURST) {
		spawn_window_ms += SPAWN_INTERVAL_MS;
		spawn_taken = 0;
	}
	spawn_taken++;
	return spawn_window_ms > now ? spawn_window_ms - now : 0;
}

/*
 * Start w now or at its slot.  Born at once: an account the hub started
 * (parent_hub.c drops its slice right after this call) and a restart
 * after backoff (already spread by its timer; reap.c counts a failed
 * fork as a death, which needs the answer now).
 */
int
spawn_worker(struct worker *w)
{
	struct spawn_wait *sw;
	struct timeval tv;
	uint64_t ms;

	/*
	 * Stopping: no one would tell a worker born now to drain, and it
	 * would hold wxgated up (an operator's restart, or a SIGHUP, that
	 * comes during the drain).
	 */
	if (sup->stopping)
		return 0;
	if ((w->flags & W_F_RUNTIME) || w->state == W_BACKOFF ||
	    (ms = spawn_slot()) == 0)
		return spawn_now(w);
	sw = xcalloc(1, sizeof(*sw));
	snprintf(sw->name, sizeof(sw->name), "%s", w->name);
	sw->gen = w->gen;
	sw->state = w->state;
	tv = clock_tv(ms);
	if (event_base_once(sup->base, -1, EV_TIMEOUT, spawn_wait_cb, sw,
	    &tv) == -1)
		fatalx("%s: timer", __func__);
	return 0;
}

/*
 * A slot came: start the worker unless something else happened to it
 * meanwhile (started, stopped, removed, or the daemon stopping).
 */
static void
spawn_wait_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct spawn_wait *sw = arg;
	struct worker *w;

	(void)fd;
	(void)ev;
	/* One draining away under the same name is not this one. */
	TAILQ_FOREACH(w, &sup->workers, entry)
		if (strcmp(w->name, sw->name) == 0 &&
		    !(w->flags & W_F_REMOVE))
			break;
	if (!sup->stopping && w != NULL && w->pid == -1 &&
	    w->gen == sw->gen && w->state == sw->state)
		spawn_now(w);
	free(sw);
}

static int
spawn_now(struct worker *w)
{
	struct ipc_body_config cb;
	struct ipc_body_empty eb = { 0 };
	const struct kind *k;
	int sv[2], sz = SPAWN_SNDBUF, lfd;
	pid_t pid;

	/* Paused by the hub (parent_hub.c): stays down until resumed. */
	if (w->flags & W_F_PAUSED) {
		w->state = W_STOPPED;
		parent_hub_worker(w);
		return 0;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("%s: socketpair", __func__);
		return -1;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	/* From the kind's zygote if it has one, else fork and exec. */
	if ((pid = zygote_fork(w, sv[1])) == -1 && (pid = fork()) == 0) {
		close(sv[0]);
		spawn_child(w, sv[1]);
		/* NOTREACHED */
	}
	if (pid == -1) {
		log_warn("%s: fork", __func__);
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	close(sv[1]);
	w->pid = pid;
	w->gen++;
	w->flags &= ~(W_F_HELLO | W_F_RESPAWN);
	w->state = W_STARTING;
	w->kill_why[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &w->started);
	w->violation = -1;
	w->hubfd = sv[0];

	memset(&cb, 0, sizeof(cb));
	cb.name = ipc_s(w->name);
	cb.kind = ipc_s(w->kind);
	cb.verbose = (uint64_t)sup->verbose;
	cb.conf = ipc_s(w->conf);
	if (spawn_put(w->hubfd, IPC_SUP_CONFIG, &cb, -1) == -1) {
		reap_kill(w, "config frame could not be sent");
		return -1;
	}
	if ((k = kinds_find(w->kind)) != NULL && (k->flags & K_F_LISTEN) &&
	    spawn_put(w->hubfd, IPC_SUP_LISTEN_FD, &eb, sup->listen_fd) == -1) {
		reap_kill(w, "listening socket could not be passed");
		return -1;
	}
	/* A relay agent listens too; other agents have no address. */
	if (k != NULL && ((k->flags & K_F_OWN_LISTEN) ||
	    ((k->flags & K_F_MAY_LISTEN) &&
	    listener_addr(w->kind, w->id) != NULL)) &&
	    ((lfd = listener_fd(w->kind, w->id)) == -1 ||
	    spawn_put(w->hubfd, IPC_SUP_LISTEN_FD, &eb, lfd) == -1)) {
		reap_kill(w, "its own listening socket could not be "
		    "passed");
		return -1;
	}
	parent_hub_attach(w);
	log_info("worker %s started, pid %d", w->name, (int)pid);
	return 0;
}

/* Ask a worker to drain and exit; reap.c escalates after the grace time. */
void
spawn_shutdown(struct worker *w)
{
	struct timeval tv;

	if (w->state != W_STARTING && w->state != W_RUNNING) {
		if (w->state == W_BACKOFF || w->state == W_FAILED) {
			if (w->restart_ev != NULL)
				event_del(w->restart_ev);
			w->state = W_STOPPED;
		}
		return;
	}
	w->state = W_STOPPING;
	/* The hub asks it to drain; the deadline is ours. */
	if (w->grace_ev == NULL &&
	    (w->grace_ev = evtimer_new(sup->base, spawn_grace_cb, w)) == NULL)
		fatalx("%s: timer", __func__);
	tv = clock_tv(sup->plan->shutdown_grace_ms);
	evtimer_add(w->grace_ev, &tv);
	if (parent_hub_alive())
		parent_hub_drain(w);
	else
		reap_kill(w, "no hub to tell it to drain");
	parent_hub_worker(w);
}

static void
spawn_grace_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)ev;
	if (w->state == W_STOPPING)
		reap_kill(w, "did not stop within the grace period");
}

/* Operator restart: drain it, then respawn without backoff. */
void
spawn_restart(struct worker *w)
{
	w->flags |= W_F_RESPAWN;
	w->ndeaths = 0;
	w->backoff_ms = 0;
	switch (w->state) {
	case W_STARTING:
	case W_RUNNING:
		spawn_shutdown(w);
		break;
	case W_STOPPING:
		break;
	default:
		if (w->restart_ev != NULL)
			event_del(w->restart_ev);
		w->restarts++;
		spawn_worker(w);
	}
}
