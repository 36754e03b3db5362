/*
 * Agent requests, from the router's side: the table of requests in
 * flight or waiting (struct areq), building an agent.request from the
 * store's history, taking platform messages from the store's backlog,
 * the agent role's frames (delta, done, error), storing an answer and
 * relaying it: deltas coalesced per loop turn, chat.done once the
 * commit holds it (durable.c), both only while the client's worker has
 * room in its queue.  Admission, pacing and deadlines are agentq.c's;
 * a streaming channel's refreshes are router_progress.c's, an answer
 * sent by paragraphs as it streams (stream_mode block) router_block.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "areq.h"
#include "channel_media.h"
#include "clock.h"
#include "config.h"
#include "console.h"
#include "hub.h"
#include "log.h"
#include "role.h"
#include "router_int.h"
#include "session.h"
#include "store.h"
#include "wire.h"
#include "xmalloc.h"

/* Room left in an agent.request frame for keys and headers. */
#define RT_FRAME_SLACK	4096
/* Deltas held for a slow worker are tried again after this. */
#define RT_HOLD_MS	20

struct take_arg {
	struct agentq	*aq;
	const char	*account;
};

static struct areq	*req_tab[RT_BUCKETS];
static struct areqlist	 reqs = TAILQ_HEAD_INITIALIZER(reqs);
static struct areqlist	 dirty = TAILQ_HEAD_INITIALIZER(dirty);
/*
 * Agent request ids: from the clock at the hub's start, so a hub that
 * replaced another never reuses one the old hub gave an agent.
 */
static uint64_t		 next_req_id;
static struct event	*hold_ev;	/* retry deltas held for room */
static unsigned		 nreqs;

struct areq *
areq_find(uint64_t id)
{
	struct areq *r;

	for (r = req_tab[router_hash(id)]; r != NULL; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

struct areq *
areq_find_msg(int64_t msg_id)
{
	struct areq *r;

	TAILQ_FOREACH(r, &reqs, entry)
		if (r->msg_id == msg_id)
			return r;
	return NULL;
}

void
areq_free(struct areq *r)
{
	struct areq **rp;

	/* A console page waiting on it reads the store's answer now. */
	if (r->origin == AREQ_CONSOLE)
		console_chat_wake(r->session);
	agentq_forget(r);
	progress_forget(r);
	block_forget(r);
	router_files_free(r);
	for (rp = &req_tab[router_hash(r->id)]; *rp != NULL; rp = &(*rp)->next)
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
	xfree_secret(r->ctx);	/* a context token is a credential */
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

int
turnbuf_add(const char *role, const char *text, int64_t seq, void *arg)
{
	struct turnbuf *tb = arg;

	if (tb->n == tb->cap) {
		tb->cap = tb->cap ? tb->cap * 2 : 16;
		tb->role = xreallocarray(tb->role, tb->cap, sizeof(size_t));
		tb->text = xreallocarray(tb->text, tb->cap, sizeof(size_t));
		tb->seq = xreallocarray(tb->seq, tb->cap, sizeof(int64_t));
	}
	tb->role[tb->n] = strpool_add(&tb->sp, role, strlen(role), 1024);
	tb->text[tb->n] = strpool_add(&tb->sp, text, strlen(text), 1024);
	tb->seq[tb->n] = seq;
	tb->n++;
	return 0;
}

/* Empty again, ready for turnbuf_add(). */
void
turnbuf_free(struct turnbuf *tb)
{
	strpool_free(&tb->sp);
	free(tb->role);
	free(tb->text);
	free(tb->seq);
	memset(tb, 0, sizeof(*tb));
}

/*
 * Fill t from tb, dropping the oldest turns until the rest fits in one
 * frame next to `reserve` bytes of other content.  Returns the index of
 * the first turn kept.
 */
size_t
turns_fit(struct turnbuf *tb, struct ipc_turns *t, size_t reserve,
    size_t max_turns)
{
	size_t first = 0, i, size = reserve + RT_FRAME_SLACK;

	for (i = 0; i < tb->n; i++)
		size += strlen(turnbuf_text(tb, i)) + 32;
	while (first < tb->n &&
	    (size > IPC_FRAME_MAX || tb->n - first > max_turns)) {
		size -= strlen(turnbuf_text(tb, first)) + 32;
		first++;
	}
	t->n = 0;
	for (i = first; i < tb->n; i++) {
		t->v[t->n].role = ipc_s(turnbuf_role(tb, i));
		t->v[t->n].text = ipc_s(turnbuf_text(tb, i));
		t->n++;
	}
	return first;
}

/*
 * What the agent's type can use of a channel message's attachments:
 * images for an OpenAI-compatible agent with vision, everything for a
 * command (as descriptors), nothing for the rest, which read the notes.
 */
static int
router_send_req(struct worker *aw, const struct areq *r,
    const struct cfg_agent *ca, struct ipc_body_agent_request *b)
{
	static struct media_out mo;
	int fd = -1, images;

	b->parts.n = 0;
	if (r->origin == AREQ_CHANNEL && ca != NULL &&
	    ((images = strcmp(ca->type, "openai") == 0 && ca->vision) ||
	    strcmp(ca->type, "command") == 0))
		fd = media_for_agent(r->msg_id, images, &mo);
	if (fd == -1)
		return router_send(aw, IPC_AGENT_REQUEST, r->id, b);
	b->parts = mo.parts;
	return router_send_fd(aw, IPC_AGENT_REQUEST_MEDIA, r->id, b, fd);
}

/*
 * The numbers of the n turns sent, from tb's turns from first on: the
 * system prompt, put before them, is not sealed (0).
 */
static char *
router_e2e(const struct store_cchat *t, const struct turnbuf *tb,
    size_t first, size_t n)
{
	int64_t *seq = xcalloc(n, sizeof(*seq));
	size_t i, off = n - (tb->n - first);
	char *e2e;

	for (i = off; i < n; i++)
		seq[i] = tb->seq[first + i - off];
	if ((e2e = console_e2e_context(t, seq, n)) == NULL)
		log_warnx("%s: sealed thread %lld: no context", __func__,
		    (long long)t->id);
	free(seq);
	return e2e;
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
	struct turnbuf tb = { 0 };
	const struct cfg_agent *ca;
	struct store_cchat t;
	struct store_run_seal rs = { 0, 0, NULL };
	const char *sys = NULL;
	char name[IPC_NAME_MAX + 1], *model, *e2e = NULL;
	struct worker *aw;
	size_t first;
	int64_t seq = 0;
	int sealed;		/* 1 a console thread, 2 a schedule's run */

	snprintf(name, sizeof(name), "agent.%s", agentq_name(r->aq));
	if ((aw = spawn_find(name)) == NULL || aw->state != W_RUNNING ||
	    aw->wire == NULL)
		return -1;
	ca = config_agent(sup->conf, agentq_name(r->aq));
	if (ca != NULL && ca->system_prompt != NULL &&
	    ca->system_prompt[0] != '\0')
		sys = ca->system_prompt;
	/* A sealed console thread's turns go with their numbers. */
	sealed = r->origin == AREQ_CONSOLE && store_cchat_of_session(
	    sup->store, r->session, &t) == 0 && t.e2e;
	if (sealed && (seq = store_cchat_seq(sup->store, r->msg_id)) < 0)
		seq = 0;
	/* A sealed schedule's run: its prompt alone (history is 0). */
	if (r->origin == AREQ_SCHEDULE && store_run_sealed(sup->store,
	    r->msg_id, &rs) == 0)
		sealed = 2;
	if (store_context(sup->store, r->session, r->history, r->msg_id,
	    turnbuf_add, &tb) == -1)
		turnbuf_free(&tb);
	turnbuf_add("user", r->text, seq, &tb);
	b.session = (uint64_t)r->session;
	/*
	 * Only one the agent's config lists: a stale pick is the default,
	 * and an agent with one model has no pick to read.
	 */
	model = ca != NULL && ca->models_count > 0 ?
	    store_session_model(sup->store, r->session) : NULL;
	b.model = ipc_s(config_agent_has_model(ca, model) ? model : "");
	first = turns_fit(&tb, &b.turns, (sys != NULL ? strlen(sys) + 32 :
	    0) + (sealed ? IPC_E2E_MAX : 0), sys != NULL ? IPC_TURNS_MAX - 1 :
	    IPC_TURNS_MAX);
	if (sys != NULL && b.turns.n > 0) {
		memmove(&b.turns.v[1], &b.turns.v[0],
		    b.turns.n * sizeof(b.turns.v[0]));
		b.turns.v[0].role = IPC_S("system");
		b.turns.v[0].text = ipc_s(sys);
		b.turns.n++;
	}
	if (sealed == 1)
		e2e = router_e2e(&t, &tb, first, b.turns.n);
	else if (sealed == 2 && (e2e = console_e2e_run(&rs,
	    b.turns.n)) == NULL)
		log_warnx("%s: sealed run of schedule %lld: no context",
		    __func__, (long long)rs.schedule);
	free(rs.owner);
	b.e2e = ipc_s(e2e != NULL ? e2e : "");
	if (router_send_req(aw, r, ca, &b) == -1) {
		turnbuf_free(&tb);
		free(model);
		free(e2e);
		return -1;
	}
	turnbuf_free(&tb);
	free(model);
	free(e2e);
	r->aw = aw;
	r->agen = aw->gen;
	return 0;
}

/*
 * A request for a message already marked answering in the store; it
 * waits for its agent's window (agentq.c).  Its deadline counts from
 * when the message was accepted.
 */
struct areq *
areq_new(struct agentq *aq, const struct areq_from *f, const char *text,
    int pending)
{
	const struct config *c = sup->conf;
	const struct cfg_channel *cc;
	struct areq *r;
	int64_t left;
	size_t h;

	r = xcalloc(1, sizeof(*r));
	if (next_req_id == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		next_req_id = (uint64_t)ts.tv_sec * 1000000 +
		    (uint64_t)ts.tv_nsec / 1000;
	}
	r->id = next_req_id++;
	clock_gettime(CLOCK_MONOTONIC, &r->made);
	r->origin = f->origin;
	r->session = f->session;
	r->msg_id = f->msg_id;
	r->text = xstrdup(text);
	r->aq = aq;
	left = f->created + (int64_t)c->webchat.deadline_s - sup_now();
	r->history = c->webchat.history_limit;
	/* A console thread reads nothing but the store: as a web chat. */
	if (f->origin == AREQ_WEBCHAT || f->origin == AREQ_CONSOLE) {
		snprintf(r->cmid, sizeof(r->cmid), "%s", f->cmid);
		snprintf(r->client, sizeof(r->client), "%s", f->client);
	} else if (f->origin == AREQ_SCHEDULE) {
		snprintf(r->account, sizeof(r->account), "%s", f->account);
		snprintf(r->peer, sizeof(r->peer), "%s", f->peer);
		left = f->created + (int64_t)c->schedule.deadline_s -
		    sup_now();
		/* Each run is asked afresh, not as a chat with the last. */
		r->history = 0;
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
	h = router_hash(r->id);
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
void
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
void
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

static void
router_take_cb(const struct store_backlog_row *row, void *arg)
{
	struct take_arg *ta = arg;

	struct areq_from f;

	/* Taken again after a rolled-back turn: it is already here. */
	if (areq_find_msg(row->id) != NULL)
		return;
	memset(&f, 0, sizeof(f));
	f.origin = ta->account == NULL ? AREQ_WEBCHAT :
	    strncmp(ta->account, SCHED_ACCOUNT, strlen(SCHED_ACCOUNT)) == 0 ?
	    AREQ_SCHEDULE : AREQ_CHANNEL;
	f.session = row->session;
	f.msg_id = row->id;
	f.created = row->created;
	f.cmid = row->cmid;
	f.client = "";
	f.account = row->account;
	f.peer = row->peer;
	f.ctx = row->ctx;
	/* After a hub restart: what went of an earlier answer stays. */
	block_resume(areq_new(ta->aq, &f, row->text, 0));
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

/* A frame about a request must come from the incarnation it went to. */
struct areq *
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

int
sup_agent_delta(struct worker *w, struct ipc_msg *m)
{
	struct areq *r;
	size_t have, n;

	if ((r = areq_of(w, m)) == NULL || r->done) {
		log_debug("%s: %s: stale request %llu", __func__, w->name,
		    (unsigned long long)m->req_id);
		return 0;
	}
	if (!r->spoke) {
		r->spoke = 1;
		agentq_observe(r->aq, 1, clock_us_since(&r->made));
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
	if (r->origin == AREQ_CONSOLE)
		console_chat_wake(r->session);
	/*
	 * A bubble that grows with the answer, or its finished paragraphs
	 * as messages (stream_mode block); the outbox still ends it.
	 */
	if (r->origin == AREQ_CHANNEL) {
		progress_note(r);
		block_note(r, m->b.text.text.p, n);
	}
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
	int n;

	text = xmalloc(len + 1);
	evbuffer_copyout(r->reply, text, len);
	text[len] = '\0';
	r->done = 1;
	r->unstored = 0;
	if (store_msg_answer(sup->store, r->msg_id, text, sup_now()) == 0) {
		/* The blocks queued already are not queued again. */
		if (r->origin == AREQ_CHANNEL &&
		    (n = channel_reply_part(r->account, r->peer, r->ctx,
		    r->msg_id, text + block_end(r, text), r->blk_rows)) >= 0)
			router_files_queue(r, r->blk_rows + n);
		else if (r->origin == AREQ_SCHEDULE)
			schedule_answer(r->msg_id, text, NULL);
	}
	free(text);
	areq_dirty(r);
	d = durable_after(areq_done_cb);
	d->id = (int64_t)r->id;
}

/*
 * /stop (command.c): every answer of the session its agent is writing
 * ends with what was written so far, as chat.abort ends one; how many.
 * One still waiting for the agent is left to come: it is not written
 * yet, and the agent queue owns it until it goes.
 */
int
router_stop_session(int64_t session)
{
	struct ipc_body_empty eb = { 0 };
	struct areq *r, *next;
	int n = 0;

	for (r = TAILQ_FIRST(&reqs); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		if (r->session != session || r->done || r->aw == NULL)
			continue;
		if (r->agen == r->aw->gen)
			router_send(r->aw, IPC_AGENT_ABORT, r->id, &eb);
		evbuffer_drain(r->delta, evbuffer_get_length(r->delta));
		r->aborted = 1;
		router_finish(r);
		n++;
	}
	return n;
}

int
sup_agent_done(struct worker *w, struct ipc_msg *m)
{
	struct areq *r;

	if ((r = areq_of(w, m)) == NULL || r->done)
		return 0;
	agentq_observe(r->aq, 0, clock_us_since(&r->made));
	router_finish(r);
	return 0;
}

/* A platform message's answer is a notice saying why there is none. */
static void
areq_notice(struct areq *r, struct ipc_str code)
{
	char notice[IPC_TEXT_MAX];

	channel_failure_text(notice, sizeof(notice), code);
	block_drop(r);
	router_files_free(r);
	evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
	evbuffer_drain(r->delta, evbuffer_get_length(r->delta));
	evbuffer_add(r->reply, notice, strlen(notice));
	router_finish(r);
}

/* A run's prompt got no answer: the run fails, nobody is written to. */
static void
areq_sched_fail(struct areq *r, struct ipc_str code, struct ipc_str msg)
{
	char why[IPC_MESSAGE_MAX + 1], *c;

	snprintf(why, sizeof(why), "agent: %.*s: %.*s", (int)code.len, code.p,
	    (int)msg.len, msg.p);
	c = ipc_strdup(code);
	if (store_msg_fail(sup->store, r->msg_id, c, sup_now()) == 0)
		schedule_answer(r->msg_id, NULL, why);
	free(c);
	areq_free(r);
	sup_turn();
}

int
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
	/*
	 * A relay agent with no relay connected: stored work waits for one
	 * (durably, to its deadline); a browser is told at once.
	 */
	if (ipc_streq(ae->code, "agent_offline") &&
	    r->origin != AREQ_WEBCHAT) {
		agentq_offline(r->aq);
		if (store_msg_untake(sup->store, r->msg_id) == -1)
			log_warnx("%s: message %lld stays taken", __func__,
			    (long long)r->msg_id);
		areq_free(r);
		sup_turn();
		return 0;
	}
	if (r->origin == AREQ_CHANNEL) {
		/* Nobody resends a platform message: answer it now. */
		areq_notice(r, ae->code);
		return 0;
	}
	if (r->origin == AREQ_SCHEDULE) {
		areq_sched_fail(r, ae->code, ae->message);
		return 0;
	}
	/* Not answered: the client is told, and a resend tries again. */
	code = ipc_strdup(ae->code);
	msg = ipc_strdup(ae->message);
	store_msg_told(sup->store, r->msg_id, code);
	if (!r->muted && (b = route_current(r->session)) != NULL)
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
	if (r->origin == AREQ_SCHEDULE) {
		areq_sched_fail(r, code, IPC_S("no answer within "
		    "schedule.deadline_s"));
		return;
	}
	store_msg_fail(sup->store, r->msg_id, "timeout", sup_now());
	if (!r->muted && (b = route_current(r->session)) != NULL)
		send_error(b, r->cmid, "timeout", error_message("timeout"), 0);
	areq_free(r);
	sup_turn();
}

/*
 * A web chat message that waited in the store past its deadline (after
 * a hub restart, say): a client still waiting on it hears `timeout`
 * now, not after its own patience runs out.
 */
void
router_expired(int64_t session, const char *cmid)
{
	struct binding *b;

	if (cmid[0] != '\0' && (b = route_current(session)) != NULL)
		send_error(b, cmid, "timeout", error_message("timeout"), 0);
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
		b = r->muted ? NULL : route_current(r->session);
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

/* The running request for this session's client id, if any. */
struct areq *
areq_find_cmid(int64_t session, struct ipc_str cmid)
{
	struct areq *r;

	TAILQ_FOREACH(r, &reqs, entry)
		if (r->session == session && !r->done &&
		    ipc_streq(cmid, r->cmid))
			return r;
	return NULL;
}

/*
 * Does any request still belong to this session (the sweep waits), or,
 * with writing, is one still being written?  An ended one waits only
 * for its commit, and the page already shows its answer: the next turn
 * may start.
 */
int
areq_session_busy(int64_t session, int writing)
{
	struct areq *r;

	TAILQ_FOREACH(r, &reqs, entry)
		if (r->session == session && !(writing && r->done))
			return 1;
	return 0;
}

/* An agent is gone: what it was answering waits for it again. */
void
areq_worker_down(struct worker *w)
{
	struct areq *r;

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
		block_restart(r);
		router_files_free(r);
		evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
		evbuffer_drain(r->delta, evbuffer_get_length(r->delta));
		r->truncated = 0;
	}
}

/*
 * A relay agent lost the relay that was answering r and gives it to
 * another from scratch: what came so far is forgotten, as when an agent
 * worker dies (areq_worker_down), and chat.done carries the whole text.
 */
int
sup_agent_restart(struct worker *w, struct ipc_msg *m)
{
	struct areq *r;

	if ((r = areq_of(w, m)) == NULL || r->done)
		return 0;
	block_restart(r);
	router_files_free(r);
	evbuffer_drain(r->reply, evbuffer_get_length(r->reply));
	evbuffer_drain(r->delta, evbuffer_get_length(r->delta));
	r->truncated = 0;
	return 0;
}

/* A relay agent has a relay again: its stored messages may go. */
int
sup_agent_online(struct worker *w, struct ipc_msg *m)
{
	(void)m;
	agentq_online(agentq_find(w->id));
	return 0;
}
