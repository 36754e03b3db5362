/*
 * The router's gate: every frame a worker sends passes the role check
 * here and is dispatched through its role's handler table (the web
 * chat's in router_chat.c and router_share.c, the agents' in
 * router_agent.c, the channels' in channel.c).  Before a web chat
 * handler spends anything, the gate checks the config's narrowing of
 * the role and admit.c's token buckets.  It also handles every role's
 * lifecycle frames (hello, ready, pong, log, violation), and hears from
 * spawn.c and reap.c when a worker is ready or gone.
 *
 * A worker that sends a frame its role may not, or one with no handler,
 * is killed as compromised (hub_violation), never the supervisor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "areq.h"
#include "bindpage.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "logring.h"
#include "metrics.h"
#include "role.h"
#include "router_int.h"
#include "store.h"
#include "wire.h"

/* busy's when a cluster's shared store is behind: its ships are sent
 * again at least this often (hub_pg.c, SHIP_RETRY_MAX_MS). */
#define RT_BEHIND_RETRY_MS	2000

static int	sup_hello(struct worker *, struct ipc_msg *);
static int	sup_ready(struct worker *, struct ipc_msg *);
static int	sup_pong(struct worker *, struct ipc_msg *);
static int	sup_figures(struct worker *, struct ipc_msg *);
static int	sup_log(struct worker *, struct ipc_msg *);
static int	sup_violation(struct worker *, struct ipc_msg *);
static int	sup_resynced(struct worker *, struct ipc_msg *);

static const struct sup_handler common_handlers[] = {
	{ IPC_HELLO,		H_FIRST | H_ONCE,	sup_hello },
	{ IPC_READY,		H_ONCE,			sup_ready },
	{ IPC_PONG,		0,			sup_pong },
	{ IPC_FIGURES,		0,			sup_figures },
	{ IPC_LOG,		H_EARLY,		sup_log },
	{ IPC_VIOLATION,	H_EARLY,		sup_violation },
	{ IPC_RESYNCED,		H_EARLY,		sup_resynced },
	{ 0,			0,			NULL }
};

static const struct sup_handler webchat_handlers[] = {
	{ IPC_SESSION_OPEN,	H_LIMIT,	sup_session_open },
	{ IPC_SESSION_RESUME,	H_LIMIT,	sup_session_resume },
	{ IPC_CHAT_SEND,	H_LIMIT,	sup_chat_send },
	{ IPC_CHAT_HISTORY,	H_LIMIT,	sup_chat_history },
	{ IPC_CONN_CLOSE,	0,		sup_conn_close },
	{ IPC_CHAT_ABORT,	H_LIMIT,	sup_chat_abort },
	{ IPC_RPC_CALL,		H_LIMIT,	sup_rpc_call },
	{ IPC_CONN_OPEN,	0,		sup_conn_open },
	{ IPC_SHARE_CHECK,	0,		sup_share_check },
	{ IPC_SHARE_OPEN,	H_LIMIT,	sup_share_open },
	{ IPC_BIND_CHECK,	0,		sup_bind_check },	/* bindpage.c */
	{ IPC_BIND_START,	H_LIMIT,	sup_bind_start },
	{ IPC_PEER_OPEN,	0,		sup_peer_open },	/* admit.c */
	{ IPC_PEER_CLOSE,	0,		sup_peer_close },
	{ 0,			0,	NULL }
};

static const struct sup_handler agent_handlers[] = {
	{ IPC_AGENT_DELTA,	0,	sup_agent_delta },
	{ IPC_AGENT_DONE,	0,	sup_agent_done },
	{ IPC_AGENT_FILE,	0,	sup_agent_file },
	{ IPC_AGENT_ERROR,	0,	sup_agent_error },
	{ IPC_AGENT_RESTART,	0,	sup_agent_restart },
	{ IPC_AGENT_ONLINE,	0,	sup_agent_online },
	{ IPC_RELAY_AUTH,	0,	sup_relay_auth },	/* router_relay.c */
	{ 0,			0,	NULL }
};

static const struct sup_handler metrics_handlers[] = {
	{ IPC_METRICS_GET,	0,	metrics_serve },	/* metrics.c */
	{ 0,			0,	NULL }
};

static const struct {
	int				 role;
	const struct sup_handler	*table;
} role_tables[] = {
	{ ROLE_WEBCHAT,	webchat_handlers },
	{ ROLE_CHANNEL,	channel_handlers },
	{ ROLE_AGENT,	agent_handlers },
	{ ROLE_METRICS,	metrics_handlers },
	{ ROLE_CONSOLE,	console_handlers },	/* console.c */
};

size_t
router_hash(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)(v % RT_BUCKETS);
}

/* A frame to a worker; one whose queue is full is killed (reap.c). */
int
router_send(struct worker *w, uint32_t type, uint64_t req_id,
    const void *body)
{
	return router_send_fd(w, type, req_id, body, -1);
}

/* The same with a descriptor (MSG_FD types), closed here in any case. */
int
router_send_fd(struct worker *w, uint32_t type, uint64_t req_id,
    const void *body, int fd)
{
	if (w == NULL || w->wire == NULL) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (wire_send_fd(w->wire, type, req_id, body, fd) == -1) {
		hub_overflow(w);
		return -1;
	}
	w->msgs_out++;
	return 0;
}

/*
 * What web chat clients were told, by error code, for metrics: the
 * codes are the catalogue's few words, and an agent's own (bounded in
 * length by the codec); past RT_CODES distinct ones they count as
 * "other".
 */
#define RT_CODES	32
static struct {
	char		 code[IPC_NAME_MAX + 1];
	uint64_t	 n;
} rt_codes[RT_CODES];
static unsigned		 rt_ncodes;
static uint64_t		 rt_messages;	/* new web chat messages stored */

void
router_count_error(const char *code)
{
	unsigned i;

	for (i = 0; i < rt_ncodes; i++)
		if (strcmp(rt_codes[i].code, code) == 0)
			break;
	if (i == rt_ncodes && rt_ncodes < RT_CODES - 1)
		snprintf(rt_codes[rt_ncodes++].code, IPC_NAME_MAX + 1, "%s",
		    code);
	else if (i == rt_ncodes)
		i = RT_CODES - 1;	/* the last place is "other" */
	rt_codes[i].n++;
}

void
router_count_message(void)
{
	rt_messages++;
}

void
router_metrics(struct evbuffer *b)
{
	struct mx_labels l;
	unsigned i;

	mx_family(b, "wxgate_webchat_connections", "gauge",
	    "WebSocket connections of web chat visitors.");
	mx_put(b, "wxgate_webchat_connections", NULL, admit_conns());
	mx_family(b, "wxgate_webchat_messages_total", "counter",
	    "New web chat messages stored for an agent.");
	mx_put(b, "wxgate_webchat_messages_total", NULL, rt_messages);
	mx_family(b, "wxgate_webchat_errors_total", "counter",
	    "Errors web chat clients were told, by code (busy, "
	    "rate_limited, timeout...).");
	for (i = 0; i < rt_ncodes; i++) {
		mx_labels_init(&l);
		mx_label(&l, "code", rt_codes[i].code);
		mx_put(b, "wxgate_webchat_errors_total", &l, rt_codes[i].n);
	}
	if (rt_codes[RT_CODES - 1].n > 0) {
		mx_labels_init(&l);
		mx_label(&l, "code", "other");
		mx_put(b, "wxgate_webchat_errors_total", &l,
		    rt_codes[RT_CODES - 1].n);
	}
}

void
rpc_error_id(struct worker *w, uint64_t req_id, uint64_t conn,
    const char *code, const char *message, uint64_t retry_ms)
{
	struct ipc_body_rpc_error b;

	router_count_error(code);
	b.conn = conn;
	b.code = ipc_s(code);
	b.message = ipc_s(message);
	b.retry_after_ms = retry_ms;
	router_send(w, IPC_RPC_ERROR, req_id, &b);
}

void
rpc_error_retry(struct worker *w, struct ipc_msg *m, uint64_t conn,
    const char *code, const char *message, uint64_t retry_ms)
{
	rpc_error_id(w, m->req_id, conn, code, message, retry_ms);
}

/* The store could not take a write: nothing was kept, try later. */
void
rpc_unavailable(struct worker *w, uint64_t req_id, uint64_t conn)
{
	rpc_error_id(w, req_id, conn, "unavailable",
	    "cannot store that now; retry later", RT_STORE_RETRY_MS);
}

/*
 * The shared store is behind (hub_pg_full): refused before anything is
 * written, busy as a full agent queue is, so the page sends it again.
 */
void
rpc_store_busy(struct worker *w, uint64_t req_id, uint64_t conn)
{
	rpc_error_id(w, req_id, conn, "busy",
	    "the store is catching up; retry later", RT_BEHIND_RETRY_MS);
}

void
rpc_error(struct worker *w, struct ipc_msg *m, uint64_t conn,
    const char *code, const char *message)
{
	rpc_error_retry(w, m, conn, code, message, 0);
}

/* The common gate. */

static int	router_limit(struct worker *, struct ipc_msg *);

static const struct sup_handler *
handler_find(const struct sup_handler *t, uint32_t type)
{
	for (; t->fn != NULL; t++)
		if (t->type == type)
			return t;
	return NULL;
}

static int
router_granted(uint32_t type)
{
	const struct cfg_policy *p = &sup->conf->policy;
	unsigned i;

	if (!p->webchat_narrowed || !role_is_method(type))
		return 1;
	for (i = 0; i < p->webchat_methods_count; i++)
		if (p->webchat_methods[i] == type)
			return 1;
	return 0;
}

/*
 * A browser request (every H_LIMIT body starts with its conn): only on
 * a connection admitted by conn.open, only a method the config leaves
 * webchat, and only with a token from the session's and the address's
 * buckets.  -1 when it was answered here.
 */
static int
router_limit(struct worker *w, struct ipc_msg *m)
{
	uint64_t conn = m->b.conn.conn, wait;
	struct binding *b = conn_find(w, conn);

	if (b == NULL || b->client == NULL) {
		hub_violation(w, "request on a connection never opened");
		return -1;
	}
	if (!router_granted(m->type)) {
		admit_deny(w, b->session, ipc_type_name(m->type),
		    "narrowed by policy.roles.webchat");
		rpc_error(w, m, conn, "forbidden",
		    "that method is not allowed here");
		return -1;
	}
	if ((wait = admit_request(b)) > 0) {
		rpc_error_retry(w, m, conn, "rate_limited",
		    "too many requests; retry later", wait);
		return -1;
	}
	return 0;
}

void
router_dispatch(struct worker *w, struct ipc_msg *m)
{
	const struct sup_handler *h;
	char why[IPC_NAME_MAX + 1];
	size_t i;

	if (!role_may_send(w->role, m->type)) {
		snprintf(why, sizeof(why), "%s not allowed for %s",
		    ipc_type_name(m->type), role_name(w->role));
		admit_deny(w, 0, ipc_type_name(m->type),
		    "sent by the worker: killed as compromised");
		hub_violation(w, why);
		return;
	}
	if ((h = handler_find(common_handlers, m->type)) == NULL) {
		for (i = 0; i < sizeof(role_tables) / sizeof(role_tables[0]);
		    i++)
			if (role_tables[i].role == w->role)
				h = handler_find(role_tables[i].table,
				    m->type);
	}
	if (h == NULL) {
		snprintf(why, sizeof(why), "%s has no handler",
		    ipc_type_name(m->type));
		hub_violation(w, why);
		return;
	}
	/*
	 * A worker a new hub took over: until it says "resynced", what it
	 * sends was meant for the old hub (connections, requests, acks and
	 * pongs this one never knew).  It says it all again after.
	 */
	if ((w->flags & W_F_RESYNC) && !(h->flags & H_EARLY) &&
	    m->type != IPC_READY && m->type != IPC_HELLO) {
		log_debug("worker %s: %s for the old hub dropped", w->name,
		    ipc_type_name(m->type));
		return;
	}
	if (!(w->flags & W_F_HELLO) && !(h->flags & (H_FIRST | H_EARLY))) {
		hub_violation(w, "frame before hello");
		return;
	}
	if ((h->flags & H_LIMIT) && router_limit(w, m) == -1)
		return;
	if (h->fn(w, m) == -1) {
		snprintf(why, sizeof(why), "bad %s", ipc_type_name(m->type));
		hub_violation(w, why);
	}
}

/* Lifecycle. */

static int
sup_hello(struct worker *w, struct ipc_msg *m)
{
	if (w->flags & W_F_HELLO)	/* read by the old hub, or not */
		return (w->flags & W_F_RESYNC) ? 0 : -1;
	if (m->b.hello.version != IPC_VERSION) {
		hub_kill(w, "IPC version mismatch");
		return 0;
	}
	if (!ipc_streq(m->b.hello.kind, w->kind))
		return -1;
	w->flags |= W_F_HELLO;
	/* A new process: none of the last one's figures. */
	w->rss_kb = w->pss_kb = 0;
	clock_gettime(CLOCK_MONOTONIC, &w->last_seen);
	return 0;
}

static int
sup_ready(struct worker *w, struct ipc_msg *m)
{
	(void)m;
	if (w->state != W_STARTING)
		return w->state == W_STOPPING ? 0 : -1;
	w->state = W_RUNNING;
	log_debug("worker %s (pid %d) ready", w->name, (int)w->pid);
	router_worker_ready(w);
	hub_worker_up(w);
	return 0;
}

static int
sup_pong(struct worker *w, struct ipc_msg *m)
{
	if (m->b.seq.seq > w->ping_seq)
		return -1;
	heartbeat_pong(w, m->b.seq.seq);
	return 0;
}

/*
 * A worker's memory figures, said by itself (worker.c: worker_figures):
 * the hub sees no /proc, and a root parent without CAP_SYS_PTRACE (the
 * systemd unit's) may not read another uid's smaps_rollup.  A worker
 * can only misstate its own; they are metrics, not policy.
 */
static int
sup_figures(struct worker *w, struct ipc_msg *m)
{
	w->rss_kb = m->b.figures.rss_kb;
	w->pss_kb = m->b.figures.pss_kb;
	return 0;
}

static int
sup_log(struct worker *w, struct ipc_msg *m)
{
	char line[LOG_LINE_MAX];

	/* Our prefix, from our records; the worker only supplies text. */
	snprintf(line, sizeof(line), "worker %s (pid %d): %.*s", w->name,
	    (int)w->pid, (int)m->b.log.text.len, m->b.log.text.p);
	/* The console's log page files it under the worker (logring.c). */
	logring_worker(w->name, m->b.log.text.p, m->b.log.text.len);
	log_emit((int)m->b.log.level, line);
	logring_worker(NULL, NULL, 0);
	return 0;
}

/* The worker's SIGSYS handler names the syscall before it dies. */
static int
sup_violation(struct worker *w, struct ipc_msg *m)
{
	w->violation = (int64_t)m->b.violation.syscall;
	hub_worker_syscall(w, m->b.violation.syscall);
	return 0;
}

static int
sup_resynced(struct worker *w, struct ipc_msg *m)
{
	(void)m;
	if (!(w->flags & W_F_RESYNC))
		return -1;
	w->flags &= ~W_F_RESYNC;
	/* Its ready went to the old hub, which did not pass it on. */
	if (w->state == W_STARTING) {
		w->state = W_RUNNING;
		router_worker_ready(w);
		hub_worker_up(w);
	}
	return 0;
}

/* Web chat. */

/* Agents. */

void
router_worker_ready(struct worker *w)
{
	if (w->role == ROLE_CHANNEL)
		channel_worker_ready(w);
	if (w->role == ROLE_AGENT)
		agentq_worker_ready(w);
}

/* A worker is gone: drop its connections, requeue its agent requests. */
void
router_worker_down(struct worker *w)
{
	conn_worker_down(w);
	if (w->role == ROLE_CHANNEL)
		channel_worker_down(w);
	if (w->role == ROLE_WEBCHAT)
		bindpage_worker_down(w);
	areq_worker_down(w);
}

/* Messages accepted before a supervisor restart are answered now. */
void
router_init(void)
{
	int n;

	agentq_init();
	/*
	 * What was in memory when the supervisor stopped waits in the
	 * store again and is fed to the agents a window at a time.
	 */
	if ((n = store_msg_requeue_all(sup->store)) == -1)
		log_warnx("%s: unanswered messages not requeued", __func__);
	else if (n > 0)
		log_info("%d unanswered messages requeued", n);
}

