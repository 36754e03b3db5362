/*
 * The control socket: a Unix stream socket (mode 0660) where wxgatectl
 * speaks length-prefixed IPC frames with the operator role.  Peers are
 * admitted by SO_PEERCRED uid (root or our own uid) before a byte is read.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "chan.h"
#include "log.h"
#include "role.h"
#include "sup.h"
#include "xmalloc.h"

/* A stuck wxgatectl cannot make us buffer without bound. */
#define CONTROL_OUT_MAX	(4 * 1024 * 1024)
#define CONTROL_CLIENTS_MAX 16

struct ctl_client {
	struct bufferevent	*bev;
	uid_t			 uid;
	int			 closing;
};

static struct evconnlistener	*listener;
static char			*control_path;
static int			 nclients;
static uint8_t			 cbuf[IPC_FRAME_MAX];

static int	ctl_status(struct ctl_client *, struct ipc_msg *);
static int	ctl_restart(struct ctl_client *, struct ipc_msg *);
static int	ctl_stop(struct ctl_client *, struct ipc_msg *);
#ifdef WX_TEST_HOOKS
static int	ctl_test(struct ctl_client *, struct ipc_msg *);
#endif

static const struct {
	uint32_t	  type;
	int		(*fn)(struct ctl_client *, struct ipc_msg *);
} ctl_handlers[] = {
	{ IPC_CTL_STATUS,	ctl_status },
	{ IPC_CTL_RESTART,	ctl_restart },
	{ IPC_CTL_STOP,		ctl_stop },
#ifdef WX_TEST_HOOKS
	{ IPC_CTL_TEST,		ctl_test },
#endif
};

static const char *const state_names[] = {
	[W_STARTING] = "starting",
	[W_RUNNING] = "running",
	[W_BACKOFF] = "backoff",
	[W_FAILED] = "failed",
	[W_STOPPING] = "stopping",
	[W_STOPPED] = "stopped",
};

const char *
worker_state_name(enum w_state s)
{
	return state_names[s];
}

static void
ctl_free(struct ctl_client *c)
{
	bufferevent_free(c->bev);
	free(c);
	nclients--;
}

static void
ctl_result(struct ctl_client *c, uint64_t req_id, int ok, const char *msg)
{
	struct ipc_body_result r;

	r.ok = ok;
	r.message = ipc_s(msg);
	ipc_stream_put(bufferevent_get_output(c->bev), IPC_CTL_RESULT, req_id,
	    &r);
}

static int
ctl_status(struct ctl_client *c, struct ipc_msg *m)
{
	struct ipc_body_ctl_worker b;
	struct worker *w;

	TAILQ_FOREACH(w, &sup->workers, entry) {
		b.name = ipc_s(w->name);
		b.kind = ipc_s(w->kind);
		b.pid = w->pid > 0 ? (uint64_t)w->pid : 0;
		b.state = ipc_s(worker_state_name(w->state));
		b.uptime_ms = w->pid > 0 ? timespec_ms_since(&w->started) : 0;
		b.restarts = w->restarts;
		b.last_exit = ipc_s(w->last_exit);
		b.msgs_in = w->msgs_in;
		b.msgs_out = w->msgs_out;
		b.seccomp_kills = w->seccomp_kills;
		ipc_stream_put(bufferevent_get_output(c->bev), IPC_CTL_WORKER,
		    m->req_id, &b);
	}
	ctl_result(c, m->req_id, 1, "");
	return 0;
}

static int
ctl_restart(struct ctl_client *c, struct ipc_msg *m)
{
	char name[IPC_NAME_MAX + 1];
	struct worker *w;

	snprintf(name, sizeof(name), "%.*s", (int)m->b.name.name.len,
	    m->b.name.name.p);
	if ((w = spawn_find(name)) == NULL || (w->flags & W_F_REMOVE)) {
		ctl_result(c, m->req_id, 0, "no such worker");
		return 0;
	}
	log_info("operator (uid %d) restarts %s", (int)c->uid, name);
	spawn_restart(w);
	ctl_result(c, m->req_id, 1, "restarting");
	return 0;
}

static int
ctl_stop(struct ctl_client *c, struct ipc_msg *m)
{
	log_info("operator (uid %d) stops wxgated", (int)c->uid);
	ctl_result(c, m->req_id, 1, "stopping");
	sup_stop();
	return 0;
}

#ifdef WX_TEST_HOOKS
static int
ctl_test(struct ctl_client *c, struct ipc_msg *m)
{
	char name[IPC_NAME_MAX + 1];
	struct ipc_body_test t;
	struct worker *w;

	snprintf(name, sizeof(name), "%.*s", (int)m->b.ctl_test.name.len,
	    m->b.ctl_test.name.p);
	if ((w = spawn_find(name)) == NULL || w->chan == NULL) {
		ctl_result(c, m->req_id, 0, "no such worker");
		return 0;
	}
	t.action = m->b.ctl_test.action;
	if (chan_send(w->chan, IPC_SUP_TEST, 0, &t) == -1) {
		ctl_result(c, m->req_id, 0, "send failed");
		return 0;
	}
	ctl_result(c, m->req_id, 1, "sent");
	return 0;
}
#endif

static void
ctl_read(struct bufferevent *bev, void *arg)
{
	struct ctl_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct ipc_msg m;
	enum ipc_err e;
	size_t len, i;
	int rv = 0;

	while (!c->closing && (rv = ipc_stream_pull(in, cbuf, &len)) == 1) {
		if ((e = ipc_decode(cbuf, len, &m)) != IPC_OK) {
			log_warnx("control: uid %d: %s", (int)c->uid,
			    ipc_strerror(e));
			goto bad;
		}
		if (!role_may_send(ROLE_OPERATOR, m.type)) {
			log_warnx("control: uid %d sent %s", (int)c->uid,
			    ipc_type_name(m.type));
			goto bad;
		}
		for (i = 0; i < sizeof(ctl_handlers) / sizeof(ctl_handlers[0]);
		    i++)
			if (ctl_handlers[i].type == m.type)
				break;
		if (i == sizeof(ctl_handlers) / sizeof(ctl_handlers[0]))
			goto bad;
		ctl_handlers[i].fn(c, &m);
	}
	if (rv == -1)
		goto bad;
	if (evbuffer_get_length(bufferevent_get_output(bev)) >
	    CONTROL_OUT_MAX)
		goto bad;
	return;
bad:
	ctl_free(c);
}

static void
ctl_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ctl_free(arg);
}

static void
ctl_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct ctl_client *c;
	struct ucred cred;
	socklen_t len = sizeof(cred);

	(void)l;
	(void)sa;
	(void)salen;
	(void)arg;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(fd);
		return;
	}
	/* The socket's mode is a first fence; the uid check is the real one. */
	if (cred.uid != 0 && cred.uid != geteuid()) {
		log_warnx("control: refused uid %d", (int)cred.uid);
		close(fd);
		return;
	}
	if (nclients >= CONTROL_CLIENTS_MAX) {
		log_warnx("control: too many clients");
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->uid = cred.uid;
	c->bev = bufferevent_socket_new(sup->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("%s: bufferevent_socket_new", __func__);
	nclients++;
	bufferevent_setcb(c->bev, ctl_read, NULL, ctl_event, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int
control_init(const char *path)
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
	old = umask(0117);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("control: bind %s", path);
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0660) == -1) {
		log_warn("control: chmod %s", path);
		close(fd);
		return -1;
	}
	listener = evconnlistener_new(sup->base, ctl_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, 16, fd);
	if (listener == NULL) {
		log_warnx("control: listener");
		close(fd);
		return -1;
	}
	control_path = xstrdup(path);
	return 0;
}

void
control_close(void)
{
	if (listener != NULL)
		evconnlistener_free(listener);
	listener = NULL;
	if (control_path != NULL)
		unlink(control_path);
	free(control_path);
	control_path = NULL;
}
