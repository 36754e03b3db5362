/*
 * The hub's end of its link to the root parent.
 *
 * The parent tells the hub which workers exist (hub.attach hands over
 * the hub's end of a worker's socket, with the role fixed when the
 * socket was made), what became of their processes (hub.worker,
 * hub.detach), and when one is to drain.  The hub may ask for a few
 * things only, each checked by the parent: kill a worker incarnation,
 * restart one, stop everything, start or stop an account.  Nothing
 * else crosses: the parent never reads a worker's frames, and the hub
 * never forks, binds or reads a secret.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "hub.h"
#include "log.h"
#include "sandbox.h"
#include "wire.h"
#include "xmalloc.h"

static struct wire	*parent;
static uint64_t		 overflows;

static void	hub_worker_msg(struct wire *, struct ipc_msg *, void *);
static void	hub_worker_err(struct wire *, enum wire_ev, const char *,
		    void *);

void
hub_link_set(struct wire *w)
{
	parent = w;
}

/* A frame to the parent; the hub cannot go on without it. */
void
hub_request(uint32_t type, const void *body)
{
	if (parent == NULL || wire_send(parent, type, 0, body) == -1)
		fatalx("%s: the parent does not read its link", __func__);
}

static void
hub_ref(uint32_t type, const struct worker *w, const char *why,
    uint64_t syscall)
{
	struct ipc_body_hub_ref b;

	b.name = ipc_s(w->name);
	b.gen = w->gen;
	b.why = ipc_s(why);
	b.syscall = syscall;
	hub_request(type, &b);
}

/*
 * The hub's way to kill a worker: stop trusting its frames now, and ask
 * the parent, who kills that incarnation (never a later one) and says
 * why in its log and in the worker's record.
 */
void
hub_kill(struct worker *w, const char *why)
{
	if (w->wire == NULL)
		return;
	log_warnx("worker %s (pid %d): %s: asking for its end", w->name,
	    (int)w->pid, why);
	wire_free(w->wire);
	w->wire = NULL;
	hub_ref(IPC_HUB_KILL, w, why, 0);
}

/* A worker that breaks the protocol is treated as compromised. */
void
hub_violation(struct worker *w, const char *why)
{
	char buf[sizeof(w->kill_why)];

	snprintf(buf, sizeof(buf), "protocol violation: %s", why);
	hub_kill(w, buf);
}

/*
 * A worker whose send queue is full.  The hub paces what it sends
 * (agentq.c, router_room()), so this means a worker that stopped
 * reading; counted for wxgatectl stats.
 */
void
hub_overflow(struct worker *w)
{
	overflows++;
	hub_kill(w, "send queue full");
}

uint64_t
hub_overflows(void)
{
	return overflows;
}

void
hub_worker_up(struct worker *w)
{
	hub_ref(IPC_HUB_UP, w, "", 0);
}

/* The syscall a worker's SIGSYS handler named, for the parent's record. */
void
hub_worker_syscall(struct worker *w, uint64_t nr)
{
	hub_ref(IPC_HUB_VIOLATION, w, "", nr);
}

void
hub_request_restart(const char *name)
{
	struct ipc_body_hub_ref b = { ipc_s(name), 0, IPC_S(""), 0 };

	hub_request(IPC_HUB_RESTART, &b);
}

void
hub_request_stop(void)
{
	struct ipc_body_empty b = { 0 };

	hub_request(IPC_HUB_STOP, &b);
}

/*
 * Start a channel account the store holds (a binding made at run time).
 * The slice, secrets included, passes through the parent to the worker
 * once; the caller wipes its copy.
 */
int
hub_request_spawn(const char *kind, const char *id, const char *conf)
{
	struct ipc_body_hub_spawn b;

	b.kind = ipc_s(kind);
	b.id = ipc_s(id);
	b.conf = ipc_s(conf);
	return parent == NULL ? -1 : wire_send(parent, IPC_HUB_SPAWN, 0, &b);
}

/*
 * The hub's workers by name, as the parent names them in its frames
 * and routes and the control socket name them after it.
 */
struct worker *
spawn_find(const char *name)
{
	struct worker *w;

	TAILQ_FOREACH(w, &sup->workers, entry)
		if (strcmp(w->name, name) == 0)
			return w;
	return NULL;
}

static struct worker *
hub_worker_get(const struct ipc_body_hub_worker *b)
{
	char name[IPC_NAME_MAX + 1];
	struct worker *w;

	snprintf(name, sizeof(name), "%.*s", (int)b->name.len, b->name.p);
	if ((w = spawn_find(name)) != NULL)
		return w;
	w = xcalloc(1, sizeof(*w));
	snprintf(w->name, sizeof(w->name), "%s", name);
	snprintf(w->kind, sizeof(w->kind), "%.*s", (int)b->kind.len,
	    b->kind.p);
	snprintf(w->id, sizeof(w->id), "%.*s", (int)b->id.len, b->id.p);
	w->role = (int)b->role;
	w->pid = -1;
	w->hubfd = -1;
	w->state = W_STOPPED;
	TAILQ_INSERT_TAIL(&sup->workers, w, entry);
	return w;
}

/* The parent's record of a worker, for wxgatectl status. */
static void
hub_worker_record(struct worker *w, const struct ipc_body_hub_worker *b)
{
	struct timespec now;

	w->pid = b->pid > 0 ? (pid_t)b->pid : -1;
	w->restarts = b->restarts;
	w->seccomp_kills = b->seccomp_kills;
	/* No process, no memory (it says its own: router.c). */
	if (b->pid == 0)
		w->rss_kb = w->pss_kb = 0;
	snprintf(w->last_exit, sizeof(w->last_exit), "%.*s",
	    (int)b->last_exit.len, b->last_exit.p);
	snprintf(w->pstate, sizeof(w->pstate), "%.*s", (int)b->state.len,
	    b->state.p);
	clock_gettime(CLOCK_MONOTONIC, &now);
	w->started.tv_sec = now.tv_sec - (time_t)(b->uptime_ms / 1000);
	w->started.tv_nsec = now.tv_nsec;
}

static int
hub_attach(struct ipc_msg *m)
{
	const struct ipc_body_hub_worker *b = &m->b.hub_worker;
	struct worker *w;

	if (m->fd == -1)
		return -1;
	w = hub_worker_get(b);
	if (w->wire != NULL) {
		/* The parent only attaches a new incarnation after detach. */
		wire_free(w->wire);
		router_worker_down(w);
	}
	hub_worker_record(w, b);
	w->gen = b->gen;
	w->flags &= ~(W_F_HELLO | W_F_RESYNC);
	w->state = W_STARTING;
	w->msgs_in = w->msgs_out = 0;
	clock_gettime(CLOCK_MONOTONIC, &w->last_seen);
	w->pong_seq = w->ping_seq;
	w->wire = wire_new(sup->base, m->fd, sup->conf->supervisor.queue_max,
	    hub_worker_msg, hub_worker_err, w);
	/*
	 * Only channel and agent workers pass fds, and only sealed memfds
	 * of attachments (inbound.media, agent.file), which
	 * media_fd_read() checks; a web chat worker never.
	 */
	wire_set_fd_ok(w->wire, w->role == ROLE_CHANNEL ||
	    w->role == ROLE_AGENT);
	/* A burst of requests waits in the worker, not as our replies. */
	wire_set_pace(w->wire, 1);
	m->fd = -1;
	if (b->resync) {
		/*
		 * It served the hub before us: it said hello then, and what
		 * it was asked has died with that hub.  It says again what
		 * it holds; the store has the rest.
		 */
		w->flags |= W_F_HELLO | W_F_RESYNC;
		/* First: whatever we send after it is for the new state. */
		router_send(w, IPC_SUP_RESYNC, 0, &(struct ipc_body_empty){ 0 });
		if (strcmp(w->pstate, "running") == 0) {
			w->state = W_RUNNING;
			router_worker_ready(w);
		} else if (strcmp(w->pstate, "stopping") == 0)
			w->state = W_STOPPING;
		log_info("worker %s (pid %d) taken over", w->name,
		    (int)w->pid);
	}
	return 0;
}

static int
hub_worker_update(struct ipc_msg *m)
{
	hub_worker_record(hub_worker_get(&m->b.hub_worker), &m->b.hub_worker);
	return 0;
}

static struct worker *
hub_ref_find(const struct ipc_body_hub_ref *b)
{
	char name[IPC_NAME_MAX + 1];
	struct worker *w;

	snprintf(name, sizeof(name), "%.*s", (int)b->name.len, b->name.p);
	if ((w = spawn_find(name)) == NULL || w->gen != b->gen)
		return NULL;
	return w;
}

/* That incarnation is dead (the parent reaped it): forget its socket. */
static int
hub_detach(struct ipc_msg *m)
{
	struct worker *w;

	if ((w = hub_ref_find(&m->b.hub_ref)) == NULL)
		return 0;
	wire_free(w->wire);
	w->wire = NULL;
	w->state = W_STOPPED;
	router_worker_down(w);
	if (w->role == ROLE_CHANNEL)
		hub_pg_worker_gone(w->id);
	if (ipc_streq(m->b.hub_ref.why, "removed")) {
		TAILQ_REMOVE(&sup->workers, w, entry);
		free(w);
	}
	return 0;
}

static int
hub_drain(struct ipc_msg *m)
{
	struct worker *w;

	if ((w = hub_ref_find(&m->b.hub_ref)) == NULL || w->wire == NULL)
		return 0;
	w->state = W_STOPPING;
	router_send(w, IPC_SUP_SHUTDOWN, 0, &(struct ipc_body_empty){ 0 });
	return 0;
}

static int
hub_control_fd(struct ipc_msg *m)
{
	if (m->fd == -1 || control_init(m->fd) == -1)
		return -1;
	m->fd = -1;
	return 0;
}

static int
hub_ping(struct ipc_msg *m)
{
	struct ipc_body_seq b = { m->b.seq.seq };

	hub_request(IPC_PONG, &b);
	return 0;
}

static const struct {
	uint32_t	  type;
	int		(*fn)(struct ipc_msg *);
} link_handlers[] = {
	{ IPC_HUB_STORE_SECRET,	hub_pg_secret },
	{ IPC_HUB_CONFIG,	hub_config },
	{ IPC_HUB_ATTACH,	hub_attach },
	{ IPC_HUB_WORKER,	hub_worker_update },
	{ IPC_HUB_DETACH,	hub_detach },
	{ IPC_HUB_DRAIN,	hub_drain },
	{ IPC_HUB_CONTROL_FD,	hub_control_fd },
	{ IPC_SUP_PING,		hub_ping },
	{ IPC_SUP_SHUTDOWN,	hub_shutdown },
};

/* Frames from the parent: a bad one means a broken parent, so we stop. */
void
hub_link_msg(struct wire *c, struct ipc_msg *m, void *arg)
{
	size_t i;

	(void)c;
	(void)arg;
	/* After sup.shutdown closed the store: frames of the same read. */
	if (sup->conf != NULL && sup->store == NULL) {
		if (m->fd != -1)
			close(m->fd);
		return;
	}
	if (!(ipc_msginfo(m->type)->roles & ROLE_PARENT))
		fatalx("%s: the parent sent %s", __func__,
		    ipc_type_name(m->type));
	if (m->type != IPC_HUB_CONFIG && m->type != IPC_SUP_PING &&
	    m->type != IPC_SUP_SHUTDOWN && m->type != IPC_HUB_STORE_SECRET &&
	    sup->conf == NULL)
		fatalx("%s: %s before the configuration", __func__,
		    ipc_type_name(m->type));
	for (i = 0; i < sizeof(link_handlers) / sizeof(link_handlers[0]); i++)
		if (link_handlers[i].type == m->type) {
			if (link_handlers[i].fn(m) == -1)
				fatalx("%s: bad %s", __func__,
				    ipc_type_name(m->type));
			if (m->fd != -1)
				close(m->fd);
			sup_turn();
			return;
		}
	fatalx("%s: unexpected %s", __func__, ipc_type_name(m->type));
}

static void
hub_worker_msg(struct wire *c, struct ipc_msg *m, void *arg)
{
	struct worker *w = arg;

	(void)c;
	/* Messages, not the heartbeat's answers, figures nor log lines. */
	if (m->type != IPC_PONG && m->type != IPC_FIGURES &&
	    m->type != IPC_LOG)
		w->msgs_in++;
	router_dispatch(w, m);
	/* A handler that keeps the fd takes it; any other path drops it. */
	if (m->fd != -1)
		close(m->fd);
}

static void
hub_worker_err(struct wire *c, enum wire_ev ev, const char *why, void *arg)
{
	struct worker *w = arg;

	(void)c;
	switch (ev) {
	case WIRE_EOF:
	case WIRE_IOERR:
		/* hub.detach tells the rest; stop listening to a dead end. */
		log_debug("worker %s: socket %s", w->name, why);
		wire_free(w->wire);
		w->wire = NULL;
		break;
	case WIRE_VIOLATION:
		hub_violation(w, why);
		break;
	}
}
