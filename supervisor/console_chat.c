/*
 * The console's Chat page (issue #16): an operator talks to any
 * configured agent in threads, branches a thread off any answered
 * message, and sees the reply grow.  A thread is a store session of its
 * own (store_cchat.c), so a message goes the way a web chat's does:
 * stored, admitted by its agent's queue (agentq.c), sent with the
 * thread's history (router_agent.c, origin AREQ_CONSOLE), its reply
 * stored once when done.  Chat commands are command.c's, as on every
 * surface; the model selector sends /model NAME.
 *
 * The page is polled ("chat THREAD SINCE HAVE"): the console worker
 * answers one request per connection, so there is no stream to push to;
 * a poll that has all of the running reply is held until it grows or
 * ends (console_chat_hold, console_chat_wake).  While a reply runs, its
 * text so far is read from the request in memory (areq reply, at most
 * IPC_REPLY_MAX); once stored, from the store.
 * The answer is bounded by messages, by each text's bytes (cut at a
 * whole UTF-8 character) and by its JSON bytes; "more" says the page
 * should ask again from the last message it got.
 *
 * Writes are console_write.c's table: all admin-only, so a viewer reads
 * threads and is refused (and audited) there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "areq.h"
#include "clock.h"
#include "codec.h"
#include "command.h"
#include "config.h"
#include "console.h"
#include "control_int.h"
#include "hub.h"
#include "log.h"
#include "router_int.h"
#include "sup.h"
#include "store.h"
#include "xmalloc.h"

/* Threads one list shows, the newest; a title is a line, not a text. */
#define CC_THREADS_MAX	100
#define CC_TITLE_CUT	120
/* Messages one answer carries; each text cut here, or at CC_CUT_SMALL
 * when one alone would not fit (a reply of control bytes, escaped). */
#define CC_MSGS_MAX	50
#define CC_CUT		(16 * 1024)
#define CC_CUT_SMALL	2048
#define CC_BYTES	(IPC_CONSOLE_BODY_MAX - 4096)

struct cc_page {
	json_t		*list;
	size_t		 bytes;
	int		 more;
	int		 running;
	int64_t		 length;	/* the running reply's bytes, or -1 */
	int64_t		 session;	/* the thread's */
	size_t		 cut;		/* each text's, at most */
};

/*
 * A page asked with "have", the running reply's length it already
 * shows, waits here up to CC_HOLD_MS (under the console worker's
 * CN_HUB_MS) for the reply to grow or end: a long poll, so the text
 * comes as it is written without the page asking many times a second.
 * At most CC_HOLD_MAX wait; any more are answered at once.
 */
#define CC_HOLD_MS	3000
#define CC_HOLD_MAX	32

struct cc_hold {
	TAILQ_ENTRY(cc_hold)	 entry;
	char			 wname[IPC_NAME_MAX + 1];
	uint64_t		 gen;
	uint64_t		 req_id;
	uint64_t		 conn;
	int64_t			 thread;
	int64_t			 session;
	int64_t			 since;
	struct event		*ev;
};
static TAILQ_HEAD(, cc_hold)	cc_holds = TAILQ_HEAD_INITIALIZER(cc_holds);
static unsigned			cc_nholds;

static int	cc_thread(int64_t, int64_t, json_t **, struct cc_page *);

static json_t *
cc_cutn(const char *s, size_t len, size_t max)
{
	struct ipc_str v = { s != NULL ? s : "", s != NULL ? len : 0 };

	ctl_fit(&v, max);
	return json_stringn(v.p, v.len);
}

/* The models /model may pick for ca: its list, or its one model. */
static json_t *
cc_models(const struct cfg_agent *ca)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; ca != NULL && i < ca->models_count; i++)
		json_array_append_new(a, json_string(ca->models[i]));
	if (ca != NULL && ca->models_count == 0 && ca->model != NULL)
		json_array_append_new(a, json_string(ca->model));
	return a;
}

static json_t *
cc_agents(void)
{
	const struct cfg_agent *ca;
	json_t *a = json_array();
	unsigned i;

	for (i = 0; i < sup->conf->agents_count; i++) {
		ca = &sup->conf->agents[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:b}",
		    "name", ca->name, "type", ca->type, "models",
		    cc_models(ca), "e2e", ca->relay_e2e));
	}
	return a;
}

static int
cc_thread_row(const struct store_cchat *t, void *arg)
{
	struct cc_page *pg = arg;
	json_t *o;

	/* A sealed thread's title would be ciphertext: the page says so. */
	o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:b, s:o?}",
	    "id", (json_int_t)t->id, "agent", t->agent,
	    "operator", t->operator, "parent", (json_int_t)t->parent_id,
	    "parent_msg", (json_int_t)t->parent_msg,
	    "created", (json_int_t)t->created, "count", (json_int_t)t->count,
	    "e2e", t->e2e, "title", t->last_text != NULL && !t->e2e ?
	    cc_cutn(t->last_text,
	    strlen(t->last_text), CC_TITLE_CUT) : NULL);
	if (o == NULL)
		return 0;
	if (console_take(pg->list, CC_THREADS_MAX, &pg->bytes, CC_BYTES,
	    o) == -1) {
		pg->more = 1;
		return -1;
	}
	return 0;
}

static int
cc_list(json_t **body)
{
	struct cc_page pg = { json_array(), 2048, 0, 0, -1, 0, CC_CUT };

	if (store_cchat_list(sup->store, CC_THREADS_MAX + 1, cc_thread_row,
	    &pg) == -1) {
		json_decref(pg.list);
		*body = console_error("store error");
		return 503;
	}
	*body = json_pack("{s:o, s:o, s:b}", "agents", cc_agents(),
	    "threads", pg.list, "more", pg.more);
	return 200;
}

/* A message's row, its texts cut at cut bytes. */
static json_t *
cc_msg_json(const struct store_cchat_msg *m, size_t cut, int *running,
    int64_t *length)
{
	const char *state, *reply = m->reply;
	size_t rlen = m->reply != NULL ? strlen(m->reply) : 0;
	struct areq *r;

	if (m->state == MSG_ANSWERED)
		state = m->error != NULL ? "failed" : "answered";
	else if (m->error != NULL)
		state = "failed";
	else if (m->state == MSG_ANSWERING) {
		state = "running";
		/* The text so far, from the request that is writing it. */
		if ((r = areq_find_msg(m->id)) != NULL && !r->done &&
		    (rlen = evbuffer_get_length(r->reply)) > 0)
			reply = (const char *)evbuffer_pullup(r->reply, -1);
		else
			rlen = 0;
		*running = 1;
		*length = (int64_t)rlen;
	} else {
		state = "waiting";
		*running = 1;
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:s, s:o?, s:o?, s:s?, s:b, "
	    "s:I, s:b}",
	    "id", (json_int_t)m->id, "seq", (json_int_t)m->seq,
	    "time", (json_int_t)m->created,
	    "answered", (json_int_t)m->answered, "state", state,
	    "text", cc_cutn(m->text, m->text != NULL ? strlen(m->text) : 0,
	    cut), "reply", reply != NULL ? cc_cutn(reply, rlen, cut) : NULL,
	    "error", m->error, "command", m->command, "length",
	    (json_int_t)(m->state == MSG_ANSWERING ? (int64_t)rlen : -1),
	    "cut", (m->text != NULL && strlen(m->text) > cut) || rlen > cut);
}

static int
cc_msg_row(const struct store_cchat_msg *m, void *arg)
{
	struct cc_page *pg = arg;
	json_t *o;

	if ((o = cc_msg_json(m, pg->cut, &pg->running, &pg->length)) == NULL)
		return 0;
	if (json_array_size(pg->list) == CC_MSGS_MAX) {
		json_decref(o);
		pg->more = 1;
		return -1;
	}
	if (!console_fits(&pg->bytes, CC_BYTES, o)) {
		json_decref(o);
		if (json_array_size(pg->list) > 0) {
			pg->more = 1;
			return -1;
		}
		/* Alone and too big: smaller, so the page always moves on. */
		if ((o = cc_msg_json(m, CC_CUT_SMALL, &pg->running,
		    &pg->length)) == NULL)
			return 0;
		pg->bytes += json_dumpb(o, NULL, 0, JSON_COMPACT) + 1;
	}
	json_array_append_new(pg->list, o);
	return 0;
}

static int
cc_thread(int64_t id, int64_t since, json_t **body, struct cc_page *pgp)
{
	struct cc_page pg = { json_array(), 4096, 0, 0, -1, 0, CC_CUT };
	const struct cfg_agent *ca;
	struct store_cchat t;
	char *cur;
	int rv;

	if ((rv = store_cchat_find(sup->store, id, &t)) != 0) {
		json_decref(pg.list);
		*body = console_error(rv == 1 ? "no such thread" :
		    "store error");
		return rv == 1 ? 404 : 503;
	}
	/*
	 * A sealed text cut is a text lost: whole, or (alone and too big
	 * for an answer) cut small and marked, which the page shows as
	 * such and never tries to open.
	 */
	if (t.e2e)
		pg.cut = SIZE_MAX;
	if (store_cchat_messages(sup->store, t.session_id, since,
	    CC_MSGS_MAX + 1, cc_msg_row, &pg) == -1) {
		json_decref(pg.list);
		*body = console_error("store error");
		return 503;
	}
	ca = config_agent(sup->conf, t.agent);
	cur = store_session_model(sup->store, t.session_id);
	*body = json_pack("{s:{s:I, s:s, s:s, s:I, s:I, s:I, s:b, s:s?, "
	    "s:o, s:b}, s:o, s:b, s:b}", "thread", "id", (json_int_t)t.id,
	    "agent", t.agent, "operator", t.operator,
	    "parent", (json_int_t)t.parent_id,
	    "parent_msg", (json_int_t)t.parent_msg,
	    "created", (json_int_t)t.created, "configured", ca != NULL,
	    "model", ca == NULL ? NULL : config_agent_has_model(ca, cur) ?
	    cur : ca->model, "models", cc_models(ca), "e2e", t.e2e,
	    "messages", pg.list, "more", pg.more, "running", pg.running);
	free(cur);
	if (*body == NULL) {
		*body = console_error("this thread cannot be shown");
		return 503;
	}
	pg.session = t.session_id;
	if (pgp != NULL)
		*pgp = pg;
	return 200;
}

/*
 * "THREAD SINCE HAVE", each a number or "-": the thread (-1 for "-"),
 * the message after which to read (0) and the running reply's length
 * the page shows (-1).  -1 when not valid.
 */
static int
cc_query(const char *query, int64_t *id, int64_t *since, int64_t *have)
{
	char q[IPC_NAME_MAX + 1], *f[3], *rest;
	int64_t *v[3] = { id, since, have };
	int i;

	snprintf(q, sizeof(q), "%s", query != NULL ? query : "- - -");
	rest = q;
	for (i = 0; i < 3; i++) {
		if ((f[i] = strsep(&rest, " ")) == NULL)
			return -1;
		*v[i] = strcmp(f[i], "-") == 0 ? (i == 1 ? 0 : -1) :
		    console_id(f[i], strlen(f[i]));
		if (*v[i] < 0 && strcmp(f[i], "-") != 0)
			return -1;
	}
	return rest == NULL ? 0 : -1;
}

/* THREAD "-" lists threads.  It takes no free text. */
int
console_page_chat(const char *query, const char *text, json_t **body)
{
	int64_t id, since, have;

	if (text[0] != '\0' || cc_query(query, &id, &since, &have) == -1) {
		*body = console_error("thread, since or have is not valid");
		return 400;
	}
	if (id < 0)
		return cc_list(body);
	return cc_thread(id, since, body, NULL);
}

static void
cc_hold_free(struct cc_hold *h)
{
	TAILQ_REMOVE(&cc_holds, h, entry);
	cc_nholds--;
	event_free(h->ev);
	free(h);
}

/* Grown, ended or out of time: the page as it is now. */
static void
cc_hold_cb(evutil_socket_t fd, short ev, void *arg)
{
	static struct ipc_msg m;
	struct cc_hold *h = arg;
	struct worker *w = spawn_find(h->wname);
	json_t *body;
	int status;

	(void)fd;
	(void)ev;
	if (w != NULL && w->gen == h->gen && w->wire != NULL) {
		status = cc_thread(h->thread, h->since, &body, NULL);
		if (status == 200)
			json_object_set_new(body, "held", json_true());
		m.req_id = h->req_id;
		console_answer(w, &m, h->conn, status, NULL, NULL, body);
	}
	cc_hold_free(h);
}

/*
 * A thread's page asked with the running reply's length the page has
 * already: it waits (1) while that is all there is; otherwise 0, and
 * console_page_chat answers.
 */
int
console_chat_hold(struct worker *w, const struct ipc_msg *m, uint64_t conn,
    const char *query)
{
	struct timeval tv = clock_tv(CC_HOLD_MS);
	struct cc_page pg;
	struct cc_hold *h;
	json_t *body;
	int64_t id, since, have;
	size_t n;

	if (cc_query(query, &id, &since, &have) == -1 || id < 0 ||
	    have < 0 || cc_nholds >= CC_HOLD_MAX)
		return 0;
	if (cc_thread(id, since, &body, &pg) != 200)
		return 0;
	/* The list is the body's: counted before the body goes. */
	n = json_array_size(pg.list);
	json_decref(body);
	if (!pg.running || pg.more || pg.length != have || n != 1)
		return 0;
	h = xcalloc(1, sizeof(*h));
	snprintf(h->wname, sizeof(h->wname), "%s", w->name);
	h->gen = w->gen;
	h->req_id = m->req_id;
	h->conn = conn;
	h->thread = id;
	h->since = since;
	h->session = pg.session;
	if ((h->ev = evtimer_new(sup->base, cc_hold_cb, h)) == NULL ||
	    evtimer_add(h->ev, &tv) == -1)
		fatalx("%s: evtimer", __func__);
	TAILQ_INSERT_TAIL(&cc_holds, h, entry);
	cc_nholds++;
	return 1;
}

/* chat.new: arg is a configured agent's name. */
void
console_chat_new(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	const struct cfg_agent *ca;
	char agent[IPC_NAME_MAX + 1], *rec = NULL;
	int64_t thread;
	int rv;

	snprintf(agent, sizeof(agent), "%.*s", (int)p->arg.len, p->arg.p);
	if ((ca = config_agent(sup->conf, agent)) == NULL) {
		console_answer(w, m, p->conn, 404, NULL, NULL,
		    console_error("no such agent"));
		return;
	}
	/* A sealed thread needs its owner's key: the page makes it first. */
	if (ca->relay_e2e && (rv = store_e2e_key_get(sup->store,
	    who->operator, &rec)) != 0) {
		console_answer(w, m, p->conn, rv == 1 ? 409 : 503, NULL, NULL,
		    console_error(rv == 1 ? "set your end-to-end passphrase "
		    "first" : "store error"));
		return;
	}
	free(rec);
	if (store_cchat_create(sup->store, agent, who->operator,
	    ca->relay_e2e, sup_now(), &thread) == -1) {
		console_answer(w, m, p->conn, 503, NULL, NULL,
		    console_error("store error"));
		return;
	}
	log_info("console: operator %s opens %schat thread %lld with %s",
	    who->operator, ca->relay_e2e ? "sealed " : "", (long long)thread,
	    agent);
	console_answer(w, m, p->conn, 200, NULL, NULL,
	    json_pack("{s:b, s:I}", "ok", 1, "thread", (json_int_t)thread));
}

/* chat.branch: arg is an answered message of a thread. */
void
console_chat_branch(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	int64_t msg, thread;
	int rv;

	if ((msg = console_id(p->arg.p, p->arg.len)) < 0)
		rv = 1;
	else
		rv = store_cchat_branch(sup->store, msg, who->operator,
		    sup_now(), &thread);
	if (rv != 0) {
		console_answer(w, m, p->conn, rv == 1 ? 404 : 503, NULL, NULL,
		    console_error(rv == 1 ? "no such answered message in a "
		    "chat thread that branches (a sealed one does not)" :
		    "store error"));
		return;
	}
	log_info("console: operator %s branches chat thread %lld off "
	    "message %lld", who->operator, (long long)thread, (long long)msg);
	console_answer(w, m, p->conn, 200, NULL, NULL,
	    json_pack("{s:b, s:I}", "ok", 1, "thread", (json_int_t)thread));
}

/* A message's id, unique in its thread (UNIQUE session, client id). */
static void
cc_cmid(char *buf, size_t len)
{
	static uint64_t next;

	if (next == 0)
		next = (uint64_t)sup_now() * 1000000;
	snprintf(buf, len, "console-%llu", (unsigned long long)next++);
}

/*
 * The turn that stored the message committed, or not: the request may
 * go to the agent, or it is dropped and the operator told to retry.
 */
static void
cc_accepted_cb(struct durable *d, int ok)
{
	static struct ipc_msg m;
	struct worker *w = durable_worker(d);
	struct areq *r = areq_find((uint64_t)d->id);

	if (!ok && r != NULL)
		areq_free(r);
	else if (r != NULL)
		agentq_commit(r);
	if (w == NULL)
		return;
	m.req_id = d->req_id;
	console_answer(w, &m, d->conn, ok ? 200 : 503, NULL, NULL, ok ?
	    json_pack("{s:b, s:I}", "ok", 1, "thread", (json_int_t)d->session) :
	    console_error("not stored; send it again"));
}

/* A chat command, answered by command.c in this turn. */
static void
cc_command(struct worker *w, const struct ipc_msg *m,
    const struct store_cchat *t, const struct command *cmd, const char *arg,
    const char *cmid, const char *text)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	char reply[1024];
	struct cmd_ctx x;
	int64_t msg_id;

	memset(&x, 0, sizeof(x));
	if (store_msg_accept(sup->store, t->session_id, cmid, text,
	    sup_now(), &msg_id) == -1)
		goto fail;
	x.w = w;
	x.allowed = sup->conf->policy.console_commands;
	x.session = t->session_id;
	x.msg_id = msg_id;
	x.agent = t->agent;
	x.arg = arg;
	if (command_run(cmd, &x, reply, sizeof(reply)) == -1)
		goto fail;
	console_answer(w, m, p->conn, 200, NULL, NULL, json_pack("{s:b, s:I}",
	    "ok", 1, "thread", (json_int_t)t->id));
	return;
 fail:
	console_answer(w, m, p->conn, 503, NULL, NULL,
	    console_error("store error"));
}

/*
 * What a sealed thread refuses (docs/e2e.md), or NULL: anything but its
 * owner's sealed messages, numbered next, and commands, which are words
 * to wxgate and go in the clear; a number in a thread that is not
 * sealed.  A stale number means the page did not see the last message.
 */
static const char *
cc_sealed_why(const struct store_cchat *t, const struct console_who *who,
    int64_t seq, struct ipc_str text, int *status)
{
	char word[CMD_ARG_MAX + 1], *s;
	int command;
	int64_t next;

	if (!t->e2e) {
		*status = 400;
		return seq == 0 ? NULL : "this thread is not sealed";
	}
	*status = 403;
	if (strcmp(t->operator, who->operator) != 0)
		return "a sealed thread takes only its owner's messages";
	*status = 400;
	if (seq == 0) {
		s = ipc_strdup(text);
		command = command_find(s, word, sizeof(word)) != NULL;
		free(s);
		return command ? NULL : "a sealed thread takes sealed "
		    "messages and commands only";
	}
	if (!console_e2e_sealed(text.p, text.len))
		return "not a sealed message (docs/e2e.md)";
	if ((next = store_cchat_seq_next(sup->store, t->session_id)) == -1) {
		*status = 503;
		return "store error";
	}
	*status = 409;
	return seq != next ? "the thread has moved on: read it again and "
	    "send once more" : NULL;
}

/*
 * chat.send: arg is the thread, text the message (the POST's body,
 * at most IPC_TEXT_MAX, UTF-8 by the codec).  One reply at a time per
 * thread: another message waits until it is done, or /stop ends it.
 */
void
console_chat_send(struct worker *w, const struct ipc_msg *m,
    const struct console_who *who)
{
	const struct ipc_body_console_post *p = &m->b.console_post;
	const struct command *cmd;
	struct store_cchat t;
	struct agentq *aq;
	struct areq_from f;
	struct durable *d;
	struct areq *r;
	char cmid[IPC_MSGID_MAX + 1], client[IPC_NAME_MAX + 16];
	char arg[CMD_ARG_MAX + 1], *text;
	const char *why = NULL, *colon;
	int64_t id, msg_id, seq = 0;
	int status = 400, rv = 1;

	/* THREAD, or THREAD:NUMBER for a sealed message (/api/chat/seal). */
	if ((colon = memchr(p->arg.p, ':', p->arg.len)) == NULL)
		id = console_id(p->arg.p, p->arg.len);
	else if ((seq = console_id(colon + 1, p->arg.p + p->arg.len - colon -
	    1)) <= 0)
		id = -1;
	else
		id = console_id(p->arg.p, (size_t)(colon - p->arg.p));
	if (id >= 0)
		rv = store_cchat_find(sup->store, id, &t);
	if (rv != 0) {
		console_answer(w, m, p->conn, rv == 1 ? 404 : 503, NULL, NULL,
		    console_error(rv == 1 ? "no such thread" : "store error"));
		return;
	}
	if (p->text.len == 0 || memchr(p->text.p, '\0', p->text.len) != NULL)
		why = "a message is some text";
	else if ((aq = agentq_find(t.agent)) == NULL ||
	    config_agent(sup->conf, t.agent) == NULL) {
		status = 409;
		why = "this thread's agent is no longer configured";
	} else
		why = cc_sealed_why(&t, who, seq, p->text, &status);
	if (why != NULL) {
		console_answer(w, m, p->conn, status, NULL, NULL,
		    console_error(why));
		return;
	}
	text = ipc_strdup(p->text);
	cc_cmid(cmid, sizeof(cmid));
	if ((cmd = command_find(text, arg, sizeof(arg))) != NULL) {
		log_info("console: operator %s: %s in chat thread %lld",
		    who->operator, command_word(cmd), (long long)t.id);
		cc_command(w, m, &t, cmd, arg, cmid, text);
		free(text);
		return;
	}
	snprintf(client, sizeof(client), "console:%s", who->operator);
	if (areq_session_busy(t.session_id, 1))
		why = "a reply is being written: wait, or send /stop";
	else if (agentq_room(aq, client, t.session_id) > 0)
		why = "the agent is busy; try again in a moment";
	if (why != NULL) {
		free(text);
		console_answer(w, m, p->conn, 429, NULL, NULL,
		    console_error(why));
		return;
	}
	if (store_msg_accept(sup->store, t.session_id, cmid, text, sup_now(),
	    &msg_id) == -1 || (seq > 0 && store_cchat_seq_set(sup->store,
	    msg_id, seq) == -1) || store_msg_take(sup->store, msg_id) == -1) {
		free(text);
		console_answer(w, m, p->conn, 503, NULL, NULL,
		    console_error("store error"));
		return;
	}
	router_count_message();
	memset(&f, 0, sizeof(f));
	f.origin = AREQ_CONSOLE;
	f.session = t.session_id;
	f.msg_id = msg_id;
	f.created = sup_now();
	f.cmid = cmid;
	f.client = client;
	r = areq_new(aq, &f, text, 1);
	free(text);
	d = durable_after(cc_accepted_cb);
	durable_for(d, w, m->req_id, p->conn);
	d->id = (int64_t)r->id;
	d->session = t.id;
}

/* router_agent.c: a console request's reply grew or it ended. */
void
console_chat_wake(int64_t session)
{
	struct cc_hold *h;

	TAILQ_FOREACH(h, &cc_holds, entry)
		if (h->session == session)
			event_active(h->ev, EV_TIMEOUT, 0);
}
