/*
 * The router: every frame a worker sends passes the role gate here and is
 * dispatched through that role's handler table.  It binds web chat
 * connections to sessions, dedupes chat.send on (session, client_msg_id),
 * sends agent.request (the agent's system prompt, the session's last
 * history_limit exchanges, the new message), relays deltas back to
 * whichever connection currently holds the session, and turns chat.abort
 * into agent.abort plus a chat.done marked aborted.
 *
 * Before a web chat handler spends anything, the gate checks the
 * config's narrowing of the role and admit.c's token buckets; a session
 * past its idle or absolute TTL answers session_expired, and the sweep
 * deletes such sessions from the store.
 *
 * It never trusts an id in a body beyond the sender's own bindings: a
 * webchat worker names connections, and a connection reaches a session
 * only through session.open/resume or share.open on that same worker.
 * A share link (made by the operator over the control socket) binds to
 * its session, and a read-only one refuses chat.send and chat.abort.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "chan.h"
#include "config.h"
#include "log.h"
#include "role.h"
#include "session.h"
#include "store.h"
#include "sup.h"
#include "xmalloc.h"

#define RT_BUCKETS	4096
/* Room left in an agent.request frame for keys and headers. */
#define RT_FRAME_SLACK	4096

/* Expired sessions deleted per sweep: bounds one loop turn's work. */
#define RT_SWEEP_BATCH	256

/* A web chat connection bound to a session. */
struct binding {
	struct binding	*next;		/* conn hash chain */
	struct worker	*w;
	uint64_t	 gen;
	uint64_t	 conn;
	int64_t		 session;
	int64_t		 seen;		/* last request, sup_now() */
	int64_t		 expires;	/* absolute end, 0 none */
	int		 read_only;	/* by a read-only share link */
	int		 shared;	/* bound by share.open: recheck */
	uint8_t		 share_hash[SESSION_HASH_LEN];
};

/* Which connection gets a session's stream: the one that bound last. */
struct route {
	struct route	*next;		/* session hash chain */
	int64_t		 session;
	struct binding	*b;
};

/* One agent request in flight (or queued while its agent restarts). */
struct areq {
	TAILQ_ENTRY(areq)	 entry;		/* all requests */
	TAILQ_ENTRY(areq)	 dirty;		/* has output to relay */
	struct areq		*next;		/* id hash chain */
	uint64_t		 id;
	int64_t			 session;
	int64_t			 msg_id;
	char			 cmid[IPC_MSGID_MAX + 1];
	char			*text;		/* the user's message */
	char			 agent[IPC_NAME_MAX + 1];	/* worker */
	unsigned		 history;	/* turns of context */
	int			 channel;	/* a platform message */
	struct worker		*aw;		/* NULL while queued */
	uint64_t		 agen;
	struct evbuffer		*reply;
	struct evbuffer		*delta;
	int			 is_dirty;
	int			 done;
	int			 truncated;
};

TAILQ_HEAD(areqlist, areq);

static struct binding	*conn_tab[RT_BUCKETS];
static struct route	*sess_tab[RT_BUCKETS];
static struct areq	*req_tab[RT_BUCKETS];
static struct areqlist	 reqs = TAILQ_HEAD_INITIALIZER(reqs);
static struct areqlist	 dirty = TAILQ_HEAD_INITIALIZER(dirty);
static uint64_t		 next_req_id = 1;
static unsigned		 nreqs;

static int	sup_hello(struct worker *, struct ipc_msg *);
static int	sup_ready(struct worker *, struct ipc_msg *);
static int	sup_pong(struct worker *, struct ipc_msg *);
static int	sup_log(struct worker *, struct ipc_msg *);
static int	sup_violation(struct worker *, struct ipc_msg *);
static int	sup_session_open(struct worker *, struct ipc_msg *);
static int	sup_session_resume(struct worker *, struct ipc_msg *);
static int	sup_chat_send(struct worker *, struct ipc_msg *);
static int	sup_chat_history(struct worker *, struct ipc_msg *);
static int	sup_conn_close(struct worker *, struct ipc_msg *);
static int	sup_chat_abort(struct worker *, struct ipc_msg *);
static int	sup_rpc_call(struct worker *, struct ipc_msg *);
static int	sup_conn_open(struct worker *, struct ipc_msg *);
static int	sup_share_check(struct worker *, struct ipc_msg *);
static int	sup_share_open(struct worker *, struct ipc_msg *);
static int	sup_agent_delta(struct worker *, struct ipc_msg *);
static int	sup_agent_done(struct worker *, struct ipc_msg *);
static int	sup_agent_error(struct worker *, struct ipc_msg *);

static const struct sup_handler common_handlers[] = {
	{ IPC_HELLO,		H_FIRST | H_ONCE,	sup_hello },
	{ IPC_READY,		H_ONCE,			sup_ready },
	{ IPC_PONG,		0,			sup_pong },
	{ IPC_LOG,		H_EARLY,		sup_log },
	{ IPC_VIOLATION,	H_EARLY,		sup_violation },
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
	{ IPC_PEER_OPEN,	0,		sup_peer_open },	/* admit.c */
	{ IPC_PEER_CLOSE,	0,		sup_peer_close },
	{ 0,			0,	NULL }
};

static const struct sup_handler agent_handlers[] = {
	{ IPC_AGENT_DELTA,	0,	sup_agent_delta },
	{ IPC_AGENT_DONE,	0,	sup_agent_done },
	{ IPC_AGENT_ERROR,	0,	sup_agent_error },
	{ 0,			0,	NULL }
};

static const struct {
	int				 role;
	const struct sup_handler	*table;
} role_tables[] = {
	{ ROLE_WEBCHAT,	webchat_handlers },
	{ ROLE_CHANNEL,	channel_handlers },
	{ ROLE_AGENT,	agent_handlers },
};

static size_t
hash64(uint64_t v)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)(v % RT_BUCKETS);
}

static size_t
hash_conn(const struct worker *w, uint64_t conn)
{
	return hash64(conn ^ (uint64_t)(uintptr_t)w);
}

/* A frame to a worker; one whose queue is full is killed (reap.c). */
int
router_send(struct worker *w, uint32_t type, uint64_t req_id,
    const void *body)
{
	if (w == NULL || w->chan == NULL)
		return -1;
	if (chan_send(w->chan, type, req_id, body) == -1) {
		reap_kill(w, "send queue full");
		return -1;
	}
	w->msgs_out++;
	return 0;
}

static void
rpc_error_retry(struct worker *w, struct ipc_msg *m, uint64_t conn,
    const char *code, const char *message, uint64_t retry_ms)
{
	struct ipc_body_rpc_error b;

	b.conn = conn;
	b.code = ipc_s(code);
	b.message = ipc_s(message);
	b.retry_after_ms = retry_ms;
	router_send(w, IPC_RPC_ERROR, m->req_id, &b);
}

static void
rpc_error(struct worker *w, struct ipc_msg *m, uint64_t conn,
    const char *code, const char *message)
{
	rpc_error_retry(w, m, conn, code, message, 0);
}

/* Bindings and routes. */

static struct binding *
bind_find(struct worker *w, uint64_t conn)
{
	struct binding *b;

	for (b = conn_tab[hash_conn(w, conn)]; b != NULL; b = b->next)
		if (b->w == w && b->conn == conn && b->gen == w->gen)
			return b;
	return NULL;
}

static struct route *
route_find(int64_t session)
{
	struct route *r;

	for (r = sess_tab[hash64((uint64_t)session)]; r != NULL; r = r->next)
		if (r->session == session)
			return r;
	return NULL;
}

static void
route_set(int64_t session, struct binding *b)
{
	struct route *r;
	size_t h = hash64((uint64_t)session);

	if ((r = route_find(session)) == NULL) {
		r = xcalloc(1, sizeof(*r));
		r->session = session;
		r->next = sess_tab[h];
		sess_tab[h] = r;
	}
	r->b = b;
}

static void
route_drop(struct binding *b)
{
	struct route **rp, *r;

	for (rp = &sess_tab[hash64((uint64_t)b->session)]; (r = *rp) != NULL;
	    rp = &r->next) {
		if (r->session == b->session && r->b == b) {
			*rp = r->next;
			free(r);
			return;
		}
	}
}

static void
bind_remove(struct binding *b)
{
	struct binding **bp;

	/* The store's last_seen is what an idle TTL counts from. */
	if (b->seen > 0)
		store_session_seen(sup->store, b->session, b->seen);

	for (bp = &conn_tab[hash_conn(b->w, b->conn)]; *bp != NULL;
	    bp = &(*bp)->next) {
		if (*bp == b) {
			*bp = b->next;
			break;
		}
	}
	route_drop(b);
	free(b);
}

static int
bind_count(struct worker *w)
{
	struct binding *b;
	size_t i;
	int n = 0;

	for (i = 0; i < RT_BUCKETS; i++)
		for (b = conn_tab[i]; b != NULL; b = b->next)
			n += b->w == w;
	return n;
}

static struct binding *
bind_set(struct worker *w, uint64_t conn, int64_t session)
{
	struct binding *b;
	size_t h;

	if ((b = bind_find(w, conn)) != NULL) {
		route_drop(b);
		b->session = session;
		b->seen = b->expires = 0;
		b->read_only = b->shared = 0;
	} else {
		b = xcalloc(1, sizeof(*b));
		b->w = w;
		b->gen = w->gen;
		b->conn = conn;
		b->session = session;
		h = hash_conn(w, conn);
		b->next = conn_tab[h];
		conn_tab[h] = b;
	}
	route_set(session, b);
	return b;
}

/* The connection a session's events go to now, if any. */
static struct binding *
route_current(int64_t session)
{
	struct route *r = route_find(session);

	return r == NULL ? NULL : r->b;
}

/* Agent requests. */

static struct areq *
areq_find(uint64_t id)
{
	struct areq *r;

	for (r = req_tab[hash64(id)]; r != NULL; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

static struct areq *
areq_find_msg(int64_t msg_id)
{
	struct areq *r;

	TAILQ_FOREACH(r, &reqs, entry)
		if (r->msg_id == msg_id)
			return r;
	return NULL;
}

static void
areq_free(struct areq *r)
{
	struct areq **rp;

	for (rp = &req_tab[hash64(r->id)]; *rp != NULL; rp = &(*rp)->next)
		if (*rp == r) {
			*rp = r->next;
			break;
		}
	TAILQ_REMOVE(&reqs, r, entry);
	if (r->is_dirty)
		TAILQ_REMOVE(&dirty, r, dirty);
	evbuffer_free(r->reply);
	evbuffer_free(r->delta);
	free(r->text);
	free(r);
	nreqs--;
}

static void
areq_dirty(struct areq *r)
{
	if (!r->is_dirty) {
		r->is_dirty = 1;
		TAILQ_INSERT_TAIL(&dirty, r, dirty);
	}
	sup_turn();
}

struct turnbuf {
	char		**role;
	char		**text;
	size_t		  n;
	size_t		  cap;
};

static int
turnbuf_add(const char *role, const char *text, void *arg)
{
	struct turnbuf *tb = arg;

	if (tb->n == tb->cap) {
		tb->cap = tb->cap ? tb->cap * 2 : 16;
		tb->role = xreallocarray(tb->role, tb->cap, sizeof(char *));
		tb->text = xreallocarray(tb->text, tb->cap, sizeof(char *));
	}
	tb->role[tb->n] = xstrdup(role);
	tb->text[tb->n] = xstrdup(text);
	tb->n++;
	return 0;
}

static void
turnbuf_free(struct turnbuf *tb)
{
	size_t i;

	for (i = 0; i < tb->n; i++) {
		free(tb->role[i]);
		free(tb->text[i]);
	}
	free(tb->role);
	free(tb->text);
}

/*
 * Fill t from tb, dropping the oldest turns until the rest fits in one
 * frame next to `reserve` bytes of other content.  Returns the index of
 * the first turn kept.
 */
static size_t
turns_fit(struct turnbuf *tb, struct ipc_turns *t, size_t reserve,
    size_t max_turns)
{
	size_t first = 0, i, size = reserve + RT_FRAME_SLACK;

	for (i = 0; i < tb->n; i++)
		size += strlen(tb->text[i]) + 32;
	while (first < tb->n &&
	    (size > IPC_FRAME_MAX || tb->n - first > max_turns)) {
		size -= strlen(tb->text[first]) + 32;
		first++;
	}
	t->n = 0;
	for (i = first; i < tb->n; i++) {
		t->v[t->n].role = ipc_s(tb->role[i]);
		t->v[t->n].text = ipc_s(tb->text[i]);
		t->n++;
	}
	return first;
}

static struct worker *
agent_worker(const char *name)
{
	struct worker *w = spawn_find(name);

	if (w == NULL || w->state != W_RUNNING || w->chan == NULL)
		return NULL;
	return w;
}

/*
 * Build the context from the store and send it; else leave it queued.
 * The system prompt comes first and is never the turn dropped to fit:
 * the oldest history goes instead.
 */
static void
areq_dispatch(struct areq *r)
{
	static struct ipc_body_agent_request b;
	struct turnbuf tb = { NULL, NULL, 0, 0 };
	const struct cfg_agent *ca;
	const char *sys = NULL;
	struct worker *aw;

	if ((aw = agent_worker(r->agent)) == NULL)
		return;
	ca = config_agent(sup->conf, r->agent + strlen("agent."));
	if (ca != NULL && ca->system_prompt != NULL &&
	    ca->system_prompt[0] != '\0')
		sys = ca->system_prompt;
	if (store_history(sup->store, r->session, r->history, r->msg_id,
	    turnbuf_add, &tb) == -1) {
		turnbuf_free(&tb);
		tb.role = tb.text = NULL;
		tb.n = tb.cap = 0;
	}
	turnbuf_add("user", r->text, &tb);
	b.session = (uint64_t)r->session;
	turns_fit(&tb, &b.turns, sys != NULL ? strlen(sys) + 32 : 0,
	    sys != NULL ? IPC_TURNS_MAX - 1 : IPC_TURNS_MAX);
	if (sys != NULL && b.turns.n > 0) {
		memmove(&b.turns.v[1], &b.turns.v[0],
		    b.turns.n * sizeof(b.turns.v[0]));
		b.turns.v[0].role = IPC_S("system");
		b.turns.v[0].text = ipc_s(sys);
		b.turns.n++;
	}
	if (b.turns.n == 0 ||
	    router_send(aw, IPC_AGENT_REQUEST, r->id, &b) == -1) {
		turnbuf_free(&tb);
		return;
	}
	turnbuf_free(&tb);
	r->aw = aw;
	r->agen = aw->gen;
}

/*
 * Ask an agent to answer a stored message.  cmid names it to a web chat
 * client; "" marks a platform message, whose reply goes to channel.c.
 */
static void
areq_start(int64_t session, int64_t msg_id, struct ipc_str cmid,
    const char *text, const char *agent, unsigned history)
{
	struct areq *r;
	size_t h;

	r = xcalloc(1, sizeof(*r));
	r->id = next_req_id++;
	r->session = session;
	r->msg_id = msg_id;
	snprintf(r->cmid, sizeof(r->cmid), "%.*s", (int)cmid.len, cmid.p);
	r->channel = cmid.len == 0;
	r->history = history;
	r->text = xstrdup(text);
	snprintf(r->agent, sizeof(r->agent), "agent.%s", agent);
	if ((r->reply = evbuffer_new()) == NULL ||
	    (r->delta = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	h = hash64(r->id);
	r->next = req_tab[h];
	req_tab[h] = r;
	TAILQ_INSERT_TAIL(&reqs, r, entry);
	nreqs++;
	store_msg_set_state(sup->store, msg_id, MSG_ANSWERING);
	areq_dispatch(r);
}

static void
areq_webchat(int64_t session, int64_t msg_id, struct ipc_str cmid,
    const char *text)
{
	areq_start(session, msg_id, cmid, text, sup->conf->webchat.agent,
	    sup->conf->webchat.history_limit);
}

void
router_ask(int64_t session, int64_t msg_id, const char *text,
    const char *agent, unsigned history)
{
	areq_start(session, msg_id, IPC_S(""), text, agent, history);
}

/* The common gate. */

static int	router_limit(struct worker *, struct ipc_msg *);
static int	bind_share_live(struct worker *, struct ipc_msg *,
		    struct binding *);

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
	struct binding *b = bind_find(w, conn);
	int64_t session = b != NULL ? b->session : 0;

	if (!admit_known(w, conn)) {
		reap_violation(w, "request on a connection never opened");
		return -1;
	}
	if (!router_granted(m->type)) {
		admit_deny(w, session, ipc_type_name(m->type),
		    "narrowed by policy.roles.webchat");
		rpc_error(w, m, conn, "forbidden",
		    "that method is not allowed here");
		return -1;
	}
	if ((wait = admit_request(w, conn, session)) > 0) {
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
		reap_violation(w, why);
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
		reap_violation(w, why);
		return;
	}
	if (!(w->flags & W_F_HELLO) && !(h->flags & (H_FIRST | H_EARLY))) {
		reap_violation(w, "frame before hello");
		return;
	}
	if ((h->flags & H_LIMIT) && router_limit(w, m) == -1)
		return;
	if (h->fn(w, m) == -1) {
		snprintf(why, sizeof(why), "bad %s", ipc_type_name(m->type));
		reap_violation(w, why);
	}
}

/* Lifecycle. */

static int
sup_hello(struct worker *w, struct ipc_msg *m)
{
	if (w->flags & W_F_HELLO)
		return -1;
	if (m->b.hello.version != IPC_VERSION) {
		reap_kill(w, "IPC version mismatch");
		return 0;
	}
	if (!ipc_streq(m->b.hello.kind, w->kind))
		return -1;
	w->flags |= W_F_HELLO;
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

static int
sup_log(struct worker *w, struct ipc_msg *m)
{
	char line[LOG_LINE_MAX];

	/* Our prefix, from our records; the worker only supplies text. */
	snprintf(line, sizeof(line), "worker %s (pid %d): %.*s", w->name,
	    (int)w->pid, (int)m->b.log.text.len, m->b.log.text.p);
	log_emit((int)m->b.log.level, line);
	return 0;
}

/* The worker's SIGSYS handler names the syscall before it dies. */
static int
sup_violation(struct worker *w, struct ipc_msg *m)
{
	w->violation = (int64_t)m->b.violation.syscall;
	return 0;
}

/* Web chat. */

static int
sup_session_open(struct worker *w, struct ipc_msg *m)
{
	struct ipc_body_session_ok ok;
	char tok[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN];
	int64_t id, now = sup_now();
	uint64_t conn = m->b.conn_addr.conn;
	const struct cfg_policy *p = &sup->conf->policy;
	struct binding *b;

	if (!p->anonymous) {
		rpc_error(w, m, conn, "disabled",
		    "the public chat is turned off");
		return 0;
	}
	if (bind_find(w, conn) == NULL &&
	    bind_count(w) >= (int)sup->conf->webchat.max_conns) {
		rpc_error(w, m, conn, "busy", "too many connections");
		return 0;
	}
	if (session_token_new(tok, hash) == -1 ||
	    store_session_create(sup->store, hash, now,
	    now + (int64_t)p->absolute_ttl_s, &id) == -1) {
		rpc_error(w, m, conn, "internal", "cannot create a session");
		return 0;
	}
	b = bind_set(w, conn, id);
	b->seen = now;
	b->expires = now + (int64_t)p->absolute_ttl_s;
	ok.conn = conn;
	ok.token = ipc_s(tok);
	ok.resumed = 0;
	router_send(w, IPC_SESSION_OK, m->req_id, &ok);
	explicit_bzero(tok, sizeof(tok));
	return 0;
}

static int
sup_session_resume(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_resume *rb = &m->b.resume;
	struct ipc_body_session_ok ok;
	uint8_t hash[SESSION_HASH_LEN];
	const struct cfg_policy *p = &sup->conf->policy;
	struct binding *b;
	int64_t id, now = sup_now();
	int rv;

	if (!p->anonymous) {
		rpc_error(w, m, rb->conn, "disabled",
		    "the public chat is turned off");
		return 0;
	}
	if (session_token_hash(rb->token.p, rb->token.len, hash) == -1) {
		rpc_error(w, m, rb->conn, "bad_token",
		    "that is not a session token");
		return 0;
	}
	if (bind_find(w, rb->conn) == NULL &&
	    bind_count(w) >= (int)sup->conf->webchat.max_conns) {
		rpc_error(w, m, rb->conn, "busy", "too many connections");
		return 0;
	}
	rv = store_session_find(sup->store, hash, now,
	    (int64_t)p->idle_ttl_s, &id);
	if (rv == -1) {
		rpc_error(w, m, rb->conn, "internal", "store error");
		return 0;
	}
	if (rv == 1) {
		rpc_error(w, m, rb->conn, "unknown_session",
		    "no such session; open a new one");
		return 0;
	}
	if (rv == 2) {
		rpc_error(w, m, rb->conn, "session_expired",
		    "the session has expired; open a new one");
		return 0;
	}
	b = bind_set(w, rb->conn, id);
	b->seen = now;
	/* The store holds the absolute end; the sweep enforces it. */
	b->expires = 0;
	ok.conn = rb->conn;
	ok.token = ipc_s("");
	ok.resumed = 1;
	router_send(w, IPC_SESSION_OK, m->req_id, &ok);
	return 0;
}

/*
 * The connection's session, if it has one that has not expired; else
 * the request is answered here and NULL returned.  A request counts as
 * the session being seen.
 */
static struct binding *
bind_live(struct worker *w, struct ipc_msg *m, uint64_t conn)
{
	const struct cfg_policy *p = &sup->conf->policy;
	struct binding *b;
	int64_t now = sup_now();

	if ((b = bind_find(w, conn)) == NULL) {
		rpc_error(w, m, conn, "no_session",
		    "open or resume a session first");
		return NULL;
	}
	if (b->seen < 0 || (b->expires > 0 && now >= b->expires) ||
	    (b->seen > 0 && now - b->seen >= (int64_t)p->idle_ttl_s)) {
		rpc_error(w, m, conn, "session_expired",
		    "the session has expired; open a new one");
		b->seen = 0;
		bind_remove(b);
		return NULL;
	}
	if (b->shared && bind_share_live(w, m, b) == -1)
		return NULL;
	b->seen = now;
	return b;
}

/*
 * A connection that came in by a share link holds the session only as
 * long as the link does: revoking or expiring it cuts every visitor
 * off at their next request, not only new ones.
 */
static int
bind_share_live(struct worker *w, struct ipc_msg *m, struct binding *b)
{
	int64_t link, session;
	int ro;

	if (store_share_find(sup->store, b->share_hash, sup_now(), &link,
	    &session, &ro) == 0 && (session == 0 || session == b->session))
		return 0;
	rpc_error(w, m, b->conn, "share_expired",
	    "this share link has expired or was revoked");
	bind_remove(b);
	return -1;
}

/* A method the worker does not serve: another role's, or nobody's. */
static int
sup_rpc_call(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_rpc_call *rc = &m->b.rpc_call;
	struct binding *b = bind_find(w, rc->conn);
	char method[IPC_METHOD_MAX + 1];
	int role;

	role = role_of_method(rc->method.p, rc->method.len, NULL);
	if (role == 0 || role == ROLE_WEBCHAT) {
		rpc_error(w, m, rc->conn, "unknown_method", "unknown method");
		return 0;
	}
	snprintf(method, sizeof(method), "%.*s", (int)rc->method.len,
	    rc->method.p);
	admit_deny(w, b != NULL ? b->session : 0, method,
	    role == ROLE_OPERATOR ? "operator method from a browser" :
	    "another role's method from a browser");
	rpc_error(w, m, rc->conn, "forbidden",
	    "that method is not allowed here");
	return 0;
}

static int
sup_conn_open(struct worker *w, struct ipc_msg *m)
{
	struct ipc_body_conn_verdict v;
	int status;

	if ((status = admit_conn_open(w, &m->b.conn_open,
	    &v.retry_after_ms)) == -1)
		return -1;
	v.conn = m->b.conn_open.conn;
	v.status = (uint64_t)status;
	router_send(w, IPC_CONN_VERDICT, m->req_id, &v);
	return 0;
}

static void
send_done(struct binding *b, const char *cmid, const char *text, size_t len,
    int replayed, int aborted)
{
	struct ipc_body_chat_done d;

	d.conn = b->conn;
	d.client_msg_id = ipc_s(cmid);
	d.text.p = text;
	d.text.len = len;
	d.replayed = replayed;
	d.aborted = aborted;
	router_send(b->w, IPC_CHAT_DONE, 0, &d);
}

static int
sup_chat_send(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_chat_send *cb = &m->b.chat_send;
	struct ipc_body_chat_accepted acc;
	struct binding *b;
	enum msg_state st;
	char *cmid, *text, *reply = NULL;
	int64_t msg_id;
	int rv;

	if ((b = bind_live(w, m, cb->conn)) == NULL)
		return 0;
	if (b->read_only) {
		rpc_error(w, m, cb->conn, "read_only",
		    "this shared conversation is read-only");
		return 0;
	}
	if (cb->text.len > sup->conf->webchat.max_text) {
		rpc_error(w, m, cb->conn, "too_large", "message too long");
		return 0;
	}
	/* This connection now holds the session's stream. */
	route_set(b->session, b);
	cmid = ipc_strdup(cb->client_msg_id);
	rv = store_msg_lookup(sup->store, b->session, cmid, &st, &msg_id,
	    &reply);
	acc.conn = cb->conn;
	acc.client_msg_id = cb->client_msg_id;
	if (rv == -1) {
		rpc_error(w, m, cb->conn, "internal", "store error");
		goto out;
	}
	if (rv == 0 && st == MSG_ANSWERED) {
		acc.status = ipc_s("answered");
		router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		send_done(b, cmid, reply, strlen(reply), 1, 0);
		goto out;
	}
	if (rv == 0) {
		/* Accepted or answering: attach to the running request. */
		acc.status = ipc_s("answering");
		router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		if (areq_find_msg(msg_id) == NULL) {
			text = ipc_strdup(cb->text);
			areq_webchat(b->session, msg_id, cb->client_msg_id,
			    text);
			free(text);
		}
		goto out;
	}
	text = ipc_strdup(cb->text);
	if (store_msg_accept(sup->store, b->session, cmid, text, sup_now(),
	    &msg_id) == -1) {
		free(text);
		rpc_error(w, m, cb->conn, "internal", "store error");
		goto out;
	}
	acc.status = ipc_s("accepted");
	router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
	areq_webchat(b->session, msg_id, cb->client_msg_id, text);
	free(text);
	sup_turn();
out:
	free(reply);
	free(cmid);
	return 0;
}

static int
sup_chat_history(struct worker *w, struct ipc_msg *m)
{
	static struct ipc_body_history h;
	struct turnbuf tb = { NULL, NULL, 0, 0 };
	struct binding *b;
	uint64_t conn = m->b.history_req.conn;
	unsigned limit = (unsigned)m->b.history_req.limit;

	if ((b = bind_live(w, m, conn)) == NULL)
		return 0;
	if (limit == 0 || limit > IPC_TURNS_MAX / 2)
		limit = IPC_TURNS_MAX / 2;
	if (store_history(sup->store, b->session, limit, 0, turnbuf_add,
	    &tb) == -1) {
		turnbuf_free(&tb);
		rpc_error(w, m, conn, "internal", "store error");
		return 0;
	}
	h.conn = conn;
	turns_fit(&tb, &h.turns, 0, IPC_TURNS_MAX);
	router_send(w, IPC_HISTORY, m->req_id, &h);
	turnbuf_free(&tb);
	return 0;
}

static int
sup_conn_close(struct worker *w, struct ipc_msg *m)
{
	struct binding *b;

	if ((b = bind_find(w, m->b.conn.conn)) != NULL)
		bind_remove(b);
	admit_conn_close(w, m->b.conn.conn);
	return 0;
}

/*
 * Stop the reply to one of this connection's session's messages: the
 * agent drops the request (and its upstream transfer), what was written
 * so far is stored as the answer, and the client gets chat.done with
 * aborted set.  Late frames of the request find nothing and are dropped.
 */
static int
sup_chat_abort(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_chat_abort *ab = &m->b.chat_abort;
	struct ipc_body_chat_accepted acc;
	struct ipc_body_empty eb = { 0 };
	struct binding *b, *cur;
	struct areq *r;
	size_t len;
	char *text;

	if ((b = bind_live(w, m, ab->conn)) == NULL)
		return 0;
	if (b->read_only) {
		rpc_error(w, m, ab->conn, "read_only",
		    "this shared conversation is read-only");
		return 0;
	}
	TAILQ_FOREACH(r, &reqs, entry)
		if (r->session == b->session && !r->done &&
		    ipc_streq(ab->client_msg_id, r->cmid))
			break;
	if (r == NULL) {
		rpc_error(w, m, ab->conn, "not_running",
		    "no reply to that message is being written");
		return 0;
	}
	acc.conn = ab->conn;
	acc.client_msg_id = ab->client_msg_id;
	acc.status = ipc_s("aborted");
	router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
	if (r->aw != NULL && r->agen == r->aw->gen)
		router_send(r->aw, IPC_AGENT_ABORT, r->id, &eb);
	len = evbuffer_get_length(r->reply);
	text = xmalloc(len + 1);
	evbuffer_copyout(r->reply, text, len);
	text[len] = '\0';
	if (store_msg_answer(sup->store, r->msg_id, text, sup_now()) == -1)
		log_warnx("%s: partial reply to message %lld not stored",
		    __func__, (long long)r->msg_id);
	if ((cur = route_current(r->session)) != NULL)
		send_done(cur, r->cmid, text, len, 0, 1);
	free(text);
	log_debug("%s: request %llu aborted", __func__,
	    (unsigned long long)r->id);
	areq_free(r);
	sup_turn();
	return 0;
}

/* Agents. */

/* A frame about a request must come from the incarnation it went to. */
static struct areq *
areq_of(struct worker *w, struct ipc_msg *m)
{
	struct areq *r = areq_find(m->req_id);

	if (r == NULL || r->aw != w || r->agen != w->gen)
		return NULL;
	return r;
}

static size_t
utf8_cut(const char *s, size_t len, size_t room)
{
	if (len <= room)
		return len;
	while (room > 0 && ((unsigned char)s[room] & 0xc0) == 0x80)
		room--;
	return room;
}

static int
sup_agent_delta(struct worker *w, struct ipc_msg *m)
{
	struct areq *r;
	size_t have, n;

	if ((r = areq_of(w, m)) == NULL || r->done) {
		log_debug("%s: %s: stale request %llu", __func__, w->name,
		    (unsigned long long)m->req_id);
		return 0;
	}
	if (r->truncated)
		return 0;
	have = evbuffer_get_length(r->reply);
	n = utf8_cut(m->b.text.text.p, m->b.text.text.len,
	    IPC_REPLY_MAX - have);
	if (n < m->b.text.text.len) {
		r->truncated = 1;
		log_warnx("%s: %s: reply to request %llu truncated at %d "
		    "bytes", __func__, w->name,
		    (unsigned long long)r->id, IPC_REPLY_MAX);
	}
	evbuffer_add(r->reply, m->b.text.text.p, n);
	evbuffer_add(r->delta, m->b.text.text.p, n);
	areq_dirty(r);
	return 0;
}

static int
sup_agent_done(struct worker *w, struct ipc_msg *m)
{
	struct areq *r;
	size_t len;
	char *text;

	if ((r = areq_of(w, m)) == NULL || r->done)
		return 0;
	len = evbuffer_get_length(r->reply);
	text = xmalloc(len + 1);
	evbuffer_copyout(r->reply, text, len);
	text[len] = '\0';
	if (store_msg_answer(sup->store, r->msg_id, text, sup_now()) == -1)
		log_warnx("%s: reply to message %lld not stored", __func__,
		    (long long)r->msg_id);
	else if (r->channel)
		channel_answered(r->session, r->msg_id, text);
	free(text);
	r->done = 1;
	areq_dirty(r);
	return 0;
}

static int
sup_agent_error(struct worker *w, struct ipc_msg *m)
{
	struct ipc_body_chat_error e;
	struct binding *b;
	struct areq *r;

	if ((r = areq_of(w, m)) == NULL || r->done)
		return 0;
	/* The agent logged the detail once; this is the summary. */
	log_debug("agent %s: request %llu failed: %.*s: %.*s", w->name,
	    (unsigned long long)r->id, (int)m->b.agent_error.code.len,
	    m->b.agent_error.code.p, (int)m->b.agent_error.message.len,
	    m->b.agent_error.message.p);
	if (r->channel) {
		/* Nobody resends a platform message: answer it now. */
		channel_failed(r->session, r->msg_id, m->b.agent_error.code);
		areq_free(r);
		return 0;
	}
	/* Not answered: a resend of the same message tries again. */
	store_msg_set_state(sup->store, r->msg_id, MSG_ACCEPTED);
	if ((b = route_current(r->session)) != NULL) {
		e.conn = b->conn;
		e.client_msg_id = ipc_s(r->cmid);
		e.code = m->b.agent_error.code;
		e.message = m->b.agent_error.message;
		e.retry_after_ms = m->b.agent_error.retry_after_ms;
		router_send(b->w, IPC_CHAT_ERROR, 0, &e);
	}
	areq_free(r);
	return 0;
}

/* Relay what the agents said during this loop turn, one frame each. */
void
router_flush(void)
{
	struct ipc_body_chat_delta d;
	struct binding *b;
	struct areq *r;
	size_t len;

	while ((r = TAILQ_FIRST(&dirty)) != NULL) {
		TAILQ_REMOVE(&dirty, r, dirty);
		r->is_dirty = 0;
		b = route_current(r->session);
		len = evbuffer_get_length(r->delta);
		/*
		 * Text that arrived in the same turn as agent.done still goes
		 * out as a delta first: the deltas a client sees add up to
		 * the chat.done text.
		 */
		if (b != NULL && len > 0) {
			d.conn = b->conn;
			d.client_msg_id = ipc_s(r->cmid);
			d.text.p = (const char *)evbuffer_pullup(r->delta, -1);
			d.text.len = len;
			router_send(b->w, IPC_CHAT_DELTA, 0, &d);
		}
		evbuffer_drain(r->delta, len);
		if (r->done) {
			if (b != NULL) {
				len = evbuffer_get_length(r->reply);
				send_done(b, r->cmid, (const char *)
				    evbuffer_pullup(r->reply, -1), len, 0, 0);
			}
			areq_free(r);
		}
	}
}

int
router_idle(void)
{
	return nreqs == 0;
}

void
router_worker_ready(struct worker *w)
{
	struct areq *r;

	if (w->role == ROLE_CHANNEL)
		channel_worker_ready(w);
	if (w->role != ROLE_AGENT)
		return;
	TAILQ_FOREACH(r, &reqs, entry)
		if (r->aw == NULL && strcmp(r->agent, w->name) == 0)
			areq_dispatch(r);
}

/* A worker is gone: drop its bindings, requeue its agent requests. */
void
router_worker_down(struct worker *w)
{
	struct binding *b, *next;
	struct areq *r;
	size_t i;

	for (i = 0; i < RT_BUCKETS; i++) {
		for (b = conn_tab[i]; b != NULL; b = next) {
			next = b->next;
			if (b->w == w)
				bind_remove(b);
		}
	}
	admit_worker_down(w);
	if (w->role == ROLE_CHANNEL)
		channel_worker_down(w);
	TAILQ_FOREACH(r, &reqs, entry) {
		if (r->aw != w)
			continue;
		/* The agent starts over; chat.done carries the whole text. */
		r->aw = NULL;
		evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
		evbuffer_drain(r->delta, evbuffer_get_length(r->delta));
		r->truncated = 0;
	}
}

static int
router_pending_cb(int64_t msg_id, int64_t session, const char *cmid,
    const char *text, void *arg)
{
	(void)arg;
	if (cmid[0] == '\0')
		return channel_pending(session, msg_id, text);
	areq_webchat(session, msg_id, ipc_s(cmid), text);
	return 0;
}

/*
 * Expire anonymous sessions: bound ones first (their next request gets
 * session_expired), then the store's rows, except a session an agent is
 * still answering, which goes on a later sweep.
 */
void
router_sweep(void)
{
	const struct cfg_policy *p = &sup->conf->policy;
	int64_t ids[RT_SWEEP_BATCH], now = sup_now();
	struct binding *b;
	struct areq *r;
	size_t i;
	int n, k;

	admit_sweep();
	for (i = 0; i < RT_BUCKETS; i++)
		for (b = conn_tab[i]; b != NULL; b = b->next)
			if (b->seen > 0 &&
			    now - b->seen < (int64_t)p->idle_ttl_s)
				store_session_seen(sup->store, b->session,
				    b->seen);
	if ((n = store_session_expired(sup->store, now,
	    (int64_t)p->idle_ttl_s, ids, RT_SWEEP_BATCH)) <= 0)
		return;
	for (k = 0; k < n; k++) {
		TAILQ_FOREACH(r, &reqs, entry)
			if (r->session == ids[k])
				break;
		if (r != NULL)
			continue;
		for (i = 0; i < RT_BUCKETS; i++)
			for (b = conn_tab[i]; b != NULL; b = b->next)
				if (b->session == ids[k])
					b->seen = -1;	/* expired */
		store_session_delete(sup->store, ids[k]);
	}
	log_debug("%s: %d sessions expired", __func__, n);
}

/* Messages accepted before a supervisor restart are answered now. */
void
router_init(void)
{
	if (store_pending(sup->store, router_pending_cb, NULL) == -1)
		log_warnx("%s: pending messages not requeued", __func__);
	if (nreqs > 0)
		log_info("%u accepted messages requeued", nreqs);
}

/* Share links. */

/* The URL of a link, from the address the operator published. */
void
router_share_url(char *buf, size_t len, const char *id, size_t idlen)
{
	snprintf(buf, len, "%s/s/%.*s", sup->conf->webchat.public_url,
	    (int)idlen, id);
}

/*
 * GET /s/<id>: 200 for a live link, 410 for an expired or revoked one,
 * 404 for anything else.  The URL is rebuilt here from the config so
 * the page's QR code names the address the operator published.
 */
static int
sup_share_check(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_share_check *cb = &m->b.share_check;
	struct ipc_body_share_status st;
	uint8_t hash[SESSION_HASH_LEN];
	char url[IPC_URL_MAX + 1];
	int64_t link, session;
	int rv, ro = 0;

	st.conn = cb->conn;
	st.status = 404;
	st.read_only = 0;
	url[0] = '\0';
	/* The secret makes guessing moot; the bucket bounds the lookups. */
	if ((st.retry_after_ms = admit_http(cb->peer, cb->forwarded)) > 0)
		st.status = 429;
	else if (session_token_hash(cb->id.p, cb->id.len, hash) == 0) {
		rv = store_share_find(sup->store, hash, sup_now(), &link,
		    &session, &ro);
		if (rv == 0) {
			st.status = 200;
			st.read_only = ro;
			router_share_url(url, sizeof(url), cb->id.p,
			    cb->id.len);
		} else if (rv == 2)
			st.status = 410;
		else if (rv == -1)
			st.status = 503;
	}
	st.url = ipc_s(url);
	router_send(w, IPC_SHARE_STATUS, m->req_id, &st);
	explicit_bzero(url, sizeof(url));
	return 0;
}

/*
 * A per-visitor link's session for this visitor: the one their page
 * kept (visitor token), else a new one whose token goes back in *tok.
 * 0, or -1 when answered here.
 */
static int
share_visitor(struct worker *w, struct ipc_msg *m, int64_t link,
    int64_t *session, char tok[SESSION_TOKEN_LEN + 1])
{
	const struct ipc_body_share_open *ob = &m->b.share_open;
	const struct cfg_policy *p = &sup->conf->policy;
	uint8_t hash[SESSION_HASH_LEN];
	int64_t now = sup_now();

	tok[0] = '\0';
	if (ob->visitor.len > 0 &&
	    session_token_hash(ob->visitor.p, ob->visitor.len, hash) == 0 &&
	    store_visitor_find(sup->store, hash, link, now,
	    (int64_t)p->idle_ttl_s, session) == 0)
		return 0;
	/* Unknown or expired: a new conversation, as session.open does. */
	if (session_token_new(tok, hash) == -1 ||
	    store_visitor_create(sup->store, hash, link, now,
	    now + (int64_t)p->absolute_ttl_s, session) == -1) {
		explicit_bzero(tok, SESSION_TOKEN_LEN + 1);
		rpc_error(w, m, ob->conn, "internal",
		    "cannot create a session");
		return -1;
	}
	return 0;
}

/*
 * share.open: bind the connection to the link's session, as resume
 * does for a token, or for a per-visitor link to the visitor's own.  A
 * read-only binding may read history but never send or abort.  Links
 * are the operator's grant, so they work even with the anonymous chat
 * turned off.
 */
static int
sup_share_open(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_share_open *ob = &m->b.share_open;
	struct ipc_body_share_ok ok;
	char tok[SESSION_TOKEN_LEN + 1];
	uint8_t hash[SESSION_HASH_LEN];
	struct binding *b;
	int64_t link, session, now = sup_now();
	int rv, ro = 0;

	if (session_token_hash(ob->token.p, ob->token.len, hash) == -1) {
		rpc_error(w, m, ob->conn, "unknown_share",
		    "that is not a share link");
		return 0;
	}
	if (bind_find(w, ob->conn) == NULL &&
	    bind_count(w) >= (int)sup->conf->webchat.max_conns) {
		rpc_error(w, m, ob->conn, "busy", "too many connections");
		return 0;
	}
	rv = store_share_find(sup->store, hash, now, &link, &session, &ro);
	if (rv == -1) {
		rpc_error(w, m, ob->conn, "internal", "store error");
		return 0;
	}
	if (rv == 1) {
		rpc_error(w, m, ob->conn, "unknown_share",
		    "no such share link");
		return 0;
	}
	if (rv == 2) {
		rpc_error(w, m, ob->conn, "share_expired",
		    "this share link has expired or was revoked");
		return 0;
	}
	tok[0] = '\0';
	if (session == 0 && share_visitor(w, m, link, &session, tok) == -1)
		return 0;
	b = bind_set(w, ob->conn, session);
	b->seen = now;
	b->expires = 0;
	b->read_only = ro;
	b->shared = 1;
	memcpy(b->share_hash, hash, sizeof(b->share_hash));
	ok.conn = ob->conn;
	ok.read_only = ro;
	ok.token = ipc_s(tok);
	router_send(w, IPC_SHARE_OK, m->req_id, &ok);
	explicit_bzero(tok, sizeof(tok));
	return 0;
}
