/*
 * The agent worker kind: receives agent.request frames, runs them on the
 * configured backend and streams agent.delta / agent.done / agent.error
 * back; agent.abort drops a request without a word, because the
 * supervisor has already finished it, and sup.resync drops them all, as
 * a new hub re-sends them.  It never sees sessions or users, only turns
 * and a request id, and the attachments of the newest turn when its
 * type can use them (agent.request_media).
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "agent.h"
#include "codec.h"
#include "log.h"
#include "worker.h"
#include "xmalloc.h"

/* More concurrent requests than this means the supervisor misbehaves. */
#define AGENT_REQS_MAX	4096
/* Held deltas are tried again this often while the hub is behind. */
#define AGENT_HOLD_MS	20

static const struct agent_backend *const backends[] = {
	&agent_echo,
	&agent_openai,
	&agent_command,
	&agent_relay,
};

static const struct agent_backend	*backend;
static TAILQ_HEAD(, agent_req)		 reqs = TAILQ_HEAD_INITIALIZER(reqs);
static unsigned				 nreqs;
static int				 draining;
static struct event			*hold_ev;

static int	agent_pre_sandbox(json_t *);
static int	agent_post_sandbox(struct event_base *);
static const char *agent_profile(void);
static void	agent_shutdown(void);
static void	agent_resync(void);
static int	agent_request(const struct ipc_msg *);
static int	agent_media(struct agent_req *, int,
		    const struct ipc_parts *);
static int	agent_abort(const struct ipc_msg *);
static void	agent_req_end(struct agent_req *);
static int	agent_backend_msg(const struct ipc_msg *);
static int	agent_unhold(struct agent_req *);
static void	agent_hold_cb(evutil_socket_t, short, void *);

static const struct wk_handler agent_handlers[] = {
	{ IPC_AGENT_REQUEST,	agent_request },
	{ IPC_AGENT_REQUEST_MEDIA, agent_request },
	{ IPC_AGENT_ABORT,	agent_abort },
	{ IPC_SUP_LISTEN_FD,	agent_backend_msg },
	{ IPC_RELAY_VERDICT,	agent_backend_msg },
	{ IPC_RELAY_REVOKE,	agent_backend_msg },
	{ 0,			NULL }
};

const struct wk_kind wk_agent = {
	"agent", ROLE_AGENT, WK_F_DRAINS,
	agent_pre_sandbox, agent_post_sandbox, agent_shutdown, agent_resync,
	agent_handlers, agent_profile, NULL, NULL
};

static int
agent_pre_sandbox(json_t *conf)
{
	const char *type;
	size_t i;

	if ((type = json_string_value(json_object_get(conf, "type"))) == NULL)
		type = "echo";
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->type, type) == 0)
			backend = backends[i];
	if (backend == NULL) {
		log_warnx("%s: unknown agent type %s", __func__, type);
		return -1;
	}
	return backend->init(conf);
}

static int
agent_post_sandbox(struct event_base *base)
{
	(void)base;
	return backend->post_sandbox != NULL ? backend->post_sandbox() : 0;
}

/* Known once pre_sandbox has picked the backend. */
static const char *
agent_profile(void)
{
	return backend != NULL ? backend->profile : "agent";
}

static void
agent_shutdown(void)
{
	draining = 1;
	if (nreqs == 0)
		worker_drained();
}

/*
 * A new hub re-sends every unanswered request from its store, under new
 * ids that may be the old ones again: drop each request as agent.abort
 * does, without a word, so nothing of the old hub's answers a new one.
 */
static void
agent_resync(void)
{
	struct agent_req *r;

	if (nreqs > 0)
		log_info("%s: %u request%s of the old hub dropped", __func__,
		    nreqs, nreqs == 1 ? "" : "s");
	while ((r = TAILQ_FIRST(&reqs)) != NULL)
		agent_req_end(r);
}

/*
 * The hub's memfd, read whole once (it is sealed: what it holds is what
 * the parts say); the caller closes it.
 */
static int
agent_media(struct agent_req *r, int fd, const struct ipc_parts *parts)
{
	struct stat sb;
	size_t i, off, total = 0;
	ssize_t n;

	for (i = 0; i < parts->n; i++)
		total += parts->v[i].size;
	if (fstat(fd, &sb) == -1 || (uint64_t)sb.st_size != total ||
	    total > IPC_FILE_MAX) {
		log_warnx("%s: attachments of another size than named",
		    __func__);
		return -1;
	}
	r->media = xmalloc(total);
	for (off = 0; off < total; off += (size_t)n)
		if ((n = pread(fd, r->media + off, total - off,
		    (off_t)off)) <= 0) {
			log_warn("%s: pread", __func__);
			return -1;
		}
	for (i = 0, off = 0; i < parts->n; i++) {
		snprintf(r->parts[i].kind, sizeof(r->parts[i].kind), "%.*s",
		    (int)parts->v[i].kind.len, parts->v[i].kind.p);
		snprintf(r->parts[i].name, sizeof(r->parts[i].name), "%.*s",
		    (int)parts->v[i].name.len, parts->v[i].name.p);
		r->parts[i].data = r->media + off;
		r->parts[i].size = parts->v[i].size;
		off += parts->v[i].size;
	}
	r->nparts = parts->n;
	return 0;
}

static int
agent_request(const struct ipc_msg *m)
{
	struct agent_req *r;
	int rv;

	TAILQ_FOREACH(r, &reqs, entry)
		if (r->id == m->req_id)
			fatalx("%s: request %llu is already running",
			    __func__, (unsigned long long)m->req_id);
	if (nreqs >= AGENT_REQS_MAX)
		fatalx("%s: more than %d requests in flight", __func__,
		    AGENT_REQS_MAX);
	r = xcalloc(1, sizeof(*r));
	r->id = m->req_id;
	TAILQ_INSERT_TAIL(&reqs, r, entry);
	nreqs++;
	if (m->type == IPC_AGENT_REQUEST_MEDIA) {
		/* A kind's handler owns the frame's descriptor. */
		rv = agent_media(r, m->fd, &m->b.agent_request.parts);
		close(m->fd);
		if (rv == -1) {
			agent_error(r, "agent_failed", "the attachments could "
			    "not be read");
			return 0;
		}
	}
	if (backend->start(r, &m->b.agent_request) == -1)
		agent_error(r, "agent_failed", "the agent could not start");
	return 0;
}

struct agent_req *
agent_req_find(uint64_t id)
{
	struct agent_req *r;

	TAILQ_FOREACH(r, &reqs, entry)
		if (r->id == id)
			return r;
	return NULL;
}

/* Finished by the supervisor already: drop it, and say nothing. */
static int
agent_abort(const struct ipc_msg *m)
{
	struct agent_req *r;

	/* Done before the abort crossed: nothing left to stop. */
	if ((r = agent_req_find(m->req_id)) == NULL)
		return 0;
	log_debug("%s: request %llu aborted", __func__,
	    (unsigned long long)r->id);
	agent_req_end(r);
	return 0;
}

static void
agent_req_end(struct agent_req *r)
{
	if (backend->cancel != NULL)
		backend->cancel(r);
	TAILQ_REMOVE(&reqs, r, entry);
	nreqs--;
	free(r->held);
	free(r->media);
	free(r);
	if (draining && nreqs == 0)
		worker_drained();
}

static int
agent_send_delta(struct agent_req *r, const char *text, size_t len)
{
	struct ipc_body_text b;

	b.text.p = text;
	b.text.len = len;
	return worker_send(IPC_AGENT_DELTA, r->id, &b);
}

/*
 * While the hub is behind (a slow commit), text waits here, merged,
 * rather than one frame a piece filling the queue to the hub, whose
 * overflow ends the worker and every request on it.  Held text is
 * bounded as the hub bounds a reply: past IPC_REPLY_MAX it keeps
 * nothing, and neither do we.
 */
int
agent_delta(struct agent_req *r, const char *text, size_t len)
{
	struct timeval tv = { 0, AGENT_HOLD_MS * 1000 };
	size_t room;

	if (r->cut || len == 0)
		return 0;
	if (r->heldlen == 0 && worker_room()) {
		r->said += len;
		return agent_send_delta(r, text, len);
	}
	room = r->said < IPC_REPLY_MAX ? IPC_REPLY_MAX - r->said : 0;
	if (len > room) {
		while (room > 0 && ((unsigned char)text[room] & 0xc0) == 0x80)
			room--;
		len = room;
		r->cut = 1;
	}
	r->said += len;
	r->held = xreallocarray(r->held, r->heldlen + len + 1, 1);
	memcpy(r->held + r->heldlen, text, len);
	r->heldlen += len;
	if (hold_ev == NULL && (hold_ev = evtimer_new(worker_base(),
	    agent_hold_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (!evtimer_pending(hold_ev, NULL))
		evtimer_add(hold_ev, &tv);
	return 0;
}

/* r's held text goes now, as one delta. */
static int
agent_unhold(struct agent_req *r)
{
	if (r->heldlen == 0)
		return 0;
	if (agent_send_delta(r, r->held, r->heldlen) == -1)
		return -1;
	free(r->held);
	r->held = NULL;
	r->heldlen = 0;
	return 0;
}

static void
agent_hold_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = { 0, AGENT_HOLD_MS * 1000 };
	struct agent_req *r;
	int more = 0;

	(void)fd;
	(void)what;
	(void)arg;
	TAILQ_FOREACH(r, &reqs, entry) {
		if (r->heldlen == 0)
			continue;
		if (!worker_room() || agent_unhold(r) == -1)
			more = 1;
	}
	if (more)
		evtimer_add(hold_ev, &tv);
}

void
agent_restart(struct agent_req *r)
{
	struct ipc_body_empty e = { 0 };

	free(r->held);
	r->held = NULL;
	r->heldlen = 0;
	r->said = 0;
	r->cut = 0;
	if (worker_send(IPC_AGENT_RESTART, r->id, &e) == -1)
		fatalx("%s: supervisor queue full", __func__);
}

/*
 * A request's last frames: its held text first, so the deltas add up
 * to the reply.  At most two frames a request past worker_room().
 */
void
agent_done(struct agent_req *r)
{
	struct ipc_body_empty b = { 0 };

	if (agent_unhold(r) == -1 ||
	    worker_send(IPC_AGENT_DONE, r->id, &b) == -1)
		fatalx("%s: supervisor queue full", __func__);
	agent_req_end(r);
}

void
agent_error(struct agent_req *r, const char *code, const char *msg)
{
	agent_error_retry(r, code, msg, 0);
}

void
agent_error_retry(struct agent_req *r, const char *code, const char *msg,
    uint64_t retry_after_ms)
{
	struct ipc_body_agent_error b;

	b.code = ipc_s(code);
	b.message = ipc_s(msg);
	b.retry_after_ms = retry_after_ms < IPC_RETRY_AFTER_MAX ?
	    retry_after_ms : IPC_RETRY_AFTER_MAX;
	if (agent_unhold(r) == -1 ||
	    worker_send(IPC_AGENT_ERROR, r->id, &b) == -1)
		fatalx("%s: supervisor queue full", __func__);
	agent_req_end(r);
}

/* A frame for one backend only: another getting it is a fault. */
static int
agent_backend_msg(const struct ipc_msg *m)
{
	if (backend->msg == NULL) {
		log_warnx("%s: %s is not for a %s agent", __func__,
		    ipc_type_name(m->type), backend->type);
		if (m->fd != -1)
			close(m->fd);
		return -1;
	}
	return backend->msg(m);
}
