/*
 * The hub, seen from the root parent: its process (start, liveness,
 * restart), what the parent tells it, and the few requests it may make.
 *
 * Liveness of workers is the hub's (heartbeat.c pings them over their
 * sockets and asks for a kill); liveness of the hub is ours: sup.ping
 * on this link, and SIGCHLD.  Workers have no socket to the parent at
 * all.  The parent keeps a duplicate of the hub's end of each worker's
 * socket and never reads it: when the hub dies, a new one is handed
 * the same sockets, and the frames a worker sent meanwhile are still
 * in them.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
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
#include "sup.h"
#include "xmalloc.h"

/* Frames to the hub: a worker table's worth of records, and some. */
#define HUB_QUEUE_MAX	65536

static struct {
	pid_t		 pid;
	struct wire	*wire;
	uint64_t	 ping_seq;
	uint64_t	 pong_seq;
	struct timespec	 last_seen;
	struct timespec	 started;
	struct event	*tick;
	struct event	*restart_ev;
	struct timespec	 deaths[W_DEATHS_MAX];
	unsigned	 ndeaths;
	int64_t		 violation;
	int		 stopping;	/* sup.shutdown sent */
	uint64_t	 starts;
} ph = { .pid = -1 };

static void	ph_msg(struct wire *, struct ipc_msg *, void *);
static void	ph_err(struct wire *, enum wire_ev, const char *, void *);
static void	ph_tick(evutil_socket_t, short, void *);
static void	ph_kill(const char *);

int
parent_hub_alive(void)
{
	return ph.pid > 0;
}

/* zygote.c: a pid a zygote names must not be the hub's. */
int
parent_hub_is(pid_t pid)
{
	return pid > 0 && pid == ph.pid;
}

/*
 * The parent's loop stood still (a reload waits for its configuration
 * reader, up to its deadline): the hub's pong may be unread, not late,
 * so its heartbeat clock starts again now.
 */
void
parent_hub_waited(void)
{
	if (ph.pid > 0)
		clock_gettime(CLOCK_MONOTONIC, &ph.last_seen);
}

static void
ph_send(uint32_t type, const void *body)
{
	if (ph.wire != NULL && wire_send(ph.wire, type, 0, body) == -1)
		ph_kill("its queue is full");
}

static void
ph_record(struct worker *w, struct ipc_body_hub_worker *b)
{
	memset(b, 0, sizeof(*b));
	b->name = ipc_s(w->name);
	b->kind = ipc_s(w->kind);
	b->id = ipc_s(w->id);
	b->role = (uint64_t)w->role;
	b->gen = w->gen;
	b->pid = w->pid > 0 ? (uint64_t)w->pid : 0;
	b->state = ipc_s(worker_state_name(w->state));
	b->uptime_ms = w->pid > 0 ? timespec_ms_since(&w->started) : 0;
	b->restarts = w->restarts;
	b->last_exit = ipc_s(w->last_exit);
	b->seccomp_kills = w->seccomp_kills;
}

void
parent_hub_worker(struct worker *w)
{
	struct ipc_body_hub_worker b;

	ph_record(w, &b);
	ph_send(IPC_HUB_WORKER, &b);
}

static void
ph_attach(struct worker *w, int resync)
{
	struct ipc_body_hub_worker b;
	int fd;

	if (ph.wire == NULL || w->hubfd == -1)
		return;
	if ((fd = fcntl(w->hubfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s: dup", __func__);
		reap_kill(w, "its socket could not be handed to the hub");
		return;
	}
	ph_record(w, &b);
	b.resync = resync;
	if (wire_send_fd(ph.wire, IPC_HUB_ATTACH, 0, &b, fd) == -1) {
		close(fd);
		reap_kill(w, "its socket could not be handed to the hub");
	}
}

void
parent_hub_attach(struct worker *w)
{
	ph_attach(w, 0);
}

void
parent_hub_detach(struct worker *w, const char *why)
{
	struct ipc_body_hub_ref b = { ipc_s(w->name), w->gen, ipc_s(why), 0 };

	ph_send(IPC_HUB_DETACH, &b);
}

void
parent_hub_drain(struct worker *w)
{
	struct ipc_body_hub_ref b = { ipc_s(w->name), w->gen, IPC_S(""), 0 };

	ph_send(IPC_HUB_DRAIN, &b);
}

/* The file's text, in parts; the hub parses it in its sandbox. */
void
parent_hub_config(void)
{
	struct ipc_body_hub_config b;
	size_t off = 0, n;

	do {
		n = sup->plan->textlen - off;
		if (n > IPC_CONFPART_MAX)
			n = IPC_CONFPART_MAX;
		b.part.p = sup->plan->text + off;
		b.part.len = n;
		off += n;
		b.last = off == sup->plan->textlen;
		b.verbose = (uint64_t)sup->verbose;
		ph_send(IPC_HUB_CONFIG, &b);
	} while (off < sup->plan->textlen);
}

void
parent_hub_stop(void)
{
	struct ipc_body_empty b = { 0 };

	if (ph.stopping || ph.wire == NULL)
		return;
	ph.stopping = 1;
	ph_send(IPC_SUP_SHUTDOWN, &b);
}

static void
ph_child(int fd)
{
	/* Only a hub that shares a store maps libpq and its TLS. */
	spawn_exec(sup->plan->store_pg ? sup->exe_hub_pg : sup->exe_hub, fd,
	    "hub:main", sup->hub_uid, sup->hub_gid, sup->plan->strict,
	    sup->plan->store);
}

void
parent_hub_start(void)
{
	struct ipc_body_empty eb = { 0 };
	struct ipc_body_store_secret sb;
	struct timeval tv;
	struct worker *w;
	int sv[2], fd, sz = 4 * 1024 * 1024;
	uint32_t ms = sup->plan->heartbeat_ms;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		fatal("%s: socketpair", __func__);
	/* The first hub.config and the attach records go out in one go. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	switch (ph.pid = fork()) {
	case -1:
		fatal("%s: fork", __func__);
	case 0:
		close(sv[0]);
		ph_child(sv[1]);
		/* NOTREACHED */
	}
	close(sv[1]);
	ph.starts++;
	ph.stopping = 0;
	ph.violation = -1;
	clock_gettime(CLOCK_MONOTONIC, &ph.started);
	ph.last_seen = ph.started;
	ph.pong_seq = ph.ping_seq;
	ph.wire = wire_new(sup->base, sv[0], HUB_QUEUE_MAX, ph_msg, ph_err,
	    NULL);
	/* The hub may never pass fds to the parent. */
	wire_set_fd_ok(ph.wire, 0);
	if (sup->plan->store_secret != NULL) {
		sb.secret = ipc_s(sup->plan->store_secret);
		ph_send(IPC_HUB_STORE_SECRET, &sb);
	}
	parent_hub_config();
	if ((fd = fcntl(sup->control_fd, F_DUPFD_CLOEXEC, 0)) == -1 ||
	    wire_send_fd(ph.wire, IPC_HUB_CONTROL_FD, 0, &eb, fd) == -1)
		fatal("%s: the control socket could not be passed", __func__);
	/* A second hub: it takes over the workers the first one served. */
	TAILQ_FOREACH(w, &sup->workers, entry) {
		if (w->hubfd != -1)
			ph_attach(w, ph.starts > 1);
		else
			parent_hub_worker(w);
	}
	if (ph.tick == NULL) {
		ph.tick = event_new(sup->base, -1, EV_PERSIST, ph_tick, NULL);
		tv = clock_tv(ms);
		if (ph.tick == NULL || event_add(ph.tick, &tv) == -1)
			fatalx("%s: timer", __func__);
	}
	log_info("hub started, pid %d (uid %u)", (int)ph.pid,
	    (unsigned)sup->hub_uid);
}

static void
ph_kill(const char *why)
{
	if (ph.pid <= 0)
		return;
	log_warnx("killing the hub (pid %d): %s", (int)ph.pid, why);
	kill(ph.pid, SIGKILL);
	wire_free(ph.wire);
	ph.wire = NULL;
}

/* Liveness, and the figures only we can read. */
static void
ph_tick(evutil_socket_t fd, short ev, void *arg)
{
	const struct plan *p = sup->plan;
	struct ipc_body_seq b;
	struct worker *w;

	(void)fd;
	(void)ev;
	(void)arg;
	if (ph.pid <= 0 || ph.wire == NULL)
		return;
	if (timespec_ms_since(&ph.last_seen) > (ph.stopping ?
	    p->shutdown_grace_ms : p->heartbeat_timeout_ms)) {
		ph_kill(ph.stopping ? "did not stop within the grace period" :
		    "heartbeat timeout");
		return;
	}
	if (ph.ping_seq == ph.pong_seq) {
		b.seq = ++ph.ping_seq;
		ph_send(IPC_SUP_PING, &b);
	}
	TAILQ_FOREACH(w, &sup->workers, entry)
		if (w->pid > 0)
			parent_hub_worker(w);
}

static void
ph_restart_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	if (!sup->stopping)
		parent_hub_start();
}

/*
 * SIGCHLD for the hub: restart it, unless it keeps dying, when nothing
 * can work and the whole daemon stops (its service manager decides).
 */
int
parent_hub_died(pid_t pid, int status)
{
	const struct plan *p = sup->plan;
	struct timeval tv;
	char cause[128];
	unsigned n;

	if (pid != ph.pid)
		return 0;
	ph.pid = -1;
	wire_free(ph.wire);
	ph.wire = NULL;
	reap_cause(status, ph.violation, "", cause, sizeof(cause));
	if (sup->stopping) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			log_info("hub stopped (%s)", cause);
		else {
			/* Its last commit may not have happened: say so. */
			log_warnx("hub stopped uncleanly (%s)", cause);
			sup->exit_status = 1;
		}
		return 1;
	}
	if ((n = reap_deaths(ph.deaths, &ph.ndeaths)) >= p->crashloop_count)
		fatalx("the hub died %u times in %us (%s): stopping", n,
		    p->crashloop_window_s, cause);
	log_warnx("hub (pid %d) %s: restarting it; workers keep running",
	    (int)pid, cause);
	if (ph.restart_ev == NULL &&
	    (ph.restart_ev = evtimer_new(sup->base, ph_restart_cb, NULL)) ==
	    NULL)
		fatalx("%s: timer", __func__);
	tv = clock_tv(p->restart_min_ms);
	evtimer_add(ph.restart_ev, &tv);
	return 1;
}

/*
 * An account the hub started again while its last worker still drains
 * has two entries of one name: a generation names one of them, and
 * without one the hub means the one not going.
 */
static struct worker *
ph_worker(const struct ipc_body_hub_ref *b, int any_gen)
{
	char name[IPC_NAME_MAX + 1];
	struct worker *w, *gone = NULL;

	snprintf(name, sizeof(name), "%.*s", (int)b->name.len, b->name.p);
	TAILQ_FOREACH(w, &sup->workers, entry) {
		if (strcmp(w->name, name) != 0 ||
		    (!any_gen && w->gen != b->gen))
			continue;
		if (!(w->flags & W_F_REMOVE))
			return w;
		if (gone == NULL)
			gone = w;
	}
	return gone;
}

/* hub.spawn: a channel account from the store; the slice passes once. */
static int
ph_spawn(const struct ipc_body_hub_spawn *b)
{
	char kind[IPC_NAME_MAX + 1], id[IPC_NAME_MAX + 1];
	char name[2 * IPC_NAME_MAX + 2], *conf;
	const struct kind *k;
	struct worker *w;
	uint64_t gen = 0;
	unsigned n = 0;

	snprintf(kind, sizeof(kind), "%.*s", (int)b->kind.len, b->kind.p);
	snprintf(id, sizeof(id), "%.*s", (int)b->id.len, b->id.p);
	snprintf(name, sizeof(name), "%s.%s", kind, id);
	/* Draining to stop: a worker born now would outlive the drain
	 * (CI saw a lease taken in the last second hold wxgated up). */
	if (sup->stopping) {
		log_info("hub asked to start %s: stopping", name);
		return 0;
	}
	if ((k = kinds_find(kind)) == NULL || k->role != ROLE_CHANNEL ||
	    !kinds_id_ok(id)) {
		log_warnx("hub asked to start %s: not a channel account",
		    name);
		return 0;
	}
	/*
	 * The hub is less trusted: it may not outgrow the box either, nor
	 * by unspawning each one at once: one still draining counts.
	 */
	TAILQ_FOREACH(w, &sup->workers, entry)
		if ((w->flags & W_F_RUNTIME) && (!(w->flags & W_F_REMOVE) ||
		    w->pid > 0))
			n++;
	if (n >= PLAN_CHANNELS_MAX) {
		log_warnx("hub asked to start %s: %u accounts already",
		    name, n);
		return 0;
	}
	TAILQ_FOREACH(w, &sup->workers, entry) {
		if (strcmp(w->name, name) != 0)
			continue;
		if (!(w->flags & W_F_REMOVE)) {
			/* A new hub asks again for what the old one started. */
			if (w->flags & W_F_RUNTIME)
				log_info("hub asked to start %s: it exists",
				    name);
			else
				log_warnx("hub asked to start %s: it exists",
				    name);
			return 0;
		}
		/* Draining: the new one's generations follow its. */
		if (w->gen > gen)
			gen = w->gen;
	}
	conf = ipc_strdup(b->conf);
	w = spawn_new(kind, id, k->role, conf);
	w->gen = gen;
	xfree_secret(conf);
	w->flags |= W_F_RUNTIME;
	log_info("hub starts account %s", name);
	spawn_worker(w);
	/* The worker has its slice: we keep none of it. */
	xfree_secret(w->conf);
	w->conf = NULL;
	return 0;
}

/*
 * hub.pause, hub.resume: a channel worker of the file, by name, an
 * operator paused (store_pause.c keeps that; the hub asks again after
 * a restart).  A paused one is stopped and not started again, by a
 * restart, a reload or its backoff (spawn_now), until resumed.  An
 * account the hub started has hub.unspawn and hub.spawn instead.
 */
static int
ph_pause(const struct ipc_body_hub_ref *b, int on)
{
	const struct kind *k;
	struct worker *w;

	if ((w = ph_worker(b, 1)) == NULL || (w->flags & (W_F_REMOVE |
	    W_F_RUNTIME)) || (k = kinds_find(w->kind)) == NULL ||
	    k->role != ROLE_CHANNEL) {
		log_warnx("hub asked to %s %.*s: not a channel worker of "
		    "the file", on ? "pause" : "resume", (int)b->name.len,
		    b->name.p);
		return 0;
	}
	if (on == ((w->flags & W_F_PAUSED) != 0))
		return 0;
	log_info("hub %s %s", on ? "pauses" : "resumes", w->name);
	if (on) {
		w->flags |= W_F_PAUSED;
		w->flags &= ~W_F_RESPAWN;
		spawn_shutdown(w);
		return 0;
	}
	w->flags &= ~W_F_PAUSED;
	if (sup->stopping)
		;	/* not started again: the drain ends it */
	else if (w->state == W_STOPPING)
		w->flags |= W_F_RESPAWN;
	else if (w->pid == -1 && w->state != W_BACKOFF) {
		w->ndeaths = 0;
		w->backoff_ms = 0;
		spawn_worker(w);
	}
	return 0;
}

static int
ph_request(struct ipc_msg *m)
{
	struct worker *w;
	int rv;

	switch (m->type) {
	case IPC_HUB_KILL:
		if ((w = ph_worker(&m->b.hub_ref, 0)) != NULL) {
			char why[IPC_MESSAGE_MAX + 1];

			snprintf(why, sizeof(why), "%.*s",
			    (int)m->b.hub_ref.why.len, m->b.hub_ref.why.p);
			reap_kill(w, why);
		}
		return 0;
	case IPC_HUB_VIOLATION:
		if ((w = ph_worker(&m->b.hub_ref, 0)) != NULL)
			reap_syscall(w, (int64_t)m->b.hub_ref.syscall);
		return 0;
	case IPC_HUB_UP:
		if ((w = ph_worker(&m->b.hub_ref, 0)) != NULL &&
		    w->state == W_STARTING) {
			w->state = W_RUNNING;
			parent_hub_worker(w);
			notify_ready();
		}
		return 0;
	case IPC_HUB_RESTART:
		if ((w = ph_worker(&m->b.hub_ref, 1)) != NULL &&
		    !(w->flags & (W_F_REMOVE | W_F_RUNTIME)))
			spawn_restart(w);
		return 0;
	case IPC_HUB_STOP:
		sup_stop();
		return 0;
	case IPC_HUB_SPAWN:
		rv = ph_spawn(&m->b.hub_spawn);
		/* Its slice's bytes in the receive buffer, which outlives it. */
		explicit_bzero((void *)(uintptr_t)m->b.hub_spawn.conf.p,
		    m->b.hub_spawn.conf.len);
		return rv;
	case IPC_HUB_PAUSE:
	case IPC_HUB_RESUME:
		return ph_pause(&m->b.hub_ref, m->type == IPC_HUB_PAUSE);
	case IPC_HUB_UNSPAWN:
		if ((w = ph_worker(&m->b.hub_ref, 1)) != NULL &&
		    (w->flags & W_F_RUNTIME)) {
			w->flags |= W_F_REMOVE;
			spawn_shutdown(w);
		}
		return 0;
	case IPC_PONG:
		if (m->b.seq.seq > ph.ping_seq)
			return -1;
		ph.pong_seq = m->b.seq.seq;
		clock_gettime(CLOCK_MONOTONIC, &ph.last_seen);
		return 0;
	case IPC_LOG: {
		char line[LOG_LINE_MAX];

		/* The hub names itself and its workers in its lines. */
		snprintf(line, sizeof(line), "%.*s", (int)m->b.log.text.len,
		    m->b.log.text.p);
		log_emit((int)m->b.log.level, line);
		return 0;
	}
	case IPC_VIOLATION:
		ph.violation = (int64_t)m->b.violation.syscall;
		return 0;
	}
	return -1;
}

static void
ph_msg(struct wire *c, struct ipc_msg *m, void *arg)
{
	(void)c;
	(void)arg;
	/* What the hub may ask is this short list; anything else is war. */
	if (!(ipc_msginfo(m->type)->roles & ROLE_HUB) ||
	    ph_request(m) == -1) {
		log_warnx("hub sent a bad %s", ipc_type_name(m->type));
		ph_kill("protocol violation");
	}
}

static void
ph_err(struct wire *c, enum wire_ev ev, const char *why, void *arg)
{
	(void)c;
	(void)arg;
	if (ev == WIRE_VIOLATION) {
		log_warnx("hub: %s", why);
		ph_kill("protocol violation");
		return;
	}
	/* SIGCHLD tells the rest. */
	wire_free(ph.wire);
	ph.wire = NULL;
}

/* The control socket is bound here, as root, and lent to each hub. */
int
control_open(const char *path)
{
	struct sockaddr_un sun;
	mode_t old;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >=
	    (int)sizeof(sun.sun_path)) {
		log_warnx("control socket path too long: %s", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1) {
		log_warn("control: socket");
		return -1;
	}
	/* A stale socket from a crash is replaced; a live one is refused. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0) {
		log_warnx("control socket %s is in use: is wxgated running?",
		    path);
		close(fd);
		return -1;
	}
	unlink(path);
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("control: bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	/* Ours alone: in the hub's user namespace root reads as any uid. */
	if (chmod(path, 0600) == -1 || listen(fd, 16) == -1) {
		log_warn("control: %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The store's directory and files belong to the hub's uid.  A store a
 * root supervisor made (before the hub existed), or the directory
 * systemd's StateDirectory= makes root's, is handed over once: the
 * database and its -wal, -shm and -journal first, then the directory,
 * so a directory that is the hub's says its files are too where it
 * cannot be looked into: under etc/wxgated.service root has neither
 * CAP_DAC_OVERRIDE nor CAP_DAC_READ_SEARCH (O_PATH needs neither).  Each
 * is checked to be a plain file of one link or a directory, and no
 * link is followed.  The handing takes CAP_CHOWN, the unit's for it.
 */
int
parent_store_own(const char *store, uid_t uid, gid_t gid)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char dir[PATH_MAX], base[PATH_MAX], name[PATH_MAX + 16];
	struct stat st;
	size_t i;
	int dfd, rfd = -1, rv = -1, handed;

	snprintf(dir, sizeof(dir), "%s", store);
	snprintf(base, sizeof(base), "%s", store);
	if ((dfd = open(dirname(dir), O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		log_warn("store directory %s", dir);
		return -1;
	}
	if (fstat(dfd, &st) == -1 || (st.st_mode & S_IWOTH)) {
		log_warnx("store directory %s: others may write to it", dir);
		goto out;
	}
	handed = st.st_uid == uid && st.st_gid == gid;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(name, sizeof(name), "%s%s", basename(base), sfx[i]);
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1) {
			if (errno == ENOENT)
				continue;
			/* The hub's, and closed to a root without DAC. */
			if (handed && errno == EACCES)
				break;
			log_warn("store: %s/%s", dir, name);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			log_warnx("store: %s/%s is not a plain file", dir,
			    name);
			goto out;
		}
		if (st.st_uid == uid && st.st_gid == gid)
			continue;
		/* A second link could be any file of the host's. */
		if (st.st_nlink != 1) {
			log_warnx("store: %s/%s has %ju links: not handed to "
			    "the hub", dir, name, (uintmax_t)st.st_nlink);
			goto out;
		}
		if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) == -1) {
			log_warn("store: chown %s/%s", dir, name);
			goto out;
		}
	}
	/* Still root's (or ours): its mode first, while we own it. */
	if (!handed && ((rfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || fchmod(rfd, 0700) == -1 ||
	    fchown(rfd, uid, gid) == -1)) {
		log_warn("store directory %s: chown", dir);
		goto out;
	}
	if (!handed)
		log_info("store %s handed to uid %u (the hub's), once", store,
		    (unsigned)uid);
	rv = 0;
 out:
	if (rfd != -1)
		close(rfd);
	close(dfd);
	return rv;
}
