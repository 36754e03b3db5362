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

#include "areq.h"
#include "wire.h"
#include "clock.h"
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

/* Deltas held for a slow worker are tried again after this. */
#define RT_HOLD_MS	20

/* unavailable's retry_after: a full disk is not fixed in a second. */
#define RT_STORE_RETRY_MS	5000

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


static struct binding	*conn_tab[RT_BUCKETS];
static struct route	*sess_tab[RT_BUCKETS];
static struct areq	*req_tab[RT_BUCKETS];
static struct areqlist	 reqs = TAILQ_HEAD_INITIALIZER(reqs);
static struct areqlist	 dirty = TAILQ_HEAD_INITIALIZER(dirty);
static uint64_t		 next_req_id = 1;
static struct event	*hold_ev;	/* retry deltas held for room */
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
	if (w == NULL || w->wire == NULL)
		return -1;
	if (wire_send(w->wire, type, req_id, body) == -1) {
		reap_overflow(w);
		return -1;
	}
	w->msgs_out++;
	return 0;
}

static void
rpc_error_id(struct worker *w, uint64_t req_id, uint64_t conn,
    const char *code, const char *message, uint64_t retry_ms)
{
	struct ipc_body_rpc_error b;

	b.conn = conn;
	b.code = ipc_s(code);
	b.message = ipc_s(message);
	b.retry_after_ms = retry_ms;
	router_send(w, IPC_RPC_ERROR, req_id, &b);
}

static void
rpc_error_retry(struct worker *w, struct ipc_msg *m, uint64_t conn,
    const char *code, const char *message, uint64_t retry_ms)
{
	rpc_error_id(w, m->req_id, conn, code, message, retry_ms);
}

/* The store could not take a write: nothing was kept, try later. */
static void
rpc_unavailable(struct worker *w, uint64_t req_id, uint64_t conn)
{
	rpc_error_id(w, req_id, conn, "unavailable",
	    "cannot store that now; retry later", RT_STORE_RETRY_MS);
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

	agentq_forget(r);
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
	free(r->ctx);
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

/*
 * Build the context from the store and send it: 0, or -1 when the
 * agent's worker cannot take it now (it stays waiting).  The system
 * prompt comes first and is never the turn dropped to fit: the oldest
 * history goes instead.
 */
int
router_dispatch_req(struct areq *r)
{
	static struct ipc_body_agent_request b;
	struct turnbuf tb = { NULL, NULL, 0, 0 };
	const struct cfg_agent *ca;
	const char *sys = NULL;
	char name[IPC_NAME_MAX + 1];
	struct worker *aw;

	snprintf(name, sizeof(name), "agent.%s", agentq_name(r->aq));
	if ((aw = spawn_find(name)) == NULL || aw->state != W_RUNNING ||
	    aw->wire == NULL)
		return -1;
	ca = config_agent(sup->conf, agentq_name(r->aq));
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
	if (router_send(aw, IPC_AGENT_REQUEST, r->id, &b) == -1) {
		turnbuf_free(&tb);
		return -1;
	}
	turnbuf_free(&tb);
	r->aw = aw;
	r->agen = aw->gen;
	return 0;
}

/*
 * A request for a message already marked answering in the store; it
 * waits for its agent's window (agentq.c).  Its deadline counts from
 * when the message was accepted.
 */
static struct areq *
areq_new(struct agentq *aq, const struct areq_from *f, const char *text,
    int pending)
{
	const struct config *c = sup->conf;
	const struct cfg_channel *cc;
	struct areq *r;
	int64_t left;
	size_t h;

	r = xcalloc(1, sizeof(*r));
	r->id = next_req_id++;
	r->origin = f->origin;
	r->session = f->session;
	r->msg_id = f->msg_id;
	r->text = xstrdup(text);
	r->aq = aq;
	left = f->created + (int64_t)c->webchat.deadline_s - sup_now();
	r->history = c->webchat.history_limit;
	if (f->origin == AREQ_WEBCHAT) {
		snprintf(r->cmid, sizeof(r->cmid), "%s", f->cmid);
		snprintf(r->client, sizeof(r->client), "%s", f->client);
	} else {
		snprintf(r->account, sizeof(r->account), "%s", f->account);
		snprintf(r->peer, sizeof(r->peer), "%s", f->peer);
		if (f->ctx != NULL && f->ctx[0] != '\0')
			r->ctx = xstrdup(f->ctx);
		if ((cc = config_channel(c, r->account)) != NULL) {
			left = f->created + (int64_t)cc->deadline_s -
			    sup_now();
			r->history = cc->history_limit;
		}
	}
	r->deadline = clock_mono_ms() + (left > 0 ? (uint64_t)left * 1000 : 0);
	if ((r->reply = evbuffer_new()) == NULL ||
	    (r->delta = evbuffer_new()) == NULL)
		fatalx("%s: evbuffer_new", __func__);
	h = hash64(r->id);
	r->next = req_tab[h];
	req_tab[h] = r;
	TAILQ_INSERT_TAIL(&reqs, r, entry);
	nreqs++;
	if (pending)
		agentq_reserve(r);
	else
		agentq_add(r);
	return r;
}

/* A web chat message on connection b: where its answer goes. */
static void
areq_from_webchat(struct areq_from *f, struct binding *b, int64_t msg_id,
    const char *cmid)
{
	memset(f, 0, sizeof(*f));
	f->origin = AREQ_WEBCHAT;
	f->session = b->session;
	f->msg_id = msg_id;
	f->created = sup_now();
	f->cmid = cmid;
	f->client = admit_conn_client(b->w, b->conn);
}

/* A web chat message, resent after it failed: ask its agent again. */
static void
areq_webchat(struct agentq *aq, struct binding *b, int64_t msg_id,
    struct ipc_str cmid, const char *text)
{
	struct areq_from f;
	char id[IPC_MSGID_MAX + 1];

	if (store_msg_take(sup->store, msg_id) == -1)
		log_warnx("%s: message %lld not marked answering", __func__,
		    (long long)msg_id);
	snprintf(id, sizeof(id), "%.*s", (int)cmid.len, cmid.p);
	areq_from_webchat(&f, b, msg_id, id);
	areq_new(aq, &f, text, 0);
}

struct take_arg {
	struct agentq	*aq;
	const char	*account;
};

static void
router_take_cb(const struct store_backlog_row *row, void *arg)
{
	struct take_arg *ta = arg;

	struct areq_from f;

	/* Taken again after a rolled-back turn: it is already here. */
	if (areq_find_msg(row->id) != NULL)
		return;
	memset(&f, 0, sizeof(f));
	f.origin = ta->account != NULL ? AREQ_CHANNEL : AREQ_WEBCHAT;
	f.session = row->session;
	f.msg_id = row->id;
	f.created = row->created;
	f.cmid = row->cmid;
	f.client = "";
	f.account = row->account;
	f.peer = row->peer;
	f.ctx = row->ctx;
	areq_new(ta->aq, &f, row->text, 0);
}

/* Up to limit rows of one source's backlog (account NULL: web chat). */
unsigned
router_take(struct agentq *aq, const char *account, unsigned limit)
{
	struct take_arg ta = { aq, account };
	int n;

	if ((n = store_backlog_take(sup->store, account, limit,
	    router_take_cb, &ta)) == -1)
		return limit;	/* not empty as far as we know: try again */
	return (unsigned)n;
}

struct areq *
router_first_req(void)
{
	return TAILQ_FIRST(&reqs);
}

struct areq *
router_next_req(struct areq *r)
{
	return TAILQ_NEXT(r, entry);
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

static void
session_ok_cb(struct durable *d, int committed)
{
	struct ipc_body_session_ok ok;
	struct worker *w = durable_worker(d);
	struct binding *b;

	if (w != NULL && !committed) {
		if ((b = bind_find(w, d->conn)) != NULL &&
		    b->session == d->session) {
			b->seen = 0;	/* no row to touch */
			bind_remove(b);
		}
		rpc_unavailable(w, d->req_id, d->conn);
	} else if (w != NULL) {
		ok.conn = d->conn;
		ok.token = ipc_s(d->str);
		ok.resumed = 0;
		router_send(w, IPC_SESSION_OK, d->req_id, &ok);
	}
	explicit_bzero(d->str, strlen(d->str));
}

static int
sup_session_open(struct worker *w, struct ipc_msg *m)
{
	struct durable *d;
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
		explicit_bzero(tok, sizeof(tok));
		rpc_unavailable(w, m->req_id, conn);
		return 0;
	}
	b = bind_set(w, conn, id);
	b->seen = now;
	b->expires = now + (int64_t)p->absolute_ttl_s;
	/* The token is worth something only once the session is stored. */
	d = durable_after(session_ok_cb);
	durable_for(d, w, m->req_id, conn);
	d->session = id;
	d->str = xstrdup(tok);
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

static void
send_error(struct binding *b, const char *cmid, const char *code,
    const char *message, uint64_t retry_ms)
{
	struct ipc_body_chat_error e;

	e.conn = b->conn;
	e.client_msg_id = ipc_s(cmid);
	e.code = ipc_s(code);
	e.message = ipc_s(message);
	e.retry_after_ms = retry_ms;
	router_send(b->w, IPC_CHAT_ERROR, 0, &e);
}

/* What a client is told of a message that ended without a reply. */
static const char *
error_message(const char *code)
{
	if (strcmp(code, "timeout") == 0)
		return "no answer in time; send it again later";
	return "the agent could not answer";
}

/*
 * A message the store already has.  Answered: the reply (or the error
 * it ended with) again.  Otherwise it is waiting or being answered:
 * attach to it; only one whose client was told it failed needs a new
 * request, and that one needs room like a new message.
 */
static void
chat_known(struct worker *w, struct ipc_msg *m, struct binding *b,
    struct agentq *aq, const char *cmid, enum msg_state st, int64_t msg_id,
    const char *reply)
{
	const struct ipc_body_chat_send *cb = &m->b.chat_send;
	struct ipc_body_chat_accepted acc;
	uint64_t wait;
	char *err = NULL, *text;

	acc.conn = cb->conn;
	acc.client_msg_id = cb->client_msg_id;
	acc.status = ipc_s(st == MSG_ANSWERED ? "answered" : "answering");
	if (areq_find_msg(msg_id) != NULL) {
		router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		return;
	}
	if (store_msg_error(sup->store, msg_id, &err) == -1) {
		rpc_unavailable(w, m->req_id, cb->conn);
		return;
	}
	if (st == MSG_ANSWERED) {
		router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		if (err != NULL)
			send_error(b, cmid, err, error_message(err), 0);
		else
			send_done(b, cmid, reply, strlen(reply), 1, 0);
	} else if (err == NULL && st == MSG_ACCEPTED) {
		/* In the store's backlog: it comes up in its turn. */
		router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		agentq_backlog(aq);
	} else if ((wait = agentq_room(aq, admit_conn_client(w, cb->conn),
	    b->session)) > 0)
		rpc_error_retry(w, m, cb->conn, "busy",
		    "the agent is busy; retry later", wait);
	else {
		router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		text = ipc_strdup(cb->text);
		areq_webchat(aq, b, msg_id, cb->client_msg_id, text);
		free(text);
	}
	free(err);
}

/*
 * The turn that stored a new message committed, or not: "accepted" and
 * the request may go to the agent, or the client hears unavailable and
 * the request (still only reserved) is dropped.
 */
static void
chat_accepted_cb(struct durable *d, int ok)
{
	struct ipc_body_chat_accepted acc;
	struct worker *w = durable_worker(d);
	struct areq *r = areq_find((uint64_t)d->id);

	if (!ok) {
		if (r != NULL)
			areq_free(r);
		if (w != NULL)
			rpc_unavailable(w, d->req_id, d->conn);
		return;
	}
	if (w != NULL) {
		acc.conn = d->conn;
		acc.client_msg_id = ipc_s(d->str);
		acc.status = IPC_S("accepted");
		router_send(w, IPC_CHAT_ACCEPTED, d->req_id, &acc);
	}
	if (r != NULL)
		agentq_commit(r);
}

/*
 * chat.send: dedupe on (session, client_msg_id), then admission: a new
 * message the agent has no room for is answered busy at once and not
 * stored, so nothing waits that the client was told to send again.
 */
static int
sup_chat_send(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_chat_send *cb = &m->b.chat_send;
	struct agentq *aq = agentq_find(sup->conf->webchat.agent);
	struct areq_from f;
	struct durable *d;
	struct areq *r;
	struct binding *b;
	enum msg_state st;
	char *cmid, *text, *reply = NULL;
	uint64_t wait;
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
	/* config.c checked the agent exists; agentq_init made its queue. */
	if (aq == NULL)
		fatalx("%s: no admission for agent %s", __func__,
		    sup->conf->webchat.agent);
	/* This connection now holds the session's stream. */
	route_set(b->session, b);
	cmid = ipc_strdup(cb->client_msg_id);
	rv = store_msg_lookup(sup->store, b->session, cmid, &st, &msg_id,
	    &reply);
	if (rv == -1) {
		rpc_unavailable(w, m->req_id, cb->conn);
		goto out;
	}
	if (rv == 0) {
		chat_known(w, m, b, aq, cmid, st, msg_id, reply);
		goto out;
	}
	if ((wait = agentq_room(aq, admit_conn_client(w, cb->conn),
	    b->session)) > 0) {
		rpc_error_retry(w, m, cb->conn, "busy",
		    "the agent is busy; retry later", wait);
		goto out;
	}
	text = ipc_strdup(cb->text);
	if (store_msg_accept(sup->store, b->session, cmid, text, sup_now(),
	    &msg_id) == -1 || store_msg_take(sup->store, msg_id) == -1) {
		free(text);
		rpc_unavailable(w, m->req_id, cb->conn);
		goto out;
	}
	/* Counted at once; told "accepted" once the turn commits. */
	areq_from_webchat(&f, b, msg_id, cmid);
	r = areq_new(aq, &f, text, 1);
	free(text);
	d = durable_after(chat_accepted_cb);
	durable_for(d, w, m->req_id, cb->conn);
	d->id = (int64_t)r->id;
	d->str = xstrdup(cmid);
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
	struct binding *b;
	struct areq *r;

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
	/* What was written so far is the answer, told once it is stored. */
	evbuffer_drain(r->delta, evbuffer_get_length(r->delta));
	r->aborted = 1;
	router_finish(r);
	log_debug("%s: request %llu aborted", __func__,
	    (unsigned long long)r->id);
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

/*
 * The answer is complete: chat.done (or the platform's outbox rows)
 * once the turn that stored it commits.  A failed commit leaves the
 * request here, unstored, and agentq.c's tick stores it again.
 */
static void
areq_done_cb(struct durable *d, int ok)
{
	struct areq *r = areq_find((uint64_t)d->id);

	if (r == NULL)
		return;
	if (!ok) {
		r->unstored = 1;
		return;
	}
	/* router_flush sends chat.done once the worker has room. */
	r->stored = 1;
	areq_dirty(r);
}

/* Store r's reply as the message's answer, then wait for the commit. */
void
router_finish(struct areq *r)
{
	struct durable *d;
	size_t len = evbuffer_get_length(r->reply);
	char *text;

	text = xmalloc(len + 1);
	evbuffer_copyout(r->reply, text, len);
	text[len] = '\0';
	r->done = 1;
	r->unstored = 0;
	if (store_msg_answer(sup->store, r->msg_id, text, sup_now()) == 0 &&
	    r->origin == AREQ_CHANNEL)
		channel_reply(r->account, r->peer, r->ctx, r->msg_id, text);
	free(text);
	areq_dirty(r);
	d = durable_after(areq_done_cb);
	d->id = (int64_t)r->id;
}

static int
sup_agent_done(struct worker *w, struct ipc_msg *m)
{
	struct areq *r;

	if ((r = areq_of(w, m)) == NULL || r->done)
		return 0;
	router_finish(r);
	return 0;
}

/* A platform message's answer is a notice saying why there is none. */
static void
areq_notice(struct areq *r, struct ipc_str code)
{
	char notice[IPC_TEXT_MAX];

	channel_failure_text(notice, sizeof(notice), code);
	evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
	evbuffer_drain(r->delta, evbuffer_get_length(r->delta));
	evbuffer_add(r->reply, notice, strlen(notice));
	router_finish(r);
}

static int
sup_agent_error(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_agent_error *ae = &m->b.agent_error;
	struct binding *b;
	struct areq *r;
	char *code, *msg;

	if ((r = areq_of(w, m)) == NULL || r->done)
		return 0;
	/* The agent logged the detail once; this is the summary. */
	log_debug("agent %s: request %llu failed: %.*s: %.*s", w->name,
	    (unsigned long long)r->id, (int)ae->code.len, ae->code.p,
	    (int)ae->message.len, ae->message.p);
	if (r->origin == AREQ_CHANNEL) {
		/* Nobody resends a platform message: answer it now. */
		areq_notice(r, ae->code);
		return 0;
	}
	/* Not answered: the client is told, and a resend tries again. */
	code = ipc_strdup(ae->code);
	msg = ipc_strdup(ae->message);
	store_msg_told(sup->store, r->msg_id, code);
	if ((b = route_current(r->session)) != NULL)
		send_error(b, r->cmid, code, msg, ae->retry_after_ms);
	free(code);
	free(msg);
	areq_free(r);
	return 0;
}

/*
 * Past its deadline: the client hears `timeout`, which is stored as the
 * message's answer, and the agent drops the request.
 */
void
router_timeout(struct areq *r)
{
	struct ipc_body_empty eb = { 0 };
	struct ipc_str code = IPC_S("timeout");
	struct binding *b;

	log_debug("%s: request %llu (message %lld) timed out", __func__,
	    (unsigned long long)r->id, (long long)r->msg_id);
	if (r->aw != NULL && r->agen == r->aw->gen)
		router_send(r->aw, IPC_AGENT_ABORT, r->id, &eb);
	if (r->origin == AREQ_CHANNEL) {
		areq_notice(r, code);
		return;
	}
	store_msg_fail(sup->store, r->msg_id, "timeout", sup_now());
	if ((b = route_current(r->session)) != NULL)
		send_error(b, r->cmid, "timeout", error_message("timeout"), 0);
	areq_free(r);
	sup_turn();
}

/* Room for a frame of output: a quarter of the queue stays for replies. */
static int
router_room(struct worker *w)
{
	return w->wire != NULL && wire_queued(w->wire) <
	    sup->conf->supervisor.queue_max - sup->conf->supervisor.queue_max / 4;
}

static void
router_hold_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	(void)arg;
	sup_turn();
}

/* Relay what the agents said during this loop turn, one frame each. */
void
router_flush(void)
{
	struct ipc_body_chat_delta d;
	struct areqlist later = TAILQ_HEAD_INITIALIZER(later);
	struct timeval tv = { 0, RT_HOLD_MS * 1000 };
	struct binding *b;
	struct areq *r;
	size_t len;

	while ((r = TAILQ_FIRST(&dirty)) != NULL) {
		TAILQ_REMOVE(&dirty, r, dirty);
		b = route_current(r->session);
		len = evbuffer_get_length(r->delta);
		/*
		 * A worker that reads slowly gets its deltas later, merged,
		 * rather than a queue overflow: the supervisor must never be
		 * the one that fills a worker's queue.
		 */
		if (b != NULL && (len > 0 || r->stored) &&
		    !router_room(b->w)) {
			TAILQ_INSERT_TAIL(&later, r, dirty);
			continue;
		}
		r->is_dirty = 0;
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
		/* chat.done waits for the commit: areq_done_cb. */
		if (!r->stored)
			continue;
		if (b != NULL && r->origin == AREQ_WEBCHAT)
			send_done(b, r->cmid, (const char *)evbuffer_pullup(
			    r->reply, -1), evbuffer_get_length(r->reply), 0,
			    r->aborted);
		areq_free(r);
	}
	if (TAILQ_EMPTY(&later))
		return;
	TAILQ_CONCAT(&dirty, &later, dirty);
	if (hold_ev == NULL && (hold_ev = evtimer_new(sup->base,
	    router_hold_cb, NULL)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (!evtimer_pending(hold_ev, NULL))
		evtimer_add(hold_ev, &tv);
}

int
router_idle(void)
{
	return nreqs == 0;
}

void
router_worker_ready(struct worker *w)
{
	if (w->role == ROLE_CHANNEL)
		channel_worker_ready(w);
	if (w->role == ROLE_AGENT)
		agentq_worker_ready(w);
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
		/* A finished answer waits for its commit, not the agent. */
		if (r->aw != w || r->done)
			continue;
		/*
		 * The agent starts over, within its window again; chat.done
		 * carries the whole text.
		 */
		agentq_requeue(r);
		r->aw = NULL;
		evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
		evbuffer_drain(r->delta, evbuffer_get_length(r->delta));
		r->truncated = 0;
	}
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
