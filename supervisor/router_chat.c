/*
 * The web chat role's requests: sessions (open, resume), chat.send with
 * its dedupe on (session, client_msg_id) and its admission (agentq.c),
 * history, abort, and connections opening and closing.  Called through
 * router.c's webchat handler table, after the role gate and the policy
 * buckets.  Every id in a body is checked against the sender's own
 * bindings (router_bind.c); nothing here trusts the worker further.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "areq.h"
#include "bindpage.h"
#include "clock.h"
#include "command.h"
#include "config.h"
#include "hub.h"
#include "log.h"
#include "role.h"
#include "router_int.h"
#include "session.h"
#include "store.h"
#include "wire.h"
#include "xmalloc.h"

static int	chat_cmd_told(int64_t, const char *);

/* The connection's binding to the session its claim named, undone. */
static void
session_unbind(struct worker *w, const struct durable *d)
{
	struct binding *b;

	if ((b = bind_find(w, d->conn)) != NULL && b->session == d->session) {
		b->seen = 0;	/* no row to touch */
		bind_remove(b);
	}
}

/*
 * Its ship waits on a cluster's database that is down: busy now, and
 * the page opens another session later.  This one's row still ships
 * and is nobody's (its token was never told): the sweep ends it.
 */
static void
session_late(struct durable *d)
{
	struct worker *w = durable_worker(d);

	if (w == NULL)
		return;
	session_unbind(w, d);
	rpc_store_busy(w, d->req_id, d->conn);
}

static void
session_ok_cb(struct durable *d, int committed)
{
	struct ipc_body_session_ok ok;
	struct worker *w = durable_worker(d);

	if (d->told)
		;	/* session_late answered */
	else if (w != NULL && !committed) {
		session_unbind(w, d);
		rpc_unavailable(w, d->req_id, d->conn);
	} else if (w != NULL) {
		ok.conn = d->conn;
		ok.token = ipc_s(d->str);
		ok.resumed = 0;
		router_send(w, IPC_SESSION_OK, d->req_id, &ok);
	}
	explicit_bzero(d->str, strlen(d->str));
}

int
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
	if (!bind_room(w, conn)) {
		rpc_error(w, m, conn, "busy", "too many connections");
		return 0;
	}
	/* A cluster's shared store is behind: nothing written, and the
	 * page opens again later. */
	if (hub_pg_full()) {
		hub_pg_refused();
		rpc_store_busy(w, m->req_id, conn);
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
	if (hub_pg_on())
		durable_due(d, RT_ACCEPT_DUE_MS, session_late);
	return 0;
}

/* The session is in the working set, if it is anywhere: bind to it. */
static void
resume_bind(struct worker *w, uint64_t req_id, uint64_t conn,
    const uint8_t *hash)
{
	struct ipc_body_session_ok ok;
	const struct cfg_policy *p = &sup->conf->policy;
	struct binding *b;
	int64_t id, now = sup_now();
	int rv;

	if (!conn_open(w, conn))
		return;
	if (!bind_room(w, conn)) {
		rpc_error_id(w, req_id, conn, "busy", "too many connections",
		    0);
		return;
	}
	rv = store_session_find(sup->store, hash, now,
	    (int64_t)p->idle_ttl_s, &id);
	if (rv == -1)
		rpc_error_id(w, req_id, conn, "internal", "store error", 0);
	else if (rv == 1)
		rpc_error_id(w, req_id, conn, "unknown_session",
		    "no such session; open a new one", 0);
	else if (rv == 2)
		rpc_error_id(w, req_id, conn, "session_expired",
		    "the session has expired; open a new one", 0);
	if (rv != 0)
		return;
	b = bind_set(w, conn, id);
	b->seen = now;
	/* The store holds the absolute end; the sweep enforces it. */
	b->expires = 0;
	ok.conn = conn;
	ok.token = ipc_s("");
	ok.resumed = 1;
	router_send(w, IPC_SESSION_OK, req_id, &ok);
}

/* The shared store's copy of the session is in (a cluster's). */
static void
resume_loaded(struct durable *d, int ok)
{
	struct worker *w = durable_worker(d);
	uint8_t hash[SESSION_HASH_LEN];

	if (w == NULL)
		return;
	if (!ok)
		rpc_store_busy(w, d->req_id, d->conn);
	else if (session_hash_unhex(d->str, hash) == 0)
		resume_bind(w, d->req_id, d->conn, hash);
}

/*
 * session.resume.  In a cluster the visitor may come from another
 * node: the session is read from the shared store first, so its whole
 * history, replies finished elsewhere included, is here.
 */
int
sup_session_resume(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_resume *rb = &m->b.resume;
	uint8_t hash[SESSION_HASH_LEN];
	char hex[2 * SESSION_HASH_LEN + 1];
	struct durable t;
	int rv;

	if (!sup->conf->policy.anonymous) {
		rpc_error(w, m, rb->conn, "disabled",
		    "the public chat is turned off");
		return 0;
	}
	if (session_token_hash(rb->token.p, rb->token.len, hash) == -1) {
		rpc_error(w, m, rb->conn, "bad_token",
		    "that is not a session token");
		return 0;
	}
	if (!bind_room(w, rb->conn)) {
		rpc_error(w, m, rb->conn, "busy", "too many connections");
		return 0;
	}
	memset(&t, 0, sizeof(t));
	durable_for(&t, w, m->req_id, rb->conn);
	session_hash_hex(hash, hex);
	t.str = hex;
	rv = hub_pg_visit(HUB_VISIT_TOKEN, hex, NULL, resume_loaded, &t);
	if (rv == 1)
		resume_bind(w, m->req_id, rb->conn, hash);
	else if (rv == -1)
		rpc_error_retry(w, m, rb->conn, "busy",
		    "too many sessions loading; retry later",
		    RT_STORE_RETRY_MS);
	return 0;
}

/* A method the worker does not serve: another role's, or nobody's. */
int
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

int
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

void
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

void
send_error(struct binding *b, const char *cmid, const char *code,
    const char *message, uint64_t retry_ms)
{
	struct ipc_body_chat_error e;

	router_count_error(code);
	e.conn = b->conn;
	e.client_msg_id = ipc_s(cmid);
	e.code = ipc_s(code);
	e.message = ipc_s(message);
	e.retry_after_ms = retry_ms;
	router_send(b->w, IPC_CHAT_ERROR, 0, &e);
}

/* A stored answer told again: its reply, or the error it ended with. */
void
send_answer(struct binding *b, const char *cmid, const char *reply,
    const char *err)
{
	if (err != NULL)
		send_error(b, cmid, err, error_message(err), 0);
	else
		send_done(b, cmid, reply, strlen(reply), 1, 0);
}

/* What a client is told of a message that ended without a reply. */
const char *
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
	struct areq *r;
	uint64_t wait;
	char *err = NULL, *text;

	acc.conn = cb->conn;
	acc.client_msg_id = cb->client_msg_id;
	acc.status = ipc_s(st == MSG_ANSWERED ? "answered" : "answering");
	/* A command told busy, still shipping: busy again (chat_cmd_late). */
	if (chat_cmd_told(b->session, cmid)) {
		rpc_store_busy(w, m->req_id, cb->conn);
		return;
	}
	if ((r = areq_find_msg(msg_id)) != NULL) {
		/* Its turn is not stored yet (a cluster's ship waits for
		 * the database): "answering" would promise what may not
		 * be kept, so busy again, as chat_accepted_late said. */
		if (r->reserved) {
			rpc_store_busy(w, m->req_id, cb->conn);
			return;
		}
		/* Asked again: its answer goes to this connection. */
		r->muted = 0;
		router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		return;
	}
	if (store_msg_error(sup->store, msg_id, &err) == -1) {
		rpc_unavailable(w, m->req_id, cb->conn);
		return;
	}
	/* In a cluster, a message another node made and has not
	 * answered is that node's to answer: awaited, never asked twice.
	 * One of ours without its request (its turn's ship failed, its
	 * client was told so) may go again, as on a node alone. */
	if (hub_pg_on() && st != MSG_ANSWERED &&
	    !(st == MSG_ACCEPTED && err != NULL) &&
	    !store_ids_mine(sup->store, msg_id)) {
		if (router_await(b->session, msg_id, cmid) == -1)
			rpc_error_retry(w, m, cb->conn, "busy",
			    "too many messages awaited; retry later",
			    RT_STORE_RETRY_MS);
		else
			router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		free(err);
		return;
	}
	if (st == MSG_ANSWERED) {
		router_send(w, IPC_CHAT_ACCEPTED, m->req_id, &acc);
		send_answer(b, cmid, reply, err);
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
 * the request (still only reserved) is dropped.  A client told busy
 * already (chat_accepted_late) hears nothing more: the request goes to
 * the agent all the same, muted, and the client's resend finds it,
 * answering or answered (chat_known), and hears its answer once.
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
		if (w != NULL && !d->told)
			rpc_unavailable(w, d->req_id, d->conn);
		return;
	}
	if (w != NULL && !d->told) {
		acc.conn = d->conn;
		acc.client_msg_id = ipc_s(d->str);
		acc.status = IPC_S("accepted");
		router_send(w, IPC_CHAT_ACCEPTED, d->req_id, &acc);
	}
	if (r != NULL)
		agentq_commit(r);
}

/*
 * The new message's turn is committed here but not yet shipped to a
 * cluster's database, which is down: the client hears busy with a
 * retry_after instead of nothing.  Nothing is lost: the message stays
 * in the working set and its ship is retried; the page sends the same
 * client_msg_id again, which finds it (chat_known) and hears busy until
 * it is stored, then its answer.  Until then the request stays reserved
 * and muted, so no answer reaches a client who was told busy.
 *
 * A chat command and session.open have the same deadline
 * (chat_cmd_late, session_late).
 */
static void
chat_accepted_late(struct durable *d)
{
	struct worker *w = durable_worker(d);
	struct areq *r = areq_find((uint64_t)d->id);

	if (r != NULL)
		r->muted = 1;
	if (w != NULL)
		rpc_store_busy(w, d->req_id, d->conn);
}

/*
 * Commands told busy whose turn still ships.  A resend finds the
 * command stored with its answer in the working set, which is not yet
 * the truth: it hears busy while the claim is here, and the answer
 * once the ship is in.  Bounded by the ship queue, whose claims these
 * are; a list, walked only for a resend of a known message.
 */
struct cmd_told {
	TAILQ_ENTRY(cmd_told)	 entry;
	const struct durable	*d;
};
static TAILQ_HEAD(, cmd_told) cmd_told = TAILQ_HEAD_INITIALIZER(cmd_told);

static int
chat_cmd_told(int64_t session, const char *cmid)
{
	struct cmd_told *t;

	TAILQ_FOREACH(t, &cmd_told, entry)
		if (t->d->session == session && strcmp(t->d->str, cmid) == 0)
			return 1;
	return 0;
}

static void
chat_cmd_late(struct durable *d)
{
	struct worker *w = durable_worker(d);
	struct cmd_told *t = xcalloc(1, sizeof(*t));

	t->d = d;
	TAILQ_INSERT_TAIL(&cmd_told, t, entry);
	if (w != NULL)
		rpc_store_busy(w, d->req_id, d->conn);
}

/* A command's turn committed: accepted, and its answer at once. */
static void
chat_command_cb(struct durable *d, int ok)
{
	struct ipc_body_chat_accepted acc;
	struct worker *w = durable_worker(d);
	struct binding *b;
	struct cmd_told *t;

	if (d->told) {
		/* Its client heard busy; a resend now finds it stored. */
		TAILQ_FOREACH(t, &cmd_told, entry)
			if (t->d == d)
				break;
		if (t != NULL) {
			TAILQ_REMOVE(&cmd_told, t, entry);
			free(t);
		}
		return;
	}
	if (w == NULL)
		return;
	if (!ok) {
		rpc_unavailable(w, d->req_id, d->conn);
		return;
	}
	acc.conn = d->conn;
	acc.client_msg_id = ipc_s(d->str);
	acc.status = IPC_S("accepted");
	router_send(w, IPC_CHAT_ACCEPTED, d->req_id, &acc);
	if ((b = route_current(d->session)) != NULL)
		send_done(b, d->str, d->str2, strlen(d->str2), 0, 0);
}

/* A chat command (command.c): stored with its answer, never an agent's. */
static void
chat_command(struct worker *w, struct ipc_msg *m, struct binding *b,
    const struct command *cmd, const char *arg, const char *cmid,
    const char *text)
{
	char reply[1024];
	struct cmd_ctx x;
	struct durable *d;
	int64_t msg_id;

	if (store_msg_accept(sup->store, b->session, cmid, text, sup_now(),
	    &msg_id) == -1) {
		rpc_unavailable(w, m->req_id, m->b.chat_send.conn);
		return;
	}
	x.session = b->session;
	x.msg_id = msg_id;
	x.agent = sup->conf->webchat.agent;
	x.arg = arg;
	x.account = NULL;
	x.peer = NULL;
	x.w = w;
	x.allowed = sup->conf->policy.webchat_commands;
	if (command_run(cmd, &x, reply, sizeof(reply)) == -1) {
		rpc_unavailable(w, m->req_id, m->b.chat_send.conn);
		return;
	}
	router_count_message();
	d = durable_after(chat_command_cb);
	durable_for(d, w, m->req_id, m->b.chat_send.conn);
	d->session = b->session;
	d->str = xstrdup(cmid);
	d->str2 = xstrdup(reply);
	if (hub_pg_on())
		durable_due(d, RT_ACCEPT_DUE_MS, chat_cmd_late);
}

/*
 * chat.send: dedupe on (session, client_msg_id), then admission: a new
 * message the agent (or a cluster's shared store) has no room for is
 * answered busy at once and not stored, so nothing waits that the
 * client was told to send again.
 */
int
sup_chat_send(struct worker *w, struct ipc_msg *m)
{
	const struct ipc_body_chat_send *cb = &m->b.chat_send;
	struct agentq *aq = agentq_find(sup->conf->webchat.agent);
	const struct command *cmd;
	struct areq_from f;
	struct durable *d;
	struct areq *r;
	struct binding *b;
	enum msg_state st;
	char *cmid, *text, *reply = NULL, arg[CMD_ARG_MAX + 1];
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
	/*
	 * A cluster's shared store is behind: the turn would be rolled
	 * back at its commit and the client told unavailable, which the
	 * page does not send again.  Busy now, and nothing written.
	 */
	if (hub_pg_full()) {
		hub_pg_refused();
		rpc_store_busy(w, m->req_id, cb->conn);
		goto out;
	}
	text = ipc_strdup(cb->text);
	if ((cmd = command_find(text, arg, sizeof(arg))) != NULL) {
		chat_command(w, m, b, cmd, arg, cmid, text);
		free(text);
		goto out;
	}
	free(text);
	if ((wait = agentq_room(aq, admit_conn_client(w, cb->conn),
	    b->session)) > 0) {
		rpc_error_retry(w, m, cb->conn, "busy",
		    "the agent is busy; retry later", wait);
		goto out;
	}
	text = ipc_strdup(cb->text);
	if (store_msg_accept_taken(sup->store, b->session, cmid, text,
	    sup_now(), &msg_id) == -1) {
		free(text);
		rpc_unavailable(w, m->req_id, cb->conn);
		goto out;
	}
	/* Counted at once; told "accepted" once the turn commits. */
	router_count_message();
	areq_from_webchat(&f, b, msg_id, cmid);
	r = areq_new(aq, &f, text, 1);
	free(text);
	d = durable_after(chat_accepted_cb);
	durable_for(d, w, m->req_id, cb->conn);
	/* Alone, the turn's commit settles it before the loop goes on. */
	if (hub_pg_on())
		durable_due(d, RT_ACCEPT_DUE_MS, chat_accepted_late);
	d->id = (int64_t)r->id;
	d->str = xstrdup(cmid);
out:
	free(reply);
	free(cmid);
	return 0;
}

int
sup_chat_history(struct worker *w, struct ipc_msg *m)
{
	static struct ipc_body_history h;
	struct turnbuf tb = { 0 };
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

int
sup_conn_close(struct worker *w, struct ipc_msg *m)
{
	struct binding *b;

	if ((b = conn_find(w, m->b.conn.conn)) != NULL)
		conn_end(b, CONN_WS);
	bindpage_conn_closed(w, m->b.conn.conn);
	return 0;
}

/*
 * Stop the reply to one of this connection's session's messages: the
 * agent drops the request (and its upstream transfer), what was written
 * so far is stored as the answer, and the client gets chat.done with
 * aborted set.  Late frames of the request find nothing and are dropped.
 */
int
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
	if ((r = areq_find_cmid(b->session, ab->client_msg_id)) == NULL) {
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
